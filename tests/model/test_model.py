"""Tests of the cost model (imc_moo.model.api / cost): fidelity on the packaged held-out check set, physical
monotonicity, large random batches, the evaluate() output contract, per-layer breakdown, errors, technology nodes
and reproducibility. Uses only packaged data (imc_moo/model/data), never ../shared."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from imc_moo.model.api import (
    EDAP_SCALE,
    designs_from_frame,
    evaluate,
    evaluate_layers,
    evaluate_network,
    packaged_coefficients,
)
from imc_moo.model.cost import AREA_COMPONENTS, ENERGY_COMPONENTS
from imc_moo.model.performance import BOUNDS
from imc_moo.model.tables import TableError
from imc_moo.problem.space import DESIGN_COLUMNS, DesignError, make_space
from imc_moo.workloads import Network, WorkloadError, load_network, load_workloads

DESIGN_INPUTS = [c for c in DESIGN_COLUMNS if c != "glb_mib"]
RESULT_COLUMNS = ["design_id", "workload", "energy_j", "latency_s", "cycles", "area_mm2", "edap", "weights_fit",
                  "weight_cells", "valid"]

#: A small RRAM chip (16 macros of 128x128) and a maximal one (262,144 macros of 512x512).
SMALL_RRAM = dict(voltage=0.7, bits_per_cell=1, base_latency_s=1e-9, xbar_rows=128, xbar_cols=128, router_group=1,
                  tiles_per_chip=4, macros_per_tile=4, glb_depth=4096, technology_nm=32)
HUGE_RRAM = {**SMALL_RRAM, "xbar_rows": 512, "xbar_cols": 512, "router_group": 32, "tiles_per_chip": 64,
             "macros_per_tile": 128}
SRAM_DESIGN = {**SMALL_RRAM, "xbar_rows": 64, "xbar_cols": 256, "router_group": 4, "tiles_per_chip": 8,
               "macros_per_tile": 16, "glb_depth": 16384}


def spearman(a, b) -> float:
    ra = pd.Series(np.asarray(a, dtype=float)).rank().to_numpy()
    rb = pd.Series(np.asarray(b, dtype=float)).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def _designs(memory: str, n: int, seed: int, variant: str | None = None) -> pd.DataFrame:
    space = make_space(memory, variant)
    return space.decode(space.sample(n, np.random.default_rng(seed)))


# -- fidelity on the packaged held-out check set ----------------------------------------------------------------

@pytest.fixture(scope="module")
def check_set() -> pd.DataFrame:
    path = resources.files("imc_moo.model") / "data" / "check_set.csv"
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def check_predictions(check_set) -> pd.DataFrame:
    """Model energy/latency/area for every check-set row, aligned with it."""
    parts = []
    for (memory, workload), rows in check_set.groupby(["memory", "workload"], sort=True):
        out = evaluate(rows[DESIGN_INPUTS], workload, memory, performance="reference")
        assert len(out) == len(rows)
        parts.append(out[["energy_j", "latency_s", "area_mm2"]].set_axis(rows.index))
    return pd.concat(parts).loc[check_set.index]


def test_check_set_is_present_and_covers_both_memories(check_set):
    assert set(check_set.memory) == {"rram", "sram"}
    assert {"energy_j", "latency_s", "area_mm2", *DESIGN_INPUTS} <= set(check_set.columns)
    assert check_set.groupby(["memory", "workload"]).size().min() >= 30
    # The fidelity below relies on the fitted coefficients being packaged.
    theta = packaged_coefficients()["theta"]
    assert theta["rram"] and theta["sram"]


def test_fidelity_per_memory_and_network(check_set, check_predictions):
    failures = []
    for (memory, workload), rows in check_set.groupby(["memory", "workload"], sort=True):
        pred = check_predictions.loc[rows.index]
        edap_ref = rows.energy_j * rows.latency_s * rows.area_mm2
        edap = pred.energy_j * pred.latency_s * pred.area_mm2
        rho = spearman(edap, edap_ref)
        err = {q: float(np.median(np.abs(pred[q] / rows[q] - 1))) for q in ("energy_j", "latency_s", "area_mm2")}
        err["energy_p95"] = float(np.quantile(np.abs(pred.energy_j / rows.energy_j - 1), 0.95))
        # issue 12's targets are 2 % median and 8 % p95 on whole held-out halves; 100 rows per network here
        if not (rho >= 0.98 and err["energy_j"] <= 0.02 and err["energy_p95"] <= 0.10 and err["latency_s"] <= 0.01
                and err["area_mm2"] <= 0.01):
            failures.append((memory, workload, round(rho, 4), {k: round(v, 4) for k, v in err.items()}))
    assert not failures, failures


def test_latency_exact_on_every_check_row(check_set, check_predictions):
    rel = np.abs(check_predictions.latency_s.to_numpy() / check_set.latency_s.to_numpy() - 1)
    assert rel.max() <= 1e-9, check_set.iloc[int(rel.argmax())].to_dict()


# -- monotonicity ------------------------------------------------------------------------------------------------

def _step_up(designs: pd.DataFrame, space, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Designs with ``column`` at value k and the same designs at value k+1 (k drawn from the list)."""
    vals = list(space.values[column])
    idx = np.searchsorted(vals, designs[column].to_numpy())
    idx = np.minimum(idx, len(vals) - 2)
    lo, hi = designs.copy(), designs.copy()
    lo[column] = np.asarray(vals)[idx]
    hi[column] = np.asarray(vals)[idx + 1]
    return lo, hi


@pytest.mark.parametrize("memory,variant", [("rram", "rram"), ("sram", "sram_large")])
@pytest.mark.parametrize("column", ["macros_per_tile", "tiles_per_chip", "router_group", "xbar_cols", "xbar_rows",
                                    "glb_depth"])
def test_area_grows_with_crossbars_and_glb(memory, variant, column):
    space = make_space(memory, variant)
    designs = _designs(memory, 400, seed=41, variant=variant)
    if memory == "sram" and column == "xbar_cols":
        # NeuroSim's SRAM row-driver area per macro shrinks as c grows at small c (see the test below), so only
        # from c = 64 upwards are more columns always more area.
        designs = designs[designs.xbar_cols >= 64]
    lo, hi = _step_up(designs, space, column)
    a_lo = evaluate(lo, "resnet18", memory).area_mm2.to_numpy()
    a_hi = evaluate(hi, "resnet18", memory).area_mm2.to_numpy()
    assert (a_hi > a_lo).all(), (column, int((a_hi <= a_lo).sum()))


def test_sram_row_driver_area_not_monotone_in_columns():
    """A property of the NeuroSim SRAM tables (row-driver area per macro falls from c = 16 to 32 at 45 nm), pinned
    so that a table rebuild that changes it is noticed."""
    d = pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 256, "xbar_cols": c, "technology_nm": 45, "voltage": 0.5}
                      for c in (16, 32)])
    area = evaluate(d, "resnet18", "sram", components=True)
    assert area.area_row_drivers_mm2.iloc[1] < area.area_row_drivers_mm2.iloc[0]
    assert area.area_cells_mm2.iloc[1] > area.area_cells_mm2.iloc[0]
    assert area.area_adc_mm2.iloc[1] > area.area_adc_mm2.iloc[0]


def test_more_bits_per_cell_fewer_slices_and_less_rram_energy():
    base = _designs("rram", 300, seed=42)
    energies, slices, cells = [], [], []
    for bpc in (1, 2, 4, 8):
        d = base.assign(bits_per_cell=bpc)
        slices.append(designs_from_frame(d, "rram").weight_slices)
        out = evaluate(d, "cnn4", "rram")
        energies.append(out.energy_j.to_numpy())
        cells.append(out.weight_cells.to_numpy())
    for k in range(3):
        assert (slices[k + 1] < slices[k]).all()
        assert (cells[k + 1] < cells[k]).all()
        assert (energies[k + 1] <= energies[k]).all(), k
    np.testing.assert_array_equal(slices[0], 8)
    np.testing.assert_array_equal(slices[3], 1)
    assert (energies[3] < energies[0]).all()


def test_weight_slices_per_bits_per_cell():
    d = pd.DataFrame([{**SMALL_RRAM, "bits_per_cell": b} for b in range(1, 9)])
    np.testing.assert_array_equal(designs_from_frame(d, "rram").weight_slices, [8, 4, 3, 2, 2, 2, 2, 1])


@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_base_latency_scales_latency_exactly_and_not_energy(memory):
    base = _designs(memory, 200, seed=43)
    slow = evaluate(base.assign(base_latency_s=1e-8), "cnn4", memory, performance="reference")
    fast = evaluate(base.assign(base_latency_s=2e-9), "cnn4", memory, performance="reference")
    np.testing.assert_allclose(fast.latency_s / slow.latency_s, 0.2, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(fast.energy_j, slow.energy_j)
    np.testing.assert_array_equal(fast.cycles, slow.cycles)
    np.testing.assert_array_equal(fast.area_mm2, slow.area_mm2)


# -- large random batches ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["rram", "sram"])
def batch(request):
    memory = request.param
    designs = _designs(memory, 10_000, seed=44)
    return memory, designs, evaluate(designs, "cnn4", memory)


def test_batch_finite_and_positive(batch):
    memory, designs, out = batch
    assert len(out) == 4 * len(designs)
    for col in ("energy_j", "latency_s", "area_mm2", "edap", "cycles"):
        values = out[col].to_numpy(dtype=float)
        assert np.isfinite(values).all(), col
        assert (values > 0).all(), col
    assert out.valid.dtype == bool
    assert out.weights_fit.dtype == bool


def test_batch_validity(batch):
    memory, designs, out = batch
    if memory == "sram":
        assert out.valid.all()  # leftover weights are time-multiplexed
        assert out.weights_fit.all()  # weights streamed from DRAM
        return
    n_macros = np.repeat((designs.router_group * designs.tiles_per_chip * designs.macros_per_tile).to_numpy(), 4)
    chip_cells = n_macros * np.repeat((designs.xbar_rows * designs.xbar_cols).to_numpy(), 4)
    np.testing.assert_array_equal(out.weights_fit, out.weight_cells <= chip_cells)
    assert out.weights_fit.any() and not out.weights_fit.all()
    mob = (out.workload == "mobilenet_v3").to_numpy()
    assert not out.valid[mob].all()  # few crossbars cannot hold MobileNetV3's depthwise layers
    assert out.valid[mob].any()
    max_groups = int(load_network("mobilenet_v3").G.max())
    # A depthwise layer needs one crossbar per group, so valid designs have at least that many macros.
    assert (n_macros[mob & out.valid.to_numpy()] >= max_groups).all()


def test_rram_small_invalid_huge_valid():
    out = evaluate(pd.DataFrame([SMALL_RRAM, HUGE_RRAM]), "cnn4", "rram")
    small, huge = out[out.design_id == 0], out[out.design_id == 1]
    assert not small.set_index("workload").valid["mobilenet_v3"]
    assert huge.valid.all()
    assert huge.weights_fit.all()


def test_rram_weights_fit_vgg16():
    out = evaluate(pd.DataFrame([SMALL_RRAM, HUGE_RRAM]), "vgg16", "rram")
    assert out.weights_fit.tolist() == [False, True]
    # VGG16 has ~138 M 8-bit weights: 8 slices each at 1 bit per cell.
    assert out.weight_cells.iloc[0] == load_network("vgg16").total_weights * 8


def test_sram_weights_fit_even_on_tiny_chip():
    tiny = {**SRAM_DESIGN, "xbar_rows": 16, "xbar_cols": 16, "router_group": 1, "tiles_per_chip": 2,
            "macros_per_tile": 2}
    out = evaluate(pd.DataFrame([tiny]), "mixed9", "sram")
    assert out.weights_fit.all() and out.valid.all()


def test_fidelity_warnings_flag_tiny_sram_chips_only():
    tiny = {**SRAM_DESIGN, "xbar_rows": 16, "xbar_cols": 16, "router_group": 1, "tiles_per_chip": 2,
            "macros_per_tile": 2}  # 4 crossbars of 256 cells: VGG16's 1.1 G weight cells are > 10^6 refills
    wide = {**SRAM_DESIGN, "xbar_rows": 16, "xbar_cols": 256}  # no warning since the row-group counts (issue 12)
    out = evaluate(pd.DataFrame([SRAM_DESIGN, tiny, wide]), "vgg16", "sram")
    assert out.fidelity_warning.tolist() == ["", "weight_refills", ""]
    rram = evaluate(pd.DataFrame([SMALL_RRAM, {**SMALL_RRAM, "xbar_rows": 32, "xbar_cols": 512}]), "cnn4", "rram")
    assert (rram.fidelity_warning == "").all()  # no RRAM design of the reference is off by > 20 %


# -- the padded, shared-window and per-tile counts, by hand ------------------------------------------------------------

def _one_layer(tmp_path, **layer) -> Network:
    path = tmp_path / "one.yaml"
    fields = ", ".join(f"{k}: {v}" for k, v in {"C": 1, "M": 1, "R": 1, "S": 1, "P": 1, "Q": 1, **layer}.items())
    path.write_text(f"name: one\ndescription: one layer\nlayers:\n  - {{name: l0, {fields}}}\n")
    return load_network(str(path))


def test_dram_fetch_counts_padded_weights(tmp_path):
    from imc_moo.model.cost import layer_actions
    from imc_moo.model.mapping import STATE_DIMS

    # C = 197 on 128 rows: split 2 x 99, the fetch iterates over 198 input channels.
    net = _one_layer(tmp_path, C=197, M=64)
    d = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 128, "xbar_cols": 512}]), "sram")
    a = layer_actions(d, net)
    assert a.weight_bits_padded[0, 0] == 8 * 198 * 64
    even = layer_actions(d, _one_layer(tmp_path, C=256, M=64))
    assert even.weight_bits_padded[0, 0] == 8 * 256 * 64  # splits that divide pad nothing
    assert layer_actions(designs_from_frame(pd.DataFrame([SMALL_RRAM]), "rram"), net).weight_bits_padded is None
    assert len(STATE_DIMS) == 8


def test_glb_reads_each_router_groups_input_window_once(tmp_path):
    from imc_moo.model.cost import layer_actions

    # A 3x3 conv, C = 4, M = 8, P = Q = 8 on 64x64 crossbars: C R S = 36 rows, 8 x 8 columns, one crossbar.
    net = _one_layer(tmp_path, C=4, M=8, R=3, S=3, P=8, Q=8)
    # SRAM: Q pinned temporal; 8 macros per tile take P = 8 in space: one window of (8 + 2) rows x 3 columns x 4
    # channels per q step (Q = 8 steps), against 8 x 9 x 4 im2col inputs per step.
    sram = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 64, "xbar_cols": 64, "router_group": 1,
                                             "tiles_per_chip": 1, "macros_per_tile": 8}]), "sram")
    a = layer_actions(sram, net)
    assert a.glb_in_bits[0, 0] == 8 * 4 * (8 + 2) * 3 * 8
    assert a.in_bits[0, 0] == 8 * 4 * 9 * 8 * 8
    # The same P = 8 spread over 8 router groups: each group fetches its own 3 x 3 window.
    spread = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 64, "xbar_cols": 64, "router_group": 8,
                                               "tiles_per_chip": 1, "macros_per_tile": 1}]), "sram")
    assert layer_actions(spread, net).glb_in_bits[0, 0] == a.in_bits[0, 0]
    # RRAM: P and Q spatial (8 x 8 in one tile); the window is shared along Q only: 8 x 3 rows x (8 + 2) columns.
    rram = designs_from_frame(pd.DataFrame([{**SMALL_RRAM, "xbar_rows": 64, "xbar_cols": 64, "router_group": 1,
                                             "tiles_per_chip": 1, "macros_per_tile": 64}]), "rram")
    assert layer_actions(rram, net).glb_in_bits[0, 0] == 8 * 4 * (8 * 3) * (8 + 2)


def test_streamed_weights_drive_the_padded_rows(tmp_path):
    from imc_moo.model.cost import layer_actions

    # C = 768 on 512 rows: 2 row groups of 512 rows (ceil split), M = 64 x 8 slices fill the 512 columns once.
    net = _one_layer(tmp_path, C=768, M=64)
    sram = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 512, "xbar_cols": 512}]), "sram")
    assert layer_actions(sram, net).row[0, 0] == 1024  # the padded weights are written, so their rows are driven
    rram = designs_from_frame(pd.DataFrame([{**SMALL_RRAM, "bits_per_cell": 1, "xbar_rows": 512,
                                             "xbar_cols": 512}]), "rram")
    assert layer_actions(rram, net).row[0, 0] == 768  # resident weights: the rows the layer uses


def test_streamed_weights_are_written_into_busy_replicas_only(tmp_path):
    from imc_moo.model.cost import layer_actions
    from imc_moo.model.mapping import mapping_tables

    # P = 9 over 2 x 2 x 2 macros (one crossbar per copy): 8 replicas, 2 steps, so ceil(9 / 2) = 5 replicas compute
    # an output row and the other 3 are idle: the weights are written 5 times, not 8.
    net = _one_layer(tmp_path, C=16, M=8, P=9)
    d = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 16, "xbar_cols": 64, "router_group": 2,
                                          "tiles_per_chip": 2, "macros_per_tile": 2}]), "sram")
    tabs = mapping_tables("sram")
    m = tabs.map(tabs.shape_ids(net), d.xbar_rows, d.xbar_cols, d.weight_slices, (d.macros_per_tile,
                                                                                  d.tiles_per_chip, d.router_group))
    assert m.p_replicas[0, 0] == 8 and m.temporal[0, 0, 4] == 2
    assert layer_actions(d, net).written[0, 0] == 5 * 16 * 8 * 8


def test_a_tile_adds_its_own_row_groups_before_the_output_buffer(tmp_path):
    from imc_moo.model.cost import layer_actions

    # C = 64 on 16 rows: 4 row groups. Side by side in one tile (4 macros), the tile adds their partial sums and
    # its output buffer sees each output once per weight slice; spread over 4 tiles, every tile buffers its own.
    net = _one_layer(tmp_path, C=64, M=2, P=1)
    one_tile = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 16, "xbar_cols": 16,
                                                 "router_group": 1, "tiles_per_chip": 1, "macros_per_tile": 4}]),
                                  "sram")
    four_tiles = designs_from_frame(pd.DataFrame([{**SRAM_DESIGN, "xbar_rows": 16, "xbar_cols": 16,
                                                   "router_group": 1, "tiles_per_chip": 4, "macros_per_tile": 1}]),
                                    "sram")
    out_bits_x_slices = 8 * 2 * 8
    assert layer_actions(one_tile, net).obuf[0, 0] == out_bits_x_slices
    assert layer_actions(four_tiles, net).obuf[0, 0] == 4 * out_bits_x_slices


# -- output contract ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["reference", "bounded"])
def small_eval(request):
    designs = _designs("rram", 7, seed=45)
    return designs, evaluate(designs, "cnn4", "rram", components=True, performance=request.param)


def test_output_shape_and_order(small_eval):
    designs, out = small_eval
    networks = [n.name for n in load_workloads("cnn4")]
    assert len(out) == len(designs) * len(networks)
    assert set(DESIGN_COLUMNS) | set(RESULT_COLUMNS) <= set(out.columns)
    np.testing.assert_array_equal(out.design_id, np.repeat(np.arange(len(designs)), len(networks)))
    assert out.workload.tolist() == networks * len(designs)
    # Design columns are copied from the input row.
    for col in DESIGN_COLUMNS:
        np.testing.assert_array_equal(out[col].to_numpy(), np.repeat(designs[col].to_numpy(), len(networks)))
    assert isinstance(out.index, pd.RangeIndex)
    # Area is per design, the same for every network.
    assert (out.groupby("design_id").area_mm2.nunique() == 1).all()


def test_edap_definition(small_eval):
    _, out = small_eval
    np.testing.assert_allclose(out.edap, out.energy_j * 1e3 * out.latency_s * 1e3 * out.area_mm2, rtol=1e-12)
    assert EDAP_SCALE == 1e6


def test_latency_is_cycles_times_base_latency(small_eval):
    """The reference's latency is its cycles x clock; the bounded model's never less (each read takes at least a
    clock, and the input pulses longer)."""
    _, out = small_eval
    np.testing.assert_array_equal(out.cycles, np.rint(out.cycles))
    if out.performance.iloc[0] == "reference":
        np.testing.assert_allclose(out.latency_s, out.cycles * out.base_latency_s, rtol=1e-12)
    else:
        assert (out.latency_s >= out.cycles * 255 * 1e-8 * (1 - 1e-12)).all()


def test_components_sum_to_totals(small_eval):
    _, out = small_eval
    e_cols = [f"energy_{k}_j" for k in ENERGY_COMPONENTS]
    if out.performance.iloc[0] == "bounded":  # activations that do not fit the GLB cross the DRAM interface
        e_cols.append("energy_dram_activations_j")
        t_cols = [c for c in out.columns if c.startswith("time_")]
        assert len(t_cols) == 7
        np.testing.assert_allclose(out[t_cols].sum(axis=1), out.latency_s, rtol=1e-9)  # no power stretch here
    a_cols = [f"area_{k}_mm2" for k in AREA_COMPONENTS]
    assert set(e_cols + a_cols) <= set(out.columns)
    np.testing.assert_allclose(out[e_cols].sum(axis=1), out.energy_j, rtol=1e-9)
    np.testing.assert_allclose(out[a_cols].sum(axis=1), out.area_mm2, rtol=1e-9)
    assert (out[e_cols].to_numpy() >= 0).all() and (out[a_cols].to_numpy() > 0).all()
    assert (out.energy_dram_j == 0).all()  # RRAM weights are resident


def test_sram_components_include_dram():
    out = evaluate(pd.DataFrame([SRAM_DESIGN]), "resnet18", "sram", components=True)
    e_cols = [f"energy_{k}_j" for k in ENERGY_COMPONENTS]
    np.testing.assert_allclose(out[e_cols].sum(axis=1), out.energy_j, rtol=1e-9)
    assert (out.energy_dram_j > 0).all() and (out.energy_cell_write_j > 0).all()


def test_components_flag_off_has_no_component_columns(small_eval):
    designs, _ = small_eval
    out = evaluate(designs, "resnet18", "rram")
    assert not [c for c in out.columns if c.startswith(("energy_", "area_")) and c not in ("energy_j", "area_mm2")]


def test_evaluate_network_matches_evaluate(small_eval):
    designs, out = small_eval
    d = designs_from_frame(designs, "rram")
    for net in load_workloads("cnn4"):
        r = evaluate_network(d, net, performance=out.performance.iloc[0])
        rows = out[out.workload == net.name]
        np.testing.assert_array_equal(rows.energy_j, r.energy_j)
        np.testing.assert_array_equal(rows.latency_s, r.latency_s)
        np.testing.assert_array_equal(rows.valid, r.valid)


def test_chunking_does_not_change_results(monkeypatch):
    from imc_moo.model import api

    designs = _designs("sram", 60, seed=46)
    whole = evaluate(designs, "mobilenet_v3", "sram")
    monkeypatch.setattr(api, "MAX_PAIRS_PER_CHUNK", 64 * 7)  # 7 designs per chunk for 64 layers
    chunked = evaluate(designs, "mobilenet_v3", "sram")
    pd.testing.assert_frame_equal(whole, chunked, check_exact=True)


@pytest.mark.parametrize("performance", ["reference", "bounded"])
@pytest.mark.parametrize("memory,network", [("rram", "mobilenet_v3"), ("sram", "alexnet")])
def test_evaluate_layers_sums_to_totals(memory, network, performance):
    designs = _designs(memory, 25, seed=47)
    layers = evaluate_layers(designs, network, memory, performance=performance)
    net = load_network(network)
    assert len(layers) == len(designs) * net.n_layers
    assert layers.layer.tolist()[: net.n_layers] == list(net.layer_names)
    totals = evaluate(designs, network, memory, performance=performance)
    sums = layers.groupby("design_id")[["energy_j", "latency_s", "cycles"]].sum()
    np.testing.assert_allclose(sums.energy_j, totals.energy_j, rtol=1e-9)
    stretched = totals.bound.to_numpy() == "power"  # the power limit stretches whole inferences, not layers
    np.testing.assert_allclose(sums.latency_s[~stretched], totals.latency_s[~stretched], rtol=1e-9)
    np.testing.assert_allclose(sums.cycles, totals.cycles, rtol=1e-12)
    if performance == "bounded":
        times = layers[[f"{b}_s" for b in BOUNDS]].to_numpy()
        np.testing.assert_array_equal(layers.latency_s, times.max(axis=1))
        assert (layers.bound.to_numpy() == np.array(BOUNDS, dtype=object)[times.argmax(axis=1)]).all()
        assert (layers.reads >= layers.cycles).all()
    if memory == "rram":
        # (SRAM: evaluate() reports valid = True whatever the per-layer ``mappable``; leftover weights are
        # time-multiplexed, so the per-layer flag is not a validity flag there.)
        every_layer_mapped = layers.groupby("design_id").mappable.all().to_numpy()
        if performance == "reference":
            np.testing.assert_array_equal(every_layer_mapped, totals.valid)
        else:  # bounded: also one copy of every layer in whole crossbars at once
            assert (every_layer_mapped >= totals.valid).all() and (every_layer_mapped > totals.valid).any()
        assert not totals.valid.all()  # MobileNetV3 on random RRAM designs: the comparison above has both values
    assert (layers.energy_j > 0).all() and (layers.latency_s > 0).all()


# -- bad inputs --------------------------------------------------------------------------------------------------

def _one(**changes) -> pd.DataFrame:
    return pd.DataFrame([{**SMALL_RRAM, **changes}])


@pytest.mark.parametrize("kwargs,exc,pattern", [
    (dict(memory="flash"), DesignError, "memory"),
    (dict(workloads="nonet"), WorkloadError, "nonet"),
    (dict(workloads=[]), WorkloadError, "empty"),
    (dict(designs=_one().drop(columns=["xbar_cols"])), DesignError, "xbar_cols"),
    (dict(designs=_one(voltage=-0.7)), DesignError, "voltage"),
    (dict(designs=_one(macros_per_tile=0)), DesignError, "macros_per_tile"),
    (dict(designs=_one(base_latency_s=0.0)), DesignError, "base_latency_s"),
    (dict(designs=_one(glb_depth=np.nan)), DesignError, "glb_depth"),
    (dict(designs=_one(bits_per_cell=2), memory="sram"), DesignError, "bits_per_cell"),
    (dict(designs=_one(bits_per_cell=9)), DesignError, "bits_per_cell"),
    (dict(designs=_one(xbar_rows=1.5)), DesignError, "xbar_rows"),
    (dict(designs=_one(xbar_rows=100)), TableError, "xbar_rows"),
    (dict(designs=_one(xbar_cols=100), memory="sram"), TableError, "xbar_cols"),
    (dict(designs=_one(technology_nm=65)), TableError, "technology_nm"),
    (dict(designs=_one(technology_nm=65), memory="sram"), TableError, "technology_nm"),
    (dict(designs=_one(voltage=0.9)), TableError, "voltage"),
    (dict(designs=_one(glb_depth=1000)), TableError, "glb_depth"),
])
def test_bad_inputs_raise_clear_errors(kwargs, exc, pattern):
    args = dict(designs=_one(), workloads="resnet18", memory="rram") | kwargs
    assert issubclass(exc, ValueError)
    with pytest.raises(exc, match=pattern):
        evaluate(args["designs"], args["workloads"], args["memory"])


def test_designs_must_be_a_frame():
    with pytest.raises(DesignError, match="DataFrame"):
        evaluate(np.zeros((1, 10)), "resnet18", "rram")


def test_optional_columns_default():
    """technology_nm defaults to 32 nm, SRAM bits_per_cell to 1, glb_mib may replace glb_depth."""
    full = evaluate(pd.DataFrame([SRAM_DESIGN]), "resnet18", "sram")
    slim = pd.DataFrame([SRAM_DESIGN]).drop(columns=["technology_nm", "bits_per_cell", "glb_depth"])
    slim["glb_mib"] = SRAM_DESIGN["glb_depth"] / 4096
    out = evaluate(slim, "resnet18", "sram")
    for col in ("energy_j", "latency_s", "area_mm2", "edap"):
        assert out[col].iloc[0] == full[col].iloc[0], col


# -- technology nodes ---------------------------------------------------------------------------------------------

def test_sram_area_smaller_at_7nm_than_45nm():
    designs = _designs("sram", 300, seed=48, variant="sram_large")
    a7 = evaluate(designs.assign(technology_nm=7), "resnet18", "sram").area_mm2.to_numpy()
    a45 = evaluate(designs.assign(technology_nm=45), "resnet18", "sram").area_mm2.to_numpy()
    assert (a7 < a45).all()
    single = pd.DataFrame([{**SRAM_DESIGN, "technology_nm": t} for t in (7, 45)])
    area = evaluate(single, "resnet18", "sram").area_mm2.to_numpy()
    assert area[0] < area[1]


@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_every_node_evaluates(memory):
    designs = _designs(memory, 100, seed=49)
    for node in (7, 10, 14, 22, 32, 45):
        out = evaluate(designs.assign(technology_nm=node), "cnn4", memory)
        values = out[["energy_j", "latency_s", "area_mm2", "edap"]].to_numpy()
        assert np.isfinite(values).all() and (values > 0).all(), node
    # The node changes energy and area, not the mapping.
    lat = [evaluate(designs.assign(technology_nm=t), "resnet18", memory).latency_s.to_numpy() for t in (7, 45)]
    np.testing.assert_array_equal(lat[0], lat[1])


def test_technology_gene_designs_evaluate():
    space = make_space("rram", technology_nm=[7, 10, 14, 22, 32, 45])
    designs = space.decode(space.sample(200, np.random.default_rng(50)))
    out = evaluate(designs, "resnet18", "rram")
    assert np.isfinite(out.edap).all() and (out.edap > 0).all()


# -- reproducibility ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_evaluate_is_reproducible(memory):
    designs = _designs(memory, 300, seed=51)
    first = evaluate(designs, "cnn4", memory, components=True)
    second = evaluate(designs.copy(), "cnn4", memory, components=True)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_input_frame_not_modified():
    designs = _designs("rram", 20, seed=52)
    before = designs.copy()
    evaluate(designs, "cnn4", "rram", components=True)
    pd.testing.assert_frame_equal(designs, before, check_exact=True)
