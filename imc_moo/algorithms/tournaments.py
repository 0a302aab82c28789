"""pymoo's binary-tournament comparisons on arrays: the same winners and the same random draws, without a Python
loop over individuals.

pymoo's NSGA-II :func:`~pymoo.algorithms.moo.nsga2.binary_tournament` and GA
:func:`~pymoo.algorithms.soo.nonconvex.ga.comp_by_cv_and_fitness` read every competitor's attributes from its
:class:`~pymoo.core.individual.Individual`, one tournament at a time (~10 µs each; a converged NSGA-II on mixed9
runs ~10⁵ of them per run). These compare whole columns at once; a tie is still broken by
``random_state.choice([a, b])``, one call per tie in tournament order, exactly as pymoo draws them, so a seeded run
selects the same parents (``tests/algorithms/test_algorithms.py`` checks whole runs against pymoo's functions).
"""

from __future__ import annotations

import numpy as np


def _break_ties(S: np.ndarray, tie: np.ndarray, a: np.ndarray, b: np.ndarray, random_state) -> None:
    """Fill S where ``tie``: a coin between a and b per tie, drawn in order (pymoo's ``compare``)."""
    for i in np.flatnonzero(tie):
        S[i] = random_state.choice([a[i], b[i]])


def _smaller_wins(a, b, va, vb):
    """Winner where va < vb or vb < va (NaN where neither: a tie)."""
    return np.where(va < vb, a, np.where(vb < va, b, np.nan))


def binary_tournament(pop, P, algorithm, **kwargs) -> np.ndarray:
    """NSGA-II's tournament (pymoo's ``binary_tournament``, ``comp_by_dom_and_crowding``), P (n, 2) -> (n, 1)."""
    n_tournaments, n_parents = P.shape
    if n_parents != 2:
        raise ValueError("Only implemented for binary tournament!")
    if algorithm.tournament_type != "comp_by_dom_and_crowding":
        from pymoo.algorithms.moo.nsga2 import binary_tournament as pymoo_binary_tournament

        return pymoo_binary_tournament(pop, P, algorithm, **kwargs)
    CV = np.asarray(pop.get("CV"), dtype=float)[:, 0]
    F = np.asarray(pop.get("F"), dtype=float)
    crowding = np.asarray(pop.get("crowding"), dtype=float)
    a, b = P[:, 0], P[:, 1]
    infeasible = (CV[a] > 0.0) | (CV[b] > 0.0)
    # infeasible pair: smaller CV wins; feasible: domination, then larger crowding
    a_better = (F[a] < F[b]).any(axis=1)
    b_better = (F[b] < F[a]).any(axis=1)
    by_domination = np.where(a_better & ~b_better, a, np.where(b_better & ~a_better, b, np.nan))
    by_crowding = _smaller_wins(a, b, -crowding[a], -crowding[b])
    S = np.where(infeasible, _smaller_wins(a, b, CV[a], CV[b]),
                 np.where(np.isnan(by_domination), by_crowding, by_domination))
    _break_ties(S, np.isnan(S), a, b, algorithm.random_state)
    return S[:, None].astype(int)


def comp_by_cv_and_fitness(pop, P, random_state=None, **kwargs) -> np.ndarray:
    """GA's tournament (pymoo's ``comp_by_cv_and_fitness``: smaller CV, then smaller F), P (n, 2) -> (n, 1)."""
    CV = np.asarray(pop.get("CV"), dtype=float)[:, 0]
    F = np.asarray(pop.get("F"), dtype=float)[:, 0]
    a, b = P[:, 0], P[:, 1]
    infeasible = (CV[a] > 0.0) | (CV[b] > 0.0)
    S = np.where(infeasible, _smaller_wins(a, b, CV[a], CV[b]), _smaller_wins(a, b, F[a], F[b]))
    _break_ties(S, np.isnan(S), a, b, random_state)
    return S[:, None].astype(int)
