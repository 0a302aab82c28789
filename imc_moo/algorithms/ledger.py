"""A run's evaluations in one place: the ledger, plugged into pymoo as the algorithm's ``Evaluator``.

pymoo keeps its ``Problem`` a pure function and does the bookkeeping in its ``Evaluator`` (passed to every
``Algorithm``); imc-moo does the same. A :class:`Ledger` holds, for one run:

* the cache of every distinct design evaluated (keyed by the genome's int64 key), in evaluation order, so a design
  proposed again costs nothing and is not counted;
* the distinct count (``spent``) and an optional hard cap: :meth:`Ledger.admit` clips a batch to the room left,
  so a run never evaluates more than its budget;
* the run-wide evaluation order of every design (``eval_order``) and the best feasible EDAP so far;
* why the run stopped (``stop_reason``).

A sub-search (a baseline's single-workload search or stage) runs on a :meth:`child <Ledger.child>` ledger with its
own cap: every design it evaluates also counts against its ancestors' caps and in their ``spent``, so the root
ledger's ``spent`` is the run's total. A child either shares its parent's cache (a search over a view of the same
problem, e.g. a sub-space) or keeps its own (another problem, e.g. one workload of the set).

Problems evaluated through a ledger may offer ``genomes_of(X)``, ``genome_keys(genomes)``,
``evaluate_genomes(genomes)`` and ``outputs(record)`` (:class:`~imc_moo.problem.WorkloadSetProblem` does); any
other pymoo problem with integer bounds works through its own ``evaluate``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pymoo.core.evaluator import Evaluator
from pymoo.core.population import Population
from pymoo.core.termination import Termination

from imc_moo.problem.space import GenomeKeys

#: A stop asked for by a signal (Ctrl-C, SIGTERM; see :func:`request_stop`), raised at the next batch.
_requested_stop: type[BaseException] | None = None


def request_stop(exception: type[BaseException]) -> None:
    """Ask the running search to stop: ``exception`` is raised when the next batch reaches a ledger, where the
    cache, the counts and the history are whole (a signal raising wherever it lands could cut a batch in half).
    A second request while one is pending raises at once (Ctrl-C twice stops even a stalled search)."""
    global _requested_stop
    if _requested_stop is not None:
        _requested_stop = None
        raise exception()
    _requested_stop = exception


def clear_requested_stop() -> None:
    global _requested_stop
    _requested_stop = None


def raise_requested_stop() -> None:
    """Raise the stop :func:`request_stop` recorded, if any."""
    global _requested_stop
    if _requested_stop is not None:
        exception, _requested_stop = _requested_stop, None
        raise exception()

class BudgetExceeded(RuntimeError):
    """More new designs were asked for than the ledger's cap leaves room for."""


class _PlainProblem:
    """The ledger protocol for any pymoo problem with integer bounds: records are its ``evaluate`` outputs."""

    def __init__(self, problem):
        self.problem = problem
        self.genome_keys = GenomeKeys(*problem.bounds())

    def genomes_of(self, X: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(X, dtype=float)).astype(np.int64)

    def evaluate_genomes(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        out = self.problem.evaluate(genomes, return_as_dictionary=True)
        return {k: np.asarray(v) for k, v in out.items() if v is not None}

    def outputs(self, record: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(record)


def _protocol(problem):
    """``problem`` itself when it speaks the ledger protocol, else a :class:`_PlainProblem` adapter."""
    needed = ("genomes_of", "genome_keys", "evaluate_genomes", "outputs")
    if all(hasattr(problem, name) for name in needed):
        return problem
    adapter = getattr(problem, "_ledger_protocol", None)
    if adapter is None:
        adapter = _PlainProblem(problem)
        try:
            problem._ledger_protocol = adapter
        except AttributeError:  # pragma: no cover - objects without a __dict__
            pass
    return adapter


def _fields(record: Any) -> dict[str, np.ndarray]:
    return dict(vars(record)) if dataclasses.is_dataclass(record) else dict(record)


class Store:
    """The distinct designs evaluated on one problem, in evaluation order.

    Attributes:
        index: genome key -> row.
        problem: the problem (ledger protocol) that evaluated the first design; builds the archive table.
    """

    def __init__(self):
        self.index: dict[int, int] = {}
        self.problem = None
        self._record_type = None
        self._genomes: list[np.ndarray] = []
        self._records: list[dict[str, np.ndarray]] = []
        self._order: list[np.ndarray] = []
        self._joined: tuple | None = None
        self.best_edap = np.inf

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: np.ndarray, genomes: np.ndarray, record: Any, order: np.ndarray) -> None:
        start = len(self.index)
        self.index.update((int(k), start + i) for i, k in enumerate(keys.tolist()))
        if self._record_type is None:
            self._record_type = type(record) if dataclasses.is_dataclass(record) else dict
        fields = _fields(record)
        self._genomes.append(genomes)
        self._records.append(fields)
        self._order.append(np.asarray(order, dtype=np.int64))
        self._joined = None
        if "G" in fields and "edap" in fields:
            feasible = (fields["G"] <= 0).all(axis=1)
            if feasible.any():
                self.best_edap = min(self.best_edap, float(fields["edap"][feasible].min()))

    def _join(self) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        if self._joined is None:
            if len(self._genomes) > 1:
                self._genomes = [np.concatenate(self._genomes)]
                self._records = [{k: np.concatenate([r[k] for r in self._records]) for k in self._records[0]}]
                self._order = [np.concatenate(self._order)]
            self._joined = (self._genomes[0], self._records[0], self._order[0])
        return self._joined

    @property
    def genomes(self) -> np.ndarray:
        """(m, n_var) int64 genomes in evaluation order."""
        return self._join()[0] if self.index else np.empty((0, 0), dtype=np.int64)

    @property
    def eval_order(self) -> np.ndarray:
        """(m,) run-wide evaluation index of every design (counting the designs of other stores of the run)."""
        return self._join()[2] if self.index else np.empty(0, dtype=np.int64)

    def records(self, rows: np.ndarray | slice | None = None):
        """The stored records of ``rows`` (default: all), as the type the problem returned."""
        fields = self._join()[1]
        picked = fields if rows is None else {k: v[rows] for k, v in fields.items()}
        return picked if self._record_type is dict else self._record_type(**picked)

    def rows(self, keys: np.ndarray) -> np.ndarray:
        index = self.index
        return np.fromiter((index[k] for k in keys.tolist()), dtype=np.int64, count=len(keys))


class Ledger(Evaluator):
    """The evaluations of one run or sub-search (see the module docstring).

    Args:
        cap: hard cap on distinct designs evaluated through this ledger (and its children); None = no cap.
        parent: the ledger of the enclosing run, which also counts this ledger's designs against its cap.
        label: names the ledger in messages (e.g. the baseline's stage or workload).
        store: the cache to record into (a child sharing its parent's cache); default a new one.

    Attributes:
        spent: distinct designs evaluated through this ledger and its children.
        stop_reason: why the search on this ledger stopped, once known (set by :meth:`admit` when the cap clips a
            batch, or by the runner).
        n_eval: pymoo's counter, here the distinct designs this ledger evaluated itself.
        revisits: designs asked for again (read from the cache, not counted).
        children: the sub-search ledgers made by :meth:`child`, in order.
    """

    def __init__(self, cap: int | None = None, parent: Ledger | None = None, label: str = "run",
                 store: Store | None = None):
        super().__init__()
        if cap is not None and (isinstance(cap, bool) or int(cap) != cap or cap < 0):
            raise ValueError(f"a ledger's cap must be a non-negative number of designs, got {cap!r}")
        self.cap = None if cap is None else int(cap)
        self.parent = parent
        self.label = label
        self.store = store if store is not None else Store()
        self.spent = 0
        self.revisits = 0
        self.stop_reason: str | None = None
        self.children: list[Ledger] = []

    # -- structure -------------------------------------------------------------------------------------------
    def child(self, cap: int | None = None, label: str = "", share_cache: bool = False) -> Ledger:
        """A ledger for a sub-search, capped at ``cap`` (and by this ledger's room); with ``share_cache`` it
        records into this ledger's cache (same problem or a view of it), else into its own."""
        child = Ledger(cap, parent=self, label=label or self.label, store=self.store if share_cache else None)
        self.children.append(child)
        return child

    @property
    def root(self) -> Ledger:
        ledger = self
        while ledger.parent is not None:
            ledger = ledger.parent
        return ledger

    @property
    def room(self) -> int | None:
        """New designs this ledger may still evaluate (the tightest cap of it and its ancestors), None = no cap."""
        rooms = []
        ledger = self
        while ledger is not None:
            if ledger.cap is not None:
                rooms.append(ledger.cap - ledger.spent)
            ledger = ledger.parent
        return max(0, min(rooms)) if rooms else None

    @property
    def full(self) -> bool:
        return self.room == 0

    @property
    def best_edap(self) -> float:
        """Least aggregated EDAP of the feasible designs in this ledger's cache (NaN before the first one)."""
        best = self.store.best_edap
        return best if np.isfinite(best) else np.nan

    # -- evaluation ------------------------------------------------------------------------------------------
    def _keys(self, problem, X: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
        proto = _protocol(problem)
        genomes = proto.genomes_of(X)
        return proto, genomes, np.asarray(proto.genome_keys(genomes), dtype=np.int64)

    def known(self, problem, X: np.ndarray) -> np.ndarray:
        """(n,) bool: which decision vectors X (n, n_var) of ``problem`` are already in the cache."""
        if len(X) == 0:
            return np.zeros(0, dtype=bool)
        _, _, keys = self._keys(problem, X)
        index = self.store.index
        return np.fromiter((k in index for k in keys.tolist()), dtype=bool, count=len(keys))

    def _new(self, keys: np.ndarray) -> np.ndarray:
        """Positions of the first occurrence of every key not yet cached, in order of appearance."""
        index = self.store.index
        seen: set[int] = set()
        new = []
        for i, k in enumerate(keys.tolist()):
            if k not in index and k not in seen:
                seen.add(k)
                new.append(i)
        return np.asarray(new, dtype=np.int64)

    def evaluate(self, problem, X: np.ndarray):
        """Records (the problem's evaluation type, e.g. :class:`~imc_moo.problem.Evaluation`) for every row of
        X (n, n_var): cached designs are read, new ones evaluated (first occurrences, in order) and counted.

        Raises:
            BudgetExceeded: X holds more new designs than :attr:`room`; nothing is evaluated then.
        """
        proto, genomes, keys = self._keys(problem, np.atleast_2d(X))
        new = self._new(keys)
        self.revisits += len(keys) - len(new)
        if len(new):
            room = self.room
            if room is not None and len(new) > room:
                raise BudgetExceeded(f"{self.label}: {len(new)} new designs asked for, room for {room} "
                                     f"(cap {self.cap}, {self.spent} spent)")
            record = proto.evaluate_genomes(genomes[new])
            root = self.root
            store = self.store
            if store.problem is None:
                store.problem = proto
            store.add(keys[new], genomes[new], record, root.spent + np.arange(len(new)))
            self._charge(len(new))
        return self.store.records(self.store.rows(keys))

    def _charge(self, n: int) -> None:
        self.n_eval += n
        ledger = self
        while ledger is not None:
            ledger.spent += n
            ledger = ledger.parent

    def admit(self, problem, pop: Population) -> Population:
        """The individuals of ``pop`` that fit: cached designs and the first new ones up to :attr:`room`
        (duplicates of an admitted design too). When the cap clips the batch, :attr:`stop_reason` says so."""
        room = self.room
        if room is None or len(pop) == 0:
            return pop
        _, _, keys = self._keys(problem, pop.get("X"))
        new = self._new(keys)
        if len(new) <= room:
            return pop
        allowed = set(keys[new[:room]].tolist())
        index = self.store.index
        keep = np.fromiter((k in index or k in allowed for k in keys.tolist()), dtype=bool, count=len(keys))
        self.note_cap()
        return pop[keep]

    def note_cap(self) -> None:
        """Record that the cap ended the search (unless a reason is already known)."""
        if self.stop_reason is None:
            binding = self
            ledger = self
            while ledger is not None:  # the ancestor whose cap binds names the budget
                if ledger.cap is not None and ledger.cap - ledger.spent == self.room:
                    binding = ledger
                    break
                ledger = ledger.parent
            self.stop_reason = f"budget of {binding.cap:,} designs reached"

    def eval(self, problem, pop, skip_already_evaluated: bool | None = None, evaluate_values_of=None,
             count_evals: bool = True, **kwargs):
        """pymoo's evaluator hook: fill F, G (and the problem's other outputs) of ``pop`` through the cache."""
        raise_requested_stop()  # a batch boundary: the cache and the counts are whole here
        if not isinstance(pop, Population):
            pop = Population.create(pop)
        skip = self.skip_already_evaluated if skip_already_evaluated is None else skip_already_evaluated
        todo = [i for i, ind in enumerate(pop) if not (skip and {"F"} <= ind.evaluated)]
        if todo:
            sub = pop[todo]
            outputs = _protocol(problem).outputs(self.evaluate(problem, sub.get("X")))
            for key, value in outputs.items():
                sub.set(key, np.asarray(value, dtype=float) if key in ("F", "G", "H") else value)
            sub.apply(lambda ind: ind.evaluated.update(outputs))
        if self.callback:
            self.callback(pop)
        return pop

    # -- reading ---------------------------------------------------------------------------------------------
    def population(self, problem) -> Population:
        """Every design in the cache as a pymoo Population (X, F, G and other outputs), in evaluation order.
        ``problem`` must use the cached genomes as its decision vectors."""
        if not self.store.index:
            return Population.empty()
        outputs = _protocol(problem).outputs(self.store.records())
        pop = Population.new(X=self.store.genomes)
        for key, value in outputs.items():
            pop.set(key, np.asarray(value, dtype=float) if key in ("F", "G", "H") else value)
        pop.apply(lambda ind: ind.evaluated.update(outputs))
        return pop

    def frame(self) -> pd.DataFrame:
        """The cache as the run's archive table: the problem's ``results_frame`` (decoded design, objectives,
        per-workload metrics) plus ``eval_order``, one row per distinct design in evaluation order."""
        store = self.store
        if not store.index:
            return pd.DataFrame()
        return store.problem.results_frame(store.genomes, store.records()).assign(eval_order=store.eval_order)


class LedgerFull(Termination):
    """Stop once the algorithm's ledger has no room left; progress = spent / cap."""

    def __init__(self, ledger: Ledger):
        super().__init__()
        self.ledger = ledger

    def _update(self, algorithm) -> float:
        ledger = self.ledger
        room = ledger.room
        if room is None:
            return 0.0
        if room == 0:
            ledger.note_cap()
            return 1.0
        return ledger.spent / (ledger.spent + room)
