"""One segment of a batch: what it is (:class:`BatchSegment`), how it went
(:class:`SegmentOutcome`), and building it with a warm kernel (:func:`build_with_kernel`).

Shared by the thread runner of :mod:`csm_helpers.pipeline.batch` and the dask runner of
:mod:`csm_helpers.pipeline.daskexec`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm_helpers.core.errors import CsmError
from csm_helpers.pipeline.outputs import commit_segment, manifest_key
from csm_helpers.pipeline.plan import RunPlan
from csm_helpers.pipeline.run import build_segment

__all__ = ["BatchSegment", "SegmentOutcome", "describe_failure", "build_with_kernel", "run_local"]


@dataclass
class BatchSegment:
    """One segment to report on: ``all`` or ``COLUMN=VALUE``, its folder, n and waves."""

    segment: str
    dirname: str
    n: int
    waves: str
    n_reported: int | None = None  # the reported wave, after the data-quality exclusions


@dataclass
class SegmentOutcome:
    """How one segment went: ``done``, ``skipped`` (already done, --resume), ``failed`` or
    ``pending`` (not run: the batch was interrupted)."""

    segment: str
    dirname: str
    n: int
    status: str
    seconds: float = 0.0
    error: str = ""
    detail: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def describe_failure(exc: BaseException, timed_out: bool, timeout: float | None) -> tuple[str, str]:
    """(one-paragraph error for the index and log, traceback for the log)."""
    if timed_out:
        return f"timed out after {timeout:g} s (--timeout); the kernel was interrupted", ""
    if isinstance(exc, CsmError):
        return str(exc), ""
    return f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc))


def build_with_kernel(plan: RunPlan, seg: BatchSegment, kernel: Any, staging: Path, *,
                      timeout: float | None) -> tuple[Path, dict[str, float]]:
    """Build one segment's reports into ``staging`` with a warm kernel, within ``timeout``
    seconds (the kernel is interrupted when it runs out)."""
    deadline = time.monotonic() + timeout if timeout else None

    def remaining() -> int | None:  # nbclient's per-cell timeout is a whole number of seconds
        return max(1, math.ceil(deadline - time.monotonic())) if deadline else None

    def execute(nb_path: Path, out_path: Path, params: dict[str, Any]) -> Any:
        return kernel.execute_notebook(nb_path, out_path, params, timeout=remaining())

    with kernel.time_limit(timeout):
        kernel.ensure_ready()
        result = json.loads(kernel.summary_json(str(plan.study.path), seg.segment))
        summary = result.get("summary")  # None when left out (the report says nothing of it)
        return build_segment(plan, seg.segment, staging, n=seg.n, n_reported=seg.n_reported, waves=seg.waves,
                             execute=execute,
                             summary=summary, generated=_dt.datetime.now(_dt.UTC))


def run_local(plan: RunPlan, seg: BatchSegment, kernel: Any, out_dir: Path,
              timeout: float | None) -> SegmentOutcome:
    """Build one segment with ``kernel`` in a staging folder inside ``out_dir`` and commit it
    (:func:`csm_helpers.pipeline.outputs.commit_segment`); a failure is an outcome, not raised."""
    t0 = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".csm-staging-{os.getpid()}-", dir=out_dir))
    try:
        staged, timings = build_with_kernel(plan, seg, kernel, staging, timeout=timeout)
        commit_segment(staged, out_dir / seg.dirname, manifest_key(plan.inputs, plan.parameters(seg.segment)))
        return SegmentOutcome(seg.segment, seg.dirname, seg.n, "done", time.perf_counter() - t0,
                              timings=timings)
    except Exception as exc:  # one segment's failure must not stop the others
        error, detail = describe_failure(exc, kernel.timed_out, timeout)
        return SegmentOutcome(seg.segment, seg.dirname, seg.n, "failed", time.perf_counter() - t0,
                              error=error, detail=detail)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
