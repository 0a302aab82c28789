"""Tests of the Hamming-diverse sampler and the phased GA: selection quality and exactness, the phase schedule,
archive restarts, budgets, reproducibility and behaviour on a small generic pymoo problem."""

from __future__ import annotations

import dataclasses

import moocore
import numpy as np
import pytest
from pymoo.core.callback import Callback
from pymoo.core.problem import Problem
from pymoo.optimize import minimize

from imc_moo.algorithms import METHOD_PHASES, DistinctEvaluations, HammingDiverseSampling, Phase, PhasedGA
from imc_moo.algorithms.hamming import capacity_ratio, select_max_min_hamming
from imc_moo.problem.space import hamming


def naive_max_min(X: np.ndarray, k: int) -> list[int]:
    """The method's scan, written plainly: first candidate, then the first with the largest min distance."""
    selected = [0]
    while len(selected) < k:
        best, best_d = None, 0
        for i in range(len(X)):
            if i in selected:
                continue
            d = min(int((X[i] != X[j]).sum()) for j in selected)
            if d > best_d:
                best, best_d = i, d
        if best is None:
            break
        selected.append(best)
    return selected


def min_distances(X: np.ndarray) -> np.ndarray:
    """(n,) distance of each genome to its nearest other genome."""
    D = hamming(X, X).astype(float)
    np.fill_diagonal(D, np.inf)
    return D.min(axis=1)


# -- Hamming selection ---------------------------------------------------------------------------------------
def test_selection_equals_the_methods_scan():
    rng = np.random.default_rng(3)
    X = rng.integers(0, [3, 4, 2, 5], size=(60, 4))
    X = X[np.sort(np.unique(X, axis=0, return_index=True)[1])]
    for k in (1, 5, 20, len(X) + 5):
        assert select_max_min_hamming(X, k).tolist() == naive_max_min(X, k)


def test_selection_is_diverse_and_beats_random(rram):
    rng = np.random.default_rng(0)
    cands = HammingDiverseSampling(n_candidates=400, n_select=60).candidates(rram, rng)
    idx = select_max_min_hamming(cands, 60)
    chosen = cands[idx]
    assert len(idx) == 60 and idx[0] == 0
    assert len(np.unique(chosen, axis=0)) == 60
    greedy = min_distances(chosen)
    for _ in range(20):
        other = cands[rng.choice(len(cands), 60, replace=False)]
        rand = min_distances(other)
        assert greedy.min() > rand.min()
        assert greedy.mean() > rand.mean()


def test_selection_skips_duplicates_and_stops_when_exhausted():
    X = np.array([[0, 0], [0, 0], [1, 1], [1, 1], [0, 1]])
    assert select_max_min_hamming(X, 10).tolist() == [0, 2, 4]
    assert select_max_min_hamming(X, 0).size == 0


def test_sampler_capacity_first_distinct_and_seeded(rram):
    sampler = HammingDiverseSampling(n_candidates=300, n_select=80)
    np.random.seed(1)
    a = sampler.do(rram, 10, random_state=np.random.default_rng(7)).get("X")
    np.random.seed(2)  # global state must not matter
    b = sampler.do(rram, 10, random_state=np.random.default_rng(7)).get("X")
    assert np.array_equal(a, b)
    assert a.shape == (80, rram.n_var)
    assert len(np.unique(a, axis=0)) == 80
    assert (a >= rram.xl).all() and (a <= rram.xu).all()
    assert (capacity_ratio(rram, a) <= 1).all()
    # the pre-check is the problem's own capacity constraints
    G = rram.evaluate_genomes(a).G[:, : len(rram.workloads)]
    assert (G <= 1e-12).all()


def test_sampler_best_effort_fill_when_few_pass(rram):
    sampler = HammingDiverseSampling(n_candidates=400, n_select=10, max_draw_factor=1)
    cands = sampler.candidates(rram, np.random.default_rng(0))
    ratio = capacity_ratio(rram, cands)
    n_pass = int((ratio <= 1).sum())
    assert 0 < n_pass < len(cands) <= 400
    assert (ratio[:n_pass] <= 1).all() and (ratio[n_pass:] > 1).all()


def test_sampler_without_capacity_check_is_uniform(sram_eda):
    X = HammingDiverseSampling(n_candidates=200, n_select=50).do(
        sram_eda, 10, random_state=np.random.default_rng(0)).get("X")
    assert capacity_ratio(sram_eda, X) is None
    assert X.shape == (50, sram_eda.n_var)


# -- phased GA -----------------------------------------------------------------------------------------------
class Recorder(Callback):
    """Per generation: phase index, operator parameters, population (X, F, CV) and the archive's state."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def notify(self, algorithm):
        self.rows.append(dict(
            phase=algorithm.phase, label=algorithm.phase_label, params=algorithm.operator_parameters(),
            X=algorithm.pop.get("X").copy(), F=algorithm.pop.get("F").copy(), CV=algorithm.pop.get("CV").copy(),
            n_evaluated=algorithm.evaluator.spent, archive=algorithm.evaluator.population(algorithm.problem),
        ))


def run_phased(problem, budget=600, seed=0, **kw):
    """A phased GA run through plain pymoo ``minimize`` (the algorithm puts a ledger in place itself)."""
    kw = {"pop_size": 20, "n_candidates": 200, "n_select": 100, **kw}
    rec = Recorder()
    algorithm = PhasedGA(budget=budget, **kw)
    res = minimize(problem, algorithm, DistinctEvaluations(budget), seed=seed, copy_algorithm=False, callback=rec)
    return algorithm, rec, res


def spent(algorithm) -> int:
    return algorithm.evaluator.spent


def test_method_phases():
    assert [(p.name, p.crossover_prob, p.crossover_eta, p.mutation_prob, p.mutation_eta, p.generations)
            for p in METHOD_PHASES] == [
        ("early exploration", 1.0, 3, 1.0, 3, None), ("transition", 0.9, 7, 0.5, 7, None),
        ("convergence", 1.0, 15, 0.2, 15, None), ("fine-tuning", 1.0, 25, 0.05, 25, None)]
    with pytest.raises(ValueError, match="mutation_prob"):
        Phase("bad", 1.0, 3, 1.5, 3)


def test_schedule_is_applied_in_order(rram):
    algorithm, rec, _ = run_phased(rram)
    phases = [r["phase"] for r in rec.rows]
    assert phases == sorted(phases) and set(phases) == {0, 1, 2, 3}
    for r in rec.rows:
        p = METHOD_PHASES[r["phase"]]
        assert r["params"] == {"crossover_prob": p.crossover_prob, "crossover_eta": p.crossover_eta,
                               "mutation_prob": p.mutation_prob, "mutation_eta": p.mutation_eta,
                               "mutation_prob_var": 1 / rram.n_var}
    assert rec.rows[0]["label"] == PhasedGA.INITIAL_LABEL and rec.rows[0]["n_evaluated"] == 100
    # phase i hands over at the first generation boundary at or past its milestone K + (i+1)(budget-K)/4, or
    # earlier if its operators cannot breed a single new design
    np.testing.assert_allclose(algorithm.milestones, [225, 350, 475, 600])
    log = algorithm.phase_log
    assert [e["phase"] for e in log] == [0, 1, 2, 3] and all("ended" in e for e in log)
    for e, nxt in zip(log, log[1:]):
        assert e["end_evaluations"] == nxt["start_evaluations"]
    for prev, r in zip(rec.rows, rec.rows[1:]):
        if r["phase"] != prev["phase"]:
            entry = log[prev["phase"]]
            if entry["ended"] == "milestone":
                assert r["label"] == METHOD_PHASES[prev["phase"]].name  # the closing generation ran under it
                assert prev["n_evaluated"] < algorithm.milestones[prev["phase"]] <= r["n_evaluated"]
            else:
                assert entry["ended"] == "no new designs"
                # it ended short of its milestone (the next phase's first generation may reach or pass it)
                assert entry["end_evaluations"] < algorithm.milestones[prev["phase"]]


def test_fixed_generation_phases(rram):
    phases = [dataclasses.replace(p, generations=2) for p in METHOD_PHASES]
    algorithm, rec, _ = run_phased(rram, budget=5000, phases=phases)
    labels = [r["label"] for r in rec.rows]
    assert labels == [PhasedGA.INITIAL_LABEL] + [p.name for p in METHOD_PHASES for _ in range(2)]
    assert [e["ended"] for e in algorithm.phase_log] == ["generations"] * 4
    assert algorithm.termination.has_terminated() and spent(algorithm) < 5000


def test_restart_population_is_the_archive_best(rram):
    _, rec, _ = run_phased(rram)
    restarts = [r for prev, r in zip(rec.rows, rec.rows[1:]) if r["phase"] != prev["phase"]]
    assert len(restarts) == 3
    for r in restarts:
        archive = r["archive"]
        F, CV = archive.get("F")[:, 0], archive.get("CV")[:, 0]
        top = np.lexsort([F, CV])[:20]  # feasibility (CV) first, then EDAP
        expected = sorted(zip(CV[top], F[top]))
        assert sorted(zip(r["CV"][:, 0], r["F"][:, 0])) == expected


def test_restart_multiobjective_takes_whole_fronts(sram_eda):
    _, rec, _ = run_phased(sram_eda, budget=500)
    restarts = [r for prev, r in zip(rec.rows, rec.rows[1:]) if r["phase"] != prev["phase"]]
    assert restarts
    for r in restarts:
        archive = r["archive"]
        feas = archive.get("CV")[:, 0] <= 0
        assert feas.sum() >= 20 and (r["CV"] <= 0).all()
        F = archive.get("F")[feas]
        rank = moocore.pareto_rank(F)
        keys = {tuple(x) for x in archive.get("X")[feas]}
        in_pop = np.array([tuple(x) in {tuple(y) for y in r["X"]} for x in archive.get("X")[feas]])
        assert len(keys) == feas.sum() and in_pop.sum() == 20
        worst = rank[in_pop].max()
        assert in_pop[rank < worst].all() and not in_pop[rank > worst].any()


def test_budget_and_archive_counts(rram):
    algorithm, rec, res = run_phased(rram, budget=600)
    n = spent(algorithm)
    assert n <= 600 + 20  # plain minimize checks the budget between generations only
    # below budget only if the last phase could not breed new designs any more
    assert n >= 600 or algorithm.phase_log[-1]["ended"] == "no new designs"
    assert algorithm.phase_log[-1]["end_evaluations"] == n
    evaluated = algorithm.evaluator.population(rram)
    assert len(evaluated) == n == len(np.unique(evaluated.get("X"), axis=0))
    assert res.F is not None and res.F.shape == (1,)


def test_same_seed_same_run_other_seed_differs(rram):
    a_alg, a, _ = run_phased(rram, seed=4)
    b_alg, b, _ = run_phased(rram, seed=4)
    c_alg, _, _ = run_phased(rram, seed=5)
    frame_a, frame_b, frame_c = (alg.evaluator.frame() for alg in (a_alg, b_alg, c_alg))
    assert frame_a.equals(frame_b) and len(a.rows) == len(b.rows)
    assert not (len(frame_a) == len(frame_c) and frame_a.equals(frame_c))


def test_random_initialisation_ablation(rram):
    algorithm, rec, _ = run_phased(rram, budget=300, hamming_init=False)
    assert rec.rows[0]["n_evaluated"] == 20
    np.testing.assert_allclose(algorithm.milestones, [90, 160, 230, 300])


def test_plain_duplicate_elimination_allows_revisits(rram):
    algorithm, _, _ = run_phased(rram, budget=300, avoid_revisits=False)
    # revisits are read from the ledger's cache: they cost nothing and count once
    assert spent(algorithm) >= 300 and algorithm.evaluator.revisits > 0
    avoiding, _, _ = run_phased(rram, budget=300)
    assert avoiding.evaluator.revisits == 0


def test_invalid_settings():
    with pytest.raises(ValueError, match="budget"):
        PhasedGA(budget=0)
    with pytest.raises(ValueError, match="n_select"):
        PhasedGA(pop_size=70, n_select=50, n_candidates=100)
    with pytest.raises(ValueError, match="n_select"):
        HammingDiverseSampling(n_candidates=10, n_select=20)


class TinyProblem(Problem):
    """A 3-gene integer problem with 4*3*5 = 60 designs and no archive: min sum((x - (1, 2, 3))**2)."""

    def __init__(self):
        super().__init__(n_var=3, n_obj=1, xl=np.zeros(3), xu=np.array([3, 2, 4]), vtype=int)

    def _evaluate(self, X, out, *args, **kwargs):
        out["F"] = ((np.asarray(X) - [1, 2, 3]) ** 2).sum(axis=1, keepdims=True).astype(float)


def test_generic_problem_small_space_ends_when_exhausted():
    problem = TinyProblem()
    algorithm = PhasedGA(pop_size=6, n_candidates=30, n_select=12, budget=1000)
    res = minimize(problem, algorithm, DistinctEvaluations(1000), seed=1, copy_algorithm=False)
    # avoid_revisits: no design is evaluated twice, and the run stops once no new design can be bred
    assert algorithm.evaluator.n_eval == len(algorithm.evaluator.population(problem)) <= 60
    assert res.F[0] == 0 and res.X.tolist() == [1, 2, 3]
