"""Loading survey exports and the other tables of a study.

Every reader returns a :class:`Table`: the rows as a DataFrame plus what a message needs to
point a user at the right place in the file (``source``, ``format``, user row numbers) and
what the export tool knew about the columns (question wording, SPSS value labels).

Formats (SPEC §1.3): CSV (any of ``, ; TAB |``; UTF-8, UTF-8 with BOM, UTF-16, or a named
encoding), Qualtrics CSV exports (current layout with three header rows, legacy layout with
two), Excel ``.xlsx``, SPSS ``.sav``/``.zsav`` with value labels, and Parquet.

Text files are read as text first and converted column by column afterwards, so that a
value such as ``"five"`` in a numeric column is reported by :mod:`csm_helpers.study.validate`
instead of silently becoming missing. Text cells and column names are stripped of
surrounding spaces and put in Unicode NFC form, so that "Huế" stored with combining marks
(as Windows-1258 files and some Vietnamese keyboards store it) equals "Huế" typed
precomposed. Any failure to read a file is a
:class:`~csm_helpers.core.errors.DataFileError` that names the file and the fix.

Row numbers in messages are the rows a user sees: in a CSV or Excel file the header is
row 1 and the first data row is row 2 (row 4 in a current Qualtrics export, row 3 in a
legacy one); blank rows count, as they do in a spreadsheet. SPSS and Parquet files have no
header row: their row numbers are case numbers, 1 for the first case (as in SPSS's Data
View).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.errors import ConfigError, CsmError, DataError, DataFileError
from csm_helpers.study.config import Study
from csm_helpers.study.table import MISSING_TOKENS, Table, numeric_view

__all__ = [
    "FORMATS",
    "ROW_ID",
    "qualtrics_left_out",
    "MISSING_TOKENS",
    "Table",
    "load_responses",
    "read_study_table",
    "read_table",
]

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
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_MARKUP = re.compile(r"^[\ufeff\s]*<(?:!doctype\s+html|html[\s>]|\?xml|table[\s>])", re.IGNORECASE)
_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"\s*:', re.IGNORECASE)
_RESPONSE_ID = {"responseid", "response id", "responseid."}
_MAGIC = (
    (b"PK\x03\x04", "excel", "an Excel .xlsx workbook"),
    (b"\xd0\xcf\x11\xe0", "xls", "an old Excel 97-2003 .xls workbook"),
    (b"$FL2", "spss", "an SPSS .sav file"),
    (b"$FL3", "spss", "an SPSS .zsav file"),
    (b"PAR1", "parquet", "a Parquet file"),
)
_TABLE_KEYS = {
    "population": "population",
    "complaints": "complaints.file",
    "lost_customers": "lost_customers.file",
    "interviews": "interviews.file",
}
#: Study keys whose value is a spec with a ``file`` and column settings (vs. a bare path).
_SPEC_KEYS = ("interviews", "complaints", "lost_customers")


# --------------------------------------------------------------------------- helpers
def _is_responses(config_key: str | None) -> bool:
    return config_key is None or config_key.startswith("responses")


def _setting_hint(config_key: str | None, setting: str, example: str) -> str:
    """How to change a reading setting, for the file named by ``config_key``."""
    if _is_responses(config_key):
        return f"set responses.{setting} in study.yaml (e.g. {setting}: {example})"
    return {
        "encoding": "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8')",
        "delimiter": "save the file with a comma, semicolon, tab or | between columns",
        "format": "save the file in one of these formats",
        "sheet": "move the data to the first sheet of the workbook",
    }[setting]


def _file_hint(config_key: str | None) -> str:
    if config_key:
        return f"check '{config_key}' in study.yaml (paths are relative to study.yaml)"
    return "check the path"


def _unique_names(names: list[str], path: Path, *, where: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataFileError(
                f"{path}: the column name {name!r} appears twice in {where} (columns {seen[name] + 1} "
                f"and {i + 1}) — rename one of them so that every column has its own name"
            )
        seen[name] = i


def _blank(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of rows whose cells are all empty (NA or spaces)."""
    if frame.shape[1] == 0:
        return np.ones(len(frame), dtype=bool)
    empty = np.ones(len(frame), dtype=bool)
    for col in range(frame.shape[1]):
        s = frame.iloc[:, col]
        empty &= (s.isna() | (s.astype("str").str.strip() == "")).to_numpy(dtype=bool)
    return empty


def _nfc(text: pd.Series) -> pd.Series:
    """Unicode NFC form of a text column (only non-ASCII cells can change: fast)."""
    other = ~text.str.isascii().fillna(True).astype(bool)
    if not other.any():
        return text
    return text.where(~other, text[other].str.normalize("NFC"))


def _convert_text_column(s: pd.Series, *, decimal_comma: bool = False) -> pd.Series:
    """A column read as text -> numbers when every cell is a number or missing, else text.

    Whole numbers with no missing cell become int64, other numbers float64. Text that
    looks like a number but would lose information as one stays text: leading zeros
    (``"007"``, postcodes, ids) and integers of more than 15 digits (long ids).
    """
    text = _nfc(s.astype("str").str.strip())
    text = text.where(s.notna() & (text != ""))
    values, bad = numeric_view(s, decimal_comma=decimal_comma)
    if bad.any():
        return text
    present = text.notna() & ~text.isin(MISSING_TOKENS)
    if not present.any():
        return pd.Series(np.nan, index=s.index, dtype="float64")
    shown = text[present]
    if shown.str.fullmatch(r"[+-]?0\d+").any() or shown.str.fullmatch(r"[+-]?\d{16,}").any():
        return text
    if present.all() and shown.str.fullmatch(r"[+-]?\d+").all():
        return values.astype("int64")
    return values


def _clean_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip text cells and turn empty text into missing (typed formats: SPSS, Parquet).

    Only the text columns are replaced: the frame is not copied (copy-on-write keeps ``frame``
    unchanged), which matters for a million rows.
    """
    out = frame.copy(deep=False)
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.StringDtype):
            text = _nfc(s.str.strip())
            out[col] = text.mask(text.eq("").fillna(False).astype(bool))
        elif s.dtype == object:
            text = s.map(lambda v: unicodedata.normalize("NFC", v.strip()) if isinstance(v, str) else v)
            out[col] = text.where(~text.map(lambda v: isinstance(v, str) and v == ""))
    return out


def _finish_text_frame(raw: pd.DataFrame, path: Path, *, fmt: str, header_rows: int,
                       question_row: bool, where: str, decimal_comma: bool = False,
                       blank: np.ndarray | None = None) -> Table:
    """Turn a frame read as text with ``header=None`` into a Table.

    Leading blank rows are skipped; the first non-blank row is the header; ``header_rows``
    rows in all (Qualtrics has 3 or 2) precede the data. Blank data rows are dropped, their
    row numbers kept in ``file_rows``.
    """
    if blank is None:
        blank = _blank(raw)
    nonblank = np.flatnonzero(~blank)
    if len(nonblank) == 0:
        raise DataFileError(f"{path}: the file is empty: no header and no data rows — export the data again")
    top = int(nonblank[0])
    names = [unicodedata.normalize("NFC", v.strip()) if isinstance(v, str) else ""
             for v in raw.iloc[top].tolist()]
    names = [n or f"Unnamed: {i}" for i, n in enumerate(names)]
    questions: dict[str, str] = {}
    if question_row:
        qrow = raw.iloc[top + 1].tolist()
        questions = {n: str(q).strip() for n, q in zip(names, qrow, strict=True)
                     if isinstance(q, str) and q.strip()}
    body = raw.iloc[top + header_rows:]
    keep = ~blank[top + header_rows:]
    rows = np.arange(top + header_rows, len(raw), dtype=np.int64)[keep] + 1
    body = body.iloc[np.flatnonzero(keep)]
    # an unnamed column that holds nothing (e.g. a trailing delimiter) is dropped
    drop = [i for i, n in enumerate(names)
            if n.startswith("Unnamed: ") and _blank(body.iloc[:, [i]]).all()]
    keep_cols = [i for i in range(len(names)) if i not in drop]
    names = [names[i] for i in keep_cols]
    _unique_names(names, path, where=where)
    if len(body) == 0:
        what = "only the header row" if header_rows == 1 else f"only the {header_rows} header rows of the export"
        raise DataFileError(f"{path}: no data rows — the file has {what}; export the responses again")
    data = pd.DataFrame({name: _convert_text_column(body.iloc[:, i].reset_index(drop=True),
                                                    decimal_comma=decimal_comma)
                         for name, i in zip(names, keep_cols, strict=True)})
    consecutive = bool(np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))))
    return Table(data=data, source=path, format=fmt, first_data_row=int(rows[0]),
                 question_text={k: v for k, v in questions.items() if k in data.columns},
                 file_rows=None if consecutive else rows)


# --------------------------------------------------------------------------- CSV
#: Legacy encodings a survey export from our users' tools may be in, tried in this order when a
#: file is not UTF-8 (to tell the user which one to set; never applied silently).
LEGACY_ENCODINGS = ("gbk", "big5", "cp1258", "cp1252")
_VI_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _line_of(raw: bytes, pos: int) -> tuple[int, bytes]:
    """(1-based line number, bytes of that line) of byte offset ``pos``."""
    start = raw.rfind(b"\n", 0, pos) + 1
    end = raw.find(b"\n", pos)
    return raw[:pos].count(b"\n") + 1, raw[start:end if end >= 0 else len(raw)].rstrip(b"\r")


def _snippet(text: str, limit: int = 48) -> str:
    """The part of one line around its first non-ASCII character, for a message."""
    text = unicodedata.normalize("NFC", text)
    first = next((i for i, ch in enumerate(text) if ord(ch) > 127), 0)
    start = max(0, first - 12)
    out = text[start:start + limit]
    out = "".join(ch if ch.isprintable() else "?" for ch in out)
    return ("…" if start else "") + out + ("…" if start + limit < len(text) else "")


def _plausibility(text: str, encoding: str) -> float:
    """How much ``text`` (decoded with ``encoding``) looks like real writing, 0..1.

    A heuristic to rank the legacy encodings a user may need, never to decode silently:
    Chinese text read with the right codec gives common characters (GB2312 for GBK, Big5
    level 1 for Big5); Latin text read with the right single-byte codec has its accented
    letters inside words of ASCII letters, while CJK bytes read as Latin give runs of
    stray symbols and capitals.
    """
    other = [ch for ch in unicodedata.normalize("NFC", text) if ord(ch) > 127]
    if not other:
        return 0.0
    if encoding in ("gbk", "big5"):
        good = 0
        for ch in other:
            try:
                if encoding == "gbk":
                    ch.encode("gb2312")
                    good += 1
                else:
                    b = ch.encode("big5")
                    good += len(b) == 2 and (0xA1 <= b[0] <= 0xA3 or 0xA4 <= b[0] <= 0xC6)
            except UnicodeEncodeError:
                pass
        return good / len(other)
    nfc = unicodedata.normalize("NFC", text)
    good = 0
    for i, ch in enumerate(nfc):
        if ord(ch) <= 127:
            continue
        left = nfc[i - 1] if i else " "
        right = nfc[i + 1] if i + 1 < len(nfc) else " "
        good += ch.isalpha() and (left.isascii() and left.isalpha() or right.isascii() and right.isalpha())
    score = good / len(other)
    if encoding == "cp1258" and any(t in text for t in _VI_TONES):
        score = min(1.0, score + 0.05)  # Vietnamese tone marks stored apart: Windows-1258's habit
    return score


def _encoding_candidates(raw: bytes, pos: int, *, exclude: str = "") -> list[tuple[str, str]]:
    """Legacy encodings that decode the whole file, best first, each with how the line of
    byte ``pos`` reads in it."""
    _, line = _line_of(raw, pos)
    found = []
    for enc in LEGACY_ENCODINGS:
        if enc == exclude:
            continue
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        text = line.decode(enc, errors="replace")
        found.append((_plausibility(text, enc), enc, _snippet(text)))
    found.sort(key=lambda t: -t[0])
    return [(enc, snippet) for _, enc, snippet in found]


def _candidates_text(cands: list[tuple[str, str]]) -> str:
    if not cands:
        return ""
    readings = "; ".join(f"as {enc} it reads {snippet!r}" for enc, snippet in cands[:3])
    return f" — it looks like {cands[0][0]} ({readings})"


def _decode(raw: bytes, path: Path, encoding: str | None, config_key: str | None) -> str:
    """Decode a text file: a byte-order mark decides, else ``encoding``, else strict UTF-8.

    Never guesses silently: a file that is not UTF-8 and has no ``encoding`` set is an
    error naming the legacy encodings that would read it (with how the offending line reads
    in each), and an ``encoding`` set for a file that is in fact UTF-8 is an error too — it
    would turn every accented or Chinese character into mojibake.
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        enc = "utf-32"
    elif raw.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    elif encoding:
        try:
            enc = codecs.lookup(encoding).name
        except LookupError:
            where = "responses.encoding in study.yaml" if _is_responses(config_key) else "the encoding"
            raise ConfigError(
                f"{path}: unknown text encoding {encoding!r} — set {where} to a Python codec name "
                "such as utf-8, cp1252 (Western Europe), cp1258 (Vietnamese Windows), gbk or big5 (Chinese)"
            ) from None
        if enc not in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32") and not raw.isascii():
            try:
                as_utf8 = raw.decode("utf-8")
            except UnicodeDecodeError:
                as_utf8 = None
            if as_utf8 is not None:  # legacy bytes almost never form valid UTF-8 by chance
                pos = next(i for i, b in enumerate(raw) if b > 127)
                line, text = _line_of(raw, pos)
                setting = "responses.encoding" if _is_responses(config_key) else "the encoding"
                raise DataFileError(
                    f"{path}: {setting} is {encoding!r}, but the file is UTF-8 text: line {line} reads "
                    f"{_snippet(text.decode('utf-8'))!r} as UTF-8 and "
                    f"{_snippet(text.decode(enc, errors='replace'))!r} as {enc} — remove {setting} from "
                    "study.yaml (UTF-8 is read by default)"
                )
    else:
        head = raw[:4000]
        if head.count(b"\x00") > len(head) // 4:
            # UTF-16 without a byte-order mark: ASCII characters have a zero high byte
            enc = "utf-16-le" if head[1::2].count(b"\x00") > head[0::2].count(b"\x00") else "utf-16-be"
        else:
            enc = "utf-8"
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as exc:
        line, _ = _line_of(raw, exc.start)
        found = raw[exc.start:exc.start + 4]
        cands = _encoding_candidates(raw, exc.start, exclude=enc)
        if encoding:
            if _is_responses(config_key):
                best = cands[0][0] if cands else "cp1258"
                fix = f"check responses.encoding in study.yaml (e.g. encoding: {best})"
            else:
                fix = _setting_hint(config_key, "encoding", "")
            raise DataFileError(
                f"{path}: the text cannot be read as {enc}: byte {exc.start} (line {line}) is {found!r}"
                f"{_candidates_text(cands)} — {fix}"
            ) from None
        if _is_responses(config_key):
            best = cands[0][0] if cands else None
            fix = (f"set responses.encoding: {best} in study.yaml if that reads right" if best else
                   "set responses.encoding in study.yaml to the file's encoding, e.g. cp1258 (Vietnamese "
                   "Windows), gbk or big5 (Chinese), cp1252 (Western Europe)")
            fix += " — or save the file as 'CSV UTF-8'"
        else:
            fix = "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8')"
        raise DataFileError(
            f"{path}: the text is not UTF-8: byte {exc.start} (line {line}) is {found!r}"
            f"{_candidates_text(cands)} — {fix}"
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The delimiter among , ; TAB | that splits the first records most consistently."""
    sample = text[:65536]
    truncated = len(text) > len(sample)
    best, best_score = ",", (0.0, 0)
    for delim in _DELIMITERS:
        try:
            records = []
            for rec in csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"'):
                if any(c.strip() for c in rec):
                    records.append(len(rec))
                if len(records) >= 30:
                    break
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]
        if not records or records[0] < 2:
            continue
        consistent = sum(n == records[0] for n in records) / len(records)
        score = (consistent, records[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(path: Path, *, encoding: str | None, delimiter: str | None, force_qualtrics: bool,
              config_key: str | None) -> Table:
    raw_bytes = path.read_bytes()
    text = _decode(raw_bytes, path, encoding, config_key)
    if not text.strip():
        raise DataFileError(f"{path}: the file is empty: no header and no data rows — export the data again")
    if _MARKUP.match(text):
        kind = "an XML document" if text.lstrip("\ufeff \t\r\n").startswith("<?xml") else "an HTML page"
        raise DataFileError(
            f"{path}: this is {kind}, not a CSV export (it starts with "
            f"{text.lstrip()[:30]!r}) — export the responses again as CSV (comma- or semicolon-separated)"
            + (", Excel .xlsx or SPSS .sav" if _is_responses(config_key) else "")
        )
    if delimiter is not None:
        if delimiter.lower() in ("\\t", "tab"):
            delimiter = "\t"
        if len(delimiter) != 1:
            raise ConfigError(
                f"{path}: delimiter {delimiter!r} must be a single character — "
                + _setting_hint(config_key, "delimiter", "';'")
            )
        delim = delimiter
    else:
        delim = _sniff_delimiter(text)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=delim, header=None, dtype=str, keep_default_na=False,
                          na_filter=False, skip_blank_lines=False, quotechar='"', engine="c")
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: the file is empty: no header and no data rows — export the data again"
                            ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().replace("C error: ", "")
        raise DataFileError(
            f"{path}: cannot split the file into columns with the {_DELIMITER_NAMES.get(delim, repr(delim))} "
            f"delimiter ({detail}) — a row has more cells than the header, or a quote is not closed: put "
            "text that contains the delimiter or line breaks in double quotes, or "
            + _setting_hint(config_key, "delimiter", repr(";"))
        ) from None
    if raw.shape[0] == 0:
        raise DataFileError(f"{path}: the file is empty: no header and no data rows — export the data again")
    if delimiter is not None and raw.shape[1] == 1:
        _check_single_column(text, path, delim, config_key)
    # Qualtrics layouts (looked for in the first records after the header)
    blank = _blank(raw)
    nonblank = np.flatnonzero(~blank)
    top = int(nonblank[0]) if len(nonblank) else 0
    fmt, header_rows = "csv", 1

    def cells(i: int) -> list[str]:
        return [v for v in raw.iloc[i].tolist() if isinstance(v, str)] if i < len(raw) else []

    for i in (top, top + 1):
        found = next((v for v in cells(i) if _IMPORT_ID.match(v)), None)
        if found:
            raise DataFileError(
                f"{path}: this looks like a Qualtrics export with its header rows out of order or missing: "
                f"row {i + 1} holds the ImportId row ({found.strip()[:40]}), which Qualtrics writes in row 3, "
                "under the column names (row 1) and the question text (row 2) — export the data from "
                "Qualtrics again (Data & Analysis > Export > CSV) and do not edit the header rows"
            )
    _check_swallowed_rows(raw, path, delim, first_row=top, n_lines=len(text.splitlines()))
    if any(_IMPORT_ID.match(v) for v in cells(top + 2)):
        fmt, header_rows = "qualtrics", 3
    elif any(v.strip().lower() in _RESPONSE_ID for v in cells(top + 1)):
        fmt, header_rows = "qualtrics-legacy", 2
    elif force_qualtrics:
        raise DataFileError(
            f"{path}: this is not a Qualtrics CSV export: row 3 holds no ImportId such as "
            '{"ImportId":"QID12"} and row 2 no "ResponseID" — export the data from Qualtrics again '
            "(Data & Analysis > Export > CSV) or " + _setting_hint(config_key, "format", "csv")
        )
    return _finish_text_frame(raw, path, fmt=fmt, header_rows=header_rows, question_row=header_rows > 1,
                              where="the header row", decimal_comma=delim != ",", blank=blank)


def _check_single_column(text: str, path: Path, delim: str, config_key: str | None) -> None:
    """A delimiter set in study.yaml that leaves the header in one column is the wrong one."""
    guess = _sniff_delimiter(text)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if guess != delim and len(next(csv.reader([first], delimiter=guess))) > 1:
        setting = "responses.delimiter" if _is_responses(config_key) else "the delimiter"
        raise DataFileError(
            f"{path}: with {setting} {delim!r} the header row is one single column ({first[:50]!r}); the file "
            f"separates its columns with {guess!r} ({_DELIMITER_NAMES.get(guess, guess)}) — set "
            f"{setting}: {guess!r} in study.yaml, or remove it to have the delimiter detected"
        )


def _check_swallowed_rows(raw: pd.DataFrame, path: Path, delim: str, *, first_row: int, n_lines: int) -> None:
    """A quote opened in a cell and closed many lines later makes the lines in between part of
    that cell: whole respondents vanish without any error. Such a cell holds line breaks
    followed by lines that have as many delimiters as a row — say so, with row and column."""
    ncols = raw.shape[1]
    if ncols < 3 or n_lines <= raw.shape[0]:  # as many records as lines: no cell spans lines
        return
    for j in range(ncols):
        col = raw.iloc[:, j]
        multi = col.str.contains("\n", regex=False).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(multi):
            lines = str(col.iloc[i]).split("\n")[1:]
            rowlike = [ln for ln in lines if ln.count(delim) >= ncols - 1]
            if rowlike:
                name = raw.iloc[first_row, j] if first_row < len(raw) else f"column {j + 1}"
                raise DataFileError(
                    f"{path}, row {i + 1}, column {str(name).strip()!r}: the cell runs over {len(lines) + 1} "
                    f"lines that look like whole rows ({rowlike[0][:40]!r}…): a double quote opened in this "
                    "cell is not closed, so the rows after it were swallowed — fix the quotes in the file "
                    '(a quote inside a text is written twice: "")'
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
                    f"has {listed} — " + _setting_hint(config_key, "sheet", repr(names[0]))
                )
        elif sheet not in names:
            close = difflib.get_close_matches(str(sheet), names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise DataFileError(
                f"{path}: there is no sheet named {sheet!r}: the workbook has {listed} — {hint}"
                + _setting_hint(config_key, "sheet", repr(names[0]))
            )
        try:
            raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=str, na_filter=False)
        except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
            if isinstance(exc, MemoryError):
                raise
            raise DataFileError(
                f"{path}: sheet {sheet!r} cannot be read ({type(exc).__name__}: {_short(exc)}) — the file "
                "may be damaged: open it in Excel and save it again as .xlsx"
            ) from None
    if raw.shape[0] == 0:
        raise DataFileError(f"{path}: sheet {sheet!r} is empty: no header and no data rows — put the header "
                            "in row 1 and one respondent per row below it")
    return _finish_text_frame(raw, path, fmt="excel", header_rows=1, question_row=False,
                              where="the header row")


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
    data = _clean_text_columns(data.reset_index(drop=True))
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
    _unique_names(list(data.columns), path, where="the file")
    if len(data) == 0:
        raise DataFileError(f"{path}: no data rows — the Parquet file has columns but no rows")
    data = _clean_text_columns(data.reset_index(drop=True))
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
            + (" (responses.format in study.yaml)" if _is_responses(config_key) else "")
        )
    if not path.exists():
        raise DataFileError(f"{path}: file not found — {_file_hint(config_key)}")
    if not path.is_file():
        raise DataFileError(f"{path}: this is a folder, not a data file — {_file_hint(config_key)}")
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
                       f"to one of: {', '.join(FORMATS)}" if _is_responses(config_key)
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
                    + (f" (or set responses.format: {real})" if _is_responses(config_key)
                       and real in FORMATS else "")
                )

    try:
        if kind in ("csv", "qualtrics"):
            return _read_csv(path, encoding=encoding, delimiter=delimiter,
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
            + (" and that responses.format fits it" if _is_responses(config_key) else "")
        ) from None


# --------------------------------------------------------------------------- study files
def _label_codes(data: pd.DataFrame, value_labels: dict[str, dict], columns: Sequence[str]) -> pd.DataFrame:
    """Replace coded values by their labels in ``columns`` (SPSS segments: 1 -> "Hanoi").

    A code without a label is kept, written as text (``3.0`` -> ``"3"``).
    """
    out = data
    for col in columns:
        labels = value_labels.get(col)
        if col not in data.columns or not labels:
            continue
        s = data[col]
        if pd.api.types.is_numeric_dtype(s):
            lookup = {float(k): str(v) for k, v in labels.items() if isinstance(k, int | float)}

            def label(v: Any, lookup: dict[float, str] = lookup) -> Any:
                v = float(v)
                return lookup.get(v, str(int(v)) if v.is_integer() else str(v))

        else:
            lookup_text = {str(k).strip(): str(v) for k, v in labels.items()}

            def label(v: Any, lookup: dict[str, str] = lookup_text) -> Any:
                return lookup.get(str(v), v)

        present = s.notna()
        mapped = pd.Series(pd.NA, index=s.index, dtype="object")
        mapped[present] = [label(v) for v in s[present].tolist()]
        if out is data:
            out = data.copy()
        out[col] = mapped.astype("str").where(present)
    return out


def _as_labels(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Wave and segment columns hold labels: numbers such as 2025 become the text "2025" (not
    "2025.0"), so that a wave or segment named in study.yaml or on the command line matches."""
    out = data
    for col in dict.fromkeys(columns):
        if col not in data.columns or not pd.api.types.is_numeric_dtype(data[col]) \
                or pd.api.types.is_bool_dtype(data[col]):
            continue
        s = data[col]
        present = s.notna()
        text = pd.Series(pd.NA, index=s.index, dtype="object")
        text[present] = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in s[present].tolist()]
        if out is data:
            out = data.copy()
        out[col] = text.astype("str").where(present)
    return out


def _to_numbers(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Make text columns numeric where that loses nothing (every cell a number or missing)."""
    out = data
    for col in columns:
        if col not in data.columns or pd.api.types.is_numeric_dtype(data[col]):
            continue
        values, bad = numeric_view(data[col])
        if not bad.any():
            if out is data:
                out = data.copy()
            out[col] = values
    return out


def _qualtrics_column(table: Table, name: str) -> str | None:
    """The column Qualtrics calls ``name``: by its header (current layout) or, in the legacy
    layout (``V1``, ``V2``, … in row 1), by the field name in row 2."""
    if name in table.data.columns:
        return name
    for col, text in table.question_text.items():
        if str(text).strip().lower() == name.lower():
            return col
    return None


def qualtrics_left_out(table: Table, *, keep_previews: bool = False, keep_unfinished: bool = False,
                       id_column: str | None = None) -> Table:
    """A Qualtrics export without its survey previews and unfinished responses, counted.

    Rows with ``Status`` "Survey Preview" (code 1 in a numeric export) and rows with
    ``Finished`` 0 / False are left out unless kept; ``left_out`` counts them by reason, and
    the row numbers of the remaining rows stay those of the file. In the legacy layout the
    response id is ``V1``: an ``id_column`` of ``ResponseID`` names it too.

    Examples
    --------
    >>> t = Table(pd.DataFrame({"ResponseId": ["R1", "R2", "R3"], "Status": ["IP Address", "Survey Preview",
    ...           "IP Address"], "Finished": ["1", "1", "0"]}), Path("q.csv"), "qualtrics", first_data_row=4)
    >>> out = qualtrics_left_out(t)
    >>> out.data["ResponseId"].tolist(), out.left_out, out.row_numbers([0])
    (['R1'], {'survey preview': 1, 'unfinished': 1}, [4])
    """
    data = table.data
    drop = np.zeros(len(data), dtype=bool)
    left: dict[str, int] = {}
    status = _qualtrics_column(table, "Status")
    if status is not None and not keep_previews:
        preview = data[status].astype("string").str.strip().str.lower().isin(["survey preview", "1", "1.0"])
        preview = preview.fillna(False).to_numpy(dtype=bool)
        left["survey preview"] = int(preview.sum())
        drop |= preview
    finished = _qualtrics_column(table, "Finished")
    if finished is not None and not keep_unfinished:
        unfinished = data[finished].astype("string").str.strip().str.lower().isin(["0", "0.0", "false"])
        unfinished = unfinished.fillna(False).to_numpy(dtype=bool) & ~drop
        left["unfinished"] = int(unfinished.sum())
        drop |= unfinished
    rename = {}
    if id_column and id_column not in data.columns:
        found = _qualtrics_column(table, id_column)
        if found is not None:
            rename = {found: id_column}
    if not drop.any() and not rename:
        return dataclasses.replace(table, left_out={k: v for k, v in left.items() if v})
    rows = np.asarray(table.row_numbers(np.arange(len(data))), dtype=np.int64)
    keep = ~drop
    return dataclasses.replace(table, data=data.loc[keep].reset_index(drop=True).rename(columns=rename),
                               file_rows=rows[keep], left_out={k: v for k, v in left.items() if v})


#: ``responses.id: row``: number the respondents by their row in the file (no id column needed).
ROW_ID = "row"


def load_responses(study: Study, *, validate: bool = True) -> Table:
    """Load the study's survey export, ready for analysis.

    Reads ``responses.file`` (with ``responses.format``, ``sheet``, ``encoding``,
    ``delimiter``), maps coded segment columns of an SPSS file to their value labels,
    turns ``responses.missing_codes`` (e.g. 99 = "don't know") into missing answers in the
    rated items, validates the data (:func:`csm_helpers.study.validate.check_responses`) and
    removes the ``responses.personal_data`` columns, which must never reach a report
    (SPEC §4).

    Parameters
    ----------
    study : Study
        The loaded study configuration.
    validate : bool
        Raise :class:`~csm_helpers.core.errors.DataError` listing every problem found. With
        False, call :func:`csm_helpers.study.validate.validate_responses` yourself.

    Returns
    -------
    Table
        Rated items, weight and duration as numbers; personal-data columns removed (their
        names in ``removed_columns``).

    Raises
    ------
    DataFileError
        When the file cannot be read.
    DataError
        When ``validate`` and the data break the study's rules; every problem is listed
        with file, column, rows and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from csm_helpers.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.yaml").write_text(
    ...     "name: Demo\\n"
    ...     "responses: {file: r.csv, id: id, segments: [region], personal_data: [email],"
    ...     " missing_codes: [99]}\\n"
    ...     "overall: sat\\n"
    ...     "attributes: [{id: speed, label: Speed, dimension: process, performance: p_speed}]\\n")
    >>> _ = (d / "r.csv").write_text(
    ...     "id,region,email,sat,p_speed\\n1,North,a@x.org,5,4\\n2,South,b@x.org,99,3\\n")
    >>> t = load_responses(load_study(d))
    >>> list(t.data.columns), t.removed_columns
    (['id', 'region', 'sat', 'p_speed'], ('email',))
    >>> t.data["sat"].tolist()
    [5.0, nan]
    """
    spec = study.responses
    path = study.resolve(spec.file, key="responses.file")
    table = read_table(path, format=spec.format, sheet=spec.sheet, encoding=spec.encoding,
                       delimiter=spec.delimiter, config_key="responses.file")
    if table.format.startswith("qualtrics"):
        table = qualtrics_left_out(table, keep_previews=spec.qualtrics.keep_previews,
                                   keep_unfinished=spec.qualtrics.keep_unfinished, id_column=spec.id)
    data = _label_codes(table.data, table.value_labels, spec.segments)
    data = _as_labels(data, [c for c in (spec.wave, *spec.segments) if c])
    if spec.id == ROW_ID and ROW_ID not in data.columns:  # an export without a unique id
        data = data.copy()
        data.insert(0, ROW_ID, table.row_numbers(np.arange(len(data))))
    rated = [c for c in study.rated_items() if c in data.columns]
    numeric = rated + [c for c in (spec.weight, spec.duration) if c]
    data = _to_numbers(data, numeric)
    if spec.missing_codes:
        codes = [float(c) for c in spec.missing_codes]
        for col in rated:
            values, _ = numeric_view(data[col])
            is_code = values.isin(codes).to_numpy()
            if is_code.any():
                if data is table.data:
                    data = data.copy()
                col_data = data[col]
                if pd.api.types.is_numeric_dtype(col_data):
                    col_data = col_data.astype("float64")
                data[col] = col_data.mask(is_code)
    table = dataclasses.replace(table, data=data)
    if validate:
        from csm_helpers.study.validate import check_responses

        check_responses(table, study)
    removed = tuple(c for c in spec.personal_data if c in data.columns)
    if removed:
        data = data.drop(columns=list(removed))
    return dataclasses.replace(
        table,
        data=data,
        question_text={k: v for k, v in table.question_text.items() if k not in removed},
        value_labels={k: v for k, v in table.value_labels.items() if k not in removed},
        removed_columns=removed,
    )


def read_study_table(study: Study, key: str, *, required: Sequence[str] = ()) -> Table:
    """Read one of the study's other tables: population, complaints, lost customers, interviews.

    The file comes from the study key (``population``, ``complaints``, ``lost_customers``
    or ``interviews.file``); the format follows the extension (see :func:`read_table`).
    Coded segment columns of an SPSS file are mapped to their labels, and columns listed
    in ``responses.personal_data`` are removed unless ``required`` names them.

    Parameters
    ----------
    study : Study
        The loaded study configuration.
    key : {"population", "complaints", "lost_customers", "interviews"}
        Which table.
    required : sequence of str
        Columns the caller needs.

    Returns
    -------
    Table

    Raises
    ------
    ConfigError
        When the study names no file for ``key``.
    DataFileError
        When the file is missing or unreadable.
    DataError
        When required columns are missing; each is listed with close matches and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from csm_helpers.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.yaml").write_text(
    ...     "name: Demo\\nresponses: {file: r.csv, id: id}\\noverall: sat\\npopulation: pop.csv\\n"
    ...     "attributes: [{id: speed, label: Speed, dimension: process, performance: p_speed}]\\n")
    >>> _ = (d / "pop.csv").write_text("region,size\\nNorth,1200\\nSouth,800\\n")
    >>> read_study_table(load_study(d), "population", required=["region", "size"]).data["size"].sum()
    np.int64(2000)
    """
    if key not in _TABLE_KEYS:
        raise ValueError(f"unknown study table {key!r}; use one of: {', '.join(_TABLE_KEYS)}")
    config_key = _TABLE_KEYS[key]
    spec = getattr(study, key)
    rel = (spec.file if spec else None) if key in _SPEC_KEYS else spec
    if not rel:
        raise ConfigError(
            f"{study.path}: the study names no {key.replace('_', ' ')} file — add '{key}: <file>' "
            f"to {study.path.name} (the path is relative to it)"
        )
    path = study.resolve(rel, key=config_key)
    table = read_table(path, config_key=config_key)
    data = _label_codes(table.data, table.value_labels, study.responses.segments)
    removed = tuple(c for c in study.responses.personal_data if c in data.columns and c not in required)
    if removed:
        data = data.drop(columns=list(removed))
    missing = [c for c in required if c not in data.columns]
    if missing:
        setting = {}
        if key in _SPEC_KEYS:
            setting = {getattr(spec, f): f"{key}.{f}" for f in type(spec).model_fields
                       if f != "file" and isinstance(getattr(spec, f), str)}
        columns = list(data.columns)
        problems = []
        for col in missing:
            close = _close_columns(col, columns)
            hint = f"did you mean {close}? " if close else ""
            fix = "rename the column in the file"
            if col in setting:
                fix += f" or set {setting[col]} in study.yaml"
            problems.append(f"column '{col}' is missing — {hint}{fix}")
        shown = ", ".join(repr(c) for c in columns[:15]) + (" ..." if len(columns) > 15 else "")
        raise DataError(
            f"{path.name} (key '{config_key}' in study.yaml): {len(missing)} required column(s) missing; "
            f"the file has {shown}",
            problems,
        )
    return dataclasses.replace(
        table, data=data, removed_columns=removed,
        question_text={k: v for k, v in table.question_text.items() if k not in removed},
        value_labels={k: v for k, v in table.value_labels.items() if k not in removed},
    )


def _close_columns(name: str, columns: Sequence[str]) -> str:
    """``"'Q7'"`` / ``"'q7a' or 'q7b'"``: columns close to ``name`` (case-insensitive first)."""
    same_case = [c for c in columns if c.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, list(columns), n=2, cutoff=0.6)
    return " or ".join(repr(c) for c in close)
