"""The algorithm configs as typed data: one schema (a dataclass) per algorithm family, describing its knobs.

A packaged algorithm config (``conf/algorithm/<name>.yaml``) extends its schema through its defaults list
(``- /schema/algorithm@_here_: nsga2``), so OmegaConf checks every value against the dataclass when the config is
composed: ``algorithm.pop_size=abc`` fails before anything runs, naming the key. Every config has a ``name`` (the
run's algorithm name in its outputs) and a ``_target_`` built as a partial by :func:`hydra.utils.instantiate`: a
builder of :mod:`imc_moo.algorithms.configured` (``builder(problem, budget)``) or a baseline runner of
:mod:`imc_moo.algorithms.baselines`. A baseline's ``inner`` search is itself an algorithm node, composed from the
algorithm group (``- /algorithm@inner: phased_ga``), so instantiating the baseline builds its inner search too.

This module only describes; it imports no algorithm, so Hydra can register the schemas cheaply
(:func:`register_algorithm_schemas`, called from the ``imc_moo.conf`` package that Hydra imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

#: The ConfigStore group of the algorithm schemas (``conf/algorithm/*.yaml`` name theirs in their defaults list).
SCHEMA_GROUP = "schema/algorithm"


@dataclass
class AlgorithmConfig:
    """What every algorithm config has: a name (for outputs) and a ``_target_`` built as a partial."""

    #: the run's algorithm name (best.json, directory names, reports)
    name: str = MISSING
    _target_: str = MISSING
    _partial_: bool = True


@dataclass
class VariationConfig(AlgorithmConfig):
    """Population-based pymoo algorithms with integer SBX crossover and polynomial mutation."""

    #: designs per generation
    pop_size: int = MISSING
    #: probability (0-1) that a pair of parents is crossed over
    crossover_prob: float = MISSING
    #: SBX distribution index (dimensionless; larger: children nearer their parents)
    crossover_eta: float = MISSING
    #: probability (0-1) that an offspring is mutated
    mutation_prob: float = MISSING
    #: polynomial-mutation distribution index (dimensionless; larger: smaller steps)
    mutation_eta: float = MISSING
    #: re-breed offspring the run has already evaluated (the budget counts distinct designs)
    avoid_revisits: bool = True
    #: rounds of selection + variation per generation to find pop_size new offspring (none found: the run ends)
    mating_attempts: int = 100


@dataclass
class NSGA2Config(VariationConfig):
    _target_: str = "imc_moo.algorithms.configured.nsga2"


@dataclass
class GAConfig(VariationConfig):
    _target_: str = "imc_moo.algorithms.configured.ga"


@dataclass
class NSGA3Config(VariationConfig):
    _target_: str = "imc_moo.algorithms.configured.nsga3"
    #: None: the number of reference directions rounded up to a multiple of 4
    pop_size: int | None = None
    #: Das-Dennis partitions of each objective axis (3 objectives, 11 partitions: 78 reference directions)
    n_partitions: int = MISSING


@dataclass
class RandomConfig(AlgorithmConfig):
    _target_: str = "imc_moo.algorithms.configured.random_search"
    #: designs drawn per batch
    pop_size: int = MISSING


@dataclass
class PhaseConfig:
    """One phase of the phased GA (:class:`~imc_moo.algorithms.phased_ga.Phase`)."""

    name: str = MISSING
    #: probability (0-1) and SBX distribution index (dimensionless) of crossover
    crossover_prob: float = MISSING
    crossover_eta: float = MISSING
    #: probability (0-1) and polynomial-mutation distribution index (dimensionless) of mutation
    mutation_prob: float = MISSING
    mutation_eta: float = MISSING
    #: generations of the phase; None: the phase's share of the budget
    generations: int | None = None


@dataclass
class PhasedGAConfig(AlgorithmConfig):
    _target_: str = "imc_moo.algorithms.configured.phased_ga"
    #: designs per generation
    pop_size: int = MISSING
    #: random designs drawn for the Hamming-diverse initialisation, and the designs kept of them
    n_candidates: int = MISSING
    n_select: int = MISSING
    #: false: a random initial population of pop_size (ablation)
    hamming_init: bool = MISSING
    phases: list[PhaseConfig] = MISSING
    #: per-gene mutation probability (0-1); None: min(0.5, 1 / genes)
    mutation_prob_var: float | None = None
    avoid_revisits: bool = MISSING
    mating_attempts: int = MISSING
    #: the objectives the search ranks by (a view of the problem: ``edap`` for the method's scalar form, ``eda``
    #: for its multi-objective form); null: the problem's
    objectives: str | None = None


@dataclass
class InnerSearchConfig(AlgorithmConfig):
    """Baselines made of single-workload searches by another algorithm: ``inner`` is that algorithm's config
    node (composed from the algorithm group, e.g. ``- /algorithm@inner: phased_ga``; a pymoo algorithm, not a
    baseline), built with the baseline by :func:`hydra.utils.instantiate`."""

    inner: Any = MISSING


@dataclass
class SpecializedConfig(InnerSearchConfig):
    _target_: str = "imc_moo.algorithms.baselines.run_specialized"
    #: distinct designs of each single-workload search; None: the run's budget shared evenly
    budget_per_workload: int | None = None


@dataclass
class LargestWorkloadConfig(InnerSearchConfig):
    _target_: str = "imc_moo.algorithms.baselines.run_largest_workload"
    #: designs of the single-workload search evaluated on the set (1: the method's single pick)
    top_k: int = MISSING


@dataclass
class SequentialConfig(AlgorithmConfig):
    _target_: str = "imc_moo.algorithms.baselines.run_sequential"
    #: start point: middle or max (:data:`imc_moo.algorithms.baselines.START_POINTS`)
    start: str = MISSING
    #: times the stage sequence is repeated
    passes: int = MISSING
    #: generations without a new design that end a GA stage
    patience: int = MISSING


#: schema name (in :data:`SCHEMA_GROUP`) -> dataclass; the YAML files name their schema in their defaults list.
ALGORITHM_SCHEMAS: dict[str, type[AlgorithmConfig]] = {
    "phased_ga": PhasedGAConfig, "nsga2": NSGA2Config, "nsga3": NSGA3Config, "ga": GAConfig, "random": RandomConfig,
    "specialized": SpecializedConfig, "largest_workload": LargestWorkloadConfig, "sequential": SequentialConfig,
}


def schema_of(target: str | None) -> type[AlgorithmConfig] | None:
    """The schema of an algorithm node by its ``_target_``; None for a target no packaged schema builds."""
    return next((schema for schema in ALGORITHM_SCHEMAS.values() if schema._target_ == target), None)


def register_algorithm_schemas() -> None:
    """Store the algorithm schemas in Hydra's ConfigStore (idempotent: storing a name again replaces it)."""
    store = ConfigStore.instance()
    for name, schema in ALGORITHM_SCHEMAS.items():
        store.store(group=SCHEMA_GROUP, name=name, node=schema)
