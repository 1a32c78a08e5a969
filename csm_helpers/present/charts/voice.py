"""Charts of the voice of the customer in the analysis report (SPEC §1.4): loyalty matrix,
complaint Pareto, complaint iceberg, reasons for leaving and comment themes.

Same look as :mod:`csm_helpers.present.charts.style`: shades of grey with hatching and value labels carry the
meaning (never colour alone), the title says what the reader should see, ``n`` is shown, every
function draws on ``ax`` (a new figure when None), returns it and passes ``**kwargs`` to the
main matplotlib call. Labels can hold customer wording (categories, themes): ``$`` is escaped
so matplotlib never reads it as mathematics. No function calls ``plt.show()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from csm_helpers.analysis.complaints import ICEBERG_LAYERS, OTHER_SUPPRESSED
from csm_helpers.analysis.loyalty import QUADRANTS
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import ci_text, format_count, format_p
from csm_helpers.present.charts.style import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    LIGHT,
    MID,
    PURPLE,
    WARN,
    drawing,
    empty_chart,
    legend_below,
    mathtext_escape,
    new_axes,
    require_table,
    short_label,
    tint,
)

__all__ = [
    "plot_loyalty_matrix",
    "plot_pareto",
    "plot_iceberg",
    "plot_lost_reasons",
    "plot_themes",
]

# Quadrant -> (face, hatch, text colour); distinguishable in grey-scale.
_QUADRANT_STYLE = {
    "Loyalty": (GOOD, "", "white"),
    "Latent loyalty": (tint(MID, 0.3), "..", "black"),
    "Spurious loyalty": (WARN, "///", "black"),
    "No loyalty": (tint(BAD, 0.5), "", "black"),
}
# Dimension -> (face, hatch) of the theme bars.
_DIMENSION_STYLE = {"product": (DARK, ""), "process": (MID, "///"), "people": (PURPLE, "..")}
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


# --------------------------------------------------------------------------- loyalty matrix
def plot_loyalty_matrix(quadrants: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The Dick & Basu loyalty matrix: 2 x 2 cells of relative attitude x repeat patronage.

    Parameters
    ----------
    quadrants : pandas.DataFrame
        From :func:`csm_helpers.analysis.loyalty.dick_basu`, one group (filter a ``by`` table first).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.bar`` that draws the four cells.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds the four cells in the order of
        :data:`csm_helpers.analysis.loyalty.QUADRANTS`; each cell is labelled with its name, share and
        95% interval; x = repeat patronage (low, high), y = relative attitude (low, high).

    Raises
    ------
    CsmError
        When the table holds several groups.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> q = pd.DataFrame({"quadrant": ["Loyalty", "Latent loyalty", "Spurious loyalty", "No loyalty"],
    ...                   "n": 200, "share": [0.35, 0.05, 0.4, 0.2], "ci_low": [0.29, 0.03, 0.33, 0.15],
    ...                   "ci_high": [0.42, 0.09, 0.47, 0.26], "suppressed": False})
    >>> ax = plot_loyalty_matrix(q)
    >>> ax.get_title()
    'Largest group: Spurious loyalty (40%), repeat without attachment; 35% loyal (n = 200)'
    >>> plt.close(ax.figure)
    """
    require_table(quadrants, ["quadrant", "share"], "loyalty quadrants", "dick_basu()")
    known = {"quadrant", "n", "count", "n_eff", "share", "ci_low", "ci_high", "suppressed"}
    q = _one_group(quadrants, known, "loyalty quadrants")
    with drawing():
        ax = new_axes(ax, height=4.2)
        if len(q) == 0:
            return empty_chart(ax, _("Loyalty matrix: nothing to show"))
        if _all_suppressed(q):
            size = format_count(q["n"].iloc[0], suppressed=True, min_n=quadrants.attrs.get("min_n"))
            return empty_chart(ax, _("Loyalty matrix suppressed: too few respondents ({n})", n=size)
                               if size != _("hidden") else
                               _("Loyalty matrix suppressed so that a smaller group cannot be worked out by difference"))
        rows = {str(r.quadrant): r for r in q.itertuples(index=False)}
        missing = [name for name in QUADRANTS if name not in rows]
        if missing:
            raise CsmError(f"loyalty quadrants: quadrant {', '.join(map(repr, missing))} is missing — pass the "
                           "table dick_basu() returns")
        # (x, y) = (repeat high?, attitude high?) of each quadrant, in QUADRANTS order.
        pos = {"Loyalty": (1, 1), "Latent loyalty": (0, 1), "Spurious loyalty": (1, 0), "No loyalty": (0, 0)}
        xs = [pos[name][0] for name in QUADRANTS]
        ys = [pos[name][1] for name in QUADRANTS]
        faces = [_QUADRANT_STYLE[name][0] for name in QUADRANTS]
        bars = ax.bar(xs, 1.0, bottom=ys, width=1.0, align="edge", **{
            "color": faces, "edgecolor": EDGE, "linewidth": 1.0, **kwargs})
        for bar, name in zip(bars, QUADRANTS, strict=True):
            bar.set_hatch(_QUADRANT_STYLE[name][1])
        for name in QUADRANTS:
            r = rows[name]
            x, y = pos[name]
            share = float(r.share)
            lo, hi = getattr(r, "ci_low", math.nan), getattr(r, "ci_high", math.nan)
            ci = ("\n" + ci_text(_pct(lo), _pct(hi), quadrants.attrs.get("level", 0.95), sep="–")
                  if not (pd.isna(lo) or pd.isna(hi)) else "")
            colour = _QUADRANT_STYLE[name][2]
            box = None if colour == "white" else {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none"}
            ax.text(x + 0.5, y + 0.5, f"{tr(name)}\n{_pct(share)}{ci}", ha="center", va="center", color=colour,
                    fontweight="bold", bbox=box)
        ax.set_xlim(0, 2)
        ax.set_ylim(0, 2)
        ax.set_xticks([0.5, 1.5], [_("low"), _("high")])
        ax.set_yticks([0.5, 1.5], [_("low"), _("high")])
        ax.set_xlabel(_("Repeat patronage"))
        ax.set_ylabel(_("Relative attitude"))
        ax.grid(False)
        ax.set_aspect("equal")
        shares = {name: float(rows[name].share) for name in QUADRANTS}
        largest = max(QUADRANTS, key=lambda k: shares[k])
        n = q["n"].iloc[0] if "n" in q.columns else None
        ax.set_title(_("Largest group: {quadrant} ({share}), {meaning}; {loyal} loyal ({n})", quadrant=tr(largest),
                       share=_pct(shares[largest]), meaning=tr(_QUADRANT_MEANING[largest]),
                       loyal=_pct(shares["Loyalty"]), n=_n_text(n)))
    return ax


# --------------------------------------------------------------------------- Pareto
def plot_pareto(pareto: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Pareto chart of complaint categories: bars of counts and the cumulative share.

    Parameters
    ----------
    pareto : pandas.DataFrame
        ``complaint_summary(...)["pareto"]`` (largest category first, the pooled
        ``"other (suppressed)"`` last).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds one bar per category (the pooled one hatched), labelled
        with its count; ``ax.lines[0]`` is the cumulative share, drawn on the count scale and
        read on the right-hand percentage axis; ``ax.lines[1]`` the 80% reference.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> p = pd.DataFrame({"category": ["fees", "app", "queue"], "count": [50, 30, 20],
    ...                   "share": [0.5, 0.3, 0.2], "cumulative_share": [0.5, 0.8, 1.0]})
    >>> ax = plot_pareto(p)
    >>> ax.get_title()
    '2 of 3 categories make up 80% of the 100 complaints'
    >>> plt.close(ax.figure)
    """
    require_table(pareto, ["category", "count", "cumulative_share"], "Pareto table", "complaint_summary()['pareto']")
    n = len(pareto)
    with drawing():
        ax = new_axes(ax, height=3.6)
        if n == 0:
            return empty_chart(ax, _("Complaints by category: nothing to show (none, or suppressed)"))
        x = np.arange(n)
        counts = pareto["count"].to_numpy(float)
        total = float(np.nansum(counts))
        cum = pareto["cumulative_share"].to_numpy(float)
        pooled = pareto["category"].astype(str).eq(OTHER_SUPPRESSED).to_numpy()
        bars = ax.bar(x, counts, width=0.7, **{"color": MID, "edgecolor": EDGE, "linewidth": 0.6,
                                               "label": _("complaints"), "zorder": 2, **kwargs})
        for bar, is_pooled in zip(bars, pooled, strict=True):
            if is_pooled:
                bar.set_facecolor("white")
                bar.set_hatch("xx")
        for xi, c in zip(x, counts, strict=True):
            ax.text(xi, c, f"{c:,.0f}", ha="center", va="bottom", fontsize="small")
        ax.plot(x, cum * total, color=DARK, marker="o", markersize=4, linewidth=1.4, zorder=3,
                label=_("cumulative share"))
        ax.axhline(0.8 * total, color=DARK, linestyle="--", linewidth=0.8, zorder=1, label="80%")
        ax.set_ylim(0, max(total, 1.0) * 1.08)
        right = ax.secondary_yaxis("right", functions=(lambda c: c / total if total else c * 0,
                                                        lambda s: s * total))
        right.yaxis.set_major_formatter(PercentFormatter(1.0))
        right.set_ylabel(_("Cumulative share"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        # categories are data, except the pooled "other (suppressed)" our code adds
        ax.set_xticks(x, [short_label(tr(c) if str(c) == OTHER_SUPPRESSED else c, 18) for c in pareto["category"]],
                      rotation=30, ha="right")
        ax.set_ylabel(_("Complaints"))
        ax.grid(axis="x", visible=False)
        legend_below(ax)
        reach = int(np.argmax(cum >= 0.8 - 1e-12)) + 1 if np.any(cum >= 0.8 - 1e-12) else n
        ax.set_title(_("{reach} of {n} category makes up 80% of the {total} complaints" if reach == 1 else
                       "{reach} of {n} categories make up 80% of the {total} complaints", reach=reach, n=n,
                       total=f"{total:,.0f}"))
    return ax


# --------------------------------------------------------------------------- iceberg
def plot_iceberg(iceberg: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The complaint iceberg: the formal complaints above the waterline, the hidden layers below.

    Layer heights are proportional to their shares, so the visible tip is as small as the
    share of dissatisfied customers who complain formally.

    Parameters
    ----------
    iceberg : pandas.DataFrame
        From :func:`csm_helpers.analysis.complaints.complaint_iceberg`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to the ``Axes.fill`` calls that draw the layers.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.patches[0]`` is the water; ``ax.patches[1:4]`` the layers formal (white, above
        the waterline), elsewhere and silent (hatched greys), each labelled with its estimated
        number of customers and share.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from csm_helpers.analysis.complaints import complaint_iceberg
    >>> ax = plot_iceberg(complaint_iceberg(100))
    >>> ax.get_title()
    '100 formal complaints stand for about 2,000 dissatisfied customers'
    >>> plt.close(ax.figure)
    """
    require_table(iceberg, ["layer", "share", "estimated_customers"], "complaint iceberg", "complaint_iceberg()")
    rows = {str(r.layer): r for r in iceberg.itertuples(index=False)}
    missing = [k for k in ICEBERG_LAYERS if k not in rows]
    if missing:
        raise CsmError(f"complaint iceberg: layer {', '.join(map(repr, missing))} is missing — pass the table "
                       "complaint_iceberg() returns")
    f, e, s = (float(rows[k].share) for k in ICEBERG_LAYERS)
    with drawing():
        ax = new_axes(ax, height=4.0)
        top, bottom = f, -(e + s)
        ax.axhspan(bottom - 0.08, 0, facecolor=LIGHT, alpha=0.35, edgecolor="none", zorder=0)

        def width(y: float) -> float:
            # Half-width of the iceberg at height y: narrow tip, widest below the waterline.
            knots_y = [top, 0.0, -e, bottom]
            knots_w = [0.01, 0.22, 0.44, 0.26]
            return float(np.interp(-y, [-v for v in knots_y], knots_w))

        styles = {"formal": ("white", ""), "elsewhere": (LIGHT, "///"), "silent": (MID, "..")}
        bounds = {"formal": (0.0, top), "elsewhere": (-e, 0.0), "silent": (bottom, -e)}
        for layer in ICEBERG_LAYERS:
            lo, hi = bounds[layer]
            face, hatch = styles[layer]
            ys = np.linspace(lo, hi, 12)
            half = np.array([width(y) for y in ys])
            px = np.r_[0.5 - half, (0.5 + half)[::-1]]
            py = np.r_[ys, ys[::-1]]
            ax.fill(px, py, **{"facecolor": face, "edgecolor": EDGE, "hatch": hatch, "linewidth": 0.9,
                               "zorder": 2, **kwargs})
        ax.axhline(0, color=DARK, linewidth=1.2, zorder=3)
        ax.text(0.02, 0.01, _("waterline"), va="bottom", ha="left", fontsize="small", style="italic")
        label_x = 0.5 + max(width(y) for y in np.linspace(bottom, top, 50)) + 0.06
        for layer in ICEBERG_LAYERS:
            lo, hi = bounds[layer]
            r = rows[layer]
            name = getattr(r, "label", layer)
            y = max((lo + hi) / 2, 0.03) if layer == "formal" else (lo + hi) / 2
            ax.annotate(f"{mathtext_escape(tr(name))}: {float(r.estimated_customers):,.0f} ({_pct(float(r.share))})",
                        xy=(0.5 + width((lo + hi) / 2) * 0.6, (lo + hi) / 2), xytext=(label_x, y),
                        va="center", ha="left", fontsize="small",
                        arrowprops={"arrowstyle": "-", "color": DARK, "linewidth": 0.6})
        ax.set_xlim(0, 1.6)
        ax.set_ylim(bottom - 0.08, max(top, 0.05) + 0.08)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        formal_n = float(rows["formal"].estimated_customers)
        total = formal_n / f if f > 0 else math.nan
        ax.set_title(_("{formal} formal complaints stand for about {total} dissatisfied customers",
                       formal=f"{formal_n:,.0f}", total=f"{total:,.0f}"))
        ax.set_xlabel(_("Assumed shares: {formal} complain formally, {elsewhere} voice it elsewhere, "
                        "{silent} say nothing", formal=_pct(f), elsewhere=_pct(e), silent=_pct(s)))
    return ax


# --------------------------------------------------------------------------- lost reasons
def _reason_label(reason: Any) -> str:
    """``'staff_indifference'`` -> ``'Staff indifference'``, translated when it is one of the benchmark's reasons."""
    text = str(reason).replace("_", " ").strip()
    return tr(text[:1].upper() + text[1:])


def plot_lost_reasons(table: pd.DataFrame, *, test: dict[str, Any] | None = None, ax: Axes | None = None,
                      **kwargs: Any) -> Axes:
    """Why customers left: observed shares beside the benchmark, per reason.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`csm_helpers.analysis.complaints.lost_reasons`.
    test : dict, optional
        Its test dict: the chi-square p-value (or the Monte-Carlo one) goes into the title.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.barh`` for the observed bars.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds the observed bars (dark), ``ax.containers[1]`` the
        benchmark bars (white, hatched), one per reason in table order (top to bottom).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"reason": ["competitor", "staff_indifference"], "n": [40, 60],
    ...                   "share": [0.4, 0.6], "benchmark_share": [0.2, 0.8]})
    >>> ax = plot_lost_reasons(t)
    >>> ax.get_title()
    'Competitor: 40% of lost customers vs 20% in the benchmark (+20 pts; n = 100)'
    >>> plt.close(ax.figure)
    """
    require_table(table, ["reason", "share", "benchmark_share"], "lost-reason table", "lost_reasons()")
    n = len(table)
    with drawing():
        ax = new_axes(ax, height=max(2.5, 0.45 * n + 1.2))
        if n == 0:
            return empty_chart(ax, _("Reasons for leaving: nothing to show"))
        obs = table["share"].to_numpy(float)
        bench = table["benchmark_share"].to_numpy(float)
        if np.all(np.isnan(obs)):
            return empty_chart(ax, _("Reasons for leaving suppressed: too few lost customers"))
        y = np.arange(n)
        h = 0.38
        ax.barh(y - h / 2, obs, height=h, **{"color": DARK, "edgecolor": EDGE, "linewidth": 0.6,
                                             "label": _("lost customers"), **kwargs})
        ax.barh(y + h / 2, bench, height=h, color="white", edgecolor=EDGE, linewidth=0.6, hatch="///",
                label=_("benchmark"))
        for yi, o, b in zip(y, obs, bench, strict=True):
            ax.text(o, yi - h / 2, f" {_pct(o)}", va="center", ha="left", fontsize="small")
            ax.text(b, yi + h / 2, f" {_pct(b)}", va="center", ha="left", fontsize="small")
        ax.set_yticks(y, [short_label(_reason_label(r), 30) for r in table["reason"]])
        ax.invert_yaxis()
        ax.set_xlim(0, max(1e-9, float(np.nanmax(np.r_[obs, bench]))) * 1.25)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(_("Share of lost customers"))
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        diff = obs - bench
        k = int(np.nanargmax(diff))
        total = table["n"].sum() if "n" in table.columns else (test or {}).get("n")
        title = _("{reason}: {observed} of lost customers vs {benchmark} in the benchmark ({difference} pts; {n})",
                  reason=short_label(_reason_label(table["reason"].iloc[k]), 30), observed=_pct(obs[k]),
                  benchmark=_pct(bench[k]), difference=f"{100 * diff[k]:+.0f}".replace("-", chr(0x2212)),
                  n=_n_text(total))
        if test:
            p = test.get("p_value_mc")
            monte_carlo = True
            if p is None or (isinstance(p, float) and math.isnan(p)):
                p, monte_carlo = test.get("p_value"), False
            if p is not None and not (isinstance(p, float) and math.isnan(p)):
                title += "\n" + _("Different from the benchmark: Monte-Carlo test, {p}" if monte_carlo else
                                  "Different from the benchmark: chi-square test, {p}", p=format_p(p))
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- themes
def plot_themes(themes: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Comment themes: share of commenters mentioning each theme, shaded by dimension.

    Parameters
    ----------
    themes : pandas.DataFrame
        From :func:`csm_helpers.analysis.themes.comment_themes`, one group (filter a ``by`` table).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds one bar per theme in table order (most mentioned at the
        top), labelled with the share and the number of mentions; the legend names the
        dimensions (product dark, process hatched, people dotted).

    Raises
    ------
    CsmError
        When the table holds several groups.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame({"attribute": ["wait", "fees"], "label": ["Waiting", "Fees"],
    ...                   "dimension": ["process", "product"], "mentions": [40, 10], "n_commenters": 100,
    ...                   "share_of_commenters": [0.4, 0.1], "suppressed": False})
    >>> ax = plot_themes(t)
    >>> ax.get_title()
    'Most mentioned: Waiting (40% of 100 commenters)'
    >>> plt.close(ax.figure)
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
    with drawing():
        ax = new_axes(ax, height=max(2.5, 0.28 * n + 1.2))
        if n == 0:
            return empty_chart(ax, _("Comment themes: nothing to show"))
        if _all_suppressed(t):
            return empty_chart(ax, _("Comment themes suppressed: too few respondents with a comment"))
        y = np.arange(n)
        share = t["share_of_commenters"].to_numpy(float)
        dims = t["dimension"].astype(str).tolist()
        faces = [_DIMENSION_STYLE.get(d, (LIGHT, "xx"))[0] for d in dims]
        bars = ax.barh(y, np.nan_to_num(share), height=0.65, **{"color": faces, "edgecolor": EDGE,
                                                                 "linewidth": 0.6, **kwargs})
        for bar, d in zip(bars, dims, strict=True):
            bar.set_hatch(_DIMENSION_STYLE.get(d, (LIGHT, "xx"))[1])
        mentions = t["mentions"].to_numpy(dtype=float, na_value=np.nan)
        for yi, sv, m in zip(y, share, mentions, strict=True):
            text = _("suppressed") if math.isnan(sv) else f"{_pct(sv)} ({m:,.0f})"
            ax.text(0 if math.isnan(sv) else sv, yi, f" {text}", va="center", ha="left", fontsize="small")
        ax.set_yticks(y, [short_label(v, 36) for v in t["label"]])
        ax.invert_yaxis()
        ax.set_xlim(0, max(0.05, float(np.nanmax(share)) if np.isfinite(share).any() else 0.05) * 1.3)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(_("Weighted share of respondents with a comment who mention the theme (unweighted mentions)")
                      if weighted else _("Share of respondents with a comment who mention the theme (mentions)"))
        ax.grid(axis="y", visible=False)
        handles = [Patch(facecolor=_DIMENSION_STYLE[d][0], hatch=_DIMENSION_STYLE[d][1], edgecolor=EDGE,
                         label=tr(d)) for d in _DIMENSION_STYLE if d in dims]
        legend_below(ax, handles)
        k = int(np.nanargmax(np.where(np.isfinite(share), share, -1)))
        commenters = t["n_commenters"].iloc[k] if "n_commenters" in t.columns else None
        label = short_label(t["label"].iloc[k], 40)
        if not np.isfinite(share[k]) or share[k] <= 0:
            ax.set_title(_("No theme was mentioned in the comments"))
        elif commenters is not None and not pd.isna(commenters):
            ax.set_title(_("Most mentioned: {theme} ({share} of {n} commenters)", theme=label, share=_pct(share[k]),
                           n=f"{int(commenters):,}"))
        else:
            ax.set_title(_("Most mentioned: {theme} ({share})", theme=label, share=_pct(share[k])))
    return ax
