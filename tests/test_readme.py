"""README examples run as written: the Python blocks of the sections named here are executed in a fresh interpreter
outside the checkout; where a block's ``print`` lines end in a ``# expected`` comment, they must print exactly that."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SECTIONS = ["## Evaluate designs from Python", "### Use from Python or a notebook", "### With pymoo's own algorithms",
            "## Several models at once: a partitioned chip"]


def python_block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(heading + "\n")
    block = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert block, f"no python block under {heading!r}"
    return block.group(1)


@pytest.mark.parametrize("heading", SECTIONS)
def test_a_readme_example_runs_and_prints_what_it_says(heading, tmp_path):
    code = python_block(heading)
    expected = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.+)$", code, re.M)]
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    if expected:
        assert done.stdout.splitlines() == expected
