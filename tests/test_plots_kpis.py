"""Tests of csm_helpers.present.charts.kpis: each chart draws what the table says, in grey-scale, with
values, n and intervals labelled, and nothing drawn for suppressed rows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from csm_helpers.analysis import kpis, segments  # noqa: E402
from csm_helpers.core.errors import CsmError, DataError  # noqa: E402
from csm_helpers.present.charts import kpis as pk  # noqa: E402
from csm_helpers.study.datasets import read_dataset  # noqa: E402

from .plotting import (
    _report_style,  # noqa: F401  (autouse fixture)
)
from .plotting import in_palette as _in_palette
from .plotting import (
    texts as _texts,  # noqa: E402
)


def _bar_containers(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _bars(ax) -> list[Rectangle]:
    return [p for c in _bar_containers(ax) for p in c.patches]


def _all_grey(fig) -> bool:
    for artist in fig.findobj(lambda a: hasattr(a, "get_facecolor") and not isinstance(a, matplotlib.figure.Figure)):
        fc = artist.get_facecolor()
        colours = fc if isinstance(fc, np.ndarray) and fc.ndim == 2 else [fc]
        if not all(_in_palette(c) for c in colours):
            return False
    return True


SUMMARY = pd.DataFrame({
    "kpi": ["csat_top2", "csi", "nps"], "n": [400, 400, 3], "n_eff": [400.0, 400.0, 3.0],
    "value": [0.82, 71.0, np.nan], "ci_low": [0.78, 69.0, np.nan], "ci_high": [0.86, 73.0, np.nan],
    "method": ["Wilson", "t", "adjusted Wald"], "target": [0.8, 75.0, 30.0], "met": [True, False, None],
    "status": ["met", "not met: CI below target", "suppressed"], "suppressed": [False, False, True]})


# --------------------------------------------------------------------------- plot_kpis
def test_plot_kpis_panels_bars_targets_and_labels():
    panels = pk.plot_kpis(SUMMARY)
    assert len(panels) == 3
    assert panels[0].get_title() == "1 of 2 KPI targets met; CSI clearly below target; NPS suppressed"
    csat_bar, csi_bar = _bars(panels[0])[0], _bars(panels[1])[0]
    assert csat_bar.get_x() + csat_bar.get_width() == pytest.approx(0.82)
    assert csi_bar.get_x() + csi_bar.get_width() == pytest.approx(71.0)
    assert csat_bar.get_hatch() in (None, "") and csi_bar.get_hatch() == "////"  # met: solid; not met: hatched
    assert not _bar_containers(panels[2])  # suppressed: no bar
    for pax, target in zip(panels, (0.8, 75.0, 30.0), strict=True):  # target line even when suppressed
        assert any(list(line.get_xdata()) == [target, target] for line in pax.get_lines())
    t0, t1, t2 = _texts(panels[0]), _texts(panels[1]), _texts(panels[2])
    assert "82.0% (95% CI 78.0% to 86.0%)" in t0 and "  target 80.0%" in t0
    assert any("n = 400" in t for t in t0)
    assert "71.0 (95% CI 69.0 to 73.0)" in t1
    assert "suppressed (n < 5)" in t2 and not any("(95% CI" in t for t in t2)
    assert panels[0].get_xlim() == (0.0, 1.0) and panels[2].get_xlim() == (-100.0, 100.0)
    assert _all_grey(panels[0].figure)


def test_plot_kpis_on_given_axes_and_kwargs():
    fig, ax = plt.subplots()
    panels = pk.plot_kpis(SUMMARY, ax=ax, alpha=0.5)
    assert len(panels) == 3 and all(p.figure is fig for p in panels) and not ax.axison
    assert _bars(panels[0])[0].get_alpha() == 0.5
    fig, axes = plt.subplots(3, 1)
    panels = pk.plot_kpis(SUMMARY, ax=axes)
    assert list(panels) == list(axes)
    with pytest.raises(CsmError, match="pass one Axes or 3 Axes"):
        pk.plot_kpis(SUMMARY, ax=axes[:2])
    with pytest.raises(DataError, match="column 'ci_low' is missing"):
        pk.plot_kpis(SUMMARY.drop(columns="ci_low"))


def test_plot_kpis_from_the_real_summary():
    df = read_dataset("responses")
    s = kpis.kpi_summary(df, overall="overall_sat", scale=(1, 5), satisfaction_items=["sat_last_contact"],
                         scales={"sat_last_contact": (1, 5)}, recommend="recommend")
    panels = pk.plot_kpis(s)
    assert panels[0].get_title() == "Headline KPIs with confidence intervals (no targets set)"
    assert all(len(_bars(p)) == 1 for p in panels)


# --------------------------------------------------------------------------- plot_kpi_change
def test_plot_kpi_change():
    df = read_dataset("responses")
    ch = kpis.kpi_change(df, wave="wave", previous="2025-H2", latest="2026-H1", overall="overall_sat",
                         satisfaction_items=["sat_last_contact"],
                         scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend")
    ch.loc[2, ["previous", "latest", "change", "p_value", "statistic"]] = np.nan
    ch.loc[2, "suppressed"] = True
    panels = pk.plot_kpi_change(ch)
    assert panels[0].figure.get_suptitle().startswith("From 2025-H2 to 2026-H1: ")
    assert panels[0].figure.get_suptitle().endswith("NPS suppressed")
    # two points (previous, latest) in each shown panel, none in the suppressed one
    for pax in panels[:2]:
        pts = [line for line in pax.get_lines() if line.get_marker() == "o"]
        assert len(pts) == 2
    assert not [line for line in panels[2].get_lines() if line.get_marker() == "o"]
    texts = _texts(panels[0])
    row = ch.iloc[0]
    assert f"{row['latest'] * 100:.1f}%" in " ".join(texts)
    assert any(t.startswith("CSAT (top-2 box): ") and "pts" in t for t in texts)
    assert any("suppressed (n < 5 in a wave)" in t for t in _texts(panels[2]))
    assert any("2025-H2 (n = " in t for t in texts)
    assert _all_grey(panels[0].figure)


# --------------------------------------------------------------------------- plot_segment_means
def test_plot_segment_means_suppressed_and_escaped():
    g = pd.DataFrame({"group": ["Shop $1", "Shop 2", "Tiny"], "n": [120, 95, 3], "n_eff": [120.0, 95.0, np.nan],
                      "mean": [3.9, 3.5, np.nan], "sd": [0.8, 0.9, np.nan], "ci_low": [3.75, 3.3, np.nan],
                      "ci_high": [4.05, 3.7, np.nan], "suppressed": [False, False, True]})
    ax = pk.plot_segment_means(g, label="Overall satisfaction ($ scale)")
    texts = _texts(ax)
    assert ax.get_title() == r"Highest mean: Shop \$1 (3.90); lowest: Shop 2 (3.50); 1 segment suppressed"
    assert "suppressed (n < 5)" in texts
    assert len([line for line in ax.get_lines() if line.get_marker() == "o"]) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == [r"Shop \$1 (n = 120)", "Shop 2 (n = 95)",
                                                            "Tiny (fewer than 5)"]
    assert "  3.90 (3.75 to 4.05)" in texts
    assert _all_grey(ax.figure)


def test_plot_segment_means_names_why_a_segment_is_hidden():
    # Tiny (3) is below min_n; Mid (8) is hidden so that Tiny cannot be derived by difference
    df = pd.DataFrame({"seg": ["Big"] * 40 + ["Mid"] * 8 + ["Tiny"] * 3,
                       "y": np.tile([1.0, 2, 3, 4, 5], 11)[:51]})
    res = segments.compare_means(df, item="y", by="seg")
    texts = _texts(pk.plot_segment_means(res))
    assert "suppressed (n < 5)" in texts and "suppressed (protects a smaller segment)" in texts
    plt.close("all")


def test_plot_segment_means_from_compare_means():
    df = read_dataset("responses")
    res = segments.compare_means(df, item="overall_sat", by="region")
    fig, ax = plt.subplots()
    out = pk.plot_segment_means(res, ax=ax, color="black")
    assert out is ax
    assert "Welch ANOVA p" in ax.get_title()
    assert len([line for line in ax.get_lines() if line.get_marker() == "o"]) == df.region.nunique()


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
    ax = pk.plot_scorecard(sc)
    bars = _bars(ax)
    assert [b.get_width() for b in bars] == pytest.approx(sc["value"].tolist())
    worst = sc.loc[sc["value"].idxmin()]
    assert ax.get_title().startswith(f"Weakest dimension: {worst['dimension']} ({worst['value']:.1f})")
    texts = _texts(ax)
    assert any("n = 2,400" in t for t in texts)
    assert _all_grey(ax.figure)


def test_plot_scorecard_by_segment_with_suppression():
    dims, scales = _dims()
    sc = kpis.scorecard(read_dataset("responses"), dimensions=dims, scales=scales, by="region", min_n=300)
    ax = pk.plot_scorecard(sc, min_n=300)
    assert len(_bar_containers(ax)) == sc["region"].nunique()
    texts = _texts(ax)
    n_supp = int(sc["suppressed"].sum())
    n_small = int((sc["n"] < 300).sum())
    assert n_supp > n_small > 0 and texts.count("suppressed (n < 300)") == n_small
    # the regions hidden only so that a small one cannot be derived by difference say so
    assert texts.count("suppressed (protects a smaller segment)") == n_supp - n_small
    # suppressed cells have no bar length and no value label
    supp_regions = set(sc.loc[sc.suppressed, "region"])
    for region, cont in zip(dict.fromkeys(sc["region"]), _bar_containers(ax), strict=True):
        if region in supp_regions:
            assert all(p.get_width() == 0 for p in cont.patches)
    assert ax.get_legend() is not None
    assert any("(suppressed)" in t.get_text() for t in ax.get_legend().get_texts())
    assert not any(math.isnan(p.get_width()) for p in _bars(ax))


def test_empty_tables_do_not_crash():
    empty = SUMMARY.iloc[0:0]
    assert pk.plot_kpis(empty)[0].get_title() == "Headline KPIs: nothing to show"
    sc = pd.DataFrame(columns=["dimension", "n", "value", "ci_low", "ci_high", "suppressed"])
    assert pk.plot_scorecard(sc).get_title() == "Invisible scorecard: nothing to show"
