"""Stage 03 (measurement) helpers: sampling, representativeness, raking, data quality,
reliability and answer distributions (SPEC §1.3).

Every function takes the data first and everything else by keyword, never modifies the
caller's frame, computes at full precision (rounding is the display's job) and returns a
tidy DataFrame with the columns its docstring lists (or a documented dict/tuple).

The population table is the study's ``population.csv`` in long format, one row per segment
value: ``segment, value, population`` and optionally ``invited`` (how many customers of that
segment value were invited to the survey). Segment values are matched to the data's values
as text (``1`` and ``"1"`` and ``1.0`` are the same value).

Formulas and their sources:

- sample size and margin of error: Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed.,
  Wiley, §4.4 (the finite-population correction gives the same numbers as the table of
  Krejcie, R. V., & Morgan, D. W. (1970). Determining sample size for research activities.
  *Educational and Psychological Measurement*, 30, 607–610);
- representativeness: Pearson's chi-square goodness of fit (``scipy.stats.chisquare``) with
  Cohen's w = sqrt(chi2 / n) (Cohen, J. (1988). *Statistical Power Analysis for the
  Behavioral Sciences*, 2nd ed., ch. 7);
- raking: iterative proportional fitting, Deming, W. E., & Stephan, F. F. (1940). On a least
  squares adjustment of a sampled frequency table when the expected marginal totals are
  known. *Annals of Mathematical Statistics*, 11(4), 427–444;
- effective sample size and design effect: Kish, L. (1965). *Survey Sampling*, Wiley, §11.7;
- Cronbach's alpha with Feldt's confidence interval, as ``pingouin.cronbach_alpha``:
  Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
  *Psychometrika*, 16(3), 297–334; Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987).
  Statistical inference for coefficient alpha. *Applied Psychological Measurement*, 11(1),
  93–103.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.analysis.stats import WEIGHT_COLUMN, get_weights, kish_neff, z_value
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.study.config import DIMENSIONS, Study

__all__ = [
    "POPULATION_FILE",
    "DUPLICATE_MIN_ITEMS",
    "EXCLUSIONS",
    "RELIABILITY_MIN_N",
    "DUPLICATE_CHANCE_PAIRS",
    "exclusion_sensitivity",
    "sample_size",
    "margin_of_error",
    "sampling_table",
    "representativeness",
    "margins_from_population",
    "rake",
    "weight_summary",
    "weights_table",
    "study_weights",
    "quality_flags",
    "quality_summary",
    "quality_display",
    "missing_by_item",
    "apply_exclusions",
    "study_dimensions",
    "reliability",
    "item_analysis",
    "likert_distribution",
]

#: How the population table is named in messages (the study key ``population``).
POPULATION_FILE = "population.csv"

#: Fewest answered rated items for two respondents with identical answers to count as
#: duplicates: shorter answer vectors coincide by chance too often (4 items on a 1-7 scale
#: give 2401 patterns: in 60 respondents two share one about half the time).
DUPLICATE_MIN_ITEMS = 10

#: Names accepted by ``exclude`` (``measurement.exclude`` in study.yaml) -> flag columns of
#: :func:`quality_flags`. The flag column names themselves are accepted too.
EXCLUSIONS: dict[str, str] = {
    "speeders": "speeder",
    "straightliners": "straightliner",
    "extreme_straightliners": "straightliner_extreme",
    "duplicates": "duplicate",
    "out_of_range": "out_of_range",
}

#: A shared answer vector is a suspect copy only when fewer than this many pairs of respondents
#: would share it by chance (see :func:`quality_flags`).
DUPLICATE_CHANCE_PAIRS = 0.05

_FLAG_COLUMNS = ("out_of_range", "straightliner", "speeder", "duplicate_id", "duplicate_answers", "duplicate")

#: Check names shown in the ``check`` column of :func:`quality_summary` (marked for the catalogs;
#: the table keeps them as they are, the display step translates them).
_CHECK_WORDS = (N_("out_of_range"), N_("straightliner"), N_("straightliner_extreme"), N_("speeder"), N_("duplicate_id"),
                N_("duplicate_answers"), N_("excluded"))


def _both(msgid: str, **values: Any) -> tuple[str, str]:
    """``(English, report language)`` of a message: tables keep English for metrics.json."""
    return msgid.format(**values), _(msgid, **values)


# --------------------------------------------------------------------------- small helpers

def _require_columns(data: pd.DataFrame, columns: Sequence[str], *, what: str, fix: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = ", ".join(map(str, list(data.columns)[:15])) + (" ..." if data.shape[1] > 15 else "")
        raise DataError(f"{what}: column {', '.join(repr(c) for c in missing)} is missing "
                        f"(found: {shown or 'no columns'}) — {fix}")


def _key(value: Any) -> str | None:
    """A segment value as text for matching (None when missing); 2.0 -> '2'."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _keys(s: pd.Series) -> pd.Series:
    """:func:`_key` of every cell (object Series, None where missing); one call per distinct value."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([_key(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def _key_codes(s: pd.Series, keys: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Each cell's :func:`_key` as a position: ``(codes, keys)`` with ``codes`` -1 where missing.

    Without ``keys`` they are the distinct keys of ``s`` in order of appearance; with ``keys``
    a key not among them gets -2. One :func:`_key` call per distinct value, no text per row.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    ukeys = [_key(u) for u in uniques]
    if keys is None:
        keys = list(dict.fromkeys(k for k in ukeys if k is not None))
    where = {k: i for i, k in enumerate(keys)}
    lookup = np.array([-1 if k is None else where.get(k, -2) for k in ukeys] + [-1], dtype=np.int64)
    return lookup[codes], list(keys)


def _list(values: Sequence[Any], limit: int = 5) -> str:
    vals = [repr(v) for v in values]
    return ", ".join(vals[:limit]) + (f" (+{len(vals) - limit} more)" if len(vals) > limit else "")


def _check_level(level: float) -> float:
    return z_value(level)  # raises CsmError for a level outside (0, 1)


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


def _numeric(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(values, not_a_number)``: float values (NaN when missing or not a number)."""
    if pd.api.types.is_bool_dtype(s):
        return np.full(len(s), np.nan), s.notna().to_numpy()
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiu":  # numbers already: no parsing
        values = s.to_numpy(dtype=float)
        bad = np.isinf(values)
        return (np.where(bad, np.nan, values) if bad.any() else values), bad
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    bad = s.notna().to_numpy() & ~np.isfinite(values)
    if not pd.api.types.is_numeric_dtype(s):
        text = s.astype(object).map(lambda v: isinstance(v, str) and v.strip() == "").to_numpy(dtype=bool)
        bad &= ~text
    return np.where(bad, np.nan, values), bad


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
    z = _check_level(level)
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
    z = _check_level(level)
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


def _population_rows(population: pd.DataFrame, segment: str) -> pd.DataFrame:
    """Rows of one segment of the population table, checked: value key, population, invited."""
    check_frame(population, POPULATION_FILE)
    _require_columns(population, ["segment", "value", "population"], what=POPULATION_FILE,
                     fix="the population table needs the columns segment, value, population "
                         "(and optionally invited), one row per segment value")
    seg = _keys(population["segment"])
    rows = population.loc[(seg == segment).to_numpy()]
    if rows.empty:
        found = sorted({s for s in seg if s is not None})
        raise DataError(
            f"{POPULATION_FILE} has no rows for the segment {segment!r} (segments found: "
            f"{', '.join(found) or 'none'}) — add rows '{segment},<value>,<population>' to {POPULATION_FILE}, "
            "or choose one of its segments"
        )
    keys = _keys(rows["value"])
    if keys.isna().any():
        raise DataError(f"{POPULATION_FILE}, segment {segment!r}: a row has no value — fill in the value or "
                        "remove the row")
    dup = keys[keys.duplicated()].unique().tolist()
    if dup:
        raise DataError(f"{POPULATION_FILE}, segment {segment!r}: the value {_list(dup)} appears on more than "
                        "one row — give each value one row")
    pop = pd.to_numeric(rows["population"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop <= 0)
    if bad.any():
        raise DataError(f"{POPULATION_FILE}, segment {segment!r}: population of {_list(keys[bad].tolist())} is "
                        f"{_list(rows['population'][bad].tolist())} — each population must be a number > 0")
    invited = np.full(len(rows), np.nan)
    if "invited" in rows.columns:
        invited = pd.to_numeric(rows["invited"], errors="coerce").to_numpy(dtype=float)
        given = rows["invited"].notna().to_numpy()
        badi = given & (~np.isfinite(invited) | (invited < 0))
        if badi.any():
            raise DataError(f"{POPULATION_FILE}, segment {segment!r}: invited of {_list(keys[badi].tolist())} is "
                            f"{_list(rows['invited'][badi].tolist())} — it must be a number >= 0 or empty")
    return pd.DataFrame({"value": rows["value"].to_numpy(dtype=object), "key": keys.to_numpy(dtype=object),
                         "population": pop, "invited": invited})


def _sample_counts(data: pd.DataFrame, by: str, pop: pd.DataFrame) -> np.ndarray:
    """Respondents per population value; DataError for sample values not in the population table."""
    check_frame(data)
    _require_columns(data, [by], what="data", fix="pass the name of a segment column of the responses")
    codes, found = _key_codes(data[by])
    known = set(pop["key"])
    extra = sorted(k for k in found if k not in known)
    if extra:
        raise DataError(
            f"column {by!r} has the value {_list(extra)} that {POPULATION_FILE} does not list for segment "
            f"{by!r} (it lists {_list(pop['key'].tolist(), 10)}) — add a row '{by},{extra[0]},<population>' "
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
    _check_level(level)
    pop = _population_rows(population, by)
    got = _sample_counts(received if received is not None else data, by, pop)
    invited_total = float(pop["invited"].sum()) if pop["invited"].notna().all() else np.nan
    n_received = float(len(received if received is not None else data))
    if wave is None:
        blocks: list[tuple[Any, pd.DataFrame]] = [(None, data)]
    else:
        _require_columns(data, [wave], what="data", fix="pass the wave column of the responses")
        labels = data[wave].astype("string")
        blocks = [(w_, data.loc[(labels == w_).to_numpy(dtype=bool, na_value=False)])
                  for w_ in sorted(labels.dropna().unique())]
    rows = []
    for wave_label, part in blocks:
        responses = _sample_counts(part, by, pop)
        w_all = get_weights(part, weights)
        codes, found = _key_codes(part[by], pop["key"].tolist())
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
    pop = _population_rows(population, by)
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


# --------------------------------------------------------------------------- weights
def margins_from_population(population: pd.DataFrame, *,
                            segments: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Population shares per segment, the ``margins`` of :func:`rake`.

    Parameters
    ----------
    population : pandas.DataFrame
        The population table (``segment, value, population``).
    segments : sequence of str, optional
        Which segments; default every segment of the table, in table order.

    Returns
    -------
    dict
        ``{segment: {value: share}}``, shares summing to 1 per segment (values as text).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> m = margins_from_population(read_dataset("population"))
    >>> {k: round(v, 2) for k, v in m["channel"].items()}
    {'branch': 0.55, 'digital': 0.45}
    """
    check_frame(population, POPULATION_FILE)
    _require_columns(population, ["segment", "value", "population"], what=POPULATION_FILE,
                     fix="the population table needs the columns segment, value, population")
    if segments is None:
        segments = [s for s in dict.fromkeys(_keys(population["segment"])) if s is not None]
    out: dict[str, dict[str, float]] = {}
    for seg in segments:
        rows = _population_rows(population, seg)
        shares = rows["population"].to_numpy(float) / rows["population"].sum()
        out[seg] = dict(zip(rows["key"].tolist(), shares.tolist(), strict=True))
    return out


def rake(data: pd.DataFrame, *, margins: Mapping[str, Mapping[Any, float]],
         base_weights: str | None = None, max_iter: int = 1000, tol: float = 1e-10) -> pd.Series:
    """Raking weights by iterative proportional fitting (SPEC §1.3).

    Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled
    frequency table when the expected marginal totals are known. *Annals of Mathematical
    Statistics*, 11(4), 427–444.

    Starting from the base weights (or 1), each pass multiplies the weights of every
    respondent in category ``c`` of variable ``v`` by ``target share / weighted share`` of
    ``c``, variable after variable, until every weighted share is within ``tol`` of its
    target. With one variable this is post-stratification. Respondents with no value of a
    variable keep their weight in that variable's step, so its margin holds among the
    respondents whose value is known. The weights are scaled to mean 1 (sum = n).

    Implemented here (vectorised with ``numpy.bincount``) rather than taken from a library:
    ``ipfn`` (last release 2021) works on aggregated tables; ``weightipy`` 0.4 ignores base
    weights, skips empty categories silently and only prints when it does not converge;
    ``samplics`` is archived; ``balance`` pins numpy < 2 on Python 3.11.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    margins : dict
        ``{column: {value: population share or count}}``; each variable's targets are
        normalised to shares. Values are matched as text.
    base_weights : str, optional
        Column of design weights to start from.
    max_iter : int
        Most passes over the variables.
    tol : float
        Largest allowed difference between a weighted share and its target.

    Returns
    -------
    pandas.Series
        The weights, indexed like ``data``, named :data:`csm_helpers.analysis.stats.WEIGHT_COLUMN`.

    Raises
    ------
    DataError
        When a column is missing, a margin is not a positive number, or the data has a value
        the margins do not list.
    CsmError
        When a category with a positive target has no respondent (raking is impossible:
        collapse categories), or the weights do not converge within ``max_iter`` passes.

    Examples
    --------
    >>> df = pd.DataFrame({"sex": ["f", "f", "m", "m", "m", "m"], "age": ["y", "o", "y", "o", "o", "o"]})
    >>> w = rake(df, margins={"sex": {"f": 0.5, "m": 0.5}, "age": {"y": 0.4, "o": 0.6}})
    >>> round(float(w[df["sex"] == "f"].sum() / w.sum()), 6), round(float(w[df["age"] == "y"].sum() / w.sum()), 6)
    (0.5, 0.4)
    >>> round(float(w.mean()), 12)
    1.0
    """
    check_frame(data)
    if not isinstance(margins, Mapping) or not margins:
        raise CsmError("The value for `margins` must be a non-empty dict {column: {value: share}}, "
                       f"but {margins!r} was passed.")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise CsmError(f"The value for `max_iter` must be a whole number >= 1, but {max_iter!r} was passed.")
    if not (isinstance(tol, int | float | np.number) and tol > 0):
        raise CsmError(f"The value for `tol` must be a number > 0, but {tol!r} was passed.")
    _require_columns(data, list(margins), what="data",
                     fix="rake only on segment columns of the responses (check the population table's segments)")
    n = len(data)
    if n == 0:
        raise CsmError("raking needs at least one respondent; the data has no rows")
    w = get_weights(data, base_weights).copy()
    codes_list: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for var, margin in margins.items():
        if not isinstance(margin, Mapping) or not margin:
            raise DataError(f"margins[{var!r}] must be a non-empty dict {{value: share}}, found {margin!r}")
        mkeys = [_key(k) for k in margin]
        if None in mkeys:
            raise DataError(f"margins[{var!r}] has a missing value as a category — name every category")
        dup = sorted({k for k in mkeys if mkeys.count(k) > 1}, key=str)
        if dup:
            raise DataError(f"margins[{var!r}] lists the value {_list(dup)} twice — give each value once")
        vals = np.array([float(v) if isinstance(v, int | float | np.number) else np.nan
                         for v in margin.values()])
        if not np.all(np.isfinite(vals)) or np.any(vals < 0) or vals.sum() <= 0:
            raise DataError(f"margins[{var!r}] must hold population shares or counts >= 0 with a positive "
                            f"total; found {dict(zip(mkeys, margin.values(), strict=True))} — fix the "
                            f"population of {var!r} in {POPULATION_FILE}")
        share = vals / vals.sum()
        # position of each respondent's value among the margin's values; -1: missing, -2: unknown
        codes, _ = _key_codes(data[var], mkeys)
        unknown = codes == -2
        if unknown.any():
            _, found = _key_codes(data[var])
            extra = sorted(k for k in found if k not in set(mkeys))
            raise DataError(
                f"column {var!r} has the value {_list(extra)} that the raking margins (from "
                f"{POPULATION_FILE}) do not list (they list {_list(mkeys, 10)}) — add a row "
                f"'{var},{extra[0]},<population>' to {POPULATION_FILE} or fix the value in the data"
            )
        known = codes >= 0
        base_total = np.bincount(codes[known], weights=w[known], minlength=len(mkeys))
        empty = (share > 0) & (base_total <= 0)
        if empty.any():
            names = [mkeys[i] for i in np.flatnonzero(empty)]
            raise CsmError(
                f"raking is impossible: no respondent (with a positive base weight) has {var} = "
                f"{_list(names)}, which is {share[empty].sum():.1%} of the population — collapse it "
                f"with a neighbouring category in {POPULATION_FILE} and in the data, or drop {var!r} "
                "from the raking"
            )
        zero_target = (share == 0) & (base_total > 0)
        if zero_target.any():
            names = [mkeys[i] for i in np.flatnonzero(zero_target)]
            raise DataError(
                f"{POPULATION_FILE} gives {var} = {_list(names)} a population of 0, but respondents have "
                "that value — correct the population or the data"
            )
        # the respondents with a value (all of them: slice) and their codes, found once
        rows = slice(None) if known.all() else np.flatnonzero(known)
        codes_list.append((rows, codes[rows]))
        targets.append(share)

    names = list(margins)

    def worst(weights: np.ndarray) -> tuple[float, str]:
        gap, where = 0.0, ""
        for var, (rows, codes), share in zip(names, codes_list, targets, strict=True):
            tot = np.bincount(codes, weights=weights[rows], minlength=len(share))
            d = np.abs(tot / tot.sum() - share)
            i = int(np.argmax(d))
            if d[i] > gap:
                gap, where = float(d[i]), var
        return gap, where

    for _iteration in range(int(max_iter)):
        for (rows, codes), share in zip(codes_list, targets, strict=True):
            tot = np.bincount(codes, weights=w[rows], minlength=len(share))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(tot > 0, share * tot.sum() / tot, 1.0)
            w[rows] *= factor[codes]
        gap, _where = worst(w)
        if gap <= tol:
            break
    else:
        gap, where = worst(w)
        raise CsmError(
            f"raking did not converge in {max_iter} passes: the weighted shares of {where!r} are still "
            f"{gap:.2g} away from the population margins — the margins may be inconsistent with the "
            "sample (a combination of categories no respondent has); collapse sparse categories, rake on "
            "fewer variables, or raise measurement.rake_max_iter in study.yaml"
        )
    total = w.sum()
    w = w * (n / total)
    return pd.Series(w, index=data.index, name=WEIGHT_COLUMN, dtype="float64")


def _weights_array(w: Any) -> np.ndarray:
    arr = np.asarray(w.to_numpy() if isinstance(w, pd.Series) else w, dtype=float).ravel()
    if arr.size == 0:
        raise CsmError("no weights: the weights are empty")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise CsmError("weights must be finite numbers >= 0 with a positive total")
    return arr


def weight_summary(w: pd.Series | np.ndarray | Sequence[float]) -> dict[str, float]:
    """Summary of a set of weights: Kish's effective n and design effect (SPEC §1.3).

    ``n_eff = (sum w)^2 / sum w^2`` and ``deff = n / n_eff`` (Kish, 1965, §11.7); ``cv`` is the
    coefficient of variation of the weights with the population standard deviation
    (``ddof=0``), so that ``deff = 1 + cv^2`` exactly.

    Returns
    -------
    dict
        ``n`` (int), ``n_eff``, ``deff``, ``min``, ``max``, ``mean``, ``cv`` and ``ratio``
        (max / min; inf when a weight is 0).

    Examples
    --------
    >>> s = weight_summary([1, 1, 1, 3])
    >>> s["n"], s["n_eff"], round(s["deff"], 4)
    (4, 3.0, 1.3333)
    """
    arr = _weights_array(w)
    n = int(arr.size)
    neff = kish_neff(arr)
    mean = float(arr.mean())
    lo, hi = float(arr.min()), float(arr.max())
    return {"n": n, "n_eff": neff, "deff": n / neff, "min": lo, "max": hi, "mean": mean,
            "cv": float(arr.std(ddof=0) / mean), "ratio": hi / lo if lo > 0 else math.inf}


def weights_table(w: pd.Series | np.ndarray | Sequence[float]) -> pd.DataFrame:
    """:func:`weight_summary` as a table for the report: ``statistic, value, meaning``.

    Examples
    --------
    >>> weights_table([1, 1, 1, 3])["statistic"].tolist()
    ['n', 'n_eff', 'deff', 'min', 'max', 'cv', 'ratio']
    """
    s = weight_summary(w)
    meaning = {
        "n": N_("respondents"),
        "n_eff": N_("Kish effective sample size (sum w)^2 / sum w^2: intervals are as wide as with this many "
                    "unweighted respondents"),
        "deff": N_("design effect of weighting, n / n_eff"),
        "min": N_("smallest weight (weights scaled to mean 1 when raked)"),
        "max": N_("largest weight"),
        "cv": N_("coefficient of variation of the weights (deff = 1 + cv^2)"),
        "ratio": N_("largest / smallest weight"),
    }
    return pd.DataFrame({"statistic": list(meaning), "value": [float(s[k]) for k in meaning],
                         "meaning": list(meaning.values())})


def study_weights(data: pd.DataFrame, study: Study, *,
                  population: pd.DataFrame | None = None) -> pd.Series | None:
    """The study's weights: the weight column, else raking weights, else None (SPEC §1.3).

    - ``responses.weight`` set: that column, as given (not rescaled);
    - else, when ``measurement.rake`` is true and the population table has rows for one or
      more of ``responses.segments`` present in the data: :func:`rake` on those segments
      (``measurement.rake_max_iter`` and ``rake_tol``), **each wave on its own** (the column
      ``responses.wave``; responses without a wave form one more group), weights of mean 1
      within each wave. Every wave is reported on its own, so every wave must match the
      population margins: raked over the waves pooled, the latest wave alone missed them (Can
      Tho 13.97 % against 13 %). A category that has no respondent in a wave cannot be raked
      to in that wave: it is left out of that wave's margins (the others' shares rescaled)
      and named in ``attrs["missing"]`` (``{wave: [variable=value, ...]}``);
    - else None (unweighted).

    Compute on the whole sample (after the exclusions); a segment report subsets the result.

    Returns
    -------
    pandas.Series or None
        Indexed like ``data``, named :data:`csm_helpers.analysis.stats.WEIGHT_COLUMN`.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> w = study_weights(read_dataset("responses"), load_study(sample_study_path()),
    ...                   population=read_dataset("population"))
    >>> len(w), round(float(w.mean()), 6)
    (2400, 1.0)
    >>> latest = read_dataset("responses")["wave"] == "2026-H1"
    >>> hanoi = read_dataset("responses")["region"] == "Hanoi"
    >>> round(float(w[latest & hanoi].sum() / w[latest].sum()), 6)  # Hanoi is 29 % of the customers
    0.29
    """
    check_frame(data)
    spec = study.responses
    if spec.weight:
        return pd.Series(get_weights(data, spec.weight), index=data.index, name=WEIGHT_COLUMN, dtype="float64")
    if population is None or not study.measurement.rake:
        return None
    check_frame(population, POPULATION_FILE)
    _require_columns(population, ["segment", "value", "population"], what=POPULATION_FILE,
                     fix="the population table needs the columns segment, value, population")
    in_table = set(_keys(population["segment"]).dropna())
    segments = [s for s in spec.segments if s in in_table and s in data.columns]
    if not segments:
        return None
    margins = margins_from_population(population, segments=segments)
    settings = {"max_iter": study.measurement.rake_max_iter, "tol": study.measurement.rake_tol}
    if not spec.wave or spec.wave not in data.columns:
        return rake(data, margins=margins, **settings)
    everywhere = {var: set(_keys(data[var]).dropna()) for var in margins}
    if any(v > 0 and k not in everywhere[var] for var, m_ in margins.items() for k, v in m_.items()):
        return rake(data, margins=margins, **settings)  # raises: no respondent in any wave has that value
    out = np.full(len(data), np.nan)
    missing: dict[str, list[str]] = {}
    codes, labels = pd.factorize(data[spec.wave].astype("string"), use_na_sentinel=True)
    for code in range(-1, len(labels)):
        pos = np.flatnonzero(codes == code)
        if not len(pos):
            continue
        part = data.iloc[pos]
        present = {var: set(_keys(part[var]).dropna()) for var in margins}
        kept = {var: {k: v for k, v in m_.items() if k in present[var]} for var, m_ in margins.items()}
        gone = [f"{var}={k}" for var, m_ in margins.items() for k, v in m_.items()
                if v > 0 and k not in present[var]]
        if gone:
            missing[str(labels[code]) if code >= 0 else "(no wave)"] = gone
        kept = {var: m_ for var, m_ in kept.items() if m_}
        out[pos] = rake(part, margins=kept, **settings).to_numpy() if kept else 1.0
    weights = pd.Series(out, index=data.index, name=WEIGHT_COLUMN, dtype="float64")
    weights.attrs["missing"] = missing
    weights.attrs["by_wave"] = True
    return weights


# --------------------------------------------------------------------------- data quality
def _rated_present(data: pd.DataFrame, study: Study) -> dict[str, tuple[float, float]]:
    items = study.rated_items()
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise DataError(f"data: the rated item {_list(missing)} named in study.yaml is not in the data — "
                        "check the item names in study.yaml against the survey export")
    return items


def _performance_items(study: Study) -> list[str]:
    return list(dict.fromkeys(a.performance for a in study.attributes))


def quality_flags(data: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Data-quality flags per respondent (SPEC §1.3).

    - ``out_of_range``: a rated item holds a value outside its scale (``study.scale_for``)
      or something that is not a number;
    - ``straightliner``: zero variance across the grid of performance items — at least
      ``measurement.straightline_min_items`` (default 5) answered and all equal — on a point
      *inside* the scale; never flagged when the study has fewer performance items than that;
    - ``straightliner_extreme``: the same, with every answer at the top of its scale (or every
      one at the bottom). On a grid of positively worded performance items a customer who
      gives full marks to everything is the most satisfied customer, not noise (and one who
      gives the lowest mark to everything the least): excluding them biases every KPI. So
      they are flagged apart, and excluded only when ``measurement.exclude`` names
      ``extreme_straightliners``;
    - ``speeder``: duration below ``measurement.speeder_fraction`` (default 1/3) x the
      median duration of the respondents with a duration; False without a duration column
      or value;
    - ``duplicate_id``: the respondent id already appeared on an earlier row;
    - ``duplicate_answers``: identical answers (missing = missing) on every rated item to an
      earlier row with another id, with at least :data:`DUPLICATE_MIN_ITEMS` items answered,
      **and an answer pattern that is unlikely to be shared by chance**: not uniform (all 10s,
      all 5s: the pattern of every very satisfied customer) and, under independent item
      marginals, expected in fewer than :data:`DUPLICATE_CHANCE_PAIRS` pairs of the ``n``
      respondents (``C(n, 2) P(pattern)^2``, ``P`` the product of each answer's share on its
      item). Answers are positively correlated, so independence understates chance matches —
      which is why uniform patterns are ruled out whatever their computed probability;
    - ``duplicate``: either of the two (the first occurrence is kept, later ones flagged);
    - ``missing_share``: share of the rated items left unanswered (float).

    The rule texts (with the parameters used) are in ``flags.attrs["rules"]`` (English) and
    ``flags.attrs["rules_shown"]`` (the report language), for :func:`quality_summary`.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses, with the rated items named in ``study`` (load them with
        ``load_responses(study, validate=False)`` to see out-of-range answers and repeated
        ids, which validation otherwise rejects).
    study : Study
        The study configuration.

    Returns
    -------
    pandas.DataFrame
        Same index as ``data``; columns ``out_of_range, straightliner, straightliner_extreme,
        speeder, duplicate_id, duplicate_answers, duplicate`` (bool) and ``missing_share``
        (float).

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> import json
    >>> from csm_helpers.study.datasets import sample_dir
    >>> df = read_dataset("responses")
    >>> flags = quality_flags(df, load_study(sample_study_path()))
    >>> planted = json.loads((sample_dir() / "truth.json").read_text())["data_quality"]
    >>> set(df.loc[flags["speeder"], "respondent_id"]) == set(planted["speeders"])
    True
    >>> straight = flags["straightliner"] | flags["straightliner_extreme"]
    >>> set(df.loc[straight, "respondent_id"]) == set(planted["straight_liners"])
    True
    >>> int(flags["straightliner_extreme"].sum())  # all 5s: kept unless extreme_straightliners is excluded
    5
    """
    check_frame(data)
    m = study.measurement
    items = _rated_present(data, study)
    cols = list(items)
    n = len(data)
    # One pass over the rated items, column by column: no n x k matrix is built (with a million
    # respondents and 90 items that matrix alone would take 700 MB).
    perf = [c for c in _performance_items(study) if c in data.columns]
    perf_set = set(perf)
    out = np.zeros(n, dtype=bool)
    n_answered = np.zeros(n, dtype=np.int64)
    k_ans = np.zeros(n, dtype=np.int64)
    hi_v = np.full(n, -np.inf)
    lo_v = np.full(n, np.inf)
    at_top = np.zeros(n, dtype=np.int64)
    at_bottom = np.zeros(n, dtype=np.int64)
    all_hi = np.full(n, -np.inf)  # over every rated item: is the whole answer vector uniform?
    all_lo = np.full(n, np.inf)
    row_hash = np.zeros(n, dtype=np.uint64)
    for col in cols:
        v, bad = _numeric(data[col])
        lo, hi = items[col]
        out |= bad | (v < lo) | (v > hi)
        answered = np.isfinite(v)
        n_answered += answered
        all_hi = np.fmax(all_hi, v)
        all_lo = np.fmin(all_lo, v)
        if col in perf_set:
            k_ans += answered
            hi_v = np.fmax(hi_v, v)  # fmax/fmin skip the missing answers (NaN)
            lo_v = np.fmin(lo_v, v)
            at_top += answered & (v == hi)
            at_bottom += answered & (v == lo)
        # a hash of the answer vector (missing = missing), combined column by column
        row_hash = row_hash * np.uint64(1_000_003) + pd.util.hash_array(v)
    missing_share = 1.0 - n_answered / len(cols) if cols else np.zeros(n)
    straight = (k_ans >= m.straightline_min_items) & (hi_v == lo_v)  # all False without a grid
    extreme = straight & ((at_top == k_ans) | (at_bottom == k_ans))
    straight &= ~extreme

    speeder = np.zeros(n, dtype=bool)
    dur_col = study.responses.duration
    median = float("nan")
    if dur_col and dur_col in data.columns:
        dur, _bad = _numeric(data[dur_col])
        ok = np.isfinite(dur)
        if ok.any():
            median = float(np.median(dur[ok]))
            speeder = ok & (dur < m.speeder_fraction * median)

    id_col = study.responses.id
    dup_id = np.zeros(n, dtype=bool)
    ids = None
    if id_col in data.columns:
        ids = data[id_col]
        dup_id = (ids.duplicated(keep="first") & ids.notna()).to_numpy(dtype=bool)
    enough = n_answered >= DUPLICATE_MIN_ITEMS
    dup_ans = np.zeros(n, dtype=bool)
    if cols and enough.any():
        rows = np.flatnonzero(enough)
        # only rows whose hash repeats are compared exactly (equal answers give equal hashes)
        rows = rows[pd.Series(row_hash[rows]).duplicated(keep=False).to_numpy(dtype=bool)]
        if len(rows):
            frame = pd.DataFrame({j: _numeric(data[col].iloc[rows])[0] for j, col in enumerate(cols)})
            same = frame.duplicated(keep="first").to_numpy(dtype=bool).copy()
            same &= (all_hi[rows] != all_lo[rows])  # a uniform pattern is every enthusiast's: not a copy
            if same.any():
                same &= _rare_pattern(data, cols, rows, n)
            if same.any() and ids is not None:
                # a repeat of the same id is a duplicate id, not another respondent with the same answers
                frame["_id"] = ids.iloc[rows].to_numpy(dtype=object)
                first = frame.groupby(list(range(len(cols))), dropna=False, sort=False)["_id"].transform("first")
                same &= (frame["_id"] != first).to_numpy(dtype=bool)
            dup_ans[rows[same]] = True

    flags = pd.DataFrame({
        "out_of_range": out,
        "straightliner": straight,
        "straightliner_extreme": extreme,
        "speeder": speeder,
        "duplicate_id": dup_id,
        "duplicate_answers": dup_ans,
        "duplicate": dup_id | dup_ans,
        "missing_share": missing_share,
    }, index=data.index)
    rules = {
        "out_of_range": _both(N_("an answer outside the item's scale, or not a number")),
        "straightliner": _both(
            N_("the same answer, inside the scale, on all of at least {min} answered performance items (grid of "
               "{grid})")
            if len(perf) >= m.straightline_min_items else
            N_("not checked: {grid} performance item(s), fewer than the {min} a grid needs"),
            min=m.straightline_min_items, grid=len(perf)),
        "speeder": (_both(N_("duration below {fraction} x the median duration (median {median} s)"),
                          fraction=_fraction(m.speeder_fraction), median=f"{median:g}")
                    if dur_col and math.isfinite(median) else
                    _both(N_("duration below {fraction} x the median duration"),
                          fraction=_fraction(m.speeder_fraction))
                    if dur_col else _both(N_("no duration column: not checked"))),
        "straightliner_extreme": _both(
            N_("every one of at least {min} answered performance items at the top (or every one at the bottom) "
               "of its scale: the most (least) satisfied customers, flagged but kept unless "
               "extreme_straightliners is excluded")
            if len(perf) >= m.straightline_min_items else
            N_("not checked: {grid} performance item(s), fewer than the {min} a grid needs"),
            min=m.straightline_min_items, grid=len(perf)),
        "duplicate_id": _both(N_("respondent id already seen on an earlier row")),
        "duplicate_answers": _both(
            N_("identical answers on all {n} rated items to an earlier respondent (at least {min} answered), in a "
               "pattern that is neither uniform nor likely to be shared by chance")
            if len(cols) >= DUPLICATE_MIN_ITEMS else
            N_("not checked: {n} rated items, fewer than the {min} needed to tell a copy from a chance match"),
            n=len(cols), min=DUPLICATE_MIN_ITEMS),
        "duplicate": _both(N_("a repeated id or repeated answers (the first occurrence is kept)")),
    }
    flags.attrs["rules"] = {k: en for k, (en, _shown) in rules.items()}
    flags.attrs["rules_shown"] = {k: shown for k, (_en, shown) in rules.items()}
    return flags


def _rare_pattern(data: pd.DataFrame, cols: list[str], rows: np.ndarray, n: int) -> np.ndarray:
    """For the ``rows``: is their answer pattern rare enough that sharing it suggests a copy?

    ``P`` = the product over the rated items of the share of respondents giving that answer
    (missing counted as an answer); the expected number of pairs of the ``n`` respondents
    sharing the pattern by chance is ``C(n, 2) P^2``; rare when below
    :data:`DUPLICATE_CHANCE_PAIRS`.
    """
    log_p = np.zeros(len(rows))
    for col in cols:
        v = _numeric(data[col])[0]
        keys = np.where(np.isfinite(v), v, -np.inf)
        values, counts = np.unique(keys, return_counts=True)
        share = dict(zip(values.tolist(), (counts / n).tolist(), strict=True))
        log_p += np.log([share[k] for k in keys[rows].tolist()])
    pairs = n * (n - 1) / 2
    return np.log(pairs) + 2 * log_p < math.log(DUPLICATE_CHANCE_PAIRS)


def _fraction(x: float) -> str:
    """0.3333... -> '1/3'; 0.25 -> '1/4'; 0.3 -> '0.3'."""
    f = Fraction(x).limit_denominator(6)
    if f.denominator > 1 and abs(float(f) - x) < 1e-9:
        return f"{f.numerator}/{f.denominator}"
    return f"{x:g}"


def _exclusion_columns(exclude: Sequence[str]) -> list[str]:
    if isinstance(exclude, str):
        exclude = [exclude]
    cols = []
    allowed = {**EXCLUSIONS, **{c: c for c in _FLAG_COLUMNS}}
    for name in exclude:
        if name not in allowed:
            raise CsmError(f"The value {name!r} in `exclude` is not a data-quality check; use any of "
                           f"{', '.join(EXCLUSIONS)} (measurement.exclude in study.yaml).")
        cols.append(allowed[name])
    return list(dict.fromkeys(cols))


def _check_flags(flags: Any) -> None:
    check_frame(flags, "flags")
    _require_columns(flags, [c for c in _FLAG_COLUMNS if c != "duplicate"] + ["duplicate"], what="flags",
                     fix="pass the table quality_flags() returns")


def quality_summary(flags: pd.DataFrame, *, exclude: Sequence[str]) -> pd.DataFrame:
    """How many respondents each data-quality check flags, and which checks exclude them.

    Parameters
    ----------
    flags : pandas.DataFrame
        From :func:`quality_flags`.
    exclude : list of str
        Checks whose respondents are excluded (``measurement.exclude``: any of
        ``speeders, straightliners, duplicates, out_of_range``).

    Returns
    -------
    pandas.DataFrame
        One row per check (``out_of_range, straightliner, speeder, duplicate_id,
        duplicate_answers``) and a last row ``excluded`` (respondents removed by any excluded
        check, counted once): ``check, count, share`` (of all respondents), ``excluded``
        (bool) and ``rule`` (text).

    Examples
    --------
    >>> flags = pd.DataFrame({"out_of_range": [False, False], "straightliner": [True, False],
    ...                       "speeder": [True, True], "duplicate_id": [False, False],
    ...                       "duplicate_answers": [False, False], "duplicate": [False, False],
    ...                       "missing_share": [0.0, 0.1]})
    >>> quality_summary(flags, exclude=["speeders"])[["check", "count", "excluded"]]
                   check  count  excluded
    0       out_of_range      0     False
    1      straightliner      1     False
    2            speeder      2      True
    3       duplicate_id      0     False
    4  duplicate_answers      0     False
    5           excluded      2      True
    """
    _check_flags(flags)
    cols = _exclusion_columns(exclude)
    excl_cols = set(cols)
    if "duplicate" in excl_cols:
        excl_cols |= {"duplicate_id", "duplicate_answers"}
    rules = {**{c: "" for c in (*_FLAG_COLUMNS, "straightliner_extreme")}, **flags.attrs.get("rules", {})}
    shown_given = flags.attrs.get("rules_shown", {})
    shown = {c: shown_given[c] if c in shown_given else tr(r) for c, r in rules.items()}
    n = len(flags)
    rows = []
    checks = tuple(c for c in ("out_of_range", "straightliner", "straightliner_extreme", "speeder", "duplicate_id",
                               "duplicate_answers") if c in flags.columns)
    for check in checks:
        count = int(flags[check].astype(bool).sum())
        rows.append({"check": check, "count": count, "share": count / n if n else np.nan,
                     "excluded": check in excl_cols, "rule": rules[check]})
    removed = np.zeros(n, dtype=bool)
    for c in cols:
        removed |= flags[c].astype(bool).to_numpy()
    count = int(removed.sum())
    names = [k for k, v in EXCLUSIONS.items() if v in cols]
    rule = _REMOVED.format(checks=", ".join(names) or "none")
    rule_shown = _(_REMOVED, checks=", ".join(names) or _("none"))
    rows.append({"check": "excluded", "count": count, "share": count / n if n else np.nan,
                 "excluded": bool(cols), "rule": rule})
    out = pd.DataFrame(rows)
    out.attrs["rule_shown"] = [shown[c] for c in checks] + [rule_shown]
    return out


_REMOVED = N_("respondents removed by any excluded check: {checks}")


def quality_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The :func:`quality_summary` table to show: its ``rule`` texts in the report language.

    The summary itself keeps the rules in English (it goes to metrics.json); the translations
    made with it are in ``summary.attrs["rule_shown"]``. Without them the table is returned as
    it is (a copy).

    Examples
    --------
    >>> flags = pd.DataFrame({"out_of_range": [False], "straightliner": [False], "speeder": [False],
    ...                       "duplicate_id": [False], "duplicate_answers": [False], "duplicate": [False],
    ...                       "missing_share": [0.0]})
    >>> quality_display(quality_summary(flags, exclude=[]))["rule"].iloc[-1]
    'respondents removed by any excluded check: none'
    """
    out = summary.copy()
    shown = summary.attrs.get("rule_shown")
    if "rule" in out.columns and shown is not None and len(shown) == len(out):
        out["rule"] = list(shown)
    return out


def missing_by_item(data: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Missing answers per rated item (SPEC §1.3).

    Returns
    -------
    pandas.DataFrame
        One row per rated item in config order: ``item, role`` (e.g. ``performance of fees``, in
        the report language),
        ``n`` (respondents), ``n_missing, share_missing``.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> t = missing_by_item(read_dataset("responses"), load_study(sample_study_path()))
    >>> t.loc[0, "item"], int(t.loc[0, "n_missing"])
    ('overall_sat', 0)
    """
    check_frame(data)
    items = _rated_present(data, study)
    roles: dict[str, str] = {}
    for role, col in study.item_roles().items():
        roles.setdefault(col, _role_text(role))
    n = len(data)
    rows = []
    for col in items:
        v, bad = _numeric(data[col])
        k = int((~np.isfinite(v) & ~bad).sum())
        rows.append({"item": col, "role": roles.get(col, ""), "n": n, "n_missing": k,
                     "share_missing": k / n if n else np.nan})
    return pd.DataFrame(rows)


_ROLES = {"performance": N_("performance of {attribute}"), "importance": N_("importance of {attribute}"),
          "expectation": N_("expectation of {attribute}"), "competitor": N_("competitor of {attribute}")}


def _role_text(role: str) -> str:
    """A role of ``Study.item_roles()`` (``"performance of fees"``) in the report language."""
    kind, sep, attribute = role.partition(" of ")
    if sep and kind in _ROLES:
        return _(_ROLES[kind], attribute=attribute)
    if role.startswith("satisfaction item ") and role.rsplit(" ", 1)[-1].isdigit():
        return _("satisfaction item {number}", number=role.rsplit(" ", 1)[-1])
    return _("overall") if role == "overall" else _("recommend") if role == "recommend" else role


def apply_exclusions(data: pd.DataFrame, flags: pd.DataFrame, *, exclude: Sequence[str]) -> pd.DataFrame:
    """The rows of ``data`` that no excluded check flags (a new frame; ``data`` is unchanged).

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    flags : pandas.DataFrame
        From :func:`quality_flags` on ``data`` (same index).
    exclude : list of str
        Any of ``speeders, straightliners, duplicates, out_of_range`` (or the flag column
        names).

    Examples
    --------
    >>> df = pd.DataFrame({"q": [1, 2, 3]})
    >>> flags = pd.DataFrame({"out_of_range": False, "straightliner": [False, True, False],
    ...                       "speeder": False, "duplicate_id": False, "duplicate_answers": False,
    ...                       "duplicate": False, "missing_share": 0.0}, index=df.index)
    >>> apply_exclusions(df, flags, exclude=["straightliners"])["q"].tolist()
    [1, 3]
    """
    check_frame(data)
    _check_flags(flags)
    if len(flags) != len(data) or not flags.index.equals(data.index):
        raise CsmError("flags do not belong to this data (different rows): compute quality_flags(data, study) "
                       "on the same frame")
    cols = _exclusion_columns(exclude)
    drop = np.zeros(len(data), dtype=bool)
    for c in cols:
        drop |= flags[c].astype(bool).to_numpy()
    return data.loc[~drop]  # a new frame (copy-on-write): no deep copy needed


def exclusion_sensitivity(kept: pd.DataFrame, received: pd.DataFrame, *, overall: str,
                          satisfaction_items: Sequence[str], scales: Mapping[str, tuple[float, float]],
                          scale: tuple[float, float], recommend: str | None = None, top_box: int = 2,
                          weights: str | None = None) -> pd.DataFrame:
    """The headline KPIs with and without the data-quality exclusions (a sensitivity line).

    Exclusion rules are judgement calls; a reader should see what they changed. Both sets of
    KPIs are :func:`csm_helpers.analysis.kpis.kpi_summary` point estimates on the same wave: ``kept`` (the
    responses the reports use) and ``received`` (every response of that wave). With
    ``weights``, each frame is weighted by its own column of that name (rake ``received``
    separately: its weights cannot be those of ``kept``).

    Returns
    -------
    pandas.DataFrame
        One row per KPI: ``kpi, n_kept, value_kept, n_all, value_all, difference`` (kept minus
        all, on the KPI's scale: CSAT a proportion, CSI 0-100, NPS -100..100).

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [5, 4, 2, 5, 1, 3, 5]})
    >>> t = exclusion_sensitivity(df.iloc[:5], df, overall="sat", satisfaction_items=[], scales={},
    ...                           scale=(1, 5))
    >>> t[["kpi", "n_kept", "n_all"]].values.tolist()
    [['csat_top2', 5, 7], ['csi', 5, 7]]
    """
    from csm_helpers.analysis.kpis import kpi_summary

    def point(data: pd.DataFrame) -> pd.DataFrame:
        w = weights if weights is not None and weights in data.columns else None
        # only the point estimates are used: one bootstrap resample keeps the CSI interval cheap
        return kpi_summary(data, overall=overall, scale=scale, satisfaction_items=list(satisfaction_items),
                           scales=dict(scales), recommend=recommend, top_box=top_box, weights=w, n_boot=1,
                           min_n=0).set_index("kpi")

    a, b = point(kept), point(received)
    out = pd.DataFrame({"kpi": a.index, "n_kept": a["n"].to_numpy(), "value_kept": a["value"].to_numpy(),
                        "n_all": b["n"].reindex(a.index).to_numpy(), "value_all": b["value"].reindex(a.index).to_numpy()})
    out["difference"] = out["value_kept"] - out["value_all"]
    return out


# --------------------------------------------------------------------------- reliability
def study_dimensions(study: Study) -> dict[str, list[str]]:
    """Performance items per dimension (product, process, people) for :func:`reliability`.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> {k: len(v) for k, v in study_dimensions(load_study(sample_study_path())).items()}
    {'product': 4, 'process': 4, 'people': 4}
    """
    out: dict[str, list[str]] = {}
    for dim in DIMENSIONS:
        items = list(dict.fromkeys(a.performance for a in study.attributes if a.dimension == dim))
        if items:
            out[dim] = items
    return out


def _item_matrix(data: pd.DataFrame, items: Sequence[str], *, what: str) -> np.ndarray:
    check_frame(data)
    _require_columns(data, list(items), what="data", fix=f"check the item names of {what}")
    cols = []
    for c in items:
        v, bad = _numeric(data[c])
        if bad.any():
            raise DataError(f"column {c!r} holds {int(bad.sum())} value(s) that are not numbers "
                            f"(e.g. {data[c][bad].iloc[0]!r}) — fix the data (validate it first)")
        cols.append(v)
    x = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return x[np.all(np.isfinite(x), axis=1)]


def _alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of a complete ``n x k`` matrix: k/(k-1) (1 - trace C / sum C)."""
    k = x.shape[1]
    c = np.cov(x, rowvar=False, ddof=1)
    total = c.sum()
    if k < 2 or x.shape[0] < 2 or not total > 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(c) / total))


def _feldt(alpha: float, n: int, k: int, level: float) -> tuple[float, float]:
    """Feldt et al. (1987) interval, as pingouin.cronbach_alpha (unrounded)."""
    if not math.isfinite(alpha) or n < 2 or k < 2:
        return float("nan"), float("nan")
    a = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1 - (1 - alpha) * _st.f.isf(a / 2, df1, df2)
    upper = 1 - (1 - alpha) * _st.f.isf(1 - a / 2, df1, df2)
    return float(lower), float(upper)


#: Cronbach's alpha is not reported on fewer complete answers than this. Below about 20
#: respondents its sampling error is too large for the 0.7 rule to mean anything (Feldt's 95 %
#: interval for alpha = 0.8 with 4 items and n = 10 runs from about 0.4 to 0.95): Charter, R. A.
#: (2003). Study samples are too small to produce sufficiently precise reliability coefficients.
#: *Journal of General Psychology*, 130(2), 117–129; Bonett, D. G. (2002). Sample size
#: requirements for testing and estimating coefficient alpha. *Statistics in Medicine*, 21, 1331–1335.
RELIABILITY_MIN_N = 20


def reliability(data: pd.DataFrame, *, dimensions: Mapping[str, Sequence[str]],
                level: float = 0.95, min_n: int = RELIABILITY_MIN_N) -> pd.DataFrame:
    """Cronbach's alpha with Feldt's confidence interval per dimension (SPEC §1.3).

    ``alpha = k / (k - 1) (1 - sum of item variances / variance of the total)`` on the
    respondents who answered every item of the dimension (listwise), and the interval
    ``1 - (1 - alpha) F_{1-a/2}, 1 - (1 - alpha) F_{a/2}`` with ``F`` on ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom — exactly ``pingouin.cronbach_alpha`` on the
    complete rows, without its rounding of the interval to 3 decimals (Cronbach, 1951;
    Feldt, Woodruff & Salih, 1987). Pass complete rows to pingouin to compare: its
    ``nan_policy="listwise"`` (0.7.0) drops the incomplete rows for alpha but still counts
    them in the interval's ``n``, which makes the interval too narrow.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    dimensions : dict
        ``{dimension: [item columns]}``, e.g. :func:`study_dimensions`.
    level : float
        Confidence level.
    min_n : int
        Fewest complete answers alpha is reported on (:data:`RELIABILITY_MIN_N`); below it
        alpha and its interval are missing and ``note`` says why.

    Returns
    -------
    pandas.DataFrame
        One row per dimension: ``dimension, alpha, ci_low, ci_high, n_items, n`` (listwise
        complete respondents), ``flag`` (``"alpha < 0.7"`` or ``""``) and ``note`` (why alpha
        is missing, in the report language, else ``""``).

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> dims = study_dimensions(load_study(sample_study_path()))
    >>> rel = reliability(read_dataset("responses"), dimensions=dims)
    >>> rel["dimension"].tolist(), rel["n_items"].tolist()
    (['product', 'process', 'people'], [4, 4, 4])
    """
    _check_level(level)
    if not isinstance(dimensions, Mapping):
        raise CsmError(f"The value for `dimensions` must be a dict {{dimension: [items]}}, but {dimensions!r} "
                       "was passed.")
    rows = []
    for dim, items in dimensions.items():
        items = list(dict.fromkeys(items))
        x = _item_matrix(data, items, what=f"dimension {dim!r}")
        n, k = x.shape
        note = ""
        if k < 2:
            alpha = float("nan")
            note = _("{k} item: alpha needs at least 2 items", k=k)
        elif n < max(2, min_n):
            alpha = float("nan")
            note = _("{n} respondent(s) answered every item: alpha is not reported on fewer than {min_n} "
                     "(its interval would be too wide to judge the 0.7 rule)", n=n, min_n=max(2, min_n))
        else:
            alpha = _alpha(x)
            if not math.isfinite(alpha):
                note = _("the total score does not vary: alpha is undefined")
        lo, hi = _feldt(alpha, n, k, level)
        rows.append({"dimension": dim, "alpha": alpha, "ci_low": lo, "ci_high": hi, "n_items": k, "n": n,
                     "flag": N_("alpha < 0.7") if math.isfinite(alpha) and alpha < 0.7 else "", "note": note})
    return pd.DataFrame(rows, columns=["dimension", "alpha", "ci_low", "ci_high", "n_items", "n", "flag", "note"])


def item_analysis(data: pd.DataFrame, *, items: Sequence[str]) -> pd.DataFrame:
    """Item statistics of a scale: corrected item-total correlation and alpha if item deleted.

    On the respondents who answered every item (listwise, the rows :func:`reliability`
    uses): each item's mean and standard deviation (ddof=1), the Pearson correlation of the
    item with the sum of the *other* items (corrected item-total r), and Cronbach's alpha of
    the scale without the item (same respondents).

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item, mean, sd, n, corrected_item_total_r, alpha_if_deleted``
        (NaN alpha with fewer than 3 items; NaN r for an item or rest-sum that does not vary).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 4], "c": [1, 3, 3, 4, 5]})
    >>> item_analysis(df, items=["a", "b", "c"])[["item", "n"]]
      item  n
    0    a  5
    1    b  5
    2    c  5
    """
    items = list(dict.fromkeys(items))
    x = _item_matrix(data, items, what="the scale")
    n, k = x.shape
    total = x.sum(axis=1)
    # Everything from one covariance matrix C (ddof=1): with j left out, the rest-sum has variance
    # sum(C) - 2 sum_b C_jb + C_jj, covariance sum_b C_jb - C_jj with item j, and that variance is
    # also the total of the reduced matrix that alpha-if-deleted needs -- no per-item pass over the data.
    c = np.cov(x, rowvar=False, ddof=1).reshape(k, k) if n >= 2 and k >= 1 else np.full((k, k), np.nan)
    c_total, c_trace, c_row = c.sum(), np.trace(c), c.sum(axis=1)
    rows = []
    for j, item in enumerate(items):
        col = x[:, j]
        var_rest = c_total - 2 * c_row[j] + c[j, j]
        r = float("nan")
        if n >= 2 and k >= 2 and np.ptp(col) > 0 and np.ptp(total - col) > 0:
            r = float((c_row[j] - c[j, j]) / math.sqrt(c[j, j] * var_rest))
        a = float("nan")
        if k >= 3 and n >= 2 and var_rest > 0:
            a = float((k - 1) / (k - 2) * (1 - (c_trace - c[j, j]) / var_rest))
        rows.append({"item": item, "mean": float(col.mean()) if n else float("nan"),
                     "sd": float(col.std(ddof=1)) if n >= 2 else float("nan"), "n": n,
                     "corrected_item_total_r": r, "alpha_if_deleted": a})
    return pd.DataFrame(rows, columns=["item", "mean", "sd", "n", "corrected_item_total_r", "alpha_if_deleted"])


# --------------------------------------------------------------------------- distributions
def likert_distribution(data: pd.DataFrame, *, items: Sequence[str], scale: tuple[int, int],
                        weights: str | None = None, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Share of answers at each point of the scale, per item (input of ``plot_likert``).

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    items : list of str
        Rated columns on the same scale.
    scale : (int, int)
        Lowest and highest point; every whole point in between gets a row.
    weights : str, optional
        Weight column: shares are weighted (``n`` stays the count of respondents).
    labels : dict, optional
        ``{item: label}`` for display; default the item name.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per item and point (items in the given order): ``item, label,
        point, n`` (respondents giving that answer), ``n_item`` (respondents answering the
        item) and ``share`` (weighted share among those answering; shares of an item add up
        to 1, NaN when nobody answered).

    Raises
    ------
    DataError
        When an item holds a value that is not a whole point of the scale.

    Examples
    --------
    >>> df = pd.DataFrame({"q": [1, 2, 2, None], "w": [1.0, 1.0, 2.0, 1.0]})
    >>> likert_distribution(df, items=["q"], scale=(1, 3), weights="w")[["point", "n", "share"]]
       point  n  share
    0      1  1   0.25
    1      2  2   0.75
    2      3  0   0.00
    """
    check_frame(data)
    try:
        lo, hi = (int(scale[0]), int(scale[1]))
    except (TypeError, ValueError, IndexError):
        raise CsmError(f"The value for `scale` must be (lowest, highest) whole points, but {scale!r} was passed.") \
            from None
    if not (lo == scale[0] and hi == scale[1] and lo < hi):
        raise CsmError(f"The value for `scale` must be (lowest, highest) whole points with lowest < highest, "
                       f"but {scale!r} was passed.")
    items = list(dict.fromkeys(items))
    _require_columns(data, items, what="data", fix="check the item names")
    w = get_weights(data, weights)
    labels = dict(labels or {})
    points = np.arange(lo, hi + 1)
    k = len(points)
    frames = []
    for item in items:
        v, bad = _numeric(data[item])
        ok = np.isfinite(v)
        off = bad | (ok & ((v < lo) | (v > hi) | (v != np.round(v))))
        if off.any():
            found = pd.Series(data[item][off]).drop_duplicates().tolist()
            verb = "is not a point" if len(found) == 1 else "are not points"
            raise DataError(f"column {item!r}: {_list(found)} {verb} of the scale {lo}-{hi} — fix the data, "
                            "check scales in study.yaml, or exclude out-of-range answers first")
        idx = (v[ok] - lo).astype(np.int64)
        counts = np.bincount(idx, minlength=k)
        wsum = np.bincount(idx, weights=w[ok], minlength=k)
        tot = wsum.sum()
        share = wsum / tot if tot > 0 else np.full(k, np.nan)
        frames.append(pd.DataFrame({"item": item, "label": str(labels.get(item, item)), "point": points,
                                    "n": counts.astype(np.int64), "n_item": int(ok.sum()), "share": share}))
    if not frames:
        return pd.DataFrame({"item": pd.Series(dtype=object), "label": pd.Series(dtype=object),
                             "point": pd.Series(dtype=np.int64), "n": pd.Series(dtype=np.int64),
                             "n_item": pd.Series(dtype=np.int64), "share": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)
