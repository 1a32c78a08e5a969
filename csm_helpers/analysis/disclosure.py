"""Which figures may be published: the base a figure was computed from, and the groups it hides.

SPEC §4: no statistic is shown for a group of fewer than ``min_cell_size`` respondents, and
the count that decides it is **the base the figure was computed from** — the reported wave,
after the data-quality exclusions, per statistic. Complementary suppression works on the same
base, so that no published total minus published parts reveals a suppressed group.

The analysis reports (stages 04 and 05) report the latest wave of the kept responses, so:

- :func:`reporting_base` gives those rows for the whole study; the segment gate of ``csm run``
  and ``csm batch`` counts segments on it (not on every wave, nor before the exclusions);
- :func:`hidden_values` applies complementary suppression to one segment column on that base,
  optionally only over the respondents who answered the items a figure uses (an attribute
  answered by 4 of a segment's 40 respondents is hidden in that segment's report, and so is
  the smallest other segment's, since "all" minus the others would reveal it);
- respondents without a value in the segment column are in the "all" report but in no
  segment's: they count as a group of their own that is never published (:data:`NO_VALUE`).

Model-based statistics need more than a cell size; their documented minimums live beside
them: :func:`csm_helpers.analysis.drivers.driver_minimum_n` (key drivers and derived importance),
:data:`csm_helpers.analysis.drivers.QUADRANT_BOOT_MIN_N` (bootstrap IPA) and
:data:`csm_helpers.analysis.measurement.RELIABILITY_MIN_N` (Cronbach's alpha).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from csm_helpers.analysis.stats import suppressed_groups
from csm_helpers.study.config import Study

__all__ = ["NO_VALUE", "latest_wave", "wave_rows", "reporting_base", "partition_counts", "value_codes", "hidden_values",
           "answered_mask"]

#: The group of respondents with no value in a segment column, when a partition is counted.
NO_VALUE = "\x00(no value)"


def latest_wave(data: pd.DataFrame, study: Study) -> str | None:
    """The reported wave: the last wave label in sort order (None for a study without waves).

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> latest_wave(read_dataset("responses"), load_study(sample_study_path()))
    '2026-H1'
    """
    col = study.responses.wave
    if not col or col not in data.columns:
        return None
    waves = sorted(str(w) for w in data[col].dropna().unique())
    return waves[-1] if waves else None


def wave_rows(data: pd.DataFrame, study: Study, wave: str | None) -> pd.DataFrame:
    """The rows of ``data`` in ``wave`` (every row for a study without waves or ``wave=None``)."""
    col = study.responses.wave
    if wave is None or not col:
        return data
    return data.loc[(data[col].astype("string") == wave).to_numpy(dtype=bool, na_value=False)]


def reporting_base(data: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The rows the analysis reports are computed from: latest wave, after the exclusions.

    ``data`` is every validated response of the study (:func:`csm_helpers.study.readers.load_responses`).
    The data-quality flags are computed on all of it (a duplicate may sit in another wave) and
    the checks in ``measurement.exclude`` applied, exactly as the stage notebooks do.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> study = load_study(sample_study_path())
    >>> data = read_dataset("responses")
    >>> base = reporting_base(data, study)
    >>> len(data), len(base), sorted(base["wave"].unique())
    (2400, 1158, ['2026-H1'])
    """
    from csm_helpers.analysis.measurement import apply_exclusions, quality_flags

    kept = apply_exclusions(data, quality_flags(data, study), exclude=list(study.measurement.exclude))
    return wave_rows(kept, study, latest_wave(data, study))


def value_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's value of a segment column as a code into the returned values (-1: no value),
    read as :func:`partition_counts` counts them (surrounding spaces dropped, an empty text is
    no value). Pass the pair to :func:`partition_counts` or :func:`hidden_values` in place of
    the column to count one partition on many bases (the answered rows of each figure of a
    report) without reading the column again each time.

    Examples
    --------
    >>> codes, names = value_codes(pd.Series(["A", " A", "B", "", None]))
    >>> codes.tolist(), names
    ([0, 0, 1, -1, -1], ['A', 'B'])
    """
    s = values.astype("string").str.strip()
    codes, uniques = pd.factorize(s.mask(s == ""), use_na_sentinel=True)
    return np.asarray(codes), [str(u) for u in uniques]


def partition_counts(values: pd.Series | tuple[np.ndarray, list[str]],
                     answered: np.ndarray | pd.Series | None = None) -> dict[str, int]:
    """Respondents per value of a segment column, counting only ``answered`` rows when given.

    Rows without a value are counted under :data:`NO_VALUE`: they are in the "all" report but
    in no segment's, so for complementary suppression they are a group that is never shown.
    ``values`` is the column, or its :func:`value_codes`.

    Examples
    --------
    >>> v = pd.Series(["A", "A", "B", None])
    >>> partition_counts(v) == {"A": 2, "B": 1, NO_VALUE: 1}
    True
    >>> partition_counts(v, answered=[True, False, True, True]) == {"A": 1, "B": 1, NO_VALUE: 1}
    True
    >>> partition_counts(value_codes(v), answered=[True, False, True, True]) == {"A": 1, "B": 1, NO_VALUE: 1}
    True
    """
    codes, names = values if isinstance(values, tuple) else value_codes(values)
    if answered is not None:
        codes = codes[np.asarray(answered, dtype=bool)]
    per_value = np.bincount(codes[codes >= 0], minlength=len(names))
    counts = {name: int(k) for name, k in zip(names, per_value, strict=True) if k}
    missing = int((codes < 0).sum())
    if missing:
        counts[NO_VALUE] = missing
    return counts


def hidden_values(values: pd.Series | tuple[np.ndarray, list[str]], *, min_n: int, answered: np.ndarray | pd.Series | None = None) -> set[str]:
    """Segment values whose figure must be hidden, on the base ``answered`` (SPEC §4).

    Primary suppression (fewer than ``min_n``) plus complementary suppression
    (:func:`csm_helpers.analysis.stats.suppressed_groups`), with the respondents without a value as
    one more, never-published group. :data:`NO_VALUE` may be in the result.

    Examples
    --------
    >>> v = pd.Series(["A"] * 40 + ["B"] * 30 + ["C"] * 3)
    >>> sorted(hidden_values(v, min_n=5))
    ['B', 'C']
    >>> answered = np.r_[np.ones(40), np.ones(26), np.zeros(4), np.ones(3)].astype(bool)
    >>> sorted(hidden_values(v, min_n=5, answered=answered))
    ['B', 'C']
    >>> sorted(hidden_values(pd.Series(["A"] * 40 + ["B"] * 30 + [None] * 2), min_n=5)) == sorted(["B", NO_VALUE])
    True
    """
    return suppressed_groups(partition_counts(values, answered), min_n)


def answered_mask(data: pd.DataFrame, columns: Sequence[str], *, how: str = "all") -> np.ndarray:
    """Rows that answered every (``how="all"``) or any (``how="any"``) of ``columns``.

    Columns missing from ``data`` count as unanswered; no columns means every row.
    """
    if not columns:
        return np.ones(len(data), dtype=bool)
    present = np.column_stack([data[c].notna().to_numpy(dtype=bool) if c in data.columns
                               else np.zeros(len(data), dtype=bool) for c in columns])
    return present.all(axis=1) if how == "all" else present.any(axis=1)
