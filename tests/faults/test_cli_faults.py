"""Command-line values: wrong types, unknown keys and options, out-of-range values, workloads; an earlier run's
results and an unwritable directory. Each bad input is one ``imc-moo: error:`` line naming the key and the fix, exit
status 2, nothing written and no earlier result touched (``cli.error``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from imc_moo.app import experiment

ROOT = Path(__file__).resolve().parents[2]


#: (command-line arguments, text the error line must contain)
CATALOGUE = [
    # wrong types, rejected by the typed schemas at composition, naming the key
    (["plots=maybe"], "plots: Value 'maybe' is not a valid bool"),
    (["progress=sometimes"], "progress: Value 'sometimes' is not a valid bool"),
    (["algorithm.pop_size=abc"], "algorithm.pop_size: Value 'abc' of type 'str' could not be converted to Integer"),
    (["problem.area_limit_mm2=abc"], "problem.area_limit_mm2: Value 'abc'"),
    (["budget=abc"], "budget: Value 'abc'"),
    (["seed=1.5"], "seed: Value '1.5'"),
    (["seed=-1"], "seed must be an integer from 0 to 4,294,967,295, got -1"),
    # Python's own refusal (more than 4,300 digits) named no key
    (["seed=" + "9" * 5000], "seed: a 5,000-digit number is not a value of any key"),
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
    # a baseline's inner search: the node algorithm.inner, chosen by the group override algorithm@algorithm.inner
    (["algorithm=specialized", "algorithm@algorithm.inner=sequential"],
     "inner search 'sequential' is a baseline: a baseline's inner search must be a pymoo algorithm, e.g. phased_ga "
     "(command line: algorithm@algorithm.inner=phased_ga)"),
    (["algorithm=largest_workload", "algorithm@algorithm.inner=annealing"], "Could not find 'algorithm/annealing'"),
    (["algorithm=specialized", "algorithm.inner.popsize=20"],
     "unknown key 'algorithm.inner.popsize' (did you mean pop_size?): the valid keys of algorithm.inner are"),
    (["algorithm=specialized", "+algorithm.inner.popsize=20"], "unknown key 'algorithm.inner.popsize'"),
    (["algorithm=specialized", "algorithm.inner.pop_size=abc"], "algorithm.inner.pop_size: Value 'abc'"),
    (["algorithm=nsga2", "algorithm@algorithm.inner=nsga2"],
     "algorithm@algorithm.inner: this algorithm has no inner search; the baselines specialized and largest_workload"),
    # the forms of 0.1.0 name the new ones
    (["algorithm=specialized", "algorithm.inner=nsga2"],
     "algorithm.inner=nsga2: the inner search is a config node: choose it with algorithm@algorithm.inner=nsga2, "
     "set its options with algorithm.inner.<option>=..."),
    (["algorithm=specialized", "algorithm.inner_knobs={pop_size:20}"],
     "unknown key 'algorithm.inner_knobs': a baseline's inner search is the node algorithm.inner: set its options "
     "with algorithm.inner.<option>=... (e.g. algorithm.inner.pop_size=20)"),
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
    # deployment and the workload mix (imc_moo/deployment.py)
    (["problem.deployment=magic"], "unknown deployment 'magic': use one of resident, reprogram, stream"),
    (["problem.deployment=stream"], "deployment=stream is not available for RRAM"),
    (["problem.mix.inferences_per_switch=0"], "mix.inferences_per_switch=0.0 is out of range: give a mean number"),
    (["problem.mix.inferences_per_switch=-5"], "mix.inferences_per_switch=-5.0 is out of range"),
    (["problem.mix.inferences_per_switch=0.5"], "(1: every inference), or null for never"),
    (["problem.mix.inferences_per_switch=often"], "problem.mix.inferences_per_switch: Value 'often'"),
    (["problem.mix.shares={resnet18:1,vgg16:-2,alexnet:1,mobilenet_v3:1}"],
     "mix.shares.vgg16=-2 is not a positive number: give every network a share > 0"),
    (["problem.mix.shares={resnet18:1,vgg16:1}"],
     "mix.shares lacks alexnet, mobilenet_v3: give one share per network of resnet18, vgg16, alexnet, mobilenet_v3"),
    (["problem.mix.shares={resnet18:1,vgg16:1,alexnet:1,mobilenet_v3:1,bert:1}"],
     "mix.shares names bert, not in the workloads"),
    (["problem.mix.shares=[1,2]"], "mix.shares has 2 values for 4 networks"),
    (["problem.mix.shares=lots"], "mix.shares must map each network to its share"),
    (["problem.mix.lifetime_inferences=0"], "mix.lifetime_inferences=0.0 is out of range"),
    (["problem.endurance_cycles=-1"], "endurance_cycles=-1.0 is out of range"),
    (["problem.mix.inferences_per_swich=3"],
     "unknown key 'problem.mix.inferences_per_swich' (did you mean inferences_per_switch?)"),
    (["+problem.mix.foo=1"], "unknown key 'problem.mix.foo'"),
    (["problem.deployment=resident", "problem.weights_on_chip=false"],
     "weights_on_chip=false contradicts deployment=resident"),
    (["algorithm=phased_ga", "algorithm.objectives=speed"], "unknown objectives 'speed'"),
    # workloads
    (["problem.workloads=[resnet19]"], "unknown workload 'resnet19'"),
    (["problem.workloads=[]"], "empty workload set"),
    (["problem.workloads=[/no/such/net.yaml]"], "network file not found"),
    (["problem.library_dirs=[/no/such/dir]"], "is not a directory"),
    # the partitioned chip
    (["problem=tenancy_cnn4", "algorithm=specialized"], "algorithm=specialized searches the method's one-partition"),
    (["problem=tenancy_cnn4", "problem.partitions=0"], "partitions=0 must be a whole number from 1 to 8"),
    (["problem=tenancy_cnn4", "problem.memories=[rram,dram]"], "dram"),
    (["problem=tenancy_rates", "problem.mix.rates_hz.resnet50=-1"], "mix.rates_hz.resnet50=-1 is not a positive"),
    (["problem=tenancy_cnn4", "problem.deployment=sometimes"], "unknown deployment 'sometimes'"),
    (["problem=tenancy_cnn4", "problem.weights_on_chip=true"], "weights_on_chip does not apply to a partitioned"),
    (["problem.partitions=3"], "more than the 2^63 a run can tell apart: narrow some value lists"),
]


# CLI values

@pytest.mark.parametrize("args, needle", CATALOGUE, ids=[" ".join(a) for a, _ in CATALOGUE])
def test_bad_input_gives_one_line_naming_it(cli, tmp_path, args, needle):
    assert needle in cli.error(args, tmp_path)


def test_no_means_false_not_true():
    """OmegaConf reads yes/no as booleans: problem.weights_on_chip=no switches the capacity check off (it used to
    be read as the string 'no', i.e. true)."""
    cfg = experiment.compose_config(["problem.weights_on_chip=no"])
    problem, _, _ = experiment.build(cfg)
    assert cfg.problem.weights_on_chip is False and problem.weights_on_chip is False
    assert problem.n_ieq_constr == 2  # area and unmappable workloads only


def test_earlier_results_are_not_overwritten(cli, tmp_path):
    done = tmp_path / "done"
    before = cli.earlier_run(done)
    line = cli.error([], tmp_path, run_dir=done)
    assert "already holds the results of a run (archive.csv, pareto.csv, history.csv, pareto.png, best.json)" in line
    assert "overwrite=true" in line
    assert cli.snapshot(done) == before  # not a byte changed, nothing added


def test_bad_input_as_a_user_types_it(cli, tmp_path):
    """The same line from a real process (the installed entry point's path), exit 2."""
    res = cli.process("problem.workloads=[resnet19]", "plots=false", f"hydra.run.dir={tmp_path / 'run'}")
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "unknown workload 'resnet19'" in lines[0], res.stderr
    assert not (tmp_path / "run").exists()


def test_an_unwritable_output_directory_is_one_line(cli, tmp_path):
    code, lines = cli.run(["hydra.run.dir=/proc/imc_moo_run"])
    assert code == 2 and len(lines) == 1 and "cannot create the output directory /proc/imc_moo_run" in lines[0]




def test_a_hydra_flag_combination_hydra_refuses_is_one_line(cli, tmp_path):
    """``-m`` with ``--cfg`` goes straight to Hydra, which refuses it: one line, status 2, not a traceback."""
    res = cli.process("-m", "+experiment=deployment", "--cfg", "job", cwd=tmp_path)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0] == "imc-moo: error: Only one of --run, --multirun, --cfg, --info and --shell_completion can be " \
                       "specified"


@pytest.mark.parametrize("kind, name, needle", [
    ("launcher", "no_such_launcher", "pip install the Hydra launcher plugin that provides 'no_such_launcher'"),
    ("sweeper", "no_such_sweeper", "pip install the Hydra sweeper plugin that provides 'no_such_sweeper'"),
])
def test_a_missing_hydra_plugin_is_one_line_naming_what_to_install(cli, tmp_path, kind, name, needle):
    code, lines = cli.run(["-m", f"hydra/{kind}={name}", "seed=0,1", f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    assert code == 2 and len(lines) == 1 and needle in lines[0], lines
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("name, package", [("joblib", "'imc-moo[joblib]'"), ("submitit_slurm", "'imc-moo[slurm]'"),
                                           ("optuna", "'imc-moo[optuna]'")])
def test_the_plugins_the_docs_use_name_their_extra(name, package):
    """On a plain install (no extras) Hydra says only that it cannot find the plugin's config."""
    from hydra.errors import MissingConfigException

    from imc_moo.app.config import one_line

    kind = "sweeper" if name == "optuna" else "launcher"
    err = MissingConfigException(f"In 'hydra/config': Could not find 'hydra/{kind}/{name}'\n\nAvailable options "
                                 "in 'hydra/launcher':\n\tbasic\nConfig search path:\n\tprovider=hydra", None)
    assert one_line(err) == f"hydra/{kind}={name}: the {kind} is not installed: pip install {package}"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    extra = package.split("[")[1].split("]")[0]
    plugin = {"joblib": "hydra-joblib-launcher", "optuna": "hydra-optuna-sweeper"}.get(name, "hydra-submitit-launcher")
    assert any(req.startswith(plugin) for req in extras[extra]), extras.get(extra)  # the extra installs the plugin


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """``imc-moo --help | head -1``: the reader goes away; no BrokenPipeError traceback, status 1 (as other tools)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write: every write fails, deterministically
    try:
        res = subprocess.run([sys.executable, "-m", "imc_moo", "--help"], stdout=write, stderr=subprocess.PIPE,
                             text=True, cwd=tmp_path, timeout=120)
    finally:
        os.close(write)
    assert res.returncode == 1 and res.stderr == "", res.stderr


def test_an_error_echoing_a_long_value_stays_one_short_line(cli, tmp_path):
    """A long list (20,000 values came back as one 129 KB error line) gives one line cut in the middle, keeping the
    key at its start and the fix at its end."""
    values = ",".join(str(i) for i in range(2000))
    line = cli.error([f"space.xbar_rows=[{values}]"], tmp_path)
    assert len(line) <= 620 and line.startswith("imc-moo: error: space.xbar_rows=[0, 1, 2")
    assert "characters left out" in line and line.endswith("must hold positive numbers")
