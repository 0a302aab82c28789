"""Every study config in conf/experiment runs through the CLI at a tiny budget and its report agrees with the runs;
the sweep's jobs, as imc-moo enumerates them before a sweep starts (resuming), are Hydra's basic sweeper's."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from imc_moo.app.config import compose_config
from imc_moo.app.experiment import BASIC_SWEEPER, sweep_combinations, sweep_jobs
from imc_moo.report import reductions, report

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml"))


def study(finished_sweep_of, name: str, *overrides: str) -> Path:
    """The study ``name`` run at a tiny budget (seed 0, 150 designs per job)."""
    return finished_sweep_of(f"+experiment={name}", "seed=0", "budget=150", *overrides)


def test_every_study_has_a_config():
    assert set(EXPERIMENTS) == {"joint_vs_baselines", "optimizers", "aggregations", "ablation", "technology",
                                "deployment", "physics", "tenancy"}


#: Narrower sweeps where the whole study would make the suite slow (tests/report/test_comparison.py covers the rest).
NARROWED = {"optimizers": ("problem=rram_cnn4,sram_cnn4",),
            "deployment": ("problem.workloads=[resnet18,mobilenet_v3]", "problem.mix.inferences_per_switch=100,null"),
            "physics": ("problem=rram_cnn4", "+method=joint"),
            "tenancy": ("problem=tenancy_cnn4,tenancy_rates", "problem.partitions=2", "algorithm=random")}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_study_runs_and_report_matches_runs(finished_sweep_of, name):
    directory = study(finished_sweep_of, name, *NARROWED.get(name, ()))
    summary = report(directory, plots=False)
    assert len(summary) > 0 and (summary.status == "ok").all()
    text = (directory / "report.md").read_text()
    assert "## Best EDAP and hypervolume per algorithm" in text
    for label in summary.label.unique():  # brackets escaped: a label is text, not a markdown link
        assert "| " + label.replace("[", "\\[").replace("]", "\\]") + " |" in text
    bests = {r: json.loads((directory / r / "best.json").read_text()) for r in summary.run}
    for _, row in summary.iterrows():
        best = bests[row.run]
        assert row.evaluations == best["evaluations"]
        if best["feasible"]:
            assert row.edap == pytest.approx(best["edap"])
        else:  # no feasible design: no EDAP (null in best.json)
            assert best["edap"] is None and pd.isna(row.edap)
    comp = pd.read_csv(directory / "comparison.csv")
    assert comp.runs.sum() == len(summary)
    if name == "ablation":
        assert {"phased_ga[hamming_init=false]", "phased_ga_1phase[hamming_init=true]"} <= set(summary.label)
    if name == "aggregations":
        assert set(summary.aggregation) == {"max", "mean", "sum", "geomean"}
    if name == "optimizers":
        assert "## The optimizers against the exact yardstick" in text
        assert {b["objectives"] for b in bests.values()} == {"eda"}
    if name == "deployment":
        assert "## Deployment: resident, reprogrammed or streamed weights" in text
        table = pd.read_csv(directory / "deployment.csv")
        assert len(table) == 10 and set(table.deployment) == {"resident", "reprogram", "stream"}
    if name == "technology":
        assert "## Technology: EDAP vs manufacturing cost" in text
        assert all(b["objectives"] == "edap_cost" for b in bests.values())


def test_joint_vs_baselines_numbers_follow_from_best_json(finished_sweep_of):
    directory = study(finished_sweep_of, "joint_vs_baselines", "problem=sram_cnn4")
    report(directory, plots=False)
    bests = {p.parent.name: json.loads(p.read_text()) for p in directory.glob("*/best.json")}
    by_alg = {b["algorithm"]: b for b in bests.values()}
    assert set(by_alg) == {"phased_ga", "specialized", "largest_workload", "sequential"}
    joint, spec = by_alg["phased_ga"], by_alg["specialized"]["specialized"]
    norm = pd.read_csv(directory / "normalized_edap.csv")
    for _, r in norm[norm.label == "phased_ga"].iterrows():
        assert r.normalized_edap == pytest.approx(joint["per_workload"][r.workload]["edap"] / spec[r.workload]["edap"])
    set_red, _ = reductions(None, {Path(k): v for k, v in bests.items()})
    for _, r in set_red.iterrows():
        assert r.reduction_pct == pytest.approx(100 * (1 - joint["edap"] / by_alg[r.baseline]["edap"]))
    assert f"{set_red.reduction_pct.iloc[0]:.4g}" in (directory / "report.md").read_text()


#: Sweeps whose job lists must be the basic sweeper's: choices, ranges, lists as values, group options placed by
#: package, appended keys, a key given twice (the later replaces the earlier, in its place).
SWEEPS = [
    ["algorithm=phased_ga,nsga2", "seed=0,1,2"],
    ["seed=range(0,3)", "problem=rram_cnn4,sram_cnn4", "budget=100"],
    ["problem.workloads=[resnet18],[vgg16]", "space.xbar_rows=[128,256]", "algorithm=specialized",
     "algorithm@algorithm.inner=random,nsga2"],
    ["+method=joint,specialized", "seed=0,1", "problem.aggregation=max,mean", "seed=4,5,6"],
    ["problem.mix.inferences_per_switch=1,null", "+deployment_case=sram_stream,sram_resident", "seed=range(2,8,3)"],
]


def _study_params(name: str) -> list[str]:
    """A study's sweeper parameters as ``key=value`` lines (as the basic sweeper reads them)."""
    params = compose_config([f"+experiment={name}"], return_hydra_config=True).hydra.sweeper.params
    return [f"{k}={v}" for k, v in OmegaConf.to_container(params).items()]


@pytest.mark.parametrize("lines", SWEEPS + [_study_params(n) + ["seed=0"] for n in sorted(EXPERIMENTS)])
def test_sweep_enumeration_is_the_basic_sweepers(lines):
    """Hydra's public override parser gives the jobs of the basic sweeper in its order (checked against the
    upstream sweeper itself, a private class of Hydra this test alone imports)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (expected,) = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(lines), None)
    assert sweep_combinations(lines) == expected
    assert f"{BasicSweeper.__module__}.{BasicSweeper.__name__}" == BASIC_SWEEPER
    assert compose_config([], return_hydra_config=True).hydra.sweeper._target_ == BASIC_SWEEPER


def test_sweeps_that_cannot_be_told_before_they_run():
    assert sweep_combinations(["seed=shuffle(0,1,2)"]) is None
    assert sweep_combinations(["algorithm=glob(nsga*)"]) is None
    assert sweep_combinations(["budget=interval(1,2)"]) is None


def test_sweep_jobs_of_a_study_follow_the_sweepers_order(tmp_path):
    jobs = sweep_jobs(["+experiment=technology", "seed=0,1", f"hydra.sweep.dir={tmp_path}"])
    assert [(c.algorithm.name, c.seed, c.hydra.job.num) for _, c in jobs] == [
        ("phased_ga", 0, 0), ("phased_ga", 1, 1), ("nsga2", 0, 2), ("nsga2", 1, 3)]
    assert all(d.parent == tmp_path and d.name.startswith(f"{c.hydra.job.num}_sram_cnn4_technology_")
               for d, c in jobs)
