"""The package's shape: no module takes a private name from another, every subpackage ships, old module names still
import (for one release) as the very modules they moved to. The layering itself is import-linter's (pyproject.toml,
``lint-imports`` in CI)."""

import ast
import importlib
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import imc_moo
from imc_moo.moved import MOVED

PACKAGE = Path(imc_moo.__file__).parent
REPO = PACKAGE.parent


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def test_no_module_imports_a_private_name_of_another():
    found = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imc_moo"):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private and node.module != module:
                    found.append(f"{module} takes {', '.join(private)} from {node.module} (line {node.lineno})")
    assert not found, "\n".join(found)


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {module for module, path in _modules() if path.name == "__init__.py" and "." in module or
                module == "imc_moo"}
    assert packages - {"imc_moo.conf"} <= listed, sorted(packages - listed)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_a_moved_module_imports_under_its_old_name_with_a_warning(old):
    new = importlib.import_module(MOVED[old])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.modules.pop(old, None)
        assert importlib.import_module(old) is new
    assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught)


def test_nothing_the_tool_reads_back_can_run_code():
    """No module imports pickle (or marshal, shelve, dill): cache entries and results are plain data."""
    unsafe = {"pickle", "marshal", "shelve", "dill", "cloudpickle"}
    found = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{module} imports {n}" for n in names if n.split(".")[0] in unsafe]
    assert not found, found
