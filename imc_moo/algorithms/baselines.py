"""The method's baselines (METHOD.md §5) as runners of :data:`imc_moo.algorithms.RUNNERS`.

Each baseline is a procedure of several searches, run through :func:`imc_moo.algorithms.run_algorithm` like any
algorithm (``run_algorithm("sequential", problem, budget=3300, seed=0)``) and returning a :class:`RunResult`:

* ``specialized`` (METHOD.md "Separate", the normalisation reference of §5.2): for each workload w of the set, an
  inner search (default ``phased_ga``) of the w-only problem (same memory, design space, constraints and
  aggregation, objective EDAP_w) with ``budget_per_workload`` distinct evaluations; each workload's best design is
  then evaluated on the whole set. ``extra["specialized"][w] = {"edap": best EDAP_w of the w-only search
  [mJ*ms*mm2], "design": {...}, "feasible": ...}``. The run's best is the specialized design of least aggregated
  set EDAP (feasible first). ``budget_per_workload`` defaults to the full ``budget`` so the reference is as good
  as a joint search of the same budget: **the run spends up to W x budget + W evaluations**.
* ``largest_workload`` (METHOD.md "Max"): an inner search of only the set's largest network (most weights: vgg16
  in cnn4, gpt2_medium in mixed9) with ``budget - top_k`` evaluations, then its ``top_k`` best designs (by that
  network's EDAP, feasible on the single-workload problem first) are evaluated on the set (``top_k = 1`` is the
  method's single pick). The run's best is the least set EDAP among them. ``extra = {"largest_workload": name}``.
* ``sequential`` (METHOD.md §5.3): device -> circuit -> architecture -> system stages, each searching only its
  genes with the others frozen at the previous stage's best, from the method's "middle" or "max" start point.
  The objective is the set's aggregated EDAP, feasibility first. ``extra = {"stages": [{"stage", "pass",
  "genes", "method" ("start", "exhaustive", "ga" or "skipped"), "best_edap", "feasible", "cv", "evaluations"
  (run-wide, after the stage), "design"}, ...]}``, the first entry being the start design.

Budgets and counts. ``evaluations`` is the number of distinct cost-model evaluations over all sub-searches:
a single-workload design evaluation counts as one, and so does each design evaluated on the set (a design found
by a single-workload search and then evaluated on the set counts twice). Every sub-search is held to its budget
exactly: a generation that would overshoot evaluates only its first new designs up to the budget
(:class:`BudgetedProblem`, :func:`evaluate_within`); the rest get a penalty without being evaluated and the search
stops at that generation boundary. Hence ``evaluations <= budget`` for ``largest_workload`` and ``sequential`` and
``<= W x budget_per_workload + W`` for ``specialized``.

Archives and histories. A baseline's ``archive`` holds the designs it evaluated on the set problem (so ``best``,
``pareto()`` and ``best.json`` work as for other algorithms). Its ``eval_order`` is the run-wide index of the
evaluation (counting single-workload evaluations too), so the anytime hypervolume of ``history.csv`` stays exact.
``history`` has :data:`HISTORY_COLUMNS`: ``generation`` counts generations over the whole run, ``phase`` is the
workload (``specialized``, ``largest_workload``; ``"set"`` for ``largest_workload``'s final evaluation) or the
stage (``sequential``), ``evaluations`` is run-wide, and ``best_edap`` is the best feasible *set* EDAP known so far
(NaN while a single-workload search runs before any design was evaluated on the set).

Randomness. Inner searches use the run's ``seed`` (so a workload's specialized search does not depend on the set
it belongs to: the largest-workload search equals the specialized search of that workload at the same budget);
``sequential`` draws its initial populations and per-stage pymoo seeds from ``numpy.random.default_rng(seed)``.
The same seed gives the same run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.callback import Callback
from pymoo.core.problem import Problem
from pymoo.core.termination import Termination
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.optimize import minimize
from pymoo.termination.collection import TerminationCollection

from ..problem import PENALTY, Evaluation, WorkloadSetProblem
from ..space import DESIGN_COLUMNS
from . import ALGORITHMS, RUNNERS, run_algorithm
from .hamming import capacity_ratio
from .result import HISTORY_COLUMNS, RunResult, run_archive
from .termination import DistinctEvaluations

__all__ = [
    "BudgetedProblem", "SEQUENTIAL_STAGES", "START_POINTS", "Stage", "evaluate_within", "largest_network",
    "run_largest_workload", "run_sequential", "run_specialized", "single_workload_problem", "start_genome",
]


def _register(name: str) -> Callable:
    def add(runner: Callable) -> Callable:
        if name in ALGORITHMS:
            raise ValueError(f"runner name {name!r} is already a pymoo algorithm in ALGORITHMS")
        RUNNERS[name] = runner
        return runner
    return add


# -- hard evaluation budgets ---------------------------------------------------------------------------------
def evaluate_within(problem: WorkloadSetProblem, genomes: np.ndarray, limit: int | None,
                    evaluate: Callable[[np.ndarray], Evaluation] | None = None) -> Evaluation:
    """``problem.evaluate_cached(genomes)`` that never lets ``problem``'s archive grow beyond ``limit`` designs.

    Archived designs are read as usual; new designs are evaluated in order of first appearance until the archive
    holds ``limit`` designs. The remaining new designs are *not* evaluated: their rows get objectives, EDAP and
    constraints of :data:`PENALTY` (infeasible, never archived). ``limit=None`` means no limit.

    Args:
        evaluate: the cached evaluation to use (default ``problem.evaluate_cached``).
    """
    evaluate = evaluate or problem.evaluate_cached
    genomes = problem.space.check_genomes(genomes)
    if limit is None:
        return evaluate(genomes)
    room = int(limit) - problem.n_evaluated
    index = problem.archive.index
    new: set[int] = set()
    ok = np.ones(len(genomes), dtype=bool)
    for i, k in enumerate(problem.space.keys(genomes).tolist()):
        if k in index or k in new:
            continue
        if len(new) < room:
            new.add(k)
        else:
            ok[i] = False
    if ok.all():
        return evaluate(genomes)
    done = evaluate(genomes[ok]) if ok.any() else None
    template = done if done is not None else problem.archive.results
    if template is None:
        raise ValueError(f"evaluation limit {limit} leaves no room for a first design")
    fields = {}
    for name in Evaluation.__dataclass_fields__:
        ref = getattr(template, name)
        arr = np.empty((len(genomes),) + ref.shape[1:], dtype=ref.dtype)
        arr[...] = False if ref.dtype == bool else PENALTY
        if done is not None:
            arr[ok] = getattr(done, name)
        fields[name] = arr
    return Evaluation(**fields)


class BudgetedProblem(WorkloadSetProblem):
    """A :class:`WorkloadSetProblem` whose archive never exceeds ``limit`` distinct designs
    (:func:`evaluate_within`): a search on it spends at most ``limit`` evaluations, none of them past its budget.
    ``limit=None`` (default) behaves like the base class."""

    limit: int | None = None

    def evaluate_cached(self, genomes: np.ndarray) -> Evaluation:
        return evaluate_within(self, genomes, self.limit, super().evaluate_cached)


def single_workload_problem(problem: WorkloadSetProblem, workload: str, limit: int | None = None) -> BudgetedProblem:
    """The ``workload``-only version of ``problem``: same memory, design space, area limit, weights-on-chip rule
    and aggregation, objective EDAP; its archive is capped at ``limit`` designs."""
    if workload not in problem.workloads:
        raise ValueError(f"workload {workload!r} is not in the problem's set {problem.workloads}")
    single = BudgetedProblem([workload], memory=problem.memory, objectives="edap", aggregation=problem.aggregation,
                             area_limit_mm2=problem.area_limit_mm2, space=problem.space,
                             weights_on_chip=problem.weights_on_chip)
    single.limit = limit
    return single


def largest_network(problem: WorkloadSetProblem) -> str:
    """The set's network with the most weights (the first one on ties)."""
    totals = [net.total_weights for net in problem.networks]
    return problem.workloads[int(np.argmax(totals))]


# -- run bookkeeping -----------------------------------------------------------------------------------------
class _RunLog:
    """History rows, run-wide evaluation counts and ``eval_order`` of a baseline run on the set ``problem``.

    ``outside`` counts the evaluations made on other (single-workload) problems so far; the run-wide count is
    ``outside + problem.n_evaluated``.
    """

    def __init__(self, problem: WorkloadSetProblem, progress: Callable[[Mapping], None] | None):
        self.problem = problem
        self.progress = progress
        self.rows: list[dict] = []
        self.outside = 0
        self.generation = 0
        self.eval_order: list[int] = []
        self._best = np.inf

    @property
    def evaluations(self) -> int:
        return self.outside + self.problem.n_evaluated

    def _scan(self) -> None:
        """Account for set designs evaluated since the last scan (best feasible EDAP, run-wide order)."""
        n, start = self.problem.n_evaluated, len(self.eval_order)
        if n <= start:
            return
        ev = self.problem.archive.results
        feasible = (ev.G[start:n] <= 0).all(axis=1)
        if feasible.any():
            self._best = min(self._best, float(ev.edap[start:n][feasible].min()))
        self.eval_order.extend(self.outside + i for i in range(start, n))

    def row(self, phase: str, feasible_fraction: float, evaluations: int | None = None) -> None:
        self._scan()
        self.generation += 1
        row = {"generation": self.generation, "phase": phase,
               "evaluations": self.evaluations if evaluations is None else int(evaluations),
               "best_edap": self._best if np.isfinite(self._best) else np.nan,
               "feasible_fraction": float(feasible_fraction)}
        self.rows.append(row)
        if self.progress is not None:
            self.progress(row)

    def inner(self, phase: str) -> Callable[[Mapping], None]:
        """A ``progress`` callback for an inner run: its rows become run rows (run-wide evaluations)."""
        offset = self.evaluations

        def feed(row: Mapping) -> None:
            self.row(phase, row["feasible_fraction"], offset + int(row["evaluations"]))
        return feed

    def evaluate(self, genomes: np.ndarray, phase: str) -> Evaluation:
        """Evaluate genomes on the set problem (cached) and log one row."""
        ev = self.problem.evaluate_cached(genomes)
        self.row(phase, float(ev.feasible.mean()) if len(ev.edap) else np.nan)
        return ev

    def result(self, name: str, seed: int, budget: int, start_time: float, extra: dict) -> RunResult:
        self._scan()
        archive = run_archive(self.problem)
        if not archive.empty:
            archive["eval_order"] = np.asarray(self.eval_order, dtype=np.int64)
        return RunResult(algorithm=name, problem=self.problem, seed=seed, budget=budget,
                         evaluations=self.evaluations, archive=archive,
                         history=pd.DataFrame(self.rows, columns=list(HISTORY_COLUMNS)),
                         wall_time_s=time.perf_counter() - start_time, pymoo_result=None, extra=extra)


def _plain(value):
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


def _design(row: pd.Series) -> dict:
    """The decoded design of an archive row as plain Python values."""
    return {c: _plain(row[c]) for c in DESIGN_COLUMNS}


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _inner_search(inner: str, single: BudgetedProblem, budget: int, seed: int, knobs: Mapping | None,
                  progress: Callable, who: str) -> RunResult:
    """Run ``inner`` on the single-workload problem with an exact budget; errors name the baseline."""
    if inner not in ALGORITHMS:
        raise ValueError(f"{who}: inner must be a pymoo algorithm, one of {', '.join(sorted(ALGORITHMS))}; "
                         f"got {inner!r}")
    single.limit = budget
    try:
        return run_algorithm(inner, single, budget, seed, progress=progress, **dict(knobs or {}))
    except ValueError as err:
        raise ValueError(f"{who}: inner {inner} search of {single.workloads[0]} with budget {budget}: {err}") from err


def _genome(single: WorkloadSetProblem, row: pd.Series) -> np.ndarray:
    """The genome of an archive row of a run on ``single`` (``eval_order`` = row of its archive)."""
    return single.archive.genomes[int(row["eval_order"])]


# -- specialized ---------------------------------------------------------------------------------------------
@_register("specialized")
def run_specialized(problem: WorkloadSetProblem, budget: int, seed: int = 0,
                    progress: Callable[[Mapping], None] | None = None, *, inner: str = "phased_ga",
                    inner_knobs: Mapping | None = None, budget_per_workload: int | None = None) -> RunResult:
    """Workload-specific designs (METHOD.md §5.1 "Separate"), the normalisation reference.

    Args:
        problem: the workload set; its archive is reset and receives the W specialized designs.
        budget: default ``budget_per_workload``.
        seed: seed of every inner search.
        inner, inner_knobs: the inner algorithm (a key of :data:`ALGORITHMS`) and its knobs.
        budget_per_workload: distinct evaluations of each single-workload search (default ``budget``); the run
            spends at most W x budget_per_workload + W evaluations.
    """
    start = time.perf_counter()
    per = _positive_int(budget if budget_per_workload is None else budget_per_workload, "budget_per_workload")
    problem.reset_archive()
    log = _RunLog(problem, progress)
    specialized = {}
    for w in problem.workloads:
        single = single_workload_problem(problem, w)
        res = _inner_search(inner, single, per, seed, inner_knobs, log.inner(w), "specialized")
        best = res.best
        log.outside += res.evaluations
        log.evaluate(_genome(single, best), w)
        specialized[w] = {"edap": float(best["edap"]), "feasible": bool(best["feasible"]), "design": _design(best)}
    return log.result("specialized", seed, budget, start, {"specialized": specialized})


# -- largest workload ----------------------------------------------------------------------------------------
@_register("largest_workload")
def run_largest_workload(problem: WorkloadSetProblem, budget: int, seed: int = 0,
                         progress: Callable[[Mapping], None] | None = None, *, inner: str = "phased_ga",
                         inner_knobs: Mapping | None = None, top_k: int = 1) -> RunResult:
    """Optimise for the largest network only (METHOD.md §5.1 "Max"), then evaluate its best designs on the set.

    Args:
        problem: the workload set; its archive is reset and receives the ``top_k`` designs.
        budget: total distinct evaluations: ``budget - top_k`` for the single-workload search, ``top_k`` on the set.
        seed: seed of the inner search.
        inner, inner_knobs: the inner algorithm (a key of :data:`ALGORITHMS`) and its knobs.
        top_k: designs of the single-workload search evaluated on the set, best EDAP first among its feasible
            designs (infeasible ones only if fewer are feasible; 1 = the method's single pick).
    """
    start = time.perf_counter()
    top_k = _positive_int(top_k, "top_k")
    if budget <= top_k:
        raise ValueError(f"largest_workload: budget ({budget}) must exceed top_k ({top_k})")
    name = largest_network(problem)
    problem.reset_archive()
    log = _RunLog(problem, progress)
    single = single_workload_problem(problem, name)
    res = _inner_search(inner, single, budget - top_k, seed, inner_knobs, log.inner(name), "largest_workload")
    log.outside += res.evaluations
    arch = res.archive
    ranked = pd.concat([arch[arch["feasible"].astype(bool)].sort_values("edap", kind="stable"),
                        arch[~arch["feasible"].astype(bool)].sort_values("cv", kind="stable")])
    picks = ranked.head(top_k)
    log.evaluate(np.stack([_genome(single, row) for _, row in picks.iterrows()]), "set")
    return log.result("largest_workload", seed, budget, start, {"largest_workload": name})


# -- sequential ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """One stage of the sequential search: the genes it searches and the method's GA size (METHOD.md §5.3).

    The stage's share of the budget is proportional to ``pop_size * generations``.
    """

    name: str
    genes: tuple[str, ...]
    pop_size: int
    generations: int

    @property
    def weight(self) -> int:
        return self.pop_size * self.generations


#: METHOD.md §5.3 stages with the method's "middle" pop/gens (RRAM: device 10x5, circuit 15x7, architecture
#: 20x10, system 15x7; SRAM: the same without the device stage, bits_per_cell being fixed). A technology gene,
#: when the space has one, is searched with the system genes.
SEQUENTIAL_STAGES: tuple[Stage, ...] = (
    Stage("device", ("bits_per_cell",), 10, 5),
    Stage("circuit", ("xbar_rows", "xbar_cols"), 15, 7),
    Stage("architecture", ("router_group", "tiles_per_chip", "macros_per_tile", "glb_depth"), 20, 10),
    Stage("system", ("voltage", "base_latency_s", "technology_nm"), 15, 7),
)

#: METHOD.md §5.3 start points (glb_depth in 2048-bit words: 4 MiB = 16384, 32 MiB = 131072). A value given per
#: memory is a dict. bits_per_cell (not given by the method; searched first anyway) starts mid-list (4) or at the
#: top (8); technology_nm at the method's 32 nm. Each value maps to the nearest entry (in log scale) of the
#: problem's value list.
START_POINTS: dict[str, dict[str, float | dict]] = {
    "middle": {"voltage": 0.7, "bits_per_cell": 4, "base_latency_s": 4e-9, "xbar_rows": 256, "xbar_cols": 256,
               "router_group": 8, "tiles_per_chip": {"rram": 16, "sram": 32}, "macros_per_tile": 32,
               "glb_depth": 4 * 4096, "technology_nm": 32},
    "max": {"voltage": 0.85, "bits_per_cell": 8, "base_latency_s": 1e-8, "xbar_rows": 512, "xbar_cols": 512,
            "router_group": 32, "tiles_per_chip": 64, "macros_per_tile": 128, "glb_depth": 32 * 4096,
            "technology_nm": 32},
}


def start_genome(problem: WorkloadSetProblem, start: str | Mapping = "middle") -> np.ndarray:
    """The genome (n_var,) nearest to a start point: ``"middle"``, ``"max"`` or a mapping gene -> value
    (genes it omits take the "middle" value). Nearest = least |log(value) - log(target)|, first on ties."""
    if isinstance(start, str):
        if start not in START_POINTS:
            raise ValueError(f"sequential: unknown start {start!r}: use one of {', '.join(START_POINTS)}")
        point = START_POINTS[start]
    else:
        point = {**START_POINTS["middle"], **dict(start)}
    genome = np.empty(problem.space.n_var, dtype=np.int64)
    for j, (gene, values) in enumerate(problem.space.values.items()):
        target = point[gene]
        if isinstance(target, Mapping):
            target = target[problem.memory]
        genome[j] = int(np.argmin(np.abs(np.log(np.asarray(values, dtype=float)) - math.log(float(target)))))
    return genome


def _rank_key(ev: Evaluation) -> np.ndarray:
    """(n, 2) lexicographic sort keys, feasibility first: (0, EDAP) if feasible else (1, CV)."""
    feasible = ev.feasible
    cv = np.maximum(ev.G, 0).sum(axis=1)
    return np.column_stack([np.where(feasible, 0.0, 1.0), np.where(feasible, ev.edap, cv)])


def _best_of(ev: Evaluation) -> int:
    """Index of the best evaluated design (feasibility first, then EDAP / CV), the first on ties."""
    key = _rank_key(ev)
    return int(np.lexsort((np.arange(len(key)), key[:, 1], key[:, 0]))[0])


class _StageProblem(Problem):
    """The sub-problem of one stage: the stage's genes, the others frozen at ``base``; evaluates the embedded
    genomes on the set problem (its archive, at most ``limit`` designs) and minimises the aggregated EDAP."""

    def __init__(self, problem: WorkloadSetProblem, genes: np.ndarray, base: np.ndarray, limit: int):
        cards = problem.space.cardinalities[genes]
        super().__init__(n_var=len(genes), n_obj=1, n_ieq_constr=problem.n_ieq_constr, xl=np.zeros(len(genes)),
                         xu=cards - 1, vtype=int)
        self.base_problem = problem
        self.genes = genes
        self.base = base
        self.limit = limit
        self.seen: list[np.ndarray] = []  # embedded genomes asked for (those past the limit unevaluated)

    @property
    def n_evaluated(self) -> int:  # read by DistinctEvaluations
        return self.base_problem.n_evaluated

    def embed(self, X: np.ndarray) -> np.ndarray:
        full = np.repeat(self.base[None, :], len(X), axis=0)
        full[:, self.genes] = np.rint(np.asarray(X, dtype=float)).astype(np.int64)
        return full

    def _evaluate(self, X, out, *args, **kwargs):
        full = self.embed(X)
        ev = evaluate_within(self.base_problem, full, self.limit)
        self.seen.append(full)
        out["F"] = ev.edap[:, None].copy()
        out["G"] = ev.G


class _Stalled(Termination):
    """Stop after ``patience`` consecutive generations that evaluated no new design."""

    def __init__(self, patience: int = 10):
        super().__init__()
        self.patience = patience
        self._last = -1
        self._idle = 0

    def _update(self, algorithm) -> float:
        n = algorithm.problem.n_evaluated
        self._idle = self._idle + 1 if n == self._last else 0
        self._last = n
        return self._idle / self.patience


class _StageCallback(Callback):
    def __init__(self, log: _RunLog, phase: str):
        super().__init__()
        self.log, self.phase = log, phase

    def notify(self, algorithm) -> None:
        cv = np.asarray(algorithm.pop.get("CV"), dtype=float).ravel()
        self.log.row(self.phase, float((cv <= 0).mean()) if len(cv) else np.nan)


#: Designs evaluated per batch when a stage is enumerated.
_CHUNK = 4096


def _initial_population(problem: WorkloadSetProblem, stage: _StageProblem, size: int,
                        rng: np.random.Generator) -> np.ndarray:
    """``size`` sub-genomes: the current best's first, then random ones, capacity-feasible ones first when the
    problem keeps weights on chip (the method's RRAM sampling)."""
    cards = problem.space.cardinalities[stage.genes]
    cand = rng.integers(0, cards, size=(50 * size, len(cards)), dtype=np.int64)
    ratio = capacity_ratio(problem, stage.embed(cand))
    if ratio is not None:
        cand = cand[np.argsort(ratio > 1.0, kind="stable")]
    first = stage.base[stage.genes][None, :]
    X = np.vstack([first, cand])
    _, idx = np.unique(X, axis=0, return_index=True)
    return X[np.sort(idx)[:size]]


@_register("sequential")
def run_sequential(problem: WorkloadSetProblem, budget: int, seed: int = 0,
                   progress: Callable[[Mapping], None] | None = None, *, start: str | Mapping = "middle",
                   passes: int = 1, patience: int = 10) -> RunResult:
    """Stage-by-stage search (METHOD.md §5.3): device -> circuit -> architecture -> system.

    The start design is evaluated first. The remaining ``budget - 1`` evaluations are split over the stages (x
    ``passes``) in proportion to the method's pop x gens, in order; what a stage leaves unused carries over to the
    later ones in the same proportions. A stage whose sub-space has no more designs than its share is enumerated
    exhaustively; otherwise pymoo's GA searches it (the method's SBX prob 1.0 eta 3, PM prob 1.0 eta 3,
    RoundingRepair, duplicates eliminated; population = the method's, at most the share; initial population = the
    current best + random, capacity-feasible first) until its share is spent or ``patience`` generations bring no
    new design. Every stage keeps the best of the incoming design and its own designs (feasibility first, then
    set EDAP), so the chain never gets worse.

    Args:
        problem: the workload set (objective: its aggregated EDAP, feasibility first, whatever its objectives).
        budget: total distinct evaluations on the set (never exceeded).
        seed: seeds the run's generator (initial populations, per-stage pymoo seeds).
        start: ``"middle"`` (default) or ``"max"`` (:data:`START_POINTS`), or a mapping gene -> value.
        passes: times the stage sequence is repeated.
        patience: generations without a new design that end a GA stage.
    """
    t0 = time.perf_counter()
    passes = _positive_int(passes, "passes")
    patience = _positive_int(patience, "patience")
    space = problem.space
    stages = [(s, np.array([space.names.index(g) for g in s.genes if g in space.values], dtype=np.int64))
              for s in SEQUENTIAL_STAGES]
    stages = [(s, genes) for s, genes in stages if len(genes)]
    covered = set(np.concatenate([g for _, g in stages]).tolist())
    if covered != set(range(space.n_var)):
        missing = [space.names[j] for j in range(space.n_var) if j not in covered]
        raise ValueError(f"sequential: genes {missing} belong to no stage")
    plan = [(p, s, genes) for p in range(passes) for s, genes in stages]

    problem.reset_archive()
    log = _RunLog(problem, progress)
    rng = np.random.default_rng(seed)
    best = start_genome(problem, start)
    best_ev = log.evaluate(best[None, :], "start")
    record = [_stage_record("start", 0, [], "start", best, best_ev, problem, log)]
    for i, (p, stage, genes) in enumerate(plan):
        remaining = budget - problem.n_evaluated
        weights = [s.weight for _, s, _ in plan[i:]]
        share = remaining if i == len(plan) - 1 else int(remaining * stage.weight / sum(weights))
        size = int(np.prod(space.cardinalities[genes]))
        if share <= 0:
            method, cand = "skipped", best[None, :]
        elif size <= share:
            method = "exhaustive"
            sub = np.stack(np.unravel_index(np.arange(size), space.cardinalities[genes]), axis=1)
            cand = np.repeat(best[None, :], size, axis=0)
            cand[:, genes] = sub
            for c in range(0, size, _CHUNK):
                log.evaluate(cand[c:c + _CHUNK], stage.name)
        else:
            method = "ga"
            limit = problem.n_evaluated + share
            sp = _StageProblem(problem, genes, best, limit)
            pop = max(2, min(stage.pop_size, share))
            X0 = _initial_population(problem, sp, pop, rng)
            algorithm = GA(pop_size=pop, sampling=X0,
                           crossover=SBX(prob=1.0, eta=3, vtype=float, repair=RoundingRepair()),
                           mutation=PM(prob=1.0, eta=3, vtype=float, repair=RoundingRepair()),
                           eliminate_duplicates=True)
            minimize(sp, algorithm, TerminationCollection(DistinctEvaluations(limit), _Stalled(patience)),
                     seed=int(rng.integers(2**31 - 1)), callback=_StageCallback(log, stage.name),
                     copy_algorithm=False, save_history=False, verbose=False)
            cand = np.vstack(sp.seen) if sp.seen else best[None, :]
            known = np.fromiter((k in problem.archive.index for k in space.keys(cand).tolist()), dtype=bool,
                                count=len(cand))
            cand = cand[known]  # designs past the stage's limit were never evaluated
        cand = np.vstack([best[None, :], cand])
        ev = problem.evaluate_cached(cand)  # all archived: no new evaluation
        j = _best_of(ev)
        best = cand[j]
        record.append(_stage_record(stage.name, p + 1, [space.names[g] for g in genes], method, best,
                                    _take_row(ev, j), problem, log))
    return log.result("sequential", seed, budget, t0, {"stages": record})


def _take_row(ev: Evaluation, j: int) -> Evaluation:
    return Evaluation(**{k: getattr(ev, k)[[j]] for k in Evaluation.__dataclass_fields__})


def _stage_record(name: str, pass_: int, genes: Sequence[str], method: str, genome: np.ndarray, ev: Evaluation,
                  problem: WorkloadSetProblem, log: _RunLog) -> dict:
    design = problem.space.decode(genome[None, :]).iloc[0]
    return {"stage": name, "pass": pass_, "genes": list(genes), "method": method,
            "best_edap": float(ev.edap[0]), "feasible": bool(ev.feasible[0]),
            "cv": float(np.maximum(ev.G[0], 0).sum()), "evaluations": log.evaluations,
            "design": _design(design)}
