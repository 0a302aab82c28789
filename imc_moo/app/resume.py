"""Resuming a sweep: which jobs of a sweep directory already hold complete results for their config.

Re-running a sweep into its directory (``imc-moo -m ... hydra.sweep.dir=<dir>`` after a kill, a lost node or a
time limit) reruns only the jobs without complete results. :func:`job_state` classifies a job directory from
what it holds and from its Hydra record ``.hydra/config.yaml`` (the config its results are for), compared with
the job's config now, less the run-control keys :data:`RUN_CONTROL_KEYS`:

* ``new``: nothing of an earlier run (no directory, or only Hydra's record and log): run it;
* ``failed``: the earlier attempt failed before any result (``failed.json`` only): run it, whatever its config;
* ``incomplete``: results of the same config without a readable ``best.json`` (interrupted, killed mid-run): run it
  again, replacing them;
* ``complete``: ``best.json`` of the same config: skip it, touching nothing in its directory;
* ``conflict``: results of another config, or results whose config cannot be read: refused, naming the directory.

Hydra writes a job's record into ``.hydra/`` when the job starts, before the task function runs. So that a skipped
job keeps the record its results were made with, ``hydra.output_subdir`` is ``${imc_moo_record:}``
(``conf/config.yaml``): Hydra evaluates it in the job's process once the job's directory is known and before it
writes anything there (``hydra.core.utils.run_job``). :func:`record_subdir` classifies the job at that moment,
answers None (write no record) for a job that must not be touched, and keeps the decision for
:func:`imc_moo.app.experiment.main` (:func:`decision`). The command line checks every job the same way before the
sweep starts (:func:`imc_moo.app.experiment.check_sweep_dir`), so a conflict stops the sweep before any job runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from imc_moo.files import current_digest

#: The files of a run's results (``best.json`` last: its presence marks a complete run; :mod:`imc_moo.app.export`
#: writes them). Here, so that a skipped job does not import pandas to find them.
RESULT_FILES = ("archive.csv", "pareto.csv", "pareto_networks.csv", "history.csv", "pareto.png", "convergence.png",
                "chip.png", "interrupted.json", "inputs.json", "best.json")
#: A complete run's record of the network files it was computed from (:func:`inputs`), beside its results.
INPUTS_FILE = "inputs.json"
#: Keys that change how a run is shown or started, not its results: a job is "the same" whatever their values.
RUN_CONTROL_KEYS = ("overwrite", "progress")
#: The directory of a job's Hydra record (Hydra's default ``hydra.output_subdir``).
RECORD = ".hydra"
#: A sweep job's failure record (:data:`imc_moo.app.experiment.FAILED_FILE`).
FAILED_FILE = "failed.json"


class ResumeConflict(RuntimeError):
    """A sweep job's directory holds another config's results (raised by the job, which touches nothing)."""


@dataclass(frozen=True)
class JobState:
    kind: str  # new, failed, incomplete, complete, conflict
    detail: str = ""
    edap: float | None = None  # a complete job's best EDAP (its return value when skipped)


def comparable(config: dict) -> dict:
    """A job's config as compared for resuming: without ``hydra`` and the run-control keys."""
    return {k: v for k, v in config.items() if k != "hydra" and k not in RUN_CONTROL_KEYS}


def task_config(cfg: DictConfig) -> dict:
    """The job's identity as resuming compares it: its config (without ``hydra``, interpolations unresolved, as
    Hydra saves it in ``.hydra/config.yaml``) and, under ``inputs``, the network files it computes from
    (:func:`inputs`), so an edited network file makes another job."""
    return {**comparable(OmegaConf.to_container(cfg, resolve=False)), "inputs": inputs(cfg)}


def inputs(cfg: DictConfig) -> dict[str, str] | None:
    """The network files of a config's problem (its workloads on its library search path), by network name:
    ``"<sha256, 16 digits> <path>"``; None when they cannot be told (a bad workload: the job itself says why)."""
    from imc_moo.workloads import WorkloadError, network_files, search_path

    try:
        problem = cfg.problem
        workloads = problem.workloads
        if isinstance(workloads, (DictConfig, ListConfig)):
            workloads = OmegaConf.to_container(workloads, resolve=True)
        files = network_files(workloads, search_path(list(problem.get("library_dirs") or [])))
        out = {name: f"{current_digest(path)[:16]} {path}" for name, path in files.items()}
    except (WorkloadError, OSError, AttributeError, KeyError, ValueError):
        return None
    return out


def read_record(run_dir: Path) -> DictConfig | None:
    """The config a run directory's results were made with, as Hydra recorded it (``.hydra/config.yaml``,
    interpolations unresolved); None if it is missing, truncated or not a YAML mapping. The one reader of the
    record: resuming, the report and the yardstick all use it."""
    try:
        saved = OmegaConf.load(Path(run_dir) / RECORD / "config.yaml")
    except Exception:  # noqa: BLE001 - missing, truncated or not YAML: the config cannot be told
        return None
    return saved if isinstance(saved, DictConfig) else None


def saved_config(job_dir: Path) -> dict | None:
    """The identity a job directory's results were made with, as :func:`task_config` gives it: its record
    (:func:`read_record`) and the inputs it recorded (:data:`INPUTS_FILE`; absent for a run of imc-moo 0.1.0 or an
    incomplete one); None if the record is unreadable."""
    saved = read_record(job_dir)
    if saved is None:
        return None
    identity = comparable(OmegaConf.to_container(saved, resolve=False))
    try:
        identity["inputs"] = json.loads((Path(job_dir) / INPUTS_FILE).read_text())
    except (OSError, ValueError):
        pass
    return identity


def differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The keys whose values differ between two configs, as ``key: old -> new`` (dotted keys, sorted)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}{key}"
            if key not in old:
                out.append(f"{name}: (none) -> {new[key]!r}")
            elif key not in new:
                out.append(f"{name}: {old[key]!r} -> (none)")
            else:
                out += differences(old[key], new[key], f"{name}.")
        return out
    return [] if old == new else [f"{prefix.rstrip('.')}: {old!r} -> {new!r}"]


def _results(job_dir: Path) -> list[str]:
    return [name for name in RESULT_FILES if (job_dir / name).exists()]


def _best_edap(job_dir: Path) -> tuple[bool, float | None]:
    """Whether ``best.json`` is a readable run summary, and its EDAP."""
    try:
        best = json.loads((job_dir / "best.json").read_text())
    except (OSError, ValueError):
        return False, None
    if not isinstance(best, dict):
        return False, None
    edap = best.get("edap")
    return True, edap if isinstance(edap, (int, float)) and not isinstance(edap, bool) else None


def job_state(job_dir: Path, config: dict) -> JobState:
    """What resuming does with the job directory ``job_dir`` for a job of config ``config`` (:func:`task_config`)."""
    job_dir = Path(job_dir)
    results = _results(job_dir)
    if not results:
        return JobState("failed" if (job_dir / FAILED_FILE).exists() else "new")
    saved = saved_config(job_dir)
    if saved is None:
        return JobState("conflict", f"{job_dir} holds results ({', '.join(results)}) but no readable "
                                    f"{RECORD}/config.yaml to tell which config they are for")
    config = comparable(config)
    if "inputs" not in saved:  # results without a record of their inputs (0.1.0, or stopped): not compared
        config.pop("inputs", None)
    changed = differences(saved, config)
    if changed:
        shown = "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")
        return JobState("conflict", f"{job_dir} holds the results of a different config ({shown})")
    readable, edap = _best_edap(job_dir) if "best.json" in results else (False, None)
    if readable:
        return JobState("complete", edap=edap)
    return JobState("incomplete", f"results without a complete best.json ({', '.join(results)})")


#: Decisions :func:`record_subdir` took in this process, by job directory, for :func:`decision`.
_decisions: dict[str, JobState] = {}


def record_subdir(root: DictConfig) -> str | None:
    """``${imc_moo_record:}``, Hydra's ``hydra.output_subdir``: ``.hydra`` (write the job's record), or None for a
    sweep job whose directory must not be touched (complete results of the same config, or another config's)."""
    from hydra.types import RunMode

    try:
        multirun = root.hydra.mode == RunMode.MULTIRUN
        output_dir = OmegaConf.select(root, "hydra.runtime.output_dir", default=None)
    except Exception:  # noqa: BLE001 - a config composed outside a run (compose API, --cfg): the default
        return RECORD
    if not multirun or not output_dir or root.get("overwrite"):
        return RECORD
    state = job_state(Path(output_dir), task_config(root))
    _decisions[str(Path(output_dir))] = state
    return None if state.kind in ("complete", "conflict") else RECORD


def decision(job_dir: Path, cfg: DictConfig) -> JobState:
    """The resume decision for a sweep job running in ``job_dir``: the one :func:`record_subdir` took before Hydra
    wrote the job's record, or (when ``hydra.output_subdir`` was set to something else) one taken now."""
    state = _decisions.pop(str(Path(job_dir)), None)
    return state if state is not None else job_state(Path(job_dir), task_config(cfg))
