"""Charts of the voice of the customer in the analysis report (SPEC §1.4): loyalty matrix,
complaint Pareto, complaint iceberg, reasons for leaving and comment themes.

Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text, laid out from
the measured width of every label): every function returns a
:class:`~csm_helpers.present.charts.canvas.Chart` whose ``marks`` record what it shows.
Colours come from the palette of :mod:`csm_helpers.present.charts.style`; hatching, marker
shapes and value labels carry the meaning too (never colour alone). The title says what the
reader should see, and ``n`` is shown. Labels can hold customer wording (categories, themes):
the canvas makes it readable and escapes it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.complaints import ICEBERG_LAYERS, OTHER_SUPPRESSED
from csm_helpers.analysis.loyalty import QUADRANTS
from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import ci_text, format_count, format_p
from csm_helpers.present.charts.canvas import LINE, PAD, PX_PER_PT, Chart, nice_ticks
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, INK, LIGHT, MID, PURPLE, WARN

__all__ = [
    "plot_loyalty_matrix",
    "plot_pareto",
    "plot_iceberg",
    "plot_lost_reasons",
    "plot_themes",
]

#: Size of the share written in each cell of the loyalty matrix, pt.
_SHARE_PT = 16.0
# Quadrant -> (fill, hatch): told apart in grey-scale by the hatch, and named in the cell.
_QUADRANT_STYLE = {
    "Loyalty": (GOOD, None),
    "Latent loyalty": (MID, ".."),
    "Spurious loyalty": (WARN, "////"),
    "No loyalty": (BAD, "\\\\\\\\"),
}
# Dimension -> (fill, hatch) of the theme bars.
_DIMENSION_STYLE = {"product": (DARK, None), "process": (MID, "////"), "people": (PURPLE, "..")}
_OTHER_DIMENSION = (LIGHT, "xx")
# What the largest loyalty quadrant means, in the title.
_QUADRANT_MEANING = {"Loyalty": N_("attached and buying again"),
                     "Latent loyalty": N_("attached but not buying again"),
                     "Spurious loyalty": N_("repeat without attachment"),
                     "No loyalty": N_("neither attached nor buying again")}


def _pct(v: float) -> str:
    """``0.356 -> '36%'``; shares below 1% keep one decimal (``'0.5%'``), so none shows as 0%."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * v:.1f}%" if 0 < abs(v) < 0.01 else f"{100 * v:.0f}%"


def _one_group(table: pd.DataFrame, known: set[str], what: str) -> pd.DataFrame:
    """The table must hold one group: a ``by`` column with several values is an error."""
    extra = [c for c in table.columns if c not in known]
    for c in extra:
        if table[c].nunique(dropna=False) > 1:
            raise CsmError(f"{what}: the table holds several groups of {c!r} — draw one group at a time, "
                           f"e.g. table[table[{c!r}] == {table[c].iloc[0]!r}]")
    return table


def _all_suppressed(table: pd.DataFrame) -> bool:
    return "suppressed" in table.columns and len(table) > 0 and bool(table["suppressed"].fillna(False).all())


def _n_text(n: Any) -> str:
    try:
        return f"n = {int(n):,}"
    except (TypeError, ValueError):
        return _("n unknown")


def _tick(fmt: str, value: float) -> str:
    return fmt.format(value).replace("-", "−")


def _share_fmt(ticks: list[float]) -> str:
    """The format of share ticks: whole percents, or as many decimals as the step needs."""
    for digits in (0, 1, 2):
        if all(abs(t * 100 - round(t * 100, digits)) < 1e-9 for t in ticks):
            return f"{{:.{digits}%}}"
    return "{:.2%}"


def _spread(tops: list[float], heights: list[float], gap: float = 4.0) -> list[float]:
    """Tops of labels stacked down the page, each moved down as little as it must not to touch
    the one above it."""
    out: list[float] = []
    for i, top in enumerate(tops):
        out.append(max(top, out[-1] + heights[i - 1] + gap) if out else top)
    return out


# --------------------------------------------------------------------------- loyalty matrix
def plot_loyalty_matrix(quadrants: pd.DataFrame) -> Chart:
    """The Dick & Basu loyalty matrix: 2 x 2 cells of relative attitude x repeat patronage.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    quadrants : pandas.DataFrame
        From :func:`csm_helpers.analysis.loyalty.dick_basu`, one group (filter a ``by`` table first).

    Returns
    -------
    Chart
        Repeat patronage across (low, high), relative attitude up (low, high, its label above
        the plot). Each cell is told apart by its hatch and colour and labelled with its name,
        share and confidence interval (the table's ``attrs["level"]``, else 95%).
        ``chart.marks`` holds a ``"cell"`` entry per quadrant in the order of
        :data:`csm_helpers.analysis.loyalty.QUADRANTS` (``quadrant``, ``label``, ``value``,
        ``low``, ``high``, ``attitude`` and ``repeat``: ``"high"`` or ``"low"``). A suppressed
        group draws no cell: its title says why.

    Raises
    ------
    CsmError
        When the table holds several groups, or lacks a quadrant.

    Examples
    --------
    >>> q = pd.DataFrame({"quadrant": ["Loyalty", "Latent loyalty", "Spurious loyalty", "No loyalty"],
    ...                   "n": 200, "share": [0.35, 0.05, 0.4, 0.2], "ci_low": [0.29, 0.03, 0.33, 0.15],
    ...                   "ci_high": [0.42, 0.09, 0.47, 0.26], "suppressed": False})
    >>> chart = plot_loyalty_matrix(q)
    >>> chart.alt
    'Largest group: Spurious loyalty (40%), repeat without attachment; 35% loyal (n = 200)'
    >>> [(m["quadrant"], m["value"], m["attitude"], m["repeat"]) for m in chart.marks][:2]
    [('Loyalty', 0.35, 'high', 'high'), ('Latent loyalty', 0.05, 'high', 'low')]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(quadrants, ["quadrant", "share"], "loyalty quadrants", "dick_basu()")
    known = {"quadrant", "n", "count", "n_eff", "share", "ci_low", "ci_high", "suppressed"}
    q = _one_group(quadrants, known, "loyalty quadrants")
    chart = Chart("loyalty")
    if len(q) == 0:
        return chart.empty(_("Loyalty matrix: nothing to show"), _("nothing to show"))
    if _all_suppressed(q):
        size = format_count(q["n"].iloc[0], suppressed=True, min_n=quadrants.attrs.get("min_n"))
        return chart.empty(_("Loyalty matrix suppressed: too few respondents ({n})", n=size)
                           if size != _("hidden") else
                           _("Loyalty matrix suppressed so that a smaller group cannot be worked out by difference"),
                           _("nothing to show"))
    rows = {str(r.quadrant): r for r in q.itertuples(index=False)}
    missing = [name for name in QUADRANTS if name not in rows]
    if missing:
        raise CsmError(f"loyalty quadrants: quadrant {', '.join(map(repr, missing))} is missing — pass the "
                       "table dick_basu() returns")
    shares = {name: float(rows[name].share) for name in QUADRANTS}
    largest = max(QUADRANTS, key=lambda k: shares[k])
    n = q["n"].iloc[0] if "n" in q.columns else None
    y = chart.title([_("Largest group: {quadrant} ({share}), {meaning}; {loyal} loyal ({n})", quadrant=tr(largest),
                       share=_pct(shares[largest]), meaning=tr(_QUADRANT_MEANING[largest]),
                       loyal=_pct(shares["Loyalty"]), n=_n_text(n))])
    # the vertical dimension is named above the plot, not on its side
    y = chart.lines(PAD, y + 4, chart.wrap(_("Relative attitude"), chart.width - 2 * PAD)) + 6
    levels = [_("low"), _("high")]
    left = PAD + max(chart.measure(t) for t in levels) + 8
    right = chart.width - PAD
    cw = (right - left) / 2
    # (repeat high?, attitude high?) of each quadrant
    pos = {"Loyalty": (1, 1), "Latent loyalty": (0, 1), "Spurious loyalty": (1, 0), "No loyalty": (0, 0)}
    level = quadrants.attrs.get("level", 0.95)
    share_h = _SHARE_PT * PX_PER_PT * 1.2
    blocks = {}
    for name in QUADRANTS:
        r = rows[name]
        lo, hi = float(getattr(r, "ci_low", math.nan)), float(getattr(r, "ci_high", math.nan))
        ci = ci_text(_pct(lo), _pct(hi), level, sep="–") if not (math.isnan(lo) or math.isnan(hi)) else ""
        blocks[name] = (chart.wrap(tr(name), cw - 32, max_lines=2), _pct(shares[name]),
                        chart.wrap(ci, cw - 32) if ci else [], lo, hi)
    need = max((len(b[0]) + len(b[2])) * LINE + share_h for b in blocks.values())
    ch = max(0.5 * cw, need + 36)
    top = y
    for name in QUADRANTS:
        names, share_text, ci_lines, lo, hi = blocks[name]
        col, row = pos[name]
        x0, y0 = left + col * cw, top + (1 - row) * ch
        fill, hatch = _QUADRANT_STYLE[name]
        chart.rect(x0, y0, cw, ch, fill=fill, edge="#000000", edge_width=1.0, hatch=hatch)
        # the cell's words on a white card: readable on any fill and hatch
        block = (len(names) + len(ci_lines)) * LINE + share_h
        bw = max([chart.measure(t) for t in (*names, *ci_lines)] + [chart.measure(share_text, _SHARE_PT)]) + 16
        cx, cy = x0 + cw / 2, y0 + ch / 2
        chart.rect(cx - bw / 2, cy - block / 2 - 5, bw, block + 10, fill="white", edge="#000000", edge_width=0.6)
        ty = chart.lines(cx, cy - block / 2, names, anchor="middle")
        chart.text(cx, ty, share_text, size=_SHARE_PT, anchor="middle", valign="top")
        chart.lines(cx, ty + share_h, ci_lines, anchor="middle")
        chart.mark("cell", quadrant=name, label=tr(name), value=shares[name], low=lo, high=hi,
                   attitude="high" if row else "low", repeat="high" if col else "low")
    bottom = top + 2 * ch
    for row, mid in ((1, top + ch / 2), (0, top + 1.5 * ch)):
        chart.text(left - 6, mid, levels[row], anchor="end")
    for col in (0, 1):
        chart.text(left + (col + 0.5) * cw, bottom + 4, levels[col], anchor="middle", valign="top")
    under = chart.lines((left + right) / 2, bottom + 4 + LINE + 2, chart.wrap(_("Repeat patronage"), right - left),
                        anchor="middle")
    chart.finish(under)
    return chart


# --------------------------------------------------------------------------- Pareto
def plot_pareto(pareto: pd.DataFrame) -> Chart:
    """Pareto chart of complaint categories: bars of counts and the cumulative share.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    pareto : pandas.DataFrame
        ``complaint_summary(...)["pareto"]`` (largest category first, the pooled
        ``"other (suppressed)"`` last).

    Returns
    -------
    Chart
        One horizontal bar per category, largest at the top (the pooled one white and
        cross-hatched), labelled with its count, on a count axis; beside them a panel with the
        cumulative share, a line through one dot per category on a 0–100% axis, and a dashed
        line at 80%. ``chart.marks`` holds a ``"bar"`` entry per category (``label``,
        ``category``, ``value``: the count, ``pooled``), a ``"cumulative"`` entry per category
        (``label``, ``value``: the cumulative share), one ``"reference"`` entry (``value`` 0.8)
        and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> p = pd.DataFrame({"category": ["fees", "app", "queue"], "count": [50, 30, 20],
    ...                   "share": [0.5, 0.3, 0.2], "cumulative_share": [0.5, 0.8, 1.0]})
    >>> chart = plot_pareto(p)
    >>> chart.alt
    '2 of 3 categories make up 80% of the 100 complaints'
    >>> [(m["label"], m["value"]) for m in chart.marks if m["kind"] == "bar"]
    [('fees', 50.0), ('app', 30.0), ('queue', 20.0)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(pareto, ["category", "count", "cumulative_share"], "Pareto table", "complaint_summary()['pareto']")
    n = len(pareto)
    chart = Chart("pareto")
    if n == 0:
        return chart.empty(_("Complaints by category: nothing to show (none, or suppressed)"), _("nothing to show"))
    counts = pareto["count"].to_numpy(float)
    total = float(np.nansum(counts))
    cum = pareto["cumulative_share"].to_numpy(float)
    pooled = pareto["category"].astype(str).eq(OTHER_SUPPRESSED).to_numpy()
    reach = int(np.argmax(cum >= 0.8 - 1e-12)) + 1 if np.any(cum >= 0.8 - 1e-12) else n
    y = chart.title([_("{reach} of {n} category makes up 80% of the {total} complaints" if reach == 1 else
                       "{reach} of {n} categories make up 80% of the {total} complaints", reach=reach, n=n,
                       total=f"{total:,.0f}")])
    # categories are data, except the pooled "other (suppressed)" our code adds
    names = [tr(OTHER_SUPPRESSED) if p else c for c, p in zip(pareto["category"], pooled, strict=True)]
    top = y + LINE + 6  # room above the plot for the label of the 80% line
    left, centres, row = chart.category_labels(names, top, room=0.35 * chart.width)
    bottom = centres[-1] + row / 2
    end = chart.width - PAD - chart.measure("100%") / 2
    cum_w = max(110.0, 0.3 * (end - left))
    c0 = end - cum_w  # the cumulative panel
    b1 = c0 - 48  # the bars end before it, the two panels clearly apart
    values = [f"{c:,.0f}" for c in counts]
    ticks = chart.axis_ticks(0.0, max(chart.reach(counts.tolist(), values, b1 - left), 1.0), b1 - left, "{:,.0f}",
                             integer=True)
    x = lambda v: left + (b1 - left) * float(v) / ticks[-1]  # noqa: E731
    under = chart.value_axis(left, b1, top, bottom, 0.0, ticks[-1], label=_("Complaints"), fmt="{:,.0f}", ticks=ticks,
                             wide_label=False)
    cticks = chart.axis_ticks(0.0, 1.0, cum_w, "{:.0%}")
    under = max(under, chart.value_axis(c0, end, top, bottom, 0.0, cticks[-1], label=_("Cumulative share"), fmt="{:.0%}",
                                        ticks=cticks, wide_label=False))
    cx = lambda v: c0 + cum_w * float(v) / cticks[-1]  # noqa: E731
    bar = 0.65 * min(row, 0.3 * 96)
    for i, mid in enumerate(centres):
        c = counts[i]
        if np.isfinite(c):
            chart.rect(left, mid - bar / 2, x(c) - left, bar, fill="white" if pooled[i] else MID, edge="#000000",
                       hatch="xx" if pooled[i] else None)
            chart.text(x(c) + 4, mid, values[i])
        chart.mark("bar", label=str(names[i]), category=pareto["category"].iloc[i], value=float(c),
                   pooled=bool(pooled[i]))
    x80 = cx(0.8)
    chart.line(x80, top - 2, x80, bottom, colour=DARK, width=1.0, dash="4 3")
    chart.text(x80, y + 2, "80%", anchor="middle", valign="top")
    chart.mark("reference", value=0.8)
    points = [(cx(v), mid) for v, mid in zip(cum, centres, strict=True) if np.isfinite(v)]
    chart.polyline(points, colour=DARK, width=1.5)
    for v, mid, label in zip(cum, centres, names, strict=True):
        if np.isfinite(v):
            chart.dot(cx(v), mid, shape="circle", size=7, fill=DARK, edge="#000000")
        chart.mark("cumulative", label=str(label), value=float(v))
    items: list[tuple[str, str, dict[str, Any]]] = [(_("complaints"), "box", {"fill": MID}),
                                                    (_("cumulative share"), "line", {"colour": DARK})]
    chart.finish(chart.legend(items, under + 6))
    return chart


# --------------------------------------------------------------------------- iceberg
def plot_iceberg(iceberg: pd.DataFrame) -> Chart:
    """The complaint iceberg: the formal complaints above the waterline, the hidden layers below.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text). Layer
    heights are proportional to their shares, so the visible tip is as small as the share of
    dissatisfied customers who complain formally.

    Parameters
    ----------
    iceberg : pandas.DataFrame
        From :func:`csm_helpers.analysis.complaints.complaint_iceberg`.

    Returns
    -------
    Chart
        The layers formal (white, above the waterline), elsewhere (white, hatched) and silent
        (dotted), each labelled at the right with its estimated number of customers and share;
        the assumed shares are written under the chart. ``chart.marks`` holds a ``"layer"``
        entry per layer (``layer``, ``label``, ``share``, ``customers``, ``top`` and ``bottom``:
        its extent in px) and a ``"waterline"`` entry (``y``, px).

    Raises
    ------
    CsmError
        When a layer is missing.

    Examples
    --------
    >>> from csm_helpers.analysis.complaints import complaint_iceberg
    >>> chart = plot_iceberg(complaint_iceberg(100))
    >>> chart.alt
    '100 formal complaints stand for about 2,000 dissatisfied customers'
    >>> [(m["layer"], m["customers"]) for m in chart.marks if m["kind"] == "layer"]
    [('formal', 100.0), ('elsewhere', 700.0), ('silent', 1200.0)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(iceberg, ["layer", "share", "estimated_customers"], "complaint iceberg", "complaint_iceberg()")
    rows = {str(r.layer): r for r in iceberg.itertuples(index=False)}
    missing = [k for k in ICEBERG_LAYERS if k not in rows]
    if missing:
        raise CsmError(f"complaint iceberg: layer {', '.join(map(repr, missing))} is missing — pass the table "
                       "complaint_iceberg() returns")
    f, e, s = (float(rows[k].share) for k in ICEBERG_LAYERS)
    chart = Chart("iceberg")
    formal_n = float(rows["formal"].estimated_customers)
    total = formal_n / f if f > 0 else math.nan
    y = chart.title([_("{formal} formal complaints stand for about {total} dissatisfied customers",
                       formal=f"{formal_n:,.0f}", total=f"{total:,.0f}")])
    height = 250.0  # px of the whole iceberg (shares add up to 1)
    widest = 105.0  # px, half the iceberg's widest part
    water_word = _("waterline")
    cx = PAD + max(chart.measure(water_word) + 10 + widest * 0.5, widest) + 4
    label_x = cx + widest + 22
    room = chart.width - PAD - label_x
    labels = {k: chart.wrap(f"{tr(getattr(rows[k], 'label', k))}: {float(rows[k].estimated_customers):,.0f} "
                            f"({_pct(float(rows[k].share))})", room, max_lines=3) for k in ICEBERG_LAYERS}
    heights = {k: len(v) * LINE for k, v in labels.items()}
    water = y + 6 + max(f * height, heights["formal"] + 6) + 6
    bounds = {"formal": (water - f * height, water), "elsewhere": (water, water + e * height),
              "silent": (water + e * height, water + (e + s) * height)}
    bottom = bounds["silent"][1]
    knots_y, knots_w = [bounds["formal"][0], water, bounds["elsewhere"][1], bottom], [0.02, 0.5, 1.0, 0.6]

    def half(yy: float) -> float:
        # half-width of the iceberg at height yy: narrow tip, widest below the waterline
        return widest * float(np.interp(yy, knots_y, knots_w))

    # the labels: at their layer's middle (the formal one above the waterline), moved apart
    wanted = [min(sum(bounds["formal"]) / 2 - heights["formal"] / 2, water - 4 - heights["formal"]),
              max(sum(bounds["elsewhere"]) / 2 - heights["elsewhere"] / 2, water + 4),
              sum(bounds["silent"]) / 2 - heights["silent"] / 2]
    tops = _spread(wanted, [heights[k] for k in ICEBERG_LAYERS])
    deep = max(bottom, tops[-1] + heights["silent"]) + 10
    chart.rect(PAD, water, chart.width - 2 * PAD, deep - water, fill=LIGHT)
    styles = {"formal": ("white", None), "elsewhere": ("white", "////"), "silent": (MID, "..")}
    for layer, lt in zip(ICEBERG_LAYERS, tops, strict=True):
        lo, hi = bounds[layer]
        ys = np.linspace(lo, hi, 12)
        outline = [(cx - half(v), v) for v in ys] + [(cx + half(v), v) for v in ys[::-1]]
        fill, hatch = styles[layer]
        chart.polygon(outline, fill=fill, edge="#000000", edge_width=0.9, hatch=hatch)
        mid = (lo + hi) / 2
        lines = labels[layer]
        chart.lines(label_x, lt, lines)
        chart.line(label_x - 4, lt + len(lines) * LINE / 2, cx + half(mid) * 0.6, mid, colour=INK, width=0.7)
        r = rows[layer]
        chart.mark("layer", layer=layer, label=tr(getattr(r, "label", layer)), share=float(r.share),
                   customers=float(r.estimated_customers), top=float(lo), bottom=float(hi))
    chart.line(PAD, water, chart.width - PAD, water, colour=DARK, width=1.2)
    chart.text(PAD + 2, water - 4, water_word, valign="baseline")
    chart.mark("waterline", y=float(water))
    note = _("Assumed shares: {formal} complain formally, {elsewhere} voice it elsewhere, {silent} say nothing",
             formal=_pct(f), elsewhere=_pct(e), silent=_pct(s))
    chart.finish(chart.lines(chart.width / 2, deep + 8, chart.wrap(note, chart.width - 2 * PAD), anchor="middle"))
    return chart


# --------------------------------------------------------------------------- lost reasons
def _reason_label(reason: Any) -> str:
    """``'staff_indifference'`` -> ``'Staff indifference'``, translated when it is one of the benchmark's reasons."""
    text = str(reason).replace("_", " ").strip()
    return tr(text[:1].upper() + text[1:])


def plot_lost_reasons(table: pd.DataFrame, *, test: dict[str, Any] | None = None) -> Chart:
    """Why customers left: observed shares beside the benchmark, per reason.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`csm_helpers.analysis.complaints.lost_reasons`.
    test : dict, optional
        Its test dict: the chi-square p-value (or the Monte-Carlo one) goes into the title.

    Returns
    -------
    Chart
        Two horizontal bars per reason, in table order from the top: the lost customers'
        share (dark) above the benchmark share (white, hatched), each labelled with its
        percent. The title names the reason furthest above its benchmark and, with ``test``,
        the test's p-value. ``chart.marks`` holds two ``"bar"`` entries per reason (``label``,
        ``reason``, ``series``: ``"observed"`` or ``"benchmark"``, ``value``) and a ``"legend"``
        entry per legend key.

    Examples
    --------
    >>> t = pd.DataFrame({"reason": ["competitor", "staff_indifference"], "n": [40, 60],
    ...                   "share": [0.4, 0.6], "benchmark_share": [0.2, 0.8]})
    >>> chart = plot_lost_reasons(t)
    >>> chart.alt
    'Competitor: 40% of lost customers vs 20% in the benchmark (+20 pts; n = 100)'
    >>> [(m["label"], m["series"], m["value"]) for m in chart.marks if m["kind"] == "bar"][:2]
    [('Competitor', 'observed', 0.4), ('Competitor', 'benchmark', 0.2)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(table, ["reason", "share", "benchmark_share"], "lost-reason table", "lost_reasons()")
    n = len(table)
    chart = Chart("lost-reasons")
    if n == 0:
        return chart.empty(_("Reasons for leaving: nothing to show"), _("nothing to show"))
    obs = table["share"].to_numpy(float)
    bench = table["benchmark_share"].to_numpy(float)
    if np.all(np.isnan(obs)):
        return chart.empty(_("Reasons for leaving suppressed: too few lost customers"), _("nothing to show"))
    labels = [_reason_label(r) for r in table["reason"]]
    diff = obs - bench
    k = int(np.nanargmax(diff))
    total = table["n"].sum() if "n" in table.columns else (test or {}).get("n")
    lines = [_("{reason}: {observed} of lost customers vs {benchmark} in the benchmark ({difference} pts; {n})",
               reason=chart.one_line(labels[k], 240), observed=_pct(obs[k]), benchmark=_pct(bench[k]),
               difference=f"{100 * diff[k]:+.0f}".replace("-", chr(0x2212)), n=_n_text(total))]
    if test:
        p = test.get("p_value_mc")
        monte_carlo = True
        if p is None or (isinstance(p, float) and math.isnan(p)):
            p, monte_carlo = test.get("p_value"), False
        if p is not None and not (isinstance(p, float) and math.isnan(p)):
            lines.append(_("Different from the benchmark: Monte-Carlo test, {p}" if monte_carlo else
                           "Different from the benchmark: chi-square test, {p}", p=format_p(p)))
    y = chart.title(lines)
    bar, offset = 14.0, 8.5  # each bar's label is as tall as the bar and clear of its neighbour's
    left, centres, row = chart.category_labels(labels, y + 4, min_row=2 * (offset + bar / 2) + 12)
    right = chart.width - PAD - chart.measure("100%") / 2
    room = right - left
    obs_t, bench_t = [_pct(v) for v in obs], [_pct(v) for v in bench]
    need = max(chart.reach(obs.tolist(), obs_t, room), chart.reach(bench.tolist(), bench_t, room), 0.01)
    ticks = nice_ticks(0, need)
    high = ticks[-1]
    x = lambda v: left + room * float(v) / high  # noqa: E731
    bottom = centres[-1] + row / 2
    under = chart.value_axis(left, right, y + 4, bottom, 0.0, high, label=_("Share of lost customers"),
                             fmt=_share_fmt(ticks))
    for i, mid in enumerate(centres):
        for series, v, text, dy, fill, hatch in (("observed", obs[i], obs_t[i], -offset, DARK, None),
                                                 ("benchmark", bench[i], bench_t[i], offset, "white", "////")):
            if np.isfinite(v):
                chart.rect(left, mid + dy - bar / 2, x(v) - left, bar, fill=fill, edge="#000000", hatch=hatch)
            chart.text((x(v) if np.isfinite(v) else left) + 4, mid + dy, text)
            chart.mark("bar", label=labels[i], reason=table["reason"].iloc[i], series=series, value=float(v))
    items: list[tuple[str, str, dict[str, Any]]] = [(_("lost customers"), "box", {"fill": DARK}),
                                                    (_("benchmark"), "box", {"fill": "white", "hatch": "////"})]
    chart.finish(chart.legend(items, under + 6))
    return chart


# --------------------------------------------------------------------------- themes
def plot_themes(themes: pd.DataFrame) -> Chart:
    """Comment themes: share of commenters mentioning each theme, shaded by dimension.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    themes : pandas.DataFrame
        From :func:`csm_helpers.analysis.themes.comment_themes`, one group (filter a ``by`` table).

    Returns
    -------
    Chart
        One horizontal bar per theme, the most mentioned at the top, labelled with the share
        and the number of mentions; the dimension is told by the bar's colour and hatch
        (product plain dark, process hatched, people dotted), named in the legend. A
        suppressed theme gets no bar, only the word "suppressed". ``chart.marks`` holds a
        ``"bar"`` entry per theme drawn (``label``, ``dimension``, ``value``: the share,
        ``mentions``), a ``"suppressed"`` entry per suppressed theme (``label``) and a
        ``"legend"`` entry per legend key.

    Raises
    ------
    CsmError
        When the table holds several groups.

    Examples
    --------
    >>> t = pd.DataFrame({"attribute": ["wait", "fees"], "label": ["Waiting", "Fees"],
    ...                   "dimension": ["process", "product"], "mentions": [40, 10], "n_commenters": 100,
    ...                   "share_of_commenters": [0.4, 0.1], "suppressed": False})
    >>> chart = plot_themes(t)
    >>> chart.alt
    'Most mentioned: Waiting (40% of 100 commenters)'
    >>> [(m["label"], m["value"], m["mentions"]) for m in chart.marks if m["kind"] == "bar"]
    [('Waiting', 0.4, 40.0), ('Fees', 0.1, 10.0)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(themes, ["label", "dimension", "mentions", "share_of_commenters"], "theme table", "comment_themes()")
    known = {"attribute", "label", "dimension", "theme", "mentions", "n_commenters", "n_respondents",
             "share_of_commenters", "share_of_respondents", "suppressed"}
    t = _one_group(themes, known, "theme table")
    # longest bar first: sorted by the share drawn (mentions break ties), not by the raw count
    t = t.assign(_share=t["share_of_commenters"].astype(float).fillna(-1.0)).sort_values(
        ["_share", "mentions"], ascending=False, kind="stable").drop(columns="_share").reset_index(drop=True)
    n = len(t)
    weighted = "n_commenters" in t and bool(
        (t["share_of_commenters"].astype(float) - t["mentions"].astype(float) / t["n_commenters"].astype(float))
        .abs().gt(1e-9).any())
    chart = Chart("themes")
    if n == 0:
        return chart.empty(_("Comment themes: nothing to show"), _("nothing to show"))
    if _all_suppressed(t):
        return chart.empty(_("Comment themes suppressed: too few respondents with a comment"), _("nothing to show"))
    share = t["share_of_commenters"].to_numpy(float)
    mentions = t["mentions"].to_numpy(dtype=float, na_value=np.nan)
    dims = t["dimension"].astype(str).tolist()
    hidden = np.isnan(share)
    if "suppressed" in t.columns:
        hidden |= t["suppressed"].fillna(False).to_numpy(bool)
    k = int(np.nanargmax(np.where(np.isfinite(share) & ~hidden, share, -1)))
    commenters = t["n_commenters"].iloc[k] if "n_commenters" in t.columns else None
    label = chart.one_line(t["label"].iloc[k], 320)
    if hidden[k] or not np.isfinite(share[k]) or share[k] <= 0:
        title = _("No theme was mentioned in the comments")
    elif commenters is not None and not pd.isna(commenters):
        title = _("Most mentioned: {theme} ({share} of {n} commenters)", theme=label, share=_pct(share[k]),
                  n=f"{int(commenters):,}")
    else:
        title = _("Most mentioned: {theme} ({share})", theme=label, share=_pct(share[k]))
    y = chart.title([title])
    left, centres, row = chart.category_labels(t["label"].tolist(), y + 4)
    right = chart.width - PAD - chart.measure("100%") / 2
    room = right - left
    values = [_("suppressed") if hidden[i] else
              f"{_pct(share[i])} ({mentions[i]:,.0f})" if np.isfinite(mentions[i]) else _pct(share[i])
              for i in range(n)]
    shown = np.where(hidden, np.nan, share)
    ticks = nice_ticks(0, max(chart.reach(shown.tolist(), values, room), 0.05))
    high = ticks[-1]
    x = lambda v: left + room * float(v) / high  # noqa: E731
    bottom = centres[-1] + row / 2
    xlabel = (_("Weighted share of respondents with a comment who mention the theme (unweighted mentions)")
              if weighted else _("Share of respondents with a comment who mention the theme (mentions)"))
    under = chart.value_axis(left, right, y + 4, bottom, 0.0, high, label=xlabel, fmt=_share_fmt(ticks))
    bar = 0.65 * min(row, 0.3 * 96)
    for i, mid in enumerate(centres):
        if hidden[i]:  # a suppressed theme is never drawn (SPEC §4)
            chart.text(left + 4, mid, values[i])
            chart.mark("suppressed", label=t["label"].iloc[i])
            continue
        fill, hatch = _DIMENSION_STYLE.get(dims[i], _OTHER_DIMENSION)
        chart.rect(left, mid - bar / 2, x(share[i]) - left, bar, fill=fill, edge="#000000", hatch=hatch)
        chart.text(x(share[i]) + 4, mid, values[i])
        chart.mark("bar", label=t["label"].iloc[i], dimension=dims[i], value=float(share[i]),
                   mentions=float(mentions[i]))
    drawn = {dims[i] for i in range(n) if not hidden[i]}
    items: list[tuple[str, str, dict[str, Any]]] = [
        (tr(d), "box", {"fill": fill, "hatch": hatch}) for d, (fill, hatch) in _DIMENSION_STYLE.items() if d in drawn]
    chart.finish(chart.legend(items, under + 6) if items else under)
    return chart
