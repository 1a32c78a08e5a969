"""How a segment comparison is shown: its findings in sentences, its tables, and all its
pairs for a file beside the report (re-exported by :mod:`csm_helpers.present.views`).

With many segments the pairs outgrow a report: 80 branches give 3,160 pairs in each of the
three pairwise tables, a 2.2 MB page. The report then shows the pairs with the smallest
p-values, and the notebook writes every pair to a CSV file beside it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.present.catalogue import format_p, format_p_cell
from csm_helpers.present.display import fmt_pct

__all__ = ["PAIRS_SHOWN", "segment_findings", "segment_tables", "segment_pairs"]

#: A pairwise table of a segment comparison is shown whole up to this many pairs (ten
#: segments); a longer one shows this many, those with the smallest p-values.
PAIRS_SHOWN = 45


def segment_findings(means: dict[str, Any], top: dict[str, Any]) -> list[str]:
    """Sentences summarising a segment comparison (tests run, or why not)."""
    out = []
    if means.get("message"):
        out.append(tr(means["message"]))
    else:
        wa = means["welch_anova"].iloc[0]
        kw = means["kruskal"].iloc[0]
        msg = (N_("Means differ significantly across segments: Welch's F({df1}, {df2}) = {F}, {p}, partial η² = "
               "{np2}; Kruskal-Wallis H({dof}) = {H}, {p_kw}, ε² = {eps}.") if wa["p_value"] < 0.05 else
           N_("Means differ not significantly across segments: Welch's F({df1}, {df2}) = {F}, {p}, "
               "partial η² = {np2}; Kruskal-Wallis H({dof}) = {H}, {p_kw}, ε² = {eps}."))
        out.append(_(msg, df1=f"{wa['df1']:.0f}", df2=f"{wa['df2']:.1f}", F=f"{wa['F']:.2f}",
                     p=format_p(wa["p_value"]), np2=f"{wa['np2']:.3f}", dof=f"{kw['dof']:.0f}",
                     H=f"{kw['H']:.2f}", p_kw=format_p(kw["p_value"]), eps=f"{kw['epsilon2']:.3f}"))
    if top.get("message"):
        out.append(tr(top["message"]))
    else:
        c = top["chi2"].iloc[0]
        out.append(_("Top-2-box shares: χ²({dof}) = {chi2}, {p}, Cramér's V = {v}.", dof=f"{c['dof']:.0f}",
                     chi2=f"{c['chi2']:.2f}", p=format_p(c["p_value"]), v=f"{c['cramers_v']:.3f}"))
    if means.get("note"):
        out.append(tr(means["note"]))
    return out



def segment_tables(means: dict[str, Any], top: dict[str, Any], *,
                   pairs_file: str | None = None) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """Caption -> (table, formats) for every table of a segment comparison.

    A pairwise table of more than :data:`PAIRS_SHOWN` pairs shows the :data:`PAIRS_SHOWN`
    with the smallest p-values (the caption says so, and names ``pairs_file``, where
    :func:`segment_pairs` has them all).

    Examples
    --------
    >>> gh = pd.DataFrame({"A": list(range(60)), "B": list(range(1, 61)), "p_value": [i / 100 for i in range(60)]})
    >>> empty = {"groups": pd.DataFrame(), "message": "no test"}
    >>> tables = segment_tables({"groups": pd.DataFrame(), "games_howell": gh, "pairwise_mw": gh.iloc[:3]}, empty,
    ...                         pairs_file="pairs.csv")
    >>> [(caption, len(table)) for caption, (table, _f) in tables.items()][2]  # doctest: +NORMALIZE_WHITESPACE
    ('Games-Howell pairwise comparisons of means: the 45 pairs with the smallest p-value, of 60;
      all are in pairs.csv beside this report', 45)
    """
    def part(caption: str, table: pd.DataFrame, p_column: str) -> tuple[str, pd.DataFrame]:
        if len(table) <= PAIRS_SHOWN:
            return caption, table
        shown = table.sort_values(p_column, kind="stable", na_position="last").head(PAIRS_SHOWN)
        note = (_("the {shown} pairs with the smallest p-value, of {total}; all are in {file} beside this report",
                  shown=PAIRS_SHOWN, total=f"{len(table):,}", file=pairs_file) if pairs_file else
                _("the {shown} pairs with the smallest p-value, of {total}", shown=PAIRS_SHOWN, total=f"{len(table):,}"))
        return f"{caption}: {note}", shown

    out: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {
        _("Means by segment"): (means["groups"], {"mean": "{:.2f}", "sd": "{:.2f}", "ci_low": "{:.2f}",
                                               "ci_high": "{:.2f}", "n_eff": "{:,.0f}"}),
        _("Top-2-box share by segment"): (top["groups"], {"share": fmt_pct, "ci_low": fmt_pct, "ci_high": fmt_pct,
                                                          "n_eff": "{:,.0f}", "top_box_n": "{:,.0f}"}),
    }
    if not means.get("message"):
        caption, table = part(_("Games-Howell pairwise comparisons of means"), means["games_howell"], "p_value")
        out[caption] = (table, {"mean_A": "{:.2f}", "mean_B": "{:.2f}", "diff": "{:+.2f}", "se": "{:.3f}",
                                "t": "{:.2f}", "df": "{:.1f}", "p_value": format_p_cell, "hedges": "{:+.2f}"})
        caption, table = part(_("Mann-Whitney pairwise comparisons (Holm-corrected)"), means["pairwise_mw"], "p_holm")
        out[caption] = (table, {"U": "{:,.0f}", "p_unc": format_p_cell, "p_holm": format_p_cell, "rbc": "{:+.3f}"})
    if not top.get("message"):
        caption, table = part(_("Pairwise top-2-box comparisons (Holm-corrected)"), top["pairwise"], "p_holm")
        out[caption] = (table, {"share_A": fmt_pct, "share_B": fmt_pct, "diff": "{:+.3f}", "z": "{:.2f}",
                                "p_unc": format_p_cell, "p_holm": format_p_cell})
    return out


def segment_pairs(means: dict[str, Any], top: dict[str, Any]) -> pd.DataFrame:
    """Every pair of a segment comparison in one table: Games-Howell (``mean_A`` … ``hedges``,
    its p-value as ``gh_p``), Mann-Whitney (``U``, ``mw_p``, ``mw_p_holm``, ``rbc``) and the
    top-2-box test (``share_A``, ``share_B``, ``share_diff``, ``z``, ``top_p``, ``top_p_holm``),
    one row per pair (``A``, ``B``); a test that was not run leaves its columns out.

    Examples
    --------
    >>> gh = pd.DataFrame({"A": ["x"], "B": ["y"], "mean_A": [3.1], "mean_B": [2.9], "diff": [0.2], "se": [0.1],
    ...                    "t": [2.0], "df": [50.0], "p_value": [0.05], "hedges": [0.4]})
    >>> mw = pd.DataFrame({"A": ["x"], "B": ["y"], "n_A": [30], "n_B": [28], "U": [500.0], "p_unc": [0.04],
    ...                    "p_holm": [0.04], "rbc": [0.2]})
    >>> list(segment_pairs({"games_howell": gh, "pairwise_mw": mw}, {"message": "no test"}).columns)
    ['A', 'B', 'mean_A', 'mean_B', 'diff', 'se', 't', 'df', 'gh_p', 'hedges', 'n_A', 'n_B', 'U', 'mw_p', 'mw_p_holm', 'rbc']
    """
    pairs = pd.DataFrame({"A": pd.Series(dtype=object), "B": pd.Series(dtype=object)})
    parts = []
    if not means.get("message"):
        parts += [means["games_howell"].rename(columns={"p_value": "gh_p"}),
                  means["pairwise_mw"].rename(columns={"p_unc": "mw_p", "p_holm": "mw_p_holm"})]
    if not top.get("message"):
        parts.append(top["pairwise"].rename(columns={"diff": "share_diff", "p_unc": "top_p", "p_holm": "top_p_holm"}))
    for table in parts:
        if len(table):
            table = table.drop(columns=[c for c in table.columns if c in pairs.columns and c not in ("A", "B")])
            pairs = table if not len(pairs) else pairs.merge(table, on=["A", "B"], how="outer", sort=False)
    return pairs.reset_index(drop=True)
