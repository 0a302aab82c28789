"""Uniform random search as a pymoo algorithm, so it runs and reports like the evolutionary ones."""

from __future__ import annotations

import numpy as np
from pymoo.algorithms.soo.nonconvex.ga import FitnessSurvival
from pymoo.core.algorithm import Algorithm
from pymoo.core.population import Population
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.operators.survival.rank_and_crowding import RankAndCrowding


class RandomSearch(Algorithm):
    """Each generation evaluates ``pop_size`` genomes drawn uniformly within the integer bounds (with
    replacement: revisits are possible but rare in large spaces). The population is the elite of everything drawn
    so far (best ``pop_size`` by feasibility, then objective / rank and crowding), which only sets pymoo's
    ``opt``; it never steers the sampling.

    A space no larger than the run's budget (its ledger's cap) is drawn *without* replacement, in a random order
    of all its designs, and the run ends when every design has been evaluated (drawing with replacement would need
    ~N ln N draws to meet the last of N designs, and never end with a budget beyond N).
    """

    def __init__(self, pop_size: int = 70, **kwargs):
        super().__init__(**kwargs)
        if pop_size < 1:
            raise ValueError(f"pop_size must be >= 1, got {pop_size}")
        self.pop_size = int(pop_size)
        self.sampling = IntegerRandomSampling()
        self.survival = None
        self.stop_reason: str | None = None
        self._order: np.ndarray | None = None  # a random order of every design of a small space, drawn in turn
        self._drawn = 0

    def _setup(self, problem, **kwargs):
        self.survival = FitnessSurvival() if problem.n_obj == 1 else RankAndCrowding()

    def _initialize_infill(self):
        xl, xu = (np.asarray(b, dtype=np.int64) for b in self.problem.bounds())
        size = int(np.prod([int(c) for c in xu - xl + 1], dtype=object))
        cap = getattr(self.evaluator, "cap", None)
        if cap is not None and size <= cap:
            self._order = self.random_state.permutation(size)
        return self._infill()

    def _infill(self):
        if self._order is None:
            return self.sampling(self.problem, self.pop_size, random_state=self.random_state)
        keys = self._order[self._drawn:self._drawn + self.pop_size]
        self._drawn += len(keys)
        if len(keys) == 0:
            self.stop_reason = "every design of the space evaluated"
            return Population.new(X=np.empty((0, self.problem.n_var)))
        xl, xu = (np.asarray(b, dtype=np.int64) for b in self.problem.bounds())
        genomes = np.column_stack(np.unravel_index(keys, tuple(xu - xl + 1))) + xl
        return Population.new(X=genomes.astype(float))

    def _initialize_advance(self, infills=None, **kwargs):
        self._keep_elite(infills)

    def _advance(self, infills=None, **kwargs):
        self._keep_elite(Population.merge(self.pop, infills))

    def _keep_elite(self, pop: Population) -> None:
        self.pop = self.survival.do(self.problem, pop, n_survive=self.pop_size, algorithm=self,
                                    random_state=self.random_state)
