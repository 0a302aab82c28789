"""What a run's CSVs hold, read back as a user reads them (plain ``pandas.read_csv``): the long per-network table
beside the wide one, no numeric sentinels (NaN and a ``mappable`` flag where a value does not exist), one dtype per
column whatever the algorithm, and the run's identifier columns in every table a sweep pools
(docs/reference/outputs.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from imc_moo.app.experiment import CONF_DIR, run
from imc_moo.problem import PENALTY, WorkloadSetProblem

#: Every kind of search: the phased GA, pymoo's algorithms, random search and the method's baselines.
ALGORITHMS = ("phased_ga", "nsga2", "nsga3", "ga", "random", "specialized", "largest_workload", "sequential")
#: The CSVs a sweep pools.
POOLED = ("archive.csv", "pareto.csv", "pareto_networks.csv", "history.csv")
RUN_COLUMNS = ["problem", "algorithm", "seed", "label"]
NETWORKS = ["resnet18", "vgg16", "alexnet", "mobilenet_v3"]


def cfg_for(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="test"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """One small run per algorithm (rram_cnn4, 300 designs; about 0.3 s each)."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for algorithm in ALGORITHMS:
        out[algorithm] = root / algorithm
        run(cfg_for([f"algorithm={algorithm}", "budget=300", "seed=1", "plots=false", "progress=false"]),
            out[algorithm])
    return out


def test_the_pareto_designs_are_written_one_row_per_design_and_network(runs):
    """pareto_networks.csv: one row per Pareto design x network, matched to pareto.csv by design_id, with the
    values of pareto.csv's per-network columns, so a melt or a pivot needs no column-name parsing."""
    d = runs["phased_ga"]
    wide, long = pd.read_csv(d / "pareto.csv"), pd.read_csv(d / "pareto_networks.csv")
    assert len(wide) > 0 and len(long) == len(wide) * len(NETWORKS)
    assert list(long.columns) == [*RUN_COLUMNS, "design_id", "workload", "mappable", "energy_j", "latency_s", "edap",
                                  "power_w", "throughput_per_s", "tops_per_w", "tops_per_mm2", "bound"]
    assert wide["design_id"].is_unique and list(long["design_id"].unique()) == list(wide["design_id"])
    assert list(long["workload"][:len(NETWORKS)]) == NETWORKS
    for value in ("energy_j", "latency_s", "edap", "power_w", "throughput_per_s", "tops_per_w", "tops_per_mm2",
                  "bound"):
        pivot = long.pivot(index="design_id", columns="workload", values=value).loc[wide["design_id"], NETWORKS]
        expected = wide[[f"{value}_{w}" for w in NETWORKS]].to_numpy()
        assert (pivot.to_numpy() == expected).all(), value
    assert long["mappable"].all()  # the front is feasible, so every network maps


def test_the_long_table_from_python():
    """``WorkloadSetProblem.table(X, per_network=True)`` and :func:`per_network_table` of the wide table: the same
    long table; the switching columns come with a deployment whose switches cost."""
    from imc_moo.problem import per_network_table

    problem = WorkloadSetProblem("cnn4", memory="rram", deployment="reprogram",
                                 mix={"inferences_per_switch": 1000})
    X = problem.space.sample(40, np.random.default_rng(4))
    wide, long = problem.table(X), problem.table(X, per_network=True)
    pd.testing.assert_frame_equal(long, per_network_table(wide))
    assert list(long.columns) == ["design_id", "workload", "mappable", "energy_j", "latency_s", "edap", "power_w",
                                  "throughput_per_s", "tops_per_w", "tops_per_mm2", "bound", "switch_energy_j",
                                  "switch_latency_s"]
    assert len(long) == 40 * 4 and (long.groupby("design_id").size() == 4).all()
    row = long.iloc[5]  # the second design, its second network
    assert row["workload"] == "vgg16" and row["design_id"] == wide["design_id"].iloc[1]
    assert row["switch_energy_j"] == wide["switch_energy_j_vgg16"].iloc[1]
    melted = long.melt(id_vars=["design_id", "workload"], value_vars=["edap", "energy_j"])  # no name collides
    assert set(melted["variable"]) == {"edap", "energy_j"} and len(melted) == 2 * len(long)


def test_no_numeric_sentinel_a_design_that_cannot_be_mapped_is_nan_and_flagged(runs):
    """No CSV holds the search's PENALTY (1e30) or any other stand-in number: where a network cannot be mapped, its
    values are empty and ``mappable``/``mappable_<network>`` say so."""
    unmapped = 0
    for d in runs.values():
        for name in POOLED:
            table = pd.read_csv(d / name)
            numbers = table.select_dtypes("number").to_numpy(dtype=float)
            assert not (np.abs(numbers[np.isfinite(numbers)]) >= PENALTY / 10).any(), (d.name, name)
        archive = pd.read_csv(d / "archive.csv")
        assert archive["mappable"].dtype == bool and archive["feasible"].dtype == bool
        lost = ~archive["mappable"]
        unmapped += int(lost.sum())
        assert archive.loc[lost, ["edap", "energy_j", "latency_s", "power_w"]].isna().all().all()
        assert archive.loc[~lost, ["edap", "energy_j", "latency_s", "power_w"]].notna().all().all()
        assert not archive.loc[lost, "feasible"].any() and (archive.loc[lost, "g_unmappable_workloads"] > 0).all()
        for w in NETWORKS:
            gone = ~archive[f"mappable_{w}"]
            assert archive.loc[gone, [f"energy_j_{w}", f"edap_{w}", f"power_w_{w}"]].isna().all().all()
            assert (archive.loc[gone, f"bound_{w}"] == "none").all()
        np.testing.assert_array_equal(archive["mappable"], archive[[f"mappable_{w}" for w in NETWORKS]].all(axis=1))
    assert unmapped > 0  # the runs did meet designs that cannot be mapped (RRAM: MobileNetV3 on few crossbars)


def test_every_column_reads_back_with_one_dtype_whatever_the_algorithm(runs):
    """Plain pandas.read_csv gives each column one dtype across every algorithm: text columns are text (a token
    where there is nothing to say, not an empty cell), floats stay floats when their values are whole."""
    for name in POOLED:
        dtypes: dict[str, set[str]] = {}
        for d in runs.values():
            table = pd.read_csv(d / name)
            if table.empty:  # a run with no feasible design: a header only (documented)
                continue
            for column, dtype in table.dtypes.items():
                dtypes.setdefault(column, set()).add(str(dtype))
        mixed = {c: sorted(t) for c, t in dtypes.items() if len(t) > 1}
        assert not mixed, (name, mixed)
    history = pd.concat([pd.read_csv(d / "history.csv") for d in runs.values()], ignore_index=True)
    assert history["feasible_fraction"].dtype == float and history["hypervolume"].dtype == float
    archive = pd.read_csv(runs["phased_ga"] / "archive.csv")
    assert archive["g_unmappable_workloads"].dtype == float and archive["glb_mib"].dtype == float


def test_the_phase_is_text_for_every_algorithm(runs):
    """history.csv's phase: the phased GA's phase, a baseline's network or stage, and ``none`` for a search
    without phases; never an empty cell that reads back as a float."""
    for algorithm, d in runs.items():
        phase = pd.read_csv(d / "history.csv")["phase"]
        assert pd.api.types.is_string_dtype(phase) and phase.notna().all(), algorithm
        if algorithm in ("nsga2", "nsga3", "ga", "random"):
            assert set(phase) == {"none"}, algorithm


def test_the_fidelity_warning_reads_back_as_text(runs):
    """``fidelity_warning`` says ``none`` where the model has no doubt (RRAM: every design), so the column is text,
    not an all-NaN float column; likewise ``bound``."""
    for algorithm, d in runs.items():
        archive = pd.read_csv(d / "archive.csv")
        assert pd.api.types.is_string_dtype(archive["fidelity_warning"]), algorithm
        assert (archive["fidelity_warning"] == "none").all(), algorithm
        assert pd.api.types.is_string_dtype(archive["bound"]) and archive["bound"].notna().all(), algorithm


def test_every_pooled_table_names_its_run(runs):
    """archive.csv, pareto.csv, pareto_networks.csv and history.csv start with problem, algorithm, seed and label
    (best.json's), so a sweep's convergence is one concat and a groupby, without a glob-and-merge."""
    for algorithm, d in runs.items():
        best = json.loads((d / "best.json").read_text())
        for name in POOLED:
            table = pd.read_csv(d / name)
            assert list(table.columns[:4]) == RUN_COLUMNS, (algorithm, name)
            for column in RUN_COLUMNS:
                assert (table[column] == best[column]).all(), (algorithm, name, column)
    pooled = pd.concat([pd.read_csv(d / "history.csv") for d in runs.values()], ignore_index=True)
    last = pooled.groupby(["problem", "label", "seed"]).evaluations.max()
    assert set(last.index.get_level_values("label")) == set(ALGORITHMS) and (last <= 300).all()
