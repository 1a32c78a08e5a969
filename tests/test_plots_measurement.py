"""Tests of csm_helpers.present.charts.measurement: the measurement charts draw what they should, in grey-scale."""

from __future__ import annotations

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
from csm_helpers.core.errors import DataError  # noqa: E402
from csm_helpers.present.charts import measurement as pm  # noqa: E402
from csm_helpers.study.config import load_study  # noqa: E402
from csm_helpers.study.datasets import read_dataset, sample_study_path  # noqa: E402

from .plotting import (
    _report_style,  # noqa: F401  (autouse fixture)
    legend_texts,
)
from .plotting import in_palette as _in_palette
from .plotting import (
    texts as _texts,  # noqa: E402
)

DATA = pd.DataFrame({
    "a": [1, 2, 4, 5, 5, 5, 4, 4],    # top-2: 6 of 8
    "b": [3, 3, 4, 4, 2, 1, 1, 2],    # top-2: 2 of 8
    "c": [5, 5, 5, 5, 5, 5, 5, 4],    # top-2: 8 of 8
})
LABELS = {"a": "Fees ($ per month)", "b": "Waiting $time$", "c": "Thái độ nhân viên 态度"}


def test_plot_likert_bars_order_and_title():
    dist = likert_distribution(DATA, items=["a", "b", "c"], scale=(1, 5), labels=LABELS)
    ax = pm.plot_likert(dist)
    assert len(ax.containers) == 5  # one per scale point
    assert all(len(c) == 3 for c in ax.containers)  # one bar per item
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    # sorted by top-2 share, highest at the top (y axis inverted: first tick on top)
    assert ticks[0].startswith("Thái độ") and ticks[1].startswith("Fees") and ticks[2].startswith("Waiting")
    assert "(n=8)" in ticks[0]
    assert ax.get_title() == "Top-2 box: highest Thái độ nhân viên 态度 (100%), lowest Waiting \\$time\\$ (25%)"
    texts = _texts(ax)
    assert any("top-2 75%" in t for t in texts)
    assert legend_texts(ax) == ["1 (lowest)", "2", "3", "4", "5 (highest)"]
    for container in ax.containers:
        for bar in container:
            assert _in_palette(bar.get_facecolor())


def test_plot_likert_diverges_around_the_midpoint():
    dist = likert_distribution(DATA, items=["a", "b"], scale=(1, 5))
    ax = pm.plot_likert(dist)
    # items in drawing order: a (top-2 75%) then b (25%)
    shares = {it: dist[dist["item"] == it]["share"].to_numpy() for it in ("a", "b")}
    for row, item in enumerate(["a", "b"]):
        s = shares[item]
        neutral = ax.containers[2][row]
        assert neutral.get_x() == pytest.approx(-s[2] / 2)  # half on each side of the centre
        assert neutral.get_width() == pytest.approx(s[2])
        lowest = ax.containers[0][row]
        assert lowest.get_x() == pytest.approx(-s[2] / 2 - s[1] - s[0])
        highest = ax.containers[4][row]
        assert highest.get_x() + highest.get_width() == pytest.approx(s[2] / 2 + s[3] + s[4])
    # the points below the midpoint are hatched, those above solid
    assert ax.containers[0][0].get_hatch() and ax.containers[1][0].get_hatch()
    assert not ax.containers[3][0].get_hatch() and not ax.containers[4][0].get_hatch()


def test_plot_likert_even_scale_has_no_neutral():
    data = pd.DataFrame({"q": [1, 2, 3, 4, 4, 3]})
    ax = pm.plot_likert(likert_distribution(data, items=["q"], scale=(1, 4)))
    assert len(ax.containers) == 4
    assert ax.containers[1][0].get_x() + ax.containers[1][0].get_width() == pytest.approx(0)
    assert ax.containers[2][0].get_x() == pytest.approx(0)
    assert ax.get_title() == "q: 67% in the top two points"


def test_plot_likert_eleven_points_custom_labels_and_kwargs():
    dist = likert_distribution(read_dataset("responses"), items=["recommend"], scale=(0, 10))
    ax = pm.plot_likert(dist, point_labels={0: "Not at all likely", 10: "Extremely likely"}, height=0.5)
    assert len(ax.containers) == 11
    assert ax.containers[0][0].get_height() == pytest.approx(0.5)
    legend = legend_texts(ax)
    assert legend[0] == "Not at all likely" and legend[-1] == "Extremely likely" and legend[5] == "5"
    _texts(ax)


def test_plot_likert_on_the_sample_weighted():
    study = load_study(sample_study_path())
    df = read_dataset("responses")
    w = study_weights(df, study, population=read_dataset("population"))
    items = [a.performance for a in study.attributes]
    dist = likert_distribution(df.assign(w=w), items=items, scale=(1, 5), weights="w",
                               labels={a.performance: a.label for a in study.attributes})
    fig, ax = plt.subplots()
    out = pm.plot_likert(dist, ax=ax)
    assert out is ax
    assert len(ax.containers) == 5 and all(len(c) == len(items) for c in ax.containers)
    assert ax.get_title().startswith("Top-2 box: highest ")


def test_plot_likert_requires_the_distribution_table():
    with pytest.raises(DataError, match="likert_distribution"):
        pm.plot_likert(pd.DataFrame({"item": ["a"]}))


def test_plot_weights_title_and_bars():
    w = pd.Series([0.5, 1.0, 1.0, 1.5, 2.0, 0.8])
    s = weight_summary(w)
    ax = pm.plot_weights(w, bins=5)
    assert len(ax.patches) == 5
    assert ax.get_title() == (f"Weights: effective n {s['n_eff']:.1f} of 6 respondents "
                              f"(design effect {s['deff']:.2f})")
    assert ax.lines[0].get_xdata()[0] == pytest.approx(w.mean())
    for p in ax.patches:
        assert _in_palette(p.get_facecolor())
    _texts(ax)


def test_plot_weights_on_the_sample_title_has_neff_and_deff():
    study = load_study(sample_study_path())
    w = study_weights(read_dataset("responses"), study, population=read_dataset("population"))
    s = weight_summary(w)
    ax = pm.plot_weights(w)
    assert f"effective n {s['n_eff']:,.0f} of 2,400" in ax.get_title()
    assert f"design effect {s['deff']:.2f}" in ax.get_title()


def test_plot_sampling_bars_marks_and_title():
    df = read_dataset("responses")
    t = sampling_table(df, by="region", population=read_dataset("population"))
    ax = pm.plot_sampling(t)
    seg = t[t["value"] != "all"]
    bars = ax.containers[0]
    assert len(bars) == len(seg)  # the total row is not drawn
    assert [b.get_width() for b in bars] == pytest.approx(seg["responses"].tolist())
    for bar, ok in zip(bars, seg["meets_target"], strict=True):
        assert bool(bar.get_hatch()) == (not ok)
        assert _in_palette(bar.get_facecolor())
    segs = ax.collections[0].get_segments()
    assert [s[0][0] for s in segs] == pytest.approx(seg["required_n"].tolist())
    met = int(seg["meets_target"].sum())
    title = ax.get_title()
    assert title.startswith(f"{met} of {len(seg)} region values reach the ±5% margin")
    assert "All respondents: n = 2,400" in title
    _texts(ax)


def test_plot_sampling_escapes_and_empty():
    t = pd.DataFrame({"segment": "shop", "value": ["$1 shop", "all"], "responses": [10, 10],
                      "required_n": [9.0, 9.0], "achieved_moe": [0.04, 0.04], "target_moe": 0.05,
                      "meets_target": [True, True]})
    ax = pm.plot_sampling(t)
    assert "\\$1 shop" in [x.get_text() for x in ax.get_yticklabels()]
    _texts(ax)
    empty = pm.plot_sampling(t[t["value"] == "all"])
    assert empty.get_title() == "Sampling: no segment to show"


def test_figures_are_closed_by_callers():
    before = len(plt.get_fignums())
    ax = pm.plot_weights(np.ones(10))
    assert len(plt.get_fignums()) == before + 1
    plt.close(ax.figure)
    assert len(plt.get_fignums()) == before
