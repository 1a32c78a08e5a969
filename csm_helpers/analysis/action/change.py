"""Attribute change between waves: Welch's t on the reported base, BH-adjusted across the attribute family."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from csm_helpers.analysis import kpis, stats
from csm_helpers.core.checks import check_frame, check_int, require_column
from csm_helpers.core.errors import CsmError

__all__ = ["attribute_change"]


# --------------------------------------------------------------------------- attribute trends
def _half_width(r: Mapping[str, float], level: float) -> float:
    se, df = r.get("se", math.nan), r.get("df", math.nan)
    if not (math.isfinite(se) and math.isfinite(df) and df > 0):
        return 0.0 if se == 0 else math.nan
    return float(student_t.ppf(1 - (1 - level) / 2, df) * se)


def attribute_change(data: pd.DataFrame, *, wave: str, previous: Any, latest: Any, attributes: Mapping[str, str],
                     weights: str | None = None, level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Each attribute's mean performance in two waves and Welch's t-test of the change.

    The waves are independent samples; ``change = latest - previous`` with Welch's t-test
    (:func:`csm_helpers.analysis.kpis.welch_t`; as ``scipy.stats.ttest_ind(..., equal_var=False)``).
    With weights: weighted means and variances (:func:`csm_helpers.analysis.stats.weighted_var`) on
    Kish's effective n. Available cases per attribute and wave. ``p_adj`` is the
    Benjamini–Hochberg adjusted p over the attributes (:data:`csm_helpers.analysis.stats.ATTRIBUTE_FAMILY`:
    twelve attributes tested at 5 % would show a "significant" change by chance alone);
    ``significant`` is ``p_adj < 1 - level``. An attribute with fewer than ``min_n`` answers in
    either wave is suppressed (only the two n's remain) and left out of the family.

    Welch, B. L. (1947). *Biometrika*, 34, 28–35.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, both waves. Not modified.
    wave : str
        The wave column.
    previous, latest
        The two waves (values of ``wave``).
    attributes : mapping
        Attribute id -> performance column (e.g. ``{a.id: a.performance for a in study.attributes}``).
    weights, level, min_n
        As in :func:`csm_helpers.analysis.kpis.csat`.

    Returns
    -------
    pandas.DataFrame
        One row per attribute: ``attribute``, ``wave_previous``, ``wave_latest``, ``n_previous``,
        ``n_latest``, ``previous``, ``latest`` (means), ``change`` with its Welch interval
        ``ci_low``, ``ci_high`` (``change ± t_{df} · se``, unadjusted), ``t``, ``df``, ``p_value``,
        ``p_adj``, ``significant`` (True/False; None when undefined or suppressed), ``suppressed``.
        ``attrs``: ``p_adjust`` (the correction, ``"fdr_bh"``) and ``level``.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> ch = attribute_change(read_dataset("responses"), wave="wave", previous="2025-H2", latest="2026-H1",
    ...                       attributes={"app_reliability": "perf_app_reliability"})
    >>> bool(ch.loc[0, "change"] > 0), bool(ch.loc[0, "significant"])
    (True, True)
    """
    check_frame(data, "attribute_change")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    require_column(data, wave, role="wave")
    if not isinstance(attributes, Mapping) or not attributes:
        raise CsmError(f"The value for `attributes` must be a non-empty mapping attribute id -> column, but "
                       f"{attributes!r} was passed.")
    found = set(data[wave].dropna().unique().tolist())
    for name, value in (("previous", previous), ("latest", latest)):
        if value not in found:
            shown = ", ".join(sorted(map(str, found))[:10]) or "none"
            raise CsmError(f"{name} wave {value!r} is not a value of column {wave!r} (found: {shown}) — pass one "
                           "of these")
    w = stats.get_weights(data, weights)
    masks = {k: (data[wave] == v).to_numpy(dtype=bool, na_value=False) for k, v in
             (("previous", previous), ("latest", latest))}
    rows = []
    for attr, col in attributes.items():
        require_column(data, col, role=f"performance of {attr!r}")
        x = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        est = {}
        for key, m in masks.items():
            ok = m & np.isfinite(x) & (w > 0)
            xs, ws = x[ok], w[ok]
            n = int(ok.sum())
            est[key] = {"n": n, "mean": stats.weighted_mean(xs, ws) if n else math.nan,
                        "var": stats.weighted_var(xs, ws) if n > 1 else math.nan,
                        "neff": stats.kish_neff(ws) if n else 0.0}
        a, b = est["previous"], est["latest"]
        r = kpis.welch_t(b["mean"], b["var"], b["neff"], a["mean"], a["var"], a["neff"])
        small = a["n"] < min_n or b["n"] < min_n
        p = r["p_value"]
        row = {"attribute": str(attr), "wave_previous": previous, "wave_latest": latest, "n_previous": a["n"],
               "n_latest": b["n"], "previous": a["mean"], "latest": b["mean"], "change": b["mean"] - a["mean"],
               "ci_low": b["mean"] - a["mean"] - _half_width(r, level),
               "ci_high": b["mean"] - a["mean"] + _half_width(r, level),
               "t": r["t"], "df": r["df"], "p_value": p,
               "significant": bool(p < 1 - level) if math.isfinite(p) else None, "suppressed": small}
        if small:
            for c in ("previous", "latest", "change", "ci_low", "ci_high", "t", "df", "p_value"):
                row[c] = math.nan
            row["significant"] = None
        rows.append(row)
    # p_adj over the tested attributes; `significant` is decided on it
    return stats.adjust_family(pd.DataFrame(rows), method=stats.ATTRIBUTE_FAMILY, level=level)
