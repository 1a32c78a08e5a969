"""Checking survey responses against the study configuration (SPEC §1.3, §2).

:func:`validate_responses` looks at every column ``study.yaml`` names and collects every
problem in one pass, so that a user can fix them all at once. Each message names the file,
the column, the rows (as the user counts them, see :class:`csm_helpers.study.table.Table`), what was
found, what is allowed and the fix, e.g.::

    responses.csv, column 'q7', rows 12, 40 (+3 more): 6 is outside the scale 1-5 — fix the
    data or set scales.q7 in study.yaml

Errors stop the analysis (:func:`check_responses` raises them); warnings (a segment with
some missing values, a personal-data column that is not in the file) are
shown but do not stop it. Columns of the file that the configuration does not name are
fine.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.checks import yes_no_values
from csm_helpers.core.errors import DataError, format_rows
from csm_helpers.study.config import Study
from csm_helpers.study.table import Table, numeric_view

__all__ = ["ValidationReport", "validate_responses", "check_responses"]

#: How many distinct offending values (or duplicated ids) a message lists.
MAX_VALUES = 3
MAX_DUPLICATE_IDS = 5
#: Codes survey tools commonly use for "don't know" / "not applicable".
_CODE_LIKE = {-99.0, -9.0, -1.0, 9.0, 66.0, 77.0, 88.0, 96.0, 97.0, 98.0, 99.0, 999.0, 9999.0}


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_responses` found.

    Attributes
    ----------
    errors : list of str
        Problems that stop the analysis, one message each.
    warnings : list of str
        Problems worth a look that do not stop it.
    """

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


# --------------------------------------------------------------------------- formatting
def _fmt(value: Any) -> str:
    """A value as a user would write it: 6.0 -> '6', 4.5 -> '4.5', text quoted."""
    if isinstance(value, bool | np.bool_):
        return repr(str(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.10g}"
    return repr(str(value))


def _values(values: Sequence[Any]) -> tuple[str, str]:
    """``("6, 7 (+2 more values)", "are")`` for a message about distinct offending values."""
    distinct = list(dict.fromkeys(values))
    shown = ", ".join(_fmt(v) for v in distinct[:MAX_VALUES])
    if len(distinct) > MAX_VALUES:
        shown += f" (+{len(distinct) - MAX_VALUES} more values)"
    return shown, ("is" if len(distinct) == 1 else "are")


def _code_text(key: str) -> str:
    """A Kano answer code as study.yaml holds it (:func:`kano_code_key`): numbers bare, text quoted."""
    try:
        float(key)
    except ValueError:
        return repr(key)
    return key


def _scale_text(lo: float, hi: float) -> str:
    sep = " to " if lo < 0 else "-"
    return f"{_fmt(lo)}{sep}{_fmt(hi)}"


def _close(name: str, columns: Sequence[str]) -> list[str]:
    same_case = [c for c in columns if c.lower() == name.lower()]
    return same_case or difflib.get_close_matches(name, list(columns), n=3, cutoff=0.6)


# --------------------------------------------------------------------------- config columns
def _named_columns(study: Study) -> list[tuple[str, str, str]]:
    """Every column the config names, as ``(config key, column, role)`` in config order."""
    spec = study.responses
    out: list[tuple[str, str, str]] = [("responses.id", spec.id, "id")]
    if spec.wave:
        out.append(("responses.wave", spec.wave, "wave"))
    out += [(f"responses.segments.{i}", col, "segment") for i, col in enumerate(spec.segments)]
    if spec.weight:
        out.append(("responses.weight", spec.weight, "weight"))
    if spec.comments:
        out.append(("responses.comments", spec.comments, "comments"))
    if spec.duration:
        out.append(("responses.duration", spec.duration, "duration"))
    out.append(("overall", study.overall, "rated"))
    out += [(f"satisfaction_items.{i}", col, "rated") for i, col in enumerate(study.satisfaction_items)]
    if study.recommend:
        out.append(("recommend", study.recommend, "rated"))
    for i, a in enumerate(study.attributes):
        for kind in ("performance", "importance", "expectation", "competitor"):
            col = getattr(a, kind)
            if col:
                out.append((f"attributes.{i}.{kind} (attribute '{a.id}')", col, "rated"))
    for name, col in study.loyalty.model_dump().items():
        if col:
            out.append((f"loyalty.{name}", col, "loyalty"))
    for name in ("praise", "awareness", "referral"):
        col = getattr(study.market, name)
        if col:
            out.append((f"market.{name}", col, "loyalty"))
    if study.satisfaction_model is not None:
        for block, items in study.satisfaction_model.blocks.items():
            out += [(f"satisfaction_model.blocks.{block}", col, "rated") for col in items]
    if study.follow_up is not None:
        out.append(("follow_up.consent", study.follow_up.consent, "consent"))
    if study.kano is not None:
        for i, pair in enumerate(study.kano.pairs):
            for kind in ("functional", "dysfunctional"):
                out.append((f"kano.pairs.{i}.{kind} (feature '{pair.id}')", getattr(pair, kind), "kano"))
    return out


# --------------------------------------------------------------------------- checks
class _Checker:
    def __init__(self, table: Table, study: Study) -> None:
        self.table = table
        self.study = study
        self.data = table.data
        # a workbook of several sheets: every message says which one was read
        self.file = table.source.name + (f", sheet {table.sheet!r}" if table.other_sheets else "")
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def where(self, col: str, mask: Any = None) -> str:
        if mask is None:
            return f"{self.file}, column '{col}'"
        return f"{self.file}, column '{col}', {format_rows(self.table.row_numbers(mask))}"

    # -- presence
    def missing_column(self, key: str, col: str) -> None:
        if col in self.table.removed_columns:
            self.errors.append(
                f"{self.file}: column '{col}' (set by {key} in study.yaml) is listed in "
                "responses.personal_data, so it was removed — a personal-data column cannot also be "
                f"used as {key}: remove it from one of the two lists"
            )
            return
        columns = [str(c) for c in self.data.columns]
        close = _close(col, columns)
        if close:
            hint = "did you mean " + " or ".join(repr(c) for c in close) + "? "
            if any(c.lower() == col.lower() for c in close):
                hint = hint[:-2] + " (column names are case-sensitive)? "
        else:
            shown = ", ".join(repr(c) for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
            hint = f"the file has {shown}; "
        blank = [str(c) for c in self.data.columns if str(c).startswith("Unnamed: ")]
        if key == "responses.id" and blank:
            first = int(blank[0].split(": ", 1)[1]) + 1
            hint += (f"column {first} of {self.file} has no name in its header (read as {blank[0]!r}): give it "
                     "a name, or write `id: row` in study.yaml to number the respondents by their row; ")
        self.errors.append(
            f"{self.file}: column '{col}' (set by {key} in study.yaml) is not in the file — {hint}"
            f"fix {key.split(' ')[0]} in study.yaml or the column name in the file"
        )

    # -- numbers
    def not_numbers(self, col: str, bad: pd.Series, *, what: str, fix: str) -> None:
        shown, verb = _values(self.data[col][bad].astype("str").str.strip().tolist())
        self.errors.append(f"{self.where(col, bad)}: {shown} {verb} not a number — {what}; {fix}")

    def rated(self, col: str, scale: tuple[float, float], key: str = "study.yaml") -> None:
        lo, hi = scale
        scale_txt = _scale_text(lo, hi)
        values, bad = numeric_view(self.data[col])
        if bad.any():
            if self.table.format.startswith("qualtrics"):
                fix = ('re-export the data from Qualtrics with "Use numeric values" '
                       '(not "Use choice text")')
            else:
                fix = ("replace the text by the number of the answer on the scale, or leave the cell "
                       "empty for no answer")
            self.not_numbers(col, bad, what=f"answers must be numbers on the scale {scale_txt}", fix=fix)
        if values.isna().all() and not bad.any():
            self.errors.append(
                f"{self.where(col)} (set by {key} in study.yaml): no answer at all on any of the "
                f"{len(self.data):,} rows — check that the export holds this question (and its answers, "
                f"not only its header), or remove the item from study.yaml"
            )
            return
        out = (values < lo) | (values > hi)
        if out.any():
            found = values[out].tolist()
            shown, verb = _values(found)
            msg = (f"{self.where(col, out)}: {shown} {verb} outside the scale {scale_txt} — fix the data or "
                   f"set scales.{col} in study.yaml")
            codes = [v for v in dict.fromkeys(found) if v in _CODE_LIKE]
            if codes:
                msg += (f"; if {_fmt(codes[0])} is a code for \"don't know\" or \"not applicable\", list it "
                        "in responses.missing_codes")
            self.errors.append(msg)
        if float(lo).is_integer() and float(hi).is_integer():
            frac = values.notna() & ~out & (values != np.round(values))
            if frac.any():
                shown, verb = _values(values[frac].tolist())
                self.errors.append(
                    f"{self.where(col, frac)}: {shown} {verb} not a whole number — answers on the scale "
                    f"{scale_txt} are whole points: fix the data"
                )

    def kano(self, col: str, key: str) -> None:
        """Every answer of a Kano question is a code of ``kano.answers`` (or blank)."""
        spec = self.study.kano
        assert spec is not None
        answers, unknown = spec.decode(self.data[col])
        if answers.isna().all() and not unknown.any():
            self.errors.append(
                f"{self.where(col)} (set by {key} in study.yaml): no answer at all on any of the "
                f"{len(self.data):,} rows — check that the export holds this question, or remove the pair from "
                "kano.pairs in study.yaml")
            return
        if unknown.any():
            shown, verb = _values(self.data[col][unknown].tolist())
            codes = {}
            for code, answer in spec.answers.items():
                codes.setdefault(answer, code)
            mapping = ", ".join(f"{_code_text(codes[a])} = {a}" for a in codes)
            self.errors.append(
                f"{self.where(col, unknown)}: {shown} {verb} not among the Kano answer codes — kano.answers in "
                f"study.yaml maps {mapping} (case and spaces aside): fix the data, leave the cell empty for no "
                "answer, or add the code to kano.answers")

    def consent(self, col: str) -> None:
        """The consent to be contacted is yes/no (blank: no consent)."""
        _values_yes_no, bad = yes_no_values(self.data[col])
        if bad.any():
            shown, verb = _values(self.data[col][bad].tolist())
            self.errors.append(
                f"{self.where(col, bad)}: {shown} {verb} not yes or no — follow_up.consent in study.yaml names the "
                "column that records whether the customer agreed to be contacted: it must hold yes/no, 1/0 or "
                "true/false (a blank cell counts as no): fix the data, or name the right column")

    def respondent_id(self, col: str) -> None:
        ids = self.data[col]
        missing = ids.isna().to_numpy()
        if not pd.api.types.is_numeric_dtype(ids):
            missing = missing | (ids.astype("str").str.strip() == "").to_numpy(dtype=bool)
        if missing.any():
            self.errors.append(
                f"{self.where(col, missing)}: the respondent id is missing — give every row its own id "
                "(the id column is set by responses.id in study.yaml)"
            )
        present = ids[~missing]
        dup = present.duplicated(keep=False).to_numpy()
        if not dup.any():
            return
        positions = np.flatnonzero(~missing)[dup]
        dup_values = present[dup]
        distinct = dup_values.drop_duplicates()
        parts = []
        for value in distinct.iloc[:MAX_DUPLICATE_IDS]:
            rows = positions[(dup_values == value).to_numpy()]
            parts.append(f"{_fmt(value)} on {format_rows(self.table.row_numbers(rows))}")
        more = len(distinct) - MAX_DUPLICATE_IDS
        listed = "; ".join(parts) + (f" (+{more} more ids)" if more > 0 else "")
        n = len(distinct)
        self.errors.append(
            f"{self.where(col)}: {n} respondent id{'s appear' if n > 1 else ' appears'} on more than one "
            f"row — {listed} — each respondent must have exactly one row: remove the repeated rows or "
            "correct the ids"
        )

    def weight(self, col: str) -> None:
        values, bad = numeric_view(self.data[col])
        fix = "fix the data, or remove responses.weight from study.yaml to analyse unweighted"
        if bad.any():
            self.not_numbers(col, bad, what="weights must be numbers > 0", fix=fix)
        missing = values.isna() & ~bad
        if missing.any():
            self.errors.append(f"{self.where(col, missing)}: the weight is missing — every respondent "
                               f"needs a weight > 0: {fix}")
        nonpos = values <= 0
        if nonpos.any():
            shown, verb = _values(values[nonpos].tolist())
            self.errors.append(f"{self.where(col, nonpos)}: {shown} {verb} not a valid weight — weights "
                               f"must be > 0: {fix}")

    def duration(self, col: str) -> None:
        values, bad = numeric_view(self.data[col])
        fix = "fix the data (leave the cell empty when the duration is unknown)"
        if bad.any():
            self.not_numbers(col, bad, what="durations must be numbers of seconds >= 0", fix=fix)
        negative = values < 0
        if negative.any():
            shown, verb = _values(values[negative].tolist())
            self.errors.append(f"{self.where(col, negative)}: {shown} {verb} not a valid duration — "
                               f"durations must be >= 0 seconds: {fix}")

    def grouping(self, key: str, col: str) -> None:
        s = self.data[col]
        missing = s.isna().to_numpy()
        if not pd.api.types.is_numeric_dtype(s):
            missing = missing | (s.astype("str").str.strip() == "").to_numpy(dtype=bool)
        what = "wave" if key == "responses.wave" else "segment"
        if what == "segment" and missing.all():
            self.errors.append(
                f"{self.where(col)}: no {col} value on any of the {len(self.data):,} rows — a segment column "
                f"needs a value for its respondents: check the export, or remove '{col}' from "
                "responses.segments in study.yaml"
            )
            return
        if missing.any():
            self.warnings.append(
                f"{self.where(col, missing)}: no {col} value — these respondents are left out of the "
                f"{what} results for '{col}': fill in the value to include them"
            )
        values = s[~missing]
        if what == "segment" and values.nunique() == 1:
            self.errors.append(
                f"{self.where(col)}: every respondent has the same value {_fmt(values.iloc[0])} — a segment "
                f"column splits the respondents into groups, this one makes a single group: check the "
                f"column, or remove '{col}' from responses.segments in study.yaml"
            )

    def personal_data(self) -> None:
        columns = [str(c) for c in self.data.columns]
        for col in self.study.responses.personal_data:
            if col in self.data.columns or col in self.table.removed_columns:
                continue
            close = _close(col, columns)
            hint = (" (did you mean " + " or ".join(repr(c) for c in close) + "? it would reach the reports)"
                    if close else "")
            self.warnings.append(
                f"{self.file}: column '{col}' listed in responses.personal_data is not in the file{hint} — "
                "check the spelling in study.yaml"
            )

    def none_found(self, named: list[tuple[str, str, str]]) -> bool:
        """One message, not one per column, when no column study.yaml names is in the file: the
        wrong sheet or the wrong file was read, and the message says which and where to look."""
        wanted = list(dict.fromkeys(col for _key, col, _role in named))
        if len(wanted) < 2 or any(c in self.data.columns for c in wanted):
            return False
        columns = [str(c) for c in self.data.columns]
        has = ", ".join(repr(c) for c in columns[:6]) + (" ..." if len(columns) > 6 else "")
        names = ", ".join(repr(c) for c in wanted[:4]) + (" ..." if len(wanted) > 4 else "")
        if self.table.other_sheets:
            others = ", ".join(repr(s) for s in self.table.other_sheets)
            fix = (f"the workbook also has {others}: set responses.sheet in study.yaml to the sheet that holds the "
                   f"answers (e.g. sheet: {self.table.other_sheets[0]!r})")
        else:
            fix = "check responses.file in study.yaml, or the header row of the file"
        self.errors.append(f"{self.file}: none of the columns study.yaml names ({names}) is here — this has "
                           f"{has}; {fix}")
        return True

    def run(self) -> ValidationReport:
        rated = self.study.rated_items()
        seen: set[tuple[str, str]] = set()
        named = _named_columns(self.study)
        if self.none_found(named):
            return ValidationReport(errors=self.errors, warnings=self.warnings)
        for key, col, role in named:
            if col not in self.data.columns:
                self.missing_column(key, col)
                continue
            if (role, col) in seen:
                continue
            seen.add((role, col))
            if role == "rated":
                self.rated(col, rated[col], key)
            elif role == "id":
                self.respondent_id(col)
            elif role == "weight":
                self.weight(col)
            elif role == "duration":
                self.duration(col)
            elif role in ("segment", "wave"):
                self.grouping(key, col)
            elif role == "kano":
                self.kano(col, key)
            elif role == "consent":
                self.consent(col)
        self.personal_data()
        return ValidationReport(errors=self.errors, warnings=self.warnings)


# --------------------------------------------------------------------------- public API
def validate_responses(table: Table, study: Study) -> ValidationReport:
    """Check survey responses against the study configuration and collect every problem.

    Checks (each message names file, column, user row numbers, what was found, what is
    allowed and the fix):

    - every column the config names exists (id, wave, segments, weight, comments,
      duration, rated items, loyalty items), else the config key and close matches;
    - rated items: numbers only (up to three distinct offending values shown), inside
      the item's scale (:meth:`Study.scale_for`), whole numbers on a whole-point scale;
      missing answers are allowed, but not an item with no answer at all;
    - respondent id: present on every row, and unique;
    - weight: a number > 0 on every row; duration: a number >= 0 where given;
    - segment columns: at least two distinct values (a single value, or none, is an error);
    - warnings: segment (or wave) values missing on some rows, a personal-data column
      that is not in the file.

    Parameters
    ----------
    table : Table
        The responses as read (:func:`csm_helpers.study.readers.load_responses` with
        ``validate=False``, or :func:`csm_helpers.study.readers.read_table`).
    study : Study
        The study configuration.

    Returns
    -------
    ValidationReport
        ``errors`` and ``warnings``, one message per problem; ``ok`` is True when there
        is no error.

    Examples
    --------
    >>> from pathlib import Path
    >>> from csm_helpers.study.config import Study
    >>> from csm_helpers.study.table import Table
    >>> study = Study.model_validate({
    ...     "name": "Demo", "responses": {"file": "responses.csv", "id": "id"}, "overall": "sat",
    ...     "attributes": [{"id": "speed", "label": "Speed", "dimension": "process",
    ...                     "performance": "p_speed"}]})
    >>> data = pd.DataFrame({"id": [1, 2, 3], "sat": [5, 6, 4], "p_speed": [3, 4, 2]})
    >>> report = validate_responses(Table(data, Path("responses.csv"), "csv", 2), study)
    >>> report.ok
    False
    >>> print(report.errors[0])
    responses.csv, column 'sat', row 3: 6 is outside the scale 1-5 — fix the data or set scales.sat in study.yaml
    """
    return _Checker(table, study).run()


def check_responses(table: Table, study: Study) -> None:
    """Raise :class:`~csm_helpers.core.errors.DataError` listing every error :func:`validate_responses` finds.

    Warnings do not raise.

    Raises
    ------
    DataError
        When there is at least one error; ``problems`` holds the messages.

    Examples
    --------
    >>> from pathlib import Path
    >>> from csm_helpers.study.config import Study
    >>> from csm_helpers.study.table import Table
    >>> study = Study.model_validate({
    ...     "name": "Demo", "responses": {"file": "responses.csv", "id": "id"}, "overall": "sat",
    ...     "attributes": [{"id": "speed", "label": "Speed", "dimension": "process",
    ...                     "performance": "p_speed"}]})
    >>> data = pd.DataFrame({"id": [1, 2, 3], "sat": [5, 3, 4], "p_speed": [3, 4, 2]})
    >>> check_responses(Table(data, Path("responses.csv"), "csv", 2), study)  # no error: returns None
    """
    report = validate_responses(table, study)
    if report.errors:
        n = len(report.errors)
        raise DataError(
            f"{table.source.name}: {n} problem{'s' if n > 1 else ''} in the survey data — fix "
            f"{'them' if n > 1 else 'it'} and load the data again",
            report.errors,
        )
