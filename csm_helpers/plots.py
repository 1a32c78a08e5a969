"""Charts of the goal-setting (01) and discovery (02) reports.

Every function draws on ``ax`` (a new figure when ``ax`` is None), returns the Axes and passes
``**kwargs`` to the main matplotlib call, as seaborn does. Charts are made for print: shades of
grey with hatching and value labels carry the meaning, never colour alone; the title says what
the reader should see. :func:`set_report_style` sets the common look (fonts with Chinese and
Vietnamese glyphs when installed). No function calls ``plt.show()``.

Labels can hold customer wording: ``$`` is escaped so that matplotlib never reads it as the
start of a mathematical expression, and TeX rendering is switched off while drawing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from .errors import CsmError, DataError
from .goals import READINESS_STATUSES, readiness_summary, self_assessment_summary
from .i18n import N_, _, tr

__all__ = [
    "REPORT_FONTS",
    "set_report_style",
    "plot_self_assessment",
    "plot_readiness",
    "plot_affinity",
    "plot_perception_gap",
    "plot_saturation",
    "interval_errors",
]

#: Fonts tried in order for report charts: CJK fonts that also cover Vietnamese, then DejaVu
#: Sans (matplotlib's own font). Missing fonts are skipped.
REPORT_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Microsoft YaHei",
                "PingFang SC", "WenQuanYi Zen Hei", "DejaVu Sans")

_WIDTH = 7.0
_DARK = "#3a3a3a"
_MID = "#8a8a8a"
_LIGHT = "#d4d4d4"
_EDGE = "black"

# Readiness status -> (face colour, hatch, legend label); distinguishable in grey-scale.
_STATUS_STYLE = {
    "done": (_DARK, "", N_("done")),
    "in_progress": (_MID, "///", N_("in progress")),
    "not_started": ("white", "...", N_("not started")),
    "not_applicable": (_LIGHT, "", N_("not applicable")),
    "not recorded": ("white", "xx", N_("not recorded")),
}


# --------------------------------------------------------------------------- style
def bundled_font() -> str | None:
    """Path of the Noto Sans CJK SC font installed with the ``mplfonts`` package, if present.

    Noto Sans CJK SC (SIL Open Font License) has the Chinese glyphs and every Vietnamese
    letter with its diacritics, so charts in all three report languages render without tofu
    on a machine with no system CJK font. Nothing is downloaded: the font is inside the wheel.
    """
    try:
        import mplfonts
    except ImportError:  # pragma: no cover - a dependency; charts then use system fonts
        return None
    from pathlib import Path

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return str(path) if path.is_file() else None


def _register_bundled_font() -> None:
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    path = bundled_font()
    if path and "Noto Sans CJK SC" not in installed:
        mpl.font_manager.fontManager.addfont(path)


def set_report_style() -> None:
    """Set the look of every report chart (idempotent: calling it twice changes nothing).

    Seaborn's ``whitegrid`` theme in the ``paper`` context, 7 x 3.5 in figures at 110 dpi,
    small fonts, TeX off, and the first installed font of :data:`REPORT_FONTS` (Noto Sans CJK
    has Chinese, Japanese and Vietnamese glyphs), falling back to DejaVu Sans glyph by glyph.

    Examples
    --------
    >>> set_report_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.dpi"], mpl.rcParams["text.usetex"]
    (110.0, False)
    """
    _register_bundled_font()
    installed = {f.name for f in mpl.font_manager.fontManager.ttflist}
    fonts = [f for f in REPORT_FONTS if f in installed]
    defaults = [f for f in mpl.rcParamsDefault["font.sans-serif"] if f not in fonts]
    sns.set_theme(
        context="paper",
        style="whitegrid",
        rc={
            "figure.figsize": (_WIDTH, 3.5),
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "font.family": "sans-serif",
            "font.sans-serif": fonts + defaults,
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "legend.title_fontsize": 8,
            "text.usetex": False,
            "text.parse_math": True,  # needed so that an escaped \\$ shows as $
            "axes.unicode_minus": True,
            "hatch.linewidth": 0.6,
            "pdf.fonttype": 42,
            "svg.fonttype": "path",
        },
    )


# --------------------------------------------------------------------------- goal-setting
def plot_self_assessment(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Self-assessment: score vs maximum points per item, with the gap hatched and labelled.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`csm_helpers.goals.self_assessment`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.barh`` for the score bars.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds the maximum bars (hatched: the gap shows where they stick
        out), ``ax.containers[1]`` the score bars, one per item in table order (top to bottom).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> table = pd.DataFrame({"item": ["4.3.1", "4.3.2"], "label": ["Understanding", "Relationships"],
    ...                       "points": [40.0, 50.0], "score_pct": [60.0, 40.0],
    ...                       "score_points": [24.0, 20.0], "gap_points": [16.0, 30.0]})
    >>> ax = plot_self_assessment(table)
    >>> ax.get_title()
    'Self-assessment: 44 of 90 points (49%); largest gap 4.3.2 (30 points)'
    >>> plt.close(ax.figure)
    """
    _require(table, ["item", "label", "points", "score_points"], "self-assessment table", "self_assessment()")
    n = len(table)
    with _drawing():
        ax = _axes(ax, height=max(2.0, 0.42 * n + 1.3))
        if n == 0:
            return _empty(ax, _("Self-assessment: no item to show"))
        y = np.arange(n)
        points = table["points"].to_numpy(float)
        score = table["score_points"].to_numpy(float)
        assessed = ~np.isnan(score)
        ax.barh(y, points, height=0.6, color="white", edgecolor=_EDGE, hatch="///", linewidth=0.8,
                label=_("gap to maximum"), zorder=2)
        ax.barh(y, np.where(assessed, score, 0.0), height=0.6, **{
            "color": _DARK, "edgecolor": _EDGE, "linewidth": 0.8, "label": _("score"), "zorder": 3, **kwargs})
        for yi, p, s, ok in zip(y, points, score, assessed, strict=True):
            text = (_("{score} / {maximum}, gap {gap}", score=_num(s), maximum=_num(p), gap=_num(p - s)) if ok
                    else _("not assessed (max {maximum})", maximum=_num(p)))
            ax.text(p, yi, "  " + text, va="center", ha="left", fontsize="small")
        labels = [_short(f"{i} {lab}" if str(lab) != str(i) else str(i), 42)
                  for i, lab in zip(table["item"], table["label"], strict=True)]
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, np.nanmax(points) * 1.45)
        ax.set_xlabel(_("Points"))
        ax.grid(axis="y", visible=False)
        _legend_below(ax)
        s = self_assessment_summary(table)
        if s["n_assessed"] == 0:
            title = _("Self-assessment: no item assessed yet")
        else:
            gaps = np.where(assessed, points - score, -np.inf)
            worst = int(np.argmax(gaps))
            title = _("Self-assessment: {total} of {maximum} points ({pct}%); largest gap {item} ({gap} points)",
                      total=_num(s["total_points"]), maximum=_num(s["max_points"]), pct=f"{s['pct']:.0f}",
                      item=_short(table["item"].iloc[worst], 20), gap=_num(gaps[worst]))
            if s["not_assessed"]:
                k = len(s["not_assessed"])
                title += "\n" + _("{k} items not assessed, left out of the total" if k > 1 else
                                  "{k} item not assessed, left out of the total", k=k)
        ax.set_title(title)
    return ax


def plot_readiness(checklist: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Readiness as a strip of the eleven goal-setting steps, each shaded by its status.

    Parameters
    ----------
    checklist : pandas.DataFrame
        From :func:`csm_helpers.goals.readiness_checklist`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds one bar per step; the legend counts the steps per status.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from csm_helpers.goals import readiness_checklist
    >>> ax = plot_readiness(readiness_checklist(None))
    >>> ax.get_title()
    'Readiness: 0 of 11 steps done; not ready (open: steps 1-11)'
    >>> plt.close(ax.figure)
    """
    _require(checklist, ["step", "status"], "readiness checklist", "readiness_checklist()")
    summary = readiness_summary(checklist)
    with _drawing():
        ax = _axes(ax, height=1.9)
        if len(checklist) == 0:
            return _empty(ax, _("Readiness: no step to show"))
        steps = checklist["step"].to_numpy(int)
        statuses = checklist["status"].tolist()
        faces = [_STATUS_STYLE[s][0] for s in statuses]
        bars = ax.bar(steps, 1.0, width=0.9, **{"color": faces, "edgecolor": _EDGE, "linewidth": 0.8, **kwargs})
        for bar, status in zip(bars, statuses, strict=True):
            bar.set_hatch(_STATUS_STYLE[status][1])
        for x, face in zip(steps, faces, strict=True):
            ax.text(x, 0.5, str(x), ha="center", va="center", fontweight="bold",
                    color="white" if face == _DARK else "black",
                    bbox=None if face == _DARK else {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
        handles = [Patch(facecolor=_STATUS_STYLE[s][0], hatch=_STATUS_STYLE[s][1], edgecolor=_EDGE,
                         label=f"{tr(_STATUS_STYLE[s][2])} ({summary['counts'][s]})")
                   for s in READINESS_STATUSES if summary["counts"][s]]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=len(handles),
                  frameon=False, handlelength=1.6)
        ax.set_xticks([])
        ax.set_xlim(steps.min() - 0.6, steps.max() + 0.6)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_xlabel(_("Goal-setting steps (numbered as in the checklist)"))
        ax.grid(False)
        applicable = summary["n_steps"] - summary["counts"]["not_applicable"]
        done = summary["counts"]["done"]
        if summary["ready"]:
            title = _("Readiness: {done} of {applicable} steps done; ready", done=done, applicable=applicable)
        else:
            title = _("Readiness: {done} of {applicable} steps done; not ready (open: {steps})", done=done,
                      applicable=applicable, steps=_ranges(summary["open_steps"]))
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- discovery
def plot_affinity(affinity: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Mentions per attribute grouped by dimension, customer side stacked with company side.

    Parameters
    ----------
    affinity : pandas.DataFrame
        From :func:`csm_helpers.discovery.affinity_table` (its order is kept: dimension, then
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
    >>> import matplotlib; matplotlib.use("Agg")
    >>> aff = pd.DataFrame({"dimension": ["product", "process"], "theme": ["Price", "Speed"],
    ...                     "attribute": ["fees", "queue"], "label": ["Fees", "Queues"],
    ...                     "mentions": [5, 3], "customer_mentions": [4, 3], "company_mentions": [1, 0],
    ...                     "share": [0.5, 0.3]})
    >>> ax = plot_affinity(aff)
    >>> ax.get_title()
    'Most raised: Fees (5 of 10 interviews)'
    >>> plt.close(ax.figure)
    """
    _require(affinity, ["dimension", "label", "mentions", "customer_mentions", "company_mentions"],
             "affinity table", "affinity_table()")
    dims = list(dict.fromkeys(affinity["dimension"]))
    n = len(affinity)
    with _drawing():
        ax = _axes(ax, height=max(2.5, 0.24 * (n + len(dims)) + 1.2))
        if n == 0:
            return _empty(ax, _("Affinity diagram: no attribute to show"))
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
        ax.barh(y_attr, cust, height=0.7, **{"color": _DARK, "edgecolor": _EDGE, "linewidth": 0.6,
                                              "label": _("customer side"), **kwargs})
        ax.barh(y_attr, comp, left=cust, height=0.7, color="white", edgecolor=_EDGE, linewidth=0.6,
                hatch="////", label=_("company side"))
        for yi, t in zip(y_attr, total, strict=True):
            ax.text(max(t, 0), yi, f" {t:.0f}", va="center", ha="left", fontsize="small")
        for ys, d in headers:
            ax.text(0, ys, _esc(tr(str(d).capitalize())), va="center", ha="left", fontweight="bold")
        ax.set_yticks(y_attr, [_short(v, 36) for v in affinity["label"]])
        ax.set_ylim(slot - 0.4, -0.6)
        ax.set_xlim(0, max(1.0, float(np.nanmax(total))) * 1.15)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_("Interviews mentioning the attribute"))
        ax.grid(axis="y", visible=False)
        _legend_below(ax)
        if np.nanmax(total) <= 0:
            title = _("No attribute was raised in the interviews")
        else:
            top = int(np.nanargmax(total))
            share = affinity["share"].iloc[top] if "share" in affinity.columns else math.nan
            label, n_top = _short(affinity["label"].iloc[top], 40), f"{total[top]:.0f}"
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
        From :func:`csm_helpers.discovery.perception_gap`; drawn largest gap at the top.
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
    >>> import matplotlib; matplotlib.use("Agg")
    >>> gap = pd.DataFrame({"attribute": ["queue", "price"], "label": ["Queues", "Price"],
    ...                     "share_customer": [0.8, 0.4], "share_company": [0.2, 0.5],
    ...                     "gap": [0.6, -0.1], "flag": ["company under-rates", "aligned"]})
    >>> ax = plot_perception_gap(gap)
    >>> ax.get_title()
    'Company under-rates 1 and over-rates 0 of 2 attributes'
    >>> plt.close(ax.figure)
    """
    _require(gap, ["label", "share_customer", "share_company", "gap", "flag"], "perception gap table",
             "perception_gap()")
    g = gap.sort_values("gap", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    n = len(g)
    with _drawing():
        ax = _axes(ax, height=max(2.5, 0.26 * n + 1.2))
        if n == 0:
            return _empty(ax, _("Perception gap: no attribute to show"))
        y = np.arange(n)
        sc = g["share_customer"].to_numpy(float)
        sk = g["share_company"].to_numpy(float)
        ax.hlines(y, np.fmin(sc, sk), np.fmax(sc, sk), color=_MID, linewidth=2, zorder=1)
        ax.scatter(sc, y, **{"s": 36, "marker": "o", "color": _DARK, "edgecolor": _EDGE, "zorder": 3,
                             "label": _("customer side"), **kwargs})
        ax.scatter(sk, y, **{"s": 36, "marker": "s", "color": "white", "edgecolor": _EDGE, "linewidth": 1,
                             "zorder": 3, "label": _("company side"), **kwargs})
        flags = g["flag"].tolist()
        for yi, a, b, d, f in zip(y, sc, sk, g["gap"].to_numpy(float), flags, strict=True):
            if f in ("company under-rates", "company over-rates"):
                ax.text(max(a, b) + 0.03, yi, _("{change} pts", change=f"{d * 100:+.0f}".replace("-", "\u2212")),
                        va="center", ha="left",
                        fontsize="small", fontweight="bold")
        ax.set_yticks(y, [_short(v, 36) for v in g["label"]])
        ax.invert_yaxis()
        ax.set_xlim(-0.03, 1.16)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(_("Share of interviews on that side mentioning the attribute"))
        ax.grid(axis="y", visible=False)
        _legend_below(ax)
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
        From :func:`csm_helpers.discovery.saturation_curve`.
    verdict : dict
        From :func:`csm_helpers.discovery.saturation_verdict` (keys ``saturated``, ``k``,
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
    >>> import matplotlib; matplotlib.use("Agg")
    >>> curve = pd.DataFrame({"position": [1, 2, 3, 4], "new_attributes": [3, 1, 0, 0],
    ...                       "cumulative": [3, 4, 4, 4]})
    >>> verdict = {"saturated": True, "k": 2, "last_new_at": 2, "n_interviews": 4, "n_attributes": 4}
    >>> ax = plot_saturation(curve, verdict)
    >>> ax.get_title()
    'Saturated: the last 2 interviews added no new attribute (4 found)'
    >>> plt.close(ax.figure)
    """
    _require(curve, ["position", "new_attributes", "cumulative"], "saturation curve", "saturation_curve()")
    missing = [key for key in ("saturated", "k", "last_new_at") if key not in verdict]
    if missing:
        raise DataError(f"saturation verdict: key {', '.join(map(repr, missing))} is missing — pass the dict "
                        "saturation_verdict() returns")
    n = len(curve)
    k = int(verdict["k"])
    with _drawing():
        ax = _axes(ax, height=3.2)
        if n == 0:
            return _empty(ax, _("Saturation: no interview to show"))
        x = curve["position"].to_numpy(float)
        cum = curve["cumulative"].to_numpy(float)
        new = curve["new_attributes"].to_numpy(float)
        if n >= k:
            ax.axvspan(x[-k] - 0.5, x[-1] + 0.5, facecolor=_LIGHT, edgecolor=_MID, hatch="..", alpha=0.6,
                       zorder=0, label=_("last {k} interviews" if k > 1 else "last {k} interview", k=k))
        ax.bar(x, new, width=0.6, color="white", edgecolor=_EDGE, hatch="////", linewidth=0.6, zorder=2,
               label=_("new attributes in the interview"))
        ax.plot(x, cum, **{"color": _DARK, "marker": "o", "markersize": 4, "linewidth": 1.6, "zorder": 3,
                           "label": _("distinct attributes so far"), **kwargs})
        last = verdict.get("last_new_at")
        if last is not None:
            ax.axvline(last, color=_DARK, linestyle="--", linewidth=0.9, zorder=1)
            ax.annotate(_("last new attribute"), (last, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -3),
                        textcoords="offset points", fontsize="small", ha="right", va="top")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(x.min() - 0.6, x.max() + 0.6)
        ax.set_ylim(0, max(1.0, float(np.nanmax(cum))) * 1.15)
        ax.set_xlabel(_("Interview (in order)"))
        ax.set_ylabel(_("Attributes"))
        _legend_below(ax)
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


# --------------------------------------------------------------------------- intervals
def interval_errors(value: Any, low: Any, high: Any) -> np.ndarray:
    """Error-bar extents ``[[value - low], [high - value]]`` for ``Axes.errorbar``, never negative.

    Every chart that draws a confidence interval goes through this one function. An interval
    may legitimately end at its estimate (a CSAT of 0 % or 100 % has a Wilson interval that
    ends there) or, as with the adjusted-Wald NPS interval (Rocks 2016), not contain the raw
    estimate at all; floating-point noise can then make ``value - low`` a tiny negative
    number, which matplotlib refuses (``'xerr' must not contain negative values``). Such a
    side is drawn with zero length. A bound that is not finite also gives zero length on
    that side, so callers choose which rows have an interval before drawing.

    Parameters
    ----------
    value, low, high
        Scalars or array-likes of the same length: estimates and their interval bounds.

    Returns
    -------
    numpy.ndarray
        Shape ``(2, n)``: the lower and the upper extents, each ``>= 0``.

    Examples
    --------
    >>> interval_errors(1.0, 0.9, 1.0 - 1e-17).tolist()
    [[0.09999999999999998], [0.0]]
    >>> interval_errors([0.5, 0.0], [0.4, 1e-18], [0.6, 0.1]).round(3).tolist()
    [[0.1, 0.0], [0.1, 0.1]]
    """
    v, lo, hi = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (value, low, high))
    below = np.where(np.isfinite(lo) & np.isfinite(v), v - lo, 0.0)
    above = np.where(np.isfinite(hi) & np.isfinite(v), hi - v, 0.0)
    return np.clip(np.vstack([below, above]), 0.0, None)


# --------------------------------------------------------------------------- internals
@contextmanager
def _drawing() -> Iterator[None]:
    """Draw with TeX off, so that escaped customer text is never read as markup."""
    with mpl.rc_context({"text.usetex": False}):
        yield


def _axes(ax: Axes | None, *, height: float) -> Axes:
    if ax is None:
        _fig, ax = plt.subplots(figsize=(_WIDTH, height), layout="constrained")
    return ax


def _legend_below(ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(handles),
              frameon=False, handlelength=1.6)


def _empty(ax: Axes, title: str) -> Axes:
    ax.text(0.5, 0.5, _("nothing to show"), ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def _esc(text: Any) -> str:
    """Escape ``$`` so that matplotlib never parses customer text as mathtext."""
    return str(text).replace("$", r"\$")


def _short(text: Any, width: int) -> str:
    """Escape, and cut a long label to ``width`` characters with an ellipsis."""
    s = " ".join(str(text).split())
    if len(s) > width:
        s = s[: width - 1].rstrip() + "…"
    return _esc(s)


def _num(v: float) -> str:
    return f"{v:.4g}"


def _ranges(steps: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``'steps 1-3, 5'`` (in the report language)."""
    parts = []
    run: list[int] = []
    for s in steps:
        if run and s == run[-1] + 1:
            run.append(s)
        else:
            if run:
                parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
            run = [s]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
    return _("step {steps}" if len(steps) == 1 else "steps {steps}", steps=", ".join(parts))


def _require(data: Any, columns: list[str], what: str, maker: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        found = ", ".join(map(str, data.columns)) or "no columns"
        raise DataError(f"{what}: column {', '.join(repr(m) for m in missing)} is missing (found: {found}) — "
                        f"pass the table {maker} returns")
