"""Charts of the analysis report (stage 04): IPA, key drivers, expectation gaps, competitor benchmark, Kano.

Every function returns a :class:`~csm_helpers.present.charts.canvas.Chart`: SVG laid out from
the measured width of its texts (text kept as text, customer labels escaped), with
``chart.marks`` saying what each drawn element stands for. Hatching, marker shapes and value
labels carry the meaning, never colour alone; titles say what the reader should see and the
axis labels give n. Suppressed rows (SPEC §4) are left out of every chart and the chart says
how many.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from csm_helpers.analysis.drivers import CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL, QUADRANT_SURE
from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.charts.canvas import (
    MIN_PT,
    PAD,
    PX_PER_PT,
    Chart,
    TextBox,
    axis_span,
    nice_ticks,
    tick_format,
)
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, INK, LIGHT, MID, PURPLE, tint_hex
from csm_helpers.present.charts.scatter import label_points, number_key, quadrant_frame

__all__ = ["plot_ipa", "plot_drivers", "plot_gaps", "plot_competitor", "plot_kano"]

_MINUS = "\u2212"
# Dimension -> (marker shape, face colour) for the IPA chart; unknown dimensions get a grey diamond.
_DIM_STYLE = {"product": ("circle", DARK), "process": ("square", MID), "people": ("triangle", PURPLE)}
_OTHER_DIM = ("diamond", LIGHT)
_UNSURE_TEXT = "#666666"  # grey with a 5.7:1 contrast on white: greyed out, still readable
# Derived importance measure -> how the axis names it.
_IMPORTANCE_NAMES = {"relative_weight": N_("relative weight (share of variance)"),
                     "rw_pct": N_("relative weight (% of R²)"),
                     "r": N_("correlation with overall satisfaction"), "beta": N_("standardised beta")}


# --------------------------------------------------------------------------- IPA
def plot_ipa(ipa_table: pd.DataFrame, *, label_width: int = 28) -> Chart:
    """Importance–performance grid: attributes as points, cross-hairs and the four quadrant names.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    ipa_table : pandas.DataFrame
        From :func:`csm_helpers.analysis.drivers.ipa`. Rows marked ``suppressed`` are not placed.
    label_width : int
        Point labels wider than this many average characters are cut with an ellipsis.

    Returns
    -------
    Chart
        Performance across, importance up (its label above the plot), dashed cross-hairs and
        the four quadrant names in the corners, kept clear of every point. Marker shapes tell
        the dimensions apart (product circles, process squares, people triangles, others
        diamonds). Each point is labelled with its attribute label where it fits next to the
        point without touching another label, a marker or a quadrant name (a label over a
        cross-hair is written on a white ground); a point whose label finds no place, or would
        sit as near another point as its own, carries a number (points on top of each other
        share one, "3–5"), and the key under the chart gives "number = label". With a ``p_quadrant`` column (the bootstrap probability of the
        quadrant, :func:`csm_helpers.analysis.drivers.ipa_quadrant_probability`), an attribute
        below :data:`~csm_helpers.analysis.drivers.QUADRANT_SURE` is greyed out (grey point, grey
        label) and the legend says why. ``chart.marks`` holds a ``"point"`` entry per placed
        attribute (``label``, ``x`` = performance, ``y`` = importance, ``dimension``,
        ``quadrant``, ``uncertain``, ``shown``: the label or number written by it), a
        ``"crosshair"`` entry (``x``, ``y``), a ``"quadrant"`` entry per corner name, a
        ``"key"`` entry per numbered point (``number``, ``label``) and a ``"legend"`` entry per
        legend key.

    Examples
    --------
    >>> t = pd.DataFrame({"attribute": ["a", "b", "c", "d"], "label": ["Fees", "Speed", "App", "Staff"],
    ...                   "dimension": ["product", "process", "product", "people"],
    ...                   "n_performance": [50, 52, 49, 51], "performance": [3.0, 4.2, 3.1, 4.0],
    ...                   "importance": [4.5, 4.4, 3.2, 3.3], "importance_type": "stated",
    ...                   "x_cross": 3.575, "y_cross": 3.85,
    ...                   "quadrant": ["Concentrate here", "Keep up the good work", "Low priority",
    ...                                "Possible overkill"]})
    >>> chart = plot_ipa(t)
    >>> chart.alt
    'Concentrate here: 1 of 4 attributes Fees'
    >>> [(m["label"], m["x"], m["y"], m["shown"]) for m in chart.marks if m["kind"] == "point"][:2]
    [('Fees', 3.0, 4.5, 'Fees'), ('Speed', 4.2, 4.4, 'Speed')]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(ipa_table, ["performance", "importance", "x_cross", "y_cross", "quadrant"], "IPA table", "ipa()")
    t = ipa_table.reset_index(drop=True)
    if "suppressed" in t.columns:  # never placed (SPEC §4)
        t = t.loc[~t["suppressed"].eq(True).to_numpy()].reset_index(drop=True)
    labels = _labels(t, None)
    perf = t["performance"].to_numpy(float)
    imp = t["importance"].to_numpy(float)
    placed = np.isfinite(perf) & np.isfinite(imp)
    chart = Chart("ipa")
    if not placed.any():
        return chart.empty(_("Importance-performance: no attribute to place"), _("nothing to show"))
    xc = float(t["x_cross"].iloc[0])
    yc = float(t["y_cross"].iloc[0])
    dims = t["dimension"].tolist() if "dimension" in t.columns else [None] * len(t)
    sure = t["p_quadrant"].to_numpy(float) if "p_quadrant" in t.columns else np.full(len(t), np.nan)
    unsure = np.nan_to_num(sure, nan=1.0) < QUADRANT_SURE  # a coin toss: greyed out

    conc_rows = sorted((i for i, q in enumerate(t["quadrant"]) if q == CONCENTRATE), key=lambda i: -imp[i])
    n_placed = int(placed.sum())
    if conc_rows:  # most important first
        names = ", ".join(chart.wrap(labels[i], 200, max_lines=1)[0] for i in conc_rows[:3])
        if len(conc_rows) > 3:
            names += " " + _("(+{k} more)", k=len(conc_rows) - 3)
        lines = [_("{quadrant}: {n} of {total} attributes", quadrant=tr(CONCENTRATE), n=len(conc_rows),
                   total=n_placed), names]
    else:
        lines = [_('No attribute in the "{quadrant}" quadrant ({total} attributes placed)', quadrant=tr(CONCENTRATE),
                   total=n_placed)]
    if n_placed < len(t):
        lines.append(_("{k} attribute(s) not placed: no performance or importance value", k=len(t) - n_placed))
    top = chart.title(lines)

    itype = str(t["importance_type"].iloc[0]) if "importance_type" in t.columns else "stated"
    n_perf = _n_range(t, "n_performance")
    frame = quadrant_frame(
        chart, top, perf[placed], imp[placed], (xc, yc),
        (tr(CONCENTRATE), tr(KEEP_UP), tr(LOW_PRIORITY), tr(OVERKILL)),
        xlabel=_("Mean performance, n = {n} per attribute", n=n_perf) if n_perf else _("Mean performance"),
        ylabel=_importance_label(itype))
    chart.mark("crosshair", x=xc, y=yc)

    rows = np.flatnonzero(placed)
    points, colours = [], []
    for i in rows:
        shape, face = _DIM_STYLE.get(str(dims[i]), _OTHER_DIM)
        x, y = frame.x(perf[i]), frame.y(imp[i])
        chart.dot(x, y, shape=shape, fill=LIGHT if unsure[i] else face,
                  edge=_UNSURE_TEXT if unsure[i] else "#000000")
        points.append((x, y))
        colours.append(_UNSURE_TEXT if unsure[i] else "#1a1a1a")
    room = label_width * chart.measure("n")
    shown, key = label_points(chart, points, [labels[i] for i in rows], colours, frame.within, room)
    for k, i in enumerate(rows):
        chart.mark("point", label=labels[i], x=float(perf[i]), y=float(imp[i]), dimension=dims[i],
                   quadrant=t["quadrant"].iloc[i], uncertain=bool(unsure[i]), shown=shown[k])

    present = dict.fromkeys(d for d, ok in zip(dims, placed, strict=True) if ok)
    items: list[tuple[str, str, dict[str, Any]]] = []
    for dim in sorted(present, key=lambda d: list(_DIM_STYLE).index(d) if d in _DIM_STYLE else len(_DIM_STYLE)):
        shape, face = _DIM_STYLE.get(str(dim), _OTHER_DIM)
        name = tr(str(dim).capitalize()) if isinstance(dim, str) and dim else _("Attribute")
        items.append((name, "dot", {"shape": shape, "fill": face}))
    items.append((_("cross-hairs: scale midpoints (on a line counts as high)" if _is_midpoint(ipa_table) else
                    "cross-hairs: grand means (on a line counts as high)"), "line", {"colour": DARK, "dash": "5 4"}))
    if (unsure & placed).any():
        items.append((_("grey: quadrant uncertain (bootstrap probability below {p})", p=f"{QUADRANT_SURE:.1f}"),
                      "dot", {"fill": LIGHT, "edge": _UNSURE_TEXT}))
    chart.finish(number_key(chart, key, chart.legend(items, frame.under + 6)))
    return chart


def _importance_label(itype: str) -> str:
    if itype == "stated":
        return _("Mean stated importance")
    measure = itype.removeprefix("derived").strip(" ()")
    name = tr(_IMPORTANCE_NAMES[measure]) if measure in _IMPORTANCE_NAMES else measure
    return _("Derived importance: {measure}", measure=name)


def _is_midpoint(t: pd.DataFrame) -> bool:
    return t.attrs.get("crosshair") == "midpoint"


# --------------------------------------------------------------------------- Kano
def plot_kano(kano: pd.DataFrame, *, label_width: int = 28) -> Chart:
    """The Better–Worse chart of a Kano study (Berger et al. 1993): each feature placed by how much
    its absence dissatisfies (x = |Worse|) and how much its presence satisfies (y = Better).

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    kano : pandas.DataFrame
        From :func:`csm_helpers.analysis.kano.kano_table`.
    label_width : int
        Point labels wider than this many average characters are cut with an ellipsis.

    Returns
    -------
    Chart
        |Worse| across and Better up, both 0 to 1; dashed lines split the chart at 0.5 into
        Attractive (top left), One-dimensional (top right), Must-be (bottom right) and
        Indifferent (bottom left), named in the corners clear of every point. Features whose
        category is one of the four quadrants' (A, O, M, I) and clear by Fong's test are blue
        dots; those whose category is not clear are grey; those whose category is Reverse or
        Questionable (the quadrants do not apply) are crosses. Thin whiskers are the intervals
        of Better and Worse. Each point is labelled where its label fits (else numbered, with
        "number = label" under the chart). Suppressed features are not placed. ``chart.marks``
        holds a ``"point"`` entry per placed feature (``label``, ``x`` = |Worse|, ``y`` =
        Better, ``category``, ``clear``, ``shown``: the label or number written by it), a
        ``"quadrant"`` entry per corner name, a ``"key"`` entry per numbered point and a
        ``"legend"`` entry per legend key.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["App", "Chat", "Calls"], "category": ["M", "A", "R"], "clear": [True, True, True],
    ...                   "better": [0.3, 0.7, 0.2], "better_ci_low": [0.25, 0.65, 0.15],
    ...                   "better_ci_high": [0.35, 0.75, 0.25], "worse": [-0.8, -0.2, -0.1],
    ...                   "worse_ci_low": [-0.85, -0.25, -0.15], "worse_ci_high": [-0.75, -0.15, -0.05],
    ...                   "suppressed": [False, False, False]})
    >>> chart = plot_kano(t)
    >>> chart.alt
    'Kano categories of 3 features 1 must-be, 1 attractive, 1 reverse'
    >>> [(m["label"], m["x"], m["y"], m["category"]) for m in chart.marks if m["kind"] == "point"]
    [('App', 0.8, 0.3, 'M'), ('Chat', 0.2, 0.7, 'A'), ('Calls', 0.1, 0.2, 'R')]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    from csm_helpers.analysis.kano import CATEGORY_NAMES

    require_table(kano, ["label", "category", "better", "worse", "suppressed"], "Kano table", "kano_table()")
    t = kano.reset_index(drop=True)
    better = t["better"].to_numpy(float)
    worse = -t["worse"].to_numpy(float)
    placed = ~t["suppressed"].astype(bool).to_numpy() & np.isfinite(better) & np.isfinite(worse)
    cats = t["category"].tolist()
    other = np.array([c in ("R", "Q") for c in cats])
    unclear = np.array([c is False for c in t["clear"]]) if "clear" in t.columns else np.zeros(len(t), bool)
    chart = Chart("kano")
    if not placed.any():
        return chart.empty(_("Kano: no feature to place"), _("nothing to show"))
    counts = {c: sum(1 for k, ok in zip(cats, placed, strict=True) if ok and k == c) for c in "MOAIRQ"}
    parts = [f"{counts[c]} {tr(CATEGORY_NAMES[c]).lower()}" for c in "MOAIRQ" if counts[c]]
    top = chart.title([_("Kano categories of {n} features", n=int(placed.sum())), ", ".join(parts)])
    frame = quadrant_frame(chart, top, worse[placed], better[placed], (0.5, 0.5),
                            tuple(tr(CATEGORY_NAMES[c]) for c in "AOIM"),
                            xlabel=_("Dissatisfaction when missing (|Worse|)"),
                            ylabel=_("Satisfaction when present (Better)"), x_range=(0.0, 1.0), y_range=(0.0, 1.0))
    rows = np.flatnonzero(placed)
    ci = {"better_ci_low", "better_ci_high", "worse_ci_low", "worse_ci_high"} <= set(t.columns)
    if ci:  # thin whiskers under the points; labels keep off them
        for i in rows:
            x, y = frame.x(worse[i]), frame.y(better[i])
            x0, x1 = sorted((frame.x(-t["worse_ci_high"].iloc[i]), frame.x(-t["worse_ci_low"].iloc[i])))
            y0, y1 = sorted((frame.y(t["better_ci_low"].iloc[i]), frame.y(t["better_ci_high"].iloc[i])))
            if np.isfinite([x0, x1]).all():
                chart.line(x0, y, x1, y, colour=MID, width=1.0)
                chart.obstacles.append(TextBox("", x0, y - 1, x1, y + 1, 0.0))
            if np.isfinite([y0, y1]).all():
                chart.line(x, y0, x, y1, colour=MID, width=1.0)
                chart.obstacles.append(TextBox("", x - 1, y0, x + 1, y1, 0.0))
    points = []
    for i in rows:
        x, y = frame.x(worse[i]), frame.y(better[i])
        if other[i]:
            _cross(chart, x, y, colour=BAD)
        elif unclear[i]:
            chart.dot(x, y, fill=LIGHT, edge=_UNSURE_TEXT)
        else:
            chart.dot(x, y, fill=DARK)
        points.append((x, y))
    names = [str(t["label"].iloc[i]) for i in rows]
    room = label_width * chart.measure("n")
    shown, key = label_points(chart, points, names, ["#1a1a1a"] * len(rows), frame.within, room)
    for k, i in enumerate(rows):
        extra = {f"{c}": float(t[c].iloc[i]) for c in ("better_ci_low", "better_ci_high", "worse_ci_low",
                                                        "worse_ci_high") if ci}
        chart.mark("point", label=names[k], x=float(worse[i]), y=float(better[i]), category=cats[i],
                   clear=not unclear[i], shown=shown[k], **extra)
    items: list[tuple[str, str, dict[str, Any]]] = []
    if ci:
        items.append((_("whiskers: confidence intervals"), "line", {"colour": MID}))
    if (placed & unclear & ~other).any():
        items.append((_("grey: category not clear (Fong's test)"), "dot", {"fill": LIGHT, "edge": _UNSURE_TEXT}))
    y = chart.legend(items, frame.under + 6) if items else frame.under + 6
    if (placed & other).any():
        y = _cross_legend(chart, _("cross: Reverse or Questionable, the quadrants do not apply"), y)
    chart.finish(number_key(chart, key, y))
    return chart


def _cross(chart: Chart, x: float, y: float, *, colour: str, size: float = 10.0, obstacle: bool = True) -> None:
    """A filled "X" marker ``size`` px across (the canvas has no cross marker)."""
    a, b = size / 2, size * 0.13
    plus = [(b, a), (b, b), (a, b), (a, -b), (b, -b), (b, -a), (-b, -a), (-b, -b), (-a, -b), (-a, b), (-b, b), (-b, a)]
    c = math.sqrt(0.5)
    chart.polygon([(x + (px - py) * c, y + (px + py) * c) for px, py in plus], fill=colour, edge=None)
    if obstacle:
        r = (a + b) * c  # the rotated arms' reach
        chart.obstacles.append(TextBox("", x - r, y - r, x + r, y + r, 0.0))


def _cross_legend(chart: Chart, label: str, top: float) -> float:
    """A legend row with the cross marker as its key, centred as :meth:`Chart.legend` centres
    its rows; returns the y under it."""
    key_w = 20.0
    total = key_w + 5 + chart.measure(label)
    x = max((chart.width - total) / 2, PAD)
    mid = top + MIN_PT * PX_PER_PT * 0.6
    _cross(chart, x + key_w / 2, mid, colour=BAD, obstacle=False)
    room = chart.width - PAD - (x + key_w + 5)
    chart.text(x + key_w + 5, mid, chart.wrap(label, room, max_lines=1)[0])
    chart.mark("legend", label=label, key="cross")
    return top + MIN_PT * PX_PER_PT * 1.5


# --------------------------------------------------------------------------- key drivers
def plot_drivers(drivers: pd.DataFrame, *, labels: Mapping[str, str] | None = None, top: int = 3) -> Chart:
    """Key drivers: relative weight of each attribute as % of R^2, with bootstrap whiskers, sorted.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    drivers : pandas.DataFrame
        From :func:`csm_helpers.analysis.drivers.key_drivers` (a ``label`` column is used when present).
    labels : mapping, optional
        Attribute id -> label for the bars (default: the ``label`` column, else the id).
    top : int
        The ``top`` largest drivers are drawn dark, the others white and hatched.

    Returns
    -------
    Chart
        One bar per attribute, largest at the top, each labelled with its percent of R^2;
        whiskers show the bootstrap interval (``rw_pct_ci_low`` to ``rw_pct_ci_high``). R^2
        (the sum of the relative weights) is in the title. ``chart.marks`` holds a ``"bar"``
        entry per attribute (``label``, ``value``, ``low``, ``high``, ``top``) and a
        ``"legend"`` entry per legend key.

    Examples
    --------
    >>> kd = pd.DataFrame({"attribute": ["fees", "speed"], "n": [120, 118],
    ...                    "relative_weight": [0.1, 0.3], "rw_pct": [25.0, 75.0],
    ...                    "rw_pct_ci_low": [15.0, 60.0], "rw_pct_ci_high": [40.0, 85.0]})
    >>> chart = plot_drivers(kd, labels={"fees": "Fees", "speed": "Speed"})
    >>> chart.alt
    'Key drivers of overall satisfaction (R² = 0.40) Strongest: Speed, 75% of the explained variance'
    >>> [(m["label"], m["value"]) for m in chart.marks if m["kind"] == "bar"]
    [('Speed', 75.0), ('Fees', 25.0)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(drivers, ["attribute", "relative_weight", "rw_pct"], "key-driver table", "key_drivers()")
    _one_row_per_attribute(drivers, "key-driver table")
    d = drivers.assign(_label=_labels(drivers, labels))
    d = d[np.isfinite(d["rw_pct"].to_numpy(float))]
    d = d.sort_values("rw_pct", ascending=False, kind="stable").reset_index(drop=True)
    n = len(d)
    chart = Chart("drivers")
    if n == 0:
        return chart.empty(_("Key drivers: no attribute to show"), _("nothing to show"))
    pct = d["rw_pct"].to_numpy(float)
    has_ci = {"rw_pct_ci_low", "rw_pct_ci_high"} <= set(d.columns) and \
        np.isfinite(d[["rw_pct_ci_low", "rw_pct_ci_high"]].to_numpy(float)).any()
    lo = d["rw_pct_ci_low"].to_numpy(float) if has_ci else np.full(n, np.nan)
    hi = d["rw_pct_ci_high"].to_numpy(float) if has_ci else np.full(n, np.nan)
    okc = np.isfinite(lo) & np.isfinite(hi)
    ends = np.where(okc, np.fmax(hi, pct), pct)
    r2 = float(drivers["relative_weight"].sum())
    strongest = chart.wrap(d["_label"].iloc[0], 320, max_lines=1)[0]
    y = chart.title([_("Key drivers of overall satisfaction (R² = {r2})", r2=f"{r2:.2f}"),
                     _("Strongest: {label}, {pct}% of the explained variance", label=strongest, pct=f"{pct[0]:.0f}")])
    left, centres, row = chart.category_labels(d["_label"].tolist(), y + 4)
    right = chart.width - PAD - chart.measure("100%") / 2  # room for the last tick label, centred on its tick
    values = [f"{p:.0f}%" for p in pct]
    room = right - left
    # the axis reaches far enough for every value label to fit right of its bar or whisker
    high = nice_ticks(0, max(10.0, chart.reach(ends, values, room)))[-1]
    x = lambda v: left + room * float(v) / high  # noqa: E731
    bottom = centres[-1] + row / 2
    n_txt = _n_range(d, "n")
    if not n_txt:
        xlabel = _("Share of the explained variance (% of R²)")
    elif drivers.attrs.get("pairwise", True):
        xlabel = _("Share of the explained variance (% of R²), n = {n} per attribute (pairwise)", n=n_txt)
    else:
        xlabel = _("Share of the explained variance (% of R²), n = {n} (complete cases)", n=n_txt)
    under = chart.value_axis(left, right, y + 4, bottom, 0.0, high, label=xlabel, fmt="{:g}%")
    bar = 0.65 * min(row, 0.3 * 96)
    for i, mid in enumerate(centres):
        leading = i < top
        chart.rect(left, mid - bar / 2, x(pct[i]) - left, bar, fill=DARK if leading else "white", edge="#000000",
                   hatch=None if leading else "////")
        if okc[i]:
            chart.whisker(x(lo[i]), x(hi[i]), mid)
        chart.text(x(ends[i]) + 4, mid, values[i])
        chart.mark("bar", label=d["_label"].iloc[i], value=float(pct[i]), low=float(lo[i]), high=float(hi[i]),
                   top=leading)
    items: list[tuple[str, str, dict[str, Any]]] = [(_("top {k}", k=min(top, n)), "box", {"fill": DARK})]
    if n > top:
        items.append((_("others"), "box", {"fill": "white", "hatch": "////"}))
    if has_ci:
        level = drivers.attrs.get("level", 0.95)
        items.append((_("{level} bootstrap interval", level=f"{level:.0%}"), "whisker", {}))
    chart.finish(chart.legend(items, under + 6))
    return chart


# --------------------------------------------------------------------------- gaps
def plot_gaps(gaps: pd.DataFrame, *, kind: Literal["mean", "shares"] = "mean",
              labels: Mapping[str, str] | None = None) -> Chart:
    """Expectation gaps: mean gap P − E with its interval, or the shares dissatisfied / satisfied / delighted.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    gaps : pandas.DataFrame
        From :func:`csm_helpers.analysis.gaps.expectation_gaps` (one group: filter a ``by`` table first).
    kind : {"mean", "shares"}
        ``"mean"``: one dot per attribute at its mean gap with interval whiskers, most negative
        at the top, around a line at 0; filled dots are significant: the adjusted p of the family
        (``p_adj``, see :func:`csm_helpers.analysis.gaps.expectation_gaps`) is below ``1 - level``
        (the table's ``attrs["level"]``, else 0.95) — the whiskers are each attribute's own
        interval, so a whisker clear of 0 can still be hollow; a table without ``p_adj`` marks
        the intervals that exclude 0. ``"shares"``: stacked horizontal bars of the three
        states, most dissatisfied at the top.
    labels : mapping, optional
        Attribute id -> label (default: the ``label`` column, else the id).

    Returns
    -------
    Chart
        ``"mean"``: ``chart.marks`` holds a ``"dot"`` entry per attribute, top to bottom
        (``label``, ``value`` = mean gap, ``low``, ``high``, ``significant``), each dot
        labelled with its signed gap; ``"shares"``: a ``"bar"`` entry per part of each bar
        (``label``, ``part`` = ``"dissatisfied"`` (vermillion), ``"satisfied"`` (white,
        dotted) or ``"delighted"`` (light green, hatched), ``value`` = share, ``start`` = the
        share left of it), each part labelled with its percent when it is wide enough. Both
        hold a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> g = pd.DataFrame({"attribute": ["fees", "staff"], "n": [200, 210], "mean_gap": [-0.7, 0.1],
    ...                   "ci_low": [-0.8, -0.05], "ci_high": [-0.6, 0.25], "share_dissatisfied": [0.56, 0.3],
    ...                   "share_satisfied": [0.26, 0.35], "share_delighted": [0.18, 0.35]})
    >>> chart = plot_gaps(g, labels={"fees": "Fees", "staff": "Staff"})
    >>> chart.alt
    'Perception falls short of expectation on 1 of 2 attributes Largest shortfall: Fees (−0.70 points)'
    >>> [(m["label"], m["value"], m["significant"]) for m in chart.marks if m["kind"] == "dot"]
    [('Fees', -0.7, True), ('Staff', 0.1, False)]
    >>> shares = plot_gaps(g, kind="shares")
    >>> [(m["label"], m["part"], m["value"]) for m in shares.marks if m["kind"] == "bar"][:3]
    [('fees', 'dissatisfied', 0.56), ('fees', 'satisfied', 0.26), ('fees', 'delighted', 0.18)]
    >>> chart.overlaps(), shares.overlaps(), chart.smallest_pt
    ([], [], 11.0)
    """
    if kind not in ("mean", "shares"):
        raise CsmError(f"The value for `kind` must be one of ['mean', 'shares'], but {kind!r} was passed.")
    need = ["attribute", "mean_gap", "ci_low", "ci_high"] if kind == "mean" else [
        "attribute", "share_dissatisfied", "share_satisfied", "share_delighted"]
    require_table(gaps, need, "expectation-gap table", "expectation_gaps()")
    _one_row_per_attribute(gaps, "expectation-gap table")
    g = gaps.assign(_label=_labels(gaps, labels))
    suppressed = g["suppressed"].eq(True).to_numpy() if "suppressed" in g.columns else np.zeros(len(g), bool)
    key = "mean_gap" if kind == "mean" else "share_dissatisfied"
    g = g[~suppressed & np.isfinite(g[key].to_numpy(float))]
    g = g.sort_values(key, ascending=kind == "mean", kind="stable").reset_index(drop=True)
    note = [_("{k} attribute(s) suppressed: too few answers", k=int(suppressed.sum()))] if suppressed.any() else []
    chart = Chart("gaps" if kind == "mean" else "gap-shares")
    if g.empty:
        return _empty(chart, [_("Expectation gaps: no attribute to show"), *note])
    if kind == "mean":
        _gap_means(chart, g, gaps.attrs, note)
    else:
        _gap_shares(chart, g, note)
    return chart


def _gap_means(chart: Chart, g: pd.DataFrame, attrs: Mapping[str, Any], note: list[str]) -> None:
    n = len(g)
    m = g["mean_gap"].to_numpy(float)
    lo = g["ci_low"].to_numpy(float)
    hi = g["ci_high"].to_numpy(float)
    if "p_adj" in g.columns:  # the corrected family decides (issue 10 item 5), as in the table
        alpha = 1 - float(attrs.get("level", 0.95))
        sig = np.nan_to_num(g["p_adj"].to_numpy(float), nan=1.0) < alpha
        sig_label = _("significant (BH-adjusted p)") if attrs.get("p_adjust", "fdr_bh") == "fdr_bh" \
            else _("significant (adjusted p)")
    else:
        sig = (hi < 0) | (lo > 0)
        sig_label = _("interval excludes 0")
    okc = np.isfinite(lo) & np.isfinite(hi)
    short = int(np.sum(m < 0))
    worst = int(np.argmin(m))
    lines = [_("Perception falls short of expectation on {k} of {n} attributes", k=short, n=n)]
    if m[worst] < 0:
        lines.append(_("Largest shortfall: {label} ({gap} points)", label=chart.wrap(g["_label"].iloc[worst], 320,
                                                                                      max_lines=1)[0],
                       gap=_signed(m[worst])))
    top = chart.title(lines + note)
    left, centres, row = chart.category_labels(g["_label"].tolist(), top + 4)
    right = chart.width - PAD - 16  # room for the last tick label, centred on its tick
    room = right - left
    values = [_signed(v) for v in m]
    starts = np.where(okc, np.fmin(lo, m), m)
    ends = np.where(okc, np.fmax(hi, m), m)
    # 0 always shown; every value label fits right of its whisker or dot
    low, high = axis_span([(float(v), 8 / room) for v in starts] + [(0.0, 8 / room)],
                      [(float(e), (7 + chart.measure(v)) / room) for e, v in zip(ends, values, strict=True)]
                      + [(0.0, 8 / room)], minimum=0.2)
    x = lambda v: left + room * (float(v) - low) / (high - low)  # noqa: E731
    bottom = centres[-1] + row / 2
    n_txt = _n_range(g, "n")
    xlabel = (_("Mean gap: perception \u2212 expectation (scale points; below 0: short of expectation), "
                "n = {n}", n=n_txt) if n_txt else
              _("Mean gap: perception \u2212 expectation (scale points; below 0: short of expectation)"))
    under = chart.value_axis(left, right, top + 4, bottom, low, high, label=xlabel, fmt=tick_format(low, high))
    chart.line(x(0), top + 4, x(0), bottom, colour=INK, width=1.2)
    for i, mid in enumerate(centres):
        if okc[i]:
            chart.whisker(x(lo[i]), x(hi[i]), mid)
        chart.dot(x(m[i]), mid, fill=DARK if sig[i] else "white")
        at = x(ends[i]) + 7  # the value right of its whisker; left of it when the zero line would cross it
        w = chart.measure(values[i])
        if at - 3 < x(0) < at + w + 3 and x(starts[i]) - 7 - w >= left:
            chart.text(x(starts[i]) - 7, mid, values[i], anchor="end")
        else:
            chart.text(at, mid, values[i])
        chart.mark("dot", label=g["_label"].iloc[i], value=float(m[i]), low=float(lo[i]), high=float(hi[i]),
                   significant=bool(sig[i]))
    items: list[tuple[str, str, dict[str, Any]]] = []
    if sig.any():
        items.append((sig_label, "dot", {"fill": DARK}))
    if (~sig).any():
        items.append((_("not significant"), "dot", {"fill": "white"}))
    items.append((_("confidence interval"), "whisker", {}))
    chart.finish(chart.legend(items, under + 6))


#: The parts of a shares bar: column, fill, hatch, what the legend calls it.
_SHARE_PARTS = (("share_dissatisfied", BAD, None, N_("dissatisfied (P < E)")),
                ("share_satisfied", "white", "..", N_("satisfied (P = E)")),
                ("share_delighted", tint_hex(GOOD, 0.4), "////",
                 N_("delighted (P > E)")))


def _gap_shares(chart: Chart, g: pd.DataFrame, note: list[str]) -> None:
    first = g["share_dissatisfied"].to_numpy(float)
    top = chart.title([_("Most dissatisfied: {label}", label=chart.wrap(g["_label"].iloc[0], 320, max_lines=1)[0]),
                       _("{pct}% rate it below their expectation", pct=f"{first[0] * 100:.0f}"), *note])
    left, centres, row = chart.category_labels(g["_label"].tolist(), top + 4)
    right = chart.width - PAD - chart.measure("100%") / 2
    bottom = centres[-1] + row / 2
    n_txt = _n_range(g, "n")
    under = chart.value_axis(left, right, top + 4, bottom, 0.0, 100.0,
                             label=_("Share of respondents, n = {n}", n=n_txt) if n_txt else _("Share of respondents"),
                             fmt="{:g}%")
    bar = 0.65 * min(row, 0.3 * 96)
    text_h = MIN_PT * PX_PER_PT
    for i, mid in enumerate(centres):
        start = 0.0
        for col, fill, hatch, _name in _SHARE_PARTS:
            v = float(np.nan_to_num(g[col].iloc[i]))
            x0, w = left + start * (right - left), v * (right - left)
            chart.rect(x0, mid - bar / 2, w, bar, fill=fill, edge="#000000", edge_width=0.6, hatch=hatch)
            shown = f"{v * 100:.0f}%"
            tw = chart.measure(shown)
            if tw + 8 <= w:  # the percent inside its part, on a white ground over a hatch
                if hatch:
                    chart.rect(x0 + w / 2 - tw / 2 - 2, mid - text_h / 2, tw + 4, text_h, fill="white")
                chart.text(x0 + w / 2, mid, shown, anchor="middle")
            chart.mark("bar", label=g["_label"].iloc[i], part=col.removeprefix("share_"), value=v, start=start)
            start += v
    items = [(tr(name), "box", {"fill": fill, "hatch": hatch}) for _col, fill, hatch, name in _SHARE_PARTS]
    chart.finish(chart.legend(items, under + 6))


# --------------------------------------------------------------------------- competitor
def plot_competitor(bench: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                    competitor_label: str | None = None) -> Chart:
    """Competitor benchmark: our mean rating against the competitor's per attribute, gap and verdict.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    bench : pandas.DataFrame
        From :func:`csm_helpers.analysis.gaps.competitor_benchmark` (one group).
    labels : mapping, optional
        Attribute id -> label (default: the ``label`` column, else the id).
    competitor_label : str, optional
        How the competitor is named in the legend and title (``analysis.competitor_label``);
        default (and the default of the study setting) "main competitor", in the report language.

    Returns
    -------
    Chart
        A dumbbell per attribute, largest lead at the top: our mean (blue circle) and the
        competitor's (white square) joined by a bar, green when we are significantly better,
        vermillion when significantly worse, grey when level; each row is labelled with the gap
        and the verdict ("better", "worse", "level": the significance flag, in words).
        ``chart.marks`` holds a ``"pair"`` entry per attribute, top to bottom (``label``,
        ``own``, ``competitor``, ``gap``, ``flag``) and a ``"legend"`` entry per legend key.

    Examples
    --------
    >>> b = pd.DataFrame({"attribute": ["fees", "staff"], "n": [200, 210], "own": [3.1, 3.9],
    ...                   "competitor": [3.5, 3.7], "gap": [-0.4, 0.2], "flag": ["worse", "better"]})
    >>> chart = plot_competitor(b)
    >>> chart.alt
    'Ahead of the main competitor on 1 and behind on 1 of 2 attributes'
    >>> [(m["label"], m["gap"], m["flag"]) for m in chart.marks if m["kind"] == "pair"]
    [('staff', 0.2, 'better'), ('fees', -0.4, 'worse')]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(bench, ["attribute", "own", "competitor", "gap", "flag"], "competitor benchmark",
                  "competitor_benchmark()")
    _one_row_per_attribute(bench, "competitor benchmark")
    b = bench.assign(_label=_labels(bench, labels))
    suppressed = b["suppressed"].eq(True).to_numpy() if "suppressed" in b.columns else np.zeros(len(b), bool)
    b = b[~suppressed & np.isfinite(b["gap"].to_numpy(float))]
    b = b.sort_values("gap", ascending=False, kind="stable").reset_index(drop=True)
    n = len(b)
    note = [_("{k} attribute(s) suppressed: too few answers", k=int(suppressed.sum()))] if suppressed.any() else []
    # the default name is ours (also the default of analysis.competitor_label): translated; a name set in
    # the study is data and passes through tr() unchanged
    comp = " ".join(str(_("main competitor") if competitor_label is None else tr(competitor_label)).split())
    chart = Chart("competitor")
    if n == 0:
        return _empty(chart, [_("Competitor benchmark: no attribute to show"), *note])
    own = b["own"].to_numpy(float)
    cmp_ = b["competitor"].to_numpy(float)
    gap = b["gap"].to_numpy(float)
    flags = [str(f) for f in b["flag"]]
    better, worse = flags.count("better"), flags.count("worse")
    top = chart.title([_("Ahead of the {competitor} on {better} and behind on {worse} of {n} attributes",
                         competitor=comp, better=better, worse=worse, n=n), *note])
    left, centres, row = chart.category_labels(b["_label"].tolist(), top + 4)
    right = chart.width - PAD - 16
    room = right - left
    verdicts = [f"{_signed(d)} {tr(f)}" for d, f in zip(gap, flags, strict=True)]
    both = np.concatenate([own, cmp_])
    ends = np.fmax(own, cmp_)
    low, high = axis_span([(float(v), 10 / room) for v in both[np.isfinite(both)]],
                      [(float(e), (8 + chart.measure(t)) / room) for e, t in zip(ends, verdicts, strict=True)
                       if np.isfinite(e)], minimum=0.5)
    x = lambda v: left + room * (float(v) - low) / (high - low)  # noqa: E731
    bottom = centres[-1] + row / 2
    n_txt = _n_range(b, "n")
    under = chart.value_axis(left, right, top + 4, bottom, low, high, fmt=tick_format(low, high),
                             label=_("Mean rating from the same respondents, n = {n}", n=n_txt) if n_txt else
                             _("Mean rating from the same respondents"))
    bar = {"better": (GOOD, 3.0), "worse": (BAD, 3.0)}
    for i, mid in enumerate(centres):
        colour, width = bar.get(flags[i], (LIGHT, 2.0))
        if np.isfinite(own[i]) and np.isfinite(cmp_[i]):
            chart.line(x(own[i]), mid, x(cmp_[i]), mid, colour=colour, width=width)
        if np.isfinite(cmp_[i]):
            chart.dot(x(cmp_[i]), mid, shape="square", fill="white")
        if np.isfinite(own[i]):
            chart.dot(x(own[i]), mid, fill=DARK)
        chart.text(x(np.nanmax([own[i], cmp_[i]])) + 8, mid, verdicts[i])
        chart.mark("pair", label=b["_label"].iloc[i], own=float(own[i]), competitor=float(cmp_[i]),
                   gap=float(gap[i]), flag=flags[i])
    chart.finish(chart.legend([(_("us"), "dot", {"fill": DARK}), (comp, "dot", {"fill": "white", "shape": "square"})],
                              under + 6))
    return chart


# --------------------------------------------------------------------------- internals
def _labels(table: pd.DataFrame, labels: Mapping[str, str] | None) -> list[str]:
    ids = table["attribute"].tolist() if "attribute" in table.columns else [str(i) for i in range(len(table))]
    from_col = table["label"].tolist() if "label" in table.columns else [None] * len(table)
    out = []
    for aid, lab in zip(ids, from_col, strict=True):
        if labels is not None and aid in labels:
            out.append(str(labels[aid]))
        elif isinstance(lab, str) and lab:
            out.append(lab)
        else:
            out.append(str(aid))
    return out


def _one_row_per_attribute(table: pd.DataFrame, what: str) -> None:
    if table["attribute"].duplicated().any():
        raise DataError(f"{what}: an attribute appears more than once (a table computed with `by`?) — "
                        "filter it to one group before plotting")


def _n_range(t: pd.DataFrame, col: str) -> str:
    """The range of ``n`` in column ``col`` (``'120'`` or ``'118–120'``), or ``''`` when unknown."""
    if col not in t.columns:
        return ""
    v = pd.to_numeric(t[col], errors="coerce").dropna()
    if v.empty:
        return ""
    lo, hi = int(v.min()), int(v.max())
    return f"{lo:,}" if lo == hi else f"{lo:,}\u2013{hi:,}"


def _empty(chart: Chart, lines: list[str]) -> Chart:
    """:meth:`Chart.empty` with a title of several lines (the title and a suppression note)."""
    top = chart.title(lines)
    chart.text(chart.width / 2, top + 30, _("nothing to show"), anchor="middle")
    chart.finish(top + 44)
    return chart


def _signed(v: float) -> str:
    return f"{v:+.2f}".replace("-", _MINUS)
