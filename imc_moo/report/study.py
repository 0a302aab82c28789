"""``imc-moo-report <sweep dir>``: collect every run of a Hydra multirun into tables and figures.

Writes into the sweep directory:

* ``summary.csv``: one row per run (algorithm, problem, seed, best EDAP, hypervolume, evaluations, wall time,
  status); runs without ``best.json`` (crashed or still running) are listed with status ``failed``; each swept key
  (``algorithm.pop_size``, ...) is a column of its own after ``label``, its values typed (numbers as numbers);
* ``comparison.csv``: median and interquartile range per problem x algorithm of best EDAP, hypervolume,
  evaluations and wall time, with the swept keys that hold one value per row;
* ``normalized_edap.csv`` (when the sweep has ``specialized`` runs): per-workload EDAP of each method's design
  divided by the best workload-specific EDAP of the same problem and seed (METHOD.md §5.2's normalisation);
* ``deployment.csv``, ``deployment_edap.png``, ``deployment_fronts.png`` and a section of ``report.md`` when runs
  name a deployment or a workload mix (:mod:`imc_moo.report.deployment`, e.g. ``+experiment=deployment``);
* figures (:mod:`imc_moo.report.figures`: one panel per problem variant x budget, at most 4,000 px a side, more
  panels in ``<name>_2.png``, ...): ``best_edap_box.png``, ``convergence.png`` and ``convergence_hypervolume.png``
  (median with IQR band over seeds), ``pareto_fronts.png``, ``normalized_edap.png`` and, for EDAP-vs-cost runs,
  ``edap_cost_front.png``;
* ``report.md``: the study report — these tables with how each number is computed, the joint design's EDAP
  reduction against each baseline, normalised per-workload EDAP, the best designs, the technology front, figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.files import write_csv, write_text
from imc_moo.report.formatting import label_palette, md
from imc_moo.report.readers import SUMMARY_COLUMNS, ReportError, collect, find_runs, read_table, sweep_overrides

#: Runs are compared within one problem variant (problem and aggregation) and budget, per algorithm label.
GROUP = ["problem", "aggregation", "budget"]


def with_variant(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``variant``: the problem name, with the aggregation appended when it is not the default max."""
    agg = df["aggregation"].fillna("max") if "aggregation" in df else pd.Series("max", index=df.index)
    return df.assign(variant=df["problem"].astype(str) + np.where(agg == "max", "", " · " + agg.astype(str)))


def iqr(s: pd.Series) -> float:
    return float(s.quantile(0.75) - s.quantile(0.25))


def comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """Median and IQR per problem variant x algorithm label over the finished runs (EDAP over feasible runs). The
    summary's swept-key columns (:func:`imc_moo.report.readers.swept_columns`) that hold one value per group (an
    algorithm's knob, which its label names) follow ``label``, typed as in the summary."""
    ok = summary[summary.status == "ok"]
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(edap=ok.edap.where(ok.feasible.astype(bool)))  # an infeasible run has no EDAP to compare
    groups = ok.groupby(GROUP + ["label"])
    agg = groups.agg(
        runs=("seed", "size"), feasible_runs=("edap", "count"),
        edap_median=("edap", "median"), edap_iqr=("edap", iqr),
        hypervolume_median=("hypervolume", "median"), hypervolume_iqr=("hypervolume", iqr),
        evaluations_median=("evaluations", "median"), wall_time_s_median=("wall_time_s", "median"))
    swept = [c for c in summary.columns if c not in SUMMARY_COLUMNS]
    constant = [c for c in swept if (groups[c].nunique(dropna=False) <= 1).all()]
    if constant:  # a key that varies within a group (over seeds, say) has no one value to show
        agg = pd.concat([groups[constant].first(), agg], axis=1)
    return agg.reset_index().sort_values(GROUP + ["edap_median"])


def normalized_edap(bests: dict[Path, dict]) -> pd.DataFrame:
    """Per-workload EDAP of each run's design / the specialized optimum of that workload (same problem variant
    and seed): METHOD.md §5.2's normalisation; 1 means as good as the workload-specific design."""
    def key(best):
        return best.get("problem"), best.get("aggregation"), best.get("seed")

    ref = {key(b): {w: v["edap"] for w, v in b["specialized"].items()}
           for b in bests.values() if b.get("algorithm") == "specialized" and "specialized" in b}
    rows = []
    for best in bests.values():
        k = key(best)
        if k not in ref or best.get("algorithm") == "specialized" or not best.get("feasible", True):
            continue
        for w, v in best.get("per_workload", {}).items():
            if w in ref[k] and v.get("edap") and ref[k][w]:
                rows.append({"problem": k[0], "aggregation": k[1], "seed": k[2], "label": best.get("label"),
                             "workload": w, "normalized_edap": v["edap"] / ref[k][w]})
    return pd.DataFrame(rows, columns=["problem", "aggregation", "seed", "label", "workload", "normalized_edap"])


def _figures(sweep: Path, summary: pd.DataFrame, bests: dict[Path, dict], norm: pd.DataFrame) -> list[str]:
    """The study's figures (:mod:`imc_moo.report.figures`: a panel per problem variant x budget, bounded size)."""
    import seaborn as sns

    from imc_moo.report import figures

    sns.set_theme(style="whitegrid", context="paper")
    made = []
    ok = with_variant(summary[summary.status == "ok"])
    ok = ok.assign(budget=ok.budget.astype(int))
    norm = with_variant(norm) if not norm.empty else norm
    palette = label_palette(ok.label.dropna())
    aggregated = {v: a for v, a in zip(ok.variant, ok.aggregation.fillna("max"))}

    def edap_label(variant: str) -> str:
        return f"best EDAP [mJ·ms·mm²]\n{aggregated.get(variant, 'max')} over networks"

    if not ok.empty:
        made += figures.edap_box(sweep, ok, palette, edap_label)
    hist, fronts = [], []
    for run, best in bests.items():
        ident = {k: best.get(k) for k in ("label", "problem", "aggregation", "seed", "budget")}
        for name, into in (("history.csv", hist), ("pareto.csv", fronts)):
            table = read_table(run / name, ("evaluations", "best_edap") if name == "history.csv" else ())
            if table is not None:
                kept = ["evaluations", "best_edap", "hypervolume"] if name == "history.csv" else \
                    ["energy_j", "latency_s", "area_mm2"]
                into.append(table[[c for c in kept if c in table]].assign(**ident))
    if hist:
        h = with_variant(pd.concat(hist, ignore_index=True))
        h = h[h.budget.notna()].assign(budget=lambda t: t.budget.astype(int))
        banded = []
        for (label, variant, budget, seed), r in h.groupby(["label", "variant", "budget", "seed"]):
            # every run on its budget's evaluation grid, so seeds can be banded
            grid = np.unique(np.linspace(0, budget, 40).round())
            r = r.sort_values("evaluations")
            idx = np.searchsorted(r.evaluations.to_numpy(), grid, side="right") - 1
            keep = idx >= 0
            banded.append(pd.DataFrame({"evaluations": grid[keep], "best_edap": r.best_edap.to_numpy()[idx[keep]],
                                        "hypervolume": r.hypervolume.to_numpy()[idx[keep]], "label": label,
                                        "variant": variant, "budget": budget, "seed": seed}))
        if banded:
            counts = ok.groupby(["variant", "budget", "label"]).agg(
                runs=("seed", "size"), feasible=("feasible", lambda f: int(f.astype(bool).sum()))).reset_index()
            made += figures.convergence(sweep, pd.concat(banded, ignore_index=True), counts, palette, edap_label)
    if fronts:
        f = with_variant(pd.concat(fronts, ignore_index=True))
        f = f[f.budget.notna() & f.energy_j.notna()].assign(budget=lambda t: t.budget.astype(int))
        if not f.empty:
            drawn = set(zip(f.variant, f.budget))
            infeasible = sorted({f"{v}, {b:,} designs" for v, b in zip(ok.variant, ok.budget) if (v, b) not in drawn})
            made += figures.pareto_fronts(sweep, f, palette, aggregated, infeasible)
    if not norm.empty:
        missing = sorted(set(ok.variant) - set(norm.variant))
        made += figures.normalized(sweep, norm, palette, missing)
    return made


JOINT = "phased_ga"
BASELINES = ("specialized", "largest_workload", "sequential")
DESIGN_KEYS = ("voltage", "bits_per_cell", "base_latency_s", "xbar_rows", "xbar_cols", "router_group",
               "tiles_per_chip", "macros_per_tile", "glb_mib", "technology_nm")


def reductions(summary: pd.DataFrame, bests: dict[Path, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Relative EDAP reduction of the joint design (phased GA) vs each baseline, per problem variant and seed:
    set level (aggregated EDAP) and per workload (each network's EDAP of the joint vs the baseline's design),
    as (1 - EDAP_joint / EDAP_baseline) x 100, median over seeds. Infeasible designs are left out."""
    runs = {}
    for best in bests.values():
        if best.get("feasible", True):
            runs[(best["problem"], best.get("aggregation"), best["seed"], best.get("label"))] = best
    set_rows, wl_rows = [], []
    for (prob, agg, seed, label), joint in runs.items():
        if label != JOINT:
            continue
        for base in BASELINES:
            other = runs.get((prob, agg, seed, base))
            if other is None:
                continue
            if base != "specialized":
                set_rows.append({"problem": prob, "aggregation": agg, "seed": seed, "baseline": base,
                                 "reduction_pct": 100 * (1 - joint["edap"] / other["edap"])})
            for w, v in joint["per_workload"].items():
                ref = (other.get("specialized", {}).get(w, {}).get("edap") if base == "specialized"
                       else other["per_workload"].get(w, {}).get("edap"))
                if ref:
                    wl_rows.append({"problem": prob, "aggregation": agg, "seed": seed, "baseline": base,
                                    "workload": w, "reduction_pct": 100 * (1 - v["edap"] / ref)})
    set_df = pd.DataFrame(set_rows, columns=["problem", "aggregation", "seed", "baseline", "reduction_pct"])
    wl_df = pd.DataFrame(wl_rows, columns=["problem", "aggregation", "seed", "baseline", "workload", "reduction_pct"])
    return set_df, wl_df


def best_designs(summary: pd.DataFrame, bests: dict[Path, dict]) -> pd.DataFrame:
    """The design of the best run (lowest EDAP over seeds) per problem variant and algorithm label."""
    rows = []
    for best in bests.values():
        rows.append({"problem": best["problem"], "aggregation": best.get("aggregation"), "label": best.get("label"),
                     "seed": best["seed"], "edap": best["edap"], "feasible": best.get("feasible", True),
                     "area_mm2": next(iter(best["per_workload"].values()))["area_mm2"],
                     **{k: best["design"].get(k) for k in DESIGN_KEYS}})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df = df.sort_values(["feasible", "edap"], ascending=[False, True])
    return df.groupby(["problem", "aggregation", "label"], sort=True).head(1).sort_values(["problem", "aggregation",
                                                                                            "edap"])


def technology_front(sweep: Path, bests: dict[Path, dict]) -> pd.DataFrame:
    """For runs with the EDAP-vs-cost objectives: the feasible non-dominated (EDAP, cost) designs of all their
    archives, the best EDAP and least cost per node over all feasible archived designs, and the figure
    ``edap_cost_front.png``."""
    from imc_moo.problem.indicators import nondominated

    parts = [pd.read_csv(run / "archive.csv").assign(label=b.get("label"), seed=b["seed"])
             for run, b in bests.items() if b.get("objectives") == "edap_cost" and (run / "archive.csv").is_file()]
    if not parts:
        return pd.DataFrame(), pd.DataFrame()
    arch = pd.concat(parts, ignore_index=True)
    arch = arch[arch.feasible.astype(bool)]
    front = arch[nondominated(arch[["edap", "cost"]].to_numpy())].drop_duplicates(["edap", "cost"])
    import matplotlib.pyplot as plt
    import seaborn as sns

    from imc_moo.app.plots import plain_log_ticks, save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    sns.scatterplot(data=arch.sample(min(len(arch), 4000), random_state=0), x="cost", y="edap", hue="technology_nm",
                    palette="viridis", s=8, linewidth=0, ax=ax, legend="full")
    ax.plot(front.sort_values("cost").cost, front.sort_values("cost").edap, "k.-", label="EDAP-cost front", zorder=5)
    ax.set(xscale="log", yscale="log", ylabel="EDAP [mJ·ms·mm²]",
           xlabel="relative manufacturing cost: area [mm²] × the node's cost per mm² (32 nm = 1)")
    plain_log_ticks(ax.xaxis, arch.cost)
    plain_log_ticks(ax.yaxis, arch.edap)
    ax.legend(fontsize=7, title="node [nm]", loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    save_figure(fig, sweep / "edap_cost_front.png")
    cols = ["technology_nm", "edap", "cost", "area_mm2", *[k for k in DESIGN_KEYS if k != "technology_nm"]]
    per_node = arch.groupby("technology_nm").agg(best_edap=("edap", "min"), min_cost=("cost", "min"),
                                                 designs=("edap", "size"))
    return front.sort_values("cost")[cols].reset_index(drop=True), per_node.reset_index()


def study_markdown(sweep: Path, summary: pd.DataFrame, comp: pd.DataFrame, norm: pd.DataFrame,
                   bests: dict[Path, dict], figures: list[str]) -> str:
    """The sweep's ``report.md``: every table with how it is computed, and the figures."""
    ok = summary[summary.status == "ok"]
    out = [f"# imc-moo study report: `{sweep.name}`", "",
           f"{len(ok)} of {len(summary)} runs finished"
           + (f"; failed: {', '.join(summary.loc[summary.status != 'ok', 'run'])}" if len(ok) < len(summary) else "")
           + ". EDAP is energy x delay x area in mJ·ms·mm²; a set's energy and delay aggregate its networks "
           "(max unless the aggregation column says otherwise). Budgets count distinct designs evaluated.", ""]
    task = sweep_overrides(sweep)
    if task is not None:
        out += ["Reproduce: `imc-moo -m " + " ".join(task) + "` then `imc-moo-report <sweep dir>`.", ""]
    out += ["## Best EDAP and hypervolume per algorithm", "",
            "Median and interquartile range over seeds of each run's best feasible aggregated EDAP (runs that found "
            "no feasible design are counted in `runs` but not in `feasible_runs` or the EDAP columns); hypervolume of "
            "the feasible archive on log-normalised (energy, delay, area) with the problem's fixed reference "
            "(`conf/problem/*.yaml`, key `hv`); distinct designs evaluated; wall time.", "", md(comp), ""]
    set_red, wl_red = reductions(summary, bests)
    if not set_red.empty or not wl_red.empty:
        out += ["## The joint design vs the baselines", "",
                "Relative reduction of EDAP by the joint design (phased GA) against each baseline of the same "
                "problem and seed, (1 - EDAP_joint / EDAP_baseline) x 100, median over seeds. Set level: the "
                "aggregated EDAP. Per workload: each network's EDAP of the joint design vs the baseline's design "
                "(for *specialized*, vs the best design found for that network alone, so it is usually negative: "
                "the price of one design for all). These are relative reductions, not the original code's "
                "differences of normalised scores in percentage points.", ""]
        if not set_red.empty:
            t = set_red.groupby(["problem", "aggregation", "baseline"]).reduction_pct.agg(["median", "min", "max"])
            out += ["Set level (aggregated EDAP), % (median, min, max over seeds):", "", md(t.reset_index()), ""]
        if not wl_red.empty:
            t = (wl_red.groupby(["problem", "aggregation", "baseline", "workload"]).reduction_pct.median()
                 .unstack("workload"))
            out += ["Per workload, median %:", "", md(t.reset_index(), 3), ""]
    if not norm.empty:
        t = norm.groupby(["problem", "aggregation", "label", "workload"]).normalized_edap.median().unstack("workload")
        out += ["## Normalised per-workload EDAP", "",
                "Each method's design's EDAP on each network divided by the best workload-specific (specialized) EDAP "
                "of that network, same problem and seed (the method's normalisation); 1 = as good as a design "
                "made for that network alone. Median over seeds.", "", md(t.reset_index(), 3), ""]
    designs = best_designs(summary, bests)
    if not designs.empty:
        out += ["## Best designs", "", "The best run's design per problem and algorithm.", "", md(designs), ""]
    front, per_node = technology_front(sweep, bests)
    if not front.empty:
        figures = [*figures, "edap_cost_front.png"]
        out += ["## Technology: EDAP vs manufacturing cost", "",
                "Cost = area [mm2] x the node's relative cost per mm2 (the method's factors, 32 nm = 1), so a "
                "unitless relative manufacturing cost. Per node, over every feasible design the runs with the "
                "`edap_cost` objectives evaluated: best EDAP and least cost.", "", md(per_node), "",
                "The feasible designs non-dominated in (EDAP, cost), by cost:", "", md(front), ""]
    if figures:
        out += ["## Figures", ""] + [f"![{f}]({f})" for f in figures]
    return "\n".join(out) + "\n"


def report(sweep: Path, plots: bool = True) -> pd.DataFrame:
    """Write the sweep report files; returns the summary table."""
    sweep = Path(sweep)
    summary, bests = collect(sweep)
    write_csv(sweep / "summary.csv", summary)
    comp = comparison(summary)
    write_csv(sweep / "comparison.csv", comp)
    norm = normalized_edap(bests)
    if not norm.empty:
        write_csv(sweep / "normalized_edap.csv", norm)
    made = _figures(sweep, summary, bests, norm) if plots else []
    text = study_markdown(sweep, summary, comp, norm, bests, made)
    from imc_moo.report.deployment import deployment_section

    deployment, figures = deployment_section(sweep, bests, plots=plots)  # runs that name a deployment or a mix
    if deployment:
        made += figures
        text += "\n" + deployment
    from imc_moo.report.comparison import judge, write

    judged = judge(sweep, find_runs(sweep), bests, plots=plots)  # runs made with exact_yardstick=true only
    if judged is not None:
        made += write(sweep, judged) + judged.figures
        text += "\n" + judged.markdown
    write_text(sweep / "report.md", text)
    ok = int((summary.status == "ok").sum())
    print(f"{ok} of {len(summary)} runs reported in {sweep}: report.md, summary.csv, comparison.csv"
          + (", normalized_edap.csv" if not norm.empty else "") + (", " + ", ".join(made) if made else ""))
    for _, row in summary[summary.status == "failed"].iterrows():
        print(f"failed run {row.run}: {row.reason}", file=sys.stderr)
    if not comp.empty:
        print(comp.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="imc-moo-report", description="Summarise a sweep of imc-moo runs.")
    parser.add_argument("sweep", type=Path, help="sweep directory, e.g. runs/multirun/2026-01-01/12-00-00")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    args = parser.parse_args(argv)
    try:
        report(args.sweep, plots=not args.no_plots)
    except (ReportError, OSError) as err:
        print(f"imc-moo-report: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
