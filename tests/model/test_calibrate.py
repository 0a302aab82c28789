"""Calibration (imc_moo.model.calibrate): refitting on the reference simulator's evaluations gives the packaged
coefficients, and the command finds its data from the installed module's place. Needs ``../shared/reference``
beside the checkout (there in development and CI); skipped elsewhere."""

import subprocess
import sys

import pytest

from imc_moo.model import calibrate
from imc_moo.model.api import packaged_coefficients

needs_reference = pytest.mark.skipif(not (calibrate.DEFAULT_REFERENCE / "cimloop_evaluations.csv").is_file(),
                                     reason=f"no reference evaluations at {calibrate.DEFAULT_REFERENCE}")


def test_the_packaged_data_and_report_are_where_the_module_says():
    assert (calibrate.DATA / "coefficients.json").is_file()
    assert calibrate.REPORT.parent.name == "benchmarks" and calibrate.REPORT.parent.parent.name == "docs"


@needs_reference
def test_refitting_reproduces_the_packaged_coefficients():
    ref = calibrate.load_reference(calibrate.DEFAULT_REFERENCE)
    fitted = calibrate.fit(ref, calibrate.component_energies(ref), ~calibrate.held_out(ref.design_key))
    assert fitted["theta"] == packaged_coefficients()["theta"]


def test_a_missing_reference_is_one_line_and_status_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "imc_moo.model.calibrate", "--check-only", "--reference",
                           str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error:")
