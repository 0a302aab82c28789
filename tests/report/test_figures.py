"""What a reader of the figures sees: every figure of a run and of a sweep report is drawn (not saved) and its
text, ticks, legends and colours are checked. One small sweep serves the module: three algorithms x two seeds on
a feasible and on an infeasible problem (area limit 1 mm²), with the specialized reference for normalized EDAP."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import matplotlib.colors
import matplotlib.text
import pandas as pd
import pytest

from imc_moo.app import plots
from imc_moo.report import label_palette, report

#: Column and config names that must never reach a reader as they are.
INTERNAL = {"label", "variant", "area_mm2", "energy_j", "latency_s", "edap", "best_edap", "normalized_edap",
            "evaluations", "hypervolume", "workload"}
ALGORITHMS = ("phased_ga", "random", "specialized")


def _capture(figures: dict):
    def save(fig, path):  # stands in for plots.save_figure: draw, keep the figure for inspection
        fig.canvas.draw()
        figures[Path(path).name] = fig
    return save


@pytest.fixture(scope="module")
def sweep(finished_sweep_of) -> Path:
    return finished_sweep_of(f"algorithm={','.join(ALGORITHMS)}", "seed=0,1", "problem.area_limit_mm2=1,800",
                             "budget=400", "plots=false", "progress=false")


@pytest.fixture(scope="module")
def report_figures(sweep) -> dict:
    figures: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "save_figure", _capture(figures))
        report(sweep)
    yield figures
    for fig in figures.values():
        plots.plt.close(fig)


def _run_figures(run: Path) -> dict:
    """pareto.png and convergence.png of one finished run, redrawn from its files as the run draws them."""
    from imc_moo.problem.indicators import best_row, pareto_front

    archive = pd.read_csv(run / "archive.csv")
    history = pd.read_csv(run / "history.csv")
    figures: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "save_figure", _capture(figures))
        plots.pareto_plot(archive, pareto_front(archive), best_row(archive), run / "pareto.png", "t", "max")
        plots.convergence_plot(history, run / "convergence.png", "t", "max")
    return figures


def _run(sweep: Path, algorithm: str, area: float, seed: int = 0) -> Path:
    for best in sweep.glob("*/best.json"):
        b = json.loads(best.read_text())
        if b["algorithm"] == algorithm and b["seed"] == seed and f"area_limit_mm2={area}" in b["problem"]:
            return best.parent
    raise AssertionError(f"no {algorithm} run with area {area}")


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]


def shown_ticks(axis) -> list[matplotlib.text.Text]:
    """The tick labels a reader sees: non-empty, inside the axis' view interval."""
    lo, hi = sorted(axis.get_view_interval())
    index = 0 if axis.axis_name == "x" else 1
    return [t for t in axis.get_ticklabels(which="both")
            if t.get_visible() and t.get_text() and lo <= t.get_position()[index] <= hi]


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def legend_colours(fig) -> dict[str, str]:
    """Legend entry -> its colour (hex), from every legend of the figure."""
    out = {}
    for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]:
        if legend is None:
            continue
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            colour = handle.get_color() if hasattr(handle, "get_color") else handle.get_facecolor()
            if not isinstance(colour, str) and len(colour) and not isinstance(colour[0], float):
                colour = colour[0]
            out[text.get_text()] = matplotlib.colors.to_hex(colour)
    return out


REPORT_FIGURES = ("best_edap_box.png", "convergence.png", "pareto_fronts.png", "normalized_edap.png")


def test_the_report_draws_every_figure(report_figures):
    assert set(REPORT_FIGURES) <= set(report_figures)


@pytest.mark.parametrize("name", REPORT_FIGURES)
def test_no_internal_names_reach_the_reader(report_figures, name):
    shown = texts(report_figures[name])
    assert not INTERNAL & set(shown), INTERNAL & set(shown)
    assert not [t for t in shown if t.startswith(("variant =", "label =", "algorithm ="))]


@pytest.fixture(scope="module")
def run_figures(sweep) -> dict:
    """pareto.png and convergence.png of a feasible and of an infeasible run."""
    figures = {}
    for area, kind in ((800, "feasible"), (1, "infeasible")):
        for name, fig in _run_figures(_run(sweep, "phased_ga", area)).items():
            figures[f"{kind} {name}"] = fig
    yield figures
    for fig in figures.values():
        plots.plt.close(fig)


@pytest.mark.parametrize("name", [*REPORT_FIGURES, "feasible pareto.png", "feasible convergence.png",
                                  "infeasible pareto.png", "infeasible convergence.png"])
def test_ticks_are_plain_numbers_that_do_not_overlap(report_figures, run_figures, name):
    fig = {**report_figures, **run_figures}[name]
    renderer = fig.canvas.get_renderer()
    for ax in visible_axes(fig):
        for axis in (ax.xaxis, ax.yaxis):
            ticks = shown_ticks(axis)
            # 10^k at decades is fine; a mantissa times 10^0 ("3x10^0") is what a narrow log range must not show
            assert not [t.get_text() for t in ticks if "times" in t.get_text()], (name, axis.axis_name)
            boxes = [t.get_window_extent(renderer) for t in ticks]
            for a, b in itertools.combinations(boxes, 2):
                # neighbours may touch at a rotated corner; no label may cover a quarter of another
                overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
                overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
                if overlap_w > 0 and overlap_h > 0:
                    assert overlap_w * overlap_h < 0.25 * min(a.width * a.height, b.width * b.height), \
                        (name, axis.axis_name, [t.get_text() for t in ticks])


def test_box_plot_data_lies_between_labelled_ticks(report_figures, sweep):
    """Every run's EDAP is inside the axis, with labelled ticks below and above the data (it used to sit below
    the lowest tick), and the marks are explained."""
    fig = report_figures["best_edap_box.png"]
    summary = pd.read_csv(sweep / "summary.csv")
    edap = summary[summary.feasible.astype(bool)].edap
    ax = next(ax for ax in visible_axes(fig) if any("area_limit_mm2=800" in t.get_text() for t in ax.texts))
    lo, hi = ax.get_ylim()
    assert lo < edap.min() and edap.max() < hi
    ticks = sorted(t.get_position()[1] for t in shown_ticks(ax.yaxis))
    assert len(ticks) >= 3
    # no run lies more than one tick step beyond the labelled ticks
    assert edap.min() >= ticks[0] / (ticks[1] / ticks[0]) and edap.max() <= ticks[-1] * (ticks[-1] / ticks[-2])
    assert any("median over the runs that found a feasible design" in t and "interquartile" in t for t in texts(fig))


def test_a_problem_without_feasible_runs_is_named_not_dropped(report_figures):
    # its panel stays, captioned with its override and saying why it is empty; the counts say how many runs
    for name in ("best_edap_box.png", "convergence.png"):
        panels = [ax for ax in visible_axes(report_figures[name])
                  if any("area_limit_mm2=1.0" in t.get_text() for t in ax.texts)]
        assert panels, name
        assert all(any("no run found a feasible design" in t.get_text() for t in ax.texts) for ax in panels), name
    assert any("rram_cnn4[area_limit_mm2=1.0]" in t and "no feasible design" in t
               for t in texts(report_figures["normalized_edap.png"]))


@pytest.mark.parametrize("name", ("best_edap_box.png", "convergence.png", "pareto_fronts.png"))
def test_axes_say_what_is_aggregated(report_figures, name):
    labels = [ax.get_ylabel() for ax in visible_axes(report_figures[name])]
    labels += [ax.get_xlabel() for ax in visible_axes(report_figures[name])]
    edap_or_objective = [lab for lab in labels if lab.startswith(("best EDAP", "energy", "delay"))]
    assert edap_or_objective and all("max over networks" in lab for lab in edap_or_objective), labels


def test_hypervolume_axis_states_its_scale(report_figures):
    fig = report_figures["convergence_hypervolume.png"]
    labels = [ax.get_ylabel() for ax in visible_axes(fig)]
    assert any(lab.startswith("hypervolume") and "share of the problem's box" in lab for lab in labels), labels
    assert any("between the problem's ideal and reference points" in t for t in texts(fig))


def test_each_algorithm_has_one_colour_in_every_figure(report_figures):
    palette = {k: matplotlib.colors.to_hex(v) for k, v in label_palette(ALGORITHMS).items()}
    seen = 0
    for name in ("convergence.png", "pareto_fronts.png", "normalized_edap.png"):
        colours = legend_colours(report_figures[name])
        for algorithm in ALGORITHMS:
            if algorithm in colours:
                assert colours[algorithm] == palette[algorithm], (name, algorithm)
                seen += 1
    assert seen >= 7  # specialized has no bar in normalized_edap (it is the reference)


def test_pareto_figure_legend_names_the_best_design(run_figures):
    fig = run_figures["feasible pareto.png"]
    legend = fig.legends[0]  # below the panels, off the data
    assert [t.get_text() for t in legend.get_texts()] == ["feasible designs", "Pareto front", "best EDAP"]
    assert all("max over networks" in ax.get_xlabel() for ax in fig.axes[:2])


def test_a_run_without_feasible_design_draws_where_the_search_went(run_figures):
    fig = run_figures["infeasible pareto.png"]
    assert any("NO feasible design" in t for t in texts(fig))
    legend = fig.legends[0]
    entries = [t.get_text() for t in legend.get_texts()]
    if "least violating" not in entries:  # it cannot be drawn when it maps no network: then the figure says so
        assert any("least violating design cannot map every network" in t for t in texts(fig))
    assert entries[0] == "infeasible designs"
    assert len(fig.axes[0].collections[0].get_offsets()) > 10  # the archive is drawn, not an empty frame
    assert any("no feasible design found" in t for t in texts(run_figures["infeasible convergence.png"]))


def test_every_run_axis_has_two_labelled_ticks(run_figures):
    for name, fig in run_figures.items():
        for ax in fig.axes:
            if ax.has_data():
                assert len(shown_ticks(ax.yaxis)) >= 2 and len(shown_ticks(ax.xaxis)) >= 2, name


@pytest.mark.parametrize("lo, hi", [(2.5, 16), (3.3, 5), (1.4, 113), (1e-7, 2e-5), (0.0154, 0.0168), (0.01, 0.1),
                                    (1e-6, 0.2), (1e-12, 1e3)])
def test_log_axes_get_three_to_eight_ticks_in_view(lo, hi):
    """Matplotlib's LogLocator left one labelled tick on a 2.5-16 axis (docs/joint_vs_baselines, sram_cnn4)."""
    ticks = [t for t in plots.ReadableLogLocator().tick_values(lo, hi) if lo <= t <= hi]
    assert 3 <= len(ticks) <= 8, ticks


def _long_history(generations: int = 2000, hv_steps: int = 900) -> pd.DataFrame:
    """A history as NSGA-II on mixed9 writes it: thousands of generations, most adding no design (repeated
    evaluation counts), no feasible design in the first ones, best EDAP in a few steps, hypervolume in many."""
    import numpy as np

    rng = np.random.default_rng(0)
    evaluations = np.minimum(np.cumsum(rng.integers(0, 4, generations)) + 70, 3300)
    evaluations[-1] = 3300
    steps = np.sort(rng.choice(np.arange(5, generations), hv_steps, replace=False))
    hypervolume = 0.5 + np.cumsum(np.isin(np.arange(generations), steps)) * 1e-4
    best = np.where(np.arange(generations) < 3, np.nan, 8.0 / (1 + np.arange(generations) // 250))
    # a count's values are equal (they describe the archive after that many designs)
    first = pd.Series(np.arange(generations)).groupby(evaluations).transform("first").to_numpy()
    return pd.DataFrame({"generation": np.arange(1, generations + 1), "phase": "", "evaluations": evaluations,
                         "best_edap": best[first], "feasible_fraction": 1.0, "hypervolume": hypervolume[first]})


def _step_value(points: pd.DataFrame, column: str, x):
    """The value a steps-post line through ``points`` shows at ``x``."""
    import numpy as np

    i = np.searchsorted(points["evaluations"].to_numpy(), x, side="right") - 1
    return points[column].to_numpy()[i]


def _draw_convergence(history: pd.DataFrame):
    """A run's convergence figure of ``history``, drawn and kept (not saved)."""
    figures: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "save_figure", _capture(figures))
        plots.convergence_plot(history, Path("convergence.png"), "t", "max")
    return figures["convergence.png"]


@pytest.mark.parametrize("column", ["best_edap", "hypervolume"])
def test_a_long_history_is_drawn_from_its_steps_up_to_its_last_point(column):
    """convergence.png of a history of thousands of generations draws a few hundred points at most, without a
    marker per generation, and its line still ends at the run's last count and value; history.csv keeps all."""
    history = _long_history()
    fig = _draw_convergence(history)
    try:
        ax = fig.axes[0 if column == "best_edap" else 1]
        (line,) = ax.get_lines()
        x, y = line.get_xdata(), line.get_ydata()
        assert len(x) <= plots.MAX_DRAWN_POINTS < len(history)
        assert line.get_marker() in (None, "None", "", " ")
        assert line.get_drawstyle() == "steps-post"
        assert x[-1] == history["evaluations"].iloc[-1] and y[-1] == history[column].iloc[-1]
        shown = history.dropna(subset=[column])
        assert x[0] == shown["evaluations"].iloc[0] and y[0] == shown[column].iloc[0]
        assert ax.get_xlim()[1] >= history["evaluations"].iloc[-1]
    finally:
        plots.plt.close(fig)


def test_step_points_keep_every_step_of_the_curve():
    """Below the point limit the downsampled line is the same step function at every count of the history."""
    history = _long_history(hv_steps=150)
    for column in ("best_edap", "hypervolume"):
        points = plots.step_points(history, column)
        shown = history.dropna(subset=[column])
        assert len(points) < len(shown)
        assert list(_step_value(points, column, shown["evaluations"].to_numpy())) == list(shown[column])
    few = plots.step_points(history, "hypervolume", max_points=40)
    assert len(few) <= 40 and few["evaluations"].iloc[-1] == history["evaluations"].iloc[-1]
    assert few["hypervolume"].iloc[-1] == history["hypervolume"].iloc[-1]


def test_a_short_history_keeps_a_marker_per_generation():
    history = _long_history(generations=plots.MARKED_GENERATIONS, hv_steps=20)
    fig = _draw_convergence(history)
    try:
        (line,) = fig.axes[1].get_lines()
        assert line.get_marker() == "o" and len(line.get_xdata()) == history["evaluations"].nunique()
    finally:
        plots.plt.close(fig)
