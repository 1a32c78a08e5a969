"""McDonald's omega total from a one-factor model fitted by maximum likelihood, with a seeded bootstrap interval."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize

__all__ = ["OneFactor", "one_factor_ml", "omega_total", "omega_of", "omega_bootstrap", "OMEGA_MIN_ITEMS",
           "OMEGA_EXACT_BOOTSTRAP_N"]

#: A one-factor model needs three items to be identified (with two, any split of the
#: covariance between the two loadings fits equally well).
OMEGA_MIN_ITEMS = 3

_PSI_FLOOR = 0.005  # the lower bound of a standardised uniqueness, as R's factanal (control$lower)


class OneFactor(NamedTuple):
    """A fitted one-factor model, in the items' own metric (covariance, not correlation)."""

    loadings: np.ndarray
    uniquenesses: np.ndarray
    heywood: bool  # a uniqueness stopped at its floor: an item is (almost) all common variance
    converged: bool


def _loadings(psi: np.ndarray, r: np.ndarray) -> np.ndarray:
    """ML loadings for given uniquenesses: the first eigenvector of Psi^-1/2 R Psi^-1/2."""
    s = 1.0 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(r * (s[..., :, None] * s[..., None, :]))
    return np.sqrt(psi) * vectors[..., :, -1] * np.sqrt(np.maximum(values[..., -1:] - 1.0, 0.0))


def _step(psi: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The fixed-point map of the ML stationarity condition Psi = diag(R - Lambda Lambda')."""
    return np.clip(1.0 - _loadings(psi, r) ** 2, _PSI_FLOOR, 1.0)


def _objective(psi: np.ndarray, r: np.ndarray) -> float:
    """factanal's concentrated discrepancy (FAfn) for one factor."""
    s = 1.0 / np.sqrt(psi)
    e = np.linalg.eigvalsh(r * np.outer(s, s))[:-1]
    return float(-(np.sum(np.log(e) - e) - 1 + len(psi)))


def _gradient(psi: np.ndarray, r: np.ndarray) -> np.ndarray:
    """factanal's gradient (FAgr) for one factor."""
    return (_loadings(psi, r) ** 2 + psi - 1.0) / psi ** 2


def _fit_standardised(r: np.ndarray, start: np.ndarray, *, tol: float = 1e-12,
                      max_iter: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised loadings and uniquenesses of one-factor ML models of correlation matrices
    ``r`` (``... x k x k``, any number at once), and which converged.

    The fixed-point map is accelerated by SQUAREM (Varadhan & Roland, 2008, scheme S3, with
    a stabilising step), for all matrices at once. The map alone crawls where a uniqueness
    heads for its bound (a Heywood case): a matrix that has not converged after
    ``max_iter`` rounds is finished by L-BFGS-B on factanal's objective and gradient."""
    shape = r.shape[:-2]
    k = r.shape[-1]
    r = r.reshape(-1, k, k)
    psi = np.clip(np.broadcast_to(np.asarray(start, dtype=float), (*shape, k)).reshape(-1, k), _PSI_FLOOR, 1.0)
    done = np.zeros(len(r), dtype=bool)
    active = np.arange(len(r))
    for _ in range(max_iter):
        ra, pa = r[active], psi[active]
        p1 = _step(pa, ra)
        settled = np.max(np.abs(p1 - pa), axis=-1) < tol  # a fixed point: converged
        done[active[settled]] = True
        psi[active[settled]] = p1[settled]
        keep = ~settled
        active, ra, pa, p1 = active[keep], ra[keep], pa[keep], p1[keep]
        if not len(active):
            break
        p2 = _step(p1, ra)
        d1, d2 = p1 - pa, p2 - 2 * p1 + pa
        norm1, norm2 = np.linalg.norm(d1, axis=-1, keepdims=True), np.linalg.norm(d2, axis=-1, keepdims=True)
        alpha = -np.divide(norm1, norm2, out=np.ones_like(norm1), where=norm2 > 0)
        alpha = np.minimum(alpha, -1.0)  # -1 is the plain double step
        new = _step(np.clip(pa - 2 * alpha * d1 + alpha ** 2 * d2, _PSI_FLOOR, 1.0), ra)
        psi[active] = np.where(np.isfinite(new), new, p2)
    for i in np.flatnonzero(~done):
        res = optimize.minimize(_objective, psi[i], args=(r[i],), jac=_gradient, method="L-BFGS-B",
                                bounds=[(_PSI_FLOOR, 1.0)] * k, options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-15})
        psi[i], done[i] = res.x, res.success
    psi, done, r = psi.reshape(*shape, k), done.reshape(shape), r.reshape(*shape, k, k)
    load = _loadings(psi, r)
    sign = np.where(load.sum(axis=-1, keepdims=True) < 0, -1.0, 1.0)
    return load * sign, psi, done


def one_factor_ml(cov: np.ndarray, *, start: np.ndarray | None = None) -> OneFactor:
    """Maximum-likelihood one-factor model of a covariance matrix.

    For given standardised uniquenesses ``Psi`` the ML loadings are the first eigenvector of
    ``Psi^-1/2 R Psi^-1/2`` scaled by ``sqrt(theta_1 - 1)`` (Lawley & Maxwell, 1971, ch. 2;
    the concentrated likelihood R's ``factanal`` maximises), and at the maximum
    ``Psi = diag(R - Lambda Lambda')``. The two are iterated to a fixed point (change below
    1e-12, accelerated by SQUAREM), with ``Psi`` bounded below by 0.005 as in factanal (a
    Heywood case stops there; it is finished by L-BFGS-B on factanal's objective).
    ML is scale-free, so the model is fitted to the correlation matrix and returned in the
    items' metric (loadings times the item's standard deviation, uniquenesses times its
    variance). The loadings' sign is chosen so that they sum to a positive number.
    ``tests/test_omega.py`` checks the fit against statsmodels' ``Factor(method="ml")``.

    Parameters
    ----------
    cov : numpy.ndarray
        A ``k x k`` covariance matrix, ``k >= 3``, every variance positive.
    start : numpy.ndarray, optional
        Standardised uniquenesses to start from (default ``(1 - 0.5 / k) / diag(R^-1)``, as
        factanal).

    Returns
    -------
    OneFactor

    Examples
    --------
    >>> lam = np.array([0.8, 0.7, 0.6, 0.5])
    >>> fit = one_factor_ml(np.outer(lam, lam) + np.diag(1 - lam ** 2))
    >>> np.round(fit.loadings, 4).tolist()
    [0.8, 0.7, 0.6, 0.5]
    """
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.diag(cov))
    r = cov / np.outer(sd, sd)
    if start is None:
        start = _default_start(r)
    load, psi, done = _fit_standardised(r, np.asarray(start, dtype=float))
    return OneFactor(loadings=load * sd, uniquenesses=psi * sd ** 2,
                     heywood=bool(np.any(psi <= _PSI_FLOOR * 1.0001)), converged=bool(done))


def _default_start(r: np.ndarray) -> np.ndarray:
    k = r.shape[-1]
    try:
        return (1 - 0.5 / k) / np.diagonal(np.linalg.inv(r), axis1=-2, axis2=-1)
    except np.linalg.LinAlgError:
        return np.full(r.shape[:-1], 0.5)


def _omega(load: np.ndarray, psi: np.ndarray) -> np.ndarray:
    common = load.sum(axis=-1) ** 2
    return common / (common + psi.sum(axis=-1))


def omega_total(cov: np.ndarray, *, start: np.ndarray | None = None) -> tuple[float, OneFactor | None]:
    """McDonald's omega total of the unit-weighted sum of the items, and the model behind it.

    ``omega = (sum lambda_j)^2 / ((sum lambda_j)^2 + sum psi_j)`` with the loadings
    ``lambda`` and uniquenesses ``psi`` of a one-factor model fitted by maximum likelihood to
    the items' covariance matrix (McDonald, R. P. (1999). *Test theory: a unified
    treatment*, eq. 6.20b; Hayes, A. F. & Coutts, J. J. (2020). Use omega rather than
    Cronbach's alpha for estimating reliability. But... *Communication Methods and Measures*
    14, 1–24). The denominator is the model's variance of the sum; ``psych::omega`` divides by
    the observed variance instead, which gives the same value when the model fits.

    Returns
    -------
    (float, OneFactor or None)
        NaN and None with fewer than :data:`OMEGA_MIN_ITEMS` items or an item that does not vary.

    Examples
    --------
    >>> lam, psi = np.array([1.0, 0.9, 0.8]), np.array([0.5, 0.6, 0.7])
    >>> value, _fit = omega_total(np.outer(lam, lam) + np.diag(psi))
    >>> round(value, 6) == round(2.7 ** 2 / (2.7 ** 2 + 1.8), 6)
    True
    """
    cov = np.asarray(cov, dtype=float)
    if cov.shape[0] < OMEGA_MIN_ITEMS or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return float("nan"), None
    fit = one_factor_ml(cov, start=start)
    return float(_omega(fit.loadings, fit.uniquenesses)), fit


def omega_of(covs: np.ndarray, *, start: np.ndarray | None = None, tol: float = 1e-12) -> np.ndarray:
    """:func:`omega_total` of a stack of covariance matrices (``n x k x k``), fitted together.

    NaN for a matrix with an item that does not vary, fewer than :data:`OMEGA_MIN_ITEMS`
    items, or a model that did not converge.

    Examples
    --------
    >>> lam = np.array([1.0, 0.9, 0.8])
    >>> covs = np.stack([np.outer(lam, lam) + np.diag(p) for p in ([0.5, 0.6, 0.7], [0.2, 0.2, 0.2])])
    >>> np.round(omega_of(covs), 3).tolist()
    [0.802, 0.924]
    """
    covs = np.asarray(covs, dtype=float)
    values = np.full(len(covs), np.nan)
    if covs.ndim != 3 or covs.shape[-1] < OMEGA_MIN_ITEMS:
        return values
    var = np.diagonal(covs, axis1=1, axis2=2)
    usable = np.all(var > 0, axis=1) & np.all(np.isfinite(covs), axis=(1, 2))
    if usable.any():
        sd = np.sqrt(var[usable])
        r = covs[usable] / (sd[:, :, None] * sd[:, None, :])
        load, psi, done = _fit_standardised(r, _default_start(r) if start is None else start, tol=tol)
        values[np.flatnonzero(usable)[done]] = _omega((load * sd)[done], (psi * sd ** 2)[done])
    return values


def _answer_patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``x`` and how often each occurs (rows of whole numbers are coded as
    one integer each, which is fast for a million rows; other rows are grouped by pandas)."""
    lo = x.min(axis=0)
    span = x.max(axis=0) - lo + 1
    if np.all(x == np.round(x)) and float(np.sum(np.log2(span))) < 62:
        weights = np.cumprod(np.r_[1.0, span[:-1]]).astype(np.int64)
        _codes, first, counts = np.unique(((x - lo).astype(np.int64) * weights).sum(axis=1), return_index=True,
                                         return_counts=True)
        return x[first], counts
    grouped = pd.DataFrame(x).value_counts(sort=False)
    return np.array(grouped.index.tolist(), dtype=float), grouped.to_numpy()


#: Above this many respondents, :func:`omega_bootstrap` draws the bootstrap covariance
#: matrices from their normal limit (the cost of exact draws grows with the number of distinct
#: answer patterns; at this size the two intervals agree to the third decimal).
OMEGA_EXACT_BOOTSTRAP_N = 20_000


def omega_bootstrap(x: np.ndarray, *, n_boot: int, seed: int, level: float = 0.95,
                    exact_up_to: int = OMEGA_EXACT_BOOTSTRAP_N,
                    fit: OneFactor | None = None) -> tuple[float, float, int]:
    """Percentile bootstrap interval of :func:`omega_total` over the respondents (rows of ``x``).

    Up to ``exact_up_to`` respondents, a bootstrap sample is drawn as multinomial counts over
    the distinct answer patterns, which is the same distribution as drawing rows with
    replacement and costs the number of patterns (at most 625 for four 5-point items), not
    the number of respondents. Above it, each bootstrap covariance matrix is drawn from the
    normal distribution the bootstrap's covariance matrix tends to: mean the sample matrix,
    covariance the distribution-free fourth-moment matrix Gamma / n of its distinct elements
    (Browne, M. W. (1984). Asymptotically distribution-free methods for the analysis of
    covariance structures. *British Journal of Mathematical and Statistical Psychology* 37,
    62–83). The models of all the samples are fitted at once (:func:`omega_of`). A sample that
    did not converge or where an item does not vary is left out.
    ``numpy.random.default_rng(seed)``: the same seed gives the same interval. Every sample's
    fit starts from the whole sample's model: ``fit`` when the caller has it (from
    :func:`omega_total` of the same rows), else it is fitted here.

    Returns
    -------
    (low, high, used)
        The interval's ends and the number of bootstrap samples it is based on (samples
        where an item did not vary are left out); NaN ends when fewer than half are usable.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(400, 1))
    >>> x = np.round(3 + f * [0.8, 0.7, 0.6, 0.5] + rng.normal(size=(400, 4)) * 0.6)
    >>> low, high, used = omega_bootstrap(x, n_boot=200, seed=7)
    >>> bool(0 < low < omega_total(np.cov(x, rowvar=False))[0] < high < 1), used
    (True, 200)
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 2 or n_boot < 1:
        return float("nan"), float("nan"), 0
    patterns, counts = _answer_patterns(x)
    if fit is None:
        _full, fit = omega_total(np.cov(x, rowvar=False))
    rng = np.random.default_rng(seed)
    if n > exact_up_to:
        return _percentiles(omega_of(_normal_covariances(patterns, counts, n_boot, rng), start=_start(fit, x),
                                     tol=1e-8), n_boot, level)
    chunk = max(1, min(n_boot, 2_000_000 // len(patterns)))  # at most 16 MB of counts at a time
    covs = np.empty((n_boot, x.shape[1], x.shape[1]))
    for lo in range(0, n_boot, chunk):
        draws = rng.multinomial(n, counts / n, size=min(chunk, n_boot - lo)).astype(float)  # samples x patterns
        means = draws @ patterns / n
        second = np.einsum("bp,pi,pj->bij", draws, patterns, patterns, optimize=True)
        covs[lo:lo + len(draws)] = (second - n * np.einsum("bi,bj->bij", means, means)) / (n - 1)
    return _percentiles(omega_of(covs, start=_start(fit, x), tol=1e-8), n_boot, level)  # (1e-8: enough for a percentile)


def _start(fit: OneFactor | None, x: np.ndarray) -> np.ndarray | None:
    return None if fit is None else fit.uniquenesses / np.var(x, axis=0, ddof=1)


def _percentiles(values: np.ndarray, n_boot: int, level: float) -> tuple[float, float, int]:
    values = values[np.isfinite(values)]
    if len(values) < n_boot / 2:
        return float("nan"), float("nan"), len(values)
    a = (1 - level) / 2
    low, high = np.quantile(values, [a, 1 - a])
    return float(low), float(high), len(values)


def _normal_covariances(patterns: np.ndarray, counts: np.ndarray, n_boot: int,
                        rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` covariance matrices from N(S, Gamma / n) over their distinct elements (Browne, 1984)."""
    n, k = float(counts.sum()), patterns.shape[1]
    w = counts / n
    d = patterns - w @ patterns
    rows, cols = np.triu_indices(k)
    z = d[:, rows] * d[:, cols]  # the products whose means are the covariances
    mean = w @ z
    gamma = (z - mean).T @ ((z - mean) * w[:, None])
    draws = rng.multivariate_normal(mean * n / (n - 1), gamma / n, size=n_boot, method="eigh")
    covs = np.empty((n_boot, k, k))
    covs[:, rows, cols] = draws
    covs[:, cols, rows] = draws
    return covs
