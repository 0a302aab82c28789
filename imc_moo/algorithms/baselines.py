"""The method's baselines (METHOD.md §5) as :func:`~imc_moo.algorithms.runner` procedures.

Each baseline is a procedure of several searches, run through :func:`imc_moo.algorithms.run_algorithm` like any
algorithm (``run_algorithm("sequential", problem, budget=3300, seed=0)``; configs ``conf/algorithm/*.yaml``) and
returning a :class:`RunResult`:

* ``specialized`` (METHOD.md "Separate", the normalisation reference of §5.2): for each workload w of the set, an
  inner search (``inner``, default the method's ``phased_ga``) of the w-only problem (same memory, design space,
  constraints and aggregation, objective EDAP_w) with ``budget_per_workload`` distinct evaluations; each workload's
  best design is then evaluated on the whole set. ``extra["specialized"][w] = {"edap": best EDAP_w of the w-only
  search [mJ*ms*mm2], "design": {...}, "feasible": ...}``. The run's best is the specialized design of least
  aggregated set EDAP (feasible first). ``budget_per_workload`` defaults to the run's budget shared evenly,
  (budget - W) // W, so the run spends at most its budget (W x budget_per_workload + W evaluations).
* ``largest_workload`` (METHOD.md "Max"): an inner search of only the set's largest network (most weights: vgg16
  in cnn4, gpt2_medium in mixed9) with ``budget - top_k`` evaluations, then its ``top_k`` best designs (by that
  network's EDAP, feasible on the single-workload problem first) are evaluated on the set (``top_k = 1`` is the
  method's single pick). The run's best is the least set EDAP among them. ``extra = {"largest_workload": name}``.
* ``sequential`` (METHOD.md §5.3): device -> circuit -> architecture -> system stages, each searching only its
  genes with the others frozen at the previous stage's best, from the method's "middle" or "max" start point.
  The objective is the set's aggregated EDAP, feasibility first. ``extra = {"stages": [{"stage", "pass",
  "genes", "method" ("start", "exhaustive", "ga" or "skipped"), "best_edap", "feasible", "cv", "evaluations"
  (run-wide, after the stage), "design"}, ...]}``, the first entry being the start design.

Budgets and counts. A baseline runs on the run's :class:`~imc_moo.algorithms.ledger.Ledger`, capped at ``budget``; each
sub-search gets a child ledger with its own cap (a single-workload search its own cache, a sequential stage the
run's), so ``evaluations`` is the number of distinct cost-model evaluations over all sub-searches: a
single-workload design evaluation counts as one, and so does each design evaluated on the set (a design found by a
single-workload search and then evaluated on the set counts twice). No sub-search and no run ever exceeds its cap.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.problem import Problem
from pymoo.core.termination import Termination
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair

from imc_moo.algorithms import configured
from imc_moo.algorithms.driver import check_inner, run_algorithm, runner, search
from imc_moo.algorithms.duplicates import ExactDuplicateElimination
from imc_moo.algorithms.hamming import capacity_ratio
from imc_moo.algorithms.ledger import Ledger
from imc_moo.algorithms.result import HistoryCallback, RunHistory, RunResult
from imc_moo.problem.space import DESIGN_COLUMNS
from imc_moo.problem.workload_set import Evaluation, WorkloadSetProblem

__all__ = [
    "SEQUENTIAL_STAGES", "START_POINTS", "Stage", "SubspaceProblem", "largest_network", "run_largest_workload",
    "run_sequential", "run_specialized", "single_workload_problem", "start_genome",
]


def single_workload_problem(problem: WorkloadSetProblem, workload: str) -> WorkloadSetProblem:
    """The ``workload``-only version of ``problem``: same memory, design space, area limit, weights-on-chip rule,
    aggregation, deployment mode and endurance, performance model (with its limits and batch), objective EDAP (one
    network never switches, so the mix's switching rate and shares do not apply)."""
    if workload not in problem.workloads:
        raise ValueError(f"workload {workload!r} is not in the problem's set {problem.workloads}")
    network = problem.networks[problem.workloads.index(workload)]
    d = problem.deployment
    return WorkloadSetProblem([network], memory=problem.memory, objectives="edap", aggregation=problem.aggregation,
                              area_limit_mm2=problem.area_limit_mm2, space=problem.space,
                              weights_on_chip=problem.weights_on_chip, deployment=d.mode,
                              mix={"lifetime_inferences": d.lifetime_inferences},
                              endurance_cycles=d.endurance_cycles, performance=problem.performance)


def largest_network(problem: WorkloadSetProblem) -> str:
    """The set's network with the most weights (the first one on ties)."""
    totals = [net.total_weights for net in problem.networks]
    return problem.workloads[int(np.argmax(totals))]


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


def _inner_search(factory: Callable, single: WorkloadSetProblem, ledger: Ledger, budget: int, seed: int,
                  history: RunHistory, who: str) -> RunResult:
    """Run the inner algorithm ``factory`` on the single-workload problem on a child ledger capped at ``budget``
    distinct designs; errors name the baseline."""
    inner = check_inner(factory)
    workload = single.workloads[0]
    try:
        return run_algorithm(factory, single, budget, seed, ledger=ledger.child(budget, label=f"{who} {workload}"),
                             history=history, phase=workload)
    except ValueError as err:
        raise ValueError(f"{who}: inner {inner} search of {workload} with budget {budget}: {err}") from err


def _evaluate_on_set(problem: WorkloadSetProblem, ledger: Ledger, history: RunHistory, genomes: np.ndarray,
                     phase: str) -> Evaluation:
    """Evaluate genomes on the set problem through the run's ledger and log one history row."""
    ev = ledger.evaluate(problem, genomes)
    history.record(phase, float(ev.feasible.mean()) if len(ev.edap) else np.nan)
    return ev


# -- specialized ---------------------------------------------------------------------------------------------
@runner
def run_specialized(problem: WorkloadSetProblem, ledger: Ledger, seed: int, history: RunHistory, *,
                    name: str = "specialized", inner: Callable = configured.phased_ga,
                    budget_per_workload: int | None = None) -> tuple[str, dict]:
    """Workload-specific designs (METHOD.md §5.1 "Separate"), the normalisation reference.

    Args:
        problem: the workload set; its archive receives the W specialized designs.
        ledger: the run's ledger; its cap (the run's budget) bounds W x budget_per_workload + W.
        seed: seed of every inner search.
        name: the run's algorithm name (read by :func:`~imc_moo.algorithms.driver.resolve_algorithm`).
        inner: the inner search, a pymoo algorithm factory (what :func:`hydra.utils.instantiate` makes of the
            config's nested ``inner`` node); default the method's phased GA.
        budget_per_workload: distinct evaluations of each single-workload search; default the run's budget
            shared evenly: (budget - W) // W.
    """
    W = len(problem.workloads)
    budget = ledger.room
    per = (budget - W) // W if budget_per_workload is None else budget_per_workload
    per = _positive_int(per, "budget_per_workload")
    if budget is not None and W * per + W > budget:
        raise ValueError(f"specialized: {W} searches of budget_per_workload={per} plus {W} set evaluations need "
                         f"{W * per + W:,} designs, more than the budget of {budget:,}: raise budget or lower "
                         "algorithm.budget_per_workload")
    specialized = {}
    for w in problem.workloads:
        single = single_workload_problem(problem, w)
        res = _inner_search(inner, single, ledger, per, seed, history, "specialized")
        best = res.best
        _evaluate_on_set(problem, ledger, history, res.best_genome()[None, :], w)
        specialized[w] = {"edap": float(best["edap"]), "feasible": bool(best["feasible"]), "design": _design(best)}
    return f"{W} single-workload searches of {per:,} designs done", {"specialized": specialized}


# -- largest workload ----------------------------------------------------------------------------------------
@runner
def run_largest_workload(problem: WorkloadSetProblem, ledger: Ledger, seed: int, history: RunHistory, *,
                         name: str = "largest_workload", inner: Callable = configured.phased_ga,
                         top_k: int = 1) -> tuple[str, dict]:
    """Optimise for the largest network only (METHOD.md §5.1 "Max"), then evaluate its best designs on the set.

    Args:
        problem: the workload set; its archive receives the ``top_k`` designs.
        ledger: the run's ledger: ``room - top_k`` designs for the single-workload search, ``top_k`` on the set.
        seed: seed of the inner search.
        name: the run's algorithm name (read by :func:`~imc_moo.algorithms.driver.resolve_algorithm`).
        inner: the inner search, a pymoo algorithm factory (what :func:`hydra.utils.instantiate` makes of the
            config's nested ``inner`` node); default the method's phased GA.
        top_k: designs of the single-workload search evaluated on the set, best EDAP first among its feasible
            designs (infeasible ones only if fewer are feasible; 1 = the method's single pick).
    """
    top_k = _positive_int(top_k, "top_k")
    budget = ledger.room
    if budget is not None and budget <= top_k:
        raise ValueError(f"largest_workload: budget ({budget}) must exceed top_k ({top_k})")
    largest = largest_network(problem)
    single = single_workload_problem(problem, largest)
    res = _inner_search(inner, single, ledger, budget - top_k, seed, history, "largest_workload")
    arch = res.archive
    feasible = arch["feasible"].astype(bool)
    ranked = pd.concat([arch[feasible].sort_values("edap", kind="stable"),
                        arch[~feasible].sort_values("cv", kind="stable")])
    picks = res.ledger.store.genomes[ranked.index[:top_k].to_numpy()]
    _evaluate_on_set(problem, ledger, history, picks, "set")
    return (f"{largest} search done ({res.stop_reason}); its best {top_k} evaluated on the set",
            {"largest_workload": largest})


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


class SubspaceProblem(Problem):
    """A pure view of ``problem`` over some of its genes, the others frozen at ``base``: decision vectors are the
    sub-genomes (n, len(genes)); the objective is the set's aggregated EDAP, the constraints are ``problem``'s.
    Its designs are ``problem``'s designs (same genome keys), so a ledger sharing the run's cache counts each
    design once whichever stage asks for it."""

    def __init__(self, problem: WorkloadSetProblem, genes: np.ndarray, base: np.ndarray):
        cards = problem.space.cardinalities[genes]
        super().__init__(n_var=len(genes), n_obj=1, n_ieq_constr=problem.n_ieq_constr, xl=np.zeros(len(genes)),
                         xu=cards - 1, vtype=int)
        self.base_problem = problem
        self.genes = genes
        self.base = base

    def genomes_of(self, X: np.ndarray) -> np.ndarray:
        """Full genomes (n, problem.n_var) of sub-genomes X (n, len(genes))."""
        full = np.repeat(self.base[None, :], len(X), axis=0)
        full[:, self.genes] = np.rint(np.asarray(X, dtype=float)).astype(np.int64)
        return self.base_problem.genomes_of(full)

    def genome_keys(self, genomes: np.ndarray) -> np.ndarray:
        return self.base_problem.genome_keys(genomes)

    def evaluate_genomes(self, genomes: np.ndarray) -> Evaluation:
        return self.base_problem.evaluate_genomes(genomes)

    def outputs(self, ev: Evaluation) -> dict[str, np.ndarray]:
        return {"F": ev.edap[:, None].copy(), "G": ev.G, "edap": ev.edap}

    def results_frame(self, genomes: np.ndarray, ev: Evaluation) -> pd.DataFrame:
        return self.base_problem.results_frame(genomes, ev)

    def _evaluate(self, X, out, *args, **kwargs):
        out.update(self.outputs(self.evaluate_genomes(self.genomes_of(X))))


class _Stalled(Termination):
    """Stop after ``patience`` consecutive generations that evaluated no new design."""

    def __init__(self, patience: int = 10):
        super().__init__()
        self.patience = patience
        self._last = -1
        self._idle = 0

    def _update(self, algorithm) -> float:
        n = algorithm.evaluator.spent
        self._idle = self._idle + 1 if n == self._last else 0
        self._last = n
        return self._idle / self.patience


#: Designs evaluated per batch when a stage is enumerated.
_CHUNK = 4096


def _initial_population(problem: WorkloadSetProblem, stage: SubspaceProblem, size: int,
                        rng: np.random.Generator) -> np.ndarray:
    """``size`` sub-genomes: the current best's first, then random ones, capacity-feasible ones first when the
    problem keeps weights on chip (the method's RRAM sampling)."""
    cards = problem.space.cardinalities[stage.genes]
    cand = rng.integers(0, cards, size=(50 * size, len(cards)), dtype=np.int64)
    ratio = capacity_ratio(problem, stage.genomes_of(cand))
    if ratio is not None:
        cand = cand[np.argsort(ratio > 1.0, kind="stable")]
    first = stage.base[stage.genes][None, :]
    X = np.vstack([first, cand])
    _, idx = np.unique(X, axis=0, return_index=True)
    return X[np.sort(idx)[:size]]


def _best_in_subspace(ledger: Ledger, genes: np.ndarray, base: np.ndarray) -> int:
    """Row in the run's cache of the best design that agrees with ``base`` outside ``genes`` (feasibility first,
    then set EDAP / CV, the earliest evaluated on ties)."""
    genomes = ledger.store.genomes
    others = np.setdiff1d(np.arange(genomes.shape[1]), genes)
    rows = np.flatnonzero((genomes[:, others] == base[others]).all(axis=1))
    ev = ledger.store.records(rows)
    return int(rows[_best_of(ev)])


@runner
def run_sequential(problem: WorkloadSetProblem, ledger: Ledger, seed: int, history: RunHistory, *,
                   name: str = "sequential", start: str | Mapping = "middle", passes: int = 1,
                   patience: int = 10) -> tuple[str, dict]:
    """Stage-by-stage search (METHOD.md §5.3): device -> circuit -> architecture -> system.

    The start design is evaluated first. The remaining budget is split over the stages (x ``passes``) in
    proportion to the method's pop x gens, in order; what a stage leaves unused carries over to the later ones in
    the same proportions. A stage whose sub-space has no more designs than its share is enumerated exhaustively;
    otherwise pymoo's GA searches it (the method's SBX prob 1.0 eta 3, PM prob 1.0 eta 3, RoundingRepair,
    duplicates eliminated; population = the method's, at most the share; initial population = the current best +
    random, capacity-feasible first) until its share is spent or ``patience`` generations bring no new design.
    Each stage runs on a child ledger (capped at its share) sharing the run's cache. Every stage keeps the best of
    the incoming design and its sub-space's designs (feasibility first, then set EDAP), so the chain never gets
    worse.

    Args:
        problem: the workload set (objective: its aggregated EDAP, feasibility first, whatever its objectives).
        ledger: the run's ledger (its cap is the total budget on the set, never exceeded).
        seed: seeds the run's generator (initial populations, per-stage pymoo seeds).
        name: the run's algorithm name (read by :func:`~imc_moo.algorithms.driver.resolve_algorithm`).
        start: ``"middle"`` (default) or ``"max"`` (:data:`START_POINTS`), or a mapping gene -> value.
        passes: times the stage sequence is repeated.
        patience: generations without a new design that end a GA stage.
    """
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

    rng = np.random.default_rng(seed)
    best = start_genome(problem, start)
    best_ev = _evaluate_on_set(problem, ledger, history, best[None, :], "start")
    record = [_stage_record("start", 0, [], "start", best, best_ev, problem, ledger)]
    for i, (p, stage, genes) in enumerate(plan):
        remaining = ledger.room
        weights = [s.weight for _, s, _ in plan[i:]]
        share = remaining if i == len(plan) - 1 else int(remaining * stage.weight / sum(weights))
        size = int(np.prod(space.cardinalities[genes]))
        if share <= 0:
            method = "skipped"
        elif size <= share:
            method = "exhaustive"
            sub = np.stack(np.unravel_index(np.arange(size), space.cardinalities[genes]), axis=1)
            cand = np.repeat(best[None, :], size, axis=0)
            cand[:, genes] = sub
            for c in range(0, size, _CHUNK):
                _evaluate_on_set(problem, ledger, history, cand[c:c + _CHUNK], stage.name)
        else:
            method = "ga"
            sp = SubspaceProblem(problem, genes, best)
            pop = max(2, min(stage.pop_size, share))
            algorithm = GA(pop_size=pop, sampling=_initial_population(problem, sp, pop, rng),
                           crossover=SBX(prob=1.0, eta=3, vtype=float, repair=RoundingRepair()),
                           mutation=PM(prob=1.0, eta=3, vtype=float, repair=RoundingRepair()),
                           eliminate_duplicates=ExactDuplicateElimination())
            search(sp, algorithm, ledger.child(share, label=f"sequential {stage.name}", share_cache=True),
                   seed=int(rng.integers(2**31 - 1)), callback=HistoryCallback(history, stage.name),
                   termination=_Stalled(patience))
        j = _best_in_subspace(ledger, genes, best)
        best = ledger.store.genomes[j]
        record.append(_stage_record(stage.name, p + 1, [space.names[g] for g in genes], method, best,
                                    ledger.store.records(np.array([j])), problem, ledger))
    return f"all {len(plan)} stages done", {"stages": record}


def _stage_record(name: str, pass_: int, genes: Sequence[str], method: str, genome: np.ndarray, ev: Evaluation,
                  problem: WorkloadSetProblem, ledger: Ledger) -> dict:
    design = problem.space.decode(genome[None, :]).iloc[0]
    return {"stage": name, "pass": pass_, "genes": list(genes), "method": method,
            "best_edap": float(ev.edap[0]), "feasible": bool(ev.feasible[0]),
            "cv": float(np.maximum(ev.G[0], 0).sum()), "evaluations": ledger.spent,
            "design": _design(design)}
