"""A report's segment: ``all`` or ``COLUMN=VALUE`` parsed, its rows selected, and the privacy gate on its reported base (SPEC §4)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csm_helpers.core.errors import CsmError
from csm_helpers.study.config import Study

__all__ = ["parse_segment", "select_segment", "check_segment_publishable", "with_withheld_attributes"]


def parse_segment(segment: str, study: Study) -> tuple[str, str] | None:
    """Parse ``"all"`` or ``"column=value"`` against the study's segment columns.

    Returns None for ``"all"``, else ``(column, value)``.

    Raises
    ------
    CsmError
        When the text is not of that form or the column is not a segment column.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> study = load_study(sample_study_path())
    >>> parse_segment("all", study) is None, parse_segment("region=Hanoi", study)
    (True, ('region', 'Hanoi'))
    """
    segment = (segment or "all").strip()
    if segment == "all":
        return None
    column, sep, value = segment.partition("=")
    column, value = column.strip(), value.strip()
    allowed = study.responses.segments
    if not sep or not column or not value:
        raise CsmError(
            f"segment {segment!r} is not understood: write 'all' or COLUMN=VALUE, e.g. "
            f"'{(allowed or ['region'])[0]}=...'"
        )
    if column not in allowed:
        raise CsmError(
            f"segment column {column!r} is not one of the study's segment columns "
            f"({', '.join(allowed) or 'none'}) — add it to responses.segments in {study.path.name}"
        )
    return column, value


def select_segment(data: pd.DataFrame, study: Study, segment: str) -> pd.DataFrame:
    """Rows of ``data`` in ``segment`` (a new frame; ``"all"`` returns every row).

    The result never shares changes with ``data`` (pandas copy-on-write), so no deep copy is
    made: with a million rows a copy would cost seconds and a gigabyte for nothing.

    Raises
    ------
    CsmError
        When the segment value does not occur in the data (the message lists the values).
    """
    parsed = parse_segment(segment, study)
    if parsed is None:
        return data.copy(deep=False)
    column, value = parsed
    values = data[column].astype("string")
    mask = values == value
    if not mask.any():
        present = sorted(v for v in values.dropna().unique())
        shown = ", ".join(present[:20]) + (" …" if len(present) > 20 else "")
        raise CsmError(f"segment {column}={value!r} has no respondents; values of {column!r}: {shown}")
    return data.loc[mask.fillna(False).to_numpy()]


def check_segment_publishable(data: pd.DataFrame, study: Study, segment: str, *,
                              base: pd.DataFrame | None = None) -> None:
    """Refuse a report for a segment that the minimum-cell-size rule hides (SPEC §4).

    The count is taken on the base the analysis reports are computed from
    (:func:`csm_helpers.analysis.disclosure.reporting_base`: the latest wave, after the data-quality
    exclusions), not on every wave: a segment of 9 respondents of whom 3 answered in the
    reported wave is a segment of 3. A segment's report sits next to the report for all
    customers and the reports of the other segments of its column, so the column is one
    partition: a segment below ``min_cell_size`` is refused, and so is a segment that
    complementary suppression (:func:`csm_helpers.analysis.disclosure.hidden_values`) hides to protect
    a small one — otherwise "all" minus the other segments' reports would give the small one
    away. ``base`` may be passed when the caller has it already.

    Raises
    ------
    CsmError
        When the segment must not be reported; the message says which group it protects.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import sample_study_path
    >>> from csm_helpers.study.readers import load_responses
    >>> study = load_study(sample_study_path())
    >>> data = load_responses(study).data
    >>> check_segment_publishable(data, study, "region=Hanoi")  # large enough: no error
    >>> latest, earlier = data.index[data["wave"] == "2026-H1"], data.index[data["wave"] == "2025-H2"]
    >>> tiny = data.assign(region=data["region"].mask(data.index.isin([*latest[:3], *earlier[:6]]), "Tiny"))
    >>> int((tiny["region"] == "Tiny").sum())  # 9 over both waves, 3 in the reported one
    9
    >>> check_segment_publishable(tiny, study, "region=Tiny")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: segment 'region=Tiny' has 3 respondent(s) in the reported wave 2026-H1 after the data-quality exclusions, fewer than min_cell_size 5: its report is suppressed (SPEC §4) — choose a larger segment
    """
    from csm_helpers.analysis.disclosure import (
        NO_VALUE,
        hidden_values,
        latest_wave,
        partition_counts,
        reporting_base,
    )

    parsed = parse_segment(segment, study)
    if base is None:
        base = reporting_base(data, study)
    wave = latest_wave(data, study)
    where = (f" in the reported wave {wave} after the data-quality exclusions" if wave else
             " after the data-quality exclusions")
    min_n = study.min_cell_size
    if parsed is None:
        if len(base) < min_n:
            raise CsmError(f"the study has {len(base)} respondent(s){where}, fewer than min_cell_size {min_n}: "
                           "no report can be published (SPEC §4) — collect more responses")
        return
    column, value = parsed
    counts = partition_counts(base[column])
    n = counts.get(value, 0)
    if n < min_n:
        raise CsmError(
            f"segment {segment!r} has {n} respondent(s){where}, fewer than min_cell_size {min_n}: its report is "
            "suppressed (SPEC §4) — choose a larger segment"
        )
    hidden = hidden_values(base[column], min_n=min_n)
    if value in hidden:
        small = sorted(("respondents without a value" if k == NO_VALUE else repr(k))
                       for k in hidden if counts[k] < min_n)
        raise CsmError(
            f"segment {segment!r} ({n} respondents{where}) is withheld to protect {column} "
            f"{', '.join(small)} (fewer than {min_n} respondents): next to the report for all "
            f"customers and those of the other {column} values, its report would let theirs be worked out "
            f"by difference (complementary suppression, see 'Privacy' in README.md) — report the "
            f"{column} values together, or merge the small ones in the data"
        )


def with_withheld_attributes(table: pd.DataFrame | None, attrs: pd.DataFrame, hidden: list[str], mode: str,
                              derived: pd.DataFrame | None) -> pd.DataFrame:
    """The IPA table with a blank, ``suppressed`` row for each hidden attribute, in config order."""
    from csm_helpers.core.i18n import N_

    itype = (N_("stated") if mode == "stated" else N_("derived (relative_weight)"))
    if table is not None and len(table):
        itype = table["importance_type"].iloc[0]
    blank = pd.DataFrame({
        "attribute": attrs["attribute"], "label": attrs["label"], "dimension": attrs["dimension"],
        "n_performance": pd.array([pd.NA] * len(attrs), dtype="Int64"), "performance": np.nan,
        "n_importance": pd.array([pd.NA] * len(attrs), dtype="Int64"), "importance": np.nan,
        "importance_type": itype, "x_cross": np.nan, "y_cross": np.nan, "quadrant": None, "suppressed": True,
    }).loc[attrs["attribute"].isin(hidden).to_numpy()]
    if table is None:
        out = blank.reset_index(drop=True)
        out.attrs.update({"importance": mode, "suppressed_reason": (derived.attrs.get("suppressed_reason")
                                                                    if derived is not None else None)})
        return out
    if blank.empty:
        return table
    order = {a: i for i, a in enumerate(attrs["attribute"])}
    out = pd.concat([table, blank.astype({c: table[c].dtype for c in ("n_performance", "n_importance")
                                          if c in table.columns}, errors="ignore")], ignore_index=True)
    out = out.sort_values("attribute", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    out.attrs.update(table.attrs)
    return out
