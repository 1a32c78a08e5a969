"""The path diagram of a PLS satisfaction model (stage 04): blocks as boxes, paths as arrows with
their coefficients, drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (no Graphviz binary,
no matplotlib)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import DataError
from csm_helpers.core.graphs import find_cycle
from csm_helpers.core.i18n import _
from csm_helpers.present.catalogue import MINUS, block_label
from csm_helpers.present.charts.canvas import MIN_PT, PAD, PX_PER_PT, Chart
from csm_helpers.present.charts.palette import DARK, INK, tint_hex

__all__ = ["plot_path_model"]

_EM = MIN_PT * PX_PER_PT  # height of a line of text, px
_STEP = _EM * 1.2  # from one line of text to the next
_PAD_X, _PAD_Y = 6.0, 5.0  # inside a box, around its text
_LABEL_PAD = 2.0  # white margin around a coefficient label
_GAP = 3.0  # between a box and the end of an arrow
_MIN_GAP = 56.0  # between two columns of boxes, when the boxes can be that narrow
_DASH = "6 4"  # a path that may be zero
_TAIL = 12.0  # of an arrow's start, never under its label
#: A word a line is not broken in (CJK text breaks between any two characters).
_WORD = re.compile(r"[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+")


#: A path that may be zero: dashed and grey (#666666, 5.7:1 on white, still readable).
_WEAK = tint_hex(INK, 0.25)

#: Where the ECSI blocks sit (column, row; rows count upwards): the usual drawing of the model
#: (Tenenhaus et al. 2005, fig. 1): image above, expectation and quality down the left, value
#: below, satisfaction in the middle, loyalty to the right. Value sits half a row below quality,
#: so that the arrow between them is not level and its label can leave the narrow gap between
#: two columns; no arrow crosses a box.
_ECSI_LAYOUT = {"image": (1.0, 2.0), "expectation": (0.0, 1.0), "quality": (0.0, 0.0), "value": (1.0, -0.5),
                "satisfaction": (2.0, 1.0), "loyalty": (3.0, 1.6)}

_Rect = tuple[float, float, float, float]
#: Where a label may sit along its arrow (0: the start, 1: the head): the middle first.
_ALONG = (0.5, *(0.5 + s * k * 0.05 for k in range(1, 9) for s in (-1, 1)))


def _layouts(blocks: list[str], edges: list[tuple[str, str]]) -> list[dict[str, tuple[float, float]]]:
    """Drawings to try, each the (column, row) of every block, rows counting upwards: for the
    ECSI blocks the ECSI drawing first; then a layered drawing with a column per step of the
    longest path from a source block, and the same squeezed into four and into three columns
    (a column then holds consecutive steps, the earlier above)."""
    ecsi = [{b: _ECSI_LAYOUT[b] for b in blocks}] if set(blocks) == set(_ECSI_LAYOUT) else []
    depth = dict.fromkeys(blocks, 0)
    for _round in blocks:  # longest path in a DAG: relax |V| times
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    steps = max(depth.values())
    return ecsi + [_rows(edges, {b: round(d * (n - 1) / steps) for b, d in depth.items()}, depth)
                   for n in dict.fromkeys([steps + 1, 4, 3]) if n <= steps + 1]


def _rows(edges: list[tuple[str, str]], column: dict[str, int], depth: dict[str, int]
          ) -> dict[str, tuple[float, float]]:
    """Rows by a barycentre pass, column by column: each column in the order of its blocks'
    steps, then of the mean row of their predecessors, centred. An arrow that skips columns holds
    a place in each column it crosses (a dummy node, as in Sugiyama's layered drawing), so that
    it passes beside their boxes; every other column is half a row lower, so that no arrow
    between neighbouring columns is level (its label can then leave the gap between them)."""
    level: dict[str | tuple[int, int], int] = dict(column)
    rank: dict[str | tuple[int, int], float] = {b: float(d) for b, d in depth.items()}
    links: list[tuple[str | tuple[int, int], str | tuple[int, int]]] = []
    for i, (a, b) in enumerate(edges):  # a chain of dummies (path, column) across the columns it skips
        chain: list[str | tuple[int, int]] = [a, *((i, c) for c in range(column[a] + 1, column[b])), b]
        for c in range(column[a] + 1, column[b]):
            level[(i, c)] = c
            rank[(i, c)] = depth[a] + (depth[b] - depth[a]) * (c - column[a]) / (column[b] - column[a])
        links.extend(zip(chain, chain[1:], strict=False))
    nodes = list(level)
    row: dict[str | tuple[int, int], float] = {}
    for c in range(max(column.values()) + 1):
        here = [v for v in nodes if level[v] == c]
        pred = {v: [row[a] for a, t in links if t == v and a in row] for v in here}
        here.sort(key=lambda v: (rank[v], float(np.mean(pred[v])) if pred[v] else 0.0, nodes.index(v)))
        half = 0.5 if c % 2 else 0.0
        start = round(-(len(here) - 1) / 2 - half) + half  # centred, on whole rows or half rows
        row.update({v: start + i for i, v in enumerate(here)})
    return {b: (float(c), -row[b]) for b, c in column.items()}


def _path_intervals(paths: pd.DataFrame, intervals: pd.DataFrame | None) -> tuple[list[tuple[float, float]], bool]:
    """Per path its bootstrap interval (NaN, NaN when none is given), and whether intervals were given."""
    if intervals is None or not len(intervals):
        return [(np.nan, np.nan)] * len(paths), False
    require_table(intervals, ["from", "to", "ci_low", "ci_high"], "bootstrap table", "bootstrap_pls()")
    ci = {(str(a), str(b)): (float(lo), float(hi)) for a, b, lo, hi in
          zip(intervals["from"], intervals["to"], intervals["ci_low"], intervals["ci_high"], strict=True)}
    return [ci.get((str(a), str(b)), (np.nan, np.nan)) for a, b in zip(paths["from"], paths["to"], strict=True)], True


def _doubtful(paths: pd.DataFrame, ci: list[tuple[float, float]], by_interval: bool) -> list[bool]:
    """Per path: whether its interval contains 0 (or, without intervals, p >= 0.05)."""
    if by_interval:
        return [bool(np.isfinite(lo) and np.isfinite(hi) and lo <= 0 <= hi) for lo, hi in ci]
    if "p_value" in paths.columns:
        return [bool(pd.notna(p) and p >= 0.05) for p in paths["p_value"]]
    return [False] * len(paths)


def _number(value: float) -> str:
    return f"{float(value):.2f}".replace("-", MINUS)


def _crosses(x1: float, y1: float, x2: float, y2: float, rect: _Rect, margin: float) -> bool:
    """Whether the segment passes through ``rect`` grown by ``margin`` px a side (Liang–Barsky)."""
    x0r, y0r, x1r, y1r = rect[0] - margin, rect[1] - margin, rect[2] + margin, rect[3] + margin
    lo, hi = 0.0, 1.0
    for p, q in ((x1 - x2, x1 - x0r), (x2 - x1, x1r - x1), (y1 - y2, y1 - y0r), (y2 - y1, y1r - y1)):
        if abs(p) < 1e-12:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def _apart(a: _Rect, b: _Rect, margin: float) -> bool:
    return a[2] + margin <= b[0] or b[2] + margin <= a[0] or a[3] + margin <= b[1] or b[3] + margin <= a[1]


@dataclass
class _Arrow:
    """One path as drawn: its ends (outside the boxes), line width and head length."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    head: float

    def point(self, t: float) -> tuple[float, float]:
        return self.x1 + t * (self.x2 - self.x1), self.y1 + t * (self.y2 - self.y1)

    def parts(self) -> tuple[tuple[float, float, float, float, float], tuple[float, float, float, float, float]]:
        """The shaft and the head, each a segment with its half width (plus a hair of room)."""
        length = max(math.hypot(self.x2 - self.x1, self.y2 - self.y1), 1e-9)
        bx = self.x2 - (self.x2 - self.x1) / length * self.head
        by = self.y2 - (self.y2 - self.y1) / length * self.head
        return ((self.x1, self.y1, bx, by, self.width / 2 + 1.5),
                (bx, by, self.x2, self.y2, self.head * 0.45 + 1.5))


def _edge_point(cx: float, cy: float, hw: float, hh: float, ux: float, uy: float) -> float:
    """Distance from a box's centre to its edge along the unit direction (ux, uy)."""
    return min(hw / abs(ux) if abs(ux) > 1e-12 else math.inf, hh / abs(uy) if abs(uy) > 1e-12 else math.inf)


def _arrange(centres: dict[str, tuple[float, float]], box_w: float, box_h: float, edges: list[tuple[str, str]],
             widths: list[float], forms: list[list[tuple[list[str], float, float]]], sheet: float
             ) -> tuple[int, dict[str, _Rect], list[_Arrow | None], list[tuple[list[str], _Rect] | None]]:
    """Boxes, arrows and label places for one row pitch. Each label goes on its arrow (the
    middle first, then nearer either end; in one line, else in two) where its white box meets
    no block box, no other label, no other arrow and not its own arrow head. Returns the
    number of failures (a label with no free place, an arrow through a box it does not join),
    the boxes, the arrows and the labels (lines, rectangle)."""
    boxes = {b: (x - box_w / 2, y - box_h / 2, x + box_w / 2, y + box_h / 2) for b, (x, y) in centres.items()}
    arrows: list[_Arrow | None] = []
    for (a, b), width in zip(edges, widths, strict=True):
        (xa, ya), (xb, yb) = centres[a], centres[b]
        length = math.hypot(xb - xa, yb - ya)
        if not forms[len(arrows)] or length < 1e-9:
            arrows.append(None)
            continue
        ux, uy = (xb - xa) / length, (yb - ya) / length
        sa = _edge_point(xa, ya, box_w / 2, box_h / 2, ux, uy) + _GAP
        sb = _edge_point(xb, yb, box_w / 2, box_h / 2, ux, uy) + _GAP
        if sa + sb >= length:  # boxes touching: no room for the arrow
            arrows.append(None)
            continue
        arrows.append(_Arrow(xa + ux * sa, ya + uy * sa, xb - ux * sb, yb - uy * sb, width, 6.0 + 1.6 * width))
    shown = list(boxes.values())
    failures = sum(not _apart(r, q, 8.0) for i, r in enumerate(shown) for q in shown[i + 1:])
    for i, (a, b) in enumerate(edges):
        arrow = arrows[i]
        if arrow is None:
            failures += bool(forms[i])
            continue
        shaft = arrow.parts()[0]
        failures += any(_crosses(*shaft[:4], rect, 2.0) for k, rect in boxes.items() if k not in (a, b))
    order = [i for _length, i in sorted((math.hypot(a.x2 - a.x1, a.y2 - a.y1), i)
                                        for i, a in enumerate(arrows) if a is not None)]  # the shortest first
    best: tuple[list[int], list[tuple[list[str], _Rect] | None]] | None = None
    for _attempt in range(3):  # the labels that found no place go first the next time (one or two)
        missed, placed = _place_labels(order, arrows, forms, list(boxes.values()), sheet)
        if best is None or len(missed) < len(best[0]):
            best = missed, placed
        if not missed or len(missed) > 2:
            break
        order = missed + [i for i in order if i not in missed]
    assert best is not None
    return failures + len(best[0]), boxes, arrows, best[1]


def _place_labels(order: list[int], arrows: list[_Arrow | None], forms: list[list[tuple[list[str], float, float]]],
                  boxes: list[_Rect], sheet: float) -> tuple[list[int], list[tuple[list[str], _Rect] | None]]:
    """The labels placed in ``order`` (see :func:`_arrange`); returns the paths whose label found
    no free place (put on the middle of their arrow) and the labels."""
    placed: list[tuple[list[str], _Rect] | None] = [None] * len(arrows)
    missed = []
    taken: list[_Rect] = []
    for i in order:
        arrow = arrows[i]
        assert arrow is not None
        others = [part for j, other in enumerate(arrows) if other is not None and j != i for part in other.parts()]
        shaft, head = arrow.parts()
        length = max(math.hypot(arrow.x2 - arrow.x1, arrow.y2 - arrow.y1), 1e-9)
        tail = (*arrow.point(0.0), *arrow.point(min(_TAIL / length, 1.0)), shaft[4])  # left showing
        spot = next((found for side in (0, 1, -1) for t in _ALONG for lines, w, h in forms[i]
                     if (found := _free(arrow, t, side, lines, w, h, boxes, taken,
                                        [*others, tail, head] if side == 0 else [*others, shaft, head], sheet))),
                    None)
        if spot is None:
            missed.append(i)
            lines, w, h = forms[i][-1]
            x, y = arrow.point(0.5)
            spot = (lines, (x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        placed[i] = spot
        taken.append(spot[1])
    return missed, placed


def _free(arrow: _Arrow, t: float, side: int, lines: list[str], w: float, h: float, boxes: list[_Rect],
          taken: list[_Rect], segments: list[tuple[float, float, float, float, float]], sheet: float
          ) -> tuple[list[str], _Rect] | None:
    """The label's white box at ``t`` along the arrow, on it (``side`` 0) or beside it, left or
    right of it (1, -1) with a gap, if it meets no box, no taken label and no segment."""
    x, y = arrow.point(t)
    if side:
        length = max(math.hypot(arrow.x2 - arrow.x1, arrow.y2 - arrow.y1), 1e-9)
        nx, ny = -(arrow.y2 - arrow.y1) / length * side, (arrow.x2 - arrow.x1) / length * side
        away = (abs(nx) * w + abs(ny) * h) / 2 + arrow.width / 2 + _GAP
        x, y = x + nx * away, y + ny * away
    rect = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    if rect[0] < PAD / 2 or rect[2] > sheet - PAD / 2 or rect[1] < PAD:
        return None
    if not all(_apart(rect, box, 5.0) for box in boxes) or not all(_apart(rect, other, 2.0) for other in taken):
        return None
    if any(_crosses(x1, y1, x2, y2, rect, r) for x1, y1, x2, y2, r in segments):
        return None
    return lines, rect


@dataclass
class _Plan:
    """A drawing laid out: the failures of :func:`_arrange`, each block's box and text lines,
    the arrows, the labels and the bottom of the lowest box or label."""

    failures: int
    content: dict[str, list[str]]
    boxes: dict[str, _Rect]
    arrows: list[_Arrow | None]
    placed: list[tuple[list[str], _Rect] | None]
    bottom: float


def _plan(chart: Chart, grid: dict[str, tuple[float, float]], names: dict[str, str], r2_text: dict[str, str],
          edges: list[tuple[str, str]], widths: list[float], forms: list[list[tuple[list[str], float, float]]],
          top: float, *, narrow: bool, limit: float) -> _Plan | None:
    """Lay a drawing out from ``top`` down. The boxes are as wide as the widest name needs (and a
    label in two lines, which may stand on an arrow down a column), at most what leaves a gap
    between the columns; or, ``narrow``, as wide as the widest word (the names wrapped, the gaps
    wider: None when that is no narrower). Never so narrow that a word or the R² is cut
    (neighbouring columns then overlap, their boxes in different rows); all as tall as the
    tallest text. The rows are moved further apart until every label has a place, or the drawing
    would reach below ``limit`` (None when it does at once); failing that, the fewest failures
    are kept (not in the tightest drawing: a quarter of the way up)."""
    blocks = list(grid)
    ncols = round(max(c for c, _row in grid.values())) + 1
    room = chart.width - 2 * PAD
    natural = max(max(max(chart.measure(names[b]), chart.measure(r2_text.get(b, ""))) for b in blocks) + 2 * _PAD_X,
                  max((f[-1][1] for f in forms if f), default=0.0) + 2 * _LABEL_PAD)
    widest = room if ncols == 1 else max((room - (ncols - 1) * _MIN_GAP) / ncols, 0.62 * room / ncols)
    words = max(chart.measure(w) for b in blocks for w in [*_WORD.findall(names[b]), r2_text.get(b, "")])
    least = min(words, room / 5) + 2 * _PAD_X  # a word up to a fifth of the sheet
    box_w = max(min(natural, widest), least)
    if narrow:
        if least >= box_w - 8:
            return None
        box_w = least
    inner = box_w - 2 * _PAD_X
    content = {b: chart.wrap(names[b], inner, max_lines=3) + (chart.wrap(r2_text[b], inner) if b in r2_text else [])
               for b in blocks}
    box_h = max(len(lines) for lines in content.values()) * _STEP + 2 * _PAD_Y
    xs = {b: chart.width / 2 if ncols == 1 else PAD + box_w / 2 + grid[b][0] * (room - box_w) / (ncols - 1)
          for b in blocks}
    row_top = max(r for _c, r in grid.values())
    span = row_top - min(r for _c, r in grid.values())

    def attempt(pitch: float) -> tuple[int, dict[str, _Rect], list[_Arrow | None], list[tuple[list[str], _Rect] | None]]:
        centres = {b: (xs[b], top + box_h / 2 + (row_top - grid[b][1]) * pitch) for b in blocks}
        return _arrange(centres, box_w, box_h, edges, widths, forms, chart.width)

    tries = []
    for pitch in range(round(box_h) + 36, round(box_h) + 361, 24):  # in steps of 24 px, then of 8 px back
        if top + box_h + span * pitch > limit:
            break
        tries.append(attempt(pitch))
        if tries[-1][0] == 0:
            if len(tries) > 1:
                tries[-1] = next((t for t in map(attempt, (pitch - 16, pitch - 8)) if t[0] == 0), tries[-1])
            break
    if not tries:
        return None
    fewest = min(t[0] for t in tries)
    failures, boxes, arrows, placed = next(t for t in tries[len(tries) // 4:] + tries if t[0] == fewest)
    bottom = max([r[3] for r in boxes.values()] + [spot[1][3] for spot in placed if spot is not None])
    return _Plan(failures, content, boxes, arrows, placed, bottom)


def plot_path_model(paths: pd.DataFrame, *, r2: Mapping[str, float] | pd.Series,
                    labels: Mapping[str, str] | None = None, intervals: pd.DataFrame | None = None,
                    highlight: str | None = None) -> Chart:
    """The path diagram of a PLS path model: each block a box (with its R²), each path an arrow
    with its coefficient (and its bootstrap interval); a path whose interval contains 0 is
    dashed and grey.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text). The blocks
    stand in columns from left to right in the order of the model: the usual ECSI drawing for
    the ECSI blocks, else a layered drawing (a column per step of the longest path, or the same
    squeezed into four or three columns, whichever is shortest). The rows are spaced until
    every label finds a free place on its arrow (on a white ground over it, else beside it),
    clear of every box, every other arrow and every other label.

    Parameters
    ----------
    paths : pandas.DataFrame
        ``from``, ``to``, ``coefficient`` (and ``p_value``), as
        :attr:`csm_helpers.analysis.pls_pm.PlsResult.paths`.
    r2 : mapping or Series
        R² of each endogenous block.
    labels : mapping, optional
        Block -> the name to show (default: the block's name, capitalised, ``_`` as spaces).
    intervals : pandas.DataFrame, optional
        ``from``, ``to``, ``ci_low``, ``ci_high`` (the path rows of
        :func:`csm_helpers.analysis.pls_pm.bootstrap_pls`): each arrow's label gives its
        interval, and a path whose interval contains 0 is the one drawn dashed; without them a
        path with ``p_value >= 0.05`` is.
    highlight : str, optional
        The block of the satisfaction index: its box is filled.

    Returns
    -------
    Chart
        One box per block, its name wrapped to the box (at most three lines) over its R²; one
        arrow per path, thicker for a larger coefficient, labelled on a white ground with the
        coefficient to two decimals and its interval ``[low, high]``. ``chart.marks`` holds a
        ``"block"`` entry per block (``block``, ``label``, ``r2``, ``highlight``, ``box``: its
        rectangle x0, y0, x1, y1 in px), a ``"path"`` entry per path drawn (a path without a
        finite coefficient is not: ``label``, ``source``, ``target``, ``value``, ``low``,
        ``high``, ``dashed``, ``text``: the label as shown, ``box``: the
        label's white rectangle, ``arrow``: x1, y1, x2, y2 from the tail to the tip of the head,
        ``width``: the line width in px) and a ``"legend"`` entry per legend key.

    Raises
    ------
    DataError
        When a column is missing or the paths make a cycle.

    Examples
    --------
    >>> p = pd.DataFrame({"from": ["a", "a", "b"], "to": ["b", "c", "c"], "coefficient": [0.5, 0.2, -0.4],
    ...                   "p_value": [0.001, 0.2, 0.01]})
    >>> chart = plot_path_model(p, r2={"b": 0.25, "c": 0.3}, highlight="c")
    >>> chart.alt
    'Satisfaction model: 3 paths; R² of C = 0.30'
    >>> [(m["source"], m["target"], m["text"], m["dashed"]) for m in chart.marks if m["kind"] == "path"]
    [('a', 'b', '0.50', False), ('a', 'c', '0.20', True), ('b', 'c', '−0.40', False)]
    >>> [(m["label"], m["r2"], m["highlight"]) for m in chart.marks if m["kind"] == "block"]
    [('A', nan, False), ('B', 0.25, False), ('C', 0.3, True)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(paths, ["from", "to", "coefficient"], "path table", "pls_pm()")
    edges = [(str(a), str(b)) for a, b in zip(paths["from"], paths["to"], strict=True)]
    blocks = list(dict.fromkeys(x for e in edges for x in e))
    cycle = find_cycle(blocks, edges)
    if cycle:
        raise DataError(f"path diagram: the paths make a cycle {' -> '.join(cycle)} — a PLS path model is recursive")
    chart = Chart("path-model")
    if not edges:
        return chart.empty(_("Satisfaction-index model (PLS path modelling)"), _("nothing to show"))
    names = {b: block_label(b, labels) for b in blocks}
    r2 = {str(k): float(v) for k, v in dict(r2).items() if pd.notna(v)}
    ci, by_interval = _path_intervals(paths, intervals)
    doubtful = _doubtful(paths, ci, by_interval)
    coefs = paths["coefficient"].to_numpy(float)

    title_block = highlight if highlight in r2 else blocks[-1]
    top = chart.title([_("Satisfaction model: {k} paths; R² of {block} = {r2}", k=len(edges),
                         block=chart.wrap(names[title_block], 320, max_lines=1)[0],
                         r2=f"{r2.get(title_block, np.nan):.2f}")]) + 6

    # the labels, in one line or two; a path without a finite coefficient is not drawn
    forms: list[list[tuple[list[str], float, float]]] = []  # (lines, width, height of the white box)
    for coef, (lo, hi) in zip(coefs, ci, strict=True):
        if not np.isfinite(coef):
            forms.append([])
            continue
        interval = f"[{_number(lo)}, {_number(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else ""
        shapes = [[f"{_number(coef)} {interval}"], [_number(coef), interval]] if interval else [[_number(coef)]]
        forms.append([(lines, max(chart.measure(line) for line in lines) + 2 * _LABEL_PAD,
                       (len(lines) - 1) * _STEP + _EM + 2 * _LABEL_PAD) for lines in shapes])

    r2_text = {b: _("R² = {r2}", r2=f"{r2[b]:.2f}") for b in blocks if b in r2}
    widths = [0.8 + 2.2 * min(abs(float(c)), 1.0) if np.isfinite(c) else 0.0 for c in coefs]
    plan: _Plan | None = None  # the ECSI drawing if every label fits, else the shortest where they do (or the fewest failures)
    for k, grid in enumerate(_layouts(blocks, edges)):
        if k == 1 and plan is not None and plan.failures == 0 and set(blocks) == set(_ECSI_LAYOUT):
            break
        for narrow in (False, True):
            limit = plan.bottom if plan is not None and plan.failures == 0 else math.inf
            found = _plan(chart, grid, names, r2_text, edges, widths, forms, top, narrow=narrow, limit=limit)
            if found is not None and (plan is None or (found.failures, found.bottom) < (plan.failures, plan.bottom)):
                plan = found
    assert plan is not None
    boxes, arrows, placed = plan.boxes, plan.arrows, plan.placed

    for i, arrow in enumerate(arrows):
        if arrow is not None:
            chart.arrow(arrow.x1, arrow.y1, arrow.x2, arrow.y2, colour=_WEAK if doubtful[i] else DARK, width=arrow.width,
                        head=arrow.head, dash=_DASH if doubtful[i] else None)
    for b in blocks:
        x0, y0, x1, y1 = boxes[b]
        filled = b == highlight
        chart.rect(x0, y0, x1 - x0, y1 - y0, fill=DARK if filled else "white", edge=DARK,
                   edge_width=2.0 if filled else 1.2)
        lines = plan.content[b]
        chart.lines((x0 + x1) / 2, (y0 + y1) / 2 - ((len(lines) - 1) * _STEP + _EM) / 2, lines, anchor="middle",
                    colour="white" if filled else "#1a1a1a")
        chart.mark("block", block=b, label=names[b], r2=r2.get(b, np.nan), highlight=filled, box=boxes[b])
    for i, ((a, b), spot, arrow) in enumerate(zip(edges, placed, arrows, strict=True)):
        if spot is None or arrow is None:
            continue
        lines, (x0, y0, x1, y1) = spot
        colour = _WEAK if doubtful[i] else DARK
        chart.rect(x0, y0, x1 - x0, y1 - y0, fill="white")
        chart.lines((x0 + x1) / 2, y0 + _LABEL_PAD, lines, anchor="middle", colour=colour)
        chart.mark("path", label=f"{names[a]} → {names[b]}", source=a, target=b, value=float(coefs[i]), low=float(ci[i][0]), high=float(ci[i][1]),
                   dashed=doubtful[i], text=" ".join(lines), box=(x0, y0, x1, y1), width=arrow.width,
                   arrow=(arrow.x1, arrow.y1, arrow.x2, arrow.y2))

    under = plan.bottom + 14
    items = [(_("arrow: path coefficient (thicker = larger)"), "line", {"colour": DARK})]
    if any(doubtful):
        items.append((_("dashed: interval includes 0") if by_interval else _("dashed: not significant at 5 %"),
                      "line", {"colour": _WEAK, "dash": _DASH}))
    chart.finish(chart.legend(items, under))
    return chart
