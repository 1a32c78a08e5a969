"""Charts of the goal-setting report (stage 01): the self-assessment and the readiness checklist.

Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text): each function
returns a :class:`~csm_helpers.present.charts.canvas.Chart` whose ``marks`` record what it shows.
Hatching and value labels carry the meaning, never colour alone; the title says what the reader
should see.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.goals import READINESS_STATUSES, readiness_summary, self_assessment_summary
from csm_helpers.core.checks import require_table
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.charts.canvas import MIN_PT, PAD, PX_PER_PT, Chart, nice_ticks
from csm_helpers.present.charts.palette import BAD, DARK, GOOD, LIGHT, WARN, tint_hex

__all__ = ["plot_self_assessment", "plot_readiness"]


# Readiness status -> (face colour, hatch, legend label); distinguishable in grey-scale and
# without colour vision: each status has its own hatch or none, and a face of its own lightness.
_STATUS_STYLE = {
    "done": (GOOD, None, N_("done")),
    "in_progress": (WARN, "////", N_("in progress")),
    "not_started": (tint_hex(BAD, 0.5), "..", N_("not started")),
    "not_applicable": (LIGHT, "\\\\\\\\", N_("not applicable")),
    "not recorded": ("white", "xx", N_("not recorded")),
}


# --------------------------------------------------------------------------- goal-setting
def plot_self_assessment(table: pd.DataFrame) -> Chart:
    """Self-assessment: score vs maximum points per item, with the gap hatched and labelled.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`csm_helpers.analysis.goals.self_assessment`.

    Returns
    -------
    Chart
        One row per item in table order (top to bottom), labelled with the item and its label:
        a white hatched bar of the maximum points (the gap shows where it sticks out) under a
        dark bar of the score, and the text "score / maximum, gap g" (or "not assessed") at
        its end. ``chart.marks`` holds a ``"bar"`` entry per item (``item``, ``label``,
        ``points``, ``score``, ``gap``: NaN when not assessed, ``assessed``) and a ``"legend"``
        entry per legend key.

    Examples
    --------
    >>> table = pd.DataFrame({"item": ["4.3.1", "4.3.2"], "label": ["Understanding", "Relationships"],
    ...                       "points": [40.0, 50.0], "score_pct": [60.0, 40.0],
    ...                       "score_points": [24.0, 20.0], "gap_points": [16.0, 30.0]})
    >>> chart = plot_self_assessment(table)
    >>> chart.alt
    'Self-assessment: 44 of 90 points (49%); largest gap 4.3.2 (30 points)'
    >>> [(m["item"], m["score"], m["gap"]) for m in chart.marks if m["kind"] == "bar"]
    [('4.3.1', 24.0, 16.0), ('4.3.2', 20.0, 30.0)]
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(table, ["item", "label", "points", "score_points"], "self-assessment table", "self_assessment()")
    n = len(table)
    chart = Chart("self-assessment")
    if n == 0:
        return chart.empty(_("Self-assessment: no item to show"), _("nothing to show"))
    points = table["points"].to_numpy(float)
    score = table["score_points"].to_numpy(float)
    assessed = ~np.isnan(score)
    s = self_assessment_summary(table)
    if s["n_assessed"] == 0:
        title = [_("Self-assessment: no item assessed yet")]
    else:
        gaps = np.where(assessed, points - score, -np.inf)
        worst = int(np.argmax(gaps))
        title = [_("Self-assessment: {total} of {maximum} points ({pct}%); largest gap {item} ({gap} points)",
                   total=_num(s["total_points"]), maximum=_num(s["max_points"]), pct=f"{s['pct']:.0f}",
                   item=chart.wrap(table["item"].iloc[worst], 140, max_lines=1)[0], gap=_num(gaps[worst]))]
        if s["not_assessed"]:
            k = len(s["not_assessed"])
            title.append(_("{k} items not assessed, left out of the total" if k > 1 else
                           "{k} item not assessed, left out of the total", k=k))
    y = chart.title(title)
    labels = [f"{i} {lab}" if str(lab) != str(i) else str(i)
              for i, lab in zip(table["item"], table["label"], strict=True)]
    left, centres, row = chart.category_labels(labels, y + 4)
    texts = [_("{score} / {maximum}, gap {gap}", score=_num(sc), maximum=_num(p), gap=_num(p - sc)) if ok
             else _("not assessed (max {maximum})", maximum=_num(p))
             for p, sc, ok in zip(points, score, assessed, strict=True)]
    right = chart.width - PAD - chart.measure("1000") / 2
    room = right - left
    ends = np.nan_to_num(points, nan=0.0)
    # the axis reaches far enough for every text to fit right of its bar
    need = chart.reach(ends, texts, room)
    high = nice_ticks(0, max(need, 1.0))[-1]
    x = lambda v: left + room * float(v) / high  # noqa: E731
    under = chart.value_axis(left, right, y + 4, centres[-1] + row / 2, 0.0, high, label=_("Points"), fmt="{:,g}")
    bar = 0.6 * min(row, 0.3 * 96)
    for i, mid in enumerate(centres):
        chart.rect(left, mid - bar / 2, x(ends[i]) - left, bar, fill="white", edge="#000000", edge_width=0.8,
                   hatch="////")
        if assessed[i]:
            chart.rect(left, mid - bar / 2, x(score[i]) - left, bar, fill=DARK, edge="#000000", edge_width=0.8)
        chart.text(x(ends[i]) + 4, mid, texts[i])
        chart.mark("bar", item=str(table["item"].iloc[i]), label=labels[i], points=float(points[i]),
                   score=float(score[i]), gap=float(points[i] - score[i]), assessed=bool(assessed[i]))
    chart.finish(chart.legend([(_("gap to maximum"), "box", {"fill": "white", "hatch": "////"}),
                               (_("score"), "box", {"fill": DARK})], under + 6))
    return chart


def plot_readiness(checklist: pd.DataFrame) -> Chart:
    """Readiness as a strip of the eleven goal-setting steps, each shaded and hatched by its status.

    Drawn as SVG by :mod:`csm_helpers.present.charts.canvas` (text kept as text).

    Parameters
    ----------
    checklist : pandas.DataFrame
        From :func:`csm_helpers.analysis.goals.readiness_checklist`.

    Returns
    -------
    Chart
        One numbered cell per step, left to right; the legend names each status with its
        count of steps. ``chart.marks`` holds a ``"cell"`` entry per step (``step``,
        ``status``) and a ``"legend"`` entry per status present.

    Examples
    --------
    >>> from csm_helpers.analysis.goals import readiness_checklist
    >>> chart = plot_readiness(readiness_checklist(None))
    >>> chart.alt
    'Readiness: 0 of 11 steps done; not ready (open: steps 1-11)'
    >>> [m["label"] for m in chart.marks if m["kind"] == "legend"]
    ['not recorded (11)']
    >>> chart.overlaps(), chart.smallest_pt
    ([], 11.0)
    """
    require_table(checklist, ["step", "status"], "readiness checklist", "readiness_checklist()")
    summary = readiness_summary(checklist)
    chart = Chart("readiness")
    if len(checklist) == 0:
        return chart.empty(_("Readiness: no step to show"), _("nothing to show"))
    applicable = summary["n_steps"] - summary["counts"]["not_applicable"]
    done = summary["counts"]["done"]
    if summary["ready"]:
        title = _("Readiness: {done} of {applicable} steps done; ready", done=done, applicable=applicable)
    else:
        title = _("Readiness: {done} of {applicable} steps done; not ready (open: {steps})", done=done,
                  applicable=applicable, steps=_ranges(summary["open_steps"]))
    top = chart.title([title]) + 4
    steps = checklist["step"].to_numpy(int)
    statuses = checklist["status"].tolist()
    first, slots = int(steps.min()), int(steps.max() - steps.min()) + 1
    width = (chart.width - 2 * PAD) / slots
    height = 2.2 * MIN_PT * PX_PER_PT
    for step, status in zip(steps, statuses, strict=True):
        face, hatch, _label = _STATUS_STYLE[status]
        x0 = PAD + (step - first) * width
        chart.rect(x0 + 2, top, width - 4, height, fill=face, edge="#000000", edge_width=0.8, hatch=hatch)
        number = str(step)
        w = chart.measure(number)
        # the number on a white patch: readable on every face and hatch
        chart.rect(x0 + width / 2 - w / 2 - 3, top + height / 2 - MIN_PT * PX_PER_PT * 0.6, w + 6,
                   MIN_PT * PX_PER_PT * 1.2, fill="white")
        chart.text(x0 + width / 2, top + height / 2, number, anchor="middle")
        chart.mark("cell", step=int(step), status=status)
    under = chart.lines(chart.width / 2, top + height + 6,
                        chart.wrap(_("Goal-setting steps (numbered as in the checklist)"), chart.width - 2 * PAD),
                        anchor="middle")
    items: list[tuple[str, str, dict[str, Any]]] = [
        (f"{tr(_STATUS_STYLE[s][2])} ({summary['counts'][s]})", "box",
         {"fill": _STATUS_STYLE[s][0], "hatch": _STATUS_STYLE[s][1]})
        for s in READINESS_STATUSES if summary["counts"][s]]
    chart.finish(chart.legend(items, under + 6))
    return chart


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
