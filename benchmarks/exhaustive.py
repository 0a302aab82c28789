"""Exact optimum and Pareto front of the benchmark design spaces by exhaustive enumeration: the optimizers' yardstick.

    python benchmarks/exhaustive.py [--problem NAME ...] [--chunk-size N] [--out DIR]

For RRAM cnn4 (space ``rram``, 12,096,000 designs) and SRAM cnn4 (space ``sram``, all lists, 2,488,320 designs) by
default, or the problems named by ``--problem`` (``rram_cnn4``, ``sram_cnn4``, ``sram_mixed9``: SRAM mixed9, space
``sram_large``, 4,064,256 designs x 9 networks, several minutes), objectives EDAP with ``max`` aggregation,
area <= 800 mm2, prints the least EDAP [mJ*ms*mm2], the best design,
the size of the exact (energy, latency, area) front, wall time and designs/s, and the brute-force rate
(``problem.evaluate_genomes`` on random genomes) for comparison. Writes, per problem, to ``--out``
(default ``docs/benchmarks``):

* ``exhaustive_<memory>_<set>.csv``: the front, one row per point (:meth:`ExhaustiveResult.front_frame`: design
  columns, aggregated and per-workload energy/latency/EDAP, ``optimum`` marking the least-EDAP design);
* ``exhaustive_<memory>_<set>.json``: the problem, the optimum (EDAP, genome, design), front size, ideal and nadir
  points of the front, counts and timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from imc_moo.problem import EDA_NAMES, WorkloadSetProblem
from imc_moo.problem.exhaustive import ExhaustiveResult, exhaustive

#: problem name (as in conf/problem) -> (memory, workload set, design-space variant)
PROBLEMS = {
    "rram_cnn4": ("rram", "cnn4", "rram"),
    "sram_cnn4": ("sram", "cnn4", "sram"),
    "sram_mixed9": ("sram", "mixed9", "sram_large"),
}
#: what runs without ``--problem``
DEFAULT_PROBLEMS = ("rram_cnn4", "sram_cnn4")
#: (memory, workload set, design-space variant) of the default problems
CONFIGS = tuple(PROBLEMS[name] for name in DEFAULT_PROBLEMS)
AGGREGATION = "max"
#: Random genomes timed through plain ``evaluate_genomes`` for the brute-force rate.
BRUTE_SAMPLE = 20_000


def brute_force_rate(problem: WorkloadSetProblem, seed: int = 0) -> float:
    """Designs/s of ``problem.evaluate_genomes`` on one batch of random genomes, without the exhaustive shortcuts
    (timed on a second pass, once the mapping tables hold the batch's layer states)."""
    genomes = problem.space.sample(BRUTE_SAMPLE, np.random.default_rng(seed))
    problem.evaluate_genomes(genomes)
    t0 = time.perf_counter()
    problem.evaluate_genomes(genomes)
    return BRUTE_SAMPLE / (time.perf_counter() - t0)


def summary(problem: WorkloadSetProblem, workload_set: str, result: ExhaustiveResult, csv_name: str,
            brute_rate: float) -> dict:
    design = None if result.best_design is None else {k: v.item() if hasattr(v, "item") else v
                                                      for k, v in result.best_design.items()}
    return {
        "memory": problem.memory,
        "workload_set": workload_set,
        "workloads": list(problem.workloads),
        "aggregation": problem.aggregation,
        "area_limit_mm2": problem.area_limit_mm2,
        "space": problem.space.name,
        "gene_names": list(problem.space.names),
        "n_designs": result.n_designs,
        "n_feasible": result.n_feasible,
        "n_model_evals": result.n_model_evals,
        "best_edap": result.best_edap,
        "best_genome": None if result.best_genome is None else result.best_genome.tolist(),
        "best_design": design,
        "front_objectives": list(EDA_NAMES),
        "front_size": len(result.front_F),
        "front_ideal": result.front_F.min(axis=0).tolist() if len(result.front_F) else None,
        "front_nadir": result.front_F.max(axis=0).tolist() if len(result.front_F) else None,
        "front_csv": csv_name,
        "wall_time_s": result.wall_time_s,
        "designs_per_s": result.designs_per_s,
        "brute_force_designs_per_s": brute_rate,
    }


def _progress_printer(every_s: float = 30.0):
    """A progress callback printing one line at most every ``every_s`` seconds (long enumerations only)."""
    last = [0.0]

    def report(p) -> None:
        if p.elapsed_s - last[0] >= every_s and p.chunk + 1 < p.n_chunks:
            last[0] = p.elapsed_s
            print(f"  chunk {p.chunk + 1}/{p.n_chunks} | {p.designs_done:,}/{p.n_designs:,} designs | "
                  f"best {p.best_edap:.6g} | front {p.front_size} | {p.elapsed_s:.0f} s", flush=True)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=50_000, help="designs per chunk (default 50,000)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "benchmarks")
    parser.add_argument("--problem", nargs="+", choices=sorted(PROBLEMS), default=list(DEFAULT_PROBLEMS),
                        metavar="NAME", help=f"problems to enumerate: {', '.join(PROBLEMS)} "
                                             f"(default: {' '.join(DEFAULT_PROBLEMS)})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.problem:
        memory, workload_set, variant = PROBLEMS[name]
        problem = WorkloadSetProblem(workload_set, memory, objectives="edap", aggregation=AGGREGATION, space=variant)
        print(f"== {problem.describe()}", flush=True)
        result = exhaustive(problem, chunk_size=args.chunk_size, progress=_progress_printer())
        rate = brute_force_rate(problem)
        print(f"best EDAP {result.best_edap:.6g} mJ*ms*mm2, genome {result.best_genome.tolist()}")
        print("best design: " + ", ".join(f"{k}={v:g}" for k, v in result.best_design.items()))
        print(f"front: {len(result.front_F)} points | feasible {result.n_feasible:,} of {result.n_designs:,} | "
              f"cost-model runs {result.n_model_evals:,}")
        print(f"wall {result.wall_time_s:.2f} s | {result.designs_per_s:,.0f} designs/s | brute force "
              f"{rate:,.0f} designs/s (~{result.n_designs / rate / 60:.1f} min for the space): "
              f"x{result.designs_per_s / rate:.0f}")
        stem = f"exhaustive_{memory}_{workload_set}"
        result.front_frame(problem).to_csv(args.out / f"{stem}.csv", index=False)
        with open(args.out / f"{stem}.json", "w") as fh:
            json.dump(summary(problem, workload_set, result, f"{stem}.csv", rate), fh, indent=2)
        print(f"wrote {args.out / stem}.csv/.json\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
