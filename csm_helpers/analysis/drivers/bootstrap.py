"""The weighted bootstrap of moments behind the key-driver and IPA intervals: resampled sums in blocks, one seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from csm_helpers.core.errors import CsmError

if TYPE_CHECKING:  # pragma: no cover
    pass


__all__ = ["BootstrapMoments", "MAX_UNITS", "resample_sums", "bootstrap_means", "weighted_means", "check_n_boot"]


#: Rows per block when products over the respondents are accumulated (bounds the temporaries).
_ROW_BLOCK = 32_768


class BootstrapMoments:
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
MAX_UNITS = 10_000


def _boot_products(parts: Callable[[slice | np.ndarray], tuple[np.ndarray, np.ndarray]], n: int, a: int, h: int,
                   w: np.ndarray, n_boot: int, seed: int, *, keep: np.ndarray | None = None) -> np.ndarray:
    """``F' diag(w c_b) H`` for the row counts ``c_b`` of ``n_boot`` resamples: (n_boot, a * h), or
    only its flat entries ``keep`` (n_boot, len(keep)).

    ``parts(rows)`` gives the rows' ``F`` (``a`` columns) and ``H`` (``h`` columns) of the ``n``
    rows. Every statistic bootstrapped here is a smooth function of these sums. Each resampling
    unit ``u`` contributes its own sum ``S_u = sum_{i in u} w_i F_i H_i'`` (:func:`_unit_sums`),
    and a resample is ``sum_u c_u S_u`` with ``c`` the multinomial counts of drawing the units
    with replacement — one matrix product ``C S`` for a block of resamples
    (:func:`resample_sums`; ``numpy.random.default_rng(seed)``, the same seed gives the same
    resamples).

    Up to :data:`MAX_UNITS` (10,000) rows the units are the rows themselves: the ordinary
    bootstrap of respondents. Above, the rows are split at random into 10,000 batches of (almost)
    equal size and the batches are resampled (a batch-sum bootstrap): for independent
    respondents the resampled sums have the same mean and, up to a factor ``1 - 1/10,000``, the
    same covariance as with single rows, and 1,000 resamples of a million rows take seconds.
    """
    rng = np.random.default_rng(seed)
    width = a * h if keep is None else len(keep)
    if n_boot == 0 or n == 0:
        return np.zeros((n_boot, width))
    return resample_sums(_unit_sums(parts, n, a, h, w, rng, keep=keep), rng, n_boot)


def _unit_sums(parts: Callable[[slice | np.ndarray], tuple[np.ndarray, np.ndarray]], n: int, a: int, h: int,
               w: np.ndarray, rng: np.random.Generator, *, keep: np.ndarray | None = None) -> np.ndarray:
    """Sums ``S_u = sum_{i in u} w_i F_i H_i'`` of the resampling units: (units, a * h), or only
    the flat entries ``keep`` (units, len(keep)).

    Units: the rows (up to :data:`MAX_UNITS`), else :data:`MAX_UNITS` random batches drawn
    with ``rng`` (``rng.permutation(n) % units``). Accumulated a block of rows or batches at a
    time, so memory does not grow with n.
    """
    sel = slice(None) if keep is None else keep
    width = a * h if keep is None else len(keep)
    if n <= MAX_UNITS:
        S = np.empty((n, width))
        for s in range(0, n, _ROW_BLOCK):
            rows = slice(s, s + _ROW_BLOCK)
            F, H = parts(rows)
            prod = (F * w[rows, None])[:, :, None] * H[:, None, :]
            S[rows] = prod.reshape(len(F), a * h)[:, sel]
        return S
    m = MAX_UNITS
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


def resample_sums(S: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
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
    """Weighted available-case column means of ``n_boot`` resamples (same resamples as BootstrapMoments)."""
    valid = np.isfinite(Y) & (w > 0)[:, None]
    k = Y.shape[1]

    def parts(rows: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = valid[rows]
        F = np.concatenate([np.where(v, Y[rows], 0.0), v.astype(float)], axis=1)
        return F, np.ones((len(F), 1))

    sums = _boot_products(parts, len(Y), 2 * k, 1, w, n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums[:, k:] > 0, sums[:, :k] / sums[:, k:], np.nan)


def weighted_means(Y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = np.isfinite(Y) & (w > 0)[:, None]
    n = valid.sum(axis=0)
    sw = valid.T.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(valid, Y, 0.0).T @ w / sw
    return n.astype(int), np.where(sw > 0, m, np.nan)


def check_n_boot(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise CsmError(f"The value for `n_boot` must be a whole number >= 0, but {n_boot!r} was passed.")
    return int(n_boot)
