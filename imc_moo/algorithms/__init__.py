"""Search algorithms over workload-set problems and a uniform way to run them.

``run_algorithm("phased_ga", WorkloadSetProblem("cnn4", "rram", "edap"), budget=3300, seed=0)`` builds a registered
algorithm (:data:`ALGORITHMS`, see :mod:`.registry` for the builder protocol), runs pymoo's ``minimize`` until
``budget`` distinct designs are evaluated (:class:`DistinctEvaluations`) and returns a :class:`RunResult`.

Registered: ``phased_ga`` (the method), ``nsga2``, ``nsga3``, ``ga`` (EDAP-scalarised on 3-objective problems),
``random``; :mod:`.baselines`, when present, adds the method's baselines.
"""

from __future__ import annotations

import importlib
import time
from typing import Callable, Mapping

from pymoo.optimize import minimize

from ..problem import WorkloadSetProblem
from .hamming import HammingDiverseSampling, select_max_min_hamming
from .phased_ga import METHOD_PHASES, Phase, PhasedGA
from .random_search import RandomSearch
from .registry import ALGORITHMS, knob_names
from .result import HISTORY_COLUMNS, HistoryCallback, RunResult, run_archive
from .scalarize import ScalarizedProblem
from .termination import DistinctEvaluations

__all__ = [
    "ALGORITHMS", "DistinctEvaluations", "HISTORY_COLUMNS", "HammingDiverseSampling", "HistoryCallback",
    "METHOD_PHASES", "Phase", "PhasedGA", "RandomSearch", "RunResult", "ScalarizedProblem", "knob_names",
    "run_algorithm", "run_archive", "select_max_min_hamming",
]


def run_algorithm(name: str, problem: WorkloadSetProblem, budget: int = 3300, seed: int = 0,
                  progress: Callable[[Mapping], None] | None = None, **knobs) -> RunResult:
    """Run a registered algorithm on ``problem`` for ``budget`` distinct evaluations.

    Resets ``problem``'s archive first (so every count and table refers to this run only), then runs
    ``minimize(..., DistinctEvaluations(budget), seed=seed, copy_algorithm=False)``: the run stops at the first
    generation boundary at or past the budget (algorithms may also stop earlier by themselves).

    Args:
        name: a key of :data:`ALGORITHMS`.
        problem: the workload-set problem.
        budget: distinct designs the run may evaluate (plus at most one generation's overshoot).
        seed: seeds pymoo's generator, the run's only source of randomness.
        progress: optional callable fed each history row (see :class:`HistoryCallback`).
        **knobs: the algorithm's options (:func:`knob_names`).

    Raises:
        ValueError: unknown algorithm or knob (the message lists the valid ones), or a bad budget.
    """
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}: use one of {', '.join(sorted(ALGORITHMS))}")
    if isinstance(budget, bool) or int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be a positive number of distinct designs, got {budget!r}")
    builder = ALGORITHMS[name]
    valid = knob_names(builder)
    unknown = sorted(set(knobs) - set(valid)) if valid is not None else []
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for algorithm {name!r}: "
                         f"valid options are {', '.join(valid) or '(none)'}")
    problem.reset_archive()
    built = builder(problem, int(budget), **knobs)
    algorithm, target = built if isinstance(built, tuple) else (built, problem)
    history = HistoryCallback(problem, start=problem.n_evaluated, progress=progress)
    start = time.perf_counter()
    res = minimize(target, algorithm, DistinctEvaluations(int(budget)), seed=seed, copy_algorithm=False,
                   callback=history, save_history=False, verbose=False)
    wall = time.perf_counter() - start
    archive = run_archive(problem)
    return RunResult(algorithm=name, problem=problem, seed=seed, budget=int(budget), evaluations=len(archive),
                     archive=archive, history=history.frame(), wall_time_s=wall, pymoo_result=res)


try:  # the baselines register themselves in ALGORITHMS when their module exists
    importlib.import_module(f"{__name__}.baselines")
except ModuleNotFoundError as err:
    if err.name != f"{__name__}.baselines":
        raise
