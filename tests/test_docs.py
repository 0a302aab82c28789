"""The README and the docs pages run as written.

* Every ``python`` block is executed in a fresh interpreter outside the checkout; where a block's ``print`` lines end
  in a comment, they must print exactly that (``print(x)  # what it prints``), in order.
* Every ``bash`` block runs in one scratch directory per page, in page order with the python blocks, when
  ``IMC_MOO_DOCS_COMMANDS=1`` (``.ci/run`` sets it in a step of its own: together they take minutes, beyond the
  suite's budget). A block may say how it is run in an HTML comment on the line before it, invisible on the page:

  - ``<!-- docs-test: compose-only (why) -->``: a study or a cluster sweep, too long for CI. Each ``imc-moo -m``
    line composes and checks every job of its sweep (imc-moo's own pre-check) without running it; each
    ``imc-moo`` line composes its config (``--cfg job``); ``imc-moo-report`` lines have nothing to read and are left.
  - ``<!-- docs-test: instead (why): COMMAND -->``: the block needs what CI lacks (torch for an export); COMMAND
    makes the same files (``{shared}``: the shared data beside the checkout).
  - ``<!-- docs-test: after the commands above -->`` on a python block: it reads files the page's commands make,
    so it runs with them only.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
#: The pages people read and copy from (the study reports under docs/ are written by imc-moo-report).
PAGES = sorted([ROOT / "README.md", ROOT / "docs" / "index.md", ROOT / "docs" / "method.md",
                *(ROOT / "docs").glob("guide/*.md"), *(ROOT / "docs").glob("model/*.md"),
                *(ROOT / "docs").glob("reference/*.md")])
COMMANDS = os.environ.get("IMC_MOO_DOCS_COMMANDS") == "1"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"(?:^<!-- docs-test: (?P<mark>.*?) -->\n)?^```(?P<lang>\w*)\n(?P<code>.*?)^```", re.M | re.S)


@dataclass
class Block:
    lang: str
    code: str
    mark: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [Block(m["lang"], m["code"], m["mark"] or "", text.count("\n", 0, m.start("code")))
            for m in FENCE.finditer(text)]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def expected_prints(code: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.+)$", code, re.M)]


def run_python(block: Block, cwd: Path, where: str) -> None:
    done = subprocess.run([sys.executable, "-c", block.code], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{where}: python block failed\n{done.stderr[-3000:]}"
    lines = iter(done.stdout.splitlines())
    for want in expected_prints(block.code):  # in order, among the block's other output
        assert any(line.strip() == want for line in lines), f"{where}: no line {want!r} in\n{done.stdout}"


def command_lines(code: str) -> list[str]:
    """The block's commands, continuation lines joined (heredocs kept whole as one command with its body)."""
    return [line for line in code.replace("\\\n", " ").splitlines() if line.strip()]


def compose_only(block: Block, cwd: Path, env: dict, where: str) -> None:
    for line in command_lines(block.code):
        words = shlex.split(line, comments=True)
        if not words or words[0] == "imc-moo-report":
            continue
        assert words[0] == "imc-moo", f"{where}: a compose-only block runs imc-moo commands only: {line}"
        if "-m" in words or "--multirun" in words:
            overrides = [w for w in words[1:] if w not in ("-m", "--multirun")]
            check = ("import sys\nfrom imc_moo.app.config import one_line\nfrom imc_moo.app.experiment import "
                     "check_sweep\ntry:\n    check_sweep(sys.argv[1:])\nexcept Exception as err:\n"
                     "    sys.exit(one_line(err))\n")
            args = [sys.executable, "-c", check, *overrides]
        else:
            args = [str(BIN / "imc-moo"), *words[1:], "--cfg", "job"]
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{where}: {line}\n{done.stdout[-1000:]}{done.stderr[-2000:]}"


def run_bash(block: Block, cwd: Path, env: dict, where: str) -> None:
    code = block.code
    if block.mark.startswith("instead"):
        code = block.mark.split(":", 1)[1].strip().replace("{shared}", str(SHARED))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, f"{where}: bash block failed\n{done.stdout[-1500:]}{done.stderr[-3000:]}"


def test_every_page_is_covered_and_every_mark_is_known():
    marks = {b.mark.split(" ")[0] for page in PAGES for b in blocks(page) if b.mark}
    assert marks <= {"compose-only", "instead", "after"}, marks
    for page in PAGES:
        for b in blocks(page):
            if b.mark.startswith(("compose-only", "instead")):
                assert re.search(r"\(.+\)", b.mark), f"{page_id(page)}:{b.line}: say why in parentheses: {b.mark}"
    assert any(b.lang == "python" for b in blocks(ROOT / "README.md"))


PYTHON = [pytest.param(page, i, id=f"{page_id(page)}:{b.line}") for page in PAGES
          for i, b in enumerate(blocks(page)) if b.lang == "python" and not b.mark.startswith("after")]


@pytest.mark.parametrize("page, index", PYTHON)
def test_a_python_example_runs_and_prints_what_it_says(page, index, tmp_path):
    block = blocks(page)[index]
    run_python(block, tmp_path, f"{page_id(page)}:{block.line}")


WITH_COMMANDS = [pytest.param(page, id=page_id(page)) for page in PAGES
                 if any(b.lang == "bash" for b in blocks(page))]


@pytest.mark.skipif(not COMMANDS, reason="the pages' commands take minutes: IMC_MOO_DOCS_COMMANDS=1 runs them "
                                         "(.ci/run does)")
@pytest.mark.parametrize("page", WITH_COMMANDS)
def test_a_pages_commands_run_as_written(page, tmp_path):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for block in blocks(page):
        where = f"{page_id(page)}:{block.line}"
        if block.lang == "python":
            if block.mark.startswith("after"):
                run_python(block, tmp_path, where)
        elif block.lang == "bash":
            if block.mark.startswith("compose-only"):
                compose_only(block, tmp_path, env, where)
            elif block.code.startswith("python3 -m venv") or block.code.startswith("pip wheel"):
                continue  # the set-up commands: .ci/run itself runs them on a fresh machine
            else:
                run_bash(block, tmp_path, env, where)


def test_the_readmes_links_lead_somewhere():
    """The README is read on GitHub and in the wheel's metadata: its relative links must name files of the checkout."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text) if not t.startswith("http")]
    assert len(targets) >= 10
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, missing


def test_no_page_sends_the_reader_to_notes_that_do_not_ship():
    """The reference notes the project was built from (METHOD.md, COST_MODEL.md, ...) are not part of imc-moo: a page
    that cites them sends the reader nowhere (the README cited them eight times)."""
    notes = re.compile(r"METHOD\.md|COST_MODEL\.md|PHYSICAL_BOUNDS\.md|SRAM_ENERGY_RESIDUAL\.md")
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    cited = [str(p.relative_to(ROOT)) for p in pages if notes.search(p.read_text(encoding="utf-8"))]
    assert not cited, cited


def test_the_readme_is_a_first_five_minutes_page():
    """Set up, run, one example, where to read on: the rest lives in docs/ (the README was 1,315 lines)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 120
    for heading in ("## Set up and run", "## From Python", "## Documentation", "## License and citation"):
        assert heading in text
