"""Leave-one-network-out energy error: what a network without reference data (e.g. an ONNX import) should expect.

    python benchmarks/leave_one_out.py [--reference DIR] [--out DIR]

A network a user imports is not in the calibration, so it is evaluated with the per-memory fallback theta
(``coefficients.json["theta"][memory]``), never with a per-network theta. The packaged per-memory theta was fitted
on every reference network, so its error on a reference network flatters an unseen one. Here, for each memory and
each reference network N of ``cimloop_evaluations.csv``:

1. the per-memory theta is refitted with :func:`imc_moo.calibrate.fit_theta` (same robust least squares, same
   MIN_SHARE / RIDGE / HUBER_DELTA, prior 1) on the fitting half of the designs (:func:`imc_moo.calibrate.held_out`,
   the calibration's own split) of every network of that memory except N;
2. N's held-out designs are evaluated with that theta and compared with the reference simulator: median and
   95th-percentile |relative error| of energy [%], Spearman rank correlation of energy and of EDAP (model latency
   and area, which have no fitted coefficient);
3. for comparison, the same held-out rows with the packaged per-network theta of N ("own theta") and with the
   packaged per-memory theta, which saw N ("memory theta incl. N").

Only energy is concerned: latency and area have no fitted coefficient (they come out of the mapping and the
tables), so leaving a network out cannot change them. N's layers and activity factors are the reference layer
files' (exact), so this measures how the energy coefficients transfer, not the importer's activity estimate.

Sanity check printed first: refitting with *no* network left out must reproduce the packaged per-memory theta
(otherwise the LOO would not be the calibration's procedure). Writes ``benchmarks/results/leave_one_out.md`` (the
printed tables) and ``leave_one_out.csv`` (one row per memory x network, with the LOO theta). Asserts nothing.
Runs in well under a minute (one theta = 1 evaluation of all reference rows, then cheap refits).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.calibrate import (DEFAULT_REFERENCE, component_energies, fidelity_table, fit, fit_theta, held_out,
                               load_reference, predict_energy)
from imc_moo.export import atomic_write_csv, atomic_write_text, markdown_table
from imc_moo.model.api import packaged_coefficients
from imc_moo.model.cost import ENERGY_COMPONENTS

RESULTS = Path(__file__).resolve().parent / "results"
COMPONENTS = list(ENERGY_COMPONENTS)
#: Markdown column -> column of the merged fidelity frame.
COLUMNS = {
    "memory": "memory", "network": "workload", "n held-out": "n",
    "LOO median abs err E %": "loo_med", "LOO p95 %": "loo_p95",
    "own theta median %": "own_med", "memory theta incl. N median %": "mem_med",
    "LOO rho EDAP": "loo_rho_edap", "LOO rho E": "loo_rho_energy",
}


def loo_energy(ref: pd.DataFrame, parts: pd.DataFrame, train: np.ndarray, test: np.ndarray):
    """Energy [J] of every held-out row with its memory's theta refitted without the row's network.

    Returns (energy_j with NaN outside ``test``, {(memory, network): theta}).
    """
    energy = np.full(len(ref), np.nan)
    thetas = {}
    target = ref.energy_j.to_numpy()
    comp = parts[COMPONENTS].to_numpy()
    memory, workload = ref.memory.to_numpy(), ref.workload.to_numpy()
    for mem in sorted(np.unique(memory)):
        m = memory == mem
        for net in sorted(np.unique(workload[m])):
            fit_rows = m & train & (workload != net)
            # prior {} = 1, as calibrate.fit does for the per-memory theta
            th = fit_theta(parts[fit_rows], target[fit_rows], {})
            rows = m & test & (workload == net)
            energy[rows] = comp[rows] @ np.array([th[k] for k in COMPONENTS])
            thetas[mem, net] = th
    return energy, thetas


def _fmt(column: str, v: float) -> str:
    return f"{v:.4f}" if "rho" in column else f"{v:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/leave_one_out.py", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help="shared/reference directory (default: ../shared/reference from the repo root)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default benchmarks/results)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        ref = load_reference(args.reference)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parts = component_energies(ref)  # theta = 1 component energies [J]; the only model evaluation needed
    test = held_out(ref.design_key)
    packaged = packaged_coefficients()

    # The LOO must be the calibration's fit: with nothing left out it has to give the packaged theta.
    refit = fit(ref, parts, ~test)["theta"]
    same = refit == packaged["theta"]

    e_loo, thetas = loo_energy(ref, parts, ~test, test)
    e_own = predict_energy(ref, parts, packaged, per_network=True)
    e_mem = predict_energy(ref, parts, packaged, per_network=False)
    rows, lat, area = ref[test], parts.latency_s[test], parts.area_mm2[test]
    key = ["memory", "workload"]
    loo = fidelity_table(rows, e_loo[test], lat, area)
    own = fidelity_table(rows, e_own[test], lat, area)
    mem = fidelity_table(rows, e_mem[test], lat, area)
    df = loo[key + ["n"]].copy()
    for name, t in (("loo", loo), ("own", own), ("mem", mem)):
        t = t.set_index(key).loc[pd.MultiIndex.from_frame(df[key])]
        df[f"{name}_med"] = t.energy_med_pct.to_numpy()
        df[f"{name}_p95"] = t.energy_p95_pct.to_numpy()
        df[f"{name}_rho_edap"] = t.rho_edap.to_numpy()
        df[f"{name}_rho_energy"] = t.rho_energy.to_numpy()
    th = pd.DataFrame([{f"theta_loo_{k}": thetas[m, w][k] for k in COMPONENTS} for m, w in zip(df.memory, df.workload)])
    df = pd.concat([df, th], axis=1)

    lines = [
        "# Leave-one-network-out energy error (per-memory theta, as an imported network gets it)",
        "",
        "Energy only: latency and area have no fitted coefficient, so leaving a network out cannot change them "
        "(EDAP uses the model's latency and area). For each network N the per-memory theta is refitted on the "
        "calibration's fitting half of the other networks of that memory, and N's held-out designs are evaluated "
        "with it. Errors are |model / reference - 1| in %. 'own theta' = packaged per-network theta of N; "
        "'memory theta incl. N' = packaged per-memory theta (fitted with N). N's layers and activity factors are "
        "the reference layer files' (an imported network's are estimated by the importer).",
        "",
        f"Held-out rows: {int(test.sum())} of {len(ref)}. Refit with no network left out reproduces the packaged "
        f"per-memory theta: {'yes' if same else 'NO (the LOO is not the calibration procedure)'}.",
        "",
        markdown_table(df[list(COLUMNS.values())].set_axis(list(COLUMNS), axis=1), _fmt),
        "",
    ]
    for m, g in df.groupby("memory", sort=True):
        worst = g.loc[g.loo_med.idxmax()]
        lines.append(
            f"- **{m}**: median over {len(g)} networks of the LOO median |err| E = {g.loo_med.median():.2f} % "
            f"(memory theta incl. N: {g.mem_med.median():.2f} %, own theta: {g.own_med.median():.2f} %); "
            f"worst network {worst.workload}: LOO median {worst.loo_med:.2f} %, p95 {worst.loo_p95:.2f} %; "
            f"largest LOO p95 {g.loo_p95.max():.2f} % ({g.loc[g.loo_p95.idxmax()].workload}).")
    lines += ["", "LOO theta (components with a fitted coefficient differ from 1):", ""]
    theta_cols = [c for c in th.columns if (th[c] != 1.0).any()]
    lines.append(markdown_table(df[key + theta_cols].set_axis(
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
