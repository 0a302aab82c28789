"""Tests of the workload library: problems/*.yaml contents, set resolution, validation errors, build determinism."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imc_moo.workloads import (
    DEFAULT_AIN,
    DEFAULT_AW,
    PROBLEMS_DIR,
    Network,
    WorkloadError,
    available_networks,
    available_sets,
    load_network,
    load_workloads,
    resolve_workloads,
    search_path,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"

#: Published per-network totals (reference README, "Network totals"): layers, GMACs, weights [M].
PUBLISHED_TOTALS = {
    "alexnet": (8, 0.714, 61.09),
    "vgg16": (16, 15.47, 138.34),
    "resnet18": (21, 1.814, 11.68),
    "mobilenet_v3": (64, 0.217, 5.45),
    "densenet201": (201, 4.291, 19.78),
    "vision_transformer": (98, 16.86, 86.91),
    "resnet50": (62, 7.49, 48.04),
    "gpt2_medium": (145, 90.52, 355.42),
    "mobilebert": (409, 2.82, 20.82),
}
#: Cells of the method's capacity constraint, sum(C*R*S*M*8) ignoring G (8-bit weights, 1 bit per cell).
PUBLISHED_CELLS = {
    "resnet18": 93.4e6,
    "vgg16": 1.107e9,
    "alexnet": 488.7e6,
    "mobilenet_v3": 42.9e6,
    "mobilebert": 166.6e6,
    "densenet201": 158.3e6,
    "resnet50": 384.3e6,
    "vision_transformer": 695.3e6,
    "gpt2_medium": 2.843e9,
}
CNN4 = ["resnet18", "vgg16", "alexnet", "mobilenet_v3"]
MIXED9 = CNN4 + ["gpt2_medium", "mobilebert", "densenet201", "resnet50", "vision_transformer"]
REL_TOL = 0.005

GOOD_LAYER = "{name: conv1, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4}"


def _write_network(directory: Path, name: str, layers_yaml: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(f"name: {name}\nlayers:\n{layers_yaml}")
    return path


# ----------------------------------------------------------------------------------------------------------------
# Library contents


@pytest.mark.parametrize("name", sorted(PUBLISHED_TOTALS))
def test_network_totals_match_published(name):
    layers, gmacs, mweights = PUBLISHED_TOTALS[name]
    net = load_network(name)
    assert net.n_layers == layers
    assert net.total_macs / 1e9 == pytest.approx(gmacs, rel=REL_TOL)
    assert net.total_weights / 1e6 == pytest.approx(mweights, rel=REL_TOL)


@pytest.mark.parametrize("name", sorted(PUBLISHED_CELLS))
def test_capacity_cells_match_published(name):
    net = load_network(name)
    cells = int((net.C * net.R * net.S * net.M).sum()) * 8
    assert cells == pytest.approx(PUBLISHED_CELLS[name], rel=REL_TOL)


def test_every_library_file_loads_with_consistent_arrays():
    names = available_networks()
    assert set(PUBLISHED_TOTALS) <= set(names)
    for name in names:
        net = load_network(name)
        L = net.n_layers
        assert net.name == name and len(net.layer_names) == L
        assert net.shape_array().shape == (L, 7) and net.shape_array().dtype == np.int64
        assert net.aw.shape == (L, 8) and net.ain.shape == (L,)
        assert ((net.aw >= 0) & (net.aw <= 1)).all() and ((net.ain >= 0) & (net.ain <= 1)).all()
        assert (net.macs == net.shape_array().prod(axis=1)).all()


def test_resnet18_stem_shape():
    net = load_network("resnet18")
    assert net.layer_names[0] == "conv1"
    assert net.shape_array()[0].tolist() == [3, 64, 7, 7, 112, 112, 1]


def test_mobilenet_v3_depthwise_layers():
    net = load_network("mobilenet_v3")
    dw = net.depthwise
    assert dw.sum() > 10
    assert (net.C[dw] == 1).all() and (net.M[dw] == 1).all() and (net.G[dw] > 1).all()
    assert (net.G[~dw] == 1).all()


def test_vision_transformer_einsums_flagged():
    net = load_network("vision_transformer")
    assert net.einsum.sum() == 24  # 2 attention einsums x 12 blocks
    assert not net.depthwise.any()


def test_network_arrays_are_read_only_and_cached():
    net = load_network("alexnet")
    assert load_network("alexnet") is net
    assert load_network(PROBLEMS_DIR / "alexnet.yaml") is net
    with pytest.raises(ValueError):
        net.C[0] = 1


def test_defaults_for_optional_fields(tmp_path):
    layers = "  - {C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4}\n  - {C: 8, M: 8, R: 1, S: 1, P: 4, Q: 4.0}\n"
    _write_network(tmp_path, "tiny", layers)
    net = load_network("tiny", problems_dir=tmp_path)
    assert net.layer_names == ("0", "1")
    assert net.G.tolist() == [1, 1] and net.Q.dtype == np.int64
    assert net.ain.tolist() == [DEFAULT_AIN] * 2
    assert net.aw.tolist() == [list(DEFAULT_AW)] * 2
    assert net.total_macs == 3 * 8 * 9 * 16 + 8 * 8 * 16
    assert net.total_weights == 3 * 8 * 9 + 8 * 8


def test_network_constructor_checks_array_lengths():
    with pytest.raises(WorkloadError, match="'aw'"):
        Network("x", ("a",), *([[1]] * 7), ain=[0.5], aw=[[0.5] * 7], depthwise=[False], einsum=[False])


# ----------------------------------------------------------------------------------------------------------------
# Set resolution


def test_sets_available():
    assert {"cnn4", "mixed9"} <= set(available_sets())


def test_resolve_sets_in_order():
    assert resolve_workloads("cnn4") == CNN4
    assert resolve_workloads("mixed9") == MIXED9
    assert [n.name for n in load_workloads("cnn4")] == CNN4


def test_resolve_names_lists_and_duplicates():
    assert resolve_workloads("vgg16") == ["vgg16"]
    assert resolve_workloads(" alexnet, vgg16 ,alexnet") == ["alexnet", "vgg16"]
    assert resolve_workloads(["gpt2_medium", "cnn4", "resnet18", "gpt2_medium"]) == ["gpt2_medium", *CNN4]
    assert resolve_workloads(["cnn4", "mixed9"]) == MIXED9


@pytest.mark.parametrize("spec", ["", " , ", [], [""]])
def test_empty_set_rejected(spec):
    with pytest.raises(WorkloadError, match="empty workload set"):
        resolve_workloads(spec)


def test_unknown_workload_lists_available():
    with pytest.raises(WorkloadError) as info:
        resolve_workloads(["resnet18", "resnet1000"])
    msg = str(info.value)
    assert "'resnet1000'" in msg and "resnet18" in msg and "cnn4" in msg and "\n" not in msg


def test_unknown_network_lists_available():
    with pytest.raises(WorkloadError) as info:
        load_network("no_such_net")
    msg = str(info.value)
    assert "'no_such_net'" in msg and "alexnet" in msg and "\n" not in msg


def test_set_with_unknown_network(tmp_path):
    _write_network(tmp_path, "tiny", f"  - {GOOD_LAYER}\n")
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "bad.yaml").write_text("name: bad\nnetworks: [tiny, ghost]\n")
    with pytest.raises(WorkloadError, match=r"bad\.yaml.*'ghost'"):
        resolve_workloads("bad", problems_dir=tmp_path)


def test_problems_env_adds_directories_before_the_packaged_library(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    _write_network(first, "tiny", f"  - {GOOD_LAYER}\n")
    _write_network(second, "tiny", f"  - {GOOD_LAYER}\n  - {GOOD_LAYER}\n")
    monkeypatch.setenv("IMC_MOO_PROBLEMS", os.pathsep.join([str(first), str(second)]))
    assert search_path() == [first.resolve(), second.resolve(), PROBLEMS_DIR]
    assert load_network("tiny").n_layers == 1  # the first directory holding tiny.yaml wins
    assert load_network("resnet18").n_layers == 21
    assert load_network("tiny", problems_dir=second).n_layers == 2  # an explicit directory is used alone
    with pytest.raises(WorkloadError, match="unknown network 'resnet18'"):
        load_network("resnet18", problems_dir=second)
    monkeypatch.setenv("IMC_MOO_PROBLEMS", str(tmp_path / "missing"))
    with pytest.raises(WorkloadError, match=r"'.*missing' from \$IMC_MOO_PROBLEMS is not a directory"):
        resolve_workloads("cnn4")


# ----------------------------------------------------------------------------------------------------------------
# Validation errors


@pytest.mark.parametrize(
    "layers_yaml, expected",
    [
        ("  - {name: conv1, C: 3, M: 8, R: 3, S: 3, P: 4}\n", r"layer 0 \('conv1'\): missing required field 'Q'"),
        ("  - {name: conv1, C: -4, M: 8, R: 3, S: 3, P: 4, Q: 4}\n", r"'conv1'.*field 'C'.*positive integer.*-4"),
        ("  - {name: conv1, C: 0, M: 8, R: 3, S: 3, P: 4, Q: 4}\n", r"field 'C'.*positive integer"),
        ("  - {name: conv1, C: 3, M: 8.5, R: 3, S: 3, P: 4, Q: 4}\n", r"field 'M'.*positive integer.*8\.5"),
        ("  - {name: conv1, C: 3, M: '8', R: 3, S: 3, P: 4, Q: 4}\n", r"field 'M'.*positive integer"),
        ("  - {name: conv1, C: true, M: 8, R: 3, S: 3, P: 4, Q: 4}\n", r"field 'C'.*positive integer.*True"),
        (f"  - {GOOD_LAYER}\n  - {{name: fc, C: 3, M: 8, R: 1, S: 1, P: 1, Q: 1, K: 2}}\n",
         r"layer 1 \('fc'\): unknown key 'K'.*allowed keys.*name, op, C"),
        ("  - {name: conv1, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4, ain: 1.5}\n", r"field 'ain'.*\[0, 1\]"),
        ("  - {name: conv1, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4, aw: [0.5, 0.5]}\n", r"field 'aw'.*8 numbers"),
        ("  - {name: dw, C: 8, M: 8, R: 3, S: 3, P: 4, Q: 4, G: 8, depthwise: true}\n", r"'dw'.*C = M = 1"),
        ("  - [3, 8, 3, 3, 4, 4]\n", r"layer 0: expected a mapping"),
        ("  []\n", r"'layers' must be a non-empty list"),
    ],
    ids=["missing", "negative", "zero", "fraction", "string", "bool", "unknown-key", "ain-range", "aw-length",
         "depthwise-shape", "not-mapping", "no-layers"],
)
def test_bad_layer_rejected(tmp_path, layers_yaml, expected):
    _write_network(tmp_path, "bad", layers_yaml)
    with pytest.raises(WorkloadError, match=expected) as info:
        load_network("bad", problems_dir=tmp_path)
    msg = str(info.value)
    assert "bad.yaml: " in msg
    assert "\n" not in msg and " — " in msg


def test_malformed_yaml_rejected(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nlayers:\n  - {C: 3, M: 8\n")
    with pytest.raises(WorkloadError, match=r"broken\.yaml: malformed YAML at line \d+") as info:
        load_network(path)
    assert "\n" not in str(info.value)


def test_top_level_must_be_mapping_with_matching_name(tmp_path):
    (tmp_path / "alist.yaml").write_text(f"- {GOOD_LAYER}\n")
    with pytest.raises(WorkloadError, match="top-level mapping"):
        load_network(tmp_path / "alist.yaml")
    (tmp_path / "other.yaml").write_text(f"name: something\nlayers:\n  - {GOOD_LAYER}\n")
    with pytest.raises(WorkloadError, match="differs from the file name"):
        load_network(tmp_path / "other.yaml")


def test_missing_path_rejected(tmp_path):
    with pytest.raises(WorkloadError, match="not found"):
        load_network(tmp_path / "nothing.yaml")


def test_edited_file_is_reloaded(tmp_path):
    path = _write_network(tmp_path, "tiny", f"  - {GOOD_LAYER}\n")
    assert load_network(path).n_layers == 1
    _write_network(tmp_path, "tiny", f"  - {GOOD_LAYER}\n  - {GOOD_LAYER}\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load_network(path).n_layers == 2


# ----------------------------------------------------------------------------------------------------------------
# Build script


def _build_module():
    spec = importlib.util.spec_from_file_location("build_problems", REPO_ROOT / "scripts" / "build_problems.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_reproduces_committed_files(tmp_path):
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"reference data not present at {REFERENCE_DIR}")
    assert _build_module().main(["--reference", str(REFERENCE_DIR), "--out", str(tmp_path)]) == 0
    built = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert built == sorted(f"{n}.yaml" for n in available_networks())
    for name in built:
        assert (tmp_path / name).read_bytes() == (PROBLEMS_DIR / name).read_bytes(), name


def test_a_parsed_network_is_kept_for_later_processes(tmp_path, monkeypatch):
    """The persistent cache returns the network the file's bytes give (equal arrays, read-only again); an edited
    file is parsed anew, a damaged entry is ignored, and no cache (IMC_MOO_CACHE=off) parses every time."""
    from imc_moo.workloads import library as workloads

    monkeypatch.setenv("IMC_MOO_CACHE", str(tmp_path / "cache"))
    _write_network(tmp_path, "tiny", "  - {C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4}\n")
    path = tmp_path / "tiny.yaml"
    parsed = workloads._parse_file(path)
    workloads._keep_parsed(path, path.read_bytes(), parsed)
    kept = workloads._parsed_before(path, path.read_bytes())
    assert kept is not None and kept is not parsed
    for field in ("C", "M", "R", "S", "P", "Q", "G", "ain", "aw", "depthwise", "einsum"):
        np.testing.assert_array_equal(getattr(kept, field), getattr(parsed, field))
        assert not getattr(kept, field).flags.writeable
    assert kept.layer_names == parsed.layer_names
    edited = path.read_bytes().replace(b"M: 8", b"M: 16")
    assert workloads._parsed_before(path, edited) is None
    entry, = (tmp_path / "cache" / "networks").iterdir()
    assert entry.suffix == ".npz"
    entry.write_bytes(b"not a cache entry")
    assert workloads._parsed_before(path, path.read_bytes()) is None
    monkeypatch.setenv("IMC_MOO_CACHE", "off")
    assert workloads._parsed_entry(path, path.read_bytes())[0] is None


def _workloads_imports() -> dict[str, dict[str, set[str]]]:
    """module -> {imported imc_moo module -> names}, for every module of imc_moo.workloads (imports inside
    functions included)."""
    package = REPO_ROOT / "imc_moo" / "workloads"
    modules = {p.stem: p for p in package.glob("*.py")}
    graph: dict[str, dict[str, set[str]]] = {}
    for stem, path in modules.items():
        edges: dict[str, set[str]] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imc_moo"):
                for alias in node.names:  # "from imc_moo.workloads import library" imports the module
                    target = (f"{node.module}.{alias.name}" if node.module == "imc_moo.workloads"
                              and alias.name in modules else node.module)
                    edges.setdefault(target, set()).add(alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("imc_moo"):
                        edges.setdefault(alias.name, set())
        graph[stem] = edges
    return graph


def test_workloads_modules_import_one_way():
    """The modules of imc_moo.workloads import one another without a circle (imports inside functions count too),
    none imports the package itself or a private name of another module, and only the compatibility module
    onnx_import is imported by nobody."""
    graph = _workloads_imports()
    prefix = "imc_moo.workloads."
    for module, edges in graph.items():
        assert "imc_moo.workloads" not in edges or module == "__init__", module
        for target, names in edges.items():
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            assert not private, f"{module} imports {private} from {target}"
    deps = {m: {t.removeprefix(prefix) for t in edges if t.startswith(prefix)} for m, edges in graph.items()}

    def in_circle(start: str) -> bool:
        stack, seen = [start], set()
        while stack:
            for dep in deps.get(stack.pop(), ()):
                if dep == start:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return False

    circles = [m for m in deps if in_circle(m)]
    assert not circles, f"import circles through {circles}"
    assert deps["network"] == set() and deps["activity"] == set()
    assert deps["importing"] >= {"onnx_convert", "layer_table"} and "importing" in deps["library"]
    assert not any("onnx_import" in d for m, d in deps.items())


def test_loading_the_library_loads_no_converter():
    """A network by name needs neither onnx nor the importers (they load when an .onnx/.csv entry is used)."""
    code = ("import sys, imc_moo.workloads as w; w.load_network('resnet18');"
            " print(sorted(m for m in sys.modules if m == 'onnx' or m.startswith('imc_moo.workloads.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = [m.removeprefix("imc_moo.workloads.") for m in ast.literal_eval(out)]
    assert loaded == ["importing", "library", "network", "result"]
