"""Data quality (SPEC §1.3): speeders, straight-liners, duplicates and missing answers flagged per respondent, what is set aside, and how the KPIs read with and without the exclusions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.measurement.common import numbers_and_bad, preview_values, require_columns
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.study.config import ItemRole, Study

__all__ = ["DUPLICATE_MIN_ITEMS", "EXCLUSIONS", "DUPLICATE_CHANCE_PAIRS", "quality_flags", "quality_summary", "quality_display", "missing_by_item", "apply_exclusions", "exclusion_sensitivity"]


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


def _both(msgid: str, **values: Any) -> tuple[str, str]:
    """``(English, report language)`` of a message: tables keep English for metrics.json."""
    return msgid.format(**values), _(msgid, **values)


# --------------------------------------------------------------------------- data quality
def _rated_present(data: pd.DataFrame, study: Study) -> dict[str, tuple[float, float]]:
    items = study.rated_items()
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise DataError(f"data: the rated item {preview_values(missing)} named in study.yaml is not in the data — "
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
        v, bad = numbers_and_bad(data[col])
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
        dur, _bad = numbers_and_bad(data[dur_col])
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
            frame = pd.DataFrame({j: numbers_and_bad(data[col].iloc[rows])[0] for j, col in enumerate(cols)})
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
        v = numbers_and_bad(data[col])[0]
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
    require_columns(flags, [c for c in _FLAG_COLUMNS if c != "duplicate"] + ["duplicate"], what="flags",
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
    for role in study.item_role_list():
        roles.setdefault(role.column, _role_text(role))
    n = len(data)
    rows = []
    for col in items:
        v, bad = numbers_and_bad(data[col])
        k = int((~np.isfinite(v) & ~bad).sum())
        rows.append({"item": col, "role": roles.get(col, ""), "n": n, "n_missing": k,
                     "share_missing": k / n if n else np.nan})
    return pd.DataFrame(rows)


_ROLES = {"performance": N_("performance of {attribute}"), "importance": N_("importance of {attribute}"),
          "expectation": N_("expectation of {attribute}"), "competitor": N_("competitor of {attribute}")}


def _role_text(role: ItemRole) -> str:
    """A rated column's role (:meth:`Study.item_role_list`) in the report language."""
    if role.kind == "model":
        return _("item of the satisfaction model's {block} block", block=role.name)
    if role.kind in _ROLES:
        return _(_ROLES[role.kind], attribute=role.name)
    if role.kind == "satisfaction":
        return _("satisfaction item {number}", number=role.name)
    return _("overall") if role.kind == "overall" else _("recommend")


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
