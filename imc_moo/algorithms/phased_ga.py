"""The method's four-phase genetic algorithm with Hamming-diverse initialisation (METHOD.md §4), as one pymoo
algorithm.

Run structure (one ``minimize`` call, one random generator):

1. Initial population: evaluate all K Hamming-selected designs (:class:`HammingDiverseSampling`; K = 500 of
   N = 1000 by default) and keep the best ``pop_size`` (feasibility first, then objective).
2. Phases 1..n, each with its own SBX/PM parameters (:data:`METHOD_PHASES`): an elitist GA with pymoo's
   selection and survival (GA: tournament on (CV, F) + fitness survival for one objective; NSGA-II: tournament on
   (CV, domination, crowding) + rank-and-crowding survival for several).
3. Every phase after the first restarts from the best ``pop_size`` designs of everything evaluated so far in the
   run, ranked by the problem's own objective(s), feasibility first, like the method's archive restart but without
   its ranking bug (METHOD.md §8.3: the original ranked by the last workload only).

Phase lengths. The original ran 10 generations of 70 per phase: 3,300 nominal calls, but only ~900-1,150 distinct
designs, because revisited designs were read from its archive (METHOD.md §4.4). Here revisits are free too (the
problem caches every design), so the budget is defined in distinct evaluations and, by default, phase i ends at
the first generation boundary where the run's distinct evaluations reach K + (i+1)(budget - K)/n_phases.
Setting :attr:`Phase.generations` (e.g. ``dataclasses.replace(p, generations=10)`` for every phase) reproduces
the original's fixed generation counts instead. After the last phase the algorithm stops by itself.

Revisits. By default offspring equal to any design already evaluated in the run are discarded and re-bred
(``avoid_revisits``), so generations spend their evaluations on new designs (the first two default phases take
~10 generations each, like the original). Late phases (PM probability 0.2 / 0.05 with eta 15 / 25 barely moves an
integer gene) can only recombine a converged population; when ``mating_attempts`` rounds of mating yield no new
design the phase ends early (``phase_log`` records why), and after the last phase the run ends below its budget.
On RRAM/SRAM cnn4 with the defaults this happens in the fine-tuning phase at ~2,400-2,750 of 3,300 designs, after
the exact optimum has been found. ``avoid_revisits=False`` keeps pymoo's plain duplicate elimination: the late
phases then run hundreds of generations of mostly revisits to reach their milestones.

The generator is pymoo's ``random_state`` (seeded once by ``minimize(..., seed=...)``); it is never re-seeded
per phase (METHOD.md §8.11), so the same seed gives the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymoo.algorithms.base.genetic import GeneticAlgorithm
from pymoo.algorithms.soo.nonconvex.ga import FitnessSurvival
from pymoo.core.population import Population
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.operators.survival.rank_and_crowding import RankAndCrowding
from pymoo.util.display.multi import MultiObjectiveOutput
from pymoo.util.display.single import SingleObjectiveOutput

from imc_moo.algorithms.duplicates import ExactDuplicateElimination, RunDuplicateElimination
from imc_moo.algorithms.hamming import HammingDiverseSampling
from imc_moo.algorithms.ledger import Ledger
from imc_moo.algorithms.mating import ArrayMating
from imc_moo.algorithms.termination import check_budget
from imc_moo.algorithms.tournaments import binary_tournament, comp_by_cv_and_fitness


@dataclass(frozen=True)
class Phase:
    """One phase of the schedule.

    Attributes:
        name: label (recorded in run histories).
        crossover_prob: SBX probability per mating.
        crossover_eta: SBX distribution index.
        mutation_prob: PM probability per individual (the per-gene rate is the algorithm's ``mutation_prob_var``).
        mutation_eta: PM distribution index.
        generations: fixed number of generations, or None to end the phase at its distinct-evaluation milestone.
    """

    name: str
    crossover_prob: float
    crossover_eta: float
    mutation_prob: float
    mutation_eta: float
    generations: int | None = None

    def __post_init__(self) -> None:
        for key in ("crossover_prob", "mutation_prob"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"phase {self.name!r}: {key} must lie in [0, 1], got {getattr(self, key)}")
        for key in ("crossover_eta", "mutation_eta"):
            if not getattr(self, key) > 0:
                raise ValueError(f"phase {self.name!r}: {key} must be > 0, got {getattr(self, key)}")
        if self.generations is not None and self.generations < 1:
            raise ValueError(f"phase {self.name!r}: generations must be >= 1 or None, got {self.generations}")


#: METHOD.md §4.2: (SBX prob, SBX eta, PM prob, PM eta) per phase, from exploration to fine-tuning.
METHOD_PHASES: tuple[Phase, ...] = (
    Phase("early exploration", 1.0, 3, 1.0, 3),
    Phase("transition", 0.9, 7, 0.5, 7),
    Phase("convergence", 1.0, 15, 0.2, 15),
    Phase("fine-tuning", 1.0, 25, 0.05, 25),
)


class PhasedGA(GeneticAlgorithm):
    """Multi-phase GA over integer genomes; works on any pymoo problem with integer bounds and 1+ objectives.

    Args:
        pop_size: population size and offspring per generation (method: 70).
        n_candidates: N, random candidates drawn for the Hamming initialisation (method: 1000).
        n_select: K, Hamming-diverse designs evaluated initially (method: 500).
        phases: the schedule (default :data:`METHOD_PHASES`).
        budget: distinct evaluations the run is planned for (method: 500 + 4 x 700 = 3,300); sets the default
            phase milestones. :func:`imc_moo.algorithms.run_algorithm` caps the run's ledger at the same number.
        hamming_init: False evaluates ``pop_size`` uniformly random genomes instead (ablation).
        mutation_prob_var: PM per-gene probability; None = pymoo's min(0.5, 1/n_var) (1/9 RRAM, 1/8 SRAM).
        avoid_revisits: discard offspring equal to any design evaluated in the run
            (:class:`RunDuplicateElimination`); False = pymoo's duplicate elimination (population and offspring).
        mating_attempts: rounds of selection + variation per generation to fill ``pop_size`` acceptable
            offspring (pymoo's ``n_max_iterations``; pymoo's default is 100, 20 keeps stalled phases cheap); if none
            is found the phase ends early.
        **kwargs: passed to pymoo's ``GeneticAlgorithm`` (e.g. ``callback``, ``verbose``).

    Run state, readable from callbacks:
        phase: index into ``phases`` of the phase whose operators produce the next offspring (0-based).
        phase_label: name of the phase that produced the last evaluated generation (``"initial population"``
            for the first generation).
        milestones: (n_phases,) distinct-evaluation targets of the phases (set after initialisation).
        phase_log: one dict per phase started: phase, name, start_evaluations and, once it is over,
            end_evaluations, generations and ended ("milestone", "generations" or "no new designs").
        stop_reason: why the schedule ended before the budget (None while it runs or when the budget ends it).
        operator_parameters(): the parameters of the operators currently in use.

    The run's distinct designs (for milestones, archive restarts and revisit avoidance) are read from its
    evaluator, a :class:`~imc_moo.algorithms.ledger.Ledger` (one is put in place at setup if pymoo's plain evaluator was
    given).
    """

    INITIAL_LABEL = "initial population"

    def __init__(self, pop_size: int = 70, n_candidates: int = 1000, n_select: int = 500,
                 phases: Sequence[Phase] = METHOD_PHASES, budget: int = 3300, hamming_init: bool = True,
                 mutation_prob_var: float | None = None, avoid_revisits: bool = True, mating_attempts: int = 20,
                 **kwargs):
        phases = tuple(phases)
        if pop_size < 2:
            raise ValueError(f"pop_size must be >= 2, got {pop_size}")
        if not phases or not all(isinstance(p, Phase) for p in phases):
            raise ValueError("phases must be a non-empty sequence of Phase")
        if hamming_init and n_select < pop_size:
            raise ValueError(f"n_select ({n_select}) must be >= pop_size ({pop_size}) to fill the population")
        check_budget(budget)
        if mutation_prob_var is not None and not 0.0 < mutation_prob_var <= 1.0:
            raise ValueError(f"mutation_prob_var must lie in (0, 1], got {mutation_prob_var}")
        sampling = HammingDiverseSampling(n_candidates, n_select) if hamming_init else IntegerRandomSampling()
        duplicates = RunDuplicateElimination() if avoid_revisits else ExactDuplicateElimination()
        super().__init__(pop_size=pop_size, sampling=sampling, eliminate_duplicates=duplicates, **kwargs)
        self.phases = phases
        self.budget = int(budget)
        self.mutation_prob_var = mutation_prob_var
        self.mating_attempts = int(mating_attempts)
        self.phase = 0
        self.phase_label = ""
        self.milestones = np.empty(0)
        self.phase_log: list[dict] = []
        self.stop_reason: str | None = None
        self._generations_in_phase = 0

    # -- setup -----------------------------------------------------------------------------------------------
    def setup(self, problem, **kwargs):
        if self.output is None:
            self.output = SingleObjectiveOutput() if problem.n_obj == 1 else MultiObjectiveOutput()
        return super().setup(problem, **kwargs)

    def _setup(self, problem, **kwargs):
        if problem.n_obj == 1:
            self.survival = FitnessSurvival()
            self.selection = TournamentSelection(func_comp=comp_by_cv_and_fitness)
        else:
            self.survival = RankAndCrowding()
            self.selection = TournamentSelection(func_comp=binary_tournament)
            self.tournament_type = "comp_by_dom_and_crowding"  # read by NSGA-II's binary_tournament
        if not isinstance(self.evaluator, Ledger):
            self.evaluator = Ledger()
        if isinstance(self.eliminate_duplicates, RunDuplicateElimination):
            self.eliminate_duplicates.bind(self.evaluator, problem)
        self.phase = 0
        self.phase_log = []
        self.stop_reason = None
        self.mating = self._mating(self.phases[0])

    def _mating(self, phase: Phase) -> ArrayMating:
        crossover = SBX(prob=phase.crossover_prob, eta=phase.crossover_eta, vtype=float, repair=RoundingRepair())
        mutation = PM(prob=phase.mutation_prob, eta=phase.mutation_eta, prob_var=self.mutation_prob_var,
                      vtype=float, repair=RoundingRepair())
        return ArrayMating(self.selection, crossover, mutation, repair=self.repair,
                      eliminate_duplicates=self.eliminate_duplicates, n_max_iterations=self.mating_attempts)

    # -- pymoo hooks -----------------------------------------------------------------------------------------
    def _initialize_advance(self, infills=None, **kwargs):
        self.phase_label = self.INITIAL_LABEL
        n0 = self.n_distinct
        n = len(self.phases)
        # a budget the initial sample already spends (a ledger clips that sample) leaves the phases nothing
        self.milestones = n0 + (np.arange(1, n + 1) * max(self.budget - n0, 0)) / n
        self._start_phase(0)

    def _infill(self):
        off = self._mate()
        while len(off) == 0 and self._next_phase("no new designs"):
            off = self._mate()
        return off if len(off) else None

    def _advance(self, infills=None, **kwargs):
        self.phase_label = self.phases[self.phase].name
        super()._advance(infills=infills, **kwargs)
        self._generations_in_phase += 1
        reason = self._phase_done()
        if reason and not self.termination.force_termination:
            self._next_phase(reason)

    # -- phases ----------------------------------------------------------------------------------------------
    @property
    def n_distinct(self) -> int:
        """Distinct designs evaluated so far in the run (its ledger's count)."""
        return self.evaluator.spent

    def _mate(self) -> Population:
        return self.mating.do(self.problem, self.pop, self.n_offsprings, algorithm=self,
                              random_state=self.random_state)

    def _phase_done(self) -> str | None:
        """Why the current phase is over ("generations" or "milestone"), or None."""
        generations = self.phases[self.phase].generations
        if generations is not None:
            return "generations" if self._generations_in_phase >= generations else None
        return "milestone" if self.n_distinct >= self.milestones[self.phase] else None

    def _next_phase(self, reason: str) -> bool:
        """Close the current phase (``reason``: "milestone", "generations" or "no new designs") and start the
        next one; after the last phase, stop the run. Returns whether a phase was started."""
        self.phase_log[-1].update(end_evaluations=self.n_distinct, generations=self._generations_in_phase,
                                  ended=reason)
        if self.phase + 1 < len(self.phases):
            self._start_phase(self.phase + 1)
            return True
        last = f"phase {self.phase + 1} ({self.phases[self.phase].name})"
        self.stop_reason = (f"{last} produced no new design after {self.mating_attempts} matings"
                            if reason == "no new designs" else f"{last} ended after its {reason}")
        self.termination.force_termination = True
        return False

    def _start_phase(self, index: int) -> None:
        """Switch operators to phase ``index`` and restart the population from the archive's best."""
        self.phase = index
        self._generations_in_phase = 0
        self.mating = self._mating(self.phases[index])
        self.pop = self.archive_best(self.pop_size)
        self.phase_log.append({"phase": index, "name": self.phases[index].name,
                               "start_evaluations": self.n_distinct})

    def archive_best(self, n: int) -> Population:
        """The best n individuals evaluated in this run under the algorithm's survival (feasibility first, then
        objective; rank and crowding for several objectives)."""
        return self.survival.do(self.problem, self.evaluator.population(self.problem), n_survive=n, algorithm=self,
                                random_state=self.random_state)

    def operator_parameters(self) -> dict[str, float]:
        """Parameters of the crossover and mutation in use: crossover_prob, crossover_eta, mutation_prob,
        mutation_eta, mutation_prob_var (per gene)."""
        cx, mut = self.mating.crossover, self.mating.mutation
        return {
            "crossover_prob": float(cx.prob.value),
            "crossover_eta": float(cx.eta.value),
            "mutation_prob": float(mut.prob.value),
            "mutation_eta": float(mut.eta.value),
            "mutation_prob_var": float(mut.get_prob_var(self.problem)),
        }
