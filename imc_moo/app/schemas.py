"""The schemas of the Hydra app: the app, its design space and its problem, as typed data for Hydra's ConfigStore.

OmegaConf checks every value against these dataclasses when the config is composed, so a wrong type
(``plots=maybe``, ``problem.area_limit_mm2=abc``) fails before anything runs, naming the key. The YAML files in
``conf/`` hold the values and extend each other through their defaults lists:

* ``conf/config.yaml``: the app (:class:`AppConfig`): ``budget``, ``seed``, ``plots``, ``progress``, and the
  ``space``, ``problem`` and ``algorithm`` groups;
* ``conf/space/*.yaml`` (:class:`SpaceConfig`): one value list per design parameter (a problem picks its default
  list file; ``space.xbar_rows=[64,128]`` narrows a gene from the command line);
* ``conf/problem/*.yaml`` (:class:`ProblemConfig`): ``_target_`` :func:`~imc_moo.problem.make_problem` (a
  :class:`~imc_moo.problem.WorkloadSetProblem`, or with ``partitions`` a :class:`~imc_moo.problem.PartitionedProblem`);
* ``conf/algorithm/*.yaml``: the algorithm schemas of :mod:`imc_moo.algorithms.schemas`.

:func:`register_schemas` stores them all (through :func:`imc_moo.app.config.register`, which the app and the
``imc_moo.conf`` package call, so Hydra's Compose API works on the installed package without importing anything
first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from imc_moo.algorithms.schemas import register_algorithm_schemas

#: The name of the app's schema in the ConfigStore (``conf/config.yaml`` extends it in its defaults list).
APP_SCHEMA = "imc_moo_schema"


@dataclass
class SpaceConfig:
    """One value list per design parameter (SI units; ``glb_mib`` in MiB). One value fixes a parameter."""

    name: str = MISSING
    memory: str = MISSING
    #: supply voltage [V]
    voltage: list[float] = MISSING
    bits_per_cell: list[int] = MISSING
    #: clock period [s]
    base_latency_s: list[float] = MISSING
    xbar_rows: list[int] = MISSING
    xbar_cols: list[int] = MISSING
    router_group: list[int] = MISSING
    tiles_per_chip: list[int] = MISSING
    macros_per_tile: list[int] = MISSING
    #: global buffer [MiB]
    glb_mib: list[float] = MISSING
    #: technology node [nm]
    technology_nm: list[int] = MISSING


@dataclass
class HVPoint:
    #: energy [J], latency [s] and area [mm2] of a corner of the hypervolume box
    energy_j: float = MISSING
    latency_s: float = MISSING
    area_mm2: float = MISSING


@dataclass
class HVBounds:
    """Hypervolume box: objectives are log10-scaled onto [0, 1] between ``ideal`` and ``reference``."""

    ideal: HVPoint = field(default_factory=HVPoint)
    reference: HVPoint = field(default_factory=HVPoint)


@dataclass
class MixConfig:
    """The workload mix a chip serves (:mod:`imc_moo.problem.deployment`)."""

    #: network -> share of the inferences (positive numbers, normalised to sum 1); null: equal shares
    shares: Any = None
    #: mean inferences between switches to another network (>= 1; 1: every inference); null: never
    inferences_per_switch: float | None = None
    #: inferences over the chip's lifetime: the writes that wear the cells (endurance constraint)
    lifetime_inferences: float = 1e9
    #: network -> inferences per second it must sustain (a constraint per partition; sets the shares); null: none
    rates_hz: Any = None


@dataclass
class BoundsConfig:
    """The chip's physical limits for the bounded performance model (``conf/bounds/default.yaml`` holds the values
    and their sources; :class:`imc_moo.hardware.ChipBounds`)."""

    #: one read pulse of the temporal DAC [s]
    pulse_width_s: float = MISSING
    #: pulses of one full-scale input
    input_pulses: float = MISSING
    #: one ADC conversion [s]
    adc_conversion_s: float = MISSING
    #: crossbar columns sharing one ADC
    columns_per_adc: float = MISSING
    #: bits the global buffer moves per clock cycle
    glb_bits_per_cycle: float = MISSING
    #: bits a router group's router passes per clock cycle
    router_bits_per_cycle: float = MISSING
    #: off-chip DRAM bandwidth [bytes/s]
    dram_bytes_per_s: float = MISSING
    #: average power density the chip can dissipate [W/mm2]
    power_density_w_per_mm2: float = MISSING
    #: a limit on the chip's average power [W]; null: none
    power_w: float | None = None


@dataclass
class LimitsConfig:
    """Per-network requirements of a problem (each a constraint; null: none)."""

    #: latency of one inference, at most [s]
    latency_s: float | None = None
    #: inferences per second, at least
    throughput_per_s: float | None = None
    #: average power at that throughput, at most [W]
    power_w: float | None = None


@dataclass
class ProblemConfig:
    """A workload set as a pymoo problem (:class:`~imc_moo.problem.WorkloadSetProblem`)."""

    _target_: str = "imc_moo.problem.make_problem"
    name: str = MISSING
    memory: str = MISSING
    #: a set name, a network, a path to a network file, or a list of them
    workloads: Any = MISSING
    #: directories of the user's own networks and sets, searched before $IMC_MOO_PROBLEMS and the packaged library
    library_dirs: list[str] = field(default_factory=list)
    objectives: str = MISSING
    aggregation: str = MISSING
    #: chip area limit [mm2]
    area_limit_mm2: float = MISSING
    weights_on_chip: bool | None = None
    #: resident, reprogram or stream (imc_moo/problem/deployment.py); auto (partitioned chips): per partition,
    #: resident when its networks fit, else the memory's; null: the memory's (RRAM reprogram, SRAM stream)
    deployment: str | None = None
    #: the most partitions of the chip, each with its own crossbars and memory, networks placed on them
    #: (imc_moo/problem/tenancy.py); null: one chip, the method's
    partitions: int | None = None
    #: the memory technologies a partition may use, e.g. [rram, sram] (a gene per partition); null: [memory]
    memories: list[str] | None = None
    mix: MixConfig = field(default_factory=MixConfig)
    #: writes a cell survives; null: the memory's (RRAM 1e6, SRAM unlimited)
    endurance_cycles: float | None = None
    #: bounded (latency, power and throughput a chip can deliver) or reference (the reference simulator's latency:
    #: the paper's numbers)
    performance: str = "bounded"
    #: the chip's physical limits (bounded model)
    bounds: BoundsConfig = field(default_factory=BoundsConfig)
    #: inferences processed together (bounded model: streamed weights fetched once per batch)
    batch: int = 1
    #: run each network's layers as a pipeline (bounded model, weights on chip): throughput = 1 / slowest layer
    pipeline: bool = False
    #: per-network requirements, each a constraint: latency_s (at most), throughput_per_s (at least), power_w
    #: (at most); null: none
    limits: LimitsConfig = field(default_factory=lambda: LimitsConfig())
    #: the app's design space (the top-level ``space`` node)
    space: Any = "${space}"
    hv: HVBounds = field(default_factory=HVBounds)
    #: the latency axis of the hypervolume box per performance model, ``{reference: {ideal: s, reference: s},
    #: bounded: {...}}`` (``hv``'s latency values interpolate from it)
    hv_latency_s: Any = None


@dataclass
class AppConfig:
    """One search: ``budget`` distinct designs at most, one ``seed``, outputs in Hydra's run directory."""

    budget: int = MISSING
    seed: int = MISSING
    plots: bool = MISSING
    progress: bool = MISSING
    #: replace the results of an earlier run in the run directory (otherwise such a run is refused)
    overwrite: bool = False
    #: imc-moo-report judges the run against its problem's exact optimum and Pareto front (an exhaustive search
    #: of the space, computed once per problem by the report: seconds for the packaged spaces)
    exact_yardstick: bool = False
    space: SpaceConfig = MISSING
    problem: ProblemConfig = MISSING
    algorithm: Any = MISSING


def register_schemas() -> None:
    """Store the app's schema and the algorithm schemas in Hydra's ConfigStore (idempotent: storing a name again
    replaces it)."""
    ConfigStore.instance().store(name=APP_SCHEMA, node=AppConfig)
    register_algorithm_schemas()
