"""Tests of the network importers: ONNX models (imc_moo.workloads.onnx_convert), CSV layer tables
(imc_moo.workloads.layer_table), the activity-factor recipe (imc_moo.workloads.activity), the format dispatch
(imc_moo.workloads.importing), .onnx/.csv workload entries, the written file (imc_moo.workloads.writer) and the
imc-moo-import command (imc_moo.workloads.cli)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from imc_moo.workloads import (
    DEFAULT_AIN,
    DEFAULT_AW,
    NETWORK_KEYS,
    WorkloadError,
    load_network,
    load_workloads,
    resolve_workloads,
)
from imc_moo.workloads.activity import (
    ain_from_histograms,
    aw_from_histograms,
    aw_from_weights,
    slice_weights,
    symmetric_histogram,
)
from imc_moo.workloads.cli import main
from imc_moo.workloads.importing import IMPORT_SUFFIXES, import_file
from imc_moo.workloads.layer_table import load_layer_table, read_layer_table
from imc_moo.workloads.onnx_convert import import_onnx
from imc_moo.workloads.onnx_model import parse_input_shapes
from imc_moo.workloads.result import ImportResult
from imc_moo.workloads.writer import network_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
SQUEEZENET = SHARED / "models" / "squeezenet1_1.onnx"
REFERENCE_DIR = SHARED / "reference"
RNG = np.random.default_rng(0)


# ----------------------------------------------------------------------------------------------------------------
# Building small models


def _init(name: str, shape, rng=RNG) -> TensorProto:
    return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)


def _value(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _model(nodes, inputs, outputs, inits=(), opset: int = 17) -> onnx.ModelProto:
    """A model of ``nodes``; outputs given without a shape (None) get the inferred one (the checker wants one)."""
    graph = helper.make_graph(nodes, "g", [_value(n, s) for n, s in inputs], [_value(n, s) for n, s in outputs],
                              list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(model)
    for out, inf in zip(model.graph.output, inferred.graph.output):
        if not out.type.tensor_type.HasField("shape"):
            out.CopyFrom(inf)
    return model


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def _conv_model(x_shape, w_shape, out_shape=None, **attrs) -> onnx.ModelProto:
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)
    relu = helper.make_node("Relu", ["y"], ["z"], name="relu")
    return _model([node, relu], [("x", x_shape)], [("z", out_shape)], [_init("w", w_shape)])


def _one(path: Path, **kwargs) -> dict:
    result = import_onnx(path, **kwargs)
    assert result.network.n_layers == 1
    return result.layers[0]


def _reference_output_shape(model: onnx.ModelProto, x_shape) -> tuple[int, ...]:
    """Output shape of the graph's first node run by onnx's reference evaluator (ground truth for conv sizes)."""
    from onnx.reference import ReferenceEvaluator

    node = model.graph.node[0]
    sess = ReferenceEvaluator(model)
    (y,) = sess.run([node.output[0]], {"x": np.zeros(x_shape, np.float32)})
    return y.shape


# ----------------------------------------------------------------------------------------------------------------
# SqueezeNet 1.1 against torchvision's figures (shared/models/README.md)


@pytest.fixture(scope="module")
def squeezenet():
    if not SQUEEZENET.is_file():
        pytest.skip(f"{SQUEEZENET} not present")
    return import_onnx(SQUEEZENET)


def test_squeezenet_matches_torchvision(squeezenet):
    net = squeezenet.network
    assert net.n_layers == 26 and squeezenet.layer_ops() == {"Conv": 26}
    assert net.total_weights == 1_231_552
    assert net.total_macs == 349_151_936
    assert not net.depthwise.any() and not net.einsum.any()
    assert (net.ain == DEFAULT_AIN).all()
    assert ((net.aw > 0.2) & (net.aw < 0.6)).all()
    assert squeezenet.skipped == {"Relu": 26, "Concat": 8, "MaxPool": 3, "GlobalAveragePool": 1, "Flatten": 1}
    assert squeezenet.source["input_shapes"] == {"input": [1, 3, 224, 224]}
    assert net.shape_array()[0].tolist() == [3, 64, 3, 3, 111, 111, 1]  # stem: 3x3 stride 2, no padding
    assert squeezenet.layers[-1]["M"] == 1000  # the classifier is a 1x1 conv


# ----------------------------------------------------------------------------------------------------------------
# Conv variants


def test_plain_conv(tmp_path):
    path = _save(_conv_model((1, 3, 32, 32), (8, 3, 3, 3), pads=[1, 1, 1, 1]), tmp_path / "c.onnx")
    layer = _one(path)
    assert {k: layer[k] for k in "CMRSPQG"} == dict(C=3, M=8, R=3, S=3, P=32, Q=32, G=1)
    assert layer["stride"] == [1, 1] and not layer["depthwise"] and not layer["einsum"]


def test_depthwise_conv_uses_the_library_convention(tmp_path):
    model = _conv_model((1, 16, 15, 15), (16, 1, 3, 3), group=16, strides=[2, 2], pads=[1, 1, 1, 1])
    result = import_onnx(_save(model, tmp_path / "dw.onnx"))
    layer = result.layers[0]
    assert {k: layer[k] for k in "CMRSPQG"} == dict(C=1, M=1, R=3, S=3, P=8, Q=8, G=16)
    assert layer["depthwise"] and layer["stride"] == [2, 2]
    assert result.network.total_weights == 16 * 9 and result.network.total_macs == 16 * 9 * 64


def test_grouped_conv_has_channels_per_group(tmp_path):
    model = _conv_model((1, 8, 10, 10), (16, 2, 3, 3), group=4)
    result = import_onnx(_save(model, tmp_path / "grouped.onnx"))
    layer = result.layers[0]
    assert {k: layer[k] for k in "CMRSPQG"} == dict(C=2, M=4, R=3, S=3, P=8, Q=8, G=4)
    assert not layer["depthwise"]
    assert result.network.total_weights == 16 * 2 * 9  # the weight tensor's size
    assert result.network.total_macs == 16 * 2 * 9 * 64  # Cout * Cin/g * k*k * output pixels


def test_depthwise_with_channel_multiplier_is_grouped(tmp_path):
    model = _conv_model((1, 4, 6, 6), (8, 1, 3, 3), group=4, pads=[1, 1, 1, 1])
    layer = _one(_save(model, tmp_path / "mult.onnx"))
    assert {k: layer[k] for k in "CMG"} == dict(C=1, M=2, G=4) and not layer["depthwise"]


@pytest.mark.parametrize(
    "x_shape, w_shape, attrs",
    [
        ((1, 3, 15, 17), (4, 3, 3, 3), dict(strides=[2, 3])),
        ((1, 3, 15, 17), (4, 3, 3, 3), dict(dilations=[2, 3], pads=[2, 3, 2, 3])),
        ((1, 3, 15, 17), (4, 3, 5, 3), dict(pads=[0, 1, 2, 3], strides=[2, 2])),
        ((1, 3, 15, 17), (4, 3, 3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2])),
        ((1, 3, 15, 17), (4, 3, 4, 4), dict(auto_pad="SAME_LOWER", strides=[3, 2])),
        ((1, 3, 15, 17), (4, 3, 3, 3), dict(auto_pad="VALID", dilations=[2, 2], strides=[2, 1])),
        ((2, 3, 20), (4, 3, 5), dict(strides=[2], pads=[1, 1])),
    ],
    ids=["strided", "dilated", "asym-pads", "same-upper", "same-lower", "valid-dilated", "conv1d-batch2"],
)
def test_conv_output_size_matches_onnx_reference(tmp_path, x_shape, w_shape, attrs):
    model = _conv_model(x_shape, w_shape, **attrs)
    y = _reference_output_shape(model, x_shape)
    layer = _one(_save(model, tmp_path / "c.onnx"))
    if len(x_shape) == 3:  # conv1d: R = k, P = N * Lout
        assert (layer["R"], layer["S"], layer["P"], layer["Q"]) == (w_shape[2], 1, y[0] * y[2], 1)
    else:
        assert (layer["R"], layer["S"], layer["P"], layer["Q"]) == (w_shape[2], w_shape[3], y[0] * y[2], y[3])
    macs = int(np.prod(w_shape)) * int(np.prod(y)) // w_shape[0]  # weights x output positions
    assert layer["C"] * layer["M"] * layer["R"] * layer["S"] * layer["P"] * layer["Q"] * layer["G"] == macs
    assert layer["stride"] == list(attrs.get("strides", [1, 1]))[-2:] + ([1] if len(x_shape) == 3 else [])


# ----------------------------------------------------------------------------------------------------------------
# Gemm, MatMul with a constant, attention


def test_gemm_with_transposed_weights_and_bias(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc", transB=1)]
    model = _model(nodes, [("x", (4, 64))], [("y", (4, 32))], [_init("w", (32, 64)), _init("b", (32,))])
    result = import_onnx(_save(model, tmp_path / "fc.onnx"))
    layer = result.layers[0]
    assert {k: layer[k] for k in "CMRSPQG"} == dict(C=64, M=32, R=1, S=1, P=4, Q=1, G=1)
    assert result.network.total_weights == 64 * 32  # bias not counted, as in torchvision's weight counts
    assert np.allclose(layer["aw"], aw_from_weights(numpy_helper.to_array(model.graph.initializer[0])))


def test_matmul_with_constant_through_transpose_and_constant_node(tmp_path):
    w = RNG.normal(size=(128, 64)).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["w_stored"], value=numpy_helper.from_array(w)),
        helper.make_node("Transpose", ["w_stored"], ["w_t"], perm=[1, 0]),
        helper.make_node("Identity", ["w_t"], ["w_id"]),
        helper.make_node("MatMul", ["x", "w_id"], ["h"], name="proj"),
        helper.make_node("Softmax", ["h"], ["y"], axis=-1),
    ]
    model = _model(nodes, [("x", (1, 10, 64))], [("y", (1, 10, 128))])
    result = import_onnx(_save(model, tmp_path / "mm.onnx"))
    layer = result.layers[0]
    assert {k: layer[k] for k in "CMRSPQG"} == dict(C=64, M=128, R=1, S=1, P=10, Q=1, G=1)
    assert not layer["einsum"]
    assert result.folded == {"Constant": 1, "Transpose": 1, "Identity": 1}
    assert result.skipped == {"Softmax": 1}
    assert np.allclose(layer["aw"], aw_from_weights(w))


def test_matmul_with_constant_first_operand(tmp_path):
    nodes = [helper.make_node("MatMul", ["w", "x"], ["y"], name="wx")]
    model = _model(nodes, [("x", (64, 5))], [("y", (32, 5))], [_init("w", (32, 64))])
    layer = _one(_save(model, tmp_path / "wx.onnx"))
    assert {k: layer[k] for k in "CMPG"} == dict(C=64, M=32, P=5, G=1)


def _attention_model():
    q = helper.make_node("Transpose", ["q_in"], ["k_t"], perm=[0, 1, 3, 2])
    scores = helper.make_node("MatMul", ["q_in", "k_t"], ["s"], name="qk")
    return _model([q, scores], [("q_in", (2, 4, 10, 16))], [("s", (2, 4, 10, 10))])


def test_attention_matmul_full_cost(tmp_path):
    result = import_onnx(_save(_attention_model(), tmp_path / "att.onnx"))
    layer = result.layers[0]
    # Q (2, 4, 10, 16) @ K^T (2, 4, 16, 10): C = head size (reduction), M = keys, P = queries, G = batch x heads
    assert {k: layer[k] for k in "CMRSPQG"} == dict(C=16, M=10, R=1, S=1, P=10, Q=1, G=8)
    assert layer["einsum"] and layer["aw"] == list(DEFAULT_AW)
    assert result.network.total_macs == 2 * 4 * 10 * 10 * 16
    assert result.network.total_weights == 2 * 4 * 16 * 10  # the stationary operand K^T
    assert result.layer_ops() == {"MatMul (attention)": 1}


def test_attention_matmul_simulator_convention(tmp_path):
    layer = _one(_save(_attention_model(), tmp_path / "att.onnx"), attention="simulator")
    # as the packaged ViT files: C x M = the first operand's matrix (queries x head size), P = batch x heads
    assert {k: layer[k] for k in "CMPQG"} == dict(C=10, M=16, P=8, Q=1, G=1)


def _transformer_model(S=16, D=32, H=4, F=64):
    """One encoder block: Gemm Q/K/V projections (x as (S, D)), per-head attention MatMuls, MatMul out-projection
    and MLP with initializers. Returns the model and hand counts (weights of constants, attention operands, MACs)."""
    dh = D // H
    rng = np.random.default_rng(1)
    inits = [_init(n, s, rng) for n, s in [("wq", (D, D)), ("wk", (D, D)), ("wv", (D, D)), ("bq", (D,)),
                                           ("wo", (D, D)), ("w1", (D, F)), ("w2", (F, D))]]
    inits += [numpy_helper.from_array(np.array(s, np.int64), n) for n, s in
              [("s2d", (S, D)), ("heads", (1, S, H, dh)), ("s3d", (1, S, D))]]
    n = helper.make_node
    nodes = [
        n("Reshape", ["x", "s2d"], ["x2"]),
        n("Gemm", ["x2", "wq", "bq"], ["q2"], name="q_proj"),
        n("Gemm", ["x2", "wk"], ["k2"], name="k_proj"),
        n("Gemm", ["x2", "wv"], ["v2"], name="v_proj"),
        n("Reshape", ["q2", "heads"], ["q4"]), n("Transpose", ["q4"], ["q"], perm=[0, 2, 1, 3]),
        n("Reshape", ["k2", "heads"], ["k4"]), n("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]),
        n("Reshape", ["v2", "heads"], ["v4"]), n("Transpose", ["v4"], ["v"], perm=[0, 2, 1, 3]),
        n("MatMul", ["q", "kt"], ["scores"], name="qk"),
        n("Softmax", ["scores"], ["p"], axis=-1),
        n("MatMul", ["p", "v"], ["ctx4"], name="pv"),
        n("Transpose", ["ctx4"], ["ctx_t"], perm=[0, 2, 1, 3]), n("Reshape", ["ctx_t", "s3d"], ["ctx"]),
        n("MatMul", ["ctx", "wo"], ["o"], name="out_proj"),
        n("Add", ["o", "x"], ["r"]),
        n("MatMul", ["r", "w1"], ["h"], name="fc1"), n("Relu", ["h"], ["a"]),
        n("MatMul", ["a", "w2"], ["y"], name="fc2"),
    ]
    model = _model(nodes, [("x", (1, S, D))], [("y", (1, S, D))], inits)
    const_weights = 4 * D * D + 2 * D * F
    operands = 2 * H * dh * S  # K^T and V
    macs = S * (4 * D * D + 2 * D * F) + 2 * H * S * S * dh
    return model, const_weights, operands, macs


def test_small_transformer_weights_and_macs_match_hand_counts(tmp_path):
    model, const_weights, operands, macs = _transformer_model()
    result = import_onnx(_save(model, tmp_path / "block.onnx"))
    net = result.network
    names = [layer["name"] for layer in result.layers]
    assert names == ["q_proj", "k_proj", "v_proj", "qk", "pv", "out_proj", "fc1", "fc2"]
    assert net.einsum.tolist() == [False] * 3 + [True] * 2 + [False] * 3
    assert int(net.weights[~net.einsum].sum()) == pytest.approx(const_weights, rel=0.005)
    assert net.total_weights == pytest.approx(const_weights + operands, rel=0.005)
    assert net.total_macs == pytest.approx(macs, rel=0.005)
    assert net.shape_array()[3].tolist() == [8, 16, 1, 1, 16, 1, 4]  # QK^T: C = dh, M = P = S, G = H
    assert net.shape_array()[4].tolist() == [16, 8, 1, 1, 16, 1, 4]  # attn x V: C = S, M = dh
    assert result.skipped == {"Reshape": 5, "Transpose": 4, "Softmax": 1, "Add": 1, "Relu": 1}


def test_transformer_calibration_gives_measured_activity(tmp_path):
    pytest.importorskip("onnxruntime")
    model, *_ = _transformer_model()
    path = _save(model, tmp_path / "block.onnx")
    np.savez(tmp_path / "calib.npz", x=RNG.normal(size=(3, 16, 32)).astype(np.float32))  # 3 samples on axis 0
    result = import_onnx(path, inputs=tmp_path / "calib.npz")
    net = result.network
    assert ((net.ain > 0) & (net.ain < 1)).all() and not np.allclose(net.ain, DEFAULT_AIN)
    assert net.ain[7] >= 0.49  # fc2 reads ReLU outputs: non-negative values sit in the upper half of the code
    assert not np.allclose(net.aw[3], DEFAULT_AW)  # attention aw from the K^T activations
    assert "3 calibration sample(s)" in result.activity["ain"]
    assert net.ain[0] == net.ain[1] == net.ain[2]  # the three projections read the same tensor


def test_calibration_through_the_command(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    path = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "small.onnx")
    np.savez(tmp_path / "calib.npz", RNG.normal(size=(2, 3, 8, 8)).astype(np.float32))  # one unnamed array
    assert main([str(path), "--inputs", str(tmp_path / "calib.npz"), "-o", str(tmp_path)]) == 0
    assert "ain: from the layers' input activations on 2 calibration sample(s)" in capsys.readouterr().out
    assert "calibration sample(s) of calib.npz" in (tmp_path / "small.yaml").read_text()
    assert load_network(tmp_path / "small.yaml").ain[0] != DEFAULT_AIN


@pytest.mark.parametrize("arrays, expected", [
    ({"x": np.zeros((1, 3, 9, 9), np.float32)}, r"array 'x' has shape \(1, 3, 9, 9\), the input is 1x3x8x8"),
    ({"a": np.zeros((1, 3, 8, 8)), "b": np.zeros((1, 3, 8, 8))}, r"no array for the model input 'x'"),
])
def test_bad_calibration_inputs(tmp_path, arrays, expected):
    pytest.importorskip("onnxruntime")
    path = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "small.onnx")
    np.savez(tmp_path / "calib.npz", **arrays)
    with pytest.raises(WorkloadError, match=expected) as info:
        import_onnx(path, inputs=tmp_path / "calib.npz")
    assert "calib.npz" in str(info.value) and "\n" not in str(info.value)


# ----------------------------------------------------------------------------------------------------------------
# Dynamic shapes and bad files


def _dynamic_model():
    return _conv_model(("batch", 3, 8, 8), (4, 3, 3, 3), ("batch", 4, 6, 6))


def test_dynamic_batch_needs_input_shape(tmp_path):
    path = _save(_dynamic_model(), tmp_path / "dyn.onnx")
    with pytest.raises(WorkloadError) as info:
        import_onnx(path)
    msg = str(info.value)
    assert "dyn.onnx" in msg and "dynamic dimensions" in msg and "--input-shape x=1x3x8x8" in msg
    assert "\n" not in msg
    layer = _one(path, input_shapes={"x": (2, 3, 8, 8)})
    assert layer["P"] == 2 * 6 and layer["Q"] == 6
    assert _one(path, input_shapes=parse_input_shapes(["1x3x8x8"]))["P"] == 6  # a bare shape: the only input
    with pytest.raises(WorkloadError, match="not a graph input"):
        import_onnx(path, input_shapes={"y": (1, 3, 8, 8)})
    with pytest.raises(WorkloadError, match="contradicts the model's fixed shape"):
        import_onnx(path, input_shapes={"x": (1, 4, 8, 8)})
    with pytest.raises(WorkloadError, match="dynamic dimensions"):  # as a workload entry it cannot be given one
        load_network(path)


@pytest.mark.parametrize("content, expected", [
    (None, "truncated or not"),
    (b"name,op,C\nthis is not a model\n", "truncated or not"),
    (b"", "empty file"),
], ids=["truncated", "text", "empty"])
def test_bad_onnx_files_are_one_line_errors(tmp_path, content, expected):
    path = tmp_path / "bad.onnx"
    if content is None:
        content = _conv_model((1, 3, 8, 8), (4, 3, 3, 3)).SerializeToString()
        content = content[: len(content) // 2]
    path.write_bytes(content)
    with pytest.raises(WorkloadError, match=expected) as info:
        import_onnx(path)
    msg = str(info.value)
    assert "bad.onnx" in msg and "\n" not in msg and " — " in msg


def test_unsupported_op_with_weights_names_the_node(tmp_path):
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up1")]
    model = _model(nodes, [("x", (1, 4, 8, 8))], [("y", None)], [_init("w", (4, 2, 3, 3))])
    with pytest.raises(WorkloadError, match=r"node 'up1' \(ConvTranspose\).*— replace it") as info:
        import_onnx(_save(model, tmp_path / "up.onnx"))
    assert "up.onnx" in str(info.value) and "\n" not in str(info.value)


def test_unknown_opset_is_an_error(tmp_path):
    model = _conv_model((1, 3, 8, 8), (4, 3, 3, 3))
    model.opset_import[0].version = 99
    with pytest.raises(WorkloadError, match=r"opset 99, newer than the installed onnx.*— upgrade onnx"):
        import_onnx(_save(model, tmp_path / "future.onnx"))


def test_custom_domain_op_fed_by_weights_is_an_error(tmp_path):
    node = helper.make_node("FusedConv", ["x", "w"], ["y"], name="fused", domain="com.example")
    graph = helper.make_graph([node], "g", [_value("x", (1, 3, 8, 8))], [_value("y", (1, 4, 6, 6))],
                              [_init("w", (4, 3, 3, 3))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.example", 1)])
    with pytest.raises(WorkloadError, match=r"'fused'.*com\.example\.FusedConv.*weight tensor 'w'"):
        import_onnx(_save(model, tmp_path / "custom.onnx"))


def test_model_without_layers_is_an_error(tmp_path):
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", (1, 4))], [("y", (1, 4))])
    with pytest.raises(WorkloadError, match=r"no Conv, Gemm or MatMul layers found \(ops: Relu 1\)"):
        import_onnx(_save(model, tmp_path / "relu.onnx"))


# ----------------------------------------------------------------------------------------------------------------
# Activity factors against the reference


def _reference_tables():
    pd = pytest.importorskip("pandas")
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"reference data not present at {REFERENCE_DIR}")
    hist = pd.read_csv(REFERENCE_DIR / "layer_histograms.csv")
    act = pd.read_csv(REFERENCE_DIR / "cost_model_layer_activity.csv")
    return hist, act


def _hist_matrix(bins):
    return np.array([np.array(s.split(), dtype=float) for s in bins])


def test_aw_recipe_reproduces_the_reference_factors():
    hist, act = _reference_tables()
    weights = hist[hist.operand == "Weights"].merge(act, on=["network", "layer_index", "layer_file"])
    assert len(weights) == len(act) == 1396 and set(weights.n_bins) == {31, 63}
    cols = [f"avg_weight_value_bpc{b}" for b in range(1, 9)]
    err = 0.0
    for _, group in weights.groupby("n_bins"):  # one matrix per histogram size
        err = max(err, float(np.abs(aw_from_histograms(_hist_matrix(group.bins)) - group[cols].to_numpy()).max()))
    assert err <= 5.01e-7  # the CSV's 6 decimals


def test_ain_recipe_reproduces_the_reference_factors():
    hist, act = _reference_tables()
    inputs = hist[hist.operand == "Inputs"].merge(act, on=["network", "layer_index", "layer_file"])
    for _, group in inputs.groupby("n_bins"):
        got = ain_from_histograms(_hist_matrix(group.bins))
        assert np.abs(got - group["avg_input_value"].to_numpy()).max() <= 5.01e-7


def test_aw_recipe_matches_the_packaged_network_files():
    hist, _ = _reference_tables()
    net = load_network("resnet18")
    w = hist[(hist.network == "resnet18") & (hist.operand == "Weights")].sort_values("layer_index")
    assert np.abs(aw_from_histograms(_hist_matrix(w.bins)) - net.aw).max() < 5e-6  # files keep 6 digits


def _recipe_by_loops(p: np.ndarray, bits_per_slice: int) -> float:
    """COST_MODEL.md §2.2 spelled out bin by bin and bit by bit (the vectorised code must agree)."""
    n = len(p)
    k = int(np.log2(n + 1))
    b = bits_per_slice
    slices = [(s, min(b, 8 - s)) for s in range(0, 8, b)]
    full = 2**b - 1
    total = 0.0
    for start, width in slices:
        value = 0.0
        for i, pi in enumerate(p / p.sum()):
            code = [(i >> (k - 1 - t)) & 1 for t in range(k)] + [0.5] * (8 - k)
            value += pi * sum(code[start + j] * 2 ** (width - j - 1) / full for j in range(width))
        total += value
    return total / len(slices)


def test_activity_recipe_properties():
    rng = np.random.default_rng(3)
    for n_bins in (7, 31, 255):
        p = rng.random(n_bins)
        aw = aw_from_histograms(p[None, :])[0]
        assert np.allclose(aw, [_recipe_by_loops(p, b) for b in range(1, 9)], atol=1e-12)
        assert ain_from_histograms(p[None, :])[0] == pytest.approx(_recipe_by_loops(p, 8), abs=1e-12)
    assert slice_weights(8).sum() == pytest.approx(1.0)
    # symmetric binning: zero in the centre bin, the extremes in the end bins
    h = symmetric_histogram(np.array([-2.0, 0.0, 0.0, 2.0]), 31)
    assert h[15] == 0.5 and h[0] == 0.25 and h[30] == 0.25
    # Gaussian weights land near the library defaults (which are typical trained-layer values)
    assert np.abs(aw_from_weights(RNG.normal(size=50_000)) - np.array(DEFAULT_AW)).max() < 0.03
    with pytest.raises(ValueError, match="2\\^k - 1 bins"):
        symmetric_histogram(np.zeros(3), 32)


# ----------------------------------------------------------------------------------------------------------------
# CSV layer tables

TABLE = """\
# a comment line
name,op,C,M,R,S,P,Q,G,stride,ain,aw1,aw2,aw3,aw4,aw5,aw6,aw7,aw8,depthwise
conv1,Conv,3,16,3,3,16,16,,2x2,,,,,,,,,,
dw,Conv,1,1,3,3,16,16,16,1,0.6,0.5,0.5,0.4,0.49,0.3,0.25,0.24,0.48,true
fc,Linear,16,10,1,1,1,1,1,,,,,,,,,,,
"""


def test_layer_table_loads_with_defaults(tmp_path):
    (tmp_path / "tiny_table.csv").write_text(TABLE)
    net = read_layer_table(tmp_path / "tiny_table.csv")
    assert net.name == "tiny_table" and net.layer_names == ("conv1", "dw", "fc")
    assert net.shape_array().tolist() == [[3, 16, 3, 3, 16, 16, 1], [1, 1, 3, 3, 16, 16, 16], [16, 10, 1, 1, 1, 1, 1]]
    assert net.depthwise.tolist() == [False, True, False]
    assert net.ain.tolist() == [DEFAULT_AIN, 0.6, DEFAULT_AIN]
    assert net.aw[0].tolist() == list(DEFAULT_AW) and net.aw[1].tolist() == [0.5, 0.5, 0.4, 0.49, 0.3, 0.25, 0.24, 0.48]


def test_layer_table_round_trip(tmp_path):
    """A packaged network written as a table loads back identical; the command turns the table into a YAML file
    that loads identical too."""
    net = load_network("mobilenet_v3")
    header = "name,op,C,M,R,S,P,Q,G,stride,ain," + ",".join(f"aw{b}" for b in range(1, 9)) + ",depthwise,einsum"
    rows = [header]
    for i, name in enumerate(net.layer_names):
        dims = ",".join(str(int(getattr(net, f)[i])) for f in "CMRSPQG")
        aw = ",".join(repr(float(v)) for v in net.aw[i])
        rows.append(f"{name},Conv2d,{dims},1x1,{float(net.ain[i])!r},{aw},{bool(net.depthwise[i])},"
                    f"{bool(net.einsum[i])}")
    table = tmp_path / "mnv3_table.csv"
    table.write_text("\n".join(rows) + "\n")
    back = load_network(table)  # as a workload entry
    for field in ("C", "M", "R", "S", "P", "Q", "G", "ain", "aw", "depthwise", "einsum"):
        assert np.array_equal(getattr(back, field), getattr(net, field)), field
    assert back.layer_names == net.layer_names and back.name == "mnv3_table"
    assert main([str(table), "-o", str(tmp_path / "out")]) == 0
    written = load_network(tmp_path / "out" / "mnv3_table.yaml")
    assert np.array_equal(written.shape_array(), net.shape_array()) and np.allclose(written.aw, net.aw, atol=1e-6)
    assert written.layer_names == net.layer_names


@pytest.mark.parametrize("table, expected", [
    ("C,M,R,S,P\n3,8,3,3,4\n", r"line 1: missing column 'Q'"),
    ("C,M,R,S,P,Q,K\n3,8,3,3,4,4,1\n", r"line 1: unknown column 'K'"),
    ("C,M,R,S,P,Q\n3,8,3,3,4,4\n3,x,3,3,4,4\n", r"row 3, column 'M': 'x' is not a number"),
    ("C,M,R,S,P,Q\n3,8,3,3,4,4\n3,0,3,3,4,4\n", r"row 3: layer 1 \('1'\): field 'M' must be a positive integer"),
    ("C,M,R,S,P,Q\n3,8.5,3,3,4,4\n", r"row 2: layer 0.*field 'M' must be a positive integer, got 8\.5"),
    ("C,M,R,S,P,Q,aw1,aw2\n3,8,3,3,4,4,0.5,\n", r"row 2, column 'aw2': empty while other aw columns are set"),
    ("C,M,R,S,P,Q,stride\n3,8,3,3,4,4,2x2x2\n", r"row 2, column 'stride'"),
    ("C,M,R,S,P,Q,ain\n3,8,3,3,4,4,1.5\n", r"row 2: layer 0.*field 'ain' must be a number in \[0, 1\]"),
    ("C,M,R,S,P,Q\n3,8,3,3,4\n", r"row 2: 5 cells, the header has 6"),
    ("C,M,R,S,P,Q,depthwise\n3,8,3,3,4,4,true\n", r"row 2: layer 0.*depthwise layer has C=3, M=8"),
    ("C,M,R,S,P,Q\n", r"no layer rows"),
    ("# nothing\n", r"empty layer table"),
], ids=["missing-col", "unknown-col", "not-number", "zero", "fraction", "partial-aw", "stride", "ain-range",
        "cells", "depthwise", "no-rows", "empty"])
def test_malformed_layer_table_rejected(tmp_path, table, expected):
    path = tmp_path / "bad_table.csv"
    path.write_text(table)
    with pytest.raises(WorkloadError, match=expected) as info:
        load_layer_table(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) or "bad_table.csv" in msg
    assert "\n" not in msg and " — " in msg


# ----------------------------------------------------------------------------------------------------------------
# Workload entries and the Problem


def test_onnx_and_csv_paths_are_workload_entries(tmp_path):
    path = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "tiny_onnx.onnx")
    (tmp_path / "tiny_table.csv").write_text(TABLE)
    entries = resolve_workloads([str(path), "resnet18", str(tmp_path / "tiny_table.csv")])
    nets = load_workloads(entries)
    assert [n.name for n in nets] == ["tiny_onnx", "resnet18", "tiny_table"]
    # cached by content: the same bytes under another directory are not converted again
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copy(path, other / "tiny_onnx.onnx")
    assert load_network(other / "tiny_onnx.onnx") is nets[0] is load_network(path)
    # a changed file is converted again
    _save(_conv_model((1, 3, 8, 8), (6, 3, 3, 3)), path)
    assert load_network(path).M.tolist() == [6]
    with pytest.raises(WorkloadError, match="network file not found"):
        load_network(tmp_path / "missing.onnx")


def test_problem_evaluates_an_onnx_workload(tmp_path):
    from imc_moo.problem import WorkloadSetProblem

    path = _save(_conv_model((1, 3, 32, 32), (16, 3, 3, 3), pads=[1, 1, 1, 1]), tmp_path / "my_cnn.onnx")
    problem = WorkloadSetProblem([str(path), "resnet18"], "rram", "edap")
    assert problem.workloads == ["my_cnn", "resnet18"]
    genomes = problem.space.sample(8, np.random.default_rng(0))
    out = problem.evaluate(genomes, return_values_of=["F", "G"])
    assert out[0].shape == (8, 1) and np.isfinite(out[0]).all() and np.isfinite(out[1]).all()
    mixed = WorkloadSetProblem([load_network(path), "resnet18"], "rram", "edap")  # Network objects and names
    assert mixed.workloads == ["my_cnn", "resnet18"]


def test_evaluate_takes_paths_and_network_objects(tmp_path):
    """imc_moo.evaluate on a model path, on its Network and on a list mixing both kinds with a library name gives
    the same numbers; a name clash between two different networks is one line."""
    import pandas as pd

    from imc_moo import evaluate, evaluate_layers

    path = _save(_conv_model((1, 3, 32, 32), (16, 3, 3, 3), pads=[1, 1, 1, 1]), tmp_path / "my_cnn.onnx")
    designs = pd.DataFrame([dict(voltage=0.8, bits_per_cell=2, base_latency_s=1e-9, xbar_rows=256, xbar_cols=256,
                                 router_group=16, tiles_per_chip=16, macros_per_tile=16, glb_mib=4,
                                 technology_nm=32)] * 2)
    by_path = evaluate(designs, [str(path), "resnet18"])
    by_object = evaluate(designs, [load_network(path), "resnet18"])
    pd.testing.assert_frame_equal(by_path, by_object)
    assert list(by_path.workload[:2]) == ["my_cnn", "resnet18"] and (by_path.energy_j > 0).all()
    resnet = evaluate(designs, "resnet18")
    assert np.array_equal(by_path[by_path.workload == "resnet18"].energy_j.to_numpy(), resnet.energy_j.to_numpy())
    layers = evaluate_layers(designs, load_network(path))
    assert len(layers) == 2 and np.isclose(layers.energy_j.sum(), by_path[by_path.workload == "my_cnn"].energy_j.sum())
    other = tmp_path / "other"
    other.mkdir()
    clash = _save(_conv_model((1, 3, 16, 16), (8, 3, 3, 3)), other / "my_cnn.onnx")
    with pytest.raises(WorkloadError, match="two different workloads are named 'my_cnn'"):
        evaluate(designs, [load_network(path), str(clash)])


def test_network_files_accept_the_provenance_keys(tmp_path):
    assert {"source", "activity"} <= set(NETWORK_KEYS)
    (tmp_path / "old.yaml").write_text("name: old\nlayers:\n  - {C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4}\n")
    assert load_network(tmp_path / "old.yaml").n_layers == 1  # files without them load as before
    (tmp_path / "bad.yaml").write_text("name: bad\nsource: [1, 2]\nlayers:\n  - {C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4}\n")
    with pytest.raises(WorkloadError, match="'source' must be a mapping"):
        load_network(tmp_path / "bad.yaml")


# ----------------------------------------------------------------------------------------------------------------
# The command


def test_command_writes_a_loadable_network(tmp_path, capsys):
    model, *_ = _transformer_model()
    path = _save(model, tmp_path / "block.onnx")
    out = tmp_path / "nets"
    assert main([str(path), "--name", "my_block", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "layers:  8 (Gemm 3, MatMul (attention) 2, MatMul 3)" in text
    assert "skipped (no weights): Reshape 5, Transpose 4, Softmax 1, Add 1, Relu 1" in text
    assert "MACs:" in text and "ain: default 0.55" in text
    written = out / "my_block.yaml"
    net = load_network(written)
    direct = import_onnx(path, name="my_block").network
    assert net.name == "my_block" and net.total_macs == direct.total_macs and net.total_weights == direct.total_weights
    assert np.allclose(net.aw, direct.aw, atol=1e-6) and (net.einsum == direct.einsum).all()
    head = written.read_text()
    assert "activity:" in head and "source:" in head and "sha256:" in head
    assert [p.name for p in out.iterdir()] == ["my_block.yaml"]  # no temp file left
    assert main([str(path), "--name", "my_block", "-o", str(out), "--force"]) == 0


def _bad_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "good.onnx")
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(good.read_bytes()[:200])
    text = tmp_path / "notes.onnx"
    text.write_text("not a model\n")
    up = _save(_model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up1")], [("x", (1, 4, 8, 8))],
                      [("y", None)], [_init("w", (4, 2, 3, 3))]), tmp_path / "up.onnx")
    dyn = _save(_dynamic_model(), tmp_path / "dyn.onnx")
    resnet = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "resnet18.onnx")
    np.savez(tmp_path / "calib.npz", x=np.zeros((1, 3, 8, 8), np.float32))
    return {
        "missing": ([str(tmp_path / "none.onnx")], "none.onnx: ONNX model not found"),
        "truncated": ([str(truncated)], "cut.onnx: not a valid ONNX model"),
        "not-onnx": ([str(text)], "notes.onnx: not a valid ONNX model"),
        "convtranspose": ([str(up)], "node 'up1' (ConvTranspose)"),
        "dynamic": ([str(dyn)], "--input-shape x=1x3x8x8"),
        "bad-shape": ([str(good), "--input-shape", "x=1xAx8"], "expected NAME=1x3x224x224"),
        "packaged-name": ([str(resnet)], "'resnet18' (from the file name resnet18.onnx) is a packaged network"),
        "packaged-name-option": ([str(good), "--name", "vgg16"], "is a packaged network — choose another"),
        "bad-name": ([str(good), "--name", "../x"], "--name '../x'"),
        "wrong-suffix": ([str(tmp_path / "calib.npz")], "cannot import a .npz file"),
        "usage": ([str(good), "--bogus"], "unrecognized arguments: --bogus"),
        "csv-with-shape": ([str(tmp_path / "t.csv"), "--input-shape", "1x3"], "apply to ONNX models"),
        "no-onnxruntime": ([str(good), "--inputs", str(tmp_path / "calib.npz")], "need onnxruntime"),
    }


BAD_CASES = ["missing", "truncated", "not-onnx", "convtranspose", "dynamic", "bad-shape", "packaged-name",
             "packaged-name-option", "bad-name", "wrong-suffix", "usage", "csv-with-shape", "no-onnxruntime"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_command_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, case):
    argv, expected = _bad_cases(tmp_path)[case]
    if case == "csv-with-shape":
        (tmp_path / "t.csv").write_text(TABLE)
    if case == "no-onnxruntime":
        monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    out = tmp_path / "out"
    assert main([*argv, "-o", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("imc-moo-import: error: "), captured.err
    assert expected in lines[0] and " — " in lines[0]
    assert captured.out == "" and not out.exists()


def test_command_refuses_to_overwrite(tmp_path, capsys):
    good = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "good.onnx")
    assert main([str(good), "-o", str(tmp_path)]) == 0
    before = (tmp_path / "good.yaml").read_bytes()
    capsys.readouterr()
    assert main([str(good), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "good.yaml already exists — pass --force" in err
    assert (tmp_path / "good.yaml").read_bytes() == before


def test_written_yaml_quotes_odd_names(tmp_path):
    result = import_onnx(_save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "m.onnx"), name="1234")
    text = network_yaml(result)
    assert 'name: "1234"' in text
    (tmp_path / "1234.yaml").write_text(text)
    assert load_network(tmp_path / "1234.yaml").name == "1234"


# ----------------------------------------------------------------------------------------------------------------
# The format dispatch and the former module's names


def test_import_file_dispatches_by_suffix(tmp_path):
    assert IMPORT_SUFFIXES == (".onnx", ".csv")
    model = _save(_conv_model((1, 3, 8, 8), (4, 3, 3, 3)), tmp_path / "m.onnx")
    onnx_result = import_file(model, name="net", attention="simulator")
    assert isinstance(onnx_result, ImportResult) and onnx_result.source["format"] == "onnx"
    assert onnx_result.name == "net" and onnx_result.source["attention"] == "simulator"
    (tmp_path / "t.csv").write_text(TABLE)
    table_result = import_file(tmp_path / "t.csv")
    assert isinstance(table_result, ImportResult) and table_result.source["format"] == "csv layer table"
    with pytest.raises(WorkloadError, match="t.csv: attention applies to ONNX models, not layer tables"):
        import_file(tmp_path / "t.csv", attention="full")
    with pytest.raises(WorkloadError, match=r"calib.npz: cannot import a \.npz file — give an \.onnx model"):
        import_file(tmp_path / "calib.npz")


def test_former_onnx_import_module_keeps_its_names():
    """imc_moo.workloads.onnx_import re-exports, for one release, the names it offered before the split."""
    from imc_moo.workloads import cli, importing, onnx_convert, onnx_import, onnx_model, result, writer

    moved = {"import_onnx": onnx_convert, "parse_input_shapes": onnx_model, "import_file": importing,
             "ImportResult": result, "default_name": result, "network_yaml": writer, "write_network": writer,
             "summary": writer, "main": cli, "run": cli}
    for name, module in moved.items():
        assert getattr(onnx_import, name) is getattr(module, name), name
    assert set(moved) <= set(onnx_import.__all__)


def test_the_written_network_file_is_readable_by_the_group(tmp_path, capsys):
    """imc-moo-import wrote its YAML with mkstemp's private 0600; it now has the mode any file the tool writes has
    (0666 less the umask), so a shared library directory works for the whole group."""
    import stat

    from imc_moo.files import FILE_MODE

    table = tmp_path / "tiny.csv"
    table.write_text("name,op,C,M,R,S,P,Q,G,stride\nconv,Conv,3,8,3,3,4,4,1,1\n")
    assert main([str(table), "-o", str(tmp_path / "out")]) == 0
    written = tmp_path / "out" / "tiny.yaml"
    assert stat.S_IMODE(written.stat().st_mode) == FILE_MODE != 0o600


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_weights_that_are_not_finite_are_refused_naming_the_layer(tmp_path, bad):
    w = RNG.normal(size=(4, 3, 3, 3)).astype(np.float32)
    w[1, 2, 0, 0] = bad
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    model = _model([node], [("x", (1, 3, 8, 8))], [("y", None)], [numpy_helper.from_array(w, "w")])
    path = _save(model, tmp_path / "broken.onnx")
    with pytest.raises(WorkloadError, match=r"broken.onnx: layer 'conv': 1 of its 108 weights are NaN or infinite"):
        import_onnx(path)


def test_nodes_whose_outputs_reach_no_graph_output_make_no_layer(tmp_path):
    """A dead branch (a Conv whose output nothing uses) is left out and reported, not counted as a layer."""
    live = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    dead = helper.make_node("Conv", ["x", "w2"], ["unused"], name="dead_conv")
    dead_relu = helper.make_node("Relu", ["unused"], ["unused2"], name="dead_relu")
    model = _model([live, dead, dead_relu], [("x", (1, 3, 8, 8))], [("y", None)],
                   [_init("w", (4, 3, 3, 3)), _init("w2", (8, 3, 3, 3))])
    result = import_onnx(_save(model, tmp_path / "branch.onnx"))
    assert [layer["name"] for layer in result.layers] == ["conv"]
    assert result.unused == {"Conv": 1, "Relu": 1}
    assert result.network.total_macs == 4 * 3 * 3 * 3 * 6 * 6
