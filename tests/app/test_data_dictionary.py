"""docs/reference/outputs.md documents every file a run writes and every column of every CSV: small real searches
(the method's chip with every optional column family, and partitioned chips) are checked against it, column by
column, file by file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from imc_moo.app.experiment import CONF_DIR, run

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "reference" / "outputs.md"
CSVS = ("archive.csv", "pareto.csv", "pareto_networks.csv", "history.csv")
#: Runs whose columns differ: the default chip; pipelined, with limits and costly switches (interval_s, g_*_limit,
#: g_endurance, switch_*); SRAM (fidelity warnings); partitioned chips, with rates too (p<k>_*, place_*, g_load_p<k>,
#: power_at_rates_w). A few hundred designs each: about 0.3-1 s.
RUNS = {
    "rram_cnn4": ["budget=300"],
    "pipelined_limits_switches": ["algorithm=nsga2", "budget=300", "problem.pipeline=true",
                                  "problem.limits.latency_s=0.05", "problem.limits.throughput_per_s=10",
                                  "problem.limits.power_w=50", "problem.deployment=reprogram",
                                  "problem.mix.inferences_per_switch=1000"],
    "sram_resident": ["problem=sram_cnn4", "algorithm=random", "budget=300", "problem.deployment=resident"],
    "tenancy_cnn4": ["problem=tenancy_cnn4", "budget=1500"],
    "tenancy_rates": ["problem=tenancy_rates", "budget=300"],
}


def cfg_for(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR, job_name="test"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def _pattern(name: str) -> re.Pattern:
    """``energy_j_<network>`` -> a regex: ``<k>`` a partition's index, any other ``<...>`` a name."""
    parts = re.split(r"(<[^>]+>)", name)
    return re.compile("".join(r"\d+" if p == "<k>" else ".+" if p.startswith("<") else re.escape(p) for p in parts)
                      + "$")


def documented() -> tuple[dict[str, list[re.Pattern]], set[str]]:
    """The dictionary's columns per CSV (the first cell of every table row under a heading naming the file) and the
    file names of its table of files."""
    columns: dict[str, list[re.Pattern]] = {name: [] for name in CSVS}
    files: set[str] = set()
    section: list[str] = []
    in_files = False
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            section = [name for name in CSVS if f"`{name}`" in line]
            in_files = line.strip() == "## Files of a run directory"
        elif line.startswith("| `"):
            first = re.findall(r"`([^`]+)`", line.split("|")[1])
            for name in first:
                if in_files:
                    files.add(name.rstrip("/"))
                for csv in section:
                    columns[csv].append(_pattern(name))
    return columns, files


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dictionary")
    out = {}
    for name, overrides in RUNS.items():
        out[name] = root / name
        run(cfg_for([*overrides, "plots=true", "progress=false"]), out[name])
    return out


@pytest.mark.parametrize("name", RUNS)
def test_every_column_written_is_documented(written, name):
    columns, _ = documented()
    for csv in CSVS:
        table = pd.read_csv(written[name] / csv)  # a front without designs still has its header
        missing = [c for c in table.columns if not any(p.match(c) for p in columns[csv])]
        assert not missing, f"{name}/{csv}: not in {DICTIONARY.name}: {missing}"


def test_every_file_of_a_run_directory_is_documented(written):
    _, files = documented()
    for d in written.values():
        found = {p.name for p in d.iterdir()}
        assert "pareto_networks.csv" in found
        assert not found - files, f"{d.name}: not in {DICTIONARY.name}: {sorted(found - files)}"


def test_the_dictionary_lists_each_column_once():
    columns, files = documented()
    assert {"archive.csv", "best.json", "interrupted.json", "history.csv"} <= files
    for csv, patterns in columns.items():
        names = [p.pattern for p in patterns]
        assert len(names) == len(set(names)), csv
