"""One imc-moo process per output directory.

Two runs (or sweeps) started into the same ``hydra.run.dir`` would otherwise both pass the "no earlier results"
check and then write into one directory, leaving one run's best.json beside the other's archive. The CLI claims
the directory before Hydra writes anything into it: an advisory ``flock`` on a lock file holding the owner's pid.
The kernel drops the lock when its process dies, so a killed run (SIGKILL, a lost node) never leaves a stale
claim behind; a cleanly finished one also removes the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".imc_moo.lock"


class DirectoryInUse(ValueError):
    """Another live imc-moo process holds the output directory."""


def _owner(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def claim(directory: str | os.PathLike, key: str = "hydra.run.dir") -> Iterator[Path]:
    """Hold ``directory`` (created if missing) for this process while the block runs. Raises
    :class:`DirectoryInUse` at once if another process holds it; ``key`` names the override that picks another."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DirectoryInUse(f"{directory} is in use by another imc-moo process (pid {_owner(path)}): wait "
                                 f"for it to finish or choose another directory with {key}=...") from None
        # the holder may have removed the file between our open and our lock: then we locked an orphan; retry
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield directory
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # before unlocking, so no one locks the file we are about to remove
        os.close(fd)
