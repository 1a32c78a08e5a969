"""The interview table of stage 02: read, checked and normalised (one row per verbatim), and its summary."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis.discovery.common import is_missing
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import DataError, format_rows
from csm_helpers.core.i18n import N_
from csm_helpers.study.config import (
    COMPANY_GROUPS,
    CUSTOMER_GROUPS,
    SOURCE_GROUPS,
    Codebook,
    InterviewsSpec,
)

__all__ = ["INTERVIEW_COLUMNS", "prepare_interviews", "require_inputs", "interview_summary"]


#: Columns of :func:`prepare_interviews`.
INTERVIEW_COLUMNS = ["interview_id", "source_group", "text", "order", "codes", "row"]


# --------------------------------------------------------------------------- interviews
def prepare_interviews(data: pd.DataFrame, *, spec: InterviewsSpec, source: str | None = None) -> pd.DataFrame:
    """Standardise an interview file to the columns the discovery helpers use.

    Parameters
    ----------
    data : pandas.DataFrame
        The interview records as read from the file, one row per interview or focus group
        (not modified).
    spec : InterviewsSpec
        ``study.interviews``: which columns hold the id, source group, text, and optionally
        the interview order and the manual codes.
    source : str, optional
        File name for messages (default ``spec.file``).

    Returns
    -------
    pandas.DataFrame
        One row per interview in interview order, columns ``interview_id`` (text),
        ``source_group`` (one of ``config.SOURCE_GROUPS``), ``text`` (empty when missing),
        ``order`` (1..n: the position after sorting by the order column when the spec names
        one, numbers or ISO dates, ties keeping file order; else file order), ``codes``
        (manual codes as written, ``''`` when none) and ``row`` (the row in the file, the
        header being row 1). Source groups are read case-insensitively and with spaces or
        hyphens for ``_`` (``"Lost customer"`` is ``lost_customer``).

    Raises
    ------
    DataError
        Listing every problem at once: a missing column, a missing or repeated interview id,
        an unknown source group (with the allowed groups), an order value that is missing or
        neither a number nor an ISO date.

    Examples
    --------
    >>> from csm_helpers.study.config import InterviewsSpec
    >>> raw = pd.DataFrame({"id": ["c2", "e1", "c1"], "group": ["Customer", "executive", "customer"],
    ...                     "date": ["2026-03-02", "2026-03-01", "2026-03-01"],
    ...                     "notes": ["Queue too long", "Price matters", "Staff rude"]})
    >>> spec = InterviewsSpec(file="interviews.csv", id="id", group="group", text="notes", order="date")
    >>> prepare_interviews(raw, spec=spec)[["interview_id", "source_group", "order", "row"]]
      interview_id source_group  order  row
    0           e1    executive      1    3
    1           c1     customer      2    4
    2           c2     customer      3    2
    """
    check_frame(data, "interview data")
    src = source or spec.file
    explicit = spec.model_fields_set
    roles = [("id", spec.id), ("group", spec.group), ("text", spec.text)]
    if spec.order:
        roles.append(("order", spec.order))
    if spec.codes and ("codes" in explicit or spec.codes in data.columns):
        roles.append(("codes", spec.codes))
    missing = [(key, col) for key, col in roles if col not in data.columns]
    if missing:
        found = ", ".join(repr(str(c)) for c in data.columns) or "none"
        raise DataError(
            f"{src}: required columns are missing (columns found: {found})",
            [f"column {col!r} (interviews.{key} in study.yaml) not found — rename the column in the file "
             f"or set interviews.{key} to the column that holds it" for key, col in missing],
        )

    n = len(data)
    rows = np.arange(2, n + 2)
    problems: list[str] = []

    ids = data[spec.id]
    no_id = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if no_id.any():
        problems.append(f"column {spec.id!r}, {format_rows(rows[no_id])}: the interview id is missing — "
                        "give every interview an id")
    id_text = [_id_to_str(v) for v in ids]
    seen: dict[str, int] = {}
    dupes: dict[str, list[int]] = {}
    for r, v, bad in zip(rows, id_text, no_id, strict=True):
        if bad:
            continue
        if v in seen:
            dupes.setdefault(v, [seen[v]]).append(int(r))
        else:
            seen[v] = int(r)
    for v, rs in dupes.items():
        problems.append(f"column {spec.id!r}, {format_rows(rs)}: interview id {v!r} is repeated — ids must be "
                        "unique (one row per interview)")

    groups = [_normalise_group(v) for v in data[spec.group]]
    bad_groups: dict[str, list[int]] = {}
    for r, g, raw in zip(rows, groups, data[spec.group], strict=True):
        if g not in SOURCE_GROUPS:
            bad_groups.setdefault("(missing)" if is_missing(raw) else repr(str(raw)), []).append(int(r))
    for shown, rs in bad_groups.items():
        found = "the source group is missing" if shown == "(missing)" else f"source group {shown} is not allowed"
        problems.append(f"column {spec.group!r}, {format_rows(rs)}: {found}; allowed: {', '.join(SOURCE_GROUPS)}"
                        " — fix the value in the file")

    sort_key = None
    if spec.order:
        sort_key, order_problems = _order_key(data[spec.order], spec.order, rows)
        problems.extend(order_problems)

    if problems:
        raise DataError(f"{src}: the interview records have {len(problems)} problem(s)", problems)

    codes = (data[spec.codes] if spec.codes and spec.codes in data.columns else pd.Series([None] * n))
    out = pd.DataFrame({
        "interview_id": id_text,
        "source_group": groups,
        "text": ["" if is_missing(t) else str(t) for t in data[spec.text]],
        "codes": ["" if is_missing(c) else str(c) for c in codes],
        "row": rows,
    })
    if sort_key is not None:
        out = out.iloc[np.argsort(sort_key, kind="stable")].reset_index(drop=True)
    out["order"] = np.arange(1, n + 1)
    return out[INTERVIEW_COLUMNS].astype({"order": "int64", "row": "int64"})


def _id_to_str(v: Any) -> str:
    if is_missing(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _normalise_group(v: Any) -> str:
    if is_missing(v):
        return ""
    return re.sub(r"[\s\-]+", "_", str(v).strip().casefold())


def _order_key(col: pd.Series, name: str, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    problems = []
    where = f"column {name!r} (interviews.order)"
    missing = col.isna().to_numpy()
    if missing.any():
        problems.append(f"{where}, {format_rows(rows[missing])}: the order is missing — give every interview "
                        "a number or an ISO date (YYYY-MM-DD)")
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return col.to_numpy(), problems
    values = col.astype(object)
    try:
        return pd.to_numeric(values).to_numpy(dtype=float), problems
    except (TypeError, ValueError):
        pass
    try:
        return pd.to_datetime(values, format="ISO8601").to_numpy(), problems
    except (TypeError, ValueError):
        pass
    bad = [(int(r), v) for r, v, m in zip(rows, values, missing, strict=True) if not m and not _is_number_or_date(v)]
    if bad:
        shown = ", ".join(repr(str(v)) for _, v in bad[:3])
        problems.append(f"{where}, {format_rows([r for r, _ in bad])}: {shown} is neither a number nor an ISO "
                        "date — write numbers (1, 2, ...) or dates as YYYY-MM-DD")
    else:
        problems.append(f"{where}: the column mixes numbers and dates — use one kind for every interview")
    return np.zeros(len(col)), problems


def _is_number_or_date(v: Any) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        pass
    try:
        pd.to_datetime(str(v), format="ISO8601")
        return True
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- report helpers
def require_inputs(interviews: pd.DataFrame | None, codebook: Codebook | None, *,
                   study: Any) -> tuple[pd.DataFrame, Codebook]:
    """Return ``(interviews, codebook)``, or raise a clear error when the study lacks either.

    Raises
    ------
    ConfigError
        When ``study.yaml`` names no interviews or no codebook (the message names the key).
    """
    from csm_helpers.core.errors import ConfigError

    missing = [key for key, val in (("interviews", interviews), ("codebook", codebook)) if val is None]
    if missing:
        keys = " and ".join(f"'{m}'" for m in missing)
        raise ConfigError(
            f"{study.path}: stage 02 discovery needs {keys} — add "
            + ", ".join(f"'{m}: <file>'" for m in missing) + " to study.yaml, or skip the stage "
            "with csm run --stages"
        )
    return interviews, codebook  # type: ignore[return-value]


def interview_summary(interviews: pd.DataFrame) -> pd.DataFrame:
    """Interviews per source group: columns ``source_group, side, interviews, share``.

    Every group of :data:`config.SOURCE_GROUPS` is listed (0 when absent), customer side first.

    Examples
    --------
    >>> df = pd.DataFrame({"interview_id": ["a", "b", "c"],
    ...                    "source_group": ["customer", "customer", "executive"]})
    >>> interview_summary(df)[["source_group", "interviews"]].head(2).values.tolist()
    [['customer', 2], ['lost_customer', 0]]
    """
    check_frame(interviews, "interviews")
    counts = interviews["source_group"].value_counts()
    order = list(CUSTOMER_GROUPS) + list(COMPANY_GROUPS)
    total = len(interviews)
    rows = [{"source_group": g, "side": N_("customer") if g in CUSTOMER_GROUPS else N_("company"),
             "interviews": int(counts.get(g, 0)),
             "share": counts.get(g, 0) / total if total else math.nan} for g in order]
    return pd.DataFrame(rows, columns=["source_group", "side", "interviews", "share"])
