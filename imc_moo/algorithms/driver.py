"""The driver: resolving an algorithm (a name of the packaged configs, :mod:`imc_moo.algorithms.catalog`, or a
factory), pymoo's ask-and-tell loop with the run's :class:`~imc_moo.algorithms.ledger.Ledger` as its evaluator
(:func:`search`), and :func:`run_algorithm`, which runs one algorithm on one problem within a budget of distinct
designs."""


from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping

import numpy as np
from pymoo.core.result import Result
from pymoo.core.termination import Termination
from pymoo.termination.collection import TerminationCollection

from imc_moo.algorithms.catalog import algorithm_config, build_algorithm
from imc_moo.algorithms.duplicates import RunDuplicateElimination
from imc_moo.algorithms.ledger import Ledger, LedgerFull
from imc_moo.algorithms.result import HistoryCallback, RunHistory, RunResult
from imc_moo.algorithms.termination import check_budget
from imc_moo.problem.workload_set import WorkloadSetProblem


def runner(fn: Callable) -> Callable:
    """Mark ``fn`` as a runner: a procedure of several searches called as
    ``fn(problem, ledger, seed, history, **knobs) -> (stop_reason, extra)`` instead of a pymoo algorithm builder."""
    fn.is_runner = True
    return fn


def is_runner(factory: Callable) -> bool:
    """Whether an algorithm factory (a function or a ``functools.partial`` of one) is a :func:`runner`."""
    return bool(getattr(getattr(factory, "func", factory), "is_runner", False))


def algorithm_name(factory: Callable) -> str:
    """The run's algorithm name of a factory: its ``name`` keyword (an instantiated config node binds it), else
    the function's name."""
    name = (getattr(factory, "keywords", None) or {}).get("name")
    return str(name) if name else getattr(getattr(factory, "func", factory), "__name__", repr(factory))


def check_inner(factory: Callable) -> str:
    """The name of a baseline's inner search ``factory`` (its ``inner`` keyword, a pymoo algorithm builder as
    :func:`hydra.utils.instantiate` makes of the nested ``inner`` config node); a one-line ValueError if it is a
    baseline or not a factory."""
    if not callable(factory):
        raise ValueError(f"inner must be an algorithm factory, got {factory!r}: by name, "
                         "run_algorithm('specialized', problem, inner='nsga2')")
    name = algorithm_name(factory)
    if is_runner(factory):
        raise ValueError(f"inner search {name!r} is a baseline: a baseline's inner search must be a pymoo algorithm, "
                         "e.g. phased_ga (command line: algorithm@algorithm.inner=phased_ga)")
    return name


def check_problem(name: str, factory: Callable, problem) -> None:
    """Refuse, in one line, a baseline (a :func:`runner`: specialized, sequential, largest_workload) on a chip of
    several partitions or memories: they search the method's chip, one design per network or one gene group at a
    time."""
    space = getattr(problem, "space", None)
    if is_runner(factory) and not getattr(space, "plain", True):
        raise ValueError(f"algorithm={name} searches the method's one-partition chip (a design per network, or a "
                         f"gene group at a time); this problem's chip has partitions or a memory gene "
                         f"({space.name}): use phased_ga, nsga2, nsga3, ga or random, or problem.partitions=null")


def resolve_algorithm(algorithm: str | Callable, **knobs) -> tuple[str, Callable]:
    """``(name, factory)`` of an algorithm given by name (its packaged config, ``knobs`` merged in and
    type-checked, built by :func:`hydra.utils.instantiate`) or as a factory (``knobs`` bound to it; what
    ``instantiate(cfg.algorithm)`` gives). The name is the factory's ``name`` keyword (every config has one),
    else its function's name. A baseline's inner search is checked here, so a bad one fails before any run."""
    if isinstance(algorithm, str):
        factory = build_algorithm(algorithm_config(algorithm, **knobs))
    elif callable(algorithm):
        factory = functools.partial(algorithm, **knobs) if knobs else algorithm
    else:
        raise ValueError(f"an algorithm is a name or a factory, got {algorithm!r}")
    inner = getattr(factory, "keywords", {}).get("inner") if is_runner(factory) else None
    if inner is not None:
        check_inner(inner)
    return algorithm_name(factory), factory


def search(problem, algorithm, ledger: Ledger, seed: int, callback=None,
           termination: Termination | None = None) -> Result:
    """Run a pymoo ``algorithm`` on ``problem`` with ``ledger`` as its evaluator: pymoo's ask-and-tell loop, with
    every batch clipped to the ledger's room (:meth:`Ledger.admit`), so the ledger's cap is never exceeded. Stops
    when the ledger is full, ``termination`` says so, or the algorithm has nothing new to propose."""
    stop = LedgerFull(ledger) if termination is None else TerminationCollection(LedgerFull(ledger), termination)
    algorithm.setup(problem, termination=stop, seed=seed, evaluator=ledger, callback=callback, verbose=False)
    duplicates = getattr(algorithm, "eliminate_duplicates", None)
    if isinstance(duplicates, RunDuplicateElimination):  # avoid_revisits: offspring new to this run's ledger
        duplicates.bind(ledger, problem)
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
    if ledger.full:  # the budget ran out, whatever else ended at the same generation
        ledger.note_cap()
    if ledger.stop_reason:
        return ledger.stop_reason
    own = getattr(algorithm, "stop_reason", None)
    cap = f" of {ledger.cap:,}" if ledger.cap is not None else ""
    where = f"at {ledger.spent:,}{cap} designs"
    return f"{own} {where}" if own else f"{name} proposed no new design {where}"


#: Seeds numpy's generators accept: 0 .. 2**32 - 1 (pymoo seeds the legacy global generator too).
MAX_SEED = 2**32 - 1


def check_seed(seed) -> int:
    """``seed`` if it is an integer numpy can seed with; else a one-line ValueError with the fix."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to {MAX_SEED:,}, got {seed!r}: e.g. seed=0")
    return int(seed)


def run_algorithm(algorithm: str | Callable, problem: WorkloadSetProblem, budget: int = 3300, seed: int = 0,
                  progress: Callable[[Mapping], None] | None = None, *, ledger: Ledger | None = None,
                  history: RunHistory | None = None, phase: str | None = None, **knobs) -> RunResult:
    """Run an algorithm on ``problem`` with a hard cap of ``budget`` distinct designs.

    Args:
        algorithm: a name of :func:`~imc_moo.algorithms.catalog.available_algorithms`, or a factory (e.g.
            ``hydra.utils.instantiate(cfg.algorithm)``; see :func:`resolve_algorithm`).
        problem: the workload-set problem (pure; the run's state lives in its ledger).
        budget: distinct designs the run may evaluate; never exceeded (the last batch is clipped).
        seed: seeds pymoo's generator, the run's only source of randomness.
        progress: optional callable fed each history row (see :class:`RunHistory`).
        ledger: the ledger to run on (a baseline's child ledger for a sub-search); default a new one. Its cap
            becomes ``budget`` unless it has one already.
        history: the history to record into (a baseline's run-wide history); default a new one.
        phase: fixed phase label of the history rows (sub-searches).
        **knobs: the algorithm's options (the keys of its config; a baseline's ``inner``: a mapping of its inner
            search's knobs, or the name of another algorithm config).

    Raises:
        ValueError: unknown algorithm or knob (the message lists the valid ones), a knob of the wrong type, or a
            bad budget.
    """
    budget = check_budget(budget)
    check_seed(seed)
    name, factory = resolve_algorithm(algorithm, **knobs)
    ledger = Ledger(cap=budget) if ledger is None else ledger
    if ledger.cap is None:
        ledger.cap = budget
    history = RunHistory(ledger, progress) if history is None else history
    check_problem(name, factory, problem)
    start = time.perf_counter()
    if is_runner(factory):
        reason, extra = factory(problem, ledger, seed, history)
        result, stop = None, ledger.stop_reason or reason
    else:
        built = factory(problem, budget)
        built_algorithm, target = built if isinstance(built, tuple) else (built, problem)
        result = search(target, built_algorithm, ledger, seed, callback=HistoryCallback(history, phase))
        extra, stop = {}, _stop_reason(name, built_algorithm, ledger)
    return RunResult(algorithm=name, problem=problem, seed=seed, budget=budget, evaluations=ledger.spent,
                     archive=ledger.frame(), history=history.frame(), wall_time_s=time.perf_counter() - start,
                     stop_reason=stop, ledger=ledger, pymoo_result=result, extra=extra)
