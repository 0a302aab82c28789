"""Check a deployment sweep's best chips against the exact optimum of every problem it ran.

    python benchmarks/deployment_exact.py runs/multirun/study_deployment

For each distinct problem of the sweep (``+experiment=deployment``: set x memory x mode x switching rate), the
exact least EDAP by exhaustive enumeration (:func:`imc_moo.problem.exhaustive.exhaustive`) beside the median
over seeds of the runs' best feasible EDAP (``summary.csv`` of ``imc-moo-report``), and the gap. Prints a markdown
table, the largest gap and the wall time. It asserts nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from imc_moo.app.config import build_problem
from imc_moo.problem.exhaustive import exhaustive


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python benchmarks/deployment_exact.py SWEEP_DIR (a reported deployment sweep)", file=sys.stderr)
        return 2
    sweep = Path(args[0])
    summary = pd.read_csv(sweep / "summary.csv")
    medians = summary[summary.feasible].groupby("problem").edap.median()
    start = time.perf_counter()
    rows = []
    for run, label in summary.sort_values("run").drop_duplicates("problem")[["run", "problem"]].itertuples(index=False):
        cfg = OmegaConf.load(sweep / run / ".hydra" / "config.yaml")
        result = exhaustive(build_problem(cfg.problem))
        best = medians.get(label, np.nan)
        exact = result.best_edap if np.isfinite(result.best_edap) else np.nan
        rows.append({"problem": label, "exact_edap": exact, "median_best_edap": best,
                     "gap_pct": 100 * (best / exact - 1) if np.isfinite(best) and np.isfinite(exact) else np.nan})
    table = pd.DataFrame(rows)
    print("| problem | exact EDAP | median best EDAP | gap % |")
    print("|---|---:|---:|---:|")
    for r in table.itertuples():
        print(f"| {r.problem} | {r.exact_edap:.4g} | {r.median_best_edap:.4g} | {r.gap_pct:.2f} |")
    feasible_exact = table.exact_edap.notna()
    both = table.gap_pct.notna()
    print(f"\n{len(table)} problems in {time.perf_counter() - start:.0f} s; "
          f"feasible exactly: {int(feasible_exact.sum())}, "
          f"found feasible by the runs: {int(table.median_best_edap.notna().sum())}; largest gap "
          f"{table.gap_pct[both].max():.2f} % ({table.problem[both][table.gap_pct[both].idxmax()]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
