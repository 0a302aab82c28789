"""Tests that imc-moo installs and runs anywhere: the wheel holds the Hydra configs and the workload library, an
installed copy runs from a directory outside the checkout, and users add networks and configs without editing it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import imc_moo
from imc_moo.app.experiment import CONF_DIR
from imc_moo.problem.space import make_space
from imc_moo.workloads import (
    PROBLEMS_DIR,
    WorkloadError,
    available_networks,
    load_workloads,
    resolve_workloads,
    search_path,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
#: What the wheel is built from (a copy, so the build leaves no build/ or stale files in the checkout).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "imc_moo", "conf", "problems")
TINY_SEARCH = ["budget=200", "algorithm.n_candidates=100", "algorithm.n_select=80", "algorithm.pop_size=20",
               "plots=false", "progress=false"]
TINY_CNN = """\
name: {name}
description: a two-layer CNN
layers:
  - {{name: conv1, C: 3, M: 16, R: 3, S: 3, P: 32, Q: 32}}
  - {{name: fc, C: 16384, M: 10, R: 1, S: 1, P: 1, Q: 1}}
"""


def _write_net(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(TINY_CNN.format(name=name))
    return path


def _can_build_without_isolation() -> bool:
    """setuptools >= 70.1 builds wheels by itself; older ones need the wheel package."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    major, minor = (int(p) for p in importlib.metadata.version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout's sources."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=ignore)
        else:
            shutil.copy2(source, src / name)
    isolation = ["--no-build-isolation"] if _can_build_without_isolation() else []  # else: setuptools from PyPI
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation, "-w",
                          str(root / "dist"), str(src)], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    (whl,) = (root / "dist").glob("imc_moo-*.whl")
    return whl


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel installed without dependencies into a target directory (the dependencies come from this venv)."""
    target = tmp_path_factory.mktemp("installed") / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target",
                          str(target), str(wheel)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return target


def _run_installed(site: Path, cwd: Path, *args: str, env: dict[str, str] | None = None):
    """``python *args`` importing imc_moo from ``site`` only, run in ``cwd`` (outside the checkout)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IMC_MOO_PROBLEMS")}
    environ.update(PYTHONPATH=str(site), PYTHONNOUSERSITE="1", **(env or {}))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=300)


def test_wheel_holds_every_package_config_and_network(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "imc_moo").rglob("*.py")
                if "__pycache__" not in p.parts}
    expected |= {f"imc_moo/model/data/{p.name}" for p in (REPO_ROOT / "imc_moo/model/data").iterdir()
                 if p.suffix in (".csv", ".json")}
    for top, package in (("conf", "imc_moo/conf"), ("problems", "imc_moo/problems")):
        expected |= {f"{package}/{p.relative_to(REPO_ROOT / top)}" for p in (REPO_ROOT / top).rglob("*")
                     if p.suffix in (".yaml", ".py") and "__pycache__" not in p.parts}
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing} — list new subpackages/data in pyproject.toml"
    assert "imc_moo/conf/config.yaml" in names and "imc_moo/problems/sets/cnn4.yaml" in names


def test_installed_package_runs_outside_the_checkout(site, tmp_path):
    code = textwrap.dedent(f"""
        from pathlib import Path
        import numpy as np
        import imc_moo
        from imc_moo.app.experiment import CONF_DIR
        from imc_moo.problem.space import make_space
        from imc_moo.workloads import PROBLEMS_DIR, resolve_workloads
        site = Path({str(site)!r}).resolve()
        for path in (imc_moo.__file__, CONF_DIR, PROBLEMS_DIR):
            assert Path(path).resolve().is_relative_to(site), (path, site)
        assert (Path(CONF_DIR) / "config.yaml").is_file() and (PROBLEMS_DIR / "sets" / "cnn4.yaml").is_file()
        assert resolve_workloads("cnn4") == ["resnet18", "vgg16", "alexnet", "mobilenet_v3"]
        space = make_space("rram")
        table = imc_moo.evaluate(space.decode(space.sample(1, np.random.default_rng(0))), "cnn4")
        assert len(table) == 4 and np.isfinite(table["edap"]).all(), table
        print("ok")
    """)
    out = _run_installed(site, tmp_path, "-c", code)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]

    help_ = _run_installed(site, tmp_path, "-m", "imc_moo", "--help")
    assert help_.returncode == 0 and "Traceback" not in help_.stdout + help_.stderr, help_.stderr[-3000:]
    assert "problem: rram_cnn4" in help_.stdout

    run_dir = tmp_path / "run"
    out = _run_installed(site, tmp_path, "-m", "imc_moo", *TINY_SEARCH, f"hydra.run.dir={run_dir}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads((run_dir / "best.json").read_text())["problem"] == "rram_cnn4"


def test_compose_api_and_instantiate_on_the_installed_package(site, tmp_path):
    """README "Use from Python or a notebook": Hydra's Compose API on the installed package, nothing imported
    first (the imc_moo.conf package registers its schemas); instantiate gives the problem and the algorithm, which
    run as the algorithm's name does."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from hydra import compose, initialize_config_module
        from hydra.utils import instantiate
        initialize_config_module(version_base="1.3", config_module="imc_moo.conf")
        cfg = compose("config")
        assert Path(sys.modules["imc_moo.conf"].__file__).resolve().is_relative_to(Path({str(site)!r}).resolve())
        cfg = compose("config", overrides=["algorithm=nsga2", "problem=sram_cnn4"])
        assert (cfg.algorithm.name, cfg.problem.memory) == ("nsga2", "sram")
        cfg = compose("config", overrides=["problem=sram_cnn4", "algorithm.n_candidates=100",
                                           "algorithm.n_select=80"])
        from imc_moo.algorithms import run_algorithm
        from imc_moo.problem import WorkloadSetProblem
        problem = instantiate(cfg.problem)
        assert isinstance(problem, WorkloadSetProblem) and problem.memory == "sram"
        result = run_algorithm(instantiate(cfg.algorithm), problem, budget=150, seed=0)
        again = run_algorithm("phased_ga", problem, budget=150, seed=0, n_candidates=100, n_select=80)
        assert result.algorithm == "phased_ga" and result.archive.equals(again.archive)
        print("ok", result.evaluations)
    """)
    out = _run_installed(site, tmp_path, "-c", code)
    assert out.returncode == 0 and out.stdout.strip() == "ok 150", out.stderr[-3000:]


def test_user_configs_networks_and_paths_in_the_installed_app(site, tmp_path):
    """hydra.searchpath adds a config directory; $IMC_MOO_PROBLEMS adds a network; a workload may be a path."""
    conf, nets = tmp_path / "myconf", tmp_path / "my_nets"
    (conf / "problem").mkdir(parents=True)
    _write_net(nets, "my_net")
    tiny = _write_net(tmp_path / "elsewhere", "tiny_cnn")
    (conf / "problem" / "my_problem.yaml").write_text(
        f"defaults:\n  - rram_cnn4\n  - _self_\nname: my_problem\nworkloads: [my_net, {tiny}, resnet18]\n")
    run_dir = tmp_path / "run"
    out = _run_installed(site, tmp_path, "-m", "imc_moo", f"hydra.searchpath=[file://{conf}]", "problem=my_problem",
                         *TINY_SEARCH, f"hydra.run.dir={run_dir}", env={"IMC_MOO_PROBLEMS": str(nets)})
    assert out.returncode == 0, out.stderr[-3000:]
    best = json.loads((run_dir / "best.json").read_text())
    assert best["problem"] == "my_problem" and len(best["per_workload"]) == 3


def test_problems_env_adds_to_the_packaged_library(tmp_path, monkeypatch):
    _write_net(tmp_path / "a", "my_net")
    _write_net(tmp_path / "b", "other_net")
    monkeypatch.setenv("IMC_MOO_PROBLEMS", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    names = available_networks()
    assert {"my_net", "other_net", "resnet18", "gpt2_medium"} <= set(names)
    assert resolve_workloads("my_net,cnn4,other_net") == ["my_net", "resnet18", "vgg16", "alexnet",
                                                          "mobilenet_v3", "other_net"]
    assert [n.name for n in load_workloads(["my_net", "resnet18"])] == ["my_net", "resnet18"]
    monkeypatch.delenv("IMC_MOO_PROBLEMS")
    # an explicit directory list, as an app would pass its own library directories
    dirs = search_path(tmp_path / "b")
    assert dirs == [(tmp_path / "b").resolve(), PROBLEMS_DIR]
    assert resolve_workloads("other_net,resnet18", problems_dir=dirs) == ["other_net", "resnet18"]
    with pytest.raises(WorkloadError, match=r"unknown workload 'my_net'.*IMC_MOO_PROBLEMS") as info:
        resolve_workloads("my_net")
    assert "\n" not in str(info.value)


def test_workload_entry_may_be_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny = _write_net(tmp_path / "nets", "tiny_cnn")
    assert resolve_workloads(["nets/tiny_cnn.yaml", "resnet18"]) == ["nets/tiny_cnn.yaml", "resnet18"]
    assert resolve_workloads("nets/tiny_cnn.yaml,resnet18") == ["nets/tiny_cnn.yaml", "resnet18"]
    assert resolve_workloads([tiny, str(tiny), "alexnet", str(PROBLEMS_DIR / "alexnet.yaml")]) == [str(tiny),
                                                                                                  "alexnet"]
    assert [n.name for n in load_workloads(["nets/tiny_cnn.yaml", "resnet18"])] == ["tiny_cnn", "resnet18"]
    space = make_space("rram")
    table = imc_moo.evaluate(space.decode(space.sample(2, np.random.default_rng(0))), ["nets/tiny_cnn.yaml"])
    assert list(table["workload"]) == ["tiny_cnn", "tiny_cnn"]
    with pytest.raises(WorkloadError, match=r"nets/missing\.yaml: network file not found") as info:
        resolve_workloads(["nets/missing.yaml"])
    assert "\n" not in str(info.value)
    impostor = _write_net(tmp_path / "other", "resnet18")
    with pytest.raises(WorkloadError, match=r"two different workloads are named 'resnet18'.*rename"):
        resolve_workloads(["cnn4", str(impostor)])


def test_config_and_library_dirs_are_the_packaged_ones():
    assert Path(CONF_DIR).is_absolute() and (Path(CONF_DIR) / "config.yaml").is_file()
    assert (PROBLEMS_DIR / "sets" / "cnn4.yaml").is_file()
    # in this (editable) environment the packaged directories are the checkout's top-level conf/ and problems/
    if Path(imc_moo.__file__).resolve().is_relative_to(REPO_ROOT):
        assert Path(CONF_DIR) == REPO_ROOT / "conf" and PROBLEMS_DIR == REPO_ROOT / "problems"


def test_wheel_says_its_license_and_types(wheel):
    """MIT (the method's reference code's licence), the licence text, a citation of the method, and py.typed."""
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    assert "imc_moo/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and "Classifier: Typing :: Typed" in metadata
    citation = (REPO_ROOT / "CITATION.cff").read_text()
    assert "arXiv:2603.03880" in citation and "arXiv:2410.16759" in citation and "cff-version: 1.2.0" in citation
