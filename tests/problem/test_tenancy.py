"""The partitioned chip (imc_moo.problem.tenancy): one partition is today's chip bit for bit, a partition is a chip of
its own, and the rates and endurance constraints hold on every feasible design."""

from __future__ import annotations

import numpy as np
import pytest

from imc_moo.problem import PartitionedProblem, ProblemError, WorkloadSetProblem, make_problem
from imc_moo.problem.deployment import FRAME_S
from imc_moo.problem.space import space_lists

TENANCY = {k: v for k, v in space_lists("tenancy").items() if k != "name"}


@pytest.mark.parametrize("memory, workloads, deployment, performance, mix", [
    ("rram", "cnn4", None, "bounded", {"inferences_per_switch": 100}),
    ("rram", "cnn4", "resident", "bounded", None),
    ("rram", "cnn4", None, "reference", None),
    ("sram", "cnn4", None, "bounded", None),
    ("sram", "mixed9", "resident", "bounded", None),
])
def test_one_partition_is_todays_chip(memory, workloads, deployment, performance, mix):
    today = WorkloadSetProblem(workloads, memory=memory, deployment=deployment, performance=performance, mix=mix)
    one = PartitionedProblem(workloads, memory=memory, partitions=1, deployment=deployment, performance=performance,
                             mix=mix)
    assert (one.n_var, one.n_ieq_constr, one.constraint_names) == (today.n_var, today.n_ieq_constr,
                                                                    today.constraint_names)
    genomes = today.space.sample(400, np.random.default_rng(3))
    a, b = today.evaluate_genomes(genomes), one.evaluate_genomes(genomes)
    for field, value in vars(a).items():
        assert np.array_equal(value, getattr(b, field)), field
    assert today.results_frame(genomes, a).equals(one.results_frame(genomes, b))


def test_make_problem_builds_the_partitioned_chip_only_when_asked():
    assert type(make_problem("cnn4", memory="rram")) is WorkloadSetProblem
    assert type(make_problem("cnn4", memory="rram", partitions=2, space=TENANCY)) is PartitionedProblem
    with pytest.raises(ProblemError, match="partitions=0"):
        make_problem("cnn4", partitions=0)


@pytest.mark.parametrize("deployment", ["reprogram", "resident"])
def test_a_partition_is_a_chip_of_its_own(deployment):
    """Each network's energy and time on a K = 2 chip are those of its partition evaluated alone with the networks
    placed on it, and the chip's area is the sum of the partitions' areas."""
    chip = PartitionedProblem("cnn4", memory="rram", partitions=2, deployment=deployment, space=TENANCY)
    genomes = chip.space.sample(300, np.random.default_rng(5))
    ev = chip.evaluate_genomes(genomes)
    table = chip.results_frame(genomes, ev)
    place = np.column_stack([table[f"place_{w}"] for w in chip.workloads])
    checked = 0
    for k in range(2):
        for pattern in np.unique(place == k, axis=0):
            rows = np.flatnonzero(((place == k) == pattern).all(axis=1))
            nets = [w for w, on in zip(chip.workloads, pattern) if on]
            if not nets:
                assert (table.loc[rows, f"p{k}_area_mm2"] == 0).all()
                continue
            alone = WorkloadSetProblem(nets, memory="rram", deployment=deployment, space=TENANCY)
            shared = ("voltage", "base_latency_s", "technology_nm")
            designs = table.loc[rows, [c if c in shared else f"p{k}_{c}" for c in alone.space.names]]
            designs.columns = list(alone.space.names)
            part = alone.evaluate_genomes(alone.space.encode(designs.reset_index(drop=True)))
            cols = [chip.workloads.index(w) for w in nets]
            assert np.array_equal(part.area_mm2, table.loc[rows, f"p{k}_area_mm2"].to_numpy())
            assert np.array_equal(part.energy_j, ev.energy_j[np.ix_(rows, cols)])
            assert np.array_equal(part.latency_s, ev.latency_s[np.ix_(rows, cols)])
            assert np.array_equal(part.valid, ev.valid[np.ix_(rows, cols)])
            checked += len(rows)
    assert checked == 2 * len(genomes) - (table[["p0_area_mm2", "p1_area_mm2"]] == 0).to_numpy().sum()
    assert np.allclose(ev.area_mm2, table["p0_area_mm2"] + table["p1_area_mm2"], rtol=1e-15, atol=0)


def test_rates_hold_on_every_feasible_design():
    rates = {"resnet50": 30.0, "mobilenet_v3": 60.0, "mobilebert": 5.0}
    chip = PartitionedProblem(list(rates), memory="rram", memories=["rram", "sram"], partitions=3, space=TENANCY,
                              mix={"rates_hz": rates})
    genomes = chip.space.sample(4000, np.random.default_rng(11))
    ev = chip.evaluate_genomes(genomes)
    table = chip.results_frame(genomes, ev)
    feasible = table[table["feasible"]]
    assert 0 < len(feasible) < len(table)  # the rates bind, and can be met
    r = np.array(list(rates.values()))
    names = list(rates)
    for k in range(3):
        on_k = np.column_stack([feasible[f"place_{w}"] == k for w in names])
        times = feasible[[f"latency_s_{w}" for w in names]].to_numpy()
        assert ((on_k * times * r).sum(axis=1) <= FRAME_S * (1 + 1e-12)).all()
    power = feasible[[f"energy_j_{w}" for w in names]].to_numpy() @ r
    assert np.allclose(power, feasible["power_at_rates_w"], rtol=1e-12)
    assert (power <= feasible["area_mm2"] * chip.performance.bounds.power_density_w_per_mm2 * (1 + 1e-12)).all()
    # a shared RRAM partition rewritten every frame wears out within its lifetime: never feasible
    for k in range(3):
        shared = (np.column_stack([feasible[f"place_{w}"] == k for w in names]).sum(axis=1) > 1)
        assert not (shared & (feasible[f"p{k}_deployment"] == "reprogram")).any()


def test_rates_set_the_shares_and_bad_rates_are_one_line():
    chip = PartitionedProblem(["resnet18", "alexnet"], partitions=2, space=TENANCY,
                              mix={"rates_hz": {"resnet18": 30, "alexnet": 10}})
    assert np.allclose(chip.deployment.shares, [0.75, 0.25])
    with pytest.raises(ProblemError, match="mix.rates_hz.alexnet=-1 is not a positive number"):
        PartitionedProblem(["resnet18", "alexnet"], partitions=2, space=TENANCY,
                           mix={"rates_hz": {"resnet18": 30, "alexnet": -1}})
    with pytest.raises(ProblemError, match="both given"):
        PartitionedProblem(["resnet18", "alexnet"], partitions=2, space=TENANCY,
                           mix={"rates_hz": {"resnet18": 30, "alexnet": 1}, "shares": {"resnet18": 1, "alexnet": 1}})


def test_one_partition_of_a_chosen_memory_names_its_columns():
    chip = PartitionedProblem("cnn4", memory="rram", memories=["rram", "sram"], partitions=1, space=TENANCY)
    genomes = chip.space.sample(200, np.random.default_rng(2))
    table = chip.results_frame(genomes, chip.evaluate_genomes(genomes))
    assert {"p0_memory", "p0_xbar_rows", "p0_glb_mib", "p0_area_mm2", "p0_deployment"} <= set(table)
    assert set(table["p0_memory"]) == {"rram", "sram"}
    assert (table.loc[table["p0_memory"] == "sram", "p0_bits_per_cell"] == 1).all()
    assert np.array_equal(table["p0_area_mm2"], table["area_mm2"])
