#!/usr/bin/env python3
"""Write the corpus of broken inputs under ``tests/corpus/`` (issue 6).

    python tests/corpus/make_corpus.py          # (re)write base/, cases/ and cases.yaml
    python tests/corpus/make_corpus.py --check  # exit 1 if the committed corpus differs

``base/`` is a small, complete and valid study (60 respondents, two waves, three shops, a
1-7 attribute scale and a 1-10 overall scale, interviews, codebook, goals, population). Each
case is a folder ``cases/<id>/`` holding the files that replace the base's files — exactly one
thing broken — and an entry in ``cases.yaml``: what is broken, which file, the words the error
message must contain (file, row/column/key, and the fix), and files of the base to delete.
``tests/test_corpus.py`` copies ``base/``, lays the case over it and runs ``csm validate`` and
``csm run`` on it.

Everything here is deterministic: no random numbers, fixed timestamps inside the .xlsx and
.sav files, so a rerun writes the same bytes (``tests/test_corpus.py`` checks that). Cases with
``outcome: ok`` are inputs that look unusual but must be read correctly (a byte-order mark,
UTF-16, a named legacy encoding); their ``read`` entry says what the text must come out as.
"""

from __future__ import annotations

import argparse
import filecmp
import io
import re
import shutil
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)

# --------------------------------------------------------------------------- the base study
COLUMNS = ["rid", "wave", "shop", "q_quality", "q_speed", "q_friendly", "q_overall", "duration_s",
           "full_name", "email", "remarks"]
REMARKS = ["", "Quick service", "Nhân viên thân thiện", "质量很好", "Slow checkout, friendly staff",
           "Good quality bread", "", "Hàng đợi ở Huế quá dài"]


def base_rows(n: int = 60) -> list[list[Any]]:
    """The base study's responses: 60 rows from fixed formulas (no random numbers)."""
    rows = []
    for i in range(n):
        quality = 1 + (i * 3 + i // 7) % 7
        speed = 1 + (i * 5 + 2 + i // 11) % 7
        friendly = 1 + (i * 2 + 5 + i // 5) % 7
        noise = ((i * 13) % 5 - 2) * 0.6
        overall = round((0.6 * quality + 0.3 * speed + 0.1 * friendly) * 10 / 7 + noise)
        overall = min(10, max(1, overall))
        shop = "Kowloon" if i % 10 < 5 else ("Shatin" if i % 10 < 8 else "Tsuen Wan")
        rows.append([f"x{i:03d}", "2025" if i < 24 else "2026", shop, quality, speed, friendly, overall,
                     240 + (i * 37) % 300, f"Person {i}", f"person{i}@example.com", REMARKS[i % len(REMARKS)]])
    return rows


def csv_text(rows: list[list[Any]], columns: list[str] = COLUMNS, *, sep: str = ",") -> str:
    def cell(v: Any) -> str:
        s = "" if v is None else str(v)
        if any(ch in s for ch in (sep, '"', "\n", "\r")):
            s = '"' + s.replace('"', '""') + '"'
        return s

    return "".join(sep.join(cell(v) for v in row) + "\n" for row in [columns, *rows])


BASE_STUDY: dict[str, Any] = {
    "name": "Bakery pulse",
    "language": "en",
    "min_cell_size": 5,
    "seed": 11,
    "responses": {"file": "answers.csv", "id": "rid", "wave": "wave", "segments": ["shop"],
                  "personal_data": ["full_name", "email"], "comments": "remarks", "duration": "duration_s"},
    "scales": {"default": [1, 7], "q_overall": [1, 10]},
    "overall": "q_overall",
    "attributes": [
        {"id": "quality", "label": "Product quality", "dimension": "product", "performance": "q_quality"},
        {"id": "speed", "label": "Speed of service", "dimension": "process", "performance": "q_speed"},
        {"id": "friendly", "label": "Friendly staff", "dimension": "people", "performance": "q_friendly"},
    ],
    "population": "population.csv",
    "interviews": {"file": "talks.csv", "id": "tid", "group": "who", "text": "notes", "order": "seq",
                   "codes": None},
    "codebook": "codes.yaml",
    "goals": "aims.yaml",
    "discovery": {"saturation_k": 2, "questionnaire_scale": [1, 7]},
}

TALKS = """\
tid,who,notes,seq
T1,customer,"The quality of the bread is what matters, and speed at the till.",1
T2,executive,"We believe our prices and product quality win customers.",2
T3,customer,"Nhân viên thân thiện và phục vụ nhanh.",3
T4,employee,"Customers complain about waiting; staff friendliness is fine.",4
T5,lost_customer,"排队太久了，服务很慢。",5
T6,customer,"Good quality, friendly staff.",6
T7,competitor_customer,"The other bakery is faster.",7
T8,customer,"Quality and speed, nothing else.",8
"""

CODES = """\
attributes:
  - {id: quality, label: Product quality, dimension: product, keywords: [quality, chất lượng, 质量]}
  - {id: speed, label: Speed of service, dimension: process,
     keywords: [speed, quick, faster, waiting, nhanh, 慢, 排队]}
  - {id: friendly, label: Friendly staff, dimension: people,
     keywords: [friendly, friendliness, thân thiện, 友好]}
  - {id: price, label: Prices, dimension: product, keywords: [price, prices, giá, 价格]}
"""

AIMS = """\
charter:
  objectives: [Know why customers come back]
  owners: [Shop managers]
kpi_targets:
  - {metric: csat_top2, target: 0.7, deadline: 2027-06-30, owner: Owner}
readiness:
  - {step: 1, status: done, owner: Owner}
  - {step: 9, status: in_progress, owner: Board}
self_assessment:
  preset: custom
  items:
    - {id: listen, label: Listening to customers, points: 60, score: 40}
    - {id: act, label: Acting on feedback, points: 40, score: 70}
"""

POPULATION = "segment,value,population\nshop,Kowloon,900\nshop,Shatin,500\nshop,Tsuen Wan,400\n"


def study_yaml(patch: dict[str, Any] | None = None, *, drop: tuple[str, ...] = ()) -> str:
    """The base study.yaml with ``patch`` merged in (dotted keys reach into mappings)."""
    data = yaml.safe_load(yaml.safe_dump(BASE_STUDY))
    for dotted, value in (patch or {}).items():
        *parents, last = dotted.split(".")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    for dotted in drop:
        *parents, last = dotted.split(".")
        node = data
        for p in parents:
            node = node[p]
        del node[last]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def base_files() -> dict[str, bytes]:
    return {
        "study.yaml": study_yaml().encode(),
        "answers.csv": csv_text(base_rows()).encode(),
        "talks.csv": TALKS.encode(),
        "codes.yaml": CODES.encode(),
        "aims.yaml": AIMS.encode(),
        "population.csv": POPULATION.encode(),
    }


# --------------------------------------------------------------------------- binary helpers
def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite a zip (an .xlsx) with fixed entry timestamps, so the bytes never change."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, body)
    return out.getvalue()


def xlsx_bytes(rows: list[list[Any]], columns: list[str] = COLUMNS, *, sheet: str = "Responses",
               before: dict[str, list[str]] | None = None, title: str | None = None) -> bytes:
    """An .xlsx workbook of ``rows``; ``before`` adds sheets of text lines in front of the data
    sheet (a README sheet), ``title`` a title merged across row 1 above the header."""
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for k, (name, lines) in enumerate((before or {}).items()):
        front = ws if k == 0 else wb.create_sheet(name)
        front.title = name
        for line in lines:
            front.append([line])
    if before:
        ws = wb.create_sheet(sheet)
    ws.title = sheet
    if title is not None:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.append(columns)
    for row in rows:
        ws.append(row)
    stamp = dt.datetime(2026, 1, 1)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "csm-workbook corpus"
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue())


def sav_bytes(rows: list[list[Any]], columns: list[str] = COLUMNS) -> bytes:
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame(rows, columns=columns)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.sav"
        pyreadstat.write_sav(frame, str(path))
        raw = bytearray(path.read_bytes())
    # header: creation date (9 bytes) at offset 92 and time (8 bytes) at 101 — fix them
    raw[92:101] = b"01 Jan 26"
    raw[101:109] = b"00:00:00"
    return bytes(raw)


def truncate(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


# --------------------------------------------------------------------------- the cases
@dataclass
class Case:
    id: str
    broken: str
    file: str
    expect: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    outcome: str = "error"
    read: dict[str, str] = field(default_factory=dict)  # outcome ok: column -> text some row must hold
    subprocess: bool = False  # also run through a real `csm` process


def _rows(edit=None) -> list[list[Any]]:
    rows = base_rows()
    if edit:
        edit(rows)
    return rows


def _set(row: int, col: str, value: Any):
    """Edit one cell: ``row`` is the user's row number (header = 1)."""
    def edit(rows):
        rows[row - 2][COLUMNS.index(col)] = value
    return edit


def _answers(edit=None, **kw) -> dict[str, bytes]:
    return {"answers.csv": csv_text(_rows(edit), **kw).encode()}


def _study(patch: dict[str, Any] | None = None, drop: tuple[str, ...] = ()) -> dict[str, bytes]:
    return {"study.yaml": study_yaml(patch, drop=drop).encode()}


def _encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding)


def _cp1258(text: str) -> bytes:
    """Vietnamese text as Windows-1258 writes it: precomposed vowels, separate tone marks."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(x for x in d if x not in tones))
            out += base.encode("cp1258") + "".join(x for x in d if x in tones).encode("cp1258")
    return bytes(out)


def _vi_rows() -> list[list[Any]]:
    """Rows whose free text is Vietnamese only (Windows-1258 cannot hold Chinese)."""
    def edit(rows):
        for r in rows:
            if r[-1] == "质量很好":
                r[-1] = "Chất lượng tốt"
    return _rows(edit)


def _zh_rows(traditional: bool = False) -> list[list[Any]]:
    """Rows whose free text is Chinese or ASCII (GBK/Big5 cannot hold Vietnamese)."""
    zh = "品質很好，排隊太久" if traditional else "质量很好，排队太久"

    def edit(rows):
        for r in rows:
            if r[-1] and not r[-1].isascii():
                r[-1] = zh
    return _rows(edit)


def _qualtrics(order: tuple[str, ...]) -> bytes:
    """A current-layout Qualtrics export with its header rows in ``order`` (name/question/importid)."""
    cols = ["StartDate", "ResponseId", *COLUMNS]
    header = {
        "name": cols,
        "question": ["Start Date", "Response ID", "Respondent", "Wave", "Shop", "How good is the bread?",
                     "How fast were you served?", "How friendly were the staff?", "Overall satisfaction",
                     "Duration (in seconds)", "Name", "Email", "Anything else?"],
        "importid": ['{"ImportId":"startDate"}', '{"ImportId":"_recordId"}'] +
                    [f'{{"ImportId":"QID{i}"}}' for i in range(len(COLUMNS))],
    }
    body = [["2026-01-05 10:00:00", f"R_{i:04d}", *row] for i, row in enumerate(base_rows())]
    return csv_text([header[k] for k in order[1:]] + body, header[order[0]]).encode()


def cases() -> list[Case]:
    rows_text = csv_text(base_rows())
    lines = rows_text.splitlines(keepends=True)
    xlsx = xlsx_bytes(base_rows())
    sav = sav_bytes(base_rows())
    vi = csv_text(_vi_rows())
    zh = csv_text(_zh_rows())
    tw = csv_text(_zh_rows(traditional=True))
    xlsx_study = _study({"responses.file": "answers.xlsx"})
    sav_study = _study({"responses.file": "answers.sav"})
    c: list[Case] = [
        # ---- the survey export cannot be read at all
        Case("empty_file", "the survey export is an empty file (0 bytes)", "answers.csv",
             ["answers.csv", "empty", "export the data again"], {"answers.csv": b""}, subprocess=True),
        Case("blank_lines_only", "the survey export holds only blank lines and spaces", "answers.csv",
             ["answers.csv", "empty", "export the data again"], {"answers.csv": b"\n   \n\n"}),
        Case("header_only", "the survey export has the header row and no data rows", "answers.csv",
             ["answers.csv", "no data rows", "only the header row", "export"], {"answers.csv": lines[0].encode()}),
        Case("header_and_empty_rows", "header followed by rows of empty cells (,,,,)", "answers.csv",
             ["answers.csv", "no data rows", "export"],
             {"answers.csv": (lines[0] + ",,,,,,,,,,\n" * 3).encode()}),
        Case("ragged_row", "data row 5 has one cell more than the header", "answers.csv",
             ["answers.csv", "line 5", "more cells than the header", "double quotes"],
             {"answers.csv": "".join(lines[:4] + [lines[4].rstrip("\n") + ",extra\n"] + lines[5:]).encode()}),
        Case("unclosed_quote", "a comment opens a double quote that is never closed", "answers.csv",
             ["answers.csv", "quote", "double quotes"],
             {"answers.csv": "".join(lines[:6] + [lines[6].rsplit(",", 1)[0] + ',"never closed\n']
                                     + lines[7:]).encode()}),
        Case("quote_swallows_rows", "a quote opened in row 7 closes in row 10: rows 8-10 vanish into a comment",
             "answers.csv", ["answers.csv", "row 7", "column 'remarks'", "not closed", "fix the quotes"],
             {"answers.csv": "".join(lines[:6] + [lines[6].rsplit(",", 1)[0] + ',"opened here\n']
                                     + lines[7:9] + [lines[9].rstrip("\n") + ' closed here"\n']
                                     + lines[10:]).encode()}),
        Case("wrong_delimiter_setting", "study.yaml says delimiter ';' but the file is comma-separated",
             "study.yaml", ["answers.csv", "responses.delimiter", "','"],
             _study({"responses.delimiter": ";"})),
        Case("binary_garbage_csv", "random binary bytes saved as answers.csv", "answers.csv",
             ["answers.csv", "not UTF-8", "responses.encoding"],
             {"answers.csv": bytes((i * 89 + 17) % 256 for i in range(2000))}),
        Case("html_saved_as_csv", "an HTML page saved with a .csv name (a web export)", "answers.csv",
             ["answers.csv", "HTML", "export"],
             {"answers.csv": b"<!DOCTYPE html>\n<html><head><title>Survey results</title></head>\n"
                             b"<body><table><tr><td>rid</td><td>shop</td></tr></table></body></html>\n"}),
        Case("unknown_extension", "the export is a .json file", "study.yaml",
             ["answers.json", "unknown file type", "responses.format"],
             {"answers.json": b'[{"rid": "x001"}]', **_study({"responses.file": "answers.json"})}),
        Case("xlsx_named_csv", "an Excel workbook saved under the name answers.csv", "answers.csv",
             ["answers.csv", "Excel", "responses.format: excel"], {"answers.csv": xlsx}),
        # ---- encodings
        Case("gbk_without_encoding", "Chinese comments saved as GBK, no responses.encoding", "answers.csv",
             ["answers.csv", "not UTF-8", "line 4", "responses.encoding: gbk", "质量很好"],
             {"answers.csv": _encoded(zh, "gbk")}, subprocess=True),
        Case("big5_without_encoding", "Chinese comments saved as Big5, no responses.encoding", "answers.csv",
             ["answers.csv", "not UTF-8", "line 4", "responses.encoding: big5", "品質很好"],
             {"answers.csv": _encoded(tw, "big5")}),
        Case("cp1258_without_encoding", "Vietnamese comments saved as Windows-1258, no responses.encoding",
             "answers.csv", ["answers.csv", "not UTF-8", "line 4", "responses.encoding: cp1258",
                             "Nhân viên thân thiện"],
             {"answers.csv": _cp1258(vi)}),
        Case("utf8_declared_cp1258", "a UTF-8 Vietnamese file with responses.encoding: cp1258 (mojibake)",
             "study.yaml", ["answers.csv", "UTF-8", "line 4", "Nhân viên thân thiện", "responses.encoding",
                            "cp1258", "remove"],
             {"answers.csv": vi.encode(), **_study({"responses.encoding": "cp1258"})}),
        Case("gbk_declared_utf8", "a GBK file with responses.encoding: utf-8", "study.yaml",
             ["answers.csv", "cannot be read as utf-8", "line 4", "质量很好", "encoding: gbk"],
             {"answers.csv": _encoded(zh, "gbk"), **_study({"responses.encoding": "utf-8"})}),
        Case("unknown_encoding_name", "responses.encoding names no known encoding", "study.yaml",
             ["answers.csv", "unknown text encoding", "responses.encoding", "gbk"],
             _study({"responses.encoding": "chinese-simplified"})),
        # ---- other formats, truncated or wrong
        Case("truncated_xlsx", "the Excel export was cut off half-way (download interrupted)", "answers.xlsx",
             ["answers.xlsx", "truncated", "save it again"], {"answers.xlsx": truncate(xlsx, 0.6), **xlsx_study},
             subprocess=True),
        Case("xlsx_missing_sheet", "responses.sheet names a sheet the workbook does not have", "study.yaml",
             ["answers.xlsx", "no sheet named 'Data'", "Responses", "responses.sheet"],
             {"answers.xlsx": xlsx, **_study({"responses.file": "answers.xlsx", "responses.sheet": "Data"})}),
        Case("xlsx_header_only", "the Excel sheet has the header row only", "answers.xlsx",
             ["answers.xlsx", "no data rows", "header"], {"answers.xlsx": xlsx_bytes([]), **xlsx_study}),
        Case("old_xls", "an Excel 97-2003 .xls workbook", "answers.xls",
             ["answers.xls", "97-2003", "save it as .xlsx"],
             {"answers.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
              **_study({"responses.file": "answers.xls"})}),
        Case("truncated_sav", "the SPSS file was cut off half-way", "answers.sav",
             ["answers.sav", "truncated", "save it again from SPSS"], {"answers.sav": truncate(sav, 0.5), **sav_study}),
        Case("sav_header_only", "the SPSS file holds only its first 200 bytes", "answers.sav",
             ["answers.sav", "SPSS", "save it again"], {"answers.sav": sav[:200], **sav_study}),
        Case("qualtrics_forced_plain_csv", "responses.format: qualtrics on a plain CSV file", "study.yaml",
             ["answers.csv", "not a Qualtrics CSV export", "ImportId", "responses.format"],
             _study({"responses.format": "qualtrics"})),
        Case("qualtrics_rows_shuffled", "Qualtrics export with the ImportId row above the question row",
             "answers.csv", ["answers.csv", "Qualtrics", "row 2", "ImportId", "export"],
             {"answers.csv": _qualtrics(("name", "importid", "question"))}),
        Case("qualtrics_names_row_missing", "Qualtrics export whose column-name row was deleted",
             "answers.csv", ["answers.csv", "Qualtrics", "row 2", "ImportId", "export"],
             {"answers.csv": _qualtrics(("question", "importid"))}),
        Case("qualtrics_question_missing", "Qualtrics export whose question row was deleted (ImportId kept)",
             "answers.csv", ["answers.csv", "Qualtrics", "row 2", "ImportId", "export"],
             {"answers.csv": _qualtrics(("name", "importid"))}),
        # ---- the content breaks the study's rules
        Case("duplicate_ids", "respondent x007 appears on rows 9 and 12", "answers.csv",
             ["answers.csv", "column 'rid'", "'x007' on rows 9, 12", "remove the repeated rows"],
             _answers(_set(12, "rid", "x007")), subprocess=True),
        Case("missing_id", "row 15 has no respondent id", "answers.csv",
             ["answers.csv", "column 'rid'", "row 15", "give every row its own id"], _answers(_set(15, "rid", ""))),
        Case("text_in_numeric", "'five' typed into a rating column", "answers.csv",
             ["answers.csv", "column 'q_speed'", "row 7", "'five'", "not a number", "replace the text"],
             _answers(_set(7, "q_speed", "five"))),
        Case("answer_out_of_scale", "an 8 on the 1-7 scale", "answers.csv",
             ["answers.csv", "column 'q_friendly'", "row 20", "outside the scale 1-7", "scales.q_friendly"],
             _answers(_set(20, "q_friendly", 8))),
        Case("undeclared_missing_code", "99 used for 'don't know' without missing_codes", "answers.csv",
             ["answers.csv", "column 'q_overall'", "row 3", "99", "responses.missing_codes"],
             _answers(_set(3, "q_overall", 99))),
        Case("fractional_answer", "4.5 on a whole-point scale", "answers.csv",
             ["answers.csv", "column 'q_quality'", "row 11", "4.5", "whole"], _answers(_set(11, "q_quality", 4.5))),
        Case("all_missing_item", "every answer of q_friendly is empty", "answers.csv",
             ["answers.csv", "column 'q_friendly'", "no answer", "attributes.2.performance"],
             _answers(lambda rows: [r.__setitem__(COLUMNS.index("q_friendly"), "") for r in rows])),
        Case("segment_one_value", "the segment column shop holds one value for everyone", "answers.csv",
             ["answers.csv", "column 'shop'", "'Kowloon'", "responses.segments"],
             _answers(lambda rows: [r.__setitem__(COLUMNS.index("shop"), "Kowloon") for r in rows])),
        Case("segment_all_missing", "the segment column shop is empty on every row", "answers.csv",
             ["answers.csv", "column 'shop'", "no shop value on any of the 60 rows", "responses.segments"],
             _answers(lambda rows: [r.__setitem__(COLUMNS.index("shop"), "") for r in rows])),
        Case("negative_duration", "a negative completion time", "answers.csv",
             ["answers.csv", "column 'duration_s'", "row 30", "-5", ">= 0"], _answers(_set(30, "duration_s", -5))),
        Case("duplicate_column_names", "two columns are named q_speed", "answers.csv",
             ["answers.csv", "'q_speed' appears twice", "columns 5 and 6", "rename"],
             _answers(columns=[c if c != "q_friendly" else "q_speed" for c in COLUMNS])),
        Case("column_case_mismatch", "the file spells the column Q_Speed, study.yaml says q_speed", "answers.csv",
             ["answers.csv", "column 'q_speed'", "'Q_Speed'", "case-sensitive", "attributes.1.performance"],
             _answers(columns=[c if c != "q_speed" else "Q_Speed" for c in COLUMNS])),
        Case("weight_zero", "a weight of 0 in the weight column", "answers.csv",
             ["answers.csv", "column 'w'", "row 8", "weights must be > 0", "responses.weight"],
             {"answers.csv": csv_text([[*r, 0 if i == 6 else 1.0] for i, r in enumerate(base_rows())],
                                      [*COLUMNS, "w"]).encode(), **_study({"responses.weight": "w"})}),
        Case("personal_data_used_as_item", "the id column is also listed as personal data", "study.yaml",
             ["study.yaml", "'rid'", "responses.personal_data", "remove it from one of the two lists"],
             _study({"responses.personal_data": ["full_name", "email", "rid"]})),
        Case("previous_wave_unknown", "analysis.previous_wave names a wave not in the data", "study.yaml",
             ["study.yaml", "analysis.previous_wave", "'2019'", "2025, 2026"],
             _study({"analysis": {"previous_wave": "2019"}})),
        # ---- study.yaml itself
        Case("yaml_syntax_error", "study.yaml has a tab-indented, unclosed mapping", "study.yaml",
             ["study.yaml", "line 3", "invalid YAML", "fix the syntax"],
             {"study.yaml": b"name: Bakery pulse\nresponses: {file: answers.csv, id: rid\n\tsegments: [shop]\n"},
             subprocess=True),
        Case("yaml_wrong_type", "min_cell_size is the text 'five'", "study.yaml",
             ["study.yaml", "key 'min_cell_size'", "'five'", "fix the value"], _study({"min_cell_size": "five"})),
        Case("yaml_list_instead_of_mapping", "responses.segments is a mapping instead of a list", "study.yaml",
             ["study.yaml", "key 'responses.segments'", "fix the value"],
             _study({"responses.segments": {"shop": True}})),
        Case("yaml_unknown_key", "responses.segmnts is misspelt", "study.yaml",
             ["study.yaml", "key 'responses.segmnts'", "did you mean 'segments'"],
             _study({"responses.segmnts": ["shop"]})),
        Case("yaml_missing_required", "the overall item is not given", "study.yaml",
             ["study.yaml", "key 'overall' is required", "add 'overall:'"], _study(drop=("overall",))),
        Case("yaml_not_a_mapping", "study.yaml is a list", "study.yaml",
             ["study.yaml", "expected a mapping", "README.md"], {"study.yaml": b"- name: Bakery pulse\n- seed: 1\n"}),
        Case("yaml_reversed_scale", "the default scale is written [7, 1]", "study.yaml",
             ["study.yaml", "key 'scales'", "minimum must be below the maximum"],
             _study({"scales": {"default": [7, 1], "q_overall": [1, 10]}})),
        Case("yaml_bad_language", "language: fr (only en, vi, zh)", "study.yaml",
             ["study.yaml", "key 'language'", "'fr'", "'en'"], _study({"language": "fr"})),
        Case("yaml_bad_attribute_id", "an attribute id with a space", "study.yaml",
             ["study.yaml", "key 'attributes.0.id'", "'product quality'", "letters, digits and _"],
             _study({"attributes": [{**BASE_STUDY["attributes"][0], "id": "product quality"},
                                    *BASE_STUDY["attributes"][1:]]})),
        Case("yaml_not_utf8", "study.yaml saved as GBK", "study.yaml",
             ["study.yaml", "not UTF-8", "save it as UTF-8"],
             {"study.yaml": study_yaml({"name": "面包店满意度"}).encode("gbk")}),
        Case("yaml_empty", "study.yaml is empty", "study.yaml",
             ["study.yaml", "expected a mapping", "README.md"], {"study.yaml": b""}),
        # ---- files named by the study
        Case("missing_responses_file", "responses.file names a file that does not exist", "study.yaml",
             ["answer.csv", "file not found", "responses.file"], _study({"responses.file": "answer.csv"})),
        Case("missing_interviews_file", "the interviews file was not copied", "talks.csv",
             ["talks.csv", "file not found", "interviews.file"], remove=["talks.csv"]),
        Case("missing_codebook", "the codebook was not copied", "codes.yaml",
             ["codes.yaml", "not found", "codebook"], remove=["codes.yaml"]),
        Case("missing_goals", "the goals file was not copied", "aims.yaml",
             ["aims.yaml", "not found", "goals"], remove=["aims.yaml"]),
        Case("path_escapes_relative", "responses.file climbs out of the study folder", "study.yaml",
             ["study.yaml", "responses.file", "outside the study folder", "copy the file into the study folder"],
             _study({"responses.file": "../answers.csv"}), subprocess=True),
        Case("path_escapes_absolute", "codebook is an absolute path elsewhere", "study.yaml",
             ["study.yaml", "codebook", "outside the study folder", "relative path"],
             _study({"codebook": "/etc/passwd"})),
        Case("folder_as_responses", "responses.file names a folder", "study.yaml",
             ["study.yaml", "responses.file", "folder, not a data file"], _study({"responses.file": "."})),
        # ---- the other study files
        Case("codebook_bad_regex", "a codebook pattern is not a valid regular expression", "codes.yaml",
             ["codes.yaml", "attributes.0.patterns", "not a valid regular expression"],
             {"codes.yaml": CODES.replace("keywords: [quality, chất lượng, 质量]",
                                          "keywords: [quality], patterns: ['qual(ity']").encode()}),
        Case("codebook_entry_without_rule", "a codebook entry has neither keywords nor patterns", "codes.yaml",
             ["codes.yaml", "'price'", "neither keywords nor patterns"],
             {"codes.yaml": CODES.replace(", keywords: [price, prices, giá, 价格]", "").encode()}),
        Case("goals_target_as_percent", "the CSAT target is written 70 instead of 0.7", "aims.yaml",
             ["aims.yaml", "kpi_targets.0", "outside [0, 1]", "write 0.8 for 80%"],
             {"aims.yaml": AIMS.replace("target: 0.7", "target: 70").encode()}),
        Case("goals_score_not_in_steps", "a self-assessment score of 45%", "aims.yaml",
             ["aims.yaml", "self_assessment.items.0.score", "not in 10% steps"],
             {"aims.yaml": AIMS.replace("score: 40", "score: 45").encode()}),
        Case("interviews_unknown_group", "an interview from source group 'vip'", "talks.csv",
             ["talks.csv", "'vip'", "row 3", "executive"],
             {"talks.csv": TALKS.replace("T2,executive", "T2,vip").encode()}),
        Case("interviews_missing_column", "the interviews file has no notes column", "talks.csv",
             ["talks.csv", "column 'notes' is missing", "interviews.text"],
             {"talks.csv": TALKS.replace("tid,who,notes,seq", "tid,who,text,seq").encode()}),
        Case("population_text", "a population size written as text", "population.csv",
             ["population.csv", "segment 'shop'", "'Shatin'", "'five hundred'", "number > 0"],
             {"population.csv": POPULATION.replace("Shatin,500", "Shatin,five hundred").encode()}),
        Case("population_unknown_segment", "the population names a shop the survey does not have",
             "population.csv", ["population.csv", "'Mongkok'", "shop"],
             {"population.csv": (POPULATION + "shop,Mongkok,300\n").encode()}),
        # ---- issue 17: YAML that hangs, crashes or passes silently (one strict loader)
        Case("yaml_nested_1000_deep", "study.yaml nests a value 1,000 lists deep (RecursionError in the parser)",
             "study.yaml", ["study.yaml", "line 52", "nested more than 50 levels", "brackets"],
             {"study.yaml": (study_yaml() + "notes: " + "[" * 1000 + "]" * 1000 + "\n").encode()},
             subprocess=True),
        Case("yaml_alias_bomb", "a 'billion laughs' alias bomb of 4 KB in study.yaml", "study.yaml",
             ["study.yaml", "alias *a", "not allowed", "write the value out"],
             {"study.yaml": (study_yaml() + "lol0: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
                 f"lol{i}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]\n" for i in range(1, 9)
             )).encode()}, subprocess=True),
        Case("yaml_merge_key_alias", "a YAML merge key (<<: *defaults) reuses a block of settings", "study.yaml",
             ["study.yaml", "alias *base", "write the value out"],
             {"study.yaml": study_yaml().replace("scales:\n", "base_scale: &base [1, 7]\nscales:\n  other: *base\n", 1)
              .encode()}),
        Case("yaml_duplicate_overall", "'overall:' appears twice, the second far below (it would silently win)",
             "study.yaml", ["study.yaml", "'overall' is given twice", "on line 31 and on line 52", "keep one"],
             {"study.yaml": (study_yaml() + "overall: q_quality\n").encode()}),
        Case("yaml_duplicate_nested_key", "responses.id is given twice inside responses:", "study.yaml",
             ["study.yaml", "'id' is given twice", "keep one"],
             {"study.yaml": study_yaml().replace("  id: rid\n", "  id: rid\n  id: full_name\n", 1).encode()}),
        Case("goals_duplicate_key", "the goals file gives kpi_targets twice", "aims.yaml",
             ["aims.yaml", "'kpi_targets' is given twice", "keep one"],
             {"aims.yaml": (AIMS + "kpi_targets: []\n").encode()}),
        Case("deadline_feb_30", "a KPI target's deadline is 2026-02-30 (unquoted: a YAML date)", "aims.yaml",
             ["aims.yaml", "line 5", "'2026-02-30' is not a date that exists", "YYYY-MM-DD"],
             {"aims.yaml": AIMS.replace("2027-06-30", "2026-02-30").encode()}),
        Case("deadline_feb_30_quoted", "a KPI target's deadline is \"2026-02-30\" (quoted: a string)", "aims.yaml",
             ["aims.yaml", "kpi_targets.0.deadline", "not a date that exists", "YYYY-MM-DD"],
             {"aims.yaml": AIMS.replace("2027-06-30", '"2026-02-30"').encode()}),
        Case("deadline_day_first", "a KPI target's deadline is written 31/06/2027 (day first, and no 31 June)",
             "aims.yaml", ["aims.yaml", "kpi_targets.0.deadline", "'31/06/2027'", "YYYY-MM-DD"],
             {"aims.yaml": AIMS.replace("2027-06-30", "31/06/2027").encode()}),
        # ---- issue 17: a codebook pattern that backtracks without end (time-limited search)
        *[Case(f"codebook_pattern_{name}", f"codebook pattern {pattern} backtracks catastrophically on a long "
               "drawn-out word in an interview", "codes.yaml",
               ["codebook", repr(pattern), "attribute 'speed'", "row 10", "write it more simply"],
               {"talks.csv": (TALKS + 'T9,customer,"We waited and wa' + "a" * 44 + 'ited, at the till.",9\n').encode(),
                "codes.yaml": CODES.replace("keywords: [speed,", f"patterns: ['{pattern}'], keywords: [speed,")
                .encode()}, subprocess=name == "overlap")
          for name, pattern in (("overlap", "(a|aa)+$"), ("word_chars", r"(\w|\w\w)+$"),
                                ("three_ways", r"(?:a|aa|aaa)+d\b"))],
        # ---- issue 17: a setting whose message did not lead to the fix
        Case("scale_one_number", "scales.default: [5] (one number)", "study.yaml",
             ["study.yaml", "scale 'default' is [5]", "two numbers, [min, max]", "[1, 5]"],
             _study({"scales.default": [5]})),
        Case("scale_three_numbers", "scales.q_overall: [1, 5, 10]", "study.yaml",
             ["study.yaml", "scale 'q_overall'", "two numbers, [min, max]"],
             _study({"scales.q_overall": [1, 5, 10]})),
        Case("scale_as_text", "scales.default: '1-7' (text)", "study.yaml",
             ["study.yaml", "scale 'default' is '1-7'", "two numbers, [min, max]"],
             _study({"scales.default": "1-7"})),
        # ---- issue 17: Excel workbooks (error values, a README sheet in front)
        Case("xlsx_div0", "an Excel cell holds #DIV/0! where an answer should be", "answers.xlsx",
             ["answers.xlsx", "sheet 'Responses'", "row 8, column 'q_speed': #DIV/0!", "fix the formula"],
             {"answers.xlsx": xlsx_bytes(_rows(lambda r: r[6].__setitem__(4, "#DIV/0!"))), **xlsx_study},
             subprocess=True),
        Case("xlsx_na_and_ref", "Excel cells hold #N/A and #REF! (a broken lookup)", "answers.xlsx",
             ["answers.xlsx", "2 cell(s)", "row 3, column 'q_overall': #N/A", "row 12, column 'wave': #REF!"],
             {"answers.xlsx": xlsx_bytes(_rows(lambda r: (r[1].__setitem__(6, "#N/A"), r[10].__setitem__(1, "#REF!")))),
              **xlsx_study}),
        Case("xlsx_value_in_comment", "an Excel cell in the comment column holds #VALUE!", "answers.xlsx",
             ["answers.xlsx", "column 'remarks': #VALUE!", "fix the formula"],
             {"answers.xlsx": xlsx_bytes(_rows(lambda r: r[20].__setitem__(10, "#VALUE!"))), **xlsx_study}),
        Case("xlsx_readme_sheet_first", "the data is on sheet 'Data' behind a one-line README sheet", "answers.xlsx",
             ["answers.xlsx", "read sheet 'README'", "'Data'", "responses.sheet"],
             {"answers.xlsx": xlsx_bytes(base_rows(), sheet="Data", before={"README": ["Answers: see sheet Data"]}),
              **xlsx_study}),
        Case("xlsx_readme_sheet_lines", "the data is on sheet 'Data' behind a README sheet of several lines",
             "answers.xlsx", ["answers.xlsx", "sheet 'README'", "none of the columns", "'Data'", "responses.sheet"],
             {"answers.xlsx": xlsx_bytes(base_rows(), sheet="Data", before={
                 "README": ["About this export", "Sheet Data: one row per respondent", "Exported 2026-01-05"]}),
              **xlsx_study}),
        Case("xlsx_two_sheets_in_front", "the data is the third sheet, after 'Notes' and 'Codes'", "answers.xlsx",
             ["answers.xlsx", "sheet 'Notes'", "'Codes', 'Survey'", "responses.sheet"],
             {"answers.xlsx": xlsx_bytes(base_rows(), sheet="Survey", before={
                 "Notes": ["Survey notes", "Fieldwork: January", "Owner: CX team"], "Codes": ["1 = poor", "7 = best"]}),
              **xlsx_study}),
        # ---- issue 17: paths a file system cannot hold (one path resolver)
        Case("path_name_300_chars", "responses.file is a name of 300 characters", "study.yaml",
             ["study.yaml", "responses.file", "304 bytes long", "shorter name"],
             _study({"responses.file": "a" * 300 + ".csv"}), subprocess=True),
        Case("path_nul_byte", "responses.file holds a NUL byte", "study.yaml",
             ["study.yaml", "responses.file", "NUL character", "type the name again"],
             _study({"responses.file": "answ\x00ers.csv"})),
        Case("path_goals_too_long", "goals names a file of 260 characters", "study.yaml",
             ["study.yaml", "goals", "264 bytes long", "shorter name"], _study({"goals": "g" * 260 + ".yml"})),
        # ---- unusual but valid: must be read correctly
        Case("utf8_bom", "UTF-8 with a byte-order mark (Excel 'CSV UTF-8')", "answers.csv", [],
             {"answers.csv": b"\xef\xbb\xbf" + rows_text.encode()}, outcome="ok", read={"remarks": "质量很好"}),
        Case("utf16_bom", "UTF-16 with a byte-order mark (Excel 'Unicode Text')", "answers.csv", [],
             {"answers.csv": rows_text.encode("utf-16")}, outcome="ok", read={"remarks": "Nhân viên thân thiện"}),
        Case("utf16le_no_bom", "UTF-16 LE without a byte-order mark", "answers.csv", [],
             {"answers.csv": rows_text.encode("utf-16-le")}, outcome="ok", read={"remarks": "质量很好"}),
        Case("gbk_with_encoding", "GBK text with responses.encoding: gbk", "answers.csv", [],
             {"answers.csv": _encoded(zh, "gbk"), **_study({"responses.encoding": "gbk"})},
             outcome="ok", read={"remarks": "质量很好，排队太久"}),
        Case("big5_with_encoding", "Big5 text with responses.encoding: big5", "answers.csv", [],
             {"answers.csv": _encoded(tw, "big5"), **_study({"responses.encoding": "big5"})},
             outcome="ok", read={"remarks": "品質很好，排隊太久"}),
        Case("cp1258_with_encoding", "Windows-1258 (decomposed tones) with responses.encoding: cp1258",
             "answers.csv", [],
             {"answers.csv": _cp1258(vi),
              **_study({"responses.encoding": "cp1258"})}, outcome="ok", read={"remarks": "Hàng đợi ở Huế quá dài"}),
        Case("qualtrics_legacy_layout", "Qualtrics export with only the question row (legacy layout)",
             "answers.csv", [], {"answers.csv": _qualtrics(("name", "question"))}, outcome="ok",
             read={"remarks": "质量很好"}),
        Case("semicolon_decimal_comma", "semicolon-separated export (European Excel)", "answers.csv", [],
             {"answers.csv": csv_text(base_rows(), sep=";").encode()}, outcome="ok", read={"shop": "Tsuen Wan"}),
        Case("xlsx_title_row", "a title merged across row 1 above the header (Excel)", "answers.xlsx", [],
             {"answers.xlsx": xlsx_bytes(base_rows(), title="Bakery pulse — export of 2026-01-05"), **xlsx_study},
             outcome="ok", read={"remarks": "质量很好"}),
        Case("csv_title_lines", "two title lines and a blank line above the CSV header", "answers.csv", [],
             {"answers.csv": ("Bakery pulse\nExported 2026-01-05\n\n" + rows_text).encode()}, outcome="ok",
             read={"shop": "Tsuen Wan"}),
        Case("xlsx_ok", "the same data as an Excel workbook", "answers.xlsx", [],
             {"answers.xlsx": xlsx, **xlsx_study}, outcome="ok", read={"remarks": "质量很好"}),
        Case("sav_ok", "the same data as an SPSS file", "answers.sav", [],
             {"answers.sav": sav, **sav_study}, outcome="ok", read={"remarks": "Nhân viên thân thiện"}),
    ]
    ids = [x.id for x in c]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return c


# --------------------------------------------------------------------------- writing
def manifest(all_cases: list[Case]) -> str:
    entries = []
    for case in all_cases:
        entry: dict[str, Any] = {"id": case.id, "broken": case.broken, "file": case.file,
                                 "outcome": case.outcome}
        if case.expect:
            entry["expect"] = case.expect
        if case.read:
            entry["read"] = case.read
        if case.remove:
            entry["remove"] = case.remove
        if case.subprocess:
            entry["subprocess"] = True
        entries.append(entry)
    head = ("# Corpus of broken inputs (issue 6), written by make_corpus.py — edit the script, not this file.\n"
            "# Each case: cases/<id>/ holds the files laid over base/; `expect` are words the error message\n"
            "# must contain (file, row/column/key, fix); `outcome: ok` cases must be read correctly.\n")
    return head + yaml.safe_dump({"cases": entries}, sort_keys=False, allow_unicode=True, width=110)


def write(target: Path) -> None:
    """Write base/, cases/ and cases.yaml into ``target`` (replacing what is there)."""
    for sub in ("base", "cases"):
        shutil.rmtree(target / sub, ignore_errors=True)
    for name, data in base_files().items():
        (target / "base").mkdir(parents=True, exist_ok=True)
        (target / "base" / name).write_bytes(data)
    all_cases = cases()
    for case in all_cases:
        folder = target / "cases" / case.id
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        if not case.files:
            (folder / "README").write_text(f"{case.broken}: files removed from base/: {', '.join(case.remove)}\n")
    (target / "cases.yaml").write_text(manifest(all_cases), encoding="utf-8")


def differences(committed: Path) -> list[str]:
    """Files that differ between ``committed`` and a fresh run of this script."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        write(fresh)
        out = []
        for sub in ("base", "cases", "cases.yaml"):
            a, b = committed / sub, fresh / sub
            files_a = {p.relative_to(committed) for p in ([a] if a.is_file() else a.rglob("*")) if p.is_file()}
            files_b = {p.relative_to(fresh) for p in ([b] if b.is_file() else b.rglob("*")) if p.is_file()}
            out += [f"only committed: {p}" for p in sorted(files_a - files_b)]
            out += [f"missing: {p}" for p in sorted(files_b - files_a)]
            out += [f"differs: {p}" for p in sorted(files_a & files_b)
                    if not filecmp.cmp(committed / p, fresh / p, shallow=False)]
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare the committed corpus with the script")
    args = parser.parse_args(argv)
    if args.check:
        diff = differences(HERE)
        for line in diff:
            print(line)
        return 1 if diff else 0
    write(HERE)
    print(f"wrote {len(cases())} cases to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
