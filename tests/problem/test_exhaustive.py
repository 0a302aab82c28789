"""Tests of imc_moo.problem.exhaustive: the exact optimum and front equal brute force on small sub-spaces,
whatever the shortcuts, chunk sizes and aggregation; chunks stay bounded; the archive is untouched; the per-chunk
audit catches a wrong shortcut."""

from __future__ import annotations

import functools
import itertools

import moocore
import numpy as np
import pytest

import imc_moo.problem.exhaustive as exhaustive_module
from imc_moo.problem import WorkloadSetProblem, aggregate
from imc_moo.problem.exhaustive import ExhaustiveError, _lex_min_of_least, _merge_front, exhaustive

#: Sub-spaces (gene -> value indices) around each space's optimum: RRAM 6,912 designs (264 feasible: most fail the
#: capacity constraint, so pruning matters), SRAM 1,944 designs (1,890 feasible); three base latencies each.
SUBSPACES = {
    "rram": {"voltage": [0, 5], "bits_per_cell": [6, 7], "base_latency_s": [0, 2, 5], "xbar_rows": [3, 4],
             "xbar_cols": [0, 2, 4], "router_group": [2, 3, 4, 5], "tiles_per_chip": [2, 3, 4],
             "macros_per_tile": [0, 1, 2, 3], "glb_depth": [0, 3]},
    "sram": {"voltage": [0, 4], "base_latency_s": [0, 3, 5], "xbar_rows": [3, 4, 5], "xbar_cols": [3, 4, 5],
             "router_group": [2, 4], "tiles_per_chip": [0, 2], "macros_per_tile": [0, 2, 4], "glb_depth": [0, 2, 7]},
}
#: A RRAM sub-space without a feasible design (small chips: the weights never fit).
INFEASIBLE = {"voltage": [0], "base_latency_s": [0, 1], "router_group": [0], "tiles_per_chip": [0],
              "macros_per_tile": [0], "glb_depth": [0]}
SHORTCUTS = [dict(expand_base_latency=e, prune=p) for e in (True, False) for p in (True, False)]


@functools.cache
def problem(memory: str, aggregation: str = "max", performance: str = "reference") -> WorkloadSetProblem:
    return WorkloadSetProblem("cnn4", memory, objectives="edap", aggregation=aggregation, performance=performance)


def subspace_size(memory: str) -> int:
    sub = SUBSPACES[memory]
    return int(np.prod([len(sub.get(n, range(c))) for n, c in zip(problem(memory).space.names,
                                                                   problem(memory).space.cardinalities)]))


@functools.cache
def brute_force(memory: str, aggregation: str = "max", performance: str = "reference") -> dict:
    """Every genome of the sub-space evaluated at once, in lexicographic order; argmin and non-dominated set."""
    p = problem(memory, aggregation, performance)
    sub = SUBSPACES[memory]
    genomes = np.array(list(itertools.product(*(sorted(sub.get(n, range(c)))
                                               for n, c in zip(p.space.names, p.space.cardinalities)))))
    ev = p.evaluate_genomes(genomes)
    edap = np.where(ev.feasible, ev.edap, np.inf)
    best = int(np.argmin(edap))  # first of ties = lexicographically smallest genome
    F = np.column_stack([aggregate(ev.energy_j, aggregation), aggregate(ev.latency_s, aggregation), ev.area_mm2])
    G, F = genomes[ev.feasible], F[ev.feasible]
    nd = moocore.is_nondominated(F, keep_weakly=True)
    front_F, first = np.unique(F[nd], axis=0, return_index=True)
    return dict(best_genome=genomes[best], best_edap=edap[best], n_feasible=int(ev.feasible.sum()),
                front_F=front_F, front_genomes=G[nd][first], n_designs=len(genomes))


def assert_same(result, expected: dict) -> None:
    np.testing.assert_array_equal(result.best_genome, expected["best_genome"])
    assert result.best_edap == expected["best_edap"]
    np.testing.assert_array_equal(result.front_F, expected["front_F"])
    np.testing.assert_array_equal(result.front_genomes, expected["front_genomes"])
    assert result.n_feasible == expected["n_feasible"]
    assert result.n_designs == expected["n_designs"]


@pytest.mark.parametrize("shortcuts", SHORTCUTS, ids=lambda s: f"expand={s['expand_base_latency']}-prune={s['prune']}")
@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_matches_brute_force(memory, shortcuts):
    expected = brute_force(memory)
    assert expected["n_feasible"] > 0 and len(expected["front_F"]) > 1
    result = exhaustive(problem(memory), chunk_size=1000, subspace=SUBSPACES[memory], **shortcuts)
    assert_same(result, expected)
    space = problem(memory).space
    np.testing.assert_array_equal(space.encode(result.best_design.to_frame().T)[0], result.best_genome)
    assert result.wall_time_s > 0 and result.designs_per_s == result.n_designs / result.wall_time_s


@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_the_bounded_model_matches_brute_force(memory):
    """Under the bounded model latency is no longer cycles x clock: the search evaluates every base latency (the
    expansion is off by itself) and still finds the brute-force optimum and front."""
    p = problem(memory, "max", "bounded")
    assert not p.latency_proportional_to_base_latency
    expected = brute_force(memory, "max", "bounded")
    assert expected["n_feasible"] > 0 and len(expected["front_F"]) > 1
    result = exhaustive(p, chunk_size=1000, subspace=SUBSPACES[memory])
    assert_same(result, expected)
    assert result.n_model_evals * 3 > result.n_designs / 10 or memory == "rram"  # nothing expanded


@pytest.mark.parametrize("aggregation", ["max", "mean", "sum", "geomean"])
@pytest.mark.parametrize("memory", ["rram", "sram"])
def test_base_latency_expansion_is_exact_for_every_aggregation(memory, aggregation):
    result = exhaustive(problem(memory, aggregation), chunk_size=5000, subspace=SUBSPACES[memory],
                        expand_base_latency=True, prune=False)
    assert_same(result, brute_force(memory, aggregation))
    assert result.n_model_evals == subspace_size(memory) // 3  # one cost-model run per three base latencies


@pytest.mark.parametrize("memory, chunk_sizes", [("rram", (50, 999, 10**6)), ("sram", (7, 100, 1000, 10**6))])
def test_chunk_size_does_not_change_results(memory, chunk_sizes):
    results = [exhaustive(problem(memory), chunk_size=c, subspace=SUBSPACES[memory]) for c in chunk_sizes]
    for r in results:
        assert_same(r, brute_force(memory))
        assert r.n_model_evals == results[0].n_model_evals


@pytest.mark.parametrize("expand", [True, False])
def test_chunks_stay_bounded(monkeypatch, expand):
    chunk_size = 200
    seen_rows = []
    original = WorkloadSetProblem.evaluate_genomes

    def counting(self, genomes):
        seen_rows.append(len(genomes))
        return original(self, genomes)

    monkeypatch.setattr(WorkloadSetProblem, "evaluate_genomes", counting)
    reports = []
    result = exhaustive(problem("sram"), chunk_size=chunk_size, subspace=SUBSPACES["sram"], progress=reports.append,
                        expand_base_latency=expand)
    assert max(seen_rows) <= chunk_size
    assert all(r.rows <= chunk_size for r in reports)
    assert [r.chunk for r in reports] == list(range(reports[0].n_chunks))
    assert reports[0].n_chunks == -(-subspace_size("sram") // (chunk_size // 3 * 3))
    assert sum(r.rows for r in reports) == reports[-1].designs_done == result.n_designs == subspace_size("sram")
    assert sum(r.model_evals for r in reports) == result.n_model_evals
    assert reports[-1].best_edap == result.best_edap and reports[-1].front_size == len(result.front_F)


def test_pruning_skips_the_cost_model_for_most_rram_designs():
    """The design-only constraints settle all but a small fraction of a sub-space without the cost model."""
    result = exhaustive(problem("rram"), subspace=SUBSPACES["rram"])
    assert result.n_model_evals * 3 < result.n_designs / 10


def test_front_frame_marks_the_optimum():
    p = problem("sram")
    result = exhaustive(p, subspace=SUBSPACES["sram"])
    df = result.front_frame(p)
    assert len(df) == len(result.front_F) and df["feasible"].all()
    np.testing.assert_array_equal(df[["energy_j", "latency_s", "area_mm2"]].to_numpy(), result.front_F)
    assert df["optimum"].sum() == 1
    assert df.loc[df["optimum"], "edap"].item() == result.best_edap == df["edap"].min()


def test_no_feasible_design():
    result = exhaustive(problem("rram"), subspace=INFEASIBLE)
    assert result.n_feasible == 0 and result.best_genome is None and result.best_design is None
    assert result.best_edap == np.inf and result.front_F.shape == (0, 3)
    assert result.front_genomes.shape == (0, problem("rram").space.n_var)
    assert result.front_frame(problem("rram")).empty


def test_audit_catches_a_wrong_shortcut(monkeypatch):
    monkeypatch.setattr(exhaustive_module, "EDAP_SCALE", exhaustive_module.EDAP_SCALE * (1 + 1e-12))
    with pytest.raises(ExhaustiveError, match="disagree"):
        exhaustive(problem("sram"), subspace=SUBSPACES["sram"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(chunk_size=5), "chunk_size=5 is below the 6 base latencies"),
    (dict(subspace={"bogus": [0]}), "unknown genes"),
    (dict(subspace={"voltage": [8]}), "voltage"),
    (dict(subspace={"voltage": [1, 1]}), "distinct"),
    (dict(subspace={"voltage": []}), "voltage"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exhaustive(problem("rram"), **kwargs)


def test_ties_keep_the_lexicographically_smallest_genome():
    G = np.array([[2, 0], [1, 5], [1, 3], [0, 0]])
    F = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [2.0, 2.0, 3.0]])
    front_G, front_F = _merge_front(G[:1], F[:1], G[1:], F[1:])
    np.testing.assert_array_equal(front_G, [[1, 3]])
    np.testing.assert_array_equal(front_F, [[1.0, 2.0, 3.0]])
    genome, edap = _lex_min_of_least(G, np.array([4.0, 4.0, 4.0, 5.0]))
    np.testing.assert_array_equal(genome, [1, 3])
    assert edap == 4.0


@pytest.mark.parametrize("memory, workloads, deployment, mix", [
    ("rram", "cnn4", "reprogram", {"inferences_per_switch": 1000, "shares": [0.4, 0.3, 0.2, 0.1]}),
    ("sram", ["resnet18", "mobilenet_v3"], "reprogram", {"inferences_per_switch": 10, "shares": [0.7, 0.3]}),
])
def test_deployment_and_mix_problems_match_brute_force(memory, workloads, deployment, mix):
    """With switching costs (latency no longer cycles x clock period) and unequal shares (a weighted mean), the
    exact search aggregates as the problem does and expands base latencies only where that is exact."""
    p = WorkloadSetProblem(workloads, memory, objectives="edap", aggregation="mean", deployment=deployment, mix=mix,
                           performance="reference")
    sub = SUBSPACES[memory]
    genomes = np.array(list(itertools.product(*(sorted(sub.get(n, range(c)))
                                               for n, c in zip(p.space.names, p.space.cardinalities)))))
    ev = p.evaluate_genomes(genomes)
    assert ev.feasible.any()
    edap = np.where(ev.feasible, ev.edap, np.inf)
    F = np.column_stack([p.aggregate(ev.energy_j), p.aggregate(ev.latency_s), ev.area_mm2])[ev.feasible]
    front_F = np.unique(F[moocore.is_nondominated(F, keep_weakly=True)], axis=0)
    result = exhaustive(p, chunk_size=1000, subspace=sub)
    assert result.best_edap == edap.min()
    np.testing.assert_array_equal(result.front_F, front_F)
