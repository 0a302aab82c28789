"""The optimizer comparison against the exact yardstick (imc_moo.report.comparison): its statistics, its metrics on
known fronts, and a small optimizers sweep whose report must agree with the runs and with exhaustive()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imc_moo.problem.indicators import hypervolume
from imc_moo.report.comparison import METRICS, Yardstick, a12, anytime, holm

ROOT = Path(__file__).resolve().parents[2]
IDEAL = {"energy_j": 1e-3, "latency_s": 1e-8, "area_mm2": 1.0}
REFERENCE = {"energy_j": 1e-1, "latency_s": 1e-3, "area_mm2": 800.0}


def test_holm_adjusts_as_the_textbook_does():
    # sorted 0.01, 0.03, 0.04 -> x3, x2, x1 = 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm(np.array([0.5, 0.9])), [1.0, 1.0])


def test_a12_is_the_probability_of_being_better():
    assert a12([1, 2], [3, 4], higher_is_better=False) == 1.0
    assert a12([1, 2], [3, 4], higher_is_better=True) == 0.0
    assert a12([1, 1], [1, 1], higher_is_better=False) == 0.5
    assert a12([1, 3], [2], higher_is_better=False) == 0.5


def _archive(points, feasible=None):
    points = np.asarray(points, dtype=float)
    edap = points.prod(axis=1) * 1e3 * 1e3  # mJ * ms * mm2
    return pd.DataFrame({"eval_order": np.arange(len(points)), "feasible": feasible if feasible is not None
                         else np.ones(len(points), bool), "edap": edap, "energy_j": points[:, 0],
                         "latency_s": points[:, 1], "area_mm2": points[:, 2]})


def test_anytime_metrics_on_known_fronts():
    front = np.array([[2e-3, 1e-5, 50.0], [5e-3, 2e-6, 100.0], [1e-2, 1e-6, 20.0]])
    edap = front.prod(axis=1) * 1e6
    exact = Yardstick(best_edap=float(edap.min()), front=front, hv=hypervolume(front, IDEAL, REFERENCE),
                      n_designs=10, wall_time_s=0.0)
    worse = front * 1.5
    archive = _archive(np.vstack([[[1.0, 1.0, 1.0]], worse, front]),
                       feasible=np.array([False, True, True, True, True, True, True]))
    curve = anytime(archive, exact, IDEAL, REFERENCE, [1, 4, 7])
    first, middle, last = curve.to_dict("records")
    assert np.isposinf(first["edap_gap_pct"]) and first["hv_ratio"] == 0 and np.isposinf(first["igd_plus"])
    assert middle["edap_gap_pct"] == pytest.approx((1.5 ** 3 - 1) * 100)
    assert 0 < middle["hv_ratio"] < 1 and middle["igd_plus"] > 0
    assert last["edap_gap_pct"] == pytest.approx(0, abs=1e-9)
    assert last["hv_ratio"] == pytest.approx(1.0) and last["igd_plus"] == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def judged(finished_sweep_of):
    from imc_moo.report import report

    directory = finished_sweep_of("+experiment=optimizers", "hydra/launcher=basic", "problem=rram_cnn4",
                                  "algorithm=phased_ga_edap,nsga2,random", "budget=200", "seed=0,1,2")
    report(directory, plots=True)
    return directory


def test_the_report_judges_every_run_against_the_exact_optimum(judged):
    from imc_moo.app.config import build_problem, compose_config
    from imc_moo.problem.exhaustive import exhaustive

    finals = pd.read_csv(judged / "comparison_finals.csv")
    assert len(finals) == 9 and set(finals.label) == {"phased_ga_edap", "nsga2", "random"}
    exact = exhaustive(build_problem(compose_config(["problem=rram_cnn4", "problem.objectives=eda",
                                                  "problem.performance=reference"]).problem))
    for _, row in finals.iterrows():
        best = json.loads((judged / row.run / "best.json").read_text())
        assert best["objectives"] == "eda"  # NSGA-II ranks three objectives; the others their own view
        if best["feasible"]:
            assert row.edap_gap_pct == pytest.approx((best["edap"] / exact.best_edap - 1) * 100, rel=1e-9)
        assert 0 <= row.hv_ratio <= 1 + 1e-9
    text = (judged / "report.md").read_text()
    assert "## The optimizers against the exact yardstick" in text and "### Which algorithm for what" in text
    assert f"{exact.n_designs:,}" in text and "comparison_anytime.png" in text
    assert (judged / "comparison_anytime.png").is_file() and (judged / "comparison_fronts_rram_cnn4.png").is_file()
    tests = pd.read_csv(judged / "comparison_tests.csv")
    assert len(tests) == 3 * len(METRICS)  # 3 pairs of 3 algorithms, per metric, one problem x budget
    assert (tests.p_holm >= tests.p - 1e-12).all() and tests.a12.between(0, 1).all()


def test_the_yardstick_is_computed_once_and_a_changed_model_is_reported(judged):
    from imc_moo.report import report

    stored, = (judged / "exact").glob("*.npz")
    before = stored.stat().st_mtime_ns
    report(judged, plots=False)
    assert stored.stat().st_mtime_ns == before  # read back, not recomputed
    assert "> warning" not in (judged / "report.md").read_text()
    run = sorted(p for p in judged.iterdir() if (p / "archive.csv").is_file())[0]
    archive = pd.read_csv(run / "archive.csv")
    original = archive.copy()
    archive["edap"] = archive["edap"] * 1.01  # as if another model had scored the run
    archive.to_csv(run / "archive.csv", index=False)
    try:
        report(judged, plots=False)
        assert "the cost model changed since the sweep ran" in (judged / "report.md").read_text()
    finally:
        original.to_csv(run / "archive.csv", index=False, float_format="%.10g")
