"""The evaluation ledger (imc_moo.algorithms.ledger): one cache, one count and one hard cap per run, child ledgers for
sub-searches, and the budget of every algorithm and baseline as a hard cap."""

from __future__ import annotations

import numpy as np
import pytest
from pymoo.core.population import Population

from imc_moo.algorithms import run_algorithm
from imc_moo.algorithms.ledger import BudgetExceeded, Ledger


def distinct(problem, n, seed=0):
    X = problem.space.sample(4 * n, np.random.default_rng(seed))
    return X[np.sort(np.unique(problem.space.keys(X), return_index=True)[1])][:n]


def test_cache_counts_each_design_once(rram):
    ledger = Ledger()
    X = distinct(rram, 10)
    first = ledger.evaluate(rram, np.vstack([X[:4], X[:4]]))
    assert ledger.spent == 4 and ledger.revisits == 4
    np.testing.assert_array_equal(first.edap[:4], rram.evaluate_genomes(X[:4]).edap)
    again = ledger.evaluate(rram, X)
    assert ledger.spent == 10 and len(ledger.store) == 10
    np.testing.assert_array_equal(again.edap, rram.evaluate_genomes(X).edap)
    assert ledger.store.eval_order.tolist() == list(range(10))
    feasible = again.feasible
    assert np.isnan(ledger.best_edap) if not feasible.any() else ledger.best_edap == again.edap[feasible].min()


def test_cap_is_hard_and_admit_clips(rram):
    ledger = Ledger(cap=5)
    X = distinct(rram, 8)
    ledger.evaluate(rram, X[:3])
    with pytest.raises(BudgetExceeded, match="room for 2"):
        ledger.evaluate(rram, X[3:6])
    assert ledger.spent == 3  # nothing evaluated by the refused call
    pop = Population.new(X=np.vstack([X[0], X[5], X[6], X[5], X[7]]))
    admitted = ledger.admit(rram, pop)
    # the cached design, the first two new ones and the duplicate of an admitted one
    assert admitted.get("X").tolist() == [X[0].tolist(), X[5].tolist(), X[6].tolist(), X[5].tolist()]
    ledger.eval(rram, admitted)
    assert ledger.spent == 5 and ledger.full and ledger.stop_reason == "budget of 5 designs reached"
    assert np.all(np.isfinite(admitted.get("F")))


def test_children_report_to_their_parent(rram, sram):
    root = Ledger(cap=20)
    own = root.child(cap=6, label="single")  # another problem: its own cache
    shared = root.child(cap=10, share_cache=True)  # a view of the run's problem: the run's cache
    own.evaluate(sram, distinct(sram, 6))
    assert (own.spent, root.spent, len(root.store)) == (6, 6, 0)
    X = distinct(rram, 12, seed=1)
    root.evaluate(rram, X[:2])
    shared.evaluate(rram, X[:8])  # 2 already in the run's cache
    assert (shared.spent, root.spent, len(root.store)) == (6, 14, 8)
    assert root.spent == len(root.store) + sum(c.spent for c in root.children if c.store is not root.store)
    assert root.room == 6 and shared.room == 4 and own.room == 0
    # run-wide order: the single-workload designs came first
    assert root.store.eval_order.tolist() == [6, 7, 8, 9, 10, 11, 12, 13]
    tight = root.child(cap=100)
    assert tight.room == 6  # a child never gets more than its ancestors leave


@pytest.mark.parametrize("name", ["specialized", "largest_workload", "sequential"])
@pytest.mark.parametrize("budget", [60, 333])
def test_baselines_never_exceed_the_budget_and_one_ledger_counts_all(name, budget, rram):
    knobs = {"inner": {"n_candidates": 100, "n_select": 30, "pop_size": 10}} if name != "sequential" else {}
    ledger = Ledger(cap=budget)
    r = run_algorithm(name, rram, budget, seed=0, ledger=ledger, **knobs)
    assert r.ledger is ledger and r.evaluations == ledger.spent <= budget
    # everything the sub-searches evaluated is in the one count: the run's own designs plus the children's
    others = sum(c.spent for c in ledger.children if c.store is not ledger.store)
    assert ledger.spent == len(ledger.store) + others == len(r.archive) + others
    assert ledger.children and all(c.spent <= c.cap for c in ledger.children)
    assert r.history["evaluations"].iloc[-1] == ledger.spent
