"""What an importer returns: the validated network with its YAML-ready layers and where they came from
(:class:`ImportResult`), and the network name a file gives (:func:`default_name`).

Both importers (:mod:`imc_moo.workloads.onnx_convert`, :mod:`imc_moo.workloads.layer_table`) build it; the writer
(:mod:`imc_moo.workloads.writer`) and the command (:mod:`imc_moo.workloads.cli`) read it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imc_moo.workloads.network import Network

#: A network name (and file stem): letters, digits, '_' and '-', starting with a letter or digit.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


def shape_text(dims: Sequence) -> str:
    """A tensor shape as ``1x3x224x224`` (``?`` for an unknown dimension)."""
    return "x".join("?" if d is None else str(d) for d in dims)


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
        unused: op type -> count of nodes whose outputs reach no graph output (left out: no layer).
    """

    network: Network
    layers: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)
    folded: dict[str, int] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    activity: dict[str, str] = field(default_factory=dict)
    unused: dict[str, int] = field(default_factory=dict)

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
        at = (", ".join(f"{k}={shape_text(v)}" for k, v in shapes.items()) if shapes else "as tabled")
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
    return name if NAME_PATTERN.match(name) else f"net_{name}"
