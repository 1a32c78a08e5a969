"""Loyalty and market indicators of the analysis stage (SPEC §1.4).

- :func:`dick_basu`: the loyalty matrix of Dick & Basu (1994): relative attitude (high/low)
  x repeat patronage (high/low), with the quadrants "Loyalty", "Latent loyalty",
  "Spurious loyalty" and "No loyalty", each as a (weighted) share with its Wilson interval.
- :func:`loyalty_measures`: repeat-purchase rate, price sensitivity, attitude to competitors,
  tolerance of quality incidents (survey shares), acquisition and churn rates (company figures).
- :func:`market_indicators`: reputation (share who praise), awareness (unaided), return rate
  (repurchase or referral share), complaint rate and sales power (sales growth).

Shares are weighted when a weight column is given; their Wilson (1927) interval is computed on
Kish's effective n (``wilson_interval(p * n_eff, n_eff)``), as for CSAT. Respondents who did
not answer an item are left out of that item's share (available cases); ``n`` says how many
answered. Nothing is rounded here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis import stats
from csm_helpers.analysis.kpis import wilson_interval
from csm_helpers.analysis.kpis.common import group_positions
from csm_helpers.core.checks import check_frame, check_int, column_floats, require_column, yes_no_column
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.study.config import Study

__all__ = [
    "QUADRANTS",
    "dick_basu",
    "loyalty_measures",
    "market_indicators",
]

#: The four Dick & Basu (1994) quadrants, in the order every table lists them.
#: Kept in English in the tables (the display step translates them).
QUADRANTS = (N_("Loyalty"), N_("Latent loyalty"), N_("Spurious loyalty"), N_("No loyalty"))
#: (relative attitude high?, repeat patronage high?) of each quadrant.
_QUADRANT_OF = dict(zip([(True, True), (True, False), (False, True), (False, False)], QUADRANTS, strict=True))



# --------------------------------------------------------------------------- input helpers


def _where(data: pd.DataFrame, bad: np.ndarray) -> str:
    pos = np.flatnonzero(bad)
    idx = ", ".join(str(i) for i in data.index[pos[:5]])
    more = f" (+{len(pos) - 5} more)" if len(pos) > 5 else ""
    shown = ", ".join(dict.fromkeys(repr(v) for v in data.iloc[pos[:5]].to_numpy()))
    return f"index {idx}{more}: {shown}"


def number_array(data: pd.DataFrame, col: str, *, role: str, lo: float = -math.inf, hi: float = math.inf,
             what: str = "numbers") -> np.ndarray:
    """A numeric item as floats (NaN = not answered), checked against ``[lo, hi]``."""
    require_column(data, col, role=role)
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f"column {col!r} ({role}): holds true/false values, not {what} — recode it to numbers")
    x, not_a_number, blank = column_floats(s)
    bad = (not_a_number & ~blank) | np.isinf(x) | (np.isfinite(x) & ((x < lo) | (x > hi)))
    if bad.any():
        rng = f" between {lo:g} and {hi:g}" if math.isfinite(lo) and math.isfinite(hi) else (
            f" >= {lo:g}" if math.isfinite(lo) else "")
        raise DataError(f"column {col!r} ({role}), {_where(s.to_frame(), bad)} — expected {what}{rng}; fix the "
                        "data or choose another rule")
    return x


def _share_ci(hit: np.ndarray, ok: np.ndarray, w: np.ndarray, level: float) -> tuple[int, float, float, float, float]:
    """``(n, n_eff, share, ci_low, ci_high)`` of ``hit`` among the ``ok`` rows (weighted, Wilson on n_eff)."""
    n = int(ok.sum())
    if n == 0:
        return 0, 0.0, math.nan, math.nan, math.nan
    neff = stats.kish_neff(w[ok])
    p = stats.weighted_share(hit, w, ok)
    if not (neff > 0 and math.isfinite(p)):
        return n, neff, p, math.nan, math.nan
    lo, hi = wilson_interval(p * neff, neff, level=level)
    return n, neff, p, lo, hi


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """Smallest value whose cumulative weight reaches half the total (the lower weighted median;
    with equal weights and an even count, the mean of the two middle values, as numpy)."""
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if not len(x):
        return math.nan
    if np.all(w == w[0]):
        return float(np.median(x))
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cum, 0.5 * cum[-1])])


# --------------------------------------------------------------------------- Dick & Basu
def _attitude_high(x: np.ndarray, rule: str | float, scale: tuple[float, float] | None,
                   data: pd.DataFrame, col: str) -> tuple[np.ndarray, str]:
    if isinstance(rule, str) and rule == "promoter":
        number_array(data, col, role="relative attitude (0-10 recommend item)", lo=0, hi=10, what="ratings")
        return x >= 9, f"{col} 9-10 (promoter)"
    if isinstance(rule, str) and rule == "top2":
        if scale is None:
            raise CsmError("attitude_rule='top2' needs the item's scale: pass attitude_scale=(min, max), e.g. "
                           "attitude_scale=study.scale_for(study.overall)")
        lo, hi = (float(v) for v in scale)
        if not lo < hi:
            raise CsmError(f"attitude_scale {scale!r}: the minimum must be below the maximum")
        number_array(data, col, role="relative attitude", lo=lo, hi=hi, what="ratings")
        return x >= hi - 1, f"{col} in the top two points ({hi - 1:g}-{hi:g})"
    if isinstance(rule, int | float) and not isinstance(rule, bool) and math.isfinite(rule):
        return x >= rule, f"{col} >= {rule:g}"
    raise CsmError(f"The value for `attitude_rule` must be one of 'promoter', 'top2' or a number (high = "
                   f"value >= number), but {rule!r} was passed.")


def _repeat_high(data: pd.DataFrame, col: str, rule: str | float, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """(values, high, description) of the repeat-patronage item under ``rule``."""
    if isinstance(rule, str) and rule == "binary":
        x = yes_no_column(data, col, role="repeat patronage")
        return x, x == 1, f"{col} = yes/1"
    if isinstance(rule, str) and rule == "median":
        x = number_array(data, col, role="repeat patronage (count)", lo=0, what="counts")
        med = _weighted_median(x, w)
        return x, x > med, f"{col} above the median ({med:g})"
    if isinstance(rule, int | float) and not isinstance(rule, bool) and math.isfinite(rule):
        x = number_array(data, col, role="repeat patronage")
        return x, x >= rule, f"{col} >= {rule:g}"
    raise CsmError(f"The value for `repeat_rule` must be one of 'binary', 'median' or a number (high = value "
                   f">= number), but {rule!r} was passed.")


def dick_basu(data: pd.DataFrame, *, attitude: str, repeat: str, attitude_rule: str | float = "promoter",
              repeat_rule: str | float = "binary", attitude_scale: tuple[float, float] | None = None,
              weights: str | None = None, by: str | None = None, level: float = 0.95,
              min_n: int = 5) -> pd.DataFrame:
    """Dick & Basu loyalty matrix: relative attitude x repeat patronage (SPEC §1.4).

    Each respondent who answered both items falls in one quadrant:

    ===================  ==================  ===================
    relative attitude    repeat patronage    quadrant
    ===================  ==================  ===================
    high                 high                "Loyalty"
    high                 low                 "Latent loyalty"
    low                  high                "Spurious loyalty"
    low                  low                 "No loyalty"
    ===================  ==================  ===================

    The share of each quadrant is weighted when ``weights`` is given, with a Wilson score
    interval on Kish's effective n. The rules that make an answer "high" are parameters:

    - ``attitude_rule="promoter"`` (default): the 0-10 recommend item, high = 9-10 (a promoter
      in NPS terms); ``"top2"``: high = the top two points of ``attitude_scale`` (e.g. overall
      satisfaction 4-5 on 1-5); a number ``t``: high = value >= ``t``.
    - ``repeat_rule="binary"`` (default): a yes/no item (1/0, yes/no, true/false), high = yes;
      ``"median"``: a count, high = strictly above the (weighted) median of all respondents
      who answered (the same threshold for every group); a number ``t``: high = value >= ``t``.

    Dick, A. S., & Basu, K. (1994). Customer loyalty: toward an integrated conceptual
    framework. *Journal of the Academy of Marketing Science*, 22(2), 99–113.
    Wilson, E. B. (1927). *JASA*, 22, 209–212. Kish, L. (1965). *Survey Sampling*, §11.7.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    attitude, repeat : str
        Columns of the relative-attitude item and of the repeat-patronage item.
    attitude_rule, repeat_rule : str or float
        The rules above.
    attitude_scale : tuple of float, optional
        ``(min, max)`` of the attitude item; needed for ``attitude_rule="top2"``.
    weights : str, optional
        Weight column.
    by : str, optional
        Group column: four rows per group (rows with a missing group are left out).
    level : float
        Confidence level of the intervals.
    min_n : int
        Groups where fewer respondents answered both items are suppressed.

    Returns
    -------
    pandas.DataFrame
        Four rows per group, in the order of :data:`QUADRANTS`; columns ``[by], quadrant, n``
        (respondents of the group who answered both items), ``count`` (of them, in the
        quadrant; unweighted), ``n_eff``, ``share``, ``ci_low``, ``ci_high`` (proportions) and
        ``suppressed``; the shares of a group add up to 1. ``attrs["rule"]`` describes the rules.

    Raises
    ------
    CsmError
        When a column is missing or a rule is invalid.
    DataError
        When an answer does not fit its rule (a recommend answer outside 0-10, a repeat
        answer that is not yes/no, ...).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> df = read_dataset("responses")
    >>> t = dick_basu(df, attitude="recommend", repeat="repeat_12m")
    >>> t[["quadrant", "count"]]
               quadrant  count
    0           Loyalty    817
    1    Latent loyalty    156
    2  Spurious loyalty    897
    3        No loyalty    530
    >>> round(float(t["share"].sum()), 10)
    1.0
    """
    check_frame(data, "dick_basu")
    min_n = check_int(min_n, "min_n", minimum=0)
    stats.z_value(level)
    cols = ["quadrant", "n", "count", "n_eff", "share", "ci_low", "ci_high"]
    if by is not None and by in [*cols, "suppressed"]:
        raise CsmError(f"by column {by!r} has the name of an output column — rename the column first")
    require_column(data, attitude, role="relative attitude")
    w = stats.get_weights(data, weights)
    att = number_array(data, attitude, role="relative attitude")
    att_high, att_text = _attitude_high(att, attitude_rule, attitude_scale, data, attitude)
    rep, rep_high, rep_text = _repeat_high(data, repeat, repeat_rule, w)
    answered = np.isfinite(att) & np.isfinite(rep)
    rows = []
    for label, pos in group_positions(data, by):
        ok = answered[pos]
        for quadrant in QUADRANTS:
            a_hi, r_hi = next(k for k, v in _QUADRANT_OF.items() if v == quadrant)
            hit = ok & (att_high[pos] == a_hi) & (rep_high[pos] == r_hi)
            n, neff, p, lo, hi = _share_ci(hit, ok, w[pos], level)
            row = {"quadrant": quadrant, "n": n, "count": int(hit.sum()), "n_eff": neff, "share": p,
                   "ci_low": lo, "ci_high": hi}
            rows.append(row if by is None else {by: label, **row})
    table = pd.DataFrame(rows, columns=([by] if by else []) + cols)
    for c in ("count", "n_eff", "share", "ci_low", "ci_high"):
        table[c] = table[c].astype("float64")
    table["n"] = table["n"].astype("int64")
    out = stats.suppress(table, min_n=min_n, keep=[c for c in (by, "quadrant") if c], by=by, within=["quadrant"])
    out["count"] = out["count"].round().astype("Int64")  # whole counts; <NA> when suppressed
    out.attrs["rule"] = f"relative attitude high: {att_text}; repeat patronage high: {rep_text}"
    out.attrs["level"] = level
    return out


# --------------------------------------------------------------------------- loyalty measures
_MEASURE_COLUMNS = ["measure", "label", "value", "ci_low", "ci_high", "n", "n_eff", "source", "definition",
                    "suppressed"]


# The label (a fixed English name, marked with N_) is shown in the report language; the
# definition comes already translated; the source stays English (the display translates it).
def _survey_row(measure: str, label: str, hit: np.ndarray, ok: np.ndarray, w: np.ndarray, level: float,
                definition: str) -> dict[str, Any]:
    n, neff, p, lo, hi = _share_ci(hit, ok, w, level)
    return {"measure": measure, "label": tr(label), "value": p, "ci_low": lo, "ci_high": hi, "n": n,
            "n_eff": neff, "source": _SURVEY, "definition": definition}


def _figure_row(measure: str, label: str, value: float, base: int | None, definition: str) -> dict[str, Any]:
    return {"measure": measure, "label": tr(label), "value": float(value), "ci_low": math.nan, "ci_high": math.nan,
            "n": base, "n_eff": math.nan, "source": N_("company figures"), "definition": definition}


_SURVEY = N_("survey")
#: Indicator ids of :func:`market_indicators`, shown as they are in the report's table (marked
#: for the catalogs; the display step translates them).
_INDICATOR_IDS = (N_("reputation"), N_("awareness"), N_("return_rate"), N_("referral_rate"), N_("complaint_rate"),
                  N_("sales_power"))


def _finish_measures(rows: list[dict[str, Any]], min_n: int) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=_MEASURE_COLUMNS[:-1])
    for c in ("value", "ci_low", "ci_high", "n_eff"):
        table[c] = table[c].astype("float64")
    table["n"] = table["n"].astype("Int64")
    survey = table["source"].eq(_SURVEY).to_numpy()
    small = survey & (table["n"].fillna(0).to_numpy(dtype=float) < min_n)
    table["suppressed"] = small
    table.attrs["min_n"] = min_n
    if small.any():
        table.loc[small, ["value", "ci_low", "ci_high", "n_eff"]] = np.nan
    return table


def _agree_row(data: pd.DataFrame, col: str, measure: str, label: str, definition: str,
               scale: tuple[float, float], w: np.ndarray, level: float) -> dict[str, Any]:
    lo, hi = (float(v) for v in scale)
    if not lo < hi:
        raise CsmError(f"scale of {col!r} is [{lo:g}, {hi:g}]: the minimum must be below the maximum")
    x = number_array(data, col, role=label, lo=lo, hi=hi, what="ratings")
    ok = np.isfinite(x)
    text = _(definition, points=f"{hi - 1:g}-{hi:g}", scale=f"{lo:g}-{hi:g}", column=repr(col))
    return _survey_row(measure, label, ok & (x >= hi - 1), ok, w, level, text)


def _repeat_row(data: pd.DataFrame, col: str, w: np.ndarray, level: float) -> dict[str, Any]:
    s = data[col] if col in data.columns else None
    numeric = s is not None and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    values = s.to_numpy(dtype=float, na_value=np.nan) if numeric else None
    if numeric and np.isfinite(values).any() and np.nanmax(values) > 1:
        x = number_array(data, col, role="repeat purchases (count)", lo=0, what="counts")
        ok = np.isfinite(x)
        return _survey_row("repeat_rate", N_("Repeat-purchase rate"), ok & (x >= 1), ok, w, level,
                           _("Share with at least one repeat purchase in the period (count column {column})",
                             column=repr(col)))
    x = yes_no_column(data, col, role="repeat purchase")
    ok = np.isfinite(x)
    return _survey_row("repeat_rate", N_("Repeat-purchase rate"), ok & (x == 1), ok, w, level,
                       _("Share who bought again in the period (yes/no column {column})", column=repr(col)))


def loyalty_measures(data: pd.DataFrame, *, study: Study | None = None, repeat: str | None = None,
                     price_sensitivity: str | None = None, competitor_attitude: str | None = None,
                     incident_tolerance: str | None = None, scale: tuple[float, float] | None = None,
                     customers: int | None = None, customers_new: int | None = None,
                     customers_lost: int | None = None, weights: str | None = None, level: float = 0.95,
                     min_n: int = 5) -> pd.DataFrame:
    """Loyalty measures where data exist (SPEC §1.4, Dick & Basu 1994).

    From the survey (weighted shares with Wilson intervals on Kish's effective n):

    - ``repeat_rate``: share who bought again (a yes/no item; for a count of repeat purchases,
      the share with at least one);
    - ``price_sensitivity``: share agreeing (top two points) that they would switch for a
      slightly better rate — high = price sensitive, a weak bond;
    - ``competitor_attitude``: share agreeing that competitors are as good;
    - ``incident_tolerance``: share agreeing that they would stay after a service failure.

    From the company figures (no sampling error, no interval):

    - ``acquisition_rate`` = customers_new / customers;
    - ``churn_rate`` = customers_lost / customers.

    Each measure is listed only when its column or figures are given; a column the arguments
    name overrides the study's ``loyalty`` and ``market`` settings.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    study : Study, optional
        Takes the columns from ``study.loyalty``, the agreement scale from
        ``study.scale_for(col, "loyalty")`` and the figures from ``study.market``.
    repeat, price_sensitivity, competitor_attitude, incident_tolerance : str, optional
        Columns (override the study's).
    scale : tuple of float, optional
        ``(min, max)`` of the agreement items; default the study's scale, else (1, 5).
    customers, customers_new, customers_lost : int, optional
        Customer base at the start of the period, customers acquired and lost in it.
    weights : str, optional
        Weight column.
    level : float
        Confidence level.
    min_n : int
        A survey measure answered by fewer respondents is suppressed.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure`` (id above), ``label`` (in the report language), ``value`` (a proportion),
        ``ci_low``, ``ci_high``, ``n`` (respondents who answered; the customer base for company
        figures), ``n_eff``, ``source`` (``"survey"`` or ``"company figures"``), ``definition``
        (in the report language) and ``suppressed``.

    Raises
    ------
    CsmError
        When a column named is not in the data, or a figure is invalid.
    DataError
        When answers do not fit (an agreement rating off the scale, a repeat answer not yes/no).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> from csm_helpers.study.config import load_study
    >>> t = loyalty_measures(read_dataset("responses"), study=load_study(sample_study_path()))
    >>> t[["measure", "n", "source"]]
                   measure       n           source
    0          repeat_rate    2400           survey
    1    price_sensitivity    2362           survey
    2  competitor_attitude    2361           survey
    3   incident_tolerance    2358           survey
    4     acquisition_rate  180000  company figures
    5           churn_rate  180000  company figures
    >>> round(float(t.loc[4, "value"]), 4)
    0.1167
    """
    check_frame(data, "loyalty_measures")
    min_n = check_int(min_n, "min_n", minimum=0)
    stats.z_value(level)
    if study is not None and not isinstance(study, Study):
        raise CsmError(f"loyalty_measures: `study` must be a Study (load_study(...)), got {type(study).__name__}")
    loy = study.loyalty if study is not None else None
    mkt = study.market if study is not None else None
    repeat = repeat or (loy.repeat if loy else None)
    items = {
        "price_sensitivity": (price_sensitivity or (loy.price_sensitivity if loy else None), N_("Price sensitivity"),
                              N_("Share agreeing ({points} on {scale}) that they would switch for a slightly better "
                                 "rate (high = price sensitive); column {column}")),
        "competitor_attitude": (competitor_attitude or (loy.competitor_attitude if loy else None),
                                N_("Attitude to competitors"),
                                N_("Share agreeing ({points} on {scale}) that competitors are as good; column "
                                   "{column}")),
        "incident_tolerance": (incident_tolerance or (loy.incident_tolerance if loy else None),
                               N_("Tolerance of quality incidents"),
                               N_("Share agreeing ({points} on {scale}) that they would stay after a service "
                                  "failure; column {column}")),
    }
    customers = customers if customers is not None else (mkt.customers if mkt else None)
    customers_new = customers_new if customers_new is not None else (mkt.customers_new if mkt else None)
    customers_lost = customers_lost if customers_lost is not None else (mkt.customers_lost if mkt else None)

    w = stats.get_weights(data, weights)
    rows: list[dict[str, Any]] = []
    if repeat:
        require_column(data, repeat, role="repeat purchase")
        rows.append(_repeat_row(data, repeat, w, level))
    for measure, (col, label, definition) in items.items():
        if not col:
            continue
        require_column(data, col, role=label)
        sc = scale if scale is not None else (study.scale_for(col, "loyalty") if study is not None else (1, 5))
        rows.append(_agree_row(data, col, measure, label, definition, sc, w, level))
    if customers_new is not None or customers_lost is not None:
        base = _check_figure(customers, "customers", positive=True)
        if customers_new is not None:
            new = _check_figure(customers_new, "customers_new")
            rows.append(_figure_row("acquisition_rate", N_("Acquisition rate"), new / base, int(base),
                                    _("New customers in the period / customers at its start ({new} / {base})",
                                      new=f"{new:,.0f}", base=f"{base:,.0f}")))
        if customers_lost is not None:
            lost = _check_figure(customers_lost, "customers_lost")
            rows.append(_figure_row("churn_rate", N_("Churn rate"), lost / base, int(base),
                                    _("Customers lost in the period / customers at its start ({lost} / {base})",
                                      lost=f"{lost:,.0f}", base=f"{base:,.0f}")))
    return _finish_measures(rows, min_n)


def _check_figure(value: Any, name: str, *, positive: bool = False) -> float:
    if value is None:
        raise CsmError(f"`{name}` is needed for the acquisition and churn rates — set market.{name} in study.yaml "
                       f"or pass {name}=...")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not (
            math.isfinite(value) and (value > 0 if positive else value >= 0)):
        raise CsmError(f"The value for `{name}` must be a number {'> 0' if positive else '>= 0'}, "
                       f"but {value!r} was passed.")
    return float(value)


# --------------------------------------------------------------------------- market indicators
def market_indicators(data: pd.DataFrame, *, praise: str | None = None, awareness: str | None = None,
                      referral: str | None = None, repurchase: str | None = None,
                      complaint_rate: float | None = None, sales_growth: float | None = None,
                      weights: str | None = None, level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Market indicators where the study supplies them (SPEC §1.4).

    - ``reputation``: share who would praise the company to others (yes/no column ``praise``);
    - ``awareness``: share who name the brand unaided (``awareness``);
    - ``return_rate``: share who bought again (``repurchase``) or, when no repurchase item is
      given, share who referred someone (``referral``);
    - ``referral_rate``: share who referred someone, listed apart when both items are given;
    - ``complaint_rate``: complaints per customer in the period (a number, e.g.
      ``complaint_summary(...)["complaint_rate"]``);
    - ``sales_power``: sales growth in the period as a proportion (0.04 = +4%).

    Survey shares are weighted when ``weights`` is given, with Wilson intervals on Kish's
    effective n; the two company figures have no interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    praise, awareness, referral, repurchase : str, optional
        Yes/no columns (1/0, yes/no, true/false); see ``study.market`` and ``study.loyalty.repeat``.
    complaint_rate, sales_growth : float, optional
        Company figures; None (or a NaN complaint rate, as ``complaint_summary`` gives without a
        customer count) leaves the indicator out.
    weights : str, optional
        Weight column.
    level : float
        Confidence level.
    min_n : int
        A survey share answered by fewer respondents is suppressed.

    Returns
    -------
    pandas.DataFrame
        One row per indicator given: ``indicator``, ``label``, ``value`` (proportion),
        ``ci_low``, ``ci_high``, ``n`` (respondents who answered; missing for company figures),
        ``n_eff``, ``source``, ``definition``, ``suppressed``.

    Raises
    ------
    CsmError
        When a column is not in the data or a figure is not a finite number.
    DataError
        When a yes/no column holds other answers.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> t = market_indicators(read_dataset("responses"), praise="praise_us", awareness="aware_unaided",
    ...                       referral="referred", repurchase="repeat_12m", sales_growth=0.04)
    >>> t[["indicator", "n", "source"]]
           indicator     n           source
    0     reputation  2400           survey
    1      awareness  2400           survey
    2    return_rate  2400           survey
    3  referral_rate  2400           survey
    4    sales_power  <NA>  company figures
    """
    check_frame(data, "market_indicators")
    min_n = check_int(min_n, "min_n", minimum=0)
    stats.z_value(level)
    w = stats.get_weights(data, weights)
    rows: list[dict[str, Any]] = []

    def share(measure: str, label: str, col: str, definition: str) -> None:
        x = yes_no_column(data, col, role=label)
        ok = np.isfinite(x)
        rows.append(_survey_row(measure, label, ok & (x == 1), ok, w, level, _(definition, column=repr(col))))

    if praise:
        share("reputation", N_("Reputation"), praise, N_("Share who would praise the company to others (column "
                                                         "{column})"))
    if awareness:
        share("awareness", N_("Awareness"), awareness, N_("Share who name the brand unaided (column {column})"))
    if repurchase:
        share("return_rate", N_("Return rate"), repurchase, N_("Share who bought again (repurchase) (column "
                                                               "{column})"))
        if referral:
            share("referral_rate", N_("Referral rate"), referral, N_("Share who referred someone (column {column})"))
    elif referral:
        share("return_rate", N_("Return rate"), referral, N_("Share who referred someone (referral) (column "
                                                             "{column})"))
    if complaint_rate is not None and not (isinstance(complaint_rate, float) and math.isnan(complaint_rate)):
        # NaN is what complaint_summary gives without a customer count: not known, not an error
        value = _finite(complaint_rate, "complaint_rate", minimum=0.0)
        rows.append(_figure_row("complaint_rate", N_("Complaint rate"), value, None,
                                _("Complaints per customer in the period (complaint log / customer base)")))
    if sales_growth is not None:
        value = _finite(sales_growth, "sales_growth", minimum=-1.0)
        rows.append(_figure_row("sales_power", N_("Sales power"), value, None,
                                _("Sales growth in the period (0.04 = +4%)")))
    table = _finish_measures(rows, min_n)
    return table.rename(columns={"measure": "indicator"})


def _finite(value: Any, name: str, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not (
            math.isfinite(value) and value >= minimum):
        raise CsmError(f"The value for `{name}` must be a finite number >= {minimum:g}, but {value!r} was passed.")
    return float(value)
