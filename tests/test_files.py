"""The one writer (imc_moo.files.write_atomic): whole files or none, the umask's mode, nothing left behind."""

import os
import stat

import numpy as np
import pytest

from imc_moo.files import FILE_MODE, file_digest, write_atomic, write_text


def test_a_written_file_has_the_umask_mode_not_mkstemps_private_one(tmp_path):
    path = write_text(tmp_path / "best.json", "{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    assert FILE_MODE == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_content_may_be_text_bytes_or_a_writer(tmp_path):
    write_atomic(tmp_path / "a.txt", "é\n")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    write_atomic(tmp_path / "c.npz", lambda fh: np.savez(fh, x=np.arange(3)), durable=True)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "é\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    with np.load(tmp_path / "c.npz") as z:
        assert z["x"].tolist() == [0, 1, 2]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_text(tmp_path / "summary.csv", "old\n")

    def fail(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(path, fail)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]


def test_file_digest_is_the_sha256_of_the_bytes(tmp_path):
    path = write_atomic(tmp_path / "x", b"abc")
    assert file_digest(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_current_digest_follows_the_file(tmp_path):
    """Cached per (path, mtime, size), yet an edited file gives its new digest."""
    from imc_moo.files import current_digest

    path = write_atomic(tmp_path / "net.yaml", b"a")
    first = current_digest(path)
    assert first == file_digest(path) == current_digest(path)
    write_atomic(path, b"ab")
    assert current_digest(path) == file_digest(path) != first


def test_a_csv_column_reads_back_with_the_dtype_it_was_written_with(tmp_path):
    """Floats whose values happen to be whole (a feasible fraction of 0 or 1, a hypervolume of 0, a violation sum
    of 0) read back as floats, not ints; the text of each row stays independent of the others."""
    import pandas as pd

    from imc_moo.files import csv_text, write_csv

    table = pd.DataFrame({"fraction": [0.0, 1.0], "hv": [0.0, 0.0], "big": [4096.0, 1e30], "x": [0.1 + 0.2, -0.0],
                          "n": [1, 2], "ok": [True, False], "text": ["a", "b"]})
    back = pd.read_csv(write_csv(tmp_path / "t.csv", table))
    assert dict(back.drop(columns="text").dtypes.astype(str)) == {
        "fraction": "float64", "hv": "float64", "big": "float64", "x": "float64", "n": "int64", "ok": "bool"}
    assert pd.api.types.is_string_dtype(back["text"])
    assert csv_text(table).splitlines()[1:] == ["0.0,0.0,4096.0,0.3,1,True,a", "1.0,0.0,1e+30,-0.0,2,False,b"]
    assert csv_text(table.head(1)) + csv_text(table.tail(1), header=False) == csv_text(table)
