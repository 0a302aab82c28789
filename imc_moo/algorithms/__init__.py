"""Search algorithms over workload-set problems and a uniform way to run them.

``run_algorithm("phased_ga", WorkloadSetProblem("cnn4", "rram", "edap"), budget=3300, seed=0)`` builds a registered
algorithm (:data:`ALGORITHMS`, see :mod:`.registry` for the builder protocol), runs it through pymoo's ask-and-tell
loop (:func:`search`) with the run's :class:`~imc_moo.ledger.Ledger` as its evaluator, capped at ``budget``
distinct designs, and returns a :class:`RunResult`.

Registered: ``phased_ga`` (the method), ``nsga2``, ``nsga3``, ``ga`` (EDAP-scalarised on 3-objective problems),
``random``.

Procedures made of several searches (the method's baselines, :mod:`.baselines`: ``specialized``,
``largest_workload``, ``sequential``) are not single pymoo algorithms: they register a *runner* in :data:`RUNNERS`,
called as ``runner(problem, ledger, seed, history, **knobs) -> (stop_reason, extra)``; its knobs are its
keyword-only parameters (:func:`runner_knob_names`). Their sub-searches run on child ledgers, so the run's ledger
counts (and caps) everything. A name is either an algorithm or a runner, never both.
"""

from __future__ import annotations

import importlib
import inspect
import time
from typing import Callable, Mapping

from pymoo.core.result import Result
from pymoo.core.termination import Termination
from pymoo.termination.collection import TerminationCollection

from ..ledger import Ledger, LedgerFull
from ..problem import WorkloadSetProblem
from .hamming import HammingDiverseSampling, select_max_min_hamming
from .phased_ga import METHOD_PHASES, Phase, PhasedGA
from .random_search import RandomSearch
from .registry import ALGORITHMS, knob_names
from .result import HISTORY_COLUMNS, HistoryCallback, RunHistory, RunResult
from .termination import DistinctEvaluations

__all__ = [
    "ALGORITHMS", "DistinctEvaluations", "HISTORY_COLUMNS", "HammingDiverseSampling", "HistoryCallback",
    "METHOD_PHASES", "Phase", "PhasedGA", "RUNNERS", "RandomSearch", "RunHistory", "RunResult",
    "available_algorithms", "build_algorithm", "knob_names", "run_algorithm", "runner_knob_names", "search",
    "select_max_min_hamming",
]

Runner = Callable[..., tuple[str, dict]]

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


def _check_knobs(name: str, valid: tuple[str, ...] | None, knobs: Mapping) -> None:
    unknown = sorted(set(knobs) - set(valid)) if valid is not None else []
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for algorithm {name!r}: "
                         f"valid options are {', '.join(valid) or '(none)'}")


def build_algorithm(name: str, problem: WorkloadSetProblem, budget: int, **knobs):
    """The pymoo algorithm ``name`` (a key of :data:`ALGORITHMS`) configured with ``knobs``, and the problem
    view it searches: ``(algorithm, problem)`` (e.g. the EDAP view of a three-objective problem for ``ga``)."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown pymoo algorithm {name!r}: use one of {', '.join(sorted(ALGORITHMS))}")
    builder = ALGORITHMS[name]
    _check_knobs(name, knob_names(builder), knobs)
    built = builder(problem, int(budget), **knobs)
    return built if isinstance(built, tuple) else (built, problem)


def search(problem, algorithm, ledger: Ledger, seed: int, callback=None,
           termination: Termination | None = None) -> Result:
    """Run a pymoo ``algorithm`` on ``problem`` with ``ledger`` as its evaluator: pymoo's ask-and-tell loop, with
    every batch clipped to the ledger's room (:meth:`Ledger.admit`), so the ledger's cap is never exceeded. Stops
    when the ledger is full, ``termination`` says so, or the algorithm has nothing new to propose."""
    stop = LedgerFull(ledger) if termination is None else TerminationCollection(LedgerFull(ledger), termination)
    algorithm.setup(problem, termination=stop, seed=seed, evaluator=ledger, callback=callback, verbose=False)
    while algorithm.has_next():
        infills = algorithm.infill()
        if infills is None:
            algorithm.advance()
            continue
        infills = ledger.admit(problem, infills)
        if len(infills) == 0:
            break
        ledger.eval(problem, infills, algorithm=algorithm)
        algorithm.advance(infills=infills)
    result = algorithm.result()
    result.algorithm, result.problem = algorithm, problem  # as pymoo's minimize does
    return result


def _stop_reason(name: str, algorithm, ledger: Ledger) -> str:
    if ledger.stop_reason:
        return ledger.stop_reason
    own = getattr(algorithm, "stop_reason", None)
    cap = f" of {ledger.cap:,}" if ledger.cap is not None else ""
    where = f"at {ledger.spent:,}{cap} designs"
    return f"{own} {where}" if own else f"{name} proposed no new design {where}"


def run_algorithm(name: str, problem: WorkloadSetProblem, budget: int = 3300, seed: int = 0,
                  progress: Callable[[Mapping], None] | None = None, *, ledger: Ledger | None = None,
                  history: RunHistory | None = None, phase: str | None = None, **knobs) -> RunResult:
    """Run a registered algorithm on ``problem`` with a hard cap of ``budget`` distinct designs.

    Args:
        name: a key of :data:`ALGORITHMS` or :data:`RUNNERS`.
        problem: the workload-set problem (pure; the run's state lives in its ledger).
        budget: distinct designs the run may evaluate; never exceeded (the last batch is clipped).
        seed: seeds pymoo's generator, the run's only source of randomness.
        progress: optional callable fed each history row (see :class:`RunHistory`).
        ledger: the ledger to run on (a baseline's child ledger for a sub-search); default a new one. Its cap
            becomes ``budget`` unless it has one already.
        history: the history to record into (a baseline's run-wide history); default a new one.
        phase: fixed phase label of the history rows (sub-searches).
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
    budget = int(budget)
    ledger = Ledger(cap=budget) if ledger is None else ledger
    if ledger.cap is None:
        ledger.cap = budget
    history = RunHistory(ledger, progress) if history is None else history
    start = time.perf_counter()
    if name in RUNNERS:
        runner = RUNNERS[name]
        _check_knobs(name, runner_knob_names(runner), knobs)
        reason, extra = runner(problem, ledger, seed, history, **knobs)
        result, stop = None, ledger.stop_reason or reason
    else:
        algorithm, target = build_algorithm(name, problem, budget, **knobs)
        result = search(target, algorithm, ledger, seed, callback=HistoryCallback(history, phase))
        extra, stop = {}, _stop_reason(name, algorithm, ledger)
    return RunResult(algorithm=name, problem=problem, seed=seed, budget=budget, evaluations=ledger.spent,
                     archive=ledger.frame(), history=history.frame(), wall_time_s=time.perf_counter() - start,
                     stop_reason=stop, ledger=ledger, pymoo_result=result, extra=extra)


try:  # the baselines register themselves in RUNNERS when their module exists
    importlib.import_module(f"{__name__}.baselines")
except ModuleNotFoundError as err:
    if err.name != f"{__name__}.baselines":
        raise
