"""Segment comparison (SPEC §1.4): do regions, channels or other segments differ?

:func:`compare_means` compares the mean of a rating across segments with Welch's ANOVA and the
Games-Howell post-hoc test (means, unequal variances), and with the Kruskal-Wallis test and
pairwise Mann-Whitney tests with Holm-adjusted p-values (ordinal view). :func:`compare_top_box`
compares the top-box share with a chi-square test of independence, Cramér's V and pairwise
two-proportion z-tests with Holm-adjusted p-values.

Segments with fewer than ``min_n`` respondents (SPEC §4) are listed as suppressed, with no
statistic, and are left out of every test, so that no test result depends on them; the segments
complementary suppression adds (so that the total minus the shown segments cannot reveal a
small one, :func:`csm_helpers.analysis.stats.suppressed_groups`) are treated the same way. With fewer
than two reportable segments there is nothing to compare: the result says so in ``message``
and the test tables are empty (with their columns).
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as _sc
from scipy import stats as _st

from csm_helpers.analysis import stats
from csm_helpers.analysis.kpis import two_proportion_z, wilson_interval
from csm_helpers.analysis.kpis.common import check_top_box, group_positions, rating_array
from csm_helpers.analysis.studentized_range import studentized_range_sf
from csm_helpers.core.checks import check_frame, check_int, column_floats, require_column
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import _

__all__ = ["compare_means", "compare_top_box", "suppression_note"]

_GROUP_COLS = ["group", "n", "n_eff", "mean", "sd", "ci_low", "ci_high", "suppressed"]
_WELCH_COLS = ["k", "n", "F", "df1", "df2", "p_value", "np2"]
_GH_COLS = ["A", "B", "mean_A", "mean_B", "diff", "se", "t", "df", "p_value", "hedges"]
_KW_COLS = ["k", "n", "H", "dof", "p_value", "epsilon2"]
_MW_COLS = ["A", "B", "n_A", "n_B", "U", "p_unc", "p_holm", "rbc"]
_TB_GROUP_COLS = ["group", "n", "n_eff", "top_box_n", "share", "ci_low", "ci_high", "suppressed"]
_CHI_COLS = ["k", "n", "chi2", "dof", "p_value", "cramers_v", "min_expected"]
_TB_PAIR_COLS = ["A", "B", "share_A", "share_B", "diff", "z", "p_unc", "p_holm"]


def _numeric(data: pd.DataFrame, item: str) -> np.ndarray:
    require_column(data, item, role="item")
    s = data[item]
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f"column {item!r}: holds true/false values, not ratings — recode it to numbers")
    x, not_a_number, _blank = column_floats(s)
    bad = not_a_number | np.isinf(x)
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(dict.fromkeys(repr(str(v)) for v in s.iloc[where[:3]]))
        raise DataError(f"column {item!r}, index {', '.join(str(i) for i in data.index[where[:5]])}: "
                        f"{shown} is not a number — fix the data or mark it as missing")
    return x


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in {"A", "B", "group"} else "float64") for c in columns})


def suppression_note(groups: pd.DataFrame, *, by: str, min_n: int) -> str:
    """What a reader must know about the hidden segments of a comparison ("" when none).

    Examples
    --------
    >>> t = stats.suppress(pd.DataFrame({"group": ["A", "B", "C"], "n": [3, 40, 25], "mean": [1.0, 2, 3]}),
    ...                    keep=["group"], by="group")
    >>> print(suppression_note(t, by="region", min_n=5))
    Not shown: region A (fewer than 5 respondents), and region C too, so that region A cannot be worked out by difference from the other segments and the total.
    """
    if "suppressed" not in groups.columns or not groups["suppressed"].any():
        return ""
    extra = list(groups.attrs.get("complementary", []))
    small = [g for g in groups.loc[groups["suppressed"], "group"] if g not in extra]
    hidden = ", ".join(map(str, small))
    if not extra:
        return _("Not shown: {by} {hidden} (fewer than {min_n} respondents).", by=by, hidden=hidden, min_n=min_n)
    return _("Not shown: {by} {hidden} (fewer than {min_n} respondents), and {by} {extra} too, so that "
             "{by} {hidden} cannot be worked out by difference from the other segments and the total.",
             by=by, hidden=hidden, min_n=min_n, extra=", ".join(map(str, extra)))


def _message(reportable: list[Any], by: str, min_n: int) -> str | None:
    if len(reportable) >= 2:
        return None
    return _("fewer than 2 segments of {column} have at least {min_n} respondents with an answer ({found} found): "
             "nothing to compare", column=repr(by), min_n=min_n, found=len(reportable))


# --------------------------------------------------------------------------- means
def compare_means(data: pd.DataFrame, *, item: str, by: str, weights: str | None = None,
                  level: float = 0.95, min_n: int = 5) -> dict[str, Any]:
    """Compare the mean of ``item`` across the segments of ``by`` (SPEC §1.4 "Segment comparison").

    - ``groups``: per segment ``n`` (answers), mean, SD and a t interval (at ``level``) of the
      mean;
    - ``welch_anova``: Welch's F-test for equal means under unequal variances (Welch 1951,
      the formula of ``pingouin.welch_anova``), with partial eta² (``np2``) as effect size;
    - ``games_howell``: all pairs, Games-Howell post-hoc test (Games & Howell 1976, the
      formula of ``pingouin.pairwise_gameshowell``; p-values from the studentized range,
      already adjusted for the number of pairs: the integral of
      ``scipy.stats.studentized_range.sf``, evaluated for all pairs at once by
      :func:`csm_helpers.analysis.studentized_range.studentized_range_sf`), with Hedges' g;
    - ``kruskal``: Kruskal-Wallis H test (``scipy.stats.kruskal``, tie-corrected) with
      ``epsilon2 = H / ((n² - 1) / (n + 1))``;
    - ``pairwise_mw``: Mann-Whitney U test for each pair (``scipy.stats.mannwhitneyu``,
      two-sided, continuity correction), Holm-adjusted p-values over the pairs, and the
      rank-biserial correlation ``rbc = 2 U_A / (n_A n_B) - 1`` (positive when A tends to
      rate higher).

    **Weights**: with ``weights`` every mean shown is the weighted mean, so a segment never
    shows two different means: the ``groups`` table has weighted means and SDs
    (:func:`csm_helpers.analysis.stats.weighted_mean`, :func:`~csm_helpers.analysis.stats.weighted_var`) with a t
    interval on the Kish effective n, and Welch's ANOVA and Games-Howell are computed from
    those weighted means and variances with each segment's Kish effective n in place of its
    count (the effective-sample-size approach to design-based tests: Kish, L. (1965). *Survey
    Sampling*, §8.2; Potthoff, R. F., Woodbury, M. A., & Manton, K. G. (1992). "Equivalent
    sample size" and "equivalent degrees of freedom" refinements for inference using survey
    weights under superpopulation models. *JASA*, 87(418), 383–396). Without weights (or with
    equal ones) they equal ``pingouin.welch_anova`` and ``pingouin.pairwise_gameshowell`` (to
    rounding; pingouin is the tests' reference, and is not imported here: its import loads
    matplotlib and seaborn, half a second of every report that compares segments). The rank tests
    (Kruskal-Wallis, Mann-Whitney) compare ranks, have no design-based form here and stay
    unweighted; they show no mean. The returned ``note`` says so, for the report.

    Segments with fewer than ``min_n`` answers (or fewer than 2) are suppressed: no statistic,
    and left out of every test. So are the segments complementary suppression adds
    (:func:`csm_helpers.analysis.stats.suppressed_groups`): with one segment hidden, the total minus the
    shown segments would reveal it, so the smallest other segments are hidden too; ``note``
    says which and why. Rows with a missing segment or answer are left out.

    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38, 330–336. Games, P. A. & Howell, J. F. (1976). *Journal of Educational
    Statistics*, 1(2), 113–125. Kruskal, W. H. & Wallis, W. A. (1952). *JASA*, 47, 583–621.
    Tomczak, M. & Tomczak, E. (2014). *Trends in Sport Sciences*, 1(21), 19–25 (epsilon²).
    Mann, H. B. & Whitney, D. R. (1947). *Annals of Mathematical Statistics*, 18, 50–60.
    Kerby, D. S. (2014). The simple difference formula. *Comprehensive Psychology*, 3, 1
    (rank-biserial). Holm, S. (1979). *Scandinavian Journal of Statistics*, 6, 65–70.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    item : str
        The rating to compare.
    by : str
        The segment column.
    weights : str, optional
        Weight column (descriptives only, see above).
    level : float
        Confidence level of the group intervals.
    min_n : int
        Minimum cell size.

    Returns
    -------
    dict
        ``groups`` (columns ``group, n, n_eff, mean, sd, ci_low, ci_high, suppressed``),
        ``welch_anova`` (``k, n, F, df1, df2, p_value, np2``), ``games_howell`` (``A, B,
        mean_A, mean_B, diff, se, t, df, p_value, hedges``), ``kruskal`` (``k, n, H, dof,
        p_value, epsilon2``), ``pairwise_mw`` (``A, B, n_A, n_B, U, p_unc, p_holm, rbc``),
        ``suppressed`` (list of suppressed segments), ``message`` (why a test could not be run —
        fewer than 2 reportable segments, or a segment whose answers are all the same — or
        None) and ``note`` (how weights were used, or None).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> res = compare_means(read_dataset("responses"), item="overall_sat", by="region")
    >>> res["groups"]["group"].tolist()
    ['Can Tho', 'Da Nang', 'Hanoi', 'Ho Chi Minh City']
    >>> len(res["games_howell"]), res["message"]
    (6, None)
    """
    check_frame(data, "compare_means")
    require_column(data, by, role="by (group)")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    x = _numeric(data, item)
    w = stats.get_weights(data, weights)
    rows, tested = [], []
    for label, pos in group_positions(data, by):
        xg, wg = x[pos], w[pos]
        ok = np.isfinite(xg)
        xg, wg = xg[ok], wg[ok]
        n = len(xg)
        neff = stats.kish_neff(wg) if n else 0.0
        mean = stats.weighted_mean(xg, wg) if n else math.nan
        var = stats.weighted_var(xg, wg) if n > 1 else math.nan
        sd = math.sqrt(var) if math.isfinite(var) else math.nan
        if n > 1 and neff > 1 and math.isfinite(sd):
            half = float(_st.t.ppf(0.5 + level / 2, neff - 1)) * sd / math.sqrt(neff)
            lo, hi = mean - half, mean + half
        else:
            lo = hi = math.nan
        rows.append({"group": label, "n": n, "n_eff": neff, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi})
        tested.append((label, xg))
    groups = pd.DataFrame(rows, columns=_GROUP_COLS[:-1])
    groups["n"] = groups["n"].astype("int64")
    groups = stats.suppress(groups, min_n=max(min_n, 2), keep=["group"], by="group")
    suppressed = groups.loc[groups["suppressed"], "group"].tolist()
    tested = [t for t, hide in zip(tested, groups["suppressed"], strict=True) if not hide]
    notes = []
    if weights is not None:
        notes.append(_("Means, SDs, intervals, Welch's ANOVA and Games-Howell are weighted (each segment on its "
                       "Kish effective n); the rank tests (Kruskal-Wallis, Mann-Whitney) are unweighted."))
    notes.append(suppression_note(groups, by=by, min_n=max(min_n, 2)))
    note = " ".join(x for x in notes if x) or None
    out: dict[str, Any] = {"groups": groups, "welch_anova": _empty(_WELCH_COLS), "games_howell": _empty(_GH_COLS),
                           "kruskal": _empty(_KW_COLS), "pairwise_mw": _empty(_MW_COLS),
                           "suppressed": suppressed, "message": _message([t[0] for t in tested], by, min_n),
                           "note": note}
    if out["message"]:
        return out
    labels = [t[0] for t in tested]
    n_total = sum(len(v) for _lab, v in tested)
    constant = [str(lab) for lab, v in tested if np.ptp(v) == 0]
    if constant:
        out["message"] = _("every answer in segment {segments} is the same: Welch's ANOVA and Games-Howell are "
                           "undefined (no variance), only the rank tests were run", segments=", ".join(constant))
        out["welch_anova"] = pd.DataFrame({"k": [len(tested)], "n": [n_total], "F": [math.nan], "df1": [math.nan],
                                           "df2": [math.nan], "p_value": [math.nan], "np2": [math.nan]})
    else:
        _welch_and_games_howell(out, groups.loc[~groups["suppressed"]], labels, n_total)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # every answer identical: H is 0/0
            h, p = _st.kruskal(*[v for _lab, v in tested])
        h, p = float(h), float(p)
    except ValueError:  # older scipy raises when every answer is identical
        h, p = math.nan, math.nan
    out["kruskal"] = pd.DataFrame({"k": [len(tested)], "n": [n_total], "H": [h], "dof": [len(tested) - 1],
                                   "p_value": [p], "epsilon2": [h * (n_total + 1) / (n_total**2 - 1)]})
    mw = pd.DataFrame(_mann_whitney_pairs(tested))
    mw["p_holm"] = stats.holm(mw["p_unc"].to_numpy(float))
    out["pairwise_mw"] = mw[_MW_COLS]
    return out


def _mann_whitney_pairs(tested: list[tuple[Any, np.ndarray]]) -> list[dict[str, Any]]:
    """Two-sided Mann-Whitney U test with continuity correction for every pair of groups:
    ``scipy.stats.mannwhitneyu``'s statistic and p-value, from each group's sorted answers.

    U of A counts the pairs where A's answer is higher, ties as a half (Mann & Whitney 1947),
    found by binary search in B's sorted answers; the normal approximation and its tie
    correction are scipy's (``_get_mwu_z``: ``sqrt(n_A n_B / 12 ((n + 1) - Σ(t³ - t) / (n (n -
    1))))``). A pair scipy would test exactly (either group of 8 answers or fewer, and no ties)
    goes to scipy. scipy ranks both groups again for every pair: 0.6 ms a pair, 0.7 s for the
    1,225 pairs of 50 branches.
    """
    ordered = []
    for label, x in tested:
        x = np.sort(np.asarray(x, dtype=float))
        values, counts = np.unique(x, return_counts=True)
        ordered.append((label, x, values, counts))
    rows = []
    for (la, xa, va, ca), (lb, xb, vb, cb) in itertools.combinations(ordered, 2):
        na, nb = len(xa), len(xb)
        pooled, where = np.unique(np.concatenate([va, vb]), return_inverse=True)
        ties = np.bincount(where, weights=np.concatenate([ca, cb]).astype(float), minlength=len(pooled))
        if (na <= 8 or nb <= 8) and not (ties > 1).any():
            res = _st.mannwhitneyu(xa, xb, use_continuity=True, alternative="two-sided")
            u, p = float(res.statistic), float(res.pvalue)
        else:
            below = np.searchsorted(xb, va, side="left")
            equal = np.searchsorted(xb, va, side="right") - below
            u = float(np.sum(ca * (below + equal / 2)))
            n = na + nb
            sd = np.sqrt(na * nb / 12 * ((n + 1) - np.sum(ties**3 - ties) / (n * (n - 1))))  # 0: all tied
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (max(u, na * nb - u) - na * nb / 2 - 0.5) / sd
            p = float(np.clip(2 * _sc.ndtr(-z), 0.0, 1.0))
        rows.append({"A": la, "B": lb, "n_A": na, "n_B": nb, "U": u, "p_unc": p, "rbc": 2 * u / (na * nb) - 1})
    return rows


def _welch_and_games_howell(out: dict[str, Any], groups: pd.DataFrame, labels: list[Any], n_total: int) -> None:
    """Welch's ANOVA and Games-Howell from the groups' (weighted) means and variances, on each
    group's Kish n_eff.

    The formulas are pingouin's (Welch 1951; Games & Howell 1976) with ``n`` replaced by the
    effective n (the count, without weights): with equal weights the results are pingouin's.
    """
    m = groups["mean"].to_numpy(float)
    v = groups["sd"].to_numpy(float) ** 2
    n = groups["n_eff"].to_numpy(float)
    k = len(m)
    w = n / v
    adj_mean = np.sum(w * m) / np.sum(w)
    lamb = 3 * np.sum((1 - w / np.sum(w)) ** 2 / (n - 1)) / (k**2 - 1)
    f = np.sum(w * (m - adj_mean) ** 2) / (k - 1) / (1 + 2 * lamb * (k - 2) / 3)
    grand = np.sum(n * m) / np.sum(n)
    ss_bet, ss_res = np.sum(n * (m - grand) ** 2), np.sum((n - 1) * v)
    out["welch_anova"] = pd.DataFrame({"k": [k], "n": [n_total], "F": [float(f)], "df1": [float(k - 1)],
                                       "df2": [float(1 / lamb)], "p_value": [float(_st.f.sf(f, k - 1, 1 / lamb))],
                                       "np2": [float(ss_bet / (ss_bet + ss_res))]})
    a, b = (np.array(ix, dtype=np.intp) for ix in zip(*itertools.combinations(range(k), 2), strict=True))
    va, vb = v[a] / n[a], v[b] / n[b]
    se = np.sqrt(va + vb)
    t = (m[a] - m[b]) / se
    df = (va + vb) ** 2 / (va**2 / (n[a] - 1) + vb**2 / (n[b] - 1))
    sp = np.sqrt(((n[a] - 1) * v[a] + (n[b] - 1) * v[b]) / (n[a] + n[b] - 2))
    out["games_howell"] = pd.DataFrame({
        "A": [labels[i] for i in a], "B": [labels[i] for i in b], "mean_A": m[a], "mean_B": m[b],
        "diff": m[a] - m[b], "se": se, "t": t, "df": df,
        "p_value": studentized_range_sf(math.sqrt(2) * np.abs(t), k, df),
        "hedges": (m[a] - m[b]) / sp * (1 - 3 / (4 * (n[a] + n[b]) - 9))}, columns=_GH_COLS)


# --------------------------------------------------------------------------- top box
def compare_top_box(data: pd.DataFrame, *, item: str, by: str, scale: tuple[float, float], top_box: int = 2,
                    weights: str | None = None, level: float = 0.95, min_n: int = 5) -> dict[str, Any]:
    """Compare the top-box share of ``item`` across the segments of ``by`` (SPEC §1.4).

    - ``groups``: per segment ``n`` (answers), ``top_box_n`` (answers in the top ``top_box``
      points), ``share`` and its Wilson interval at ``level``;
    - ``chi2``: Pearson chi-square test of independence of top-box yes/no × segment
      (``scipy.stats.chi2_contingency`` without Yates' continuity correction, so that with two
      segments ``chi2`` equals the square of the two-proportion z), Cramér's V
      ``sqrt(chi2 / n)`` (the table has two columns) and the smallest expected count
      (``min_expected`` below 5 makes the chi-square approximation doubtful);
    - ``pairwise``: two-proportion z-tests (pooled SE, :func:`csm_helpers.analysis.kpis.two_proportion_z`)
      for each pair, Holm-adjusted over the pairs.

    **Weights** (SPEC §1.3: weighted estimates everywhere weights exist): with ``weights`` each
    share is the weighted share, its Wilson interval is computed on the segment's Kish effective
    n (as :func:`csm_helpers.analysis.kpis.csat`), and the tests use the effective counts
    ``n_eff p`` and ``n_eff (1 - p)``: the chi-square on that table is the Rao–Scott correction
    of Pearson's statistic for independent samples, each segment's count divided by its design
    effect ``deff = n / n_eff`` (Rao, J. N. K., & Scott, A. J. (1981). The analysis of
    categorical data from complex sample surveys. *JASA*, 76(374), 221–230, §4; Kish's deff for
    unequal weights), and the pairwise z-tests use the effective n. ``top_box_n`` is then the
    weighted count on the respondent scale, ``share × n``. With equal weights everything equals
    the unweighted tests.

    Segments with fewer than ``min_n`` answers are suppressed and left out of every
    test, with the segments complementary suppression adds (``note`` says which); fewer than 2
    reportable segments → ``message`` says so and the test tables are empty.

    Pearson, K. (1900). *Philosophical Magazine*, 50, 157–175. Cramér, H. (1946).
    *Mathematical Methods of Statistics*. Princeton, §21.9. Holm, S. (1979). *Scandinavian
    Journal of Statistics*, 6, 65–70.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    item : str
        The rating (e.g. overall satisfaction).
    by : str
        The segment column.
    scale : tuple of float
        ``(min, max)`` of the item.
    top_box : int
        Number of top scale points counted.
    weights : str, optional
        Weight column (see above).
    level : float
        Confidence level of the group intervals.
    min_n : int
        Minimum cell size.

    Returns
    -------
    dict
        ``groups`` (``group, n, n_eff, top_box_n, share, ci_low, ci_high, suppressed``), ``chi2``
        (one row: ``k, n, chi2, dof, p_value, cramers_v, min_expected``), ``pairwise`` (``A, B,
        share_A, share_B, diff, z, p_unc, p_holm``), ``suppressed`` (list) and ``message``
        (None when the tests ran).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> res = compare_top_box(read_dataset("responses"), item="overall_sat", by="channel", scale=(1, 5))
    >>> int(res["chi2"].loc[0, "dof"]), len(res["pairwise"])
    (1, 1)
    """
    check_frame(data, "compare_top_box")
    require_column(data, by, role="by (group)")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    lo, hi, top_box = check_top_box(top_box, scale, item)
    x = rating_array(data, item, (lo, hi))
    w = stats.get_weights(data, weights)
    rows, tested = [], []
    for label, pos in group_positions(data, by):
        xg, wg = x[pos], w[pos]
        ok = np.isfinite(xg) & (wg > 0)
        xg, wg = xg[ok], wg[ok]
        n = len(xg)
        neff = stats.kish_neff(wg) if n else 0.0
        share = stats.weighted_share(xg >= hi - top_box + 1, wg) if n else math.nan
        ci = wilson_interval(share * neff, neff, level=level) if n else (math.nan, math.nan)
        rows.append({"group": label, "n": n, "n_eff": neff, "top_box_n": share * n if n else 0.0, "share": share,
                     "ci_low": ci[0], "ci_high": ci[1]})
        tested.append((label, share * neff, neff))
    groups = pd.DataFrame(rows, columns=_TB_GROUP_COLS[:-1])
    groups["n"] = groups["n"].astype("int64")
    groups = stats.suppress(groups, min_n=max(min_n, 1), keep=["group"], by="group")
    note = suppression_note(groups, by=by, min_n=max(min_n, 1))
    if weights is not None:
        note = " ".join(x for x in (_("Shares, intervals and tests are weighted (each segment on its Kish "
                                      "effective n; Rao–Scott-corrected chi-square)."), note) if x)
    tested = [t for t, hide in zip(tested, groups["suppressed"], strict=True) if not hide]
    out: dict[str, Any] = {"groups": groups, "chi2": _empty(_CHI_COLS), "pairwise": _empty(_TB_PAIR_COLS),
                           "suppressed": groups.loc[groups["suppressed"], "group"].tolist(),
                           "message": _message([t[0] for t in tested], by, min_n),
                           "note": note or None}
    if out["message"]:
        return out
    table = np.array([[t, n - t] for _lab, t, n in tested], dtype=float)
    n_total = float(table.sum())
    try:
        chi2, p, dof, expected = _st.chi2_contingency(table, correction=False)
        chi2, p, min_exp = float(chi2), float(p), float(np.min(expected))
    except ValueError:  # a column of zeros: every answer (or none) in the top box
        chi2, p, min_exp = math.nan, math.nan, 0.0
        out["message"] = _("every answer to {item} in the compared segments is in the top box: no chi-square test"
                           if table[:, 0].sum() else
                           "every answer to {item} in the compared segments is outside the top box: no chi-square "
                           "test", item=repr(item))
    dof = len(tested) - 1
    out["chi2"] = pd.DataFrame({"k": [len(tested)], "n": [int(round(n_total))], "chi2": [chi2], "dof": [dof],
                                "p_value": [p], "cramers_v": [math.sqrt(chi2 / n_total) if n_total else math.nan],
                                "min_expected": [min_exp]})
    pairs = []
    for (la, ta, na), (lb, tb, nb) in itertools.combinations(tested, 2):
        r = two_proportion_z(ta / na, na, tb / nb, nb)
        pairs.append({"A": la, "B": lb, "share_A": ta / na, "share_B": tb / nb, "diff": r["diff"], "z": r["z"],
                      "p_unc": r["p_value"]})
    pw = pd.DataFrame(pairs)
    pw["p_holm"] = stats.holm(pw["p_unc"].to_numpy(float))
    out["pairwise"] = pw[_TB_PAIR_COLS]
    return out
