"""Calibrate the cost model's energy coefficients against the reference simulator and report its fidelity.

``python -m imc_moo.calibrate [--reference DIR] [--check-only]``

1. Splits the reference designs (``cimloop_evaluations.csv``) per memory into a fitting half and a held-out half
   by design key (seeded, so the split is reproducible).
2. Fits the energy coefficients theta (one per energy component, COST_MODEL.md §5.1) on the fitting half by
   robust (Huber-weighted) least squares on relative error, shrunk towards 1: once per memory (the fallback for any
   network) and once per memory x network (shrunk towards the memory's theta).
3. Prints, per memory x network, on the held-out half: Spearman rank correlation of EDAP, energy and latency and
   the median / 95th-percentile absolute relative error of energy, latency and area.
4. Writes ``imc_moo/model/data/coefficients.json`` and a small held-out check set ``check_set.csv`` that the
   tests use (so they do not need ``../shared``).

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

from .export import atomic_write_text, markdown_table
from .model.api import designs_from_frame, evaluate_network, packaged_coefficients
from .model.cost import ENERGY_COMPONENTS
from .space import DESIGN_COLUMNS
from .workloads import load_network

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "model" / "data"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"
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


def fit(ref: pd.DataFrame, parts: pd.DataFrame, train: np.ndarray) -> dict:
    """theta per memory and per memory x network, fitted on rows ``train``."""
    theta, by_network = {}, {}
    for memory in sorted(ref.memory.unique()):
        m = (ref.memory == memory).to_numpy() & train
        theta[memory] = fit_theta(parts[m], ref.energy_j.to_numpy()[m], {})
        by_network[memory] = {}
        for workload in sorted(ref.loc[m, "workload"].unique()):
            w = m & (ref.workload == workload).to_numpy()
            by_network[memory][workload] = fit_theta(parts[w], ref.energy_j.to_numpy()[w], theta[memory])
    return {"theta": theta, "theta_by_network": by_network}


def predict_energy(ref: pd.DataFrame, parts: pd.DataFrame, coefficients: dict, per_network: bool = True):
    """Calibrated model energy [J] per reference row from the theta = 1 component energies."""
    keys = list(zip(ref.memory, ref.workload))
    thetas = {}
    for key in set(keys):
        memory, workload = key
        th = coefficients["theta"][memory]
        if per_network:
            th = coefficients["theta_by_network"].get(memory, {}).get(workload, th)
        thetas[key] = np.array([th.get(k, 1.0) for k in ENERGY_COMPONENTS])
    weights = np.stack([thetas[k] for k in keys])
    return (parts[list(ENERGY_COMPONENTS)].to_numpy() * weights).sum(axis=1)


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
    df["e_ref"], df["l_ref"], df["a_ref"] = rows.energy_j.to_numpy(), rows.latency_s.to_numpy(), rows.area_mm2.to_numpy()
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imc_moo.calibrate", description=__doc__.splitlines()[0])
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
    energy = predict_energy(ref, parts, coefficients)
    energy_global = predict_energy(ref, parts, coefficients, per_network=False)
    rows = ref[test]
    table = fidelity_table(rows, energy[test], parts.latency_s[test], parts.area_mm2[test])
    print(f"Held-out split: {test.sum()} of {len(ref)} (design, network) rows, "
          f"{rows.design_key.nunique()} designs never used for fitting.\n")
    print(_markdown(table))
    glob = fidelity_table(rows, energy_global[test], parts.latency_s[test], parts.area_mm2[test])
    print("\nEnergy with the per-memory coefficients only (what a network without reference data gets):\n")
    print(_markdown(glob[["memory", "workload", "n", "rho_edap", "energy_med_pct", "energy_p95_pct"]]))
    nodes = fidelity_table(rows, energy[test], parts.latency_s[test], parts.area_mm2[test],
                           by=("memory", "technology_nm"))
    print("\nBy technology node:\n")
    print(_markdown(nodes))
    print("\ntheta per memory:", json.dumps(coefficients["theta"]))
    if not args.check_only:
        _write(coefficients, ref, test, args.reference)
    return 0


def _write(coefficients: dict, ref: pd.DataFrame, test: np.ndarray, reference: Path) -> None:
    meta = {"fitted_on": "cimloop_evaluations.csv, rows whose design key hashes outside the held-out half",
            "held_out_fraction": HELD_OUT_FRACTION, "min_share": MIN_SHARE, "ridge": RIDGE,
            "huber_delta": HUBER_DELTA}
    payload = {"theta": coefficients["theta"], "theta_by_network": coefficients["theta_by_network"], "fit": meta}
    atomic_write_text(DATA / "coefficients.json", json.dumps(payload, indent=1, sort_keys=True) + "\n")
    held = ref[test]
    check = pd.concat(
        g.sort_values("design_key").iloc[:: max(1, len(g) // CHECK_ROWS_PER_NETWORK)].head(CHECK_ROWS_PER_NETWORK)
        for _, g in held.groupby(["memory", "workload"], sort=True))
    cols = ["memory", "workload", *DESIGN_INPUTS, "energy_j", "latency_s", "area_mm2"]
    atomic_write_text(DATA / "check_set.csv", check[cols].to_csv(index=False, float_format="%.10g"))
    packaged_coefficients.cache_clear()
    print(f"\nwrote {DATA / 'coefficients.json'} and {len(check)} held-out rows to {DATA / 'check_set.csv'}")


if __name__ == "__main__":
    sys.exit(main())
