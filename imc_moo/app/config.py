"""Configuration as typed data: the schemas of the Hydra app, registered in Hydra's ``ConfigStore``.

OmegaConf checks every value against these dataclasses when the config is composed, so a wrong type
(``plots=maybe``, ``algorithm.pop_size=abc``, ``problem.area_limit_mm2=abc``) fails before anything runs, naming
the key. The YAML files in ``conf/`` hold the values and extend each other through their defaults lists:

* ``conf/config.yaml``: the app (:class:`AppConfig`): ``budget``, ``seed``, ``plots``, ``progress``, and the
  ``space``, ``problem`` and ``algorithm`` groups;
* ``conf/space/*.yaml`` (:class:`SpaceConfig`): one value list per design parameter (a problem picks its default
  list file; ``space.xbar_rows=[64,128]`` narrows a gene from the command line);
* ``conf/problem/*.yaml`` (:class:`ProblemConfig`): ``_target_`` :class:`~imc_moo.problem.WorkloadSetProblem`;
* ``conf/algorithm/*.yaml`` (one schema per algorithm family, e.g. :class:`PhasedGAConfig`): ``_target_`` the
  builder in :mod:`imc_moo.algorithms.configured` or the baseline runner in :mod:`imc_moo.algorithms.baselines`,
  with ``_partial_: true``.

Problems and algorithms are built from their nodes with :func:`hydra.utils.instantiate`
(:func:`build_problem`, :func:`algorithm_factory`); :func:`algorithm_config` gives the packaged config of an
algorithm by name (what :func:`imc_moo.algorithms.run_algorithm` runs for a name).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from imc_moo.paths import CONF_DIR

PRIMARY = "config"


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the key and the fix."""


# -- schemas -------------------------------------------------------------------------------------------------
@dataclass
class SpaceConfig:
    """One value list per design parameter (SI units; ``glb_mib`` in MiB). One value fixes a parameter."""

    name: str = MISSING
    memory: str = MISSING
    voltage: list[float] = MISSING
    bits_per_cell: list[int] = MISSING
    base_latency_s: list[float] = MISSING
    xbar_rows: list[int] = MISSING
    xbar_cols: list[int] = MISSING
    router_group: list[int] = MISSING
    tiles_per_chip: list[int] = MISSING
    macros_per_tile: list[int] = MISSING
    glb_mib: list[float] = MISSING
    technology_nm: list[int] = MISSING


@dataclass
class HVPoint:
    energy_j: float = MISSING
    latency_s: float = MISSING
    area_mm2: float = MISSING


@dataclass
class HVBounds:
    """Hypervolume box: objectives are log10-scaled onto [0, 1] between ``ideal`` and ``reference``."""

    ideal: HVPoint = field(default_factory=HVPoint)
    reference: HVPoint = field(default_factory=HVPoint)


@dataclass
class MixConfig:
    """The workload mix a chip serves (:mod:`imc_moo.problem.deployment`)."""

    #: network -> share of the inferences (positive numbers, normalised to sum 1); null: equal shares
    shares: Any = None
    #: mean inferences between switches to another network (>= 1; 1: every inference); null: never
    inferences_per_switch: float | None = None
    #: inferences over the chip's lifetime: the writes that wear the cells (endurance constraint)
    lifetime_inferences: float = 1e9


@dataclass
class ProblemConfig:
    """A workload set as a pymoo problem (:class:`~imc_moo.problem.WorkloadSetProblem`)."""

    _target_: str = "imc_moo.problem.WorkloadSetProblem"
    name: str = MISSING
    memory: str = MISSING
    #: a set name, a network, a path to a network file, or a list of them
    workloads: Any = MISSING
    #: directories of the user's own networks and sets, searched before $IMC_MOO_PROBLEMS and the packaged library
    library_dirs: list[str] = field(default_factory=list)
    objectives: str = MISSING
    aggregation: str = MISSING
    area_limit_mm2: float = MISSING
    weights_on_chip: bool | None = None
    #: resident, reprogram or stream (imc_moo/deployment.py); null: the memory's (RRAM reprogram, SRAM stream)
    deployment: str | None = None
    mix: MixConfig = field(default_factory=MixConfig)
    #: writes a cell survives; null: the memory's (RRAM 1e6, SRAM unlimited)
    endurance_cycles: float | None = None
    #: the app's design space (the top-level ``space`` node)
    space: Any = "${space}"
    hv: HVBounds = field(default_factory=HVBounds)


@dataclass
class AlgorithmConfig:
    """What every algorithm config has: a name (for outputs) and a ``_target_`` built as a partial."""

    name: str = MISSING
    _target_: str = MISSING
    _partial_: bool = True


@dataclass
class VariationConfig(AlgorithmConfig):
    """Population-based pymoo algorithms with integer SBX crossover and polynomial mutation."""

    pop_size: int = MISSING
    crossover_prob: float = MISSING
    crossover_eta: float = MISSING
    mutation_prob: float = MISSING
    mutation_eta: float = MISSING
    avoid_revisits: bool = True
    mating_attempts: int = 100


@dataclass
class NSGA2Config(VariationConfig):
    _target_: str = "imc_moo.algorithms.configured.nsga2"


@dataclass
class GAConfig(VariationConfig):
    _target_: str = "imc_moo.algorithms.configured.ga"


@dataclass
class NSGA3Config(VariationConfig):
    _target_: str = "imc_moo.algorithms.configured.nsga3"
    #: None: the number of reference directions rounded up to a multiple of 4
    pop_size: int | None = None
    n_partitions: int = MISSING


@dataclass
class RandomConfig(AlgorithmConfig):
    _target_: str = "imc_moo.algorithms.configured.random_search"
    pop_size: int = MISSING


@dataclass
class PhaseConfig:
    """One phase of the phased GA (:class:`~imc_moo.algorithms.phased_ga.Phase`)."""

    name: str = MISSING
    crossover_prob: float = MISSING
    crossover_eta: float = MISSING
    mutation_prob: float = MISSING
    mutation_eta: float = MISSING
    generations: int | None = None


@dataclass
class PhasedGAConfig(AlgorithmConfig):
    _target_: str = "imc_moo.algorithms.configured.phased_ga"
    pop_size: int = MISSING
    n_candidates: int = MISSING
    n_select: int = MISSING
    hamming_init: bool = MISSING
    phases: list[PhaseConfig] = MISSING
    mutation_prob_var: float | None = None
    avoid_revisits: bool = MISSING
    mating_attempts: int = MISSING
    #: the objectives the search ranks by (a view of the problem: ``edap`` for the method's scalar form, ``eda``
    #: for its multi-objective form); null: the problem's
    objectives: str | None = None


@dataclass
class InnerSearchConfig(AlgorithmConfig):
    """Baselines made of single-workload searches by another algorithm (given by name, with its knobs)."""

    inner: str = MISSING
    inner_knobs: Any = None


@dataclass
class SpecializedConfig(InnerSearchConfig):
    _target_: str = "imc_moo.algorithms.baselines.run_specialized"
    budget_per_workload: int | None = None


@dataclass
class LargestWorkloadConfig(InnerSearchConfig):
    _target_: str = "imc_moo.algorithms.baselines.run_largest_workload"
    top_k: int = MISSING


@dataclass
class SequentialConfig(AlgorithmConfig):
    _target_: str = "imc_moo.algorithms.baselines.run_sequential"
    start: str = MISSING
    passes: int = MISSING
    patience: int = MISSING


@dataclass
class AppConfig:
    """One search: ``budget`` distinct designs at most, one ``seed``, outputs in Hydra's run directory."""

    budget: int = MISSING
    seed: int = MISSING
    plots: bool = MISSING
    progress: bool = MISSING
    #: replace the results of an earlier run in the run directory (otherwise such a run is refused)
    overwrite: bool = False
    #: imc-moo-report judges the run against its problem's exact optimum and Pareto front (an exhaustive search
    #: of the space, computed once per problem by the report: seconds for the packaged spaces)
    exact_yardstick: bool = False
    space: SpaceConfig = MISSING
    problem: ProblemConfig = MISSING
    algorithm: Any = MISSING


#: group -> schema name -> dataclass; the YAML files name their schema in their defaults list (an algorithm
#: config: ``- /schema/algorithm@_here_: nsga2``).
SCHEMAS: dict[str | None, dict[str, type]] = {
    None: {"imc_moo_schema": AppConfig},
    "schema/algorithm": {"phased_ga": PhasedGAConfig, "nsga2": NSGA2Config, "nsga3": NSGA3Config, "ga": GAConfig,
                         "random": RandomConfig, "specialized": SpecializedConfig,
                         "largest_workload": LargestWorkloadConfig, "sequential": SequentialConfig},
}


def register_schemas() -> None:
    """Store the schemas in Hydra's ConfigStore (idempotent)."""
    store = ConfigStore.instance()
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            store.store(group=group, name=name, node=node)


register_schemas()


def _library_text() -> str:
    """The networks and sets the library offers (for ``imc-moo --help``)."""
    from imc_moo.workloads import available_networks, available_sets

    return f"networks {', '.join(available_networks())}; sets {', '.join(available_sets())}"


OmegaConf.register_new_resolver("imc_moo_library", _library_text, replace=True)


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
    keys = {o.lstrip("+~").split("=", 1)[0] for o in task if o.lstrip("+~").startswith(prefixes)}
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


OmegaConf.register_new_resolver("imc_moo_problem", _problem_dir_name, replace=True)


def _record_subdir(*, _root_: DictConfig) -> str | None:
    """``${imc_moo_record:}``, ``hydra.output_subdir``: where Hydra writes a job's record, None for a sweep job
    whose directory resuming leaves untouched (:func:`imc_moo.app.resume.record_subdir`)."""
    from imc_moo.app.resume import record_subdir

    return record_subdir(_root_)


OmegaConf.register_new_resolver("imc_moo_record", _record_subdir, replace=True)


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
        text = f"unknown key {key!r}: check its spelling (imc-moo --cfg job prints every key)"
    return text


def _fields(schema: type) -> list[str]:
    return [f.name for f in dataclasses.fields(schema) if not f.name.startswith("_")]


def unknown_key_message(full_key: str, valid: list[str]) -> str:
    """``unknown key 'problem.aggregaton' (did you mean aggregation?): valid keys of problem are ...``, the closest
    matches first."""
    parent, _, key = full_key.rpartition(".")
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    ordered = close + [k for k in valid if k not in close]
    return (f"unknown key {full_key!r}{hint}: the valid keys{' of ' + parent if parent else ''} are "
            f"{', '.join(ordered)}")


def check_keys(cfg: DictConfig) -> None:
    """Refuse keys the schemas do not know (Hydra's ``+key=value`` appends them past the type checks, and the run
    would silently ignore them)."""
    targets = {schema._target_: schema for schema in SCHEMAS["schema/algorithm"].values()}
    nodes = [("", cfg, _fields(AppConfig)), ("space", cfg.space, _fields(SpaceConfig)),
             ("problem", cfg.problem, _fields(ProblemConfig))]
    schema = targets.get(cfg.algorithm.get("_target_"))
    if schema is not None:
        nodes.append(("algorithm", cfg.algorithm, _fields(schema)))
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


def available_algorithms() -> list[str]:
    """Names of the packaged algorithm configs (``conf/algorithm/*.yaml``)."""
    return sorted(p.stem for p in (Path(CONF_DIR) / "algorithm").glob("*.yaml"))


def _algorithm_node(name: str) -> DictConfig:
    """The composed config of algorithm ``name`` (:func:`compose_config`'s search path)."""
    try:
        return compose_config([f"algorithm={name}"]).algorithm
    except HydraException:
        raise ConfigError(f"unknown algorithm {name!r}: use one of {', '.join(available_algorithms())}") from None


#: Outside a Hydra app the search path is the packaged conf/ only, so a name always composes the same node.
_packaged_algorithm = functools.lru_cache(maxsize=None)(_algorithm_node)


def algorithm_config(name: str, **knobs) -> DictConfig:
    """The config of algorithm ``name`` (``conf/algorithm/<name>.yaml``, with the search path of a running Hydra
    app) with ``knobs`` merged in, type-checked by its schema.

    Raises:
        ConfigError: unknown algorithm, unknown knob (the message lists the valid ones) or a value of the wrong type.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"an algorithm is named by a string, got {name!r}: use one of "
                          f"{', '.join(available_algorithms())}")
    node = _algorithm_node(name) if GlobalHydra.instance().is_initialized() else _packaged_algorithm(name)
    valid = [k for k in node if k not in ("name", "_target_", "_partial_")]
    unknown = sorted(set(knobs) - set(valid))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for algorithm {name!r}: "
                          f"valid options are {', '.join(valid) or '(none)'}")
    try:
        merged = OmegaConf.merge(node, {})
        with open_dict(merged):  # free-form nodes (inner_knobs) take new keys; typed ones keep their schema
            return OmegaConf.merge(merged, knobs)
    except OmegaConfBaseException as err:
        raise ConfigError(f"algorithm {name!r}: {one_line(err)}") from None


def algorithm_factory(node: DictConfig | dict) -> tuple[str, Callable]:
    """``(name, factory)`` of an algorithm config node: ``factory`` is its ``_target_`` with the node's knobs
    bound (a pymoo algorithm builder ``factory(problem, budget)`` or a baseline runner)."""
    data = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    name = data.pop("name")
    return name, instantiate(data, _convert_="all")


def build_problem(node: DictConfig):
    """The :class:`~imc_moo.problem.WorkloadSetProblem` of a ``problem`` config node."""
    return instantiate(node, _convert_="all")
