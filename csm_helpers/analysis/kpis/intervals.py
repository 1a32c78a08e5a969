"""Confidence intervals of the KPIs (SPEC §1.4): Wilson (1927) for a share, t for a mean, and the weighted bootstrap (one seed) when weights make the analytic interval wrong."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis import stats
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_

__all__ = ["WILSON", "BOOTSTRAP", "ADJUSTED_WALD", "wilson_interval", "DEGENERATE", "mean_ci"]


#: Words of the result tables (methods, tests, target status): kept in English there, as they go
#: to metrics.json; marked for the catalogs so that the display step translates them.
WILSON = N_("Wilson")


BOOTSTRAP = N_("bootstrap")


ADJUSTED_WALD = N_("adjusted Wald")


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


#: ``method`` of a mean whose answers are all the same: no interval is estimated.
DEGENERATE = N_("no interval: every answer is the same")


def mean_ci(x: np.ndarray, w: np.ndarray, *, weighted: bool, level: float, n_boot: int,
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
            "method": BOOTSTRAP}
