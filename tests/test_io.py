"""Tests of csm_helpers.study.readers: every export format, encodings, row numbers, broken files.

Every fixture is built in ``tmp_path`` from a small DataFrame; expected values (row
numbers, byte offsets, labels) are worked out by hand from the fixture, not taken from the
code under test.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_helpers.core.errors import ConfigError, DataError, DataFileError
from csm_helpers.study.config import Study, load_study
from csm_helpers.study.readers import load_responses, read_study_table, read_table
from csm_helpers.study.validate import validate_responses

ROOT = Path(__file__).resolve().parents[1]


def base_frame() -> pd.DataFrame:
    """Six respondents; every rated item valid (sat/p_speed/i_speed on 1-5, nps on 0-10)."""
    return pd.DataFrame({
        "id": ["R1", "R2", "R3", "R4", "R5", "R6"],
        "region": ["Hanoi", "HCMC", "Hanoi", "Da Nang", "HCMC", "Hanoi"],
        "email": ["a@x.vn", "b@x.vn", "c@x.vn", "d@x.vn", "e@x.vn", "f@x.vn"],
        "sat": [5, 4, 3, 5, 2, 4],
        "nps": [10, 8, 6, 9, 3, 7],
        "p_speed": [4, 4, 3, 5, 2, 3],
        "i_speed": [5, 5, 4, 5, 3, 4],
        "comment": ["Great, thanks", "", "Slow", "Nhân viên thân thiện", "服务很好", ""],
        "duration": [300.0, 250.5, 120.0, 400.0, 90.0, 310.0],
    })


def write_study(folder: Path, *, responses: dict | None = None, **top) -> Study:
    """Write a minimal study.yaml for ``base_frame`` columns and load it."""
    config = {
        "name": "Test study",
        "responses": {"file": "responses.csv", "id": "id", "segments": ["region"],
                      "personal_data": ["email"], "comments": "comment", "duration": "duration",
                      **(responses or {})},
        "scales": {"default": [1, 5]},
        "overall": "sat",
        "recommend": "nps",
        "attributes": [{"id": "speed", "label": "Speed", "dimension": "process",
                        "performance": "p_speed", "importance": "i_speed"}],
        **top,
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return load_study(folder / "study.yaml")


def write_csv(frame: pd.DataFrame, path: Path, *, sep: str = ",", encoding: str = "utf-8") -> Path:
    frame.to_csv(path, sep=sep, encoding=encoding, index=False)
    return path


def write_qualtrics(frame: pd.DataFrame, path: Path, *, legacy: bool = False) -> Path:
    """A Qualtrics export: current layout (3 header rows) or legacy (2 header rows)."""
    cols = list(frame.columns)
    questions = [f"Question text of {c}, please answer" for c in cols]
    if legacy:
        header = [f"V{i + 1}" for i in range(len(cols))]
        questions[0] = "ResponseID"
        head_rows = [header, questions]
    else:
        header = cols
        import_ids = ['{"ImportId":"_recordId"}'] + [f'{{"ImportId":"QID{i}"}}' for i in range(1, len(cols))]
        head_rows = [header, questions, import_ids]
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerows(head_rows)
        writer.writerows(frame.astype(object).where(frame.notna(), "").values.tolist())
    return path


def expected_frame() -> pd.DataFrame:
    """``base_frame`` as a text reader should return it: empty comment -> missing."""
    out = base_frame()
    out["comment"] = out["comment"].replace("", np.nan)
    return out


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns)
    for col in expected.columns:
        a, e = actual[col], expected[col]
        if pd.api.types.is_numeric_dtype(e):
            assert pd.api.types.is_numeric_dtype(a), col
            np.testing.assert_allclose(a.to_numpy(dtype=float), e.to_numpy(dtype=float), err_msg=col)
        else:
            assert [None if pd.isna(v) else v for v in a] == [None if pd.isna(v) else v for v in e], col


# --------------------------------------------------------------------------- CSV
@pytest.mark.parametrize(
    ("sep", "encoding", "suffix"),
    [(",", "utf-8-sig", ".csv"), (",", "utf-16", ".csv"), (";", "utf-8", ".csv"), ("\t", "utf-8", ".tsv"),
     ("|", "utf-8-sig", ".txt")],
)
def test_csv_round_trip(tmp_path, sep, encoding, suffix):
    path = write_csv(base_frame(), tmp_path / f"responses{suffix}", sep=sep, encoding=encoding)
    table = read_table(path)
    assert table.format == "csv"
    assert table.first_data_row == 2
    assert table.source == path
    assert_same(table.data, expected_frame())
    assert table.data["sat"].dtype == np.int64  # whole and complete -> integers
    assert table.data["duration"].dtype == np.float64


def test_csv_utf16_without_bom_is_detected(tmp_path):
    path = tmp_path / "r.csv"
    text = base_frame().to_csv(index=False)
    path.write_bytes(text.encode("utf-16-le"))
    assert_same(read_table(path).data, expected_frame())


def test_semicolon_csv_with_decimal_comma(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id;weight;sat\nR1;1,25;5\nR2;0,75;4\n", encoding="utf-8")
    data = read_table(path).data
    assert data["weight"].tolist() == [1.25, 0.75]
    assert data["sat"].tolist() == [5, 4]


def test_comma_csv_keeps_quoted_comma_text(tmp_path):
    # in a comma-separated file "1,25" is text (could be a thousands separator)
    path = tmp_path / "r.csv"
    path.write_text('id,weight\nR1,"1,25"\nR2,2\n', encoding="utf-8")
    assert read_table(path).data["weight"].tolist() == ["1,25", "2"]


def test_explicit_delimiter_and_tab_alias(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("id\tq\nR1\t3\n", encoding="utf-8")
    assert read_table(path, delimiter="\\t").data["q"].tolist() == [3]
    with pytest.raises(ConfigError, match=r"delimiter ';;' must be a single character.*responses\.delimiter"):
        read_table(path, delimiter=";;")


def test_non_utf8_csv_names_byte_line_and_encoding_key(tmp_path):
    # Windows-1258 stores "ế" as "ê" + a combining acute accent, "ố" as "ô" + acute
    text = "id,region,comment\nR1,Hanoi,ok\nR2,Hu\u00ea\u0301,Nh\u00e2n vi\u00ean t\u00f4\u0301t\n"
    raw = text.encode("cp1258")
    path = tmp_path / "responses.csv"
    path.write_bytes(raw)
    # by hand: line 3 starts after the two first lines; "R2,Hu" is 5 ASCII bytes, then "ê"
    offset = len("id,region,comment\nR1,Hanoi,ok\n") + len("R2,Hu")
    assert raw[offset] == 0xEA and all(b < 0x80 for b in raw[:offset])
    # the message names the encoding to set and shows how the line reads in it (and in others)
    with pytest.raises(DataFileError, match=rf"responses\.csv: the text is not UTF-8: byte {offset} \(line 3\)"
                       r".*it looks like cp1258 \(as cp1258 it reads 'R2,Hu\u1ebf,Nh\u00e2n vi\u00ean t\u1ed1t'"
                       r".*set responses\.encoding: cp1258"):
        read_table(path)
    table = read_table(path, encoding="cp1258")
    # read back in composed (NFC) form, equal to the text typed on a modern keyboard
    assert table.data["comment"].tolist() == ["ok", "Nh\u00e2n vi\u00ean t\u1ed1t"]
    assert table.data["region"].tolist() == ["Hanoi", "Hu\u1ebf"]


def test_wrong_and_unknown_encoding(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("id,x\nR1,\u4e2d\u6587\n".encode("gbk"))
    with pytest.raises(ConfigError, match=r"unknown text encoding 'klingon'.*responses\.encoding"):
        read_table(path, encoding="klingon")
    assert read_table(path, encoding="gbk").data["x"].tolist() == ["中文"]


def test_text_in_numeric_column_is_kept_not_lost(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,sat\nR1,5\nR2,five\nR3,\n", encoding="utf-8")
    col = read_table(path).data["sat"]
    assert col.tolist()[:2] == ["5", "five"] and pd.isna(col.iloc[2])


def test_missing_tokens_and_ids_with_leading_zeros(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,sat,code,big\n007,5,NA,12345678901234567\n010,NA,NA,2\n011,3,x,3\n", encoding="utf-8")
    data = read_table(path).data
    assert data["id"].tolist() == ["007", "010", "011"]  # leading zeros kept
    assert data["sat"].dtype == np.float64 and data["sat"].isna().tolist() == [False, True, False]
    assert data["code"].tolist() == ["NA", "NA", "x"]  # a text column keeps "NA" as text
    assert data["big"].tolist()[0] == "12345678901234567"  # too long for a float: kept as text


def test_blank_rows_keep_user_row_numbers(tmp_path):
    path = tmp_path / "r.csv"
    # row 1 header, row 2 R1, row 3 blank, row 4 R2, row 5 ",," (empty cells), row 6 R3
    path.write_text("id,sat,x\nR1,5,a\n\nR2,4,b\n,,\nR3,3,c\n\n", encoding="utf-8")
    table = read_table(path)
    assert table.data["id"].tolist() == ["R1", "R2", "R3"]
    assert table.row_numbers([0, 1, 2]) == [2, 4, 6]
    assert table.row_numbers(table.data["id"] == "R3") == [6]


def test_trailing_empty_unnamed_column_is_dropped(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,sat,\nR1,5,\nR2,4,\n", encoding="utf-8")
    assert list(read_table(path).data.columns) == ["id", "sat"]


def test_duplicate_header_is_an_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,q1,q2,q1\nR1,1,2,3\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"'q1' appears twice.*columns 2 and 4.*rename one"):
        read_table(path)


def test_ragged_row_is_an_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,sat\nR1,5\nR2,4,extra\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"r\.csv: cannot split the file.*comma.*more cells than the header"):
        read_table(path)


# --------------------------------------------------------------------------- Qualtrics
def test_qualtrics_current_layout(tmp_path):
    frame = base_frame()
    path = write_qualtrics(frame, tmp_path / "export.csv")
    table = read_table(path)
    assert table.format == "qualtrics"
    assert table.first_data_row == 4
    assert table.question_text["sat"] == "Question text of sat, please answer"
    assert_same(table.data, expected_frame())
    # forced format reads the same
    assert read_table(path, format="qualtrics").format == "qualtrics"


def test_qualtrics_legacy_layout(tmp_path):
    frame = base_frame()
    path = write_qualtrics(frame, tmp_path / "legacy.csv", legacy=True)
    table = read_table(path)
    assert table.format == "qualtrics-legacy"
    assert table.first_data_row == 3
    assert list(table.data.columns) == [f"V{i}" for i in range(1, 10)]
    assert table.question_text["V1"] == "ResponseID"
    assert table.data["V4"].tolist() == frame["sat"].tolist()


def test_qualtrics_forced_on_plain_csv(tmp_path):
    path = write_csv(base_frame(), tmp_path / "r.csv")
    with pytest.raises(DataFileError, match=r"not a Qualtrics CSV export.*ImportId.*responses\.format"):
        read_table(path, format="qualtrics")


def test_qualtrics_header_only_has_no_data_rows(tmp_path):
    path = write_qualtrics(base_frame().iloc[:0], tmp_path / "export.csv")
    with pytest.raises(DataFileError, match=r"no data rows.*3 header rows"):
        read_table(path)


# --------------------------------------------------------------------------- Excel, SPSS, Parquet
def test_excel_round_trip_and_sheets(tmp_path):
    path = tmp_path / "responses.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="About", index=False)
        base_frame().to_excel(writer, sheet_name="Data", index=False)
    table = read_table(path, sheet="Data")
    assert table.format == "excel" and table.first_data_row == 2
    assert_same(table.data, expected_frame())
    assert_same(read_table(path, sheet=1).data, expected_frame())
    assert list(read_table(path).data.columns) == ["note"]  # default: first sheet
    with pytest.raises(DataFileError, match=r"no sheet named 'data'.*0: 'About', 1: 'Data'.*did you mean 'Data'"
                       r".*responses\.sheet"):
        read_table(path, sheet="data")
    with pytest.raises(DataFileError, match=r"no sheet number 5 \(sheets are numbered from 0\)"):
        read_table(path, sheet=5)


def test_excel_header_only(tmp_path):
    path = tmp_path / "r.xlsx"
    base_frame().iloc[:0].to_excel(path, index=False)
    with pytest.raises(DataFileError, match=r"no data rows.*only the header row"):
        read_table(path)


def write_sav(frame: pd.DataFrame, path: Path) -> Path:
    import pyreadstat

    coded = frame.copy()
    coded["region"] = coded["region"].map({"Hanoi": 1, "HCMC": 2, "Da Nang": 3}).astype(float)
    pyreadstat.write_sav(
        coded, str(path),
        column_labels={"sat": "Overall, how satisfied are you?", "region": "Region"},
        variable_value_labels={"region": {1: "Hanoi", 2: "HCMC", 3: "Da Nang"},
                               "sat": {1: "Very dissatisfied", 5: "Very satisfied"}},
    )
    return path


def test_spss_round_trip_with_labels(tmp_path):
    path = write_sav(base_frame(), tmp_path / "responses.sav")
    table = read_table(path)
    assert table.format == "spss"
    assert table.first_data_row == 1  # case numbers, as in SPSS's Data View
    assert table.question_text["sat"] == "Overall, how satisfied are you?"
    assert table.value_labels["region"] == {1.0: "Hanoi", 2.0: "HCMC", 3.0: "Da Nang"}
    assert table.value_labels["sat"][5.0] == "Very satisfied"
    assert table.data["region"].tolist() == [1, 2, 1, 3, 2, 1]  # codes as read
    assert table.data["sat"].tolist() == [5, 4, 3, 5, 2, 4]  # items keep numeric codes
    assert table.data["comment"].isna().tolist() == [False, True, False, False, False, True]
    assert table.data["comment"].iloc[4] == "服务很好"


def test_spss_segment_codes_map_to_labels_text_codes_and_unlabelled(tmp_path):
    import pyreadstat

    frame = base_frame()
    frame["region"] = [1.0, 2.0, 3.0, 1.0, np.nan, 2.0]  # 3 has no label
    frame["channel"] = ["W", "S", "W", "S", "W", ""]     # text codes with labels
    pyreadstat.write_sav(frame, str(tmp_path / "responses.sav"),
                         variable_value_labels={"region": {1: "Hanoi", 2: "HCMC"},
                                                "channel": {"W": "Web", "S": "Store"}})
    study = write_study(tmp_path, responses={"file": "responses.sav", "segments": ["region", "channel"]})
    data = load_responses(study).data
    assert [None if pd.isna(v) else v for v in data["region"]] == ["Hanoi", "HCMC", "3", "Hanoi", None, "HCMC"]
    assert [None if pd.isna(v) else v for v in data["channel"]] == ["Web", "Store", "Web", "Store", "Web", None]


def test_excel_data_not_in_a1_keeps_sheet_row_numbers(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"] = "id", "sat"          # header in row 3
    sheet["B4"], sheet["C4"] = "R1", 5
    sheet["B6"], sheet["C6"] = "R2", "five"         # row 5 left blank
    sheet["B7"], sheet["C7"] = "R3", 4.0
    book.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx")
    assert list(table.data.columns) == ["id", "sat"]  # empty column A dropped
    assert table.data["id"].tolist() == ["R1", "R2", "R3"]
    assert table.first_data_row == 4
    assert table.row_numbers([0, 1, 2]) == [4, 6, 7]


def test_parquet_round_trip(tmp_path):
    path = tmp_path / "responses.parquet"
    base_frame().to_parquet(path, index=False)
    table = read_table(path)
    assert table.format == "parquet" and table.first_data_row == 1
    assert_same(table.data, expected_frame())


def test_parquet_stored_index_becomes_a_column(tmp_path):
    path = tmp_path / "r.pq"
    base_frame().set_index("id").to_parquet(path)
    assert read_table(path).data["id"].tolist() == ["R1", "R2", "R3", "R4", "R5", "R6"]


# --------------------------------------------------------------------------- broken files
def test_unknown_extension(tmp_path):
    path = tmp_path / "responses.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"unknown file type '\.json'.*\.xlsx.*\.sav.*responses\.format.*"
                       r"csv, excel, spss, qualtrics, parquet"):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", codecs.BOM_UTF8])
def test_empty_files(tmp_path, content):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=r"empty.*no data rows|no data rows"):
        read_table(path)


def test_header_only_csv(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,sat,region\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"r\.csv: no data rows — the file has only the header row"):
        read_table(path)


def truncate(path: Path, keep: float = 0.5) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def test_truncated_xlsx(tmp_path):
    path = tmp_path / "r.xlsx"
    base_frame().to_excel(path, index=False)
    truncate(path)
    with pytest.raises(DataFileError, match=r"r\.xlsx: not a readable \.xlsx workbook.*truncated"):
        read_table(path)


def test_truncated_sav(tmp_path):
    path = truncate(write_sav(base_frame(), tmp_path / "r.sav"), keep=0.3)
    with pytest.raises(DataFileError, match=r"r\.sav: not a readable SPSS file.*save it again"):
        read_table(path)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "r.parquet"
    base_frame().to_parquet(path)
    truncate(path)
    with pytest.raises(DataFileError, match=r"r\.parquet: not a readable Parquet file"):
        read_table(path)


def test_content_does_not_match_extension(tmp_path):
    path = tmp_path / "responses.csv"
    base_frame().to_excel(path.with_suffix(".xlsx"), index=False)
    path.write_bytes(path.with_suffix(".xlsx").read_bytes())
    with pytest.raises(DataFileError, match=r"named \.csv but its content is an Excel \.xlsx workbook.*"
                       r"responses\.format: excel"):
        read_table(path)


def test_forced_format_that_does_not_fit(tmp_path):
    path = write_csv(base_frame(), tmp_path / "r.csv")
    with pytest.raises(DataFileError, match=r"not a readable \.xlsx workbook"):
        read_table(path, format="excel")


def test_old_xls(tmp_path):
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(DataFileError, match=r"old Excel 97-2003 \.xls.*save it as \.xlsx"):
        read_table(path)


# --------------------------------------------------------------------------- row numbers in messages
def bad_third_row(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["sat"] = out["sat"].astype(float)
    out.loc[2, "sat"] = 7.0  # outside 1-5, in the 3rd data row
    return out


@pytest.mark.parametrize(
    ("name", "writer", "row"),
    [
        ("responses.csv", lambda f, p: write_csv(f, p), 4),                  # header + 3
        ("responses.xlsx", lambda f, p: f.to_excel(p, index=False), 4),      # header + 3
        ("responses.csv", lambda f, p: write_qualtrics(f, p), 6),            # 3 header rows + 3
        ("responses.csv", lambda f, p: write_qualtrics(f, p, legacy=True), 5),  # 2 header rows + 3
        ("responses.sav", lambda f, p: write_sav(f, p), 3),                  # 3rd case
        ("responses.parquet", lambda f, p: f.to_parquet(p, index=False), 3),  # 3rd record
    ],
)
def test_row_numbers_point_at_the_file_row(tmp_path, name, writer, row):
    frame = bad_third_row(base_frame())
    writer(frame, tmp_path / name)
    table = read_table(tmp_path / name)
    if table.format == "qualtrics-legacy":  # columns are V1, V2, ...: give them the study's names
        names = dict(zip(table.data.columns, frame.columns, strict=True))
        table = dataclasses.replace(table, data=table.data.rename(columns=names))
    study = write_study(tmp_path, responses={"file": name})
    errors = validate_responses(table, study).errors
    assert errors == [f"{name}, column 'sat', row {row}: 7 is outside the scale 1-5 — fix the data or set "
                      "scales.sat in study.yaml"]


def test_qualtrics_choice_text_asks_for_numeric_values(tmp_path):
    frame = base_frame().astype({"sat": object})
    frame.loc[2, "sat"] = "Very satisfied"
    frame.loc[4, "sat"] = "Neutral"
    write_qualtrics(frame, tmp_path / "responses.csv")
    study = write_study(tmp_path)
    with pytest.raises(DataError, match=r"responses\.csv, column 'sat', rows 6, 8: 'Very satisfied', 'Neutral' "
                       r"are not a number.*\"Use numeric values\""):
        load_responses(study)


# --------------------------------------------------------------------------- load_responses
def test_load_responses_drops_personal_data_and_applies_missing_codes(tmp_path):
    frame = base_frame()
    frame.loc[1, "sat"] = 99
    frame.loc[3, "nps"] = 99
    write_csv(frame, tmp_path / "responses.csv")
    study = write_study(tmp_path, responses={"missing_codes": [99]})
    table = load_responses(study)
    assert "email" not in table.data.columns
    assert table.removed_columns == ("email",)
    assert table.data["sat"].isna().tolist() == [False, True, False, False, False, False]
    assert table.data["nps"].isna().tolist() == [False, False, False, True, False, False]
    assert table.data["sat"].dropna().tolist() == [5, 3, 5, 2, 4]
    # without the missing code 99 is outside both scales
    study2 = write_study(tmp_path)
    with pytest.raises(DataError) as info:
        load_responses(study2)
    assert [p.split(":")[0] for p in info.value.problems] == [
        "responses.csv, column 'sat', row 3", "responses.csv, column 'nps', row 5"]
    assert "list it in responses.missing_codes" in info.value.problems[0]


def test_load_responses_validate_false_keeps_problems_for_the_report(tmp_path):
    frame = base_frame().astype({"sat": object})
    frame.loc[0, "sat"] = "five"
    write_csv(frame, tmp_path / "responses.csv")
    study = write_study(tmp_path)
    table = load_responses(study, validate=False)
    assert "email" not in table.data.columns
    report = validate_responses(table, study)
    assert report.errors == [
        "responses.csv, column 'sat', row 2: 'five' is not a number — answers must be numbers on the scale "
        "1-5; replace the text by the number of the answer on the scale, or leave the cell empty for no answer"]
    assert not any("personal_data" in w for w in report.warnings)  # email was removed, not absent


def test_load_responses_spss_segments_by_label(tmp_path):
    write_sav(base_frame(), tmp_path / "responses.sav")
    study = write_study(tmp_path, responses={"file": "responses.sav"})
    table = load_responses(study)
    assert table.data["region"].tolist() == ["Hanoi", "HCMC", "Hanoi", "Da Nang", "HCMC", "Hanoi"]
    assert table.data["sat"].tolist() == [5, 4, 3, 5, 2, 4]
    assert "email" not in table.value_labels and "email" not in table.data.columns


def test_load_responses_text_numbers_become_numbers(tmp_path):
    frame = base_frame().astype({"p_speed": str})
    frame.to_parquet(tmp_path / "responses.parquet", index=False)
    study = write_study(tmp_path, responses={"file": "responses.parquet"})
    data = load_responses(study).data
    assert pd.api.types.is_numeric_dtype(data["p_speed"])
    assert data["p_speed"].tolist() == [4, 4, 3, 5, 2, 3]


def test_load_responses_missing_column_names_key(tmp_path):
    write_csv(base_frame().rename(columns={"p_speed": "p_sped"}), tmp_path / "responses.csv")
    study = write_study(tmp_path)
    with pytest.raises(DataError, match=r"column 'p_speed' \(set by attributes\.0\.performance \(attribute "
                       r"'speed'\) in study\.yaml\) is not in the file — did you mean 'p_sped'"):
        load_responses(study)


def test_load_responses_does_not_touch_the_file_or_config(tmp_path):
    path = write_csv(base_frame(), tmp_path / "responses.csv")
    before = path.read_bytes()
    study = write_study(tmp_path)
    load_responses(study)
    assert path.read_bytes() == before


def test_load_responses_file_not_found_names_key(tmp_path):
    study = write_study(tmp_path, responses={"file": "missing.csv"})
    with pytest.raises(DataFileError, match=r"missing\.csv: file not found — check 'responses\.file'"):
        load_responses(study)


def test_load_responses_encoding_setting(tmp_path):
    frame = base_frame().drop(columns=["comment"])
    frame["region"] = ["Hu\u00ea\u0301", "C\u00e0 Mau", "Hu\u00ea\u0301", "\u0110\u00e0 La\u0323t", "Hanoi",
                       "Hanoi"]
    (tmp_path / "responses.csv").write_bytes(frame.to_csv(index=False, sep=";").encode("cp1258"))
    study = write_study(tmp_path, responses={"comments": None})
    with pytest.raises(DataFileError, match=r"responses\.encoding"):
        load_responses(study)
    study = write_study(tmp_path, responses={"comments": None, "encoding": "cp1258"})
    assert load_responses(study).data["region"].tolist()[:4] == ["Hu\u1ebf", "C\u00e0 Mau", "Hu\u1ebf",
                                                                 "\u0110\u00e0 L\u1ea1t"]


# --------------------------------------------------------------------------- read_study_table
def test_read_study_table(tmp_path):
    (tmp_path / "population.csv").write_text("region,customers,email\nHanoi,1200,x@y\nHCMC,800,z@y\n",
                                             encoding="utf-8")
    study = write_study(tmp_path, population="population.csv")
    table = read_study_table(study, "population", required=["region", "customers"])
    assert table.data["customers"].tolist() == [1200, 800]
    assert "email" not in table.data.columns  # personal data never leaves the loader
    with pytest.raises(DataError, match=r"population\.csv \(key 'population' in study\.yaml\): 1 required "
                       r"column\(s\) missing(.|\n)*column 'Region' is missing — did you mean 'region'\?"):
        read_study_table(study, "population", required=["Region"])


def test_read_study_table_interviews_points_at_setting(tmp_path):
    (tmp_path / "interviews.csv").write_text("interview_id,group,text\n1,customer,Slow service\n",
                                             encoding="utf-8")
    study = write_study(tmp_path, interviews="interviews.csv")
    spec = study.interviews
    with pytest.raises(DataError, match=r"interviews\.csv \(key 'interviews\.file'(.|\n)*column 'source_group' "
                       r"is missing — rename the column in the file or set interviews\.group"):
        read_study_table(study, "interviews", required=[spec.id, spec.group, spec.text])


def test_read_study_table_not_configured(tmp_path):
    study = write_study(tmp_path)
    with pytest.raises(ConfigError, match=r"names no complaints file — add 'complaints: <file>'"):
        read_study_table(study, "complaints")
    with pytest.raises(ValueError, match="unknown study table 'codebook'"):
        read_study_table(study, "codebook")


# --------------------------------------------------------------------------- bundled sample
def test_bundled_sample_loads():
    path = ROOT / "data" / "sample" / "study.yaml"
    if not path.is_file():
        pytest.skip("the bundled sample study has not been generated yet")
    study = load_study(path)
    table = load_responses(study)
    assert len(table.data) > 0
    assert not set(study.responses.personal_data) & set(table.data.columns)
    for col in study.rated_items():
        assert pd.api.types.is_numeric_dtype(table.data[col]), col


# --------------------------------------------------------------------------- column types
# The reader converts all columns of a file in one pass (stacked); each column must come out as
# the documented per-column rule says. The rule, written here on its own, cell by cell:
_CELLS = ["1", "2", " 3 ", "+4", "-2", "007", "4.5", ".5", "1e3", "NA", "n/a", "", "x", "phí", "４", "٣",
          "12345678901234567", "inf", "nan", "Thái độ", "5 "]


def _expected_column(cells: list[str]) -> tuple[str, list]:
    import math
    import re
    import unicodedata

    from csm_helpers.study.table import MISSING_TOKENS

    number = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
    text = [unicodedata.normalize("NFC", c.strip()) or None for c in cells]
    present = [t for t in text if t is not None and t not in MISSING_TOKENS]
    if any(not number.fullmatch(t) or not math.isfinite(float(t)) for t in present):
        return "text", text
    if not present:
        return "float", [None] * len(cells)
    if any(re.fullmatch(r"[+-]?0\d+", t) or re.fullmatch(r"[+-]?\d{16,}", t) for t in present):
        return "text", text
    if len(present) == len(cells) and all(re.fullmatch(r"[+-]?\d+", t) for t in present):
        return "int", [int(t) for t in present]
    return "float", [float(t) if t is not None and t not in MISSING_TOKENS else None for t in text]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_CELLS), min_size=4, max_size=4), min_size=1, max_size=6))
def test_each_column_is_typed_by_its_own_cells(tmp_path_factory, columns):
    rows = list(zip(*columns, strict=True))
    path = tmp_path_factory.mktemp("types") / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *[f"c{i}" for i in range(len(columns))]])
        w.writerows([[f"r{k}", *row] for k, row in enumerate(rows)])
    data = read_table(path).data
    for i, cells in enumerate(columns):
        kind, values = _expected_column(list(cells))
        got = data[f"c{i}"]
        if kind == "int":
            assert got.dtype == "int64" and got.tolist() == values, (cells, got.tolist())
        elif kind == "float":
            assert got.dtype == "float64", (cells, got.dtype)
            assert [None if pd.isna(v) else v for v in got.tolist()] == values, (cells, got.tolist())
        else:
            assert not pd.api.types.is_numeric_dtype(got), (cells, got.dtype)
            assert [None if pd.isna(v) else v for v in got.tolist()] == values, (cells, got.tolist())
