"""A workload set as a pymoo ``Problem`` over the integer genome of a design space.

Objectives (minimised):

* ``eda``: three objectives, aggregated energy [J], aggregated delay [s] and chip area [mm2];
* ``edap``: one objective, aggregated energy x aggregated delay x area in mJ*ms*mm2 (the field's EDAP unit).
  With ``aggregation="max"`` this is the method's default 'ela' score; ``mean`` gives 'ela_mean'.
* ``edap_cost``: two objectives, EDAP and the relative manufacturing cost = area [mm2] x the node's cost factor
  (METHOD.md §6.5, 32 nm = 1), for the technology study where the node is a gene.

Energy and delay of the set aggregate the per-network values by ``max`` (the method's default), ``mean``,
``sum`` or ``geomean``; area is the chip's. Per-network energy and delay are per inference, including the
amortised cost of switching to that network (:mod:`imc_moo.problem.deployment`: ``deployment`` and the workload ``mix``;
none by default). With unequal ``mix.shares`` (each network's share of the inferences), ``mean`` is the
share-weighted mean and ``geomean`` the share-weighted geometric mean (what one inference of the mix costs on
average); ``max`` (the worst network) and ``sum`` (one inference of each network) ignore the shares.

Inequality constraints (feasible when <= 0), all normalised so their scales are comparable:

* one per workload when weights must stay on chip (RRAM by default): weight cells needed / cells on chip - 1;
  with ``deployment="resident"`` one instead: the weight cells of all workloads together / cells on chip - 1;
* with ``deployment="reprogram"`` and a finite switching rate (RRAM): lifetime writes per cell / endurance - 1;
* chip area / ``area_limit_mm2`` - 1 (default limit 800 mm2, the method's 8 cm2);
* the number of workloads the reference simulator could not map (RRAM layers whose weights do not fit in space,
  e.g. MobileNetV3's depthwise layers on too few crossbars). Such designs also get the finite objective
  :data:`PENALTY` — never a good score (the original scored simulator failures 0, i.e. perfect).

The problem is a pure function of genomes: it keeps no cache, count or archive. A run's evaluations (cache,
distinct count, hard budget, evaluation order) live in its :class:`~imc_moo.algorithms.ledger.Ledger`, pymoo's
evaluator. The one thing it remembers is pymoo's own: :meth:`~pymoo.core.problem.Problem.pareto_front` (the exact
front by enumeration, :mod:`imc_moo.problem.exhaustive`) is computed once per problem object.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from pymoo.core.problem import Problem

from imc_moo.hardware import HardwareError, memory_technology
from imc_moo.model.api import EDAP_SCALE, energy_coefficients, evaluate_pairs, evaluate_set, fidelity_warning_text
from imc_moo.model.cost import Designs, chip_cells, weight_cells
from imc_moo.model.performance import (
    BOUNDS,
    POWER_BOUND,
    SPILL_COMPONENT,
    WEIGHT_LOAD_COMPONENTS,
    Performance,
    PerformanceError,
    physics,
    power_limited,
)
from imc_moo.model.tables import DRAM_PJ_PER_BIT
from imc_moo.problem.deployment import (
    Deployment,
    DeploymentError,
    default_deployment,
    resident_capacity,
)
from imc_moo.problem.exhaustive import ExhaustiveResult, exhaustive
from imc_moo.problem.space import DesignSpace, make_space, space_from_lists
from imc_moo.workloads import load_workloads, search_path

AGGREGATIONS = ("max", "mean", "sum", "geomean")
OBJECTIVES = ("eda", "edap", "edap_cost", "eta")
N_OBJ = {"eda": 3, "edap": 1, "edap_cost": 2, "eta": 3}
#: Relative manufacturing cost per mm2 by node (METHOD.md §6.5; 32 nm = 1).
COST_FACTOR_BY_NODE = {7: 3.8709, 10: 2.2431, 14: 1.4976, 22: 1.2828, 32: 1.0, 45: 0.6061}
#: Objective value given to designs the reference simulator cannot map: finite, and worse than any real design.
PENALTY = 1e30
EDA_NAMES = ("energy_j", "latency_s", "area_mm2")
#: Largest design space whose exact front :meth:`WorkloadSetProblem.pareto_front` enumerates by default (the
#: default RRAM space, 12.1 million designs, takes about 2 s; ``benchmarks/exhaustive.py``).
EXACT_FRONT_MAX_DESIGNS = 100_000_000
#: What bounds an inference's time (:attr:`Evaluation.bound`): the bounded model's resources, then the power limit.
BOUND_NAMES = (*BOUNDS, POWER_BOUND)


#: pymoo's ``Problem`` keywords a workload-set problem passes on (the rest it sets itself).
PYMOO_KEYWORDS = ("elementwise_runner", "replace_nan_values_by", "exclude_from_serialization", "callback", "strict",
                  "requires_kwargs")
#: Requirements a problem may put on every network (``limits``), each a constraint.
LIMITS = ("latency_s", "throughput_per_s", "power_w")


def _limits(limits: Mapping | None) -> dict[str, float]:
    """The limits that are set, checked: positive finite numbers of known keys (one-line :class:`ProblemError`)."""
    given = {k: v for k, v in dict(limits or {}).items() if v is not None}
    unknown = sorted(set(given) - set(LIMITS))
    if unknown:
        raise ProblemError(f"unknown limit(s) {', '.join(f'limits.{k}' for k in unknown)}: use "
                           f"{', '.join(LIMITS)}")
    for k, v in given.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ProblemError(f"limits.{k}={v!r} is not a positive number: give one in the unit its name says, "
                               "or null for no limit")
    return {k: float(given[k]) for k in LIMITS if k in given}


def performance_mode(performance: str | Performance) -> str:
    """The mode name of a performance argument (a name or a :class:`Performance`)."""
    return performance.mode if isinstance(performance, Performance) else str(performance)


class ProblemError(ValueError):
    """A problem configuration that cannot work; the message names the option and the fix."""


def cost_factor(technology_nm: np.ndarray) -> np.ndarray:
    """Relative manufacturing cost per mm2 (:data:`COST_FACTOR_BY_NODE`) for nodes (n,) -> (n,)."""
    nodes = np.array(sorted(COST_FACTOR_BY_NODE))
    factors = np.array([COST_FACTOR_BY_NODE[n] for n in nodes])
    return factors[np.searchsorted(nodes, technology_nm)]


def aggregate(values: np.ndarray, how: str, shares: np.ndarray | None = None) -> np.ndarray:
    """Aggregate per-workload values (n, W) over workloads -> (n,). ``shares`` (W,) summing to 1 (None: equal)
    weight ``mean`` and ``geomean``; ``max`` and ``sum`` ignore them."""
    if how == "max":
        return values.max(axis=1)
    if how == "mean":
        return values.mean(axis=1) if shares is None else values @ shares
    if how == "sum":
        return values.sum(axis=1)
    if how == "geomean":
        return np.exp(np.log(values).mean(axis=1) if shares is None else np.log(values) @ shares)
    raise ProblemError(f"unknown aggregation {how!r}: use one of {', '.join(AGGREGATIONS)}")


@dataclass
class Evaluation:
    """Results for n genomes on W workloads; independent of the objectives chosen (see
    :meth:`WorkloadSetProblem.objective_values`).

    Attributes:
        energy_j, latency_s, valid, weights_fit: (n, W) per workload; energy and latency per inference, including
            the amortised switching cost.
        switch_energy_j, switch_latency_s: (n, W) that amortised switching cost (zero unless switches cost).
        fidelity_flags: (n, W) uint8, the model's doubts about each design x workload
            (:data:`imc_moo.model.api.FIDELITY_WARNINGS` bits; 0: none).
        area_mm2: (n,) chip area.
        G: (n, n_ieq) constraints; edap: (n,) aggregated EDAP [mJ*ms*mm2] (:data:`PENALTY` if unmappable);
        cost: (n,) relative manufacturing cost (area x node factor).
        bound: (n, W) int8, the resource that bounds most of each inference's time: an index into
            :data:`BOUND_NAMES` (the bounded model's resources, then ``power``), -1 under the reference model.
        interval_s: (n, W) time between the starts of two inferences [s] (1 / throughput): the latency, or with
            ``pipeline`` the slowest layer's time (at least energy / the power limit).
    """

    energy_j: np.ndarray
    latency_s: np.ndarray
    area_mm2: np.ndarray
    valid: np.ndarray
    weights_fit: np.ndarray
    G: np.ndarray
    edap: np.ndarray
    cost: np.ndarray
    switch_energy_j: np.ndarray
    switch_latency_s: np.ndarray
    fidelity_flags: np.ndarray
    bound: np.ndarray
    interval_s: np.ndarray

    @property
    def feasible(self) -> np.ndarray:
        # (n, n_ieq) -> (n,): numpy's stub cannot tell an axis reduction of a 2-D array from a 0-d result
        return cast(np.ndarray, (self.G <= 0).all(axis=1))

    def take(self, index) -> Evaluation:
        """The rows ``index`` (an index array or slice) of every field."""
        return type(self)(**{k: v[index] for k, v in vars(self).items()})

    @staticmethod
    def stack(parts: Sequence[Evaluation]) -> Evaluation:
        """Rows of several evaluations (of one type), in order."""
        return type(parts[0])(**{k: np.concatenate([vars(p)[k] for p in parts]) for k in vars(parts[0])})


@dataclass
class NetworkRun:
    """Every network of a set on n designs (:meth:`WorkloadSetProblem.run_networks`), arrays (n, W): energy and
    latency per inference (switching amortised, the power limit applied), ``valid``, ``weights_fit``, the amortised
    ``switch_energy_j`` / ``switch_latency_s``, ``fidelity_flags``, ``bound`` and ``interval_s`` (see
    :class:`Evaluation`), and ``dram_bytes``, the bytes an inference moves through the DRAM interface (streamed
    weights and spilled activations)."""

    energy_j: np.ndarray
    latency_s: np.ndarray
    valid: np.ndarray
    weights_fit: np.ndarray
    switch_energy_j: np.ndarray
    switch_latency_s: np.ndarray
    fidelity_flags: np.ndarray
    bound: np.ndarray
    interval_s: np.ndarray
    dram_bytes: np.ndarray


class WorkloadSetProblem(Problem):
    """Search one design for a set of networks.

    Args:
        workloads: a set name (``cnn4``, ``mixed9``), a network name, a path to a network file (``.yaml``,
            ``.yml``, an ``.onnx`` model or a ``.csv`` layer table, converted on load), or a list of these and
            :class:`~imc_moo.workloads.Network` objects.
        memory: a memory technology of :mod:`imc_moo.hardware` (``"rram"``, ``"sram"``).
        objectives: ``"edap"`` (energy x delay x area, the method's score; the default, as on the command line),
            ``"eda"`` (energy, delay, area: three objectives, for NSGA-II & co.), ``"edap_cost"`` or ``"eta"``
            (energy, time per inference at the chip's throughput, area: with ``pipeline`` the slowest layer's
            time, else the latency).
        aggregation: how per-network energy and delay combine: ``max``, ``mean``, ``sum`` or ``geomean``.
        area_limit_mm2: chip-area constraint (default 800 mm2).
        space: the design space: value lists per parameter (a mapping as in ``conf/space/*.yaml``), the name of a
            packaged value-list file (``rram``, ``sram``, ``sram_large``, ``sram_technology``) or a
            :class:`DesignSpace`; default the memory's lists for the set's size
            (:meth:`~imc_moo.hardware.MemoryTechnology.default_space`).
        technology_nm: a node in nm or a list of nodes to search as a gene, replacing the space's node list.
        voltages: replaces the space's voltage list.
        weights_on_chip: require every weight to fit on chip (default: the deployment's rule; without a
            deployment the memory's: RRAM keeps its weights resident, SRAM streams them from DRAM).
        name: a label for the problem (e.g. the config's name).
        hv: hypervolume bounds ``{"ideal": {...}, "reference": {...}}`` per objective
            (:mod:`imc_moo.problem.indicators`), or None.
        library_dirs: directories of the user's own network and set files, searched before ``$IMC_MOO_PROBLEMS``
            and the packaged library (:func:`imc_moo.workloads.search_path`).
        deployment: how the chip holds its networks' weights (:mod:`imc_moo.problem.deployment`): ``"resident"`` (all at
            once), ``"reprogram"`` (one at a time, rewritten at every switch) or ``"stream"`` (from DRAM every
            inference); default the memory's (RRAM reprogram, SRAM stream).
        mix: the workload mix: ``shares`` (network -> share of the inferences; default equal),
            ``inferences_per_switch`` (mean inferences between switches; default None: never) and
            ``lifetime_inferences`` (for the endurance constraint; default 1e9).
        endurance_cycles: writes a cell survives (default the memory's: RRAM 1e6, SRAM unlimited).
        performance: ``"bounded"`` (latency a chip can deliver, :mod:`imc_moo.model.performance`; the default) or
            ``"reference"`` (the reference simulator's latency: the method's numbers, bit for bit), or a
            :class:`~imc_moo.model.performance.Performance` (which then carries its own bounds and batch).
        pipeline: run each network's layers as a pipeline (bounded model, weights held on chip): an inference
            starts every slowest-layer time (its throughput), while its latency stays the sum of its layers.
        limits: requirements per network, each a constraint (None or absent: none): ``latency_s`` (at most),
            ``throughput_per_s`` (inferences per second, at least), ``power_w`` (average power at that
            throughput, at most).
        hv_latency_s: the hypervolume box's latency axis per performance model, ``{"reference": {"ideal": s,
            "reference": s}, "bounded": {...}}`` (the problem configs' table): replaces ``hv``'s latency bounds with
            those of the problem's model.
        bounds: the chip's physical limits replacing the packaged ones (``conf/bounds/default.yaml``), e.g.
            ``{"dram_bytes_per_s": 25.6e9, "power_density_w_per_mm2": 0.5}``; bounded model only.
        batch: inferences processed together (bounded model: streamed weights fetched once per batch).
        **pymoo_kwargs: pymoo's own ``Problem`` keywords, passed on (:data:`PYMOO_KEYWORDS`: ``callback``,
            ``replace_nan_values_by``, ...).
    """

    def __init__(self, workloads: str | Sequence[str] = "cnn4", memory: str = "rram", objectives: str = "edap",
                 aggregation: str = "max", area_limit_mm2: float = 800.0,
                 space: str | Mapping | DesignSpace | None = None, technology_nm: int | Sequence[int] | None = None,
                 voltages: Sequence[float] | None = None, weights_on_chip: bool | None = None, name: str = "",
                 hv: Mapping | None = None, library_dirs: Sequence[str] = (), deployment: str | None = None,
                 mix: Mapping | None = None, endurance_cycles: float | None = None,
                 performance: str | Performance = "bounded", bounds: Mapping | None = None, batch: int = 1,
                 hv_latency_s: Mapping | None = None, pipeline: bool = False, limits: Mapping | None = None,
                 **pymoo_kwargs):
        unknown = sorted(set(pymoo_kwargs) - set(PYMOO_KEYWORDS))
        if unknown:
            raise ProblemError(f"unknown keyword(s) {', '.join(unknown)}: the problem sets n_var, n_obj, bounds and "
                               f"constraints itself; pymoo's Problem keywords it passes on are "
                               f"{', '.join(PYMOO_KEYWORDS)}")
        #: pymoo's own Problem keywords, passed on (e.g. callback, replace_nan_values_by)
        self._pymoo_kwargs = dict(pymoo_kwargs)
        if objectives not in OBJECTIVES:
            raise ProblemError(f"unknown objectives {objectives!r}: use one of {', '.join(OBJECTIVES)}")
        if aggregation not in AGGREGATIONS:
            raise ProblemError(f"unknown aggregation {aggregation!r}: use one of {', '.join(AGGREGATIONS)}")
        if isinstance(area_limit_mm2, bool) or not isinstance(area_limit_mm2, (int, float)) \
                or not np.isfinite(area_limit_mm2) or area_limit_mm2 <= 0:
            raise ProblemError(f"area_limit_mm2 must be a positive number of mm2, got {area_limit_mm2!r}")
        try:
            tech = memory_technology(memory)
        except HardwareError as err:
            raise ProblemError(str(err)) from None
        self.networks = load_workloads(workloads, search_path(library_dirs))
        self.workloads = [net.name for net in self.networks]  # names label outputs, also for networks given by path
        if isinstance(space, DesignSpace):
            if technology_nm is not None or voltages is not None:
                raise ProblemError("technology_nm and voltages replace lists of a space by name or by lists; "
                                   "build the DesignSpace with them instead")
        elif isinstance(space, Mapping):
            lists = dict(space)
            if technology_nm is not None:
                lists["technology_nm"] = ([cast(int, technology_nm)] if np.isscalar(technology_nm)
                                         else list(cast(Sequence[int], technology_nm)))
            if voltages is not None:
                lists["voltage"] = list(voltages)
            space = space_from_lists(tech.name, lists)
        else:
            space = make_space(tech.name, space or tech.default_space(len(self.workloads)),
                               technology_nm=technology_nm, voltages=voltages)
        if space.memory != tech.name:
            raise ProblemError(f"design space {space.name!r} is for {space.memory}, not {tech.name}")
        self.space = space
        self.memory = tech.name
        self.name = name or f"{tech.name}_{'+'.join(self.workloads)}"
        self.hv = hv
        if hv is not None and hv_latency_s and performance_mode(performance) in hv_latency_s:
            axis = hv_latency_s[performance_mode(performance)]
            self.hv = {corner: {**dict(hv[corner]), "latency_s": float(axis[corner])}
                       for corner in ("ideal", "reference")}
        self.objectives = objectives
        self.aggregation = aggregation
        self.area_limit_mm2 = float(area_limit_mm2)
        try:
            self.deployment = Deployment.of(tech.name, self.workloads, deployment, mix, endurance_cycles)
        except DeploymentError as err:
            raise ProblemError(str(err)) from None
        on_chip = self.deployment.mode != "stream"
        if deployment is not None and on_chip and weights_on_chip is not None and not weights_on_chip:
            raise ProblemError(f"weights_on_chip=false contradicts deployment={self.deployment.mode}, which keeps "
                               "the weights on chip: drop weights_on_chip (the deployment decides)")
        if weights_on_chip is not None:
            self.weights_on_chip = bool(weights_on_chip)
        else:  # without a deployment, the memory's rule (RRAM resident, SRAM streamed), as before deployments
            self.weights_on_chip = tech.weights_resident if deployment is None else on_chip
        #: the calibrated energy coefficients of the memory, one per network
        self._theta = [energy_coefficients(tech.name)] * len(self.networks)
        self._resident = self.weights_on_chip and self.deployment.mode == "resident"
        self._endurance = self.deployment.has_endurance_constraint(len(self.networks))
        try:
            self.performance = Performance.of(performance, bounds, batch)
        except PerformanceError as err:
            raise ProblemError(str(err)) from None
        #: how the bounded model sees the weights while a network runs (imc_moo.model.performance.WEIGHT_HOLDING)
        self._holding = ("streamed" if tech.streams_weights and self.deployment.streams
                         else "set" if self.deployment.mode == "resident" else "network")
        self.pipeline = bool(pipeline)
        if self.pipeline and not self.performance.bounded:
            raise ProblemError("pipeline=true needs performance=bounded (the reference model has no per-layer "
                               "times to pipeline)")
        if self.pipeline and self._holding == "streamed":
            raise ProblemError("pipeline=true keeps every layer's weights on chip at once, but this problem streams "
                               "them from DRAM: set deployment=resident or reprogram")
        self.limits = _limits(limits)
        n_capacity = (1 if self._resident else len(self.networks)) if self.weights_on_chip else 0
        super().__init__(n_var=space.n_var, n_obj=N_OBJ[objectives],
                         n_ieq_constr=n_capacity + self._endurance + len(self.limits) + 2,
                         xl=space.xl, xu=space.xu, vtype=int, **self._pymoo_kwargs)

    # -- naming ----------------------------------------------------------------------------------------------
    @property
    def objective_names(self) -> tuple[str, ...]:
        return {"eda": EDA_NAMES, "edap": ("edap",), "edap_cost": ("edap", "cost"),
                "eta": ("energy_j", "interval_s", "area_mm2")}[self.objectives]

    @property
    def constraint_names(self) -> tuple[str, ...]:
        cap = tuple(f"capacity_{w}" for w in self.workloads) if self.weights_on_chip else ()
        if self._resident:
            cap = ("capacity_resident",)
        return (cap + (("endurance",) if self._endurance else ()) + ("area",)
                + tuple(f"{k}_limit" for k in self.limits) + ("unmappable_workloads",))

    @property
    def switches(self) -> bool:
        """Switching between networks costs energy and time (``reprogram`` with a finite switching rate and more
        than one network)."""
        return self.deployment.switches_for(len(self.networks))

    @property
    def weight_holding(self) -> str:
        """How the bounded model sees the weights while a network runs
        (:data:`~imc_moo.model.performance.WEIGHT_HOLDING`): ``streamed`` (SRAM ``stream``), ``set`` (``resident``:
        every network's weights at once) or ``network`` (the running network's)."""
        return self._holding

    @property
    def pays_weight_loading(self) -> bool:
        """Whether an inference pays the cost model's weight loading
        (:data:`~imc_moo.model.performance.WEIGHT_LOAD_COMPONENTS`): not where a memory that streams weights
        (SRAM) holds them on chip (:meth:`run_networks`)."""
        return not (memory_technology(self.memory).streams_weights and self._holding != "streamed")

    @property
    def latency_proportional_to_base_latency(self) -> bool:
        """Each workload's latency is its cycle count x ``base_latency_s`` (false when an amortised switching
        time is added)."""
        return not self.switches and not self.performance.bounded

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Per-workload values (n, W) aggregated as the problem says (:func:`aggregate` with the mix's shares)."""
        return aggregate(values, self.aggregation, None if self.deployment.equal_shares else self.deployment.shares)

    # -- evaluation ------------------------------------------------------------------------------------------
    def designs(self, genomes: np.ndarray) -> Designs:
        """Design arrays for genomes (n, n_var), without building a DataFrame."""
        cols = self.space.decode_arrays(genomes)
        ints = {k: np.asarray(v).astype(np.int64) for k, v in cols.items() if k not in ("voltage", "base_latency_s")}
        return Designs(memory=self.memory, voltage=np.asarray(cols["voltage"], dtype=float),
                       base_latency_s=np.asarray(cols["base_latency_s"], dtype=float), **ints)

    def evaluate_genomes(self, genomes: np.ndarray) -> Evaluation:
        """Evaluate genomes (n, n_var) on every workload: a pure function (no cache, no counting; a run's
        :class:`~imc_moo.algorithms.ledger.Ledger` does both)."""
        d = self.designs(genomes)
        run = self.run_networks(d, self._holding)
        area = d.total_area_mm2
        edap = self.aggregate(run.energy_j) * self.aggregate(run.latency_s) * area * EDAP_SCALE
        G = np.hstack([self.design_constraints(d), *self._limit_constraints(run.energy_j, run.latency_s,
                                                                            run.interval_s),
                       (~run.valid).sum(axis=1, keepdims=True).astype(float)])
        return self._evaluation(run, area, G, edap, d.technology_nm)

    def _evaluation(self, run: NetworkRun, area: np.ndarray, G: np.ndarray, edap: np.ndarray,
                    technology_nm: np.ndarray) -> Evaluation:
        mappable = run.valid.all(axis=1)
        return Evaluation(energy_j=run.energy_j, latency_s=run.latency_s, area_mm2=area, valid=run.valid,
                          weights_fit=run.weights_fit, G=G, edap=np.where(mappable, edap, PENALTY),
                          cost=area * cost_factor(technology_nm), switch_energy_j=run.switch_energy_j,
                          switch_latency_s=run.switch_latency_s, fidelity_flags=run.fidelity_flags, bound=run.bound,
                          interval_s=run.interval_s)

    def run_networks(self, d: Designs, holding: str) -> NetworkRun:
        """Every network on designs ``d`` (one memory) with its weights held as ``holding``
        (:data:`~imc_moo.model.performance.WEIGHT_HOLDING`): per inference, switching amortised, the power limit
        applied; arrays (n, W)."""
        r = evaluate_set(d, self.networks, self._theta, performance=self.performance, holding=holding)
        switch = self.deployment.amortised_switch_cost(d, self.networks)
        return self._deployed(r, d.technology.streams_weights and holding != "streamed", switch,
                              self.deployment.switches_for(len(self.networks)), d.total_area_mm2)

    def run_pairs(self, d: Designs, holding: str, rows: np.ndarray, nets: np.ndarray,
                  deployment: Deployment) -> NetworkRun:
        """:meth:`run_networks` of the design x network pairs (``rows[i]``, network ``nets[i]``) only, arrays (P,),
        the same numbers: the networks a design holds are those of its pairs (a partition's,
        :mod:`imc_moo.problem.tenancy`), which share it by ``deployment``."""
        r = evaluate_pairs(d, self.networks, [energy_coefficients(d.memory)] * len(self.networks), rows, nets,
                           performance=self.performance, holding=holding)
        switch = deployment.amortised_pair_switch_cost(d, self.networks, rows, nets)
        return self._deployed(r, d.technology.streams_weights and holding != "streamed", switch,
                              deployment.switches_for(len(self.networks)), d.total_area_mm2[rows])

    def _deployed(self, r, drop_weight_loading: bool, switch: tuple[np.ndarray, np.ndarray], switches: bool,
                  area: np.ndarray) -> NetworkRun:
        """A :class:`NetworkRun` of the model's result ``r`` as deployed: SRAM weights held on chip do not pay the
        weight loading, switching amortised, the power limit (``area`` per design, against ``r``'s arrays) applied
        to the energy as deployed."""
        energy, latency, valid, fits, flags = r.energy_j, r.latency_s, r.valid, r.weights_fit, r.fidelity_flags
        if drop_weight_loading:
            energy = sum(v for k, v in r.energy_components_j.items() if k not in WEIGHT_LOAD_COMPONENTS)
        switch_energy, switch_latency = switch
        if switches:
            energy += switch_energy
            latency += switch_latency
        bound = np.full(energy.shape, -1, dtype=np.int8)
        if r.timing is not None:  # bounded: the power limit applies to the energy as deployed, switching included
            latency, stretched = r.latency_s, r.power_stretched
            if switches or drop_weight_loading:
                latency, stretched = power_limited(energy, r.timing.time_s + switch_latency, area,
                                                   self.performance.bounds)
            bound[:] = np.where(stretched, len(BOUNDS), r.timing.bound)
        interval = latency
        if self.pipeline and r.timing is not None:  # an inference starts every slowest layer, within the power limit
            interval, _ = power_limited(energy, r.timing.max_layer_s + switch_latency, area, self.performance.bounds)
        dram_j = r.energy_components_j.get(SPILL_COMPONENT, 0.0)
        if not drop_weight_loading:
            dram_j = dram_j + r.energy_components_j.get("dram", 0.0)
        return NetworkRun(energy_j=energy, latency_s=latency, valid=valid, weights_fit=fits,
                          switch_energy_j=switch_energy, switch_latency_s=switch_latency, fidelity_flags=flags,
                          bound=bound, interval_s=interval,
                          dram_bytes=np.broadcast_to(dram_j / (DRAM_PJ_PER_BIT * 1e-12 * 8), energy.shape))

    def _limit_constraints(self, energy: np.ndarray, latency: np.ndarray, interval: np.ndarray) -> list[np.ndarray]:
        """(n, 1) per limit of :attr:`limits`, feasible when <= 0: the worst network's latency / limit - 1,
        limit x its interval between inferences - 1, its average power (energy / interval) / limit - 1."""
        worst = {"latency_s": lambda: latency.max(axis=1) / self.limits["latency_s"],
                 "throughput_per_s": lambda: interval.max(axis=1) * self.limits["throughput_per_s"],
                 "power_w": lambda: (energy / interval).max(axis=1) / self.limits["power_w"]}
        return [(worst[k]() - 1.0)[:, None] for k in self.limits]

    def objective_values(self, ev: Evaluation) -> np.ndarray:
        """The objectives F (n, n_obj) of evaluated designs; unmappable designs get :data:`PENALTY`."""
        if self.objectives == "edap":
            return ev.edap[:, None].copy()
        if self.objectives == "edap_cost":
            F = np.column_stack([ev.edap, ev.cost])
        elif self.objectives == "eta":
            F = np.column_stack([self.aggregate(ev.energy_j), self.aggregate(ev.interval_s), ev.area_mm2])
        else:
            F = np.column_stack([self.aggregate(ev.energy_j), self.aggregate(ev.latency_s), ev.area_mm2])
        F[~ev.valid.all(axis=1)] = PENALTY
        return F

    def design_constraints(self, d: Designs) -> np.ndarray:
        """The constraints that need no mapping, (n, n_ieq_constr - 1): weight cells needed / cells on chip - 1
        per workload (when weights stay on chip; ``resident``: of all workloads together), the endurance (when
        switches wear the cells), then area / limit - 1. Cheap: table lookups only."""
        g = []
        if self._resident:
            g.append(resident_capacity(d, self.networks)[:, None])
        elif self.weights_on_chip:
            chip = chip_cells(d).astype(float)
            g.extend((weight_cells(d, net) / chip - 1.0)[:, None] for net in self.networks)
        if self._endurance:
            g.append(self.deployment.endurance_constraint(d, self.networks)[:, None])
        g.append((d.total_area_mm2 / self.area_limit_mm2 - 1.0)[:, None])
        return np.hstack(g)

    # -- what a run's ledger needs (imc_moo.algorithms.ledger): genomes, their keys, outputs for pymoo -----------------
    def genomes_of(self, X: np.ndarray) -> np.ndarray:
        """The design genomes (n, n_var) int64 of pymoo's decision vectors X (rounded)."""
        return self.space.check_genomes(np.rint(np.asarray(X, dtype=float)).astype(np.int64))

    def table(self, X, per_network: bool = False) -> pd.DataFrame:
        """The designs of pymoo's decision vectors as one table (:meth:`results_frame`: decoded designs, objectives
        and feasibility, per-network columns, units in the names): ``X`` an (n, n_var) array, integer or float
        (rounded as :meth:`genomes_of` does), or a pymoo ``Result`` (its ``X``). ``per_network=True``: the long
        table instead, one row per design x network (:func:`per_network_table`: ``design_id``, ``workload``,
        ``mappable``, ``energy_j`` [J], ``latency_s`` [s], ``edap`` [mJ*ms*mm2], ``power_w`` [W],
        ``throughput_per_s`` [1/s], ``tops_per_w``, ``tops_per_mm2``, ``bound``, ...)."""
        X = getattr(X, "X", X)
        if X is None:
            raise ProblemError("the pymoo result holds no designs (res.X is None: no feasible design was found); "
                               "pass res.pop.get('X') for the last population")
        genomes = self.genomes_of(np.atleast_2d(np.asarray(X, dtype=float)))
        wide = self.results_frame(genomes, self.evaluate_genomes(genomes))
        return per_network_table(wide, self.workloads) if per_network else wide

    def genome_keys(self, genomes: np.ndarray) -> np.ndarray:
        """One int64 identity per genome (n,)."""
        return self.space.keys(genomes)

    def outputs(self, ev: Evaluation) -> dict[str, np.ndarray]:
        """What pymoo reads of evaluated designs: F, G and the aggregated EDAP."""
        return {"F": self.objective_values(ev), "G": ev.G, "edap": ev.edap}

    def _evaluate(self, X, out, *args, **kwargs):
        out.update(self.outputs(self.evaluate_genomes(self.genomes_of(X))))

    def with_objectives(self, objectives: str) -> WorkloadSetProblem:
        """The same problem (networks, space, constraints, aggregation) with other objectives, e.g. ``"edap"``
        for a single-objective optimizer on a three-objective problem. Shares the loaded networks."""
        if objectives not in OBJECTIVES:
            raise ProblemError(f"unknown objectives {objectives!r}: use one of {', '.join(OBJECTIVES)}")
        other = copy.copy(self)
        other.objectives = objectives
        other.n_obj = N_OBJ[objectives]
        other.cache = {}  # pymoo's memo of pareto_front & co. is per objective space
        return other

    # -- the exact front (pymoo's pareto_front / pareto_set) -------------------------------------------------------
    def exact(self, max_designs: int = EXACT_FRONT_MAX_DESIGNS) -> ExhaustiveResult | None:
        """The exact optimum and (energy, latency, area) front of the whole design space by enumeration
        (:func:`~imc_moo.problem.exhaustive.exhaustive`), computed once per problem object; None when the space
        holds more than ``max_designs`` designs."""
        memo = self.__dict__.setdefault("cache", {})
        if "exact" not in memo:
            if self.space.size > max_designs:
                return None
            memo["exact"] = exhaustive(self)
        return memo["exact"]

    def _calc_pareto_front(self, max_designs: int = EXACT_FRONT_MAX_DESIGNS) -> np.ndarray | None:
        """pymoo's ``problem.pareto_front()``: the exact front in this problem's objective space, (m, n_obj) sorted
        rows — ``eda``: aggregated energy [J], latency [s], area [mm2] of every non-dominated feasible design;
        ``edap``: the least feasible EDAP (1, 1). None where it is not known exactly: a space larger than
        ``max_designs`` designs (default :data:`EXACT_FRONT_MAX_DESIGNS`), objectives ``edap_cost`` or ``eta``
        (the enumeration keeps the energy-delay-area front only), or no feasible design."""
        exact = self.exact(max_designs) if self.objectives in ("eda", "edap") else None
        if exact is None or exact.best_genome is None:
            return None
        return exact.front_F.copy() if self.objectives == "eda" else np.array([[exact.best_edap]])

    def _calc_pareto_set(self, max_designs: int = EXACT_FRONT_MAX_DESIGNS) -> np.ndarray | None:
        """pymoo's ``problem.pareto_set()``: the genomes (m, n_var) of :meth:`pareto_front`'s rows, same order."""
        exact = self.exact(max_designs) if self.objectives in ("eda", "edap") else None
        if exact is None or exact.best_genome is None:
            return None
        return exact.front_genomes.copy() if self.objectives == "eda" else exact.best_genome[None, :].copy()

    # -- tables ----------------------------------------------------------------------------------------------
    def results_frame(self, genomes: np.ndarray, ev: Evaluation) -> pd.DataFrame:
        """The designs' results as one wide table, one row per design (the columns of ``archive.csv``, each with its
        unit in ``docs/reference/outputs.md``): ``design_id`` (the genome's key in the space, :meth:`genome_keys`:
        the same design has the same id in every table and run of the space), the decoded design, the aggregated
        objectives, ``mappable`` (every network can be mapped) and ``feasible``, ``cv`` (the sum of violations) and
        one column ``g_<constraint>`` per constraint (feasible when <= 0), ``fidelity_warning`` (:data:`NO_WARNING`
        if none), per-network ``mappable_``/energy/latency/EDAP columns; when switches cost, also the amortised
        switching energy and time per inference, per network and as the mix's share-weighted mean
        (``switch_energy_j``, ``switch_latency_s``); then what each design delivers (:meth:`_physics_columns`).

        Values that do not exist are NaN, never a sentinel: a network that cannot be mapped has no energy, latency,
        EDAP or physics, and a design with such a network no aggregated ones (``edap``, ``energy_j``,
        ``latency_s``, ``interval_s``, the chip's physics; pymoo still scores it :data:`PENALTY`).
        :func:`per_network_table` turns the table into one row per design x network."""
        mapped = ev.valid.astype(bool)
        mappable = mapped.all(axis=1)
        decoded = self.space.decode(genomes)
        # the columns gathered first and framed once: a column at a time, pandas warns of a fragmented frame
        df: dict[str, object] = {"design_id": self.genome_keys(genomes), **{c: decoded[c] for c in decoded.columns}}
        df["energy_j"] = np.where(mappable, self.aggregate(ev.energy_j), np.nan)
        df["latency_s"] = np.where(mappable, self.aggregate(ev.latency_s), np.nan)
        df["area_mm2"] = ev.area_mm2
        if self.pipeline:  # the time between inferences, aggregated as latency is (1 / throughput)
            df["interval_s"] = np.where(mappable, self.aggregate(ev.interval_s), np.nan)
        df["edap"] = np.where(mappable, ev.edap, np.nan)
        df["cost"] = ev.cost
        df["mappable"] = mappable
        df["feasible"] = ev.feasible
        df["cv"] = np.maximum(ev.G, 0).sum(axis=1)
        # designs the model is unsure of on some network (e.g. tiny SRAM chips refilling weights), "none" if none
        warning = fidelity_warning_text(np.bitwise_or.reduce(ev.fidelity_flags, axis=1))
        df["fidelity_warning"] = np.where(warning == "", NO_WARNING, warning).astype(object)
        for j, name in enumerate(self.constraint_names):
            df[f"g_{name}"] = ev.G[:, j]
        for w, name in enumerate(self.workloads):
            ok = mapped[:, w]
            df[f"mappable_{name}"] = ok
            df[f"energy_j_{name}"] = np.where(ok, ev.energy_j[:, w], np.nan)
            df[f"latency_s_{name}"] = np.where(ok, ev.latency_s[:, w], np.nan)
            df[f"edap_{name}"] = np.where(ok, ev.energy_j[:, w] * ev.latency_s[:, w] * ev.area_mm2 * EDAP_SCALE,
                                          np.nan)
        if self.switches:
            shares = self.deployment.shares
            df["switch_energy_j"] = ev.switch_energy_j @ shares
            df["switch_latency_s"] = ev.switch_latency_s @ shares
            for w, name in enumerate(self.workloads):
                df[f"switch_energy_j_{name}"] = ev.switch_energy_j[:, w]
                df[f"switch_latency_s_{name}"] = ev.switch_latency_s[:, w]
        self._physics_columns(df, ev)
        return pd.DataFrame(df, index=decoded.index)

    def _physics_columns(self, df: dict, ev: Evaluation) -> None:
        """What each design delivers (:func:`imc_moo.model.performance.physics`) at the model's latency: for the
        chip, the power and density of its most power-hungry network, the TOPS/W of its least efficient and the
        TOPS/mm2 of its fastest, ``over_power_limit`` on any network, and ``bound`` (of its slowest network); per
        network ``power_w_``, ``throughput_per_s_``, ``tops_per_w_``, ``tops_per_mm2_`` and ``bound_<network>``.
        A network that cannot be mapped has none of these (NaN; ``bound`` :data:`NO_BOUND`), a design with such a
        network no chip values; ``bound`` is :data:`NO_BOUND` under the reference model too, which bounds nothing."""
        macs = np.array([net.total_macs for net in self.networks], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):  # unmappable designs may have zero latency
            delivered = physics(ev.energy_j, ev.interval_s, ev.area_mm2, macs, self.performance.bounds)
        mapped = ev.valid.astype(bool)
        mappable = mapped.all(axis=1)
        names = np.array((NO_BOUND, *BOUND_NAMES), dtype=object)[ev.bound.astype(np.int64) + 1]
        names[~mapped] = NO_BOUND

        def chip(values: np.ndarray) -> np.ndarray:
            return np.where(mappable, values, np.nan)

        df["power_w"] = chip(delivered["power_w"].max(axis=1))
        df["power_density_w_per_mm2"] = chip(delivered["power_density_w_per_mm2"].max(axis=1))
        df["tops_per_w"] = chip(delivered["tops_per_w"].min(axis=1))
        df["tops_per_mm2"] = chip(delivered["tops_per_mm2"].max(axis=1))
        df["over_power_limit"] = (delivered["over_power_limit"] & mapped).any(axis=1)
        n = len(ev.area_mm2)
        df["bound"] = names[np.arange(n), ev.latency_s.argmax(axis=1)] if n else np.empty(0, dtype=object)
        for w, name in enumerate(self.workloads):
            for col in ("power_w", "throughput_per_s", "tops_per_w", "tops_per_mm2"):
                df[f"{col}_{name}"] = np.where(mapped[:, w], delivered[col][:, w], np.nan)
            df[f"bound_{name}"] = names[:, w]

    def __repr__(self) -> str:
        """``WorkloadSetProblem(rram_cnn4: RRAM resnet18+vgg16+... | objectives edap (max) | ...)``: what the problem
        is (pymoo's own ``__str__`` calls ``self.name()``, which is this problem's name string)."""
        derived = f"{self.memory}_{'+'.join(self.workloads)}"  # the name given when none was
        named = f"{self.name}: " if self.name and self.name != derived else ""
        return f"{type(self).__name__}({named}{self.describe()})"

    __str__ = __repr__

    def describe(self) -> str:
        """One line: memory, networks, objectives and aggregation, area limit, space and its size, deployment."""
        dep = self.deployment
        default = dep.mode == default_deployment(self.memory) and dep.equal_shares and not dep.switching
        return (f"{self.memory.upper()} {'+'.join(self.workloads)} | objectives {self.objectives} "
                f"({self.aggregation}) | area <= {self.area_limit_mm2:g} mm2 | space {self.space.name} "
                f"({self.space.size:,} designs)" + ("" if default else f" | {dep.describe()}"))


# -- result tables: tokens for absent text, and the long per-network table ---------------------------------------------
#: ``fidelity_warning`` of a design the model has no doubt about (a token, not an empty cell: the column reads
#: back as text).
NO_WARNING = "none"
#: ``bound`` / ``bound_<network>`` where nothing bounds the time: under the reference model (which bounds nothing)
#: and for a network (a design) that cannot be mapped.
NO_BOUND = "none"
#: A run's identifier columns, first in every table a run writes (:mod:`imc_moo.app.export`), so a sweep's tables
#: pool with a plain concat: the problem and run labels (as the report names them), the algorithm and the seed.
RUN_COLUMNS = ("problem", "algorithm", "seed", "label")
#: The values of the long per-network table (:func:`per_network_table`), in order, each where the wide table has it
#: for every network (``switch_*``: when switches cost).
PER_NETWORK_VALUES = ("mappable", "energy_j", "latency_s", "edap", "power_w", "throughput_per_s", "tops_per_w",
                      "tops_per_mm2", "bound", "switch_energy_j", "switch_latency_s")


def per_network_table(table: pd.DataFrame, workloads: Sequence[str] | None = None) -> pd.DataFrame:
    """A wide results table (:meth:`WorkloadSetProblem.results_frame`, ``archive.csv``, ``pareto.csv``) as a long
    one: one row per design x network, design-major, in the wide table's row order, so its values melt, group and
    plot per network without parsing column names.

    Columns: the wide table's identifier columns (:data:`RUN_COLUMNS` where present, ``design_id``), then
    ``workload`` (the network), ``partition`` (a partitioned chip's: the network's partition), ``mappable`` (the
    network can be mapped on the design; when false, the values below are NaN, ``bound`` :data:`NO_BOUND`),
    ``energy_j`` [J] and ``latency_s`` [s] per inference (switching amortised), ``edap`` [mJ*ms*mm2] (that network's
    energy x latency x the chip's area), ``power_w`` [W] (average power at the network's throughput),
    ``throughput_per_s`` [inferences/s], ``tops_per_w`` [TOPS/W], ``tops_per_mm2`` [TOPS/mm2], ``bound`` (what
    bounds most of its time, :data:`NO_BOUND` under the reference model) and, when switches cost,
    ``switch_energy_j`` [J] and ``switch_latency_s`` [s] (the amortised switching cost per inference, included in
    energy and latency). Value columns the wide table lacks are left out.

    Args:
        table: a wide results table (or a read-back ``archive.csv``/``pareto.csv``).
        workloads: the networks, in order; default those of its ``mappable_<network>`` columns.
    """
    if workloads is None:
        workloads = [str(c).removeprefix("mappable_") for c in table.columns if str(c).startswith("mappable_")]
    keys = [c for c in (*RUN_COLUMNS, "design_id") if c in table.columns]
    placed = all(f"place_{w}" in table.columns for w in workloads) and len(workloads) > 0
    values = [v for v in PER_NETWORK_VALUES if all(f"{v}_{w}" in table.columns for w in workloads)]
    columns = [*keys, "workload", *(["partition"] if placed else []), *values]
    n, W = len(table), len(workloads)
    if not W:
        return pd.DataFrame(columns=columns)

    def stacked(prefix: str) -> np.ndarray:  # (n * W,): design-major, the networks in order
        return np.column_stack([table[f"{prefix}_{w}"].to_numpy() for w in workloads]).reshape(-1)

    out = {k: np.repeat(table[k].to_numpy(), W) for k in keys}
    out["workload"] = np.tile(np.asarray(workloads, dtype=object), n)
    if placed:
        out["partition"] = stacked("place")
    out.update({v: stacked(v) for v in values})
    return pd.DataFrame(out, columns=columns)
