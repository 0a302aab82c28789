"""ONNX nodes to layers, per op family: the one walk over a shape-inferred graph (:class:`GraphLayers`).

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
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from imc_moo.workloads.network import WorkloadError
from imc_moo.workloads.onnx_fold import FOLDABLE, constant_value, fold
from imc_moo.workloads.onnx_model import node_attrs, onnx_package, tensor_dims
from imc_moo.workloads.result import shape_text

#: How attention MatMuls (two activations) are counted: at their full cost, or as the reference simulator did.
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
#: Ops carrying subgraphs; their bodies are scanned for MAC ops (which would be an error).
CONTROL_FLOW = ("If", "Loop", "Scan")
_MAC_OPS = {"Conv", "Gemm", "MatMul", *UNSUPPORTED_WEIGHTED}


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


@dataclass
class LayerDraft:
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


def _names_used_inside(node) -> set[str]:
    """Outer tensor names the subgraphs of a control-flow node read (a subgraph may read any name in scope)."""
    names: set[str] = set()
    for attribute in node.attribute:
        for sub in (*([attribute.g] if attribute.HasField("g") else []), *attribute.graphs):
            for inner in sub.node:
                names.update(n for n in inner.input if n)
                names |= _names_used_inside(inner)
    return names


def live_nodes(graph) -> tuple[list, list]:
    """(the nodes some graph output depends on, in order; the others): a backward pass from the outputs."""
    needed = {o.name for o in graph.output}
    live = [False] * len(graph.node)
    for i in range(len(graph.node) - 1, -1, -1):
        node = graph.node[i]
        if any(o in needed for o in node.output if o):
            live[i] = True
            needed.update(n for n in node.input if n)
            needed |= _names_used_inside(node)
    return ([n for n, keep in zip(graph.node, live) if keep], [n for n, keep in zip(graph.node, live) if not keep])


class GraphLayers:
    """Walks the (shape-inferred) graph once and builds the layers: ``layers`` (:class:`LayerDraft`, in node
    order), ``skipped`` (weight-free op type -> nodes), ``folded`` (op type -> nodes folded into constants) and
    ``unused`` (op type -> nodes whose outputs reach no graph output, left out)."""

    def __init__(self, model, file: str, attention: str):
        onnx = onnx_package()
        self.file = file
        self.attention = attention
        graph = model.graph
        self.shapes: dict[str, list | None] = {}
        for vi in (*graph.input, *graph.value_info, *graph.output):
            self.shapes[vi.name] = tensor_dims(vi.type)
        self.consts: dict[str, np.ndarray] = {}
        for init in graph.initializer:
            self.consts[init.name] = onnx.numpy_helper.to_array(init)
        self.layers: list[LayerDraft] = []
        self.skipped: Counter = Counter()
        self.folded: Counter = Counter()
        self._names: set[str] = set()
        self.nodes, dead = live_nodes(graph)
        #: op type -> nodes none of whose outputs reaches a graph output (pruned: they compute nothing the model
        #: returns, so they make no layer)
        self.unused: Counter = Counter(node.op_type for node in dead)

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
            shown = "unknown" if dims is None else shape_text([d if isinstance(d, int) else None for d in dims])
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
        self.layers.append(LayerDraft(fields, weights, input_name, operand_name))

    # -- ops -------------------------------------------------------------------------------------------------
    def conv(self, node, index: int) -> None:
        """A ``Conv`` (1-3-d, grouped, depthwise) with constant weights -> one layer."""
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
        attrs = node_attrs(node)
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
        """A ``MatMul``: with one constant operand a weight layer, of two activations an attention layer."""
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
        """A ``Gemm`` (``transA``/``transB`` applied) as a :meth:`matmul`; the bias is not a weight."""
        attrs = node_attrs(node)
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
        """A node that makes no layer: counted by op type, or an error if it carries weights the importer cannot
        map."""
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
        """Convert every node: constants folded, Conv/MatMul/Gemm to layers, the rest counted (or an error)."""
        for index, node in enumerate(self.nodes):
            op = node.op_type
            default_domain = node.domain in ("", "ai.onnx")
            if default_domain and op == "Constant":
                value = constant_value(node)
                if value is not None:
                    self.consts[node.output[0]] = value
                self.folded[op] += 1
                continue
            if default_domain and op in FOLDABLE and node.input and all(
                    n in self.consts for n in node.input if n):
                try:
                    value = fold(node, self.consts)
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
