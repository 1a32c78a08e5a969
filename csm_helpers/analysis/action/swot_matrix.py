"""The SWOT of stage 05 from the analysis results, on adjusted p-values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.action.common import as_float, by_attribute, one_per_attribute
from csm_helpers.analysis.drivers import CONCENTRATE, KEEP_UP
from csm_helpers.core.checks import require_table
from csm_helpers.core.i18n import N_, _, tr

__all__ = ["SWOT_CATEGORIES", "swot", "swot_display"]


#: Categories of :func:`swot`, in the order they are listed.
#: Kept in English in the table (it goes to metrics.json); the display step translates them.
SWOT_CATEGORIES = (N_("Strength"), N_("Weakness"), N_("Opportunity"), N_("Threat"))


_KPI_NAMES = {"csat_top2": N_("CSAT (top-2 box)"), "csi": "CSI", "nps": "NPS"}


# --------------------------------------------------------------------------- SWOT
def _f(v: float, digits: int = 2) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"


def _p(p: float, *, shown: bool = False, adjusted: float | None = None) -> str:
    if not math.isfinite(p):
        return _(_P_NOT_DEFINED) if shown else _P_NOT_DEFINED
    text = "p < 0.001" if p < 0.001 else f"p = {p:.3g}"
    if adjusted is not None and math.isfinite(adjusted):
        adj = "< 0.001" if adjusted < 0.001 else f"{adjusted:.3g}"
        text += f" ({_(_P_ADJUSTED, p=adj) if shown else _P_ADJUSTED.format(p=adj)})"
    return text


_P_ADJUSTED = N_("BH-adjusted {p}")


_P_NOT_DEFINED = N_("p not defined")


def _both(msgid: str, en: dict[str, Any], shown: dict[str, Any] | None = None) -> tuple[str, str]:
    """``(English, report language)`` of a message; ``shown`` overrides values for the second."""
    return msgid.format(**en), _(msgid, **{**en, **(shown or {})})


def _join(*parts: tuple[str, str]) -> tuple[str, str]:
    """Clauses of an evidence text, joined with "; " in both languages."""
    return "; ".join(p[0] for p in parts), "; ".join(p[1] for p in parts)


def swot(ipa_table: pd.DataFrame, *, competitor: pd.DataFrame | None = None, change: pd.DataFrame | None = None,
         drivers: pd.DataFrame | None = None) -> pd.DataFrame:
    """SWOT from data (SPEC §1.5): every entry traced to the numbers behind it.

    - **Strength**: high importance and high performance — IPA quadrant "Keep up the good work".
    - **Weakness**: high importance and low performance — IPA quadrant "Concentrate here".
    - **Opportunity**: (a) an important attribute (importance at or above the IPA cross-hair)
      on which the company is level with the competitor (no significant paired difference,
      :func:`csm_helpers.analysis.gaps.competitor_benchmark` flag "level") — room to pull ahead; (b) a
      significant improvement since the previous wave (``change`` > 0 and ``significant``).
    - **Threat**: (a) significantly worse than the competitor (flag "worse"), whatever the
      importance; (b) a significant decline since the previous wave.

    "High" and "low" are the IPA table's (quadrant and ``y_cross``); "significant" is the
    tables' own decision at their confidence level — for the per-attribute families (competitor
    flags, attribute change) after the Benjamini–Hochberg correction, whose ``p_adj`` the
    evidence quotes beside the raw p. Suppressed rows give no entry. The driver
    table only adds the relative weight to the evidence.

    Parameters
    ----------
    ipa_table : pandas.DataFrame
        From :func:`csm_helpers.analysis.drivers.ipa`. Not modified.
    competitor : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.gaps.competitor_benchmark` (without ``by``).
    change : pandas.DataFrame, optional
        Trends: :func:`attribute_change` (per attribute) and/or
        :func:`csm_helpers.analysis.kpis.kpi_change` (per KPI; its ``kpi`` becomes the entry's
        ``attribute``); columns ``change``, ``p_value``, ``significant``.
    drivers : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.drivers.key_drivers` (``rw_pct`` quoted as evidence).

    Returns
    -------
    pandas.DataFrame
        Columns ``category`` ("Strength", "Weakness", "Opportunity", "Threat", in that
        order), ``attribute``, ``label``, ``statement`` (a plain sentence), ``evidence`` (the
        numbers: means, cross-hairs, gaps with their CI, p-values). Within a category the most
        important attribute comes first. The text is English (the table goes to metrics.json);
        ``attrs["shown"]`` holds label, statement and evidence in the report language, for
        :func:`swot_display`.

    Examples
    --------
    >>> ipa_t = pd.DataFrame({"attribute": ["fees", "staff"], "label": ["Fees", "Staff"],
    ...     "performance": [3.0, 4.2], "importance": [4.5, 4.4], "importance_type": "stated",
    ...     "x_cross": 3.6, "y_cross": 4.0, "quadrant": ["Concentrate here", "Keep up the good work"]})
    >>> swot(ipa_t)[["category", "attribute"]]
       category attribute
    0  Strength     staff
    1  Weakness      fees
    """
    require_table(ipa_table, ["attribute", "performance", "importance", "quadrant"], "IPA table", "drivers.ipa()")
    one_per_attribute(ipa_table, "IPA table")
    t = ipa_table.reset_index(drop=True)
    labels = {str(a): str(lab) for a, lab in zip(t["attribute"], t["label"] if "label" in t.columns
                                                  else t["attribute"], strict=True)}
    imp = {str(a): as_float(v) for a, v in zip(t["attribute"], t["importance"], strict=True)}
    perf = {str(a): as_float(v) for a, v in zip(t["attribute"], t["performance"], strict=True)}
    xc = as_float(t["x_cross"].iloc[0]) if "x_cross" in t.columns and len(t) else math.nan
    yc = as_float(t["y_cross"].iloc[0]) if "y_cross" in t.columns and len(t) else math.nan
    itype = str(t["importance_type"].iloc[0]) if "importance_type" in t.columns and len(t) else "stated"
    digits = 2 if itype == "stated" else 3
    drv = by_attribute(drivers, "key-driver table", "drivers.key_drivers()", ["rw_pct"])
    comp = by_attribute(competitor, "competitor benchmark", "gaps.competitor_benchmark()",
                         ["own", "competitor", "gap", "ci_low", "ci_high", "p_value", "flag"])

    def ipa_evidence(a: str) -> tuple[str, str]:
        cross = {"value": _f(imp[a], digits), "cross": _f(yc, digits)}
        if itype == "stated":
            importance = _both(N_("stated importance {value} (cross-hair {cross})"), cross)
        elif itype.startswith("derived (") and itype.endswith(")"):
            importance = _both(N_("derived ({column}) importance {value} (cross-hair {cross})"),
                               {**cross, "column": itype[len("derived ("):-1]})
        else:
            importance = _both(N_("{kind} importance {value} (cross-hair {cross})"), {**cross, "kind": itype},
                               {"kind": tr(itype)})
        parts = [_both(N_("performance {value} (cross-hair {cross})"), {"value": _f(perf[a]), "cross": _f(xc)}),
                 importance]
        if drv is not None and a in drv.index and math.isfinite(as_float(drv.loc[a, "rw_pct"])):
            parts.append(_both(N_("relative weight {value}% of R²"), {"value": f"{as_float(drv.loc[a, 'rw_pct']):.1f}"}))
        return _join(*parts)

    entries: list[dict[str, Any]] = []

    def add(cat: str, a: str, label: str, statement: tuple[str, str], evidence: tuple[str, str],
            importance: float, label_shown: str | None = None) -> None:
        entries.append({"category": cat, "attribute": a, "label": label, "statement": statement[0],
                        "evidence": evidence[0], "_imp": importance, "_statement": statement[1],
                        "_evidence": evidence[1], "_label": label if label_shown is None else label_shown})

    for a, q in zip(t["attribute"].astype(str), t["quadrant"], strict=True):
        if q == KEEP_UP:
            add(SWOT_CATEGORIES[0], a, labels[a],
                _both(N_("{label}: important to customers and performing well ({quadrant})."),
                      {"label": labels[a], "quadrant": KEEP_UP}, {"quadrant": tr(KEEP_UP)}),
                ipa_evidence(a), imp[a])
        elif q == CONCENTRATE:
            add(SWOT_CATEGORIES[1], a, labels[a],
                _both(N_("{label}: important to customers but performing below the other attributes ({quadrant})."),
                      {"label": labels[a], "quadrant": CONCENTRATE}, {"quadrant": tr(CONCENTRATE)}),
                ipa_evidence(a), imp[a])

    if comp is not None:
        for a in comp.index.astype(str):
            r = comp.loc[a]
            flag = r["flag"]
            if not isinstance(flag, str):
                continue
            label = labels.get(a, a)
            p = as_float(r["p_value"])
            q = as_float(r["p_adj"]) if "p_adj" in comp.columns else None
            ev = [_both(N_("own {own} vs competitor {competitor}"),
                        {"own": _f(as_float(r["own"])), "competitor": _f(as_float(r["competitor"]))}),
                  _both(N_("gap (own - competitor) {gap} (CI {low} to {high}), {p}"),
                        {"gap": _f(as_float(r["gap"])), "low": _f(as_float(r["ci_low"])), "high": _f(as_float(r["ci_high"])),
                         "p": _p(p, adjusted=q)}, {"p": _p(p, shown=True, adjusted=q)})]
            important = a in imp and math.isfinite(imp[a]) and math.isfinite(yc) and imp[a] >= yc
            if flag == "worse":
                add(SWOT_CATEGORIES[3], a, label,
                    _both(N_("{label}: rated significantly worse than the competitor."), {"label": label}),
                    _join(*ev), imp.get(a, math.nan))
            elif flag == "level" and important:
                ev.append(_both(N_("importance {value} (cross-hair {cross})"),
                                {"value": _f(imp[a], digits), "cross": _f(yc, digits)}))
                add(SWOT_CATEGORIES[2], a, label,
                    _both(N_("{label}: important to customers and level with the competitor — an edge here would "
                             "set the company apart."), {"label": label}),
                    _join(*ev), imp[a])

    if change is not None:
        key = "attribute" if "attribute" in change.columns else "kpi"
        require_table(change, [key, "change", "p_value",
                                                                                   "significant"], "change table", "attribute_change() or kpis.kpi_change()")
        for _i, r in change.iterrows():
            if "suppressed" in change.columns and bool(r["suppressed"]):
                continue
            sig = r["significant"]
            if sig is None or (isinstance(sig, float) and math.isnan(sig)) or not bool(sig):
                continue
            a = str(r[key])
            label = labels.get(a, _KPI_NAMES.get(a, a))
            label_shown = label if a in labels else tr(label)  # a KPI's name is fixed text, a label data
            ch = as_float(r["change"])
            p = as_float(r["p_value"])
            q = as_float(r["p_adj"]) if "p_adj" in change.columns else None
            digits_c = 3 if a == "csat_top2" else 2
            test = r["test"] if "test" in change.columns and isinstance(r["test"], str) else (
                "Welch t" if key == "attribute" else None)
            has_waves = "wave_previous" in change.columns and "wave_latest" in change.columns
            has_values = "previous" in change.columns and "latest" in change.columns
            if has_waves and has_values and test is not None:
                ev = _both(N_("change from {previous_wave} to {latest_wave} {change} ({previous} to {latest}), {p} "
                              "({test})"),
                           {"previous_wave": r["wave_previous"], "latest_wave": r["wave_latest"],
                            "change": f"{ch:+.{digits_c}f}", "previous": _f(as_float(r["previous"]), digits_c),
                            "latest": _f(as_float(r["latest"]), digits_c), "p": _p(p, adjusted=q), "test": test},
                           {"p": _p(p, shown=True, adjusted=q), "test": tr(test)})
            else:  # a hand-made change table: the evidence is shown in English
                waves = f" from {r['wave_previous']} to {r['wave_latest']}" if has_waves else ""
                text = f"change{waves} {ch:+.{digits_c}f}"
                if has_values:
                    text += f" ({_f(as_float(r['previous']), digits_c)} to {_f(as_float(r['latest']), digits_c)})"
                text += f", {_p(p)}" + (f" ({test})" if test is not None else "")
                ev = (text, text)
            if ch > 0:
                add(SWOT_CATEGORIES[2], a, label,
                    _both(N_("{label}: improved significantly since the previous wave — build on it."),
                          {"label": label}, {"label": label_shown}),
                    ev, imp.get(a, math.nan), label_shown)
            elif ch < 0:
                add(SWOT_CATEGORIES[3], a, label,
                    _both(N_("{label}: declined significantly since the previous wave."), {"label": label},
                          {"label": label_shown}),
                    ev, imp.get(a, math.nan), label_shown)

    cols = ["category", "attribute", "label", "statement", "evidence"]
    if not entries:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        empty.attrs["shown"] = {"label": [], "statement": [], "evidence": []}
        return empty
    out = pd.DataFrame(entries)
    out["_cat"] = out["category"].map({c: i for i, c in enumerate(SWOT_CATEGORIES)})
    out["_imp"] = -out["_imp"].astype(float).fillna(-np.inf)
    out = out.sort_values(["_cat", "_imp"], kind="stable").reset_index(drop=True)
    shown = {"label": out["_label"].tolist(), "statement": out["_statement"].tolist(),
             "evidence": out["_evidence"].tolist()}
    out = out[cols].copy()
    out.attrs["shown"] = shown
    return out


def swot_display(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`swot` table to show: statements, evidence and KPI names in the report language.

    The SWOT table itself keeps English text (it goes to metrics.json); the translations made
    with it are in ``table.attrs["shown"]``. Without them (or when rows were added or removed
    since) the table is returned as it is (a copy). Categories stay as they are: the display
    step translates them.

    Examples
    --------
    >>> ipa_t = pd.DataFrame({"attribute": ["fees"], "label": ["Fees"], "performance": [2.9],
    ...                       "importance": [4.5], "quadrant": ["Concentrate here"]})
    >>> swot_display(swot(ipa_t))["statement"].tolist()
    ['Fees: important to customers but performing below the other attributes (Concentrate here).']
    """
    out = table.copy()
    shown = table.attrs.get("shown") or {}
    for col in ("label", "statement", "evidence"):
        values = shown.get(col)
        if col in out.columns and values is not None and len(values) == len(out):
            out[col] = list(values)
    return out
