"""The notebook's entry point: :func:`open_stage` gives a stage notebook its
:class:`StageContext` (the study, the segment's data gated and cached, the analysis tables).
:mod:`~csm_helpers.workbook.segment` parses and gates a segment, :mod:`~csm_helpers.workbook.cache`
keeps the study's data in a warm kernel, :mod:`~csm_helpers.workbook.metrics` shapes the
``metrics.json`` entries and :mod:`~csm_helpers.workbook.summary` the one-screen summary."""

from csm_helpers.workbook.context import StageContext, open_stage

__all__ = ["StageContext", "open_stage"]
