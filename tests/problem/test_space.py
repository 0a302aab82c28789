"""Tests of imc_moo.problem.space: value lists, sizes, genome <-> design round trips, validation errors, keys,
hamming."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from imc_moo.problem.space import (
    DESIGN_COLUMNS,
    GLB_WORDS_PER_MIB,
    TECHNOLOGIES_NM,
    DesignError,
    DesignSpace,
    available_spaces,
    hamming,
    make_space,
    space_from_lists,
    space_lists,
)

EXPECTED_COLUMNS = [
    "voltage", "bits_per_cell", "base_latency_s", "xbar_rows", "xbar_cols", "router_group", "tiles_per_chip",
    "macros_per_tile", "glb_depth", "glb_mib", "technology_nm",
]
#: (memory, variant) of the three method spaces.
SPACES = [("rram", "rram"), ("sram", "sram"), ("sram", "sram_large")]
#: METHOD.md §1.3/§1.4 sizes; "sram" is the 4-workload file's lists in full.
EXPECTED_SIZES = {
    "rram": 12_096_000,
    "sram_large": 4_064_256,
    "sram": 8 * 6 * 6 * 6 * 6 * 5 * 6 * 8,
}


def _space(memory: str, variant: str, **kw) -> DesignSpace:
    return make_space(memory, variant, **kw)


# -- sizes and bounds -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("memory,variant", SPACES)
def test_size_matches_method(memory, variant):
    space = _space(memory, variant)
    assert space.size == EXPECTED_SIZES[variant]
    assert space.size == math.prod(len(v) for v in space.values.values())


def test_gene_counts():
    assert make_space("rram").n_var == 9  # METHOD.md §1.3: 9 genes incl. bits per cell
    assert make_space("sram").n_var == 8  # SRAM fixes bits_per_cell = 1
    assert make_space("sram", "sram_large").n_var == 8
    assert "bits_per_cell" not in make_space("sram").names
    assert make_space("sram").fixed["bits_per_cell"] == 1


@pytest.mark.parametrize("memory,variant", SPACES)
def test_bounds_cover_full_lists(memory, variant):
    space = _space(memory, variant)
    np.testing.assert_array_equal(space.xl, 0)
    np.testing.assert_array_equal(space.xu, [len(v) - 1 for v in space.values.values()])
    top = space.decode(space.xu)
    bottom = space.decode(space.xl)
    for name, vals in space.values.items():
        assert top[name].iloc[0] == pytest.approx(max(vals))
        assert bottom[name].iloc[0] == pytest.approx(min(vals))


def test_sram_full_lists_reach_512_and_128_mib():
    """The original bounds cut off X,Y = 512 and 128 MiB; the package keeps them reachable."""
    space = make_space("sram")
    top = space.decode(space.xu)
    assert top.xbar_rows.iloc[0] == 512 and top.xbar_cols.iloc[0] == 512
    assert top.glb_mib.iloc[0] == 128.0
    assert top.glb_depth.iloc[0] == 128 * GLB_WORDS_PER_MIB


# -- round trip -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("memory,variant", SPACES)
def test_decode_encode_round_trip(memory, variant):
    space = _space(memory, variant)
    genomes = space.sample(2000, np.random.default_rng(11))
    designs = space.decode(genomes)
    assert list(designs.columns) == EXPECTED_COLUMNS
    assert list(DESIGN_COLUMNS) == EXPECTED_COLUMNS
    assert len(designs) == len(genomes)
    np.testing.assert_array_equal(space.encode(designs), genomes)
    # Each column holds the listed value at the gene's index.
    for j, (name, vals) in enumerate(space.values.items()):
        np.testing.assert_allclose(designs[name].to_numpy(dtype=float), np.asarray(vals, dtype=float)[genomes[:, j]])
    np.testing.assert_allclose(designs.glb_mib, designs.glb_depth / GLB_WORDS_PER_MIB)
    assert (designs.technology_nm == 32).all()
    if memory == "sram":
        assert (designs.bits_per_cell == 1).all()


@pytest.mark.parametrize("memory,variant", SPACES)
def test_decoded_dtypes(memory, variant):
    space = _space(memory, variant)
    designs = space.decode(space.sample(50, np.random.default_rng(3)))
    for col in ("bits_per_cell", "xbar_rows", "xbar_cols", "router_group", "tiles_per_chip", "macros_per_tile",
                "glb_depth", "technology_nm"):
        assert designs[col].dtype == np.int64, col
    for col in ("voltage", "base_latency_s", "glb_mib"):
        assert designs[col].dtype == np.float64, col


def test_encode_accepts_glb_mib_instead_of_depth():
    space = make_space("rram")
    genomes = space.sample(100, np.random.default_rng(5))
    designs = space.decode(genomes).drop(columns=["glb_depth"])
    np.testing.assert_array_equal(space.encode(designs), genomes)


def test_encode_ignores_row_order_index():
    space = make_space("sram")
    genomes = space.sample(40, np.random.default_rng(6))
    designs = space.decode(genomes)
    designs.index = np.arange(100, 140)[::-1]
    np.testing.assert_array_equal(space.encode(designs), genomes)


# -- errors -----------------------------------------------------------------------------------------------------

def _one_design(space: DesignSpace, **changes) -> pd.DataFrame:
    designs = space.decode(space.xl)
    for key, value in changes.items():
        designs[key] = value
    return designs


@pytest.mark.parametrize("memory,variant,column,value", [
    ("rram", "rram", "xbar_rows", 100),
    ("rram", "rram", "voltage", 0.9),
    ("rram", "rram", "bits_per_cell", 9),
    ("rram", "rram", "glb_depth", 1000),
    ("sram", "sram", "xbar_cols", 100),
    ("sram", "sram", "bits_per_cell", 2),
    ("sram", "sram", "router_group", 32),  # only in the large lists
    ("sram", "sram", "technology_nm", 7),  # fixed at 32 nm unless searched
])
def test_out_of_space_design_names_column(memory, variant, column, value):
    space = _space(memory, variant)
    with pytest.raises(DesignError, match=column):
        space.encode(_one_design(space, **{column: value}))
    with pytest.raises(DesignError, match=column):
        space.validate(_one_design(space, **{column: value}))


def test_missing_column_names_column():
    space = make_space("rram")
    designs = space.decode(space.xl).drop(columns=["xbar_cols"])
    with pytest.raises(DesignError, match="xbar_cols"):
        space.encode(designs)


def test_validate_rejects_non_frame():
    with pytest.raises(DesignError, match="DataFrame"):
        make_space("rram").validate(np.zeros((1, 9)))


@pytest.mark.parametrize("memory,variant", SPACES)
def test_out_of_range_genome_names_gene(memory, variant):
    space = _space(memory, variant)
    for j, name in enumerate(space.names):
        too_big = space.xl.copy()
        too_big[j] = space.xu[j] + 1
        with pytest.raises(DesignError, match=name):
            space.decode(too_big)
        negative = space.xl.copy()
        negative[j] = -1
        with pytest.raises(DesignError, match=name):
            space.decode(negative)


def test_bad_genome_shapes_and_values():
    space = make_space("rram")
    with pytest.raises(DesignError, match="shape"):
        space.decode(np.zeros((3, space.n_var + 1), dtype=int))
    with pytest.raises(DesignError, match="finite"):
        space.decode(np.full((1, space.n_var), np.inf))
    # a float genome (pymoo's float operators) rounds as the problem evaluates it (np.rint, as genomes_of)
    assert space.decode(np.full((1, space.n_var), 0.4)).equals(space.decode(np.zeros((1, space.n_var), dtype=int)))
    # Integral floats are accepted.
    np.testing.assert_array_equal(space.check_genomes(np.zeros((2, space.n_var))), np.zeros((2, space.n_var)))


def test_make_space_errors():
    with pytest.raises(DesignError, match="memory"):
        make_space("flash")
    with pytest.raises(DesignError, match="'sram' is for sram, not rram"):
        make_space("rram", "sram")
    with pytest.raises(DesignError, match="'rram' is for rram, not sram"):
        make_space("sram", "rram")
    with pytest.raises(DesignError, match="unknown design-space variant 'sram_huge'.*sram_large"):
        make_space("sram", "sram_huge")
    with pytest.raises(DesignError, match="technology_nm"):
        make_space("sram", technology_nm=65)
    with pytest.raises(DesignError, match="technology_nm"):
        make_space("rram", technology_nm=[7, 65])


def test_design_space_checks_definition():
    with pytest.raises(DesignError, match="distinct"):
        DesignSpace("rram", {**make_space("rram").values, "voltage": (0.5, 0.5)}, {"technology_nm": 32})
    with pytest.raises(DesignError, match="does not define"):
        DesignSpace("rram", {"voltage": (0.5,)}, {})
    with pytest.raises(DesignError, match="unknown design parameter"):
        DesignSpace("rram", {**make_space("rram").values, "colour": (1,)}, {"technology_nm": 32})


# -- keys and hamming -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("memory,variant", SPACES)
def test_keys_distinct_for_distinct_genomes(memory, variant):
    space = _space(memory, variant)
    genomes = space.sample(20000, np.random.default_rng(8))
    keys = space.keys(genomes)
    assert keys.shape == (len(genomes),)
    n_unique_genomes = len(np.unique(genomes, axis=0))
    assert len(np.unique(keys)) == n_unique_genomes
    # Equal genomes give equal keys; keys span exactly 0 .. size-1.
    np.testing.assert_array_equal(space.keys(genomes[::-1]), keys[::-1])
    assert space.keys(space.xl)[0] == 0
    assert space.keys(space.xu)[0] == space.size - 1
    assert keys.min() >= 0 and keys.max() < space.size


def test_keys_differ_for_single_gene_changes():
    space = make_space("rram")
    base = space.sample(1, np.random.default_rng(9))[0]
    neighbours = []
    for j in range(space.n_var):
        for v in range(space.cardinalities[j]):
            g = base.copy()
            g[j] = v
            neighbours.append(g)
    neighbours = np.unique(np.array(neighbours), axis=0)
    assert len(np.unique(space.keys(neighbours))) == len(neighbours)


def test_hamming_counts_differing_genes():
    rng = np.random.default_rng(10)
    space = make_space("rram")
    a = space.sample(30, rng)
    b = space.sample(20, rng)
    d = hamming(a, b)
    assert d.shape == (30, 20)
    expected = np.array([[sum(int(x != y) for x, y in zip(ra, rb)) for rb in b] for ra in a])
    np.testing.assert_array_equal(d, expected)
    np.testing.assert_array_equal(np.diag(hamming(a, a)), 0)
    # Change exactly k genes -> distance k.
    for k in range(space.n_var + 1):
        g = a[0].copy()
        g[:k] = (g[:k] + 1) % space.cardinalities[:k]
        assert hamming(a[0], g)[0, 0] == k
    assert hamming(a[0], a[0]).shape == (1, 1)


# -- technology as a gene ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("memory,variant", SPACES)
def test_technology_gene(memory, variant):
    fixed = _space(memory, variant)
    nodes = [7, 10, 14, 22, 32, 45]
    assert tuple(nodes) == TECHNOLOGIES_NM
    space = _space(memory, variant, technology_nm=nodes)
    assert space.n_var == fixed.n_var + 1
    assert space.names[-1] == "technology_nm"
    assert space.names[:-1] == fixed.names
    assert space.size == fixed.size * len(nodes)
    assert "technology_nm" not in space.fixed
    genomes = space.sample(3000, np.random.default_rng(12))
    designs = space.decode(genomes)
    assert list(designs.columns) == EXPECTED_COLUMNS
    np.testing.assert_array_equal(designs.technology_nm, np.asarray(nodes)[genomes[:, -1]])
    np.testing.assert_array_equal(space.encode(designs), genomes)
    assert set(designs.technology_nm) == set(nodes)


def test_fixed_technology_node():
    space = make_space("rram", technology_nm=7)
    assert space.fixed["technology_nm"] == 7
    designs = space.decode(space.sample(10, np.random.default_rng(0)))
    assert (designs.technology_nm == 7).all()
    # A single-element list is a fixed node, not a gene.
    assert make_space("rram", technology_nm=[45]).n_var == 9


def test_voltage_override():
    space = make_space("sram", voltages=[0.6, 0.9])
    assert space.values["voltage"] == (0.6, 0.9)
    assert space.size == EXPECTED_SIZES["sram"] // 8 * 2
    designs = space.decode(np.array([[1] + [0] * (space.n_var - 1)]))
    assert designs.voltage.iloc[0] == 0.9


def test_value_lists_come_from_conf_and_extend_each_other():
    sram, large = space_lists("sram"), space_lists("sram_large")
    assert large["voltage"] == sram["voltage"] and large["tiles_per_chip"][-1] == 64 > sram["tiles_per_chip"][-1]
    assert set(available_spaces()) >= {"rram", "sram", "sram_large", "sram_technology"}
    tech = make_space("sram", "sram_technology")
    assert tech.names[-1] == "technology_nm" and len(tech.values["voltage"]) == 14


def test_lists_of_one_value_fix_a_parameter_and_longer_lists_are_genes():
    lists = {**space_lists("rram"), "xbar_rows": [128], "tiles_per_chip": [8, 16]}
    space = space_from_lists("rram", lists)
    assert "xbar_rows" not in space.names and space.fixed["xbar_rows"] == 128
    assert space.values["tiles_per_chip"] == (8, 16)
    assert space.size == EXPECTED_SIZES["rram"] // 5 // 5 * 2


@pytest.mark.parametrize("key,value,match", [
    ("xbar_rows", [64, 1024], "space.xbar_rows=1024 is outside what the RRAM cost model covers"),
    ("voltage", [0.3], "space.voltage=0.3 is outside"),
    ("glb_mib", [1, 3], "space.glb_mib=3 is outside"),
    ("technology_nm", [65], "space.technology_nm=65 is outside"),
    ("bits_per_cell", [9], "space.bits_per_cell=9 is outside"),
    ("router_group", [], "space.router_group is empty"),
    ("macros_per_tile", ["many"], "not a number"),
])
def test_lists_outside_the_cost_model_are_refused(key, value, match):
    with pytest.raises(DesignError, match=match):
        space_from_lists("rram", {**space_lists("rram"), key: value})


def test_sram_cells_hold_one_bit():
    with pytest.raises(DesignError, match="bits_per_cell=2 is outside what the SRAM"):
        space_from_lists("sram", {**space_lists("sram"), "bits_per_cell": [1, 2]})
