"""The persistent cache (parsed networks, the model's tables): entries that are data, verified when read back.

An entry is one ``.npz`` file of plain arrays, read with ``allow_pickle=False``: nothing in it can run code. It
carries the key of what it was computed from (a network's content hash, the model's code hash) and a sha256 checksum
of its arrays; :func:`load_entry` also checks every array's dtype kind and rank. A missing entry is a plain miss; a
damaged, truncated, tampered, swapped or foreign one is a miss too, with one warning line on stderr naming the file:
the caller recomputes the entry and replaces it, so a bad cache costs time, never a crash or a wrong number. Saves
go through :func:`imc_moo.files.write_atomic`; the temporary files of saves that were killed are removed by later
saves once they are an hour old.

Trust: the checksum catches damage and mix-ups, not a determined forger (who can recompute it). Give a shared cache
directory (``$IMC_MOO_CACHE``) to one user or a group you trust, writable by them only; the files get the umask's
mode, like every file imc-moo writes.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from imc_moo.files import write_atomic

#: Reserved array names of an entry: what it was computed from, and the checksum of the other arrays.
KEY, CHECKSUM = "_key", "_checksum"
#: A save's temporary file older than this [s] belongs to a save that was killed.
STALE_TEMPORARY_S = 3600.0
#: Entries already warned about in this process (one line each).
_warned: set[str] = set()


def _checksum(key: str, arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(key.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def warn(path: Path, reason: str) -> None:
    """One line on stderr (once per file and process): a cache entry was ignored, and why."""
    if str(path) not in _warned:
        _warned.add(str(path))
        print(f"imc-moo: warning: ignoring the cache entry {path} ({reason}); it is recomputed and replaced",
              file=sys.stderr)


def save_entry(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` (plain numeric, bool or str arrays) as the entry ``path`` computed from ``key``; a cache
    that cannot be written (read-only, full) is skipped silently: it only costs a later process its head start."""
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    payload = {**arrays, KEY: np.array(key), CHECKSUM: np.array(_checksum(key, arrays))}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda fh: np.savez(fh, **payload))
    except OSError:
        return
    remove_stale_temporaries(path.parent)


def load_entry(path: Path | None, key: str, spec: Mapping[str, tuple[str, int]]) -> dict[str, np.ndarray] | None:
    """The arrays of the entry ``path`` if it is there and sound, else None (a miss; a damaged one is warned of).

    Args:
        path: the entry (None: no cache).
        key: what the entry must have been computed from.
        spec: array name -> (dtype kinds allowed, e.g. ``"iu"`` or ``"f"``, and the rank).
    """
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as err:  # noqa: BLE001 - a damaged file of any kind (BadZipFile, zlib, OSError...) is a miss
        warn(path, f"unreadable: {' '.join(str(err).split())[:120] or type(err).__name__}")
        return None
    stored_key, stored_sum = arrays.pop(KEY, None), arrays.pop(CHECKSUM, None)
    if stored_key is None or stored_sum is None:
        reason = "made by another version of imc-moo (no key or checksum)"
    elif str(stored_key) != key:
        reason = "computed from something else (its key differs)"
    elif set(arrays) != set(spec):
        reason = f"unexpected arrays {sorted(set(arrays) ^ set(spec))}"
    elif any(arrays[n].dtype.kind not in kinds or arrays[n].ndim != rank for n, (kinds, rank) in spec.items()):
        reason = "an array of the wrong dtype or rank"
    elif str(stored_sum) != _checksum(key, arrays):
        reason = "its checksum does not match its contents"
    else:
        return arrays
    warn(path, reason)
    return None


def remove_stale_temporaries(directory: Path, max_age_s: float = STALE_TEMPORARY_S) -> None:
    """Remove ``.*.tmp`` files of :func:`imc_moo.files.write_atomic` older than ``max_age_s`` in ``directory``
    (saves that were killed before their rename; a live save takes seconds)."""
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            try:
                if now - entry.stat().st_mtime > max_age_s:
                    os.unlink(entry.path)
            except OSError:
                pass
