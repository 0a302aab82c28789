"""What changes under physics: the method's problems under the reference and the bounded performance model, exactly.

    python benchmarks/physics.py [--out docs/physics] [--skip-mixed9]

Every number is an exact optimum (:func:`imc_moo.problem.exhaustive.exhaustive`, the whole design space), so
what moves is the model, not a search's luck:

1. the exact EDAP optimum of each of the method's problems (``rram_cnn4``, ``sram_cnn4``, ``sram_mixed9``) under
   both models: its design, energy, latency, area and what it delivers (power, W/mm2, TOPS/W, TOPS/mm2, bound);
2. the joint-vs-specialized gap: the joint optimum's EDAP on each network over that network's own exact optimum
   (the method's headline comparison, without a search in between);
3. the RRAM vs SRAM ranking on cnn4;
4. the deployment crossovers: the exact optimum of each deployment (RRAM resident/reprogram, SRAM
   stream/resident/reprogram) for ResNet18 + MobileNetV3 as the switching rate goes from every inference to never;
5. sensitivity: every assumed limit (input pulse width, ADC conversion, GLB and router widths, DRAM bandwidth, the
   power-density limit) divided and multiplied by 4, and which conclusions survive.

Writes ``<out>/tables.md`` (the tables, with the command) and ``<out>/physics.csv`` (one row per exact optimum);
``docs/physics/README.md`` reads them.
Prints progress. Asserts nothing. About 10-20 minutes on 2 cores (the bounded model's tables fill as designs
are met; ``--skip-mixed9`` leaves out the 9-network problem, the slowest part).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.algorithms.baselines import single_workload_problem
from imc_moo.files import markdown_table
from imc_moo.hardware import ChipBounds
from imc_moo.problem import WorkloadSetProblem
from imc_moo.problem.exhaustive import exhaustive

ROOT = Path(__file__).resolve().parents[1]
#: The method's three problems, as conf/problem configures them (objective EDAP, area <= 800 mm2).
PROBLEMS = {
    "rram_cnn4": dict(workloads="cnn4", memory="rram", aggregation="max"),
    "sram_cnn4": dict(workloads="cnn4", memory="sram", aggregation="max"),
    "sram_mixed9": dict(workloads="mixed9", memory="sram", aggregation="mean", space="sram_large"),
}
MODELS = ("reference", "bounded")
#: Deployment cases of docs/deployment (memory, deployment) and the switching rates compared.
DEPLOYMENTS = (("rram", "resident"), ("rram", "reprogram"), ("sram", "stream"), ("sram", "resident"),
               ("sram", "reprogram"))
SWITCH_RATES = (1, 100, 10_000, None)
PAIR = ["resnet18", "mobilenet_v3"]
#: The limits varied in the sensitivity table (each / 4 and x 4).
SENSITIVITY = ("pulse_width_s", "adc_conversion_s", "glb_bits_per_cycle", "router_bits_per_cycle",
               "dram_bytes_per_s", "power_density_w_per_mm2")
FACTORS = (0.25, 4.0)
DESIGN_SHORT = ("bits_per_cell", "xbar_rows", "xbar_cols", "router_group", "tiles_per_chip", "macros_per_tile",
                "glb_mib", "voltage", "base_latency_s")


def problem(name: str, performance: str, bounds: dict | None = None, **changes) -> WorkloadSetProblem:
    return WorkloadSetProblem(**{**PROBLEMS[name], **changes}, objectives="edap", performance=performance,
                              bounds=bounds)


def optimum(p: WorkloadSetProblem, label: str) -> dict:
    """The exact optimum of ``p`` as one row: objectives, what it delivers, its design, timings."""
    t0 = time.perf_counter()
    r = exhaustive(p)
    wall = time.perf_counter() - t0
    row: dict = {"label": label, "performance": p.performance.mode, "n_designs": r.n_designs,
                 "n_feasible": r.n_feasible, "wall_s": wall}
    if r.best_genome is None:
        print(f"  {label}: no feasible design ({wall:.1f} s)", flush=True)
        return {**row, "edap": np.inf}
    frame = p.results_frame(r.best_genome[None, :], p.evaluate_genomes(r.best_genome[None, :]))
    best = frame.iloc[0]
    row.update({k: best[k] for k in ("edap", "energy_j", "latency_s", "area_mm2", "power_w",
                                     "power_density_w_per_mm2", "tops_per_w", "tops_per_mm2", "bound")})
    row.update({f"edap_{w}": best[f"edap_{w}"] for w in p.workloads})
    row.update({k: best[k] for k in DESIGN_SHORT})
    row["macros"] = int(best.router_group * best.tiles_per_chip * best.macros_per_tile)
    print(f"  {label}: EDAP {row['edap']:.4g}, latency {row['latency_s']:.3g} s, {row['area_mm2']:.0f} mm2, "
          f"bound {row['bound'] or '-'} ({wall:.1f} s)", flush=True)
    return row


def design_text(row: dict) -> str:
    if not np.isfinite(row["edap"]):
        return "none feasible"
    return (f"{row['macros']:,} × {row['xbar_rows']}×{row['xbar_cols']}, {row['bits_per_cell']} b/cell, "
            f"{row['glb_mib']:g} MiB GLB")


def fmt(x: float, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}g}"


def markdown(frame: pd.DataFrame) -> str:
    """The project's markdown table (:func:`imc_moo.files.markdown_table`) with :func:`fmt` numbers."""
    return markdown_table(frame, number=lambda column, v: fmt(v))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "physics"))
    parser.add_argument("--skip-mixed9", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in PROBLEMS if not (args.skip_mixed9 and n == "sram_mixed9")]
    start = time.perf_counter()
    rows: list[dict] = []

    print("1. exact optima under both models", flush=True)
    optima = {}
    for name in names:
        for model in MODELS:
            row = optimum(problem(name, model), f"{name} {model}")
            optima[name, model] = row
            rows.append({**row, "part": "optimum", "problem": name})

    print("2. joint vs specialized", flush=True)
    gaps = []
    for name in names:
        for model in MODELS:
            joint = problem(name, model)
            for w in joint.workloads:
                spec = optimum(single_workload_problem(joint, w), f"{name} {model} {w} alone")
                rows.append({**spec, "part": "specialized", "problem": name, "network": w})
                ratio = optima[name, model][f"edap_{w}"] / spec["edap"]
                gaps.append({"problem": name, "performance": model, "network": w, "joint_over_specialized": ratio})
    gaps_frame = pd.DataFrame(gaps)

    print("3./4. deployment crossovers (ResNet18 + MobileNetV3)", flush=True)
    crossings = []
    for model in MODELS:
        for memory, deployment in DEPLOYMENTS:
            for rate in SWITCH_RATES:
                name = f"{memory}_cnn4"
                p = problem(name, model, workloads=PAIR, deployment=deployment,
                            mix={"inferences_per_switch": rate})
                row = optimum(p, f"{memory} {deployment} switch every {rate or 'never'} {model}")
                rows.append({**row, "part": "deployment", "problem": name, "deployment": deployment,
                             "inferences_per_switch": rate})
                crossings.append({"performance": model, "case": f"{memory} {deployment}",
                                  "inferences_per_switch": "never" if rate is None else f"{rate:,}",
                                  "edap": row["edap"]})
    cross = pd.DataFrame(crossings)

    print("5. sensitivity of the bounded model (cnn4, RRAM and SRAM)", flush=True)
    packaged = ChipBounds.packaged()
    sens = []
    for key in SENSITIVITY:
        for factor in FACTORS:
            bounds = {key: getattr(packaged, key) * factor}
            entry = {"limit": key, "factor": factor}
            for name in ("rram_cnn4", "sram_cnn4"):
                row = optimum(problem(name, "bounded", bounds), f"{name} {key} x{factor:g}")
                rows.append({**row, "part": "sensitivity", "problem": name, "limit": key, "factor": factor})
                entry[name] = row
            sens.append(entry)

    frame = pd.DataFrame(rows)
    frame.to_csv(out / "physics.csv", index=False)
    (out / "tables.md").write_text(report(names, optima, gaps_frame, cross, sens, time.perf_counter() - start))
    print(f"wrote {out / 'tables.md'} and {out / 'physics.csv'} in {time.perf_counter() - start:.0f} s")
    return 0


def report(names, optima, gaps: pd.DataFrame, cross: pd.DataFrame, sens: list[dict], wall_s: float) -> str:
    lines = ["# What changes under physics", "",
             "Every number below is an **exact optimum** (exhaustive search of the whole design space, objective "
             "EDAP, area ≤ 800 mm²), under the reference simulator's latency (`reference`, the paper's model) and "
             "under the bounded model (`bounded`, imc-moo's default: what a chip of the template could deliver; "
             "README, *Latency a chip can deliver*). Regenerate with `python benchmarks/physics.py` "
             f"(it took {wall_s / 60:.0f} min here, with the bounded tables of an earlier run in the cache; a first "
             "run fills them, several minutes more); raw rows: `physics.csv`.", ""]
    lines += ["## 1. The optimum of each problem under both models", ""]
    t = []
    for name in names:
        for model in MODELS:
            r = optima[name, model]
            t.append({"problem": name, "model": model, "EDAP": r["edap"], "latency s": r.get("latency_s", np.nan),
                      "energy mJ": r.get("energy_j", np.nan) * 1e3, "area mm²": r.get("area_mm2", np.nan),
                      "W": r.get("power_w", np.nan), "W/mm²": r.get("power_density_w_per_mm2", np.nan),
                      "TOPS/W": r.get("tops_per_w", np.nan), "TOPS/mm²": r.get("tops_per_mm2", np.nan),
                      "bound": r.get("bound") or "–", "design": design_text(r)})
    t = pd.DataFrame(t)
    lines += [markdown(t), ""]
    lines += ["EDAP in mJ·ms·mm², latency of the aggregated (max or mean) network, power and TOPS of the "
              "network that sets them (the chip's most power-hungry, least efficient, fastest). TOPS/W is the "
              "same physics under both models (energy per operation); the reference's TOPS/mm² and W/mm² are "
              "what its 1-clock crossbar reads imply.", ""]
    lines += ["## 2. Joint vs specialized", "",
              "The joint optimum's EDAP on each network over that network's own exact optimum (1 = the joint chip "
              "is as good for it as a chip designed for it alone):", ""]
    piv = gaps.pivot_table(index=["problem", "network"], columns="performance", values="joint_over_specialized",
                           sort=False).reset_index()
    lines += [markdown(piv), ""]
    worst = gaps.groupby(["problem", "performance"]).joint_over_specialized.max().unstack()
    lines += ["Worst network per problem: " + "; ".join(
        f"{p}: {fmt(worst.loc[p, 'reference'])}× (reference) → {fmt(worst.loc[p, 'bounded'])}× (bounded)"
        for p in worst.index), ""]
    if "sram_cnn4" in names:
        lines += ["## 3. RRAM vs SRAM on cnn4", ""]
        for model in MODELS:
            r, s = optima["rram_cnn4", model], optima["sram_cnn4", model]
            winner = "SRAM" if s["edap"] < r["edap"] else "RRAM"
            lines.append(f"- {model}: RRAM optimum EDAP {fmt(r['edap'])}, SRAM {fmt(s['edap'])}: **{winner}** "
                         f"by {fmt(max(r['edap'], s['edap']) / min(r['edap'], s['edap']))}×.")
        lines.append("")
    lines += ["## 4. Deployment crossovers (ResNet18 + MobileNetV3)", "",
              "Exact optimum EDAP of each deployment as the switching rate goes from a switch every inference to "
              "never (`mix.inferences_per_switch`; README, *Deployment*). The best deployment at each rate in bold.",
              ""]
    for model in MODELS:
        sub = cross[cross.performance == model].pivot_table(index="case", columns="inferences_per_switch",
                                                            values="edap", sort=False)
        sub = sub[[c for c in ("1", "100", "10,000", "never") if c in sub.columns]]
        best = sub.idxmin(axis=0)
        table = ["| " + model + " | " + " | ".join(f"every {c}" if c != "never" else "never" for c in sub.columns)
                 + " |", "|---|" + "---:|" * len(sub.columns)]
        for case, values in sub.iterrows():
            cells = [f"**{fmt(v)}**" if best[c] == case else fmt(v) for c, v in values.items()]
            table.append(f"| {case} | " + " | ".join(cells) + " |")
        lines += table + [""]
    lines += ["## 5. Sensitivity of the bounded model", "",
              "Each assumed limit divided and multiplied by 4 (the rest packaged), exact optima of the cnn4 "
              "problems. *Survives* = the conclusion of the packaged limits still holds.", ""]
    base_r, base_s = optima["rram_cnn4", "bounded"], optima.get(("sram_cnn4", "bounded"))
    base_winner = "SRAM" if base_s is not None and base_s["edap"] < base_r["edap"] else "RRAM"
    table = ["| limit | × | RRAM EDAP | RRAM bound | RRAM design | SRAM EDAP | SRAM bound | winner | "
             "ranking survives | RRAM design survives |", "|---|---:|---:|---|---|---:|---|---|---|---|"]
    for e in sens:
        r, s = e["rram_cnn4"], e["sram_cnn4"]
        winner = "SRAM" if s["edap"] < r["edap"] else "RRAM"
        same = design_text(r) == design_text(base_r)
        table.append(f"| `{e['limit']}` | {e['factor']:g} | {fmt(r['edap'])} | {r.get('bound') or '–'} | "
                     f"{design_text(r)} | {fmt(s['edap'])} | {s.get('bound') or '–'} | {winner} | "
                     f"{'yes' if winner == base_winner else '**no**'} | {'yes' if same else 'no'} |")
    lines += table + [""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
