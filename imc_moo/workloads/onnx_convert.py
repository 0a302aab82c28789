"""The ONNX converter: a user's own model as a network of the library (:func:`import_onnx`).

``import_onnx(path)`` reads the model with the ``onnx`` package, fixes the graph inputs' shapes (``input_shapes``
for dynamic dimensions), runs ``onnx.shape_inference.infer_shapes`` (with data propagation) and turns every node
that multiplies by weights into one layer of :class:`~imc_moo.workloads.Network` (Timeloop notation, see
:mod:`imc_moo.workloads`); every layer goes through the same validation as a hand-written YAML file. The steps
live beside it: reading and shapes in :mod:`imc_moo.workloads.onnx_model`, constant folding in
:mod:`imc_moo.workloads.onnx_fold`, the layers per op (Conv, Gemm, MatMul, attention) in
:mod:`imc_moo.workloads.onnx_layers`, calibrated ``ain`` in :mod:`imc_moo.workloads.calibration`.

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

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from imc_moo.files import file_digest
from imc_moo.version import __version__
from imc_moo.workloads.activity import QUANT_BINS, aw_from_weights
from imc_moo.workloads.calibration import calibrate
from imc_moo.workloads.network import DEFAULT_AIN, DEFAULT_AW, WorkloadError, display_path, network_from_layers
from imc_moo.workloads.onnx_layers import ATTENTION_CONVENTIONS, GraphLayers
from imc_moo.workloads.onnx_model import fix_input_shapes, infer_shapes, read_model
from imc_moo.workloads.result import ImportResult, default_name


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
    model = read_model(path, file)
    fixed_model, fixed = fix_input_shapes(model, file, input_shapes)
    inferred = infer_shapes(fixed_model, file)
    graph = GraphLayers(inferred, file, attention)
    graph.run()
    if not graph.layers:
        ops = ", ".join(f"{k} {v}" for k, v in graph.skipped.most_common()) or "none"
        raise WorkloadError(f"{file}: no Conv, Gemm or MatMul layers found (ops: {ops}) — a network needs at least"
                            " one layer with weights")
    net_name = name or default_name(path)
    ain_src = f"default {DEFAULT_AIN} (imc_moo.workloads.DEFAULT_AIN): no calibration inputs"
    aw_src = (f"from each layer's weight values: symmetric {n_bins}-bin histogram over [-max|w|, max|w|]"
              f"{' (8-bit quantisation)' if n_bins == QUANT_BINS else ''}, offset encoding, 8-bit operands sliced"
              " into bits-per-cell slices (docs/model/cost-model.md, Activity factors)")
    ain_by: dict[str, float] = {}
    aw_by: dict[str, np.ndarray] = {}
    if inputs is not None:
        ain_by, aw_by, n_samples = calibrate(inferred, file, Path(inputs).expanduser(), fixed,
                                             [layer.input_name for layer in graph.layers],
                                             [layer.operand_name for layer in graph.layers], n_bins)
        ain_src = (f"from the layers' input activations on {n_samples} calibration sample(s) of"
                   f" {Path(inputs).name} (onnxruntime), symmetric {n_bins}-bin histograms, one 8-bit slice")
    has_attention = any(layer.weights is None for layer in graph.layers)
    if has_attention:
        aw_src += ("; attention layers: from their second operand's activations on the calibration samples"
                   if aw_by else f"; attention layers (activation operands): default {list(DEFAULT_AW)}")
    layers = []
    for layer in graph.layers:
        fields = dict(layer.fields)
        fields["ain"] = float(ain_by.get(layer.input_name, DEFAULT_AIN))
        if layer.weights is not None and not np.isfinite(layer.weights).all():
            bad = int((~np.isfinite(layer.weights)).sum())
            raise WorkloadError(f"{file}: layer {fields.get('name', '?')!r}: {bad:,} of its {layer.weights.size:,}"
                                " weights are NaN or infinite — export the model's trained weights again (such a"
                                " layer has no activity factors, and a chip could not compute it)")
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
              # the importer's name as it was before the split, so the written files stay byte-identical
              "attention": attention, "importer": f"imc-moo {__version__} imc_moo.onnx_import"}
    return ImportResult(network, layers, dict(graph.skipped.most_common()), dict(graph.folded.most_common()),
                        source, {"ain": ain_src, "aw": aw_src}, unused=dict(graph.unused.most_common()))
