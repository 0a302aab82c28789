"""``imc-moo-design`` off the happy path: each bad input is one ``imc-moo-design: error:`` line naming the problem and
the fix, exit status 2, no traceback, and nothing written (no report directory, no staging directory, not a byte of
the run changed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imc_moo.report.design import main

#: A whole design of the RRAM space, as key=value pairs.
DESIGN = ["voltage=0.8", "bits_per_cell=2", "base_latency_s=1e-9", "xbar_rows=128", "xbar_cols=128",
          "router_group=8", "tiles_per_chip=16", "macros_per_tile=16", "glb_mib=2"]


@pytest.fixture(scope="module")
def finished_run(finished_sweep_of) -> Path:
    """A finished run with a Pareto front (the one job of a sweep made once per session: its results and its Hydra
    record; copy it before changing it)."""
    sweep = finished_sweep_of("budget=300", "seed=0", "plots=false", "progress=false")
    (best,) = sweep.glob("*/best.json")
    return best.parent


def _runs(tmp_path: Path, finished_run: Path) -> dict[str, Path]:
    """Run directories damaged in one way each, made on demand under ``tmp_path``."""
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(finished_run, target)
        return target

    def incomplete() -> Path:
        d = copy("incomplete")
        (d / "best.json").rename(d / "interrupted.json")
        return d

    def no_best() -> Path:
        d = copy("no_best")
        (d / "best.json").unlink()
        return d

    def damaged() -> Path:
        d = copy("damaged")
        (d / "best.json").write_text('{"algorithm": "ran')
        return d

    def partitioned() -> Path:
        d = copy("partitioned")
        best = json.loads((d / "best.json").read_text())
        best["design"] = {"p0_memory": "rram", "place_resnet18": 0}
        best["partitions"] = [{"partition": 0}]
        (d / "best.json").write_text(json.dumps(best))
        return d

    def record_unreadable() -> Path:
        d = copy("record_unreadable")
        (d / ".hydra" / "config.yaml").write_text("problem: [unclosed")
        best = json.loads((d / "best.json").read_text())
        best["problem"] = "my_own_problem"
        (d / "best.json").write_text(json.dumps(best))
        return d

    def no_front() -> Path:
        d = copy("no_front")
        header = (d / "pareto.csv").read_text().splitlines()[0]
        (d / "pareto.csv").write_text(header + "\n")
        return d

    return {"incomplete": incomplete, "no_best": no_best, "damaged": damaged, "partitioned": partitioned,
            "record_unreadable": record_unreadable, "no_front": no_front}


#: (arguments, with ``{run}`` the finished run and ``{<name>}`` a damaged copy; text the error line must contain)
CATALOGUE = [
    # the run directory
    (["{tmp}/no/such/run"], "no such run directory {tmp}/no/such/run: give the directory of a finished run"),
    (["{no_best}"], "has no best.json: not a finished run (still running, crashed or killed, or not a run "
                    "directory)"),
    (["{incomplete}"], "is an incomplete run (interrupted.json, no best.json): finish it"),
    (["{damaged}"], "best.json is damaged"),
    (["{partitioned}"], "is a partitioned chip's run"),
    (["{record_unreadable}"], ".hydra/config.yaml is missing or damaged, so the run's problem cannot be rebuilt"),
    (["{run}", "{run}"], "2 run directories given"),
    # which design of the run
    (["{run}", "--row", "100000"], "--row 100000 is outside pareto.csv's"),
    (["{no_front}", "--row", "0"], "pareto.csv holds no design (the run found no feasible one)"),
    (["{run}", "--design-id", "-5"], "no design with design_id -5 in"),
    (["--row", "0", *DESIGN], "--row and --design-id pick a design of a run: give the run directory too"),
    (["{run}", "--workloads", "cnn4"], "--workloads cannot change a run's problem"),
    (["{run}", "--memory", "sram", "--batch", "2"], "--memory, --batch cannot change a run's problem"),
    # parameters
    (["{run}", "xbar_row=256"], "unknown design parameter 'xbar_row' (did you mean xbar_rows or xbar_cols?)"),
    (["{run}", "xbar_rows=100"], "xbar_rows=100 is outside the run's design space (rram): use one of 32, 64, 128, "
                                 "256, 512"),
    (["{run}", "voltage=high"], "voltage='high' is not a number: give e.g. voltage=0.8"),
    (["{run}", "voltage=nan"], "voltage='nan' is not a finite number"),
    (["{run}", "glb_mib=2", "glb_depth=8192"], "glb_mib and glb_depth are both given"),
    (["{run}", "xbar_rows=64", "xbar_rows=128"], "xbar_rows is given twice"),
    (["{run}", "glb_mib=3"], "glb_mib=3 is outside the run's design space (rram): use one of 0.5, 1, 2, 4, 8, 16, 32"),
    ([*DESIGN, "technology_nm=65"], "technology_nm=65 is outside the RRAM design space (rram): use one of 32"),
    (["voltage=0.8"], "the design lacks bits_per_cell, base_latency_s"),
    ([], "no design given: give a run directory, or the design as key=value pairs"),
    # the problem of a design without a run
    ([*DESIGN, "--workloads", "resnet19"], "unknown workload 'resnet19'"),
    ([*DESIGN, "--memory", "flash"], "unknown memory 'flash'"),
    ([*DESIGN, "--performance", "fast"], "unknown performance model 'fast'"),
    ([*DESIGN, "--batch", "0"], "batch=0 is not a positive integer"),
    ([*DESIGN[1:], "voltage=0.8", "bits_per_cell=3", "--memory", "sram"], "bits_per_cell is given twice"),
    ([*(p for p in DESIGN if not p.startswith("bits")), "bits_per_cell=2", "--memory", "sram"],
     "bits_per_cell=2 is outside the SRAM design space"),
    # the command line
    (["{run}", "--top", "0"], "top=0: give the number of slowest layers to list"),
    (["{run}", "--bogus"], "unrecognized arguments: --bogus (imc-moo-design --help lists the options)"),
    (["{run}", "--row", "first"], "argument --row: invalid int value: 'first'"),
    # the output directory
    (["{run}", "-o", "{tmp}/a_file/report"], "cannot write the report into {tmp}/a_file/report"),
    (["{run}", "-o", "{tmp}/not_a_report", "--force"], "exists and is not a design report (no design.md): choose "
                                                       "another directory with -o DIR"),
    (["{run}", "-o", "{tmp}/earlier"], "already holds a design report: replace it with --force, or choose another "
                                       "directory with -o DIR"),
]


@pytest.mark.parametrize("args, needle", CATALOGUE, ids=[" ".join(a) or "(nothing)" for a, _ in CATALOGUE])
def test_bad_input_gives_one_line_and_writes_nothing(cli, tmp_path, capsys, finished_run, args, needle):
    runs = _runs(tmp_path, finished_run)
    names = {"run": str(finished_run), "tmp": str(tmp_path)}
    for name, make in runs.items():
        if any(f"{{{name}}}" in a for a in args):
            names[name] = str(make())
    (tmp_path / "a_file").write_text("a file, not a directory\n")
    (tmp_path / "not_a_report").mkdir()
    (tmp_path / "not_a_report" / "notes.txt").write_text("mine\n")
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "design.md").write_text("an earlier report\n")
    before = {"tmp": cli.snapshot(tmp_path), "run": cli.snapshot(finished_run)}
    status = _status([a.format(**names) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("imc-moo-design: error: "), lines
    assert needle.format(**names) in lines[0], lines[0]
    assert status == 2
    assert cli.snapshot(tmp_path) == before["tmp"], "a bad input must not write anything"
    assert cli.snapshot(finished_run) == before["run"], "a bad input must not touch the run"
    assert not any(p.name.endswith((".incoming", ".old")) for p in tmp_path.rglob("*"))


def _status(argv: list[str]) -> int:
    """The exit status of ``imc-moo-design argv...`` in-process (argparse's own refusals exit)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code)


def test_the_installed_command_says_it_in_one_line(cli, tmp_path):
    """The console entry point as a user runs it: a real process, one line, exit status 2; and it writes the
    report of a run where asked."""
    exe = Path(sys.executable).parent / "imc-moo-design"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from imc_moo.entry import imc_moo_design as m; m()"]
    done = subprocess.run([*cmd, str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"imc-moo-design: error: no such run directory {tmp_path / 'nowhere'}: give "
                                        "the directory of a finished run (runs/<date>/<time>_<problem>_<algorithm>), "
                                        "or a design as key=value pairs with --workloads and --memory"]
    run_dir = tmp_path / "run"
    made = cli.process(f"hydra.run.dir={run_dir}", "budget=100", "plots=false", "progress=false", cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-2000:]
    done = subprocess.run([*cmd, str(run_dir), "--no-plots"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (f"report in {run_dir / 'design'}: networks.csv, components.csv, "
                                            "layers.csv, design.md")


@pytest.mark.parametrize("where", ["earlier", "new/nested/dir"])
def test_a_disk_that_fills_while_writing_leaves_nothing(cli, tmp_path, capsys, monkeypatch, finished_run, where):
    """The disk fills while the figures are written: one line, exit 2; an earlier report replaced with --force is
    left as it was, and neither a staging directory nor a directory made for the report is left behind."""
    import errno

    from imc_moo.report import design as module

    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "design.md").write_text("an earlier report\n")
    before = cli.snapshot(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, "area_figure", full)
    assert _status([str(finished_run), "-o", str(tmp_path / where), "--force"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"imc-moo-design: error: cannot write the report into {tmp_path / where} (No space left on "
                     "device): choose a writable directory with -o DIR"]
    assert cli.snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier"]
