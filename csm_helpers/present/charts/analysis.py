"""Charts of the analysis report (stage 04): IPA, key drivers, expectation gaps, competitor benchmark.

Same look and manners as :mod:`csm_helpers.present.charts.style`: every function draws on ``ax`` (a new figure
when None), returns the Axes and passes ``**kwargs`` to the main matplotlib call; grey shades,
hatching, marker shapes and value labels carry the meaning, never colour alone; titles say what
the reader should see and the axis labels give n. Labels are customer-facing text and are
escaped (``$``) so matplotlib never reads them as mathtext. Suppressed rows (SPEC §4) are left
out of every chart and the chart says how many.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import Bbox

from csm_helpers.analysis.drivers import CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL, QUADRANT_SURE
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.charts.canvas import PAD, Chart, nice_ticks
from csm_helpers.present.charts.style import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    LIGHT,
    MID,
    MIN_FONT_PT,
    PURPLE,
    drawing,
    dumbbell,
    empty_chart,
    fitted_bbox,
    interval_errors,
    legend_below,
    mathtext_escape,
    new_axes,
    require_table,
    short_label,
    text_overlaps,
    tint,
)

__all__ = ["plot_ipa", "plot_drivers", "plot_gaps", "plot_competitor", "plot_kano"]

_MINUS = "\u2212"
# Dimension -> (marker, face colour) for the IPA chart; unknown dimensions get a diamond.
_DIM_STYLE = {"product": ("o", DARK), "process": ("s", MID), "people": ("^", PURPLE)}
# Derived importance measure -> how the axis names it.
_IMPORTANCE_NAMES = {"relative_weight": N_("relative weight (share of variance)"),
                     "rw_pct": N_("relative weight (% of R²)"),
                     "r": N_("correlation with overall satisfaction"), "beta": N_("standardised beta")}


# --------------------------------------------------------------------------- IPA
def plot_ipa(ipa_table: pd.DataFrame, *, ax: Axes | None = None, label_width: int = 28, **kwargs: Any) -> Axes:
    """Importance–performance grid: attributes as points, cross-hairs and the four quadrant names.

    Parameters
    ----------
    ipa_table : pandas.DataFrame
        From :func:`csm_helpers.analysis.drivers.ipa`.
    ax : matplotlib Axes, optional
        Where to draw; a new square-ish figure when None.
    label_width : int
        Point labels longer than this are cut with an ellipsis.
    **kwargs
        Passed to every ``Axes.scatter`` call (e.g. ``s=50``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections`` hold the points, one collection per dimension (marker shapes:
        product circles, process squares, people triangles); ``ax.lines[0]`` and
        ``ax.lines[1]`` are the vertical and horizontal cross-hairs; the quadrant names are
        printed in the four corners; each point is labelled with its attribute label, pushed
        apart vertically where labels would overlap. With a ``p_quadrant`` column (the bootstrap
        probability of the quadrant, :func:`csm_helpers.analysis.drivers.ipa_quadrant_probability`),
        an attribute below :data:`~csm_helpers.analysis.drivers.QUADRANT_SURE` is greyed out
        (grey point, grey label) and the legend says why.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"attribute": ["a", "b", "c", "d"], "label": ["Fees", "Speed", "App", "Staff"],
    ...                   "dimension": ["product", "process", "product", "people"],
    ...                   "n_performance": [50, 52, 49, 51], "performance": [3.0, 4.2, 3.1, 4.0],
    ...                   "importance": [4.5, 4.4, 3.2, 3.3], "importance_type": "stated",
    ...                   "x_cross": 3.575, "y_cross": 3.85,
    ...                   "quadrant": ["Concentrate here", "Keep up the good work", "Low priority",
    ...                                "Possible overkill"]})
    >>> ax = plot_ipa(t)
    >>> ax.get_title()
    'Concentrate here: 1 of 4 attributes\\nFees'
    >>> plt.close(ax.figure)
    """
    require_table(ipa_table, ["performance", "importance", "x_cross", "y_cross", "quadrant"], "IPA table", "ipa()")
    t = ipa_table.reset_index(drop=True)
    labels = _labels(t, None)
    perf = t["performance"].to_numpy(float)
    imp = t["importance"].to_numpy(float)
    placed = np.isfinite(perf) & np.isfinite(imp)
    own = ax is None
    with drawing():
        ax = new_axes(ax, height=5.2)
        if not placed.any():
            return empty_chart(ax, _("Importance-performance: no attribute to place"))
        xc = float(t["x_cross"].iloc[0])
        yc = float(t["y_cross"].iloc[0])
        dims = t["dimension"].tolist() if "dimension" in t.columns else [None] * len(t)
        present = dict.fromkeys(d for d, ok in zip(dims, placed, strict=True) if ok)
        sure = (t["p_quadrant"].to_numpy(float) if "p_quadrant" in t.columns else np.full(len(t), np.nan))
        unsure = np.nan_to_num(sure, nan=1.0) < QUADRANT_SURE  # a coin toss: greyed out
        for dim in sorted(present, key=lambda d: list(_DIM_STYLE).index(d) if d in _DIM_STYLE else len(_DIM_STYLE)):
            sel = placed & np.array([d == dim for d in dims])
            marker, face = _DIM_STYLE.get(str(dim), ("D", LIGHT))
            name = tr(str(dim).capitalize()) if isinstance(dim, str) and dim else _("Attribute")
            ax.scatter(perf[sel & ~unsure], imp[sel & ~unsure],
                       **{"s": 42, "marker": marker, "color": face, "edgecolor": EDGE, "linewidth": 0.9, "zorder": 4,
                          "label": mathtext_escape(name), **kwargs})
            if (sel & unsure).any():
                ax.scatter(perf[sel & unsure], imp[sel & unsure],
                           **{"s": 42, "marker": marker, "color": LIGHT, "edgecolor": _UNSURE_TEXT, "linewidth": 0.9,
                              "zorder": 4, **kwargs})
        ax.axvline(xc, color=DARK, linestyle="--", linewidth=1.0, zorder=2)
        ax.axhline(yc, color=DARK, linestyle="--", linewidth=1.0, zorder=2)
        _ipa_limits(ax, perf[placed], imp[placed], xc, yc)
        corners = [
            (0.01, 0.99, "left", "top", CONCENTRATE),
            (0.99, 0.99, "right", "top", KEEP_UP),
            (0.01, 0.01, "left", "bottom", LOW_PRIORITY),
            (0.99, 0.01, "right", "bottom", OVERKILL),
        ]
        fixed = []
        for x, y, ha, va, name in corners:
            fixed.append(ax.text(x, y, tr(name), transform=ax.transAxes, ha=ha, va=va, fontsize=MIN_FONT_PT,
                                 fontweight="bold", color=DARK, zorder=5,
                                 bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": MID, "lw": 0.6}))
        itype = str(t["importance_type"].iloc[0]) if "importance_type" in t.columns else "stated"
        n_perf = _n_range(t, "n_performance")
        ax.set_xlabel(_("Mean performance, n = {n} per attribute", n=n_perf) if n_perf else _("Mean performance"))
        ax.set_ylabel(_importance_label(itype))
        ax.grid(True, alpha=0.4)
        handles = ax.get_legend_handles_labels()[0]
        cross = _("cross-hairs: scale midpoints (on a line counts as high)" if _is_midpoint(ipa_table) else
                  "cross-hairs: grand means (on a line counts as high)")
        handles.append(Line2D([], [], color=DARK, linestyle="--", linewidth=1.0, label=cross))
        if (unsure & placed).any():
            handles.append(Line2D([], [], marker="o", linestyle="none", markersize=7, markerfacecolor=LIGHT,
                                  markeredgecolor=_UNSURE_TEXT,
                                  label=_("grey: quadrant uncertain (bootstrap probability below {p})",
                                          p=f"{QUADRANT_SURE:.1f}")))
        legend_below(ax, handles, ncol=min(len(handles), 4))
        conc_rows = sorted((i for i, q in enumerate(t["quadrant"]) if q == CONCENTRATE), key=lambda i: -imp[i])
        conc = [labels[i] for i in conc_rows]  # most important first
        n_placed = int(placed.sum())
        if conc:
            names = ", ".join(short_label(v, 30) for v in conc[:3])
            if len(conc) > 3:
                names += " " + _("(+{k} more)", k=len(conc) - 3)
            title = _("{quadrant}: {n} of {total} attributes", quadrant=tr(CONCENTRATE), n=len(conc),
                      total=n_placed) + f"\n{names}"
        else:
            title = _('No attribute in the "{quadrant}" quadrant ({total} attributes placed)',
                      quadrant=tr(CONCENTRATE), total=n_placed)
        if n_placed < len(t):
            title += "\n" + _("{k} attribute(s) not placed: no performance or importance value", k=len(t) - n_placed)
        ax.set_title(title)
        # Last: the labels need the final layout (the report's width and wrapped title first,
        # on a figure of our own). Where names cannot all be placed without overlapping, the
        # points carry numbers and a key under the chart gives the names.
        if own:
            fitted_bbox(ax.figure)
        names = [short_label(v, label_width) for v, ok in zip(labels, placed, strict=True) if ok]
        _label_or_number(ax, perf[placed], imp[placed], names, fixed)
        greyed = {(float(a), float(b)) for a, b in zip(perf[placed & unsure], imp[placed & unsure], strict=True)}
        for label in ax.texts:
            if label not in fixed and tuple(map(float, getattr(label, "xy", (np.nan, np.nan)))) in greyed:
                label.set_color(_UNSURE_TEXT)  # (colour only: a wider italic could touch a placed neighbour)
    return ax


_UNSURE_TEXT = "#666666"  # grey with a 5.7:1 contrast on white: greyed out, still readable


def _importance_label(itype: str) -> str:
    if itype == "stated":
        return _("Mean stated importance")
    measure = itype.removeprefix("derived").strip(" ()")
    name = tr(_IMPORTANCE_NAMES[measure]) if measure in _IMPORTANCE_NAMES else measure
    return mathtext_escape(_("Derived importance: {measure}", measure=name))


def _is_midpoint(t: pd.DataFrame) -> bool:
    return t.attrs.get("crosshair") == "midpoint"


def _ipa_limits(ax: Axes, x: np.ndarray, y: np.ndarray, xc: float, yc: float) -> None:
    for setter, vals, c in ((ax.set_xlim, x, xc), (ax.set_ylim, y, yc)):
        lo = float(min(np.min(vals), c))
        hi = float(max(np.max(vals), c))
        span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
        setter(lo - 0.18 * span, hi + 0.18 * span)


#: Candidate label offsets (points) and alignments around a point, tried in order.
_CANDIDATES = [(6, 0, "left", "center"), (-6, 0, "right", "center"), (0, 6, "center", "bottom"),
               (0, -6, "center", "top"), (5, 5, "left", "bottom"), (5, -5, "left", "top"),
               (-5, 5, "right", "bottom"), (-5, -5, "right", "top")]
_FAR = [(dx, dy, ha, "center") for dy in (12, -12, 20, -20, 30, -30) for dx, ha in ((8, "left"), (-8, "right"))]


def _label_points(ax: Axes, x: np.ndarray, y: np.ndarray, texts: list[str], fixed: list[Any]) -> bool:
    """Label each point where its label overlaps nothing: greedy choice among candidate positions;
    False when some label could only be placed overlapping another, a point or a quadrant name.

    The layout is run first so that pixel positions are final; labels are then kept out of the
    layout (they stay inside the axes). Each label takes the first candidate position (right,
    left, above, below, diagonals, then further out with a leader line) that overlaps no other
    label, point or quadrant name and stays inside the axes; if none does, the least-overlapping.
    """
    fig = ax.figure
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None:  # pragma: no cover - non-Agg canvas: plain labels to the right
        for xi, yi, s in zip(x, y, texts, strict=True):
            ax.annotate(s, (xi, yi), xytext=(6, 0), textcoords="offset points", va="center", fontsize=MIN_FONT_PT)
        return True
    fig.draw_without_rendering()  # the final layout; the pixels are drawn once, when the chart is saved
    renderer = get_renderer()
    axbox = ax.get_window_extent(renderer)
    pts = ax.transData.transform(np.column_stack([x, y]))
    r = 4.0 * fig.dpi / 72
    boxes = [f.get_window_extent(renderer) for f in fixed]
    boxes += [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in pts]
    order = np.lexsort((x, -y))  # top to bottom, then left to right: stable and predictable
    clean = True
    for i in order:
        ann = ax.annotate(texts[i], (x[i], y[i]), xytext=(6, 0), textcoords="offset points", fontsize=MIN_FONT_PT,
                          zorder=6, annotation_clip=False)
        ann.set_in_layout(False)
        best, best_cost = None, np.inf
        for cand in _CANDIDATES + _FAR:
            dx, dy, ha, va = cand
            ann.set_position((dx, dy))
            ann.set_ha(ha)
            ann.set_va(va)
            bb = ann.get_window_extent(renderer)
            cost = sum(_overlap(bb, o) for o in boxes)
            inside = _overlap(bb, axbox)
            cost += 10 * (bb.width * bb.height - inside)
            if cost < best_cost - 1e-9:
                best, best_cost = (cand, bb), cost
            if cost <= 0:
                break
        (dx, dy, ha, va), bb = best
        clean &= best_cost <= 0
        ann.remove()
        far = (dx, dy, ha, va) in _FAR
        ann = ax.annotate(texts[i], (x[i], y[i]), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                          fontsize=MIN_FONT_PT, zorder=6, annotation_clip=False,
                          arrowprops={"arrowstyle": "-", "color": MID, "lw": 0.6, "shrinkA": 1, "shrinkB": 4}
                          if far else None)
        ann.set_in_layout(False)
        boxes.append(bb)
    return clean


def _label_or_number(ax: Axes, x: np.ndarray, y: np.ndarray, names: list[str], fixed: list[Any]) -> None:
    """Label each point with its name (:func:`_label_points`); where the names cannot all be
    placed without overlapping, number the points top to bottom and give the names in a key
    under the chart."""
    clean = _label_points(ax, x, y, names, fixed)
    if clean:  # the placement's own check, confirmed on the drawn figure
        named = set(names) | {t.get_text() for t in fixed}
        # (the labels are out of the layout: the layout _label_points measured on still holds)
        clean = not [pair for pair in text_overlaps(ax.figure, draw=False) if set(pair) <= named]
    if clean:
        return
    for ann in [c for c in ax.texts if c not in fixed]:
        ann.remove()
    order = np.lexsort((x, -y))  # numbered top to bottom
    numbers = [""] * len(names)
    for k, i in enumerate(order, start=1):
        numbers[i] = str(k)
    _label_points(ax, x, y, numbers, fixed)
    key = "   ".join(f"{numbers[i]} {names[i]}" for i in order)
    ax.figure.supxlabel(key, x=0.01, ha="left", fontsize=MIN_FONT_PT, wrap=False)


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return float(w * h) if w > 0 and h > 0 else 0.0


# --------------------------------------------------------------------------- Kano
#: The quadrants of the Better–Worse chart (x = |Worse|, y = Better, split at 0.5): corner, category.
_KANO_CORNERS = ((0.01, 0.99, "left", "top", "A"), (0.99, 0.99, "right", "top", "O"),
                 (0.99, 0.01, "right", "bottom", "M"), (0.01, 0.01, "left", "bottom", "I"))


def plot_kano(kano: pd.DataFrame, *, ax: Axes | None = None, label_width: int = 28) -> Axes:
    """The Better–Worse chart of a Kano study (Berger et al. 1993): each feature placed by how much
    its absence dissatisfies (x = |Worse|) and how much its presence satisfies (y = Better).

    Parameters
    ----------
    kano : pandas.DataFrame
        From :func:`csm_helpers.analysis.kano.kano_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    label_width : int
        Point labels longer than this are cut with an ellipsis.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` holds the features whose category is one of the four quadrants' (A,
        O, M, I) and clear by Fong's test; features whose category is not clear are grey, those
        whose category is Reverse or Questionable (the quadrants do not apply) are crosses. Thin
        whiskers are the intervals of Better and Worse; dashed lines split the chart at 0.5 into
        Attractive (top left), One-dimensional (top right), Must-be (bottom right) and
        Indifferent (bottom left). Suppressed features are not placed.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"label": ["App", "Chat", "Calls"], "category": ["M", "A", "R"], "clear": [True, True, True],
    ...                   "better": [0.3, 0.7, 0.2], "better_ci_low": [0.25, 0.65, 0.15],
    ...                   "better_ci_high": [0.35, 0.75, 0.25], "worse": [-0.8, -0.2, -0.1],
    ...                   "worse_ci_low": [-0.85, -0.25, -0.15], "worse_ci_high": [-0.75, -0.15, -0.05],
    ...                   "suppressed": [False, False, False]})
    >>> ax = plot_kano(t)
    >>> tuple(map(float, ax.get_xlim())), len(ax.collections[0].get_offsets())
    ((0.0, 1.0), 2)
    >>> plt.close(ax.figure)
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
    own = ax is None
    with drawing():
        ax = new_axes(ax, height=5.2)
        if not placed.any():
            return empty_chart(ax, _("Kano: no feature to place"))
        main = placed & ~other & ~unclear
        ax.scatter(worse[main], better[main], s=42, color=DARK, edgecolor=EDGE, linewidth=0.9, zorder=4)
        if (placed & unclear & ~other).any():
            sel = placed & unclear & ~other
            ax.scatter(worse[sel], better[sel], s=42, color=LIGHT, edgecolor=_UNSURE_TEXT, linewidth=0.9, zorder=4)
        if (placed & other).any():
            ax.scatter(worse[placed & other], better[placed & other], s=46, marker="X", color=BAD, zorder=4)
        if {"better_ci_low", "better_ci_high", "worse_ci_low", "worse_ci_high"} <= set(t.columns):
            for i in np.flatnonzero(placed):
                ax.plot([-t["worse_ci_high"].iloc[i], -t["worse_ci_low"].iloc[i]], [better[i], better[i]],
                        color=MID, linewidth=0.8, zorder=3)
                ax.plot([worse[i], worse[i]], [t["better_ci_low"].iloc[i], t["better_ci_high"].iloc[i]],
                        color=MID, linewidth=0.8, zorder=3)
        ax.axvline(0.5, color=DARK, linestyle="--", linewidth=1.0, zorder=2)
        ax.axhline(0.5, color=DARK, linestyle="--", linewidth=1.0, zorder=2)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        fixed = [ax.text(x, y, tr(CATEGORY_NAMES[c]), transform=ax.transAxes, ha=ha, va=va, fontsize=MIN_FONT_PT,
                         fontweight="bold", color=DARK, zorder=5,
                         bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": MID, "lw": 0.6})
                 for x, y, ha, va, c in _KANO_CORNERS]
        ax.set_xlabel(_("Dissatisfaction when missing (|Worse|)"))
        ax.set_ylabel(_("Satisfaction when present (Better)"))
        ax.grid(True, alpha=0.4)
        handles = [Line2D([], [], color=MID, linewidth=0.8, label=_("whiskers: confidence intervals"))]
        if (placed & unclear & ~other).any():
            handles.append(Line2D([], [], marker="o", linestyle="none", markersize=7, markerfacecolor=LIGHT,
                                  markeredgecolor=_UNSURE_TEXT, label=_("grey: category not clear (Fong's test)")))
        if (placed & other).any():
            handles.append(Line2D([], [], marker="X", linestyle="none", markersize=7, color=BAD,
                                  label=_("cross: Reverse or Questionable, the quadrants do not apply")))
        legend_below(ax, handles, ncol=1)
        counts = {c: sum(1 for k, ok in zip(cats, placed, strict=True) if ok and k == c) for c in "MOAIRQ"}
        parts = [f"{counts[c]} {tr(CATEGORY_NAMES[c]).lower()}" for c in "MOAIRQ" if counts[c]]
        ax.set_title(_("Kano categories of {n} features", n=int(placed.sum())) + "\n" + ", ".join(parts))
        if own:
            fitted_bbox(ax.figure)
        names = [short_label(str(v), label_width) for v, ok in zip(t["label"], placed, strict=True) if ok]
        _label_or_number(ax, worse[placed], better[placed], names, fixed)
    return ax


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
    need = max(float(e) * room / max(room - 4 - chart.measure(v), 1.0) for e, v in zip(ends, values, strict=True))
    high = nice_ticks(0, max(10.0, need))[-1]
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
def plot_gaps(gaps: pd.DataFrame, *, kind: Literal["mean", "shares"] = "mean", ax: Axes | None = None,
              labels: Mapping[str, str] | None = None, **kwargs: Any) -> Axes:
    """Expectation gaps: mean gap P − E with its interval, or the shares dissatisfied / satisfied / delighted.

    Parameters
    ----------
    gaps : pandas.DataFrame
        From :func:`csm_helpers.analysis.gaps.expectation_gaps` (one group: filter a ``by`` table first).
    kind : {"mean", "shares"}
        ``"mean"``: one point per attribute at its mean gap with interval whiskers, most negative
        at the top; filled points are significant: the adjusted p of the family (``p_adj``, see
        :func:`csm_helpers.analysis.gaps.expectation_gaps`) is below ``1 - level`` (the table's
        ``attrs["level"]``, else 0.95) — the whiskers are each attribute's own interval, so a
        whisker clear of 0 can still be hollow; a table without ``p_adj`` marks the intervals
        that exclude 0. ``"shares"``: stacked
        bars of the three states, most dissatisfied at the top.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    labels : mapping, optional
        Attribute id -> label (default: the ``label`` column, else the id).
    **kwargs
        Passed to ``Axes.scatter`` (``"mean"``) or to the first ``Axes.barh`` (``"shares"``).

    Returns
    -------
    matplotlib.axes.Axes
        ``"mean"``: ``ax.collections`` hold the points (significant, then not significant);
        ``"shares"``: ``ax.containers[0..2]`` the dissatisfied (dark), satisfied (white, dotted)
        and delighted (light green, hatched) bars, labelled with their percent when wide enough.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> g = pd.DataFrame({"attribute": ["fees", "staff"], "n": [200, 210], "mean_gap": [-0.7, 0.1],
    ...                   "ci_low": [-0.8, -0.05], "ci_high": [-0.6, 0.25], "share_dissatisfied": [0.56, 0.3],
    ...                   "share_satisfied": [0.26, 0.35], "share_delighted": [0.18, 0.35]})
    >>> ax = plot_gaps(g, labels={"fees": "Fees", "staff": "Staff"})
    >>> ax.get_title()
    'Perception falls short of expectation on 1 of 2 attributes\\nLargest shortfall: Fees (−0.70 points)'
    >>> plt.close(ax.figure)
    """
    if kind not in ("mean", "shares"):
        raise CsmError(f"The value for `kind` must be one of ['mean', 'shares'], but {kind!r} was passed.")
    need = ["attribute", "mean_gap", "ci_low", "ci_high"] if kind == "mean" else [
        "attribute", "share_dissatisfied", "share_satisfied", "share_delighted"]
    require_table(gaps, need, "expectation-gap table", "expectation_gaps()")
    _one_row_per_attribute(gaps, "expectation-gap table")
    g = gaps.assign(_label=_labels(gaps, labels))
    n_suppressed = int(g["suppressed"].sum()) if "suppressed" in g.columns else 0
    key = "mean_gap" if kind == "mean" else "share_dissatisfied"
    g = g[np.isfinite(g[key].to_numpy(float))]
    g = g.sort_values(key, ascending=kind == "mean", kind="stable").reset_index(drop=True)
    n = len(g)
    note = "\n" + _("{k} attribute(s) suppressed: too few answers", k=n_suppressed) if n_suppressed else ""
    with drawing():
        ax = new_axes(ax, height=max(2.4, 0.3 * n + 1.5))
        if n == 0:
            return empty_chart(ax, _("Expectation gaps: no attribute to show") + note)
        y = np.arange(n)
        if kind == "mean":
            m = g["mean_gap"].to_numpy(float)
            lo = g["ci_low"].to_numpy(float)
            hi = g["ci_high"].to_numpy(float)
            if "p_adj" in g.columns:  # the corrected family decides (issue 10 item 5), as in the table
                alpha = 1 - float(gaps.attrs.get("level", 0.95))
                sig = np.nan_to_num(g["p_adj"].to_numpy(float), nan=1.0) < alpha
                sig_label = _("significant (BH-adjusted p)") if gaps.attrs.get("p_adjust", "fdr_bh") == "fdr_bh" \
                    else _("significant (adjusted p)")
            else:
                sig = (hi < 0) | (lo > 0)
                sig_label = _("interval excludes 0")
            ax.axvline(0, color=DARK, linewidth=1.0, zorder=1)
            okc = np.isfinite(lo) & np.isfinite(hi)
            eb = ax.errorbar(m[okc], y[okc], xerr=interval_errors(m[okc], lo[okc], hi[okc]), fmt="none", ecolor=DARK,
                             elinewidth=1.0, capsize=2.5, zorder=2)
            _grey_caps(eb, DARK)
            for mask, face, lab in ((sig, DARK, sig_label), (~sig, "white", _("not significant"))):
                if mask.any():
                    ax.scatter(m[mask], y[mask], **{"s": 36, "marker": "o", "color": face, "edgecolor": EDGE,
                                                    "linewidth": 1.0, "zorder": 3, "label": lab, **kwargs})
            right = np.where(np.isfinite(hi), np.fmax(hi, m), m)
            for yi, r, v in zip(y, right, m, strict=True):
                ax.text(r, yi, "  " + _signed(v), va="center", ha="left", fontsize="small")
            span = max(float(np.nanmax(np.abs(np.concatenate([lo[okc], hi[okc], m])))), 0.1)
            ax.set_xlim(min(-0.15 * span, float(np.nanmin(np.concatenate([lo[okc], m]))) - 0.1 * span),
                        max(0.15 * span, float(np.nanmax(right))) + 0.35 * span)
            n_txt = _n_range(g, "n")
            ax.set_xlabel(_("Mean gap: perception \u2212 expectation (scale points; below 0: short of expectation), "
                            "n = {n}", n=n_txt) if n_txt else
                          _("Mean gap: perception \u2212 expectation (scale points; below 0: short of expectation)"))
            short = int(np.sum(m < 0))
            worst = int(np.argmin(m))
            title = _("Perception falls short of expectation on {k} of {n} attributes", k=short, n=n)
            if m[worst] < 0:
                title += "\n" + _("Largest shortfall: {label} ({gap} points)", label=short_label(g["_label"].iloc[worst], 40),
                                  gap=_signed(m[worst]))
            handles = ax.get_legend_handles_labels()[0]
            handles.append(Line2D([], [], color=DARK, marker="|", markersize=7, linewidth=1.0,
                                  label=_("confidence interval")))
            legend_below(ax, handles)
        else:
            parts = [("share_dissatisfied", BAD, "", _("dissatisfied (P < E)")),
                     ("share_satisfied", "white", "...", _("satisfied (P = E)")),
                     ("share_delighted", tint(GOOD, 0.4), "////", _("delighted (P > E)"))]
            left = np.zeros(n)
            for i, (col, face, hatch, lab) in enumerate(parts):
                v = np.nan_to_num(g[col].to_numpy(float))
                extra = kwargs if i == 0 else {}
                ax.barh(y, v, left=left, height=0.65, **{"color": face, "edgecolor": EDGE, "hatch": hatch,
                                                         "linewidth": 0.6, "label": lab, **extra})
                for yi, l0, vi in zip(y, left, v, strict=True):
                    if vi >= 0.22:  # room for "100%" at the chart's text size beside long labels
                        ax.text(l0 + vi / 2, yi, f"{vi * 100:.0f}%", ha="center", va="center", fontsize="small",
                                color="white" if face == DARK else "black",
                                bbox=None if face == DARK else {"boxstyle": "round,pad=0.1", "fc": "white",
                                                                  "ec": "none"})
                left = left + v
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            n_txt = _n_range(g, "n")
            ax.set_xlabel(_("Share of respondents, n = {n}", n=n_txt) if n_txt else _("Share of respondents"))
            top = g["share_dissatisfied"].to_numpy(float)
            title = (_("Most dissatisfied: {label}", label=short_label(g["_label"].iloc[0], 40)) + "\n"
                     + _("{pct}% rate it below their expectation", pct=f"{top[0] * 100:.0f}"))
            legend_below(ax)
        ax.set_yticks(y, [short_label(v, 36) for v in g["_label"]])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_title(title + note)
    return ax


# --------------------------------------------------------------------------- competitor
def plot_competitor(bench: pd.DataFrame, *, ax: Axes | None = None, labels: Mapping[str, str] | None = None,
                    competitor_label: str | None = None, **kwargs: Any) -> Axes:
    """Competitor benchmark: our mean rating against the competitor's per attribute, gap and verdict.

    Parameters
    ----------
    bench : pandas.DataFrame
        From :func:`csm_helpers.analysis.gaps.competitor_benchmark` (one group).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    labels : mapping, optional
        Attribute id -> label (default: the ``label`` column, else the id).
    competitor_label : str, optional
        How the competitor is named in the legend and title (``analysis.competitor_label``);
        default (and the default of the study setting) "main competitor", in the report language.
    **kwargs
        Passed to both ``Axes.scatter`` calls.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[1]`` holds our points (filled circles), ``ax.collections[2]`` the
        competitor's (open squares), largest lead at the top; each row is labelled with the gap
        and the verdict ("better", "worse", "level").

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> b = pd.DataFrame({"attribute": ["fees", "staff"], "n": [200, 210], "own": [3.1, 3.9],
    ...                   "competitor": [3.5, 3.7], "gap": [-0.4, 0.2], "flag": ["worse", "better"]})
    >>> ax = plot_competitor(b)
    >>> ax.get_title()
    'Ahead of the main competitor on 1 and behind on 1 of 2 attributes\\n(bold: significant difference)'
    >>> plt.close(ax.figure)
    """
    require_table(bench, ["attribute", "own", "competitor", "gap", "flag"], "competitor benchmark",
             "competitor_benchmark()")
    _one_row_per_attribute(bench, "competitor benchmark")
    b = bench.assign(_label=_labels(bench, labels))
    n_suppressed = int(b["suppressed"].sum()) if "suppressed" in b.columns else 0
    b = b[np.isfinite(b["gap"].to_numpy(float))]
    b = b.sort_values("gap", ascending=False, kind="stable").reset_index(drop=True)
    n = len(b)
    # the default name is ours (also the default of analysis.competitor_label): translated; a name set in
    # the study is data and passes through tr() unchanged
    comp = mathtext_escape(" ".join(str(_("main competitor") if competitor_label is None else tr(competitor_label)).split()))
    with drawing():
        ax = new_axes(ax, height=max(2.4, 0.3 * n + 1.5))
        if n == 0:
            return empty_chart(ax, _("Competitor benchmark: no attribute to show"))
        y = np.arange(n)
        own = b["own"].to_numpy(float)
        cmp_ = b["competitor"].to_numpy(float)
        dumbbell(ax, y, own, cmp_, labels=(_("us"), comp), size=40, **kwargs)
        flags = b["flag"].tolist()
        for yi, a, c, gap, f in zip(y, own, cmp_, b["gap"].to_numpy(float), flags, strict=True):
            ax.annotate(f"{_signed(gap)} {tr(f)}", (max(a, c), yi), xytext=(7, 0), textcoords="offset points",
                        va="center", ha="left", fontsize="small",
                        fontweight="bold" if f in ("better", "worse") else "normal")
        lo = float(np.nanmin(np.concatenate([own, cmp_])))
        hi = float(np.nanmax(np.concatenate([own, cmp_])))
        span = max(hi - lo, 0.5)
        ax.set_xlim(lo - 0.1 * span, hi + 0.45 * span)
        ax.set_yticks(y, [short_label(v, 36) for v in b["_label"]])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        n_txt = _n_range(b, "n")
        ax.set_xlabel(_("Mean rating from the same respondents, n = {n}", n=n_txt) if n_txt else
                      _("Mean rating from the same respondents"))
        legend_below(ax)
        better, worse = flags.count("better"), flags.count("worse")
        note = "\n" + _("{k} attribute(s) suppressed: too few answers", k=n_suppressed) if n_suppressed else ""
        ax.set_title(_("Ahead of the {competitor} on {better} and behind on {worse} of {n} attributes",
                       competitor=comp, better=better, worse=worse, n=n)
                     + "\n" + _("(bold: significant difference)") + note)
    return ax


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


def _grey_caps(container: Any, color: str) -> None:
    """Error-bar caps are markers coloured by the colour cycle unless told otherwise."""
    for cap in container.lines[1]:
        cap.set_color(color)


def _signed(v: float) -> str:
    return f"{v:+.2f}".replace("-", _MINUS)

