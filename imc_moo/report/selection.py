"""``imc-moo-select``: from a front to a decision. The designs of a run's ``pareto.csv`` (or ``archive.csv``; every
complete run of a sweep pooled) that pass conditions on any column, ranked by one column or by how close each is to
the knee of their front, printed as a table and written as CSV (:func:`select` from Python).

* **Conditions** are ``COLUMN<VALUE`` with ``<``, ``<=``, ``>``, ``>=``, ``==`` or ``!=``, on any column of the
  table (docs/reference/outputs.md): numbers in the column's SI unit (``latency_s<1e-5``: 10 µs), ``true``/``false``
  for a boolean column (``feasible==true``), text for a text column (``bound==pulses``). A design without a value
  (an empty cell) passes no condition on that column.
* **Feasible designs only**, unless a condition names ``feasible`` (``--from archive 'feasible==false'`` lists the
  infeasible ones).
* **Ranking**: the least ``--minimize COLUMN`` (default ``edap``) or the largest ``--maximize COLUMN`` first (stable:
  ties keep the table's order, designs without a value last), or ``--knee`` (:func:`knee_distance`).
* **Output**: the first ``--top N`` designs (default 10; 1 with ``--knee``; ``--top all``), printed (units chosen per
  column) and written with every column to ``selected.csv`` in the given directory or to ``-o FILE``, atomically; an
  existing file is never replaced without ``--force``.
* **Exit status**: 0 with a selection; 1 when no design passes (one line saying how many designs there were and
  which condition removed the last of them; nothing written); 2 for bad input (one ``imc-moo-select: error:`` line
  naming the problem and the fix; nothing written).
"""

from __future__ import annotations

import argparse
import difflib
import math
import operator
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from imc_moo.app.resume import RECORD, RESULT_FILES
from imc_moo.files import write_csv
from imc_moo.problem.indicators import OBJECTIVES
from imc_moo.report.readers import ReportError, failure, find_runs, read_best

PROG = "imc-moo-select"
#: The tables a selection reads (``--from``).
TABLES = ("pareto", "archive")
#: The file a selection is written to, in the directory it reads, without ``-o``.
DEFAULT_OUTPUT = "selected.csv"
#: The run identifier columns every CSV of a run starts with.
RUN_COLUMNS = ("problem", "algorithm", "seed", "label")
#: The column a sweep's pooled designs gain: the run directory, relative to the sweep directory.
RUN = "run"
#: The column ``--knee`` adds: the distance to the ideal point (:func:`knee_distance`).
KNEE = "knee_distance"
#: The default ranking.
DEFAULT_MINIMIZE = "edap"
#: Columns every run's table has (a table without them is damaged).
NEEDED = ("design_id", "feasible", *OBJECTIVES, "edap")
#: Shown in the printed table (when present), after the identifiers; the CSV has every column.
SHOWN = ("design_id", "energy_j", "latency_s", "area_mm2", "edap", "power_w")

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
             "!=": operator.ne}
_CONDITION = re.compile(r"\s*(?P<column>[A-Za-z_][A-Za-z0-9_.\-]*)\s*(?P<op><=|>=|==|!=|=<|=>|<|>|=)\s*"
                        r"(?P<value>.*?)\s*")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class SelectError(ValueError):
    """A selection that cannot be made: a bad condition, column or option, no run to read (the message names the
    problem and the fix)."""


class NothingSelected(SelectError):
    """No design passes the conditions (the message says how many there were and which condition removed the last
    of them)."""


# ---------------------------------------------------------------------------------------------------- units
#: Column family -> (SI unit, the prefixes it is shown with); a family is a column and its ``_<network>`` columns.
_UNITS = (("power_density_w_per_mm2", "W/mm²", ()), ("tops_per_mm2", "TOPS/mm²", ()), ("tops_per_w", "TOPS/W", ()),
          ("throughput_per_s", "1/s", ()), ("edap", "mJ·ms·mm²", ()), ("glb_mib", "MiB", ()),
          ("technology_nm", "nm", ()), ("voltage", "V", ()), ("switch_energy_j", "J", "munp"),
          ("energy_j", "J", "munp"), ("switch_latency_s", "s", "munp"), ("base_latency_s", "s", "munp"),
          ("latency_s", "s", "munp"), ("interval_s", "s", "munp"), ("power_at_rates_w", "W", "kmun"),
          ("power_w", "W", "kmun"), ("area_mm2", "mm²", ()), ("cost", "mm²", ()))
_FACTOR = {"k": 1e3, "": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "p": 1e-12, "M": 1e6,
           "G": 1e9}


def unit_of(column: str) -> tuple[str, str]:
    """A column's SI unit and the prefixes it may be shown with (``"munp"``: m, µ, n, p); ``("", "")`` for a
    column without a unit."""
    if re.fullmatch(r"p\d+_area_mm2", column):
        return "mm²", ""
    for family, unit, prefixes in _UNITS:
        if column == family or column.startswith(family + "_"):
            return unit, "".join(prefixes)
    return "", ""


def _prefix(values: np.ndarray, prefixes: str) -> tuple[str, float]:
    """The prefix (and its factor) that shows the median of ``values`` between 1 and 1000."""
    finite = np.abs(values[np.isfinite(values) & (values != 0)])
    if not prefixes or finite.size == 0:
        return "", 1.0
    median = float(np.median(finite))
    ladder = sorted([("", 1.0), *((p, _FACTOR[p]) for p in prefixes)], key=lambda pf: -pf[1])
    for prefix, factor in ladder:
        if median >= factor:
            return ("µ" if prefix == "u" else prefix), factor
    prefix, factor = ladder[-1]
    return ("µ" if prefix == "u" else prefix), factor


def number_text(value: float) -> str:
    """A number to 4 significant digits without an exponent from 0.001 to 10⁶ (``16.31``, ``61784``), with one
    beyond (``1.235e-05``); ``—`` for a missing one."""
    if value is None or not np.isfinite(value):
        return "—" if value is None or np.isnan(value) else str(value)
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.{max(0, 3 - math.floor(math.log10(abs(value))))}f}"
    return f"{value:.3e}"


def quantity_text(value: float, column: str) -> str:
    """A value of ``column`` with its unit, prefixed to read easily: ``0.00783, "latency_s"`` -> ``7.83 ms``."""
    unit, prefixes = unit_of(column)
    prefix, factor = _prefix(np.array([value], dtype=float), prefixes)
    return f"{value / factor:.4g} {prefix}{unit}".rstrip()


def table_text(table: pd.DataFrame) -> str:
    """A table as fixed-width text: each column's name, its unit (one prefix per column, chosen so its median
    reads between 1 and 1000: ``[mJ]``, ``[ms]``, ``[mm²]``) and its values (numbers right-aligned, 4
    significant digits)."""
    columns = []
    for name in table.columns:
        series = table[name]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        unit, prefixes = unit_of(str(name))
        if numeric and pd.api.types.is_integer_dtype(series):
            cells, label = [str(v) for v in series], ""
        elif numeric:
            values = series.to_numpy(dtype=float)
            prefix, factor = _prefix(values, prefixes)
            cells = [number_text(v / factor) for v in values]
            label = f"[{prefix}{unit}]" if unit else ""
        else:
            cells, label = ["—" if _missing(v) else str(v) for v in series], ""
        width = max(len(str(name)), len(label), *(len(c) for c in cells))
        align = str.rjust if numeric else str.ljust
        columns.append([align(str(name), width), align(label, width), *(align(c, width) for c in cells)])
    lines = ["  ".join(parts).rstrip() for parts in zip(*columns)]
    if not any(c[1].strip() for c in columns):
        del lines[1]  # no column has a unit
    return "\n".join(lines)


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Condition:
    """One condition: ``column``, an operator of :data:`OPERATORS` and the value as written."""

    text: str
    column: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Condition:
        """``"latency_s<1e-5"`` -> Condition; a :class:`SelectError` naming the fix for anything else."""
        if not isinstance(text, str):
            raise SelectError(f"a condition is text such as 'latency_s<1e-5', not {text!r}")
        m = _CONDITION.fullmatch(text)
        if m is None or not m["value"]:
            raise SelectError(f"'{text}' is not a condition: write COLUMN<VALUE with <, <=, >, >=, == or != "
                              f"(e.g. 'latency_s<1e-5'; quote it in the shell)")
        column, op, value = m["column"], m["op"], m["value"]
        if op in ("=", "=<", "=>"):
            fixed = {"=": "==", "=<": "<=", "=>": ">="}[op]
            raise SelectError(f"'{text}' is not a condition: did you mean '{column}{fixed}{value}'? (the operators "
                              f"are <, <=, >, >=, == and !=)")
        return cls(text.strip(), column, op, value.strip("'\""))


def _kind(series: pd.Series) -> str:
    """``number``, ``bool`` or ``text``: how a column's values compare; ``empty`` for a column of text type without a
    value (a header-only table: a run without a feasible design), whose type cannot be told."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    values = series.dropna()
    if values.empty:
        return "empty"
    if len(values) and values.map(lambda v: isinstance(v, (bool, np.bool_)) or str(v) in ("True", "False")).all():
        return "bool"
    return "text"


def _truth(series: pd.Series) -> pd.Series:
    """A boolean column (dtype bool, or the text ``True``/``False`` of a pooled table) as bool; missing -> False."""
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    return series.map(lambda v: (v is True or v is np.True_ or str(v).lower() == "true")).astype(bool)


def _close(name: str, columns: Sequence[str]) -> list[str]:
    """Columns a mistyped name may have meant: close spellings first, then the columns it begins."""
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    close += [c for c in columns if c.startswith(name) and c not in close]
    return close[:4]


def _column(table: pd.DataFrame, name: str, source: str, what: str = "column") -> pd.Series:
    if name not in table.columns:
        columns = [str(c) for c in table.columns]
        close = _close(name, columns)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise SelectError(f"unknown {what} '{name}' in {source}{hint}: docs/reference/outputs.md lists every column "
                          f"and its unit")
    return table[name]


def _number(condition: Condition) -> float:
    """The condition's value as a number, or a :class:`SelectError` suggesting the number it probably meant."""
    try:
        value = float(condition.value.replace("_", ""))
    except ValueError:
        value = None
    if value is not None and not math.isnan(value):
        return value
    unit, _ = unit_of(condition.column)
    hint = f"values are plain numbers in the column's SI unit ({unit}), with an exponent where needed" if unit \
        else "the column holds numbers"
    m = re.fullmatch(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kmuµμnpMG]?)(\S+)", condition.value)
    if m and unit and (m[3] in (unit, unit.replace("²", "2")) or m[2] + m[3] in (unit, unit.replace("²", "2"))):
        meant = float(m[1]) * (1.0 if m[2] + m[3] in (unit, unit.replace("²", "2")) else _FACTOR[m[2]])
        hint += f": '{condition.column}{condition.op}{meant:g}'"
    else:
        hint += ", e.g. " + f"'{condition.column}{condition.op}1e-5'"
    raise SelectError(f"'{condition.text}': {condition.value} is not a number: {hint}")


def _matcher(table: pd.DataFrame, condition: Condition, source: str):
    """The condition checked against the table's columns: a function of a table giving the mask of the rows that
    pass (a missing value never passes)."""
    kind = _kind(_column(table, condition.column, source))
    compare = OPERATORS[condition.op]
    if kind == "empty":  # no design to compare
        return lambda t: pd.Series(False, index=t.index)
    if kind == "number":
        value = _number(condition)
        return lambda t: compare(pd.to_numeric(t[condition.column], errors="coerce"), value).fillna(False) \
            & t[condition.column].notna()
    if condition.op not in ("==", "!="):
        raise SelectError(f"'{condition.text}': {condition.column} is a {'true/false' if kind == 'bool' else 'text'} "
                          f"column: compare it with == or != (e.g. '{condition.column}=="
                          f"{'true' if kind == 'bool' else _example(table[condition.column])}')")
    if kind == "bool":
        word = condition.value.lower()
        if word not in _TRUE + _FALSE:
            raise SelectError(f"'{condition.text}': {condition.column} is true or false, not {condition.value} "
                              f"(e.g. '{condition.column}==true')")
        wanted = word in _TRUE
        return lambda t: compare(_truth(t[condition.column]), wanted) & t[condition.column].notna()
    return lambda t: compare(t[condition.column].astype(str), condition.value) & t[condition.column].notna()


def _example(series: pd.Series) -> str:
    values = series.dropna()
    return str(values.iloc[0]) if len(values) else "value"


def _range_text(series: pd.Series, column: str) -> str:
    """What the designs a condition removed hold in its column, to show how far to relax it."""
    values = series.dropna()
    if values.empty:
        return f"none of them has a value of {column}"
    if _kind(values) == "number":
        lo, hi = float(values.min()), float(values.max())
        return f"their {column}: {quantity_text(lo, column)}" + (f" to {quantity_text(hi, column)}" if hi > lo
                                                                   else "")
    shown = sorted({str(v) for v in values})
    return f"their {column}: {', '.join(shown[:6])}{', ...' if len(shown) > 6 else ''}"


# ---------------------------------------------------------------------------------------------------- the knee
def knee_distance(points: np.ndarray) -> np.ndarray:
    """Distance of each point of a front to its ideal point, on log-scaled, min-max normalised objectives: the
    least is the front's **knee** (the compromise solution of Yu 1973 and Zeleny 1973).

    Each objective (energy, latency, area: they span decades, so a ratio counts the same anywhere on the front) is
    taken as log10 and mapped to [0, 1] between its least and its largest value on the front; the ideal point is
    then (0, 0, 0) and the knee the point nearest to it (Euclidean). An objective with one value on the front maps
    to 0 and plays no part. The rule is invariant to the units and to a power of any objective, always defined, and
    picks the bend of a front where small gains in one objective start to cost much of another. (Das 1999's knee,
    the point farthest from the hyperplane through the extremes, is undefined when one design is the extreme of two
    objectives, as on small chip fronts; Branke et al. 2004 discuss both views.)

    References:
        P. L. Yu, "A class of solutions for group decision problems", Management Science 19(8), 936–946, 1973.
        M. Zeleny, "Compromise programming", in Multiple Criteria Decision Making, Univ. of South Carolina Press,
        262–301, 1973.
        I. Das, "On characterizing the 'knee' of the Pareto curve based on normal-boundary intersection",
        Structural Optimization 18, 107–115, 1999.
        J. Branke, K. Deb, H. Dierolf, M. Osswald, "Finding knees in multi-objective optimization", PPSN VIII,
        LNCS 3242, 722–731, 2004.

    Args:
        points: (n, k) positive objective values (minimised), e.g. energy [J], latency [s], area [mm²].

    Returns:
        (n,) distances, from 0 (the ideal point itself) to sqrt(k).
    """
    z = np.log10(np.asarray(points, dtype=float))
    if z.size == 0:
        return np.zeros(len(z))
    lo, hi = z.min(axis=0), z.max(axis=0)
    z = (z - lo) / np.where(hi > lo, hi - lo, 1.0)
    return np.sqrt((z ** 2).sum(axis=1))


def _front(points: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows (minimisation); equal points are all kept (the same design in two runs)."""
    import moocore

    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(moocore.is_nondominated(points, keep_weakly=True), dtype=bool)


# ---------------------------------------------------------------------------------------------------- reading
def _read(path: Path) -> tuple[pd.DataFrame | None, str]:
    """A run's table, or None and why it cannot be used."""
    if not path.is_file():
        return None, f"no {path.name}"
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as err:
        return None, f"{path.name} is damaged ({' '.join(str(err).split())[:120]})"
    lacking = [c for c in NEEDED if c not in table.columns]
    if lacking:
        return None, f"{path.name} is damaged (it lacks {', '.join(lacking)})"
    return table, ""


#: What only a run directory holds (a sweep directory holds the report's figures, convergence.png among them).
RUN_MARKERS = ("best.json", "interrupted.json", "failed.json", "archive.csv", "pareto.csv", ".archive.csv.partial",
               f"{RECORD}/config.yaml")


def _is_run(directory: Path) -> bool:
    return any((directory / name).exists() for name in RUN_MARKERS)


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def load(source: str | Path, table: str = "pareto") -> tuple[pd.DataFrame, str, list[str]]:
    """The designs of a run directory's ``<table>.csv``, or of every complete run of a sweep directory pooled (a
    ``run`` column first: the run's directory relative to the sweep's). Returns the table, what was read (for
    messages) and notes (runs skipped, an incomplete run)."""
    if table not in TABLES:
        raise SelectError(f"unknown table '{table}': choose pareto (the front, default) or archive (every design "
                          f"evaluated)")
    path = Path(source)
    name = f"{table}.csv"
    if not path.exists():
        raise SelectError(f"{path} does not exist: give a run directory (holding {name}) or a sweep directory")
    if not path.is_dir():
        raise SelectError(f"{path} is not a directory: give the run directory that holds it or a sweep directory")
    if _is_run(path):
        designs, why = _read(path / name)
        if designs is None:
            state = "" if (path / "best.json").is_file() else f" (the run has no best.json: {failure(path)})"
            raise SelectError(f"cannot select from {path}: {why}{state}: give a complete run's directory, or run "
                              f"it again")
        notes = [] if (path / "best.json").is_file() else [
            f"note: {path} is not a complete run ({failure(path)}): its designs so far"]
        return designs, f"{name} of {path}", notes
    try:
        runs = find_runs(path)
    except ReportError:
        raise SelectError(f"no run under {path}: give a run directory (holding {name}) or a sweep directory "
                          f"(imc-moo -m ...)") from None
    tables, skipped = [], []
    for run in runs:
        rel = str(run.relative_to(path))
        best, damage = read_best(run / "best.json")
        if best is None:
            skipped.append(f"{rel} ({damage or failure(run)})")
            continue
        designs, why = _read(run / name)
        if designs is None:
            skipped.append(f"{rel} ({why})")
            continue
        designs.insert(0, RUN, rel)
        tables.append(designs)
    if not tables:
        raise SelectError(_shorten(f"no complete run under {path} to select from: {len(runs)} run director"
                                   f"{'y' if len(runs) == 1 else 'ies'}, none with best.json and a readable {name} "
                                   f"({skipped[0]}{', ...' if len(skipped) > 1 else ''}): let the sweep finish, or "
                                   f"resume it with the same imc-moo -m command", 400))
    kept = [t for t in tables if len(t)] or tables[:1]  # empty fronts add no rows (and would blur the dtypes)
    pooled = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
    notes = [_shorten(f"note: skipped {len(skipped)} of {len(runs)} runs under {path}: {'; '.join(skipped)}")] \
        if skipped else []
    return pooled, f"{name} of {len(tables)} run{'s' if len(tables) > 1 else ''} under {path}", notes


# ---------------------------------------------------------------------------------------------------- selecting
@dataclass
class Selection:
    """A selection and how it was made (what :func:`main` prints)."""

    table: pd.DataFrame  #: the designs chosen, ranked, every column (and ``knee_distance`` with ``knee``)
    source: str  #: what was read
    steps: list[tuple[str, int]]  #: (what, designs left after it): the table, feasible, each condition
    order: str  #: how the designs are ranked
    passed: int  #: designs passing (with ``knee``: on their front)
    notes: list[str] = field(default_factory=list)


def _rank_column(table: pd.DataFrame, name: str, source: str) -> None:
    if _kind(_column(table, name, source, "column to rank by")) not in ("number", "empty"):
        raise SelectError(f"cannot rank by {name}: it is not a column of numbers (rank by edap, energy_j, "
                          f"latency_s, area_mm2, power_w, ...)")


def selection(source: str | Path | pd.DataFrame, conditions: Iterable[str] | str = (), *,
              minimize: str | None = None, maximize: str | None = None, knee: bool = False, top: int | None = None,
              table: str = "pareto") -> Selection:
    """:func:`select`, with the record of how the designs were chosen (:class:`Selection`)."""
    if isinstance(conditions, str):
        conditions = [conditions]
    if sum(bool(x) for x in (minimize, maximize, knee)) > 1:
        raise SelectError("rank by one of minimize, maximize or knee, not several")
    if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
        raise SelectError(f"top must be a positive number of designs (or all of them: None), not {top!r}")
    if isinstance(source, pd.DataFrame):
        designs, where, notes = source.reset_index(drop=True), "the table", []
    else:
        designs, where, notes = load(source, table)
    parsed = [Condition.parse(c) for c in conditions]
    matchers = [_matcher(designs, c, where) for c in parsed]  # every column checked before any is applied
    if knee:
        for name in OBJECTIVES:
            _column(designs, name, where, "objective")
        order = "closest to the knee (log-normalised energy, latency, area) first"
    else:
        rank, ascending = (maximize, False) if maximize else (minimize or DEFAULT_MINIMIZE, True)
        _rank_column(designs, rank, where)
        order = f"{'least' if ascending else 'largest'} {rank} first"

    steps = [(where, len(designs))]
    if not len(designs):
        raise NothingSelected(f"{where} holds no design" + (
            " (the run found no feasible one: its best.json names the constraints the least violating design "
            "exceeds; --from archive holds every design evaluated)" if table == "pareto" else ""))
    left = designs
    if "feasible" in designs.columns and not any(c.column == "feasible" for c in parsed):
        left = designs[_truth(designs["feasible"])]
        steps.append(("feasible", len(left)))
        if not len(left):
            raise NothingSelected(f"none of the {len(designs)} designs in {where} is feasible: add a condition on "
                                  f"feasible to select among them (e.g. 'feasible==false')")
    for condition, matcher in zip(parsed, matchers):
        before = left
        left = left[matcher(left).to_numpy(dtype=bool)]
        steps.append((condition.text, len(left)))
        if not len(left):
            raise NothingSelected(_shorten(_nothing(steps, where, condition, before), 600))
    if knee:
        points = left[list(OBJECTIVES)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        usable = np.isfinite(points).all(axis=1) & (points > 0).all(axis=1)
        if not usable.any():
            raise NothingSelected(f"none of the {len(left)} designs passing has energy_j, latency_s and area_mm2 "
                                  f"(unmappable designs): no front to find a knee on")
        if not usable.all():
            notes.append(f"note: {int((~usable).sum())} designs without energy_j, latency_s or area_mm2 are left "
                         f"out of the knee")
        left, points = left[usable], points[usable]
        on_front = _front(points)
        left = left[on_front].assign(**{KNEE: knee_distance(points[on_front])})
        if on_front.sum() < len(on_front):
            order = f"of the {int(on_front.sum())} non-dominated ones, " + order
        ranked = left.sort_values(KNEE, kind="stable")
    else:
        key = pd.to_numeric(left[rank], errors="coerce")
        ranked = left.iloc[np.argsort(-key.to_numpy() if not ascending else key.to_numpy(), kind="stable")]
        ranked = ranked.iloc[np.argsort(ranked[rank].isna().to_numpy(), kind="stable")]  # no value: last
    chosen = (ranked if top is None else ranked.head(int(top))).reset_index(drop=True)
    return Selection(chosen, where, steps, order, len(ranked), notes)


def select(source: str | Path | pd.DataFrame, conditions: Iterable[str] | str = (), *,
           minimize: str | None = None, maximize: str | None = None, knee: bool = False, top: int | None = None,
           table: str = "pareto") -> pd.DataFrame:
    """The designs that pass ``conditions``, best first: what ``imc-moo-select`` prints and writes.

    Feasible designs only, unless a condition names ``feasible``. A design without a value in a condition's column
    passes no condition on it.

    Args:
        source: a run directory, a sweep directory (the designs of every complete run pooled, a ``run`` column
            first naming each one's directory) or a table of designs (a DataFrame with the columns of
            ``pareto.csv``, e.g. ``WorkloadSetProblem.table(X)``).
        conditions: ``"COLUMN<VALUE"`` with ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``; numbers in the column's SI
            unit (``"latency_s<1e-5"``), ``true``/``false`` for boolean columns, text for text columns
            (``"bound==pulses"``).
        minimize: the column ranked least first (default ``edap``).
        maximize: instead, the column ranked largest first (``tops_per_w``).
        knee: instead, rank the non-dominated designs (energy, latency, area) among those passing by their
            distance to the ideal point (:func:`knee_distance`, added as column ``knee_distance``): the first is
            the knee.
        top: keep the first ``top`` designs (None: all).
        table: read ``pareto`` (``pareto.csv``, default) or ``archive`` (``archive.csv``) of a directory.

    Returns:
        The designs chosen, ranked, with every column of the table.

    Raises:
        SelectError: a bad condition, column or option, or no run to read, with the fix.
        NothingSelected: no design passes (a :class:`SelectError` saying which condition removed the last ones).
    """
    chosen = selection(source, conditions, minimize=minimize, maximize=maximize, knee=knee, top=top, table=table)
    for note in chosen.notes:
        warnings.warn(note.removeprefix("note: "), stacklevel=2)
    return chosen.table


def _nothing(steps: list[tuple[str, int]], where: str, condition: Condition, before: pd.DataFrame) -> str:
    """The one line saying no design passes: the count at each step and what the last removed ones hold."""
    (_, total), rest = steps[0], steps[1:]
    start = f"of the {total} designs in {where}"
    if rest and rest[0][0] == "feasible":
        start = f"of the {total} designs in {where}, {rest[0][1]} feasible"
        rest = rest[1:]
    kept = [f"{text} keeps {n}" for text, n in rest[:-1]]
    fix = "relax it" if _kind(before[condition.column]) == "number" else "check the value"
    return (f"no design passes the conditions: {start}; {'; '.join([*kept, f'{condition.text} keeps none'])} "
            f"({_range_text(before[condition.column], condition.column)}): {fix}")


# ---------------------------------------------------------------------------------------------------- writing
def write(path: Path, table: pd.DataFrame, force: bool = False) -> Path:
    """Write the selection as CSV (:func:`imc_moo.files.write_csv`: whole or not at all); an existing file only
    with ``force``, and never under the name of a run's result file (``pareto.csv``, ``best.json``, ...)."""
    path = Path(path)
    if path.is_dir():
        raise SelectError(f"{path} is a directory: give -o a file name, e.g. {path / DEFAULT_OUTPUT}")
    if path.name in RESULT_FILES:  # a run's own file, or a file a run directory would be taken for
        raise SelectError(f"{path}: {path.name} is the name of a run's result file: give -o another file name, e.g. "
                          f"{path.parent / DEFAULT_OUTPUT}")
    if path.exists() and not force:
        raise SelectError(f"{path} exists (an earlier selection?): add --force to replace it, or -o FILE to write "
                          f"elsewhere")
    if not path.parent.is_dir():
        raise SelectError(f"cannot write {path}: the directory {path.parent} does not exist: create it, or give -o "
                          f"a file in an existing directory")
    try:
        return write_csv(path, table)
    except OSError as err:
        raise SelectError(f"cannot write {path}: {err.strerror or err}: give -o a file in a directory you can "
                          f"write") from None


# ---------------------------------------------------------------------------------------------------- the command
class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block)."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} ({self.prog} --help lists the options)", file=sys.stderr)
        sys.exit(2)


EXAMPLES = """\
examples:
  imc-moo-select runs/2026-01-01/12-00-00_rram_cnn4_phased_ga 'latency_s<1e-5' 'area_mm2<200' --minimize energy_j
  imc-moo-select runs/multirun/compare --knee --top 3 -o knee.csv
  imc-moo-select RUN --from archive 'feasible==false' --minimize cv
  imc-moo-select RUN 'bound==pulses' 'power_w<=5' --maximize tops_per_w --top all

Conditions are COLUMN<VALUE with <, <=, >, >=, ==, != on any column (docs/reference/outputs.md): numbers in the
column's SI unit (1e-5 s = 10 µs), true/false, or text; quote them in the shell. Feasible designs only unless a
condition names feasible. Exit status: 0 selected, 1 no design passes, 2 bad input (nothing written)."""


def _top(text: str | None, knee: bool) -> int | None:
    if text is None:
        return 1 if knee else 10
    if text.lower() == "all":
        return None
    try:
        top = int(text)
    except ValueError:
        top = 0
    if top < 1:
        raise SelectError(f"--top {text}: give a positive number of designs, or --top all")
    return top


def _shown(chosen: pd.DataFrame, conditions: Sequence[Condition], rank: str | None) -> pd.DataFrame:
    """The columns printed: the run's identity where it varies, the design, its objectives, power, the columns
    conditions and ranking name, the knee distance."""
    ids = [RUN] if RUN in chosen.columns else []
    ids += [c for c in ("problem", "label", "seed") if RUN in chosen.columns and c in chosen.columns
            and chosen[c].nunique(dropna=False) > 1]
    names = [*ids, *(c for c in SHOWN if c in chosen.columns)]
    for extra in [*(c.column for c in conditions), rank, KNEE]:
        if extra and extra in chosen.columns and extra not in names:
            names.append(extra)
    return chosen[names]


def _summary(picked: Selection, top: int | None, output: Path) -> str:
    (where, total), steps = picked.steps[0], picked.steps[1:]
    first = f"{where}: {total} design{'s' if total != 1 else ''}"
    for what, n in steps:
        first += f"; {what}: {n}" if what != "feasible" else f", {n} feasible"
    shown = len(picked.table)
    second = (f"{picked.order}; {shown} of {picked.passed} shown" + ("" if top is None or shown == picked.passed else
                                                                     f" (--top {top})")
              + f"; every column in {output}")
    return f"{first}\n{second}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
                     description="Choose designs from a run's front (or a sweep's, pooled): the feasible designs "
                                 "that pass the conditions, ranked, printed and written as CSV.")
    parser.add_argument("source", type=Path, metavar="RUN_OR_SWEEP_DIR",
                        help="a run directory (holding pareto.csv) or a sweep directory (every complete run pooled)")
    parser.add_argument("conditions", nargs="*", metavar="CONDITION",
                        help="COLUMN<VALUE, <=, >, >=, ==, != (e.g. 'latency_s<1e-5' 'area_mm2<200' 'bound==pulses')")
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--minimize", metavar="COLUMN", help="rank by this column, least first (default edap)")
    order.add_argument("--maximize", metavar="COLUMN", help="rank by this column, largest first (e.g. tops_per_w)")
    order.add_argument("--knee", action="store_true",
                       help="the knee of the (energy, latency, area) front of the designs passing: the design "
                            "nearest the ideal point on log-scaled, min-max normalised objectives (then the next)")
    parser.add_argument("--top", metavar="N", help="show and write the first N designs (default 10, 1 with --knee; "
                                                   "'all')")
    parser.add_argument("--from", dest="table", choices=TABLES, default="pareto",
                        help="the table to select from: pareto.csv (default) or archive.csv (every design evaluated)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help=f"the CSV to write (default: {DEFAULT_OUTPUT} in RUN_OR_SWEEP_DIR)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    args = parser.parse_intermixed_args(argv)
    try:
        top = _top(args.top, args.knee)
        picked = selection(args.source, args.conditions, minimize=args.minimize, maximize=args.maximize,
                           knee=args.knee, top=top, table=args.table)
        output = args.output if args.output is not None else args.source / DEFAULT_OUTPUT
        write(output, picked.table, force=args.force)
    except NothingSelected as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except SelectError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    for note in picked.notes:
        print(f"{PROG}: {note}", file=sys.stderr)
    rank = None if args.knee else (args.maximize or args.minimize or DEFAULT_MINIMIZE)
    conditions = [Condition.parse(c) for c in args.conditions]
    print(_summary(picked, top, output))
    print()
    print(table_text(_shown(picked.table, conditions, rank)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
