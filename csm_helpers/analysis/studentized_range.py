"""The upper tail of the studentized range distribution for many statistics at once.

Games-Howell compares every pair of segments: 50 branches are 1,225 p-values, each a double
integral. ``scipy.stats.studentized_range.sf`` integrates each one adaptively (2 ms a value,
2.6 s for 50 branches, holding the interpreter). For one number of groups ``k`` the inner
integral is a function of one variable, the range's own upper tail, so it is tabulated once
per call and the outer integral, over the studentizing chi variable, is a fixed quadrature
vectorised over the pairs: 0.1 s for the same 1,225 values, within 1e-10 of scipy (the tests
check a grid of ``k``, ``df`` and ``q`` against it).
"""

from __future__ import annotations

import numpy as np
from scipy import special as _sc

__all__ = ["studentized_range_sf"]

# Inner integral (the range of k standard normals), composite Gauss-Legendre in z.
_Z_PANELS, _Z_NODES, _Z_HALF = 32, 16, 10.0
# Its tabulation in w: Chebyshev interpolation on panels of 0.5 up to 40 (the tail beyond is 0
# in double precision).
_W_MAX, _W_PANEL, _W_NODES = 40.0, 0.5, 24
# Outer integral in u = log(s): Gauss-Legendre panels no wider than 0.25 or the density's
# standard deviation 1/sqrt(2 df), over the range where the log density is within 40 of its top.
_U_PANEL, _U_NODES, _TAIL = 0.25, 8, 40.0
# Values integrated at once: a block's arrays stay under 10 MB (2,000 groups are 2 million pairs).
_BLOCK = 2048
#: From this many degrees of freedom on, scipy uses the limit df = infinity; so does this.
ASYMPTOTIC_DF = 100_000


def _range_sf_direct(w: np.ndarray, k: float) -> np.ndarray:
    """P(range of k standard normals > w), by quadrature in z of
    ``k phi(z) [Phi_c(z)^(k-1) - (Phi_c(z) - Phi_c(z + w))^(k-1)]`` (the complement of the
    range's CDF written so that no 1 - (1 - small) is formed)."""
    x, wt = np.polynomial.legendre.leggauss(_Z_NODES)
    edges = np.linspace(-_Z_HALF, _Z_HALF, _Z_PANELS + 1)
    half = np.diff(edges)[:, None] / 2
    z = ((edges[:-1, None] + edges[1:, None]) / 2 + half * x).ravel()
    zw = (half * wt).ravel()
    upper = _sc.ndtr(-z)
    log_head = -0.5 * z * z - 0.5 * np.log(2 * np.pi) + (k - 1) * np.log(upper)
    c = _sc.ndtr(-(z + w.reshape(-1, 1)))
    with np.errstate(divide="ignore"):
        # 1 - (1 - c/upper)^(k-1), exact also when c/upper is tiny
        inner = -np.expm1((k - 1) * np.log1p(-np.minimum(c / upper, 1.0)))
    return (k * (np.exp(log_head) * inner) @ zw).reshape(w.shape)


class _RangeTail:
    """The range's upper tail for one k, interpolated (Chebyshev, per panel) from exact values."""

    def __init__(self, k: float) -> None:
        n = _W_NODES
        theta = np.pi * (np.arange(n) + 0.5) / n
        self.edges = np.arange(0.0, _W_MAX + _W_PANEL / 2, _W_PANEL)
        mid = (self.edges[:-1] + self.edges[1:]) / 2
        values = _range_sf_direct(mid[:, None] + _W_PANEL / 2 * np.cos(theta)[None, :], k)
        coef = (2.0 / n) * values @ np.cos(np.outer(np.arange(n), theta)).T
        coef[:, 0] /= 2
        self.coef = coef

    def __call__(self, w: np.ndarray) -> np.ndarray:
        out = np.zeros(w.shape)
        inside = w < _W_MAX
        wi = np.maximum(w[inside], 0.0)
        panel = np.minimum((wi / _W_PANEL).astype(np.intp), len(self.edges) - 2)
        t = (wi - self.edges[panel]) / (_W_PANEL / 2) - 1.0
        b1 = np.zeros_like(t)
        b2 = np.zeros_like(t)
        for m in range(self.coef.shape[1] - 1, 0, -1):  # Clenshaw's recurrence
            b1, b2 = 2 * t * b1 - b2 + self.coef[panel, m], b1
        out[inside] = t * b1 - b2 + self.coef[panel, 0]
        return np.clip(out, 0.0, 1.0)


def _u_bounds(df: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where df (e^{2u} - 1 - 2u) / 2 = _TAIL: the log density of u = log(s) is _TAIL below its
    top (at u = 0) on both sides (Newton's method from the asymptotes)."""
    rhs = 1 + 2 * _TAIL / df
    hi, lo = 0.5 * np.log(rhs), -rhs / 2
    for _ in range(60):
        hi = hi - (np.exp(2 * hi) - 2 * hi - rhs) / (2 * np.exp(2 * hi) - 2)
        lo = lo - (np.exp(2 * lo) - 2 * lo - rhs) / (2 * np.exp(2 * lo) - 2)
    return lo, hi


def studentized_range_sf(q: np.ndarray | float, k: float, df: np.ndarray | float) -> np.ndarray:
    """Upper tail P(Q > q) of the studentized range of ``k`` means with ``df`` degrees of freedom.

    ``sf(q) = ∫ f_df(s) P(R_k > q s) ds``, where ``R_k`` is the range of ``k`` standard normals
    and ``s = sqrt(chi²_df / df)`` with density ``f_df`` (Lund, R. E. & Lund, J. R. (1983).
    Algorithm AS 190: Probabilities and upper quantiles for the studentized range. *Applied
    Statistics*, 32(2), 204–210; the integral ``scipy.stats.studentized_range`` evaluates).
    ``P(R_k > w)`` is computed once per call on a table in ``w`` (Chebyshev interpolation of
    exact quadrature), then the integral over ``u = log s`` is a Gauss-Legendre sum over panels
    no wider than the density's spread, vectorised over ``q`` and ``df``. As in scipy,
    ``df >= 100000`` takes the limit ``df = ∞`` (``P(R_k > q)``). Agrees with
    ``scipy.stats.studentized_range.sf`` within 1e-10 (scipy's own tolerance is 1e-11 absolute),
    in a tenth of its time for a thousand values.

    Parameters
    ----------
    q : array_like
        Studentized ranges (>= 0; NaN gives NaN).
    k : float
        Number of groups (>= 2).
    df : array_like
        Degrees of freedom (> 0), broadcast against ``q``.

    Returns
    -------
    numpy.ndarray
        The upper-tail probabilities, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import studentized_range
    >>> p = studentized_range_sf([1.0, 3.5], 4, [20.0, 60.0])
    >>> bool(np.allclose(p, studentized_range.sf([1.0, 3.5], 4, [20.0, 60.0]), rtol=0, atol=1e-10))
    True
    """
    q, df = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(df, dtype=float))
    out = np.full(q.shape, np.nan)
    ok = ~np.isnan(q) & (df > 0)
    if not ok.any():
        return out
    tail = _RangeTail(float(k))
    limit = ok & (df >= ASYMPTOTIC_DF)
    out[limit] = tail(np.abs(q[limit]))  # (its arrays: a few per value)
    todo = np.flatnonzero(ok & ~limit)
    if todo.size:
        nu, qq = df.ravel()[todo], np.abs(q.ravel()[todo])
        lo, hi = _u_bounds(nu)
        width = np.minimum(_U_PANEL, 1.0 / np.sqrt(2 * nu))
        panels = np.maximum(2, np.ceil((hi - lo) / width)).astype(np.intp)
        x, wt = np.polynomial.legendre.leggauss(_U_NODES)
        result = np.empty(todo.size)
        same = [np.flatnonzero(panels == count) for count in np.unique(panels)]
        for sel in (group[i:i + _BLOCK] for group in same for i in range(0, group.size, _BLOCK)):
            count = int(panels[sel[0]])  # values with as many panels, a block at a time
            edges = lo[sel, None] + (hi[sel] - lo[sel])[:, None] * np.linspace(0.0, 1.0, count + 1)
            half = np.diff(edges, axis=1)[:, :, None] / 2
            u = ((edges[:, :-1, None] + edges[:, 1:, None]) / 2 + half * x).reshape(sel.size, -1)
            weight = (half * wt).reshape(sel.size, -1)
            n = nu[sel, None]
            log_density = n * u - n * np.exp(2 * u) / 2  # log f(e^u) e^u, up to a constant
            dens = np.exp(log_density - log_density.max(axis=1, keepdims=True)) * weight
            with np.errstate(over="ignore"):
                w = qq[sel, None] * np.exp(u)
            result[sel] = (dens * tail(w)).sum(axis=1) / dens.sum(axis=1)
        out.ravel()[todo] = result
    return np.clip(out, 0.0, 1.0)
