"""Text exports (CSV, TSV, a Qualtrics CSV in either layout): the encoding (UTF-8, else the legacy encoding that fits, named — never applied silently), the delimiter, the header rows, and text cells cleaned (NFC, numbers as numbers)."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from csm_helpers.core.errors import ConfigError, DataFileError
from csm_helpers.study.readers.common import is_responses_key, setting_hint
from csm_helpers.study.table import MISSING_TOKENS, Table, numeric_view, text_fullmatch

__all__ = ["check_unique_names", "clean_text_columns", "finish_text_frame", "LEGACY_ENCODINGS", "read_text_table"]


_DELIMITERS = (",", ";", "\t", "|")


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


_MARKUP = re.compile(r"^[\ufeff\s]*<(?:!doctype\s+html|html[\s>]|\?xml|table[\s>])", re.IGNORECASE)


_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"\s*:', re.IGNORECASE)


_RESPONSE_ID = {"responseid", "response id", "responseid."}


def check_unique_names(names: list[str], path: Path, *, where: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataFileError(
                f"{path}: the column name {name!r} appears twice in {where} (columns {seen[name] + 1} "
                f"and {i + 1}) — rename one of them so that every column has its own name"
            )
        seen[name] = i


def _empty_cells(frame: pd.DataFrame) -> np.ndarray:
    """Boolean rows x columns mask of the empty cells (NA or spaces)."""
    out = np.ones(frame.shape, dtype=bool)
    for col in range(frame.shape[1]):
        s = frame.iloc[:, col]
        out[:, col] = (s.isna() | (s.astype("str").str.strip() == "")).to_numpy(dtype=bool)
    return out


def _blank(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of rows whose cells are all empty (NA or spaces)."""
    return _empty_cells(frame).all(axis=1)


def _nfc(text: pd.Series) -> pd.Series:
    """Unicode NFC form of a text column (only non-ASCII cells can change: fast)."""
    other = ~text.str.isascii().fillna(True).astype(bool)
    if not other.any():
        return text
    return text.where(~other, text[other].str.normalize("NFC"))


#: Cells typed in one vectorised pass (:func:`_convert_text_columns`): a 2,400 × 60 export in
#: one, a million rows two columns at a time (memory stays near the frame's own size).
_CELLS_PER_PASS = 2_000_000


def _convert_text_columns(body: pd.DataFrame, *, decimal_comma: bool = False) -> list[pd.Series]:
    """Each column of ``body`` (read as text) -> numbers when every cell is a number or missing,
    else text.

    Whole numbers with no missing cell become int64, other numbers float64. Text that looks
    like a number but would lose information as one stays text: leading zeros (``"007"``,
    postcodes, ids) and integers of more than 15 digits (long ids).

    The per-cell work (strip, NFC, the number and missing-token tests) is done once over the
    columns stacked into one long column, not once per column: pandas' fixed cost per
    operation, times a dozen operations, times 60 columns, was most of the time a survey
    export took to read (0.8 s of 1.0 s for the sample's 2,400 × 60). With ``decimal_comma``
    the numbers are read column by column (:func:`numeric_view`: whether ``"4,5"`` is a
    number depends on the rest of its column).
    """
    n, k = body.shape
    step = max(1, _CELLS_PER_PASS // max(n, 1))
    out: list[pd.Series] = []
    for first in range(0, k, step):
        cols = range(first, min(k, first + step))
        long = pd.concat([body.iloc[:, i] for i in cols], ignore_index=True)
        text = _nfc(long.astype("str").str.strip())
        text = text.where(long.notna() & (text != ""))
        if decimal_comma:
            views = [numeric_view(body.iloc[:, i].reset_index(drop=True), decimal_comma=True) for i in cols]
            values = pd.concat([v for v, _b in views], ignore_index=True)
            bad = pd.concat([b for _v, b in views], ignore_index=True)
        else:
            values, bad = numeric_view(long)
        present = text.notna() & ~text.isin(MISSING_TOKENS)
        shown = text.where(present)

        def per_column(mask: pd.Series, width: int = len(cols)) -> np.ndarray:
            return mask.fillna(False).to_numpy(dtype=bool).reshape(width, n)

        bad_c = per_column(bad).any(axis=1)
        present_c = per_column(present)
        as_text = (per_column(text_fullmatch(shown, r"[+-]?0\d+")).any(axis=1)
                   | per_column(text_fullmatch(shown, r"[+-]?\d{16,}")).any(axis=1))
        whole = per_column(text_fullmatch(shown, r"[+-]?\d+") | ~present).all(axis=1)
        for j in range(len(cols)):
            part = slice(j * n, (j + 1) * n)
            if bad_c[j] or as_text[j]:
                out.append(text.iloc[part].reset_index(drop=True))
            elif not present_c[j].any():
                out.append(pd.Series(np.nan, index=pd.RangeIndex(n), dtype="float64"))
            elif present_c[j].all() and whole[j]:
                out.append(values.iloc[part].reset_index(drop=True).astype("int64"))
            else:
                out.append(values.iloc[part].reset_index(drop=True))
    return out


def clean_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
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


def finish_text_frame(raw: pd.DataFrame, path: Path, *, fmt: str, header_rows: int,
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
    top = _header_position(raw, nonblank)
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
    check_unique_names(names, path, where=where)
    if len(body) == 0:
        what = "only the header row" if header_rows == 1 else f"only the {header_rows} header rows of the export"
        raise DataFileError(f"{path}: no data rows — the file has {what}; export the responses again")
    converted = _convert_text_columns(body.iloc[:, keep_cols], decimal_comma=decimal_comma)
    data = pd.DataFrame(dict(zip(names, converted, strict=True)))
    consecutive = bool(np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))))
    return Table(data=data, source=path, format=fmt, first_data_row=int(rows[0]),
                 question_text={k: v for k, v in questions.items() if k in data.columns},
                 file_rows=None if consecutive else rows, header_row=top + 1)


def _header_position(raw: pd.DataFrame, nonblank: np.ndarray, *, look: int = 10) -> int:
    """Position of the header row: the first non-blank row, unless it (and any like it) is a
    title above the header — one filled cell (a merged title cell in Excel, "Customer survey
    2026" on a line of its own) followed by a row with several — in the first ``look`` rows."""
    top = int(nonblank[0])
    if raw.shape[1] < 2:
        return top
    filled = (~_empty_cells(raw.iloc[nonblank[:look]])).sum(axis=1)
    for k in range(len(filled) - 1):
        if filled[k] > 1:
            break
        if filled[k + 1] > 1:
            return int(nonblank[k + 1])
    return top


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
            where = "responses.encoding in study.yaml" if is_responses_key(config_key) else "the encoding"
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
                setting = "responses.encoding" if is_responses_key(config_key) else "the encoding"
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
            if is_responses_key(config_key):
                best = cands[0][0] if cands else "cp1258"
                fix = f"check responses.encoding in study.yaml (e.g. encoding: {best})"
            else:
                fix = setting_hint(config_key, "encoding", "")
            raise DataFileError(
                f"{path}: the text cannot be read as {enc}: byte {exc.start} (line {line}) is {found!r}"
                f"{_candidates_text(cands)} — {fix}"
            ) from None
        if is_responses_key(config_key):
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


def _width_below_title(text: str, delim: str, *, look: int = 10) -> int | None:
    """The header's width when the first non-blank line is a title (a single cell) and a wider
    line follows within ``look`` lines; None otherwise (then a row that is too wide is an error)."""
    records = [r for r in itertools.islice(csv.reader(io.StringIO(text), delimiter=delim), look)
               if any(c.strip() for c in r)]
    if len(records) < 2 or len(records[0]) != 1:
        return None
    return next((len(r) for r in records[1:] if len(r) > 1), None)


def read_text_table(path: Path, *, encoding: str | None, delimiter: str | None, force_qualtrics: bool,
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
            + (", Excel .xlsx or SPSS .sav" if is_responses_key(config_key) else "")
        )
    if delimiter is not None:
        if delimiter.lower() in ("\\t", "tab"):
            delimiter = "\t"
        if len(delimiter) != 1:
            raise ConfigError(
                f"{path}: delimiter {delimiter!r} must be a single character — "
                + setting_hint(config_key, "delimiter", "';'")
            )
        delim = delimiter
    else:
        delim = _sniff_delimiter(text)
    try:
        try:
            raw = pd.read_csv(io.StringIO(text), sep=delim, header=None, dtype=str, keep_default_na=False,
                              na_filter=False, skip_blank_lines=False, quotechar='"', engine="c")
        except pd.errors.ParserError:
            width = _width_below_title(text, delim)
            if width is None:
                raise
            # title lines above the header: as wide as the header, the title is one cell of it
            raw = pd.read_csv(io.StringIO(text), sep=delim, header=None, names=range(width), dtype=str,
                              keep_default_na=False, na_filter=False, skip_blank_lines=False, quotechar='"',
                              engine="c")
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: the file is empty: no header and no data rows — export the data again"
                            ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().replace("C error: ", "")
        raise DataFileError(
            f"{path}: cannot split the file into columns with the {_DELIMITER_NAMES.get(delim, repr(delim))} "
            f"delimiter ({detail}) — a row has more cells than the header, or a quote is not closed: put "
            "text that contains the delimiter or line breaks in double quotes, or "
            + setting_hint(config_key, "delimiter", repr(";"))
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
            "(Data & Analysis > Export > CSV) or " + setting_hint(config_key, "format", "csv")
        )
    return finish_text_frame(raw, path, fmt=fmt, header_rows=header_rows, question_row=header_rows > 1,
                              where="the header row", decimal_comma=delim != ",", blank=blank)


def _check_single_column(text: str, path: Path, delim: str, config_key: str | None) -> None:
    """A delimiter set in study.yaml that leaves the header in one column is the wrong one."""
    guess = _sniff_delimiter(text)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if guess != delim and len(next(csv.reader([first], delimiter=guess))) > 1:
        setting = "responses.delimiter" if is_responses_key(config_key) else "the delimiter"
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
