"""Writing an import: the library-format YAML text (:func:`network_yaml`), the file (:func:`write_network`,
through :func:`imc_moo.files.write_atomic`) and the few lines the command prints (:func:`summary`).

The text is written field by field rather than dumped, so a file is stable byte for byte (numbers to 6 significant
digits, one flow mapping per layer) and its head says which command regenerates it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from imc_moo.files import write_atomic
from imc_moo.version import __version__
from imc_moo.workloads.network import WorkloadError, display_path
from imc_moo.workloads.result import ImportResult, shape_text

#: The command that writes these files (named in their first line and in its messages).
PROG = "imc-moo-import"


def _float6(x: float) -> str:
    """A number to 6 significant digits, without trailing zeros."""
    return np.format_float_positional(float(x), precision=6, unique=True, fractional=False, trim="0")


def _quote(text: Any) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def network_yaml(result: ImportResult) -> str:
    """The library-format YAML text of an import (loadable by :func:`imc_moo.workloads.load_network`)."""
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


def network_path(name: str, out_dir: str | os.PathLike = ".") -> Path:
    """The file :func:`write_network` writes for the network ``name``: ``out_dir/<name>.yaml``."""
    return Path(out_dir).expanduser() / f"{name}.yaml"


def refuse_overwrite(target: Path, force: bool = False) -> None:
    """A WorkloadError if ``target`` exists, unless ``force``."""
    if target.exists() and not force:
        raise WorkloadError(f"{display_path(target)} already exists — pass --force to overwrite it, or choose another"
                            " --name or -o DIR")


def write_network(result: ImportResult, out_dir: str | os.PathLike = ".", force: bool = False) -> Path:
    """Write ``out_dir/<name>.yaml`` (:func:`imc_moo.files.write_atomic`, with the umask's mode); refuses to
    overwrite unless ``force``."""
    out_dir = Path(out_dir).expanduser()
    target = network_path(result.name, out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise WorkloadError(f"{display_path(out_dir)}: not a directory — give an output directory with -o DIR")
    refuse_overwrite(target, force)
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
        shapes = ", ".join(f"{k}={shape_text(v)}" for k, v in result.source["input_shapes"].items())
        lines.append(f"  inputs:  {shapes}")
    skipped = ", ".join(f"{k} {v}" for k, v in result.skipped.items()) or "none"
    lines.append(f"  skipped (no weights): {skipped}")
    if result.folded:
        lines.append("  folded into constants: " + ", ".join(f"{k} {v}" for k, v in result.folded.items()))
    if result.unused:
        lines.append("  left out (outputs reach no graph output): "
                     + ", ".join(f"{k} {v}" for k, v in result.unused.items()))
    lines.append(f"  ain: {result.activity.get('ain', '?')}")
    lines.append(f"  aw:  {result.activity.get('aw', '?')}")
    return "\n".join(lines)
