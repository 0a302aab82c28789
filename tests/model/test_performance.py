"""The bounded performance model (:mod:`imc_moo.model.performance`): every layer's time is at least what each of its
resources needs, the power limit holds, batches amortise weight fetches, the replicas respect residency, and the
reference model stays the reference's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imc_moo.hardware import ChipBounds
from imc_moo.model.api import designs_from_frame, evaluate, evaluate_layers, evaluate_network
from imc_moo.model.cost import layer_actions
from imc_moo.model.performance import BOUNDS, Performance, PerformanceError
from imc_moo.problem import ProblemError, WorkloadSetProblem
from imc_moo.problem.space import make_space
from imc_moo.workloads import load_network

GLB_WORD_BITS = 2048


def _designs(memory: str, n: int, seed: int, space: str | None = None) -> pd.DataFrame:
    s = make_space(memory, space)
    return s.decode(s.sample(n, np.random.default_rng(seed)))


@pytest.mark.parametrize("memory, network, bounds", [
    ("rram", "resnet18", None),
    ("sram", "vgg16", None),
    ("sram", "mobilenet_v3", {"dram_bytes_per_s": 1e9, "glb_bits_per_cycle": 256, "router_bits_per_cycle": 16}),
    ("rram", "alexnet", {"input_pulses": 1, "adc_conversion_s": 5e-8}),
])
def test_every_layer_takes_at_least_what_each_resource_needs(memory, network, bounds):
    """Lower bounds from first principles, not from the model's own counts: every output is written to the GLB and
    passes a router once (8 bits each), every weight of a streamed layer comes from DRAM once, activations beyond
    the GLB cross DRAM, and each of the reference's crossbar reads applies a full input pulse train and an ADC
    conversion on its clock."""
    chip = ChipBounds.of(bounds)
    designs = _designs(memory, 300, seed=5)
    layers = evaluate_layers(designs, network, memory, bounds=bounds)
    net = load_network(network)
    n, L = len(designs), net.n_layers
    t = layer_time = layers.latency_s.to_numpy().reshape(n, L)
    cycles = layers.cycles.to_numpy().reshape(n, L)  # the reference's
    clock = designs.base_latency_s.to_numpy()[:, None]
    srg = designs.router_group.to_numpy()[:, None]
    out_bits = 8.0 * net.M * net.G * net.P * net.Q
    glb_bits = designs.glb_mib.to_numpy()[:, None] * 2**23
    eps = 1 - 1e-12
    assert (t >= cycles * clock * eps).all()
    assert (t >= cycles * chip.input_pulses * chip.pulse_width_s * eps).all()
    assert (t >= cycles * chip.columns_per_adc * chip.adc_conversion_s * eps).all()
    assert (t >= out_bits / (chip.glb_bits_per_cycle / clock) * eps).all()
    assert (t >= out_bits / (chip.router_bits_per_cycle * srg / clock) * eps).all()
    spill = np.maximum(0.0, 8.0 * net.G * net.P * net.Q * (net.C + net.M) - glb_bits)
    assert (t >= spill / (8 * chip.dram_bytes_per_s) * eps).all()
    if memory == "sram":  # streamed: every weight bit crosses the DRAM interface
        assert (t >= 8.0 * net.weights / (8 * chip.dram_bytes_per_s) * eps).all()
    # the layer's time is the largest resource's, named in ``bound``
    times = layers[[f"{b}_s" for b in BOUNDS]].to_numpy()
    np.testing.assert_array_equal(layer_time.ravel(), times.max(axis=1))


def test_the_network_is_at_least_its_layers_and_its_energy_over_the_power_limit():
    designs = _designs("sram", 400, seed=6, space="sram_technology")
    for limit in (1.0, 0.02):
        out = evaluate(designs, "cnn4", "sram", bounds={"power_density_w_per_mm2": limit})
        assert (out.power_density_w_per_mm2 <= limit * (1 + 1e-9)).all()
        assert not out.over_power_limit.any()
        layers = evaluate_layers(designs, "alexnet", "sram", bounds={"power_density_w_per_mm2": limit})
        summed = layers.groupby("design_id").latency_s.sum().to_numpy()
        alex = out[out.workload == "alexnet"]
        assert (alex.latency_s.to_numpy() >= summed * (1 - 1e-12)).all()
    assert (out.bound == "power").any() and (out.bound != "power").any()  # the 0.02 W/mm2 limit binds on some


def test_a_chip_power_limit_holds_on_every_design_of_a_search_problem():
    p = WorkloadSetProblem("cnn4", "sram", "eda", bounds={"power_w": 0.5})
    genomes = p.space.sample(3000, np.random.default_rng(2))
    ev = p.evaluate_genomes(genomes)
    power = ev.energy_j / ev.latency_s
    assert (power <= 0.5 * (1 + 1e-9)).all()
    frame = p.results_frame(genomes, ev)
    assert (frame.power_w <= 0.5 * (1 + 1e-9)).all() and not frame.over_power_limit.any()
    assert (frame.bound == "power").any()


def test_the_reference_model_flags_power_no_chip_could_dissipate():
    designs = _designs("rram", 2000, seed=7)
    out = evaluate(designs, "cnn4", "rram", performance="reference")
    valid = out[out.valid]
    assert (valid.power_density_w_per_mm2 > 1.0).any()  # the reference's 1-ns layers: kilowatts
    np.testing.assert_array_equal(valid.over_power_limit, valid.power_density_w_per_mm2 > 1.0 * (1 + 1e-9))
    assert (out.bound == "").all()


def test_bounded_latency_and_energy_are_never_below_the_reference():
    designs = _designs("rram", 500, seed=8)
    ref = evaluate(designs, "mixed9", "rram", performance="reference")
    bounded = evaluate(designs, "mixed9", "rram")
    assert (bounded.latency_s >= ref.latency_s).all()
    assert (bounded.energy_j >= ref.energy_j * (1 - 1e-12)).all()  # plus the activations through DRAM
    np.testing.assert_array_equal(bounded.cycles, ref.cycles)
    assert (bounded.valid <= ref.valid).all()  # also one copy of every layer in whole crossbars


def test_a_batch_fetches_streamed_weights_once():
    designs = _designs("sram", 300, seed=9).assign(glb_mib=128.0, glb_depth=128 * 4096)  # no spills
    one = evaluate(designs, "alexnet", "sram", components=True)
    four = evaluate(designs, "alexnet", "sram", components=True, batch=4)
    for k in ("dram", "cell_write", "weight_drivers"):
        np.testing.assert_allclose(four[f"energy_{k}_j"], one[f"energy_{k}_j"] / 4, rtol=1e-12)
    for k in ("cell", "row", "adc", "glb"):
        np.testing.assert_array_equal(four[f"energy_{k}_j"], one[f"energy_{k}_j"])
    assert (four.latency_s <= one.latency_s * (1 + 1e-12)).all()
    dram_bound = one.bound == "dram"
    assert dram_bound.any() and (four.latency_s[dram_bound] < one.latency_s[dram_bound]).all()


def test_a_batch_fills_the_global_buffer_sooner():
    designs = _designs("rram", 200, seed=10).assign(glb_mib=0.5, glb_depth=2048)
    one = evaluate(designs, "vgg16", "rram", components=True)
    eight = evaluate(designs, "vgg16", "rram", components=True, batch=8)
    spill_one, spill_eight = one.energy_dram_activations_j, eight.energy_dram_activations_j
    assert (spill_one > 0).all() and (spill_eight > spill_one).all()  # per inference


def test_resident_layers_replicate_only_into_free_crossbars():
    """One copy of every layer in whole crossbars, extra copies only in the spare ones (never more than the
    reference maps), and a layer with fewer copies takes proportionally more reads."""
    net = load_network("resnet18")
    designs = _designs("rram", 400, seed=11)
    d = designs_from_frame(designs, "rram")
    a = layer_actions(d, net)
    r, layers = evaluate_network(d, net, per_layer=True)
    spare = r.timing.spare_crossbars
    np.testing.assert_array_equal(spare, d.n_macros - a.crossbars.sum(axis=1))
    # valid: the reference maps every layer and one copy of each fits in whole crossbars
    np.testing.assert_array_equal(r.valid, a.mappable.all(axis=1) & (spare >= 0))
    assert (a.mappable.all(axis=1) & (spare < 0)).any()  # designs whose cells fit but crossbars do not
    ok = r.valid
    copies = layers["copies"][ok]
    assert (copies >= 1).all() and (copies <= a.copies[ok]).all()
    used = ((copies - 1) * a.crossbars[ok]).sum(axis=1)
    assert (used <= spare[ok]).all()
    np.testing.assert_array_equal(layers["reads"][ok], np.ceil(a.cycles[ok] * a.copies[ok] / copies))
    limited = copies < a.copies[ok]
    assert limited.any() and (~limited).any() and (copies > 1).any()


def test_the_spare_crossbars_go_where_the_work_is():
    """Among the layers the reference spreads over many copies, the one with more reads per crossbar gets at
    least as many copies (the sqrt rule), on every design."""
    net = load_network("vgg16")
    d = designs_from_frame(_designs("rram", 300, seed=14), "rram")
    a = layer_actions(d, net)
    r, layers = evaluate_network(d, net, per_layer=True)
    ok = r.valid & (r.timing.spare_crossbars > 0)
    assert ok.any()
    share = np.sqrt(a.cycles * a.copies / a.crossbars)[ok]
    copies, cap = layers["copies"][ok], a.copies[ok]
    for i in range(len(copies)):
        free = copies[i] < cap[i]  # layers not capped at the reference's copies
        order = np.argsort(share[i][free], kind="stable")
        assert (np.diff(copies[i][free][order]) >= 0).all()


def test_streamed_weights_keep_the_reference_replicas():
    net = load_network("vgg16")
    d = designs_from_frame(_designs("sram", 200, seed=12), "sram")
    r, layers = evaluate_network(d, net, per_layer=True)
    np.testing.assert_array_equal(layers["reads"], layers["cycles"])
    assert (r.timing.spare_crossbars == -1).all() and r.valid.all()


def test_a_resident_set_shares_the_spare_crossbars():
    """deployment=resident holds every network at once: fewer replicas than one network at a time."""
    kw = dict(workloads=["resnet18", "alexnet"], memory="rram", objectives="eda")
    alone = WorkloadSetProblem(**kw, deployment="reprogram")
    together = WorkloadSetProblem(**kw, deployment="resident")
    genomes = alone.space.sample(4000, np.random.default_rng(13))
    a, t = alone.evaluate_genomes(genomes), together.evaluate_genomes(genomes)
    both = a.valid.all(axis=1) & t.valid.all(axis=1)
    assert both.any()
    assert (t.latency_s[both] >= a.latency_s[both] * (1 - 1e-12)).all()
    assert (t.latency_s[both] > a.latency_s[both]).any()


@pytest.mark.parametrize("kwargs, match", [
    (dict(performance="fast"), "unknown performance model 'fast'"),
    (dict(batch=0), "batch=0 is not a positive integer"),
    (dict(batch=2.5), "batch=2.5 is not a positive integer"),
    (dict(bounds={"dram_bandwidth": 1e9}), "unknown key.*problem.bounds.dram_bandwidth.*dram_bytes_per_s"),
    (dict(bounds={"pulse_width_s": -1e-9}), "problem.bounds.pulse_width_s=-1e-09 is not a positive number"),
    (dict(bounds={"power_w": float("nan")}), "problem.bounds.power_w=nan is not a positive number"),
    (dict(bounds={"input_pulses": "many"}), "problem.bounds.input_pulses='many' is not a positive number"),
])
def test_bad_performance_settings_are_one_line(kwargs, match):
    with pytest.raises(ProblemError, match=match) as err:
        WorkloadSetProblem("resnet18", "rram", "edap", **kwargs)
    assert "\n" not in str(err.value)
    with pytest.raises(PerformanceError, match=match.split("problem.")[-1].split(".*")[-1]):
        Performance.of(kwargs.get("performance", "bounded"), kwargs.get("bounds"), kwargs.get("batch", 1))


def test_the_packaged_limits_carry_their_sources():
    """Every limit is a value of conf/bounds/default.yaml with a comment above it naming where it comes from."""
    from imc_moo.hardware import BOUNDS_FILE

    lines = BOUNDS_FILE.read_text().splitlines()
    chip = ChipBounds.packaged()
    for name in chip.as_dict():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}:"))
        assert lines[at - 1].startswith("# "), name
    assert chip.input_pulse_train_s == pytest.approx(2.55e-6)
    assert chip.as_dict()["power_w"] is None


PERSIST_SCRIPT = """
import numpy as np
from imc_moo.problem import WorkloadSetProblem
p = WorkloadSetProblem(["alexnet", "resnet18"], "sram", "eda")
ev = p.evaluate_genomes(p.space.sample(300, np.random.default_rng(0)))
from imc_moo.model.performance import bounded_table
loaded = sum(bounded_table(net, "sram", p.performance, True).n_loaded for net in p.networks)
print(ev.latency_s.tobytes().hex(), ev.energy_j.tobytes().hex(), loaded)
"""


def test_bounded_tables_persist_and_are_verified(tmp_path):
    """A later process reads the bounded sums from the cache (and gives the same bytes); a damaged entry is
    warned of in one line and computed again."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "IMC_MOO_CACHE": str(tmp_path)}

    def run():
        done = subprocess.run([sys.executable, "-c", PERSIST_SCRIPT], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        latency, energy, loaded = done.stdout.split()
        return (latency, energy), int(loaded), done.stderr

    first, loaded, _ = run()
    assert loaded == 0
    entries = sorted((tmp_path / "bounded").glob("*.npz"))
    assert len(entries) == 2
    second, loaded, err = run()
    assert second == first and loaded > 0 and not err
    entries[0].write_bytes(entries[0].read_bytes()[:-40])  # truncated
    third, loaded, err = run()
    assert third == first and len(err.strip().splitlines()) == 1 and "ignoring the cache entry" in err
