"""The Hydra entry point: compose a problem and an algorithm from ``conf/``, run, write the run directory.

``imc-moo [overrides]`` or ``python -m imc_moo [overrides]``; ``imc-moo --help`` lists the config groups,
``imc-moo --cfg job`` prints the composed config, ``imc-moo -m algorithm=phased_ga,nsga2 seed=0,1`` sweeps.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf.errors import OmegaConfBaseException
from omegaconf import DictConfig, ListConfig, OmegaConf

from .algorithms import RunHistory, is_runner, resolve_algorithm, run_algorithm
from .config import ConfigError, algorithm_factory, build_problem, check_keys, compose_config, one_line
from .export import atomic_write_text, clear_results, existing_results, write_best, write_tables
from .indicators import best_row, pareto_front
from .ledger import Ledger
from .paths import CONF_DIR  # the packaged Hydra configs (conf/ in the repository), an absolute directory
from .problem import WorkloadSetProblem
from .progress import Progress

__all__ = ["CONF_DIR", "ConfigError", "build", "check_overrides", "cli", "main", "run", "run_label"]


def build(cfg: DictConfig) -> tuple[WorkloadSetProblem, str, Callable]:
    """The problem and the algorithm (name, factory) of a composed config, every value checked: whatever is
    wrong fails here, before a run directory exists."""
    check_keys(cfg)
    if cfg.budget <= 0:
        raise ConfigError(f"budget must be a positive number of designs, got {cfg.budget}: e.g. budget=3300")
    problem = build_problem(cfg.problem)
    name, factory = algorithm_factory(cfg.algorithm)
    resolve_algorithm(factory)  # checks a baseline's inner search
    if not is_runner(factory):
        factory(problem, cfg.budget)  # builds the pymoo algorithm once: its own checks (e.g. pop_size) run here
    return problem, name, factory


def check_outdir(cfg: DictConfig, outdir: Path) -> None:
    """Refuse a run directory holding an earlier run's results unless ``overwrite=true``."""
    found = existing_results(outdir)
    if found and not cfg.overwrite:
        raise ConfigError(f"{outdir} already holds the results of a run ({', '.join(found)}): choose another "
                          "directory with hydra.run.dir=... or replace them with overwrite=true")


class RunInterrupted(Exception):
    """The user stopped a run (Ctrl-C); the message says what was kept."""


#: An interrupted run's summary (the designs so far); ``best.json`` marks complete runs only.
INTERRUPTED_FILE = "interrupted.json"


def _keep_interrupted(outdir: Path, problem, ledger: Ledger, history: RunHistory, cfg: DictConfig, meta: dict,
                      wall: float) -> str:
    """Write the archive and history of an interrupted run and ``interrupted.json``; returns the one line."""
    if ledger.spent == 0:
        return "interrupted before the first design was evaluated; nothing to keep"
    meta = {**meta, "evaluations": ledger.spent, "stop_reason": "interrupted (Ctrl-C)", "complete": False,
            "wall_time_s": round(wall, 3)}
    summary, _ = write_tables(outdir, ledger.frame(), history.frame(), problem.workloads, meta, cfg.problem.hv)
    atomic_write_text(outdir / INTERRUPTED_FILE, json.dumps(summary, indent=2) + "\n")
    return (f"interrupted after {ledger.spent:,} of {cfg.budget:,} designs; the designs so far are kept in {outdir} "
            f"(archive.csv, history.csv, {INTERRUPTED_FILE}; no best.json: the run is incomplete)")


def run(cfg: DictConfig, outdir: Path) -> dict:
    """Run one experiment and write its outputs into ``outdir``; returns the ``best.json`` payload."""
    problem, name, factory = build(cfg)
    check_outdir(cfg, outdir)
    clear_results(outdir)  # overwrite=true: nothing of the earlier run stays beside the new one
    budget = cfg.budget
    outdir.mkdir(parents=True, exist_ok=True)
    if not _writable(outdir):
        raise ConfigError(f"cannot write to the output directory {outdir}: choose another with hydra.run.dir=...")
    progress = Progress(name, budget, enabled=cfg.progress)
    meta = {"algorithm": name, "label": run_label(cfg), "problem": problem_label(cfg),
            "aggregation": cfg.problem.aggregation, "objectives": cfg.problem.objectives, "seed": cfg.seed,
            "budget": budget}
    ledger = Ledger(cap=budget)
    history = RunHistory(ledger, progress)
    start = time.perf_counter()
    try:
        result = run_algorithm(factory, problem, budget=budget, seed=cfg.seed, ledger=ledger, history=history)
    except KeyboardInterrupt:
        progress.close()
        raise RunInterrupted(_keep_interrupted(outdir, problem, ledger, history, cfg, meta,
                                               time.perf_counter() - start)) from None
    wall = time.perf_counter() - start
    progress.close()
    meta.update(evaluations=result.evaluations, stop_reason=result.stop_reason, wall_time_s=round(wall, 3),
                **result.extra)
    summary, history = write_tables(outdir, result.archive, result.history, problem.workloads, meta, cfg.problem.hv)
    if cfg.plots:
        from .plots import convergence_plot, pareto_plot  # matplotlib is slow to import: only when plotting

        title = f"{cfg.problem.name} · {cfg.algorithm.name} · seed {cfg.seed}"
        archive = result.archive
        aggregation = cfg.problem.aggregation
        pareto_plot(archive, pareto_front(archive), best_row(archive), outdir / "pareto.png", title, aggregation)
        convergence_plot(history, outdir / "convergence.png", title, aggregation)
    write_best(outdir, summary)
    return summary


def _overridden(cfg: DictConfig, prefixes: tuple[str, ...], strip: str = "", skip: tuple[str, ...] = ()) -> str:
    """``[key=value]`` for every command-line override of a key starting with one of ``prefixes`` (sorted) but
    ``skip``, ``strip`` removed from the keys; a group choice (``space=sram``) shows the chosen config's name."""
    try:
        task = HydraConfig.get().overrides.task
    except ValueError:  # composed without a Hydra run (tests, API use)
        task = []
    keys = sorted({o.lstrip("+~").split("=", 1)[0] for o in task if o.lstrip("+~").startswith(prefixes)} - set(skip))
    parts = []
    for key in keys:
        value = OmegaConf.select(cfg, key)
        if isinstance(value, DictConfig) and "name" in value:  # a group option
            value = value.name
        elif isinstance(value, (DictConfig, ListConfig)):
            value = OmegaConf.to_container(value, resolve=True)
        shown = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"[{key.removeprefix(strip)}={shown}]")
    return "".join(parts)


def run_label(cfg: DictConfig) -> str:
    """The algorithm name plus any algorithm knobs overridden on the command line (e.g. in an ablation sweep)."""
    return cfg.algorithm.name + _overridden(cfg, ("algorithm.",), strip="algorithm.")


def problem_label(cfg: DictConfig) -> str:
    """The problem's name plus whatever the command line changed of it or of its design space, so runs of
    different problems are never reported as one (e.g. ``rram_cnn4[memory=sram]``)."""
    # the aggregation is recorded (and grouped by) on its own
    return cfg.problem.name + _overridden(cfg, ("problem.", "space"), strip="problem.", skip=("problem.aggregation",))


def _writable(directory: Path) -> bool:
    probe = directory / ".write_test"
    try:
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


#: A sweep job's failure record in its directory (beside ``.hydra/``): ``{"error": ..., "overrides": [...]}``.
FAILED_FILE = "failed.json"


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> float | None:
    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    try:
        summary = run(cfg, outdir)
    except RunInterrupted as stop:
        print(f"imc-moo: {stop}", file=sys.stderr)
        sys.exit(130)
    except (ValueError, KeyError, OSError, HydraException, OmegaConfBaseException) as err:  # bad input: one line
        message = one_line(err.args[0] if isinstance(err, KeyError) and err.args else err)
        if hydra_cfg.mode != RunMode.MULTIRUN:
            print(f"imc-moo: error: {message}", file=sys.stderr)
            sys.exit(2)
        # a sweep job: record why it failed and let the others run (SweepSummary counts the failures)
        overrides = list(hydra_cfg.overrides.task)
        atomic_write_text(outdir / FAILED_FILE, json.dumps({"error": message, "overrides": overrides}, indent=2))
        print(f"imc-moo: error in job {hydra_cfg.job.num} ({' '.join(overrides)}): {message}", file=sys.stderr)
        return None
    if summary["feasible"]:
        found = f"best EDAP {summary['edap']:.6g} mJ·ms·mm² (feasible)"
    else:
        violated = ", ".join(f"{k} +{v:.3g}" for k, v in summary["violations"].items())
        found = f"NO feasible design; the least violating one exceeds {violated}"
    print(f"{found} after {summary['evaluations']:,} designs in {summary['wall_time_s']:.1f} s "
          f"({summary['stop_reason']}); results in {outdir}")
    return summary["edap"]


class SweepSummary(Callback):
    """Hydra callback (``hydra.callbacks`` in ``conf/config.yaml``): at the end of a sweep, one line saying how many
    jobs failed and why; :func:`cli` then exits with status 1."""

    failed: list[str] = []

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        SweepSummary.failed = []

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep = Path(config.hydra.sweep.dir)
        jobs = [p.parent.parent for p in sweep.rglob(".hydra/config.yaml") if p.parent.parent != sweep]
        failed = sorted(j for j in jobs if (j / FAILED_FILE).is_file())
        SweepSummary.failed = [j.name for j in failed]
        if failed:
            reasons = "; ".join(f"{j.name}: {json.loads((j / FAILED_FILE).read_text())['error']}" for j in failed[:3])
            more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
            print(f"imc-moo: {len(failed)} of {len(jobs)} jobs failed: {reasons}{more}", file=sys.stderr)


def check_overrides(overrides: list[str]) -> None:
    """Compose the config once with the command-line overrides and build its problem and algorithm, so a bad
    group option, key, type or value fails with one line before Hydra starts (and before a run directory
    exists; Hydra itself prints several lines)."""
    cfg = compose_config(overrides, return_hydra_config=True)
    run_dir = Path(cfg.hydra.run.dir)
    build(cfg)
    check_outdir(cfg, run_dir)
    ancestor = run_dir.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK) or not _creatable(run_dir):
        raise ConfigError(f"cannot create the output directory {run_dir}: choose a writable one with "
                          "hydra.run.dir=...")


def _creatable(directory: Path) -> bool:
    """Whether ``directory`` exists as a writable directory or could be created (probed, then removed)."""
    if directory.is_dir():
        return _writable(directory)
    created = []
    try:
        for parent in reversed([directory, *directory.parents]):
            if not parent.exists():
                parent.mkdir()
                created.append(parent)
        return _writable(directory)
    except OSError:
        return False
    finally:
        for d in reversed(created):
            d.rmdir()


#: Sweep combinations composed by :func:`check_sweep` before a sweep starts (enough to catch what holds for all).
MAX_CHECKED_JOBS = 200


def check_sweep(overrides: list[str]) -> None:
    """Before a sweep starts: compose its jobs (up to :data:`MAX_CHECKED_JOBS`), so a bad key, group option or
    type fails with one line instead of a traceback or a sweep of failing jobs, and check the sweep directory can
    be created. Values wrong for some jobs only are left to the jobs (each records its failure)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    choices = []
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.input_line.split("=", 1)[0]
        values = list(override.sweep_string_iterator()) if override.is_sweep_override() else None
        choices.append([f"{key}={v}" for v in values] if values else [override.input_line])
    first = None
    for combo in itertools.islice(itertools.product(*choices), MAX_CHECKED_JOBS):
        cfg = compose_config(list(combo), return_hydra_config=True)
        check_keys(cfg)
        first = first or cfg
    sweep_dir = Path(first.hydra.sweep.dir)
    if not _creatable(sweep_dir):
        raise ConfigError(f"cannot create the sweep directory {sweep_dir}: choose a writable one with "
                          "hydra.sweep.dir=...")


def cli() -> None:
    """Console entry point: pre-checks a single run's or a sweep's overrides, then hands over to Hydra."""
    args = sys.argv[1:]
    flags = [a for a in args if a.startswith("-")]
    check = None
    if not flags:
        check = check_overrides
    elif set(flags) <= {"-m", "--multirun"}:  # other flags (--help, --cfg, ...) go straight to Hydra
        check = check_sweep
    if check is not None:
        try:
            check([a for a in args if not a.startswith("-")])
        except Exception as err:  # noqa: BLE001 - any composition error is bad input here
            print(f"imc-moo: error: {one_line(err)}", file=sys.stderr)
            sys.exit(2)
    main()
    if SweepSummary.failed:
        sys.exit(1)


if __name__ == "__main__":
    cli()
