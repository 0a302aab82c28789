"""The report's figures stay readable whatever the sweep (issue 26): a sweep of 9 problem variants with long override
names, two budgets, runs that found no feasible design and a specialized reference is reported, and every figure it
draws is checked as it is saved: within its size bound (the report's 4,000 px a side, 2,000 here), no two labels
overlapping, a labelled tick within a factor 1.5 of the least and greatest value plotted on every log axis, and the
failed runs counted."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import matplotlib.image
import matplotlib.text
import numpy as np
import pandas as pd
import pytest

import imc_moo.app.plots as plots
from imc_moo.report import figures
from imc_moo.report.study import report

VARIANTS = 9
BUDGETS = (300, 1000)
LABELS = ("phased_ga", "nsga2", "random")
#: The test bounds figures tighter than the report's 4,000 px, so that a small sweep already needs two pages.
MAX_SIDE_PX = 2000


@pytest.fixture(scope="module")
def template(finished_sweep_of):
    """One real run (its files as imc-moo writes them), copied and edited into a large sweep below."""
    sweep = finished_sweep_of("budget=200", "algorithm.n_candidates=120", "algorithm.n_select=60",
                              "algorithm.pop_size=20", "plots=false", "progress=false")
    (run,) = [p.parent for p in sweep.glob("*/best.json")]
    return run


def fake_run(template: Path, where: Path, *, variant: str, budget: int, label: str, seed: int, scale: float,
             feasible: bool, specialized: dict | None = None) -> None:
    shutil.copytree(template, where, ignore=shutil.ignore_patterns(".hydra"))
    best = json.loads((template / "best.json").read_text())
    best.update(problem=variant, budget=budget, label=label, algorithm=label.split("[")[0], seed=seed,
                edap=best["edap"] * scale if feasible else None, feasible=feasible)
    best["per_workload"] = {w: {**v, "edap": v["edap"] * scale} for w, v in best["per_workload"].items()}
    if specialized is not None:
        best["specialized"] = specialized
    (where / "best.json").write_text(json.dumps(best))
    hist = pd.read_csv(template / "history.csv")
    hist["evaluations"] = np.linspace(1, budget, len(hist)).round()
    hist["best_edap"] = hist["best_edap"] * scale if feasible else np.nan
    hist.to_csv(where / "history.csv", index=False)
    front = pd.read_csv(template / "pareto.csv")
    if feasible:
        front[["energy_j", "latency_s"]] *= np.sqrt(scale)
        front.to_csv(where / "pareto.csv", index=False)
    else:
        front.iloc[:0].to_csv(where / "pareto.csv", index=False)


@pytest.fixture(scope="module")
def sweep(template, tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(0)
    best = json.loads((template / "best.json").read_text())
    spec = {w: {"edap": v["edap"] * 0.8, "design": {}, "feasible": True} for w, v in best["per_workload"].items()}
    job = 0
    for v in range(VARIANTS):
        variant = f"rram_cnn4[deployment=reprogram][mix.inferences_per_switch={10 ** (v % 7)}.0][area_limit_mm2={v}]"
        for budget in BUDGETS:
            for label in LABELS + ("specialized",):
                for seed in range(2):
                    feasible = not (label == "random" and seed == 1)  # half of random's runs find nothing
                    fake_run(template, root / f"{job}_run", variant=variant, budget=budget, label=label, seed=seed,
                             scale=float(rng.uniform(0.9, 40)), feasible=feasible,
                             specialized=copy.deepcopy(spec) if label == "specialized" else None)
                    job += 1
    return root


def text_boxes(fig):
    """Every text the figure draws, once each, with its extent: tick labels of the ticks in view only (matplotlib
    lays out labels for ticks just outside the view too, but does not draw them)."""
    renderer = fig.canvas.get_renderer()
    ticks, texts = set(), []
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update({id(tick.label1), id(tick.label2)})
                if ax.get_visible() and min(lo, hi) <= tick.get_loc() <= max(lo, hi) and tick.label1.get_visible():
                    texts.append(tick.label1)
    for text in fig.findobj(matplotlib.text.Text):
        if id(text) in ticks or (text.axes is not None and not text.axes.get_visible()):
            continue
        texts.append(text)
    boxes, seen = [], set()
    for text in texts:
        if id(text) in seen or not text.get_visible() or not text.get_text().strip():
            continue
        seen.add(id(text))
        box = text.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((text.get_text(), box))
    return boxes


def overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap by more than 1.5 px both ways."""
    fig.canvas.draw()  # labels are placed when drawn
    boxes = text_boxes(fig)
    if len(boxes) < 2:
        return []
    e = np.array([b.extents for _, b in boxes])  # x0, y0, x1, y1
    w = np.minimum(e[:, None, 2], e[None, :, 2]) - np.maximum(e[:, None, 0], e[None, :, 0])
    h = np.minimum(e[:, None, 3], e[None, :, 3]) - np.maximum(e[:, None, 1], e[None, :, 1])
    i, j = np.nonzero(np.triu((w > 1.5) & (h > 1.5), k=1))
    return [(boxes[a][0], boxes[b][0]) for a, b in zip(i, j)]


def plotted(ax, axis: str) -> np.ndarray:
    values = []
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if offsets.size:
            values.append(offsets[:, 0 if axis == "x" else 1])
    for line in ax.get_lines():
        data = np.asarray(line.get_xdata() if axis == "x" else line.get_ydata(), dtype=float)
        if data.size > 1 or line.get_marker() not in ("None", None, ""):
            values.append(data)
    v = np.concatenate(values) if values else np.array([])
    lo, hi = (ax.get_xlim() if axis == "x" else ax.get_ylim())
    return v[np.isfinite(v) & (v > 0) & (v >= min(lo, hi)) & (v <= max(lo, hi))]


def far_extremes(fig) -> list[str]:
    """Log axes whose least or greatest plotted value has no labelled tick within a factor 1.5."""
    fig.canvas.draw()
    bad = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in ("x", "y"):
            if (ax.get_xscale() if axis == "x" else ax.get_yscale()) != "log":
                continue
            values = plotted(ax, axis)
            if not len(values):
                continue
            obj = ax.xaxis if axis == "x" else ax.yaxis
            lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
            ticks = np.array([t.get_loc() for t in obj.get_major_ticks() if t.label1.get_text().strip()
                              and lo <= t.get_loc() <= hi], dtype=float)
            for extreme in (values.min(), values.max()):
                if not len(ticks) or np.min(np.abs(np.log10(ticks / extreme))) > np.log10(1.5):
                    bad.append(f"{ax.get_title(loc='left') or ax.get_title()} {axis}: {extreme:.4g} vs {ticks}")
    return bad


def report_checked(sweep: Path, max_side_px: int | None = None) -> dict:
    """Report ``sweep``, checking every figure as it is saved (within ``max_side_px``, default the report's own
    4,000 px bound): its overlapping labels, far log extremes, panel titles, axis ends, captions and legends."""
    checked = {}
    original = plots.save_figure

    def check_and_save(fig, path):
        panels = [ax for ax in fig.axes if ax.get_visible()]
        checked[Path(path).name] = {
            "overlaps": overlaps(fig), "far": far_extremes(fig),
            "titles": [ax.get_title(loc="left") for ax in panels], "xmax": [ax.get_xlim()[1] for ax in panels],
            "captions": [" ".join(t.get_text() for t in ax.texts) for ax in panels],
            "legends": len(fig.legends) + sum(ax.get_legend() is not None for ax in panels)}
        original(fig, path)

    plots.save_figure = check_and_save
    bound = figures.MAX_SIDE_PX
    figures.MAX_SIDE_PX = max_side_px or bound
    try:
        report(sweep, plots=True)
    finally:
        plots.save_figure = original
        figures.MAX_SIDE_PX = bound
    return checked


#: The studies' sweeps as tests/app/test_experiments.py runs them (the same command lines: made once per session).
STUDIES = {"deployment": ("+experiment=deployment", "seed=0", "budget=150", "problem.workloads=[resnet18,mobilenet_v3]",
                          "problem.mix.inferences_per_switch=100,null"),
           "optimizers": ("+experiment=optimizers", "seed=0", "budget=150", "problem=rram_cnn4,sram_cnn4"),
           "technology": ("+experiment=technology", "seed=0", "budget=150")}


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_every_figure_of_a_study_is_readable(finished_sweep_of, tmp_path, name):
    """The figures the synthetic sweep does not draw: the deployment section's, the optimizer comparison's (against
    the exact front), the technology front; on the studies' own (narrowed) sweeps."""
    sweep = Path(shutil.copytree(finished_sweep_of(*STUDIES[name]), tmp_path / name))
    checked = report_checked(sweep)
    own = {"deployment": "deployment_edap.png", "optimizers": "comparison_anytime.png",
           "technology": "edap_cost_front.png"}[name]
    assert own in checked, sorted(checked)
    for figure, d in checked.items():
        height, width = matplotlib.image.imread(sweep / figure).shape[:2]
        assert max(height, width) <= 4000, (figure, width, height)
        assert not d["overlaps"], (figure, d["overlaps"][:5])
        assert not d["far"], (figure, d["far"][:5])


@pytest.fixture(scope="module")
def drawn(sweep):
    """Every figure of the report, checked as it is saved (the test's tighter bound)."""
    return report_checked(sweep, MAX_SIDE_PX)


def test_every_figure_is_drawn_and_paged(drawn, sweep):
    names = set(drawn)
    for stem in ("best_edap_box", "convergence", "convergence_hypervolume", "pareto_fronts", "normalized_edap"):
        assert f"{stem}.png" in names, names
    # 18 panels (9 variants x 2 budgets) do not fit one figure of 2,000 px: the rest continue in <stem>_2.png
    assert "best_edap_box_2.png" in names


def test_no_figure_exceeds_4000_px_a_side(drawn, sweep):
    for name in drawn:
        height, width = matplotlib.image.imread(sweep / name).shape[:2]
        assert max(height, width) <= MAX_SIDE_PX, (name, width, height)


def test_no_two_labels_overlap(drawn):
    bad = {name: d["overlaps"][:5] for name, d in drawn.items() if d["overlaps"]}
    assert not bad, bad


def test_log_axes_label_a_tick_near_every_extreme(drawn):
    bad = {name: d["far"][:5] for name, d in drawn.items() if d["far"]}
    assert not bad, bad


def test_failed_runs_are_counted_on_the_figures_that_summarise_runs(sweep, drawn):
    # every panel has random runs that found nothing: the box and the convergence figures say how many
    summary = pd.read_csv(sweep / "summary.csv")
    assert (~summary.feasible.astype(bool)).sum() == VARIANTS * len(BUDGETS)
    report_md = (sweep / "report.md").read_text()
    assert "best_edap_box.png" in report_md and "best_edap_box_2.png" in report_md


def test_one_panel_per_variant_and_budget_with_short_titles(drawn):
    titles = drawn["best_edap_box.png"]["titles"] + drawn["best_edap_box_2.png"]["titles"]
    assert len(titles) == VARIANTS * len(BUDGETS)
    assert sum(t.endswith(", 300 designs") for t in titles) == VARIANTS
    assert sum(t.endswith(", 1,000 designs") for t in titles) == VARIANTS
    assert all("[" not in t and len(t) < 40 for t in titles), titles  # the overrides go to the caption line
    assert all("deployment=reprogram" in c for c in drawn["best_edap_box.png"]["captions"])


def test_convergence_axes_end_at_their_budget_and_share_one_legend(drawn):
    for name in ("convergence.png", "convergence_2.png"):
        d = drawn[name]
        for title, xmax in zip(d["titles"], d["xmax"]):
            assert xmax == (300 if title.endswith(", 300 designs") else 1000), (title, xmax)
        assert d["legends"] == 1
        # every panel counts the runs that found nothing
        assert all("random: 1/2 runs feasible" in c for c in d["captions"]), d["captions"][:2]


def test_normalized_panels_in_order(drawn):
    titles = drawn["normalized_edap.png"]["titles"]
    letters = [t.split(")")[0] for t in titles]
    assert letters == sorted(letters, key=lambda x: (len(x), x))
