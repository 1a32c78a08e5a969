"""Privacy (issue 6, SPEC §4): personal data never reaches an output; no figure for a group
under the minimum cell size, not even by difference; comments without respondent ids.

The study is the corpus base with recognisable personal data (names, e-mails, phones in the
columns flagged ``responses.personal_data``, and in the complaint log and interview file),
recognisable respondent ids, and one shop (Mongkok) with 3 respondents. ``csm run`` writes
every report once per module; every byte of every output is searched.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import re

import pandas as pd
import pytest
import yaml

from csm_helpers.cli import main
from csm_helpers.core.errors import CsmError
from csm_helpers.study.config import load_study
from csm_helpers.study.readers import load_responses
from csm_helpers.workbook.segment import check_segment_publishable

from .conftest import run_cli
from .corpus_tools import build_base
from .disclosure import check_disclosure_rule

PII = "pii-marker-4711"
RID = "RID9zq"


def write_privacy_study(folder):
    study_path = build_base(folder)
    rows = list(csv.reader(io.StringIO((folder / "answers.csv").read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    header.append("phone")
    for i, row in enumerate(body):
        row[header.index("rid")] = f"{RID}{i:03d}"
        row[header.index("full_name")] = f"Name {PII}-{i} Nguyễn"
        row[header.index("email")] = f"{PII}-{i}@example.com"
        row.append(f"+84 4711 {i:04d}")
        # a comment quoting the respondent's own id and contact details
        if i % 4 == 0:
            row[header.index("remarks")] = f"quality is fine, I am {RID}{i:03d}, mail {PII}-{i}@example.com"
    for i in (30, 40, 50):  # three Kowloon respondents of the latest wave move to a tiny shop
        body[i][header.index("shop")] = "Mongkok"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    (folder / "answers.csv").write_text(buf.getvalue(), encoding="utf-8")
    (folder / "population.csv").write_text(
        "segment,value,population\nshop,Kowloon,900\nshop,Shatin,500\nshop,Tsuen Wan,400\nshop,Mongkok,60\n",
        encoding="utf-8")
    # personal data in the other tables too
    (folder / "complaints.csv").write_text(
        "complaint_id,customer_id,email,category,valid,received,resolved,sla_days,outcome,description\n"
        + "".join(f"C{i},{RID}{i:03d},{PII}-c{i}@example.com,{'queue' if i % 2 else 'staff'},yes,2026-01-0{1 + i % 5},"
                  f"2026-01-1{i % 5},7,satisfied,Waited long\n" for i in range(12)), encoding="utf-8")
    talks = (folder / "talks.csv").read_text(encoding="utf-8").splitlines()
    talks = [talks[0] + ",full_name"] + [f"{line},Interviewee {PII}-t{i}" for i, line in enumerate(talks[1:])]
    (folder / "talks.csv").write_text("\n".join(talks) + "\n", encoding="utf-8")
    study = yaml.safe_load(study_path.read_text(encoding="utf-8"))
    study["responses"]["personal_data"] = ["full_name", "email", "phone"]
    study["complaints"] = "complaints.csv"
    study_path.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return study_path


class Tables(html.parser.HTMLParser):
    """Every <table> of a page as (caption, rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self.tables[-1] = ("".join(self._caption).strip(), self.tables[-1][1])
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


def tables_of(body: str) -> dict[str, pd.DataFrame]:
    parser = Tables()
    parser.feed(body)
    return {caption: pd.DataFrame(rows[1:], columns=rows[0]) for caption, rows in parser.tables if rows}


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("privacy")
    study = write_privacy_study(folder / "study")
    out = folder / "reports"
    proc = run_cli("run", "--study", str(study), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return study, out


def test_the_privacy_study_has_what_the_tests_look_for(tmp_path):
    study = write_privacy_study(tmp_path / "study")
    raw = load_responses(load_study(study), validate=False)
    assert raw.removed_columns == ("full_name", "email", "phone")
    data = pd.read_csv(tmp_path / "study" / "answers.csv")
    assert data["email"].str.contains(PII).all() and (data["shop"] == "Mongkok").sum() == 3


@pytest.mark.slow
def test_personal_data_and_respondent_ids_reach_no_output(privacy_run):
    _, out = privacy_run
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".html", ".csv", ".json"}
    for path in files:
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        assert PII.encode() not in data, path.name
        assert b"4711 0" not in data, path.name  # phone numbers
        assert RID.encode() not in data, path.name  # respondent ids, in comments or anywhere
        assert "Nguyễn" not in text, path.name
    # the comments quoting their writer's address are shown with the address removed
    analysis = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    assert "Example comments" in analysis


@pytest.mark.slow
def test_no_figure_for_a_small_group_even_by_difference(privacy_run):
    study, out = privacy_run
    analysis = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    tables = tables_of(analysis)
    means = tables["Means by segment"].set_index("Group")
    answers = pd.read_csv(study.parent / "answers.csv", dtype=str)  # the base, counted by pandas
    latest = answers.loc[(answers["wave"] == answers["wave"].max()) & answers["q_overall"].notna()]
    n = latest["shop"].value_counts()
    hidden = set(means.index[means["Suppressed"] == "yes"])
    assert "Mongkok" in hidden and "Tsuen Wan" in hidden  # the small shop, and the smallest other
    check_disclosure_rule(n.to_dict(), hidden, 5)
    # a hidden shop's size is not shown either (issue 17, part 6); the shown ones' are the base's
    assert means.loc["Mongkok", "n"] == "fewer than 5" and means.loc["Tsuen Wan", "n"] == "hidden"
    for group in set(means.index) - hidden:
        assert int(means.loc[group, "n"].replace(",", "")) == n[group], group
    for group in hidden:
        assert (means.loc[group, ["Mean", "SD", "CI low", "CI high"]] == "n/a").all(), group
    shown = [g for g in means.index if g not in hidden]
    assert all(means.loc[g, "Mean"] != "n/a" for g in shown)
    # what a reader could subtract: the overall mean times n, minus the shown shops -> covers at
    # least two shops and min_cell_size respondents
    assert len(set(means.index) - set(shown)) >= 2 and n[list(hidden)].sum() >= 5
    top = tables["Top-2-box share by segment"].set_index("Group")
    assert set(top.index[top["Suppressed"] == "yes"]) == hidden
    for caption, table in tables.items():
        if "pairwise" in caption:
            assert not hidden & set(table.iloc[:, :2].to_numpy().ravel()), caption
    # the report says what was hidden and why
    assert "Not shown: shop Mongkok (fewer than 5 respondents), and shop Tsuen Wan too" in analysis
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    reasons = {e["group"]: e["reason"] for e in metrics["suppressed"]}
    assert reasons["group=Mongkok"] == "n < 5"
    assert reasons["group=Tsuen Wan"].startswith("complementary")
    assert "Mongkok" not in json.dumps({k: v for k, v in metrics.items() if k != "suppressed"})


@pytest.mark.slow
def test_segment_reports_that_would_reveal_a_small_group_are_refused(privacy_run, tmp_path, capsys):
    study, _ = privacy_run
    out = tmp_path / "reports"
    for segment, words in (("shop=Mongkok", "fewer than min_cell_size 5"),
                           ("shop=Tsuen Wan", "withheld to protect shop 'Mongkok'")):
        assert main(["run", "--study", str(study), "--out", str(out), "--segment", segment]) == 1
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
    assert not out.exists()


def test_check_segment_publishable_follows_the_rule():
    study = load_study(build_base_path())
    # the rule itself, on a given reporting base (the base is tested in test_small_cells)
    data = pd.DataFrame({"shop": ["A"] * 30 + ["B"] * 12 + ["C"] * 3 + ["D"] * 20})
    check_segment_publishable(data, study, "shop=A", base=data)
    check_segment_publishable(data, study, "shop=D", base=data)
    with pytest.raises(CsmError, match=r"shop=B.*withheld to protect shop 'C'"):
        check_segment_publishable(data, study, "shop=B", base=data)
    with pytest.raises(CsmError, match="fewer than min_cell_size"):
        check_segment_publishable(data, study, "shop=C", base=data)
    two_small = pd.DataFrame({"shop": ["A"] * 30 + ["B"] * 12 + ["C"] * 3 + ["D"] * 4})
    check_segment_publishable(two_small, study, "shop=B", base=two_small)  # C and D protect each other


def build_base_path():
    from .corpus_tools import CORPUS

    return CORPUS / "base" / "study.yaml"


def test_readme_and_methods_appendix_state_the_rule():
    from csm_helpers.present.appendix import METHODS

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Privacy", 1)[1].split("\n## ", 1)[0]
    for words in ("personal_data", "min_cell_size", "by difference", "smallest", "respondent id"):
        assert words in section, words
    text = json.dumps(METHODS, default=str)
    assert re.search(r"complementary", text, re.I) and "by difference" in text
