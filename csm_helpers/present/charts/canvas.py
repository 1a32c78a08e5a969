"""The SVG chart writer: report charts drawn as SVG by our own code, text kept as text.

A :class:`Chart` is a sheet :data:`CHART_WIDTH` CSS px wide (the 5.8 in drawing of
:data:`~csm_helpers.present.charts.style.WIDTH` with a 0.1 in margin a side, shown at its
physical size on a desk and in print, shrunk to the screen on a phone). A chart function lays
its chart out in CSS px from the measured width of every text
(:class:`~csm_helpers.present.charts.fonts.ReportFont`), so it knows before writing a byte
that a label fits, and records every text's box: :meth:`Chart.overlaps` and
:attr:`Chart.smallest_pt` say whether any two texts collide and how small the smallest is,
without drawing anything. Drawing a chart costs a few milliseconds, against the 0.2 s of a
matplotlib figure laid out, drawn and encoded as a PNG (issue 14; ``benchmarks/batch.py
--chart-share`` measures the charts' share of a report).

Customer text is untrusted: every text is made readable (control characters shown,
:func:`csm_helpers.core.safety.readable`) and XML-escaped when written, and nothing else a
caller passes reaches the markup (colours and numbers are checked or formatted here). The
markup uses the elements of :data:`ELEMENTS` only (the exporter checks this before it puts a
chart into a report page as inline SVG).

Each chart also records what it shows, as :attr:`Chart.marks` (a bar's label, value and
interval, for example), so that a test can check a chart's content against the table it was
drawn from, without parsing the picture.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_helpers.core.safety import escape, readable
from csm_helpers.present.charts.fonts import (
    ASCENT,
    DESCENT,
    FAMILY,
    TEXT_CSS,
    font_face_css,
    font_per_chart,
    report_font,
)

__all__ = ["PX_PER_PT", "CHART_WIDTH", "PAD", "MIN_PT", "TITLE_PT", "LINE", "ELEMENTS", "ATTRIBUTES", "TextBox", "Chart", "nice_ticks", "count_top", "axis_span", "tick_format", "as_float", "is_set"]

#: CSS px per point.
PX_PER_PT = 96 / 72
#: Width of a chart in CSS px: 5.8 in of drawing and 0.1 in of margin a side, at 96 px an inch.
CHART_WIDTH = 6.0 * 96
#: The margin of a chart, CSS px.
PAD = 0.1 * 96
#: No chart text is smaller (11 pt: ``palette.MIN_FONT_PT``); titles are one point larger.
MIN_PT, TITLE_PT = 11.0, 12.0
#: From one line of 11 pt text to the next, CSS px (a leading of 1.2).
LINE = MIN_PT * PX_PER_PT * 1.2
#: The SVG elements a chart may contain (the exporter's allow-list).
ELEMENTS = frozenset({"svg", "title", "style", "defs", "pattern", "g", "rect", "line", "path", "circle",
                      "polygon", "text"})
#: The attributes those elements may carry.
ATTRIBUTES = frozenset({"class", "role", "width", "height", "viewBox", "font-family", "font-size", "fill", "id",
                        "patternUnits", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "d", "points",
                        "stroke", "stroke-width", "stroke-dasharray", "text-anchor"})
_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?|none|white|black|url\(#<UID>-[a-z0-9]+\)")
_UID = "<UID>"  # replaced by a hash of the chart: pattern ids stay unique on a page of charts
#: Hatches a rectangle may take (matplotlib's names): id, stroke path of one 8 px tile.
_HATCHES = {"////": ("fwd", "M-2 2L2 -2M0 8L8 0M6 10L10 6"), "\\\\\\\\": ("back", "M-2 6L2 10M0 0L8 8M6 -2L10 2"),
            "..": ("dots", None), "xx": ("cross", "M0 0L8 8M0 8L8 0")}


def _num(value: float) -> str:
    """A coordinate as written: one decimal, no "-0"."""
    text = f"{float(value):.1f}"
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


def _tick(fmt: str, value: float) -> str:
    """A tick label: ``fmt`` applied, with a true minus sign."""
    return fmt.format(value).replace("-", "−")


def _colour(value: str) -> str:
    if not _COLOUR.fullmatch(str(value)):
        raise ValueError(f"not a chart colour: {value!r} (use #rrggbb, 'none', 'white' or 'black')")
    return value


@dataclass(frozen=True)
class TextBox:
    """Where a text was put, in CSS px of its chart, and at what size."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size_pt: float

    def collides(self, other: TextBox, *, slack: float = 0.5) -> bool:
        """Whether the two boxes overlap by more than ``slack`` px both ways."""
        return (min(self.x1, other.x1) - max(self.x0, other.x0) > slack
                and min(self.y1, other.y1) - max(self.y0, other.y0) > slack)


@dataclass
class Chart:
    """One report chart, written as SVG.

    Parameters
    ----------
    kind : str
        What chart this is (``"drivers"``...): its CSS class and the prefix of its ids.
    width : float
        Width in CSS px (default :data:`CHART_WIDTH`).

    Examples
    --------
    >>> c = Chart("demo")
    >>> top = c.title(["Fees & <charges>"])
    >>> box = c.text(PAD, top + 20, "$5 a month", anchor="start")
    >>> c.finish()
    >>> svg = c.svg(font=False)
    >>> "Fees &amp; &lt;charges&gt;" in svg, "<charges>" in svg, c.smallest_pt, c.overlaps()
    (True, False, 11.0, [])
    """

    kind: str
    width: float = CHART_WIDTH
    height: float = 0.0
    alt: str = ""
    marks: list[dict[str, Any]] = field(default_factory=list)
    texts: list[TextBox] = field(default_factory=list)
    obstacles: list[TextBox] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list, repr=False)
    _defs: dict[str, str] = field(default_factory=dict, repr=False)

    # -- text -------------------------------------------------------------------------
    @staticmethod
    def measure(text: Any, size_pt: float = MIN_PT) -> float:
        """Width in px of ``text`` (as a chart shows it) at ``size_pt``."""
        return report_font().width(readable(text, max_chars=None), size_pt * PX_PER_PT)

    @staticmethod
    def wrap(text: Any, room: float, size_pt: float = MIN_PT, *, max_lines: int | None = None) -> list[str]:
        """``text`` (as a chart shows it) in lines at most ``room`` px wide
        (:meth:`~csm_helpers.present.charts.fonts.ReportFont.wrap`)."""
        return report_font().wrap(readable(text, max_chars=None), room, size_pt * PX_PER_PT, max_lines=max_lines)

    def one_line(self, text: Any, room: float, size_pt: float = MIN_PT) -> str:
        """``text`` on one line at most ``room`` px wide, shortened with an ellipsis when longer."""
        return self.wrap(text, room, size_pt, max_lines=1)[0]

    def text(self, x: float, y: float, text: Any, *, size: float = MIN_PT, anchor: str = "start",
             valign: str = "middle", colour: str = "#1a1a1a", record: bool = True,
             background: str | None = None) -> TextBox:
        """Write one line of text; ``y`` is its middle (``valign="middle"``), top or baseline.

        Returns its box. ``record=False`` leaves it out of :meth:`overlaps` (a label drawn on
        purpose over a bar of its own colour, for example). ``background`` (a colour) puts the
        text on a patch of it, 2 px wider a side, so that grid and other lines stop short of it.
        """
        if anchor not in ("start", "middle", "end"):
            raise ValueError(f"anchor must be start, middle or end, not {anchor!r}")
        shown = readable(text, max_chars=None)
        px = size * PX_PER_PT
        w = report_font().width(shown, px)
        base = {"middle": y + (ASCENT - DESCENT) / 2 * px, "top": y + ASCENT * px, "baseline": y}[valign]
        x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
        box = TextBox(shown, x0, base - ASCENT * px, x0 + w, base + DESCENT * px, size)
        if background is not None:
            self.rect(x0 - 2, box.y0, w + 4, box.y1 - box.y0, fill=background)
        if record:
            self.texts.append(box)
        attrs = f' text-anchor="{anchor}"' if anchor != "start" else ""
        attrs += f' font-size="{px:.2f}"' if size != MIN_PT else ""
        attrs += f' fill="{_colour(colour)}"' if colour != "#1a1a1a" else ""
        self._parts.append(f'<text x="{_num(x)}" y="{_num(base)}"{attrs}>{escape(shown)}</text>')
        return box

    def lines(self, x: float, top: float, lines: list[str], *, size: float = MIN_PT, anchor: str = "start",
              leading: float = 1.2, colour: str = "#1a1a1a") -> float:
        """Write lines of text from ``top`` down; returns the y under the last line."""
        step = size * PX_PER_PT * leading
        for i, line in enumerate(lines):
            self.text(x, top + i * step, line, size=size, anchor=anchor, valign="top", colour=colour)
        return top + len(lines) * step

    def title(self, lines: list[str], *, top: float = PAD) -> float:
        """The chart's title, centred, each given line wrapped to the chart's width; returns the
        y under it. The title is also the chart's text alternative (:attr:`alt`)."""
        wrapped = [w for line in lines for w in self.wrap(line, self.width - 2 * PAD, TITLE_PT)]
        self.alt = self.alt or " ".join(readable(line, max_chars=None) for line in lines)
        return self.lines(self.width / 2, top, wrapped, size=TITLE_PT, anchor="middle", leading=1.25) + 4

    # -- shapes -----------------------------------------------------------------------
    def _fill(self, fill: str, hatch: str | None, edge: str) -> str:
        if hatch is None:
            return _colour(fill)
        if hatch not in _HATCHES:
            raise ValueError(f"hatch must be one of {sorted(_HATCHES)}, not {hatch!r}")
        name, stroke = _HATCHES[hatch]
        pid = f"{self.kind}-{name}-{fill.strip('#')}".lower()
        if pid not in self._defs:
            bg = "" if fill in ("none", "white") else f'<rect width="8" height="8" fill="{_colour(fill)}"/>'
            mark = (f'<circle cx="2" cy="2" r="1" fill="{_colour(edge)}"/><circle cx="6" cy="6" r="1" '
                    f'fill="{_colour(edge)}"/>') if stroke is None else \
                f'<path d="{stroke}" stroke="{_colour(edge)}" stroke-width="0.8"/>'
            self._defs[pid] = (f'<pattern id="{_UID}-{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
                               f"{bg}{mark}</pattern>")
        return f"url(#{_UID}-{pid})"

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str, edge: str | None = None,
             edge_width: float = 0.9, hatch: str | None = None) -> None:
        """A rectangle (a bar); ``hatch`` ("////", "\\\\\\\\", "..", "xx") tells it apart without colour."""
        stroke = f' stroke="{_colour(edge)}" stroke-width="{edge_width:g}"' if edge else ""
        paint = self._fill(fill, hatch, edge or "#000000")
        self._parts.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}" '
                           f'height="{_num(max(h, 0))}" fill="{paint}"{stroke}/>')

    def line(self, x1: float, y1: float, x2: float, y2: float, *, colour: str = "#000000", width: float = 1.0,
             dash: str | None = None) -> None:
        """A straight line; ``dash`` as ``"4 3"`` (px on, px off)."""
        d = f' stroke-dasharray="{dash}"' if dash and re.fullmatch(r"[\d. ]+", dash) else ""
        self._parts.append(f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
                           f'stroke="{_colour(colour)}" stroke-width="{width:g}"{d}/>')

    def whisker(self, x_low: float, x_high: float, y: float, *, cap: float = 3.5, colour: str = "#000000",
                width: float = 1.2) -> None:
        """A horizontal interval with end caps (a confidence or bootstrap interval)."""
        self._parts.append(f'<path d="M{_num(x_low)} {_num(y)}H{_num(x_high)}M{_num(x_low)} {_num(y - cap)}'
                           f'V{_num(y + cap)}M{_num(x_high)} {_num(y - cap)}V{_num(y + cap)}" '
                           f'stroke="{_colour(colour)}" stroke-width="{width:g}" fill="none"/>')

    def vwhisker(self, x: float, y_low: float, y_high: float, *, cap: float = 3.5, colour: str = "#000000",
                 width: float = 1.2) -> None:
        """A vertical interval with end caps."""
        self._parts.append(f'<path d="M{_num(x)} {_num(y_low)}V{_num(y_high)}M{_num(x - cap)} {_num(y_low)}'
                           f'H{_num(x + cap)}M{_num(x - cap)} {_num(y_high)}H{_num(x + cap)}" '
                           f'stroke="{_colour(colour)}" stroke-width="{width:g}" fill="none"/>')

    def circle(self, cx: float, cy: float, r: float, *, fill: str, edge: str | None = None) -> None:
        """A dot (a point estimate)."""
        stroke = f' stroke="{_colour(edge)}"' if edge else ""
        self._parts.append(f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{r:g}" fill="{_colour(fill)}"{stroke}/>')

    # -- parts every chart shares -----------------------------------------------------
    def reach(self, values: Any, labels: list[str], room: float, *, gap: float = 4.0) -> float:
        """How far a value axis from 0 must reach for each value's label (``labels``) to fit
        right of its bar, ``gap`` px from it, in a plot ``room`` px wide."""
        return max([float(v) * room / max(room - gap - self.measure(t), 1.0)
                    for v, t in zip(values, labels, strict=True) if math.isfinite(float(v))] or [0.0])

    def axis_ticks(self, low: float, high: float, room: float, fmt: str = "{:g}", *,
                   integer: bool = False) -> list[float]:
        """:func:`nice_ticks` covering [low, high] with as many intervals (6 at most) as let
        the tick labels (``fmt``) stand 8 px apart across ``room`` px."""
        ticks = [low, high]
        for most in (6, 5, 4, 3, 2, 1):
            ticks = nice_ticks(low, high, most=most, integer=integer)
            scale = room / max(ticks[-1] - ticks[0], 1e-12)
            widths = [self.measure(_tick(fmt, t)) for t in ticks]
            if all((b - a) * scale >= (wa + wb) / 2 + 8
                   for a, b, wa, wb in zip(ticks, ticks[1:], widths, widths[1:], strict=False)):
                break
        return ticks

    def value_axis(self, left: float, right: float, top: float, bottom: float, low: float, high: float, *,
                   label: str = "", fmt: str = "{:g}", ticks: list[float] | None = None,
                   wide_label: bool = True, integer: bool = False) -> float:
        """A horizontal value axis from ``low`` to ``high`` drawn between ``left`` and ``right``:
        light vertical grid lines over the plot (``top`` to ``bottom``), tick labels under it
        (``fmt``, e.g. ``"{:g}%"``), the base line, and ``label`` wrapped to the plot's width,
        centred under the ticks — or, with ``wide_label``, centred under the whole chart when
        it is wider than the plot. Returns the y under the label.

        Ticks are ``ticks``, else :meth:`axis_ticks` within [low, high] (``integer``: whole
        numbers only, for counts).
        """
        scale = (right - left) / (high - low)
        for value in ticks if ticks is not None else self.axis_ticks(low, high, right - left, fmt, integer=integer):
            if value < low - 1e-9 or value > high + 1e-9:
                continue
            x = left + (value - low) * scale
            self.line(x, top, x, bottom, colour="#dddddd", width=0.8)
            shown = _tick(fmt, value)
            half = self.measure(shown) / 2  # an end label stays on the sheet
            self.text(min(max(x, PAD + half), self.width - PAD - half), bottom + 4, shown, anchor="middle",
                      valign="top")
        self.line(left, bottom, right, bottom, colour="#000000", width=0.8)
        y = bottom + 4 + MIN_PT * PX_PER_PT * 1.2 + 4
        if label:  # centred under the plot, or under the whole chart when it is wider than the plot
            fits = self.measure(label) <= right - left or not wide_label
            centre, room = ((left + right) / 2, right - left) if fits else (self.width / 2, self.width - 2 * PAD)
            y = self.lines(centre, y, self.wrap(label, room), anchor="middle")
        return y

    def vertical_axis(self, left: float, right: float, top: float, bottom: float, low: float, high: float, *,
                      label: str = "", fmt: str = "{:g}", integer: bool = False) -> float:
        """A vertical value axis from ``low`` (at ``bottom``) to ``high`` (at ``top``): light
        horizontal grid lines across the plot, tick labels left of ``left`` (right-aligned),
        and ``label`` written *above* the plot, left-aligned, not turned on its side (it reads
        on a phone without turning it). Call it before drawing the plot; the caller leaves
        room left of ``left`` for the tick labels (:meth:`tick_room`) and above ``top`` for the
        label (one line: ``MIN_PT`` × 1.2 pt). Returns the y above the label (its top).
        ``integer``: whole-number ticks only (counts).
        """
        scale = (bottom - top) / (high - low)
        for value in nice_ticks(low, high, integer=integer):
            if value < low - 1e-9 or value > high + 1e-9:
                continue
            y = bottom - (value - low) * scale
            self.line(left, y, right, y, colour="#dddddd", width=0.8)
            self.text(left - 4, y, _tick(fmt, value), anchor="end")
        self.line(left, top, left, bottom, colour="#000000", width=0.8)
        if not label:
            return top
        lines = self.wrap(label, self.width - 2 * PAD)
        first = top - 6 - len(lines) * MIN_PT * PX_PER_PT * 1.2
        self.lines(PAD, first, lines)
        return first

    def grid(self, left: float, right: float, top: float, bottom: float, low: float, high: float) -> None:
        """Light vertical grid lines at the ticks of [low, high], as :meth:`value_axis` draws
        them, over a part of a plot whose tick labels are written further down."""
        scale = (right - left) / (high - low)
        for value in nice_ticks(low, high):
            if low - 1e-9 <= value <= high + 1e-9:
                x = left + (value - low) * scale
                self.line(x, top, x, bottom, colour="#dddddd", width=0.8)

    def end_room(self, ticks: list[float], fmt: str) -> float:
        """Half the width of the wider end tick label (a plot stops that far from the sheet's edge)."""
        return max(self.measure(_tick(fmt, t)) for t in (ticks[0], ticks[-1])) / 2

    def count_label(self, name: Any, count: str, room: float) -> list[str]:
        """A row label: ``name`` in at most two lines of ``room`` px, then ``(count)`` on the last
        line when it fits, else on a line of its own."""
        lines = self.wrap(name, room, max_lines=2) or [""]
        tail = f"({count})"
        if self.measure(f"{lines[-1]} {tail}") <= room:
            lines[-1] = f"{lines[-1]} {tail}".strip()
        else:
            lines.append(tail)
        return lines

    def tick_room(self, low: float, high: float, fmt: str = "{:g}") -> float:
        """Width in px of the widest tick label :meth:`vertical_axis` writes for [low, high], plus its gap."""
        return max(self.measure(_tick(fmt, v)) for v in nice_ticks(low, high)) + 4

    def legend(self, items: list[tuple[str, str, dict[str, Any]]], top: float) -> float:
        """A legend under the chart, centred: one row when it fits, else as many rows as it
        needs. ``items`` are (label, key, style): key "box" (a bar: ``fill``, ``hatch``),
        "whisker" (an interval), "dot" (``fill``, ``shape``) or "line" (``colour``, ``dash``). Returns
        the y under it."""
        px = MIN_PT * PX_PER_PT
        gap, key_w = 16.0, 20.0
        widths = [key_w + 5 + self.measure(label) for label, _k, _s in items]
        rows: list[list[int]] = [[]]
        used = 0.0
        for i, w in enumerate(widths):
            if rows[-1] and used + gap + w > self.width - 2 * PAD:
                rows.append([])
                used = 0.0
            used += (gap if rows[-1] else 0) + w
            rows[-1].append(i)
        y = top
        for row in rows:
            total = sum(widths[i] for i in row) + gap * (len(row) - 1)
            x = (self.width - total) / 2
            mid = y + px * 0.6
            for i in row:
                label, key, style = items[i]
                if key == "box":
                    self.rect(x, mid - 5, key_w, 10, fill=style.get("fill", "white"), edge=style.get("edge", "#000000"),
                              hatch=style.get("hatch"))
                elif key == "whisker":
                    self.whisker(x + 2, x + key_w - 2, mid)
                elif key == "dot":
                    self.dot(x + key_w / 2, mid, shape=style.get("shape", "circle"), fill=style.get("fill", "#000000"),
                             edge=style.get("edge", "#000000"), obstacle=False)
                elif key == "line":
                    self.line(x, mid, x + key_w, mid, colour=style.get("colour", "#000000"), width=1.5,
                              dash=style.get("dash"))
                else:
                    raise ValueError(f"legend key must be box, whisker, dot or line, not {key!r}")
                self.text(x + key_w + 5, mid, label)
                self.mark("legend", label=label, key=key)
                x += widths[i] + gap
            y += px * 1.5
        return y

    def category_labels(self, labels: list[str], top: float, *, room: float | None = None, max_lines: int = 2,
                        min_row: float = 0.3 * 96) -> tuple[float, list[float], float]:
        """Row labels down the left side, each wrapped to ``room`` px (default 40 % of the
        chart) in at most ``max_lines`` lines, right-aligned and centred on its row.

        Returns where the plot starts (x), the centre of each row (y) and the row height: a
        row is ``min_row`` px (0.3 in) or as tall as its longest label needs.
        """
        room = room or 0.4 * self.width
        wrapped = [self.wrap(label, room, max_lines=max_lines) for label in labels]
        step = MIN_PT * PX_PER_PT * 1.2
        row = max(min_row, max(len(w) for w in wrapped) * step + 6)
        edge = PAD + max(self.measure(line) for w in wrapped for line in w)
        centres = [top + (i + 0.5) * row for i in range(len(labels))]
        for lines, mid in zip(wrapped, centres, strict=True):
            self.lines(edge, mid - len(lines) * step / 2, lines, anchor="end")
        return edge + 6, centres, row

    def empty(self, title: str, message: str) -> Chart:
        """The chart of a table with nothing to draw: its title and ``message``."""
        top = self.title([title])
        self.text(self.width / 2, top + 30, message, anchor="middle")
        self.finish(top + 44)
        return self

    def polyline(self, points: list[tuple[float, float]], *, colour: str = "#000000", width: float = 1.5,
                 dash: str | None = None) -> None:
        """A line through ``points`` (a series over waves, a cumulative share)."""
        if len(points) < 2:
            return
        d = "M" + "L".join(f"{_num(x)} {_num(y)}" for x, y in points)
        dashed = f' stroke-dasharray="{dash}"' if dash and re.fullmatch(r"[\d. ]+", dash) else ""
        self._parts.append(f'<path d="{d}" stroke="{_colour(colour)}" stroke-width="{width:g}" fill="none"'
                           f'{dashed}/>')

    def polygon(self, points: list[tuple[float, float]], *, fill: str, edge: str | None = None,
                edge_width: float = 0.9, hatch: str | None = None) -> None:
        """A closed shape (a band between two lines, an arrow head, an iceberg)."""
        stroke = f' stroke="{_colour(edge)}" stroke-width="{edge_width:g}"' if edge else ""
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self._parts.append(f'<polygon points="{pts}" fill="{self._fill(fill, hatch, edge or "#000000")}"{stroke}/>')

    def dot(self, cx: float, cy: float, *, shape: str = "circle", size: float = 9.0, fill: str = "#000000",
            edge: str | None = "#000000", obstacle: bool = True) -> None:
        """A marker ``size`` px across: "circle", "square", "triangle", "diamond" or "star" (a shape
        tells series apart without colour). With ``obstacle``, :meth:`place_label` keeps
        labels off it."""
        r = size / 2
        if shape == "circle":
            self.circle(cx, cy, r, fill=fill, edge=edge)
        elif shape == "square":
            self.rect(cx - r, cy - r, size, size, fill=fill, edge=edge, edge_width=0.8)
        elif shape == "triangle":
            self.polygon([(cx, cy - r * 1.15), (cx + r * 1.1, cy + r * 0.85), (cx - r * 1.1, cy + r * 0.85)],
                         fill=fill, edge=edge, edge_width=0.8)
        elif shape == "diamond":
            self.polygon([(cx, cy - r * 1.2), (cx + r, cy), (cx, cy + r * 1.2), (cx - r, cy)], fill=fill, edge=edge,
                         edge_width=0.8)
        elif shape == "star":  # five points, as heavy as a dot of ``size``
            r *= 1.24
            self.polygon([(cx + (r if i % 2 == 0 else r * 0.45) * math.sin(i * math.pi / 5),
                           cy - (r if i % 2 == 0 else r * 0.45) * math.cos(i * math.pi / 5)) for i in range(10)],
                         fill=fill, edge=edge, edge_width=0.9)
        else:
            raise ValueError(f"shape must be circle, square, triangle, diamond or star, not {shape!r}")
        if obstacle:
            self.obstacles.append(TextBox("", cx - r, cy - r, cx + r, cy + r, 0.0))

    def arrow(self, x1: float, y1: float, x2: float, y2: float, *, colour: str = "#000000", width: float = 1.2,
              head: float = 7.0, dash: str | None = None) -> None:
        """A straight arrow from (x1, y1) to (x2, y2), its head ending at (x2, y2); ``dash`` as
        for :meth:`line` (the head stays solid)."""
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 1e-9:
            return
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by = x2 - ux * head, y2 - uy * head
        self.line(x1, y1, bx, by, colour=colour, width=width, dash=dash)
        self.polygon([(x2, y2), (bx - uy * head * 0.45, by + ux * head * 0.45), (bx + uy * head * 0.45,
                                                                                by - ux * head * 0.45)],
                     fill=colour, edge=None)

    def label_spots(self, x: float, y: float, text: str, *, gap: float = 6.0,
                    size: float = MIN_PT) -> list[tuple[float, float]]:
        """Where ``text`` may go next to the point (x, y), as (left, top), ``gap`` px from it:
        right, left, above, below, then the four corners."""
        w, h = self.measure(text, size), size * PX_PER_PT
        return [(x + gap, y - h / 2), (x - gap - w, y - h / 2), (x - w / 2, y - gap - h), (x - w / 2, y + gap),
                (x + gap * 0.7, y - gap * 0.7 - h), (x - gap * 0.7 - w, y - gap * 0.7 - h),
                (x + gap * 0.7, y + gap * 0.7), (x - gap * 0.7 - w, y + gap * 0.7)]

    def free_spot(self, text: str, spots: list[tuple[float, float]], *,
                  within: tuple[float, float, float, float] | None = None,
                  size: float = MIN_PT) -> tuple[float, float] | None:
        """The first of ``spots`` (left, top) where ``text`` stays ``within`` (x0, y0, x1, y1;
        default: the sheet) and collides with no text and no marker already on the chart;
        None when none is free. Nothing is written."""
        w, h = self.measure(text, size), size * PX_PER_PT
        x0b, y0b, x1b, y1b = within or (PAD, PAD, self.width - PAD, float("inf"))
        taken = self.texts + self.obstacles
        for left, top in spots:
            box = TextBox(text, left, top, left + w, top + h, size)
            if left < x0b or top < y0b or left + w > x1b or top + h > y1b:
                continue
            if not any(box.collides(other, slack=0.0) for other in taken):
                return left, top
        return None

    def place_label(self, x: float, y: float, text: str, *, gap: float = 6.0, within: tuple[float, float, float, float]
                    | None = None, size: float = MIN_PT) -> TextBox | None:
        """Write ``text`` next to the point (x, y) at the first :meth:`label_spots` that is
        :meth:`free_spot` within ``within`` (default: the sheet). Returns its box, or None when
        no place is free (the caller then numbers the point and lists it, for example).
        """
        spot = self.free_spot(text, self.label_spots(x, y, text, gap=gap, size=size), within=within, size=size)
        return None if spot is None else self.text(spot[0], spot[1], text, size=size, valign="top")

    def mark(self, kind: str, **what: Any) -> None:
        """Record what a drawn element stands for (see :attr:`marks`)."""
        self.marks.append({"kind": kind, **what})

    # -- result -----------------------------------------------------------------------
    def finish(self, bottom: float | None = None) -> None:
        """Set the height: ``bottom`` (default: under the lowest text) plus the margin."""
        low = max((t.y1 for t in self.texts), default=0.0)
        self.height = max(bottom if bottom is not None else 0.0, low) + PAD

    @property
    def smallest_pt(self) -> float:
        """The size of the smallest text, in points (at the chart's physical width)."""
        return min((t.size_pt for t in self.texts), default=MIN_PT)

    def overlaps(self) -> list[tuple[str, str]]:
        """Pairs of texts whose boxes overlap (none, in a good chart)."""
        boxes = self.texts
        return [(a.text, b.text) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.collides(b)]

    @property
    def chars(self) -> str:
        """Every character the chart writes (for the page's font subset)."""
        return "".join(sorted({ch for t in self.texts for ch in t.text}))

    def svg(self, *, font: bool | None = None) -> str:
        """The chart as one ``<svg>`` element. ``font``: embed its own font subset
        (default :func:`~csm_helpers.present.charts.fonts.font_per_chart`)."""
        if not self.height:
            self.finish()
        embed = font_per_chart() if font is None else font
        face = font_face_css(self.chars) if embed else ""
        body = "".join(self._parts)
        defs = f"<defs>{''.join(self._defs[k] for k in sorted(self._defs))}</defs>" if self._defs else ""
        style = f'<style class="csm-font">{face}</style>' if face else ""
        w, h = _num(self.width), _num(self.height)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="csm-chart csm-chart-{self.kind}" role="img" '
                f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FAMILY},sans-serif" '
                f'font-size="{MIN_PT * PX_PER_PT:.2f}" fill="#1a1a1a">')
        out = (f"{head}<title>{escape(self.alt)}</title><style>{TEXT_CSS}</style>{defs}"
               f'<rect width="{w}" height="{h}" fill="white"/>{body}</svg>')
        # the ids depend on the drawing, not on whether it carries its font: a page that
        # drops the font (pipeline.export.inline_charts) keeps the same markup either way
        uid = "c" + hashlib.sha256(out.encode()).hexdigest()[:10]
        return out.replace(_UID, uid).replace("<style>", f"{style}<style>", 1)

    def __getitem__(self, index: int) -> Chart:
        """``chart[0]`` is the chart itself: ``plot_kpis``, ``plot_kpi_change`` and
        ``plot_progress`` returned a list of matplotlib Axes before the charts were SVG, and a
        researcher's notebook written then shows ``plot_kpis(...)[0]``; it keeps working.

        Examples
        --------
        >>> c = Chart("demo")
        >>> c[0] is c
        True
        """
        if index in (0, -1):
            return self
        raise IndexError(f"a Chart is one chart: index 0, not {index}")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        svg = self.svg()
        return ({"image/svg+xml": svg, "text/plain": f"<Chart {self.kind}: {self.alt[:80]}>"},
                {"image/svg+xml": self.metadata()})

    def metadata(self) -> dict[str, Any]:
        """What a report needs to know of the chart: its text alternative, its characters
        (for the page font), smallest text size and overlapping labels."""
        return {"csm_chart": self.kind, "alt": readable(self.alt, max_chars=300), "width": round(self.width),
                "csm_chars": self.chars, "csm_text_pt": round(self.smallest_pt, 1),
                "csm_overlaps": len(self.overlaps())}


def count_top(need: float) -> float:
    """The top of a count axis from 0 that reaches ``need`` (at least 4) with whole-number ticks.

    Examples
    --------
    >>> count_top(3.2), count_top(13), count_top(1490)
    (4.0, 15.0, 1500.0)
    """
    return nice_ticks(0.0, max(float(need), 4.0), integer=True)[-1]


def nice_ticks(low: float, high: float, *, most: int = 6, integer: bool = False) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten,
    at most ``most`` intervals; ``integer``: whole steps only (a count).

    Examples
    --------
    >>> nice_ticks(0, 47)
    [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> nice_ticks(-3, 4)
    [-4.0, -2.0, 0.0, 2.0, 4.0]
    >>> nice_ticks(0, 3.2, integer=True), nice_ticks(0, 13, integer=True)
    ([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 5.0, 10.0, 15.0])
    """
    span = max(high - low, 1e-12)
    magnitude = 10 ** math.floor(math.log10(span / most))
    steps = [m * magnitude for m in (1, 2, 2.5, 5, 10, 20)]
    if integer:
        steps = [st for st in steps if st >= 1 and float(st).is_integer()] or [1.0]
    step = next((st for st in steps if span / st <= most), steps[-1])
    first, last = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) + 0.0 for i in range(round((last - first) / step) + 1)]

def axis_span(lows: Sequence[tuple[float, float]], highs: Sequence[tuple[float, float]], *,
          minimum: float) -> tuple[float, float]:
    """The shortest axis [low, high] on which every value ``p`` of ``lows`` lies at least the
    fraction ``a`` of the axis above its low end (``(p, a)`` pairs: a margin, or the room of a
    label left of it) and every value ``q`` of ``highs`` at least ``b`` below its high end.

    With D = high − low, the pair (p, a), (q, b) needs D ≥ (q − p) / (1 − a − b); then
    low = min(p − a·D).

    Examples
    --------
    >>> axis_span([(0.0, 0.1)], [(1.0, 0.1)], minimum=0.1)
    (-0.125, 1.125)
    """
    d = max([(q - p) / (1 - a - b) for p, a in lows for q, b in highs if a + b < 0.95] + [minimum])
    low = min(p - a * d for p, a in lows)
    return low, low + d


def tick_format(low: float, high: float) -> str:
    """A tick format with as many decimals as the ticks of [low, high] need (all alike: 3.0, 3.5, 4.0).

    Examples
    --------
    >>> tick_format(3.0, 4.0), tick_format(3.0, 4.5), tick_format(0, 40)
    ('{:.1f}', '{:.2f}', '{:.0f}')
    """
    ticks = nice_ticks(low, high)
    decimals = next((d for d in range(5) if all(abs(round(v, d) - v) < 1e-9 for v in ticks)), 4)
    return "{:." + str(decimals) + "f}"


def as_float(value: Any) -> float:
    """A table cell as a float; NaN when it is not a number (None, NA, text).

    Examples
    --------
    >>> as_float("0.5"), math.isnan(as_float(None)), math.isnan(as_float("n/a"))
    (0.5, True, True)
    """
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def is_set(value: Any) -> bool:
    """A table cell read as a flag: False for None, NaN and NA, else its truth.

    Examples
    --------
    >>> is_set(True), is_set(float("nan")), is_set(None), is_set(0)
    (True, False, False, False)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    try:
        return bool(value)
    except TypeError:  # pandas.NA
        return False
