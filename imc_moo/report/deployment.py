"""The deployment section of ``imc-moo-report`` (a sweep such as ``imc-moo -m +experiment=deployment``): how the
best chip and the Pareto front move with the switching rate, per workload set x memory x deployment mode.

Written into the sweep directory when any run names a deployment or a workload mix (:mod:`imc_moo.problem.deployment`):

* ``deployment.csv``: per workload set x memory x mode x inferences per switch, the median over seeds of the best
  feasible EDAP, the best run's chip and the fraction of its per-inference energy and delay that is switching;
* ``deployment_edap.png``: best EDAP vs inferences per switch, one line per memory x mode, a panel per set;
* ``deployment_fronts.png``: the feasible energy-delay fronts of every switching rate, a panel per set x case;
* a markdown section: the winner (memory and mode of least median EDAP) at every switching rate, and the table.

A run's identity comes from its ``.hydra/config.yaml`` (a null deployment is the memory's: RRAM reprogram, SRAM
stream; a null ``mix.inferences_per_switch`` is "never").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.files import write_csv
from imc_moo.report.formatting import md
from imc_moo.report.readers import read_table

#: Where "never switches" sits on the x axis of the deployment figure, relative to the largest finite value.
NEVER_AT = 10.0
MODE_COLOURS = {"resident": "#4c72b0", "reprogram": "#dd8452", "stream": "#55a868"}
MEMORY_STYLES = {"rram": ("-", "o"), "sram": ("--", "s")}


def run_identity(run: Path) -> dict | None:
    """A run's workload set, memory, deployment (the memory's when null), inferences per switch (inf = never) and
    whether its config names a deployment or a mix (``named``), from its ``.hydra/config.yaml``; None if that is
    missing or unreadable."""
    from omegaconf import OmegaConf

    from imc_moo.app.resume import read_record
    from imc_moo.problem.deployment import default_deployment
    from imc_moo.workloads import workload_label

    try:
        p = OmegaConf.to_container(read_record(run).problem, resolve=False)  # None (missing, damaged): excepted
        memory = str(p["memory"]).lower()
        mix = p.get("mix") or {}
        ips = mix.get("inferences_per_switch")
        ips = np.inf if ips is None else float(ips)
        return {"workloads": workload_label(p["workloads"]), "memory": memory,
                "deployment": p.get("deployment") or default_deployment(memory), "inferences_per_switch": ips,
                "named": p.get("deployment") is not None or bool(np.isfinite(ips)) or mix.get("shares") is not None}
    except Exception:  # noqa: BLE001 - a damaged config only leaves the run out of the deployment section
        return None


def switch_shares(front: pd.DataFrame | None) -> tuple[float, float]:
    """Fractions of the best design's per-inference energy and delay (means over the networks, as the problem's
    ``switch_*`` columns) that are amortised switching, from the first row of its ``pareto.csv`` (sorted by EDAP;
    the least-EDAP feasible design is on the front); 0 without switching columns."""
    if front is None or front.empty or "switch_energy_j" not in front:
        return 0.0, 0.0
    row = front.iloc[0]
    e = [c for c in front if c.startswith("energy_j_")]
    t = [c for c in front if c.startswith("latency_s_")]
    se = [c for c in front if c.startswith("switch_energy_j_")]
    st = [c for c in front if c.startswith("switch_latency_s_")]
    return (float(row[se].sum() / row[e].sum()) if e and se else 0.0,
            float(row[st].sum() / row[t].sum()) if t and st else 0.0)


def deployment_runs(bests: dict[Path, dict]) -> pd.DataFrame:
    """One row per finished run: its identity (:func:`run_identity`), seed, EDAP, best chip and switching shares;
    empty when no run names a deployment or a mix."""
    rows = []
    for run, best in bests.items():
        ident = run_identity(run)
        design = best.get("design", {})
        if ident is None or "xbar_rows" not in design:  # a partitioned chip's deployment is per partition
            continue
        se, st = switch_shares(read_table(run / "pareto.csv"))
        macros = 1
        for k in ("router_group", "tiles_per_chip", "macros_per_tile"):
            macros *= int(design.get(k) or 0)
        rows.append({**ident, "label": best.get("label"), "seed": best.get("seed"),
                     "feasible": bool(best.get("feasible", True)), "edap": best.get("edap"),
                     "energy_j": best.get("energy_j"), "latency_s": best.get("latency_s"),
                     "area_mm2": best.get("area_mm2"), "switch_energy_share": se, "switch_delay_share": st,
                     "macros": macros, **{k: design.get(k) for k in ("bits_per_cell", "xbar_rows", "xbar_cols",
                                                                      "glb_mib")},
                     "violated": " ".join(sorted(best.get("violations") or {})), "run": run})
    df = pd.DataFrame(rows)
    if df.empty or not df.named.any():
        return pd.DataFrame()
    return df


def deployment_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per workload set x memory x deployment x inferences per switch: runs, feasible runs, median best EDAP over
    the feasible runs, and the best run's chip and switching shares."""
    key = ["workloads", "memory", "deployment", "inferences_per_switch"]
    out = []
    for k, g in runs.groupby(key, sort=True):
        feas = g[g.feasible]
        row = dict(zip(key, k), runs=len(g), feasible_runs=len(feas),
                   edap_median=float(feas.edap.median()) if len(feas) else np.nan,
                   violated=" ".join(sorted({c for v in g.violated[~g.feasible] for c in v.split()})))
        if len(feas):
            b = feas.loc[feas.edap.astype(float).idxmin()]
            row.update(energy_j=b.energy_j, latency_s=b.latency_s, area_mm2=b.area_mm2,
                       switch_energy_share=b.switch_energy_share, switch_delay_share=b.switch_delay_share,
                       bits_per_cell=b.bits_per_cell, xbar=f"{int(b.xbar_rows)}x{int(b.xbar_cols)}",
                       macros=int(b.macros), glb_mib=b.glb_mib)
        out.append(row)
    return pd.DataFrame(out)


def ips_label(v: float) -> str:
    """``never`` for inf, else the number with thousands separators."""
    return "never" if not np.isfinite(v) else f"{v:,.0f}"


def deployment_winners(table: pd.DataFrame) -> pd.DataFrame:
    """Per workload set and switching rate (most frequent switching first): the median best EDAP of every
    memory x mode (— where no run found a feasible design) and the winner, the one of least EDAP."""
    t = table.assign(case=table.memory.str.upper() + " " + table.deployment)
    parts = []
    for w, g in t.groupby("workloads", sort=True):
        pivot = g.pivot_table(index="inferences_per_switch", columns="case", values="edap_median", aggfunc="first",
                              dropna=False).reindex(sorted(g.case.unique()), axis=1)
        winner = pivot.apply(lambda r: r.idxmin() if r.notna().any() else "—", axis=1)
        pivot.insert(0, "workloads", w)
        pivot["winner"] = winner
        parts.append(pivot.reset_index())
    out = pd.concat(parts, ignore_index=True)
    out["inferences_per_switch"] = out.inferences_per_switch.map(ips_label)
    out.columns.name = None
    return out[["workloads", *[c for c in out if c != "workloads"]]]


def deployment_figures(sweep: Path, runs: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Draw ``deployment_edap.png`` and ``deployment_fronts.png`` into ``sweep``; returns their names."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from imc_moo.app.plots import plain_log_ticks, reader_unit, save_figure, set_theme
    from imc_moo.problem.indicators import nondominated

    set_theme()
    finite = table.inferences_per_switch[np.isfinite(table.inferences_per_switch)]
    never_x = NEVER_AT * (finite.max() if len(finite) else 1.0)
    xs = sorted({never_x if not np.isfinite(v) else v for v in table.inferences_per_switch})
    sets = sorted(table.workloads.unique())
    fig, axes = plt.subplots(1, len(sets), figsize=(5.4 * len(sets), 4.2), squeeze=False)
    missing = []
    for ax, w in zip(axes[0], sets):
        for (memory, mode), c in table[table.workloads == w].groupby(["memory", "deployment"], sort=True):
            c = c.assign(x=np.where(np.isfinite(c.inferences_per_switch), c.inferences_per_switch, never_x))
            c = c.sort_values("x")
            ls, marker = MEMORY_STYLES.get(memory, ("-", "o"))
            ok, gone = c[c.edap_median.notna()], c[c.edap_median.isna()]
            if len(gone):
                at = "" if ok.empty else " at " + ", ".join(ips_label(v) for v in gone.inferences_per_switch)
                why = sorted({c for v in gone.violated for c in v.split()})
                missing.append(f"{memory.upper()} {mode} on {w}{at}" + (f" ({', '.join(why)})" if why else ""))
            if ok.empty:
                continue
            ax.plot(ok.x, ok.edap_median, ls=ls, marker=marker, color=MODE_COLOURS.get(mode, "0.3"),
                    label=f"{memory.upper()} {mode}")
        ax.set(xscale="log", yscale="log", title=w, xlabel="inferences per switch (mean; 1 = every inference)",
               ylabel="best EDAP, median over seeds [mJ·ms·mm²]")
        ax.set_xticks(xs, [("never" if x == never_x else ips_label(x)) for x in xs])
        if len(finite):
            ax.axvline(np.sqrt(finite.max() * never_x), color="0.6", lw=0.8, ls=":")  # the axis breaks before never
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.tick_params(axis="x", rotation=30)
        plain_log_ticks(ax.yaxis, table[table.workloads == w].edap_median)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    if missing:
        fig.text(0.01, 0.0, "no feasible design: " + "; ".join(missing), fontsize=7, va="top", wrap=True)
    fig.tight_layout()
    save_figure(fig, sweep / "deployment_edap.png")

    cases = sorted({(m, d) for m, d in zip(table.memory, table.deployment)})
    # one unit per workload set (its row), each panel its own range, so every front's extremes can be read off
    fig, axes = plt.subplots(len(sets), len(cases), figsize=(3.2 * len(cases), 2.9 * len(sets)), squeeze=False)
    cmap = plt.get_cmap("viridis")
    rates = sorted(runs.inferences_per_switch.unique())
    n_finite = sum(np.isfinite(rates))
    colour = {v: ("k" if not np.isfinite(v) else cmap(i / max(1, n_finite - 1))) for i, v in enumerate(rates)}
    units = {}
    for row, w in zip(axes, sets):
        mine = runs[(runs.workloads == w) & runs.feasible]
        row_fronts = [read_table(r / "pareto.csv") for r in mine.run]
        row_fronts = pd.concat([f for f in row_fronts if f is not None and not f.empty] or [pd.DataFrame(
            {"energy_j": [], "latency_s": []})])
        (e_unit, e_f), (t_unit, t_f) = (reader_unit(row_fronts.energy_j, "energy_j"),
                                        reader_unit(row_fronts.latency_s, "latency_s"))
        units[w] = (e_unit, t_unit)
        for ax, (memory, mode) in zip(row, cases):
            ax.set_title(f"{w}: {memory.upper()} {mode}", fontsize=8)
            sel = runs[(runs.workloads == w) & (runs.memory == memory) & (runs.deployment == mode) & runs.feasible]
            drawn = False
            shown = []
            for v in rates:
                fronts = [read_table(r / "pareto.csv") for r in sel[sel.inferences_per_switch == v].run]
                fronts = [f for f in fronts if f is not None and not f.empty]
                if not fronts:
                    continue
                pts = pd.concat(fronts)[["energy_j", "latency_s"]].drop_duplicates().to_numpy(dtype=float)
                pts = pts[nondominated(pts)]
                pts = pts[np.argsort(pts[:, 0])]
                ax.plot(pts[:, 0] * e_f, pts[:, 1] * t_f, ".-", ms=3, lw=0.8, color=colour[v])
                shown.append(pts * [e_f, t_f])
                drawn = True
            if drawn:
                ax.set(xscale="log", yscale="log")
                mine = np.vstack(shown)
                plain_log_ticks(ax.xaxis, mine[:, 0])
                plain_log_ticks(ax.yaxis, mine[:, 1])
                ax.tick_params(labelsize=7)
                ax.set_xlabel(f"energy [{e_unit}]", fontsize=7)
                ax.set_ylabel(f"delay [{t_unit}]", fontsize=7)
            else:
                ax.set_xticks([])
                ax.set_yticks([])
                ax.text(0.5, 0.5, "no feasible design", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    handles = [Line2D([], [], color=colour[v], marker=".", label=ips_label(v)) for v in rates]
    fig.legend(handles=handles, title="inferences\nper switch", loc="center right", fontsize=7, title_fontsize=7)
    fig.supxlabel("energy and delay per inference, aggregated over the networks: the front of every feasible design "
                  "the runs evaluated", fontsize=8)
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    save_figure(fig, sweep / "deployment_fronts.png")
    return ["deployment_edap.png", "deployment_fronts.png"]


def deployment_section(sweep: Path, bests: dict[Path, dict], plots: bool = True) -> tuple[str, list[str]]:
    """The report's deployment section (markdown, with its figures) and the figures' names; ``("", [])`` when no
    run names a deployment or a workload mix. Writes ``deployment.csv``."""
    runs = deployment_runs(bests)
    if runs.empty:
        return "", []
    table = deployment_table(runs)
    write_csv(sweep / "deployment.csv", table)
    shown = table.assign(inferences_per_switch=table.inferences_per_switch.map(ips_label))
    lines = ["## Deployment: resident, reprogrammed or streamed weights", "",
             "Per workload set, memory, deployment mode (`imc_moo/deployment.py`, README \"Deployment\") and "
             "switching rate (mean inferences between switches to another network; never = no switching): the "
             "median over seeds of each run's best feasible EDAP, per-inference energy and delay including the "
             "amortised switching cost. Winner: the memory and mode of least median EDAP at that rate "
             "(— : no run found a feasible design).", "", md(deployment_winners(table)), "",
             "The best run's chip per row: `switch_energy_share` / `switch_delay_share` = the fraction of its "
             "per-inference energy / delay (summed over networks) that is amortised switching; `macros` = router "
             "groups x tiles x macros per tile; `violated`: the constraints the least-violating design of an "
             "infeasible run breaks (capacity: the weights do not fit, endurance: the switches wear the cells out "
             "within the lifetime). Also in `deployment.csv`.", "", md(shown), ""]
    figures = deployment_figures(sweep, runs, table) if plots else []
    lines += [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n", figures
