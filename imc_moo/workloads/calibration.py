"""Activity factors from activations: ``ain`` (and attention layers' ``aw``) measured by running the model with
onnxruntime (optional: ``pip install 'imc-moo[onnx-runtime]'``) on calibration inputs.

The inputs are an ``.npz`` of arrays named by the graph inputs (one sample, or several stacked on axis 0). Every
tensor a layer reads is histogrammed over all samples (symmetric bins over [-max|v|, max|v|], the recipe of
:mod:`imc_moo.workloads.activity`): ``ain`` is one 8-bit input slice, ``aw`` (1..8 bits per cell) of an attention
layer's stationary operand comes from that operand's values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from imc_moo.workloads.activity import AW_MATRIX, OPERAND_BITS, bit_means, slice_weights, symmetric_histogram
from imc_moo.workloads.network import DEFAULT_AIN, WorkloadError, display_path
from imc_moo.workloads.onnx_model import copy_model, first_line, onnx_package
from imc_moo.workloads.result import shape_text


def _load_npz(path: Path, input_names: Sequence[str]) -> dict[str, np.ndarray]:
    """The calibration arrays by graph input name (a single array for a single input, whatever its name)."""
    file = display_path(path)
    if not path.is_file():
        raise WorkloadError(f"{file}: calibration inputs not found — check the --inputs path (an .npz of arrays"
                            " named by the model's inputs)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise WorkloadError(f"{file}: cannot read the calibration inputs: {first_line(exc)} — write them with"
                            " numpy.savez(path, input=array, ...)") from None
    if len(input_names) == 1 and len(arrays) == 1:
        return {input_names[0]: next(iter(arrays.values()))}
    missing = [n for n in input_names if n not in arrays]
    if missing:
        raise WorkloadError(f"{file}: no array for the model input {missing[0]!r} (arrays: {', '.join(arrays)})"
                            f" — name the arrays by the inputs: {', '.join(input_names)}")
    return {n: arrays[n] for n in input_names}


def calibrate(model, file: str, npz: Path, fixed: dict[str, tuple[int, ...]], layer_inputs: Iterable[str],
              operands: Iterable[str | None], n_bins: int) -> tuple[dict[str, float], dict[str, np.ndarray], int]:
    """Run onnxruntime on the calibration inputs ``npz`` (``fixed``: graph input -> shape); per tensor name the ain
    (8-bit input slice) of ``layer_inputs`` and the aw (8,) of the attention ``operands`` (None entries ignored).
    Returns (ain by tensor, aw by tensor, number of samples)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise WorkloadError(f"{display_path(npz)}: calibration inputs need onnxruntime, which is not installed —"
                            " pip install 'imc-moo[onnx-runtime]' (or onnxruntime), or drop --inputs to use the"
                            f" default ain = {DEFAULT_AIN}") from None
    onnx = onnx_package()
    arrays = _load_npz(npz, list(fixed))
    need_in = sorted(set(layer_inputs))
    need_op = sorted({name for name in operands if name})
    names = [n for n in dict.fromkeys(need_in + need_op) if n not in fixed]
    run_model = copy_model(model)
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
        raise WorkloadError(f"{file}: onnxruntime cannot load the model: {first_line(exc)} — check the model"
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
                                f" {shape_text(shape)} — give arrays of that shape, or stacked on axis 0")
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
                                f" {first_line(exc)} — give arrays of the input shapes"
                                f" ({', '.join(f'{k}={shape_text(v)}' for k, v in fixed.items())})") from None
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
    ain = {name: float(bits[name] @ slice_weights(OPERAND_BITS)) for name in need_in}
    aw = {name: bits[name] @ AW_MATRIX for name in need_op}
    return ain, aw, int(n_samples or 0)
