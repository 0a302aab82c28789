"""WorkloadSetProblem with pymoo's default (float) operators: a float genome decodes as it evaluates (rounded), and
one call turns a pymoo result into a table of designs."""

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize

from imc_moo.hardware import DesignError
from imc_moo.problem import PENALTY, ProblemError, WorkloadSetProblem


def test_a_float_genome_decodes_as_it_evaluates():
    problem = WorkloadSetProblem("cnn4", memory="rram", objectives="eda")
    res = minimize(problem, NSGA2(pop_size=20), ("n_gen", 3), seed=0)
    X, F = res.pop.get("X"), res.pop.get("F")  # the last population (feasible or not)
    assert X.dtype.kind == "f" and not np.array_equal(X, np.rint(X))  # pymoo's own float genomes
    decoded = problem.space.decode(X)  # used to raise DesignError: genomes must hold integer value indices
    assert decoded.equals(problem.space.decode(np.rint(X).astype(np.int64)))
    table = problem.table(X)
    assert len(table) == len(X)
    mapped = F[:, 0] < PENALTY  # pymoo sees PENALTY where a network cannot be mapped; the table the model's numbers
    np.testing.assert_array_equal(table[["energy_j", "latency_s", "area_mm2"]].to_numpy()[mapped], F[mapped])
    np.testing.assert_array_equal(table["mappable"], mapped)  # and no sentinel: NaN where there is no EDAP
    assert table["edap"][~mapped].isna().all() and table["edap"][mapped].notna().all()
    with pytest.raises(DesignError, match="finite"):
        problem.space.decode(np.full((1, problem.n_var), np.nan))


def test_a_result_without_designs_is_one_line():
    class Empty:
        X = None

    with pytest.raises(ProblemError, match="res.X is None"):
        WorkloadSetProblem("resnet18").table(Empty())


def test_pymoo_problem_keywords_pass_through_and_others_are_named():
    problem = WorkloadSetProblem("resnet18", replace_nan_values_by=1e30, exclude_from_serialization=["networks"])
    assert problem.replace_nan_values_by == 1e30  # used to raise TypeError: unexpected keyword argument
    with pytest.raises(ProblemError, match="unknown keyword.s. n_var: the problem sets n_var"):
        WorkloadSetProblem("resnet18", n_var=3)
