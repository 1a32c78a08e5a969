"""Tests of csm_helpers.present.charts.action (SVG charts): titles say what to see, one mark per row,
customer text escaped and laid out without overlap inside the sheet, colours from the palette, suppressed
points never drawn, text inside the SWOT cells."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis import action
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.present.catalogue import format_change, format_kpi
from csm_helpers.present.charts import action as pa
from csm_helpers.study.datasets import read_dataset

from .plotting import chart_texts as _texts
from .plotting import check_sheet
from .plotting import marks as _marks

KW = dict(wave="wave", overall="overall_sat", satisfaction_items=["sat_last_contact"],
          scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend")
HOSTILE = ["<script>alert(1)</script>", "R&D & <b>bold</b>", "Fees over $5 a month ($$)",
           "A very long attribute label that goes on and on about the speed of problem resolution at the branch",
           "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素"]


def _sound(chart) -> str:
    """The checks every chart passes (tests/plotting.check_sheet), and no bold markup; its SVG."""
    svg = check_sheet(chart)
    assert "<b>" not in svg
    return svg








def _priority(k: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    t = pd.DataFrame({"attribute": [f"a{i}" for i in range(k)], "label": [f"Attr {i}" for i in range(k)],
                      "performance": rng.uniform(2, 4.5, k), "importance": rng.uniform(2, 5, k),
                      "importance_type": "stated",
                      "quadrant": ["Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"]
                      * (k // 4) + ["Low priority"] * (k % 4)})
    t.loc[0, "label"] = "Fees over $5 a month"
    return action.priority_list(t)


@pytest.fixture(scope="module")
def progress_table() -> pd.DataFrame:
    return action.progress(read_dataset("responses"), targets={"csat_top2": 0.8, "csi": 75, "nps": 30}, **KW)


# --------------------------------------------------------------------------- priorities
def test_plot_priorities_bars_title_and_escape():
    p = _priority()
    chart = pa.plot_priorities(p, top=5)
    ranked = p[p["rank"].notna()].sort_values("rank").head(5)
    bars = _marks(chart, "bar")
    assert [b["rank"] for b in bars] == [1, 2, 3, 4, 5]
    assert [b["label"] for b in bars] == ranked["label"].tolist()
    assert [b["value"] for b in bars] == pytest.approx(ranked["score"].tolist())
    assert [b["quadrant"] for b in bars] == ranked["quadrant"].tolist()
    first = ranked.iloc[0]
    assert chart.alt.startswith(f"Act first on {first['label']} (score {first['score']:.2g}, {first['quadrant']})")
    texts = _texts(chart)
    assert [t for t in texts if t.startswith("1. ")] == [f"1. {first['label']}"]
    for _i, r in ranked.iterrows():  # the value label (in one or two lines): score = importance x gap to its reference
        assert f"{r['score']:.2f} = {r['importance']:.2f} x {r['gap']:.2f} to {r['reference_type']}" in " ".join(texts)
    svg = _sound(chart)
    fees = int(p.loc[p["label"] == "Fees over $5 a month", "rank"].iloc[0])
    whole = pa.plot_priorities(p, top=12)
    assert f"{fees}. Fees over $5 a month" in _texts(whole) and "\\$" not in whole.svg(font=False)
    legend = [m["label"] for m in _marks(chart, "legend")]
    assert legend == [q for q in ["Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"]
                      if q in set(ranked["quadrant"])]
    # quadrants told apart by a hatch as well as the colour: every quadrant but "Concentrate here" is hatched
    assert len(re.findall(r"<pattern ", svg)) == len({q for q in ranked["quadrant"] if q != "Concentrate here"})


def test_plot_priorities_bar_lengths_follow_the_scores():
    p = _priority(8)
    chart = pa.plot_priorities(p)
    svg = chart.svg(font=False)
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" '
                                            r'fill="[^"]+" stroke="#000000"', svg)]
    scores = p[p["rank"].notna()].sort_values("rank")["score"].to_numpy(float)
    assert len(widths) >= len(scores)  # the bars, then the legend keys
    per_unit = widths[0] / scores[0]
    assert widths[:len(scores)] == pytest.approx(list(scores * per_unit), abs=0.15)


def test_plot_priorities_all_bars_mixed_warning_and_empty():
    p = _priority(6)
    p.attrs["mixed_references"] = True
    chart = pa.plot_priorities(p, top=10)
    assert len(_marks(chart, "bar")) == 6
    assert "not like-for-like" in chart.alt
    _sound(chart)
    # attributes without a rank (no score) are never drawn
    partly = p.copy()
    partly.loc[partly.index[-2:], "rank"] = pd.NA
    assert [b["label"] for b in _marks(pa.plot_priorities(partly), "bar")] == \
        partly[partly["rank"].notna()].sort_values("rank")["label"].tolist()
    none = p.assign(rank=pd.array([pd.NA] * len(p), dtype="Int64"))
    empty = pa.plot_priorities(none)
    assert empty.alt == "Priority list: no attribute has a score"
    assert "nothing to show" in _texts(empty) and empty.marks == []
    with pytest.raises(CsmError, match="`top` must be"):
        pa.plot_priorities(p, top=0)
    with pytest.raises(CsmError, match="`top` must be"):
        pa.plot_priorities(p, top=True)
    with pytest.raises(DataError, match="priority_list\\(\\)"):
        pa.plot_priorities(p.drop(columns="score"))


def test_plot_priorities_hostile_long_and_cjk_labels_fit():
    p = _priority(len(HOSTILE))
    p["label"] = HOSTILE
    chart = pa.plot_priorities(p)
    svg = _sound(chart)
    assert "&lt;script&gt;" in svg and "R&amp;D &amp; &lt;b&gt;" in svg
    assert [b["label"] for b in _marks(chart, "bar")] == p.sort_values("rank")["label"].tolist()
    assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku


# --------------------------------------------------------------------------- progress
def test_plot_progress_points_band_target_stars(progress_table):
    chart = pa.plot_progress(progress_table)
    assert chart.alt == ("2025-H2 to 2026-H1: CSAT, CSI and NPS rose significantly; "
                         "0 of 3 targets met in 2026-H1")
    points = _marks(chart, "point")
    assert len(points) == len(progress_table)
    for kpi in ["csat_top2", "csi", "nps"]:
        rows = progress_table[progress_table["kpi"] == kpi]
        got = [m for m in points if m["kpi"] == kpi]
        assert [m["wave"] for m in got] == rows["wave"].tolist()
        assert [m["value"] for m in got] == pytest.approx(rows["value"].tolist())
        assert [m["low"] for m in got] == pytest.approx(rows["ci_low"].tolist())
        assert [m["high"] for m in got] == pytest.approx(rows["ci_high"].tolist())
        assert [m["significant"] for m in got] == [v is True for v in rows["significant"]]
        assert [m["segment"] for m in got] == [None] * len(rows)
        assert [m["value"] for m in _marks(chart, "target") if m["kpi"] == kpi] == [rows["target"].iloc[-1]]
    texts = _texts(chart)
    for _i, r in progress_table.iterrows():
        assert format_kpi(r["kpi"], r["value"]) in texts
        if r["significant"] is True:
            assert format_change(r["kpi"], r["change"]) in texts
    assert "target 80.0%" in texts and "target 75.0" in texts
    assert [m["label"] for m in _marks(chart, "legend")] == ["estimate", "95% CI", "target",
                                                             "significant change vs previous wave"]
    svg = _sound(chart)
    stars = [p for p in re.findall(r'<polygon points="([^"]+)"', svg) if len(p.split()) == 10]
    assert len(stars) == int((progress_table["significant"] == True).sum()) + 1  # noqa: E712  (+ the legend's)


def test_plot_progress_single_wave_segments_and_removed_axes():
    df = read_dataset("responses")
    one = action.progress(df[df["wave"] == "2026-H1"], **KW)
    chart = pa.plot_progress(one)
    assert chart.alt == "Single wave (2026-H1): no change to test yet"
    assert "significant change vs previous wave" not in [m["label"] for m in _marks(chart, "legend")]
    assert len(_marks(chart, "point")) == len(one)
    _sound(chart)
    seg = action.progress(df, by="channel", **KW)
    chart = pa.plot_progress(seg)
    assert "in some segments" in chart.alt
    points = _marks(chart, "point")
    assert len(points) == int((~seg["suppressed"]).sum())
    for (channel, kpi), rows in seg.groupby(["channel", "kpi"], sort=False):
        got = [m for m in points if m["segment"] == channel and m["kpi"] == kpi]
        assert [m["value"] for m in got] == pytest.approx(rows["value"].tolist())
    legend = [m["label"] for m in _marks(chart, "legend")]
    assert legend[:seg["channel"].nunique()] == list(dict.fromkeys(seg["channel"]))
    _sound(chart)
    with pytest.raises(TypeError):
        pa.plot_progress(one, ax=None)


def test_plot_progress_suppressed_points_are_not_drawn(progress_table):
    t = progress_table.copy()
    hide = t.index[(t["wave"] == "2025-H2") & (t["kpi"] == "nps")]
    t.loc[hide, ["value", "ci_low", "ci_high"]] = math.nan
    t.loc[hide, "suppressed"] = True
    chart = pa.plot_progress(t)
    points = _marks(chart, "point")
    assert not [m for m in points if m["kpi"] == "nps" and m["wave"] == "2025-H2"]
    assert len(points) == len(t) - 1
    assert [(m["kpi"], m["wave"]) for m in _marks(chart, "suppressed")] == [("nps", "2025-H2")]
    assert _texts(chart).count("suppressed") == 1
    _sound(chart)
    # with segments: the panel says how many segments were left out at that wave
    df = read_dataset("responses")
    seg = action.progress(df, by="channel", **KW)
    first = seg["channel"].iloc[0]
    hide = seg.index[(seg["channel"] == first) & (seg["wave"] == "2026-H1")]
    seg.loc[hide, ["value", "ci_low", "ci_high"]] = math.nan
    seg.loc[hide, "suppressed"] = True
    chart = pa.plot_progress(seg)
    assert not [m for m in _marks(chart, "point") if m["segment"] == first and m["wave"] == "2026-H1"]
    assert len(_marks(chart, "suppressed")) == len(hide)
    assert _texts(chart).count("1 segment suppressed") == seg["kpi"].nunique()
    _sound(chart)
    # a KPI suppressed in every wave: its panel is still drawn, with no point
    t = progress_table.copy()
    hide = t["kpi"] == "csi"
    t.loc[hide, ["value", "ci_low", "ci_high"]] = math.nan
    t.loc[hide, "suppressed"] = True
    chart = pa.plot_progress(t)
    assert not [m for m in _marks(chart, "point") if m["kpi"] == "csi"]
    _sound(chart)


def test_plot_progress_hostile_waves_and_segments_fit(progress_table):
    waves = dict(zip(["2025-H2", "2026-H1"], HOSTILE[:2], strict=True))
    chart = pa.plot_progress(progress_table.assign(wave=progress_table["wave"].map(waves)))
    svg = _sound(chart)
    assert "&lt;script&gt;" in svg and "R&amp;D" in svg
    df = read_dataset("responses")
    seg = action.progress(df, by="channel", **KW)
    names = dict(zip(seg["channel"].unique(), HOSTILE[2:], strict=False))
    chart = pa.plot_progress(seg.assign(channel=seg["channel"].map(names)))
    _sound(chart)
    # many waves with long names: the wave names wrap under their points
    many = pd.concat([progress_table.assign(wave=progress_table["wave"] + f" fieldwork period {i}")
                      for i in range(4)], ignore_index=True)
    _sound(pa.plot_progress(many))


def test_plot_progress_empty_and_errors(progress_table):
    empty = pa.plot_progress(progress_table.iloc[:0])
    assert empty.alt == "Progress: nothing to show" and empty.marks == []
    with pytest.raises(DataError, match="progress\\(\\)"):
        pa.plot_progress(progress_table.drop(columns="ci_low"))


# --------------------------------------------------------------------------- SWOT
def _swot(n_threats: int = 3) -> pd.DataFrame:
    rows = [("Strength", "s1", "Staff courtesy: important to customers and performing well (Keep up the good work)."),
            ("Weakness", "w1", "Fees over $5: important to customers but performing below the other attributes."),
            ("Opportunity", "o1", "Waiting time: improved significantly since the previous wave — build on it.")]
    rows += [("Threat", f"t{i}", f"Attribute number {i} with a rather long label: rated significantly worse "
              "than the competitor on a question customers care about a great deal.") for i in range(n_threats)]
    return pd.DataFrame({"category": [r[0] for r in rows], "attribute": [r[1] for r in rows],
                         "label": [r[1] for r in rows], "statement": [r[2] for r in rows], "evidence": "x"})


def _cells(svg: str) -> list[tuple[float, float, float, float]]:
    """The SWOT cells (x0, y0, x1, y1), read from the SVG."""
    found = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="[^"]+" '
                       r'stroke="#000000" stroke-width="0.8"/>', svg)
    return [(float(x), float(y), float(x) + float(w), float(y) + float(h)) for x, y, w, h in found]


def test_plot_swot_grid_title_escape_and_fit():
    s = _swot(12)
    chart = pa.plot_swot(s, max_items=20)
    assert chart.alt == "SWOT from the data: 1 strength, 1 weakness, 1 opportunity, 12 threats"
    cells = _marks(chart, "cell")
    assert [(c["category"], c["count"]) for c in cells] == \
        [(c, int((s["category"] == c).sum())) for c in ["Strength", "Weakness", "Opportunity", "Threat"]]
    texts = _texts(chart)
    assert "Strengths (1)" in texts and "Threats (12)" in texts
    assert any("$5" in t for t in texts) and not any("\\$" in t for t in texts)
    threats = next(c for c in cells if c["category"] == "Threat")
    assert 0 < threats["shown"] < 12 and threats["more"] == 12 - threats["shown"]  # 12 long threats do not fit
    assert f"+ {threats['more']} more (see the table)" in texts
    items = _marks(chart, "item")
    assert [i["statement"] for i in items if i["category"] == "Threat"] == \
        s.loc[s["category"] == "Threat", "statement"].head(threats["shown"]).tolist()
    svg = _sound(chart)
    boxes = _cells(svg)
    assert len(boxes) == 4
    body = [t for t in chart.texts if not t.text.startswith("SWOT from the data")]
    for t in body:
        assert any(x0 <= t.x0 and t.x1 <= x1 and y0 <= t.y0 and t.y1 <= y1 for x0, y0, x1, y1 in boxes), t.text


def test_plot_swot_max_items_fontsize_empty_and_errors():
    chart = pa.plot_swot(_swot(5), max_items=2)
    threats = next(c for c in _marks(chart, "cell") if c["category"] == "Threat")
    assert (threats["shown"], threats["more"]) == (2, 3)
    assert "+ 3 more (see the table)" in _texts(chart)
    _sound(chart)
    assert pa.plot_swot(_swot(), fontsize=8).smallest_pt == 11  # never under 11 pt
    big = pa.plot_swot(_swot(), fontsize=14)
    assert {t.size_pt for t in big.texts} == {12.0, 14.0, 15.0}  # title, statements, headers
    _sound(big)
    empty = action.swot(pd.DataFrame({"attribute": ["a"], "performance": [3.0], "importance": [3.0],
                                      "quadrant": ["Low priority"]}))
    chart = pa.plot_swot(empty)
    assert chart.alt == "SWOT from the data: 0 strengths, 0 weaknesses, 0 opportunities, 0 threats"
    assert _texts(chart).count("none found in the data") == 4
    assert _marks(chart, "item") == []
    with pytest.raises(CsmError, match="`max_items` must be"):
        pa.plot_swot(_swot(), max_items=0)
    with pytest.raises(CsmError, match="`fontsize` must be"):
        pa.plot_swot(_swot(), fontsize="large")
    with pytest.raises(DataError, match="swot\\(\\)"):
        pa.plot_swot(_swot().drop(columns="statement"))


def test_plot_swot_hostile_and_cjk_statements_fit():
    s = _swot(len(HOSTILE))
    s.loc[s["category"] == "Threat", "statement"] = HOSTILE
    chart = pa.plot_swot(s)
    svg = _sound(chart)
    assert "&lt;script&gt;" in svg and "R&amp;D &amp; &lt;b&gt;" in svg
    assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku
    boxes = _cells(svg)
    for t in chart.texts[1:]:
        assert any(x0 <= t.x0 and t.x1 <= x1 for x0, _y0, x1, _y1 in boxes), t.text
