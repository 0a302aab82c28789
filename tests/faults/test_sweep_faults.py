"""Sweeps: bad inputs for every job stop before any job runs; sweeps into another sweep's directory; failing jobs;
resumed sweeps (the same command into the same ``hydra.sweep.dir``) and the conflicts that stop them."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from imc_moo import report

ROOT = Path(__file__).resolve().parents[2]
GOOD_LAYER = "{name: conv, C: 3, M: 8, R: 3, S: 3, P: 16, Q: 16}"


def _job(sweep: Path, n: int) -> Path:
    return next(sweep.glob(f"{n}_*"))


SWEEP_CATALOGUE = [
    (["algorithm=nope,nsga2"], "Could not find 'algorithm/nope'"),
    (["budgt=1,2"], "unknown key 'budgt' (did you mean budget?)"),
    (["seed=range(0,3)", "plots=maybe"], "plots: Value 'maybe' is not a valid bool"),
    (["problem=rram_cnn4,sram_cnn5"], "Could not find 'problem/sram_cnn5'"),
    (["algorithm.pop_size=10,abc"], "algorithm.pop_size: Value 'abc'"),
]


@pytest.mark.parametrize("args, needle", SWEEP_CATALOGUE, ids=[" ".join(a) for a, _ in SWEEP_CATALOGUE])
def test_a_sweep_with_a_bad_input_for_every_job_stops_before_any_job(cli, tmp_path, args, needle):
    sweep_dir = tmp_path / "sweep"
    code, lines = cli.run(["-m", *args, f"hydra.sweep.dir={sweep_dir}"])
    assert code == 2 and len(lines) == 1 and needle in lines[0], lines
    assert not sweep_dir.exists()


def test_an_unwritable_sweep_directory_is_one_line(cli):
    code, lines = cli.run(["-m", "seed=0,1", "hydra.sweep.dir=/proc/imc_moo_sweep"])
    assert code == 2 and len(lines) == 1 and "cannot create the sweep directory" in lines[0]


#: What only a sampling sweeper (Optuna, Nevergrad) draws from: an interval, tagged (log scale) or cast to int.
SAMPLED = ["algorithm.mutation_prob=interval(0.05,1.0)", "algorithm.crossover_eta=tag(log, interval(5, 30))",
           "algorithm.pop_size=int(interval(20, 140))"]


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None,
                    reason="hydra-optuna-sweeper is not installed: pip install 'imc-moo[optuna]'")
@pytest.mark.parametrize("args", [SAMPLED, ["+tune=nsga2"], ["+tune=nsga2", *SAMPLED[:1], "seed=choice(0,1)"]],
                         ids=["command line", "+tune=nsga2", "both"])
def test_sweeper_only_syntax_passes_the_precheck_with_the_optuna_sweeper(tmp_path, args):
    """The pre-check composes what it can tell before the sweep (intervals are the sweeper's to draw) and checks
    that; it neither refuses the syntax nor starts anything."""
    from imc_moo.app.experiment import check_numbers, check_sweep

    overrides = ["hydra/sweeper=optuna", "algorithm=nsga2", *args, f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    check_numbers(overrides)
    cfg, sweep_dir = check_sweep(overrides)
    assert cfg.algorithm.name == "nsga2" and sweep_dir == tmp_path / "sweep" and not sweep_dir.exists()
    assert cfg.hydra.sweeper._target_.endswith("OptunaSweeper")


@pytest.mark.parametrize("args, shown, values", [
    (SAMPLED[:1], "algorithm.mutation_prob=interval(0.05,1.0)", "algorithm.mutation_prob=0.05,0.525,1"),
    (SAMPLED[1:2], "algorithm.crossover_eta=tag(log, interval(5, 30))", "algorithm.crossover_eta=5,17.5,30"),
    (SAMPLED[2:], "algorithm.pop_size=int(interval(20, 140))", "algorithm.pop_size=20,80,140"),
], ids=["interval", "tag(log, interval)", "int(interval)"])
def test_sweeper_only_syntax_on_the_basic_sweeper_is_one_line(cli, tmp_path, args, shown, values):
    """Hydra's basic sweeper said only "BasicSweeper does not support sweep type : INTERVAL_SWEEP" once the sweep
    had started (and that finished jobs keep their results: there were none)."""
    sweep_dir = tmp_path / "sweep"
    code, lines = cli.run(["-m", "algorithm=nsga2", *args, f"hydra.sweep.dir={sweep_dir}"])
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"imc-moo: error: {shown}: Hydra's basic sweeper runs lists, range() and choice() "
                               "only"), lines
    assert "hydra/sweeper=optuna" in lines[0] and "pip install 'imc-moo[optuna]'" in lines[0]
    assert lines[0].endswith(f"e.g. {values}")
    assert not sweep_dir.exists()


def test_an_interval_in_a_study_configs_sweeper_params_on_the_basic_sweeper_is_refused():
    from omegaconf import open_dict

    from imc_moo.app.config import ConfigError, compose_config
    from imc_moo.app.experiment import check_basic_sweep

    cfg = compose_config(["algorithm=nsga2"], return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.sweeper.params = {"algorithm.mutation_prob": "interval(0.1, 0.5)", "seed": "0,1"}
    with pytest.raises(ConfigError, match=r"^algorithm\.mutation_prob=interval\(0\.1, 0\.5\): Hydra's basic sweeper .*"
                                          r"e\.g\. algorithm\.mutation_prob=0\.1,0\.3,0\.5$"):
        check_basic_sweep(["seed=2,3"], cfg)
    check_basic_sweep(["algorithm.mutation_prob=0.1,0.5"], cfg)  # the command line replaces the parameter





def test_a_sweep_into_another_sweep_is_refused_unless_overwrite(cli, tmp_path):
    sweep = tmp_path / "sweep"
    res = cli.process("-m", "algorithm=random", "seed=0,1,2", "budget=100", "plots=false", "progress=false",
                          f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    before = cli.snapshot(sweep)
    code, lines = cli.run(["-m", "algorithm=random", "seed=5", "budget=100", f"hydra.sweep.dir={sweep}"])
    assert code == 2 and len(lines) == 1, lines
    assert (f"{sweep} holds job directories that are not jobs of this sweep (0_rram_cnn4_random_seed0, "
            "1_rram_cnn4_random_seed1, 2_rram_cnn4_random_seed2)") in lines[0] and "overwrite=true" in lines[0]
    assert cli.snapshot(sweep) == before
    res = cli.process("-m", "algorithm=random", "seed=5", "budget=100", "plots=false", "progress=false",
                          "overwrite=true", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    bests = sorted(sweep.rglob("best.json"))  # the new sweep only: no job of the earlier one pooled with it
    assert [json.loads(b.read_text())["seed"] for b in bests] == [5]


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_a_failing_job_is_recorded_and_the_others_run(cli, tmp_path, launcher):
    sweep = tmp_path / "sweep"
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if launcher == "joblib" else []
    res = cli.process("-m", *extra, "budget=-1,100", "algorithm=random", "plots=false", "progress=false",
                          f"hydra.sweep.dir={sweep}")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "imc-moo: 1 of 2 jobs failed: 0_rram_cnn4_random_seed0: budget must be a positive" in res.stderr
    failed = json.loads((sweep / "0_rram_cnn4_random_seed0" / "failed.json").read_text())
    assert "budget must be a positive" in failed["error"] and "budget=-1" in failed["overrides"]
    assert json.loads((sweep / "1_rram_cnn4_random_seed0" / "best.json").read_text())["evaluations"] == 100
    summary = report.report(sweep, plots=False)
    bad = summary[summary.status == "failed"]
    assert len(bad) == 1 and "budget must be a positive" in bad.reason.iloc[0]


# Resumed sweeps: the same command into the same hydra.sweep.dir skips the complete jobs and runs the others

RESUMABLE = ("-m", "algorithm=nsga2", "seed=0,1,2,3", "budget=3000", "plots=false", "progress=false")


def test_a_killed_sweep_resumes_with_only_the_missing_jobs(cli, tmp_path):
    """SIGTERM (kill, Slurm's time limit) after the second of four jobs; the same command again leaves the two
    complete jobs alone (not a byte or a timestamp of them changes, .hydra/ included) and runs the other two."""
    sweep = tmp_path / "sweep"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", *RESUMABLE, f"hydra.sweep.dir={sweep}"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(sweep.glob("1_*/best.json")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (143, -signal.SIGTERM) and "Traceback" not in stderr, stderr
    done = {d.name: cli.stamps(d) for d in sweep.iterdir() if (d / "best.json").is_file()}
    assert sorted(done) == ["0_rram_cnn4_nsga2_seed0", "1_rram_cnn4_nsga2_seed1"]

    res = cli.process(*RESUMABLE, f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert f"resuming the sweep in {sweep}: 2 of 4 jobs complete (skipped), 2 to run" in res.stdout
    assert res.stdout.count("skipped (complete)") == 2 and res.stdout.count("after 3,000 designs") == 2, res.stdout
    for name, before in done.items():
        assert cli.stamps(sweep / name) == before, name
    bests = sorted(sweep.glob("*/best.json"))
    assert [b.parent.name[0] for b in bests] == ["0", "1", "2", "3"] and not list(sweep.glob("*/interrupted.json"))
    for b in bests:  # each job's files are its own run's
        assert len(pd.read_csv(b.parent / "archive.csv")) == json.loads(b.read_text())["evaluations"]
    summary = report.report(sweep, plots=False)  # skipped jobs count as complete
    assert len(summary) == 4 and (summary.status == "ok").all()


def test_a_failed_job_reruns_once_its_input_is_fixed(cli, tmp_path):
    """A job that failed on a bad network file; the file fixed, the same command runs that job only."""
    net = tmp_path / "mine.yaml"
    net.write_text("name: mine\nlayers: []\n")
    sweep = tmp_path / "sweep"
    args = ("-m", f"problem.workloads=[{net}],[resnet18]", "algorithm=random", "budget=60", "plots=false",
            "progress=false", f"hydra.sweep.dir={sweep}")
    res = cli.process(*args)
    assert res.returncode == 1 and "1 of 2 jobs failed: 0_rram_mine_random_seed0" in res.stderr, res.stderr
    failed, ok = sweep / "0_rram_mine_random_seed0", sweep / "1_rram_resnet18_random_seed0"
    assert (failed / "failed.json").is_file() and not (failed / "best.json").exists()
    before = cli.stamps(ok)
    net.write_text(f"name: mine\nlayers:\n  - {GOOD_LAYER}\n")
    res = cli.process(*args)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "1 of 2 jobs complete (skipped), 1 to run" in res.stdout and res.stdout.count("skipped (complete)") == 1
    assert (failed / "best.json").is_file() and not (failed / "failed.json").exists()
    assert cli.stamps(ok) == before
    assert (report.report(sweep, plots=False).status == "ok").all()


def _interrupted(job: Path, budget: int) -> None:
    """Make ``job`` an interrupted run of another budget."""
    (job / "best.json").rename(job / "interrupted.json")
    record = job / ".hydra" / "config.yaml"
    record.write_text(record.read_text().replace("budget: 120\n", f"budget: {budget}\n"))


#: (id, damage(sweep) or None, the new sweep's overrides, text the error line must contain): the earlier sweep is
#: ``algorithm=random seed=0,1,2 budget=120`` (``finished_sweep``)
RESUME_CONFLICTS = [
    ("another budget", None, ["seed=0,1,2", "budget=130"],
     "0_rram_cnn4_random_seed0 holds the results of a different config (budget: 120 -> 130) (and 2 more job"),
    ("another knob", None, ["seed=0,1,2", "budget=120", "problem.area_limit_mm2=700"],
     "different config (problem.area_limit_mm2: 800.0 -> 700.0)"),
    ("an interrupted run of another config", lambda s: _interrupted(_job(s, 2), budget=110), ["seed=0,1,2",
     "budget=120"], "2_rram_cnn4_random_seed2 holds the results of a different config (budget: 110 -> 120)"),
    ("record unreadable", lambda s: (_job(s, 1) / ".hydra" / "config.yaml").write_text("a: [x"),
     ["seed=0,1,2", "budget=120"], "1_rram_cnn4_random_seed1 holds results (archive.csv, pareto.csv, "
     "pareto_networks.csv, history.csv, inputs.json, best.json) but no readable .hydra/config.yaml"),
    ("record missing", lambda s: shutil.rmtree(_job(s, 0) / ".hydra"), ["seed=0,1,2", "budget=120"],
     "no readable .hydra/config.yaml to tell which config they are for"),
    ("fewer jobs", None, ["seed=0,1", "budget=120"], "not jobs of this sweep (2_rram_cnn4_random_seed2)"),
]


@pytest.mark.parametrize("damage, args, needle", [(d, a, n) for _, d, a, n in RESUME_CONFLICTS],
                         ids=[i for i, *_ in RESUME_CONFLICTS])
def test_a_sweep_cannot_resume_over_another_configs_results(cli, tmp_path, finished_sweep, damage, args, needle):
    """Refused before any job runs, in one line naming the directory, what differs and the fix; nothing in the
    sweep directory changes."""
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    if damage:
        damage(sweep)
    before = cli.stamps(sweep)
    code, lines = cli.run(["-m", "algorithm=random", *args, "plots=false", f"hydra.sweep.dir={sweep}"])
    assert code == 2 and len(lines) == 1 and lines[0].startswith("imc-moo: error: "), lines
    assert needle in lines[0] and "hydra.sweep.dir=..." in lines[0] and "overwrite=true" in lines[0], lines[0]
    assert cli.stamps(sweep) == before


def test_a_job_refuses_another_configs_results_when_the_sweep_could_not_check_them(cli, tmp_path):
    """Job directories named by the launcher's job id cannot be told before the sweep runs: then each job checks
    its own directory when it starts, and one holding another config's results is refused there, untouched."""
    sweep = tmp_path / "sweep"
    args = ("-m", "algorithm=random", "seed=0,1", "plots=false", "progress=false", f"hydra.sweep.dir={sweep}",
            "hydra.sweep.subdir=${hydra.job.num}_${hydra.job.id}")
    assert cli.process(*args, "budget=60").returncode == 0
    before = cli.stamps(sweep)
    res = cli.process(*args, "budget=70")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "each job skips itself if its results are complete" in res.stdout
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("imc-moo: error: ") and "holds the results of a different config (budget: 60 -> 70)" in last
    after = cli.stamps(sweep)
    after.pop("multirun.yaml"), before.pop("multirun.yaml")  # Hydra's record of the sweep, rewritten as it starts
    assert after == before  # not a byte of any job changed




def test_a_sweep_does_not_resume_over_results_of_an_edited_network_file(cli, tmp_path):
    """Results remember the network files they came from (inputs.json): after an edit, the same sweep command is
    refused in one line naming the network (it used to skip every job as complete, with the old network's numbers);
    overwrite=true reruns it."""
    net = tmp_path / "tiny.yaml"
    net.write_text(f"name: tiny\nlayers:\n  - {GOOD_LAYER}\n")
    sweep = tmp_path / "sweep"
    args = ("-m", f"problem.workloads=[{net}]", "algorithm=random", "seed=0,1", "budget=60", "plots=false",
            "progress=false", f"hydra.sweep.dir={sweep}")
    assert cli.process(*args).returncode == 0
    recorded = json.loads(next(sweep.glob("0_*/inputs.json")).read_text())
    assert list(recorded) == ["tiny"] and recorded["tiny"].endswith(str(net.resolve()))
    again = cli.process(*args)
    assert again.returncode == 0 and "2 of 2 jobs complete (skipped)" in again.stdout, again.stdout + again.stderr
    before = cli.stamps(sweep)
    net.write_text(f"name: tiny\nlayers:\n  - {GOOD_LAYER.replace('M: 8', 'M: 16')}\n")
    refused = cli.process(*args)
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert refused.returncode == 2 and len(lines) == 1, refused.stderr
    assert "holds the results of a different config (inputs.tiny:" in lines[0] and str(net.resolve()) in lines[0]
    assert cli.stamps(sweep) == before  # nothing touched
    assert cli.process(*args, "overwrite=true").returncode == 0
    assert json.loads(next(sweep.glob("0_*/inputs.json")).read_text()) != recorded
