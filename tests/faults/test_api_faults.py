"""API calls: the Python entry points raise a ``ValueError`` subclass with one line naming the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imc_moo import evaluate
from imc_moo.algorithms import run_algorithm
from imc_moo.problem import WorkloadSetProblem

ROOT = Path(__file__).resolve().parents[2]


DESIGN = dict(voltage=0.8, bits_per_cell=2, base_latency_s=1e-9, xbar_rows=256, xbar_cols=256, router_group=16,
              tiles_per_chip=16, macros_per_tile=16, glb_mib=4, technology_nm=32)


def _designs(**change) -> pd.DataFrame:
    return pd.DataFrame([{**DESIGN, **change}])


@pytest.fixture(scope="module")
def problem():
    return WorkloadSetProblem("cnn4", "rram", "edap")


API_CALLS = [
    ("unknown set", lambda p: WorkloadSetProblem("cnn5", "rram", "edap"), "unknown workload 'cnn5'"),
    ("unknown memory", lambda p: WorkloadSetProblem("cnn4", "flash", "edap"), "unknown memory 'flash'"),
    ("unknown objectives", lambda p: WorkloadSetProblem("cnn4", "rram", "speed"), "unknown objectives 'speed'"),
    ("unknown aggregation", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", aggregation="median"),
     "unknown aggregation 'median'"),
    ("negative area", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", area_limit_mm2=-1),
     "area_limit_mm2 must be a positive number"),
    ("unknown space", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", space="flash"),
     "unknown design-space variant 'flash'"),
    ("unknown gene", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", space={"xbar": [128]}),
     "unknown design parameter 'xbar'"),
    ("unsupported node", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", technology_nm=65),
     "technology_nm=65 is not supported"),
    ("workloads not a list", lambda p: WorkloadSetProblem(3, "rram", "edap"), "workloads must be a name"),
    ("unknown algorithm", lambda p: run_algorithm("annealing", p, budget=100), "unknown algorithm 'annealing'"),
    ("zero budget", lambda p: run_algorithm("nsga2", p, budget=0), "budget must be a positive number"),
    ("negative seed", lambda p: run_algorithm("nsga2", p, budget=100, seed=-1), "seed must be an integer"),
    ("unknown knob", lambda p: run_algorithm("nsga2", p, budget=100, popsize=3), "unknown option(s) popsize"),
    ("knob type", lambda p: run_algorithm("nsga2", p, budget=100, pop_size="x"), "algorithm.pop_size: Value 'x'"),
    ("baseline as inner search", lambda p: run_algorithm("specialized", p, budget=100, inner="sequential"),
     "inner search 'sequential' is a baseline"),
    ("unknown inner knob", lambda p: run_algorithm("largest_workload", p, budget=100, inner={"popsize": 3}),
     "unknown option(s) popsize for the inner search 'phased_ga' of algorithm 'largest_workload'"),
    ("inner knob type", lambda p: run_algorithm("specialized", p, budget=100, inner={"pop_size": "x"}),
     "algorithm.inner.pop_size: Value 'x'"),
    ("design not a table", lambda p: evaluate(DESIGN, "cnn4"), "designs must be a pandas DataFrame"),
    ("design column missing", lambda p: evaluate(_designs().drop(columns="xbar_rows"), "cnn4"),
     "design table lacks columns ['xbar_rows']"),
    ("design value negative", lambda p: evaluate(_designs(xbar_rows=-3), "cnn4"), "xbar_rows=-3 is not a positive"),
    ("design value text", lambda p: evaluate(_designs(voltage="high"), "cnn4"), "voltage=high is not a positive"),
    ("unknown performance model", lambda p: evaluate(_designs(), "cnn4", performance="fast"),
     "unknown performance model 'fast'"),
    ("a bound that is not a number", lambda p: evaluate(_designs(), "cnn4", bounds={"dram_bytes_per_s": "fast"}),
     "problem.bounds.dram_bytes_per_s='fast' is not a positive number"),
    ("design value off table", lambda p: evaluate(_designs(xbar_rows=100), "cnn4"), "xbar_rows=100 is outside"),
    ("bits per cell for sram", lambda p: evaluate(_designs(), "cnn4", "sram"), "bits_per_cell=2 is not possible"),
    ("unknown network", lambda p: evaluate(_designs(), "resnet19"), "unknown workload 'resnet19'"),
]


@pytest.mark.parametrize("call, needle", [(c, n) for _, c, n in API_CALLS], ids=[i for i, _, _ in API_CALLS])
def test_api_calls_raise_one_readable_line(problem, call, needle):
    with pytest.raises(ValueError) as info:
        call(problem)
    message = str(info.value)
    assert needle in message and "\n" not in message, message




def test_shares_near_the_float_maximum_are_normalised_not_overflowed():
    """mix.shares=[1e308, 1.7e308, 1, 1] summed to inf, so every share became 0 and the mean EDAP 0 (exit 0)."""
    import numpy as np

    from imc_moo.problem import WorkloadSetProblem

    huge = WorkloadSetProblem("cnn4", "rram", "edap", aggregation="mean",
                              mix={"shares": [1e308, 1.7e308, 1, 1]})
    shares = huge.deployment.shares
    assert np.isfinite(shares).all() and shares.sum() == pytest.approx(1.0)
    assert shares[:2] == pytest.approx([1 / 2.7, 1.7 / 2.7]) and (shares[2:] > 0).all()
    genomes = huge.space.sample(50, np.random.default_rng(0))
    edap = huge.evaluate_genomes(genomes).edap
    assert np.isfinite(edap).all() and (edap > 0).all()
