"""The names ``imc_moo.workloads.onnx_import`` (and before it ``imc_moo.onnx_import``) offered, for one more release.

This module was the converter, the calibration, the YAML writer, the command and the format dispatch in one; each
now has its own module, and new code imports from there: ``import_onnx`` from :mod:`imc_moo.workloads.onnx_convert`,
``parse_input_shapes`` from :mod:`imc_moo.workloads.onnx_model`, ``import_file`` from
:mod:`imc_moo.workloads.importing`, ``ImportResult`` and ``default_name`` from :mod:`imc_moo.workloads.result`,
``network_yaml``, ``write_network`` and ``summary`` from :mod:`imc_moo.workloads.writer`, ``main`` and ``run`` from
:mod:`imc_moo.workloads.cli`, the constants from the module that uses them. Nothing in the package imports this
module; remove it in the next release.
"""

import sys

# Re-exports for one release; the names are documented where they live.
from imc_moo.workloads.cli import main, run
from imc_moo.workloads.importing import import_file
from imc_moo.workloads.onnx_convert import import_onnx
from imc_moo.workloads.onnx_fold import FOLDABLE
from imc_moo.workloads.onnx_layers import ATTENTION_CONVENTIONS, CONTROL_FLOW, UNSUPPORTED_WEIGHTED
from imc_moo.workloads.onnx_model import parse_input_shapes
from imc_moo.workloads.result import ImportResult, default_name
from imc_moo.workloads.writer import PROG, network_yaml, summary, write_network

__all__ = ["ATTENTION_CONVENTIONS", "CONTROL_FLOW", "FOLDABLE", "PROG", "UNSUPPORTED_WEIGHTED", "ImportResult",
           "default_name", "import_file", "import_onnx", "main", "network_yaml", "parse_input_shapes", "run",
           "summary", "write_network"]

if __name__ == "__main__":  # pragma: no cover - python -m imc_moo.workloads.onnx_import, as before
    sys.exit(main())
