"""The one-screen summary every report opens with (issue 4: report polish).

KPI tiles (value, interval, target, change since the previous wave, met / not met), the three
top priorities, and the data caveats a reader must know (n, weights, exclusions, suppressed
groups). It is computed once per segment by the runner, from the same helpers and settings
as stages 04 and 05, and rendered by the report template, so every stage's report opens with
the same facts. Every value is text here; the template escapes it.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import _, get_language, language, tr
from csm_helpers.core.jsonable import to_jsonable
from csm_helpers.present.catalogue import (
    ci_text,
    format_change,
    format_count,
    format_kpi,
    format_p,
    kpi_label,
    kpi_short,
)
from csm_helpers.workbook.context import StageContext

__all__ = ["report_summary", "report_summary_json"]


def _arrow(change: dict[str, Any] | None) -> tuple[str, str]:
    """(arrow, words) for a KPI change row; arrows are text so they print in grey-scale."""
    if not change or change.get("suppressed") or pd.isna(change.get("change")):
        return "", _("no previous wave")
    diff = change["change"]
    amount = format_change(change["kpi"], diff)
    if not change.get("significant"):
        return "→", _("{amount} vs {wave} (not significant)", amount=amount, wave=change["wave_previous"])
    return ("▲" if diff > 0 else "▼"), _("{amount} vs {wave} ({p})", amount=amount, wave=change["wave_previous"],
                                         p=format_p(change["p_value"]))


def _base_text(n: int | None, base: int, n_eff: Any) -> str:
    """The base a tile used: "n = 1,158", or "n = 1,155 of 1,158" when some did not answer."""
    if n is None:
        return ""
    text = _("n = {n:,}", n=n) if n == base else _("n = {n:,} of {base:,}", n=n, base=base)
    if n_eff is not None and pd.notna(n_eff):
        text += " " + _("(effective {n_eff:,})", n_eff=int(round(float(n_eff))))
    return text


def _priorities(ctx: StageContext) -> list[str]:
    """Up to three attributes of the "Concentrate here" quadrant, in the priority table's order,
    each with why: its importance, its rating and, when measured, the shortfall against
    expectation. "Keep up the good work" and the other quadrants are never a priority."""
    from csm_helpers.analysis.drivers import CONCENTRATE

    prio = ctx.priorities
    if prio is None or not len(prio):
        return []
    scale = ctx.performance_scale
    rows = prio[(prio["quadrant"] == CONCENTRATE) & prio["rank"].notna()].sort_values("rank").head(3)
    out = []
    for r in rows.to_dict(orient="records"):
        text = _("{label}: important, rated {value} of {max}", label=r["label"], value=f"{r['performance']:.2f}",
                 max=f"{scale[1]:g}")
        gap = r.get("expectation_gap")
        if gap is not None and pd.notna(gap) and gap < 0:
            text += "; " + _("{gap} below what customers expect", gap=f"{-gap:.2f}")
        out.append(text)
    return out


def _change_sentence(ctx: StageContext, changes: dict[str, dict[str, Any]]) -> str:
    """One sentence under the tiles: what changed since the previous wave."""
    if not changes:
        return _("One wave in the data: no change to report yet.") if ctx.previous_wave is None else ""
    up, down, flat = [], [], []
    for k, row in changes.items():
        if row.get("suppressed") or pd.isna(row.get("change")):
            continue
        item = f"{kpi_short(k)} ({format_change(k, row['change'])})"
        (flat if not row.get("significant") else up if row["change"] > 0 else down).append(item)
    parts = []
    if up:
        parts.append(_("{items} rose significantly", items=", ".join(up)))
    if down:
        parts.append(_("{items} fell significantly", items=", ".join(down)))
    if flat:
        parts.append(_("{items} did not change significantly", items=", ".join(flat)))
    if not parts:
        return ""
    return _("Since {previous}: {parts}.", previous=ctx.previous_wave, parts="; ".join(parts))


def _model_tile(ctx: StageContext, base: int) -> dict[str, Any] | None:
    """The satisfaction index of the study's PLS model as one more tile (None without a model,
    or when this report withholds it)."""
    model = ctx.satisfaction_model  # None without a model in the study
    if model is None or "result" not in model:
        return None
    boot = model["bootstrap"]
    row = boot.loc[boot["what"] == "index"]
    lo, hi = (row["ci_low"].iloc[0], row["ci_high"].iloc[0]) if len(row) else (float("nan"), float("nan"))
    n = int(model["result"].n)
    return {"kpi": "satisfaction_index", "label": _("Satisfaction index (0–100)"), "value": f"{model['index']:.1f}",
            "interval": ci_text(f"{lo:.1f}", f"{hi:.1f}", model["level"]) if pd.notna(lo) else "",
            "target": "", "status": "", "status_class": "no-target",
            "detail": _("PLS path model, {block}", block=tr(model["index_block"])), "arrow": "", "change": "",
            "n": n, "base": base, "n_text": _base_text(n, base, None)}


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
    ['csat_top2', 'csi', 'nps', 'satisfaction_index']
    """
    study = ctx.study
    data, w, min_n, level = ctx.current, ctx.weights, study.min_cell_size, study.analysis.level
    summary = ctx.kpi_table  # gated on each KPI's base (SPEC §4), as stage 04 shows them
    changes: dict[str, dict[str, Any]] = {}
    if ctx.kpi_change_table is not None:
        changes = {r["kpi"]: r for r in ctx.kpi_change_table.to_dict(orient="records")}
    base = len(data)
    any_target = bool(summary["target"].notna().any()) if "target" in summary else False
    tiles = []
    for r in summary.to_dict(orient="records"):
        k = r["kpi"]
        suppressed = bool(r.get("suppressed"))
        arrow, change = _arrow(changes.get(k))
        met = r.get("met")
        status = "no target" if met is None or pd.isna(r.get("target")) else ("met" if met else "not met")
        n = int(r["n"]) if pd.notna(r.get("n")) and not suppressed else None  # a hidden group's size is hidden too
        tiles.append({
            "kpi": k, "label": kpi_label(k),
            "value": _("suppressed") if suppressed else format_kpi(k, r.get("value")),
            "interval": "" if suppressed else
            ci_text(format_kpi(k, r.get("ci_low")), format_kpi(k, r.get("ci_high")), level)
            if pd.notna(r.get("ci_low")) and pd.notna(r.get("ci_high")) else tr(r.get("method") or ""),
            # said once: "target 80.0% · not met", or "no target" (and nothing when no KPI has one)
            "target": _("target {value}", value=format_kpi(k, r["target"])) if pd.notna(r.get("target")) else "",
            "status": tr(status) if any_target else "", "status_class": status.replace(" ", "-"),
            "detail": tr(r.get("status") or ""),
            "arrow": arrow, "change": change,
            "n": n, "base": base,
            "n_text": (format_count(r.get("n"), suppressed=True, min_n=summary.attrs.get("min_n")) if suppressed
                       else _base_text(n, base, r.get("n_eff") if w else None)),
        })

    index_tile = _model_tile(ctx, base)
    if index_tile is not None:
        tiles.append(index_tile)

    priorities: list[str] = []
    if with_priorities:
        priorities = _priorities(ctx)
    headline = _change_sentence(ctx, changes)

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
    # counted, not named: the summary also goes to metrics.json and the e-mail, where a
    # suppressed group appears only under "suppressed" (each section's "Not shown" note names it)
    caveats.append(_("Groups below the minimum cell size ({min_n}) are suppressed: {k} in this report, each "
                     "named where its figures are left out.", min_n=min_n, k=len(small)) if small else
                   _("Groups below the minimum cell size ({min_n}) are suppressed; none in this report.",
                     min_n=min_n))
    if with_priorities and ctx.driver_table.attrs.get("suppressed"):
        # (worked out for the priorities already) why the key drivers are missing, naming the
        # column at fault: the index and the e-mail show this summary, not the report's section
        caveats.append(str(ctx.driver_table.attrs.get("suppressed_reason") or ""))
    if not any_target and tiles:
        caveats.insert(0, _("No KPI target was agreed in goal-setting: the tiles show no target status."))
    return {"tiles": tiles, "priorities": priorities, "caveats": caveats, "headline": headline, "base": base,
            "wave": ctx.latest_wave or "", "previous_wave": ctx.previous_wave or ""}


def report_summary_json(study_path: str, segment: str) -> str:
    """The segment's one-screen summary as JSON: ``{"summary": {...}}``, or
    ``{"left_out": reason}`` when the study's input cannot give one (a ``CsmError``).

    A warm kernel runs this and sends the text back (it lives here, not in the pipeline, so a
    kernel imports no notebook machinery); ``csm run`` calls it in-process. Every value of the
    summary is text, so the JSON round trip is exact.
    """
    from csm_helpers.workbook.context import open_stage

    try:
        with language(get_language()):  # open_stage switches to the study's language; restore it after
            summary = report_summary(open_stage("summary", study_path=study_path, segment=segment))
    except CsmError as exc:
        return json.dumps({"left_out": str(exc)}, ensure_ascii=False)
    return json.dumps({"summary": to_jsonable(summary)}, ensure_ascii=False)
