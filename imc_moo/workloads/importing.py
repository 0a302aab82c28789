"""The format dispatch: which importer converts a file, decided by its suffix — the one place that decides it.

``.onnx`` models go to :func:`imc_moo.workloads.onnx_convert.import_onnx`, ``.csv`` layer tables to
:func:`imc_moo.workloads.layer_table.load_layer_table`; both are imported on first use, so loading the library
does not load the converters (and ``onnx`` is only imported when a model is converted).
"""

from __future__ import annotations

import os
from pathlib import Path

from imc_moo.workloads.network import WorkloadError, display_path
from imc_moo.workloads.result import ImportResult

#: The suffixes the importers read -> what such a file is called in messages.
IMPORT_FORMATS = {".onnx": "ONNX model", ".csv": "layer table"}
#: Endings of files converted on load: ONNX models and CSV layer tables.
IMPORT_SUFFIXES = tuple(IMPORT_FORMATS)


def import_suffix(path: str | os.PathLike) -> str:
    """The (lower-case) suffix of an importable file; a WorkloadError naming the file for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in IMPORT_FORMATS:
        raise WorkloadError(f"{display_path(Path(path))}: cannot import a {suffix or 'suffix-less'} file — give an"
                            " .onnx model or a .csv layer table")
    return suffix


def import_file(path: str | os.PathLike, name: str | None = None, **onnx_options) -> ImportResult:
    """:func:`~imc_moo.workloads.onnx_convert.import_onnx` (with ``onnx_options``) for ``.onnx``,
    :func:`~imc_moo.workloads.layer_table.load_layer_table` for ``.csv``."""
    if import_suffix(path) == ".onnx":
        from imc_moo.workloads.onnx_convert import import_onnx

        return import_onnx(path, name=name, **onnx_options)
    from imc_moo.workloads.layer_table import load_layer_table

    if onnx_options:
        raise WorkloadError(f"{display_path(Path(path))}: {next(iter(onnx_options))} applies to ONNX models, not"
                            " layer tables — drop it")
    return load_layer_table(path, name=name)
