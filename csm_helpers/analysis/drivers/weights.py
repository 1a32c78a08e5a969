"""Relative weights of correlated drivers (Johnson 2000) and the nearest correlation matrix (Higham 2002) when pairwise deletion breaks positive definiteness."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from csm_helpers.core.errors import CsmError

if TYPE_CHECKING:  # pragma: no cover
    pass


__all__ = ["JOHNSON", "relative_weights", "nearest_correlation", "johnson_weights", "clip_to_positive_definite"]


#: A correlation matrix whose smallest eigenvalue is below this is repaired (not positive definite).
_PD_TOL = 1e-8


#: Eigenvalues are clipped to this floor by :func:`nearest_correlation`.
_PD_FLOOR = 1e-6


JOHNSON = ("Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor "
            "variables in multiple regression. Multivariate Behavioral Research, 35(1), 1-19.")


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
    eps, _beta, r2 = johnson_weights(sub[None])
    eps, r2 = eps[0], float(r2[0])
    out = pd.DataFrame({
        "predictor": [labels[i] for i in pred_i],
        "raw_weight": eps,
        "rw_pct": 100 * eps / r2 if r2 > 0 else np.full(len(eps), np.nan),
    })
    out.attrs["r2"] = r2
    out.attrs["method"] = JOHNSON
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
    fixed, repaired = clip_to_positive_definite(mat[None], floor=floor)
    fixed = fixed[0] if repaired[0] else np.array(corr, dtype=float)  # unchanged: a copy of the input
    if isinstance(corr, pd.DataFrame):
        return pd.DataFrame(fixed, index=corr.index, columns=corr.columns)
    return fixed


# --------------------------------------------------------------------------- internals: algebra
def johnson_weights(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def clip_to_positive_definite(R: np.ndarray, *, floor: float = _PD_FLOOR) -> tuple[np.ndarray, np.ndarray]:
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


# --------------------------------------------------------------------------- internals: matrices
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
