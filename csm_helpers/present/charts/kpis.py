"""Charts of the headline KPIs, their change, segment means and the invisible scorecard (stage 04).

Same look as :mod:`csm_helpers.present.charts.style`: shades of grey with hatching carry the meaning (never
colour alone), every estimate is labelled with its value and interval, ``n`` is shown, and the
title says what the reader should see. Suppressed rows (fewer respondents than the minimum cell
size, SPEC §4) are drawn as the words "suppressed (n < 5)" with no value. Labels from the data
are escaped (``$`` is never read as mathtext). Call :func:`csm_helpers.present.charts.style.set_report_style`
first for the report look. No function calls ``plt.show()``.

:func:`plot_kpis` and :func:`plot_kpi_change` draw one panel per KPI, because each KPI has its
own scale (CSAT a proportion, CSI 0-100, NPS -100..100); they return the array of panels.
:func:`plot_segment_means` and :func:`plot_scorecard` draw on one Axes and return it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import (
    MINUS,
    format_change,
    format_count,
    format_kpi,
    format_p,
    kpi_label,
    kpi_range,
    kpi_short,
)
from csm_helpers.present.charts.style import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    LIGHT,
    MID,
    MIN_FONT_PT,
    PURPLE,
    WIDTH,
    drawing,
    empty_chart,
    interval_errors,
    mathtext_escape,
    require_table,
    short_label,
    tint,
)

__all__ = ["plot_kpis", "plot_kpi_change", "plot_segment_means", "plot_scorecard"]


# status -> (face, hatch, legend label)
_STATUS_STYLE = {
    "met": (GOOD, "", N_("target met")),
    "not met": (tint(BAD, 0.45), "////", N_("target not met")),
    "none": (LIGHT, "", N_("no target")),
}
# fills for series (dimensions, segments), distinguishable in grey-scale
_FILLS = ((DARK, ""), (tint(MID, 0.3), "////"), (PURPLE, ""), (LIGHT, "...."), (tint(DARK, 0.6), ""),
          ("white", "xxx"), (tint(PURPLE, 0.5), "\\\\\\\\"), ("white", ""))


# --------------------------------------------------------------------------- formatting


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


def _axis_format(ax: Axes, kpi: str) -> None:
    if kpi == "csat_top2":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v * 100:.0f}%"))
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}".replace("-", MINUS)))


def _panels(ax: Axes | Sequence[Axes] | None, k: int, *, height: float) -> np.ndarray:
    """``k`` panels stacked vertically: a new figure, a split of one Axes, or the Axes given."""
    if ax is None:
        _fig, axes = plt.subplots(max(k, 1), 1, figsize=(WIDTH, height * max(k, 1) + 0.9), layout="constrained",
                               squeeze=False)
        return axes[:, 0]
    if isinstance(ax, Axes):
        if k <= 1:
            return np.array([ax])
        ax.set_axis_off()
        gap = 0.35 / k
        h = (1.0 - gap * (k - 1)) / k
        return np.array([ax.inset_axes((0.0, 1.0 - (i + 1) * h - i * gap, 1.0, h)) for i in range(k)])
    axes = np.asarray(list(ax), dtype=object)
    if len(axes) != k:
        raise CsmError(f"ax: pass one Axes or {k} Axes (one per row of the table), but {len(axes)} were passed")
    return axes


def _limits(kpi: str, values: list[float]) -> tuple[float, float]:
    lo, hi = kpi_range(kpi)
    finite = [v for v in values if math.isfinite(v)]
    if math.isnan(lo):
        if not finite:
            return (0.0, 1.0)
        lo, hi = min(finite + [0.0]), max(finite)
        pad = 0.1 * (hi - lo or 1.0)
        return (lo - pad, hi + pad)
    return (lo, hi)


# --------------------------------------------------------------------------- KPI summary
def plot_kpis(summary: pd.DataFrame, *, ax: Axes | Sequence[Axes] | None = None, level: float = 0.95,
              min_n: int = 5, **kwargs: Any) -> np.ndarray:
    """Headline KPIs against their targets: one panel per KPI on its own scale.

    Each panel shows the KPI as a bar (dark: target met; white with hatching: not met; light
    grey: no target) with its confidence interval as a whisker, the target as a dashed line with
    a diamond, and a label with the value, the interval and ``n``. A suppressed KPI is shown as
    "suppressed (n < min_n)" with no value.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`csm_helpers.analysis.kpis.kpi_summary`.
    ax : matplotlib Axes or sequence of Axes, optional
        Where to draw: None for a new figure, one Axes (split into one panel per KPI) or one
        Axes per KPI.
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed KPIs).
    **kwargs
        Passed to ``Axes.barh`` for the KPI bars.

    Returns
    -------
    numpy.ndarray of Axes
        One panel per KPI, in table order; ``panels[i].containers[0]`` is the KPI's bar and
        ``containers[1]`` its whisker (both absent when suppressed). The first panel carries
        the title.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> summary = pd.DataFrame({"kpi": ["csat_top2", "csi", "nps"], "n": [400, 400, 398],
    ...     "value": [0.82, 71.0, 12.0], "ci_low": [0.78, 69.0, 5.0], "ci_high": [0.86, 73.0, 19.0],
    ...     "target": [0.8, 75.0, None], "met": [True, False, None],
    ...     "status": ["met", "not met: CI below target", "no target"], "suppressed": [False] * 3})
    >>> panels = plot_kpis(summary)
    >>> panels[0].get_title()
    '1 of 2 KPI targets met; CSI clearly below target'
    >>> plt.close(panels[0].figure)
    """
    require_table(summary, ["kpi", "n", "value", "ci_low", "ci_high", "suppressed"], "KPI summary", "kpi_summary()")
    k = len(summary)
    with drawing():
        panels = _panels(ax, k, height=0.95)
        if k == 0:
            empty_chart(panels[0], _("Headline KPIs: nothing to show"))
            return panels
        pct = f"{level * 100:g}%"
        for pax, (_i, r) in zip(panels, summary.iterrows(), strict=True):
            kpi = str(r["kpi"])
            value, lo, hi = _num(r["value"]), _num(r["ci_low"]), _num(r["ci_high"])
            target = _num(r.get("target"))
            status = str(r.get("status", "") or "")
            suppressed = _truthy(r["suppressed"])
            xlo, xhi = _limits(kpi, [value, lo, hi, target])
            pax.set_xlim(xlo, xhi)
            pax.set_ylim(-0.6, 0.6)
            count = format_count(r["n"], suppressed=suppressed, min_n=min_n, prefix=True)
            pax.set_yticks([0], [f"{mathtext_escape(kpi_label(kpi))}\n{count}"])
            pax.grid(axis="y", visible=False)
            _axis_format(pax, kpi)
            if suppressed or not math.isfinite(value):
                pax.text(0.5, 0, _("suppressed (n < {n})", n=min_n) if suppressed else _("no answers"), ha="center",
                         va="center", transform=pax.get_yaxis_transform(), fontstyle="italic")
            else:
                if not math.isfinite(target):
                    face, hatch = _STATUS_STYLE["none"][:2]
                elif status.startswith("met") or (not status and value >= target):
                    face, hatch = _STATUS_STYLE["met"][:2]
                else:
                    face, hatch = _STATUS_STYLE["not met"][:2]
                base = max(xlo, min(0.0, xhi))
                pax.barh([0], [value - base], left=base, height=0.5, **{
                    "color": face, "hatch": hatch, "edgecolor": EDGE, "linewidth": 0.8, "zorder": 2, **kwargs})
                if math.isfinite(lo) and math.isfinite(hi):
                    pax.errorbar([value], [0], xerr=interval_errors(value, lo, hi), fmt="none", ecolor="black",
                                 elinewidth=1.2, capsize=4, zorder=4)
                label = _("{value} ({level} CI {low} to {high})", value=format_kpi(kpi, value), level=pct,
                          low=format_kpi(kpi, lo), high=format_kpi(kpi, hi))
                _value_label(pax, label, value=value, lo=lo, hi=hi, target=target, base=base, xlim=(xlo, xhi))
            if status and not suppressed:
                pax.text(0.995, 0.94, mathtext_escape(tr(status)), transform=pax.transAxes, ha="right", va="top",
                         fontsize="small", fontstyle="italic", zorder=6,
                         bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9})
            if math.isfinite(target):
                pax.axvline(target, color="black", linestyle="--", linewidth=1.0, zorder=3)
                pax.plot([target], [-0.42], marker="D", color="black", markersize=5, zorder=5, clip_on=False)
                pax.text(target, -0.42, "  " + _("target {value}", value=format_kpi(kpi, target)), ha="left", va="center",
                         fontsize="small", zorder=5,
                         bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9})
        panels[-1].set_xlabel(_("Bar: estimate (green: target met; orange, hatched: not met; grey: no target); "
                                "whiskers: {level} CI; dashed line: target", level=pct))
        panels[0].set_title(_kpis_title(summary))
    return panels


def _value_label(ax: Axes, text: str, *, value: float, lo: float, hi: float, target: float, base: float,
                 xlim: tuple[float, float]) -> None:
    """Label a KPI bar where it fits: right of the whisker and target, left of the bar, or inside it."""
    xlo, xhi = xlim
    span = xhi - xlo

    def frac(v: float) -> float:
        return (v - xlo) / span

    right = max(v for v in (value, hi, target) if math.isfinite(v))
    left = min(v for v in (value, lo, target, base) if math.isfinite(v))
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9}
    if frac(right) <= 0.58:
        ax.text(right + 0.015 * span, 0, text, ha="left", va="center", fontsize="small", zorder=5)
    elif frac(left) >= 0.42:
        ax.text(left - 0.015 * span, 0, text, ha="right", va="center", fontsize="small", zorder=5)
    else:
        ax.text(base + 0.015 * span, 0, text, ha="left", va="center", fontsize="small", bbox=box, zorder=5)


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
    return mathtext_escape(title)


# --------------------------------------------------------------------------- change between waves
def plot_kpi_change(change: pd.DataFrame, *, ax: Axes | Sequence[Axes] | None = None, level: float = 0.95,
                    min_n: int = 5, **kwargs: Any) -> np.ndarray:
    """Previous vs latest wave for each KPI, with intervals and the test of the change.

    One panel per KPI: the previous wave as an open circle, the latest as a filled one, each
    with its confidence interval, an arrow from one to the other, and the change with its
    p-value (bold when significant). Suppressed KPIs show "suppressed (n < min_n)".

    Parameters
    ----------
    change : pandas.DataFrame
        From :func:`csm_helpers.analysis.kpis.kpi_change`.
    ax : matplotlib Axes or sequence of Axes, optional
        As in :func:`plot_kpis`.
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed KPIs).
    **kwargs
        Passed to ``Axes.errorbar`` for both waves (e.g. ``markersize=8``).

    Returns
    -------
    numpy.ndarray of Axes
        One panel per KPI; the y axis of each has the previous wave at 1 and the latest at 0.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> change = pd.DataFrame({"kpi": ["csat_top2", "nps"], "wave_previous": ["W1", "W1"],
    ...     "wave_latest": ["W2", "W2"], "n_previous": [500, 500], "n_latest": [520, 3],
    ...     "previous": [0.70, None], "previous_ci_low": [0.66, None], "previous_ci_high": [0.74, None],
    ...     "latest": [0.76, None], "latest_ci_low": [0.72, None], "latest_ci_high": [0.80, None],
    ...     "change": [0.06, None], "test": ["two-proportion z", "z on NPS difference"],
    ...     "statistic": [2.2, None], "p_value": [0.028, None], "significant": [True, None],
    ...     "suppressed": [False, True]})
    >>> panels = plot_kpi_change(change)
    >>> panels[0].figure.get_suptitle()
    'From W1 to W2: CSAT rose significantly; NPS suppressed'
    >>> plt.close(panels[0].figure)
    """
    require_table(change, ["kpi", "n_previous", "n_latest", "previous", "latest", "change", "p_value", "significant",
                      "suppressed"], "KPI change table", "kpi_change()")
    k = len(change)
    pct = f"{level * 100:g}%"
    with drawing():
        panels = _panels(ax, k, height=1.15)
        if k == 0:
            empty_chart(panels[0], _("KPI change: nothing to show"))
            return panels
        first = change.iloc[0]
        w_prev = mathtext_escape(first.get("wave_previous", _("previous wave")))
        w_last = mathtext_escape(first.get("wave_latest", _("latest wave")))
        for pax, (_i, r) in zip(panels, change.iterrows(), strict=True):
            kpi = str(r["kpi"])
            vals = {key: _num(r.get(key)) for key in ("previous", "previous_ci_low", "previous_ci_high", "latest",
                                                     "latest_ci_low", "latest_ci_high")}
            xlo, xhi = _limits(kpi, list(vals.values()))
            pax.set_xlim(xlo, xhi)
            pax.set_ylim(-0.55, 1.55)
            hidden = _truthy(r["suppressed"])
            pax.set_yticks([1, 0], [f"{w} ({format_count(r[n], suppressed=hidden, min_n=min_n, prefix=True)})"
                                    for w, n in ((w_prev, "n_previous"), (w_last, "n_latest"))])
            pax.grid(axis="y", visible=False)
            _axis_format(pax, kpi)
            name = mathtext_escape(kpi_label(kpi))
            if _truthy(r["suppressed"]):
                pax.text(0.5, 0.5, _("{kpi}: suppressed (n < {n} in a wave)", kpi=name, n=min_n), ha="center",
                         va="center",
                         transform=pax.get_yaxis_transform(), fontstyle="italic")
                continue
            for y, key, face in ((1, "previous", "white"), (0, "latest", DARK)):
                v, lo, hi = vals[key], vals[f"{key}_ci_low"], vals[f"{key}_ci_high"]
                if not math.isfinite(v):
                    continue
                xerr = interval_errors(v, lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
                pax.errorbar([v], [y], xerr=xerr, **{"fmt": "o", "color": "black", "markerfacecolor": face,
                                                     "markeredgecolor": "black", "markersize": 7, "capsize": 4,
                                                     "elinewidth": 1.2, "zorder": 4, **kwargs})
                if xerr is not None:
                    label = _("{value} ({low} to {high})", value=format_kpi(kpi, v), low=format_kpi(kpi, lo),
                              high=format_kpi(kpi, hi))
                else:
                    label = format_kpi(kpi, v)
                right = hi if math.isfinite(hi) else v
                left = lo if math.isfinite(lo) else v
                if (right - xlo) / (xhi - xlo) <= 0.7:
                    pax.text(right + 0.015 * (xhi - xlo), y, label, ha="left", va="center", fontsize="small")
                else:
                    pax.text(left - 0.015 * (xhi - xlo), y, label, ha="right", va="center", fontsize="small")
            p, ch = _num(r["p_value"]), _num(r["change"])
            if math.isfinite(vals["previous"]) and math.isfinite(vals["latest"]) and ch != 0:
                pax.annotate("", xy=(vals["latest"], 0.12), xytext=(vals["previous"], 0.88),
                             arrowprops={"arrowstyle": "->", "color": MID, "linewidth": 1.0}, zorder=3)
            sig = _truthy(r["significant"])
            verdict = _("significant") if sig else _("not significant")
            if "test" in r.index and isinstance(r["test"], str):
                text = _("{kpi}: {change} ({test}, {p}, {verdict})", kpi=name, change=format_change(kpi, ch),
                         test=mathtext_escape(tr(r["test"])), p=format_p(p), verdict=verdict)
            else:
                text = _("{kpi}: {change} ({p}, {verdict})", kpi=name, change=format_change(kpi, ch), p=format_p(p),
                         verdict=verdict)
            pax.set_title(text, loc="left", fontsize=MIN_FONT_PT, fontweight="bold" if sig else "normal")
        panels[-1].set_xlabel(_("Open circle: {previous}; filled: {latest}; whiskers: {level} confidence interval",
                                previous=w_prev, latest=w_last, level=pct))
        # the verdicts are the panels' titles; the figure's title says what changed overall
        panels[0].figure.suptitle(_change_title(change, w_prev, w_last), fontweight="bold",
                                  fontsize=mpl.rcParams["axes.titlesize"])
    return panels


def _change_title(change: pd.DataFrame, w_prev: str, w_last: str) -> str:
    up, down, suppressed = [], [], []
    for _i, r in change.iterrows():
        name = mathtext_escape(kpi_short(str(r["kpi"])))
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
def plot_segment_means(groups: pd.DataFrame | dict[str, Any], *, ax: Axes | None = None,
                       label: str | None = None, level: float = 0.95, min_n: int = 5, **kwargs: Any) -> Axes:
    """Mean per segment with its confidence interval; suppressed segments named, without a value.

    Parameters
    ----------
    groups : pandas.DataFrame or dict
        The ``groups`` table of :func:`csm_helpers.analysis.segments.compare_means` (columns ``group, n,
        mean, ci_low, ci_high, suppressed``), or the whole dict it returns (then the title also
        gives the Welch ANOVA p-value).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    label : str, optional
        What the mean is of (x-axis label), e.g. "Overall satisfaction (1-5)".
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed segments).
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
        One row per segment in table order (top to bottom); ``ax.lines`` holds the points of
        the segments shown.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> g = pd.DataFrame({"group": ["North", "South", "Islands"], "n": [120, 95, 3],
    ...                   "mean": [3.9, 3.5, None], "ci_low": [3.75, 3.3, None],
    ...                   "ci_high": [4.05, 3.7, None], "suppressed": [False, False, True]})
    >>> ax = plot_segment_means(g)
    >>> ax.get_title()
    'Highest mean: North (3.90); lowest: South (3.50); 1 segment suppressed'
    >>> plt.close(ax.figure)
    """
    welch_p = math.nan
    if isinstance(groups, dict):
        wa = groups.get("welch_anova")
        if isinstance(wa, pd.DataFrame) and len(wa) and "p_value" in wa.columns:
            welch_p = _num(wa["p_value"].iloc[0])
        groups = groups.get("groups")
    require_table(groups, ["group", "n", "mean", "ci_low", "ci_high", "suppressed"], "segment means table",
             "compare_means()['groups']")
    k = len(groups)
    with drawing():
        if ax is None:
            _fig, ax = plt.subplots(figsize=(WIDTH, max(2.2, 0.38 * k + 1.3)), layout="constrained")
        if k == 0:
            return empty_chart(ax, _("Segment means: no segment to show"))
        y = np.arange(k)
        means = groups["mean"].to_numpy(float)
        lo = groups["ci_low"].to_numpy(float)
        hi = groups["ci_high"].to_numpy(float)
        supp = np.array([_truthy(v) for v in groups["suppressed"]])
        shown = ~supp & np.isfinite(means)
        finite = np.concatenate([means[shown], lo[shown & np.isfinite(lo)], hi[shown & np.isfinite(hi)]])
        if finite.size:
            span = max(float(finite.max() - finite.min()), 1e-9)
            xlo, xhi = float(finite.min()) - 0.15 * span, float(finite.max()) + 0.45 * span
        else:
            xlo, xhi = 0.0, 1.0
        ax.set_xlim(xlo, xhi)
        for yi in y[shown]:
            m, a, b = means[yi], lo[yi], hi[yi]
            xerr = interval_errors(m, a, b) if math.isfinite(a) and math.isfinite(b) else None
            ax.errorbar([m], [yi], xerr=xerr, **{"fmt": "o", "color": "black", "markerfacecolor": DARK,
                                                 "markersize": 6, "capsize": 4, "elinewidth": 1.2, "zorder": 3,
                                                 **kwargs})
            text = "  " + (_("{value} ({low} to {high})", value=f"{m:.2f}", low=f"{a:.2f}", high=f"{b:.2f}")
                           if xerr is not None else f"{m:.2f}")
            ax.text(b if math.isfinite(b) else m, yi, text, va="center", ha="left", fontsize="small")
        sizes = groups["n"].to_numpy(float)
        for yi in y[~shown]:
            why = (_("suppressed (n < {n})", n=min_n) if sizes[yi] < min_n  # else hidden to protect a smaller one
                   else _("suppressed (protects a smaller segment)"))
            ax.text(0.02, yi, why if supp[yi] else _("no answers"), va="center", ha="left",
                    fontstyle="italic", transform=ax.get_yaxis_transform())
        ax.set_yticks(y, [f"{short_label(g, 30)} ({format_count(n, suppressed=h, min_n=min_n, prefix=True)})"
                          for g, n, h in zip(groups["group"], groups["n"], supp, strict=True)])
        ax.set_ylim(k - 0.4, -0.6)
        ax.grid(axis="y", visible=False)
        level_txt = f"{level * 100:g}%"
        ax.set_xlabel(_("{label} — mean, {level} CI", label=mathtext_escape(label), level=level_txt) if label else
                      _("Mean with {level} confidence interval", level=level_txt))
        if shown.sum() == 0:
            title = _("Segment means: every segment suppressed")
        else:
            names = groups["group"].tolist()
            best = int(np.nanargmax(np.where(shown, means, -np.inf)))
            worst = int(np.nanargmin(np.where(shown, means, np.inf)))
            title = _("Highest mean: {segment} ({mean})", segment=short_label(names[best], 30), mean=f"{means[best]:.2f}")
            if shown.sum() > 1:
                title += "; " + _("lowest: {segment} ({mean})", segment=short_label(names[worst], 30),
                                  mean=f"{means[worst]:.2f}")
            if math.isfinite(welch_p):
                title += "; " + _("Welch ANOVA {p}", p=format_p(welch_p))
            n_supp = int(supp.sum())
            if n_supp:
                title += "; " + _("{k} segments suppressed" if n_supp > 1 else "{k} segment suppressed", k=n_supp)
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- scorecard
def plot_scorecard(scorecard: pd.DataFrame, *, ax: Axes | None = None, level: float = 0.95, min_n: int = 5,
                   **kwargs: Any) -> Axes:
    """The invisible scorecard: CSI (0-100) of product, process and people with intervals.

    Without a segment column, one bar per dimension; with one (the table of
    ``scorecard(..., by=...)``), one group of bars per dimension with one bar per segment,
    segments told apart by grey and hatching (legend below). Whiskers are the confidence
    intervals; every bar is labelled with its value; suppressed cells are labelled
    "suppressed (n < min_n)" with no bar.

    Parameters
    ----------
    scorecard : pandas.DataFrame
        From :func:`csm_helpers.analysis.kpis.scorecard`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    level : float
        Confidence level of the intervals (for the labels).
    min_n : int
        Minimum cell size (for the label of suppressed cells).
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
        The ``BarContainer`` objects in ``ax.containers`` hold the bars, one container per
        segment (one in all without segments), one bar per dimension; the whiskers are
        ``ErrorbarContainer`` objects.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> sc = pd.DataFrame({"dimension": ["product", "process", "people"], "n_items": [4, 4, 4],
    ...                    "n": [300, 300, 300], "value": [68.0, 61.5, 72.3], "ci_low": [66.0, 59.0, 70.0],
    ...                    "ci_high": [70.0, 64.0, 74.6], "method": ["t"] * 3, "suppressed": [False] * 3})
    >>> ax = plot_scorecard(sc)
    >>> ax.get_title()
    'Weakest dimension: process (61.5); strongest: people (72.3)'
    >>> plt.close(ax.figure)
    """
    require_table(scorecard, ["dimension", "n", "value", "ci_low", "ci_high", "suppressed"], "scorecard table",
             "scorecard()")
    standard = {"dimension", "n_items", "n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"}
    extra = [c for c in scorecard.columns if c not in standard]
    by = extra[0] if extra else None
    dims = list(dict.fromkeys(scorecard["dimension"]))
    segs = list(dict.fromkeys(scorecard[by])) if by else [None]
    n_d, n_s = len(dims), len(segs)
    with drawing():
        if ax is None:
            _fig, ax = plt.subplots(figsize=(WIDTH, max(2.2, 0.3 * n_d * n_s + 0.35 * n_d + 1.3)),
                                    layout="constrained")
        if len(scorecard) == 0:
            return empty_chart(ax, _("Invisible scorecard: nothing to show"))
        height = 0.8 / n_s
        ax.set_xlim(0, 118)
        cells = []
        for j, seg in enumerate(segs):
            sub = scorecard if by is None else scorecard[scorecard[by] == seg]
            face, hatch = _FILLS[j % len(_FILLS)] if by else (DARK, "")
            ys, vals, los, his, supp, ns = [], [], [], [], [], []
            for i, d in enumerate(dims):
                row = sub[sub["dimension"] == d]
                if not len(row):
                    continue
                r = row.iloc[0]
                ys.append(i - 0.4 + height * (j + 0.5))
                vals.append(_num(r["value"]))
                los.append(_num(r["ci_low"]))
                his.append(_num(r["ci_high"]))
                supp.append(_truthy(r["suppressed"]))
                ns.append(r["n"])
                cells.append((d, seg, _num(r["value"]), _truthy(r["suppressed"]), _num(r["ci_low"]),
                              _num(r["ci_high"])))
            v = np.array(vals, dtype=float)
            ok = np.isfinite(v) & ~np.array(supp, dtype=bool)
            label = f"{short_label(seg, 24)}" if by else _("CSI of the dimension")
            if by and not ok.any():
                label = (_("{segment} (suppressed)", segment=label) if any(supp) else
                         _("{segment} (no answers)", segment=label))
            ax.barh(np.array(ys), np.where(ok, v, 0.0), height=height * 0.9, **{
                "color": face, "hatch": hatch, "edgecolor": EDGE, "linewidth": 0.7, "label": label, "zorder": 2,
                **kwargs})
            for y, val, a, b, s, ok_i, n in zip(ys, v, los, his, supp, ok, ns, strict=True):
                if ok_i:
                    if math.isfinite(a) and math.isfinite(b):
                        ax.errorbar([val], [y], xerr=interval_errors(val, a, b), fmt="none", ecolor="black",
                                    elinewidth=1.0, capsize=3, zorder=4)
                    ax.text(b if math.isfinite(b) else val, y, f" {val:.1f} ({format_count(n, prefix=True)})", va="center",
                            ha="left", fontsize="small")
                else:
                    why = (_("suppressed (n < {n})", n=min_n) if n < min_n
                           else _("suppressed (protects a smaller segment)"))
                    ax.text(1, y, why if s else _("no answers"), va="center", ha="left",
                            fontstyle="italic", fontsize="small")
        n_items = {}
        if "n_items" in scorecard.columns:
            n_items = dict(zip(scorecard["dimension"], scorecard["n_items"], strict=False))
        ticks = []
        for d in dims:
            t = short_label(tr(str(d).capitalize()), 24)
            if d in n_items and by is None:
                k_items = int(n_items[d])
                t += "\n" + _("({k} items)" if k_items != 1 else "({k} item)", k=k_items)
            ticks.append(t)
        ax.set_yticks(np.arange(n_d), ticks)
        ax.set_ylim(n_d - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_xticks(np.arange(0, 101, 20))
        ax.set_xlabel(_("Dimension score, CSI 0-100 (whiskers: {level} confidence interval)",
                        level=f"{level * 100:g}%"))
        if by:
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles, labels, loc="lower right", frameon=True, framealpha=0.95, handlelength=1.6,
                      title=mathtext_escape(by))
        ax.set_title(_scorecard_title(cells, by is not None))
    return ax


def _scorecard_title(cells: list[tuple[Any, Any, float, bool, float, float]], segmented: bool) -> str:
    shown = [c for c in cells if not c[3] and math.isfinite(c[2])]
    if not shown:
        return _("Invisible scorecard: every score suppressed")
    worst = min(shown, key=lambda c: c[2])
    best = max(shown, key=lambda c: c[2])
    if segmented:
        title = (_("Lowest score: {dimension} in {segment} ({score})", dimension=short_label(tr(worst[0]), 24),
                   segment=short_label(worst[1], 24), score=f"{worst[2]:.1f}") + "; "
                 + _("highest: {dimension} in {segment} ({score})", dimension=short_label(tr(best[0]), 24),
                     segment=short_label(best[1], 24), score=f"{best[2]:.1f}"))
    else:
        title = _("Weakest dimension: {dimension} ({score})", dimension=short_label(tr(worst[0]), 24),
                  score=f"{worst[2]:.1f}")
        if len(shown) == 1:
            return title
        title += "; " + _("strongest: {dimension} ({score})", dimension=short_label(tr(best[0]), 24),
                          score=f"{best[2]:.1f}")
    if len(shown) > 1 and not worst[5] < best[4]:  # the intervals of the extremes overlap (or are unknown)
        title += "\n" + _("intervals overlap: the difference may be chance")
    return title
