"""The saturation curve of the interviews (new attributes per interview) and whether discovery has saturated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.discovery.common import require_columns
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import _
from csm_helpers.study.config import (
    SOURCE_GROUPS,
)

__all__ = ["saturation_curve", "saturation_verdict"]


# --------------------------------------------------------------------------- saturation
def saturation_curve(coded: pd.DataFrame, interviews: pd.DataFrame, *, k: int = 3,
                     groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Cumulative distinct attributes by interview order (the saturation curve).

    Parameters
    ----------
    coded : pandas.DataFrame
        From :func:`code_verbatims` (columns ``interview_id``, ``attribute``).
    interviews : pandas.DataFrame
        From :func:`prepare_interviews`; taken in the order of its ``order`` column (else in
        row order).
    k : int
        Size of the final window that :func:`saturation_verdict` looks at.
    groups : sequence of str, optional
        Only interviews of these source groups (e.g. ``config.CUSTOMER_GROUPS``); default all.

    Returns
    -------
    pandas.DataFrame
        One row per interview in order: ``position`` (1..n), ``interview_id``,
        ``source_group``, ``new_attributes`` (how many attributes this interview raised for the
        first time), ``new_list`` (their ids, comma-separated, ``''`` when none),
        ``cumulative`` (distinct attributes so far) and ``in_last_k`` (True for the last k).

    Examples
    --------
    >>> iv = pd.DataFrame({"interview_id": ["1", "2", "3", "4"], "source_group": ["customer"] * 4})
    >>> coded = pd.DataFrame({"interview_id": ["1", "1", "2", "3", "4"],
    ...                       "attribute": ["fees", "queue", "fees", "app", "queue"]})
    >>> saturation_curve(coded, iv, k=2)[["position", "new_attributes", "new_list", "cumulative"]]
       position  new_attributes     new_list  cumulative
    0         1               2  fees, queue           2
    1         2               0                        2
    2         3               1          app           3
    3         4               0                        3
    """
    k = _check_k(k)
    check_frame(coded, "coded table")
    check_frame(interviews, "interviews")
    require_columns(coded, ["interview_id", "attribute"], "coded table", "code_verbatims()")
    require_columns(interviews, ["interview_id", "source_group"], "interviews", "prepare_interviews()")
    iv = interviews
    if "order" in iv.columns:
        iv = iv.sort_values("order", kind="stable")
    if groups is not None:
        unknown = sorted(set(groups) - set(SOURCE_GROUPS))
        if unknown:
            raise CsmError(f"The value for `groups` must hold source groups ({', '.join(SOURCE_GROUPS)}), "
                           f"but {', '.join(map(repr, unknown))} was passed")
        iv = iv[iv["source_group"].isin(list(groups))]
    by_id: dict[str, list[str]] = {}
    for i, a in zip(coded["interview_id"].astype(str), coded["attribute"].astype(str), strict=True):
        attrs = by_id.setdefault(i, [])
        if a not in attrs:
            attrs.append(a)
    seen: set[str] = set()
    rows = []
    n = len(iv)
    for position, (ident, group) in enumerate(zip(iv["interview_id"], iv["source_group"], strict=True), start=1):
        new = [a for a in by_id.get(str(ident), []) if a not in seen]
        seen.update(new)
        rows.append({"position": position, "interview_id": ident, "source_group": group,
                     "new_attributes": len(new), "new_list": ", ".join(new), "cumulative": len(seen),
                     "in_last_k": position > n - k})
    cols = ["position", "interview_id", "source_group", "new_attributes", "new_list", "cumulative", "in_last_k"]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"position": "int64", "new_attributes": "int64", "cumulative": "int64", "in_last_k": bool})


def saturation_verdict(curve: pd.DataFrame, *, k: int = 3) -> dict[str, Any]:
    """Has discovery reached saturation? (SPEC §1.2)

    Discovery is saturated when the last ``k`` interviews added no new attribute. With fewer
    than ``k`` interviews, or when no attribute was coded at all, it is not (and the message
    says why).

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`saturation_curve`.
    k : int
        Number of final interviews that must add nothing new.

    Returns
    -------
    dict
        ``saturated`` (bool), ``k``, ``last_new_at`` (position of the last interview that added
        an attribute; None when none did), ``n_interviews``, ``n_attributes`` (distinct
        attributes found) and ``message`` (one sentence for the report).

    Examples
    --------
    >>> curve = pd.DataFrame({"position": [1, 2, 3, 4, 5], "new_attributes": [3, 1, 0, 0, 0],
    ...                       "new_list": ["a, b, c", "d", "", "", ""], "cumulative": [3, 4, 4, 4, 4]})
    >>> v = saturation_verdict(curve, k=3)
    >>> v["saturated"], v["last_new_at"]
    (True, 2)
    >>> v["message"]
    'Saturated: the last 3 interviews (3-5) added no new attribute; the last new one came at interview 2 of 5 (4 attributes in all).'
    """
    k = _check_k(k)
    check_frame(curve, "saturation curve")
    require_columns(curve, ["position", "new_attributes", "cumulative"], "saturation curve", "saturation_curve()")
    n = len(curve)
    new = curve["new_attributes"].to_numpy()
    positions = curve["position"].to_numpy()
    n_attr = int(curve["cumulative"].iloc[-1]) if n else 0
    added = np.flatnonzero(new > 0)
    last_new = int(positions[added[-1]]) if len(added) else None
    if n < k:
        saturated = False
        message = _("Not saturated: only {n} interviews, fewer than the {k} needed to judge saturation; continue "
                    "interviewing." if n != 1 else
                    "Not saturated: only {n} interview, fewer than the {k} needed to judge saturation; continue "
                    "interviewing.", n=n, k=k)
    elif n_attr == 0:
        saturated = False
        message = _("Not saturated: no attribute was coded in {n} interviews — check the codebook keywords "
                    "against the interview language.", n=n)
    elif new[-k:].sum() == 0:
        saturated = True
        window = f"{positions[-k]}-{positions[-1]}" if k > 1 else f"{positions[-1]}"
        message = _("Saturated: the last {k} interviews ({window}) added no new attribute; the last new one came "
                    "at interview {last} of {n} ({n_attr} attributes in all)." if k > 1 else
                    "Saturated: the last {k} interview ({window}) added no new attribute; the last new one came "
                    "at interview {last} of {n} ({n_attr} attributes in all).",
                    k=k, window=window, last=last_new, n=n, n_attr=n_attr)
    else:
        saturated = False
        row = curve.iloc[added[-1]]
        n_new = int(row["new_attributes"])
        values = {"last": last_new, "n": n, "new": n_new, "k": k}
        if "new_list" in curve.columns and row["new_list"]:
            message = _("Not saturated: interview {last} of {n} still added {new} new attributes ({listed}); "
                        "continue until {k} interviews in a row add nothing new." if n_new != 1 else
                        "Not saturated: interview {last} of {n} still added {new} new attribute ({listed}); "
                        "continue until {k} interviews in a row add nothing new.", listed=row["new_list"], **values)
        else:
            message = _("Not saturated: interview {last} of {n} still added {new} new attributes; continue until "
                        "{k} interviews in a row add nothing new." if n_new != 1 else
                        "Not saturated: interview {last} of {n} still added {new} new attribute; continue until "
                        "{k} interviews in a row add nothing new.", **values)
    return {"saturated": saturated, "k": k, "last_new_at": last_new, "n_interviews": n,
            "n_attributes": n_attr, "message": message}


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise CsmError(f"The value for `k` must be a whole number >= 1 (discovery.saturation_k in study.yaml), "
                       f"but {k!r} was passed")
    return int(k)
