"""Import a user's own network from an ONNX model (or a plain layer table) into the library's network format.

``import_onnx(path)`` reads the model with the ``onnx`` package, fixes the graph inputs' shapes (``input_shapes``
for dynamic dimensions), runs ``onnx.shape_inference.infer_shapes`` (with data propagation) and turns every node
that multiplies by weights into one layer of :class:`~imc_moo.workloads.Network` (Timeloop notation, see
:mod:`imc_moo.workloads`); every layer goes through the same validation as a hand-written YAML file. The command
``imc-moo-import MODEL.onnx|TABLE.csv`` (:func:`main`) writes ``DIR/NAME.yaml``; a workload entry ending in
``.onnx`` or ``.csv`` is imported on the fly (:func:`imc_moo.workloads.load_network`, cached by file content).

Layers, per op (N = batch, folded into P: weights stay in the crossbars while every batch item streams past):

* ``Conv`` with X (N, Cin, H, W), W (Cout, Cin/g, kH, kW), ``group`` g -> C = Cin/g, M = Cout/g, R = kH,
  S = kW, P = N*Hout, Q = Wout, G = g, ``stride`` = strides. Hout/Wout follow ``pads``, ``strides``,
  ``dilations`` and ``auto_pad`` (NOTSET / VALID / SAME_UPPER / SAME_LOWER). Depthwise (g = Cin = Cout > 1) is
  written the library's way: C = M = 1, G = channels, ``depthwise: true``; a depthwise conv with a channel
  multiplier k (Cout = k*Cin) is a grouped conv C = 1, M = k, G = Cin. Conv1d: R = k, S = 1, P = N*Lout, Q = 1;
  Conv3d: R = kD*kH, S = kW, P = N*Dout*Hout, Q = Wout (MACs and weights exact).
* ``Gemm`` / ``MatMul`` with a constant operand B (K, Mo) (an initializer or ``Constant``, possibly through
  ``Identity``, ``Transpose``, ``Reshape``, ``Cast``, ``Squeeze``/``Unsqueeze``, ``Flatten``, ``Concat`` or
  ``DequantizeLinear``, which are folded): C = K, M = Mo, R = S = Q = 1, P = rows streamed (batch x tokens, the
  packaged transformer files' P = sequence length), G = the constant's own batch dims (usually 1). A constant
  first operand A (Mo, K) works the same way (its rows are the crossbar columns). Biases are not weights here
  (as in torchvision's conv/linear weight counts).
* ``MatMul`` of two activations (attention, A (..., n, k) @ B (..., k, m)) -> ``einsum: true`` with
  ``attention="full"`` (default): C = k (the reduction), M = m, P = n, Q = 1, G = product of the batch dims
  (batch x heads). This is the convention of the packaged ``msft_phi_1_5`` ("attention einsums at full cost,
  grouped per head"): QK^T of h heads, sequence s, head size d is C = d, M = s, P = s, G = h, and attn x V is
  C = s, M = d, P = s, G = h; MACs are the true attention MACs and ``weights`` (C*M*G) count the stationary
  operand (K^T or V), an activation. ``attention="simulator"`` writes them as the other packaged transformer
  files (vision_transformer, gpt2_medium, mobilebert, dpt_large) do, as the reference simulator's inputs had
  them: C x M = the first operand's matrix (n x k), P = batch x heads, G = 1 (ViT-B/16: QK^T C = 197, M = 64,
  P = 12; attn x V C = 197, M = 197, P = 12), about 1/m of the true MACs (1-2 % of attention).

Ops without weights (activations, pooling, normalisation, Add, Concat, Reshape, Softmax, Gather of an embedding
table, ...) make no layer and are counted per op type. Ops that multiply by weights but are not supported
(``ConvTranspose``, ``LSTM``, ``GRU``, ``RNN``, quantised ``QLinear*``/``*Integer`` ops, ``Einsum``,
``Attention``, custom-domain ops fed by weight tensors, control flow holding such ops) are a
:class:`~imc_moo.workloads.WorkloadError` naming the node: dropping them would undercount silently.

Activity factors (:mod:`imc_moo.workloads.activity`): ``aw`` for 1..8 bits per cell from each layer's weight values,
quantised symmetrically to 8 bits (255 bins over [-max|w|, max|w|]), offset-encoded and sliced as the reference
simulator does (COST_MODEL.md §2.2). ``ain`` is :data:`~imc_moo.workloads.DEFAULT_AIN` unless calibration inputs
are given (``inputs``: an ``.npz`` of arrays named by the graph inputs, run with the optional ``onnxruntime``);
then ``ain`` comes from each layer's input activations, and attention layers' ``aw`` from their second operand.
The written file records which (top-level ``source:`` and ``activity:`` keys).

Every problem raises :class:`~imc_moo.workloads.WorkloadError` with one line naming the file and the fix; the
command prints it as ``imc-moo-import: error: ...`` and exits 2 without writing anything.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imc_moo import __version__
from imc_moo.files import file_digest, write_atomic
from imc_moo.workloads.activity import (
    AW_MATRIX,
    QUANT_BINS,
    aw_from_weights,
    bit_means,
    slice_weights,
    symmetric_histogram,
)
from imc_moo.workloads.library import PROBLEMS_DIR, available_networks
from imc_moo.workloads.network import DEFAULT_AIN, DEFAULT_AW, Network, WorkloadError, display_path, network_from_layers

PROG = "imc-moo-import"
ATTENTION_CONVENTIONS = ("full", "simulator")
#: Ops that multiply by weights (or do MACs) and cannot be mapped to a layer: an error rather than a silent gap.
UNSUPPORTED_WEIGHTED = {
    "ConvTranspose": "replace it by Resize/Upsample + Conv before export, or write the network as a layer table"
                     " (.csv)",
    "LSTM": "unroll the recurrence into MatMul/Gemm before export, or write the network as a layer table (.csv)",
    "GRU": "unroll the recurrence into MatMul/Gemm before export, or write the network as a layer table (.csv)",
    "RNN": "unroll the recurrence into MatMul/Gemm before export, or write the network as a layer table (.csv)",
    "QLinearConv": "export the float model (quantisation is modelled by the cost model), or use a layer table",
    "QLinearMatMul": "export the float model (quantisation is modelled by the cost model), or use a layer table",
    "ConvInteger": "export the float model (quantisation is modelled by the cost model), or use a layer table",
    "MatMulInteger": "export the float model (quantisation is modelled by the cost model), or use a layer table",
    "DeformConv": "write the network as a layer table (.csv)",
    "Einsum": "export the contraction as MatMul (e.g. torch.matmul instead of torch.einsum), or use a layer table",
    "Attention": "export with opset <= 22 so attention appears as MatMul nodes, or use a layer table (.csv)",
}
#: Ops whose output is folded into a constant when every input is constant (weights stored transposed, cast...).
FOLDABLE = ("Identity", "Transpose", "Reshape", "Cast", "Squeeze", "Unsqueeze", "Flatten", "Concat",
            "DequantizeLinear")
#: Ops carrying subgraphs; their bodies are scanned for MAC ops (which would be an error).
CONTROL_FLOW = ("If", "Loop", "Scan")
_MAC_OPS = {"Conv", "Gemm", "MatMul", *UNSUPPORTED_WEIGHTED}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


@dataclass
class ImportResult:
    """A converted network with what the summary and the written file report.

    Attributes:
        network: the validated :class:`~imc_moo.workloads.Network`.
        layers: YAML-ready layer mappings (name, op, C..G, stride, depthwise, einsum, ain, aw), in order.
        skipped: weight-free op type -> count of nodes that made no layer.
        folded: op type -> count of nodes folded into constants (weights through Identity/Transpose/...).
        source: where the network came from (file, sha256, format, opset, producer, input shapes, convention).
        activity: where ``ain`` and ``aw`` came from (one sentence each).
    """

    network: Network
    layers: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)
    folded: dict[str, int] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    activity: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.network.name

    def layer_ops(self) -> dict[str, int]:
        """Layer op type (einsum layers as ``<op> (attention)``) -> count."""
        return dict(Counter(f"{layer['op']} (attention)" if layer.get("einsum") else layer["op"]
                            for layer in self.layers))

    def description(self) -> str:
        """One line for the file's ``description``: origin, layers, GMACs, weights."""
        net = self.network
        origin = f"imported from {Path(self.source.get('file', '?')).name}"
        if self.source.get("format") == "onnx":
            origin += f" (ONNX opset {self.source.get('opset')}, {self.source.get('producer') or 'unknown producer'})"
        shapes = self.source.get("input_shapes")
        at = (", ".join(f"{k}={_shape_text(v)}" for k, v in shapes.items()) if shapes else "as tabled")
        text = (f"{net.name}: {origin}, {net.n_layers} layers, {net.total_macs / 1e9:.4g} GMACs,"
                f" {net.total_weights / 1e6:.4g} M weights (inputs {at})")
        if net.einsum.any():
            text += ("; attention einsums at full cost, grouped per head (G = batch x heads)"
                     if self.source.get("attention") == "full"
                     else "; attention einsums counted as the reference simulator did (about 1/seq_len)")
        return text


def default_name(path: str | os.PathLike) -> str:
    """A valid network name from a file stem: characters other than letters, digits, '_', '-' become '_'."""
    name = re.sub(r"[^A-Za-z0-9_\-]", "_", Path(path).stem).strip("_-") or "network"
    return name if _NAME_RE.match(name) else f"net_{name}"


# ----------------------------------------------------------------------------------------------------------------
# ONNX reading


def _onnx():
    try:
        import onnx
    except ImportError as exc:  # a dependency, so only a broken install gets here
        raise WorkloadError(f"the onnx package is not importable ({exc}) — pip install 'onnx>=1.16'") from None
    return onnx


def _first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def _read_model(path: Path, file: str):
    """Load and check an ONNX ModelProto; one-line WorkloadError for a missing, truncated or non-ONNX file."""
    onnx = _onnx()
    from google.protobuf.message import DecodeError

    if not path.is_file():
        raise WorkloadError(f"{file}: ONNX model not found — check the path")
    if path.stat().st_size == 0:
        raise WorkloadError(f"{file}: empty file, not an ONNX model — re-export or re-download the model")
    try:
        model = onnx.load(str(path))
    except DecodeError as exc:
        raise WorkloadError(f"{file}: not a valid ONNX model ({_first_line(exc)}): the file is truncated or not"
                            " ONNX — re-export (torch.onnx.export) or re-download the model") from None
    except (OSError, ValueError, RuntimeError) as exc:  # e.g. missing external-data file
        raise WorkloadError(f"{file}: cannot read the ONNX model: {_first_line(exc)} — keep any external .data"
                            " file next to the model, or re-export it") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise WorkloadError(f"{file}: not an ONNX model (no ir_version or no graph nodes) — the file is truncated"
                            " or not ONNX: re-export (torch.onnx.export) or re-download the model")
    max_opset = onnx.defs.onnx_opset_version()
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx") and imp.version > max_opset:
            raise WorkloadError(f"{file}: uses ONNX opset {imp.version}, newer than the installed onnx"
                                f" {onnx.__version__} knows (up to {max_opset}) — upgrade onnx"
                                f" (pip install -U onnx) or export with opset_version <= {max_opset}")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise WorkloadError(f"{file}: not a valid ONNX model: {_first_line(exc)} — re-export the model"
                            " (torch.onnx.export) or upgrade onnx if it is newer") from None
    return model


def _dims(type_proto) -> list[int | str | None] | None:
    """Dimensions of a tensor type: int when fixed, the symbol (str) or None when dynamic; None if rank unknown."""
    tt = type_proto.tensor_type
    if not tt.HasField("shape"):
        return None
    out: list[int | str | None] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            out.append(int(d.dim_value))
        else:
            out.append(d.dim_param or None)
    return out


def _shape_text(dims: Sequence) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def parse_input_shapes(specs: Sequence[str], where: str = "--input-shape") -> dict[str | None, tuple[int, ...]]:
    """``["input=1x3x224x224", ...]`` -> {"input": (1, 3, 224, 224)}; a bare ``1x3x224x224`` maps key None."""
    shapes: dict[str | None, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        key = name.strip() if sep else None
        parts = [p for p in re.split(r"[x,\s]+", dims.strip().strip("[]()")) if p]
        if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise WorkloadError(f"{where} {spec!r}: expected NAME=1x3x224x224 (positive integers joined by 'x')"
                                " — fix the shape")
        shapes[key] = tuple(int(p) for p in parts)
    return shapes


def _fix_input_shapes(model, file: str, input_shapes: Mapping[str | None, Sequence[int]] | None):
    """Set every graph input to a fixed shape; returns (model copy, {input: shape}). Dynamic dims need a shape."""
    model = _copy(model)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    names = [i.name for i in inputs]
    given = dict(input_shapes or {})
    if None in given:
        if len(inputs) != 1:
            raise WorkloadError(f"{file}: a bare --input-shape needs a model with one input, this one has"
                                f" {', '.join(names)} — write NAME=1x3x224x224 for each")
        given[names[0]] = given.pop(None)
    unknown = [k for k in given if k not in names]
    if unknown:
        raise WorkloadError(f"{file}: --input-shape names {unknown[0]!r}, not a graph input (inputs:"
                            f" {', '.join(names)}) — use one of these names")
    fixed: dict[str, tuple[int, ...]] = {}
    for inp in inputs:
        dims = _dims(inp.type)
        if inp.name in given:
            shape = tuple(int(d) for d in given[inp.name])
            if dims is not None and len(dims) != len(shape):
                raise WorkloadError(f"{file}: --input-shape {inp.name}={_shape_text(shape)} has rank {len(shape)},"
                                    f" the input has rank {len(dims)} ({_shape_text(dims)}) — fix the shape")
            clash = [(d, s) for d, s in zip(dims or [], shape) if isinstance(d, int) and d != s]
            if clash:
                raise WorkloadError(f"{file}: --input-shape {inp.name}={_shape_text(shape)} contradicts the"
                                    f" model's fixed shape {_shape_text(dims)} — fix the shape")
        else:
            if dims is None or not all(isinstance(d, int) for d in dims):
                example = [d if isinstance(d, int) else 1 for d in (dims or [1])]
                shown = "unknown rank" if dims is None else ", ".join(
                    str(d) if isinstance(d, int) else repr(d or "?") for d in dims)
                raise WorkloadError(
                    f"{file}: input {inp.name!r} has dynamic dimensions ({shown}) — give its shape: imc-moo-import"
                    f" {file} --input-shape {inp.name}={_shape_text(example)} (then use the written .yaml), or in"
                    f" Python import_onnx(..., input_shapes={{{inp.name!r}: {tuple(example)}}})")
            shape = tuple(dims)
        fixed[inp.name] = shape
        tt = inp.type.tensor_type
        tt.shape.Clear()
        for d in shape:
            tt.shape.dim.add().dim_value = d
    # stale symbolic shapes of the exporter would otherwise be merged with the inferred ones
    del model.graph.value_info[:]
    for out in model.graph.output:
        out.type.tensor_type.ClearField("shape")
    return model, fixed


def _copy(model):
    onnx = _onnx()
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def _infer(model, file: str):
    onnx = _onnx()
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except (onnx.shape_inference.InferenceError, RuntimeError, ValueError) as exc:
        raise WorkloadError(f"{file}: ONNX shape inference failed: {_first_line(exc)} — check --input-shape"
                            " against the model, or re-export it with static shapes") from None


# ----------------------------------------------------------------------------------------------------------------
# Constants and folding


def _attrs(node) -> dict[str, Any]:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _constant_value(node) -> np.ndarray | None:
    """Value of a ``Constant`` node (tensor, float(s), int(s)); None for sparse/string values."""
    onnx = _onnx()
    for a in node.attribute:
        if a.name == "value":
            return onnx.numpy_helper.to_array(a.t)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
    return None


def _axes(node, consts: dict[str, np.ndarray], attrs: dict) -> list[int] | None:
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(node.input) > 1 and node.input[1]:
        return [int(a) for a in np.asarray(consts[node.input[1]]).reshape(-1)]
    return None


def _fold(node, consts: dict[str, np.ndarray]) -> np.ndarray | None:
    """The constant output of a FOLDABLE node whose inputs are all constant, or None if it cannot be folded."""
    onnx = _onnx()
    ins = [consts[n] for n in node.input if n]
    attrs = _attrs(node)
    x = ins[0]
    op = node.op_type
    if op == "Identity":
        return x
    if op == "Transpose":
        return np.transpose(x, attrs.get("perm"))
    if op == "Reshape":
        shape = [int(s) for s in ins[1].reshape(-1)]
        if not attrs.get("allowzero", 0):
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return np.reshape(x, shape)
    if op == "Cast":
        return x.astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))
    if op == "Squeeze":
        axes = _axes(node, consts, attrs)
        return np.squeeze(x, axis=None if axes is None else tuple(axes))
    if op == "Unsqueeze":
        axes = _axes(node, consts, attrs)
        rank = x.ndim + len(axes)
        out = x
        for a in sorted(a % rank for a in axes):
            out = np.expand_dims(out, a)
        return out
    if op == "Flatten":
        axis = int(attrs.get("axis", 1))
        axis = axis + x.ndim if axis < 0 else axis
        return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)
    if op == "Concat":
        return np.concatenate(ins, axis=attrs["axis"])
    if op == "DequantizeLinear":
        if attrs.get("block_size", 0):
            return None
        scale = ins[1].astype(np.float32)
        zero = ins[2].astype(np.float32) if len(ins) > 2 else np.zeros_like(scale)
        if scale.ndim == 1 and x.ndim > 1:
            shape = [1] * x.ndim
            shape[attrs.get("axis", 1) % x.ndim] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        return ((x.astype(np.float32) - zero) * scale).astype(np.float32)
    return None


def _subgraph_mac_ops(node) -> list[str]:
    """Op types of MAC ops (Conv, MatMul, ...) inside the subgraphs of a control-flow node, recursively."""
    found = []
    for a in node.attribute:
        graphs = [a.g] if a.HasField("g") else list(a.graphs)
        for g in graphs:
            for sub in g.node:
                if sub.op_type in _MAC_OPS:
                    found.append(sub.op_type)
                found += _subgraph_mac_ops(sub)
    return found


# ----------------------------------------------------------------------------------------------------------------
# Layers


@dataclass
class _Layer:
    """A layer before validation, with the tensors its activity factors come from."""

    fields: dict[str, Any]
    weights: np.ndarray | None  # constant weight values (None for attention layers)
    input_name: str  # activation feeding the layer (for calibrated ain)
    operand_name: str | None = None  # attention: the stationary activation operand (for calibrated aw)


def _conv_out(size: int, k: int, s: int, d: int, pad: tuple[int, int], auto_pad: str) -> int:
    """Output length of one conv axis (ONNX Conv semantics)."""
    k_eff = (k - 1) * d + 1
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return -(-size // s)
    if auto_pad == "VALID":
        return (size - k_eff) // s + 1
    return (size + pad[0] + pad[1] - k_eff) // s + 1


class _Converter:
    """Walks the (shape-inferred) graph once and builds the layers."""

    def __init__(self, model, file: str, attention: str):
        onnx = _onnx()
        self.file = file
        self.attention = attention
        graph = model.graph
        self.shapes: dict[str, list | None] = {}
        for vi in (*graph.input, *graph.value_info, *graph.output):
            self.shapes[vi.name] = _dims(vi.type)
        self.consts: dict[str, np.ndarray] = {}
        for init in graph.initializer:
            self.consts[init.name] = onnx.numpy_helper.to_array(init)
        self.layers: list[_Layer] = []
        self.skipped: Counter = Counter()
        self.folded: Counter = Counter()
        self._names: set[str] = set()
        self.nodes = list(graph.node)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _where(self, node, index: int) -> str:
        return f"{self.file}: node {self._node_name(node, index)!r} ({node.op_type})"

    @staticmethod
    def _node_name(node, index: int) -> str:
        return node.name or f"{node.op_type}_{index}"

    def _shape(self, name: str, node, index: int) -> tuple[int, ...]:
        if name in self.consts:
            return tuple(self.consts[name].shape)
        dims = self.shapes.get(name)
        if dims is None or not all(isinstance(d, int) for d in dims):
            shown = "unknown" if dims is None else _shape_text([d if isinstance(d, int) else None for d in dims])
            raise WorkloadError(
                f"{self._where(node, index)}: the shape of its input {name!r} cannot be inferred ({shown}) — give"
                " fixed input shapes with --input-shape, or export the model with static shapes")
        return tuple(dims)

    def _unique(self, name: str) -> str:
        base, n = name, 1
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def _add(self, node, index: int, dims: dict[str, int], stride, weights, input_name, *, depthwise=False,
             einsum=False, operand_name=None) -> None:
        fields = {"name": self._unique(self._node_name(node, index)), "op": node.op_type, **dims,
                  "stride": [int(s) for s in stride], "depthwise": depthwise, "einsum": einsum}
        self.layers.append(_Layer(fields, weights, input_name, operand_name))

    # -- ops -------------------------------------------------------------------------------------------------
    def conv(self, node, index: int) -> None:
        where = self._where(node, index)
        if len(node.input) < 2 or node.input[1] not in self.consts:
            raise WorkloadError(f"{where}: its weight input {node.input[1] if len(node.input) > 1 else '?'!r} is"
                                " not a constant (initializer) — export with constant weights"
                                " (torch.onnx.export(..., do_constant_folding=True))")
        w = self.consts[node.input[1]]
        x = self._shape(node.input[0], node, index)
        if w.ndim < 3 or len(x) != w.ndim:
            raise WorkloadError(f"{where}: weight shape {w.shape} and input shape {x} do not form a 1-3-d conv"
                                " — check the model")
        attrs = _attrs(node)
        g = int(attrs.get("group", 1))
        n_sp = w.ndim - 2
        k = list(w.shape[2:])
        strides = list(attrs.get("strides", [1] * n_sp))
        dil = list(attrs.get("dilations", [1] * n_sp))
        pads = list(attrs.get("pads", [0] * 2 * n_sp))
        auto_pad = attrs.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
        cout, cin_g = int(w.shape[0]), int(w.shape[1])
        cin = int(x[1])
        if cin != cin_g * g or cout % g:
            raise WorkloadError(f"{where}: {cin} input channels, weight {tuple(w.shape)} and group {g} do not fit"
                                " — check the model")
        out = [_conv_out(int(x[2 + i]), int(k[i]), int(strides[i]), int(dil[i]), (int(pads[i]),
                         int(pads[i + n_sp])), auto_pad) for i in range(n_sp)]
        inferred = self.shapes.get(node.output[0])
        if inferred and len(inferred) == w.ndim and all(isinstance(d, int) for d in inferred[2:]):
            out = [int(d) for d in inferred[2:]]  # shape inference agrees; trust it for exotic pad attributes
        if min(out) <= 0:
            raise WorkloadError(f"{where}: output size {out} is not positive for input {x} — check --input-shape")
        batch = int(x[0])
        if n_sp == 1:
            R, S, P, Q, stride = k[0], 1, batch * out[0], 1, [strides[0], 1]
        else:
            R, S = int(np.prod(k[:-1])), k[-1]
            P, Q = batch * int(np.prod(out[:-1])), out[-1]
            stride = strides[-2:]
        depthwise = g > 1 and cin_g == 1 and cout == g
        C, M = (1, 1) if depthwise else (cin_g, cout // g)
        self._add(node, index, dict(C=C, M=M, R=int(R), S=int(S), P=int(P), Q=int(Q), G=g), stride, w,
                  node.input[0], depthwise=depthwise)

    def _matmul(self, node, index: int, a: tuple[int, ...], b: tuple[int, ...], const: str | None,
                input_name: str, weights, operand_name=None) -> None:
        """A (..., n, k) @ B (..., k, m); ``const`` is "a", "b" or None (attention)."""
        where = self._where(node, index)
        a2 = (1, *a) if len(a) == 1 else a
        b2 = (*b, 1) if len(b) == 1 else b
        if len(a2) < 2 or len(b2) < 2 or a2[-1] != b2[-2]:
            raise WorkloadError(f"{where}: operand shapes {a} and {b} do not multiply — check the model")
        try:
            batch = np.broadcast_shapes(a2[:-2], b2[:-2])
        except ValueError:
            raise WorkloadError(f"{where}: batch dims of {a} and {b} do not broadcast — check the model") from None
        n, k, m = int(a2[-2]), int(a2[-1]), int(b2[-1])
        nb = int(np.prod(batch, dtype=np.int64))
        if const == "b":
            g = int(np.prod(b2[:-2], dtype=np.int64))
            dims = dict(C=k, M=m, P=nb * n // g, G=g)
        elif const == "a":
            g = int(np.prod(a2[:-2], dtype=np.int64))
            dims = dict(C=k, M=n, P=nb * m // g, G=g)
        elif self.attention == "full":
            dims = dict(C=k, M=m, P=n, G=nb)
        else:  # the reference simulator's inputs: the first operand's matrix, batch x heads as P
            dims = dict(C=n, M=k, P=nb, G=1)
        self._add(node, index, dict(dims, R=1, S=1, Q=1), [1, 1], weights, input_name, einsum=const is None,
                  operand_name=operand_name)

    def matmul(self, node, index: int) -> None:
        ia, ib = node.input[0], node.input[1]
        a, b = self._shape(ia, node, index), self._shape(ib, node, index)
        ca, cb = ia in self.consts, ib in self.consts
        if ca and cb:
            self.skipped[f"{node.op_type} (constant only)"] += 1
            return
        if cb:
            self._matmul(node, index, a, b, "b", ia, self.consts[ib])
        elif ca:
            self._matmul(node, index, a, b, "a", ib, self.consts[ia])
        else:
            self._matmul(node, index, a, b, None, ia, None, operand_name=ib)

    def gemm(self, node, index: int) -> None:
        attrs = _attrs(node)
        ia, ib = node.input[0], node.input[1]
        a, b = self._shape(ia, node, index), self._shape(ib, node, index)
        if len(a) != 2 or len(b) != 2:
            raise WorkloadError(f"{self._where(node, index)}: Gemm operands must be 2-d, got {a} and {b} — check"
                                " the model")
        wa = self.consts.get(ia)
        wb = self.consts.get(ib)
        if attrs.get("transA", 0):
            a = a[::-1]
            wa = None if wa is None else wa.T
        if attrs.get("transB", 0):
            b = b[::-1]
            wb = None if wb is None else wb.T
        if wa is not None and wb is not None:
            self.skipped["Gemm (constant only)"] += 1
        elif wb is not None:
            self._matmul(node, index, a, b, "b", ia, wb)
        elif wa is not None:
            self._matmul(node, index, a, b, "a", ib, wa)
        else:
            self._matmul(node, index, a, b, None, ia, None, operand_name=ib)

    def other(self, node, index: int) -> None:
        op = node.op_type
        domain = node.domain if node.domain not in ("", "ai.onnx") else ""
        where = self._where(node, index)
        if not domain and op in UNSUPPORTED_WEIGHTED:
            raise WorkloadError(f"{where}: op {op} carries weights or MACs the importer cannot map —"
                                f" {UNSUPPORTED_WEIGHTED[op]}")
        if op in CONTROL_FLOW:
            inner = _subgraph_mac_ops(node)
            if inner:
                raise WorkloadError(f"{where}: its subgraph holds {inner[0]} nodes, and control flow is not"
                                    " imported — export the model without control flow (fixed loop counts,"
                                    " no data-dependent branches), or write a layer table (.csv)")
        if domain:
            weighted = [n for n in node.input if n in self.consts and self.consts[n].ndim >= 2]
            if weighted:
                raise WorkloadError(f"{where}: custom-domain op {domain}.{op} is fed by the weight tensor"
                                    f" {weighted[0]!r} and is not supported — export with standard ONNX ops"
                                    " (no runtime-specific fusions), or write a layer table (.csv)")
            self.skipped[f"{domain}.{op}"] += 1
            return
        self.skipped[op] += 1

    # -- walk ------------------------------------------------------------------------------------------------
    def run(self) -> None:
        for index, node in enumerate(self.nodes):
            op = node.op_type
            default_domain = node.domain in ("", "ai.onnx")
            if default_domain and op == "Constant":
                value = _constant_value(node)
                if value is not None:
                    self.consts[node.output[0]] = value
                self.folded[op] += 1
                continue
            if default_domain and op in FOLDABLE and node.input and all(
                    n in self.consts for n in node.input if n):
                try:
                    value = _fold(node, self.consts)
                except (ValueError, KeyError, TypeError, IndexError):
                    value = None
                if value is not None:
                    self.consts[node.output[0]] = np.asarray(value)
                    self.folded[op] += 1
                    continue
            if default_domain and op == "Conv":
                self.conv(node, index)
            elif default_domain and op == "MatMul":
                self.matmul(node, index)
            elif default_domain and op == "Gemm":
                self.gemm(node, index)
            else:
                self.other(node, index)


# ----------------------------------------------------------------------------------------------------------------
# Calibration (optional onnxruntime)


def _load_npz(path: Path, input_names: Sequence[str]) -> dict[str, np.ndarray]:
    file = display_path(path)
    if not path.is_file():
        raise WorkloadError(f"{file}: calibration inputs not found — check the --inputs path (an .npz of arrays"
                            " named by the model's inputs)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise WorkloadError(f"{file}: cannot read the calibration inputs: {_first_line(exc)} — write them with"
                            " numpy.savez(path, input=array, ...)") from None
    if len(input_names) == 1 and len(arrays) == 1:
        return {input_names[0]: next(iter(arrays.values()))}
    missing = [n for n in input_names if n not in arrays]
    if missing:
        raise WorkloadError(f"{file}: no array for the model input {missing[0]!r} (arrays: {', '.join(arrays)})"
                            f" — name the arrays by the inputs: {', '.join(input_names)}")
    return {n: arrays[n] for n in input_names}


def _calibrate(model, file: str, npz: Path, fixed: dict[str, tuple[int, ...]], conv: _Converter,
               n_bins: int) -> tuple[dict[str, float], dict[str, np.ndarray], int]:
    """Run onnxruntime on the calibration inputs; per tensor name the ain (8-bit input slice) and, for attention
    operands, aw (8,). Returns (ain by tensor, aw by tensor, number of samples)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise WorkloadError(f"{display_path(npz)}: calibration inputs need onnxruntime, which is not installed —"
                            " pip install 'imc-moo[onnx-runtime]' (or onnxruntime), or drop --inputs to use the"
                            f" default ain = {DEFAULT_AIN}") from None
    onnx = _onnx()
    arrays = _load_npz(npz, list(fixed))
    need_in = sorted({layer.input_name for layer in conv.layers})
    need_op = sorted({layer.operand_name for layer in conv.layers if layer.operand_name})
    names = [n for n in dict.fromkeys(need_in + need_op) if n not in fixed]
    run_model = _copy(model)
    known = {vi.name: vi for vi in (*run_model.graph.value_info, *run_model.graph.output)}
    outputs = {o.name for o in run_model.graph.output}
    for name in names:
        if name not in outputs:
            vi = run_model.graph.output.add()
            if name in known:
                vi.CopyFrom(known[name])
                vi.type.tensor_type.ClearField("shape")
            else:
                vi.name = name
    elem = {i.name: i.type.tensor_type.elem_type for i in run_model.graph.input}
    try:
        session = ort.InferenceSession(run_model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise WorkloadError(f"{file}: onnxruntime cannot load the model: {_first_line(exc)} — check the model"
                            " or drop --inputs") from None
    # split the arrays into batches of the fixed input shape (an npz may stack many samples on axis 0)
    feeds: list[dict[str, np.ndarray]] = []
    n_samples = None
    for name, arr in arrays.items():
        shape = fixed[name]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(elem[name])
        if arr.shape == shape:
            parts = [arr]
        elif arr.ndim == len(shape) and arr.shape[1:] == shape[1:] and arr.shape[0] % shape[0] == 0:
            parts = np.split(arr, arr.shape[0] // shape[0])
        else:
            raise WorkloadError(f"{display_path(npz)}: array {name!r} has shape {arr.shape}, the input is"
                                f" {_shape_text(shape)} — give arrays of that shape, or stacked on axis 0")
        if n_samples is None:
            n_samples = len(parts)
        elif n_samples != len(parts):
            raise WorkloadError(f"{display_path(npz)}: the arrays hold different numbers of samples — give every"
                                " input the same number")
        for i, part in enumerate(parts):
            if i == len(feeds):
                feeds.append({})
            feeds[i][name] = part.astype(dtype, copy=False)

    wanted = list(dict.fromkeys(need_in + need_op))

    def values(feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            outs = session.run(names, feed) if names else []
        except Exception as exc:
            raise WorkloadError(f"{display_path(npz)}: onnxruntime failed on the calibration inputs:"
                                f" {_first_line(exc)} — give arrays of the input shapes"
                                f" ({', '.join(f'{k}={_shape_text(v)}' for k, v in fixed.items())})") from None
        got = dict(zip(names, outs))
        got.update({k: v for k, v in feed.items() if k in wanted})
        return got

    # pass 1: the range of each tensor over all samples; pass 2: histograms over that symmetric range
    max_abs = dict.fromkeys(wanted, 0.0)
    for feed in feeds:
        for name, v in values(feed).items():
            v = np.asarray(v, dtype=np.float64)
            finite = v[np.isfinite(v)]
            if finite.size:
                max_abs[name] = max(max_abs[name], float(np.abs(finite).max()))
    hist = {name: np.zeros(n_bins) for name in wanted}
    for feed in feeds:
        for name, v in values(feed).items():
            hist[name] += symmetric_histogram(v, n_bins, max_abs=max_abs[name], counts=True)
    bits = {name: bit_means(h[None, :])[0] for name, h in hist.items()}
    ain = {name: float(bits[name] @ slice_weights(8)) for name in need_in}
    aw = {name: bits[name] @ AW_MATRIX for name in need_op}
    return ain, aw, int(n_samples or 0)


# ----------------------------------------------------------------------------------------------------------------
# Public API


def import_onnx(path: str | os.PathLike, *, name: str | None = None,
                input_shapes: Mapping[str | None, Sequence[int]] | None = None,
                inputs: str | os.PathLike | None = None, attention: str = "full",
                n_bins: int = QUANT_BINS) -> ImportResult:
    """Convert an ONNX model into a validated :class:`ImportResult` (see the module docstring).

    Args:
        path: the ``.onnx`` file.
        name: network name (default: the file stem, cleaned).
        input_shapes: graph input name -> shape, for inputs with dynamic dimensions (key None: the only input).
        inputs: an ``.npz`` of calibration inputs (arrays named by the graph inputs, one sample or several stacked
            on axis 0) for ``ain`` from activations; needs onnxruntime.
        attention: ``"full"`` (true attention MACs, G = batch x heads) or ``"simulator"`` (the reference
            simulator's reduced count, as in the packaged ViT/GPT-2/MobileBERT files).
        n_bins: histogram bins (2^k - 1) for the activity factors; 255 = 8-bit quantisation.
    """
    path = Path(path).expanduser()
    file = display_path(path)
    if attention not in ATTENTION_CONVENTIONS:
        raise WorkloadError(f"unknown attention convention {attention!r} — use one of"
                            f" {', '.join(ATTENTION_CONVENTIONS)}")
    model = _read_model(path, file)
    fixed_model, fixed = _fix_input_shapes(model, file, input_shapes)
    inferred = _infer(fixed_model, file)
    conv = _Converter(inferred, file, attention)
    conv.run()
    if not conv.layers:
        ops = ", ".join(f"{k} {v}" for k, v in conv.skipped.most_common()) or "none"
        raise WorkloadError(f"{file}: no Conv, Gemm or MatMul layers found (ops: {ops}) — a network needs at least"
                            " one layer with weights")
    net_name = name or default_name(path)
    ain_src = f"default {DEFAULT_AIN} (imc_moo.workloads.DEFAULT_AIN): no calibration inputs"
    aw_src = (f"from each layer's weight values: symmetric {n_bins}-bin histogram over [-max|w|, max|w|]"
              f"{' (8-bit quantisation)' if n_bins == QUANT_BINS else ''}, offset encoding, 8-bit operands sliced"
              " into bits-per-cell slices (COST_MODEL.md §2.2)")
    ain_by, aw_by = {}, {}
    if inputs is not None:
        ain_by, aw_by, n_samples = _calibrate(inferred, file, Path(inputs).expanduser(), fixed, conv, n_bins)
        ain_src = (f"from the layers' input activations on {n_samples} calibration sample(s) of"
                   f" {Path(inputs).name} (onnxruntime), symmetric {n_bins}-bin histograms, one 8-bit slice")
    has_attention = any(layer.weights is None for layer in conv.layers)
    if has_attention:
        aw_src += ("; attention layers: from their second operand's activations on the calibration samples"
                   if aw_by else f"; attention layers (activation operands): default {list(DEFAULT_AW)}")
    layers = []
    for layer in conv.layers:
        fields = dict(layer.fields)
        fields["ain"] = float(ain_by.get(layer.input_name, DEFAULT_AIN))
        if layer.weights is not None:
            aw = aw_from_weights(layer.weights, n_bins)
        elif layer.operand_name in aw_by:
            aw = aw_by[layer.operand_name]
        else:
            aw = np.array(DEFAULT_AW)
        fields["aw"] = [float(v) for v in np.clip(aw, 0.0, 1.0)]
        layers.append(fields)
    network = network_from_layers(net_name, layers, file)
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    opset = next((i.version for i in model.opset_import if i.domain in ("", "ai.onnx")), None)
    source = {"file": str(path), "sha256": file_digest(path), "format": "onnx", "opset": opset,
              "producer": producer, "input_shapes": {k: list(v) for k, v in fixed.items()},
              "attention": attention, "importer": f"imc-moo {__version__} imc_moo.onnx_import"}
    return ImportResult(network, layers, dict(conv.skipped.most_common()), dict(conv.folded.most_common()),
                        source, {"ain": ain_src, "aw": aw_src})


def import_file(path: str | os.PathLike, name: str | None = None, **onnx_options) -> ImportResult:
    """:func:`import_onnx` (with ``onnx_options``) for ``.onnx``, :func:`imc_moo.workloads.layer_table.load_layer_table`
    for ``.csv``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".onnx":
        return import_onnx(path, name=name, **onnx_options)
    if suffix == ".csv":
        from imc_moo.workloads.layer_table import load_layer_table

        if onnx_options:
            raise WorkloadError(f"{display_path(Path(path))}: {next(iter(onnx_options))} applies to ONNX models, not"
                                " layer tables — drop it")
        return load_layer_table(path, name=name)
    raise WorkloadError(f"{display_path(Path(path))}: cannot import a {suffix or 'suffix-less'} file — give an .onnx"
                        " model or a .csv layer table")


# ----------------------------------------------------------------------------------------------------------------
# Writing


def _float6(x: float) -> str:
    return np.format_float_positional(float(x), precision=6, unique=True, fractional=False, trim="0")


def _quote(text: Any) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    import json

    return json.dumps(str(text), ensure_ascii=False)


def network_yaml(result: ImportResult) -> str:
    """The library-format YAML text of an import (loadable by :func:`imc_moo.workloads.load_network`)."""
    import yaml

    src = result.source
    head = (f"# Written by {PROG} (imc-moo {__version__}) from {Path(src.get('file', '?')).name}"
            f"{' (sha256 ' + src['sha256'][:16] + '...)' if src.get('sha256') else ''}; re-run {PROG} to"
            " regenerate.\n")
    meta = yaml.safe_dump({"source": src, "activity": result.activity}, sort_keys=False, allow_unicode=True,
                          default_flow_style=None, width=100)
    parts = [head, f"name: {_quote(result.name)}\n", f"description: {_quote(result.description())}\n", meta,
             "layers:\n"]
    for layer in result.layers:
        dims = ", ".join(f"{k}: {int(layer.get(k, 1))}" for k in ("C", "M", "R", "S", "P", "Q", "G"))
        stride = layer.get("stride", [1, 1])
        aw = ", ".join(_float6(v) for v in layer["aw"])
        flags = ", ".join(f"{k}: {'true' if layer.get(k) else 'false'}" for k in ("depthwise", "einsum"))
        parts.append(
            f"  - {{name: {_quote(layer['name'])}, op: {_quote(layer.get('op', 'layer'))}, {dims},"
            f" stride: [{int(stride[0])}, {int(stride[1])}], {flags}, ain: {_float6(layer['ain'])}, aw: [{aw}]}}\n")
    return "".join(parts)


def write_network(result: ImportResult, out_dir: str | os.PathLike = ".", force: bool = False) -> Path:
    """Write ``out_dir/<name>.yaml`` (:func:`imc_moo.files.write_atomic`, with the umask's mode); refuses to
    overwrite unless ``force``."""
    out_dir = Path(out_dir).expanduser()
    target = out_dir / f"{result.name}.yaml"
    if out_dir.exists() and not out_dir.is_dir():
        raise WorkloadError(f"{display_path(out_dir)}: not a directory — give an output directory with -o DIR")
    if target.exists() and not force:
        raise WorkloadError(f"{display_path(target)} already exists — pass --force to overwrite it, or choose another"
                            " --name or -o DIR")
    text = network_yaml(result)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text, durable=True)  # a reader sees the old file or the whole new one
    except OSError as exc:
        raise WorkloadError(f"{display_path(target)}: cannot write: {exc.strerror or exc} — choose a writable"
                            " -o DIR") from None
    return target


def summary(result: ImportResult, target: Path | None = None) -> str:
    """A few lines: layers by op, weights, MACs, ops skipped by type, where the activity factors came from."""
    net = result.network
    src = Path(result.source.get("file", "?")).name
    lines = [f"{PROG}: {src} -> {display_path(target) if target else net.name}"]
    ops = ", ".join(f"{k} {v}" for k, v in result.layer_ops().items())
    lines.append(f"  layers:  {net.n_layers} ({ops})")
    einsum_w = int(net.weights[net.einsum].sum())
    extra = f" ({einsum_w:,} of them attention operands)" if einsum_w else ""
    lines.append(f"  weights: {net.total_weights:,}{extra}")
    lines.append(f"  MACs:    {net.total_macs:,} ({net.total_macs / 1e9:.4g} GMACs at the input shapes below)"
                 if result.source.get("input_shapes") else f"  MACs:    {net.total_macs:,}")
    if result.source.get("input_shapes"):
        shapes = ", ".join(f"{k}={_shape_text(v)}" for k, v in result.source["input_shapes"].items())
        lines.append(f"  inputs:  {shapes}")
    skipped = ", ".join(f"{k} {v}" for k, v in result.skipped.items()) or "none"
    lines.append(f"  skipped (no weights): {skipped}")
    if result.folded:
        lines.append("  folded into constants: " + ", ".join(f"{k} {v}" for k, v in result.folded.items()))
    lines.append(f"  ain: {result.activity.get('ain', '?')}")
    lines.append(f"  aw:  {result.activity.get('aw', '?')}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Command line


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (``imc-moo-import: error: ...``), exit 2."""

    def error(self, message: str):  # argparse calls this for usage errors
        raise WorkloadError(f"{message} — see {PROG} --help")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Convert an ONNX model or a CSV layer table into a network file of the imc-moo library"
                    " (NAME.yaml), with activity factors from the model's weights.",
        epilog="Use the written file as a workload: problem.workloads=[DIR/NAME.yaml,resnet18], or put DIR on"
               " $IMC_MOO_PROBLEMS and use NAME.",
    )
    p.add_argument("model", help="MODEL.onnx or TABLE.csv (columns name, op, C, M, R, S, P, Q, G, stride,"
                                 " optional ain, aw1..aw8, depthwise, einsum)")
    p.add_argument("--name", help="network name and file stem (default: the input's file stem)")
    p.add_argument("-o", "--out-dir", default=".", metavar="DIR", help="output directory (default: .)")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=1x3x224x224",
                   help="fixed shape of a graph input with dynamic dimensions (repeat per input)")
    p.add_argument("--inputs", metavar="CALIB.npz",
                   help="calibration inputs (arrays named by the graph inputs) for ain from activations;"
                        " needs onnxruntime (pip install 'imc-moo[onnx-runtime]')")
    p.add_argument("--attention", choices=ATTENTION_CONVENTIONS, default="full",
                   help="attention MatMuls at their full cost (default) or as the reference simulator counted them")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    return p


def run(argv: Sequence[str] | None = None) -> tuple[ImportResult, Path]:
    """Parse arguments, import and write; raises WorkloadError for every bad input (nothing written then)."""
    args = _parser().parse_args(argv)
    path = Path(args.model).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".onnx", ".csv"):
        raise WorkloadError(f"{display_path(path)}: cannot import a {suffix or 'suffix-less'} file — give an .onnx"
                            " model or a .csv layer table")
    if not path.is_file():
        raise WorkloadError(f"{display_path(path)}: {'ONNX model' if suffix == '.onnx' else 'layer table'} not found"
                            " — check the path")
    if args.name is not None and not _NAME_RE.match(args.name):
        raise WorkloadError(f"--name {args.name!r}: use letters, digits, '_' and '-' (starting with a letter or"
                            " digit) — choose another --name")
    name = args.name or default_name(path)
    if name in available_networks(PROBLEMS_DIR):
        hint = "" if args.name else f" (from the file name {path.name})"
        raise WorkloadError(f"{display_path(path)}: the name {name!r}{hint} is a packaged network — choose another"
                            f" with --name, e.g. --name {name}_own")
    target = Path(args.out_dir).expanduser() / f"{name}.yaml"
    if target.exists() and not args.force:  # checked before the (possibly slow) conversion
        raise WorkloadError(f"{display_path(target)} already exists — pass --force to overwrite it, or choose another"
                            " --name or -o DIR")
    if suffix == ".onnx":
        result = import_onnx(path, name=name, input_shapes=parse_input_shapes(args.input_shape),
                             inputs=args.inputs, attention=args.attention)
    else:
        if args.input_shape or args.inputs:
            raise WorkloadError(f"{display_path(path)}: --input-shape and --inputs apply to ONNX models, not layer"
                                " tables — drop them")
        from imc_moo.workloads.layer_table import load_layer_table

        result = load_layer_table(path, name=name)
    return result, write_network(result, args.out_dir, force=args.force)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``imc-moo-import``; returns the exit code (0 written, 2 bad input)."""
    try:
        result, target = run(argv)
    except WorkloadError as exc:
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(summary(result, target))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
