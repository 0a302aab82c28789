"""Shared fixtures: the 4-workload problems the algorithm tests search (one instance per test module; every
run resets the problem's archive)."""

import os
import tempfile

import pytest

# The persistent tables of imc_moo.model.tabulated go to a directory of this session (subprocesses inherit it),
# not to the user's ~/.cache.
os.environ.setdefault("IMC_MOO_CACHE", tempfile.mkdtemp(prefix="imc_moo_test_cache_"))

from imc_moo.problem import WorkloadSetProblem


@pytest.fixture(scope="module")
def rram():
    return WorkloadSetProblem("cnn4", "rram", "edap")


@pytest.fixture(scope="module")
def sram():
    return WorkloadSetProblem("cnn4", "sram", "edap")


@pytest.fixture(scope="module")
def rram_eda():
    return WorkloadSetProblem("cnn4", "rram", "eda")


@pytest.fixture(scope="module")
def sram_eda():
    return WorkloadSetProblem("cnn4", "sram", "eda")
