"""Small statistical building blocks shared by the measurement and analysis helpers.

Weights, Kish's effective sample size, weighted moments, normal quantiles and the
minimum-cell-size suppression of SPEC §4 live here once, so every helper treats them
the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.core.errors import CsmError

__all__ = ["WEIGHT_COLUMN", "z_value", "get_weights", "kish_neff", "weighted_mean", "weighted_var",
           "weighted_share", "suppress", "suppressed_groups", "holm", "adjust_p", "adjust_family",
           "ATTRIBUTE_FAMILY"]

#: Correction of a family of per-attribute tests (expectation gaps, competitor benchmark, change
#: since the previous wave): Benjamini–Hochberg. These tables screen every attribute for the
#: ones worth acting on, so the error to control is the share of false leads among those
#: flagged (the FDR), not the chance of any single one (FWER), which would make a 12-attribute
#: screen nearly blind. Pairwise comparisons of segments, few and confirmatory, use Holm.
ATTRIBUTE_FAMILY = "fdr_bh"

#: Column the stage context adds to the analysis data when the study has weights.
WEIGHT_COLUMN = "_csm_weight"


@functools.lru_cache(maxsize=64)
def z_value(level: float = 0.95) -> float:
    """Two-sided normal quantile for a confidence level (kept per level: scipy's ``ppf`` costs
    50 µs, and a report set asks for the same level about 400 times).

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    if not 0 < level < 1:
        raise CsmError(f"The value for `level` must be between 0 and 1, but {level!r} was passed.")
    return float(_st.norm.ppf(0.5 + level / 2))


def get_weights(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    """Weights of the rows as a float array (ones when ``weights`` is None).

    Raises
    ------
    CsmError
        When the column is missing, or holds missing, negative or non-finite values.

    Examples
    --------
    >>> get_weights(pd.DataFrame({"w": [1.0, 2.0]}), "w").tolist()
    [1.0, 2.0]
    >>> get_weights(pd.DataFrame({"x": [1, 2]}), None).tolist()
    [1.0, 1.0]
    """
    if weights is None:
        return np.ones(len(data))
    if weights not in data.columns:
        raise CsmError(f"weights column {weights!r} is not in the data; columns: {', '.join(map(str, data.columns))}")
    w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise CsmError(f"weights column {weights!r} must hold finite values >= 0")
    return w


def kish_neff(w: np.ndarray | Sequence[float]) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (SPEC §1.3).

    Kish, L. (1965). *Survey Sampling*. Wiley, section 11.7.

    Examples
    --------
    >>> kish_neff([1, 1, 1, 1])
    4.0
    >>> round(kish_neff([1, 1, 1, 3]), 4)
    3.0
    """
    w = np.asarray(w, dtype=float)
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def weighted_mean(x: np.ndarray | Sequence[float], w: np.ndarray | Sequence[float] | None = None) -> float:
    """Weighted mean of the non-missing values (NaN when none).

    Examples
    --------
    >>> weighted_mean([1, 2, np.nan], [1, 3, 5])
    1.75
    """
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    if not ok.any():
        return float("nan")
    return float(np.sum(w[ok] * x[ok]) / np.sum(w[ok]))


def weighted_var(x: np.ndarray | Sequence[float], w: np.ndarray | Sequence[float] | None = None) -> float:
    """Weighted variance with the effective-n correction ``n_eff / (n_eff - 1)``.

    Equals the ordinary sample variance (ddof=1) when all weights are equal.

    Examples
    --------
    >>> round(weighted_var([1, 2, 3, 4]), 6) == round(float(np.var([1, 2, 3, 4], ddof=1)), 6)
    True
    """
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    neff = kish_neff(w)
    if neff <= 1:
        return float("nan")
    m = np.sum(w * x) / np.sum(w)
    return float(np.sum(w * (x - m) ** 2) / np.sum(w) * neff / (neff - 1))


def weighted_share(mask: np.ndarray | Sequence[bool], w: np.ndarray | Sequence[float] | None = None,
                   valid: np.ndarray | Sequence[bool] | None = None) -> float:
    """Weighted share of True among the valid rows.

    Examples
    --------
    >>> weighted_share([True, False, True], [1, 1, 2])
    0.75
    """
    m = np.asarray(mask, dtype=bool)
    w = np.ones(len(m)) if w is None else np.asarray(w, dtype=float)
    v = np.ones(len(m), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    total = np.sum(w[v])
    return float(np.sum(w[v & m]) / total) if total > 0 else float("nan")


def suppress(table: pd.DataFrame, *, n: str = "n", min_n: int = 5,
             keep: Sequence[str] = (), by: str | None = None, within: Sequence[str] = (),
             hide: Sequence[bool] | np.ndarray | None = None) -> pd.DataFrame:
    """Blank every statistic of rows with fewer than ``min_n`` respondents (SPEC §4).

    Returns a copy with a boolean ``suppressed`` column; in suppressed rows every column
    except ``n``, the ``suppressed`` flag and the ``keep`` columns (group labels) is set
    to missing. ``out.attrs`` records ``min_n`` and ``count_column`` (``n``): a report shows a
    suppressed row's count only as "fewer than min_n"
    (:func:`csm_helpers.present.catalogue.format_count`), never as the number.

    With ``by`` (the column naming the groups of one partition, e.g. the segment), the rows of
    each partition also get complementary suppression (:func:`suppressed_groups`), so that no
    group below ``min_n`` can be worked out by difference from the shown groups and the total.
    ``within`` names the columns that tell several partitions apart in one table (e.g. one
    partition per attribute or per quadrant). The groups hidden only to protect another one
    are listed in ``out.attrs["complementary"]``.

    ``hide`` marks further rows to suppress whatever their n: rows that complementary
    suppression across reports hides (:mod:`csm_helpers.analysis.disclosure`; a segment's figure that
    "all" minus the other segments' figures would otherwise reveal). Their row positions are
    listed in ``out.attrs["withheld"]``.

    Examples
    --------
    >>> t = pd.DataFrame({"region": ["A", "B"], "n": [3, 40], "mean": [4.1, 3.9]})
    >>> suppress(t, min_n=5, keep=["region"])
      region   n  mean  suppressed
    0      A   3   NaN        True
    1      B  40   3.9       False
    >>> t = pd.DataFrame({"region": ["A", "B", "C"], "n": [3, 40, 25], "mean": [4.1, 3.9, 4.4]})
    >>> out = suppress(t, min_n=5, keep=["region"], by="region")
    >>> out["suppressed"].tolist(), out.attrs["complementary"]
    ([True, False, True], ['C'])
    >>> out = suppress(t, min_n=5, keep=["region"], hide=[False, True, False])
    >>> out["suppressed"].tolist(), out.attrs["withheld"]
    ([True, True, False], [1])
    """
    out = table.copy()
    counts = out[n].fillna(0).to_numpy()
    small = counts < min_n
    if hide is not None:
        forced = np.asarray(hide, dtype=bool) & ~small
        out.attrs["withheld"] = np.flatnonzero(forced).tolist()
        small = small | forced
    complementary: list[Any] = []
    if by is not None and len(out):
        # one partition per combination of the `within` columns (one only without them)
        part = (out[list(within)].astype(str).agg("\x1f".join, axis=1).to_numpy() if within
                else np.full(len(out), "", dtype=object))
        labels = out[by].astype(str).to_numpy()
        present = out[by].notna().to_numpy()
        for key in pd.unique(part):
            rows = np.flatnonzero((part == key) & present)
            hidden = suppressed_groups({labels[i]: int(counts[i]) for i in rows}, min_n)
            for i in rows:
                if labels[i] in hidden and not small[i]:
                    small[i] = True
                    if out[by].iloc[i] not in complementary:
                        complementary.append(out[by].iloc[i])
    out["suppressed"] = small
    blank = [c for c in out.columns if c not in {n, "suppressed", *keep}]
    for c in blank:
        if small.any():
            if not (pd.api.types.is_float_dtype(out[c]) or out[c].dtype == object):
                out[c] = out[c].astype("float64" if pd.api.types.is_numeric_dtype(out[c]) else object)
            out.loc[small, c] = np.nan
    if by is not None:
        out.attrs["complementary"] = complementary
    # what a report needs to show a suppressed row's size as "fewer than min_n" and not as a number
    out.attrs["min_n"] = max(int(min_n), int(table.attrs.get("min_n", 0)))
    out.attrs["count_column"] = n
    return out


def suppressed_groups(counts: dict[str, int] | pd.Series, min_n: int = 5) -> set[str]:
    """Groups of one partition to suppress, including those whose figures could be derived by difference.

    Primary suppression hides every group with ``0 < n < min_n`` (SPEC §4). That alone is not
    enough: a partition's total (the ``all`` report) minus the groups that are shown would
    reveal a single hidden group. Complementary (secondary) suppression, the rule used by
    statistical offices for tables with margins (Hundepool et al., *Statistical Disclosure
    Control*, Wiley 2012, §4.2), therefore also hides the smallest shown groups until

    * at least two groups are hidden, and
    * the hidden groups together hold at least ``min_n`` respondents,

    so that any difference of published figures covers ``min_n`` or more people. Empty groups
    (n = 0) reveal nothing and are neither hidden nor counted.

    Parameters
    ----------
    counts : mapping or Series
        Respondents per group of one segment column (every group of the partition).
    min_n : int
        The study's minimum cell size.

    Returns
    -------
    set of str
        The groups whose statistics must not be shown.

    Examples
    --------
    >>> sorted(suppressed_groups({"North": 3, "South": 40, "East": 25, "West": 60}))
    ['East', 'North']
    >>> sorted(suppressed_groups({"North": 3, "South": 4, "East": 25}))
    ['North', 'South']
    >>> suppressed_groups({"North": 30, "South": 40})
    set()
    """
    items = sorted(((str(k), int(v)) for k, v in dict(counts).items() if int(v) > 0),
                   key=lambda kv: (kv[1], kv[0]))
    hidden = {k for k, v in items if v < min_n}
    if not hidden:
        return set()
    total = sum(v for k, v in items if k in hidden)
    for k, v in items:
        if len(hidden) >= 2 and total >= min_n:
            break
        if k not in hidden:
            hidden.add(k)
            total += v
    return hidden


def adjust_p(p_values: Sequence[float] | np.ndarray, *, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family of tests (missing values stay missing and are not counted).

    ``method="holm"``: Holm, S. (1979). A simple sequentially rejective multiple test
    procedure. *Scandinavian Journal of Statistics*, 6(2), 65–70 (controls the family-wise
    error rate). ``method="fdr_bh"``: Benjamini, Y., & Hochberg, Y. (1995). Controlling the
    false discovery rate. *JRSS B*, 57(1), 289–300, computed by
    ``scipy.stats.false_discovery_control``. Holm's step-down rule is written out here:
    the i-th smallest of m p-values becomes ``max over j <= i of min(1, (m - j + 1) p_(j))``.
    (Neither needs pingouin, whose import also loads matplotlib and seaborn: 0.5 s that
    ``csm validate`` and every ``csm run`` paid before their first stage could start.)

    Examples
    --------
    >>> adjust_p([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p([0.01, float("nan"), 0.04, 0.03], method="fdr_bh").round(3).tolist()
    [0.03, nan, 0.04, 0.04]
    """
    if method not in ("holm", "fdr_bh"):
        raise CsmError(f"The value for `method` must be one of ['holm', 'fdr_bh'], but {method!r} was passed.")
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    tested = np.isfinite(p)
    if not tested.any():
        return out
    family = np.clip(p[tested], 0.0, 1.0)
    if method == "fdr_bh":
        out[tested] = _st.false_discovery_control(family, method="bh")
        return out
    order = np.argsort(family, kind="stable")
    m = family.size
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * family[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    out[tested] = adjusted
    return out


def adjust_family(table: pd.DataFrame, *, method: str = ATTRIBUTE_FAMILY, level: float = 0.95,
                  by: str | None = None) -> pd.DataFrame:
    """A per-attribute test table with ``p_adj`` over its family and the decisions taken on it.

    The family is the rows that carry a p-value (one family per ``by`` value): an untested,
    suppressed or withheld row (missing ``p_value``) is left out, so that it neither counts in
    the number of tests nor leaks into the adjusted p of the rows shown. The decisions follow
    the adjusted p, never the raw one: ``significant`` (when the table has that column) is
    ``p_adj < 1 - level`` (None where there is no p); a ``flag`` column (the competitor
    benchmark) becomes ``"better"`` / ``"worse"`` by the sign of ``gap`` where significant and
    ``"level"`` otherwise (a missing flag stays missing). Call it again after withholding rows.

    Parameters
    ----------
    table : pandas.DataFrame
        With ``p_value`` (and ``gap`` when it has ``flag``); not modified.
    method : {"fdr_bh", "holm"}
        The correction (:func:`adjust_p`); default :data:`ATTRIBUTE_FAMILY`.
    level : float
        Confidence level: the decisions are taken at ``1 - level``.
    by : str, optional
        Group column: one family per group (rows with a missing group get no ``p_adj``).

    Returns
    -------
    pandas.DataFrame
        A copy with ``p_adj`` right after ``p_value`` (replaced when present) and the
        decisions redone; ``attrs["p_adjust"]`` is ``method`` and ``attrs["level"]`` is ``level``.

    Examples
    --------
    >>> nan = float("nan")  # d: suppressed, so not in the family of three tests
    >>> t = pd.DataFrame({"attribute": list("abcd"), "gap": [-0.4, 0.3, -0.1, nan],
    ...                   "p_value": [0.001, 0.04, 0.3, nan], "flag": ["worse", "better", "level", nan]})
    >>> adjust_family(t)[["attribute", "p_value", "p_adj", "flag"]]  # b: raw p 0.04, BH-adjusted 0.06
      attribute  p_value  p_adj   flag
    0         a    0.001  0.003  worse
    1         b    0.040  0.060  level
    2         c    0.300  0.300  level
    3         d      NaN    NaN    NaN
    """
    z_value(level)
    if "p_value" not in table.columns:
        raise CsmError("adjust_family: the table has no `p_value` column; pass a table of per-attribute tests "
                       f"(columns: {', '.join(map(str, table.columns))})")
    out = table.copy()
    p = pd.to_numeric(out["p_value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    adj = np.full(len(out), np.nan)
    if by is None:
        parts = [np.ones(len(out), dtype=bool)]
    else:
        key = out[by]
        parts = [(key == g).to_numpy(dtype=bool, na_value=False) for g in pd.unique(key[key.notna()])]
    for mask in parts:
        if mask.any():
            adj[mask] = adjust_p(p[mask], method=method)
    if "p_adj" in out.columns:
        out["p_adj"] = adj
    else:
        out.insert(out.columns.get_loc("p_value") + 1, "p_adj", adj)
    alpha = 1 - level
    if "significant" in out.columns:
        out["significant"] = pd.Series([bool(q < alpha) if np.isfinite(q) else None for q in adj],
                                       index=out.index, dtype=object)
    if "flag" in out.columns:
        gap = pd.to_numeric(out["gap"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out["flag"] = pd.Series([(("better" if g > 0 else "worse") if q < alpha else "level")
                                 if isinstance(old, str) else old
                                 for q, g, old in zip(adj, gap, out["flag"], strict=True)],
                                index=out.index, dtype=object)
    out.attrs["p_adjust"] = method
    out.attrs["level"] = level
    return out


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (missing values stay missing): :func:`adjust_p`.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    return adjust_p(p_values, method="holm")
