"""Tests of csm_helpers.present.charts.action: titles say what to see, one mark per row, `$` escaped,
kwargs reach matplotlib, text stays inside the SWOT cells, figures are closed (Agg backend: conftest)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis import action
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.present.charts import action as pa
from csm_helpers.study.datasets import read_dataset

KW = dict(wave="wave", overall="overall_sat", satisfaction_items=["sat_last_contact"],
          scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend")


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


def _closed(fig) -> bool:
    plt.close(fig)
    return fig.number not in plt.get_fignums()


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
    ax = pa.plot_priorities(p, top=5, color="0.3")
    assert len(ax.containers[0]) == 5
    widths = [b.get_width() for b in ax.containers[0]]
    assert widths == pytest.approx(p["score"].head(5).tolist())
    first = p.iloc[0]
    assert ax.get_title().startswith(f"Act first on {first['label'].replace('$', chr(92) + '$')}")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("1. ")
    escaped = [t for t in labels if "$" in t]
    assert all("\\$" in t for t in escaped)
    assert all(np.allclose(b.get_facecolor()[:3], matplotlib.colors.to_rgb("0.3")) for b in ax.containers[0])
    assert _closed(ax.figure)


def test_plot_priorities_all_bars_mixed_warning_and_empty():
    p = _priority(6)
    p.attrs["mixed_references"] = True
    ax = pa.plot_priorities(p, top=10)
    assert len(ax.containers[0]) == 6
    assert "not like-for-like" in ax.get_title()
    none = p.assign(rank=pd.array([pd.NA] * len(p), dtype="Int64"))
    ax2 = pa.plot_priorities(none)
    assert ax2.get_title() == "Priority list: no attribute has a score"
    with pytest.raises(CsmError, match="`top` must be"):
        pa.plot_priorities(p, top=0)
    with pytest.raises(DataError, match="priority_list\\(\\)"):
        pa.plot_priorities(p.drop(columns="score"))


# --------------------------------------------------------------------------- progress
def test_plot_progress_panels_band_target_stars(progress_table):
    panels = pa.plot_progress(progress_table)
    assert len(panels) == 3
    fig = panels[0].figure
    assert fig.get_suptitle() == ("2025-H2 to 2026-H1: CSAT, CSI and NPS rose significantly; "
                                  "0 of 3 targets met in 2026-H1")
    for pax, kpi in zip(panels, ["csat_top2", "csi", "nps"], strict=True):
        rows = progress_table[progress_table["kpi"] == kpi]
        line = pax.lines[0]
        assert np.asarray(line.get_ydata(), float) == pytest.approx(rows["value"].to_numpy())
        assert len(pax.collections) >= 1  # the CI band
        target = rows["target"].iloc[0]
        assert any(np.allclose(ln.get_ydata(), [target, target]) for ln in pax.lines)
        stars = [ln for ln in pax.lines if ln.get_marker() == "*"]
        assert len(stars) == int(rows["significant"].map(lambda v: v is True).sum())
    assert _closed(fig)


def test_plot_progress_single_wave_segments_and_given_axes():
    df = read_dataset("responses")
    one = action.progress(df[df["wave"] == "2026-H1"], **KW)
    panels = pa.plot_progress(one)
    assert panels[0].figure.get_suptitle() == "Single wave (2026-H1): no change to test yet"
    seg = action.progress(df, by="channel", **KW)
    panels = pa.plot_progress(seg)
    assert len(panels[0].lines) >= 2  # one line per segment
    assert "in some segments" in panels[0].figure.get_suptitle()
    fig, axes = plt.subplots(1, 3)
    got = pa.plot_progress(one, ax=axes)
    assert list(got) == list(axes)
    with pytest.raises(CsmError, match="pass one Axes or 3 Axes"):
        pa.plot_progress(one, ax=axes[:2])
    assert _closed(fig)


# --------------------------------------------------------------------------- SWOT
def _swot(n_threats: int = 3) -> pd.DataFrame:
    rows = [("Strength", "s1", "Staff courtesy: important to customers and performing well (Keep up the good work)."),
            ("Weakness", "w1", "Fees over $5: important to customers but performing below the other attributes."),
            ("Opportunity", "o1", "Waiting time: improved significantly since the previous wave — build on it.")]
    rows += [("Threat", f"t{i}", f"Attribute number {i} with a rather long label: rated significantly worse "
              "than the competitor on a question customers care about a great deal.") for i in range(n_threats)]
    return pd.DataFrame({"category": [r[0] for r in rows], "attribute": [r[1] for r in rows],
                         "label": [r[1] for r in rows], "statement": [r[2] for r in rows], "evidence": "x"})


def test_plot_swot_grid_title_escape_and_fit():
    ax = pa.plot_swot(_swot(12), max_items=20)
    assert ax.get_title() == "SWOT from the data: 1 strength, 1 weakness, 1 opportunity, 12 threats"
    assert len(ax.patches) == 4
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == "Strengths (1)" and "Threats (12)" in texts
    assert any("\\$5" in t for t in texts)
    body = [t for t in ax.texts if t.get_text().startswith("•") or t.get_text().startswith("+")]
    assert any("more (see the table)" in t.get_text() for t in body)  # 12 long threats do not fit
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    cells = [p.get_window_extent(renderer) for p in ax.patches]
    for t in ax.texts:
        bb = t.get_window_extent(renderer)
        assert any(c.x0 - 1 <= bb.x0 and bb.x1 <= c.x1 + 1 and c.y0 - 1 <= bb.y0 and bb.y1 <= c.y1 + 1
                   for c in cells), t.get_text()[:60]
    assert _closed(fig)


def test_plot_swot_max_items_empty_and_errors():
    ax = pa.plot_swot(_swot(5), max_items=2)
    threats = [t.get_text() for t in ax.texts if "more (see the table)" in t.get_text()]
    assert threats and threats[0].endswith("+ 3 more (see the table)")
    empty = action.swot(pd.DataFrame({"attribute": ["a"], "performance": [3.0], "importance": [3.0],
                                      "quadrant": ["Low priority"]}))
    ax2 = pa.plot_swot(empty)
    assert ax2.get_title() == "SWOT from the data: 0 strengths, 0 weaknesses, 0 opportunities, 0 threats"
    assert sum("none found in the data" in t.get_text() for t in ax2.texts) == 4
    with pytest.raises(CsmError, match="`max_items` must be"):
        pa.plot_swot(_swot(), max_items=0)
    with pytest.raises(DataError, match="swot\\(\\)"):
        pa.plot_swot(_swot().drop(columns="statement"))
