"""Shared by the chart tests: draw in the report style, and tell palette colours from others."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba

from csm_helpers.present.charts import style


@pytest.fixture(autouse=True)
def _report_style():
    """Draw as the reports do (report style), then restore matplotlib's settings and close figures.

    Autouse in every test module that imports it.
    """
    with mpl.rc_context():
        style.set_report_style()
        yield
    plt.close("all")


#: The Okabe & Ito (2008) colour-blind-safe palette, as published (not read from the code).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")


def in_palette(color) -> bool:
    """True for a transparent colour, a grey (equal red, green, blue), or an Okabe–Ito colour
    or one of its tints (the colour mixed with white), a tint written as ``#rrggbb`` allowed
    its 8-bit rounding (half a step of 1/255 a channel)."""
    r, g, b, a = to_rgba(color)
    if a == 0 or (abs(r - g) < 1e-9 and abs(g - b) < 1e-9):
        return True
    tol = 0.5 / 255 + 1e-9
    for hex_ in OKABE_ITO:
        pr, pg, pb, _a = to_rgba(hex_)
        # c = p + (1 - p) * f for one f in [0, 1): solve on the channel furthest from white
        channel = min((pr, r), (pg, g), (pb, b))
        if channel[0] >= 1:
            continue
        f = (channel[1] - channel[0]) / (1 - channel[0])
        if -tol <= f < 1 and all(abs(p + (1 - p) * f - c) < 2 * tol for p, c in ((pr, r), (pg, g), (pb, b))):
            return True
    return False


def texts(ax, *, whole_figure: bool = False) -> list[str]:
    """Every non-empty text of ``ax`` (or of its whole figure), after drawing it: a label that
    matplotlib cannot render as mathtext raises here."""
    ax.figure.canvas.draw()
    owner = ax.figure if whole_figure else ax
    return [t.get_text() for t in owner.findobj(mpl.text.Text) if t.get_text()]


def legend_texts(ax) -> list[str]:
    """The entries of the legend of ``ax``'s chart: an axes legend, or the figure legend that
    :func:`~csm_helpers.present.charts.style.legend_below` puts under a chart of its own."""
    legend = ax.get_legend() or next(iter(ax.get_figure().legends), None)
    assert legend is not None, "the chart has no legend"
    return [t.get_text() for t in legend.get_texts()]


# --------------------------------------------------------------------------- SVG charts (canvas.Chart)
def marks(chart, kind: str) -> list[dict]:
    """What a chart recorded of one kind ("bar", "dot", "legend"...), in drawing order."""
    return [m for m in chart.marks if m["kind"] == kind]


def chart_texts(chart) -> list[str]:
    """Every text the chart writes, as shown."""
    return [t.text for t in chart.texts]


def check_sheet(chart) -> str:
    """What every chart must be: no two texts overlapping, none under 11 pt, none off the
    sheet, every colour in the palette, no raw markup; returns its SVG (without a font)."""
    import re

    assert chart.overlaps() == []
    assert chart.smallest_pt >= 11
    assert all(t.x0 >= 0 and t.x1 <= chart.width and t.y0 >= 0 and t.y1 <= chart.height for t in chart.texts)
    svg = chart.svg(font=False)
    for colour in set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6})"', svg)):
        assert in_palette(colour), colour
    assert "<script>" not in svg
    return svg
