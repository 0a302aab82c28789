"""The pymoo algorithms of imc-moo, configured: one builder per algorithm family, the ``_target_`` of its config.

A builder is called as ``builder(problem, budget, **knobs)`` with the
:class:`~imc_moo.problem.WorkloadSetProblem` to search and the run's budget of distinct designs, and returns either
a pymoo ``Algorithm`` (run on ``problem``) or a pair ``(algorithm, pymoo_problem)`` when the algorithm must see
another view of the problem (e.g. the EDAP view ``problem.with_objectives("edap")``; a view evaluates the same
designs, so the run's ledger caches them once). Its knobs are its keyword-only parameters; their values and types
come from ``conf/algorithm/*.yaml`` and the schemas of :mod:`imc_moo.algorithms.schemas`. Every builder takes the
config's ``name`` too (``hydra.utils.instantiate(cfg.algorithm)`` binds it): the run's algorithm name, which
:func:`~imc_moo.algorithms.driver.resolve_algorithm` reads from the partial; the builder itself ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.moo.nsga3 import NSGA3
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.util.ref_dirs import get_reference_directions

from imc_moo.algorithms.duplicates import ExactDuplicateElimination, RunDuplicateElimination
from imc_moo.algorithms.mating import ArrayMating
from imc_moo.algorithms.phased_ga import METHOD_PHASES, Phase, PhasedGA
from imc_moo.algorithms.random_search import RandomSearch
from imc_moo.algorithms.tournaments import binary_tournament, comp_by_cv_and_fitness
from imc_moo.problem.workload_set import WorkloadSetProblem


def _operators(crossover_prob: float, crossover_eta: float, mutation_prob: float, mutation_eta: float,
               avoid_revisits: bool) -> dict:
    """Integer-genome SBX/PM (variation on floats, rounded back) as GA/NSGA keyword arguments; duplicates are
    eliminated against the run's earlier designs too when ``avoid_revisits`` (:class:`RunDuplicateElimination`)."""
    return dict(sampling=IntegerRandomSampling(),
                crossover=SBX(prob=crossover_prob, eta=crossover_eta, vtype=float, repair=RoundingRepair()),
                mutation=PM(prob=mutation_prob, eta=mutation_eta, vtype=float, repair=RoundingRepair()),
                eliminate_duplicates=RunDuplicateElimination() if avoid_revisits else ExactDuplicateElimination())


def _array_mating(algorithm, mating_attempts: int):
    """The algorithm with its mating on arrays (:class:`ArrayMating`: pymoo's offspring, faster) and
    ``mating_attempts`` rounds of selection + variation per generation to find ``pop_size`` acceptable offspring
    (pymoo: 100); a generation that finds none ends the run."""
    if mating_attempts < 1:
        raise ValueError(f"mating_attempts must be >= 1, got {mating_attempts}: e.g. algorithm.mating_attempts=100")
    algorithm.mating = ArrayMating.like(algorithm.mating, n_max_iterations=int(mating_attempts), grow=True)
    return algorithm


def _phases(phases: Sequence[Phase | Mapping]) -> tuple[Phase, ...]:
    """Phases given as :class:`Phase` objects or mappings of its fields (e.g. from a YAML config)."""
    return tuple(p if isinstance(p, Phase) else Phase(**p) for p in phases)


def phased_ga(problem: WorkloadSetProblem, budget: int, *, name: str = "phased_ga", pop_size: int = 70,
              n_candidates: int = 1000, n_select: int = 500, phases: Sequence[Phase | Mapping] = METHOD_PHASES,
              hamming_init: bool = True, mutation_prob_var: float | None = None, avoid_revisits: bool = True,
              mating_attempts: int = 20, objectives: str | None = None):
    """The method's 4-phase GA with Hamming-diverse initialisation (:class:`PhasedGA`).

    The method spends 500 of its 3,300 evaluations on the initial population; a budget too small for
    ``n_select`` keeps that share instead (n_select x budget / 3,300, at least pop_size), so the phases still run.
    ``objectives`` ranks by that view of the problem (``"edap"``: the method's scalar form on a three-objective
    problem); None: the problem's own.
    """
    if hamming_init and budget <= n_select:
        n_select = max(pop_size, round(n_select * budget / 3300))
    algorithm = PhasedGA(pop_size=pop_size, n_candidates=n_candidates, n_select=n_select, phases=_phases(phases),
                         budget=budget, hamming_init=hamming_init, mutation_prob_var=mutation_prob_var,
                         avoid_revisits=avoid_revisits, mating_attempts=mating_attempts)
    return algorithm if objectives in (None, problem.objectives) else (algorithm, problem.with_objectives(objectives))


def nsga2(problem: WorkloadSetProblem, budget: int, *, name: str = "nsga2", pop_size: int = 70,
          crossover_prob: float = 0.9, crossover_eta: float = 15, mutation_prob: float = 0.9, mutation_eta: float = 20,
          avoid_revisits: bool = True, mating_attempts: int = 100) -> NSGA2:
    """NSGA-II with integer SBX/PM (pymoo's defaults), random initial population."""
    algorithm = NSGA2(pop_size=pop_size, selection=TournamentSelection(func_comp=binary_tournament),
                      **_operators(crossover_prob, crossover_eta, mutation_prob, mutation_eta, avoid_revisits))
    return _array_mating(algorithm, mating_attempts)


def cv_then_random(pop, P, random_state=None, **kwargs) -> np.ndarray:
    """NSGA-III's binary tournament for index pairs P (n, 2): lower CV wins, otherwise a coin flip -> (n, 1).

    Same rule as pymoo's ``comp_by_cv_then_random``, but CV ties are broken with the run's generator too
    (pymoo 0.6.2 draws them from an unseeded one, pymoo issue #794), so runs are reproducible."""
    cv = np.asarray(pop.get("CV"), dtype=float)[:, 0]
    a, b = P[:, 0], P[:, 1]
    coin = random_state.random(len(P)) < 0.5
    winner = np.where(cv[a] < cv[b], a, np.where(cv[b] < cv[a], b, np.where(coin, a, b)))
    return winner[:, None].astype(int)


def nsga3(problem: WorkloadSetProblem, budget: int, *, name: str = "nsga3", pop_size: int | None = None,
          n_partitions: int = 11, crossover_prob: float = 0.9, crossover_eta: float = 15, mutation_prob: float = 0.9,
          mutation_eta: float = 20, avoid_revisits: bool = True, mating_attempts: int = 100) -> NSGA3:
    """NSGA-III on Das-Dennis reference directions (3 objectives, 11 partitions: 78 directions).

    ``pop_size`` defaults to the number of directions rounded up to a multiple of 4 (80 for 3 objectives). With
    one objective there is a single direction and the population defaults to the method's 70 rounded up (72).
    """
    if problem.n_obj == 1:
        ref_dirs = np.ones((1, 1))
    else:
        ref_dirs = get_reference_directions("das-dennis", problem.n_obj, n_partitions=n_partitions)
    if pop_size is None:
        pop_size = 4 * math.ceil((len(ref_dirs) if problem.n_obj > 1 else 70) / 4)
    if pop_size < len(ref_dirs):
        raise ValueError(f"nsga3: pop_size ({pop_size}) must be >= the {len(ref_dirs)} reference directions")
    algorithm = NSGA3(ref_dirs=ref_dirs, pop_size=pop_size, selection=TournamentSelection(func_comp=cv_then_random),
                      **_operators(crossover_prob, crossover_eta, mutation_prob, mutation_eta, avoid_revisits))
    return _array_mating(algorithm, mating_attempts)


def ga(problem: WorkloadSetProblem, budget: int, *, name: str = "ga", pop_size: int = 70,
       crossover_prob: float = 0.9, crossover_eta: float = 15, mutation_prob: float = 0.9, mutation_eta: float = 20,
       avoid_revisits: bool = True, mating_attempts: int = 100):
    """pymoo's single-objective GA with integer SBX/PM; on a 3-objective problem it minimises the aggregated
    EDAP (the problem's ``with_objectives("edap")`` view)."""
    algorithm = GA(pop_size=pop_size, selection=TournamentSelection(func_comp=comp_by_cv_and_fitness),
                   **_operators(crossover_prob, crossover_eta, mutation_prob, mutation_eta, avoid_revisits))
    algorithm = _array_mating(algorithm, mating_attempts)
    return algorithm if problem.n_obj == 1 else (algorithm, problem.with_objectives("edap"))


def random_search(problem: WorkloadSetProblem, budget: int, *, name: str = "random",
                  pop_size: int = 70) -> RandomSearch:
    """Uniform random search in batches of ``pop_size``."""
    return RandomSearch(pop_size=pop_size)
