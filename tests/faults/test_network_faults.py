"""Network files given on the command line (``problem.workloads=[path]``): the file, the layer and the fix, in one
line."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


GOOD_LAYER = "{name: conv, C: 3, M: 8, R: 3, S: 3, P: 16, Q: 16}"
NETWORK_FILES = [
    ("broken.yaml", "name: broken\nlayers:\n  - {C: 3, M: 8\n", "broken.yaml: malformed YAML at line"),
    ("empty.yaml", "", "empty.yaml"),
    ("alist.yaml", f"- {GOOD_LAYER}\n", "top-level mapping"),
    ("renamed.yaml", f"name: other\nlayers:\n  - {GOOD_LAYER}\n", "differs from the file name"),
    ("nolayers.yaml", "name: nolayers\nlayers: []\n", "'layers' must be a non-empty list"),
    ("missing.yaml", "name: missing\nlayers:\n  - {name: c, C: 3, M: 8, R: 3, S: 3, P: 4}\n",
     "layer 0 ('c'): missing required field 'Q'"),
    ("negative.yaml", "name: negative\nlayers:\n  - {name: c, C: -4, M: 8, R: 3, S: 3, P: 4, Q: 4}\n",
     "field 'C'"),
    ("typo.yaml", "name: typo\nlayers:\n  - {name: c, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4, K: 2}\n",
     "unknown key 'K'"),
    ("activity.yaml", "name: activity\nlayers:\n  - {name: c, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4, ain: 1.5}\n",
     "field 'ain'"),
    ("huge.yaml", "name: huge\nlayers:\n  - {name: big, C: 1000000, M: 1000000, R: 1, S: 1, P: 1000000, "
     "Q: 1000000}\n", "huge.yaml: layer 0 ('big'): 1e+24 multiply-accumulates"),
    ("binary.yaml", b"\x00\xff\xfe garbage \x89PNG", "binary.yaml"),
    # models and layer tables, imported on the fly (imc-moo-import's own cases: tests/workloads/test_onnx_import.py)
    ("notonnx.onnx", "name: not a model\n", "notonnx.onnx"),
    ("truncated.onnx", b"\x08\x07\x12\x07pytorch\x1a\x05", "truncated.onnx"),
    ("table.csv", "name,op,C,M,R,S,P,Q,G,stride\nconv,Conv,3,-8,3,3,4,4,1,1\n", "table.csv"),
    ("columns.csv", "name,C,M\nconv,3,8\n", "columns.csv"),
]


@pytest.mark.parametrize("name, content, needle", NETWORK_FILES, ids=[n for n, _, _ in NETWORK_FILES])
def test_a_bad_network_file_is_one_line_naming_file_and_layer(cli, tmp_path, name, content, needle):
    net = tmp_path / name
    net.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = cli.error([f"problem.workloads=[{net},resnet18]"], tmp_path)
    assert needle in line, line


def test_a_set_naming_an_unknown_network_is_one_line(cli, tmp_path):
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "mine.yaml").write_text("name: mine\nnetworks: [resnet18, resnet19]\n")
    line = cli.error([f"problem.library_dirs=[{tmp_path}]", "problem.workloads=mine"], tmp_path)
    assert "resnet19" in line and "mine" in line


def test_a_directory_given_as_a_network_file_is_one_line(cli, tmp_path):
    (tmp_path / "looks_like.yaml").mkdir()
    line = cli.error([f"problem.workloads=[{tmp_path / 'looks_like.yaml'}]"], tmp_path)
    assert "looks_like.yaml" in line


