"""End-to-end wall time of the CLI: every algorithm x each method problem, process start to exit.

    python benchmarks/e2e.py [--problems NAME ...] [--algorithms NAME ...] [--repeat N] [--budget N]
                             [--keep DIR] [--out DIR] [--note TEXT]

Each run is ``imc-moo problem=<p> algorithm=<a> seed=0 progress=false hydra.run.dir=<temporary dir>`` (the
config's defaults otherwise: the method's budget of 3,300 distinct designs, ``plots=true``), started as a
subprocess, one at a time, and timed as ``/usr/bin/time`` would: wall time from process start to exit, so
interpreter start, imports, config composition, the search, writing the CSVs, best.json and both figures. The
search time is the run's own ``wall_time_s`` from best.json; "outside" is wall - search (start-up, imports,
outputs, plots). ``imc-moo --help`` is timed too. With ``--repeat N`` every cell is the median of N runs. Before
the first timed run of a problem, one untimed run of it (budget 100, no plots) fills the persistent table cache
of its networks (``~/.cache/imc_moo``), so the table shows steady-state runs; ``--no-warmup`` skips it.

Algorithms: ``conf/algorithm/*.yaml`` (all of them unless ``--algorithms``); problems: ``rram_cnn4``,
``sram_cnn4``, ``sram_mixed9`` (``conf/problem``). The table is printed and written to ``<out>/e2e.md`` and
``<out>/e2e.csv`` (default ``docs/benchmarks``). ``--keep DIR`` keeps the run directories
(``DIR/<problem>_<algorithm>[_r<i>]``) instead of deleting them, e.g. to compare result files between versions.
The ``imc-moo`` run is the one beside this interpreter (the active venv's); the environment is passed through, so
``PYTHONPATH=<checkout> python benchmarks/e2e.py`` times another checkout. The script reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
PROBLEMS = ("rram_cnn4", "sram_cnn4", "sram_mixed9")
#: the issue's target: every run of an algorithm on a method problem within this many seconds, end to end
TARGET_S = 5.0
COLUMNS = ("problem", "algorithm", "wall_s", "search_s", "evaluations", "outside_s", "outside_pct", "repeats",
           "error")


#: the table's order: the method and its ablations, the other optimizers, the baselines; other configs after them
ORDER = ("phased_ga", "phased_ga_1phase", "phased_ga_2phase", "nsga2", "nsga3", "ga", "random", "specialized",
         "largest_workload", "sequential")


def available_algorithms() -> list[str]:
    """The packaged algorithm configs (``conf/algorithm/*.yaml``, as :func:`imc_moo.algorithms.available_algorithms`
    lists them, read from the checkout without importing imc_moo), in :data:`ORDER`."""
    names = sorted(p.stem for p in (ROOT / "conf" / "algorithm").glob("*.yaml"))
    return [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]


def imc_moo_command() -> list[str]:
    """The ``imc-moo`` console script of this interpreter's environment (else ``python -m imc_moo``)."""
    script = Path(sys.executable).with_name("imc-moo")
    if script.is_file():
        return [str(script)]
    found = shutil.which("imc-moo")
    return [found] if found else [sys.executable, "-m", "imc_moo"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one subprocess, start to exit (output captured, not shown)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, done


def run_once(base: list[str], problem: str, algorithm: str, budget: int | None, run_dir: Path) -> dict:
    """One timed run into ``run_dir``; its wall time and best.json's search time and evaluations."""
    cmd = [*base, f"problem={problem}", f"algorithm={algorithm}", "seed=0", "progress=false",
           f"hydra.run.dir={run_dir}"]
    if budget is not None:
        cmd.append(f"budget={budget}")
    wall, done = timed(cmd, cwd=run_dir.parent)
    best = run_dir / "best.json"
    if done.returncode != 0 or not best.is_file():
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"wall_s": wall, "error": f"exit {done.returncode}: {last}"}
    summary = json.loads(best.read_text())
    return {"wall_s": wall, "search_s": float(summary["wall_time_s"]), "evaluations": int(summary["evaluations"])}


def median_row(problem: str, algorithm: str, runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    row = {"problem": problem, "algorithm": algorithm, "repeats": len(runs), "error": ""}
    if len(ok) < len(runs):
        row["error"] = next(r["error"] for r in runs if "error" in r)
    if not ok:
        row["wall_s"] = statistics.median(r["wall_s"] for r in runs)
        return row
    wall = statistics.median(r["wall_s"] for r in ok)
    row["wall_s"] = wall
    if "search_s" in ok[0]:
        search = statistics.median(r["search_s"] for r in ok)
        row.update(search_s=search, evaluations=ok[0]["evaluations"], outside_s=wall - search,
                   outside_pct=100.0 * (wall - search) / wall)
        evaluations = {r["evaluations"] for r in ok}
        if len(evaluations) > 1:  # seed 0 each time: a run that differs is worth flagging
            row["error"] = f"evaluations differ between repeats: {sorted(evaluations)}"
    return row


def _fmt(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None or value == "":
        return "—"
    if key == "evaluations":
        return f"{value:,}"
    if key == "outside_pct":
        return f"{value:.0f} %"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def markdown(rows: list[dict]) -> str:
    head = ["problem", "algorithm", "wall s", "search s", "evaluations", "outside the search s", "outside %"]
    keys = ["problem", "algorithm", "wall_s", "search_s", "evaluations", "outside_s", "outside_pct"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for row in rows:
        cells = [_fmt(row, k) for k in keys]
        if row.get("error"):
            cells[1] += f" (**{row['error']}**)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def git_state() -> str:
    """``<commit>`` plus the modified files of the checkout (read-only git queries), or ``unknown``."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return commit + (f" with uncommitted changes to {', '.join(changed)}" if changed else " (clean)")


def package_origin() -> Path:
    """Where the timed ``imc-moo`` imports imc_moo from (this checkout, or another one on ``PYTHONPATH``)."""
    # -P: as the console script, without the current directory on sys.path
    where = "import importlib.util as u; print(u.find_spec('imc_moo').origin)"
    done = subprocess.run([sys.executable, "-P", "-c", where], capture_output=True, text=True,
                          cwd=tempfile.gettempdir())
    return Path(done.stdout.strip()).resolve().parent if done.returncode == 0 else Path("unknown")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/e2e.py", description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), metavar="NAME",
                        help=f"problem configs (default {' '.join(PROBLEMS)})")
    parser.add_argument("--algorithms", nargs="+", default=None, metavar="NAME",
                        help="algorithm configs (default: every conf/algorithm/*.yaml)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="runs per cell; the median is shown")
    parser.add_argument("--budget", type=int, default=None,
                        help="budget override (default: the config's, the method's 3,300 designs)")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="keep the run directories in DIR (default: temporary, deleted)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default docs/benchmarks)")
    parser.add_argument("--note", default="", help="a line added to the table's header (what was measured)")
    parser.add_argument("--no-warmup", action="store_true",
                        help="no untimed run per problem before its timed runs (the table cache may be cold)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    algorithms = args.algorithms or available_algorithms()
    base = imc_moo_command()
    command = "python benchmarks/e2e.py" + "".join(f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None
                                                                                   else argv))
    started = dt.datetime.now(dt.UTC)
    origin = package_origin()
    state = git_state() if origin == ROOT / "imc_moo" else ""
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="imc_moo_e2e_") as scratch:
        root = args.keep.resolve() if args.keep else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        helps = [timed([*base, "--help"], cwd=root) for _ in range(args.repeat)]
        failed = next((d for _, d in helps if d.returncode != 0), None)
        rows.append({"problem": "—", "algorithm": "`imc-moo --help`", "repeats": args.repeat,
                     "wall_s": statistics.median(w for w, _ in helps),
                     "error": f"exit {failed.returncode}" if failed else ""})
        print(f"imc-moo --help: {rows[-1]['wall_s']:.2f} s", file=sys.stderr)
        for problem in args.problems:
            if not args.no_warmup:
                warm = root / f".warmup_{problem}"
                timed([*base, f"problem={problem}", "budget=100", "plots=false", "progress=false", "overwrite=true",
                       f"hydra.run.dir={warm}"], cwd=root)
                shutil.rmtree(warm, ignore_errors=True)
            for algorithm in algorithms:
                runs = []
                for r in range(args.repeat):
                    name = f"{problem}_{algorithm}" + (f"_r{r}" if args.repeat > 1 else "")
                    run_dir = root / name
                    if run_dir.exists():
                        shutil.rmtree(run_dir)
                    runs.append(run_once(base, problem, algorithm, args.budget, run_dir))
                    if not args.keep:
                        shutil.rmtree(run_dir, ignore_errors=True)
                rows.append(median_row(problem, algorithm, runs))
                row = rows[-1]
                print(f"{problem} {algorithm}: wall {row['wall_s']:.2f} s, search {_fmt(row, 'search_s')} s"
                      + (f" ({row['error']})" if row["error"] else ""), file=sys.stderr)
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()

    timed_rows = [r for r in rows[1:] if "search_s" in r]
    within = sum(r["wall_s"] <= TARGET_S for r in timed_rows)
    worst = max(timed_rows, key=lambda r: r["wall_s"], default=None)
    budget = f"{args.budget:,}" if args.budget else "the config's (3,300)"
    code = f"imc_moo from {origin}"
    if state:
        final = git_state()
        code += f", checkout {state}" + ("" if final == state else f" at the start and {final} at the end (the "
                                         "checkout changed while the benchmark ran)")
    header = [
        "# End-to-end wall time of the CLI",
        "",
        f"Command: `{command}`  ",
        f"Date: {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.machine()}; the whole benchmark took {elapsed:.0f} s.  ",
        f"Code: {code}.  ",
        *([f"Note: {args.note}  "] if args.note else []),
        f"Each run: `{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(base))} problem=<problem> "
        f"algorithm=<algorithm> seed=0 progress=false hydra.run.dir=<temporary dir>`"
        f"{f' budget={args.budget}' if args.budget else ''} (budget {budget}, plots=true), one at a time"
        f"{f', median of {args.repeat} runs' if args.repeat > 1 else ''}"
        f"{'' if args.no_warmup else '; one untimed warm-up run per problem first (budget 100, plots=false)'}.  ",
        "Columns: wall s = subprocess wall time from process start to exit (what `/usr/bin/time` reports: "
        "interpreter start, imports, config, search, CSVs, best.json, pareto.png and convergence.png); search s = "
        "best.json's wall_time_s (the search alone); evaluations = distinct designs; outside the search = wall − "
        "search, and its share of the wall time.",
        "",
    ]
    footer = ["", (f"{within} of {len(timed_rows)} runs within {TARGET_S:g} s end to end; slowest: "
                   f"{worst['problem']} {worst['algorithm']} {worst['wall_s']:.2f} s."
                   if worst else "no run completed.")]
    text = "\n".join(header) + "\n" + markdown(rows) + "\n" + "\n".join(footer) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "e2e.md").write_text(text)
    with open(args.out / "e2e.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{row[k]:.4f}" if isinstance(row.get(k), float) else row.get(k, ""))
                             for k in COLUMNS})
    print(f"written: {args.out / 'e2e.md'}, {args.out / 'e2e.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
