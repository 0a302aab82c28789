"""Where the packaged Hydra configs (``imc_moo.conf``) and workload library (``imc_moo.problems``) live, and where
the persistent cache of parsed networks and model tables is (:func:`cache_dir`).

In the repository they are the top-level ``conf/`` and ``problems/`` directories; ``pyproject.toml`` maps them
into the package, so an editable install (``pip install -e .``) and a wheel both resolve them through the import
system (:func:`importlib.util.find_spec`, which locates a package without running it: ``imc_moo.conf`` registers
the app's Hydra schemas when it is imported, which the cost model has no use for). A bare source checkout on
``PYTHONPATH`` (no install) falls back to the top-level directories next to ``imc_moo/``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def package_dir(package: str, checkout_dir: str) -> Path:
    """Absolute filesystem directory of the data package ``package`` (located, not imported), or the checkout's
    ``checkout_dir``."""
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]).resolve()
    else:  # not installed: running from a source checkout on PYTHONPATH
        path = Path(__file__).resolve().parents[1] / checkout_dir
    if not path.is_dir():
        raise RuntimeError(f"imc-moo data directory {path} ({package}) not found — reinstall imc-moo unpacked"
                           " (pip install .) or run from a complete checkout")
    return path


#: Hydra config directory (``conf/`` in the repository), an absolute path usable by ``initialize_config_dir``.
CONF_DIR: str = str(package_dir("imc_moo.conf", "conf"))
#: The packaged workload library (``problems/`` in the repository).
PROBLEMS_DIR: Path = package_dir("imc_moo.problems", "problems")


#: Environment variable: the cache directory, or ``off``. Default ``$XDG_CACHE_HOME/imc_moo`` (``~/.cache``).
CACHE_ENV = "IMC_MOO_CACHE"


def cache_dir() -> Path | None:
    """The directory of the persistent cache (parsed networks, the model's tables), None when switched off
    (``IMC_MOO_CACHE=off``)."""
    value = os.environ.get(CACHE_ENV, "")
    if value.lower() in ("off", "0", "false", "no"):
        return None
    if value:
        return Path(value)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "imc_moo"
