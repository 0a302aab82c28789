"""Resuming a sweep job by job (imc_moo.app.resume): what a job directory's state is for a config, and the one
reader of a run's Hydra record. The whole sweeps that resume are in tests/faults/test_sweep_faults.py."""

import json

import pytest
from omegaconf import OmegaConf

from imc_moo.app import resume

CONFIG = {"budget": 300, "seed": 0, "plots": False, "progress": False, "overwrite": False,
          "problem": {"name": "rram_cnn4", "aggregation": "max"}, "algorithm": {"name": "nsga2", "pop_size": 40}}


def job(tmp_path, config=CONFIG, results=("archive.csv", "best.json"), best=None, record=True):
    """A job directory with its Hydra record of ``config`` and the result files ``results``."""
    d = tmp_path / "0_job"
    (d / resume.RECORD).mkdir(parents=True)
    if record:
        (d / resume.RECORD / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    for name in results:
        (d / name).write_text(json.dumps(best if best is not None else {"edap": 1.5}) if name == "best.json"
                              else "x\n")
    return d


def test_a_job_with_complete_results_of_the_same_config_is_complete(tmp_path):
    state = resume.job_state(job(tmp_path), dict(CONFIG))
    assert (state.kind, state.edap) == ("complete", 1.5)


def test_run_control_keys_do_not_make_a_job_another_config(tmp_path):
    """progress and overwrite change no result: a rerun with progress lines still resumes (plots do: figures)."""
    assert resume.job_state(job(tmp_path), {**CONFIG, "progress": True, "overwrite": True}).kind == "complete"
    assert resume.job_state(job(tmp_path / "x"), {**CONFIG, "plots": True}).kind == "conflict"


def test_another_config_is_a_conflict_naming_the_key_that_changed(tmp_path):
    changed = {**CONFIG, "algorithm": {"name": "nsga2", "pop_size": 80}}
    state = resume.job_state(job(tmp_path), changed)
    assert state.kind == "conflict"
    assert "algorithm.pop_size: 40 -> 80" in state.detail


@pytest.mark.parametrize("results, best, kind", [
    ((), None, "new"),
    (("archive.csv",), None, "incomplete"),          # stopped before best.json
    (("archive.csv", "best.json"), ["not", "a", "summary"], "incomplete"),
])
def test_what_a_job_directory_holds_decides_its_state(tmp_path, results, best, kind):
    assert resume.job_state(job(tmp_path, results=results, best=best), dict(CONFIG)).kind == kind


def test_a_failed_job_reruns(tmp_path):
    d = job(tmp_path, results=())
    (d / resume.FAILED_FILE).write_text(json.dumps({"error": "boom", "overrides": []}))
    assert resume.job_state(d, dict(CONFIG)).kind == "failed"


def test_results_without_a_readable_record_are_a_conflict(tmp_path):
    d = job(tmp_path, record=False)
    (d / resume.RECORD / "config.yaml").write_text("budget: [unclosed\n")
    state = resume.job_state(d, dict(CONFIG))
    assert state.kind == "conflict" and "no readable" in state.detail


def test_read_record_is_none_for_a_missing_or_damaged_record(tmp_path):
    assert resume.read_record(tmp_path) is None
    (tmp_path / resume.RECORD).mkdir()
    (tmp_path / resume.RECORD / "config.yaml").write_text("- a list, not a config\n")
    assert resume.read_record(tmp_path) is None
    (tmp_path / resume.RECORD / "config.yaml").write_text("seed: 3\n")
    assert resume.read_record(tmp_path).seed == 3


def test_differences_are_dotted_keys_sorted():
    old = {"a": 1, "b": {"c": 2, "d": 3}}
    new = {"a": 1, "b": {"c": 5}, "e": 0}
    assert resume.differences(old, new) == ["b.c: 2 -> 5", "b.d: 3 -> (none)", "e: (none) -> 0"]
