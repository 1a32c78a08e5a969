"""The researcher's workbook (issue 11): the notebooks are the source, a study folder's own
notebooks run exactly as edited, and a study without the inputs of a stage skips it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from csm_helpers.core.errors import ConfigError
from csm_helpers.core.safety import file_sha256
from csm_helpers.pipeline.plan import plan_run
from csm_helpers.study.stages import (
    cell_problems,
    check_notebook,
    notebooks_dir,
    stage_names,
    study_notebooks,
)

from .conftest import run_cli, write_small_study

NOTE = "Checked by the regional team on 2 December; figures are provisional."


def responses_only(folder: Path) -> Path:
    """The small study without interviews, codebook and goals: survey answers only."""
    study = write_small_study(folder, n=120)
    text = study.read_text(encoding="utf-8")
    text = re.sub(r"^(interviews|codebook|goals|discovery):.*\n", "", text, flags=re.MULTILINE)
    study.write_text(text, encoding="utf-8")
    return study


def with_notebooks(study: Path) -> Path:
    folder = study.parent / "notebooks"
    shutil.copytree(notebooks_dir(), folder, ignore=shutil.ignore_patterns(".*"))
    return folder


# --------------------------------------------------------------------------- the notebooks are thin
def test_every_bundled_notebook_is_thin_and_clean():
    for stage in stage_names():
        path = notebooks_dir() / f"{stage}.ipynb"
        check_notebook(path)
        assert cell_problems(path) == [], stage


def test_cell_problems_names_each_kind_of_thick_cell(tmp_path):
    params = new_code_cell('study_path: str = ""\nsegment: str = "all"\noutput_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    with_output = new_code_cell("1 + 1", execution_count=3)
    with_output.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3)]
    nb = new_notebook(cells=[
        params,
        new_code_cell("def helper(x):\n    return x"),
        new_code_cell("from csm_helpers.analysis.kpis import _check_int"),
        new_code_cell("import numpy as np"),
        new_code_cell("from csm_helpers import kpis\nkpis._check_int(3, 'n', minimum=0)"),
        new_code_cell("\n".join(f"x{i} = {i}" for i in range(25))),
        with_output,
        new_markdown_cell("def is fine in prose"),
    ])
    path = tmp_path / "04_mine.ipynb"
    nbformat.write(nb, path)
    problems = "\n".join(cell_problems(path))
    assert "cell 2: defines helper" in problems
    assert "cell 3: imports _check_int, not a public name of csm_helpers.analysis.kpis" in problems
    assert "cell 4: imports numpy" in problems
    assert "cell 5: uses the private name ._check_int" in problems
    assert "cell 6: 25 lines (at most 20)" in problems
    assert "cell 7: has outputs" in problems
    assert "cell 8" not in problems


# --------------------------------------------------------------------------- a notebooks folder that cannot run
def test_a_notebook_without_its_parameters_cell_is_refused_before_anything_runs(tmp_path):
    study = write_small_study(tmp_path / "s")
    folder = with_notebooks(study)
    nb = nbformat.read(folder / "04_analysis.ipynb", as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    nbformat.write(nb, folder / "04_analysis.ipynb")
    with pytest.raises(ConfigError, match=r"04_analysis\.ipynb: no cell tagged 'parameters'.*add the tag"):
        plan_run(study, ["04"])
    (folder / "05_action_progress.ipynb").unlink()
    with pytest.raises(ConfigError, match=r"stage notebook 05_action_progress\.ipynb is missing"):
        plan_run(study, ["05"], notebooks=folder)


def test_a_parameters_cell_missing_a_name_and_a_broken_notebook_are_refused(tmp_path):
    params = new_code_cell('study_path = ""\nsegment = "all"')
    params.metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=[params]), tmp_path / "04_a.ipynb")
    with pytest.raises(ConfigError, match=r"04_a\.ipynb: the 'parameters' cell does not set output_dir"):
        check_notebook(tmp_path / "04_a.ipynb")
    (tmp_path / "04_b.ipynb").write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"04_b\.ipynb: not a readable notebook"):
        check_notebook(tmp_path / "04_b.ipynb")


def test_the_study_folder_notebooks_are_chosen_in_order(tmp_path):
    from csm_helpers.study.config import load_study

    study_path = write_small_study(tmp_path / "s")
    assert study_notebooks(load_study(study_path))[1] == "bundled"
    folder = with_notebooks(study_path)
    assert study_notebooks(load_study(study_path)) == (folder.resolve(), "study folder")
    other = tmp_path / "shared"
    shutil.copytree(notebooks_dir(), other)
    with study_path.open("a", encoding="utf-8") as fh:
        fh.write("notebooks: ../shared\n")
    assert study_notebooks(load_study(study_path)) == (other.resolve(), "study.yaml notebooks:")
    assert study_notebooks(load_study(study_path), folder) == (folder.resolve(), "--notebooks")
    with pytest.raises(ConfigError, match=r"--notebooks \S*nowhere: no such folder"):
        study_notebooks(load_study(study_path), tmp_path / "nowhere")


# --------------------------------------------------------------------------- stages a study cannot run
def test_naming_a_stage_the_study_cannot_run_says_what_to_add(tmp_path):
    study = responses_only(tmp_path / "r")
    plan, _ = plan_run(study)
    assert plan.stages == ["03_measurement", "04_analysis", "05_action_progress"]
    assert plan.skipped == {"01_goal_setting": ["goals"], "02_discovery": ["interviews", "codebook"]}
    with pytest.raises(ConfigError, match=r"stage 02_discovery needs 'interviews' and 'codebook', which "
                                          r"study\.yaml does not name — add 'interviews: <file>' and "
                                          r"'codebook: <file>' to study\.yaml"):
        plan_run(study, ["02", "04"])


@pytest.mark.slow
def test_a_responses_only_study_runs_with_plain_csm_run(tmp_path):
    study = responses_only(tmp_path / "r")
    out = tmp_path / "reports"
    proc = run_cli("run", "--study", str(study), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "skipped 01 Goal-setting: no goals in study.yaml" in proc.stderr
    assert "skipped 02 Discovery: no interviews or codebook in study.yaml" in proc.stderr
    assert sorted(p.name for p in (out / "all").glob("*.html")) == [
        "03_measurement.html", "04_analysis.html", "05_action_progress.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "not run — 02 Discovery: no interviews or codebook in study.yaml" in index
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["stages_skipped"] == {"01_goal_setting": ["goals"], "02_discovery": ["interviews", "codebook"]}


# --------------------------------------------------------------------------- the researcher's edit runs in batch
@pytest.mark.slow
def test_an_edited_study_notebook_runs_in_batch_exactly_as_edited(tmp_path):
    study = write_small_study(tmp_path / "s", n=150)
    folder = with_notebooks(study)
    nb_path = folder / "04_analysis.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(1, new_markdown_cell(NOTE))
    nbformat.write(nb, nb_path)
    digest = file_sha256(nb_path)
    out = tmp_path / "out"
    proc = run_cli("batch", "--study", str(study), "--by", "shop", "--stages", "04", "--jobs", "1",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    reports = sorted(out.glob("*/04_analysis.html"))
    assert len(reports) == 4  # all + three shops
    for report in reports:
        html = report.read_text(encoding="utf-8")
        assert NOTE in html
        assert digest in html  # the methods appendix names the notebook with its SHA-256
        metrics = json.loads((report.parent / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["generated_with"]["parameters"]["notebooks"] == {"04_analysis.ipynb": digest}
    assert nbformat.read(nb_path, as_version=4) == nb  # nothing rewrote the researcher's notebook


# --------------------------------------------------------------------------- JupyterLab: Run All with no edits
def test_a_notebook_opened_in_the_study_folder_finds_its_study_and_reuses_the_data(tmp_path):
    study = write_small_study(tmp_path / "s")
    folder = tmp_path / "s" / "notebooks"
    folder.mkdir()
    params = new_code_cell('study_path: str = ""\nsegment: str = "all"\noutput_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    probe = new_code_cell(
        "from csm_helpers.workbook import open_stage\n"
        "from csm_helpers.workbook.cache import data_cache_stats\n"
        "for _ in range(2):  # Run All, twice in the same kernel\n"
        "    ctx = open_stage('04_analysis', study_path=study_path)\n"
        "    n = len(ctx.all_responses)\n"
        "print(ctx.study.name, ctx.study.path, n, data_cache_stats()['hits'] >= 1)")
    nb = new_notebook(cells=[params, probe])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "04_probe.ipynb")
    done = papermill.execute_notebook(str(folder / "04_probe.ipynb"), str(tmp_path / "out.ipynb"),
                                      kernel_name="python3", progress_bar=False, cwd=str(folder))
    text = "".join(o.get("text", "") for c in done.cells for o in c.get("outputs", []))
    assert text.split() == ["Bakery", "pulse", str(study.resolve()), "60", "True"]


# --------------------------------------------------------------------------- csm validate predicts csm run
def _edit(study: Path, old: str, new: str) -> None:
    text = study.read_text(encoding="utf-8")
    assert old in text
    study.write_text(text.replace(old, new), encoding="utf-8")


def test_validate_names_the_users_keys_for_what_would_stop_the_run(tmp_path):
    study = write_small_study(tmp_path / "a")
    _edit(study, "  - {id: friendly,", "  - {id: ov, label: Overall, dimension: people, performance: q_overall}\n"
                                       "  - {id: friendly,")
    proc = run_cli("validate", "--study", str(study))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "attributes.2.performance ('ov') is 'q_overall', the same column as overall" in proc.stderr
    assert "drivers`" not in proc.stderr  # never a key the user did not write

    study = write_small_study(tmp_path / "b")
    _edit(study, "q_overall: [1, 10]", "q_overall: [1, 2]")
    proc = run_cli("validate", "--study", str(study))
    assert proc.returncode == 1
    assert "analysis.top_box is 2, but overall ('q_overall') has 2 points on its scale 1-2" in proc.stderr


def test_validate_warns_of_what_a_run_withholds_and_of_skipped_stages(tmp_path):
    from csm_helpers.pipeline.preflight import validate_study

    study = responses_only(tmp_path / "r")
    df = __import__("pandas").read_csv(study.parent / "answers.csv")
    df["q_overall"] = 7
    df.to_csv(study.parent / "answers.csv", index=False)
    warnings = validate_study(study).warnings
    assert "stage 02 Discovery: no interviews or codebook in study.yaml — it will be skipped" in warnings
    assert any(w.startswith("overall ('q_overall') has the same answer from every respondent — key drivers")
               for w in warnings)


@pytest.mark.slow
def test_a_constant_overall_item_withholds_key_drivers_and_the_stage_goes_on(tmp_path):
    study = responses_only(tmp_path / "c")
    df = __import__("pandas").read_csv(study.parent / "answers.csv")
    df["q_overall"] = 7
    df.to_csv(study.parent / "answers.csv", index=False)
    out = tmp_path / "out"
    proc = run_cli("run", "--study", str(study), "--stages", "04,05", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    html = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    assert "Key drivers are not shown: a correlation cannot be computed" in html
    assert "has no variance (every answer is the same)" in html
    assert (out / "all" / "05_action_progress.html").is_file()


# --------------------------------------------------------------------------- per-column scales honoured
def test_an_item_with_its_own_scale_is_read_on_it_in_the_answer_charts(tmp_path):
    import pandas as pd

    from csm_helpers.analysis.measurement import likert_distribution
    from csm_helpers.workbook.context import open_stage

    study = write_small_study(tmp_path / "s")
    _edit(study, "q_overall: [1, 10]", "q_overall: [1, 10], q_friendly: [0, 10]")
    df = pd.read_csv(study.parent / "answers.csv")
    df["q_friendly"] = [i % 11 for i in range(len(df))]  # 0-10, outside the default 1-7
    df.to_csv(study.parent / "answers.csv", index=False)
    ctx = open_stage("03_measurement", study_path=str(study))
    groups = ctx.scale_groups
    assert groups == [("performance", (1.0, 7.0), ["q_quality", "q_speed"]),
                      ("performance", (0.0, 10.0), ["q_friendly"])]
    for _kind, scale, items in groups:  # what the notebook's answer-distribution cell does
        dist = likert_distribution(ctx.all_responses, items=items, scale=scale)
        assert dist.groupby("item")["n"].sum().eq(len(df)).all()


# --------------------------------------------------------------------------- ids: a blank header, id: row
def test_a_blank_id_header_gets_advice_and_id_row_numbers_the_respondents(tmp_path):
    import pandas as pd

    from csm_helpers.study.readers import load_responses

    study = write_small_study(tmp_path / "s")
    df = pd.read_csv(study.parent / "answers.csv").rename(columns={"rid": ""})
    df.to_csv(study.parent / "answers.csv", index=False)
    proc = run_cli("validate", "--study", str(study))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert ("column 1 of answers.csv has no name in its header (read as 'Unnamed: 0'): give it a name, or "
            "write `id: row` in study.yaml") in proc.stderr
    _edit(study, "  id: rid\n", "  id: row\n")
    from csm_helpers.study.config import load_study

    data = load_responses(load_study(study)).data
    assert data["row"].tolist() == list(range(2, len(df) + 2))  # the rows of the file, after its header
    assert run_cli("validate", "--study", str(study)).returncode == 0


# --------------------------------------------------------------------------- Qualtrics previews and unfinished
def _as_qualtrics(study: Path, *, legacy: bool = False) -> None:
    import pandas as pd

    df = pd.read_csv(study.parent / "answers.csv", dtype=str, keep_default_na=False)
    n = len(df)
    meta = pd.DataFrame({"ResponseId": [f"R_{i:04d}" for i in range(n)],
                         "Status": ["Survey Preview" if i < 3 else "IP Address" for i in range(n)],
                         "Finished": ["0" if 3 <= i < 8 else "1" for i in range(n)]})
    df = pd.concat([meta, df.drop(columns=["rid"])], axis=1)
    if legacy:  # row 1: V1, V2, ...; row 2: the field names
        names = list(df.columns)
        header = [f"V{i + 1}" if i < 3 else c for i, c in enumerate(names)]
        rows = [header, ["ResponseID", "Status", "Finished", *names[3:]]]
    else:  # row 2: question text; row 3: ImportId
        rows = [list(df.columns), list(df.columns), [f'{{"ImportId":"{c}"}}' for c in df.columns]]
    import csv

    with open(study.parent / "answers.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows(rows)
        writer.writerows(df.to_numpy().tolist())


@pytest.mark.parametrize("legacy", [False, True])
def test_qualtrics_previews_and_unfinished_responses_are_left_out_and_counted(tmp_path, legacy):
    from csm_helpers.present.views import left_out_message
    from csm_helpers.study.config import load_study
    from csm_helpers.study.readers import load_responses

    study = write_small_study(tmp_path / "q")
    _as_qualtrics(study, legacy=legacy)
    _edit(study, "  id: rid\n", "  id: ResponseID\n" if legacy else "  id: ResponseId\n")
    table = load_responses(load_study(study))
    assert table.left_out == {"survey preview": 3, "unfinished": 5}
    assert len(table.data) == 60 - 8
    ids = table.data["ResponseID" if legacy else "ResponseId"]
    assert ids.iloc[0] == "R_0008"
    first_row = 3 if legacy else 4  # the file row of the first data row, after the header rows
    assert table.row_numbers([0]) == [first_row + 8]
    assert left_out_message(table.left_out).startswith("Left out when the export was read: 3 survey previews "
                                                       "and 5 unfinished responses")
    _edit(study, "  segments:", "  qualtrics: {keep_previews: true, keep_unfinished: true}\n  segments:")
    kept = load_responses(load_study(study))
    assert len(kept.data) == 60 and kept.left_out == {}


# --------------------------------------------------------------------------- SPSS value labels in the legends
def test_spss_value_labels_name_the_answer_points_in_the_charts(tmp_path):
    import pandas as pd
    import pyreadstat

    from csm_helpers.analysis.measurement import likert_distribution
    from csm_helpers.present.charts.measurement import plot_likert
    from csm_helpers.workbook.context import open_stage

    study = write_small_study(tmp_path / "s")
    df = pd.read_csv(study.parent / "answers.csv", keep_default_na=False)
    words = {1: "Very poor", 2: "Poor", 3: "Fair", 4: "Neutral", 5: "Good", 6: "Very good", 7: "Excellent"}
    labels = {c: {float(k): v for k, v in words.items()} for c in ("q_quality", "q_speed", "q_friendly")}
    pyreadstat.write_sav(df, str(study.parent / "answers.sav"), variable_value_labels=labels)
    _edit(study, "file: answers.csv", "file: answers.sav")
    ctx = open_stage("03_measurement", study_path=str(study))
    items = ["q_quality", "q_speed", "q_friendly"]
    assert ctx.point_labels(items) == words
    dist = likert_distribution(ctx.all_responses, items=items, scale=(1, 7))
    chart = plot_likert(dist, point_labels=ctx.point_labels(items))
    legend = [m["label"] for m in chart.marks if m["kind"] == "legend"]
    assert "Very poor" in " ".join(legend) and "Excellent" in " ".join(legend)
    assert ctx.point_labels(["q_quality", "q_overall"]) == words  # an unlabelled item does not count
