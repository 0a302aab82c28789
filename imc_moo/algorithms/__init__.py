"""Search algorithms over workload-set problems and a uniform way to run them.

``run_algorithm("phased_ga", WorkloadSetProblem("cnn4", "rram", "edap"), budget=3300, seed=0)`` builds the
algorithm from its packaged config (``conf/algorithm/phased_ga.yaml``, typed by :mod:`imc_moo.app.config`; keyword
knobs override it), runs it through pymoo's ask-and-tell loop (:func:`search`) with the run's
:class:`~imc_moo.algorithms.ledger.Ledger` as its evaluator, capped at ``budget`` distinct designs, and returns a
:class:`RunResult`. An algorithm is named by its config (:func:`available_algorithms`), or given as a factory:
``functools.partial(configured.nsga2, pop_size=40)`` (what ``hydra.utils.instantiate`` makes of a config node).

Configured pymoo algorithms (:mod:`.configured`): ``phased_ga`` (the method, and its ablations
``phased_ga_1phase``, ``phased_ga_2phase``), ``nsga2``, ``nsga3``, ``ga`` (EDAP-scalarised on 3-objective
problems), ``random``. A factory ``f(problem, budget) -> algorithm or (algorithm, problem view)``.

Procedures made of several searches (the method's baselines, :mod:`.baselines`: ``specialized``,
``largest_workload``, ``sequential``) are *runners*, marked by :func:`runner`, called as
``runner(problem, ledger, seed, history, **knobs) -> (stop_reason, extra)``. Their sub-searches run on child
ledgers, so the run's ledger counts (and caps) everything.
"""

from imc_moo.algorithms.driver import (
                                       MAX_SEED,
                                       available_algorithms,
                                       check_seed,
                                       is_runner,
                                       resolve_algorithm,
                                       run_algorithm,
                                       runner,
                                       search,
)
from imc_moo.algorithms.hamming import HammingDiverseSampling, select_max_min_hamming
from imc_moo.algorithms.phased_ga import METHOD_PHASES, Phase, PhasedGA
from imc_moo.algorithms.random_search import RandomSearch
from imc_moo.algorithms.result import HISTORY_COLUMNS, HistoryCallback, RunHistory, RunResult
from imc_moo.algorithms.termination import DistinctEvaluations

__all__ = [
                                       "HISTORY_COLUMNS",
                                       "MAX_SEED",
                                       "METHOD_PHASES",
                                       "DistinctEvaluations",
                                       "HammingDiverseSampling",
                                       "HistoryCallback",
                                       "Phase",
                                       "PhasedGA",
                                       "RandomSearch",
                                       "RunHistory",
                                       "RunResult",
                                       "available_algorithms",
                                       "check_seed",
                                       "is_runner",
                                       "resolve_algorithm",
                                       "run_algorithm",
                                       "runner",
                                       "search",
                                       "select_max_min_hamming",
]
