"""Tests of csm_helpers.analysis.goals (stage 01, SPEC §1.1), against hand-worked expectations."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from csm_helpers.analysis.goals import (
    ASSESSMENT_PRESETS,
    GBT19580_CUSTOMERS,
    MBNQA_1990S,
    READINESS_STATUSES,
    READINESS_STEPS,
    audiences_table,
    charter_table,
    kpi_targets_table,
    readiness_checklist,
    readiness_summary,
    self_assessment,
    self_assessment_summary,
)
from csm_helpers.core.errors import ConfigError, DataError
from csm_helpers.study.config import Goals


def goals(**data) -> Goals:
    return Goals.model_validate(data)


# --------------------------------------------------------------------------- readiness steps
def test_eleven_steps_worded_as_in_spec():
    assert len(READINESS_STEPS) == 11
    # Key phrases of SPEC §1.1, in order (1) ... (11).
    phrases = [
        "agreement among key people on the information needed and its use",
        "strategic and tactical information gathered",
        "long-term consequences of current activities considered",
        "goals linked to company strategy",
        "organisational obstacles to customer-driven change considered",
        "how customer requirements will drive process improvement",
        "goals reviewed against current quality initiatives",
        "leaders and organisation trained in the process",
        "commitment of senior leaders secured",
        "leaders ready to own the research results",
        "outside facilitation of goal-setting considered",
    ]
    for step, phrase in zip(READINESS_STEPS, phrases, strict=True):
        assert step.lower() == phrase


# --------------------------------------------------------------------------- charter
def test_charter_table_lists_every_section_and_marks_missing_ones():
    g = goals(charter={"objectives": ["A", "B"], "owners": ["Head of CX"], "strategy_links": ["Growth 2027"],
                       "period": "2026-2027"})
    t = charter_table(g)
    assert list(t.columns) == ["section", "item"]
    assert t.values.tolist() == [
        ["Objective", "A"], ["Objective", "B"], ["Owner", "Head of CX"], ["Strategy link", "Growth 2027"],
        ["Sponsor", "not recorded"], ["Period", "2026-2027"],
    ]


def test_charter_table_without_goals_file():
    t = charter_table(None)
    assert t["section"].tolist() == ["Objective", "Owner", "Strategy link", "Sponsor", "Period"]
    assert set(t["item"]) == {"not recorded"}


def test_audiences_table():
    g = goals(charter={"audiences": [{"report": "01 Goals", "audience": "Board"},
                                     {"report": "04 Analysis", "audience": "Branch managers"}]})
    t = audiences_table(g)
    assert t.values.tolist() == [["01 Goals", "Board"], ["04 Analysis", "Branch managers"]]
    assert list(audiences_table(None).columns) == ["report", "audience"]
    assert len(audiences_table(None)) == 0


def test_audiences_table_bad_entry_names_file_key_and_fix():
    g = goals(charter={"audiences": [{"report": "01", "audience": "Board"}, {"report": "04", "reader": "CFO"}]})
    with pytest.raises(ConfigError, match=r"goals\.yaml, key 'charter\.audiences\.1': missing 'audience' "
                                          r"and unknown key 'reader'.*needs exactly 'report:' and 'audience:'"):
        audiences_table(g)


# --------------------------------------------------------------------------- KPI targets
def test_kpi_targets_known_metrics_get_labels_and_units():
    g = goals(kpi_targets=[
        {"metric": "csat_top2", "target": 0.8, "deadline": "2027-06-30", "owner": "COO"},
        {"metric": "csi", "target": 75},
        {"metric": "nps", "target": -5, "label": "Net Promoter Score, retail"},
        {"metric": "complaint_rate", "target": 0.02, "owner": "Service"},
    ])
    t = kpi_targets_table(g)
    assert list(t.columns) == ["metric", "label", "target", "unit", "deadline", "owner"]
    assert t["metric"].tolist() == ["csat_top2", "csi", "nps", "complaint_rate"]
    # Targets stay on their natural scale (CSAT a proportion, not a percentage).
    assert t["target"].tolist() == [0.8, 75.0, -5.0, 0.02]
    assert t.loc[0, "label"] == "CSAT (top-2-box share)"
    assert "proportion" in t.loc[0, "unit"]
    assert "0-100" in t.loc[1, "unit"]
    assert t.loc[2, "label"] == "Net Promoter Score, retail"  # the file's label wins
    assert "-100" in t.loc[2, "unit"]
    assert t.loc[3, "label"] == "complaint_rate" and pd.isna(t.loc[3, "unit"])
    assert t.loc[0, "deadline"] == "2027-06-30" and t.loc[0, "owner"] == "COO"


def test_kpi_targets_empty():
    t = kpi_targets_table(None)
    assert len(t) == 0 and list(t.columns) == ["metric", "label", "target", "unit", "deadline", "owner"]


# --------------------------------------------------------------------------- readiness
def test_readiness_checklist_always_has_eleven_steps():
    g = goals(readiness=[{"step": 2, "status": "done", "owner": "CFO", "note": "strategy deck"},
                         {"step": 11, "status": "not_applicable"}])
    t = readiness_checklist(g)
    assert list(t.columns) == ["step", "description", "status", "owner", "note"]
    assert t["step"].tolist() == list(range(1, 12))
    assert t["description"].tolist() == list(READINESS_STEPS)
    assert t.loc[1, ["status", "owner", "note"]].tolist() == ["done", "CFO", "strategy deck"]
    assert t.loc[10, "status"] == "not_applicable"
    assert (t["status"].drop(index=[1, 10]) == "not recorded").all()


def test_readiness_checklist_without_goals():
    t = readiness_checklist(None)
    assert len(t) == 11 and set(t["status"]) == {"not recorded"}


def test_readiness_summary_counts_share_and_verdict():
    statuses = ["done"] * 6 + ["in_progress", "not_started", "not_applicable", "not_applicable"]
    g = goals(readiness=[{"step": i + 1, "status": s} for i, s in enumerate(statuses)])  # step 11 not recorded
    s = readiness_summary(readiness_checklist(g))
    assert s["n_steps"] == 11
    assert s["counts"] == {"done": 6, "in_progress": 1, "not_started": 1, "not_applicable": 2,
                           "not recorded": 1}
    assert set(s["counts"]) == set(READINESS_STATUSES)
    assert s["share_done"] == pytest.approx(6 / 9)  # 9 applicable steps
    assert s["ready"] is False
    assert s["open_steps"] == [7, 8, 11]


def test_readiness_ready_when_all_done_or_not_applicable():
    g = goals(readiness=[{"step": i, "status": "done" if i != 5 else "not_applicable"} for i in range(1, 12)])
    s = readiness_summary(readiness_checklist(g))
    assert s["ready"] is True and s["open_steps"] == [] and s["share_done"] == 1.0


def test_readiness_all_not_applicable_has_no_share():
    g = goals(readiness=[{"step": i, "status": "not_applicable"} for i in range(1, 12)])
    s = readiness_summary(readiness_checklist(g))
    assert s["ready"] is True and math.isnan(s["share_done"])


def test_readiness_summary_rejects_bad_tables():
    with pytest.raises(DataError, match="column 'status' is missing"):
        readiness_summary(pd.DataFrame({"step": [1]}))
    bad = readiness_checklist(None).assign(status="finished")
    with pytest.raises(DataError, match="unknown status 'finished'; allowed: done, in_progress"):
        readiness_summary(bad)


# --------------------------------------------------------------------------- self-assessment
def test_preset_tables_match_the_standards():
    # GB/T 19580 category 4.3: 4.3.1 = 40, 4.3.2 = 50, 90 in all.
    assert [(p.id, p.points) for p in GBT19580_CUSTOMERS] == [("4.3.1", 40), ("4.3.2", 50)]
    # MBNQA 1990s weights (SPEC §1) as points of 1000.
    weights = {p.label.split()[0].lower(): p.points / 1000 for p in MBNQA_1990S}
    assert weights == {"leadership": 0.09, "information": 0.08, "strategic": 0.06, "human": 0.15,
                       "management": 0.14, "quality": 0.18, "customer": 0.30}
    assert sum(p.points for p in MBNQA_1990S) == 1000
    assert set(ASSESSMENT_PRESETS) == {"gbt19580", "mbnqa", "custom"}


def test_self_assessment_gbt19580_hand_worked():
    g = goals(self_assessment={"items": [{"id": "4.3.2", "score": 50, "evidence": "NPS tracked"},
                                         {"id": "4.3.1", "score": 70}]})
    t = self_assessment(g)
    assert list(t.columns)[:6] == ["item", "label", "points", "score_pct", "score_points", "gap_points"]
    assert t["item"].tolist() == ["4.3.1", "4.3.2"]  # preset order
    assert t["points"].tolist() == [40.0, 50.0]
    assert t["score_points"].tolist() == [28.0, 25.0]  # 40 x 70% ; 50 x 50%
    assert t["gap_points"].tolist() == [12.0, 25.0]
    assert t.loc[1, "evidence"] == "NPS tracked"
    s = self_assessment_summary(t)
    assert s["total_points"] == 53.0 and s["max_points"] == 90.0 and s["gap_points"] == 37.0
    assert s["pct"] == pytest.approx(100 * 53 / 90)
    assert s["note"] is None and s["not_assessed"] == []


def test_self_assessment_item_without_score_is_not_assessed_and_left_out():
    g = goals(self_assessment={"preset": "mbnqa", "items": [{"id": "7.0", "score": 40},
                                                            {"id": "1.0", "score": 100}]})
    t = self_assessment(g)
    assert len(t) == 7
    cf = t.set_index("item").loc["7.0"]
    assert cf["points"] == 300 and cf["score_points"] == 120 and cf["gap_points"] == 180
    missing = t[t["note"] == "not assessed"]
    assert missing["item"].tolist() == ["2.0", "3.0", "4.0", "5.0", "6.0"]
    assert missing[["score_pct", "score_points", "gap_points"]].isna().all().all()
    s = self_assessment_summary(t)
    assert (s["total_points"], s["max_points"], s["gap_points"]) == (210.0, 390.0, 180.0)
    assert s["pct"] == pytest.approx(100 * 210 / 390)
    assert s["preset_points"] == 1000.0 and s["n_assessed"] == 2
    assert s["note"].startswith("Not assessed and left out of the total: 2.0 (80 points)")


def test_self_assessment_overrides_points_and_label():
    g = goals(self_assessment={"items": [{"id": "4.3.1", "score": 50, "points": 60, "label": "Voice of customer"}]})
    row = self_assessment(g).iloc[0]
    assert row["points"] == 60 and row["score_points"] == 30 and row["label"] == "Voice of customer"


def test_self_assessment_unknown_item_names_file_item_and_preset_ids():
    g = goals(self_assessment={"items": [{"id": "4.3.1", "score": 50}, {"id": "4.4", "score": 10}]})
    with pytest.raises(ConfigError, match=r"goals\.yaml, key 'self_assessment\.items\.1\.id': item '4\.4' is not "
                                          r"in preset 'gbt19580'; its items are 4\.3\.1, 4\.3\.2"):
        self_assessment(g)


def test_self_assessment_custom_preset():
    g = goals(self_assessment={"preset": "custom", "items": [
        {"id": "voc", "label": "Voice of customer", "points": 30, "score": 80},
        {"id": "complaints", "points": 20, "score": 30}]})
    t = self_assessment(g)
    assert t["item"].tolist() == ["voc", "complaints"]
    assert t["label"].tolist() == ["Voice of customer", "complaints"]
    assert t["score_points"].tolist() == [24.0, 6.0]
    s = self_assessment_summary(t)
    assert (s["total_points"], s["max_points"], s["pct"]) == (30.0, 50.0, 60.0)


def test_self_assessment_custom_needs_points():
    g = goals(self_assessment={"preset": "custom", "items": [{"id": "voc", "score": 80}]})
    with pytest.raises(ConfigError, match=r"preset 'custom' every self-assessment item needs 'points:'; "
                                          r"missing for 'voc' \(self_assessment\.items\.0\)"):
        self_assessment(g)


def test_self_assessment_preset_argument_and_errors():
    g = goals(self_assessment={"items": [{"id": "4.3.1", "score": 50}]})
    with pytest.raises(ConfigError, match="item '4.3.1' is not in preset 'mbnqa'"):
        self_assessment(g, preset="mbnqa")
    with pytest.raises(ConfigError, match=r"`preset` must be one of gbt19580, mbnqa, custom, but 'iso' was passed"):
        self_assessment(g, preset="iso")
    dup = goals(self_assessment={"items": [{"id": "4.3.1", "score": 50}, {"id": "4.3.1", "score": 60}]})
    with pytest.raises(ConfigError, match="item '4.3.1' appears more than once"):
        self_assessment(dup)


def test_self_assessment_without_section_shows_preset_unassessed():
    t = self_assessment(None)
    assert t["item"].tolist() == ["4.3.1", "4.3.2"] and t["score_pct"].isna().all()
    s = self_assessment_summary(t)
    assert s["total_points"] == 0 and s["max_points"] == 0 and math.isnan(s["pct"])
    assert s["not_assessed"] == ["4.3.1", "4.3.2"]
