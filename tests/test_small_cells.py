"""Small cells are judged on the base actually reported (issue 10, item 1; SPEC §4).

The audit's scenario: a copy of the sample in which 9 Can Tho respondents are relabelled
``region=Hue`` — 6 in the earlier wave, 3 in the reported (latest) one — and Hue is added to the
population table. Counted over both waves Hue has 9 respondents; the analysis reports publish the
latest wave, where it has 3. Every test here recomputes the base from the data file with pandas,
not from the code under test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_helpers.analysis.disclosure import NO_VALUE, hidden_values, partition_counts, reporting_base
from csm_helpers.core.errors import CsmError
from csm_helpers.pipeline.batch import plan_batch
from csm_helpers.study.config import load_study
from csm_helpers.study.readers import load_responses
from csm_helpers.workbook.context import StageContext
from csm_helpers.workbook.segment import check_segment_publishable

from .conftest import ROOT, run_cli
from .disclosure import check_disclosure_rule

SAMPLE = ROOT / "data" / "sample"
LATEST, EARLIER = "2026-H1", "2025-H2"


def make_hue_study(folder: Path, *, weighted: bool = True, latest: int = 3, earlier: int = 6) -> Path:
    """The audit's copy of the sample: ``earlier`` + ``latest`` Can Tho respondents become Hue."""
    shutil.copytree(SAMPLE, folder)
    path = folder / "responses.csv"
    data = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    can_tho = data.index[data["region"] == "Can Tho"]
    pick = [*data.index[(data["region"] == "Can Tho") & (data["wave"] == EARLIER)][:earlier],
            *data.index[(data["region"] == "Can Tho") & (data["wave"] == LATEST)][:latest]]
    assert len(can_tho) > 100 and len(pick) == latest + earlier
    data.loc[pick, "region"] = "Hue"
    data.to_csv(path, index=False, encoding="utf-8-sig")
    with open(folder / "population.csv", "a", encoding="utf-8") as fh:
        fh.write("region,Hue,5000,40\n")
    if not weighted:
        cfg = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
        cfg.pop("population")
        (folder / "study.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return folder / "study.yaml"


def _latest_counts(study_path: Path) -> pd.Series:
    """Respondents per region in the reported wave after the exclusions, counted independently:
    the study's own exclusion flags are only used to drop rows, the counting is pandas'."""
    study = load_study(study_path)
    data = load_responses(study).data
    from csm_helpers.analysis.measurement import apply_exclusions, quality_flags

    kept = apply_exclusions(data, quality_flags(data, study), exclude=list(study.measurement.exclude))
    return kept.loc[kept["wave"] == LATEST, "region"].value_counts()


@pytest.fixture(params=[True, False], ids=["weighted", "unweighted"])
def hue(request, tmp_path) -> Path:
    return make_hue_study(tmp_path / "hue", weighted=request.param)


def test_the_reporting_base_is_the_latest_wave_after_exclusions(hue):
    study = load_study(hue)
    data = load_responses(study).data
    base = reporting_base(data, study)
    assert set(base["wave"]) == {LATEST}
    assert (data["region"] == "Hue").sum() == 9
    counts = _latest_counts(hue)
    assert base["region"].value_counts().to_dict() == counts.to_dict()
    assert counts["Hue"] <= 3


def test_csm_run_refuses_a_segment_small_in_the_reported_wave(hue, tmp_path):
    out = tmp_path / "out"
    res = run_cli("run", "--study", str(hue), "--segment", "region=Hue", "--stages", "04,05", "--out", str(out))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "in the reported wave 2026-H1 after the data-quality exclusions" in res.stderr
    assert "Traceback" not in res.stderr
    assert not any(out.rglob("*.html")) and not any(out.rglob("metrics.json"))


def test_batch_hides_the_small_region_and_one_more_on_the_reported_base(hue):
    counts = _latest_counts(hue)
    plan = plan_batch(hue, "region", ["04"])
    hidden = {s["segment"].split("=", 1)[1]: s["reason"] for s in plan.suppressed}
    assert hidden["Hue"] == "primary"
    # complementary: the smallest other region on the same base goes with it
    assert hidden == {"Hue": "primary", counts.drop("Hue").idxmin(): "complementary"}
    check_disclosure_rule(counts.to_dict(), hidden, 5)
    published = {s.segment for s in plan.segments}
    assert "region=Hue" not in published and "all" in published


def test_segment_values_without_respondents_in_the_reported_wave_are_not_published(tmp_path):
    study = make_hue_study(tmp_path / "s", latest=0, earlier=9)
    plan = plan_batch(study, "region", ["04"])
    reasons = {s["segment"]: s["reason"] for s in plan.suppressed}
    assert reasons["region=Hue"] == "primary"  # 9 respondents, none in the reported wave
    assert len(reasons) == 1  # an empty group reveals nothing by difference


def test_respondents_without_a_segment_value_are_protected_too():
    v = pd.Series(["A"] * 40 + ["B"] * 30 + ["C"] * 20 + [None] * 3)
    assert partition_counts(v)[NO_VALUE] == 3
    hidden = hidden_values(v, min_n=5)
    # "all" minus A, B, C would give the 3 without a value: the smallest segment is hidden with them
    assert hidden == {NO_VALUE, "C"}


@given(st.lists(st.sampled_from(["A", " A", "B ", "", "  ", None, "C", "Ä", "NaN"]), min_size=0, max_size=60),
       st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_counts_from_value_codes_are_the_counts_from_the_column(values, seed):
    """A report counts one segment column on the answered rows of each of its figures; the
    column is now read once (value_codes) and counted with bincount. Independent reference:
    a plain Python count of the stripped texts, empty and missing as no value."""
    from csm_helpers.analysis.disclosure import value_codes

    column = pd.Series(values, dtype=object)
    answered = np.random.default_rng(seed).random(len(values)) < 0.7
    expected: dict[str, int] = {}
    for v, a in zip(values, answered, strict=True):
        if a:
            key = v.strip() if isinstance(v, str) and v.strip() else NO_VALUE
            expected[key] = expected.get(key, 0) + 1
    assert partition_counts(value_codes(column), answered) == expected
    assert partition_counts(column, answered) == expected
    assert hidden_values(value_codes(column), min_n=5, answered=answered) == hidden_values(
        column, min_n=5, answered=answered)


@pytest.mark.slow
def test_differencing_all_minus_the_published_regions_never_isolates_hue(tmp_path):
    """The attack of the audit, on the unweighted variant (where it is exact): the sum of the
    hidden regions' top-2 counts is all's count minus the published regions' counts."""
    study = make_hue_study(tmp_path / "hue", weighted=False)
    out = tmp_path / "out"
    res = run_cli("batch", "--study", str(study), "--by", "region", "--stages", "04", "--jobs", "2", "--out", str(out))
    assert res.returncode == 0, res.stderr
    metrics = {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*/metrics.json")}
    assert "region=Hue" not in metrics and "all" in metrics
    counts = _latest_counts(study)
    csat = {k: m["kpis"]["csat_top2"] for k, m in metrics.items()}
    n_rest = csat["all"]["n"] - sum(c["n"] for k, c in csat.items() if k != "all")
    assert n_rest >= 5  # what differencing gives covers at least min_cell_size respondents
    hidden_regions = {k for k in counts.index if f"region={k}".replace(" ", "_") not in metrics}
    assert "Hue" in hidden_regions and len(hidden_regions) >= 2
    assert n_rest == sum(counts[k] for k in hidden_regions)
    for m in metrics.values():  # nothing anywhere is computed on Hue's 3 people alone
        assert all(e.get("n", 99) >= 5 for e in m["kpis"].values())
    # nor does the "all" report say how many they are (issue 17, part 6): every row of Hue and of
    # the region hidden with it shows "fewer than 5" or "hidden" where the count was
    report = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    rows = [r for r in _cells(report) if r and r[0] in hidden_regions]
    assert {r[0] for r in rows} == hidden_regions
    for r in rows:
        assert r[1] == ("fewer than 5" if r[0] == "Hue" else "hidden"), r
        assert str(counts[r[0]]) not in r, r


# --------------------------------------------------------------------------- per statistic
def _few_answers_study(folder: Path) -> Path:
    """Hanoi's perf_fees answered by only 4 respondents in the reported wave."""
    shutil.copytree(SAMPLE, folder)
    path = folder / "responses.csv"
    data = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = data.index[(data["region"] == "Hanoi") & (data["wave"] == LATEST)]
    data.loc[rows[4:], "perf_fees"] = ""
    data.to_csv(path, index=False, encoding="utf-8-sig")
    return folder / "study.yaml"


def test_an_attribute_answered_by_4_is_suppressed_although_the_segment_is_large(tmp_path):
    study_path = _few_answers_study(tmp_path / "s")
    study = load_study(study_path)
    hanoi = StageContext(stage="04_analysis", study=study, segment="region=Hanoi")
    assert hanoi.n > 300
    assert hanoi.current["perf_fees"].notna().sum() <= 4
    for table in (hanoi.ipa_table, hanoi.gap_table, hanoi.competitor_table):
        row = table.set_index("attribute").loc["fees"]
        assert bool(row["suppressed"])
    ipa = hanoi.ipa_table.set_index("attribute")
    assert np.isnan(ipa.loc["fees", "performance"]) and ipa.loc["fees", "quadrant"] is None
    # the cross-hair is the grand mean of the shown attributes only (else it would give fees away)
    shown = ipa.loc[~ipa["suppressed"].astype(bool)]
    assert ipa["x_cross"].dropna().iloc[0] == pytest.approx(shown["performance"].mean())
    prio = hanoi.priorities.set_index("attribute")
    assert pd.isna(prio.loc["fees", "rank"]) and np.isnan(prio.loc["fees", "score"])
    # complementary: another region's fees is hidden so that all minus the others cannot give Hanoi's
    hidden_elsewhere = [seg for seg in ("region=Can Tho", "region=Da Nang", "region=Ho Chi Minh City")
                        if StageContext(stage="04_analysis", study=study, segment=seg)
                        .ipa_table.set_index("attribute").loc["fees", "suppressed"]]
    assert len(hidden_elsewhere) == 1
    # and the whole study still shows fees (it has enough answers)
    assert not StageContext(stage="04_analysis", study=study).ipa_table.set_index("attribute").loc["fees",
                                                                                                   "suppressed"]


def test_a_withheld_attribute_is_left_out_of_the_family_of_the_rows_shown(tmp_path):
    """Issue 10 item 5 with the privacy rule: the region whose fees row is hidden only to protect
    Hanoi's (complementary) computed the fees tests; the Benjamini-Hochberg p of the attributes it
    shows must not count them (nor reveal them): statsmodels' multipletests over the shown rows."""
    from statsmodels.stats.multitest import multipletests

    study = load_study(_few_answers_study(tmp_path / "s"))
    contexts = [StageContext(stage="05_action_progress", study=study, segment=seg)
                for seg in ("region=Can Tho", "region=Da Nang", "region=Ho Chi Minh City")]
    (ctx,) = [c for c in contexts if c.ipa_table.set_index("attribute").loc["fees", "suppressed"]]
    assert ctx.current["perf_fees"].notna().sum() >= study.min_cell_size  # tested, then withheld
    for table in (ctx.gap_table, ctx.competitor_table, ctx.attribute_change_table()):
        fees = table.set_index("attribute").loc["fees"]
        assert bool(fees["suppressed"]) and np.isnan(fees["p_value"]) and np.isnan(fees["p_adj"])
        shown = table.loc[table["p_value"].notna()]
        assert len(shown) == len(table) - 1
        np.testing.assert_allclose(shown["p_adj"], multipletests(shown["p_value"], method="fdr_bh")[1], rtol=1e-12)
        if "flag" in table.columns:
            assert ((shown["flag"] != "level") == (shown["p_adj"] < 0.05)).all()
        if "significant" in table.columns:
            assert shown["significant"].tolist() == (shown["p_adj"] < 0.05).tolist()


def test_segment_gate_messages_use_the_reported_base(hue):
    study = load_study(hue)
    data = load_responses(study).data
    with pytest.raises(CsmError, match=r"'region=Hue' has \d respondent\(s\) in the reported wave 2026-H1"):
        check_segment_publishable(data, study, "region=Hue")
    smallest = _latest_counts(hue).drop("Hue").idxmin()
    with pytest.raises(CsmError, match="withheld to protect region 'Hue'"):
        check_segment_publishable(data, study, f"region={smallest}")


# --------------------------------------------------------------------------- model minimums (item 2)
def test_key_drivers_of_a_small_segment_are_withheld_with_the_reason(tmp_path):
    study = load_study(make_hue_study(tmp_path / "s", latest=13, earlier=0))
    ctx = StageContext(stage="04_analysis", study=study, segment="region=Hue")
    table = ctx.driver_table
    n = int(ctx.current["overall_sat"].notna().sum())
    assert 5 <= n <= 13
    assert table.attrs["suppressed"] and np.isnan(table.attrs["r2"])
    assert table["relative_weight"].isna().all()
    assert "at least 60 respondents" in table.attrs["suppressed_reason"]


# --------------------------------------------------------------------------- sizes (issue 17, part 6)
def _kiosk_data() -> pd.DataFrame:
    """Three channels: kiosk with 3 respondents (below 5), branch 40, digital 60 — counted here."""
    rng = np.random.default_rng(17)
    channel = ["kiosk"] * 3 + ["branch"] * 40 + ["digital"] * 60
    return pd.DataFrame({"channel": channel, "overall_sat": rng.integers(1, 6, len(channel)).astype(float)})


def _cells(html_text: str) -> list[list[str]]:
    import re

    rows = re.findall(r"<tr>(.*?)</tr>", html_text, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S)]
            for r in rows]


def test_a_suppressed_segments_size_shows_as_fewer_than_min_n_in_every_table():
    """'kiosk | 3 | n/a … | yes' told the reader how many answered; a trusted tool shows nothing for
    a group under the threshold. The complementary group (branch, hidden so that kiosk cannot be
    worked out by difference) must not show its size either: all minus branch minus digital = kiosk."""
    from csm_helpers.analysis import segments
    from csm_helpers.present.display import table_html
    from csm_helpers.present.views import segment_tables

    means = segments.compare_means(_kiosk_data(), item="overall_sat", by="channel", min_n=5)
    top = segments.compare_top_box(_kiosk_data(), item="overall_sat", by="channel", scale=(1, 5), min_n=5)
    for caption, (table, formats) in segment_tables(means, top).items():
        if "group" not in table.columns:
            continue
        rows = {r[0]: r for r in _cells(table_html(table, formats=formats))[1:]}
        assert rows["kiosk"][1] == "fewer than 5", caption
        assert rows["branch"][1] == "hidden", caption
        assert not {"3", "40"} & set(rows["kiosk"] + rows["branch"]), caption
        assert rows["digital"][1] == "60", caption


def test_a_suppressed_segments_size_is_not_on_the_chart():
    from csm_helpers.analysis import segments
    from csm_helpers.present.charts.kpis import plot_segment_means

    means = segments.compare_means(_kiosk_data(), item="overall_sat", by="channel", min_n=5)
    chart = plot_segment_means(means, label="channel", min_n=5)
    texts = [t.text for t in chart.texts]
    assert "kiosk (fewer than 5)" in texts and "branch (hidden)" in texts and "digital (n = 60)" in texts
    assert not any("n = 3" in t or "n = 40" in t for t in texts)


def test_a_suppressed_kpis_size_is_hidden_in_table_tiles_and_chart():
    from csm_helpers.analysis import kpis
    from csm_helpers.present.charts.kpis import plot_kpis
    from csm_helpers.present.views import kpi_display

    data = _kiosk_data().loc[lambda d: d["channel"] == "kiosk"].assign(q1=4.0)
    summary = kpis.kpi_summary(data, overall="overall_sat", scale=(1, 5), satisfaction_items=["q1"],
                               scales={"q1": (1, 5)}, n_boot=50, seed=1, min_n=5)
    assert summary["suppressed"].all()
    assert set(kpi_display(summary)["n"]) == {"fewer than 5"}
    chart = plot_kpis(summary, min_n=5)
    counts = [m["count"] for m in chart.marks if m["kind"] in ("bar", "suppressed")]
    assert len(counts) == len(summary) and set(counts) == {"fewer than 5"}, counts
    assert not any("n = " in t.text for t in chart.texts)


def test_the_summary_says_which_column_stopped_the_key_drivers(tmp_path):
    """Issue 17, part 5: one region's perf_fees is the same for everyone. The report section says
    why its key drivers are missing; the summary (shown by the e-mail and atop every report) must
    name the column too, not only say that a correlation cannot be computed."""
    from csm_helpers.workbook.summary import report_summary

    shutil.copytree(SAMPLE, tmp_path / "s")
    path = tmp_path / "s" / "responses.csv"
    data = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    data.loc[data["region"] == "Hanoi", "perf_fees"] = "4"
    data.to_csv(path, index=False, encoding="utf-8-sig")
    study = load_study(tmp_path / "s" / "study.yaml")
    caveats = report_summary(StageContext(stage="summary", study=study, segment="region=Hanoi"))["caveats"]
    (why,) = [c for c in caveats if c.startswith("Key drivers are not shown")]
    assert "'perf_fees'" in why and "no variance" in why
    whole = report_summary(StageContext(stage="summary", study=study))["caveats"]
    assert not [c for c in whole if c.startswith("Key drivers are not shown")]  # varies across regions
