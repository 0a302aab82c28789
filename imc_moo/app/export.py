"""Write a run's results into its directory, atomically.

Files (``best.json`` is written last, so its presence marks a complete run; every column of every file, with its
unit, is in ``docs/reference/outputs.md``):

* ``archive.csv``: every distinct design evaluated, in evaluation order (decoded parameters, aggregated and
  per-workload energy/latency/EDAP, feasibility);
* ``pareto.csv``: the feasible, mutually non-dominated designs in (energy, delay, area);
* ``pareto_networks.csv``: the same designs one row per design x network (:func:`~imc_moo.problem.workload_set.
  per_network_table`), matched to ``pareto.csv`` by ``design_id``;
* ``history.csv``: per generation: distinct evaluations so far, best feasible EDAP so far, hypervolume of the
  feasible archive so far (:mod:`imc_moo.problem.indicators`), feasible fraction of the generation's population;
* ``best.json``: algorithm, problem, seed, budget, evaluations, edap, design, per_workload, wall_time_s, version.

Every CSV starts with the run's identifier columns (:data:`~imc_moo.problem.workload_set.RUN_COLUMNS`: problem,
algorithm, seed, label), so a sweep's tables pool with a plain concat; a value that does not exist is an empty cell
(NaN), never a sentinel, and each column reads back (``pandas.read_csv``) with one dtype whatever the algorithm
(:func:`imc_moo.files.csv_text`; text columns hold a token such as ``none`` rather than an empty cell).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imc_moo.app.resume import (
    RESULT_FILES,  # the files of a run's results (best.json last: its presence marks a complete run)
)
from imc_moo.files import csv_text, write_csv, write_text
from imc_moo.problem.indicators import OBJECTIVES, anytime_hypervolume, best_row, hypervolume, pareto_front
from imc_moo.problem.space import DESIGN_COLUMNS
from imc_moo.problem.workload_set import RUN_COLUMNS, per_network_table
from imc_moo.version import __version__


def run_columns(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The run's identifier columns (:data:`~imc_moo.problem.workload_set.RUN_COLUMNS`: problem, algorithm, seed,
    label) and their values, from the run's ``best.json`` fields (``meta``)."""
    return {k: meta[k] for k in RUN_COLUMNS if k in meta}


def with_run_columns(table: pd.DataFrame, identity: Mapping[str, Any]) -> pd.DataFrame:
    """``table`` with the run's identifier columns first (one value each, on every row)."""
    out = table.drop(columns=[k for k in identity if k in table.columns])
    ids = pd.DataFrame({k: [v] * len(out) for k, v in identity.items()}, index=out.index)
    return pd.concat([ids, out], axis=1)  # framed at once: inserting column by column fragments a wide table


def history_with_hv(history: pd.DataFrame, archive: pd.DataFrame,
                    hv: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Add the anytime hypervolume column to a per-generation history."""
    out = history.copy()
    out["hypervolume"] = anytime_hypervolume(archive, out["evaluations"].to_numpy(), hv["ideal"], hv["reference"])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


#: ``best.json``'s physics of the chip and of each network (columns of the archive, :meth:`WorkloadSetProblem.
#: results_frame`).
CHIP_PHYSICS = ("power_w", "power_density_w_per_mm2", "tops_per_w", "tops_per_mm2", "over_power_limit", "bound",
                "power_at_rates_w")
PER_WORKLOAD_PHYSICS = ("power_w", "throughput_per_s", "tops_per_w", "tops_per_mm2", "bound")


#: Columns of a partitioned chip's design (:mod:`imc_moo.problem.tenancy`): each partition's parameters, memory,
#: area and deployment, and each network's partition.
_PARTITION_COLUMN = re.compile(r"^(p\d+_(memory|bits_per_cell|xbar_rows|xbar_cols|router_group|tiles_per_chip|"
                               r"macros_per_tile|glb_depth|glb_mib|area_mm2|deployment)|place_.+)$")


def design_columns(columns) -> list[str]:
    """The design's columns among ``columns`` (an archive's): the design parameters, and a partitioned chip's
    partitions and placements."""
    return [c for c in columns if c in DESIGN_COLUMNS or _PARTITION_COLUMN.match(str(c))]


def partition_summary(design: pd.Series, workloads: list[str]) -> list[dict]:
    """A partitioned chip's built partitions (:mod:`imc_moo.problem.tenancy`), each with its memory, crossbar, macros,
    buffer bank, area, deployment and networks; empty for a chip of one partition."""
    out = []
    k = 0
    while f"p{k}_area_mm2" in design:
        networks = [w for w in workloads if int(design.get(f"place_{w}", 0)) == k]
        if networks:
            macros = (int(design[f"p{k}_router_group"]) * int(design[f"p{k}_tiles_per_chip"])
                      * int(design[f"p{k}_macros_per_tile"]))
            out.append({"partition": k, "memory": str(design.get(f"p{k}_memory", "")),
                        "bits_per_cell": int(design[f"p{k}_bits_per_cell"]),
                        "crossbar": f"{int(design[f'p{k}_xbar_rows'])}x{int(design[f'p{k}_xbar_cols'])}",
                        "macros": macros, "glb_mib": float(design[f"p{k}_glb_mib"]),
                        "area_mm2": float(design[f"p{k}_area_mm2"]), "deployment": str(design[f"p{k}_deployment"]),
                        "networks": networks})
        k += 1
    return out


def partition_text(partitions: list[dict]) -> str:
    """One line of a partitioned chip, e.g. ``p0 SRAM 512x256 x128 macros, 1 MiB, 36.7 mm2, stream: resnet18, vgg16;
    p1 ...``."""
    return "; ".join(
        f"p{p['partition']} {p['memory'].upper()} {p['crossbar']}"
        + (f" {p['bits_per_cell']}b/cell" if p["memory"] == "rram" else "")
        + f" x{p['macros']} macros, {p['glb_mib']:g} MiB, {p['area_mm2']:.3g} mm², {p['deployment']}: "
        + ", ".join(p["networks"]) for p in partitions)


def best_summary(best: pd.Series, workloads: list[str], meta: Mapping[str, Any]) -> dict:
    """The ``best.json`` payload. A run with no feasible design is a result too: ``feasible`` false, ``edap``
    null, and the least-violating design with its EDAP (``least_violating_edap``, null if it cannot be mapped) and
    its ``violations`` (constraint -> normalised excess, e.g. area / limit - 1)."""
    feasible = bool(best["feasible"])
    mapped = bool(best["mappable"])
    per_workload = {
        w: {"energy_j": _plain(best[f"energy_j_{w}"]), "latency_s": _plain(best[f"latency_s_{w}"]),
            "area_mm2": _plain(best["area_mm2"]), "edap": _plain(best[f"edap_{w}"]),
            **{k: _plain(best[f"{k}_{w}"]) if mapped else None
               for k in PER_WORKLOAD_PHYSICS if f"{k}_{w}" in best}}
        for w in workloads
    }
    return {
        **{k: _plain(v) for k, v in meta.items()},
        "edap": _plain(best["edap"]) if feasible else None,
        "feasible": feasible,
        # the best (or least violating) design's objectives, aggregated over the networks as the problem says
        **{k: _plain(best[k]) if mapped else None for k in ("energy_j", "latency_s", "area_mm2")},
        # what the chip delivers at that latency (imc_moo.model.performance.physics), where the archive has it
        **{k: _plain(best[k]) if mapped else None for k in CHIP_PHYSICS if k in best},
        **({} if feasible else {
            "least_violating_edap": _plain(best["edap"]) if mapped else None,
            "violations": {k[2:]: _plain(v) for k, v in best.items() if k.startswith("g_") and v > 0},
        }),
        "design": {c: _plain(best[c]) for c in design_columns(best.index)},
        **({"partitions": partitions} if (partitions := partition_summary(best, workloads)) else {}),
        "per_workload": per_workload,
        "version": __version__,
    }


def existing_results(outdir: Path) -> list[str]:
    """The result files of an earlier run in ``outdir``."""
    return [name for name in RESULT_FILES if (Path(outdir) / name).exists()]


def clear_results(outdir: Path) -> None:
    """Remove an earlier run's result files from ``outdir`` (``best.json`` first), so no file of it is left beside
    the new run's."""
    for name in reversed(RESULT_FILES):
        (Path(outdir) / name).unlink(missing_ok=True)
    (Path(outdir) / STREAMED_ARCHIVE).unlink(missing_ok=True)
    shutil.rmtree(Path(outdir) / STAGE_DIR, ignore_errors=True)


#: The archive as a run streams it to disk (hidden; renamed to archive.csv when the run ends or stops).
STREAMED_ARCHIVE = ".archive.csv.partial"
#: A run appends its new designs to the streamed archive at most this often [s]: a stop then writes only what the
#: last seconds evaluated, whatever the run's length.
STREAM_INTERVAL_S = 5.0


class ArchiveStream:
    """The run's archive appended to ``outdir/.archive.csv.partial`` as the run goes (call it once per generation:
    it appends what is new every :data:`STREAM_INTERVAL_S` seconds), so a stopped run keeps its archive within
    seconds: :meth:`finish` appends the rest and hands the file to :func:`write_tables`, which renames it to
    ``archive.csv``. The text is the ledger's table (:meth:`~imc_moo.algorithms.ledger.Ledger.frame`) with the run's
    ``identity`` columns (:func:`run_columns`) block by block, the same bytes as writing it at once
    (:func:`imc_moo.files.csv_text`)."""

    def __init__(self, outdir: Path, ledger, interval_s: float | None = None,
                 identity: Mapping[str, Any] | None = None):
        self.path = Path(outdir) / STREAMED_ARCHIVE
        self.ledger = ledger.root
        self.identity = dict(identity or {})
        self.interval_s = STREAM_INTERVAL_S if interval_s is None else interval_s
        self.written = 0
        self.columns: list[str] | None = None
        self._last = time.perf_counter()
        self.path.unlink(missing_ok=True)  # a killed run's leftover

    def __call__(self) -> None:
        if time.perf_counter() - self._last >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        """Append the designs evaluated since the last flush."""
        store = self.ledger.store
        n = len(store)
        if n > self.written:
            new = slice(self.written, n)
            frame = with_run_columns(store.problem.results_frame(store.genomes[new], store.records(new)).assign(
                eval_order=store.eval_order[new]), self.identity)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(csv_text(frame, header=self.written == 0))
            self.written = n
            self.columns = self.columns or [str(c) for c in frame.columns]
        self._last = time.perf_counter()

    def finish(self, archive: pd.DataFrame) -> Path | None:
        """Append the rest; the streamed file if it holds exactly ``archive`` (the ledger's table, same rows and
        columns), else None (and the file is removed: :func:`write_tables` then writes ``archive`` itself)."""
        self.flush()
        if (self.written and len(archive) == self.written and self.columns == [str(c) for c in archive.columns]
                and np.array_equal(archive["eval_order"].to_numpy(), self.ledger.store.eval_order)):
            return self.path
        self.path.unlink(missing_ok=True)
        return None


#: Where a run writes its files before they replace an earlier run's (a hidden directory of the run directory).
STAGE_DIR = ".incoming"


def fresh_stage(outdir: Path) -> Path:
    """An empty staging directory in ``outdir`` (a killed run's leftover removed): a run writes its files there and
    :func:`swap_in` moves them into ``outdir`` once they are all written, so the earlier run's results stay as they
    were until then (and whatever happens before)."""
    stage = Path(outdir) / STAGE_DIR
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage


def swap_in(stage: Path, outdir: Path) -> None:
    """Replace the earlier run's results in ``outdir`` by the files of ``stage``: the earlier ``best.json`` goes
    first (the directory is then an incomplete run until the end), the new files are moved in, the earlier result
    files the new run did not write are removed, and the new ``best.json`` comes last. Renames only: no copy."""
    outdir = Path(outdir)
    (outdir / "best.json").unlink(missing_ok=True)
    new = {path.name for path in stage.iterdir()}
    for name in sorted(new - {"best.json"}):
        os.replace(stage / name, outdir / name)
    for name in RESULT_FILES:
        if name not in new:
            (outdir / name).unlink(missing_ok=True)
    if "best.json" in new:
        os.replace(stage / "best.json", outdir / "best.json")
    shutil.rmtree(stage, ignore_errors=True)


def write_tables(outdir: Path, archive: pd.DataFrame, history: pd.DataFrame, workloads: list[str],
                 meta: Mapping[str, Any], hv: Mapping[str, Mapping[str, float]],
                 anytime: bool = True, streamed: ArchiveStream | None = None) -> tuple[dict, pd.DataFrame]:
    """Write archive.csv, pareto.csv, pareto_networks.csv and history.csv into ``outdir``, each with the run's
    identifier columns (:func:`run_columns` of ``meta``); return the ``best.json`` payload and the history with its
    hypervolume column. Call :func:`write_best` once everything else is written.

    ``meta`` holds algorithm, problem, seed, budget, evaluations, wall_time_s (and anything else to record).
    ``anytime=False`` (a stopped run, which must keep its work within seconds): the hypervolume of the last
    generation only, the others empty; the anytime curve costs one hypervolume per generation over every design.
    ``streamed``: the run's :class:`ArchiveStream`, whose file becomes ``archive.csv`` when it holds ``archive``.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    identity = run_columns(meta)
    archive = with_run_columns(archive, identity)
    front = pareto_front(archive)
    if anytime:
        history = history_with_hv(history, archive, hv)
    else:
        history = history.assign(hypervolume=np.nan)
        if len(history):
            points = front[list(OBJECTIVES)].to_numpy(dtype=float)
            history.loc[history.index[-1], "hypervolume"] = hypervolume(points, hv["ideal"], hv["reference"])
    ready = None if streamed is None else streamed.finish(archive)
    if ready is not None:
        os.replace(ready, outdir / "archive.csv")
    else:
        write_csv(outdir / "archive.csv", archive)
    history = with_run_columns(history, identity)
    write_csv(outdir / "pareto.csv", front)
    write_csv(outdir / "pareto_networks.csv", per_network_table(front, workloads))
    write_csv(outdir / "history.csv", history)
    final_hv = float(history["hypervolume"].iloc[-1]) if len(history) else 0.0
    return best_summary(best_row(archive), workloads, {**meta, "hypervolume": final_hv}), history


def write_best(outdir: Path, summary: Mapping[str, Any]) -> None:
    """Write ``best.json``, the marker of a complete run."""
    write_text(Path(outdir) / "best.json", json.dumps(summary, indent=2) + "\n")
