"""The Hydra entry point: compose a problem and an algorithm from ``conf/``, run, write the run directory.

``imc-moo [overrides]`` or ``python -m imc_moo [overrides]``; ``imc-moo --help`` lists the config groups,
``imc-moo --cfg job`` prints the composed config, ``imc-moo -m algorithm=phased_ga,nsga2 seed=0,1`` sweeps.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from imc_moo.app import resume
from imc_moo.app.config import (
    PLUGINS,
    ConfigError,
    algorithm_factory,
    build_problem,
    check_keys,
    compose_config,
    one_line,
    problem_label,
    run_label,
)
from imc_moo.app.hydra_internals import mode_known
from imc_moo.app.lock import claim
from imc_moo.app.progress import Progress
from imc_moo.app.resume import (
    FAILED_FILE,  # a sweep job's failure record in its directory: {"error": ..., "overrides": [...]}
)
from imc_moo.paths import CONF_DIR  # the packaged Hydra configs (conf/ in the repository), an absolute directory

# The search, its outputs and its figures (pymoo, pandas, matplotlib) are imported where a run needs them, so
# `imc-moo --help`, `--cfg` and a refused command line start in a fraction of the time.
if TYPE_CHECKING:
    from imc_moo.algorithms import RunHistory
    from imc_moo.algorithms.ledger import Ledger
    from imc_moo.app.export import ArchiveStream
    from imc_moo.problem.workload_set import WorkloadSetProblem

__all__ = ["CONF_DIR", "ConfigError", "build", "check_overrides", "cli", "main", "run", "run_label"]

#: What the command line's pre-check (:func:`check_overrides`) built, handed to the run it checked so the problem
#: (its networks) is not loaded twice: ``(key, (problem, name, factory))``, taken by the first :func:`build` of a
#: config with the same problem, algorithm and budget (the problem is a pure function of genomes).
_prebuilt: tuple | None = None


def _build_key(cfg: DictConfig) -> str:
    """What :func:`build` makes of a config depends on: its problem, algorithm and budget, resolved."""
    parts = {k: OmegaConf.to_container(cfg[k], resolve=True) if isinstance(cfg[k], DictConfig) else cfg[k]
             for k in ("problem", "algorithm", "budget")}
    return json.dumps(parts, sort_keys=True, default=repr)


def build(cfg: DictConfig, keep: bool = False) -> tuple[WorkloadSetProblem, str, Callable]:
    """The problem and the algorithm (name, factory) of a composed config, every value checked: whatever is
    wrong fails here, before a run directory exists. ``keep``: hand the result to the next build of the same
    problem, algorithm and budget (the pre-check's to its run)."""
    global _prebuilt
    from imc_moo.algorithms import check_budget, check_seed, is_runner, resolve_algorithm
    from imc_moo.algorithms.driver import check_problem

    check_keys(cfg)
    check_budget(cfg.budget)
    check_seed(cfg.seed)
    try:
        key = _build_key(cfg)
    except Exception:  # noqa: BLE001 - a value that does not resolve: building it below says what is wrong
        key = None
    built = None
    if _prebuilt is not None:
        (built_key, built), _prebuilt = _prebuilt, None
        if key is None or built_key != key:
            built = None
    if built is None:
        problem = build_problem(cfg.problem)
        name, factory = algorithm_factory(cfg.algorithm)
        resolve_algorithm(factory)  # checks a baseline's inner search
        check_problem(name, factory, problem)
        if not is_runner(factory):
            factory(problem, cfg.budget)  # builds the pymoo algorithm once: its own checks (e.g. pop_size) run here
        built = (problem, name, factory)
    if keep and key is not None:
        _prebuilt = (key, built)
    return built


def check_outdir(cfg: DictConfig, outdir: Path) -> None:
    """Refuse a run directory holding an earlier run's results unless ``overwrite=true``."""
    from imc_moo.app.export import existing_results

    found = existing_results(outdir)
    if found and not cfg.overwrite:
        raise ConfigError(f"{outdir} already holds the results of a run ({', '.join(found)}): choose another "
                          "directory with hydra.run.dir=... or replace them with overwrite=true")


class RunInterrupted(Exception):
    """The user or the scheduler stopped a run (Ctrl-C, SIGTERM); the message says what was kept."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, Slurm's time limit or preemption), handled as Ctrl-C is: the designs so far are kept."""


class SlurmStop(KeyboardInterrupt):
    """SIGUSR2 in a submitit job: Slurm's time limit is ``hydra.launcher.signal_delay_s`` away, or the job is
    preempted. Handled as SIGTERM is (submitit's own handler would end the job and lose its designs)."""


#: The stop reason recorded for each way a run can be interrupted, and the shell's exit status for it.
STOPS = {KeyboardInterrupt: ("interrupted (Ctrl-C)", 130), Terminated: ("terminated (SIGTERM)", 143),
         SlurmStop: ("stopped by Slurm (SIGUSR2: time limit near, or preempted)", 143)}


def _in_submitit_job() -> bool:
    """Whether this process is a job of Hydra's submitit launcher (submitit's wrapper handles its SIGUSR2): a job
    in a process of its own, whose stop ends that job, not the sweep."""
    handler = signal.getsignal(signal.SIGUSR2)
    return type(getattr(handler, "__self__", None)).__module__.startswith("submitit.")


@contextlib.contextmanager
def _stops_at_the_next_batch():
    """While a search runs, Ctrl-C and SIGTERM (and, in a submitit job, SIGUSR2) ask it to stop at the next batch
    (:func:`imc_moo.algorithms.ledger.request_stop`), raising :class:`KeyboardInterrupt` / :class:`Terminated` /
    :class:`SlurmStop` there. Main thread only: signals go there."""
    from imc_moo.algorithms.ledger import clear_requested_stop, request_stop

    stop = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: Terminated, signal.SIGUSR2: SlurmStop}

    def handler(signum, frame):
        request_stop(stop[signum])
    # a SIGINT the process was started to ignore (a background job) stays ignored
    signals = [sig for sig in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(sig) is not signal.SIG_IGN]
    if _in_submitit_job():
        signals.append(signal.SIGUSR2)
    try:
        previous = {sig: signal.signal(sig, handler) for sig in signals}
    except ValueError:  # not the main thread (a launcher's worker thread): the default actions stay
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        clear_requested_stop()  # a request that came after the last batch: the run is complete


#: An interrupted run's summary (the designs so far); ``best.json`` marks complete runs only.
INTERRUPTED_FILE = "interrupted.json"


def _plain_hv(cfg: DictConfig) -> dict:
    """The problem's hypervolume box as plain floats (the config node resolves the latency axis's interpolation on
    every access)."""
    return {corner: {k: float(v) for k, v in cfg.problem.hv[corner].items()} for corner in ("ideal", "reference")}


def _keep_interrupted(outdir: Path, stage: Path, problem, ledger: Ledger, history: RunHistory, cfg: DictConfig,
                      meta: dict, wall: float, stop_reason: str, streamed: ArchiveStream) -> str:
    """Write the archive and history of an interrupted run and ``interrupted.json`` into ``stage``, then swap them
    into ``outdir`` (a stop keeps its work); returns the one line."""
    from imc_moo.app.export import swap_in, write_tables
    from imc_moo.files import write_text

    verb = stop_reason.split(" ", 1)[0]
    if ledger.spent == 0:
        shutil.rmtree(stage, ignore_errors=True)
        return f"{verb} before the first design was evaluated; nothing to keep (earlier results are unchanged)"
    meta = {**meta, "evaluations": ledger.spent, "stop_reason": stop_reason, "complete": False,
            "wall_time_s": round(wall, 3)}
    # a stop keeps its work within seconds: the archive was streamed as the run went, and the anytime curve is
    # left to the report
    with _writing_into(outdir, stage):
        summary, _ = write_tables(stage, ledger.frame(), history.frame(), problem.workloads, meta, _plain_hv(cfg),
                                  anytime=False, streamed=streamed)
        write_text(stage / INTERRUPTED_FILE, json.dumps(summary, indent=2) + "\n")
        swap_in(stage, outdir)
    return (f"{verb} after {ledger.spent:,} of {cfg.budget:,} designs; the designs so far are kept in {outdir} "
            f"(archive.csv, history.csv, {INTERRUPTED_FILE}; no best.json: the run is incomplete)")


def run(cfg: DictConfig, outdir: Path, replace: bool = False) -> dict:
    """Run one experiment and write its outputs into ``outdir``; returns the ``best.json`` payload. ``replace``:
    the earlier results in ``outdir`` are an incomplete run of the same config (a resumed sweep's job), replaced
    without ``overwrite=true``."""
    from imc_moo.algorithms import RunHistory, run_algorithm
    from imc_moo.algorithms.ledger import Ledger
    from imc_moo.app.export import ArchiveStream, fresh_stage, run_columns, swap_in, write_best, write_tables
    from imc_moo.files import write_text
    from imc_moo.problem.indicators import best_row, pareto_front

    problem, name, factory = build(cfg)
    if not replace:
        check_outdir(cfg, outdir)
    budget = cfg.budget
    outdir.mkdir(parents=True, exist_ok=True)
    if not _writable(outdir):
        raise ConfigError(f"cannot write to the output directory {outdir}: choose another with hydra.run.dir=...")
    # the new files go to a staging directory and replace the earlier run's (overwrite=true, a resumed job) only
    # once all are written: a run that fails leaves them as they were
    stage = fresh_stage(outdir)
    progress = Progress(name, budget, enabled=cfg.progress)
    meta = {"algorithm": name, "label": run_label(cfg), "problem": problem_label(cfg),
            "aggregation": cfg.problem.aggregation, "objectives": cfg.problem.objectives, "seed": cfg.seed,
            "budget": budget, "performance": problem.performance.mode, "batch": problem.performance.batch}
    ledger = Ledger(cap=budget)
    streamed = ArchiveStream(stage, ledger, identity=run_columns(meta))

    def each_generation(row: dict) -> None:
        progress(row)
        streamed()

    history = RunHistory(ledger, each_generation)
    start = time.perf_counter()
    try:
        with _stops_at_the_next_batch():
            result = run_algorithm(factory, problem, budget=budget, seed=cfg.seed, ledger=ledger, history=history)
    except KeyboardInterrupt as stop:
        progress.close()
        reason, code = STOPS.get(type(stop), STOPS[KeyboardInterrupt])
        raise RunInterrupted(_keep_interrupted(outdir, stage, problem, ledger, history, cfg, meta,
                                               time.perf_counter() - start, reason, streamed), code) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # the earlier results stay as they were
        raise
    wall = time.perf_counter() - start
    progress.close()
    meta.update(evaluations=result.evaluations, stop_reason=result.stop_reason, wall_time_s=round(wall, 3),
                **result.extra)
    with _writing_into(outdir, stage):
        summary, history = write_tables(stage, result.archive, result.history, problem.workloads, meta,
                                        _plain_hv(cfg), streamed=streamed)
        if cfg.plots:
            from imc_moo.app.plots import convergence_plot, pareto_plot  # matplotlib is slow to import

            title = f"{cfg.problem.name} · {cfg.algorithm.name} · seed {cfg.seed}"
            archive = result.archive
            aggregation = cfg.problem.aggregation
            pareto_plot(archive, pareto_front(archive), best_row(archive), stage / "pareto.png", title, aggregation)
            convergence_plot(history, stage / "convergence.png", title, aggregation)
            if summary.get("partitions"):
                from imc_moo.app.plots import chip_plot

                chip_plot(summary["partitions"], stage / "chip.png", f"{title} · best EDAP chip")
        recorded = resume.inputs(cfg)  # the network files these results come from: resuming compares them
        if recorded is not None:
            write_text(stage / resume.INPUTS_FILE, json.dumps(recorded, indent=2) + "\n")
        write_best(stage, summary)
        swap_in(stage, outdir)
    return summary


@contextlib.contextmanager
def _writing_into(outdir: Path, stage: Path):
    """Writing a run's files: an OS error (a full disk, a quota, permissions) becomes one line naming the path and
    the fix, the staged files are removed, and the earlier results in ``outdir`` stay as they were."""
    try:
        yield
    except OSError as err:
        shutil.rmtree(stage, ignore_errors=True)
        where = err.filename or stage
        raise ConfigError(f"cannot write the results into {outdir} ({err.strerror or err}: {where}): free space "
                          "there or choose another directory with hydra.run.dir=...; the earlier results there, if "
                          "any, are unchanged") from None


def _writable(directory: Path) -> bool:
    probe = directory / ".write_test"
    try:
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


#: What the task returns for a job without a best EDAP: no feasible design, a failed job, a stopped Slurm job.
#: A sweeper that optimizes (Optuna, Nevergrad) takes the task's return value as the objective to minimize, so it
#: must be a number every sweeper accepts: None fails Hydra's Optuna sweeper ("Return value must be
#: float-castable") and Nevergrad's (``direction * None``); NaN fails the Optuna trial and then the sweep
#: ("Values cannot be specified when state is ... FAIL"). Infinity is a completed Optuna trial that is never the
#: best of a minimize study while any job found a feasible design (TPE, random and CMA-ES sample on with it), and it
#: is what Nevergrad's sweeper itself tells its optimizer for a failed job. A large finite penalty instead would be
#: an EDAP no design has, reported as if one had. Ax's sweeper accepts inf too (it asserts a float), but fits a
#: Gaussian process to the values, which neither inf nor such a penalty suits: searches that may find no feasible
#: design belong to Optuna or Nevergrad.
NO_EDAP = float("inf")


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> float:
    """One run (or one sweep job) of the composed config; returns its best EDAP [mJ·ms·mm²], the number a sweeper
    that optimizes minimizes (``hydra/sweeper=optuna``, docs/guide/tuning.md), or :data:`NO_EDAP` (``inf``) when
    there is none: no feasible design (``best.json`` has ``"edap": null``), a sweep job that failed (its
    ``failed.json``) or a Slurm job that was stopped. Bad input in a single run exits with status 2."""
    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    replace = False
    if hydra_cfg.mode == RunMode.MULTIRUN and not cfg.overwrite:
        # a resumed sweep (imc_moo/resume.py): a job with complete results for the same config is skipped
        state = resume.decision(outdir, cfg)
        job = f"job {hydra_cfg.job.num} ({' '.join(hydra_cfg.overrides.task)})"
        if state.kind == "complete":
            print(f"imc-moo: {job}: skipped (complete): results in {outdir}")
            return NO_EDAP if state.edap is None else float(state.edap)
        if state.kind == "conflict":  # checked before the sweep starts too, where the jobs can be told then
            raise resume.ResumeConflict(f"{state.detail}: the sweep cannot resume there: {RESUME_FIX}")
        replace = state.kind == "incomplete"
        (outdir / FAILED_FILE).unlink(missing_ok=True)  # the earlier attempt's failure; this one records its own
    try:
        summary = run(cfg, outdir, replace=replace)
    except RunInterrupted as stop:
        print(f"imc-moo: {stop}", file=sys.stderr)
        if hydra_cfg.mode == RunMode.MULTIRUN and _in_submitit_job():
            return NO_EDAP  # this job alone was stopped: the sweep goes on, SweepSummary counts the job incomplete
        sys.exit(stop.exit_code)
    except (ValueError, KeyError, OSError, HydraException, OmegaConfBaseException) as err:  # bad input: one line
        message = one_line(err.args[0] if isinstance(err, KeyError) and err.args else err)
        if hydra_cfg.mode != RunMode.MULTIRUN:
            print(f"imc-moo: error: {message}", file=sys.stderr)
            sys.exit(2)
        # a sweep job: record why it failed and let the others run (SweepSummary counts the failures)
        from imc_moo.files import write_text

        overrides = list(hydra_cfg.overrides.task)
        write_text(outdir / FAILED_FILE, json.dumps({"error": message, "overrides": overrides}, indent=2))
        print(f"imc-moo: error in job {hydra_cfg.job.num} ({' '.join(overrides)}): {message}", file=sys.stderr)
        return NO_EDAP  # a sampling sweeper takes the values that failed as the worst and samples on
    print(console_line(summary, cfg.problem.aggregation, outdir))
    return NO_EDAP if summary["edap"] is None else float(summary["edap"])


def _si(value: float, unit: str) -> str:
    """``2.81e-07, 's'`` -> ``281 ns``: engineering prefixes, since latencies span ns to ms."""
    for factor, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= factor:
            break
    return f"{value / factor:.3g} {prefix}{unit}"


def console_line(summary: dict, aggregation: str, outdir: Path) -> str:
    """The run's one-line result: the best chip's objectives and what it delivers (power, density, TOPS/W,
    TOPS/mm2 and what bounds its time, or, under the reference model, whether a chip could dissipate that power).
    Latency is one inference (of a batch, under the bounded model), layers one after another."""
    objectives = ""
    if summary.get("energy_j") is not None:
        batch = summary.get("batch", 1)
        objectives = (f"{aggregation} over networks: energy {_si(summary['energy_j'], 'J')}, latency "
                      f"{_si(summary['latency_s'], 's')} per inference (batch {batch}, layers in sequence), area "
                      f"{summary['area_mm2']:.4g} mm²")
        if summary.get("power_w") is not None:
            objectives += (f"; {_si(summary['power_w'], 'W')} ({summary['power_density_w_per_mm2']:.3g} W/mm²), "
                           f"{summary['tops_per_w']:.3g} TOPS/W, {summary['tops_per_mm2']:.3g} TOPS/mm²")
            if summary.get("performance") == "reference":
                objectives += (" under the reference model's latency" + (
                    ": more power than the chip can dissipate, problem.performance=bounded gives a chip that could "
                    "exist" if summary.get("over_power_limit") else ""))
            elif summary.get("bound"):
                objectives += f", bound by {summary['bound']}"
        if summary.get("power_at_rates_w") is not None:  # a mix with rates: what the chip draws serving them
            objectives += f"; {_si(summary['power_at_rates_w'], 'W')} on average at the mix's rates"
    if summary["feasible"]:
        found = f"best EDAP {summary['edap']:.6g} mJ·ms·mm² (feasible{'; ' + objectives if objectives else ''})"
    else:
        violated = ", ".join(f"{k} +{v:.3g}" for k, v in summary["violations"].items())
        found = f"NO feasible design; the least violating one exceeds {violated}"
        found += f" ({objectives})" if objectives else ""
    chip = ""
    if summary.get("partitions"):
        from imc_moo.app.export import partition_text

        chip = f"\n  chip of {len(summary['partitions'])} partition(s): {partition_text(summary['partitions'])}"
    return (f"{found} after {summary['evaluations']:,} designs in {summary['wall_time_s']:.1f} s "
            f"({summary['stop_reason']}); results in {outdir}{chip}")


class SweepSummary(Callback):
    """Hydra callback (``hydra.callbacks`` in ``conf/config.yaml``): at the end of a sweep, one line saying how many
    jobs failed and why; :func:`cli` then exits with status 1. A job with complete results (``best.json``), run now
    or skipped by a resumed sweep, counts as complete."""

    failed: list[str] = []

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        SweepSummary.failed = []

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep = Path(config.hydra.sweep.dir)
        jobs = {p.parent.parent for p in sweep.rglob(".hydra/config.yaml") if p.parent.parent != sweep}
        unfinished = sorted(j for j in jobs if not (j / "best.json").is_file())
        failed = [j for j in unfinished if (j / FAILED_FILE).is_file()]
        stopped = [j for j in unfinished if j not in failed and (j / INTERRUPTED_FILE).is_file()]
        SweepSummary.failed = [j.name for j in failed + stopped]
        print(f"imc-moo: sweep ended: {len(jobs) - len(unfinished)} of {len(jobs)} jobs complete in {sweep}; "
              f"next: imc-moo-report {sweep}", flush=True)
        for what, why, tip in (("failed", [f"{j.name}: {_reason(j, FAILED_FILE)}" for j in failed], ""),
                               ("incomplete", [f"{j.name}: {_reason(j, INTERRUPTED_FILE)}" for j in stopped],
                                "; the same command again resumes the sweep")):
            if why:
                more = f"; and {len(why) - 3} more" if len(why) > 3 else ""
                print(f"imc-moo: {len(why)} of {len(jobs)} jobs {what}: {'; '.join(why[:3])}{more}{tip}",
                      file=sys.stderr)


def _reason(job: Path, record: str) -> str:
    """Why a job has no complete results, from its ``failed.json`` or ``interrupted.json``."""
    try:
        kept = json.loads((job / record).read_text())
        if record == FAILED_FILE:
            return str(kept["error"])
        return f"{kept['stop_reason']} after {kept['evaluations']:,} designs"
    except (OSError, ValueError, KeyError, TypeError):
        return f"{record} is damaged"


#: Longest whole number a command-line value may spell (beyond it Python refuses the conversion, naming no key).
MAX_DIGITS = 30
#: Longest error line the CLI prints; a longer one (a value that echoes a long list) is cut in the middle.
MAX_ERROR_CHARS = 600


def check_numbers(overrides: list[str]) -> None:
    """Refuse a value spelling a whole number of more than :data:`MAX_DIGITS` digits, naming its key (Python's own
    error, from deep in the composition, names neither the key nor the fix)."""
    for override in overrides:
        key, _, value = override.partition("=")
        digits = value.strip().lstrip("+-")
        if len(digits) > MAX_DIGITS and digits.isdigit():
            raise ConfigError(f"{key.lstrip('+~')}: a {len(digits):,}-digit number is not a value of any key: give a "
                              "number of at most 30 digits, e.g. seed=0")


def clipped(line: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``line`` cut in the middle to ``limit`` characters, saying how long it was (the key and the fix, at its
    start and end, stay)."""
    if len(line) <= limit:
        return line
    half = (limit - 40) // 2
    return f"{line[:half]} ... [{len(line) - 2 * half:,} characters left out] ... {line[-half:]}"


def check_overrides(overrides: list[str]) -> tuple[DictConfig, Path]:
    """Compose the config once with the command-line overrides and build its problem and algorithm, so a bad
    group option, key, type or value fails with one line before Hydra starts (and before a run directory
    exists; Hydra itself prints several lines). Returns the config and its run directory."""
    cfg = compose_config(overrides, return_hydra_config=True)
    run_dir = Path(cfg.hydra.run.dir)
    build(cfg, keep=True)  # the earlier results in run_dir are checked by cli, under the directory's claim
    ancestor = run_dir.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK) or not _creatable(run_dir):
        raise ConfigError(f"cannot create the output directory {run_dir}: choose a writable one with "
                          "hydra.run.dir=...")
    return cfg, run_dir


def _creatable(directory: Path) -> bool:
    """Whether ``directory`` exists as a writable directory or could be created (probed, then removed)."""
    if directory.is_dir():
        return _writable(directory)
    missing = [d for d in [directory, *directory.parents] if not d.exists()]
    try:
        for attempt in range(3):  # another run started at the same moment may probe and remove the same parents
            try:
                directory.mkdir(parents=True, exist_ok=True)
                return _writable(directory)
            except FileNotFoundError:
                if attempt == 2:
                    raise
        return False
    except OSError:
        return False
    finally:
        for d in missing:  # innermost first; one another run is using (not empty, or gone) stays as it is
            try:
                d.rmdir()
            except OSError:
                pass


#: Sweep combinations composed by :func:`check_sweep` before a sweep starts (enough to catch what holds for all).
MAX_CHECKED_JOBS = 200


def check_sweep(overrides: list[str]) -> tuple[DictConfig, Path]:
    """Before a sweep starts: compose its jobs (up to :data:`MAX_CHECKED_JOBS`), so a bad key, group option or
    type fails with one line instead of a traceback or a sweep of failing jobs, and check the sweep directory can
    be created. Values wrong for some jobs only are left to the jobs (each records its failure). Returns the first
    job's config and the sweep directory."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    combos = sweep_combinations(overrides)
    if combos is None:  # a glob, shuffle or interval: the sweeper draws those values; check everything else
        combos = [[o.input_line for o in OverridesParser.create().parse_overrides(overrides)
                   if not o.is_sweep_override()]]
    first = None
    for combo in combos[:MAX_CHECKED_JOBS]:
        cfg = compose_config(list(combo), return_hydra_config=True)
        check_keys(cfg)
        first = first or cfg
    if first.hydra.sweeper.get("_target_") == BASIC_SWEEPER:
        check_basic_sweep(overrides, first)
    sweep_dir = Path(first.hydra.sweep.dir)
    if not _creatable(sweep_dir):
        raise ConfigError(f"cannot create the sweep directory {sweep_dir}: choose a writable one with "
                          "hydra.sweep.dir=...")
    return first, sweep_dir


def check_basic_sweep(overrides: list[str], cfg: DictConfig) -> None:
    """Refuse what only a sampling sweeper draws from, an ``interval()`` (tagged or not), on Hydra's basic sweeper
    (which says only that it does not support the sweep type, after the sweep started): one line naming the key,
    a list to give instead and the sweeper that samples it. ``cfg``: the sweep's first job, for the sweeper's
    ``params`` (a study config's)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = {}
    for override in OverridesParser.create().parse_overrides(sweeper_params(cfg.hydra.sweeper) + list(overrides)):
        parsed[override.get_key_element().lstrip("+~")] = override  # the command line replaces a parameter
    for override in parsed.values():
        if override.is_interval_sweep():
            key, interval = override.get_key_element(), override.value()
            values = ",".join(f"{v:g}" for v in (interval.start, (interval.start + interval.end) / 2, interval.end))
            raise ConfigError(f"{override.input_line}: Hydra's basic sweeper runs lists, range() and choice() only; "
                              "an interval is for a sweeper that samples: add hydra/sweeper=optuna "
                              f"hydra.sweeper.n_trials=<trials> (pip install {PLUGINS['optuna']}; "
                              f"docs/guide/tuning.md), or give the values to run, e.g. {key}={values}")


#: What marks a directory as an earlier sweep's: Hydra's record of it and imc-moo-report's outputs.
SWEEP_FILES = ("multirun.yaml", "report.md", "summary.csv", "comparison.csv")
#: Jobs a resumed sweep composes before it starts, to check each one's directory (beyond: each job checks its own).
MAX_RESUME_CHECKED_JOBS = 2000
RESUME_FIX = "choose another directory with hydra.sweep.dir=... or rerun every job with overwrite=true"


def job_dirs(sweep_dir: Path) -> set[Path]:
    """The job directories under a sweep directory: those holding a Hydra record, results or a failure record."""
    sweep_dir, records = Path(sweep_dir), {FAILED_FILE, *resume.RESULT_FILES}
    found = set()
    for path in sweep_dir.rglob("*"):
        if path.name in records:
            found.add(path.parent)
        elif path.name == "config.yaml" and path.parent.name == resume.RECORD:
            found.add(path.parent.parent)
    return {d for d in found if d != sweep_dir and ".submitit" not in d.relative_to(sweep_dir).parts}


#: ``hydra.sweeper._target_`` of Hydra's basic sweeper (``hydra/sweeper/basic.yaml``), whose job order
#: :func:`sweep_combinations` follows.
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def sweeper_params(sweeper) -> list[str]:
    """The sweeper's own ``params`` (a study config's ``hydra.sweeper.params``) as ``key=value`` lines, unresolved;
    ``sweeper`` the ``hydra.sweeper`` node or its container."""
    node = sweeper if isinstance(sweeper, dict) else OmegaConf.to_container(sweeper, resolve=False)
    return [f"{k}={v}" for k, v in (node.get("params") or {}).items()]


def sweep_combinations(overrides: list[str]) -> list[list[str]] | None:
    """Every job's overrides of a sweep, in the order Hydra's basic sweeper launches them, from its parameters
    (``hydra.sweeper.params`` as ``key=value`` lines first, then the command line's overrides): one list per key,
    a later override of a key replacing the earlier one in its place, and their product, the last key varying
    fastest. None for a sweep that cannot be told before it runs (a ``glob`` of group options, a ``shuffle``, an
    interval)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Glob

    choices: dict[str, list[str]] = {}
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.get_key_element()
        value = override.value()
        if not override.is_sweep_override():
            choices[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep() and not isinstance(value, Glob) and not getattr(value, "shuffle", False):
            choices[key] = [f"{key}={v}" for v in override.sweep_string_iterator()]
        else:
            return None
    return [list(combo) for combo in itertools.product(*choices.values())]


def sweep_jobs(overrides: list[str], limit: int | None = None) -> list[tuple[Path, DictConfig]] | None:
    """Every job of a sweep as Hydra's basic sweeper will launch it, in order: (job directory, composed config),
    from the command line's overrides and the config's ``hydra.sweeper.params``. None when that cannot be told
    before the sweep runs (another sweeper, directories named by the launcher's job id, a glob, shuffle or interval
    sweep, more than ``limit`` jobs, default :data:`MAX_RESUME_CHECKED_JOBS`)."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import open_dict

    parsed = OverridesParser.create().parse_overrides(overrides)
    hydra_lines = [o.input_line for o in parsed if o.is_hydra_override()]
    task = [o for o in parsed if not o.is_hydra_override()]
    with (contextlib.nullcontext() if GlobalHydra.instance().is_initialized() else
          initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="imc_moo")):  # compose many
        master = compose_config(hydra_lines + [o.input_line for o in task if not o.is_sweep_override()],
                                return_hydra_config=True)
        sweeper = OmegaConf.to_container(master.hydra.sweeper, resolve=False)
        subdir = OmegaConf.to_container(master.hydra.sweep, resolve=False).get("subdir") or ""
        if sweeper.get("_target_") != BASIC_SWEEPER or "hydra.job.id" in str(subdir):
            return None
        combos = sweep_combinations(sweeper_params(sweeper) + [o.input_line for o in task])
        if combos is None or len(combos) > (MAX_RESUME_CHECKED_JOBS if limit is None else limit):
            return None
        jobs = []
        for num, combo in enumerate(combos):
            cfg = compose_config([*combo, *hydra_lines], return_hydra_config=True)
            with open_dict(cfg):
                cfg.hydra.job.num = num  # as Hydra's launchers set them
                cfg.hydra.job.id = f"job_id_for_{num}"
            job_dir = Path(cfg.hydra.sweep.dir)
            sub = OmegaConf.select(cfg, "hydra.sweep.subdir")
            jobs.append((job_dir / str(sub) if sub is not None else job_dir, cfg))
    return jobs


def _names(dirs, sweep_dir: Path) -> str:
    dirs = sorted(dirs)
    shown = ", ".join(str(d.relative_to(sweep_dir)) for d in dirs[:3])
    return shown + (f" and {len(dirs) - 3} more" if len(dirs) > 3 else "")


def check_sweep_dir(cfg: DictConfig, sweep_dir: Path, overrides: list[str] = ()) -> None:
    """Before a sweep starts into a directory holding an earlier sweep: resume it, or replace it with
    ``overwrite=true`` (the earlier sweep's files and job directories are removed first).

    Resuming (:mod:`imc_moo.app.resume`) composes every job and looks at its directory: a job with complete results
    for the same config will be skipped, the others run. Refused before any job runs: a job directory holding the
    results of a different config, and job directories that are not jobs of this sweep (the report would pool
    both sweeps)."""
    sweep_dir = Path(sweep_dir)
    found = [name for name in SWEEP_FILES if (sweep_dir / name).exists()]
    jobs = job_dirs(sweep_dir) if sweep_dir.is_dir() else set()
    if not (found or jobs):
        return
    if cfg.overwrite:
        for job in sorted(jobs, key=lambda d: len(d.parts), reverse=True):
            shutil.rmtree(job, ignore_errors=True)
        for name in found:
            (sweep_dir / name).unlink()
        return
    if not jobs:
        return  # the earlier sweep started no job: every job runs
    planned = sweep_jobs(list(overrides))
    if planned is None:  # each job checks its own directory when it starts
        print(f"imc-moo: resuming the sweep in {sweep_dir}: each job skips itself if its results are complete")
        return
    states = {d.absolute(): resume.job_state(d, resume.task_config(c)) for d, c in planned}
    conflicts = [s.detail for s in states.values() if s.kind == "conflict"]
    if conflicts:
        more = f" (and {len(conflicts) - 1} more job directories)" if len(conflicts) > 1 else ""
        raise ConfigError(f"{conflicts[0]}{more}: the sweep cannot resume there: {RESUME_FIX}")
    stray = {d for d in jobs if d.absolute() not in states}
    if stray:
        raise ConfigError(f"{sweep_dir} holds job directories that are not jobs of this sweep "
                          f"({_names(stray, sweep_dir)}): resume a sweep with its own command line, or {RESUME_FIX}")
    done = sum(s.kind == "complete" for s in states.values())
    print(f"imc-moo: resuming the sweep in {sweep_dir}: {done} of {len(states)} jobs complete (skipped), "
          f"{len(states) - done} to run")


def _quoted(path: Path) -> str:
    """A path as a quoted Hydra override value (commas, spaces and brackets stay literal)."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


#: What a run writes per design it evaluates (archive.csv's row: fixed columns, and per network) and per run (the
#: other files, with and without figures) [bytes]: the default run writes 1.9 MB of archive for 2,993 designs of 4
#: networks, 50 kB of other tables and 130 kB of figures.
ARCHIVE_BYTES_PER_DESIGN = (200, 110)
RUN_BYTES = {True: 180_000, False: 50_000}


def notes(cfg: DictConfig) -> list[str]:
    """What the user should know before a run starts, one line each: a knob that has no effect with the others
    (``mix.shares`` under ``max`` or ``sum``), a budget that ends before the search proper (within the phased GA's
    initial sample or a GA's first population)."""
    out = []
    problem = cfg.problem
    shares = OmegaConf.select(problem, "mix.shares")
    if shares and problem.aggregation in ("max", "sum"):
        what = "the worst network" if problem.aggregation == "max" else "one inference of each network"
        out.append(f"problem.mix.shares has no effect with problem.aggregation={problem.aggregation} ({what}): "
                   "give problem.aggregation=mean or geomean to weight the networks by their shares")
    algorithm = cfg.algorithm
    name = str(algorithm.get("name", ""))
    budget = int(cfg.budget)
    if name.startswith("phased_ga") and algorithm.get("hamming_init", True) and algorithm.get("n_select"):
        first = int(algorithm.n_select)
        what = f"the phased GA's initial sample (algorithm.n_select={first})"
        rest, fix = "its GA phases never run", "or lower algorithm.n_select"
    elif name in ("nsga2", "nsga3", "ga") or (name.startswith("phased_ga") and algorithm.get("pop_size")):
        first, what = int(algorithm.pop_size), f"the first population (algorithm.pop_size={algorithm.pop_size})"
        rest, fix = "no generation is bred from it", "or lower algorithm.pop_size"
    else:
        return out
    if budget <= first:
        out.append(f"budget={budget:,} ends within {what}: {rest}, so the run is a random sample; give budget > "
                   f"{first:,} {fix}")
    return out


def sweep_plan(cfg: DictConfig, overrides: list[str], directory: Path) -> str:
    """The line a sweep starts with: how many jobs, where, about how much they write, and the report to run after."""
    from imc_moo.workloads import load_workloads, search_path

    combos = sweep_combinations(sweeper_params(cfg.hydra.sweeper) + list(overrides))
    trials = OmegaConf.select(cfg, "hydra.sweeper.n_trials")
    if combos is not None and cfg.hydra.sweeper.get("_target_") == BASIC_SWEEPER:
        budgets = [int(next((c.split("=", 1)[1] for c in combo if c.startswith("budget=")), cfg.budget))
                   for combo in combos]
    elif trials:
        budgets = [int(cfg.budget)] * int(trials)
    else:
        return f"imc-moo: sweep into {directory}; when it ends: imc-moo-report {directory}"
    try:
        networks = len(load_workloads(cfg.problem.workloads, search_path(cfg.problem.library_dirs)))
    except Exception:  # noqa: BLE001 - an estimate only: each job checks its own networks
        networks = 4
    fixed, per_network = ARCHIVE_BYTES_PER_DESIGN
    size = sum(b * (fixed + per_network * networks) + RUN_BYTES[bool(cfg.plots)] for b in budgets)
    mb = size / 1e6
    shown = f"{mb:,.0f}" if mb >= 10 else f"{mb:.2g}"
    return (f"imc-moo: sweep of {len(budgets):,} jobs into {directory} (up to about {shown} MB of results: runs that "
            f"stop before their budget write less); when it ends: imc-moo-report {directory}")


def cli() -> None:
    """Console entry point: pre-checks a single run's or a sweep's overrides, claims its output directory (one
    process per directory, :mod:`imc_moo.app.lock`), then hands over to Hydra with that directory fixed."""
    args = sys.argv[1:]
    flags = [a for a in args if a.startswith("-")]
    if flags and not set(flags) <= {"-m", "--multirun"}:  # other flags (--help, --cfg, ...) go straight to Hydra
        try:
            main()
        except BrokenPipeError:
            raise  # the reader went away (imc-moo --help | head -1): the entry point ends quietly
        except Exception as err:  # noqa: BLE001 - Hydra refuses a combination of flags with a ValueError
            print(f"imc-moo: error: {one_line(err)}", file=sys.stderr)
            sys.exit(2)
        return
    sweep = bool(flags)
    key = "hydra.sweep.dir" if sweep else "hydra.run.dir"
    with contextlib.ExitStack() as held:
        try:
            check_numbers([a for a in args if not a.startswith("-")])
            cfg, directory = (check_sweep if sweep else check_overrides)([a for a in args if not a.startswith("-")])
            held.enter_context(claim(directory, key))
            # checked again under the claim: a run that finished meanwhile must not be overwritten
            if sweep:
                check_sweep_dir(cfg, directory, [*(a for a in args if not a.startswith("-")),
                                                 f"hydra.sweep.dir={_quoted(directory)}"])
            else:
                check_outdir(cfg, directory)
        except Exception as err:  # noqa: BLE001 - any composition error is bad input here
            held.close()
            print(f"imc-moo: error: {clipped(one_line(err))}", file=sys.stderr)
            sys.exit(2)
        for line in notes(cfg):
            print(f"imc-moo: note: {line}", file=sys.stderr)
        if sweep:
            print(sweep_plan(cfg, [a for a in args if not a.startswith("-")], directory), flush=True)
        # Hydra would resolve ${now:...} again, a few microseconds later: give it the directory just claimed
        sys.argv = [sys.argv[0], *args, f"{key}={_quoted(directory)}"]
        with mode_known(cfg):  # Hydra need not compose the config once more to learn its mode
            if not sweep:
                main()
            else:
                _sweep(directory)
    if SweepSummary.failed:
        sys.exit(1)


def _sweep(directory: Path) -> None:
    """Run the sweep (Hydra's multirun). A launcher that fails (a Slurm job ended without a result: cancelled,
    out of memory, a lost node) ends it with one line, not Hydra's traceback: Hydra hands its error on here."""
    saved = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except Exception as err:  # noqa: BLE001 - whatever stopped the launcher, said in one line
        print(f"imc-moo: error: {_launcher_error(err)}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"imc-moo: interrupted while the sweep's jobs ran; jobs handed to a cluster may still run (squeue); "
              f"the same command again resumes the sweep in {directory}", file=sys.stderr)
        sys.exit(130)
    finally:
        if saved is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved


def _launcher_error(err: BaseException) -> str:
    """A sweep launcher's error as one line; for a submitit job that left no result, which job, its state and log."""
    import re

    if isinstance(err, resume.ResumeConflict):
        return str(err)
    hint = "the jobs that finished keep their results and the same command again resumes the sweep"
    found = re.search(r"Job (\S+) \(task: \d+\) with path (\S+)\s+has not produced any output \(state: ([^)\n]*)\)",
                      str(err))
    if not found:
        return f"{one_line(err)}; {hint}"
    job, result, state = found.groups()
    log = Path(result).with_name(Path(result).name.replace("_result.pkl", "_log.err"))
    return (f"Slurm job {job} ended without a result (state: {state}; its log: {log}): {hint} (once squeue "
            "lists none of its jobs)")


if __name__ == "__main__":
    cli()
