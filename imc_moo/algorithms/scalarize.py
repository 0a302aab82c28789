"""A single-objective EDAP view of a workload-set problem, for single-objective optimizers on 3-objective problems."""

from __future__ import annotations

import numpy as np
from pymoo.core.problem import Problem

from ..problem import WorkloadSetProblem


class ScalarizedProblem(Problem):
    """Minimise the aggregated EDAP [mJ*ms*mm2] of ``base`` under the same constraints.

    Evaluation goes through ``base.evaluate_cached``, so the view shares the base problem's archive (and its
    distinct-evaluation count); unmappable designs keep the base problem's ``PENALTY``. Outputs per individual:
    ``F`` (n, 1) = EDAP, ``G`` (n, n_ieq) = base constraints, ``edap`` (n,).
    """

    def __init__(self, base: WorkloadSetProblem):
        super().__init__(n_var=base.n_var, n_obj=1, n_ieq_constr=base.n_ieq_constr, xl=base.xl, xu=base.xu,
                         vtype=int)
        self.base = base

    def _evaluate(self, X, out, *args, **kwargs):
        ev = self.base.evaluate_cached(np.rint(np.asarray(X, dtype=float)).astype(np.int64))
        out["F"] = ev.edap[:, None].copy()
        out["G"] = ev.G
        out["edap"] = ev.edap

    # -- the base problem's archive and capacity pre-check, so termination and sampling see the same problem --
    @property
    def n_evaluated(self) -> int:
        return self.base.n_evaluated

    @property
    def weights_on_chip(self) -> bool:
        return self.base.weights_on_chip

    @property
    def networks(self):
        return self.base.networks

    def designs(self, genomes: np.ndarray):
        return self.base.designs(genomes)
