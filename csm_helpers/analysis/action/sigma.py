"""Six-sigma levels of a defect rate and of the service (Harry & Schroeder 2000, 1.5σ shift)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis.action.common import as_float
from csm_helpers.core.checks import check_int
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_

__all__ = ["sigma_level", "service_sigma"]


_SIX_SIGMA_SHIFT = 1.5


# --------------------------------------------------------------------------- sigma
def sigma_level(*, defects: float, units: float, opportunities: float = 1) -> dict[str, float]:
    """Defects per million opportunities and the Six Sigma level (SPEC §1.5).

    ``DPMO = defects / (units x opportunities) x 10^6`` and
    ``sigma = Phi^-1(1 - DPMO / 10^6) + 1.5``, the conventional 1.5-sigma long-term shift, so
    that 3.4 DPMO is 6 sigma, 66,807 DPMO 3 sigma and 308,538 DPMO 2 sigma. No defect gives
    ``sigma = inf``; every opportunity a defect gives ``-inf``.

    Harry, M. J. (1988). *The Nature of Six Sigma Quality*. Motorola University Press.
    Breyfogle, F. W. (2003). *Implementing Six Sigma*, 2nd ed. Wiley, ch. 1 (DPMO-to-sigma table).

    Parameters
    ----------
    defects : float
        Defects counted (>= 0).
    units : float
        Units inspected (> 0): customers, complaints, transactions.
    opportunities : float
        Opportunities for a defect per unit (> 0).

    Returns
    -------
    dict
        ``defects``, ``units``, ``opportunities``, ``dpmo``, ``yield`` (``1 - DPMO/10^6``)
        and ``sigma``.

    Raises
    ------
    CsmError
        When units or opportunities are not positive, defects negative, or more defects than
        opportunities.

    Examples
    --------
    >>> r = sigma_level(defects=66_807, units=1_000_000)
    >>> round(r["dpmo"]), round(r["sigma"], 2)
    (66807, 3.0)
    >>> round(sigma_level(defects=34, units=10_000_000)["sigma"], 2)
    6.0
    """
    vals = {}
    for name, v in (("defects", defects), ("units", units), ("opportunities", opportunities)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not math.isfinite(v):
            raise CsmError(f"sigma_level: `{name}` must be a finite number, but {v!r} was passed.")
        vals[name] = float(v)
    if vals["units"] <= 0:
        raise CsmError(f"sigma_level: `units` must be > 0 (units inspected), but {units!r} was passed.")
    if vals["opportunities"] <= 0:
        raise CsmError(f"sigma_level: `opportunities` must be > 0 per unit, but {opportunities!r} was passed.")
    if vals["defects"] < 0:
        raise CsmError(f"sigma_level: `defects` must be >= 0, but {defects!r} was passed.")
    total = vals["units"] * vals["opportunities"]
    if vals["defects"] > total:
        raise CsmError(f"sigma_level: {vals['defects']:g} defects exceed the {total:g} opportunities "
                       f"(units {vals['units']:g} x opportunities {vals['opportunities']:g}) — check the counts, "
                       "or count the opportunities per unit")
    rate = vals["defects"] / total
    sigma = float(_st.norm.ppf(1.0 - rate)) + _SIX_SIGMA_SHIFT
    return {**vals, "dpmo": rate * 1e6, "yield": 1.0 - rate, "sigma": sigma}


def service_sigma(source: Mapping[str, Any], *, units: float | None = None, opportunities: float = 1,
                  min_n: int = 5) -> pd.DataFrame:
    """Service quality in sigma terms from the complaint summary or from counts (SPEC §1.5).

    ``source`` is either

    - the dict of :func:`csm_helpers.analysis.complaints.complaint_summary`, giving two measures:

      * "Valid complaints per customer": defects = valid complaints (all complaints when
        validity is not recorded: "Complaints per customer"), units = ``units`` (the customer
        base; default the summary's ``customers``), opportunities = ``opportunities``; left
        out when the customer base is unknown;
      * "Complaints outside SLA": defects = complaints resolved later than their SLA plus open
        complaints already older than their SLA, units = the complaints whose SLA outcome is
        known (resolved, or open beyond the SLA), one opportunity each; left out when the log
        has no dates;

    - or a mapping ``measure -> (defects, units)`` or ``(defects, units, opportunities)``.

    Each row is :func:`sigma_level`. A measure with fewer than ``min_n`` units, or from a
    suppressed complaint summary, keeps its name with every number missing (SPEC §4).

    Returns
    -------
    pandas.DataFrame
        Columns ``measure, defects, units, opportunities, dpmo, sigma, suppressed``.

    Examples
    --------
    >>> service_sigma({"Wrong transactions": (12, 40_000, 1)})[["measure", "dpmo"]]
                  measure   dpmo
    0  Wrong transactions  300.0
    """
    if not isinstance(source, Mapping):
        raise CsmError(f"service_sigma: pass the complaint_summary() dict or a mapping measure -> (defects, units), "
                       f"but {type(source).__name__} was passed")
    min_n = check_int(min_n, "min_n", minimum=0)
    measures: list[tuple[str, float, float, float, bool]] = []
    if "n_complaints" in source:
        supp = bool(source.get("suppressed", False))
        n_valid = as_float(source.get("n_valid"))
        customers = as_float(units) if units is not None else as_float(source.get("customers"))
        # measure names stay in English in the table; the display step translates them
        name = N_("Valid complaints per customer") if math.isfinite(n_valid) else N_("Complaints per customer")
        defects = n_valid if math.isfinite(n_valid) else as_float(source["n_complaints"])
        if math.isfinite(customers):
            measures.append((name, defects, customers, float(opportunities), supp))
        n_res, share = as_float(source.get("n_resolved")), as_float(source.get("share_within_sla"))
        over = as_float(source.get("n_open_over_sla"))
        if supp or (math.isfinite(n_res) and math.isfinite(share)):
            late = n_res - round(share * n_res) if not supp else math.nan
            over = over if math.isfinite(over) else 0.0
            measures.append((N_("Complaints outside SLA"), late + over, n_res + over, 1.0, supp))
    else:
        for name, counts in source.items():
            if isinstance(counts, str) or not isinstance(counts, Sequence) or len(counts) not in (2, 3):
                raise CsmError(f"service_sigma: the entry of {name!r} must be (defects, units) or (defects, units, "
                               f"opportunities), but {counts!r} was passed")
            d, u, *o = counts
            measures.append((str(name), d, u, o[0] if o else opportunities, False))
    rows = []
    for name, d, u, o, supp in measures:
        small = supp or not math.isfinite(as_float(u)) or as_float(u) < min_n
        if small:
            rows.append({"measure": name, "defects": math.nan, "units": math.nan, "opportunities": math.nan,
                         "dpmo": math.nan, "sigma": math.nan, "suppressed": True})
            continue
        r = sigma_level(defects=d, units=u, opportunities=o)
        rows.append({"measure": name, "defects": r["defects"], "units": r["units"],
                     "opportunities": r["opportunities"], "dpmo": r["dpmo"], "sigma": r["sigma"],
                     "suppressed": False})
    return pd.DataFrame(rows, columns=["measure", "defects", "units", "opportunities", "dpmo", "sigma", "suppressed"])
