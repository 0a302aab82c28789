"""Shared fixtures: the cnn4 problems the algorithm tests search, ``imc-moo`` in-process and as a subprocess, and a
finished sweep made once per session per command line."""

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# The persistent tables of imc_moo.model.tabulated go to a directory of this session (subprocesses inherit it),
# not to the user's ~/.cache.
os.environ.setdefault("IMC_MOO_CACHE", tempfile.mkdtemp(prefix="imc_moo_test_cache_"))

from imc_moo.problem import WorkloadSetProblem  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
#: A finished run's files, as a bad input must leave them (contents are placeholders: only bytes are compared).
EARLIER_RUN = ("best.json", "archive.csv", "pareto.csv", "history.csv", "pareto.png")


# The method's problems under the reference model (the paper's numbers): the algorithms' tests check search
# mechanics on the landscape the method was designed on; the bounded model has its own tests
# (tests/model/test_performance.py, tests/problem/test_physics.py) and is what the app runs by default.
@pytest.fixture(scope="module")
def rram():
    return WorkloadSetProblem("cnn4", "rram", "edap", performance="reference")


@pytest.fixture(scope="module")
def sram():
    return WorkloadSetProblem("cnn4", "sram", "edap", performance="reference")


@pytest.fixture(scope="module")
def rram_eda():
    return WorkloadSetProblem("cnn4", "rram", "eda", performance="reference")


@pytest.fixture(scope="module")
def sram_eda():
    return WorkloadSetProblem("cnn4", "sram", "eda", performance="reference")


def imc_moo_process(*args: str, cwd: Path = REPO_ROOT, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """``imc-moo args...`` as a real process (``python -m imc_moo``), its output captured as text; Hydra's
    HYDRA_FULL_ERROR is unset so the process shows what a user sees."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "imc_moo", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout, **kw)


class Cli:
    """``imc-moo`` as the fault catalogue drives it: in-process for bad inputs (the CLI checks a config before Hydra
    starts, so this is fast), as a subprocess where a real process matters; and the snapshots that show nothing
    already written changed."""

    def __init__(self, capsys):
        self.capsys = capsys

    def run(self, argv: list[str]) -> tuple[int, list[str]]:
        """``imc-moo argv...`` in-process, expected to stop before Hydra starts: (exit code, non-empty stderr
        lines); a traceback fails the test."""
        from imc_moo.app import experiment

        saved, sys.argv = sys.argv, ["imc-moo", *argv]
        try:
            with pytest.raises(SystemExit) as exit_info:
                experiment.cli()
        finally:
            sys.argv = saved
        err = self.capsys.readouterr().err
        assert "Traceback" not in err, err
        return exit_info.value.code, [line for line in err.splitlines() if line.strip()]

    process = staticmethod(imc_moo_process)

    @classmethod
    def snapshot(cls, directory: Path) -> dict[str, str]:
        """Every file under ``directory`` (relative path -> content hash)."""
        return {name: digest for name, (digest, _) in cls.stamps(directory).items()}

    @staticmethod
    def stamps(directory: Path, logs: bool = True) -> dict[str, tuple[str, int]]:
        """Every file under ``directory``: relative path -> (content hash, modification time in ns); without the
        ``.log`` files if not ``logs`` (submitit appends each attempt's lines to a job's log)."""
        return {str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                for p in sorted(directory.rglob("*")) if p.is_file() and (logs or p.suffix != ".log")}

    def earlier_run(self, directory: Path) -> dict[str, str]:
        """An earlier run's files in ``directory`` (created), and their snapshot."""
        directory.mkdir(parents=True)
        for name in EARLIER_RUN:
            (directory / name).write_text(f"earlier {name}\n")
        return self.snapshot(directory)

    def error(self, args: list[str], tmp_path: Path, run_dir: Path | None = None) -> str:
        """The one error line of a bad input, checked twice: into a fresh directory (none is created) and, with
        ``overwrite=true``, into a directory holding an earlier run (not a byte of it changes)."""
        run_dir = run_dir or tmp_path / "run"
        code, lines = self.run([*args, f"hydra.run.dir={run_dir}"])
        assert code == 2, lines
        if run_dir == tmp_path / "run":
            assert not run_dir.exists(), "a bad input must not leave a run directory"
            before = self.earlier_run(tmp_path / "earlier")
            again = self.run([*args, "overwrite=true", f"hydra.run.dir={tmp_path / 'earlier'}"])
            assert again == (2, lines) or (again[0] == 2 and "overwrite" in args), again
            assert self.snapshot(tmp_path / "earlier") == before, "a bad input must not touch an earlier run"
        assert len(lines) == 1 and lines[0].startswith("imc-moo: error: "), lines
        return lines[0]


@pytest.fixture
def cli(capsys) -> Cli:
    """``imc-moo`` in-process and as a process (:class:`Cli`)."""
    return Cli(capsys)


@pytest.fixture(scope="session")
def finished_sweep_of(tmp_path_factory):
    """``finished_sweep_of(*overrides)``: the directory of a finished ``imc-moo -m overrides...`` (a real process;
    made once per session for each command line, so treat it as read-only: copy it before changing it)."""
    made: dict[tuple[str, ...], Path] = {}

    def make(*overrides: str, timeout: float = 600) -> Path:
        if overrides not in made:
            directory = tmp_path_factory.mktemp("sweep") / "sweep"
            res = imc_moo_process("-m", *overrides, f"hydra.sweep.dir={directory}", timeout=timeout)
            assert res.returncode == 0, res.stderr[-3000:]
            made[overrides] = directory
        return made[overrides]

    return make
