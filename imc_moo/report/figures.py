"""The study report's figures, drawn to stay readable whatever the sweep.

* **One panel per problem variant x budget**, in a grid of at most :data:`MAX_COLS` columns; a figure holds as many
  rows as fit in :data:`MAX_SIDE_PX` pixels, and a sweep with more panels continues in ``<name>_2.png``, ... .
* **Short panel titles**: ``(a) rram_cnn4, 3,300 designs``; a variant's overrides (``[deployment=resident]...``) go
  on a small line below, wrapped to the panel's width.
* **One colour per algorithm label** across the report (:func:`imc_moo.report.formatting.label_palette`), one
  legend per figure, outside the panels.
* **Axes a reader uses**: energy and delay in the unit their values read in (mJ, µs, ...; per panel), log axes with a
  labelled tick near every plotted extreme (:class:`imc_moo.app.plots.ReadableLogLocator`).
* **Failures shown**: runs without a feasible design are counted on every figure that summarises runs.
"""

from __future__ import annotations

import string
import textwrap
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

#: Pixels per inch of saved figures (:func:`imc_moo.app.plots.save_figure`).
DPI = 120
#: No saved figure is more than this many pixels on a side.
MAX_SIDE_PX = 4000
#: Panels per row.
MAX_COLS = 4
#: A panel's size [inches].
PANEL_W, PANEL_H = 4.0, 3.3
#: Room for the legend on the right and the notes below [inches].
LEGEND_W, NOTE_H = 2.6, 0.7


def panel_key(row) -> tuple[str, int]:
    return row["variant"], int(row["budget"])


def split_variant(variant: str) -> tuple[str, str]:
    """``rram_cnn4[deployment=resident][mix.x=1] · mean`` -> (``rram_cnn4 · mean``, ``deployment=resident,
    mix.x=1``): the problem's name, and its overrides as a caption line."""
    if "[" not in variant:
        return variant, ""
    head, _, rest = variant.partition("[")
    body, _, tail = rest.rpartition("]")
    return head + tail, body.replace("][", ", ")


def panel_titles(keys: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str]]:
    """A short title and a caption line per panel: ``(a) rram_cnn4, 3,300 designs`` and its overrides."""
    letters = [a for a in string.ascii_lowercase] + [a + b for a in string.ascii_lowercase
                                                     for b in string.ascii_lowercase]
    budgets = {b for _, b in keys}
    out = {}
    for i, (variant, budget) in enumerate(keys):
        name, overrides = split_variant(variant)
        title = f"({letters[i]}) {name}" + (f", {budget:,} designs" if len(budgets) > 1 else "")
        out[(variant, budget)] = (title, overrides)
    return out


def columns(n_panels: int, panel_w: float = PANEL_W, legend: bool = True) -> int:
    """Panels per row: at most :data:`MAX_COLS`, and as many as fit in :data:`MAX_SIDE_PX` beside the legend."""
    fit = int((MAX_SIDE_PX / DPI - (LEGEND_W if legend else 0) - 0.3) // panel_w)
    return max(1, min(MAX_COLS, fit, n_panels))


def pages(n_panels: int, panel_w: float = PANEL_W, panel_h: float = PANEL_H, legend: bool = True) -> list[range]:
    """The panels of each figure file: as many rows of :func:`columns` as fit in :data:`MAX_SIDE_PX`."""
    rows = max(1, int((MAX_SIDE_PX / DPI - NOTE_H - 0.5) // panel_h))
    per_page = rows * columns(n_panels, panel_w, legend)
    return [range(s, min(n_panels, s + per_page)) for s in range(0, max(n_panels, 1), per_page)]


def page_name(stem: str, page: int) -> str:
    return f"{stem}.png" if page == 0 else f"{stem}_{page + 1}.png"


def new_page(count: int, panel_w: float = PANEL_W, panel_h: float = PANEL_H, legend: bool = True, **kws):
    """A figure of ``count`` panels in rows of :func:`columns` (the unused ones hidden)."""
    import matplotlib.pyplot as plt

    cols = columns(count, panel_w, legend)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * panel_w + (LEGEND_W if legend else 0),
                                                  rows * panel_h + NOTE_H), squeeze=False, **kws)
    for ax in list(axes.flat)[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat)[:count]


def set_panel_title(ax, title: str, caption: str, panel_w: float = PANEL_W, alert: str = "") -> None:
    """The panel's short title, its caption (the variant's overrides, grey) and an alert (red: runs that found no
    feasible design) stacked above the axes, each wrapped to the panel's width."""
    width = max(20, int(panel_w * 13))
    offset = 2.0  # points above the axes
    for text, colour in ((alert, "#c44e52"), (caption, "0.35")):  # bottom-up: the alert next to the data
        lines = textwrap.wrap(text, width)
        if lines:
            ax.annotate("\n".join(lines), (0, 1), xycoords="axes fraction", xytext=(0, offset),
                        textcoords="offset points", fontsize=6.5, color=colour, va="bottom", ha="left")
            offset += 8.2 * len(lines)
    ax.set_title(title, fontsize=9, loc="left", pad=offset + 3)


def finish(fig, notes: Iterable[str], legend_handles=None, legend_title: str | None = None) -> None:
    """Notes above the panels (wrapped to the figure's width), the legend outside them on the right."""
    width_in = fig.get_size_inches()[0]
    lines = []
    for note in notes:
        lines += textwrap.wrap(note, max(40, int(width_in * 15)))
    if legend_handles:
        fig.legend(handles=legend_handles, title=legend_title, loc="upper left", bbox_to_anchor=(1.0, 0.98),
                   fontsize=8, title_fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1))
    if lines:  # above the panels: below them, long upright tick labels may reach past the figure's edge
        fig.text(0.01, 1.0, "\n".join(lines), fontsize=7.5, va="bottom", ha="left")


def label_handles(palette: dict, labels: Iterable[str], marker: str = "o"):
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=palette[lab], marker=marker, linestyle="-" if marker == "" else "none",
                   markersize=6, label=lab) for lab in labels]


def log_axis(ax, which: str, values) -> None:
    """Log scale with readable ticks and a labelled tick near the least and greatest of ``values``."""
    from imc_moo.app.plots import plain_log_ticks

    getattr(ax, f"set_{which}scale")("log")
    plain_log_ticks(getattr(ax, f"{which}axis"), values)


def edap_box(sweep: Path, ok: pd.DataFrame, palette: dict, edap_label) -> list[str]:
    """``best_edap_box.png``: per panel, each label's runs (dots), the median and IQR of the feasible ones, and the
    runs that found no feasible design counted above their column."""

    from imc_moo.app.plots import save_figure

    keys = sorted({panel_key(r) for _, r in ok.iterrows()})
    titles = panel_titles(keys)
    # room below each panel for its algorithm labels: upright ones (more than 3 per panel) as long as the longest
    upright = ok.groupby(["variant", "budget"]).label.nunique().max() > 3
    panel_h = PANEL_H + (0.07 * max(len(str(lab)) for lab in ok.label) if upright else 0.4)
    made = []
    for p, panels in enumerate(pages(len(keys), panel_h=panel_h, legend=False)):
        fig, axes = new_page(len(panels), panel_h=panel_h, legend=False)
        any_failed = False
        for ax, key in zip(axes, [keys[i] for i in panels]):
            d = ok[(ok.variant == key[0]) & (ok.budget == key[1])]
            order = sorted(d.label.unique())
            feasible = d[d.feasible.astype(bool)]
            for x, lab in enumerate(order):
                runs = d[d.label == lab]
                fe = feasible[feasible.label == lab].edap.to_numpy(dtype=float)
                jitter = (np.arange(len(fe)) - (len(fe) - 1) / 2) * (0.3 / max(len(fe), 1))
                ax.scatter(x + jitter, fe, s=14, color=palette[lab], alpha=0.85, linewidth=0, zorder=2)
                if len(fe):
                    q1, med, q3 = np.quantile(fe, [0.25, 0.5, 0.75])
                    ax.plot([x, x], [q1, q3], color="0.2", lw=1.2, zorder=3)
                    ax.scatter([x], [med], marker="D", s=30, color="0.2", zorder=4)
                failed = len(runs) - len(fe)
                if failed:
                    any_failed = True
                    ax.annotate(f"{len(fe)}/{len(runs)}\nfeasible", (x, 1.0), xycoords=("data", "axes fraction"),
                                ha="center", va="top", fontsize=7, color="#c44e52")
            # labels slanted while they fit side by side, upright beyond (long labels of many algorithms)
            slant = 30 if len(order) <= 3 else 90
            ax.set_xticks(range(len(order)), order, rotation=slant, ha="right" if slant < 90 else "center",
                          fontsize=7.5)
            ax.set_xlim(-0.6, len(order) - 0.4)
            values = feasible.edap.to_numpy(dtype=float)
            if len(values):
                lo, hi = values.min(), values.max()
                ax.set_ylim(lo / 1.15, hi * (1.6 if any_failed else 1.25))
                log_axis(ax, "y", values)
            else:
                ax.set_yticks([])
                ax.text(0.5, 0.5, "no run found a feasible design", transform=ax.transAxes, ha="center", fontsize=8)
            ax.set_ylabel(edap_label(key[0]), fontsize=8)
            set_panel_title(ax, *titles[key])
        notes = ["◆ median over the runs that found a feasible design, bar: interquartile range, dots: one run each"]
        if any_failed:
            notes.append("k/n feasible (red): k of the label's n runs found a feasible design; the others are not "
                         "drawn")
        finish(fig, notes)
        name = page_name("best_edap_box", p)
        save_figure(fig, sweep / name)
        made.append(name)
    return made


def convergence(sweep: Path, banded: pd.DataFrame, counts: pd.DataFrame, palette: dict, edap_label) -> list[str]:
    """``convergence.png`` (best feasible EDAP) and ``convergence_hypervolume.png``: median and IQR band over seeds
    against distinct designs evaluated, one panel per variant x budget (its x-axis ends at that budget)."""
    import seaborn as sns

    from imc_moo.app.plots import LABELS, save_figure

    keys = sorted({(v, int(b)) for v, b in zip(banded.variant, banded.budget)})
    titles = panel_titles(keys)
    made = []
    for metric, stem, ylabel in (("best_edap", "convergence", None),
                                 ("hypervolume", "convergence_hypervolume",
                                  "hypervolume (share of the problem's box, log objectives)")):
        for p, panels in enumerate(pages(len(keys))):
            fig, axes = new_page(len(panels))
            shown = []
            for ax, key in zip(axes, [keys[i] for i in panels]):
                d = banded[(banded.variant == key[0]) & (banded.budget == key[1])].dropna(subset=[metric])
                order = sorted(d.label.unique())
                shown += [lab for lab in order if lab not in shown]
                if not d.empty:
                    sns.lineplot(data=d, x="evaluations", y=metric, hue="label", palette=palette, hue_order=order,
                                 ax=ax, estimator="median", errorbar=("pi", 50), legend=False)
                c = counts[(counts.variant == key[0]) & (counts.budget == key[1]) & (counts.feasible < counts.runs)]
                alert = "; ".join(f"{r.label}: {r.feasible}/{r.runs} runs feasible" for r in c.itertuples())
                ax.set_xlim(0, key[1])
                if d.empty:
                    ax.set_yticks([])
                    ax.text(0.5, 0.5, "no run found a feasible design" if metric == "best_edap" else "no data",
                            transform=ax.transAxes, ha="center", fontsize=8)
                elif metric == "best_edap":
                    log_axis(ax, "y", d[metric])
                ax.set_xlabel(LABELS["evaluations"], fontsize=8)
                ax.set_ylabel(ylabel or edap_label(key[0]), fontsize=8)
                set_panel_title(ax, *titles[key], alert=alert)
            notes = ["lines: median over seeds; bands: interquartile range; a run enters the EDAP curve once it has a "
                     "feasible design"]
            if metric == "hypervolume":
                notes.append("hypervolume: the share of the box between the problem's ideal and reference points "
                             "(log10 energy, delay and area; conf/problem/*.yaml hv) that the feasible designs so far "
                             "dominate; 1 would be the ideal point itself")
            finish(fig, notes, label_handles(palette, sorted(shown), marker=""), "algorithm")
            name = page_name(stem, p)
            save_figure(fig, sweep / name)
            made.append(name)
    return made


def pareto_fronts(sweep: Path, fronts: pd.DataFrame, palette: dict, aggregated: dict,
                  infeasible: list[str] = ()) -> list[str]:
    """``pareto_fronts.png``: per panel, each label's front pooled over its seeds (the non-dominated designs of
    their fronts), energy against delay in reader units, marker area proportional to chip area (from zero)."""
    from matplotlib.lines import Line2D

    from imc_moo.app.plots import reader_unit, save_figure
    from imc_moo.problem.indicators import nondominated

    keys = sorted({(v, int(b)) for v, b in zip(fronts.variant, fronts.budget)})
    titles = panel_titles(keys)
    area_max = float(pd.to_numeric(fronts.area_mm2, errors="coerce").max())
    made = []
    for p, panels in enumerate(pages(len(keys))):
        fig, axes = new_page(len(panels))
        shown = []
        for ax, key in zip(axes, [keys[i] for i in panels]):
            d = fronts[(fronts.variant == key[0]) & (fronts.budget == key[1])]
            e_unit, e_f = reader_unit(d.energy_j, "energy_j")
            t_unit, t_f = reader_unit(d.latency_s, "latency_s")
            for lab in sorted(d.label.unique()):
                pts = d[d.label == lab][["energy_j", "latency_s", "area_mm2"]].astype(float).dropna().drop_duplicates()
                pts = pts[nondominated(pts.to_numpy(dtype=float))]
                ax.scatter(pts.energy_j * e_f, pts.latency_s * t_f, s=marker_size(pts.area_mm2, area_max),
                           color=palette[lab], alpha=0.7, linewidth=0.3, edgecolor="w")
                shown += [lab] if lab not in shown else []
            over = aggregated.get(key[0], "max")
            for which, col, f in (("x", "energy_j", e_f), ("y", "latency_s", t_f)):
                v = d[col].to_numpy(dtype=float) * f
                v = v[np.isfinite(v) & (v > 0)]
                if len(v) and v.max() / v.min() >= 10:
                    log_axis(ax, which, v)
            ax.set_xlabel(f"energy [{e_unit}], {over} over networks", fontsize=8)
            ax.set_ylabel(f"delay [{t_unit}], {over} over networks", fontsize=8)
            ax.tick_params(axis="x", rotation=30)
            set_panel_title(ax, *titles[key])
        sizes = [v for v in _round_values(area_max)]
        handles = label_handles(palette, shown) + [Line2D([], [], linestyle="none", marker="o", color="0.6",
                                                          markersize=np.sqrt(marker_size(v, area_max)),
                                                          label=f"{v:g} mm²") for v in sizes]
        notes = ["each algorithm's designs on the front of any of its runs (pooled over seeds), non-dominated among "
                 "them; marker area grows linearly with chip area (legend)"]
        if infeasible:
            notes.append(f"no run found a feasible design (no panel): {', '.join(infeasible)}")
        handles = label_handles(palette, sorted(shown)) + handles[len(shown):]
        finish(fig, notes, handles, "algorithm · chip area")
        name = page_name("pareto_fronts", p)
        save_figure(fig, sweep / name)
        made.append(name)
    return made


def marker_size(area_mm2, area_max: float):
    """A marker's area [points²] for a chip area: linear in the area from zero, plus a floor so the smallest chips
    stay visible (the legend's sizes use the same rule)."""
    return 6 + 64 * np.asarray(area_mm2, dtype=float) / area_max


def _round_values(top: float) -> list[float]:
    """Three round chip areas up to ``top`` for the size legend (1, 2, 5 x 10^k)."""
    if not np.isfinite(top) or top <= 0:
        return []
    k = 10 ** np.floor(np.log10(top))
    best = max(m * k for m in (1, 2, 5) if m * k <= top)
    return [best / 4, best / 2, best]


def normalized(sweep: Path, norm: pd.DataFrame, palette: dict, missing: list[str]) -> list[str]:
    """``normalized_edap.png``: per variant (sorted), each method's EDAP on each network over the specialized
    design's, median and IQR over seeds."""
    import seaborn as sns

    from imc_moo.app.plots import save_figure

    variants = sorted(norm.variant.unique())
    keys = [(v, 0) for v in variants]
    titles = panel_titles(keys)
    made = []
    for p, panels in enumerate(pages(len(keys), panel_w=5.0, panel_h=3.6)):
        fig, axes = new_page(len(panels), panel_w=5.0, panel_h=3.6)
        shown = []
        for ax, key in zip(axes, [keys[i] for i in panels]):
            d = norm[norm.variant == key[0]]
            order = sorted(d.label.unique())
            shown += [lab for lab in order if lab not in shown]
            sns.barplot(data=d, x="workload", y="normalized_edap", hue="label", palette=palette, hue_order=order,
                        errorbar=("pi", 50), ax=ax, saturation=1, legend=False)
            ax.axhline(1.0, color="k", lw=0.8, ls="--")
            ax.set(xlabel="")
            ax.set_ylabel("EDAP on the network / specialized design's", fontsize=8)
            ax.tick_params(axis="x", rotation=30, labelsize=7.5)
            set_panel_title(ax, *titles[key], panel_w=5.0)
        notes = ["bars: median over seeds, whiskers: interquartile range; 1 (dashed) = as good as the design made "
                 "for that network alone"]
        if missing:
            notes.append(f"not shown (no feasible design or no specialized run): {', '.join(missing)}")
        finish(fig, notes, label_handles(palette, shown, marker="s"), "algorithm")
        name = page_name("normalized_edap", p)
        save_figure(fig, sweep / name)
        made.append(name)
    return made
