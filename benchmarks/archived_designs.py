"""Score the original's archived designs (``../shared/reference/METHOD.md`` §6.2-6.3) with the calibrated model.

    python benchmarks/archived_designs.py

Prints, per design, the archive's set-level EDAP (mJ·ms·mm²: max of the networks' energies x max of their delays
x area on cnn4, means on mixed9, as the method scores them), the model's and their relative difference, then the
model's per-network EDAPs; then the exact optimum of SRAM cnn4 within the original's reachable space (its bounds
cut off 512-row/column arrays and 128 MiB of GLB, METHOD.md §8.6), by exhaustive enumeration. The README's
"Published vs imc-moo" table quotes these numbers. It asserts nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from imc_moo.model.api import evaluate
from imc_moo.paths import CONF_DIR
from imc_moo.problem import WorkloadSetProblem, aggregate
from imc_moo.problem.exhaustive import exhaustive


def _design(v, bits, rows, cols, srg, tic, mit, glb_mib, period_s=1e-9):
    return dict(voltage=v, bits_per_cell=bits, base_latency_s=period_s, xbar_rows=rows, xbar_cols=cols,
                router_group=srg, tiles_per_chip=tic, macros_per_tile=mit, glb_mib=glb_mib)


#: (what, memory, workload set, aggregation, design, the archive's score).
ARCHIVED = [
    ("RRAM cnn4, 'ela_mean' run", "rram", "cnn4", "max", _design(0.6, 8, 512, 32, 8, 64, 32, 1.0), 1.217),
    ("RRAM cnn4, 'ela_all' run", "rram", "cnn4", "max", _design(0.55, 8, 512, 32, 2, 64, 128, 1.0), 1.337),
    ("SRAM cnn4, best 'ela'", "sram", "cnn4", "max", _design(0.55, 1, 256, 256, 6, 2, 32, 2.0), 9.56),
    ("SRAM mixed9, 'ela_mean'", "sram", "mixed9", "mean", _design(0.5, 1, 512, 512, 1, 2, 16, 1.0), 3.600),
    ("RRAM cnn4, sequential from middle", "rram", "cnn4", "max", _design(0.5, 8, 512, 128, 4, 32, 32, 2.0), 3.478),
    ("SRAM cnn4, sequential from middle", "sram", "cnn4", "max", _design(0.8, 1, 256, 32, 4, 16, 32, 2.0), 20.24),
]


def main() -> int:
    print("| archived design | archive EDAP | model EDAP | difference | area mm2 | model EDAP per network |")
    print("|---|---:|---:|---:|---:|---|")
    for what, memory, workloads, aggregation, design, archived in ARCHIVED:
        out = evaluate(pd.DataFrame([design]), workloads, memory)
        energy_j, latency_s = (aggregate(out[q].to_numpy()[None, :], aggregation)[0]
                               for q in ("energy_j", "latency_s"))
        edap = energy_j * 1e3 * latency_s * 1e3 * out.area_mm2.iloc[0]
        per = ", ".join(f"{w} {x:.4g}" for w, x in zip(out.workload, out.edap))
        print(f"| {what} | {archived:.4g} | {edap:.4g} | {100 * (edap / archived - 1):+.1f} % | "
              f"{out.area_mm2.iloc[0]:.1f} | {per} |")
    space = yaml.safe_load((Path(CONF_DIR) / "space" / "sram.yaml").read_text())
    space.update(name="sram_original_bounds", xbar_rows=[v for v in space["xbar_rows"] if v <= 256],
                 xbar_cols=[v for v in space["xbar_cols"] if v <= 256],
                 glb_mib=[v for v in space["glb_mib"] if v < 128])
    problem = WorkloadSetProblem("cnn4", "sram", objectives="edap", aggregation="max", space=space)
    result = exhaustive(problem)
    design = {k: (v.item() if hasattr(v, "item") else v) for k, v in result.best_design.items()}
    print(f"\nSRAM cnn4 (max), the original's reachable space ({result.n_designs:,} designs): exact optimum "
          f"{result.best_edap:.4g} at {design}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
