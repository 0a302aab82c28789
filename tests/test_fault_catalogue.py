"""The fault catalogue: bad input and faults a user meets off the happy path, each giving a readable line naming
the problem and the fix, the documented exit status, no traceback, and nothing already written lost or mixed.
Grow it with every new case. Sections:

* CLI values (``CATALOGUE``): wrong types, unknown keys and options, out-of-range values, workloads;
* network files given on the command line (``NETWORK_FILES``);
* API calls (``API_CALLS``): the Python entry points raise a ``ValueError`` with one line;
* sweeps (``SWEEP_CATALOGUE`` and the sweep-directory cases), resumed sweeps (``RESUME_CONFLICTS``);
* killed, terminated and concurrent runs (real subprocesses);
* damaged sweep directories given to ``imc-moo-report`` (``DAMAGE``).

The command line mostly runs in-process (``imc_moo.app.experiment.cli`` checks a run's config before Hydra starts),
so the catalogue stays fast; runs that must be killed or raced are real subprocesses.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from imc_moo import evaluate, report
from imc_moo.algorithms import run_algorithm
from imc_moo.app import experiment
from imc_moo.problem import WorkloadSetProblem

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
]


ROOT = Path(__file__).resolve().parents[1]
#: A finished run's files, as a bad input must leave them (contents are placeholders: only bytes are compared).
EARLIER_RUN = ("best.json", "archive.csv", "pareto.csv", "history.csv", "pareto.png")


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


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` (relative path -> content hash)."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def earlier_run(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True)
    for name in EARLIER_RUN:
        (directory / name).write_text(f"earlier {name}\n")
    return snapshot(directory)


def cli_error(args, tmp_path, capsys, run_dir=None) -> str:
    """The one error line of a bad input, checked twice: into a fresh directory (none is created) and, with
    ``overwrite=true``, into a directory holding an earlier run (not a byte of it changes)."""
    run_dir = run_dir or tmp_path / "run"
    code, lines = run_cli([*args, f"hydra.run.dir={run_dir}"], capsys)
    assert code == 2, lines
    if run_dir == tmp_path / "run":
        assert not run_dir.exists(), "a bad input must not leave a run directory"
        before = earlier_run(tmp_path / "earlier")
        again = run_cli([*args, "overwrite=true", f"hydra.run.dir={tmp_path / 'earlier'}"], capsys)
        assert again == (2, lines) or (again[0] == 2 and "overwrite" in args), again
        assert snapshot(tmp_path / "earlier") == before, "a bad input must not touch an earlier run"
    assert len(lines) == 1 and lines[0].startswith("imc-moo: error: "), lines
    return lines[0]


# ----------------------------------------------------------------------------------------------------------------
# CLI values

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


def test_earlier_results_are_not_overwritten(tmp_path, capsys):
    done = tmp_path / "done"
    before = earlier_run(done)
    line = cli_error([], tmp_path, capsys, run_dir=done)
    assert "already holds the results of a run (archive.csv, pareto.csv, history.csv, pareto.png, best.json)" in line
    assert "overwrite=true" in line
    assert snapshot(done) == before  # not a byte changed, nothing added


def test_bad_input_as_a_user_types_it(tmp_path):
    """The same line from a real process (the installed entry point's path), exit 2."""
    res = imc_moo_process("problem.workloads=[resnet19]", "plots=false", f"hydra.run.dir={tmp_path / 'run'}")
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "unknown workload 'resnet19'" in lines[0], res.stderr
    assert not (tmp_path / "run").exists()


def test_an_unwritable_output_directory_is_one_line(capsys, tmp_path):
    code, lines = run_cli(["hydra.run.dir=/proc/imc_moo_run"], capsys)
    assert code == 2 and len(lines) == 1 and "cannot create the output directory /proc/imc_moo_run" in lines[0]


# ----------------------------------------------------------------------------------------------------------------
# Network files on the command line (problem.workloads=[path]): the file, the layer and the fix, in one line

GOOD_LAYER = "{name: conv, C: 3, M: 8, R: 3, S: 3, P: 16, Q: 16}"
NETWORK_FILES = [
    ("broken.yaml", "name: broken\nlayers:\n  - {C: 3, M: 8\n", "broken.yaml: malformed YAML at line"),
    ("empty.yaml", "", "empty.yaml"),
    ("alist.yaml", f"- {GOOD_LAYER}\n", "top-level mapping"),
    ("renamed.yaml", f"name: other\nlayers:\n  - {GOOD_LAYER}\n", "differs from the file name"),
    ("nolayers.yaml", "name: nolayers\nlayers: []\n", "'layers' must be a non-empty list"),
    ("missing.yaml", "name: missing\nlayers:\n  - {name: c, C: 3, M: 8, R: 3, S: 3, P: 4}\n",
     "layer 0 ('c'): missing required field 'Q'"),
    ("negative.yaml", "name: negative\nlayers:\n  - {name: c, C: -4, M: 8, R: 3, S: 3, P: 4, Q: 4}\n",
     "field 'C'"),
    ("typo.yaml", "name: typo\nlayers:\n  - {name: c, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4, K: 2}\n",
     "unknown key 'K'"),
    ("activity.yaml", "name: activity\nlayers:\n  - {name: c, C: 3, M: 8, R: 3, S: 3, P: 4, Q: 4, ain: 1.5}\n",
     "field 'ain'"),
    ("huge.yaml", "name: huge\nlayers:\n  - {name: big, C: 1000000, M: 1000000, R: 1, S: 1, P: 1000000, "
     "Q: 1000000}\n", "huge.yaml: layer 0 ('big'): 1e+24 multiply-accumulates"),
    ("binary.yaml", b"\x00\xff\xfe garbage \x89PNG", "binary.yaml"),
    # models and layer tables, imported on the fly (imc-moo-import's own cases: tests/test_onnx_import.py)
    ("notonnx.onnx", "name: not a model\n", "notonnx.onnx"),
    ("truncated.onnx", b"\x08\x07\x12\x07pytorch\x1a\x05", "truncated.onnx"),
    ("table.csv", "name,op,C,M,R,S,P,Q,G,stride\nconv,Conv,3,-8,3,3,4,4,1,1\n", "table.csv"),
    ("columns.csv", "name,C,M\nconv,3,8\n", "columns.csv"),
]


@pytest.mark.parametrize("name, content, needle", NETWORK_FILES, ids=[n for n, _, _ in NETWORK_FILES])
def test_a_bad_network_file_is_one_line_naming_file_and_layer(tmp_path, capsys, name, content, needle):
    net = tmp_path / name
    net.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = cli_error([f"problem.workloads=[{net},resnet18]"], tmp_path, capsys)
    assert needle in line, line


def test_a_set_naming_an_unknown_network_is_one_line(tmp_path, capsys):
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "mine.yaml").write_text("name: mine\nnetworks: [resnet18, resnet19]\n")
    line = cli_error([f"problem.library_dirs=[{tmp_path}]", "problem.workloads=mine"], tmp_path, capsys)
    assert "resnet19" in line and "mine" in line


def test_a_directory_given_as_a_network_file_is_one_line(tmp_path, capsys):
    (tmp_path / "looks_like.yaml").mkdir()
    line = cli_error([f"problem.workloads=[{tmp_path / 'looks_like.yaml'}]"], tmp_path, capsys)
    assert "looks_like.yaml" in line


# ----------------------------------------------------------------------------------------------------------------
# API calls: a ValueError subclass with one line naming the value and what to use instead

DESIGN = dict(voltage=0.8, bits_per_cell=2, base_latency_s=1e-9, xbar_rows=256, xbar_cols=256, router_group=16,
              tiles_per_chip=16, macros_per_tile=16, glb_mib=4, technology_nm=32)


def _designs(**change) -> pd.DataFrame:
    return pd.DataFrame([{**DESIGN, **change}])


@pytest.fixture(scope="module")
def problem():
    return WorkloadSetProblem("cnn4", "rram", "edap")


API_CALLS = [
    ("unknown set", lambda p: WorkloadSetProblem("cnn5", "rram", "edap"), "unknown workload 'cnn5'"),
    ("unknown memory", lambda p: WorkloadSetProblem("cnn4", "flash", "edap"), "unknown memory 'flash'"),
    ("unknown objectives", lambda p: WorkloadSetProblem("cnn4", "rram", "speed"), "unknown objectives 'speed'"),
    ("unknown aggregation", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", aggregation="median"),
     "unknown aggregation 'median'"),
    ("negative area", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", area_limit_mm2=-1),
     "area_limit_mm2 must be a positive number"),
    ("unknown space", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", space="flash"),
     "unknown design-space variant 'flash'"),
    ("unknown gene", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", space={"xbar": [128]}),
     "unknown design parameter 'xbar'"),
    ("unsupported node", lambda p: WorkloadSetProblem("cnn4", "rram", "edap", technology_nm=65),
     "technology_nm=65 is not supported"),
    ("workloads not a list", lambda p: WorkloadSetProblem(3, "rram", "edap"), "workloads must be a name"),
    ("unknown algorithm", lambda p: run_algorithm("annealing", p, budget=100), "unknown algorithm 'annealing'"),
    ("zero budget", lambda p: run_algorithm("nsga2", p, budget=0), "budget must be a positive number"),
    ("negative seed", lambda p: run_algorithm("nsga2", p, budget=100, seed=-1), "seed must be an integer"),
    ("unknown knob", lambda p: run_algorithm("nsga2", p, budget=100, popsize=3), "unknown option(s) popsize"),
    ("knob type", lambda p: run_algorithm("nsga2", p, budget=100, pop_size="x"), "algorithm.pop_size: Value 'x'"),
    ("baseline as inner search", lambda p: run_algorithm("specialized", p, budget=100, inner="sequential"),
     "inner search 'sequential' is a baseline"),
    ("unknown inner knob", lambda p: run_algorithm("largest_workload", p, budget=100, inner={"popsize": 3}),
     "unknown option(s) popsize for the inner search 'phased_ga' of algorithm 'largest_workload'"),
    ("inner knob type", lambda p: run_algorithm("specialized", p, budget=100, inner={"pop_size": "x"}),
     "algorithm.inner.pop_size: Value 'x'"),
    ("design not a table", lambda p: evaluate(DESIGN, "cnn4"), "designs must be a pandas DataFrame"),
    ("design column missing", lambda p: evaluate(_designs().drop(columns="xbar_rows"), "cnn4"),
     "design table lacks columns ['xbar_rows']"),
    ("design value negative", lambda p: evaluate(_designs(xbar_rows=-3), "cnn4"), "xbar_rows=-3 is not a positive"),
    ("design value text", lambda p: evaluate(_designs(voltage="high"), "cnn4"), "voltage=high is not a positive"),
    ("design value off table", lambda p: evaluate(_designs(xbar_rows=100), "cnn4"), "xbar_rows=100 is outside"),
    ("bits per cell for sram", lambda p: evaluate(_designs(), "cnn4", "sram"), "bits_per_cell=2 is not possible"),
    ("unknown network", lambda p: evaluate(_designs(), "resnet19"), "unknown workload 'resnet19'"),
]


@pytest.mark.parametrize("call, needle", [(c, n) for _, c, n in API_CALLS], ids=[i for i, _, _ in API_CALLS])
def test_api_calls_raise_one_readable_line(problem, call, needle):
    with pytest.raises(ValueError) as info:
        call(problem)
    message = str(info.value)
    assert needle in message and "\n" not in message, message


# ----------------------------------------------------------------------------------------------------------------
# Sweeps

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


def imc_moo_process(*args, cwd=ROOT, **kw):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "imc_moo", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300, **kw)


def test_a_sweep_into_another_sweep_is_refused_unless_overwrite(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    res = imc_moo_process("-m", "algorithm=random", "seed=0,1,2", "budget=100", "plots=false", "progress=false",
                          f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    before = snapshot(sweep)
    code, lines = run_cli(["-m", "algorithm=random", "seed=5", "budget=100", f"hydra.sweep.dir={sweep}"], capsys)
    assert code == 2 and len(lines) == 1, lines
    assert (f"{sweep} holds job directories that are not jobs of this sweep (0_rram_cnn4_random_seed0, "
            "1_rram_cnn4_random_seed1, 2_rram_cnn4_random_seed2)") in lines[0] and "overwrite=true" in lines[0]
    assert snapshot(sweep) == before
    res = imc_moo_process("-m", "algorithm=random", "seed=5", "budget=100", "plots=false", "progress=false",
                          "overwrite=true", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    bests = sorted(sweep.rglob("best.json"))  # the new sweep only: no job of the earlier one pooled with it
    assert [json.loads(b.read_text())["seed"] for b in bests] == [5]


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_a_failing_job_is_recorded_and_the_others_run(tmp_path, launcher):
    sweep = tmp_path / "sweep"
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if launcher == "joblib" else []
    res = imc_moo_process("-m", *extra, "budget=-1,100", "algorithm=random", "plots=false", "progress=false",
                          f"hydra.sweep.dir={sweep}")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "imc-moo: 1 of 2 jobs failed: 0_rram_cnn4_random_seed0: budget must be a positive" in res.stderr
    failed = json.loads((sweep / "0_rram_cnn4_random_seed0" / "failed.json").read_text())
    assert "budget must be a positive" in failed["error"] and "budget=-1" in failed["overrides"]
    assert json.loads((sweep / "1_rram_cnn4_random_seed0" / "best.json").read_text())["evaluations"] == 100
    summary = report.report(sweep, plots=False)
    bad = summary[summary.status == "failed"]
    assert len(bad) == 1 and "budget must be a positive" in bad.reason.iloc[0]


# ----------------------------------------------------------------------------------------------------------------
# Resumed sweeps: the same command into the same hydra.sweep.dir skips the complete jobs and runs the others

def stamps(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``directory``: relative path -> (content hash, modification time in ns)."""
    return {str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


RESUMABLE = ("-m", "algorithm=nsga2", "seed=0,1,2,3", "budget=3000", "plots=false", "progress=false")


def test_a_killed_sweep_resumes_with_only_the_missing_jobs(tmp_path):
    """SIGTERM (kill, Slurm's time limit) after the second of four jobs; the same command again leaves the two
    complete jobs alone (not a byte or a timestamp of them changes, .hydra/ included) and runs the other two."""
    sweep = tmp_path / "sweep"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", *RESUMABLE, f"hydra.sweep.dir={sweep}"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(sweep.glob("1_*/best.json")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (143, -signal.SIGTERM) and "Traceback" not in stderr, stderr
    done = {d.name: stamps(d) for d in sweep.iterdir() if (d / "best.json").is_file()}
    assert sorted(done) == ["0_rram_cnn4_nsga2_seed0", "1_rram_cnn4_nsga2_seed1"]

    res = imc_moo_process(*RESUMABLE, f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert f"resuming the sweep in {sweep}: 2 of 4 jobs complete (skipped), 2 to run" in res.stdout
    assert res.stdout.count("skipped (complete)") == 2 and res.stdout.count("after 3,000 designs") == 2, res.stdout
    for name, before in done.items():
        assert stamps(sweep / name) == before, name
    bests = sorted(sweep.glob("*/best.json"))
    assert [b.parent.name[0] for b in bests] == ["0", "1", "2", "3"] and not list(sweep.glob("*/interrupted.json"))
    for b in bests:  # each job's files are its own run's
        assert len(pd.read_csv(b.parent / "archive.csv")) == json.loads(b.read_text())["evaluations"]
    summary = report.report(sweep, plots=False)  # skipped jobs count as complete
    assert len(summary) == 4 and (summary.status == "ok").all()


def test_a_failed_job_reruns_once_its_input_is_fixed(tmp_path):
    """A job that failed on a bad network file; the file fixed, the same command runs that job only."""
    net = tmp_path / "mine.yaml"
    net.write_text("name: mine\nlayers: []\n")
    sweep = tmp_path / "sweep"
    args = ("-m", f"problem.workloads=[{net}],[resnet18]", "algorithm=random", "budget=60", "plots=false",
            "progress=false", f"hydra.sweep.dir={sweep}")
    res = imc_moo_process(*args)
    assert res.returncode == 1 and "1 of 2 jobs failed: 0_rram_mine_random_seed0" in res.stderr, res.stderr
    failed, ok = sweep / "0_rram_mine_random_seed0", sweep / "1_rram_resnet18_random_seed0"
    assert (failed / "failed.json").is_file() and not (failed / "best.json").exists()
    before = stamps(ok)
    net.write_text(f"name: mine\nlayers:\n  - {GOOD_LAYER}\n")
    res = imc_moo_process(*args)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "1 of 2 jobs complete (skipped), 1 to run" in res.stdout and res.stdout.count("skipped (complete)") == 1
    assert (failed / "best.json").is_file() and not (failed / "failed.json").exists()
    assert stamps(ok) == before
    assert (report.report(sweep, plots=False).status == "ok").all()


def _interrupted(job: Path, budget: int) -> None:
    """Make ``job`` an interrupted run of another budget."""
    (job / "best.json").rename(job / "interrupted.json")
    record = job / ".hydra" / "config.yaml"
    record.write_text(record.read_text().replace("budget: 120\n", f"budget: {budget}\n"))


#: (id, damage(sweep) or None, the new sweep's overrides, text the error line must contain): the earlier sweep is
#: ``algorithm=random seed=0,1,2 budget=120`` (``finished_sweep``)
RESUME_CONFLICTS = [
    ("another budget", None, ["seed=0,1,2", "budget=130"],
     "0_rram_cnn4_random_seed0 holds the results of a different config (budget: 120 -> 130) (and 2 more job"),
    ("another knob", None, ["seed=0,1,2", "budget=120", "problem.area_limit_mm2=700"],
     "different config (problem.area_limit_mm2: 800.0 -> 700.0)"),
    ("an interrupted run of another config", lambda s: _interrupted(_job(s, 2), budget=110), ["seed=0,1,2",
     "budget=120"], "2_rram_cnn4_random_seed2 holds the results of a different config (budget: 110 -> 120)"),
    ("record unreadable", lambda s: (_job(s, 1) / ".hydra" / "config.yaml").write_text("a: [x"),
     ["seed=0,1,2", "budget=120"], "1_rram_cnn4_random_seed1 holds results (archive.csv, pareto.csv, history.csv, "
     "best.json) but no readable .hydra/config.yaml"),
    ("record missing", lambda s: shutil.rmtree(_job(s, 0) / ".hydra"), ["seed=0,1,2", "budget=120"],
     "no readable .hydra/config.yaml to tell which config they are for"),
    ("fewer jobs", None, ["seed=0,1", "budget=120"], "not jobs of this sweep (2_rram_cnn4_random_seed2)"),
]


@pytest.mark.parametrize("damage, args, needle", [(d, a, n) for _, d, a, n in RESUME_CONFLICTS],
                         ids=[i for i, *_ in RESUME_CONFLICTS])
def test_a_sweep_cannot_resume_over_another_configs_results(tmp_path, capsys, finished_sweep, damage, args, needle):
    """Refused before any job runs, in one line naming the directory, what differs and the fix; nothing in the
    sweep directory changes."""
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    if damage:
        damage(sweep)
    before = stamps(sweep)
    code, lines = run_cli(["-m", "algorithm=random", *args, "plots=false", f"hydra.sweep.dir={sweep}"], capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("imc-moo: error: "), lines
    assert needle in lines[0] and "hydra.sweep.dir=..." in lines[0] and "overwrite=true" in lines[0], lines[0]
    assert stamps(sweep) == before


def test_a_job_refuses_another_configs_results_when_the_sweep_could_not_check_them(tmp_path):
    """Job directories named by the launcher's job id cannot be told before the sweep runs: then each job checks
    its own directory when it starts, and one holding another config's results is refused there, untouched."""
    sweep = tmp_path / "sweep"
    args = ("-m", "algorithm=random", "seed=0,1", "plots=false", "progress=false", f"hydra.sweep.dir={sweep}",
            "hydra.sweep.subdir=${hydra.job.num}_${hydra.job.id}")
    assert imc_moo_process(*args, "budget=60").returncode == 0
    before = stamps(sweep)
    res = imc_moo_process(*args, "budget=70")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "each job skips itself if its results are complete" in res.stdout
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("imc-moo: error: ") and "holds the results of a different config (budget: 60 -> 70)" in last
    after = stamps(sweep)
    after.pop("multirun.yaml"), before.pop("multirun.yaml")  # Hydra's record of the sweep, rewritten as it starts
    assert after == before  # not a byte of any job changed


# ----------------------------------------------------------------------------------------------------------------
# Killed, terminated and concurrent runs

#: A run long enough to stop midway: random search through 2 M of mixed9's designs takes minutes.
LONG_RUN = ("problem=sram_mixed9", "algorithm=random", "budget=2000000", "plots=false")


def start_long_run(out: Path, *extra) -> subprocess.Popen:
    """A run that is searching (its progress line shows) when this returns."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", *LONG_RUN, *extra, f"hydra.run.dir={out}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    for line in proc.stderr:
        if line.startswith("[random]"):
            return proc
    raise AssertionError(f"the run never started searching: {proc.communicate()}")


@pytest.mark.parametrize("command", [("-m", "imc_moo", "budget=100", "plots=false", "hydra.run.dir=run"),
                                     ("-c", "from imc_moo.entry import imc_moo_report; imc_moo_report()", ".")])
def test_ctrl_c_during_start_up_is_one_line(tmp_path, command):
    """Ctrl-C while the command still imports and composes (before a search handles it): one line, status 130, no
    traceback, nothing written (the run directory is not even created). (imc-moo-import loads too fast to be
    caught reliably this way; it goes through the same entry-point wrapper.)"""
    proc = subprocess.Popen([sys.executable, *command], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.15)  # inside the imports (~1 s)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    # 130, or killed by the SIGINT itself (Python may re-raise it at exit): the shell's $? is 130 either way
    assert proc.returncode in (130, -signal.SIGINT) and "Traceback" not in stderr, stderr
    assert len(lines) == 1 and "interrupted (Ctrl-C)" in lines[0], stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("sig, code, verb, reason", [
    (signal.SIGINT, 130, "interrupted", "interrupted (Ctrl-C)"),
    (signal.SIGTERM, 143, "terminated", "terminated (SIGTERM)"),  # kill, Slurm's time limit or preemption
])
def test_a_stopped_run_keeps_the_designs_so_far_and_is_marked_incomplete(tmp_path, sig, code, verb, reason):
    out = tmp_path / "run"
    proc = start_long_run(out)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code and "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("imc-moo:")]
    assert len(lines) == 1 and f"{verb} after" in lines[0] and "the run is incomplete" in lines[0]
    kept = json.loads((out / "interrupted.json").read_text())
    assert kept["complete"] is False and kept["stop_reason"] == reason
    assert 0 < kept["evaluations"] == len(pd.read_csv(out / "archive.csv")) < 2_000_000
    assert not (out / "best.json").exists()
    # the kept designs are an earlier result now: a new run into the directory is refused
    res = imc_moo_process("budget=100", "plots=false", f"hydra.run.dir={out}")
    assert res.returncode == 2 and "already holds the results of a run" in res.stderr


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
    return children


def test_a_slurm_job_stopped_at_its_time_limit_keeps_its_designs(tmp_path):
    """SIGUSR2 is what submitit's job wrapper gets from Slurm ``hydra.launcher.signal_delay_s`` before the time
    limit, or at preemption (submitit's own handler would end the job, losing its designs, and the sweep would end
    in a traceback). The job stops at its next batch as a terminated run does, keeps its designs, and the sweep
    ends with one line naming the incomplete job, exit status 1. Sent here to a submitit_local job (its job id is its
    controller's pid) once it is searching; the same on Slurm (README, "Run on a cluster")."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / "sweep"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "imc_moo", "-m", "hydra/launcher=submitit_local",
                             "hydra.launcher.timeout_min=10", "algorithm=random", "budget=3000000", "plots=false",
                             f"hydra.sweep.dir={sweep}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    tasks = []
    try:
        deadline = time.monotonic() + 120
        while not any("[random]" in log.read_text() for log in sweep.glob(".submitit/*/*_log.err")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        (log,) = sweep.glob(".submitit/*/*_log.err")
        tasks = child_pids(int(log.parent.name))  # the job's process, started by submitit's local controller
        assert len(tasks) == 1, tasks
        os.kill(tasks[0], signal.SIGUSR2)
        _, stderr = proc.communicate(timeout=120)
    except BaseException:  # never leave a 3-million-design search running
        proc.kill()
        for pid in tasks:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    assert proc.returncode == 1 and "Traceback" not in stderr, stderr[-3000:]
    reason = "stopped by Slurm (SIGUSR2: time limit near, or preempted)"
    assert f"imc-moo: 1 of 1 jobs incomplete: 0_rram_cnn4_random_seed0: {reason} after " in stderr, stderr[-3000:]
    job = sweep / "0_rram_cnn4_random_seed0"
    kept = json.loads((job / "interrupted.json").read_text())
    assert kept["complete"] is False and kept["stop_reason"] == reason and not (job / "best.json").exists()
    assert 0 < kept["evaluations"] == len(pd.read_csv(job / "archive.csv")) < 3_000_000


def test_a_killed_run_leaves_no_claim_and_its_directory_can_be_reused(tmp_path):
    """SIGKILL (out of memory, a lost node) cannot be caught: nothing is kept, but the directory is not left
    claimed and holds no results, so the same command runs again."""
    out = tmp_path / "run"
    proc = start_long_run(out)
    proc.kill()
    proc.communicate(timeout=60)
    assert not (out / "best.json").exists() and not (out / "archive.csv").exists()
    res = imc_moo_process("budget=100", "plots=false", "progress=false", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "best.json").read_text())["evaluations"] == 100
    assert not (out / ".imc_moo.app.lock").exists()


def test_a_second_run_into_a_busy_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    first = start_long_run(out, "seed=0")
    try:
        for extra in ((), ("overwrite=true",)):
            res = imc_moo_process("budget=100", "seed=1", "plots=false", *extra, f"hydra.run.dir={out}")
            lines = [line for line in res.stderr.splitlines() if line.strip()]
            assert res.returncode == 2 and len(lines) == 1, res.stderr
            assert f"{out} is in use by another imc-moo process (pid {first.pid})" in lines[0]
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    kept = json.loads((out / "interrupted.json").read_text())
    assert kept["seed"] == 0 and (out / ".hydra" / "overrides.yaml").read_text().count("seed=0") == 1


def test_runs_started_together_get_their_own_directories(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    small = ["budget=300", "algorithm.n_candidates=200", "algorithm.n_select=100", "algorithm.pop_size=30"]
    procs = [subprocess.Popen([sys.executable, "-m", "imc_moo", *small, f"seed={s}", "plots=false",
                               "progress=false"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    bests = sorted((tmp_path / "runs").rglob("best.json"))
    assert len(bests) == 2 and {json.loads(b.read_text())["seed"] for b in bests} == {0, 1}
    for b in bests:  # each directory holds one run's files only
        assert len(pd.read_csv(b.parent / "archive.csv")) == json.loads(b.read_text())["evaluations"]


# ----------------------------------------------------------------------------------------------------------------
# Damaged sweep directories: imc-moo-report names each damaged run, reports the rest, and changes no run's files

@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    sweep = tmp_path_factory.mktemp("damage") / "sweep"
    res = imc_moo_process("-m", "algorithm=random", "seed=0,1,2", "budget=120", "plots=false", "progress=false",
                          f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr
    return sweep


def _job(sweep: Path, n: int) -> Path:
    return next(sweep.glob(f"{n}_*"))


DAMAGE = [
    # (id, damage(sweep), runs reported ok, text in the failed run's reason / on stderr)
    ("truncated best.json", lambda s: (_job(s, 0) / "best.json").write_text('{"algorithm": "ran'), 2,
     "best.json is damaged"),
    ("best.json not an object", lambda s: (_job(s, 0) / "best.json").write_text("[]"), 2,
     "best.json is damaged (a list, not an object)"),
    ("best.json wrong type", lambda s: (_job(s, 0) / "best.json").write_text(json.dumps(
        {**json.loads((_job(s, 0) / "best.json").read_text()), "edap": "low"})), 2, "wrong type of edap"),
    ("best.json empty", lambda s: (_job(s, 0) / "best.json").write_text(""), 2, "best.json is damaged"),
    ("history.csv columns lost", lambda s: (_job(s, 1) / "history.csv").write_text("generation,phase\n1"), 3,
     "history.csv"),
    ("pareto.csv empty", lambda s: (_job(s, 1) / "pareto.csv").write_text(""), 3, "pareto.csv"),
    ("config unreadable, no best.json", lambda s: ((_job(s, 2) / ".hydra" / "config.yaml").write_text("a: [x"),
                                                   (_job(s, 2) / "best.json").unlink()), 2, "no best.json"),
    ("job never started", lambda s: shutil.rmtree(_job(s, 1)), 2, "never started"),
    ("multirun.yaml damaged", lambda s: (s / "multirun.yaml").write_text("hydra: [unclosed"), 3,
     "skipping"),
    ("failed.json damaged", lambda s: ((_job(s, 0) / "best.json").unlink(),
                                       (_job(s, 0) / "failed.json").write_text("{not json")), 2, "no best.json"),
    ("interrupted run", lambda s: ((_job(s, 0) / "best.json").rename(_job(s, 0) / "interrupted.json")), 2,
     "after 120 designs (incomplete)"),
]


@pytest.mark.parametrize("damage, ok, needle", [(d, k, n) for _, d, k, n in DAMAGE], ids=[i for i, *_ in DAMAGE])
def test_a_damaged_sweep_is_reported_run_by_run(tmp_path, capsys, finished_sweep, damage, ok, needle):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    damage(sweep)
    runs_before = {k: v for k, v in snapshot(sweep).items() if "/" in k}
    figures = needle and needle.endswith(".csv")  # the figures are what read history.csv and pareto.csv
    assert report.main([str(sweep)] if figures else [str(sweep), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    summary = pd.read_csv(sweep / "summary.csv")
    assert len(summary) == 3 and (summary.status == "ok").sum() == ok
    if needle:
        assert needle in " ".join(summary.reason.dropna()) + err
    assert {k: v for k, v in snapshot(sweep).items() if "/" in k} == runs_before  # the report writes its own files
    assert all(len(line) < 400 for line in err.splitlines())


@pytest.mark.parametrize("make, needle", [
    (lambda d: d, "is not a directory"),
    (lambda d: (d.mkdir(), d)[1], "no runs found"),
    (lambda d: (d.mkdir(), (d / "notes.txt").write_text("x"), d)[2], "no runs found"),
])
def test_no_sweep_to_report_is_one_line(tmp_path, capsys, make, needle):
    target = make(tmp_path / "sweep")
    assert report.main([str(target)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("imc-moo-report: error: ") and needle in lines[0], lines


def test_catalogue_size():
    """The issue's floor: at least 40 bad inputs and faults across the sections."""
    cases = (len(CATALOGUE) + len(NETWORK_FILES) + len(API_CALLS) + len(SWEEP_CATALOGUE) + len(DAMAGE)
             + len(RESUME_CONFLICTS))
    assert cases >= 40, cases
