"""The tenancy study: does one chip split into partitions serve a set of networks better than the method's homogeneous
chip, or than separate specialized chips? (imc_moo/problem/tenancy.py)

    python benchmarks/tenancy.py [--quick] [--jobs 2] [--out docs/tenancy]

For each workload case (cnn4; mixed9; a rate-driven mix of ResNet50 at 30/s, MobileNetV3 at 60/s and MobileBERT at
5/s) and each chip (the method's homogeneous chip, RRAM and SRAM; one chip of either memory with ``deployment=auto``;
K = 2 and 3 partitions, RRAM and RRAM+SRAM), on the same value lists (``conf/space/tenancy.yaml``), bounded model,
EDAP (the problem's aggregation: cnn4 max, the others mean; with rates, energy per inference of the mix = power at
the rates / the summed rate):

* **best known**: the lowest EDAP of every run below: the phased GA at 1,000 / 3,300 / 10,000 designs, GA and
  random search at 10,000 (3 seeds), and GA and random search at 110,000 (2 seeds; random search there is the
  exhaustive search of every one-partition space; ``--quick``: one seed of everything, the long runs 20,000);
* **specialized chips**: each network alone on its best chip of the same lists (exhaustive: every single-partition
  design of each memory and mode), the set's EDAP with their areas summed, and each network's own optimum (the
  per-network gap of a joint chip: its EDAP on that chip, with the chip's area, / its optimum);
* **lower bound** from relaxing the placement: every network on its own best partition, independently (sharing a
  partition, a voltage or a clock can only add; :func:`bounds` says why the bound holds). No chip of partitions of
  these lists and memories has a lower EDAP;
* **anytime**: the median best EDAP of each algorithm after 1,000 / 3,300 / 10,000 designs (phased GA: a run per
  budget, its phases set by it), as a ratio to the best known;
* on the rate-driven mix, the **least power at the rates** within an area (50 / 100 / 200 / 400 mm2) of any design
  the runs met, NSGA-II runs on (energy, delay, area) at 10,000 designs included.

Writes ``<out>/README.md`` (the tables, the command, the date, the machine) and ``<out>/runs.csv``. Prints progress;
asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "docs" / "tenancy"
RATES = {"resnet50": 30.0, "mobilenet_v3": 60.0, "mobilebert": 5.0}
CASES = {
    "cnn4": dict(workloads="cnn4", aggregation="max", mix=None),
    "mixed9": dict(workloads="mixed9", aggregation="mean", mix=None),
    "rates": dict(workloads=list(RATES), aggregation="mean", mix={"rates_hz": RATES}),
}
#: (label, memories, partitions, deployment): None is the memory's own rule (the method's chip)
CHIPS = (
    ("method RRAM", ("rram",), 1, None),
    ("method SRAM", ("sram",), 1, None),
    ("1 chip, RRAM or SRAM, auto", ("rram", "sram"), 1, "auto"),
    ("K=2 RRAM", ("rram",), 2, "auto"),
    ("K=3 RRAM", ("rram",), 3, "auto"),
    ("K=2 RRAM+SRAM", ("rram", "sram"), 2, "auto"),
    ("K=3 RRAM+SRAM", ("rram", "sram"), 3, "auto"),
)
BUDGETS = (1000, 3300, 10000)
#: The long runs: beyond every one-partition space of these lists (RRAM 82,944 designs, SRAM 20,736, either 103,680),
#: so random search there is the exhaustive search (it draws without replacement when the budget covers the space).
LONG_BUDGET = 110_000
#: Area limits at which the rate-driven mix reports the least power meeting the rates [mm2].
AREAS_MM2 = (50, 100, 200, 400)


def problem(case: str, memories, partitions: int, deployment, workloads=None, objectives: str = "edap"):
    from imc_moo.problem import PartitionedProblem

    spec = CASES[case]
    mix = spec["mix"]
    if mix and workloads:  # a network alone: its own rate
        mix = {"rates_hz": {w: mix["rates_hz"][w] for w in workloads}}
    return PartitionedProblem(workloads or spec["workloads"], memory=memories[0], memories=list(memories),
                              partitions=partitions, deployment=deployment, space="tenancy", objectives=objectives,
                              aggregation=spec["aggregation"], mix=mix)


def one_run(spec: tuple) -> dict:
    """One search: (case, chip index, algorithm, budget, seed) -> its best feasible EDAP, and its best-so-far after
    each of BUDGETS (anytime)."""
    from imc_moo.algorithms import run_algorithm

    case, chip, algorithm, budget, seed = spec
    label, memories, partitions, deployment = CHIPS[chip]
    start = time.perf_counter()
    objectives = "eda" if algorithm == "nsga2" else "edap"
    result = run_algorithm(algorithm, problem(case, memories, partitions, deployment, objectives=objectives),
                           budget=budget, seed=seed)
    archive = result.archive
    feasible = archive[archive["feasible"]].sort_values("eval_order")
    best_so_far = feasible["edap"].cummin()
    anytime = {f"at_{b}": (float(best_so_far[feasible["eval_order"] < b].min()) if (feasible["eval_order"] < b).any()
                           else np.nan) for b in BUDGETS}
    row = {"case": case, "chip": label, "algorithm": algorithm, "budget": budget, "seed": seed,
           "evaluations": result.evaluations, "wall_s": time.perf_counter() - start, **anytime,
           "best_edap": float(feasible["edap"].min()) if len(feasible) else np.nan}
    if len(feasible):
        best = feasible.loc[feasible["edap"].idxmin()]
        row.update(least_area_mm2=feasible["area_mm2"].min())
        if "power_at_rates_w" in feasible:
            for limit in AREAS_MM2:
                within = feasible[feasible["area_mm2"] <= limit]["power_at_rates_w"]
                row[f"power_within_{limit}"] = within.min() if len(within) else np.nan
        row.update(area_mm2=best["area_mm2"], energy_j=best["energy_j"], latency_s=best["latency_s"],
                   power_at_rates_w=best.get("power_at_rates_w", np.nan),
                   partitions_used=sum(best.get(f"p{k}_area_mm2", best["area_mm2"]) > 0 for k in range(partitions)),
                   memories_used="+".join(sorted({str(best[f"p{k}_memory"]) for k in range(partitions)
                                                  if f"p{k}_memory" in best and best[f"p{k}_area_mm2"] > 0}))
                   or memories[0],
                   **{f"edap_{w}": best[f"edap_{w}"] for w in result.problem.workloads})
    print(f"  {case:6s} {label:28s} {algorithm:9s} budget {budget:>7,d} seed {seed}: best {row['best_edap']:.4g} "
          f"({row['wall_s']:.1f} s)", flush=True)
    return row


def alone(case: str) -> pd.DataFrame:
    """Every network alone on every single-partition design of each memory and mode (exhaustive): per network x
    memory x mode, its best feasible chip (``best_*``: EDAP and that chip's energy, latency, area), and the least
    EDAP over the designs that hold and map it within the area limit, the rates' load, power and DRAM constraints
    left out (``relaxed_edap``: what any partition of a feasible chip can do for it)."""
    names = problem(case, ("rram",), 1, None).workloads
    rows = []
    for w, memory, deployment in itertools.product(names, ("rram", "sram"), (None, "resident")):
        p = problem(case, (memory,), 1, deployment, workloads=[w])
        grids = np.indices(tuple(p.space.cardinalities)).reshape(p.n_var, -1).T
        ev = p.evaluate_genomes(grids)
        kept = [j for j, c in enumerate(p.constraint_names) if not c.startswith(("load_", "power_at", "dram_at"))]
        relaxed = (ev.G[:, kept] <= 0).all(axis=1)
        ok = ev.feasible
        row = {"case": case, "network": w, "memory": memory, "deployment": p.deployment.mode, "designs": len(grids),
               "relaxed_edap": float(ev.edap[relaxed].min()) if relaxed.any() else np.nan,
               "best_edap": np.nan, "best_area_mm2": np.nan, "best_energy_j": np.nan, "best_latency_s": np.nan}
        if ok.any():
            i = int(np.argmin(np.where(ok, ev.edap, np.inf)))
            row.update(best_edap=float(ev.edap[i]), best_area_mm2=float(ev.area_mm2[i]),
                       best_energy_j=float(ev.energy_j[i, 0]), best_latency_s=float(ev.latency_s[i, 0]))
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate(values: np.ndarray, how: str, shares: np.ndarray) -> np.ndarray:
    """Per-network values (..., W) aggregated as the problem does (max, or the share-weighted mean)."""
    return values.max(axis=-1) if how == "max" else values @ shares


def bounds(case: str, singles: pd.DataFrame, memories) -> dict:
    """Over the single-partition designs of ``memories``:

    * ``specialized``: one chip per network, each the best-EDAP chip of the memory chosen for it (every choice of
      memories tried), the set's EDAP with their areas summed: what separate chips deliver;
    * ``bound``: no chip of partitions of these memories has a lower EDAP. Network w sits on a partition of area
      A_p(w) <= A; alone there it costs at most what it costs shared (sharing adds switching or takes spare
      crossbars, never energy), so E_w L_w A >= E_w L_w A_p(w) >= R_w, its relaxed optimum (``relaxed_edap``).
      With max: EDAP = max E max L A >= max_w R_w. With the mean (shares s): (sum s E)(sum s L) >= (sum s
      sqrt(E L))^2 (Cauchy-Schwarz), so EDAP >= (sum_w s_w sqrt(R_w))^2;
    * ``own_best``: each network's best feasible EDAP alone."""
    how = CASES[case]["aggregation"]
    singles = singles[singles["case"] == case]
    sub = singles[singles["memory"].isin(memories)]
    whole = problem(case, ("rram",), 1, None)
    names, shares = list(whole.workloads), whole.deployment.shares
    relaxed = sub.groupby("network")["relaxed_edap"].min().reindex(names).to_numpy()
    bound = float(relaxed.max() if how == "max" else (shares @ np.sqrt(relaxed)) ** 2)
    best = sub.dropna(subset=["best_edap"])
    per_memory = best.loc[best.groupby(["network", "memory"])["best_edap"].idxmin()]
    options = [per_memory[per_memory["network"] == w] for w in names]
    own = {w: float(o["best_edap"].min()) if len(o) else np.nan for w, o in zip(names, options)}
    if any(len(o) == 0 for o in options):
        return {"specialized": np.nan, "bound": bound, "own_best": own}
    combos = np.array(list(itertools.product(*[range(len(o)) for o in options])))  # (C, W) a memory per network
    pick = [o.iloc[combos[:, j]] for j, o in enumerate(options)]
    energy = np.column_stack([p["best_energy_j"].to_numpy() for p in pick])
    latency = np.column_stack([p["best_latency_s"].to_numpy() for p in pick])
    area = np.column_stack([p["best_area_mm2"].to_numpy() for p in pick]).sum(axis=1)
    specialized = aggregate(energy, how, shares) * aggregate(latency, how, shares) * area * 1e6  # mJ * ms * mm2
    return {"specialized": float(specialized.min()), "bound": bound, "own_best": own}


def markdown(df: pd.DataFrame, digits: int = 4) -> str:
    from imc_moo.files import markdown_table

    return markdown_table(df, lambda column, v: "–" if not np.isfinite(v) else f"{v:.{digits}g}")


def report(runs: pd.DataFrame, singles: pd.DataFrame, command: str, wall_s: float) -> str:
    lines = ["# The tenancy study: one chip split into partitions, or not", "",
             f"`{command}` — {dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPUs, "
             + (f"{wall_s / 60:.1f} min wall, " if np.isfinite(wall_s) else "")
             + f"{runs['wall_s'].sum() / 60:.1f} min of searches ({len(runs)} runs). Bounded model, EDAP in "
             "mJ·ms·mm², every chip on the value lists of "
             "`conf/space/tenancy.yaml`. See `benchmarks/tenancy.py` for what each column is.", ""]
    for case in CASES:
        r = runs[runs["case"] == case]
        lines += [f"## {case}", ""]
        table = []
        method = r[r["chip"] == "method RRAM"]["best_edap"].min()
        for label, memories, partitions, _ in CHIPS:
            c = r[r["chip"] == label]
            if c["best_edap"].notna().sum() == 0:
                continue
            b = bounds(case, singles, memories)
            best = c.loc[c["best_edap"].idxmin()]
            own = bounds(case, singles, ("rram", "sram"))["own_best"]  # each network's optimum on any memory
            gaps = [best[f"edap_{w}"] / own[w] for w in own]
            row = {"chip": label, "best known EDAP": best["best_edap"], "vs method RRAM": best["best_edap"] / method,
                   "specialized chips (areas summed)": b["specialized"],
                   "vs specialized": best["best_edap"] / b["specialized"],
                   "relaxed-placement bound": b["bound"], "best / bound": best["best_edap"] / b["bound"],
                   "partitions used": int(best["partitions_used"]), "memories": best["memories_used"],
                   "area mm²": best["area_mm2"], "worst per-network gap": max(gaps)}
            if case == "rates":
                row["its power at the rates W"] = best["power_at_rates_w"]
                row["least area meeting the rates mm²"] = c["least_area_mm2"].min()
            table.append(row)
        lines += [markdown(pd.DataFrame(table)), ""]
        if case == "rates":
            power = [{"chip": label, **{f"≤ {a} mm²": r[r["chip"] == label][f"power_within_{a}"].min()
                                        for a in AREAS_MM2}}
                     for label, *_ in CHIPS if (r["chip"] == label).any()]
            lines += ["The least power at the rates [W] of any design the runs met that fits an area (NSGA-II on "
                      "energy, delay and area included; – where none met the rates within it):", "",
                      markdown(pd.DataFrame(power), 3), ""]
        anytime = []
        for (label, algorithm), c in r.groupby(["chip", "algorithm"], sort=False):
            known = r[r["chip"] == label]["best_edap"].min()
            row = {"chip": label, "algorithm": algorithm}
            for b in BUDGETS:
                at = c[c["budget"] == b]["best_edap"] if algorithm == "phased_ga" else c[f"at_{b}"]
                row[f"{b:,} designs"] = float(np.nanmedian(at / known)) if at.notna().any() else np.nan
            anytime.append(row)
        lines += [f"Anytime ({case}): median best EDAP / best known after each number of designs.", "",
                  markdown(pd.DataFrame(anytime), 3), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed, long runs of 20,000 designs")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report-only", action="store_true", help="report <out>/runs.csv and alone.csv again")
    args = parser.parse_args(argv)
    command = "python benchmarks/tenancy.py" + (" --quick" if args.quick else "")
    if args.report_only:
        runs, singles = pd.read_csv(args.out / "runs.csv"), pd.read_csv(args.out / "alone.csv")
        text = report(runs, singles, command, np.nan)
        (args.out / "README.md").write_text(text)
        print(text)
        return 0
    seeds = (0,) if args.quick else (0, 1, 2)
    long_budget, long_seeds = (20_000, (0,)) if args.quick else (LONG_BUDGET, (0, 1))
    specs = [(case, chip, "phased_ga", b, s) for case in CASES for chip in range(len(CHIPS)) for b in BUDGETS
             for s in seeds]
    specs += [(case, chip, a, BUDGETS[-1], s) for case in CASES for chip in range(len(CHIPS))
              for a in ("ga", "random") for s in seeds]
    specs += [(case, chip, a, long_budget, s) for case in CASES for chip in range(len(CHIPS)) for a in ("ga", "random")
              for s in long_seeds]
    # the power-area trade-off at the rates: a multi-objective search of energy (the power / summed rate), delay, area
    specs += [("rates", chip, "nsga2", BUDGETS[-1], s) for chip in range(len(CHIPS)) for s in seeds]
    specs.sort(key=lambda x: -x[3])  # longest first: the pool ends together
    start = time.perf_counter()
    print(f"{len(specs)} runs on {args.jobs} processes", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        singles = pd.concat(list(pool.map(alone, CASES)), ignore_index=True)
        runs = pd.DataFrame(list(pool.map(one_run, specs)))
    wall = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    singles.to_csv(args.out / "alone.csv", index=False)
    text = report(runs, singles, command, wall)
    (args.out / "README.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
