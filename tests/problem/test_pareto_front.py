"""pymoo's ``pareto_front()`` / ``pareto_set()`` of a workload-set problem: the exact front by enumeration where the
space allows it (issue 25: it returned None although the package computes the exact front), once per problem; and
the Python problem's defaults are the command line's."""

from __future__ import annotations

import inspect
from pathlib import Path

import moocore
import numpy as np
import yaml

import imc_moo.problem.workload_set as workload_set
from imc_moo.paths import CONF_DIR
from imc_moo.problem import PartitionedProblem, WorkloadSetProblem
from imc_moo.problem.exhaustive import exhaustive

#: A small RRAM space around the default space's optimum (6,912 designs, 264 feasible): enumerated in a second.
SMALL = {"voltage": [0.5, 0.75], "bits_per_cell": [7, 8], "base_latency_s": [1e-9, 4e-9, 1e-8], "xbar_rows": [256, 512],
         "xbar_cols": [32, 128, 512], "router_group": [4, 8, 16, 32], "tiles_per_chip": [16, 32, 64],
         "macros_per_tile": [4, 8, 16, 32], "glb_mib": [0.5, 4], "technology_nm": [32]}


def small(objectives: str = "eda") -> WorkloadSetProblem:
    return WorkloadSetProblem("cnn4", "rram", objectives=objectives, space=SMALL)


def test_the_front_is_the_exact_non_dominated_set_of_the_space():
    problem = small()
    front = problem.pareto_front()
    assert front is not None and front.shape[1] == 3 and len(front) >= 2
    ref = exhaustive(problem)
    np.testing.assert_array_equal(front, ref.front_F)
    assert moocore.is_nondominated(front).all()
    # each row is what the problem itself says of the design pareto_set() gives for it
    F = problem.evaluate(problem.pareto_set(), return_values_of=["F"])
    np.testing.assert_array_equal(F, front)


def test_single_objective_front_is_the_least_feasible_edap():
    problem = small("edap")
    ref = exhaustive(problem)
    np.testing.assert_array_equal(problem.pareto_front(), [[ref.best_edap]])
    np.testing.assert_array_equal(problem.pareto_set(), [ref.best_genome])


def test_the_front_is_computed_once_per_problem(monkeypatch):
    calls = []
    real = workload_set.exhaustive
    monkeypatch.setattr(workload_set, "exhaustive", lambda p: calls.append(p) or real(p))
    problem = small()
    first = problem.pareto_front()
    problem.pareto_set()
    problem.nadir_point(), problem.ideal_point()
    assert len(calls) == 1
    np.testing.assert_array_equal(problem.pareto_front(), first)
    # another objective space is another front (pymoo's memo is not shared with the copy)
    assert problem.with_objectives("edap").pareto_front().shape == (1, 1)
    assert len(calls) == 2


def test_no_front_where_it_is_not_known_exactly():
    problem = small()
    assert problem.pareto_front(max_designs=problem.space.size - 1) is None  # too large to enumerate
    assert small("edap_cost").pareto_front() is None  # the enumeration keeps the (E, D, A) front only
    assert PartitionedProblem("cnn4", "rram", partitions=2).pareto_front() is None


def test_python_defaults_are_the_command_lines():
    """``WorkloadSetProblem()`` is the default problem of ``imc-moo`` (conf/problem/rram_cnn4.yaml) key by key."""
    conf = yaml.safe_load((Path(CONF_DIR) / "problem" / "rram_cnn4.yaml").read_text())
    params = inspect.signature(WorkloadSetProblem).parameters
    shared = [k for k, v in conf.items() if k in params and not isinstance(v, (dict, list)) and k != "name"]
    assert {"objectives", "aggregation", "area_limit_mm2", "memory", "workloads", "performance"} <= set(shared)
    assert {k: params[k].default for k in shared} == {k: conf[k] for k in shared}
