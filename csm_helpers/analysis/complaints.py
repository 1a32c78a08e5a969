"""Complaints and lost customers (SPEC §1.4, "Complaints" and "Why customers leave").

- :func:`complaint_summary`: from the complaint log, the complaint rate, the Pareto of
  categories, valid vs invalid complaints, time to resolve (median, share within the SLA, open
  complaints apart), repeat complaints and the follow-up outcome;
- :func:`complaint_iceberg`: how many dissatisfied customers the formal complaints stand for
  (by default 5% complain formally, 35% voice it elsewhere, 60% say nothing);
- :func:`lost_reasons`: why customers left, against the classic benchmark (1% die, 3% move
  away, 5% form other relationships, 9% lured by competitors, 14% product dissatisfaction, 68%
  staff indifference), with a chi-square goodness-of-fit test.

The complaint log is untrusted input: categories and outcomes are returned as plain text (the
display step escapes them). Nothing is rounded here.
"""

from __future__ import annotations

import math
import unicodedata
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from csm_helpers.core.checks import check_int
from csm_helpers.core.errors import CsmError, DataError, format_rows
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.study.config import AnalysisSpec, ComplaintsSpec
from csm_helpers.study.table import Table

__all__ = [
    "OTHER_SUPPRESSED",
    "ICEBERG_LAYERS",
    "complaint_summary",
    "complaint_iceberg",
    "lost_reasons",
]

#: Pareto row that pools the categories with fewer than ``min_n`` complaints.
OTHER_SUPPRESSED = N_("other (suppressed)")
#: Layers of :func:`complaint_iceberg`, top (visible) to bottom.
ICEBERG_LAYERS = (N_("formal"), N_("elsewhere"), N_("silent"))

_VALID = {"1", "1.0", "yes", "y", "true", "t", "valid", "justified", "có", "是"}
_INVALID = {"0", "0.0", "no", "n", "false", "f", "invalid", "unjustified", "không", "否"}
_OUTCOME_ORDER = (N_("satisfied"), N_("neutral"), N_("dissatisfied"))
# Words of the result tables, kept in English there (the display step translates them).
_NOT_RECORDED = N_("not recorded")
_VALIDITY = (N_("valid"), N_("invalid"), _NOT_RECORDED)


# --------------------------------------------------------------------------- input helpers
class _Log:
    """The complaint log with what is needed to name its rows in messages."""

    def __init__(self, log: pd.DataFrame | Table, spec: ComplaintsSpec) -> None:
        if isinstance(log, Table):
            self.data, self.table, self.file = log.data, log, log.source.name
        elif isinstance(log, pd.DataFrame):
            self.data, self.table, self.file = log, None, spec.file
        else:
            raise CsmError(f"complaint_summary: expected the complaint log as a DataFrame, got {type(log).__name__} "
                           "— read it with read_study_table(study, 'complaints')")
        self.spec = spec

    def rows(self, mask: np.ndarray) -> str:
        if self.table is not None:
            return format_rows(self.table.row_numbers(mask))
        pos = np.flatnonzero(mask)
        if isinstance(self.data.index, pd.RangeIndex) and self.data.index.start == 0 and self.data.index.step == 1:
            return format_rows([int(p) + 2 for p in pos])  # CSV: header = row 1
        return "index " + ", ".join(str(i) for i in self.data.index[pos[:5]]) + (
            f" (+{len(pos) - 5} more)" if len(pos) > 5 else "")

    def column(self, field: str, *, required: bool = False) -> str | None:
        """The log's column for a spec field; None when it is optional, not set and absent."""
        col = getattr(self.spec, field)
        if col is None or not isinstance(col, str):
            return None
        if col in self.data.columns:
            return col
        if required or field in self.spec.model_fields_set:
            found = ", ".join(repr(str(c)) for c in self.data.columns[:15])
            raise DataError(f"{self.file}: column {col!r} (complaints.{field} in study.yaml) is not in the complaint "
                            f"log (columns: {found}) — rename the column or set complaints.{field}")
        return None

    def shown(self, col: str, mask: np.ndarray) -> str:
        values = self.data[col].to_numpy()[np.flatnonzero(mask)[:5]]
        return ", ".join(dict.fromkeys(repr(str(v)) for v in values))


def _blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | s.astype(str).str.strip().eq("")).to_numpy(dtype=bool)


def _dates(log: _Log, col: str) -> pd.Series:
    """ISO dates (``YYYY-MM-DD``, optionally with a time) as UTC timestamps; blank = NaT."""
    s = log.data[col]
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s, utc=True)
        return pd.Series(out.to_numpy(), index=s.index)
    blank = _blank(s)
    text = s.astype(str).str.strip().where(~blank)
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    except (ValueError, TypeError):  # pragma: no cover - pandas coerces; kept as a guard
        parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    bad = ~blank & parsed.isna().to_numpy()
    if bad.any():
        raise DataError(f"{log.file}, column {col!r}, {log.rows(bad)}: {log.shown(col, bad)} "
                        f"{'is' if bad.sum() == 1 else 'are'} not a date in ISO form (YYYY-MM-DD) — fix the "
                        "date in the log (leave it empty when unknown)")
    return parsed


def _fold(v: Any) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    text = unicodedata.normalize("NFC", str(v)).strip()
    return text.casefold() if text else None


# --------------------------------------------------------------------------- Pareto
def _pareto(categories: pd.Series, min_n: int) -> pd.DataFrame:
    """Pareto table; categories below ``min_n`` pooled (with complementary pooling, so the pool
    itself never holds fewer than ``min_n`` complaints while other categories are shown)."""
    counts = categories.value_counts(sort=False)
    order = sorted(counts.index, key=lambda c: (-int(counts[c]), str(c)))
    counts = counts.reindex(order)
    total = int(counts.sum())
    small = counts < min_n
    # Complementary pooling: a pool smaller than min_n would be recoverable, add the next smallest.
    while 0 < int(counts[small].sum()) < min_n and not small.all():
        small[counts[~small].index[-1]] = True
    shown = counts[~small]
    names = [str(c) for c in shown.index]
    values = [int(v) for v in shown.to_numpy()]
    if small.any():
        names.append(OTHER_SUPPRESSED)
        values.append(int(counts[small].sum()))
    table = pd.DataFrame({"category": pd.Series(names, dtype=object), "count": pd.Series(values, dtype="int64")})
    table["share"] = table["count"] / total if total else np.nan
    table["cumulative_share"] = table["share"].cumsum()
    return table


# --------------------------------------------------------------------------- summary
def complaint_summary(log: pd.DataFrame | Table, *, spec: ComplaintsSpec, customers: int | None,
                      sla_days: float = 7, min_n: int = 5, as_of: Any = None) -> dict[str, Any]:
    """Complaint metrics from the complaint log (SPEC §1.4 "Complaints").

    - **Complaint rate**: complaints in the log / ``customers`` (also per 1,000 customers);
      every complaint received counts, valid or not.
    - **Pareto of categories**: complaints per category, largest first, with the share and the
      cumulative share; categories with fewer than ``min_n`` complaints are pooled into
      ``"other (suppressed)"`` (last row), and while that pool holds fewer than ``min_n``
      complaints the next smallest category joins it, so no small count can be recovered.
    - **Valid vs invalid**: counts and shares (``valid`` column: yes/no, true/false, 1/0,
      valid/invalid); unrecorded validity is counted apart.
    - **Time to resolve**: days from ``received`` to ``resolved`` for resolved complaints;
      median, and share resolved within the SLA (the per-complaint ``sla_days`` column, or
      ``sla_days`` for complaints without one). Complaints without a resolution date are open
      and counted apart (not in the median), with the number already older than their SLA on
      ``as_of`` (default: the latest date in the log).
    - **Repeat complaints**: share of complainants (distinct ``customer`` ids) with two or more
      complaints, and share of complaints that come from them.
    - **Follow-up outcome**: shares of the outcomes recorded (satisfied / neutral /
      dissatisfied first, then any other value), among complaints with an outcome.

    Dates must be ISO (``YYYY-MM-DD``, optionally with a time). When the log holds fewer than
    ``min_n`` complaints every statistic is missing (``suppressed`` is True; SPEC §4).

    Parameters
    ----------
    log : pandas.DataFrame or Table
        The complaint log, one row per complaint (``read_study_table(study, "complaints")``; a
        Table gives exact file row numbers in messages). Not modified.
    spec : ComplaintsSpec
        ``study.complaints``: which column plays which role. An optional column left at its
        default and absent from the log skips its metric; one set explicitly must exist.
    customers : int or None
        Customer base of the period (e.g. ``study.market.customers``); None: no rate.
    sla_days : float
        SLA in days for complaints without their own (``study.analysis.sla_days``).
    min_n : int
        Minimum cell size.
    as_of : date-like, optional
        Date the log was extracted, for the age of open complaints.

    Returns
    -------
    dict
        ``n_complaints`` (int), ``suppressed`` (bool), ``customers``, ``complaint_rate``
        (complaints per customer), ``complaints_per_1000``; ``pareto`` (DataFrame ``category,
        count, share, cumulative_share``); ``validity`` (DataFrame ``valid, count, share`` with
        ``valid`` in "valid", "invalid", "not recorded"), ``n_valid``, ``n_invalid``,
        ``valid_share`` (among recorded); ``n_resolved``, ``n_open``, ``n_open_over_sla``,
        ``median_days_to_resolve``, ``share_within_sla`` (among resolved), ``as_of`` (ISO
        date); ``n_complainants``, ``n_repeat_complainants``, ``repeat_complainant_share``,
        ``repeat_complaint_share``; ``outcomes`` (DataFrame ``outcome, count, share``),
        ``n_followed_up``; and ``overview``, a DataFrame ``metric, value, n, definition`` of
        the headline numbers for display (``definition`` in the report language). Shares are proportions; a metric whose column is
        absent is NaN.

    Raises
    ------
    CsmError
        When an argument is invalid.
    DataError
        When a column is missing, a date is not ISO, a complaint is resolved before it was
        received, a validity or SLA value is not understood, or a complaint id repeats (each
        message names the file, rows and column).

    Examples
    --------
    >>> from csm_helpers.study.config import ComplaintsSpec
    >>> log = pd.DataFrame({
    ...     "complaint_id": [f"C{i}" for i in range(12)], "customer_id": list("aabcdefghijk"),
    ...     "category": ["fees"] * 6 + ["app"] * 5 + ["rates"], "valid": ["yes"] * 10 + ["no"] * 2,
    ...     "received": ["2026-01-01"] * 12, "resolved": ["2026-01-02"] * 6 + ["2026-01-11"] * 5 + [""],
    ...     "sla_days": 7, "outcome": ["satisfied"] * 8 + ["dissatisfied"] * 2 + [""] * 2})
    >>> s = complaint_summary(log, spec=ComplaintsSpec(file="log.csv"), customers=1000)
    >>> s["complaints_per_1000"], s["median_days_to_resolve"], round(s["share_within_sla"], 3), s["n_open"]
    (12.0, 1.0, 0.545, 1)
    >>> s["pareto"]  # 'rates' (1) alone would be recoverable, so 'app' joins the pool
                 category  count  share  cumulative_share
    0                fees      6    0.5               0.5
    1  other (suppressed)      6    0.5               1.0
    """
    lg = _Log(log, spec)
    data = lg.data
    min_n = check_int(min_n, "min_n", minimum=0)
    if isinstance(sla_days, bool) or not isinstance(sla_days, int | float) or not (
            math.isfinite(sla_days) and sla_days > 0):
        raise CsmError(f"The value for `sla_days` must be a number of days > 0, but {sla_days!r} was passed.")
    if customers is not None and (isinstance(customers, bool) or not isinstance(customers, int | np.integer)
                                  or customers <= 0):
        raise CsmError(f"The value for `customers` must be a whole number > 0 (or None), but {customers!r} "
                       "was passed — set market.customers in study.yaml")
    n = len(data)
    out: dict[str, Any] = {"n_complaints": n, "suppressed": n < min_n,
                           "customers": float(customers) if customers is not None else math.nan}

    cat_col = lg.column("category", required=True)
    id_col = lg.column("id")
    if id_col is not None:
        ids = data[id_col]
        dup = (ids.duplicated(keep=False) & ids.notna()).to_numpy(dtype=bool)
        if dup.any():
            raise DataError(f"{lg.file}, column {id_col!r}, {lg.rows(dup)}: complaint ids {lg.shown(id_col, dup)} "
                            "appear more than once — remove the duplicate rows (one row per complaint)")

    # Validity.
    valid_col = lg.column("valid")
    validity = np.full(n, _NOT_RECORDED, dtype=object)
    if valid_col is not None:
        folded = data[valid_col].map(_fold)
        is_valid = folded.isin(_VALID).to_numpy(dtype=bool)
        is_invalid = folded.isin(_INVALID).to_numpy(dtype=bool)
        bad = folded.notna().to_numpy(dtype=bool) & ~is_valid & ~is_invalid
        if bad.any():
            raise DataError(f"{lg.file}, column {valid_col!r}, {lg.rows(bad)}: {lg.shown(valid_col, bad)} — "
                            "validity must be yes/no, true/false, 1/0 or valid/invalid; fix the value or leave "
                            "it empty when not assessed")
        validity[is_valid] = "valid"
        validity[is_invalid] = "invalid"

    # Dates and SLA.
    rec_col, res_col = lg.column("received"), lg.column("resolved")
    received = _dates(lg, rec_col) if rec_col else None
    resolved = _dates(lg, res_col) if res_col else None
    sla = _sla(lg, sla_days)
    as_of_ts = _as_of(as_of, received, resolved)

    # Repeat complaints.
    cust_col = lg.column("customer")
    outcome_col = lg.column("outcome")

    if out["suppressed"]:
        return _suppressed_summary(out, n)

    out["complaint_rate"] = n / customers if customers is not None else math.nan
    out["complaints_per_1000"] = 1000.0 * n / customers if customers is not None else math.nan
    categories = data[cat_col].map(lambda v: N_("(no category)") if _fold(v) is None
                                   else unicodedata.normalize("NFC", str(v)).strip())
    out["pareto"] = _pareto(categories, min_n)

    counts = pd.Series(validity).value_counts()
    labels = [v for v in _VALIDITY if counts.get(v, 0) or v != _NOT_RECORDED]
    out["validity"] = pd.DataFrame({"valid": pd.Series(labels, dtype=object),
                                    "count": [int(counts.get(v, 0)) for v in labels]})
    out["validity"]["share"] = out["validity"]["count"] / n
    n_valid, n_invalid = int(counts.get("valid", 0)), int(counts.get("invalid", 0))
    out["n_valid"], out["n_invalid"] = (n_valid, n_invalid) if valid_col else (math.nan, math.nan)
    out["valid_share"] = n_valid / (n_valid + n_invalid) if valid_col and n_valid + n_invalid else math.nan

    out.update(_resolution(lg, received, resolved, sla, as_of_ts))
    out.update(_repeats(data, cust_col))
    out.update(_outcomes(data, outcome_col))
    out["overview"] = _overview(out, sla_definition=_sla_definition(lg, sla_days))
    return out


def _sla(lg: _Log, default: float) -> np.ndarray:
    spec_sla = lg.spec.sla_days
    n = len(lg.data)
    if isinstance(spec_sla, int | float) and not isinstance(spec_sla, bool):
        if not (math.isfinite(spec_sla) and spec_sla > 0):
            raise DataError(f"complaints.sla_days in study.yaml is {spec_sla!r} — give a number of days > 0")
        return np.full(n, float(spec_sla))
    col = lg.column("sla_days")
    if col is None:
        return np.full(n, float(default))
    s = lg.data[col]
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    blank = _blank(s)
    bad = (~blank & ~np.isfinite(x)) | (np.isfinite(x) & (x <= 0))
    if bad.any():
        raise DataError(f"{lg.file}, column {col!r}, {lg.rows(bad)}: {lg.shown(col, bad)} — the SLA must be a "
                        "number of days > 0 (leave it empty to use analysis.sla_days)")
    return np.where(np.isfinite(x), x, float(default))


def _sla_definition(lg: _Log, sla_days: float) -> str:
    """Definition of "Resolved within SLA", naming where the SLA comes from (report language)."""
    default = f"{sla_days:g}"
    if isinstance(lg.spec.sla_days, int | float) and not isinstance(lg.spec.sla_days, bool):
        return _("Share of resolved complaints closed within the SLA (complaints.sla_days = {sla} days; default "
                 "{default} days)", sla=f"{lg.spec.sla_days:g}", default=default)
    col = lg.column("sla_days")
    if col:
        return _("Share of resolved complaints closed within the SLA (the log's {column} column; default {default} "
                 "days)", column=repr(col), default=default)
    return _("Share of resolved complaints closed within the SLA (analysis.sla_days; default {default} days)",
             default=default)


def _as_of(as_of: Any, received: pd.Series | None, resolved: pd.Series | None) -> pd.Timestamp | None:
    if as_of is not None:
        try:
            ts = pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise CsmError(f"The value for `as_of` must be a date (e.g. '2026-06-30'), but {as_of!r} was passed.") from None
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    latest = [s.max() for s in (received, resolved) if s is not None and s.notna().any()]
    return max(latest) if latest else None


def _resolution(lg: _Log, received: pd.Series | None, resolved: pd.Series | None, sla: np.ndarray,
                as_of: pd.Timestamp | None) -> dict[str, Any]:
    nan = math.nan
    out: dict[str, Any] = {"n_resolved": nan, "n_open": nan, "n_open_over_sla": nan,
                           "median_days_to_resolve": nan, "share_within_sla": nan,
                           "as_of": as_of.date().isoformat() if as_of is not None else None}
    if resolved is None:
        return out
    is_open = resolved.isna().to_numpy()
    out["n_open"] = int(is_open.sum())
    out["n_resolved"] = int((~is_open).sum())
    if received is None:
        return out
    days = ((resolved - received).dt.total_seconds() / 86400.0).to_numpy(dtype=float, na_value=np.nan)
    negative = np.isfinite(days) & (days < 0)
    if negative.any():
        raise DataError(f"{lg.file}, {lg.rows(negative)}: the complaint is resolved before it was received "
                        f"(columns {lg.spec.resolved!r} and {lg.spec.received!r}) — fix the dates")
    done = np.isfinite(days)
    if done.any():
        out["median_days_to_resolve"] = float(np.median(days[done]))
        out["share_within_sla"] = float(np.mean(days[done] <= sla[done]))
    if as_of is not None:
        age = ((as_of - received).dt.total_seconds() / 86400.0).to_numpy(dtype=float, na_value=np.nan)
        out["n_open_over_sla"] = int(np.sum(is_open & np.isfinite(age) & (age > sla)))
    return out


def _repeats(data: pd.DataFrame, col: str | None) -> dict[str, Any]:
    nan = math.nan
    if col is None:
        return {"n_complainants": nan, "n_repeat_complainants": nan, "repeat_complainant_share": nan,
                "repeat_complaint_share": nan}
    ids = data[col].map(lambda v: None if _fold(v) is None else str(v).strip()).dropna()
    per = ids.value_counts()
    repeaters = per[per >= 2]
    return {"n_complainants": len(per), "n_repeat_complainants": len(repeaters),
            "repeat_complainant_share": len(repeaters) / len(per) if len(per) else nan,
            "repeat_complaint_share": float(repeaters.sum()) / len(ids) if len(ids) else nan}


def _outcomes(data: pd.DataFrame, col: str | None) -> dict[str, Any]:
    empty = pd.DataFrame({"outcome": pd.Series(dtype=object), "count": pd.Series(dtype="int64"),
                          "share": pd.Series(dtype="float64")})
    if col is None:
        return {"outcomes": empty, "n_followed_up": math.nan}
    values = data[col].map(lambda v: None if _fold(v) is None else unicodedata.normalize("NFC", str(v)).strip())
    values = values.dropna()
    if values.empty:
        return {"outcomes": empty, "n_followed_up": 0}
    key = values.str.casefold()
    counts = key.value_counts()
    first_spelling = dict(zip(key, values, strict=True))
    order = [o for o in _OUTCOME_ORDER if o in counts.index] + sorted(set(counts.index) - set(_OUTCOME_ORDER))
    table = pd.DataFrame({"outcome": pd.Series([first_spelling[o] if o not in _OUTCOME_ORDER else o for o in order],
                                               dtype=object),
                          "count": pd.Series([int(counts[o]) for o in order], dtype="int64")})
    table["share"] = table["count"] / len(values)
    return {"outcomes": table, "n_followed_up": len(values)}


def _overview(s: dict[str, Any], *, sla_definition: str) -> pd.DataFrame:
    # metric names stay English (the display translates them); definitions are in the report
    # language; "unit" is count, rate (per 1,000), share or days.
    def share_of(table: pd.DataFrame, key: str, value: str) -> float:
        hit = table.loc[table[key] == value, "share"]
        return float(hit.iloc[0]) if len(hit) else (0.0 if len(table) else math.nan)

    n = s["n_complaints"]
    # (metric, value, n, definition, unit): the unit tells the display how to show the value
    rows = [
        (N_("Complaints"), float(n), n, _("Complaints in the log"), "count"),
        (N_("Complaint rate per 1,000 customers"), s["complaints_per_1000"], n,
         _("1,000 x complaints / customer base"), "rate"),
        (N_("Valid complaints"), s["valid_share"], _int_or_na(s["n_valid"], s["n_invalid"]),
         _("Share judged valid, among complaints assessed"), "share"),
        (N_("Median days to resolve"), s["median_days_to_resolve"], _int_or_na(s["n_resolved"]),
         _("Median days from received to resolved (resolved complaints)"), "days"),
        (N_("Resolved within SLA"), s["share_within_sla"], _int_or_na(s["n_resolved"]), sla_definition, "share"),
        (N_("Open complaints"), s["n_open"], n,
         _("No resolution date as of {date}", date=s["as_of"]) if s["as_of"] else
         _("No resolution date as of extraction"), "count"),
        (N_("Open beyond SLA"), s["n_open_over_sla"], _int_or_na(s["n_open"]),
         _("Open complaints already older than their SLA"), "count"),
        (N_("Repeat complainants"), s["repeat_complainant_share"], _int_or_na(s["n_complainants"]),
         _("Share of complainants with two or more complaints"), "share"),
        (N_("Complaints from repeat complainants"), s["repeat_complaint_share"], n,
         _("Share of complaints made by customers with two or more complaints"), "share"),
        (N_("Satisfied with the follow-up"), share_of(s["outcomes"], "outcome", "satisfied"),
         _int_or_na(s["n_followed_up"]), _("Share 'satisfied' among complaints with a follow-up outcome"), "share"),
    ]
    table = pd.DataFrame(rows, columns=["metric", "value", "n", "definition", "unit"])
    table["value"] = table["value"].astype("float64")
    table["n"] = table["n"].astype("Int64")
    return table


def _int_or_na(*values: Any) -> Any:
    if any(isinstance(v, float) and math.isnan(v) for v in values):
        return pd.NA
    return int(sum(values))


def _suppressed_summary(out: dict[str, Any], n: int) -> dict[str, Any]:
    nan = math.nan
    for key in ("complaint_rate", "complaints_per_1000", "n_valid", "n_invalid", "valid_share", "n_resolved",
                "n_open", "n_open_over_sla", "median_days_to_resolve", "share_within_sla", "n_complainants",
                "n_repeat_complainants", "repeat_complainant_share", "repeat_complaint_share", "n_followed_up"):
        out[key] = nan
    out["as_of"] = None
    out["pareto"] = pd.DataFrame({"category": pd.Series(dtype=object), "count": pd.Series(dtype="int64"),
                                  "share": pd.Series(dtype="float64"),
                                  "cumulative_share": pd.Series(dtype="float64")})
    out["validity"] = pd.DataFrame({"valid": pd.Series(dtype=object), "count": pd.Series(dtype="int64"),
                                    "share": pd.Series(dtype="float64")})
    out["outcomes"] = pd.DataFrame({"outcome": pd.Series(dtype=object), "count": pd.Series(dtype="int64"),
                                    "share": pd.Series(dtype="float64")})
    out["overview"] = pd.DataFrame({"metric": [N_("Complaints")], "value": [nan], "n": pd.array([n], dtype="Int64"),
                                    "definition": [_("Fewer complaints than the minimum cell size: suppressed")]})
    return out


# --------------------------------------------------------------------------- iceberg
def complaint_iceberg(formal_complaints: int, *, formal: float = 0.05, elsewhere: float = 0.35,
                      silent: float = 0.60) -> pd.DataFrame:
    """The complaint iceberg: dissatisfied customers behind the formal complaints (SPEC §1.4).

    Only a small share of dissatisfied customers complain formally; the rest voice their
    dissatisfaction elsewhere (to staff, friends, online) or say nothing. With the shares of
    the three layers (default 5% / 35% / 60%), the estimated number of dissatisfied customers is
    ``formal_complaints / formal`` and each layer holds its share of them. The shares are an
    assumption of the method, not estimated from the data, so no interval is given.

    Parameters
    ----------
    formal_complaints : int
        Formal complaints in the period (e.g. ``complaint_summary(...)["n_complaints"]``).
    formal, elsewhere, silent : float
        Shares of dissatisfied customers in each layer (``study.analysis.iceberg``); they must
        add up to 1 and ``formal`` must be above 0.

    Returns
    -------
    pandas.DataFrame
        Rows ``formal``, ``elsewhere``, ``silent`` and ``all dissatisfied``; columns ``layer``,
        ``label`` (in the report language), ``visible`` (True only for the formal tip), ``share`` (of all dissatisfied)
        and ``estimated_customers``.

    Raises
    ------
    CsmError
        When the count is not a whole number >= 0, or the shares are invalid.

    Examples
    --------
    >>> complaint_iceberg(100)[["layer", "share", "estimated_customers"]]
                  layer  share  estimated_customers
    0            formal   0.05                100.0
    1         elsewhere   0.35                700.0
    2            silent   0.60               1200.0
    3  all dissatisfied   1.00               2000.0
    """
    formal_complaints = check_int(formal_complaints, "formal_complaints", minimum=0)
    shares = {"formal": formal, "elsewhere": elsewhere, "silent": silent}
    for name, v in shares.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and 0 <= v <= 1):
            raise CsmError(f"The value for `{name}` must be a share between 0 and 1, but {v!r} was passed.")
    if formal <= 0:
        raise CsmError("The value for `formal` must be above 0: the estimate divides the formal complaints by it.")
    total = formal + elsewhere + silent
    if abs(total - 1) > 1e-9:
        raise CsmError(f"The iceberg shares must add up to 1, but formal + elsewhere + silent = {total:g} — "
                       "fix analysis.iceberg in study.yaml")
    dissatisfied = formal_complaints / formal
    labels = {"formal": N_("Complained formally"), "elsewhere": N_("Voiced it elsewhere (staff, friends, online)"),
              "silent": N_("Said nothing"), "all dissatisfied": N_("All dissatisfied customers")}
    layers = [*ICEBERG_LAYERS, N_("all dissatisfied")]
    estimated = [float(formal_complaints), dissatisfied * elsewhere, dissatisfied * silent, dissatisfied]
    return pd.DataFrame({
        "layer": pd.Series(layers, dtype=object),
        "label": pd.Series([tr(labels[k]) for k in layers], dtype=object),  # report language
        "visible": [True, False, False, False],
        "share": [float(formal), float(elsewhere), float(silent), 1.0],
        "estimated_customers": estimated,
    })


# --------------------------------------------------------------------------- lost customers
def lost_reasons(data: pd.DataFrame, *, reason: str, benchmark: dict[str, float] | None = None, min_n: int = 5,
                 seed: int = 0, n_sim: int = 10_000, monte_carlo: bool | None = None
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Why customers leave: observed reasons against the classic benchmark (SPEC §1.4).

    The benchmark (the default, ``AnalysisSpec().lost_benchmark``): 1% die, 3% move away, 5%
    form other relationships, 9% are lured by competitors, 14% leave dissatisfied with the
    product and 68% because of staff indifference. Each reason's observed count ``O`` is set
    against its expected count ``E = n x benchmark share``; ``residual`` is the Pearson residual
    ``(O - E) / sqrt(E)`` (above about 2 in absolute value: a reason clearly more, or less,
    common than the benchmark). The chi-square goodness-of-fit test is
    ``scipy.stats.chisquare(O, E)`` with ``k - 1`` degrees of freedom (Pearson, 1900).

    The chi-square approximation needs expected counts of about 5 or more (Cochran, 1954):
    when any ``E < 5`` a warning is issued and a Monte-Carlo p-value is computed by drawing
    ``n_sim`` multinomial samples of size ``n`` from the benchmark with
    ``numpy.random.default_rng(seed)`` (``p = (1 + #{X²_sim >= X²_obs}) / (n_sim + 1)``, Hope,
    1968); ``monte_carlo=True`` computes it always, ``False`` never.

    Reasons are matched to the benchmark ids ignoring case and surrounding spaces; missing
    reasons are left out (``n_missing``); any other reason is an error. Rows are the benchmark
    reasons (zero counts included); individual reasons are not suppressed — the table is one
    group — but when fewer than ``min_n`` customers gave a reason every statistic is missing.

    Pearson, K. (1900). *Philosophical Magazine*, 50(302), 157–175. Cochran, W. G. (1954). Some
    methods for strengthening the common χ² tests. *Biometrics*, 10(4), 417–451. Hope, A. C. A.
    (1968). A simplified Monte Carlo significance test procedure. *JRSS B*, 30(3), 582–598.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per lost customer; not modified.
    reason : str
        Column of the reason (``study.lost_customers.reason``).
    benchmark : dict of str to float, optional
        Reason id -> benchmark share (``study.analysis.lost_benchmark``); shares > 0 adding up
        to 1.
    min_n : int
        Minimum cell size.
    seed, n_sim : int
        Seed and number of draws of the Monte-Carlo p-value.
    monte_carlo : bool, optional
        None (default): Monte-Carlo p-value only when an expected count is below 5.

    Returns
    -------
    table : pandas.DataFrame
        ``reason, n, share, benchmark_share, expected_n, difference`` (share - benchmark share)
        ``, residual`` in benchmark order.
    test : dict
        ``n`` (customers with a reason), ``n_missing``, ``chi2``, ``df``, ``p_value``,
        ``min_expected``, ``small_expected`` (bool), ``p_value_mc`` (NaN when not computed),
        ``n_sim``, ``seed``, ``method``, ``note`` (the caveat in the report language, or "") and
        ``suppressed``.

    Raises
    ------
    CsmError
        When the column is missing or the benchmark invalid.
    DataError
        When reasons outside the benchmark occur (all listed, with their counts).

    Examples
    --------
    >>> lost = pd.DataFrame({"reason": ["staff_indifference"] * 600 + ["competitor"] * 250 + ["died"] * 150})
    >>> table, test = lost_reasons(lost, reason="reason")
    >>> table[["reason", "n", "expected_n"]]
                        reason    n  expected_n
    0                     died  150        10.0
    1               moved_away    0        30.0
    2      other_relationships    0        50.0
    3               competitor  250        90.0
    4  product_dissatisfaction    0       140.0
    5       staff_indifference  600       680.0
    >>> test["df"], test["small_expected"], test["p_value"] < 0.001
    (5, False, True)
    """
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"lost_reasons: expected a pandas DataFrame as data, got {type(data).__name__}")
    if not isinstance(reason, str) or reason not in data.columns:
        found = ", ".join(repr(str(c)) for c in data.columns[:15])
        raise CsmError(f"reason column {reason!r} is not in the data (columns: {found}) — pass reason= the column "
                       "that holds the reason (lost_customers.reason in study.yaml)")
    min_n = check_int(min_n, "min_n", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    n_sim = check_int(n_sim, "n_sim", minimum=1)
    bench = _check_benchmark(AnalysisSpec().lost_benchmark if benchmark is None else benchmark)
    keys = list(bench)
    by_fold = {k.strip().casefold(): k for k in keys}

    folded = data[reason].map(_fold)
    missing = folded.isna().to_numpy(dtype=bool)
    mapped = folded.map(lambda v: by_fold.get(v) if v is not None else None)
    unknown = ~missing & mapped.isna().to_numpy(dtype=bool)
    if unknown.any():
        raw = data[reason][unknown].map(lambda v: str(v).strip())
        counts = raw.value_counts()
        listed = ", ".join(f"{v!r} ({c})" for v, c in counts.items())
        raise DataError(f"column {reason!r}: {int(unknown.sum())} lost customer(s) with reasons outside the "
                        f"benchmark: {listed} — recode them to one of {', '.join(keys)} (or add the reason to "
                        "analysis.lost_benchmark)")
    observed = mapped.dropna().value_counts().reindex(keys, fill_value=0).to_numpy(dtype=np.int64)
    n = int(observed.sum())
    p = np.array([bench[k] for k in keys])
    expected = n * p
    table = pd.DataFrame({"reason": pd.Series(keys, dtype=object), "n": observed, "share": observed / n if n else np.nan,
                          "benchmark_share": p, "expected_n": expected})
    table["difference"] = table["share"] - table["benchmark_share"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["residual"] = (observed - expected) / np.sqrt(expected)
    test: dict[str, Any] = {"n": n, "n_missing": int(missing.sum()), "chi2": math.nan, "df": len(keys) - 1,
                            "p_value": math.nan, "min_expected": float(expected.min()) if n else math.nan,
                            "small_expected": False, "p_value_mc": math.nan, "n_sim": n_sim, "seed": seed,
                            "method": N_("chi-square goodness of fit"), "note": "", "suppressed": n < min_n}
    if n < min_n:
        table[["n", "share", "expected_n", "difference", "residual"]] = np.nan
        table["n"] = table["n"].astype("Int64")
        test["min_expected"] = math.nan
        test["note"] = _("Fewer than {min_n} lost customers gave a reason: suppressed.", min_n=min_n)
        return table, test
    res = _st.chisquare(observed, expected)
    test["chi2"], test["p_value"] = float(res.statistic), float(res.pvalue)
    small = bool(expected.min() < 5)
    test["small_expected"] = small
    if small:
        note = (N_("{low} of {k} expected counts are below 5 (smallest {smallest}): the chi-square p-value is "
                   "approximate; use the Monte-Carlo p-value.") if monte_carlo is not False else
                N_("{low} of {k} expected counts are below 5 (smallest {smallest}): the chi-square p-value is "
                   "approximate."))
        values = {"low": int((expected < 5).sum()), "k": len(keys), "smallest": f"{expected.min():.2g}"}
        test["note"] = _(note, **values)
        warnings.warn(f"lost_reasons: {note.format(**values)}", UserWarning, stacklevel=2)
    if monte_carlo or (monte_carlo is None and small):
        rng = np.random.default_rng(seed)
        sims = rng.multinomial(n, p, size=n_sim)
        stat = ((sims - expected) ** 2 / expected).sum(axis=1)
        tol = 1e-9 * max(1.0, test["chi2"])
        test["p_value_mc"] = float((1 + np.sum(stat >= test["chi2"] - tol)) / (n_sim + 1))
        test["method"] = N_("chi-square goodness of fit with Monte-Carlo p-value")
    return table, test


def _check_benchmark(benchmark: Any) -> dict[str, float]:
    if not isinstance(benchmark, dict) or not benchmark:
        raise CsmError(f"The value for `benchmark` must be a dict of reason -> share, but {benchmark!r} was passed.")
    out = {}
    for k, v in benchmark.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
            raise CsmError(f"benchmark share of {k!r} must be a number > 0, but {v!r} was passed")
        out[str(k)] = float(v)
    folded = [k.strip().casefold() for k in out]
    if len(set(folded)) != len(folded):
        raise CsmError("benchmark reasons must be distinct (ignoring case and spaces)")
    total = sum(out.values())
    if abs(total - 1) > 1e-6:
        raise CsmError(f"benchmark shares must add up to 1 (found {total:g}) — fix analysis.lost_benchmark")
    return out
