"""``imc-moo-cache``: where the persistent cache is, what it holds, and clearing it.

    imc-moo-cache info            # location, entries and size per kind, and how much is from older model code
    imc-moo-cache clear --stale   # remove the entries older model code wrote (no run reads them again)
    imc-moo-cache clear           # remove every entry (the next runs compute them again)

The cache (:func:`imc_moo.paths.cache_dir`; ``$IMC_MOO_CACHE``, default ``~/.cache/imc_moo``, ``off`` switches it
off) holds parsed networks (``networks/``), the reference model's tabulated sums (``tables/``) and the bounded model's
(``bounded/``). Every entry is keyed by the code it came from, so a changed model writes new entries beside the old
ones, which stay until cleared.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from imc_moo.paths import CACHE_ENV, cache_dir

#: What each subdirectory holds.
KINDS = {"networks": "parsed networks", "tables": "reference model's sums", "bounded": "bounded model's sums"}


def _current_suffixes() -> dict[str, str | None]:
    """The end of an entry's name written by this code, per kind (None: no code digest in the name)."""
    from imc_moo.model.performance import code_digest
    from imc_moo.model.tabulated import model_digest

    return {"networks": None, "tables": f"-{model_digest()}.npz", "bounded": f"-{code_digest()}.npz"}


def entries(root: Path) -> dict[str, list[tuple[Path, bool]]]:
    """Per kind, the cache's entries and whether each is stale (written by other model code)."""
    current = _current_suffixes()
    out: dict[str, list[tuple[Path, bool]]] = {}
    for kind in KINDS:
        files = sorted(p for p in (root / kind).glob("*") if p.is_file()) if (root / kind).is_dir() else []
        suffix = current[kind]
        out[kind] = [(p, suffix is not None and not p.name.endswith(suffix)) for p in files]
    return out


def _mb(paths) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="imc-moo-cache", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="where the cache is and what it holds")
    clear = sub.add_parser("clear", help="remove the cache's entries")
    clear.add_argument("--stale", action="store_true", help="only those older model code wrote")
    args = parser.parse_args(argv)
    root = cache_dir()
    if root is None:
        print(f"imc-moo-cache: the cache is off ({CACHE_ENV}={os.environ.get(CACHE_ENV)}): nothing is kept between "
              "runs")
        return 0
    how = f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else f"the default; set ${CACHE_ENV} to move it, or =off"
    found = entries(root)
    if args.command == "info":
        total = sum(_mb(p for p, _ in e) for e in found.values())
        print(f"cache: {root} ({how}), {total:.1f} MB")
        for kind, e in found.items():
            stale = [p for p, old in e if old]
            print(f"  {kind + '/':10s} {len(e):5d} entries {_mb(p for p, _ in e):9.1f} MB  {KINDS[kind]}"
                  + (f"; {len(stale)} from older model code ({_mb(stale):.1f} MB: imc-moo-cache clear --stale)"
                     if stale else ""))
        return 0
    removed = [p for e in found.values() for p, old in e if old or not args.stale]
    freed = _mb(removed)
    for p in removed:
        p.unlink(missing_ok=True)
    what = "stale entries" if args.stale else "entries"
    print(f"imc-moo-cache: removed {len(removed)} {what} ({freed:.1f} MB) from {root}")
    return 0
