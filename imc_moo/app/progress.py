"""A terminal progress line for searches: phase, generation, evaluations, best EDAP."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping

#: A history row's ``phase`` that names no phase (:data:`imc_moo.algorithms.result.NO_PHASE`, spelled out here so
#: the progress line does not import the search).
NO_PHASES = (None, "", "none")


class Progress:
    """Callable fed one history row per generation (keys ``generation``, ``phase``, ``evaluations``,
    ``best_edap``). On a terminal it rewrites one line; otherwise it prints a line at most every
    ``interval_s`` seconds and whenever the phase changes. Silent for runs shorter than ``quiet_s``."""

    def __init__(self, name: str, budget: int, enabled: bool = True, interval_s: float = 2.0, quiet_s: float = 2.0,
                 stream=None):
        self.name, self.budget, self.enabled = name, budget, enabled
        self.interval_s, self.quiet_s = interval_s, quiet_s
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self._last = -math.inf
        self._phase = None
        self._shown = False

    def __call__(self, row: Mapping) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        phase = row.get("phase")
        phased = phase not in NO_PHASES
        due = now - self._last >= self.interval_s or (phase != self._phase and phased)
        if now - self.start < self.quiet_s or not (self.tty or due):
            return
        best = row.get("best_edap")
        best_text = "none feasible yet" if best is None or not math.isfinite(best) else f"{best:.4g}"
        phase_text = f" phase {phase}" if phased else ""
        line = (f"[{self.name}]{phase_text} gen {row.get('generation')} | "
                f"{row.get('evaluations')}/{self.budget} designs | best EDAP {best_text} | {now - self.start:.0f} s")
        self.stream.write(("\r" + line.ljust(100)) if self.tty else line + "\n")
        self.stream.flush()
        self._last, self._phase, self._shown = now, phase, True

    def close(self) -> None:
        if self.enabled and self.tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()
