"""The chart toolkit every report chart uses: the print style, the grey palette, a new Axes,
a legend below the plot, the "nothing to show" chart, label escaping and shortening, the
input-table check, and confidence-interval error bars.

Charts are made for print: shades of grey with hatching and value labels carry the meaning,
never colour alone. Labels can hold customer wording: :func:`mathtext_escape` escapes ``$`` so
that matplotlib never reads it as the start of a mathematical expression, and :func:`drawing`
switches TeX rendering off while drawing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes

from csm_helpers.core.checks import require_table
from csm_helpers.core.i18n import _

__all__ = [
    "REPORT_FONTS", "WIDTH", "DARK", "MID", "LIGHT", "EDGE",
    "bundled_font", "set_report_style", "interval_errors",
    "drawing", "new_axes", "legend_below", "empty_chart", "mathtext_escape", "short_label", "require_table",
    "dumbbell",
]

#: Fonts tried in order for report charts: CJK fonts that also cover Vietnamese, then DejaVu
#: Sans (matplotlib's own font). Missing fonts are skipped.
REPORT_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Microsoft YaHei",
                "PingFang SC", "WenQuanYi Zen Hei", "DejaVu Sans")

WIDTH = 7.0
DARK = "#3a3a3a"
MID = "#8a8a8a"
LIGHT = "#d4d4d4"
EDGE = "black"


# --------------------------------------------------------------------------- style
def bundled_font() -> str | None:
    """Path of the Noto Sans CJK SC font installed with the ``mplfonts`` package, if present.

    Noto Sans CJK SC (SIL Open Font License) has the Chinese glyphs and every Vietnamese
    letter with its diacritics, so charts in all three report languages render without tofu
    on a machine with no system CJK font. Nothing is downloaded: the font is inside the wheel.
    """
    try:
        import mplfonts
    except ImportError:  # pragma: no cover - a dependency; charts then use system fonts
        return None
    from pathlib import Path

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return str(path) if path.is_file() else None


def _register_bundled_font() -> None:
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    path = bundled_font()
    if path and "Noto Sans CJK SC" not in installed:
        mpl.font_manager.fontManager.addfont(path)


def set_report_style() -> None:
    """Set the look of every report chart (idempotent: calling it twice changes nothing).

    Seaborn's ``whitegrid`` theme in the ``paper`` context, 7 x 3.5 in figures at 110 dpi,
    small fonts, TeX off, and the first installed font of :data:`REPORT_FONTS` (Noto Sans CJK
    has Chinese, Japanese and Vietnamese glyphs), falling back to DejaVu Sans glyph by glyph.

    Examples
    --------
    >>> set_report_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.dpi"], mpl.rcParams["text.usetex"]
    (110.0, False)
    """
    _register_bundled_font()
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    fonts = [f for f in REPORT_FONTS if f in installed]
    defaults = [f for f in mpl.rcParamsDefault["font.sans-serif"] if f not in fonts]
    sns.set_theme(
        context="paper",
        style="whitegrid",
        rc={
            "figure.figsize": (WIDTH, 3.5),
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "font.family": "sans-serif",
            "font.sans-serif": fonts + defaults,
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "legend.title_fontsize": 8,
            "text.usetex": False,
            "text.parse_math": True,  # needed so that an escaped \\$ shows as $
            "axes.unicode_minus": True,
            "hatch.linewidth": 0.6,
            "pdf.fonttype": 42,
            "svg.fonttype": "path",
        },
    )


# --------------------------------------------------------------------------- intervals
def interval_errors(value: Any, low: Any, high: Any) -> np.ndarray:
    """Error-bar extents ``[[value - low], [high - value]]`` for ``Axes.errorbar``, never negative.

    Every chart that draws a confidence interval goes through this one function. An interval
    may legitimately end at its estimate (a CSAT of 0 % or 100 % has a Wilson interval that
    ends there) or, as with the adjusted-Wald NPS interval (Rocks 2016), not contain the raw
    estimate at all; floating-point noise can then make ``value - low`` a tiny negative
    number, which matplotlib refuses (``'xerr' must not contain negative values``). Such a
    side is drawn with zero length. A bound that is not finite also gives zero length on
    that side, so callers choose which rows have an interval before drawing.

    Parameters
    ----------
    value, low, high
        Scalars or array-likes of the same length: estimates and their interval bounds.

    Returns
    -------
    numpy.ndarray
        Shape ``(2, n)``: the lower and the upper extents, each ``>= 0``.

    Examples
    --------
    >>> interval_errors(1.0, 0.9, 1.0 - 1e-17).tolist()
    [[0.09999999999999998], [0.0]]
    >>> interval_errors([0.5, 0.0], [0.4, 1e-18], [0.6, 0.1]).round(3).tolist()
    [[0.1, 0.0], [0.1, 0.1]]
    """
    v, lo, hi = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (value, low, high))
    below = np.where(np.isfinite(lo) & np.isfinite(v), v - lo, 0.0)
    above = np.where(np.isfinite(hi) & np.isfinite(v), hi - v, 0.0)
    return np.clip(np.vstack([below, above]), 0.0, None)


# --------------------------------------------------------------------------- toolkit
@contextmanager
def drawing() -> Iterator[None]:
    """Draw with TeX off, so that escaped customer text is never read as markup."""
    with mpl.rc_context({"text.usetex": False}):
        yield


def new_axes(ax: Axes | None, *, height: float) -> Axes:
    if ax is None:
        _fig, ax = plt.subplots(figsize=(WIDTH, height), layout="constrained")
    return ax


def legend_below(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(handles),
              frameon=False, handlelength=1.6)


def empty_chart(ax: Axes, title: str) -> Axes:
    ax.text(0.5, 0.5, _("nothing to show"), ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def mathtext_escape(text: Any) -> str:
    """Escape ``$`` so that matplotlib never parses customer text as mathtext."""
    return str(text).replace("$", r"\$")


def short_label(text: Any, width: int) -> str:
    """Escape, and cut a long label to ``width`` characters with an ellipsis."""
    s = " ".join(str(text).split())
    if len(s) > width:
        s = s[: width - 1].rstrip() + "…"
    return mathtext_escape(s)


def dumbbell(ax: Axes, y: Any, first: Any, second: Any, *, labels: tuple[str, str], size: float = 40,
             **kwargs: Any) -> Axes:
    """Two values per row joined by a grey line: ``first`` a filled circle, ``second`` an open
    square (told apart in grey-scale print), each labelled for the legend.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> ax = dumbbell(new_axes(None, height=2), [0, 1], [0.2, 0.5], [0.4, 0.3], labels=("us", "them"))
    >>> [t.get_label() for t in ax.collections[1:]]
    ['us', 'them']
    >>> plt.close(ax.figure)
    """
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    ax.hlines(y, np.fmin(first, second), np.fmax(first, second), color=MID, linewidth=2, zorder=1)
    ax.scatter(first, y, **{"s": size, "marker": "o", "color": DARK, "edgecolor": EDGE, "zorder": 3,
                            "label": labels[0], **kwargs})
    ax.scatter(second, y, **{"s": size, "marker": "s", "color": "white", "edgecolor": EDGE, "linewidth": 1,
                             "zorder": 3, "label": labels[1], **kwargs})
    return ax
