"""Optimizers judged against the exact yardstick: each run's archive scored on its problem's exact optimum and
Pareto front, as anytime curves, medians with IQR, two-sided tests with effect sizes, fronts drawn against the
exact one, and a plain-words verdict. Used by ``imc-moo-report`` for runs with ``exact_yardstick=true`` (the
``optimizers`` experiment, ``conf/experiment/optimizers.yaml``).

The yardstick of a problem is :func:`imc_moo.problem.exhaustive.exhaustive` of it, computed once per report
and kept in ``<sweep>/exact/<problem>.npz`` (with the problem it describes, so a changed problem is recomputed).
The model must be the one the runs used: each group's best recorded design is re-evaluated and a mismatch is
reported, because gaps to an optimum of another model mean nothing.

Metrics of a run after its first ``k`` distinct designs (``eval_order < k``), from its feasible designs:

* ``edap_gap_pct``: best aggregated EDAP / exact optimum - 1, in % (0 = the optimum found);
* ``hv_ratio``: hypervolume of their (energy, delay, area) front / hypervolume of the exact front, both on the
  problem's fixed log-normalised box (``problem.hv``; :func:`imc_moo.problem.indicators.hypervolume`); 1 = the
  exact front;
* ``igd_plus``: IGD+ (moocore) of their front to the exact front in the same normalised space; 0 = every exact
  point weakly dominated.

Before its first feasible design a run's gap and IGD+ are infinite and its HV ratio 0: worse than any run that has
one, so medians and tests rank it last instead of dropping it.

Statistics per problem x budget x metric: median and IQR over seeds; every pair of algorithms compared by a
two-sided Mann-Whitney U test (scipy), p-values Holm-corrected within the family of pairs of that cell; effect
size A12 (Vargha-Delaney: the probability that a run of the first algorithm is better than one of the second,
ties counted half). The *leaders* of a cell are the algorithm with the best median and every algorithm not
significantly different from it (Holm-adjusted p >= 0.05).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.app.resume import read_record
from imc_moo.files import write_atomic
from imc_moo.problem.indicators import OBJECTIVES, hypervolume, nondominated, normalise

#: Evaluation counts of the anytime curves (plus each run's own budget).
CHECKPOINTS = (25, 50, 100, 200, 300, 500, 700, 1000, 1500, 2000, 2500, 3300)
#: metric -> (column title, higher is better)
METRICS = {"edap_gap_pct": ("EDAP gap to the optimum [%]", False), "hv_ratio": ("HV / HV of the exact front", True),
           "igd_plus": ("IGD+ to the exact front", False)}
ALPHA = 0.05
#: Relative tolerance for "re-evaluates to the EDAP the run recorded" (the model check) and for "is the optimum"
#: (a run's EDAP and the exhaustive search's may differ in the last bits: the same products in another order).
MODEL_RTOL = OPTIMUM_RTOL = 1e-9


@dataclass
class Yardstick:
    """A problem's exact optimum and front: ``front`` (m, 3) energy [J], latency [s], area [mm2]."""

    best_edap: float
    front: np.ndarray
    hv: float
    n_designs: int
    wall_time_s: float


def wants_yardstick(run: Path) -> bool:
    """Whether the run was made with ``exact_yardstick=true``."""
    record = read_record(run)  # no or a damaged config: the run just is not judged
    return record is not None and bool(record.get("exact_yardstick", False))


def yardstick(cfg, store: Path) -> tuple[Yardstick, object]:
    """The exact yardstick of the problem of a run's config ``cfg`` (from ``store`` if it holds one for the same
    problem) and the problem itself."""
    from omegaconf import OmegaConf

    from imc_moo.app.config import build_problem

    problem_yaml = OmegaConf.to_yaml(OmegaConf.create(OmegaConf.to_container(cfg.problem, resolve=True)),
                                     sort_keys=True)
    key = hashlib.sha256(problem_yaml.encode()).hexdigest()[:16]
    problem = build_problem(cfg.problem)
    path = store / f"{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            if str(z["problem"]) == problem_yaml:
                return Yardstick(float(z["best_edap"]), z["front"], float(z["hv"]), int(z["n_designs"]),
                                 float(z["wall_time_s"])), problem
    from imc_moo.problem.exhaustive import exhaustive

    result = exhaustive(problem)
    hv = hypervolume(result.front_F, cfg.problem.hv.ideal, cfg.problem.hv.reference)
    exact = Yardstick(result.best_edap, result.front_F, hv, result.n_designs, result.wall_time_s)
    store.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda fh: np.savez(fh, problem=problem_yaml, best_edap=exact.best_edap, front=exact.front,
                                           hv=exact.hv, n_designs=exact.n_designs, wall_time_s=exact.wall_time_s))
    return exact, problem


def anytime(archive: pd.DataFrame, exact: Yardstick, ideal, reference, counts) -> pd.DataFrame:
    """The three metrics after each of ``counts`` distinct designs (see the module docstring), one row each."""
    feas = archive[archive["feasible"].astype(bool)].sort_values("eval_order")
    order = feas["eval_order"].to_numpy()
    points = feas[list(OBJECTIVES)].to_numpy(dtype=float)
    edap = feas["edap"].to_numpy(dtype=float)
    exact_z = normalise(exact.front, ideal, reference)
    import moocore

    rows = []
    for k in counts:
        n = int(np.searchsorted(order, k, side="left"))
        if n == 0:
            # no feasible design yet: worse than any that has one (ranked last, shown as ∞)
            rows.append({"evaluations": int(k), "edap_gap_pct": np.inf, "hv_ratio": 0.0, "igd_plus": np.inf})
            continue
        front = points[:n][nondominated(points[:n])]
        gap = edap[:n].min() / exact.best_edap - 1
        gap = 0.0 if abs(gap) <= OPTIMUM_RTOL else gap  # the optimum, up to rounding (sums in another order)
        rows.append({"evaluations": int(k), "edap_gap_pct": gap * 100,
                     "hv_ratio": hypervolume(front, ideal, reference) / exact.hv if exact.hv > 0 else np.nan,
                     "igd_plus": float(moocore.igd_plus(normalise(front, ideal, reference), ref=exact_z))})
    return pd.DataFrame(rows)


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order as given)."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def a12(x: np.ndarray, y: np.ndarray, higher_is_better: bool) -> float:
    """Vargha-Delaney A12: the probability that a value of ``x`` is better than one of ``y`` (ties half)."""
    x, y = np.asarray(x, dtype=float)[:, None], np.asarray(y, dtype=float)[None, :]
    better = (x > y) if higher_is_better else (x < y)
    return float(better.mean() + 0.5 * (x == y).mean())


def pairwise_tests(finals: pd.DataFrame) -> pd.DataFrame:
    """Every pair of labels per problem x budget x metric: Mann-Whitney U p (raw and Holm-adjusted within the
    cell), A12 of the first over the second, medians."""
    from scipy.stats import mannwhitneyu

    rows = []
    for (problem, budget), cell in finals.groupby(["variant", "budget"]):
        labels = sorted(cell.label.unique())
        for metric, (_, higher) in METRICS.items():
            pairs = []
            for i, a in enumerate(labels):
                for b in labels[i + 1:]:
                    x = cell.loc[cell.label == a, metric].dropna().to_numpy()
                    y = cell.loc[cell.label == b, metric].dropna().to_numpy()
                    if len(x) < 2 or len(y) < 2:
                        continue
                    same = np.all(np.concatenate([x, y]) == x[0])
                    p = 1.0 if same else float(mannwhitneyu(x, y, alternative="two-sided").pvalue)
                    pairs.append({"variant": problem, "budget": budget, "metric": metric, "a": a, "b": b,
                                  "median_a": np.median(x), "median_b": np.median(y), "p": p,
                                  "a12": a12(x, y, higher)})
            if pairs:
                adjusted = holm(np.array([r["p"] for r in pairs]))
                for r, q in zip(pairs, adjusted):
                    r["p_holm"] = float(q)
                rows += pairs
    return pd.DataFrame(rows, columns=["variant", "budget", "metric", "a", "b", "median_a", "median_b", "p",
                                       "p_holm", "a12"])


def leaders(finals: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """Per problem x budget x metric: the best-median label and every label not significantly different from it."""
    rows = []
    for (problem, budget), cell in finals.groupby(["variant", "budget"]):
        for metric, (_, higher) in METRICS.items():
            med = cell.groupby("label")[metric].median().dropna()
            if med.empty:
                continue
            best = med.idxmax() if higher else med.idxmin()
            t = tests[(tests.variant == problem) & (tests.budget == budget) & (tests.metric == metric)]
            tied = []
            for label in med.index:
                if label == best:
                    continue
                pair = t[((t.a == best) & (t.b == label)) | ((t.a == label) & (t.b == best))]
                if len(pair) and pair.p_holm.iloc[0] >= ALPHA:
                    tied.append(label)
            rows.append({"variant": problem, "budget": budget, "metric": metric, "best": best,
                         "best_median": med[best], "tied": ", ".join(sorted(tied))})
    return pd.DataFrame(rows, columns=["variant", "budget", "metric", "best", "best_median", "tied"])


@dataclass
class Judgement:
    """What :func:`judge` adds to a report: per-run finals and curves, tables, its markdown and figure files."""

    finals: pd.DataFrame
    curves: pd.DataFrame
    tests: pd.DataFrame
    leaders: pd.DataFrame
    yardsticks: pd.DataFrame
    markdown: str
    figures: list[str]


def judge(sweep: Path, runs: list[Path], bests: dict[Path, dict], plots: bool = True) -> Judgement | None:
    """Score every finished run of ``runs`` that asked for the exact yardstick; None if none did."""
    judged = [run for run in runs if run in bests and wants_yardstick(run)]
    if not judged:
        return None
    groups: dict[tuple, list[Path]] = {}
    for run in judged:
        b = bests[run]
        groups.setdefault((b.get("problem"), b.get("aggregation", "max")), []).append(run)
    finals, curves, sticks, warnings = [], [], [], []
    exacts: dict[str, Yardstick] = {}
    for (problem_label, aggregation), members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        variant = problem_label if aggregation == "max" else f"{problem_label} · {aggregation}"
        cfg = read_record(members[0])  # judged runs have a readable record (wants_yardstick)
        exact, problem = yardstick(cfg, sweep / "exact")
        exacts[variant] = exact
        ideal = {k: float(v) for k, v in cfg.problem.hv.ideal.items()}  # plain floats: resolved once
        reference = {k: float(v) for k, v in cfg.problem.hv.reference.items()}
        sticks.append({"variant": variant, "designs": f"{exact.n_designs:,}", "optimum_edap": exact.best_edap,
                       "front_points": len(exact.front), "front_hv": exact.hv,
                       "exhaustive_s": round(exact.wall_time_s, 1)})
        warnings += _model_check(members[0], problem)
        for run in members:
            b = bests[run]
            archive = pd.read_csv(run / "archive.csv",
                                  usecols=["eval_order", "feasible", "edap", *OBJECTIVES])
            budget = int(b.get("budget") or len(archive))
            counts = sorted({c for c in CHECKPOINTS if c < budget} | {budget})
            curve = anytime(archive, exact, ideal, reference, counts)
            curve = curve.assign(run=str(run.relative_to(sweep)), variant=variant, label=b.get("label"),
                                 seed=b.get("seed"), budget=budget)
            curves.append(curve)
            finals.append(curve.iloc[[-1]].assign(evaluations_used=b.get("evaluations")))
    finals = pd.concat(finals, ignore_index=True)
    curves = pd.concat(curves, ignore_index=True)
    tests = pairwise_tests(finals)
    lead = leaders(finals, tests)
    sticks = pd.DataFrame(sticks)
    figures = _figures(sweep, finals, curves, exacts) if plots else []
    md = _markdown(finals, tests, lead, sticks, warnings, figures)
    return Judgement(finals, curves, tests, lead, sticks, md, figures)


def _model_check(run: Path, problem) -> list[str]:
    """Re-evaluate the best design of ``run`` (one of its group); a different EDAP means another model made the
    runs."""
    archive = pd.read_csv(run / "archive.csv")
    feas = archive[archive["feasible"].astype(bool)]
    if feas.empty:
        return []
    row = feas.loc[feas["edap"].idxmin()]
    genome = problem.space.encode(pd.DataFrame([row[list(problem.space.names)]]))
    now = float(problem.evaluate_genomes(genome).edap[0])
    if abs(now / row["edap"] - 1) > MODEL_RTOL:
        return [f"{run.name}: its best design re-evaluates to EDAP {now:.6g}, the run recorded {row['edap']:.6g}: "
                "the cost model changed since the sweep ran, so gaps to this optimum are not meaningful — rerun "
                "the sweep"]
    return []


def _quantile(values: pd.Series, q: float) -> float:
    """Linear-interpolated quantile that stays infinite when it falls next to an infinite value (numpy's
    interpolation gives NaN there)."""
    v = np.sort(values.to_numpy(dtype=float))
    pos = q * (len(v) - 1)
    lo, hi = v[int(np.floor(pos))], v[int(np.ceil(pos))]
    return float(np.inf if np.isinf(hi) else lo + (hi - lo) * (pos - np.floor(pos)))


def _fmt(metric: str, v: float) -> str:
    if np.isposinf(v):
        return "∞"
    if not np.isfinite(v):
        return "—"
    return f"{v:.2f}" if metric == "edap_gap_pct" else f"{v:.3f}"


def _median_iqr_table(finals: pd.DataFrame, metric: str, lead: pd.DataFrame) -> pd.DataFrame:
    """Rows: problem x budget; columns: algorithms; cells ``median [q1, q3]``, the cell's leaders in bold."""
    labels = sorted(finals.label.dropna().unique())
    rows = []
    for (variant, budget), cell in finals.groupby(["variant", "budget"]):
        row = lead[(lead.variant == variant) & (lead.budget == budget) & (lead.metric == metric)]
        top = set() if row.empty else {row.best.iloc[0], *filter(None, row.tied.iloc[0].split(", "))}
        out = {"problem": variant, "budget": f"{budget:,}"}
        for label in labels:
            v = cell.loc[cell.label == label, metric].dropna()
            if v.empty:
                out[label] = "—"
                continue
            text = (f"{_fmt(metric, _quantile(v, 0.5))} [{_fmt(metric, _quantile(v, 0.25))}, "
                    f"{_fmt(metric, _quantile(v, 0.75))}]")
            out[label] = f"**{text}**" if label in top else text
        rows.append(out)
    return pd.DataFrame(rows)


def verdict(lead: pd.DataFrame) -> list[str]:
    """Plain-words lines: per metric, which algorithms lead (best or tied) in how many problem x budget cells."""
    lines = []
    for metric, (title, _) in METRICS.items():
        m = lead[lead.metric == metric]
        if m.empty:
            continue
        count: dict[str, int] = {}
        for _, r in m.iterrows():
            for label in [r.best, *filter(None, r.tied.split(", "))]:
                count[label] = count.get(label, 0) + 1
        ranked = sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))
        best_alone = m.best.value_counts()
        lines.append(f"- **{title}**: leading (best median, or not significantly different from it) in "
                     + ", ".join(f"{label} {n}/{len(m)}" for label, n in ranked) + " cells; best median most often: "
                     + ", ".join(f"{label} ({n})" for label, n in best_alone.items()) + ".")
    return lines


def _markdown(finals, tests, lead, sticks, warnings, figures) -> str:
    from imc_moo.files import markdown_table

    out = ["## The optimizers against the exact yardstick", "",
           "Every run's archive is judged on its problem's exact optimum and Pareto front (exhaustive search with the "
           "same model). EDAP gap = best feasible EDAP / optimum - 1; HV ratio = hypervolume of the feasible archive's "
           "(energy, delay, area) front over that of the exact front (log-normalised box of the problem's `hv`); IGD+ "
           "of that front to the exact front in the same space. Median [IQR] over seeds at each run's budget; bold: "
           "the best median and every algorithm not significantly different from it (two-sided Mann-Whitney U, "
           "Holm-corrected over the pairs of the cell, α = 0.05).", ""]
    out += [f"> warning: {w}" for w in warnings] + ([""] if warnings else [])
    out += ["Yardsticks:", "", markdown_table(sticks), ""]
    for metric, (title, higher) in METRICS.items():
        out += [f"### {title} ({'higher' if higher else 'lower'} is better)", "",
                markdown_table(_median_iqr_table(finals, metric, lead)), ""]
    out += ["### Which algorithm for what", "", *verdict(lead), "",
            "Per cell (problem · budget · metric): the leader, its median and the algorithms tied with it:", "",
            markdown_table(lead), "",
            "All pairwise tests (`a12`: probability that a run of `a` beats one of `b`) are in `comparison_tests.csv`; "
            "per-run anytime values in `comparison_anytime.csv`.", ""]
    if figures:
        out += [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(out)


def _figures(sweep: Path, finals, curves, exacts: dict[str, Yardstick]) -> list[str]:
    import matplotlib.pyplot as plt

    from imc_moo.app.plots import LABELS, plain_log_ticks, reader_unit, save_figure, set_theme
    from imc_moo.report.formatting import label_palette

    set_theme()
    palette = label_palette(finals.label.dropna())
    made = []
    variants = sorted(curves.variant.unique())
    top = curves[curves.budget == curves.groupby("variant").budget.transform("max")]
    top = top.assign(edap_ratio=1 + top.edap_gap_pct / 100)
    drawn = {"edap_ratio": "best EDAP / exact optimum", "hv_ratio": METRICS["hv_ratio"][0],
             "igd_plus": METRICS["igd_plus"][0]}
    fig, axes = plt.subplots(len(variants), len(drawn), figsize=(4.4 * len(drawn), 3.2 * len(variants)),
                             squeeze=False)
    for row, variant in zip(axes, variants):
        d = top[top.variant == variant]
        for ax, (metric, title) in zip(row, drawn.items()):
            for label, g in d.groupby("label"):
                q = g.groupby("evaluations")[metric].quantile([0.25, 0.5, 0.75]).unstack()
                ax.plot(q.index, q[0.5], color=palette[label], label=label)
                ax.fill_between(q.index, q[0.25], q[0.75], color=palette[label], alpha=0.15, linewidth=0)
            ax.set(xscale="log", xlabel=LABELS["evaluations"], ylabel=title, title=variant)
            plain_log_ticks(ax.xaxis, d.evaluations)
            if metric == "edap_ratio":  # 1 = the optimum; log: a 2x gap and a 1 % gap both readable
                ax.set_yscale("log")
                plain_log_ticks(ax.yaxis, d[metric])
            elif metric == "igd_plus":
                ax.set_yscale("symlog", linthresh=1e-3)
                ax.set_ylim(bottom=0)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.97), fontsize=8, frameon=False,
               title="algorithm")
    fig.suptitle("anytime: median and IQR over seeds (the runs of the largest budget)")
    fig.tight_layout()
    save_figure(fig, sweep / "comparison_anytime.png")
    made.append("comparison_anytime.png")

    pairs = [("energy_j", "latency_s"), ("energy_j", "area_mm2"), ("latency_s", "area_mm2")]
    for variant, exact in exacts.items():
        budget = finals[finals.variant == variant].budget.max()
        f = finals[(finals.variant == variant) & (finals.budget == budget)]
        fronts = {}
        for label, g in f.groupby("label"):
            # the seed of median HV ratio: a typical run, not the best one
            g = g.sort_values("hv_ratio")
            archive = pd.read_csv(sweep / g.iloc[len(g) // 2]["run"] / "archive.csv",
                                  usecols=["feasible", *OBJECTIVES])
            pts = archive[archive.feasible.astype(bool)][list(OBJECTIVES)].to_numpy(dtype=float)
            fronts[label] = pts[nondominated(pts)] if len(pts) else pts
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        scale = {k: reader_unit(exact.front[:, OBJECTIVES.index(k)], k) if k in ("energy_j", "latency_s")
                 else ("mm²", 1.0) for k in OBJECTIVES}
        names = {"energy_j": "energy", "latency_s": "delay", "area_mm2": "area"}
        for ax, (x, y) in zip(axes, pairs):
            i, j = OBJECTIVES.index(x), OBJECTIVES.index(y)
            fx, fy = scale[x][1], scale[y][1]
            for label, pts in fronts.items():
                ax.scatter(pts[:, i] * fx, pts[:, j] * fy, s=14, color=palette[label], alpha=0.7, linewidth=0,
                           label=label, zorder=2)
            # the yardstick on top: every exact point stays visible over the algorithms' points
            ax.scatter(exact.front[:, i] * fx, exact.front[:, j] * fy, s=18, color="k", marker="x", linewidth=0.8,
                       label="exact front", zorder=3)
            ax.set(xscale="log", yscale="log", xlabel=f"{names[x]} [{scale[x][0]}]",
                   ylabel=f"{names[y]} [{scale[y][0]}]")
            everything = np.vstack([exact.front, *[f for f in fronts.values() if len(f)]])
            plain_log_ticks(ax.xaxis, everything[:, i] * fx)
            plain_log_ticks(ax.yaxis, everything[:, j] * fy)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.95), fontsize=8, frameon=False)
        fig.suptitle(f"{variant}: each algorithm's front (median-HV seed, {budget:,} designs) vs the exact front")
        fig.tight_layout()
        name = f"comparison_fronts_{_safe(variant)}.png"
        save_figure(fig, sweep / name)
        made.append(name)
    return made


def _safe(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_")


def write(sweep: Path, judgement: Judgement) -> list[str]:
    """Write the judgement's tables into the sweep directory; returns their names."""
    from imc_moo.files import write_csv, write_text

    write_csv(sweep / "comparison_finals.csv", judgement.finals)
    write_csv(sweep / "comparison_anytime.csv", judgement.curves)
    write_csv(sweep / "comparison_tests.csv", judgement.tests)
    write_csv(sweep / "comparison_leaders.csv", judgement.leaders)
    write_text(sweep / "exact" / "yardsticks.json", json.dumps(judgement.yardsticks.to_dict("records"), indent=2))
    return ["comparison_finals.csv", "comparison_anytime.csv", "comparison_tests.csv", "comparison_leaders.csv"]
