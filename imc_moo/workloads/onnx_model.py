"""Reading an ONNX model: load and check the file, fix the graph inputs' shapes, infer every tensor's shape.

:func:`read_model` turns a missing, empty, truncated or non-ONNX file (or one of a newer opset than the installed
``onnx`` knows) into a one-line :class:`~imc_moo.workloads.WorkloadError` naming the file and the fix;
:func:`fix_input_shapes` sets every graph input to a fixed shape (``input_shapes`` for dynamic dimensions, parsed
from ``NAME=1x3x224x224`` by :func:`parse_input_shapes`), and :func:`infer_shapes` runs
``onnx.shape_inference.infer_shapes`` with data propagation. The ``onnx`` package is imported on the first call
(:func:`onnx_package`), not with this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from imc_moo.workloads.network import WorkloadError
from imc_moo.workloads.result import shape_text


def onnx_package():
    """The ``onnx`` module, imported on first use; a WorkloadError if it is not importable."""
    try:
        import onnx
    except ImportError as exc:  # a dependency, so only a broken install gets here
        raise WorkloadError(f"the onnx package is not importable ({exc}) — pip install 'onnx>=1.16'") from None
    return onnx


def first_line(exc: BaseException | str) -> str:
    """The first non-empty line of an exception's message (at most 300 characters), for one-line errors."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def read_model(path: Path, file: str):
    """Load and check an ONNX ModelProto; one-line WorkloadError for a missing, truncated or non-ONNX file."""
    onnx = onnx_package()
    from google.protobuf.message import DecodeError

    if not path.is_file():
        raise WorkloadError(f"{file}: ONNX model not found — check the path")
    if path.stat().st_size == 0:
        raise WorkloadError(f"{file}: empty file, not an ONNX model — re-export or re-download the model")
    try:
        model = onnx.load(str(path))
    except DecodeError as exc:
        raise WorkloadError(f"{file}: not a valid ONNX model ({first_line(exc)}): the file is truncated or not"
                            " ONNX — re-export (torch.onnx.export) or re-download the model") from None
    except (OSError, ValueError, RuntimeError) as exc:  # e.g. missing external-data file
        raise WorkloadError(f"{file}: cannot read the ONNX model: {first_line(exc)} — keep any external .data"
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
        raise WorkloadError(f"{file}: not a valid ONNX model: {first_line(exc)} — re-export the model"
                            " (torch.onnx.export) or upgrade onnx if it is newer") from None
    return model


def tensor_dims(type_proto) -> list[int | str | None] | None:
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


def fix_input_shapes(model, file: str, input_shapes: Mapping[str | None, Sequence[int]] | None):
    """Set every graph input to a fixed shape; returns (model copy, {input: shape}). Dynamic dims need a shape."""
    model = copy_model(model)
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
        dims = tensor_dims(inp.type)
        if inp.name in given:
            shape = tuple(int(d) for d in given[inp.name])
            if dims is not None and len(dims) != len(shape):
                raise WorkloadError(f"{file}: --input-shape {inp.name}={shape_text(shape)} has rank {len(shape)},"
                                    f" the input has rank {len(dims)} ({shape_text(dims)}) — fix the shape")
            clash = [(d, s) for d, s in zip(dims or [], shape) if isinstance(d, int) and d != s]
            if clash:
                raise WorkloadError(f"{file}: --input-shape {inp.name}={shape_text(shape)} contradicts the"
                                    f" model's fixed shape {shape_text(dims)} — fix the shape")
        else:
            if dims is None or not all(isinstance(d, int) for d in dims):
                example = [d if isinstance(d, int) else 1 for d in (dims or [1])]
                shown = "unknown rank" if dims is None else ", ".join(
                    str(d) if isinstance(d, int) else repr(d or "?") for d in dims)
                raise WorkloadError(
                    f"{file}: input {inp.name!r} has dynamic dimensions ({shown}) — give its shape: imc-moo-import"
                    f" {file} --input-shape {inp.name}={shape_text(example)} (then use the written .yaml), or in"
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


def copy_model(model):
    """A deep copy of a ModelProto."""
    onnx = onnx_package()
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def infer_shapes(model, file: str):
    """The model with every tensor's shape inferred (with data propagation); one-line WorkloadError on failure."""
    onnx = onnx_package()
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except (onnx.shape_inference.InferenceError, RuntimeError, ValueError) as exc:
        raise WorkloadError(f"{file}: ONNX shape inference failed: {first_line(exc)} — check --input-shape"
                            " against the model, or re-export it with static shapes") from None


def node_attrs(node) -> dict[str, Any]:
    """A node's attributes as Python values, by name."""
    onnx = onnx_package()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
