"""The network type and its validation: per-layer shapes in Timeloop notation and activity factors.

A layer is a mapping with the layer shape — ``C`` input channels, ``M`` output channels, ``R`` x ``S`` filter,
``P`` x ``Q`` output, ``G`` groups (depthwise convs: G = channels, C = M = 1) — plus the activity factors the cost
model uses: ``ain``, the mean input value, and ``aw``, the mean weight-slice value at 1..8 bits per cell (both
dimensionless, in [0, 1]). :func:`network_from_layers` validates such mappings (from a YAML file, a CSV table or
an ONNX graph) into a :class:`Network`; every problem is a :class:`WorkloadError` with one line naming the origin,
the layer and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Shape fields in the order of :meth:`Network.shape_array`.
SHAPE_FIELDS = ("C", "M", "R", "S", "P", "Q", "G")
REQUIRED_FIELDS = ("C", "M", "R", "S", "P", "Q")
#: Number of bits-per-cell settings with a weight activity factor (``aw`` column b-1 = b bits per cell).
N_BITS_PER_CELL = 8
#: Largest count (of cell actions: MACs x weight slices x bits) the cost model's int64 arithmetic holds exactly.
MAX_LAYER_COUNT = 2**62
#: Activity defaults for layers that do not give them (typical values of the reference layers).
DEFAULT_AIN = 0.55
DEFAULT_AW = (0.50, 0.50, 0.40, 0.49, 0.30, 0.25, 0.24, 0.48)
LAYER_KEYS = ("name", "op", *SHAPE_FIELDS, "stride", "depthwise", "einsum", "ain", "aw")


class WorkloadError(ValueError):
    """A workload file, set or name is missing or invalid; the message is one line ending with the fix."""


@dataclass(frozen=True, eq=False)
class Network:
    """One network: per-layer shapes and activity factors, L layers in execution order.

    Shape arrays ``C, M, R, S, P, Q, G`` are (L,) int64; ``ain`` is (L,) float64; ``aw`` is (L, 8) float64 with
    column b-1 for b bits per cell; ``depthwise`` and ``einsum`` are (L,) bool. Arrays are copied and made
    read-only, so a cached Network can be shared safely.
    """

    name: str
    layer_names: tuple[str, ...]
    C: np.ndarray
    M: np.ndarray
    R: np.ndarray
    S: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    G: np.ndarray
    ain: np.ndarray
    aw: np.ndarray
    depthwise: np.ndarray
    einsum: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.layer_names)
        dtypes = {**dict.fromkeys(SHAPE_FIELDS, np.int64), "ain": np.float64, "aw": np.float64}
        dtypes.update(depthwise=bool, einsum=bool)
        for field, dtype in dtypes.items():
            arr = np.array(getattr(self, field), dtype=dtype)
            expected = (n, N_BITS_PER_CELL) if field == "aw" else (n,)
            if arr.shape != expected:
                raise WorkloadError(
                    f"network {self.name!r}: array {field!r} has shape {arr.shape}, expected {expected}"
                    " — give one entry per layer"
                )
            arr.flags.writeable = False
            object.__setattr__(self, field, arr)
        object.__setattr__(self, "layer_names", tuple(self.layer_names))

    @property
    def n_layers(self) -> int:
        """Number of layers L."""
        return len(self.layer_names)

    @property
    def macs(self) -> np.ndarray:
        """(L,) int64 multiply-accumulates per layer at batch 1: C*M*R*S*P*Q*G."""
        return self.C * self.M * self.R * self.S * self.P * self.Q * self.G

    @property
    def weights(self) -> np.ndarray:
        """(L,) int64 weights per layer: C*M*R*S*G."""
        return self.C * self.M * self.R * self.S * self.G

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of the whole network at batch 1."""
        return int(self.macs.sum())

    @property
    def total_weights(self) -> int:
        """Weights of the whole network."""
        return int(self.weights.sum())

    def shape_array(self) -> np.ndarray:
        """(L, 7) int64 array of the columns C, M, R, S, P, Q, G."""
        return np.stack([getattr(self, f) for f in SHAPE_FIELDS], axis=1)


# ----------------------------------------------------------------------------------------------------------------
# Field validation


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(value: Any, where: str, field: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise WorkloadError(f"{where}: field {field!r} must be a positive integer, got {value!r} — fix the layer shape")


def _fraction(value: Any, where: str, field: str) -> float:
    if _is_number(value) and 0.0 <= value <= 1.0:
        return float(value)
    raise WorkloadError(
        f"{where}: field {field!r} must be a number in [0, 1], got {value!r} — fix the activity factor or drop it"
        " to use the default"
    )


def _flag(value: Any, where: str, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise WorkloadError(f"{where}: field {field!r} must be true or false, got {value!r} — fix the flag")


def parse_layer(layer: Any, index: int, file: str) -> dict[str, Any]:
    """Validate one layer mapping; return its fields with defaults filled in."""
    if not isinstance(layer, dict):
        raise WorkloadError(
            f"{file}: layer {index}: expected a mapping such as {{C: 64, M: 64, R: 3, S: 3, P: 56, Q: 56}},"
            f" got {type(layer).__name__} — write each layer as a mapping"
        )
    name = layer.get("name", index)
    if not isinstance(name, (str, int)) or isinstance(name, bool):
        raise WorkloadError(f"{file}: layer {index}: field 'name' must be a string, got {name!r} — quote the name")
    name = str(name)
    where = f"{file}: layer {index} ({name!r})"

    unknown = [k for k in layer if k not in LAYER_KEYS]
    if unknown:
        raise WorkloadError(
            f"{where}: unknown key {unknown[0]!r} — use only the allowed keys {', '.join(LAYER_KEYS)}"
        )
    missing = [k for k in REQUIRED_FIELDS if k not in layer]
    if missing:
        raise WorkloadError(
            f"{where}: missing required field {missing[0]!r} — every layer needs {', '.join(REQUIRED_FIELDS)}"
        )
    if "op" in layer and not isinstance(layer["op"], str):
        raise WorkloadError(f"{where}: field 'op' must be a string, got {layer['op']!r} — e.g. op: Conv2d")
    if "stride" in layer:
        stride = layer["stride"]
        if not isinstance(stride, list) or len(stride) != 2:
            raise WorkloadError(f"{where}: field 'stride' must be a list [h, w], got {stride!r} — fix the stride")
        for s in stride:
            _positive_int(s, where, "stride")

    parsed: dict[str, Any] = {"name": name}
    for field in SHAPE_FIELDS:
        parsed[field] = _positive_int(layer.get(field, 1), where, field)
    parsed["depthwise"] = _flag(layer.get("depthwise", False), where, "depthwise")
    parsed["einsum"] = _flag(layer.get("einsum", False), where, "einsum")
    if parsed["depthwise"] and (parsed["C"] != 1 or parsed["M"] != 1):
        raise WorkloadError(
            f"{where}: depthwise layer has C={parsed['C']}, M={parsed['M']} — write depthwise convs as"
            " C = M = 1 and G = channels"
        )
    macs = math.prod(parsed[f] for f in SHAPE_FIELDS)  # Python ints: exact, however large
    if macs * N_BITS_PER_CELL * 8 > MAX_LAYER_COUNT:
        raise WorkloadError(
            f"{where}: {macs:.3g} multiply-accumulates is more than the cost model's 64-bit action counts can hold"
            f" (at most {MAX_LAYER_COUNT / (N_BITS_PER_CELL * 8):.3g} per layer) — check the layer shape"
        )
    parsed["ain"] = _fraction(layer.get("ain", DEFAULT_AIN), where, "ain")
    aw = layer.get("aw", list(DEFAULT_AW))
    if not isinstance(aw, list) or len(aw) != N_BITS_PER_CELL:
        raise WorkloadError(
            f"{where}: field 'aw' must be a list of {N_BITS_PER_CELL} numbers (bits per cell 1..8), got {aw!r}"
            " — fix the list or drop it to use the default"
        )
    parsed["aw"] = [_fraction(v, where, f"aw[{b}]") for b, v in enumerate(aw)]
    return parsed


def network_from_layers(name: str, layers: Sequence[Any], file: str) -> Network:
    """Validate layer mappings (as in a network file's ``layers``) and build the Network ``name``.

    ``file`` names the origin in error messages (a path, or e.g. ``table.csv: row 3``).
    """
    parsed = [parse_layer(layer, i, file) for i, layer in enumerate(layers)]
    columns = {key: [p[key] for p in parsed] for key in (*SHAPE_FIELDS, "ain", "aw", "depthwise", "einsum")}
    return Network(name=name, layer_names=tuple(p["name"] for p in parsed), **columns)
