"""Random search on a space no larger than its budget: every design once, then it stops (it used to draw with
replacement forever)."""

import numpy as np

from imc_moo.algorithms import run_algorithm
from imc_moo.problem import WorkloadSetProblem
from imc_moo.problem.space import space_lists


def test_random_search_evaluates_a_small_space_once_and_stops():
    lists = {k: v for k, v in space_lists("rram").items() if k != "name"}
    lists.update(voltage=[0.5, 0.6], xbar_rows=[64, 128, 256], **{k: [lists[k][0]] for k in
                 ("bits_per_cell", "base_latency_s", "xbar_cols", "router_group", "tiles_per_chip",
                  "macros_per_tile", "glb_mib")})
    problem = WorkloadSetProblem("resnet18", memory="rram", space=lists, objectives="edap")
    assert problem.space.size == 6
    result = run_algorithm("random", problem, budget=50, seed=3, pop_size=4)
    assert result.evaluations == 6 and "every design of the space evaluated" in result.stop_reason
    genomes = result.archive[list(problem.space.names)]
    assert len(np.unique(genomes.to_numpy(), axis=0)) == 6
    # a budget below the space size draws as before (with replacement, the budget ends it)
    assert run_algorithm("random", problem, budget=5, seed=3, pop_size=4).evaluations == 5
