"""The fault catalogue: bad input and faults a user meets off the happy path, each giving a readable line naming
the problem and the fix, the documented exit status, no traceback, and nothing already written lost or mixed. One
file per surface: the command line (test_cli_faults), network files (test_network_faults), the Python API
(test_api_faults), sweeps and resuming (test_sweep_faults), stopped, killed and concurrent runs
(test_signal_faults), damaged sweeps given to the report (test_report_faults). Grow it with every new case."""

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def finished_sweep(finished_sweep_of) -> Path:
    """A small finished sweep: three seeds of random search (copy it before damaging it)."""
    return finished_sweep_of("algorithm=random", "seed=0,1,2", "budget=120", "plots=false", "progress=false")
