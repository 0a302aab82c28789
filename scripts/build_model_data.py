"""Build the cost model's packaged tables from the shared NeuroSim/CACTI outputs.

Reads ``cost_model_tables.csv`` (see COST_MODEL.md) and writes two dense tables into ``imc_moo/model/data/``:

* ``neurosim.csv``: per (memory, technology_nm, xbar_rows, xbar_cols, voltage, quantity) the bilinear energy
  coefficients ``c0, c_ain, c_aw, c_ain_aw`` (pJ) or an area (um2, in ``c0``), over the whole grid the design
  spaces can reach. Grid points NeuroSim was not run at are filled by scaling (column ``derived`` = 1):
  value(node, r, c, V) = value(node, anchor) * value(32 nm, r, c, V) / value(32 nm, anchor), where the anchor is
  the nearest point that was run at that node (RRAM off 32 nm: 128x128 at the nearest of 0.5/0.7/0.85 V; SRAM:
  the size clipped to 256). At 32 nm, SRAM 512-row/col arrays were only run at 0.5-0.85 V; other voltages take
  the 256-size voltage trend.
* ``cacti.csv``: GLB (2048-bit words) and tile-buffer read/write energy per access [pJ] and area [mm2].

Usage: ``python scripts/build_model_data.py [--reference ../shared/reference]``. Deterministic output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "imc_moo" / "model" / "data"
NODES = (7, 10, 14, 22, 32, 45)
COEFS = ["c0", "c_ain", "c_aw", "c_ain_aw"]
QUANTITIES = ["row_read", "row_write", "cell_read", "cell_write", "adc_read",
              "row_area", "col_area", "adc_area", "cell_area"]
GRID = {
    "rram": dict(sizes=(32, 64, 128, 256, 512), voltages=tuple(np.round(np.arange(0.50, 0.851, 0.05), 2))),
    "sram": dict(sizes=(16, 32, 64, 128, 256, 512), voltages=tuple(np.round(np.arange(0.45, 1.101, 0.05), 2))),
}


def _nearest(values, x):
    values = np.asarray(sorted(values), dtype=float)
    return float(values[np.argmin(np.abs(values - x))])


def build_neurosim(tables: pd.DataFrame) -> pd.DataFrame:
    src = tables[(tables.source == "neurosim") & tables.quantity.isin(QUANTITIES)].copy()
    assert (tables.loc[tables.quantity == "col_read", COEFS].fillna(0) == 0).all().all(), "col_read is not zero"
    src["voltage"] = src["voltage"].round(2)
    src[COEFS] = src[COEFS].fillna(0.0)
    measured = {
        (m, int(n), int(r), int(c), float(v), q): row
        for (m, n, r, c, v, q), row in src.set_index(["cell", "tech_nm", "rows", "cols", "voltage", "quantity"])[
            COEFS].iterrows()
    }

    def get(m, n, r, c, v, q):
        return measured.get((m, n, r, c, v, q))

    rows = []
    for memory, grid in GRID.items():
        sizes, volts = grid["sizes"], grid["voltages"]
        for node in NODES:
            run_here = src[(src.cell == memory) & (src.tech_nm == node)]
            for r in sizes:
                for c in sizes:
                    for v in volts:
                        for q in QUANTITIES:
                            val, derived = _value(memory, node, r, c, v, q, get, run_here), 0
                            if get(memory, node, r, c, v, q) is None:
                                derived = 1
                            rows.append((memory, node, r, c, v, q, *val, derived))
    out = pd.DataFrame(rows, columns=["memory", "technology_nm", "xbar_rows", "xbar_cols", "voltage", "quantity",
                                      *COEFS, "derived"])
    assert np.isfinite(out[COEFS].to_numpy()).all()
    return out


def _value(memory, node, r, c, v, q, get, run_here):
    """Coefficients (c0, c_ain, c_aw, c_ain_aw) at one grid point, measured or scaled from the nearest run."""
    hit = get(memory, node, r, c, v, q)
    if hit is not None:
        return hit.to_numpy(dtype=float)
    if node == 32:
        # SRAM 512-size arrays at voltages NeuroSim was not run at: size ratio at the nearest run voltage.
        vn = _nearest([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85], v)
        r2, c2 = min(r, 256), min(c, 256)
        return _scaled(get(memory, 32, r2, c2, v, q), get(memory, 32, r, c, vn, q), get(memory, 32, r2, c2, vn, q))
    if memory == "rram":
        anchor = (128, 128, _nearest(run_here.voltage.unique(), v))
    else:
        anchor = (min(r, 256), min(c, 256), v)
    base = get(memory, node, *anchor, q)
    ref32 = _value(memory, 32, r, c, v, q, get, None)
    anchor32 = _value(memory, 32, *anchor, q, get, None)
    return _scaled(base, ref32, anchor32)


def _scaled(base, num, den):
    base = np.asarray(base, dtype=float)
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den != 0, num / den, 1.0)
    return np.where(den != 0, base * ratio, num)


def build_cacti(tables: pd.DataFrame) -> pd.DataFrame:
    src = tables[tables.source == "cacti"]
    wide = src.pivot_table(index=["cell", "tech_nm", "rows", "cols"], columns="quantity", values="c0").reset_index()
    wide = wide.rename(columns={"cell": "component", "tech_nm": "technology_nm", "rows": "depth", "cols": "width_bits",
                                "read": "read_pj", "write": "write_pj", "area": "area_mm2"})
    wide["component"] = wide["component"].map({"glb_2048b": "glb", "tile_buffer": "tile_buffer"})
    cols = ["component", "technology_nm", "depth", "width_bits", "read_pj", "write_pj", "area_mm2"]
    return wide[cols].sort_values(cols[:4]).reset_index(drop=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    tables = pd.read_csv(args.reference / "cost_model_tables.csv")
    args.out.mkdir(parents=True, exist_ok=True)
    ns = build_neurosim(tables)
    ns.to_csv(args.out / "neurosim.csv", index=False, float_format="%.7g")
    build_cacti(tables).to_csv(args.out / "cacti.csv", index=False, float_format="%.7g")
    print(f"wrote {len(ns)} NeuroSim rows ({int(ns.derived.sum())} derived) and the CACTI table to {args.out}")


if __name__ == "__main__":
    main()
