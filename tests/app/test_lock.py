"""One imc-moo process per output directory (imc_moo.app.lock). Runs refused and killed runs end to end are in
tests/faults/test_signal_faults.py."""

import os
import subprocess
import sys

import pytest

from imc_moo.app.lock import LOCK_FILE, DirectoryInUse, claim


def test_a_claimed_directory_is_refused_to_a_second_claim_naming_the_owner(tmp_path):
    with claim(tmp_path / "run") as directory:
        assert (directory / LOCK_FILE).read_text() == str(os.getpid())
        with pytest.raises(DirectoryInUse, match=f"pid {os.getpid()}.*hydra.sweep.dir=") as err:
            with claim(tmp_path / "run", key="hydra.sweep.dir"):
                pass
        assert "\n" not in str(err.value)
    assert not (tmp_path / "run" / LOCK_FILE).exists()  # released and removed


def test_a_killed_holder_leaves_no_claim(tmp_path):
    """The kernel drops the lock with its process: a SIGKILLed run's directory can be claimed at once."""
    code = ("import sys, time; from imc_moo.app.lock import claim\n"
            f"with claim({str(tmp_path / 'run')!r}):\n    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DirectoryInUse):
            with claim(tmp_path / "run"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with claim(tmp_path / "run"):
        pass
