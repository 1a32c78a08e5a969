"""How analysis tables are shown to the report's reader: number formats and sentences.

The helpers return full-precision tables; this module holds the display step (SPEC:
rounding belongs to display): which columns are percentages, how many decimals, and the
one-line findings the notebooks print above a table. Nothing here computes a statistic.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csm_helpers.analysis.stats import suppressed_groups
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import (
    MINUS,
    block_label,
    format_count,
    format_kpi,
    format_p,
    format_p_cell,
    kpi_label,
)
from csm_helpers.present.display import fmt_num, fmt_pct
from csm_helpers.present.segment_views import PAIRS_SHOWN, segment_findings, segment_pairs, segment_tables

__all__ = ["left_out_message", "kpi_display", "change_display", "progress_display", "PRIORITY_FORMATS", "SIGMA_FORMATS", "GAP_FORMATS", "DRIVER_FORMATS", "DRIVER_HEADERS", "SHARE_FORMATS",
           "THEME_FORMATS", "COMPETITOR_FORMATS", "SCORE_FORMATS", "ATTRIBUTE_CHANGE_FORMATS", "p_headers", "representativeness_message",
           "lost_message", "segment_findings", "segment_tables", "segment_pairs", "PAIRS_SHOWN", "overview_display", "with_labels",
           "exclusion_message", "quadrant_certainty_message", "IPA_FORMATS", "priority_display", "priority_reasons",
           "importance_agreement_message", "KANO_FORMATS", "KANO_HEADERS", "kano_display", "kano_message",
           "follow_up_message", "outcomes_display", "OUTCOME_FORMATS", "ACTION_CHECK_FORMATS", "action_check_display",
           "MODEL_FORMATS", "MODEL_HEADERS", "model_message", "model_paths_display", "model_blocks_display", "model_items_display"]


def _yes_no(value: Any, missing: str = "") -> str:
    return {True: _("yes"), False: _("no")}.get(value, missing)


def _points(change: float) -> str:
    return _("{change} points", change=f"{100 * change:+.1f}")


def kpi_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The headline-KPI table as text: each KPI on its own scale, interval as "low – high".

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["csat_top2", "nps"], "value": [0.71, 20.5], "ci_low": [0.69, 17.0],
    ...                   "ci_high": [0.73, 24.0], "n": [1200, 1200], "target": [0.8, 30.0],
    ...                   "status": ["not met: CI below target", "not met: CI below target"]})
    >>> kpi_display(t)["value"].tolist()
    ['71.0%', '+20.5']
    """
    rows = []
    for r in summary.to_dict(orient="records"):
        k = r["kpi"]
        suppressed = bool(r.get("suppressed"))
        rows.append({
            "KPI": kpi_label(k),
            "value": _("suppressed") if suppressed else format_kpi(k, r.get("value")),
            "95% interval": "" if suppressed else
            f"{format_kpi(k, r.get('ci_low'))} – {format_kpi(k, r.get('ci_high'))}"
            if pd.notna(r.get("ci_low")) and pd.notna(r.get("ci_high")) else tr(r.get("method") or ""),
            "n": format_count(r.get("n"), suppressed=suppressed, min_n=summary.attrs.get("min_n")),
            "target": format_kpi(k, r.get("target")) if pd.notna(r.get("target")) else _("none"),
            "status": tr(r.get("status") or ""),
        })
    return pd.DataFrame(rows)


def progress_display(track: pd.DataFrame) -> pd.DataFrame:
    """The KPI-by-wave table as text (each KPI on its own scale)."""
    rows = []
    for r in track.to_dict(orient="records"):
        k = r["kpi"]
        suppressed = bool(r.get("suppressed"))
        change = r.get("change")
        if change is None or pd.isna(change):
            change_text = ""
        elif k == "csat_top2":
            change_text = _points(change)
        else:
            change_text = f"{change:+.1f}"
        row = {"wave": r["wave"], "KPI": kpi_label(k),
               "value": _("suppressed") if suppressed else format_kpi(k, r.get("value")),
               "95% interval": "" if suppressed else
               f"{format_kpi(k, r.get('ci_low'))} – {format_kpi(k, r.get('ci_high'))}",
               "n": format_count(r.get("n"), suppressed=suppressed, min_n=track.attrs.get("min_n")),
               "target": format_kpi(k, r.get("target")) if pd.notna(r.get("target")) else _("none"),
               "attainment": tr(r.get("attainment") or ""),
               "change": change_text, "p": "" if not change_text else format_p_cell(r.get("p_value")),
               "significant": _yes_no(r.get("significant"))}
        rows.append(row)
    return pd.DataFrame(rows)


def change_display(change: pd.DataFrame) -> pd.DataFrame:
    """The wave-on-wave KPI table as text."""
    rows = []
    for r in change.to_dict(orient="records"):
        k = r["kpi"]
        if r.get("suppressed"):
            rows.append({"KPI": kpi_label(k), "previous": _("suppressed"), "latest": _("suppressed"),
                         "change": "", "test": tr(r.get("test", "")), "p": "", "significant": ""})
            continue
        diff = r.get("change")
        if k == "csat_top2":
            diff_text = "n/a" if pd.isna(diff) else _points(diff)
        else:
            diff_text = "n/a" if pd.isna(diff) else f"{diff:+.1f}"
        rows.append({
            "KPI": kpi_label(k),
            "previous": f"{format_kpi(k, r.get('previous'))} (n {fmt_num(r.get('n_previous'), 0)})",
            "latest": f"{format_kpi(k, r.get('latest'))} (n {fmt_num(r.get('n_latest'), 0)})",
            "change": diff_text,
            "test": tr(r.get("test", "")),
            "p": format_p_cell(r.get("p_value")),
            "significant": _yes_no(r.get("significant"), "n/a"),
        })
    return pd.DataFrame(rows)


GAP_FORMATS = {"mean_perception": "{:.2f}", "mean_expectation": "{:.2f}", "mean_gap": "{:+.2f}",
               "ci_low": "{:+.2f}", "ci_high": "{:+.2f}", "p_value": format_p_cell, "p_adj": format_p_cell, "cohen_dz": "{:+.2f}",
               "share_dissatisfied": fmt_pct, "share_satisfied": fmt_pct, "share_delighted": fmt_pct}
DRIVER_FORMATS = {"r": "{:.3f}", "beta": "{:+.3f}", "relative_weight": "{:.3f}", "rw_pct": "{:.1f}%",
                  "rw_ci_low": "{:.3f}", "rw_ci_high": "{:.3f}",
                  "rw_pct_ci_low": "{:.1f}%", "rw_pct_ci_high": "{:.1f}%"}
#: Reader headers of the key-driver table: the interval beside "RW %" is in the same unit.
DRIVER_HEADERS = {"rw_pct": N_("RW % of R²"), "rw_pct_ci_low": N_("RW % CI low"),
                  "rw_pct_ci_high": N_("RW % CI high"), "relative_weight": N_("Relative weight")}
#: Column headers of the KPI tables (humanised from their column names, translated at display).
KPI_HEADERS = (N_("KPI"), N_("Value"), N_("95% CI"), N_("Target"), N_("Met"))
SHARE_FORMATS = {"share": lambda v: fmt_pct(v, 1), "value": lambda v: fmt_pct(v, 1),
                 "ci_low": lambda v: fmt_pct(v, 1), "ci_high": lambda v: fmt_pct(v, 1), "n_eff": "{:,.0f}"}
THEME_FORMATS = {"share_of_commenters": lambda v: fmt_pct(v, 1), "share_of_respondents": lambda v: fmt_pct(v, 1)}
COMPETITOR_FORMATS = {"own": "{:.2f}", "competitor": "{:.2f}", "gap": "{:+.2f}", "ci_low": "{:+.2f}",
                      "ci_high": "{:+.2f}", "t": "{:.2f}", "df": "{:.0f}", "p_value": format_p_cell, "p_adj": format_p_cell,
                      "n_eff": "{:,.0f}"}
ATTRIBUTE_CHANGE_FORMATS = {"n_previous": "{:,.0f}", "n_latest": "{:,.0f}", "previous": "{:.2f}", "latest": "{:.2f}",
                            "change": "{:+.2f}", "t": "{:.2f}", "df": "{:.1f}", "p_value": format_p_cell, "p_adj": format_p_cell,
                            "significant": lambda v: _yes_no(v, "n/a")}

#: Header of the adjusted p by correction (``table.attrs["p_adjust"]``, see :func:`csm_helpers.analysis.stats.adjust_p`).
P_ADJ_HEADERS = {"fdr_bh": N_("p (BH-adjusted)"), "holm": N_("p (Holm-adjusted)")}


def p_headers(table: pd.DataFrame) -> dict[str, str]:
    """Headers for a raw p beside its adjusted p: ``p_value`` -> "p (raw)", ``p_adj`` -> "p (BH-adjusted)".

    The correction is read from ``table.attrs["p_adjust"]`` (set by the helpers that add
    ``p_adj``); a table without it gets the neutral "p (adjusted)". Pass the result as
    ``rename=`` to :func:`csm_helpers.present.display.show_table` (the headers are translated there).

    Examples
    --------
    >>> t = pd.DataFrame({"p_value": [0.01], "p_adj": [0.03]})
    >>> t.attrs["p_adjust"] = "fdr_bh"
    >>> p_headers(t)
    {'p_value': 'p (raw)', 'p_adj': 'p (BH-adjusted)'}
    """
    return {"p_value": N_("p (raw)"),
            "p_adj": P_ADJ_HEADERS.get(table.attrs.get("p_adjust", ""), N_("p (adjusted)"))}


PRIORITY_FORMATS = {"importance": "{:.2f}", "performance": "{:.2f}", "gap": "{:.2f}", "score": "{:.3f}",
                    "expectation_gap": "{:+.2f}", "competitor_gap": "{:+.2f}", "p_quadrant": "{:.2f}",
                    "stated_importance": "{:.2f}", "relative_weight": "{:.1%}"}


def priority_display(priority: pd.DataFrame) -> pd.DataFrame:
    """The reconciled priority list as a report shows it: rank, attribute, quadrant and its
    bootstrap probability, the stated and derived importance ranks with ``disagree`` as
    yes/no, the Kano category when the study asked for it (with "?" when Fong's test finds it
    not clear), then performance, the gap and score, and the expectation and competitor gaps.

    Examples
    --------
    >>> t = pd.DataFrame({"rank": [1], "label": ["Fees"], "quadrant": ["Concentrate here"], "p_quadrant": [0.9],
    ...                   "stated_rank": [1], "derived_rank": [3], "disagree": pd.array([True], dtype="boolean"),
    ...                   "performance": [3.0], "gap": [2.0], "score": [2.0], "expectation_gap": [-0.4],
    ...                   "competitor_gap": [float("nan")]})
    >>> priority_display(t).loc[0, ["quadrant", "disagree"]].tolist()
    ['Concentrate here', 'yes']
    """
    from csm_helpers.analysis.kano import CATEGORY_NAMES

    t = priority.copy()
    t["quadrant"] = [tr(q) if isinstance(q, str) else q for q in t["quadrant"]]
    t["disagree"] = [_yes_no(None if pd.isna(v) else bool(v)) for v in t["disagree"]]
    columns = ["rank", "label", "quadrant", "p_quadrant", "stated_rank", "derived_rank", "disagree"]
    if "kano_category" in t.columns and t["kano_category"].notna().any():  # only when the study asked Kano
        unclear = [clear is not None and not pd.isna(clear) and not bool(clear)
                   for clear in t.get("kano_clear", pd.Series([None] * len(t)))]
        t["kano"] = [tr(CATEGORY_NAMES[c]) + ("?" if u else "") if isinstance(c, str) else ""
                     for c, u in zip(t["kano_category"], unclear, strict=True)]
        columns.append("kano")
    return t[[*columns, "performance", "gap", "score", "expectation_gap", "competitor_gap"]]


def priority_reasons(priority: pd.DataFrame) -> dict[str, str]:
    """Attribute label -> the reason for its rank in words (``reason`` of
    :func:`csm_helpers.analysis.action.reconcile_priorities`), in rank order."""
    return {str(r.label): str(r.reason) for r in priority.itertuples()}


def importance_agreement_message(priority: pd.DataFrame) -> str:
    """One sentence on where stated and derived importance disagree (the ``disagree`` flag of
    :func:`csm_helpers.analysis.action.reconcile_priorities`), or why they could not be compared.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Fees", "Speed", "App"], "stated_rank": [1, 2, 3], "derived_rank": [3, 2, 1],
    ...                   "disagree": pd.array([True, False, True], dtype="boolean")})
    >>> t.attrs["ranked_both"] = 3
    >>> importance_agreement_message(t)
    'Stated and derived importance disagree by more than a third of the ranks on 2 of 3 attributes: Fees (stated 1, derived 3), App (stated 3, derived 1). Customers may call an attribute important that hardly moves their satisfaction (a must-be, noticed only when it fails), or the reverse: look at these before acting on their rank.'
    """
    k = int(priority.attrs.get("ranked_both", priority["disagree"].notna().sum()))
    if k == 0:
        if priority["stated_rank"].notna().any():
            return _("Derived importance (key drivers) is not available here, so stated importance is not "
                     "checked against it.")
        return _("The study asks for no importance ratings: the ranks use derived importance (key drivers) only.")
    flagged = priority.loc[priority["disagree"].fillna(False).astype(bool)]
    if flagged.empty:
        return _("Stated and derived importance agree within a third of the ranks on all {k} attributes.", k=k)
    names = ", ".join(_("{label} (stated {stated}, derived {derived})", label=tr(str(r.label)),
                        stated=int(r.stated_rank), derived=int(r.derived_rank)) for r in flagged.itertuples())
    return _("Stated and derived importance disagree by more than a third of the ranks on {n} of {k} attributes: "
             "{names}. Customers may call an attribute important that hardly moves their satisfaction (a "
             "must-be, noticed only when it fails), or the reverse: look at these before acting on their rank.",
             n=len(flagged), k=k, names=names)
SIGMA_FORMATS = {"defects": "{:,.0f}", "units": "{:,.0f}", "opportunities": "{:,.0f}", "dpmo": "{:,.0f}",
                 "sigma": "{:.2f}"}
SCORE_FORMATS = {"value": "{:.1f}", "ci_low": "{:.1f}", "ci_high": "{:.1f}", "n_eff": "{:,.0f}"}


def representativeness_message(test: dict[str, Any]) -> str:
    """One sentence on the chi-square goodness-of-fit test of the sample mix.

    Examples
    --------
    >>> representativeness_message({"variable": "region", "chi2": 41.2, "dof": 3, "p_value": 1e-8,
    ...                             "cohens_w": 0.13, "note": ""})
    "region: the sample's mix differs from the population's (χ²(3) = 41.20, p < 0.001, Cohen's w = 0.13)."
    """
    msg = (N_("{variable}: the sample's mix differs from the population's (χ²({dof}) = {chi2}, {p}, "
           "Cohen's w = {w}).") if test["p_value"] < 0.05 else
           N_("{variable}: the sample's mix is consistent with the population's (χ²({dof}) = {chi2}, {p}, "
           "Cohen's w = {w})."))
    text = _(msg, variable=test["variable"], dof=test["dof"], chi2=f"{test['chi2']:.2f}",
             p=format_p(test["p_value"]), w=f"{test['cohens_w']:.2f}")
    return f"{text} {tr(test['note'])}".strip() if test.get("note") else text


def lost_message(fit: dict[str, Any]) -> str:
    """One sentence on the goodness of fit of lost-customer reasons to the benchmark."""
    if fit.get("suppressed"):
        return _("Too few lost customers with a reason to compare with the benchmark.")
    p = fit["p_value_mc"] if pd.notna(fit.get("p_value_mc")) else fit["p_value"]
    msg = (N_("Reasons given by {n:,} lost customers differ from the benchmark (χ²({df}) = {chi2}, {p}; "
           "{method}).") if p < 0.05 else
           N_("Reasons given by {n:,} lost customers are consistent with the benchmark (χ²({df}) = {chi2}, "
           "{p}; {method})."))
    text = _(msg, n=fit["n"], df=fit["df"], chi2=f"{fit['chi2']:.2f}", p=format_p(p), method=tr(fit["method"]))
    return f"{text} {tr(fit['note'])}".strip() if fit.get("note") else text


def overview_display(overview: pd.DataFrame) -> pd.DataFrame:
    """The complaint overview with each metric in its own unit: shares as percentages, days
    and rates with one decimal, counts whole (by the table's ``unit`` column).

    Examples
    --------
    >>> t = pd.DataFrame({"metric": ["Resolved within SLA", "Complaints"], "value": [0.6143, 300.0],
    ...                   "n": [293, 300], "definition": ["", ""], "unit": ["share", "count"]})
    >>> overview_display(t)["value"].tolist()
    ['61.4%', '300']
    """
    def show(unit: str, value: Any) -> str:
        if value is None or pd.isna(value):
            return "n/a"
        if unit == "share":
            return fmt_pct(value, 1)
        if unit in {"days", "rate"}:
            return f"{value:.1f}"
        return fmt_num(value, 1) if not float(value).is_integer() else f"{int(value):,}"
    out = overview.copy()
    units = out["unit"] if "unit" in out else pd.Series("count", index=out.index)
    out["value"] = [show(u, v) for u, v in zip(units, out["value"], strict=True)]
    return out.drop(columns=["unit"], errors="ignore")


def with_labels(table: pd.DataFrame, labels: dict[str, str], *, column: str = "attribute") -> pd.DataFrame:
    """A copy of ``table`` with the reader's label in place of the attribute id column.

    Examples
    --------
    >>> with_labels(pd.DataFrame({"attribute": ["wait"], "x": [1]}), {"wait": "Waiting time"})["attribute"].tolist()
    ['Waiting time']
    """
    out = table.copy()
    out[column] = out[column].map(lambda a: labels.get(a, a))
    return out


IPA_FORMATS = {"performance": "{:.2f}", "p_quadrant": "{:.2f}"}


def quadrant_certainty_message(ipa_table: pd.DataFrame) -> str:
    """One sentence on how sure the IPA quadrants are (bootstrap probability ``p_quadrant``).

    Names the attributes whose quadrant is a coin toss (probability below
    :data:`~csm_helpers.analysis.drivers.QUADRANT_SURE`), or says every quadrant holds, or why
    the probability was not computed.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Fees", "Speed", "App"], "quadrant": ["Concentrate here"] * 3,
    ...                   "p_quadrant": [0.97, 0.55, 0.62], "suppressed": False})
    >>> quadrant_certainty_message(t)
    '2 of 3 attributes sit in their quadrant in fewer than 80% of the bootstrap resamples and are greyed out in the chart: their quadrant could as well be a neighbouring one (Speed 55%, App 62%).'
    """
    from csm_helpers.analysis.drivers import QUADRANT_SURE

    shown = ipa_table.loc[~ipa_table["suppressed"].astype(bool)] if "suppressed" in ipa_table.columns else ipa_table
    if "p_quadrant" not in shown.columns or not shown["p_quadrant"].notna().any():
        reason = ipa_table.attrs.get("p_quadrant_reason")
        return tr(reason) if reason else ""
    known = shown.loc[shown["p_quadrant"].notna()]
    unsure = known.loc[known["p_quadrant"] < QUADRANT_SURE]
    if unsure.empty:
        return _("Every attribute sits in its quadrant in at least {sure} of the bootstrap resamples.",
                 sure=fmt_pct(QUADRANT_SURE, 0))
    names = ", ".join(f"{tr(str(r.label))} {fmt_pct(float(r.p_quadrant), 0)}" for r in unsure.itertuples())
    return _("{k} of {n} attributes sit in their quadrant in fewer than {sure} of the bootstrap resamples and are "
             "greyed out in the chart: their quadrant could as well be a neighbouring one ({names}).",
             k=len(unsure), n=len(known), sure=fmt_pct(QUADRANT_SURE, 0), names=names)


def left_out_message(left_out: dict[str, int]) -> str:
    """One sentence on the export rows left out when read (empty when none were).

    Examples
    --------
    >>> left_out_message({"survey preview": 3, "unfinished": 12})
    'Left out when the export was read: 3 survey previews and 12 unfinished responses (keep them with responses.qualtrics in study.yaml).'
    >>> left_out_message({})
    ''
    """
    previews, unfinished = left_out.get("survey preview", 0), left_out.get("unfinished", 0)
    if not previews and not unfinished:
        return ""
    return _("Left out when the export was read: {previews:,} survey previews and {unfinished:,} unfinished "
             "responses (keep them with responses.qualtrics in study.yaml).", previews=previews,
             unfinished=unfinished)


def exclusion_message(table: pd.DataFrame, *, min_n: int) -> str:
    """One sentence on what the data-quality exclusions did to the headline KPIs of the wave.

    ``table`` is :func:`csm_helpers.analysis.measurement.exclusion_sensitivity`. When fewer than
    ``min_n`` responses were set aside, the KPIs without the exclusions are not given: next to
    the reported ones they would reveal the excluded respondents' answers by difference.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["csat_top2", "nps"], "n_kept": [240, 240], "value_kept": [0.7, -9.3],
    ...                   "n_all": [250, 250], "value_all": [0.71, -8.4]})
    >>> exclusion_message(t, min_n=5)
    'The data-quality checks set aside 10 of 250 responses of this wave. With them, the KPIs would read: CSAT (top-2 box) 71.0% (reported 70.0%), NPS (−100 to +100) −8.4 (reported −9.3).'
    >>> exclusion_message(t.assign(n_all=243), min_n=5)
    'The data-quality checks set aside 3 responses of this wave, fewer than 5: the KPIs with them are not shown, as the difference would reveal their answers.'
    """
    if table is None or not len(table):
        return ""
    n_kept, n_all = int(table["n_kept"].max()), int(table["n_all"].max())
    dropped = n_all - n_kept
    if dropped <= 0:
        return _("The data-quality checks set aside no response of this wave: every KPI uses all {n:,}.", n=n_all)
    if dropped < min_n:
        return _("The data-quality checks set aside {k} responses of this wave, fewer than {min_n}: the KPIs with "
                 "them are not shown, as the difference would reveal their answers.", k=dropped, min_n=min_n)
    parts = [_("{kpi} {value} (reported {reported})", kpi=kpi_label(r["kpi"]), value=format_kpi(r["kpi"], r["value_all"]),
               reported=format_kpi(r["kpi"], r["value_kept"])) for r in table.to_dict(orient="records")]
    return _("The data-quality checks set aside {k:,} of {n:,} responses of this wave. With them, the KPIs would "
             "read: {kpis}.", k=dropped, n=n_all, kpis=", ".join(parts))


KANO_FORMATS = {**{f"share_{c}": (lambda v: fmt_pct(v, 0)) for c in "AOMIRQ"},
                "better": "{:.2f}", "worse": "{:.2f}", "better_ci": str, "worse_ci": str}
KANO_HEADERS = {"label": N_("Feature"), "category": N_("Kano category"), "share_A": N_("A"), "share_O": N_("O"),
                "share_M": N_("M"), "share_I": N_("I"), "share_R": N_("R"), "share_Q": N_("Q"),
                "better": N_("Better"), "better_ci": N_("Better, confidence interval"), "worse": N_("Worse"),
                "worse_ci": N_("Worse, confidence interval")}


def kano_display(kano: pd.DataFrame) -> pd.DataFrame:
    """The Kano table as the report shows it: the category by name — "A/O" style when Fong's test
    cannot tell the two most frequent apart — the six shares, Better and Worse with intervals.

    Examples
    --------
    >>> t = pd.DataFrame({"feature": ["app"], "label": ["App"], "n": [200], "share_A": [0.1], "share_O": [0.3],
    ...                   "share_M": [0.5], "share_I": [0.1], "share_R": [0.0], "share_Q": [0.0], "category": ["M"],
    ...                   "runner_up": ["O"], "clear": [True], "better": [0.4], "better_ci_low": [0.33],
    ...                   "better_ci_high": [0.47], "worse": [-0.8], "worse_ci_low": [-0.85], "worse_ci_high": [-0.74],
    ...                   "suppressed": [False]})
    >>> kano_display(t)[["category", "worse_ci"]].iloc[0].tolist()
    ['Must-be', '−0.85 to −0.74']
    """
    from csm_helpers.analysis.kano import CATEGORY_NAMES

    def name(row: Any) -> Any:
        if row.suppressed or not isinstance(row.category, str):
            return None
        first = tr(CATEGORY_NAMES[row.category])
        if row.clear is False and isinstance(row.runner_up, str):
            return _("{first} or {second} (not clear)", first=first, second=tr(CATEGORY_NAMES[row.runner_up]))
        return first

    def interval(lo: Any, hi: Any) -> str:
        if pd.isna(lo) or pd.isna(hi):
            return ""
        return _("{low} to {high}", low=f"{lo:.2f}".replace("-", MINUS), high=f"{hi:.2f}".replace("-", MINUS))

    out = kano[["label", "n", *(f"share_{c}" for c in "AOMIRQ"), "better", "worse", "suppressed"]].copy()
    out.insert(2, "category", [name(r) for r in kano.itertuples()])
    out.insert(out.columns.get_loc("better") + 1, "better_ci",
               [interval(a, b) for a, b in zip(kano["better_ci_low"], kano["better_ci_high"], strict=True)])
    out.insert(out.columns.get_loc("worse") + 1, "worse_ci",
               [interval(a, b) for a, b in zip(kano["worse_ci_low"], kano["worse_ci_high"], strict=True)])
    out.attrs.update(kano.attrs)
    return out


#: What each Kano category means for action, as the report's summary says it.
_KANO_MEANING = {
    "M": N_("Must-be (taken for granted: falling short dissatisfies, doing well earns no credit)"),
    "O": N_("One-dimensional (the better, the more satisfied)"),
    "A": N_("Attractive (a delighter: missing it costs little, having it pleases)"),
    "I": N_("Indifferent (customers hardly care either way)"),
    "R": N_("Reverse (more customers would rather not have it)"),
    "Q": N_("Questionable (contradictory answers: check the questions)"),
}


def kano_message(kano: pd.DataFrame) -> str:
    """The features grouped by Kano category in one paragraph, must-be first, with the features
    whose category Fong's test cannot settle named apart.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["App", "Chat", "Fees"], "category": ["M", "A", "O"], "runner_up": ["O", "I", "M"],
    ...                   "clear": [True, True, False], "suppressed": [False, False, False]})
    >>> print(kano_message(t))
    Must-be (taken for granted: falling short dissatisfies, doing well earns no credit): App. One-dimensional (the better, the more satisfied): Fees. Attractive (a delighter: missing it costs little, having it pleases): Chat. Not clear between the two most frequent categories (Fong's test): Fees.
    """
    shown = kano.loc[~kano["suppressed"].astype(bool) & kano["category"].notna()]
    if shown.empty:
        return _("No feature has enough answers in this report for a Kano classification.")
    parts = []
    for cat in ("M", "O", "A", "I", "R", "Q"):
        names = [tr(str(r.label)) for r in shown.itertuples() if r.category == cat]
        if names:
            parts.append(f"{tr(_KANO_MEANING[cat])}: {', '.join(names)}.")
    unclear = [tr(str(r.label)) for r in shown.itertuples() if r.clear is False]
    if unclear:
        parts.append(_("Not clear between the two most frequent categories (Fong's test): {names}.",
                       names=", ".join(unclear)))
    hidden = int(kano["suppressed"].astype(bool).sum())
    if hidden:
        parts.append(_("{k} feature(s) withheld: too few answers in this report.", k=hidden))
    return " ".join(parts)


def follow_up_message(follow_up: pd.DataFrame, *, file: str | None, min_n: int) -> str:
    """How many customers are on the follow-up list and where it is — never who they are.

    The count is shown as "fewer than ``min_n``" when small (SPEC §4): in a small segment even
    the number of unhappy customers says too much. The split into dissatisfied and detractors
    is shown only when no part of the list — dissatisfied only, detractor only, both — is under
    ``min_n`` (:func:`~csm_helpers.analysis.stats.suppressed_groups`, SPEC §4): every count the
    split publishes, or a difference of them gives, is a sum of those parts.

    Examples
    --------
    >>> t = pd.DataFrame({"why": ["dissatisfied", "detractor", "dissatisfied, detractor"] * 5})
    >>> print(follow_up_message(t, file="follow_up.csv", min_n=5))
    15 customers who agreed to be contacted are dissatisfied or detractors: 10 dissatisfied, 10 detractors. Their list (id, segment, lowest-rated attributes, comment) is in follow_up.csv beside this report, readable by its owner only; it holds personal data and is in no report. Fill in its last columns (contacted, resolved, still a customer) and name it as follow_up.outcomes for the next wave.
    >>> print(follow_up_message(t.head(3), file=None, min_n=5))  # doctest: +ELLIPSIS
    Fewer than 5 customers who agreed to be contacted are dissatisfied or detractors. ...
    >>> print(follow_up_message(t.head(7), file=None, min_n=5))  # doctest: +ELLIPSIS
    7 customers who agreed to be contacted are dissatisfied or detractors (how many are which is withheld: ...
    """
    n = len(follow_up)
    why = follow_up["why"].astype(str) if n else pd.Series(dtype=str)
    unhappy = int(why.str.contains("dissatisfied").sum())
    detractors = int(why.str.contains("detractor").sum())
    if n == 0:
        head = _("No customer who agreed to be contacted is dissatisfied or a detractor.")
    elif n < min_n:
        head = _("Fewer than {min_n} customers who agreed to be contacted are dissatisfied or detractors.",
                 min_n=min_n)
    elif not suppressed_groups({"dissatisfied only": n - detractors, "detractor only": n - unhappy,
                                "both": unhappy + detractors - n}, min_n):
        head = _("{n} customers who agreed to be contacted are dissatisfied or detractors: {a} dissatisfied, "
                 "{b} detractors.", n=format_count(n), a=format_count(unhappy), b=format_count(detractors))
    else:  # a part, or a difference of the published counts, would be a group under min_n
        head = _("{n} customers who agreed to be contacted are dissatisfied or detractors (how many are which is "
                 "withheld: a group would have fewer than {min_n}).", n=format_count(n), min_n=min_n)
    if n == 0:
        return head
    if file:
        where = _("Their list (id, segment, lowest-rated attributes, comment) is in {file} beside this report, "
                  "readable by its owner only; it holds personal data and is in no report.", file=file)
    else:
        where = _("The list is written only when the report is exported with an output folder (csm run), since it "
                  "holds personal data.")
    return " ".join([head, where, _("Fill in its last columns (contacted, resolved, still a customer) and name it "
                                    "as follow_up.outcomes for the next wave.")])


#: What each row of :func:`csm_helpers.analysis.action.follow_up_outcomes` measures, as the report says it.
_OUTCOME_MEASURES = {
    "listed": N_("Customers on last wave's list"),
    "contacted": N_("Contacted"),
    "resolved": N_("Problem resolved (of those contacted)"),
    "still_customer_contacted": N_("Still a customer: contacted"),
    "still_customer_not_contacted": N_("Still a customer: not contacted"),
    "retention_difference": N_("Difference, contacted minus not contacted (Fisher's exact test)"),
}
OUTCOME_FORMATS: dict[str, Any] = {}


def outcomes_display(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The follow-up outcomes with each measure in words, shares as percentages and the retention
    difference in points.

    Examples
    --------
    >>> t = pd.DataFrame({"measure": ["contacted", "retention_difference"], "n": [40, 30], "value": [0.75, 0.12],
    ...                   "ci_low": [0.6, float("nan")], "ci_high": [0.86, float("nan")], "p_value": [float("nan"), 0.3],
    ...                   "suppressed": [False, False]})
    >>> outcomes_display(t)[["measure", "value", "ci_low"]].values.tolist()
    [['Contacted', '75%', '60%'], ["Difference, contacted minus not contacted (Fisher's exact test)", '+12.0 points', '']]
    """
    def pct(v: Any) -> str:
        return "" if pd.isna(v) else fmt_pct(v, 0)

    out = outcomes.copy()
    out["measure"] = [tr(_OUTCOME_MEASURES.get(m, m)) for m in outcomes["measure"]]
    out["value"] = ["" if pd.isna(v) or m == "listed" else _points(v) if m == "retention_difference" else pct(v)
                    for m, v in zip(outcomes["measure"], outcomes["value"], strict=True)]
    out["ci_low"] = [pct(v) for v in outcomes["ci_low"]]
    out["ci_high"] = [pct(v) for v in outcomes["ci_high"]]
    out["p_value"] = ["" if pd.isna(p) else format_p_cell(p) for p in outcomes["p_value"]]  # only the test has a p
    out.attrs.update(outcomes.attrs)
    return out[["measure", "n", "value", "ci_low", "ci_high", "p_value", "suppressed"]]


ACTION_CHECK_FORMATS = {"target": "{:.2f}", "previous": "{:.2f}", "latest": "{:.2f}", "change": "{:+.2f}",
                        "ci_low": "{:+.2f}", "ci_high": "{:+.2f}", "p_value": format_p_cell, "p_adj": format_p_cell}


def action_check_display(checked: pd.DataFrame) -> pd.DataFrame:
    """Last wave's actions with ``improved`` and ``target_met`` in words (yes / no / no target).

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Fees"], "action": ["cut"], "owner": ["Ana"], "due_date": [""], "target": [3.5],
    ...                   "previous": [3.1], "latest": [3.6], "change": [0.5], "ci_low": [0.2], "ci_high": [0.8],
    ...                   "p_value": [0.001], "p_adj": [0.001], "improved": [True], "target_met": [None],
    ...                   "suppressed": [False]})
    >>> action_check_display(t)[["improved", "target_met"]].iloc[0].tolist()
    ['yes', 'no target']
    """
    out = checked.copy()
    out["improved"] = [_yes_no(v, "n/a") for v in checked["improved"]]
    out["target_met"] = [_yes_no(v, _("no target")) for v in checked["target_met"]]
    return out[["label", "action", "owner", "due_date", "target", "previous", "latest", "change", "ci_low", "ci_high",
                "p_value", "p_adj", "improved", "target_met", "suppressed"]]


MODEL_FORMATS = {"coefficient": "{:+.3f}", "ci_low": "{:+.3f}", "ci_high": "{:+.3f}", "p_value": format_p_cell,
                 "r2": "{:.2f}", "ave": "{:.2f}", "dg_rho": "{:.2f}", "c_alpha": "{:.2f}", "weight": "{:.3f}",
                 "loading": "{:.3f}", "communality": "{:.2f}"}


MODEL_HEADERS = {"r2": "R²", "ave": N_("AVE"), "dg_rho": N_("Dillon–Goldstein ρ"), "c_alpha": N_("Cronbach's α"),
                 "ci_low": N_("CI low"), "ci_high": N_("CI high"), "from": N_("From"), "to": N_("To")}


def model_message(model: dict[str, Any], *, labels: dict[str, str] | None = None) -> str:
    """The satisfaction index with its bootstrap interval, the R² of the index block and the
    goodness of fit, in one paragraph (``model``: :attr:`StageContext.satisfaction_model`).

    Examples
    --------
    >>> import numpy as np
    >>> boot = pd.DataFrame({"what": ["index"], "from": ["sat"], "to": [""], "estimate": [71.3], "ci_low": [69.8],
    ...                      "ci_high": [72.9]})
    >>> class R:
    ...     r2 = pd.Series({"sat": 0.56}); gof = 0.61; n = 250; scheme = "centroid"
    >>> print(model_message({"result": R, "bootstrap": boot, "index": 71.3, "index_block": "sat", "level": 0.95,
    ...                      "weighted": False}))
    Satisfaction index (Sat): 71.3 of 100 (95% bootstrap interval 69.8 to 72.9), from the unstandardised outer weights of its items (Fornell et al. 1996). The model explains R² = 0.56 of Sat; goodness of fit 0.61; 250 respondents with every item answered, centroid scheme.
    """
    result, block = model["result"], model["index_block"]
    name = block_label(block, labels)
    boot = model["bootstrap"]
    row = boot.loc[boot["what"] == "index"]
    ci = ""
    if len(row) and pd.notna(row["ci_low"].iloc[0]):
        ci = " " + _("({level} bootstrap interval {low} to {high})", level=fmt_pct(model.get("level", 0.95), 0),
                     low=f"{row['ci_low'].iloc[0]:.1f}", high=f"{row['ci_high'].iloc[0]:.1f}")
    parts = [_("Satisfaction index ({block}): {value} of 100{ci}, from the unstandardised outer weights of its items "
               "(Fornell et al. 1996).", block=name, value=f"{model['index']:.1f}", ci=ci)]
    r2 = result.r2.get(block) if hasattr(result.r2, "get") else None
    fit = _("goodness of fit {gof}", gof=f"{result.gof:.2f}") if pd.notna(result.gof) else ""
    parts.append(_("The model explains R² = {r2} of {block}; {fit}; {n} respondents with every item answered, {scheme} "
                   "scheme.", r2=f"{r2:.2f}" if r2 is not None else "n/a", block=name, fit=fit,
                   n=format_count(result.n), scheme=tr(result.scheme)))
    if model.get("weighted"):
        parts.append(_("The model is estimated unweighted: PLS path modelling has no survey weights."))
    return " ".join(parts)


def model_paths_display(model: dict[str, Any], *, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The path coefficients with their bootstrap intervals and OLS p-values, blocks by label."""
    names = labels or {}
    paths = model["result"].paths
    boot = model["bootstrap"]
    ci = boot.loc[boot["what"] == "path"].set_index(["from", "to"])[["ci_low", "ci_high"]]
    out = paths.join(ci, on=["from", "to"])
    out["from"] = [block_label(b, names) for b in paths["from"]]
    out["to"] = [block_label(b, names) for b in paths["to"]]
    return out[["from", "to", "coefficient", "ci_low", "ci_high", "p_value"]]


def model_blocks_display(model: dict[str, Any], *, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Per block: items, R² (endogenous), AVE, Dillon–Goldstein's rho and Cronbach's alpha."""
    t = model["result"].blocks_summary.reset_index().rename(columns={"index": "block"})
    first = t.columns[0]
    t["block"] = [block_label(b, labels) for b in t[first]]
    t["r2"] = [r if kind == "endogenous" else float("nan") for r, kind in zip(t["r2"], t["type"], strict=True)]
    return t[["block", "items", "r2", "ave", "dg_rho", "c_alpha"]]


def model_items_display(model: dict[str, Any], *, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The outer model: each item's block, weight, loading and communality."""
    t = model["result"].outer.copy()
    t["block"] = [block_label(b, labels) for b in t["block"]]
    return t[["block", "item", "weight", "loading", "communality"]]
