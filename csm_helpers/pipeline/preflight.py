"""``csm validate``: every check of a study's own inputs that can fail ``csm run``, before any notebook runs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm_helpers.study.config import Study, load_study
from csm_helpers.study.datasets import sample_study_path
from csm_helpers.study.stages import (
    skip_reason,
    stage_names,
    stage_support,
)

__all__ = ["StudyCheck", "validate_study", "WILL_BE_SKIPPED"]


# --------------------------------------------------------------------------- validation
@dataclass
class StudyCheck:
    """What :func:`validate_study` found: the study, row counts and warnings."""

    study: Study
    n_responses: int
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    #: the validated responses (personal-data columns removed), so callers need not read them again
    data: Any = field(default=None, repr=False)


def validate_study(study_path: str | Path | None = None) -> StudyCheck:
    """Load and check the whole study: config, goals, codebook, responses and every table.

    Raises
    ------
    CsmError
        The first kind of problem found, with every problem of that file listed.

    Examples
    --------
    >>> check = validate_study()
    >>> check.n_responses >= 2000
    True
    """
    from csm_helpers.workbook.cache import data_cache_on

    with data_cache_on():  # the responses and tables are read once, though several checks use them
        return _validate_study(study_path)


def _validate_study(study_path: str | Path | None) -> StudyCheck:
    from csm_helpers.study.config import load_codebook, load_goals
    from csm_helpers.study.readers import load_responses, read_study_table
    from csm_helpers.study.validate import validate_responses
    from csm_helpers.workbook.cache import seed

    study = load_study(study_path or sample_study_path())
    load_goals(study)
    codebook = load_codebook(study)
    table = load_responses(study, validate=False)
    report = validate_responses(table, study)
    if report.errors:
        from csm_helpers.core.errors import DataError

        raise DataError(f"{table.source.name}: {len(report.errors)} problem(s) in the survey data",
                        report.errors)
    seed(study, ("responses",), table)  # what a stage reads (load_responses)
    check = StudyCheck(study=study, n_responses=len(table.data), warnings=list(report.warnings), data=table.data)
    for key in ("population", "complaints", "lost_customers"):
        if getattr(study, key):
            check.tables[key] = len(read_study_table(study, key).data)
    if study.follow_up is not None and study.follow_up.outcomes is not None:
        check.tables["outcomes"] = len(read_study_table(study, "outcomes").data)
    if study.actions:
        check.tables["actions"] = len(read_study_table(study, "actions").data)
    _check_analysis_inputs(study)
    check.warnings += _section_warnings(study, table.data)
    if study.interviews:
        spec = study.interviews
        from csm_helpers.analysis.discovery import prepare_interviews

        t = read_study_table(study, "interviews", required=[spec.id, spec.group, spec.text])
        interviews = prepare_interviews(t.data, spec=spec)
        check.tables["interviews"] = len(interviews)
        if codebook is not None:  # coded as stage 02 codes them: a pattern that never ends, a bad manual code
            from csm_helpers.analysis.discovery import code_verbatims

            code_verbatims(interviews, codebook=codebook)
    return check


#: The end of a validate warning about a stage a run will skip (the run prints its own line).
WILL_BE_SKIPPED = " — it will be skipped"


def _section_warnings(study: Study, data: Any) -> list[str]:
    """What a run will withhold rather than fail on: stages without their inputs, and items with
    one answer from everyone (no correlation, so no key drivers or derived importance)."""
    out = [f"stage {skip_reason(stage, keys)}{WILL_BE_SKIPPED}"
           for stage, keys in stage_support(study, stage_names()).items() if keys]
    items = [("overall", study.overall)] + [(f"attributes.{i}.performance", a.performance)
                                            for i, a in enumerate(study.attributes)]
    for key, col in items:
        if col in data.columns and data[col].nunique(dropna=True) <= 1:
            out.append(f"{key} ({col!r}) has the same answer from every respondent — key drivers and derived "
                       "importance will be withheld (a correlation needs answers that vary)")
    return out


def _check_analysis_inputs(study: Study) -> None:
    """What the stages would otherwise find only half-way through a run: the previous wave,
    the population table against the data (sizes, values, raking), the complaint log and
    the lost-customer reasons — checked with the very functions the stages call."""
    from csm_helpers.analysis import complaints as cx
    from csm_helpers.analysis import measurement as m
    from csm_helpers.workbook.context import StageContext

    ctx = StageContext(stage="validate", study=study)
    if study.analysis.previous_wave:
        _ = ctx.previous_wave  # raises when the wave is not in the data
    if ctx.population is not None:
        for column in ctx.population_segments:
            m.sampling_table(ctx.responses, by=column, population=ctx.population,
                             e=study.measurement.margin_of_error, p=study.measurement.p)
        _ = ctx.kept_responses  # exclusions and raking weights
    _ = ctx.complaint_summary  # the complaint log's columns, dates and validity values
    if study.follow_up is not None and study.follow_up.outcomes is not None:
        _ = ctx.follow_up_outcomes_table  # the outcome file's columns and yes/no answers
    if study.actions:
        _ = ctx.action_check_table  # last wave's register: its columns, targets and attribute ids
    if study.satisfaction_model is not None:
        from csm_helpers.analysis.pls_pm import pls_pm

        blocks, paths, complete, need = ctx.satisfaction_model_inputs()
        if complete >= need:  # else the report withholds it; the model itself: a constant item, no convergence
            pls_pm(ctx.current, blocks=blocks, paths=paths, scheme=study.satisfaction_model.scheme)
    if study.lost_customers is not None:
        with warnings.catch_warnings():  # caveats about small counts belong in the report, not here
            warnings.simplefilter("ignore")
            cx.lost_reasons(ctx.segment_table("lost_customers")[0], reason=study.lost_customers.reason,
                            benchmark=study.analysis.lost_benchmark, min_n=study.min_cell_size,
                            monte_carlo=False)
