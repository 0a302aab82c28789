"""Tests of the method's baselines (imc_moo.algorithms.baselines): runners built from their configs, the inner
search as a nested config node, specialized designs, the largest-workload pick, the sequential stage chain,
budgets, run files and reproducibility."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest
from hydra.utils import instantiate

from imc_moo.algorithms import HISTORY_COLUMNS, RunResult, configured, is_runner, resolve_algorithm, run_algorithm
from imc_moo.algorithms.baselines import (
    SEQUENTIAL_STAGES,
    largest_network,
    run_largest_workload,
    single_workload_problem,
    start_genome,
)
from imc_moo.algorithms.catalog import algorithm_config
from imc_moo.app.export import best_row, best_summary
from imc_moo.problem import WorkloadSetProblem
from imc_moo.problem.space import DESIGN_COLUMNS
from imc_moo.report import normalized_edap

BUDGET = 300
INNER = {"n_candidates": 200, "n_select": 100, "pop_size": 20}
#: the specialized run's budget: 4 searches of BUDGET designs plus the 4 set evaluations
SPECIALIZED_BUDGET = 4 * (BUDGET + 1)
STAGE_GENES = {s.name: set(s.genes) for s in SEQUENTIAL_STAGES}


def run(name, problem, budget=None, seed=0, **knobs) -> RunResult:
    if name in ("specialized", "largest_workload"):
        knobs.setdefault("inner", INNER)
    budget = budget or (SPECIALIZED_BUDGET if name == "specialized" else BUDGET)
    return run_algorithm(name, problem, budget, seed, **knobs)


@pytest.fixture(scope="module")
def specialized(rram):
    return run("specialized", rram)


@pytest.fixture(scope="module")
def largest(rram):
    return run("largest_workload", rram)


@pytest.fixture(scope="module")
def sequential(rram):
    return run("sequential", rram)


@pytest.fixture(scope="module")
def sequential_sram(sram):
    return run("sequential", sram)


def check_run_shape(r: RunResult, problem: WorkloadSetProblem) -> None:
    """What every baseline result shares with the other algorithms' results."""
    assert list(r.history.columns) == list(HISTORY_COLUMNS) and len(r.history)
    assert r.history["evaluations"].is_monotonic_increasing
    assert r.history["generation"].tolist() == list(range(1, len(r.history) + 1))
    assert r.history["evaluations"].iloc[-1] == r.evaluations
    assert not r.archive.empty and r.archive["eval_order"].is_monotonic_increasing
    assert r.archive["eval_order"].is_unique and r.archive["eval_order"].max() < r.evaluations
    # the archive is the pure problem's evaluation of the run's designs, nothing else
    genomes = r.ledger.store.genomes
    expected = problem.results_frame(genomes, problem.evaluate_genomes(genomes))
    pd.testing.assert_frame_equal(r.archive.drop(columns="eval_order"), expected)
    assert r.evaluations == r.ledger.spent <= r.budget
    best = r.best
    assert best["edap"] == best_row(r.archive)["edap"]
    final = r.history["best_edap"].iloc[-1]
    if bool(best["feasible"]):
        assert final == pytest.approx(best["edap"])
    json.dumps(r.extra, allow_nan=False)  # plain, finite values: goes into best.json as is


# -- built from their configs --------------------------------------------------------------------------------
def test_baselines_are_runners_built_from_their_configs(rram):
    for name in ("specialized", "largest_workload", "sequential"):
        assert is_runner(resolve_algorithm(name)[1])
    assert not is_runner(resolve_algorithm("phased_ga")[1])
    assert set(resolve_algorithm("sequential")[1].keywords) == {"name", "start", "passes", "patience"}
    assert set(resolve_algorithm("specialized")[1].keywords) == {"name", "inner", "budget_per_workload"}
    with pytest.raises(ValueError, match="unknown algorithm 'nope'.*largest_workload.*nsga2.*sequential"):
        run_algorithm("nope", rram)
    with pytest.raises(ValueError, match="unknown option.*top_n.*valid options are inner, top_k"):
        run_algorithm("largest_workload", rram, 100, top_n=2)
    with pytest.raises(ValueError, match="inner search 'sequential' is a baseline.*algorithm@algorithm.inner="):
        run_algorithm("specialized", rram, 100, inner="sequential")
    with pytest.raises(ValueError, match="unknown inner algorithm 'annealing': use one of ga, "):
        run_algorithm("specialized", rram, 100, inner="annealing")
    with pytest.raises(ValueError, match=r"unknown option\(s\) popsize for the inner search 'phased_ga' of "
                                         r"algorithm 'specialized': valid options are pop_size"):
        run_algorithm("specialized", rram, 100, inner={"popsize": 20})
    with pytest.raises(ValueError, match="algorithm 'nsga2' has no inner search"):
        run_algorithm("nsga2", rram, 100, inner="phased_ga")
    with pytest.raises(ValueError, match="inner must be an algorithm factory, got 'nsga2'"):
        run_algorithm(functools.partial(run_largest_workload, inner="nsga2"), rram, 100)
    with pytest.raises(ValueError, match="unknown start 'low'"):
        run_algorithm("sequential", rram, 100, start="low")
    with pytest.raises(ValueError, match="budget must be a positive"):
        run_algorithm("sequential", rram, 0)


# -- specialized ---------------------------------------------------------------------------------------------
def test_specialized_reference(rram, specialized):
    r = specialized
    check_run_shape(r, rram)
    spec = r.extra["specialized"]
    assert list(spec) == rram.workloads
    assert {"edap", "design", "feasible"} <= set(spec["vgg16"]) and set(spec["vgg16"]["design"]) == set(DESIGN_COLUMNS)
    # each workload's search, re-run alone, gives the recorded optimum; evaluations = sum over the searches + W
    inner_evaluations = 0
    for w in rram.workloads:
        single = single_workload_problem(rram, w)
        alone = run_algorithm("phased_ga", single, BUDGET, 0, **INNER)
        inner_evaluations += alone.evaluations
        assert alone.evaluations <= BUDGET
        assert spec[w]["edap"] == alone.best["edap"]
        # by construction: no design of the w-only search beats it on w (among those feasible for w)
        feasible = alone.archive[alone.archive["feasible"]]
        assert spec[w]["edap"] <= feasible["edap"].min()
        # the set row of w's specialized design reproduces its EDAP_w exactly
        row = r.archive[(r.archive[list(DESIGN_COLUMNS)] == pd.Series(spec[w]["design"])).all(axis=1)]
        assert len(row) == 1 and row[f"edap_{w}"].iloc[0] == pytest.approx(spec[w]["edap"], rel=1e-12)
    assert r.evaluations == inner_evaluations + len(r.archive) <= SPECIALIZED_BUDGET
    assert set(r.history["phase"]) == set(rram.workloads)
    # the run's best is the specialized design of least set EDAP, feasible first
    assert r.best["edap"] == best_row(r.archive)["edap"] and len(r.archive) <= len(rram.workloads)


def test_specialized_beats_the_joint_design_on_its_workload(rram, specialized):
    joint = run_algorithm("phased_ga", rram, BUDGET, 0, **INNER).best
    spec = specialized.extra["specialized"]
    wins = [spec[w]["edap"] <= joint[f"edap_{w}"] for w in rram.workloads]
    assert sum(wins) >= len(wins) - 1, wins


def test_specialized_budget_per_workload_and_report(rram, specialized):
    r = run("specialized", rram, budget=BUDGET, budget_per_workload=70, inner={**INNER, "n_select": 60})
    assert r.evaluations <= 4 * 70 + 4 and r.budget == BUDGET
    with pytest.raises(ValueError, match="need 604 designs, more than the budget of 300"):
        run("specialized", rram, budget=BUDGET, budget_per_workload=150)
    # best.json payloads feed imc-moo-report's normalisation
    meta = {"problem": "rram_cnn4", "seed": 0}
    bests = {Path("s"): best_summary(best_row(specialized.archive), rram.workloads,
                                     {**meta, "algorithm": "specialized", **specialized.extra}),
             Path("l"): best_summary(best_row(r.archive), rram.workloads, {**meta, "algorithm": "other"})}
    norm = normalized_edap(bests)
    assert set(norm["workload"]) == set(rram.workloads) and (norm["normalized_edap"] > 0).all()


# -- largest workload ----------------------------------------------------------------------------------------
def test_largest_network_picks():
    assert largest_network(WorkloadSetProblem("cnn4", "rram", "edap")) == "vgg16"
    assert largest_network(WorkloadSetProblem("mixed9", "sram", "edap")) == "gpt2_medium"


def test_largest_workload_single_pick(rram, largest):
    r = largest
    check_run_shape(r, rram)
    assert r.extra == {"largest_workload": "vgg16"}
    assert len(r.archive) == 1 and r.evaluations <= BUDGET
    single = single_workload_problem(rram, "vgg16")
    alone = run_algorithm("phased_ga", single, BUDGET - 1, 0, **INNER)
    assert r.evaluations == alone.evaluations + 1
    pd.testing.assert_series_equal(r.best[list(DESIGN_COLUMNS)], alone.best[list(DESIGN_COLUMNS)],
                                   check_names=False)
    assert r.best["edap_vgg16"] == pytest.approx(alone.best["edap"], rel=1e-12)
    assert set(r.history["phase"]) == {"vgg16", "set"} and r.history["best_edap"].iloc[:-1].isna().all()


def test_largest_workload_top_k(rram):
    r = run("largest_workload", rram, top_k=5)
    assert len(r.archive) == 5 and r.evaluations <= BUDGET
    # the top-5 by VGG16 EDAP: ordered by it, feasible ones; the best is the least set EDAP among them
    assert r.archive["edap_vgg16"].is_monotonic_increasing
    assert r.best["edap"] == r.archive[r.archive["feasible"]]["edap"].min()


# -- sequential ----------------------------------------------------------------------------------------------
def check_chain(r: RunResult, problem: WorkloadSetProblem, stages: list[str]) -> None:
    recs = r.extra["stages"]
    assert [s["stage"] for s in recs] == ["start"] + stages
    space_genes = set(problem.space.names)
    for prev, cur in zip(recs, recs[1:]):
        changed = {g for g in space_genes if prev["design"][g] != cur["design"][g]}
        assert changed <= STAGE_GENES[cur["stage"]], (cur["stage"], changed)
        assert set(cur["genes"]) == STAGE_GENES[cur["stage"]] & space_genes
        # never worse: feasibility first, then EDAP (CV among infeasible designs)
        prev_key = (not prev["feasible"], prev["best_edap"] if prev["feasible"] else prev["cv"])
        cur_key = (not cur["feasible"], cur["best_edap"] if cur["feasible"] else cur["cv"])
        assert cur_key <= prev_key
        assert cur["evaluations"] >= prev["evaluations"]
    assert recs[-1]["best_edap"] <= recs[0]["best_edap"]
    assert r.best["edap"] == recs[-1]["best_edap"]
    assert r.evaluations == len(r.archive) <= r.budget
    assert r.archive["eval_order"].tolist() == list(range(r.evaluations))


def test_sequential_rram(rram, sequential):
    check_run_shape(sequential, rram)
    check_chain(sequential, rram, ["device", "circuit", "architecture", "system"])
    recs = sequential.extra["stages"]
    assert recs[0]["design"] == {**recs[0]["design"], "voltage": 0.7, "xbar_rows": 256, "router_group": 8,
                                 "tiles_per_chip": 16, "glb_mib": 4.0}
    methods = {s["stage"]: s["method"] for s in recs}
    assert methods["device"] == "exhaustive" and methods["architecture"] == "ga"  # 1,260 designs > its share
    assert set(sequential.history["phase"]) == {"start", "device", "circuit", "architecture", "system"}


def test_sequential_sram_skips_device(sram, sequential_sram):
    check_run_shape(sequential_sram, sram)
    check_chain(sequential_sram, sram, ["circuit", "architecture", "system"])
    assert sequential_sram.extra["stages"][0]["design"]["tiles_per_chip"] == 32


def test_sequential_max_start_and_passes(sram):
    design = sram.space.decode(start_genome(sram, "max")[None, :]).iloc[0]
    # SRAM lists stop at 16 groups, 32 tiles, 64 macros: nearest values
    assert (design.voltage, design.xbar_rows, design.router_group, design.tiles_per_chip, design.macros_per_tile,
            design.glb_mib) == (0.85, 512, 16, 32, 64, 32.0)
    r = run("sequential", sram, budget=200, start="max", passes=2)
    check_chain(r, sram, ["circuit", "architecture", "system"] * 2)
    assert [s["pass"] for s in r.extra["stages"]] == [0, 1, 1, 1, 2, 2, 2]


# -- budgets and reproducibility -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["specialized", "largest_workload", "sequential"])
def test_reproducible(rram, name, request):
    first = request.getfixturevalue({"specialized": "specialized", "largest_workload": "largest",
                                     "sequential": "sequential"}[name])
    again = run(name, rram)
    pd.testing.assert_frame_equal(first.archive, again.archive)
    pd.testing.assert_frame_equal(first.history, again.history)
    assert first.extra == again.extra and first.evaluations == again.evaluations


# -- the inner search: a nested config node ------------------------------------------------------------------
def test_the_inner_search_is_a_nested_node_built_with_the_baseline(rram):
    """The config's ``inner`` is an algorithm node of the algorithm group; instantiating the baseline builds it."""
    node = algorithm_config("largest_workload", inner=INNER)
    assert node.inner.name == "phased_ga" and node.inner.pop_size == 20 and node.inner._partial_
    factory = instantiate(node)
    assert factory.func is run_largest_workload and factory.keywords["name"] == "largest_workload"
    inner = factory.keywords["inner"]
    assert inner.func is configured.phased_ga and inner.keywords["name"] == "phased_ga"
    assert inner.keywords["pop_size"] == 20
    # another inner search, chosen as on the command line (algorithm@algorithm.inner=nsga2)
    other = algorithm_config("largest_workload", inner="nsga2")
    assert other.inner.name == "nsga2" and "n_select" not in other.inner
    assert resolve_algorithm("largest_workload", inner="nsga2")[1].keywords["inner"].func is configured.nsga2


def test_an_instantiated_baseline_runs_as_its_name(rram):
    by_name = run("largest_workload", rram, budget=120)
    by_node = run_algorithm(instantiate(algorithm_config("largest_workload", inner=INNER)), rram, 120, 0)
    assert by_node.algorithm == by_name.algorithm == "largest_workload"
    pd.testing.assert_frame_equal(by_name.archive, by_node.archive)
    assert by_name.stop_reason == by_node.stop_reason
    # a factory as the inner search, from Python
    inner = functools.partial(configured.phased_ga, **INNER)
    by_factory = run_algorithm(functools.partial(run_largest_workload, inner=inner), rram, 120, 0)
    pd.testing.assert_frame_equal(by_name.archive, by_factory.archive)
    # another inner algorithm runs under the baseline's name
    nsga2 = run_algorithm("largest_workload", rram, 120, 0, inner="nsga2")
    assert nsga2.algorithm == "largest_workload" and nsga2.evaluations <= 120


def test_inner_knobs_still_work_for_one_release(rram):
    with pytest.warns(DeprecationWarning, match="inner_knobs=.*is now inner="):
        old = resolve_algorithm("largest_workload", inner_knobs=INNER)[1]
    assert old.keywords["inner"].keywords["pop_size"] == 20
