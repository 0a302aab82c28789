"""Positions of design values on the value grids of the tables (array size, node, buffer depth, ...).

Every evaluation maps each design's values back to grid positions several times (about 25 lookups per call).
For grids of whole numbers a dense table (value -> position, -1 off the grid) answers with one gather, about 5x
faster than ``searchsorted`` plus the exactness check it needs; other grids (voltages) use ``searchsorted``.
"""

from __future__ import annotations

import functools

import numpy as np

#: Largest whole-number grid value given a dense table (larger grids use searchsorted).
MAX_DENSE = 1 << 22


@functools.lru_cache(maxsize=256)
def _dense(grid: tuple[float, ...]) -> np.ndarray | None:
    g = np.asarray(grid, dtype=float)
    if len(g) == 0 or np.any(g != np.round(g)) or g.min() < 0 or g.max() > MAX_DENSE:
        return None
    table = np.full(int(g.max()) + 1, -1, dtype=np.int64)
    table[g.astype(np.int64)] = np.arange(len(g))
    return table


def positions(grid, values) -> np.ndarray:
    """Position of each of ``values`` on the ascending ``grid`` where it is exactly a grid value, else -1;
    the shape of ``values``."""
    values = np.asarray(values)
    table = _dense(tuple(np.asarray(grid, dtype=float).tolist()))
    if table is None:
        g = np.asarray(grid)
        idx = np.minimum(np.searchsorted(g, values), len(g) - 1)
        return np.where(g[idx] == values, idx, -1)
    whole = values.astype(np.int64)
    idx = table[np.clip(whole, 0, len(table) - 1)]
    off = (whole < 0) | (whole >= len(table))
    if values.dtype.kind == "f":
        off |= whole != values
    if off.any():
        idx = np.where(off, -1, idx)
    return idx
