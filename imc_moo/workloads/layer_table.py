"""A plain layer table (CSV) as a network, for users without an ONNX model.

One row per layer, a header naming the columns (any order)::

    name,op,C,M,R,S,P,Q,G,stride,ain,aw1,aw2,aw3,aw4,aw5,aw6,aw7,aw8,depthwise,einsum
    conv1,Conv,3,64,7,7,112,112,1,2x2,,,,,,,,,,,
    fc,Linear,512,1000,1,1,1,1,1,1,0.58,0.51,0.50,0.40,0.49,0.30,0.25,0.24,0.48,,

``C, M, R, S, P, Q`` are required (Timeloop notation as in :mod:`imc_moo.workloads`: input / output channels,
filter, output size; G groups, depthwise convs G = channels, C = M = 1 with ``depthwise`` true). Optional
columns, an empty cell meaning the default: ``name`` (the row's index), ``op``, ``G`` (1), ``stride`` (``2``,
``2x2`` or ``2 2``; default 1x1), ``ain`` (:data:`~imc_moo.workloads.DEFAULT_AIN`), ``aw1..aw8`` (all eight or
none: :data:`~imc_moo.workloads.DEFAULT_AW`), ``depthwise`` and ``einsum`` (true/false, 1/0, yes/no). Lines
starting with ``#`` are comments. Every row goes through the same validation as a YAML network file; a problem is
a one-line :class:`~imc_moo.workloads.WorkloadError` naming the file, the row (its line number) and the column.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from imc_moo.files import file_digest
from imc_moo.workloads.network import (
    DEFAULT_AIN,
    N_BITS_PER_CELL,
    REQUIRED_FIELDS,
    Network,
    WorkloadError,
    display_path,
    network_from_layers,
    parse_layer,
)
from imc_moo.workloads.result import ImportResult

AW_COLUMNS = tuple(f"aw{b}" for b in range(1, N_BITS_PER_CELL + 1))
COLUMNS = ("name", "op", "C", "M", "R", "S", "P", "Q", "G", "stride", "ain", *AW_COLUMNS, "depthwise", "einsum")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _number(text: str, where: str, column: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise WorkloadError(f"{where}, column {column!r}: {text!r} is not a number — fix the cell") from None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _stride(text: str, where: str) -> list[int]:
    parts = [p for p in text.replace("x", " ").replace("X", " ").replace(",", " ").strip("[]() ").split() if p]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise WorkloadError(f"{where}, column 'stride': {text!r} is not a stride — write 2, 2x2 or leave it empty")
    return [int(p) for p in parts]


def _row_layer(row: dict[str, str], where: str) -> dict[str, Any]:
    """One CSV row (stripped cells) as a layer mapping for :func:`imc_moo.workloads.network_from_layers`."""
    layer: dict[str, Any] = {}
    for column in ("name", "op"):
        if row.get(column):
            layer[column] = row[column]
    for column in (*REQUIRED_FIELDS, "G"):
        if row.get(column):
            layer[column] = _number(row[column], where, column)
        elif column in REQUIRED_FIELDS:
            raise WorkloadError(f"{where}, column {column!r}: empty — every layer needs"
                                f" {', '.join(REQUIRED_FIELDS)}")
    if row.get("stride"):
        layer["stride"] = _stride(row["stride"], where)
    if row.get("ain"):
        layer["ain"] = _number(row["ain"], where, "ain")
    given = [c for c in AW_COLUMNS if row.get(c)]
    if given:
        if len(given) != len(AW_COLUMNS):
            missing = next(c for c in AW_COLUMNS if not row.get(c))
            raise WorkloadError(f"{where}, column {missing!r}: empty while other aw columns are set — give all of"
                                f" {AW_COLUMNS[0]}..{AW_COLUMNS[-1]} or none (defaults)")
        layer["aw"] = [_number(row[c], where, c) for c in AW_COLUMNS]
    for column in ("depthwise", "einsum"):
        text = row.get(column, "").lower()
        if text in _TRUE:
            layer[column] = True
        elif text and text not in _FALSE:
            raise WorkloadError(f"{where}, column {column!r}: {row[column]!r} is not true/false — write true or"
                                " false (or leave it empty)")
    return layer


def read_layer_table(path: str | os.PathLike, name: str | None = None) -> Network:
    """The validated :class:`~imc_moo.workloads.Network` of a CSV layer table, named ``name`` or the file stem."""
    return load_layer_table(path, name).network


def load_layer_table(path: str | os.PathLike, name: str | None = None) -> ImportResult:
    """A CSV layer table as an :class:`~imc_moo.workloads.result.ImportResult` (for the summary and the writer)."""
    path = Path(path).expanduser()
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise WorkloadError(f"{file}: layer table not found — check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"{file}: cannot read the layer table: {exc} — save it as UTF-8 CSV") from None
    numbered = [(i + 1, line) for i, line in enumerate(text.splitlines())
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise WorkloadError(f"{file}: empty layer table — write a header (name,op,C,M,R,S,P,Q,G,stride) and one"
                            " row per layer")
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in numbered))))
    header_line, header = numbered[0][0], [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise WorkloadError(f"{file}: line {header_line}: unknown column {unknown[0]!r} — use only"
                            f" {', '.join(COLUMNS)}")
    dup = [h for i, h in enumerate(header) if h in header[:i]]
    if dup:
        raise WorkloadError(f"{file}: line {header_line}: column {dup[0]!r} appears twice — keep one")
    missing = [c for c in REQUIRED_FIELDS if c not in header]
    if missing:
        raise WorkloadError(f"{file}: line {header_line}: missing column {missing[0]!r} — the header needs"
                            f" {', '.join(REQUIRED_FIELDS)} (and optionally name, op, G, stride, ain, aw1..aw8)")
    if len(rows) < 2:
        raise WorkloadError(f"{file}: no layer rows after the header — add one row per layer")
    layers = []
    for (line_no, _), cells in zip(numbered[1:], rows[1:]):
        where = f"{file}: row {line_no}"
        if len(cells) != len(header):
            raise WorkloadError(f"{where}: {len(cells)} cells, the header has {len(header)} — give one cell per"
                                " column (empty for a default)")
        layers.append(_row_layer({h: c.strip() for h, c in zip(header, cells)}, where))
    for i, ((line_no, _), layer) in enumerate(zip(numbered[1:], layers)):
        parse_layer(layer, i, f"{file}: row {line_no}")  # the YAML file's validation, messages naming the row
    network = network_from_layers(name or path.stem, layers, file)
    full = [dict(layer, name=layer_name, op=layer.get("op", "layer"), ain=float(network.ain[i]),
                 aw=[float(v) for v in network.aw[i]])
            for i, (layer, layer_name) in enumerate(zip(layers, network.layer_names))]
    given_ain = sum("ain" in layer for layer in layers)
    given_aw = sum("aw" in layer for layer in layers)
    activity = {
        "ain": f"from the table for {given_ain} of {len(layers)} layers; default {DEFAULT_AIN} for the rest",
        "aw": f"from the table for {given_aw} of {len(layers)} layers; imc_moo.workloads.DEFAULT_AW for the rest",
    }
    source = {"file": str(path), "sha256": file_digest(path), "format": "csv layer table"}
    return ImportResult(network, full, {}, {}, source, activity)
