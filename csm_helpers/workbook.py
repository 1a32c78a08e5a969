"""What a stage notebook starts with: the study, the segment's data, where outputs go.

A notebook's first code cell is ``ctx = open_stage("02_discovery", study_path=..., segment=...,
output_dir=...)``; everything after it is a helper call on ``ctx``'s data. Loading and
validation happen here once, so every notebook reports bad input the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Codebook, Goals, Study, load_codebook, load_goals, load_study
from .datasets import sample_study_path
from .errors import CsmError
from .safety import write_text_atomic

__all__ = ["StageContext", "open_stage", "parse_segment", "select_segment", "to_jsonable",
           "METRICS_FRAGMENT_DIR"]

#: Sub-folder of a stage's output_dir where each notebook leaves its part of metrics.json.
METRICS_FRAGMENT_DIR = "_stage_metrics"


def parse_segment(segment: str, study: Study) -> tuple[str, str] | None:
    """Parse ``"all"`` or ``"column=value"`` against the study's segment columns.

    Returns None for ``"all"``, else ``(column, value)``.

    Raises
    ------
    CsmError
        When the text is not of that form or the column is not a segment column.

    Examples
    --------
    >>> from csm_helpers.config import load_study
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
    """Rows of ``data`` in ``segment`` (a copy; ``"all"`` returns every row).

    Raises
    ------
    CsmError
        When the segment value does not occur in the data (the message lists the values).
    """
    parsed = parse_segment(segment, study)
    if parsed is None:
        return data.copy()
    column, value = parsed
    values = data[column].astype("string")
    mask = values == value
    if not mask.any():
        present = sorted(v for v in values.dropna().unique())
        shown = ", ".join(present[:20]) + (" …" if len(present) > 20 else "")
        raise CsmError(f"segment {column}={value!r} has no respondents; values of {column!r}: {shown}")
    return data.loc[mask.fillna(False).to_numpy()].copy()


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON types (NaN -> None).

    Examples
    --------
    >>> to_jsonable({"a": np.float64(0.5), "b": [np.int64(2), float("nan")]})
    {'a': 0.5, 'b': [2, None]}
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        return None if math.isnan(float(obj)) or math.isinf(float(obj)) else float(obj)
    if obj is pd.NA or obj is None:
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


@dataclass
class StageContext:
    """A stage's inputs: the validated study, the segment, and where to write files.

    Attributes are loaded on first use and cached, so a notebook only pays for what it uses.
    """

    stage: str
    study: Study
    segment: str = "all"
    output_dir: Path | None = None
    _metrics: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def responses(self) -> pd.DataFrame:
        """The segment's survey responses, validated, personal-data columns removed."""
        from .io import load_responses

        return select_segment(load_responses(self.study).data, self.study, self.segment)

    @property
    def n(self) -> int:
        """Number of respondents in the segment."""
        return len(self.responses)

    @cached_property
    def goals(self) -> Goals | None:
        return load_goals(self.study)

    @cached_property
    def codebook(self) -> Codebook | None:
        return load_codebook(self.study)

    @cached_property
    def interviews(self) -> pd.DataFrame | None:
        """Discovery interviews in the standard columns of :func:`discovery.prepare_interviews`."""
        spec = self.study.interviews
        if spec is None:
            return None
        from .discovery import prepare_interviews
        from .io import read_study_table

        cols = [spec.id, spec.group, spec.text]
        table = read_study_table(self.study, "interviews", required=cols)
        return prepare_interviews(table.data, spec=spec)

    def output_path(self, name: str) -> Path | None:
        """Where to write an exported file next to the report (None when output is off)."""
        if self.output_dir is None:
            return None
        self.output_dir.mkdir(parents=True, exist_ok=True)
        return self.output_dir / name

    def record_metrics(self, values: dict[str, Any]) -> None:
        """Add entries to this segment's ``metrics.json`` (merged by the runner)."""
        self._metrics.update(to_jsonable(values))
        if self.output_dir is None:
            return
        path = self.output_dir / METRICS_FRAGMENT_DIR / f"{self.stage}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(self._metrics, ensure_ascii=False, sort_keys=True, indent=2))


def open_stage(stage: str, *, study_path: str = "", segment: str = "all",
               output_dir: str = "") -> StageContext:
    """Load what a stage notebook needs (the papermill parameters go straight in).

    Parameters
    ----------
    stage : str
        The notebook's stage name, e.g. ``"01_goal_setting"``.
    study_path : str
        Path of ``study.yaml``; empty for the bundled sample study.
    segment : str
        ``"all"`` or ``"COLUMN=VALUE"`` (one of the study's segment columns).
    output_dir : str
        Folder for files written beside the report; empty to write nothing.

    Examples
    --------
    >>> ctx = open_stage("01_goal_setting")
    >>> ctx.segment, ctx.study.language
    ('all', 'en')
    """
    study = load_study(study_path or sample_study_path())
    parse_segment(segment, study)  # fail early on a malformed segment
    out = Path(output_dir).resolve() if output_dir else None
    return StageContext(stage=stage, study=study, segment=segment or "all", output_dir=out)
