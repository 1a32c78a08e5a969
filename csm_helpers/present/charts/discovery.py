"""Charts of the discovery report (stage 02): the affinity diagram, the perception gap and
the saturation curve of the interviews.

Conventions: :mod:`csm_helpers.present.charts`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import _, tr
from csm_helpers.present.charts.style import (
    DARK,
    EDGE,
    LIGHT,
    MID,
    drawing,
    dumbbell,
    empty_chart,
    legend_below,
    mathtext_escape,
    new_axes,
    require_table,
    short_label,
)

__all__ = ["plot_affinity", "plot_perception_gap", "plot_saturation"]

# --------------------------------------------------------------------------- discovery
def plot_affinity(affinity: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Mentions per attribute grouped by dimension, customer side stacked with company side.

    Parameters
    ----------
    affinity : pandas.DataFrame
        From :func:`csm_helpers.analysis.discovery.affinity_table` (its order is kept: dimension, then
        mentions).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None (taller with many attributes).
    **kwargs
        Passed to ``Axes.barh`` for the customer-side bars.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds the customer-side bars (dark), ``ax.containers[1]`` the
        company-side bars (hatched), one per attribute; totals are written at the bar ends.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> aff = pd.DataFrame({"dimension": ["product", "process"], "theme": ["Price", "Speed"],
    ...                     "attribute": ["fees", "queue"], "label": ["Fees", "Queues"],
    ...                     "mentions": [5, 3], "customer_mentions": [4, 3], "company_mentions": [1, 0],
    ...                     "share": [0.5, 0.3]})
    >>> ax = plot_affinity(aff)
    >>> ax.get_title()
    'Most raised: Fees (5 of 10 interviews)'
    >>> plt.close(ax.figure)
    """
    require_table(affinity, ["dimension", "label", "mentions", "customer_mentions", "company_mentions"],
             "affinity table", "affinity_table()")
    dims = list(dict.fromkeys(affinity["dimension"]))
    n = len(affinity)
    with drawing():
        ax = new_axes(ax, height=max(2.5, 0.24 * (n + len(dims)) + 1.2))
        if n == 0:
            return empty_chart(ax, _("Affinity diagram: no attribute to show"))
        # One slot per attribute, plus a header slot above each dimension's group.
        y_attr = np.empty(n)
        headers = []
        slot = 0
        dim_values = affinity["dimension"].tolist()
        for d in dims:
            headers.append((slot, d))
            slot += 1
            for i, dv in enumerate(dim_values):
                if dv == d:
                    y_attr[i] = slot
                    slot += 1
        cust = affinity["customer_mentions"].to_numpy(float)
        comp = affinity["company_mentions"].to_numpy(float)
        total = affinity["mentions"].to_numpy(float)
        ax.barh(y_attr, cust, height=0.7, **{"color": DARK, "edgecolor": EDGE, "linewidth": 0.6,
                                              "label": _("customer side"), **kwargs})
        ax.barh(y_attr, comp, left=cust, height=0.7, color="white", edgecolor=EDGE, linewidth=0.6,
                hatch="////", label=_("company side"))
        for yi, t in zip(y_attr, total, strict=True):
            ax.text(max(t, 0), yi, f" {t:.0f}", va="center", ha="left", fontsize="small")
        for ys, d in headers:
            ax.text(0, ys, mathtext_escape(tr(str(d).capitalize())), va="center", ha="left", fontweight="bold")
        ax.set_yticks(y_attr, [short_label(v, 36) for v in affinity["label"]])
        ax.set_ylim(slot - 0.4, -0.6)
        ax.set_xlim(0, max(1.0, float(np.nanmax(total))) * 1.15)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_("Interviews mentioning the attribute"))
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        if np.nanmax(total) <= 0:
            title = _("No attribute was raised in the interviews")
        else:
            top = int(np.nanargmax(total))
            share = affinity["share"].iloc[top] if "share" in affinity.columns else math.nan
            label, n_top = short_label(affinity["label"].iloc[top], 40), f"{total[top]:.0f}"
            if share and not math.isnan(share):
                title = _("Most raised: {label} ({n} of {total} interviews)", label=label, n=n_top,
                          total=round(total[top] / share))
            else:
                title = _("Most raised: {label} ({n} interviews)", label=label, n=n_top)
        ax.set_title(title)
    return ax


def plot_perception_gap(gap: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Dumbbell chart: share of customer-side vs company-side interviews mentioning each attribute.

    Parameters
    ----------
    gap : pandas.DataFrame
        From :func:`csm_helpers.analysis.discovery.perception_gap`; drawn largest gap at the top.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to both ``Axes.scatter`` calls (e.g. ``s=40``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[1]`` holds the customer points (filled circles), ``ax.collections[2]``
        the company points (open squares), one per attribute; flagged gaps are labelled in
        percentage points.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> gap = pd.DataFrame({"attribute": ["queue", "price"], "label": ["Queues", "Price"],
    ...                     "share_customer": [0.8, 0.4], "share_company": [0.2, 0.5],
    ...                     "gap": [0.6, -0.1], "flag": ["company under-rates", "aligned"]})
    >>> ax = plot_perception_gap(gap)
    >>> ax.get_title()
    'Company under-rates 1 and over-rates 0 of 2 attributes'
    >>> plt.close(ax.figure)
    """
    require_table(gap, ["label", "share_customer", "share_company", "gap", "flag"], "perception gap table",
             "perception_gap()")
    g = gap.sort_values("gap", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    n = len(g)
    with drawing():
        ax = new_axes(ax, height=max(2.5, 0.26 * n + 1.2))
        if n == 0:
            return empty_chart(ax, _("Perception gap: no attribute to show"))
        y = np.arange(n)
        sc = g["share_customer"].to_numpy(float)
        sk = g["share_company"].to_numpy(float)
        dumbbell(ax, y, sc, sk, labels=(_("customer side"), _("company side")), size=36, **kwargs)
        flags = g["flag"].tolist()
        for yi, a, b, d, f in zip(y, sc, sk, g["gap"].to_numpy(float), flags, strict=True):
            if f in ("company under-rates", "company over-rates"):
                ax.text(max(a, b) + 0.03, yi, _("{change} pts", change=f"{d * 100:+.0f}".replace("-", "\u2212")),
                        va="center", ha="left",
                        fontsize="small", fontweight="bold")
        ax.set_yticks(y, [short_label(v, 36) for v in g["label"]])
        ax.invert_yaxis()
        ax.set_xlim(-0.03, 1.16)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(_("Share of interviews on that side mentioning the attribute"))
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        if all(f == "not measurable" for f in flags):
            no_c = bool(np.all(np.isnan(sc)))
            title = _("Perception gap not measurable: no customer-side interviews" if no_c else
                      "Perception gap not measurable: no company-side interviews")
        else:
            under = flags.count("company under-rates")
            over = flags.count("company over-rates")
            title = _("Company under-rates {under} and over-rates {over} of {n} attributes", under=under, over=over,
                      n=n)
        ax.set_title(title)
    return ax


def plot_saturation(curve: pd.DataFrame, verdict: dict[str, Any], *, ax: Axes | None = None,
                    **kwargs: Any) -> Axes:
    """Saturation curve: cumulative distinct attributes by interview, last-k window and verdict.

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`csm_helpers.analysis.discovery.saturation_curve`.
    verdict : dict
        From :func:`csm_helpers.analysis.discovery.saturation_verdict` (keys ``saturated``, ``k``,
        ``last_new_at``, ``n_interviews``, ``n_attributes``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.plot`` for the cumulative line.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the cumulative curve, one point per interview; ``ax.containers[0]``
        the bars of new attributes per interview; the last ``k`` interviews are shaded.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> curve = pd.DataFrame({"position": [1, 2, 3, 4], "new_attributes": [3, 1, 0, 0],
    ...                       "cumulative": [3, 4, 4, 4]})
    >>> verdict = {"saturated": True, "k": 2, "last_new_at": 2, "n_interviews": 4, "n_attributes": 4}
    >>> ax = plot_saturation(curve, verdict)
    >>> ax.get_title()
    'Saturated: the last 2 interviews added no new attribute (4 found)'
    >>> plt.close(ax.figure)
    """
    require_table(curve, ["position", "new_attributes", "cumulative"], "saturation curve", "saturation_curve()")
    missing = [key for key in ("saturated", "k", "last_new_at") if key not in verdict]
    if missing:
        raise DataError(f"saturation verdict: key {', '.join(map(repr, missing))} is missing — pass the dict "
                        "saturation_verdict() returns")
    n = len(curve)
    k = int(verdict["k"])
    with drawing():
        ax = new_axes(ax, height=3.2)
        if n == 0:
            return empty_chart(ax, _("Saturation: no interview to show"))
        x = curve["position"].to_numpy(float)
        cum = curve["cumulative"].to_numpy(float)
        new = curve["new_attributes"].to_numpy(float)
        if n >= k:
            ax.axvspan(x[-k] - 0.5, x[-1] + 0.5, facecolor=LIGHT, edgecolor=MID, hatch="..", alpha=0.6,
                       zorder=0, label=_("last {k} interviews" if k > 1 else "last {k} interview", k=k))
        ax.bar(x, new, width=0.6, color="white", edgecolor=EDGE, hatch="////", linewidth=0.6, zorder=2,
               label=_("new attributes in the interview"))
        ax.plot(x, cum, **{"color": DARK, "marker": "o", "markersize": 4, "linewidth": 1.6, "zorder": 3,
                           "label": _("distinct attributes so far"), **kwargs})
        last = verdict.get("last_new_at")
        if last is not None:
            ax.axvline(last, color=DARK, linestyle="--", linewidth=0.9, zorder=1)
            ax.annotate(_("last new attribute"), (last, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -3),
                        textcoords="offset points", fontsize="small", ha="right", va="top")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(x.min() - 0.6, x.max() + 0.6)
        ax.set_ylim(0, max(1.0, float(np.nanmax(cum))) * 1.15)
        ax.set_xlabel(_("Interview (in order)"))
        ax.set_ylabel(_("Attributes"))
        legend_below(ax)
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
        ax.set_title(title)
    return ax
