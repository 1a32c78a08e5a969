"""A data file as read (:class:`Table`) and how its cells are read as numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MISSING_TOKENS", "Table", "numeric_view", "text_fullmatch"]

#: Cell texts read as a missing answer in an otherwise numeric column of a text file.
#: (In a text column only an empty cell is missing: "NA" may be a real value there.)
MISSING_TOKENS = frozenset({"", "NA", "N/A", "n/a", "na", "NaN", "nan", "null", "NULL", "#N/A", "."})
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DECIMAL_COMMA = r"[+-]?\d+,\d+"


@dataclass(frozen=True, eq=False)
class Table:
    """A data file as read: its rows and what is needed to talk about them.

    Attributes
    ----------
    data : DataFrame
        The rows, with a fresh ``RangeIndex``; columns are named as in the file (names are
        stripped of surrounding spaces).
    source : Path
        The file read.
    format : str
        ``"csv"``, ``"excel"``, ``"spss"``, ``"qualtrics"``, ``"qualtrics-legacy"`` or
        ``"parquet"``.
    first_data_row : int
        The user row number of ``data.iloc[0]``: 1-based as a spreadsheet or text editor
        counts, header = row 1 (so 2 for CSV and Excel, 4 / 3 for a current / legacy
        Qualtrics export). SPSS and Parquet have no header row: 1 = the first case.
    question_text : dict of str to str
        Column -> question wording (Qualtrics row 2, SPSS variable labels).
    value_labels : dict of str to dict
        Column -> ``{code: label}`` (SPSS value labels).
    file_rows : ndarray or None
        User row number of every data row when they are not consecutive (blank rows in the
        file are skipped); None when row ``i`` is simply ``first_data_row + i``.
    removed_columns : tuple of str
        Personal-data columns :func:`load_responses` removed (privacy, SPEC §4).
    """

    data: pd.DataFrame
    source: Path
    format: str
    first_data_row: int
    question_text: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    file_rows: np.ndarray | None = field(default=None, repr=False)
    removed_columns: tuple[str, ...] = ()
    #: rows left out when read, by reason (a Qualtrics export's previews and unfinished responses)
    left_out: dict[str, int] = field(default_factory=dict)
    #: the user row number of the header (after any title rows above it); None without a header row
    header_row: int | None = None
    #: the Excel sheet read, and the workbook's other sheets (for messages that say where to look)
    sheet: str | None = None
    other_sheets: tuple[str, ...] = ()

    def row_numbers(self, positions: Any) -> list[int]:
        """User row numbers of rows given by position (or by a boolean mask).

        Parameters
        ----------
        positions : sequence of int, or boolean mask
            0-based positions in ``data`` (``data.iloc`` positions), or a boolean array or
            Series as long as ``data`` selecting rows.

        Returns
        -------
        list of int
            The row numbers to show the user, e.g. in :func:`~csm_helpers.core.errors.format_rows`.

        Examples
        --------
        >>> t = Table(pd.DataFrame({"q1": [1, 2, 9]}), Path("r.csv"), "csv", first_data_row=2)
        >>> t.row_numbers([0, 2])
        [2, 4]
        >>> t.row_numbers(t.data["q1"] > 5)
        [4]
        """
        pos = np.asarray(positions)
        if pos.dtype == bool:
            pos = np.flatnonzero(pos)
        pos = pos.astype(np.int64).ravel()
        if self.file_rows is not None:
            return [int(r) for r in self.file_rows[pos]]
        return [int(p) + self.first_data_row for p in pos]

    def __repr__(self) -> str:
        return (f"Table(source={self.source.name!r}, format={self.format!r}, rows={len(self.data)}, "
                f"columns={self.data.shape[1]}, first_data_row={self.first_data_row})")


def text_fullmatch(text: pd.Series, pattern: str) -> pd.Series:
    """``text.str.fullmatch(pattern)`` (missing cells False), with Python's Unicode ``\\d``.

    pandas runs a pattern with ``\\d`` through pyarrow only when every cell is ASCII: one
    Vietnamese comment in a column sends every cell through Python's ``re``, one at a time.
    The ASCII cells are matched by pyarrow here and only the others by Python, so that
    ``"４"`` (a full-width digit) still counts as a digit.

    Examples
    --------
    >>> text_fullmatch(pd.Series(["12", "４", "x", None], dtype="str"), r"\\d+").tolist()
    [True, True, False, False]
    """
    ascii_ = text.str.isascii().fillna(True).to_numpy(dtype=bool)
    if ascii_.all() or not ascii_.any():
        return text.str.fullmatch(pattern).fillna(False).astype(bool)
    out = np.zeros(len(text), dtype=bool)
    out[ascii_] = text[ascii_].str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    out[~ascii_] = text[~ascii_].str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    return pd.Series(out, index=text.index)


def numeric_view(s: pd.Series, *, decimal_comma: bool = False) -> tuple[pd.Series, pd.Series]:
    """Read a column as numbers without losing anything.

    Returns ``(values, bad)``: ``values`` is float64 with NaN for missing and unreadable
    cells; ``bad`` marks non-missing cells that are not numbers (text such as ``"five"``,
    infinities, booleans). In a text column a cell in :data:`MISSING_TOKENS` is missing.
    With ``decimal_comma`` (text files whose delimiter is not a comma), ``"4,5"`` is 4.5
    when no cell of the column uses a decimal point. Used by the readers and by
    :mod:`csm_helpers.study.validate`.
    """
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.nan, index=s.index, dtype="float64"), s.notna()
    if pd.api.types.is_numeric_dtype(s):
        values = s.astype("float64")
        bad = pd.Series(np.isinf(values.to_numpy()), index=s.index)
        return values.where(~bad), bad
    text = s.astype("str").str.strip()
    missing = s.isna() | text.isin(MISSING_TOKENS)
    text = text.where(~missing)
    ok = text_fullmatch(text, _NUMBER)
    if decimal_comma and not (ok | missing).all():
        comma = text_fullmatch(text, _DECIMAL_COMMA)
        if comma.any() and not text.str.contains(".", regex=False).fillna(False).any():
            # decimal comma, e.g. "4,5" in a semicolon-separated file from a European or
            # Vietnamese Excel
            text = text.where(~comma, text.str.replace(",", ".", regex=False))
            ok = ok | comma
    bad = ~missing & ~ok
    try:  # fast path (Arrow-backed text); the cells are known to be numbers
        values = text.where(ok).astype("float64")
    except (TypeError, ValueError):
        values = pd.to_numeric(text.where(ok), errors="coerce").astype("float64")
    bad = bad | pd.Series(np.isinf(values.to_numpy()), index=s.index)
    return values.where(~bad), bad
