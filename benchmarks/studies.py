"""Regenerate the method's studies under docs/: run each study sweep, report it, copy the report into docs/<study>/.

    python benchmarks/studies.py [--only ablation technology ...] [--work DIR] [--jobs 2]

For each study (conf/experiment/<study>.yaml): ``imc-moo -m +experiment=<study>`` on the joblib launcher into
``<work>/<study>`` (resumed if it is complete there), ``imc-moo-report``, then ``report.md``, the CSVs and the figures
the docs keep are copied into ``docs/<study>/`` (the files of an earlier copy that the new report no longer writes
are removed). The deployment study keeps its own figures only: its generic ones have a panel for each of its 70
problem variants (their links in report.md become one line saying so). Prints each study's wall time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STUDIES = ("joint_vs_baselines", "aggregations", "ablation", "technology", "deployment")
#: Figures a study's docs folder does not keep (the file name stem, any page).
NOT_KEPT = {"deployment": ("best_edap_box", "convergence", "convergence_hypervolume", "pareto_fronts")}
KEPT_SUFFIXES = (".md", ".csv", ".png")


def kept(study: str, path: Path) -> bool:
    if path.suffix not in KEPT_SUFFIXES or path.name in ("multirun.yaml",):
        return False
    stem = re.sub(r"_\d+$", "", path.stem)
    return not (path.suffix == ".png" and stem in NOT_KEPT.get(study, ()))


def copy_report(study: str, sweep: Path) -> list[str]:
    out = DOCS / study
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file() and old.suffix in KEPT_SUFFIXES and old.name != "README.md":
            old.unlink()
    names = []
    for f in sorted(sweep.iterdir()):
        if f.is_file() and kept(study, f):
            shutil.copy2(f, out / f.name)
            names.append(f.name)
    report = out / "report.md"
    if report.is_file() and NOT_KEPT.get(study):
        text = report.read_text()
        dropped = [m.group(0) for m in re.finditer(r"!\[[^\]]*\]\(([^)]+)\)\n?", text)
                   if not (out / re.search(r"\(([^)]+)\)", m.group(0)).group(1)).exists()]
        if dropped:
            for link in dropped:
                text = text.replace(link, "")
            text = text.replace("## Figures\n\n", "## Figures\n\n(The report's generic figures, one panel per problem "
                                "variant, are not kept here; `benchmarks/studies.py` says why.)\n\n", 1)
            report.write_text(text)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=STUDIES, default=list(STUDIES))
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "multirun" / "studies")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    bin_dir = Path(sys.executable).parent
    for study in args.only:
        sweep = args.work / study
        start = time.perf_counter()
        subprocess.run([str(bin_dir / "imc-moo"), "-m", f"+experiment={study}", "hydra/launcher=joblib",
                        f"hydra.launcher.n_jobs={args.jobs}", f"hydra.sweep.dir={sweep}", "progress=false"],
                       check=True, stdout=subprocess.DEVNULL)
        searched = time.perf_counter() - start
        subprocess.run([str(bin_dir / "imc-moo-report"), str(sweep)], check=True, stdout=subprocess.DEVNULL)
        names = copy_report(study, sweep)
        print(f"{study}: searches {searched:.0f} s, report {time.perf_counter() - start - searched:.0f} s; "
              f"docs/{study}/: {', '.join(names)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
