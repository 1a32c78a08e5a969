"""Reliability of the dimensions: Cronbach's alpha with Feldt's confidence interval (as pingouin.cronbach_alpha), McDonald's omega with a bootstrap interval, and item analysis."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis.measurement.common import check_level, numbers_and_bad, require_columns
from csm_helpers.analysis.measurement.omega import OMEGA_MIN_ITEMS, omega_bootstrap, omega_total
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _
from csm_helpers.study.config import DIMENSIONS, Study

__all__ = ["study_dimensions", "RELIABILITY_MIN_N", "reliability", "item_analysis"]


# --------------------------------------------------------------------------- reliability
def study_dimensions(study: Study) -> dict[str, list[str]]:
    """Performance items per dimension (product, process, people) for :func:`reliability`.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> {k: len(v) for k, v in study_dimensions(load_study(sample_study_path())).items()}
    {'product': 4, 'process': 4, 'people': 4}
    """
    out: dict[str, list[str]] = {}
    for dim in DIMENSIONS:
        items = list(dict.fromkeys(a.performance for a in study.attributes if a.dimension == dim))
        if items:
            out[dim] = items
    return out


def _item_matrix(data: pd.DataFrame, items: Sequence[str], *, what: str) -> np.ndarray:
    check_frame(data)
    require_columns(data, list(items), what="data", fix=f"check the item names of {what}")
    cols = []
    for c in items:
        v, bad = numbers_and_bad(data[c])
        if bad.any():
            raise DataError(f"column {c!r} holds {int(bad.sum())} value(s) that are not numbers "
                            f"(e.g. {data[c][bad].iloc[0]!r}) — fix the data (validate it first)")
        cols.append(v)
    x = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return x[np.all(np.isfinite(x), axis=1)]


def _alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of a complete ``n x k`` matrix: k/(k-1) (1 - trace C / sum C)."""
    k = x.shape[1]
    c = np.cov(x, rowvar=False, ddof=1)
    total = c.sum()
    if k < 2 or x.shape[0] < 2 or not total > 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(c) / total))


def _feldt(alpha: float, n: int, k: int, level: float) -> tuple[float, float]:
    """Feldt et al. (1987) interval, as pingouin.cronbach_alpha (unrounded)."""
    if not math.isfinite(alpha) or n < 2 or k < 2:
        return float("nan"), float("nan")
    a = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1 - (1 - alpha) * _st.f.isf(a / 2, df1, df2)
    upper = 1 - (1 - alpha) * _st.f.isf(1 - a / 2, df1, df2)
    return float(lower), float(upper)


#: Cronbach's alpha is not reported on fewer complete answers than this. Below about 20
#: respondents its sampling error is too large for the 0.7 rule to mean anything (Feldt's 95 %
#: interval for alpha = 0.8 with 4 items and n = 10 runs from about 0.4 to 0.95): Charter, R. A.
#: (2003). Study samples are too small to produce sufficiently precise reliability coefficients.
#: *Journal of General Psychology*, 130(2), 117–129; Bonett, D. G. (2002). Sample size
#: requirements for testing and estimating coefficient alpha. *Statistics in Medicine*, 21, 1331–1335.
RELIABILITY_MIN_N = 20


def reliability(data: pd.DataFrame, *, dimensions: Mapping[str, Sequence[str]],
                level: float = 0.95, min_n: int = RELIABILITY_MIN_N, n_boot: int = 1000,
                seed: int | None = None) -> pd.DataFrame:
    """Cronbach's alpha with Feldt's confidence interval, and McDonald's omega total with a
    bootstrap interval, per dimension (SPEC §1.3, §1.7).

    ``alpha = k / (k - 1) (1 - sum of item variances / variance of the total)`` on the
    respondents who answered every item of the dimension (listwise), and the interval
    ``1 - (1 - alpha) F_{1-a/2}, 1 - (1 - alpha) F_{a/2}`` with ``F`` on ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom — exactly ``pingouin.cronbach_alpha`` on the
    complete rows, without its rounding of the interval to 3 decimals (Cronbach, 1951;
    Feldt, Woodruff & Salih, 1987). Pass complete rows to pingouin to compare: its
    ``nan_policy="listwise"`` (0.7.0) drops the incomplete rows for alpha but still counts
    them in the interval's ``n``, which makes the interval too narrow.

    Omega total is :func:`~csm_helpers.analysis.measurement.omega.omega_total` (a one-factor
    model fitted by maximum likelihood to the same respondents' covariance matrix; McDonald,
    1999) with the percentile interval of ``n_boot`` bootstrap samples of those respondents
    (:func:`~csm_helpers.analysis.measurement.omega.omega_bootstrap`). Alpha equals omega only
    when every item loads equally on the factor (tau-equivalence); otherwise alpha is lower.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    dimensions : dict
        ``{dimension: [item columns]}``, e.g. :func:`study_dimensions`.
    level : float
        Confidence level.
    min_n : int
        Fewest complete answers alpha and omega are reported on (:data:`RELIABILITY_MIN_N`);
        below it they and their intervals are missing and ``note`` says why.
    n_boot : int
        Bootstrap samples for omega's interval (0: no interval).
    seed : int, optional
        Seed of the bootstrap (the study's ``seed``); None draws a fresh one, which makes the
        interval change from run to run.

    Returns
    -------
    pandas.DataFrame
        One row per dimension: ``dimension, alpha, ci_low, ci_high, omega, omega_ci_low,
        omega_ci_high, n_items, n`` (listwise complete respondents), ``flag`` (``"alpha <
        0.7"`` or ``""``) and ``note`` (why alpha or omega is missing, or that the factor
        model has a Heywood case, in the report language, else ``""``).

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> dims = study_dimensions(load_study(sample_study_path()))
    >>> rel = reliability(read_dataset("responses"), dimensions=dims, n_boot=200, seed=1)
    >>> rel["dimension"].tolist(), rel["n_items"].tolist()
    (['product', 'process', 'people'], [4, 4, 4])
    >>> bool((rel["omega_ci_low"] < rel["omega"]).all() and (rel["omega"] < rel["omega_ci_high"]).all())
    True
    """
    check_level(level)
    if not isinstance(dimensions, Mapping):
        raise CsmError(f"The value for `dimensions` must be a dict {{dimension: [items]}}, but {dimensions!r} "
                       "was passed.")
    rows = []
    for dim, items in dimensions.items():
        items = list(dict.fromkeys(items))
        x = _item_matrix(data, items, what=f"dimension {dim!r}")
        n, k = x.shape
        note = ""
        if k < 2:
            alpha = float("nan")
            note = _("{k} item: alpha needs at least 2 items", k=k)
        elif n < max(2, min_n):
            alpha = float("nan")
            note = _("{n} respondent(s) answered every item: alpha is not reported on fewer than {min_n} "
                     "(its interval would be too wide to judge the 0.7 rule)", n=n, min_n=max(2, min_n))
        else:
            alpha = _alpha(x)
            if not math.isfinite(alpha):
                note = _("the total score does not vary: alpha is undefined")
        lo, hi = _feldt(alpha, n, k, level)
        omega, o_lo, o_hi, o_note = _omega_row(x, n_ok=math.isfinite(alpha), level=level, n_boot=n_boot, seed=seed)
        rows.append({"dimension": dim, "alpha": alpha, "ci_low": lo, "ci_high": hi, "omega": omega,
                     "omega_ci_low": o_lo, "omega_ci_high": o_hi, "n_items": k, "n": n,
                     "flag": N_("alpha < 0.7") if math.isfinite(alpha) and alpha < 0.7 else "",
                     "note": "; ".join(t for t in (note, o_note) if t)})
    return pd.DataFrame(rows, columns=["dimension", "alpha", "ci_low", "ci_high", "omega", "omega_ci_low",
                                       "omega_ci_high", "n_items", "n", "flag", "note"])


def _omega_row(x: np.ndarray, *, n_ok: bool, level: float, n_boot: int,
               seed: int | None) -> tuple[float, float, float, str]:
    """Omega, its bootstrap interval and a note, for a dimension whose alpha could be computed."""
    nan = float("nan")
    if not n_ok:
        return nan, nan, nan, ""
    if x.shape[1] < OMEGA_MIN_ITEMS:
        return nan, nan, nan, _("omega needs at least {k} items (a one-factor model of two items is not "
                                "identified)", k=OMEGA_MIN_ITEMS)
    value, fit = omega_total(np.cov(x, rowvar=False))
    if fit is None or not fit.converged:
        return nan, nan, nan, _("the one-factor model for omega did not converge")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 32))
    lo, hi, _used = omega_bootstrap(x, n_boot=n_boot, seed=seed, level=level, fit=fit) if n_boot > 0 else (nan, nan, 0)
    note = _("an item has (almost) no unique variance in the one-factor model (a Heywood case): read omega "
             "with care") if fit.heywood else ""
    return value, lo, hi, note


def item_analysis(data: pd.DataFrame, *, items: Sequence[str]) -> pd.DataFrame:
    """Item statistics of a scale: corrected item-total correlation and alpha if item deleted.

    On the respondents who answered every item (listwise, the rows :func:`reliability`
    uses): each item's mean and standard deviation (ddof=1), the Pearson correlation of the
    item with the sum of the *other* items (corrected item-total r), and Cronbach's alpha of
    the scale without the item (same respondents).

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item, mean, sd, n, corrected_item_total_r, alpha_if_deleted``
        (NaN alpha with fewer than 3 items; NaN r for an item or rest-sum that does not vary).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 4], "c": [1, 3, 3, 4, 5]})
    >>> item_analysis(df, items=["a", "b", "c"])[["item", "n"]]
      item  n
    0    a  5
    1    b  5
    2    c  5
    """
    items = list(dict.fromkeys(items))
    x = _item_matrix(data, items, what="the scale")
    n, k = x.shape
    total = x.sum(axis=1)
    # Everything from one covariance matrix C (ddof=1): with j left out, the rest-sum has variance
    # sum(C) - 2 sum_b C_jb + C_jj, covariance sum_b C_jb - C_jj with item j, and that variance is
    # also the total of the reduced matrix that alpha-if-deleted needs -- no per-item pass over the data.
    c = np.cov(x, rowvar=False, ddof=1).reshape(k, k) if n >= 2 and k >= 1 else np.full((k, k), np.nan)
    c_total, c_trace, c_row = c.sum(), np.trace(c), c.sum(axis=1)
    rows = []
    for j, item in enumerate(items):
        col = x[:, j]
        var_rest = c_total - 2 * c_row[j] + c[j, j]
        r = float("nan")
        if n >= 2 and k >= 2 and np.ptp(col) > 0 and np.ptp(total - col) > 0:
            r = float((c_row[j] - c[j, j]) / math.sqrt(c[j, j] * var_rest))
        a = float("nan")
        if k >= 3 and n >= 2 and var_rest > 0:
            a = float((k - 1) / (k - 2) * (1 - (c_trace - c[j, j]) / var_rest))
        rows.append({"item": item, "mean": float(col.mean()) if n else float("nan"),
                     "sd": float(col.std(ddof=1)) if n >= 2 else float("nan"), "n": n,
                     "corrected_item_total_r": r, "alpha_if_deleted": a})
    return pd.DataFrame(rows, columns=["item", "mean", "sd", "n", "corrected_item_total_r", "alpha_if_deleted"])
