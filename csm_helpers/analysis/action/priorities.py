"""The priority list (importance × performance gap, SPEC §1.6) and the action register written as a formula-safe CSV."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from csm_helpers.analysis.action.common import as_float, by_attribute, one_per_attribute
from csm_helpers.core.checks import require_table
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.core.safety import to_safe_csv

__all__ = ["PRIORITY_COLUMNS", "REGISTER_COLUMNS", "priority_list", "action_register", "write_action_csv"]


#: Columns of :func:`priority_list`, in order.
PRIORITY_COLUMNS = ("rank", "attribute", "label", "dimension", "quadrant", "importance", "importance_basis",
                    "performance", "reference", "reference_type", "gap", "score", "expectation_gap",
                    "competitor_gap")


#: Columns :func:`action_register` adds for the team to fill in.
REGISTER_COLUMNS = ("owner", "due_date", "action", "target", "kpi", "status")


def _scale(scale: Any, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise CsmError(f"The value for `{name}` must be a pair (min, max), e.g. (1, 5), but {scale!r} was passed.") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise CsmError(f"The value for `{name}` must have min < max, but {scale!r} was passed.")
    return lo, hi


# --------------------------------------------------------------------------- priority list
def priority_list(ipa_table: pd.DataFrame, *, drivers: pd.DataFrame | None = None, gaps: pd.DataFrame | None = None,
                  competitor: pd.DataFrame | None = None,
                  basis: Literal["auto", "importance", "driver"] = "auto",
                  target: float | Mapping[str, float] | None = None, scale: tuple[float, float] = (1, 5),
                  importance_scale: tuple[float, float] | None = None,
                  reference: Literal["auto", "target", "competitor", "scale_max"] = "auto") -> pd.DataFrame:
    """Attributes ranked by importance x performance gap (SPEC §1.5 "Priority list").

    ``score = importance x gap``, largest first, where

    - **importance** (``basis``):

      * ``"importance"``: the stated mean importance of the IPA table rescaled to 0-1 on its
        scale, ``(I - min) / (max - min)`` (``importance_scale``, default ``scale``);
      * ``"driver"``: the attribute's Johnson (2000) relative weight as a share of R^2
        (``rw_pct / 100`` of :func:`csm_helpers.analysis.drivers.key_drivers`; the shares add up to 1);
      * ``"auto"``: ``"importance"`` when the IPA table uses stated importance, else ``"driver"``
        (so the ranking uses the same importance as the IPA quadrants).

      The two bases are on different scales; compare scores within one list only.
    - **gap** ``= max(0, reference - performance)`` on the performance scale, with
      ``performance`` the mean performance of the IPA table and ``reference``, per attribute,
      the first that applies:

      1. ``"target"``: the attribute's target (``target``: one number for all attributes or a
         mapping attribute -> target);
      2. ``"competitor"``: the competitor's mean rating, when the competitor is better on the
         attribute — the paired gap ``own - competitor`` of
         :func:`csm_helpers.analysis.gaps.competitor_benchmark` is below 0 (point estimate, same
         respondents rating both; a suppressed benchmark row is not used);
      3. ``"scale max"``: the top of the performance scale (distance to a perfect score).

      This cascade is ``reference="auto"``. The reference used is in ``reference`` and
      ``reference_type``. **Caution:** when the reference type differs between attributes the
      gaps measure different things — trailing a competitor by 0.3 gives a smaller gap than
      leading it while 1.0 below the scale top — so ``attrs["mixed_references"]`` is True and
      ``attrs["warning"]`` says so. For a like-for-like ranking use one reference for every
      attribute: ``reference="target"`` (every attribute needs a target), ``"competitor"``
      (gap to the competitor's mean, 0 where the company leads; attributes without a
      competitor rating get no gap and no rank) or ``"scale_max"``.

    Ties in ``score`` are ranked by importance, then by table order; attributes without a
    score (no performance or importance value) come last with no rank.

    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77–79. Johnson, J. W. (2000). *Multivariate Behavioral Research*, 35(1), 1–19.

    Parameters
    ----------
    ipa_table : pandas.DataFrame
        From :func:`csm_helpers.analysis.drivers.ipa` (one row per attribute). Not modified.
    drivers : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.drivers.key_drivers` (``attribute``, ``rw_pct``); needed for
        ``basis="driver"``.
    gaps : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.gaps.expectation_gaps` (``attribute``, ``mean_gap``).
    competitor : pandas.DataFrame, optional
        From :func:`csm_helpers.analysis.gaps.competitor_benchmark` (``attribute``, ``competitor``, ``gap``).
    basis : {"auto", "importance", "driver"}
        Which importance multiplies the gap.
    target : float or mapping, optional
        Target mean performance (on ``scale``), for all attributes or per attribute.
    scale : (float, float)
        Performance scale (min, max).
    importance_scale : (float, float), optional
        Stated-importance scale (default: ``scale``).
    reference : {"auto", "target", "competitor", "scale_max"}
        The cascade above, or one reference type for every attribute.

    Returns
    -------
    pandas.DataFrame
        One row per attribute, best first: ``rank`` (1 = act first; Int64, missing without a
        score), ``attribute``, ``label``, ``dimension``, ``quadrant``, ``importance`` (as used,
        0-1), ``importance_basis`` ("stated importance (0-1)" or "relative weight (share of
        R²)"), ``performance``, ``reference``, ``reference_type`` ("target", "competitor",
        "scale max"), ``gap``, ``score``, ``expectation_gap`` (mean P - E, NaN without it),
        ``competitor_gap`` (own - competitor, NaN without it).

    Raises
    ------
    CsmError
        When an option or target is invalid.
    DataError
        When a table lacks a column, repeats an attribute, or the basis needs what is not given.

    Examples
    --------
    >>> ipa_t = pd.DataFrame({"attribute": ["fees", "speed", "staff"], "label": ["Fees", "Speed", "Staff"],
    ...     "dimension": ["product", "process", "people"], "performance": [3.0, 4.0, 4.5],
    ...     "importance": [5.0, 3.0, 4.0], "importance_type": "stated",
    ...     "quadrant": ["Concentrate here", "Possible overkill", "Keep up the good work"]})
    >>> p = priority_list(ipa_t, scale=(1, 5))
    >>> p[["rank", "attribute", "importance", "gap", "score"]]
       rank attribute  importance  gap  score
    0     1      fees        1.00  2.0  2.000
    1     2     speed        0.50  1.0  0.500
    2     3     staff        0.75  0.5  0.375
    """
    require_table(ipa_table, ["attribute", "performance", "importance", "quadrant"], "IPA table", "drivers.ipa()")
    one_per_attribute(ipa_table, "IPA table")
    if basis not in ("auto", "importance", "driver"):
        raise CsmError(f"The value for `basis` must be one of ['auto', 'importance', 'driver'], but {basis!r} "
                       "was passed.")
    lo, hi = _scale(scale, "scale")
    ilo, ihi = _scale(importance_scale if importance_scale is not None else scale, "importance_scale")
    t = ipa_table.reset_index(drop=True)
    attrs = [str(a) for a in t["attribute"]]
    itype = str(t["importance_type"].iloc[0]) if "importance_type" in t.columns and len(t) else "stated"
    stated = itype == "stated"
    if basis == "auto":
        basis = "importance" if stated else "driver"

    if basis == "importance":
        if not stated:
            raise DataError(f"priority_list: basis='importance' needs stated importance, but the IPA table uses "
                            f"{itype!r} — pass basis='driver' with drivers=key_drivers(...)")
        imp = (t["importance"].to_numpy(dtype=float, na_value=np.nan) - ilo) / (ihi - ilo)
        if np.any(np.isfinite(imp) & ((imp < -1e-12) | (imp > 1 + 1e-12))):
            raise DataError(f"priority_list: a mean importance is outside the importance scale {ilo:g}-{ihi:g} — "
                            "pass importance_scale=(min, max) of the importance items")
        basis_label = N_("stated importance (0-1)")
    else:
        d = by_attribute(drivers, "key-driver table", "drivers.key_drivers()", ["rw_pct"])
        if d is None:
            raise DataError("priority_list: basis='driver' needs the key-driver table — pass "
                            "drivers=key_drivers(...)")
        imp = np.array([as_float(d["rw_pct"].get(a, math.nan)) / 100.0 for a in attrs])
        basis_label = N_("relative weight (share of R²)")

    targets = _targets(target, attrs, lo, hi)
    comp = by_attribute(competitor, "competitor benchmark", "gaps.competitor_benchmark()", ["competitor", "gap"])
    gp = by_attribute(gaps, "expectation-gap table", "gaps.expectation_gaps()", ["mean_gap"])
    perf = t["performance"].to_numpy(dtype=float, na_value=np.nan)
    if np.any(np.isfinite(perf) & ((perf < lo - 1e-12) | (perf > hi + 1e-12))):
        raise DataError(f"priority_list: a mean performance is outside the scale {lo:g}-{hi:g} — pass the "
                        "performance scale as `scale`")
    comp_gap = np.array([as_float(comp["gap"].get(a, math.nan)) if comp is not None else math.nan for a in attrs])
    comp_mean = np.array([as_float(comp["competitor"].get(a, math.nan)) if comp is not None else math.nan
                          for a in attrs])
    if reference not in ("auto", "target", "competitor", "scale_max"):
        raise CsmError(f"The value for `reference` must be one of ['auto', 'target', 'competitor', 'scale_max'], "
                       f"but {reference!r} was passed.")
    if reference == "target":
        lacking = [a for a in attrs if a not in targets]
        if lacking:
            raise CsmError(f"priority_list: reference='target' needs a target for every attribute; "
                           f"{', '.join(map(repr, lacking[:5]))} {'has' if len(lacking) == 1 else 'have'} none — "
                           "pass target=<number> or a mapping with every attribute")
    if reference == "competitor" and comp is None:
        raise DataError("priority_list: reference='competitor' needs the competitor benchmark — pass "
                        "competitor=competitor_benchmark(...)")
    ref, ref_type = [], []
    scale_max, competitor_ref, target_ref = N_("scale max"), N_("competitor"), N_("target")  # kept in English
    for a, cg, cm in zip(attrs, comp_gap, comp_mean, strict=True):
        if reference == "scale_max":
            ref.append(hi)
            ref_type.append(scale_max)
        elif reference == "competitor":
            ref.append(cm)
            ref_type.append(competitor_ref if math.isfinite(cm) else None)
        elif a in targets:
            ref.append(targets[a])
            ref_type.append(target_ref)
        elif math.isfinite(cg) and cg < 0 and math.isfinite(cm):
            ref.append(cm)
            ref_type.append(competitor_ref)
        else:
            ref.append(hi)
            ref_type.append(scale_max)
    ref_values = np.array(ref, dtype=float)
    gap = np.maximum(0.0, ref_values - perf)  # NaN performance stays NaN
    score = imp * gap
    out = pd.DataFrame({
        "attribute": attrs,
        "label": t["label"].tolist() if "label" in t.columns else attrs,
        "dimension": t["dimension"].tolist() if "dimension" in t.columns else [None] * len(t),
        "quadrant": t["quadrant"].tolist(),
        "importance": imp,
        "importance_basis": basis_label,
        "performance": perf,
        "reference": ref_values,
        "reference_type": ref_type,
        "gap": gap,
        "score": score,
        "expectation_gap": [as_float(gp["mean_gap"].get(a, math.nan)) if gp is not None else math.nan for a in attrs],
        "competitor_gap": comp_gap,
    })
    order = np.lexsort((np.arange(len(out)), -np.nan_to_num(imp, nan=-np.inf),
                        -np.nan_to_num(score, nan=-np.inf), ~np.isfinite(score)))
    out = out.iloc[order].reset_index(drop=True)
    has = np.isfinite(out["score"].to_numpy())
    rank = pd.array([pd.NA] * len(out), dtype="Int64")
    rank[has] = np.arange(1, int(has.sum()) + 1)
    out.insert(0, "rank", rank)
    kinds = sorted({k for k in ref_type if k is not None})
    mixed = len(kinds) > 1
    out.attrs.update({"basis": basis, "reference": reference, "scale": (lo, hi), "mixed_references": mixed,
                      "warning": _("The gaps use different references ({kinds}), so they are not comparable "
                                   "between attributes; set a target (or reference=...) for a like-for-like "
                                   "ranking.", kinds=", ".join(tr(k) for k in kinds)) if mixed else "",
                      "method": _priority_note(basis, reference, targets, comp is not None)})
    return out[list(PRIORITY_COLUMNS)]


def _targets(target: Any, attrs: list[str], lo: float, hi: float) -> dict[str, float]:
    if target is None:
        return {}
    if isinstance(target, Mapping):
        unknown = [k for k in target if str(k) not in attrs]
        if unknown:
            raise CsmError(f"target: attribute {unknown[0]!r} is not in the IPA table (attributes: "
                           f"{', '.join(attrs)}) — fix the attribute id")
        items = {str(k): v for k, v in target.items() if v is not None}
    else:
        items = dict.fromkeys(attrs, target)
    out = {}
    for a, v in items.items():
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not (lo <= v <= hi):
            raise CsmError(f"target of {a!r} must be a number on the performance scale {lo:g}-{hi:g}, but {v!r} "
                           "was passed")
        out[a] = float(v)
    return out


def _priority_note(basis: str, reference: str, targets: dict[str, float], competitor: bool) -> str:
    imp = ("stated mean importance rescaled to 0-1 on its scale" if basis == "importance" else
           "Johnson's (2000) relative weight as a share of R²")
    refs = []
    if reference == "target":
        refs.append("the target")
    elif reference == "competitor":
        refs.append("the competitor's mean")
    elif reference == "scale_max":
        refs.append("the scale maximum")
    else:
        if targets:
            refs.append("the target")
        if competitor:
            refs.append("the competitor's mean where the competitor is better")
        refs.append("the scale maximum")
    return (f"Priority score = importance x gap; importance: {imp}; gap = max(0, reference - mean performance), "
            f"reference: {', else '.join(refs)}.")


# --------------------------------------------------------------------------- action register
def action_register(priority: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """The priority list with empty columns for the team to plan actions (PDCA "plan", SPEC §1.5).

    Parameters
    ----------
    priority : pandas.DataFrame
        From :func:`priority_list`. Not modified.
    top : int, optional
        Keep only the ``top`` highest-ranked attributes (attributes without a rank are dropped
        when ``top`` is given).

    Returns
    -------
    pandas.DataFrame
        The columns of ``priority`` in rank order, then ``owner``, ``due_date``, ``action``,
        ``target`` (the mean performance the action aims for: the next wave's report tests it,
        :func:`csm_helpers.analysis.action.check_actions`), ``kpi``, ``status`` — empty strings.

    Examples
    --------
    >>> pr = pd.DataFrame({"rank": pd.array([2, 1], dtype="Int64"), "attribute": ["b", "a"], "score": [0.1, 0.5]})
    >>> reg = action_register(pr, top=1)
    >>> reg["attribute"].tolist(), reg.columns[-6:].tolist(), reg.loc[0, "owner"]
    (['a'], ['owner', 'due_date', 'action', 'target', 'kpi', 'status'], '')
    """
    require_table(priority, ["rank", "attribute"], "priority list", "priority_list()")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1):
        raise CsmError(f"The value for `top` must be a whole number >= 1 (or None), but {top!r} was passed.")
    clash = [c for c in REGISTER_COLUMNS if c in priority.columns]
    if clash:
        raise DataError(f"priority list: it already has the column {clash[0]!r} — pass the table priority_list() "
                        "returns")
    reg = priority.copy()
    reg = reg.assign(_missing=reg["rank"].isna()).sort_values(["_missing", "rank"], kind="stable")
    reg = reg.drop(columns="_missing")
    if top is not None:
        reg = reg[reg["rank"].notna()].head(int(top))
    reg = reg.reset_index(drop=True)
    for c in REGISTER_COLUMNS:
        reg[c] = pd.Series([""] * len(reg), dtype=object)
    return reg


def write_action_csv(register: pd.DataFrame, path: str | Path) -> Path:
    """Write the action register as UTF-8 CSV, every text cell safe from formula injection (SPEC §4).

    Uses :func:`csm_helpers.core.safety.to_safe_csv`: cells starting with ``=``, ``+``, ``-`` or
    ``@`` get a leading quote, so a label such as ``=HYPERLINK(...)`` is shown as text; the file
    is written atomically, with a BOM so that Excel reads accents and CJK.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> reg = action_register(pd.DataFrame({"rank": pd.array([1], dtype="Int64"), "attribute": ["fees"],
    ...                                     "label": ["=1+1"]}))
    >>> p = write_action_csv(reg, pathlib.Path(tempfile.mkdtemp()) / "actions.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()[1]
    "1,fees,'=1+1,,,,,,"
    """
    require_table(register, ["attribute", *REGISTER_COLUMNS], "action register", "action_register()")
    return to_safe_csv(register, path)
