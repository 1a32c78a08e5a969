"""Tests of csm_helpers.present.charts.style: each chart draws what it should, in grey-scale, without mathtext."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import cbook  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

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
    legend_texts,  # noqa: E402
)
from .plotting import in_palette as _in_palette  # noqa: E402

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




def _all_text(ax) -> list[str]:
    ax.figure.canvas.draw()  # renders every label: mathtext errors would raise here
    return [t.get_text() for t in ax.findobj(matplotlib.text.Text) if t.get_text()]


def _no_mathtext(ax) -> None:
    for text in _all_text(ax):
        assert not cbook.is_math_text(text), text


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
def test_plot_self_assessment_bars_labels_and_title():
    goals = Goals.model_validate({"self_assessment": {"preset": "mbnqa", "items": [
        {"id": "7.0", "score": 40}, {"id": "1.0", "score": 50, "label": "Leadership ($ budget)"}]}})
    table = self_assessment(goals)
    ax = goal_charts.plot_self_assessment(table, alpha=0.9)
    maxima, scores = ax.containers
    assert len(maxima) == len(scores) == 7
    assert [b.get_width() for b in maxima] == table["points"].tolist()
    assert [b.get_width() for b in scores][0] == 45 and [b.get_width() for b in scores][-1] == 120
    assert scores[0].get_alpha() == 0.9  # kwargs reach matplotlib
    texts = _all_text(ax)
    assert "120 / 300, gap 180" in " ".join(texts)
    assert any("not assessed" in t for t in texts)
    assert ax.get_title().startswith("Self-assessment: 165 of 390 points (42%); largest gap 7.0 (180 points)")
    assert all(_in_palette(b.get_facecolor()) for b in [*maxima, *scores])
    _no_mathtext(ax)


def test_plot_readiness_one_cell_per_step():
    goals = Goals.model_validate({"readiness": [{"step": s, "status": "done"} for s in range(1, 9)]
                                  + [{"step": 9, "status": "in_progress"}]})
    ax = goal_charts.plot_readiness(readiness_checklist(goals))
    assert len(ax.containers[0]) == 11
    assert ax.get_title() == "Readiness: 8 of 11 steps done; not ready (open: steps 9-11)"
    hatches = [b.get_hatch() for b in ax.containers[0]]
    assert hatches[0] != hatches[8] != hatches[10]  # statuses differ without colour
    assert all(_in_palette(b.get_facecolor()) for b in ax.containers[0])
    labels = legend_texts(ax)
    assert labels == ["done (8)", "in progress (1)", "not recorded (2)"]


# --------------------------------------------------------------------------- discovery charts
def test_plot_affinity_stacks_customer_and_company_mentions():
    aff = affinity_table(CODED, IV, codebook=CB)
    fig, ax0 = plt.subplots()
    ax = discovery.plot_affinity(aff, ax=ax0)
    assert ax is ax0
    customer, company = ax.containers
    assert len(customer) == len(company) == 4
    assert [b.get_width() for b in customer] == aff["customer_mentions"].tolist()
    assert [b.get_width() for b in company] == aff["company_mentions"].tolist()
    assert [b.get_x() for b in company] == aff["customer_mentions"].tolist()  # stacked
    # fees and queue both have 3 mentions: the first in the table's order (product before process) wins
    assert ax.get_title() == "Most raised: Fees (\\$ per month) (3 of 7 interviews)"
    assert all(_in_palette(b.get_facecolor()) for b in [*customer, *company])
    _no_mathtext(ax)


def test_plot_perception_gap_dumbbells():
    gap = perception_gap(CODED, IV, codebook=CB)
    ax = discovery.plot_perception_gap(gap, s=20)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 2 and all(len(c.get_offsets()) == 4 for c in points)
    top = gap.sort_values("gap", ascending=False).iloc[0]
    assert points[0].get_offsets()[0][0] == pytest.approx(top["share_customer"])
    assert points[1].get_offsets()[0][0] == pytest.approx(top["share_company"])
    n_under = (gap["flag"] == "company under-rates").sum()
    n_over = (gap["flag"] == "company over-rates").sum()
    assert ax.get_title() == f"Company under-rates {n_under} and over-rates {n_over} of 4 attributes"
    assert list(points[0].get_sizes()) == [20]
    _no_mathtext(ax)


def test_plot_perception_gap_not_measurable():
    iv = IV[IV["source_group"].isin(["customer", "lost_customer"])]
    gap = perception_gap(code_verbatims(iv, codebook=CB, codes=None), iv, codebook=CB)
    ax = discovery.plot_perception_gap(gap)
    assert ax.get_title() == "Perception gap not measurable: no company-side interviews"


def test_plot_saturation_curve_window_and_verdict():
    curve = saturation_curve(CODED, IV, k=3)
    verdict = saturation_verdict(curve, k=3)
    ax = discovery.plot_saturation(curve, verdict, color="0.2")
    line = ax.lines[0]
    assert list(line.get_xdata()) == list(range(1, 8))
    assert list(line.get_ydata()) == curve["cumulative"].tolist()
    assert line.get_color() == "0.2"
    assert len(ax.containers[0]) == 7
    assert verdict["saturated"] is True
    assert ax.get_title() == "Saturated: the last 3 interviews added no new attribute (4 found)"
    legend = legend_texts(ax)
    assert "last 3 interviews" in legend


def test_plot_saturation_not_saturated_title():
    curve = pd.DataFrame({"position": [1, 2, 3, 4], "new_attributes": [2, 0, 1, 0], "cumulative": [2, 2, 3, 3]})
    verdict = {"saturated": False, "k": 3, "last_new_at": 3, "n_interviews": 4, "n_attributes": 3}
    ax = discovery.plot_saturation(curve, verdict)
    assert ax.get_title() == "Not saturated: interview 3 of 4 still added new attributes"


# --------------------------------------------------------------------------- robustness
def test_dollar_signs_and_broken_math_in_labels_do_not_become_math():
    aff = pd.DataFrame({"dimension": ["product", "people"], "theme": ["a", "b"], "attribute": ["x", "y"],
                        "label": ["$\\frac{$ fee", "cost $5 or $6"], "mentions": [2, 1],
                        "customer_mentions": [1, 1], "company_mentions": [1, 0], "share": [0.5, 0.25]})
    ax = discovery.plot_affinity(aff)
    _no_mathtext(ax)  # would raise while drawing if "$\frac{$" reached the mathtext parser
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["\\$\\frac{\\$ fee", "cost \\$5 or \\$6"]


def test_chinese_and_vietnamese_labels_have_glyphs():
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    if "Noto Sans CJK SC" not in installed:
        pytest.skip("Noto Sans CJK is not installed")
    import warnings

    ax = discovery.plot_perception_gap(perception_gap(CODED, IV, codebook=CB))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the test
        ax.figure.canvas.draw()


def test_empty_tables_draw_a_titled_placeholder():
    empty_aff = affinity_table(CODED.iloc[0:0], IV.iloc[0:0], codebook=CB).iloc[0:0]
    assert discovery.plot_affinity(empty_aff).get_title()
    assert discovery.plot_perception_gap(perception_gap(CODED, IV, codebook=CB).iloc[0:0]).get_title()
    empty_curve = saturation_curve(CODED.iloc[0:0], IV.iloc[0:0])
    assert discovery.plot_saturation(empty_curve, saturation_verdict(empty_curve)).get_title()
    assert goal_charts.plot_self_assessment(self_assessment(None, preset="custom")).get_title()


def test_missing_columns_are_reported():
    with pytest.raises(DataError, match="affinity table: column 'customer_mentions', 'company_mentions' is missing"):
        discovery.plot_affinity(pd.DataFrame({"dimension": [], "label": [], "mentions": []}))
