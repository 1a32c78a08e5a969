"""Argument checks shared by the helpers, so every helper words the same mistake the same way."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.errors import CsmError, DataError

__all__ = ["check_frame", "require_column", "check_int", "require_table", "column_floats", "YES", "NO", "yes_no_values", "yes_no_column"]


def check_frame(data: Any, what: str = "data") -> None:
    """Raise :class:`CsmError` unless ``data`` is a DataFrame.

    Examples
    --------
    >>> check_frame([1, 2], "csat")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: csat: expected a pandas DataFrame, got list
    """
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")


def require_column(data: pd.DataFrame, col: Any, *, role: str) -> None:
    """Raise :class:`CsmError` naming the closest column when ``col`` is not in ``data``.

    Examples
    --------
    >>> require_column(pd.DataFrame({"overall_sat": [1]}), "overal_sat", role="item")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: item column 'overal_sat' is not in the data — did you mean 'overall_sat'?
    """
    if not isinstance(col, str) or col not in data.columns:
        names = [str(c) for c in data.columns]
        close = difflib.get_close_matches(str(col), names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"columns: {', '.join(names[:20])}" + (
            " ..." if len(names) > 20 else "")
        raise CsmError(f"{role} column {col!r} is not in the data — {hint}")


def check_int(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an int, or :class:`CsmError` when it is not a whole number >= ``minimum``.

    Examples
    --------
    >>> check_int(5, "min_n", minimum=1)
    5
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise CsmError(f"The value for `{name}` must be a whole number >= {minimum}, but {value!r} was passed.")
    return int(value)


def require_table(data: Any, columns: Sequence[str], what: str, maker: str) -> pd.DataFrame:
    """``data`` when it is a DataFrame with ``columns``: the table a helper (``maker``) returned.

    Raises :class:`CsmError` for something that is not a DataFrame and :class:`DataError`
    naming the missing columns, the columns found and the helper whose table to pass.

    Examples
    --------
    >>> require_table(pd.DataFrame({"a": [1]}), ["b"], "plot_x", "csm_helpers.analysis.x")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.DataError: plot_x: column 'b' is missing (found: a) — pass the table csm_helpers.analysis.x returns
    """
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"{what}: expected a pandas DataFrame (from {maker}), got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        found = ", ".join(map(str, data.columns)) or "no columns"
        raise DataError(f"{what}: column {', '.join(map(repr, missing))} is missing (found: {found}) — "
                        f"pass the table {maker} returns")
    return data


def column_floats(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column as floats: ``(values, not_a_number, blank)``, the one parse every helper shares.

    ``values`` is float64 with NaN for missing cells and for text that is not a number;
    ``not_a_number`` marks present cells that are not numbers (blank text included);
    ``blank`` marks text cells that are empty or spaces. Infinities stay in ``values``: each
    helper decides whether they are an error, and words its own message. Booleans are the
    caller's to refuse or convert before.

    Examples
    --------
    >>> values, nan, blank = column_floats(pd.Series(["4", "five", " ", None]))
    >>> values.tolist()[:1], nan.tolist(), blank.tolist()
    ([4.0], [False, True, True, False], [False, False, True, False])
    """
    if pd.api.types.is_numeric_dtype(s):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        none = np.zeros(len(x), dtype=bool)
        return x, none, none
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    not_a_number = s.notna().to_numpy() & np.isnan(x)
    blank = np.zeros(len(x), dtype=bool)  # a blank cell is never a number: look only there
    if not_a_number.any():
        cells = s[not_a_number].astype(object)
        blank[not_a_number] = cells.map(lambda v: isinstance(v, str) and v.strip() == "").to_numpy(dtype=bool)
    return x, not_a_number, blank


#: Answers read as yes / no (case-insensitive, trimmed): numbers, English, Vietnamese, Chinese.
YES = frozenset({"1", "1.0", "yes", "y", "true", "t", "có", "是"})
NO = frozenset({"0", "0.0", "no", "n", "false", "f", "không", "否"})


def yes_no_values(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A yes/no column as floats 1.0 / 0.0 (NaN = blank), and the mask of cells that are neither.

    Accepts booleans, 1/0 and the words of :data:`YES` and :data:`NO` (case and spaces aside).

    Examples
    --------
    >>> x, bad = yes_no_values(pd.Series(["Yes", " no", None, "maybe", 1]))
    >>> x.tolist()[:3], bad.tolist()
    ([1.0, 0.0, nan], [False, False, False, True, False])
    """
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        bad = (np.isfinite(x) & (x != 0) & (x != 1)) | np.isinf(x)
        return np.where(bad, np.nan, x), bad
    folded = s.map(lambda v: None if not isinstance(v, str) and pd.isna(v) else str(v).strip().casefold())
    x = np.where(folded.isin(YES), 1.0, np.where(folded.isin(NO), 0.0, np.nan))
    blank = (folded.isna() | folded.eq("")).to_numpy(dtype=bool)
    bad = ~blank & np.isnan(x)
    return np.asarray(x, dtype=float), np.asarray(bad, dtype=bool)


def yes_no_column(data: pd.DataFrame, col: str, *, role: str, where: str = "") -> np.ndarray:
    """Column ``col`` of ``data`` as yes/no floats (:func:`yes_no_values`; NaN = blank).

    Raises
    ------
    DataError
        When the column is missing, or holds something other than yes/no; the message names
        ``where`` (the file), the column, its ``role``, the values and their row index.

    Examples
    --------
    >>> yes_no_column(pd.DataFrame({"ok": ["yes", "no"]}), "ok", role="consent").tolist()
    [1.0, 0.0]
    >>> yes_no_column(pd.DataFrame({"ok": ["yes", "maybe"]}), "ok", role="consent", where="list.csv")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.DataError: list.csv, column 'ok' (consent): 'maybe' at row index 1 — a yes/no column must hold 1/0, yes/no or true/false; recode the other answers (or leave the cell empty when not known)
    """
    require_column(data, col, role=role)
    x, bad = yes_no_values(data[col])
    if bad.any():
        rows = np.flatnonzero(bad)
        found = ", ".join(dict.fromkeys(repr(str(v)) for v in data[col].iloc[rows[:5]]))
        index = ", ".join(str(i) for i in data.index[rows[:5]]) + (f" (+{len(rows) - 5} more)" if len(rows) > 5 else "")
        raise DataError(f"{where + ', ' if where else ''}column {col!r} ({role}): {found} at row index {index} — a "
                        "yes/no column must hold 1/0, yes/no or true/false; recode the other answers (or leave the "
                        "cell empty when not known)")
    return x
