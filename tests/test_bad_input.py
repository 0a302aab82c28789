"""The bad-input catalogue: every case gives one readable line naming the problem (the key) and the fix, exit
code 2, no traceback, and no run directory. Grow it with every new case.

The command line runs in-process (``imc_moo.experiment.cli`` checks a single run's config before Hydra starts),
so the catalogue stays fast; ``test_app.py`` runs a few of these as real subprocesses."""

from __future__ import annotations

import sys

import pytest

from imc_moo import experiment

#: (command-line arguments, text the error line must contain)
CATALOGUE = [
    # wrong types, rejected by the typed schemas at composition, naming the key
    (["plots=maybe"], "plots: Value 'maybe' is not a valid bool"),
    (["progress=sometimes"], "progress: Value 'sometimes' is not a valid bool"),
    (["algorithm.pop_size=abc"], "algorithm.pop_size: Value 'abc' of type 'str' could not be converted to Integer"),
    (["problem.area_limit_mm2=abc"], "problem.area_limit_mm2: Value 'abc'"),
    (["budget=abc"], "budget: Value 'abc'"),
    (["seed=1.5"], "seed: Value '1.5'"),
    (["space.xbar_rows=[64,big]"], "space.xbar_rows[1]: Value 'big'"),
    (["algorithm.phases=[{name:x}]"], "crossover_prob: Missing mandatory value"),
    (["algorithm=nsga3", "algorithm.n_partitions=many"], "algorithm.n_partitions"),
    # unknown keys and options
    (["problem.foo=1"], "unknown key 'problem.foo': the valid keys of problem are name, memory, workloads"),
    (["no_such_key=1"], "unknown key 'no_such_key'"),
    # a typo gets the closest keys first; '+key=value' (which Hydra appends past the types) is refused too
    (["budgt=100"], "unknown key 'budgt' (did you mean budget?): the valid keys are budget, seed"),
    (["+budgt=100"], "unknown key 'budgt' (did you mean budget?)"),
    (["problem.aggregaton=mean"], "unknown key 'problem.aggregaton' (did you mean aggregation?)"),
    (["+problem.foo=1"], "unknown key 'problem.foo'"),
    (["algorithm.popsize=3"], "unknown key 'algorithm.popsize' (did you mean pop_size?)"),
    (["+space.xbar=[1]"], "unknown key 'space.xbar' (did you mean xbar_rows or xbar_cols?)"),
    (["algorithm=simulated_annealing"], "Could not find 'algorithm/simulated_annealing'"),
    (["problem=rram_cnn5"], "Could not find 'problem/rram_cnn5'"),
    (["space=flash"], "Could not find 'space/flash'"),
    (["algorithm=specialized", "algorithm.inner=sequential"], "inner='sequential' is a baseline"),
    (["algorithm=specialized", "algorithm.inner=annealing"], "unknown algorithm 'annealing'"),
    (["algorithm=specialized", "algorithm.inner_knobs={popsize:20}"], "unknown option(s) popsize"),
    # values out of range or unknown to the model
    (["budget=0"], "budget must be a positive number of designs"),
    (["budget=-5"], "budget must be a positive number of designs"),
    (["problem.area_limit_mm2=0"], "area_limit_mm2 must be a positive number"),
    (["problem.memory=dram"], "unknown memory 'dram'"),
    (["problem.objectives=speed"], "unknown objectives 'speed'"),
    (["problem.aggregation=median"], "unknown aggregation 'median'"),
    (["space.xbar_rows=[64,1024]"], "space.xbar_rows=1024 is outside what the RRAM cost model covers"),
    (["space.glb_mib=[3]"], "space.glb_mib=3 is outside"),
    (["space.voltage=[0.2]"], "space.voltage=0.2 is outside"),
    (["space.technology_nm=[65]"], "space.technology_nm=65 is outside"),
    (["space.bits_per_cell=[2]", "problem=sram_cnn4"], "space.bits_per_cell=2 is outside what the SRAM"),
    (["space.router_group=[]"], "space.router_group is empty"),
    (["space=sram"], "design space 'sram' is for sram, not rram"),
    (["algorithm.pop_size=1"], "pop_size must be >= 2"),
    (["algorithm=nsga3", "algorithm.pop_size=10", "problem.objectives=eda"], "must be >= the 78 reference"),
    # workloads
    (["problem.workloads=[resnet19]"], "unknown workload 'resnet19'"),
    (["problem.workloads=[]"], "empty workload set"),
    (["problem.workloads=[/no/such/net.yaml]"], "network file not found"),
    (["problem.library_dirs=[/no/such/dir]"], "is not a directory"),
]


def run_cli(argv, capsys) -> tuple[int, list[str]]:
    """``imc-moo argv...`` in-process, expected to stop before Hydra starts: (exit code, non-empty stderr lines)."""
    saved, sys.argv = sys.argv, ["imc-moo", *argv]
    try:
        with pytest.raises(SystemExit) as exit_info:
            experiment.cli()
    finally:
        sys.argv = saved
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return exit_info.value.code, [line for line in err.splitlines() if line.strip()]


def cli_error(args, tmp_path, capsys, run_dir=None) -> str:
    run_dir = run_dir or tmp_path / "run"
    code, lines = run_cli([*args, f"hydra.run.dir={run_dir}"], capsys)
    assert code == 2, lines
    if run_dir == tmp_path / "run":
        assert not run_dir.exists(), "a bad input must not leave a run directory"
    assert len(lines) == 1 and lines[0].startswith("imc-moo: error: "), lines
    return lines[0]


@pytest.mark.parametrize("args, needle", CATALOGUE, ids=[" ".join(a) for a, _ in CATALOGUE])
def test_bad_input_gives_one_line_naming_it(tmp_path, capsys, args, needle):
    assert needle in cli_error(args, tmp_path, capsys)


def test_no_means_false_not_true():
    """OmegaConf reads yes/no as booleans: problem.weights_on_chip=no switches the capacity check off (it used to
    be read as the string 'no', i.e. true)."""
    cfg = experiment.compose_config(["problem.weights_on_chip=no"])
    problem, _, _ = experiment.build(cfg)
    assert cfg.problem.weights_on_chip is False and problem.weights_on_chip is False
    assert problem.n_ieq_constr == 2  # area and unmappable workloads only


def test_a_layer_too_large_for_64_bit_counts_is_refused(tmp_path, capsys):
    """C = M = P = Q = 10^6 used to overflow int64 silently into negative latency and EDAP."""
    net = tmp_path / "huge.yaml"
    net.write_text("name: huge\nlayers:\n  - {name: big, C: 1000000, M: 1000000, R: 1, S: 1, P: 1000000, Q: 1000000}\n")
    line = cli_error([f"problem.workloads=[{net}]"], tmp_path, capsys)
    assert "huge.yaml: layer 0 ('big'): 1e+24 multiply-accumulates" in line and "check the layer shape" in line


def test_earlier_results_are_not_overwritten(tmp_path, capsys):
    done = tmp_path / "done"
    done.mkdir()
    for name in ("best.json", "archive.csv", "pareto.png"):
        (done / name).write_text(f"earlier {name}")
    before = {p.name: p.read_bytes() for p in done.iterdir()}
    line = cli_error([], tmp_path, capsys, run_dir=done)
    assert "already holds the results of a run (archive.csv, pareto.png, best.json)" in line
    assert "overwrite=true" in line
    assert {p.name: p.read_bytes() for p in done.iterdir()} == before  # not a byte changed, nothing added


SWEEP_CATALOGUE = [
    (["algorithm=nope,nsga2"], "Could not find 'algorithm/nope'"),
    (["budgt=1,2"], "unknown key 'budgt' (did you mean budget?)"),
    (["seed=range(0,3)", "plots=maybe"], "plots: Value 'maybe' is not a valid bool"),
    (["problem=rram_cnn4,sram_cnn5"], "Could not find 'problem/sram_cnn5'"),
    (["algorithm.pop_size=10,abc"], "algorithm.pop_size: Value 'abc'"),
]


@pytest.mark.parametrize("args, needle", SWEEP_CATALOGUE, ids=[" ".join(a) for a, _ in SWEEP_CATALOGUE])
def test_a_sweep_with_a_bad_input_for_every_job_stops_before_any_job(tmp_path, capsys, args, needle):
    sweep_dir = tmp_path / "sweep"
    code, lines = run_cli(["-m", *args, f"hydra.sweep.dir={sweep_dir}"], capsys)
    assert code == 2 and len(lines) == 1 and needle in lines[0], lines
    assert not sweep_dir.exists()


def test_an_unwritable_sweep_directory_is_one_line(capsys):
    code, lines = run_cli(["-m", "seed=0,1", "hydra.sweep.dir=/proc/imc_moo_sweep"], capsys)
    assert code == 2 and len(lines) == 1 and "cannot create the sweep directory" in lines[0]
