"""The outcome of one search run: the archive of the designs it evaluated, its per-generation history, its best
design and Pareto front."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from pymoo.core.callback import Callback
from pymoo.core.result import Result

from ..export import best_row, pareto_front
from ..problem import WorkloadSetProblem

HISTORY_COLUMNS = ("generation", "phase", "evaluations", "best_edap", "feasible_fraction")


class HistoryCallback(Callback):
    """Records one row per generation of a run on ``problem`` (a pymoo callback).

    Row keys (:data:`HISTORY_COLUMNS`): ``generation`` (pymoo's n_gen, 1 = initial population), ``phase`` (the
    algorithm's ``phase_label`` attribute if it has one, e.g. :class:`~imc_moo.algorithms.phased_ga.PhasedGA`,
    else ""), ``evaluations`` (distinct designs evaluated so far in the run), ``best_edap`` (least aggregated EDAP
    [mJ*ms*mm2] of the feasible designs evaluated so far, NaN until one is feasible) and ``feasible_fraction`` (of
    the algorithm's population after that generation).

    Args:
        problem: the workload-set problem whose archive the run fills (the one the algorithm evaluates, or the
            base of a :class:`~imc_moo.algorithms.scalarize.ScalarizedProblem`).
        start: archive size when the run started; only later designs count.
        progress: optional callable fed each row as a dict (e.g. :class:`imc_moo.progress.Progress`).
    """

    def __init__(self, problem: WorkloadSetProblem, start: int = 0,
                 progress: Callable[[Mapping], None] | None = None):
        super().__init__()
        self.problem = problem
        self.start = int(start)
        self.progress = progress
        self.rows: list[dict] = []
        self._scanned = self.start
        self._best = np.inf

    def notify(self, algorithm) -> None:
        n = self.problem.n_evaluated
        if n > self._scanned:
            ev = self.problem.archive.results
            feasible = (ev.G[self._scanned:n] <= 0).all(axis=1)
            if feasible.any():
                self._best = min(self._best, float(ev.edap[self._scanned:n][feasible].min()))
            self._scanned = n
        pop = algorithm.pop
        cv = np.asarray(pop.get("CV"), dtype=float).ravel() if pop is not None and len(pop) else np.empty(0)
        row = {
            "generation": int(algorithm.n_gen),
            "phase": getattr(algorithm, "phase_label", ""),
            "evaluations": n - self.start,
            "best_edap": self._best if np.isfinite(self._best) else np.nan,
            "feasible_fraction": float((cv <= 0).mean()) if len(cv) else np.nan,
        }
        self.rows.append(row)
        if self.progress is not None:
            self.progress(row)

    def frame(self) -> pd.DataFrame:
        """The history as a DataFrame with :data:`HISTORY_COLUMNS`."""
        return pd.DataFrame(self.rows, columns=list(HISTORY_COLUMNS))


def run_archive(problem: WorkloadSetProblem, start: int = 0) -> pd.DataFrame:
    """``problem.archive.frame(problem)`` restricted to the designs evaluated after the first ``start``;
    ``eval_order`` counts from 0 at the run's first design."""
    frame = problem.archive.frame(problem)
    if frame.empty:
        return frame
    frame = frame.iloc[start:].reset_index(drop=True)
    frame["eval_order"] -= start
    return frame


@dataclass
class RunResult:
    """One search run.

    Attributes:
        algorithm: registry name of the algorithm.
        problem: the workload-set problem searched.
        seed: the run's seed.
        budget: distinct-evaluation budget.
        evaluations: distinct designs the run evaluated (= ``len(archive)``; for the multi-search baselines of
            :mod:`.baselines`, the distinct model evaluations of all their searches, single-workload ones included).
        archive: every distinct design of the run evaluated on the set problem, in evaluation order
            (:func:`run_archive`: decoded design, ``energy_j`` [J], ``latency_s`` [s], ``area_mm2``, ``edap``
            [mJ*ms*mm2], ``feasible``, ``cv``, per-workload columns, ``eval_order``).
        history: one row per generation (:data:`HISTORY_COLUMNS`).
        wall_time_s: wall-clock time of the search [s].
        pymoo_result: pymoo's ``Result`` (None for runs not driven by a single ``minimize``).
        extra: run-specific payload merged into ``best.json`` (plain Python values; e.g. a baseline's
            per-workload references or stages), empty by default.
    """

    algorithm: str
    problem: WorkloadSetProblem
    seed: int
    budget: int
    evaluations: int
    archive: pd.DataFrame
    history: pd.DataFrame
    wall_time_s: float
    pymoo_result: Result | None = None
    extra: dict = field(default_factory=dict)

    @property
    def best(self) -> pd.Series:
        """The feasible archive row of least ``edap``; if none is feasible, the row of least ``cv``."""
        if self.archive.empty:
            raise ValueError(f"run {self.algorithm!r} evaluated no design")
        return best_row(self.archive)

    def pareto(self) -> pd.DataFrame:
        """Feasible, mutually non-dominated archive rows in (energy_j, latency_s, area_mm2), sorted by ``edap``.
        Designs with identical objective vectors are kept once (the first evaluated)."""
        return self.archive if self.archive.empty else pareto_front(self.archive)
