"""Charts of the measurement report (stage 03, SPEC §1.3).

Same manners and look as :mod:`csm_helpers.present.charts.style`: each function draws on ``ax`` (a new
figure when None), returns the Axes and passes ``**kwargs`` to the main matplotlib call;
the status colours (charts.style) with hatching and value labels carry the meaning, never colour alone; the
title says what the reader should see; customer wording is escaped (``$``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (the examples close figures with plt)
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from csm_helpers.analysis.measurement import weight_summary
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import _
from csm_helpers.present.charts.style import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    LIGHT,
    MIN_FONT_PT,
    WARN,
    WIDTH,
    drawing,
    empty_chart,
    legend_below,
    mathtext_escape,
    new_axes,
    require_table,
    short_label,
    tint,
)

__all__ = ["plot_likert", "plot_weights", "plot_sampling"]

# Hatches of the points below the midpoint, nearest the midpoint first (denser = further).
_NEG_HATCH = ("..", "//", "xx", "xxx", "xxxx", "xxxxx")


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
                styles[p] = {"color": tint(BAD, 0.15 + 0.6 * p / 6), "hatch": _NEG_HATCH[min((6 - p) // 2, 3)],
                             "text": "black"}
            elif p <= 8:
                styles[p] = {"color": tint(WARN, 0.45 - 0.35 * (p - 7)), "hatch": "", "text": "black"}
            else:
                styles[p] = {"color": tint(GOOD, 0.35 - 0.35 * (p - 9)), "hatch": "",
                             "text": "white" if p == 10 else "black"}
        return styles
    half = k // 2
    styles = {}
    for i, p in enumerate(pts):
        if k % 2 == 1 and i == half:
            styles[p] = {"color": LIGHT, "hatch": "", "text": "black"}
        elif i < half:  # below the midpoint; distance 1 = next to the centre
            d = half - i
            amount = 0.75 - 0.6 * (d - 1) / max(half - 1, 1)
            styles[p] = {"color": tint(BAD, amount), "hatch": _NEG_HATCH[min(d - 1, len(_NEG_HATCH) - 1)],
                         "text": "black"}
        else:
            d = i - (k - half) + 1
            amount = 0.65 - 0.65 * (d - 1) / max(half - 1, 1)
            styles[p] = {"color": tint(GOOD, amount), "hatch": "", "text": "white" if amount < 0.3 else "black"}
    return styles


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def plot_likert(dist: pd.DataFrame, *, ax: Axes | None = None, point_labels: Mapping[Any, str] | None = None,
                **kwargs: Any) -> Axes:
    """Diverging stacked bar chart of Likert items, centred on the scale midpoint (SPEC §1.3).

    One horizontal bar per item, sorted by the share in the top two points (highest at the
    top). Answers below the midpoint extend to the left of the centre line, answers above it
    to the right; on an odd scale the middle point straddles the centre, half on each side.
    Segments of 6% or more are labelled with their share; each item's label shows its n and
    the bar end its top-2 share.

    Parameters
    ----------
    dist : pandas.DataFrame
        From :func:`csm_helpers.analysis.measurement.likert_distribution` (columns ``item, label,
        point, n, share``; ``n_item`` when present).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None (taller with many items).
    point_labels : dict, optional
        ``{point: text}`` for the legend (e.g. ``{1: "Very dissatisfied"}``); default the
        point numbers, the ends marked "(lowest)" / "(highest)".
    **kwargs
        Passed to every ``Axes.barh`` call (e.g. ``height=0.6``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers`` holds one bar container per scale point (lowest first), each with
        one bar per item.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from csm_helpers.analysis.measurement import likert_distribution
    >>> df = pd.DataFrame({"a": [1, 2, 4, 5, 5], "b": [3, 3, 4, 4, 2]})
    >>> ax = plot_likert(likert_distribution(df, items=["a", "b"], scale=(1, 5)))
    >>> ax.get_title()
    'Top-2 box: highest a (60%), lowest b (40%)'
    >>> len(ax.containers), len(ax.containers[0])
    (5, 2)
    >>> plt.close(ax.figure)
    """
    require_table(dist, ["item", "label", "point", "n", "share"], "Likert distribution", "likert_distribution()")
    items = list(dict.fromkeys(dist["item"]))
    with drawing():
        ax = new_axes(ax, height=max(2.4, 0.5 * len(items) + 1.6))  # two-line item labels
        if not items:
            return empty_chart(ax, _("Answer distributions: no item to show"))
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
        y = np.arange(n_items)
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
        styles = _likert_styles(points)
        if point_labels is None:
            point_labels = {}
        for i, p in enumerate(points):
            st = styles[p]
            text = point_labels.get(p, point_labels.get(str(p)))
            if text is None:
                text = (_("{point} (lowest)", point=p) if i == 0 else _("{point} (highest)", point=p) if i == k - 1
                        else f"{p}")
            ax.barh(y, shares[:, i], left=lefts[:, i], **{
                "height": 0.7, "color": st["color"], "hatch": st["hatch"], "edgecolor": EDGE,
                "linewidth": 0.5, "label": short_label(text, 28), "zorder": 2, **kwargs})
        right = lefts[:, -1] + shares[:, -1]
        left = lefts[:, 0]
        lim = max(0.5, float(np.nanmax(np.abs(np.r_[left, right])))) * 1.18
        # a share is written in its segment only where "100%" at the chart's text size fits
        # (the plot area is about half of the chart's width)
        fits = 0.4 / (0.5 * WIDTH) * (2.12 * lim)
        for i, p in enumerate(points):
            st = styles[p]
            for yi, s, lft in zip(y, shares[:, i], lefts[:, i], strict=True):
                if s >= fits:
                    box = {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85} \
                        if st["hatch"] else None
                    ax.text(lft + s / 2, yi, _pct(s), ha="center", va="center", fontsize=MIN_FONT_PT,
                            color="black" if box else st["text"], bbox=box, zorder=3)
        for yi, r, t in zip(y, right, top2.loc[order].to_numpy(float), strict=True):
            if math.isfinite(t):
                ax.text(r + 0.01 * lim, yi, _("top-2 {share}", share=_pct(t)), ha="left", va="center", fontsize="x-small")
        ax.axvline(0, color=EDGE, linewidth=0.9, zorder=4)
        ax.set_xlim(-lim, lim * 1.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(v) * 100:.0f}%"))
        ticks = [f"{short_label(labels.loc[it], 34)}\n(n={int(counts.loc[it]):,})" for it in order]
        ax.set_yticks(y, ticks)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(_("Share of answers: below the scale midpoint to the left, above it to the right "
                        "(scale {low}-{high})", low=points[0], high=points[-1]))
        handles, leg_labels = ax.get_legend_handles_labels()
        legend_below(ax, handles, leg_labels, ncol=k if k <= 7 else math.ceil(k / 2))
        t = top2.loc[order].to_numpy(float)
        ok = np.isfinite(t)
        if not ok.any():
            title = _("Answer distributions: no answers to show")
        elif n_items == 1:
            title = _("{item}: {share} in the top two points", item=short_label(labels.loc[order[0]], 40), share=_pct(t[0]))
        else:
            hi_i = int(np.nanargmax(np.where(ok, t, -np.inf)))
            lo_i = int(np.nanargmin(np.where(ok, t, np.inf)))
            title = _("Top-2 box: highest {highest} ({highest_share}), lowest {lowest} ({lowest_share})",
                      highest=short_label(labels.loc[order[hi_i]], 30), highest_share=_pct(t[hi_i]),
                      lowest=short_label(labels.loc[order[lo_i]], 30), lowest_share=_pct(t[lo_i]))
        ax.set_title(title)
    return ax


def plot_weights(w: pd.Series | np.ndarray | Sequence[float], *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of the weights, with Kish's effective n and the design effect in the title.

    Parameters
    ----------
    w : Series or array
        The weights (e.g. from :func:`csm_helpers.analysis.measurement.study_weights`).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.hist`` (e.g. ``bins=20``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.patches`` holds the histogram bars; ``ax.lines[0]`` marks the mean weight.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_weights([0.5, 1.0, 1.0, 1.5])
    >>> ax.get_title()
    'Weights: effective n 3.6 of 4 respondents (design effect 1.12)'
    >>> plt.close(ax.figure)
    """
    s = weight_summary(w)
    arr = np.asarray(w.to_numpy() if isinstance(w, pd.Series) else w, dtype=float).ravel()
    with drawing():
        ax = new_axes(ax, height=3.0)
        bins = kwargs.pop("bins", int(min(40, max(8, math.sqrt(arr.size)))))
        ax.hist(arr, **{"bins": bins, "color": LIGHT, "edgecolor": EDGE, "linewidth": 0.6,
                        "label": _("respondents"), "zorder": 2, **kwargs})
        ax.axvline(s["mean"], color=DARK, linestyle="--", linewidth=1.2, zorder=3,
                   label=_("mean weight {mean}", mean=f"{s['mean']:.3g}"))
        ax.text(0.99, 0.97, _("min {min}, max {max}\ncv {cv}", min=f"{s['min']:.3g}", max=f"{s['max']:.3g}",
                              cv=f"{s['cv']:.2f}"), transform=ax.transAxes,
                ha="right", va="top", fontsize="small",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": LIGHT})
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_("Weight"))
        ax.set_ylabel(_("Respondents"))
        ax.grid(axis="x", visible=False)
        handles, labels = ax.get_legend_handles_labels()
        legend_below(ax, handles, labels, ncol=len(handles))
        neff = s["n_eff"]
        neff_txt = f"{neff:,.0f}" if neff >= 100 else f"{neff:.1f}"
        ax.set_title(_("Weights: effective n {n_eff} of {n} respondents (design effect {deff})", n_eff=neff_txt,
                       n=f"{s['n']:,}", deff=f"{s['deff']:.2f}"))
    return ax


def plot_sampling(sampling_table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Achieved vs required sample size per segment value, with the required n marked.

    Parameters
    ----------
    sampling_table : pandas.DataFrame
        From :func:`csm_helpers.analysis.measurement.sampling_table`; the total row (``value="all"``)
        is summarised in the title, not drawn (it would flatten the segment bars).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.barh`` for the achieved-n bars.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds one bar per segment value (dark: meets the target margin;
        white hatched: below it); ``ax.collections[0]`` the required-n marks.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> t = pd.DataFrame({"segment": "region", "value": ["North", "South", "all"],
    ...                   "responses": [400, 120, 520], "required_n": [370.0, 360.0, 380.0],
    ...                   "achieved_moe": [0.047, 0.085, 0.042], "target_moe": 0.05,
    ...                   "meets_target": [True, False, True]})
    >>> ax = plot_sampling(t)
    >>> ax.get_title()
    '1 of 2 region values reach the ±5% margin; short: South\\nAll respondents: n = 520, margin ±4.2%'
    >>> plt.close(ax.figure)
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
    with drawing():
        ax = new_axes(ax, height=max(2.2, 0.34 * n + 1.5))
        if n == 0:
            return empty_chart(ax, _("Sampling: no segment to show"))
        y = np.arange(n)
        got = seg[size].to_numpy(float)
        req = seg["required_n"].to_numpy(float)
        meets = seg["meets_target"].astype(bool).to_numpy()
        bars = ax.barh(y, got, **{"height": 0.6, "color": GOOD, "edgecolor": EDGE, "linewidth": 0.7,
                                  "zorder": 2, **kwargs})
        for bar, ok in zip(bars, meets, strict=True):
            if not ok:
                bar.set_facecolor(tint(BAD, 0.5))
                bar.set_hatch("///")
        marks = ax.vlines(req, y - 0.42, y + 0.42, colors=EDGE, linewidth=2.2, zorder=3)
        marks.set_path_effects([patheffects.withStroke(linewidth=4.5, foreground="white")])
        xmax = max(float(np.nanmax(np.r_[got, req])), 1.0)
        for yi, g, r, m in zip(y, got, req, seg["achieved_moe"].to_numpy(float), strict=True):
            moe = f"±{m * 100:.1f}%" if math.isfinite(m) else _("no margin")
            ax.text(max(g, r) + 0.015 * xmax, yi, _("{achieved} of {required} needed ({margin})", achieved=f"{g:,.0f}",
                                                    required=f"{math.ceil(r - 1e-9):,}", margin=moe),
                    ha="left", va="center", fontsize="small")
        ax.set_yticks(y, [short_label(v, 30) for v in seg["value"]])
        ax.invert_yaxis()
        ax.set_xlim(0, xmax * 1.6)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_("Effective responses, wave {wave}", wave=mathtext_escape(wave)) if wave and size == "n_eff" else
                      _("Responses, wave {wave}", wave=mathtext_escape(wave)) if wave else _("Responses"))
        ax.grid(axis="y", visible=False)
        meets_label = _("meets the {margin} margin", margin=e_txt) if e_txt else _("meets the target margin")
        handles = [Patch(facecolor=GOOD, edgecolor=EDGE, label=meets_label),
                   Patch(facecolor=tint(BAD, 0.5), edgecolor=EDGE, hatch="///", label=_("below it")),
                   Line2D([], [], color=EDGE, linewidth=2.2, label=_("required n"))]
        legend_below(ax, handles, [h.get_label() for h in handles], ncol=3)
        short = [mathtext_escape(v) for v in seg.loc[~meets, "value"].astype(str)]
        if e_txt:
            title = _("{k} of {n} {segment} values reach the {margin} margin", k=int(meets.sum()), n=n,
                      segment=mathtext_escape(segment), margin=e_txt)
        else:
            title = _("{k} of {n} {segment} values reach the target margin", k=int(meets.sum()), n=n,
                      segment=mathtext_escape(segment))
        if short:
            names = ", ".join(short[:3])
            if len(short) > 3:
                names += " " + _("(+{k} more)", k=len(short) - 3)
            title += "; " + _("short: {values}", values=names)
        if len(total):
            tot = total.iloc[0]
            m = float(tot["achieved_moe"])
            n_all = f"{int(tot['responses']):,}"
            title += "\n" + (_("All respondents: n = {n}, margin {margin}", n=n_all, margin=f"±{m * 100:.1f}%")
                             if math.isfinite(m) else _("All respondents: n = {n}, margin not available", n=n_all))
        ax.set_title(title)
    return ax
