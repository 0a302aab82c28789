"""``imc-moo-design``: one design's report, from real small runs. The per-network numbers are the run's own
(``best.json``, ``pareto_networks.csv``) to the last bit, the components and layers sum to them, the files are
written whole (and documented in docs/reference/outputs.md), the Python API returns the same tables, and the figures
stay within 4,000 px a side whatever the number of networks."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf, open_dict

from imc_moo import evaluate
from imc_moo.app.experiment import CONF_DIR, run
from imc_moo.report import DesignReportError, design_report
from imc_moo.report.design import FIGURES, REPORT_FILES, layer_time_figure, main
from imc_moo.workloads import load_workloads

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "reference" / "outputs.md"
#: Small runs whose problems differ in what the report must reproduce: the default chip (bounded, RRAM, one
#: network's weights held), SRAM with every network held at once (the set's spare crossbars, no weight loading),
#: switches that cost (amortised switching), the reference model, SRAM streaming a batch under a power limit that
#: binds.
RUNS = {
    "rram": ["budget=300"],
    "sram_resident": ["problem=sram_cnn4", "budget=1000", "problem.deployment=resident",
                      "problem.workloads=[resnet18,mobilenet_v3]"],
    "switching": ["budget=300", "problem.deployment=reprogram", "problem.mix.inferences_per_switch=10000"],
    "reference": ["budget=300", "problem.performance=reference"],
    "sram_power": ["problem=sram_cnn4", "budget=300", "problem.batch=4", "problem.bounds.power_w=0.05"],
}


def cfg_for(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="test"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def run_with_record(overrides, directory: Path) -> Path:
    """A run as ``imc-moo`` makes it: its results and Hydra's record of its config (``.hydra/config.yaml``,
    interpolations unresolved), which the report rebuilds the run's problem from."""
    cfg = cfg_for(overrides)
    run(cfg, directory)
    task = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    with open_dict(task):
        del task["hydra"]
    (directory / ".hydra").mkdir()
    OmegaConf.save(task, directory / ".hydra" / "config.yaml")
    return directory


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("design_runs")
    return {name: run_with_record([*overrides, "seed=2", "plots=false", "progress=false"], root / name)
            for name, overrides in RUNS.items()}


def _png_size(path: Path) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("name", list(RUNS))
def test_the_report_is_the_runs_numbers_and_its_parts_sum_to_them(runs, name):
    """Every per-network value best.json records, to the last bit; the energy components sum to the energy, and the
    layers' times plus switching plus the power-limit stretch to the latency."""
    best = json.loads((runs[name] / "best.json").read_text())
    report = design_report(runs[name])
    assert report.directory is None and not (runs[name] / "design").exists()  # the API writes only when asked
    assert report.design == best["design"]
    assert best["feasible"] and report.summary["feasible"]
    assert report.summary["area_mm2"] == best["area_mm2"] and report.summary["edap"] == best["edap"]
    nets = report.networks.set_index("network")
    assert list(nets.index) == list(best["per_workload"])
    for net, saved in best["per_workload"].items():
        for key in ("energy_j", "latency_s", "edap", "power_w", "throughput_per_s", "tops_per_w", "tops_per_mm2"):
            assert nets.loc[net, key] == saved[key], (net, key)  # bit for bit: the run's own evaluation
        assert nets.loc[net, "bound"] == (saved["bound"] or "none")
        assert report.chip["area_mm2"].iloc[-1] == saved["area_mm2"]
        comps = report.components[report.components["network"] == net]
        energy = comps[comps["quantity"] == "energy_j"]
        time = comps[comps["quantity"] == "time_s"]
        np.testing.assert_allclose(energy["value"].sum(), saved["energy_j"], rtol=1e-12)
        np.testing.assert_allclose(time["value"].sum(), saved["latency_s"], rtol=1e-12)
        np.testing.assert_allclose(energy["share"].sum(), 1.0, rtol=1e-12)
        layers = report.layers[report.layers["network"] == net]
        np.testing.assert_allclose(layers["energy_j"].sum(), saved["energy_j"] - nets.loc[net].get(
            "switch_energy_j", 0.0), rtol=1e-9)
        np.testing.assert_allclose(layers["latency_s"].sum(), nets.loc[net, "layers_s"], rtol=1e-12)
        assert len(layers) == load_workloads(net)[0].n_layers
    assert not report.notes  # the numbers agree with the record: no note about them
    area = report.components[report.components["quantity"] == "area_mm2"]
    np.testing.assert_allclose(area["value"].sum(), best["area_mm2"], rtol=1e-12)
    if name == "switching":
        assert (report.components["component"] == "switching").any() and (nets["switch_latency_s"] > 0).all()
    if name == "sram_resident":  # the weights stay on chip: no weight loading, every network's weights at once
        assert report.summary["holding"] == "set" and not report.summary["pays_weight_loading"]
        energy = report.components[report.components["quantity"] == "energy_j"]
        assert not energy["component"].isin(["dram", "cell_write", "weight_drivers"]).any()
        assert report.layers["crossbars"].sum() <= report.summary["crossbars"]  # every copy of every network
    if name == "reference":
        assert (report.layers["bound"] == "none").all()
        assert set(report.components.loc[report.components["quantity"] == "time_s", "component"]) == {"cycles"}
    if name == "sram_power":
        assert (nets["bound"] == "power").any() and (nets["power_stretch_s"] > 0).any()


def test_the_command_writes_every_file_whole(runs, capsys):
    """``imc-moo-design <run>``: the report directory beside the run's files, each table readable with its units
    in its column names, design.md with the design, the chip, the networks and their slowest layers, no staging
    directory left."""
    target = runs["rram"]
    before = sorted(p.name for p in target.iterdir())
    assert main([str(target)]) == 0
    out = capsys.readouterr().out
    report_dir = target / "design"
    assert f"report in {report_dir}" in out and "resnet18" in out
    assert sorted(p.name for p in report_dir.iterdir()) == sorted([*REPORT_FILES, *FIGURES])
    assert sorted(p.name for p in target.iterdir()) == sorted([*before, "design"])  # nothing hidden left behind
    report = design_report(target)
    pd.testing.assert_frame_equal(pd.read_csv(report_dir / "networks.csv"), report.networks, check_dtype=False,
                                  rtol=1e-9)
    layers = pd.read_csv(report_dir / "layers.csv")
    assert len(layers) == sum(n.n_layers for n in load_workloads("cnn4"))
    assert pd.api.types.is_string_dtype(layers["layer"]) or pd.api.types.is_integer_dtype(layers["layer"])
    for column in ("energy_j", "latency_s", "bound", "copies", "crossbars", "crossbar_share", "row_groups",
                   "col_groups", "weight_tiles", "cell_fill", "pulses_s", "energy_cell_j"):
        assert column in layers, column
    components = pd.read_csv(report_dir / "components.csv")
    assert set(components["quantity"]) == {"energy_j", "time_s", "area_mm2"}
    text = (report_dir / "design.md").read_text(encoding="utf-8")
    for heading in ("## The design", "## The chip", "## Per network", "### Energy by component [",
                    "### Time by what bounds it [", "## Per layer: the 10 slowest layers of each network",
                    "### resnet18 (21 layers)", "![Energy per inference by component, per network]"):
        assert heading in text, heading
    assert "| voltage | 0.5 | V |" in text or re.search(r"\| voltage \| [\d.]+ \| V \|", text)
    for figure in FIGURES:
        width, height = _png_size(report_dir / figure)
        assert 200 < width <= 4000 and 150 < height <= 4000, figure
    # again: refused without --force (one line, nothing changed), replaced with it
    stamp = {p.name: p.read_bytes() for p in report_dir.iterdir()}
    assert main([str(target)]) == 2
    assert "already holds a design report: replace it with --force" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in report_dir.iterdir()} == stamp
    assert main([str(target), "--force", "--no-plots", "--top", "3"]) == 0
    assert sorted(p.name for p in report_dir.iterdir()) == sorted(REPORT_FILES)
    assert "the 3 slowest layers" in (report_dir / "design.md").read_text(encoding="utf-8")


def test_a_row_or_a_design_id_of_the_run(runs):
    """``--row N`` reports pareto.csv's row N, ``--design-id`` any design of archive.csv: their numbers are the
    run's pareto_networks.csv / archive.csv values."""
    target = runs["rram"]
    pareto = pd.read_csv(target / "pareto.csv")
    long = pd.read_csv(target / "pareto_networks.csv")
    row = min(2, len(pareto) - 1)
    report = design_report(target, row=row)
    assert report.source == f"row {row} of {target}/pareto.csv"
    saved = long[long["design_id"] == pareto["design_id"].iloc[row]].set_index("workload")
    nets = report.networks.set_index("network")
    for key in ("energy_j", "latency_s", "edap"):  # the CSV holds 10 significant digits
        np.testing.assert_allclose(nets[key], saved.loc[nets.index, key], rtol=1e-9, err_msg=key)
    assert (nets["bound"] == saved.loc[nets.index, "bound"]).all()
    archive = pd.read_csv(target / "archive.csv")
    picked = archive[archive["feasible"]].iloc[-1]
    by_id = design_report(target, design_id=int(picked["design_id"]))
    assert by_id.source.endswith("archive.csv") or by_id.source.endswith("pareto.csv")
    for net in by_id.networks.itertuples():
        np.testing.assert_allclose([net.energy_j, net.latency_s], [picked[f"energy_j_{net.network}"],
                                                                   picked[f"latency_s_{net.network}"]], rtol=1e-9)


def test_a_design_given_as_key_value_pairs_is_the_cost_models(tmp_path):
    """Without a run: the design on the default problem of its networks and memory: imc_moo.evaluate's numbers,
    energy and area per component."""
    design = {"voltage": 0.8, "bits_per_cell": 2, "base_latency_s": 1e-9, "xbar_rows": 256, "xbar_cols": 256,
              "router_group": 16, "tiles_per_chip": 32, "macros_per_tile": 32, "glb_mib": 2}
    pairs = [f"{k}={v}" for k, v in design.items()]
    report = design_report(design=pairs, workloads="cnn4", memory="rram", out=tmp_path / "mine")
    assert report.source == "a design given as key=value" and report.design["technology_nm"] == 32
    assert report.networks["mappable"].all() and report.notes == [
        "the design is not feasible: area +3.33 (normalised excess of each violated constraint; see "
        "docs/reference/outputs.md)"]  # 3,465 mm2 of a 800 mm2 limit: reported all the same
    assert sorted(report.files) == sorted([*REPORT_FILES, *FIGURES])
    model = evaluate(pd.DataFrame([design]), "cnn4", "rram", components=True).set_index("workload")
    nets = report.networks.set_index("network")
    np.testing.assert_allclose(nets["energy_j"], model.loc[nets.index, "energy_j"], rtol=1e-12)
    np.testing.assert_allclose(nets["latency_s"], model.loc[nets.index, "latency_s"], rtol=1e-12)
    assert (nets["bound"] == model.loc[nets.index, "bound"]).all()
    energy = report.components[report.components["quantity"] == "energy_j"]
    for net in nets.index:
        for comp in energy.loc[energy["network"] == net, "component"]:
            got = energy.loc[(energy["network"] == net) & (energy["component"] == comp), "value"].iloc[0]
            np.testing.assert_allclose(got, model.loc[net, f"energy_{comp}_j"], rtol=1e-9, atol=1e-18)
    area = report.chip.set_index("component")
    for comp in ("adc", "row_drivers", "cells", "buffers", "glb"):
        np.testing.assert_allclose(area.loc[comp, "area_mm2"], model[f"area_{comp}_mm2"].iloc[0], rtol=1e-12)
    # the same from the command line, as the guide shows it
    assert main([*pairs, "--workloads", "cnn4", "--memory", "rram", "-o", str(tmp_path / "cli"), "--no-plots"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cli" / "networks.csv"),
                                  pd.read_csv(tmp_path / "mine" / "networks.csv"))


def test_a_runs_design_with_a_parameter_changed(runs):
    best = json.loads((runs["rram"] / "best.json").read_text())
    other = 256 if best["design"]["xbar_rows"] != 256 else 128
    report = design_report(runs["rram"], design=[f"xbar_rows={other}"])
    assert report.design["xbar_rows"] == other and report.source.endswith(f"with xbar_rows={other}")
    assert report.design["voltage"] == best["design"]["voltage"]
    assert (report.networks["energy_j"] != pd.Series(
        [v["energy_j"] for v in best["per_workload"].values()])).any()
    with pytest.raises(DesignReportError, match=r"xbar_rows=100 is outside the run's design space \(rram\): use one "
                                                r"of 32, 64, 128, 256, 512"):
        design_report(runs["rram"], design={"xbar_rows": 100})


def test_a_run_without_a_feasible_design_reports_its_least_violating_one(tmp_path):
    """A result too (docs/guide/design.md): best.json's least-violating design, marked infeasible with its
    violations, its networks that cannot be mapped without numbers (empty, not zero)."""
    target = run_with_record(["budget=120", "problem.area_limit_mm2=0.01", "plots=false", "progress=false"],
                             tmp_path / "none_feasible")
    best = json.loads((target / "best.json").read_text())
    assert not best["feasible"]
    report = design_report(target, out=target / "design")
    assert report.design == best["design"] and "least violating" in report.source
    assert report.notes and report.notes[0].startswith("the design is not feasible: ")
    assert "area +" in report.notes[0]
    text = (target / "design" / "design.md").read_text(encoding="utf-8")
    assert "**not feasible**" in text and "> **Note:** the design is not feasible" in text
    unmapped = report.networks[~report.networks["mappable"]]
    values = report.components[report.components["network"].isin(unmapped["network"])
                               & (report.components["quantity"] != "area_mm2")]["value"]
    assert values.isna().all()
    for figure in FIGURES:
        assert (target / "design" / figure).is_file()


def test_a_run_without_its_hydra_record_gets_its_packaged_problem(runs, tmp_path):
    """A run directory holding its results but not ``.hydra/`` (copied without hidden files, say): the packaged
    problem best.json names, with its performance model, batch and aggregation, and a note saying so."""
    import shutil

    target = tmp_path / "copied"
    shutil.copytree(runs["rram"], target, ignore=shutil.ignore_patterns(".hydra", "design"))
    report = design_report(target)
    assert report.notes == [f"{target} has no readable .hydra/config.yaml: the problem is the packaged rram_cnn4 "
                            "with best.json's performance, batch, aggregation"]
    pd.testing.assert_frame_equal(report.networks, design_report(runs["rram"]).networks)


def test_the_layer_figure_stays_within_4000_px_whatever_the_number_of_networks(tmp_path):
    """40 networks of 200 layers: the panels shrink, the figure does not grow past 4,000 px a side."""
    rng = np.random.default_rng(0)
    names = [f"net{i:02d}" for i in range(40)]
    layers = pd.DataFrame({
        "network": np.repeat(names, 200), "layer_index": np.tile(np.arange(200), 40),
        "layer": np.tile([f"{i:03d}" for i in range(200)], 40), "latency_s": rng.uniform(1e-6, 1e-3, 8000),
        "bound": rng.choice(["pulses", "router", "dram"], 8000)})
    networks = pd.DataFrame({"network": names, "latency_s": layers.groupby("network", sort=False)["latency_s"].sum()
                             .to_numpy(), "switch_latency_s": 0.0, "power_stretch_s": 0.0})
    path = tmp_path / "layer_times.png"
    layer_time_figure(layers, networks, path)
    width, height = _png_size(path)
    assert width <= 4000 and height <= 4000


def _documented_columns(heading: str) -> set[str]:
    """The first cells of the table rows under the dictionary's heading naming ``heading``."""
    names: set[str] = set()
    inside = False
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            inside = f"`{heading}`" in line
        elif inside and line.startswith("| `"):
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def test_every_column_of_the_reports_tables_is_documented(runs):
    report = design_report(runs["switching"])
    for name, table in (("networks.csv", report.networks), ("components.csv", report.components),
                        ("layers.csv", report.layers)):
        documented = _documented_columns(name)
        patterns = [re.compile(re.sub(r"<[^>]+>", ".+", re.escape(d).replace(r"\<", "<").replace(r"\>", ">")) + "$")
                    for d in documented]
        missing = [c for c in table.columns if not any(p.match(c) for p in patterns)]
        assert not missing, (name, missing)


@pytest.fixture(scope="module")
def sweep(finished_sweep_of) -> Path:
    return finished_sweep_of("algorithm=random,phased_ga", "seed=0,1", "budget=600", "plots=false", "progress=false")


def test_a_sweeps_directory_reports_its_best_chip_or_the_run_holding_a_design(sweep, tmp_path, capsys):
    bests = {j: json.loads((j / "best.json").read_text()) for j in sweep.glob("*/best.json") for j in [j.parent]}
    feasible = {j: b["edap"] for j, b in bests.items() if b["feasible"]}
    best_job = min(feasible, key=feasible.get)
    report = design_report(sweep)
    assert str(best_job) in report.source and any("the sweep's best chip" in n for n in report.notes)
    assert report.networks.energy_j.tolist() == [bests[best_job]["per_workload"][w]["energy_j"]
                                                 for w in report.networks.network]
    # a design of another run, by its id: found in that run's files
    other = next(j for j in sorted(feasible) if j != best_job)
    front = pd.read_csv(other / "pareto.csv")
    picked = design_report(sweep, design_id=int(front.design_id.iloc[-1]))
    assert str(other) in picked.source
    # the command writes into the job's directory (of a copy: the session's sweep is shared); a row is one run's
    import shutil

    sweep = Path(shutil.copytree(sweep, tmp_path / "sweep"))
    assert main([str(sweep), "--no-plots"]) == 0
    assert (sweep / best_job.name / "design" / "design.md").is_file()
    capsys.readouterr()
    assert main([str(sweep), "--row", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a sweep of 4 runs: give a job's directory" in err[0]
