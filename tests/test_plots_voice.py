"""Tests of csm_helpers.present.charts.voice: each chart draws what its table says (checked on
``chart.marks`` against the table), with value labels and n, in the palette, with hatching
where status or series would otherwise be told by colour alone, and with customer text
escaped and laid out without overlap."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis.complaints import (
    OTHER_SUPPRESSED,
    complaint_iceberg,
    complaint_summary,
    lost_reasons,
)
from csm_helpers.analysis.loyalty import QUADRANTS, dick_basu
from csm_helpers.analysis.themes import comment_themes
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import language
from csm_helpers.present.charts.canvas import Chart
from csm_helpers.present.charts.voice import (
    plot_iceberg,
    plot_lost_reasons,
    plot_loyalty_matrix,
    plot_pareto,
    plot_themes,
)
from csm_helpers.study.config import Codebook, load_codebook, load_study
from csm_helpers.study.datasets import read_dataset, sample_study_path

from .plotting import chart_texts as _texts
from .plotting import check_sheet as _check_layout
from .plotting import marks as _marks

LONG = "<script>alert('x')</script> & $5 a month, a very long label that goes on and on about fees and charges"
CJK = "手机应用的可靠性（包括登录、转账和查询余额）。非常重要的因素"


@pytest.fixture(scope="module")
def sample():
    """The sample study's tables, built as the analysis notebook builds them."""
    study = load_study(sample_study_path())
    df = read_dataset("responses")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the small-expected-count caveat of lost_reasons
        reasons, fit = lost_reasons(read_dataset("lost_reasons"), reason=study.lost_customers.reason, min_n=5)
    cs = complaint_summary(read_dataset("complaints"), spec=study.complaints, customers=study.market.customers,
                           min_n=5)
    return {"quadrants": dick_basu(df, attitude="recommend", repeat="repeat_12m"), "complaints": cs,
            "pooled": complaint_summary(read_dataset("complaints"), spec=study.complaints, customers=None,
                                        min_n=20)["pareto"],
            "iceberg": complaint_iceberg(cs["n_complaints"]), "reasons": reasons, "fit": fit,
            "themes": comment_themes(df, text=study.responses.comments, id=study.responses.id,
                                     codebook=load_codebook(study), min_n=5)}











def _hatches(svg: str) -> list[str]:
    """The hatch of each hatched shape, in drawing order ("fwd", "back", "dots", "cross")."""
    return re.findall(r'fill="url\(#c[0-9a-f]+-[a-z-]+?-(fwd|back|dots|cross)-[0-9a-z]+\)"', svg)


def quadrants(shares=(0.35, 0.05, 0.4, 0.2), n=200) -> pd.DataFrame:
    return pd.DataFrame({"quadrant": list(QUADRANTS), "n": n, "count": [round(s * n) for s in shares],
                         "share": list(shares), "ci_low": [s - 0.05 for s in shares],
                         "ci_high": [s + 0.05 for s in shares], "suppressed": False})


# --------------------------------------------------------------------------- loyalty matrix
def test_loyalty_matrix_on_the_sample(sample):
    q = sample["quadrants"]
    chart = plot_loyalty_matrix(q)
    cells = _marks(chart, "cell")
    assert [c["quadrant"] for c in cells] == list(QUADRANTS)
    assert [c["value"] for c in cells] == q["share"].tolist()
    assert [c["low"] for c in cells] == q["ci_low"].tolist() and [c["high"] for c in cells] == q["ci_high"].tolist()
    # Loyalty: attached and repeating; Latent: attached only; Spurious: repeating only; No loyalty: neither
    assert [(c["attitude"], c["repeat"]) for c in cells] == [("high", "high"), ("high", "low"), ("low", "high"),
                                                             ("low", "low")]
    largest = q.loc[q["share"].idxmax()]
    loyal = float(q.loc[q["quadrant"] == "Loyalty", "share"].iloc[0])
    assert chart.alt.startswith(f"Largest group: {largest['quadrant']} ({100 * largest['share']:.0f}%)")
    assert chart.alt.endswith(f"; {100 * loyal:.0f}% loyal (n = {q['n'].iloc[0]:,})")
    texts = _texts(chart)
    for row in q.itertuples():
        assert row.quadrant in texts and f"{100 * row.share:.0f}%" in texts
        assert f"95% CI {100 * row.ci_low:.0f}%–{100 * row.ci_high:.0f}%" in texts
    assert {"Repeat patronage", "Relative attitude", "low", "high"} <= set(texts)
    svg = _check_layout(chart)
    # the four cells are told apart without colour: one plain, three hatched differently
    assert sorted(_hatches(svg)[:3]) == ["back", "dots", "fwd"]


def test_loyalty_matrix_level_and_missing_intervals():
    q = quadrants()
    q.attrs["level"] = 0.9
    assert "90% CI 30%–40%" in _texts(plot_loyalty_matrix(q))
    chart = plot_loyalty_matrix(quadrants().drop(columns=["ci_low", "ci_high"]))
    assert not any("CI" in t for t in _texts(chart))
    assert all(np.isnan(c["low"]) for c in _marks(chart, "cell"))
    _check_layout(chart)


def test_loyalty_matrix_from_dick_basu_groups_and_suppression():
    df = pd.DataFrame({"rec": [10, 9, 2, 7, 10, 10, 3], "rep": [1, 0, 1, 0, 1, 1, 0], "g": list("aaaaaab")})
    t = dick_basu(df, attitude="rec", repeat="rep", by="g")
    with pytest.raises(CsmError, match=r"several groups of 'g' — draw one group at a time"):
        plot_loyalty_matrix(t)
    # b (1 respondent) is below 5; a (6) is hidden with it, or "all" minus a would give b away
    chart = plot_loyalty_matrix(t[t["g"] == "a"])
    assert chart.alt == "Loyalty matrix suppressed so that a smaller group cannot be worked out by difference"
    assert chart.marks == [] and "nothing to show" in _texts(chart)
    chart = plot_loyalty_matrix(t[t["g"] == "b"])
    assert chart.alt == "Loyalty matrix suppressed: too few respondents (fewer than 5)" and chart.marks == []
    chart = plot_loyalty_matrix(dick_basu(df, attitude="rec", repeat="rep"))
    assert "Loyalty" in chart.alt and "n = 7" in chart.alt and len(_marks(chart, "cell")) == 4


def test_loyalty_matrix_errors_and_empty():
    with pytest.raises(CsmError, match=r"quadrant 'No loyalty' is missing"):
        plot_loyalty_matrix(quadrants().iloc[:3])
    with pytest.raises(DataError, match=r"column 'share'"):
        plot_loyalty_matrix(quadrants().drop(columns="share"))
    empty = plot_loyalty_matrix(quadrants().iloc[:0])
    assert empty.alt == "Loyalty matrix: nothing to show" and empty.marks == []


# --------------------------------------------------------------------------- Pareto
def test_pareto_on_the_sample(sample):
    p = sample["complaints"]["pareto"]
    chart = plot_pareto(p)
    bars = _marks(chart, "bar")
    assert [b["category"] for b in bars] == p["category"].tolist()
    assert [b["value"] for b in bars] == p["count"].astype(float).tolist()
    assert [c["value"] for c in _marks(chart, "cumulative")] == pytest.approx(p["cumulative_share"].tolist())
    assert _marks(chart, "reference") == [{"kind": "reference", "value": 0.8}]
    reach = int((p["cumulative_share"] < 0.8 - 1e-12).sum()) + 1
    assert chart.alt == f"{reach} of {len(p)} categories make up 80% of the {p['count'].sum():,} complaints"
    texts = _texts(chart)
    assert {f"{c:,}" for c in p["count"]} <= set(texts)
    assert {"80%", "Complaints", "Cumulative share"} <= set(texts)
    assert [m["label"] for m in _marks(chart, "legend")] == ["complaints", "cumulative share"]
    _check_layout(chart)


def test_pareto_draws_the_cumulative_share_and_the_80_line_on_their_axis(sample):
    """Read from the SVG: the dashed line stands at 80% of the way from the 0% tick to the 100%
    tick, and each cumulative dot where its share puts it."""
    p = sample["complaints"]["pareto"]
    svg = plot_pareto(p).svg(font=False)
    ticks = {v: float(x) for x, v in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(0%|100%)</text>',
                                                 svg)}
    x0, x1 = ticks["0%"], ticks["100%"]
    dashed = re.findall(r'<line x1="([\d.]+)" y1="[\d.]+" x2="[\d.]+" y2="[\d.]+" stroke="#[0-9A-Fa-f]+" '
                        r'stroke-width="[\d.]+" stroke-dasharray', svg)
    assert len(dashed) == 1 and float(dashed[0]) == pytest.approx(x0 + 0.8 * (x1 - x0), abs=0.15)
    dots = [float(x) for x in re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="3.5"', svg)]
    assert dots == pytest.approx([x0 + v * (x1 - x0) for v in p["cumulative_share"]], abs=0.15)


def test_pareto_pooled_category_is_hatched_and_named_in_the_report_language(sample):
    p = sample["pooled"]
    assert p["category"].iloc[-1] == OTHER_SUPPRESSED
    chart = plot_pareto(p)
    bars = _marks(chart, "bar")
    assert [b["pooled"] for b in bars] == [False] * (len(p) - 1) + [True]
    svg = _check_layout(chart)
    assert _hatches(svg) == ["cross"]  # the pooled bar only
    with language("vi"):
        vi = plot_pareto(p)
    assert vi.marks[len(p) - 1]["label"] != OTHER_SUPPRESSED and vi.marks[len(p) - 1]["category"] == OTHER_SUPPRESSED


def test_pareto_one_category_empty_and_errors():
    one = pd.DataFrame({"category": ["fees"], "count": [7], "share": [1.0], "cumulative_share": [1.0]})
    chart = plot_pareto(one)
    assert chart.alt == "1 of 1 category makes up 80% of the 7 complaints"
    _check_layout(chart)
    empty = pd.DataFrame({"category": [], "count": [], "share": [], "cumulative_share": []})
    chart = plot_pareto(empty)
    assert "nothing to show" in chart.alt and chart.marks == []
    with pytest.raises(DataError, match=r"Pareto table: column 'cumulative_share'"):
        plot_pareto(one.drop(columns="cumulative_share"))


# --------------------------------------------------------------------------- iceberg
def test_iceberg_tip_above_the_waterline_and_labels(sample):
    ice = sample["iceberg"]
    chart = plot_iceberg(ice)
    layers = _marks(chart, "layer")
    rows = ice.set_index("layer")
    assert [m["layer"] for m in layers] == ["formal", "elsewhere", "silent"]
    assert [m["share"] for m in layers] == rows.loc[["formal", "elsewhere", "silent"], "share"].tolist()
    assert [m["customers"] for m in layers] == rows.loc[["formal", "elsewhere", "silent"],
                                                        "estimated_customers"].tolist()
    water = _marks(chart, "waterline")[0]["y"]
    formal, elsewhere, silent = layers
    assert formal["bottom"] == water and formal["top"] < water  # the tip is above the waterline
    assert elsewhere["top"] == water and silent["top"] == elsewhere["bottom"]
    # heights are proportional to the shares
    per_share = [(m["bottom"] - m["top"]) / m["share"] for m in layers]
    assert per_share == pytest.approx([per_share[0]] * 3)
    texts = " ".join(_texts(chart))
    for row in ice.iloc[:3].itertuples():
        assert f"{row.label}: {row.estimated_customers:,.0f} ({100 * row.share:.0f}%)" in texts
    n = int(rows.loc["formal", "estimated_customers"])
    assert chart.alt == f"{n:,} formal complaints stand for about {n / 0.05:,.0f} dissatisfied customers"
    assert "Assumed shares: 5% complain formally, 35% voice it elsewhere, 60% say nothing" in texts
    assert "waterline" in texts
    _check_layout(chart)


@pytest.mark.parametrize("shares", [(0.3, 0.02, 0.68), (0.05, 0.9, 0.05), (1.0, 0.0, 0.0), (0.01, 0.0, 0.99)])
def test_iceberg_extreme_shares_keep_labels_apart(shares):
    f, e, s = shares
    chart = plot_iceberg(complaint_iceberg(1234567, formal=f, elsewhere=e, silent=s))
    _check_layout(chart)
    layers = _marks(chart, "layer")
    assert [m["bottom"] - m["top"] for m in layers] == pytest.approx([250 * v for v in shares])


def test_iceberg_requires_the_layers():
    with pytest.raises(CsmError, match=r"layer 'silent' is missing"):
        plot_iceberg(complaint_iceberg(10).iloc[:2])
    with pytest.raises(DataError, match=r"column 'estimated_customers'"):
        plot_iceberg(complaint_iceberg(10).drop(columns="estimated_customers"))


# --------------------------------------------------------------------------- lost reasons
def test_lost_reasons_observed_vs_benchmark():
    t = pd.DataFrame({"reason": ["died", "competitor", "staff_indifference"], "n": [1, 49, 150],
                      "share": [0.005, 0.245, 0.75], "benchmark_share": [0.01, 0.09, 0.9]})
    chart = plot_lost_reasons(t, test={"p_value": 0.0004, "p_value_mc": float("nan"), "n": 200})
    bars = _marks(chart, "bar")
    assert [b["value"] for b in bars if b["series"] == "observed"] == t["share"].tolist()
    assert [b["value"] for b in bars if b["series"] == "benchmark"] == t["benchmark_share"].tolist()
    assert [b["label"] for b in bars if b["series"] == "observed"] == ["Died", "Competitor", "Staff indifference"]
    assert chart.alt == ("Competitor: 24% of lost customers vs 9% in the benchmark (+16 pts; n = 200) "
                         "Different from the benchmark: chi-square test, p < 0.001")
    assert "0.5%" in _texts(chart)  # a small share does not show as "0%"
    svg = _check_layout(chart)
    assert _hatches(svg) == ["fwd"] * 4  # the three benchmark bars and their legend key
    assert [m["label"] for m in _marks(chart, "legend")] == ["lost customers", "benchmark"]


def test_lost_reasons_on_the_sample_with_the_monte_carlo_test(sample):
    t, fit = sample["reasons"], sample["fit"]
    chart = plot_lost_reasons(t, test=fit)
    bars = _marks(chart, "bar")
    assert [b["reason"] for b in bars[::2]] == t["reason"].tolist()
    assert [b["value"] for b in bars[::2]] == t["share"].tolist()
    assert [b["value"] for b in bars[1::2]] == t["benchmark_share"].tolist()
    k = (t["share"] - t["benchmark_share"]).idxmax()
    label = str(t["reason"].iloc[k]).replace("_", " ").capitalize()
    assert chart.alt.startswith(f"{label}: {100 * t['share'].iloc[k]:.0f}% of lost customers")
    assert chart.alt.endswith(f"Monte-Carlo test, p = {fit['p_value_mc']:.3f}")
    assert "Share of lost customers" in _texts(chart)
    _check_layout(chart)


def test_lost_reasons_suppressed_empty_and_missing_columns():
    t = pd.DataFrame({"reason": ["died"], "share": [np.nan], "benchmark_share": [1.0]})
    chart = plot_lost_reasons(t)
    assert "suppressed" in chart.alt and chart.marks == []
    assert "nothing to show" in plot_lost_reasons(t.iloc[:0]).alt
    with pytest.raises(DataError, match=r"column 'benchmark_share' is missing"):
        plot_lost_reasons(pd.DataFrame({"reason": ["x"], "share": [1.0]}))


# --------------------------------------------------------------------------- themes
CB = Codebook.model_validate({"attributes": [
    {"id": "wait", "label": "Waiting $time$", "dimension": "process", "keywords": ["queue", "排队"]},
    {"id": "fees", "label": "Fees ($ per month)", "dimension": "product", "keywords": ["fee", "phí"]},
    {"id": "staff", "label": "Thái độ nhân viên", "dimension": "people", "keywords": ["rude"]},
]})


def test_themes_bars_shading_labels_and_title():
    df = pd.DataFrame({"rid": range(10), "c": ["queue", "排队", "queue fee", "phí", "rude", "ok", "ok", "queue",
                                                "", ""]})
    t = comment_themes(df, text="c", id="rid", codebook=CB, min_n=5)
    chart = plot_themes(t)
    bars = _marks(chart, "bar")
    expected = t.sort_values("share_of_commenters", ascending=False)
    assert [b["label"] for b in bars] == expected["label"].tolist()
    assert [b["value"] for b in bars] == pytest.approx((expected["mentions"] / expected["n_commenters"]).tolist())
    assert [b["mentions"] for b in bars] == expected["mentions"].astype(float).tolist()
    assert [b["dimension"] for b in bars] == ["process", "product", "people"]
    assert chart.alt == "Most mentioned: Waiting $time$ (50% of 8 commenters)"
    assert "50% (4)" in _texts(chart)
    assert "Share of respondents with a comment who mention the theme (mentions)" in _texts(chart)
    svg = _check_layout(chart)
    assert _hatches(svg)[:2] == ["fwd", "dots"]  # process hatched, people dotted, product plain
    assert [m["label"] for m in _marks(chart, "legend")] == ["product", "process", "people"]


def test_themes_on_the_sample_bar_lengths_follow_the_axis(sample):
    t = sample["themes"]
    chart = plot_themes(t)
    bars = _marks(chart, "bar")
    order = t.sort_values(["share_of_commenters", "mentions"], ascending=False, kind="stable")
    assert [b["label"] for b in bars] == order["label"].tolist()
    assert [b["value"] for b in bars] == order["share_of_commenters"].tolist()
    svg = _check_layout(chart)
    ticks = {float(v): float(x) for x, v in re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)%</text>', svg)}
    (v0, x0), (v1, x1) = sorted(ticks.items())[:2]
    per_unit = (x1 - x0) / (v1 - v0)
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" '
                                            r'fill="(?:#[0-9A-Fa-f]{6}|url\(#[\w-]+\))" stroke', svg)]
    assert widths[:len(bars)] == pytest.approx([100 * b["value"] * per_unit for b in bars], abs=0.15)


def test_themes_groups_and_suppression():
    # b (4) is below the minimum cell size; c (3) too, so the two protect each other and a shows
    df = pd.DataFrame({"rid": range(15), "c": ["queue"] * 15, "g": ["a"] * 8 + ["b"] * 4 + ["c"] * 3})
    t = comment_themes(df, text="c", id="rid", codebook=CB, by="g")
    with pytest.raises(CsmError, match=r"several groups of 'g'"):
        plot_themes(t)
    assert plot_themes(t[t["g"] == "a"]).alt.startswith("Most mentioned: Waiting")
    chart = plot_themes(t[t["g"] == "b"])
    assert "suppressed" in chart.alt and chart.marks == []
    assert "nothing to show" in plot_themes(t.iloc[:0]).alt


def test_a_suppressed_theme_gets_no_bar():
    t = pd.DataFrame({"label": ["Waiting", "Fees", "Staff"], "dimension": ["process", "product", "other"],
                      "mentions": pd.array([40, None, 5], dtype="Int64"), "n_commenters": 100,
                      "share_of_commenters": [0.4, np.nan, 0.05], "suppressed": [False, True, False]})
    chart = plot_themes(t)
    assert [b["label"] for b in _marks(chart, "bar")] == ["Waiting", "Staff"]
    assert _marks(chart, "suppressed") == [{"kind": "suppressed", "label": "Fees"}]
    assert "suppressed" in _texts(chart)
    svg = _check_layout(chart)
    assert _hatches(svg)[:2] == ["fwd", "cross"]  # process; a dimension outside the three: cross-hatched grey


# --------------------------------------------------------------------------- every chart
def _hostile_charts(sample) -> list[Chart]:
    p = sample["pooled"].copy()
    p.loc[0, "category"], p.loc[1, "category"] = LONG, CJK
    th = sample["themes"].copy()
    th.loc[0, "label"], th.loc[1, "label"] = LONG, CJK
    lost = pd.DataFrame({"reason": [LONG, CJK, "$$ rate"], "n": [5, 5, 10], "share": [0.25, 0.25, 0.5],
                         "benchmark_share": [0.3, 0.3, 0.4]})
    ice = complaint_iceberg(7)
    ice.loc[:, "label"] = [LONG, CJK, "Phản ánh ở nơi khác $", "all"]
    return [plot_pareto(p), plot_themes(th), plot_lost_reasons(lost), plot_iceberg(ice)]


def test_long_hostile_and_cjk_labels_are_escaped_and_fit(sample):
    for chart in _hostile_charts(sample):
        svg = _check_layout(chart)
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        assert "& " not in svg.replace("&amp; ", "")
        assert not any(t.text.startswith(("）", "，", "。")) for t in chart.texts)  # kinsoku
    with language("zh"):
        for chart in [plot_loyalty_matrix(sample["quadrants"]), *_hostile_charts(sample)]:
            _check_layout(chart)
    with language("vi"):
        for chart in [plot_loyalty_matrix(sample["quadrants"]), *_hostile_charts(sample)]:
            _check_layout(chart)


def test_every_chart_writes_only_the_canvas_elements(sample):
    from csm_helpers.present.charts.canvas import ELEMENTS

    charts = [plot_loyalty_matrix(sample["quadrants"]), plot_pareto(sample["pooled"]),
              plot_iceberg(sample["iceberg"]), plot_lost_reasons(sample["reasons"], test=sample["fit"]),
              plot_themes(sample["themes"])]
    for chart in charts:
        tags = set(re.findall(r"<([a-z]+)[ >/]", chart.svg(font=False)))
        assert tags <= ELEMENTS, tags - ELEMENTS
