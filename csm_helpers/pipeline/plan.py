"""Plan a run: which stages, which notebooks, which are skipped and why (:func:`plan_run`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm_helpers.core.errors import ConfigError
from csm_helpers.core.safety import file_sha256
from csm_helpers.pipeline.preflight import StudyCheck, validate_study
from csm_helpers.study.config import Study
from csm_helpers.study.stages import (
    check_notebooks_folder,
    notebooks_dir,
    resolve_stages,
    skip_reason,
    stage_support,
    study_notebooks,
)

__all__ = ["segment_dirname", "RunResult", "RunPlan", "plan_run"]


def segment_dirname(segment: str) -> str:
    """Folder name for a segment: ``all``, or ``column=value`` made safe for any file system.

    Examples
    --------
    >>> segment_dirname("all"), segment_dirname("region=Ho Chi Minh City")
    ('all', 'region=Ho_Chi_Minh_City')
    >>> segment_dirname("region=../../etc")
    'region=.._.._etc'
    """
    name = re.sub(r"[^\w.=-]+", "_", segment.strip(), flags=re.UNICODE).strip("._") or "segment"
    return name[:120]


# --------------------------------------------------------------------------- plan
@dataclass
class RunResult:
    """What :func:`run_study` wrote and how long each stage took (seconds)."""

    out_dir: Path
    segment: str
    files: list[Path]
    timings: dict[str, float]
    n: int
    skipped: bool = False  # ``resume`` found complete outputs for the same inputs: nothing was run


@dataclass
class RunPlan:
    """What every segment of one run shares: the validated study, the stages, the inputs'
    SHA-256 and the notebooks folder. Small and picklable (it travels to dask workers)."""

    study: Study
    stages: list[str]
    inputs: dict[str, str]
    notebooks: Path
    warnings: list[str] = field(default_factory=list)
    #: stages left out because the study lacks their inputs: stage -> the missing study.yaml keys
    skipped: dict[str, list[str]] = field(default_factory=dict)
    #: SHA-256 of each stage notebook run (file name -> digest), recorded in metrics.json
    notebook_sha256: dict[str, str] = field(default_factory=dict)

    def parameters(self, segment: str) -> dict[str, Any]:
        """The run parameters recorded in a segment's ``metrics.json``."""
        return {"segment": segment, "seed": self.study.seed, "min_cell_size": self.study.min_cell_size,
                "stages": list(self.stages), "study": self.study.path.name, "language": self.study.language,
                "notebooks": dict(self.notebook_sha256)}


def plan_run(study_path: str | Path | None, stages: Sequence[str] | None = None, *,
             notebooks: Path | None = None) -> tuple[RunPlan, StudyCheck]:
    """Validate the whole study once and fix what every segment of the run shares.

    The stage notebooks are the study's own when it has them (see
    :func:`csm_helpers.study.stages.study_notebooks`). Before anything runs, stages whose inputs the
    study lacks are left out with a reason when no stages were named (``plan.skipped``); naming
    such a stage is an input error. Every notebook to run is checked for its ``parameters`` cell.

    Raises
    ------
    CsmError
        Bad config or data, an unknown stage, a named stage without its inputs, or a stage
        notebook that is missing or has no ``parameters`` cell.

    Examples
    --------
    >>> plan, _ = plan_run(None, ["04"])
    >>> plan.stages, plan.skipped, sorted(plan.notebook_sha256)
    (['04_analysis'], {}, ['04_analysis.ipynb'])
    """
    check = validate_study(study_path)
    study = check.study
    nb_dir, _source = study_notebooks(study, notebooks, default=notebooks_dir())
    wanted = resolve_stages(stages, nb_dir)
    unsupported = {stage: keys for stage, keys in stage_support(study, wanted).items() if keys}
    if stages and unsupported:
        raise ConfigError("; ".join(
            f"{study.path}: stage {stage} needs " + " and ".join(f"'{k}'" for k in keys)
            + ", which study.yaml does not name — add " + " and ".join(f"'{k}: <file>'" for k in keys)
            + " to study.yaml, or leave the stage out of --stages"
            for stage, keys in unsupported.items()))
    wanted = [s for s in wanted if s not in unsupported]
    if not wanted:
        raise ConfigError(f"{study.path}: no stage can run — "
                          + "; ".join(skip_reason(stage, keys) for stage, keys in unsupported.items()))
    check_notebooks_folder(nb_dir, wanted)
    inputs = {rel: file_sha256(study.resolve(rel, key=key)) for key, rel in study.file_keys().items()}
    inputs = dict(sorted({**inputs, study.path.name: file_sha256(study.path)}.items()))
    return RunPlan(study=study, stages=wanted, inputs=inputs, notebooks=nb_dir,
                   warnings=list(check.warnings), skipped=unsupported,
                   notebook_sha256={f"{s}.ipynb": file_sha256(nb_dir / f"{s}.ipynb") for s in wanted}), check
