"""Headline KPIs of the analysis stage (SPEC §1.4): CSAT, CSI, NPS, their change between waves,
the KPI summary against targets, and the invisible scorecard.

Every estimate comes with ``n`` (respondents who answered), ``n_eff`` (Kish's effective sample
size; equal to ``n`` without weights) and a confidence interval at ``level`` (95% by default):

- **CSAT**: top-box share of the overall satisfaction item (top two points of a k-point scale
  by default), Wilson score interval (Wilson, 1927); with weights the share is weighted and the
  Wilson interval is computed on the Kish effective n. Beside it the bottom-box share and the
  (weighted) mean, because a mean hides bimodality.
- **CSI**: mean over respondents of each respondent's average on the satisfaction items, each
  item rescaled to 0-100 by ``100 (x - min) / (max - min)`` of its own scale (items a
  respondent did not answer are left out of that respondent's average). Unweighted: Student t
  interval. Weighted: weighted mean with a seeded percentile bootstrap interval.
- **NPS** on a 0-10 item: ``100 (p_P - p_D)`` with promoters 9-10 and detractors 0-6; the point
  estimate is the raw NPS and the interval the adjusted Wald interval of Rocks (2016).
- **Change** between two independent waves or groups: two-proportion z-test (CSAT), Welch t-test
  (CSI), z-test on the NPS difference (NPS), each on the effective n when weighted.

Groups (``by``) with fewer than ``min_n`` respondents are suppressed (SPEC §4): the row stays
with its ``n`` and ``suppressed=True`` and every statistic is missing. Rows whose ``by`` value
is missing belong to no group. Nothing is rounded here: rounding belongs to the display step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis import stats
from csm_helpers.core.checks import check_frame, check_int, require_column
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_

__all__ = [
    "KPI_NAMES",
    "DEGENERATE",
    "wilson_interval",
    "csat",
    "csi",
    "nps",
    "two_proportion_z",
    "nps_difference_z",
    "welch_t",
    "kpi_change",
    "kpi_summary",
    "scorecard",
]

#: The headline KPIs, in the order every table lists them (metrics.json ``kpis`` keys, SPEC §3).
KPI_NAMES = ("csat_top2", "csi", "nps")

#: Natural range of each KPI (CSAT is a proportion, SPEC §3).
_KPI_RANGE = {"csat_top2": (0.0, 1.0), "csi": (0.0, 100.0), "nps": (-100.0, 100.0)}

#: Words of the result tables (methods, tests, target status): kept in English there, as they go
#: to metrics.json; marked for the catalogs so that the display step translates them.
_WILSON, _BOOTSTRAP, _ADJUSTED_WALD = N_("Wilson"), N_("bootstrap"), N_("adjusted Wald")

#: Bootstrap resamples are drawn in blocks of about this many index cells (memory bound).
_BOOT_CELLS = 4_000_000
#: Up to this many respondents the bootstrap draws row indices (the plain bootstrap).
_BOOT_ROWS = 10_000
#: Above :data:`_BOOT_ROWS`, the (score, weight) pairs are resampled as multinomial counts when
#: they take at most this many distinct values; else random batches are resampled.
_BOOT_ATOMS = 2_000


# --------------------------------------------------------------------------- intervals
def wilson_interval(successes: float, n: float, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion.

    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``p = successes / n``.
    The counts may be non-integer: with weights, pass ``p̂ · n_eff`` and the Kish effective
    ``n_eff``.

    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *Journal of the American Statistical Association*, 22(158), 209–212.

    Parameters
    ----------
    successes : float
        Number (or weighted effective number) of successes, ``0 <= successes <= n``.
    n : float
        Number of trials (or Kish effective n), ``>= 0``.
    level : float
        Confidence level.

    Returns
    -------
    tuple of float
        ``(ci_low, ci_high)``; ``(nan, nan)`` when ``n`` is 0.

    Raises
    ------
    CsmError
        When ``n`` is negative or ``successes`` is outside ``[0, n]``.

    Examples
    --------
    >>> lo, hi = wilson_interval(7, 20)
    >>> round(lo, 4), round(hi, 4)
    (0.1812, 0.5671)
    >>> wilson_interval(0, 0)
    (nan, nan)
    """
    z = stats.z_value(level)
    successes, n = float(successes), float(n)
    if not (math.isfinite(n) and n >= 0):
        raise CsmError(f"wilson_interval: n must be a number >= 0, but {n!r} was passed")
    if n == 0:
        return (math.nan, math.nan)
    tol = 1e-9 * n
    if not (math.isfinite(successes) and -tol <= successes <= n + tol):
        raise CsmError(f"wilson_interval: successes must be between 0 and n = {n:g}, but {successes!r} was passed")
    p = min(max(successes / n, 0.0), 1.0)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def _t_interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean and Student t interval of the finite values of ``x``."""
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    m = float(np.mean(x))
    if n < 2:
        return (m, math.nan, math.nan)
    se = float(np.std(x, ddof=1)) / math.sqrt(n)
    q = float(_st.t.ppf(0.5 + level / 2, n - 1))
    return (m, m - q * se, m + q * se)


def _bootstrap_means(x: np.ndarray, w: np.ndarray, *, n_boot: int, seed: int) -> np.ndarray:
    """Weighted means of ``n_boot`` resamples of the respondents (with replacement, with their weights).

    Three ways of drawing the same bootstrap, by size (``numpy.random.default_rng(seed)``):

    - up to :data:`_BOOT_ROWS` (10,000) respondents, row indices are drawn, in blocks of about
      ``_BOOT_CELLS`` cells so that memory stays bounded (the plain bootstrap);
    - above, when the respondents' (score, weight) pairs take at most :data:`_BOOT_ATOMS` (2,000)
      distinct values — the rule for rating scales with raking weights — the resample is drawn as
      multinomial counts of the distinct pairs, ``C ~ Multinomial(n, n_k / n)``. A weighted mean
      depends on a resample only through these counts, and drawing n rows uniformly with
      replacement gives exactly this multinomial distribution of the counts, so the bootstrap
      distribution is the same as the plain bootstrap's (only the random stream differs), at a
      cost that does not grow with n (Efron & Tibshirani, 1993, ch. 20: a bootstrap resample
      is its resampling vector, the counts of the n observations, Multinomial(n; 1/n, ..., 1/n));
    - otherwise the batch-sum bootstrap of :func:`csm_helpers.analysis.drivers.key_drivers`: the rows are
      split at random into 10,000 batches and the batches' sums of ``w x`` and ``w`` are
      resampled, which for independent respondents gives resampled sums with the same mean and,
      up to a factor ``1 - 1/10,000``, the same covariance as resampling rows.
    """
    n = len(x)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    if n > _BOOT_ROWS:
        # exact duplicates of (x, w) in one hash: x + i w is equal iff both parts are
        codes, uniques = pd.factorize(x + 1j * w)
        if len(uniques) <= _BOOT_ATOMS:
            counts = np.bincount(codes, minlength=len(uniques))
            atoms = np.column_stack([uniques.real * uniques.imag, uniques.imag])  # (w x, w) per atom
            sums = np.empty((n_boot, 2))
            block = max(1, min(n_boot, _BOOT_CELLS // len(uniques)))
            for start in range(0, n_boot, block):
                b = min(block, n_boot - start)
                draws = rng.multinomial(n, counts / n, size=b)
                sums[start:start + b] = draws.astype(float) @ atoms
            swx, sw = sums[:, 0], sums[:, 1]
        else:
            from csm_helpers.analysis.drivers.bootstrap import bootstrap_means

            return bootstrap_means(x[:, None], w, n_boot, seed)[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sw > 0, swx / np.where(sw > 0, sw, 1.0), np.nan)
    wx = w * x
    block = max(1, min(n_boot, _BOOT_CELLS // max(n, 1)))
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        sw = w[idx].sum(axis=1)
        swx = wx[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + b] = np.where(sw > 0, swx / np.where(sw > 0, sw, 1.0), np.nan)
    return out


def _bootstrap_interval(x: np.ndarray, w: np.ndarray, *, level: float, n_boot: int,
                        seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of the weighted mean (Efron & Tibshirani, 1993, ch. 13)."""
    if len(x) < 2 or np.sum(w) <= 0:
        return (math.nan, math.nan)
    boot = _bootstrap_means(x, w, n_boot=n_boot, seed=seed)
    if np.all(np.isnan(boot)):
        return (math.nan, math.nan)
    lo, hi = np.nanquantile(boot, [0.5 - level / 2, 0.5 + level / 2])
    return (float(lo), float(hi))


# --------------------------------------------------------------------------- input checks


def scale_bounds(scale: Any, item: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise CsmError(f"scale of {item!r} must be a pair (min, max), e.g. (1, 5), but {scale!r} was passed") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise CsmError(f"scale of {item!r} is [{lo:g}, {hi:g}]: the minimum must be below the maximum")
    return lo, hi


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def rating_array(data: pd.DataFrame, item: str, scale: tuple[float, float], *, whole: bool = False) -> np.ndarray:
    """The answers to ``item`` as floats (NaN = not answered), checked against its scale."""
    require_column(data, item, role="item")
    s = data[item]
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f"column {item!r}: holds true/false values, not ratings — recode it to numbers")
    if pd.api.types.is_numeric_dtype(s):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        bad_text = np.zeros(len(x), dtype=bool)
    else:
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad_text = s.notna().to_numpy() & np.isnan(x)
    lo, hi = scale
    finite = np.isfinite(x)
    out = finite & ((x < lo) | (x > hi))
    if whole:
        out |= finite & (x != np.round(x))
    bad_inf = ~finite & ~np.isnan(x)
    problems = bad_text | out | bad_inf
    if problems.any():
        where = np.flatnonzero(problems)
        idx = [str(i) for i in data.index[where[:5]]]
        more = f" (+{len(where) - 5} more)" if len(where) > 5 else ""
        shown = list(dict.fromkeys(str(v) for v in s.iloc[where[:5]]))
        allowed = f"whole numbers {_fmt(lo)}-{_fmt(hi)}" if whole else f"the scale {_fmt(lo)}-{_fmt(hi)}"
        raise DataError(
            f"column {item!r}, index {', '.join(idx)}{more}: {', '.join(shown)} "
            f"{'is' if len(shown) == 1 else 'are'} not within {allowed} — fix the data, "
            f"or set scales.{item} in study.yaml")
    return x


def group_positions(data: pd.DataFrame, by: str | None) -> Iterator[tuple[Any, np.ndarray]]:
    """``(label, row positions)`` per group, in sorted (or category) order; one ``(None, all)`` without ``by``."""
    if by is None:
        yield None, np.arange(len(data))
        return
    require_column(data, by, role="by (group)")
    s = data[by]
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError:  # mixed types that cannot be sorted: keep the order of appearance
        codes, uniques = pd.factorize(s, sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for g, label in enumerate(uniques):
        yield label, order[bounds[g]:bounds[g + 1]]


def only_columns(data: pd.DataFrame, columns: Sequence[str | None]) -> pd.DataFrame:
    """The columns of ``data`` among ``columns`` (None and absent names skipped), a narrow frame
    to select rows from (a missing column is still reported by the helper that needs it)."""
    keep = [c for c in dict.fromkeys(columns) if c is not None and c in data.columns]
    return data[keep]


def _check_by(by: str | None, reserved: Sequence[str]) -> None:
    if by is not None and by in reserved:
        raise CsmError(f"by column {by!r} has the name of an output column — rename the column first")


def _finish(rows: list[dict[str, Any]], columns: list[str], *, by: str | None, min_n: int,
            keep: Sequence[str] = ()) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=columns)
    for c in columns:
        if c not in {by, "method", *keep} and c != "n":
            table[c] = table[c].astype("float64")
    table["n"] = table["n"].astype("int64")
    return stats.suppress(table, min_n=min_n, keep=[c for c in (by, "method", *keep) if c], by=by)


#: ``method`` of a mean whose answers are all the same: no interval is estimated.
DEGENERATE = N_("no interval: every answer is the same")


# --------------------------------------------------------------------------- CSAT
def csat(data: pd.DataFrame, *, item: str, scale: tuple[float, float], top_box: int = 2,
         weights: str | None = None, by: str | None = None, level: float = 0.95,
         min_n: int = 5) -> pd.DataFrame:
    """CSAT: top-box share of the overall satisfaction item with its Wilson interval (SPEC §1.4).

    ``value`` is the share of respondents answering in the top ``top_box`` points of the
    k-point scale (``x >= max - top_box + 1``); ``bottom2`` the share in the bottom
    ``top_box`` points (``x <= min + top_box - 1``); ``mean`` the mean rating. With weights the
    shares and the mean are weighted and the Wilson interval is computed on Kish's effective
    n: ``wilson_interval(value * n_eff, n_eff)``. Missing answers are left out (available cases).

    Wilson, E. B. (1927). *JASA*, 22, 209–212. Kish, L. (1965). *Survey Sampling*, §11.7.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    item : str
        The overall satisfaction column.
    scale : tuple of float
        ``(min, max)`` of the item, e.g. ``(1, 5)``.
    top_box : int
        Number of top (and bottom) scale points counted, ``1 <= top_box < k``.
    weights : str, optional
        Weight column.
    by : str, optional
        Group column: one row per group (rows with a missing group are left out).
    level : float
        Confidence level.
    min_n : int
        Groups with fewer respondents are suppressed.

    Returns
    -------
    pandas.DataFrame
        Columns ``[by], n, n_eff, value, ci_low, ci_high, bottom2, mean, suppressed``;
        ``value`` and ``bottom2`` are proportions in [0, 1].

    Raises
    ------
    CsmError
        When a column is missing or an argument is invalid.
    DataError
        When an answer is not a number within the scale.

    Examples
    --------
    >>> df = pd.DataFrame({"q": [5, 4, 4, 3, 2, 5, 1, 4, 5, 4, 4, 2, 5],
    ...                    "shop": list("AAAAABBBCCCCC")})
    >>> csat(df, item="q", scale=(1, 5))[["n", "value", "bottom2", "mean"]]
        n     value   bottom2      mean
    0  13  0.692308  0.230769  3.692308

    B has 3 respondents: hidden, and A too (the smallest other shop), or the total minus A and
    C would give B away (complementary suppression, SPEC §4):

    >>> csat(df, item="q", scale=(1, 5), by="shop")[["shop", "n", "value", "suppressed"]]
      shop  n  value  suppressed
    0    A  5    NaN        True
    1    B  3    NaN        True
    2    C  5    0.8       False

    On the bundled sample:

    >>> from csm_helpers.study.datasets import read_dataset
    >>> t = csat(read_dataset("responses"), item="overall_sat", scale=(1, 5))
    >>> bool(t.loc[0, "ci_low"] < t.loc[0, "value"] < t.loc[0, "ci_high"])
    True
    """
    check_frame(data, "csat")
    lo, hi = scale_bounds(scale, item)
    k = int(round(hi - lo)) + 1
    top_box = check_int(top_box, "top_box", minimum=1)
    if top_box >= k:
        raise CsmError(f"The value for `top_box` must be below the {k} points of the scale of {item!r}, "
                       f"but {top_box} was passed.")
    min_n = check_int(min_n, "min_n", minimum=0)
    stats.z_value(level)
    cols = ["n", "n_eff", "value", "ci_low", "ci_high", "bottom2", "mean"]
    _check_by(by, [*cols, "suppressed"])
    x = rating_array(data, item, (lo, hi))
    w = stats.get_weights(data, weights)
    top = x >= hi - top_box + 1
    bottom = x <= lo + top_box - 1
    rows = []
    for label, pos in group_positions(data, by):
        xg, wg = x[pos], w[pos]
        ok = np.isfinite(xg)
        n = int(ok.sum())
        neff = stats.kish_neff(wg[ok]) if n else 0.0
        p = stats.weighted_share(top[pos], wg, ok) if n else math.nan
        ci = wilson_interval(p * neff, neff, level=level) if n and neff > 0 and math.isfinite(p) else (
            math.nan, math.nan)
        row = {"n": n, "n_eff": neff, "value": p, "ci_low": ci[0], "ci_high": ci[1],
               "bottom2": stats.weighted_share(bottom[pos], wg, ok) if n else math.nan,
               "mean": stats.weighted_mean(xg, wg)}
        rows.append(row if by is None else {by: label, **row})
    return _finish(rows, ([by] if by else []) + cols, by=by, min_n=min_n)


# --------------------------------------------------------------------------- CSI
def _csi_scores(data: pd.DataFrame, items: Sequence[str], scales: Mapping[str, Any]) -> np.ndarray:
    """Each respondent's average of the items rescaled to 0-100 (NaN when none answered)."""
    if isinstance(items, str) or not len(items):
        raise CsmError(f"The value for `items` must be a non-empty list of columns, but {items!r} was passed.")
    total = np.zeros(len(data))
    count = np.zeros(len(data))
    for item in dict.fromkeys(items):
        if item not in scales:
            raise CsmError(f"no scale for item {item!r}: add it to `scales` (e.g. scales={{{item!r}: (1, 5)}}) "
                           "or set scales in study.yaml")
        lo, hi = scale_bounds(scales[item], item)
        x = rating_array(data, item, (lo, hi))
        ok = np.isfinite(x)
        total[ok] += 100.0 * (x[ok] - lo) / (hi - lo)
        count[ok] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def _mean_ci(x: np.ndarray, w: np.ndarray, *, weighted: bool, level: float, n_boot: int,
             seed: int) -> dict[str, Any]:
    """Point estimate and interval of a mean: t-interval, or weighted mean + bootstrap.

    When every answer is the same, both methods give a zero-width interval that looks precise
    but only says the sample had no spread; no interval is given then (``method`` says why).
    """
    ok = np.isfinite(x)
    x, w = x[ok], w[ok]
    n = len(x)
    if n >= 2 and np.all(x == x[0]):
        return {"n": n, "n_eff": stats.kish_neff(w) if weighted else float(n), "value": float(x[0]),
                "ci_low": math.nan, "ci_high": math.nan, "method": DEGENERATE}
    if not weighted:
        m, lo, hi = _t_interval(x, level)
        return {"n": n, "n_eff": float(n), "value": m, "ci_low": lo, "ci_high": hi, "method": "t"}
    m = stats.weighted_mean(x, w) if n else math.nan
    lo, hi = _bootstrap_interval(x, w, level=level, n_boot=n_boot, seed=seed)
    return {"n": n, "n_eff": stats.kish_neff(w) if n else 0.0, "value": m, "ci_low": lo, "ci_high": hi,
            "method": _BOOTSTRAP}


def _csi_table(scores: np.ndarray, data: pd.DataFrame, *, weights: str | None, by: str | None,
               level: float, n_boot: int, seed: int, min_n: int) -> pd.DataFrame:
    w = stats.get_weights(data, weights)
    rows = []
    for label, pos in group_positions(data, by):
        row = _mean_ci(scores[pos], w[pos], weighted=weights is not None, level=level, n_boot=n_boot, seed=seed)
        rows.append(row if by is None else {by: label, **row})
    cols = ["n", "n_eff", "value", "ci_low", "ci_high", "method"]
    return _finish(rows, ([by] if by else []) + cols, by=by, min_n=min_n)


def csi(data: pd.DataFrame, *, items: list[str], scales: dict[str, tuple[float, float]],
        weights: str | None = None, by: str | None = None, level: float = 0.95, n_boot: int = 1000,
        seed: int = 0, min_n: int = 5) -> pd.DataFrame:
    """CSI: customer satisfaction index on 0-100 with its confidence interval (SPEC §1.4).

    Each item is rescaled to 0-100 by ``100 (x - min) / (max - min)`` of its own scale; each
    respondent's score is the average of the items they answered; CSI is the mean of the
    scores over respondents with at least one answer (``n``).

    - Unweighted (``method="t"``): Student t interval ``mean ± t(n-1) s / sqrt(n)``.
    - Weighted (``method="bootstrap"``): weighted mean; percentile bootstrap interval of the
      weighted mean from ``n_boot`` resamples of the respondents (with replacement, each keeping
      its weight), drawn with ``numpy.random.default_rng(seed)`` — the same seed gives the same
      interval. Each group is resampled with the same seed, so a group's interval does not
      depend on which other groups exist. The weights travel with their respondents and are
      not re-estimated in each resample (e.g. raking is not redone), so the interval leaves out
      the uncertainty of the weights themselves. Above 10,000 respondents the resamples are
      drawn without drawing row indices (so a million respondents take milliseconds): as
      multinomial counts of the distinct (score, weight) pairs when there are at most 2,000 of
      them — exactly the plain bootstrap's distribution — else by the batch-sum bootstrap of
      :func:`csm_helpers.analysis.drivers.key_drivers` (10,000 random batches of respondents); see
      ``_bootstrap_means``.

    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall,
    ch. 13 (percentile interval), ch. 20 (resampling vectors: multinomial counts). Kish, L. (1965).
    *Survey Sampling*, §11.7 (``n_eff``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : list of str
        The satisfaction items (the overall item plus any further ones).
    scales : dict
        ``item -> (min, max)`` for every item (e.g. ``study.rated_items()``).
    weights, by, level, min_n
        As in :func:`csat`.
    n_boot : int
        Bootstrap resamples (weighted data only).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns ``[by], n, n_eff, value, ci_low, ci_high, method, suppressed``.

    Examples
    --------
    >>> df = pd.DataFrame({"q5": [5, 4, None, 1], "q7": [7, None, 4, 1]})
    >>> t = csi(df, items=["q5", "q7"], scales={"q5": (1, 5), "q7": (1, 7)}, min_n=1)
    >>> t[["n", "value", "method"]]  # respondents: (100 + 100)/2, 75, 50, 0
       n  value method
    0  4  56.25      t
    """
    check_frame(data, "csi")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    _check_by(by, ["n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"])
    scores = _csi_scores(data, items, scales)
    return _csi_table(scores, data, weights=weights, by=by, level=level, n_boot=n_boot, seed=seed, min_n=min_n)


# --------------------------------------------------------------------------- NPS
def _nps_row(x: np.ndarray, w: np.ndarray, *, level: float) -> dict[str, Any]:
    ok = np.isfinite(x)
    n = int(ok.sum())
    neff = stats.kish_neff(w[ok]) if n else 0.0
    if n == 0 or neff <= 0:
        return {"n": n, "n_eff": neff, "value": math.nan, "promoters": math.nan, "passives": math.nan,
                "detractors": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    pp = stats.weighted_share(x >= 9, w, ok)
    pd_ = stats.weighted_share(x <= 6, w, ok)
    passives = stats.weighted_share((x > 6) & (x < 9), w, ok)
    value = 100.0 * (pp - pd_)
    se = 100.0 * math.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0.0) / neff)
    # Rocks (2016) adjusted Wald: add 3/4 to the promoter and detractor counts and 3 to n
    n_adj = neff + 3.0
    pp_a = (pp * neff + 0.75) / n_adj
    pd_a = (pd_ * neff + 0.75) / n_adj
    se_a = math.sqrt(max(pp_a + pd_a - (pp_a - pd_a) ** 2, 0.0) / n_adj)
    z = stats.z_value(level)
    centre = pp_a - pd_a
    lo = max(-100.0, 100.0 * (centre - z * se_a))
    hi = min(100.0, 100.0 * (centre + z * se_a))
    return {"n": n, "n_eff": neff, "value": value, "promoters": pp, "passives": passives, "detractors": pd_,
            "se": se, "ci_low": lo, "ci_high": hi}


def nps(data: pd.DataFrame, *, item: str, weights: str | None = None, by: str | None = None,
        level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Net Promoter Score with the adjusted Wald interval of Rocks (2016) (SPEC §1.4).

    ``value = 100 (p_P - p_D)``: promoters answer 9-10, detractors 0-6, passives 7-8 on a 0-10
    item. ``se = 100 sqrt((p_P + p_D - (p_P - p_D)²) / n)`` is the standard error of the raw
    NPS (used by :func:`nps_difference_z`). The interval is the adjusted Wald interval: add 3/4
    to the promoter count and to the detractor count and 3 to ``n``, then
    ``100 [(p̃_P - p̃_D) ± z sqrt((p̃_P + p̃_D - (p̃_P - p̃_D)²) / (n + 3))]`` on the adjusted
    shares, clipped to [-100, 100]. It is therefore not ``value ± z se``; the point estimate
    stays the raw NPS. With weights: weighted shares, counts ``p · n_eff`` and ``n = n_eff``
    (Kish).

    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician*, 70(4), 365–372.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    item : str
        The 0-10 recommend item (whole numbers).
    weights, by, level, min_n
        As in :func:`csat`.

    Returns
    -------
    pandas.DataFrame
        Columns ``[by], n, n_eff, value, promoters, passives, detractors, se, ci_low, ci_high,
        suppressed``; ``value``, ``se`` and the interval in NPS points (-100..100), the three
        shares as proportions.

    Examples
    --------
    >>> df = pd.DataFrame({"rec": [10, 9, 9, 8, 7, 6, 3, 10, 9, 5]})
    >>> t = nps(df, item="rec")
    >>> t[["n", "value", "promoters", "passives", "detractors"]]
        n  value  promoters  passives  detractors
    0  10   20.0        0.5       0.2         0.3
    """
    check_frame(data, "nps")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    cols = ["n", "n_eff", "value", "promoters", "passives", "detractors", "se", "ci_low", "ci_high"]
    _check_by(by, [*cols, "suppressed"])
    x = rating_array(data, item, (0.0, 10.0), whole=True)
    w = stats.get_weights(data, weights)
    rows = []
    for label, pos in group_positions(data, by):
        row = _nps_row(x[pos], w[pos], level=level)
        rows.append(row if by is None else {by: label, **row})
    return _finish(rows, ([by] if by else []) + cols, by=by, min_n=min_n)


# --------------------------------------------------------------------------- change tests
def _two_sided_p(z: float) -> float:
    return float(2 * _st.norm.sf(abs(z))) if math.isfinite(z) else math.nan


def two_proportion_z(p1: float, n1: float, p2: float, n2: float) -> dict[str, float]:
    """Two-proportion z-test with the pooled standard error (two independent samples).

    ``z = (p1 - p2) / sqrt(p̄ (1 - p̄) (1/n1 + 1/n2))`` with ``p̄ = (p1 n1 + p2 n2) / (n1 + n2)``;
    two-sided p-value from the standard normal. With weights pass the weighted shares and the
    Kish effective n's.

    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed. Wiley, §2.1.

    Returns
    -------
    dict
        ``diff`` (p1 - p2), ``se`` (pooled), ``z`` and ``p_value``; ``z`` and ``p_value`` are
        NaN when the pooled share is 0 or 1 (no variation) or an n is 0.

    Examples
    --------
    >>> r = two_proportion_z(0.6, 100, 0.5, 100)
    >>> round(r["z"], 4), round(r["p_value"], 4)
    (1.4213, 0.1552)
    """
    p1, n1, p2, n2 = (float(v) for v in (p1, n1, p2, n2))
    for name, p in (("p1", p1), ("p2", p2)):
        if not (math.isnan(p) or 0 <= p <= 1):
            raise CsmError(f"two_proportion_z: {name} must be a proportion in [0, 1], but {p!r} was passed")
    diff = p1 - p2
    if not (n1 > 0 and n2 > 0) or math.isnan(diff):
        return {"diff": diff, "se": math.nan, "z": math.nan, "p_value": math.nan}
    pool = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    z = diff / se if se > 0 else math.nan
    return {"diff": diff, "se": se, "z": z, "p_value": _two_sided_p(z)}


def nps_difference_z(nps1: float, se1: float, nps2: float, se2: float) -> dict[str, float]:
    """z-test on the difference of two independent NPS: ``(NPS1 - NPS2) / sqrt(SE1² + SE2²)`` (SPEC §1.4).

    Use the ``value`` and ``se`` columns of :func:`nps` (raw NPS and its standard error).

    Rocks, B. (2016). *The American Statistician*, 70(4), 365–372.

    Returns
    -------
    dict
        ``diff`` (NPS1 - NPS2), ``se``, ``z`` and two-sided ``p_value`` (NaN when both SEs are 0).

    Examples
    --------
    >>> r = nps_difference_z(30.0, 4.0, 20.0, 3.0)
    >>> r["z"], round(r["p_value"], 4)
    (2.0, 0.0455)
    """
    nps1, se1, nps2, se2 = (float(v) for v in (nps1, se1, nps2, se2))
    diff = nps1 - nps2
    se = math.sqrt(se1**2 + se2**2)
    z = diff / se if se > 0 else math.nan
    return {"diff": diff, "se": se, "z": z, "p_value": _two_sided_p(z)}


def welch_t(mean1: float, var1: float, n1: float, mean2: float, var2: float, n2: float) -> dict[str, float]:
    """Welch's t-test for two independent means, with Welch–Satterthwaite degrees of freedom.

    ``t = (m1 - m2) / sqrt(v1/n1 + v2/n2)``, ``df = (v1/n1 + v2/n2)² / ((v1/n1)²/(n1-1) +
    (v2/n2)²/(n2-1))``, two-sided p-value from Student's t. With weights pass weighted means
    and variances and the Kish effective n's.

    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika*, 34, 28–35. Satterthwaite, F. E. (1946).
    *Biometrics Bulletin*, 2(6), 110–114.

    Returns
    -------
    dict
        ``diff`` (mean1 - mean2), ``se``, ``t``, ``df`` and ``p_value`` (NaN when undefined:
        an n <= 1 or both variances 0).

    Examples
    --------
    >>> r = welch_t(3.0, 1.0, 50, 2.5, 2.0, 40)
    >>> round(r["t"], 4), round(r["df"], 2)
    (1.8898, 67.81)
    """
    m1, v1, n1, m2, v2, n2 = (float(v) for v in (mean1, var1, n1, mean2, var2, n2))
    diff = m1 - m2
    if not (n1 > 1 and n2 > 1) or not (v1 >= 0 and v2 >= 0):
        return {"diff": diff, "se": math.nan, "t": math.nan, "df": math.nan, "p_value": math.nan}
    a, b = v1 / n1, v2 / n2
    se = math.sqrt(a + b)
    if se == 0:
        return {"diff": diff, "se": 0.0, "t": math.nan, "df": math.nan, "p_value": math.nan}
    t = diff / se
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    return {"diff": diff, "se": se, "t": t, "df": df, "p_value": float(2 * _st.t.sf(abs(t), df))}


# --------------------------------------------------------------------------- change between waves
def csi_items(overall: str, satisfaction_items: Sequence[str] | None) -> list[str]:
    if isinstance(satisfaction_items, str):
        satisfaction_items = [satisfaction_items]
    return list(dict.fromkeys([overall, *(satisfaction_items or [])]))


def _wave_stats(sub: pd.DataFrame, *, overall: str, scale: tuple[float, float], csi_items: list[str],
                scales: Mapping[str, Any], recommend: str | None, top_box: int, weights: str | None,
                level: float, n_boot: int, seed: int) -> dict[str, dict[str, Any]]:
    """Unsuppressed KPI estimates of one wave, with what the change tests need."""
    w = stats.get_weights(sub, weights)
    c = csat(sub, item=overall, scale=scale, top_box=top_box, weights=weights, level=level, min_n=0).iloc[0]
    scores = _csi_scores(sub, csi_items, scales)
    s = _csi_table(scores, sub, weights=weights, by=None, level=level, n_boot=n_boot, seed=seed,
                   min_n=0).iloc[0]
    ok = np.isfinite(scores)
    if weights is None:
        var = float(np.var(scores[ok], ddof=1)) if ok.sum() > 1 else math.nan
    else:
        var = stats.weighted_var(scores[ok], w[ok])
    out = {"csat_top2": dict(c), "csi": {**dict(s), "var": var}}
    if recommend is not None:
        out["nps"] = dict(nps(sub, item=recommend, weights=weights, level=level, min_n=0).iloc[0])
    return out


def kpi_change(data: pd.DataFrame, *, wave: str, previous: Any, latest: Any, overall: str,
               satisfaction_items: list[str], scales: dict[str, tuple[float, float]],
               recommend: str | None = None, top_box: int = 2, weights: str | None = None,
               level: float = 0.95, n_boot: int = 1000, seed: int = 0, min_n: int = 5) -> pd.DataFrame:
    """Change of each headline KPI from the previous to the latest wave, with its test (SPEC §1.4).

    The waves are treated as independent samples. ``change = latest - previous``:

    - ``csat_top2``: two-proportion z-test with pooled SE (:func:`two_proportion_z`);
    - ``csi``: Welch t-test on the respondents' CSI scores (:func:`welch_t`);
    - ``nps``: z-test on the NPS difference (:func:`nps_difference_z`), only when ``recommend``
      is given.

    With weights, shares and means are weighted and every test uses the Kish effective n of
    each wave (CSI variance: :func:`csm_helpers.analysis.stats.weighted_var`). ``significant`` is
    ``p_value < 1 - level``. When either wave has fewer than ``min_n`` respondents for a KPI,
    that row is suppressed: every estimate and test is missing, only ``n_previous`` and
    ``n_latest`` remain.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, both waves.
    wave : str
        The wave column; ``previous`` and ``latest`` are two of its values.
    overall : str
        The overall satisfaction item (CSAT; first CSI item).
    satisfaction_items : list of str
        Further satisfaction items of the CSI (the overall item is added when missing).
    scales : dict
        ``item -> (min, max)`` for the overall item and every satisfaction item.
    recommend : str, optional
        The 0-10 recommend item (NPS row only when given).
    top_box, weights, level, n_boot, seed, min_n
        As in :func:`csat` and :func:`csi`.

    Returns
    -------
    pandas.DataFrame
        One row per KPI: ``kpi, wave_previous, wave_latest, n_previous, n_latest, previous,
        previous_ci_low, previous_ci_high, latest, latest_ci_low, latest_ci_high, change, test, statistic,
        p_value, significant, suppressed`` (the intervals as in :func:`csat`, :func:`csi`,
        :func:`nps`). ``test`` is "two-proportion z", "Welch t" or
        "z on NPS difference"; ``statistic`` its z or t; ``significant`` True/False (None when
        the test is undefined or the row is suppressed). CSAT as a proportion, CSI 0-100, NPS
        -100..100.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> ch = kpi_change(read_dataset("responses"), wave="wave", previous="2025-H2", latest="2026-H1",
    ...                 overall="overall_sat", satisfaction_items=["sat_last_contact"],
    ...                 scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend")
    >>> ch["kpi"].tolist(), ch["test"].tolist()
    (['csat_top2', 'csi', 'nps'], ['two-proportion z', 'Welch t', 'z on NPS difference'])
    """
    check_frame(data, "kpi_change")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    require_column(data, wave, role="wave")
    if previous == latest:
        raise CsmError(f"previous and latest wave are both {previous!r} — pass two different values of {wave!r}")
    items = csi_items(overall, satisfaction_items)
    if overall not in scales:
        raise CsmError(f"no scale for the overall item {overall!r}: add it to `scales`")
    scale = scale_bounds(scales[overall], overall)
    waves = data[wave]
    found = set(waves.dropna().unique().tolist())
    for name, value in (("previous", previous), ("latest", latest)):
        if value not in found:
            shown = ", ".join(sorted(map(str, found))[:10]) or "none"
            raise CsmError(f"{name} wave {value!r} is not a value of column {wave!r} (found: {shown}) — "
                           "pass one of these")
    est = {}
    # only the columns used: selecting a wave's rows then copies 5 columns, not the whole survey
    narrow = only_columns(data, [wave, weights, overall, *items, recommend])
    for key, value in (("previous", previous), ("latest", latest)):
        sub = narrow.loc[(waves == value).to_numpy(dtype=bool)]
        est[key] = _wave_stats(sub, overall=overall, scale=scale, csi_items=items, scales=scales,
                               recommend=recommend, top_box=top_box, weights=weights, level=level,
                               n_boot=n_boot, seed=seed)
    rows = []
    for kpi in KPI_NAMES:
        if kpi not in est["latest"]:
            continue
        a, b = est["previous"][kpi], est["latest"][kpi]
        if kpi == "csat_top2":
            test_name = N_("two-proportion z")
            r = two_proportion_z(b["value"], b["n_eff"], a["value"], a["n_eff"])
            statistic = r["z"]
        elif kpi == "csi":
            test_name = N_("Welch t")
            r = welch_t(b["value"], b["var"], b["n_eff"], a["value"], a["var"], a["n_eff"])
            statistic = r["t"]
        else:
            test_name = N_("z on NPS difference")
            r = nps_difference_z(b["value"], b["se"], a["value"], a["se"])
            statistic = r["z"]
        p = r["p_value"]
        small = a["n"] < min_n or b["n"] < min_n
        row = {"kpi": kpi, "wave_previous": previous, "wave_latest": latest,
               "n_previous": int(a["n"]), "n_latest": int(b["n"]),
               "previous": a["value"], "previous_ci_low": a["ci_low"], "previous_ci_high": a["ci_high"],
               "latest": b["value"], "latest_ci_low": b["ci_low"], "latest_ci_high": b["ci_high"],
               "change": b["value"] - a["value"], "test": test_name, "statistic": statistic, "p_value": p,
               "significant": (bool(p < 1 - level) if math.isfinite(p) else None), "suppressed": small}
        if small:
            for c in ("previous", "previous_ci_low", "previous_ci_high", "latest", "latest_ci_low",
                      "latest_ci_high", "change", "statistic", "p_value"):
                row[c] = math.nan
            row["significant"] = None
        rows.append(row)
    out = pd.DataFrame(rows, columns=["kpi", "wave_previous", "wave_latest", "n_previous", "n_latest", "previous",
                                      "previous_ci_low", "previous_ci_high", "latest", "latest_ci_low",
                                      "latest_ci_high", "change", "test", "statistic", "p_value", "significant",
                                      "suppressed"])
    out["significant"] = out["significant"].astype(object)
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


# --------------------------------------------------------------------------- summary against targets
def _status(value: float, lo: float, hi: float, target: float | None) -> tuple[bool | None, str]:
    if target is None:
        return None, N_("no target")
    met = bool(value >= target)
    if met:
        return True, N_("met: CI above target") if lo > target else N_("met")
    return False, N_("not met: CI below target") if hi < target else N_("not met")


def kpi_summary(data: pd.DataFrame, *, overall: str, scale: tuple[float, float],
                satisfaction_items: list[str], scales: dict[str, tuple[float, float]],
                recommend: str | None = None, targets: dict[str, float] | None = None, top_box: int = 2,
                weights: str | None = None, level: float = 0.95, n_boot: int = 1000, seed: int = 0,
                min_n: int = 5) -> pd.DataFrame:
    """Headline KPIs with n, interval and target attainment (SPEC §1.4, metrics.json ``kpis`` of SPEC §3).

    One row per KPI: ``csat_top2`` (:func:`csat` on ``overall``; a proportion), ``csi``
    (:func:`csi` on ``overall`` plus ``satisfaction_items``; 0-100) and ``nps`` (:func:`nps` on
    ``recommend``, only when given; -100..100). ``met`` is ``value >= target`` (None without a
    target); ``status`` says how sure that is:

    - "met: CI above target" — the whole interval lies above the target (``ci_low > target``);
    - "met" — the estimate reaches the target but the interval includes it;
    - "not met" — the estimate is below the target but the interval includes it;
    - "not met: CI below target" — the whole interval lies below the target (``ci_high < target``);
    - "no target" — no target given; "suppressed" — fewer than ``min_n`` respondents.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    overall : str
        The overall satisfaction item.
    scale : tuple of float
        Its ``(min, max)``.
    satisfaction_items : list of str
        Further satisfaction items of the CSI.
    scales : dict
        ``item -> (min, max)`` of the satisfaction items (``overall`` uses ``scale``).
    recommend : str, optional
        The 0-10 recommend item.
    targets : dict, optional
        ``kpi -> target`` on the KPI's own scale (CSAT a proportion, e.g. 0.8); other keys are
        ignored.
    top_box, weights, level, n_boot, seed, min_n
        As in :func:`csat` and :func:`csi`.

    Returns
    -------
    pandas.DataFrame
        Columns ``kpi, n, n_eff, value, ci_low, ci_high, method, target, met, status,
        suppressed``; ``method`` is "Wilson", "t", "bootstrap" or "adjusted Wald".

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> s = kpi_summary(read_dataset("responses"), overall="overall_sat", scale=(1, 5),
    ...                 satisfaction_items=["sat_last_contact"], scales={"sat_last_contact": (1, 5)},
    ...                 recommend="recommend", targets={"csat_top2": 0.8, "csi": 75, "nps": 30})
    >>> s[["kpi", "status"]]
             kpi                    status
    0  csat_top2  not met: CI below target
    1        csi  not met: CI below target
    2        nps  not met: CI below target
    """
    check_frame(data, "kpi_summary")
    targets = dict(targets or {})
    for kpi, t in targets.items():
        if kpi in _KPI_RANGE:
            lo, hi = _KPI_RANGE[kpi]
            if t is not None and not (isinstance(t, int | float) and lo <= t <= hi):
                hint = " (CSAT is a proportion: write 0.8 for 80%)" if kpi == "csat_top2" else ""
                raise CsmError(f"target {t!r} for {kpi} is outside [{_fmt(lo)}, {_fmt(hi)}]{hint}")
    scale = scale_bounds(scale, overall)
    all_scales = {**scales, overall: scale}
    c = csat(data, item=overall, scale=scale, top_box=top_box, weights=weights, level=level, min_n=min_n)
    s = csi(data, items=csi_items(overall, satisfaction_items), scales=all_scales, weights=weights,
            level=level, n_boot=n_boot, seed=seed, min_n=min_n)
    found = [("csat_top2", c.iloc[0], _WILSON), ("csi", s.iloc[0], s.iloc[0]["method"])]
    if recommend is not None:
        found.append(("nps", nps(data, item=recommend, weights=weights, level=level, min_n=min_n).iloc[0],
                      _ADJUSTED_WALD))
    rows = []
    for kpi, r, method in found:
        target = targets.get(kpi)
        target = None if target is None else float(target)
        if bool(r["suppressed"]):
            met, status = None, N_("suppressed")
        else:
            met, status = _status(float(r["value"]), float(r["ci_low"]), float(r["ci_high"]), target)
        rows.append({"kpi": kpi, "n": int(r["n"]), "n_eff": float(r["n_eff"]), "value": float(r["value"]),
                     "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]), "method": method,
                     "target": math.nan if target is None else target, "met": met, "status": status,
                     "suppressed": bool(r["suppressed"])})
    out = pd.DataFrame(rows, columns=["kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target",
                                      "met", "status", "suppressed"])
    out["met"] = out["met"].astype(object)
    return out


# --------------------------------------------------------------------------- invisible scorecard
def scorecard(data: pd.DataFrame, *, dimensions: dict[str, list[str]], scales: dict[str, tuple[float, float]],
              weights: str | None = None, by: str | None = None, level: float = 0.95, n_boot: int = 1000,
              seed: int = 0, min_n: int = 5) -> pd.DataFrame:
    """The invisible scorecard: a CSI (0-100) per dimension from its performance items (SPEC §1, §1.4).

    Customers judge a company on product, process and people; each dimension's score is the
    CSI of :func:`csi` over that dimension's performance items (each rescaled to 0-100 on its
    own scale, averaged per respondent over the items answered, then averaged over
    respondents), with the same intervals (t, or seeded bootstrap when weighted). Dimensions
    with no item are left out.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    dimensions : dict
        ``dimension -> list of performance items``, e.g. ``{"product": ["perf_fees", ...]}``.
    scales : dict
        ``item -> (min, max)`` for every item.
    weights, by, level, n_boot, seed, min_n
        As in :func:`csi`.

    Returns
    -------
    pandas.DataFrame
        Columns ``dimension, [by], n_items, n, n_eff, value, ci_low, ci_high, method,
        suppressed``; one row per dimension (per group with ``by``), dimensions in the order
        given.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> study = load_study(sample_study_path())
    >>> dims = {d: [a.performance for a in study.attributes if a.dimension == d]
    ...         for d in ("product", "process", "people")}
    >>> sc = scorecard(read_dataset("responses"), dimensions=dims, scales=study.rated_items())
    >>> sc[["dimension", "n_items", "n"]]
      dimension  n_items     n
    0   product        4  2400
    1   process        4  2400
    2    people        4  2400
    """
    check_frame(data, "scorecard")
    if not isinstance(dimensions, Mapping):
        raise CsmError(f"The value for `dimensions` must be a dict of dimension -> items, "
                       f"but {type(dimensions).__name__} was passed.")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    _check_by(by, ["dimension", "n_items", "n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"])
    tables = []
    for dim, items in dimensions.items():
        items = [items] if isinstance(items, str) else list(dict.fromkeys(items or []))
        if not items:
            continue
        scores = _csi_scores(data, items, scales)
        t = _csi_table(scores, data, weights=weights, by=by, level=level, n_boot=n_boot, seed=seed, min_n=min_n)
        t.insert(0, "n_items", len(items))
        t.insert(0, "dimension", dim)
        if by is not None:
            t.insert(1, by, t.pop(by))
        tables.append(t)
    cols = ["dimension", *([by] if by else []), "n_items", "n", "n_eff", "value", "ci_low", "ci_high", "method",
            "suppressed"]
    if not tables:
        return pd.DataFrame(columns=cols)
    return pd.concat(tables, ignore_index=True)[cols]
