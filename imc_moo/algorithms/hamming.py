"""Hamming-diverse initial sampling (METHOD.md §4.1).

Draw ``n_candidates`` (N) random integer genomes, capacity-feasible first when the problem can check that without
running the cost model, remove exact duplicates, then pick ``n_select`` (K) of them by greedy max-min Hamming
distance: start from the first candidate and repeatedly add the candidate whose minimum Hamming distance (number of
differing genes) to the already selected set is largest, ties going to the earliest candidate.
"""

from __future__ import annotations

import numpy as np
from pymoo.core.sampling import Sampling


def select_max_min_hamming(candidates: np.ndarray, k: int) -> np.ndarray:
    """Greedy max-min Hamming selection.

    Args:
        candidates: (N, n_var) genomes, expected pairwise distinct (duplicates are never picked twice: a duplicate
            of a selected genome has distance 0 and is only reached once every distinct genome is selected, at
            which point selection stops).
        k: number of genomes to select.

    Returns:
        (min(k, n_distinct),) int64 indices into ``candidates`` in selection order; the first is always 0.
        Each step picks the first index with the largest minimum distance to the selected set (the method's
        strict '>' scan). Cost O(N * k * n_var) in numpy; the Python loop runs k times.
    """
    X = np.asarray(candidates)
    if X.ndim != 2:
        raise ValueError(f"candidates must be a 2-D (N, n_var) array, got shape {X.shape}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    n = len(X)
    if n == 0 or k == 0:
        return np.empty(0, dtype=np.int64)
    selected = [0]
    min_dist = (X != X[0]).sum(axis=1)  # (N,) min distance to the selected set
    min_dist[0] = -1
    while len(selected) < k:
        i = int(np.argmax(min_dist))  # first maximum = earliest candidate among ties
        if min_dist[i] <= 0:  # only selected genomes or duplicates of them remain
            break
        selected.append(i)
        np.minimum(min_dist, (X != X[i]).sum(axis=1), out=min_dist)
        min_dist[i] = -1
    return np.asarray(selected, dtype=np.int64)


def capacity_ratio(problem, genomes: np.ndarray) -> np.ndarray | None:
    """Weight cells the largest workload (all of them, when resident) needs / memory cells on chip, shape (n,); None
    if not applicable.

    Computed from the design parameters only (no cost model): the same quantity as the problem's capacity
    constraints (``ratio <= 1`` passes all of them). Applies to problems that keep weights on chip
    (``problem.weights_on_chip``, e.g. :class:`~imc_moo.problem.WorkloadSetProblem` on RRAM) and expose
    ``designs(genomes)``, ``design_constraints`` and ``networks``; returns None otherwise.
    """
    if not getattr(problem, "weights_on_chip", False):
        return None
    g = problem.design_constraints(problem.designs(genomes))
    names = getattr(problem, "constraint_names", None)
    # the capacity columns: one per network, or one for all of them (deployment=resident)
    columns = ([i for i, name in enumerate(names) if name.startswith("capacity_")] if names is not None
               else list(range(len(problem.networks))))
    return 1.0 + g[:, columns].max(axis=1)


def _first_unique_rows(X: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct row of X (n, v), ascending (= original order)."""
    _, first = np.unique(X, axis=0, return_index=True)
    return np.sort(first)


class HammingDiverseSampling(Sampling):
    """Capacity-feasible-first random candidates, reduced to a Hamming-diverse subset.

    Args:
        n_candidates: N, random genomes drawn (uniform within the problem's integer bounds).
        n_select: K, genomes returned (at most the number of distinct candidates). The ``n_samples`` requested by
            pymoo is ignored: the method evaluates all K and keeps the best ``pop_size`` afterwards.
        max_draw_factor: when the problem has a capacity pre-check (:func:`capacity_ratio`), draw batches of N
            until N candidates pass it or ``max_draw_factor * N`` genomes have been drawn; missing candidates are
            then filled with the drawn genomes closest to fitting (smallest capacity ratio). Random RRAM genomes
            pass about 15 % of the time, so the default of 50 only gives up on near-impossible workload sets.

    ``_do`` returns a (K, n_var) int64 array. All randomness comes from pymoo's ``random_state`` (seeded once per
    run); global ``np.random`` is never touched.
    """

    def __init__(self, n_candidates: int = 1000, n_select: int = 500, max_draw_factor: int = 50):
        super().__init__()
        if n_candidates < 1 or n_select < 1 or max_draw_factor < 1:
            raise ValueError("n_candidates, n_select and max_draw_factor must be >= 1, got "
                             f"{n_candidates}, {n_select}, {max_draw_factor}")
        if n_select > n_candidates:
            raise ValueError(f"n_select ({n_select}) cannot exceed n_candidates ({n_candidates})")
        self.n_candidates = int(n_candidates)
        self.n_select = int(n_select)
        self.max_draw_factor = int(max_draw_factor)

    def candidates(self, problem, random_state: np.random.Generator) -> np.ndarray:
        """The N candidate genomes (N, n_var) int64, capacity-passing ones first, duplicates removed."""
        xl, xu = (np.asarray(b, dtype=np.int64) for b in problem.bounds())
        N = self.n_candidates

        def draw(n: int) -> np.ndarray:
            return random_state.integers(xl, xu + 1, size=(n, problem.n_var), dtype=np.int64)

        first = draw(N)
        ratio = capacity_ratio(problem, first)
        if ratio is None:
            return first[_first_unique_rows(first)]
        drawn, ratios = [first], [ratio]
        n_pass = int((ratio <= 1).sum())
        while n_pass < N and len(drawn) < self.max_draw_factor:
            batch = draw(N)
            drawn.append(batch)
            ratios.append(capacity_ratio(problem, batch))
            n_pass += int((ratios[-1] <= 1).sum())
        X, r = np.vstack(drawn), np.concatenate(ratios)
        keep = _first_unique_rows(X)
        X, r = X[keep], r[keep]
        passing = np.flatnonzero(r <= 1)[:N]
        if len(passing) < N:  # best effort: the closest-to-fitting rejected genomes, in draw order among ties
            rejected = np.flatnonzero(r > 1)
            fill = rejected[np.argsort(r[rejected], kind="stable")[: N - len(passing)]]
            passing = np.concatenate([passing, np.sort(fill)])
        return X[passing]

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        X = self.candidates(problem, random_state)
        return X[select_max_min_hamming(X, self.n_select)]
