"""``csm run``: run the stage notebooks of one segment and turn them into static HTML reports.

:func:`run_study` for one segment

1. plans the run (:mod:`~csm_helpers.pipeline.plan`): loads and validates the study and all its
   data once (bad input stops here, before any notebook runs) and decides which stages run;
2. executes each stage notebook with papermill (:mod:`~csm_helpers.pipeline.execute`) into a
   private staging folder inside the output folder, passing ``study_path``, ``segment`` and
   ``output_dir``;
3. exports each executed notebook (:mod:`~csm_helpers.pipeline.export`): no code, images
   embedded, a table of contents, checked static;
4. merges the metrics each notebook recorded into ``metrics.json``;
5. only when every stage succeeded, commits the segment folder as one swap with a manifest
   (:mod:`~csm_helpers.pipeline.outputs`) and rewrites ``index.html``
   (:mod:`~csm_helpers.pipeline.index`). On any failure the staging folder is removed, so the
   output folder holds either the previous good reports or the new ones, never a half.

Steps 2-4 are :func:`build_segment`, which takes the stage executor as an argument: ``csm run``
passes a :class:`~csm_helpers.pipeline.pool.KernelPool` of warm kernels, started while the
study is validated, and runs its stages at the same time (one per core); ``csm batch`` one warm
kernel per worker (:mod:`csm_helpers.pipeline.kernels`). Either way each notebook runs through
papermill, with its parameters cell injected, as ``papermill`` on the command line would.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from csm_helpers import __version__
from csm_helpers.core.i18n import _, language, tr
from csm_helpers.core.jsonable import to_jsonable
from csm_helpers.core.safety import write_text_atomic
from csm_helpers.pipeline.execute import StageExecutor, silence_kernel_logs, warm_papermill
from csm_helpers.pipeline.export import export_html, warm_exporter
from csm_helpers.pipeline.index import note_done_in_batch_state, write_index
from csm_helpers.pipeline.outputs import (
    commit_segment,
    is_up_to_date,
    manifest_key,
    new_staging_folder,
    recover_interrupted,
    remove_staging_folder,
)
from csm_helpers.pipeline.plan import RunPlan, RunResult, plan_run, segment_dirname
from csm_helpers.pipeline.pool import KernelPool, start_run_kernels
from csm_helpers.pipeline.preflight import WILL_BE_SKIPPED
from csm_helpers.present.catalogue import segment_label
from csm_helpers.study.config import Study
from csm_helpers.study.stages import (
    STAGE_TITLES,
    notebooks_dir,
    skip_reason,
    stage_cost,
    stage_has_summary,
)
from csm_helpers.workbook.cache import save_snapshot
from csm_helpers.workbook.context import METRICS_FRAGMENT_DIR
from csm_helpers.workbook.segment import parse_segment
from csm_helpers.workbook.summary import report_summary_json

__all__ = ["waves_text", "segment_summary", "segment_counts", "stage_meta", "build_segment",
           "run_study"]


def waves_text(study: Study, data: Any) -> str:
    with language(study.language):
        return _waves_in_language(study, data)


def _waves_in_language(study: Study, data: Any) -> str:
    col = study.responses.wave
    if not col or col not in data:
        return _("single wave")
    waves = sorted(str(w) for w in data[col].dropna().unique())
    if not waves:
        return "n/a"
    return waves[0] if len(waves) == 1 else _("{waves} (latest {latest})", waves=", ".join(waves),
                                              latest=waves[-1])


def segment_summary(study: Study, segment: str, log: Callable[[str], None]) -> dict[str, Any] | None:
    """The one-screen summary of the segment (KPI tiles, priorities, caveats), or None when it
    cannot be computed — a report is still written, without the summary, and the log says why."""
    ts = time.perf_counter()
    result = json.loads(report_summary_json(str(study.path), segment))
    if "left_out" in result:
        log(f"summary: left out ({result['left_out']})")
        return None
    log(f"{'summary':<20} {time.perf_counter() - ts:5.1f} s")
    return result["summary"]


def stage_meta(plan: RunPlan, stage: str, segment: str, *, n: int, n_reported: int | None, waves: str,
               summary: dict[str, Any] | None, generated: _dt.datetime) -> dict[str, Any]:
    """The title block, summary and footer of one stage report (``nb.metadata.csm``).

    ``csm run`` and the nbconvert route (:mod:`csm_helpers.pipeline.nbconvert_route`) both
    build it here, so that the two give the same report.
    """
    study = plan.study
    stamp = generated.strftime("%Y-%m-%d %H:%M UTC")
    with language(study.language):
        # the header states the base every headline figure uses (the reported wave after the
        # data-quality checks), then the study's total: the tiles, index and e-mail use the same
        n_text = (_("{reported:,} in the reported wave after the data-quality checks ({n:,} in the study)",
                    n=n, reported=n_reported) if n_reported is not None and study.responses.wave else
                  _("{reported:,} after the data-quality checks ({n:,} in the study)", n=n, reported=n_reported)
                  if n_reported is not None else _("{n:,} respondents", n=n))
        facts = [("Segment", segment_label(segment)), ("Wave", waves), ("n", n_text), ("Generated", stamp)]
    return {
        "stage_title": f"{stage[:2]} · {tr(STAGE_TITLES.get(stage, stage), study.language)}",
        "language": study.language, "study": study.name, "organisation": study.report.organisation or "",
        "facts": facts, "version": __version__, "base_n": n_reported if n_reported is not None else n,
        # the KPI tiles sit on the survey's reports, not on goal-setting and discovery (no survey yet)
        "summary": summary if stage_has_summary(stage) else None,
        "footer": (f"csm-workbook {__version__} · notebook {stage}.ipynb "
                   f"(sha256 {plan.notebook_sha256.get(f'{stage}.ipynb', '')[:12]}) · study {study.path.name} "
                   f"(sha256 {plan.inputs[study.path.name][:12]}) · data {study.responses.file} "
                   f"(sha256 {plan.inputs.get(study.responses.file, '')[:12]}) · segment {segment} · "
                   f"seed {study.seed} · generated {stamp}"),
    }


def segment_counts(check: Any, segment: str) -> tuple[int, int]:
    """(n, n_reported) of a segment: its respondents in the study, and in the reported wave after
    the data-quality exclusions (the base of every headline figure, SPEC §4).

    Raises
    ------
    CsmError
        The segment is not understood, or below the minimum cell size.
    """
    from csm_helpers.analysis.disclosure import reporting_base
    from csm_helpers.workbook.segment import check_segment_publishable, select_segment

    study = check.study
    parse_segment(segment, study)
    data = select_segment(check.data, study, segment)
    base = reporting_base(check.data, study)  # the reported wave, after the exclusions (SPEC §4)
    check_segment_publishable(check.data, study, segment, base=base)
    return len(data), len(select_segment(base, study, segment)) if len(base) else 0


def build_segment(plan: RunPlan, segment: str, staging: Path, *, n: int, waves: str, n_reported: int | None = None,
                  execute: StageExecutor, summary: dict[str, Any] | Future[dict[str, Any] | None] | None,
                  log: Callable[[str], None] | None = None,
                  generated: _dt.datetime | None = None, parallel: int = 1,
                  abort: Callable[[], None] | None = None) -> tuple[Path, dict[str, float]]:
    """Run every stage of ``plan`` for one segment into ``staging/<segment folder>``.

    Each notebook is executed with ``execute``, exported to HTML and checked; the metrics the
    notebooks recorded are merged into ``metrics.json``. ``summary`` may be a ``Future``
    (worked out while the notebooks run). Nothing outside ``staging`` is
    touched: :func:`commit_segment` moves the result into place. With ``parallel`` > 1, up to
    that many stages run at the same time (``execute`` must then be thread-safe, as
    :meth:`csm_helpers.pipeline.pool.KernelPool.execute` is); the dearest stages
    (:func:`~csm_helpers.study.stages.stage_cost`) start first. The reports and
    ``metrics.json`` are the same either way. On Ctrl-C, ``abort`` is called (it stops the
    kernels) and the stages still running are waited for, so that nothing writes into
    ``staging`` once this returns.

    Returns
    -------
    (Path, dict)
        The staged segment folder and the seconds each stage took.
    """
    log = log or (lambda _msg: None)
    study = plan.study
    seg_stage = staging / segment_dirname(segment)
    work = staging / "_executed"
    seg_stage.mkdir(parents=True)
    work.mkdir(exist_ok=True)
    generated = generated or _dt.datetime.now(_dt.UTC)

    def summary_now() -> dict[str, Any] | None:
        return summary.result() if isinstance(summary, Future) else summary

    # papermill is imported and the report template compiled while the kernel starts or runs
    # the first notebook, not after
    first = plan.notebooks / f"{plan.stages[0]}.ipynb" if plan.stages else None
    threading.Thread(target=_warm_up, args=(first,), name="csm-warm-export", daemon=True).start()

    def one(stage: str) -> float:
        ts = time.perf_counter()
        nb_path = plan.notebooks / f"{stage}.ipynb"
        params = {"study_path": str(study.path), "segment": segment, "output_dir": str(seg_stage)}
        nb = execute(nb_path, work / f"{stage}.ipynb", params)
        meta = stage_meta(plan, stage, segment, n=n, n_reported=n_reported, waves=waves,
                          summary=summary_now(), generated=generated)
        write_text_atomic(seg_stage / f"{stage}.html", export_html(nb, meta))
        seconds = time.perf_counter() - ts
        log(f"{stage:<20} {seconds:5.1f} s")
        return seconds

    timings: dict[str, float] = {}
    if parallel <= 1 or len(plan.stages) <= 1:
        for stage in plan.stages:
            timings[stage] = one(stage)
    else:
        timings = _run_parallel(one, list(plan.stages), parallel, abort)

    metrics: dict[str, Any] = {
        "study": study.name, "segment": segment, "n": n, "n_reported": n_reported,
        "generated_with": {"version": __version__,
                           "data_sha256": plan.inputs.get(study.responses.file, ""),
                           "inputs": plan.inputs, "parameters": plan.parameters(segment)},
        "suppressed": [],
        "stages_skipped": dict(plan.skipped),
        "summary": summary_now(),
    }
    frag_dir = seg_stage / METRICS_FRAGMENT_DIR
    for frag in sorted(frag_dir.glob("*.json")) if frag_dir.is_dir() else []:
        part = json.loads(frag.read_text(encoding="utf-8"))
        metrics["suppressed"].extend(part.pop("suppressed", []) or [])
        metrics.update(part)
    shutil.rmtree(frag_dir, ignore_errors=True)
    write_text_atomic(seg_stage / "metrics.json",
                      json.dumps(to_jsonable(metrics), ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return seg_stage, timings


def _warm_up(first_notebook: Path | None) -> None:
    if first_notebook is not None:
        with contextlib.suppress(Exception):  # a notebook that cannot be read fails its own run, with its message
            warm_papermill(first_notebook)
    with contextlib.suppress(Exception):  # a template that cannot load fails the export itself, with its message
        warm_exporter()


def _run_parallel(one: Callable[[str], float], stages: list[str], workers: int,
                  abort: Callable[[], None] | None) -> dict[str, float]:
    """``one(stage)`` for every stage, ``workers`` at a time, dearest first; the seconds of each,
    in ``stages`` order. The first failure (in ``stages`` order) is raised once every started
    stage has ended; stages not yet started then do not start."""
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(min(workers, len(stages)), thread_name_prefix="csm-stage")
    try:
        futures = {stage: pool.submit(one, stage) for stage in sorted(stages, key=stage_cost, reverse=True)}
        done, _pending = wait(futures.values(), return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            for future in futures.values():
                future.cancel()
            wait(futures.values())  # the stages already running end (or fail) first
    except BaseException:  # Ctrl-C: stop the notebooks, then wait for the stages to give up
        silence_kernel_logs()
        if abort is not None:
            abort()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    for stage in stages:  # the first failure in stage order, whatever finished first
        future = futures[stage]
        if not future.cancelled() and future.exception() is not None:
            raise future.exception()  # type: ignore[misc]
    return {stage: futures[stage].result() for stage in stages}


def run_study(study_path: str | Path | None = None, out_dir: str | Path = "reports", *,
              segment: str = "all", stages: Sequence[str] | None = None,
              log: Callable[[str], None] | None = None, resume: bool = False,
              notebooks: str | Path | None = None, jobs: int | None = None,
              kernels: KernelPool | None = None) -> RunResult:
    """Produce every stage report, ``metrics.json`` and ``index.html`` for one segment.

    Parameters
    ----------
    study_path : str or Path, optional
        ``study.yaml``; None for the bundled sample study.
    out_dir : str or Path
        Output folder; reports go to ``out_dir/<segment>/``.
    segment : str
        ``"all"`` or ``"COLUMN=VALUE"``.
    stages : sequence of str, optional
        Stage names or number prefixes (``"01"``); default all available stages.
    log : callable, optional
        Receives one progress line per step.
    resume : bool
        Skip the run when ``out_dir/<segment>/`` already holds the complete, untouched
        outputs of a run with the same inputs (SHA-256 of study.yaml and every file it names),
        parameters (segment, stages, seed, minimum cell size) and csm-workbook version, as
        recorded in its ``.csm-manifest.json``; otherwise run as usual.
    notebooks : str or Path, optional
        Folder of the stage notebooks to run (``--notebooks``). Default: the study's own
        (a ``notebooks:`` key, or a ``notebooks/`` folder beside study.yaml), else the bundled
        ones.
    jobs : int, optional
        Stage notebooks run at the same time, each in a warm kernel of its own
        (:class:`~csm_helpers.pipeline.pool.KernelPool`); default: the number of cores, at
        most the number of stages. The kernels start at once, while the study is validated.
    kernels : KernelPool, optional
        The run's kernels, already started by
        :func:`~csm_helpers.pipeline.pool.start_run_kernels` with the same study, output folder,
        stages and jobs (the ``csm`` command starts them before it imports this module); the
        run closes them. Default: started here.

    Raises
    ------
    CsmError
        Bad config or data (nothing is written), a segment below the minimum cell size, or a
        stage that failed (nothing from this run is left in ``out_dir``).

    Notes
    -----
    Interrupted runs leave nothing half-written: every file is staged in a private folder
    and the segment folder is swapped in whole at the end. Ctrl-C and SIGTERM clean the
    staging folder up; after ``kill -9`` the next run removes it (and puts back an earlier
    segment folder caught in the middle of the swap).
    """
    log = log or (lambda _msg: None)
    t0 = time.perf_counter()
    from csm_helpers.workbook.cache import data_cache_on

    if kernels is None:  # starting while the study is validated
        kernels = start_run_kernels(study_path, out_dir, stages=stages, jobs=jobs, notebooks=notebooks)
    # the responses are read and checked once, here, and handed to the kernels
    with data_cache_on():
        try:
            result = _run_with(kernels, study_path, out_dir, segment=segment, stages=stages, log=log,
                               resume=resume, notebooks=notebooks, t0=t0)
        except BaseException:
            kernels.close(kill=True)
            raise
    kernels.close()
    return result


def _run_with(kernels: Any, study_path: str | Path | None, out_dir: str | Path, *, segment: str,
              stages: Sequence[str] | None, log: Callable[[str], None], resume: bool,
              notebooks: str | Path | None, t0: float) -> RunResult:
    plan, check = plan_run(study_path, stages, notebooks=Path(notebooks) if notebooks is not None else None)
    study = check.study
    for w in check.warnings:
        if not w.endswith(WILL_BE_SKIPPED):  # said below, as the run skips it
            log(f"warning: {w}")
    for stage, keys in plan.skipped.items():
        log(f"skipped {skip_reason(stage, keys)}")
    if plan.notebooks != notebooks_dir().resolve():
        log(f"notebooks: {plan.notebooks}")
    from csm_helpers.workbook.segment import select_segment

    n, n_reported = segment_counts(check, segment)
    data = select_segment(check.data, study, segment)
    timings = {"load_and_validate": time.perf_counter() - t0}
    log(f"validated {study.path.name}: {check.n_responses:,} responses, segment {segment} n={n:,} "
        f"({timings['load_and_validate']:.1f} s)")

    out_dir = Path(out_dir).resolve()
    seg_name = segment_dirname(segment)
    key = manifest_key(plan.inputs, plan.parameters(segment))
    if out_dir.is_dir():
        recover_interrupted(out_dir)
    if resume and is_up_to_date(out_dir / seg_name, key):
        log(f"{out_dir / seg_name}: complete for the same inputs, stages and version — skipped (--resume)")
        write_index(out_dir, title=study.title, lang=study.language)  # a run killed before its last step left it behind
        timings["total"] = time.perf_counter() - t0
        return RunResult(out_dir=out_dir, segment=segment, files=[], timings=timings, n=n, skipped=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    # the summary is worked out here while the kernels run the notebooks; a report waits for it
    # only when it is exported
    # (a daemon thread that computes in memory only: after Ctrl-C the process neither waits for
    # it nor prints its timing under the "interrupted" message)
    stopped = threading.Event()
    summary: Future[Any] = Future()

    def work_out_summary() -> None:
        if summary.set_running_or_notify_cancel():
            try:
                summary.set_result(segment_summary(study, segment, lambda m: None if stopped.is_set() else log(m)))
            except BaseException as exc:  # noqa: BLE001 - re-raised by whoever reads the summary
                summary.set_exception(exc)

    staging = new_staging_folder(out_dir)
    try:
        if save_snapshot(staging / "tables.pickle", names=("responses",)):  # the validated survey data, for the kernels
            kernels.prime(staging / "tables.pickle")
        threading.Thread(target=work_out_summary, name="csm-summary", daemon=True).start()
        staged, stage_times = build_segment(
            plan, segment, staging, n=n, n_reported=n_reported, waves=waves_text(study, data), summary=summary,
            log=log, execute=kernels.execute, parallel=kernels.size, abort=lambda: kernels.close(kill=True))
        timings.update(stage_times)
        # Commit: the whole segment folder swapped in at once, with a manifest for --resume
        written = commit_segment(staged, out_dir / seg_name, key)
        note_done_in_batch_state(out_dir, segment)
        written.append(write_index(out_dir, title=study.title, lang=study.language))
    except BaseException:
        stopped.set()
        silence_kernel_logs()  # the kernels killed now are expected to die: no "Kernel died" lines
        kernels.close(kill=True)  # first: a notebook still running could write into the staging folder
        remove_staging_folder(staging)
        raise
    remove_staging_folder(staging)
    timings["total"] = time.perf_counter() - t0
    log(f"{'total':<20} {timings['total']:5.1f} s → {out_dir / segment_dirname(segment)}")
    return RunResult(out_dir=out_dir, segment=segment, files=written, timings=timings, n=n)
