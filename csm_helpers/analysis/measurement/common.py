"""Argument checks and population-table helpers shared by the measurement modules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.stats import z_value
from csm_helpers.core.checks import check_frame, column_floats
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import N_

__all__ = ["POPULATION_FILE", "require_columns", "value_key", "value_keys", "value_codes", "preview_values", "check_level", "numbers_and_bad", "population_rows"]


#: How the population table is named in messages (the study key ``population``).
POPULATION_FILE = "population.csv"


#: Check names shown in the ``check`` column of :func:`quality_summary` (marked for the catalogs;
#: the table keeps them as they are, the display step translates them).
_CHECK_WORDS = (N_("out_of_range"), N_("straightliner"), N_("straightliner_extreme"), N_("speeder"), N_("duplicate_id"),
                N_("duplicate_answers"), N_("excluded"))


def require_columns(data: pd.DataFrame, columns: Sequence[str], *, what: str, fix: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = ", ".join(map(str, list(data.columns)[:15])) + (" ..." if data.shape[1] > 15 else "")
        raise DataError(f"{what}: column {', '.join(repr(c) for c in missing)} is missing "
                        f"(found: {shown or 'no columns'}) — {fix}")


def value_key(value: Any) -> str | None:
    """A segment value as text for matching (None when missing); 2.0 -> '2'."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def value_keys(s: pd.Series) -> pd.Series:
    """:func:`value_key` of every cell (object Series, None where missing); one call per distinct value."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([value_key(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def value_codes(s: pd.Series, keys: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Each cell's :func:`value_key` as a position: ``(codes, keys)`` with ``codes`` -1 where missing.

    Without ``keys`` they are the distinct keys of ``s`` in order of appearance; with ``keys``
    a key not among them gets -2. One :func:`value_key` call per distinct value, no text per row.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    ukeys = [value_key(u) for u in uniques]
    if keys is None:
        keys = list(dict.fromkeys(k for k in ukeys if k is not None))
    where = {k: i for i, k in enumerate(keys)}
    lookup = np.array([-1 if k is None else where.get(k, -2) for k in ukeys] + [-1], dtype=np.int64)
    return lookup[codes], list(keys)


def preview_values(values: Sequence[Any], limit: int = 5) -> str:
    vals = [repr(v) for v in values]
    return ", ".join(vals[:limit]) + (f" (+{len(vals) - limit} more)" if len(vals) > limit else "")


def check_level(level: float) -> float:
    return z_value(level)  # raises CsmError for a level outside (0, 1)


def numbers_and_bad(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(values, not_a_number)``: float values (NaN when missing or not a number)."""
    if pd.api.types.is_bool_dtype(s):
        return np.full(len(s), np.nan), s.notna().to_numpy()
    values, not_a_number, blank = column_floats(s)
    bad = (not_a_number & ~blank) | np.isinf(values)
    return (np.where(bad, np.nan, values) if bad.any() else values), bad


def population_rows(population: pd.DataFrame, segment: str) -> pd.DataFrame:
    """Rows of one segment of the population table, checked: value key, population, invited."""
    check_frame(population, POPULATION_FILE)
    require_columns(population, ["segment", "value", "population"], what=POPULATION_FILE,
                     fix="the population table needs the columns segment, value, population "
                         "(and optionally invited), one row per segment value")
    seg = value_keys(population["segment"])
    rows = population.loc[(seg == segment).to_numpy()]
    if rows.empty:
        found = sorted({s for s in seg if s is not None})
        raise DataError(
            f"{POPULATION_FILE} has no rows for the segment {segment!r} (segments found: "
            f"{', '.join(found) or 'none'}) — add rows '{segment},<value>,<population>' to {POPULATION_FILE}, "
            "or choose one of its segments"
        )
    keys = value_keys(rows["value"])
    if keys.isna().any():
        raise DataError(f"{POPULATION_FILE}, segment {segment!r}: a row has no value — fill in the value or "
                        "remove the row")
    dup = keys[keys.duplicated()].unique().tolist()
    if dup:
        raise DataError(f"{POPULATION_FILE}, segment {segment!r}: the value {preview_values(dup)} appears on more than "
                        "one row — give each value one row")
    pop = pd.to_numeric(rows["population"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop <= 0)
    if bad.any():
        raise DataError(f"{POPULATION_FILE}, segment {segment!r}: population of {preview_values(keys[bad].tolist())} is "
                        f"{preview_values(rows['population'][bad].tolist())} — each population must be a number > 0")
    invited = np.full(len(rows), np.nan)
    if "invited" in rows.columns:
        invited = pd.to_numeric(rows["invited"], errors="coerce").to_numpy(dtype=float)
        given = rows["invited"].notna().to_numpy()
        badi = given & (~np.isfinite(invited) | (invited < 0))
        if badi.any():
            raise DataError(f"{POPULATION_FILE}, segment {segment!r}: invited of {preview_values(keys[badi].tolist())} is "
                            f"{preview_values(rows['invited'][badi].tolist())} — it must be a number >= 0 or empty")
    return pd.DataFrame({"value": rows["value"].to_numpy(dtype=object), "key": keys.to_numpy(dtype=object),
                         "population": pop, "invited": invited})
