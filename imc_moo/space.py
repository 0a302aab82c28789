"""The design space: per-parameter value lists, integer genomes and decoded design tables.

A genome is a vector of integers, one per searched parameter, each an index into that parameter's value list
(the method's encoding, METHOD.md §1.1). Decoding turns a (n, n_var) genome array into a pandas DataFrame whose
columns are named like the reference data: ``voltage`` [V], ``bits_per_cell``, ``base_latency_s`` [s],
``xbar_rows``, ``xbar_cols``, ``router_group``, ``tiles_per_chip``, ``macros_per_tile``, ``glb_depth``
[2048-bit words], ``glb_mib`` [MiB] and ``technology_nm`` [nm].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

MEMORIES = ("rram", "sram")

#: Design columns, in the order every design table uses.
DESIGN_COLUMNS = (
    "voltage",
    "bits_per_cell",
    "base_latency_s",
    "xbar_rows",
    "xbar_cols",
    "router_group",
    "tiles_per_chip",
    "macros_per_tile",
    "glb_depth",
    "glb_mib",
    "technology_nm",
)

#: GLB words are 2048 bits, so 1 MiB = 2**23 bits = 4096 words.
GLB_WORDS_PER_MIB = 4096

TECHNOLOGIES_NM = (7, 10, 14, 22, 32, 45)
DEFAULT_TECHNOLOGY_NM = 32

_VOLTAGES = (0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85)
_BASE_LATENCIES_S = (1e-9, 2e-9, 4e-9, 6e-9, 8e-9, 1e-8)


def _glb_depths(mib: Sequence[float]) -> tuple[int, ...]:
    return tuple(int(m * GLB_WORDS_PER_MIB) for m in mib)


#: METHOD.md §1.3 (RRAM, 9 genes): 12,096,000 designs.
RRAM_VALUES: dict[str, tuple] = {
    "voltage": _VOLTAGES,
    "bits_per_cell": (1, 2, 3, 4, 5, 6, 7, 8),
    "base_latency_s": _BASE_LATENCIES_S,
    "xbar_rows": (32, 64, 128, 256, 512),
    "xbar_cols": (32, 64, 128, 256, 512),
    "router_group": (1, 2, 4, 8, 16, 32),
    "tiles_per_chip": (4, 8, 16, 32, 64),
    "macros_per_tile": (4, 8, 16, 32, 64, 128),
    "glb_depth": _glb_depths((0.5, 1, 2, 4, 8, 16, 32)),
}

#: METHOD.md §1.4, the 4-workload SRAM file's lists in full (the original's bounds cut off X,Y = 512 and 128 MiB).
SRAM_VALUES: dict[str, tuple] = {
    "voltage": _VOLTAGES,
    "base_latency_s": _BASE_LATENCIES_S,
    "xbar_rows": (16, 32, 64, 128, 256, 512),
    "xbar_cols": (16, 32, 64, 128, 256, 512),
    "router_group": (1, 2, 4, 6, 8, 16),
    "tiles_per_chip": (2, 4, 8, 16, 32),
    "macros_per_tile": (2, 4, 8, 16, 32, 64),
    "glb_depth": _glb_depths((1, 2, 4, 8, 16, 32, 64, 128)),
}

#: METHOD.md §1.4, the 9-workload ("large") SRAM file: 4,064,256 designs.
SRAM_LARGE_VALUES: dict[str, tuple] = {
    **SRAM_VALUES,
    "router_group": (1, 2, 4, 6, 8, 16, 32),
    "tiles_per_chip": (2, 4, 8, 16, 32, 64),
    "macros_per_tile": (2, 4, 8, 16, 32, 64, 128),
}

#: The technology/cost study's extended voltage list (METHOD.md §6.5), 0.45-1.10 V.
EXTENDED_VOLTAGES = tuple(round(0.45 + 0.05 * i, 2) for i in range(14))

SPACE_VALUES: dict[str, dict[str, tuple]] = {
    "rram": RRAM_VALUES,
    "sram": SRAM_VALUES,
    "sram_large": SRAM_LARGE_VALUES,
}


class DesignError(ValueError):
    """A design or genome that is not in the design space; the message names the column, value and fix."""


@dataclass(frozen=True)
class DesignSpace:
    """An ordered set of searched parameters with their value lists, plus fixed parameters.

    Attributes:
        memory: ``"rram"`` or ``"sram"``.
        values: searched parameter name -> tuple of allowed values (SI units), in gene order.
        fixed: parameter name -> fixed value for design columns that are not searched (e.g. SRAM
            ``bits_per_cell = 1``, ``technology_nm = 32``).
        name: a label for messages.
    """

    memory: str
    values: Mapping[str, tuple]
    fixed: Mapping[str, float] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        if self.memory not in MEMORIES:
            raise DesignError(f"unknown memory {self.memory!r}: use one of {', '.join(MEMORIES)}")
        searchable = set(DESIGN_COLUMNS) - {"glb_mib"}
        for key in list(self.values) + list(self.fixed):
            if key not in searchable:
                raise DesignError(f"unknown design parameter {key!r}: use one of {', '.join(sorted(searchable))}")
        missing = searchable - set(self.values) - set(self.fixed)
        if missing:
            raise DesignError(f"design space {self.name!r} does not define {sorted(missing)}: give values or fix them")
        for key, vals in self.values.items():
            if len(vals) == 0 or len(set(vals)) != len(vals):
                raise DesignError(f"parameter {key!r} needs a non-empty list of distinct values, got {vals}")

    # -- size and bounds -------------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Searched parameter names in gene order."""
        return tuple(self.values)

    @property
    def n_var(self) -> int:
        return len(self.values)

    @property
    def cardinalities(self) -> np.ndarray:
        """Number of values per gene, shape (n_var,)."""
        return np.array([len(v) for v in self.values.values()], dtype=np.int64)

    @property
    def xl(self) -> np.ndarray:
        return np.zeros(self.n_var, dtype=np.int64)

    @property
    def xu(self) -> np.ndarray:
        """Inclusive upper bounds: every list is reachable in full."""
        return self.cardinalities - 1

    @property
    def size(self) -> int:
        """Number of distinct designs."""
        return int(np.prod(self.cardinalities, dtype=object))

    # -- genome <-> designs ----------------------------------------------------------------------------------
    def decode(self, genomes: np.ndarray) -> pd.DataFrame:
        """Genomes (n, n_var) of value indices -> design table with :data:`DESIGN_COLUMNS`."""
        genomes = self.check_genomes(genomes)
        columns: dict[str, np.ndarray] = {}
        for j, (key, vals) in enumerate(self.values.items()):
            columns[key] = np.asarray(vals)[genomes[:, j]]
        for key, val in self.fixed.items():
            columns[key] = np.full(len(genomes), val)
        columns["glb_mib"] = np.asarray(columns["glb_depth"]) / GLB_WORDS_PER_MIB
        return _typed(pd.DataFrame({c: columns[c] for c in DESIGN_COLUMNS}))

    def encode(self, designs: pd.DataFrame) -> np.ndarray:
        """Design table -> genomes (n, n_var) int64; raises :class:`DesignError` for values outside the space."""
        designs = self.validate(designs)
        genomes = np.empty((len(designs), self.n_var), dtype=np.int64)
        for j, (key, vals) in enumerate(self.values.items()):
            genomes[:, j] = _index_of(np.asarray(vals, dtype=float), designs[key].to_numpy(dtype=float))
        return genomes

    def check_genomes(self, genomes: np.ndarray) -> np.ndarray:
        """Return genomes as an (n, n_var) int64 array or raise :class:`DesignError`."""
        arr = np.asarray(genomes)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_var:
            raise DesignError(f"genomes must have shape (n, {self.n_var}) for {self.name or self.memory}, got {arr.shape}")
        rounded = np.rint(arr)
        if not np.array_equal(rounded, arr):
            raise DesignError("genomes must hold integer value indices; round or repair them first")
        arr = rounded.astype(np.int64)
        bad = (arr < 0) | (arr > self.xu)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DesignError(
                f"gene {self.names[j]!r} index {arr[i, j]} is outside 0..{self.xu[j]} (design row {i}); "
                "use an index into the parameter's value list"
            )
        return arr

    def validate(self, designs: pd.DataFrame) -> pd.DataFrame:
        """Check a design table lies in this space; fill fixed and derived columns. Returns a new typed table."""
        if not isinstance(designs, pd.DataFrame):
            raise DesignError(f"designs must be a pandas DataFrame with columns {list(self.names)}")
        designs = designs.reset_index(drop=True).copy()
        if "glb_depth" not in designs and "glb_mib" in designs:
            designs["glb_depth"] = designs["glb_mib"] * GLB_WORDS_PER_MIB
        for key, val in self.fixed.items():
            if key not in designs:
                designs[key] = val
        for key in DESIGN_COLUMNS:
            if key == "glb_mib":
                continue
            if key not in designs:
                raise DesignError(f"design table lacks column {key!r}: add it (columns: {', '.join(DESIGN_COLUMNS)})")
            allowed = self.values.get(key, (self.fixed.get(key),))
            col = pd.to_numeric(designs[key], errors="coerce").to_numpy(dtype=float)
            ok = np.isclose(col[:, None], np.asarray(allowed, dtype=float)[None, :], rtol=1e-9, atol=0).any(axis=1)
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise DesignError(
                    f"{key}={designs[key].iloc[i]!r} (row {i}) is not in the {self.name or self.memory} space; "
                    f"allowed values: {list(allowed)}"
                )
        designs["glb_mib"] = designs["glb_depth"].astype(float) / GLB_WORDS_PER_MIB
        return _typed(designs[list(DESIGN_COLUMNS) + [c for c in designs if c not in DESIGN_COLUMNS]])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n uniformly random genomes, shape (n, n_var)."""
        return rng.integers(0, self.cardinalities, size=(n, self.n_var), dtype=np.int64)

    def keys(self, genomes: np.ndarray) -> np.ndarray:
        """One int64 identity per genome (mixed-radix number), for hashing/de-duplication. Shape (n,)."""
        genomes = self.check_genomes(genomes)
        radix = np.cumprod(np.r_[1, self.cardinalities[:-1]])
        return genomes @ radix


def make_space(
    memory: str,
    variant: str | None = None,
    technology_nm: int | Sequence[int] = DEFAULT_TECHNOLOGY_NM,
    voltages: Sequence[float] | None = None,
) -> DesignSpace:
    """Build a design space.

    Args:
        memory: ``"rram"`` or ``"sram"``.
        variant: value-list family: ``"rram"``, ``"sram"`` (4-workload lists) or ``"sram_large"`` (9-workload
            lists). Defaults to ``memory``.
        technology_nm: a fixed node, or a list of nodes to search as an extra (last) gene.
        voltages: override the voltage list (e.g. :data:`EXTENDED_VOLTAGES` for the cost study).
    """
    memory = str(memory).lower()
    if memory not in MEMORIES:
        raise DesignError(f"unknown memory {memory!r}: use one of {', '.join(MEMORIES)}")
    variant = variant or memory
    if variant not in SPACE_VALUES:
        raise DesignError(f"unknown design-space variant {variant!r}: use one of {', '.join(SPACE_VALUES)}")
    if (variant == "rram") != (memory == "rram"):
        raise DesignError(f"variant {variant!r} does not fit memory {memory!r}")
    values = dict(SPACE_VALUES[variant])
    if voltages is not None:
        values["voltage"] = tuple(float(v) for v in voltages)
    fixed: dict[str, float] = {}
    if memory == "sram":
        fixed["bits_per_cell"] = 1  # SRAM cells hold one bit (METHOD.md §1.4)
    nodes = (technology_nm,) if np.isscalar(technology_nm) else tuple(technology_nm)
    for node in nodes:
        if not float(node).is_integer() or int(node) not in TECHNOLOGIES_NM:
            raise DesignError(f"technology_nm={node} is not supported: use one of {TECHNOLOGIES_NM}")
    if len(nodes) == 1:
        fixed["technology_nm"] = int(nodes[0])
    else:
        values["technology_nm"] = tuple(int(n) for n in nodes)
    return DesignSpace(memory=memory, values=values, fixed=fixed, name=variant)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of differing genes between genomes ``a`` (n, v) and ``b`` (m, v) -> (n, m) int array."""
    a = np.atleast_2d(a)
    b = np.atleast_2d(b)
    return (a[:, None, :] != b[None, :, :]).sum(axis=2)


def _index_of(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    match = np.isclose(query[:, None], values[None, :], rtol=1e-9, atol=0)
    return match.argmax(axis=1)


_INT_COLUMNS = ("bits_per_cell", "xbar_rows", "xbar_cols", "router_group", "tiles_per_chip", "macros_per_tile",
                "glb_depth", "technology_nm")


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for c in _INT_COLUMNS:
        df[c] = np.rint(df[c].to_numpy(dtype=float)).astype(np.int64)
    for c in ("voltage", "base_latency_s", "glb_mib"):
        df[c] = df[c].astype(float)
    return df
