"""``imc-moo-report <sweep dir>``: collect every run of a Hydra multirun into tables and figures.

Writes into the sweep directory:

* ``summary.csv``: one row per run (algorithm, problem, seed, best EDAP, hypervolume, evaluations, wall time,
  status); runs without ``best.json`` (crashed or still running) are listed with status ``failed``;
* ``comparison.csv``: median and interquartile range per problem x algorithm of best EDAP, hypervolume,
  evaluations and wall time;
* ``normalized_edap.csv`` (when the sweep has ``specialized`` runs): per-workload EDAP of each method's design
  divided by the best workload-specific EDAP of the same problem and seed (METHOD.md §5.2's normalisation);
* figures: ``best_edap_box.png``, ``convergence.png`` (median with IQR band over seeds), ``pareto_fronts.png``
  and ``normalized_edap.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .export import atomic_write_csv

SUMMARY_COLUMNS = ["run", "algorithm", "problem", "seed", "edap", "hypervolume", "evaluations", "wall_time_s",
                   "feasible", "status"]


class ReportError(ValueError):
    """The sweep directory cannot be reported on."""


def find_runs(sweep: Path) -> list[Path]:
    """Run directories of a sweep: every directory holding a Hydra ``.hydra/config.yaml`` or a ``best.json``."""
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise ReportError(f"{sweep} is not a directory: give a sweep directory such as runs/multirun/<date>/<time>")
    runs = {p.parent.parent for p in sweep.rglob(".hydra/config.yaml")} | {p.parent for p in sweep.rglob("best.json")}
    runs.discard(sweep)
    if not runs:
        raise ReportError(f"no runs found under {sweep}: expected job directories with .hydra/config.yaml")
    return sorted(runs)


def _run_identity(run: Path) -> dict:
    """Algorithm, problem and seed from the run's composed config (for runs that did not finish)."""
    cfg = run / ".hydra" / "config.yaml"
    if not cfg.is_file():
        return {}
    from omegaconf import OmegaConf

    c = OmegaConf.load(cfg)
    return {"algorithm": c.get("algorithm", {}).get("name"), "problem": c.get("problem", {}).get("name"),
            "seed": c.get("seed")}


def collect(sweep: Path) -> tuple[pd.DataFrame, dict[Path, dict]]:
    """The summary table and the parsed ``best.json`` of every finished run."""
    rows, bests = [], {}
    for run in find_runs(sweep):
        rel = str(run.relative_to(sweep))
        best_path = run / "best.json"
        try:
            best = json.loads(best_path.read_text()) if best_path.is_file() else None
        except json.JSONDecodeError:
            best = None
        if best is None:
            rows.append({"run": rel, **_run_identity(run), "status": "failed"})
            continue
        bests[run] = best
        rows.append({"run": rel, **{k: best.get(k) for k in SUMMARY_COLUMNS if k in best}, "status": "ok"})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS), bests


def iqr(s: pd.Series) -> float:
    return float(s.quantile(0.75) - s.quantile(0.25))


def comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """Median and IQR per problem x algorithm over the finished runs."""
    ok = summary[summary.status == "ok"]
    if ok.empty:
        return pd.DataFrame()
    agg = ok.groupby(["problem", "algorithm"]).agg(
        runs=("seed", "size"),
        edap_median=("edap", "median"), edap_iqr=("edap", iqr),
        hypervolume_median=("hypervolume", "median"), hypervolume_iqr=("hypervolume", iqr),
        evaluations_median=("evaluations", "median"), wall_time_s_median=("wall_time_s", "median"))
    return agg.reset_index().sort_values(["problem", "edap_median"])


def normalized_edap(bests: dict[Path, dict]) -> pd.DataFrame:
    """Per-workload EDAP of each run's design / the specialized optimum of that workload (same problem, seed)."""
    ref = {}
    for best in bests.values():
        if best.get("algorithm") == "specialized" and "specialized" in best:
            ref[(best["problem"], best["seed"])] = {w: v["edap"] for w, v in best["specialized"].items()}
    rows = []
    for best in bests.values():
        key = (best.get("problem"), best.get("seed"))
        if key not in ref or best.get("algorithm") == "specialized":
            continue
        for w, v in best.get("per_workload", {}).items():
            if w in ref[key] and v.get("edap") and ref[key][w]:
                rows.append({"problem": key[0], "seed": key[1], "algorithm": best["algorithm"], "workload": w,
                             "normalized_edap": v["edap"] / ref[key][w]})
    return pd.DataFrame(rows, columns=["problem", "seed", "algorithm", "workload", "normalized_edap"])


def _figures(sweep: Path, summary: pd.DataFrame, bests: dict[Path, dict], norm: pd.DataFrame) -> list[str]:
    import matplotlib.pyplot as plt
    import seaborn as sns

    from .plots import LABELS, _save

    sns.set_theme(style="whitegrid", context="paper")
    made = []
    ok = summary[summary.status == "ok"]
    if not ok.empty:
        g = sns.catplot(data=ok, x="algorithm", y="edap", col="problem", kind="box", sharey=False, height=3.6,
                        aspect=1.2, col_wrap=min(3, ok.problem.nunique()))
        g.map_dataframe(sns.stripplot, x="algorithm", y="edap", color="k", size=3)
        g.set(yscale="log")
        g.set_axis_labels("", "best " + LABELS["edap"])
        g.tick_params(axis="x", rotation=30)
        _save(g.figure, sweep / "best_edap_box.png")
        made.append("best_edap_box.png")
    hist, fronts = [], []
    for run, best in bests.items():
        ident = {k: best.get(k) for k in ("algorithm", "problem", "seed")}
        if (run / "history.csv").is_file():
            hist.append(pd.read_csv(run / "history.csv").assign(**ident))
        if (run / "pareto.csv").is_file():
            fronts.append(pd.read_csv(run / "pareto.csv").assign(**ident))
    if hist:
        h = pd.concat(hist, ignore_index=True).dropna(subset=["best_edap"])
        if not h.empty:
            # put every run on a common evaluation grid so seeds can be banded
            grid = np.unique(np.linspace(0, h.evaluations.max(), 40).round())
            banded = []
            for (alg, prob, seed), r in h.groupby(["algorithm", "problem", "seed"]):
                r = r.sort_values("evaluations")
                idx = np.searchsorted(r.evaluations.to_numpy(), grid, side="right") - 1
                keep = idx >= 0
                banded.append(pd.DataFrame({"evaluations": grid[keep], "best_edap": r.best_edap.to_numpy()[idx[keep]],
                                            "hypervolume": r.hypervolume.to_numpy()[idx[keep]],
                                            "algorithm": alg, "problem": prob, "seed": seed}))
            b = pd.concat(banded, ignore_index=True)
            fig, axes = plt.subplots(b.problem.nunique(), 2, figsize=(11, 3.6 * b.problem.nunique()), squeeze=False)
            for row, (prob, d) in zip(axes, b.groupby("problem")):
                sns.lineplot(data=d, x="evaluations", y="best_edap", hue="algorithm", ax=row[0],
                             estimator="median", errorbar=("pi", 50))
                row[0].set(yscale="log", title=prob, xlabel=LABELS["evaluations"], ylabel="best " + LABELS["edap"])
                sns.lineplot(data=d, x="evaluations", y="hypervolume", hue="algorithm", ax=row[1],
                             estimator="median", errorbar=("pi", 50), legend=False)
                row[1].set(title=prob, xlabel=LABELS["evaluations"], ylabel=LABELS["hypervolume"])
            _save(fig, sweep / "convergence.png")
            made.append("convergence.png")
    if fronts:
        f = pd.concat(fronts, ignore_index=True)
        if not f.empty:
            g = sns.relplot(data=f, x="energy_j", y="latency_s", hue="algorithm", col="problem", size="area_mm2",
                            sizes=(8, 80), alpha=0.6, height=3.8, facet_kws={"sharex": False, "sharey": False})
            g.set(xscale="log", yscale="log")
            g.set_axis_labels(LABELS["energy_j"], LABELS["latency_s"])
            _save(g.figure, sweep / "pareto_fronts.png")
            made.append("pareto_fronts.png")
    if not norm.empty:
        g = sns.catplot(data=norm, x="workload", y="normalized_edap", hue="algorithm", col="problem", kind="bar",
                        errorbar=("pi", 50), height=3.8, aspect=1.4, sharex=False)
        for ax in g.axes.flat:
            ax.axhline(1.0, color="k", lw=0.8, ls="--")
        g.set_axis_labels("", "EDAP / specialized EDAP")
        g.tick_params(axis="x", rotation=30)
        _save(g.figure, sweep / "normalized_edap.png")
        made.append("normalized_edap.png")
    return made


def report(sweep: Path, plots: bool = True) -> pd.DataFrame:
    """Write the sweep report files; returns the summary table."""
    sweep = Path(sweep)
    summary, bests = collect(sweep)
    atomic_write_csv(sweep / "summary.csv", summary)
    comp = comparison(summary)
    atomic_write_csv(sweep / "comparison.csv", comp)
    norm = normalized_edap(bests)
    if not norm.empty:
        atomic_write_csv(sweep / "normalized_edap.csv", norm)
    made = _figures(sweep, summary, bests, norm) if plots else []
    ok = int((summary.status == "ok").sum())
    print(f"{ok} of {len(summary)} runs reported in {sweep}: summary.csv, comparison.csv"
          + (", normalized_edap.csv" if not norm.empty else "") + (", " + ", ".join(made) if made else ""))
    for run in summary.loc[summary.status == "failed", "run"]:
        print(f"failed run (no best.json): {run}", file=sys.stderr)
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
