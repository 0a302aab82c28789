"""The Hydra experiment app and the sweep report, driven through the compose API and as a user would (subprocess)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from imc_moo.app.config import build_problem, run_label
from imc_moo.app.experiment import CONF_DIR, run
from imc_moo.problem.indicators import OBJECTIVES, nondominated
from imc_moo.report import report

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["budget=300", "algorithm.n_candidates=200", "algorithm.n_select=100", "algorithm.pop_size=30"]
BEST_KEYS = {"algorithm", "problem", "seed", "budget", "evaluations", "edap", "design", "per_workload",
             "wall_time_s", "version", "stop_reason"}


def cfg_for(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="test"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def test_defaults_and_overrides_compose():
    cfg = cfg_for([])
    assert (cfg.problem.name, cfg.algorithm.name, cfg.budget, cfg.seed) == ("rram_cnn4", "phased_ga", 3300, 0)
    assert cfg.hydra.run.dir.startswith("runs/") and cfg.hydra.sweep.dir.startswith("runs/multirun/")
    cfg = cfg_for(["algorithm=nsga3", "problem=sram_mixed9", "seed=7", "problem.aggregation=mean"])
    assert (cfg.algorithm.name, cfg.problem.memory, cfg.problem.workloads, cfg.seed) == ("nsga3", "sram", "mixed9", 7)
    assert cfg.problem.aggregation == "mean"


def test_run_writes_consistent_outputs(tmp_path):
    cfg = cfg_for(SMALL + ["problem.objectives=eda", "plots=true", "progress=false"])
    summary = run(cfg, tmp_path)
    for name in ("archive.csv", "pareto.csv", "history.csv", "best.json", "pareto.png", "convergence.png"):
        assert (tmp_path / name).is_file(), name
    best = json.loads((tmp_path / "best.json").read_text())
    assert BEST_KEYS <= set(best) and best == json.loads(json.dumps(summary))
    assert set(best["per_workload"]) == {"resnet18", "vgg16", "alexnet", "mobilenet_v3"}
    archive = pd.read_csv(tmp_path / "archive.csv")
    assert best["evaluations"] == len(archive) <= 300  # the budget is a hard cap
    pareto = pd.read_csv(tmp_path / "pareto.csv")
    assert len(pareto) > 0 and pareto["feasible"].all()
    assert nondominated(pareto[list(OBJECTIVES)].to_numpy()).all()
    feasible = archive[archive.feasible]
    assert best["edap"] == pytest.approx(feasible.edap.min())
    history = pd.read_csv(tmp_path / "history.csv")
    assert np.all(np.diff(history.evaluations) >= 0) and history.evaluations.iloc[-1] == len(archive)
    assert np.all(np.diff(history.best_edap.dropna()) <= 0)  # best so far never gets worse
    assert np.all(np.diff(history.hypervolume) >= -1e-12) and 0 < history.hypervolume.iloc[-1] <= 1


@pytest.mark.parametrize("algorithm", ["phased_ga", "nsga2", "sequential"])
def test_same_seed_byte_identical_outputs(tmp_path, algorithm):
    cfg = cfg_for([f"algorithm={algorithm}", "budget=300", "plots=false", "progress=false", "seed=3"])
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    for name in ("archive.csv", "pareto.csv", "history.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    a, b = (json.loads((tmp_path / d / "best.json").read_text()) for d in "ab")
    assert {**a, "wall_time_s": 0} == {**b, "wall_time_s": 0}  # the wall time is the one measured value


def test_gene_value_lists_from_the_command_line_change_the_space(cli, tmp_path):
    cfg = cfg_for(["space.xbar_rows=[128,256]", "space.glb_mib=[1]", "space.technology_nm=[14,32]"])
    space = build_problem(cfg.problem).space
    assert space.values["xbar_rows"] == (128, 256) and space.fixed["glb_depth"] == 4096
    assert space.values["technology_nm"] == (14, 32) and "glb_depth" not in space.names
    assert space.size == 12_096_000 // 5 * 2 // 7 * 2
    out = tmp_path / "run"
    res = cli.process(*SMALL, "space.xbar_rows=[128,256]", "space.glb_mib=[1]", "plots=false", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    archive = pd.read_csv(out / "archive.csv")
    assert set(archive.xbar_rows) == {128, 256} and set(archive.glb_mib) == {1.0}
    # a problem picks its own value lists: the 9-workload SRAM problem searches the large SRAM lists
    assert cfg_for(["problem=sram_mixed9"]).space.name == "sram_large"
    assert cfg_for(["problem=sram_mixed9", "space=sram"]).space.name == "sram"


def test_budget_is_never_exceeded_and_the_stop_is_explained(tmp_path):
    for budget, algorithm in ((500, "nsga2"), (1000, "random"), (333, "specialized")):
        cfg = cfg_for([f"algorithm={algorithm}", f"budget={budget}", "plots=false", "progress=false"])
        best = run(cfg, tmp_path / algorithm)
        assert best["evaluations"] <= budget and len(pd.read_csv(tmp_path / algorithm / "archive.csv")) <= budget
        assert best["stop_reason"]


def test_cli_default_style_run(cli, tmp_path):
    out = tmp_path / "run"
    res = cli.process(*SMALL, "plots=false", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    assert str(out) in res.stdout and "best EDAP" in res.stdout
    # the line says what the numbers are: aggregated over the networks, latency of one batch-1 inference
    best = json.loads((out / "best.json").read_text())
    assert f"area {best['area_mm2']:.4g} mm²" in res.stdout and "max over networks: energy " in res.stdout
    assert re.search(r"latency [\d.]+ [mµnp]?s per inference \(batch 1, layers in sequence\)", res.stdout)
    # what the chip delivers, and what bounds it (the default bounded model)
    assert re.search(r"; [\d.]+ [mµk]?W \([\d.e+-]+ W/mm²\), [\d.]+ TOPS/W, [\d.e+-]+ TOPS/mm², bound by \w+\)",
                     res.stdout), res.stdout
    assert json.loads((out / "best.json").read_text())["problem"] == "rram_cnn4"


def test_multirun_and_report(cli, tmp_path):
    sweep = tmp_path / "sweep"
    res = cli.process("-m", "algorithm=phased_ga,random", "seed=0,1", "budget=600", "plots=false", "progress=false",
                  f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    runs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert len(runs) == 4 and all((r / "best.json").is_file() for r in runs)
    summary = report(sweep)
    assert len(summary) == 4 and (summary.status == "ok").all()
    assert set(summary.algorithm) == {"phased_ga", "random"} and set(summary.seed) == {0, 1}
    comp = pd.read_csv(sweep / "comparison.csv")
    assert set(comp.label) == {"phased_ga", "random"} and (comp.runs == 2).all()
    for _, row in summary.iterrows():
        best = json.loads((sweep / row.run / "best.json").read_text())["edap"]
        # a run that found no feasible design (no EDAP) is reported as NaN, not as a number
        assert row.edap == pytest.approx(best) if best is not None else np.isnan(row.edap)
    for fig in ("best_edap_box.png", "convergence.png", "pareto_fronts.png"):
        assert (sweep / fig).is_file()
    # a crashed run (no best.json) is named, the others still reported
    (runs[0] / "best.json").unlink()
    summary = report(sweep, plots=False)
    assert (summary.status == "failed").sum() == 1 and (summary.status == "ok").sum() == 3
    assert summary.loc[summary.status == "failed", "run"].iloc[0] == runs[0].name


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_parallel_launchers(cli, tmp_path, launcher):
    """A sweep through the launcher, then the same sweep resumed through it after one job lost its results: the
    job runs again, the complete one is left as it was (resuming is decided in each job's own process)."""
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher" if launcher == "joblib"
                        else "hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / launcher
    extra = ["hydra.launcher.n_jobs=2"] if launcher == "joblib" else ["hydra.launcher.timeout_min=5"]
    args = ("-m", f"hydra/launcher={launcher}", *extra, "algorithm=random", "seed=0,1", "budget=140",
            "plots=false", "progress=false", f"hydra.sweep.dir={sweep}")
    res = cli.process(*args)
    assert res.returncode == 0, res.stderr[-2000:]
    bests = sorted(sweep.glob("*/best.json"))
    assert len(bests) == 2
    assert {json.loads(b.read_text())["seed"] for b in bests} == {0, 1}
    kept, lost = (b.parent for b in bests)
    (lost / "best.json").rename(lost / "interrupted.json")  # as a job stopped by a time limit leaves it
    before, logs = cli.stamps(kept, logs=False), {p: p.read_bytes() for p in kept.glob("*.log")}
    res = cli.process(*args)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "1 of 2 jobs complete (skipped), 1 to run" in res.stdout
    assert cli.stamps(kept, logs=False) == before and all(p.read_bytes().startswith(b) for p, b in logs.items())
    assert (lost / "best.json").is_file() and not (lost / "interrupted.json").exists()


def test_own_networks_by_library_dir_and_by_path(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    net = "name: {name}\ndescription: tiny\nlayers:\n  - {{name: conv, C: 3, M: 8, R: 3, S: 3, P: 16, Q: 16}}\n"
    (lib / "my_net.yaml").write_text(net.format(name="my_net"))
    (tmp_path / "other_net.yaml").write_text(net.format(name="other_net"))
    cfg = cfg_for([f"problem.library_dirs=[{lib}]",
                   f"problem.workloads=[my_net,{tmp_path / 'other_net.yaml'},resnet18]"])
    problem = build_problem(cfg.problem)
    assert problem.workloads == ["my_net", "other_net", "resnet18"]  # outputs are labelled by network name
    summary = run(OmegaConf.merge(cfg, {"budget": 200, "plots": False, "progress": False,
                                        "algorithm": {"n_candidates": 100, "n_select": 80, "pop_size": 20}}),
                  tmp_path / "run")
    assert set(summary["per_workload"]) == {"my_net", "other_net", "resnet18"}
    assert summary["problem"].startswith("rram_my_net+other_net+resnet18[library_dirs=")


SQUEEZENET = ROOT.parent / "shared" / "models" / "squeezenet1_1.onnx"


@pytest.mark.skipif(not SQUEEZENET.is_file(), reason="the shared ONNX model is not present")
def test_an_onnx_model_as_a_workload_names_the_run(cli, tmp_path):
    """README's worked example: an ONNX model beside a library network, imported on the fly; the run, its
    directory and its report are named by the networks, not by the rram_cnn4 problem the run started from."""
    res = cli.process(f"problem.workloads=[{SQUEEZENET},resnet18]", "budget=150", "algorithm=random", "plots=false",
                  "progress=false", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (best_path,) = (tmp_path / "runs").rglob("best.json")
    best = json.loads(best_path.read_text())
    assert best["problem"] == "rram_squeezenet1_1+resnet18" and set(best["per_workload"]) == {"squeezenet1_1",
                                                                                              "resnet18"}
    assert best_path.parent.name.endswith("_rram_squeezenet1_1+resnet18_random")


def test_a_run_with_no_feasible_design_is_a_result(cli, tmp_path):
    out = tmp_path / "none"
    res = cli.process(*SMALL, "problem.area_limit_mm2=1", "progress=false", f"hydra.run.dir={out}")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "NO feasible design; the least violating one exceeds" in res.stdout and "area +" in res.stdout
    best = json.loads((out / "best.json").read_text())
    assert best["feasible"] is False and best["edap"] is None and best["violations"]["area"] > 0
    assert all(v > 0 for v in best["violations"].values())
    for name in ("archive.csv", "history.csv", "pareto.csv", "pareto.png", "convergence.png"):
        assert (out / name).is_file(), name


def test_overwrite_replaces_every_file_of_the_earlier_run(cli, tmp_path):
    out = tmp_path / "run"
    assert cli.process(*SMALL, "progress=false", f"hydra.run.dir={out}").returncode == 0
    assert (out / "pareto.png").is_file()
    res = cli.process(*SMALL, "seed=1", "plots=false", "progress=false", f"hydra.run.dir={out}")
    assert res.returncode == 2 and "already holds the results" in res.stderr
    assert json.loads((out / "best.json").read_text())["seed"] == 0
    res = cli.process(*SMALL, "seed=1", "plots=false", "progress=false", "overwrite=true", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "best.json").read_text())["seed"] == 1
    assert not (out / "pareto.png").exists()  # no figure of the earlier run beside the new tables


def test_inner_search_in_the_documented_form(cli, tmp_path):
    """A baseline's inner search is the node algorithm.inner: its knobs are keys of it, another algorithm is chosen
    with the group override algorithm@algorithm.inner=..., and both show in the run's label."""
    cfg = cfg_for(["algorithm=specialized", "algorithm@algorithm.inner=nsga2", "algorithm.inner.pop_size=20"])
    assert (cfg.algorithm.inner.name, cfg.algorithm.inner.pop_size) == ("nsga2", 20)
    assert cfg.hydra.runtime.choices["algorithm@algorithm.inner"] == "nsga2"
    assert run_label(cfg) == "specialized[inner=nsga2][inner.pop_size=20]"
    out = tmp_path / "spec"
    res = cli.process("algorithm=specialized", "algorithm.inner.n_candidates=100", "algorithm.inner.n_select=40",
                  "algorithm.inner.pop_size=20", "budget=300", "plots=false", "progress=false",
                  f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    best = json.loads((out / "best.json").read_text())
    assert best["label"] == "specialized[inner.n_candidates=100][inner.n_select=40][inner.pop_size=20]"
    sweep = tmp_path / "sweep"
    res = cli.process("-m", "algorithm=largest_workload", "algorithm@algorithm.inner=random,nsga2", "budget=100",
                  "plots=false", "progress=false", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    labels = {json.loads(p.read_text())["label"] for p in sweep.glob("*/best.json")}
    assert labels == {"largest_workload[inner=random]", "largest_workload[inner=nsga2]"}


def test_compose_api_in_a_fresh_interpreter(tmp_path):
    """Hydra's Compose API on the package, nothing of imc_moo imported first: the conf package registers the
    schemas and resolvers it needs; instantiate gives the problem and the algorithm (a baseline with its inner
    search)."""
    code = textwrap.dedent("""
        import sys
        from hydra import compose, initialize_config_module
        from hydra.utils import instantiate
        assert not any(m.startswith("imc_moo") for m in sys.modules)
        initialize_config_module(version_base="1.3", config_module="imc_moo.conf")
        cfg = compose("config")
        assert (cfg.algorithm.name, cfg.problem.name) == ("phased_ga", "rram_cnn4")
        cfg = compose("config", overrides=["algorithm=nsga2", "problem=sram_cnn4"], return_hydra_config=True)
        assert cfg.hydra.run.dir.endswith("_sram_cnn4_nsga2"), cfg.hydra.run.dir
        cfg = compose("config", overrides=["algorithm=specialized", "algorithm@algorithm.inner=ga"])
        factory = instantiate(cfg.algorithm)
        assert factory.keywords["name"] == "specialized" and factory.keywords["inner"].keywords["name"] == "ga"
        problem = instantiate(cfg.problem)
        assert problem.workloads == ["resnet18", "vgg16", "alexnet", "mobilenet_v3"]
        assert "imc_moo.app.experiment" not in sys.modules
        print("ok")
    """)
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-3000:]


def test_overridden_problems_are_reported_apart(cli, tmp_path):
    sweep = tmp_path / "sweep"
    res = cli.process("-m", "problem.workloads=[resnet18],[vgg16]", "space.xbar_rows=[128,256]", "algorithm=random",
                  "budget=140", "plots=false", "progress=false", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    summary = report(sweep, plots=False)
    # named by the networks the command line chose (not as the rram_cnn4 problem they started from)
    assert set(summary.problem) == {"rram_resnet18[space.xbar_rows=[128, 256]]",
                                    "rram_vgg16[space.xbar_rows=[128, 256]]"}
    assert {p.name.split("_", 1)[1] for p in sweep.iterdir() if p.is_dir()} == {"rram_resnet18_random_seed0",
                                                                                "rram_vgg16_random_seed0"}
    comp = pd.read_csv(sweep / "comparison.csv")
    assert len(comp) == 2 and (comp.runs == 1).all()
    # a value wrong for one job only (memory without its value lists) fails that job alone, in one line
    res = cli.process("-m", "problem.memory=rram,sram", "algorithm=random", "budget=140", "plots=false",
                  "progress=false", f"hydra.sweep.dir={tmp_path / 'mixed'}")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "1 of 2 jobs failed" in res.stderr and "design space 'rram' is for rram, not sram" in res.stderr


def test_help_lists_the_library_studies_and_outputs(cli, tmp_path):
    res = cli.process("--help", cwd=tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    for text in ("resnet18", "sets cnn4, mixed9", "+experiment=", "imc-moo-report", "problem.performance=reference",
                 "$IMC_MOO_PROBLEMS"):
        assert text in res.stdout, text


def test_one_colour_per_algorithm_across_a_report():
    from imc_moo.report import label_palette

    a = label_palette(["phased_ga", "nsga2", "nsga2", "random"])
    assert a == label_palette(["random", "phased_ga", "nsga2"])  # whatever order the runs come in
    assert len(set(a.values())) == 3


@pytest.mark.parametrize("algorithm", ["phased_ga", "nsga2"])
def test_the_streamed_archive_is_the_archive_written_at_once(cli, tmp_path, monkeypatch, algorithm):
    """A run appends its archive to disk as it goes (so a stop keeps it within seconds); block by block, the file
    is byte for byte the table written at once, however often it is flushed."""
    from imc_moo.app import experiment, export
    from imc_moo.files import csv_text

    blocks = []

    def counted(table, header=True):
        blocks.append(len(table))
        return csv_text(table, header)

    def run(interval_s: float, where: str) -> int:
        blocks.clear()
        monkeypatch.setattr(export, "STREAM_INTERVAL_S", interval_s)
        monkeypatch.setattr(export, "csv_text", counted)
        monkeypatch.setattr(sys, "argv", ["imc-moo", "budget=400", f"algorithm={algorithm}", "plots=false",
                                          "progress=false", "seed=3", f"hydra.run.dir={tmp_path / where}"])
        experiment.cli()
        return len([b for b in blocks if b])

    assert run(0.0, "each") > 4  # appended after every generation
    assert run(1e9, "once") == 1  # never before the end: one block
    each = (tmp_path / "each" / "archive.csv").read_bytes()
    assert each == (tmp_path / "once" / "archive.csv").read_bytes()
    archive = pd.read_csv(tmp_path / "once" / "archive.csv")
    assert len(archive) == 400 and not (tmp_path / "each" / export.STREAMED_ARCHIVE).exists()
    assert each.decode().count("\n") == 401 and each.decode().splitlines()[0] == ",".join(archive.columns)
    assert csv_text(archive.head(0)).strip() == each.decode().splitlines()[0]


def test_cli_partitioned_chip_run(cli, tmp_path):
    """problem=tenancy_rates runs from the command line and prints the chip as its partitions, whose networks,
    memories and areas best.json and the archive hold too."""
    out = tmp_path / "run"
    res = cli.process("problem=tenancy_rates", *SMALL, f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    best = json.loads((out / "best.json").read_text())
    parts = best["partitions"]
    assert sorted(w for p in parts for w in p["networks"]) == sorted(["resnet50", "mobilenet_v3", "mobilebert"])
    assert sum(p["area_mm2"] for p in parts) == pytest.approx(best["area_mm2"], rel=1e-12)
    assert f"chip of {len(parts)} partition(s): p{parts[0]['partition']} {parts[0]['memory'].upper()}" in res.stdout
    assert re.search(r"; [\d.]+ [mµk]?W on average at the mix's rates\)", res.stdout), res.stdout
    assert best["power_at_rates_w"] > 0
    archive = pd.read_csv(out / "archive.csv")
    assert {"place_resnet50", "p0_memory", "p2_deployment", "power_at_rates_w", "g_load_p0"} <= set(archive)
    feasible = archive[archive["feasible"]]
    assert (feasible[["g_load_p0", "g_load_p1", "g_load_p2", "g_power_at_rates"]] <= 0).all().all()
    assert (out / "chip.png").stat().st_size > 0  # the chip drawn as its partitions
