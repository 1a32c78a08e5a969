"""``csm init``: a study workbook folder drafted from a real export (issue 11 item 2)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from csm_helpers.core.errors import ConfigError, CsmError
from csm_helpers.study.config import load_study
from csm_helpers.study.draft import draft_study, init_study

from .conftest import run_cli

AGREE = {1: "Very dissatisfied", 2: "Dissatisfied", 3: "Neither", 4: "Satisfied", 5: "Very satisfied"}
ASPECTS = ["Opening hours", "Staff friendliness", "Waiting time", "Price", "Cleanliness", "Online booking"]


def survey(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """A clinic survey with its own column names: Q1_1..Q1_6 aspects, Q2 overall, Q3 recommend."""
    rng = np.random.default_rng(seed)
    aspects = rng.integers(1, 6, size=(n, 6))
    overall = np.clip(np.round(aspects.mean(axis=1) + rng.normal(0, 0.6, n)), 1, 5)
    df = pd.DataFrame({"CaseNo": [f"C{i:05d}" for i in range(n)]})
    for j in range(6):
        df[f"Q1_{j + 1}"] = aspects[:, j].astype(float)
    df["Q2"] = overall
    df["Q3"] = np.clip(np.round(overall * 2 + rng.normal(0, 1, n)), 0, 10)
    df["Clinic"] = rng.choice([1.0, 2.0, 3.0], size=n)
    df["Remarks"] = rng.choice(["", "The nurse explained everything very clearly to me.",
                                "Waited far too long at the reception desk."], size=n)
    df["Email_Address"] = [f"p{i}@example.org" for i in range(n)]
    return df


def write_sav(path: Path) -> Path:
    df = survey()
    labels = {f"Q1_{j + 1}": f"How satisfied are you with: - {a}" for j, a in enumerate(ASPECTS)}
    labels.update(Q2="Overall, how satisfied are you with the clinic?",
                  Q3="How likely are you to recommend us to a friend?", Clinic="Clinic visited")
    values = {f"Q1_{j + 1}": {float(k): v for k, v in AGREE.items()} for j in range(6)}
    values["Q2"] = {float(k): v for k, v in AGREE.items()}
    values["Clinic"] = {1.0: "Central", 2.0: "North", 3.0: "Harbour"}
    pyreadstat.write_sav(df, str(path), column_labels=labels, variable_value_labels=values)
    return path


def test_an_spss_export_is_drafted_with_every_guess_commented(tmp_path):
    d = draft_study(write_sav(tmp_path / "clinic.sav"), data_file="data/clinic.sav")
    g = d.guesses
    assert g["id"] == "CaseNo" and g["overall"] == "Q2" and g["recommend"] == "Q3"
    assert g["attributes"] == [f"Q1_{j}" for j in range(1, 7)]
    assert g["segments"] == ["Clinic"] and g["comments"] == "Remarks"
    assert g["personal_data"] == ["Email_Address"]
    assert d.todo == [f"attributes.{i}.dimension" for i in range(6)]
    cfg = yaml.safe_load(d.yaml)
    assert cfg["scales"]["default"] == [1, 5]
    assert [a["label"] for a in cfg["attributes"]] == ASPECTS  # the SPSS variable labels, matrix prefix dropped
    assert cfg["scales"]["Q3"] == [0, 10]
    assert "# guessed: a column with a different value in every row" in d.yaml
    assert re.search(r"overall: \"Q2\"  # guessed:", d.yaml)


def test_a_qualtrics_export_puts_its_metadata_and_personal_columns_under_personal_data(tmp_path):
    df = survey(120)
    meta = pd.DataFrame({
        "StartDate": "2026-11-02 10:00:00", "EndDate": "2026-11-02 10:06:00", "Status": "IP Address",
        "IPAddress": "203.0.113.9", "Progress": 100, "Duration (in seconds)": np.arange(120) + 200,
        "Finished": 1, "RecordedDate": "2026-11-02 10:06:00", "ResponseId": [f"R_{i:06d}" for i in range(120)],
        "RecipientLastName": "Nguyen", "RecipientFirstName": "An", "RecipientEmail": "an@example.org",
        "ExternalReference": "", "LocationLatitude": 21.0, "LocationLongitude": 105.8,
        "DistributionChannel": "anonymous", "UserLanguage": "EN"})
    body = pd.concat([meta, df.drop(columns=["CaseNo", "Email_Address"])], axis=1)
    body["Clinic"] = body["Clinic"].map({1.0: "Central", 2.0: "North", 3.0: "Harbour"})  # choice text
    question = {c: c for c in body.columns}
    question.update({f"Q1_{j + 1}": f"How satisfied are you with... - {a}" for j, a in enumerate(ASPECTS)})
    question.update(Q2="Overall satisfaction with the clinic", Q3="How likely are you to recommend us?")
    path = tmp_path / "clinic_qualtrics.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(body.columns)
        w.writerow([question[c] for c in body.columns])
        w.writerow([json.dumps({"ImportId": c}) for c in body.columns])
        w.writerows(body.astype(str).to_numpy().tolist())
    d = draft_study(path, data_file="data/x.csv")
    g = d.guesses
    assert g["id"] == "ResponseId" and g["duration"] == "Duration (in seconds)"
    assert g["overall"] == "Q2" and g["recommend"] == "Q3"
    assert {"IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
            "LocationLatitude", "LocationLongitude", "StartDate", "Status", "Finished"} <= set(g["personal_data"])
    assert [a["label"] for a in yaml.safe_load(d.yaml)["attributes"]] == ASPECTS
    assert "qualtrics: {keep_previews: false, keep_unfinished: false}" in d.yaml


def test_without_a_unique_id_or_an_overall_item_the_draft_says_todo(tmp_path):
    df = survey(80).drop(columns=["CaseNo"]).rename(columns={"Q2": "Q9"})
    df["Clinic"] = df["Clinic"].map({1.0: "Central", 2.0: "North", 3.0: "Harbour"})
    df["Remarks"] = ""
    df.to_csv(tmp_path / "plain.csv", index=False)
    d = draft_study(tmp_path / "plain.csv", data_file="data/plain.csv")
    assert d.guesses["id"] == "row" and d.todo[0] == "overall"
    init_study(tmp_path / "s", source=tmp_path / "plain.csv")
    with pytest.raises(ConfigError) as err:
        load_study(tmp_path / "s" / "study.yaml")
    listed = re.findall(r"^  - (\S+): TODO$", str(err.value), flags=re.MULTILINE)
    assert listed == d.todo and d.todo[1:] == [f"attributes.{i}.dimension" for i in range(len(d.guesses["attributes"]))]


def test_init_refuses_a_folder_in_use_and_keeps_an_edited_notebook(tmp_path):
    result = init_study(tmp_path / "s")
    nb = result.folder / "notebooks" / "04_analysis.ipynb"
    nb.write_text(nb.read_text(encoding="utf-8").replace("# Analysis", "# Analysis (our edit)"), encoding="utf-8")
    with pytest.raises(CsmError, match="already exists and is not empty — choose a new folder, or add --force"):
        init_study(tmp_path / "s")
    again = init_study(tmp_path / "s", force=True)
    assert again.kept == [nb] and "(our edit)" in nb.read_text(encoding="utf-8")


def test_an_export_that_cannot_be_read_leaves_nothing_behind(tmp_path):
    bad = tmp_path / "broken.sav"
    bad.write_bytes(b"not an spss file at all")
    proc = run_cli("init", str(tmp_path / "s"), "--from", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "broken.sav" in proc.stderr
    assert not (tmp_path / "s").exists()
    proc = run_cli("init", str(tmp_path / "s"), "--from", str(tmp_path / "nothing.csv"))
    assert proc.returncode == 1 and "no such file" in proc.stderr


@pytest.mark.slow
def test_init_from_spss_then_only_the_todos_gives_reports(tmp_path):
    sav = write_sav(tmp_path / "clinic.sav")
    proc = run_cli("init", str(tmp_path / "mystudy"), "--from", str(sav))
    assert proc.returncode == 0, proc.stderr
    study = tmp_path / "mystudy" / "study.yaml"
    check = run_cli("validate", "--study", str(study))
    assert check.returncode == 1 and "6 key(s) still say TODO" in check.stderr
    text = study.read_text(encoding="utf-8")
    dims = iter(["process", "people", "process", "product", "process", "process"])
    study.write_text(re.sub(r"dimension: TODO", lambda _m: f"dimension: {next(dims)}", text), encoding="utf-8")
    out = tmp_path / "reports"
    proc = run_cli("run", "--study", str(study), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (out / "all").glob("*.html")) == [
        "03_measurement.html", "04_analysis.html", "05_action_progress.html"]
    html = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    assert "Staff friendliness" in html and "p0@example.org" not in html
