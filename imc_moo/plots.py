"""Seaborn figures of a run (Pareto front, convergence) and of a sweep (box plots, seed bands, fronts, bars)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, Locator, MaxNLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .problem import PENALTY  # noqa: E402

LABELS = {"energy_j": "energy [J]", "latency_s": "delay [s]", "area_mm2": "area [mm²]",
          "edap": "EDAP [mJ·ms·mm²]", "evaluations": "distinct designs evaluated", "hypervolume": "hypervolume"}


def save_figure(fig, path: Path) -> None:
    """Save atomically (a uniquely named temporary file beside ``path``, then a rename) and close."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a figure is as readable as the CSVs beside it
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


class ReadableLogLocator(Locator):
    """Log-axis ticks a reader can use: the sparsest of decades, 1-2-5 or 1-1.5-2-3-5-7 per decade that puts at
    least :attr:`MIN_TICKS` ticks in view, thinned to at most :attr:`MAX_TICKS`; linear "nice" ticks when the
    range is too narrow for any (say 3.3 to 5). Matplotlib's own LogLocator can leave a single tick in view."""

    MIN_TICKS, MAX_TICKS = 3, 8
    MANTISSAS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0))

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        lo, hi = sorted((float(vmin), float(vmax)))
        if not (lo > 0 and np.isfinite(hi)):
            return MaxNLocator(5).tick_values(lo, hi)
        decades = np.arange(np.floor(np.log10(lo)) - 1, np.ceil(np.log10(hi)) + 2)
        for mantissas in self.MANTISSAS:
            ticks = np.sort(np.outer(10.0 ** decades, mantissas).ravel())
            inside = ticks[(ticks >= lo * (1 - 1e-9)) & (ticks <= hi * (1 + 1e-9))]
            if len(inside) >= self.MIN_TICKS:
                return inside[::-(-len(inside) // self.MAX_TICKS)]
        return MaxNLocator(5).tick_values(lo, hi)


def plain_log_ticks(axis) -> None:
    """Readable log-axis ticks (:class:`ReadableLogLocator`) labelled as plain numbers (``0.5``, ``2``,
    ``1e-07``), never ``3×10⁰``."""
    axis.set_major_locator(ReadableLogLocator())
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    axis.set_minor_formatter(NullFormatter())


def _over(label: str, aggregation: str | None) -> str:
    """``energy [J]`` -> ``energy [J], max over networks`` (what the axis aggregates)."""
    return f"{label}, {aggregation} over networks" if aggregation else label


def pareto_plot(archive: pd.DataFrame, front: pd.DataFrame, best: pd.Series, path: Path, title: str = "",
                aggregation: str | None = None) -> None:
    """Pairwise energy/delay/area scatter of feasible designs, the front highlighted, the best-EDAP design starred.
    With no feasible design, the (mappable) infeasible archive is drawn and the least-violating design starred."""
    sns.set_theme(style="whitegrid", context="paper")
    pairs = [("energy_j", "latency_s"), ("energy_j", "area_mm2"), ("latency_s", "area_mm2")]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    feas = archive[archive["feasible"].astype(bool)]
    none_feasible = feas.empty
    if none_feasible:  # a result too: show where the search went (unmappable designs have no energy or delay)
        feas = archive[archive["edap"] < PENALTY]
        title = f"{title} · NO feasible design".lstrip(" ·")
    shown = "infeasible designs" if none_feasible else "feasible designs"
    starred = "least violating" if none_feasible else "best EDAP"
    for ax, (x, y) in zip(axes, pairs):
        sns.scatterplot(data=feas, x=x, y=y, ax=ax, color="0.75", s=10, linewidth=0, label=shown, legend=False)
        if not front.empty:
            sns.scatterplot(data=front, x=x, y=y, ax=ax, color="C0", s=22, label="Pareto front", legend=False)
        if best["edap"] < PENALTY:
            ax.scatter([best[x]], [best[y]], marker="*", s=220, color="C3", edgecolor="k", zorder=5, label=starred)
        if len(feas):
            ax.set(xscale=_scale(feas[x]), yscale=_scale(feas[y]))
            for axis, col in ((ax.xaxis, x), (ax.yaxis, y)):
                if _scale(feas[col]) == "linear":
                    axis.set_major_locator(MaxNLocator(4))
        ax.set(xlabel=_over(LABELS[x], aggregation if x != "area_mm2" else None),
               ylabel=_over(LABELS[y], aggregation if y != "area_mm2" else None))
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        axes[0].legend(handles, labels)
    if none_feasible and not best["edap"] < PENALTY:
        fig.text(0.01, 0.0, "the least violating design cannot map every network, so it has no energy or delay "
                 "to draw (its violations are in best.json)", fontsize=8, va="top")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def _scale(values: pd.Series) -> str:
    """Log scale for data spanning a decade or more; linear otherwise (log ticks of a narrow range crowd)."""
    lo, hi = values.min(), values.max()
    return "log" if lo > 0 and hi / lo >= 10 else "linear"


def convergence_plot(history: pd.DataFrame, path: Path, title: str = "", aggregation: str | None = None) -> None:
    """Best EDAP and hypervolume against distinct evaluations."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    if history["best_edap"].notna().any():
        sns.lineplot(data=history, x="evaluations", y="best_edap", ax=a, drawstyle="steps-post", marker="o",
                     markersize=3)
        a.set(yscale="log")
        plain_log_ticks(a.yaxis)
    else:
        a.text(0.5, 0.5, "no feasible design found", transform=a.transAxes, ha="center", va="center")
    a.set(xlabel=LABELS["evaluations"], ylabel=_over("best " + LABELS["edap"], aggregation))
    sns.lineplot(data=history, x="evaluations", y="hypervolume", ax=b, drawstyle="steps-post", marker="o",
                 markersize=3, color="C2")
    b.set(xlabel=LABELS["evaluations"], ylabel="hypervolume (log-normalised box, 0-1)")
    fig.suptitle(title)
    fig.tight_layout()  # the right panel's label otherwise runs into the left panel's ticks
    save_figure(fig, path)
