"""One line where a knob has no effect, where a budget ends before the search proper, and where a sweep starts and
ends (issue 26: 'problem.mix.shares with the default aggregation=max has no effect and nothing says so'; 'budget=500
never leaves the phased GA's initial sample'; 'a sweep does not print where it wrote or the report command')."""

from __future__ import annotations

import pytest

from imc_moo.app.config import compose_config
from imc_moo.app.experiment import notes, sweep_plan

SHARES = "problem.mix.shares={resnet18:4,vgg16:1,alexnet:1,mobilenet_v3:2}"


@pytest.mark.parametrize("overrides, says", [
    ([SHARES], "problem.mix.shares has no effect with problem.aggregation=max"),
    ([SHARES, "problem.aggregation=sum"], "problem.mix.shares has no effect with problem.aggregation=sum"),
    (["budget=500"], "budget=500 ends within the phased GA's initial sample (algorithm.n_select=500)"),
    (["algorithm=nsga2", "budget=50"], "budget=50 ends within the first population (algorithm.pop_size=70)"),
])
def test_a_knob_without_effect_or_a_budget_without_search_gets_a_note(overrides, says):
    lines = notes(compose_config(overrides))
    assert len(lines) == 1 and lines[0].startswith(says), lines


@pytest.mark.parametrize("overrides", [[], [SHARES, "problem.aggregation=mean"], ["budget=501"],
                                       ["algorithm=random", "budget=10"], ["algorithm=nsga2", "budget=71"]])
def test_no_note_when_everything_takes_effect(overrides):
    assert notes(compose_config(overrides)) == []


def test_a_sweep_says_its_jobs_directory_size_and_report_command(tmp_path):
    overrides = ["algorithm=random,nsga2", "budget=300,3300", "seed=0,1,2"]
    cfg = compose_config([f"hydra.sweep.dir={tmp_path}"], return_hydra_config=True)  # the first job's, as the CLI
    line = sweep_plan(cfg, overrides, tmp_path)
    assert line.startswith(f"imc-moo: sweep of 12 jobs into {tmp_path} (up to about ")
    # 6 jobs of 300 and 6 of 3,300 designs on 4 networks: about 15 MB
    size = float(line.split("(up to about ")[1].split(" MB")[0])
    assert 10 < size < 20, line
    assert line.endswith(f"when it ends: imc-moo-report {tmp_path}")


def test_a_sweep_prints_where_it_writes_and_what_to_run_next(tmp_path):
    import subprocess
    import sys

    sweep = tmp_path / "sweep"
    res = subprocess.run([sys.executable, "-m", "imc_moo", "-m", "algorithm=random", "seed=0,1", "budget=40",
                          "plots=false", "progress=false", f"hydra.sweep.dir={sweep}"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line for line in res.stdout.splitlines() if line.startswith("imc-moo: ")]
    assert lines[0].startswith(f"imc-moo: sweep of 2 jobs into {sweep}")
    assert lines[-1] == f"imc-moo: sweep ended: 2 of 2 jobs complete in {sweep}; next: imc-moo-report {sweep}"
