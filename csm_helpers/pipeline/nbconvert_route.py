"""The nbconvert route: ``jupyter nbconvert --to html --template csm_report executed.ipynb``.

The ``csm_report`` template is installed where nbconvert finds it (the wheel's
``share/jupyter/nbconvert/templates/csm_report``), and its ``conf.json`` registers
:class:`CsmReportPreprocessor`. ``csm run`` renders with the same template and preprocessor,
so a notebook executed by papermill and converted by hand gives the same report as
``csm run``, apart from the generation time.

A notebook ``csm run`` executed carries its title block in ``nb.metadata.csm``. One executed
by papermill alone does not: the preprocessor then works it out as ``csm run`` does, from the
parameters and the source notebook papermill recorded (``metadata.papermill``).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor

from csm_helpers.core.errors import ReportError
from csm_helpers.pipeline.export import prepare_report

__all__ = ["CsmReportPreprocessor", "papermill_report_meta"]


def papermill_report_meta(nb: nbformat.NotebookNode, *, folder: str | Path | None = None,
                          generated: _dt.datetime | None = None) -> dict[str, Any]:
    """The title block of a notebook executed by papermill, as ``csm run`` would give it.

    The source notebook is papermill's ``input_path``; a relative one is looked for from the
    current folder, then from ``folder`` (where the executed notebook is). When it is not
    found, the study's own notebooks (or the bundled ones) stand in for it, as in ``csm run``.

    Raises
    ------
    ReportError
        The notebook was not executed by papermill (no ``metadata.papermill.input_path``).
    CsmError
        Its study or segment is not valid (the same errors as ``csm run``).
    """
    from csm_helpers.pipeline.plan import plan_run
    from csm_helpers.pipeline.run import segment_counts, segment_summary, stage_meta, waves_text
    from csm_helpers.workbook.segment import select_segment

    pm = nb.metadata.get("papermill") or {}
    source = pm.get("input_path")
    if not source:
        raise ReportError("this notebook was not executed by papermill (no metadata.papermill.input_path): run it "
                          "with 'papermill NN_stage.ipynb executed.ipynb -p study_path study.yaml' first, or use "
                          "'csm run', which executes and converts in one step")
    params = pm.get("parameters") or {}
    source = Path(source)
    stage = source.stem
    candidates = [source] if source.is_absolute() else [Path.cwd() / source] + (
        [Path(folder) / source] if folder else [])
    found = next((p for p in candidates if p.is_file()), None)
    segment = str(params.get("segment") or "all")
    plan, check = plan_run(params.get("study_path") or None, [stage],
                           notebooks=found.parent.resolve() if found else None)
    n, n_reported = segment_counts(check, segment)
    waves = waves_text(check.study, select_segment(check.data, check.study, segment))
    summary = segment_summary(check.study, segment, lambda _msg: None)
    return stage_meta(plan, stage, segment, n=n, n_reported=n_reported, waves=waves, summary=summary,
                      generated=generated or _dt.datetime.now(_dt.UTC))


class CsmReportPreprocessor(Preprocessor):
    """The ``csm_report`` template's preprocessor (registered in its ``conf.json``).

    Fills the title block when the notebook lacks it (:func:`papermill_report_meta`), runs
    :func:`~csm_helpers.pipeline.export.prepare_report` (tagged cells out, "not covered"
    sections listed at the end, markdown translated, contents list), sets the page language,
    and leaves code and prompts out of the page whatever the command line says.
    """

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        if not nb.metadata.get("csm"):
            nb.metadata["csm"] = papermill_report_meta(nb, folder=(resources.get("metadata") or {}).get("path"))
        prepare_report(nb)
        resources["language_code"] = nb.metadata["csm"].get("html_lang", "en")
        return nb, resources
