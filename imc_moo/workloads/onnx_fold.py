"""Constant folding: weights reach a Conv, Gemm or MatMul through ``Constant`` nodes and through ops that only
reshape, reorder or convert a constant (stored transposed, cast, dequantised...).

:func:`fold` computes such an op's output with numpy when all its inputs are constant (the converter then treats
the output as a weight tensor and counts the node as folded); :func:`constant_value` reads a ``Constant`` node.
"""

from __future__ import annotations

import numpy as np

from imc_moo.workloads.onnx_model import node_attrs, onnx_package

#: Ops whose output is folded into a constant when every input is constant (weights stored transposed, cast...).
FOLDABLE = ("Identity", "Transpose", "Reshape", "Cast", "Squeeze", "Unsqueeze", "Flatten", "Concat",
            "DequantizeLinear")


def constant_value(node) -> np.ndarray | None:
    """Value of a ``Constant`` node (tensor, float(s), int(s)); None for sparse/string values."""
    onnx = onnx_package()
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


def fold(node, consts: dict[str, np.ndarray]) -> np.ndarray | None:
    """The constant output of a FOLDABLE node whose inputs are all constant, or None if it cannot be folded."""
    onnx = onnx_package()
    ins = [consts[n] for n in node.input if n]
    attrs = node_attrs(node)
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
