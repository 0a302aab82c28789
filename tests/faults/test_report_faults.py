"""Damaged sweep directories given to ``imc-moo-report``: each damaged run is named, the rest reported, no run's
files changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from imc_moo import report

ROOT = Path(__file__).resolve().parents[2]





def _job(sweep: Path, n: int) -> Path:
    return next(sweep.glob(f"{n}_*"))


DAMAGE = [
    # (id, damage(sweep), runs reported ok, text in the failed run's reason / on stderr)
    ("truncated best.json", lambda s: (_job(s, 0) / "best.json").write_text('{"algorithm": "ran'), 2,
     "best.json is damaged"),
    ("best.json not an object", lambda s: (_job(s, 0) / "best.json").write_text("[]"), 2,
     "best.json is damaged (a list, not an object)"),
    ("best.json wrong type", lambda s: (_job(s, 0) / "best.json").write_text(json.dumps(
        {**json.loads((_job(s, 0) / "best.json").read_text()), "edap": "low"})), 2, "wrong type of edap"),
    ("best.json empty", lambda s: (_job(s, 0) / "best.json").write_text(""), 2, "best.json is damaged"),
    ("history.csv columns lost", lambda s: (_job(s, 1) / "history.csv").write_text("generation,phase\n1"), 3,
     "history.csv"),
    ("pareto.csv empty", lambda s: (_job(s, 1) / "pareto.csv").write_text(""), 3, "pareto.csv"),
    ("config unreadable, no best.json", lambda s: ((_job(s, 2) / ".hydra" / "config.yaml").write_text("a: [x"),
                                                   (_job(s, 2) / "best.json").unlink()), 2, "no best.json"),
    ("job never started", lambda s: shutil.rmtree(_job(s, 1)), 2, "never started"),
    ("multirun.yaml damaged", lambda s: (s / "multirun.yaml").write_text("hydra: [unclosed"), 3,
     "skipping"),
    ("failed.json damaged", lambda s: ((_job(s, 0) / "best.json").unlink(),
                                       (_job(s, 0) / "failed.json").write_text("{not json")), 2, "no best.json"),
    ("interrupted run", lambda s: ((_job(s, 0) / "best.json").rename(_job(s, 0) / "interrupted.json")), 2,
     "after 120 designs (incomplete)"),
]


@pytest.mark.parametrize("damage, ok, needle", [(d, k, n) for _, d, k, n in DAMAGE], ids=[i for i, *_ in DAMAGE])
def test_a_damaged_sweep_is_reported_run_by_run(cli, tmp_path, capsys, finished_sweep, damage, ok, needle):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    damage(sweep)
    runs_before = {k: v for k, v in cli.snapshot(sweep).items() if "/" in k}
    figures = needle and needle.endswith(".csv")  # the figures are what read history.csv and pareto.csv
    assert report.main([str(sweep)] if figures else [str(sweep), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    summary = pd.read_csv(sweep / "summary.csv")
    assert len(summary) == 3 and (summary.status == "ok").sum() == ok
    if needle:
        assert needle in " ".join(summary.reason.dropna()) + err
    assert {k: v for k, v in cli.snapshot(sweep).items() if "/" in k} == runs_before  # the report writes its own files
    assert all(len(line) < 400 for line in err.splitlines())


@pytest.mark.parametrize("make, needle", [
    (lambda d: d, "is not a directory"),
    (lambda d: (d.mkdir(), d)[1], "no runs found"),
    (lambda d: (d.mkdir(), (d / "notes.txt").write_text("x"), d)[2], "no runs found"),
])
def test_no_sweep_to_report_is_one_line(tmp_path, capsys, make, needle):
    target = make(tmp_path / "sweep")
    assert report.main([str(target)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("imc-moo-report: error: ") and needle in lines[0], lines


