"""Quality indicators with fixed, documented normalisation so runs of one problem are comparable, and the two
queries every archive table answers (its best design, its Pareto front).

Energy, delay and area span many decades, so the hypervolume is computed on log10-scaled objectives mapped onto
[0, 1] between a per-problem *ideal* and *reference* (``conf/problem/*.yaml`` key ``hv``); the reference point is
(1, 1, 1) in that space and points beyond it in any objective contribute nothing. HV is therefore in [0, 1]:
the fraction of the normalised log-box dominated by the front.
"""

from __future__ import annotations

from collections.abc import Mapping

import moocore
import numpy as np
import pandas as pd

OBJECTIVES = ("energy_j", "latency_s", "area_mm2")


def normalise(points: np.ndarray, ideal: Mapping[str, float], reference: Mapping[str, float]) -> np.ndarray:
    """(n, 3) energy [J], latency [s], area [mm2] -> log10-normalised (n, 3), 0 at ideal, 1 at reference."""
    lo = np.log10([float(ideal[k]) for k in OBJECTIVES])
    hi = np.log10([float(reference[k]) for k in OBJECTIVES])
    if np.any(hi <= lo):
        raise ValueError("hypervolume reference must be worse (larger) than the ideal in every objective")
    return (np.log10(np.asarray(points, dtype=float)) - lo) / (hi - lo)


def hypervolume(points: np.ndarray, ideal: Mapping[str, float], reference: Mapping[str, float]) -> float:
    """Hypervolume of (n, 3) objective points after :func:`normalise`, reference point (1, 1, 1)."""
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    if len(points) == 0:
        return 0.0
    z = normalise(points, ideal, reference)
    z = z[(z < 1).all(axis=1)]
    if len(z) == 0:
        return 0.0
    return float(moocore.hypervolume(np.maximum(z, 0.0), ref=np.ones(3)))


def nondominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the mutually non-dominated rows of (n, k) points (minimisation)."""
    points = np.asarray(points, dtype=float)
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(moocore.is_nondominated(points), dtype=bool)


def anytime_hypervolume(archive: pd.DataFrame, evaluations: np.ndarray, ideal, reference) -> np.ndarray:
    """HV of the feasible archive designs evaluated before each count in ``evaluations`` (COCO's anytime view).

    ``archive`` needs columns ``eval_order``, ``feasible`` and :data:`OBJECTIVES`.
    """
    # plain floats once: a config node resolves its interpolations (the latency axis) on every access
    ideal = {k: float(ideal[k]) for k in OBJECTIVES}
    reference = {k: float(reference[k]) for k in OBJECTIVES}
    feas = archive[archive["feasible"].astype(bool)].sort_values("eval_order")
    order = feas["eval_order"].to_numpy()
    pts = feas[list(OBJECTIVES)].to_numpy(dtype=float)
    evaluations = np.asarray(evaluations)
    # The designs before a count are a prefix of ``pts`` (rows sorted by eval_order): counts with the same prefix
    # (generations that added no feasible design) share one hypervolume, computed once on exactly the points
    # (and by exactly the call) it always was, so every value is the same to the last bit.
    prefix = np.searchsorted(order, evaluations, side="left")  # (order < k).sum() for each k
    _, first, where = np.unique(prefix, return_index=True, return_inverse=True)
    values = np.array([hypervolume(pts[order < k], ideal, reference) for k in evaluations[first]], dtype=float)
    return values[where.reshape(-1)]


def pareto_front(archive: pd.DataFrame) -> pd.DataFrame:
    """Feasible, mutually non-dominated archive rows in (energy_j, latency_s, area_mm2), sorted by EDAP (designs
    with identical objective vectors are kept once, the first evaluated)."""
    feas = archive[archive["feasible"].astype(bool)]
    if feas.empty:
        return feas
    mask = nondominated(feas[list(OBJECTIVES)].to_numpy(dtype=float))
    return feas[mask].sort_values("edap", kind="stable").reset_index(drop=True)


def best_row(archive: pd.DataFrame) -> pd.Series:
    """The feasible design with the lowest aggregated EDAP (or, if none is feasible, the least violating)."""
    feas = archive[archive["feasible"].astype(bool)]
    if len(feas):
        return feas.loc[feas["edap"].idxmin()]
    return archive.loc[archive["cv"].idxmin()]
