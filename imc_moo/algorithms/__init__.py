"""Search algorithms over workload-set problems and a uniform way to run them.

``run_algorithm("phased_ga", WorkloadSetProblem("cnn4", "rram", "edap"), budget=3300, seed=0)`` builds a registered
algorithm (:data:`ALGORITHMS`, see :mod:`.registry` for the builder protocol), runs pymoo's ``minimize`` until
``budget`` distinct designs are evaluated (:class:`DistinctEvaluations`) and returns a :class:`RunResult`.

Registered: ``phased_ga`` (the method), ``nsga2``, ``nsga3``, ``ga`` (EDAP-scalarised on 3-objective problems),
``random``.

Procedures made of several searches (the method's baselines, :mod:`.baselines`: ``specialized``,
``largest_workload``, ``sequential``) are not single pymoo algorithms: they register a *runner* in :data:`RUNNERS`,
called as ``runner(problem, budget, seed, progress=None, **knobs) -> RunResult``; its knobs are its keyword-only
parameters (:func:`runner_knob_names`). :func:`run_algorithm` dispatches to a runner before the pymoo path, with the
same budget and knob checks. A name is either an algorithm or a runner, never both.
"""

from __future__ import annotations

import importlib
import inspect
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
    "METHOD_PHASES", "Phase", "PhasedGA", "RUNNERS", "RandomSearch", "RunResult", "ScalarizedProblem",
    "available_algorithms", "knob_names", "run_algorithm", "run_archive", "runner_knob_names",
    "select_max_min_hamming",
]

Runner = Callable[..., RunResult]

#: name -> runner for multi-search procedures (e.g. the baselines); names distinct from :data:`ALGORITHMS`.
RUNNERS: dict[str, Runner] = {}


def runner_knob_names(runner: Runner) -> tuple[str, ...] | None:
    """Knobs a runner accepts: its keyword-only parameters (None if it takes ``**kwargs``)."""
    params = inspect.signature(runner).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def available_algorithms() -> list[str]:
    """Every name :func:`run_algorithm` accepts (pymoo algorithms and runners), sorted."""
    return sorted(set(ALGORITHMS) | set(RUNNERS))


def run_algorithm(name: str, problem: WorkloadSetProblem, budget: int = 3300, seed: int = 0,
                  progress: Callable[[Mapping], None] | None = None, **knobs) -> RunResult:
    """Run a registered algorithm on ``problem`` for ``budget`` distinct evaluations.

    Resets ``problem``'s archive first (so every count and table refers to this run only), then runs
    ``minimize(..., DistinctEvaluations(budget), seed=seed, copy_algorithm=False)``: the run stops at the first
    generation boundary at or past the budget (algorithms may also stop earlier by themselves).

    A name in :data:`RUNNERS` is run by its runner instead (same budget and knob checks; see :mod:`.baselines`
    for what budget and evaluations mean there).

    Args:
        name: a key of :data:`ALGORITHMS` or :data:`RUNNERS`.
        problem: the workload-set problem.
        budget: distinct designs the run may evaluate (plus at most one generation's overshoot).
        seed: seeds pymoo's generator, the run's only source of randomness.
        progress: optional callable fed each history row (see :class:`HistoryCallback`).
        **knobs: the algorithm's options (:func:`knob_names`).

    Raises:
        ValueError: unknown algorithm or knob (the message lists the valid ones), or a bad budget.
    """
    if name not in ALGORITHMS and name not in RUNNERS:
        raise ValueError(f"unknown algorithm {name!r}: use one of {', '.join(available_algorithms())}")
    if name in ALGORITHMS and name in RUNNERS:
        raise ValueError(f"algorithm name {name!r} is registered both as a pymoo algorithm and as a runner: "
                         "rename one of them")
    if isinstance(budget, bool) or int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be a positive number of distinct designs, got {budget!r}")
    runner = RUNNERS.get(name)
    builder = ALGORITHMS.get(name)
    valid = runner_knob_names(runner) if runner is not None else knob_names(builder)
    unknown = sorted(set(knobs) - set(valid)) if valid is not None else []
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for algorithm {name!r}: "
                         f"valid options are {', '.join(valid) or '(none)'}")
    problem.reset_archive()
    if runner is not None:
        return runner(problem, int(budget), seed, progress, **knobs)
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


try:  # the baselines register themselves in RUNNERS when their module exists
    importlib.import_module(f"{__name__}.baselines")
except ModuleNotFoundError as err:
    if err.name != f"{__name__}.baselines":
        raise
