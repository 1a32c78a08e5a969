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
from csm_helpers.present.charts.canvas import LINE, PAD, Chart, as_float, is_set, nice_ticks
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, LIGHT, MID, tint_hex
from csm_helpers.present.charts.scores import plot_scorecard, plot_segment_means  # re-exported: kpis.plot_...

__all__ = ["plot_kpis", "plot_kpi_change", "plot_segment_means", "plot_scorecard"]

#: Height of a KPI or scorecard bar, px.
_BAR = 16.0
# status -> (fill, hatch, legend label): the hatch and the row's status text say it without colour
_STATUS_STYLE: dict[str, tuple[str, str | None, str]] = {
    "met": (GOOD, None, N_("target met")),
    "not met": (tint_hex(BAD, 0.45), "////", N_("target not met")),
    "none": (LIGHT, None, N_("no target")),
}


# --------------------------------------------------------------------------- helpers


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
        value, lo, hi, target = as_float(r["value"]), as_float(r["ci_low"]), as_float(r["ci_high"]), as_float(r.get("target"))
        status = r.get("status")
        status = str(status) if isinstance(status, str) else ""
        suppressed = is_set(r["suppressed"])
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
    right = chart.width - PAD - max(chart.end_room(nice_ticks(*rows[run[0]]["axis"]), fmts[i])
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
            chart.lines(edge, bar_mid - len(labels[j]) * LINE / 2, labels[j], anchor="end")
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
    with_target = [r for r in rows if math.isfinite(as_float(r.get("target"))) and not is_set(r["suppressed"])]
    suppressed = [kpi_short(str(r["kpi"])) for r in rows if is_set(r["suppressed"])]
    if not with_target:
        title = _("Headline KPIs with confidence intervals (no targets set)")
    else:
        met = sum(1 for r in with_target if as_float(r["value"]) >= as_float(r["target"]))
        title = _("{met} of {n} KPI targets met" if len(with_target) > 1 else "{met} of {n} KPI target met",
                  met=met, n=len(with_target))
        below = [kpi_short(str(r["kpi"])) for r in with_target if as_float(r["ci_high"]) < as_float(r["target"])]
        above = [kpi_short(str(r["kpi"])) for r in with_target if as_float(r["ci_low"]) > as_float(r["target"])]
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
        vals = {k: as_float(r.get(k)) for k in ("previous", "previous_ci_low", "previous_ci_high", "latest",
                                             "latest_ci_low", "latest_ci_high")}
        hidden = is_set(r["suppressed"])
        key, factor, a, b = _kpi_scale(kpi, list(vals.values()), i)
        waves = []
        for period, wave, n_col in (("previous", w_prev, "n_previous"), ("latest", w_last, "n_latest")):
            count = format_count(r[n_col], suppressed=hidden, min_n=min_n, prefix=True)
            waves.append((period, wave, count, chart.count_label(wave, count, room)))
        name = kpi_label(kpi)
        p, ch, sig = as_float(r["p_value"]), as_float(r["change"]), is_set(r["significant"])
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
    right = chart.width - PAD - max(chart.end_room(nice_ticks(*rows[run[0]]["axis"]), fmts[i])
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
                chart.grid(left, right, rows_top, rows_bottom, a, b)
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
                chart.lines(edge, mid - len(label) * LINE / 2, label, anchor="end")
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
        if is_set(r["suppressed"]):
            suppressed.append(name)
        elif is_set(r["significant"]):
            (up if as_float(r["change"]) > 0 else down).append(name)
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

