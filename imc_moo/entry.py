"""The console entry points, as thin as Python allows: each imports its command only inside a handler for Ctrl-C,
so an interrupt during the imports or the start-up (pandas, pymoo, Hydra: about a second) ends the command with one
line and the shell's status 130, not a traceback. Once a search runs, :mod:`imc_moo.app.experiment` handles Ctrl-C
itself (the designs so far are kept)."""

from __future__ import annotations

import os
import sys

#: The shell's exit status for a command ended by SIGINT.
INTERRUPTED = 130


def _run(program: str, load, kept: str) -> None:
    try:
        status = load()()
        sys.stdout.flush()  # here, where a closed pipe can still be told apart from a real error
    except KeyboardInterrupt:
        print(f"{program}: interrupted (Ctrl-C); {kept}", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except BrokenPipeError:
        # the reader of our output went away (imc-moo --help | head -1): stop quietly, as other tools do; point
        # stdout at /dev/null so the interpreter's own flush at exit does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    sys.exit(status)


def imc_moo() -> None:
    """``imc-moo`` (:func:`imc_moo.app.experiment.cli`)."""
    def load():
        from imc_moo.app.experiment import cli
        return cli
    _run("imc-moo", load, "every file is written whole or not at all; a run without best.json is incomplete")


def imc_moo_report() -> None:
    """``imc-moo-report`` (:func:`imc_moo.report.main`)."""
    def load():
        from imc_moo.report.study import main
        return main
    _run("imc-moo-report", load, "the report's files are written whole or not at all")


def imc_moo_import() -> None:
    """``imc-moo-import`` (:func:`imc_moo.workloads.cli.main`)."""
    def load():
        from imc_moo.workloads.cli import main
        return main
    _run("imc-moo-import", load, "the network file is written whole or not at all")


def imc_moo_cache() -> None:
    """``imc-moo-cache`` (:func:`imc_moo.app.cache_command.main`)."""
    def load():
        from imc_moo.app.cache_command import main
        return main
    _run("imc-moo-cache", load, "entries are removed one by one; the rest stay")


def imc_moo_select() -> None:
    """``imc-moo-select`` (:func:`imc_moo.report.selection.main`)."""
    def load():
        from imc_moo.report.selection import main
        return main
    _run("imc-moo-select", load, "the selection's file is written whole or not at all")


def imc_moo_design() -> None:
    """``imc-moo-design`` (:func:`imc_moo.report.design.main`)."""
    def load():
        from imc_moo.report.design import main
        return main
    _run("imc-moo-design", load, "the report's directory is written whole or not at all")
