"""PLS path modelling (PLS-PM) of a customer-satisfaction model, as R plspm estimates it.

:func:`pls_pm` estimates a path model between latent variables (blocks of items) with the
partial least squares algorithm of Wold (1982) in Lohmöller's (1989) formulation, as set out
by Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005) and implemented in R by Gaston
Sanchez's package plspm (function ``plspm()``; Sanchez 2013). Every block is measured in
Mode A (reflective); the inner weighting scheme is centroid, factorial or path. The
estimates reproduce R plspm's ``plspm()`` to 1e-6 on its ``satisfaction`` data (the ECSI
model; ``tests/test_pls_pm.py``), because the iteration below is R's own, step for step:

1. The items are centred and, with ``scaled=True`` (R's default), divided by their standard
   deviation with divisor n (R: ``sd(x) * sqrt((n - 1) / n)``), giving ``X``.
2. Start: every item of a block weighs the same, scaled so that the block's sum has
   variance 1 (divisor n, as every variance below).
3. Repeat: the outer estimates ``Y = X W`` are standardised (divisor n); the inner weights
   ``E`` are, for two adjacent blocks (a path either way), the sign of their correlation
   (centroid), the correlation itself (factorial), or (path) for a predecessor the
   coefficient of the block's regression (without intercept) on all its predecessors, and
   for a successor the correlation; the inner estimates are ``Z = Y E``; and the Mode A
   outer weights of block j are the covariances ``(1/n) X_j' Z_j``. R's stop test is kept:
   ``sum((|w_old| - |w_new|)^2) < tol`` over all items' (unnormalised) weights, counted
   from iteration 1; reaching ``max_iter`` counts as not converged even when the test
   passes there, as in R.
4. The final weights are scaled so that every score ``X w_j`` has variance 1 (divisor n).
5. Sign (R's ``get_scores``): a block's score is reversed when its items' correlations with
   it are not mostly positive — the sum of their signs is zero or below (a tie reverses it).
   Unlike R, which reverses the score but reports the weights unchanged, the weights are
   reversed with the score here, so that ``scores = X w`` always holds. On the ECSI data no
   block is reversed, so this never shows there.

The outputs then follow R: a loading is the correlation of an item with its block's score,
the communality its square and the redundancy the communality times the block's R²; path
coefficients, standard errors, t and p are R's ``lm`` of each endogenous score on its
predecessors' scores; AVE is ``sum(loading²) / (sum(loading²) + sum(1 - loading²))``;
Cronbach's alpha (standardised), Dillon-Goldstein's rho and the first two eigenvalues come
from each block's correlation matrix (R's ``get_unidim``: rho from the items' correlations
with the block's first principal component); and the goodness of fit is
``sqrt(mean communality * mean R²)``, the communalities of every item in a block of two or
more items, the R² of every endogenous block (R's ``get_gof``).

:func:`satisfaction_index` turns a block's weights into a 0–100 index as the ACSI does
(Fornell, Johnson, Anderson, Cha & Bryant 1996), and :func:`bootstrap_pls` gives seeded
percentile intervals for the path coefficients and the index.

References
----------
Wold, H. (1982). Soft modeling: the basic design and some extensions. In K. G. Jöreskog &
H. Wold (Eds.), *Systems under indirect observation*, Part II (pp. 1–54). North-Holland.

Lohmöller, J.-B. (1989). *Latent variable path modeling with partial least squares*.
Physica-Verlag.

Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS path modeling.
*Computational Statistics & Data Analysis*, 48(1), 159–205.

Sanchez, G. (2013). *PLS Path Modeling with R*. Trowchez Editions, Berkeley.
R package plspm: https://github.com/gastonstat/plspm

Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996). The American
Customer Satisfaction Index: nature, purpose, and findings. *Journal of Marketing*, 60(4), 7–18.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.graphs import find_cycle

__all__ = ["SCHEMES", "MIN_ROWS", "PlsResult", "pls_pm", "satisfaction_index", "bootstrap_pls", "reporting_minimum_n"]

#: The inner weighting schemes of R plspm.
SCHEMES = ("centroid", "factorial", "path")

#: Fewest complete rows a model is estimated on (and never fewer than its items plus one).
MIN_ROWS = 10

Scheme = Literal["centroid", "factorial", "path"]


def reporting_minimum_n(blocks: Mapping[str, Sequence[str]], paths: Sequence[tuple[str, str]]) -> int:
    """Fewest complete answers on which a report shows a PLS path model: ten times the largest
    number of arrows pointing at a block or of items in a block (the "ten times rule" of PLS
    modelling; Hair, Ringle & Sarstedt 2011, *J. Marketing Theory and Practice* 19(2), 139–152),
    and never fewer than 30.

    Examples
    --------
    >>> reporting_minimum_n({"a": ["x1", "x2"], "b": ["y1"], "c": ["z1"]}, [("a", "c"), ("b", "c")])
    30
    >>> reporting_minimum_n({"a": [f"x{i}" for i in range(5)], "b": ["y"]}, [("a", "b")])
    50
    """
    arrows = max((sum(1 for _a, b in paths if b == block) for block in blocks), default=0)
    items = max((len(v) for v in blocks.values()), default=0)
    return max(30, 10 * max(arrows, items))


#: Bootstrap resamples are estimated together, as many as this many values (rows x items)
#: would take: each step of the algorithm is then one NumPy call for the whole block instead
#: of one per resample. A resample enters only through how often it draws each row, so its
#: moments are one matrix product of those counts with the rows' cross-products, and no
#: resampled data set is ever built.
_BOOT_CELLS = 2_000_000


@dataclass(frozen=True)
class _Model:
    names: tuple[str, ...]  # blocks, in the order given
    items: tuple[str, ...]  # items, block by block
    block_of: np.ndarray  # block index of each item
    pred: np.ndarray  # pred[i, j] True when the model has the path j -> i (R's path_matrix)
    paths: tuple[tuple[str, str], ...]
    before: tuple[np.ndarray, ...]  # predecessors of each block
    after: tuple[np.ndarray, ...]  # successors of each block

    @property
    def odm(self) -> np.ndarray:
        """Outer design matrix: items x blocks, 1 where the item belongs to the block."""
        return (self.block_of[:, None] == np.arange(len(self.names))[None, :]).astype(float)


@dataclass(frozen=True)
class PlsResult:
    """The estimates of a PLS path model (:func:`pls_pm`).

    Attributes
    ----------
    outer : pandas.DataFrame
        One row per item: ``block``, ``item``, ``weight`` (outer weight on the treated item:
        standardised with ``scaled=True``, centred only with ``scaled=False``), ``loading``
        (correlation with the block's score), ``communality`` (loading²) and ``redundancy``
        (communality × the block's R²; 0 in an exogenous block, as R plspm).
    paths : pandas.DataFrame
        One row per path: ``from``, ``to``, ``coefficient``, ``std_error``, ``t``, ``p_value``
        — R's ``inner_model``: ordinary least squares of each endogenous score on its
        predecessors' scores (the intercept, zero since scores are centred, is left out).
    r2 : pandas.Series
        R² of each endogenous block.
    blocks_summary : pandas.DataFrame
        One row per block (index: block): ``type`` (``"exogenous"``/``"endogenous"``),
        ``items``, ``r2`` (0 for an exogenous block, as R), ``block_communality`` (mean
        communality), ``mean_redundancy``, ``ave``, ``c_alpha`` (standardised Cronbach's
        alpha), ``dg_rho`` (Dillon-Goldstein's rho), ``eig_1st`` and ``eig_2nd`` (of the
        block's correlation matrix).
    gof : float
        Goodness of fit, ``sqrt(mean communality × mean R²)`` (NaN when no block has two items).
    scores : pandas.DataFrame
        Latent variable scores, one column per block, mean 0 and variance 1 with divisor n
        (as R plspm), index: the complete rows of the data.
    n : int
        Complete rows the model was estimated on.
    n_dropped : int
        Rows dropped because one of the model's items was missing.
    iterations : int
        Iterations of the PLS algorithm (R's ``model$iter``).
    scheme : str
        Inner weighting scheme.
    scaled : bool
        Whether the items were standardised (R's ``scaled``).
    """

    outer: pd.DataFrame
    paths: pd.DataFrame
    r2: pd.Series
    blocks_summary: pd.DataFrame
    gof: float
    scores: pd.DataFrame
    n: int
    n_dropped: int
    iterations: int
    scheme: str
    scaled: bool = True


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------

def _check_args(scheme: str, tol: float, max_iter: int) -> None:
    if scheme not in SCHEMES:
        raise CsmError(f"pls_pm: scheme {scheme!r} is not a PLS inner weighting scheme; use one of "
                       f"{', '.join(map(repr, SCHEMES))}.")
    if not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise CsmError(f"pls_pm: tol must be a positive number, but {tol!r} was passed; R plspm's default is 1e-6.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise CsmError(f"pls_pm: max_iter must be a positive integer, but {max_iter!r} was passed; "
                       "R plspm's default is 100.")


def _build_model(data: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
                 paths: Sequence[tuple[str, str]]) -> _Model:
    """Check the blocks and paths against the data; every problem found is reported at once."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"pls_pm: data must be a pandas DataFrame, but a {type(data).__name__} was passed.")
    if not isinstance(blocks, Mapping) or not blocks:
        raise DataError("pls_pm: no blocks were given — pass blocks={'BLOCK': ['item1', 'item2', ...], ...}.")
    problems: list[str] = []
    names = [str(b) for b in blocks]
    items: list[str] = []
    owner: dict[str, str] = {}
    for key, its in blocks.items():
        name = str(key)
        if isinstance(its, str):
            problems.append(f"block {name!r}: items must be a list of column names, not the string {its!r} "
                            f"— write [{its!r}]")
            continue
        its = list(its)
        if not its:
            problems.append(f"block {name!r} has no items — give it at least one column of the data, or "
                            "remove the block and its paths")
        for item in its:
            if item in owner:
                where = "twice in the same block" if owner[item] == name else \
                    f"in two blocks, {owner[item]!r} and {name!r}"
                problems.append(f"item {item!r} is {where} — an item measures one block only; keep it in one")
                continue
            owner[item] = name
            items.append(item)
            if item not in data.columns:
                problems.append(f"block {name!r}: item {item!r} is not a column of the data — check the "
                                "spelling (columns are case-sensitive)")
            elif (not pd.api.types.is_numeric_dtype(data[item])) or pd.api.types.is_bool_dtype(data[item]):
                problems.append(f"block {name!r}: item {item!r} is not numeric (dtype {data[item].dtype}) — "
                                "recode the answers as numbers before modelling")
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for path in paths:
        try:
            a, b = path
        except (TypeError, ValueError):
            problems.append(f"path {path!r} is not a pair (from, to) — write paths as ('IMAG', 'SAT')")
            continue
        a, b = str(a), str(b)
        bad = [x for x in (a, b) if x not in names]
        if bad:
            problems.append(f"path {a} -> {b} names {', '.join(map(repr, bad))}, which is not a block — "
                            f"blocks are {', '.join(map(repr, names))}")
            continue
        if a == b:
            problems.append(f"path {a} -> {b} goes from a block to itself — remove it")
            continue
        if (a, b) in seen:
            problems.append(f"path {a} -> {b} is listed twice — list it once")
            continue
        if (b, a) in seen:
            problems.append(f"paths {b} -> {a} and {a} -> {b} both appear: that is a cycle "
                            f"({b} -> {a} -> {b}) — a PLS path model must be recursive; keep one direction")
            seen.add((a, b))
            continue
        seen.add((a, b))
        edges.append((a, b))
    if not problems:
        cycle = find_cycle(names, edges)
        if cycle:
            problems.append(f"the paths form a cycle, {' -> '.join(cycle)} — a PLS path model must be "
                            "recursive (no block may lead back to itself); remove one path of the cycle")
        linked = {x for e in edges for x in e}
        for name in names:
            if name not in linked:
                problems.append(f"block {name!r} has no path to or from another block — add a path or "
                                "remove the block")
    if problems:
        raise DataError("pls_pm: the model does not fit the data or is not a valid PLS path model", problems)
    index = {name: k for k, name in enumerate(names)}
    pred = np.zeros((len(names), len(names)), dtype=bool)
    for a, b in edges:
        pred[index[b], index[a]] = True
    block_of = np.array([index[owner[item]] for item in items])
    return _Model(tuple(names), tuple(items), block_of, pred, tuple(edges),
                  tuple(np.flatnonzero(row) for row in pred), tuple(np.flatnonzero(col) for col in pred.T))


def _complete(data: pd.DataFrame, model: _Model) -> tuple[pd.DataFrame, int]:
    """The rows with every item answered, checked for non-finite values, size and constant items."""
    frame = data[list(model.items)]
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values).any(axis=0)
    if infinite.any():
        cols = [c for c, bad in zip(model.items, infinite, strict=True) if bad]
        raise DataError(f"pls_pm: item(s) {', '.join(map(repr, cols))} hold an infinite value — replace it "
                        "with a valid answer or leave it missing")
    keep = ~np.isnan(values).any(axis=1)
    n = int(keep.sum())
    need = max(MIN_ROWS, len(model.items) + 1)
    if n < need:
        raise DataError(f"pls_pm: only {n} row(s) answer every item of the model (of {len(frame)}; rows with a "
                        f"missing item are dropped), and the model needs at least {need} (10, and more than "
                        f"its {len(model.items)} items) — use more data or fewer items")
    complete = frame.loc[keep]
    x = values[keep]
    constant = [c for c, v in zip(model.items, x.T, strict=True) if np.ptp(v) == 0]
    if constant:
        raise DataError(f"pls_pm: item(s) {', '.join(map(repr, constant))} take a single value on the {n} "
                        "complete row(s) — a constant item has no variance to share with its block; "
                        "remove it from the block")
    return complete, len(frame) - n


# --------------------------------------------------------------------------------------------
# the algorithm, on the moments of the treated items
# --------------------------------------------------------------------------------------------

def _treat(x: np.ndarray, scaled: bool) -> np.ndarray:
    """R's ``get_treated_data``: centred, and divided by the divisor-n sd when ``scaled``.

    ``x`` is rows x items, or a stack of such (resamples x rows x items): every function of
    the algorithm below takes one data set or a stack of them, so that the bootstrap runs its
    resamples together instead of one by one (each resample's numbers are those it gets alone).
    """
    xc = x - x.mean(axis=-2, keepdims=True)
    if scaled:
        xc = xc / np.sqrt((xc * xc).mean(axis=-2, keepdims=True))
    return xc


def _inner_weights(R: np.ndarray, model: _Model, adjacent: np.ndarray, scheme: str) -> np.ndarray:
    """R's inner weights ``E`` from the correlations ``R`` of the outer estimates (a stack)."""
    if scheme == "centroid":
        return np.sign(R) * adjacent
    if scheme == "factorial":
        return R * adjacent
    E = np.zeros_like(R)  # path scheme (R's get_path_scheme)
    for k, after in enumerate(model.after):
        E[:, after, k] = R[:, after, k]  # successors: correlation
    for k, before, slopes in _slopes(R, model):
        E[:, before, k] = slopes  # predecessors: regression of k on them, without intercept
    return E


def _outer_weights(S: np.ndarray, model: _Model, scheme: str, tol: float,
                   max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R's ``get_weights`` (Mode A) and ``get_scores`` sign rule on a stack of ``S = X'X / n``.

    Every quantity of R's iteration is a function of S: with ``V = W / sd(XW)`` the outer
    estimates are ``Y = X V``, their correlations ``V'SV``, and the Mode A update
    ``(1/n) X_j' Y E_j = (S V E)_j``. Each S of the stack iterates until its own criterion
    is met, as it would alone. Returns the items x blocks weight matrices, normalised and
    signed; the iterations of each; and which converged (within ``max_iter``; R then stops).
    """
    odm = model.odm
    adjacent = model.pred | model.pred.T
    W = odm / np.sqrt(((S @ odm) * odm).sum(axis=-2, keepdims=True))
    w_old = W.sum(axis=-1)
    done = np.empty_like(W)
    iterations = np.zeros(len(S), dtype=int)
    active = np.arange(len(S))
    it = 1
    while active.size:
        Sa = S[active]
        V = W / np.sqrt(((Sa @ W) * W).sum(axis=-2, keepdims=True))
        SV = Sa @ V
        R = np.swapaxes(V, -1, -2) @ SV
        d = np.sqrt(np.diagonal(R, axis1=-2, axis2=-1))
        R = R / (d[:, :, None] * d[:, None, :])
        W = odm * (SV @ _inner_weights(R, model, adjacent, scheme))
        w_new = W.sum(axis=-1)
        stop = (np.sum((np.abs(w_old) - np.abs(w_new)) ** 2, axis=-1) < tol) | (it == max_iter)
        done[active[stop]] = W[stop]
        iterations[active[stop]] = it
        active, W, w_old = active[~stop], W[~stop], w_new[~stop]
        it += 1
    W = done / np.sqrt(((S @ done) * done).sum(axis=-2, keepdims=True))
    cov = S @ W  # sign of cor(item, score): the sd's are positive
    flip = np.sign((np.sign(cov) * odm).sum(axis=-2, keepdims=True))
    flip[flip == 0] = -1
    return W * np.where(flip < 0, -1.0, 1.0), iterations, iterations < max_iter


def _lv_correlations(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    R = np.swapaxes(W, -1, -2) @ S @ W
    d = np.sqrt(np.diagonal(R, axis1=-2, axis2=-1))
    return R / (d[..., :, None] * d[..., None, :])


def _slopes(R: np.ndarray, model: _Model) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(block, its predecessors, slopes R_pp^-1 R_pk)`` of each endogenous block, from a
    stack of score correlations ``R`` (slopes: one row per R of the stack)."""
    return [(k, before, np.linalg.solve(R[:, before][:, :, before], R[:, before, k][..., None])[..., 0])
            for k, before in enumerate(model.before) if before.size]


def _path_table(R: np.ndarray, model: _Model, n: int
                ) -> tuple[dict[tuple[int, int], float], np.ndarray, dict[tuple[int, int], tuple[float, float, float]]]:
    """OLS of each endogenous score on its predecessors from the scores' correlations ``R``.

    The scores are centred with variance 1 (divisor n), so ``Y_p'Y_p = n R_pp`` and the
    intercept is 0: the slopes are ``R_pp^-1 R_pk``, R² is ``b'R_pk``, and the standard errors
    those of ``lm``, ``sqrt((1 - R²) / (n - q - 1) * diag(R_pp^-1))``.
    """
    coef: dict[tuple[int, int], float] = {}
    stats: dict[tuple[int, int], tuple[float, float, float]] = {}
    r2 = np.zeros(len(R))
    for k, before, slopes in _slopes(R[None], model):
        b = slopes[0]
        r2[k] = float(b @ R[before, k])
        df = n - before.size - 1
        se = np.sqrt(max(1.0 - r2[k], 0.0) / df * np.diag(np.linalg.inv(R[before][:, before])))
        for j, bj, sj in zip(before, b, se, strict=True):
            coef[(int(j), k)] = float(bj)
            t = bj / sj if sj > 0 else math.copysign(math.inf, bj)
            stats[(int(j), k)] = (float(sj), float(t), float(2 * _st.t.sf(abs(t), df)))
    return coef, r2, stats


def _unidim(C: np.ndarray, model: _Model) -> pd.DataFrame:
    """R's ``get_unidim`` from the items' correlation matrix ``C``."""
    rows = []
    for k, name in enumerate(model.names):
        idx = np.flatnonzero(model.block_of == k)
        p = idx.size
        if p == 1:
            rows.append((name, 1.0, 1.0, 1.0, 0.0))
            continue
        Cb = C[np.ix_(idx, idx)]
        off = Cb.sum() - np.trace(Cb)  # 2 * sum of the correlations below the diagonal
        alpha = max(0.0, off / Cb.sum() * p / (p - 1))
        eig, vec = np.linalg.eigh(Cb)
        cor_pc = vec[:, -1] * math.sqrt(max(eig[-1], 0.0))  # correlations with the first component
        rho = cor_pc.sum() ** 2 / (cor_pc.sum() ** 2 + p - (cor_pc**2).sum())
        rows.append((name, float(alpha), float(rho), float(eig[-1]), float(eig[-2])))
    return pd.DataFrame(rows, columns=["block", "c_alpha", "dg_rho", "eig_1st", "eig_2nd"]).set_index("block")


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------

def pls_pm(data: pd.DataFrame, *, blocks: Mapping[str, Sequence[str]], paths: Sequence[tuple[str, str]],
           scheme: Scheme = "centroid", tol: float = 1e-6, max_iter: int = 100,
           scaled: bool = True) -> PlsResult:
    """Estimate a PLS path model with Mode A blocks, as R plspm's ``plspm()`` does.

    The algorithm and every output are R plspm's (Sanchez 2013; the module docstring lists
    the steps): Lohmöller's (1989) iteration of Wold's (1982) PLS with the centroid,
    factorial or path inner weighting scheme (Tenenhaus et al. 2005, CSDA 48, 159–205).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; the items are numeric columns.
    blocks : Mapping[str, Sequence[str]]
        Each block (latent variable) and its items, e.g. ``{"SAT": ["sat1", "sat2"]}``.
        Every block is reflective (Mode A).
    paths : Sequence[tuple[str, str]]
        The structural paths ``(from, to)``; they must not form a cycle, and every block
        needs at least one.
    scheme : {"centroid", "factorial", "path"}
        Inner weighting scheme (R's default: centroid).
    tol : float
        Convergence tolerance on the sum of squared changes of the outer weights (R: 1e-6;
        R replaces a value outside (0, 0.001] by 1e-6 with a warning, this takes any tol > 0).
    max_iter : int
        Iterations allowed (R: 100; R replaces a value below 100 by 100 with a warning, this
        takes any max_iter >= 1).
    scaled : bool
        Standardise the items (R's default, True); False only centres them, as R's
        ``scaled = FALSE`` (the weights are then on the items' own scale).

    Returns
    -------
    PlsResult
        Outer model, paths, R², block summary, GoF and scores; see :class:`PlsResult`.

    Raises
    ------
    DataError
        When a block has no items; an item is not a column, not numeric, in two blocks or
        constant; a path names an unknown block, goes from a block to itself or closes a
        cycle; a block has no path; fewer than ``max(10, items + 1)`` rows answer every item
        (incomplete rows are dropped and counted in ``n_dropped``: R plspm's metric
        algorithm has no missing-value handling); or the iteration does not converge
        within ``max_iter`` (R stops with an error there too).
    CsmError
        When ``scheme``, ``tol`` or ``max_iter`` is invalid.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> quality = rng.normal(size=400)
    >>> satisfaction = 0.7 * quality + rng.normal(scale=0.7, size=400)
    >>> data = pd.DataFrame({f"q{i}": quality + rng.normal(scale=0.6, size=400) for i in (1, 2, 3)}
    ...                     | {f"s{i}": satisfaction + rng.normal(scale=0.6, size=400) for i in (1, 2, 3)})
    >>> res = pls_pm(data, blocks={"QUAL": ["q1", "q2", "q3"], "SAT": ["s1", "s2", "s3"]},
    ...              paths=[("QUAL", "SAT")])
    >>> res.paths[["from", "to"]].values.tolist(), round(float(res.paths.coefficient.iloc[0]), 2)
    ([['QUAL', 'SAT']], 0.62)
    >>> res.outer.loading.round(1).tolist()
    [0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    >>> res.n, res.n_dropped, res.scheme
    (400, 0, 'centroid')
    """
    _check_args(scheme, tol, max_iter)
    model = _build_model(data, blocks, paths)
    complete, dropped = _complete(data, model)
    n = len(complete)
    X = _treat(complete.to_numpy(dtype=float), bool(scaled))
    S = X.T @ X / n
    weights, its, converged = _outer_weights(S[None], model, scheme, tol, max_iter)
    W, iterations = weights[0], int(its[0])
    if not converged[0]:
        raise DataError(f"pls_pm: the PLS iteration did not converge within max_iter={max_iter} iterations "
                        f"(tol={tol:g}, scheme {scheme!r}) — raise max_iter, or check the blocks: an item "
                        "that is unrelated to the rest of its block, or blocks that hardly correlate, can keep "
                        "the weights from settling")

    scores = X @ W
    sd_items = np.sqrt(np.diag(S))
    sd_scores = np.sqrt(np.diag(W.T @ S @ W))
    loading = ((S @ W) / np.outer(sd_items, sd_scores))[np.arange(len(model.items)), model.block_of]
    R = _lv_correlations(S, W)
    coef, r2, stats = _path_table(R, model, n)
    communality = loading**2
    redundancy = communality * r2[model.block_of]
    weight = W[np.arange(len(model.items)), model.block_of]

    outer = pd.DataFrame({"block": [model.names[k] for k in model.block_of], "item": list(model.items),
                          "weight": weight, "loading": loading, "communality": communality,
                          "redundancy": redundancy})
    rows = []
    for a, b in model.paths:
        key = (model.names.index(a), model.names.index(b))
        rows.append((a, b, coef[key], *stats[key]))
    path_frame = pd.DataFrame(rows, columns=["from", "to", "coefficient", "std_error", "t", "p_value"])
    endogenous = model.pred.any(axis=1)
    r2_series = pd.Series(r2[endogenous], index=[nm for nm, e in zip(model.names, endogenous, strict=True) if e],
                          name="r2")

    C = S / np.outer(sd_items, sd_items)
    uni = _unidim(C, model)
    summary = []
    for k, name in enumerate(model.names):
        sel = model.block_of == k
        com = communality[sel]
        summary.append({"block": name, "type": "endogenous" if endogenous[k] else "exogenous",
                        "items": int(sel.sum()), "r2": float(r2[k]), "block_communality": float(com.mean()),
                        "mean_redundancy": float(redundancy[sel].mean()),
                        "ave": float(com.sum() / (com.sum() + (1 - com).sum()))})
    blocks_summary = pd.DataFrame(summary).set_index("block").join(uni)

    multi = blocks_summary["items"].to_numpy()[model.block_of] > 1
    gof = math.sqrt(communality[multi].mean() * r2[endogenous].mean()) if multi.any() else math.nan
    return PlsResult(outer=outer, paths=path_frame, r2=r2_series, blocks_summary=blocks_summary, gof=float(gof),
                     scores=pd.DataFrame(scores, index=complete.index, columns=list(model.names)),
                     n=n, n_dropped=int(dropped), iterations=int(iterations), scheme=scheme, scaled=bool(scaled))


def _check_scale(scale: tuple[float, float] | None, where: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise CsmError(f"{where}: scale must be the answer scale's (minimum, maximum), e.g. (1, 10), "
                       f"but {scale!r} was passed.") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise CsmError(f"{where}: scale {scale!r} must be two finite numbers, minimum first.")
    return lo, hi


def _index(x: np.ndarray, w: np.ndarray, scaled: bool, lo: float, hi: float) -> np.ndarray:
    """The index from the block's raw answers ``x`` (rows x items) and its weights ``w``."""
    return _index_of_moments(x.mean(axis=-2), x.std(axis=-2), w, scaled, lo, hi)


def _index_of_moments(mean: np.ndarray, sd: np.ndarray, w: np.ndarray, scaled: bool, lo: float,
                      hi: float) -> np.ndarray:
    """The index from the items' means and (divisor-n) sd's and the weights ``w``, or of a
    stack of them (resamples x items)."""
    raw = w / sd if scaled else w  # weight of an item on its own scale
    raw = raw / raw.sum(axis=-1, keepdims=True)
    return 100.0 * ((raw * mean).sum(axis=-1) - lo) / (hi - lo)


def satisfaction_index(data: pd.DataFrame, result: PlsResult, *, block: str, scale: tuple[float, float]) -> float:
    """A block's 0–100 index from its outer weights, as the ACSI (Fornell et al. 1996).

    The outer weights of a standardised item are first put on the item's own scale,
    ``w_i* = w_i / sd_i`` (``sd_i`` the item's standard deviation on the complete rows the
    model was estimated on; divisor n or n - 1 gives the same index, the common factor
    cancels below), then normalised to sum 1, ``w_i* <- w_i* / sum_j w_j*``; with
    ``scaled=False`` the weights are already on the items' scale and only normalised. With
    ``x̄_i`` the item's mean on those rows and ``scale = (min, max)`` the answer scale,

        index = 100 × (sum_i w_i* x̄_i − min) / (max − min),

    i.e. the mean of the block's weighted answers rescaled so that everyone answering
    ``min`` gives 0 and everyone answering ``max`` gives 100.

    Parameters
    ----------
    data : pandas.DataFrame
        The data ``result`` was estimated on.
    result : PlsResult
        From :func:`pls_pm`.
    block : str
        The block whose index is wanted (e.g. ``"SAT"``).
    scale : tuple[float, float]
        Minimum and maximum of the items' answer scale, e.g. ``(1, 10)``.

    Returns
    -------
    float
        The index, between 0 and 100.

    Raises
    ------
    DataError
        When the block is not in the result, ``data`` is not the data it was estimated on
        (different complete rows), an answer lies outside ``scale``, or a weight is not
        positive (an item against its block: reverse-code it or drop it).
    CsmError
        When ``scale`` is not ``(min, max)`` with min < max.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=300)
    >>> data = pd.DataFrame({c: np.clip(np.round(7 + 1.5 * f + rng.normal(size=300)), 1, 10)
    ...                      for c in ("s1", "s2", "l1", "l2")})
    >>> res = pls_pm(data, blocks={"SAT": ["s1", "s2"], "LOY": ["l1", "l2"]}, paths=[("SAT", "LOY")])
    >>> round(satisfaction_index(data, res, block="SAT", scale=(1, 10)), 1)
    65.2
    """
    lo, hi = _check_scale(scale, "satisfaction_index")
    rows = result.outer[result.outer["block"] == block]
    if rows.empty:
        raise DataError(f"satisfaction_index: block {block!r} is not in the model — its blocks are "
                        f"{', '.join(map(repr, result.outer['block'].unique()))}")
    items = rows["item"].tolist()
    missing = [c for c in result.outer["item"] if c not in data.columns]
    if missing:
        raise DataError(f"satisfaction_index: item(s) {', '.join(map(repr, missing))} of the model are not "
                        "columns of the data — pass the data the model was estimated on")
    frame = data[list(result.outer["item"])].apply(pd.to_numeric, errors="coerce")
    complete = frame.notna().all(axis=1).to_numpy()
    if int(complete.sum()) != result.n or not frame.index[complete].equals(result.scores.index):
        raise DataError(f"satisfaction_index: the data has {int(complete.sum())} complete row(s) but the model was "
                        f"estimated on {result.n} — pass the data the model was estimated on")
    x = frame.loc[complete, items].to_numpy(dtype=float)
    outside = [c for c, v in zip(items, x.T, strict=True) if v.min() < lo or v.max() > hi]
    if outside:
        raise DataError(f"satisfaction_index: item(s) {', '.join(map(repr, outside))} of block {block!r} have "
                        f"answers outside the scale {lo:g}–{hi:g} — pass the items' answer scale")
    w = rows["weight"].to_numpy(dtype=float)
    if (w <= 0).any():
        bad = [c for c, v in zip(items, w, strict=True) if v <= 0]
        raise DataError(f"satisfaction_index: item(s) {', '.join(map(repr, bad))} of block {block!r} have a "
                        "weight of zero or below, so the index would not stay within 0–100 — reverse-code "
                        "an item asked the other way round, or drop an item unrelated to the block")
    return float(_index(x, w, result.scaled, lo, hi))


def _draw_counts(rows: np.ndarray, n: int) -> np.ndarray:
    """How often each of the ``n`` rows is drawn in each resample (resamples x n, as floats)."""
    flat = (np.arange(len(rows))[:, None] * n + rows).ravel()
    return np.bincount(flat, minlength=len(rows) * n).reshape(len(rows), n).astype(float)


def _answer_groups(raw: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each item (column of ``raw``): its rows sorted by answer, and where each distinct
    answer starts in that order (for :func:`_constant_item`)."""
    groups = []
    for column in raw.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        groups.append((order, np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])))
    return groups


def _constant_item(counts: np.ndarray, groups: Sequence[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """Which resamples draw a single answer of some item (``np.ptp == 0`` on the resample): all
    ``n`` draws of one distinct answer. The draws are whole numbers, so the test is exact."""
    constant = np.zeros(len(counts), dtype=bool)
    for order, starts in groups:
        constant |= np.add.reduceat(counts[:, order], starts, axis=1).max(axis=1) == n
    return constant


def bootstrap_pls(data: pd.DataFrame, *, blocks: Mapping[str, Sequence[str]], paths: Sequence[tuple[str, str]],
                  scheme: Scheme = "centroid", n_boot: int = 500, seed: int, level: float = 0.95,
                  index_block: str | None = None, scale: tuple[float, float] | None = None,
                  tol: float = 1e-6, max_iter: int = 100, scaled: bool = True) -> pd.DataFrame:
    """Seeded bootstrap percentile intervals of the path coefficients (and of an index).

    The complete rows (as :func:`pls_pm` keeps them) are resampled with replacement,
    ``rows = numpy.random.default_rng(seed).integers(0, n, size=(n_boot, n))`` (resample b
    is ``rows[b]``), and the model is re-estimated on each resample exactly as
    :func:`pls_pm` would on ``complete_rows.iloc[rows[b]]`` (R's sign rule applies in each).
    A resample in which an item is constant, or the iteration does not converge, is skipped
    and not replaced; ``n_boot_ok`` counts the others. (The resamples are estimated in blocks,
    all steps at once, each with its own iterations, from the moments that the counts of its
    drawn rows give: the numbers are those of one by one, to rounding.) The interval is the
    percentile interval, ``numpy.percentile(stat, [50 (1 - level), 50 (1 + level)])`` (linear
    interpolation) over the successful resamples, and ``std_error`` their standard
    deviation (divisor n_boot_ok - 1).

    Parameters
    ----------
    data, blocks, paths, scheme, tol, max_iter, scaled
        As :func:`pls_pm`.
    n_boot : int
        Resamples (at least 10).
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed gives the same table.
    level : float
        Confidence level of the intervals, between 0 and 1.
    index_block : str or None
        A block whose :func:`satisfaction_index` gets an interval too.
    scale : tuple[float, float] or None
        The answer scale ``(min, max)``; required with ``index_block``.

    Returns
    -------
    pandas.DataFrame
        One row per path (``what`` = ``"path"``, ``from``, ``to``) and, with ``index_block``,
        one for the index (``what`` = ``"index"``, ``from`` = the block, ``to`` empty); columns
        ``estimate`` (on all complete rows), ``std_error``, ``ci_low``, ``ci_high``,
        ``n_boot_ok``.

    Raises
    ------
    DataError
        As :func:`pls_pm` and :func:`satisfaction_index` on the full data, or when no
        resample could be estimated.
    CsmError
        When ``n_boot``, ``seed``, ``level`` or ``scale`` is invalid.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=200)
    >>> g = 0.5 * f + rng.normal(scale=0.85, size=200)
    >>> data = pd.DataFrame({"a1": f + rng.normal(size=200), "a2": f + rng.normal(size=200),
    ...                      "b1": g + rng.normal(size=200), "b2": g + rng.normal(size=200)})
    >>> table = bootstrap_pls(data, blocks={"A": ["a1", "a2"], "B": ["b1", "b2"]}, paths=[("A", "B")],
    ...                       n_boot=200, seed=7)
    >>> row = table.iloc[0]
    >>> bool(row.ci_low < row.estimate < row.ci_high), int(row.n_boot_ok)
    (True, 200)
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 10:
        raise CsmError(f"bootstrap_pls: n_boot must be an integer of at least 10, but {n_boot!r} was passed.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise CsmError(f"bootstrap_pls: seed must be an integer, but {seed!r} was passed.")
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise CsmError(f"bootstrap_pls: level must be between 0 and 1, but {level!r} was passed.")
    if index_block is not None and scale is None:
        raise CsmError("bootstrap_pls: an index interval needs the answer scale — pass scale=(min, max).")

    full = pls_pm(data, blocks=blocks, paths=paths, scheme=scheme, tol=tol, max_iter=max_iter, scaled=scaled)
    model = _build_model(data, blocks, paths)
    complete, _ = _complete(data, model)
    raw = complete.to_numpy(dtype=float)
    n = len(raw)
    keys = [(model.names.index(a), model.names.index(b)) for a, b in model.paths]
    estimates = full.paths["coefficient"].tolist()
    idx_items: np.ndarray | None = None
    lo = hi = 0.0
    if index_block is not None:
        lo, hi = _check_scale(scale, "bootstrap_pls")
        estimates.append(satisfaction_index(data, full, block=index_block, scale=(lo, hi)))
        idx_items = np.flatnonzero(model.block_of == model.names.index(index_block))

    rows = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    stats = np.full((n_boot, len(estimates)), np.nan)
    p = raw.shape[1]
    centre = raw.mean(axis=0)
    centred = raw - centre  # (so that the resamples' moments lose no digits to the means)
    # the rows' cross-products, unless they would take more room than a block of resamples
    products = (centred[:, :, None] * centred[:, None, :]).reshape(n, p * p) if n * p * p <= _BOOT_CELLS else None
    groups = _answer_groups(raw)
    block = max(1, _BOOT_CELLS // (n * p))  # resamples estimated together
    for first in range(0, n_boot, block):
        take = np.arange(first, min(first + block, n_boot))
        counts = _draw_counts(rows[take], n)
        varies = ~_constant_item(counts, groups, n)  # a constant item: the resample is skipped
        take, counts = take[varies], counts[varies]
        if not take.size:
            continue
        mean = counts @ centred / n
        if products is not None:
            second = (counts @ products).reshape(-1, p, p)
        else:  # many rows: one resample at a time
            second = np.stack([(centred * c[:, None]).T @ centred for c in counts]).reshape(-1, p, p)
        cov = second / n - mean[:, :, None] * mean[:, None, :]
        sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        S = cov / (sd[:, :, None] * sd[:, None, :]) if scaled else cov
        with np.errstate(all="ignore"):  # (in resamples that did not converge, skipped below)
            W, _its, converged = _outer_weights(S, model, scheme, tol, max_iter)
        take, S, W, mean, sd = take[converged], S[converged], W[converged], mean[converged], sd[converged]
        if not take.size:
            continue
        coef = {(int(j), k): b[:, i] for k, before, b in _slopes(_lv_correlations(S, W), model)
                for i, j in enumerate(before)}
        stats[take, : len(keys)] = np.column_stack([coef[key] for key in keys])
        if idx_items is not None:
            w = W[:, idx_items, model.names.index(index_block)]
            stats[take, -1] = _index_of_moments(mean[:, idx_items] + centre[idx_items], sd[:, idx_items], w,
                                                bool(scaled), lo, hi)
    ok = stats[~np.isnan(stats).any(axis=1)]
    if not len(ok):
        raise DataError(f"bootstrap_pls: none of the {n_boot} resamples could be estimated (a constant item or "
                        "no convergence in each) — use more data, or drop items that almost never vary")
    low, high = np.percentile(ok, [50 * (1 - level), 50 * (1 + level)], axis=0)
    se = ok.std(axis=0, ddof=1) if len(ok) > 1 else np.full(len(estimates), np.nan)
    labels = [("path", a, b) for a, b in model.paths]
    if index_block is not None:
        labels.append(("index", index_block, ""))
    return pd.DataFrame({"what": [x[0] for x in labels], "from": [x[1] for x in labels],
                         "to": [x[2] for x in labels], "estimate": estimates, "std_error": se,
                         "ci_low": low, "ci_high": high, "n_boot_ok": len(ok)})
