"""Problems: the design space (value lists <-> integer genomes <-> design tables, :mod:`.space`), multi-model
deployment and the workload mix (:mod:`.deployment`), the workload-set pymoo ``Problem`` (:mod:`.workload_set`: a
pure function of genomes), the partitioned chip that serves its networks concurrently (:mod:`.tenancy`) and the
indicators of an evaluated archive (:mod:`.indicators`)."""

from imc_moo.problem.deployment import Deployment, DeploymentError, default_deployment
from imc_moo.problem.space import DesignSpace, make_space, space_from_lists
from imc_moo.problem.tenancy import AUTO, PartitionedProblem, PartitionedSpace
from imc_moo.problem.workload_set import (
    AGGREGATIONS,
    EDA_NAMES,
    N_OBJ,
    OBJECTIVES,
    PENALTY,
    Evaluation,
    ProblemError,
    WorkloadSetProblem,
    aggregate,
    cost_factor,
    per_network_table,
)


def make_problem(workloads="cnn4", *, partitions: int | None = None, memories=None, deployment: str | None = None,
                 **kwargs) -> WorkloadSetProblem:
    """The problem a config describes (the problem configs' ``_target_``): a :class:`PartitionedProblem` when it
    gives ``partitions``, several ``memories`` or ``deployment=auto``, else a :class:`WorkloadSetProblem` (the
    method's chip); every other argument is theirs."""
    if partitions is not None or (memories is not None and len(memories) > 1) or deployment == AUTO:
        return PartitionedProblem(workloads, partitions=1 if partitions is None else partitions, memories=memories,
                                  deployment=deployment, **kwargs)
    if memories:  # one memory listed: the chip's memory
        kwargs["memory"] = memories[0]
    return WorkloadSetProblem(workloads, deployment=deployment, **kwargs)

__all__ = [
                                          "AGGREGATIONS",
                                          "EDA_NAMES",
                                          "N_OBJ",
                                          "OBJECTIVES",
                                          "PENALTY",
                                          "Deployment",
                                          "DeploymentError",
                                          "DesignSpace",
                                          "Evaluation",
                                          "PartitionedProblem",
                                          "PartitionedSpace",
                                          "ProblemError",
                                          "WorkloadSetProblem",
                                          "aggregate",
                                          "cost_factor",
                                          "default_deployment",
                                          "make_problem",
                                          "make_space",
                                          "per_network_table",
                                          "space_from_lists",
]
