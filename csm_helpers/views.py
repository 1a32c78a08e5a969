"""How analysis tables are shown to the report's reader: number formats and sentences.

The helpers return full-precision tables; this module holds the display step (SPEC:
rounding belongs to display): which columns are percentages, how many decimals, and the
one-line findings the notebooks print above a table. Nothing here computes a statistic.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .display import fmt_num, fmt_pct

__all__ = ["kpi_display", "change_display", "progress_display", "PRIORITY_FORMATS", "SIGMA_FORMATS", "GAP_FORMATS", "DRIVER_FORMATS", "SHARE_FORMATS",
           "THEME_FORMATS", "COMPETITOR_FORMATS", "SCORE_FORMATS", "representativeness_message",
           "lost_message", "segment_findings", "segment_tables", "overview_display", "with_labels"]


def _p(value: Any) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _kpi_value(kpi: str, value: Any) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if kpi == "csat_top2":
        return fmt_pct(value, 1)
    if kpi == "nps":
        return f"{value:+.1f}"
    return f"{value:.1f}"


KPI_LABELS = {"csat_top2": "CSAT (top-2 box)", "csi": "CSI (0–100)", "nps": "NPS (−100 to +100)"}


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
            "KPI": KPI_LABELS.get(k, k),
            "value": "suppressed" if suppressed else _kpi_value(k, r.get("value")),
            "95% interval": "" if suppressed else
            f"{_kpi_value(k, r.get('ci_low'))} – {_kpi_value(k, r.get('ci_high'))}",
            "n": fmt_num(int(r["n"])) if pd.notna(r.get("n")) else "n/a",
            "target": _kpi_value(k, r.get("target")) if pd.notna(r.get("target")) else "none",
            "status": r.get("status") or "",
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
            change_text = f"{100 * change:+.1f} points"
        else:
            change_text = f"{change:+.1f}"
        row = {"wave": r["wave"], "KPI": KPI_LABELS.get(k, k),
               "value": "suppressed" if suppressed else _kpi_value(k, r.get("value")),
               "95% interval": "" if suppressed else
               f"{_kpi_value(k, r.get('ci_low'))} – {_kpi_value(k, r.get('ci_high'))}",
               "n": fmt_num(r.get("n"), 0),
               "target": _kpi_value(k, r.get("target")) if pd.notna(r.get("target")) else "none",
               "attainment": r.get("attainment") or "",
               "change": change_text, "p": "" if not change_text else _p(r.get("p_value")),
               "significant": {True: "yes", False: "no"}.get(r.get("significant"), "")}
        rows.append(row)
    return pd.DataFrame(rows)


def change_display(change: pd.DataFrame) -> pd.DataFrame:
    """The wave-on-wave KPI table as text."""
    rows = []
    for r in change.to_dict(orient="records"):
        k = r["kpi"]
        if r.get("suppressed"):
            rows.append({"KPI": KPI_LABELS.get(k, k), "previous": "suppressed", "latest": "suppressed",
                         "change": "", "test": r.get("test", ""), "p": "", "significant": ""})
            continue
        diff = r.get("change")
        if k == "csat_top2":
            diff_text = "n/a" if pd.isna(diff) else f"{100 * diff:+.1f} points"
        else:
            diff_text = "n/a" if pd.isna(diff) else f"{diff:+.1f}"
        rows.append({
            "KPI": KPI_LABELS.get(k, k),
            "previous": f"{_kpi_value(k, r.get('previous'))} (n {fmt_num(r.get('n_previous'), 0)})",
            "latest": f"{_kpi_value(k, r.get('latest'))} (n {fmt_num(r.get('n_latest'), 0)})",
            "change": diff_text,
            "test": r.get("test", ""),
            "p": _p(r.get("p_value")),
            "significant": {True: "yes", False: "no"}.get(r.get("significant"), "n/a"),
        })
    return pd.DataFrame(rows)


GAP_FORMATS = {"mean_perception": "{:.2f}", "mean_expectation": "{:.2f}", "mean_gap": "{:+.2f}",
               "ci_low": "{:+.2f}", "ci_high": "{:+.2f}", "p_value": _p, "cohen_dz": "{:+.2f}",
               "share_dissatisfied": fmt_pct, "share_satisfied": fmt_pct, "share_delighted": fmt_pct}
DRIVER_FORMATS = {"r": "{:.3f}", "beta": "{:+.3f}", "relative_weight": "{:.3f}", "rw_pct": "{:.1f}%",
                  "rw_ci_low": "{:.3f}", "rw_ci_high": "{:.3f}"}
SHARE_FORMATS = {"share": lambda v: fmt_pct(v, 1), "value": lambda v: fmt_pct(v, 1),
                 "ci_low": lambda v: fmt_pct(v, 1), "ci_high": lambda v: fmt_pct(v, 1), "n_eff": "{:,.0f}"}
THEME_FORMATS = {"share_of_commenters": lambda v: fmt_pct(v, 1), "share_of_respondents": lambda v: fmt_pct(v, 1)}
COMPETITOR_FORMATS = {"own": "{:.2f}", "competitor": "{:.2f}", "gap": "{:+.2f}", "ci_low": "{:+.2f}",
                      "ci_high": "{:+.2f}", "t": "{:.2f}", "df": "{:.0f}", "p_value": _p, "n_eff": "{:,.0f}"}
PRIORITY_FORMATS = {"importance": "{:.2f}", "performance": "{:.2f}", "gap": "{:.2f}", "score": "{:.3f}",
                    "expectation_gap": "{:+.2f}", "competitor_gap": "{:+.2f}"}
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
    differs = test["p_value"] < 0.05
    verdict = "differs from" if differs else "is consistent with"
    text = (f"{test['variable']}: the sample's mix {verdict} the population's (χ²({test['dof']}) = "
            f"{test['chi2']:.2f}, p {_fmt_p(test['p_value'])}, Cohen's w = {test['cohens_w']:.2f}).")
    return f"{text} {test['note']}".strip() if test.get("note") else text


def lost_message(fit: dict[str, Any]) -> str:
    """One sentence on the goodness of fit of lost-customer reasons to the benchmark."""
    if fit.get("suppressed"):
        return "Too few lost customers with a reason to compare with the benchmark."
    p = fit["p_value_mc"] if pd.notna(fit.get("p_value_mc")) else fit["p_value"]
    verdict = "differ from" if p < 0.05 else "are consistent with"
    text = (f"Reasons given by {fit['n']:,} lost customers {verdict} the benchmark "
            f"(χ²({fit['df']}) = {fit['chi2']:.2f}, p {_fmt_p(p)}; {fit['method']}).")
    return f"{text} {fit['note']}".strip() if fit.get("note") else text


def segment_findings(means: dict[str, Any], top: dict[str, Any]) -> list[str]:
    """Sentences summarising a segment comparison (tests run, or why not)."""
    out = []
    if means.get("message"):
        out.append(means["message"])
    else:
        wa = means["welch_anova"].iloc[0]
        kw = means["kruskal"].iloc[0]
        out.append(f"Means differ {'significantly' if wa['p_value'] < 0.05 else 'not significantly'} across "
                   f"segments: Welch's F({wa['df1']:.0f}, {wa['df2']:.1f}) = {wa['F']:.2f}, p {_fmt_p(wa['p_value'])}, "
                   f"partial η² = {wa['np2']:.3f}; Kruskal-Wallis H({kw['dof']:.0f}) = {kw['H']:.2f}, "
                   f"p {_fmt_p(kw['p_value'])}, ε² = {kw['epsilon2']:.3f}.")
    if top.get("message"):
        out.append(top["message"])
    else:
        c = top["chi2"].iloc[0]
        out.append(f"Top-2-box shares: χ²({c['dof']:.0f}) = {c['chi2']:.2f}, p {_fmt_p(c['p_value'])}, "
                   f"Cramér's V = {c['cramers_v']:.3f}.")
    if means.get("note"):
        out.append(means["note"])
    return out


def _fmt_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def segment_tables(means: dict[str, Any], top: dict[str, Any]) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """Caption -> (table, formats) for every table of a segment comparison."""
    out: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {
        "Means by segment": (means["groups"], {"mean": "{:.2f}", "sd": "{:.2f}", "ci_low": "{:.2f}",
                                               "ci_high": "{:.2f}", "n_eff": "{:,.0f}"}),
        "Top-2-box share by segment": (top["groups"], {"share": fmt_pct, "ci_low": fmt_pct, "ci_high": fmt_pct}),
    }
    if not means.get("message"):
        out["Games-Howell pairwise comparisons of means"] = (
            means["games_howell"], {"mean_A": "{:.2f}", "mean_B": "{:.2f}", "diff": "{:+.2f}", "se": "{:.3f}",
                                    "t": "{:.2f}", "df": "{:.1f}", "p_value": _p, "hedges": "{:+.2f}"})
        out["Mann-Whitney pairwise comparisons (Holm-corrected)"] = (
            means["pairwise_mw"], {"U": "{:,.0f}", "p_unc": _p, "p_holm": _p, "rbc": "{:+.3f}"})
    if not top.get("message"):
        out["Pairwise top-2-box comparisons (Holm-corrected)"] = (
            top["pairwise"], {"share_A": fmt_pct, "share_B": fmt_pct, "diff": "{:+.3f}", "z": "{:.2f}",
                              "p_unc": _p, "p_holm": _p})
    return out


def overview_display(overview: pd.DataFrame) -> pd.DataFrame:
    """The complaint overview with each metric in its own unit (shares as %, days, counts)."""
    def show(metric: str, value: Any) -> str:
        if value is None or pd.isna(value):
            return "n/a"
        if "share" in metric or metric.endswith("_rate") or metric == "complaint_rate":
            return fmt_pct(value, 2 if metric == "complaint_rate" else 1)
        if "days" in metric or "per_1000" in metric:
            return f"{value:.1f}"
        return fmt_num(value, 1) if not float(value).is_integer() else f"{int(value):,}"
    out = overview.copy()
    out["value"] = [show(m, v) for m, v in zip(out["metric"], out["value"], strict=True)]
    return out


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
