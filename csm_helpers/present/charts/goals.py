"""Charts of the goal-setting report (stage 01): the self-assessment and the readiness checklist.

Conventions: :mod:`csm_helpers.present.charts`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from csm_helpers.analysis.goals import READINESS_STATUSES, readiness_summary, self_assessment_summary
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.charts.style import (
    BAD,
    DARK,
    EDGE,
    GOOD,
    LIGHT,
    WARN,
    drawing,
    empty_chart,
    legend_below,
    new_axes,
    require_table,
    short_label,
    tint,
)

__all__ = ["plot_self_assessment", "plot_readiness"]

# Readiness status -> (face colour, hatch, legend label); distinguishable in grey-scale.
_STATUS_STYLE = {
    "done": (GOOD, "", N_("done")),
    "in_progress": (WARN, "///", N_("in progress")),
    "not_started": (tint(BAD, 0.5), "...", N_("not started")),
    "not_applicable": (LIGHT, "", N_("not applicable")),
    "not recorded": ("white", "xx", N_("not recorded")),
}


# --------------------------------------------------------------------------- goal-setting
def plot_self_assessment(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Self-assessment: score vs maximum points per item, with the gap hatched and labelled.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`csm_helpers.analysis.goals.self_assessment`.
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
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> table = pd.DataFrame({"item": ["4.3.1", "4.3.2"], "label": ["Understanding", "Relationships"],
    ...                       "points": [40.0, 50.0], "score_pct": [60.0, 40.0],
    ...                       "score_points": [24.0, 20.0], "gap_points": [16.0, 30.0]})
    >>> ax = plot_self_assessment(table)
    >>> ax.get_title()
    'Self-assessment: 44 of 90 points (49%); largest gap 4.3.2 (30 points)'
    >>> plt.close(ax.figure)
    """
    require_table(table, ["item", "label", "points", "score_points"], "self-assessment table", "self_assessment()")
    n = len(table)
    with drawing():
        ax = new_axes(ax, height=max(2.0, 0.42 * n + 1.3))
        if n == 0:
            return empty_chart(ax, _("Self-assessment: no item to show"))
        y = np.arange(n)
        points = table["points"].to_numpy(float)
        score = table["score_points"].to_numpy(float)
        assessed = ~np.isnan(score)
        ax.barh(y, points, height=0.6, color="white", edgecolor=EDGE, hatch="///", linewidth=0.8,
                label=_("gap to maximum"), zorder=2)
        ax.barh(y, np.where(assessed, score, 0.0), height=0.6, **{
            "color": DARK, "edgecolor": EDGE, "linewidth": 0.8, "label": _("score"), "zorder": 3, **kwargs})
        for yi, p, s, ok in zip(y, points, score, assessed, strict=True):
            text = (_("{score} / {maximum}, gap {gap}", score=_num(s), maximum=_num(p), gap=_num(p - s)) if ok
                    else _("not assessed (max {maximum})", maximum=_num(p)))
            ax.text(p, yi, "  " + text, va="center", ha="left", fontsize="small")
        labels = [short_label(f"{i} {lab}" if str(lab) != str(i) else str(i), 42)
                  for i, lab in zip(table["item"], table["label"], strict=True)]
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, np.nanmax(points) * 1.45)
        ax.set_xlabel(_("Points"))
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        s = self_assessment_summary(table)
        if s["n_assessed"] == 0:
            title = _("Self-assessment: no item assessed yet")
        else:
            gaps = np.where(assessed, points - score, -np.inf)
            worst = int(np.argmax(gaps))
            title = _("Self-assessment: {total} of {maximum} points ({pct}%); largest gap {item} ({gap} points)",
                      total=_num(s["total_points"]), maximum=_num(s["max_points"]), pct=f"{s['pct']:.0f}",
                      item=short_label(table["item"].iloc[worst], 20), gap=_num(gaps[worst]))
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
        From :func:`csm_helpers.analysis.goals.readiness_checklist`.
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
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> from csm_helpers.analysis.goals import readiness_checklist
    >>> ax = plot_readiness(readiness_checklist(None))
    >>> ax.get_title()
    'Readiness: 0 of 11 steps done; not ready (open: steps 1-11)'
    >>> plt.close(ax.figure)
    """
    require_table(checklist, ["step", "status"], "readiness checklist", "readiness_checklist()")
    summary = readiness_summary(checklist)
    with drawing():
        ax = new_axes(ax, height=1.9)
        if len(checklist) == 0:
            return empty_chart(ax, _("Readiness: no step to show"))
        steps = checklist["step"].to_numpy(int)
        statuses = checklist["status"].tolist()
        faces = [_STATUS_STYLE[s][0] for s in statuses]
        bars = ax.bar(steps, 1.0, width=0.9, **{"color": faces, "edgecolor": EDGE, "linewidth": 0.8, **kwargs})
        for bar, status in zip(bars, statuses, strict=True):
            bar.set_hatch(_STATUS_STYLE[status][1])
        for x, face in zip(steps, faces, strict=True):
            ax.text(x, 0.5, str(x), ha="center", va="center", fontweight="bold",
                    color="white" if face == DARK else "black",
                    bbox=None if face == DARK else {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
        handles = [Patch(facecolor=_STATUS_STYLE[s][0], hatch=_STATUS_STYLE[s][1], edgecolor=EDGE,
                         label=f"{tr(_STATUS_STYLE[s][2])} ({summary['counts'][s]})")
                   for s in READINESS_STATUSES if summary["counts"][s]]
        legend_below(ax, handles)
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
