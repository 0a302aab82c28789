"""Choosing designs from a front (``imc-moo-select``, :func:`imc_moo.report.select`): conditions on any column,
ranking by a column or by the knee, the first N, a sweep's runs pooled, the CSV written; on constructed tables (a
front whose knee is known) and on real small runs."""

from __future__ import annotations

import shutil
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imc_moo.files import csv_text
from imc_moo.report import NothingSelected, SelectError, select
from imc_moo.report.selection import Condition, knee_distance, main, quantity_text, table_text, unit_of

ROOT = Path(__file__).resolve().parents[2]
#: A small sweep with fronts of 20-35 designs per run (about 2 s; shared with tests/faults/test_select_faults.py).
SWEEP = ("problem=sram_cnn4", "algorithm=random", "seed=0,1,2", "budget=200", "plots=false", "progress=false")


@pytest.fixture(scope="module")
def sweep(finished_sweep_of) -> Path:
    return finished_sweep_of(*SWEEP)


@pytest.fixture(scope="module")
def run(sweep) -> Path:
    return next(sweep.glob("0_*"))


def _table() -> pd.DataFrame:
    """Six designs: one infeasible, one without a power, two bounds."""
    return pd.DataFrame({
        "problem": "p", "algorithm": "a", "seed": 0, "label": "a",
        "design_id": [10, 11, 12, 13, 14, 15],
        "energy_j": [1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 1e-4],
        "latency_s": [5e-6, 4e-6, 3e-6, 2e-6, 1e-6, 1e-7],
        "area_mm2": [100.0, 90.0, 300.0, 80.0, 70.0, 10.0],
        "edap": [0.5, 0.72, 2.7, 0.64, 0.35, 1e-4],
        "power_w": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
        "feasible": [True, True, True, True, True, False],
        "bound": ["pulses", "glb", "pulses", "glb", "pulses", "pulses"],
    })


def ids(frame: pd.DataFrame) -> list[int]:
    return frame["design_id"].tolist()


# ---------------------------------------------------------------------------------------------------- conditions
def test_conditions_on_numbers_booleans_and_text():
    t = _table()
    assert ids(select(t)) == [14, 10, 13, 11, 12]  # feasible only, least edap first
    assert ids(select(t, ["latency_s<3e-6"])) == [14, 13]
    assert ids(select(t, ["latency_s<=3e-6"])) == [14, 13, 12]
    assert ids(select(t, ["area_mm2>90"])) == [10, 12]
    assert ids(select(t, ["area_mm2>=90", "area_mm2 != 300"])) == [10, 11]
    assert ids(select(t, ["design_id==13"])) == [13]
    assert ids(select(t, "bound==glb")) == [13, 11]  # one condition as a string
    assert ids(select(t, ["bound!=glb"])) == [14, 10, 12]
    assert ids(select(t, ["energy_j<2.5E-3", "latency_s > 4.5e-6"])) == [10]
    # a design without a value passes no condition on it, not even !=
    assert 12 not in ids(select(t, ["power_w!=3"])) and 12 not in ids(select(t, ["power_w<10"]))
    # feasible designs only, unless a condition names feasible
    assert ids(select(t, ["feasible==false"])) == [15]
    assert ids(select(t, ["feasible!=false", "bound==pulses"])) == [14, 10, 12]
    assert ids(select(t, ["feasible==True"], minimize="energy_j")) == [10, 11, 12, 13, 14]


def test_a_pooled_boolean_read_as_text_compares_as_boolean():
    t = _table().astype({"feasible": object})
    t["feasible"] = t["feasible"].map(str)  # "True"/"False", as a header-only table pooled with others reads
    assert ids(select(t, ["feasible==false"])) == [15] and len(select(t)) == 5


@pytest.mark.parametrize("text, column, op, value", [
    ("latency_s<1e-5", "latency_s", "<", "1e-5"), (" area_mm2 <= 200 ", "area_mm2", "<=", "200"),
    ("bound=='pulses'", "bound", "==", "pulses"), ("seed!=3", "seed", "!=", "3"), ("edap>=1E+4", "edap", ">=", "1E+4"),
])
def test_conditions_parse(text, column, op, value):
    c = Condition.parse(text)
    assert (c.column, c.op, c.value) == (column, op, value)


@pytest.mark.parametrize("condition, needle", [
    ("latency", "is not a condition: write COLUMN<VALUE"),
    ("latency_s<", "is not a condition"),
    ("latency_s=1e-5", "did you mean 'latency_s==1e-5'?"),
    ("latency_s=<1e-5", "did you mean 'latency_s<=1e-5'?"),
    ("latncy_s<1e-5", "unknown column 'latncy_s' in the table (did you mean latency_s?)"),
    ("latency_s<10us", "10us is not a number: values are plain numbers in the column's SI unit (s), with an exponent "
                       "where needed: 'latency_s<1e-05'"),
    ("energy_j<5mJ", "'energy_j<0.005'"),
    ("area_mm2<200mm2", "'area_mm2<200'"),
    ("area_mm2<big", "big is not a number"),
    ("latency_s<nan", "nan is not a number"),
    ("bound<3", "bound is a text column: compare it with == or != (e.g. 'bound==pulses')"),
    ("feasible>0", "feasible is a true/false column"),
    ("feasible==maybe", "feasible is true or false, not maybe"),
])
def test_a_bad_condition_names_the_fix(condition, needle):
    with pytest.raises(SelectError) as err:
        select(_table(), [condition])
    assert needle in str(err.value) and not isinstance(err.value, NothingSelected)


def test_nothing_passing_says_which_condition_removed_the_last_designs():
    with pytest.raises(NothingSelected) as err:
        select(_table(), ["area_mm2<200", "latency_s<1.5e-6", "bound==glb"])
    assert str(err.value) == (
        "no design passes the conditions: of the 6 designs in the table, 5 feasible; area_mm2<200 keeps 4; "
        "latency_s<1.5e-6 keeps 1; bound==glb keeps none (their bound: pulses): check the value")
    with pytest.raises(NothingSelected, match=r"latency_s<1e-9 keeps none \(their latency_s: 1 µs to 5 µs\): "
                                              r"relax it"):
        select(_table(), ["latency_s<1e-9"])
    with pytest.raises(NothingSelected, match="none of the 2 designs in the table is feasible"):
        select(_table().assign(feasible=False).head(2))
    with pytest.raises(NothingSelected, match="holds no design"):
        select(_table().head(0))


# ---------------------------------------------------------------------------------------------------- ranking
def test_minimize_maximize_and_top():
    t = _table()
    assert ids(select(t, minimize="energy_j")) == [10, 11, 12, 13, 14]
    assert ids(select(t, maximize="area_mm2", top=2)) == [12, 10]
    assert ids(select(t, minimize="power_w")) == [10, 11, 13, 14, 12]  # no value: last
    assert ids(select(t, maximize="power_w")) == [14, 13, 11, 10, 12]
    assert ids(select(t.assign(edap=1.0))) == [10, 11, 12, 13, 14]  # ties keep the table's order
    assert ids(select(t, top=1)) == [14] and len(select(t, top=100)) == 5
    with pytest.raises(SelectError, match="cannot rank by bound"):
        select(t, minimize="bound")
    with pytest.raises(SelectError, match="unknown column to rank by 'energy' .*did you mean energy_j"):
        select(t, minimize="energy")
    with pytest.raises(SelectError, match="not several"):
        select(t, minimize="edap", knee=True)
    for top in (0, -1, 1.5, True):
        with pytest.raises(SelectError, match="top must be a positive number"):
            select(t, top=top)


# ---------------------------------------------------------------------------------------------------- the knee
#: A front in (energy, latency, area) whose knee is known: three extremes, designs near the edges, and (3, 3, 3),
#: far better in every objective than anything else that is not extreme in one; plus a design it dominates.
FRONT = np.array([[1, 1000, 1000], [1000, 1, 1000], [1000, 1000, 1], [2, 100, 100], [100, 2, 100], [100, 100, 2],
                  [2.5, 10, 1000], [10, 1000, 2.5], [3, 3, 3]], dtype=float)
DOMINATED = np.array([[4, 4, 4]], dtype=float)


def _front_table(points: np.ndarray) -> pd.DataFrame:
    e, d, a = points.T
    return pd.DataFrame({"design_id": np.arange(len(points)), "energy_j": e * 1e-3, "latency_s": d * 1e-6,
                         "area_mm2": a, "edap": e * d * a * 1e-3, "feasible": True})


def test_knee_distance_is_the_distance_to_the_ideal_on_log_normalised_objectives():
    got = knee_distance(FRONT)
    z = np.log10(FRONT) / 3  # each objective spans 1 to 1000 on this front
    np.testing.assert_allclose(got, np.sqrt((z ** 2).sum(axis=1)))
    assert got.argmin() == 8 and got[8] == pytest.approx(np.sqrt(3) * np.log10(3) / 3)
    assert knee_distance(FRONT[[3]]) == pytest.approx([0.0])  # one design: it is its own ideal
    np.testing.assert_allclose(knee_distance(np.c_[FRONT[:, :2], np.full(len(FRONT), 7.0)]),  # a constant objective
                               knee_distance(FRONT[:, :2]))


def test_the_knee_of_a_known_front():
    table = _front_table(np.vstack([FRONT, DOMINATED]))
    knee = select(table, knee=True)
    assert ids(knee)[0] == 8 and knee["knee_distance"].iloc[0] == pytest.approx(np.sqrt(3) * np.log10(3) / 3)
    assert 9 not in ids(knee) and len(knee) == len(FRONT)  # only the front is ranked: the dominated design is out
    assert knee["knee_distance"].is_monotonic_increasing
    # the same knee whatever the units, and under a power of an objective (log scale, min-max normalised)
    assert ids(select(table.assign(energy_j=table.energy_j * 1e6, area_mm2=table.area_mm2 ** 2), knee=True,
                      top=1)) == [8]
    # the knee of the designs that pass the conditions: without it, the next closest to their own ideal
    rest = select(table, ["design_id!=8"], knee=True, top=1)
    assert ids(rest) == [9]  # (4, 4, 4) is on the front of the designs left
    assert ids(select(table, ["design_id!=8", "design_id!=9"], knee=True, top=1))[0] in (3, 4, 5)


def test_the_knee_keeps_equal_designs_and_leaves_out_designs_without_objectives():
    table = _front_table(np.vstack([FRONT, FRONT[[8]]]))  # the knee twice (the same design in two runs)
    assert ids(select(table, knee=True, top=2)) == [8, 9]
    gap = _front_table(FRONT).assign(latency_s=lambda t: t.latency_s.where(t.design_id != 8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ids(select(gap, knee=True, top=1)) != [8]
    assert any("left out of the knee" in str(w.message) for w in caught)


# ---------------------------------------------------------------------------------------------------- formatting
def test_units_per_column():
    assert unit_of("energy_j") == ("J", "munp") and unit_of("energy_j_resnet18")[0] == "J"
    assert unit_of("latency_s")[0] == "s" and unit_of("base_latency_s")[0] == "s"
    assert unit_of("tops_per_w")[0] == "TOPS/W" and unit_of("power_w")[0] == "W"
    assert unit_of("power_density_w_per_mm2")[0] == "W/mm²" and unit_of("throughput_per_s_vgg16")[0] == "1/s"
    assert unit_of("area_mm2")[0] == "mm²" and unit_of("p1_area_mm2")[0] == "mm²" and unit_of("edap")[0] == "mJ·ms·mm²"
    assert unit_of("g_area") == ("", "") and unit_of("xbar_rows") == ("", "")
    assert quantity_text(7.826e-3, "latency_s") == "7.826 ms" and quantity_text(2.5e-8, "latency_s") == "25 ns"
    text = table_text(_table()[["design_id", "energy_j", "latency_s", "area_mm2", "power_w", "bound"]])
    header, units, first, *_ = text.splitlines()
    assert header.split() == ["design_id", "energy_j", "latency_s", "area_mm2", "power_w", "bound"]
    assert units.split() == ["[mJ]", "[µs]", "[mm²]", "[W]"]
    assert first.split() == ["10", "1.000", "5.000", "100.0", "1.000", "pulses"]
    assert "—" in text  # the missing power
    at = header.index("bound")  # fixed width: the numbers right-aligned under their names, text left-aligned
    assert len({len(line[:at].rstrip()) for line in text.splitlines()}) == 1
    assert {line[at:at + 3] for i, line in enumerate(text.splitlines()) if i != 1} == {"bou", "pul", "glb"}


# ---------------------------------------------------------------------------------------------------- real runs
def test_a_run_directory(run):
    front = pd.read_csv(run / "pareto.csv")
    cut = float(front.latency_s.median())
    chosen = select(run, [f"latency_s<{cut!r}"], minimize="energy_j")
    expected = front[front.latency_s < cut].sort_values("energy_j", kind="stable")
    assert ids(chosen) == ids(expected) and len(chosen) > 1
    assert list(chosen.columns) == list(front.columns)
    assert ids(select(run)) == ids(front)  # pareto.csv is sorted by EDAP already
    archive = select(run, table="archive", minimize="eval_order")
    everything = pd.read_csv(run / "archive.csv")
    assert ids(archive) == ids(everything[everything.feasible])
    knee = select(run, knee=True, top=1)
    distance = knee_distance(front[["energy_j", "latency_s", "area_mm2"]].to_numpy())
    assert ids(knee) == [front.design_id.iloc[distance.argmin()]]
    assert ids(select(run, table="archive", knee=True, top=1)) == ids(knee)  # the archive's front is pareto.csv's


def test_a_sweep_pools_its_complete_runs(sweep, tmp_path):
    fronts = {p.parent.name: pd.read_csv(p) for p in sorted(sweep.glob("*/pareto.csv"))}
    pooled = select(sweep)
    assert len(fronts) == 3 and len(pooled) == sum(len(f) for f in fronts.values())
    assert list(pooled.columns[:6]) == ["run", "problem", "algorithm", "seed", "label", "design_id"]
    assert pooled["edap"].is_monotonic_increasing
    for name, front in fronts.items():
        mine = pooled[pooled.run == name]
        assert set(mine.design_id) == set(front.design_id) and set(mine.seed) == {front.seed.iloc[0]}
    # the knee of the pooled designs: of their common front (designs of one run dominate some of another's)
    knee = select(sweep, knee=True)
    assert 0 < len(knee) < len(pooled) and knee.knee_distance.is_monotonic_increasing
    # an incomplete run is skipped, with a note
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    (copy / "1_sram_cnn4_random_seed1" / "best.json").unlink()
    with pytest.warns(UserWarning, match="skipped 1 of 3 runs .*1_sram_cnn4_random_seed1 \\(no best.json"):
        assert set(select(copy).run) == {"0_sram_cnn4_random_seed0", "2_sram_cnn4_random_seed2"}


def test_the_command_writes_what_the_python_api_returns(run, tmp_path, capsys):
    front = pd.read_csv(run / "pareto.csv")
    cut = float(front.latency_s.quantile(0.75))
    conditions = [f"latency_s<{cut!r}", f"area_mm2<{float(front.area_mm2.max())!r}"]
    out = tmp_path / "chosen.csv"
    assert main([str(run), *conditions, "--minimize", "energy_j", "--top", "3", "-o", str(out)]) == 0
    expected = select(run, conditions, minimize="energy_j", top=3)
    assert out.read_text() == csv_text(expected)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"pareto.csv of {run}: {len(front)} designs, {len(front)} feasible; {conditions[0]}:")
    assert printed[1].startswith("least energy_j first; 3 of ") and printed[1].endswith(f"every column in {out}")
    assert printed[3].split() == ["design_id", "energy_j", "latency_s", "area_mm2", "edap", "power_w"]
    assert printed[4].split()[:3] == ["[mJ]", "[ms]", "[mm²]"]
    assert [int(line.split()[0]) for line in printed[5:]] == ids(expected)
    # an existing file is refused (nothing changes), replaced with --force
    before = out.read_text()
    assert main([str(run), "--knee", "-o", str(out)]) == 2
    assert "exists (an earlier selection?): add --force" in capsys.readouterr().err and out.read_text() == before
    assert main([str(run), "--knee", "-o", str(out), "--force"]) == 0
    assert out.read_text() == csv_text(select(run, knee=True, top=1))
    # intermixed: conditions after options too; --top all
    assert main([str(run), "--top", "all", "-o", str(tmp_path / "all.csv"), "feasible==true"]) == 0
    assert len(pd.read_csv(tmp_path / "all.csv")) == len(front)


def test_the_default_output_is_selected_csv_in_the_directory(sweep, tmp_path, capsys):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    assert main([str(copy), "--knee", "--top", "2"]) == 0
    written = pd.read_csv(copy / "selected.csv")
    assert len(written) == 2 and list(written.columns[:2]) == ["run", "problem"]
    assert written.columns[-1] == "knee_distance"
    out = capsys.readouterr().out
    assert "closest to the knee" in out and f"every column in {copy / 'selected.csv'}" in out


def test_the_entry_point_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["imc-moo-select"] == "imc_moo.entry:imc_moo_select"
    from imc_moo import entry

    assert callable(entry.imc_moo_select)
