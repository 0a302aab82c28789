"""The design space: per-parameter value lists, integer genomes and decoded design tables.

A genome is a vector of integers, one per searched parameter, each an index into that parameter's value list
(the method's encoding, METHOD.md §1.1). Decoding turns a (n, n_var) genome array into a pandas DataFrame whose
columns are named like the reference data: ``voltage`` [V], ``bits_per_cell``, ``base_latency_s`` [s],
``xbar_rows``, ``xbar_cols``, ``router_group``, ``tiles_per_chip``, ``macros_per_tile``, ``glb_depth``
[2048-bit words], ``glb_mib`` [MiB] and ``technology_nm`` [nm].
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import yaml

from imc_moo.hardware import (
    DEFAULT_TECHNOLOGY_NM,
    DESIGN_COLUMNS,
    GLB_WORDS_PER_MIB,
    MEMORIES,
    TECHNOLOGIES_NM,
    DesignError,
    HardwareError,
    memory_technology,
)
from imc_moo.model.tables import coverage
from imc_moo.paths import CONF_DIR

__all__ = [
    "DEFAULT_TECHNOLOGY_NM",
    "DESIGN_COLUMNS",
    "GLB_WORDS_PER_MIB",
    "MEMORIES",
    "TECHNOLOGIES_NM",
    "DesignError",
    "DesignSpace",
    "IntegerGenome",
    "available_spaces",
    "hamming",
    "make_space",
    "space_from_lists",
    "space_lists",
]

#: Where the value lists live: ``conf/space/<name>.yaml`` (also the Hydra config group ``space``).
SPACE_DIR = "space"
#: Keys of a space file that are not value lists.
_META_KEYS = ("name", "memory", "defaults")


def available_spaces() -> list[str]:
    """Names of the packaged value-list files ``conf/space/*.yaml``."""
    from pathlib import Path

    return sorted(p.stem for p in (Path(CONF_DIR) / SPACE_DIR).glob("*.yaml"))


@functools.cache
def _space_file(name: str) -> tuple[tuple[str, Any], ...]:
    from pathlib import Path

    path = Path(CONF_DIR) / SPACE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise DesignError(f"unknown design-space variant {name!r}: use one of {', '.join(available_spaces())}")
    data = yaml.safe_load(path.read_text()) or {}
    merged: dict[str, Any] = {}
    for base in data.get("defaults", []):  # a file extends the files it names (Hydra's defaults list)
        if isinstance(base, str) and base not in ("schema", "_self_"):
            merged.update(_space_file(base))
    merged.update((k, v) for k, v in data.items() if k != "defaults")
    return tuple(merged.items())


def space_lists(name: str) -> dict[str, Any]:
    """The value lists of ``conf/space/<name>.yaml`` (with the files it extends): ``name`` plus one list per
    design parameter (``glb_mib`` in MiB)."""
    return dict(_space_file(name))


class IntegerGenome:
    """What a space of integer genomes is, given ``values`` (gene name -> its value list, in gene order) and a
    ``label`` for messages: its genes and bounds, checking, sampling and keying genomes. The one such piece for the
    design space (:class:`DesignSpace`) and the partitioned chip's (:class:`~imc_moo.problem.tenancy.PartitionedSpace`).
    """

    values: Mapping[str, tuple]

    @property
    def label(self) -> str:
        return str(getattr(self, "name", ""))

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

    # -- genomes ---------------------------------------------------------------------------------------------
    def check_genomes(self, genomes: np.ndarray) -> np.ndarray:
        """Return genomes as an (n, n_var) int64 array or raise :class:`DesignError`."""
        arr = np.asarray(genomes)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_var:
            raise DesignError(f"genomes must have shape (n, {self.n_var}) for {self.label}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise DesignError("genomes must hold finite value indices (a NaN or inf came in): repair them first")
        arr = np.rint(arr).astype(np.int64)  # a float genome (pymoo's default operators) rounds as it evaluates
        bad = (arr < 0) | (arr > self.xu)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DesignError(
                f"gene {self.names[j]!r} index {arr[i, j]} is outside 0..{self.xu[j]} (design row {i}); "
                "use an index into the parameter's value list"
            )
        return arr

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n uniformly random genomes, shape (n, n_var)."""
        return rng.integers(0, self.cardinalities, size=(n, self.n_var), dtype=np.int64)

    def keys(self, genomes: np.ndarray) -> np.ndarray:
        """One int64 identity per genome (mixed-radix number), for hashing/de-duplication. Shape (n,)."""
        return self._keys(self.check_genomes(genomes))

    @functools.cached_property
    def _keys(self) -> GenomeKeys:
        return GenomeKeys(self.xl, self.xu)


@dataclass(frozen=True)
class DesignSpace(IntegerGenome):
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

    @property
    def label(self) -> str:
        return self.name or self.memory

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

    # -- genome <-> designs ----------------------------------------------------------------------------------
    def decode_arrays(self, genomes: np.ndarray) -> dict[str, np.ndarray]:
        """Genomes (n, n_var) of value indices -> one (n,) array per design parameter (genes and fixed values; not
        the derived ``glb_mib``): the one decoding, for :meth:`decode` and the problem's design arrays."""
        genomes = self.check_genomes(genomes)
        columns: dict[str, np.ndarray] = {}
        for j, (key, vals) in enumerate(self.values.items()):
            columns[key] = np.asarray(vals)[genomes[:, j]]
        for key, val in self.fixed.items():
            columns[key] = np.full(len(genomes), val)
        return columns

    def decode(self, genomes: np.ndarray) -> pd.DataFrame:
        """Genomes (n, n_var) of value indices -> design table with :data:`DESIGN_COLUMNS`."""
        columns = self.decode_arrays(genomes)
        columns["glb_mib"] = np.asarray(columns["glb_depth"]) / GLB_WORDS_PER_MIB
        return _typed(pd.DataFrame({c: columns[c] for c in DESIGN_COLUMNS}))

    def encode(self, designs: pd.DataFrame) -> np.ndarray:
        """Design table -> genomes (n, n_var) int64; raises :class:`DesignError` for values outside the space."""
        designs = self.validate(designs)
        genomes = np.empty((len(designs), self.n_var), dtype=np.int64)
        for j, (key, vals) in enumerate(self.values.items()):
            genomes[:, j] = _index_of(np.asarray(vals, dtype=float), designs[key].to_numpy(dtype=float))
        return genomes

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

class GenomeKeys:
    """Mixed-radix int64 identity of integer genomes within bounds ``xl..xu`` (inclusive): the one way genomes
    are keyed (a design space's, and a run's ledger for any pymoo problem with integer bounds).

    Args:
        xl, xu: (n_var,) integer bounds. The space must have fewer than 2**63 points.
    """

    def __init__(self, xl: np.ndarray, xu: np.ndarray):
        self.xl = np.asarray(xl, dtype=np.int64)
        cards = np.asarray(xu, dtype=np.int64) - self.xl + 1
        size = int(np.prod([int(c) for c in cards], dtype=object))
        if size >= 2**63:
            raise ValueError(f"the design space has {float(size):.3g} designs, more than the 2^63 a run can tell apart:"
                             " narrow some value lists (space.<parameter>=[...]; a partitioned chip: space=tenancy, "
                             "or fewer problem.partitions)")
        self.radix = np.cumprod(np.r_[1, cards[:-1]]).astype(np.int64)

    def __call__(self, genomes: np.ndarray) -> np.ndarray:
        """Keys of integer genomes (n, n_var) -> (n,) int64."""
        return (np.asarray(genomes, dtype=np.int64) - self.xl) @ self.radix


def space_from_lists(memory: str, lists: Mapping[str, Any], name: str = "") -> DesignSpace:
    """A design space from one value list per design parameter (as in ``conf/space/*.yaml``; ``glb_mib`` in MiB
    or ``glb_depth`` in 2048-bit words): a list of one value fixes the parameter, a longer one makes it a gene.

    Every value is checked against the memory technology (bits per cell) and the cost model's tables, so a space
    the model cannot evaluate fails here, naming the parameter, the value and the values allowed."""
    tech = _technology(memory)
    lists = dict(lists)
    name = name or str(lists.get("name") or tech.name)
    if lists.get("memory", tech.name) != tech.name:
        raise DesignError(f"design space {name!r} is for {lists['memory']}, not {tech.name}: use a {tech.name} space "
                          f"(e.g. space={tech.space})")
    lists = {k: v for k, v in lists.items() if k not in _META_KEYS}
    if "glb_mib" in lists:
        if "glb_depth" in lists:
            raise DesignError(f"space {name!r} gives both glb_mib and glb_depth: give one of them")
        lists["glb_depth"] = [_integral(m * GLB_WORDS_PER_MIB, "glb_mib", m) for m in _as_list(lists.pop("glb_mib"))]
    needed = [c for c in DESIGN_COLUMNS if c != "glb_mib"]
    unknown = sorted(set(lists) - set(needed))
    if unknown:
        raise DesignError(f"space {name!r}: unknown design parameter {unknown[0]!r}: use {', '.join(needed)}")
    missing = [c for c in needed if c not in lists]
    if missing:
        raise DesignError(f"space {name!r} gives no values for {missing}: add a list for each")
    allowed = {**coverage(tech.name), "bits_per_cell": tech.bits_per_cell}
    values: dict[str, tuple] = {}
    fixed: dict[str, float] = {}
    for key in needed:
        vals = _as_list(lists[key])
        if not vals:
            raise DesignError(f"space.{key} is empty: give at least one value")
        typed = tuple(float(v) if key in ("voltage", "base_latency_s") else _integral(v, key, v) for v in vals)
        if any(not np.isfinite(v) or v <= 0 for v in typed):
            raise DesignError(f"space.{key}={list(vals)} must hold positive numbers")
        if key in allowed:
            grid = np.asarray(allowed[key], dtype=float)
            bad = [v for v in typed if not np.isclose(grid, v, rtol=1e-9, atol=0).any()]
            if bad:
                shown = [g / GLB_WORDS_PER_MIB for g in allowed[key]] if key == "glb_depth" else list(allowed[key])
                what = "glb_mib" if key == "glb_depth" else key
                value = bad[0] / GLB_WORDS_PER_MIB if key == "glb_depth" else bad[0]
                raise DesignError(f"space.{what}={value:g} is outside what the {tech.name.upper()} cost model covers "
                                  f"({tech.description}): use values from {shown}")
        if len(typed) == 1:
            fixed[key] = typed[0]
        else:
            values[key] = typed
    return DesignSpace(memory=tech.name, values=values, fixed=fixed, name=name)


def make_space(
    memory: str,
    variant: str | None = None,
    technology_nm: int | Sequence[int] | None = None,
    voltages: Sequence[float] | None = None,
) -> DesignSpace:
    """A packaged design space (``conf/space/<variant>.yaml``), optionally with another node list or voltage list.

    Args:
        memory: ``"rram"`` or ``"sram"``.
        variant: the value-list file: ``"rram"``, ``"sram"`` (4-workload lists), ``"sram_large"`` (9-workload
            lists), ``"sram_technology"``; default the memory's own (:mod:`imc_moo.hardware`).
        technology_nm: a fixed node, or a list of nodes to search as an extra (last) gene; default the file's.
        voltages: override the voltage list (e.g. the technology study's 0.45-1.10 V).
    """
    tech = _technology(memory)
    variant = variant or tech.space
    lists = space_lists(variant)
    if technology_nm is not None:
        # np.isscalar is a TypeGuard: it loses int in the true branch and does not narrow the false one
        nodes = ([cast(int, technology_nm)] if np.isscalar(technology_nm)
                 else list(cast(Sequence[int], technology_nm)))
        for node in nodes:
            if not float(node).is_integer() or int(node) not in TECHNOLOGIES_NM:
                raise DesignError(f"technology_nm={node} is not supported: use one of {TECHNOLOGIES_NM}")
        lists["technology_nm"] = nodes
    if voltages is not None:
        lists["voltage"] = [float(v) for v in voltages]
    return space_from_lists(tech.name, lists, name=variant)


def _technology(memory: str):
    try:
        return memory_technology(memory)
    except HardwareError as err:
        raise DesignError(str(err)) from None


def _as_list(value) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) and not isinstance(value, np.ndarray):
        return [value]
    return list(value)


def _integral(value, key: str, shown) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DesignError(f"space.{key}: {shown!r} is not a number") from None
    if not number.is_integer():
        raise DesignError(f"space.{key}={shown!r} must be a whole number" + (" of 2048-bit words (glb_mib x 4096)"
                                                                            if key == "glb_mib" else ""))
    return int(number)


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
