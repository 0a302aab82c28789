"""Reading a sweep: its run directories, each run's ``best.json`` (checked), its CSVs and Hydra records, and the
summary table of every run (:func:`collect`). Damaged or missing files cost the run (or the line that needs them),
never the report: each is named on stderr or in the summary's ``reason``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from imc_moo.app.resume import RECORD, RUN_CONTROL_KEYS, read_record

SUMMARY_COLUMNS = ["run", "algorithm", "label", "problem", "aggregation", "budget", "seed", "edap", "hypervolume",
                   "evaluations", "wall_time_s", "feasible", "status", "reason"]


class ReportError(ValueError):
    """The sweep directory cannot be reported on."""


def find_runs(sweep: Path) -> list[Path]:
    """Run directories of a sweep: every directory holding a Hydra ``.hydra/config.yaml`` or a ``best.json``."""
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise ReportError(f"{sweep} is not a directory: give a sweep directory such as runs/multirun/<date>/<time>")
    runs = {p.parent.parent for p in sweep.rglob(".hydra/config.yaml")} | {p.parent for p in sweep.rglob("best.json")}
    runs.discard(sweep)
    if not runs:
        raise ReportError(f"no runs found under {sweep}: expected job directories with .hydra/config.yaml")
    return sorted(runs)


def run_identity(run: Path) -> dict:
    """Algorithm, problem and seed from the run's composed config (for runs that did not finish)."""
    c = read_record(run)
    if c is None:  # a missing or damaged config only costs the run its identity, not the report
        return {}
    try:
        name = c.get("algorithm", {}).get("name")
    except Exception:  # noqa: BLE001 - a config of the wrong shape, likewise
        return {}
    return {"algorithm": name, "label": name, "problem": c.get("problem", {}).get("name"),
            "aggregation": c.get("problem", {}).get("aggregation"), "seed": c.get("seed")}


def failure(run: Path) -> str:
    """Why a run has no ``best.json``: the job's recorded error (``failed.json``), else that it crashed or is
    still running."""
    try:
        return str(json.loads((run / "failed.json").read_text())["error"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        kept = json.loads((run / "interrupted.json").read_text())
        return f"{kept.get('stop_reason', 'interrupted')} after {kept['evaluations']:,} designs (incomplete)"
    except (OSError, ValueError, KeyError, TypeError):
        return "no best.json: crashed, killed or still running"


def read_table(path: Path, needed: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """A run's CSV, or None (with one line on stderr) when it is missing, truncated or lacks ``needed`` columns."""
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as err:
        print(f"skipping {path}: {' '.join(str(err).split())}", file=sys.stderr)
        return None
    if not set(needed) <= set(table.columns):
        print(f"skipping {path}: it lacks {sorted(set(needed) - set(table.columns))}", file=sys.stderr)
        return None
    return table


def _sweep_lines(cfg) -> list[str]:
    """A sweep's parameters as ``key=value`` lines from its ``multirun.yaml``: ``hydra.sweeper.params``, each
    replaced by the command line's override of the same key, then the command line's others."""
    from omegaconf import OmegaConf

    node = cfg.hydra.sweeper.get("params")
    params = OmegaConf.to_container(node, resolve=False) if node is not None else {}
    lines = {str(k).lstrip("+~"): f"{k}={v}" for k, v in params.items()}
    for line in cfg.hydra.overrides.task:  # the command line replaces a sweep parameter of the same key
        lines[line.split("=", 1)[0].lstrip("+~")] = line
    return list(lines.values())


def expected_jobs(sweep: Path) -> int | None:
    """How many jobs the sweep launches: the product of the sweep overrides' lengths (command line and
    ``hydra.sweeper.params``) recorded in ``multirun.yaml``; None if that file is missing or unreadable, or if
    another sweeper than Hydra's basic one ran the sweep (Optuna's runs ``n_trials`` jobs of its own choosing)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from imc_moo.app.experiment import BASIC_SWEEPER

    try:
        cfg = OmegaConf.load(sweep / "multirun.yaml")
        if cfg.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
            return None
        lines = _sweep_lines(cfg)
        total = 1
        for override in OverridesParser.create().parse_overrides(lines):
            if override.is_sweep_override():
                total *= len(list(override.sweep_string_iterator()))
        return total
    except Exception:  # noqa: BLE001 - a damaged multirun.yaml only costs the count of jobs that never started
        return None


#: best.json fields the report computes with, and the types they must have.
BEST_TYPES = {"algorithm": str, "problem": str, "seed": int, "evaluations": int, "edap": (int, float, type(None)),
              "hypervolume": (int, float, type(None)), "per_workload": dict}


def read_best(path: Path) -> tuple[dict | None, str | None]:
    """A run's ``best.json`` and None, or None and why it cannot be used (None, None: there is none)."""
    if not path.is_file():
        return None, None
    try:
        best = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return None, f"best.json is damaged ({' '.join(str(err).split())}): rerun the job"
    if not isinstance(best, dict):
        return None, f"best.json is damaged (a {type(best).__name__}, not an object): rerun the job"
    wrong = [k for k, kind in BEST_TYPES.items() if k in best and
             (not isinstance(best[k], kind) or isinstance(best[k], bool))]
    if wrong:
        return None, f"best.json is damaged (wrong type of {', '.join(wrong)}): rerun the job"
    return best, None


def _override_key(override) -> str:
    """An override's key as a column: without ``+``/``~``; a group option placed by its package
    (``algorithm@algorithm.inner=nsga2``) at that package."""
    return override.package or override.key_or_group


def run_overrides(run: Path) -> dict:
    """A run's command-line overrides as Hydra recorded them for its job (``.hydra/overrides.yaml``): key -> value,
    typed as Hydra parses it (``80`` an int, ``0.2466`` a float, ``true`` a bool, a list or mapping as JSON text);
    {} when the record is missing or damaged (the run keeps its row, without them)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import ListConfig, OmegaConf

    try:
        lines = OmegaConf.load(Path(run) / RECORD / "overrides.yaml")
    except Exception:  # noqa: BLE001 - missing, truncated or not YAML: the run is reported without its overrides
        return {}
    if not isinstance(lines, ListConfig):
        return {}
    parser, out = OverridesParser.create(), {}
    for line in lines:
        try:
            override = parser.parse_override(str(line))
        except Exception:  # noqa: BLE001 - a line Hydra would not parse: that value is left out
            continue
        if override.is_delete() or override.is_sweep_override():
            continue
        value = override.value()
        if isinstance(value, (list, dict)):
            value = json.dumps(value, default=str)
        out[_override_key(override)] = value
    return out


def swept_keys(sweep: Path) -> set[str]:
    """The keys the sweep's command line or ``hydra.sweeper.params`` sweep (``multirun.yaml``: lists, ``range``,
    ``choice``, ``interval``, ...); empty when that record is missing or damaged."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    try:
        parsed = OverridesParser.create().parse_overrides(_sweep_lines(OmegaConf.load(Path(sweep) / "multirun.yaml")))
    except Exception:  # noqa: BLE001 - the keys whose values differ between the runs are columns all the same
        return set()
    return {_override_key(o) for o in parsed if o.is_sweep_override()}


def _typed(column: pd.Series) -> pd.Series:
    """A swept key's column: whole numbers as integers (empty where a run lacks the key), other numbers as floats,
    anything else as it was recorded."""
    values = column.dropna()
    if values.empty or values.map(lambda v: isinstance(v, bool)).any():
        return column
    if values.map(lambda v: isinstance(v, int)).all():
        return column.astype("Int64")
    if values.map(lambda v: isinstance(v, (int, float))).all():
        return column.astype(float)
    return column


def swept_columns(sweep: Path, overrides: dict[str, dict]) -> list[str]:
    """The keys shown as columns of their own: those the sweep sweeps (:func:`swept_keys`) and any other whose
    value differs between its runs (``overrides``: run -> :func:`run_overrides`), by name; not the keys the summary
    has columns for already (``algorithm``, ``problem``, ``seed``, ``budget``) nor the run-control keys."""
    keys = {k for each in overrides.values() for k in each}
    swept = swept_keys(sweep)
    recorded = [o for o in overrides.values() if o]  # a run without its record says nothing of what varies
    varying = {k for k in keys if len({json.dumps(o.get(k), default=str) for o in recorded}) > 1}
    return sorted(k for k in keys & (swept | varying) if k not in SUMMARY_COLUMNS and k not in RUN_CONTROL_KEYS)


def collect(sweep: Path) -> tuple[pd.DataFrame, dict[Path, dict]]:
    """The summary table and the parsed ``best.json`` of every finished run. After ``label``, one column per swept
    key (:func:`swept_columns`, e.g. ``algorithm.pop_size``, ``algorithm.mutation_prob``) holding each run's value,
    from its Hydra record of the overrides it ran with (:func:`run_overrides`)."""
    rows, bests, overrides = [], {}, {}
    for run in find_runs(sweep):
        rel = str(run.relative_to(sweep))
        overrides[rel] = run_overrides(run)
        best, damage = read_best(run / "best.json")
        if best is None:
            rows.append({"run": rel, **run_identity(run), "status": "failed", "reason": damage or failure(run)})
            continue
        best.setdefault("label", best.get("algorithm"))  # runs written before labels existed
        best.setdefault("aggregation", "max")
        bests[run] = best
        rows.append({"run": rel, **{k: best.get(k) for k in SUMMARY_COLUMNS if k in best}, "status": "ok"})
    expected = expected_jobs(sweep)
    numbers = {int(r["run"].split("_", 1)[0]) for r in rows if r["run"].split("_", 1)[0].isdigit()}
    if expected is not None and numbers:  # job directories are named <job number>_...: name the missing ones
        rows += [{"run": f"job {n}", "status": "failed", "reason": "never started (no job directory)"}
                 for n in range(expected) if n not in numbers]
    swept = swept_columns(sweep, overrides)
    at = SUMMARY_COLUMNS.index("label") + 1
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS[:at] + swept + SUMMARY_COLUMNS[at:])
    for key in swept:
        summary[key] = _typed(pd.Series([overrides.get(r, {}).get(key) for r in summary.run], index=summary.index,
                                        dtype=object))
    return summary, bests


def sweep_overrides(sweep: Path) -> list[str] | None:
    """The sweep's command-line overrides from ``multirun.yaml``; None if it is missing or damaged (one line)."""
    multirun = sweep / "multirun.yaml"
    if not multirun.is_file():
        return None
    from omegaconf import OmegaConf

    try:
        return list(OmegaConf.load(multirun).hydra.overrides.task)
    except Exception as err:  # noqa: BLE001 - a damaged record costs the report its "Reproduce" line only
        print(f"skipping {multirun}: {' '.join(str(err).split())[:200]}", file=sys.stderr)
        return None
