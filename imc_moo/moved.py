"""The modules that moved into subpackages after 0.1.0, importable under their old names for one more release.

``import imc_moo.space`` gives :mod:`imc_moo.problem.space` itself (the same module object, so ``isinstance`` and
monkeypatching behave as before) with a :class:`DeprecationWarning` naming the new place; ``python -m
imc_moo.calibrate`` runs :mod:`imc_moo.model.calibrate`. Remove this module, and its installation in
``imc_moo/__init__.py``, in the next release.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module name -> new module name
MOVED = {
    "imc_moo.activity": "imc_moo.workloads.activity",
    "imc_moo.layer_table": "imc_moo.workloads.layer_table",
    "imc_moo.onnx_import": "imc_moo.workloads.onnx_import",
    "imc_moo.calibrate": "imc_moo.model.calibrate",
    "imc_moo.space": "imc_moo.problem.space",
    "imc_moo.deployment": "imc_moo.problem.deployment",
    "imc_moo.indicators": "imc_moo.problem.indicators",
    "imc_moo.ledger": "imc_moo.algorithms.ledger",
    "imc_moo.config": "imc_moo.app.config",
    "imc_moo.experiment": "imc_moo.app.experiment",
    "imc_moo.resume": "imc_moo.app.resume",
    "imc_moo.lock": "imc_moo.app.lock",
    "imc_moo.progress": "imc_moo.app.progress",
    "imc_moo.export": "imc_moo.app.export",
    "imc_moo.plots": "imc_moo.app.plots",
    "imc_moo.comparison": "imc_moo.report.comparison",
    "imc_moo.deployment_report": "imc_moo.report.deployment",
}


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name of :data:`MOVED` and loads it as the module at its new name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        new = importlib.util.find_spec(MOVED[fullname])
        return importlib.util.spec_from_loader(fullname, self, origin=new.origin if new else None)

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; the old name goes in the next release", DeprecationWarning,
                      stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module) -> None:
        """Nothing to run: the module at its new name is loaded already."""

    def get_code(self, fullname):
        """The new module's code, for ``python -m <old name>`` (runpy)."""
        new = MOVED[fullname]
        return importlib.util.find_spec(new).loader.get_code(new)

    def is_package(self, fullname) -> bool:
        return False


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
