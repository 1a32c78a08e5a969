"""Shared by the chart tests: draw in the report style, and tell grey from colour."""

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


def is_grey(color) -> bool:
    """True for a fully transparent colour or one with equal red, green and blue."""
    r, g, b, a = to_rgba(color)
    return a == 0 or (abs(r - g) < 1e-9 and abs(g - b) < 1e-9)


def texts(ax, *, whole_figure: bool = False) -> list[str]:
    """Every non-empty text of ``ax`` (or of its whole figure), after drawing it: a label that
    matplotlib cannot render as mathtext raises here."""
    ax.figure.canvas.draw()
    owner = ax.figure if whole_figure else ax
    return [t.get_text() for t in owner.findobj(mpl.text.Text) if t.get_text()]
