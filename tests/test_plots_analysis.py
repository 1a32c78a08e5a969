"""Tests of csm_helpers.present.charts.analysis: each chart draws what it should, in grey-scale, without mathtext."""

from __future__ import annotations

import itertools
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.text import Annotation, Text  # noqa: E402

from csm_helpers.analysis.drivers import QUADRANTS, attribute_table, ipa, key_drivers  # noqa: E402
from csm_helpers.analysis.gaps import competitor_benchmark, expectation_gaps, gap_pairs  # noqa: E402
from csm_helpers.core.errors import CsmError, DataError  # noqa: E402
from csm_helpers.present.charts.analysis import plot_competitor, plot_drivers, plot_gaps, plot_ipa  # noqa: E402
from csm_helpers.study.config import load_study  # noqa: E402
from csm_helpers.study.datasets import read_dataset, sample_study_path  # noqa: E402

from .plotting import (
    _report_style,  # noqa: F401  (autouse fixture)
    legend_texts,  # noqa: E402
)
from .plotting import in_palette as _in_palette  # noqa: E402


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




def _all_text(ax) -> list[str]:
    ax.figure.canvas.draw()  # renders every label: mathtext errors would raise here
    return [t.get_text() for t in ax.figure.findobj(Text) if t.get_text()]


def _colours_in_palette(ax) -> None:
    for p in ax.patches:
        assert _in_palette(p.get_facecolor()) and _in_palette(p.get_edgecolor())
    for c in ax.collections:
        for col in list(c.get_facecolors()) + list(c.get_edgecolors()):
            assert _in_palette(col)
    for line in ax.lines:
        assert _in_palette(line.get_color())


def _point_labels(ax) -> list[Annotation]:
    return [t for t in ax.texts if isinstance(t, Annotation)]


# --------------------------------------------------------------------------- IPA
def test_plot_ipa_on_the_sample(sample):
    t = sample["ipa"]
    ax = plot_ipa(t)
    texts = _all_text(ax)
    for name in QUADRANTS:  # the four quadrant names, exactly
        assert name in texts
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, PathCollection)])
    assert len(xs) == 12
    assert ax.lines[0].get_xdata()[0] == pytest.approx(t["x_cross"].iloc[0])
    assert ax.lines[1].get_ydata()[0] == pytest.approx(t["y_cross"].iloc[0])
    conc = t.loc[t["quadrant"] == "Concentrate here"].sort_values("importance", ascending=False)
    assert ax.get_title().startswith(f"Concentrate here: {len(conc)} of 12 attributes\n{conc['label'].iloc[0]}")
    lo, hi = t["n_performance"].min(), t["n_performance"].max()
    assert f"n = {lo:,}\u2013{hi:,} per attribute" in ax.get_xlabel()
    _colours_in_palette(ax)


def test_plot_ipa_labels_do_not_overlap_and_stay_inside(sample):
    ax = plot_ipa(sample["ipa"])
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = _point_labels(ax)
    texts = [a.get_text() for a in labels]
    if all(t.isdigit() for t in texts):  # numbered points: the key under the chart names each one
        assert sorted(map(int, texts)) == list(range(1, len(sample["ipa"]) + 1))
        key = fig.get_supxlabel()
        for k, name in enumerate(sample["ipa"].sort_values("importance", ascending=False)["label"], start=1):
            assert f"{k} {name}" in key
    else:
        assert sorted(texts) == sorted(sample["ipa"]["label"])
    boxes = [a.get_window_extent(renderer) for a in labels]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    axbox = ax.get_window_extent(renderer)
    for b in boxes:
        assert axbox.x0 - 1 <= b.x0 and b.x1 <= axbox.x1 + 1 and axbox.y0 - 1 <= b.y0 and b.y1 <= axbox.y1 + 1


def test_plot_ipa_greys_out_the_attributes_whose_quadrant_is_a_coin_toss(sample):
    from matplotlib.colors import to_rgba

    from csm_helpers.present.charts.style import LIGHT

    t = sample["ipa"].copy()
    t["p_quadrant"] = [0.55 if i % 3 == 0 else 0.95 for i in range(len(t))]
    t.loc[1, "p_quadrant"] = np.nan  # not computed: shown as usual
    ax = plot_ipa(t)
    greyed = sum(len(c.get_offsets()) for c in ax.collections
                 if len(c.get_facecolors()) and np.allclose(c.get_facecolors()[0], to_rgba(LIGHT)))
    assert greyed == 4
    assert len([a for a in _point_labels(ax) if a.get_color() == "#666666"]) == 4
    assert any("quadrant uncertain" in x for x in legend_texts(ax))
    _colours_in_palette(ax)
    plain = plot_ipa(sample["ipa"])
    assert not [a for a in _point_labels(plain) if a.get_color() == "#666666"]
    assert not any("quadrant uncertain" in x for x in legend_texts(plain))


def test_plot_ipa_crowded_points_still_readable():
    # 15 attributes packed in a small region: labels must stay apart or use leader lines.
    rng = np.random.default_rng(1)
    k = 15
    t = pd.DataFrame({"attribute": [f"a{i}" for i in range(k)], "label": [f"Attribute number {i}" for i in range(k)],
                      "dimension": rng.choice(["product", "process", "people"], k),
                      "performance": 3.5 + rng.normal(0, 0.05, k), "importance": 3.8 + rng.normal(0, 0.05, k),
                      "importance_type": "stated"})
    t["x_cross"], t["y_cross"] = t["performance"].mean(), t["importance"].mean()
    t["quadrant"] = "Low priority"
    ax = plot_ipa(t)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in _point_labels(ax)]
    overlapping = sum(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert overlapping == 0  # names where they fit, else numbers with a key under the chart
    assert ax.figure.get_size_inches()[1] < 10  # labels never blow up the layout


def test_plot_ipa_escapes_dollars_and_handles_unplaced_and_midpoint():
    t = pd.DataFrame({"attribute": ["a", "b", "c"], "label": ["Fees ($ per month)", "$x$ speed", "Thái độ 态度"],
                      "dimension": ["product", "process", "other"], "n_performance": [10, 12, 11],
                      "performance": [3.0, 4.0, np.nan], "importance": [4.0, 3.0, 3.5],
                      "importance_type": "stated", "x_cross": 3.0, "y_cross": 3.0,
                      "quadrant": ["Keep up the good work", "Possible overkill", None]})
    t.attrs["crosshair"] = "midpoint"
    ax = plot_ipa(t, s=80)
    texts = _all_text(ax)
    assert r"Fees (\$ per month)" in texts and r"\$x\$ speed" in texts
    assert "1 attribute(s) not placed" in ax.get_title()
    assert all(sz == 80 for c in ax.collections for sz in c.get_sizes())
    legend = legend_texts(ax)
    assert any("scale midpoints" in x for x in legend)


def test_plot_ipa_derived_axis_label_and_given_axes(sample):
    fig, ax0 = plt.subplots()
    t = ipa(sample["df"], attributes=sample["attrs"], importance="derived", derived=sample["kd"],
            derived_column="rw_pct")
    ax = plot_ipa(t, ax=ax0)
    assert ax is ax0
    assert ax.get_ylabel() == "Derived importance: relative weight (% of R²)"


def test_plot_ipa_rejects_other_tables():
    with pytest.raises(DataError, match="IPA table: column 'quadrant'"):
        plot_ipa(pd.DataFrame({"performance": [1.0], "importance": [2.0], "x_cross": [1], "y_cross": [1]}))
    with pytest.raises(CsmError, match="expected a pandas DataFrame"):
        plot_ipa([1, 2])
    empty = pd.DataFrame({"performance": [np.nan], "importance": [np.nan], "x_cross": [np.nan],
                          "y_cross": [np.nan], "quadrant": [None]})
    assert "no attribute to place" in plot_ipa(empty).get_title()


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
    ax = plot_gaps(g, labels=sample["labels"])
    ys = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, PathCollection)])
    assert sorted(ys) == sorted(g["mean_gap"])
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    worst = g.loc[g["mean_gap"].idxmin(), "attribute"]
    assert ticks[0] == sample["labels"][worst]
    short = int((g["mean_gap"] < 0).sum())
    assert ax.get_title().startswith(f"Perception falls short of expectation on {short} of 12 attributes")
    assert f"{g['mean_gap'].min():+.2f}".replace("-", "\u2212") in " ".join(_all_text(ax))
    _colours_in_palette(ax)


def test_plot_gaps_fills_the_points_significant_after_the_correction():
    """Issue 10 item 5: the filled points follow the adjusted p of the family, not the
    per-attribute interval. Three intervals exclude 0; only one adjusted p is below 0.05."""
    g = pd.DataFrame({"attribute": ["a", "b", "c"], "n": 100, "mean_gap": [-0.5, -0.3, -0.2],
                      "ci_low": [-0.7, -0.55, -0.38], "ci_high": [-0.3, -0.05, -0.02],
                      "p_value": [0.0001, 0.02, 0.03], "p_adj": [0.0003, 0.06, 0.06]})
    g.attrs.update({"p_adjust": "fdr_bh", "level": 0.95})
    ax = plot_gaps(g)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in points] == [1, 2]  # significant first, then the rest
    assert points[0].get_offsets()[0, 0] == -0.5
    assert legend_texts(ax)[:2] == ["significant (BH-adjusted p)", "not significant"]
    plt.close(ax.figure)
    # at a 90 % level the 0.06 pass; without p_adj (a hand-made table) the intervals decide
    g.attrs["level"] = 0.90
    assert [len(c.get_offsets()) for c in plot_gaps(g).collections if isinstance(c, PathCollection)] == [3]
    ax = plot_gaps(g.drop(columns="p_adj"))
    assert legend_texts(ax)[0] == "interval excludes 0"
    plt.close("all")


def test_plot_gaps_shares(sample):
    g = sample["gaps"]
    ax = plot_gaps(g, kind="shares", labels=sample["labels"])
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 3
    totals = np.sum([[b.get_width() for b in c] for c in bars], axis=0)
    np.testing.assert_allclose(totals, 1)
    first = [b.get_width() for b in bars[0]]
    assert first == sorted(g["share_dissatisfied"], reverse=True)
    assert f"{g['share_dissatisfied'].max() * 100:.0f}% rate it below their expectation" in ax.get_title()
    _colours_in_palette(ax)


def test_plot_gaps_leaves_out_suppressed_rows_and_says_so():
    df = pd.DataFrame({"p": [3, 4, 5, 2, 4, 3, 2], "e": [4, 4, 3, 3, 5, 2, 3], "seg": ["a"] * 7})
    g = expectation_gaps(df.assign(e2=[1, 2, np.nan, np.nan, np.nan, np.nan, np.nan]),
                         pairs={"x": ("p", "e"), "y": ("p", "e2")}, min_n=5)  # y: 2 pairs only
    assert g["suppressed"].tolist() == [False, True]
    ax = plot_gaps(g)
    assert "1 attribute(s) suppressed" in ax.get_title()
    assert len(ax.get_yticklabels()) == 1
    ax2 = plot_gaps(g, kind="shares")
    assert "1 attribute(s) suppressed" in ax2.get_title()
    by = expectation_gaps(df, pairs={"x": ("p", "e")}, by="seg", min_n=1)
    assert plot_gaps(by)  # one group: fine
    with pytest.raises(DataError, match="filter it to one group"):
        plot_gaps(pd.concat([by, by.assign(seg="b")]))
    with pytest.raises(CsmError, match="`kind`"):
        plot_gaps(g, kind="bars")


# --------------------------------------------------------------------------- competitor
def test_plot_competitor(sample):
    b = sample["bench"]
    ax = plot_competitor(b, labels=sample["labels"], competitor_label="Bank $B$")
    own = ax.collections[1].get_offsets()[:, 0]
    comp = ax.collections[2].get_offsets()[:, 0]
    assert sorted(own) == sorted(b["own"]) and sorted(comp) == sorted(b["competitor"])
    better, worse = (b["flag"] == "better").sum(), (b["flag"] == "worse").sum()
    assert ax.get_title().startswith(rf"Ahead of the Bank \$B\$ on {better} and behind on {worse} of 8 attributes")
    texts = _all_text(ax)
    assert any(t.endswith(" better") for t in texts) and any(t.endswith(" worse") for t in texts)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == sample["labels"][b.loc[b["gap"].idxmax(), "attribute"]]
    _colours_in_palette(ax)


def test_plot_competitor_empty_and_wrong_table():
    b = pd.DataFrame({"attribute": ["a"], "n": [3], "own": [np.nan], "competitor": [np.nan], "gap": [np.nan],
                      "flag": [np.nan], "suppressed": [True]})
    assert "no attribute to show" in plot_competitor(b).get_title()
    with pytest.raises(DataError, match="competitor benchmark: column 'flag'"):
        plot_competitor(b.drop(columns="flag"))
