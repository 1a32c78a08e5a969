"""Charts of action planning and progress (stage 05), drawn as SVG.

Drawn by :mod:`csm_helpers.present.charts.canvas` (text kept as text, laid out from its
measured width): colours from :mod:`csm_helpers.present.charts.style`, with hatching, marker
shapes and value labels carrying the meaning too (never colour alone); values are written
on the chart, and the title says what the reader should see. Labels from the data are
escaped by the canvas.

- :func:`plot_priorities`: the priority list as ranked bars, coloured and hatched by IPA quadrant;
- :func:`plot_progress`: each KPI over the waves (one panel under the other) with its interval
  band, target line and significant changes marked;
- :func:`plot_swot`: the SWOT as a 2 x 2 grid of wrapped statements.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.action import SWOT_CATEGORIES
from csm_helpers.analysis.drivers import CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL
from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import format_change, format_kpi, kpi_label, kpi_range, kpi_short
from csm_helpers.present.charts.canvas import (
    LINE,
    MIN_PT,
    PAD,
    PX_PER_PT,
    Chart,
    TextBox,
    as_float,
    is_set,
    nice_ticks,
)
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, INK, LIGHT, MID, PURPLE, tint_hex

__all__ = ["plot_priorities", "plot_progress", "plot_swot"]


# quadrant -> (fill, hatch): told apart by the hatch as well as the colour
_QUADRANT_STYLE: dict[str, tuple[str, str | None]] = {
    CONCENTRATE: (BAD, None),
    KEEP_UP: (GOOD, "\\\\\\\\"),
    LOW_PRIORITY: ("white", ".."),
    OVERKILL: (LIGHT, "////"),
}

_PROGRESS_COLUMNS = {"wave", "kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target", "attainment",
                     "previous_wave", "change", "test", "statistic", "p_value", "significant", "suppressed", "note"}
# segment i -> colour, marker shape, dash (cycles of 3 and 4: the same triple comes back after 12)
_SEGMENT_COLOURS = (DARK, PURPLE, INK)
_SEGMENT_SHAPES = ("circle", "square", "triangle", "diamond")
_SEGMENT_DASHES = (None, "6 3", "2 2", "7 2 2 2")
_SWOT_HEADERS = {"Strength": N_("Strengths"), "Weakness": N_("Weaknesses"), "Opportunity": N_("Opportunities"),
                 "Threat": N_("Threats")}
# category -> count in words (singular, plural)
_SWOT_COUNTS = {"Strength": (N_("{n} strength"), N_("{n} strengths")),
                "Weakness": (N_("{n} weakness"), N_("{n} weaknesses")),
                "Opportunity": (N_("{n} opportunity"), N_("{n} opportunities")),
                "Threat": (N_("{n} threat"), N_("{n} threats"))}
_SWOT_FACES = {"Strength": "white", "Weakness": tint_hex(LIGHT, 0.5), "Opportunity": tint_hex(LIGHT, 0.5),
               "Threat": "white"}
#: Body lines a SWOT cell holds at most (the "+ k more" line included): a cell no taller than a phone screen.
_SWOT_MAX_LINES = 20

_STAR = 17.0  # the star behind a point whose change is significant, CSS px across


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else _("{names} and {last}", names=", ".join(names[:-1]), last=names[-1])


def _free_spot(chart: Chart, text: str, spots: list[tuple[float, float]],
               within: tuple[float, float, float, float]) -> TextBox:
    """Write ``text`` at the first of ``spots`` (left, top) that is free within ``within``
    (:meth:`Chart.free_spot`); at the first spot when none is."""
    left, top = chart.free_spot(text, spots, within=within) or spots[0]
    return chart.text(left, top, text, valign="top")


def _around(chart: Chart, x: float, y: float, text: str, order: str, gap: float = 6.0) -> list[tuple[float, float]]:
    """Spots (left, top) for ``text`` next to the point (x, y), ``gap`` px from it, in the
    ``order`` of the letters: below, above, right, left, far below, far above (b, a, r, l, B, A)."""
    w, h = chart.measure(text), MIN_PT * PX_PER_PT
    spots = {"b": (x - w / 2, y + gap), "a": (x - w / 2, y - gap - h), "r": (x + gap, y - h / 2),
             "l": (x - gap - w, y - h / 2), "B": (x - w / 2, y + gap + h + 2), "A": (x - w / 2, y - gap - 2 * h - 2)}
    return [spots[c] for c in order]


def _line_obstacles(chart: Chart, points: list[tuple[float, float]]) -> None:
    """Keep labels off a drawn line: a small box every 4 px along it (:attr:`Chart.obstacles`)."""
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        k = max(1, int(math.hypot(x2 - x1, y2 - y1) / 4))
        for i in range(k + 1):
            x, y = x1 + (x2 - x1) * i / k, y1 + (y2 - y1) * i / k
            chart.obstacles.append(TextBox("", x - 1, y - 1, x + 1, y + 1, 0.0))


# --------------------------------------------------------------------------- priorities
def plot_priorities(priority: pd.DataFrame, top: int = 10) -> Chart:
    """The priority list as horizontal bars of the score, highest priority at the top.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Each bar is the score (importance x gap) of one attribute, coloured and hatched by its
    IPA quadrant (vermillion: "Concentrate here"; green, hatched: "Keep up the good work";
    dotted white: "Low priority"; light grey, hatched: "Possible overkill") and labelled with
    ``score = importance x gap`` and the reference the gap was measured to. The row labels
    give the rank and the attribute.

    Parameters
    ----------
    priority : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.priority_list`.
    top : int
        How many ranked attributes to draw (attributes without a rank are never drawn).

    Returns
    -------
    Chart
        ``chart.marks`` holds a ``"bar"`` entry per attribute drawn, in rank order (top to
        bottom: ``rank``, ``label``, ``value`` (the score), ``importance``, ``gap``,
        ``reference``, ``quadrant``) and a ``"legend"`` entry per quadrant shown.

    Examples
    --------
    >>> pr = pd.DataFrame({"rank": pd.array([1, 2], dtype="Int64"), "label": ["Fees", "Speed"],
    ...     "quadrant": ["Concentrate here", "Possible overkill"], "importance": [0.8, 0.5],
    ...     "gap": [1.0, 0.4], "score": [0.8, 0.2], "reference_type": ["target", "target"]})
    >>> chart = plot_priorities(pr)
    >>> chart.alt
    'Act first on Fees (score 0.8, Concentrate here)'
    >>> [(m["rank"], m["label"], m["value"]) for m in chart.marks if m["kind"] == "bar"]
    [(1, 'Fees', 0.8), (2, 'Speed', 0.2)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(priority, ["rank", "label", "quadrant", "importance", "gap", "score"], "priority list",
                  "priority_list()")
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise CsmError(f"The value for `top` must be a whole number >= 1, but {top!r} was passed.")
    t = priority[priority["rank"].notna()].sort_values("rank", kind="stable").head(int(top)).reset_index(drop=True)
    n = len(t)
    chart = Chart("priorities")
    if n == 0:
        return chart.empty(_("Priority list: no attribute has a score"), _("nothing to show"))
    score = t["score"].to_numpy(float)
    importance = t["importance"].to_numpy(float)
    gap = t["gap"].to_numpy(float)
    quads = t["quadrant"].tolist()
    refs = t["reference_type"].tolist() if "reference_type" in t.columns else [None] * n
    first = t.iloc[0]
    label, score_txt = chart.one_line(first["label"], 320), f"{as_float(first['score']):.2g}"
    if isinstance(first["quadrant"], str):
        title = [_("Act first on {label} (score {score}, {quadrant})", label=label, score=score_txt,
                   quadrant=tr(first["quadrant"]))]
    else:
        title = [_("Act first on {label} (score {score})", label=label, score=score_txt)]
    if priority.attrs.get("mixed_references"):
        title.append(_("Caution: gaps measured to different references, not like-for-like"))
    y = chart.title(title)
    # value labels "score = importance x gap to reference" right of the bars: in one line when
    # the bars keep 40 % of the plot, else in two lines at most 45 % of the plot wide
    texts = [_("{score} = {importance} x {gap} to {reference}", score=f"{s:.2f}", importance=f"{i:.2f}",
               gap=f"{g:.2f}", reference=tr(ref)) if isinstance(ref, str) else f"{s:.2f} = {i:.2f} x {g:.2f}"
             for s, i, g, ref in zip(score, importance, gap, refs, strict=True)]
    rows = [f"{int(r)}. {lab}" for r, lab in zip(t["rank"], t["label"], strict=True)]
    label_room = 0.36 * chart.width
    edge = PAD + max(chart.measure(line) for r in rows for line in chart.wrap(r, label_room, max_lines=2)) + 6
    right = chart.width - PAD - chart.measure("0.00") / 2  # room for the last tick label, centred on its tick
    room = right - edge
    finite = np.where(np.isfinite(score), np.maximum(score, 0.0), 0.0)

    def axis_end(lines: list[list[str]]) -> float:  # far enough for every value label to fit right of its bar
        widths = [max(chart.measure(line) for line in v) for v in lines]
        need = max(float(s) * room / max(room - 6 - w, 1.0) for s, w in zip(finite, widths, strict=True))
        return nice_ticks(0, max(need, 1e-9))[-1]

    values = [[text] for text in texts]
    high = axis_end(values)
    if float(finite.max()) < 0.4 * high:
        values = [chart.wrap(text, 0.45 * room, max_lines=2) or [""] for text in texts]
        high = axis_end(values)
    tall = max(len(v) for v in values) * LINE + 8
    left, centres, row = chart.category_labels(rows, y + 4, room=label_room, min_row=max(0.3 * 96, tall))
    x = lambda v: left + room * float(v) / high  # noqa: E731
    bottom = centres[-1] + row / 2
    under = chart.value_axis(left, right, y + 4, bottom, 0.0, high,
                             label=_("Priority score = importance x gap (label: importance x gap, reference of the "
                                     "gap)"), fmt="{:g}")
    bar = 0.65 * min(row, 0.3 * 96)
    for i, mid in enumerate(centres):
        fill, hatch = _QUADRANT_STYLE.get(quads[i], ("white", None))
        chart.rect(left, mid - bar / 2, x(finite[i]) - left, bar, fill=fill, edge="#000000", hatch=hatch)
        chart.lines(x(finite[i]) + 6, mid - len(values[i]) * LINE / 2, values[i])
        chart.mark("bar", rank=int(t["rank"].iloc[i]), label=t["label"].iloc[i], value=float(score[i]),
                   importance=float(importance[i]), gap=float(gap[i]), reference=refs[i], quadrant=quads[i])
    present = [q for q in _QUADRANT_STYLE if q in quads]
    items = [(tr(q), "box", {"fill": _QUADRANT_STYLE[q][0], "hatch": _QUADRANT_STYLE[q][1]}) for q in present]
    chart.finish(chart.legend(items, under + 6) if items else under)
    return chart


# --------------------------------------------------------------------------- progress
def plot_progress(progress: pd.DataFrame, *, level: float = 0.95) -> Chart:
    """Each KPI over the waves: one panel per KPI, one under the other, with its interval band,
    target line and significant changes.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Waves run left to right in table order, named under each panel. Without segments the
    estimate is a line with its value written under each point and its confidence interval
    as a grey band; with segments (a ``by`` column) each segment is a line with its own
    colour, marker shape and dash, and the intervals are whiskers. A change significant
    against the previous wave is marked with a star behind the point (without segments also
    with the change; the legend names the star from two waves on); the target is a dashed line. Suppressed points are left out and the panel says so where
    they would be ("suppressed"; with segments, how many segments at that wave).

    Parameters
    ----------
    progress : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.progress`.
    level : float
        Confidence level of the intervals (legend text).

    Returns
    -------
    Chart
        ``chart.marks`` holds a ``"point"`` entry per point drawn (``kpi``, ``wave``,
        ``segment`` (None without segments), ``value``, ``low``, ``high`` (as stored: CSAT a
        proportion), ``significant``, ``change``), a ``"target"`` entry per KPI with a target
        (``kpi``, ``value``), a ``"suppressed"`` entry per point left out (``kpi``, ``wave``,
        ``segment``) and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> pr = pd.DataFrame({"wave": ["W1", "W2"], "kpi": ["csi", "csi"], "n": [300, 310],
    ...     "value": [68.0, 72.0], "ci_low": [66.0, 70.0], "ci_high": [70.0, 74.0], "target": [75.0, 75.0],
    ...     "attainment": ["not met", "not met"], "change": [None, 4.0], "p_value": [None, 0.01],
    ...     "significant": [None, True], "suppressed": [False, False]})
    >>> chart = plot_progress(pr)
    >>> chart.alt
    'W1 to W2: CSI rose significantly; 0 of 1 targets met in W2'
    >>> [(m["wave"], m["value"], m["significant"]) for m in chart.marks if m["kind"] == "point"]
    [('W1', 68.0, False), ('W2', 72.0, True)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(progress, ["wave", "kpi", "value", "ci_low", "ci_high", "significant", "suppressed"],
                  "progress table", "progress()")
    extra = [c for c in progress.columns if c not in _PROGRESS_COLUMNS]
    by = extra[0] if extra and progress.columns[0] == extra[0] else None
    kpi_list = list(dict.fromkeys(progress["kpi"]))
    waves = list(dict.fromkeys(progress["wave"]))
    chart = Chart("progress")
    if not kpi_list:
        return chart.empty(_("Progress: nothing to show"), _("nothing to show"))
    segments = list(dict.fromkeys(progress[by])) if by else [None]
    y = chart.title([_progress_title(progress, waves)]) + 6
    drawn = {"band": False, "target": False}
    for kpi in kpi_list:
        y = _progress_panel(chart, progress[progress["kpi"] == kpi], kpi, waves, by, segments, y, drawn) + 14
    pct = f"{level * 100:g}%"
    items: list[tuple[str, str, dict[str, Any]]]
    if by is None:
        items = [(_("estimate"), "line", {"colour": DARK})]
        if drawn["band"]:
            items.append((_("{level} CI", level=pct), "box", {"fill": LIGHT, "edge": LIGHT}))
    else:
        items = [(chart.one_line(seg, 220), "dot", {"shape": _SEGMENT_SHAPES[i % 4], "fill": _segment_fill(i),
                                                      "edge": _SEGMENT_COLOURS[i % 3]})
                 for i, seg in enumerate(segments)]
        if drawn["band"]:
            items.append((_("{level} CI", level=pct), "whisker", {}))
    if drawn["target"]:
        items.append((_("target"), "line", {"colour": "#000000", "dash": "5 3"}))
    if len(waves) > 1:
        items.append((_("significant change vs previous wave"), "dot", {"shape": "star", "fill": "white"}))
    chart.finish(chart.legend(items, y))
    return chart


def _segment_fill(i: int) -> str:
    """Marker fill of segment ``i``: its colour, every other segment open (white)."""
    return _SEGMENT_COLOURS[i % 3] if i % 2 == 0 else "white"


def _progress_panel(chart: Chart, sub_k: pd.DataFrame, kpi: str, waves: list[Any], by: str | None,
                    segments: list[Any], y: float, drawn: dict[str, bool]) -> float:
    """One KPI's panel from ``y`` down: its name, value axis, waves, band or whiskers, lines,
    points, target and labels. Returns the y under its wave names."""
    percent = kpi == "csat_top2"
    unit = 100.0 if percent else 1.0  # CSAT drawn in percent
    fmt = "{:g}%" if percent else "{:g}"
    lo_r, hi_r = (v * unit for v in kpi_range(kpi))
    series = []
    finite: list[float] = []
    for seg in segments:
        s = sub_k if seg is None else sub_k[sub_k[by] == seg]
        v = s["value"].to_numpy(float)
        ok = ~s["suppressed"].astype(bool).to_numpy() & np.isfinite(v)
        lo, hi = s["ci_low"].to_numpy(float), s["ci_high"].to_numpy(float)
        band = ok & np.isfinite(lo) & np.isfinite(hi)
        finite += [*v[ok] * unit, *lo[band] * unit, *hi[band] * unit]
        change = s["change"].to_numpy(float) if "change" in s.columns else np.full(len(s), np.nan)
        series.append({"seg": seg, "rows": s, "v": v, "ok": ok, "lo": lo, "hi": hi, "band": band, "change": change})
    targets = sub_k["target"].to_numpy(float) if "target" in sub_k.columns else np.array([])
    targets = targets[np.isfinite(targets)]
    target = float(targets[-1]) if len(targets) else None
    if target is not None:
        finite.append(target * unit)
    height, margin = 120.0, 28.0  # the plot; room above its highest and below its lowest value for a label
    if finite:
        a, b = min(finite), max(finite)
        if b - a < 1e-9:
            a, b = a - (abs(a) * 0.05 or 1.0), b + (abs(b) * 0.05 or 1.0)
        per_px = (b - a) / (height - 2 * margin)
        low, high = a - margin * per_px, b + margin * per_px
        if math.isfinite(lo_r):
            low, high = max(low, lo_r), min(high, hi_r)
    else:
        low, high = (lo_r, hi_r) if math.isfinite(lo_r) else (0.0, 1.0)
    head = chart.wrap(kpi_label(kpi), chart.width - 2 * PAD)
    top = chart.lines(PAD, y, head) + 10
    bottom = top + height
    left = PAD + chart.tick_room(low, high, fmt)
    right = chart.width - PAD - 4
    chart.vertical_axis(left, right, top, bottom, low, high, fmt=fmt)
    step = (right - left) / max(len(waves), 1)
    x_of = {w: left + (i + 0.5) * step for i, w in enumerate(waves)}
    dodge = 0.0 if by is None else min(10.0, 0.5 * step / len(series))  # segments side by side at a wave
    for i, sr in enumerate(series):
        sr["x"] = [x_of[w] + (i - (len(series) - 1) / 2) * dodge for w in sr["rows"]["wave"]]
    ypx = lambda v: bottom - (float(v) * unit - low) * (bottom - top) / (high - low)  # noqa: E731
    inside = (left + 1, top + 1, right - 1, bottom - 1)
    under = bottom + 4
    for w, xw in x_of.items():  # wave names under the plot
        under = max(under, chart.lines(xw, bottom + 4, chart.wrap(w, step - 6, max_lines=3) or [""], anchor="middle"))
    # suppressed points: said at the foot of the plot where they would be
    for w, xw in x_of.items():
        hidden = [sr["seg"] for sr in series for sw, sup in zip(sr["rows"]["wave"],
                                                                sr["rows"]["suppressed"].astype(bool), strict=True)
                  if sw == w and sup]
        for seg in hidden:
            chart.mark("suppressed", kpi=kpi, wave=w, segment=seg)
        if hidden:
            k = len(hidden)
            note = _("suppressed") if by is None else _("{k} segment suppressed" if k == 1 else
                                                         "{k} segments suppressed", k=k)
            lines = chart.wrap(note, step - 6, max_lines=3)
            chart.lines(xw, bottom - 4 - len(lines) * LINE, lines, anchor="middle", colour=INK)
    # bands (without segments) or whiskers, the target, the lines and the points
    for sr in series:
        xs, band, lo, hi = sr["x"], sr["band"], sr["lo"], sr["hi"]
        if sr["seg"] is None:
            for run in _runs(band):
                if len(run) == 1:  # a band one wave wide
                    j = run[0]
                    chart.rect(xs[j] - 8, ypx(hi[j]), 16, ypx(lo[j]) - ypx(hi[j]), fill=LIGHT)
                else:
                    chart.polygon([(xs[j], ypx(hi[j])) for j in run] + [(xs[j], ypx(lo[j])) for j in run[::-1]],
                                  fill=LIGHT)
        else:
            for j in np.flatnonzero(band):
                chart.vwhisker(xs[j], ypx(lo[j]), ypx(hi[j]), colour=MID, cap=3.0, width=1.0)
        drawn["band"] |= bool(band.any())
    if target is not None:
        chart.line(left, ypx(target), right, ypx(target), colour="#000000", width=1.0, dash="5 3")
        _line_obstacles(chart, [(left, ypx(target)), (right, ypx(target))])
        chart.mark("target", kpi=kpi, value=target)
        drawn["target"] = True
    for i, sr in enumerate(series):  # the lines, then the points over every line
        for run in _runs(sr["ok"]):
            points = [(sr["x"][j], ypx(sr["v"][j])) for j in run]
            chart.polyline(points, colour=DARK if sr["seg"] is None else _SEGMENT_COLOURS[i % 3], width=1.6,
                           dash=None if sr["seg"] is None else _SEGMENT_DASHES[i % 4])
            _line_obstacles(chart, points)
    for i, sr in enumerate(series):
        seg, s, v, xs = sr["seg"], sr["rows"], sr["v"], sr["x"]
        for j in np.flatnonzero(sr["ok"]):
            sig = is_set(s["significant"].iloc[j])
            if sig:  # a star behind the point
                chart.dot(xs[j], ypx(v[j]), shape="star", size=_STAR, fill="white", edge="#000000")
            chart.dot(xs[j], ypx(v[j]), shape="circle" if seg is None else _SEGMENT_SHAPES[i % 4],
                      fill=DARK if seg is None else _segment_fill(i),
                      edge=DARK if seg is None else _SEGMENT_COLOURS[i % 3], size=7.0)
            chart.mark("point", kpi=kpi, wave=s["wave"].iloc[j], segment=seg, value=float(v[j]), low=float(sr["lo"][j]),
                       high=float(sr["hi"][j]), significant=sig, change=float(sr["change"][j]))
    # labels, each where it collides with nothing: the target's, the values (below), the changes (above)
    if target is not None:
        label = _("target {value}", value=format_kpi(kpi, target))
        w, h, yt = chart.measure(label), MIN_PT * PX_PER_PT, ypx(target)
        _free_spot(chart, label, [(right - 4 - w, yt - 3 - h), (right - 4 - w, yt + 3), (left + 4, yt - 3 - h),
                                  (left + 4, yt + 3)], inside)
    if by is None:
        s, v, ok, xs, change = (series[0][k] for k in ("rows", "v", "ok", "x", "change"))
        starred = [is_set(sig) for sig in s["significant"]]
        for j in np.flatnonzero(ok):
            text = format_kpi(kpi, v[j])
            _free_spot(chart, text, _around(chart, xs[j], ypx(v[j]), text, "barlBA", gap=11.0 if starred[j] else 6.0),
                       inside)
        for j in np.flatnonzero(ok):
            if starred[j]:
                text = format_change(kpi, change[j])
                _free_spot(chart, text, _around(chart, xs[j], ypx(v[j]), text, "arlbAB", gap=11.0), inside)
    return under


def _runs(mask: np.ndarray) -> list[list[int]]:
    """Runs of consecutive True positions in ``mask``."""
    runs: list[list[int]] = []
    for j, on in enumerate(mask):
        if on and runs and runs[-1][-1] == j - 1:
            runs[-1].append(j)
        elif on:
            runs.append([j])
    return runs


def _progress_title(progress: pd.DataFrame, waves: list[Any]) -> str:
    if len(waves) == 1:
        return _("Single wave ({wave}): no change to test yet", wave=waves[0])
    extra = [c for c in progress.columns if c not in _PROGRESS_COLUMNS]
    segmented = bool(extra) and progress.columns[0] == extra[0]
    last = progress[progress["wave"] == waves[-1]]
    up, down = [], []
    for kpi in dict.fromkeys(last["kpi"]):
        r = last[last["kpi"] == kpi]
        sig = r[[is_set(s) for s in r["significant"]]]
        name = kpi_short(kpi)
        if len(sig) and (sig["change"].astype(float) > 0).any():
            up.append(name)
        if len(sig) and (sig["change"].astype(float) < 0).any():
            down.append(name)
    parts = []
    if up:
        parts.append(_("{kpis} rose significantly in some segments" if segmented else "{kpis} rose significantly",
                       kpis=_names(up)))
    if down:
        parts.append(_("{kpis} fell significantly in some segments" if segmented else "{kpis} fell significantly",
                       kpis=_names(down)))
    if not parts:
        parts.append(_("no significant change"))
    title = _("{previous} to {latest}: {changes}", previous=waves[-2], latest=waves[-1], changes="; ".join(parts))
    if "attainment" in last.columns and not segmented:
        measurable = last[last["attainment"].isin(["met", "not met"])]
        if len(measurable):
            title += "; " + _("{met} of {n} targets met in {wave}", met=int((measurable["attainment"] == "met").sum()),
                              n=len(measurable), wave=waves[-1])
    return title


# --------------------------------------------------------------------------- SWOT
def plot_swot(swot: pd.DataFrame, *, max_items: int = 6, fontsize: float = MIN_PT) -> Chart:
    """The SWOT as a 2 x 2 grid: strengths and weaknesses on top, opportunities and threats below.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Each cell lists the entries' statements as wrapped bullet points, most important first;
    what does not fit (more than ``max_items`` entries, or more lines than a cell holds:
    twenty) is summarised as "+ k more (see the table)". The evidence behind each entry is
    in the table from :func:`csm_helpers.analysis.action.swot`.

    Parameters
    ----------
    swot : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.swot`.
    max_items : int
        Entries shown per cell at most.
    fontsize : float
        Font size of the statements in points (the headers are a point larger); never under
        11 pt: a smaller size is drawn at 11 pt.

    Returns
    -------
    Chart
        ``chart.marks`` holds a ``"cell"`` entry per category (``category``, ``count``,
        ``shown``: entries listed, ``more``: entries left out) and an ``"item"`` entry per
        statement listed (``category``, ``statement``, ``lines``: how many lines it takes).

    Examples
    --------
    >>> s = pd.DataFrame({"category": ["Strength", "Threat"], "attribute": ["staff", "fees"],
    ...     "label": ["Staff", "Fees"], "statement": ["Staff: important and performing well.",
    ...     "Fees: significantly worse than the competitor."], "evidence": ["...", "..."]})
    >>> chart = plot_swot(s)
    >>> chart.alt
    'SWOT from the data: 1 strength, 0 weaknesses, 0 opportunities, 1 threat'
    >>> [(m["category"], m["count"]) for m in chart.marks if m["kind"] == "cell"]
    [('Strength', 1), ('Weakness', 0), ('Opportunity', 0), ('Threat', 1)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(swot, ["category", "statement"], "SWOT table", "swot()")
    if isinstance(max_items, bool) or not isinstance(max_items, int | np.integer) or max_items < 1:
        raise CsmError(f"The value for `max_items` must be a whole number >= 1, but {max_items!r} was passed.")
    size = as_float(fontsize)
    if isinstance(fontsize, bool) or not math.isfinite(size):
        raise CsmError(f"The value for `fontsize` must be a number of points, but {fontsize!r} was passed.")
    size = max(size, MIN_PT)
    chart = Chart("swot")
    counts = {cat: int((swot["category"] == cat).sum()) for cat in SWOT_CATEGORIES}

    def word(cat: str, n: int) -> str:
        singular, plural = _SWOT_COUNTS[cat]
        return tr(singular if n == 1 else plural, n=n)

    y = chart.title([_("SWOT from the data: {counts}", counts=", ".join(word(c, counts[c]) for c in SWOT_CATEGORIES))])
    gutter, inner = 8.0, 8.0
    cell_w = (chart.width - 2 * PAD - gutter) / 2
    room = cell_w - 2 * inner
    line_h = size * PX_PER_PT * 1.2
    head_size = size + 1
    indent, spacing = 12.0, 3.0  # a bullet's room; space between two statements
    cells: dict[str, dict[str, Any]] = {}
    for cat in SWOT_CATEGORIES:
        rows = swot[swot["category"] == cat]
        header = chart.wrap(f"{tr(_SWOT_HEADERS[cat])} ({len(rows)})", room, head_size)
        items: list[tuple[str, list[str]]] = []
        used = 0
        for statement in rows["statement"].astype(str):
            block = chart.wrap(statement, room - indent, size) or [""]
            if len(items) >= max_items or used + len(block) > _SWOT_MAX_LINES - 1:
                break
            items.append((statement, block))
            used += len(block)
        more = len(rows) - len(items)
        tail = chart.wrap(_("+ {k} more (see the table)", k=more), room, size) if more else []
        if not len(rows):
            tail = chart.wrap(_("none found in the data"), room, size)
        height = (inner + len(header) * head_size * PX_PER_PT * 1.2 + 6 + (used + len(tail)) * line_h
                  + len(items) * spacing + inner)
        cells[cat] = {"header": header, "items": items, "tail": tail, "height": height, "more": more,
                      "count": len(rows)}
    grid = [("Strength", "Weakness"), ("Opportunity", "Threat")]
    top = y + 4
    for pair in grid:
        row_h = max(cells[c]["height"] for c in pair)
        for col, cat in enumerate(pair):
            cell = cells[cat]
            x0 = PAD + col * (cell_w + gutter)
            chart.rect(x0, top, cell_w, row_h, fill=_SWOT_FACES[cat], edge="#000000", edge_width=0.8)
            yy = chart.lines(x0 + inner, top + inner, cell["header"], size=head_size) + 6
            chart.mark("cell", category=cat, count=cell["count"], shown=len(cell["items"]), more=cell["more"])
            for statement, block in cell["items"]:
                chart.circle(x0 + inner + 3, yy + line_h / 2, 2.2, fill=INK)
                yy = chart.lines(x0 + inner + indent, yy, block, size=size) + spacing
                chart.mark("item", category=cat, statement=statement, lines=len(block))
            chart.lines(x0 + inner, yy, cell["tail"], size=size, colour=INK)
        top += row_h + gutter
    chart.finish(top - gutter)
    return chart
