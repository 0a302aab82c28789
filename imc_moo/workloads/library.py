"""The workload library: finding, loading and resolving the networks in ``problems/`` and the user's directories.

A network file ``problems/<name>.yaml`` holds ``name``, ``description`` and ``layers``, a list of mappings with
the layer shape in Timeloop notation — ``C`` input channels, ``M`` output channels, ``R`` x ``S`` filter,
``P`` x ``Q`` output, ``G`` groups (depthwise convs: G = channels, C = M = 1) — plus the activity factors the cost
model uses: ``ain``, the mean input value, and ``aw``, the mean weight-slice value at 1..8 bits per cell (both
dimensionless, in [0, 1]). A set file ``problems/sets/<name>.yaml`` names an ordered list of networks.

Names are looked up on a search path (:func:`search_path`): the directories of ``$IMC_MOO_PROBLEMS``
(``os.pathsep``-separated), then the packaged library :data:`PROBLEMS_DIR` (the repository's ``problems/``,
installed as ``imc_moo/problems``), which is always there. The first directory holding ``<name>.yaml`` (or
``sets/<name>.yaml``) wins, so a user file shadows a packaged network or set of the same name. Functions taking
``problems_dir`` use that search path when it is None, only that directory when one is given, and exactly the
listed directories for a list (e.g. ``search_path(extra_dirs)``). A workload entry ending in ``.yaml``/``.yml``
is a path to a network file, one ending in ``.onnx`` an ONNX model converted by
:mod:`imc_moo.workloads.onnx_convert`, one ending in ``.csv`` a plain layer table
(:mod:`imc_moo.workloads.layer_table`), both through :func:`imc_moo.workloads.importing.import_file`; the network
is named by the file stem. Imported files are converted once per file content (sha256), so repeated loads are free.

A network file may also carry ``source`` and ``activity`` mappings (written by ``imc-moo-import``: where the
network and its ``ain``/``aw`` came from); the loader accepts them and does not use them.

Every problem is reported as a :class:`WorkloadError` with a one-line message naming the file, the layer, the
problem and the fix.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

# PROBLEMS_DIR, the packaged workload library: ``problems/`` in the repository, ``imc_moo/problems`` installed.
from imc_moo.cache import load_entry, save_entry, warn
from imc_moo.files import current_digest
from imc_moo.paths import PROBLEMS_DIR, cache_dir
from imc_moo.workloads.importing import IMPORT_SUFFIXES, import_file  # the converters load on first use
from imc_moo.workloads.network import SHAPE_FIELDS, Network, WorkloadError, display_path, network_from_layers

#: Environment variable with extra library directories (``os.pathsep``-separated), searched before PROBLEMS_DIR.
PROBLEMS_ENV = "IMC_MOO_PROBLEMS"
SETS_SUBDIR = "sets"
#: Endings of network files in the library format.
YAML_SUFFIXES = (".yaml", ".yml")
#: A workload entry with one of these endings is a path to a network file rather than a name.
PATH_SUFFIXES = YAML_SUFFIXES + IMPORT_SUFFIXES
#: ``problems_dir`` arguments: None (the search path), one directory (just that one), or a list of directories.
ProblemDirs = str | os.PathLike | Iterable[str | os.PathLike] | None
#: Top-level keys of a network file; ``source`` and ``activity`` (provenance, written by imc-moo-import) are optional.
NETWORK_KEYS = ("name", "description", "source", "activity", "layers")
SET_KEYS = ("name", "description", "networks")
#: libyaml's safe loader when PyYAML was built with it (about 10x faster on the large transformer files).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# ----------------------------------------------------------------------------------------------------------------
# Files


def _read_mapping(path: Path, allowed: Sequence[str], what: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a top-level mapping with keys from ``allowed``."""
    file = display_path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise WorkloadError(f"{file}: malformed YAML{at}: {exc.problem} — fix the YAML syntax") from exc
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise WorkloadError(f"{file}: cannot read {what}: {reason} — fix or regenerate the file") from exc
    if not isinstance(data, dict):
        raise WorkloadError(
            f"{file}: expected a top-level mapping with keys {', '.join(allowed)}, got {type(data).__name__}"
            f" — write the {what} as a YAML mapping"
        )
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise WorkloadError(f"{file}: unknown top-level key {unknown[0]!r} — use only {', '.join(allowed)}")
    name = data.get("name", path.stem)
    if name != path.stem:
        raise WorkloadError(
            f"{file}: name {name!r} differs from the file name {path.stem!r} — make them equal"
        )
    return data


@functools.lru_cache(maxsize=64)
def _load_file(path: Path, mtime_ns: int) -> Network:
    """A network file, parsed and validated (or as an earlier process parsed it: :func:`_parsed_before`);
    ``mtime_ns`` only keys the in-process cache, so an edited file is read again."""
    try:
        content = path.read_bytes()
    except OSError:
        content = None  # _read_mapping reports it
    cached = _parsed_before(path, content)
    if cached is not None:
        return cached
    network = _parse_file(path)
    _keep_parsed(path, content, network)
    return network


#: Parsed networks persist beside the model's tables (``$IMC_MOO_CACHE``): parsing mixed9's YAML takes ~0.2 s. Each is
#: an entry of :mod:`imc_moo.cache` (plain arrays, verified when read back); the version is part of its key.
_PARSED_VERSION = 2
#: The arrays of a parsed-network entry: the Network's fields, each (dtype kinds, rank).
_NETWORK_ARRAYS = {**dict.fromkeys(SHAPE_FIELDS, ("i", 1)), "ain": ("f", 1), "aw": ("f", 2), "depthwise": ("b", 1),
                   "einsum": ("b", 1), "layer_names": ("U", 1), "name": ("U", 0)}


def _parsed_entry(path: Path, content: bytes | None) -> tuple[Path | None, str]:
    """``(<cache>/networks/<stem>-<sha256 of the file's bytes>.npz, key)``; the path None without a cache or a
    readable file."""
    root = cache_dir()
    if root is None or content is None:
        return None, ""
    digest = hashlib.sha256(content + b"\0" + str(_PARSED_VERSION).encode()).hexdigest()
    return root / "networks" / f"{path.stem}-{digest[:32]}.npz", f"network|{path.stem}|{digest}"


def _parsed_before(path: Path, content: bytes | None) -> Network | None:
    """The network an earlier process parsed from these exact bytes, if any (a damaged entry is a miss)."""
    entry, key = _parsed_entry(path, content)
    arrays = load_entry(entry, key, _NETWORK_ARRAYS)
    if arrays is None:
        return None
    fields = {name: arrays[name] for name in _NETWORK_ARRAYS if name not in ("name", "layer_names")}
    try:  # validated and made read-only again by Network itself
        network = Network(name=str(arrays["name"]), layer_names=tuple(str(n) for n in arrays["layer_names"]),
                          **fields)
    except WorkloadError as err:
        assert entry is not None  # load_entry found it
        warn(entry, f"not a valid network: {err}")
        return None
    return network if network.name == path.stem else None


def _keep_parsed(path: Path, content: bytes | None, network: Network) -> None:
    """Save a parsed network for later processes (a cache that cannot be written is skipped)."""
    entry, key = _parsed_entry(path, content)
    if entry is None:
        return
    arrays = {f.name: getattr(network, f.name) for f in dataclasses.fields(Network)}
    arrays["layer_names"] = np.array(network.layer_names, dtype=str)
    arrays["name"] = np.array(network.name)
    save_entry(entry, key, arrays)


def _parse_file(path: Path) -> Network:
    """Parse and validate a network file."""
    file = display_path(path)
    data = _read_mapping(path, NETWORK_KEYS, "network")
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise WorkloadError(f"{file}: 'layers' must be a non-empty list of layer mappings — add the layers")
    for key in ("source", "activity"):
        if key in data and not isinstance(data[key], (dict, str)):
            raise WorkloadError(f"{file}: '{key}' must be a mapping or a string, got {type(data[key]).__name__}"
                                f" — fix it or drop it (it is only a record)")
    return network_from_layers(path.stem, layers, file)


#: Imported networks by (content sha256, suffix, name): the same bytes at another path or time are not converted
#: again. Bounded; the oldest entry goes first.
_IMPORTED: dict[tuple[str, str, str], Network] = {}
_IMPORTED_MAX = 32


def _load_imported(path: Path) -> Network:
    """The Network of an .onnx/.csv file named by its stem, converted once per file content."""
    key = (current_digest(path), path.suffix.lower(), path.stem)
    net = _IMPORTED.get(key)
    if net is None:
        net = import_file(path, name=path.stem).network
        while len(_IMPORTED) >= _IMPORTED_MAX:
            _IMPORTED.pop(next(iter(_IMPORTED)))
        _IMPORTED[key] = net
    return net


# ----------------------------------------------------------------------------------------------------------------
# Search path


def search_path(extra_dirs: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """The library directories in lookup order: ``extra_dirs``, then ``$IMC_MOO_PROBLEMS``, then PROBLEMS_DIR.

    ``$IMC_MOO_PROBLEMS`` is read on every call. Every extra directory must exist (a typo would otherwise only
    show up as an unknown network); a directory listed twice keeps its first place.
    """
    if isinstance(extra_dirs, (str, os.PathLike)):
        extra_dirs = [extra_dirs]
    env = os.environ.get(PROBLEMS_ENV, "")
    candidates = [(d, "library_dirs (problem.library_dirs)") for d in extra_dirs]
    candidates += [(d, f"${PROBLEMS_ENV}") for d in env.split(os.pathsep) if d.strip()]
    dirs: dict[Path, None] = {}
    for directory, source in candidates:
        path = Path(directory).expanduser()
        if not path.is_dir():
            raise WorkloadError(
                f"workload library directory {str(directory)!r} from {source} is not a directory — fix {source}"
                " (directories holding <network>.yaml and sets/<set>.yaml files)"
            )
        dirs.setdefault(path.resolve(), None)
    dirs.setdefault(PROBLEMS_DIR, None)
    return list(dirs)


def _dirs(problems_dir: ProblemDirs) -> list[Path]:
    """None: the search path; one directory: just that one (no env, no packaged library); a list: those."""
    if problems_dir is None:
        return search_path()
    if isinstance(problems_dir, (str, os.PathLike)):
        return [Path(problems_dir)]
    return [Path(d) for d in problems_dir]


def _is_path(entry: str | os.PathLike) -> bool:
    return isinstance(entry, os.PathLike) or str(entry).lower().endswith(PATH_SUFFIXES)


def workload_label(spec: str | os.PathLike | Iterable[str | os.PathLike]) -> str:
    """The workload entries as a name: names and set names as given, a path by its file stem, joined by ``+``
    (``["nets/squeezenet1_1.onnx", "resnet18"]`` -> ``squeezenet1_1+resnet18``)."""
    return "+".join(Path(t).stem if _is_path(t) else t for t in _tokens(spec))


def _find(name: str, dirs: Sequence[Path], subdir: str = "") -> Path | None:
    """The first ``<dir>/<subdir>/<name>.yaml`` on ``dirs`` that is a file."""
    for directory in dirs:
        path = directory / subdir / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def _names_in(dirs: Sequence[Path], subdir: str = "") -> list[str]:
    return sorted({p.stem for d in dirs for p in (d / subdir).glob("*.yaml") if p.is_file()})


def available_networks(problems_dir: ProblemDirs = None) -> list[str]:
    """Sorted names of the network files ``<dir>/*.yaml`` on the search path (or in ``problems_dir``)."""
    return _names_in(_dirs(problems_dir))


def available_sets(problems_dir: ProblemDirs = None) -> list[str]:
    """Sorted names of the set files ``<dir>/sets/*.yaml`` on the search path (or in ``problems_dir``)."""
    return _names_in(_dirs(problems_dir), SETS_SUBDIR)


def _available_text(dirs: Sequence[Path]) -> str:
    networks = ", ".join(available_networks(dirs)) or "(none)"
    sets = ", ".join(available_sets(dirs)) or "(none)"
    searched = ", ".join(display_path(d) for d in dirs)
    return f"available networks: {networks}; available sets: {sets} (searched {searched})"


def _unknown_fix(name: str) -> str:
    return (f"use one of these names, a path to a .yaml, .onnx or .csv file, or add {name}.yaml to a directory"
            f" listed in ${PROBLEMS_ENV}")


def _network_file(entry: str | os.PathLike, dirs: Sequence[Path]) -> Path:
    """The file of a workload entry: a path as given, or ``<name>.yaml`` from the first directory holding it."""
    if _is_path(entry):
        path = Path(entry).expanduser()
        if not path.is_file():
            raise WorkloadError(
                f"{display_path(path)}: network file not found — check the path (a workload ending in"
                f" {', '.join(PATH_SUFFIXES)} is a file path)"
            )
        return path
    path = _find(str(entry), dirs)
    if path is None:
        raise WorkloadError(f"unknown network {str(entry)!r}: {_available_text(dirs)} — {_unknown_fix(str(entry))}")
    return path


def load_network(name_or_path: str | os.PathLike, problems_dir: ProblemDirs = None) -> Network:
    """Load and validate one network, by name (``<name>.yaml`` on the search path, or in ``problems_dir``) or by
    a path to a .yaml/.yml file, an .onnx model or a .csv layer table; the network is named by the file stem.

    Results are cached per (resolved path, modification time) for network files and per file content (sha256)
    for imported ones, so repeated calls are cheap and edits are seen. An ONNX model with dynamic input
    dimensions cannot be loaded this way: import it with ``imc-moo-import --input-shape`` and use the .yaml.
    """
    path = _network_file(name_or_path, _dirs(problems_dir)).resolve()
    if path.suffix.lower() in IMPORT_SUFFIXES:
        return _load_imported(path)
    return _load_file(path, path.stat().st_mtime_ns)


def _set_networks(name: str, dirs: Sequence[Path]) -> list[str]:
    """Network names listed by the set file ``sets/<name>.yaml`` of the first directory holding it."""
    path = _find(name, dirs, SETS_SUBDIR)
    file = display_path(path)
    networks = _read_mapping(path, SET_KEYS, "workload set").get("networks")
    if not isinstance(networks, list) or not networks or not all(isinstance(n, str) for n in networks):
        raise WorkloadError(f"{file}: 'networks' must be a non-empty list of network names — list the networks")
    known = set(available_networks(dirs))
    for network in networks:
        if network not in known:
            raise WorkloadError(
                f"{file}: unknown network {network!r}: available networks: {', '.join(sorted(known))}"
                " — fix the set or add the network file"
            )
    return networks


def _tokens(spec: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    if isinstance(spec, (str, os.PathLike)):
        items = [spec]
    else:
        try:
            items = list(spec)
        except TypeError:
            raise WorkloadError(f"workloads must be a name, a path or a list of them, got {spec!r} — e.g. 'cnn4'"
                                " or ['resnet18', 'my_nets/tiny_cnn.yaml']") from None
    tokens = []
    for item in items:
        if isinstance(item, os.PathLike):
            tokens.append(os.fspath(item))
            continue
        if not isinstance(item, str):
            raise WorkloadError(
                f"workload entries must be names or file paths, got {item!r} — give network or set names such as"
                " resnet18, cnn4, or a path such as my_nets/tiny_cnn.yaml, model.onnx or layers.csv"
            )
        tokens.extend(t.strip() for t in item.split(",") if t.strip())
    return tokens


def resolve_workloads(spec: str | Sequence[str], problems_dir: ProblemDirs = None) -> list[str]:
    """Expand a workload spec into an ordered list of distinct networks: names, and paths as given.

    ``spec`` is a set name (``sets/<name>.yaml`` on the search path, e.g. ``cnn4``), a network name, a path to a
    network file (ending in .yaml, .yml, .onnx or .csv), a comma-separated string of these, or a list of them.
    Network names take precedence over set names; entries naming the same file keep the first one's place and
    spelling. Two different files with the same network name (file stem) are an error, since results are keyed by
    name.
    :func:`load_network` accepts every returned entry; the network's name is the file stem.
    """
    dirs = _dirs(problems_dir)
    tokens = _tokens(spec)
    if not tokens:
        raise WorkloadError(
            "empty workload set: give at least one network, e.g. workloads=[resnet18] or a set name such as cnn4"
        )
    networks, sets = set(available_networks(dirs)), set(available_sets(dirs))
    entries: list[str] = []
    for token in tokens:
        if _is_path(token) or token in networks:
            entries.append(token)
        elif token in sets:
            entries.extend(_set_networks(token, dirs))
        else:
            raise WorkloadError(f"unknown workload {token!r}: {_available_text(dirs)} — {_unknown_fix(token)}")
    by_file: dict[Path, str] = {}
    by_name: dict[str, str] = {}
    for entry in entries:
        path = _network_file(entry, dirs)
        first = by_name.setdefault(path.stem, entry)
        if by_file.setdefault(path.resolve(), entry) == entry and first != entry:
            raise WorkloadError(
                f"two different workloads are named {path.stem!r}: {first} and {entry} — rename one of the files"
                " (results are keyed by network name)"
            )
    return list(by_file.values())


def network_files(spec: str | Sequence[str], problems_dir: ProblemDirs = None) -> dict[str, Path]:
    """The file of every network of ``spec`` (as :func:`resolve_workloads` expands it), by network name: what a
    run's results were computed from (resuming compares their contents)."""
    dirs = _dirs(problems_dir)
    files = (_network_file(entry, dirs).resolve() for entry in resolve_workloads(spec, dirs))
    return {path.stem: path for path in files}


def load_workloads(spec: str | os.PathLike | Network | Sequence[str | os.PathLike | Network],
                   problems_dir: ProblemDirs = None) -> list[Network]:
    """The networks of :func:`resolve_workloads` ``(spec)``, loaded and validated, in order. ``spec`` may also be
    a :class:`Network` or a list mixing Network objects with names, set names and paths; an entry repeating a
    network keeps its first place, and two different networks may not share a name (results are keyed by it)."""
    dirs = _dirs(problems_dir)
    entries = [spec] if isinstance(spec, Network) else spec
    if not (isinstance(entries, (list, tuple)) and any(isinstance(e, Network) for e in entries)):
        return [load_network(entry, dirs) for entry in resolve_workloads(spec, dirs)]
    networks: dict[str, Network] = {}
    for entry in entries:
        for net in [entry] if isinstance(entry, Network) else load_workloads(entry, dirs):
            if networks.setdefault(net.name, net) is not net:
                raise WorkloadError(f"two different workloads are named {net.name!r} — rename one (results are "
                                    "keyed by network name)")
    if not networks:
        raise WorkloadError("empty workload set — give at least one network")
    return list(networks.values())
