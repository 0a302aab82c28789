"""The exact optimum and Pareto front of a (sub-)space by exhaustive enumeration: the yardstick for every optimizer.

:func:`exhaustive` streams every genome of a problem's design space (or of a sub-space) through
:meth:`WorkloadSetProblem.evaluate_genomes` in chunks of bounded size and keeps

* the feasible design of least aggregated EDAP (:attr:`Evaluation.edap`, mJ*ms*mm2), and
* the exact Pareto front of (aggregated energy [J], aggregated latency [s], area [mm2]) over feasible designs,
  whatever the problem's own ``objectives``.

Enumeration. The genes other than ``base_latency_s`` ("outer" genes) are enumerated by a flat index in C order
(last outer gene fastest), ``base_latency_s`` innermost of all. Chunk i covers outer flat indices
[i*c, (i+1)*c) with c = chunk_size // n_base, i.e. c*n_base <= chunk_size designs (n_base = number of base
latencies enumerated, 1 when the gene is fixed). Ties are broken independently of that order: the optimum is the
lexicographically smallest genome of least EDAP, and a front point shared by several designs (identical objective
vectors) is kept once, with its lexicographically smallest genome.

Two exact shortcuts, each giving bitwise the results of evaluating every genome with the problem itself:

* base-latency expansion (``expand_base_latency``): energy, area and constraints do not depend on
  ``base_latency_s`` and each workload's latency is cycles x base latency. The outer designs are evaluated once
  on a copy of the problem whose base latency is 1 s (so latency = cycles exactly), and each base latency b gives
  latency = cycles * b, the same float product the cost model forms; aggregation and EDAP then follow the problem's
  formulas (:func:`imc_moo.problem.aggregate`, energy x latency x area x :data:`EDAP_SCALE`).
* constraint pruning (``prune``): the chip-area constraint and (with weights on chip) the per-workload capacity
  constraints need no layer mapping; designs violating them are infeasible whatever the rest, so only the others
  go through the cost model. On the RRAM cnn4 space this skips ~99.7 % of the designs.

``tests/algorithms/test_exhaustive.py`` checks both against brute force, and every chunk audits a few of its designs
(spread over the chunk and over its feasible designs) against ``problem.evaluate_genomes``, raising
:class:`ExhaustiveError` on any difference, so a change of the problem's formulas cannot silently skew the yardstick.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import moocore
import numpy as np
import pandas as pd

from imc_moo.model.api import EDAP_SCALE

if TYPE_CHECKING:  # the problem calls this module for its exact front (WorkloadSetProblem.pareto_front)
    from imc_moo.problem.workload_set import Evaluation, WorkloadSetProblem

BASE_LATENCY = "base_latency_s"
#: Designs per chunk audited against ``problem.evaluate_genomes``: this many spread over the chunk, as many over
#: its feasible designs.
AUDIT_ROWS = 8


class ExhaustiveError(RuntimeError):
    """The fast path disagrees with ``problem.evaluate_genomes``: an exactness assumption no longer holds."""


@dataclass(frozen=True)
class ExhaustiveProgress:
    """State after one chunk, passed to the ``progress`` callback.

    Attributes:
        chunk, n_chunks: index of the chunk just done (0-based) and the number of chunks.
        designs_done, n_designs: designs enumerated so far and in all.
        rows: designs in this chunk: the most rows of any array built for it (<= ``chunk_size``).
        model_evals: designs of this chunk run through the cost model (after pruning; once per outer design when
            expanding over base latency).
        best_edap: least feasible EDAP so far [mJ*ms*mm2] (inf if none).
        front_size: points on the running Pareto front.
        elapsed_s: wall time since the start [s].
    """

    chunk: int
    n_chunks: int
    designs_done: int
    n_designs: int
    rows: int
    model_evals: int
    best_edap: float
    front_size: int
    elapsed_s: float


@dataclass
class ExhaustiveResult:
    """Exact optimum and front of an enumerated space.

    Attributes:
        best_genome: (n_var,) genome of least feasible aggregated EDAP, None if no design is feasible.
        best_edap: its EDAP [mJ*ms*mm2] (inf if none).
        best_design: its decoded design (:meth:`DesignSpace.decode` row), None if none.
        front_genomes: (m, n_var) genomes of the Pareto front, sorted by ``front_F`` rows.
        front_F: (m, 3) aggregated energy [J], aggregated latency [s], area [mm2] of the front, sorted
            lexicographically, no duplicate rows.
        n_designs: designs enumerated (the space's or sub-space's size).
        n_feasible: feasible designs among them.
        n_model_evals: designs run through the cost model (the rest were settled by the exact shortcuts).
        wall_time_s: total wall time [s]; designs_per_s: n_designs / wall_time_s.
    """

    best_genome: np.ndarray | None
    best_edap: float
    best_design: pd.Series | None
    front_genomes: np.ndarray
    front_F: np.ndarray
    n_designs: int
    n_feasible: int
    n_model_evals: int
    wall_time_s: float
    designs_per_s: float

    def front_frame(self, problem: WorkloadSetProblem) -> pd.DataFrame:
        """The front as :meth:`WorkloadSetProblem.results_frame` rows (re-evaluated), plus a boolean ``optimum``
        column marking the least-EDAP design (always on the front: anything dominating it has a smaller product)."""
        df = problem.results_frame(self.front_genomes, problem.evaluate_genomes(self.front_genomes))
        best = np.zeros(len(df), dtype=bool) if self.best_genome is None else \
            (self.front_genomes == self.best_genome).all(axis=1)
        return df.assign(optimum=best)


@dataclass(frozen=True)
class _Plan:
    """What to enumerate: ``axes[j]`` the value indices of gene j, ``base`` the base-latency gene (None if fixed),
    ``outer`` the other genes in enumeration order, ``per_chunk`` outer designs per chunk."""

    axes: tuple[np.ndarray, ...]
    base: int | None
    outer: tuple[int, ...]
    per_chunk: int

    @property
    def n_base(self) -> int:
        return 1 if self.base is None else len(self.axes[self.base])

    @property
    def n_outer(self) -> int:
        return int(np.prod([len(self.axes[j]) for j in self.outer], dtype=np.int64))

    @property
    def n_chunks(self) -> int:
        return -(-self.n_outer // self.per_chunk)

    def outer_genomes(self, chunk: int) -> np.ndarray:
        """Genomes (c, n_var) of the chunk's outer designs, base-latency gene at its first enumerated index."""
        flat = np.arange(chunk * self.per_chunk, min(self.n_outer, (chunk + 1) * self.per_chunk), dtype=np.int64)
        genomes = np.empty((len(flat), len(self.axes)), dtype=np.int64)
        local = np.unravel_index(flat, [len(self.axes[j]) for j in self.outer])
        for j, idx in zip(self.outer, local):
            genomes[:, j] = self.axes[j][idx]
        if self.base is not None:
            genomes[:, self.base] = self.axes[self.base][0]
        return genomes

    def full_genomes(self, outer: np.ndarray) -> np.ndarray:
        """Every design of outer genomes (c, n_var): (c * n_base, n_var), base latency innermost."""
        full = np.repeat(outer, self.n_base, axis=0)
        if self.base is not None:
            full[:, self.base] = np.tile(self.axes[self.base], len(outer))
        return full


@dataclass
class _Scores:
    """Per-design results of one chunk: genomes (r, n_var), feasible (r,), edap (r,) and eda (r, 3), the latter two
    inf where infeasible; ``model_evals`` designs went through the cost model."""

    genomes: np.ndarray
    feasible: np.ndarray
    edap: np.ndarray
    eda: np.ndarray
    model_evals: int


def exhaustive(problem: WorkloadSetProblem, chunk_size: int = 50_000, subspace: dict[str, list] | None = None,
               progress: Callable[[ExhaustiveProgress], None] | None = None, *, expand_base_latency: bool = True,
               prune: bool = True) -> ExhaustiveResult:
    """Evaluate every design of ``problem``'s space (or ``subspace``) and return the exact optimum and front.

    Args:
        problem: the workload-set problem (a pure function: nothing of it changes).
        chunk_size: most designs held at once (every per-design array has at most this many rows); must be at
            least the number of base latencies enumerated.
        subspace: gene name -> value indices to enumerate for that gene (genes not named: all values).
        progress: called with an :class:`ExhaustiveProgress` after every chunk.
        expand_base_latency: the base-latency expansion of the module docstring (off: every base latency evaluated).
        prune: the constraint pruning of the module docstring (off: every design through the cost model).
    """
    start = time.perf_counter()
    plan = _plan(problem, chunk_size, subspace)
    # latency = cycles x clock period unless a switching time is amortised into it (imc_moo.problem.deployment)
    proportional = problem.latency_proportional_to_base_latency
    unit = (_unit_base_latency_problem(problem) if expand_base_latency and plan.base is not None and proportional
            else None)
    n_var = problem.space.n_var
    best_genome: np.ndarray | None = None
    best_edap = np.inf
    front_G, front_F = np.empty((0, n_var), dtype=np.int64), np.empty((0, 3))
    n_feasible = n_model_evals = done = 0
    for chunk in range(plan.n_chunks):
        sc = _score_chunk(problem, unit, plan, plan.outer_genomes(chunk), prune)
        _audit(problem, sc)
        feasible = np.flatnonzero(sc.feasible)
        n_feasible += len(feasible)
        n_model_evals += sc.model_evals
        done += len(sc.genomes)
        if len(feasible):
            g, e = _lex_min_of_least(sc.genomes[feasible], sc.edap[feasible])
            if best_genome is None or e < best_edap or (e == best_edap and tuple(g) < tuple(best_genome)):
                best_genome, best_edap = g, e
            front_G, front_F = _merge_front(front_G, front_F, sc.genomes[feasible], sc.eda[feasible])
        if progress is not None:
            progress(ExhaustiveProgress(chunk=chunk, n_chunks=plan.n_chunks, designs_done=done,
                                        n_designs=plan.n_outer * plan.n_base, rows=len(sc.genomes),
                                        model_evals=sc.model_evals, best_edap=float(best_edap),
                                        front_size=len(front_F), elapsed_s=time.perf_counter() - start))
    wall = time.perf_counter() - start
    best_design = None if best_genome is None else problem.space.decode(best_genome[None, :]).astype(object).iloc[0]
    return ExhaustiveResult(best_genome=best_genome, best_edap=float(best_edap), best_design=best_design,
                            front_genomes=front_G, front_F=front_F, n_designs=done, n_feasible=n_feasible,
                            n_model_evals=n_model_evals, wall_time_s=wall, designs_per_s=done / wall)


def _plan(problem: WorkloadSetProblem, chunk_size: int, subspace: dict[str, list] | None) -> _Plan:
    """Check the arguments and lay out the enumeration; raises ValueError naming the bad gene or size."""
    space = problem.space
    subspace = dict(subspace or {})
    unknown = set(subspace) - set(space.names)
    if unknown:
        raise ValueError(f"subspace names unknown genes {sorted(unknown)}: use genes of {list(space.names)}")
    axes = []
    for name, card in zip(space.names, space.cardinalities):
        idx = np.asarray(subspace.get(name, range(card)), dtype=np.int64)
        if idx.ndim != 1 or len(idx) == 0 or len(np.unique(idx)) != len(idx) or idx.min() < 0 or idx.max() >= card:
            raise ValueError(f"subspace[{name!r}] must be distinct value indices in 0..{card - 1}, got {idx.tolist()}")
        axes.append(np.sort(idx))
    base = space.names.index(BASE_LATENCY) if BASE_LATENCY in space.names else None
    n_base = 1 if base is None else len(axes[base])
    if int(chunk_size) < n_base:
        raise ValueError(f"chunk_size={chunk_size} is below the {n_base} base latencies enumerated per design: "
                         f"use chunk_size >= {n_base}")
    outer = tuple(j for j in range(space.n_var) if j != base)
    return _Plan(axes=tuple(axes), base=base, outer=outer, per_chunk=int(chunk_size) // n_base)


def _unit_base_latency_problem(problem: WorkloadSetProblem) -> WorkloadSetProblem:
    """A shallow copy of ``problem`` whose only base latency is 1 s, so its latencies are the cycle counts."""
    unit = copy.copy(problem)
    unit.space = replace(problem.space, values={**problem.space.values, BASE_LATENCY: (1.0,)},
                         name=f"{problem.space.name}@base_latency=1s")
    return unit


def _design_feasible(problem: WorkloadSetProblem, genomes: np.ndarray) -> np.ndarray:
    """(n,) bool: the design-only constraints of ``problem`` (area, and capacity with weights on chip) hold,
    computed as :meth:`WorkloadSetProblem.evaluate_genomes` computes them."""
    return np.asarray((problem.design_constraints(problem.designs(genomes)) <= 0).all(axis=1))


def _eda(ev: Evaluation, problem: WorkloadSetProblem) -> np.ndarray:
    """(n, 3) aggregated energy [J], aggregated latency [s] and area [mm2] (the problem's aggregation and shares)."""
    return np.column_stack([problem.aggregate(ev.energy_j), problem.aggregate(ev.latency_s), ev.area_mm2])


def _score_chunk(problem: WorkloadSetProblem, unit: WorkloadSetProblem | None, plan: _Plan, outer: np.ndarray,
                 prune: bool) -> _Scores:
    """Feasibility, EDAP and the three objectives of every design of a chunk's outer genomes (c, n_var)."""
    n_base = plan.n_base
    full = plan.full_genomes(outer)
    keep = _design_feasible(problem, outer) if prune else np.ones(len(outer), dtype=bool)
    rows = (np.flatnonzero(keep)[:, None] * n_base + np.arange(n_base)).ravel()
    if unit is None:
        ev = problem.evaluate_genomes(full[rows])
        feasible, edap, eda, model_evals = ev.feasible, ev.edap, _eda(ev, problem), len(rows)
    else:
        assert plan.base is not None  # expanding over base latencies needs the gene
        genomes = outer[keep]
        genomes[:, plan.base] = 0
        ev = unit.evaluate_genomes(genomes)
        base_s = np.asarray(problem.space.values[BASE_LATENCY], dtype=float)[plan.axes[plan.base]]
        cycles = ev.latency_s  # (m, W): latency at a base latency of 1 s
        latency = (cycles[:, None, :] * base_s[None, :, None]).reshape(-1, cycles.shape[1])
        eda = np.column_stack([np.repeat(problem.aggregate(ev.energy_j), n_base), problem.aggregate(latency),
                               np.repeat(ev.area_mm2, n_base)])
        feasible = np.repeat(ev.feasible, n_base)
        edap = eda[:, 0] * eda[:, 1] * eda[:, 2] * EDAP_SCALE
        model_evals = len(genomes)
    out = _Scores(genomes=full, feasible=np.zeros(len(full), dtype=bool), edap=np.full(len(full), np.inf),
                  eda=np.full((len(full), 3), np.inf), model_evals=model_evals)
    out.feasible[rows] = feasible
    out.edap[rows[feasible]] = edap[feasible]
    out.eda[rows[feasible]] = eda[feasible]
    return out


def _spread(n: int, k: int) -> np.ndarray:
    """Up to k distinct indices spread evenly over range(n)."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).astype(np.int64))


def _audit(problem: WorkloadSetProblem, sc: _Scores) -> None:
    """Re-evaluate a few designs of the chunk with ``problem.evaluate_genomes``; raise on any difference."""
    feasible = np.flatnonzero(sc.feasible)
    pick = np.union1d(_spread(len(sc.genomes), AUDIT_ROWS), feasible[_spread(len(feasible), AUDIT_ROWS)])
    ev = problem.evaluate_genomes(sc.genomes[pick])
    f = ev.feasible
    same = (np.array_equal(f, sc.feasible[pick]) and np.array_equal(ev.edap[f], sc.edap[pick][f])
            and np.array_equal(_eda(ev, problem)[f], sc.eda[pick][f]))
    if not same:
        raise ExhaustiveError(
            "exhaustive search's shortcuts disagree with problem.evaluate_genomes on genomes "
            f"{sc.genomes[pick].tolist()}: rerun with expand_base_latency=False, prune=False and fix "
            "imc_moo/problem/exhaustive.py to follow the problem's formulas")


def _lex_min_of_least(genomes: np.ndarray, edap: np.ndarray) -> tuple[np.ndarray, float]:
    """The lexicographically smallest genome among those (n, n_var) of least ``edap`` (n,), and that EDAP."""
    tied = genomes[edap == edap.min()]
    return tied[np.lexsort(tied.T[::-1])[0]], float(edap.min())


def _merge_front(front_G: np.ndarray, front_F: np.ndarray, G: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pareto front of the running front (m, n_var), (m, 3) and new feasible points (k, n_var), (k, 3).

    Returns genomes and objectives sorted lexicographically by objectives, one row per distinct objective vector
    (the lexicographically smallest genome among designs sharing it)."""
    nd = moocore.is_nondominated(F, keep_weakly=True)
    G, F = np.vstack([front_G, G[nd]]), np.vstack([front_F, F[nd]])
    order = np.lexsort(tuple(G.T[::-1]) + tuple(F.T[::-1]))
    G, F = G[order], F[order]
    first = np.r_[True, (F[1:] != F[:-1]).any(axis=1)]
    G, F = G[first], F[first]
    nd = moocore.is_nondominated(F, keep_weakly=True)
    return G[nd], F[nd]
