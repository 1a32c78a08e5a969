"""Charts of the measurement report (stage 03, SPEC §1.3).

Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text): each function
returns a :class:`~csm_helpers.present.charts.canvas.Chart` whose ``marks`` record what it
shows. The status colours (charts.style) with hatching and value labels carry the meaning, never
colour alone; the title says what the reader should see.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.measurement import weight_summary
from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import _
from csm_helpers.present.charts.canvas import LINE, MIN_PT, PAD, PX_PER_PT, Chart, count_top, nice_ticks
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, LIGHT, WARN, tint_hex

__all__ = ["plot_likert", "plot_weights", "plot_sampling"]

# Hatches of the points below the midpoint, nearest the midpoint first (denser = further).
_NEG_HATCH = ("..", "////", "\\\\\\\\", "xx")


_SHORT = tint_hex(BAD, 0.5)  # a segment below its target margin


def _likert_styles(points: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Face colour, hatch and text colour of each point of a scale, diverging from the midpoint.

    Below the midpoint: vermillion (the "bad" status colour) getting stronger away from the
    centre, hatched ever denser; above: green getting stronger; the neutral point (odd
    scales): light grey. A 0–10 scale is coloured by its NPS groups instead: detractors (0–6)
    vermillion, passives (7–8) amber, promoters (9–10) green. Hatching and the value labels
    keep the order readable in grey-scale and without colour vision.
    """
    pts = sorted(points)
    k = len(pts)
    if pts == list(range(11)):  # the recommend question: NPS groups
        styles = {}
        for p in pts:
            if p <= 6:
                styles[p] = {"color": tint_hex(BAD, 0.15 + 0.6 * p / 6), "hatch": _NEG_HATCH[min((6 - p) // 2, 3)],
                             "text": "black"}
            elif p <= 8:
                styles[p] = {"color": tint_hex(WARN, 0.45 - 0.35 * (p - 7)), "hatch": None, "text": "black"}
            else:
                styles[p] = {"color": tint_hex(GOOD, 0.35 - 0.35 * (p - 9)), "hatch": None,
                             "text": "white" if p == 10 else "black"}
        return styles
    half = k // 2
    styles = {}
    for i, p in enumerate(pts):
        if k % 2 == 1 and i == half:
            styles[p] = {"color": LIGHT, "hatch": None, "text": "black"}
        elif i < half:  # below the midpoint; distance 1 = next to the centre
            d = half - i
            amount = 0.75 - 0.6 * (d - 1) / max(half - 1, 1)
            styles[p] = {"color": tint_hex(BAD, amount), "hatch": _NEG_HATCH[min(d - 1, len(_NEG_HATCH) - 1)],
                         "text": "black"}
        else:
            d = i - (k - half) + 1
            amount = 0.65 - 0.65 * (d - 1) / max(half - 1, 1)
            styles[p] = {"color": tint_hex(GOOD, amount), "hatch": None,
                         "text": "white" if amount < 0.3 else "black"}
    return styles


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def plot_likert(dist: pd.DataFrame, *, point_labels: Mapping[Any, str] | None = None) -> Chart:
    """Diverging stacked bar chart of Likert items, centred on the scale midpoint (SPEC §1.3).

    One horizontal bar per item, sorted by the share in the top two points (highest at the
    top). Answers below the midpoint extend to the left of the centre line, answers above it
    to the right; on an odd scale the middle point straddles the centre, half on each side.
    A segment is labelled with its share where the label fits in it; each item's label shows
    its n and the bar end its top-2 share. Drawn as SVG by
    :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    dist : pandas.DataFrame
        From :func:`csm_helpers.analysis.measurement.likert_distribution` (columns ``item, label,
        point, n, share``; ``n_item`` when present).
    point_labels : dict, optional
        ``{point: text}`` for the legend (e.g. ``{1: "Very dissatisfied"}``); default the
        point numbers, the ends marked "(lowest)" / "(highest)".

    Returns
    -------
    Chart
        The legend (under the chart) names the points, lowest first. ``chart.marks`` holds
        an ``"item"`` entry per item in drawing order, top first (``item``, ``label``, ``n``,
        ``top2``), a ``"segment"`` entry per item and point (``item``, ``point``, ``share``,
        and where it is drawn: ``start`` and ``end`` in shares, 0 at the centre line,
        negative to the left) and a ``"legend"`` entry per point.

    Examples
    --------
    >>> from csm_helpers.analysis.measurement import likert_distribution
    >>> df = pd.DataFrame({"a": [1, 2, 4, 5, 5], "b": [3, 3, 4, 4, 2]})
    >>> chart = plot_likert(likert_distribution(df, items=["a", "b"], scale=(1, 5)))
    >>> chart.alt
    'Top-2 box: highest a (60%), lowest b (40%)'
    >>> [(m["item"], round(m["top2"], 2)) for m in chart.marks if m["kind"] == "item"]
    [('a', 0.6), ('b', 0.4)]
    >>> [m["label"] for m in chart.marks if m["kind"] == "legend"]
    ['1 (lowest)', '2', '3', '4', '5 (highest)']
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(dist, ["item", "label", "point", "n", "share"], "Likert distribution", "likert_distribution()")
    items = list(dict.fromkeys(dist["item"]))
    chart = Chart("likert")
    if not items:
        return chart.empty(_("Answer distributions: no item to show"), _("nothing to show"))
    points = sorted(int(p) for p in dict.fromkeys(dist["point"]))
    k = len(points)
    if k < 2:
        raise CsmError("Likert distribution: the scale has fewer than 2 points — pass the table "
                       "likert_distribution() returns")
    wide = dist.pivot_table(index="item", columns="point", values="share", aggfunc="first", dropna=False)
    wide = wide.reindex(index=items, columns=points).astype(float)
    counts = dist.groupby("item", sort=False)["n_item"].first() if "n_item" in dist.columns \
        else dist.groupby("item", sort=False)["n"].sum()
    labels = dist.groupby("item", sort=False)["label"].first()
    top2 = wide[points[-2:]].sum(axis=1, min_count=1)
    order = top2.sort_values(ascending=False, na_position="last", kind="stable").index.tolist()
    wide = wide.loc[order].fillna(0.0)
    shares = wide.to_numpy(float)
    n_items = len(order)
    half = k // 2
    mid_share = shares[:, half] if k % 2 == 1 else np.zeros(n_items)
    lefts = np.zeros_like(shares)
    # left side: from the centre outwards
    edge = -mid_share / 2
    for i in range(half - 1, -1, -1):
        edge = edge - shares[:, i]
        lefts[:, i] = edge
    if k % 2 == 1:
        lefts[:, half] = -mid_share / 2
    edge = mid_share / 2
    for i in range(k - half, k):
        lefts[:, i] = edge
        edge = edge + shares[:, i]
    t = top2.loc[order].to_numpy(float)
    ok = np.isfinite(t)
    if not ok.any():
        title = _("Answer distributions: no answers to show")
    elif n_items == 1:
        title = _("{item}: {share} in the top two points", item=chart.wrap(labels.loc[order[0]], 280, max_lines=1)[0],
                  share=_pct(t[0]))
    else:
        hi_i = int(np.nanargmax(np.where(ok, t, -np.inf)))
        lo_i = int(np.nanargmin(np.where(ok, t, np.inf)))
        title = _("Top-2 box: highest {highest} ({highest_share}), lowest {lowest} ({lowest_share})",
                  highest=chart.wrap(labels.loc[order[hi_i]], 200, max_lines=1)[0], highest_share=_pct(t[hi_i]),
                  lowest=chart.wrap(labels.loc[order[lo_i]], 200, max_lines=1)[0], lowest_share=_pct(t[lo_i]))
    y = chart.title([title])
    room = 0.36 * chart.width
    rows = [[*chart.wrap(labels.loc[it], room, max_lines=2), f"(n={int(counts.loc[it]):,})"] for it in order]
    left, centres, row = _row_labels(chart, rows, y + 4)
    # the bars span -low..high around the centre; each top-2 label fits right of its bar
    right_ends = lefts[:, -1] + shares[:, -1]
    low = max(0.1, math.ceil(float(np.nanmax(-lefts[:, 0])) * 10 - 1e-9) / 10)
    high = max(0.1, math.ceil(float(np.nanmax(right_ends)) * 10 - 1e-9) / 10)
    end = chart.width - PAD
    notes = [_("top-2 {share}", share=_pct(v)) if math.isfinite(v) else None for v in t]
    scale = (end - chart.measure("100%") / 2 - left) / (low + high)
    for r, note in zip(right_ends, notes, strict=True):
        if note is not None:
            scale = min(scale, (end - left - 4 - chart.measure(note)) / (low + max(float(r), 0.0)))
    centre = left + scale * low
    x = lambda v: centre + scale * float(v)  # noqa: E731
    bottom = centres[-1] + row / 2
    under = _share_axis(chart, left, x(high), y + 4, bottom, -low, high,
                        _("Share of answers: below the scale midpoint to the left, above it to the right "
                          "(scale {low}-{high})", low=points[0], high=points[-1]))
    chart.line(centre, y + 4, centre, bottom, colour="#000000", width=0.9)  # under the bars: between the rows
    styles = _likert_styles(points)
    bar = 0.7 * min(row, 0.36 * 96)
    text_h = MIN_PT * PX_PER_PT
    for r, (it, mid) in enumerate(zip(order, centres, strict=True)):
        chart.mark("item", item=it, label=labels.loc[it], n=int(counts.loc[it]), top2=float(t[r]))
        for i, p in enumerate(points):
            st, s, lft = styles[p], float(shares[r, i]), float(lefts[r, i])
            chart.rect(x(lft), mid - bar / 2, scale * s, bar, fill=st["color"], edge="#000000", edge_width=0.5,
                       hatch=st["hatch"])
            chart.mark("segment", item=it, point=p, share=s, start=lft, end=lft + s)
            shown = _pct(s)
            w = chart.measure(shown)
            if s > 0 and w + 4 <= scale * s:
                if st["hatch"]:  # the share on a white patch over the hatching
                    chart.rect(x(lft + s / 2) - w / 2 - 1.5, mid - text_h * 0.6, w + 3, text_h * 1.2, fill="white")
                chart.text(x(lft + s / 2), mid, shown, anchor="middle",
                           colour="black" if st["hatch"] else st["text"])
        if notes[r] is not None:
            chart.text(x(right_ends[r]) + 4, mid, notes[r])
    point_labels = point_labels or {}
    legend: list[tuple[str, str, dict[str, Any]]] = []
    for i, p in enumerate(points):
        text = point_labels.get(p, point_labels.get(str(p)))
        if text is None:
            text = (_("{point} (lowest)", point=p) if i == 0 else _("{point} (highest)", point=p) if i == k - 1
                    else f"{p}")
        legend.append((chart.wrap(text, 200, max_lines=1)[0], "box",
                       {"fill": styles[p]["color"], "hatch": styles[p]["hatch"]}))
    chart.finish(chart.legend(legend, under + 6))
    return chart


def plot_weights(w: pd.Series | np.ndarray | Sequence[float], *, bins: int | Sequence[float] | None = None) -> Chart:
    """Histogram of the weights, with Kish's effective n and the design effect in the title.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    w : Series or array
        The weights (e.g. from :func:`csm_helpers.analysis.measurement.study_weights`).
    bins : int or sequence of float, optional
        Bins of the histogram (as :func:`numpy.histogram` takes them); default one per
        square root of n, 8 to 40.

    Returns
    -------
    Chart
        A bar per bin (respondents with a weight in it), a dashed line at the mean weight,
        the smallest and largest weight and the coefficient of variation above the plot at
        the right. ``chart.marks`` holds a ``"bar"`` entry per bin (``low``, ``high``,
        ``count``), a ``"mean"`` entry (``value``) and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> chart = plot_weights([0.5, 1.0, 1.0, 1.5])
    >>> chart.alt
    'Weights: effective n 3.6 of 4 respondents (design effect 1.12)'
    >>> sum(m["count"] for m in chart.marks if m["kind"] == "bar")
    4
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    s = weight_summary(w)
    arr = np.asarray(w.to_numpy() if isinstance(w, pd.Series) else w, dtype=float).ravel()
    if bins is None:
        bins = int(min(40, max(8, math.sqrt(arr.size))))
    counts, edges = np.histogram(arr, bins=bins)
    chart = Chart("weights")
    neff = s["n_eff"]
    neff_txt = f"{neff:,.0f}" if neff >= 100 else f"{neff:.1f}"
    y = chart.title([_("Weights: effective n {n_eff} of {n} respondents (design effect {deff})", n_eff=neff_txt,
                       n=f"{s['n']:,}", deff=f"{s['deff']:.2f}")])
    stats = _("min {min}, max {max}\ncv {cv}", min=f"{s['min']:.3g}", max=f"{s['max']:.3g}",
              cv=f"{s['cv']:.2f}").split("\n")
    ylabel = _("Respondents")
    wide = max(chart.measure(line) for line in stats)
    side = chart.measure(ylabel) + 16 + wide <= chart.width - 2 * PAD  # the axis label and the statistics side by side
    top = y + 4 + (len(stats) + (0 if side else 1)) * LINE + 6
    chart.lines(chart.width - PAD, top - 6 - (len(stats) + (0 if side else 1)) * LINE, stats, anchor="end")
    height = 1.8 * 96
    bottom = top + height
    high = count_top(float(counts.max()) if counts.size else 1.0)
    lo, hi = float(edges[0]), float(edges[-1])
    # the bars start a half tick label right of the count axis: its "0" and the first weight stay apart
    half = max(chart.measure(f"{v:g}".replace("-", "−")) for v in nice_ticks(lo, hi)) / 2 + 2
    axis, right = PAD + chart.tick_room(0.0, high), chart.width - PAD - half
    left = axis + half
    x = lambda v: left + (right - left) * (float(v) - lo) / (hi - lo)  # noqa: E731
    yv = lambda v: bottom - height * float(v) / high  # noqa: E731
    chart.vertical_axis(axis, right, top, bottom, 0.0, high, label=ylabel, integer=True)
    under = chart.value_axis(left, right, top, bottom, lo, hi, label=_("Weight"))
    chart.line(axis, bottom, left, bottom, colour="#000000", width=0.8)
    for c, a, b in zip(counts, edges[:-1], edges[1:], strict=True):
        chart.rect(x(a), yv(c), x(b) - x(a), yv(0) - yv(c), fill=LIGHT, edge="#000000", edge_width=0.6)
        chart.mark("bar", low=float(a), high=float(b), count=int(c))
    chart.line(x(s["mean"]), top, x(s["mean"]), bottom, colour=DARK, width=1.2, dash="5 3")
    chart.mark("mean", value=float(s["mean"]))
    chart.finish(chart.legend([(_("respondents"), "box", {"fill": LIGHT}),
                               (_("mean weight {mean}", mean=f"{s['mean']:.3g}"), "line",
                                {"colour": DARK, "dash": "5 3"})], under + 6))
    return chart


def plot_sampling(sampling_table: pd.DataFrame) -> Chart:
    """Achieved vs required sample size per segment value, with the required n marked.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    sampling_table : pandas.DataFrame
        From :func:`csm_helpers.analysis.measurement.sampling_table`; the total row (``value="all"``)
        is summarised in the title, not drawn (it would flatten the segment bars). With a
        ``wave`` column, the latest wave is drawn.

    Returns
    -------
    Chart
        One bar per segment value of its (effective) responses: green when it meets the
        target margin, light vermillion and hatched when below it; a black tick marks the
        required n and the text at the bar's end says "n of required needed (margin)".
        ``chart.marks`` holds a ``"bar"`` entry per segment value (``label``, ``value``,
        ``required``, ``margin``, ``meets``) and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": "region", "value": ["North", "South", "all"],
    ...                   "responses": [400, 120, 520], "required_n": [370.0, 360.0, 380.0],
    ...                   "achieved_moe": [0.047, 0.085, 0.042], "target_moe": 0.05,
    ...                   "meets_target": [True, False, True]})
    >>> chart = plot_sampling(t)
    >>> chart.alt
    '1 of 2 region values reach the ±5% margin; short: South All respondents: n = 520, margin ±4.2%'
    >>> [(m["label"], m["value"], m["meets"]) for m in chart.marks if m["kind"] == "bar"]
    [('North', 400.0, True), ('South', 120.0, False)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(sampling_table, ["value", "responses", "required_n", "achieved_moe", "meets_target"],
                  "sampling table", "sampling_table()")
    t = sampling_table
    wave = None
    if "wave" in t.columns and t["wave"].notna().any():  # the reported (latest) wave
        wave = str(t["wave"].dropna().iloc[-1])
        t = t.loc[t["wave"].astype(object).eq(wave).to_numpy(dtype=bool)]
    size = "n_eff" if "n_eff" in t.columns else "responses"
    is_total = t["value"].astype(object).eq("all").to_numpy(dtype=bool)
    seg = t.loc[~is_total].reset_index(drop=True)
    total = t.loc[is_total]
    segment = str(t["segment"].iloc[0]) if "segment" in t.columns and len(t) else _("segment")
    e = float(t["target_moe"].iloc[0]) if "target_moe" in t.columns and len(t) else float("nan")
    e_txt = f"±{e * 100:.3g}%" if math.isfinite(e) else None
    n = len(seg)
    chart = Chart("sampling")
    if n == 0:
        return chart.empty(_("Sampling: no segment to show"), _("nothing to show"))
    got = seg[size].to_numpy(float)
    req = seg["required_n"].to_numpy(float)
    meets = seg["meets_target"].astype(bool).to_numpy()
    values = [str(v) for v in seg["value"]]
    short = [chart.wrap(v, 200, max_lines=1)[0] for v, ok in zip(values, meets, strict=True) if not ok]
    if e_txt:
        title = _("{k} of {n} {segment} values reach the {margin} margin", k=int(meets.sum()), n=n,
                  segment=chart.wrap(segment, 200, max_lines=1)[0], margin=e_txt)
    else:
        title = _("{k} of {n} {segment} values reach the target margin", k=int(meets.sum()), n=n,
                  segment=chart.wrap(segment, 200, max_lines=1)[0])
    if short:
        names = ", ".join(short[:3])
        if len(short) > 3:
            names += " " + _("(+{k} more)", k=len(short) - 3)
        title += "; " + _("short: {values}", values=names)
    lines = [title]
    if len(total):
        tot = total.iloc[0]
        m = float(tot["achieved_moe"])
        n_all = f"{int(tot['responses']):,}"
        lines.append(_("All respondents: n = {n}, margin {margin}", n=n_all, margin=f"±{m * 100:.1f}%")
                     if math.isfinite(m) else _("All respondents: n = {n}, margin not available", n=n_all))
    y = chart.title(lines)
    left, centres, row = chart.category_labels(values, y + 4)
    texts = []
    for g, r, m in zip(got, req, seg["achieved_moe"].to_numpy(float), strict=True):
        moe = f"±{m * 100:.1f}%" if math.isfinite(m) else _("no margin")
        required = f"{math.ceil(r - 1e-9):,}" if math.isfinite(r) else "?"
        texts.append(_("{achieved} of {required} needed ({margin})", achieved=f"{g:,.0f}", required=required,
                       margin=moe))
    right = chart.width - PAD - chart.measure("10,000") / 2
    room = right - left
    ends = np.nan_to_num(np.fmax(got, req), nan=0.0)
    need = chart.reach(ends, texts, room, gap=6.0)
    high = count_top(max(need, 1.0))
    x = lambda v: left + room * float(v) / high  # noqa: E731
    if wave and size == "n_eff":
        xlabel = _("Effective responses, wave {wave}", wave=wave)
    else:
        xlabel = _("Responses, wave {wave}", wave=wave) if wave else _("Responses")
    under = chart.value_axis(left, right, y + 4, centres[-1] + row / 2, 0.0, high, label=xlabel, fmt="{:,g}",
                             integer=True)
    bar = 0.6 * min(row, 0.3 * 96)
    for i, mid in enumerate(centres):
        g, r, ok = float(np.nan_to_num(got[i])), req[i], bool(meets[i])
        chart.rect(left, mid - bar / 2, x(g) - left, bar, fill=GOOD if ok else _SHORT, edge="#000000",
                   edge_width=0.7, hatch=None if ok else "////")
        if math.isfinite(r):  # the required n: a black tick with a white halo
            chart.line(x(r), mid - 0.7 * bar, x(r), mid + 0.7 * bar, colour="white", width=4.5)
            chart.line(x(r), mid - 0.7 * bar, x(r), mid + 0.7 * bar, colour="#000000", width=2.2)
        chart.text(x(ends[i]) + 6, mid, texts[i])
        chart.mark("bar", label=values[i], value=float(got[i]), required=float(r),
                   margin=float(seg["achieved_moe"].iloc[i]), meets=ok)
    meets_label = _("meets the {margin} margin", margin=e_txt) if e_txt else _("meets the target margin")
    chart.finish(chart.legend([(meets_label, "box", {"fill": GOOD}),
                               (_("below it"), "box", {"fill": _SHORT, "hatch": "////"}),
                               (_("required n"), "line", {"colour": "#000000"})], under + 6))
    return chart


# --------------------------------------------------------------------------- internals
def _row_labels(chart: Chart, rows: list[list[str]], top: float) -> tuple[float, list[float], float]:
    """Row labels down the left side given as lines (a label and its n), right-aligned and
    centred on their rows (as :meth:`Chart.category_labels`, which wraps one text).

    Returns where the plot starts (x), the centre of each row (y) and the row height."""
    row = max(0.3 * 96, max(len(lines) for lines in rows) * LINE + 6)
    edge = PAD + max(chart.measure(line) for lines in rows for line in lines)
    centres = [top + (i + 0.5) * row for i in range(len(rows))]
    for lines, mid in zip(rows, centres, strict=True):
        chart.lines(edge, mid - len(lines) * LINE / 2, lines, anchor="end")
    return edge + 6, centres, row


def _share_axis(chart: Chart, left: float, right: float, top: float, bottom: float, low: float, high: float,
                label: str) -> float:
    """The horizontal axis of a diverging chart from ``low`` (< 0) to ``high``: shares either
    side of the centre, both written as positive percents (as :meth:`Chart.value_axis`, which
    writes the sign). Returns the y under the label."""
    scale = (right - left) / (high - low)
    for value in nice_ticks(low, high):
        if value < low - 1e-9 or value > high + 1e-9:
            continue
        x = left + (value - low) * scale
        chart.line(x, top, x, bottom, colour="#dddddd", width=0.8)
        chart.text(x, bottom + 4, f"{abs(value) * 100:.0f}%", anchor="middle", valign="top")
    chart.line(left, bottom, right, bottom, colour="#000000", width=0.8)
    y = bottom + 4 + LINE + 4
    fits = chart.measure(label) <= right - left
    centre, room = ((left + right) / 2, right - left) if fits else (chart.width / 2, chart.width - 2 * PAD)
    return chart.lines(centre, y, chart.wrap(label, room), anchor="middle")
