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

from csm_helpers.core.i18n import _, tr
from csm_helpers.present.catalogue import format_kpi, kpi_label
from csm_helpers.workbook.context import StageContext

__all__ = ["report_summary"]


def _arrow(change: dict[str, Any] | None) -> tuple[str, str]:
    """(arrow, words) for a KPI change row; arrows are text so they print in grey-scale."""
    if not change or change.get("suppressed") or pd.isna(change.get("change")):
        return "", _("no previous wave")
    diff = change["change"]
    k = change["kpi"]
    amount = _("{change} pts", change=f"{100 * diff:+.1f}") if k == "csat_top2" else f"{diff:+.1f}"
    if not change.get("significant"):
        return "→", _("{amount} vs {wave} (not significant)", amount=amount, wave=change["wave_previous"])
    return ("▲" if diff > 0 else "▼"), _("{amount} vs {wave} (p {p})", amount=amount, wave=change["wave_previous"],
                                         p=f"{change['p_value']:.3f}")


def report_summary(ctx: StageContext, *, with_priorities: bool = True) -> dict[str, Any]:
    """Compute the summary shown at the top of every report of a segment.

    Returns
    -------
    dict
        ``tiles``: list of dicts ``kpi, label, value, interval, target, status, arrow, change``
        (all text); ``priorities``: up to three sentences; ``caveats``: sentences.

    Examples
    --------
    >>> from csm_helpers.workbook.context import open_stage
    >>> s = report_summary(open_stage("summary"), with_priorities=False)
    >>> [t["kpi"] for t in s["tiles"]]
    ['csat_top2', 'csi', 'nps']
    """
    study = ctx.study
    data, w, min_n = ctx.current, ctx.weights, study.min_cell_size
    summary = ctx.kpi_table  # gated on each KPI's base (SPEC §4), as stage 04 shows them
    changes: dict[str, dict[str, Any]] = {}
    if ctx.kpi_change_table is not None:
        changes = {r["kpi"]: r for r in ctx.kpi_change_table.to_dict(orient="records")}
    tiles = []
    for r in summary.to_dict(orient="records"):
        k = r["kpi"]
        suppressed = bool(r.get("suppressed"))
        arrow, change = _arrow(changes.get(k))
        met = r.get("met")
        status = "no target" if met is None else ("met" if met else "not met")
        tiles.append({
            "kpi": k, "label": kpi_label(k),
            "value": _("suppressed") if suppressed else format_kpi(k, r.get("value")),
            "interval": "" if suppressed else
            _("95% CI {low} – {high}", low=format_kpi(k, r.get("ci_low")), high=format_kpi(k, r.get("ci_high")))
            if pd.notna(r.get("ci_low")) and pd.notna(r.get("ci_high")) else tr(r.get("method") or ""),
            "target": _("target {value}", value=format_kpi(k, r["target"])) if pd.notna(r.get("target"))
            else _("no target"),
            "status": tr(status), "status_class": status.replace(" ", "-"),
            "detail": tr(r.get("status") or ""),
            "arrow": arrow, "change": change,
        })

    priorities: list[str] = []
    if with_priorities:
        prio = ctx.priorities
        scale = ctx.performance_scale
        for r in prio.dropna(subset=["rank"]).head(3).to_dict(orient="records"):
            priorities.append(_("{label} — {quadrant}: mean performance {value} of {max}", label=r["label"],
                                quadrant=tr(r["quadrant"]), value=f"{r['performance']:.2f}", max=f"{scale[1]:g}"))

    dropped = len(ctx.all_responses) - len(ctx.kept_responses)
    caveats = [_("n = {n:,} respondents in the latest wave ({wave}); {dropped:,} responses of the study set "
                 "aside by the data-quality checks.", n=len(data), wave=ctx.latest_wave, dropped=dropped)
               if ctx.latest_wave else
               _("n = {n:,} respondents; {dropped:,} responses of the study set aside by the data-quality "
                 "checks.", n=len(data), dropped=dropped)]
    if w:
        from csm_helpers.analysis.stats import kish_neff

        weights = ctx.kept_responses[w]
        caveats.append(_("Weighted to population margins (raking): design effect {deff}.",
                         deff=f"{len(weights) / kish_neff(weights):.2f}"))
    else:
        caveats.append(_("Unweighted estimates."))
    small = []
    if ctx.segment == "all":
        for column in study.responses.segments:
            counts = data[column].value_counts()
            small += [f"{column}={v}" for v, c in counts.items() if c < min_n]
    caveats.append(_("Groups below the minimum cell size ({min_n}) are suppressed: {groups}.", min_n=min_n,
                     groups=", ".join(small)) if small else
                   _("Groups below the minimum cell size ({min_n}) are suppressed; none in this report.",
                     min_n=min_n))
    return {"tiles": tiles, "priorities": priorities, "caveats": caveats}
