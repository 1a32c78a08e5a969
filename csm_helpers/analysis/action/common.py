"""Argument checks and number helpers shared by the action modules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import DataError

__all__ = ["one_per_attribute", "by_attribute", "as_float"]


# --------------------------------------------------------------------------- checks
def one_per_attribute(table: pd.DataFrame, what: str) -> None:
    dup = table["attribute"][table["attribute"].duplicated()].tolist()
    if dup:
        raise DataError(f"{what}: attribute {dup[0]!r} appears more than once — pass the table for one group "
                        "(computed without `by`, or filtered to one segment)")


def by_attribute(table: pd.DataFrame | None, what: str, maker: str, columns: Sequence[str]) -> pd.DataFrame | None:
    if table is None:
        return None
    require_table(table, ["attribute", *columns], what, maker)
    one_per_attribute(table, what)
    t = table.copy()
    if "suppressed" in t.columns:  # a suppressed row carries no statistic
        small = t["suppressed"].fillna(False).astype(bool).to_numpy()
        for c in columns:
            numeric = pd.api.types.is_numeric_dtype(t[c]) and not pd.api.types.is_bool_dtype(t[c])
            t[c] = t[c].astype("float64" if numeric else object)
            t.loc[small, c] = np.nan if numeric else None
    return t.set_index("attribute")


def as_float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan
