"""Multi-model deployment: how a chip that serves several networks holds their weights, and what switching costs.

A chip serving a *workload mix* (each network a share of the inferences, a switch to another network every
``inferences_per_switch`` inferences on average) holds its networks' weights in one of three ways
(:data:`DEPLOYMENTS`):

* ``resident``: every network's weights are on chip at once. Capacity: the weight cells of all networks together
  fit in the chip's cells (one constraint, :func:`resident_capacity`). Switching is free.
* ``reprogram``: one network is resident at a time (each network alone must fit: the per-network capacity rule
  of :class:`~imc_moo.problem.WorkloadSetProblem`). Every switch writes the next network's weights into the
  crossbars (:func:`switch_cost`), amortised over the inferences until the next switch, and wears the cells
  (:func:`endurance_constraint`). The RRAM default: with no switching it is the method's model, bit for bit.
* ``stream``: the weights are fetched from DRAM and written into the crossbars every inference (the reference's
  SRAM model, whose per-inference energy already holds the DRAM fetch and the crossbar writes); switching is
  free. The SRAM default. Not offered for RRAM: writing every weight before every inference is ``reprogram``
  with ``inferences_per_switch=1`` (which prices it), and it would spend an RRAM cell's endurance (~1e6 writes)
  within a million inferences.

For SRAM, ``resident`` and ``reprogram`` keep weights in the SRAM crossbars between inferences, so the
per-inference energy drops the reference's weight-loading terms
(:data:`imc_moo.model.performance.WEIGHT_LOAD_COMPONENTS`: DRAM fetch, cell writes, weight drivers); its cycle
count is the reference's SRAM dataflow's.

Write model (per design x network; SI units: J, s, cells; arrays (n,) over designs):

* cells written = the network's weight cells (:func:`imc_moo.model.cost.weight_cells`: weights x
  ceil(8 / bits per cell); one copy, as the capacity rule counts: the spare-macro replicas of the reference's
  latency model are not rewritten), rows written = cells / crossbar columns;
* programming pulses per cell (:func:`program_pulses`): one for a binary cell (SRAM, or RRAM at 1 bit per cell);
  a multi-level RRAM cell is programmed by incremental-step write-verify, one pulse per level climbed from the
  reset state: 2^(b-1) pulses on average for 2^b levels used evenly, each pulse followed by one verify read;
* energy = pulses x (cells x NeuroSim ``cell_write`` + rows x NeuroSim ``row_write``), the per-action energies of
  the design's voltage, node and array size (the same table lookups the cost model makes, bilinear in the layer's
  activity), plus the DRAM fetch of the weight bits (8 pJ/bit, as the SRAM stream model). The RRAM ``cell_write``
  entry is one SET pulse of the reference's cell (rram_neurosim_default: 2 V for 50 ns through R_on + R_access =
  6 + 195 kOhm: 4 / 201e3 x 50e-9 = 0.995 pJ, the table's c0). No calibration coefficient (none was fitted to
  writes);
* time = rows per macro x row write time: every macro writes one row at a time (all its columns in parallel,
  one word line selected), all macros in parallel, the rows spread evenly: ceil(rows / macros) rows each. A row
  write takes pulses x (:data:`SET_PULSE_S` + :data:`VERIFY_READ_S` if verified) for RRAM, one clock
  (``base_latency_s``) for SRAM. The DRAM fetch is not a bandwidth limit, as in the reference's SRAM stream model
  (which fetches all weights every inference without stalls);
* endurance: every switch rewrites every cell the next network uses. A chip with room for k copies of the largest
  network rotates where it places the network switched to over k regions (simple wear levelling), so a cell is
  written lifetime_inferences / inferences_per_switch / k times over the chip's lifetime, at most the cell's
  endurance (:data:`ENDURANCE_CYCLES`, or the ``endurance_cycles`` config value).

Amortisation: a run of a network starts with writing its weights and lasts ``inferences_per_switch`` inferences
on average, for every network, so each inference of network w carries switch_cost(w) / inferences_per_switch
(the cost is assigned to the network switched to). A set of one network never switches.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from imc_moo.hardware import memory_technology
from imc_moo.model import tables
from imc_moo.model.cost import WEIGHT_BITS, Designs, chip_cells, weight_cells
from imc_moo.workloads import Network

DEPLOYMENTS = ("resident", "reprogram", "stream")
#: RRAM SET pulse width [s]: ``-SetPulse (ns): 50`` of CiMLoop's ``rram_neurosim_default.cell.yaml``, the cell the
#: reference's RRAM macro uses (its NeuroSim ``cell_write`` energy is one such pulse).
SET_PULSE_S = 50e-9
#: Verify read after each program pulse of a multi-level cell [s]: the reference's READ_PULSE_WIDTH (10 ns).
VERIFY_READ_S = 10e-9
#: Program/erase cycles a cell survives. RRAM: the low end of the 1e6-1e12 reported for oxide RRAM (Wong et al.,
#: "Metal-oxide RRAM", Proc. IEEE 100(6), 2012; Yu & Chen, IEEE Solid-State Circuits Mag. 8(2), 2016): multi-level
#: cells programmed by write-verify sit at the low end. SRAM: unlimited.
ENDURANCE_CYCLES = {"rram": 1e6, "sram": math.inf}
#: Default inferences over the chip's lifetime: ~6 per second for 5 years.
LIFETIME_INFERENCES = 1e9
#: The scheduling frame of a workload mix with rates [s]: a partition that time-shares its networks runs each of them
#: once per frame (so rates x time per inference must fit in it), and a reprogrammed one switches to each once per
#: frame. One second: the unit rates are given in, and long enough that a frame's switches are few.
FRAME_S = 1.0


class DeploymentError(ValueError):
    """A deployment or workload-mix value that cannot work; the message names the key and the fix."""


def default_deployment(memory: str) -> str:
    """The memory's own rule: ``reprogram`` when it keeps weights on chip (RRAM), else ``stream`` (SRAM)."""
    return "reprogram" if memory_technology(memory).weights_resident else "stream"


# -- the write model -----------------------------------------------------------------------------------------------
def program_pulses(d: Designs) -> np.ndarray:
    """Programming pulses per cell written, (n,) float: 2^(bits per cell - 1) for RRAM (1 for a binary cell),
    1 for SRAM."""
    if d.memory == "sram":
        return np.ones(d.n)
    return np.exp2(d.bits_per_cell - 1.0)


def row_write_time_s(d: Designs) -> np.ndarray:
    """Time to write one crossbar row, (n,) s: RRAM pulses x (SET pulse + a verify read for multi-level cells),
    SRAM one clock (``base_latency_s``)."""
    if d.memory == "sram":
        return np.asarray(d.base_latency_s, dtype=float)
    pulses = program_pulses(d)
    return pulses * (SET_PULSE_S + np.where(d.bits_per_cell > 1, VERIFY_READ_S, 0.0))


@functools.lru_cache(maxsize=256)
def _write_sums(network: Network) -> np.ndarray:
    """(8, 4): for bits per cell b = 1..8, sum over layers of the weight cells written x (1, ain, aw(b), ain aw(b)),
    the activity sums a bilinear per-cell write energy is dotted with."""
    weights = network.weights.astype(float)
    out = np.empty((8, 4))
    for b in range(1, 9):
        cells = weights * -(-WEIGHT_BITS // b)
        aw = network.aw[:, b - 1]
        out[b - 1] = [cells.sum(), (cells * network.ain).sum(), (cells * aw).sum(), (cells * network.ain * aw).sum()]
    return out


@dataclass(frozen=True)
class SwitchCost:
    """Writing one network's weights into n designs: arrays (n,).

    Attributes:
        energy_j: total switch energy [J] = cell_write_j + row_write_j + dram_j.
        cell_write_j, row_write_j, dram_j: its parts [J] (cells, row drivers, DRAM fetch of the weight bits).
        latency_s: switch time [s] = rows per macro x row write time.
        cells_written, rows_written: cells and crossbar rows written (rows = cells / columns).
    """

    energy_j: np.ndarray
    cell_write_j: np.ndarray
    row_write_j: np.ndarray
    dram_j: np.ndarray
    latency_s: np.ndarray
    cells_written: np.ndarray
    rows_written: np.ndarray


def switch_cost(d: Designs, network: Network) -> SwitchCost:
    """Energy and time of writing ``network``'s weights into designs ``d`` (the module's write model)."""
    ns = tables.neurosim(d.memory)
    sums = _write_sums(network)[d.bits_per_cell - 1]  # (n, 4)
    pulses = program_pulses(d)
    cell_pj = pulses * np.einsum("nk,nk->n", ns.coefficients("cell_write", d.neurosim_index), sums)
    row_pj = pulses * np.einsum("nk,nk->n", ns.coefficients("row_write", d.neurosim_index), sums) / d.xbar_cols
    dram_pj = np.full(d.n, WEIGHT_BITS * float(network.total_weights) * tables.DRAM_PJ_PER_BIT)
    cells = weight_cells(d, network).astype(float)
    rows = cells / d.xbar_cols
    rows_per_macro = np.ceil(rows / d.n_macros)
    cell_j, row_j, dram_j = cell_pj * 1e-12, row_pj * 1e-12, dram_pj * 1e-12
    return SwitchCost(energy_j=cell_j + row_j + dram_j, cell_write_j=cell_j, row_write_j=row_j, dram_j=dram_j,
                      latency_s=rows_per_macro * row_write_time_s(d), cells_written=cells, rows_written=rows)


# -- capacity and endurance ------------------------------------------------------------------------------------------
def resident_capacity(d: Designs, networks: Sequence[Network], members: np.ndarray | None = None) -> np.ndarray:
    """``resident``'s capacity constraint, (n,): weight cells of all networks together (or of ``members`` (n, W)
    bool, the networks a partition holds) / cells on chip - 1 (feasible when <= 0)."""
    if members is None:
        return sum(weight_cells(d, net) for net in networks) / chip_cells(d).astype(float) - 1.0
    cells = sum(np.where(members[:, w], weight_cells(d, net), 0) for w, net in enumerate(networks))
    return cells / chip_cells(d).astype(float) - 1.0


def wear_regions(d: Designs, networks: Sequence[Network], members: np.ndarray | None = None) -> np.ndarray:
    """k, (n,) float >= 1: copies of the largest network (of ``members``, default all) the chip holds, the regions
    writes rotate over."""
    cells = np.array([weight_cells(d, net) for net in networks])  # (W, n)
    largest = cells.max(axis=0) if members is None else np.where(members.T, cells, 1).max(axis=0)
    return np.maximum(1.0, np.floor(chip_cells(d) / largest))


# -- the deployment of a problem -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deployment:
    """How a problem's chip serves its workload mix (build with :meth:`of`, which checks every value).

    Attributes:
        mode: one of :data:`DEPLOYMENTS`.
        shares: (W,) share of inferences per network, summing to 1.
        equal_shares: every share is the same (the aggregations are then the plain ones, bit for bit).
        inferences_per_switch: mean inferences between switches, ``math.inf`` for never.
        lifetime_inferences: inferences over the chip's lifetime (for the endurance constraint).
        endurance_cycles: writes a cell survives.
        rates_hz: (W,) inferences per second each network must sustain (``mix.rates_hz``), or None. Rates set the
            shares, and, unless ``inferences_per_switch`` is given, how often a reprogrammed partition switches:
            each of its networks once per :data:`FRAME_S` (a run of ``rate x FRAME_S`` inferences, at least one).
    """

    mode: str
    shares: np.ndarray
    equal_shares: bool
    inferences_per_switch: float
    lifetime_inferences: float
    endurance_cycles: float
    rates_hz: np.ndarray | None = None

    @classmethod
    def of(cls, memory: str, workloads: Sequence[str], mode: str | None = None, mix: Mapping | None = None,
           endurance_cycles: float | None = None) -> Deployment:
        """Check and build. ``mix`` holds ``shares`` (network -> share, or a list in workload order; None or empty:
        equal),
        ``inferences_per_switch`` (None or inf: never) and ``lifetime_inferences``.

        Raises:
            DeploymentError: one line naming the key and the fix.
        """
        memory = memory_technology(memory).name
        if mode is None:
            mode = default_deployment(memory)
        if mode not in DEPLOYMENTS:
            raise DeploymentError(f"unknown deployment {mode!r}: use one of {', '.join(DEPLOYMENTS)}")
        if mode == "stream" and memory_technology(memory).weights_resident:
            raise DeploymentError(
                f"deployment=stream is not available for {memory.upper()}: writing every weight before every "
                "inference is deployment=reprogram with mix.inferences_per_switch=1 (which prices the writes and "
                "the wear); use resident or reprogram")
        mix = {k: v for k, v in dict(mix or {}).items() if not (k == "rates_hz" and v is None)}
        unknown = sorted(set(mix) - {"shares", "inferences_per_switch", "lifetime_inferences", "rates_hz"})
        if unknown:
            raise DeploymentError(f"unknown mix key(s) {', '.join(unknown)}: use shares, inferences_per_switch, "
                                  "lifetime_inferences, rates_hz")
        rates = None
        if mix.get("rates_hz"):
            if mix.get("shares"):
                raise DeploymentError("mix.shares and mix.rates_hz are both given: the rates set the shares, so "
                                      "give one of them")
            rates, _ = _shares(mix["rates_hz"], list(workloads), key="mix.rates_hz", normalise=False)
        shares, equal = _shares(rates if rates is not None else mix.get("shares"), list(workloads))
        ips = _positive("mix.inferences_per_switch", mix.get("inferences_per_switch"), math.inf, at_least=1.0,
                        fix="a mean number of inferences between switches >= 1 (1: every inference), "
                            "or null for never")
        lifetime = _positive("mix.lifetime_inferences", mix.get("lifetime_inferences"), LIFETIME_INFERENCES,
                             fix="the inferences over the chip's lifetime, e.g. 1e9", finite=True)
        endurance = _positive("endurance_cycles", endurance_cycles, ENDURANCE_CYCLES[memory],
                              fix="the writes a cell survives, e.g. 1e6, or null for the memory's value")
        return cls(mode=mode, shares=shares, equal_shares=equal, inferences_per_switch=ips,
                   lifetime_inferences=lifetime, endurance_cycles=endurance, rates_hz=rates)

    @property
    def switching(self) -> bool:
        """Switches cost something: ``reprogram`` with a finite switching rate, given or set by the rates (a set
        of one network never switches: :meth:`switches_for`)."""
        return self.mode == "reprogram" and (math.isfinite(self.inferences_per_switch) or self.rates_hz is not None)

    @property
    def per_switch(self) -> float | np.ndarray:
        """Inferences between switches: ``inferences_per_switch``, or per network (W,) from the rates (a run of
        ``rate x FRAME_S`` inferences, at least 1) when only rates are given."""
        if self.rates_hz is not None and not math.isfinite(self.inferences_per_switch):
            return np.maximum(1.0, self.rates_hz * FRAME_S)
        return self.inferences_per_switch

    def switches_for(self, n_networks: int) -> bool:
        return self.switching and n_networks > 1

    def has_endurance_constraint(self, n_networks: int) -> bool:
        return self.switches_for(n_networks) and math.isfinite(self.endurance_cycles)

    @property
    def streams(self) -> bool:
        return self.mode == "stream"

    def amortised_switch_cost(self, d: Designs, networks: Sequence[Network]) -> tuple[np.ndarray, np.ndarray]:
        """Per-inference switching energy [J] and time [s], each (n, W): switch cost of network w /
        inferences between switches (:attr:`per_switch`; zero when nothing switches)."""
        W = len(networks)
        if not self.switches_for(W):
            return np.zeros((d.n, W)), np.zeros((d.n, W))
        costs = [switch_cost(d, net) for net in networks]
        energy = np.column_stack([c.energy_j for c in costs]) / self.per_switch
        latency = np.column_stack([c.latency_s for c in costs]) / self.per_switch
        return energy, latency

    def amortised_pair_switch_cost(self, d: Designs, networks: Sequence[Network], rows: np.ndarray,
                                   nets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`amortised_switch_cost` of design x network pairs (design ``rows[i]``, network ``nets[i]``),
        (P,) each: the networks a design holds are those of its pairs, and a design holding one never switches."""
        energy, latency = np.zeros(len(rows)), np.zeros(len(rows))
        if not self.switches_for(len(networks)):
            return energy, latency
        shared = np.bincount(rows, minlength=d.n)[rows] > 1
        per_switch = np.broadcast_to(self.per_switch, (len(networks),))
        for w, net in enumerate(networks):
            sel = np.flatnonzero((nets == w) & shared)
            if len(sel):
                cost = switch_cost(d, net)
                energy[sel] = cost.energy_j[rows[sel]] / per_switch[w]
                latency[sel] = cost.latency_s[rows[sel]] / per_switch[w]
        return energy, latency

    def endurance_constraint(self, d: Designs, networks: Sequence[Network],
                             members: np.ndarray | None = None) -> np.ndarray:
        """(n,): lifetime writes per cell / endurance - 1, lifetime writes = lifetime switches / wear regions.
        ``members`` (n, W): the networks sharing each design (a partition's): its switches are those of its
        networks' inferences (a design with one network never switches)."""
        per_switch = self.per_switch
        if np.ndim(per_switch) == 0 and (members is None or members.all()):
            switches = np.full(d.n, self.lifetime_inferences / per_switch)
        else:
            members = np.ones((d.n, len(networks)), dtype=bool) if members is None else members
            runs = np.where(members, self.shares / per_switch, 0.0).sum(axis=1)  # switches per inference of the mix
            switches = np.where(members.sum(axis=1) < 2, 0.0, self.lifetime_inferences * runs)
        return switches / (wear_regions(d, networks, members) * self.endurance_cycles) - 1.0

    def describe(self) -> str:
        ips = "never" if not math.isfinite(self.inferences_per_switch) else f"{self.inferences_per_switch:g}"
        if self.rates_hz is not None:
            if not math.isfinite(self.inferences_per_switch):
                ips = f"a run per network per {FRAME_S:g} s frame"
            rates = "/".join(f"{r:g}" for r in self.rates_hz)
            return f"deployment {self.mode} | rates {rates} per s | inferences per switch {ips}"
        shares = "equal" if self.equal_shares else "/".join(f"{s:.3g}" for s in self.shares)
        return f"deployment {self.mode} | shares {shares} | inferences per switch {ips}"


def _shares(value, workloads: list[str], key: str = "mix.shares",
            normalise: bool = True) -> tuple[np.ndarray, bool]:
    """(values per network in workload order, all equal) of a mapping or list: shares normalised to sum 1 (None:
    equal), or with ``normalise=False`` the numbers as given (rates)."""
    W = len(workloads)
    what_each = "share" if normalise else "rate (inferences per second)"
    if value is None or (isinstance(value, Mapping) and not value):
        return np.full(W, 1.0 / W), True
    if isinstance(value, Mapping):
        by_name = {str(k): v for k, v in value.items()}
        extra = [k for k in by_name if k not in workloads]
        missing = [w for w in workloads if w not in by_name]
        if extra or missing:
            what = (f"names {', '.join(extra)}, not in the workloads" if extra
                    else f"lacks {', '.join(missing)}")
            raise DeploymentError(f"{key} {what}: give one {what_each} per network of "
                                  f"{', '.join(workloads)}" + (" (or null for equal shares)" if normalise else ""))
        raw = [by_name[w] for w in workloads]
    elif isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != W:
            raise DeploymentError(f"{key} has {len(value)} values for {W} networks: give one {what_each} per "
                                  f"network of {', '.join(workloads)}" + (" (or null for equal shares)"
                                                                          if normalise else ""))
        raw = list(value)
    else:
        raise DeploymentError(f"{key} must map each network to its {what_each}, e.g. {{{workloads[0]}: 2, ...}}, "
                              f"got {value!r}")
    for name, v in zip(workloads, raw):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) \
                or v <= 0:
            raise DeploymentError(f"{key}.{name}={v!r} is not a positive number: give every network a "
                                  f"{what_each} > 0 (drop a network the mix never runs from the workloads)")
    shares = np.asarray(raw, dtype=float)
    equal = bool(np.all(shares == shares[0]))
    if not normalise:
        return shares, equal
    with np.errstate(over="ignore"):
        total = shares.sum()
    if not np.isfinite(total):  # shares near the float maximum: their sum overflows (every share would be 0)
        shares = shares / shares.max()
        total = shares.sum()
    return (np.full(W, 1.0 / W) if equal else shares / total), equal


def _positive(key: str, value, default: float, fix: str, at_least: float = 0.0, finite: bool = False) -> float:
    if value is None:
        return float(default)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or np.isnan(value) \
            or value <= 0 or value < at_least or (finite and not np.isfinite(value)):
        raise DeploymentError(f"{key}={value!r} is out of range: give {fix}")
    return float(value)
