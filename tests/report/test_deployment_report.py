"""The report's deployment section (imc_moo.report.deployment): a run's identity from its record, the switching
shares of its best chip, and the table of winners per switching rate. The section on a real sweep is drawn in
tests/report/test_figures.py."""

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from imc_moo.report.deployment import deployment_table, deployment_winners, run_identity, switch_shares


def record(tmp_path, **problem):
    run = tmp_path / "0_run"
    (run / ".hydra").mkdir(parents=True)
    base = {"memory": "rram", "workloads": "cnn4", "deployment": None,
            "mix": {"shares": None, "inferences_per_switch": None}}
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml({"problem": {**base, **problem}}))
    return run


def test_a_null_deployment_is_the_memorys_and_never_switching_is_inf(tmp_path):
    ident = run_identity(record(tmp_path))
    assert ident == {"workloads": "cnn4", "memory": "rram", "deployment": "reprogram",
                     "inferences_per_switch": np.inf, "named": False}
    named = run_identity(record(tmp_path / "b", memory="sram", deployment="resident",
                                mix={"inferences_per_switch": 100}))
    assert (named["deployment"], named["inferences_per_switch"], named["named"]) == ("resident", 100.0, True)


def test_a_run_without_a_readable_record_has_no_identity(tmp_path):
    assert run_identity(tmp_path) is None
    run = record(tmp_path)
    (run / ".hydra" / "config.yaml").write_text("problem: [damaged\n")
    assert run_identity(run) is None


def test_switch_shares_are_of_the_first_fronts_row_summed_over_networks():
    front = pd.DataFrame({"switch_energy_j": [1.0, 9.0], "energy_j_a": [4.0, 1.0], "energy_j_b": [6.0, 1.0],
                          "switch_energy_j_a": [1.0, 0.0], "switch_energy_j_b": [1.5, 0.0],
                          "latency_s_a": [2.0, 1.0], "switch_latency_s_a": [1.0, 0.0]})
    assert switch_shares(front) == pytest.approx((0.25, 0.5))
    assert switch_shares(None) == (0.0, 0.0)
    assert switch_shares(front.drop(columns="switch_energy_j")) == (0.0, 0.0)


def test_the_winner_is_the_least_median_edap_and_a_dash_where_nothing_was_feasible():
    runs = pd.DataFrame({
        "workloads": "cnn4", "memory": ["rram", "rram", "sram", "rram", "sram"],
        "deployment": ["resident", "resident", "stream", "reprogram", "stream"],
        "inferences_per_switch": [10.0, 10.0, 10.0, 10.0, np.inf], "feasible": [True, True, True, False, True],
        "edap": [1.0, 3.0, 2.5, np.nan, 2.0], "violated": ["", "", "", "endurance", ""],
        "energy_j": 1.0, "latency_s": 1.0, "area_mm2": 1.0, "switch_energy_share": 0.0,
        "switch_delay_share": 0.0, "bits_per_cell": 1, "xbar_rows": 128, "xbar_cols": 128, "macros": 8,
        "glb_mib": 1.0})
    table = deployment_table(runs)
    reprogram = table[table.deployment == "reprogram"].iloc[0]
    assert np.isnan(reprogram.edap_median) and reprogram.violated == "endurance"
    assert table[table.deployment == "resident"].edap_median.item() == 2.0  # median of 1 and 3
    winners = deployment_winners(table).set_index("inferences_per_switch")
    assert winners.loc["10", "winner"] == "RRAM resident"
    assert winners.loc["never", "winner"] == "SRAM stream"
