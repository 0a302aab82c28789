"""Leave-one-network-out fidelity: what a network without reference data (e.g. an ONNX import) should expect.

    python benchmarks/leave_one_out.py [--reference DIR] [--out DIR]

The procedure is :func:`imc_moo.model.calibrate.leave_one_network_out` (the fidelity report of ``python -m
imc_moo.model.calibrate`` prints the same table): for each memory and each reference network N of
``cimloop_evaluations.csv``, the per-memory theta is refitted with the calibration's own fit (same robust least
squares, MIN_SHARE / RIDGE / HUBER_DELTA, prior 1) on the fitting half of the designs of every *other* network,
and N's held-out designs are scored: median and 95th-percentile |relative error| of energy, latency and area [%],
Spearman rank correlation of EDAP. For comparison, the error with the packaged per-memory theta (which saw N).

Latency and area have no fitted coefficient, so leaving a network out cannot change them. N's layers and activity
factors are the reference layer files' (exact), so this measures how the energy model transfers, not the
importer's activity estimate. Writes ``docs/benchmarks/leave_one_out.md`` and ``leave_one_out.csv`` (one row
per memory x network, with the LOO theta). Asserts nothing; runs in seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from imc_moo.app.export import atomic_write_csv, atomic_write_text, markdown_table
from imc_moo.model.api import packaged_coefficients
from imc_moo.model.calibrate import (
    DEFAULT_REFERENCE,
    LOO_COLUMNS,
    component_energies,
    fidelity_table,
    held_out,
    leave_one_network_out,
    load_reference,
    predict_energy,
)
from imc_moo.model.cost import ENERGY_COMPONENTS

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def _fmt(column: str, v: float) -> str:
    return f"{v:.4f}" if "rho" in column else f"{v:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/leave_one_out.py", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help="shared/reference directory (default: ../shared/reference from the repo root)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default docs/benchmarks)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        ref = load_reference(args.reference)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parts = component_energies(ref)  # theta = 1 component energies [J]; the only model evaluation needed
    test = held_out(ref.design_key)
    e_loo, thetas = leave_one_network_out(ref, parts, ~test, test)
    e_mem = predict_energy(ref, parts, packaged_coefficients())
    rows, lat, area = ref[test], parts.latency_s[test], parts.area_mm2[test]
    df = fidelity_table(rows, e_loo[test], lat, area)[LOO_COLUMNS].reset_index(drop=True)
    mem = fidelity_table(rows, e_mem[test], lat, area)
    df["packaged_theta_energy_med_pct"] = mem.energy_med_pct.to_numpy()
    th = pd.DataFrame([{f"theta_loo_{k}": thetas[m, w][k] for k in ENERGY_COMPONENTS}
                       for m, w in zip(df.memory, df.workload)])
    df = pd.concat([df, th], axis=1)
    lines = [
        "# Leave-one-network-out fidelity (one theta per memory, fitted without the network)",
        "",
        "For each network N the per-memory theta is refitted on the calibration's fitting half of the other "
        "networks of that memory and N's held-out designs are scored "
        "(`imc_moo.model.calibrate.leave_one_network_out`). "
        "Errors are |model / reference - 1| in %; 'packaged' = the packaged per-memory theta, which saw N.",
        "",
        f"Held-out rows: {int(test.sum())} of {len(ref)}.",
        "",
        markdown_table(df[LOO_COLUMNS + ["packaged_theta_energy_med_pct"]], _fmt),
        "",
        "LOO theta (components with a fitted coefficient differ from 1):",
        "",
    ]
    theta_cols = [c for c in th.columns if (th[c] != 1.0).any()]
    lines.append(markdown_table(df[["memory", "workload", *theta_cols]].set_axis(
        ["memory", "left out", *(c.removeprefix("theta_loo_") for c in theta_cols)], axis=1), lambda c, v: f"{v:.4f}"))
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "leave_one_out.md", text)
    atomic_write_csv(args.out / "leave_one_out.csv", df)
    print(f"wrote {args.out / 'leave_one_out.md'} and {args.out / 'leave_one_out.csv'}; "
          f"run time {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
