"""Tests of csm_helpers.present.charts.measurement: the measurement charts draw what they should, readable and in
the palette, whatever the labels."""

from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from csm_helpers.analysis.measurement import (  # noqa: E402
    likert_distribution,
    sampling_table,
    study_weights,
    weight_summary,
)
from csm_helpers.core.errors import CsmError, DataError  # noqa: E402
from csm_helpers.present.charts import measurement as pm  # noqa: E402
from csm_helpers.study.config import load_study  # noqa: E402
from csm_helpers.study.datasets import read_dataset, sample_study_path  # noqa: E402

from .plotting import (
    _report_style,  # noqa: F401  (autouse fixture)
)
from .plotting import check_sheet as _readable
from .plotting import marks as _marks

DATA = pd.DataFrame({
    "a": [1, 2, 4, 5, 5, 5, 4, 4],    # top-2: 6 of 8
    "b": [3, 3, 4, 4, 2, 1, 1, 2],    # top-2: 2 of 8
    "c": [5, 5, 5, 5, 5, 5, 5, 4],    # top-2: 8 of 8
})
LABELS = {"a": "Fees ($ per month)", "b": "Waiting $time$", "c": "Thái độ nhân viên 态度"}
HOSTILE = {"a": "<script>alert(1)</script>", "b": "Fees & charges ($5 or $6, $\\frac{$)",
           "c": "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素 and a very long label that goes on and on"}











def _escaped(chart) -> None:
    svg = chart.svg(font=False)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "& " not in svg and "&amp; charges" in svg


# --------------------------------------------------------------------------- Likert
def test_plot_likert_bars_order_and_title():
    dist = likert_distribution(DATA, items=["a", "b", "c"], scale=(1, 5), labels=LABELS)
    chart = pm.plot_likert(dist)
    rows = _marks(chart, "item")
    top2 = {it: (DATA[it] >= 4).mean() for it in DATA}
    order = sorted(top2, key=top2.get, reverse=True)  # highest at the top
    assert [r["item"] for r in rows] == order == ["c", "a", "b"]
    assert [r["label"] for r in rows] == [LABELS[it] for it in order]
    assert [r["n"] for r in rows] == [DATA[it].notna().sum() for it in order]
    assert [r["top2"] for r in rows] == pytest.approx([top2[it] for it in order])
    segments = _marks(chart, "segment")
    assert len(segments) == 3 * 5  # one per item and point
    for seg in segments:
        assert seg["share"] == pytest.approx((DATA[seg["item"]] == seg["point"]).mean())
    assert chart.alt == "Top-2 box: highest Thái độ nhân viên 态度 (100%), lowest Waiting $time$ (25%)"
    texts = [t.text for t in chart.texts]
    assert "top-2 75%" in texts and "(n=8)" in texts and "Waiting $time$" in texts
    assert "50%" in texts  # item a's share of 4s, written in its segment
    assert [m["label"] for m in _marks(chart, "legend")] == ["1 (lowest)", "2", "3", "4", "5 (highest)"]
    _readable(chart)


def test_plot_likert_diverges_around_the_midpoint():
    dist = likert_distribution(DATA, items=["a", "b"], scale=(1, 5))
    chart = pm.plot_likert(dist)
    for item in ("a", "b"):
        s = [(DATA[item] == p).mean() for p in range(1, 6)]
        seg = {m["point"]: m for m in _marks(chart, "segment") if m["item"] == item}
        assert seg[3]["start"] == pytest.approx(-s[2] / 2) and seg[3]["end"] == pytest.approx(s[2] / 2)
        assert seg[1]["start"] == pytest.approx(-s[2] / 2 - s[1] - s[0])
        assert seg[2]["end"] == pytest.approx(seg[3]["start"]) and seg[1]["end"] == pytest.approx(seg[2]["start"])
        assert seg[4]["start"] == pytest.approx(s[2] / 2)
        assert seg[5]["end"] == pytest.approx(s[2] / 2 + s[3] + s[4])
    # the points below the midpoint are hatched, those above solid: told apart without colour
    svg = chart.svg(font=False)
    assert "-dots-" in svg and "-fwd-" in svg


def test_plot_likert_segments_follow_the_axis():
    """Each segment's width is its share on the axis (read from the SVG: tick positions and
    the widths of the solid segments of the top box)."""
    chart = pm.plot_likert(likert_distribution(DATA, items=["a", "b", "c"], scale=(1, 5)))
    svg = chart.svg(font=False)
    ticks = {int(v): float(x) for x, v in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)%</text>',
                                                      svg)}
    assert 0 in ticks and 50 in ticks
    per_share = (ticks[50] - ticks[0]) / 0.5
    top = pm._likert_styles(range(1, 6))[5]["color"]
    widths = [float(w) for w in re.findall(rf'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" '
                                           rf'fill="{top}"', svg)]
    shares = [(DATA[it] == 5).mean() for it in ("c", "a", "b")]
    assert widths[:3] == pytest.approx([s * per_share for s in shares], abs=0.15)


def test_plot_likert_even_scale_has_no_neutral():
    data = pd.DataFrame({"q": [1, 2, 3, 4, 4, 3]})
    chart = pm.plot_likert(likert_distribution(data, items=["q"], scale=(1, 4)))
    seg = {m["point"]: m for m in _marks(chart, "segment")}
    assert len(seg) == 4
    assert seg[2]["end"] == pytest.approx(0) and seg[3]["start"] == pytest.approx(0)
    assert chart.alt == "q: 67% in the top two points"
    _readable(chart)


def test_plot_likert_eleven_points_custom_labels():
    dist = likert_distribution(read_dataset("responses"), items=["recommend"], scale=(0, 10))
    chart = pm.plot_likert(dist, point_labels={0: "Not at all likely", 10: "Extremely likely"})
    assert len(_marks(chart, "segment")) == 11
    legend = [m["label"] for m in _marks(chart, "legend")]
    assert len(legend) == 11
    assert legend[0] == "Not at all likely" and legend[-1] == "Extremely likely" and legend[5] == "5"
    _readable(chart)


def test_plot_likert_on_the_sample_weighted():
    study = load_study(sample_study_path())
    df = read_dataset("responses")
    w = study_weights(df, study, population=read_dataset("population"))
    items = [a.performance for a in study.attributes]
    dist = likert_distribution(df.assign(w=w), items=items, scale=(1, 5), weights="w",
                               labels={a.performance: a.label for a in study.attributes})
    chart = pm.plot_likert(dist)
    assert len(_marks(chart, "item")) == len(items)
    assert len(_marks(chart, "segment")) == 5 * len(items)
    top2 = dist[dist["point"] >= 4].groupby("item")["share"].sum()
    assert [r["top2"] for r in _marks(chart, "item")] == pytest.approx(sorted(top2, reverse=True))
    assert chart.alt.startswith("Top-2 box: highest ")
    _readable(chart)


def test_plot_likert_hostile_labels_fit():
    chart = pm.plot_likert(likert_distribution(DATA, items=["a", "b", "c"], scale=(1, 5), labels=HOSTILE),
                           point_labels={1: "<script>x</script> & a very long name of the lowest point of the scale"})
    _escaped(chart)
    _readable(chart)
    assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku


def test_plot_likert_requires_the_distribution_table_and_empty():
    with pytest.raises(DataError, match="likert_distribution"):
        pm.plot_likert(pd.DataFrame({"item": ["a"]}))
    one_point = pd.DataFrame({"item": ["a"], "label": ["a"], "point": [1], "n": [3], "share": [1.0]})
    with pytest.raises(CsmError, match="fewer than 2 points"):
        pm.plot_likert(one_point)
    empty = pm.plot_likert(one_point.iloc[0:0])
    assert empty.alt == "Answer distributions: no item to show" and empty.marks == []


# --------------------------------------------------------------------------- weights
def test_plot_weights_title_and_bars():
    w = pd.Series([0.5, 1.0, 1.0, 1.5, 2.0, 0.8])
    s = weight_summary(w)
    chart = pm.plot_weights(w, bins=5)
    bars = _marks(chart, "bar")
    counts, edges = np.histogram(w, bins=5)
    assert [b["count"] for b in bars] == counts.tolist()
    assert [b["low"] for b in bars] == pytest.approx(edges[:-1].tolist())
    assert [b["high"] for b in bars] == pytest.approx(edges[1:].tolist())
    assert chart.alt == f"Weights: effective n {s['n_eff']:.1f} of 6 respondents (design effect {s['deff']:.2f})"
    assert _marks(chart, "mean")[0]["value"] == pytest.approx(w.mean())
    texts = [t.text for t in chart.texts]
    assert f"min {w.min():.3g}, max {w.max():.3g}" in texts and f"cv {w.std(ddof=0) / w.mean():.2f}" in texts
    assert [m["label"] for m in _marks(chart, "legend")] == ["respondents", f"mean weight {w.mean():.3g}"]
    _readable(chart)


def test_plot_weights_on_the_sample_title_has_neff_and_deff():
    study = load_study(sample_study_path())
    w = study_weights(read_dataset("responses"), study, population=read_dataset("population"))
    s = weight_summary(w)
    chart = pm.plot_weights(w)
    assert f"effective n {s['n_eff']:,.0f} of 2,400" in chart.alt
    assert f"design effect {s['deff']:.2f}" in chart.alt
    assert sum(b["count"] for b in _marks(chart, "bar")) == len(w)
    assert len(_marks(chart, "bar")) == 40  # sqrt(2,400) bins, at most 40
    _readable(chart)


def test_plot_weights_all_equal():
    chart = pm.plot_weights(np.ones(10))
    assert sum(b["count"] for b in _marks(chart, "bar")) == 10
    assert "design effect 1.00" in chart.alt
    _readable(chart)


# --------------------------------------------------------------------------- sampling
def test_plot_sampling_bars_marks_and_title():
    df = read_dataset("responses")
    t = sampling_table(df, by="region", population=read_dataset("population"))
    chart = pm.plot_sampling(t)
    seg = t[t["value"] != "all"]
    size = "n_eff" if "n_eff" in t.columns else "responses"
    bars = _marks(chart, "bar")
    assert [b["label"] for b in bars] == seg["value"].tolist()  # the total row is not drawn
    assert [b["value"] for b in bars] == pytest.approx(seg[size].tolist())
    assert [b["required"] for b in bars] == pytest.approx(seg["required_n"].tolist())
    assert [b["meets"] for b in bars] == seg["meets_target"].tolist()
    # a bar below the target is hatched (as its legend key): not told by colour alone
    svg = chart.svg(font=False)
    hatched = len(re.findall(r'<rect [^>]*fill="url\(#[\w-]+-fwd-[\w]+\)"', svg))
    assert hatched == (~seg["meets_target"]).sum() + 1
    met = int(seg["meets_target"].sum())
    assert chart.alt.startswith(f"{met} of {len(seg)} region values reach the ±5% margin")
    total = t[t["value"] == "all"].iloc[0]
    assert f"All respondents: n = {total['responses']:,}, margin ±{total['achieved_moe'] * 100:.1f}%" in chart.alt
    row = seg.iloc[0]
    assert (f"{row[size]:,.0f} of {math.ceil(row['required_n']):,} needed (±{row['achieved_moe'] * 100:.1f}%)"
            in [x.text for x in chart.texts])
    assert [m["label"] for m in _marks(chart, "legend")] == ["meets the ±5% margin", "below it", "required n"]
    _readable(chart)


def test_plot_sampling_latest_wave_and_effective_n():
    t = pd.DataFrame({"segment": "shop", "wave": ["W1", "W1", "W2", "W2"], "value": ["A", "all", "A", "all"],
                      "responses": [10, 10, 30, 30], "n_eff": [8.0, 8.0, 25.0, 25.0], "required_n": [20.0] * 4,
                      "achieved_moe": [0.3, 0.3, 0.19, 0.19], "target_moe": 0.2, "meets_target": [False, False, True, True]})
    chart = pm.plot_sampling(t)
    assert [(b["label"], b["value"]) for b in _marks(chart, "bar")] == [("A", 25.0)]
    assert "Effective responses, wave W2" in [x.text for x in chart.texts]
    assert chart.alt == "1 of 1 shop values reach the ±20% margin All respondents: n = 30, margin ±19.0%"
    _readable(chart)


def test_plot_sampling_escapes_and_empty():
    t = pd.DataFrame({"segment": "shop", "value": [HOSTILE["a"], HOSTILE["b"], HOSTILE["c"], "$1 shop", "all"],
                      "responses": [10, 20, 3000, 40, 3070], "required_n": [9.0, 30.0, 300.0, 50.0, 9.0],
                      "achieved_moe": [0.04, 0.06, 0.01, 0.07, 0.04], "target_moe": 0.05,
                      "meets_target": [True, False, True, False, True]})
    chart = pm.plot_sampling(t)
    _escaped(chart)
    assert "$1 shop" in chart.svg(font=False)
    _readable(chart)
    empty = pm.plot_sampling(t[t["value"] == "all"])
    assert empty.alt == "Sampling: no segment to show" and empty.marks == []
    with pytest.raises(DataError, match="sampling table: column 'meets_target' is missing"):
        pm.plot_sampling(t.drop(columns="meets_target"))


def test_the_charts_open_no_matplotlib_figure():
    before = plt.get_fignums()
    pm.plot_weights(np.ones(10))
    pm.plot_likert(likert_distribution(DATA, items=["a"], scale=(1, 5)))
    assert plt.get_fignums() == before
