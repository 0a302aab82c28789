"""Budgets in distinct designs evaluated."""

from __future__ import annotations

from pymoo.core.termination import Termination


def distinct_evaluations(algorithm) -> int:
    """Distinct designs the algorithm has evaluated: its ledger's ``spent`` (:class:`imc_moo.algorithms.ledger.Ledger`),
    else pymoo's evaluation counter."""
    evaluator = algorithm.evaluator
    return int(getattr(evaluator, "spent", evaluator.n_eval))


def check_budget(budget) -> int:
    """``budget`` (distinct designs a run may evaluate) as an int if it is a positive whole number; else a one-line
    ValueError with the fix. The one check of a budget: the app, :func:`~imc_moo.algorithms.run_algorithm`, the
    phased GA and :class:`DistinctEvaluations` all call it."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be a positive number of designs (distinct designs evaluated), got {budget!r}:"
                         " e.g. budget=3300")
    return int(budget)


class DistinctEvaluations(Termination):
    """Stop once ``budget`` distinct designs have been evaluated; progress = evaluations / budget.

    For plain ``pymoo.optimize.minimize`` runs: pymoo checks termination between generations, so such a run may
    overshoot by one generation. :func:`imc_moo.algorithms.run_algorithm` instead caps the run's ledger, which
    clips the last batch, so a budget is never exceeded there.
    """

    def __init__(self, budget: int):
        super().__init__()
        self.budget = check_budget(budget)

    def _update(self, algorithm) -> float:
        return distinct_evaluations(algorithm) / self.budget
