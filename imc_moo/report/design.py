"""``imc-moo-design``: one design's report, where its energy, time and area go, per network, per layer and per
component.

The design comes from a run directory (its best design, ``best.json``'s ``design``; ``--row N`` of ``pareto.csv``
or ``--design-id ID`` of ``pareto.csv`` / ``archive.csv`` instead), with parameters changed by ``key=value`` pairs if
given, or is given whole as ``key=value`` pairs with ``--workloads`` and ``--memory``. From a run the problem is the
run's own (its ``.hydra/config.yaml``: networks, performance model, bounds, batch, deployment and mix), and the
problem evaluates the design as the run did (:meth:`~imc_moo.problem.WorkloadSetProblem.table`), so every
per-network number is the one the run recorded (``best.json``'s ``per_workload``, ``pareto_networks.csv``).

The breakdown is the cost model's per-layer path (:func:`imc_moo.model.api.evaluate_set_layers` with ``details``)
with the problem's weight holding, as deployed: SRAM weights held on chip do not pay the weight loading, and
switching between networks (when it costs) is a component of its own. A network's components sum to its energy;
its latency is its layers' times, plus the amortised switching time, stretched to the power limit where that binds
(each part a row of ``components.csv``).

Files (:data:`REPORT_FILES`, :data:`FIGURES`; columns in ``docs/reference/outputs.md``), written into a fresh
directory that replaces nothing unless ``--force``: ``design.md``, ``networks.csv``, ``components.csv``,
``layers.csv``, ``energy_components.png``, ``layer_times.png``, ``area.png``; all of them or none.

A run with no feasible design has its least-violating design in ``best.json``: that is the design reported (what a
user looks at to learn why), marked infeasible with its violations. A partitioned chip's run is refused: report each
partition's design as ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imc_moo.files import DIR_MODE, markdown_table, write_csv, write_text

PROGRAM = "imc-moo-design"
#: The report's tables, in the order written (``design.md`` last of the text files).
REPORT_FILES = ("networks.csv", "components.csv", "layers.csv", "design.md")
#: The report's figures (``--no-plots`` leaves them out).
FIGURES = ("energy_components.png", "layer_times.png", "area.png")
#: The report directory of a run, when no ``-o`` is given.
DEFAULT_DIR = "design"
#: Layers per network shown in ``design.md`` (the slowest; every layer is in ``layers.csv``).
TOP_LAYERS = 10
#: Largest figure side [in]: 3,600 px at the 120 dpi figures are saved with, whatever the number of networks.
MAX_FIGURE_IN = 30.0

#: The design parameters: unit and meaning.
PARAMETERS = {
    "voltage": ("V", "supply voltage"),
    "bits_per_cell": ("bit", "bits stored per memory cell"),
    "base_latency_s": ("s", "clock period"),
    "xbar_rows": ("rows", "crossbar rows"),
    "xbar_cols": ("columns", "crossbar columns"),
    "router_group": ("–", "router groups"),
    "tiles_per_chip": ("–", "tiles per router group"),
    "macros_per_tile": ("–", "crossbar macros per tile"),
    "glb_depth": ("words", "global buffer depth in 2048-bit words"),
    "glb_mib": ("MiB", "global buffer"),
    "technology_nm": ("nm", "technology node"),
}
#: Readers' names of the energy components (:data:`imc_moo.model.cost.ENERGY_COMPONENTS`, the DRAM activations of
#: the bounded model, and the amortised switching of a deployment), in the order tables and figures show them.
ENERGY_NAMES = {
    "cell": "cells (crossbar reads)", "row": "row drivers", "adc": "ADCs", "glb": "GLB input reads",
    "glb_psum": "GLB partial sums", "ibuf": "input buffers", "obuf": "output buffers", "router": "routers",
    "dram": "DRAM weight fetch", "cell_write": "cell writes", "weight_drivers": "weight drivers",
    "dram_activations": "DRAM activations", "switching": "switching (amortised)",
}
#: Readers' names of what bounds time (:data:`imc_moo.model.performance.BOUNDS`; ``cycles``: the reference model's
#: clock cycles; ``switching``, ``power_limit``: the parts of a latency beyond its layers').
TIME_NAMES = {
    "compute": "crossbar reads (clock)", "pulses": "input pulse trains", "adc": "ADC conversions",
    "glb": "global-buffer port", "router": "routers", "dram": "DRAM interface", "write": "weight writes",
    "cycles": "clock cycles (reference model)", "switching": "switching (amortised)",
    "power_limit": "power-limit stretch",
}
#: Readers' names of the area components (:data:`imc_moo.model.cost.AREA_COMPONENTS`).
AREA_NAMES = {"adc": "ADCs and column periphery", "row_drivers": "row drivers", "cells": "cells",
              "buffers": "tile buffers", "glb": "global buffer"}
ENERGY_UNITS = (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12))
TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9), ("ps", 1e-12))
#: Per-layer columns that count things (written as integers).
_COUNTS = ("C", "M", "R", "S", "P", "Q", "G", "macs", "cycles", "reads", "copies", "reference_copies",
           "crossbars_per_copy", "crossbars", "row_groups", "col_groups", "weight_tiles", "weight_cells")


class DesignReportError(ValueError):
    """A design or run that cannot be reported, or a report that cannot be written: one line naming the problem and
    the fix."""


@dataclass
class DesignReport:
    """One design's report (:func:`design_report`): its tables as DataFrames, its markdown and where it was written.

    Attributes:
        source: what the design is (``the best design of runs/demo``, ``a design given as key=value``).
        problem: the problem it is evaluated on, one line (memory, networks, objectives, performance model, ...).
        design: the design's parameters (:data:`PARAMETERS`).
        parameters: ``parameter``, ``value``, ``unit``, ``meaning``: the design as ``design.md`` shows it.
        chip: the chip's area per component: ``component``, ``area_mm2`` [mm²], ``share`` (0-1), a ``total`` row last.
        networks: one row per network (``networks.csv``): ``energy_j`` [J], ``latency_s`` [s], ``bound``, power,
            TOPS/W, TOPS/mm², the time of its layers, switching and the power limit, and how it uses the crossbars.
        components: long (``components.csv``): ``network`` (``chip`` for area), ``quantity`` (``energy_j``,
            ``time_s``, ``area_mm2``), ``component``, ``value`` (in the unit the quantity's name says), ``share`` of
            the network's energy or latency, or of the chip's area (0-1).
        layers: long (``layers.csv``): one row per network x layer: its shape, energy in total and per component
            [J], time [s] and what bounds it, the time each resource needs [s], and its mapping (copies, crossbars,
            row and column groups, weight tiles, cell fill).
        summary: the chip's and the result's figures: ``crossbars``, ``cells``, ``weight_slices``, ``area_mm2``,
            ``power_limit_w`` [W], ``feasible``, ``edap`` [mJ·ms·mm²], ``aggregation``, ``performance``, ``batch``,
            ``holding`` (how the weights are held), ``held``, ``pays_weight_loading``.
        notes: what the reader must know (an infeasible design, numbers that differ from the run's record).
        markdown: ``design.md``'s text.
        directory: where the files were written (None: not written).
        files: the files written, in order.
    """

    source: str
    problem: str
    design: dict[str, Any]
    parameters: pd.DataFrame
    chip: pd.DataFrame
    networks: pd.DataFrame
    components: pd.DataFrame
    layers: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    markdown: str = ""
    directory: Path | None = None
    files: list[str] = field(default_factory=list)


# -- choosing the design and its problem ---------------------------------------------------------------------------
def _design_columns() -> tuple[str, ...]:
    from imc_moo.hardware import DESIGN_COLUMNS

    return tuple(DESIGN_COLUMNS)


def parse_assignments(items: Mapping[str, Any] | Sequence[str]) -> dict[str, float]:
    """Design parameters from ``key=value`` strings (or a mapping): each key a design parameter
    (:data:`PARAMETERS`), each value a number; ``glb_mib`` or ``glb_depth``, not both."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), v) for k, v in items.items()]
    else:
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep:
                raise DesignReportError(f"{item!r} is not a key=value pair: give design parameters as e.g. "
                                        "xbar_rows=256")
            pairs.append((key.strip(), value.strip()))
    known = _design_columns()
    out: dict[str, float] = {}
    for key, value in pairs:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise DesignReportError(f"unknown design parameter {key!r}{hint}: the parameters are {', '.join(known)}")
        if key in out:
            raise DesignReportError(f"{key} is given twice: give each design parameter once")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DesignReportError(f"{key}={value!r} is not a number: give e.g. {key}="
                                    f"{_example(key)}") from None
        if not math.isfinite(number):
            raise DesignReportError(f"{key}={value!r} is not a finite number: give e.g. {key}={_example(key)}")
        out[key] = number
    if "glb_mib" in out and "glb_depth" in out:
        raise DesignReportError("glb_mib and glb_depth are both given: give the global buffer once (glb_mib in MiB)")
    return out


def _example(key: str) -> str:
    return {"voltage": "0.8", "base_latency_s": "1e-9", "glb_mib": "2", "glb_depth": "8192",
            "technology_nm": "32", "bits_per_cell": "2"}.get(key, "64")


def _read_run(run: Path) -> dict:
    """A finished run's ``best.json`` (checked), or a one-line error saying what the directory is instead."""
    if not run.exists():
        raise DesignReportError(f"no such run directory {run}: give the directory of a finished run "
                                "(runs/<date>/<time>_<problem>_<algorithm>), or a design as key=value pairs with "
                                "--workloads and --memory")
    if not run.is_dir():
        raise DesignReportError(f"{run} is not a directory: give the directory of a finished run")
    if not (run / "best.json").is_file():
        if (run / "interrupted.json").is_file():
            raise DesignReportError(f"{run} is an incomplete run (interrupted.json, no best.json): finish it (the "
                                    "same imc-moo command again resumes a sweep's job; a single run reruns) or give "
                                    "one of its designs (archive.csv) as key=value pairs")
        raise DesignReportError(f"{run} has no best.json: not a finished run (still running, crashed or killed, or "
                                "not a run directory): give a finished run's directory")
    try:
        best = json.loads((run / "best.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DesignReportError(f"{run}/best.json is damaged ({' '.join(str(err).split())}): rerun the run") from None
    if not isinstance(best, dict) or not isinstance(best.get("design"), dict):
        raise DesignReportError(f"{run}/best.json is damaged (no design in it): rerun the run")
    if best.get("partitions") or any(str(k).startswith(("p0_", "place_")) for k in best["design"]):
        raise DesignReportError(f"{run} is a partitioned chip's run ({best.get('problem')}): imc-moo-design reports "
                                "a chip of one partition; give a partition's design as key=value pairs with its "
                                "networks (--workloads) and memory (--memory)")
    return best


def resolve_run(run: str | Path, design_id: int | None = None, row: int | None = None) -> tuple[Path, str | None]:
    """The run directory to report: ``run`` itself, or, for a sweep's directory, one of its finished jobs (the one
    whose ``pareto.csv`` or ``archive.csv`` holds ``design_id``; without it the job of the least feasible EDAP, the
    sweep's best chip) and a note saying which. ``row`` is one run's and needs the job's directory."""
    from imc_moo.report.readers import ReportError, find_runs

    run = Path(run)
    if not run.is_dir() or (run / "best.json").is_file() or (run / ".hydra").is_dir():
        return run, None
    try:
        jobs = [j for j in find_runs(run) if (j / "best.json").is_file()]
    except ReportError:
        return run, None  # not a sweep either: _read_run says what the directory is
    if not jobs:
        raise DesignReportError(f"{run} is a sweep without a finished run (no job has a best.json): finish the sweep "
                                "(the same command again resumes it) or give a design as key=value pairs")
    if row is not None:
        raise DesignReportError(f"--row picks a row of one run's pareto.csv, and {run} is a sweep of {len(jobs)} "
                                f"runs: give a job's directory (e.g. {jobs[0]}), or --design-id (imc-moo-select "
                                "prints it)")
    if design_id is not None:
        for job in jobs:
            for name in ("pareto.csv", "archive.csv"):
                try:
                    ids = pd.read_csv(job / name, usecols=["design_id"])["design_id"]
                except (OSError, ValueError):
                    continue
                if (ids == design_id).any():
                    return job, f"design {design_id} found in the sweep's run {job.relative_to(run)} ({name})"
        raise DesignReportError(f"no run of the sweep {run} evaluated a design with design_id {design_id}: take an "
                                "id from its pareto.csv files (imc-moo-select prints them)")
    scored = []
    for job in jobs:
        try:
            best = json.loads((job / "best.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if best.get("feasible") and isinstance(best.get("edap"), (int, float)):
            scored.append((float(best["edap"]), str(job), job))
    if not scored:
        raise DesignReportError(f"no run of the sweep {run} found a feasible design: give one of its job "
                                f"directories (e.g. {jobs[0]}) to report its least-violating design")
    edap, _, job = min(scored)
    return job, f"the sweep's best chip: run {job.relative_to(run)} (EDAP {edap:.6g} mJ·ms·mm², the least of " \
                f"{len(jobs)} finished runs)"


def _packaged_problems() -> list[str]:
    from imc_moo.paths import CONF_DIR

    return sorted(p.stem for p in (Path(CONF_DIR) / "problem").glob("*.yaml"))


def _run_problem(run: Path, best: dict, notes: list[str]):
    """The run's problem, rebuilt from its Hydra record (``.hydra/config.yaml``); a run without one (its summary
    alone, say) gets the packaged problem ``best.json`` names, with its performance model, batch and aggregation."""
    from imc_moo.app.config import build_problem, compose_config, one_line
    from imc_moo.app.resume import read_record
    from imc_moo.problem import PartitionedProblem

    cfg = read_record(run)
    try:
        if cfg is None:
            name = best.get("problem")
            if name not in _packaged_problems():
                raise DesignReportError(f"{run}/.hydra/config.yaml is missing or damaged, so the run's problem "
                                        "cannot be rebuilt: give the design as key=value pairs with --workloads "
                                        "and --memory")
            overrides = [f"problem={name}"]
            for key in ("performance", "batch", "aggregation"):
                if best.get(key) is not None:
                    overrides.append(f"problem.{key}={best[key]}")
            cfg = compose_config(overrides)
            notes.append(f"{run} has no readable .hydra/config.yaml: the problem is the packaged {name} with "
                         f"best.json's {', '.join(o.split('=')[0].removeprefix('problem.') for o in overrides[1:])}")
        problem = build_problem(cfg.problem)
    except DesignReportError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever the record holds, said in one line
        raise DesignReportError(f"cannot rebuild the problem of {run} from its .hydra/config.yaml: "
                                f"{one_line(err)}") from None
    if isinstance(problem, PartitionedProblem):
        raise DesignReportError(f"{run} is a partitioned chip's run: imc-moo-design reports a chip of one "
                                "partition; give a partition's design as key=value pairs with --workloads and --memory")
    return problem


def _picked_design(run: Path, best: dict, row: int | None, design_id: int | None) -> tuple[dict, str]:
    """The run's design to report (best.json's, or a row of pareto.csv / a design_id) and how to name it."""
    columns = _design_columns()
    if row is not None:
        table = _read_csv(run / "pareto.csv")
        if table.empty:
            raise DesignReportError(f"{run}/pareto.csv holds no design (the run found no feasible one): report its "
                                    "least-violating design (no --row), or one of archive.csv with --design-id")
        if not 0 <= row < len(table):
            raise DesignReportError(f"--row {row} is outside pareto.csv's {len(table)} rows: use 0..{len(table) - 1} "
                                    "(0: the least EDAP)")
        picked = table.iloc[row]
        return {c: picked[c] for c in columns if c in picked}, f"row {row} of {run}/pareto.csv"
    if design_id is not None:
        for name in ("pareto.csv", "archive.csv"):
            path = run / name
            if not path.is_file():
                continue
            table = _read_csv(path)
            if "design_id" not in table:
                continue
            found = table[table["design_id"] == design_id]
            if len(found):
                picked = found.iloc[0]
                return {c: picked[c] for c in columns if c in picked}, f"design {design_id} of {run}/{name}"
        raise DesignReportError(f"no design with design_id {design_id} in {run}/pareto.csv or archive.csv: pick one "
                                "of their design_id column (or --row N of pareto.csv)")
    feasible = "" if best.get("feasible", True) else " (least violating: no design is feasible)"
    return dict(best["design"]), f"the best design of {run}{feasible}"


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as err:
        if isinstance(err, pd.errors.EmptyDataError):
            return pd.DataFrame()
        raise DesignReportError(f"cannot read {path} ({' '.join(str(err).split())}): rerun the run") from None


def _genome(problem, design: Mapping[str, Any], where: str) -> np.ndarray:
    """The design's genome in the problem's space; a missing parameter or a value off the space's lists is one line
    naming it and the values allowed."""
    from imc_moo.hardware import GLB_WORDS_PER_MIB

    space = problem.space
    design = dict(design)
    if "glb_mib" in design and "glb_depth" not in design:
        design["glb_depth"] = float(design["glb_mib"]) * GLB_WORDS_PER_MIB
    missing = [k for k in space.names if k not in design]
    if missing:
        shown = ["glb_mib" if k == "glb_depth" else k for k in missing]
        raise DesignReportError(f"the design lacks {', '.join(shown)}: give {shown[0]}=<value> (one of "
                                f"{_allowed_text(space, missing[0])})")
    for key in space.names + tuple(space.fixed):
        if key not in design:
            continue
        allowed = np.asarray(space.values.get(key, (space.fixed.get(key),)), dtype=float)
        value = float(design[key])
        if not np.isclose(allowed, value, rtol=1e-9, atol=0).any():
            shown_key, shown = (("glb_mib", value / GLB_WORDS_PER_MIB) if key == "glb_depth" else (key, value))
            raise DesignReportError(f"{shown_key}={shown:g} is outside {where}: use one of "
                                    f"{_allowed_text(space, key)}")
    return space.encode(pd.DataFrame([{k: design[k] for k in design if k in _design_columns()}]))


def _allowed_text(space, key: str) -> str:
    from imc_moo.hardware import GLB_WORDS_PER_MIB

    values = space.values.get(key, (space.fixed.get(key),))
    if key == "glb_depth":
        values = tuple(v / GLB_WORDS_PER_MIB for v in values)
    return ", ".join(f"{v:g}" for v in values)


# -- the report's tables -------------------------------------------------------------------------------------------
def design_report(run: str | Path | None = None, *, design: Mapping[str, Any] | Sequence[str] | None = None,
                  row: int | None = None, design_id: int | None = None,
                  workloads: str | Sequence[str] | None = None, memory: str | None = None,
                  performance: str | None = None, batch: int | None = None, out: str | Path | None = None,
                  force: bool = False, plots: bool = True, top: int = TOP_LAYERS) -> DesignReport:
    """One design's report: where its energy, time and area go, per network, per layer and per component.

    Args:
        run: a finished run's directory: its best design (``best.json``) on its own problem (its
            ``.hydra/config.yaml``: networks, performance model, bounds, batch, deployment), so the numbers are
            the run's; or a sweep's directory (:func:`resolve_run`: the job holding ``design_id``, else the job of
            the least feasible EDAP). None: the design is ``design``, on ``workloads`` and ``memory``.
        design: design parameters (a mapping, or ``key=value`` strings): the whole design without ``run``
            (``technology_nm`` defaults to the space's 32 nm, SRAM's ``bits_per_cell`` to 1; ``glb_mib`` in MiB or
            ``glb_depth`` in words), else the parameters to change in the run's design. Values must be in the
            problem's design space.
        row: report row ``row`` of the run's ``pareto.csv`` (0: the least EDAP) instead of its best design.
        design_id: report the design with this ``design_id`` of the run's ``pareto.csv`` or ``archive.csv``.
        workloads: without ``run``, the networks (a set name, network names or files; default ``cnn4``).
        memory: without ``run``, the memory (default ``rram``).
        performance: without ``run``, the performance model (``bounded``, the default, or ``reference``).
        batch: without ``run``, the inferences processed together (default 1).
        out: the report directory to write (a new directory; None: nothing is written).
        force: replace ``out`` if it holds an earlier design report.
        plots: write the figures (:data:`FIGURES`).
        top: the slowest layers per network ``design.md`` lists (every layer is in ``layers.csv``).

    Returns:
        The :class:`DesignReport`: its tables as DataFrames (units in the column names, SI), the markdown, and
        the files written.

    Raises:
        DesignReportError: one line naming the problem and the fix (no such run, an incomplete run, an unknown
            parameter, a value outside the space, an unknown network, an existing or unwritable directory).
    """
    from imc_moo.problem import ProblemError, WorkloadSetProblem, per_network_table
    from imc_moo.workloads import WorkloadError

    notes: list[str] = []
    changes = parse_assignments(design if design is not None else [])
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise DesignReportError(f"top={top!r}: give the number of slowest layers to list, e.g. 10")
    target = None if out is None else Path(out)
    if target is not None:
        _check_target(target, force)
    if run is not None:
        given = [f"--{k}" for k, v in (("workloads", workloads), ("memory", memory), ("performance", performance),
                                       ("batch", batch)) if v is not None]
        if given:
            raise DesignReportError(f"{', '.join(given)} cannot change a run's problem (its networks, memory and "
                                    "performance model are the run's): drop them, or give the design as key=value "
                                    "pairs without a run directory")
        run, picked = resolve_run(run, design_id, row)
        if picked:
            notes.append(picked)
        best = _read_run(run)
        base, source = _picked_design(run, best, row, design_id)
        problem = _run_problem(run, best, notes)
        where = f"the run's design space ({problem.space.name or problem.memory})"
        if changes:
            source += " with " + ", ".join(f"{k}={v:g}" for k, v in changes.items())
            if "glb_mib" in changes:
                base.pop("glb_depth", None)
            if "glb_depth" in changes:
                base.pop("glb_mib", None)
        chosen = {**base, **changes}
    else:
        if row is not None or design_id is not None:
            raise DesignReportError("--row and --design-id pick a design of a run: give the run directory too")
        if not changes:
            raise DesignReportError("no design given: give a run directory, or the design as key=value pairs (e.g. "
                                    "voltage=0.8 bits_per_cell=2 ...) with --workloads and --memory")
        try:
            problem = WorkloadSetProblem(workloads or "cnn4", memory or "rram", performance=performance or "bounded",
                                         batch=1 if batch is None else batch)
        except (ProblemError, WorkloadError) as err:
            raise DesignReportError(" ".join(str(err).split())) from None
        where = f"the {problem.memory.upper()} design space ({problem.space.name})"
        source = "a design given as key=value"
        chosen = changes
    genome = _genome(problem, chosen, where)
    wide = problem.table(genome)
    per_net = per_network_table(wide, problem.workloads)
    report = _tables(problem, genome, wide.iloc[0], per_net, source, notes, top)
    if run is not None and row is None and design_id is None and not changes:
        _check_against_record(report, best, notes)
    if not bool(wide["feasible"].iloc[0]):
        excess = {c.removeprefix("g_"): float(wide[c].iloc[0]) for c in wide.columns
                  if c.startswith("g_") and float(wide[c].iloc[0]) > 0}
        notes.insert(0, "the design is not feasible: " + ", ".join(f"{k} {v:+.3g}" for k, v in excess.items())
                     + " (normalised excess of each violated constraint; see docs/reference/outputs.md)")
    report.markdown = markdown(report, plots, top)
    if target is not None:
        write_report(report, target, force=force, plots=plots)
    return report


def _check_target(target: Path, force: bool) -> None:
    """Refuse a report directory that exists (unless ``force`` and it holds an earlier design report)."""
    if not target.exists() and not target.is_symlink():
        return
    is_report = target.is_dir() and (not any(target.iterdir()) or (target / "design.md").is_file())
    if not is_report:
        raise DesignReportError(f"{target} exists and is not a design report (no design.md): choose another "
                                "directory with -o DIR")
    if not force:
        raise DesignReportError(f"{target} already holds a design report: replace it with --force, or choose another "
                                "directory with -o DIR")


def _check_against_record(report: DesignReport, best: dict, notes: list[str]) -> None:
    """A note where the report's per-network numbers differ from the run's record (the model changed since)."""
    recorded = best.get("per_workload") or {}
    off = []
    for net in report.networks.itertuples():
        saved = recorded.get(net.network) or {}
        for key in ("energy_j", "latency_s"):
            was, now = saved.get(key), getattr(net, key)
            if was is not None and np.isfinite(now) and abs(now / was - 1) > 1e-9:
                off.append(f"{net.network} {key} {now:.6g} (run: {was:.6g})")
    if off:
        notes.append("the cost model changed since the run: " + "; ".join(off[:4])
                     + ("; ..." if len(off) > 4 else "") + " (rerun the run for numbers of this model)")


def _tables(problem, genome: np.ndarray, row: pd.Series, per_net: pd.DataFrame, source: str, notes: list[str],
            top: int) -> DesignReport:
    """Every table of the report, from the problem's own evaluation (``row``, ``per_net``) and the per-layer path."""
    from imc_moo.model.api import evaluate_set_layers
    from imc_moo.model.cost import AREA_COMPONENTS
    from imc_moo.model.performance import BOUNDS, WEIGHT_LOAD_COMPONENTS, power_limit_w

    d = problem.designs(genome)
    perf = problem.performance
    held = perf.bounded and problem.weight_holding != "streamed"
    macros = float(d.n_macros[0])
    area = {k: float(v[0]) for k, v in d.area_mm2.items()}
    chip_area = float(row["area_mm2"])
    limit_w = float(power_limit_w(d.total_area_mm2, perf.bounds)[0])
    design = {c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in _design_columns()}
    broken = evaluate_set_layers(d, problem.networks, performance=perf, holding=problem.weight_holding, details=True)
    dropped = () if problem.pays_weight_loading else WEIGHT_LOAD_COMPONENTS
    layer_frames, component_rows, network_rows = [], [], []
    for w, (net, (_, L)) in enumerate(zip(problem.networks, broken)):
        pn = per_net.iloc[w]
        energy_cols = [c for c in L if c.startswith("energy_") and c != "energy_j"
                       and c.removeprefix("energy_").removesuffix("_j") not in dropped]
        f = pd.DataFrame({
            "network": net.name, "layer_index": np.arange(net.n_layers), "layer": list(net.layer_names),
            **{k: getattr(net, k) for k in ("C", "M", "R", "S", "P", "Q", "G")},
            "macs": L["macs"][0], "mappable": L["mappable"][0],
        })
        energy = np.sum([L[c][0] for c in energy_cols], axis=0) if energy_cols else np.zeros(net.n_layers)
        f["energy_j"] = energy
        f["energy_share"] = energy / energy.sum() if energy.sum() > 0 else 0.0
        for c in energy_cols:
            f[c] = L[c][0]
        time = L["latency_s"][0]
        f["latency_s"] = time
        f["time_share"] = time / time.sum() if time.sum() > 0 else 0.0
        f["bound"] = (np.array(BOUNDS, dtype=object)[L["bound"][0]] if "bound" in L
                      else np.full(net.n_layers, "none", dtype=object))
        for r in BOUNDS:
            if f"{r}_s" in L:
                f[f"{r}_s"] = L[f"{r}_s"][0]
        for k in ("cycles", "reads", "copies", "reference_copies", "crossbars_per_copy", "crossbars",
                  "crossbar_share", "row_groups", "col_groups", "weight_tiles", "weight_cells", "cell_fill"):
            f[k] = L[k][0]
        for k in _COUNTS:
            if k in f and np.isfinite(f[k].to_numpy(dtype=float)).all():
                f[k] = np.rint(f[k].to_numpy(dtype=float)).astype(np.int64)
        layer_frames.append(f)

        # components: energy by component, time by what bounds it, then the parts beyond the layers
        mapped = bool(pn["mappable"])
        net_energy = float(pn["energy_j"]) if mapped else math.nan
        net_latency = float(pn["latency_s"]) if mapped else math.nan
        switch_e = float(pn["switch_energy_j"]) if "switch_energy_j" in pn else 0.0
        switch_t = float(pn["switch_latency_s"]) if "switch_latency_s" in pn else 0.0
        layers_s = float(time.sum())
        stretch = max(0.0, net_latency - layers_s - switch_t) if mapped else math.nan
        if mapped and stretch <= 1e-12 * net_latency:
            stretch = 0.0
        energies = {c.removeprefix("energy_").removesuffix("_j"): float(L[c][0].sum()) for c in energy_cols}
        if "switch_energy_j" in pn:
            energies["switching"] = switch_e
        for k, v in energies.items():  # a network that cannot be mapped has no energy (nor time) to break down
            component_rows.append((net.name, "energy_j", k, v if mapped else math.nan, v / net_energy))
        times = ({r: float(time[f["bound"].to_numpy() == r].sum()) for r in BOUNDS} if perf.bounded
                 else {"cycles": layers_s})
        if "switch_latency_s" in pn:
            times["switching"] = switch_t
        if perf.bounded:
            times["power_limit"] = stretch
        for k, v in times.items():
            component_rows.append((net.name, "time_s", k, v if mapped else math.nan, v / net_latency))
        copies = f["copies"].to_numpy(dtype=float)
        share = f["crossbar_share"].to_numpy(dtype=float)
        network_rows.append({
            "network": net.name, "mappable": mapped,
            **{k: pn[k] for k in ("energy_j", "latency_s", "edap", "power_w", "throughput_per_s", "tops_per_w",
                                  "tops_per_mm2", "bound")},
            "layers_s": layers_s,
            **({"switch_energy_j": switch_e, "switch_latency_s": switch_t} if "switch_energy_j" in pn else {}),
            "power_stretch_s": stretch if perf.bounded else 0.0,
            "macs": int(net.total_macs), "layers": int(net.n_layers),
            "crossbars_one_copy": int(round(f["crossbars_per_copy"].sum())),
            "one_copy_share": float(f["crossbars_per_copy"].sum()) / macros,
            "weights_crossbars": float(f["crossbars"].sum()) if held else math.nan,
            "weights_share": float(f["crossbars"].sum()) / macros if held else math.nan,
            "busy_share": float((share * time).sum() / layers_s) if layers_s > 0 else math.nan,
            "replicated_layers": int((copies > 1).sum()),
            "max_copies": int(copies.max(initial=0)),
        })
    chip = pd.DataFrame({"component": list(AREA_COMPONENTS), "area_mm2": [area[k] for k in AREA_COMPONENTS]})
    total = float(chip["area_mm2"].sum())
    chip["share"] = chip["area_mm2"] / total
    for k in AREA_COMPONENTS:
        component_rows.append(("chip", "area_mm2", k, area[k], area[k] / total))
    chip = pd.concat([chip, pd.DataFrame([{"component": "total", "area_mm2": chip_area, "share": 1.0}])],
                     ignore_index=True)
    components = pd.DataFrame(component_rows, columns=["network", "quantity", "component", "value", "share"])
    parameters = pd.DataFrame([
        {"parameter": k, "value": design[k], "unit": unit, "meaning": meaning + _extra(k, design[k])}
        for k, (unit, meaning) in PARAMETERS.items()])
    summary = {"crossbars": int(macros), "cells": int(macros * design["xbar_rows"] * design["xbar_cols"]),
             "power_limit_w": limit_w, "area_mm2": chip_area, "feasible": bool(row["feasible"]),
             "edap": float(row["edap"]), "aggregation": problem.aggregation,
             "weight_slices": int(d.weight_slices[0]), "held": held, "holding": problem.weight_holding,
             "pays_weight_loading": problem.pays_weight_loading, "performance": perf.mode, "batch": perf.batch}
    report = DesignReport(source=source, problem=_problem_text(problem), design=design, parameters=parameters,
                          chip=chip, networks=pd.DataFrame(network_rows), components=components,
                          layers=pd.concat(layer_frames, ignore_index=True), summary=summary, notes=notes)
    return report


def _extra(key: str, value) -> str:
    if key == "base_latency_s":
        return f" ({_si(value, TIME_UNITS)}, {1e-6 / value:,.4g} MHz)"
    return ""


def _problem_text(problem) -> str:
    dep = problem.deployment
    perf = problem.performance
    parts = [f"{problem.memory.upper()}, networks {', '.join(problem.workloads)}",
             f"objectives {problem.objectives} ({problem.aggregation} over networks)",
             f"performance model {perf.mode}" + (f", batch {perf.batch}" if perf.bounded else ""),
             f"deployment {dep.mode} (weights {_holding_text(problem.weight_holding)})"]
    if problem.switches:
        parts.append(f"a switch every {dep.per_switch:g} inferences")
    if getattr(problem, "pipeline", False):
        parts.append("layers pipelined")
    return "; ".join(parts)


def _holding_text(holding: str) -> str:
    return {"streamed": "streamed from DRAM layer by layer", "network": "of the running network held on chip",
            "set": "of every network held on chip at once"}[holding]


def _component_table(long: pd.DataFrame, nets: pd.DataFrame, names: Mapping[str, str], units, total_label: str,
                     total_column: str, drop_zero_rows: bool = False) -> tuple[str, pd.DataFrame]:
    """A quantity by component (rows, named by ``names`` in its order) and network (columns), in the unit of
    ``units`` its values read in, with a last row of each network's total (``nets[total_column]``); with
    ``drop_zero_rows``, the components that are zero on every network are left out (unless all are)."""
    wide = long.pivot(index="component", columns="network", values="value")
    wide = wide.loc[[c for c in names if c in wide.index], list(nets["network"])]
    if drop_zero_rows:
        nonzero = (wide.fillna(0) != 0).any(axis=1)
        wide = wide[nonzero] if nonzero.any() else wide
    unit, scale = unit_for(wide.to_numpy(), units)
    table = (wide / scale).reset_index()
    table["component"] = [names[c] for c in table["component"]]
    total = {"component": total_label, **{n: v / scale for n, v in zip(nets["network"], nets[total_column])}}
    return unit, pd.concat([table, pd.DataFrame([total])], ignore_index=True)


# -- formatting ----------------------------------------------------------------------------------------------------
def unit_for(values, units=ENERGY_UNITS) -> tuple[str, float]:
    """The unit of ``units`` ((name, scale) from the largest) a table or axis of ``values`` reads best in: the
    largest in which the largest magnitude is at least 1 (``1.9 mJ``, ``543 µs``)."""
    v = np.abs(np.asarray(values, dtype=float).ravel())
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return units[1] if len(units) > 1 else units[0]
    top = v.max()
    for name, scale in units:
        if top >= scale:
            return name, scale
    return units[-1]


def _si(value: float, units) -> str:
    name, scale = unit_for([value], units)
    return f"{_num(value / scale)} {name}"


def _num(v) -> str:
    """A number as the report shows it: 3 significant digits, thousands in full (``1,234``), "—" when missing."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return str(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _pct(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{_num(100 * v)} %"


def _md(table: pd.DataFrame) -> str:
    return markdown_table(table, lambda column, v: _num(v))


def markdown(report: DesignReport, plots: bool = True, top: int = TOP_LAYERS) -> str:
    """``design.md``: the design with units, the chip, each network's energy, time and use of the crossbars, its
    slowest layers, the figures and how to read them."""
    f = report.summary
    nets = report.networks
    comps = report.components
    layers = report.layers
    lines = [f"# Design report: {report.source}", "", f"**Problem:** {report.problem}.", ""]
    status = ("feasible" if f.get("feasible") else "**not feasible**")
    edap = f.get("edap", math.nan)
    lines += [f"**Result:** {status}; EDAP {_num(edap)} mJ·ms·mm² ({f.get('aggregation')} over networks), "
              f"area {_num(f.get('area_mm2'))} mm².", ""]
    for note in report.notes:
        lines += [f"> **Note:** {note}", ""]

    lines += ["## The design", "", _md(report.parameters), ""]

    d = report.design
    lines += ["## The chip", "",
              f"- **{f.get('crossbars', 0):,} crossbars** (router groups × tiles × macros per tile = "
              f"{d['router_group']} × {d['tiles_per_chip']} × {d['macros_per_tile']}) of {d['xbar_rows']} × "
              f"{d['xbar_cols']} cells at {d['bits_per_cell']} bit/cell: {_num(f.get('cells', 0) / 1e6)} M cells, "
              f"room for {_num(f.get('cells', 0) / f.get('weight_slices', 1) / 1e6)} M 8-bit weights "
              f"({f.get('weight_slices')} cell{'s' if f.get('weight_slices', 1) > 1 else ''} each).",
              f"- **Global buffer** {_num(d['glb_mib'])} MiB ({int(d['glb_depth']):,} words of 2048 bits); "
              f"{d['technology_nm']} nm; {_num(d['voltage'])} V; clock {_si(d['base_latency_s'], TIME_UNITS)}.",
              f"- **Area** {_num(f.get('area_mm2'))} mm²; power limit {_num(f.get('power_limit_w'))} W (the bounded "
              "model stretches an inference whose average power would exceed it).", ""]
    chip = report.chip.assign(component=[AREA_NAMES.get(c, c) for c in report.chip["component"]],
                              share=[_pct(s) for s in report.chip["share"]])
    lines += [_md(chip.rename(columns={"area_mm2": "area [mm²]"})), ""]

    lines += ["## Per network", ""]
    e_unit, e_scale = unit_for(nets["energy_j"])
    t_unit, t_scale = unit_for(nets["latency_s"], TIME_UNITS)
    summary = pd.DataFrame({
        "network": nets["network"],
        f"energy [{e_unit}]": nets["energy_j"] / e_scale,
        f"latency [{t_unit}]": nets["latency_s"] / t_scale,
        "bound by": [TIME_NAMES.get(b, "power limit" if b == "power" else b) for b in nets["bound"]],
        "power [W]": nets["power_w"],
        "TOPS/W": nets["tops_per_w"],
        "TOPS/mm²": nets["tops_per_mm2"],
        "EDAP [mJ·ms·mm²]": nets["edap"],
        "weights on (crossbars)": [_pct(v) for v in nets["weights_share"]],
        "busy (crossbars)": [_pct(v) for v in nets["busy_share"]],
        "replicated layers": [f"{r} of {n}" for r, n in zip(nets["replicated_layers"], nets["layers"])],
        "most copies": nets["max_copies"],
    })
    lines += [_md(summary), ""]
    held = f.get("held")
    lines += ["*weights on*: the chip's crossbars holding the network's weights, one copy of every layer plus the "
              "extra copies the spare crossbars hold"
              + ("" if held else " (not held here: the weights are streamed, or the reference model replicates each "
                 "layer over the whole chip)")
              + "; *busy*: the share of the chip's crossbars the running layer occupies, averaged over the "
              "inference's time; *replicated layers*: layers with more than one copy of their weights.", ""]

    energy = comps[comps["quantity"] == "energy_j"]
    if len(energy):
        unit, table = _component_table(energy, nets, ENERGY_NAMES, ENERGY_UNITS, "**total**", "energy_j")
        lines += [f"### Energy by component [{unit} per inference]", "", _md(table), ""]
        if not f.get("pays_weight_loading", True):
            lines += ["The weights stay on chip, so the stream model's weight loading (DRAM weight fetch, cell writes, "
                      "weight drivers) is not paid.", ""]
    timed = comps[comps["quantity"] == "time_s"]
    if len(timed):
        unit, table = _component_table(timed, nets, TIME_NAMES, TIME_UNITS, "**latency**", "latency_s",
                                       drop_zero_rows=True)
        table = table.rename(columns={"component": "bound by"})
        lines += [f"### Time by what bounds it [{unit} per inference]", "",
                  "Each layer takes as long as the slowest resource it uses; a row sums the layers that resource "
                  "bounds." if f.get("performance") == "bounded" else
                  "The reference model: every crossbar read is one clock, nothing else takes time.", "",
                  _md(table), ""]

    lines += [f"## Per layer: the {top} slowest layers of each network", "",
              "Every layer of every network, with every column, is in `layers.csv`."
              " A layer's *copies* are the copies of its weights working on different outputs (replicas); "
              "*crossbars* the crossbars it occupies while it runs (share of the chip's); *row × col groups* the "
              "crossbars one copy of one group's weights spans; *weight tiles* the weight tiles a copy cycles "
              "through in time (1: every weight in space); *cell fill* the share of those crossbars' cells that "
              "hold weights.", ""]
    for net in nets["network"]:
        part = layers[layers["network"] == net]
        slow = part.sort_values(["latency_s", "layer_index"], ascending=[False, True]).head(top)
        t_unit, t_scale = unit_for(slow["latency_s"], TIME_UNITS)
        e_unit, e_scale = unit_for(slow["energy_j"])
        table = pd.DataFrame({
            "layer": slow["layer"].astype(str),
            "weights C×M×R×S": [f"{c}×{m}×{r}×{s}" + (f" (G {g})" if g > 1 else "")
                                for c, m, r, s, g in zip(slow.C, slow.M, slow.R, slow.S, slow.G)],
            "outputs P×Q": [f"{p}×{q}" for p, q in zip(slow.P, slow.Q)],
            f"time [{t_unit}]": slow["latency_s"] / t_scale,
            "% of time": [_pct(v) for v in slow["time_share"]],
            "bound by": [TIME_NAMES.get(b, b) for b in slow["bound"]],
            f"energy [{e_unit}]": slow["energy_j"] / e_scale,
            "copies": slow["copies"],
            "crossbars": [f"{int(c):,} ({_pct(s)})" for c, s in zip(slow["crossbars"], slow["crossbar_share"])],
            "row × col groups": [f"{r} × {c}" for r, c in zip(slow["row_groups"], slow["col_groups"])],
            "weight tiles": slow["weight_tiles"],
            "cell fill": [_pct(v) for v in slow["cell_fill"]],
        })
        lines += [f"### {net} ({len(part)} layers)", "", _md(table), ""]

    if plots:
        lines += ["## Figures", "",
                  "![Energy per inference by component, per network](energy_components.png)", "",
                  "![Each layer's time, coloured by the resource that bounds it](layer_times.png)", "",
                  "![The chip's area by component](area.png)", ""]
    batch = f"batch {f.get('batch')}, " if f.get("batch", 1) > 1 else ""
    lines += ["## How to read it", "",
              f"- Energy and time are per inference ({batch}layers in sequence) under the "
              f"{f.get('performance')} performance model (docs/model/performance.md); a network's energy is the "
              "sum of its components, its latency the sum of its layers' times plus the amortised switching, "
              "stretched to the power limit where that binds (`components.csv`).",
              "- The per-network numbers are the problem's own evaluation of the design (for a run's design: the run's "
              "`best.json` and `pareto_networks.csv`); the per-layer ones the cost model's per-layer path, which sums "
              "to them.",
              "- Layers are named as the PyTorch modules they are (attention's products `<module>.qk` and "
              "`<module>.av`); resnet50 and msft_phi_1_5 by their position (`00`, `01`, ...).",
              "- Units: energy in the unit each table names (J, mJ, µJ), time likewise (s, ms, µs, ns), area in mm², "
              "power in W; the CSVs are in SI units named in their columns (`energy_j`, `latency_s`, `area_mm2`).",
              ""]
    return "\n".join(lines)


# -- writing -------------------------------------------------------------------------------------------------------
def write_report(report: DesignReport, target: str | Path, force: bool = False, plots: bool = True) -> DesignReport:
    """Write the report's files into the new directory ``target``, all or none: they are written into a hidden
    directory beside it, which then takes ``target``'s place (an earlier report there is replaced only with
    ``force``). Raises :class:`DesignReportError` if ``target`` cannot be written (nothing is left behind)."""
    target = Path(target)
    _check_target(target, force)
    made: list[Path] = []
    parent = target.parent
    for p in reversed([parent, *parent.parents]):
        if not p.exists():
            made.append(p)
    stage = None
    written = False
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".incoming", dir=parent))
        files = []
        for name, table in (("networks.csv", report.networks), ("components.csv", report.components),
                            ("layers.csv", report.layers)):
            write_csv(stage / name, table)
            files.append(name)
        if plots:
            energy_figure(report.components, report.networks, stage / "energy_components.png")
            layer_time_figure(report.layers, report.networks, stage / "layer_times.png")
            area_figure(report.chip, stage / "area.png")
            files += list(FIGURES)
        write_text(stage / "design.md", report.markdown or markdown(report, plots))
        files.append("design.md")
        os.chmod(stage, DIR_MODE)
        if target.exists():  # --force: the earlier report moves aside, the new one in, the earlier one goes
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            os.replace(target, old / target.name)
            try:
                os.replace(stage, target)
            except OSError:
                os.replace(old / target.name, target)  # the earlier report back where it was
                old.rmdir()
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(stage, target)
        written = True
    except OSError as err:
        raise DesignReportError(f"cannot write the report into {target} ({err.strerror or err}): choose a writable "
                                "directory with -o DIR") from None
    finally:
        if not written:  # whatever stopped it: nothing of the report is left, nor a directory made for it
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
            for p in reversed(made):
                try:
                    p.rmdir()
                except OSError:
                    pass
    report.directory = target
    report.files = files
    return report


# -- figures -------------------------------------------------------------------------------------------------------
def _figure_size(width: float, height: float) -> tuple[float, float]:
    return min(width, MAX_FIGURE_IN), min(height, MAX_FIGURE_IN)


def _energy_colours() -> dict[str, tuple]:
    """One colour per energy component, the same in every report: seaborn's deep palette, then tab20's lighter
    shades."""
    import matplotlib

    from imc_moo.app.plots import DEEP

    tab = matplotlib.colormaps["tab20"]
    order = list(ENERGY_NAMES)
    colours = {k: matplotlib.colors.to_rgba(DEEP[i]) for i, k in enumerate(order[:10])}
    colours.update({k: tab(2 * i + 1) for i, k in enumerate(order[10:])})
    return colours


def _bound_colours() -> dict[str, tuple]:
    """One colour per bounding resource, the same in every report."""
    import matplotlib

    from imc_moo.app.plots import DEEP

    names = ["compute", "pulses", "adc", "glb", "router", "dram", "write", "none"]
    return {n: matplotlib.colors.to_rgba(DEEP[i]) for i, n in enumerate(names)}


def energy_figure(components: pd.DataFrame, networks: pd.DataFrame, path: Path) -> None:
    """Stacked bars of each network's energy per inference by component: absolute (left, in the unit the largest
    reads best in) and as shares (right); the legend beside the data."""
    import matplotlib.pyplot as plt

    from imc_moo.app.plots import save_figure, set_theme

    set_theme()
    energy = components[components["quantity"] == "energy_j"]
    names = list(networks["network"])
    wide = energy.pivot(index="network", columns="component", values="value").reindex(names).fillna(0.0)
    order = [c for c in ENERGY_NAMES if c in wide.columns and (wide[c] > 0).any()]
    colours = _energy_colours()
    total = networks.set_index("network")["energy_j"].reindex(names)
    unit, scale = unit_for(total.to_numpy())
    W = len(names)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=_figure_size(11.5, 0.42 * W + 1.9), sharey=True,
                                 gridspec_kw={"width_ratios": [1.2, 1.0]})
    y = np.arange(W)
    left = np.zeros(W)
    share_left = np.zeros(W)
    for c in order:
        v = wide[c].to_numpy(dtype=float)
        ax.barh(y, v / scale, left=left / scale, color=colours[c], label=ENERGY_NAMES[c], height=0.7)
        s = np.divide(v, total.to_numpy(dtype=float), out=np.zeros(W), where=total.to_numpy(dtype=float) > 0)
        bx.barh(y, 100 * s, left=100 * share_left, color=colours[c], height=0.7)
        left += v
        share_left += s
    totals = total.to_numpy(dtype=float)
    for i, t in enumerate(totals):
        text = f"  {_num(t / scale)} {unit}" if np.isfinite(t) else "  cannot be mapped"
        ax.text(t / scale if np.isfinite(t) else 0.0, i, text, va="center", fontsize=8)
    ax.set_xlim(0, totals[np.isfinite(totals)].max(initial=0.0) / scale * 1.18 or 1.0)
    ax.set(yticks=y, yticklabels=names, xlabel=f"energy per inference [{unit}]")
    ax.invert_yaxis()
    bx.set(xlabel="share of the network's energy [%]", xlim=(0, 100))
    ax.grid(axis="y", visible=False)
    bx.grid(axis="y", visible=False)
    fig.suptitle("Where each network's energy goes")
    handles, labels = ax.get_legend_handles_labels()
    fig.tight_layout()
    if handles:
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False, title="component")
    save_figure(fig, path)


def layer_time_figure(layers: pd.DataFrame, networks: pd.DataFrame, path: Path) -> None:
    """One panel per network: each layer's time per inference as a bar, coloured by the resource that bounds it,
    in the unit the panel's longest layer reads best in. At most :data:`MAX_FIGURE_IN` a side whatever the number
    of networks (panels shrink)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from imc_moo.app.plots import save_figure, set_theme

    set_theme()
    names = list(networks["network"])
    W = max(len(names), 1)
    ncols = W if W <= 3 else math.ceil(math.sqrt(W))  # 4 networks 2 x 2, 9 3 x 3, 40 7 x 6
    nrows = math.ceil(W / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=_figure_size(4.6 * ncols, 2.5 * nrows + 0.9), squeeze=False)
    colours = _bound_colours()
    seen: list[str] = []
    for ax, name in zip(axes.flat, names):
        part = layers[layers["network"] == name]
        t = part["latency_s"].to_numpy(dtype=float)
        unit, scale = unit_for(t, TIME_UNITS)
        bounds = part["bound"].astype(str).to_numpy()
        ax.bar(part["layer_index"], t / scale, width=0.85 if len(part) < 60 else 1.0,
               color=[colours.get(b, colours["none"]) for b in bounds], linewidth=0)
        seen += [b for b in dict.fromkeys(bounds) if b not in seen]
        net = networks[networks["network"] == name].iloc[0]
        latency = "cannot be mapped" if not np.isfinite(net["latency_s"]) else _si(net["latency_s"], TIME_UNITS)
        beyond = [what for what, key in (("switching", "switch_latency_s"), ("power-limit stretch", "power_stretch_s"))
                  if float(net.get(key, 0.0) or 0.0) > 0]
        more = f"\n(layers {_si(t.sum(), TIME_UNITS)} + {' + '.join(beyond)})" if beyond else ""
        ax.set_title(f"{name} · {len(part)} layers · {latency}{more}", fontsize=9)
        ax.set(ylabel=f"time [{unit}]", xlabel="layers, in the order they run")
        ax.grid(axis="x", visible=False)
        ax.margins(x=0.01)
        if len(part) <= 30:
            ax.set_xticks(part["layer_index"], part["layer"].astype(str), rotation=90, fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    handles = [Patch(color=colours.get(b, colours["none"]), label=TIME_NAMES.get(b, b)) for b in seen]
    fig.suptitle("Each layer's time per inference, coloured by what bounds it")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False, title="bound by")
    save_figure(fig, path)


def area_figure(chip: pd.DataFrame, path: Path) -> None:
    """The chip's area by component [mm²], each bar labelled with its share."""
    import matplotlib.pyplot as plt

    from imc_moo.app.plots import DEEP, save_figure, set_theme

    set_theme()
    parts = chip[chip["component"] != "total"]
    total = float(chip.loc[chip["component"] == "total", "area_mm2"].iloc[0])
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(parts) + 1.3))
    y = np.arange(len(parts))
    values = parts["area_mm2"].to_numpy(dtype=float)
    ax.barh(y, values, color=[DEEP[i % len(DEEP)] for i in range(len(parts))], height=0.65)
    for i, (v, s) in enumerate(zip(values, parts["share"])):
        ax.text(v, i, f"  {_num(v)} mm² ({_pct(s)})", va="center", fontsize=8)
    ax.set(yticks=y, yticklabels=[AREA_NAMES.get(c, c) for c in parts["component"]], xlabel="area [mm²]",
           title=f"The chip's area: {_num(total)} mm²")
    ax.set_xlim(0, values.max(initial=0) * 1.35 or 1)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    save_figure(fig, path)


# -- the command ---------------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse that says a bad command line in one line (exit status 2), as every imc-moo command does."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{PROGRAM}: error: {message} ({PROGRAM} --help lists the options)", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROGRAM, description="One design's report: where its energy, time and area go, per network, "
                "per layer and per component (design.md, networks.csv, components.csv, layers.csv and figures).",
                epilog="examples: imc-moo-design runs/demo | imc-moo-design runs/demo --row 3 | imc-moo-design "
                "runs/demo xbar_rows=256 -o design_256 | imc-moo-design voltage=0.8 bits_per_cell=2 "
                "base_latency_s=1e-9 xbar_rows=128 xbar_cols=128 router_group=8 tiles_per_chip=16 macros_per_tile=16 "
                "glb_mib=2 --workloads cnn4 --memory rram -o my_design")
    p.add_argument("items", nargs="*", metavar="RUN_DIR | key=value",
                   help="a finished run's directory (its best design), and/or design parameters as key=value")
    p.add_argument("--row", type=int, help="report row N of the run's pareto.csv (0: the least EDAP)")
    p.add_argument("--design-id", type=int, help="report the design with this design_id of pareto.csv/archive.csv")
    p.add_argument("--workloads", help="without a run: the networks (a set such as cnn4, or names, comma-separated)")
    p.add_argument("--memory", help="without a run: the memory (rram, sram; default rram)")
    p.add_argument("--performance", help="without a run: the performance model (bounded, reference)")
    p.add_argument("--batch", type=int, help="without a run: inferences processed together (default 1)")
    p.add_argument("-o", "--out", help=f"the report directory (default <run>/{DEFAULT_DIR}, or ./{DEFAULT_DIR})")
    p.add_argument("--force", action="store_true", help="replace an earlier design report in that directory")
    p.add_argument("--top", type=int, default=TOP_LAYERS, help="slowest layers per network in design.md")
    p.add_argument("--no-plots", action="store_true", help="write no figures")
    return p


def _split_items(items: Sequence[str]) -> tuple[str | None, list[str]]:
    """The run directory (an existing directory, or an item that is not ``key=value``) and the ``key=value``
    pairs."""
    runs, pairs = [], []
    for item in items:
        key = item.partition("=")[0]
        if Path(item).is_dir() or "=" not in item or "/" in key or not key:
            runs.append(item)
        else:
            pairs.append(item)
    if len(runs) > 1:
        raise DesignReportError(f"{len(runs)} run directories given ({', '.join(runs)}): give one")
    return (runs[0] if runs else None), pairs


def main(argv: Sequence[str] | None = None) -> int:
    """``imc-moo-design``: write one design's report; 0 when written, 2 (one line) when the input cannot be
    reported or the directory cannot be written."""
    from imc_moo.hardware import DesignError
    from imc_moo.model.performance import PerformanceError
    from imc_moo.problem import ProblemError
    from imc_moo.workloads import WorkloadError

    args = _parser().parse_args(argv)
    try:
        run, pairs = _split_items(args.items)
        workloads = None
        if args.workloads is not None:
            workloads = [w.strip() for w in args.workloads.split(",") if w.strip()] or args.workloads
            workloads = workloads[0] if isinstance(workloads, list) and len(workloads) == 1 else workloads
        if run is not None:  # a sweep's directory: the job reported (its report goes into the job's directory)
            run, _ = resolve_run(run, args.design_id, args.row)
        out = Path(args.out) if args.out else (Path(run) / DEFAULT_DIR if run else Path(DEFAULT_DIR))
        report = design_report(run, design=pairs, row=args.row, design_id=args.design_id, workloads=workloads,
                               memory=args.memory, performance=args.performance, batch=args.batch, out=out,
                               force=args.force, plots=not args.no_plots, top=args.top)
    except (DesignReportError, DesignError, ProblemError, WorkloadError, PerformanceError) as err:
        print(f"{PROGRAM}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(f"{PROGRAM}: note: {note}", file=sys.stderr)
    print(f"{PROGRAM}: {report.source}")
    nets = report.networks
    width = max(len(n) for n in nets["network"])
    for net in nets.itertuples():
        if not net.mappable:
            print(f"  {net.network:<{width}}  cannot be mapped")
            continue
        print(f"  {net.network:<{width}}  energy {_si(net.energy_j, ENERGY_UNITS):>9}, latency "
              f"{_si(net.latency_s, TIME_UNITS):>9} (bound: {net.bound}), {_num(net.power_w)} W")
    print(f"report in {report.directory}: {', '.join(report.files)}")
    return 0


__all__ = ["DesignReport", "DesignReportError", "design_report", "main", "parse_assignments", "resolve_run",
           "write_report"]
