"""Closed-form energy, latency and area of IMC designs over (designs x layers) numpy arrays.

Follows COST_MODEL.md §5: the reference simulator's totals reduce to counts of actions per component (from the
layer shape and the greedy mapping) times per-action energies from NeuroSim/CACTI tables. Six counts go beyond
COST_MODEL.md (issue 12, found on the reference archive):

* the GLB reads a router group's input window once (:func:`_glb_input_bits`, not im2col);
* every partial-sum pass at the GLB is a read-modify-write, the first one too (the reference's
  ``rmw_first_update``);
* a tile's output buffer sees one partial sum per row group *of the tile's own*: the row groups side by side in
  the tile are added first (:attr:`LayerMapping.tile_row_groups`);
* where weights are streamed (SRAM), ceil splits count their padding: the DRAM fetch brings the padded weights, and
  the row drivers drive every row a row group spans (:attr:`LayerMapping.rows_spanned`);
* while the weights are written only into the replicas that compute at least one output row (``ceil(P / temporal
  P)`` of them, not every allocated replica).

Each energy term k is scaled by a calibration coefficient theta_k (all 1 reproduces the reference's formula;
``calibrate`` fits them).

Shapes: n designs, L layers. Energies in pJ inside the kernel, returned in J; latency in cycles and s; areas in mm2.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import cast

import numpy as np

from imc_moo.hardware import MemoryTechnology, memory_technology
from imc_moo.model import tables
from imc_moo.model.mapping import STATE_DIMS, LayerMapping, mapping_keys, mapping_tables
from imc_moo.workloads import Network

#: ``glb``: the GLB's input reads; ``glb_psum``: its partial-sum read-modify-writes (two actions with their own
#: counts, calibrated apart).
ENERGY_COMPONENTS = ("cell", "row", "adc", "glb", "glb_psum", "ibuf", "obuf", "router", "dram", "cell_write",
                     "weight_drivers")
AREA_COMPONENTS = ("adc", "row_drivers", "cells", "buffers", "glb")
INPUT_BITS = WEIGHT_BITS = OUTPUT_BITS = 8
GLB_WORD_BITS = 2048
_D = {d: i for i, d in enumerate(STATE_DIMS)}
#: The dims of a layer's weights (the weight slices Y are the bits of a weight, counted in WEIGHT_BITS).
_WEIGHT_DIMS = [_D[k] for k in "CMRSG"]


@dataclass(frozen=True)
class Designs:
    """Design parameters as arrays of shape (n,), plus the per-design table lookups the kernel needs."""

    memory: str
    voltage: np.ndarray
    bits_per_cell: np.ndarray
    base_latency_s: np.ndarray
    xbar_rows: np.ndarray
    xbar_cols: np.ndarray
    router_group: np.ndarray
    tiles_per_chip: np.ndarray
    macros_per_tile: np.ndarray
    glb_depth: np.ndarray
    technology_nm: np.ndarray

    @property
    def n(self) -> int:
        return len(self.voltage)

    @property
    def technology(self) -> MemoryTechnology:
        """The memory technology's rules (:mod:`imc_moo.hardware`)."""
        return memory_technology(self.memory)

    @property
    def weight_slices(self) -> np.ndarray:
        """ceil(8 / bits_per_cell): columns one 8-bit weight occupies."""
        return -(-WEIGHT_BITS // self.bits_per_cell)

    @property
    def n_macros(self) -> np.ndarray:
        return self.router_group * self.tiles_per_chip * self.macros_per_tile

    @property
    def n_tiles(self) -> np.ndarray:
        return self.router_group * self.tiles_per_chip

    @functools.cached_property
    def lookups(self) -> DesignLookups:
        return DesignLookups.of(self)

    @functools.cached_property
    def neurosim_index(self) -> np.ndarray:
        """Flat index of each design in its memory's NeuroSim grid (node, rows, cols, voltage), (n,)."""
        return tables.neurosim(self.memory).index(self.technology_nm, self.xbar_rows, self.xbar_cols, self.voltage)

    @functools.cached_property
    def area_mm2(self) -> dict[str, np.ndarray]:
        """Chip area per component (:data:`AREA_COMPONENTS`), (n,) mm2: table lookups only, no energies (the
        mapping-free constraints need just this)."""
        ns = tables.neurosim(self.memory)
        ca = tables.cacti()
        c0 = {q: ns.coefficients(q, self.neurosim_index)[:, 0]
              for q in ("adc_area", "col_area", "row_area", "cell_area")}
        width = 8 * self.macros_per_tile  # tile buffers are 8 bits per macro wide
        buffers = (ca.buffer_at(self.technology_nm, self.xbar_rows, width)[:, 2]
                   + ca.buffer_at(self.technology_nm, self.xbar_cols, width)[:, 2])
        drivers = 2.0 if self.memory == "sram" else 1.0  # SRAM weight drivers reuse the row-driver area
        macros = self.n_macros.astype(float)
        return {
            "adc": 1e-6 * macros * (c0["adc_area"] + c0["col_area"]),
            "row_drivers": 1e-6 * macros * drivers * c0["row_area"],
            "cells": 1e-6 * macros * c0["cell_area"] * self.xbar_rows * self.xbar_cols,
            "buffers": self.n_tiles * buffers,
            "glb": ca.glb_at(self.technology_nm, self.glb_depth)[:, 2],
        }

    @functools.cached_property
    def total_area_mm2(self) -> np.ndarray:
        """Chip area (n,) mm2: the sum of :attr:`area_mm2`."""
        return cast(np.ndarray, sum(self.area_mm2.values()))  # never empty: not sum()'s Literal[0]

    @functools.cached_property
    def mapping_keys(self) -> np.ndarray:
        """Each design's mapping combination (:func:`imc_moo.model.mapping.mapping_keys`), (n,) int64."""
        return mapping_keys(self)

    def take(self, index: np.ndarray) -> Designs:
        """The designs at ``index`` (table lookups are recomputed lazily)."""
        fields = {k: getattr(self, k)[index] for k in self.__dataclass_fields__ if k != "memory"}
        return Designs(memory=self.memory, **fields)


@dataclass(frozen=True)
class DesignLookups:
    """Per-design per-action energies, each (n, 4) bilinear NeuroSim coefficients or (n,) pJ per bit."""

    cell_read: np.ndarray
    row_read: np.ndarray
    adc_read: np.ndarray
    cell_write: np.ndarray | None  # streamed weights only (written into the crossbars every inference)
    row_write: np.ndarray | None
    glb_read_pj_per_bit: np.ndarray
    glb_write_pj_per_bit: np.ndarray
    ibuf_pj_per_bit: np.ndarray
    obuf_pj_per_bit: np.ndarray
    router_pj_per_bit: np.ndarray

    @classmethod
    def of(cls, d: Designs) -> DesignLookups:
        ns = tables.neurosim(d.memory)
        idx = d.neurosim_index
        ca = tables.cacti()
        glb = ca.glb_at(d.technology_nm, d.glb_depth)
        width = 8 * d.macros_per_tile  # tile buffers are 8 bits per macro wide
        ibuf = ca.buffer_at(d.technology_nm, d.xbar_rows, width)
        obuf = ca.buffer_at(d.technology_nm, d.xbar_cols, width)
        streamed = d.technology.streams_weights  # weights written every inference: only then write energies
        return cls(
            cell_read=ns.coefficients("cell_read", idx),
            row_read=ns.coefficients("row_read", idx),
            adc_read=ns.coefficients("adc_read", idx),
            cell_write=ns.coefficients("cell_write", idx) if streamed else None,
            row_write=ns.coefficients("row_write", idx) if streamed else None,
            glb_read_pj_per_bit=glb[:, 0] / GLB_WORD_BITS,
            glb_write_pj_per_bit=glb[:, 1] / GLB_WORD_BITS,
            ibuf_pj_per_bit=(ibuf[:, 0] + ibuf[:, 1]) / width,
            obuf_pj_per_bit=(obuf[:, 0] + obuf[:, 1]) / width,
            router_pj_per_bit=tables.ROUTER_PJ_PER_BIT_32NM * tables.router_node_factor(d.technology_nm),
        )


def _bilinear(coef: np.ndarray, ain: np.ndarray, aw: np.ndarray) -> np.ndarray:
    """Per-action energy (n, L) from coefficients (n, 4), ain (L,) and aw (n, L)."""
    c = coef[:, :, None]
    return c[:, 0] + c[:, 1] * ain + (c[:, 2] + c[:, 3] * ain) * aw


@functools.lru_cache(maxsize=64)
def _layer_counts(network: Network) -> dict[str, np.ndarray]:
    """Per-layer action counts that depend on the shape only, float64 arrays of shape (L,)."""
    C, M, R, S, P, Q, G = (network.shape_array()[:, i].astype(float) for i in range(7))
    return {
        "macs": C * M * R * S * G * P * Q,
        "row_acts": C * R * S * G * P * Q,  # per column group
        "conversions": M * G * P * Q,  # per weight slice and row group
        "in_bits": INPUT_BITS * C * R * S * G * P * Q,  # im2col input bits
        "out_bits": OUTPUT_BITS * M * G * P * Q,
        "weight_bits": WEIGHT_BITS * C * M * R * S * G,
        "weights": C * M * R * S * G,
        "crs": C * R * S,  # the rows one copy of a group's weights occupies
        "P": P,
        "Q": Q,
    }


@dataclass
class LayerActions:
    """Per (design, layer) action counts, before any per-action energy: arrays (n, L) unless noted.

    ``cell``, ``row``, ``adc`` (and, streaming weights, ``written``: weight bits written into the crossbars, once per
    busy replica) count actions whose energy is bilinear in the layer's activity (``ain`` (L,), ``aw`` (n, L) at the
    design's bits per cell); streaming weights, ``row`` counts every row a row group spans, padding included.
    ``in_bits`` are the im2col input bits streamed to the macros (input buffers, router), ``glb_in_bits`` the input
    bits the GLB reads (router groups share windows, :func:`_glb_input_bits`), ``out_bits`` the output bits through
    the GLB (every partial-sum pass, each a read-modify-write, the first one included), ``obuf`` the output-buffer
    accesses (one per output, weight slice and row group of the tile's own); streaming weights,
    ``weight_bits_padded`` the weight bits fetched from DRAM (the padded weight dims, :attr:`LayerMapping.spatial`);
    ``cycles`` the latency in cycles and ``mappable`` whether every weight tile is placed in space (always true for
    SRAM); ``copies`` the layer's weight copies working on different outputs (the spatial P x Q factors of the
    macro levels) and ``crossbars`` the crossbars one copy of its weights occupies (row groups x column groups x G).
    They depend on the design only through the mapping-relevant parameters (crossbar rows and columns, bits per
    cell, the three macro levels), which is what lets :mod:`imc_moo.model.tabulated` sum them over layers once
    per combination."""

    cell: np.ndarray
    row: np.ndarray
    adc: np.ndarray
    written: np.ndarray | None
    in_bits: np.ndarray
    glb_in_bits: np.ndarray
    out_bits: np.ndarray
    obuf: np.ndarray
    weight_bits_padded: np.ndarray | None
    cycles: np.ndarray
    mappable: np.ndarray
    ain: np.ndarray
    aw: np.ndarray
    copies: np.ndarray
    crossbars: np.ndarray
    #: the mapping the counts come from (row and column groups, temporal tiles, macros: breakdowns read it)
    mapping: LayerMapping | None = None


def _glb_input_bits(m: LayerMapping, Q: np.ndarray, q_temporal: bool) -> np.ndarray:
    """Input bits the GLB reads, (n, L): every GLB iteration sends each router group its input window once.

    The tiles and macros of one router group (the spatial factors below the router level, ``inner``) share the
    group's window: its ``P_in x Q_in`` outputs under an ``R_in x S_in`` filter need ``C_in x G_in`` channels of
    ``(Q_in + S_in - 1)`` input columns (the windows of neighbouring outputs overlap) by ``P_in x R_in`` rows
    (no overlap counted). Router groups (``outer``) fetch their own windows; every temporal iteration fetches again
    (ceil splits padded), and temporal weight tiles re-stream the inputs. Where the memory pins Q temporal at the
    GLB (SRAM), Q_in = 1 and the overlap is counted along P instead: ``(P_in + R_in - 1) x S_in`` per Q step.
    Which dim overlaps was found by matching the archive: overlapping both leaves RRAM's GLB energy 40 % short,
    neither (im2col) or only within a tile leaves it 10-50 % over on the CNNs (see
    ``python -m imc_moo.model.calibrate``).
    """
    s, outer, t = m.spatial, m.spatial_router, m.temporal

    def inner(k: str) -> np.ndarray:
        return (s[..., _D[k]] // outer[..., _D[k]]).astype(float)

    P_in, Q_in, R_in, S_in = inner("P"), inner("Q"), inner("R"), inner("S")
    if q_temporal:  # Q pinned temporal: the windows overlap along P
        window = (P_in + R_in - 1) * (Q_in * S_in) * Q
    else:
        window = (P_in * R_in) * (Q_in + S_in - 1) * t[..., _D["Q"]]
    window *= inner("G") * inner("C")
    for k in "GCRSPQ":  # router groups fetch their own windows
        window *= outer[..., _D[k]]
    for k in "CRSPGMY":  # and every temporal iteration again
        window *= t[..., _D[k]]
    return INPUT_BITS * window


def layer_actions(d: Designs, network: Network) -> LayerActions:
    """Action counts of every layer of ``network`` on every design of ``d`` (COST_MODEL.md §5)."""
    counts = _layer_counts(network)
    tabs = mapping_tables(d.memory)
    m = tabs.map(tabs.shape_ids(network), d.xbar_rows, d.xbar_cols, d.weight_slices,
                 (d.macros_per_tile, d.tiles_per_chip, d.router_group))
    t = m.temporal
    weight_tiles = t[..., _D["M"]] * t[..., _D["Y"]]  # output-channel tiles: inputs re-streamed once each
    psum_tiles = t[..., _D["C"]] * t[..., _D["R"]] * t[..., _D["S"]]  # partial-sum passes at the GLB
    streamed = d.technology.streams_weights
    if streamed:  # the reference never fails a streamed mapping: leftover weight tiles are time-multiplexed
        mappable = np.ones(t.shape[:2], dtype=bool)
    else:  # resident weights: every weight tile must be placed in space
        mappable = (t[..., [_D[k] for k in "CMRSGY"]] == 1).all(axis=-1)
    cycles = np.prod(t, axis=-1, dtype=np.int64).astype(float)
    if streamed:
        cycles *= counts["Q"]  # Q is pinned temporal at the GLB
    slices = d.weight_slices[:, None].astype(float)
    row_acts = counts["row_acts"] * m.col_groups
    weight_bits_padded = written = None
    if streamed:
        # the fetch iterates over every dim's full spatial factors: a ceil split fetches its padding too
        weight_bits_padded = np.full(t.shape[:2], float(WEIGHT_BITS))
        for k in _WEIGHT_DIMS:
            weight_bits_padded *= m.spatial[..., k] * t[..., k]
        # the padded weights are written, so the rows they pad are driven too: every row a row group spans
        row_acts = row_acts * (m.rows_spanned * m.row_groups) / counts["crs"]
        # fetched once, written into each replica that computes at least one output row: a ceil split of P over
        # more replicas than P / (temporal P) leaves the rest idle (P = 139 on 120 replicas x 2 steps: 70 written)
        written = counts["weight_bits"] * np.minimum(m.p_replicas, np.ceil(counts["P"] / t[..., _D["P"]]))
    return LayerActions(
        cell=counts["macs"] * slices,
        row=row_acts,
        adc=counts["conversions"] * slices * m.row_groups,
        written=written,
        in_bits=counts["in_bits"] * weight_tiles,
        glb_in_bits=_glb_input_bits(m, counts["Q"], streamed),
        out_bits=counts["out_bits"] * psum_tiles,
        # a tile adds the partial sums of its side-by-side row groups before its output buffer
        obuf=counts["out_bits"] * slices * m.row_groups / m.tile_row_groups,
        weight_bits_padded=weight_bits_padded,
        cycles=cycles,
        mappable=mappable,
        ain=network.ain,
        aw=network.aw[:, d.bits_per_cell - 1].T,
        copies=m.spatial[..., _D["P"]] * m.spatial[..., _D["Q"]],  # rows and columns never place P or Q
        crossbars=m.row_groups * m.col_groups * network.G,
        mapping=m,
    )


@dataclass
class LayerCosts:
    """Per (design, layer) results: ``energy_pj[k]`` (n, L) per component (calibration applied), ``cycles`` (n, L),
    ``mappable`` (n, L) bool (every weight dim placed in space; always true for SRAM)."""

    energy_pj: dict
    cycles: np.ndarray
    mappable: np.ndarray


def layer_costs(d: Designs, network: Network, theta: dict[str, float],
                actions: LayerActions | None = None) -> LayerCosts:
    """Energy per component and cycles of every layer of ``network`` on every design of ``d``: the per-layer
    path (breakdowns, and the oracle of the tabulated one); ``actions``: the layers' :func:`layer_actions` on
    ``d`` if already counted."""
    lk = d.lookups
    a = layer_actions(d, network) if actions is None else actions
    ain, aw = a.ain, a.aw
    e = {
        "cell": a.cell * _bilinear(lk.cell_read, ain, aw),
        "row": a.row * _bilinear(lk.row_read, ain, aw),
        "adc": a.adc * _bilinear(lk.adc_read, ain, aw),
        "glb": a.glb_in_bits * lk.glb_read_pj_per_bit[:, None],
        # every psum pass read-modify-writes, the first one too (the reference's rmw_first_update)
        "glb_psum": a.out_bits * (lk.glb_write_pj_per_bit + lk.glb_read_pj_per_bit)[:, None],
        "ibuf": a.in_bits * lk.ibuf_pj_per_bit[:, None],
        "obuf": a.obuf * lk.obuf_pj_per_bit[:, None],
        "router": (a.in_bits + a.out_bits) * lk.router_pj_per_bit[:, None],
    }
    if a.written is not None:  # streamed weights: the padded fetch and the write energies are set too
        assert a.weight_bits_padded is not None and lk.cell_write is not None and lk.row_write is not None
        e["dram"] = a.weight_bits_padded * tables.DRAM_PJ_PER_BIT
        e["cell_write"] = a.written * _bilinear(lk.cell_write, ain, aw)
        e["weight_drivers"] = a.written / d.xbar_cols[:, None] * _bilinear(lk.row_write, ain, aw)
    energy = {k: v * theta.get(k, 1.0) for k, v in e.items()}
    return LayerCosts(energy_pj=energy, cycles=a.cycles, mappable=a.mappable)


def weight_cells(d: Designs, network: Network) -> np.ndarray:
    """Cells needed to hold every weight of ``network`` on chip: sum of C*R*S*M*G * weight slices, shape (n,).

    The method's constraint omits G; counting it is the physical truth (depthwise layers need G crossbars)."""
    return network_weights(network) * d.weight_slices


def network_weights(network: Network) -> float:
    """The weights of ``network``: sum of C*R*S*M*G over its layers (:func:`weight_cells` per weight slice)."""
    return _layer_counts(network)["weights"].sum()


def chip_cells(d: Designs) -> np.ndarray:
    """Memory cells on the chip, shape (n,)."""
    return d.n_macros * d.xbar_rows * d.xbar_cols
