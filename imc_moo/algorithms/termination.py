"""Budgets in distinct designs evaluated."""

from __future__ import annotations

from pymoo.core.termination import Termination


def distinct_evaluations(algorithm) -> int:
    """Distinct designs the algorithm has evaluated: its ledger's ``spent`` (:class:`imc_moo.algorithms.ledger.Ledger`),
    else pymoo's evaluation counter."""
    evaluator = algorithm.evaluator
    return int(getattr(evaluator, "spent", evaluator.n_eval))


class DistinctEvaluations(Termination):
    """Stop once ``budget`` distinct designs have been evaluated; progress = evaluations / budget.

    For plain ``pymoo.optimize.minimize`` runs: pymoo checks termination between generations, so such a run may
    overshoot by one generation. :func:`imc_moo.algorithms.run_algorithm` instead caps the run's ledger, which
    clips the last batch, so a budget is never exceeded there.
    """

    def __init__(self, budget: int):
        super().__init__()
        if budget < 1:
            raise ValueError(f"budget must be a positive number of evaluations, got {budget}")
        self.budget = int(budget)

    def _update(self, algorithm) -> float:
        return distinct_evaluations(algorithm) / self.budget
