"""Expectation–perception gaps and the competitor benchmark (SPEC §1.4, stage 04).

- :func:`expectation_gaps`: per attribute, the gap ``G = P - E`` between each respondent's
  perception (performance rating) and expectation, its mean with a t interval, the paired t and
  Wilcoxon signed-rank tests, the effect size ``d_z`` and the share of respondents dissatisfied
  (P < E), satisfied (P = E) and delighted (P > E) — SPEC §1 "satisfaction is a comparison";
- :func:`competitor_benchmark`: per attribute, our rating against the main competitor's from the
  same respondents, with the paired gap, its interval and a better / worse / level flag;
- :func:`gap_pairs`: the (perception, expectation) or (own, competitor) column pairs of a study.

Both tables have one row per attribute (per group and attribute with ``by``); rows with fewer
than ``min_n`` complete pairs are suppressed (SPEC §4).

Weights. With a weight column, means and shares are weighted and every interval and test uses
Kish's effective sample size ``n_eff = (sum w)^2 / sum w^2`` of the complete pairs: standard
error ``sqrt(s_w^2 / n_eff)`` with ``s_w^2`` the weighted variance (:func:`csm_helpers.analysis.stats.
weighted_var`), ``n_eff - 1`` degrees of freedom. The Wilcoxon test has no weighted form and is
left missing in a weighted analysis.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis.drivers.common import check_level, numeric_array
from csm_helpers.analysis.stats import (
    ATTRIBUTE_FAMILY,
    adjust_family,
    get_weights,
    kish_neff,
    suppress,
    weighted_mean,
    weighted_var,
)
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_

if TYPE_CHECKING:  # pragma: no cover
    from csm_helpers.study.config import Study

__all__ = ["expectation_gaps", "competitor_benchmark", "gap_pairs"]

_STUDENT = ("Student (1908); paired t-test on the per-respondent differences, t interval with n - 1 "
            "degrees of freedom (Kish effective n - 1 when weighted)")
_WILCOXON = ("Wilcoxon, F. (1945). Individual comparisons by ranking methods. Biometrics Bulletin, 1(6), "
             "80-83 (signed-rank test; zero differences dropped, no continuity correction: scipy.stats.wilcoxon's "
             "defaults)")
_COHEN = "Cohen, J. (1988). Statistical power analysis for the behavioral sciences (2nd ed.), d_z = mean / SD of the differences"


def gap_pairs(study: Study, kind: Literal["expectation", "competitor"] = "expectation") -> dict[str, tuple[str, str]]:
    """Column pairs of the study's attributes: (performance, expectation) or (performance, competitor).

    Only attributes that have the second item are included, in config order.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> study = load_study(sample_study_path())
    >>> gap_pairs(study)["fees"]
    ('perf_fees', 'exp_fees')
    >>> len(gap_pairs(study, "competitor"))
    8
    """
    if kind not in ("expectation", "competitor"):
        raise CsmError(f"The value for `kind` must be one of ['expectation', 'competitor'], but {kind!r} was passed.")
    return {a.id: (a.performance, getattr(a, kind)) for a in study.attributes if getattr(a, kind)}


def expectation_gaps(data: pd.DataFrame, *, pairs: Mapping[str, tuple[str, str]], weights: str | None = None,
                     by: str | None = None, level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Expectation–perception gap per attribute: ``G = P - E`` per respondent (SPEC §1.4).

    For each attribute, the respondents who answered both the perception (performance) and the
    expectation item (complete pairs) give ``G = P - E``. Reported: the mean gap with its
    t interval; the paired t-test of mean G = 0 (Student, 1908; identical to
    ``scipy.stats.ttest_rel(P, E)`` and ``pingouin.ttest(P, E, paired=True)``); the Wilcoxon
    signed-rank test (Wilcoxon, 1945; ``scipy.stats.wilcoxon(P, E)`` with its defaults: zero
    differences dropped, no continuity correction — pingouin and R's ``wilcox.test`` correct by
    default); the effect size ``d_z = mean G / SD(G)`` (Cohen, 1988); and the
    shares dissatisfied (P < E), satisfied (P = E) and delighted (P > E), which add up to 1.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    pairs : mapping of str to (str, str)
        Attribute id -> (perception column, expectation column); see :func:`gap_pairs`.
    weights : str, optional
        Column of survey weights (see the module notes: Kish effective n; no Wilcoxon).
    by : str, optional
        Segment column: one row per segment value and attribute (rows with a missing segment
        are left out).
    level : float
        Confidence level of the interval.
    min_n : int
        Rows with fewer complete pairs are suppressed: ``suppressed=True``, every statistic
        missing (only the keys and ``n`` remain).

    Returns
    -------
    pandas.DataFrame
        One row per attribute (per ``by`` value and attribute, ``by`` column first):
        ``attribute``, ``perception``, ``expectation`` (column names), ``n`` (complete pairs),
        ``n_eff`` (Kish; equals n unweighted), ``mean_perception``, ``mean_expectation`` (over
        the complete pairs, so that ``mean_gap`` is their difference), ``mean_gap``, ``sd_gap``,
        ``ci_low``, ``ci_high``, ``t``, ``df``, ``p_value`` (two-sided), ``p_adj``
        (Benjamini–Hochberg over the attributes, per ``by`` group: the table screens every
        attribute; :data:`csm_helpers.analysis.stats.ATTRIBUTE_FAMILY`; a row without a p-value is left
        out of the family), ``wilcoxon_p`` (a check on the t-test, not adjusted),
        ``cohen_dz``, ``share_dissatisfied``, ``share_satisfied``, ``share_delighted``,
        ``suppressed``. When every gap is the same, t, p_value and cohen_dz are missing (no
        variance) and the interval is the mean itself. ``attrs``: ``method`` (a note on the
        computation), ``p_adjust`` (the correction, ``"fdr_bh"``) and ``level``.

    Raises
    ------
    DataError
        When a column is missing or not numeric.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> df = read_dataset("responses")
    >>> g = expectation_gaps(df, pairs={"fees": ("perf_fees", "exp_fees"),
    ...                                 "staff_courtesy": ("perf_staff_courtesy", "exp_staff_courtesy")})
    >>> g[["attribute", "n", "mean_gap", "share_dissatisfied"]].round(3)
            attribute     n  mean_gap  share_dissatisfied
    0            fees  2281    -0.715               0.577
    1  staff_courtesy  2255    -0.013               0.327
    >>> bool(abs(g.loc[0, ["share_dissatisfied", "share_satisfied", "share_delighted"]].sum() - 1) < 1e-12)
    True
    """
    return _paired_table(data, pairs=pairs, weights=weights, by=by, level=level, min_n=min_n, kind="expectation")


def competitor_benchmark(data: pd.DataFrame, *, pairs: Mapping[str, tuple[str, str]], weights: str | None = None,
                         by: str | None = None, level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Our rating against the main competitor's, per attribute, from the same respondents (SPEC §1.4).

    For each attribute, the respondents who rated both us and the competitor give the paired
    difference ``own - competitor``; the table shows both means, the mean gap with its
    t interval and the paired t-test (as ``scipy.stats.ttest_rel(own, competitor)``), and flags
    the attribute ``"better"`` or ``"worse"`` when the gap is significant at ``1 - level``
    after the Benjamini–Hochberg correction over the attributes (``p_adj``, see
    :data:`csm_helpers.analysis.stats.ATTRIBUTE_FAMILY`: with eight attributes tested at 5 %, one
    "worse" by chance alone is likely), else ``"level"``. The interval is per attribute (not
    adjusted), so an interval excluding 0 can still be "level".

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    pairs : mapping of str to (str, str)
        Attribute id -> (own column, competitor column); see :func:`gap_pairs` with
        ``kind="competitor"``.
    weights, by, level, min_n
        As for :func:`expectation_gaps` (weighted: Kish effective n).

    Returns
    -------
    pandas.DataFrame
        One row per attribute (per ``by`` value and attribute, ``by`` column first):
        ``attribute``, ``own_column``, ``competitor_column``, ``n``, ``n_eff``, ``own``,
        ``competitor`` (means over the complete pairs), ``gap`` (own - competitor), ``ci_low``,
        ``ci_high``, ``t``, ``df``, ``p_value``, ``p_adj`` (Benjamini–Hochberg over the
        attributes, per ``by`` group), ``flag`` (``"better"``, ``"worse"`` or
        ``"level"``; ``"level"`` too when the test is undefined because every gap is the same),
        ``suppressed``. ``attrs`` as in :func:`expectation_gaps`.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> df = read_dataset("responses")
    >>> b = competitor_benchmark(df, pairs={"product_range": ("perf_product_range", "comp_product_range"),
    ...                                     "fees": ("perf_fees", "comp_fees")})
    >>> b[["attribute", "gap", "flag"]].round(3)
           attribute    gap    flag
    0  product_range  0.096  better
    1           fees -0.406   worse
    """
    return _paired_table(data, pairs=pairs, weights=weights, by=by, level=level, min_n=min_n, kind="competitor")


# --------------------------------------------------------------------------- internals
def _paired_table(data: pd.DataFrame, *, pairs: Mapping[str, tuple[str, str]], weights: str | None,
                  by: str | None, level: float, min_n: int, kind: str) -> pd.DataFrame:
    check_level(level)
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 1:
        raise CsmError(f"The value for `min_n` must be a whole number >= 1, but {min_n!r} was passed.")
    if not isinstance(pairs, Mapping) or not pairs:
        raise CsmError(f"`pairs` must be a non-empty mapping attribute id -> (column, column), but {pairs!r} "
                       "was passed")
    first, second = ("perception", "expectation") if kind == "expectation" else ("own", "competitor")
    cols: dict[str, tuple[np.ndarray, np.ndarray, str, str]] = {}
    for attr, pair in pairs.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise CsmError(f"`pairs`: the entry of {attr!r} must be a pair ({first} column, {second} column), "
                           f"but {pair!r} was passed")
        a, b = (str(c) for c in pair)
        cols[str(attr)] = (numeric_array(data, a, f"{first} of {attr!r}"), numeric_array(data, b, f"{second} of {attr!r}"),
                           a, b)
    w = get_weights(data, weights)
    if by is None:
        groups: list[tuple[object, np.ndarray]] = [(None, np.ones(len(data), dtype=bool))]
    else:
        if by not in data.columns:
            raise DataError(f"`by` column {by!r} is not in the data; columns: {', '.join(map(str, data.columns))}")
        key = data[by]
        values = pd.unique(key[key.notna()])
        with contextlib.suppress(TypeError):  # mixed types: keep the order of appearance
            values = sorted(values)
        groups = [(v, (key == v).to_numpy(dtype=bool, na_value=False)) for v in values]

    rows = []
    for gval, gmask in groups:
        for attr, (p, e, pc, ec) in cols.items():
            ok = gmask & np.isfinite(p) & np.isfinite(e) & (w > 0)
            row: dict[str, object] = {} if by is None else {by: gval}
            row["attribute"] = attr
            if kind == "expectation":
                row.update({"perception": pc, "expectation": ec})
            else:
                row.update({"own_column": pc, "competitor_column": ec})
            row.update(_paired_stats(p[ok], e[ok], w[ok], level=level, weighted=weights is not None, kind=kind))
            rows.append(row)
    out = pd.DataFrame(rows)
    keep = ["attribute", "perception", "expectation"] if kind == "expectation" else [
        "attribute", "own_column", "competitor_column"]
    if by is not None:
        keep = [by, *keep]
    out = suppress(out, n="n", min_n=min_n, keep=keep, by=by, within=["attribute"])
    # one family per by group; the competitor flags follow the adjusted p (stats.adjust_family)
    out = adjust_family(out, method=ATTRIBUTE_FAMILY, level=level, by=by)
    out.attrs["method"] = _method_note(kind, weighted=weights is not None, level=level, min_n=min_n)
    return out


def _paired_stats(p: np.ndarray, e: np.ndarray, w: np.ndarray, *, level: float, weighted: bool,
                  kind: str) -> dict[str, object]:
    n = len(p)
    g = p - e
    nan = float("nan")
    neff = kish_neff(w) if n else 0.0
    mean_g = weighted_mean(g, w) if n else nan
    sd = float(np.sqrt(weighted_var(g, w))) if n >= 2 and neff > 1 else nan
    df = neff - 1 if neff > 1 else nan
    t = pval = dz = nan
    lo = hi = nan
    if np.isfinite(sd) and sd > 1e-12 * max(1.0, abs(mean_g)):
        se = sd / np.sqrt(neff)
        t = mean_g / se
        pval = float(2 * _st.t.sf(abs(t), df))
        q = float(_st.t.ppf(0.5 + level / 2, df))
        lo, hi = mean_g - q * se, mean_g + q * se
        dz = mean_g / sd
    elif np.isfinite(sd):  # every gap the same: no variance, the interval is the mean itself
        lo = hi = mean_g
    stats: dict[str, object] = {"n": n, "n_eff": neff if n else nan}
    if kind == "expectation":
        wil = nan
        if not weighted and n and np.any(g != 0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wil = float(_st.wilcoxon(p, e).pvalue)
        stats.update({
            "mean_perception": weighted_mean(p, w) if n else nan,
            "mean_expectation": weighted_mean(e, w) if n else nan,
            "mean_gap": mean_g, "sd_gap": sd, "ci_low": lo, "ci_high": hi, "t": t, "df": df, "p_value": pval,
            "wilcoxon_p": wil, "cohen_dz": dz,
            "share_dissatisfied": _share(g < 0, w), "share_satisfied": _share(g == 0, w),
            "share_delighted": _share(g > 0, w),
        })
    else:
        alpha = 1 - level
        # kept in English (metrics and the SWOT compare them); the display step translates them
        flag = N_("level")  # redone on the adjusted p by stats.adjust_family
        if np.isfinite(pval) and pval < alpha:
            flag = N_("better") if mean_g > 0 else N_("worse")
        stats.update({
            "own": weighted_mean(p, w) if n else nan,
            "competitor": weighted_mean(e, w) if n else nan,
            "gap": mean_g, "ci_low": lo, "ci_high": hi, "t": t, "df": df, "p_value": pval,
            "flag": flag if n else None,
        })
    return stats


def _share(mask: np.ndarray, w: np.ndarray) -> float:
    total = float(np.sum(w))
    return float(np.sum(w[mask]) / total) if total > 0 else float("nan")


def _method_note(kind: str, *, weighted: bool, level: float, min_n: int) -> str:
    parts = [("Gap G = perception - expectation per respondent (complete pairs). " if kind == "expectation"
              else "Gap = own rating - competitor rating per respondent (complete pairs). ")
             + f"{level:.0%} interval and test: " + _STUDENT + "."]
    if kind == "expectation":
        parts.append(("Wilcoxon signed-rank: not computed with weights. " if weighted else
                      "Wilcoxon signed-rank: " + _WILCOXON + ". ") + "Effect size: " + _COHEN + ".")
    if weighted:
        parts.append("Weighted means and shares; intervals on Kish's effective n.")
    parts.append("p_adj: Benjamini-Hochberg over the attributes (false discovery rate; Benjamini & Hochberg "
                 "1995)" + ("; the better / worse flags use it." if kind == "competitor" else "."))
    parts.append(f"Rows with fewer than {min_n} complete pairs are suppressed.")
    return " ".join(parts)
