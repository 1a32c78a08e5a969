from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from csm_helpers.core.errors import ConfigError
from csm_helpers.study.config import load_codebook, load_goals, load_study

MINIMAL = """\
name: T
responses: {file: r.csv, id: id}
overall: sat
attributes:
  - {id: a1, label: A one, dimension: product, performance: p1}
"""


def write(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_minimal_study_defaults(tmp_path):
    study = load_study(write(tmp_path, MINIMAL))
    assert study.min_cell_size == 5
    assert study.language == "en"
    assert study.scale_for("p1", "performance") == (1, 5)
    assert study.path == (tmp_path / "study.yaml").resolve()
    assert study.dir == tmp_path.resolve()


def test_folder_is_accepted(tmp_path):
    write(tmp_path, MINIMAL)
    assert load_study(tmp_path).name == "T"


def test_scale_resolution_order(tmp_path):
    study = load_study(write(tmp_path, MINIMAL + "scales: {default: [1, 7], performance: [1, 10], p1: [0, 4]}\n"
                                       "recommend: rec\n"))
    assert study.scale_for("p1", "performance") == (0, 4)
    assert study.scale_for("other", "performance") == (1, 10)
    assert study.scale_for("sat", "overall") == (1, 7)
    assert study.scale_for("rec", "recommend") == (0, 10)
    assert list(study.rated_items()) == ["sat", "rec", "p1"]


def test_missing_key_names_key_and_fix(tmp_path):
    p = write(tmp_path, MINIMAL.replace("overall: sat\n", ""))
    with pytest.raises(ConfigError, match=r"key 'overall' is required but missing — add 'overall:'"):
        load_study(p)


def test_unknown_key_suggests_close_match(tmp_path):
    p = write(tmp_path, MINIMAL + "min_cel_size: 3\n")
    with pytest.raises(ConfigError, match=r"key 'min_cel_size' is not a known setting — did you mean 'min_cell_size'\?"):
        load_study(p)


def test_nested_unknown_key(tmp_path):
    p = write(tmp_path, MINIMAL.replace("{file: r.csv, id: id}", "{file: r.csv, id: id, segmnts: [x]}"))
    with pytest.raises(ConfigError, match=r"'responses.segmnts'.*did you mean 'segments'"):
        load_study(p)


def test_wrong_type_and_all_problems_listed(tmp_path):
    p = write(tmp_path, MINIMAL + "min_cell_size: many\nlanguage: fr\n")
    with pytest.raises(ConfigError) as exc:
        load_study(p)
    msg = str(exc.value)
    assert "min_cell_size" in msg and "'many'" in msg
    assert "language" in msg and "'fr'" in msg
    assert str(p) in msg


def test_bad_dimension_and_attribute_id(tmp_path):
    p = write(tmp_path, MINIMAL.replace("dimension: product", "dimension: price").replace("id: a1", "id: 1a"))
    with pytest.raises(ConfigError) as exc:
        load_study(p)
    assert "attributes.0.dimension" in str(exc.value)
    assert "not a valid attribute id" in str(exc.value)


def test_duplicate_attribute_ids(tmp_path):
    p = write(tmp_path, MINIMAL + "  - {id: a1, label: again, dimension: people, performance: p2}\n")
    with pytest.raises(ConfigError, match="attribute ids must be unique; repeated: a1"):
        load_study(p)


def test_personal_data_cannot_be_an_item(tmp_path):
    p = write(tmp_path, MINIMAL.replace("{file: r.csv, id: id}", "{file: r.csv, id: id, personal_data: [sat]}"))
    with pytest.raises(ConfigError, match="'sat' is used as overall but is also listed in responses.personal_data"):
        load_study(p)


def test_inverted_scale(tmp_path):
    p = write(tmp_path, MINIMAL + "scales: {default: [5, 1]}\n")
    with pytest.raises(ConfigError, match="minimum must be below the maximum"):
        load_study(p)


@pytest.mark.parametrize("path", ["../outside.csv", "/etc/passwd", "sub/../../x.csv"])
def test_paths_must_stay_inside_study_folder(tmp_path, path):
    p = write(tmp_path, MINIMAL.replace("file: r.csv", f"file: {path}"))
    with pytest.raises(ConfigError, match=r"key 'responses.file': path .* points outside the study folder"):
        load_study(p)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="study configuration not found"):
        load_study(tmp_path / "nope.yaml")
    p = write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: invalid YAML"):
        load_study(p)
    p = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_study(p)


def test_non_utf8_yaml(tmp_path):
    p = tmp_path / "study.yaml"
    p.write_bytes("name: Kh\u00e1ch h\u00e0ng\n".encode("utf-16"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_study(p)


def test_goals_validation(tmp_path):
    write(tmp_path, "self_assessment: {items: [{id: '4.3.1', score: 55}]}\n"
                    "kpi_targets: [{metric: csat_top2, target: 80}]\n", "goals.yaml")
    study = load_study(write(tmp_path, MINIMAL + "goals: goals.yaml\n"))
    with pytest.raises(ConfigError) as exc:
        load_goals(study)
    msg = str(exc.value)
    assert "score 55 is not in 10% steps" in msg
    assert "write 0.8 for 80%" in msg


def test_goals_missing_file(tmp_path):
    study = load_study(write(tmp_path, MINIMAL + "goals: goals.yaml\n"))
    with pytest.raises(ConfigError, match="goals file .* not found"):
        load_goals(study)


def test_codebook_validation(tmp_path):
    write(tmp_path, "attributes:\n  - {id: x, label: X, dimension: people, patterns: ['(unclosed']}\n"
                    "  - {id: y, label: Y, dimension: people}\n", "codebook.yaml")
    study = load_study(write(tmp_path, MINIMAL + "codebook: codebook.yaml\n"))
    with pytest.raises(ConfigError) as exc:
        load_codebook(study)
    assert "not a valid regular expression" in str(exc.value)
    assert "neither keywords nor patterns" in str(exc.value)


def test_interviews_short_form(tmp_path):
    study = load_study(write(tmp_path, MINIMAL + "interviews: talks.csv\n"))
    assert study.interviews.file == "talks.csv"
    assert study.interviews.group == "source_group"


def test_small_study_fixture_loads(small_study):
    study = load_study(small_study)
    assert study.scale_for("q_quality", "performance") == (1, 7)
    assert load_goals(study).self_assessment.preset == "custom"
    assert len(load_codebook(study).attributes) == 4


def test_codebook_ids_must_be_identifiers(tmp_path):
    write(tmp_path, "attributes:\n  - {id: wait time, label: W, dimension: process, keywords: [wait]}\n",
          "codebook.yaml")
    study = load_study(write(tmp_path, MINIMAL + "codebook: codebook.yaml\n"))
    with pytest.raises(ConfigError, match=r"attributes.0.id.*'wait time' is not a valid attribute id"):
        load_codebook(study)
