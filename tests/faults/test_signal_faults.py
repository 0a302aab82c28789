"""Killed, terminated and concurrent runs (real subprocesses): Ctrl-C at start-up, SIGINT/SIGTERM keep the designs so
far, a Slurm time limit, SIGKILL leaves no claim, runs into one directory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


#: A run long enough to stop midway: random search through 2 M of mixed9's designs takes minutes.
LONG_RUN = ("problem=sram_mixed9", "algorithm=random", "budget=2000000", "plots=false")


def start_long_run(out: Path, *extra) -> subprocess.Popen:
    """A run that is searching (its progress line shows) when this returns."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", *LONG_RUN, *extra, f"hydra.run.dir={out}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    for line in proc.stderr:
        if line.startswith("[random]"):
            return proc
    raise AssertionError(f"the run never started searching: {proc.communicate()}")


@pytest.mark.parametrize("command", [("-m", "imc_moo", "budget=100", "plots=false", "hydra.run.dir=run"),
                                     ("-c", "from imc_moo.entry import imc_moo_report; imc_moo_report()", ".")])
def test_ctrl_c_during_start_up_is_one_line(tmp_path, command):
    """Ctrl-C while the command still imports and composes (before a search handles it): one line, status 130, no
    traceback, nothing written (the run directory is not even created). (imc-moo-import loads too fast to be
    caught reliably this way; it goes through the same entry-point wrapper.)"""
    proc = subprocess.Popen([sys.executable, *command], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.15)  # inside the imports (~1 s)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    # 130, or killed by the SIGINT itself (Python may re-raise it at exit): the shell's $? is 130 either way
    assert proc.returncode in (130, -signal.SIGINT) and "Traceback" not in stderr, stderr
    assert len(lines) == 1 and "interrupted (Ctrl-C)" in lines[0], stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("sig, code, verb, reason", [
    (signal.SIGINT, 130, "interrupted", "interrupted (Ctrl-C)"),
    (signal.SIGTERM, 143, "terminated", "terminated (SIGTERM)"),  # kill, Slurm's time limit or preemption
])
def test_a_stopped_run_keeps_the_designs_so_far_and_is_marked_incomplete(cli, tmp_path, sig, code, verb, reason):
    out = tmp_path / "run"
    proc = start_long_run(out)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code and "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("imc-moo:")]
    assert len(lines) == 1 and f"{verb} after" in lines[0] and "the run is incomplete" in lines[0]
    kept = json.loads((out / "interrupted.json").read_text())
    assert kept["complete"] is False and kept["stop_reason"] == reason
    assert 0 < kept["evaluations"] == len(pd.read_csv(out / "archive.csv")) < 2_000_000
    assert not (out / "best.json").exists()
    # no anytime curve on a stop (one hypervolume per generation over every design took minutes): the last row's
    # hypervolume is the kept front's, the one interrupted.json reports
    history = pd.read_csv(out / "history.csv")
    assert history.hypervolume.iloc[:-1].isna().all()
    assert history.hypervolume.iloc[-1] == pytest.approx(kept["hypervolume"])
    # the kept designs are an earlier result now: a new run into the directory is refused
    res = cli.process("budget=100", "plots=false", f"hydra.run.dir={out}")
    assert res.returncode == 2 and "already holds the results of a run" in res.stderr


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
    return children


def test_a_slurm_job_stopped_at_its_time_limit_keeps_its_designs(tmp_path):
    """SIGUSR2 is what submitit's job wrapper gets from Slurm ``hydra.launcher.signal_delay_s`` before the time
    limit, or at preemption (submitit's own handler would end the job, losing its designs, and the sweep would end
    in a traceback). The job stops at its next batch as a terminated run does, keeps its designs, and the sweep
    ends with one line naming the incomplete job, exit status 1. Sent here to a submitit_local job (its job id is its
    controller's pid) once it is searching; the same on Slurm (README, "Run on a cluster")."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / "sweep"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", "-m", "hydra/launcher=submitit_local",
                             "hydra.launcher.timeout_min=10", "algorithm=random", "budget=3000000", "plots=false",
                             f"hydra.sweep.dir={sweep}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    tasks = []
    try:
        deadline = time.monotonic() + 120
        while not any("[random]" in log.read_text() for log in sweep.glob(".submitit/*/*_log.err")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        (log,) = sweep.glob(".submitit/*/*_log.err")
        tasks = child_pids(int(log.parent.name))  # the job's process, started by submitit's local controller
        assert len(tasks) == 1, tasks
        os.kill(tasks[0], signal.SIGUSR2)
        _, stderr = proc.communicate(timeout=120)
    except BaseException:  # never leave a 3-million-design search running
        proc.kill()
        for pid in tasks:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    assert proc.returncode == 1 and "Traceback" not in stderr, stderr[-3000:]
    reason = "stopped by Slurm (SIGUSR2: time limit near, or preempted)"
    assert f"imc-moo: 1 of 1 jobs incomplete: 0_rram_cnn4_random_seed0: {reason} after " in stderr, stderr[-3000:]
    job = sweep / "0_rram_cnn4_random_seed0"
    kept = json.loads((job / "interrupted.json").read_text())
    assert kept["complete"] is False and kept["stop_reason"] == reason and not (job / "best.json").exists()
    assert 0 < kept["evaluations"] == len(pd.read_csv(job / "archive.csv")) < 3_000_000


def test_a_killed_run_leaves_no_claim_and_its_directory_can_be_reused(cli, tmp_path):
    """SIGKILL (out of memory, a lost node) cannot be caught: nothing is kept, but the directory is not left
    claimed and holds no results, so the same command runs again."""
    out = tmp_path / "run"
    proc = start_long_run(out)
    proc.kill()
    proc.communicate(timeout=60)
    assert not (out / "best.json").exists() and not (out / "archive.csv").exists()
    res = cli.process("budget=100", "plots=false", "progress=false", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "best.json").read_text())["evaluations"] == 100
    assert not (out / ".imc_moo.app.lock").exists()


def test_a_second_run_into_a_busy_directory_is_refused(cli, tmp_path):
    out = tmp_path / "run"
    first = start_long_run(out, "seed=0")
    try:
        for extra in ((), ("overwrite=true",)):
            res = cli.process("budget=100", "seed=1", "plots=false", *extra, f"hydra.run.dir={out}")
            lines = [line for line in res.stderr.splitlines() if line.strip()]
            assert res.returncode == 2 and len(lines) == 1, res.stderr
            assert f"{out} is in use by another imc-moo process (pid {first.pid})" in lines[0]
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    kept = json.loads((out / "interrupted.json").read_text())
    assert kept["seed"] == 0 and (out / ".hydra" / "overrides.yaml").read_text().count("seed=0") == 1


def test_runs_started_together_get_their_own_directories(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    small = ["budget=300", "algorithm.n_candidates=200", "algorithm.n_select=100", "algorithm.pop_size=30"]
    procs = [subprocess.Popen([sys.executable, "-m", "imc_moo", *small, f"seed={s}", "plots=false",
                               "progress=false"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    bests = sorted((tmp_path / "runs").rglob("best.json"))
    assert len(bests) == 2 and {json.loads(b.read_text())["seed"] for b in bests} == {0, 1}
    for b in bests:  # each directory holds one run's files only
        assert len(pd.read_csv(b.parent / "archive.csv")) == json.loads(b.read_text())["evaluations"]




@pytest.mark.parametrize("failing", ["write_csv", "pareto_plot"])
def test_an_overwrite_that_cannot_write_keeps_the_earlier_results(cli, tmp_path, monkeypatch, capsys, failing):
    """overwrite=true is a swap: the new run's files are staged and replace the earlier run's only once all are
    written, so a full disk (or any OS error while writing) leaves the earlier results byte for byte, in one line
    naming the path and the fix."""
    import errno

    from imc_moo.app import experiment, export, plots

    out = tmp_path / "run"
    small = ["budget=200", "algorithm.n_candidates=100", "algorithm.n_select=50", "algorithm.pop_size=20"]
    assert cli.process(*small, "progress=false", f"hydra.run.dir={out}").returncode == 0
    before = {k: v for k, v in cli.snapshot(out).items() if not k.startswith(".hydra") and k != "experiment.log"}

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / export.STAGE_DIR / "x.tmp"))

    monkeypatch.setattr(export if failing == "write_csv" else plots, failing, full_disk)
    monkeypatch.setattr(sys, "argv", ["imc-moo", *small, "seed=1", "progress=false", "overwrite=true",
                                      f"hydra.run.dir={out}"])
    with pytest.raises(SystemExit) as stop:
        experiment.cli()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert stop.value.code == 2 and len(err) == 1, err
    assert "No space left on device" in err[0] and str(out) in err[0] and "hydra.run.dir=" in err[0]
    after = {k: v for k, v in cli.snapshot(out).items() if not k.startswith(".hydra") and k != "experiment.log"}
    assert after == before  # every earlier result file, byte for byte; no staged file left
    assert json.loads((out / "best.json").read_text())["seed"] == 0
