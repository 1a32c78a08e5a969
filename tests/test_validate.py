"""Tests of csm_helpers.study.validate: every check, its message, and one-pass collection.

Row numbers below are worked out by hand: the tables are CSV-like (header = row 1), so the
data row at position ``i`` is file row ``i + 2``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from csm_helpers.core.errors import DataError
from csm_helpers.study.config import Study, load_study
from csm_helpers.study.readers import Table
from csm_helpers.study.validate import ValidationReport, check_responses, validate_responses


def write_study(folder: Path, *, responses: dict | None = None, **top) -> Study:
    config = {
        "name": "Test study",
        "responses": {"file": "responses.csv", "id": "id", "segments": ["region"], "wave": "wave",
                      "personal_data": ["email"], "comments": "comment", "duration": "duration",
                      "weight": "w", **(responses or {})},
        "scales": {"default": [1, 5]},
        "overall": "sat",
        "recommend": "nps",
        "attributes": [{"id": "speed", "label": "Speed", "dimension": "process",
                        "performance": "p_speed", "importance": "i_speed"},
                       {"id": "courtesy", "label": "Courtesy", "dimension": "people",
                        "performance": "p_court"}],
        "loyalty": {"repeat": "repeat_12m"},
        **top,
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return load_study(folder / "study.yaml")


def good_frame(n: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "id": [f"R{i + 1}" for i in range(n)],
        "wave": [2026] * n,
        "region": ["North", "South"] * (n // 2),
        "email": [f"p{i}@example.org" for i in range(n)],
        "w": np.linspace(0.5, 1.5, n),
        "comment": ["fine"] * n,
        "duration": np.arange(n) * 30.0 + 60,
        "sat": rng.integers(1, 6, n),
        "nps": rng.integers(0, 11, n),
        "p_speed": rng.integers(1, 6, n),
        "i_speed": rng.integers(1, 6, n),
        "p_court": rng.integers(1, 6, n),
        "repeat_12m": ["yes", "no"] * (n // 2),
        "unused_extra": ["anything"] * n,
    })


def table(frame: pd.DataFrame, name: str = "responses.csv", fmt: str = "csv", first: int = 2, **kw) -> Table:
    return Table(frame, Path(name), fmt, first, **kw)


@pytest.fixture
def study(tmp_path) -> Study:
    return write_study(tmp_path)


def test_clean_data_has_no_message(study):
    report = validate_responses(table(good_frame()), study)
    assert isinstance(report, ValidationReport)
    assert report.errors == [] and report.warnings == []
    assert report.ok
    check_responses(table(good_frame()), study)  # does not raise


def test_missing_answers_are_allowed(study):
    frame = good_frame().astype({"sat": float, "p_speed": float})
    frame.loc[[1, 4], "sat"] = np.nan
    frame.loc[1:, "p_speed"] = np.nan
    assert validate_responses(table(frame), study).ok


def test_an_item_with_no_answer_at_all_is_an_error(study):
    # issue 6: an empty item would give empty KPIs, drivers and charts deep inside a run
    frame = good_frame().astype({"p_speed": float})
    frame.loc[:, "p_speed"] = np.nan
    errors = validate_responses(table(frame), study).errors
    assert len(errors) == 1
    assert errors[0].startswith("responses.csv, column 'p_speed' (set by attributes.")
    assert f"no answer at all on any of the {len(frame)} rows" in errors[0]
    assert "remove the item from study.yaml" in errors[0]


def test_does_not_modify_the_callers_frame(study):
    frame = good_frame()
    frame.loc[3, "sat"] = 9
    before = frame.copy()
    validate_responses(table(frame), study)
    pd.testing.assert_frame_equal(frame, before)


# --------------------------------------------------------------------------- columns
def test_missing_columns_name_the_config_key_and_close_matches(study):
    frame = good_frame().rename(columns={"p_court": "p_courtesy", "region": "Region", "w": "weight_final"})
    frame = frame.drop(columns=["repeat_12m", "id"])
    errors = validate_responses(table(frame), study).errors
    assert errors[0].startswith("responses.csv: column 'id' (set by responses.id in study.yaml) is not in the file")
    assert ("responses.csv: column 'region' (set by responses.segments.0 in study.yaml) is not in the file — "
            "did you mean 'Region' (column names are case-sensitive)? fix responses.segments.0 in study.yaml "
            "or the column name in the file") in errors
    assert any(e.startswith("responses.csv: column 'w' (set by responses.weight in study.yaml)") for e in errors)
    assert ("responses.csv: column 'p_court' (set by attributes.1.performance (attribute 'courtesy') in "
            "study.yaml) is not in the file — did you mean 'p_courtesy'? fix attributes.1.performance in "
            "study.yaml or the column name in the file") in errors
    assert any("column 'repeat_12m' (set by loyalty.repeat in study.yaml)" in e for e in errors)
    assert len(errors) == 5


def test_missing_column_without_close_match_lists_file_columns(study):
    frame = good_frame().drop(columns=["nps"])
    (error,) = validate_responses(table(frame), study).errors
    assert error.startswith("responses.csv: column 'nps' (set by recommend in study.yaml) is not in the file — "
                            "the file has 'id', 'wave', 'region'")
    assert error.endswith("fix recommend in study.yaml or the column name in the file")


def test_extra_columns_are_fine(study):
    frame = good_frame().assign(another=1, yet_another="x")
    assert validate_responses(table(frame), study).ok


# --------------------------------------------------------------------------- rated items
def test_out_of_range_message_lists_rows(study):
    frame = good_frame(12)
    # positions 1, 3, 4, 5, 6, 8 -> rows 3, 5, 6, 7, 8, 10
    frame.loc[[1, 3, 4, 5, 6, 8], "p_speed"] = [6, 0, 6, 7, 6, 6]
    (error,) = validate_responses(table(frame), study).errors
    assert error == ("responses.csv, column 'p_speed', rows 3, 5, 6, 7, 8 (+1 more): 6, 0, 7 are outside the "
                     "scale 1-5 — fix the data or set scales.p_speed in study.yaml")


def test_recommend_uses_its_0_to_10_scale(study):
    frame = good_frame()
    frame.loc[0, "nps"] = 10
    frame.loc[2, "nps"] = 11
    (error,) = validate_responses(table(frame), study).errors
    assert error == ("responses.csv, column 'nps', row 4: 11 is outside the scale 0-10 — fix the data or set "
                     "scales.nps in study.yaml")


def test_item_scale_override_is_used(tmp_path):
    study = write_study(tmp_path, scales={"default": [1, 5], "p_court": [1, 7]})
    frame = good_frame()
    frame.loc[0, "p_court"] = 7
    assert validate_responses(table(frame), study).ok
    frame.loc[1, "p_court"] = 8
    (error,) = validate_responses(table(frame), study).errors
    assert "row 3: 8 is outside the scale 1-7" in error


def test_negative_scale_is_written_with_to(tmp_path):
    study = write_study(tmp_path, scales={"default": [1, 5], "i_speed": [-2, 2]})
    frame = good_frame()
    frame["i_speed"] = [-2, -1, 0, 1, 2, 2, 1, 0, -1, 3]
    (error,) = validate_responses(table(frame), study).errors
    assert "row 11: 3 is outside the scale -2 to 2" in error


def test_missing_code_hint(study):
    frame = good_frame()
    frame.loc[5, "sat"] = 99
    (error,) = validate_responses(table(frame), study).errors
    assert error == ("responses.csv, column 'sat', row 7: 99 is outside the scale 1-5 — fix the data or set "
                     "scales.sat in study.yaml; if 99 is a code for \"don't know\" or \"not applicable\", "
                     "list it in responses.missing_codes")


def test_non_numeric_values_shows_three_distinct(study):
    frame = good_frame().astype({"p_speed": object})
    frame.loc[[0, 2, 3, 5, 7], "p_speed"] = ["five", "six", "five", "seven", "eight"]
    (error,) = validate_responses(table(frame), study).errors
    assert error == ("responses.csv, column 'p_speed', rows 2, 4, 5, 7, 9: 'five', 'six', 'seven' (+1 more "
                     "values) are not a number — answers must be numbers on the scale 1-5; replace the text by "
                     "the number of the answer on the scale, or leave the cell empty for no answer")


def test_text_numbers_and_missing_tokens_are_accepted(study):
    frame = good_frame().astype({"p_speed": object})
    frame["p_speed"] = ["1", " 2", "3 ", "", "NA", None, "4", "5", "5.0", "2"]
    assert validate_responses(table(frame), study).ok


def test_qualtrics_choice_text_asks_for_numeric_values(study):
    frame = good_frame().astype({"sat": object})
    frame.loc[2, "sat"] = "Extremely satisfied"
    (error,) = validate_responses(table(frame, fmt="qualtrics", first=4), study).errors
    assert error.startswith("responses.csv, column 'sat', row 6: 'Extremely satisfied' is not a number")
    assert error.endswith('re-export the data from Qualtrics with "Use numeric values" (not "Use choice text")')


def test_non_whole_numbers_on_integer_scale(study):
    frame = good_frame().astype({"i_speed": float})
    frame.loc[[2, 6], "i_speed"] = [3.5, 4.25]
    (error,) = validate_responses(table(frame), study).errors
    assert error == ("responses.csv, column 'i_speed', rows 4, 8: 3.5, 4.25 are not a whole number — answers "
                     "on the scale 1-5 are whole points: fix the data")


def test_fractions_allowed_on_a_fractional_scale(tmp_path):
    study = write_study(tmp_path, scales={"default": [1, 5], "i_speed": [0, 2.5]})
    frame = good_frame().astype({"i_speed": float})
    frame["i_speed"] = [0, 0.5, 1.25, 2.5, 1, 1, 2, 0.1, 0.2, 0.3]
    assert validate_responses(table(frame), study).ok


def test_infinite_value_is_not_a_number(study):
    frame = good_frame().astype({"sat": float})
    frame.loc[1, "sat"] = np.inf
    (error,) = validate_responses(table(frame), study).errors
    assert error.startswith("responses.csv, column 'sat', row 3: 'inf' is not a number")


# --------------------------------------------------------------------------- id
def test_missing_and_duplicate_ids(study):
    frame = good_frame(12)
    frame.loc[[4, 9], "id"] = None
    frame.loc[7, "id"] = "R1"     # R1 at positions 0 and 7 -> rows 2, 9
    frame.loc[[10, 11], "id"] = "R3"  # R3 at positions 2, 10, 11 -> rows 4, 12, 13
    errors = validate_responses(table(frame), study).errors
    assert errors == [
        "responses.csv, column 'id', rows 6, 11: the respondent id is missing — give every row its own id "
        "(the id column is set by responses.id in study.yaml)",
        "responses.csv, column 'id': 2 respondent ids appear on more than one row — 'R1' on rows 2, 9; 'R3' on "
        "rows 4, 12, 13 — each respondent must have exactly one row: remove the repeated rows or correct the ids",
    ]


def test_many_duplicate_ids_are_capped(study):
    frame = pd.concat([good_frame(), good_frame()], ignore_index=True)
    (error,) = validate_responses(table(frame), study).errors
    # R1 at positions 0 and 10 -> rows 2 and 12; ten ids repeated, five listed
    assert "10 respondent ids appear on more than one row — 'R1' on rows 2, 12; 'R2' on rows 3, 13;" in error
    assert "'R5' on rows 6, 16 (+5 more ids)" in error


def test_numeric_ids(study):
    frame = good_frame()
    frame["id"] = [101, 102, 103, 104, 105, 106, 107, 108, 109, 101]
    (error,) = validate_responses(table(frame), study).errors
    assert "1 respondent id appears on more than one row — 101 on rows 2, 11" in error


# --------------------------------------------------------------------------- weight, duration
def test_weight_checks(study):
    frame = good_frame().astype({"w": object})
    frame.loc[1, "w"] = "heavy"
    frame.loc[3, "w"] = 0
    frame.loc[4, "w"] = -1.5
    frame.loc[6, "w"] = None
    errors = validate_responses(table(frame), study).errors
    assert errors == [
        "responses.csv, column 'w', row 3: 'heavy' is not a number — weights must be numbers > 0; fix the data, "
        "or remove responses.weight from study.yaml to analyse unweighted",
        "responses.csv, column 'w', row 8: the weight is missing — every respondent needs a weight > 0: fix the "
        "data, or remove responses.weight from study.yaml to analyse unweighted",
        "responses.csv, column 'w', rows 5, 6: 0, -1.5 are not a valid weight — weights must be > 0: fix the "
        "data, or remove responses.weight from study.yaml to analyse unweighted",
    ]


def test_duration_checks(study):
    frame = good_frame().astype({"duration": object})
    frame.loc[0, "duration"] = "2 min"
    frame.loc[2, "duration"] = -5
    frame.loc[3, "duration"] = None  # unknown duration is allowed
    frame.loc[4, "duration"] = 0     # zero is allowed
    errors = validate_responses(table(frame), study).errors
    assert errors == [
        "responses.csv, column 'duration', row 2: '2 min' is not a number — durations must be numbers of seconds "
        ">= 0; fix the data (leave the cell empty when the duration is unknown)",
        "responses.csv, column 'duration', row 4: -5 is not a valid duration — durations must be >= 0 seconds: "
        "fix the data (leave the cell empty when the duration is unknown)",
    ]


# --------------------------------------------------------------------------- warnings
def test_segment_missing_values_are_a_warning_a_single_value_an_error(tmp_path):
    study = write_study(tmp_path, responses={"segments": ["region", "channel"]})
    frame = good_frame().assign(channel="web")
    frame.loc[[0, 3], "region"] = None
    frame.loc[5, "region"] = "  "
    report = validate_responses(table(frame), study)
    assert report.warnings == [
        "responses.csv, column 'region', rows 2, 5, 7: no region value — these respondents are left out of the "
        "segment results for 'region': fill in the value to include them",
    ]
    # issue 6: a segment column with one value cannot be compared or reported by segment
    assert report.errors == [
        "responses.csv, column 'channel': every respondent has the same value 'web' — a segment column splits "
        "the respondents into groups, this one makes a single group: check the column, or remove 'channel' "
        "from responses.segments in study.yaml",
    ]
    frame["channel"] = None
    errors = validate_responses(table(frame), study).errors
    assert errors == [f"responses.csv, column 'channel': no channel value on any of the {len(frame)} rows — a "
                      "segment column needs a value for its respondents: check the export, or remove 'channel' "
                      "from responses.segments in study.yaml"]


def test_missing_wave_is_a_warning(study):
    frame = good_frame().astype({"wave": float})
    frame.loc[9, "wave"] = np.nan
    report = validate_responses(table(frame), study)
    assert report.ok
    assert report.warnings == ["responses.csv, column 'wave', row 11: no wave value — these respondents are left "
                               "out of the wave results for 'wave': fill in the value to include them"]


def test_personal_data_column_absent_is_a_warning(tmp_path):
    study = write_study(tmp_path, responses={"personal_data": ["email", "phone", "Name"]})
    frame = good_frame().assign(name="Ann")
    report = validate_responses(table(frame), study)
    assert report.ok
    assert report.warnings == [
        "responses.csv: column 'phone' listed in responses.personal_data is not in the file — check the "
        "spelling in study.yaml",
        "responses.csv: column 'Name' listed in responses.personal_data is not in the file (did you mean "
        "'name'? it would reach the reports) — check the spelling in study.yaml",
    ]


def test_removed_personal_data_is_not_reported_absent(study):
    frame = good_frame().drop(columns=["email"])
    assert validate_responses(table(frame, removed_columns=("email",)), study).warnings == []


# --------------------------------------------------------------------------- one pass, raising
def test_all_problems_collected_in_one_pass(study):
    frame = good_frame().astype({"sat": object})
    frame.loc[0, "sat"] = "great"
    frame.loc[1, "p_court"] = 6
    frame.loc[2, "id"] = "R2"
    frame.loc[3, "w"] = 0
    frame = frame.drop(columns=["i_speed"])
    report = validate_responses(table(frame), study)
    assert len(report.errors) == 5
    with pytest.raises(DataError, match=r"responses\.csv: 5 problems in the survey data") as info:
        check_responses(table(frame), study)
    assert info.value.problems == report.errors
    for problem in report.errors:
        assert problem in str(info.value)


def test_row_numbers_follow_the_table(study):
    frame = good_frame()
    frame.loc[2, "sat"] = 8
    rows = np.array([2, 3, 5, 6, 7, 8, 9, 10, 11, 12])  # a blank row 4 in the file
    (error,) = validate_responses(table(frame, file_rows=rows), study).errors
    assert error.startswith("responses.csv, column 'sat', row 5: 8 is outside")


def test_large_file_reports_the_last_row(study):
    n = 200_000
    frame = pd.concat([good_frame()] * (n // 10), ignore_index=True)
    frame["id"] = [f"R{i}" for i in range(n)]
    frame.loc[n - 1, "sat"] = 6
    (error,) = validate_responses(table(frame), study).errors
    assert error.startswith(f"responses.csv, column 'sat', row {n + 1}: 6 is outside")
