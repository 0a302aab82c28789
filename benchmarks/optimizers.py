"""The optimizer comparison, run as the ``optimizers`` experiment and reported by ``imc-moo-report``.

    python benchmarks/optimizers.py [--sweep-dir DIR] [--out DIR] [HYDRA OVERRIDE ...]

Runs ``imc-moo -m +experiment=optimizers [overrides] hydra.sweep.dir=<sweep dir>`` (the definition of the
comparison: problems, algorithms in their native forms, budgets, seeds and the exact yardstick live in
``conf/experiment/optimizers.yaml``, nowhere else), then ``imc-moo-report <sweep dir>``, and copies the report's
comparison section, its figures and CSVs to ``<out>`` (default ``docs/benchmarks``) as ``optimizers.md``, with the
command, the date, the machine and the wall time of the sweep and of the report. Overrides narrow or widen the
sweep, e.g. ``seed=0,1,2 budget=300`` or ``problem=rram_cnn4``. The script reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
SECTION = "## The optimizers against the exact yardstick"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the sweep, e.g. seed=0,1,2")
    parser.add_argument("--sweep-dir", type=Path, help="sweep directory (default: a new temporary directory)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where optimizers.md and its figures go")
    parser.add_argument("--report-only", action="store_true", help="report an existing --sweep-dir, run nothing")
    args = parser.parse_args(argv)
    if args.report_only and args.sweep_dir is None:
        parser.error("--report-only needs --sweep-dir")
    bin_dir = Path(sys.executable).parent
    sweep = args.sweep_dir or Path(tempfile.mkdtemp(prefix="imc_moo_optimizers_")) / "sweep"
    command = [str(bin_dir / "imc-moo"), "-m", "+experiment=optimizers", *args.overrides,
               f"hydra.sweep.dir={sweep}"]
    start = time.perf_counter()
    swept = subprocess.run(["true"] if args.report_only else command)
    sweep_s = time.perf_counter() - start
    start = time.perf_counter()
    reported = subprocess.run([str(bin_dir / "imc-moo-report"), str(sweep)])
    report_s = time.perf_counter() - start
    if reported.returncode != 0:
        print(f"optimizers: the report failed (exit {reported.returncode}); the runs are in {sweep}", file=sys.stderr)
        return reported.returncode
    text = (sweep / "report.md").read_text()
    section = text[text.index(SECTION):] if SECTION in text else "_(no run asked for the exact yardstick)_\n"
    args.out.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(sweep):
        if name.startswith("comparison_"):
            shutil.copy2(sweep / name, args.out / f"optimizers_{name}")
            section = section.replace(f"({name})", f"(optimizers_{name})").replace(f"`{name}`",
                                                                                    f"`optimizers_{name}`")
    shown = ["imc-moo", "-m", "+experiment=optimizers", *args.overrides]
    header = [
        "# Optimizers against the exact yardstick", "",
        f"Command: `{shlex.join(['python', 'benchmarks/optimizers.py', *args.overrides])}`, i.e. "
        f"`{shlex.join(shown)}` then `imc-moo-report <sweep dir>`.  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.machine()}.  ",
        (f"Sweep: not rerun (--report-only: {sweep}); report: {report_s:.0f} s." if args.report_only else
         f"Sweep: {sweep_s:.0f} s (exit status {swept.returncode}); report: {report_s:.0f} s."), "",
        "The sweep's full report (every table of `imc-moo-report`) stays in its directory; this file keeps the "
        "comparison section.", ""]
    (args.out / "optimizers.md").write_text("\n".join(header) + section.replace(SECTION, "## Results", 1))
    print(f"written: {args.out / 'optimizers.md'} (sweep in {sweep})")
    return 0 if swept.returncode == 0 else swept.returncode


if __name__ == "__main__":
    sys.exit(main())
