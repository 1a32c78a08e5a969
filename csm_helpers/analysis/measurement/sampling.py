"""Sample size, margin of error, the sampling table and representativeness (SPEC §1.3): Cochran (1977) §4.4 with the finite-population correction; Pearson's chi-square goodness of fit with Cohen's w."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis.measurement.common import (
    POPULATION_FILE,
    check_level,
    population_rows,
    preview_values,
    require_columns,
    value_codes,
)
from csm_helpers.analysis.stats import get_weights, kish_neff
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _

__all__ = ["sample_size", "margin_of_error", "sampling_table", "representativeness"]


def _check_prop(name: str, value: float) -> None:
    if not (isinstance(value, int | float | np.number) and 0 < float(value) < 1):
        raise CsmError(f"The value for `{name}` must be a proportion strictly between 0 and 1, "
                       f"but {value!r} was passed.")


def _check_population_size(population: float | None) -> float | None:
    if population is None:
        return None
    try:
        big_n = float(population)
    except (TypeError, ValueError):
        raise CsmError(f"The value for `population` must be a number of customers > 0 or None, "
                       f"but {population!r} was passed.") from None
    if not (math.isfinite(big_n) and big_n > 0):
        raise CsmError(f"The value for `population` must be a number of customers > 0 or None, "
                       f"but {population!r} was passed.")
    return big_n


# --------------------------------------------------------------------------- sampling
def sample_size(*, e: float = 0.05, p: float = 0.5, population: float | None = None,
                level: float = 0.95) -> float:
    """Required sample size for a proportion with margin of error ``e`` (SPEC §1.3).

    ``n0 = z^2 p (1 - p) / e^2``; with a finite population ``N`` the correction
    ``n = n0 / (1 + (n0 - 1) / N)`` (Cochran, 1977, *Sampling Techniques*, 3rd ed., §4.4;
    identical to Krejcie & Morgan's 1970 table formula). The result is not rounded: a sample
    size is whole respondents, rounded **up** (:func:`sampling_table` does), never to the
    nearest — 381.35 respondents are not enough with 381.

    Parameters
    ----------
    e : float
        Target margin of error (half-width of the interval), as a proportion (0.05 = ±5 points).
    p : float
        Assumed proportion; 0.5 (the default) gives the largest, safest size.
    population : float, optional
        Population size ``N``; None for an infinite population (no correction).
    level : float
        Confidence level (0.95: z = 1.96).

    Returns
    -------
    float

    Examples
    --------
    >>> round(sample_size(), 2)
    384.15
    >>> round(sample_size(population=1000), 2)
    277.73
    """
    _check_prop("e", e)
    _check_prop("p", p)
    big_n = _check_population_size(population)
    z = check_level(level)
    n0 = z**2 * p * (1 - p) / e**2
    if big_n is None:
        return float(n0)
    return float(n0 / (1 + (n0 - 1) / big_n))


def margin_of_error(*, n: float, population: float | None = None, p: float = 0.5,
                    level: float = 0.95) -> float:
    """Achieved margin of error of a proportion: ``z sqrt(p(1-p)/n) sqrt((N-n)/(N-1))`` (SPEC §1.3).

    Cochran (1977), *Sampling Techniques*, 3rd ed., §3.4 and §4.4. ``n`` may be an effective
    sample size (Kish's n_eff) and need not be whole.

    Parameters
    ----------
    n : float
        Number of responses (> 0).
    population : float, optional
        Population size ``N`` (>= n); None for no finite-population correction.
    p : float
        Assumed proportion (0.5: the largest margin).
    level : float
        Confidence level.

    Returns
    -------
    float
        0 when the whole population answered.

    Examples
    --------
    >>> round(margin_of_error(n=400), 4)
    0.049
    >>> round(margin_of_error(n=400, population=2000), 4)
    0.0438
    """
    _check_prop("p", p)
    z = check_level(level)
    try:
        nf = float(n)
    except (TypeError, ValueError):
        raise CsmError(f"The value for `n` must be a number of responses > 0, but {n!r} was passed.") from None
    if not (math.isfinite(nf) and nf > 0):
        raise CsmError(f"The value for `n` must be a number of responses > 0, but {n!r} was passed.")
    big_n = _check_population_size(population)
    moe = z * math.sqrt(p * (1 - p) / nf)
    if big_n is None:
        return float(moe)
    if nf > big_n:
        raise CsmError(f"{nf:g} responses from a population of {big_n:g}: the sample cannot be larger than "
                       f"the population — check the population size ({POPULATION_FILE})")
    if nf >= big_n or big_n <= 1:
        return 0.0
    return float(moe * math.sqrt((big_n - nf) / (big_n - 1)))


def _sample_counts(data: pd.DataFrame, by: str, pop: pd.DataFrame) -> np.ndarray:
    """Respondents per population value; DataError for sample values not in the population table."""
    check_frame(data)
    require_columns(data, [by], what="data", fix="pass the name of a segment column of the responses")
    codes, found = value_codes(data[by])
    known = set(pop["key"])
    extra = sorted(k for k in found if k not in known)
    if extra:
        raise DataError(
            f"column {by!r} has the value {preview_values(extra)} that {POPULATION_FILE} does not list for segment "
            f"{by!r} (it lists {preview_values(pop['key'].tolist(), 10)}) — add a row '{by},{extra[0]},<population>' "
            f"to {POPULATION_FILE} or fix the value in the data"
        )
    counts = dict(zip(found, np.bincount(codes[codes >= 0], minlength=len(found)), strict=True))
    return np.array([int(counts.get(k, 0)) for k in pop["key"]], dtype=float)


def sampling_table(data: pd.DataFrame, *, by: str, population: pd.DataFrame, e: float = 0.05,
                   p: float = 0.5, level: float = 0.95, weights: str | None = None, wave: str | None = None,
                   received: pd.DataFrame | None = None) -> pd.DataFrame:
    """Required and achieved sample size, margin of error and response rate per segment value.

    Per value of ``by`` in the population table (in its order) and for the total
    (``value="all"``): required n for the target margin ``e`` with the finite-population
    correction (:func:`sample_size`, rounded **up** to whole respondents: 381.35 needs 382),
    the margin achieved by the responses (:func:`margin_of_error`) and the response rate
    ``received / invited`` (SPEC §1.3).

    The achieved margin is the precision of the estimates the reports publish, so ``data``
    should be the responses they use — after the data-quality exclusions — and it is computed
    on Kish's effective sample size ``n_eff = (sum w)^2 / sum w^2`` of each group when
    ``weights`` are given (Kish, L. (1965). *Survey Sampling*, Wiley, §11.7): weighting costs
    precision, and the unweighted count overstates it. With ``wave`` (the wave column) it is
    given for each wave separately, since every wave is reported on its own; the response rate
    uses ``received`` (every response received, before the exclusions, all waves; default
    ``data``), because the invitations of the population table cover the whole study.

    Counts of respondents are not statistics of answers, so no row is suppressed; a small
    segment shows as one that misses its target.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses the estimates use (one row per respondent).
    by : str
        Segment column; the population table must have rows with ``segment == by``.
    population : pandas.DataFrame
        The population table (``segment, value, population[, invited]``).
    e, p, level : float
        Target margin of error, assumed proportion and confidence level.
    weights : str, optional
        Column of survey weights: the margin uses each group's Kish n_eff.
    wave : str, optional
        Wave column: one block of rows per wave (oldest first), each with its own total.
    received : pandas.DataFrame, optional
        Every response received, for the response rate (default: ``data``).

    Returns
    -------
    pandas.DataFrame
        Columns ``segment, wave, value, population, invited, received, response_rate, responses,
        n_eff, required_n, achieved_moe, target_moe, meets_target``. ``wave`` is missing
        without ``wave``; ``invited`` and ``response_rate`` are NaN without an ``invited``
        column; ``achieved_moe`` is NaN with no responses. The total row counts every
        respondent, also those with no ``by`` value; its ``invited`` is NaN unless every value
        has one.

    Raises
    ------
    DataError
        When the population table lacks the segment, a value of the data is not in it, or a
        segment has more responses than customers (or than invitations).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> t = sampling_table(read_dataset("responses"), by="channel", population=read_dataset("population"))
    >>> t["value"].tolist(), int(t["responses"].iloc[-1]), bool(t["meets_target"].all())
    (['branch', 'digital', 'all'], 2400, True)
    >>> int(t["required_n"].iloc[-1])  # N = 180,000 customers: 383.3 rounded up
    384
    >>> w = sampling_table(read_dataset("responses"), by="channel", population=read_dataset("population"),
    ...                    wave="wave")
    >>> w["wave"].unique().tolist(), int(w["received"].iloc[-1]), int(w["responses"].iloc[-1])
    (['2025-H2', '2026-H1'], 2400, 1193)
    """
    _check_prop("e", e)
    _check_prop("p", p)
    check_level(level)
    pop = population_rows(population, by)
    got = _sample_counts(received if received is not None else data, by, pop)
    invited_total = float(pop["invited"].sum()) if pop["invited"].notna().all() else np.nan
    n_received = float(len(received if received is not None else data))
    if wave is None:
        blocks: list[tuple[Any, pd.DataFrame]] = [(None, data)]
    else:
        require_columns(data, [wave], what="data", fix="pass the wave column of the responses")
        labels = data[wave].astype("string")
        blocks = [(w_, data.loc[(labels == w_).to_numpy(dtype=bool, na_value=False)])
                  for w_ in sorted(labels.dropna().unique())]
    rows = []
    for wave_label, part in blocks:
        responses = _sample_counts(part, by, pop)
        w_all = get_weights(part, weights)
        codes, found = value_codes(part[by], pop["key"].tolist())
        n_eff = []
        for i in range(len(pop)):
            wi = w_all[codes == i]
            n_eff.append(kish_neff(wi) if len(wi) and wi.sum() > 0 else 0.0)
        n_eff.append(kish_neff(w_all) if len(w_all) and w_all.sum() > 0 else 0.0)
        table = pd.DataFrame({
            "value": [*pop["value"].tolist(), N_("all")],
            "population": [*pop["population"].tolist(), float(pop["population"].sum())],
            "invited": [*pop["invited"].tolist(), invited_total],
            "received": [*got.tolist(), n_received],
            "responses": [*responses.tolist(), float(len(part))],
            "n_eff": n_eff if weights is not None else [*responses.tolist(), float(len(part))],
        })
        for r in table.itertuples(index=False):
            name = "the total" if r.value == "all" else f"{by}={r.value!r}"
            if r.received > r.population or r.responses > r.population:
                raise DataError(f"{POPULATION_FILE}: {name} has {max(r.received, r.responses):g} responses but a "
                                f"population of {r.population:g} — check the population of that segment value")
            if np.isfinite(r.invited) and r.received > r.invited:
                raise DataError(f"{POPULATION_FILE}: {name} has {r.received:g} responses but only {r.invited:g} "
                                "invited — check the invited count of that segment value")
            req = math.ceil(sample_size(e=e, p=p, population=r.population, level=level) - 1e-9)
            moe = (margin_of_error(n=min(r.n_eff, r.population), population=r.population, p=p, level=level)
                   if r.n_eff > 0 else np.nan)
            rate = r.received / r.invited if np.isfinite(r.invited) and r.invited > 0 else np.nan
            rows.append({"segment": by, "wave": wave_label, "value": r.value, "population": r.population,
                         "invited": r.invited, "received": int(r.received), "response_rate": rate,
                         "responses": int(r.responses), "n_eff": float(r.n_eff), "required_n": req,
                         "achieved_moe": moe, "target_moe": float(e),
                         "meets_target": bool(np.isfinite(moe) and moe <= e * (1 + 1e-12))})
    return pd.DataFrame(rows)


def representativeness(data: pd.DataFrame, *, by: str,
                       population: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Chi-square goodness of fit of the sample's mix of ``by`` against the population mix.

    Expected counts are ``n x population share``; the test is Pearson's chi-square
    (``scipy.stats.chisquare``) with ``k - 1`` degrees of freedom, and the effect size Cohen's
    ``w = sqrt(chi2 / n)`` (0.1 small, 0.3 medium, 0.5 large; Cohen, 1988, ch. 7). Respondents
    with no ``by`` value are left out. Population values nobody in the sample has count as
    0 observed.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    by : str
        Segment column; the population table must have rows with ``segment == by``.
    population : pandas.DataFrame
        The population table (``segment, value, population``).

    Returns
    -------
    (pandas.DataFrame, dict)
        Per value (population-table order): ``value, sample_n, sample_share, population,
        population_share, expected_n, difference`` (sample share - population share) and
        ``residual`` (Pearson residual ``(O - E) / sqrt(E)``). The test dict: ``variable, chi2,
        dof, p_value, n, cohens_w, method`` and ``note`` (a warning when an expected count is
        below 5, in the report language, else ``""``).

    Raises
    ------
    DataError
        When the data has a value of ``by`` that the population table does not list (the
        message names population.csv and the value), or the table lacks the segment.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> per_value, test = representativeness(read_dataset("responses"), by="channel",
    ...                                      population=read_dataset("population"))
    >>> per_value[["value", "population_share", "expected_n"]]
         value  population_share  expected_n
    0   branch              0.55      1320.0
    1  digital              0.45      1080.0
    >>> test["dof"], test["p_value"] < 0.001  # the sample over-represents digital customers
    (1, True)
    """
    pop = population_rows(population, by)
    observed = _sample_counts(data, by, pop)
    n = float(observed.sum())
    if n == 0:
        raise DataError(f"column {by!r}: no respondent has a value — nothing to compare with {POPULATION_FILE}")
    pshare = pop["population"].to_numpy(float) / pop["population"].sum()
    expected = n * pshare
    res = _st.chisquare(observed, expected)
    chi2 = float(res.statistic)
    low = int(np.sum(expected < 5))
    per_value = pd.DataFrame({
        "value": pop["value"].to_numpy(dtype=object),
        "sample_n": observed.astype(int),
        "sample_share": observed / n,
        "population": pop["population"].to_numpy(float),
        "population_share": pshare,
        "expected_n": expected,
        "difference": observed / n - pshare,
        "residual": (observed - expected) / np.sqrt(expected),
    })
    test = {
        "variable": by,
        "chi2": chi2,
        "dof": len(pop) - 1,
        "p_value": float(res.pvalue),
        "n": int(n),
        "cohens_w": math.sqrt(chi2 / n),
        "method": N_("Pearson chi-square goodness of fit against the population mix (scipy.stats.chisquare)"),
        "note": (_("expected count below 5 for {low} value(s): the chi-square approximation is doubtful", low=low)
                 if low else ""),
    }
    return per_value, test
