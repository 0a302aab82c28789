"""Silicon sanity table: published RRAM and SRAM compute-in-memory macros beside the nearest design of imc-moo's
template, under the reference and the bounded performance model.

    python benchmarks/silicon.py [--out docs/benchmarks]

For each chip (node, array size, cell bits, measured TOPS/W and TOPS/mm² as published; source cited), the
template's nearest design: the same memory, the nearest node of the packaged tables (7-45 nm), the chip's array
size and cell bits, its number of arrays (router groups x tiles x macros), and the smallest global buffer. The
workload is one fully-connected layer that fills every array (inputs = rows, outputs = columns / weight slices)
for 1,024 input vectors per array, 8-bit inputs and weights as the template computes. Reported per design:
TOPS/W (2 x MACs / energy: the same under both models, which differ in time only) and TOPS/mm² of the arrays
with their periphery and tile buffers (the global buffer left out, as a macro's published area leaves it out),
under the reference model (one clock per crossbar read), the bounded model (each read's 255-pulse input train,
the ADCs, buffers, routers and the power limit) and, as a what-if, the bounded model with bit-serial inputs (8
pulses per read: ``problem.bounds.input_pulses=8``). Published figures are at the precision each paper states
(often below 8 bits) and are not normalised here; the table says which. Writes ``<out>/silicon.md``. Asserts
nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from imc_moo.hardware import GLB_WORDS_PER_MIB, TECHNOLOGIES_NM
from imc_moo.model.api import area_components_mm2, designs_from_frame, evaluate
from imc_moo.workloads import network_from_layers

ROOT = Path(__file__).resolve().parents[1]

#: Published chips (figures as reported by their papers' abstracts; precision as stated there).
CHIPS = [
    dict(chip="NeuRRAM", memory="rram", node_nm=130, rows=256, cols=256, bits_per_cell=4, arrays=48,
         tops_per_w="6.4 (8b in, 10b out) – 43.1 (1b in, 3b out)", tops_per_mm2="–",
         source="Wan et al., Nature 608, 504–512 (2022)"),
    dict(chip="4 Mb ReRAM CIM macro", memory="rram", node_nm=22, rows=512, cols=512, bits_per_cell=2, arrays=16,
         tops_per_w="11.91 – 195.7 (by precision)", tops_per_mm2="–", source="ISSCC 2021 (22 nm, 4 Mb)"),
    dict(chip="28 nm RRAM CIM", memory="rram", node_nm=28, rows=256, cols=256, bits_per_cell=2, arrays=16,
         tops_per_w="89.7", tops_per_mm2="17.0", source="A-SSCC 2025"),
    dict(chip="Sinangil et al.", memory="sram", node_nm=7, rows=64, cols=64, bits_per_cell=1, arrays=2,
         tops_per_w="351 (262–611 by data; 4b)", tops_per_mm2="–", source="JSSC 56(1), 2021"),
    dict(chip="Wang et al.", memory="sram", node_nm=22, rows=256, cols=256, bits_per_cell=1, arrays=8,
         tops_per_w="15.5 (1.1 V) – 32.2 (0.7 V)", tops_per_mm2="2.4 – 4.0", source="VLSI 2022"),
    dict(chip="digital CIM macro", memory="sram", node_nm=22, rows=256, cols=256, bits_per_cell=1, arrays=8,
         tops_per_w="89", tops_per_mm2="16.3", source="KU Leuven carbonspot (22 nm)"),
]
VECTORS_PER_ARRAY = 1024
#: A what-if: inputs applied bit-serially (8 pulses per read instead of the template's 255-slot pulse train), as
#: most published macros do; the energy model still prices the template's pulse train.
BIT_SERIAL = {"input_pulses": 8}
#: (router groups, tiles per group, macros per tile) giving the number of arrays (macro-level capacities).
LAYOUT = {2: (1, 1, 2), 8: (1, 1, 8), 16: (1, 2, 8), 48: (1, 6, 8)}  # the tables start at 2 macros per tile


def nearest_node(node_nm: int) -> int:
    return min(TECHNOLOGIES_NM, key=lambda n: abs(n - node_nm))


def sanity_row(chip: dict) -> dict:
    rg, tiles, macros = LAYOUT[chip["arrays"]]
    node = nearest_node(chip["node_nm"])
    design = pd.DataFrame([dict(voltage=0.7 if chip["memory"] == "rram" else 0.8, bits_per_cell=chip["bits_per_cell"],
                                base_latency_s=1e-9, xbar_rows=chip["rows"], xbar_cols=chip["cols"],
                                router_group=rg, tiles_per_chip=tiles, macros_per_tile=macros,
                                glb_depth=GLB_WORDS_PER_MIB // 2 if chip["memory"] == "rram" else GLB_WORDS_PER_MIB,
                                technology_nm=node)])
    slices = -(-8 // chip["bits_per_cell"])
    layer = dict(name="fc", C=chip["rows"], M=chip["cols"] // slices, R=1, S=1,
                 P=VECTORS_PER_ARRAY * chip["arrays"], Q=1)
    net = network_from_layers(f"fill_{chip['rows']}x{chip['cols']}", [layer], "benchmarks/silicon.py")
    d = designs_from_frame(design, chip["memory"])
    area = area_components_mm2(d)
    arrays_mm2 = float(sum(v[0] for k, v in area.items() if k != "glb"))
    out = {}
    for model, bounds in (("reference", None), ("bounded", None), ("bit_serial", BIT_SERIAL)):
        r = evaluate(design, net, chip["memory"], performance="reference" if model == "reference" else "bounded",
                     bounds=bounds).iloc[0]
        ops = 2.0 * net.total_macs
        out[model] = dict(tops_per_w=ops / r.energy_j * 1e-12, tops_per_mm2=ops / r.latency_s * 1e-12 / arrays_mm2,
                          bound=r.bound or "–", valid=bool(r.valid))
    return dict(chip=chip["chip"], memory=chip["memory"].upper(), published_node=f"{chip['node_nm']} nm",
                template=(f"{node} nm, {chip['arrays']} × {chip['rows']}×{chip['cols']}, "
                          f"{chip['bits_per_cell']} b/cell"),
                arrays_mm2=arrays_mm2, published_tops_per_w=chip["tops_per_w"],
                published_tops_per_mm2=chip["tops_per_mm2"], tops_per_w=out["bounded"]["tops_per_w"],
                ref_tops_per_mm2=out["reference"]["tops_per_mm2"], bounded_tops_per_mm2=out["bounded"]["tops_per_mm2"],
                bounded_bound=out["bounded"]["bound"], serial_tops_per_mm2=out["bit_serial"]["tops_per_mm2"],
                serial_bound=out["bit_serial"]["bound"], source=chip["source"])


def markdown(rows: list[dict]) -> str:
    head = ("| chip | published | template design | arrays mm² | TOPS/W published | TOPS/W ours (both models) "
            "| TOPS/mm² published | TOPS/mm² reference | TOPS/mm² bounded (bound) | TOPS/mm² bounded, bit-serial "
            "inputs (bound) | source |")
    lines = [head, "|---|---|---|---:|---|---:|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['chip']} ({r['memory']}) | {r['published_node']} | {r['template']} | "
                     f"{r['arrays_mm2']:.3g} | {r['published_tops_per_w']} | {r['tops_per_w']:.3g} | "
                     f"{r['published_tops_per_mm2']} | {r['ref_tops_per_mm2']:.3g} | "
                     f"{r['bounded_tops_per_mm2']:.3g} ({r['bounded_bound']}) | "
                     f"{r['serial_tops_per_mm2']:.3g} ({r['serial_bound']}) | {r['source']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    args = parser.parse_args(argv)
    rows = [sanity_row(c) for c in CHIPS]
    text = markdown(rows)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "silicon.md").write_text("Silicon sanity table (`python benchmarks/silicon.py`; the module docstring "
                                    "says how each design and workload is chosen).\n\n" + text + "\n")
    print(f"\nwrote {out / 'silicon.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
