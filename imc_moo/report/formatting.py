"""What the report's tables and figures share: markdown tables of its numbers and one colour per algorithm label."""

from __future__ import annotations

import numpy as np
import pandas as pd

from imc_moo.files import markdown_table


def label_palette(labels) -> dict[str, tuple]:
    """One colour per algorithm label, the same in every figure of a report (labels sorted, tab10 colours)."""
    import seaborn as sns

    names = sorted(set(labels))
    return dict(zip(names, sns.color_palette("tab10" if len(names) <= 10 else "husl", len(names))))


def md(df: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a markdown table (numbers to ``digits`` significant digits, "—" for missing ones)."""
    # a swept key's whole numbers (pandas' Int64: <NA> where a run lacks the key) as ints, a missing one as "—"
    df = df.apply(lambda c: c.astype(object).where(c.notna(), np.nan) if isinstance(c.dtype, pd.Int64Dtype) else c)
    return markdown_table(df, lambda column, v: f"{v:.{digits}g}" if np.isfinite(v) else "—")
