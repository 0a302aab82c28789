"""The command ``imc-moo-import MODEL.onnx|TABLE.csv``: convert a user's network and write ``DIR/NAME.yaml``.

Every bad input is one line ``imc-moo-import: error: ... — <the fix>`` on stderr and exit status 2, with nothing
written; the checks that need no conversion (the suffix, the file, the name, an existing output) come first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from imc_moo.paths import PROBLEMS_DIR
from imc_moo.workloads.importing import IMPORT_FORMATS, import_file, import_suffix
from imc_moo.workloads.library import available_networks
from imc_moo.workloads.network import WorkloadError, display_path
from imc_moo.workloads.onnx_layers import ATTENTION_CONVENTIONS
from imc_moo.workloads.onnx_model import parse_input_shapes
from imc_moo.workloads.result import NAME_PATTERN, ImportResult, default_name
from imc_moo.workloads.writer import PROG, network_path, refuse_overwrite, summary, write_network


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (``imc-moo-import: error: ...``), exit 2."""

    def error(self, message: str):  # argparse calls this for usage errors
        raise WorkloadError(f"{message} — see {PROG} --help")


def _parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    p = _Parser(
        prog=PROG,
        description="Convert an ONNX model or a CSV layer table into a network file of the imc-moo library"
                    " (NAME.yaml), with activity factors from the model's weights.",
        epilog="Use the written file as a workload: problem.workloads=[DIR/NAME.yaml,resnet18], or put DIR on"
               " $IMC_MOO_PROBLEMS and use NAME.",
    )
    p.add_argument("model", help="MODEL.onnx or TABLE.csv (columns name, op, C, M, R, S, P, Q, G, stride,"
                                 " optional ain, aw1..aw8, depthwise, einsum)")
    p.add_argument("--name", help="network name and file stem (default: the input's file stem)")
    p.add_argument("-o", "--out-dir", default=".", metavar="DIR", help="output directory (default: .)")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=1x3x224x224",
                   help="fixed shape of a graph input with dynamic dimensions (repeat per input)")
    p.add_argument("--inputs", metavar="CALIB.npz",
                   help="calibration inputs (arrays named by the graph inputs) for ain from activations;"
                        " needs onnxruntime (pip install 'imc-moo[onnx-runtime]')")
    p.add_argument("--attention", choices=ATTENTION_CONVENTIONS, default="full",
                   help="attention MatMuls at their full cost (default) or as the reference simulator counted them")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    return p


def run(argv: Sequence[str] | None = None) -> tuple[ImportResult, Path]:
    """Parse arguments, import and write; raises WorkloadError for every bad input (nothing written then)."""
    args = _parser().parse_args(argv)
    path = Path(args.model).expanduser()
    suffix = import_suffix(path)
    if not path.is_file():
        raise WorkloadError(f"{display_path(path)}: {IMPORT_FORMATS[suffix]} not found — check the path")
    if args.name is not None and not NAME_PATTERN.match(args.name):
        raise WorkloadError(f"--name {args.name!r}: use letters, digits, '_' and '-' (starting with a letter or"
                            " digit) — choose another --name")
    name = args.name or default_name(path)
    if name in available_networks(PROBLEMS_DIR):
        hint = "" if args.name else f" (from the file name {path.name})"
        raise WorkloadError(f"{display_path(path)}: the name {name!r}{hint} is a packaged network — choose another"
                            f" with --name, e.g. --name {name}_own")
    refuse_overwrite(network_path(name, args.out_dir), args.force)  # before the (possibly slow) conversion
    if suffix == ".onnx":
        options = dict(input_shapes=parse_input_shapes(args.input_shape), inputs=args.inputs,
                       attention=args.attention)
    elif args.input_shape or args.inputs:
        raise WorkloadError(f"{display_path(path)}: --input-shape and --inputs apply to ONNX models, not layer"
                            " tables — drop them")
    else:
        options = {}
    result = import_file(path, name=name, **options)
    return result, write_network(result, args.out_dir, force=args.force)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``imc-moo-import``; returns the exit code (0 written, 2 bad input)."""
    try:
        result, target = run(argv)
    except WorkloadError as exc:
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(summary(result, target))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
