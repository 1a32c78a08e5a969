"""Tests of csm_helpers.present.charts.style and of the goal-setting and discovery charts: each chart draws
what it should, readable, in the palette, whatever the labels."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from csm_helpers.analysis.discovery import (  # noqa: E402
    affinity_table,
    code_verbatims,
    perception_gap,
    saturation_curve,
    saturation_verdict,
)
from csm_helpers.analysis.goals import readiness_checklist, self_assessment  # noqa: E402
from csm_helpers.core.errors import DataError  # noqa: E402
from csm_helpers.present.charts import discovery, style  # noqa: E402
from csm_helpers.present.charts import goals as goal_charts  # noqa: E402
from csm_helpers.study.config import Codebook, Goals  # noqa: E402

from .plotting import (
    _report_style,  # noqa: F401  (autouse fixture)
)
from .plotting import check_sheet as _readable
from .plotting import marks as _marks

CB = Codebook.model_validate({"attributes": [
    {"id": "fees", "label": "Fees ($ per month)", "dimension": "product", "keywords": ["fee", "phí"]},
    {"id": "app", "label": "Mobile app 手机银行", "dimension": "product", "keywords": ["app"]},
    {"id": "queue", "label": "Waiting $time$", "dimension": "process", "keywords": ["queue"]},
    {"id": "courtesy", "label": "Thái độ nhân viên", "dimension": "people", "keywords": ["rude"]},
]})
IV = pd.DataFrame({
    "interview_id": [f"i{i}" for i in range(7)],
    "source_group": ["customer", "customer", "lost_customer", "executive", "employee", "customer", "customer"],
    "text": ["fee, queue", "rude", "phí cao", "app", "app, queue", "fee", "queue"],
})
CODED = code_verbatims(IV, codebook=CB, codes=None)
HOSTILE = ["<script>alert(1)</script>", "Fees & charges ($5 or $6, $\\frac{$)",
           "a very long label that goes on and on about the waiting time at the branch counters in every town",
           "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素"]











def _escaped(chart) -> None:
    svg = chart.svg(font=False)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "& " not in svg and "&amp; charges" in svg


# --------------------------------------------------------------------------- style
def test_set_report_style_is_idempotent_and_sets_the_look():
    style.set_report_style()
    first = dict(mpl.rcParams)
    style.set_report_style()
    assert dict(mpl.rcParams) == first
    assert mpl.rcParams["figure.dpi"] == 110
    assert mpl.rcParams["text.usetex"] is False
    assert mpl.rcParams["font.family"] == ["sans-serif"]
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    if "Noto Sans CJK SC" in installed:
        assert mpl.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"
    assert "DejaVu Sans" in mpl.rcParams["font.sans-serif"]


def test_set_report_style_without_the_preferred_fonts(monkeypatch):
    monkeypatch.setattr(style, "REPORT_FONTS", ("No Such Font 123", "DejaVu Sans"))
    style.set_report_style()
    assert "No Such Font 123" not in mpl.rcParams["font.sans-serif"]
    assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"


# --------------------------------------------------------------------------- goal-setting charts
MBNQA = Goals.model_validate({"self_assessment": {"preset": "mbnqa", "items": [
    {"id": "7.0", "score": 40}, {"id": "1.0", "score": 50, "label": "Leadership ($ budget)"}]}})


def test_plot_self_assessment_bars_labels_and_title():
    table = self_assessment(MBNQA)
    chart = goal_charts.plot_self_assessment(table)
    bars = _marks(chart, "bar")
    assert [b["item"] for b in bars] == table["item"].tolist()
    assert [b["points"] for b in bars] == table["points"].tolist()
    assessed = table["score_points"].notna()
    assert [b["assessed"] for b in bars] == assessed.tolist()
    assert [b["score"] for b in bars if b["assessed"]] == table.loc[assessed, "score_points"].tolist()
    assert all(math.isnan(b["score"]) for b in bars if not b["assessed"])
    assert bars[0]["label"] == "1.0 Leadership ($ budget)"
    texts = [t.text for t in chart.texts]
    last = table.iloc[-1]
    assert f"{last['score_points']:g} / {last['points']:g}, gap {last['points'] - last['score_points']:g}" in texts
    assert f"not assessed (max {table['points'].iloc[1]:g})" in texts
    total, maximum = table.loc[assessed, "score_points"].sum(), table.loc[assessed, "points"].sum()
    worst = table.loc[(table["points"] - table["score_points"]).idxmax()]
    assert chart.alt.startswith(f"Self-assessment: {total:g} of {maximum:g} points ({total / maximum:.0%}); "
                                f"largest gap {worst['item']} ({worst['points'] - worst['score_points']:g} points)")
    assert f"{(~assessed).sum()} items not assessed, left out of the total" in chart.alt
    assert [m["label"] for m in _marks(chart, "legend")] == ["gap to maximum", "score"]
    _readable(chart)


def test_plot_self_assessment_hostile_labels_fit():
    table = pd.DataFrame({"item": ["1.1", "1.2", "1.3", "1.4"], "label": HOSTILE, "points": [40.0, 50.0, 20.0, 10.0],
                          "score_pct": [50.0, np.nan, 100.0, 0.0], "score_points": [20.0, np.nan, 20.0, 0.0],
                          "gap_points": [20.0, np.nan, 0.0, 10.0]})
    chart = goal_charts.plot_self_assessment(table)
    _escaped(chart)
    _readable(chart)
    assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku
    assert "1 item not assessed, left out of the total" in chart.alt


def test_plot_readiness_one_cell_per_step():
    goals = Goals.model_validate({"readiness": [{"step": s, "status": "done"} for s in range(1, 9)]
                                  + [{"step": 9, "status": "in_progress"}]})
    checklist = readiness_checklist(goals)
    chart = goal_charts.plot_readiness(checklist)
    cells = _marks(chart, "cell")
    assert [c["step"] for c in cells] == checklist["step"].tolist() == list(range(1, 12))
    assert [c["status"] for c in cells] == checklist["status"].tolist()
    assert chart.alt == "Readiness: 8 of 11 steps done; not ready (open: steps 9-11)"
    assert [m["label"] for m in _marks(chart, "legend")] == ["done (8)", "in progress (1)", "not recorded (2)"]
    assert [t.text for t in chart.texts if t.text.isdigit()] == [str(s) for s in range(1, 12)]
    # every status differs from the others without colour: a hatch of its own, or none
    hatches = [h for _face, h, _label in goal_charts._STATUS_STYLE.values()]
    assert len(set(hatches)) == len(hatches)
    svg = chart.svg(font=False)
    assert "-fwd-" in svg and "-cross-" in svg  # in progress, not recorded
    _readable(chart)


def test_plot_readiness_all_statuses():
    statuses = ["done", "in_progress", "not_started", "not_applicable"]
    goals = Goals.model_validate({"readiness": [{"step": s, "status": statuses[s % 4]} for s in range(1, 12)]})
    checklist = readiness_checklist(goals)
    chart = goal_charts.plot_readiness(checklist)
    counts = checklist["status"].value_counts()
    expected = [f"{s.replace('_', ' ')} ({counts[s]})" for s in statuses]
    assert [m["label"] for m in _marks(chart, "legend")] == expected
    assert chart.alt.startswith(f"Readiness: {counts['done']} of {11 - counts['not_applicable']} steps done")
    _readable(chart)


# --------------------------------------------------------------------------- discovery charts
def test_plot_affinity_stacks_customer_and_company_mentions():
    aff = affinity_table(CODED, IV, codebook=CB)
    chart = discovery.plot_affinity(aff)
    bars = _marks(chart, "bar")
    assert [b["label"] for b in bars] == aff["label"].tolist()
    assert [b["customer"] for b in bars] == aff["customer_mentions"].tolist()
    assert [b["company"] for b in bars] == aff["company_mentions"].tolist()
    assert [b["total"] for b in bars] == aff["mentions"].tolist()
    assert [h["dimension"] for h in _marks(chart, "heading")] == list(dict.fromkeys(aff["dimension"]))
    assert {"Product", "Process", "People"} <= {t.text for t in chart.texts}
    # fees and queue both have 3 mentions: the first in the table's order (product before process) wins
    assert chart.alt == "Most raised: Fees ($ per month) (3 of 7 interviews)"
    assert "Fees ($ per month)" in chart.svg(font=False)  # no mathtext escape any more
    assert [m["label"] for m in _marks(chart, "legend")] == ["customer side", "company side"]
    _readable(chart)


def test_plot_perception_gap_dumbbells():
    gap = perception_gap(CODED, IV, codebook=CB)
    chart = discovery.plot_perception_gap(gap)
    pairs = _marks(chart, "pair")
    ranked = gap.sort_values("gap", ascending=False, kind="stable")
    assert [p["label"] for p in pairs] == ranked["label"].tolist()
    assert [p["customer"] for p in pairs] == pytest.approx(ranked["share_customer"].tolist())
    assert [p["company"] for p in pairs] == pytest.approx(ranked["share_company"].tolist())
    assert [p["flag"] for p in pairs] == ranked["flag"].tolist()
    n_under = (gap["flag"] == "company under-rates").sum()
    n_over = (gap["flag"] == "company over-rates").sum()
    assert chart.alt == f"Company under-rates {n_under} and over-rates {n_over} of 4 attributes"
    flagged = gap[gap["flag"].isin(["company under-rates", "company over-rates"])]
    texts = [t.text for t in chart.texts]
    for d in flagged["gap"]:
        assert f"{d * 100:+.0f} pts".replace("-", "\u2212") in texts
    assert sum(t.endswith(" pts") for t in texts) == len(flagged)
    svg = chart.svg(font=False)
    assert svg.count("<circle") >= len(gap) and "<rect" in svg  # circles and squares: told apart by shape
    assert [m["label"] for m in _marks(chart, "legend")] == ["customer side", "company side"]
    _readable(chart)


def test_plot_perception_gap_not_measurable():
    iv = IV[IV["source_group"].isin(["customer", "lost_customer"])]
    gap = perception_gap(code_verbatims(iv, codebook=CB, codes=None), iv, codebook=CB)
    chart = discovery.plot_perception_gap(gap)
    assert chart.alt == "Perception gap not measurable: no company-side interviews"
    assert all(math.isnan(p["company"]) for p in _marks(chart, "pair"))
    _readable(chart)


def test_plot_saturation_curve_window_and_verdict():
    curve = saturation_curve(CODED, IV, k=3)
    verdict = saturation_verdict(curve, k=3)
    chart = discovery.plot_saturation(curve, verdict)
    points = _marks(chart, "point")
    assert [p["position"] for p in points] == curve["position"].tolist() == list(range(1, 8))
    assert [p["cumulative"] for p in points] == curve["cumulative"].tolist()
    assert [p["new"] for p in points] == curve["new_attributes"].tolist()
    (window,) = _marks(chart, "window")
    assert (window["first"], window["last"], window["k"]) == (5, 7, 3)
    assert _marks(chart, "last_new")[0]["position"] == verdict["last_new_at"]
    assert verdict["saturated"] is True
    assert chart.alt == "Saturated: the last 3 interviews added no new attribute (4 found)"
    legend = [m["label"] for m in _marks(chart, "legend")]
    assert legend == ["last 3 interviews", "new attributes in the interview", "distinct attributes so far"]
    texts = [t.text for t in chart.texts]
    assert "last new attribute" in texts and "Attributes" in texts and "Interview (in order)" in texts
    assert {str(p) for p in range(1, 8)} <= set(texts)  # each interview numbered under the plot
    _readable(chart)


def test_plot_saturation_not_saturated_title_and_many_interviews():
    curve = pd.DataFrame({"position": [1, 2, 3, 4], "new_attributes": [2, 0, 1, 0], "cumulative": [2, 2, 3, 3]})
    verdict = {"saturated": False, "k": 3, "last_new_at": 3, "n_interviews": 4, "n_attributes": 3}
    chart = discovery.plot_saturation(curve, verdict)
    assert chart.alt == "Not saturated: interview 3 of 4 still added new attributes"
    _readable(chart)
    few = discovery.plot_saturation(curve.iloc[:2], {**verdict, "k": 3, "last_new_at": 1})
    assert few.alt == "Not saturated: 2 interviews, fewer than the 3 needed to judge"
    assert _marks(few, "window") == []
    _readable(few)  # the note is right of a line at the first interview
    n = 250
    new = np.zeros(n, dtype=int)
    new[[0, 3, 40, 180]] = [5, 2, 1, 1]
    many = pd.DataFrame({"position": np.arange(1, n + 1), "new_attributes": new, "cumulative": np.cumsum(new)})
    chart = discovery.plot_saturation(many, {"saturated": True, "k": 10, "last_new_at": 181, "n_attributes": 9})
    assert len(_marks(chart, "point")) == n
    _readable(chart)


# --------------------------------------------------------------------------- robustness
def test_hostile_labels_are_escaped_and_fit():
    aff = pd.DataFrame({"dimension": ["product", "product", "people", "<b>dim</b>"], "theme": list("abcd"),
                        "attribute": list("wxyz"), "label": HOSTILE, "mentions": [2, 1, 4, 0],
                        "customer_mentions": [1, 1, 3, 0], "company_mentions": [1, 0, 1, 0],
                        "share": [0.5, 0.25, 1.0, 0.0]})
    chart = discovery.plot_affinity(aff)
    _escaped(chart)
    assert "&lt;b&gt;dim&lt;/b&gt;" in chart.svg(font=False)
    _readable(chart)
    assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku
    gap = pd.DataFrame({"label": HOSTILE, "share_customer": [0.9, 1.0, 0.0, 0.5], "share_company": [0.0, 0.1, 1.0, 0.5],
                        "gap": [0.9, 0.9, -1.0, 0.0],
                        "flag": ["company under-rates", "company under-rates", "company over-rates", "aligned"]})
    chart = discovery.plot_perception_gap(gap)
    _escaped(chart)
    _readable(chart)
    assert "\u2212100 pts" in [t.text for t in chart.texts]


def test_empty_tables_draw_a_titled_placeholder():
    empty_aff = affinity_table(CODED.iloc[0:0], IV.iloc[0:0], codebook=CB).iloc[0:0]
    empty_curve = saturation_curve(CODED.iloc[0:0], IV.iloc[0:0])
    charts = {"Affinity diagram: no attribute to show": discovery.plot_affinity(empty_aff),
              "Perception gap: no attribute to show":
                  discovery.plot_perception_gap(perception_gap(CODED, IV, codebook=CB).iloc[0:0]),
              "Saturation: no interview to show":
                  discovery.plot_saturation(empty_curve, saturation_verdict(empty_curve)),
              "Self-assessment: no item to show":
                  goal_charts.plot_self_assessment(self_assessment(None, preset="custom")),
              "Readiness: no step to show": goal_charts.plot_readiness(readiness_checklist(None).iloc[0:0])}
    for title, chart in charts.items():
        assert chart.alt == title and chart.marks == []
        assert "nothing to show" in [t.text for t in chart.texts]


def test_missing_columns_are_reported():
    with pytest.raises(DataError, match="affinity table: column 'customer_mentions', 'company_mentions' is missing"):
        discovery.plot_affinity(pd.DataFrame({"dimension": [], "label": [], "mentions": []}))
    with pytest.raises(DataError, match="perception gap table: column 'flag' is missing"):
        discovery.plot_perception_gap(pd.DataFrame({"label": [], "share_customer": [], "share_company": [], "gap": []}))
    with pytest.raises(DataError, match="saturation verdict: key 'last_new_at' is missing"):
        discovery.plot_saturation(pd.DataFrame({"position": [1], "new_attributes": [1], "cumulative": [1]}),
                                  {"saturated": False, "k": 3})
    with pytest.raises(DataError, match="self-assessment table: column 'score_points' is missing"):
        goal_charts.plot_self_assessment(pd.DataFrame({"item": [], "label": [], "points": []}))
    with pytest.raises(DataError, match="readiness checklist: column 'status' is missing"):
        goal_charts.plot_readiness(pd.DataFrame({"step": [1]}))
