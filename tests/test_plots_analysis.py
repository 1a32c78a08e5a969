"""Tests of csm_helpers.present.charts.analysis: each chart draws what it should (checked on
``chart.marks`` against the input table), readable (no overlap, nothing off the sheet, 11 pt at
least), in the palette, with customer text escaped."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis.drivers import QUADRANT_SURE, QUADRANTS, attribute_table, ipa, key_drivers
from csm_helpers.analysis.gaps import competitor_benchmark, expectation_gaps, gap_pairs
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.present.charts.analysis import plot_competitor, plot_drivers, plot_gaps, plot_ipa
from csm_helpers.study.config import load_study
from csm_helpers.study.datasets import read_dataset, sample_study_path

from .plotting import chart_texts as _texts
from .plotting import check_sheet as _check_readable
from .plotting import in_palette as _in_palette
from .plotting import marks as _marks


@pytest.fixture(scope="module")
def sample():
    study = load_study(sample_study_path())
    df = read_dataset("responses")
    attrs = attribute_table(study)
    labels = dict(zip(attrs["attribute"], attrs["label"], strict=True))
    kd = key_drivers(df, outcome="overall_sat", drivers=dict(zip(attrs["attribute"], attrs["performance"],
                                                                 strict=True)), n_boot=200, seed=1)
    return {"df": df, "attrs": attrs, "labels": labels, "kd": kd,
            "ipa": ipa(df, attributes=attrs),
            "gaps": expectation_gaps(df, pairs=gap_pairs(study)),
            "bench": competitor_benchmark(df, pairs=gap_pairs(study, "competitor"))}


HOSTILE = ["<script>alert('x')</script>", "Fees & charges ($5 a month)", "$x$ speed \\alpha",
           "a very long label that goes on and on about the speed of resolving a problem with the bank",
           "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素"]














# --------------------------------------------------------------------------- IPA
def _markers(chart) -> list:
    """The boxes of the 9 px point markers (the canvas keeps them for label placement)."""
    return [o for o in chart.obstacles if abs(o.x1 - o.x0 - 9) < 1e-6 and abs(o.y1 - o.y0 - 9) < 1e-6]


def _check_point_labels(chart, names: set[str]) -> None:
    """Every point label and quadrant name is clear of every other text and of every marker
    (and each quadrant name of its box's neighbours)."""
    points = _marks(chart, "point")
    shown = {m["shown"] for m in points}
    quadrants = {m["label"] for m in _marks(chart, "quadrant")}
    labels = [t for t in chart.texts if t.text in shown or t.text in quadrants]
    assert len(labels) >= len(points) + len(quadrants)
    markers = _markers(chart)
    assert len(markers) == len(points)
    for label in labels:
        assert not any(label.collides(m, slack=0.0) for m in markers), label.text
    for m in points:  # a name, or a number that the key explains
        assert m["shown"] is not None
        if m["shown"].isdigit():
            assert {"number": m["shown"], "label": m["label"]} in [
                {"number": k["number"], "label": k["label"]} for k in _marks(chart, "key")]
        else:
            assert m["shown"] in names or m["shown"].endswith(("…", "..."))
    numbers = [m["shown"] for m in points if m["shown"].isdigit()]
    assert sorted(numbers, key=int) == [str(k) for k in range(1, len(numbers) + 1)]
    assert len(_marks(chart, "key")) == len(numbers)


def test_plot_ipa_on_the_sample(sample):
    t = sample["ipa"]
    chart = plot_ipa(t)
    points = _marks(chart, "point")
    assert [(m["label"], m["x"], m["y"], m["dimension"], m["quadrant"]) for m in points] == list(
        zip(t["label"], t["performance"], t["importance"], t["dimension"], t["quadrant"], strict=True))
    assert not any(m["uncertain"] for m in points)
    assert [m["label"] for m in _marks(chart, "quadrant")] == list(QUADRANTS)  # the four names, exactly
    assert set(QUADRANTS) <= set(_texts(chart))
    cross = _marks(chart, "crosshair")[0]
    assert (cross["x"], cross["y"]) == (t["x_cross"].iloc[0], t["y_cross"].iloc[0])
    conc = t.loc[t["quadrant"] == "Concentrate here"].sort_values("importance", ascending=False)
    assert chart.alt.startswith(f"Concentrate here: {len(conc)} of 12 attributes {conc['label'].iloc[0]}, ")
    lo, hi = t["n_performance"].min(), t["n_performance"].max()
    assert f"Mean performance, n = {lo:,}\u2013{hi:,} per attribute" in _texts(chart)
    assert "Mean stated importance" in _texts(chart)
    assert [m["label"] for m in _marks(chart, "legend")] == [
        "Product", "Process", "People", "cross-hairs: grand means (on a line counts as high)"]
    _check_point_labels(chart, set(t["label"]))
    _check_readable(chart)


def test_plot_ipa_marker_shapes_follow_the_dimension(sample):
    svg = plot_ipa(sample["ipa"]).svg(font=False)
    dims = sample["ipa"]["dimension"].value_counts()
    # product: circles (r 4.5), process: squares (9 px), people: triangles (3-point polygons)
    assert len(re.findall(r'<circle [^>]*r="4.5" fill="#0072B2"', svg)) == dims["product"] + 1  # + legend key
    assert len(re.findall(r'<rect [^>]*width="9" height="9" fill="#56B4E9"', svg)) == dims["process"] + 1
    assert len(re.findall(r'<polygon points="[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+" fill="#CC79A7"', svg)) \
        == dims["people"] + 1


def test_plot_ipa_greys_out_the_attributes_whose_quadrant_is_a_coin_toss(sample):
    t = sample["ipa"].copy()
    t["p_quadrant"] = [0.55 if i % 3 == 0 else 0.95 for i in range(len(t))]
    t.loc[1, "p_quadrant"] = np.nan  # not computed: shown as usual
    chart = plot_ipa(t)
    expected = (t["p_quadrant"] < QUADRANT_SURE).tolist()
    assert [m["uncertain"] for m in _marks(chart, "point")] == expected
    svg = chart.svg(font=False)
    grey_texts = re.findall(r'<text [^>]*fill="#666666">([^<]*)</text>', svg)
    shown = {m["label"]: m["shown"] for m in _marks(chart, "point")}
    assert sorted(grey_texts) == sorted(shown[name] for name, u in zip(t["label"], expected, strict=True) if u)
    assert any("quadrant uncertain" in m["label"] for m in _marks(chart, "legend"))
    _check_readable(chart)
    plain = plot_ipa(sample["ipa"])
    assert 'fill="#666666"' not in plain.svg(font=False)
    assert not any("quadrant uncertain" in m["label"] for m in _marks(plain, "legend"))


def test_plot_ipa_crowded_points_are_numbered_where_names_do_not_fit():
    # 15 attributes packed in a small region: names where they fit, else numbers with a key under the chart
    rng = np.random.default_rng(1)
    k = 15
    t = pd.DataFrame({"attribute": [f"a{i}" for i in range(k)], "label": [f"Attribute number {i}" for i in range(k)],
                      "dimension": rng.choice(["product", "process", "people"], k),
                      "performance": 3.5 + rng.normal(0, 0.05, k), "importance": 3.8 + rng.normal(0, 0.05, k),
                      "importance_type": "stated"})
    t["x_cross"], t["y_cross"] = t["performance"].mean(), t["importance"].mean()
    t["quadrant"] = "Low priority"
    chart = plot_ipa(t)
    points = _marks(chart, "point")
    assert len(points) == k
    numbered = [m for m in points if m["shown"].isdigit()]
    assert numbered  # too crowded for every name
    key_texts = [x for x in _texts(chart) if " = " in x]
    for m in numbered:
        assert f"{m['shown']} = {m['label']}" in " ".join(key_texts)
    _check_point_labels(chart, set(t["label"]))
    _check_readable(chart)
    assert chart.height < 1000  # labels never blow up the layout


def test_plot_ipa_points_on_top_of_each_other_share_one_number():
    t = pd.DataFrame({"attribute": list("abcd"), "label": ["Fees", "Speed", "App", "Staff"], "dimension": "product",
                      "performance": [3.0, 3.0, 3.0, 4.0], "importance": [4.0, 4.0, 4.0, 3.0],
                      "importance_type": "stated", "x_cross": 3.5, "y_cross": 3.5,
                      "quadrant": ["Concentrate here"] * 3 + ["Possible overkill"]})
    chart = plot_ipa(t)
    shown = {m["label"]: m["shown"] for m in _marks(chart, "point")}
    assert shown == {"Fees": "1", "Speed": "2", "App": "3", "Staff": "Staff"}
    assert "1\u20133" in _texts(chart) and "Staff" in _texts(chart)
    assert [(k["number"], k["label"]) for k in _marks(chart, "key")] == [("1", "Fees"), ("2", "Speed"), ("3", "App")]
    assert {"1 = Fees", "2 = Speed", "3 = App"} <= set(_texts(chart))
    _check_readable(chart)


def test_plot_ipa_quadrant_names_stay_clear_of_points_in_the_corners():
    # points in all four corners of the data range, on the cross-hairs' lines and far out
    t = pd.DataFrame({"attribute": list("abcdefgh"), "label": [f"Point {c}" for c in "abcdefgh"],
                      "dimension": "product", "performance": [1.0, 5.0, 1.0, 5.0, 3.0, 1.0, 5.0, 3.0],
                      "importance": [5.0, 5.0, 1.0, 1.0, 3.0, 3.0, 3.0, 5.0], "importance_type": "stated",
                      "x_cross": 1.2, "y_cross": 4.9, "quadrant": "Low priority"})
    chart = plot_ipa(t)
    names = [b for b in chart.texts if b.text in QUADRANTS]
    assert len(names) == 4
    for name in names:
        assert not any(name.collides(m, slack=0.0) for m in _markers(chart))
        for m in _markers(chart):  # a few px of white between a name's box and any point
            assert m.x1 < name.x0 - 4 or m.x0 > name.x1 + 4 or m.y1 < name.y0 - 4 or m.y0 > name.y1 + 4
    _check_point_labels(chart, set(t["label"]))
    _check_readable(chart)


def test_plot_ipa_hostile_long_and_chinese_labels(sample):
    t = sample["ipa"].copy()
    t["label"] = [HOSTILE[i % len(HOSTILE)] + f" {i}" for i in range(len(t))]
    chart = plot_ipa(t)
    svg = chart.svg(font=False)
    assert "&lt;script&gt;" in svg and "Fees &amp; charges ($5 a month)" in svg
    assert [m["label"] for m in _marks(chart, "point")] == t["label"].tolist()
    _check_point_labels(chart, set(t["label"]))
    _check_readable(chart)


def test_plot_ipa_unplaced_suppressed_and_midpoint():
    t = pd.DataFrame({"attribute": ["a", "b", "c", "d"], "label": ["Fees ($ per month)", "$x$ speed", "Thái độ 态度",
                                                                   "Hidden"],
                      "dimension": ["product", "process", "other", "people"], "n_performance": [10, 12, 11, 2],
                      "performance": [3.0, 4.0, np.nan, 3.5], "importance": [4.0, 3.0, 3.5, 3.5],
                      "importance_type": "stated", "x_cross": 3.0, "y_cross": 3.0,
                      "quadrant": ["Keep up the good work", "Possible overkill", None, "Keep up the good work"],
                      "suppressed": [False, False, False, True]})
    t.attrs["crosshair"] = "midpoint"
    chart = plot_ipa(t)
    assert [m["label"] for m in _marks(chart, "point")] == ["Fees ($ per month)", "$x$ speed"]  # not c, not d
    assert "Hidden" not in " ".join(_texts(chart))
    assert "1 attribute(s) not placed" in chart.alt
    assert 'No attribute in the "Concentrate here" quadrant (2 attributes placed)' in chart.alt
    assert any("scale midpoints" in m["label"] for m in _marks(chart, "legend"))
    assert "Fees ($ per month)" in _texts(chart) and "$x$ speed" in _texts(chart)
    _check_readable(chart)


def test_plot_ipa_derived_axis_label(sample):
    t = ipa(sample["df"], attributes=sample["attrs"], importance="derived", derived=sample["kd"],
            derived_column="rw_pct")
    chart = plot_ipa(t)
    assert "Derived importance: relative weight (% of R²)" in _texts(chart)
    _check_readable(chart)


def test_plot_ipa_rejects_other_tables():
    with pytest.raises(DataError, match="IPA table: column 'quadrant'"):
        plot_ipa(pd.DataFrame({"performance": [1.0], "importance": [2.0], "x_cross": [1], "y_cross": [1]}))
    with pytest.raises(CsmError, match="expected a pandas DataFrame"):
        plot_ipa([1, 2])
    empty = pd.DataFrame({"performance": [np.nan], "importance": [np.nan], "x_cross": [np.nan],
                          "y_cross": [np.nan], "quadrant": [None]})
    chart = plot_ipa(empty)
    assert "no attribute to place" in chart.alt and "nothing to show" in _texts(chart) and chart.marks == []


# --------------------------------------------------------------------------- drivers
def test_plot_drivers_sorted_with_whiskers_and_r2(sample):
    kd = sample["kd"]
    chart = plot_drivers(kd, labels=sample["labels"])
    bars = [m for m in chart.marks if m["kind"] == "bar"]
    assert [b["value"] for b in bars] == sorted(kd["rw_pct"], reverse=True)
    ranked = kd.sort_values("rank")
    assert [b["label"] for b in bars] == [sample["labels"][a] for a in ranked["attribute"]]
    assert [b["low"] for b in bars] == ranked["rw_pct_ci_low"].tolist()
    assert [b["high"] for b in bars] == ranked["rw_pct_ci_high"].tolist()
    assert [b["top"] for b in bars] == [True] * 3 + [False] * (len(kd) - 3)
    assert f"R² = {kd['relative_weight'].sum():.2f}" in chart.alt
    texts = [t.text for t in chart.texts]
    assert f"{kd['rw_pct'].max():.0f}%" in texts
    assert any("(pairwise)" in t for t in texts)
    assert [m["label"] for m in chart.marks if m["kind"] == "legend"] == ["top 3", "others", "95% bootstrap interval"]
    assert chart.overlaps() == [] and chart.smallest_pt >= 11
    # every text within the sheet, every bar within the plot
    assert all(t.x0 >= 0 and t.x1 <= chart.width and t.y0 >= 0 and t.y1 <= chart.height for t in chart.texts)
    svg = chart.svg(font=False)
    for colour in set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{6})"', svg)):
        assert _in_palette(colour), colour


def test_plot_drivers_bar_lengths_follow_the_axis(sample):
    """Each bar's length is its value on the axis: the bar of the largest driver ends where
    the axis puts that value (read from the SVG: tick positions and rectangle widths)."""
    chart = plot_drivers(sample["kd"], labels=sample["labels"])
    svg = chart.svg(font=False)
    ticks = {float(v): float(x) for x, v in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)%</text>', svg)}
    assert len(ticks) >= 3
    (v0, x0), (v1, x1) = sorted(ticks.items())[:2]
    per_unit = (x1 - x0) / (v1 - v0)
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" '
                                            r'fill="(?:#0072B2|url\(#[\w-]+\))" stroke', svg)]
    values = [m["value"] for m in chart.marks if m["kind"] == "bar"]
    # the bars come first; the legend's two keys follow
    assert widths[:len(values)] == pytest.approx([v * per_unit for v in values], abs=0.15)


def test_plot_drivers_without_intervals_and_errors(sample):
    kd = sample["kd"].drop(columns=["rw_pct_ci_low", "rw_pct_ci_high"])
    chart = plot_drivers(kd)
    assert re.search(r'<path d="M[\d.]+ [\d.]+H', chart.svg(font=False)) is None  # no whisker
    assert all(np.isnan(m["low"]) for m in chart.marks if m["kind"] == "bar")
    assert "bootstrap interval" not in " ".join(m.get("label", "") for m in chart.marks if m["kind"] == "legend")
    with pytest.raises(DataError, match="appears more than once"):
        plot_drivers(pd.concat([sample["kd"], sample["kd"]]))
    with pytest.raises(DataError, match="key-driver table: column 'rw_pct'"):
        plot_drivers(sample["kd"].drop(columns="rw_pct"))
    empty = plot_drivers(sample["kd"].assign(rw_pct=np.nan))
    assert "no attribute to show" in empty.alt and empty.marks == []


def test_plot_drivers_long_hostile_and_cjk_labels_fit(sample):
    kd = sample["kd"]
    hostile = {a: f"<script>alert('{a}')</script> & a very long label that goes on and on about {a}"
               for a in kd["attribute"]}
    hostile[kd["attribute"].iloc[0]] = "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素"
    chart = plot_drivers(kd, labels=hostile)
    svg = chart.svg(font=False)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert chart.overlaps() == []
    assert all(t.x0 >= 0 and t.x1 <= chart.width for t in chart.texts)
    assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku



# --------------------------------------------------------------------------- gaps
def test_plot_gaps_mean(sample):
    g = sample["gaps"]
    chart = plot_gaps(g, labels=sample["labels"])
    dots = _marks(chart, "dot")
    ordered = g.sort_values("mean_gap", kind="stable")
    assert [d["label"] for d in dots] == [sample["labels"][a] for a in ordered["attribute"]]  # worst at the top
    assert [d["value"] for d in dots] == ordered["mean_gap"].tolist()
    assert [d["low"] for d in dots] == ordered["ci_low"].tolist()
    assert [d["high"] for d in dots] == ordered["ci_high"].tolist()
    assert [d["significant"] for d in dots] == (ordered["p_adj"] < 0.05).tolist()
    short = int((g["mean_gap"] < 0).sum())
    worst = sample["labels"][ordered["attribute"].iloc[0]]
    assert chart.alt == (f"Perception falls short of expectation on {short} of 12 attributes "
                         f"Largest shortfall: {worst} ({ordered['mean_gap'].iloc[0]:+.2f} points)".replace("-", "\u2212"))
    for v in g["mean_gap"]:  # each dot labelled with its signed gap
        assert f"{v:+.2f}".replace("-", "\u2212") in _texts(chart)
    lo, hi = g["n"].min(), g["n"].max()
    assert f"n = {lo:,}\u2013{hi:,}" in " ".join(_texts(chart))
    assert [m["label"] for m in _marks(chart, "legend")] == ["significant (BH-adjusted p)", "not significant",
                                                              "confidence interval"]
    _check_readable(chart)


def test_plot_gaps_fills_the_points_significant_after_the_correction():
    """Issue 10 item 5: the filled points follow the adjusted p of the family, not the
    per-attribute interval. Three intervals exclude 0; only one adjusted p is below 0.05."""
    g = pd.DataFrame({"attribute": ["a", "b", "c"], "n": 100, "mean_gap": [-0.5, -0.3, -0.2],
                      "ci_low": [-0.7, -0.55, -0.38], "ci_high": [-0.3, -0.05, -0.02],
                      "p_value": [0.0001, 0.02, 0.03], "p_adj": [0.0003, 0.06, 0.06]})
    g.attrs.update({"p_adjust": "fdr_bh", "level": 0.95})
    chart = plot_gaps(g)
    assert [d["significant"] for d in _marks(chart, "dot")] == [True, False, False]
    assert [m["label"] for m in _marks(chart, "legend")][:2] == ["significant (BH-adjusted p)", "not significant"]
    svg = chart.svg(font=False)
    assert len(re.findall(r'<circle [^>]*fill="#0072B2"', svg)) == 1 + 1  # one filled dot, one legend key
    assert len(re.findall(r'<circle [^>]*fill="white"', svg)) == 2 + 1
    # at a 90 % level the 0.06 pass; without p_adj (a hand-made table) the intervals decide
    g.attrs["level"] = 0.90
    assert [d["significant"] for d in _marks(plot_gaps(g), "dot")] == [True, True, True]
    chart = plot_gaps(g.drop(columns="p_adj"))
    assert _marks(chart, "legend")[0]["label"] == "interval excludes 0"
    g.attrs["p_adjust"] = "holm"
    assert _marks(plot_gaps(g), "legend")[0]["label"] == "significant (adjusted p)"


def test_plot_gaps_shares(sample):
    g = sample["gaps"]
    chart = plot_gaps(g, kind="shares", labels=sample["labels"])
    bars = _marks(chart, "bar")
    ordered = g.sort_values("share_dissatisfied", ascending=False, kind="stable")
    assert len(bars) == 3 * len(g)
    assert [b["part"] for b in bars[:3]] == ["dissatisfied", "satisfied", "delighted"]
    for (_i, row), parts in zip(ordered.iterrows(), [bars[i:i + 3] for i in range(0, len(bars), 3)], strict=True):
        assert {b["label"] for b in parts} == {sample["labels"][row["attribute"]]}
        assert [b["value"] for b in parts] == [row["share_dissatisfied"], row["share_satisfied"],
                                               row["share_delighted"]]
        assert [b["start"] for b in parts] == pytest.approx([0, row["share_dissatisfied"],
                                                             row["share_dissatisfied"] + row["share_satisfied"]])
        assert sum(b["value"] for b in parts) == pytest.approx(1)
    top = ordered.iloc[0]
    assert chart.alt == (f"Most dissatisfied: {sample['labels'][top['attribute']]} "
                         f"{top['share_dissatisfied'] * 100:.0f}% rate it below their expectation")
    assert f"{top['share_dissatisfied'] * 100:.0f}%" in _texts(chart)  # the widest parts carry their percent
    assert [m["label"] for m in _marks(chart, "legend")] == ["dissatisfied (P < E)", "satisfied (P = E)",
                                                              "delighted (P > E)"]
    svg = chart.svg(font=False)
    assert "url(#" in svg  # satisfied and delighted are told apart by hatching, not colour alone
    _check_readable(chart)


def test_plot_gaps_leaves_out_suppressed_rows_and_says_so():
    df = pd.DataFrame({"p": [3, 4, 5, 2, 4, 3, 2], "e": [4, 4, 3, 3, 5, 2, 3], "seg": ["a"] * 7})
    g = expectation_gaps(df.assign(e2=[1, 2, np.nan, np.nan, np.nan, np.nan, np.nan]),
                         pairs={"x": ("p", "e"), "y": ("p", "e2")}, min_n=5)  # y: 2 pairs only
    assert g["suppressed"].tolist() == [False, True]
    for kind, mark in (("mean", "dot"), ("shares", "bar")):
        chart = plot_gaps(g, kind=kind)
        assert "1 attribute(s) suppressed: too few answers" in chart.alt
        assert {m["label"] for m in _marks(chart, mark)} == {"x"}
        assert "y" not in _texts(chart)
        _check_readable(chart)
    # a suppressed row is never drawn, whatever numbers it carries
    forged = g.assign(mean_gap=[-0.2, -0.9], ci_low=[-0.4, -1.0], ci_high=[0.0, -0.8])
    assert [m["label"] for m in _marks(plot_gaps(forged), "dot")] == ["x"]
    by = expectation_gaps(df, pairs={"x": ("p", "e")}, by="seg", min_n=1)
    assert _marks(plot_gaps(by), "dot")  # one group: fine
    with pytest.raises(DataError, match="filter it to one group"):
        plot_gaps(pd.concat([by, by.assign(seg="b")]))
    with pytest.raises(CsmError, match="`kind`"):
        plot_gaps(g, kind="bars")
    with pytest.raises(DataError, match="expectation-gap table: column 'ci_low'"):
        plot_gaps(g.drop(columns="ci_low"))


def test_plot_gaps_empty():
    g = pd.DataFrame({"attribute": ["a"], "mean_gap": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan],
                      "share_dissatisfied": [np.nan], "share_satisfied": [np.nan], "share_delighted": [np.nan],
                      "suppressed": [True]})
    for kind in ("mean", "shares"):
        chart = plot_gaps(g, kind=kind)
        assert "Expectation gaps: no attribute to show" in chart.alt
        assert "1 attribute(s) suppressed" in chart.alt
        assert "nothing to show" in _texts(chart) and chart.marks == []
        _check_readable(chart)


def test_plot_gaps_and_competitor_hostile_long_and_chinese_labels(sample):
    g, b = sample["gaps"], sample["bench"]
    hostile = {a: HOSTILE[i % len(HOSTILE)] for i, a in enumerate(g["attribute"])}
    for chart in (plot_gaps(g, labels=hostile), plot_gaps(g, kind="shares", labels=hostile),
                  plot_competitor(b, labels=hostile, competitor_label="<b>Rival</b> & Co $")):
        svg = chart.svg(font=False)
        assert "&lt;script&gt;" in svg and "&amp;" in svg
        assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku
        _check_readable(chart)


# --------------------------------------------------------------------------- competitor
def test_plot_competitor(sample):
    b = sample["bench"]
    chart = plot_competitor(b, labels=sample["labels"], competitor_label="Bank $B$")
    pairs = _marks(chart, "pair")
    ordered = b.sort_values("gap", ascending=False, kind="stable")
    assert [p["label"] for p in pairs] == [sample["labels"][a] for a in ordered["attribute"]]  # largest lead on top
    assert [(p["own"], p["competitor"], p["gap"], p["flag"]) for p in pairs] == list(
        zip(ordered["own"], ordered["competitor"], ordered["gap"], ordered["flag"], strict=True))
    better, worse = (b["flag"] == "better").sum(), (b["flag"] == "worse").sum()
    assert chart.alt == f"Ahead of the Bank $B$ on {better} and behind on {worse} of 8 attributes"
    for _i, row in b.iterrows():  # each row: the gap and the verdict in words (the significance flag)
        assert f"{row['gap']:+.2f} {row['flag']}".replace("-", "\u2212") in _texts(chart)
    assert [m["label"] for m in _marks(chart, "legend")] == ["us", "Bank $B$"]
    svg = chart.svg(font=False)  # the bar between the two: green when better, vermillion when worse
    assert len(re.findall(r'<line [^>]*stroke="#009E73" stroke-width="3"', svg)) == better
    assert len(re.findall(r'<line [^>]*stroke="#D55E00" stroke-width="3"', svg)) == worse
    lo, hi = b["n"].min(), b["n"].max()
    assert f"Mean rating from the same respondents, n = {lo:,}\u2013{hi:,}" in _texts(chart)
    _check_readable(chart)
    assert "main competitor" in plot_competitor(b).alt


def test_plot_competitor_empty_suppressed_and_wrong_table(sample):
    b = pd.DataFrame({"attribute": ["a"], "n": [3], "own": [np.nan], "competitor": [np.nan], "gap": [np.nan],
                      "flag": [np.nan], "suppressed": [True]})
    chart = plot_competitor(b)
    assert "no attribute to show" in chart.alt and "1 attribute(s) suppressed" in chart.alt and chart.marks == []
    with pytest.raises(DataError, match="competitor benchmark: column 'flag'"):
        plot_competitor(b.drop(columns="flag"))
    with pytest.raises(DataError, match="appears more than once"):
        plot_competitor(pd.concat([sample["bench"], sample["bench"]]))
    some = sample["bench"].copy()
    some.loc[0, "suppressed"] = True
    chart = plot_competitor(some)
    assert some["attribute"].iloc[0] not in [p["label"] for p in _marks(chart, "pair")]
    assert len(_marks(chart, "pair")) == len(some) - 1
    assert "1 attribute(s) suppressed: too few answers" in chart.alt
