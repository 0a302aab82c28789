"""Calibrate the cost model's energy coefficients against the reference simulator and report its fidelity.

``python -m imc_moo.model.calibrate [--reference DIR] [--check-only]``

1. Splits the reference designs (``cimloop_evaluations.csv``) per memory into a fitting half and a held-out half
   by design key (seeded, so the split is reproducible).
2. Fits the energy coefficients theta (one per energy component, COST_MODEL.md §5.1) on the fitting half by
   robust (Huber-weighted) least squares on relative error, shrunk towards 1: **one set per memory**, used for
   every network. The report also shows what a set per memory x reference network would buy (little: it was a
   packaging option until issue 12's second round, and was dropped because it did not earn its place).
3. Reports, per memory x network, on the held-out half: Spearman rank correlation of EDAP, energy and latency and
   the median / 95th-percentile absolute relative error of energy, latency and area; then the same
   **leave-one-network-out** (:func:`leave_one_network_out`: for each network, theta refitted on the fitting half
   of the other networks only, that network's held-out half scored): what a network without reference data gets.
4. Writes ``imc_moo/model/data/coefficients.json``, a small held-out check set ``check_set.csv`` that the tests use
   (so they do not need ``../shared``) and the report ``docs/benchmarks/fidelity.md``.

Latency and area have no free coefficient: they come out of the mapping and the tables as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.files import markdown_table, write_text
from imc_moo.hardware import DESIGN_COLUMNS
from imc_moo.model.api import designs_from_frame, evaluate_network, fidelity_warning_text, packaged_coefficients
from imc_moo.model.cost import ENERGY_COMPONENTS
from imc_moo.workloads import load_network

ROOT = Path(__file__).resolve().parents[2]  # the checkout: imc_moo/model/calibrate.py
DATA = Path(__file__).resolve().parent / "data"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"
#: The fidelity report written with the coefficients.
REPORT = ROOT / "docs" / "benchmarks" / "fidelity.md"
DESIGN_INPUTS = [c for c in DESIGN_COLUMNS if c != "glb_mib"]
#: Components whose median share of energy is at least this are fitted; the rest keep theta = 1 (they are too
#: small to be identified from network totals).
MIN_SHARE = 0.01
#: Ridge weight pulling theta towards its prior, relative to the number of fitted rows.
RIDGE = 1e-3
HUBER_DELTA = 0.03
HELD_OUT_FRACTION = 0.5
CHECK_ROWS_PER_NETWORK = 100


def held_out(keys: pd.Series, fraction: float = HELD_OUT_FRACTION) -> np.ndarray:
    """Deterministic split by design key: True for the held-out part (a CRC32 hash, independent of row order)."""
    h = keys.map(lambda k: zlib.crc32(str(k).encode()) / 2**32)
    return (h < fraction).to_numpy()


def load_reference(reference_dir: Path) -> pd.DataFrame:
    path = Path(reference_dir) / "cimloop_evaluations.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass --reference DIR pointing at shared/reference")
    ref = pd.read_csv(path)
    ref["memory"] = ref["memory"].str.lower()
    ref["design_key"] = ref["key"] + "_" + ref["technology_nm"].astype(str)
    ref["area_mm2"] = ref["area_cm2"] * 100.0
    return ref


def component_energies(ref: pd.DataFrame) -> pd.DataFrame:
    """Model energy per component (theta = 1) [J] and latency/area for every reference row, same index."""
    parts = []
    for (memory, workload), rows in ref.groupby(["memory", "workload"], sort=True):
        d = designs_from_frame(rows[DESIGN_INPUTS], memory)
        r = evaluate_network(d, load_network(workload), theta={})
        frame = pd.DataFrame({k: r.energy_components_j.get(k, np.zeros(d.n)) for k in ENERGY_COMPONENTS},
                             index=rows.index)
        frame["latency_s"] = r.latency_s
        frame["area_mm2"] = d.total_area_mm2
        frame["fidelity_flags"] = r.fidelity_flags
        parts.append(frame)
    return pd.concat(parts).loc[ref.index]


def fit_theta(parts: pd.DataFrame, target: np.ndarray, prior: dict[str, float]) -> dict[str, float]:
    """Robust relative-error least squares for theta over the components with >= MIN_SHARE median share."""
    comps = list(ENERGY_COMPONENTS)
    share = parts[comps].div(parts[comps].sum(axis=1), axis=0).median()
    free = [k for k in comps if share[k] >= MIN_SHARE]
    fixed = [k for k in comps if k not in free]
    theta = {k: float(prior.get(k, 1.0)) for k in comps}
    if not free or len(target) == 0:
        return theta
    rest = (parts[fixed].to_numpy() * np.array([theta[k] for k in fixed])).sum(axis=1)
    X = parts[free].to_numpy() / target[:, None]
    y = 1.0 - rest / target
    p = np.array([theta[k] for k in free])
    lam = np.sqrt(RIDGE * len(y))
    w = np.ones(len(y))
    for _ in range(20):
        A = np.vstack([X * w[:, None], lam * np.eye(len(free))])
        b = np.concatenate([y * w, lam * p])
        sol = np.linalg.lstsq(A, b, rcond=None)[0]
        resid = np.abs(X @ sol - y)
        w = np.sqrt(np.minimum(1.0, HUBER_DELTA / np.maximum(resid, 1e-12)))
    theta.update({k: round(float(v), 4) for k, v in zip(free, sol)})
    return theta


def fit(ref: pd.DataFrame, parts: pd.DataFrame, train: np.ndarray, per_network: bool = False) -> dict:
    """theta per memory (and, with ``per_network``, per memory x network, shrunk towards the memory's: the
    report's comparison), fitted on rows ``train``."""
    theta: dict[str, dict[str, float]] = {}
    by_network: dict[str, dict[str, dict[str, float]]] = {}
    for memory in sorted(ref.memory.unique()):
        m = (ref.memory == memory).to_numpy() & train
        theta[memory] = fit_theta(parts[m], ref.energy_j.to_numpy()[m], {})
        if not per_network:
            continue
        by_network[memory] = {}
        for workload in sorted(ref.loc[m, "workload"].unique()):
            w = m & (ref.workload == workload).to_numpy()
            by_network[memory][workload] = fit_theta(parts[w], ref.energy_j.to_numpy()[w], theta[memory])
    return {"theta": theta, "theta_by_network": by_network}


def predict_energy(ref: pd.DataFrame, parts: pd.DataFrame, coefficients: dict):
    """Calibrated model energy [J] per reference row from the theta = 1 component energies (a network's own theta
    where the coefficients have one, i.e. the report's per-network comparison, else its memory's)."""
    keys = list(zip(ref.memory, ref.workload))
    thetas = {}
    for key in set(keys):
        memory, workload = key
        th = coefficients.get("theta_by_network", {}).get(memory, {}).get(workload, coefficients["theta"][memory])
        thetas[key] = np.array([th.get(k, 1.0) for k in ENERGY_COMPONENTS])
    weights = np.stack([thetas[k] for k in keys])
    return (parts[list(ENERGY_COMPONENTS)].to_numpy() * weights).sum(axis=1)


def leave_one_network_out(ref: pd.DataFrame, parts: pd.DataFrame, train: np.ndarray, test: np.ndarray):
    """Energy [J] of every ``test`` row with its memory's theta refitted without the row's network.

    For each memory and each of its networks N: :func:`fit_theta` (prior 1, as :func:`fit` does per memory) on the
    ``train`` rows of that memory's other networks, applied to N's ``test`` rows. Returns (energy_j, NaN outside
    ``test``; {(memory, network): theta})."""
    energy = np.full(len(ref), np.nan)
    thetas = {}
    target = ref.energy_j.to_numpy()
    comp = parts[list(ENERGY_COMPONENTS)].to_numpy()
    memory, workload = ref.memory.to_numpy(), ref.workload.to_numpy()
    for mem in sorted(np.unique(memory)):
        m = memory == mem
        for net in sorted(np.unique(workload[m])):
            fit_rows = m & train & (workload != net)
            th = fit_theta(parts[fit_rows], target[fit_rows], {})
            rows = m & test & (workload == net)
            energy[rows] = comp[rows] @ np.array([th[k] for k in ENERGY_COMPONENTS])
            thetas[mem, net] = th
    return energy, thetas


def spearman(a, b) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    ra = pd.Series(np.asarray(a)).rank().to_numpy()
    rb = pd.Series(np.asarray(b)).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def fidelity_table(rows: pd.DataFrame, energy_j, latency_s, area_mm2, by=("memory", "workload")) -> pd.DataFrame:
    """Per group: n, Spearman of EDAP / energy / latency, median and p95 |relative error| (%) of E, L, A."""
    df = rows[list(by)].copy()
    df["e_ref"], df["l_ref"] = rows.energy_j.to_numpy(), rows.latency_s.to_numpy()
    df["a_ref"] = rows.area_mm2.to_numpy()
    df["e"], df["l"], df["a"] = np.asarray(energy_j), np.asarray(latency_s), np.asarray(area_mm2)
    out = []
    for key, g in df.groupby(list(by), sort=True):
        re, rl, ra = (np.abs(g[x] / g[f"{x}_ref"] - 1) * 100 for x in ("e", "l", "a"))
        out.append(dict(zip(by, key if isinstance(key, tuple) else (key,))) | {
            "n": len(g),
            "rho_edap": spearman(g.e * g.l * g.a, g.e_ref * g.l_ref * g.a_ref),
            "rho_energy": spearman(g.e, g.e_ref),
            "rho_latency": spearman(g.l, g.l_ref),
            "energy_med_pct": re.median(), "energy_p95_pct": re.quantile(0.95),
            "latency_med_pct": rl.median(), "latency_p95_pct": rl.quantile(0.95),
            "area_med_pct": ra.median(), "area_p95_pct": ra.quantile(0.95),
        })
    return pd.DataFrame(out)


def _markdown(df: pd.DataFrame) -> str:
    """Fidelity tables: correlations to 4 decimals, percentages to 2."""
    return markdown_table(df, lambda column, v: f"{v:.4f}" if column.startswith("rho") else f"{v:.2f}")


#: Columns of the leave-one-network-out table.
LOO_COLUMNS = ["memory", "workload", "n", "rho_edap", "energy_med_pct", "energy_p95_pct", "latency_med_pct",
               "latency_p95_pct", "area_med_pct", "area_p95_pct"]


def report(ref: pd.DataFrame, parts: pd.DataFrame, coefficients: dict, test: np.ndarray) -> tuple[str, dict]:
    """The fidelity report (markdown) of ``coefficients`` on the held-out rows ``test``, and its tables."""
    rows, lat, area = ref[test], parts.latency_s[test], parts.area_mm2[test]
    energy = predict_energy(ref, parts, coefficients)
    held = fidelity_table(rows, energy[test], lat, area)
    e_loo, thetas = leave_one_network_out(ref, parts, ~test, test)
    loo = fidelity_table(rows, e_loo[test], lat, area)
    own = fit(ref, parts, ~test, per_network=True)
    e_own = predict_energy(ref, parts, own)
    own_table = fidelity_table(rows, e_own[test], lat, area)
    nodes = fidelity_table(rows, energy[test], lat, area, by=("memory", "technology_nm"))
    lines = [
        f"Held-out split: {int(test.sum())} of {len(ref)} (design, network) rows, "
        f"{rows.design_key.nunique()} designs never used for fitting. Energy with one theta set per memory.",
        "", _markdown(held), "",
        "Leave-one-network-out (for each network, theta fitted on the other networks' fitting half only; this "
        "network's held-out half scored): what a network without reference data gets.", "",
        _markdown(loo[LOO_COLUMNS]), "",
    ]
    for memory, g in loo.groupby("memory", sort=True):
        worst = g.loc[g.energy_med_pct.idxmax()]
        lines.append(f"- **{memory}** LOO: energy median |err| "
                     f"{g.energy_med_pct.min():.2f}-{g.energy_med_pct.max():.2f} % "
                     f"(worst {worst.workload}), p95 up to {g.energy_p95_pct.max():.2f} %, "
                     f"rho(EDAP) >= {g.rho_edap.min():.4f}.")
    clean = test & (parts.fidelity_flags.to_numpy() == 0)
    loo_clean = fidelity_table(ref[clean], e_loo[clean], parts.latency_s[clean], parts.area_mm2[clean])
    lines += ["", "The same, on the held-out designs without a `fidelity_warning`:", "",
              _markdown(loo_clean[["memory", "workload", "n", "rho_edap", "energy_med_pct", "energy_p95_pct"]])]
    cmp = own_table[["memory", "workload", "n"]].copy()
    cmp["memory_theta_med_pct"] = held.energy_med_pct.to_numpy()
    cmp["memory_theta_p95_pct"] = held.energy_p95_pct.to_numpy()
    cmp["per_network_theta_med_pct"] = own_table.energy_med_pct.to_numpy()
    cmp["per_network_theta_p95_pct"] = own_table.energy_p95_pct.to_numpy()
    cmp["loo_med_pct"] = loo.energy_med_pct.to_numpy()
    lines += ["", "Designs flagged by `fidelity_warning` (all reference rows, one theta per memory; the archive "
              "over-represents small chips): energy |err| (%)", "", _markdown(warning_table(ref, parts, coefficients))]
    lines += ["", "Energy |err| (%) on the held-out half: one theta per memory vs. a theta per memory x network "
              "(what a per-network theta would buy; it exists only for the reference's networks) vs. "
              "leave-one-network-out:", "",
              _markdown(cmp), "", "By technology node:", "", _markdown(nodes), "",
              "theta per memory: " + json.dumps(coefficients["theta"], sort_keys=True)]
    return "\n".join(lines) + "\n", {"held_out": held, "loo": loo, "per_network": own_table, "nodes": nodes,
                                       "loo_theta": thetas}


def warning_table(ref: pd.DataFrame, parts: pd.DataFrame, coefficients: dict) -> pd.DataFrame:
    """Per memory x fidelity warning: rows, share of the memory's rows, median / p95 |energy error| (%) and the
    share of rows off by more than 30 %, on every reference row."""
    err = np.abs(predict_energy(ref, parts, coefficients) / ref.energy_j.to_numpy() - 1) * 100
    df = pd.DataFrame({"memory": ref.memory.to_numpy(), "err": err,
                       "fidelity_warning": fidelity_warning_text(parts.fidelity_flags.to_numpy(dtype=np.uint8))})
    df["fidelity_warning"] = df.fidelity_warning.replace("", "(none)")
    out = []
    for (memory, warning), g in df.groupby(["memory", "fidelity_warning"], sort=True):
        out.append({"memory": memory, "fidelity_warning": warning, "n": len(g),
                    "share_pct": 100 * len(g) / (df.memory == memory).sum(), "energy_med_pct": g.err.median(),
                    "energy_p95_pct": g.err.quantile(0.95), "off_by_30pct_share_pct": 100 * (g.err > 30).mean()})
    return pd.DataFrame(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imc_moo.model.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="shared/reference directory")
    parser.add_argument("--check-only", action="store_true",
                        help="report fidelity of the packaged coefficients; do not refit or write anything")
    args = parser.parse_args(argv)
    try:
        ref = load_reference(args.reference)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parts = component_energies(ref)
    test = held_out(ref.design_key)
    if args.check_only:
        coefficients = packaged_coefficients()
    else:
        coefficients = fit(ref, parts, ~test)
    text, _ = report(ref, parts, coefficients, test)
    print(text)
    if not args.check_only:
        _write(coefficients, ref, test, text)
    return 0


def _write(coefficients: dict, ref: pd.DataFrame, test: np.ndarray, text: str) -> None:
    meta = {"fitted_on": "cimloop_evaluations.csv, rows whose design key hashes outside the held-out half",
            "held_out_fraction": HELD_OUT_FRACTION, "min_share": MIN_SHARE, "ridge": RIDGE,
            "huber_delta": HUBER_DELTA}
    payload = {"theta": coefficients["theta"], "fit": meta}
    write_text(DATA / "coefficients.json", json.dumps(payload, indent=1, sort_keys=True) + "\n")
    held = ref[test]
    check = pd.concat(
        g.sort_values("design_key").iloc[:: max(1, len(g) // CHECK_ROWS_PER_NETWORK)].head(CHECK_ROWS_PER_NETWORK)
        for _, g in held.groupby(["memory", "workload"], sort=True))
    cols = ["memory", "workload", *DESIGN_INPUTS, "energy_j", "latency_s", "area_mm2"]
    write_text(DATA / "check_set.csv", check[cols].to_csv(index=False, float_format="%.10g"))
    if REPORT.parent.parent.is_dir():  # a source checkout (not an installed package)
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        write_text(REPORT, "# Cost-model fidelity against the reference simulator\n\n"
                          "Written by `python -m imc_moo.model.calibrate` (needs `../shared/reference`).\n\n" + text)
    packaged_coefficients.cache_clear()
    print(f"\nwrote {DATA / 'coefficients.json'}, {len(check)} held-out rows to {DATA / 'check_set.csv'} and {REPORT}")


if __name__ == "__main__":
    sys.exit(main())
