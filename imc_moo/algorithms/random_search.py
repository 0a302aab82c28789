"""Uniform random search as a pymoo algorithm, so it runs and reports like the evolutionary ones."""

from __future__ import annotations

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
    """

    def __init__(self, pop_size: int = 70, **kwargs):
        super().__init__(**kwargs)
        if pop_size < 1:
            raise ValueError(f"pop_size must be >= 1, got {pop_size}")
        self.pop_size = int(pop_size)
        self.sampling = IntegerRandomSampling()
        self.survival = None

    def _setup(self, problem, **kwargs):
        self.survival = FitnessSurvival() if problem.n_obj == 1 else RankAndCrowding()

    def _initialize_infill(self):
        return self._infill()

    def _infill(self):
        return self.sampling(self.problem, self.pop_size, random_state=self.random_state)

    def _initialize_advance(self, infills=None, **kwargs):
        self._keep_elite(infills)

    def _advance(self, infills=None, **kwargs):
        self._keep_elite(Population.merge(self.pop, infills))

    def _keep_elite(self, pop: Population) -> None:
        self.pop = self.survival.do(self.problem, pop, n_survive=self.pop_size, algorithm=self,
                                    random_state=self.random_state)
