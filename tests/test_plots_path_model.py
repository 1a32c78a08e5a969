"""The path diagram of the satisfaction model (issue 15 part 1; SVG since issue 14): one box per
block, one arrow and one coefficient label per path, nothing overlapping, dashed where the
interval includes 0."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis.pls_pm import pls_pm
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import set_language
from csm_helpers.present.charts.path_model import plot_path_model
from csm_helpers.study.config import ECSI_PATHS

from .plotting import in_palette
from .plotting import marks as _marks
from .test_pls_pm import DATA, ECSI

MINUS = "\u2212"


@pytest.fixture(scope="module")
def ecsi():
    data = pd.read_csv(DATA / "satisfaction.csv")
    blocks = {b: [c for c in data.columns if c.rstrip("0123456789") == p] for b, p in ECSI.items()}
    return pls_pm(data, blocks=blocks, paths=list(ECSI_PATHS))


def _num(x: float) -> str:
    return f"{x:.2f}".replace("-", MINUS)





def _apart(a, b) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def _touches(segment, rect, width) -> bool:
    """Whether a line of ``width`` px from (x1, y1) to (x2, y2) enters the rectangle (sampled
    every half pixel, independent of the chart's own geometry)."""
    x1, y1, x2, y2 = segment
    steps = max(int(np.hypot(x2 - x1, y2 - y1) * 2), 2)
    t = np.linspace(0, 1, steps + 1)
    xs, ys = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
    r = width / 2
    return bool(np.any((xs > rect[0] - r) & (xs < rect[2] + r) & (ys > rect[1] - r) & (ys < rect[3] + r)))


def _check_layout(chart) -> None:
    """What every path diagram must be: no text over another, none under 11 pt, none off the
    sheet; every label clear of every box, every other label and every other arrow; every
    arrow clear of the boxes it does not join; every box's text inside its box; the colours in
    the palette."""
    assert chart.overlaps() == [] and chart.smallest_pt >= 11
    assert all(t.x0 >= 0 and t.x1 <= chart.width and t.y0 >= 0 and t.y1 <= chart.height for t in chart.texts)
    blocks, paths = _marks(chart, "block"), _marks(chart, "path")
    for i, a in enumerate(blocks):
        assert all(_apart(a["box"], b["box"]) for b in blocks[i + 1:]), a["label"]
    for p in paths:
        assert all(_apart(p["box"], b["box"]) for b in blocks), p["text"]
        assert all(_apart(p["box"], q["box"]) for q in paths if q is not p), p["text"]
        assert not any(_touches(q["arrow"], p["box"], q["width"]) for q in paths if q is not p), p["text"]
        joined = {p["source"], p["target"]}
        assert not any(_touches(p["arrow"], b["box"], 0) for b in blocks if b["block"] not in joined), p["label"]
    for b in blocks:  # the texts inside a box stay inside it
        x0, y0, x1, y1 = b["box"]
        inside = [t for t in chart.texts if x0 <= (t.x0 + t.x1) / 2 <= x1 and y0 <= (t.y0 + t.y1) / 2 <= y1]
        assert inside and all(t.x0 >= x0 and t.x1 <= x1 and t.y0 >= y0 and t.y1 <= y1 for t in inside), b["label"]
    svg = chart.svg(font=False)
    for colour in set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{6})"', svg)):
        assert in_palette(colour), colour


def test_every_block_and_path_is_drawn_and_nothing_overlaps(ecsi):
    ci = ecsi.paths[["from", "to"]].assign(ci_low=ecsi.paths["coefficient"] - 0.1,
                                           ci_high=ecsi.paths["coefficient"] + 0.1)
    chart = plot_path_model(ecsi.paths, r2=ecsi.r2, intervals=ci, highlight="satisfaction")
    blocks = _marks(chart, "block")
    assert sorted(b["block"] for b in blocks) == sorted(ECSI)
    assert {b["block"]: b["label"] for b in blocks}["satisfaction"] == "Satisfaction"
    for b in blocks:  # R² of each endogenous block, none for the exogenous image
        assert b["r2"] == pytest.approx(ecsi.r2[b["block"]]) if b["block"] in ecsi.r2 else np.isnan(b["r2"])
        assert b["highlight"] == (b["block"] == "satisfaction")
    texts = [t.text for t in chart.texts]
    assert f"R² = {ecsi.r2['satisfaction']:.2f}" in texts and "Image" in texts
    assert sum(t.startswith("R² = ") for t in texts) == len(ecsi.r2)  # none for the exogenous image
    paths = _marks(chart, "path")
    assert [(p["source"], p["target"]) for p in paths] == list(zip(ecsi.paths["from"], ecsi.paths["to"], strict=True))
    assert [p["value"] for p in paths] == ecsi.paths["coefficient"].tolist()
    assert [p["low"] for p in paths] == ci["ci_low"].tolist() and [p["high"] for p in paths] == ci["ci_high"].tolist()
    expected = [f"{_num(c)} [{_num(lo)}, {_num(hi)}]" for c, lo, hi in ci.assign(c=ecsi.paths["coefficient"])[
        ["c", "ci_low", "ci_high"]].itertuples(index=False)]
    assert [p["text"] for p in paths] == expected
    dashed = ((ci["ci_low"] <= 0) & (ci["ci_high"] >= 0)).tolist()
    assert [p["dashed"] for p in paths] == dashed and any(dashed)  # EXPE -> SAT, 0.01 +- 0.1, and more
    # a dashed line per dashed arrow, and one in the legend
    assert chart.svg(font=False).count("stroke-dasharray") == sum(dashed) + 1
    # thicker = larger
    by_size = sorted(paths, key=lambda p: abs(p["value"]))
    assert [p["width"] for p in by_size] == sorted(p["width"] for p in paths)
    assert [m["label"] for m in _marks(chart, "legend")] == ["arrow: path coefficient (thicker = larger)",
                                                              "dashed: interval includes 0"]
    assert chart.alt == f"Satisfaction model: 10 paths; R² of Satisfaction = {ecsi.r2['satisfaction']:.2f}"
    _check_layout(chart)


def test_the_index_block_is_filled_and_non_significant_paths_are_not_told_by_colour_alone(ecsi):
    chart = plot_path_model(ecsi.paths, r2=ecsi.r2, highlight="satisfaction")
    svg = chart.svg(font=False)
    sat = next(b for b in _marks(chart, "block") if b["highlight"])
    x0, y0 = sat["box"][:2]
    assert re.search(rf'<rect x="{x0:.1f}" y="{y0:.1f}" [^>]*fill="#0072B2"', svg)  # filled
    assert sum(b["highlight"] for b in _marks(chart, "block")) == 1
    dashed = [p for p in _marks(chart, "path") if p["dashed"]]
    assert [(p["source"], p["target"]) for p in dashed] == [
        (a, b) for a, b, p in zip(ecsi.paths["from"], ecsi.paths["to"], ecsi.paths["p_value"], strict=True) if p >= 0.05]
    assert svg.count("stroke-dasharray") == len(dashed) + 1
    assert "dashed: not significant at 5 %" in [m["label"] for m in _marks(chart, "legend")]
    _check_layout(chart)


def test_without_intervals_the_p_value_decides_and_a_generic_model_is_layered():
    paths = pd.DataFrame({"from": ["a", "b", "a", "c"], "to": ["b", "c", "c", "d"],
                          "coefficient": [0.5, 0.4, -0.3, 0.6], "p_value": [0.01, 0.3, 0.02, 0.001]})
    chart = plot_path_model(paths, r2={"b": 0.2, "c": 0.3, "d": 0.36})
    marks = _marks(chart, "path")
    assert [p["dashed"] for p in marks] == (paths["p_value"] >= 0.05).tolist()
    assert [p["text"] for p in marks] == [_num(c) for c in paths["coefficient"]]
    assert "\u22120.30" in [t.text for t in chart.texts]
    assert all(np.isnan(p["low"]) for p in marks)
    assert "dashed: not significant at 5 %" in [m["label"] for m in _marks(chart, "legend")]
    centre = {b["block"]: (b["box"][0] + b["box"][2]) / 2 for b in _marks(chart, "block")}
    assert centre["a"] < centre["b"] < centre["c"] < centre["d"]  # a column per step along every arrow
    _check_layout(chart)


def test_a_deeper_model_is_drawn_with_every_label_in_place():
    """The ACSI model: six blocks, five steps deep, with arrows that skip columns."""
    edges = [("expectation", "quality"), ("expectation", "value"), ("expectation", "satisfaction"),
             ("quality", "value"), ("quality", "satisfaction"), ("value", "satisfaction"),
             ("satisfaction", "complaints"), ("satisfaction", "loyalty"), ("complaints", "loyalty")]
    paths = pd.DataFrame(edges, columns=["from", "to"]).assign(coefficient=[0.5, 0.1, 0.05, 0.6, 0.4, 0.3, -0.3, 0.6,
                                                                            -0.2])
    ci = paths[["from", "to"]].assign(ci_low=paths["coefficient"] - 0.12, ci_high=paths["coefficient"] + 0.12)
    names = {"expectation": "Customer expectations", "quality": "Perceived quality", "value": "Perceived value",
             "satisfaction": "Customer satisfaction", "complaints": "Customer complaints", "loyalty": "Customer loyalty"}
    chart = plot_path_model(paths, r2=dict.fromkeys(paths["to"], 0.4), intervals=ci, labels=names,
                            highlight="satisfaction")
    assert [p["label"] for p in _marks(chart, "path")] == [f"{names[a]} → {names[b]}" for a, b in edges]
    centre = {b["block"]: ((b["box"][0] + b["box"][2]) / 2, b["box"][1]) for b in _marks(chart, "block")}
    for a, b in edges:  # left to right in the model's order; within a column, the earlier above
        assert centre[a][0] < centre[b][0] or (centre[a][0] == centre[b][0] and centre[a][1] < centre[b][1])
    _check_layout(chart)


def test_long_hostile_and_cjk_block_names_are_escaped_wrapped_and_fit(ecsi):
    hostile = {"image": "<script>alert(1)</script> & $x$ image",
               "expectation": "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素",
               "quality": "A very long label that goes on and on about the perceived quality of everything",
               "value": "Value & $", "satisfaction": "Sự hài lòng của khách hàng", "loyalty": "Loyalty"}
    chart = plot_path_model(ecsi.paths, r2=ecsi.r2, labels=hostile, highlight="satisfaction")
    svg = chart.svg(font=False)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Value &amp; $" in svg
    texts = [t.text for t in chart.texts]
    assert not any(t.startswith(("）", "，", "。", "、")) for t in texts)  # kinsoku
    assert any(t.endswith(("…", "...")) for t in texts)  # the longest name, cut after three lines
    assert "Sự hài lòng của khách hàng" in chart.alt
    _check_layout(chart)


def test_intervals_for_some_paths_only_and_a_path_without_a_coefficient():
    paths = pd.DataFrame({"from": ["a", "a", "b"], "to": ["b", "c", "c"], "coefficient": [0.5, np.nan, -0.4]})
    ci = pd.DataFrame({"from": ["a"], "to": ["b"], "ci_low": [-0.05], "ci_high": [0.9]})
    chart = plot_path_model(paths, r2={"b": 0.25, "c": 0.3}, intervals=ci)
    marks = _marks(chart, "path")
    assert [(m["source"], m["target"]) for m in marks] == [("a", "b"), ("b", "c")]  # no arrow for NaN
    assert [m["text"] for m in marks] == [f"0.50 [{MINUS}0.05, 0.90]", f"{MINUS}0.40"]
    assert [m["dashed"] for m in marks] == [True, False]
    assert len(_marks(chart, "block")) == 3
    assert chart.svg(font=False).count("<polygon") == 2  # two arrow heads
    _check_layout(chart)


def test_bad_input_empty_table_and_another_language(ecsi):
    with pytest.raises(DataError, match="cycle a -> b -> a"):
        plot_path_model(pd.DataFrame({"from": ["a", "b"], "to": ["b", "a"], "coefficient": [0.1, 0.2]}), r2={})
    with pytest.raises(DataError, match="coefficient"):
        plot_path_model(pd.DataFrame({"from": ["a"], "to": ["b"]}), r2={})
    with pytest.raises(DataError, match="ci_high"):
        plot_path_model(ecsi.paths, r2=ecsi.r2, intervals=pd.DataFrame({"from": ["image"], "to": ["loyalty"],
                                                                          "ci_low": [0.1]}))
    empty = plot_path_model(pd.DataFrame({"from": [], "to": [], "coefficient": []}), r2={})
    assert empty.alt == "Satisfaction-index model (PLS path modelling)" and empty.marks == []
    assert "nothing to show" in [t.text for t in empty.texts]
    for language in ("vi", "zh"):
        set_language(language)
        try:
            chart = plot_path_model(ecsi.paths, r2=ecsi.r2, intervals=ecsi.paths[["from", "to"]].assign(
                ci_low=ecsi.paths["coefficient"] - 0.1, ci_high=ecsi.paths["coefficient"] + 0.1),
                highlight="satisfaction")
        finally:
            set_language("en")
        assert not chart.alt.startswith("Satisfaction model")  # translated
        assert len(_marks(chart, "path")) == 10
        _check_layout(chart)
