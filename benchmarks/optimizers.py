"""Optimizers against the exhaustive yardstick: best EDAP, hits of the exact optimum and hypervolume at equal budget.

    python benchmarks/optimizers.py [--budget 3300] [--seeds 5] [--small-budget 1000] [--quick]
                                    [--problems NAME ...] [--algorithms NAME ...] [--out DIR]

Problems: objective ``edap``, aggregation ``max``, area <= 800 mm2, 32 nm (pinned: :data:`PINNED`, as config
overrides), memory, workload set and hypervolume bounds from ``conf/problem/<name>.yaml``: ``rram_cnn4`` (space
``rram``), ``sram_cnn4`` (space ``sram``), ``sram_mixed9`` (space ``sram_large``).
Yardstick: the exact optimum and Pareto front of each problem from ``benchmarks/results/exhaustive_<memory>_<set>``
(``.json`` + ``.csv``, written by ``benchmarks/exhaustive.py``), reused when they describe the same problem and the
stored optimum re-evaluates to the same EDAP, else recomputed with :func:`imc_moo.algorithms.exhaustive.exhaustive`
and written there in the same format (SRAM mixed9: ~15 min).

Algorithms: ``phased_ga``, ``nsga2``, ``nsga3``, ``ga``, ``random`` with their packaged configs, plus the
baselines ``specialized``, ``largest_workload``, ``sequential`` (``conf/algorithm/*.yaml``); names without a
config are listed as not run. All go through :func:`imc_moo.algorithms.run_algorithm`. Seeds 0..seeds-1, budget
in distinct designs.

Fairness (TOOLING_NOTES.md section d): every run gets the same budget of distinct designs, a hard cap of the run's
ledger (the last batch is clipped), so every run's whole archive counts; the distinct-evaluation column says how
many it used (an algorithm may stop below the budget by itself). ``specialized`` shares the budget evenly over its
single-workload searches (see ``imc_moo.algorithms.baselines``). One hypervolume normalisation per problem, fixed
in advance: ``hv.ideal`` and ``hv.reference`` of the problem's config (log10-scaled objectives). Each problem's memo
tables are warmed with random designs before the first timed run, and seeds are the outer loop, so no algorithm
pays the cold start alone.

Per run (``optimizers.csv``, one row each): best feasible EDAP [mJ*ms*mm2], its gap to the exhaustive optimum [%],
whether the optimum was reached (relative tolerance 1e-9), distinct designs evaluated up to and including the first
optimal one, HV of the feasible archive / HV of the exact front, the same best EDAP and gap with the archive
truncated at ``--small-budget`` designs (an anytime view, no extra runs), distinct evaluations and wall time.
Per problem x algorithm (tables printed and written to ``optimizers.md``): medians over seeds, IQR of the best
EDAP, seeds reaching the optimum, and a two-sided Mann-Whitney U test of phased_ga against each other algorithm on
the best EDAP and on the HV ratio. The script reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import os
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from scipy.stats import mannwhitneyu

from imc_moo.algorithms import RunResult, available_algorithms, is_runner, resolve_algorithm, run_algorithm
from imc_moo.algorithms.exhaustive import exhaustive
from imc_moo.config import build_problem, compose_config
from imc_moo.indicators import OBJECTIVES, hypervolume
from imc_moo.problem import WorkloadSetProblem

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"

#: problem config name -> the design-space variant of the benchmark problem
PROBLEMS = {"rram_cnn4": "rram", "sram_cnn4": "sram", "sram_mixed9": "sram_large"}
#: the benchmark's problem definition, pinned whatever the configs' defaults say (their memory, workload set,
#: weights-on-chip rule and hv bounds are used)
PINNED = {"problem.objectives": "edap", "problem.aggregation": "max", "problem.area_limit_mm2": 800.0,
          "space.technology_nm": [32]}
QUICK_PROBLEMS = ("rram_cnn4", "sram_cnn4")
METHOD = "phased_ga"
CORE_ALGORITHMS = ("phased_ga", "nsga2", "nsga3", "ga", "random")
BASELINES = ("specialized", "largest_workload", "sequential")
#: an archive EDAP within this relative distance of the exhaustive optimum counts as reaching it
HIT_RTOL = 1e-9
#: random designs evaluated per problem before the first timed run (fills the mapping memo tables)
WARMUP_DESIGNS = 20_000


@dataclass
class Yardstick:
    """The exact optimum and front of one problem."""

    best_edap: float
    front_F: np.ndarray  # (m, 3) energy [J], latency [s], area [mm2]
    hv: float
    n_designs: int
    source: str


# -- problems and yardsticks --------------------------------------------------------------------------------------
def config_differences(name: str) -> dict:
    """Keys of :data:`PINNED` that ``conf/problem/<name>.yaml`` sets otherwise -> the config's value."""
    cfg = compose_config([f"problem={name}"])
    found = {k: OmegaConf.to_container(v) if OmegaConf.is_config(v) else v
             for k, v in ((k, OmegaConf.select(cfg, k)) for k in PINNED)}
    return {k: v for k, v in found.items() if v != PINNED[k]}


def load_problem(name: str, verbose: bool = False) -> tuple[WorkloadSetProblem, str, dict]:
    """The benchmark problem ``name``: memory, workload set and ``hv`` bounds of ``conf/problem/<name>.yaml``,
    objectives/aggregation/area/node :data:`PINNED`, space :data:`PROBLEMS` ``[name]``. Returns the problem, its
    workload-set name and its hv bounds; ``verbose`` prints where the config's own defaults differ."""
    differs = config_differences(name)
    if verbose and differs:
        print(f"  note: conf/problem/{name}.yaml sets {differs}; the benchmark pins {PINNED}")
    overrides = [f"problem={name}", f"space={PROBLEMS[name]}"]
    overrides += [f"{k}={json.dumps(v) if isinstance(v, list) else v}" for k, v in PINNED.items()]
    cfg = compose_config(overrides)
    problem = build_problem(cfg.problem)
    hv = OmegaConf.to_container(cfg.problem.hv, resolve=True)
    return problem, str(cfg.problem.workloads), hv


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _exhaustive_script():
    """benchmarks/exhaustive.py as a module (its ``summary`` and ``brute_force_rate`` write the cache format)."""
    path = Path(__file__).resolve().parent / "exhaustive.py"
    spec = importlib.util.spec_from_file_location("_bench_exhaustive", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cached_yardstick(problem: WorkloadSetProblem, workload_set: str, stem: Path, hv: dict) -> Yardstick | None:
    """The cached exhaustive result at ``stem``.json/.csv if it describes ``problem`` and its optimum re-evaluates to
    the stored EDAP (same cost model), else None (the reason is printed)."""
    js_path, csv_path = stem.with_suffix(".json"), stem.with_suffix(".csv")
    if not (js_path.exists() and csv_path.exists()):
        print(f"  no cached yardstick at {stem}.json/.csv")
        return None
    js = json.loads(js_path.read_text())
    expected = {"memory": problem.memory, "workload_set": workload_set, "workloads": list(problem.workloads),
                "aggregation": problem.aggregation, "area_limit_mm2": problem.area_limit_mm2,
                "space": problem.space.name, "gene_names": list(problem.space.names), "n_designs": problem.space.size}
    wrong = [k for k, v in expected.items() if js.get(k) != v]
    if wrong:
        print(f"  cached yardstick {js_path.name} does not match the problem ({', '.join(wrong)}): recomputing")
        return None
    if js.get("best_genome") is None:
        print(f"  cached yardstick {js_path.name} has no feasible design: recomputing")
        return None
    ev = problem.evaluate_genomes(np.asarray(js["best_genome"], dtype=np.int64)[None, :])
    if not bool(ev.feasible[0]) or not np.isclose(ev.edap[0], js["best_edap"], rtol=1e-12, atol=0):
        print(f"  cached optimum of {js_path.name} re-evaluates to {ev.edap[0]!r} (stored {js['best_edap']!r}): "
              f"the model changed, recomputing")
        return None
    front = pd.read_csv(csv_path)
    front_F = front[list(OBJECTIVES)].to_numpy(dtype=float)
    return Yardstick(best_edap=float(js["best_edap"]), front_F=front_F,
                     hv=hypervolume(front_F, hv["ideal"], hv["reference"]), n_designs=int(js["n_designs"]),
                     source=f"{_shown(csv_path)} (cached)")


def yardstick(problem: WorkloadSetProblem, workload_set: str, hv: dict, results: Path) -> Yardstick:
    """The exact optimum and front of ``problem``: cached when valid, else enumerated and cached."""
    stem = results / f"exhaustive_{problem.memory}_{workload_set}"
    cached = _cached_yardstick(problem, workload_set, stem, hv)
    if cached is not None:
        return cached
    script = _exhaustive_script()
    print(f"  enumerating {problem.space.size:,} designs (exhaustive) ...", flush=True)
    result = exhaustive(problem, progress=script._progress_printer())
    rate = script.brute_force_rate(problem)
    results.mkdir(parents=True, exist_ok=True)
    result.front_frame(problem).to_csv(stem.with_suffix(".csv"), index=False)
    with open(stem.with_suffix(".json"), "w") as fh:
        json.dump(script.summary(problem, workload_set, result, stem.with_suffix(".csv").name, rate), fh, indent=2)
    print(f"  exhaustive: best EDAP {result.best_edap:.6g}, front {len(result.front_F)} points, "
          f"{result.wall_time_s:.0f} s; wrote {stem}.csv/.json", flush=True)
    return Yardstick(best_edap=result.best_edap, front_F=result.front_F,
                     hv=hypervolume(result.front_F, hv["ideal"], hv["reference"]), n_designs=result.n_designs,
                     source=f"{_shown(stem.with_suffix('.csv'))} (computed)")


# -- algorithms -----------------------------------------------------------------------------------------------------
def resolve_algorithms(requested: tuple[str, ...]) -> tuple[list[str], set[str], list[str]]:
    """The requested names :func:`run_algorithm` can run, those among them that are runners, and the missing ones."""
    known = set(available_algorithms())
    found = [n for n in requested if n in known]
    return found, {n for n in found if is_runner(resolve_algorithm(n)[1])}, [n for n in requested if n not in found]


# -- metrics --------------------------------------------------------------------------------------------------------
def archive_metrics(archive: pd.DataFrame, limit: int, ys: Yardstick, hv: dict) -> dict:
    """Best EDAP, gap, hit, designs-to-optimum and HV ratio of the archive's first ``limit`` designs."""
    a = archive[archive["eval_order"] < limit]
    feas = a[a["feasible"].astype(bool)]
    best = float(feas["edap"].min()) if len(feas) else np.nan
    hit_rows = feas[np.abs(feas["edap"] - ys.best_edap) <= HIT_RTOL * ys.best_edap]
    run_hv = hypervolume(feas[list(OBJECTIVES)].to_numpy(dtype=float), hv["ideal"], hv["reference"])
    return {
        "best_edap": best,
        "gap_pct": 100.0 * (best / ys.best_edap - 1.0) if np.isfinite(best) else np.nan,
        "hit": bool(len(hit_rows)),
        "evals_to_optimum": int(hit_rows["eval_order"].min()) + 1 if len(hit_rows) else np.nan,
        "hv": run_hv,
        "hv_ratio": run_hv / ys.hv if ys.hv > 0 else np.nan,
        "n_feasible": int(len(feas)),
        "designs_considered": int(len(a)),
    }


def run_row(problem_name: str, algorithm: str, result: RunResult, budget: int, small: int, ys: Yardstick,
            hv: dict) -> dict:
    """Metrics of one run (its whole archive: the ledger never lets a run past its budget)."""
    full = archive_metrics(result.archive, np.inf, ys, hv)
    early = archive_metrics(result.archive, small, ys, hv)
    if np.isfinite(full["best_edap"]) and full["best_edap"] < ys.best_edap * (1 - HIT_RTOL):
        print(f"  warning: {algorithm} seed {result.seed} found EDAP {full['best_edap']!r} below the exhaustive "
              f"optimum {ys.best_edap!r}: the yardstick is not exact")
    if full["hv_ratio"] > 1 + 1e-9:
        print(f"  warning: {algorithm} seed {result.seed} HV ratio {full['hv_ratio']:.6f} > 1: the front is not exact")
    return {
        "problem": problem_name, "algorithm": algorithm, "seed": result.seed, "budget": budget,
        "evaluations": result.evaluations, "stop_reason": result.stop_reason, "wall_time_s": result.wall_time_s,
        "optimum_edap": ys.best_edap, "hv_exact": ys.hv,
        **full,
        "small_budget": small,
        **{f"{k}_at_small": early[k] for k in ("best_edap", "gap_pct", "hit", "hv_ratio")},
    }


# -- tables ---------------------------------------------------------------------------------------------------------
def _fmt(x, spec: str, dash: str = "—") -> str:
    return dash if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per algorithm of one problem's runs (medians over seeds)."""
    rows = []
    for algorithm, g in runs.groupby("algorithm", sort=False):
        q25, q75 = np.nanpercentile(g["best_edap"], [25, 75]) if g["best_edap"].notna().any() else (np.nan, np.nan)
        hits = g["evals_to_optimum"].dropna()
        rows.append({
            "algorithm": algorithm, "seeds": len(g),
            "best_edap": g["best_edap"].median(), "iqr": q75 - q25,
            "gap_pct": g["gap_pct"].median(), "worst_gap_pct": g["gap_pct"].max(), "hits": int(g["hit"].sum()),
            "evals_to_optimum": hits.median() if len(hits) else np.nan,
            "hv_ratio": g["hv_ratio"].median(), "gap_pct_at_small": g["gap_pct_at_small"].median(),
            "evaluations": g["evaluations"].median(), "wall_time_s": g["wall_time_s"].median(),
        })
    return pd.DataFrame(rows)


def markdown_table(summary: pd.DataFrame, small: int) -> str:
    head = ["algorithm", "best EDAP (median)", "IQR", "gap %", "worst gap %", "optimum hit", "designs to optimum",
            "HV / HV exact", f"gap % @{small:,}", "distinct evals", "wall s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in summary.itertuples():
        lines.append("| " + " | ".join([
            r.algorithm, _fmt(r.best_edap, ".5g"), _fmt(r.iqr, ".3g"), _fmt(r.gap_pct, ".2f"),
            _fmt(r.worst_gap_pct, ".2f"),
            f"{r.hits}/{r.seeds}", _fmt(r.evals_to_optimum, ",.0f"), _fmt(r.hv_ratio, ".4f"),
            _fmt(r.gap_pct_at_small, ".2f"), _fmt(r.evaluations, ",.0f"), _fmt(r.wall_time_s, ".2f"),
        ]) + " |")
    return "\n".join(lines)


def method_tests(runs: pd.DataFrame) -> str:
    """phased_ga vs each other algorithm: two-sided Mann-Whitney U on best EDAP and on the HV ratio."""
    if METHOD not in set(runs["algorithm"]):
        return ""
    mine = runs[runs["algorithm"] == METHOD]
    parts = []
    for other, g in runs[runs["algorithm"] != METHOD].groupby("algorithm", sort=False):
        cells = []
        for col, label in (("best_edap", "best EDAP"), ("hv_ratio", "HV ratio")):
            a, b = mine[col].dropna().to_numpy(), g[col].dropna().to_numpy()
            if len(a) == 0 or len(b) == 0:
                cells.append(f"{label} n/a")
            elif np.array_equal(np.unique(a), np.unique(b)) and len(np.unique(a)) == 1:
                cells.append(f"{label} identical")
            else:
                cells.append(f"{label} p={mannwhitneyu(a, b, alternative='two-sided').pvalue:.3f}")
        parts.append(f"vs {other}: " + ", ".join(cells))
    return f"Mann-Whitney U (two-sided, {METHOD} vs each): " + "; ".join(parts) + "."


def problem_header(name: str, problem: WorkloadSetProblem, ys: Yardstick, budget: int, seeds: int) -> str:
    return (f"### {name}: {problem.memory.upper()} {'+'.join(problem.workloads)}, space {problem.space.name} "
            f"({ys.n_designs:,} designs), {problem.objectives.upper()} ({problem.aggregation}), area ≤ "
            f"{problem.area_limit_mm2:g} mm², {PINNED['space.technology_nm'][0]} nm\n\n"
            f"Exhaustive optimum EDAP {ys.best_edap:.6g} mJ·ms·mm², exact front {len(ys.front_F)} points, "
            f"HV exact {ys.hv:.6f} (source: {ys.source}). Budget {budget:,} distinct designs, "
            + (f"seeds 0–{seeds - 1}." if seeds > 1 else "seed 0."))


# -- runs -----------------------------------------------------------------------------------------------------------
#: problem name -> problem, shared by the runs of this process (forked workers inherit the parent's)
_PROBLEMS: dict[str, WorkloadSetProblem] = {}
_WARM: set[str] = set()


def bench_seed(name: str, seed: int, ys: Yardstick, hv: dict, algorithms: tuple[str, ...], runners: frozenset,
               budget: int, small: int) -> list[dict]:
    """Run every algorithm once with ``seed`` on problem ``name`` -> one metrics row per run."""
    problem = _PROBLEMS.get(name) or load_problem(name)[0]
    _PROBLEMS[name] = problem
    if name not in _WARM:  # fill the mapping memo tables before the first timed run
        problem.evaluate_genomes(problem.space.sample(WARMUP_DESIGNS, np.random.default_rng(12345)))
        _WARM.add(name)
    rows = []
    for algorithm in algorithms:
        result = run_algorithm(algorithm, problem, budget, seed)
        row = run_row(name, algorithm, result, budget, small, ys, hv)
        rows.append(row)
        print(f"  {name} {algorithm:>16} seed {seed}: best {row['best_edap']:.6g} (gap {row['gap_pct']:.2f} %), "
              f"HV ratio {row['hv_ratio']:.4f}, {row['evaluations']:,} designs, {row['wall_time_s']:.2f} s",
              flush=True)
    return rows


# -- main -----------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=3300, help="distinct designs per run (default 3,300)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per algorithm (default 5)")
    parser.add_argument("--small-budget", type=int, default=1000,
                        help="anytime view: metrics of the archive truncated at this many designs (default 1,000)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 seeds, cnn4 problems only, writes optimizers_quick.csv/.md")
    parser.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), metavar="NAME",
                        help=f"problems (default: {' '.join(PROBLEMS)})")
    parser.add_argument("--algorithms", nargs="+", metavar="NAME", default=list(CORE_ALGORITHMS + BASELINES),
                        help="algorithms (default: the five core ones + the baselines when registered)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes, each running whole seeds (default 1: runs timed alone)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where optimizers.csv/.md go")
    parser.add_argument("--yardsticks", type=Path, default=RESULTS,
                        help="where the exhaustive_<memory>_<set>.json/.csv yardsticks are read and cached")
    parser.add_argument("--from-csv", type=Path, metavar="CSV",
                        help="no runs: rebuild the tables and optimizers.md from the rows of an earlier run's CSV")
    args = parser.parse_args(argv)
    if args.budget < 1 or args.seeds < 1 or args.small_budget < 1 or args.jobs < 1:
        parser.error("--budget, --seeds, --small-budget and --jobs must be positive")
    seeds = 2 if args.quick else args.seeds
    problems = args.problems or list(QUICK_PROBLEMS if args.quick else PROBLEMS)
    stem = "optimizers_quick" if args.quick else "optimizers"
    command = "python " + " ".join(shlex.quote(a) for a in [str(Path(sys.argv[0]))] + list(
        sys.argv[1:] if argv is None else argv))
    started = dt.datetime.now().astimezone()
    load_start = os.getloadavg()[0]
    algorithms, runners, missing = resolve_algorithms(tuple(args.algorithms))
    print(f"algorithms: {', '.join(algorithms)}" + (f" | not run (no such config): {', '.join(missing)}"
                                                     if missing else ""), flush=True)

    setups = {}
    for name in problems:
        problem, workload_set, hv = load_problem(name, verbose=True)
        print(f"== {name}: {problem.describe()}", flush=True)
        ys = yardstick(problem, workload_set, hv, args.yardsticks)
        print(f"  yardstick: optimum {ys.best_edap:.6g}, front {len(ys.front_F)} points, HV exact {ys.hv:.6f}",
              flush=True)
        setups[name] = (ys, hv)
        _PROBLEMS[name] = problem
    # seeds outer, so no algorithm pays a problem's cold memo tables alone; largest workload sets first (balance)
    tasks = [(name, seed) for name in problems for seed in range(seeds)]
    if args.jobs > 1:
        tasks.sort(key=lambda t: -len(_PROBLEMS[t[0]].workloads))
    common = (tuple(algorithms), frozenset(runners), args.budget, args.small_budget)
    rows = []
    if args.from_csv:
        rows = [r for r in pd.read_csv(args.from_csv).to_dict("records") if r["problem"] in problems]
        command += f"  (tables rebuilt from the runs of {_shown(args.from_csv)})"
    elif args.jobs == 1:
        for name, seed in tasks:
            rows.extend(bench_seed(name, seed, *setups[name], *common))
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(bench_seed, name, seed, *setups[name], *common) for name, seed in tasks]
            for future in futures:
                rows.extend(future.result())
    rank_p, rank_a = {n: i for i, n in enumerate(problems)}, {a: j for j, a in enumerate(algorithms)}
    rows.sort(key=lambda r: (rank_p[r["problem"]], r["seed"], rank_a[r["algorithm"]]))
    sections = []
    for name in problems:
        runs = pd.DataFrame([r for r in rows if r["problem"] == name])
        sections.append("\n\n".join(filter(None, [
            problem_header(name, _PROBLEMS[name], setups[name][0], args.budget, seeds),
            markdown_table(summarise(runs), args.small_budget), method_tests(runs)])))

    args.out.mkdir(parents=True, exist_ok=True)
    if not args.from_csv:
        pd.DataFrame(rows).to_csv(args.out / f"{stem}.csv", index=False)
    notes = (
        f"Columns: best feasible EDAP [mJ·ms·mm²] median over seeds and its IQR; gap % = median of "
        f"(best / exhaustive optimum − 1)·100, worst gap % its largest value over seeds; optimum hit = seeds "
        f"whose archive holds an EDAP within relative "
        f"{HIT_RTOL:g} of the optimum; designs to optimum = median (over the seeds that hit it) of the distinct "
        f"designs evaluated up to and including the first optimal one; HV / HV exact = median hypervolume of the "
        f"run's feasible archive (energy, latency, area; log-normalised with the problem config's hv ideal/reference) "
        f"over that of the exact front; gap % @{args.small_budget:,} = the same gap with the archive truncated at "
        f"{args.small_budget:,} designs (anytime view, same runs); distinct evals = median distinct designs the run "
        f"evaluated (never more than the budget, a hard cap; an algorithm may stop below it). "
        + (f"Wall s = median search time as recorded by the runs of {_shown(args.from_csv)}." if args.from_csv else
           f"Wall s = median search time" + (f" ({args.jobs} runs at a time on {os.cpu_count()} cores"
                                             if args.jobs > 1 else " (one run at a time")
           + f"; 1-min load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; wall times "
           f"also depend on whatever else the machine ran)."))
    if runners:
        notes += (
            f"\n\nBaselines ({', '.join(n for n in algorithms if n in runners)}) are runners of several searches on "
            f"child ledgers of the run's: their archive holds the designs evaluated on the set, with eval_order "
            f"counting every evaluation of the run (single-workload ones too), so designs to optimum and the "
            f"@{args.small_budget:,} view are in run-wide evaluations (\"—\" when no set design was evaluated by "
            f"then). `specialized` splits the budget evenly over its W single-workload searches "
            f"((budget − W) // W each, W = 4 for cnn4, 9 for mixed9) and evaluates their W best designs on the set.")
    for name in problems:
        if config_differences(name):
            notes += (f"\n\nconf/problem/{name}.yaml sets {config_differences(name)}; this benchmark pins "
                      f"{', '.join(f'{k}={v}' for k, v in PINNED.items())} for every problem.")
    not_run = f"Not run (no such algorithm config): {', '.join(missing)}.\n\n" if missing else ""
    md = (f"# Optimizers vs the exhaustive optimum\n\n"
          f"Command: `{command}`  \nDate: {started:%Y-%m-%d %H:%M %Z}  \n"
          f"Algorithms (default knobs): {', '.join(algorithms)}.  \n{not_run}{notes}\n\n"
          + "\n\n".join(sections) + "\n")
    (args.out / f"{stem}.md").write_text(md)
    print("\n" + "\n\n".join(sections))
    print(f"\nwrote {args.out / stem}.csv/.md ({(time.time() - started.timestamp()) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
