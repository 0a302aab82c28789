"""The persistent cache read back (imc_moo.cache): it holds data only (a planted pickle never runs), and a damaged,
tampered or swapped entry is a miss with one warning line naming the file: the results are the same bytes as with
no cache at all, and the entry is rewritten sound."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from imc_moo.paths import PROBLEMS_DIR

#: Evaluate a fixed sample of designs on two packaged networks; the table goes to stdout as CSV.
EVALUATE = """
import numpy as np, sys, imc_moo
from imc_moo.problem import make_space
space = make_space("rram")
designs = space.decode(space.sample(200, np.random.default_rng(7)))
sys.stdout.write(imc_moo.evaluate(designs, ["alexnet", "mobilenet_v3"], memory="rram").to_csv(index=False))
"""


def evaluate(cache) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMC_MOO_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-c", EVALUATE], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def reference() -> str:
    """The table with no cache at all."""
    return evaluate("off").stdout


@pytest.fixture(scope="module")
def filled_once(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("cache") / "cache"
    evaluate(cache)
    return cache


@pytest.fixture
def filled(tmp_path, filled_once) -> Path:
    """A cache directory filled by one run (a copy of one made once per module)."""
    shutil.copytree(filled_once, tmp_path / "cache")
    return tmp_path / "cache"


class Planted:
    """Unpickling it would create the file ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_never_runs(tmp_path, filled, reference):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Planted(marker))
    for entry in [*filled.glob("networks/*"), *filled.glob("tables/*")]:
        entry.write_bytes(payload)  # every entry, at the very names the tool reads
    for name in ("alexnet", "mobilenet_v3"):  # and where imc-moo 0.1.0 kept parsed networks as pickles
        digest = hashlib.sha256((PROBLEMS_DIR / f"{name}.yaml").read_bytes() + b"\0" + b"1").hexdigest()[:32]
        (filled / "networks" / f"{name}-{digest}.pkl").write_bytes(payload)
    done = evaluate(filled)
    assert not marker.exists(), "a pickle from the cache was loaded"
    assert done.stdout == reference
    assert "ignoring the cache entry" in done.stderr


def _tables(cache: Path) -> list[Path]:
    return sorted(cache.glob("tables/*.npz"))


def _rewrite(path: Path, change) -> None:
    """Rewrite the npz ``path`` with ``change(arrays)`` applied (its stored checksum kept as it was)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


TAMPER = [
    ("negated sums", lambda p: _rewrite(p, lambda a: a.update(sums=-a["sums"]))),
    ("NaN sums", lambda p: _rewrite(p, lambda a: a.update(sums=np.full_like(a["sums"], np.nan)))),
    ("keys of another dtype", lambda p: _rewrite(p, lambda a: a.update(keys=a["keys"].astype(float)))),
    ("no checksum (an older version)", lambda p: _rewrite(p, lambda a: a.pop("_checksum"))),
    ("truncated", lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])),
    ("not a zip file", lambda p: p.write_bytes(b"\x00" * 100)),
    ("empty", lambda p: p.write_bytes(b"")),
]


@pytest.mark.parametrize("damage", [d for _, d in TAMPER], ids=[i for i, _ in TAMPER])
def test_a_damaged_table_is_a_miss_with_one_warning_and_is_rewritten(filled, reference, damage):
    for path in _tables(filled):
        damage(path)
    done = evaluate(filled)
    assert done.stdout == reference
    warnings = [line for line in done.stderr.splitlines() if "ignoring the cache entry" in line]
    assert len(warnings) == len(_tables(filled)) and all("tables/" in w for w in warnings), done.stderr
    if damage is TAMPER[0][1]:  # rewritten sound: no warning the second time
        again = evaluate(filled)
        assert again.stdout == reference and "ignoring" not in again.stderr


def test_swapped_tables_are_refused_by_their_key(filled, reference):
    a, b = _tables(filled)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    done = evaluate(filled)
    assert done.stdout == reference
    assert done.stderr.count("computed from something else") == 2, done.stderr


def test_a_damaged_network_entry_is_a_miss(filled, reference):
    for path in filled.glob("networks/*.npz"):
        _rewrite(path, lambda a: a.update(C=a["C"] * 2))  # another network under the same file's key
    done = evaluate(filled)
    assert done.stdout == reference and "checksum does not match" in done.stderr


def test_temporaries_of_killed_saves_are_removed(tmp_path, filled):
    stale = filled / "tables" / ".old.npz.abc.tmp"
    fresh = filled / "tables" / ".live.npz.def.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    for path in _tables(filled):
        path.unlink()  # the next run saves again
    evaluate(filled)
    assert not stale.exists() and fresh.exists()  # a save in progress elsewhere is left alone
