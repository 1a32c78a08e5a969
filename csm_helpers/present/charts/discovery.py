"""Charts of the discovery report (stage 02): the affinity diagram, the perception gap and
the saturation curve of the interviews.

Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text): each function
returns a :class:`~csm_helpers.present.charts.canvas.Chart` whose ``marks`` record what it shows.
Hatching, marker shapes and value labels carry the meaning, never colour alone; the title says
what the reader should see.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import _, tr
from csm_helpers.present.charts.canvas import LINE, PAD, Chart, count_top
from csm_helpers.present.charts.palette import DARK, LIGHT, MID, tint_hex

__all__ = ["plot_affinity", "plot_perception_gap", "plot_saturation"]

_WINDOW = tint_hex(LIGHT, 0.4)  # the last-k window, a light grey


# --------------------------------------------------------------------------- discovery
def plot_affinity(affinity: pd.DataFrame) -> Chart:
    """Mentions per attribute grouped by dimension, customer side stacked with company side.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    affinity : pandas.DataFrame
        From :func:`csm_helpers.analysis.discovery.affinity_table` (its order is kept: dimension, then
        mentions).

    Returns
    -------
    Chart
        One row per attribute under a heading row per dimension: a dark bar of the
        customer-side interviews and, stacked on it, a white hatched bar of the company-side
        ones, with the total at the bar's end. ``chart.marks`` holds a ``"bar"`` entry per
        attribute (``label``, ``dimension``, ``customer``, ``company``, ``total``), a
        ``"heading"`` entry per dimension and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> aff = pd.DataFrame({"dimension": ["product", "process"], "theme": ["Price", "Speed"],
    ...                     "attribute": ["fees", "queue"], "label": ["Fees", "Queues"],
    ...                     "mentions": [5, 3], "customer_mentions": [4, 3], "company_mentions": [1, 0],
    ...                     "share": [0.5, 0.3]})
    >>> chart = plot_affinity(aff)
    >>> chart.alt
    'Most raised: Fees (5 of 10 interviews)'
    >>> [(m["label"], m["customer"], m["company"]) for m in chart.marks if m["kind"] == "bar"]
    [('Fees', 4.0, 1.0), ('Queues', 3.0, 0.0)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(affinity, ["dimension", "label", "mentions", "customer_mentions", "company_mentions"],
                  "affinity table", "affinity_table()")
    dims = list(dict.fromkeys(affinity["dimension"]))
    n = len(affinity)
    chart = Chart("affinity")
    if n == 0:
        return chart.empty(_("Affinity diagram: no attribute to show"), _("nothing to show"))
    cust = affinity["customer_mentions"].to_numpy(float)
    comp = affinity["company_mentions"].to_numpy(float)
    total = affinity["mentions"].to_numpy(float)
    if np.nanmax(total) <= 0:
        title = _("No attribute was raised in the interviews")
    else:
        top = int(np.nanargmax(total))
        share = affinity["share"].iloc[top] if "share" in affinity.columns else math.nan
        label, n_top = chart.wrap(affinity["label"].iloc[top], 280, max_lines=1)[0], f"{total[top]:.0f}"
        if share and not math.isnan(share):
            title = _("Most raised: {label} ({n} of {total} interviews)", label=label, n=n_top,
                      total=round(total[top] / share))
        else:
            title = _("Most raised: {label} ({n} interviews)", label=label, n=n_top)
    y = chart.title([title])
    # One row per attribute, plus a heading row above each dimension's group.
    rows: list[int | None] = []  # index into the table, None for a heading
    headings: list[str] = []
    dim_values = affinity["dimension"].tolist()
    for d in dims:
        rows.append(None)
        headings.append(str(d))
        rows.extend(i for i, dv in enumerate(dim_values) if dv == d)
    labels = [affinity["label"].iloc[i] if i is not None else "" for i in rows]
    left, centres, row = chart.category_labels(labels, y + 4)
    right = chart.width - PAD - chart.measure("100") / 2
    room = right - left
    ends = np.nan_to_num(np.fmax(total, 0.0))
    values = [f"{t:.0f}" for t in total]
    high = count_top(chart.reach(ends, values, room))
    x = lambda v: left + room * float(v) / high  # noqa: E731
    under = chart.value_axis(left, right, y + 4, centres[-1] + row / 2, 0.0, high,
                             label=_("Interviews mentioning the attribute"), integer=True)
    bar = 0.7 * min(row, 0.3 * 96)
    heading = iter(headings)
    for i, mid in zip(rows, centres, strict=True):
        if i is None:
            d = next(heading)
            chart.text(PAD, mid, chart.wrap(tr(d.capitalize()), chart.width - 2 * PAD, max_lines=1)[0])
            chart.mark("heading", dimension=d)
            continue
        c, k = np.nan_to_num(cust[i]), np.nan_to_num(comp[i])
        chart.rect(left, mid - bar / 2, x(c) - left, bar, fill=DARK, edge="#000000", edge_width=0.6)
        chart.rect(x(c), mid - bar / 2, x(c + k) - x(c), bar, fill="white", edge="#000000", edge_width=0.6,
                   hatch="////")
        chart.text(x(ends[i]) + 4, mid, values[i])
        chart.mark("bar", label=affinity["label"].iloc[i], dimension=dim_values[i], customer=float(cust[i]),
                   company=float(comp[i]), total=float(total[i]))
    chart.finish(chart.legend([(_("customer side"), "box", {"fill": DARK}),
                               (_("company side"), "box", {"fill": "white", "hatch": "////"})], under + 6))
    return chart


def plot_perception_gap(gap: pd.DataFrame) -> Chart:
    """Dumbbell chart: share of customer-side vs company-side interviews mentioning each attribute.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    gap : pandas.DataFrame
        From :func:`csm_helpers.analysis.discovery.perception_gap`; drawn largest gap at the top.

    Returns
    -------
    Chart
        One row per attribute: a filled circle at the customer-side share and an open square
        at the company-side share, joined by a line; a flagged gap (the company under- or
        over-rates the attribute) is labelled in percentage points. ``chart.marks`` holds a
        ``"pair"`` entry per attribute (``label``, ``customer``, ``company``, ``gap``,
        ``flag``), in drawing order, and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> gap = pd.DataFrame({"attribute": ["queue", "price"], "label": ["Queues", "Price"],
    ...                     "share_customer": [0.8, 0.4], "share_company": [0.2, 0.5],
    ...                     "gap": [0.6, -0.1], "flag": ["company under-rates", "aligned"]})
    >>> chart = plot_perception_gap(gap)
    >>> chart.alt
    'Company under-rates 1 and over-rates 0 of 2 attributes'
    >>> [(m["label"], m["customer"], m["company"]) for m in chart.marks if m["kind"] == "pair"]
    [('Queues', 0.8, 0.2), ('Price', 0.4, 0.5)]
    >>> "+60 pts" in [t.text for t in chart.texts], chart.overlaps(), chart.smallest_pt
    (True, [], 11.0)
    """
    require_table(gap, ["label", "share_customer", "share_company", "gap", "flag"], "perception gap table",
                  "perception_gap()")
    g = gap.sort_values("gap", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    n = len(g)
    chart = Chart("perception-gap")
    if n == 0:
        return chart.empty(_("Perception gap: no attribute to show"), _("nothing to show"))
    sc = g["share_customer"].to_numpy(float)
    sk = g["share_company"].to_numpy(float)
    flags = g["flag"].tolist()
    if all(f == "not measurable" for f in flags):
        no_c = bool(np.all(np.isnan(sc)))
        title = _("Perception gap not measurable: no customer-side interviews" if no_c else
                  "Perception gap not measurable: no company-side interviews")
    else:
        under = flags.count("company under-rates")
        over = flags.count("company over-rates")
        title = _("Company under-rates {under} and over-rates {over} of {n} attributes", under=under, over=over, n=n)
    y = chart.title([title])
    left, centres, row = chart.category_labels(g["label"].tolist(), y + 4)
    edge = chart.width - PAD
    # 0..100% spans the plot, leaving room right of each flagged pair for its label
    texts = [_("{change} pts", change=f"{d * 100:+.0f}".replace("-", "\u2212"))
             if f in ("company under-rates", "company over-rates") else None
             for d, f in zip(g["gap"].to_numpy(float), flags, strict=True)]
    ends = np.nan_to_num(np.fmax(sc, sk), nan=0.0)
    scale = edge - chart.measure("100%") / 2 - left
    for e, t in zip(ends, texts, strict=True):
        if t is not None and e > 0:
            scale = min(scale, (edge - left - 9 - chart.measure(t)) / float(e))
    x = lambda v: left + scale * float(v)  # noqa: E731
    below = chart.value_axis(left, x(1.0), y + 4, centres[-1] + row / 2, 0.0, 1.0,
                             label=_("Share of interviews on that side mentioning the attribute"), fmt="{:.0%}")
    for i, mid in enumerate(centres):
        a, b = sc[i], sk[i]
        if np.isfinite(a) and np.isfinite(b):
            chart.line(x(min(a, b)), mid, x(max(a, b)), mid, colour=MID, width=2)
        if np.isfinite(a):
            chart.dot(x(a), mid, shape="circle", fill=DARK)
        if np.isfinite(b):
            chart.dot(x(b), mid, shape="square", fill="white")
        if texts[i] is not None:
            chart.text(x(ends[i]) + 9, mid, texts[i])
        chart.mark("pair", label=g["label"].iloc[i], customer=float(a), company=float(b),
                   gap=float(g["gap"].iloc[i]), flag=flags[i])
    chart.finish(chart.legend([(_("customer side"), "dot", {"shape": "circle", "fill": DARK}),
                               (_("company side"), "dot", {"shape": "square", "fill": "white"})], below + 6))
    return chart


def plot_saturation(curve: pd.DataFrame, verdict: dict[str, Any]) -> Chart:
    """Saturation curve: cumulative distinct attributes by interview, last-k window and verdict.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`csm_helpers.analysis.discovery.saturation_curve`.
    verdict : dict
        From :func:`csm_helpers.analysis.discovery.saturation_verdict` (keys ``saturated``, ``k``,
        ``last_new_at``, ``n_interviews``, ``n_attributes``).

    Returns
    -------
    Chart
        Interviews in order from left to right: a line of the distinct attributes found so far
        (a dot per interview, while the dots stay apart), white hatched bars of the new attributes of each interview, the
        last ``k`` interviews shaded and dotted, and a dashed line at the last interview that
        added one. ``chart.marks`` holds a ``"point"`` entry per interview (``position``,
        ``cumulative``, ``new``), a ``"window"`` entry (``first``, ``last``, ``k``) when there
        are ``k`` interviews, a ``"last_new"`` entry (``position``) and a ``"legend"`` entry
        per legend key.

    Examples
    --------
    >>> curve = pd.DataFrame({"position": [1, 2, 3, 4], "new_attributes": [3, 1, 0, 0],
    ...                       "cumulative": [3, 4, 4, 4]})
    >>> verdict = {"saturated": True, "k": 2, "last_new_at": 2, "n_interviews": 4, "n_attributes": 4}
    >>> chart = plot_saturation(curve, verdict)
    >>> chart.alt
    'Saturated: the last 2 interviews added no new attribute (4 found)'
    >>> [m["cumulative"] for m in chart.marks if m["kind"] == "point"]
    [3.0, 4.0, 4.0, 4.0]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(curve, ["position", "new_attributes", "cumulative"], "saturation curve", "saturation_curve()")
    missing = [key for key in ("saturated", "k", "last_new_at") if key not in verdict]
    if missing:
        raise DataError(f"saturation verdict: key {', '.join(map(repr, missing))} is missing — pass the dict "
                        "saturation_verdict() returns")
    n = len(curve)
    k = int(verdict["k"])
    chart = Chart("saturation")
    if n == 0:
        return chart.empty(_("Saturation: no interview to show"), _("nothing to show"))
    pos = curve["position"].to_numpy(float)
    cum = curve["cumulative"].to_numpy(float)
    new = curve["new_attributes"].to_numpy(float)
    last = verdict.get("last_new_at")
    n_attr = int(verdict.get("n_attributes", cum[-1]))
    if verdict["saturated"]:
        title = _("Saturated: the last {k} interviews added no new attribute ({n} found)" if k > 1 else
                  "Saturated: the last {k} interview added no new attribute ({n} found)", k=k, n=n_attr)
    elif n < k:
        title = _("Not saturated: {n} interviews, fewer than the {k} needed to judge" if n != 1 else
                  "Not saturated: {n} interview, fewer than the {k} needed to judge", n=n, k=k)
    elif n_attr == 0:
        title = _("Not saturated: no attribute coded yet")
    else:
        title = _("Not saturated: interview {last} of {n} still added new attributes", last=last, n=n)
    y = chart.title([title])
    ylabel = _("Attributes")
    top = y + 4 + len(chart.wrap(ylabel, chart.width - 2 * PAD)) * LINE + 6
    height = 2.0 * 96
    bottom = top + height
    # headroom over the curve for the "last new attribute" note
    peak = max(1.0, float(np.nanmax(np.r_[cum, new])))
    high = count_top(peak * height / (height - LINE - 8))
    left = PAD + chart.tick_room(0.0, high)
    right = chart.width - PAD
    lo, hi = float(np.nanmin(pos)) - 0.5, float(np.nanmax(pos)) + 0.5
    x = lambda v: left + (right - left) * (float(v) - lo) / (hi - lo)  # noqa: E731
    yv = lambda v: bottom - height * float(v) / high  # noqa: E731
    bar = min(0.6 * (right - left) / (hi - lo), 0.25 * 96)
    items: list[tuple[str, str, dict[str, Any]]] = []
    if n >= k:  # under the grid lines
        window = _("last {k} interviews" if k > 1 else "last {k} interview", k=k)
        chart.rect(x(pos[-k] - 0.5), top, x(pos[-1] + 0.5) - x(pos[-k] - 0.5), height, fill=_WINDOW, edge=MID,
                   hatch="..")
        chart.mark("window", first=float(pos[-k]), last=float(pos[-1]), k=k)
        items.append((window, "box", {"fill": _WINDOW, "hatch": "..", "edge": MID}))
    chart.vertical_axis(left, right, top, bottom, 0.0, high, label=ylabel, integer=True)
    for p, v in zip(pos, new, strict=True):
        if np.isfinite(v) and v > 0:
            chart.rect(x(p) - bar / 2, yv(v), bar, yv(0) - yv(v), fill="white", edge="#000000", edge_width=0.6,
                       hatch="////")
    items.append((_("new attributes in the interview"), "box", {"fill": "white", "hatch": "////"}))
    if last is not None:
        chart.line(x(last), top, x(last), bottom, colour=DARK, width=0.9, dash="4 3")
        note = _("last new attribute")
        w = chart.measure(note)
        # left of the line, or right of it when the line is near the left of the plot
        at, anchor = (x(last) - 4, "end") if x(last) - 4 - w >= left + 2 else (x(last) + 4, "start")
        x0 = at - w if anchor == "end" else at
        chart.rect(x0 - 2, top + 2, w + 4, LINE, fill="white")
        chart.text(at, top + 2 + LINE / 2, note, anchor=anchor)
        chart.mark("last_new", position=float(last))
    chart.polyline([(x(p), yv(c)) for p, c in zip(pos, cum, strict=True) if np.isfinite(c)], colour=DARK,
                   width=1.6)
    dots = x(pos[0] + 1) - x(pos[0]) >= 8 if n > 1 else True  # a dot per interview while they stay apart
    for p, c, v in zip(pos, cum, new, strict=True):
        if dots and np.isfinite(c):
            chart.dot(x(p), yv(c), fill=DARK, edge=None, size=5.5)
        chart.mark("point", position=float(p), cumulative=float(c), new=float(v))
    items.append((_("distinct attributes so far"), "line", {"colour": DARK}))
    below = _interview_axis(chart, pos, x, left, right, bottom, _("Interview (in order)"))
    chart.finish(chart.legend(items, below + 6))
    return chart


# --------------------------------------------------------------------------- internals
def _interview_axis(chart: Chart, pos: np.ndarray, x: Any, left: float, right: float, bottom: float,
                    label: str) -> float:
    """The base line of the saturation plot, whole interview numbers under it (every 1, 2, 5,
    10... as many as fit) and ``label`` centred under them; returns the y under the label."""
    first, last = int(math.ceil(np.nanmin(pos))), int(math.floor(np.nanmax(pos)))
    widest = chart.measure(str(last)) + 10
    slot = (right - left) / max(float(np.nanmax(pos) - np.nanmin(pos)) + 1.0, 1.0)
    step, grow = 1, itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50...
    while step * slot < widest:
        step = round(step * next(grow))
    ticks = [v for v in range(first, last + 1) if v % step == 0] or [first]
    for v in ticks:
        chart.line(x(v), bottom, x(v), bottom + 3, colour="#000000", width=0.8)
        chart.text(x(v), bottom + 4, str(v), anchor="middle", valign="top")
    chart.line(left, bottom, right, bottom, colour="#000000", width=0.8)
    return chart.lines((left + right) / 2, bottom + 4 + LINE + 4, chart.wrap(label, right - left), anchor="middle")
