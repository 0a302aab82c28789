"""Tests of the algorithm catalog (the packaged configs by name, typed by the algorithm schemas) and
run_algorithm: budgets, archives, histories, reproducibility, feasibility of the reported best, Pareto fronts, and
the phased GA against random search."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

from imc_moo.algorithms import (
    HISTORY_COLUMNS,
    DistinctEvaluations,
    RunResult,
    available_algorithms,
    configured,
    run_algorithm,
)
from imc_moo.algorithms.catalog import ConfigError, algorithm_config
from imc_moo.algorithms.driver import resolve_algorithm
from imc_moo.algorithms.ledger import Ledger
from imc_moo.problem import PENALTY, WorkloadSetProblem

CORE = ("phased_ga", "nsga2", "nsga3", "ga", "random")
#: knobs that keep the phased GA's initialisation small enough for a 400-design budget
SMALL = {"phased_ga": {"n_candidates": 300, "n_select": 150}}


def offspring_per_generation(result: RunResult) -> int:
    return int(result.pymoo_result.algorithm.pop_size)


def test_problem_is_a_pure_function(rram):
    X = rram.space.sample(40, np.random.default_rng(5))
    first = rram.evaluate(X, return_as_dictionary=True)
    again = rram.evaluate(X[::-1], return_as_dictionary=True)
    for key in ("F", "G", "edap"):
        np.testing.assert_array_equal(first[key][::-1], again[key])
    assert not hasattr(rram, "archive") and not hasattr(rram, "n_evaluated")


def test_algorithms_are_their_configs_and_errors(rram):
    assert set(CORE) <= set(available_algorithms())
    assert "n_select" in algorithm_config("phased_ga")
    # a config extends another: the 1-phase ablation is the phased GA with one phase
    one = algorithm_config("phased_ga_1phase")
    assert [p.name for p in one.phases] == ["early exploration"] and one.n_select == 500
    with pytest.raises(ValueError, match="unknown algorithm 'nope'.*nsga2"):
        run_algorithm("nope", rram)
    with pytest.raises(ValueError, match="unknown option.*popsize.*valid options are.*pop_size"):
        run_algorithm("nsga2", rram, budget=100, popsize=10)
    with pytest.raises(ConfigError, match="pop_size.*could not be converted to Integer"):
        run_algorithm("nsga2", rram, budget=100, pop_size="many")
    with pytest.raises(ValueError, match="budget"):
        run_algorithm("random", rram, budget=0)


def test_a_factory_runs_like_its_config(rram):
    """hydra.utils.instantiate of a config node gives a factory; the name and the factory run the same search."""
    by_name = run_algorithm("nsga2", rram, budget=200, seed=1, pop_size=30)
    by_factory = run_algorithm(functools.partial(configured.nsga2, pop_size=30, crossover_prob=0.9, crossover_eta=15,
                                                 mutation_prob=0.9, mutation_eta=20), rram, budget=200, seed=1)
    assert by_factory.algorithm == "nsga2"
    pd.testing.assert_frame_equal(by_name.archive, by_factory.archive)


def test_an_instantiated_config_runs_as_its_name(rram):
    """``instantiate(cfg.algorithm)`` of a composed app config is a factory named by the config's ``name``; it runs
    the same search as the name (the Compose API's way, README "Use from Python or a notebook")."""
    with initialize_config_module(version_base="1.3", config_module="imc_moo.conf"):
        cfg = compose("config", overrides=["algorithm=phased_ga_1phase", "algorithm.n_candidates=200",
                                           "algorithm.n_select=100"])
    factory = instantiate(cfg.algorithm)
    assert factory.keywords["name"] == "phased_ga_1phase" and factory.func is configured.phased_ga
    assert resolve_algorithm(factory)[0] == "phased_ga_1phase"
    by_node = run_algorithm(factory, rram, budget=200, seed=2)
    by_name = run_algorithm("phased_ga_1phase", rram, budget=200, seed=2, n_candidates=200, n_select=100)
    assert by_node.algorithm == by_name.algorithm == "phased_ga_1phase"
    pd.testing.assert_frame_equal(by_name.archive, by_node.archive)
    pd.testing.assert_frame_equal(by_name.history, by_node.history)
    # the builder takes the name it is bound with (calling the partial directly works)
    assert factory(rram, 200).pop_size == 70


ALGORITHMS_DIR = Path(configured.__file__).parent


def test_the_algorithms_never_import_the_app_or_the_report():
    """The layers run one way: nothing in imc_moo/algorithms imports imc_moo.app or imc_moo.report, not even
    inside a function (the catalog composes the packaged configs itself)."""
    for path in sorted(ALGORITHMS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("imc_moo.app", "imc_moo.report")), (path.name, name)


def test_an_algorithm_by_name_loads_nothing_of_the_app():
    """Composing a packaged algorithm config by name (a baseline with another inner search included) needs the
    algorithm schemas only: no module of the app or the report is loaded, nor the configs' package (which
    registers the app's schemas for the Compose API)."""
    code = textwrap.dedent("""
        import sys
        from imc_moo.algorithms import resolve_algorithm
        name, factory = resolve_algorithm("specialized", inner="nsga2")
        assert name == "specialized" and factory.keywords["inner"].keywords["name"] == "nsga2"
        loaded = [m for m in sys.modules if m.startswith(("imc_moo.app", "imc_moo.report", "imc_moo.conf"))]
        assert not loaded, loaded
        print("ok")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-3000:]


@pytest.mark.parametrize("name", CORE)
def test_budget_archive_and_history(name, rram_eda):
    budget = 400
    r = run_algorithm(name, rram_eda, budget=budget, seed=1, **SMALL.get(name, {}))
    assert r.evaluations <= budget  # a hard cap: the last batch is clipped
    assert r.evaluations == budget or name == "phased_ga"  # the phased GA may stop early once converged
    assert r.evaluations == len(r.archive) == r.ledger.spent
    assert r.stop_reason == "budget of 400 designs reached" or "produced no new design" in r.stop_reason
    genes = list(rram_eda.space.names)
    assert not r.archive.duplicated(subset=genes).any()
    assert r.archive["eval_order"].tolist() == list(range(r.evaluations))
    h = r.history
    assert list(h.columns) == list(HISTORY_COLUMNS)
    assert h["generation"].tolist() == list(range(1, len(h) + 1))
    assert h["evaluations"].is_monotonic_increasing and h["evaluations"].iloc[-1] == r.evaluations
    best_so_far = h["best_edap"].dropna()
    assert best_so_far.is_monotonic_decreasing
    feasible = r.archive[r.archive["feasible"]]
    if len(feasible):
        assert best_so_far.iloc[-1] == feasible["edap"].min() == r.best["edap"]
    assert h["feasible_fraction"].between(0, 1).all()
    assert r.wall_time_s > 0 and r.seed == 1 and r.budget == budget and r.algorithm == name


@pytest.mark.parametrize("name", CORE)
def test_same_seed_same_run(name, sram_eda):
    runs = [run_algorithm(name, sram_eda, budget=300, seed=s, **SMALL.get(name, {})) for s in (3, 3, 4)]
    a, b, c = (r.archive for r in runs)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(runs[0].best, runs[1].best)
    assert not (len(a) == len(c) and a.equals(c))


@pytest.mark.parametrize("name", CORE)
def test_best_is_never_unmappable(name, rram):
    r = run_algorithm(name, rram, budget=600, seed=0, **SMALL.get(name, {}))
    best = r.best
    assert best["edap"] < PENALTY
    if r.archive["feasible"].any():
        assert best["feasible"]
    if name != "random":  # random search finds about 2 feasible RRAM designs per 1000
        assert best["feasible"] and best["cv"] == 0


def test_best_falls_back_to_least_violation(rram):
    r = run_algorithm("random", rram, budget=70, seed=0)
    archive = r.archive.assign(feasible=False, cv=np.arange(len(r.archive), 0, -1, dtype=float))
    fallback = RunResult(**{**r.__dict__, "archive": archive})
    assert fallback.best["cv"] == 1.0
    assert fallback.pareto().empty


@pytest.mark.parametrize("name", ["nsga2", "nsga3"])
def test_multiobjective_pareto_is_nondominated(name, sram_eda):
    r = run_algorithm(name, sram_eda, budget=500, seed=0)
    front = r.pareto()
    assert len(front) >= 5 and front["feasible"].all()
    F = front[["energy_j", "latency_s", "area_mm2"]].to_numpy()
    dominated = ((F[:, None, :] <= F[None, :, :]).all(axis=2) & (F[:, None, :] < F[None, :, :]).any(axis=2))
    assert not dominated.any()
    # nothing feasible in the archive dominates a front member
    feas = r.archive[r.archive["feasible"]][["energy_j", "latency_s", "area_mm2"]].to_numpy()
    assert not ((feas[:, None, :] <= F[None, :, :]).all(axis=2) & (feas[:, None, :] < F[None, :, :]).any(axis=2)).any()


def test_nsga3_population_size(sram_eda):
    r = run_algorithm("nsga3", sram_eda, budget=200, seed=0)
    assert len(r.pymoo_result.algorithm.survival.ref_dirs) == 78 and offspring_per_generation(r) == 80


def test_ga_scalarizes_three_objectives(rram, rram_eda):
    r3 = run_algorithm("ga", rram_eda, budget=300, seed=2)
    view = r3.pymoo_result.problem
    assert isinstance(view, WorkloadSetProblem) and view.objectives == "edap" and view.n_obj == 1
    assert rram_eda.n_obj == 3 and r3.evaluations == len(r3.archive) == 300
    r1 = run_algorithm("ga", rram, budget=300, seed=2)
    # same genomes, same EDAP objective: the scalarized run is the single-objective run
    genes = list(rram.space.names)
    pd.testing.assert_frame_equal(r3.archive[genes + ["edap"]], r1.archive[genes + ["edap"]])


def test_progress_receives_history_rows(rram):
    rows = []
    r = run_algorithm("phased_ga", rram, budget=400, seed=0, progress=rows.append, **SMALL["phased_ga"])
    assert pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)).equals(r.history)
    assert rows[0]["phase"] == "initial population" and rows[-1]["phase"] in {"fine-tuning", "convergence"}


def test_phases_from_mappings(rram):
    phases = [{"name": "only", "crossover_prob": 1.0, "crossover_eta": 5, "mutation_prob": 0.5,
               "mutation_eta": 5}]
    r = run_algorithm("phased_ga", rram, budget=300, seed=0, phases=phases, **SMALL["phased_ga"])
    assert set(r.history["phase"]) == {"initial population", "only"}


def test_distinct_evaluations_progress(rram):
    class Stub:
        evaluator = Ledger()

    Stub.evaluator.evaluate(rram, rram.space.sample(30, np.random.default_rng(0)))
    t = DistinctEvaluations(60)
    assert t.update(Stub()) == pytest.approx(Stub.evaluator.spent / 60) and not t.has_terminated()


@pytest.mark.parametrize("budget", [1, 37, 500, 1000])
@pytest.mark.parametrize("name", CORE)
def test_budget_is_a_hard_cap(name, budget, rram):
    """Never a design past the budget, whatever the generation size (the original overshot: 500 -> 566)."""
    r = run_algorithm(name, rram, budget=budget, seed=0)
    assert r.evaluations == len(r.archive) <= budget
    assert r.evaluations == budget or "no new design" in r.stop_reason


def test_phased_ga_beats_random_search(rram):
    def median_best(name):
        return np.median([run_algorithm(name, rram, budget=1000, seed=s).best["edap"] for s in range(3)])

    assert median_best("phased_ga") < median_best("random")


def test_exact_duplicate_elimination_decides_as_pymoo_default():
    """Sorting rows instead of pymoo's pairwise distances: the same individuals kept, in the same order, within a
    population (first occurrence kept) and against others; -0.0 equals 0.0 as at distance 0."""
    from pymoo.core.duplicate import DefaultDuplicateElimination
    from pymoo.core.population import Population

    from imc_moo.algorithms.duplicates import ExactDuplicateElimination

    rng = np.random.default_rng(5)
    for trial in range(20):
        X = rng.integers(0, 3, size=(60, 4)).astype(float)
        X[rng.random(X.shape) < 0.05] *= -0.0  # signed zeros
        X_other = rng.integers(0, 3, size=(25, 4)).astype(float)
        pop, other = Population.new(X=X), Population.new(X=X_other)
        ours = ExactDuplicateElimination().do(pop, other, return_indices=True)[1]
        theirs = DefaultDuplicateElimination().do(pop, other, return_indices=True)[1]
        assert ours == theirs, trial


def _with_pymoo_mating(builder, **knobs):
    """A builder of ``configured`` whose algorithm mates with pymoo's own Mating and tournament functions."""
    from pymoo.algorithms.moo.nsga2 import binary_tournament
    from pymoo.algorithms.soo.nonconvex.ga import comp_by_cv_and_fitness
    from pymoo.core.mating import Mating
    from pymoo.operators.selection.tournament import TournamentSelection

    from imc_moo.algorithms import tournaments

    def factory(problem, budget):
        built = builder(problem, budget, **knobs)
        algorithm = built[0] if isinstance(built, tuple) else built
        m = algorithm.mating
        native = {tournaments.binary_tournament: binary_tournament,
                  tournaments.comp_by_cv_and_fitness: comp_by_cv_and_fitness}
        selection = m.selection
        if getattr(selection, "func_comp", None) in native:
            selection = TournamentSelection(func_comp=native[selection.func_comp])
        algorithm.selection = selection
        algorithm.mating = Mating(selection, m.crossover, m.mutation, repair=m.repair,
                                  eliminate_duplicates=m.eliminate_duplicates, n_max_iterations=m.n_max_iterations)
        return built
    return factory


def _without_growth(builder, **knobs):
    def factory(problem, budget):
        built = builder(problem, budget, **knobs)
        (built[0] if isinstance(built, tuple) else built).mating.grow = False
        return built
    return factory


@pytest.mark.parametrize("name,avoid_revisits,budget", [("nsga2", True, 1500), ("nsga2", False, 900),
                                                         ("ga", True, 1200), ("ga", False, 600),
                                                         ("nsga3", True, 900)])
def test_array_mating_breeds_pymoos_offspring(name, avoid_revisits, budget, sram_eda):
    """ArrayMating and the array tournaments (without growth) make pymoo's decisions with pymoo's random draws:
    a seeded run gives the same designs in the same order as with pymoo's Mating, binary_tournament and
    comp_by_cv_and_fitness, through converged generations that mate dozens of rounds."""
    builder = getattr(configured, name)
    ours = run_algorithm(_without_growth(builder, avoid_revisits=avoid_revisits), sram_eda, budget=budget, seed=4)
    theirs = run_algorithm(_with_pymoo_mating(builder, avoid_revisits=avoid_revisits), sram_eda, budget=budget,
                           seed=4)
    pd.testing.assert_frame_equal(ours.archive, theirs.archive)
    assert ours.stop_reason == theirs.stop_reason


@pytest.mark.parametrize("name", ["nsga2", "ga", "nsga3"])
def test_avoid_revisits_spends_every_generation_on_new_designs(name, sram_eda):
    """With avoid_revisits (the default) every offspring is a design new to the run, so the budget is reached in
    about budget / pop_size generations; pymoo's own rule (new to the population only) needs many more."""
    new = run_algorithm(name, sram_eda, budget=2000, seed=2)
    generations = new.history["generation"].max()
    assert generations <= 2000 / offspring_per_generation(new) + 3
    plain = run_algorithm(name, sram_eda, budget=2000, seed=2, avoid_revisits=False)
    assert plain.history["generation"].max() > generations
    assert len(new.archive) == len(plain.archive) == 2000


def test_growing_mating_keeps_the_acceptance_rule_and_the_child_limit(sram_eda):
    """grow=True batches children in doubling rounds: the offspring are still distinct, new to the population and
    to the ledger, and a converged population (every parent the same design) breeds at most
    n_max_iterations x n_offsprings children before giving up."""
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.population import Population

    from imc_moo.algorithms.duplicates import RunDuplicateElimination
    from imc_moo.algorithms.mating import ArrayMating

    algorithm = configured.nsga2(sram_eda, 1000, pop_size=20, mating_attempts=5)
    ledger = Ledger()
    algorithm.setup(sram_eda, seed=1, evaluator=ledger, verbose=False)
    mating: ArrayMating = algorithm.mating
    assert mating.grow and isinstance(mating.eliminate_duplicates, RunDuplicateElimination)
    mating.eliminate_duplicates.bind(ledger, sram_eda)
    pop = algorithm.initialization.do(sram_eda, 20, algorithm=algorithm, random_state=algorithm.random_state)
    ledger.eval(sram_eda, pop, algorithm=algorithm)
    pop = algorithm.survival.do(sram_eda, pop, n_survive=20, random_state=algorithm.random_state)
    off = mating.do(sram_eda, pop, 20, algorithm=algorithm, random_state=algorithm.random_state)
    X = off.get("X")
    assert len(X) == 20 and len(np.unique(X, axis=0)) == 20
    assert not ledger.known(sram_eda, X).any()
    # a population of one design: children are mostly that design; count what is bred
    same = Population.new(X=np.repeat(pop.get("X")[:1], 20, axis=0))
    Evaluator().eval(sram_eda, same)
    same = algorithm.survival.do(sram_eda, same, n_survive=20, random_state=algorithm.random_state)
    bred = []
    breed = mating._breed
    mating._breed = lambda *a, **k: bred.append(len(out := breed(*a, **k))) or out
    mating.do(sram_eda, same, 20, algorithm=algorithm, random_state=algorithm.random_state)
    assert sum(bred) <= 5 * 20 + 1 and len(bred) <= 5
    assert all(b >= a for a, b in zip(bred, bred[1:-1]))  # batches grow (the last one is what the limit leaves)
