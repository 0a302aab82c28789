"""A sweep on a real Slurm cluster through Hydra's submitit launcher (``hydra/launcher=submitit_slurm``).

``scripts/slurm_single_node.sh`` starts a single-node cluster with job accounting; ``.ci/run`` runs it before the
tests. Where no cluster answers, the test skips and says why; with ``IMC_MOO_REQUIRE_SLURM=1`` (``.ci/run`` sets it
when the script brought the cluster up) it fails instead, so CI cannot skip it silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imc_moo import report

ROOT = Path(__file__).resolve().parents[2]

PARTITION = os.environ.get("SLURM_PARTITION", "cpu")


def _no_cluster() -> str | None:
    """Why no Slurm cluster takes jobs here, or None when one does."""
    if shutil.which("sbatch") is None:
        return "sbatch not found: no Slurm here (as root, scripts/slurm_single_node.sh starts a single-node one)"
    try:
        info = subprocess.run(["sinfo", "-h", "-p", PARTITION, "-o", "%a %T"], capture_output=True, text=True,
                              timeout=30)
    except subprocess.TimeoutExpired:
        return "the Slurm cluster does not answer (sinfo timed out after 30 s)"
    if info.returncode != 0:
        return f"the Slurm cluster does not answer: {' '.join(info.stderr.split())[:200]}"
    if not any(line.startswith("up ") and line.split()[1].rstrip("*~#") in ("idle", "mixed", "allocated",
                                                                              "completing")
               for line in info.stdout.splitlines()):
        return f"partition {PARTITION!r} takes no jobs (sinfo: {' '.join(info.stdout.split()) or 'no such partition'})"
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = _no_cluster()
    if reason and os.environ.get("IMC_MOO_REQUIRE_SLURM") == "1":
        pytest.fail(f"IMC_MOO_REQUIRE_SLURM=1 but {reason}")
    if reason:
        pytest.skip(reason)
    accounting = subprocess.run(["sacct", "-n", "-X", "-S", "now"], capture_output=True, timeout=30).returncode == 0
    return {"accounting": accounting}


def test_a_sweep_on_slurm_completes_reports_its_failed_job_and_resumes(cli, tmp_path, cluster):
    """Three jobs as a Slurm job array, one with a bad value: the other two complete, the bad one is recorded as
    failed (failed.json, exit status 1, the report names it); the same command again skips the complete jobs."""
    sweep = tmp_path / "sweep"
    args = ("-m", "hydra/launcher=submitit_slurm", f"hydra.launcher.partition={PARTITION}",
            "hydra.launcher.timeout_min=5", "hydra.launcher.mem_gb=1", "algorithm=random", "budget=60,80,-1",
            "plots=false", "progress=false", f"hydra.sweep.dir={sweep}")
    res = cli.process(*args)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "imc-moo: 1 of 3 jobs failed: 2_rram_cnn4_random_seed0: budget must be a positive" in res.stderr
    if cluster["accounting"]:  # submitit polls sacct: with job accounting, not one warning
        assert "sacct" not in res.stderr, res.stderr[-3000:]
    jobs = {d.name: d for d in sweep.iterdir() if d.is_dir() and d.name[0].isdigit()}
    assert sorted(jobs) == ["0_rram_cnn4_random_seed0", "1_rram_cnn4_random_seed0", "2_rram_cnn4_random_seed0"]
    for name, budget in (("0_rram_cnn4_random_seed0", 60), ("1_rram_cnn4_random_seed0", 80)):
        best = json.loads((jobs[name] / "best.json").read_text())
        assert best["evaluations"] == budget and best["budget"] == budget
        for table in ("archive.csv", "pareto.csv", "history.csv"):
            assert (jobs[name] / table).is_file(), table
    failed = json.loads((jobs["2_rram_cnn4_random_seed0"] / "failed.json").read_text())
    assert "budget must be a positive" in failed["error"] and "budget=-1" in failed["overrides"]
    assert not (jobs["2_rram_cnn4_random_seed0"] / "best.json").exists()
    # the jobs ran as Slurm jobs: submitit's folder holds one log per array task, and Slurm accounted for them
    logs = sorted((sweep / ".submitit").glob("*/*_log.out"))
    assert len(logs) == 3, logs
    if cluster["accounting"]:  # (a task may still be exiting, or not yet recorded, when the launcher has its result)
        array, deadline = logs[0].parent.name.split("_")[0], time.monotonic() + 60
        while True:
            states = subprocess.run(["sacct", "-n", "-X", "-P", "-j", array, "-o", "State"], capture_output=True,
                                    text=True, timeout=30).stdout.split()
            settled = len(states) == 3 and not {"RUNNING", "COMPLETING", "PENDING"} & set(states)
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert states == ["COMPLETED"] * 3, states

    summary = report.report(sweep, plots=False)
    assert sorted(summary.status) == ["failed", "ok", "ok"]
    assert "budget must be a positive" in summary.loc[summary.status == "failed", "reason"].iloc[0]
    assert "2 of 3 runs finished; failed: 2_rram_cnn4_random_seed0" in (sweep / "report.md").read_text()

    # resumed on the cluster: the complete jobs are skipped in their own Slurm jobs, the failing one runs again
    before = {name: cli.stamps(jobs[name], logs=False)
              for name in ("0_rram_cnn4_random_seed0", "1_rram_cnn4_random_seed0")}
    res = cli.process(*args)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "2 of 3 jobs complete (skipped), 1 to run" in res.stdout
    assert "1 of 3 jobs failed: 2_rram_cnn4_random_seed0" in res.stderr
    assert {name: cli.stamps(jobs[name], logs=False) for name in before} == before


def test_a_cancelled_slurm_job_ends_the_sweep_in_one_line_and_the_sweep_resumes(cli, tmp_path, cluster):
    """``scancel`` (like the out-of-memory killer or a lost node) ends a job without a result, which stops
    submitit's launcher: one line says which job and where its log is, exit status 1, no traceback. The job that
    had finished keeps its results, and the same command runs only the other.
    (One task at a time, so the second is still pending when the array is cancelled.)"""
    sweep = tmp_path / "sweep"
    args = ("-m", "hydra/launcher=submitit_slurm", f"hydra.launcher.partition={PARTITION}",
            "hydra.launcher.timeout_min=5", "hydra.launcher.mem_gb=1", "hydra.launcher.array_parallelism=1",
            "algorithm=random", "budget=60", "seed=0,1", "plots=false", "progress=false", f"hydra.sweep.dir={sweep}")
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(sweep.glob("0_*/best.json")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        array = next(sweep.glob(".submitit/*_0")).name.split("_")[0]
        subprocess.run(["scancel", array], check=True, timeout=30)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("[")]
    assert proc.returncode == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith(f"imc-moo: error: Slurm job {array}_"), lines
    assert "ended without a result (state: CANCELLED" in lines[0] and "_log.err" in lines[0], lines[0]
    assert "the same command again resumes the sweep" in lines[0]
    before = cli.stamps(next(sweep.glob("0_*")), logs=False)
    res = cli.process(*(a for a in args if "array_parallelism" not in a))  # launcher keys may change on resuming
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "1 of 2 jobs complete (skipped), 1 to run" in res.stdout
    assert cli.stamps(next(sweep.glob("0_*")), logs=False) == before and len(list(sweep.glob("*/best.json"))) == 2
