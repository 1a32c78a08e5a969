"""Four-quadrant scatter charts (importance–performance, Kano): the frame — both axes, the
dashed cross-hairs, the quadrant names in the corners, kept clear of every point — and point
labels placed where they collide with nothing, or else numbered and listed under the chart.

Built on :class:`~csm_helpers.present.charts.canvas.Chart`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from csm_helpers.present.charts.canvas import (
    LINE,
    MIN_PT,
    PAD,
    PX_PER_PT,
    Chart,
    TextBox,
    axis_span,
    nice_ticks,
    tick_format,
)
from csm_helpers.present.charts.palette import DARK, INK, MID

__all__ = ["Frame", "quadrant_frame", "label_points", "number_key"]


class Frame:
    """Where a quadrant scatter's plot is: data -> px (:meth:`x`, :meth:`y`), the plot's box
    (``within``: where point labels may go) and the y under the x axis label (``under``)."""

    def __init__(self, left: float, right: float, top: float, bottom: float, xs: tuple[float, float],
                 ys: tuple[float, float], under: float) -> None:
        self.left, self.right, self.top, self.bottom, self.under = left, right, top, bottom, under
        self._xs, self._ys = xs, ys
        self.within = (left + 1, top + 1, right - 1, bottom - 1)

    def x(self, v: float) -> float:
        low, high = self._xs
        return self.left + (float(v) - low) * (self.right - self.left) / (high - low)

    def y(self, v: float) -> float:
        low, high = self._ys
        return self.bottom - (float(v) - low) * (self.bottom - self.top) / (high - low)


def quadrant_frame(chart: Chart, top: float, xs: np.ndarray, ys: np.ndarray, cross: tuple[float, float],
                    corners: Sequence[str], *, xlabel: str, ylabel: str, x_range: tuple[float, float] | None = None,
                    y_range: tuple[float, float] | None = None) -> Frame:
    """Lay out and draw the frame of a four-quadrant scatter under ``top``: the vertical axis
    (its label above the plot), the horizontal axis, the dashed cross-hairs at ``cross`` and
    the quadrant names ``corners`` (top left, top right, bottom left, bottom right) in boxes in
    the plot's corners. The axes reach far enough that no point can come near a corner box
    (bands above and below the data hold them) and that no cross-hair crosses one. The
    boxes and names are kept free of point labels (obstacles); a label may cross a cross-hair
    (it is written on a white ground)."""
    inset, clear = 4.0, 9.0  # a box from the plot's edge; px between a box and a point or a cross-hair
    half = (chart.width - 2 * PAD) / 2 - 70  # two names and the cross-hair fit side by side
    names = [chart.wrap(c, half, max_lines=2) for c in corners]
    widths = [max(chart.measure(s) for s in lines) + 8 for lines in names]
    heights = [len(lines) * LINE + 4 for lines in names]
    label_lines = chart.wrap(ylabel, chart.width - 2 * PAD)
    plot_top = top + 6 + len(label_lines) * LINE + 6
    height = round(0.62 * chart.width)
    bottom = plot_top + height
    xc, yc = cross
    ylo, yhi = y_range or _data_range(ys, yc)
    band_top, band_bottom = inset + max(heights[:2]) + clear, inset + max(heights[2:]) + clear
    for _attempt in range(6):  # no tick label of the vertical axis next to the plot's top or bottom edge
        low, high = axis_span([(ylo, band_bottom / height)], [(yhi, band_top / height)], minimum=_minaxis_span(ylo, yhi))
        scale = height / (high - low)
        ticks = [v for v in nice_ticks(low, high) if low - 1e-9 <= v <= high + 1e-9]
        near_low = min(((v - low) * scale for v in ticks), default=99.0)
        near_high = min(((high - v) * scale for v in ticks), default=99.0)
        if near_low >= 10 and near_high >= 10:
            break
        if near_low < 10:
            band_bottom += 11 - near_low
        if near_high < 10:
            band_top += 11 - near_high
    yfmt = tick_format(low, high)
    left = PAD + chart.tick_room(low, high, yfmt)
    right = chart.width - PAD - 4
    width = right - left
    xlo, xhi = x_range or _data_range(xs, xc)
    side_left = max(widths[0], widths[2]) + inset + clear
    side_right = max(widths[1], widths[3]) + inset + clear
    margin = 12 / width
    lows = [(xlo, margin)] + ([(xc, side_left / width)] if np.isfinite(xc) else [])
    highs = [(xhi, margin)] + ([(xc, side_right / width)] if np.isfinite(xc) else [])
    xlow, xhigh = axis_span(lows, highs, minimum=_minaxis_span(xlo, xhi))
    chart.vertical_axis(left, right, plot_top, bottom, low, high, label=ylabel, fmt=yfmt)
    under = chart.value_axis(left, right, plot_top, bottom, xlow, xhigh, label=xlabel, fmt=tick_format(xlow, xhigh))
    frame = Frame(left, right, plot_top, bottom, (xlow, xhigh), (low, high), under)
    if np.isfinite(xc):
        x = frame.x(xc)
        chart.line(x, plot_top, x, bottom, colour=DARK, width=1.0, dash="5 4")
    if np.isfinite(yc):
        y = frame.y(yc)
        chart.line(left, y, right, y, colour=DARK, width=1.0, dash="5 4")
    for k, (name, lines, w, h) in enumerate(zip(corners, names, widths, heights, strict=True)):
        at_left, at_top = k in (0, 2), k in (0, 1)
        x0 = left + inset if at_left else right - inset - w
        y0 = plot_top + inset if at_top else bottom - inset - h
        chart.rect(x0, y0, w, h, fill="white", edge=MID, edge_width=0.8)
        chart.lines(x0 + 4 if at_left else x0 + w - 4, y0 + 2, lines, anchor="start" if at_left else "end",
                    colour=DARK)
        chart.obstacles.append(TextBox("", x0, y0, x0 + w, y0 + h, 0.0))
        chart.mark("quadrant", label=name)
    return frame


def _data_range(values: np.ndarray, cross: float) -> tuple[float, float]:
    both = np.append(values, cross)
    both = both[np.isfinite(both)]
    return float(both.min()), float(both.max())


def _minaxis_span(low: float, high: float) -> float:
    """The shortest axis for values in [low, high] (when they are all equal, or nearly)."""
    return max(abs(low), abs(high), 1.0) * 0.1


def label_points(chart: Chart, points: list[tuple[float, float]], names: list[str], colours: list[str],
                  within: tuple[float, float, float, float], room: float) -> tuple[list[str | None],
                                                                                   list[tuple[str, str]]]:
    """Write each point's name (cut to ``room`` px) next to it where :meth:`Chart.place_label`
    finds it a place touching no text and no obstacle (markers, whiskers, quadrant boxes); a
    point whose name finds none gets a number (1, 2... top to bottom) placed the same way, or
    further out with a leader line; so does a point whose name would sit as near another point
    as its own (:func:`_ambiguous`). Numbered points drawn on top of each other (3 px apart at
    most) share one label, "3–5". The names are placed greedily, in the order (of a few)
    that leaves the fewest points numbered and the fewest names off their point's side. Returns what each point shows (its name, its number, or None when even a number
    finds no place: the key still names it) and the key: (number, name)."""
    cut = [chart.wrap(name, room, max_lines=1)[0] for name in names]
    idx = range(len(points))
    crowd = [sum(math.dist(p, q) < 60 for q in points) for p in points]
    orders = [sorted(idx, key=lambda i: (points[i][1], points[i][0])),  # top to bottom
              sorted(idx, key=lambda i: (-crowd[i], points[i][1], points[i][0])),  # crowded first
              sorted(idx, key=lambda i: (-points[i][1], points[i][0])),  # bottom to top
              sorted(idx, key=lambda i: (points[i][0], points[i][1])),  # left to right
              sorted(idx, key=lambda i: (-points[i][0], points[i][1]))]  # right to left
    boxes = min((_plan_labels(chart, points, cut, within, order) for order in orders), key=lambda plan: plan[1])[0]
    boxes = [None if box is not None and _ambiguous(box, i, points) else box for i, box in enumerate(boxes)]
    shown: list[str | None] = [None] * len(points)
    for i, box in enumerate(boxes):
        if box is not None:
            chart.rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0, fill="white")  # no line through it
            chart.text(box.x0, box.y0, cut[i], valign="top", colour=colours[i])
            shown[i] = cut[i]
    key: list[tuple[str, str]] = []
    groups: list[list[int]] = []  # points drawn on top of each other share one label, "3–5"
    for i in sorted((i for i in idx if boxes[i] is None), key=lambda i: (points[i][1], points[i][0])):
        near = next((grp for grp in groups if math.dist(points[grp[0]], points[i]) <= 3), None)
        if near is None:
            groups.append([i])
        else:
            near.append(i)
    for grp in groups:
        numbers = [str(len(key) + k) for k in range(1, len(grp) + 1)]
        text = numbers[0] if len(grp) == 1 else f"{numbers[0]}\u2013{numbers[-1]}"
        i = grp[0]
        if _place(chart, *points[i], text, within, colours[i]) or _place_far(chart, *points[i], text, within,
                                                                             colours[i]):
            for j, number in zip(grp, numbers, strict=True):
                shown[j] = number
        key += [(number, names[j]) for j, number in zip(grp, numbers, strict=True)]
    return shown, key


def _plan_labels(chart: Chart, points: list[tuple[float, float]], texts: list[str],
                 within: tuple[float, float, float, float], order: list[int]) -> tuple[list[TextBox | None], float]:
    """Where :meth:`Chart.place_label` puts each text, taking the points in ``order`` (on a
    copy of the chart), and how bad that is: 100 a text without a place or one that could be
    read as another point's (:func:`_ambiguous`: both become numbers), 3 a text at a corner of
    its point, 1 above or below it."""
    trial = Chart(chart.kind, width=chart.width, texts=list(chart.texts), obstacles=list(chart.obstacles))
    boxes: list[TextBox | None] = [None] * len(points)
    for i in order:
        boxes[i] = trial.place_label(*points[i], texts[i], within=within, gap=_GAP)
    score = 0.0
    for i, box in enumerate(boxes):
        if box is None:
            score += 100
            continue
        x, y = points[i]
        score += 100 * _ambiguous(box, i, points)
        score += 0 if abs((box.y0 + box.y1) / 2 - y) < 0.5 else 1 if abs((box.x0 + box.x1) / 2 - x) < 0.5 else 3
    return boxes, score


def _ambiguous(box: TextBox, i: int, points: list[tuple[float, float]]) -> bool:
    """Whether a reader could take the label ``box`` of point ``i`` for another point's: another
    point is nearer it than its own, or sits beside it, level with the text and less than 20 px
    from its end (it is numbered instead)."""
    own = _distance(box, points[i])
    return any(_distance(box, (x, y)) < own
               or (box.y0 - 2 <= y <= box.y1 + 2 and min(abs(x - box.x0), abs(x - box.x1)) < 20)
               for k, (x, y) in enumerate(points) if k != i)


def _distance(box: TextBox, point: tuple[float, float]) -> float:
    """From a point to the nearest point of a box, px."""
    x, y = point
    return math.hypot(max(box.x0 - x, 0.0, x - box.x1), max(box.y0 - y, 0.0, y - box.y1))


#: Label gap from a point: place_label's corners are 0.7 gap from it, outside a 9 px marker from 6.5 px.
_GAP = 7.0


def _place(chart: Chart, x: float, y: float, text: str, within: tuple[float, float, float, float],
           colour: str) -> TextBox | None:
    """:meth:`Chart.place_label` in ``colour``, on a white ground (a grid line or cross-hair
    under it is hidden)."""
    spot = chart.free_spot(text, chart.label_spots(x, y, text, gap=_GAP), within=within)
    if spot is None:
        return None
    chart.rect(spot[0], spot[1], chart.measure(text), MIN_PT * PX_PER_PT, fill="white")  # no line through it
    return chart.text(spot[0], spot[1], text, valign="top", colour=colour)


#: Directions tried for a label further out (degrees; 0 is right, 90 down): the sides first.
_FAR_ANGLES = (0, 180, 270, 90, 315, 225, 45, 135, 340, 200, 20, 160, 300, 240, 60, 120, 330, 210, 30, 150, 285,
               255, 75, 105)


def _place_far(chart: Chart, x: float, y: float, text: str, within: tuple[float, float, float, float],
               colour: str) -> TextBox | None:
    """A label further from its point, joined to it by a thin leader line, where neither the
    label nor the line touches a text or an obstacle (a canvas primitive we lack)."""
    w, h = chart.measure(text), MIN_PT * PX_PER_PT
    taken = chart.texts + chart.obstacles
    for dist in (16.0, 24.0, 34.0, 46.0, 60.0, 76.0, 95.0, 120.0):
        for angle in _FAR_ANGLES:
            ux, uy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            ex, ey = x + dist * ux, y + dist * uy
            left = ex if ux > 0.38 else ex - w if ux < -0.38 else ex - w / 2
            top = ey if uy > 0.38 else ey - h if uy < -0.38 else ey - h / 2
            box = TextBox(text, left, top, left + w, top + h, MIN_PT)
            if left < within[0] or top < within[1] or left + w > within[2] or top + h > within[3]:
                continue
            if any(box.collides(other, slack=0.0) for other in taken):
                continue
            steps = [x + ux * s for s in np.arange(7.0, dist, 2.0)], [y + uy * s for s in np.arange(7.0, dist, 2.0)]
            if any(o.x0 < px < o.x1 and o.y0 < py < o.y1 for px, py in zip(*steps, strict=True) for o in taken):
                continue
            chart.line(x + 6 * ux, y + 6 * uy, ex, ey, colour=INK, width=0.6)
            chart.rect(left, top, w, h, fill="white")
            return chart.text(left, top, text, valign="top", colour=colour)
    return None


def number_key(chart: Chart, key: list[tuple[str, str]], top: float) -> float:
    """The names of the numbered points under the chart, "1 = name", as many to a row as fit;
    returns the y under them."""
    if not key:
        return top
    room = chart.width - 2 * PAD
    items = [chart.wrap(f"{number} = {name}", room, max_lines=1)[0] for number, name in key]
    x, y = PAD, top + 2
    for item, (number, name) in zip(items, key, strict=True):
        w = chart.measure(item)
        if x > PAD and x + w > chart.width - PAD:
            x, y = PAD, y + LINE
        chart.text(x, y, item, valign="top")
        chart.mark("key", number=number, label=name)
        x += w + 16
    return y + LINE
