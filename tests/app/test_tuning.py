"""Tuning an algorithm's knobs with a sweeper that optimizes (docs/guide/tuning.md): the task returns a number every
sweeper accepts, also for a run without a feasible design or a failed job; the Optuna sweeper runs the packaged
``+tune=nsga2`` end to end and the report shows each trial's values as columns."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict

from imc_moo.app import experiment
from imc_moo.app.config import compose_config
from imc_moo.report import report

OPTUNA = importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is not None
needs_optuna = pytest.mark.skipif(not OPTUNA, reason="hydra-optuna-sweeper is not installed: pip install "
                                                     "'imc-moo[optuna]' (it is in the test extra)")
#: A problem no design of the space satisfies (area limit 1 mm²): every run ends without a feasible design.
INFEASIBLE = "problem.area_limit_mm2=1"
TINY = ["algorithm=random", "budget=40", "plots=false", "progress=false"]
#: A search that finds feasible designs (tests/app/test_app.py's).
SMALL = ["budget=300", "algorithm.n_candidates=200", "algorithm.n_select=100", "algorithm.pop_size=30", "plots=false",
         "progress=false"]


def task_return(tmp_path: Path, overrides: list[str], mode: RunMode = RunMode.RUN):
    """What the Hydra task function returns to the sweeper for one job of ``overrides`` (run in-process, as a
    launcher runs it)."""
    cfg = compose_config(overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(tmp_path / "job")
        cfg.hydra.mode = mode
        cfg.hydra.job.num = 0
        cfg.hydra.overrides.task = list(overrides)
    (tmp_path / "job").mkdir(exist_ok=True)  # as Hydra makes a job's directory before it runs the task
    task = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    HydraConfig.instance().set_config(cfg)
    try:
        return experiment.main(task)  # a config given to a @hydra.main function runs the task itself
    finally:
        HydraConfig.instance().cfg = None


@pytest.mark.parametrize("mode", [RunMode.RUN, RunMode.MULTIRUN])
def test_a_run_without_a_feasible_design_returns_infinity_not_none(tmp_path, mode):
    """None failed Hydra's Optuna sweeper ("Return value must be float-castable") and NaN fails Optuna's trial:
    inf is a completed trial, never the best of a minimize study while any trial found a feasible design."""
    value = task_return(tmp_path, [INFEASIBLE, *TINY], mode)
    best = json.loads((tmp_path / "job" / "best.json").read_text())
    assert best["feasible"] is False and best["edap"] is None
    assert isinstance(value, float) and value == math.inf


def test_a_run_returns_its_best_edap_as_a_float(tmp_path):
    value = task_return(tmp_path, SMALL)
    best = json.loads((tmp_path / "job" / "best.json").read_text())
    assert best["feasible"] is True and isinstance(value, float) and value == best["edap"]


def test_a_failed_sweep_job_returns_infinity(tmp_path, capsys):
    """A job whose value is wrong (recorded in failed.json) gives the sweeper a number too: the values that failed
    are the worst, and a sampling sweeper goes on (Nevergrad's sweeper gives its optimizer inf for a failed job)."""
    value = task_return(tmp_path, ["problem.memory=sram", *TINY], RunMode.MULTIRUN)
    assert value == math.inf and (tmp_path / "job" / "failed.json").is_file()
    assert "design space 'rram' is for rram, not sram" in capsys.readouterr().err


def test_a_skipped_complete_job_of_a_resumed_sweep_without_a_feasible_design_returns_infinity(tmp_path, capsys):
    overrides = [INFEASIBLE, *TINY]
    task_return(tmp_path, overrides, RunMode.MULTIRUN)
    (tmp_path / "job" / ".hydra").mkdir()  # the record Hydra writes for a sweep job, which resuming compares
    cfg = compose_config(overrides)
    (tmp_path / "job" / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    capsys.readouterr()
    value = task_return(tmp_path, overrides, RunMode.MULTIRUN)
    assert "skipped (complete)" in capsys.readouterr().out and value == math.inf


@needs_optuna
def test_the_optuna_sweeper_tunes_nsga2_and_the_report_shows_each_trials_values(cli, tmp_path):
    """``+tune=nsga2`` for three trials on a problem without feasible designs: every trial returns inf, the sweep
    ends well (it ended with "No trials are completed yet" when the task returned None), Optuna's best value is inf,
    and the report has the trials (no job "never started": Optuna runs n_trials jobs, not the product of its
    ranges), each swept knob a typed column of its own."""
    sweep = tmp_path / "sweep"
    res = cli.process("-m", "+tune=nsga2", "hydra.sweeper.n_trials=3", "budget=60", INFEASIBLE,
                      f"hydra.sweep.dir={sweep}", timeout=120)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "float-castable" not in res.stderr + res.stdout
    assert OmegaConf.load(sweep / "optimization_results.yaml").best_value == math.inf
    report(sweep, plots=False)
    summary = pd.read_csv(sweep / "summary.csv")
    assert len(summary) == 3 and (summary.status == "ok").all() and not summary.feasible.any()
    columns = list(summary.columns)
    assert columns[columns.index("label") + 1:][:2] == ["algorithm.mutation_prob", "algorithm.pop_size"]
    assert summary["algorithm.pop_size"].dtype.kind == "i" and summary["algorithm.mutation_prob"].dtype.kind == "f"
    for _, row in summary.iterrows():
        recorded = OmegaConf.load(sweep / row.run / ".hydra" / "overrides.yaml")
        assert f"algorithm.pop_size={row['algorithm.pop_size']}" in recorded
        assert 20 <= row["algorithm.pop_size"] <= 140 and row["algorithm.pop_size"] % 10 == 0
        assert 0.05 <= row["algorithm.mutation_prob"] <= 1.0
        assert f"[pop_size={row['algorithm.pop_size']}]" in row.label
    comparison = pd.read_csv(sweep / "comparison.csv")
    assert {"algorithm.mutation_prob", "algorithm.pop_size"} <= set(comparison.columns)
