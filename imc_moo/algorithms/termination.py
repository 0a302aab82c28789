"""Budgets in distinct designs evaluated."""

from __future__ import annotations

from pymoo.core.termination import Termination


def distinct_evaluations(algorithm) -> int:
    """Distinct designs the algorithm's problem has evaluated: ``problem.n_evaluated`` when the problem keeps an
    archive (e.g. :class:`~imc_moo.problem.WorkloadSetProblem`), else pymoo's evaluation counter."""
    n = getattr(algorithm.problem, "n_evaluated", None)
    return int(algorithm.evaluator.n_eval if n is None else n)


class DistinctEvaluations(Termination):
    """Stop once ``budget`` distinct designs have been evaluated; progress = evaluations / budget.

    pymoo checks termination between generations, so a run stops at the first generation boundary at or past the
    budget and may overshoot it by at most one generation's offspring. Re-visited designs are read from the
    problem's archive and do not count. The count is the problem's whole archive, so reset it before a run
    (:func:`imc_moo.algorithms.run_algorithm` does).
    """

    def __init__(self, budget: int):
        super().__init__()
        if budget < 1:
            raise ValueError(f"budget must be a positive number of evaluations, got {budget}")
        self.budget = int(budget)

    def _update(self, algorithm) -> float:
        return distinct_evaluations(algorithm) / self.budget
