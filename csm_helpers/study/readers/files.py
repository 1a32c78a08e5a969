"""``read_table``: one data file of any supported format (CSV/TSV, Excel, SPSS, Parquet, Qualtrics) as a :class:`~csm_helpers.study.table.Table`, with an error that names the file and the fix."""

from __future__ import annotations

import dataclasses
import difflib
import html
import re
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd

from csm_helpers.core.errors import ConfigError, CsmError, DataFileError
from csm_helpers.core.paths import file_kind
from csm_helpers.study.readers.common import file_hint, is_responses_key, setting_hint
from csm_helpers.study.readers.text import (
    check_unique_names,
    clean_text_columns,
    finish_text_frame,
    read_text_table,
)
from csm_helpers.study.table import Table

__all__ = ["FORMATS", "read_table"]


#: Values of ``format`` / ``responses.format`` besides ``"auto"``.
FORMATS = ("csv", "excel", "spss", "qualtrics", "parquet")


_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
    ".sav": "spss", ".zsav": "spss",
    ".parquet": "parquet", ".pq": "parquet",
}


_FORMAT_HELP = (".csv/.txt/.tsv (CSV or a Qualtrics CSV export), .xlsx (Excel), .sav/.zsav (SPSS), "
                ".parquet/.pq (Parquet)")


_MAGIC = (
    (b"PK\x03\x04", "excel", "an Excel .xlsx workbook"),
    (b"\xd0\xcf\x11\xe0", "xls", "an old Excel 97-2003 .xls workbook"),
    (b"$FL2", "spss", "an SPSS .sav file"),
    (b"$FL3", "spss", "an SPSS .zsav file"),
    (b"PAR1", "parquet", "a Parquet file"),
)


# --------------------------------------------------------------------------- Excel
def _read_excel(path: Path, *, sheet: str | int | None, config_key: str | None) -> Table:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if path.suffix.lower() == ".xls" or head == b"\xd0\xcf\x11\xe0":
        raise DataFileError(
            f"{path}: this is an old Excel 97-2003 .xls workbook, which cannot be read — open it in Excel "
            "and save it as .xlsx (Excel Workbook) or as 'CSV UTF-8'"
        )
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataFileError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {_short(exc)}) — the file may be "
            "truncated or not an Excel file: open it in Excel and save it again as .xlsx, or export the "
            "survey as CSV"
        ) from None
    with book:
        names = book.sheet_names
        listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
        if sheet is None:
            sheet = 0
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise DataFileError(
                    f"{path}: there is no sheet number {sheet} (sheets are numbered from 0): the workbook "
                    f"has {listed} — " + setting_hint(config_key, "sheet", repr(names[0]))
                )
        elif sheet not in names:
            close = difflib.get_close_matches(str(sheet), names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DataFileError(
                f"{path}: there is no sheet named {sheet!r}: the workbook has {listed} — {hint}"
                + setting_hint(config_key, "sheet", repr(names[0]))
            )
        name = names[sheet] if isinstance(sheet, int) else str(sheet)
        others = tuple(n for n in names if n != name)
        # if the answers are on another sheet, every message about this one says how to read that one
        elsewhere = (f" (read sheet {name!r}; the workbook also has {', '.join(map(repr, others))}: if the answers "
                     "are there, " + setting_hint(config_key, "sheet", repr(others[0])) + ")") if others else ""
        try:
            raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=str, na_filter=False)
            errors = _error_cells(path, book, name)
        except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
            if isinstance(exc, MemoryError):
                raise
            raise DataFileError(
                f"{path}: sheet {name!r} cannot be read ({type(exc).__name__}: {_short(exc)}) — the file "
                "may be damaged: open it in Excel and save it again as .xlsx"
            ) from None
    if raw.shape[0] == 0:
        raise DataFileError(f"{path}: sheet {name!r} is empty: no header and no data rows — put the header "
                            f"in row 1 and one respondent per row below it{elsewhere}")
    try:
        table = finish_text_frame(raw, path, fmt="excel", header_rows=1, question_row=False,
                                  where="the header row")
    except DataFileError as exc:
        raise DataFileError(f"{exc}{elsewhere}") from None
    table = dataclasses.replace(table, sheet=name, other_sheets=others)
    _refuse_error_values(table, raw, errors, sheet=name)
    return table


def _error_cells(path: Path, book: pd.ExcelFile, sheet: str) -> list[tuple[int, int, str]]:
    """``(row, column, value)`` (1-based) of every Excel error value on ``sheet``.

    pandas reads an error cell (a failed formula: ``#DIV/0!``, ``#N/A``…) as an empty cell, so an
    answer would go missing without a word. The sheet's XML marks such a cell ``t="e"``: it is
    searched as bytes (a fraction of a second where a second pass of openpyxl over the cells
    would cost half as long again as reading them), with openpyxl as the fallback for a workbook
    laid out unusually."""
    try:
        return _error_cells_xml(path, sheet)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        found: list[tuple[int, int, str]] = []
        for row in book.book[sheet].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "e":
                    found.append((int(cell.row), int(cell.column), str(cell.value)))
        return found


def _attributes(tag: bytes) -> dict[str, str]:
    return {k.decode(): html.unescape(v.decode("utf-8")) for k, v in re.findall(rb'([\w:]+)="([^"]*)"', tag)}


def _error_cells_xml(path: Path, sheet: str) -> list[tuple[int, int, str]]:
    with zipfile.ZipFile(path) as z:
        rid = next(a.get("r:id") for a in map(_attributes, re.findall(rb"<(?:\w+:)?sheet\s[^>]*>",
                                                                        z.read("xl/workbook.xml")))
                   if a.get("name") == sheet)
        target = next(a["Target"] for a in map(_attributes, re.findall(rb"<(?:\w+:)?Relationship\s[^>]*>",
                                                                       z.read("xl/_rels/workbook.xml.rels")))
                      if a.get("Id") == rid)
        data = z.read(target.lstrip("/") if target.startswith("/") else f"xl/{target}")
    found: list[tuple[int, int, str]] = []
    if b't="e"' not in data:
        return found
    for tag, body in re.findall(rb'<c\s([^>]*\bt="e"[^>]*)>(.*?)</c>', data, flags=re.S):
        ref = re.fullmatch(r"([A-Z]+)(\d+)", _attributes(tag).get("r", ""))
        if ref is None:
            raise ValueError("an error cell without its reference")
        column = 0
        for letter in ref.group(1):
            column = column * 26 + ord(letter) - 64
        value = re.search(rb"<v>([^<]*)</v>", body)
        found.append((int(ref.group(2)), column, html.unescape(value.group(1).decode()) if value else "#ERROR"))
    return found


def _refuse_error_values(table: Table, raw: pd.DataFrame, errors: list[tuple[int, int, str]], *, sheet: str) -> None:
    below = [e for e in errors if table.header_row is None or e[0] > table.header_row]
    if not below:
        return
    header = raw.iloc[(table.header_row or 1) - 1].tolist()

    def column(i: int) -> str:
        name = header[i - 1] if i - 1 < len(header) else None
        return repr(str(name).strip()) if isinstance(name, str) and name.strip() else f"number {i}"

    shown = "; ".join(f"row {r}, column {column(c)}: {v}" for r, c, v in below[:5])
    more = f" (and {len(below) - 5} more)" if len(below) > 5 else ""
    raise DataFileError(
        f"{table.source}, sheet {sheet!r}: {len(below)} cell(s) hold an Excel error value instead of an answer — "
        f"{shown}{more}; a failed formula is not a missing answer: fix the formula in Excel (or clear the cell "
        "if the answer is missing) and save the workbook again"
    )


# --------------------------------------------------------------------------- SPSS, Parquet
def _read_spss(path: Path) -> Table:
    import pyreadstat

    try:
        data, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=False)
    except Exception as exc:
        if isinstance(exc, MemoryError):
            raise
        raise DataFileError(
            f"{path}: not a readable SPSS file ({type(exc).__name__}: {_short(exc)}) — the file may be "
            "truncated or damaged: save it again from SPSS (File > Save As > .sav)"
        ) from None
    if len(data) == 0:
        raise DataFileError(f"{path}: no data rows — the SPSS file defines variables but holds no cases")
    data = clean_text_columns(data.reset_index(drop=True))
    questions = {str(k): str(v) for k, v in (meta.column_names_to_labels or {}).items() if v}
    labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items() if v}
    return Table(data=data, source=path, format="spss", first_data_row=1, question_text=questions,
                 value_labels=labels)


def _read_parquet(path: Path) -> Table:
    try:
        # one block per column: no consolidation copy (several times faster for a million rows)
        data = pd.read_parquet(path, engine="pyarrow", to_pandas_kwargs={"split_blocks": True})
    except Exception as exc:
        if isinstance(exc, MemoryError):
            raise
        raise DataFileError(
            f"{path}: not a readable Parquet file ({type(exc).__name__}: {_short(exc)}) — the file may be "
            "truncated or damaged: write it again"
        ) from None
    if not isinstance(data.index, pd.RangeIndex):
        data = data.reset_index()  # a stored index (e.g. respondent ids) becomes a column
    data.columns = [unicodedata.normalize("NFC", str(c).strip()) for c in data.columns]
    check_unique_names(list(data.columns), path, where="the file")
    if len(data) == 0:
        raise DataFileError(f"{path}: no data rows — the Parquet file has columns but no rows")
    data = clean_text_columns(data.reset_index(drop=True))
    return Table(data=data, source=path, format="parquet", first_data_row=1)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- read_table
def read_table(path: str | Path, *, format: str = "auto", sheet: str | int | None = None,
               encoding: str | None = None, delimiter: str | None = None,
               config_key: str | None = None) -> Table:
    """Read a survey export or any study table into a :class:`Table`.

    Parameters
    ----------
    path : str or Path
        The file.
    format : {"auto", "csv", "excel", "spss", "qualtrics", "parquet"}
        ``"auto"`` chooses by extension: ``.csv .txt .tsv`` -> CSV (a Qualtrics export is
        recognised by its header rows), ``.xlsx`` -> Excel, ``.sav .zsav`` -> SPSS,
        ``.parquet .pq`` -> Parquet. ``"qualtrics"`` requires a Qualtrics layout.
    sheet : str or int, optional
        Excel sheet name, or 0-based index; default the first sheet.
    encoding : str, optional
        Text encoding of a CSV file (a Python codec name such as ``"cp1258"``). Default:
        a byte-order mark (UTF-8, UTF-16 LE/BE) decides, else strict UTF-8.
    delimiter : str, optional
        CSV delimiter; default: detected among ``, ; TAB |``.
    config_key : str, optional
        The study.yaml key that names this file (e.g. ``"responses.file"``,
        ``"population"``): messages then point at the right settings.

    Returns
    -------
    Table
        ``data`` with text columns as strings (empty -> missing) and columns that hold
        only numbers or missing cells as numbers (int64 when whole and complete, else
        float64); see :class:`Table` for the other fields.

    Raises
    ------
    DataFileError
        When the file is missing, empty, has only a header, has an unknown extension, is
        not valid text in the encoding, cannot be split into columns, or is truncated or
        damaged; the message names the file and the fix.
    ConfigError
        When ``encoding`` or ``delimiter`` is invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "responses.csv"
    >>> _ = p.write_text("id;region;q1\\nR1;Hanoi;5\\nR2;;4\\n", encoding="utf-8-sig")
    >>> t = read_table(p)
    >>> t.format, t.first_data_row, list(t.data.columns)
    ('csv', 2, ['id', 'region', 'q1'])
    >>> t.data["q1"].tolist(), t.data["region"].isna().tolist()
    ([5, 4], [False, True])
    """
    path = Path(path)
    if format not in ("auto", *FORMATS):
        raise ConfigError(
            f"{path}: unknown format {format!r} — use one of: auto, {', '.join(FORMATS)}"
            + (" (responses.format in study.yaml)" if is_responses_key(config_key) else "")
        )
    kind_of = file_kind(path)  # never opens it: a named pipe would block the read
    if kind_of == "missing":
        raise DataFileError(f"{path}: file not found — {file_hint(config_key)}")
    if kind_of != "a file":
        raise DataFileError(f"{path}: this is {kind_of}, not a data file — {file_hint(config_key)}")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be opened ({exc.strerror or exc}) — check that the file is "
                            "readable and not open in another program") from None
    if size == 0:
        raise DataFileError(f"{path}: the file is empty (0 bytes): no data rows — export the data again")

    kind = format
    if format == "auto":
        ext = path.suffix.lower()
        kind = _EXTENSIONS.get(ext, "")
        if not kind:
            fmt_fix = ("rename the file with one of these extensions, or set responses.format in study.yaml "
                       f"to one of: {', '.join(FORMATS)}" if is_responses_key(config_key)
                       else "save the file in one of these formats")
            raise DataFileError(
                f"{path}: unknown file type {ext or '(no extension)'!r} — readable files are {_FORMAT_HELP}; "
                + fmt_fix
            )
        for magic, real, label in _MAGIC:
            if head.startswith(magic) and real != kind and not (real == "xls" and kind == "excel"):
                raise DataFileError(
                    f"{path}: the file is named {ext} but its content is {label} — give it the right "
                    f"extension, or save it again as {ext}"
                    + (f" (or set responses.format: {real})" if is_responses_key(config_key)
                       and real in FORMATS else "")
                )

    try:
        if kind in ("csv", "qualtrics"):
            return read_text_table(path, encoding=encoding, delimiter=delimiter,
                             force_qualtrics=kind == "qualtrics", config_key=config_key)
        if kind == "excel":
            return _read_excel(path, sheet=sheet, config_key=config_key)
        if kind == "spss":
            return _read_spss(path)
        return _read_parquet(path)
    except CsmError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # any other low-level failure is still the file's fault
        raise DataFileError(
            f"{path}: cannot be read as {kind} ({type(exc).__name__}: {_short(exc)}) — check that the file "
            f"is a complete {kind} file (export it again)"
            + (" and that responses.format fits it" if is_responses_key(config_key) else "")
        ) from None
