"""The swept values of a sweep as columns of their own in summary.csv and comparison.csv (they were shown only
inside labels such as ``nsga2[mutation_prob=0.25][pop_size=20]``), typed, read from each job's Hydra record."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from imc_moo.report import report
from imc_moo.report.readers import run_overrides

SWEPT = ["algorithm.mutation_prob", "algorithm.pop_size"]


@pytest.fixture(scope="module")
def sweep(finished_sweep_of) -> Path:
    return finished_sweep_of("algorithm=nsga2", "algorithm.pop_size=20,30", "algorithm.mutation_prob=0.25,0.5",
                             "budget=60", "plots=false", "progress=false")


def test_each_swept_key_is_a_typed_column_after_the_label(sweep, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    report(copy, plots=False)
    summary = pd.read_csv(copy / "summary.csv")
    columns = list(summary.columns)
    assert columns[columns.index("label") + 1:columns.index("label") + 3] == SWEPT
    assert "plots" not in columns and "progress" not in columns  # the same for every run: not swept
    assert columns.count("budget") == 1 and columns.count("algorithm") == 1  # columns already: not repeated
    assert summary["algorithm.pop_size"].dtype.kind == "i" and summary["algorithm.mutation_prob"].dtype.kind == "f"
    assert sorted(zip(summary["algorithm.pop_size"], summary["algorithm.mutation_prob"])) == [
        (20, 0.25), (20, 0.5), (30, 0.25), (30, 0.5)]
    for _, row in summary.iterrows():
        assert f"[mutation_prob={row['algorithm.mutation_prob']}][pop_size={row['algorithm.pop_size']}]" in row.label
        recorded = OmegaConf.load(copy / row.run / ".hydra" / "overrides.yaml")
        assert f"algorithm.pop_size={row['algorithm.pop_size']}" in recorded
    comparison = pd.read_csv(copy / "comparison.csv")
    columns = list(comparison.columns)
    assert columns[columns.index("label") + 1:columns.index("label") + 3] == SWEPT
    for _, row in comparison.iterrows():
        assert f"[mutation_prob={row['algorithm.mutation_prob']}][pop_size={row['algorithm.pop_size']}]" in row.label
    assert "| algorithm.mutation_prob | algorithm.pop_size |" in (copy / "report.md").read_text()


def test_a_run_without_its_record_keeps_its_row_without_the_values(sweep, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    damaged = next(copy.glob("0_*"))
    (damaged / ".hydra" / "overrides.yaml").write_text("[unclosed")
    assert run_overrides(damaged) == {}
    summary = report(copy, plots=False).set_index("run")
    assert (summary.status == "ok").all() and len(summary) == 4
    assert summary.loc[damaged.name, SWEPT].isna().all() and summary.drop(damaged.name)[SWEPT].notna().all().all()
    assert summary["algorithm.pop_size"].dtype == "Int64"  # whole numbers stay whole beside the missing one


def test_overrides_are_typed_as_hydra_parses_them(tmp_path):
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text(
        "- algorithm.pop_size=80\n- algorithm.mutation_prob=0.2466\n- plots=false\n- ~seed\n"
        "- problem.workloads=[resnet18,vgg16]\n- algorithm@algorithm.inner=nsga2\n- +method=joint\n")
    assert run_overrides(tmp_path) == {
        "algorithm.pop_size": 80, "algorithm.mutation_prob": 0.2466, "plots": False,
        "problem.workloads": '["resnet18", "vgg16"]', "algorithm.inner": "nsga2", "method": "joint"}
