"""pymoo's mating loop on arrays: the same offspring as :class:`pymoo.core.mating.Mating`, without its per-child
objects.

pymoo breeds offspring as :class:`~pymoo.core.individual.Individual` objects: every round of selection, crossover,
mutation and duplicate elimination builds, reads and writes one object per child (~25 µs each). A converged
population breeds mostly children the run has seen before, so a generation of NSGA-II on mixed9 may take 100
rounds to find its new designs, and the objects cost more than the whole evaluation. :class:`ArrayMating` runs
the same loop on genome arrays and builds objects only for the offspring it returns.

It makes pymoo's decisions in pymoo's order with the same random draws: the selection operator is called as
pymoo calls it (indices), the crossover's and mutation's own ``_do`` produce the children, their per-mating and
per-child probability draws and built-in ``vtype``/repair follow :meth:`pymoo.core.crossover.Crossover.do`,
:meth:`pymoo.core.mutation.Mutation.do` and :meth:`pymoo.core.operator.Operator.__call__`, and duplicates are
eliminated by the algorithm's eliminator (offspring vs. each other, the population and the offspring so far).
``tests/algorithms/test_algorithms.py`` checks that a seeded NSGA-II run gives the same designs with either mating.
"""

from __future__ import annotations

import math

import numpy as np
from pymoo.core.mating import Mating
from pymoo.core.population import Population
from pymoo.core.repair import NoRepair
from pymoo.core.variable import get

from imc_moo.algorithms.duplicates import ExactDuplicateElimination


class _ReadOnlyPopulation(Population):
    """A view of a population whose attribute reads are memoised: the parents do not change while one
    generation mates, but every round's tournament reads their F, CV, rank and crowding again."""

    def get(self, *args, to_numpy: bool = True, **kwargs):
        if kwargs or not to_numpy:
            return super().get(*args, to_numpy=to_numpy, **kwargs)
        cache = self.__dict__.setdefault("_memo", {})
        values = []
        for name in args:
            if name not in cache:
                cache[name] = super().get(name)
            values.append(cache[name])
        return values[0] if len(values) == 1 else tuple(values)


def _cast_and_repair(operator, problem, X: np.ndarray) -> np.ndarray:
    """What :meth:`Operator.__call__` does after ``do``: cast to the operator's vtype, apply its built-in repair."""
    if operator.vtype is not None:
        X = X.astype(operator.vtype)
    if operator.repair is not None:
        X = operator.repair._do(problem, X.astype(operator.repair.vtype) if operator.repair.vtype else X)
    return X


class ArrayMating(Mating):
    """:class:`~pymoo.core.mating.Mating` (selection, crossover, mutation, repair, duplicate elimination, at most
    ``n_max_iterations`` rounds) computed on arrays; returns a Population of at most ``n_offsprings``.

    ``grow=True`` changes only how the children are batched: a round that leaves offspring missing breeds twice
    as many children the next time (the first round breeds what is missing, as pymoo's does), until
    ``n_max_iterations x n_offsprings`` children have been bred, pymoo's most. Children are independent draws
    given the parents and the offspring are still the first acceptable ones in draw order, so this is pymoo's
    distribution of offspring with a generation's limit counted in children instead of rounds; a converged
    population that needs ~7,000 children to find a dozen new designs breeds them in 7 rounds instead of 100.
    """

    def __init__(self, selection, crossover, mutation, grow: bool = False, **kwargs):
        super().__init__(selection, crossover, mutation, **kwargs)
        if not isinstance(self.eliminate_duplicates, ExactDuplicateElimination) or not isinstance(self.repair,
                                                                                                  NoRepair):
            raise TypeError("ArrayMating eliminates duplicates on arrays: it needs an ExactDuplicateElimination "
                            "and no repair of its own (the operators' built-in repairs are applied)")
        self.grow = bool(grow)

    @classmethod
    def like(cls, mating: Mating, n_max_iterations: int | None = None, grow: bool = False) -> ArrayMating:
        """The array form of an existing pymoo ``mating`` (e.g. the one a GeneticAlgorithm built)."""
        return cls(mating.selection, mating.crossover, mating.mutation, repair=mating.repair,
                   eliminate_duplicates=mating.eliminate_duplicates, grow=grow,
                   n_max_iterations=mating.n_max_iterations if n_max_iterations is None else n_max_iterations)

    def do(self, problem, pop, n_offsprings, random_state=None, n_max_iterations=None, **kwargs):
        n_max_iterations = self.n_max_iterations if n_max_iterations is None else n_max_iterations
        pop = pop.view(_ReadOnlyPopulation)
        pop_X = pop.get("X")
        off_X = pop_X[:0]
        cap, bred, batch = n_max_iterations * n_offsprings, 0, 0  # children: pymoo's most per generation
        for _ in range(n_max_iterations):
            missing = n_offsprings - len(off_X)
            if missing <= 0 or bred >= cap:
                break
            batch = max(missing, min(2 * batch, cap - bred)) if self.grow else missing
            bred += batch
            X = self._breed(problem, pop, pop_X, batch, random_state, **kwargs)
            X = X[self.eliminate_duplicates.new_rows(X, pop_X, off_X)][:missing]
            off_X = np.concatenate([off_X, X]) if len(off_X) else X  # the children's dtype, as pymoo's
        return Population.new("X", off_X) if len(off_X) else Population.create()

    def _breed(self, problem, pop, pop_X, n_offsprings, random_state, **kwargs) -> np.ndarray:
        """One round of selection + crossover + mutation: children's genomes (>= n_offsprings, n_var)."""
        crossover, mutation = self.crossover, self.mutation
        n_matings = math.ceil(n_offsprings / crossover.n_offsprings)
        parents = self.selection.do(problem, pop, n_matings, n_parents=crossover.n_parents, to_pop=False,
                                    random_state=random_state, **kwargs)
        X = np.swapaxes(pop_X[parents], 0, 1)  # (n_parents, n_matings, n_var)
        if crossover.vtype is not None:
            X = X.astype(crossover.vtype)
        # Crossover.do: a mating crosses with its probability; otherwise its parents pass unchanged
        Xp = np.empty((crossover.n_offsprings, n_matings, problem.n_var), dtype=X.dtype)
        cross = random_state.random(n_matings) < get(crossover.prob, size=n_matings)
        if np.any(cross):
            Q = crossover._do(problem, X, random_state=random_state, **kwargs)
            Xp[:, cross] = Q[:, cross]
        for k in np.flatnonzero(~cross):
            Xp[:, k] = X[self._passing_parents(random_state), k]
        Y = _cast_and_repair(crossover, problem, Xp.reshape(-1, X.shape[-1]))
        # Mutation.do: every child is mutated, the mutation kept with its probability
        M = mutation._do(problem, Y, random_state=random_state, **kwargs)
        mutate = random_state.random(size=len(Y)) <= get(mutation.prob, size=len(Y))
        return _cast_and_repair(mutation, problem, np.where(mutate[:, None], M, Y))

    def _passing_parents(self, random_state) -> np.ndarray:
        """Which parents a mating without crossover passes on, drawn as :meth:`Crossover.do` draws them."""
        n_parents, n_offsprings = self.crossover.n_parents, self.crossover.n_offsprings
        if n_offsprings < n_parents:
            return random_state.choice(np.arange(n_parents), size=n_offsprings, replace=False)
        if n_offsprings == n_parents:
            return np.arange(n_parents)
        s = []
        while len(s) < n_offsprings:
            s.extend(random_state.permutation(n_parents))
        return np.asarray(s[:n_offsprings])
