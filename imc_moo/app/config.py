"""The app's configuration: composing it, building its problem and algorithm, naming its runs, and its errors as
one line.

The schemas are typed data (:mod:`imc_moo.app.schemas`: the app, its space and problem;
:mod:`imc_moo.algorithms.schemas`: one per algorithm family), registered in Hydra's ConfigStore with the resolvers
the configs use (:func:`register`) when this module or the ``imc_moo.conf`` package is imported. Problems and
algorithms are built from their nodes with :func:`hydra.utils.instantiate` (:func:`build_problem`,
:func:`algorithm_factory`); a baseline's ``inner`` node is built with it. :func:`compose_config` composes the app
config; :func:`run_label` and :func:`problem_label` name a run by what its command line changed; :func:`one_line`
and :func:`check_keys` turn a bad config into one line naming the key and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from imc_moo.algorithms.catalog import INNER_CHOICE, ConfigError, build_algorithm
from imc_moo.algorithms.catalog import algorithm_config as algorithm_config  # re-exported: here in 0.1.0
from imc_moo.algorithms.catalog import available_algorithms as available_algorithms  # re-exported: here in 0.1.0
from imc_moo.algorithms.schemas import schema_of
from imc_moo.app.schemas import AppConfig, MixConfig, ProblemConfig, SpaceConfig, register_schemas
from imc_moo.paths import CONF_DIR

#: Hydra plugins the docs use -> what installs them (the extras of pyproject.toml, else the plugin's package).
PLUGINS = {"joblib": "'imc-moo[joblib]'", "submitit_local": "'imc-moo[slurm]'", "submitit_slurm": "'imc-moo[slurm]'",
           "optuna": "'imc-moo[optuna]'"}
#: The app's primary config (``conf/config.yaml``).
PRIMARY = "config"

__all__ = ["PRIMARY", "ConfigError", "algorithm_config", "algorithm_factory", "available_algorithms",
           "build_problem", "check_keys", "compose_config", "one_line", "problem_label", "register", "run_label",
           "unknown_key_message"]

def register() -> None:
    """Register what the packaged configs need in Hydra's ConfigStore and OmegaConf (idempotent): the schemas they
    extend (:func:`imc_moo.app.schemas.register_schemas`) and the resolvers they use, ``${imc_moo_library:}``
    (``imc-moo --help``), ``${imc_moo_problem:}`` (``hydra.run.dir``, ``hydra.sweep.subdir``) and
    ``${imc_moo_record:}`` (``hydra.output_subdir``). Called when this module is imported (the app composes from
    conf/ by its directory) and by the ``imc_moo.conf`` package (the Compose API composes from the package)."""
    register_schemas()
    for name, resolver in (("imc_moo_library", _library_text), ("imc_moo_problem", _problem_dir_name),
                           ("imc_moo_record", _record_subdir)):
        OmegaConf.register_new_resolver(name, resolver, replace=True)


def _library_text() -> str:
    """The networks and sets the library offers (for ``imc-moo --help``)."""
    from imc_moo.workloads import available_networks, available_sets

    return f"networks {', '.join(available_networks())}; sets {', '.join(available_sets())}"


# -- run identity ------------------------------------------------------------------------------------------------
def _task_overrides(cfg: DictConfig) -> list[str]:
    """The command-line overrides of the run: from the config's own ``hydra`` node when it has one (composed with
    ``return_hydra_config``, or resolving ``hydra.run.dir``), else from the running Hydra app."""
    node = OmegaConf.select(cfg, "hydra.overrides.task", default=None) if "hydra" in cfg else None
    if node is not None:
        return list(node)
    from hydra.core.hydra_config import HydraConfig

    try:
        return list(HydraConfig.get().overrides.task)
    except ValueError:  # composed without a Hydra run (tests, API use)
        return []


def _overridden(cfg: DictConfig, prefixes: tuple[str, ...], strip: str = "", skip: tuple[str, ...] = (),
                extra: tuple[str, ...] = ()) -> str:
    """``[key=value]`` for every command-line override of a key starting with one of ``prefixes`` (sorted), and for
    the keys ``extra``, but ``skip``, ``strip`` removed from the keys; a group choice (``space=sram``) shows the
    chosen config's name."""
    task = _task_overrides(cfg)
    # a group option placed by its package (algorithm@algorithm.inner=nsga2) is shown at that package
    keys = {o.lstrip("+~").split("=", 1)[0].rpartition("@")[2] for o in task}
    keys = {key for key in keys if key.startswith(prefixes)}
    keys = sorted((keys | set(extra)) - set(skip))
    parts = []
    for key in keys:
        value = OmegaConf.select(cfg, key)
        if isinstance(value, DictConfig) and "name" in value:  # a group option
            value = value.name
        elif isinstance(value, (DictConfig, ListConfig)):
            value = OmegaConf.to_container(value, resolve=True)
        shown = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"[{key.removeprefix(strip)}={shown}]")
    return "".join(parts)


def run_label(cfg: DictConfig) -> str:
    """The algorithm name plus any algorithm knobs overridden on the command line (e.g. in an ablation sweep)."""
    return cfg.algorithm.name + _overridden(cfg, ("algorithm.",), strip="algorithm.")


def _problem_base(cfg: DictConfig) -> tuple[str, tuple[str, ...]]:
    """The problem's name, or ``<memory>_<networks>`` when the command line chose the workloads (a run on
    ``[model.onnx, resnet18]`` is not a run of ``rram_cnn4``), and the keys that name already shows."""
    if not any(o.lstrip("+~").startswith("problem.workloads=") for o in _task_overrides(cfg)):
        return cfg.problem.name, ()
    from imc_moo.workloads import workload_label

    entries = cfg.problem.workloads
    entries = OmegaConf.to_container(entries) if isinstance(entries, ListConfig) else entries
    return f"{cfg.problem.memory}_{workload_label(entries)}", ("problem.workloads", "problem.memory")


def problem_label(cfg: DictConfig) -> str:
    """The problem's identity: its name (or its memory and networks, when the command line chose them) plus
    whatever else the command line changed of it or of its design space, so runs of different problems are never
    reported as one (e.g. ``rram_cnn4[memory=sram]``, ``rram_squeezenet1_1+resnet18``). A deployment mode is
    shown however it was chosen (a study option such as ``+deployment_case=sram_resident`` sets it)."""
    base, shown = _problem_base(cfg)
    extra = ("problem.deployment",) if OmegaConf.select(cfg, "problem.deployment", default=None) is not None else ()
    # the aggregation is recorded (and grouped by) on its own
    return base + _overridden(cfg, ("problem.", "space"), strip="problem.", skip=("problem.aggregation", *shown),
                              extra=extra)


#: Longest problem name in a run directory's name (a long workload list is cut, with a hash of the whole).
MAX_DIR_NAME = 60


def _problem_dir_name(*, _root_: DictConfig) -> str:
    """``${imc_moo_problem:}`` in ``hydra.run.dir`` / ``hydra.sweep.subdir``: the problem's name as a directory
    name (the base of :func:`problem_label`, characters outside ``[A-Za-z0-9_.+-]`` replaced)."""
    import re
    import zlib

    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", _problem_base(_root_)[0])
    if len(name) > MAX_DIR_NAME:
        name = f"{name[:MAX_DIR_NAME - 9]}-{zlib.crc32(name.encode()):08x}"
    return name


def _record_subdir(*, _root_: DictConfig) -> str | None:
    """``${imc_moo_record:}``, ``hydra.output_subdir``: where Hydra writes a job's record, None for a sweep job
    whose directory resuming leaves untouched (:func:`imc_moo.app.resume.record_subdir`)."""
    from imc_moo.app.resume import record_subdir

    return record_subdir(_root_)


register()


# -- composing and building ----------------------------------------------------------------------------------
def one_line(err: BaseException | str) -> str:
    """A composition or build error as one line naming the key and the fix.

    Hydra wraps the error that matters (OmegaConf's type error naming ``full_key``, or the ``ValueError`` a
    constructor raised about a bad value) in its own multi-line exceptions: the innermost such cause is shown."""
    if isinstance(err, str):
        return " ".join(err.split())
    chain, cause = [], err
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for cause in chain:
        if isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None):
            message = str(getattr(cause, "msg", None) or cause).split("\n")[0]
            schema = getattr(cause, "object_type", None)
            if message.startswith("Key '") and dataclasses.is_dataclass(schema):  # an unknown key
                return unknown_key_message(cause.full_key, _fields(schema))
            return f"{cause.full_key}: {message}"
    values = [c for c in chain
              if isinstance(c, ValueError) and not isinstance(c, (HydraException, OmegaConfBaseException))]
    # ours name the file, key or value and the fix; a library error they wrap (a UnicodeDecodeError, say) does not
    ours = [c for c in values if type(c).__module__.startswith("imc_moo")]
    if ours or values:
        return " ".join(str((ours or values)[-1]).split())
    text = str(err).split("Config search path")[0]
    text = " ".join(text.replace("\t", " ").split())
    if text.startswith("Could not override '"):
        key = text.split("'")[1]
        if key == INNER_CHOICE:
            return (f"{key}: this algorithm has no inner search; the baselines specialized and largest_workload have "
                    f"one (e.g. algorithm=specialized {INNER_CHOICE}=nsga2)")
        text = f"unknown key {key!r}: check its spelling (imc-moo --cfg job prints every key)"
    plugin = re.search(r"Could not find 'hydra/(launcher|sweeper)/([^']+)'", text)
    if plugin:
        kind, name = plugin.groups()
        package = PLUGINS.get(name, f"the Hydra {kind} plugin that provides {name!r}")
        text = f"hydra/{kind}={name}: the {kind} is not installed: pip install {package}"
    return text


def _fields(schema: type) -> list[str]:
    return [f.name for f in dataclasses.fields(schema) if not f.name.startswith("_")]


#: Keys of earlier releases -> what replaced them (said instead of the valid keys).
REPLACED_KEYS = {"inner_knobs": "a baseline's inner search is the node algorithm.inner: set its options with "
                                "algorithm.inner.<option>=... (e.g. algorithm.inner.pop_size=20), choose another with "
                                f"{INNER_CHOICE}=nsga2"}


def unknown_key_message(full_key: str, valid: list[str]) -> str:
    """``unknown key 'problem.aggregaton' (did you mean aggregation?): valid keys of problem are ...``, the closest
    matches first (a key of an earlier release: what replaced it, :data:`REPLACED_KEYS`)."""
    parent, _, key = full_key.rpartition(".")
    if key in REPLACED_KEYS:
        return f"unknown key {full_key!r}: {REPLACED_KEYS[key]}"
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    ordered = close + [k for k in valid if k not in close]
    return (f"unknown key {full_key!r}{hint}: the valid keys{' of ' + parent if parent else ''} are "
            f"{', '.join(ordered)}")


def check_keys(cfg: DictConfig) -> None:
    """Refuse keys the schemas do not know (Hydra's ``+key=value`` appends them past the type checks, and the run
    would silently ignore them), a baseline's inner search included."""
    nodes = [("", cfg, _fields(AppConfig)), ("space", cfg.space, _fields(SpaceConfig)),
             ("problem", cfg.problem, _fields(ProblemConfig))]
    path, algorithm = "algorithm", cfg.algorithm
    while isinstance(algorithm, DictConfig):
        schema = schema_of(algorithm.get("_target_"))
        if schema is not None:
            nodes.append((path, algorithm, _fields(schema)))
        path, algorithm = f"{path}.inner", algorithm.get("inner")
    if algorithm is not None:  # algorithm.inner=nsga2, the form of 0.1.0, replaced the node by a string
        raise ConfigError(f"{path}={algorithm}: the inner search is a config node: choose it with "
                          f"{INNER_CHOICE}={algorithm}, set its options with {path}.<option>=... (e.g. "
                          f"{path}.pop_size=20)")
    if isinstance(cfg.problem.get("mix"), DictConfig):
        nodes.append(("problem.mix", cfg.problem.mix, _fields(MixConfig)))
    for path, node, valid in nodes:
        for key in node:
            if key not in valid and not str(key).startswith("_") and not (path == "" and key == "hydra"):
                raise ConfigError(unknown_key_message(f"{path}.{key}" if path else str(key), valid))


def compose_config(overrides: list[str] = (), return_hydra_config: bool = False) -> DictConfig:
    """The app config composed with ``overrides``: inside a Hydra app with its search path, else from the
    packaged ``conf/``."""
    if GlobalHydra.instance().is_initialized():
        return compose(config_name=PRIMARY, overrides=list(overrides), return_hydra_config=return_hydra_config)
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="imc_moo"):
        return compose(config_name=PRIMARY, overrides=list(overrides), return_hydra_config=return_hydra_config)


def algorithm_factory(node: DictConfig | dict) -> tuple[str, Callable]:
    """``(name, factory)`` of an algorithm config node: ``factory`` is what :func:`hydra.utils.instantiate` makes of
    it, its ``_target_`` with the node's knobs bound (a pymoo algorithm builder ``factory(problem, budget)`` or a
    baseline runner, whose inner search is built from its ``inner`` node and checked here)."""
    from imc_moo.algorithms.driver import resolve_algorithm  # pymoo and the problem load with the driver

    return resolve_algorithm(build_algorithm(node))


def build_problem(node: DictConfig):
    """The :class:`~imc_moo.problem.WorkloadSetProblem` of a ``problem`` config node."""
    return instantiate(node, _convert_="all")
