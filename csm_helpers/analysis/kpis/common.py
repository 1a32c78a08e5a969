"""Reading rating columns and groups, shared by the KPI modules."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis import stats
from csm_helpers.core.checks import check_int, column_floats, require_column
from csm_helpers.core.errors import CsmError, DataError

__all__ = ["check_top_box", "scale_bounds", "scale_text", "rating_array", "group_positions", "only_columns", "check_by", "finish_table"]


def scale_bounds(scale: Any, item: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise CsmError(f"scale of {item!r} must be a pair (min, max), e.g. (1, 5), but {scale!r} was passed") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise CsmError(f"scale of {item!r} is [{lo:g}, {hi:g}]: the minimum must be below the maximum")
    return lo, hi


def scale_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def rating_array(data: pd.DataFrame, item: str, scale: tuple[float, float], *, whole: bool = False) -> np.ndarray:
    """The answers to ``item`` as floats (NaN = not answered), checked against its scale."""
    require_column(data, item, role="item")
    s = data[item]
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f"column {item!r}: holds true/false values, not ratings — recode it to numbers")
    x, bad_text, _blank = column_floats(s)
    lo, hi = scale
    finite = np.isfinite(x)
    out = finite & ((x < lo) | (x > hi))
    if whole:
        out |= finite & (x != np.round(x))
    bad_inf = ~finite & ~np.isnan(x)
    problems = bad_text | out | bad_inf
    if problems.any():
        where = np.flatnonzero(problems)
        idx = [str(i) for i in data.index[where[:5]]]
        more = f" (+{len(where) - 5} more)" if len(where) > 5 else ""
        shown = list(dict.fromkeys(str(v) for v in s.iloc[where[:5]]))
        allowed = f"whole numbers {scale_text(lo)}-{scale_text(hi)}" if whole else f"the scale {scale_text(lo)}-{scale_text(hi)}"
        raise DataError(
            f"column {item!r}, index {', '.join(idx)}{more}: {', '.join(shown)} "
            f"{'is' if len(shown) == 1 else 'are'} not within {allowed} — fix the data, "
            f"or set scales.{item} in study.yaml")
    return x


def group_positions(data: pd.DataFrame, by: str | None) -> Iterator[tuple[Any, np.ndarray]]:
    """``(label, row positions)`` per group, in sorted (or category) order; one ``(None, all)`` without ``by``."""
    if by is None:
        yield None, np.arange(len(data))
        return
    require_column(data, by, role="by (group)")
    s = data[by]
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError:  # mixed types that cannot be sorted: keep the order of appearance
        codes, uniques = pd.factorize(s, sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for g, label in enumerate(uniques):
        yield label, order[bounds[g]:bounds[g + 1]]


def only_columns(data: pd.DataFrame, columns: Sequence[str | None]) -> pd.DataFrame:
    """The columns of ``data`` among ``columns`` (None and absent names skipped), a narrow frame
    to select rows from (a missing column is still reported by the helper that needs it)."""
    keep = [c for c in dict.fromkeys(columns) if c is not None and c in data.columns]
    return data[keep]


def check_by(by: str | None, reserved: Sequence[str]) -> None:
    if by is not None and by in reserved:
        raise CsmError(f"by column {by!r} has the name of an output column — rename the column first")


def finish_table(rows: list[dict[str, Any]], columns: list[str], *, by: str | None, min_n: int,
            keep: Sequence[str] = ()) -> pd.DataFrame:
    # column by column from the rows (a missing key is a missing value), numbers as numpy arrays:
    # a third of the time of a frame of objects converted column by column afterwards
    labels = [c for c in (by, "method", *keep) if c]

    def column(name: str) -> Any:
        values = [r.get(name) for r in rows]
        if name == "n":
            return np.asarray(values, dtype="int64")
        return values if name in labels else np.asarray(values, dtype=float)

    table = pd.DataFrame({c: column(c) for c in dict.fromkeys(columns)})  # columns= would build the index twice
    return stats.suppress(table, min_n=min_n, keep=labels, by=by)


def check_top_box(top_box: Any, scale: Any, item: str) -> tuple[float, float, int]:
    """``(low, high, top_box)``: the scale of ``item`` and ``top_box`` checked to leave at least
    one point below the top box (SPEC §1.4: CSAT is the top-box share).

    Examples
    --------
    >>> check_top_box(2, (1, 5), "overall")
    (1.0, 5.0, 2)
    """
    lo, hi = scale_bounds(scale, item)
    points = int(round(hi - lo)) + 1
    top_box = check_int(top_box, "top_box", minimum=1)
    if top_box >= points:
        raise CsmError(f"The value for `top_box` must be below the {points} points of the scale of {item!r}, "
                       f"but {top_box} was passed.")
    return lo, hi, top_box
