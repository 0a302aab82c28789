"""The packaged algorithm configs, by name: what :func:`imc_moo.algorithms.run_algorithm` runs for a name.

``algorithm_config("phased_ga", pop_size=40)`` composes ``conf/algorithm/phased_ga.yaml`` as the app composes
``algorithm=phased_ga`` (its schema of :mod:`imc_moo.algorithms.schemas` checks every value) and merges the knobs
in, type-checked; :func:`build_algorithm` turns such a node into its factory with :func:`hydra.utils.instantiate`.
The node is composed from ``conf/algorithms.yaml``, the algorithm group alone, so it needs only the algorithm
schemas (registered here): inside a running Hydra app with the app's search path (a user's ``hydra.searchpath``
may add algorithm configs), elsewhere with the packaged configs.

A baseline's ``inner`` search is a nested algorithm node: ``inner={"pop_size": 20}`` merges knobs into it, and
``inner="nsga2"`` chooses another algorithm of the group, as ``algorithm@algorithm.inner=nsga2`` does on the command
line (the config group override; no registry of names).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from imc_moo.algorithms.schemas import register_algorithm_schemas
from imc_moo.paths import CONF_DIR

#: The primary config of the algorithm group alone (``conf/algorithms.yaml``) and the group.
PRIMARY = "algorithms"
GROUP = "algorithm"
#: The command-line override choosing a baseline's inner search (the ``algorithm`` group at ``algorithm.inner``).
INNER_CHOICE = f"{GROUP}@{GROUP}.inner"
#: Keys of an algorithm node that are not knobs.
NOT_KNOBS = ("name", "_target_", "_partial_")


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the key and the fix."""


def available_algorithms() -> list[str]:
    """Every algorithm name :func:`imc_moo.algorithms.run_algorithm` accepts: the packaged configs
    ``conf/algorithm/*.yaml``."""
    return sorted(p.stem for p in (Path(CONF_DIR) / GROUP).glob("*.yaml"))


def _compose(overrides: tuple[str, ...]) -> DictConfig:
    """The ``algorithm`` node of ``conf/algorithms.yaml`` composed with ``overrides``: with the search path of a
    running Hydra app, else with the packaged configs."""
    register_algorithm_schemas()
    if GlobalHydra.instance().is_initialized():
        return compose(config_name=PRIMARY, overrides=list(overrides)).algorithm
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="imc_moo"):
        return compose(config_name=PRIMARY, overrides=list(overrides)).algorithm


#: Outside a Hydra app the search path is the packaged configs only, so the same overrides compose the same node.
_packaged = functools.lru_cache(maxsize=None)(_compose)


def _node(name: str, inner: str | None = None) -> DictConfig:
    """The composed config of algorithm ``name`` (with inner search ``inner``, if given), a fresh copy."""
    overrides = (f"{GROUP}={name}",) + ((f"{INNER_CHOICE}={inner}",) if inner is not None else ())
    try:
        node = _compose(overrides) if GlobalHydra.instance().is_initialized() else _packaged(overrides)
    except HydraException:
        if inner is not None and inner not in available_algorithms():
            raise ConfigError(f"unknown inner algorithm {inner!r}: use one of {', '.join(available_algorithms())}"
                              ) from None
        raise ConfigError(f"unknown algorithm {name!r}: use one of {', '.join(available_algorithms())}") from None
    return OmegaConf.merge(node, {})


def _knob_error(err: OmegaConfBaseException) -> str:
    """An OmegaConf merge error as ``algorithm.<key>: message`` (one line; the key as on the command line)."""
    message = str(getattr(err, "msg", None) or err).split("\n")[0]
    key = getattr(err, "full_key", None)
    return f"{GROUP}.{key}: {message}" if key else message


def _check_knobs(node: DictConfig, knobs: Mapping, what: str) -> None:
    """Refuse knobs ``node`` does not have (a baseline's ``inner`` mapping: those of its inner search), listing the
    valid ones."""
    valid = [k for k in node if k not in NOT_KNOBS]
    unknown = sorted(set(knobs) - set(valid))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for {what}: valid options are "
                          f"{', '.join(valid) or '(none)'}")
    inner = knobs.get("inner")
    if isinstance(inner, Mapping) and isinstance(node.get("inner"), DictConfig):
        _check_knobs(node.inner, inner, f"the inner search {node.inner.get('name')!r} of {what}")


def algorithm_config(name: str, **knobs) -> DictConfig:
    """The config of algorithm ``name`` (``conf/algorithm/<name>.yaml``, with the search path of a running Hydra
    app) with ``knobs`` merged in, type-checked by its schema. A baseline's ``inner`` knob is a mapping of knobs
    for its inner search, or the name of another algorithm config to search with.

    Raises:
        ConfigError: unknown algorithm, unknown knob (the message lists the valid ones) or a value of the wrong type.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"an algorithm is named by a string, got {name!r}: use one of "
                          f"{', '.join(available_algorithms())}")
    if "inner_knobs" in knobs and "inner" not in knobs:  # the form of 0.1.0, for one more release
        warnings.warn("inner_knobs={...} is now inner={...}: the inner search's knobs merge into its config node",
                      DeprecationWarning, stacklevel=4)
        knobs["inner"] = knobs.pop("inner_knobs") or {}
    inner = knobs.get("inner")
    if isinstance(inner, str):  # another inner search: the group override, as on the command line
        knobs.pop("inner")
    elif inner is not None and not isinstance(inner, Mapping):
        raise ConfigError(f"algorithm {name!r}: inner is the inner search: the name of an algorithm config or a "
                          f"mapping of its knobs, e.g. inner='nsga2' or inner={{'pop_size': 20}}, got {inner!r}")
    node = _node(name)
    _check_knobs(node, knobs, f"algorithm {name!r}")
    if isinstance(inner, str):
        if "inner" not in node:
            raise ConfigError(f"algorithm {name!r} has no inner search: inner={inner!r} applies to the baselines "
                              "specialized and largest_workload")
        node = _node(name, inner)
    try:
        return OmegaConf.merge(node, knobs)
    except OmegaConfBaseException as err:
        raise ConfigError(f"algorithm {name!r}: {_knob_error(err)}") from None


def build_algorithm(node: DictConfig | Mapping) -> Callable:
    """The factory of an algorithm config node: its ``_target_`` with its knobs bound (``_partial_``), a baseline's
    inner search built too, containers as plain lists and dicts (:func:`hydra.utils.instantiate`)."""
    return instantiate(node, _convert_="all")
