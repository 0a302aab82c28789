"""The outcome of one search run: the archive of the designs it evaluated, its per-generation history, its best
design, Pareto front and why it stopped."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pymoo.core.callback import Callback
from pymoo.core.result import Result

from imc_moo.algorithms.ledger import Ledger
from imc_moo.problem.indicators import best_row, pareto_front
from imc_moo.problem.workload_set import WorkloadSetProblem

HISTORY_COLUMNS = ("generation", "phase", "evaluations", "best_edap", "feasible_fraction")
#: ``phase`` of a generation of a search without phases (NSGA-II, NSGA-III, GA, random search): a token, so the
#: column is text for every algorithm.
NO_PHASE = "none"


class RunHistory:
    """One row per generation of a run (:data:`HISTORY_COLUMNS`), read off the run's root ledger.

    Row keys: ``generation`` (pymoo's n_gen for a single search, 1 = initial population; a run-wide counter for
    runs made of several searches), ``phase`` (text: the phased GA's phase, a baseline's workload or stage,
    :data:`NO_PHASE` for a search without phases),
    ``evaluations`` (distinct designs the whole run has evaluated so far), ``best_edap`` (least aggregated EDAP
    [mJ*ms*mm2] of the feasible designs in the root ledger's cache so far, NaN until one is feasible) and
    ``feasible_fraction`` (of the algorithm's population after that generation).

    Args:
        ledger: the run's root ledger.
        progress: optional callable fed each row as a dict (e.g. :class:`imc_moo.app.progress.Progress`).
    """

    def __init__(self, ledger: Ledger, progress: Callable[[Mapping], None] | None = None):
        self.ledger = ledger.root
        self.progress = progress
        self.rows: list[dict] = []

    def record(self, phase: str | None, feasible_fraction: float, generation: int | None = None) -> None:
        phase = str(phase) if phase not in (None, "") else NO_PHASE
        row = {"generation": len(self.rows) + 1 if generation is None else int(generation), "phase": phase,
               "evaluations": self.ledger.spent, "best_edap": self.ledger.best_edap,
               "feasible_fraction": float(feasible_fraction)}
        self.rows.append(row)
        if self.progress is not None:
            self.progress(row)

    def frame(self) -> pd.DataFrame:
        """The history as a DataFrame with :data:`HISTORY_COLUMNS`."""
        return pd.DataFrame(self.rows, columns=list(HISTORY_COLUMNS))


class HistoryCallback(Callback):
    """A pymoo callback recording one :class:`RunHistory` row per generation.

    Args:
        history: the run's history.
        phase: a fixed phase label (a baseline's sub-search; generations then count run-wide); None = the
            algorithm's ``phase_label`` attribute if it has one (e.g.
            :class:`~imc_moo.algorithms.phased_ga.PhasedGA`), else :data:`NO_PHASE`, with pymoo's n_gen as the
            generation.
    """

    def __init__(self, history: RunHistory, phase: str | None = None):
        super().__init__()
        self.history = history
        self.phase = phase

    def notify(self, algorithm) -> None:
        pop = algorithm.pop
        cv = np.asarray(pop.get("CV"), dtype=float).ravel() if pop is not None and len(pop) else np.empty(0)
        fraction = float((cv <= 0).mean()) if len(cv) else np.nan
        if self.phase is None:
            self.history.record(getattr(algorithm, "phase_label", ""), fraction, int(algorithm.n_gen))
        else:
            self.history.record(self.phase, fraction)


@dataclass
class RunResult:
    """One search run.

    Attributes:
        algorithm: name of the algorithm.
        problem: the workload-set problem searched.
        seed: the run's seed.
        budget: the hard cap on distinct designs evaluated.
        evaluations: distinct designs the run evaluated (its ledger's ``spent``; for the multi-search baselines of
            :mod:`.baselines`, the designs of all their searches, single-workload ones included).
        archive: every distinct design of the run evaluated on ``problem``, in evaluation order
            (:meth:`Ledger.frame`: decoded design, ``energy_j`` [J], ``latency_s`` [s], ``area_mm2``, ``edap``
            [mJ*ms*mm2], ``feasible``, ``cv``, per-workload columns, ``eval_order``).
        history: one row per generation (:data:`HISTORY_COLUMNS`).
        wall_time_s: wall-clock time of the search [s].
        stop_reason: why the run stopped (e.g. "budget of 3,300 designs reached").
        ledger: the run's ledger (its cache holds the genomes of ``archive``).
        pymoo_result: pymoo's ``Result`` (None for runs not driven by a single pymoo algorithm).
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
    stop_reason: str
    ledger: Ledger
    pymoo_result: Result | None = None
    extra: dict = field(default_factory=dict)

    @property
    def best(self) -> pd.Series:
        """The feasible archive row of least ``edap``; if none is feasible, the row of least ``cv``."""
        if self.archive.empty:
            raise ValueError(f"run {self.algorithm!r} evaluated no design")
        return best_row(self.archive)

    def best_genome(self) -> np.ndarray:
        """The genome (n_var,) of :attr:`best`."""
        return self.ledger.store.genomes[int(self.best.name)]

    def pareto(self) -> pd.DataFrame:
        """Feasible, mutually non-dominated archive rows in (energy_j, latency_s, area_mm2), sorted by ``edap``."""
        return self.archive if self.archive.empty else pareto_front(self.archive)
