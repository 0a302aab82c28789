"""The workload-set problem under the bounded model: what each design delivers, pipelined networks, and limits on
latency, throughput and power."""

from __future__ import annotations

import numpy as np
import pytest

from imc_moo.model.api import evaluate_set
from imc_moo.problem import ProblemError, WorkloadSetProblem

KW = dict(workloads=["resnet18", "alexnet"], memory="rram", objectives="eda")


@pytest.fixture(scope="module")
def genomes():
    return WorkloadSetProblem(**KW).space.sample(3000, np.random.default_rng(21))


def test_a_pipeline_starts_an_inference_every_slowest_layer(genomes):
    seq = WorkloadSetProblem(**KW)
    pipe = WorkloadSetProblem(**KW, pipeline=True)
    a, b = seq.evaluate_genomes(genomes), pipe.evaluate_genomes(genomes)
    np.testing.assert_array_equal(a.latency_s, b.latency_s)  # latency stays the sum of the layers
    np.testing.assert_array_equal(a.interval_s, a.latency_s)
    ok = b.valid.all(axis=1)
    assert ok.any() and (b.interval_s[ok] <= b.latency_s[ok]).all() and (b.interval_s[ok] < b.latency_s[ok]).any()
    r = evaluate_set(pipe.designs(genomes), pipe.networks, pipe._theta, performance=pipe.performance,
                     holding="network")
    area = pipe.designs(genomes).total_area_mm2[:, None]
    expect = np.maximum(r.timing.max_layer_s, b.energy_j / (1.0 * area))  # 1 W/mm2: the packaged limit
    np.testing.assert_allclose(b.interval_s, expect, rtol=1e-12)
    frame = pipe.results_frame(genomes, b)
    mapped = b.valid[:, 0]  # a network that cannot be mapped has no throughput (NaN)
    np.testing.assert_allclose(frame["throughput_per_s_resnet18"][mapped], 1.0 / b.interval_s[mapped, 0], rtol=1e-12)
    assert frame["throughput_per_s_resnet18"][~mapped].isna().all()
    assert (frame.power_density_w_per_mm2[ok] <= 1.0 + 1e-9).all()


def test_limits_are_constraints_on_the_worst_network(genomes):
    free = WorkloadSetProblem(**KW).evaluate_genomes(genomes)
    ok = free.feasible
    latency = np.quantile(free.latency_s[ok].max(axis=1), 0.5)
    p = WorkloadSetProblem(**KW, limits={"latency_s": latency, "throughput_per_s": None, "power_w": 2.0})
    assert p.constraint_names[-3:] == ("latency_s_limit", "power_w_limit", "unmappable_workloads")
    ev = p.evaluate_genomes(genomes)
    g_latency, g_power = ev.G[:, -3], ev.G[:, -2]
    np.testing.assert_allclose(g_latency, ev.latency_s.max(axis=1) / latency - 1, rtol=1e-12)
    np.testing.assert_allclose(g_power, (ev.energy_j / ev.interval_s).max(axis=1) / 2.0 - 1, rtol=1e-12)
    meets = ok & (ev.latency_s.max(axis=1) <= latency) & ((ev.energy_j / ev.latency_s).max(axis=1) <= 2.0)
    np.testing.assert_array_equal(ev.feasible, meets)
    assert 0 < ev.feasible.sum() < ok.sum()


def test_a_throughput_a_pipeline_meets_and_a_sequence_does_not(genomes):
    pipe = WorkloadSetProblem(**KW, pipeline=True).evaluate_genomes(genomes)
    ok = pipe.valid.all(axis=1) & (pipe.G[:, :-1] <= 0).all(axis=1)
    target = 1.0 / np.quantile(pipe.interval_s[ok].max(axis=1), 0.5)
    seq = WorkloadSetProblem(**KW, limits={"throughput_per_s": target}).evaluate_genomes(genomes)
    piped = WorkloadSetProblem(**KW, pipeline=True, limits={"throughput_per_s": target}).evaluate_genomes(genomes)
    assert piped.feasible.sum() > seq.feasible.sum()
    assert (piped.feasible >= seq.feasible).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(pipeline=True, performance="reference"), "pipeline=true needs performance=bounded"),
    (dict(pipeline=True, memory="sram"), "streams them from DRAM: set deployment=resident or reprogram"),
    (dict(limits={"speed": 3}), r"unknown limit\(s\) limits.speed: use latency_s, throughput_per_s, power_w"),
    (dict(limits={"latency_s": 0}), "limits.latency_s=0 is not a positive number"),
    (dict(limits={"power_w": True}), "limits.power_w=True is not a positive number"),
])
def test_bad_pipeline_and_limits_are_one_line(kwargs, match):
    with pytest.raises(ProblemError, match=match) as err:
        WorkloadSetProblem(**{**KW, **kwargs})
    assert "\n" not in str(err.value)


def test_the_reference_model_reports_power_no_chip_could_dissipate(genomes):
    p = WorkloadSetProblem(**KW, performance="reference")
    ev = p.evaluate_genomes(genomes)
    frame = p.results_frame(genomes, ev)
    ok = frame.feasible
    assert (frame.bound == "none").all() and (frame.bound_resnet18 == "none").all()  # nothing bounds it
    assert frame.over_power_limit[ok].any()
    np.testing.assert_array_equal(frame.over_power_limit[ok], (frame.power_density_w_per_mm2[ok] > 1.0 + 1e-9))
    bounded = WorkloadSetProblem(**KW)
    frame = bounded.results_frame(genomes, bounded.evaluate_genomes(genomes))
    assert not frame.over_power_limit.any() and set(frame.bound[frame.feasible]) <= {
        "compute", "pulses", "adc", "glb", "router", "dram", "write", "power"}


def test_the_throughput_objectives_search_the_interval_between_inferences(genomes):
    p = WorkloadSetProblem(**{**KW, "objectives": "eta"}, pipeline=True)
    assert p.objective_names == ("energy_j", "interval_s", "area_mm2") and p.n_obj == 3
    ev = p.evaluate_genomes(genomes)
    F = p.objective_values(ev)
    ok = ev.valid.all(axis=1)
    np.testing.assert_array_equal(F[ok, 1], ev.interval_s[ok].max(axis=1))  # aggregation max
    frame = p.results_frame(genomes, ev)
    np.testing.assert_array_equal(frame.interval_s[ok], ev.interval_s[ok].max(axis=1))
    assert frame.interval_s[~ok].isna().all()  # a design with a network that cannot be mapped has no interval
