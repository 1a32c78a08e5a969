"""Key-driver analysis and importance–performance analysis (SPEC §1.4, stage 04).

- :func:`relative_weights`: Johnson's (2000) relative weights from a correlation matrix;
- :func:`key_drivers`: Pearson r, standardised betas and relative weights of overall satisfaction
  on the attribute ratings, with pairwise-complete (optionally weighted) correlations and seeded
  percentile-bootstrap intervals;
- :func:`nearest_correlation`: the eigenvalue-clipping repair of a correlation matrix that is not
  positive definite (pairwise-complete matrices can be);
- :func:`attribute_table`: the study's attributes and their survey items as a table, the input of
  :func:`ipa` and of the gap helpers;
- :func:`ipa`: importance–performance analysis (Martilla & James, 1977) with the quadrant names of
  :data:`QUADRANTS`;
- :func:`ipa_quadrant_probability`: bootstrap share of resamples in which each attribute lands in
  each quadrant (SPEC §1.7).

Johnson's method in brief. With ``R_xx = V diag(d) V'`` the predictors' correlation matrix and
``r_xy`` their correlations with the outcome, ``Lambda = V diag(sqrt d) V'`` holds the correlations
of the predictors with their closest orthogonal counterparts ``Z`` (Johnson, 2000).
Regressing the outcome on ``Z`` gives ``beta* = Lambda^-1 r_xy``; predictor ``j``'s raw weight is
``eps_j = sum_k Lambda_jk^2 beta*_k^2``. The raw weights are non-negative and add up to the model
``R^2 = r_xy' R_xx^-1 r_xy``; ``rw_pct = 100 eps_j / R^2`` is the share of ``R^2``.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from csm_helpers.analysis.stats import get_weights, kish_neff
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _

if TYPE_CHECKING:  # pragma: no cover
    from csm_helpers.study.config import Study

__all__ = [
    "CONCENTRATE",
    "KEEP_UP",
    "LOW_PRIORITY",
    "OVERKILL",
    "QUADRANTS",
    "relative_weights",
    "nearest_correlation",
    "key_drivers",
    "driver_minimum_n",
    "QUADRANT_BOOT_MIN_N",
    "attribute_table",
    "ipa",
    "ipa_quadrant_probability",
]

# The names stay in English in the tables (they go to metrics.json); the display step translates them.
CONCENTRATE = N_("Concentrate here")
"""IPA quadrant: high importance, low performance."""
KEEP_UP = N_("Keep up the good work")
"""IPA quadrant: high importance, high performance."""
LOW_PRIORITY = N_("Low priority")
"""IPA quadrant: low importance, low performance."""
OVERKILL = N_("Possible overkill")
"""IPA quadrant: low importance, high performance."""
QUADRANTS: tuple[str, ...] = (CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL)
"""The four IPA quadrant names of SPEC §1.4 (Martilla & James, 1977), exactly as reported."""

#: A correlation matrix whose smallest eigenvalue is below this is repaired (not positive definite).
_PD_TOL = 1e-8
#: Eigenvalues are clipped to this floor by :func:`nearest_correlation`.
_PD_FLOOR = 1e-6

_JOHNSON = ("Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor "
            "variables in multiple regression. Multivariate Behavioral Research, 35(1), 1-19.")
_MARTILLA = ("Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. Journal of "
             "Marketing, 41(1), 77-79.")


# --------------------------------------------------------------------------- relative weights
def relative_weights(corr: np.ndarray | pd.DataFrame, *, outcome: Any, predictors: Sequence[Any]) -> pd.DataFrame:
    """Johnson's relative weights of ``predictors`` for ``outcome`` from a correlation matrix.

    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1–19.

    The predictors are replaced by their closest orthogonal counterparts ``Z``; with
    ``R_xx = V diag(d) V'``, ``Lambda = V diag(sqrt d) V'`` (the correlations of X with Z),
    ``beta* = Lambda^-1 r_xy`` and the raw weight of predictor ``j`` is
    ``eps_j = sum_k Lambda_jk^2 beta*_k^2``. Raw weights are >= 0 and add up to the model R^2;
    with uncorrelated predictors ``eps_j = r_jy^2``.

    Parameters
    ----------
    corr : numpy.ndarray or pandas.DataFrame
        A square correlation matrix holding the outcome and the predictors. With a DataFrame,
        ``outcome`` and ``predictors`` are its labels; with an array, integer positions.
    outcome : label or int
        The outcome (criterion) variable.
    predictors : sequence of labels or ints
        The predictors, at least one, distinct and different from ``outcome``.

    Returns
    -------
    pandas.DataFrame
        One row per predictor, in the given order: ``predictor``, ``raw_weight`` (eps_j, a
        proportion of the outcome's variance), ``rw_pct`` (``100 eps_j / R^2``, percent of R^2;
        missing when R^2 = 0). ``df.attrs["r2"]`` holds R^2 (the sum of the raw weights).

    Raises
    ------
    CsmError
        When the matrix is not square, symmetric, finite with a unit diagonal and entries in
        [-1, 1], when a label is unknown or repeated, or when the matrix is not positive
        definite (repair it with :func:`nearest_correlation` first).

    Examples
    --------
    Two predictors correlated 0.3, with validities 0.5 and 0.4:

    >>> R = pd.DataFrame([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]],
    ...                  index=["y", "a", "b"], columns=["y", "a", "b"])
    >>> rw = relative_weights(R, outcome="y", predictors=["a", "b"])
    >>> rw.round(4)
      predictor  raw_weight   rw_pct
    0         a      0.2043  64.1207
    1         b      0.1143  35.8793
    >>> round(rw.attrs["r2"], 4), round(float(rw["raw_weight"].sum()), 4)
    (0.3187, 0.3187)
    """
    mat, labels = _as_matrix(corr)
    out_i = _position(labels, outcome, "outcome")
    pred_i = [_position(labels, p, "predictors") for p in predictors]
    if not pred_i:
        raise CsmError("relative_weights: `predictors` is empty — name at least one predictor")
    if len(set(pred_i)) != len(pred_i) or out_i in pred_i:
        raise CsmError("relative_weights: each predictor must appear once and differ from the outcome, "
                       f"but outcome={outcome!r} and predictors={list(predictors)!r} were passed")
    order = [out_i, *pred_i]
    sub = mat[np.ix_(order, order)]
    d_min = float(np.linalg.eigvalsh(sub).min())
    if d_min < _PD_TOL:
        raise CsmError(
            f"relative_weights: the correlation matrix is not positive definite (smallest eigenvalue "
            f"{d_min:.3g}); pairwise-complete correlations can be — repair it with "
            "csm_helpers.analysis.drivers.nearest_correlation() or drop a predictor that duplicates another")
    eps, _beta, r2 = _johnson(sub[None])
    eps, r2 = eps[0], float(r2[0])
    out = pd.DataFrame({
        "predictor": [labels[i] for i in pred_i],
        "raw_weight": eps,
        "rw_pct": 100 * eps / r2 if r2 > 0 else np.full(len(eps), np.nan),
    })
    out.attrs["r2"] = r2
    out.attrs["method"] = _JOHNSON
    return out


def nearest_correlation(corr: np.ndarray | pd.DataFrame, *, floor: float = _PD_FLOOR) -> np.ndarray | pd.DataFrame:
    """A positive-definite correlation matrix close to ``corr``, by eigenvalue clipping.

    The eigenvalues below ``floor`` are raised to it and the result is rescaled to a unit
    diagonal (Rousseeuw, P. J., & Molenberghs, G. (1993). Transformation of non positive
    semidefinite correlation matrices. *Communications in Statistics – Theory and Methods*,
    22(4), 965–984). A matrix whose eigenvalues are all at least ``1e-8`` is returned unchanged.
    Pairwise-complete correlations (SPEC §1.4: drivers with many missing answers) can form a
    matrix that is not positive definite; this is the repair :func:`key_drivers` applies.

    Parameters
    ----------
    corr : numpy.ndarray or pandas.DataFrame
        A symmetric matrix with a unit diagonal.
    floor : float
        Smallest eigenvalue of the repaired matrix (before the rescaling to a unit diagonal).

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        Same type and labels as ``corr``.

    Examples
    --------
    >>> R = np.array([[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1]])   # impossible correlations
    >>> bool(np.linalg.eigvalsh(R).min() < 0)
    True
    >>> fixed = nearest_correlation(R)
    >>> bool(np.linalg.eigvalsh(fixed).min() > 0), np.diag(fixed).tolist()
    (True, [1.0, 1.0, 1.0])
    """
    mat, _labels = _as_matrix(corr)
    fixed, repaired = _clip_pd(mat[None], floor=floor)
    fixed = fixed[0] if repaired[0] else np.array(corr, dtype=float)  # unchanged: a copy of the input
    if isinstance(corr, pd.DataFrame):
        return pd.DataFrame(fixed, index=corr.index, columns=corr.columns)
    return fixed


# --------------------------------------------------------------------------- key drivers
#: The bootstrap probability of an IPA quadrant is not computed on fewer respondents than this:
#: a bootstrap of fewer than about 30 cases mostly reproduces the sample's own quirks (Efron, B.,
#: & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, Chapman & Hall, §6.4;
#: Chernick, M. R. (2008). *Bootstrap Methods*, 2nd ed., Wiley, §8.1).
QUADRANT_BOOT_MIN_N = 30


def driver_minimum_n(k: int) -> int:
    """Fewest answers key drivers of ``k`` attributes are estimated on: ``max(30, 5 k)``.

    With ``n <= k + 1`` the predictor correlation matrix is singular and the regression fits
    perfectly (R² = 1) whatever the data; a little above that, the betas and relative weights
    still swing wildly with a handful of cases per predictor. The rule follows the usual
    guidance for multiple regression: at least five cases per predictor, never fewer than 30
    (Tabachnick, B. G., & Fidell, L. S. (2013). *Using Multivariate Statistics*, 6th ed.,
    Pearson, §5.3.2.1; Green, S. B. (1991). How many subjects does it take to do a regression
    analysis? *Multivariate Behavioral Research*, 26(3), 499–510). The count is the smallest
    number of respondents behind any correlation of the model (with pairwise-complete
    correlations, the least-answered pair of items).

    Examples
    --------
    >>> driver_minimum_n(3), driver_minimum_n(12)
    (30, 60)
    """
    return max(30, 5 * int(k))


def _suppressed_drivers(attrs: list[str], cols: list[str], N: np.ndarray, *, need: int, n_min: int,
                        attrs_extra: dict[str, Any], problems: list[str] | None = None) -> pd.DataFrame:
    """The key-driver table with every estimate missing, for a sample below the model's minimum
    or (``problems``) answers on which a correlation cannot be computed."""
    nan = np.full(len(attrs), np.nan)
    out = pd.DataFrame({"attribute": attrs, "column": cols, "n": N[0, 1:].astype(int), "r": nan, "beta": nan,
                        "relative_weight": nan, "rw_pct": nan, "rw_ci_low": nan, "rw_ci_high": nan,
                        "rw_pct_ci_low": nan, "rw_pct_ci_high": nan,
                        "rank": pd.array([pd.NA] * len(attrs), dtype="Int64")})
    reason = _("Key drivers are not shown: with {k} attributes they need at least {need} respondents behind "
               "every correlation (five per attribute, never fewer than 30), and this report has {n}. "
               "Report a larger segment or pool waves.", k=len(attrs), need=need, n=n_min)
    out.attrs.update({**attrs_extra, "r2": math.nan, "suppressed": True, "suppressed_reason": reason,
                      "minimum_n": need, "n_min": n_min,
                      "method": f"Key drivers withheld: {n_min} respondents, fewer than the minimum "
                                f"max(30, 5 x {len(attrs)} attributes) = {need} (Green 1991; Tabachnick & Fidell "
                                "2013)."})
    if problems:
        out.attrs.update({
            "suppressed_reason": _("Key drivers are not shown: a correlation cannot be computed on this report's "
                                   "answers ({detail}). Check the items with csm validate, or report more "
                                   "respondents.", detail="; ".join(problems)),
            "method": "Key drivers withheld: " + "; ".join(problems) + "."})
    return out


def key_drivers(data: pd.DataFrame, *, outcome: str, drivers: Mapping[str, str], weights: str | None = None,
                n_boot: int = 1000, seed: int = 0, level: float = 0.95, pairwise: bool = True,
                min_n: int | None = None, degenerate: Literal["raise", "withhold"] = "raise") -> pd.DataFrame:
    """Key-driver analysis of ``outcome`` on the attribute ratings (SPEC §1.4).

    For each driver: Pearson r with the outcome, the standardised regression coefficient
    ``beta = R_xx^-1 r_xy`` and Johnson's (2000) relative weight (its share of the model R^2),
    with a seeded percentile-bootstrap interval and its rank.

    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1–19.

    Missing answers. With ``pairwise=True`` (default) every correlation uses the rows where
    both of its variables are answered (pairwise-complete, as ``pandas.DataFrame.corr``), so a
    driver with many missing answers costs only its own correlations. Such a matrix need not be
    positive definite; when it is not, it is repaired by eigenvalue clipping
    (:func:`nearest_correlation`) and ``attrs["pd_repaired"]`` says so. With ``pairwise=False``
    only the rows that answered the outcome and every driver are used.

    Weights. Weighted means, variances and covariances (the rows' weights carried into every
    product) give weighted Pearson correlations; r, beta and the relative weights follow from
    them. The bootstrap resamples rows with replacement, each row keeping its weight.

    Bootstrap. ``n_boot`` resamples of the respondents (``numpy.random.default_rng(seed)``); in
    each, the same correlation matrix (pairwise, weighted, repaired when needed) and Johnson's
    weights are recomputed with matrix algebra. Above 10,000 respondents the resampling units are
    10,000 random batches of respondents (a batch-sum bootstrap, see ``_boot_products``: same
    mean and, up to a factor 1 - 1/10,000, same covariance of the resampled sums), which keeps a
    million rows within seconds; ``attrs["method"]`` says which was used. The interval is the ``(1 - level)/2`` and
    ``(1 + level)/2`` percentiles. Resamples in which a correlation cannot be computed (a
    variable without variance) are left out and counted in ``attrs["n_boot_failed"]``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    outcome : str
        The overall satisfaction column.
    drivers : mapping of str to str
        Attribute id -> rating column (e.g. ``{"fees": "perf_fees", ...}``), at least one.
    weights : str, optional
        Column of survey weights.
    n_boot : int
        Bootstrap resamples (0: no intervals).
    seed : int
        Seed of the bootstrap; the same seed gives the same intervals.
    level : float
        Confidence level of the intervals.
    pairwise : bool
        Pairwise-complete correlations (True) or complete cases only (False).
    min_n : int, optional
        Fewest respondents behind any correlation of the model; None for
        :func:`driver_minimum_n` of the number of drivers, 0 to estimate on any sample.
    degenerate : {"raise", "withhold"}
        When a correlation cannot be computed (an item with the same answer from everyone,
        fewer than 3 answers, no variance within a pair): raise a :class:`DataError` (default)
        or return the withheld table with ``attrs["suppressed_reason"]`` naming the columns,
        which is what a report does, so the rest of the stage is still written.

    Returns
    -------
    pandas.DataFrame
        One row per attribute in the order of ``drivers``:

        - ``attribute``, ``column``;
        - ``n``: rows answering both the driver and the outcome (pairwise) or the complete
          cases (``pairwise=False``);
        - ``r``: Pearson correlation with the outcome (as computed, before any repair);
          ``beta``: standardised coefficient of the multiple regression on all drivers;
        - ``relative_weight``: Johnson's raw weight, a proportion of the outcome's variance (the
          column adds up to R^2); ``rw_pct``: the same as percent of R^2 (adds up to 100);
        - ``rw_ci_low``, ``rw_ci_high``: bootstrap interval of ``relative_weight``;
          ``rw_pct_ci_low``, ``rw_pct_ci_high``: bootstrap interval of ``rw_pct``;
        - ``rank``: 1 = largest relative weight (ties share the smaller rank).

        ``df.attrs`` holds ``r2``, ``n_complete`` (rows answering everything), ``n_outcome``,
        ``n_eff`` (Kish, rows answering the outcome), ``n_boot``, ``n_boot_failed``,
        ``n_boot_repaired``, ``level``, ``seed``, ``pairwise``, ``weighted``, ``pd_repaired``,
        ``min_eigenvalue`` (of the correlation matrix before any repair) and ``method`` (a note
        for the methods appendix).

        Below the model's minimum (``min_n``; by default :func:`driver_minimum_n`, counted on
        the least-answered pair of items) nothing is estimated: every estimate is missing,
        ``rank`` is missing, and ``attrs`` holds ``suppressed=True``, ``suppressed_reason`` (a
        sentence for the reader, in the report language), ``minimum_n`` and ``n_min``.

    Raises
    ------
    DataError
        When a column is missing or not numeric, a driver repeats a column or is the outcome,
        or a correlation cannot be computed (fewer than 3 paired answers, or no variance).
    CsmError
        When ``n_boot`` or ``level`` is out of range.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> df = read_dataset("responses")
    >>> drivers = {"fees": "perf_fees", "wait_time": "perf_wait_time",
    ...            "problem_resolution": "perf_problem_resolution", "staff_courtesy": "perf_staff_courtesy"}
    >>> kd = key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=200, seed=1)
    >>> kd.sort_values("rank")["attribute"].tolist()
    ['problem_resolution', 'wait_time', 'staff_courtesy', 'fees']
    >>> bool(abs(kd["relative_weight"].sum() - kd.attrs["r2"]) < 1e-10), round(float(kd["rw_pct"].sum()), 6)
    (True, 100.0)
    >>> bool((kd["rw_ci_low"] <= kd["relative_weight"]).all() and (kd["relative_weight"] <= kd["rw_ci_high"]).all())
    True
    """
    check_level(level)
    n_boot = _check_n_boot(n_boot)
    if not isinstance(drivers, Mapping) or not drivers:
        raise CsmError("key_drivers: `drivers` must be a non-empty mapping attribute id -> column, "
                       f"but {drivers!r} was passed")
    attrs = [str(a) for a in drivers]
    cols = [str(c) for c in drivers.values()]
    _check_distinct(outcome, attrs, cols)
    w = get_weights(data, weights)
    X = np.column_stack([numeric_array(data, c, role) for c, role in
                         [(outcome, "outcome"), *((c, f"driver {a!r}") for a, c in zip(attrs, cols, strict=True))]])
    if not pairwise:
        X = np.where(np.isfinite(X).all(axis=1)[:, None], X, np.nan)
    mom = _Moments(X, w)
    rng = np.random.default_rng(seed)
    # With a bootstrap, the resampling units' sums are formed first and the estimate is their
    # total: one pass over the respondents instead of two.
    S = mom.unit_sums(w, rng) if n_boot else None
    R, _, N = mom.estimate(w, total=None if S is None else mom.expand(S.sum(axis=0)))
    need = driver_minimum_n(len(cols)) if min_n is None else int(min_n)
    n_min = int(N.min())
    if n_min < need:
        return _suppressed_drivers(attrs, cols, N, need=need, n_min=n_min, attrs_extra={
            "n_outcome": int(np.isfinite(X[:, 0]).sum()), "n_boot": n_boot, "level": level, "seed": seed,
            "pairwise": pairwise, "weighted": weights is not None})
    problems = _corr_problems(R, N, [outcome, *cols])
    if problems and degenerate == "withhold":  # a report section says why, the stage goes on
        return _suppressed_drivers(attrs, cols, N, need=need, n_min=n_min, problems=problems, attrs_extra={
            "n_outcome": int(np.isfinite(X[:, 0]).sum()), "n_boot": n_boot, "level": level, "seed": seed,
            "pairwise": pairwise, "weighted": weights is not None})
    if problems:
        raise DataError("key drivers: a correlation cannot be computed — see below for the column and the fix",
                        problems=problems)
    d_min = float(np.linalg.eigvalsh(R).min())
    Rf, repaired = _clip_pd(R[None])
    eps, beta, r2 = (a[0] for a in _johnson(Rf))
    r2 = float(r2)

    # Bootstrap: the same estimator (pairwise, weighted, repaired) on n_boot resamples.
    boot_eps = np.full((n_boot, len(cols)), np.nan)
    boot_r2 = np.full(n_boot, np.nan)
    n_rep = 0
    sums = _resample_sums(S, rng, n_boot) if S is not None else np.zeros((0, len(mom.keep)))
    Rs, _ = mom.correlations(mom.expand(sums))
    ok = np.isfinite(Rs).all(axis=(1, 2))
    if ok.any():
        Rb, rep = _clip_pd(Rs[ok])
        n_rep = int(rep.sum())
        e_b, _, r2_b = _johnson(Rb)
        boot_eps[ok] = e_b
        boot_r2[ok] = r2_b
    n_failed = int((~ok).sum())
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns when n_boot == 0
        pct_b = 100 * boot_eps / boot_r2[:, None]
        ci = np.nanquantile(boot_eps, [lo_q, hi_q], axis=0) if ok.any() else np.full((2, len(cols)), np.nan)
        ci_pct = np.nanquantile(pct_b, [lo_q, hi_q], axis=0) if ok.any() else np.full((2, len(cols)), np.nan)

    out = pd.DataFrame({
        "attribute": attrs,
        "column": cols,
        "n": N[0, 1:].astype(int),
        "r": R[0, 1:],
        "beta": beta,
        "relative_weight": eps,
        "rw_pct": 100 * eps / r2 if r2 > 0 else np.nan,
        "rw_ci_low": ci[0],
        "rw_ci_high": ci[1],
        "rw_pct_ci_low": ci_pct[0],
        "rw_pct_ci_high": ci_pct[1],
    })
    out["rank"] = out["relative_weight"].rank(ascending=False, method="min").astype(int)
    valid = np.isfinite(X) & (w > 0)[:, None]
    out_rows = valid[:, 0]
    out.attrs.update({
        "r2": r2,
        "n_complete": int(valid.all(axis=1).sum()),
        "n_outcome": int(out_rows.sum()),
        "n_eff": kish_neff(w[out_rows]),
        "n_boot": n_boot,
        "n_boot_failed": n_failed,
        "n_boot_repaired": n_rep,
        "level": level,
        "seed": seed,
        "pairwise": pairwise,
        "weighted": weights is not None,
        "pd_repaired": bool(repaired[0]),
        "min_eigenvalue": d_min,
        "method": _method_note(pairwise=pairwise, weighted=weights is not None, repaired=bool(repaired[0]),
                               n_boot=n_boot, level=level, seed=seed, d_min=d_min, n_rows=len(X)),
    })
    return out


def _method_note(*, pairwise: bool, weighted: bool, repaired: bool, n_boot: int, level: float, seed: int,
                 d_min: float, n_rows: int) -> str:
    parts = [
        "Relative weights: " + _JOHNSON,
        ("Correlations: weighted Pearson" if weighted else "Correlations: Pearson")
        + (", pairwise-complete (each correlation uses the respondents who answered both items)." if pairwise
           else ", complete cases (respondents who answered the outcome and every driver)."),
        "Standardised betas: R_xx^-1 r_xy from the same correlation matrix.",
    ]
    if repaired:
        cause = ("pairwise-complete correlations rest on different respondents, or attributes are collinear"
                 if pairwise else "attributes are collinear")
        parts.append(f"The correlation matrix was not positive definite (smallest eigenvalue {d_min:.3g}: {cause}); "
                     "it was repaired by eigenvalue clipping (Rousseeuw & Molenberghs, 1993).")
    if n_boot:
        unit = ("the respondents" if n_rows <= _MAX_UNITS else
                f"{_MAX_UNITS:,} random batches of respondents (batch-sum bootstrap)")
        parts.append(f"Intervals: {level:.0%} percentile bootstrap, {n_boot} resamples of {unit} "
                     f"(seed {seed})" + (", each respondent keeping its weight." if weighted else "."))
    return " ".join(parts)


# --------------------------------------------------------------------------- IPA
def attribute_table(study: Study) -> pd.DataFrame:
    """The study's attributes and their survey items, one row per attribute in config order.

    Parameters
    ----------
    study : Study
        A loaded study (:func:`csm_helpers.study.config.load_study`).

    Returns
    -------
    pandas.DataFrame
        ``attribute`` (id), ``label``, ``dimension``, and the column names ``performance``,
        ``importance``, ``expectation``, ``competitor`` (missing where the study has no such
        item), plus ``scale_min``, ``scale_max`` (scale of the performance item) — the
        ``attributes`` input of :func:`ipa`; pairs for :mod:`csm_helpers.analysis.gaps` come from the
        same table (``csm_helpers.analysis.gaps.gap_pairs``).

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> t = attribute_table(load_study(sample_study_path()))
    >>> t.loc[0, ["attribute", "performance", "importance"]].tolist()
    ['product_range', 'perf_product_range', 'imp_product_range']
    >>> int(t["competitor"].notna().sum())
    8
    """
    rows = []
    for a in study.attributes:
        lo, hi = study.scale_for(a.performance, "performance")
        rows.append({"attribute": a.id, "label": a.label, "dimension": a.dimension,
                     "performance": a.performance, "importance": a.importance,
                     "expectation": a.expectation, "competitor": a.competitor,
                     "scale_min": float(lo), "scale_max": float(hi)})
    return pd.DataFrame(rows, columns=["attribute", "label", "dimension", "performance", "importance",
                                       "expectation", "competitor", "scale_min", "scale_max"])


def ipa(data: pd.DataFrame, *, attributes: Mapping[str, Mapping[str, Any]] | pd.DataFrame,
        importance: Literal["stated", "derived", "auto"] = "stated",
        derived: pd.DataFrame | Mapping[str, float] | None = None,
        derived_column: str = "relative_weight", crosshair: Literal["grand_mean", "midpoint"] = "grand_mean",
        scale: tuple[float, float] = (1, 5), importance_scale: tuple[float, float] | None = None,
        weights: str | None = None) -> pd.DataFrame:
    """Importance–performance analysis: each attribute's quadrant (SPEC §1.4).

    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77–79.

    x = mean performance, y = importance: the mean stated importance (``importance="stated"``)
    or a derived importance such as the relative weight or r from :func:`key_drivers`
    (``importance="derived"``). Cross-hairs at the grand means (the mean of the attributes'
    values on each axis, every attribute counting once) or at the scale midpoints. A derived
    importance has no scale, so its cross-hair is always the mean of the derived values (for
    relative weights: R^2 / number of attributes, an equal share each).

    Quadrants, named exactly as SPEC §1.4: "Concentrate here" (high importance, low
    performance), "Keep up the good work" (high, high), "Low priority" (low, low), "Possible
    overkill" (low importance, high performance). **Tie rule:** a value on a cross-hair counts
    as high (``>=``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    attributes : pandas.DataFrame or mapping
        :func:`attribute_table` (columns ``attribute``, ``performance``, optional ``label``,
        ``dimension``, ``importance``), or a mapping attribute id -> ``{"performance": col,
        "importance": col, "label": ..., "dimension": ...}``.
    importance : {"stated", "derived", "auto"}
        Source of the y axis; ``"auto"`` (as ``analysis.importance`` in study.yaml): stated when
        every attribute has an importance item, else derived.
    derived : pandas.DataFrame or mapping, optional
        With ``importance="derived"``: the :func:`key_drivers` table (its ``attribute`` and
        ``derived_column`` are used) or a mapping attribute id -> importance.
    derived_column : str
        Column of ``derived`` to use (``"relative_weight"``, ``"rw_pct"``, ``"r"``, ...).
    crosshair : {"grand_mean", "midpoint"}
        Where the cross-hairs go.
    scale : (float, float)
        Performance scale (min, max), for the midpoint.
    importance_scale : (float, float), optional
        Stated-importance scale for the midpoint (default: ``scale``).
    weights : str, optional
        Column of survey weights: weighted means.

    Returns
    -------
    pandas.DataFrame
        One row per attribute: ``attribute``, ``label``, ``dimension``, ``n_performance``,
        ``performance`` (mean), ``n_importance`` (answers to the importance item; missing for a
        derived importance), ``importance``, ``importance_type`` (``"stated"`` or
        ``"derived (<derived_column>)"``), ``x_cross``, ``y_cross`` and ``quadrant`` (missing
        when the attribute has no performance or importance value). Means use every answer to
        the item (available cases).

    Raises
    ------
    DataError
        When an item column is missing or not numeric, an attribute has no importance item
        (stated) or no derived value (derived).
    CsmError
        When an option is not one of its allowed values.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> table = ipa(read_dataset("responses"), attributes=attribute_table(load_study(sample_study_path())))
    >>> table.set_index("attribute").loc[["problem_resolution", "accuracy"], "quadrant"].tolist()
    ['Concentrate here', 'Possible overkill']
    """
    _check_option("importance", importance, ("stated", "derived", "auto"))
    _check_option("crosshair", crosshair, ("grand_mean", "midpoint"))
    if importance == "auto":
        spec = _attribute_spec(attributes, need_importance=False)
        has_all = "importance" in spec.columns and spec["importance"].notna().all()
        importance = "stated" if has_all else "derived"
    spec = _attribute_spec(attributes, need_importance=importance == "stated")
    w = get_weights(data, weights)
    perf_cols = spec["performance"].tolist()
    P = np.column_stack([numeric_array(data, c, f"performance of {a!r}") for a, c in
                         zip(spec["attribute"], perf_cols, strict=True)])
    n_perf, perf = _wmeans(P, w)
    if importance == "stated":
        imp_cols = spec["importance"].tolist()
        Iq = np.column_stack([numeric_array(data, c, f"importance of {a!r}") for a, c in
                              zip(spec["attribute"], imp_cols, strict=True)])
        n_imp, imp = _wmeans(Iq, w)
        n_imp_col: Any = n_imp
        itype = N_("stated")
    else:
        imp = _derived_values(spec["attribute"].tolist(), derived, derived_column)
        n_imp_col = pd.array([pd.NA] * len(spec), dtype="Int64")
        itype = (N_("derived (relative_weight)") if derived_column == "relative_weight" else
                 f"derived ({derived_column})")
    x_cross, y_cross = _crosshairs(perf[None], imp[None], crosshair=crosshair, importance=importance,
                                   scale=scale, importance_scale=importance_scale)
    quad = _quadrants(perf, imp, float(x_cross[0]), float(y_cross[0]))
    out = pd.DataFrame({
        "attribute": spec["attribute"].tolist(),
        "label": spec["label"].tolist(),
        "dimension": spec["dimension"].tolist(),
        "n_performance": n_perf,
        "performance": perf,
        "n_importance": n_imp_col,
        "importance": imp,
        "importance_type": itype,
        "x_cross": float(x_cross[0]),
        "y_cross": float(y_cross[0]),
        "quadrant": quad,
    })
    out.attrs.update({"crosshair": crosshair, "importance": importance, "weighted": weights is not None,
                      "method": f"Importance-performance analysis: {_MARTILLA} Cross-hairs at the "
                                + ("grand means of the attributes" if crosshair == "grand_mean" else
                                   "scale midpoints") + "; a value on a cross-hair counts as high."})
    return out


def ipa_quadrant_probability(data: pd.DataFrame, *, attributes: Mapping[str, Mapping[str, Any]] | pd.DataFrame,
                             importance: Literal["stated", "derived"] = "stated", outcome: str | None = None,
                             crosshair: Literal["grand_mean", "midpoint"] = "grand_mean",
                             scale: tuple[float, float] = (1, 5), importance_scale: tuple[float, float] | None = None,
                             weights: str | None = None, pairwise: bool = True, n_boot: int = 1000,
                             seed: int = 0, min_n: int | None = None) -> pd.DataFrame:
    """Bootstrap probability that each attribute sits in its IPA quadrant (SPEC §1.7).

    The respondents are resampled ``n_boot`` times (``numpy.random.default_rng(seed)``; above
    10,000 respondents in random batches, as :func:`key_drivers` does); in each resample the whole IPA is redone as :func:`ipa` does it — the means, the derived importances
    (Johnson's relative weights of ``outcome`` on the performance items, as :func:`key_drivers`
    computes them, when ``importance="derived"``) and the grand-mean cross-hairs — and each
    attribute's quadrant is recorded. An attribute whose observed quadrant holds in, say, 55% of
    the resamples is a coin toss away from the neighbouring quadrant.

    Parameters
    ----------
    data, attributes, crosshair, scale, importance_scale, weights
        As for :func:`ipa`.
    importance : {"stated", "derived"}
        Stated mean importance, or relative weights of ``outcome`` on the performance items.
    outcome : str, optional
        The overall satisfaction column (required with ``importance="derived"``).
    pairwise : bool
        Pairwise-complete correlations for the derived importance (as :func:`key_drivers`).
    n_boot : int
        Resamples (at least 1).
    seed : int
        Seed of the resampling.
    min_n : int, optional
        Fewest answers to any item of the analysis; None for :data:`QUADRANT_BOOT_MIN_N` (30),
        or :func:`driver_minimum_n` when that is larger and importance is derived. Below it
        no probability is computed (every ``p_`` column missing, ``attrs["suppressed"]`` True
        and ``attrs["suppressed_reason"]`` says why).

    Returns
    -------
    pandas.DataFrame
        One row per attribute: ``attribute``, ``label``, ``quadrant`` (observed, as :func:`ipa`),
        ``p_quadrant`` (share of resamples in the observed quadrant), then the share of resamples
        in each quadrant: ``p_concentrate_here``, ``p_keep_up_the_good_work``,
        ``p_low_priority``, ``p_possible_overkill`` (they add up to 1). ``attrs`` holds
        ``n_boot``, ``n_boot_used`` (resamples where every value could be computed) and ``seed``.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> attrs = attribute_table(load_study(sample_study_path()))
    >>> qp = ipa_quadrant_probability(read_dataset("responses"), attributes=attrs, n_boot=200, seed=3)
    >>> row = qp.set_index("attribute").loc["problem_resolution"]
    >>> row["quadrant"], float(row["p_quadrant"])
    ('Concentrate here', 1.0)
    >>> bool(np.allclose(qp.filter(like="p_").drop(columns="p_quadrant").sum(axis=1), 1))
    True
    """
    _check_option("importance", importance, ("stated", "derived"))
    _check_option("crosshair", crosshair, ("grand_mean", "midpoint"))
    n_boot = _check_n_boot(n_boot)
    if n_boot < 1:
        raise CsmError(f"The value for `n_boot` must be at least 1, but {n_boot!r} was passed.")
    spec = _attribute_spec(attributes, need_importance=importance == "stated")
    attrs = spec["attribute"].tolist()
    k = len(attrs)
    w = get_weights(data, weights)
    P = np.column_stack([numeric_array(data, c, f"performance of {a!r}") for a, c in
                         zip(attrs, spec["performance"], strict=True)])
    need = (min_n if min_n is not None else
            max(QUADRANT_BOOT_MIN_N, driver_minimum_n(k) if importance == "derived" else 0))
    items = [P] + ([np.column_stack([numeric_array(data, c, "importance") for c in spec["importance"]])]
                   if importance == "stated" else [])
    n_min = int(min(np.isfinite(m).sum(axis=0).min() for m in items))
    if n_min < need:
        out = pd.DataFrame({"attribute": attrs, "label": spec["label"].tolist(), "quadrant": None,
                            "p_quadrant": np.nan})
        for name in QUADRANTS:
            out["p_" + name.lower().replace(" ", "_")] = np.nan
        out.attrs.update({"n_boot": n_boot, "n_boot_used": 0, "seed": seed, "importance": importance,
                          "crosshair": crosshair, "suppressed": True, "minimum_n": need, "n_min": n_min,
                          "suppressed_reason": _("How sure each quadrant is needs at least {need} answers to "
                                                 "every item; this report has {n}.", need=need, n=n_min)})
        return out
    if importance == "stated":
        Iq = items[1]
        base = ipa(data, attributes=spec, importance="stated", crosshair=crosshair, scale=scale,
                   importance_scale=importance_scale, weights=weights)
        perf_b, imp_b = np.split(bootstrap_means(np.column_stack([P, Iq]), w, n_boot, seed), 2, axis=1)
    else:
        if outcome is None:
            raise CsmError("ipa_quadrant_probability: importance='derived' needs `outcome` (the overall "
                           "satisfaction column) to compute the relative weights")
        drivers = dict(zip(attrs, spec["performance"], strict=True))
        kd = key_drivers(data, outcome=outcome, drivers=drivers, weights=weights, n_boot=0, pairwise=pairwise,
                         min_n=0)  # the minimum was checked above
        base = ipa(data, attributes=spec, importance="derived", derived=kd, crosshair=crosshair, scale=scale,
                   weights=weights)
        X = np.column_stack([numeric_array(data, outcome, "outcome"), P])
        if not pairwise:
            X = np.where(np.isfinite(X).all(axis=1)[:, None], X, np.nan)
        # Same seed, same resamples: the relative weights and the performance means (every
        # answer to the item, as ipa()) of resample b come from the same respondents.
        Rs, _counts = _Moments(X, w).bootstrap(w, n_boot, seed)
        perf_b = bootstrap_means(P, w, n_boot, seed)
        imp_b = np.full((n_boot, k), np.nan)
        ok = np.isfinite(Rs).all(axis=(1, 2))
        if ok.any():
            imp_b[ok] = _johnson(_clip_pd(Rs[ok])[0])[0]
    good = np.isfinite(perf_b).all(axis=1) & np.isfinite(imp_b).all(axis=1)
    xc, yc = _crosshairs(perf_b, imp_b, crosshair=crosshair, importance=importance, scale=scale,
                         importance_scale=importance_scale)
    high_imp = imp_b >= yc[:, None]
    high_perf = perf_b >= xc[:, None]
    shares = {
        CONCENTRATE: high_imp & ~high_perf,
        KEEP_UP: high_imp & high_perf,
        LOW_PRIORITY: ~high_imp & ~high_perf,
        OVERKILL: ~high_imp & high_perf,
    }
    n_used = int(good.sum())
    out = pd.DataFrame({"attribute": attrs, "label": spec["label"].tolist(), "quadrant": base["quadrant"].tolist()})
    cols = {}
    for name, hit in shares.items():
        cols[name] = hit[good].mean(axis=0) if n_used else np.full(k, np.nan)
    out["p_quadrant"] = np.array([cols[q][i] if isinstance(q, str) else np.nan
                                  for i, q in enumerate(out["quadrant"])], dtype=float)
    for name in QUADRANTS:
        out["p_" + name.lower().replace(" ", "_")] = cols[name]
    out.attrs.update({"n_boot": n_boot, "n_boot_used": n_used, "seed": seed, "importance": importance,
                      "crosshair": crosshair})
    return out


# --------------------------------------------------------------------------- internals: algebra
def _johnson(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Johnson's weights for a stack of correlation matrices (outcome first): (eps, beta, r2)."""
    Rxx = R[..., 1:, 1:]
    rxy = R[..., 1:, 0]
    d, V = np.linalg.eigh(Rxx)
    vr = np.einsum("...ji,...j->...i", V, rxy)  # V' r_xy
    sq = np.sqrt(d)
    lam = (V * sq[..., None, :]) @ np.swapaxes(V, -1, -2)  # Lambda = V diag(sqrt d) V'
    beta_star = np.einsum("...ij,...j->...i", V, vr / sq)  # Lambda^-1 r_xy
    eps = np.einsum("...jk,...k->...j", lam**2, beta_star**2)
    beta = np.einsum("...ij,...j->...i", V, vr / d)  # R_xx^-1 r_xy
    r2 = np.sum(beta_star**2, axis=-1)
    return eps, beta, r2


def _clip_pd(R: np.ndarray, *, floor: float = _PD_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Repair the matrices of a stack whose smallest eigenvalue is below ``_PD_TOL``."""
    d, V = np.linalg.eigh(R)
    bad = d[..., 0] < _PD_TOL
    if not bad.any():
        return R, bad
    out = R.copy()
    dc = np.maximum(d[bad], floor)
    fixed = (V[bad] * dc[..., None, :]) @ np.swapaxes(V[bad], -1, -2)
    s = np.sqrt(np.einsum("...ii->...i", fixed))
    fixed = fixed / s[..., :, None] / s[..., None, :]
    fixed = (fixed + np.swapaxes(fixed, -1, -2)) / 2
    idx = np.arange(R.shape[-1])
    fixed[..., idx, idx] = 1.0
    out[bad] = fixed
    return out, bad


#: Rows per block when products over the respondents are accumulated (bounds the temporaries).
_ROW_BLOCK = 32_768


class _Moments:
    """Weighted pairwise-complete correlation matrices from sums of row products.

    For columns i, j and row weights w (zero where either is missing) the pairwise sums
    ``sum w``, ``sum w x_i``, ``sum w x_i^2`` and ``sum w x_i x_j`` are entries of one product
    ``G = F' diag(w) H`` with ``F = [M, X, X^2]``, ``H = [M, X]`` (M the answered mask, X centred
    and zero where missing); with no missing answer ``F = H = [1, X]``. A bootstrap resample is
    the same product with w times the row counts (:func:`_boot_products`). ``F`` and ``H`` are
    built block by block of rows (:meth:`parts`), never for all rows at once: with a million
    respondents and 20 drivers they would take 750 MB.
    """

    def __init__(self, X: np.ndarray, w: np.ndarray) -> None:
        valid = np.isfinite(X) & (w > 0)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            center = np.where(valid, X, 0.0).T @ w / (valid.T.astype(float) @ w)
        center = np.nan_to_num(center)
        Xc = np.where(valid, X - center, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = (Xc**2).T @ w / (valid.T.astype(float) @ w)
        # a variance below this (relative to the column's scale) is no variance: rounding noise
        self.tol = 1e-12 * np.maximum(np.nan_to_num(spread) + center**2, 1e-300)
        self.k = X.shape[1]
        self.n = len(X)
        self.complete = bool(valid.all())
        self.center = center
        self.valid = valid
        self.Xc = Xc
        self.a = self.k + 1 if self.complete else 3 * self.k  # columns of F
        self.h = self.k + 1 if self.complete else 2 * self.k  # columns of H
        # The entries of G that correlations() reads, symmetric blocks by their lower triangle
        # only: resampling sums just these halves the largest matrix product of the bootstrap.
        k = self.k
        need = np.zeros((self.a, self.h), dtype=bool)
        if self.complete:
            need[np.tril_indices(k + 1)] = True
        else:
            low = np.tril(np.ones((k, k), dtype=bool))
            need[:k, :k] = low  # sum w (pairwise)
            need[k:, :k] = True  # sum w x_i, sum w x_i^2 (pairwise)
            need[k: 2 * k, k: 2 * k] = low  # sum w x_i x_j
        self.keep = np.flatnonzero(need)

    def parts(self, rows: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(F, H)`` of the given rows."""
        Xc = self.Xc[rows]
        if self.complete:
            F = np.empty((len(Xc), self.k + 1))
            F[:, 0] = 1.0
            F[:, 1:] = Xc
            return F, F
        F = np.empty((len(Xc), 3 * self.k))
        F[:, : self.k] = self.valid[rows]
        F[:, self.k: 2 * self.k] = Xc
        np.multiply(Xc, Xc, out=F[:, 2 * self.k:])
        return F, F[:, : 2 * self.k]

    def correlations(self, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(R, means) from a stack of products ``G`` (..., a, h); of its symmetric blocks only the
        lower triangles are read (see ``keep``)."""
        k = self.k
        if self.complete:
            G = _symmetric(G)
            shape = G.shape[:-2] + (k, k)
            sw = np.broadcast_to(G[..., 0, 0][..., None, None], shape)
            sx = np.broadcast_to(G[..., 1:, 0][..., :, None], shape)  # [i, j] = sum w x_i
            sxx = np.broadcast_to(np.einsum("...ii->...i", G)[..., 1:, None], shape)
            sxy = G[..., 1:, 1:]
        else:
            sw, sx, sxx, sxy = (_symmetric(G[..., :k, :k]), G[..., k: 2 * k, :k], G[..., 2 * k:, :k],
                                _symmetric(G[..., k: 2 * k, k: 2 * k]))
        with np.errstate(invalid="ignore", divide="ignore"):
            mi = sx / sw  # mean of x_i over the rows answering i and j
            mj = np.swapaxes(mi, -1, -2)
            vi = sxx / sw - mi**2
            vj = np.swapaxes(vi, -1, -2)
            R = (sxy / sw - mi * mj) / np.sqrt(vi * vj)
        ok = (sw > 0) & (vi > self.tol[:, None]) & (vj > self.tol[None, :])
        R = np.where(ok, np.clip(R, -1.0, 1.0), np.nan)
        diag = np.arange(k)
        R[..., diag, diag] = np.where(np.isfinite(R[..., diag, diag]), 1.0, np.nan)
        means = self.center + np.einsum("...ii->...i", mi)
        return R, means

    def estimate(self, w: np.ndarray, *, total: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R, means, N) of the data with weights ``w``; N = pairwise counts of rows with w > 0.

        ``total``: ``G`` when already known (the sum of :meth:`unit_sums`), else computed here.
        """
        G = np.zeros((self.a, self.h)) if total is None else total
        N = np.zeros((self.k, self.k))
        for s in range(0, self.n, _ROW_BLOCK):
            rows = slice(s, s + _ROW_BLOCK)
            if total is None:
                F, H = self.parts(rows)
                G += (F * w[rows, None]).T @ H
            pos = (self.valid[rows] & (w[rows] > 0)[:, None]).astype(float)
            N += pos.T @ pos
        R, means = self.correlations(G)
        return R, means, N

    def unit_sums(self, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The resampling units' sums ``S_u`` of the ``keep`` entries (units, len(keep)), see
        :func:`_unit_sums`."""
        return _unit_sums(self.parts, self.n, self.a, self.h, w, rng, keep=self.keep)

    def expand(self, sums: np.ndarray) -> np.ndarray:
        """``keep`` entries (..., len(keep)) -> products (..., a, h), the other entries 0."""
        out = np.zeros(sums.shape[:-1] + (self.a * self.h,))
        out[..., self.keep] = sums
        return out.reshape(sums.shape[:-1] + (self.a, self.h))

    def bootstrap(self, w: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(R, means) stacks of ``n_boot`` resamples (see :func:`_boot_products`)."""
        return self.correlations(self.expand(_boot_products(self.parts, self.n, self.a, self.h, w, n_boot, seed,
                                                            keep=self.keep)))


def _symmetric(M: np.ndarray) -> np.ndarray:
    """The symmetric matrices (stack) whose lower triangles are those of ``M``."""
    return np.tril(M) + np.swapaxes(np.tril(M, -1), -1, -2)


#: Up to this many rows the bootstrap resamples rows; above, this many random batches of rows.
_MAX_UNITS = 10_000


def _boot_products(parts: Callable[[slice | np.ndarray], tuple[np.ndarray, np.ndarray]], n: int, a: int, h: int,
                   w: np.ndarray, n_boot: int, seed: int, *, keep: np.ndarray | None = None) -> np.ndarray:
    """``F' diag(w c_b) H`` for the row counts ``c_b`` of ``n_boot`` resamples: (n_boot, a * h), or
    only its flat entries ``keep`` (n_boot, len(keep)).

    ``parts(rows)`` gives the rows' ``F`` (``a`` columns) and ``H`` (``h`` columns) of the ``n``
    rows. Every statistic bootstrapped here is a smooth function of these sums. Each resampling
    unit ``u`` contributes its own sum ``S_u = sum_{i in u} w_i F_i H_i'`` (:func:`_unit_sums`),
    and a resample is ``sum_u c_u S_u`` with ``c`` the multinomial counts of drawing the units
    with replacement — one matrix product ``C S`` for a block of resamples
    (:func:`_resample_sums`; ``numpy.random.default_rng(seed)``, the same seed gives the same
    resamples).

    Up to :data:`_MAX_UNITS` (10,000) rows the units are the rows themselves: the ordinary
    bootstrap of respondents. Above, the rows are split at random into 10,000 batches of (almost)
    equal size and the batches are resampled (a batch-sum bootstrap): for independent
    respondents the resampled sums have the same mean and, up to a factor ``1 - 1/10,000``, the
    same covariance as with single rows, and 1,000 resamples of a million rows take seconds.
    """
    rng = np.random.default_rng(seed)
    width = a * h if keep is None else len(keep)
    if n_boot == 0 or n == 0:
        return np.zeros((n_boot, width))
    return _resample_sums(_unit_sums(parts, n, a, h, w, rng, keep=keep), rng, n_boot)


def _unit_sums(parts: Callable[[slice | np.ndarray], tuple[np.ndarray, np.ndarray]], n: int, a: int, h: int,
               w: np.ndarray, rng: np.random.Generator, *, keep: np.ndarray | None = None) -> np.ndarray:
    """Sums ``S_u = sum_{i in u} w_i F_i H_i'`` of the resampling units: (units, a * h), or only
    the flat entries ``keep`` (units, len(keep)).

    Units: the rows (up to :data:`_MAX_UNITS`), else :data:`_MAX_UNITS` random batches drawn
    with ``rng`` (``rng.permutation(n) % units``). Accumulated a block of rows or batches at a
    time, so memory does not grow with n.
    """
    sel = slice(None) if keep is None else keep
    width = a * h if keep is None else len(keep)
    if n <= _MAX_UNITS:
        S = np.empty((n, width))
        for s in range(0, n, _ROW_BLOCK):
            rows = slice(s, s + _ROW_BLOCK)
            F, H = parts(rows)
            prod = (F * w[rows, None])[:, :, None] * H[:, None, :]
            S[rows] = prod.reshape(len(F), a * h)[:, sel]
        return S
    m = _MAX_UNITS
    batch = rng.permutation(n) % m  # random batches whose sizes differ by at most one row
    order = np.argsort(batch, kind="stable")  # rows batch after batch (ascending within one)
    # batches u < n % m have q + 1 rows, the others q: each run of equal sizes is a 3-d block
    q, r = divmod(n, m)
    starts = np.concatenate([[0], np.cumsum(np.where(np.arange(m) < r, q + 1, q))])
    S = np.empty((m, width))
    for lo_b, hi_b, size in ((0, r, q + 1), (r, m, q)):
        step = max(1, _ROW_BLOCK // size)
        for u in range(lo_b, hi_b, step):
            v = min(u + step, hi_b)
            rows = order[starts[u]: starts[v]]
            F, H = parts(rows)
            Fw = (F * w[rows, None]).reshape(v - u, size, a)
            S[u:v] = (np.swapaxes(Fw, 1, 2) @ H.reshape(v - u, size, h)).reshape(v - u, a * h)[:, sel]
    return S


def _resample_sums(S: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """``sum_u c_bu S_u`` for ``n_boot`` multinomial draws ``c_b`` of the units: (n_boot, S columns)."""
    m = len(S)
    out = np.empty((n_boot, S.shape[1]))
    step = max(1, min(n_boot, 4_000_000 // m))  # resamples per block: counts of at most ~32 MB
    for s in range(0, n_boot, step):
        nb = min(step, n_boot - s)
        counts = np.stack([np.bincount(rng.integers(0, m, size=m), minlength=m) for _ in range(nb)])
        out[s: s + nb] = counts.astype(float) @ S
    return out


def bootstrap_means(Y: np.ndarray, w: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Weighted available-case column means of ``n_boot`` resamples (same resamples as _Moments)."""
    valid = np.isfinite(Y) & (w > 0)[:, None]
    k = Y.shape[1]

    def parts(rows: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = valid[rows]
        F = np.concatenate([np.where(v, Y[rows], 0.0), v.astype(float)], axis=1)
        return F, np.ones((len(F), 1))

    sums = _boot_products(parts, len(Y), 2 * k, 1, w, n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums[:, k:] > 0, sums[:, :k] / sums[:, k:], np.nan)


def _wmeans(Y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = np.isfinite(Y) & (w > 0)[:, None]
    n = valid.sum(axis=0)
    sw = valid.T.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(valid, Y, 0.0).T @ w / sw
    return n.astype(int), np.where(sw > 0, m, np.nan)


def _crosshairs(perf: np.ndarray, imp: np.ndarray, *, crosshair: str, importance: str,
                scale: tuple[float, float], importance_scale: tuple[float, float] | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Cross-hairs for a stack of IPA tables (rows = resamples): (x, y)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gx = np.nanmean(perf, axis=1)
        gy = np.nanmean(imp, axis=1)
    if crosshair == "grand_mean":
        return gx, gy
    lo, hi = _check_scale(scale, "scale")
    x = np.full(len(perf), (lo + hi) / 2)
    if importance == "derived":
        return x, gy
    ilo, ihi = _check_scale(importance_scale if importance_scale is not None else scale, "importance_scale")
    return x, np.full(len(perf), (ilo + ihi) / 2)


def _quadrants(perf: np.ndarray, imp: np.ndarray, x: float, y: float) -> list[str | None]:
    out: list[str | None] = []
    for p, i in zip(perf, imp, strict=True):
        if not (np.isfinite(p) and np.isfinite(i) and np.isfinite(x) and np.isfinite(y)):
            out.append(None)
        elif i >= y:
            out.append(KEEP_UP if p >= x else CONCENTRATE)
        else:
            out.append(OVERKILL if p >= x else LOW_PRIORITY)
    return out


# --------------------------------------------------------------------------- internals: checks
def _as_matrix(corr: np.ndarray | pd.DataFrame) -> tuple[np.ndarray, list[Any]]:
    if isinstance(corr, pd.DataFrame):
        if list(corr.index) != list(corr.columns):
            raise CsmError("correlation matrix: the row labels must equal the column labels "
                           f"(rows {list(corr.index)!r}, columns {list(corr.columns)!r})")
        labels = list(corr.columns)
        mat = corr.to_numpy(dtype=float)
    else:
        mat = np.asarray(corr, dtype=float)
        labels = list(range(mat.shape[0])) if mat.ndim == 2 else []
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] < 2:
        raise CsmError(f"correlation matrix: expected a square matrix of at least 2 x 2, got shape {mat.shape}")
    if len(set(map(str, labels))) != len(labels):
        raise CsmError(f"correlation matrix: labels must be unique, found {labels!r}")
    if not np.all(np.isfinite(mat)):
        raise CsmError("correlation matrix: holds missing or infinite values — compute every correlation first")
    if not np.allclose(mat, mat.T, atol=1e-8, rtol=0):
        raise CsmError("correlation matrix: not symmetric — pass a correlation matrix (R[i, j] == R[j, i])")
    if not np.allclose(np.diag(mat), 1.0, atol=1e-8, rtol=0) or np.abs(mat).max() > 1 + 1e-8:
        raise CsmError("correlation matrix: the diagonal must be 1 and every entry within [-1, 1] — "
                       "pass correlations, not covariances")
    return (mat + mat.T) / 2, labels


def _position(labels: list[Any], key: Any, what: str) -> int:
    if key in labels:
        return labels.index(key)
    close = difflib.get_close_matches(str(key), [str(x) for x in labels], n=1)
    hint = f" — did you mean {close[0]!r}?" if close else ""
    raise CsmError(f"relative_weights: {what} {key!r} is not a row of the correlation matrix "
                   f"(labels: {', '.join(map(repr, labels))}){hint}")


def check_level(level: float) -> None:
    if not isinstance(level, int | float) or not 0 < level < 1:
        raise CsmError(f"The value for `level` must be between 0 and 1 (e.g. 0.95), but {level!r} was passed.")


def _check_n_boot(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise CsmError(f"The value for `n_boot` must be a whole number >= 0, but {n_boot!r} was passed.")
    return int(n_boot)


def _check_option(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise CsmError(f"The value for `{name}` must be one of {list(options)}, but {value!r} was passed.")


def _check_scale(scale: Any, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise CsmError(f"The value for `{name}` must be a pair (min, max), but {scale!r} was passed.") from None
    if not lo < hi:
        raise CsmError(f"The value for `{name}` must be (min, max) with min < max, but {scale!r} was passed.")
    return lo, hi


def _check_distinct(outcome: str, attrs: list[str], cols: list[str]) -> None:
    if len(set(attrs)) != len(attrs):
        raise DataError(f"drivers: attribute ids must be unique, found {attrs!r}")
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise DataError(f"drivers: column {', '.join(map(repr, dupes))} is given for more than one attribute — "
                        "each attribute needs its own rating column")
    if outcome in cols:
        raise DataError(f"drivers: the outcome {outcome!r} is also listed as a driver — remove it from `drivers`")


def numeric_array(data: pd.DataFrame, col: str, role: str) -> np.ndarray:
    """Column ``col`` as floats (missing -> NaN), with a clear error when absent or not numeric."""
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"expected a pandas DataFrame of responses, got {type(data).__name__}")
    if col not in data.columns:
        close = difflib.get_close_matches(str(col), [str(c) for c in data.columns], n=3)
        hint = f"; close matches: {', '.join(map(repr, close))}" if close else ""
        raise DataError(f"column {col!r} ({role}) is not in the data{hint} — check the item names in study.yaml")
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(s[bad])[:3])
        raise DataError(f"column {col!r} ({role}) is not numeric: found {examples} in {int(bad.sum())} rows — "
                        "recode the answers as numbers (validate the data with `csm validate`)")
    return num.to_numpy(dtype=float, na_value=np.nan)


def _corr_problems(R: np.ndarray, N: np.ndarray, names: list[str]) -> list[str]:
    """Why a correlation of the key-driver model cannot be computed: one line per column or pair."""
    problems = []
    k = len(names)
    for i in range(k):
        role = "the outcome (overall satisfaction)" if i == 0 else "a driver"
        if N[i, i] < 3:
            problems.append(f"column {names[i]!r} ({role}) has {int(N[i, i])} answers; at least 3 are needed")
        elif not np.isfinite(R[i, i]):
            fix = ("nothing can explain an answer that does not vary, so key drivers cannot be estimated "
                   "for this data" if i == 0 else "a correlation needs variation; drop it from the drivers")
            problems.append(f"column {names[i]!r} ({role}) has no variance (every answer is the same) — {fix}")
    if not problems:
        for i in range(k):
            for j in range(i + 1, k):
                if N[i, j] < 3:
                    problems.append(f"columns {names[i]!r} and {names[j]!r} are answered together by "
                                    f"{int(N[i, j])} respondents; at least 3 are needed")
                elif not np.isfinite(R[i, j]):
                    problems.append(f"columns {names[i]!r} and {names[j]!r}: no variance among the "
                                    f"{int(N[i, j])} respondents who answered both")
    return problems


def _attribute_spec(attributes: Mapping[str, Mapping[str, Any]] | pd.DataFrame, *, need_importance: bool
                    ) -> pd.DataFrame:
    if isinstance(attributes, pd.DataFrame):
        spec = attributes.copy()
    elif isinstance(attributes, Mapping):
        rows = []
        for aid, item in attributes.items():
            if not isinstance(item, Mapping):
                raise CsmError(f"attributes: the entry of {aid!r} must be a mapping such as "
                               f"{{'performance': 'perf_x', 'importance': 'imp_x'}}, but {item!r} was passed")
            rows.append({"attribute": aid, **item})
        spec = pd.DataFrame(rows)
    else:
        raise CsmError("attributes: pass attribute_table(study) or a mapping attribute id -> items, "
                       f"not {type(attributes).__name__}")
    for col in ("attribute", "performance"):
        if col not in spec.columns:
            raise DataError(f"attributes: column {col!r} is missing (found: {', '.join(map(str, spec.columns))}) "
                            "— pass the table attribute_table(study) returns")
    if spec.empty:
        raise DataError("attributes: no attribute given — the study needs at least one attribute")
    spec = spec.reset_index(drop=True)
    if spec["attribute"].duplicated().any():
        dupes = sorted(set(spec.loc[spec["attribute"].duplicated(), "attribute"].astype(str)))
        raise DataError(f"attributes: attribute ids must be unique; repeated: {', '.join(dupes)}")
    if "label" not in spec.columns:
        spec["label"] = spec["attribute"]
    spec["label"] = [lab if isinstance(lab, str) and lab else str(a)
                     for a, lab in zip(spec["attribute"], spec["label"], strict=True)]
    if "dimension" not in spec.columns:
        spec["dimension"] = None
    missing_perf = spec.loc[spec["performance"].isna(), "attribute"].astype(str).tolist()
    if missing_perf:
        raise DataError(f"attributes: no performance item for {', '.join(missing_perf)} — set performance: "
                        "for each attribute in study.yaml")
    if need_importance:
        if "importance" not in spec.columns:
            spec["importance"] = None
        missing = spec.loc[spec["importance"].isna(), "attribute"].astype(str).tolist()
        if missing:
            raise DataError(f"IPA with stated importance: attribute {', '.join(map(repr, missing))} has no importance "
                            "item — add importance: to the attribute in study.yaml, or use importance='derived' "
                            "(relative weights from the key-driver analysis)")
    return spec


def _derived_values(attrs: list[str], derived: pd.DataFrame | Mapping[str, float] | pd.Series | None,
                    column: str) -> np.ndarray:
    if derived is None:
        raise CsmError("ipa: importance='derived' needs `derived` — pass the key_drivers() table "
                       "(or a mapping attribute id -> importance)")
    if isinstance(derived, pd.DataFrame):
        for col in ("attribute", column):
            if col not in derived.columns:
                raise DataError(f"ipa: the derived-importance table has no column {col!r} (found: "
                                f"{', '.join(map(str, derived.columns))}) — pass key_drivers() output or set "
                                "derived_column")
        mapping = dict(zip(derived["attribute"], derived[column], strict=True))
    elif isinstance(derived, pd.Series):
        mapping = derived.to_dict()
    elif isinstance(derived, Mapping):
        mapping = dict(derived)
    else:
        raise CsmError(f"ipa: `derived` must be a DataFrame or a mapping, not {type(derived).__name__}")
    missing = [a for a in attrs if a not in mapping]
    if missing:
        raise DataError(f"ipa: no derived importance for attribute {', '.join(map(repr, missing))} — run "
                        "key_drivers() with every attribute as a driver")
    return np.array([mapping[a] for a in attrs], dtype=float)
