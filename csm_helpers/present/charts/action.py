"""Charts of action planning and progress (stage 05).

Same look as :mod:`csm_helpers.present.charts.style`: shades of grey with hatching carry the meaning (never
colour alone), values are written on the chart, and the title says what the reader should
see. Labels from the data are escaped (``$`` is never read as mathtext). Call
:func:`csm_helpers.present.charts.style.set_report_style` first for the report look. No function calls
``plt.show()``.

- :func:`plot_priorities`: the priority list as ranked bars, shaded by IPA quadrant;
- :func:`plot_progress`: each KPI over the waves (small multiples) with its interval band,
  target line and significant changes marked;
- :func:`plot_swot`: the SWOT as a 2 x 2 grid of wrapped statements.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from csm_helpers.analysis.action import SWOT_CATEGORIES
from csm_helpers.analysis.drivers import CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import format_change, format_kpi, kpi_label, kpi_range, kpi_short
from csm_helpers.present.charts.style import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    LIGHT,
    MID,
    MIN_FONT_PT,
    WIDTH,
    drawing,
    empty_chart,
    fitted_legend,
    interval_errors,
    legend_below,
    mathtext_escape,
    require_table,
    short_label,
    tint,
)

__all__ = ["plot_priorities", "plot_progress", "plot_swot"]

# quadrant -> (face, hatch); distinguishable in grey-scale
_QUADRANT_STYLE = {
    CONCENTRATE: (BAD, ""),
    KEEP_UP: (GOOD, ""),
    LOW_PRIORITY: ("white", "...."),
    OVERKILL: (tint(MID, 0.3), "////"),
}


_PROGRESS_COLUMNS = {"wave", "kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target", "attainment",
                     "previous_wave", "change", "test", "statistic", "p_value", "significant", "suppressed", "note"}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", ":", "-.")
_SWOT_HEADERS = {"Strength": N_("Strengths"), "Weakness": N_("Weaknesses"), "Opportunity": N_("Opportunities"),
                 "Threat": N_("Threats")}
# category -> count in words (singular, plural)
_SWOT_COUNTS = {"Strength": (N_("{n} strength"), N_("{n} strengths")),
                "Weakness": (N_("{n} weakness"), N_("{n} weaknesses")),
                "Opportunity": (N_("{n} opportunity"), N_("{n} opportunities")),
                "Threat": (N_("{n} threat"), N_("{n} threats"))}
_SWOT_FACES = {"Strength": "white", "Weakness": "#f0f0f0", "Opportunity": "#f0f0f0", "Threat": "white"}


def _n(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _truthy(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and v is not pd.NA and bool(v)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else _("{names} and {last}", names=", ".join(names[:-1]), last=names[-1])


# --------------------------------------------------------------------------- priorities
def plot_priorities(priority: pd.DataFrame, top: int = 10, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The priority list as horizontal bars of the score, highest priority at the top.

    Each bar is the score (importance x gap) of one attribute, shaded by its IPA quadrant
    (dark: "Concentrate here"; mid grey: "Keep up the good work"; dotted white: "Low
    priority"; hatched light grey: "Possible overkill") and labelled with
    ``importance x gap`` and the reference the gap was measured to.

    Parameters
    ----------
    priority : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.priority_list`.
    top : int
        How many ranked attributes to draw.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` holds one bar per attribute drawn, in rank order (top to bottom).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> pr = pd.DataFrame({"rank": pd.array([1, 2], dtype="Int64"), "label": ["Fees", "Speed"],
    ...     "quadrant": ["Concentrate here", "Possible overkill"], "importance": [0.8, 0.5],
    ...     "gap": [1.0, 0.4], "score": [0.8, 0.2], "reference_type": ["target", "target"]})
    >>> ax = plot_priorities(pr)
    >>> ax.get_title()
    'Act first on Fees (score 0.8, Concentrate here)'
    >>> plt.close(ax.figure)
    """
    require_table(priority, ["rank", "label", "quadrant", "importance", "gap", "score"], "priority list",
             "priority_list()")
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise CsmError(f"The value for `top` must be a whole number >= 1, but {top!r} was passed.")
    t = priority[priority["rank"].notna()].sort_values("rank", kind="stable").head(int(top)).reset_index(drop=True)
    n = len(t)
    with drawing():
        ax = new_axes(ax, height=max(2.4, 0.34 * n + 1.4))
        if n == 0:
            return empty_chart(ax, _("Priority list: no attribute has a score"))
        y = np.arange(n)
        score = t["score"].to_numpy(float)
        quads = t["quadrant"].tolist()
        faces = [_QUADRANT_STYLE.get(q, ("white", ""))[0] for q in quads]
        bars = ax.barh(y, score, height=0.65, **{"color": faces, "edgecolor": EDGE, "linewidth": 0.7,
                                                 "zorder": 2, **kwargs})
        for bar, q in zip(bars, quads, strict=True):
            bar.set_hatch(_QUADRANT_STYLE.get(q, ("white", ""))[1])
        xmax = max(float(np.nanmax(score)), 1e-9)
        refs = t["reference_type"].tolist() if "reference_type" in t.columns else [None] * n
        for yi, s, i, g, ref in zip(y, score, t["importance"].to_numpy(float), t["gap"].to_numpy(float), refs,
                                    strict=True):
            if isinstance(ref, str):
                text = _("{score} = {importance} x {gap} to {reference}", score=f"{s:.2f}", importance=f"{i:.2f}",
                         gap=f"{g:.2f}", reference=mathtext_escape(tr(ref)))
            else:
                text = f"{s:.2f} = {i:.2f} x {g:.2f}"
            ax.text(s + 0.01 * xmax, yi, " " + text, va="center", ha="left", fontsize="small")
        ax.set_yticks(y, [f"{int(r)}. {short_label(lab, 34)}" for r, lab in zip(t["rank"], t["label"], strict=True)])
        ax.invert_yaxis()
        ax.set_xlim(0, xmax * 1.75)
        ax.set_xlabel(_("Priority score = importance x gap (label: importance x gap, reference of the gap)"))
        ax.grid(axis="y", visible=False)
        present = [q for q in _QUADRANT_STYLE if q in quads]
        handles = [Patch(facecolor=_QUADRANT_STYLE[q][0], hatch=_QUADRANT_STYLE[q][1], edgecolor=EDGE,
                         label=tr(q)) for q in present]
        if handles:
            legend_below(ax, handles)
        first = t.iloc[0]
        label, score_txt = short_label(first["label"], 40), f"{_n(first['score']):.2g}"
        if isinstance(first["quadrant"], str):
            title = _("Act first on {label} (score {score}, {quadrant})", label=label, score=score_txt,
                      quadrant=mathtext_escape(tr(first["quadrant"])))
        else:
            title = _("Act first on {label} (score {score})", label=label, score=score_txt)
        if priority.attrs.get("mixed_references"):
            title += "\n" + _("Caution: gaps measured to different references, not like-for-like")
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- progress
def plot_progress(progress: pd.DataFrame, *, ax: Axes | Sequence[Axes] | None = None, level: float = 0.95,
                  **kwargs: Any) -> np.ndarray:
    """Each KPI over the waves: one panel per KPI with interval band, target line and significant changes.

    Waves run left to right in table order. Without segments the estimate is a line with its
    confidence interval as a grey band; with segments (a ``by`` column) each segment is a line
    with its own marker and line style and the intervals are whiskers. A change significant
    against the previous wave is marked with a star and the change; the target is a dashed
    line. Suppressed points are left out and said so.

    Parameters
    ----------
    progress : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.progress`.
    ax : matplotlib Axes or sequence of Axes, optional
        None for a new figure (panels side by side, the figure title says what changed), one
        Axes to split into panels, or one Axes per KPI.
    level : float
        Confidence level of the intervals (legend text).
    **kwargs
        Passed to ``Axes.plot`` for the estimate lines.

    Returns
    -------
    numpy.ndarray of Axes
        One panel per KPI in table order; ``panels[i].lines[0]`` is the (first segment's)
        estimate line, one point per wave.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> pr = pd.DataFrame({"wave": ["W1", "W2"], "kpi": ["csi", "csi"], "n": [300, 310],
    ...     "value": [68.0, 72.0], "ci_low": [66.0, 70.0], "ci_high": [70.0, 74.0], "target": [75.0, 75.0],
    ...     "attainment": ["not met", "not met"], "change": [None, 4.0], "p_value": [None, 0.01],
    ...     "significant": [None, True], "suppressed": [False, False]})
    >>> panels = plot_progress(pr)
    >>> panels[0].figure.get_suptitle()
    'W1 to W2: CSI rose significantly; 0 of 1 targets met in W2'
    >>> plt.close(panels[0].figure)
    """
    require_table(progress, ["wave", "kpi", "value", "ci_low", "ci_high", "significant", "suppressed"], "progress table",
             "progress()")
    extra = [c for c in progress.columns if c not in _PROGRESS_COLUMNS]
    by = extra[0] if extra and progress.columns[0] == extra[0] else None
    kpi_list = list(dict.fromkeys(progress["kpi"]))
    waves = list(dict.fromkeys(progress["wave"]))
    k = len(kpi_list)
    pct = f"{level * 100:g}%"
    own = ax is None
    with drawing():
        panels = _panels(ax, k)
        if k == 0:
            empty_chart(panels[0], _("Progress: nothing to show"))
            return panels
        x_of = {w: i for i, w in enumerate(waves)}
        segments = list(dict.fromkeys(progress[by])) if by else [None]
        for pax, kpi in zip(panels, kpi_list, strict=True):
            sub_k = progress[progress["kpi"] == kpi]
            lo_r, hi_r = kpi_range(kpi)
            finite_vals: list[float] = []
            for si, seg in enumerate(segments):
                s = sub_k if seg is None else sub_k[sub_k[by] == seg]
                ok = ~s["suppressed"].astype(bool).to_numpy() & np.isfinite(s["value"].to_numpy(float))
                xs = np.array([x_of[w] for w in s["wave"]], dtype=float)
                v = s["value"].to_numpy(float)
                lo = s["ci_low"].to_numpy(float)
                hi = s["ci_high"].to_numpy(float)
                finite_vals += [*v[ok], *lo[ok & np.isfinite(lo)], *hi[ok & np.isfinite(hi)]]
                style = {"color": DARK if seg is None else "black", "marker": _MARKERS[si % len(_MARKERS)],
                         "linestyle": _LINESTYLES[si % len(_LINESTYLES)], "markersize": 5, "linewidth": 1.4,
                         "markerfacecolor": DARK if si % 2 == 0 else "white", "zorder": 4,
                         "label": _("estimate") if seg is None else short_label(seg, 24)}
                yv = np.where(ok, v, np.nan)
                pax.plot(xs, yv, **{**style, **kwargs})
                if seg is None:
                    band = ok & np.isfinite(lo) & np.isfinite(hi)
                    if band.any():
                        pax.fill_between(xs, np.where(band, lo, np.nan), np.where(band, hi, np.nan), color=LIGHT,
                                         alpha=0.8, zorder=1, linewidth=0, label=_("{level} CI", level=pct))
                    for xi, vi, okk in zip(xs, v, ok, strict=True):
                        if okk:
                            pax.annotate(format_kpi(kpi, vi), (xi, vi), xytext=(0, -11), textcoords="offset points",
                                         ha="center", va="top", fontsize="x-small", zorder=6)
                else:
                    e = ok & np.isfinite(lo) & np.isfinite(hi)
                    if e.any():
                        pax.errorbar(xs[e], v[e], yerr=interval_errors(v[e], lo[e], hi[e]), fmt="none", ecolor=MID,
                                     elinewidth=0.9, capsize=2, zorder=3)
                for xi, vi, okk, sig, ch in zip(xs, v, ok, s["significant"], s["change"] if "change" in s.columns
                                                else [math.nan] * len(s), strict=True):
                    if okk and _truthy(sig):
                        pax.plot([xi], [vi], marker="*", markersize=12, color="black", markerfacecolor="white",
                                 linestyle="none", zorder=5)
                        if seg is None:  # with segments the stars alone, or the labels would collide
                            pax.annotate(format_change(kpi, _n(ch)), (xi, vi), xytext=(0, 8),
                                         textcoords="offset points", ha="center", va="bottom", fontsize="x-small",
                                         fontweight="bold", zorder=6)
                for xi, sup in zip(xs, s["suppressed"].astype(bool), strict=True):
                    if sup:
                        pax.text(xi, 0.04, _("suppressed"), transform=pax.get_xaxis_transform(), ha="center",
                                 va="bottom", fontsize="x-small", fontstyle="italic", rotation=90 if by else 0)
            targets = sub_k["target"].to_numpy(float) if "target" in sub_k.columns else np.array([])
            targets = targets[np.isfinite(targets)]
            if len(targets):
                tgt = float(targets[-1])
                pax.axhline(tgt, color="black", linestyle="--", linewidth=1.0, zorder=2, label=_("target"))
                pax.annotate(_("target {value}", value=format_kpi(kpi, tgt)), (1.0, tgt), xycoords=("axes fraction", "data"),
                             xytext=(-2, 2), textcoords="offset points", ha="right", va="bottom",
                             fontsize="x-small")
                finite_vals.append(tgt)
            if finite_vals:
                a, b = min(finite_vals), max(finite_vals)
                pad = 0.18 * (b - a or abs(b) or 1.0)
                lo_l, hi_l = a - pad, b + pad
                if math.isfinite(lo_r):
                    lo_l, hi_l = max(lo_l, lo_r), min(hi_l, hi_r)
                pax.set_ylim(lo_l, hi_l)
            if kpi == "csat_top2":
                pax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v * 100:.0f}%"))
            pax.set_xticks(range(len(waves)), [short_label(w, 12) for w in waves],
                           rotation=30 if len(waves) * k > 4 else 0, ha="right" if len(waves) * k > 4 else "center")
            pax.set_xlim(-0.5, len(waves) - 0.5)
            pax.grid(axis="x", visible=False)
            pax.set_title(mathtext_escape(kpi_label(kpi)), fontsize="medium")
        handles, labels = panels[0].get_legend_handles_labels()
        for pax in panels[1:]:
            for h, lab in zip(*pax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        sig_label = _("significant change vs previous wave")
        handles.append(Line2D([], [], marker="*", markersize=10, color="black", markerfacecolor="white",
                              linestyle="none", label=sig_label))
        labels.append(sig_label)
        fig = panels[0].figure
        title = _progress_title(progress, waves)
        if own:
            fitted_legend(fig, handles, labels, loc="outside lower center", ncol=min(4, len(handles)), frameon=False,
                       fontsize="small")
            fig.suptitle(title, fontweight="bold")
        else:
            fitted_legend(panels[len(panels) // 2], handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                                            ncol=min(4, len(handles)), frameon=False, fontsize="small")
            panels[0].set_title(title + "\n" + panels[0].get_title(), fontsize="medium")
    return panels


def _progress_title(progress: pd.DataFrame, waves: list[Any]) -> str:
    if len(waves) == 1:
        return _("Single wave ({wave}): no change to test yet", wave=mathtext_escape(waves[0]))
    extra = [c for c in progress.columns if c not in _PROGRESS_COLUMNS]
    segmented = bool(extra) and progress.columns[0] == extra[0]
    last = progress[progress["wave"] == waves[-1]]
    up, down = [], []
    for kpi in dict.fromkeys(last["kpi"]):
        r = last[last["kpi"] == kpi]
        sig = r[[_truthy(s) for s in r["significant"]]]
        name = mathtext_escape(kpi_short(kpi))
        if len(sig) and (sig["change"].astype(float) > 0).any():
            up.append(name)
        if len(sig) and (sig["change"].astype(float) < 0).any():
            down.append(name)
    parts = []
    if up:
        parts.append(_("{kpis} rose significantly in some segments" if segmented else "{kpis} rose significantly",
                       kpis=_names(up)))
    if down:
        parts.append(_("{kpis} fell significantly in some segments" if segmented else "{kpis} fell significantly",
                       kpis=_names(down)))
    if not parts:
        parts.append(_("no significant change"))
    title = _("{previous} to {latest}: {changes}", previous=mathtext_escape(waves[-2]), latest=mathtext_escape(waves[-1]),
              changes="; ".join(parts))
    if "attainment" in last.columns and not segmented:
        measurable = last[last["attainment"].isin(["met", "not met"])]
        if len(measurable):
            title += "; " + _("{met} of {n} targets met in {wave}", met=int((measurable["attainment"] == "met").sum()),
                              n=len(measurable), wave=mathtext_escape(waves[-1]))
    return title


def _panels(ax: Axes | Sequence[Axes] | None, k: int) -> np.ndarray:
    """``k`` panels side by side: a new figure, a split of one Axes, or the Axes given."""
    if ax is None:
        _fig, axes = plt.subplots(1, max(k, 1), figsize=(WIDTH, 3.3), layout="constrained", squeeze=False)
        return axes[0, :]
    if isinstance(ax, Axes):
        if k <= 1:
            return np.array([ax])
        ax.set_axis_off()
        gap = 0.3 / k
        w = (1.0 - gap * (k - 1)) / k
        return np.array([ax.inset_axes((i * (w + gap), 0.0, w, 1.0)) for i in range(k)])
    axes = np.asarray(list(ax), dtype=object)
    if len(axes) != k:
        raise CsmError(f"ax: pass one Axes or {k} Axes (one per KPI), but {len(axes)} were passed")
    return axes


# --------------------------------------------------------------------------- SWOT
def plot_swot(swot: pd.DataFrame, *, ax: Axes | None = None, max_items: int = 6, fontsize: float = MIN_FONT_PT,
              **kwargs: Any) -> Axes:
    """The SWOT as a 2 x 2 grid: strengths and weaknesses on top, opportunities and threats below.

    Each cell lists the entries' statements as wrapped bullet points, most important first;
    what does not fit (more than ``max_items`` entries, or more lines than the cell holds) is
    summarised as "+ k more (see the table)". The evidence behind each entry is in the table
    from :func:`csm_helpers.analysis.action.swot`.

    Parameters
    ----------
    swot : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.swot`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    max_items : int
        Entries shown per cell at most.
    fontsize : float
        Font size of the statements (points).
    **kwargs
        Passed to ``Axes.text`` for the statements.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.patches`` hold the four cells (strengths, weaknesses, opportunities, threats);
        ``ax.texts`` the headers and the statements.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> s = pd.DataFrame({"category": ["Strength", "Threat"], "attribute": ["staff", "fees"],
    ...     "label": ["Staff", "Fees"], "statement": ["Staff: important and performing well.",
    ...     "Fees: significantly worse than the competitor."], "evidence": ["...", "..."]})
    >>> ax = plot_swot(s)
    >>> ax.get_title()
    'SWOT from the data: 1 strength, 0 weaknesses, 0 opportunities, 1 threat'
    >>> plt.close(ax.figure)
    """
    require_table(swot, ["category", "statement"], "SWOT table", "swot()")
    if isinstance(max_items, bool) or not isinstance(max_items, int | np.integer) or max_items < 1:
        raise CsmError(f"The value for `max_items` must be a whole number >= 1, but {max_items!r} was passed.")
    with drawing():
        ax = new_axes(ax, height=6.5)  # four cells of 11 pt text
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        fig = ax.figure
        fig.canvas.draw()  # the axes size in pixels decides the wrapping
        bbox = ax.get_window_extent()
        px_per_pt = fig.dpi / 72.0
        cell_w_pt = bbox.width / 2 / px_per_pt
        cell_h_pt = bbox.height / 2 / px_per_pt
        pad = 0.015
        line_pt = fontsize * 1.3
        chars = max(12, int((cell_w_pt * (1 - 4 * pad)) / (fontsize * 0.56)))
        max_lines = max(2, int((cell_h_pt * (1 - 2 * pad * 2)) / line_pt) - 2)
        cells = {"Strength": (0.0, 0.5), "Weakness": (0.5, 0.5), "Opportunity": (0.0, 0.0), "Threat": (0.5, 0.0)}
        counts = {}
        for cat in SWOT_CATEGORIES:
            x0, y0 = cells[cat]
            ax.add_patch(Rectangle((x0 + pad / 2, y0 + pad / 2), 0.5 - pad, 0.5 - pad, transform=ax.transAxes,
                                   facecolor=_SWOT_FACES[cat], edgecolor=EDGE, linewidth=0.8, clip_on=False))
            rows = swot[swot["category"] == cat]
            counts[cat] = len(rows)
            ax.text(x0 + 2 * pad, y0 + 0.5 - 2 * pad, f"{tr(_SWOT_HEADERS[cat])} ({len(rows)})", transform=ax.transAxes,
                    ha="left", va="top", fontweight="bold", fontsize=fontsize + 1.5)
            lines: list[str] = []
            shown = 0
            for statement in rows["statement"].astype(str):
                wrapped = textwrap.wrap(" ".join(statement.split()), width=chars - 2) or [""]
                block = ["• " + wrapped[0], *("  " + w for w in wrapped[1:])]
                if shown >= max_items or len(lines) + len(block) > max_lines - 1:
                    break
                lines += block
                shown += 1
            if shown < len(rows):
                lines.append(_("+ {k} more (see the table)", k=len(rows) - shown))
            if not len(rows):
                lines = [_("none found in the data")]
            ax.text(x0 + 2 * pad, y0 + 0.5 - 2 * pad - (fontsize + 4) / cell_h_pt / 2, mathtext_escape("\n".join(lines)),
                    transform=ax.transAxes, ha="left", va="top", linespacing=1.3,
                    **{"fontsize": fontsize, "fontstyle": "italic" if not len(rows) else "normal", **kwargs})

        def word(cat: str, n: int) -> str:
            singular, plural = _SWOT_COUNTS[cat]
            return tr(singular if n == 1 else plural, n=n)

        ax.set_title(_("SWOT from the data: {counts}", counts=", ".join(word(c, counts[c]) for c in SWOT_CATEGORIES)))
    return ax


def new_axes(ax: Axes | None, *, height: float) -> Axes:
    if ax is None:
        _fig, ax = plt.subplots(figsize=(WIDTH, height), layout="constrained")
    return ax
