"""The fast path: a network's costs from sums over its layers tabulated once per mapping combination.

A layer's action counts (:func:`imc_moo.model.cost.layer_actions`) depend on the design only through the
*mapping key*: crossbar rows and columns, bits per cell, macros per tile, tiles per chip and router groups. Every
energy term is count x per-action energy, and the per-action energy depends on the design (voltage, node, array
size, GLB depth) and, for the crossbar terms, bilinearly on the layer's activity: ``c0 + c1 ain + (c2 + c3 ain)
aw``. So the sum over layers separates:

    sum_l count_l * (c0 + c1 ain_l + c2 aw_l + c3 ain_l aw_l) = c . [S, S_ain, S_aw, S_ain_aw],

with ``S_x = sum_l count_l * x_l``. :class:`NetworkTable` stores these sums (:data:`FEATURES`) per key, filled
lazily the first time a key is met (with the per-layer path, in chunks), and evaluating n designs on a network is a
gather of (n, F) sums and a short dot product per component: O(networks x components), not O(layers).

The tables persist between processes (:func:`cache_dir`, ``$IMC_MOO_CACHE``, default ``~/.cache/imc_moo``; ``off``
switches it off): a process saves what it filled at exit, keyed by the network's content and a hash of the model's
code, so the next run starts warm. The sums of a key do not depend on which batch computed them, so results are
byte-identical with or without the cache.

Exactness: the sums are the per-layer path's products, reassociated (summed over layers before the per-design
coefficient multiplies), so the two agree to ~1e-15 relative; ``tests/model/test_tabulated.py`` checks <= 1e-9 on random
designs of every memory and workload set. The per-layer path stays the one for breakdowns (``evaluate_layers``).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from imc_moo.cache import load_entry, save_entry, warn
from imc_moo.model import tables
from imc_moo.model.cost import ENERGY_COMPONENTS, Designs, layer_actions
from imc_moo.model.mapping import KEY_AXES, N_KEYS
from imc_moo.paths import cache_dir
from imc_moo.workloads import Network

#: Sums over layers stored per mapping key, in column order. ``<count>_<w>``: sum of the count times w, w one of
#: 1, ain, aw, ain*aw (the bilinear terms); the rest are plain sums.
BILINEAR_COUNTS = ("cell", "row", "adc", "written")
ACTIVITY = ("1", "ain", "aw", "ain_aw")
FEATURES = (*(f"{c}_{w}" for c in BILINEAR_COUNTS for w in ACTIVITY), "in_bits", "glb_in_bits", "out_bits",
            "obuf", "weight_bits_padded", "cycles", "unmappable", "crossbars")
_F = {f: i for i, f in enumerate(FEATURES)}
#: Largest (designs x layers) block filled at once (bounds the memory of filling new keys).
FILL_PAIRS = 1 << 20


def _designs_of_keys(keys: np.ndarray, memory: str) -> Designs:
    """Stand-in designs with the mapping parameters of ``keys`` (the others do not change the sums)."""
    values = {}
    rest = keys.copy()
    for name, grid in reversed(KEY_AXES):
        values[name] = np.asarray(grid, dtype=np.int64)[rest % len(grid)]
        rest //= len(grid)
    ones = np.ones(len(keys))
    return Designs(memory=memory, voltage=ones, base_latency_s=ones, glb_depth=ones.astype(np.int64),
                   technology_nm=np.full(len(keys), 32, dtype=np.int64), **values)


class NetworkTable:
    """Sums over the layers of one network on one memory, per mapping key, filled as keys are met.

    ``index[key]`` is the key's row in ``sums`` ((rows, len(FEATURES)) float64) or -1 if not yet filled."""

    def __init__(self, network: Network, memory: str):
        self.network = network
        self.memory = memory
        self.index = np.full(N_KEYS, -1, dtype=np.int64)
        self.sums = np.zeros((0, len(FEATURES)))
        self.n_filled = 0
        self.n_loaded = 0  # rows read from the persistent cache (the rest were computed by this process)
        self.path, self.key = _cache_entry(network, memory)
        self._load()

    # -- the persistent cache: sums of keys met by earlier processes -------------------------------------------
    def _stored(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The (keys, sums) of the persistent entry if it is there and sound (:func:`imc_moo.cache.load_entry`,
        then: one row per distinct key of the grid, finite non-negative sums), else None."""
        arrays = load_entry(self.path, self.key, {"keys": ("i", 1), "sums": ("f", 2)})
        if arrays is None:
            return None
        keys, sums = arrays["keys"].astype(np.int64), arrays["sums"]
        if (sums.shape != (len(keys), len(FEATURES)) or keys.min(initial=0) < 0 or keys.max(initial=0) >= N_KEYS
                or len(np.unique(keys)) != len(keys) or not np.isfinite(sums).all() or (sums < 0).any()):
            assert self.path is not None  # load_entry found it
            warn(self.path, "sums of the wrong shape, keys off the grid or counts that are not finite and >= 0")
            return None
        return keys, sums

    def _load(self) -> None:
        stored = self._stored()  # missing or damaged: computed again, then rewritten
        if stored is None:
            return
        keys, sums = stored
        self.sums = np.array(sums, dtype=float)
        self.index[keys] = np.arange(len(keys))
        self.n_filled = self.n_loaded = len(keys)

    def save(self) -> None:
        """Write the filled rows (merged with what other processes wrote meanwhile) to the cache, atomically."""
        if self.path is None or self.n_filled == self.n_loaded:
            return
        keys = np.flatnonzero(self.index >= 0)
        sums = self.sums[self.index[keys]]
        stored = self._stored()  # what other processes wrote meanwhile
        if stored is not None:
            theirs = ~np.isin(stored[0], keys)
            keys = np.concatenate([keys, stored[0][theirs]])
            sums = np.concatenate([sums, stored[1][theirs]])
        save_entry(self.path, self.key, {"keys": keys, "sums": sums})
        self.n_loaded = self.n_filled

    def rows(self, keys: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The sums of designs with mapping ``keys`` (n,), (n, len(FEATURES)) (written into ``out`` if given)."""
        at = self.index[keys]
        if (at < 0).any():
            self._fill(np.unique(keys[at < 0]))
            at = self.index[keys]
        return np.take(self.sums, at, axis=0, out=out, mode="clip")  # clip: no buffered copy (at is in range)

    def column(self, keys: np.ndarray, feature: str) -> np.ndarray:
        """One sum (a name of :data:`FEATURES`) of designs with mapping ``keys`` (n,): a gather of n values."""
        at = self.index[keys]
        if (at < 0).any():
            self._fill(np.unique(keys[at < 0]))
            at = self.index[keys]
        return self.sums[at, _F[feature]]

    def _fill(self, keys: np.ndarray) -> None:
        L = max(self.network.n_layers, 1)
        step = max(1, FILL_PAIRS // L)
        parts = [self._sums_of(keys[i:i + step]) for i in range(0, len(keys), step)]
        need = self.n_filled + len(keys)
        if need > len(self.sums):  # grow geometrically
            grown = np.zeros((max(need, 2 * len(self.sums), 64), len(FEATURES)))
            grown[:self.n_filled] = self.sums[:self.n_filled]
            self.sums = grown
        self.sums[self.n_filled:need] = np.concatenate(parts)
        self.index[keys] = np.arange(self.n_filled, need)
        self.n_filled = need

    def _sums_of(self, keys: np.ndarray) -> np.ndarray:
        """Sums over layers of the per-layer action counts for stand-in designs of ``keys``."""
        a = layer_actions(_designs_of_keys(keys, self.memory), self.network)
        out = np.zeros((len(keys), len(FEATURES)))
        weights = {"1": 1.0, "ain": a.ain, "aw": a.aw, "ain_aw": a.ain * a.aw}
        for count in BILINEAR_COUNTS:
            x = getattr(a, count)
            if x is None:
                continue
            for w in ACTIVITY:
                out[:, _F[f"{count}_{w}"]] = (x * weights[w]).sum(axis=1)
        out[:, _F["in_bits"]] = a.in_bits.sum(axis=1)
        out[:, _F["glb_in_bits"]] = a.glb_in_bits.sum(axis=1)
        out[:, _F["out_bits"]] = a.out_bits.sum(axis=1)
        out[:, _F["obuf"]] = a.obuf.sum(axis=1)
        if a.weight_bits_padded is not None:
            out[:, _F["weight_bits_padded"]] = a.weight_bits_padded.sum(axis=1)
        out[:, _F["cycles"]] = a.cycles.sum(axis=1)
        out[:, _F["unmappable"]] = (~a.mappable).sum(axis=1)
        out[:, _F["crossbars"]] = a.crossbars.sum(axis=1)
        return out


@functools.lru_cache(maxsize=128)
def network_table(network: Network, memory: str) -> NetworkTable:
    """The process-wide table of ``network`` on ``memory`` (Network objects are cached per file and compared by
    identity, so an edited file gets a new table); saved to the persistent cache when the process exits."""
    table = NetworkTable(network, memory)
    _TABLES.append(table)
    return table


# -- where the tables persist between processes --------------------------------------------------------------
_TABLES: list[NetworkTable] = []


@functools.lru_cache(maxsize=1)
def model_digest() -> str:
    """Hash of the code the sums come from (count formulas, greedy mapping, the memory technologies, this module)
    and the package version:
    a changed model never reads an older model's tables."""
    from imc_moo import hardware
    from imc_moo.model import cost, mapping
    from imc_moo.version import __version__

    h = hashlib.sha256(__version__.encode())
    for module in (cost, mapping, hardware, sys.modules[__name__]):
        assert module.__file__ is not None  # plain modules, loaded from files
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:12]


def network_digest(network: Network) -> str:
    """Hash of what a network's sums depend on: its layer shapes and activity factors (not its name or file)."""
    h = hashlib.sha256()
    for array in (network.shape_array(), network.ain, network.aw):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _cache_entry(network: Network, memory: str) -> tuple[Path | None, str]:
    """``(<cache>/tables/<memory>-<network content hash>-<model hash>.npz, key)``, the path None without a cache:
    keyed by what the sums depend on (the layer shapes and activity factors, not the name or the file, and the
    model's code); the key is stored in the entry and checked when it is read back."""
    digest = network_digest(network)
    key = f"tables|{memory}|{digest}|{model_digest()}"
    root = cache_dir()
    path = None if root is None else root / "tables" / f"{memory}-{digest[:16]}-{model_digest()}.npz"
    return path, key


@atexit.register
def save_tables() -> None:
    """Write every table that grew in this process (at exit; also callable, e.g. after a long fill)."""
    for table in _TABLES:
        table.save()


def _dot(coef: np.ndarray, sums: np.ndarray, count: str) -> np.ndarray:
    """Bilinear per-action energies (n, 4) against the count's four activity sums (n, W, F): (n, W) pJ."""
    i = _F[f"{count}_1"]
    return np.einsum("nk,nwk->nw", coef, sums[:, :, i:i + 4])


def set_costs(d: Designs, networks: Sequence[Network], thetas: Sequence[dict[str, float]],
              keys: np.ndarray | None = None
              ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Energy per component (n, W) [pJ, calibration ``thetas[w]`` applied], cycles (n, W), every-layer-mappable
    (n, W) bool and the crossbars one copy of every layer occupies (n, W) of each of the W ``networks`` on designs
    ``d``, from the tabulated sums: one gather per network, then one array expression per component for all of
    them (``keys``: :func:`mapping_keys` of ``d``, default the designs' own)."""
    keys = d.mapping_keys if keys is None else keys
    theta = {k: np.array([t.get(k, 1.0) for t in thetas]) for k in ENERGY_COMPONENTS}  # (W,) per component
    s = np.empty((len(keys), len(networks), len(FEATURES)))  # (n, W, F), gathered in place
    for w, net in enumerate(networks):
        network_table(net, d.memory).rows(keys, out=s[:, w, :])
    return _costs(d, s, theta, None)


def pair_costs(d: Designs, networks: Sequence[Network], thetas: Sequence[dict[str, float]], rows: np.ndarray,
               nets: np.ndarray, keys: np.ndarray | None = None
               ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """:func:`set_costs` of the design x network pairs (``rows[i]``, ``networks[nets[i]]``) only, every array (P,):
    the same expressions on the pairs (a partitioned chip's networks, each on the partition it is placed on)."""
    keys = d.mapping_keys if keys is None else keys
    theta = {k: np.array([t.get(k, 1.0) for t in thetas])[nets][:, None] for k in ENERGY_COMPONENTS}
    s = np.empty((len(rows), 1, len(FEATURES)))  # (P, 1, F): one network per pair
    for w, net in enumerate(networks):
        sel = np.flatnonzero(nets == w)
        if len(sel):
            s[sel, 0, :] = network_table(net, d.memory).rows(keys[rows[sel]])
    energy, cycles, valid, crossbars = _costs(d, s, theta, rows)
    return {k: v[:, 0] for k, v in energy.items()}, cycles[:, 0], valid[:, 0], crossbars[:, 0]


def _costs(d: Designs, s: np.ndarray, theta: dict[str, np.ndarray], rows: np.ndarray | None
           ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """:func:`set_costs`' expressions on gathered sums ``s`` (m, W, F), whose row i is design ``rows[i]`` of ``d``
    (None: design i), with calibration ``theta`` per component (broadcasting against (m, W))."""
    lk = d.lookups

    def at(x) -> np.ndarray:  # a per-design value at the rows of s
        x = np.asarray(x)
        return x if rows is None else x[rows]

    def col(name: str) -> np.ndarray:
        return s[:, :, _F[name]]

    def per(x: np.ndarray) -> np.ndarray:  # a per-design (n,) value against (m, W)
        return at(x)[:, None]

    in_bits, out_bits = col("in_bits"), col("out_bits")
    e = {
        "cell": _dot(at(lk.cell_read), s, "cell"),
        "row": _dot(at(lk.row_read), s, "row"),
        "adc": _dot(at(lk.adc_read), s, "adc"),
        "glb": col("glb_in_bits") * per(lk.glb_read_pj_per_bit),
        "glb_psum": out_bits * per(lk.glb_write_pj_per_bit + lk.glb_read_pj_per_bit),
        "ibuf": in_bits * per(lk.ibuf_pj_per_bit),
        "obuf": col("obuf") * per(lk.obuf_pj_per_bit),
        "router": (in_bits + out_bits) * per(lk.router_pj_per_bit),
    }
    if d.technology.streams_weights:
        assert lk.cell_write is not None and lk.row_write is not None  # set for streamed weights
        e["dram"] = col("weight_bits_padded") * tables.DRAM_PJ_PER_BIT
        e["cell_write"] = _dot(at(lk.cell_write), s, "written")
        e["weight_drivers"] = _dot(at(lk.row_write), s, "written") / per(d.xbar_cols)
    energy = {k: v * theta[k] for k, v in e.items()}
    return energy, col("cycles"), col("unmappable") == 0, col("crossbars")


__all__ = ["FEATURES", "NetworkTable", "model_digest", "network_digest", "network_table", "pair_costs", "set_costs"]
