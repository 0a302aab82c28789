"""Duplicate elimination by exact row equality: pymoo's default decisions at a fraction of the cost.

pymoo's :class:`~pymoo.core.duplicate.DefaultDuplicateElimination` computes every pairwise Euclidean distance
between offspring and the population (``cdist``) and calls a pair a duplicate when the distance is <= 1e-16. The
genomes here are integers held as floats (SBX/PM followed by rounding), so that is exact row equality, which a
sort finds in O(n log n). :class:`ExactDuplicateElimination` makes the same decisions (within a population the
first occurrence is kept, later equal rows are duplicates; against ``other`` every row equal to one of it is), so
searches give the same designs in the same order; a converged NSGA-II or GA, which mates dozens of times per
generation to find offspring new to its population, no longer pays cdist for it.
"""

from __future__ import annotations

import numpy as np
from pymoo.core.duplicate import DefaultDuplicateElimination


def _rows(X) -> np.ndarray:
    """Rows as one opaque value each (a void view), -0.0 folded into 0.0 (equal at distance 0)."""
    X = np.ascontiguousarray(np.asarray(X, dtype=float) + 0.0)
    return X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()


class ExactDuplicateElimination(DefaultDuplicateElimination):
    """pymoo's default duplicate elimination for finite genomes, by sorting instead of pairwise distances."""

    def _do(self, pop, other, is_duplicate):
        X = np.asarray(self.func(pop), dtype=float)
        if len(X) == 0:
            return is_duplicate
        if not np.isfinite(X).all():  # NaN/inf rows: keep pymoo's own rule for them
            return super()._do(pop, other, is_duplicate)
        rows = _rows(X)
        if other is None:
            _, first = np.unique(rows, return_index=True)
            dup = np.ones(len(rows), dtype=bool)
            dup[first] = False  # np.unique's index is each value's first occurrence
        else:
            O = np.asarray(self.func(other), dtype=float)
            if not np.isfinite(O).all():
                return super()._do(pop, other, is_duplicate)
            dup = np.isin(rows, _rows(O))
        is_duplicate[dup] = True
        return is_duplicate
