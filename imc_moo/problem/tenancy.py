"""One chip, several models at once: partitions of their own crossbar shape and memory, networks placed on them.

A *partitioned chip* (:class:`PartitionedProblem`) has up to K partitions (``partitions``). What each owns and what
they share:

* **Own**: crossbar memory technology (a gene when ``memories`` lists more than one, e.g. ``[rram, sram]``), bits per
  cell (SRAM: 1), crossbar rows x columns, router groups, tiles, macros per tile, and a global-buffer *bank*
  (``glb_mib``). A partition is a complete sub-chip: its networks' layers are mapped on its macros only, their
  activations use its bank, their inputs and partial sums its routers. The buffer is banked rather than one shared
  array because networks on different partitions run at the same time: one array would have one port and one
  capacity to contend for, which the per-layer roofline cannot price; banks give each partition the port and the
  capacity its own evaluation assumes.
* **Shared**: supply voltage, clock period and node (one die, one clock), the DRAM interface and the chip's power
  budget. Each partition's time per inference is its own bounded model's, which assumes the whole DRAM bandwidth
  while it streams; with rates, the chip's *average* DRAM traffic and power over all partitions must fit the
  interface and the power limit (constraints ``dram_at_rates`` and ``power_at_rates``). Concurrent bursts above the
  average are not modelled (an optimistic assumption where two partitions stream at once).

**Placement**: one gene per network, the partition it runs on. A partition no network is placed on is not built (no
area). Networks on different partitions run concurrently; networks on one partition share it by a deployment mode
(:mod:`imc_moo.problem.deployment`): ``deployment=auto`` (the default of the tenancy problems) keeps them
``resident`` when one copy of all their layers fits the partition's crossbars (and cells), else the memory's own
rule (RRAM ``reprogram``: rewritten at every switch, wearing the cells; SRAM ``stream``); an explicit mode applies to
every partition. A partition's switching follows the mix (``inferences_per_switch``; with rates each network runs
once per :data:`~imc_moo.problem.deployment.FRAME_S`).

**Rates** (``mix.rates_hz``): each network's inferences per second. A partition is feasible when its networks' rates
x their time per inference (switching included) fit in the frame (constraint ``load_p<k>``); the chip's power at the
rates is ``power_at_rates_w`` (an output column; with ``aggregation=mean`` the rates are the shares, so the energy
objective is that power / the summed rate).

With K = 1 and one memory the genome, the decoded table and every number are those of
:class:`~imc_moo.problem.WorkloadSetProblem` (tests check it bit for bit); with K > 1 the chip's energy and time per
network are those of its partition evaluated as a chip of its own, and its area the partitions' sum.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from pymoo.core.problem import Problem

from imc_moo.hardware import DESIGN_COLUMNS, GLB_WORDS_PER_MIB, DesignError, HardwareError, memory_technology
from imc_moo.model.cost import Designs, chip_cells, weight_cells
from imc_moo.model.performance import power_limit_w
from imc_moo.model.tabulated import network_table
from imc_moo.problem.deployment import (
    DEPLOYMENTS,
    FRAME_S,
    Deployment,
    DeploymentError,
    default_deployment,
    resident_capacity,
)
from imc_moo.problem.space import DesignSpace, GenomeKeys, IntegerGenome, space_from_lists, space_lists
from imc_moo.problem.workload_set import EDAP_SCALE, N_OBJ, Evaluation, NetworkRun, ProblemError, WorkloadSetProblem

#: ``p<k>_deployment`` of a partition no network is placed on (not built).
NOT_BUILT = "none"

#: Parameters each partition has of its own (``glb_depth``: its buffer bank).
PARTITION_PARAMS = ("bits_per_cell", "xbar_rows", "xbar_cols", "router_group", "tiles_per_chip", "macros_per_tile",
                    "glb_depth")
#: Parameters of the whole chip.
SHARED_PARAMS = ("voltage", "base_latency_s", "technology_nm")
#: The partition deployment that picks per partition: resident when its networks fit together, else the memory's.
AUTO = "auto"
#: How each deployment mode holds the weights while a network runs (:data:`imc_moo.model.performance.WEIGHT_HOLDING`).
HOLDING = {"resident": "set", "reprogram": "network", "stream": "streamed"}
#: Codes of the ``p<k>_deployment`` column (-1: the partition is not built).
MODES = ("resident", "reprogram", "stream")


@dataclass
class PartitionedEvaluation(Evaluation):
    """An :class:`~imc_moo.problem.Evaluation` of partitioned chips, plus per partition (n, K): its area
    ``partition_area_mm2`` (0 if not built) and its deployment ``partition_mode`` (an index into :data:`MODES`, -1
    if not built)."""

    partition_area_mm2: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    partition_mode: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0), dtype=np.int8))


@dataclass(frozen=True)
class PartitionedSpace(IntegerGenome):
    """The genome of a partitioned chip: shared genes, K partitions' genes and a placement gene per network.

    Genes appear in the order of :data:`~imc_moo.hardware.DESIGN_COLUMNS`, a partition parameter once per partition
    (``p0_xbar_rows``, ``p1_xbar_rows``, ...), then ``p<k>_memory`` (mixed memories), then ``place_<network>``. A list
    of one value fixes its parameter (no gene). With K = 1 and one memory the genes and the decoded table are the
    plain design space's (no prefixes, no placement).

    Attributes:
        memories: the memory technologies a partition may use.
        partitions: K, the most partitions a chip may have.
        workloads: the networks placed, in order.
        lists: one value list per design parameter (``glb_depth`` in 2048-bit words), valid for every memory.
        name: a label.
    """

    memories: tuple[str, ...]
    partitions: int
    workloads: tuple[str, ...]
    lists: Mapping[str, tuple]
    name: str = ""

    @property
    def plain(self) -> bool:
        """One partition of one memory: today's chip."""
        return self.partitions == 1 and len(self.memories) == 1

    def column(self, param: str, k: int) -> str:
        """The table column of a partition's parameter (prefixed ``p<k>_`` unless the chip is :attr:`plain`)."""
        return param if self.plain else f"p{k}_{param}"

    @functools.cached_property
    def all_values(self) -> dict[str, tuple]:
        """Every column's values in gene order, fixed ones included (one value)."""
        out: dict[str, tuple] = {}
        for param in DESIGN_COLUMNS:
            if param in SHARED_PARAMS:
                out[param] = tuple(self.lists[param])
            elif param in PARTITION_PARAMS:
                for k in range(self.partitions):
                    out[self.column(param, k)] = tuple(self.lists[param])
        if len(self.memories) > 1:
            for k in range(self.partitions):
                out[f"p{k}_memory"] = self.memories
        if self.partitions > 1:
            for w in self.workloads:
                out[f"place_{w}"] = tuple(range(self.partitions))
        return out

    @functools.cached_property
    def values(self) -> dict[str, tuple]:  # type: ignore[override]  # derived, not a field
        """Searched genes -> their values, in gene order."""
        return {k: v for k, v in self.all_values.items() if len(v) > 1}

    @property
    def fixed(self) -> dict[str, Any]:
        return {k: v[0] for k, v in self.all_values.items() if len(v) == 1}

    def decode_arrays(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Genomes (n, n_var) -> one (n,) array per column of :attr:`all_values` (memories as names, placements as
        partition indices)."""
        genomes = self.check_genomes(genomes)
        n = len(genomes)
        out: dict[str, np.ndarray] = {}
        j = 0
        for key, vals in self.all_values.items():
            if len(vals) > 1:
                out[key] = np.asarray(vals)[genomes[:, j]]
                j += 1
            else:
                out[key] = np.full(n, vals[0])
        return out

    def placement(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """(n, W) int: the partition of each network (all 0 for one partition)."""
        n = len(columns["voltage"])
        if self.partitions == 1:
            return np.zeros((n, len(self.workloads)), dtype=np.int64)
        return np.column_stack([columns[f"place_{w}"] for w in self.workloads]).astype(np.int64)

    def memory_of(self, columns: Mapping[str, np.ndarray], k: int) -> np.ndarray:
        """(n,) the memory of partition k."""
        if len(self.memories) == 1:
            return np.full(len(columns["voltage"]), self.memories[0])
        return columns[f"p{k}_memory"]

    def partition_designs(self, columns: Mapping[str, np.ndarray], k: int, rows: np.ndarray, memory: str) -> Designs:
        """The designs of partition k at ``rows``, as chips of their own of ``memory``."""
        def take(param: str, dtype) -> np.ndarray:
            return np.asarray(columns[param if param in SHARED_PARAMS else self.column(param, k)])[rows].astype(dtype)

        bits = take("bits_per_cell", np.int64)
        if not memory_technology(memory).weights_resident:
            bits = np.ones_like(bits)  # an SRAM cell holds one bit: the bits gene is inert on an SRAM partition
        return Designs(memory=memory, voltage=take("voltage", float), bits_per_cell=bits,
                       base_latency_s=take("base_latency_s", float), xbar_rows=take("xbar_rows", np.int64),
                       xbar_cols=take("xbar_cols", np.int64), router_group=take("router_group", np.int64),
                       tiles_per_chip=take("tiles_per_chip", np.int64),
                       macros_per_tile=take("macros_per_tile", np.int64), glb_depth=take("glb_depth", np.int64),
                       technology_nm=take("technology_nm", np.int64))

    def stacked_designs(self, columns: Mapping[str, np.ndarray], where: Sequence[tuple[int, np.ndarray]],
                        memory: str) -> Designs:
        """The partition designs of ``memory`` of several partitions at once: for each (k, rows) of ``where``,
        partition k of the designs ``rows``, one after another (what :meth:`partition_designs` gives each)."""
        parts = [self.partition_designs(columns, k, rows, memory) for k, rows in where]
        return Designs(memory=memory, **{f: np.concatenate([getattr(p, f) for p in parts])
                                         for f in Designs.__dataclass_fields__ if f != "memory"})

    def decode(self, genomes: np.ndarray) -> pd.DataFrame:
        """Genomes -> the chip's table: the shared columns, each partition's (``p<k>_...``, with ``glb_mib``), its
        memory and each network's partition (``place_<network>``); with K = 1 and one memory, the plain design
        table (:meth:`DesignSpace.decode`)."""
        cols = self.decode_arrays(genomes)
        if self.plain:
            return self.design_space(self.memories[0]).decode(np.asarray(genomes))
        out: dict[str, np.ndarray] = {}
        for param in DESIGN_COLUMNS:
            if param in SHARED_PARAMS:
                out[param] = cols[param]
        for k in range(self.partitions):
            memory = self.memory_of(cols, k)
            out[f"p{k}_memory"] = memory.astype(object)
            for param in PARTITION_PARAMS:
                out[self.column(param, k)] = cols[self.column(param, k)].astype(np.int64)
            binary = ~np.isin(memory, [m for m in self.memories if memory_technology(m).weights_resident])
            out[self.column("bits_per_cell", k)][binary] = 1  # an SRAM partition's bits gene is inert
            out[self.column("glb_mib", k)] = cols[self.column("glb_depth", k)] / GLB_WORDS_PER_MIB
        for w in self.workloads:
            if self.partitions > 1:
                out[f"place_{w}"] = cols[f"place_{w}"].astype(np.int64)
        df = pd.DataFrame(out)
        df["voltage"] = df["voltage"].astype(float)
        df["base_latency_s"] = df["base_latency_s"].astype(float)
        df["technology_nm"] = df["technology_nm"].astype(np.int64)
        return df

    def design_space(self, memory: str) -> DesignSpace:
        """The plain design space of one partition of ``memory`` (the lists, checked against its cost model)."""
        lists = {k: list(v) for k, v in self.lists.items()}
        if not memory_technology(memory).weights_resident:
            lists["bits_per_cell"] = [1]
        return space_from_lists(memory, lists, name=self.name)

    @classmethod
    def of(cls, memories: Sequence[str], partitions: int, workloads: Sequence[str],
           base: DesignSpace) -> PartitionedSpace:
        """The partitioned space of ``base``'s value lists, checked against every memory's cost model (raises
        :class:`ProblemError` naming the value)."""
        lists = {**{k: (v,) for k, v in base.fixed.items()}, **{k: tuple(v) for k, v in base.values.items()}}
        out = cls(memories=tuple(memories), partitions=int(partitions), workloads=tuple(workloads),
                  lists=lists, name=base.name if partitions == 1 else f"{base.name}x{partitions}")
        for memory in memories:  # every memory's cost model must cover the lists
            try:
                out.design_space(memory)
            except DesignError as err:
                raise ProblemError(f"{err} (a partitioned chip's lists must suit each of its memories: "
                                   f"{', '.join(memories)})") from None
        try:
            GenomeKeys(out.xl, out.xu)  # a run keys every design with an int64
        except ValueError as err:
            raise ProblemError(str(err)) from None
        return out


class PartitionedProblem(WorkloadSetProblem):
    """A chip of up to K partitions serving its networks concurrently (the module's model).

    Args (beyond :class:`~imc_moo.problem.WorkloadSetProblem`'s, which keep their meaning):
        partitions: K, the most partitions (1: today's chip, with the same numbers).
        memories: the memory technologies a partition may be of (default ``[memory]``; ``[rram, sram]``: a gene per
            partition). Each must be covered by the space's lists (SRAM partitions hold one bit per cell).
        deployment: ``auto`` (per partition: resident when its networks fit together, else the memory's rule),
            or one mode for every partition (``resident``, ``reprogram``, ``stream`` where the memory allows it),
            or None (the memory's rule).
    """

    def __init__(self, workloads: str | Sequence[str] = "cnn4", memory: str = "rram", partitions: int = 2,
                 memories: Sequence[str] | None = None, deployment: str | None = AUTO,
                 space: str | Mapping | DesignSpace | None = None, technology_nm=None, voltages=None,
                 weights_on_chip: bool | None = None, **kwargs):
        if isinstance(partitions, bool) or not isinstance(partitions, (int, np.integer)) or not 1 <= partitions <= 8:
            raise ProblemError(f"partitions={partitions!r} must be a whole number from 1 to 8 (the most partitions "
                               "a chip may have)")
        try:
            memories = tuple(memory_technology(m).name for m in (memories or [memory]))
        except HardwareError as err:
            raise ProblemError(str(err)) from None
        if len(set(memories)) != len(memories):
            raise ProblemError(f"memories={list(memories)} lists a memory twice: list each once")
        if weights_on_chip is not None:
            raise ProblemError("weights_on_chip does not apply to a partitioned chip: each partition's deployment "
                               "decides (deployment=auto, resident, reprogram or stream)")
        if deployment not in (None, AUTO, *DEPLOYMENTS):
            raise ProblemError(f"unknown deployment {deployment!r}: use auto, {', '.join(DEPLOYMENTS)} or null")
        self.partition_deployment = deployment
        self.memories = memories
        if isinstance(space, str):  # a value-list file's lists serve every memory a partition may be of
            space = space_lists(space)
        # the lists are checked against a memory that takes them all (RRAM's bits per cell), then against each memory
        base = next((m for m in memories if memory_technology(m).weights_resident), memories[0])
        if isinstance(space, Mapping):
            space = {k: v for k, v in space.items() if k != "memory"}
            if not memory_technology(base).weights_resident:
                space["bits_per_cell"] = [1]
        super().__init__(workloads, memory=base, space=space, technology_nm=technology_nm, voltages=voltages,
                         deployment=None if deployment == AUTO else deployment, **kwargs)
        self.space: PartitionedSpace = PartitionedSpace.of(  # type: ignore[assignment]  # the partitioned genome
            memories, partitions, self.workloads, cast(DesignSpace, self.space))
        self.partitions = int(partitions)
        try:
            self.deployments = {(m, mode): Deployment.of(m, self.workloads, mode, kwargs.get("mix"),
                                                         kwargs.get("endurance_cycles"))
                                for m in memories for mode in self._modes(m)}
        except DeploymentError as err:
            raise ProblemError(str(err)) from None
        self._endurance = any(dep.has_endurance_constraint(len(self.networks)) for dep in self.deployments.values())
        self._rates = self.deployment.rates_hz
        if not self.space.plain:  # capacity depends on the placement: no capacity-first sampling (algorithms.hamming)
            self.weights_on_chip = False
        Problem.__init__(self, n_var=self.space.n_var, n_obj=N_OBJ[self.objectives],
                         n_ieq_constr=len(self.constraint_names), xl=self.space.xl, xu=self.space.xu, vtype=int,
                         **self._pymoo_kwargs)

    # -- deployment per partition -----------------------------------------------------------------------------
    def _modes(self, memory: str) -> tuple[str, ...]:
        """The modes a partition of ``memory`` may run in."""
        if self.partition_deployment == AUTO:
            return ("resident", default_deployment(memory))
        return (self.partition_deployment or default_deployment(memory),)

    # -- naming -------------------------------------------------------------------------------------------------
    @property
    def _plain_constraints(self) -> bool:
        """Today's chip (one partition, one memory, one deployment mode, no rates): today's constraints too."""
        return self.space.plain and self.partition_deployment != AUTO and self._rates is None

    @property
    def constraint_names(self) -> tuple[str, ...]:
        if self._plain_constraints:
            return super().constraint_names
        cap = tuple(f"capacity_{w}" for w in self.workloads)
        rates = (tuple(f"load_p{k}" for k in range(self.partitions)) + ("power_at_rates", "dram_at_rates")
                 if self._rates is not None else ())
        return (cap + (("endurance",) if self._endurance else ()) + ("area",) + tuple(f"{k}_limit" for k in self.limits)
                + rates + ("unmappable_workloads",))

    @property
    def switches(self) -> bool:
        return any(dep.switches_for(len(self.networks)) for dep in self.deployments.values())

    # -- evaluation ---------------------------------------------------------------------------------------------
    def designs(self, genomes: np.ndarray) -> Designs:
        """The design arrays of a one-partition, one-memory chip (as :meth:`WorkloadSetProblem.designs`); a chip of
        several partitions is several designs (:meth:`PartitionedSpace.partition_designs`)."""
        if not self.space.plain:
            raise ProblemError("a partitioned chip is several designs: use space.partition_designs per partition")
        cols = self.space.decode_arrays(genomes)
        return self.space.partition_designs(cols, 0, np.arange(len(genomes)), self.memory)

    def evaluate_genomes(self, genomes: np.ndarray):
        cols = self.space.decode_arrays(genomes)
        placement = self.space.placement(cols)
        n, W = placement.shape
        run = _empty_run(n, W)
        area_parts = np.zeros((n, self.partitions))
        mode = np.full((n, self.partitions), -1, dtype=np.int8)
        capacity = np.full((n, W), -1.0)
        endurance = np.full(n, -1.0)
        for m in self.memories:
            # every built partition of memory m, of every design, as one stack of partition designs
            where = [(k, np.flatnonzero((placement == k).any(axis=1) & (self.space.memory_of(cols, k) == m)))
                     for k in range(self.partitions)]
            origin = np.concatenate([rows for _, rows in where])  # the design each partition design belongs to
            if len(origin) == 0:
                continue
            slot = np.concatenate([np.full(len(rows), k) for k, rows in where])  # and which partition it is
            d = self.space.stacked_designs(cols, where, m)
            members = placement[origin] == slot[:, None]
            area_parts[origin, slot] = d.total_area_mm2
            modes = self._partition_modes(d, m, members)
            for code in np.unique(modes):
                mode_name = MODES[code]
                sel = np.flatnonzero(modes == code)
                part = d if len(sel) == len(origin) else d.take(sel)
                at, mem = origin[sel], members[sel]
                dep = self.deployments[(m, mode_name)]
                mode[at, slot[sel]] = code
                pair_rows, pair_nets = np.nonzero(mem)  # each network on the designs it is placed on
                r = self.run_pairs(part, HOLDING[mode_name], pair_rows, pair_nets, dep)
                _scatter(run, r, at[pair_rows], pair_nets)
                capacity[at[pair_rows], pair_nets] = self._capacity(part, mode_name, mem)[pair_rows, pair_nets]
                if dep.has_endurance_constraint(W):
                    np.maximum.at(endurance, at, dep.endurance_constraint(part, self.networks, mem))
        area = area_parts.sum(axis=1)
        edap = self.aggregate(run.energy_j) * self.aggregate(run.latency_s) * area * EDAP_SCALE
        if self._plain_constraints:
            G = [self.design_constraints(self.space.partition_designs(cols, 0, np.arange(n), self.memory))]
        else:
            G = [capacity]
            if self._endurance:
                G.append(endurance[:, None])
            G.append((area / self.area_limit_mm2 - 1.0)[:, None])
        G.extend(self._limit_constraints(run.energy_j, run.latency_s, run.interval_s))
        if self._rates is not None:
            G.extend(self._rate_constraints(run, placement, area))
        G.append((~run.valid).sum(axis=1, keepdims=True).astype(float))
        ev = self._evaluation(run, area, np.hstack(G), edap, np.asarray(cols["technology_nm"]).astype(np.int64))
        return PartitionedEvaluation(**vars(ev), partition_area_mm2=area_parts, partition_mode=mode)

    def _partition_modes(self, d: Designs, memory: str, members: np.ndarray) -> np.ndarray:
        """(n,) int8, the deployment mode (an index into :data:`MODES`) of each partition design holding
        ``members``: the fixed mode, or ``auto``'s choice (resident when one copy of its networks' layers fits its
        crossbars and their weights its cells)."""
        modes = [MODES.index(mode) for mode in self._modes(memory)]
        if len(modes) == 1:
            return np.full(d.n, modes[0], dtype=np.int8)
        cells_fit = resident_capacity(d, self.networks, members) <= 0
        if self.performance.bounded:
            keys = d.mapping_keys
            crossbars = np.column_stack([network_table(net, memory).column(keys, "crossbars")
                                         for net in self.networks])
            cells_fit &= np.where(members, crossbars, 0.0).sum(axis=1) <= d.n_macros
        return np.where(cells_fit, modes[0], modes[1]).astype(np.int8)

    def _capacity(self, d: Designs, mode: str, members: np.ndarray) -> np.ndarray:
        """(n, W) capacity constraint values of the networks on these partition designs: resident, the partition's
        cells of all its networks / its cells - 1 on its first network's column (one violation counted once);
        reprogram, each network's cells / the partition's - 1; stream, -1 (nothing held)."""
        n, W = members.shape
        if mode == "stream":
            return np.full((n, W), -1.0)
        if mode == "reprogram":
            chip = chip_cells(d).astype(float)
            return np.column_stack([weight_cells(d, net) / chip - 1.0 for net in self.networks])
        first = members.argmax(axis=1)
        out = np.full((n, W), -1.0)
        out[np.arange(n), first] = resident_capacity(d, self.networks, members)
        return out

    def _rate_constraints(self, run: NetworkRun, placement: np.ndarray, area: np.ndarray) -> list[np.ndarray]:
        """With rates: each partition's load (its networks' rates x time between inferences, switching included,
        / the frame - 1), the chip's average power at the rates / its power limit - 1 and its DRAM traffic at the
        rates / the interface's bandwidth - 1."""
        rates = self._rates
        busy = rates * run.interval_s  # (n, W) seconds of each second
        loads = [np.where(placement == k, busy, 0.0).sum(axis=1) / FRAME_S - 1.0 for k in range(self.partitions)]
        bounds = self.performance.bounds
        power = run.energy_j @ rates
        limit = power_limit_w(area, bounds)
        dram = run.dram_bytes @ rates
        return [*(x[:, None] for x in loads), (power / limit - 1.0)[:, None],
                (dram / bounds.dram_bytes_per_s - 1.0)[:, None]]

    # -- tables ---------------------------------------------------------------------------------------------------
    def exact(self, max_designs: int = 0) -> None:
        """No exact front: the enumeration walks one chip's genes, not partitions and placements (so
        ``pareto_front()`` is None)."""
        return None

    def results_frame(self, genomes: np.ndarray, ev) -> pd.DataFrame:
        """:meth:`WorkloadSetProblem.results_frame` plus, for K > 1, each partition's area and deployment mode
        (``p<k>_area_mm2``, ``p<k>_deployment``, :data:`NOT_BUILT` when not built) and each network's partition, and
        with rates the chip's power at them (``power_at_rates_w``; NaN when a network cannot be mapped)."""
        df = super().results_frame(genomes, ev)
        if self.partitions > 1 or len(self.memories) > 1:
            names = np.array((NOT_BUILT, *MODES), dtype=object)
            for k in range(self.partitions):
                df[f"p{k}_area_mm2"] = ev.partition_area_mm2[:, k]
                df[f"p{k}_deployment"] = names[ev.partition_mode[:, k].astype(np.int64) + 1]
        if self._rates is not None:
            df["power_at_rates_w"] = np.where(ev.valid.all(axis=1), ev.energy_j @ self._rates, np.nan)
        return df

    def describe(self) -> str:
        mems = "/".join(m.upper() for m in self.memories)
        dep = self.partition_deployment or "memory's rule"
        return (f"{mems} up to {self.partitions} partitions, deployment {dep} | {'+'.join(self.workloads)} | "
                f"objectives {self.objectives} ({self.aggregation}) | area <= {self.area_limit_mm2:g} mm2 | space "
                f"{self.space.name} ({self.space.size:,} designs)"
                + (f" | {self.deployment.describe()}" if self._rates is not None else ""))


def _empty_run(n: int, W: int) -> NetworkRun:
    zeros = np.zeros((n, W))
    return NetworkRun(energy_j=zeros.copy(), latency_s=zeros.copy(), valid=np.zeros((n, W), dtype=bool),
                      weights_fit=np.ones((n, W), dtype=bool), switch_energy_j=zeros.copy(),
                      switch_latency_s=zeros.copy(), fidelity_flags=np.zeros((n, W), dtype=np.uint8),
                      bound=np.full((n, W), -1, dtype=np.int8), interval_s=zeros.copy(), dram_bytes=zeros.copy())


def _scatter(into: NetworkRun, pairs: NetworkRun, rows: np.ndarray, nets: np.ndarray) -> None:
    """Copy the results of design x network pairs (design ``rows[i]``, network ``nets[i]``), arrays (P,), into
    ``into``'s (n, W) arrays."""
    for f in dataclasses.fields(NetworkRun):
        getattr(into, f.name)[rows, nets] = getattr(pairs, f.name)
