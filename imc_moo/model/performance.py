"""Performance models: how long one inference takes on a design, and which resource bounds each layer.

Two models (:data:`PERFORMANCE_MODES`):

* ``reference``: the reference simulator's latency, cycles x ``base_latency_s`` (COST_MODEL.md §3): no level has a
  bandwidth limit, a whole 8-bit input pulse train counts as one clock, DRAM traffic and ADC conversions take no
  time, and each layer is replicated over the whole chip. Exact to the simulator; a chip cannot deliver it.
* ``bounded``: a roofline per layer. A layer's time is the largest of the times its resources need
  (:data:`BOUNDS`, Timeloop's per-level bandwidth rule), and an inference is the sum over its layers (batch
  inferences go through layer by layer), stretched to at least energy / the chip's power limit.

The bounded model, per layer l of a network, for a batch of B inferences processed layer by layer (every
bandwidth, width and timing is a :class:`~imc_moo.hardware.ChipBounds` value, with its source in
``conf/bounds/default.yaml``):

* ``compute``: the crossbar reads in sequence, ``cycles' x B`` clocks (``base_latency_s`` each);
* ``pulses``: each read applies a full-scale input pulse train, ``cycles' x B x input_pulses x pulse_width_s``;
* ``adc``: each read converts every column, ``columns_per_adc`` conversions per ADC, ``cycles' x B x
  columns_per_adc x adc_conversion_s``;
* ``glb``: the global buffer's input reads and partial-sum read-modify-writes (the reference's counts, read and
  write each crossing the port) at ``glb_bits_per_cycle`` bits per clock;
* ``router``: the input and output bits through the routers (the counts the router energy is charged for),
  ``router_bits_per_cycle`` per clock per router group, the groups in parallel;
* ``dram``: weights streamed from DRAM (SRAM ``stream``: the padded weights, once per batch) and the activations
  that do not fit the global buffer, at ``dram_bytes_per_s``. A layer's activations are at least its inputs
  (``C x G x P x Q`` values, a lower bound: strides and halos only add) and outputs (``M x G x P x Q``), 8 bits each,
  for each inference of the batch; what exceeds the buffer (``glb_depth`` x 2048 bits) crosses the DRAM interface
  once (also charged as DRAM energy, :data:`SPILL_COMPONENT`);
* ``write``: streamed weights are written into the crossbars row by row, every macro one row per clock in
  parallel (the write model of :mod:`imc_moo.problem.deployment`), once per batch.

``cycles'`` is the reference's cycle count with the copies the chip can hold (:func:`layer_copies`). The reference
replicates every layer over the whole chip while assuming every other layer's weights stay resident in the same
crossbars. Here, when weights are held on chip, every layer of the networks resident together (one network at a
time, or the whole set: :data:`WEIGHT_HOLDING`) keeps one copy in whole crossbars (if they do not all fit, the
design is invalid), and only the *spare* crossbars hold more copies. The spare crossbars S go to the layers by the
rule that minimises the summed time of work spread over copies (``min sum_l w_l / x_l`` subject to ``sum_l n_l
x_l`` fixed, with ``w_l`` a layer's copy-reads in the reference mapping, ``cycles x copies``, and ``n_l`` the
crossbars of one copy): layer l gets ``1 + floor(S sqrt(w_l / n_l) / sum_j sqrt(w_j n_j))`` copies, at most the
reference's, and takes ``ceil(cycles x copies_ref / copies)`` reads. A set resident at once splits the spare
crossbars among its networks in proportion to their crossbars. Weights streamed per layer (SRAM ``stream``) are
loaded into the whole chip, so every layer keeps the reference's copies.

The network's time is ``max(sum over layers, energy / P_max)`` with ``P_max = min(power_w,
power_density_w_per_mm2 x area)``: the power limit bounds the *average* power of an inference (the chip's thermal
time constant, milliseconds, is longer than most inferences; a layer may briefly draw more).

Exactness of the fast path: a layer's bounded time depends on the design through its mapping key, the spare
crossbars, the GLB depth and the clock only, so :class:`BoundedTable` tabulates the sums over layers per
combination met (lazily, with the per-layer path :func:`layer_times`) and a design's time is a lookup.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.cache import load_entry, save_entry, warn
from imc_moo.hardware import ChipBounds
from imc_moo.model import tables
from imc_moo.model.cost import GLB_WORD_BITS, INPUT_BITS, OUTPUT_BITS, Designs, LayerActions, layer_actions
from imc_moo.model.mapping import N_KEYS
from imc_moo.model.tabulated import model_digest, network_digest
from imc_moo.paths import cache_dir
from imc_moo.workloads import Network

PERFORMANCE_MODES = ("reference", "bounded")
#: The resources that bound a layer's time in the bounded model (``power`` bounds a whole inference).
BOUNDS = ("compute", "pulses", "adc", "glb", "router", "dram", "write")
POWER_BOUND = "power"
#: How the chip holds weights while a network runs: ``streamed`` (fetched per layer from DRAM into the whole chip),
#: ``network`` (the running network's weights resident), ``set`` (every network's weights resident at once).
WEIGHT_HOLDING = ("streamed", "network", "set")
#: The energy component of the activations that cross the DRAM interface (bounded model only).
SPILL_COMPONENT = "dram_activations"
#: Energy components of loading streamed weights into the crossbars (the reference's SRAM stream model): fetched
#: and written once per batch in the bounded model, and not paid where weights stay on chip
#: (:mod:`imc_moo.problem.deployment`).
WEIGHT_LOAD_COMPONENTS = ("dram", "cell_write", "weight_drivers")


class PerformanceError(ValueError):
    """A performance mode, batch or physical limit that cannot work; the message names the key and the fix."""


@dataclass(frozen=True)
class Performance:
    """Which performance model prices latency, with its limits and batch (build with :meth:`of`).

    Attributes:
        mode: one of :data:`PERFORMANCE_MODES`.
        bounds: the chip's physical limits (bounded model only).
        batch: inferences processed together (bounded model: streamed weights are fetched once per batch, the
            activations of the whole batch compete for the global buffer).
    """

    mode: str = "bounded"
    bounds: ChipBounds = field(default_factory=ChipBounds.packaged)
    batch: int = 1

    @classmethod
    def of(cls, mode: str | Performance | None = "bounded", bounds=None, batch: int = 1) -> Performance:
        """Check and build; ``bounds``: a :class:`~imc_moo.hardware.ChipBounds` or a mapping overriding the
        packaged limits. Raises :class:`PerformanceError` naming the bad value."""
        if isinstance(mode, Performance):
            return mode
        mode = "bounded" if mode is None else mode
        if mode not in PERFORMANCE_MODES:
            raise PerformanceError(f"unknown performance model {mode!r}: use bounded (latency a chip can deliver) "
                                   "or reference (the reference simulator's latency, the paper's numbers)")
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise PerformanceError(f"batch={batch!r} is not a positive integer: give the inferences processed "
                                   "together, e.g. 1")
        try:
            chip = ChipBounds.of(bounds)
        except ValueError as err:
            raise PerformanceError(str(err)) from None
        return cls(mode=mode, bounds=chip, batch=int(batch))

    @classmethod
    def reference(cls) -> Performance:
        return cls(mode="reference")

    @property
    def bounded(self) -> bool:
        return self.mode == "bounded"


# -- the per-layer path (the oracle of the tabulated sums, and the breakdown) ------------------------------------
@dataclass
class LayerTimes:
    """Bounded times of every layer on every design, per inference: arrays (n, L).

    Attributes:
        time_s: the layer's time [s], the largest of ``resource_s``.
        resource_s: resource (:data:`BOUNDS`) -> the time it needs [s].
        bound: index into :data:`BOUNDS` of the resource that sets ``time_s`` (the first of equal ones).
        spill_bits: activation bits through the DRAM interface.
        cycles: crossbar reads (the reference's cycles with the copies the chip can hold).
        copies: the copies of each layer's weights working on different outputs.
    """

    time_s: np.ndarray
    resource_s: dict[str, np.ndarray]
    bound: np.ndarray
    spill_bits: np.ndarray
    cycles: np.ndarray
    copies: np.ndarray


def activation_bits(network: Network) -> np.ndarray:
    """(L,) a lower bound on each layer's activations of one inference: inputs C*G*P*Q plus outputs M*G*P*Q, 8 bits
    each [bits]."""
    GPQ = (network.G * network.P * network.Q).astype(float)
    return GPQ * (INPUT_BITS * network.C + OUTPUT_BITS * network.M)


def layer_copies(a: LayerActions, spare: np.ndarray) -> np.ndarray:
    """(n, L) the copies of each layer's weights the chip holds, given ``spare`` (n,) crossbars beyond one copy of
    every resident layer (the module's rule; ``spare < 0``: unlimited, the reference's copies)."""
    work = a.cycles * a.copies  # copy-reads of the reference mapping
    crossbars = a.crossbars.astype(float)
    share = np.sqrt(work / crossbars)
    norm = np.sqrt(work * crossbars).sum(axis=1, keepdims=True)
    S = np.asarray(spare, dtype=float)[:, None]
    extra = np.floor(np.maximum(S, 0.0) * share / np.maximum(norm, 1.0))
    return np.where(S < 0, a.copies, np.minimum(a.copies, 1.0 + extra))


@dataclass
class LayerDemands:
    """What every layer asks of each resource on designs (u,), for a batch: arrays (u, L). Independent of the clock
    and the GLB depth, so one set serves every clock and depth of a mapping (:func:`demand_times`).

    Attributes:
        reads: crossbar reads (the reference's cycles with the copies the chip holds, :func:`layer_copies`).
        copies: the copies of the layer's weights.
        clocked: resource -> clock cycles it needs (``compute``, ``glb``, ``router``, ``write``).
        fixed_s: resource -> seconds it needs whatever the clock (``pulses``, ``adc``).
        weight_bits: weight bits fetched from DRAM (streamed weights; else 0).
    """

    reads: np.ndarray
    copies: np.ndarray
    clocked: dict[str, np.ndarray]
    fixed_s: dict[str, np.ndarray]
    weight_bits: np.ndarray


def layer_demands(d: Designs, a: LayerActions, perf: Performance, spare: np.ndarray,
                  streamed: bool) -> LayerDemands:
    """The demands of every layer on designs ``d`` given the layers' action counts ``a``
    (:func:`~imc_moo.model.cost.layer_actions`), ``spare`` (n,) crossbars (:func:`layer_copies`; -1: the
    reference's copies) and whether weights are ``streamed`` (fetched and written once per batch)."""
    b = perf.bounds
    B = float(perf.batch)
    copies = layer_copies(a, spare)
    cycles = np.where(copies < a.copies, np.ceil(a.cycles * a.copies / copies), a.cycles)
    reads = cycles * B
    weight_bits = np.zeros_like(reads)
    write = np.zeros_like(reads)
    if streamed and a.weight_bits_padded is not None and a.written is not None:
        weight_bits = a.weight_bits_padded
        write = a.written / (d.xbar_cols * d.n_macros)[:, None]
    clocked = {
        "compute": reads,
        "glb": B * (a.glb_in_bits + 2.0 * a.out_bits) / b.glb_bits_per_cycle,
        "router": B * (a.in_bits + a.out_bits) / (b.router_bits_per_cycle * d.router_group[:, None]),
        "write": write,
    }
    fixed = {"pulses": reads * b.input_pulse_train_s, "adc": reads * (b.columns_per_adc * b.adc_conversion_s)}
    return LayerDemands(reads=cycles, copies=copies, clocked=clocked, fixed_s=fixed, weight_bits=weight_bits)


def demand_times(dem: LayerDemands, rows: np.ndarray, clock_s: np.ndarray, glb_depth: np.ndarray,
                 network: Network, perf: Performance) -> LayerTimes:
    """The bounded times (m, L) of designs whose demands are ``dem``'s ``rows`` (m,), with clock periods
    ``clock_s`` (m,) and GLB depths ``glb_depth`` (m,) [2048-bit words]."""
    b = perf.bounds
    B = float(perf.batch)
    clock = np.asarray(clock_s, dtype=float)[:, None]
    capacity = np.asarray(glb_depth)[:, None].astype(float) * GLB_WORD_BITS
    spill = np.maximum(0.0, B * activation_bits(network) - capacity)  # per batch

    def at(x: np.ndarray) -> np.ndarray:
        return x.take(rows, axis=0)

    resource = {
        "compute": at(dem.clocked["compute"]) * clock,
        "pulses": at(dem.fixed_s["pulses"]),
        "adc": at(dem.fixed_s["adc"]),
        "glb": at(dem.clocked["glb"]) * clock,
        "router": at(dem.clocked["router"]) * clock,
        "dram": (spill + at(dem.weight_bits)) / b.dram_bits_per_s,
        "write": at(dem.clocked["write"]) * clock,
    }
    stacked = np.stack([resource[r] for r in BOUNDS])
    bound = stacked.argmax(axis=0)
    per_inference = {r: v / B for r, v in resource.items()}
    return LayerTimes(time_s=stacked.max(axis=0) / B, resource_s=per_inference, bound=bound, spill_bits=spill / B,
                      cycles=at(dem.reads), copies=at(dem.copies))


def layer_times(d: Designs, network: Network, a: LayerActions, perf: Performance, spare: np.ndarray,
                streamed: bool) -> LayerTimes:
    """The bounded time of every layer of ``network`` on designs ``d`` (the module's rules): the per-layer path.

    Args:
        a: the layers' action counts on ``d`` (:func:`~imc_moo.model.cost.layer_actions`).
        spare: (n,) int, the crossbars beyond one copy of every resident layer (:func:`layer_copies`); -1: as many
            copies as the reference maps.
        streamed: weights are fetched from DRAM and written into the crossbars for every batch.
    """
    dem = layer_demands(d, a, perf, spare, streamed)
    return demand_times(dem, np.arange(d.n), d.base_latency_s, d.glb_depth, network, perf)


def timed_spare(spare: np.ndarray, holding: str) -> tuple[np.ndarray, np.ndarray]:
    """(the spare crossbars a design is timed with, whether its resident layers fit), of the shape of ``spare``
    (:func:`spare_crossbars`): streamed weights -1 (unlimited) and always fit; held ones at least 0, a design whose
    layers do not fit being timed with one copy of each (and invalid)."""
    if holding == "streamed":
        return spare, np.ones(spare.shape, dtype=bool)
    return np.maximum(spare, 0), spare >= 0


def spare_crossbars(d: Designs, crossbars: np.ndarray, holding: str) -> np.ndarray:
    """(n, W) int64: the crossbars beyond one copy of every resident layer that each network's copies may use
    (negative: the resident layers do not fit; -1 where weights are streamed, which :func:`layer_copies` reads as
    unlimited), given one copy's ``crossbars`` (n, W) per network. ``set``: the networks' spares are the chip's
    spare split in proportion to their crossbars."""
    if holding == "streamed":
        return np.full(crossbars.shape, -1, dtype=np.int64)
    macros = d.n_macros[:, None].astype(float)
    if holding == "network":
        return (macros - crossbars).astype(np.int64)
    total = crossbars.sum(axis=1, keepdims=True)
    spare = macros - total
    return np.where(spare < 0, spare, np.floor(spare * crossbars / np.maximum(total, 1.0))).astype(np.int64)


def pair_spare_crossbars(d: Designs, crossbars: np.ndarray, holding: str, rows: np.ndarray) -> np.ndarray:
    """:func:`spare_crossbars` of design x network pairs (design ``rows`` (P,), one copy's ``crossbars`` (P,)):
    ``set`` splits each design's spare among the networks it holds, those of its pairs."""
    if holding == "streamed":
        return np.full(crossbars.shape, -1, dtype=np.int64)
    macros = d.n_macros[rows].astype(float)
    if holding == "network":
        return (macros - crossbars).astype(np.int64)
    total = np.bincount(rows, weights=crossbars, minlength=d.n)[rows]  # whole numbers: summed exactly
    spare = macros - total
    return np.where(spare < 0, spare, np.floor(spare * crossbars / np.maximum(total, 1.0))).astype(np.int64)


def pair_timing(d: Designs, networks, keys: np.ndarray, rows: np.ndarray, nets: np.ndarray, crossbars: np.ndarray,
                perf: Performance, holding: str) -> Timing:
    """:func:`set_timing` of the design x network pairs (``rows[i]``, ``networks[nets[i]]``) only, every array
    (P,); ``crossbars`` (P,): one copy of the pair's layers (``set``: the networks of a design are its pairs')."""
    if holding not in WEIGHT_HOLDING:
        raise PerformanceError(f"unknown weight holding {holding!r}: use one of {', '.join(WEIGHT_HOLDING)}")
    spare = pair_spare_crossbars(d, crossbars, holding, rows)
    used, fits = timed_spare(spare, holding)
    codes = design_codes(d, keys)[rows]
    s = np.empty((len(FEATURES), len(rows)))
    for w, net in enumerate(networks):
        sel = np.flatnonzero(nets == w)
        if len(sel):
            found, _ = bounded_table(net, d.memory, perf, holding == "streamed").rows(
                d, combination_codes(codes[sel], used[sel]), used[sel], designs_at=rows[sel])
            s[:, sel] = found.T
    return Timing(time_s=s[_F["time_s"]], bound=s[_F["bound"]].astype(np.int8), by_bound_s=None,
                  max_layer_s=s[_F["max_layer_s"]], spill_bits=s[_F["spill_bits"]], spare_crossbars=spare, fits=fits)


# -- the tabulated fast path ---------------------------------------------------------------------------------------
#: Sums over layers stored per combination: the network's time, the longest layer (a pipeline's interval), the
#: activation bits through DRAM, and the resource that bounds most of the time (an index into BOUNDS); apart from
#: them (gathered only for breakdowns), the time of the layers each resource bounds.
FEATURES = ("time_s", "max_layer_s", "spill_bits", "bound")
_F = {f: i for i, f in enumerate(FEATURES)}
_REPLICA_BITS, _DEPTH_BITS, _CLOCK_BITS = 22, 11, 12
#: Largest (designs x layers) block filled at once.
FILL_PAIRS = 1 << 19


class BoundedTable:
    """Bounded sums over the layers of one network, per combination (mapping key, spare crossbars, GLB depth,
    clock) met.

    Filled lazily with :func:`layer_times` (the rows do not depend on which batch filled them, so results are
    byte-identical whatever the order designs arrive in), and kept between processes like the reference's tables
    (:mod:`imc_moo.model.tabulated`): an entry per network, memory, performance settings and model code, saved at
    exit and verified when read back."""

    def __init__(self, network: Network, memory: str, perf: Performance, streamed: bool):
        self.network, self.memory, self.perf, self.streamed = network, memory, perf, streamed
        self._index = pd.Index(np.empty(0, dtype=np.int64))  # combination codes (:func:`combination_codes`), a hash
        self._rows = np.empty((0, len(FEATURES)))  # row i: the sums of the combination self._index[i]
        self._by_bound = np.empty((0, len(BOUNDS)))  # row i: its time per bounding resource [s]
        self._values = np.empty((0, 4))  # row i: its mapping key, spare crossbars + 1, GLB depth, clock [s]
        self.n_loaded = 0
        self.path, self.key = _cache_entry(network, memory, perf, streamed)
        self._load()

    def rows(self, d: Designs, code: np.ndarray, spare: np.ndarray,
             breakdown: bool = False, designs_at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """The sums (n, len(FEATURES)) of designs ``d`` whose combinations are ``code`` (n,)
        (:func:`combination_codes` with their ``spare`` crossbars (n,)), and with ``breakdown`` the time of the
        layers each resource bounds (n, len(BOUNDS)) [s]. ``designs_at``: the rows of ``d`` that ``code`` and
        ``spare`` are of (default all)."""
        at = self._index.get_indexer(code)
        if (at < 0).any():
            self._fill(d if designs_at is None else d.take(designs_at), code, spare, np.flatnonzero(at < 0))
            at = self._index.get_indexer(code)
        return self._rows.take(at, axis=0), self._by_bound.take(at, axis=0) if breakdown else None

    def _fill(self, d: Designs, code: np.ndarray, spare: np.ndarray, missing: np.ndarray) -> None:
        new, first = np.unique(code[missing], return_index=True)  # sorted: combinations of one mapping adjacent
        idx = missing[first]  # one design of each new combination stands in for it
        L = max(self.network.n_layers, 1)
        step = max(1, FILL_PAIRS // L)
        parts = [self._sums(d, idx[i:i + step], spare) for i in range(0, len(idx), step)]
        values = np.column_stack([d.mapping_keys[idx], spare[idx] + 1, d.glb_depth[idx], d.base_latency_s[idx]])
        self._append(new, np.concatenate([rows for rows, _ in parts]),
                     np.concatenate([by_bound for _, by_bound in parts]), values)

    def _append(self, codes: np.ndarray, rows: np.ndarray, by_bound: np.ndarray, values: np.ndarray) -> None:
        self._index = pd.Index(np.concatenate([self._index.to_numpy(), codes]))
        self._rows = np.concatenate([self._rows, rows])
        self._by_bound = np.concatenate([self._by_bound, by_bound])
        self._values = np.concatenate([self._values, values.astype(float)])

    def _sums(self, d: Designs, idx: np.ndarray, spare: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sums of the combinations of designs ``idx`` of ``d``: the layers' demands once per mapping key and
        spare crossbars among them (:func:`layer_demands`), then their times at each design's clock and depth."""
        mapping = d.mapping_keys[idx] * (1 << _REPLICA_BITS) + (spare[idx] + 1)
        _, first, rows = np.unique(mapping, return_index=True, return_inverse=True)
        stand_in = d.take(idx[first])
        dem = layer_demands(stand_in, layer_actions(stand_in, self.network), self.perf, spare[idx[first]],
                            self.streamed)
        t = demand_times(dem, rows.ravel(), d.base_latency_s[idx], d.glb_depth[idx], self.network, self.perf)
        by_bound = by_bound_s(t)
        out = np.zeros((len(idx), len(FEATURES)))
        out[:, _F["time_s"]] = t.time_s.sum(axis=1)
        out[:, _F["max_layer_s"]] = t.time_s.max(axis=1, initial=0.0)
        out[:, _F["spill_bits"]] = t.spill_bits.sum(axis=1)
        out[:, _F["bound"]] = by_bound.argmax(axis=1)
        return out, by_bound

    # -- the persistent cache ----------------------------------------------------------------------------------
    def _stored(self) -> dict[str, np.ndarray] | None:
        arrays = load_entry(self.path, self.key, {"values": ("f", 2), "rows": ("f", 2), "by_bound": ("f", 2)})
        if arrays is None:
            return None
        values, rows, by_bound = arrays["values"], arrays["rows"], arrays["by_bound"]
        n = len(values)
        sound = (values.shape == (n, 4) and rows.shape == (n, len(FEATURES)) and by_bound.shape == (n, len(BOUNDS))
                 and np.isfinite(values).all() and np.isfinite(rows).all() and np.isfinite(by_bound).all()
                 and (rows >= 0).all() and (by_bound >= 0).all() and (rows[:, _F["bound"]] < len(BOUNDS)).all()
                 and (values[:, 0] >= 0).all() and (values[:, 0] < N_KEYS).all() and (values[:, 1] >= 0).all()
                 and (values[:, 1] < 1 << _REPLICA_BITS).all() and (values[:, 2:] > 0).all())
        if not sound:
            assert self.path is not None  # load_entry found it
            warn(self.path, "arrays of the wrong shape, or sums that are not finite and >= 0")
            return None
        return {"values": values, "rows": rows, "by_bound": by_bound}

    def _codes_of(self, values: np.ndarray) -> np.ndarray:
        depth = _DEPTHS.codes(values[:, 2].astype(np.int64))
        clock = _CLOCKS.codes(values[:, 3])
        code = (((values[:, 0].astype(np.int64) << _DEPTH_BITS) | depth) << _CLOCK_BITS) | clock
        return (values[:, 1].astype(np.int64) << _KEY_SHIFT) | code

    def _load(self) -> None:
        stored = self._stored()
        if stored is None:
            return
        codes = self._codes_of(stored["values"])
        if len(np.unique(codes)) != len(codes):
            assert self.path is not None
            warn(self.path, "combinations stored twice")
            return
        self._append(codes, stored["rows"], stored["by_bound"], stored["values"])
        self.n_loaded = len(codes)

    def save(self) -> None:
        """Write the filled rows (merged with what other processes wrote meanwhile) to the cache, atomically."""
        if self.path is None or len(self._index) == self.n_loaded:
            return
        values, rows, by_bound = self._values, self._rows, self._by_bound
        stored = self._stored()
        if stored is not None:
            theirs = ~np.isin(self._codes_of(stored["values"]), self._index.to_numpy())
            values = np.concatenate([values, stored["values"][theirs]])
            rows = np.concatenate([rows, stored["rows"][theirs]])
            by_bound = np.concatenate([by_bound, stored["by_bound"][theirs]])
        save_entry(self.path, self.key, {"values": values, "rows": rows, "by_bound": by_bound})
        self.n_loaded = len(self._index)


@functools.cache
def code_digest() -> str:
    """Hash of the code the bounded sums come from: the reference tables' (:func:`model_digest`) and this module."""
    return hashlib.sha256((model_digest() + Path(__file__).read_text()).encode()).hexdigest()[:12]


def _cache_entry(network: Network, memory: str, perf: Performance, streamed: bool) -> tuple[Path | None, str]:
    """``(<cache>/bounded/<memory>-<network>-<settings>-<model>.npz, key)`` (path None without a cache): keyed by
    what the sums depend on, the network's content, the limits, the batch, the weights' holding and the model's
    code (this module's and the reference tables')."""
    settings = hashlib.sha256(json.dumps({"bounds": perf.bounds.as_dict(), "batch": perf.batch,
                                          "streamed": streamed}, sort_keys=True).encode()).hexdigest()[:16]
    code = code_digest()
    network_hash = network_digest(network)
    key = f"bounded|{memory}|{network_hash}|{settings}|{code}"
    root = cache_dir()
    path = None if root is None else root / "bounded" / f"{memory}-{network_hash[:16]}-{settings}-{code}.npz"
    return path, key


def by_bound_s(t: LayerTimes) -> np.ndarray:
    """(n, len(BOUNDS)): the time of the layers each resource bounds, summed over layers [s]."""
    return np.stack([np.where(t.bound == i, t.time_s, 0.0).sum(axis=1) for i in range(len(BOUNDS))], axis=1)




def design_codes(d: Designs, keys: np.ndarray) -> np.ndarray:
    """The part of each design's combination code that does not depend on the network: mapping key, GLB depth and
    clock packed into int64 (n,) (:func:`combination_codes` adds the spare crossbars)."""
    depth = _DEPTHS.codes(d.glb_depth)
    clock = _CLOCKS.codes(d.base_latency_s)
    return (((keys.astype(np.int64) << _DEPTH_BITS) | depth) << _CLOCK_BITS) | clock


def combination_codes(codes: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """One int64 per (mapping key, spare crossbars, GLB depth, clock): :func:`design_codes` with ``spare`` (n,)
    (>= -1)."""
    if spare.max(initial=0) + 1 >= 1 << _REPLICA_BITS:
        raise PerformanceError("a design with more crossbars than the bounded model's tables index: use at most "
                               f"{(1 << _REPLICA_BITS) - 2:,} crossbar macros")
    return ((spare.astype(np.int64) + 1) << (_KEY_SHIFT)) | codes


_KEY_SHIFT = 18 + _DEPTH_BITS + _CLOCK_BITS  # mapping keys take 18 bits
assert N_KEYS < 1 << 18 and _KEY_SHIFT + _REPLICA_BITS <= 63


class _Registry:
    """Small integer codes for the values met (GLB depths, clocks), in the order first met, with a hash index kept
    for lookups (a code only names a value within the process: the saved tables hold the values)."""

    def __init__(self, bits: int, what: str):
        self.bits, self.what = bits, what
        self.values: list[float] = []
        self.index = pd.Index(np.empty(0))

    def codes(self, values: np.ndarray) -> np.ndarray:
        at = self.index.get_indexer(values)
        if (at < 0).any():
            for v in np.unique(values[at < 0]).tolist():
                if len(self.values) >= 1 << self.bits:
                    raise PerformanceError(f"more than {1 << self.bits} distinct {self.what} in one process: "
                                           "evaluate fewer distinct values")
                self.values.append(v)
            self.index = pd.Index(self.values)
            at = self.index.get_indexer(values)
        return at.astype(np.int64)


#: Process-wide small codes of the GLB depths and clock periods met (combination codes pack them).
_DEPTHS = _Registry(_DEPTH_BITS, "GLB depths")
_CLOCKS = _Registry(_CLOCK_BITS, "clock periods (base_latency_s)")


@functools.lru_cache(maxsize=256)
def bounded_table(network: Network, memory: str, perf: Performance, streamed: bool) -> BoundedTable:
    """The process-wide bounded table of ``network`` on ``memory`` under ``perf`` (saved to the persistent cache
    when the process exits)."""
    table = BoundedTable(network, memory, perf, streamed)
    _TABLES.append(table)
    return table


_TABLES: list[BoundedTable] = []


@atexit.register
def save_tables() -> None:
    """Write every bounded table that grew in this process (at exit; also callable)."""
    for table in _TABLES:
        table.save()


# -- a workload set's times ---------------------------------------------------------------------------------------
@dataclass
class Timing:
    """Bounded times of W networks on n designs, per inference: arrays (n, W) unless noted.

    Attributes:
        time_s: the sum over layers [s] (before the power limit).
        bound: (n, W) int: the resource that bounds most of the time (index into :data:`BOUNDS`).
        by_bound_s: (n, W, len(BOUNDS)): the time of the layers each resource bounds [s] (only when asked for:
            :func:`set_timing`'s ``breakdown``).
        max_layer_s: the longest layer [s]: a pipeline of the layers would start an inference this often.
        spill_bits: activation bits through the DRAM interface.
        spare_crossbars: the crossbars each network's extra copies may use (:func:`spare_crossbars`; -1: weights
            streamed, unlimited).
        fits: one copy of every resident layer fits in whole crossbars, or the weights are streamed.
    """

    time_s: np.ndarray
    bound: np.ndarray
    by_bound_s: np.ndarray | None
    max_layer_s: np.ndarray
    spill_bits: np.ndarray
    spare_crossbars: np.ndarray
    fits: np.ndarray


def set_timing(d: Designs, networks, keys: np.ndarray, crossbars: np.ndarray, perf: Performance, holding: str,
               breakdown: bool = False) -> Timing:
    """Bounded times of ``networks`` on designs ``d`` (mapping ``keys`` (n,)), whose one copy of every layer
    occupies ``crossbars`` (n, W), the weights held as ``holding`` (:data:`WEIGHT_HOLDING`); with ``breakdown``
    also the time each resource bounds."""
    if holding not in WEIGHT_HOLDING:
        raise PerformanceError(f"unknown weight holding {holding!r}: use one of {', '.join(WEIGHT_HOLDING)}")
    n, W = crossbars.shape
    streamed = holding == "streamed"
    spare = spare_crossbars(d, crossbars, holding)
    used, fits = timed_spare(spare, holding)
    codes = design_codes(d, keys)
    s = np.empty((len(FEATURES), n, W))
    by_bound = np.empty((n, W, len(BOUNDS))) if breakdown else None
    for w, net in enumerate(networks):
        rows, parts = bounded_table(net, d.memory, perf, streamed).rows(d, combination_codes(codes, used[:, w]),
                                                                        used[:, w], breakdown)
        s[:, :, w] = rows.T
        if by_bound is not None:
            by_bound[:, w] = parts
    return Timing(time_s=s[_F["time_s"]], bound=s[_F["bound"]].astype(np.int8), by_bound_s=by_bound,
                  max_layer_s=s[_F["max_layer_s"]], spill_bits=s[_F["spill_bits"]], spare_crossbars=spare,
                  fits=fits)


def bounded_energy_pj(energy_pj: dict[str, np.ndarray], spill_bits: np.ndarray, perf: Performance,
                      holding: str) -> dict[str, np.ndarray]:
    """The bounded model's energy per component [pJ]: streamed weights loaded once per batch, plus the activations
    through DRAM (:data:`SPILL_COMPONENT`, ``tables.DRAM_PJ_PER_BIT`` per bit)."""
    out = dict(energy_pj)
    if holding == "streamed" and perf.batch > 1:
        for k in WEIGHT_LOAD_COMPONENTS:
            if k in out:
                out[k] = out[k] / perf.batch
    out[SPILL_COMPONENT] = spill_bits * tables.DRAM_PJ_PER_BIT
    return out


def power_limit_w(area_mm2: np.ndarray, bounds: ChipBounds) -> np.ndarray:
    """The chip's power limit (n,) [W]: min(``power_w``, ``power_density_w_per_mm2`` x area)."""
    return np.minimum(bounds.power_w, bounds.power_density_w_per_mm2 * np.asarray(area_mm2, dtype=float))


def power_limited(energy_j: np.ndarray, time_s: np.ndarray, area_mm2: np.ndarray,
                  bounds: ChipBounds) -> tuple[np.ndarray, np.ndarray]:
    """(latency [s], stretched): ``time_s`` stretched to at least energy / the power limit, arrays of the shape of
    ``time_s`` ((n,) or (n, W); ``area_mm2`` (n,))."""
    at = (slice(None),) + (None,) * (np.ndim(time_s) - 1)
    least = energy_j / power_limit_w(area_mm2, bounds)[at]
    return np.maximum(time_s, least), least > time_s


def bound_names(bound: np.ndarray, stretched: np.ndarray) -> np.ndarray:
    """Name of the resource that bounds most of an inference's time (``bound``: index into :data:`BOUNDS`;
    ``power`` where the power limit stretched it), object array of the shape of ``stretched``."""
    return np.where(stretched, POWER_BOUND, np.array(BOUNDS, dtype=object)[bound])


# -- what a chip delivers ------------------------------------------------------------------------------------------
PHYSICS_COLUMNS = ("power_w", "power_density_w_per_mm2", "throughput_per_s", "tops", "tops_per_w", "tops_per_mm2")


def physics(energy_j: np.ndarray, latency_s: np.ndarray, area_mm2: np.ndarray, macs: np.ndarray | float,
            bounds: ChipBounds) -> dict[str, np.ndarray]:
    """What a design delivers on a network, per inference at the model's latency, arrays of the shape of
    ``latency_s`` ((n,) or (n, W); ``area_mm2`` (n,), ``macs`` per network (W,) or scalar):

    ``power_w`` = energy / latency [W], ``power_density_w_per_mm2``, ``throughput_per_s`` = 1 / latency
    [inferences/s], ``tops`` = 2 x MACs / latency [1e12 op/s], ``tops_per_w`` = 2 x MACs / energy [1e12 op/J],
    ``tops_per_mm2``, and ``over_power_limit``: power above the chip's limit (:func:`power_limit_w`; the reference
    model's latency ignores it, the bounded model never exceeds it)."""
    at = (slice(None),) + (None,) * (np.ndim(latency_s) - 1)
    area = np.asarray(area_mm2, dtype=float)[at]
    ops = 2.0 * np.asarray(macs, dtype=float)
    power = energy_j / latency_s
    tops = ops / latency_s * 1e-12
    return {
        "power_w": power,
        "power_density_w_per_mm2": power / area,
        "throughput_per_s": 1.0 / latency_s,
        "tops": tops,
        "tops_per_w": ops / energy_j * 1e-12,
        "tops_per_mm2": tops / area,
        "over_power_limit": power > power_limit_w(area_mm2, bounds)[at] * (1.0 + 1e-9),
    }


__all__ = ["BOUNDS", "PERFORMANCE_MODES", "PHYSICS_COLUMNS", "WEIGHT_HOLDING", "BoundedTable", "LayerDemands",
           "LayerTimes", "Performance", "PerformanceError", "Timing", "activation_bits", "bound_names",
           "bounded_energy_pj", "by_bound_s", "demand_times", "layer_copies", "layer_demands", "layer_times",
           "pair_spare_crossbars", "pair_timing", "physics", "power_limit_w", "power_limited", "save_tables",
           "set_timing", "spare_crossbars", "timed_spare"]
