"""How a layer lands on crossbars: the reference simulator's greedy spatial allocation, memoised and tabulated.

CiMLoop's mapper does not search the spatial mapping: timeloopfe's constraint macros turn every ``maximize_dims``
into fixed spatial factors by a greedy allocation (COST_MODEL.md §4). Replicating it reproduces every archived
latency. The levels, innermost first:

* crossbar rows (capacity ``xbar_rows``): C, R, S together;
* crossbar columns (capacity ``xbar_cols``): the weight slices Y = ceil(8 / bits_per_cell) and M together, Y
  first (found by matching the archive: allocating Y alone first misses 61 of 150 3-bit designs);
* macro levels ``macros_per_tile``, ``tiles_per_chip``, ``router_group``, each in priority groups
  [Y], [R, S], [M, C], [G], [P, Q], [N] (SRAM: Q is pinned temporal at the GLB, so only P).

Whatever is left is temporal. The greedy is a small recursive search (~0.5 ms per call in Python), so it is
memoised on (dims, capacity) and its results are stored in lazily filled integer tables; evaluation is then pure
numpy gathers over (designs x layers) arrays: a layer's *state* (the dims still left) after rows/columns is looked
up by (shape, rows, cols, slices), and each macro level maps (state, capacity) to the next state. The spatial
factors each level gives each dim are kept too: a ceil split pads the dim (spatial x temporal >= the dim), and the
reference's weight fetch counts the padded weights (:mod:`imc_moo.model.cost`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from imc_moo.hardware import memory_technology
from imc_moo.model.grids import positions

#: Order of the dims in a state tuple.
STATE_DIMS = ("C", "M", "R", "S", "P", "Q", "G", "Y")
_D = {d: i for i, d in enumerate(STATE_DIMS)}

ROW_GROUPS = (("C", "R", "S"),)
COL_GROUPS = (("Y", "M"),)
MACRO_GROUPS = (("Y",), ("R", "S"), ("M", "C"), ("G",), ("P", "Q"), ("N",))

#: Value grids the tables are indexed by.
XBAR_SIZES = (16, 32, 64, 128, 256, 512)
WEIGHT_SLICES = (1, 2, 3, 4, 8)
MACRO_CAPACITIES = (1, 2, 4, 6, 8, 16, 32, 64, 128)


def _prime_factors(x: int) -> tuple[int, ...]:
    out, d = [], 2
    while x > 1:
        if x % d == 0:
            out.append(d)
            x //= d
        else:
            d += 1
    return tuple(out)


@functools.cache
def greedy_allocate(items: tuple[tuple[str, int], ...], capacity: int) -> tuple[tuple, float]:
    """Greedy spatial allocation of ``items`` ((dim, size), ...) onto ``capacity`` instances.

    Returns (allocations, utilisation), allocations a tuple of (dim, credited, factor). Mirrors timeloopfe's
    constraint-macro rule: try every distinct prime of every dim (recursing on the rest of the capacity), and for a
    dim larger than the capacity a ceil-split into k = ceil(v / K) chunks of ceil(v / k), credited
    (a (k - 1) + v mod a) / k; keep the first choice with strictly larger utilisation.
    """
    best_alloc: tuple = ()
    best_util = 1.0
    if capacity <= 1:
        return best_alloc, best_util
    for i, (dim, size) in enumerate(items):
        if size > capacity:
            chunks = -(-size // capacity)
            chunk = -(-size // chunks)
            util = (chunk * (chunks - 1) + size % chunk) / chunks
            if util > best_util:
                best_util, best_alloc = util, ((dim, size % chunk, chunk),)
        for p in sorted(set(_prime_factors(size))):
            if p > capacity:
                continue
            rest = items[:i] + ((dim, size // p),) + items[i + 1:]
            alloc, util = greedy_allocate(rest, capacity // p)
            util *= p
            if util > best_util:
                best_util, best_alloc = util, ((dim, p, p),) + alloc
    return best_alloc, best_util


def allocate_level(state: tuple[int, ...], capacity: int, groups) -> tuple[tuple[int, ...], dict[str, int]]:
    """Place the dims of ``state`` on one spatial level of ``capacity`` instances, group by group.

    Returns the dims left (ceil-divided) and the spatial factor given to each dim of the groups.
    """
    left = list(state)
    placed: dict[str, int] = {}
    used = 1
    for group in groups:
        dims = [d for d in group if d != "N"]  # batch N = 1 never needs space
        if not dims:
            continue
        items = tuple((d, left[_D[d]]) for d in dims)
        factor = dict.fromkeys(dims, 1)
        for dim, _, f in greedy_allocate(items, capacity // used)[0]:
            factor[dim] *= f
        for d in dims:
            left[_D[d]] = -(-left[_D[d]] // factor[d])
            used *= factor[d]
        placed.update(factor)
    return tuple(left), placed


def initial_state(shape: tuple[int, ...], weight_slices: int, memory: str) -> tuple[int, ...]:
    """State of a layer (C, M, R, S, P, Q, G) before mapping; memories that stream weights (SRAM) pin Q
    temporal at the GLB."""
    C, M, R, S, P, Q, G = (int(x) for x in shape)
    return (C, M, R, S, P, 1 if memory_technology(memory).streams_weights else Q, G, int(weight_slices))


def grid_index(grid: tuple[int, ...], values: np.ndarray, what: str) -> np.ndarray:
    """Position of each of ``values`` in ``grid``; a value off the grid is a ValueError naming ``what``."""
    idx = positions(grid, values)
    bad = idx < 0
    if np.any(bad):
        v = np.asarray(values)[bad].flat[0]
        raise ValueError(f"{what}={v} is not supported by the mapping tables; use one of {list(grid)}")
    return idx


@dataclass
class LayerMapping:
    """Mapping outputs for designs x layers, each an array of shape (n_designs, n_layers).

    Attributes:
        row_groups: crossbars needed along the rows for one weight copy (n_Rgrp).
        col_groups: crossbars needed along the columns for one weight copy (n_Mgrp).
        temporal: the dims left temporal after all levels, shape (n_designs, n_layers, 8) in :data:`STATE_DIMS`
            order (SRAM: Q reported as 1; the full Q is temporal).
        spatial: the product of the spatial factors every level gave each dim, shape (n_designs, n_layers, 8) in
            :data:`STATE_DIMS` order. ``spatial * temporal`` is each dim *padded*: a ceil split (e.g. 197 rows as
            2 x 99) iterates over the full factors, as the reference's loop nest does.
        spatial_router: the factors of the last level alone (router groups), same shape: ``spatial //
            spatial_router`` is what one router group holds.
        p_replicas: product of the spatial P factors on the macro levels (copies of the weights).
        rows_spanned: the crossbar rows one row group spans, the product of the C, R, S factors on the rows (a
            ceil split spans its padding: C = 768 on 512 rows is 2 row groups of 512, 1024 rows in all).
        tile_row_groups: the product of the C, R, S factors on the macros-per-tile level: row groups side by side
            in one tile, whose partial sums the tile adds before its output buffer.
        macros: the crossbar macros the layer's mapping occupies, the product of every macro level's spatial
            factors (the padding of ceil splits included; weight tiles left temporal share them in turn).
    """

    row_groups: np.ndarray
    col_groups: np.ndarray
    temporal: np.ndarray
    spatial: np.ndarray
    spatial_router: np.ndarray
    p_replicas: np.ndarray
    rows_spanned: np.ndarray
    tile_row_groups: np.ndarray
    macros: np.ndarray


class MappingTables:
    """Lazily filled lookup tables of the greedy mapping for one memory type.

    ``shape_ids`` index the unique layer shapes registered with :meth:`register`. Tables:

    * ``_first[shape, rows, cols, slices] -> state id`` after the crossbar rows and columns (-1 = not yet known) and
      ``_first_fac[shape, rows, cols, slices] -> spatial factor of each dim`` (8 ints) there;
    * ``_next[state, capacity] -> state id`` and ``_fac[state, capacity] -> spatial factor of each dim`` (8 ints)
      for one macro level;
    * ``_states[state] -> dims left`` (8 ints).
    """

    def __init__(self, memory: str):
        self.memory = memory
        self._shape_index: dict[tuple[int, ...], int] = {}
        self._shapes: list[tuple[int, ...]] = []
        self._state_index: dict[tuple[int, ...], int] = {}
        self._states = np.zeros((0, len(STATE_DIMS)), dtype=np.int64)
        self._first = np.full((0, len(XBAR_SIZES), len(XBAR_SIZES), len(WEIGHT_SLICES)), -1, dtype=np.int32)
        self._first_fac = np.zeros(self._first.shape + (len(STATE_DIMS),), dtype=np.int32)
        self._next = np.full((0, len(MACRO_CAPACITIES)), -1, dtype=np.int32)
        self._fac = np.zeros((0, len(MACRO_CAPACITIES), len(STATE_DIMS)), dtype=np.int32)
        self._network_ids: dict = {}

    # -- registry --------------------------------------------------------------------------------------------
    def register(self, shapes: np.ndarray) -> np.ndarray:
        """Shape ids for layer shapes (L, 7) in C, M, R, S, P, Q, G order."""
        ids = np.empty(len(shapes), dtype=np.int64)
        for i, shape in enumerate(map(tuple, np.asarray(shapes, dtype=np.int64).tolist())):
            if shape not in self._shape_index:
                self._shape_index[shape] = len(self._shapes)
                self._shapes.append(shape)
            ids[i] = self._shape_index[shape]
        grow = len(self._shapes) - self._first.shape[0]
        if grow > 0:
            pad = np.full((grow,) + self._first.shape[1:], -1, dtype=np.int32)
            self._first = np.concatenate([self._first, pad])
            self._first_fac = np.concatenate([self._first_fac, np.zeros((grow,) + self._first_fac.shape[1:],
                                                                        dtype=np.int32)])
        return ids

    def shape_ids(self, network) -> np.ndarray:
        """Shape ids of a network's layers (L,), registered once per network object."""
        ids = self._network_ids.get(network)
        if ids is None:
            ids = self._network_ids[network] = self.register(network.shape_array())
        return ids

    def _state_id(self, state: tuple[int, ...]) -> int:
        sid = self._state_index.get(state)
        if sid is None:
            sid = len(self._state_index)
            self._state_index[state] = sid
            if sid >= len(self._states):  # grow geometrically
                n = max(64, 2 * len(self._states))
                self._states = np.concatenate([self._states, np.zeros((n - len(self._states), 8), np.int64)])
                self._next = np.concatenate([self._next, np.full((n - len(self._next), self._next.shape[1]), -1,
                                                                 np.int32)])
                self._fac = np.concatenate([self._fac, np.zeros((n - len(self._fac),) + self._fac.shape[1:],
                                                                np.int32)])
            self._states[sid] = state
        return sid

    @property
    def n_states(self) -> int:
        return len(self._state_index)

    # -- lookups ---------------------------------------------------------------------------------------------
    def map(self, shape_ids: np.ndarray, rows: np.ndarray, cols: np.ndarray, slices: np.ndarray,
            macro_capacities: tuple[np.ndarray, np.ndarray, np.ndarray]) -> LayerMapping:
        """Map layers ``shape_ids`` (L,) onto designs given as arrays (n,) of crossbar rows, columns, weight slices
        and the three macro-level capacities (macros per tile, tiles per chip, router groups)."""
        ri = grid_index(XBAR_SIZES, rows, "xbar_rows")[:, None]
        ci = grid_index(XBAR_SIZES, cols, "xbar_cols")[:, None]
        yi = grid_index(WEIGHT_SLICES, slices, "weight slices")[:, None]
        sh = np.asarray(shape_ids)[None, :]
        # Gathers use flat indices and ``take`` (an order of magnitude faster than multi-axis fancy indexing).
        n_r, n_c, n_y = self._first.shape[1:]
        first_at = ((sh * n_r + ri) * n_c + ci) * n_y + yi
        state = self._first.reshape(-1).take(first_at)
        if (state < 0).any():
            self._fill_first(first_at[state < 0])
            state = self._first.reshape(-1).take(first_at)
        first = self._states.take(state, axis=0)
        row_groups = first[..., _D["C"]] * first[..., _D["R"]] * first[..., _D["S"]]
        col_groups = first[..., _D["M"]] * first[..., _D["Y"]]
        # int32: a dim's factors multiply to at most about twice the dim
        spatial = self._first_fac.reshape(-1, len(STATE_DIMS)).take(first_at, axis=0)
        rows_spanned = spatial[..., _D["C"]] * spatial[..., _D["R"]] * spatial[..., _D["S"]]
        n_k = len(MACRO_CAPACITIES)
        levels = []  # spatial factors of each macro level, innermost (macros per tile) first
        macros = np.ones(first.shape[:2], dtype=np.int64)
        for capacity in macro_capacities:
            at = state * n_k + grid_index(MACRO_CAPACITIES, capacity, "macro-level capacity")[:, None]
            nxt = self._next.reshape(-1).take(at)
            if (nxt < 0).any():
                self._fill_next(at[nxt < 0])
                nxt = self._next.reshape(-1).take(at)
            level = self._fac.reshape(-1, len(STATE_DIMS)).take(at, axis=0)
            levels.append(level)
            spatial *= level
            macros *= np.prod(level, axis=-1, dtype=np.int64)
            state = nxt
        tile = levels[0]
        return LayerMapping(row_groups=row_groups, col_groups=col_groups, temporal=self._states.take(state, axis=0),
                            spatial=spatial, spatial_router=level,
                            p_replicas=spatial[..., _D["P"]],  # rows/columns never place P
                            rows_spanned=rows_spanned,
                            tile_row_groups=tile[..., _D["C"]] * tile[..., _D["R"]] * tile[..., _D["S"]],
                            macros=macros)

    def _fill_first(self, missing: np.ndarray) -> None:
        """Fill the ``_first`` entries at flat indices ``missing`` (in index order, so state ids do not depend on
        the batch's design order)."""
        for s, r, c, y in zip(*(a.tolist() for a in np.unravel_index(np.unique(missing), self._first.shape))):
            state = initial_state(self._shapes[s], WEIGHT_SLICES[y], self.memory)
            state, on_rows = allocate_level(state, XBAR_SIZES[r], ROW_GROUPS)
            state, on_cols = allocate_level(state, XBAR_SIZES[c], COL_GROUPS)
            self._first[s, r, c, y] = self._state_id(state)
            self._first_fac[s, r, c, y] = _factors(on_rows | on_cols)

    def _fill_next(self, missing: np.ndarray) -> None:
        """Fill the ``_next`` entries at flat indices ``missing`` ((state, capacity) in index order)."""
        for sid, k in zip(*(a.tolist() for a in np.divmod(np.unique(missing), self._next.shape[1]))):
            left, placed = allocate_level(tuple(self._states[sid].tolist()), MACRO_CAPACITIES[k], MACRO_GROUPS)
            nxt = self._state_id(left)  # may grow the arrays, so write after
            self._next[sid, k] = nxt
            self._fac[sid, k] = _factors(placed)


def _factors(placed: dict[str, int]) -> list[int]:
    """Spatial factors of one level in :data:`STATE_DIMS` order (1 for the dims it did not place)."""
    return [placed.get(d, 1) for d in STATE_DIMS]


@functools.cache
def mapping_tables(memory: str) -> MappingTables:
    """The process-wide memo tables for ``memory`` ("rram" or "sram")."""
    return MappingTables(memory)


#: A design's mapping key (:func:`mapping_keys`, the index of the tabulated fast path): the axes that decide the
#: mapping of every layer, each (name, grid of values); a design's key is its flat index in this grid.
KEY_AXES = (("xbar_rows", XBAR_SIZES), ("xbar_cols", XBAR_SIZES), ("bits_per_cell", tuple(range(1, 9))),
            ("macros_per_tile", MACRO_CAPACITIES), ("tiles_per_chip", MACRO_CAPACITIES),
            ("router_group", MACRO_CAPACITIES))
N_KEYS = int(np.prod([len(grid) for _, grid in KEY_AXES]))


def mapping_keys(d) -> np.ndarray:
    """Flat key index of every design of ``d`` (:class:`~imc_moo.model.cost.Designs`), (n,) int64; a value off
    the grids raises, as the mapping tables do."""
    key = np.zeros(d.n, dtype=np.int64)
    for name, grid in KEY_AXES:
        key = key * len(grid) + grid_index(grid, getattr(d, name), name)
    return key
