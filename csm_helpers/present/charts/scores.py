"""The charts of stage 04's score tables: the mean of a question per segment with its
confidence interval (:func:`plot_segment_means`) and the invisible scorecard, one bar per
dimension (and segment) on the 0–100 scale (:func:`plot_scorecard`). Re-exported by
:mod:`csm_helpers.present.charts.kpis`, where the notebooks find them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.checks import require_table
from csm_helpers.core.i18n import _, tr
from csm_helpers.present.catalogue import (
    format_count,
    format_p,
)
from csm_helpers.present.charts.canvas import LINE, PAD, Chart, as_float, is_set, nice_ticks
from csm_helpers.present.charts.palette import DARK, LIGHT, MID, PURPLE, tint_hex

__all__ = ["plot_segment_means", "plot_scorecard"]

#: Height of a KPI or scorecard bar, px.
_BAR = 16.0
# fills for segments, told apart in grey-scale too
_FILLS: tuple[tuple[str, str | None], ...] = (
    (DARK, None), (tint_hex(MID, 0.3), "////"), (PURPLE, None), (LIGHT, ".."), (tint_hex(DARK, 0.6), None),
    ("white", "xx"), (tint_hex(PURPLE, 0.5), "\\\\\\\\"), ("white", None))


def _clip(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


# --------------------------------------------------------------------------- segment means
def _fit_scale(ends: list[tuple[float, float]], left: float, limit: float, span: tuple[float, float],
               end_half: float) -> float:
    """Px per unit of an axis starting at ``left`` for ``span`` (low, high): as wide as the room up
    to ``limit`` allows, with each (value, label width) of ``ends`` fitting right of its value."""
    low, high = span
    scale = (limit - end_half - left) / (high - low)
    for value, w in ends:
        if value > low:
            scale = min(scale, max(limit - left - 7 - w, 0.35 * (limit - left)) / (value - low))
    return scale


def plot_segment_means(groups: pd.DataFrame | dict[str, Any], *, label: str | None = None, level: float = 0.95,
                       min_n: int = 5) -> Chart:
    """Mean per segment with its confidence interval; suppressed segments named, without a value.

    One row per segment in table order, top to bottom: its name and ``n`` at the left, a dot
    at the mean with the interval as whiskers, and the value ("3.90 (3.75 to 4.05)") right of
    it. A suppressed segment's row says why ("suppressed (n < 5)", or "suppressed (protects a
    smaller segment)" for one hidden so that a smaller one cannot be worked out by difference),
    and its count reads "fewer than 5" or "hidden".

    Parameters
    ----------
    groups : pandas.DataFrame or dict
        The ``groups`` table of :func:`csm_helpers.analysis.segments.compare_means` (columns ``group, n,
        mean, ci_low, ci_high, suppressed``), or the whole dict it returns (then the title also
        gives the Welch ANOVA p-value).
    label : str, optional
        What the mean is of (axis label), e.g. "Overall satisfaction (1-5)".
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed segments).

    Returns
    -------
    Chart
        ``chart.marks`` holds, in table order, a ``"point"`` entry per segment drawn
        (``label``, ``value``, ``low``, ``high``, ``count``) and a ``"suppressed"`` entry per
        segment not drawn (``label``, ``count``, ``reason``).

    Examples
    --------
    >>> g = pd.DataFrame({"group": ["North", "South", "Islands"], "n": [120, 95, 3],
    ...                   "mean": [3.9, 3.5, None], "ci_low": [3.75, 3.3, None],
    ...                   "ci_high": [4.05, 3.7, None], "suppressed": [False, False, True]})
    >>> chart = plot_segment_means(g)
    >>> chart.alt
    'Highest mean: North (3.90); lowest: South (3.50); 1 segment suppressed'
    >>> [(m["kind"], m["label"], m["count"]) for m in chart.marks]
    [('point', 'North', 'n = 120'), ('point', 'South', 'n = 95'), ('suppressed', 'Islands', 'fewer than 5')]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    welch_p = math.nan
    if isinstance(groups, dict):
        wa = groups.get("welch_anova")
        if isinstance(wa, pd.DataFrame) and len(wa) and "p_value" in wa.columns:
            welch_p = as_float(wa["p_value"].iloc[0])
        groups = groups.get("groups")
    require_table(groups, ["group", "n", "mean", "ci_low", "ci_high", "suppressed"], "segment means table",
                  "compare_means()['groups']")
    chart = Chart("segment-means")
    k = len(groups)
    if k == 0:
        return chart.empty(_("Segment means: no segment to show"), _("nothing to show"))
    names = [str(g) for g in groups["group"]]
    means = groups["mean"].to_numpy(float)
    lo = groups["ci_low"].to_numpy(float)
    hi = groups["ci_high"].to_numpy(float)
    sizes = groups["n"].to_numpy(float)
    supp = np.array([is_set(v) for v in groups["suppressed"]])
    shown = ~supp & np.isfinite(means)
    okc = shown & np.isfinite(lo) & np.isfinite(hi)
    counts = [format_count(n, suppressed=h, min_n=min_n, prefix=True)
              for n, h in zip(groups["n"], supp, strict=True)]
    level_txt = f"{level * 100:g}%"
    if not shown.any():
        title = _("Segment means: every segment suppressed")
    else:
        best = int(np.argmax(np.where(shown, means, -np.inf)))
        worst = int(np.argmin(np.where(shown, means, np.inf)))
        title = _("Highest mean: {segment} ({mean})", segment=chart.wrap(names[best], 220, max_lines=1)[0],
                  mean=f"{means[best]:.2f}")
        if shown.sum() > 1:
            title += "; " + _("lowest: {segment} ({mean})", segment=chart.wrap(names[worst], 220, max_lines=1)[0],
                              mean=f"{means[worst]:.2f}")
        if math.isfinite(welch_p):
            title += "; " + _("Welch ANOVA {p}", p=format_p(welch_p))
        n_supp = int(supp.sum())
        if n_supp:
            title += "; " + _("{k} segments suppressed" if n_supp > 1 else "{k} segment suppressed", k=n_supp)
    top = chart.title([title])
    room = 0.32 * chart.width
    labels = [chart.count_label(name, count, room) for name, count in zip(names, counts, strict=True)]
    edge = PAD + max(chart.measure(line) for lines in labels for line in lines)
    left = edge + 10
    texts = [(_("{value} ({low} to {high})", value=f"{m:.2f}", low=f"{a:.2f}", high=f"{b:.2f}") if c else f"{m:.2f}")
             for m, a, b, c in zip(means, lo, hi, okc, strict=True)]
    ends = np.where(okc, np.fmax(hi, means), means)
    finite = np.concatenate([means[shown], lo[okc], hi[okc]])
    if finite.size:
        span = float(finite.max() - finite.min())  # one value without an interval: half a point either side
        pad = 0.1 * span if span > 1e-9 else max(0.1 * abs(float(finite.max())), 0.5)
        ticks = nice_ticks(float(finite.min()) - pad, float(finite.max()) + pad)
        low, high = ticks[0], ticks[-1]
    else:
        low, high = 0.0, 1.0
    end_half = chart.end_room(nice_ticks(low, high), "{:g}")
    scale = _fit_scale([(float(e), chart.measure(t)) for e, t, s in zip(ends, texts, shown, strict=True) if s],
                       left, chart.width - PAD, (low, high), end_half)
    right = left + (high - low) * scale

    def x(v: float) -> float:
        return left + (v - low) * scale

    heights = [max(0.3 * 96, len(lines) * LINE + 6) for lines in labels]
    y = top + 6
    centres = []
    for h in heights:
        centres.append(y + h / 2)
        y += h
    xlabel = (_("{label} — mean, {level} CI", label=label, level=level_txt) if label else
              _("Mean with {level} confidence interval", level=level_txt))
    under = chart.value_axis(left, right, top + 6, y, low, high, label=xlabel, fmt="{:g}")
    for i, mid in enumerate(centres):
        chart.lines(edge, mid - len(labels[i]) * LINE / 2, labels[i], anchor="end")
        if shown[i]:
            if okc[i]:
                chart.whisker(x(lo[i]), x(hi[i]), mid, cap=4)
            chart.dot(x(means[i]), mid, size=9, fill=DARK)
            chart.text(x(ends[i]) + 7, mid, texts[i], background="white")
            chart.mark("point", label=names[i], value=float(means[i]), low=float(lo[i]), high=float(hi[i]),
                       count=counts[i])
        else:
            why = (_("suppressed (n < {n})", n=min_n) if sizes[i] < min_n  # else hidden to protect a smaller one
                   else _("suppressed (protects a smaller segment)")) if supp[i] else _("no answers")
            chart.text(left + 6, mid, chart.wrap(why, chart.width - PAD - left - 6, max_lines=1)[0], background="white")
            chart.mark("suppressed", label=names[i], count=counts[i], reason=why)
    chart.finish(under)
    return chart


# --------------------------------------------------------------------------- scorecard
def plot_scorecard(scorecard: pd.DataFrame, *, level: float = 0.95, min_n: int = 5) -> Chart:
    """The invisible scorecard: CSI (0-100) of product, process and people with intervals.

    Without a segment column, one bar per dimension, its name and number of items at the left.
    With one (the table of ``scorecard(..., by=...)``), one block per dimension headed by its
    name, with one bar per segment labelled at the left, each segment in its own fill (colour
    and hatching, the same in every block). Whiskers are the confidence intervals; every bar is
    labelled with its value and ``n``; a suppressed cell says "suppressed (n < min_n)" (or
    "suppressed (protects a smaller segment)") and has no bar.

    Parameters
    ----------
    scorecard : pandas.DataFrame
        From :func:`csm_helpers.analysis.kpis.scorecard`.
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed cells).

    Returns
    -------
    Chart
        ``chart.marks`` holds, dimension by dimension (segments in table order), a ``"bar"``
        entry per cell drawn (``dimension``, ``segment``: None without segments, ``value``,
        ``low``, ``high``, ``n``) and a ``"suppressed"`` entry per cell not drawn
        (``dimension``, ``segment``, ``reason``).

    Examples
    --------
    >>> sc = pd.DataFrame({"dimension": ["product", "process", "people"], "n_items": [4, 4, 4],
    ...                    "n": [300, 300, 300], "value": [68.0, 61.5, 72.3], "ci_low": [66.0, 59.0, 70.0],
    ...                    "ci_high": [70.0, 64.0, 74.6], "method": ["t"] * 3, "suppressed": [False] * 3})
    >>> chart = plot_scorecard(sc)
    >>> chart.alt
    'Weakest dimension: process (61.5); strongest: people (72.3)'
    >>> [(m["dimension"], m["value"]) for m in chart.marks if m["kind"] == "bar"]
    [('product', 68.0), ('process', 61.5), ('people', 72.3)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(scorecard, ["dimension", "n", "value", "ci_low", "ci_high", "suppressed"], "scorecard table",
                  "scorecard()")
    chart = Chart("scorecard")
    if len(scorecard) == 0:
        return chart.empty(_("Invisible scorecard: nothing to show"), _("nothing to show"))
    standard = {"dimension", "n_items", "n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"}
    extra = [c for c in scorecard.columns if c not in standard]
    by = extra[0] if extra else None
    dims = list(dict.fromkeys(scorecard["dimension"]))
    segs = list(dict.fromkeys(scorecard[by])) if by else [None]
    n_items = dict(zip(scorecard["dimension"], scorecard["n_items"], strict=False)) \
        if "n_items" in scorecard.columns else {}
    cells = []  # (dimension, segment, value, suppressed, low, high, n, segment number)
    for d in dims:
        for j, seg in enumerate(segs):
            sub = scorecard[scorecard["dimension"] == d]
            if by:
                sub = sub[sub[by] == seg]
            if not len(sub):
                continue
            r = sub.iloc[0]
            cells.append((d, seg, as_float(r["value"]), is_set(r["suppressed"]), as_float(r["ci_low"]), as_float(r["ci_high"]),
                          as_float(r["n"]), j))
    title = _scorecard_title(chart, cells, by is not None)
    top = chart.title(title.split("\n"))
    room = 0.3 * chart.width
    dim_names = {d: tr(str(d).capitalize()) for d in dims}
    if by is None:
        labels = {}
        for d in dims:
            lines = chart.wrap(dim_names[d], room, max_lines=2)
            if d in n_items and math.isfinite(as_float(n_items[d])):
                k_items = int(n_items[d])
                lines.append(_("({k} items)" if k_items != 1 else "({k} item)", k=k_items))
            labels[(d, None)] = lines
    else:
        labels = {(c[0], c[1]): chart.wrap(c[1], room, max_lines=2) for c in cells}
    edge = PAD + max(chart.measure(line) for lines in labels.values() for line in lines)
    left = edge + 10
    ok = [not c[3] and math.isfinite(c[2]) for c in cells]
    texts = [f"{c[2]:.1f} ({format_count(c[6], prefix=True)})" for c in cells]
    ends = [max(c[2], c[5]) if math.isfinite(c[5]) else c[2] for c in cells]
    end_half = chart.end_room([0.0, 100.0], "{:g}")
    scale = _fit_scale([(e, chart.measure(t)) for e, t, s in zip(ends, texts, ok, strict=True) if s], left,
                       chart.width - PAD, (0.0, 100.0), end_half)
    right = left + 100 * scale

    def x(v: float) -> float:
        return left + _clip(v, 0.0, 100.0) * scale

    # vertical layout: (cell, centre); with segments, a heading per dimension
    y = top + 6
    plot_top = y
    headings: list[tuple[str, float]] = []
    blocks: list[tuple[float, float]] = []  # rows of one dimension (top, bottom): the grid runs over them
    placed: list[tuple[int, float]] = []
    for d in dims:
        mine = [i for i, c in enumerate(cells) if c[0] == d]
        if by:
            heading = chart.wrap(dim_names[d], chart.width - 2 * PAD, max_lines=1)[0]
            headings.append((heading, y))
            y += LINE + 2
        start = y
        for i in mine:
            h = max(0.3 * 96, len(labels[(cells[i][0], cells[i][1])]) * LINE + 6)
            placed.append((i, y + h / 2))
            y += h
        blocks.append((start, y))
        if by:
            y += 6
    bottom = y - 6 if by else y
    for start, stop in blocks[:-1]:
        chart.grid(left, right, start, stop, 0.0, 100.0)
    under = chart.value_axis(left, right, blocks[-1][0] if by else plot_top, bottom, 0.0, 100.0,
                             label=_("Dimension score, CSI 0-100 (whiskers: {level} confidence interval)",
                                     level=f"{level * 100:g}%"))
    for heading, h_top in headings:
        chart.text(PAD, h_top, heading, valign="top")
    bar = 0.62 * 0.3 * 96
    for i, mid in placed:
        d, seg, val, s, a, b, n, j = cells[i]
        chart.lines(edge, mid - len(labels[(d, seg)]) * LINE / 2, labels[(d, seg)], anchor="end")
        if ok[i]:
            fill, hatch = _FILLS[j % len(_FILLS)] if by else (DARK, None)
            chart.rect(left, mid - bar / 2, x(val) - left, bar, fill=fill, edge="#000000", hatch=hatch)
            if math.isfinite(a) and math.isfinite(b):
                chart.whisker(x(a), x(b), mid, cap=3.5)
            chart.text(x(ends[i]) + 7, mid, texts[i], background="white")
            chart.mark("bar", dimension=d, segment=seg, value=val, low=a, high=b, n=n)
        else:
            why = (_("suppressed (n < {n})", n=min_n) if n < min_n
                   else _("suppressed (protects a smaller segment)")) if s else _("no answers")
            chart.text(left + 6, mid, chart.wrap(why, chart.width - PAD - left - 6, max_lines=1)[0], background="white")
            chart.mark("suppressed", dimension=d, segment=seg, reason=why)
    chart.finish(under)
    return chart


def _scorecard_title(chart: Chart, cells: list[tuple[Any, ...]], segmented: bool) -> str:
    shown = [c for c in cells if not c[3] and math.isfinite(c[2])]
    if not shown:
        return _("Invisible scorecard: every score suppressed")
    worst = min(shown, key=lambda c: c[2])
    best = max(shown, key=lambda c: c[2])

    def short(text: Any) -> str:
        return chart.wrap(text, 170, max_lines=1)[0]

    if segmented:
        title = (_("Lowest score: {dimension} in {segment} ({score})", dimension=short(tr(worst[0])),
                   segment=short(worst[1]), score=f"{worst[2]:.1f}") + "; "
                 + _("highest: {dimension} in {segment} ({score})", dimension=short(tr(best[0])),
                     segment=short(best[1]), score=f"{best[2]:.1f}"))
    else:
        title = _("Weakest dimension: {dimension} ({score})", dimension=short(tr(worst[0])), score=f"{worst[2]:.1f}")
        if len(shown) == 1:
            return title
        title += "; " + _("strongest: {dimension} ({score})", dimension=short(tr(best[0])), score=f"{best[2]:.1f}")
    if len(shown) > 1 and not worst[5] < best[4]:  # the intervals of the extremes overlap (or are unknown)
        title += "\n" + _("intervals overlap: the difference may be chance")
    return title
