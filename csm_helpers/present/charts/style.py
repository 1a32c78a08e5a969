"""The report look for a chart a researcher draws with matplotlib in their own notebook: the
print style, a new Axes, a legend below the plot, the "nothing to show" chart, label escaping
and shortening, and confidence-interval error bars. (The report's own charts are SVG:
:mod:`csm_helpers.present.charts.canvas`; they share the palette of
:mod:`csm_helpers.present.charts.palette`, re-exported here.)

Labels can hold customer wording: :func:`mathtext_escape` escapes ``$`` so that matplotlib
never reads it as the start of a mathematical expression, and :func:`drawing` switches TeX
rendering off while drawing.
"""

from __future__ import annotations

import textwrap
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
from csm_helpers.present.charts import textcache
from csm_helpers.present.charts.fonts import bundled_font
from csm_helpers.present.charts.palette import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    INK,
    LIGHT,
    MID,
    MIN_FONT_PT,
    OKABE_ITO,
    PURPLE,
    WARN,
    WIDTH,
    tint,
)

__all__ = [
    "REPORT_FONTS", "WIDTH", "MIN_FONT_PT", "OKABE_ITO", "DARK", "MID", "PURPLE", "LIGHT", "INK", "EDGE",
    "GOOD", "WARN", "BAD", "tint",
    "legible", "fitted_bbox", "text_overlaps", "fitted_legend",
    "bundled_font", "set_report_style", "interval_errors",
    "drawing", "new_axes", "legend_below", "empty_chart", "mathtext_escape", "short_label", "require_table",
    "dumbbell",
]

#: Fonts tried in order for report charts: CJK fonts that also cover Vietnamese, then DejaVu
#: Sans (matplotlib's own font). Missing fonts are skipped.
REPORT_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Microsoft YaHei",
                "PingFang SC", "WenQuanYi Zen Hei", "DejaVu Sans")

# (the palette and sizes live in palette.py, which needs no drawing library; re-exported here)


# --------------------------------------------------------------------------- style
def _register_bundled_font() -> None:
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    path = bundled_font()
    if path and "Noto Sans CJK SC" not in installed:
        mpl.font_manager.fontManager.addfont(path)


def set_report_style() -> None:
    """Set the look of every report chart (idempotent: calling it twice changes nothing).

    Seaborn's ``whitegrid`` theme in the ``paper`` context, 5.8 x 3.5 in figures at 110 dpi,
    11 pt text (12 pt titles), TeX off, and the first installed font of :data:`REPORT_FONTS` (Noto Sans CJK
    has Chinese, Japanese and Vietnamese glyphs), falling back to DejaVu Sans glyph by glyph.

    Examples
    --------
    >>> set_report_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.dpi"], mpl.rcParams["text.usetex"]
    (110.0, False)
    """
    _register_bundled_font()
    textcache.install()  # each label measured once per process, not once per figure and save
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
            "font.size": MIN_FONT_PT,
            "axes.titlesize": MIN_FONT_PT + 1,
            "axes.titleweight": "bold",
            "axes.labelsize": MIN_FONT_PT,
            "xtick.labelsize": MIN_FONT_PT,
            "ytick.labelsize": MIN_FONT_PT,
            "legend.fontsize": MIN_FONT_PT,
            "legend.title_fontsize": MIN_FONT_PT,
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


# --------------------------------------------------------------------------- legibility
def _visible_texts(fig: Any) -> list[Any]:
    return [t for t in fig.findobj(mpl.text.Text) if t.get_visible() and t.get_text().strip()]


def legible(fig: Any, *, floor: float = MIN_FONT_PT) -> float:
    """Raise every visible text of ``fig`` to at least ``floor`` points; return the smallest size.

    Chart helpers size secondary text relative to the base font ("small", "x-small"); on a
    5.8 in chart shown 370 px wide on a phone, "x-small" of an 11 pt base would be 7 px tall.
    This floor is applied to every report chart before it is saved
    (:func:`csm_helpers.present.display.figure_png`), and the smallest size it returns is
    written beside the image so that the browser tests can check the size on screen.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.text(0, 0, "tiny", fontsize=5); _ = ax.set_title("Title", fontsize=14)
    >>> legible(fig, floor=11)
    11.0
    >>> ax.title.get_fontsize()
    14.0
    >>> plt.close(fig)
    """
    for ax in fig.axes:  # (asking for the tick labels makes them, without a draw)
        for axis in ("x", "y"):
            ticks = getattr(ax, f"get_{axis}ticklabels")(which="both")
            if any(t.get_fontsize() < floor for t in ticks):  # new ticks keep the size too
                ax.tick_params(axis=axis, which="both", labelsize=floor)
    sizes = []
    for text in _visible_texts(fig):
        if text.get_fontsize() < floor:
            text.set_fontsize(floor)
        sizes.append(float(text.get_fontsize()))
    return min(sizes, default=float(floor))


def _wrap_to(text: Any, width_in: float, renderer: Any, dpi: float) -> bool:
    """Re-wrap a text (at word boundaries) so that it is at most ``width_in`` inches wide."""
    drawn = text.get_window_extent(renderer).width / dpi
    if drawn <= width_in:
        return False
    lines = text.get_text().split("\n")
    longest = max(len(line) for line in lines)
    chars = max(8, int(longest * width_in / drawn * 0.95))
    wrapped = "\n".join(textwrap.fill(line, chars, break_long_words=False, break_on_hyphens=False) or line
                        for line in lines)
    if wrapped == text.get_text():
        return False
    text.set_text(wrapped)
    return True


def _room(text: Any, renderer: Any, fig_width: float, dpi: float, pad: float) -> float:
    """Inches a horizontal text may take from its anchor to the figure's edge(s)."""
    box = text.get_window_extent(renderer)
    x0, x1 = box.x0 / dpi, box.x1 / dpi
    align = text.get_horizontalalignment()
    if align == "left":
        return fig_width - pad - x0
    if align == "right":
        return x1 - pad
    middle = (x0 + x1) / 2
    return 2 * min(middle - pad, fig_width - pad - middle)


def _legends_below_labels(fig: Any, renderer: Any) -> bool:
    """Move a legend placed under its axes further down when it covers the axis label or tick
    labels (a label wrapped onto two lines, a taller font); True when one moved."""
    moved = False
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        axbox = ax.get_window_extent(renderer)
        if box.y1 > axbox.y0 + 1:  # not under the axes
            continue
        texts = [ax.xaxis.label, *ax.get_xticklabels()]
        boxes = [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]
        hit = [b for b in boxes if b.overlaps(box)]
        if not hit:
            continue
        bottom = min(b.y0 for b in hit) - 4 * fig.dpi / 72  # 4 pt below the lowest label it covers
        x_anchor = ax.transAxes.inverted().transform((box.x0 + box.width / 2, bottom))[0]
        y_anchor = ax.transAxes.inverted().transform((0, bottom))[1]
        legend.set_loc("upper center")
        legend.set_bbox_to_anchor((x_anchor, y_anchor), transform=ax.transAxes)
        moved = True
    return moved


def _wrap_category_labels(fig: Any, renderer: Any, width: float) -> bool:
    """Put long category labels (text tick labels of a y axis) on two lines when they take more
    than a third of the chart's width; True when some were wrapped."""
    changed = False
    for ax in fig.axes:
        if not isinstance(ax.yaxis.get_major_formatter(), mpl.ticker.FixedFormatter):
            continue
        labels = ax.get_yticklabels()
        widest = max((t.get_window_extent(renderer).width / fig.dpi for t in labels if t.get_text()), default=0)
        if widest <= width / 3:
            continue
        texts = [t.get_text() for t in labels]
        longest = max(len(line) for t in texts for line in t.split("\n"))
        chars = max(10, int(longest * (width / 3) / widest))
        wrapped = ["\n".join(textwrap.fill(line, chars, break_long_words=False) for line in t.split("\n"))
                   for t in texts]
        if wrapped != texts:
            ax.set_yticks(ax.get_yticks(), labels=wrapped)
            changed = True
    return changed


def _prewrap(fig: Any, avail: float) -> None:
    """Wrap every text wider than its room before the first layout: a text's width needs no
    draw, and each draw saved is a tenth of a second or more.

    A text's room is estimated per axes. The axes of a grid column take their share of the
    chart's width, less the category labels and axis label on their left. The axes' titles
    and a centred x label have that width. A left-aligned text inside the axes (a value
    written after a bar, an annotation) has the part right of its anchor. Any other text has
    the chart's width. Where an estimate is short, :func:`fitted_bbox` still wraps the text
    after the first layout.
    """
    renderer = fig.canvas.get_renderer()
    inside = {id(t) for lg in fig.findobj(mpl.legend.Legend) for t in lg.findobj(mpl.text.Text)}
    ticks = {id(t) for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())}
    room: dict[int, float] = {}
    for ax in fig.axes:
        width = _axes_room(ax, avail, renderer)
        if width is None:
            continue
        named = {ax.get_title(loc=loc) for loc in ("left", "center", "right")} - {""}
        titles = [c for c in ax.get_children()  # the centre, left and right titles
                  if isinstance(c, mpl.text.Text) and c.get_text() in named and c not in ax.texts]
        for text in titles:
            room[id(text)] = width
        if ax.xaxis.label.get_horizontalalignment() == "center":
            room[id(ax.xaxis.label)] = width
        axbox = ax.get_window_extent(renderer)
        for text in ax.texts:
            if text.get_horizontalalignment() != "left" or text.get_rotation() % 180 or axbox.width <= 0:
                continue
            x0 = (text.get_window_extent(renderer).x0 - axbox.x0) / axbox.width
            if 0 <= x0 < 1:
                room[id(text)] = (1 - x0) * width + 0.2  # (0.2 in: the axes' right margin)
    for text in _visible_texts(fig):
        if id(text) in inside or id(text) in ticks or text.get_rotation() % 180:
            continue
        _wrap_to(text, max(min(room.get(id(text), avail), avail), 1.0), renderer, fig.dpi)


def _axes_room(ax: Any, avail: float, renderer: Any) -> float | None:
    """Estimated width (inches) of ``ax`` once laid out in a chart ``avail`` inches wide:
    its grid columns' share, less its tick labels and label on the left; None for axes that
    are not in a grid (an inset) or that would be under 1.5 in."""
    spec = ax.get_subplotspec()
    if spec is None:
        return None
    grid = spec.get_gridspec()
    ratios = np.asarray(grid.get_width_ratios() or [1] * grid.ncols, dtype=float)
    share = float(ratios[spec.colspan.start:spec.colspan.stop].sum() / ratios.sum())
    fig = ax.figure
    left = max((t.get_window_extent(renderer).width / fig.dpi for t in ax.get_yticklabels()
                if t.get_visible() and t.get_text()), default=0.4)
    if ax.yaxis.label.get_visible() and ax.yaxis.label.get_text():
        left += ax.yaxis.label.get_window_extent(renderer).width / fig.dpi  # (rotated: its height)
    width = avail * share - left - 0.15  # tick marks and pads
    return width if width >= 1.5 else None


def fitted_bbox(fig: Any, width: float = WIDTH, *, pad: float = 0.1, render: bool = False) -> Any:
    """Make the drawing of ``fig`` at most ``width`` inches wide (its tight box; saved with
    ``pad`` inches of blank margin a side); return the padded box (inches), to save with
    ``savefig(bbox_inches=box)`` in one pass.

    A title, note or label that runs past
    the figure's edge is wrapped at word boundaries into the room it has from its anchor; what
    still sticks out (labels drawn beside the axes) takes its room from the axes. The text
    keeps its size: a chart wider than :data:`WIDTH` would be shrunk more on a phone and its
    text would fall under 9 px.

    With ``render``, each pass draws the figure on its (Agg) canvas instead of only laying it
    out: the pixels of the last pass are then the chart as laid out, ready to be cut to the
    box (:func:`csm_helpers.present.display.figure_png` does), and a chart that fits at once
    is drawn once in all.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(5.8, 3), layout="constrained")
    >>> _ = ax.set_title("A title far longer than the chart is wide, so it has to wrap onto two lines")
    >>> _ = ax.text(1.05, 0.5, "a label right of the axes", transform=ax.transAxes)
    >>> bool(fitted_bbox(fig).width <= 5.8 + 0.2 + 1e-3)
    True
    >>> ax.get_title().count(chr(10)) >= 1
    True
    >>> plt.close(fig)
    """
    draw = fig.canvas.draw if render else fig.draw_without_rendering
    _prewrap(fig, width - 2 * pad)
    for _step in range(10):
        draw()
        renderer = fig.canvas.get_renderer()
        tight = fig.get_tightbbox(renderer)
        saved = tight.width  # the drawing, without the blank margin saved around it
        if saved <= width + 1e-3:
            if _legends_below_labels(fig, renderer):
                continue
            return tight.padded(pad)
        fig_width = float(fig.get_size_inches()[0])
        changed = False
        inside = {id(t) for lg in fig.findobj(mpl.legend.Legend) for t in lg.findobj(mpl.text.Text)}
        for text in _visible_texts(fig):
            if id(text) in inside or text.get_rotation() % 180:
                continue
            box = text.get_window_extent(renderer)
            if box.x0 / fig.dpi >= -1e-3 and box.x1 / fig.dpi <= fig_width + 1e-3:
                continue
            room = _room(text, renderer, fig_width, fig.dpi, pad)
            if room >= 1.0:
                changed |= _wrap_to(text, room, renderer, fig.dpi)
        changed |= _legends_below_labels(fig, renderer)
        if not changed:
            changed = _wrap_category_labels(fig, renderer, width)
        if not changed:
            fig.set_size_inches(max(fig_width - (saved - width) * 1.02, 3.0), fig.get_size_inches()[1])
    draw()
    return fig.get_tightbbox(fig.canvas.get_renderer()).padded(pad)


def fitted_legend(owner: Any, handles: Any, labels: Any = None, *, ncol: int, width: float = WIDTH,
                  **kwargs: Any) -> Any:
    """``owner.legend(handles, labels, ncols=...)`` with as many columns (at most ``ncol``) as
    fit in a chart ``width`` inches wide; ``owner`` is an Axes or a Figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> from matplotlib.patches import Patch
    >>> fig, ax = plt.subplots(figsize=(5.8, 3))
    >>> handles = [Patch(label=f"a rather long legend entry {i}") for i in range(4)]
    >>> legend = fitted_legend(ax, handles, ncol=4, loc="upper center")
    >>> bool(legend.get_window_extent().width / fig.dpi <= 5.6)
    True
    >>> plt.close(fig)
    """
    labels = [h.get_label() for h in handles] if labels is None else list(labels)
    ncol = max(1, int(ncol))
    while True:
        legend = owner.legend(handles, labels, ncols=ncol, **kwargs)
        for text in [*legend.get_texts(), legend.get_title()]:
            text.set_fontsize(max(text.get_fontsize(), MIN_FONT_PT))  # as legible() will
        fig = owner if isinstance(owner, mpl.figure.Figure) else owner.figure
        if ncol == 1 or legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi <= width - 0.2:
            return legend
        legend.remove()
        ncol = (ncol + 1) // 2


def text_overlaps(fig: Any, *, draw: bool = True) -> list[tuple[str, str]]:
    """Pairs of visible texts of ``fig`` whose drawn boxes overlap (labels that collide).

    Texts inside a legend are left out (the legend lays them out itself), and so are two
    texts that are the same string at the same place, and rotated texts (the box of a slanted
    tick label covers its neighbour's box although the letters do not touch). ``draw=False``
    uses the layout of the last draw (:func:`fitted_bbox` has just drawn).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.text(0.5, 0.5, "first label"); _ = ax.text(0.52, 0.5, "second label")
    >>> text_overlaps(fig)
    [('first label', 'second label')]
    >>> plt.close(fig)
    """
    if draw:
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    legends = [lg for lg in fig.findobj(mpl.legend.Legend)]
    inside = {id(t) for lg in legends for t in lg.findobj(mpl.text.Text)}
    for ax in fig.axes:  # tick labels outside the view limits are not drawn
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = (hi - lo) * 1e-9
            for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
                if not lo - eps <= tick.get_loc() <= hi + eps:
                    inside |= {id(tick.label1), id(tick.label2)}
    boxes = []
    for text in _visible_texts(fig):
        if id(text) in inside or text.get_rotation() % 180:
            continue
        box = text.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((text.get_text(), box))
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            shrink = 1.0  # a pixel of anti-aliasing is not a collision
            if (min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > shrink and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > shrink
                    and not (a == b and np.allclose(ba.bounds, bb.bounds))):
                out.append((a, b))
    return out


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


def legend_below(ax: Axes, handles: Any = None, labels: Any = None, *, ncol: int | None = None,
                 **kwargs: Any) -> Any:
    """A legend centred under the chart, below its tick labels and x label; returns it.

    On a chart of its own (a constrained-layout figure holding only ``ax``, as
    :func:`new_axes` makes) the legend is a figure legend placed outside the axes
    (``loc="outside lower center"``): the layout engine gives it its room below everything
    else, so it never covers a label however many lines the label takes, and the chart is
    laid out once. The figure grows by the legend's height, so the plot keeps its size. On
    axes the caller made (a panel of a grid), it is an axes legend anchored under the axes,
    which :func:`fitted_bbox` moves down when it covers a label.

    Parameters
    ----------
    ax : Axes
        The chart.
    handles, labels : list, optional
        The legend's entries; by default those of ``ax`` (its labelled artists).
    ncol : int, optional
        Most columns (default: one row); fewer when the row would be wider than the chart.
    **kwargs
        Passed to ``legend`` (``fontsize``, ``handlelength``...).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> ax = new_axes(None, height=3)
    >>> _ = ax.bar(["a", "b"], [1, 2], label="count"); _ = ax.set_xlabel("a label on\\ntwo lines")
    >>> legend_below(ax) in ax.figure.legends, round(float(ax.figure.get_size_inches()[1]), 1) > 3
    (True, True)
    >>> plt.close(ax.figure)
    """
    if handles is None:
        handles, found = ax.get_legend_handles_labels()
        labels = found if labels is None else labels
    handles = list(handles)
    if not handles:
        return None
    labels = [h.get_label() for h in handles] if labels is None else list(labels)
    options = {"frameon": False, "handlelength": 1.6, **kwargs}
    ncol = ncol or len(handles)
    fig = ax.figure
    if isinstance(fig.get_layout_engine(), mpl.layout_engine.ConstrainedLayoutEngine) and fig.axes == [ax]:
        legend = fitted_legend(fig, handles, labels, loc="outside lower center", ncol=ncol, **options)
        tall = legend.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + tall + 0.1)
        return legend
    return fitted_legend(ax, handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, **options)


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
