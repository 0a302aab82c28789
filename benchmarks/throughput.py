"""Throughput of the cost model's hot path: design x layer evaluations per second, cold and warm, and peak memory.

    python benchmarks/throughput.py [--quick] [--seed N]

The hot path is what an optimizer calls per generation: ``designs_from_frame`` on a decoded design table, then
``evaluate_network`` for every network of the workload set. For comparison the full ``evaluate()`` DataFrame API is
timed at 10,000 designs.

* cold: the process-wide mapping memo is emptied first (``mapping_tables``, the shape-id cache and the greedy
  allocation memo), so the run pays for filling the lookup tables, as a fresh process would. Workload YAML parsing and
  the NeuroSim/CACTI CSV loading are done once up front and not timed (they are one-off per process).
* warm: the same designs again with the tables filled (best of a few repeats for the small sizes).
* peak MiB: ``tracemalloc`` peak of a separate warm run (traced after the timings, so tracing does not distort
  them). The process max RSS (``resource.getrusage``) is printed after each configuration and at the end.

Prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np

from imc_moo.model import mapping, tables
from imc_moo.model.api import designs_from_frame, evaluate, evaluate_network
from imc_moo.space import make_space
from imc_moo.workloads import load_workloads

#: (memory, workload set, design-space variant)
CONFIGS = (("rram", "cnn4", "rram"), ("sram", "cnn4", "sram"), ("sram", "mixed9", "sram_large"))
SIZES = (1, 100, 10_000, 100_000)
API_SIZE = 10_000
#: Warm runs of small batches are repeated until this much time has been spent (best run reported).
WARM_BUDGET_S = 0.5
MAX_WARM_REPEATS = 20


def clear_caches() -> None:
    """Forget every mapping memo, as in a fresh process."""
    mapping.mapping_tables.cache_clear()
    mapping.greedy_allocate.cache_clear()
    gc.collect()


def hot_path(designs, memory, networks) -> None:
    d = designs_from_frame(designs, memory)
    for net in networks:
        evaluate_network(d, net)


def api_path(designs, memory, networks) -> None:
    evaluate(designs, [n.name for n in networks], memory)


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def warm_time(fn, *args) -> float:
    best, spent, k = float("inf"), 0.0, 0
    while k < MAX_WARM_REPEATS and (k == 0 or spent < WARM_BUDGET_S):
        t = timed(fn, *args)
        best, spent, k = min(best, t), spent + t, k + 1
    return best


def traced_peak_mib(fn, *args) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def max_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux


def run(sizes, seed: int) -> list[dict]:
    rows = []
    for memory, set_name, variant in CONFIGS:
        networks = load_workloads(set_name)
        n_layers = sum(n.n_layers for n in networks)
        tables.neurosim(memory), tables.cacti()  # CSV parsing: once per process, not timed
        space = make_space(memory, variant)
        rng = np.random.default_rng(seed)
        for n in sizes:
            designs = space.decode(space.sample(n, rng))
            variants = [("hot", hot_path)] + ([("evaluate()", api_path)] if n == API_SIZE else [])
            for api, fn in variants:
                clear_caches()
                cold = timed(fn, designs, memory, networks)
                warm = warm_time(fn, designs, memory, networks)
                peak = traced_peak_mib(fn, designs, memory, networks)
                rows.append(dict(memory=memory, set=set_name, api=api, n=n, layers=n_layers, cold=cold, warm=warm,
                                 pairs=n * n_layers, peak=peak))
                print(f"  done {memory:4s} {set_name:6s} {api:10s} n={n:>7,d}: cold {cold:8.3f} s, warm {warm:8.3f} s,"
                      f" peak {peak:7.1f} MiB, max RSS so far {max_rss_mib():7.1f} MiB", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    head = ("| memory | set | API | n_designs | layers | cold s | warm s | cold M pairs/s | warm M pairs/s "
            "| warm/cold speed | peak MiB |")
    lines = [head, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cold_rate = r["pairs"] / r["cold"] / 1e6
        warm_rate = r["pairs"] / r["warm"] / 1e6
        lines.append(
            f"| {r['memory']} | {r['set']} | {r['api']} | {r['n']:,} | {r['layers']} | {r['cold']:.4f} | "
            f"{r['warm']:.4f} | {cold_rate:.3f} | {warm_rate:.3f} | {r['cold'] / r['warm']:.1f}x | {r['peak']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-design runs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [s for s in SIZES if not (args.quick and s >= 100_000)]
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs visible")
    print("Single-threaded: the model is numpy elementwise kernels, gathers and reductions, which numpy runs on one"
          " core (no BLAS calls on the hot path), so the numbers are per core.")
    print(f"Sizes: {sizes}; hot path = designs_from_frame + evaluate_network per network; "
          f"evaluate() (DataFrame API) at {API_SIZE:,} for comparison.\n")
    rows = run(sizes, args.seed)
    print()
    print(markdown(rows))
    print(f"\npairs = n_designs x layers of the set; warm/cold speed = cold s / warm s; peak MiB = tracemalloc peak of a"
          f" warm run. Process max RSS (getrusage): {max_rss_mib():.1f} MiB.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
