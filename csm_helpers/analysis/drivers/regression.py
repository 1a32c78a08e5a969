"""Key-driver analysis (SPEC §1.5): correlations, standardised regression weights and Johnson's relative weights with bootstrap intervals, and the minimum n it needs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from csm_helpers.analysis.stats import get_weights, kish_neff
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import _

if TYPE_CHECKING:  # pragma: no cover
    from csm_helpers.study.config import Study
from csm_helpers.analysis.drivers.bootstrap import MAX_UNITS, BootstrapMoments, check_n_boot, resample_sums
from csm_helpers.analysis.drivers.common import check_level, numeric_array
from csm_helpers.analysis.drivers.weights import JOHNSON, clip_to_positive_definite, johnson_weights

__all__ = ["driver_minimum_n", "key_drivers", "attribute_table"]


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
    n_boot = check_n_boot(n_boot)
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
    mom = BootstrapMoments(X, w)
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
    Rf, repaired = clip_to_positive_definite(R[None])
    eps, beta, r2 = (a[0] for a in johnson_weights(Rf))
    r2 = float(r2)

    # Bootstrap: the same estimator (pairwise, weighted, repaired) on n_boot resamples.
    boot_eps = np.full((n_boot, len(cols)), np.nan)
    boot_r2 = np.full(n_boot, np.nan)
    n_rep = 0
    sums = resample_sums(S, rng, n_boot) if S is not None else np.zeros((0, len(mom.keep)))
    Rs, _ = mom.correlations(mom.expand(sums))
    ok = np.isfinite(Rs).all(axis=(1, 2))
    if ok.any():
        Rb, rep = clip_to_positive_definite(Rs[ok])
        n_rep = int(rep.sum())
        e_b, _, r2_b = johnson_weights(Rb)
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
        "Relative weights: " + JOHNSON,
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
        unit = ("the respondents" if n_rows <= MAX_UNITS else
                f"{MAX_UNITS:,} random batches of respondents (batch-sum bootstrap)")
        parts.append(f"Intervals: {level:.0%} percentile bootstrap, {n_boot} resamples of {unit} "
                     f"(seed {seed})" + (", each respondent keeping its weight." if weighted else "."))
    return " ".join(parts)


# --------------------------------------------------------------------------- attributes
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


def _check_distinct(outcome: str, attrs: list[str], cols: list[str]) -> None:
    if len(set(attrs)) != len(attrs):
        raise DataError(f"drivers: attribute ids must be unique, found {attrs!r}")
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise DataError(f"drivers: column {', '.join(map(repr, dupes))} is given for more than one attribute — "
                        "each attribute needs its own rating column")
    if outcome in cols:
        raise DataError(f"drivers: the outcome {outcome!r} is also listed as a driver — remove it from `drivers`")


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
