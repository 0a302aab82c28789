"""How fast a stopped run keeps its work: SIGTERM to exit for runs of growing length.

    python benchmarks/stop.py [--after 10 60 420] [--problem sram_mixed9] [--performance reference]

Each run is ``imc-moo problem=<problem> algorithm=random budget=2000000 plots=false progress=false`` in a temporary
directory, sent SIGTERM after the given seconds (a Slurm time limit, ``kill``), and timed from the signal to the
process's exit. Printed per run: designs evaluated (``interrupted.json``), the archive's rows (must equal them),
seconds from SIGTERM to exit, and the exit status (143). The archive is streamed to disk during the run
(``imc_moo.app.export.ArchiveStream``), so the stop writes only the last seconds' designs plus the small tables.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(after_s: float, problem: str, performance: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="imc_moo_stop_") as tmp:
        run = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "imc_moo", f"problem={problem}", "algorithm=random", "budget=2000000",
               "plots=false", "progress=false", f"problem.performance={performance}", f"hydra.run.dir={run}"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(after_s)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait()
        stop_s = time.perf_counter() - t0
        summary = json.loads((run / "interrupted.json").read_text()) if (run / "interrupted.json").exists() else {}
        rows = sum(1 for _ in (run / "archive.csv").open()) - 1 if (run / "archive.csv").exists() else 0
        return {"after_s": after_s, "designs": summary.get("evaluations", 0), "archive_rows": rows,
                "stop_s": stop_s, "exit": code}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=float, nargs="+", default=[10.0, 60.0, 420.0])
    parser.add_argument("--problem", default="sram_mixed9")
    parser.add_argument("--performance", default="reference")
    args = parser.parse_args(argv)
    print("| SIGTERM after s | designs | archive rows | SIGTERM to exit s | exit |")
    print("|---:|---:|---:|---:|---:|")
    for after in args.after:
        r = one(after, args.problem, args.performance)
        print(f"| {r['after_s']:g} | {r['designs']:,} | {r['archive_rows']:,} | {r['stop_s']:.1f} | {r['exit']} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
