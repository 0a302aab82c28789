"""imc-moo: multi-workload design-space exploration of in-memory-computing accelerators."""

from imc_moo import moved
from imc_moo.version import __version__

__all__ = ["__version__", "evaluate", "evaluate_layers"]

moved.install()  # imc_moo.space, imc_moo.config, ...: the old names of moved modules, for one more release


def __getattr__(name: str):
    """``imc_moo.evaluate`` and ``imc_moo.evaluate_layers`` (:mod:`imc_moo.model`), imported on first use, so
    importing a light module of the package (the CLI's ``--help``) does not load the cost model, numpy tables
    and pandas."""
    if name in ("evaluate", "evaluate_layers"):
        from imc_moo import model

        value = getattr(model, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"evaluate", "evaluate_layers"})
