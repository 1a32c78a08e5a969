"""Argument checks and column readers shared by the driver modules."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from csm_helpers.core.checks import column_floats
from csm_helpers.core.errors import CsmError, DataError

if TYPE_CHECKING:  # pragma: no cover
    pass


__all__ = ["check_level", "numeric_array"]


def check_level(level: float) -> None:
    if not isinstance(level, int | float) or not 0 < level < 1:
        raise CsmError(f"The value for `level` must be between 0 and 1 (e.g. 0.95), but {level!r} was passed.")


def numeric_array(data: pd.DataFrame, col: str, role: str) -> np.ndarray:
    """Column ``col`` as floats (missing -> NaN), with a clear error when absent or not numeric."""
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"expected a pandas DataFrame of responses, got {type(data).__name__}")
    if col not in data.columns:
        close = difflib.get_close_matches(str(col), [str(c) for c in data.columns], n=3)
        hint = f"; close matches: {', '.join(map(repr, close))}" if close else ""
        raise DataError(f"column {col!r} ({role}) is not in the data{hint} — check the item names in study.yaml")
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    x, bad, _blank = column_floats(s)
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(s[bad])[:3])
        raise DataError(f"column {col!r} ({role}) is not numeric: found {examples} in {int(bad.sum())} rows — "
                        "recode the answers as numbers (validate the data with `csm validate`)")
    return x
