"""The reconciled priority table (SPEC §1.7, issue 15 part 5): stated against derived importance,
the gaps, the quadrant and how sure it is, and the reason for each priority in words."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from csm_helpers.analysis.action.common import as_float, by_attribute
from csm_helpers.analysis.drivers import QUADRANT_SURE
from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import N_, _, tr

__all__ = ["RECONCILED_COLUMNS", "DISAGREE_SHARE", "reconcile_priorities"]


#: Columns :func:`reconcile_priorities` puts after those of the priority list.
RECONCILED_COLUMNS = ("stated_importance", "stated_rank", "relative_weight", "derived_rank", "rank_difference",
                      "disagree", "p_quadrant", "quadrant_sure", "kano_category", "kano_clear", "reason")


#: Stated and derived importance disagree when their ranks differ by more than this share of the
#: attributes ranked by both (a third: 4 places or more among 12).
DISAGREE_SHARE = 1 / 3


def reconcile_priorities(priority: pd.DataFrame, *, ipa_table: pd.DataFrame,
                         stated: Mapping[str, float] | pd.Series | None = None,
                         drivers: pd.DataFrame | None = None, kano: pd.DataFrame | None = None) -> pd.DataFrame:
    """One table per attribute: the priority list with stated and derived importance side by
    side, the quadrant's certainty, and why each attribute ranks where it does.

    Added to the columns of :func:`csm_helpers.analysis.action.priority_list` (same rows, same
    order; the priority ``rank`` is unchanged):

    - ``stated_importance`` and ``stated_rank``: mean stated importance, ranked 1 = most
      important (ties share the best rank: 1, 2, 2, 4);
    - ``relative_weight`` and ``derived_rank``: Johnson's (2000) relative weight as a share of
      R² (``rw_pct`` of :func:`csm_helpers.analysis.drivers.key_drivers`), ranked the same way;
    - ``rank_difference`` = ``stated_rank - derived_rank`` (positive: it moves satisfaction
      more than customers say it matters) and ``disagree``: ``|rank_difference| > k / 3`` for
      the *k* attributes ranked both ways (:data:`DISAGREE_SHARE`); missing when either rank is;
    - ``p_quadrant`` (the bootstrap probability of the IPA quadrant,
      :func:`csm_helpers.analysis.drivers.ipa_quadrant_probability`) and ``quadrant_sure``:
      ``p_quadrant >= 0.8`` (:data:`~csm_helpers.analysis.drivers.QUADRANT_SURE`);
    - ``kano_category`` and ``kano_clear``: the attribute's Kano category (A, O, M, I, R, Q) and
      whether Fong's test finds it clear (:func:`csm_helpers.analysis.kano.kano_table`), where the
      study asked it the Kano way; missing otherwise;
    - ``reason``: the rank's reason in words, in the report's language, from the numbers of
      its row.

    Stated importance is what customers say matters; derived importance is what moves their
    overall satisfaction. Where the two disagree, the stated figure often reflects a hygiene
    factor everyone rates as important (it matters only when it fails), and the derived figure
    the attribute that tells satisfied from dissatisfied customers (Gustafsson & Johnson, 2004);
    either way the priority needs a second look before money is spent.

    Gustafsson, A., & Johnson, M. D. (2004). Determining attribute importance in a service
    satisfaction model. *Journal of Service Research*, 7(2), 124–141.
    Johnson, J. W. (2000). *Multivariate Behavioral Research*, 35(1), 1–19.

    Parameters
    ----------
    priority : pandas.DataFrame
        From :func:`csm_helpers.analysis.action.priority_list`. Not modified.
    ipa_table : pandas.DataFrame
        The IPA table the list was made from (:func:`csm_helpers.analysis.drivers.ipa`); its
        ``p_quadrant`` column is used when present, and its importance as the stated
        importance when it is stated.
    stated : mapping or Series, optional
        Attribute -> mean stated importance, when the IPA table uses derived importance but
        the study also asked for importance.
    drivers : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.drivers.key_drivers` (``attribute``, ``rw_pct``); a
        withheld model (``attrs["suppressed"]``) gives no derived ranks.
    kano : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.kano.kano_table`: its rows whose ``feature`` is an
        attribute id give that attribute's Kano category (a suppressed row gives none).

    Returns
    -------
    pandas.DataFrame
        The priority list's columns, then :data:`RECONCILED_COLUMNS`.

    Examples
    --------
    >>> from csm_helpers.analysis.action import priority_list
    >>> ipa_t = pd.DataFrame({"attribute": ["fees", "speed", "staff"], "label": ["Fees", "Speed", "Staff"],
    ...     "dimension": ["product", "process", "people"], "performance": [3.0, 4.0, 4.5],
    ...     "importance": [5.0, 3.0, 4.0], "importance_type": "stated",
    ...     "quadrant": ["Concentrate here", "Possible overkill", "Keep up the good work"],
    ...     "p_quadrant": [0.95, 0.6, 0.9]})
    >>> kd = pd.DataFrame({"attribute": ["fees", "speed", "staff"], "rw_pct": [20.0, 50.0, 30.0]})
    >>> t = reconcile_priorities(priority_list(ipa_t, scale=(1, 5)), ipa_table=ipa_t, drivers=kd)
    >>> print(t[["attribute", "stated_rank", "derived_rank", "rank_difference", "disagree", "quadrant_sure"]].to_string())
      attribute  stated_rank  derived_rank  rank_difference  disagree  quadrant_sure
    0      fees            1             3               -2      True           True
    1     speed            3             1                2      True          False
    2     staff            2             2                0     False           True
    >>> print(t.loc[0, "reason"])
    Ranked 1: 2.00 below the top of the scale (mean 3.00); importance: 1 of 3 as customers state it, 3 of 3 by its effect on satisfaction — the two disagree, check before acting; in "Concentrate here" (bootstrap probability 0.95).
    """
    require_table(priority, ["rank", "attribute", "performance", "gap", "quadrant"], "priority list",
                  "priority_list()")
    require_table(ipa_table, ["attribute", "importance"], "IPA table", "drivers.ipa()")
    attrs = [str(a) for a in priority["attribute"]]
    ipa_by = ipa_table.assign(attribute=ipa_table["attribute"].astype(str)).set_index("attribute")
    itype = str(ipa_table["importance_type"].iloc[0]) if "importance_type" in ipa_table.columns and len(ipa_table) \
        else "stated"
    if itype == "stated":
        source = ipa_by["importance"]
        if "suppressed" in ipa_by.columns:
            source = source.where(~ipa_by["suppressed"].fillna(False).astype(bool))
    elif stated is not None:
        source = pd.Series(stated, dtype=float)
    else:
        source = pd.Series(dtype=float)
    stated_imp = np.array([as_float(source.get(a, math.nan)) for a in attrs])
    withheld = drivers is not None and bool(drivers.attrs.get("suppressed"))
    d = None if drivers is None or withheld else by_attribute(drivers, "key-driver table", "drivers.key_drivers()",
                                                               ["rw_pct"])
    rw = np.array([as_float(d["rw_pct"].get(a, math.nan)) / 100.0 if d is not None else math.nan for a in attrs])
    stated_rank = _rank(stated_imp)
    derived_rank = _rank(rw)
    both = stated_rank.notna() & derived_rank.notna()
    k = int(both.sum())
    diff = (stated_rank - derived_rank).astype("Int64")
    disagree = pd.array([pd.NA] * len(attrs), dtype="boolean")
    if k:
        disagree[both.to_numpy()] = (diff[both].abs() > k * DISAGREE_SHARE).to_numpy(dtype=bool)
    if "p_quadrant" in ipa_by.columns:
        p_quadrant = np.array([as_float(ipa_by["p_quadrant"].get(a, math.nan)) for a in attrs])
    else:
        p_quadrant = np.full(len(attrs), math.nan)
    sure = pd.array([pd.NA if not math.isfinite(p) else bool(p >= QUADRANT_SURE) for p in p_quadrant],
                    dtype="boolean")
    out = priority.reset_index(drop=True).copy()
    clash = [c for c in RECONCILED_COLUMNS if c in out.columns]
    if clash:
        raise DataError(f"priority list: it already has the column {clash[0]!r} — pass the table priority_list() "
                        "returns")
    out["stated_importance"] = stated_imp
    out["stated_rank"] = stated_rank.to_numpy()
    out["relative_weight"] = rw
    out["derived_rank"] = derived_rank.to_numpy()
    out["rank_difference"] = diff.to_numpy()
    out["disagree"] = disagree
    out["p_quadrant"] = p_quadrant
    out["quadrant_sure"] = sure
    out["kano_category"], out["kano_clear"] = _kano_columns(kano, attrs)
    out["reason"] = [_reason(row, k=k, n_stated=int(stated_rank.notna().sum()), n_derived=int(derived_rank.notna().sum()))
                     for row in out.to_dict("records")]
    out.attrs.update({"ranked_both": k, "disagreements": int(disagree.sum()) if k else 0,
                      "drivers_withheld": withheld})
    return out


def _kano_columns(kano: pd.DataFrame | None, attrs: list[str]) -> tuple[pd.Series, pd.Series]:
    category = pd.Series([None] * len(attrs), dtype=object)
    clear = pd.Series(pd.array([pd.NA] * len(attrs), dtype="boolean"))
    if kano is None:
        return category, clear
    require_table(kano, ["feature", "category", "clear"], "Kano table", "kano_table()")
    shown = kano if "suppressed" not in kano.columns else kano.loc[~kano["suppressed"].fillna(False).astype(bool)]
    by = {str(r.feature): r for r in shown.itertuples() if isinstance(r.category, str)}
    for i, a in enumerate(attrs):
        if a in by:
            category[i] = by[a].category
            clear[i] = None if by[a].clear is None else bool(by[a].clear)
    return category, clear


#: How the reason names a Kano category and what it implies for the attribute's rank.
_KANO_REASON = {
    "M": N_("a must-be in the Kano questions: customers take it for granted, so falling short costs satisfaction"),
    "O": N_("one-dimensional in the Kano questions: every improvement counts"),
    "A": N_("attractive in the Kano questions: a delighter, which earns credit but is rarely missed"),
    "I": N_("indifferent in the Kano questions: customers may not notice an improvement"),
    "R": N_("reverse in the Kano questions: more customers would rather not have it"),
    "Q": N_("questionable in the Kano questions: the answers contradict each other"),
}


def _rank(values: np.ndarray) -> pd.Series:
    """1 = largest; ties share the best rank; NaN stays missing (Int64)."""
    s = pd.Series(values, dtype=float)
    return s.rank(method="min", ascending=False, na_option="keep").astype("Int64")


def _reason(row: dict, *, k: int, n_stated: int, n_derived: int) -> str:
    """Why an attribute ranks where it does, in words, from the numbers of its row."""
    if pd.isna(row["rank"]):
        return _("Not ranked: no performance or importance value.")
    perf, gap = float(row["performance"]), float(row["gap"])
    ref_type = row.get("reference_type")
    if ref_type == "target":
        where = _("{gap} below its target (mean {perf})", gap=f"{gap:.2f}", perf=f"{perf:.2f}")
    elif ref_type == "competitor":
        where = _("{gap} below the main competitor (mean {perf})", gap=f"{gap:.2f}", perf=f"{perf:.2f}")
    else:
        where = _("{gap} below the top of the scale (mean {perf})", gap=f"{gap:.2f}", perf=f"{perf:.2f}")
    s, dr = row["stated_rank"], row["derived_rank"]
    if not pd.isna(s) and not pd.isna(dr):
        importance = _("importance: {stated} of {n} as customers state it, {derived} of {n} by its effect on "
                       "satisfaction", stated=int(s), derived=int(dr), n=k)
        if bool(row["disagree"]):
            importance += " — " + _("the two disagree, check before acting")
    elif not pd.isna(s):
        importance = _("importance: {stated} of {n} as customers state it", stated=int(s), n=n_stated)
    elif not pd.isna(dr):
        importance = _("importance: {derived} of {n} by its effect on satisfaction", derived=int(dr), n=n_derived)
    else:
        importance = ""
    parts = [_("Ranked {rank}: {where}", rank=int(row["rank"]), where=where)]
    if importance:
        parts.append(importance)
    eg, cg = as_float(row.get("expectation_gap")), as_float(row.get("competitor_gap"))
    if math.isfinite(eg) and eg < 0:
        parts.append(_("below customers' expectation by {gap}", gap=f"{-eg:.2f}"))
    if math.isfinite(cg) and cg < 0 and ref_type != "competitor":
        parts.append(_("behind the main competitor by {gap}", gap=f"{-cg:.2f}"))
    quadrant, p = row["quadrant"], as_float(row["p_quadrant"])
    if isinstance(quadrant, str) and quadrant:
        name = tr(quadrant)
        if not math.isfinite(p):
            parts.append(_('in "{quadrant}"', quadrant=name))
        elif p >= QUADRANT_SURE:
            parts.append(_('in "{quadrant}" (bootstrap probability {p})', quadrant=name, p=f"{p:.2f}"))
        else:
            parts.append(_('in "{quadrant}", but that quadrant is uncertain (bootstrap probability {p})',
                           quadrant=name, p=f"{p:.2f}"))
    kano = row.get("kano_category")
    if isinstance(kano, str) and kano in _KANO_REASON:
        text = tr(_KANO_REASON[kano])
        clear = row.get("kano_clear")
        if clear is not None and not pd.isna(clear) and not bool(clear):
            text += " " + _("(not clear by Fong's test)")
        parts.append(text)
    return "; ".join(parts) + "."
