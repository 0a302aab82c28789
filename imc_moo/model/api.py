"""Public evaluation API: designs x workloads -> energy, latency, area, EDAP (pandas in, pandas out)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal, cast, overload

import numpy as np
import pandas as pd

from imc_moo.hardware import DESIGN_COLUMNS, GLB_WORDS_PER_MIB, MEMORIES, DesignError, HardwareError, memory_technology
from imc_moo.model.cost import (
    AREA_COMPONENTS,
    ENERGY_COMPONENTS,
    Designs,
    LayerActions,
    chip_cells,
    layer_actions,
    layer_costs,
    network_weights,
    weight_cells,
)
from imc_moo.model.mapping import STATE_DIMS
from imc_moo.model.performance import (
    BOUNDS,
    SPILL_COMPONENT,
    WEIGHT_HOLDING,
    Performance,
    PerformanceError,
    Timing,
    bound_names,
    bounded_energy_pj,
    by_bound_s,
    layer_times,
    pair_timing,
    physics,
    power_limited,
    set_timing,
    spare_crossbars,
    timed_spare,
)
from imc_moo.model.tabulated import pair_costs, set_costs
from imc_moo.workloads import Network, WorkloadError, load_workloads

#: EDAP unit used in outputs: mJ * ms * mm2 (J -> mJ is 1e3, s -> ms is 1e3).
EDAP_SCALE = 1e3 * 1e3
#: Evaluate at most this many design x layer pairs at once to bound memory.
MAX_PAIRS_PER_CHUNK = 1 << 20

#: Fidelity warnings: designs the model is unsure of, as bits of :attr:`NetworkResult.fidelity_flags` and names
#: in the ``fidelity_warning`` column. Only memories that stream weights (SRAM) get them: the rule was found on
#: the reference archive (``python -m imc_moo.model.calibrate`` reports how the flagged and unflagged rows fare;
#: RRAM has no design off by more than 20 %).
#: ``weight_refills``: a tiny chip (<= WARN_MAX_MACROS crossbars) whose network needs more than WARN_WEIGHT_REFILLS
#: times its cells: the reference's random mapper then sometimes leaves the weight-stationary order the model
#: assumes and spends up to 30x more energy (the model is low; ~15 % of the flagged archive rows are off by > 30 %).
FIDELITY_WARNINGS = {1: "weight_refills"}
WARN_WEIGHT_REFILLS = 500
WARN_MAX_MACROS = 256


@functools.cache
def packaged_coefficients() -> dict:
    """Calibrated energy coefficients (``data/coefficients.json``, written by ``python -m imc_moo.model.calibrate``):
    ``theta[memory][component]``, one set per memory."""
    path = resources.files("imc_moo.model") / "data" / "coefficients.json"
    if not path.is_file():
        return {"theta": {m: {} for m in MEMORIES}}
    return json.loads(path.read_text())


def energy_coefficients(memory: str) -> dict[str, float]:
    """theta on ``memory``: one set for every network, the reference's and a user's alike (all 1 if the package has
    no calibration)."""
    return packaged_coefficients()["theta"].get(memory, {})


def designs_from_frame(designs: pd.DataFrame, memory: str) -> Designs:
    """Check a design table and turn it into arrays. Raises :class:`DesignError` naming the bad column/value."""
    memory = _check_memory(memory)
    if not isinstance(designs, pd.DataFrame):
        raise DesignError("designs must be a pandas DataFrame (see imc_moo.problem.space.DesignSpace.decode)")
    df = designs
    if "glb_depth" not in df and "glb_mib" in df:
        df = df.assign(glb_depth=np.rint(df["glb_mib"].to_numpy(dtype=float) * GLB_WORDS_PER_MIB))
    if "technology_nm" not in df:
        df = df.assign(technology_nm=32)
    tech = memory_technology(memory)
    if "bits_per_cell" not in df and len(tech.bits_per_cell) == 1:
        df = df.assign(bits_per_cell=tech.bits_per_cell[0])
    needed = [c for c in DESIGN_COLUMNS if c != "glb_mib"]
    missing = [c for c in needed if c not in df]
    if missing:
        raise DesignError(f"design table lacks columns {missing}: give every one of {needed}")
    arrays = {}
    for col in needed:
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            bad = df[col].iloc[int(np.flatnonzero(~(np.isfinite(values) & (values > 0)))[0])]
            raise DesignError(f"{col}={bad} is not a positive number: fix the design table")
        arrays[col] = values
    for col in needed:
        if col not in ("voltage", "base_latency_s"):
            if not np.array_equal(arrays[col], np.rint(arrays[col])):
                bad = arrays[col][arrays[col] != np.rint(arrays[col])][0]
                raise DesignError(f"{col} must hold integers, got {bad}")
            arrays[col] = arrays[col].astype(np.int64)
    bpc = arrays["bits_per_cell"]
    if np.any((bpc < 1) | (bpc > 8)):
        raise DesignError(f"bits_per_cell={bpc[(bpc < 1) | (bpc > 8)][0]} is out of range: use 1..8")
    allowed = np.isin(bpc, tech.bits_per_cell)
    if not allowed.all():
        raise DesignError(f"bits_per_cell={bpc[~allowed][0]} is not possible for {memory} ({tech.description}): "
                          f"use one of {list(tech.bits_per_cell)}")
    return Designs(memory=memory, **arrays)


def design_frame(d: Designs) -> pd.DataFrame:
    """The design columns of :data:`DESIGN_COLUMNS` for design arrays ``d``."""
    cols = {c: getattr(d, c) for c in DESIGN_COLUMNS if c != "glb_mib"}
    cols["glb_mib"] = d.glb_depth / GLB_WORDS_PER_MIB
    return pd.DataFrame({c: cols[c] for c in DESIGN_COLUMNS})


def _check_memory(memory: str) -> str:
    try:
        return memory_technology(memory).name
    except HardwareError as err:
        raise DesignError(str(err)) from None


@dataclass
class NetworkResult:
    """Totals of one network on n designs: arrays (n,) and per-component energies (n,) in J; of W networks
    (:func:`evaluate_set`): arrays (n, W).

    ``latency_s`` is the performance model's (:mod:`imc_moo.model.performance`): the reference's cycles x clock,
    or the bounded model's (``timing`` holds its parts; ``power_stretched``: the power limit set it); ``cycles``
    are the reference's either way."""

    energy_j: np.ndarray
    latency_s: np.ndarray
    cycles: np.ndarray
    valid: np.ndarray
    weights_fit: np.ndarray
    weight_cells: np.ndarray
    energy_components_j: dict
    fidelity_flags: np.ndarray  # uint8, bits of FIDELITY_WARNINGS (0: no warning)
    performance: Performance
    power_stretched: np.ndarray
    timing: Timing | None = None

    def column(self, w: int) -> NetworkResult:
        """The result of network ``w`` of a set: every (n, W) array as (n,)."""
        def pick(x):
            return x[:, w] if isinstance(x, np.ndarray) and x.ndim >= 2 else x
        timing = None if self.timing is None else Timing(**{k: pick(v) for k, v in vars(self.timing).items()})
        fields = {k: pick(v) for k, v in vars(self).items() if k not in ("energy_components_j", "timing")}
        return NetworkResult(**fields, energy_components_j={k: pick(v) for k, v in self.energy_components_j.items()},
                             timing=timing)


def default_holding(memory: str) -> str:
    """How ``memory`` holds one network's weights by itself: streamed from DRAM (SRAM) or resident (RRAM)."""
    return "streamed" if memory_technology(memory).streams_weights else "network"


@overload
def evaluate_network(d: Designs, network: Network, theta: dict[str, float] | None = None,
                     per_layer: Literal[False] = False, *, performance: Performance | str | None = None,
                     holding: str | None = None) -> NetworkResult: ...
@overload
def evaluate_network(d: Designs, network: Network, theta: dict[str, float] | None,
                     per_layer: Literal[True], *, performance: Performance | str | None = None,
                     holding: str | None = None) -> tuple[NetworkResult, dict[str, np.ndarray]]: ...
@overload
def evaluate_network(d: Designs, network: Network, theta: dict[str, float] | None = None, *,
                     per_layer: Literal[True], performance: Performance | str | None = None,
                     holding: str | None = None) -> tuple[NetworkResult, dict[str, np.ndarray]]: ...
@overload
def evaluate_network(d: Designs, network: Network, theta: dict[str, float] | None = None,
                     per_layer: bool = False, *, performance: Performance | str | None = None,
                     holding: str | None = None) -> NetworkResult | tuple[NetworkResult, dict[str, np.ndarray]]: ...
def evaluate_network(d: Designs, network: Network, theta: dict[str, float] | None = None,
                     per_layer: bool = False, *, performance: Performance | str | None = None,
                     holding: str | None = None) -> NetworkResult | tuple[NetworkResult, dict[str, np.ndarray]]:
    """Energy, latency, validity and weight fit of ``network`` on designs ``d``.

    By default from the network's tabulated sums over layers (:mod:`imc_moo.model.tabulated`: a gather and a dot
    product per component, whatever the layer count). With ``per_layer``, layer by layer (chunked over designs to
    bound memory), also returning (n, L) arrays ``energy_j``, ``latency_s``, ``cycles`` (the reference's),
    ``mappable`` (and, bounded, ``copies``: the copies of the layer's weights the chip holds, ``reads``: the
    crossbar reads with those copies, ``bound``: the
    index into :data:`~imc_moo.model.performance.BOUNDS` of the resource bounding the layer, and ``<resource>_s``:
    the time each resource needs): the breakdown, and the oracle the tabulated path is tested
    against.

    ``performance``: a :class:`~imc_moo.model.performance.Performance` or a mode name (default ``bounded``);
    ``holding``: how the weights are held (:data:`~imc_moo.model.performance.WEIGHT_HOLDING`, default the memory's:
    :func:`default_holding`; ``set`` needs :func:`evaluate_set`).
    """
    theta = energy_coefficients(d.memory) if theta is None else theta
    perf = Performance.of(performance)
    holding = default_holding(d.memory) if holding is None else holding
    if not per_layer:
        return evaluate_set(d, [network], [theta], performance=perf, holding=holding).column(0)
    if holding == "set":
        raise PerformanceError("holding='set' needs every network of the set: use evaluate_set (evaluate_set_layers "
                               "for the per-layer breakdown)")
    return _per_layer(d, network, theta, perf, holding)


#: The dims of the mapping's temporal loops whose product is a layer's weight tiles (:data:`LAYER_DETAILS`).
_WEIGHT_TILE_DIMS = [STATE_DIMS.index(k) for k in "CMRSGY"]
#: The per-layer columns ``details=True`` adds (:func:`evaluate_set_layers`, :func:`evaluate_layers`), besides one
#: ``energy_<component>_j`` column per energy component. Arrays (n, L):
#:
#: * ``copies``: copies of the layer's weights the chip works with (bounded: the spare-crossbar rule of
#:   :func:`~imc_moo.model.performance.layer_copies`; reference: the reference mapping's), also without details
#:   under the bounded model; ``reads``: crossbar reads in sequence per inference with those copies;
#: * ``reference_copies``: the reference mapping's copies (the spatial P x Q factors of the macro levels);
#: * ``crossbars_per_copy``: crossbars one copy of the layer's weights occupies, row groups x column groups x G;
#: * ``crossbars``: crossbars the layer occupies while it runs: weights held on chip under the bounded model,
#:   ``copies x crossbars_per_copy`` (every layer of the held networks at once, :func:`~imc_moo.model.performance.
#:   spare_crossbars`); otherwise the reference mapping's macros (the layer alone on the chip, ceil-split padding
#:   included: :attr:`~imc_moo.model.mapping.LayerMapping.macros`);
#: * ``crossbar_share``: ``crossbars`` / the chip's crossbars, 0-1;
#: * ``row_groups``, ``col_groups``: crossbars along the rows (C x R x S) and the columns (M x weight slices) of one
#:   copy of one group's weights;
#: * ``weight_tiles``: weight tiles one copy cycles through in time (the temporal C, M, R, S, G and weight-slice
#:   factors; 1 when every weight is in space, which held weights need);
#: * ``weight_cells``: cells one copy of the weights fills (weights x weight slices);
#: * ``cell_fill``: ``weight_cells`` / the cells of ``crossbars_per_copy`` crossbars, 0-1;
#: * ``macs``: multiply-accumulates per inference.
LAYER_DETAILS = ("reference_copies", "crossbars_per_copy", "crossbars", "crossbar_share", "row_groups", "col_groups",
                 "weight_tiles", "weight_cells", "cell_fill", "macs")


def _per_layer(d: Designs, network: Network, theta: dict[str, float], perf: Performance, holding: str,
               spare_given: np.ndarray | None = None,
               details: bool = False) -> tuple[NetworkResult, dict[str, np.ndarray]]:
    """The per-layer path of :func:`evaluate_network` (chunked over designs to bound memory); ``spare_given`` (n,):
    the spare crossbars of a set held at once (:func:`evaluate_set_layers`), else those of the network alone;
    ``details``: the mapping columns of :data:`LAYER_DETAILS` and the energy per component too."""
    n, L = d.n, network.n_layers
    step = max(1, MAX_PAIRS_PER_CHUNK // max(L, 1))
    cycles = np.empty(n)
    valid = np.empty(n, dtype=bool)
    crossbars = np.empty(n)
    bounded_s = np.empty(n)
    by_bound = np.zeros((n, len(BOUNDS)))
    longest = np.empty(n)
    spill = np.empty(n)
    spare = np.empty(n, dtype=np.int64)
    energy_pj: dict[str, np.ndarray] = {}
    layers = {k: np.empty((n, L)) for k in ("energy_j", "latency_s", "cycles")}
    layers["mappable"] = np.empty((n, L), dtype=bool)
    if perf.bounded:
        layers["bound"] = np.empty((n, L), dtype=np.int64)
    if perf.bounded or details:
        layers["reads"] = np.empty((n, L))
        layers["copies"] = np.empty((n, L))
    if perf.bounded:
        layers.update({f"{r}_s": np.empty((n, L)) for r in BOUNDS})
    if details:
        layers.update({k: np.empty((n, L)) for k in LAYER_DETAILS})
    for start in range(0, n, step):
        sl = slice(start, min(n, start + step))
        part = d.take(np.arange(sl.start, sl.stop)) if (sl.start, sl.stop) != (0, n) else d
        a = layer_actions(part, network)
        lc = layer_costs(part, network, theta, actions=a)
        cycles[sl] = lc.cycles.sum(axis=1)
        valid[sl] = lc.mappable.all(axis=1)
        crossbars[sl] = a.crossbars.sum(axis=1)
        components = lc.energy_pj
        layers["cycles"][sl] = lc.cycles
        layers["latency_s"][sl] = lc.cycles * part.base_latency_s[:, None]
        layers["mappable"][sl] = lc.mappable
        if perf.bounded:
            spare[sl] = (spare_crossbars(part, crossbars[sl, None], holding)[:, 0] if spare_given is None
                         else spare_given[sl])
            t = layer_times(part, network, a, perf, timed_spare(spare[sl], holding)[0], holding == "streamed")
            components = bounded_energy_pj(lc.energy_pj, t.spill_bits, perf, holding)
            layers["reads"][sl] = t.cycles
            layers["copies"][sl] = t.copies
            layers["latency_s"][sl] = t.time_s
            layers["bound"][sl] = t.bound
            for r in BOUNDS:
                layers[f"{r}_s"][sl] = t.resource_s[r]
            by_bound[sl] = by_bound_s(t)
            bounded_s[sl] = t.time_s.sum(axis=1)
            longest[sl] = t.time_s.max(axis=1, initial=0.0)
            spill[sl] = t.spill_bits.sum(axis=1)
        elif details:
            layers["reads"][sl] = lc.cycles
            layers["copies"][sl] = a.copies
        for k, v in components.items():
            energy_pj.setdefault(k, np.empty(n))[sl] = v.sum(axis=1)
            if details:
                layers.setdefault(f"energy_{k}_j", np.empty((n, L)))[sl] = v * 1e-12
        layers["energy_j"][sl] = sum(components.values()) * 1e-12
        if details:
            _layer_details(part, network, a, layers, sl, held=perf.bounded and holding != "streamed")
    timing = None
    if perf.bounded:
        timing = Timing(time_s=bounded_s, bound=by_bound.argmax(axis=1).astype(np.int8), by_bound_s=by_bound,
                        max_layer_s=longest, spill_bits=spill, spare_crossbars=spare,
                        fits=timed_spare(spare, holding)[1])
    result = _network_result(d, weight_cells(d, network), energy_pj, cycles, valid, perf, timing)
    return result, layers


def _layer_details(d: Designs, network: Network, a: LayerActions, layers: dict[str, np.ndarray], sl: slice,
                   held: bool) -> None:
    """Fill the :data:`LAYER_DETAILS` rows ``sl`` of ``layers`` (its ``copies`` already filled) for designs ``d``."""
    m = a.mapping
    assert m is not None  # layer_actions keeps its mapping
    one_copy = a.crossbars.astype(float)
    on_chip = layers["copies"][sl] * one_copy if held else m.macros.astype(float)
    cells = network.weights[None, :] * d.weight_slices[:, None].astype(float)
    layers["reference_copies"][sl] = a.copies
    layers["crossbars_per_copy"][sl] = one_copy
    layers["crossbars"][sl] = on_chip
    layers["crossbar_share"][sl] = on_chip / d.n_macros[:, None]
    layers["row_groups"][sl] = m.row_groups
    layers["col_groups"][sl] = m.col_groups
    layers["weight_tiles"][sl] = np.prod(m.temporal[..., _WEIGHT_TILE_DIMS], axis=-1)
    layers["weight_cells"][sl] = cells
    layers["cell_fill"][sl] = cells / (one_copy * (d.xbar_rows * d.xbar_cols)[:, None])
    layers["macs"][sl] = network.macs[None, :]


def evaluate_set_layers(d: Designs, networks: Sequence[Network], thetas: Sequence[dict[str, float]] | None = None,
                        *, performance: Performance | str | None = None, holding: str | None = None,
                        details: bool = False) -> list[tuple[NetworkResult, dict[str, np.ndarray]]]:
    """The per-layer breakdown of every network of a set on designs ``d``, its weights held as ``holding``:
    :func:`evaluate_network` with ``per_layer`` for each network, and ``holding="set"`` too (every network's
    weights resident at once: each network's copies share the chip's spare crossbars in proportion to their
    crossbars, :func:`~imc_moo.model.performance.spare_crossbars`, as :func:`evaluate_set` times them).

    Args:
        thetas: the energy coefficients per network (default the memory's calibrated ones).
        performance: a :class:`~imc_moo.model.performance.Performance` or a mode name (default ``bounded``).
        holding: :data:`~imc_moo.model.performance.WEIGHT_HOLDING` (default the memory's, :func:`default_holding`).
        details: add the mapping columns of :data:`LAYER_DETAILS` (copies, crossbars, row and column groups,
            weight tiles, cells, MACs) and ``energy_<component>_j`` [J] per energy component.

    Returns:
        One ``(result, layers)`` per network, in order: the network's :class:`NetworkResult` (arrays (n,); the
        numbers of :func:`evaluate_set` to 1e-9) and its (n, L) per-layer arrays ``energy_j`` [J], ``latency_s``
        [s] (bounded: the layer's time before the power limit, which stretches whole inferences: they sum to
        ``result.timing.time_s``), ``cycles`` (the reference's), ``mappable``; bounded, ``bound`` (index into
        :data:`~imc_moo.model.performance.BOUNDS`) and ``<resource>_s`` [s]; bounded or with ``details``,
        ``copies`` and ``reads``; with ``details``, :data:`LAYER_DETAILS` and ``energy_<component>_j``.
    """
    perf = Performance.of(performance)
    holding = default_holding(d.memory) if holding is None else holding
    if holding not in WEIGHT_HOLDING:
        raise PerformanceError(f"unknown weight holding {holding!r}: use one of {', '.join(WEIGHT_HOLDING)}")
    if thetas is None:
        thetas = [energy_coefficients(d.memory)] * len(networks)
    spare = None
    if perf.bounded and holding == "set":
        spare = spare_crossbars(d, set_costs(d, networks, thetas)[3], holding)
    return [_per_layer(d, net, theta, perf, holding, None if spare is None else spare[:, w], details)
            for w, (net, theta) in enumerate(zip(networks, thetas))]


def evaluate_set(d: Designs, networks: Sequence[Network], thetas: Sequence[dict[str, float]], *,
                 performance: Performance | str | None = None, holding: str | None = None,
                 breakdown: bool = False) -> NetworkResult:
    """:func:`evaluate_network` of W networks at once (tabulated path), every array (n, W): the per-network work is
    one gather each, the rest one array expression for all of them (a design of a 9-network set in well under
    a millisecond). ``holding="set"``: every network's weights resident at once (the bounded model's replicas);
    ``breakdown``: the bounded model's time per bounding resource too (``timing.by_bound_s``)."""
    perf = Performance.of(performance)
    holding = default_holding(d.memory) if holding is None else holding
    cells = np.stack([weight_cells(d, net) for net in networks], axis=1)
    keys = d.mapping_keys
    energy_pj, cycles, valid, crossbars = set_costs(d, networks, thetas, keys)
    timing = None
    if perf.bounded:
        timing = set_timing(d, networks, keys, crossbars, perf, holding, breakdown)
        energy_pj = bounded_energy_pj(energy_pj, timing.spill_bits, perf, holding)
    return _network_result(d, cells, energy_pj, cycles, valid, perf, timing)


def evaluate_pairs(d: Designs, networks: Sequence[Network], thetas: Sequence[dict[str, float]], rows: np.ndarray,
                   nets: np.ndarray, *, performance: Performance | str | None = None,
                   holding: str | None = None) -> NetworkResult:
    """:func:`evaluate_set` of the design x network pairs (``rows[i]``, ``networks[nets[i]]``) only, every array
    (P,), the same numbers: a partitioned chip's networks, each on the partition it is placed on (``holding="set"``:
    the networks a design holds are those of its pairs)."""
    perf = Performance.of(performance)
    holding = default_holding(d.memory) if holding is None else holding
    cells = np.array([network_weights(net) for net in networks])[nets] * d.weight_slices[rows]
    keys = d.mapping_keys
    energy_pj, cycles, valid, crossbars = pair_costs(d, networks, thetas, rows, nets, keys)
    timing = None
    if perf.bounded:
        timing = pair_timing(d, networks, keys, rows, nets, crossbars, perf, holding)
        energy_pj = bounded_energy_pj(energy_pj, timing.spill_bits, perf, holding)
    return _network_result(d, cells, energy_pj, cycles, valid, perf, timing, rows)


def _per_design(d: Designs, like: np.ndarray):
    """An index that broadcasts a per-design (n,) array against ``like`` ((n,) or (n, W))."""
    return (slice(None),) + (None,) * (np.ndim(like) - 1)


def _network_result(d: Designs, cells: np.ndarray, energy_pj: dict[str, np.ndarray], cycles: np.ndarray,
                    valid: np.ndarray, perf: Performance, timing: Timing | None,
                    rows: np.ndarray | None = None) -> NetworkResult:
    """The result of arrays (n,) or (n, W) over designs ``d``, or (P,) over design ``rows``."""
    at = _per_design(d, cycles) if rows is None else rows
    fits = cells <= chip_cells(d)[at] if d.technology.weights_resident else np.ones(cells.shape, dtype=bool)
    comps = {k: v * 1e-12 for k, v in energy_pj.items()}
    energy = cast(np.ndarray, sum(comps.values()))  # never empty: not sum()'s Literal[0]
    if timing is None:
        latency, stretched = cycles * d.base_latency_s[at], np.zeros(np.shape(cycles), dtype=bool)
    else:
        area = d.total_area_mm2 if rows is None else d.total_area_mm2[rows]
        latency, stretched = power_limited(energy, timing.time_s, area, perf.bounds)
        valid = valid & timing.fits
    return NetworkResult(
        energy_j=energy,
        latency_s=latency,
        cycles=cycles,
        valid=valid,
        weights_fit=fits,
        weight_cells=cells,
        energy_components_j=comps,
        fidelity_flags=fidelity_flags(d, cells, rows),
        performance=perf,
        power_stretched=stretched,
        timing=timing,
    )


def fidelity_flags(d: Designs, weight_cells_needed: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Bits of :data:`FIDELITY_WARNINGS` per design, uint8 of the shape of ``weight_cells_needed`` ((n,), or
    (n, W) for W networks, or (P,) for design ``rows``), given the cells the network's weights need
    (:func:`~imc_moo.model.cost.weight_cells`)."""
    flags = np.zeros(np.shape(weight_cells_needed), dtype=np.uint8)
    if d.technology.streams_weights:
        at = _per_design(d, weight_cells_needed) if rows is None else rows
        refills = ((weight_cells_needed > WARN_WEIGHT_REFILLS * chip_cells(d)[at])
                   & (d.n_macros <= WARN_MAX_MACROS)[at])
        flags |= refills.astype(np.uint8)
    return flags


def fidelity_warning_text(flags: np.ndarray) -> np.ndarray:
    """Warning names for flags (any shape): "" for none, names joined by "+" (e.g. "weight_refills")."""
    flags = np.asarray(flags, dtype=np.uint8)
    names = np.array(["+".join(name for bit, name in FIDELITY_WARNINGS.items() if code & bit)
                      for code in range(1 << len(FIDELITY_WARNINGS))], dtype=object)
    return names[flags]


def area_components_mm2(d: Designs) -> dict[str, np.ndarray]:
    """Chip area per component (ADC incl. column periphery, row drivers, cells, tile buffers, GLB), (n,) mm2."""
    return dict(d.area_mm2)


def evaluate(designs: pd.DataFrame, workloads: str | Network | Sequence[str | Network], memory: str = "rram", *,
             components: bool = False, performance: str | Performance = "bounded", bounds: Mapping | None = None,
             batch: int = 1) -> pd.DataFrame:
    """Energy, latency, area, EDAP and what the chip delivers, of every design on every network of a workload set.

    Args:
        designs: table with the design columns of :data:`imc_moo.problem.space.DESIGN_COLUMNS` (``glb_mib`` may replace
            ``glb_depth``; ``technology_nm`` defaults to 32; SRAM ``bits_per_cell`` defaults to 1).
        workloads: a set name (``cnn4``, ``mixed9``), a network name, a path to a network file (``.yaml``, an
            ``.onnx`` model or a ``.csv`` layer table, imported on the fly), a :class:`~imc_moo.workloads.Network`,
            or a list of these.
        memory: ``"rram"`` (weights resident on chip) or ``"sram"`` (weights streamed from LPDDR4).
        components: add per-component energy columns ``energy_<component>_j`` and area columns
            ``area_<component>_mm2`` (and, bounded, ``time_<resource>_s``: the time of the layers each resource
            bounds).
        performance: ``"bounded"`` (latency a chip can deliver: :mod:`imc_moo.model.performance`) or
            ``"reference"`` (the reference simulator's cycles x clock, the paper's numbers).
        bounds: physical limits replacing the packaged ones (``conf/bounds/default.yaml``), e.g.
            ``{"dram_bytes_per_s": 25.6e9}``; bounded model only.
        batch: inferences processed together (bounded model).

    Returns:
        One row per design x network (design-major), with the design columns, ``design_id`` (row of ``designs``),
        ``workload``, ``energy_j`` [J], ``latency_s`` [s], ``cycles`` (the reference's), ``area_mm2`` [mm2],
        ``edap`` [mJ*ms*mm2], what the chip delivers at that latency (``power_w``, ``power_density_w_per_mm2``,
        ``throughput_per_s``, ``tops``, ``tops_per_w``, ``tops_per_mm2``, ``over_power_limit``:
        :func:`~imc_moo.model.performance.physics`), ``bound`` (bounded: the resource bounding most of the
        inference's time, ``power`` where the power limit stretched it; reference: empty), ``performance``,
        ``weights_fit`` (RRAM: every weight fits on chip; SRAM streams weights, always true), ``weight_cells``,
        ``valid`` (every layer can be mapped: the reference fails RRAM layers whose weights cannot all be placed
        in space; bounded, also every resident layer keeps one copy in whole crossbars) and ``fidelity_warning``
        ("" or the names of :data:`FIDELITY_WARNINGS` that apply: a design the model is unsure of).
    """
    d = designs_from_frame(designs, memory)
    networks = load_workloads(workloads)
    perf = Performance.of(performance, bounds, batch)
    area = area_components_mm2(d)
    area_total = cast(np.ndarray, sum(area.values()))  # never empty: not sum()'s Literal[0]
    base = design_frame(d).join(designs.reset_index(drop=True).drop(columns=list(DESIGN_COLUMNS), errors="ignore"))
    base["design_id"] = np.arange(d.n)
    frames = []
    for net in networks:
        r = evaluate_set(d, [net], [energy_coefficients(d.memory)], performance=perf, breakdown=components).column(0)
        delivered = physics(r.energy_j, r.latency_s, area_total, np.float64(net.total_macs), perf.bounds)
        bound = "" if r.timing is None else bound_names(r.timing.bound, r.power_stretched)
        f = base.assign(
            workload=net.name, energy_j=r.energy_j, latency_s=r.latency_s, cycles=r.cycles, area_mm2=area_total,
            edap=r.energy_j * r.latency_s * area_total * EDAP_SCALE, **delivered, bound=bound,
            performance=perf.mode, weights_fit=r.weights_fit, weight_cells=r.weight_cells, valid=r.valid,
            fidelity_warning=fidelity_warning_text(r.fidelity_flags),
        )
        if components:
            for k in (*ENERGY_COMPONENTS, *((SPILL_COMPONENT,) if perf.bounded else ())):
                f[f"energy_{k}_j"] = r.energy_components_j.get(k, 0.0)
            for k in AREA_COMPONENTS:
                f[f"area_{k}_mm2"] = area[k]
            if r.timing is not None and r.timing.by_bound_s is not None:
                for i, b in enumerate(BOUNDS):
                    f[f"time_{b}_s"] = r.timing.by_bound_s[:, i]
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    order = np.lexsort((np.repeat(np.arange(len(networks)), d.n), out["design_id"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def evaluate_layers(designs: pd.DataFrame, workload: str | Network, memory: str = "rram", *,
                    performance: str | Performance = "bounded", bounds: Mapping | None = None,
                    batch: int = 1, details: bool = False, holding: str | None = None) -> pd.DataFrame:
    """Per-layer breakdown of one network: one row per design x layer with ``design_id``, ``layer``,
    ``energy_j`` [J], ``latency_s`` [s], ``cycles`` and ``mappable``; bounded (the default, see :func:`evaluate`),
    also ``bound`` (the resource that sets the layer's time), ``<resource>_s`` [s] (the time each resource needs,
    :data:`~imc_moo.model.performance.BOUNDS`), ``copies`` and ``reads``. The network's latency is the sum of its
    layers' (bounded: then stretched by the power limit, which applies to the whole inference).

    ``details=True`` adds how each layer is mapped, :data:`LAYER_DETAILS`: ``copies`` (the replicas of its
    weights) and ``reads``, ``reference_copies``, ``crossbars_per_copy``, ``crossbars`` and ``crossbar_share`` (of
    the chip's crossbars, 0-1), ``row_groups``, ``col_groups``, ``weight_tiles`` (time-multiplexed weight tiles),
    ``weight_cells``, ``cell_fill`` (0-1) and ``macs``; and the energy per component, ``energy_<component>_j``
    [J], which sum to ``energy_j``. ``holding``: how the weights are held
    (:data:`~imc_moo.model.performance.WEIGHT_HOLDING`; default the memory's, :func:`default_holding`)."""
    d = designs_from_frame(designs, memory)
    nets = load_workloads(workload)
    if len(nets) != 1:
        raise WorkloadError(f"evaluate_layers takes one network, got {len(nets)} ({', '.join(n.name for n in nets)})"
                            " — give a single network name, path or Network")
    (net,) = nets
    perf = Performance.of(performance, bounds, batch)
    [(_, layers)] = evaluate_set_layers(d, [net], performance=perf, holding=holding, details=details)
    n, L = d.n, net.n_layers
    if "bound" in layers:
        layers["bound"] = np.array(BOUNDS, dtype=object)[layers["bound"]]
    return pd.DataFrame({
        "design_id": np.repeat(np.arange(n), L),
        "workload": net.name,
        "layer": np.tile(np.asarray(net.layer_names), n),
        **{k: v.ravel() for k, v in layers.items()},
    })
