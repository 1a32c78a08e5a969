"""Tests of csm_helpers.present.charts.kpis: each chart draws what the table says (checked on
``chart.marks`` against values taken from the table here), labels values, n and intervals,
carries status by more than colour, draws nothing for suppressed rows, and lays its text out
without overlaps, within the sheet, at 11 pt or more, in the palette."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis import kpis, segments
from csm_helpers.core.errors import DataError
from csm_helpers.present.charts import kpis as pk
from csm_helpers.present.charts.canvas import Chart
from csm_helpers.study.datasets import read_dataset

from .plotting import chart_texts as _texts
from .plotting import check_sheet as _check_sheet
from .plotting import marks as _marks

HOSTILE = "<script>alert('x')</script> & $5 fees, a very long label that goes on and on about the fees"
CJK = "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素"

SUMMARY = pd.DataFrame({
    "kpi": ["csat_top2", "csi", "nps"], "n": [400, 400, 3], "n_eff": [400.0, 400.0, 3.0],
    "value": [0.82, 71.0, np.nan], "ci_low": [0.78, 69.0, np.nan], "ci_high": [0.86, 73.0, np.nan],
    "method": ["Wilson", "t", "adjusted Wald"], "target": [0.8, 75.0, 30.0], "met": [True, False, None],
    "status": ["met", "not met: CI below target", "suppressed"], "suppressed": [False, False, True]})














def _legend(chart: Chart) -> list[str]:
    return [m["label"] for m in _marks(chart, "legend")]


def _bar_widths(svg: str, height: str) -> list[float]:
    """Widths of the outlined rectangles ``height`` px tall (the bars), in drawing order."""
    return [float(w) for w in re.findall(rf'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="{height}" '
                                         r'fill="[^"]+" stroke="#000000"', svg)]


# --------------------------------------------------------------------------- plot_kpis
def test_plot_kpis_bars_targets_status_and_labels():
    chart = pk.plot_kpis(SUMMARY)
    svg = _check_sheet(chart)
    assert chart.alt == "1 of 2 KPI targets met; CSI clearly below target; NPS suppressed"
    shown = SUMMARY[~SUMMARY["suppressed"]]
    bars = _marks(chart, "bar")
    assert [b["kpi"] for b in bars] == shown["kpi"].tolist()
    assert [b["value"] for b in bars] == shown["value"].tolist()
    assert [b["low"] for b in bars] == shown["ci_low"].tolist()
    assert [b["high"] for b in bars] == shown["ci_high"].tolist()
    assert [b["status"] for b in bars] == ["met", "not met"]  # status "met"; "not met: CI below target"
    assert [b["count"] for b in bars] == [f"n = {n}" for n in shown["n"]]
    # the suppressed KPI: no bar, no value, no count; its target is still drawn
    (hidden,) = _marks(chart, "suppressed")
    assert hidden["kpi"] == "nps" and hidden["count"] == "fewer than 5" and hidden["reason"] == "suppressed (n < 5)"
    assert [m["value"] for m in _marks(chart, "target")] == SUMMARY["target"].tolist()
    texts = _texts(chart)
    assert "82.0% (95% CI 78.0% to 86.0%)" in texts and "71.0 (95% CI 69.0 to 73.0)" in texts
    assert "target 80.0%" in texts and "target 75.0" in texts and "target +30.0" in texts
    assert "met" in texts and "not met: CI below target" in texts  # status in words, not colour alone
    assert "suppressed (n < 5)" in texts and not any("n = 3" in t for t in texts)
    # met: solid; not met: hatched (a pattern), so status reads in grey-scale too
    assert len(_bar_widths(svg, "16")) == 2
    assert re.search(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="16" fill="url\(#c\w+-kpis-fwd-', svg)
    assert _legend(chart) == ["target met", "target not met", "95% CI", "target"]


def test_plot_kpis_csat_and_csi_share_an_axis_and_nps_has_its_own():
    summary = SUMMARY.copy()
    summary.loc[2, ["value", "ci_low", "ci_high", "n", "suppressed", "status"]] = [12.0, 5.0, 19.0, 398, False,
                                                                                   "not met: CI below target"]
    chart = pk.plot_kpis(summary)
    svg = _check_sheet(chart)
    widths = _bar_widths(svg, "16")
    assert len(widths) == 3
    # CSAT (in %) and CSI on one 0-100 axis: their bars are as long as their values say
    assert widths[0] / widths[1] == pytest.approx(summary["value"][0] * 100 / summary["value"][1], rel=0.01)
    # NPS on its own -100..100 axis: its bar starts at 0, the middle of the plot
    ticks = {t: float(x) for x, t in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">([^<]+)</text>',
                                                 svg)}
    left, right = ticks["−100"], ticks["100"]
    nps = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="16" fill="[^"]+" stroke', svg)[2]
    assert float(nps[0]) == pytest.approx((left + right) / 2, abs=0.15)
    assert float(nps[1]) == pytest.approx(summary["value"][2] / 200 * (right - left), abs=0.15)
    assert "−50" in _texts(chart) and "+12.0 (95% CI +5.0 to +19.0)" in _texts(chart)


def test_plot_kpis_from_the_real_summary():
    df = read_dataset("responses")
    s = kpis.kpi_summary(df, overall="overall_sat", scale=(1, 5), satisfaction_items=["sat_last_contact"],
                         scales={"sat_last_contact": (1, 5)}, recommend="recommend")
    chart = pk.plot_kpis(s)
    _check_sheet(chart)
    assert chart.alt == "Headline KPIs with confidence intervals (no targets set)"
    bars = _marks(chart, "bar")
    assert [b["value"] for b in bars] == s["value"].tolist()
    assert {b["status"] for b in bars} == {"none"} and _marks(chart, "target") == []
    assert _legend(chart) == ["no target", "95% CI"]
    assert f"n = {int(s['n'].iloc[0]):,}" in _texts(chart)


def test_plot_kpis_hostile_unknown_kpi_and_long_status_fit():
    summary = pd.DataFrame({"kpi": [HOSTILE, CJK, "csi"], "n": [50, 60, 70], "value": [3.2, -1.5, 55.0],
                            "ci_low": [2.9, -2.0, 50.0], "ci_high": [3.5, -1.0, 60.0], "target": [None, None, 60.0],
                            "status": [HOSTILE, "no target", "not met"], "suppressed": [False] * 3})
    chart = pk.plot_kpis(summary)
    svg = _check_sheet(chart)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert [b["value"] for b in _marks(chart, "bar")] == summary["value"].tolist()
    assert not any(t.startswith(("）", "，", "。")) for t in _texts(chart))  # kinsoku


def test_plot_kpis_errors_and_empty():
    with pytest.raises(DataError, match="column 'ci_low' is missing"):
        pk.plot_kpis(SUMMARY.drop(columns="ci_low"))
    empty = pk.plot_kpis(SUMMARY.iloc[0:0])
    assert empty.alt == "Headline KPIs: nothing to show" and "nothing to show" in _texts(empty)
    assert empty.marks == []


# --------------------------------------------------------------------------- plot_kpi_change
@pytest.fixture(scope="module")
def change():
    df = read_dataset("responses")
    ch = kpis.kpi_change(df, wave="wave", previous="2025-H2", latest="2026-H1", overall="overall_sat",
                         satisfaction_items=["sat_last_contact"],
                         scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend")
    ch.loc[2, ["previous", "latest", "change", "p_value", "statistic"]] = np.nan
    ch.loc[2, "suppressed"] = True
    return ch


def test_plot_kpi_change(change):
    chart = pk.plot_kpi_change(change)
    _check_sheet(chart)
    assert chart.alt.startswith("From 2025-H2 to 2026-H1: ") and chart.alt.endswith("NPS suppressed")
    shown = change[~change["suppressed"]]
    points = _marks(chart, "point")
    assert [(p["kpi"], p["period"]) for p in points] == [(k, w) for k in shown["kpi"] for w in ("previous", "latest")]
    for period in ("previous", "latest"):
        mine = [p for p in points if p["period"] == period]
        assert [p["value"] for p in mine] == shown[period].tolist()
        assert [p["low"] for p in mine] == shown[f"{period}_ci_low"].tolist()
        assert [p["high"] for p in mine] == shown[f"{period}_ci_high"].tolist()
        assert [p["wave"] for p in mine] == shown[f"wave_{period}"].tolist()
    changes = _marks(chart, "change")
    assert [c["change"] for c in changes] == shown["change"].tolist()
    assert [c["significant"] for c in changes] == [bool(s) for s in shown["significant"]]
    assert [m["kpi"] for m in _marks(chart, "suppressed")] == ["nps"]
    texts = _texts(chart)
    row = shown.iloc[0]
    assert any(f"{row['latest'] * 100:.1f}%" in t for t in texts)
    assert any(t.startswith("CSAT (top-2 box): ") and "pts" in t for t in texts)
    assert any("suppressed (n < 5 in a wave)" in t for t in texts)
    assert f"2025-H2 (n = {int(row['n_previous']):,})" in texts
    assert _legend(chart) == ["2025-H2", "2026-H1", "95% CI"]


def test_plot_kpi_change_hostile_waves_and_errors(change):
    ch = change.assign(wave_previous=HOSTILE, wave_latest=CJK)
    chart = pk.plot_kpi_change(ch)
    svg = _check_sheet(chart)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert len(_marks(chart, "point")) == 2 * int((~ch["suppressed"]).sum())
    with pytest.raises(DataError, match="column 'p_value' is missing"):
        pk.plot_kpi_change(change.drop(columns="p_value"))
    empty = pk.plot_kpi_change(change.iloc[0:0])
    assert empty.alt == "KPI change: nothing to show" and empty.marks == []
    everything = pk.plot_kpi_change(change.assign(suppressed=True))
    _check_sheet(everything)
    assert _marks(everything, "point") == [] and len(_marks(everything, "suppressed")) == len(change)


# --------------------------------------------------------------------------- plot_segment_means
def test_plot_segment_means_suppressed_and_escaped():
    g = pd.DataFrame({"group": ["Shop $1", "Shop 2", "Tiny"], "n": [120, 95, 3], "n_eff": [120.0, 95.0, np.nan],
                      "mean": [3.9, 3.5, np.nan], "sd": [0.8, 0.9, np.nan], "ci_low": [3.75, 3.3, np.nan],
                      "ci_high": [4.05, 3.7, np.nan], "suppressed": [False, False, True]})
    chart = pk.plot_segment_means(g, label="Overall satisfaction ($ scale)")
    _check_sheet(chart)
    assert chart.alt == "Highest mean: Shop $1 (3.90); lowest: Shop 2 (3.50); 1 segment suppressed"
    points = _marks(chart, "point")
    shown = g[~g["suppressed"]]
    assert [p["label"] for p in points] == shown["group"].tolist()
    assert [p["value"] for p in points] == shown["mean"].tolist()
    assert [p["low"] for p in points] == shown["ci_low"].tolist()
    assert [p["high"] for p in points] == shown["ci_high"].tolist()
    (tiny,) = _marks(chart, "suppressed")
    assert tiny["label"] == "Tiny" and tiny["count"] == "fewer than 5"
    texts = _texts(chart)
    assert "suppressed (n < 5)" in texts and "3.90 (3.75 to 4.05)" in texts
    assert {"Shop $1 (n = 120)", "Shop 2 (n = 95)", "Tiny (fewer than 5)"} <= set(texts)
    assert "Overall satisfaction ($ scale) — mean, 95% CI" in texts


def test_plot_segment_means_names_why_a_segment_is_hidden():
    # Tiny (3) is below min_n; Mid (8) is hidden so that Tiny cannot be derived by difference
    df = pd.DataFrame({"seg": ["Big"] * 40 + ["Mid"] * 8 + ["Tiny"] * 3,
                       "y": np.tile([1.0, 2, 3, 4, 5], 11)[:51]})
    res = segments.compare_means(df, item="y", by="seg")
    chart = pk.plot_segment_means(res)
    texts = _texts(chart)
    assert "suppressed (n < 5)" in texts and "suppressed (protects a smaller segment)" in texts
    assert [m["label"] for m in _marks(chart, "suppressed")] == ["Mid", "Tiny"]


def test_plot_segment_means_from_compare_means():
    df = read_dataset("responses")
    res = segments.compare_means(df, item="overall_sat", by="region")
    chart = pk.plot_segment_means(res)
    _check_sheet(chart)
    assert "Welch ANOVA p" in chart.alt
    groups = res["groups"]
    assert [p["label"] for p in _marks(chart, "point")] == groups["group"].tolist()
    assert [p["value"] for p in _marks(chart, "point")] == groups["mean"].tolist()
    assert len(groups) == df["region"].nunique()


def test_plot_segment_means_hostile_labels_empty_and_errors():
    g = pd.DataFrame({"group": [HOSTILE, CJK, "x" * 80], "n": [120, 95, 60], "mean": [3.9, 3.5, 4.4],
                      "ci_low": [3.75, 3.3, 4.2], "ci_high": [4.05, 3.7, 4.6], "suppressed": [False] * 3})
    chart = pk.plot_segment_means(g, label=HOSTILE)
    svg = _check_sheet(chart)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert [p["value"] for p in _marks(chart, "point")] == g["mean"].tolist()
    assert not any(t.startswith(("）", "，", "。")) for t in _texts(chart))
    every = pk.plot_segment_means(g.assign(suppressed=True, mean=np.nan))
    _check_sheet(every)
    assert every.alt == "Segment means: every segment suppressed" and _marks(every, "point") == []
    empty = pk.plot_segment_means(g.iloc[0:0])
    assert empty.alt == "Segment means: no segment to show" and empty.marks == []
    with pytest.raises(DataError, match="column 'ci_high' is missing"):
        pk.plot_segment_means(g.drop(columns="ci_high"))


# --------------------------------------------------------------------------- plot_scorecard
def _dims():
    from csm_helpers.study.config import load_study
    from csm_helpers.study.datasets import sample_study_path
    study = load_study(sample_study_path())
    return ({d: [a.performance for a in study.attributes if a.dimension == d] for d in ("product", "process", "people")},
            study.rated_items())


def test_plot_scorecard_overall():
    dims, scales = _dims()
    sc = kpis.scorecard(read_dataset("responses"), dimensions=dims, scales=scales)
    chart = pk.plot_scorecard(sc)
    svg = _check_sheet(chart)
    bars = _marks(chart, "bar")
    assert [b["dimension"] for b in bars] == sc["dimension"].tolist()
    assert [b["value"] for b in bars] == sc["value"].tolist()
    assert [b["low"] for b in bars] == sc["ci_low"].tolist() and [b["high"] for b in bars] == sc["ci_high"].tolist()
    worst = sc.loc[sc["value"].idxmin()]
    assert chart.alt.startswith(f"Weakest dimension: {worst['dimension']} ({worst['value']:.1f})")
    texts = _texts(chart)
    assert f"{worst['value']:.1f} (n = {int(worst['n']):,})" in texts
    assert f"({int(sc['n_items'].iloc[0])} items)" in texts
    # the bars' lengths follow one 0-100 axis
    ticks = {t: float(x) for x, t in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)</text>',
                                                 svg)}
    per_unit = (ticks["100"] - ticks["0"]) / 100
    assert _bar_widths(svg, "17.9") == pytest.approx([v * per_unit for v in sc["value"]], abs=0.15)


def test_plot_scorecard_by_segment_with_suppression():
    dims, scales = _dims()
    sc = kpis.scorecard(read_dataset("responses"), dimensions=dims, scales=scales, by="region", min_n=300)
    chart = pk.plot_scorecard(sc, min_n=300)
    _check_sheet(chart)
    texts = _texts(chart)
    n_supp = int(sc["suppressed"].sum())
    n_small = int((sc["n"] < 300).sum())
    assert n_supp > n_small > 0 and texts.count("suppressed (n < 300)") == n_small
    # the regions hidden only so that a small one cannot be derived by difference say so
    assert texts.count("suppressed (protects a smaller segment)") == n_supp - n_small
    shown = sc[~sc["suppressed"]]
    bars = _marks(chart, "bar")
    assert sorted((b["dimension"], b["segment"], b["value"]) for b in bars) == \
        sorted(zip(shown["dimension"], shown["region"], shown["value"], strict=True))
    hidden = sc[sc["suppressed"]]
    assert sorted((m["dimension"], m["segment"]) for m in _marks(chart, "suppressed")) == \
        sorted(zip(hidden["dimension"], hidden["region"], strict=True))
    assert not any(f"n = {int(n):,})" in " ".join(texts) for n in hidden["n"])  # no count of a hidden cell
    for region in sc["region"].unique():  # every segment named next to its bars
        assert texts.count(region) == len(dims)
    for dim in dims:
        assert dim.capitalize() in texts


def test_plot_scorecard_hostile_segments_empty_and_errors():
    sc = pd.DataFrame({"dimension": ["product"] * 3, "n": [300, 200, 100], "value": [68.0, 61.5, 99.0],
                       "ci_low": [66.0, 59.0, 97.0], "ci_high": [70.0, 64.0, 100.0], "suppressed": [False] * 3,
                       "segment": [HOSTILE, CJK, "North"]})
    chart = pk.plot_scorecard(sc)
    svg = _check_sheet(chart)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert [b["value"] for b in _marks(chart, "bar")] == sc["value"].tolist()
    empty = pd.DataFrame(columns=["dimension", "n", "value", "ci_low", "ci_high", "suppressed"])
    chart = pk.plot_scorecard(empty)
    assert chart.alt == "Invisible scorecard: nothing to show" and chart.marks == []
    with pytest.raises(DataError, match="column 'dimension' is missing"):
        pk.plot_scorecard(sc.drop(columns="dimension"))
    every = pk.plot_scorecard(sc.drop(columns="segment").assign(suppressed=True, n=[3, 200, 100]))
    _check_sheet(every)
    assert every.alt == "Invisible scorecard: every score suppressed" and _marks(every, "bar") == []
