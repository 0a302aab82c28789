"""Problems: the design space (value lists <-> integer genomes <-> design tables, :mod:`.space`), multi-model
deployment and the workload mix (:mod:`.deployment`), the workload-set pymoo ``Problem`` (:mod:`.workload_set`: a
pure function of genomes) and the indicators of an evaluated archive (:mod:`.indicators`)."""

from imc_moo.problem.deployment import Deployment, DeploymentError, default_deployment
from imc_moo.problem.space import DesignSpace, make_space, space_from_lists
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
)

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
                                          "ProblemError",
                                          "WorkloadSetProblem",
                                          "aggregate",
                                          "cost_factor",
                                          "default_deployment",
                                          "make_space",
                                          "space_from_lists",
]
