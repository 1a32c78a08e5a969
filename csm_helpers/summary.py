"""The one-screen summary every report opens with (issue 4: report polish).

KPI tiles (value, interval, target, change since the previous wave, met / not met), the three
top priorities, and the data caveats a reader must know (n, weights, exclusions, suppressed
groups). It is computed once per segment by the runner, from the same helpers and settings
as stages 04 and 05, and rendered by the report template, so every stage's report opens with
the same facts. Every value is text here; the template escapes it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .views import KPI_LABELS, _kpi_value
from .workbook import StageContext

__all__ = ["report_summary"]


def _arrow(change: dict[str, Any] | None) -> tuple[str, str]:
    """(arrow, words) for a KPI change row; arrows are text so they print in grey-scale."""
    if not change or change.get("suppressed") or pd.isna(change.get("change")):
        return "", "no previous wave"
    diff = change["change"]
    k = change["kpi"]
    amount = f"{100 * diff:+.1f} pts" if k == "csat_top2" else f"{diff:+.1f}"
    if not change.get("significant"):
        return "→", f"{amount} vs {change['wave_previous']} (not significant)"
    return ("▲" if diff > 0 else "▼"), f"{amount} vs {change['wave_previous']} (p {change['p_value']:.3f})"


def report_summary(ctx: StageContext, *, with_priorities: bool = True) -> dict[str, Any]:
    """Compute the summary shown at the top of every report of a segment.

    Returns
    -------
    dict
        ``tiles``: list of dicts ``kpi, label, value, interval, target, status, arrow, change``
        (all text); ``priorities``: up to three sentences; ``caveats``: sentences.

    Examples
    --------
    >>> from csm_helpers.workbook import open_stage
    >>> s = report_summary(open_stage("summary"), with_priorities=False)
    >>> [t["kpi"] for t in s["tiles"]]
    ['csat_top2', 'csi', 'nps']
    """
    from . import kpis

    study = ctx.study
    data, w, min_n = ctx.current, ctx.weights, study.min_cell_size
    summary = kpis.kpi_summary(data, scale=study.scale_for(study.overall, "overall"), targets=ctx.kpi_targets,
                               **ctx.satisfaction, **ctx.common, **ctx.boot)
    changes: dict[str, dict[str, Any]] = {}
    if ctx.previous_wave is not None:
        ch = kpis.kpi_change(ctx.analysis_data, wave=study.responses.wave, previous=ctx.previous_wave,
                             latest=ctx.latest_wave, **ctx.satisfaction, **ctx.common, **ctx.boot)
        changes = {r["kpi"]: r for r in ch.to_dict(orient="records")}
    tiles = []
    for r in summary.to_dict(orient="records"):
        k = r["kpi"]
        suppressed = bool(r.get("suppressed"))
        arrow, change = _arrow(changes.get(k))
        met = r.get("met")
        tiles.append({
            "kpi": k, "label": KPI_LABELS.get(k, k),
            "value": "suppressed" if suppressed else _kpi_value(k, r.get("value")),
            "interval": "" if suppressed else
            f"95% CI {_kpi_value(k, r.get('ci_low'))} – {_kpi_value(k, r.get('ci_high'))}",
            "target": f"target {_kpi_value(k, r['target'])}" if pd.notna(r.get("target")) else "no target",
            "status": "no target" if met is None else ("met" if met else "not met"),
            "detail": r.get("status") or "",
            "arrow": arrow, "change": change,
        })

    priorities: list[str] = []
    if with_priorities:
        prio = ctx.priorities
        scale = ctx.performance_scale
        for r in prio.dropna(subset=["rank"]).head(3).to_dict(orient="records"):
            priorities.append(f"{r['label']} — {r['quadrant']}: mean performance {r['performance']:.2f} "
                              f"of {scale[1]:g}")

    caveats = [f"n = {len(data):,} respondents"
               + (f" in the latest wave ({ctx.latest_wave})" if ctx.latest_wave else "")
               + f"; {len(ctx.all_responses) - len(ctx.kept_responses):,} responses of the study set aside "
                 f"by the data-quality checks."]
    if w:
        from .stats import kish_neff

        weights = ctx.kept_responses[w]
        caveats.append(f"Weighted to population margins (raking): design effect "
                       f"{len(weights) / kish_neff(weights):.2f}.")
    else:
        caveats.append("Unweighted estimates.")
    small = []
    if ctx.segment == "all":
        for column in study.responses.segments:
            counts = data[column].value_counts()
            small += [f"{column}={v}" for v, c in counts.items() if c < min_n]
    caveats.append(f"Groups below the minimum cell size ({min_n}) are suppressed"
                   + (f": {', '.join(small)}." if small else "; none in this report."))
    return {"tiles": tiles, "priorities": priorities, "caveats": caveats}
