"""Charts of the headline KPIs, their change, segment means and the invisible scorecard (stage 04).

Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text, laid out from its
measured width; no matplotlib). Every estimate is labelled with its value and interval, ``n`` is
shown, the status of a KPI (target met, not met, no target) is carried by colour, hatching *and*
a text label, and the title says what the reader should see. Suppressed rows (fewer respondents
than the minimum cell size, SPEC §4) are never drawn: their row says "suppressed (n < 5)" with no
value, and their count is not shown. Each function returns a
:class:`~csm_helpers.present.charts.canvas.Chart`, whose ``marks`` record what it shows.

:func:`plot_kpis` and :func:`plot_kpi_change` draw one row per KPI. KPIs on the same scale share
one value axis (CSAT in % and the CSI, both 0–100); a KPI on another scale (NPS, −100 to +100,
or a KPI the catalogue does not know) gets an axis of its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.checks import require_table
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import (
    KPIS,
    format_change,
    format_count,
    format_kpi,
    format_p,
    kpi_label,
    kpi_range,
    kpi_short,
)
from csm_helpers.present.charts.canvas import LINE, PAD, Chart, nice_ticks
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, LIGHT, MID, PURPLE, tint_hex

__all__ = ["plot_kpis", "plot_kpi_change", "plot_segment_means", "plot_scorecard"]

#: Height of a KPI or scorecard bar, px.
_BAR = 16.0
#: Light grid lines (as :meth:`Chart.value_axis` draws them).
_GRID = "#dddddd"
# status -> (fill, hatch, legend label): the hatch and the row's status text say it without colour
_STATUS_STYLE: dict[str, tuple[str, str | None, str]] = {
    "met": (GOOD, None, N_("target met")),
    "not met": (tint_hex(BAD, 0.45), "////", N_("target not met")),
    "none": (LIGHT, None, N_("no target")),
}
# fills for segments, told apart in grey-scale too
_FILLS: tuple[tuple[str, str | None], ...] = (
    (DARK, None), (tint_hex(MID, 0.3), "////"), (PURPLE, None), (LIGHT, ".."), (tint_hex(DARK, 0.6), None),
    ("white", "xx"), (tint_hex(PURPLE, 0.5), "\\\\\\\\"), ("white", None))


# --------------------------------------------------------------------------- helpers
def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _truthy(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and bool(v)


def _name_list(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return _("{names} and {last}", names=", ".join(names[:-1]), last=names[-1])


def _limits(kpi: str, values: list[float]) -> tuple[float, float]:
    lo, hi = kpi_range(kpi)
    finite = [v for v in values if math.isfinite(v)]
    if math.isnan(lo):
        if not finite:
            return (0.0, 1.0)
        lo, hi = min(finite + [0.0]), max(finite + [0.0])  # bars start at 0
        if hi - lo < 1e-12:
            return (0.0, 1.0)
        pad = 0.1 * (hi - lo or 1.0)
        ticks = nice_ticks(lo - pad if lo < 0 else lo, hi + pad if hi > 0 else hi)
        return (ticks[0], ticks[-1])
    return (lo, hi)


def _kpi_scale(kpi: str, values: list[float], row: int) -> tuple[Any, float, float, float]:
    """(key, factor, low, high) of a KPI's axis: KPIs with the same key share one axis; ``factor``
    turns a stored value into the axis unit (CSAT is stored as a proportion and drawn in %)."""
    spec = KPIS.get(kpi)
    if spec is None:
        lo, hi = _limits(kpi, values)
        return ("own", row), 1.0, lo, hi
    factor = 100.0 if spec.percent else 1.0
    return (spec.low * factor, spec.high * factor), factor, spec.low * factor, spec.high * factor


def _runs(keys: list[Any]) -> list[list[int]]:
    """Consecutive rows with the same key, as lists of row numbers (table order kept)."""
    runs: list[list[int]] = []
    for i, key in enumerate(keys):
        if runs and keys[runs[-1][-1]] == key:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _row_label(chart: Chart, name: Any, count: str, room: float) -> list[str]:
    """A row label: ``name`` in at most two lines of ``room`` px, then ``(count)`` on the last
    line when it fits, else on a line of its own."""
    lines = chart.wrap(name, room, max_lines=2) or [""]
    tail = f"({count})"
    if chart.measure(f"{lines[-1]} {tail}") <= room:
        lines[-1] = f"{lines[-1]} {tail}".strip()
    else:
        lines.append(tail)
    return lines


def _write_label(chart: Chart, lines: list[str], edge: float, mid: float) -> None:
    """Row label lines right-aligned at ``edge``, centred on ``mid``."""
    chart.lines(edge, mid - len(lines) * LINE / 2, lines, anchor="end")


def _grid(chart: Chart, left: float, right: float, top: float, bottom: float, low: float, high: float) -> None:
    """Light vertical grid lines at the ticks of [low, high], as :meth:`Chart.value_axis` draws
    them, over a part of a plot whose tick labels are written further down."""
    scale = (right - left) / (high - low)
    for value in nice_ticks(low, high):
        if low - 1e-9 <= value <= high + 1e-9:
            x = left + (value - low) * scale
            chart.line(x, top, x, bottom, colour=_GRID, width=0.8)


def _end_label(chart: Chart, ticks: list[float], fmt: str) -> float:
    """Half the width of the widest end tick label (the plot stops that far from the sheet's edge)."""
    return max(chart.measure(fmt.format(t).replace("-", "−")) for t in (ticks[0], ticks[-1])) / 2


def _clip(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


# --------------------------------------------------------------------------- KPI summary
def _status_key(value: float, target: float, status: str) -> str:
    if not math.isfinite(target):
        return "none"
    if status.startswith("met") or (not status and value >= target):
        return "met"
    return "not met"


def plot_kpis(summary: pd.DataFrame, *, level: float = 0.95, min_n: int = 5) -> Chart:
    """Headline KPIs against their targets: one bar per KPI, KPIs of one scale on one axis.

    Each KPI is a horizontal bar from 0 to its value, with its confidence interval as a
    whisker: green when the target is met, light vermillion and hatched when it is not,
    grey without a target; the KPI's status ("met: CI above target"...) is written right of
    its value label, so it does not depend on colour. The target is a dashed line across the
    bar with a diamond and "target 80.0%" under it. The value label ("82.0% (95% CI 78.0% to
    86.0%)") is above the bar; the KPI's name and ``n`` are at the left. CSAT (in %) and the
    CSI share a 0–100 axis when they are next to each other; NPS (−100 to +100) gets its own.
    A suppressed KPI says "suppressed (n < min_n)" instead of its value, without its count.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`csm_helpers.analysis.kpis.kpi_summary`.
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed KPIs).

    Returns
    -------
    Chart
        ``chart.marks`` holds, in table order, a ``"bar"`` entry per KPI drawn (``kpi``,
        ``label``, ``value``, ``low``, ``high``, ``target``, ``status``: "met", "not met" or
        "none", ``count``: the n shown), a ``"suppressed"`` entry per KPI not drawn (``kpi``,
        ``label``, ``target``, ``count``, ``reason``), a ``"target"`` entry per target line
        (``kpi``, ``value``) and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> summary = pd.DataFrame({"kpi": ["csat_top2", "csi", "nps"], "n": [400, 400, 398],
    ...     "value": [0.82, 71.0, 12.0], "ci_low": [0.78, 69.0, 5.0], "ci_high": [0.86, 73.0, 19.0],
    ...     "target": [0.8, 75.0, None], "met": [True, False, None],
    ...     "status": ["met", "not met: CI below target", "no target"], "suppressed": [False] * 3})
    >>> chart = plot_kpis(summary)
    >>> chart.alt
    '1 of 2 KPI targets met; CSI clearly below target'
    >>> [(m["kpi"], m["value"], m["status"]) for m in chart.marks if m["kind"] == "bar"]
    [('csat_top2', 0.82, 'met'), ('csi', 71.0, 'not met'), ('nps', 12.0, 'none')]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(summary, ["kpi", "n", "value", "ci_low", "ci_high", "suppressed"], "KPI summary", "kpi_summary()")
    chart = Chart("kpis")
    if len(summary) == 0:
        return chart.empty(_("Headline KPIs: nothing to show"), _("nothing to show"))
    pct = f"{level * 100:g}%"
    rows = []
    for i, (_i, r) in enumerate(summary.iterrows()):
        kpi = str(r["kpi"])
        value, lo, hi, target = _num(r["value"]), _num(r["ci_low"]), _num(r["ci_high"]), _num(r.get("target"))
        status = r.get("status")
        status = str(status) if isinstance(status, str) else ""
        suppressed = _truthy(r["suppressed"])
        key, factor, a, b = _kpi_scale(kpi, [value, lo, hi, target], i)
        rows.append({"kpi": kpi, "value": value, "lo": lo, "hi": hi, "target": target, "status": status,
                     "suppressed": suppressed, "key": key, "factor": factor, "axis": (a, b),
                     "count": format_count(r["n"], suppressed=suppressed, min_n=min_n, prefix=True),
                     "shown": not suppressed and math.isfinite(value)})
    top = chart.title([_kpis_title(summary)])
    panels = _runs([r["key"] for r in rows])
    fmts = {i: "{:g}%" if all(rows[j]["factor"] == 100.0 for j in run) else "{:g}"
            for i, run in enumerate(panels)}
    # x: the labels' column, then the plot, stopping half an end tick label short of the sheet's edge
    room = 0.3 * chart.width
    labels = [chart.wrap(kpi_label(r["kpi"]), room, max_lines=2) + [r["count"]] for r in rows]
    edge = PAD + max(chart.measure(line) for lines in labels for line in lines)
    left = edge + 10
    right = chart.width - PAD - max(_end_label(chart, nice_ticks(*rows[run[0]]["axis"]), fmts[i])
                                    for i, run in enumerate(panels))
    width = right - left
    y = top + 6
    used: dict[str, bool] = {}
    any_ci = any_target = False
    for p, run in enumerate(panels):
        a, b = rows[run[0]]["axis"]

        def x(v: float, _a: float = a, _b: float = b) -> float:
            return left + (_clip(v, _a, _b) - _a) / (_b - _a) * width

        # lay the rows out first: the grid goes under the bars
        layout = []
        panel_top = y
        for j in run:
            r = rows[j]
            if r["shown"]:
                value_text = (_("{value} ({level} CI {low} to {high})", value=format_kpi(r["kpi"], r["value"]),
                                level=pct, low=format_kpi(r["kpi"], r["lo"]), high=format_kpi(r["kpi"], r["hi"]))
                              if math.isfinite(r["lo"]) and math.isfinite(r["hi"]) else
                              format_kpi(r["kpi"], r["value"]))
            else:
                value_text = _("suppressed (n < {n})", n=min_n) if r["suppressed"] else _("no answers")
            above = chart.wrap(value_text, width)
            status_lines: list[str] = []
            same_line = False
            if r["status"] and not r["suppressed"]:
                status = tr(r["status"])
                if chart.measure(above[-1]) + 16 + chart.measure(status) <= width:
                    status_lines, same_line = [status], True
                else:
                    status_lines = chart.wrap(status, width)
            n_above = len(above) + (0 if same_line else len(status_lines))
            bar_top = y + n_above * LINE + 4
            bar_mid = bar_top + _BAR / 2
            bottom = bar_top + _BAR + (4 + LINE if math.isfinite(r["target"]) else 2)
            half = len(labels[j]) * LINE / 2
            if bar_mid - half < y:  # a tall label: move the row down
                shift = y - (bar_mid - half)
                bar_top, bar_mid, bottom = bar_top + shift, bar_mid + shift, bottom + shift
            bottom = max(bottom, bar_mid + half)
            layout.append((j, y, above, status_lines, same_line, bar_top, bar_mid, bottom))
            y = bottom + 10
        panel_bottom = y - 6
        y = chart.value_axis(left, right, panel_top, panel_bottom, a, b, fmt=fmts[p]) + 6
        for j, text_top, above, status_lines, same_line, bar_top, bar_mid, _bottom in layout:
            r = rows[j]
            f = r["factor"]
            _write_label(chart, labels[j], edge, bar_mid)
            for n_line, line in enumerate(above):
                chart.text(left, text_top + n_line * LINE, line, valign="top", background="white")
            for n_line, line in enumerate(status_lines):
                chart.text(right, text_top + (n_line if same_line else len(above) + n_line) * LINE, line,
                        anchor="end", valign="top", background="white")
            if r["shown"]:
                style = _status_key(r["value"], r["target"], r["status"])
                fill, hatch, _label = _STATUS_STYLE[style]
                used[style] = True
                base = x(max(a, min(0.0, b)))
                end = x(r["value"] * f)
                chart.rect(min(base, end), bar_top, abs(end - base), _BAR, fill=fill, edge="#000000", hatch=hatch)
                if math.isfinite(r["lo"]) and math.isfinite(r["hi"]):
                    chart.whisker(x(r["lo"] * f), x(r["hi"] * f), bar_mid, cap=4.5)
                    any_ci = True
                chart.mark("bar", kpi=r["kpi"], label=kpi_label(r["kpi"]), value=r["value"], low=r["lo"],
                           high=r["hi"], target=r["target"], status=style, count=labels[j][-1])
            else:
                chart.mark("suppressed", kpi=r["kpi"], label=kpi_label(r["kpi"]), target=r["target"],
                           count=labels[j][-1], reason=above[0])
            if math.isfinite(r["target"]):
                any_target = True
                xt = x(r["target"] * f)
                mid = bar_top + _BAR + 4 + LINE / 2
                chart.line(xt, bar_top - 3, xt, mid - 5, dash="4 3", width=1.2)
                chart.dot(xt, mid, shape="diamond", size=8)
                text = _("target {value}", value=format_kpi(r["kpi"], r["target"]))
                if xt + 8 + chart.measure(text) <= chart.width - PAD:
                    chart.text(xt + 8, mid, text, background="white")
                else:
                    chart.text(xt - 8, mid, text, anchor="end", background="white")
                chart.mark("target", kpi=r["kpi"], value=r["target"])
    items: list[tuple[str, str, dict[str, Any]]] = [
        (tr(_STATUS_STYLE[s][2]), "box", {"fill": _STATUS_STYLE[s][0], "hatch": _STATUS_STYLE[s][1]})
        for s in _STATUS_STYLE if s in used]
    if any_ci:
        items.append((_("{level} CI", level=pct), "whisker", {}))
    if any_target:
        items.append((_("target"), "line", {"dash": "4 3"}))
    chart.finish(chart.legend(items, y + 4) if items else y)
    return chart


def _kpis_title(summary: pd.DataFrame) -> str:
    rows = [r for _i, r in summary.iterrows()]
    with_target = [r for r in rows if math.isfinite(_num(r.get("target"))) and not _truthy(r["suppressed"])]
    suppressed = [kpi_short(str(r["kpi"])) for r in rows if _truthy(r["suppressed"])]
    if not with_target:
        title = _("Headline KPIs with confidence intervals (no targets set)")
    else:
        met = sum(1 for r in with_target if _num(r["value"]) >= _num(r["target"]))
        title = _("{met} of {n} KPI targets met" if len(with_target) > 1 else "{met} of {n} KPI target met",
                  met=met, n=len(with_target))
        below = [kpi_short(str(r["kpi"])) for r in with_target if _num(r["ci_high"]) < _num(r["target"])]
        above = [kpi_short(str(r["kpi"])) for r in with_target if _num(r["ci_low"]) > _num(r["target"])]
        if below:
            title += "; " + _("{kpis} clearly below target", kpis=_name_list(below))
        if above:
            title += "; " + _("{kpis} clearly above target", kpis=_name_list(above))
    if suppressed:
        title += "; " + _("{kpis} suppressed", kpis=_name_list(suppressed))
    return title


# --------------------------------------------------------------------------- change between waves
def plot_kpi_change(change: pd.DataFrame, *, level: float = 0.95, min_n: int = 5) -> Chart:
    """Previous vs latest wave for each KPI, with intervals and the test of the change.

    Each KPI has a heading with its change and the test ("CSAT (top-2 box): +6.0 pts
    (two-proportion z, p = 0.028, significant)"), then two rows: the previous wave as an open
    circle and the latest as a filled one, each with its confidence interval and a value
    label, the wave's name and ``n`` at the left, and an arrow from one to the other (green
    for a significant rise, vermillion for a significant fall, sky blue otherwise: the heading
    says it in words). KPIs on one scale share one axis, as in :func:`plot_kpis`. A suppressed
    KPI is only named: "NPS (−100 to +100): suppressed (n < 5 in a wave)".

    Parameters
    ----------
    change : pandas.DataFrame
        From :func:`csm_helpers.analysis.kpis.kpi_change`.
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed KPIs).

    Returns
    -------
    Chart
        ``chart.marks`` holds, per KPI in table order, a ``"point"`` entry per wave drawn
        (``kpi``, ``period``: "previous" or "latest", ``wave``, ``value``, ``low``, ``high``,
        ``count``) and a ``"change"`` entry (``kpi``, ``change``, ``p``, ``significant``), or a
        ``"suppressed"`` entry (``kpi``); then a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> change = pd.DataFrame({"kpi": ["csat_top2", "nps"], "wave_previous": ["W1", "W1"],
    ...     "wave_latest": ["W2", "W2"], "n_previous": [500, 500], "n_latest": [520, 3],
    ...     "previous": [0.70, None], "previous_ci_low": [0.66, None], "previous_ci_high": [0.74, None],
    ...     "latest": [0.76, None], "latest_ci_low": [0.72, None], "latest_ci_high": [0.80, None],
    ...     "change": [0.06, None], "test": ["two-proportion z", "z on NPS difference"],
    ...     "statistic": [2.2, None], "p_value": [0.028, None], "significant": [True, None],
    ...     "suppressed": [False, True]})
    >>> chart = plot_kpi_change(change)
    >>> chart.alt
    'From W1 to W2: CSAT rose significantly; NPS suppressed'
    >>> [(m["period"], m["value"]) for m in chart.marks if m["kind"] == "point"]
    [('previous', 0.7), ('latest', 0.76)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(change, ["kpi", "n_previous", "n_latest", "previous", "latest", "change", "p_value", "significant",
                      "suppressed"], "KPI change table", "kpi_change()")
    chart = Chart("kpi-change")
    if len(change) == 0:
        return chart.empty(_("KPI change: nothing to show"), _("nothing to show"))
    pct = f"{level * 100:g}%"
    first = change.iloc[0]
    w_prev = str(first.get("wave_previous", _("previous wave")))
    w_last = str(first.get("wave_latest", _("latest wave")))
    room = 0.3 * chart.width
    rows = []
    for i, (_i, r) in enumerate(change.iterrows()):
        kpi = str(r["kpi"])
        vals = {k: _num(r.get(k)) for k in ("previous", "previous_ci_low", "previous_ci_high", "latest",
                                             "latest_ci_low", "latest_ci_high")}
        hidden = _truthy(r["suppressed"])
        key, factor, a, b = _kpi_scale(kpi, list(vals.values()), i)
        waves = []
        for period, wave, n_col in (("previous", w_prev, "n_previous"), ("latest", w_last, "n_latest")):
            count = format_count(r[n_col], suppressed=hidden, min_n=min_n, prefix=True)
            waves.append((period, wave, count, _row_label(chart, wave, count, room)))
        name = kpi_label(kpi)
        p, ch, sig = _num(r["p_value"]), _num(r["change"]), _truthy(r["significant"])
        if hidden:
            heading = _("{kpi}: suppressed (n < {n} in a wave)", kpi=name, n=min_n)
        else:
            verdict = _("significant") if sig else _("not significant")
            if "test" in r.index and isinstance(r["test"], str):
                heading = _("{kpi}: {change} ({test}, {p}, {verdict})", kpi=name, change=format_change(kpi, ch),
                            test=tr(r["test"]), p=format_p(p), verdict=verdict)
            else:
                heading = _("{kpi}: {change} ({p}, {verdict})", kpi=name, change=format_change(kpi, ch),
                            p=format_p(p), verdict=verdict)
        rows.append({"kpi": kpi, "vals": vals, "hidden": hidden, "key": key, "factor": factor, "axis": (a, b),
                     "waves": waves, "heading": heading, "p": p, "change": ch, "sig": sig})
    top = chart.title([_change_title(change, w_prev, w_last)])
    panels = _runs([r["key"] for r in rows])
    fmts = {i: "{:g}%" if all(rows[j]["factor"] == 100.0 for j in run) else "{:g}" for i, run in enumerate(panels)}
    edge = PAD + max(chart.measure(line) for r in rows if not r["hidden"] for w in r["waves"] for line in w[3]) \
        if not all(r["hidden"] for r in rows) else PAD
    left = edge + 10
    right = chart.width - PAD - max(_end_label(chart, nice_ticks(*rows[run[0]]["axis"]), fmts[i])
                                    for i, run in enumerate(panels))
    width = right - left
    y = top + 6
    drawn = any_ci = False
    for p_i, run in enumerate(panels):
        a, b = rows[run[0]]["axis"]

        def x(v: float, _a: float = a, _b: float = b) -> float:
            return left + (_clip(v, _a, _b) - _a) / (_b - _a) * width

        blocks = []  # (row, heading's top, heading's lines, the waves' rows, their top, their bottom)
        for j in run:
            r = rows[j]
            heading = chart.wrap(r["heading"], chart.width - 2 * PAD)
            h_top = y
            y += len(heading) * LINE + 4
            waves = []
            rows_top = y
            if not r["hidden"]:
                f = r["factor"]
                found = []
                for period, wave, count, label in r["waves"]:
                    v = r["vals"][period]
                    lo, hi = r["vals"][f"{period}_ci_low"], r["vals"][f"{period}_ci_high"]
                    if math.isfinite(v) and math.isfinite(lo) and math.isfinite(hi):
                        text = _("{value} ({low} to {high})", value=format_kpi(r["kpi"], v),
                                 low=format_kpi(r["kpi"], lo), high=format_kpi(r["kpi"], hi))
                    else:
                        text = format_kpi(r["kpi"], v)
                    w = chart.measure(text)
                    fits = (x(max(v, hi if math.isfinite(hi) else v) * f) + 7 + w <= chart.width - PAD,
                            x(min(v, lo if math.isfinite(lo) else v) * f) - 7 - w >= left)
                    found.append((period, wave, count, label, v, lo, hi, text, fits))
                # both labels on one side when they fit there
                side = next((k for k in (0, 1) if all(item[8][k] for item in found if math.isfinite(item[4]))), None)
                for period, wave, count, label, v, lo, hi, text, fits in found:
                    if not math.isfinite(v):
                        place = "none"
                    elif side is not None:
                        place = ("right", "left")[side]
                    elif fits[0] or fits[1]:
                        place = "right" if fits[0] else "left"
                    else:  # above the previous wave's point, under the latest's: clear of the arrow
                        place = "above" if period == "previous" else "below"
                    h = max(26.0, len(label) * LINE + 4)
                    extra = LINE if place in ("above", "below") else 0.0
                    mid = y + (extra if place == "above" else 0.0) + h / 2
                    waves.append((period, wave, count, label, v, lo, hi, text, place, mid))
                    y += h + extra
            blocks.append((j, h_top, heading, waves, rows_top, y))
            y += 8
        panel_bottom = y - 8
        for j, _h_top, _heading, waves, rows_top, rows_bottom in blocks:
            if waves and (j != run[-1]):
                _grid(chart, left, right, rows_top, rows_bottom, a, b)
        last_rows = blocks[-1][3]
        if any(blk[3] for blk in blocks):
            y = chart.value_axis(left, right, blocks[-1][4] if last_rows else panel_bottom, panel_bottom, a, b,
                                 fmt=fmts[p_i]) + 10
        for j, h_top, heading, waves, _rows_top, _rows_bottom in blocks:
            r = rows[j]
            f = r["factor"]
            chart.lines(PAD, h_top, heading)
            if r["hidden"]:
                chart.mark("suppressed", kpi=r["kpi"])
                continue
            points = {}
            for period, wave, count, label, v, lo, hi, text, place, mid in waves:
                _write_label(chart, label, edge, mid)
                if place == "none":
                    continue
                drawn = True
                xv = x(v * f)
                points[period] = (xv, mid)
                if math.isfinite(lo) and math.isfinite(hi):
                    chart.whisker(x(lo * f), x(hi * f), mid, cap=4)
                    any_ci = True
                chart.dot(xv, mid, size=9, fill="white" if period == "previous" else DARK)
                if place == "right":
                    chart.text(x(max(v, hi if math.isfinite(hi) else v) * f) + 7, mid, text, background="white")
                elif place == "left":
                    chart.text(x(min(v, lo if math.isfinite(lo) else v) * f) - 7, mid, text, anchor="end", background="white")
                else:
                    w = chart.measure(text)
                    cx = _clip(xv, left + w / 2, chart.width - PAD - w / 2)
                    chart.text(cx, mid + (-1 if place == "above" else 1) * (LINE / 2 + 6), text, anchor="middle", background="white")
                chart.mark("point", kpi=r["kpi"], period=period, wave=wave, value=v, low=lo, high=hi, count=count)
            if len(points) == 2 and math.isfinite(r["change"]) and r["change"] != 0:
                (x0, y0), (x1, y1) = points["previous"], points["latest"]
                colour = (GOOD if r["change"] > 0 else BAD) if r["sig"] else MID
                chart.arrow(x0, y0 + 6, x1, y1 - 6, colour=colour, width=1.4, head=6)
            chart.mark("change", kpi=r["kpi"], change=r["change"], p=r["p"], significant=r["sig"])
    items: list[tuple[str, str, dict[str, Any]]] = []
    if drawn:
        items = [(chart.wrap(w_prev, 200, max_lines=1)[0], "dot", {"fill": "white"}),
                 (chart.wrap(w_last, 200, max_lines=1)[0], "dot", {"fill": DARK})]
    if any_ci:
        items.append((_("{level} CI", level=pct), "whisker", {}))
    chart.finish(chart.legend(items, y) if items else y)
    return chart


def _change_title(change: pd.DataFrame, w_prev: str, w_last: str) -> str:
    up, down, suppressed = [], [], []
    for _i, r in change.iterrows():
        name = kpi_short(str(r["kpi"]))
        if _truthy(r["suppressed"]):
            suppressed.append(name)
        elif _truthy(r["significant"]):
            (up if _num(r["change"]) > 0 else down).append(name)
    parts = []
    if up:
        parts.append(_("{kpis} rose significantly", kpis=_name_list(up)))
    if down:
        parts.append(_("{kpis} fell significantly", kpis=_name_list(down)))
    if not parts:
        parts.append(_("no significant change"))
    if suppressed:
        parts.append(_("{kpis} suppressed", kpis=_name_list(suppressed)))
    return _("From {previous} to {latest}: {changes}", previous=w_prev, latest=w_last, changes="; ".join(parts))


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
            welch_p = _num(wa["p_value"].iloc[0])
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
    supp = np.array([_truthy(v) for v in groups["suppressed"]])
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
    labels = [_row_label(chart, name, count, room) for name, count in zip(names, counts, strict=True)]
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
    end_half = _end_label(chart, nice_ticks(low, high), "{:g}")
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
        _write_label(chart, labels[i], edge, mid)
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
            cells.append((d, seg, _num(r["value"]), _truthy(r["suppressed"]), _num(r["ci_low"]), _num(r["ci_high"]),
                          _num(r["n"]), j))
    title = _scorecard_title(chart, cells, by is not None)
    top = chart.title(title.split("\n"))
    room = 0.3 * chart.width
    dim_names = {d: tr(str(d).capitalize()) for d in dims}
    if by is None:
        labels = {}
        for d in dims:
            lines = chart.wrap(dim_names[d], room, max_lines=2)
            if d in n_items and math.isfinite(_num(n_items[d])):
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
    end_half = _end_label(chart, [0.0, 100.0], "{:g}")
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
        _grid(chart, left, right, start, stop, 0.0, 100.0)
    under = chart.value_axis(left, right, blocks[-1][0] if by else plot_top, bottom, 0.0, 100.0,
                             label=_("Dimension score, CSI 0-100 (whiskers: {level} confidence interval)",
                                     level=f"{level * 100:g}%"))
    for heading, h_top in headings:
        chart.text(PAD, h_top, heading, valign="top")
    bar = 0.62 * 0.3 * 96
    for i, mid in placed:
        d, seg, val, s, a, b, n, j = cells[i]
        _write_label(chart, labels[(d, seg)], edge, mid)
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
