"""Action planning and progress (SPEC §1.5, stage 05).

- :func:`priority_list`: attributes ranked by importance x performance gap, with their IPA
  quadrant, expectation gap and competitor gap;
- :func:`action_register` and :func:`write_action_csv`: the priority list with empty owner /
  due-date / action / KPI / status columns for the team (PDCA "plan"), written as formula-safe CSV;
- :func:`attribute_change`: each attribute's mean performance in two waves with Welch's t-test
  (the trends that :func:`swot` reads);
- :func:`swot`: strengths, weaknesses, opportunities and threats derived from the analysis
  tables, each entry with the numbers behind it;
- :func:`progress`: every headline KPI per wave with its interval, the change from the
  previous wave with its test, and target attainment;
- :func:`sigma_level` and :func:`service_sigma`: service quality in Six Sigma terms.

Nothing is rounded here; rounding belongs to the display step. Labels and other text from the
data are returned as plain text (the display step escapes them; CSV goes through
:func:`csm_helpers.core.safety.to_safe_csv`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis import kpis, stats
from csm_helpers.analysis.drivers import CONCENTRATE, KEEP_UP
from csm_helpers.core.checks import check_frame, check_int, require_column
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.core.safety import to_safe_csv

__all__ = [
    "PRIORITY_COLUMNS",
    "REGISTER_COLUMNS",
    "SWOT_CATEGORIES",
    "priority_list",
    "action_register",
    "write_action_csv",
    "attribute_change",
    "swot",
    "swot_display",
    "progress",
    "sigma_level",
    "service_sigma",
]

#: Columns of :func:`priority_list`, in order.
PRIORITY_COLUMNS = ("rank", "attribute", "label", "dimension", "quadrant", "importance", "importance_basis",
                    "performance", "reference", "reference_type", "gap", "score", "expectation_gap",
                    "competitor_gap")
#: Columns :func:`action_register` adds for the team to fill in.
REGISTER_COLUMNS = ("owner", "due_date", "action", "kpi", "status")
#: Categories of :func:`swot`, in the order they are listed.
#: Kept in English in the table (it goes to metrics.json); the display step translates them.
SWOT_CATEGORIES = (N_("Strength"), N_("Weakness"), N_("Opportunity"), N_("Threat"))

_KPI_NAMES = {"csat_top2": N_("CSAT (top-2 box)"), "csi": "CSI", "nps": "NPS"}
_SIX_SIGMA_SHIFT = 1.5


# --------------------------------------------------------------------------- checks
def _frame(data: Any, what: str, maker: str, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"{what}: expected a pandas DataFrame (from {maker}), got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        found = ", ".join(map(str, data.columns)) or "no columns"
        raise DataError(f"{what}: column {', '.join(map(repr, missing))} is missing (found: {found}) — pass the "
                        f"table {maker} returns")
    return data


def _one_per_attribute(table: pd.DataFrame, what: str) -> None:
    dup = table["attribute"][table["attribute"].duplicated()].tolist()
    if dup:
        raise DataError(f"{what}: attribute {dup[0]!r} appears more than once — pass the table for one group "
                        "(computed without `by`, or filtered to one segment)")


def _by_attribute(table: pd.DataFrame | None, what: str, maker: str, columns: Sequence[str]) -> pd.DataFrame | None:
    if table is None:
        return None
    _frame(table, what, maker, ["attribute", *columns])
    _one_per_attribute(table, what)
    t = table.copy()
    if "suppressed" in t.columns:  # a suppressed row carries no statistic
        small = t["suppressed"].fillna(False).astype(bool).to_numpy()
        for c in columns:
            numeric = pd.api.types.is_numeric_dtype(t[c]) and not pd.api.types.is_bool_dtype(t[c])
            t[c] = t[c].astype("float64" if numeric else object)
            t.loc[small, c] = np.nan if numeric else None
    return t.set_index("attribute")


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


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
    _frame(ipa_table, "IPA table", "drivers.ipa()", ["attribute", "performance", "importance", "quadrant"])
    _one_per_attribute(ipa_table, "IPA table")
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
        d = _by_attribute(drivers, "key-driver table", "drivers.key_drivers()", ["rw_pct"])
        if d is None:
            raise DataError("priority_list: basis='driver' needs the key-driver table — pass "
                            "drivers=key_drivers(...)")
        imp = np.array([_num(d["rw_pct"].get(a, math.nan)) / 100.0 for a in attrs])
        basis_label = N_("relative weight (share of R²)")

    targets = _targets(target, attrs, lo, hi)
    comp = _by_attribute(competitor, "competitor benchmark", "gaps.competitor_benchmark()", ["competitor", "gap"])
    gp = _by_attribute(gaps, "expectation-gap table", "gaps.expectation_gaps()", ["mean_gap"])
    perf = t["performance"].to_numpy(dtype=float, na_value=np.nan)
    if np.any(np.isfinite(perf) & ((perf < lo - 1e-12) | (perf > hi + 1e-12))):
        raise DataError(f"priority_list: a mean performance is outside the scale {lo:g}-{hi:g} — pass the "
                        "performance scale as `scale`")
    comp_gap = np.array([_num(comp["gap"].get(a, math.nan)) if comp is not None else math.nan for a in attrs])
    comp_mean = np.array([_num(comp["competitor"].get(a, math.nan)) if comp is not None else math.nan
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
        "expectation_gap": [_num(gp["mean_gap"].get(a, math.nan)) if gp is not None else math.nan for a in attrs],
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
        ``kpi``, ``status`` — empty strings.

    Examples
    --------
    >>> pr = pd.DataFrame({"rank": pd.array([2, 1], dtype="Int64"), "attribute": ["b", "a"], "score": [0.1, 0.5]})
    >>> reg = action_register(pr, top=1)
    >>> reg["attribute"].tolist(), reg.columns[-5:].tolist(), reg.loc[0, "owner"]
    (['a'], ['owner', 'due_date', 'action', 'kpi', 'status'], '')
    """
    _frame(priority, "priority list", "priority_list()", ["rank", "attribute"])
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
    "1,fees,'=1+1,,,,,"
    """
    _frame(register, "action register", "action_register()", ["attribute", *REGISTER_COLUMNS])
    return to_safe_csv(register, path)


# --------------------------------------------------------------------------- attribute trends
def attribute_change(data: pd.DataFrame, *, wave: str, previous: Any, latest: Any, attributes: Mapping[str, str],
                     weights: str | None = None, level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Each attribute's mean performance in two waves and Welch's t-test of the change.

    The waves are independent samples; ``change = latest - previous`` with Welch's t-test
    (:func:`csm_helpers.analysis.kpis.welch_t`; as ``scipy.stats.ttest_ind(..., equal_var=False)``).
    With weights: weighted means and variances (:func:`csm_helpers.analysis.stats.weighted_var`) on
    Kish's effective n. Available cases per attribute and wave. ``p_adj`` is the
    Benjamini–Hochberg adjusted p over the attributes (:data:`csm_helpers.analysis.stats.ATTRIBUTE_FAMILY`:
    twelve attributes tested at 5 % would show a "significant" change by chance alone);
    ``significant`` is ``p_adj < 1 - level``. An attribute with fewer than ``min_n`` answers in
    either wave is suppressed (only the two n's remain) and left out of the family.

    Welch, B. L. (1947). *Biometrika*, 34, 28–35.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, both waves. Not modified.
    wave : str
        The wave column.
    previous, latest
        The two waves (values of ``wave``).
    attributes : mapping
        Attribute id -> performance column (e.g. ``{a.id: a.performance for a in study.attributes}``).
    weights, level, min_n
        As in :func:`csm_helpers.analysis.kpis.csat`.

    Returns
    -------
    pandas.DataFrame
        One row per attribute: ``attribute``, ``wave_previous``, ``wave_latest``, ``n_previous``,
        ``n_latest``, ``previous``, ``latest`` (means), ``change``, ``t``, ``df``, ``p_value``,
        ``p_adj``, ``significant`` (True/False; None when undefined or suppressed), ``suppressed``.
        ``attrs``: ``p_adjust`` (the correction, ``"fdr_bh"``) and ``level``.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> ch = attribute_change(read_dataset("responses"), wave="wave", previous="2025-H2", latest="2026-H1",
    ...                       attributes={"app_reliability": "perf_app_reliability"})
    >>> bool(ch.loc[0, "change"] > 0), bool(ch.loc[0, "significant"])
    (True, True)
    """
    check_frame(data, "attribute_change")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    require_column(data, wave, role="wave")
    if not isinstance(attributes, Mapping) or not attributes:
        raise CsmError(f"The value for `attributes` must be a non-empty mapping attribute id -> column, but "
                       f"{attributes!r} was passed.")
    found = set(data[wave].dropna().unique().tolist())
    for name, value in (("previous", previous), ("latest", latest)):
        if value not in found:
            shown = ", ".join(sorted(map(str, found))[:10]) or "none"
            raise CsmError(f"{name} wave {value!r} is not a value of column {wave!r} (found: {shown}) — pass one "
                           "of these")
    w = stats.get_weights(data, weights)
    masks = {k: (data[wave] == v).to_numpy(dtype=bool, na_value=False) for k, v in
             (("previous", previous), ("latest", latest))}
    rows = []
    for attr, col in attributes.items():
        require_column(data, col, role=f"performance of {attr!r}")
        x = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        est = {}
        for key, m in masks.items():
            ok = m & np.isfinite(x) & (w > 0)
            xs, ws = x[ok], w[ok]
            n = int(ok.sum())
            est[key] = {"n": n, "mean": stats.weighted_mean(xs, ws) if n else math.nan,
                        "var": stats.weighted_var(xs, ws) if n > 1 else math.nan,
                        "neff": stats.kish_neff(ws) if n else 0.0}
        a, b = est["previous"], est["latest"]
        r = kpis.welch_t(b["mean"], b["var"], b["neff"], a["mean"], a["var"], a["neff"])
        small = a["n"] < min_n or b["n"] < min_n
        p = r["p_value"]
        row = {"attribute": str(attr), "wave_previous": previous, "wave_latest": latest, "n_previous": a["n"],
               "n_latest": b["n"], "previous": a["mean"], "latest": b["mean"], "change": b["mean"] - a["mean"],
               "t": r["t"], "df": r["df"], "p_value": p,
               "significant": bool(p < 1 - level) if math.isfinite(p) else None, "suppressed": small}
        if small:
            for c in ("previous", "latest", "change", "t", "df", "p_value"):
                row[c] = math.nan
            row["significant"] = None
        rows.append(row)
    # p_adj over the tested attributes; `significant` is decided on it
    return stats.adjust_family(pd.DataFrame(rows), method=stats.ATTRIBUTE_FAMILY, level=level)


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
    _frame(ipa_table, "IPA table", "drivers.ipa()", ["attribute", "performance", "importance", "quadrant"])
    _one_per_attribute(ipa_table, "IPA table")
    t = ipa_table.reset_index(drop=True)
    labels = {str(a): str(lab) for a, lab in zip(t["attribute"], t["label"] if "label" in t.columns
                                                  else t["attribute"], strict=True)}
    imp = {str(a): _num(v) for a, v in zip(t["attribute"], t["importance"], strict=True)}
    perf = {str(a): _num(v) for a, v in zip(t["attribute"], t["performance"], strict=True)}
    xc = _num(t["x_cross"].iloc[0]) if "x_cross" in t.columns and len(t) else math.nan
    yc = _num(t["y_cross"].iloc[0]) if "y_cross" in t.columns and len(t) else math.nan
    itype = str(t["importance_type"].iloc[0]) if "importance_type" in t.columns and len(t) else "stated"
    digits = 2 if itype == "stated" else 3
    drv = _by_attribute(drivers, "key-driver table", "drivers.key_drivers()", ["rw_pct"])
    comp = _by_attribute(competitor, "competitor benchmark", "gaps.competitor_benchmark()",
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
        if drv is not None and a in drv.index and math.isfinite(_num(drv.loc[a, "rw_pct"])):
            parts.append(_both(N_("relative weight {value}% of R²"), {"value": f"{_num(drv.loc[a, 'rw_pct']):.1f}"}))
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
            p = _num(r["p_value"])
            q = _num(r["p_adj"]) if "p_adj" in comp.columns else None
            ev = [_both(N_("own {own} vs competitor {competitor}"),
                        {"own": _f(_num(r["own"])), "competitor": _f(_num(r["competitor"]))}),
                  _both(N_("gap (own - competitor) {gap} (CI {low} to {high}), {p}"),
                        {"gap": _f(_num(r["gap"])), "low": _f(_num(r["ci_low"])), "high": _f(_num(r["ci_high"])),
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
        _frame(change, "change table", "attribute_change() or kpis.kpi_change()", [key, "change", "p_value",
                                                                                   "significant"])
        for _i, r in change.iterrows():
            if "suppressed" in change.columns and bool(r["suppressed"]):
                continue
            sig = r["significant"]
            if sig is None or (isinstance(sig, float) and math.isnan(sig)) or not bool(sig):
                continue
            a = str(r[key])
            label = labels.get(a, _KPI_NAMES.get(a, a))
            label_shown = label if a in labels else tr(label)  # a KPI's name is fixed text, a label data
            ch = _num(r["change"])
            p = _num(r["p_value"])
            q = _num(r["p_adj"]) if "p_adj" in change.columns else None
            digits_c = 3 if a == "csat_top2" else 2
            test = r["test"] if "test" in change.columns and isinstance(r["test"], str) else (
                "Welch t" if key == "attribute" else None)
            has_waves = "wave_previous" in change.columns and "wave_latest" in change.columns
            has_values = "previous" in change.columns and "latest" in change.columns
            if has_waves and has_values and test is not None:
                ev = _both(N_("change from {previous_wave} to {latest_wave} {change} ({previous} to {latest}), {p} "
                              "({test})"),
                           {"previous_wave": r["wave_previous"], "latest_wave": r["wave_latest"],
                            "change": f"{ch:+.{digits_c}f}", "previous": _f(_num(r["previous"]), digits_c),
                            "latest": _f(_num(r["latest"]), digits_c), "p": _p(p, adjusted=q), "test": test},
                           {"p": _p(p, shown=True, adjusted=q), "test": tr(test)})
            else:  # a hand-made change table: the evidence is shown in English
                waves = f" from {r['wave_previous']} to {r['wave_latest']}" if has_waves else ""
                text = f"change{waves} {ch:+.{digits_c}f}"
                if has_values:
                    text += f" ({_f(_num(r['previous']), digits_c)} to {_f(_num(r['latest']), digits_c)})"
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


# --------------------------------------------------------------------------- progress over waves
def progress(data: pd.DataFrame, *, wave: str, waves: list[str] | None = None, overall: str,
             satisfaction_items: list[str], scales: dict[str, tuple[float, float]], recommend: str | None = None,
             top_box: int = 2, targets: dict[str, float] | None = None, weights: str | None = None,
             level: float = 0.95, n_boot: int = 1000, seed: int = 0, min_n: int = 5,
             by: str | None = None) -> pd.DataFrame:
    """Every headline KPI over the waves, with intervals, change tests and target attainment (SPEC §1.5).

    Per wave (and segment with ``by``) and KPI: the estimate and interval of
    :func:`csm_helpers.analysis.kpis.csat` (``csat_top2``, Wilson), :func:`csm_helpers.analysis.kpis.csi` (``csi``,
    t or bootstrap) and :func:`csm_helpers.analysis.kpis.nps` (``nps``, adjusted Wald; only with
    ``recommend``); the change from the previous wave in ``waves`` with the test of
    :func:`csm_helpers.analysis.kpis.kpi_change` (two-proportion z, Welch t, z on the NPS difference),
    run on each consecutive pair; and target attainment: "met" (``value >= target``), "not met",
    or "not measurable" (no target, or no value because the row is suppressed or empty).

    The waves are treated as independent samples. A group-wave with fewer than ``min_n``
    respondents is suppressed, and so is any change that involves it (otherwise the change and
    the other wave would give the suppressed value away). With a single wave the change columns
    stay empty, ``note`` says so and ``attrs["single_wave"]`` is True. With ``by`` the table
    has one row per segment, wave and KPI (call again without ``by`` for the whole sample). Per
    wave and KPI the segments form one partition, so complementary suppression
    (:func:`csm_helpers.analysis.stats.suppressed_groups`) also hides the smallest other segments when one
    is below ``min_n``: the whole-sample figure minus the shown segments never isolates it.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, all waves. Not modified.
    wave : str
        The wave column.
    waves : list of str, optional
        The waves in time order (default: the sorted values of ``wave``); other waves are left out.
    overall, satisfaction_items, scales, recommend, top_box, weights, level, n_boot, seed, min_n
        As in :func:`csm_helpers.analysis.kpis.kpi_change`.
    targets : dict, optional
        ``kpi -> target`` on the KPI's scale (CSAT a proportion); other keys ignored.
    by : str, optional
        Segment column.

    Returns
    -------
    pandas.DataFrame
        ``[by], wave, kpi, n, n_eff, value, ci_low, ci_high, method, target, attainment,
        previous_wave, change, test, statistic, p_value, significant, suppressed, note`` — one
        row per (segment,) wave and KPI, waves in order. ``change = value - value of the
        previous wave``; ``significant`` is True/False, None when not tested. ``attrs`` holds
        ``waves``, ``n_waves``, ``single_wave`` and ``message`` (in the report language).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> pr = progress(read_dataset("responses"), wave="wave", overall="overall_sat",
    ...               satisfaction_items=["sat_last_contact"],
    ...               scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend",
    ...               targets={"csat_top2": 0.8, "csi": 75, "nps": 30})
    >>> pr[["wave", "kpi", "attainment", "significant"]]
          wave        kpi attainment significant
    0  2025-H2  csat_top2    not met        None
    1  2025-H2        csi    not met        None
    2  2025-H2        nps    not met        None
    3  2026-H1  csat_top2    not met        True
    4  2026-H1        csi    not met        True
    5  2026-H1        nps    not met        True
    """
    check_frame(data, "progress")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    require_column(data, wave, role="wave")
    cols = ["wave", "kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target", "attainment",
            "previous_wave", "change", "test", "statistic", "p_value", "significant", "suppressed", "note"]
    if by is not None:
        require_column(data, by, role="by (group)")
        if by in cols:
            raise CsmError(f"by column {by!r} has the name of an output column — rename the column first")
    if overall not in scales:
        raise CsmError(f"no scale for the overall item {overall!r}: add it to `scales`")
    targets = {k: float(v) for k, v in (targets or {}).items() if k in kpis.KPI_NAMES and v is not None}
    present = data[wave].dropna().unique().tolist()
    if waves is None:
        try:
            waves = sorted(present)
        except TypeError:
            waves = sorted(present, key=str)
    else:
        if isinstance(waves, str) or not len(waves):
            raise CsmError(f"The value for `waves` must be a non-empty list of waves in time order, but {waves!r} "
                           "was passed.")
        missing = [w_ for w_ in waves if w_ not in present]
        if missing:
            shown = ", ".join(sorted(map(str, present))[:10]) or "none"
            raise CsmError(f"wave {missing[0]!r} is not a value of column {wave!r} (found: {shown}) — pass waves "
                           "that are in the data")
        waves = list(waves)
    if not waves:
        raise DataError(f"column {wave!r} has no wave value — fill in the wave of every response")
    items = kpis.csi_items(overall, satisfaction_items)
    scale = scales[overall]
    common = {"weights": weights, "level": level, "min_n": min_n}
    wcol = data[wave]
    # only the columns used: each wave's rows are then copied for these few columns only
    data = kpis.only_columns(data, [by, wave, weights, overall, *items, recommend])

    groups: list[tuple[Any, pd.DataFrame]]
    if by is None:
        groups = [(None, data)]
    else:
        groups = [(label, data.iloc[pos]) for label, pos in kpis.group_positions(data, by)]

    rows = []
    for label, sub in groups:
        sw = sub[wave]
        prev_wave = None
        for wv in waves:
            part = sub.loc[(sw == wv).to_numpy(dtype=bool, na_value=False)]
            est = {
                "csat_top2": kpis.csat(part, item=overall, scale=scale, top_box=top_box, **common).iloc[0],
                "csi": kpis.csi(part, items=items, scales=scales, n_boot=n_boot, seed=seed, **common).iloc[0],
            }
            if recommend is not None:
                est["nps"] = kpis.nps(part, item=recommend, **common).iloc[0]
            ch = None
            if prev_wave is not None:
                both = sub.loc[sw.isin([prev_wave, wv]).to_numpy(dtype=bool, na_value=False)]
                have = set(both[wave].unique().tolist())
                if prev_wave in have and wv in have:
                    ch = kpis.kpi_change(both, wave=wave, previous=prev_wave, latest=wv, overall=overall,
                                         satisfaction_items=items, scales=scales, recommend=recommend,
                                         top_box=top_box, n_boot=n_boot, seed=seed, **common).set_index("kpi")
            for kpi, r in est.items():
                suppressed = bool(r["suppressed"])
                value = _num(r["value"])
                target = targets.get(kpi, math.nan)
                # words of the table stay in English (it goes to metrics.json); the display translates them
                if suppressed or not math.isfinite(value) or not math.isfinite(target):
                    attain = N_("not measurable")
                else:
                    attain = N_("met") if value >= target else N_("not met")
                row = {"wave": wv, "kpi": kpi, "n": int(r["n"]), "n_eff": _num(r["n_eff"]), "value": value,
                       "ci_low": _num(r["ci_low"]), "ci_high": _num(r["ci_high"]),
                       "method": {"csat_top2": N_("Wilson"), "nps": N_("adjusted Wald")}.get(kpi, r.get("method")),
                       "target": target, "attainment": attain, "previous_wave": prev_wave, "change": math.nan,
                       "test": None, "statistic": math.nan, "p_value": math.nan, "significant": None,
                       "suppressed": suppressed, "note": ""}
                if len(waves) == 1:
                    row["note"] = N_("single wave: no change to test")
                elif prev_wave is None:
                    row["note"] = N_("first wave")
                elif ch is None:
                    row["note"] = N_("no respondents in one of the two waves: change not tested")
                else:
                    c = ch.loc[kpi]
                    row["test"] = c["test"]
                    if bool(c["suppressed"]) or suppressed:
                        row["note"] = N_("change suppressed (a wave below the minimum cell size)")
                    else:
                        row.update({"change": _num(c["change"]), "statistic": _num(c["statistic"]),
                                    "p_value": _num(c["p_value"]), "significant": c["significant"]})
                if suppressed:
                    for k in ("n_eff", "value", "ci_low", "ci_high"):
                        row[k] = math.nan
                rows.append(row if by is None else {by: label, **row})
            prev_wave = wv
    out = pd.DataFrame(rows, columns=([by] if by else []) + cols)
    for c in ("n_eff", "value", "ci_low", "ci_high", "target", "change", "statistic", "p_value"):
        out[c] = out[c].astype("float64")
    out["n"] = out["n"].astype("int64")
    out["significant"] = out["significant"].astype(object)
    out["suppressed"] = out["suppressed"].astype(bool)
    if by is not None and len(out):
        _complementary_suppression(out, by=by, min_n=min_n)
    single = len(waves) == 1
    out.attrs.update({"waves": list(waves), "n_waves": len(waves), "single_wave": single,
                      "message": (_("Only one wave ({wave}): no change between waves can be tested.", wave=waves[0])
                                  if single else
                                  _("{n} waves: {waves}.", n=len(waves), waves=", ".join(map(str, waves)))),
                      "unused_waves": sorted(set(map(str, wcol.dropna().unique())) - set(map(str, waves)))})
    return out


def _complementary_suppression(out: pd.DataFrame, *, by: str, min_n: int) -> None:
    """Per wave and KPI, the groups of ``by`` form one partition: hide the groups
    :func:`csm_helpers.analysis.stats.suppressed_groups` adds (in place), and any change that involves a
    hidden wave of a group, so that no small group can be derived by difference (SPEC §4)."""
    hidden_at: set[tuple[Any, Any]] = set()
    for (wv, _kpi), part in out.groupby(["wave", "kpi"], sort=False):
        hide = stats.suppressed_groups(dict(zip(part[by].astype(str), part["n"], strict=True)), min_n)
        for i in part.index[part[by].astype(str).isin(hide)]:
            hidden_at.add((out.at[i, by], wv))
            if not out.at[i, "suppressed"]:
                out.loc[i, ["n_eff", "value", "ci_low", "ci_high"]] = math.nan
                out.at[i, "suppressed"] = True
                out.at[i, "attainment"] = "not measurable"
                out.at[i, "note"] = N_("suppressed so that a smaller segment cannot be derived by difference")
    for i in out.index:
        prev = out.at[i, "previous_wave"]
        involved = {(out.at[i, by], out.at[i, "wave"]), (out.at[i, by], prev)}
        if prev is not None and involved & hidden_at and pd.notna(out.at[i, "change"]):
            out.loc[i, ["change", "statistic", "p_value"]] = math.nan
            out.at[i, "significant"] = None
            out.at[i, "note"] = N_("change suppressed (a wave below the minimum cell size)")


# --------------------------------------------------------------------------- sigma
def sigma_level(*, defects: float, units: float, opportunities: float = 1) -> dict[str, float]:
    """Defects per million opportunities and the Six Sigma level (SPEC §1.5).

    ``DPMO = defects / (units x opportunities) x 10^6`` and
    ``sigma = Phi^-1(1 - DPMO / 10^6) + 1.5``, the conventional 1.5-sigma long-term shift, so
    that 3.4 DPMO is 6 sigma, 66,807 DPMO 3 sigma and 308,538 DPMO 2 sigma. No defect gives
    ``sigma = inf``; every opportunity a defect gives ``-inf``.

    Harry, M. J. (1988). *The Nature of Six Sigma Quality*. Motorola University Press.
    Breyfogle, F. W. (2003). *Implementing Six Sigma*, 2nd ed. Wiley, ch. 1 (DPMO-to-sigma table).

    Parameters
    ----------
    defects : float
        Defects counted (>= 0).
    units : float
        Units inspected (> 0): customers, complaints, transactions.
    opportunities : float
        Opportunities for a defect per unit (> 0).

    Returns
    -------
    dict
        ``defects``, ``units``, ``opportunities``, ``dpmo``, ``yield`` (``1 - DPMO/10^6``)
        and ``sigma``.

    Raises
    ------
    CsmError
        When units or opportunities are not positive, defects negative, or more defects than
        opportunities.

    Examples
    --------
    >>> r = sigma_level(defects=66_807, units=1_000_000)
    >>> round(r["dpmo"]), round(r["sigma"], 2)
    (66807, 3.0)
    >>> round(sigma_level(defects=34, units=10_000_000)["sigma"], 2)
    6.0
    """
    vals = {}
    for name, v in (("defects", defects), ("units", units), ("opportunities", opportunities)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not math.isfinite(v):
            raise CsmError(f"sigma_level: `{name}` must be a finite number, but {v!r} was passed.")
        vals[name] = float(v)
    if vals["units"] <= 0:
        raise CsmError(f"sigma_level: `units` must be > 0 (units inspected), but {units!r} was passed.")
    if vals["opportunities"] <= 0:
        raise CsmError(f"sigma_level: `opportunities` must be > 0 per unit, but {opportunities!r} was passed.")
    if vals["defects"] < 0:
        raise CsmError(f"sigma_level: `defects` must be >= 0, but {defects!r} was passed.")
    total = vals["units"] * vals["opportunities"]
    if vals["defects"] > total:
        raise CsmError(f"sigma_level: {vals['defects']:g} defects exceed the {total:g} opportunities "
                       f"(units {vals['units']:g} x opportunities {vals['opportunities']:g}) — check the counts, "
                       "or count the opportunities per unit")
    rate = vals["defects"] / total
    sigma = float(_st.norm.ppf(1.0 - rate)) + _SIX_SIGMA_SHIFT
    return {**vals, "dpmo": rate * 1e6, "yield": 1.0 - rate, "sigma": sigma}


def service_sigma(source: Mapping[str, Any], *, units: float | None = None, opportunities: float = 1,
                  min_n: int = 5) -> pd.DataFrame:
    """Service quality in sigma terms from the complaint summary or from counts (SPEC §1.5).

    ``source`` is either

    - the dict of :func:`csm_helpers.analysis.complaints.complaint_summary`, giving two measures:

      * "Valid complaints per customer": defects = valid complaints (all complaints when
        validity is not recorded: "Complaints per customer"), units = ``units`` (the customer
        base; default the summary's ``customers``), opportunities = ``opportunities``; left
        out when the customer base is unknown;
      * "Complaints outside SLA": defects = complaints resolved later than their SLA plus open
        complaints already older than their SLA, units = the complaints whose SLA outcome is
        known (resolved, or open beyond the SLA), one opportunity each; left out when the log
        has no dates;

    - or a mapping ``measure -> (defects, units)`` or ``(defects, units, opportunities)``.

    Each row is :func:`sigma_level`. A measure with fewer than ``min_n`` units, or from a
    suppressed complaint summary, keeps its name with every number missing (SPEC §4).

    Returns
    -------
    pandas.DataFrame
        Columns ``measure, defects, units, opportunities, dpmo, sigma, suppressed``.

    Examples
    --------
    >>> service_sigma({"Wrong transactions": (12, 40_000, 1)})[["measure", "dpmo"]]
                  measure   dpmo
    0  Wrong transactions  300.0
    """
    if not isinstance(source, Mapping):
        raise CsmError(f"service_sigma: pass the complaint_summary() dict or a mapping measure -> (defects, units), "
                       f"but {type(source).__name__} was passed")
    min_n = check_int(min_n, "min_n", minimum=0)
    measures: list[tuple[str, float, float, float, bool]] = []
    if "n_complaints" in source:
        supp = bool(source.get("suppressed", False))
        n_valid = _num(source.get("n_valid"))
        customers = _num(units) if units is not None else _num(source.get("customers"))
        # measure names stay in English in the table; the display step translates them
        name = N_("Valid complaints per customer") if math.isfinite(n_valid) else N_("Complaints per customer")
        defects = n_valid if math.isfinite(n_valid) else _num(source["n_complaints"])
        if math.isfinite(customers):
            measures.append((name, defects, customers, float(opportunities), supp))
        n_res, share = _num(source.get("n_resolved")), _num(source.get("share_within_sla"))
        over = _num(source.get("n_open_over_sla"))
        if supp or (math.isfinite(n_res) and math.isfinite(share)):
            late = n_res - round(share * n_res) if not supp else math.nan
            over = over if math.isfinite(over) else 0.0
            measures.append((N_("Complaints outside SLA"), late + over, n_res + over, 1.0, supp))
    else:
        for name, counts in source.items():
            if isinstance(counts, str) or not isinstance(counts, Sequence) or len(counts) not in (2, 3):
                raise CsmError(f"service_sigma: the entry of {name!r} must be (defects, units) or (defects, units, "
                               f"opportunities), but {counts!r} was passed")
            d, u, *o = counts
            measures.append((str(name), d, u, o[0] if o else opportunities, False))
    rows = []
    for name, d, u, o, supp in measures:
        small = supp or not math.isfinite(_num(u)) or _num(u) < min_n
        if small:
            rows.append({"measure": name, "defects": math.nan, "units": math.nan, "opportunities": math.nan,
                         "dpmo": math.nan, "sigma": math.nan, "suppressed": True})
            continue
        r = sigma_level(defects=d, units=u, opportunities=o)
        rows.append({"measure": name, "defects": r["defects"], "units": r["units"],
                     "opportunities": r["opportunities"], "dpmo": r["dpmo"], "sigma": r["sigma"],
                     "suppressed": False})
    return pd.DataFrame(rows, columns=["measure", "defects", "units", "opportunities", "dpmo", "sigma", "suppressed"])
