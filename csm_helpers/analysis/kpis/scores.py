"""The headline KPIs (SPEC §1.4): CSAT (top-2-box share), CSI (0–100) and NPS (−100 to +100), per group, weighted or not, with their intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis import stats
from csm_helpers.analysis.kpis.common import (
    check_by,
    check_top_box,
    finish_table,
    group_positions,
    rating_array,
    scale_bounds,
)
from csm_helpers.analysis.kpis.intervals import mean_ci, wilson_interval
from csm_helpers.core.checks import check_frame, check_int
from csm_helpers.core.errors import CsmError

__all__ = ["KPI_NAMES", "csat", "csi_scores", "csi_table", "csi", "nps", "csi_items"]


#: The headline KPIs, in the order every table lists them (metrics.json ``kpis`` keys, SPEC §3).
KPI_NAMES = ("csat_top2", "csi", "nps")


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
    lo, hi, top_box = check_top_box(top_box, scale, item)
    min_n = check_int(min_n, "min_n", minimum=0)
    stats.z_value(level)
    cols = ["n", "n_eff", "value", "ci_low", "ci_high", "bottom2", "mean"]
    check_by(by, [*cols, "suppressed"])
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
    return finish_table(rows, ([by] if by else []) + cols, by=by, min_n=min_n)


# --------------------------------------------------------------------------- CSI
def csi_scores(data: pd.DataFrame, items: Sequence[str], scales: Mapping[str, Any]) -> np.ndarray:
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


def csi_table(scores: np.ndarray, data: pd.DataFrame, *, weights: str | None, by: str | None,
               level: float, n_boot: int, seed: int, min_n: int) -> pd.DataFrame:
    w = stats.get_weights(data, weights)
    rows = []
    for label, pos in group_positions(data, by):
        row = mean_ci(scores[pos], w[pos], weighted=weights is not None, level=level, n_boot=n_boot, seed=seed)
        # a (weighted) mean of scores in [0, 100] lies in [0, 100]; clip the last-bit rounding
        # of sum(w x) / sum(w) (one respondent at 100 with weight 0.9 gave 100.00000000000001)
        for key in ("value", "ci_low", "ci_high"):
            if isinstance(row.get(key), float) and math.isfinite(row[key]):
                row[key] = min(100.0, max(0.0, row[key]))
        rows.append(row if by is None else {by: label, **row})
    cols = ["n", "n_eff", "value", "ci_low", "ci_high", "method"]
    return finish_table(rows, ([by] if by else []) + cols, by=by, min_n=min_n)


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
    check_by(by, ["n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"])
    scores = csi_scores(data, items, scales)
    return csi_table(scores, data, weights=weights, by=by, level=level, n_boot=n_boot, seed=seed, min_n=min_n)


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
    check_by(by, [*cols, "suppressed"])
    x = rating_array(data, item, (0.0, 10.0), whole=True)
    w = stats.get_weights(data, weights)
    rows = []
    for label, pos in group_positions(data, by):
        row = _nps_row(x[pos], w[pos], level=level)
        rows.append(row if by is None else {by: label, **row})
    return finish_table(rows, ([by] if by else []) + cols, by=by, min_n=min_n)


# --------------------------------------------------------------------------- CSI items
def csi_items(overall: str, satisfaction_items: Sequence[str] | None) -> list[str]:
    if isinstance(satisfaction_items, str):
        satisfaction_items = [satisfaction_items]
    return list(dict.fromkeys([overall, *(satisfaction_items or [])]))
