"""Multi-model deployment (imc_moo/deployment.py): the default mix is today's model bit for bit, ``resident`` sums the
networks' weights, switching costs scale with the switch rate, a hand-computed switch energy, and bad values give
one line naming the key and the fix (on the command line, in the fault catalogue's style)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imc_moo.app import experiment
from imc_moo.model.api import EDAP_SCALE, evaluate_network
from imc_moo.problem import ProblemError, WorkloadSetProblem
from imc_moo.problem.deployment import SET_PULSE_S, VERIFY_READ_S, Deployment, DeploymentError, switch_cost
from imc_moo.workloads import network_from_layers

DEFAULT_KEYS = {"deployment": None, "mix": {"shares": None, "inferences_per_switch": None,
                                              "lifetime_inferences": 1e9}, "endurance_cycles": None}
PAIR = ["resnet18", "mobilenet_v3"]


def random_genomes(problem: WorkloadSetProblem, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(problem.space.xl, problem.space.xu + 1, size=(n, problem.n_var))


def genome(problem: WorkloadSetProblem, **values) -> np.ndarray:
    """One genome (1, n_var): the named parameter values, every other gene at its first value."""
    g = np.zeros((1, problem.n_var), dtype=np.int64)
    for key, value in values.items():
        g[0, problem.space.names.index(key)] = problem.space.values[key].index(value)
    return g


def same_evaluation(a: WorkloadSetProblem, b: WorkloadSetProblem, genomes: np.ndarray) -> None:
    ea, eb = a.evaluate_genomes(genomes), b.evaluate_genomes(genomes)
    for field in ("energy_j", "latency_s", "area_mm2", "G", "edap", "cost"):
        assert np.array_equal(getattr(ea, field), getattr(eb, field)), field
    assert np.array_equal(a.objective_values(ea), b.objective_values(eb))
    assert a.constraint_names == b.constraint_names and a.n_ieq_constr == b.n_ieq_constr
    pd.testing.assert_frame_equal(a.results_frame(genomes, ea), b.results_frame(genomes, eb), check_exact=True)


# ----------------------------------------------------------------------------------------------------------------
# the default is today's model

@pytest.mark.parametrize("memory", ["rram", "sram"])
@pytest.mark.parametrize("objectives, aggregation", [("edap", "max"), ("eda", "mean"), ("eda", "geomean")])
def test_the_default_mix_reproduces_todays_values_bit_for_bit(memory, objectives, aggregation):
    today = WorkloadSetProblem("cnn4", memory, objectives, aggregation)
    genomes = random_genomes(today, 3000, seed=7)
    names = today.workloads
    default_mode = "reprogram" if memory == "rram" else "stream"
    for keys in (DEFAULT_KEYS,
                 {"deployment": default_mode},  # the memory's mode named
                 {"mix": {"shares": {w: 3.0 for w in names}, "inferences_per_switch": math.inf}},  # equal, never
                 {"mix": {"shares": [1, 1, 1, 1]}},
                 {"deployment": default_mode, "mix": {"lifetime_inferences": 10.0}}):  # no switch: no wear
        same_evaluation(today, WorkloadSetProblem("cnn4", memory, objectives, aggregation, **keys), genomes)
    # and today's formulas, computed here from the cost model itself
    ev = today.evaluate_genomes(genomes)
    d = today.designs(genomes)
    for w, net in enumerate(today.networks):
        r = evaluate_network(d, net)
        assert np.array_equal(ev.energy_j[:, w], r.energy_j) and np.array_equal(ev.latency_s[:, w], r.latency_s)
    if aggregation == "max":
        edap = ev.energy_j.max(axis=1) * ev.latency_s.max(axis=1) * d.total_area_mm2 * EDAP_SCALE
        assert np.array_equal(ev.edap[ev.valid.all(axis=1)], edap[ev.valid.all(axis=1)])
    assert not ev.switch_energy_j.any() and not ev.switch_latency_s.any()


def test_the_config_files_default_to_todays_problem():
    """The packaged configs (with their new deployment and mix keys) build today's problem."""
    for overrides, memory in (([], "rram"), (["problem=sram_cnn4"], "sram")):
        built, _, _ = experiment.build(experiment.compose_config(overrides))
        today = WorkloadSetProblem("cnn4", memory, "edap", "max")
        same_evaluation(today, built, random_genomes(today, 500, seed=3))


# ----------------------------------------------------------------------------------------------------------------
# resident: the networks' weights summed

def test_resident_rejects_a_design_whose_summed_weights_do_not_fit_though_each_network_does():
    reprogram = WorkloadSetProblem("cnn4", "rram", "edap", deployment="reprogram")
    resident = WorkloadSetProblem("cnn4", "rram", "edap", deployment="resident")
    assert resident.constraint_names == ("capacity_resident", "area", "unmappable_workloads")
    # 3 bits per cell (3 cells per weight), 512 x 512 x 2048 macros = 2^29 cells: VGG16 alone needs 3 x 138.3 M =
    # 415 M cells, all four networks 3 x 216.6 M = 650 M
    g = genome(reprogram, bits_per_cell=3, xbar_rows=512, xbar_cols=512, router_group=8, tiles_per_chip=16,
               macros_per_tile=16)
    each = reprogram.design_constraints(reprogram.designs(g))[0, :4]
    summed = resident.design_constraints(resident.designs(g))[0, 0]
    assert (each <= 0).all()
    total = sum(net.total_weights for net in resident.networks)
    assert summed == pytest.approx(3 * total / 2**29 - 1) and summed > 0
    ev = resident.evaluate_genomes(g)
    assert not ev.feasible[0] and ev.G[0, 0] == summed
    # twice the cells: the sum fits too
    g2 = genome(reprogram, bits_per_cell=3, xbar_rows=512, xbar_cols=512, router_group=16, tiles_per_chip=16,
                macros_per_tile=16)
    assert resident.design_constraints(resident.designs(g2))[0, 0] <= 0
    # resident never pays for switching, whatever the rate
    often = WorkloadSetProblem("cnn4", "rram", "edap", deployment="resident", mix={"inferences_per_switch": 1})
    genomes = random_genomes(resident, 500, seed=5)
    same_evaluation(resident, often, genomes)


# ----------------------------------------------------------------------------------------------------------------
# the switching cost

@pytest.mark.parametrize("memory, workloads", [("rram", "cnn4"), ("sram", PAIR)])
def test_the_switching_cost_grows_linearly_with_the_switch_rate_and_vanishes_at_never(memory, workloads):
    never = WorkloadSetProblem(workloads, memory, "eda", "mean", deployment="reprogram")
    genomes = random_genomes(never, 400, seed=11)
    base = never.evaluate_genomes(genomes)
    assert not base.switch_energy_j.any() and not base.switch_latency_s.any()
    per_switch = None
    for ips in (1, 10, 1000, 1e6):
        p = WorkloadSetProblem(workloads, memory, "eda", "mean", deployment="reprogram",
                               mix={"inferences_per_switch": ips})
        ev = p.evaluate_genomes(genomes)
        assert (ev.switch_energy_j > 0).all() and (ev.switch_latency_s > 0).all()
        # exactly the never-switching values plus the amortised cost, which is cost per switch / ips
        assert np.array_equal(ev.energy_j, base.energy_j + ev.switch_energy_j)
        assert np.array_equal(ev.latency_s, base.latency_s + ev.switch_latency_s)
        cost = np.stack([ev.switch_energy_j * ips, ev.switch_latency_s * ips])
        if per_switch is None:
            per_switch = cost
        np.testing.assert_allclose(cost, per_switch, rtol=1e-12)
    # the mix's mean cost of one switch
    d = never.designs(genomes)
    expected = np.mean([switch_cost(d, net).energy_j for net in never.networks], axis=0)
    np.testing.assert_allclose(per_switch[0].mean(axis=1), expected, rtol=1e-12)
    # one network never switches
    alone = WorkloadSetProblem([workloads[0] if isinstance(workloads, list) else "resnet18"], memory, "eda",
                               deployment="reprogram", mix={"inferences_per_switch": 1})
    assert not alone.evaluate_genomes(genomes).switch_energy_j.any()


def test_a_hand_computed_switch_energy_matches():
    """RRAM at 32 nm, 0.7 V, 128 x 128 crossbars, 2 bits per cell, 16 macros; two small networks. The NeuroSim
    entries (COST_MODEL.md §2.2, packaged neurosim.csv) at 128 x 128, 0.7 V: cell_write = 0.994211 - 0.807209 aw pJ
    per cell, row_write = 1.25781 pJ per row."""
    table = pd.read_csv(Path(__file__).resolve().parents[2] / "imc_moo" / "model" / "data" / "neurosim.csv")
    at = table[(table.memory == "rram") & (table.technology_nm == 32) & (table.xbar_rows == 128)
               & (table.xbar_cols == 128) & np.isclose(table.voltage, 0.7)].set_index("quantity")
    cell_c0, cell_aw, row_c0 = 0.994211, -0.807209, 1.25781
    assert at.loc["cell_write", ["c0", "c_aw"]].tolist() == pytest.approx([cell_c0, cell_aw], rel=1e-6)
    assert at.loc["row_write", "c0"] == pytest.approx(row_c0, rel=1e-6)
    assert (at.loc[["cell_write", "row_write"], ["c_ain", "c_ain_aw"]] == 0).all().all()
    assert at.loc["row_write", "c_aw"] == 0
    # the cell entry is one SET pulse of the reference's cell: 2 V over R_on + R_access = 6 + 195 kOhm for 50 ns
    assert 2.0**2 / (6e3 + 195e3) * SET_PULSE_S * 1e12 == pytest.approx(cell_c0, rel=2e-3)

    aw2 = [0.3, 0.45]  # activity of the weights at 2 bits per cell, per layer
    a = network_from_layers("hand_a", [
        {"name": "conv", "C": 16, "M": 32, "R": 3, "S": 3, "P": 8, "Q": 8, "aw": [0.5, aw2[0], 0.5, 0.5, 0.5, 0.5, 0.5,
                                                                                 0.5]},
        {"name": "fc", "C": 512, "M": 10, "R": 1, "S": 1, "P": 1, "Q": 1, "aw": [0.5, aw2[1], 0.5, 0.5, 0.5, 0.5, 0.5,
                                                                                0.5]}], "test")
    b = network_from_layers("hand_b", [{"name": "fc", "C": 64, "M": 64, "R": 1, "S": 1, "P": 1, "Q": 1}], "test")
    p = WorkloadSetProblem([a, b], "rram", "eda", deployment="reprogram", mix={"inferences_per_switch": 10})
    g = genome(p, voltage=0.7, bits_per_cell=2, xbar_rows=128, xbar_cols=128, router_group=1, tiles_per_chip=4,
               macros_per_tile=4)

    # by hand: 2 bits per cell -> 4 cells per 8-bit weight, 2^(2-1) = 2 program pulses per cell
    cells = [16 * 32 * 3 * 3 * 4, 512 * 10 * 4]  # 18,432 and 20,480
    pulses = 2
    cell_pj = pulses * sum(c * (cell_c0 + cell_aw * w) for c, w in zip(cells, aw2))
    row_pj = pulses * sum(cells) / 128 * row_c0  # 304 rows of 128 cells
    dram_pj = 8 * (16 * 32 * 9 + 512 * 10) * 8.0  # 8-bit weights fetched at 8 pJ/bit
    rows_per_macro = math.ceil(sum(cells) / 128 / 16)  # 19
    time_s = rows_per_macro * pulses * (SET_PULSE_S + VERIFY_READ_S)  # 19 x 2 x 60 ns = 2.28 us
    assert (cell_pj, row_pj, rows_per_macro) == (pytest.approx(2 * (18432 * (0.994211 - 0.807209 * 0.3)
                                                                 + 20480 * (0.994211 - 0.807209 * 0.45))),
                                                 pytest.approx(764.7485), 19)

    cost = switch_cost(p.designs(g), a)
    assert cost.cell_write_j[0] == pytest.approx(cell_pj * 1e-12, rel=1e-6)
    assert cost.row_write_j[0] == pytest.approx(row_pj * 1e-12, rel=1e-6)
    assert cost.dram_j[0] == pytest.approx(dram_pj * 1e-12, rel=1e-12)
    assert cost.energy_j[0] == pytest.approx((cell_pj + row_pj + dram_pj) * 1e-12, rel=1e-6)
    assert cost.latency_s[0] == pytest.approx(time_s, rel=1e-12)
    assert cost.cells_written[0] == sum(cells)
    # through the problem: network a's inferences carry a tenth of it
    ev = p.evaluate_genomes(g)
    assert ev.switch_energy_j[0, 0] == pytest.approx((cell_pj + row_pj + dram_pj) * 1e-12 / 10, rel=1e-6)
    assert ev.switch_latency_s[0, 0] == pytest.approx(time_s / 10, rel=1e-12)


def test_endurance_is_a_constraint_of_reprogramming():
    """1e9 lifetime inferences, a switch every 1,000: 1e6 writes per cell on a chip with room for one copy of the
    largest network, exactly the RRAM default endurance; more room spreads the writes."""
    p = WorkloadSetProblem("cnn4", "rram", "edap", deployment="reprogram", mix={"inferences_per_switch": 1000})
    assert p.constraint_names[-3:] == ("endurance", "area", "unmappable_workloads")
    g = np.vstack([genome(p, bits_per_cell=8, xbar_rows=512, xbar_cols=512, router_group=8, tiles_per_chip=8,
                          macros_per_tile=8),  # 2^27 cells < VGG16: one region (k = 1)
                   genome(p, bits_per_cell=8, xbar_rows=512, xbar_cols=512, router_group=32, tiles_per_chip=16,
                          macros_per_tile=16)])  # 2^31 cells = 15 copies of VGG16's 138 M cells
    end = p.design_constraints(p.designs(g))[:, p.constraint_names.index("endurance")]
    assert end.tolist() == pytest.approx([0.0, 1 / 15 - 1])
    tight = WorkloadSetProblem("cnn4", "rram", "edap", deployment="reprogram",
                               mix={"inferences_per_switch": 1000}, endurance_cycles=1e5)
    assert tight.design_constraints(tight.designs(g))[0, tight.constraint_names.index("endurance")] == \
        pytest.approx(9.0)
    # SRAM never wears out: no endurance constraint
    s = WorkloadSetProblem(PAIR, "sram", "edap", deployment="reprogram", mix={"inferences_per_switch": 1})
    assert "endurance" not in s.constraint_names


# ----------------------------------------------------------------------------------------------------------------
# shares and aggregation

def test_shares_weight_mean_and_geomean_and_max_ignores_them():
    kw = {"deployment": "reprogram", "mix": {"shares": {"resnet18": 3, "mobilenet_v3": 1}}}
    for how, expect in (("mean", lambda v: v @ [0.75, 0.25]), ("geomean", lambda v: np.exp(np.log(v) @ [0.75, 0.25])),
                        ("max", lambda v: v.max(axis=1)), ("sum", lambda v: v.sum(axis=1))):
        p = WorkloadSetProblem(PAIR, "rram", "eda", how, **kw)
        ev = p.evaluate_genomes(random_genomes(p, 200, seed=2))
        F = p.objective_values(ev)
        ok = ev.valid.all(axis=1)
        np.testing.assert_allclose(F[ok, 0], expect(ev.energy_j)[ok], rtol=1e-12)
        np.testing.assert_allclose(F[ok, 1], expect(ev.latency_s)[ok], rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# bad values: one line naming the key and the fix (command line, in the fault catalogue's style)

# The bad command-line values of the deployment keys are cases of tests/faults/.


def test_bad_values_from_python_raise_problem_errors():
    with pytest.raises(ProblemError, match="mix.shares.vgg16=0"):
        WorkloadSetProblem("cnn4", "rram", mix={"shares": {"resnet18": 1, "vgg16": 0, "alexnet": 1,
                                                           "mobilenet_v3": 1}})
    with pytest.raises(ProblemError, match="unknown mix key"):
        WorkloadSetProblem("cnn4", "rram", mix={"switches": 3})
    with pytest.raises(DeploymentError, match="inferences_per_switch"):
        Deployment.of("rram", ["a", "b"], mix={"inferences_per_switch": 0})
