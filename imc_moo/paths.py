"""Where the packaged Hydra configs (``imc_moo.conf``) and workload library (``imc_moo.problems``) live.

In the repository they are the top-level ``conf/`` and ``problems/`` directories; ``pyproject.toml`` maps them
into the package, so an editable install (``pip install -e .``) and a wheel both resolve them through
:mod:`importlib.resources`. A bare source checkout on ``PYTHONPATH`` (no install) falls back to the top-level
directories next to ``imc_moo/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_dir(package: str, checkout_dir: str) -> Path:
    """Absolute filesystem directory of the data package ``package``, or the checkout's ``checkout_dir``."""
    try:
        path = Path(str(resources.files(package))).resolve()
    except ModuleNotFoundError:  # not installed: running from a source checkout on PYTHONPATH
        path = Path(__file__).resolve().parents[1] / checkout_dir
    if not path.is_dir():
        raise RuntimeError(f"imc-moo data directory {path} ({package}) not found — reinstall imc-moo unpacked"
                           " (pip install .) or run from a complete checkout")
    return path


#: Hydra config directory (``conf/`` in the repository), an absolute path usable by ``initialize_config_dir``.
CONF_DIR: str = str(package_dir("imc_moo.conf", "conf"))
#: The packaged workload library (``problems/`` in the repository).
PROBLEMS_DIR: Path = package_dir("imc_moo.problems", "problems")
