"""Tests of csm_helpers.present.charts.voice: each chart draws what its table says, in grey-scale, with
value labels and n, and never reads customer text as mathtext."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import cbook  # noqa: E402

from csm_helpers.analysis.complaints import OTHER_SUPPRESSED, complaint_iceberg  # noqa: E402
from csm_helpers.analysis.loyalty import QUADRANTS, dick_basu  # noqa: E402
from csm_helpers.analysis.themes import comment_themes  # noqa: E402
from csm_helpers.core.errors import CsmError, DataError  # noqa: E402
from csm_helpers.present.charts.voice import (  # noqa: E402
    plot_iceberg,
    plot_lost_reasons,
    plot_loyalty_matrix,
    plot_pareto,
    plot_themes,
)
from csm_helpers.study.config import Codebook  # noqa: E402

from .plotting import (
    _report_style,  # noqa: F401  (autouse fixture)
    texts,  # noqa: E402
)
from .plotting import in_palette as _in_palette


def _texts(ax) -> list[str]:
    return texts(ax, whole_figure=True)


def _no_mathtext(ax) -> None:
    for text in _texts(ax):
        assert not cbook.is_math_text(text), text


def quadrants(shares=(0.35, 0.05, 0.4, 0.2), n=200) -> pd.DataFrame:
    return pd.DataFrame({"quadrant": list(QUADRANTS), "n": n, "count": [round(s * n) for s in shares],
                         "share": list(shares), "ci_low": [s - 0.05 for s in shares],
                         "ci_high": [s + 0.05 for s in shares], "suppressed": False})


# --------------------------------------------------------------------------- loyalty matrix
def test_loyalty_matrix_cells_labels_and_title():
    ax = plot_loyalty_matrix(quadrants(), alpha=0.9)
    cells = ax.containers[0].patches
    assert len(cells) == 4
    # Loyalty top right, Latent top left, Spurious bottom right, No loyalty bottom left.
    assert [(c.get_x(), c.get_y()) for c in cells] == [(1, 1), (0, 1), (1, 0), (0, 0)]
    assert all(_in_palette(c.get_facecolor()) for c in cells) and cells[0].get_alpha() == 0.9
    assert len({(tuple(c.get_facecolor()), c.get_hatch()) for c in cells}) == 4  # told apart without colour
    texts = _texts(ax)
    for name, pct in zip(QUADRANTS, ("35%", "5%", "40%", "20%"), strict=True):
        assert any(name in t and pct in t for t in texts), name
    assert ax.get_title() == ("Largest group: Spurious loyalty (40%), repeat without attachment; 35% loyal "
                              "(n = 200)")
    assert ax.get_xlabel() == "Repeat patronage" and ax.get_ylabel() == "Relative attitude"


def test_loyalty_matrix_from_dick_basu_groups_and_suppression():
    df = pd.DataFrame({"rec": [10, 9, 2, 7, 10, 10, 3], "rep": [1, 0, 1, 0, 1, 1, 0], "g": list("aaaaaab")})
    t = dick_basu(df, attitude="rec", repeat="rep", by="g")
    with pytest.raises(CsmError, match=r"several groups of 'g' — draw one group at a time"):
        plot_loyalty_matrix(t)
    # b (1 respondent) is below 5; a (6) is hidden with it, or "all" minus a would give b away
    ax = plot_loyalty_matrix(t[t["g"] == "a"])
    assert ax.get_title() == "Loyalty matrix suppressed so that a smaller group cannot be worked out by difference"
    ax = plot_loyalty_matrix(t[t["g"] == "b"])
    assert ax.get_title() == "Loyalty matrix suppressed: too few respondents (fewer than 5)" and not ax.containers
    ax = plot_loyalty_matrix(dick_basu(df, attitude="rec", repeat="rep"))
    assert "Loyalty" in ax.get_title() and "n = 7" in ax.get_title() and ax.containers


def test_given_axes_are_used_and_returned():
    fig, axes = plt.subplots(1, 2)
    assert plot_loyalty_matrix(quadrants(), ax=axes[1]) is axes[1]
    assert not axes[0].containers


# --------------------------------------------------------------------------- Pareto
def test_pareto_bars_cumulative_line_and_pooled_bar():
    p = pd.DataFrame({"category": ["fees $5", "app", OTHER_SUPPRESSED], "count": [60, 30, 10],
                      "share": [0.6, 0.3, 0.1], "cumulative_share": [0.6, 0.9, 1.0]})
    ax = plot_pareto(p, linewidth=1.5)
    bars = ax.containers[0].patches
    assert [b.get_height() for b in bars] == [60, 30, 10]
    assert bars[2].get_hatch() == "xx" and not bars[0].get_hatch()
    assert all(_in_palette(b.get_facecolor()) for b in bars) and bars[0].get_linewidth() == 1.5
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([60, 90, 100])
    assert ax.lines[1].get_ydata()[0] == pytest.approx(80)
    assert ax.get_title() == "2 of 3 categories make up 80% of the 100 complaints"
    texts = _texts(ax)
    assert {"60", "30", "10"} <= set(texts)
    _no_mathtext(ax)


def test_pareto_empty():
    empty = pd.DataFrame({"category": [], "count": [], "share": [], "cumulative_share": []})
    assert "nothing to show" in plot_pareto(empty).get_title()


# --------------------------------------------------------------------------- iceberg
def test_iceberg_tip_above_the_waterline_and_labels():
    ax = plot_iceberg(complaint_iceberg(100))
    water, formal, elsewhere, silent = ax.patches[:4]
    ys = [p.get_xy()[:, 1] for p in (formal, elsewhere, silent)]
    assert ys[0].min() == pytest.approx(0) and ys[0].max() == pytest.approx(0.05)
    assert ys[1].max() == pytest.approx(0) and ys[1].min() == pytest.approx(-0.35)
    assert ys[2].max() == pytest.approx(-0.35) and ys[2].min() == pytest.approx(-0.95)
    assert all(_in_palette(p.get_facecolor()) for p in ax.patches)
    texts = _texts(ax)
    assert any("Complained formally: 100 (5%)" in t for t in texts)
    assert any("700 (35%)" in t for t in texts) and any("1,200 (60%)" in t for t in texts)
    assert ax.get_title() == "100 formal complaints stand for about 2,000 dissatisfied customers"
    assert "5% complain formally" in ax.get_xlabel()


def test_iceberg_requires_the_layers():
    with pytest.raises(CsmError, match=r"layer 'silent' is missing"):
        plot_iceberg(complaint_iceberg(10).iloc[:2])


# --------------------------------------------------------------------------- lost reasons
def test_lost_reasons_observed_vs_benchmark():
    t = pd.DataFrame({"reason": ["died", "competitor", "staff_indifference"], "n": [1, 49, 150],
                      "share": [0.005, 0.245, 0.75], "benchmark_share": [0.01, 0.09, 0.9]})
    ax = plot_lost_reasons(t, test={"p_value": 0.0004, "p_value_mc": float("nan"), "n": 200})
    obs, bench = ax.containers[0].patches, ax.containers[1].patches
    assert [b.get_width() for b in obs] == pytest.approx([0.005, 0.245, 0.75])
    assert [b.get_width() for b in bench] == pytest.approx([0.01, 0.09, 0.9])
    assert all(b.get_hatch() == "///" for b in bench) and all(_in_palette(b.get_facecolor()) for b in obs)
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == ["Died", "Competitor", "Staff indifference"]
    assert ax.get_title().splitlines() == [
        "Competitor: 24% of lost customers vs 9% in the benchmark (+16 pts; n = 200)",
        "Different from the benchmark: chi-square test, p < 0.001"]
    assert any(s.strip() == "0.5%" for s in _texts(ax))  # a small share does not show as "0%"


def test_lost_reasons_suppressed_and_missing_columns():
    t = pd.DataFrame({"reason": ["died"], "share": [np.nan], "benchmark_share": [1.0]})
    assert "suppressed" in plot_lost_reasons(t).get_title()
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
    ax = plot_themes(t, edgecolor="black")
    bars = ax.containers[0].patches
    assert [b.get_width() for b in bars] == pytest.approx([4 / 8, 2 / 8, 1 / 8])
    assert [b.get_hatch() or "" for b in bars] == ["///", "", ".."]  # process, product, people
    assert all(_in_palette(b.get_facecolor()) for b in bars)
    assert ax.get_title() == "Most mentioned: Waiting \\$time\\$ (50% of 8 commenters)"
    texts = _texts(ax)
    assert any(s.strip() == "50% (4)" for s in texts)
    _no_mathtext(ax)


def test_themes_groups_and_suppression():
    # b (4) is below the minimum cell size; c (3) too, so the two protect each other and a shows
    df = pd.DataFrame({"rid": range(15), "c": ["queue"] * 15, "g": ["a"] * 8 + ["b"] * 4 + ["c"] * 3})
    t = comment_themes(df, text="c", id="rid", codebook=CB, by="g")
    with pytest.raises(CsmError, match=r"several groups of 'g'"):
        plot_themes(t)
    assert plot_themes(t[t["g"] == "a"]).get_title().startswith("Most mentioned: Waiting")
    assert "suppressed" in plot_themes(t[t["g"] == "b"]).get_title()


def test_every_chart_renders_chinese_vietnamese_and_dollar_text():
    p = pd.DataFrame({"category": ["手续费 $", "Phí dịch vụ"], "count": [9, 6], "share": [0.6, 0.4],
                      "cumulative_share": [0.6, 1.0]})
    lost = pd.DataFrame({"reason": ["$$ rate", "staff"], "n": [5, 5], "share": [0.5, 0.5],
                         "benchmark_share": [0.3, 0.7]})
    for ax in (plot_pareto(p), plot_lost_reasons(lost), plot_loyalty_matrix(quadrants()),
               plot_iceberg(complaint_iceberg(7))):
        _no_mathtext(ax)
