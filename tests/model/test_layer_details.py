"""The per-layer mapping columns (``details=True`` of :func:`imc_moo.model.api.evaluate_set_layers` and
``evaluate_layers``): consistent with each other, with the chip and with the network totals, for every way of
holding the weights (streamed, one network's, the whole set's) and both performance models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imc_moo.model.api import LAYER_DETAILS, evaluate_layers, evaluate_set, evaluate_set_layers
from imc_moo.model.cost import ENERGY_COMPONENTS
from imc_moo.model.performance import BOUNDS, SPILL_COMPONENT
from imc_moo.problem import WorkloadSetProblem

#: (memory, networks, weight holding, performance model); an SRAM chip of the space holds cnn4's four networks at
#: once too rarely, so the set held at once is the deployment guide's pair
CASES = [("rram", "cnn4", "network", "bounded"), ("rram", "cnn4", "set", "bounded"),
         ("sram", "cnn4", "streamed", "bounded"), ("sram", "cnn4", "network", "bounded"),
         ("sram", "resnet18+mobilenet_v3", "set", "bounded"), ("rram", "cnn4", "network", "reference"),
         ("sram", "cnn4", "streamed", "reference")]


@pytest.mark.parametrize("memory, workloads, holding, performance", CASES, ids=["-".join(c) for c in CASES])
def test_the_mapping_columns_are_consistent_with_the_chip_and_the_totals(memory, workloads, holding, performance):
    problem = WorkloadSetProblem(workloads.split("+"), memory)
    d = problem.designs(problem.space.sample(300, np.random.default_rng(3)))
    broken = evaluate_set_layers(d, problem.networks, performance=performance, holding=holding, details=True)
    fast = evaluate_set(d, problem.networks, problem._theta, performance=performance, holding=holding)
    held = performance == "bounded" and holding != "streamed"
    macros = d.n_macros.astype(float)
    on_chip = np.zeros(d.n)
    fits_all = np.ones(d.n, dtype=bool)
    for w, (net, (r, L)) in enumerate(zip(problem.networks, broken)):
        assert set(LAYER_DETAILS) <= set(L) and all(L[k].shape == (d.n, net.n_layers) for k in L)
        # the network's numbers are the tabulated path's
        np.testing.assert_allclose(r.energy_j, fast.energy_j[:, w], rtol=1e-9)
        np.testing.assert_allclose(r.latency_s, fast.latency_s[:, w], rtol=1e-9)
        np.testing.assert_array_equal(r.valid, fast.valid[:, w])
        # the layers sum to the network: energy by component, time before the power limit stretches the inference
        parts = [L[f"energy_{k}_j"] for k in (*ENERGY_COMPONENTS, SPILL_COMPONENT) if f"energy_{k}_j" in L]
        np.testing.assert_allclose(np.sum(parts, axis=0), L["energy_j"], rtol=1e-12)
        np.testing.assert_allclose(L["energy_j"].sum(axis=1), r.energy_j, rtol=1e-9)
        if performance == "bounded":
            np.testing.assert_allclose(L["latency_s"].sum(axis=1), r.timing.time_s, rtol=1e-12)
            assert (r.latency_s >= r.timing.time_s * (1 - 1e-12)).all()
            assert set(np.unique(L["bound"])) <= set(range(len(BOUNDS)))
        else:
            np.testing.assert_allclose(L["latency_s"].sum(axis=1), r.latency_s, rtol=1e-12)
            np.testing.assert_array_equal(L["copies"], L["reference_copies"])
            np.testing.assert_array_equal(L["reads"], L["cycles"])
        # the mapping: one copy spans row groups x column groups x groups; copies at most the reference's
        np.testing.assert_array_equal(L["crossbars_per_copy"], L["row_groups"] * L["col_groups"] * net.G[None, :])
        assert (L["copies"] >= 1).all() and (L["copies"] <= L["reference_copies"]).all()
        assert (L["weight_tiles"] >= 1).all() and (L["macs"] == net.macs[None, :]).all()
        np.testing.assert_array_equal(L["weight_cells"], net.weights[None, :] * d.weight_slices[:, None])
        assert ((L["cell_fill"] > 0) & (L["cell_fill"] <= 1)).all()
        np.testing.assert_allclose(L["crossbar_share"], L["crossbars"] / macros[:, None], rtol=1e-15)
        if held:  # replicas x crossbars per replica, every layer of the held networks on the chip at once
            np.testing.assert_array_equal(L["crossbars"], L["copies"] * L["crossbars_per_copy"])
            fits = r.timing.fits
            fits_all &= fits
            total = L["crossbars"].sum(axis=1)
            if holding == "network":
                assert (total[fits] <= macros[fits]).all()
            on_chip += total
            # a valid design maps every held layer's weights in space
            assert (L["weight_tiles"][r.valid] == 1).all()
        else:  # each layer alone on the chip (streamed, or the reference model's replication)
            assert (L["crossbars"] <= macros[:, None]).all()
            assert (L["crossbars"] >= L["copies"]).all()
    if held and holding == "set":
        assert (on_chip[fits_all] <= macros[fits_all]).all() and fits_all.any()


def test_evaluate_layers_adds_the_details_and_keeps_its_columns():
    s = WorkloadSetProblem("alexnet", "sram").space
    designs = s.decode(s.sample(7, np.random.default_rng(8)))
    plain = evaluate_layers(designs, "alexnet", "sram")
    detailed = evaluate_layers(designs, "alexnet", "sram", details=True)
    assert list(plain.columns) == ["design_id", "workload", "layer", "energy_j", "latency_s", "cycles", "mappable",
                                   "bound", "reads", "copies", *(f"{r}_s" for r in BOUNDS)]
    pd.testing.assert_frame_equal(detailed[list(plain.columns)], plain)
    assert set(LAYER_DETAILS) <= set(detailed.columns)
    energy = [c for c in detailed.columns if c.startswith("energy_") and c != "energy_j"]
    assert "energy_dram_j" in energy and "energy_dram_activations_j" in energy  # SRAM streams its weights
    np.testing.assert_allclose(detailed[energy].sum(axis=1), detailed["energy_j"], rtol=1e-12)
    resident = evaluate_layers(designs, "alexnet", "sram", details=True, holding="network")
    assert (resident["crossbars"] == resident["copies"] * resident["crossbars_per_copy"]).all()


def test_an_unknown_weight_holding_is_one_line():
    s = WorkloadSetProblem("alexnet", "rram").space
    designs = s.decode(s.sample(2, np.random.default_rng(8)))
    with pytest.raises(ValueError, match="unknown weight holding 'always': use one of streamed, network, set"):
        evaluate_layers(designs, "alexnet", "rram", holding="always")
