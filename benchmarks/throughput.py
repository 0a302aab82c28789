"""Throughput of the cost model's hot path: designs per second (and design x layer pairs per second), cold, from the
persistent tables and warm, with peak memory.

    python benchmarks/throughput.py [--quick] [--seed N]

The hot path is what an optimizer calls per generation: ``WorkloadSetProblem.evaluate_genomes`` (genomes -> design
arrays -> every network's tabulated sums -> objectives and constraints), under both performance models: the
reference (the simulator's cycles) and the bounded model (:mod:`imc_moo.model.performance`: a second table per
network, keyed by mapping, spare crossbars, GLB depth and clock). For comparison the ``evaluate()`` DataFrame API
is timed at 10,000 designs.

* cold: every memo emptied (the greedy mapping memo, the mapping tables and the tabulated sums, with the persistent
  cache switched off), as in the first process that ever meets these networks: it pays for the per-layer path of
  every new mapping combination. Workload YAML parsing and the NeuroSim/CACTI CSV loading are done once up front
  and not timed (they are one-off per process).
* cached: the in-memory memos emptied but the tabulated sums read from the persistent cache that the cold run
  wrote, as in any later process (``~/.cache/imc_moo``; here a temporary directory); both models' tables.
* warm: the same designs again with everything filled (best of a few repeats for the small sizes).
* pairs/s: designs x layers of the set per second, the per-layer path's unit (the fast path's cost does not grow
  with the layer count, so these are layer-equivalent pairs).
* peak MiB: ``tracemalloc`` peak of a separate warm run. The process max RSS (``resource.getrusage``) is printed
  after each configuration and at the end.

Prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from imc_moo import paths
from imc_moo.model import mapping, performance, tabulated
from imc_moo.model.api import evaluate
from imc_moo.problem import PartitionedProblem, WorkloadSetProblem

#: (memory, workload set, design-space variant)
CONFIGS = (("rram", "cnn4", "rram"), ("sram", "cnn4", "sram"), ("sram", "mixed9", "sram_large"))
#: Partitioned chips (imc_moo.problem.tenancy), bounded model only: (memories, set, space, partitions).
PARTITIONED = ((("rram", "sram"), "mixed9", "tenancy", 3), (("sram",), "mixed9", "tenancy", 3))
SIZES = (1, 100, 10_000, 100_000)
#: The performance models timed (imc_moo.model.performance).
MODELS = ("reference", "bounded")
API_SIZE = 10_000
#: Warm runs of small batches are repeated until this much time has been spent (best run reported).
WARM_BUDGET_S = 0.5
MAX_WARM_REPEATS = 20


def clear_caches() -> None:
    """Forget every in-memory memo, as in a fresh process."""
    mapping.mapping_tables.cache_clear()
    mapping.greedy_allocate.cache_clear()
    tabulated.network_table.cache_clear()
    tabulated._TABLES.clear()
    performance.bounded_table.cache_clear()
    gc.collect()


def hot_path(genomes, problem) -> None:
    problem.evaluate_genomes(genomes)


def api_path(genomes, problem) -> None:
    evaluate(problem.space.decode(genomes), problem.networks, problem.memory, performance=problem.performance)


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


def run(sizes, seed: int, cache: Path) -> list[dict]:
    rows = []
    chips = [(memory, set_name, model, WorkloadSetProblem(set_name, memory, "edap", space=variant,
                                                          performance=model))
             for (memory, set_name, variant), model in itertools.product(CONFIGS, MODELS)]
    chips += [("+".join(memories) + f" K={k}", set_name, "bounded",
               PartitionedProblem(set_name, memories[0], memories=memories, partitions=k, space=variant,
                                  objectives="edap"))
              for memories, set_name, variant, k in PARTITIONED]
    for memory, set_name, model, problem in chips:
        n_layers = sum(n.n_layers for n in problem.networks)
        rng = np.random.default_rng(seed)
        for n in sizes:
            genomes = problem.space.sample(n, rng)
            api_too = n == API_SIZE and not isinstance(problem, PartitionedProblem)
            variants = [("problem", hot_path)] + ([("evaluate()", api_path)] if api_too else [])
            for api, fn in variants:
                store = cache / f"{memory}-{set_name}-{model}-{n}-{api}".replace(" ", "_")
                clear_caches()
                os.environ[paths.CACHE_ENV] = "off"
                cold = timed(fn, genomes, problem)
                os.environ[paths.CACHE_ENV] = str(store)
                clear_caches()
                fn(genomes, problem)  # fills the tables again, now with the cache on
                tabulated.save_tables()
                performance.save_tables()
                clear_caches()
                cached = timed(fn, genomes, problem)  # a later process: tables read from the cache
                warm = warm_time(fn, genomes, problem)
                peak = traced_peak_mib(fn, genomes, problem)
                rows.append(dict(memory=memory, set=set_name, model=model, api=api, n=n, layers=n_layers, cold=cold,
                                 cached=cached, warm=warm, pairs=n * n_layers, peak=peak))
                print(f"  done {memory:9s} {set_name:6s} {model:9s} {api:10s} n={n:>7,d}: cold {cold:8.3f} s, cached "
                      f"{cached:8.4f} s, warm {warm:8.4f} s, peak {peak:7.1f} MiB, max RSS so far "
                      f"{max_rss_mib():7.1f} MiB", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    head = ("| memory | set | model | API | n_designs | layers | cold s | cached s | warm s | warm designs/s "
            "| warm M pairs/s | cached/warm | peak MiB |")
    lines = [head, "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['memory']} | {r['set']} | {r['model']} | {r['api']} | {r['n']:,} | {r['layers']} | "
            f"{r['cold']:.3f} | "
            f"{r['cached']:.4f} | {r['warm']:.4f} | {r['n'] / r['warm']:,.0f} | {r['pairs'] / r['warm'] / 1e6:.1f} | "
            f"{r['cached'] / r['warm']:.1f}x | {r['peak']:.1f} |")
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
    print(f"Sizes: {sizes}; hot path = WorkloadSetProblem.evaluate_genomes; "
          f"evaluate() (DataFrame API) at {API_SIZE:,} for comparison.\n")
    with tempfile.TemporaryDirectory(prefix="imc_moo_tables_") as cache:
        rows = run(sizes, args.seed, Path(cache))
    print()
    print(markdown(rows))
    print(f"\npairs = n_designs x layers of the set; cached/warm = cached s / warm s; peak MiB = tracemalloc peak of a"
          f" warm run. Process max RSS (getrusage): {max_rss_mib():.1f} MiB.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
