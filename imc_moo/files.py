"""The one way imc-moo writes a file, and the small file helpers every layer shares.

:func:`write_atomic` writes through a uniquely named temporary file in the target's directory and an atomic rename,
so a reader (another process, a resumed sweep, a crash) sees the old file or the whole new one, never a part. The
file gets the permissions an ordinary ``open(path, "w")`` would give it (``0o666`` less the process umask), not
the ``0o600`` of :func:`tempfile.mkstemp`: results on a shared file system stay readable by the group. If anything
fails, the temporary file is removed and the old file is untouched.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

#: The process umask, read once at import (reading it means setting it, which is not thread-safe).
_UMASK = os.umask(0)
os.umask(_UMASK)
#: The mode of a file this module writes.
FILE_MODE = 0o666 & ~_UMASK
#: The mode of a directory an ordinary ``mkdir`` makes (a directory made by :func:`tempfile.mkdtemp` and renamed
#: into place gets it: a report directory, say).
DIR_MODE = 0o777 & ~_UMASK


def write_atomic(path: str | os.PathLike, content: str | bytes | Callable[[IO[bytes]], None], *,
                 durable: bool = False) -> Path:
    """Write ``content`` to ``path`` atomically and return the path.

    Args:
        path: the file to write (its directory must exist).
        content: text (written as UTF-8), bytes, or a callable that writes into the binary file handle it is given
            (``numpy.savez``, ``Figure.savefig``).
        durable: flush the data to the disk before the rename (``os.fsync``), for files a crash must not empty.

    Raises:
        OSError: the directory is missing or not writable, or the disk is full (nothing is left behind).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def file_digest(path: str | os.PathLike) -> str:
    """sha256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def current_digest(path: str | os.PathLike) -> str:
    """:func:`file_digest` of a file as it is now, hashed again only when its modification time or size changed
    (a file read for every job of a sweep is hashed once per process)."""
    stat = os.stat(path)
    return _digest_of(Path(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)
def _digest_of(path: Path, mtime_ns: int, size: int) -> str:
    return file_digest(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`write_atomic` of UTF-8 text."""
    return write_atomic(path, text)


def float_text(value: float) -> str:
    """A float as imc-moo writes it into a CSV: 10 significant digits, and always with a decimal point or an
    exponent (``0.0``, ``4096.0``, ``1.5e-09``, ``inf``), so a float column whose values happen to be whole reads
    back as float, not int."""
    text = f"{value:.10g}"
    return text if "." in text or "e" in text or "n" in text else text + ".0"  # "n": inf, nan


def csv_text(table, header: bool = True) -> str:
    """A DataFrame as the CSV imc-moo writes: no index, floats to 10 significant digits (exact enough for every
    quantity imc-moo reports, and stable across platforms) with a decimal point or an exponent
    (:func:`float_text`), so each column reads back (``pandas.read_csv``) with the dtype it was written with,
    whatever its values. Each row's text depends on that row only, so the text of consecutive row blocks (the
    header with the first) joins into the text of the whole table."""
    return table.to_csv(index=False, header=header, float_format=float_text)


def write_csv(path: str | os.PathLike, table) -> Path:
    """:func:`write_atomic` of a DataFrame as CSV (:func:`csv_text`)."""
    return write_atomic(path, csv_text(table))


def markdown_table(table, number: Callable[[str, Any], str] = lambda column, v: f"{v:.4g}") -> str:
    """A DataFrame as a markdown table; float cells are formatted by ``number(column, value)``; ``_(no rows)_``
    for an empty one."""
    if table.empty:
        return "_(no rows)_"
    cols = [str(c) for c in table.columns]

    def cell(column: str, v) -> str:
        if isinstance(v, (float, np.floating)):
            return number(column, v)
        # labels such as rram_cnn4[deployment=resident] would read as markdown links, and | ends a cell
        return str(v).replace("[", "\\[").replace("]", "\\]").replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(c, v) for c, v in zip(cols, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
