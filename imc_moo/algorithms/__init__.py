"""Search algorithms over workload-set problems and a uniform way to run them.

``run_algorithm("phased_ga", WorkloadSetProblem("cnn4", "rram", "edap"), budget=3300, seed=0)`` builds the
algorithm from its packaged config (``conf/algorithm/phased_ga.yaml``, typed by :mod:`.schemas`, composed by
:mod:`.catalog`; keyword knobs override it), runs it through pymoo's ask-and-tell loop (:func:`search`) with the
run's :class:`~imc_moo.algorithms.ledger.Ledger` as its evaluator, capped at ``budget`` distinct designs, and
returns a :class:`RunResult`. An algorithm is named by its config (:func:`available_algorithms`), or given as a
factory: ``hydra.utils.instantiate(cfg.algorithm)`` of a composed config, or
``functools.partial(configured.nsga2, pop_size=40)``.

Configured pymoo algorithms (:mod:`.configured`): ``phased_ga`` (the method, and its ablations
``phased_ga_1phase``, ``phased_ga_2phase``), ``nsga2``, ``nsga3``, ``ga`` (EDAP-scalarised on 3-objective
problems), ``random``. A factory ``f(problem, budget) -> algorithm or (algorithm, problem view)``.

Procedures made of several searches (the method's baselines, :mod:`.baselines`: ``specialized``,
``largest_workload``, ``sequential``) are *runners*, marked by :func:`runner`, called as
``runner(problem, ledger, seed, history, **knobs) -> (stop_reason, extra)``. Their sub-searches run on child
ledgers, so the run's ledger counts (and caps) everything; a baseline's inner search is its ``inner`` knob, a
factory built from the nested ``inner`` config node.

The names below are imported on first use, so importing a light module of the package (:mod:`.schemas`, which
Hydra's ConfigStore needs, or :mod:`.catalog`) does not load pymoo, the cost model or the problem.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imc_moo.algorithms.catalog import available_algorithms
    from imc_moo.algorithms.driver import (
        MAX_SEED,
        check_seed,
        is_runner,
        resolve_algorithm,
        run_algorithm,
        runner,
        search,
    )
    from imc_moo.algorithms.hamming import HammingDiverseSampling, select_max_min_hamming
    from imc_moo.algorithms.phased_ga import METHOD_PHASES, Phase, PhasedGA
    from imc_moo.algorithms.random_search import RandomSearch
    from imc_moo.algorithms.result import HISTORY_COLUMNS, HistoryCallback, RunHistory, RunResult
    from imc_moo.algorithms.termination import DistinctEvaluations, check_budget

#: public name -> the module of this package that defines it
_EXPORTS = {
    "available_algorithms": "catalog",
    **dict.fromkeys(["MAX_SEED", "check_seed", "is_runner", "resolve_algorithm", "run_algorithm", "runner", "search"],
                    "driver"),
    **dict.fromkeys(["HammingDiverseSampling", "select_max_min_hamming"], "hamming"),
    **dict.fromkeys(["METHOD_PHASES", "Phase", "PhasedGA"], "phased_ga"),
    "RandomSearch": "random_search",
    **dict.fromkeys(["HISTORY_COLUMNS", "HistoryCallback", "RunHistory", "RunResult"], "result"),
    **dict.fromkeys(["DistinctEvaluations", "check_budget"], "termination"),
}

__all__ = [
    "HISTORY_COLUMNS",
    "MAX_SEED",
    "METHOD_PHASES",
    "DistinctEvaluations",
    "HammingDiverseSampling",
    "HistoryCallback",
    "Phase",
    "PhasedGA",
    "RandomSearch",
    "RunHistory",
    "RunResult",
    "available_algorithms",
    "check_budget",
    "check_seed",
    "is_runner",
    "resolve_algorithm",
    "run_algorithm",
    "runner",
    "search",
    "select_max_min_hamming",
]


def __getattr__(name: str):
    """A public name of :data:`__all__`, imported from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
