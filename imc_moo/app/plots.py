"""Figures of a run (Pareto front, convergence) and what the sweep figures of :mod:`imc_moo.report` share.

A run's figures are drawn with matplotlib alone in seaborn's look (:data:`THEME`, seaborn 0.13's
``set_theme(style="whitegrid", context="paper")`` spelled out, and the calls seaborn's ``scatterplot`` and
``lineplot`` make): importing seaborn, and scipy.stats with it, would cost every run about half a second. The
sweep report (:mod:`imc_moo.report`) draws with seaborn.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.ticker import Formatter, Locator, MaxNLocator, NullFormatter, NullLocator

from imc_moo.files import write_atomic

LABELS = {"energy_j": "energy [J]", "latency_s": "delay [s]", "area_mm2": "area [mm²]",
          "edap": "EDAP [mJ·ms·mm²]", "evaluations": "distinct designs evaluated", "hypervolume": "hypervolume"}


#: seaborn's "deep" palette (its default), the colour cycle of every figure.
DEEP = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd")
#: The rcParams seaborn 0.13's ``set_theme(style="whitegrid", context="paper")`` sets (axes_style("whitegrid"),
#: plotting_context("paper"), font family, the "deep" colour cycle; not its colormap ``rocket``, which only seaborn
#: registers and no run figure uses).
THEME = {
    # axes_style("whitegrid")
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True, "xtick.top": False,
    "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True, "axes.spines.top": True,
    "xtick.bottom": False, "ytick.left": False,
    # plotting_context("paper"): the "notebook" sizes x 0.8
    "axes.linewidth": 1.0, "grid.linewidth": 0.8, "lines.linewidth": 1.2000000000000002,
    "lines.markersize": 4.800000000000001, "patch.linewidth": 0.8, "xtick.major.width": 1.0,
    "ytick.major.width": 1.0, "xtick.minor.width": 0.8, "ytick.minor.width": 0.8,
    "xtick.major.size": 4.800000000000001, "ytick.major.size": 4.800000000000001, "xtick.minor.size": 3.2,
    "ytick.minor.size": 3.2, "font.size": 9.600000000000001, "axes.labelsize": 9.600000000000001,
    "axes.titlesize": 9.600000000000001, "xtick.labelsize": 8.8, "ytick.labelsize": 8.8, "legend.fontsize": 8.8,
    "legend.title_fontsize": 9.600000000000001,
    # set_palette("deep")
    "axes.prop_cycle": cycler("color", [matplotlib.colors.to_rgb(c) for c in DEEP]),
}
#: seaborn's colour code "k" (set_theme remaps matplotlib's shorthand colours to its palette's).
DARK = (0.1, 0.1, 0.1)


def set_theme() -> None:
    """The run figures' look (:data:`THEME`), as ``seaborn.set_theme(style="whitegrid", context="paper")`` sets it."""
    matplotlib.rcParams.update(THEME)


def save_figure(fig, path: Path) -> None:
    """Save (:func:`imc_moo.files.write_atomic`: the old figure or the whole new one) and close."""
    path = Path(path)
    try:
        write_atomic(path, lambda fh: fig.savefig(fh, format=path.suffix.lstrip("."), dpi=120, bbox_inches="tight"))
    finally:
        plt.close(fig)


class ReadableLogLocator(Locator):
    """Log-axis ticks a reader can use: the sparsest of decades, 1-2-5 or 1-1.5-2-3-5-7 per decade that puts at
    least :attr:`MIN_TICKS` ticks in view, thinned to at most :attr:`MAX_TICKS`; linear "nice" ticks when the
    range is too narrow for any (say 3.3 to 5). Matplotlib's own LogLocator can leave a single tick in view.

    ``extremes``: the plotted data's least and greatest values. Where no tick lies within :attr:`NEAR` (a factor)
    of one, a tick is added at it (3 significant digits), and the regular ticks too close to it to keep their
    labels apart are dropped: the best EDAP of a figure can then be read off its axis."""

    MIN_TICKS, MAX_TICKS = 3, 8
    MANTISSAS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0))
    #: An extreme is readable off the axis when a labelled tick lies within this factor of it.
    NEAR = 1.25
    #: Ticks closer than this share of the axis's log span to an added extreme tick are dropped (labels apart).
    CLEARANCE = 0.1

    def __init__(self, extremes: tuple[float, ...] = ()):
        self.extremes = tuple(float(e) for e in extremes if np.isfinite(e) and e > 0)

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        lo, hi = sorted((float(vmin), float(vmax)))
        if not (lo > 0 and np.isfinite(hi)):
            return MaxNLocator(5).tick_values(lo, hi)
        decades = np.arange(np.floor(np.log10(lo)) - 1, np.ceil(np.log10(hi)) + 2)
        ticks = MaxNLocator(5).tick_values(lo, hi)
        for mantissas in self.MANTISSAS:
            grid = np.sort(np.outer(10.0 ** decades, mantissas).ravel())
            inside = grid[(grid >= lo * (1 - 1e-9)) & (grid <= hi * (1 + 1e-9))]
            if len(inside) >= self.MIN_TICKS:
                ticks = inside[::-(-len(inside) // self.MAX_TICKS)]
                break
        return self._with_extremes(np.asarray(ticks, dtype=float), lo, hi)

    def _with_extremes(self, ticks: np.ndarray, lo: float, hi: float) -> np.ndarray:
        span = np.log10(hi / lo) if hi > lo else 1.0
        for e in self.extremes:
            if not lo * (1 - 1e-9) <= e <= hi * (1 + 1e-9):
                continue
            shown = ticks[ticks > 0]
            if len(shown) and np.min(np.abs(np.log10(shown / e))) <= np.log10(self.NEAR):
                continue
            mark = float(f"{e:.3g}")
            apart = np.abs(np.log10(np.where(ticks > 0, ticks, 1) / mark)) >= self.CLEARANCE * span
            ticks = ticks[(ticks <= 0) | apart]
            ticks = np.sort(np.append(ticks, mark))
        return ticks


class PlainFormatter(Formatter):
    """Tick labels as plain numbers (:func:`plain_number`), with as many significant digits as it takes for
    neighbouring labels to differ (15.55 and 15.6, not 15.6 twice) on a narrow range."""

    def __call__(self, value, pos=None):
        return plain_number(value)

    def format_ticks(self, values):
        for digits in range(3, 8):
            labels = [plain_number(v, digits) for v in values]
            if len(set(labels)) == len(labels):
                return labels
        return labels


def plain_log_ticks(axis, extremes=()) -> None:
    """Readable log-axis ticks (:class:`ReadableLogLocator`, with a tick near each of ``extremes``: the plotted
    values' least and greatest) labelled as plain numbers (``0.5``, ``2``, ``1e-07``), never ``3×10⁰``."""
    values = np.asarray(list(extremes), dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    axis.set_major_locator(ReadableLogLocator((values.min(), values.max()) if len(values) else ()))
    axis.set_major_formatter(PlainFormatter())
    no_minor_ticks(axis)


#: The units a reader uses per quantity, largest first: (name, factor from the SI value).
READER_UNITS = {"energy_j": (("J", 1.0), ("mJ", 1e3), ("µJ", 1e6), ("nJ", 1e9), ("pJ", 1e12)),
                "latency_s": (("s", 1.0), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9)),
                "power_w": (("kW", 1e-3), ("W", 1.0), ("mW", 1e3), ("µW", 1e6))}


def reader_unit(values, quantity: str) -> tuple[str, float]:
    """The unit of ``quantity`` (a key of :data:`READER_UNITS`) in which the median of ``values`` (SI) reads
    from 1 to 1,000, and its factor: ``reader_unit(latencies_s, "latency_s") -> ("ms", 1e3)``."""
    units = READER_UNITS[quantity]
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return units[0] if quantity != "power_w" else units[1]
    median = float(np.median(v))
    for name, factor in units:
        if median * factor >= 1.0:
            return name, factor
    return units[-1]


def plain_number(value: float, digits: int = 3) -> str:
    """A tick label: ``digits`` significant digits (``0.5``, ``2``, ``1e-07``), whole numbers from 1,000 to 10^7 in
    full with thousands separators (``3,300``, not ``3.3e+03``)."""
    if 1e3 <= abs(value) < 1e7 and float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def no_minor_ticks(axis) -> None:
    """No minor ticks: the theme draws no tick marks (whitegrid) and grid lines only at major ticks, so a log
    axis's minor ticks are invisible, yet laying out their (empty) labels is a third of a figure's drawing time."""
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def _over(label: str, aggregation: str | None) -> str:
    """``energy [J]`` -> ``energy [J], max over networks`` (what the axis aggregates)."""
    return f"{label}, {aggregation} over networks" if aggregation else label


def pareto_plot(archive: pd.DataFrame, front: pd.DataFrame, best: pd.Series, path: Path, title: str = "",
                aggregation: str | None = None) -> None:
    """Pairwise energy/delay/area scatter of feasible designs, the front highlighted, the best-EDAP design starred.
    With no feasible design, the (mappable) infeasible archive is drawn and the least-violating design starred."""
    set_theme()
    pairs = [("energy_j", "latency_s"), ("energy_j", "area_mm2"), ("latency_s", "area_mm2")]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    feas = archive[archive["feasible"].astype(bool)]
    none_feasible = feas.empty
    if none_feasible:  # a result too: show where the search went (unmappable designs have no energy or delay)
        feas = archive[archive["mappable"].astype(bool)]
        title = f"{title} · NO feasible design".lstrip(" ·")
    shown = "infeasible designs" if none_feasible else "feasible designs"
    starred = "least violating" if none_feasible else "best EDAP"
    # energy and delay in the units their values read in (mJ, ms, ...), as the console line gives them
    units = {"area_mm2": ("mm²", 1.0), **{k: reader_unit(feas[k], k) for k in ("energy_j", "latency_s")}}
    names = {"energy_j": "energy", "latency_s": "delay", "area_mm2": "area"}

    def scaled(table):
        return table.assign(**{k: table[k] * f for k, (_, f) in units.items() if k in table})

    feas, front = scaled(feas), scaled(front) if not front.empty else front
    best = best.copy()
    for k, (_, f) in units.items():
        best[k] = best[k] * f if pd.notna(best[k]) else best[k]
    for ax, (x, y) in zip(axes, pairs):
        _scatter(ax, feas, x, y, color="0.75", s=10, linewidth=0, label=shown)
        if not front.empty:
            _scatter(ax, front, x, y, color="C0", s=22, label="Pareto front")
        if bool(best["mappable"]):
            ax.scatter([best[x]], [best[y]], marker="*", s=220, color="C3", edgecolor=DARK, zorder=5, label=starred)
        if len(feas):
            ax.set(xscale=_scale(feas[x]), yscale=_scale(feas[y]))
            for axis, col in ((ax.xaxis, x), (ax.yaxis, y)):
                if _scale(feas[col]) == "linear":
                    axis.set_major_locator(MaxNLocator(4))
                else:
                    plain_log_ticks(axis, feas[col])
        ax.set(xlabel=_over(f"{names[x]} [{units[x][0]}]", aggregation if x != "area_mm2" else None),
               ylabel=_over(f"{names[y]} [{units[y][0]}]", aggregation if y != "area_mm2" else None))
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:  # below the panels, never over the designs
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), frameon=False)
    if none_feasible and not bool(best["mappable"]):
        fig.text(0.01, 0.0, "the least violating design cannot map every network, so it has no energy or delay "
                 "to draw (its violations are in best.json)", fontsize=8, va="top")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def _scatter(ax, data: pd.DataFrame, x: str, y: str, **kws) -> None:
    """What ``seaborn.scatterplot(data=data, x=x, y=y, ax=ax, legend=False, **kws)`` draws: the rows with both
    values, white marker edges of width 0.08 sqrt(size) unless given."""
    both = data[[x, y]].dropna()
    if both.empty:
        return
    kws.setdefault("edgecolor", "w")
    points = ax.scatter(x=both[x], y=both[y], **kws)
    if "linewidth" not in kws:
        points.set_linewidths(0.08 * np.sqrt(np.percentile(points.get_sizes(), 10)))


def _scale(values: pd.Series) -> str:
    """Log scale for data spanning a decade or more; linear otherwise (log ticks of a narrow range crowd)."""
    lo, hi = values.min(), values.max()
    return "log" if lo > 0 and hi / lo >= 10 else "linear"


#: A run history of more generations than this is drawn without a marker per generation (a row of markers
#: thousands long is a thick line, not information) and from its step changes only (:func:`step_points`).
MARKED_GENERATIONS = 150
#: At most this many points per curve of a long history (:func:`step_points`): a few per pixel column.
MAX_DRAWN_POINTS = 400


def step_points(history: pd.DataFrame, column: str, max_points: int = MAX_DRAWN_POINTS) -> pd.DataFrame:
    """The rows of ``history`` a steps-post line of ``column`` against ``evaluations`` needs to look as it does
    drawn from every row: one row per evaluation count (its last: a run's generations that add no design repeat
    the count and its values), then the rows where the value changes, the first and the last (where the line
    ends), so the drawn path is the same. Beyond ``max_points`` rows, the first and the last change in each of
    ``max_points // 2`` equal slices of the evaluation range (steps less than a pixel apart merge). Rows without
    a value (NaN: no feasible design yet) are dropped, as the line skips them."""
    data = history[["evaluations", column]].dropna()
    if data.empty:
        return data.reset_index(drop=True)
    per = data.groupby("evaluations", sort=True)[column].last().reset_index()
    x, y = per["evaluations"].to_numpy(dtype=float), per[column].to_numpy(dtype=float)
    keep = np.ones(len(per), dtype=bool)
    keep[1:-1] = y[1:-1] != y[:-2]  # a step: the value differs from the previous row's
    rows = np.flatnonzero(keep)
    if len(rows) > max_points:
        slices = np.minimum(((x[rows] - x[0]) / max(x[-1] - x[0], 1e-300) * (max_points // 2)).astype(int),
                            max_points // 2 - 1)
        edges = np.r_[True, slices[1:] != slices[:-1]] | np.r_[slices[1:] != slices[:-1], True]
        rows = rows[edges]
    return per.iloc[rows].reset_index(drop=True)


def _convergence_line(history: pd.DataFrame, column: str, ax, **kws) -> None:
    """``column`` against distinct evaluations as a step line: every generation with a marker, or a long history
    from its step changes (:func:`step_points`) without markers."""
    if len(history) <= MARKED_GENERATIONS:
        data, style = history, {"marker": "o", "markersize": 3}
    else:
        data, style = step_points(history, column), {}
    _lineplot(ax, data, "evaluations", column, drawstyle="steps-post", **style, **kws)


def _lineplot(ax, data: pd.DataFrame, x: str, y: str, **kws) -> None:
    """What ``seaborn.lineplot(data=data, x=x, y=y, ax=ax, errorbar=None, **kws)`` draws: the rows with both values
    sorted by x, the mean of y where an x repeats, white marker edges (width 0.75). (seaborn's default 95 % band
    is left out: a run's repeated evaluation counts have equal values, so it had zero height, and its bootstrap
    took ~5 ms per repeated count.)"""
    data = data[[x, y]].dropna().sort_values([x, y])
    if data.empty:
        return
    if data[x].duplicated().any():
        data = data.groupby(x, sort=True)[y].mean().reset_index()
    kws.setdefault("markeredgewidth", 0.75)
    kws.setdefault("markeredgecolor", "w")
    ax.plot(data[x], data[y], **kws)


def convergence_plot(history: pd.DataFrame, path: Path, title: str = "", aggregation: str | None = None) -> None:
    """Best EDAP and hypervolume against distinct evaluations (a long history drawn from its step changes,
    :func:`step_points`; history.csv keeps every generation)."""
    set_theme()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    if history["best_edap"].notna().any():
        _convergence_line(history, "best_edap", a)
        a.set(yscale="log")
        plain_log_ticks(a.yaxis, history["best_edap"])
    else:
        a.text(0.5, 0.5, "no feasible design found", transform=a.transAxes, ha="center", va="center")
    a.set(xlabel=LABELS["evaluations"], ylabel=_over("best " + LABELS["edap"], aggregation))
    _convergence_line(history, "hypervolume", b, color="C2")
    b.set(xlabel=LABELS["evaluations"], ylabel="hypervolume\n(share of the problem's box, log objectives)")
    fig.suptitle(title)
    fig.tight_layout()  # the right panel's label otherwise runs into the left panel's ticks
    save_figure(fig, path)


def chip_plot(partitions: list[dict], path: Path, title: str = "") -> None:
    """A partitioned chip drawn as its partitions (``best.json``'s ``partitions``): one block per partition, its
    width its share of the chip's area, labelled with its memory, crossbar, macros, buffer bank, area and deployment,
    and the networks placed on it."""
    set_theme()
    total = sum(p["area_mm2"] for p in partitions) or 1.0
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    x = 0.0
    colours = {"rram": DEEP[0], "sram": DEEP[1]}
    for p in partitions:
        width = p["area_mm2"] / total
        ax.add_patch(matplotlib.patches.Rectangle((x, 0), width, 1, facecolor=colours.get(p["memory"], DEEP[7]),
                                                  alpha=0.35, edgecolor=DARK, linewidth=1.0))
        head = (f"p{p['partition']}: {p['memory'].upper()} {p['crossbar']}"
                + (f", {p['bits_per_cell']} b/cell" if p["memory"] == "rram" else "")
                + f"\n{p['macros']:,} macros, {p['glb_mib']:g} MiB\n{p['area_mm2']:.3g} mm², {p['deployment']}")
        ax.text(x + width / 2, 0.95, head, ha="center", va="top", fontsize=7.5)
        ax.text(x + width / 2, 0.45, "\n".join(p["networks"]), ha="center", va="center", fontsize=8, weight="bold")
        x += width
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_xlabel(f"chip area {total:.4g} mm² (block widths: each partition's share)")
    if title:
        ax.set_title(title)
    save_figure(fig, path)
