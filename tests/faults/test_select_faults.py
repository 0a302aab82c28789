"""``imc-moo-select`` off the happy path (real processes): a bad condition, column or option, no run to read, a
damaged or unfinished run or sweep, an output that cannot or must not be written. Each is one
``imc-moo-select: error:`` line naming the problem and the fix, no traceback, nothing written; exit status 2 for bad
input, 1 when no design passes the conditions."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: The same small sweep as tests/report/test_select.py (made once per session).
SWEEP = ("problem=sram_cnn4", "algorithm=random", "seed=0,1,2", "budget=200", "plots=false", "progress=false")
RUN = "sweep/0_sram_cnn4_random_seed0"
COMMAND = "from imc_moo.entry import imc_moo_select; imc_moo_select()"


def select_process(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``imc-moo-select args...`` as a real process, through its console entry point."""
    return subprocess.run([sys.executable, "-c", COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _header_only(ws: Path) -> None:
    path = ws / RUN / "pareto.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")


def _failed_job(ws: Path) -> None:
    (ws / "failed").mkdir()
    (ws / "failed" / "failed.json").write_text(json.dumps({"error": "budget must be a positive number of designs"}))


#: (id, set-up of the workspace (a copy of the sweep in ws/sweep), arguments, exit status, text of the line)
CATALOGUE = [
    # conditions and columns
    ("unknown column", None, [RUN, "latency<1e-5"], 2,
     f"unknown column 'latency' in pareto.csv of {RUN} (did you mean latency_s, "),
    ("unknown column to rank by", None, [RUN, "--minimize", "energy"], 2,
     "unknown column to rank by 'energy' in pareto.csv of sweep/0_sram_cnn4_random_seed0 (did you mean energy_j"),
    ("rank by a text column", None, [RUN, "--maximize", "bound"], 2, "cannot rank by bound: it is not a column of "
                                                                     "numbers"),
    ("no operator", None, [RUN, "latency_s"], 2, "'latency_s' is not a condition: write COLUMN<VALUE with <, <=, >, "
                                                 ">=, == or !="),
    ("a single =", None, [RUN, "latency_s=1e-5"], 2, "did you mean 'latency_s==1e-5'?"),
    ("no value", None, [RUN, "area_mm2<="], 2, "'area_mm2<=' is not a condition"),
    ("a unit in the value", None, [RUN, "latency_s<10ms"], 2, "10ms is not a number: values are plain numbers in "
                                                              "the column's SI unit (s), with an exponent where "
                                                              "needed: 'latency_s<0.01'"),
    ("not a number", None, [RUN, "energy_j<low"], 2, "low is not a number"),
    ("text compared with <", None, [RUN, "bound<3"], 2, "bound is a text column: compare it with == or !="),
    ("a boolean that is neither", None, [RUN, "feasible==perhaps"], 2, "feasible is true or false, not perhaps"),
    # options
    ("knee and minimize", None, [RUN, "--knee", "--minimize", "edap"], 2,
     "argument --minimize: not allowed with argument --knee"),
    ("top 0", None, [RUN, "--top", "0"], 2, "--top 0: give a positive number of designs, or --top all"),
    ("top not a number", None, [RUN, "--top", "many"], 2, "--top many: give a positive number"),
    ("unknown table", None, [RUN, "--from", "history"], 2, "argument --from: invalid choice: 'history'"),
    ("unknown option", None, [RUN, "--minimise", "energy_j"], 2, "unrecognized arguments: --minimise"),
    # what to read
    ("no such directory", None, ["nowhere"], 2, "nowhere does not exist: give a run directory (holding pareto.csv) "
                                                "or a sweep directory"),
    ("a file, not a directory", None, [f"{RUN}/pareto.csv"], 2, "is not a directory: give the run directory that "
                                                                "holds it"),
    ("an empty directory", lambda ws: (ws / "empty").mkdir(), ["empty"], 2, "no run under empty: give a run "
                                                                            "directory"),
    ("a failed job", _failed_job, ["failed"], 2, "cannot select from failed: no pareto.csv (the run has no "
                                                 "best.json: budget must be a positive number of designs)"),
    ("a damaged pareto.csv", lambda ws: (ws / RUN / "pareto.csv").write_text("problem,algo"), [RUN], 2,
     f"cannot select from {RUN}: pareto.csv is damaged (it lacks design_id, feasible"),
    ("a sweep without complete runs", lambda ws: [p.unlink() for p in ws.glob("sweep/*/best.json")], ["sweep"], 2,
     "no complete run under sweep to select from: 3 run directories, none with best.json and a readable pareto.csv"),
    ("a sweep whose fronts are damaged", lambda ws: [p.write_text("") for p in ws.glob("sweep/*/pareto.csv")],
     ["sweep"], 2, "pareto.csv is damaged"),
    # nothing passes: status 1
    ("nothing passes", None, [RUN, "latency_s<1e-9"], 1,
     ("no design passes the conditions: of the ", f" designs in pareto.csv of {RUN}, ",
      " feasible; latency_s<1e-9 keeps none (their latency_s: ", "): relax it")),
    ("the last condition removes the rest", None, [RUN, "feasible==true", "area_mm2<1"], 1,
     ("feasible==true keeps ", "; area_mm2<1 keeps none (their area_mm2: ", " mm²): relax it")),
    ("a text value no design has", None, [RUN, "bound==pulse"], 1,
     ("bound==pulse keeps none (their bound: ", "pulses", "): check the value")),
    ("a run without a feasible design", _header_only, [RUN], 1,
     "holds no design (the run found no feasible one: its best.json names the constraints"),
    ("the archive has no infeasible design left", None, [RUN, "--from", "archive", "feasible==false", "cv<0"], 1,
     "cv<0 keeps none"),
    # where to write
    ("the output exists", lambda ws: (ws / RUN / "selected.csv").write_text("an earlier selection\n"), [RUN], 2,
     f"{RUN}/selected.csv exists (an earlier selection?): add --force to replace it, or -o FILE to write elsewhere"),
    ("the output's directory is missing", None, [RUN, "-o", "missing/chosen.csv"], 2,
     "cannot write missing/chosen.csv: the directory missing does not exist: create it"),
    ("the output is a directory", None, [RUN, "-o", "sweep"], 2, "sweep is a directory: give -o a file name"),
    ("the output is a run's result", None, [RUN, "-o", f"{RUN}/pareto.csv", "--force"], 2,
     f"{RUN}/pareto.csv: pareto.csv is the name of a run's result file: give -o another file name, e.g. "
     f"{RUN}/selected.csv"),
    ("the output is named as a run's file", None, [RUN, "-o", "best.json"], 2,
     "best.json is the name of a run's result file"),
    pytest.param("the output cannot be written", None, [RUN, "-o", "/proc/selected.csv"], 2,
                 "cannot write /proc/selected.csv: ", marks=pytest.mark.skipif(not Path("/proc").is_dir(),
                                                                              reason="no /proc")),
]


def _id(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.fixture(scope="module")
def sweep(finished_sweep_of) -> Path:
    return finished_sweep_of(*SWEEP)


@pytest.mark.parametrize("name, prepare, args, status, needle", CATALOGUE, ids=[_id(c) for c in CATALOGUE])
def test_bad_input_is_one_line_and_writes_nothing(sweep, tmp_path, name, prepare, args, status, needle):
    shutil.copytree(sweep, tmp_path / "sweep")
    if prepare:
        prepare(tmp_path)
    before = snapshot(tmp_path)
    done = select_process(tmp_path, *args)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == status, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == "", done.stderr
    assert len(lines) == 1 and lines[0].startswith("imc-moo-select: error: "), lines
    assert all(part in lines[0] for part in ((needle,) if isinstance(needle, str) else needle)), lines[0]
    assert len(lines[0]) < 700
    assert snapshot(tmp_path) == before, "a refused selection must not write or change a file"


def test_a_selection_from_a_sweep_with_an_incomplete_run_says_so_in_one_line(sweep, tmp_path):
    shutil.copytree(sweep, tmp_path / "sweep")
    (tmp_path / "sweep" / "2_sram_cnn4_random_seed2" / "best.json").unlink()
    done = select_process(tmp_path, "sweep", "--knee", "--top", "3")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "imc-moo-select: note: skipped 1 of 3 runs under sweep: 2_sram_cnn4_random_seed2 (no best.json: crashed, "
        "killed or still running)"]
    assert (tmp_path / "sweep" / "selected.csv").is_file() and "closest to the knee" in done.stdout
