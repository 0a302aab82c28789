"""Workloads: the networks the accelerators are designed for, and how they get into the library.

In the order data flows: :mod:`.network` (the Network type and its validation) and :mod:`.activity` (activity
factors from value histograms); the importers of a user's own network, :mod:`.layer_table` (CSV) and the ONNX
converter :mod:`.onnx_convert` (with :mod:`.onnx_model`, :mod:`.onnx_fold`, :mod:`.onnx_layers` and
:mod:`.calibration`), which both return a :class:`.result.ImportResult`; :mod:`.importing`, the format dispatch by
suffix; :mod:`.library` (search path, loading, caches; ``.onnx``/``.csv`` entries go through the dispatch);
:mod:`.writer` (the YAML file) and :mod:`.cli` (``imc-moo-import``). :mod:`.onnx_import` only re-exports, for one
release, the names the former single module offered.

The importers load onnx only when a model is imported, so ``import imc_moo.workloads`` stays light.
"""

from imc_moo.files import file_digest  # re-exported: here in 0.1.0
from imc_moo.workloads.library import (
    IMPORT_SUFFIXES,
    NETWORK_KEYS,
    PATH_SUFFIXES,
    PROBLEMS_DIR,
    PROBLEMS_ENV,
    SET_KEYS,
    SETS_SUBDIR,
    YAML_SUFFIXES,
    ProblemDirs,
    available_networks,
    available_sets,
    load_network,
    load_workloads,
    network_files,
    resolve_workloads,
    search_path,
    workload_label,
)
from imc_moo.workloads.network import (
    DEFAULT_AIN,
    DEFAULT_AW,
    LAYER_KEYS,
    MAX_LAYER_COUNT,
    N_BITS_PER_CELL,
    REQUIRED_FIELDS,
    SHAPE_FIELDS,
    Network,
    WorkloadError,
    display_path,
    network_from_layers,
    parse_layer,
)

__all__ = [
    "DEFAULT_AIN", "DEFAULT_AW", "IMPORT_SUFFIXES", "LAYER_KEYS", "MAX_LAYER_COUNT", "NETWORK_KEYS",
    "N_BITS_PER_CELL", "Network", "PATH_SUFFIXES", "PROBLEMS_DIR", "PROBLEMS_ENV", "ProblemDirs",
    "REQUIRED_FIELDS", "SETS_SUBDIR", "SET_KEYS", "SHAPE_FIELDS", "WorkloadError", "YAML_SUFFIXES",
    "available_networks", "available_sets", "display_path", "file_digest", "load_network", "load_workloads",
    "network_files", "network_from_layers", "parse_layer", "resolve_workloads", "search_path", "workload_label",
]
