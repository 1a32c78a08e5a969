"""Closing the loop (SPEC §1.7, issue 15 part 6): whom to call back, what came of the calls, and
whether last wave's actions moved their attribute.

- :func:`follow_up_list`: the dissatisfied customers and detractors of this wave who agreed to
  be contacted, with their id, segment, lowest-rated attributes and comment, and empty columns
  for the team to record the outcome (:data:`OUTCOME_COLUMNS`). It is the only output of the
  workbook that holds personal data: :func:`write_follow_up` writes it owner-only and safe from
  formula injection, and no report or ``metrics.json`` carries its rows.
- :func:`follow_up_outcomes`: last wave's list as the team filled it in: the share contacted,
  resolved among the contacted, and still a customer among the contacted and the others, with
  Wilson intervals (Wilson 1927) and Fisher's exact test of the difference in retention (Fisher
  1935; an association, not proof that the call kept the customer).
- :func:`check_actions`: each attribute-level entry of last wave's action register (an action
  written in) against this wave's change of that attribute: Welch's t-test of the change
  (:func:`csm_helpers.analysis.action.attribute_change`, Benjamini–Hochberg adjusted over the
  attributes with an action) and whether the register's target was reached.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats as sst

from csm_helpers.analysis.kpis.intervals import wilson_interval
from csm_helpers.core.checks import require_column, yes_no_column
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import N_
from csm_helpers.core.safety import to_safe_csv

if TYPE_CHECKING:  # pragma: no cover
    from csm_helpers.study.config import OutcomesSpec

__all__ = ["OUTCOME_COLUMNS", "FOLLOW_UP_FILE", "follow_up_list", "write_follow_up", "follow_up_outcomes",
           "actions_taken", "check_actions"]

#: Columns the team fills in on the follow-up list; the next wave reads them back as its outcomes.
OUTCOME_COLUMNS = ("contacted", "resolved", "still_customer", "note")

#: The file name stage 05 writes the list to, beside its report.
FOLLOW_UP_FILE = "follow_up.csv"

#: Why a customer is on the list.
DISSATISFIED, DETRACTOR = N_("dissatisfied"), N_("detractor")


def follow_up_list(data: pd.DataFrame, *, id: str, consent: str, overall: str, overall_scale: tuple[float, float],
                   dissatisfied_box: int = 2, recommend: str | None = None,
                   attributes: Mapping[str, tuple[str, str, tuple[float, float]]] | None = None,
                   columns: Sequence[str] = (), comments: str | None = None, lowest: int = 3) -> pd.DataFrame:
    """The customers to call back: dissatisfied or detractors, and agreed to be contacted.

    Dissatisfied: overall satisfaction in the bottom ``dissatisfied_box`` points of its scale
    (the mirror of the top-2 box); detractor: 0–6 on the 0–10 recommend item (Reichheld 2003).
    Only respondents whose consent answer is yes are listed; a blank consent is a no.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses (one row per respondent). Not modified.
    id, consent, overall : str
        The respondent id, the yes/no consent column and the overall satisfaction item.
    overall_scale : tuple of float
        ``(min, max)`` of the overall item.
    dissatisfied_box : int
        How many points at the bottom of the scale count as dissatisfied.
    recommend : str, optional
        The 0–10 recommend item.
    attributes : mapping, optional
        Attribute id -> ``(label, performance column, (min, max))``: each customer's
        ``lowest`` lowest-rated attributes (relative to their scale; ties in attribute order)
        are listed with their rating.
    columns : sequence of str
        Further columns to carry (wave, segment columns), in order.
    comments : str, optional
        The free-text comment column (copied as written; the file is formula-safe).
    lowest : int
        How many lowest-rated attributes to list.

    Returns
    -------
    pandas.DataFrame
        ``id``, the ``columns``, ``overall``, ``recommend``, ``why`` (dissatisfied, detractor or
        both), ``lowest_rated``, ``comment``, then the empty :data:`OUTCOME_COLUMNS`; worst
        overall satisfaction first.

    Raises
    ------
    DataError
        When a column is missing, or the consent column holds something other than yes/no.

    Examples
    --------
    >>> d = pd.DataFrame({"rid": ["a", "b", "c", "d"], "ok": ["yes", "yes", "no", "yes"], "sat": [1, 5, 1, 3],
    ...                   "nps": [9, 2, 0, 8], "speed": [1, 5, 2, 4], "staff": [2, 5, 1, 4]})
    >>> t = follow_up_list(d, id="rid", consent="ok", overall="sat", overall_scale=(1, 5), recommend="nps",
    ...                    attributes={"speed": ("Speed", "speed", (1, 5)), "staff": ("Staff", "staff", (1, 5))},
    ...                    lowest=1)
    >>> t[["rid", "why", "lowest_rated"]].values.tolist()
    [['a', 'dissatisfied', 'Speed (1 of 1–5)'], ['b', 'detractor', 'Speed (5 of 1–5)']]
    """
    for col, role in ((id, "respondent id"), (overall, "overall satisfaction"), *((c, "column") for c in columns)):
        require_column(data, col, role=role)
    agreed = yes_no_column(data, consent, role="consent to be contacted", where="survey responses") == 1.0
    lo, hi = overall_scale
    sat = pd.to_numeric(data[overall], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    dissatisfied = sat <= lo + dissatisfied_box - 1
    if recommend:
        require_column(data, recommend, role="recommend")
        rec = pd.to_numeric(data[recommend], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        detractor = rec <= 6
    else:
        rec = np.full(len(data), np.nan)
        detractor = np.zeros(len(data), dtype=bool)
    keep = agreed & (dissatisfied | detractor)
    rows = np.flatnonzero(keep)
    out = pd.DataFrame({id: data[id].iloc[rows].to_numpy()})
    for c in columns:
        out[c] = data[c].iloc[rows].to_numpy()
    out["overall"] = sat[rows]
    out["recommend"] = rec[rows]
    out["why"] = [", ".join(w for w, f in ((DISSATISFIED, dissatisfied[i]), (DETRACTOR, detractor[i])) if f)
                  for i in rows]
    out["lowest_rated"] = _lowest(data, rows, attributes or {}, lowest)
    if comments and comments in data.columns:
        said = data[comments].iloc[rows].astype(object)
        out["comment"] = said.where(said.notna(), "").to_numpy()
    else:
        out["comment"] = ""
    for c in OUTCOME_COLUMNS:
        out[c] = ""
    order = np.lexsort((np.arange(len(out)), np.nan_to_num(out["overall"].to_numpy(dtype=float), nan=np.inf)))
    return out.iloc[order].reset_index(drop=True)


def _lowest(data: pd.DataFrame, rows: np.ndarray, attributes: Mapping[str, tuple[str, str, tuple[float, float]]],
            k: int) -> list[str]:
    if not attributes or not len(rows):
        return [""] * len(rows)
    labels, ratings, rel = [], [], []
    for label, col, (lo, hi) in attributes.values():
        require_column(data, col, role=f"performance of {label!r}")
        x = pd.to_numeric(data[col].iloc[rows], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        labels.append((label, lo, hi))
        ratings.append(x)
        rel.append((x - lo) / (hi - lo))
    r = np.column_stack(rel)
    x = np.column_stack(ratings)
    out = []
    for i in range(len(rows)):
        answered = np.flatnonzero(np.isfinite(r[i]))
        order = answered[np.argsort(r[i, answered], kind="stable")][:k]
        out.append("; ".join(f"{labels[j][0]} ({x[i, j]:g} of {labels[j][1]:g}–{labels[j][2]:g})" for j in order))
    return out


def write_follow_up(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the follow-up list: UTF-8 CSV, formula-safe, readable and writable by its owner only.

    The file holds personal data (ids and comments of customers who agreed to be called back):
    it is created with permissions 0600 and replaced atomically (temporary file, then rename), so
    no other user of the machine can read it, not even for a moment.

    Examples
    --------
    >>> import tempfile, pathlib, stat
    >>> p = write_follow_up(pd.DataFrame({"rid": ["a"], "comment": ["=cmd()"]}),
    ...                     pathlib.Path(tempfile.mkdtemp()) / "follow_up.csv")
    >>> oct(stat.S_IMODE(p.stat().st_mode)), p.read_text(encoding="utf-8-sig").splitlines()[1]
    ('0o600', "a,'=cmd()")
    """
    return to_safe_csv(table, path, private=True)


def follow_up_outcomes(outcomes: pd.DataFrame, *, spec: OutcomesSpec, id: str, level: float = 0.95,
                       min_n: int = 5, where: str = "follow-up outcomes") -> pd.DataFrame:
    """What came of last wave's follow-up list.

    Rows (``measure``): ``listed`` (customers on the list), ``contacted`` (share of the listed),
    ``resolved`` (share of the contacted with a yes/no answer), ``still_customer_contacted`` and
    ``still_customer_not_contacted`` (share still a customer, among those with a yes/no
    answer), each with its Wilson interval (Wilson 1927), and ``retention_difference``: contacted
    minus not contacted, with Fisher's exact test (two-sided, Fisher 1935) — an association:
    the customers who could be reached may differ from the others. A share on fewer than
    ``min_n`` customers is suppressed (SPEC §4).

    Examples
    --------
    >>> from csm_helpers.study.config import OutcomesSpec
    >>> o = pd.DataFrame({"rid": list("abcdefgh"), "contacted": ["yes"] * 6 + ["no"] * 2,
    ...                   "resolved": ["yes", "yes", "yes", "no", "yes", "", "", ""],
    ...                   "still_customer": ["yes"] * 5 + ["no", "no", "yes"]})
    >>> t = follow_up_outcomes(o, spec=OutcomesSpec(file="x.csv"), id="rid", min_n=1).set_index("measure")
    >>> int(t.loc["contacted", "n"]), float(t.loc["contacted", "value"]), round(float(t.loc["resolved", "value"]), 3)
    (8, 0.75, 0.8)
    """
    id_col = spec.id or id
    require_column(outcomes, id_col, role="customer id (follow_up.outcomes.id)")
    contacted = yes_no_column(outcomes, spec.contacted, role="contacted", where=where)
    resolved = yes_no_column(outcomes, spec.resolved, role="resolved", where=where)
    still = yes_no_column(outcomes, spec.still_customer, role="still a customer", where=where)
    rows = []

    def share(measure: str, x: np.ndarray) -> None:
        known = x[np.isfinite(x)]
        n, k = len(known), float(known.sum())
        lo, hi = wilson_interval(k, n, level=level) if n else (math.nan, math.nan)
        rows.append({"measure": measure, "n": n, "value": k / n if n else math.nan, "ci_low": lo, "ci_high": hi,
                     "p_value": math.nan})

    rows.append({"measure": "listed", "n": len(outcomes), "value": math.nan, "ci_low": math.nan,
                 "ci_high": math.nan, "p_value": math.nan})
    share("contacted", contacted)
    was = contacted == 1.0
    share("resolved", np.where(was, resolved, np.nan))
    share("still_customer_contacted", np.where(was, still, np.nan))
    share("still_customer_not_contacted", np.where(contacted == 0.0, still, np.nan))
    a = still[was & np.isfinite(still)]
    b = still[(contacted == 0.0) & np.isfinite(still)]
    diff, p = math.nan, math.nan
    if len(a) and len(b):
        diff = float(a.mean() - b.mean())
        p = float(sst.fisher_exact([[a.sum(), len(a) - a.sum()], [b.sum(), len(b) - b.sum()]])[1])
    rows.append({"measure": "retention_difference", "n": len(a) + len(b), "value": diff, "ci_low": math.nan,
                 "ci_high": math.nan, "p_value": p})
    table = pd.DataFrame(rows)
    small = (table["n"] < min_n) & (table["measure"] != "listed")
    if "retention_difference" in set(table["measure"]):
        parts = table.set_index("measure")["n"]
        if min(parts["still_customer_contacted"], parts["still_customer_not_contacted"]) < min_n:
            small |= table["measure"] == "retention_difference"
    table["suppressed"] = small.to_numpy()
    table.loc[small, ["value", "ci_low", "ci_high", "p_value"]] = np.nan
    table.attrs.update(level=level, min_n=min_n, count_column="n")
    return table


def actions_taken(register: pd.DataFrame) -> pd.DataFrame:
    """The rows of an action register with an action written in (``action`` trimmed).

    Raises
    ------
    DataError
        When the register has no ``attribute`` or ``action`` column.

    Examples
    --------
    >>> actions_taken(pd.DataFrame({"attribute": ["fees", "speed"], "action": [" cut fees ", "  "]}))["action"].tolist()
    ['cut fees']
    """
    for col in ("attribute", "action"):
        if col not in register.columns:
            raise DataError(f"action register: no column {col!r} — use the register stage 05 wrote "
                            "(05_action_register.csv), with the actions written in its 'action' column")
    text = register["action"].astype(object).where(register["action"].notna(), "").astype(str).str.strip()
    acted = register.loc[text != ""].copy()
    acted["action"] = text[text != ""]
    return acted


def check_actions(register: pd.DataFrame, change: pd.DataFrame, *,
                  labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Last wave's actions against this wave's change of their attribute.

    Parameters
    ----------
    register : pandas.DataFrame
        Last wave's action register (:func:`csm_helpers.analysis.action.action_register`, as the
        team filled it in): rows with an ``action`` written in are checked; ``target`` (optional)
        is the mean performance the action aimed for.
    change : pandas.DataFrame
        :func:`csm_helpers.analysis.action.attribute_change` for the attributes of those rows,
        previous wave -> this wave.
    labels : mapping, optional
        Attribute id -> label.

    Returns
    -------
    pandas.DataFrame
        One row per action: ``attribute``, ``label``, ``action``, ``owner``, ``due_date``,
        ``target``, ``previous``, ``latest``, ``change``, ``ci_low``, ``ci_high``, ``p_value``,
        ``p_adj``, ``improved`` (a significant rise), ``target_met`` (latest mean at or above the
        target; None without a target), ``suppressed``.

    Raises
    ------
    DataError
        When the register has no ``attribute`` or ``action`` column, a target is not a number,
        or an action names an attribute the study does not have.

    Examples
    --------
    >>> reg = pd.DataFrame({"attribute": ["fees", "speed"], "action": ["cut fees", ""], "target": ["3.5", ""]})
    >>> ch = pd.DataFrame({"attribute": ["fees"], "previous": [3.1], "latest": [3.6], "change": [0.5], "ci_low": [0.2],
    ...                    "ci_high": [0.8], "p_value": [0.001], "p_adj": [0.001], "significant": [True],
    ...                    "suppressed": [False]})
    >>> check_actions(reg, ch)[["attribute", "improved", "target_met"]].values.tolist()
    [['fees', True, True]]
    """
    acted = actions_taken(register)
    by = change.set_index("attribute")
    unknown = sorted(set(acted["attribute"].astype(str)) - set(by.index.astype(str)))
    if unknown:
        raise DataError(f"action register: attribute(s) {', '.join(map(repr, unknown))} have an action but are not "
                        "attributes of the study — correct the attribute id in the register or in study.yaml")
    raw_target = acted["target"].astype(object) if "target" in acted.columns else \
        pd.Series([""] * len(acted), index=acted.index, dtype=object)
    target = pd.to_numeric(raw_target.replace("", np.nan), errors="coerce")
    bad = target.isna() & raw_target.notna() & (raw_target.astype(str).str.strip() != "")
    if bad.any():
        shown = ", ".join(repr(str(v)) for v in raw_target[bad].head(5))
        raise DataError(f"action register, column 'target': {shown} is not a number — write the mean performance "
                        "the action aims for (e.g. 3.5), or leave it empty")
    rows = []
    for (_, r), t in zip(acted.iterrows(), target, strict=True):
        a = str(r["attribute"])
        c = by.loc[a]
        suppressed = bool(c.get("suppressed", False))
        latest = float(c["latest"]) if not suppressed else math.nan
        met = None if not math.isfinite(t) or suppressed else bool(latest >= t)
        sig = c.get("significant")
        rows.append({"attribute": a, "label": (labels or {}).get(a, a), "action": r["action"],
                     "owner": str(r.get("owner", "") or ""), "due_date": str(r.get("due_date", "") or ""),
                     "target": t, "previous": c["previous"], "latest": c["latest"], "change": c["change"],
                     "ci_low": c.get("ci_low", math.nan), "ci_high": c.get("ci_high", math.nan),
                     "p_value": c["p_value"], "p_adj": c.get("p_adj", math.nan),
                     "improved": None if suppressed or sig is None or pd.isna(sig) else bool(sig and c["change"] > 0),
                     "target_met": met, "suppressed": suppressed})
    out = pd.DataFrame(rows, columns=["attribute", "label", "action", "owner", "due_date", "target", "previous",
                                      "latest", "change", "ci_low", "ci_high", "p_value", "p_adj", "improved",
                                      "target_met", "suppressed"])
    out.attrs.update(change.attrs)
    return out
