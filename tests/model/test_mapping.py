"""Tests of imc_moo.model.mapping: the greedy spatial allocation and its lazily filled lookup tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imc_moo.model.mapping import (
    COL_GROUPS,
    MACRO_CAPACITIES,
    MACRO_GROUPS,
    ROW_GROUPS,
    STATE_DIMS,
    WEIGHT_SLICES,
    XBAR_SIZES,
    MappingTables,
    allocate_level,
    greedy_allocate,
    initial_state,
)
from imc_moo.workloads import load_network

D = {d: i for i, d in enumerate(STATE_DIMS)}


def _factors(alloc) -> dict[str, int]:
    out: dict[str, int] = {}
    for dim, _, factor in alloc:
        out[dim] = out.get(dim, 1) * factor
    return out


# -- greedy_allocate --------------------------------------------------------------------------------------------

def test_documented_example_c64_r3_s3_on_512_rows():
    """COST_MODEL.md §4: C64·R3·S3 on 512 rows -> C = 64, R = 3, S = 2 (S split 2+1), 384 rows, 2 row groups."""
    alloc, util = greedy_allocate((("C", 64), ("R", 3), ("S", 3)), 512)
    f = _factors(alloc)
    assert f == {"C": 64, "R": 3, "S": 2}
    assert math.prod(f.values()) == 384
    assert util == pytest.approx(64 * 3 * 1.5)  # the S split 2+1 is credited (2 + 1) / 2
    left, placed = allocate_level((64, 1, 3, 3, 1, 1, 1, 1), 512, ROW_GROUPS)
    assert placed == {"C": 64, "R": 3, "S": 2}
    assert left[D["C"]] * left[D["R"]] * left[D["S"]] == 2  # two row groups
    assert left == (1, 1, 1, 2, 1, 1, 1, 1)


@pytest.mark.parametrize("size,capacity,factor,credit", [
    (7, 4, 4, 3.5),        # prime larger than the capacity: 2 chunks of 4, credited (4 + 3) / 2
    (1009, 512, 505, 504.5),  # prime: 2 chunks of 505
    (11, 8, 6, 5.5),       # 2 chunks of 6
])
def test_dim_larger_than_capacity_gets_ceil_split(size, capacity, factor, credit):
    alloc, util = greedy_allocate((("C", size),), capacity)
    assert _factors(alloc) == {"C": factor}
    assert util == pytest.approx(credit)
    chunks = -(-size // capacity)
    assert factor == -(-size // chunks)
    left, placed = allocate_level((size, 1, 1, 1, 1, 1, 1, 1), capacity, ROW_GROUPS)
    assert placed["C"] == factor
    assert left[D["C"]] == -(-size // factor) == chunks


def test_greedy_prefers_exact_primes_and_respects_capacity():
    alloc, util = greedy_allocate((("M", 64),), 16)
    assert _factors(alloc) == {"M": 16} and util == 16
    alloc, util = greedy_allocate((("M", 3), ("C", 5)), 16)
    assert _factors(alloc) == {"M": 3, "C": 5} and util == 15
    assert greedy_allocate((("C", 64),), 1) == ((), 1.0)


def test_greedy_ties_go_to_first_dim():
    alloc, _ = greedy_allocate((("R", 3), ("S", 3)), 3)
    assert _factors(alloc) == {"R": 3}


def test_allocate_level_invariants():
    rng = np.random.default_rng(4)
    for _ in range(200):
        state = tuple(int(x) for x in rng.choice([1, 2, 3, 5, 7, 12, 64, 96, 100, 960], size=8))
        capacity = int(rng.choice([2, 4, 6, 8, 16, 32, 64, 128, 512]))
        groups = [ROW_GROUPS, COL_GROUPS, MACRO_GROUPS][int(rng.integers(3))]
        left, placed = allocate_level(state, capacity, groups)
        assert math.prod(placed.values()) <= capacity
        for d, f in placed.items():
            assert 1 <= f
            assert left[D[d]] == -(-state[D[d]] // f)
        for d in STATE_DIMS:
            if d not in placed:
                assert left[D[d]] == state[D[d]]


# -- MappingTables vs a per-layer pure-python loop ----------------------------------------------------------------

def reference_map(shape, rows, cols, slices, capacities, memory):
    """One layer on one design with allocate_level directly: (row_groups, col_groups, temporal, p_replicas,
    spatial), spatial the product of every level's factor per dim."""
    state = initial_state(shape, slices, memory)
    spatial = dict.fromkeys(STATE_DIMS, 1)
    state, on_rows = allocate_level(state, rows, ROW_GROUPS)
    state, on_cols = allocate_level(state, cols, COL_GROUPS)
    for dim, f in (on_rows | on_cols).items():
        spatial[dim] *= f
    row_groups = state[D["C"]] * state[D["R"]] * state[D["S"]]
    col_groups = state[D["M"]] * state[D["Y"]]
    p_replicas = 1
    for capacity in capacities:
        state, placed = allocate_level(state, capacity, MACRO_GROUPS)
        p_replicas *= placed["P"]
        for dim, f in placed.items():
            spatial[dim] *= f
    return row_groups, col_groups, state, p_replicas, tuple(spatial[dim] for dim in STATE_DIMS)


def _random_cases(n: int, seed: int):
    """n (shape, rows, cols, slices, (mit, tic, srg)) cases: real layer shapes plus random ones."""
    rng = np.random.default_rng(seed)
    real = np.concatenate([load_network(name).shape_array() for name in ("resnet18", "mobilenet_v3", "alexnet")])
    cases = []
    for i in range(n):
        if i % 2 == 0:
            shape = tuple(int(x) for x in real[rng.integers(len(real))])
        else:
            C, M = (int(rng.choice([1, 3, 16, 24, 64, 96, 100, 256, 384, 1000])) for _ in range(2))
            R = S = int(rng.choice([1, 3, 5, 7, 11]))
            P = Q = int(rng.choice([1, 7, 13, 14, 28, 56, 112]))
            G = int(rng.choice([1, 1, 1, 32, 960]))
            if G > 1:
                C = M = 1
            shape = (C, M, R, S, P, Q, G)
        rows, cols = (int(rng.choice(XBAR_SIZES)) for _ in range(2))
        slices = int(rng.choice(WEIGHT_SLICES))
        caps = tuple(int(rng.choice(MACRO_CAPACITIES)) for _ in range(3))
        cases.append((shape, rows, cols, slices, caps))
    return cases


@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_tables_match_reference_loop(memory):
    cases = _random_cases(50, seed=21 if memory == "rram" else 22)
    tabs = MappingTables(memory)  # a private instance: starts empty
    shape_ids = tabs.register(np.array([c[0] for c in cases]))
    arr = {k: np.array([c[i] for c in cases]) for i, k in enumerate(("_", "rows", "cols", "slices"))}
    caps = np.array([c[4] for c in cases])
    m = tabs.map(shape_ids, arr["rows"], arr["cols"], arr["slices"], (caps[:, 0], caps[:, 1], caps[:, 2]))
    n = len(cases)
    assert m.row_groups.shape == m.col_groups.shape == m.p_replicas.shape == (n, n)
    assert m.temporal.shape == m.spatial.shape == (n, n, len(STATE_DIMS))
    # Every (design i, layer j) pair is checked against the pure-python loop (n x n = 2500 pairs).
    for i, (_, rows, cols, slices, cap) in enumerate(cases):
        for j, (shape, *_rest) in enumerate(cases):
            rg, cg, temporal, p, spatial = reference_map(shape, rows, cols, slices, cap, memory)
            assert m.row_groups[i, j] == rg
            assert m.col_groups[i, j] == cg
            assert tuple(m.temporal[i, j]) == temporal
            assert m.p_replicas[i, j] == p
            assert tuple(m.spatial[i, j]) == spatial
    # Padded dims: spatial x temporal covers every weight dim, exactly when the splits divide it.
    shapes = np.array([c[0] for c in cases])  # (n, 7) C M R S P Q G
    padded = m.spatial * m.temporal
    for k in "CMRSG":
        assert (padded[..., D[k]] >= shapes[None, :, D[k]]).all()
    assert (padded[..., [D[k] for k in "CMRSG"]] > shapes[None, :, [D[k] for k in "CMRSG"]]).any()
    if memory == "sram":
        assert (m.temporal[..., D["Q"]] == 1).all()  # Q pinned temporal at the GLB, reported as 1


@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_tables_filled_lazily(memory):
    cases = _random_cases(30, seed=31)
    tabs = MappingTables(memory)
    assert tabs.n_states == 0
    shape_ids = tabs.register(np.array([c[0] for c in cases]))
    assert (tabs._first == -1).all()  # nothing computed at registration
    rows = np.array([c[1] for c in cases])
    cols = np.array([c[2] for c in cases])
    slices = np.array([c[3] for c in cases])
    caps = tuple(np.array([c[4][k] for c in cases]) for k in range(3))
    first = tabs.map(shape_ids, rows, cols, slices, caps)
    # Exactly the requested (shape, rows, cols, slices) cells were filled.
    requested = {(int(s), XBAR_SIZES.index(int(r)), XBAR_SIZES.index(int(c)), WEIGHT_SLICES.index(int(y)))
                 for s in shape_ids for r, c, y in zip(rows, cols, slices)}
    assert int((tabs._first >= 0).sum()) == len(requested)
    n_states = tabs.n_states
    assert n_states > 0
    tables = ("_first", "_first_fac", "_next", "_fac", "_states")
    snapshot = [getattr(tabs, t).copy() for t in tables]
    second = tabs.map(shape_ids, rows, cols, slices, caps)
    assert tabs.n_states == n_states
    for before, t in zip(snapshot, tables):
        np.testing.assert_array_equal(before, getattr(tabs, t))
    for field in ("row_groups", "col_groups", "temporal", "spatial", "p_replicas"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    # A subset of designs needs no new states either, and gives the matching rows.
    sub = tabs.map(shape_ids, rows[:5], cols[:5], slices[:5], tuple(c[:5] for c in caps))
    assert tabs.n_states == n_states
    np.testing.assert_array_equal(sub.temporal, first.temporal[:5])


def test_register_is_idempotent():
    tabs = MappingTables("rram")
    shapes = load_network("resnet18").shape_array()
    ids = tabs.register(shapes)
    again = tabs.register(shapes[::-1])
    np.testing.assert_array_equal(again, ids[::-1])
    assert tabs._first.shape[0] == len({tuple(s) for s in shapes.tolist()})


def test_map_rejects_sizes_outside_tables():
    tabs = MappingTables("rram")
    ids = tabs.register(np.array([[64, 64, 3, 3, 56, 56, 1]]))
    one = np.array([1])
    with pytest.raises(ValueError, match="xbar_rows"):
        tabs.map(ids, np.array([100]), np.array([128]), one, (one * 4, one * 4, one))
    with pytest.raises(ValueError, match="capacity"):
        tabs.map(ids, np.array([128]), np.array([128]), one, (one * 3, one * 4, one))


def test_initial_state_pins_sram_q():
    assert initial_state((3, 64, 7, 7, 112, 112, 1), 8, "rram") == (3, 64, 7, 7, 112, 112, 1, 8)
    assert initial_state((3, 64, 7, 7, 112, 112, 1), 8, "sram") == (3, 64, 7, 7, 112, 1, 1, 8)


def test_grid_positions_match_searchsorted_and_mark_values_off_the_grid():
    """The dense whole-number table and the searchsorted path give the same positions; a value off the grid (between
    points, beyond either end, fractional, negative) is -1 in both."""
    from imc_moo.model.grids import positions

    rng = np.random.default_rng(2)
    for grid in ((16, 32, 64, 128, 256, 512), (4096.0, 8192.0, 131072.0), (0.45, 0.5, 0.55, 1.1)):
        g = np.asarray(grid, dtype=float)
        values = np.concatenate([rng.choice(g, 200), [g[0] - 1, g[-1] + 1, g[0] + 0.5, -3.0, (g[0] + g[1]) / 2]])
        expected = np.array([list(g).index(v) if v in g else -1 for v in values])
        np.testing.assert_array_equal(positions(grid, values), expected)
        if g.dtype.kind == "f" and np.all(g == np.round(g)):
            np.testing.assert_array_equal(positions(grid, values[:200].astype(np.int64)), expected[:200])
