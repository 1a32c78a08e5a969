"""A study's tables as study.yaml describes them: the survey responses (id, personal data removed, Qualtrics previews and unfinished responses left out, SPSS labels) and the other tables (interviews, complaints, lost customers)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.errors import ConfigError, DataError
from csm_helpers.study.config import Study
from csm_helpers.study.readers.files import read_table
from csm_helpers.study.table import Table, numeric_view

__all__ = ["qualtrics_left_out", "ROW_ID", "load_responses", "read_study_table"]


_TABLE_KEYS = {
    "population": "population",
    "complaints": "complaints.file",
    "lost_customers": "lost_customers.file",
    "interviews": "interviews.file",
    "outcomes": "follow_up.outcomes.file",
    "actions": "actions",
}


#: Study keys whose value is a spec with a ``file`` and column settings (vs. a bare path).
_SPEC_KEYS = ("interviews", "complaints", "lost_customers", "outcomes")


# --------------------------------------------------------------------------- study files
def _label_codes(data: pd.DataFrame, value_labels: dict[str, dict], columns: Sequence[str]) -> pd.DataFrame:
    """Replace coded values by their labels in ``columns`` (SPSS segments: 1 -> "Hanoi").

    A code without a label is kept, written as text (``3.0`` -> ``"3"``).
    """
    out = data
    for col in columns:
        labels = value_labels.get(col)
        if col not in data.columns or not labels:
            continue
        s = data[col]
        if pd.api.types.is_numeric_dtype(s):
            lookup = {float(k): str(v) for k, v in labels.items() if isinstance(k, int | float)}

            def label(v: Any, lookup: dict[float, str] = lookup) -> Any:
                v = float(v)
                return lookup.get(v, str(int(v)) if v.is_integer() else str(v))

        else:
            lookup_text = {str(k).strip(): str(v) for k, v in labels.items()}

            def label(v: Any, lookup: dict[str, str] = lookup_text) -> Any:
                return lookup.get(str(v), v)

        present = s.notna()
        mapped = pd.Series(pd.NA, index=s.index, dtype="object")
        mapped[present] = [label(v) for v in s[present].tolist()]
        if out is data:
            out = data.copy()
        out[col] = mapped.astype("str").where(present)
    return out


def _as_labels(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Wave and segment columns hold labels: numbers such as 2025 become the text "2025" (not
    "2025.0"), so that a wave or segment named in study.yaml or on the command line matches."""
    out = data
    for col in dict.fromkeys(columns):
        if col not in data.columns or not pd.api.types.is_numeric_dtype(data[col]) \
                or pd.api.types.is_bool_dtype(data[col]):
            continue
        s = data[col]
        present = s.notna()
        text = pd.Series(pd.NA, index=s.index, dtype="object")
        text[present] = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in s[present].tolist()]
        if out is data:
            out = data.copy()
        out[col] = text.astype("str").where(present)
    return out


def _to_numbers(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Make text columns numeric where that loses nothing (every cell a number or missing)."""
    out = data
    for col in columns:
        if col not in data.columns or pd.api.types.is_numeric_dtype(data[col]):
            continue
        values, bad = numeric_view(data[col])
        if not bad.any():
            if out is data:
                out = data.copy()
            out[col] = values
    return out


def _qualtrics_column(table: Table, name: str) -> str | None:
    """The column Qualtrics calls ``name``: by its header (current layout) or, in the legacy
    layout (``V1``, ``V2``, … in row 1), by the field name in row 2."""
    if name in table.data.columns:
        return name
    for col, text in table.question_text.items():
        if str(text).strip().lower() == name.lower():
            return col
    return None


def qualtrics_left_out(table: Table, *, keep_previews: bool = False, keep_unfinished: bool = False,
                       id_column: str | None = None) -> Table:
    """A Qualtrics export without its survey previews and unfinished responses, counted.

    Rows with ``Status`` "Survey Preview" (code 1 in a numeric export) and rows with
    ``Finished`` 0 / False are left out unless kept; ``left_out`` counts them by reason, and
    the row numbers of the remaining rows stay those of the file. In the legacy layout the
    response id is ``V1``: an ``id_column`` of ``ResponseID`` names it too.

    Examples
    --------
    >>> from pathlib import Path
    >>> t = Table(pd.DataFrame({"ResponseId": ["R1", "R2", "R3"], "Status": ["IP Address", "Survey Preview",
    ...           "IP Address"], "Finished": ["1", "1", "0"]}), Path("q.csv"), "qualtrics", first_data_row=4)
    >>> out = qualtrics_left_out(t)
    >>> out.data["ResponseId"].tolist(), out.left_out, out.row_numbers([0])
    (['R1'], {'survey preview': 1, 'unfinished': 1}, [4])
    """
    data = table.data
    drop = np.zeros(len(data), dtype=bool)
    left: dict[str, int] = {}
    status = _qualtrics_column(table, "Status")
    if status is not None and not keep_previews:
        preview = data[status].astype("string").str.strip().str.lower().isin(["survey preview", "1", "1.0"])
        preview = preview.fillna(False).to_numpy(dtype=bool)
        left["survey preview"] = int(preview.sum())
        drop |= preview
    finished = _qualtrics_column(table, "Finished")
    if finished is not None and not keep_unfinished:
        unfinished = data[finished].astype("string").str.strip().str.lower().isin(["0", "0.0", "false"])
        unfinished = unfinished.fillna(False).to_numpy(dtype=bool) & ~drop
        left["unfinished"] = int(unfinished.sum())
        drop |= unfinished
    rename = {}
    if id_column and id_column not in data.columns:
        found = _qualtrics_column(table, id_column)
        if found is not None:
            rename = {found: id_column}
    if not drop.any() and not rename:
        return dataclasses.replace(table, left_out={k: v for k, v in left.items() if v})
    rows = np.asarray(table.row_numbers(np.arange(len(data))), dtype=np.int64)
    keep = ~drop
    return dataclasses.replace(table, data=data.loc[keep].reset_index(drop=True).rename(columns=rename),
                               file_rows=rows[keep], left_out={k: v for k, v in left.items() if v})


#: ``responses.id: row``: number the respondents by their row in the file (no id column needed).
ROW_ID = "row"


def load_responses(study: Study, *, validate: bool = True) -> Table:
    """Load the study's survey export, ready for analysis.

    Reads ``responses.file`` (with ``responses.format``, ``sheet``, ``encoding``,
    ``delimiter``), maps coded segment columns of an SPSS file to their value labels,
    turns ``responses.missing_codes`` (e.g. 99 = "don't know") into missing answers in the
    rated items, validates the data (:func:`csm_helpers.study.validate.check_responses`) and
    removes the ``responses.personal_data`` columns, which must never reach a report
    (SPEC §4).

    Parameters
    ----------
    study : Study
        The loaded study configuration.
    validate : bool
        Raise :class:`~csm_helpers.core.errors.DataError` listing every problem found. With
        False, call :func:`csm_helpers.study.validate.validate_responses` yourself.

    Returns
    -------
    Table
        Rated items, weight and duration as numbers; personal-data columns removed (their
        names in ``removed_columns``).

    Raises
    ------
    DataFileError
        When the file cannot be read.
    DataError
        When ``validate`` and the data break the study's rules; every problem is listed
        with file, column, rows and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from csm_helpers.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.yaml").write_text(
    ...     "name: Demo\\n"
    ...     "responses: {file: r.csv, id: id, segments: [region], personal_data: [email],"
    ...     " missing_codes: [99]}\\n"
    ...     "overall: sat\\n"
    ...     "attributes: [{id: speed, label: Speed, dimension: process, performance: p_speed}]\\n")
    >>> _ = (d / "r.csv").write_text(
    ...     "id,region,email,sat,p_speed\\n1,North,a@x.org,5,4\\n2,South,b@x.org,99,3\\n")
    >>> t = load_responses(load_study(d))
    >>> list(t.data.columns), t.removed_columns
    (['id', 'region', 'sat', 'p_speed'], ('email',))
    >>> t.data["sat"].tolist()
    [5.0, nan]
    """
    spec = study.responses
    path = study.resolve(spec.file, key="responses.file")
    table = read_table(path, format=spec.format, sheet=spec.sheet, encoding=spec.encoding,
                       delimiter=spec.delimiter, config_key="responses.file")
    if table.format.startswith("qualtrics"):
        table = qualtrics_left_out(table, keep_previews=spec.qualtrics.keep_previews,
                                   keep_unfinished=spec.qualtrics.keep_unfinished, id_column=spec.id)
    data = _label_codes(table.data, table.value_labels, spec.segments)
    data = _as_labels(data, [c for c in (spec.wave, *spec.segments) if c])
    if spec.id == ROW_ID and ROW_ID not in data.columns:  # an export without a unique id
        data = data.copy()
        data.insert(0, ROW_ID, table.row_numbers(np.arange(len(data))))
    rated = [c for c in study.rated_items() if c in data.columns]
    numeric = rated + [c for c in (spec.weight, spec.duration) if c]
    data = _to_numbers(data, numeric)
    if spec.missing_codes:
        codes = [float(c) for c in spec.missing_codes]
        for col in rated:
            values, _ = numeric_view(data[col])
            is_code = values.isin(codes).to_numpy()
            if is_code.any():
                if data is table.data:
                    data = data.copy()
                col_data = data[col]
                if pd.api.types.is_numeric_dtype(col_data):
                    col_data = col_data.astype("float64")
                data[col] = col_data.mask(is_code)
    table = dataclasses.replace(table, data=data)
    if validate:
        from csm_helpers.study.validate import check_responses

        check_responses(table, study)
    removed = tuple(c for c in spec.personal_data if c in data.columns)
    if removed:
        data = data.drop(columns=list(removed))
    return dataclasses.replace(
        table,
        data=data,
        question_text={k: v for k, v in table.question_text.items() if k not in removed},
        value_labels={k: v for k, v in table.value_labels.items() if k not in removed},
        removed_columns=removed,
    )


def read_study_table(study: Study, key: str, *, required: Sequence[str] = ()) -> Table:
    """Read one of the study's other tables: population, complaints, lost customers, interviews,
    the follow-up outcomes (``follow_up.outcomes``) or last wave's action register (``actions``).

    The file comes from the study key (``population``, ``complaints``, ``lost_customers``
    or ``interviews.file``); the format follows the extension (see :func:`read_table`).
    Coded segment columns of an SPSS file are mapped to their labels, and columns listed
    in ``responses.personal_data`` are removed unless ``required`` names them.

    Parameters
    ----------
    study : Study
        The loaded study configuration.
    key : {"population", "complaints", "lost_customers", "interviews", "outcomes", "actions"}
        Which table.
    required : sequence of str
        Columns the caller needs.

    Returns
    -------
    Table

    Raises
    ------
    ConfigError
        When the study names no file for ``key``.
    DataFileError
        When the file is missing or unreadable.
    DataError
        When required columns are missing; each is listed with close matches and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from csm_helpers.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.yaml").write_text(
    ...     "name: Demo\\nresponses: {file: r.csv, id: id}\\noverall: sat\\npopulation: pop.csv\\n"
    ...     "attributes: [{id: speed, label: Speed, dimension: process, performance: p_speed}]\\n")
    >>> _ = (d / "pop.csv").write_text("region,size\\nNorth,1200\\nSouth,800\\n")
    >>> read_study_table(load_study(d), "population", required=["region", "size"]).data["size"].sum()
    np.int64(2000)
    """
    if key not in _TABLE_KEYS:
        raise ValueError(f"unknown study table {key!r}; use one of: {', '.join(_TABLE_KEYS)}")
    config_key = _TABLE_KEYS[key]
    if key == "outcomes":
        spec = study.follow_up.outcomes if study.follow_up is not None else None
    else:
        spec = getattr(study, key)
    rel = (spec.file if spec else None) if key in _SPEC_KEYS else spec
    if not rel:
        raise ConfigError(
            f"{study.path}: the study names no {key.replace('_', ' ')} file — add '{key}: <file>' "
            f"to {study.path.name} (the path is relative to it)"
        )
    path = study.resolve(rel, key=config_key)
    table = read_table(path, config_key=config_key)
    data = _label_codes(table.data, table.value_labels, study.responses.segments)
    removed = tuple(c for c in study.responses.personal_data if c in data.columns and c not in required)
    if removed:
        data = data.drop(columns=list(removed))
    missing = [c for c in required if c not in data.columns]
    if missing:
        setting = {}
        if key in _SPEC_KEYS:
            prefix = config_key.removesuffix(".file")
            setting = {getattr(spec, f): f"{prefix}.{f}" for f in type(spec).model_fields
                       if f != "file" and isinstance(getattr(spec, f), str)}
        columns = list(data.columns)
        problems = []
        for col in missing:
            close = _close_columns(col, columns)
            hint = f"did you mean {close}? " if close else ""
            fix = "rename the column in the file"
            if col in setting:
                fix += f" or set {setting[col]} in study.yaml"
            problems.append(f"column '{col}' is missing — {hint}{fix}")
        shown = ", ".join(repr(c) for c in columns[:15]) + (" ..." if len(columns) > 15 else "")
        raise DataError(
            f"{path.name} (key '{config_key}' in study.yaml): {len(missing)} required column(s) missing; "
            f"the file has {shown}",
            problems,
        )
    return dataclasses.replace(
        table, data=data, removed_columns=removed,
        question_text={k: v for k, v in table.question_text.items() if k not in removed},
        value_labels={k: v for k, v in table.value_labels.items() if k not in removed},
    )


def _close_columns(name: str, columns: Sequence[str]) -> str:
    """``"'Q7'"`` / ``"'q7a' or 'q7b'"``: columns close to ``name`` (case-insensitive first)."""
    same_case = [c for c in columns if c.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, list(columns), n=2, cutoff=0.6)
    return " or ".join(repr(c) for c in close)
