"""Tests between two groups or waves: two-proportion z, the NPS difference z, Welch's t."""

from __future__ import annotations

import math

from scipy import stats as _st

from csm_helpers.core.errors import CsmError

__all__ = ["two_proportion_z", "nps_difference_z", "welch_t"]


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
