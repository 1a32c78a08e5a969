"""``csm batch``: one set of stage reports per value of a segment column, plus ``all``.

How a batch runs
----------------
1. The study is loaded and validated once, in this process (:func:`plan_batch`); the
   respondents of every value of the column are counted. Values below the minimum cell
   size, and the values :func:`csm_helpers.analysis.stats.suppressed_groups` hides with them so that
   ``all`` minus the published segments cannot reveal a small one, get no report: the
   index lists them as suppressed (SPEC §4).
2. ``jobs`` worker threads each own one warm kernel (:class:`csm_helpers.pipeline.kernels.WarmKernel`):
   libraries are imported once per kernel and the study's tables are read once per kernel
   (:func:`csm_helpers.workbook.cache.enable_data_cache`). The kernels do the analysis in their
   own processes, so the threads run in parallel on as many cores.
3. For each segment its worker computes the one-screen summary and runs every stage
   notebook in its kernel through papermill (reset in between), exports HTML in-process
   (one nbconvert exporter per thread), merges ``metrics.json`` in a staging folder and
   moves the files into place (:func:`csm_helpers.pipeline.outputs.commit_segment`). A segment that
   fails — an exception, bad data, a timeout — is recorded with its error in
   ``OUT/batch.log`` and ``OUT/index.html``; the others go on; the exit code is 1.
4. ``--resume`` skips every segment whose folder already holds each requested report and a
   ``metrics.json`` recorded for the same parameters and input files
   (:func:`csm_helpers.pipeline.outputs.segment_is_done`): only failed or missing segments run again.

Every file is written to a temporary name and renamed, and a segment's files are moved into
place only when all its stages succeeded, so killing ``csm batch`` never leaves a partial
HTML file; the staging folders of a killed run are removed by the next one.

With ``executor="dask"`` the same per-segment work runs on a dask.distributed cluster
(:mod:`csm_helpers.pipeline.daskexec`); each dask worker thread keeps its own warm kernel.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from csm_helpers import __version__
from csm_helpers.core.errors import CsmError, headline
from csm_helpers.core.interrupts import interrupt_noted, interrupts_noted
from csm_helpers.core.paths import check_output_folder
from csm_helpers.core.safety import write_text_atomic
from csm_helpers.pipeline.build import BatchSegment, SegmentOutcome, run_local
from csm_helpers.pipeline.index import BATCH_STATE, write_index
from csm_helpers.pipeline.outputs import (
    new_staging_folder,
    recover_interrupted,
    remove_staging_folder,
    segment_is_done,
)
from csm_helpers.pipeline.plan import RunPlan, plan_run, segment_dirname
from csm_helpers.pipeline.pool import check_before_kernels, default_jobs, wait_all
from csm_helpers.pipeline.run import waves_text
from csm_helpers.study.stages import notebooks_dir

__all__ = ["DEFAULT_STAGES", "BatchSegment", "BatchPlan", "SegmentOutcome", "BatchResult",
           "plan_batch", "run_batch", "default_jobs"]

#: Stages ``csm batch`` runs unless told otherwise: the analysis and the action reports
#: (goal-setting and discovery are the same for every segment).
DEFAULT_STAGES = ("04", "05")

#: Name of the log file in the output folder.
BATCH_LOG = "batch.log"


# --------------------------------------------------------------------------- plan
@dataclass
class BatchPlan:
    """What :func:`plan_batch` decided: the shared run plan, the segments to report on, the
    suppressed ones (``segment``, ``dir``, ``reason``: primary or complementary) and the
    number of responses without a value in the column."""

    run: RunPlan
    by: str
    segments: list[BatchSegment]
    suppressed: list[dict[str, str]]
    missing: int = 0


def plan_batch(study_path: str | Path | None, by: str, stages: Sequence[str] | None = DEFAULT_STAGES, *,
               notebooks: Path | None = None) -> BatchPlan:
    """Validate the study once and list the segments of column ``by`` to report on.

    Parameters
    ----------
    study_path : str or Path, optional
        ``study.yaml``; None for the bundled sample study.
    by : str
        One of the study's segment columns (``responses.segments``).
    stages : sequence of str, optional
        Stages to run (names or number prefixes); None for every stage.
    notebooks : Path, optional
        Folder of the stage notebooks (default: the study's own ``notebooks/`` folder or
        ``notebooks:`` key when it has one, else the installed ones).

    Raises
    ------
    CsmError
        Bad config or data, an unknown column or stage, or two values that would share a
        folder name.

    Examples
    --------
    >>> plan = plan_batch(None, "region")
    >>> [s.segment for s in plan.segments][:2], plan.suppressed
    (['all', 'region=Can Tho'], [])
    """
    from csm_helpers.analysis.disclosure import hidden_values, partition_counts, reporting_base
    from csm_helpers.workbook.segment import select_segment

    run, check = plan_run(study_path, stages, notebooks=notebooks)
    study = run.study
    allowed = study.responses.segments
    if by not in allowed:
        raise CsmError(f"--by {by!r} is not one of the study's segment columns ({', '.join(allowed) or 'none'})"
                       f" — add it to responses.segments in {study.path.name}")
    data = check.data  # read and validated once, by plan_run
    values = data[by].astype("string").str.strip()
    missing = int((values.isna() | (values == "")).sum())
    # SPEC §4: segments are gated on the base the reports are computed from (the reported
    # wave, after the data-quality exclusions), and so is complementary suppression
    base = reporting_base(data, study)
    counts = partition_counts(base[by])
    min_n = study.min_cell_size
    hidden = hidden_values(base[by], min_n=min_n)
    segments = []
    if len(base) >= min_n:
        segments.append(BatchSegment("all", "all", len(data), waves_text(study, data), len(base)))
    suppressed = [] if len(base) >= min_n else [{"segment": "all", "dir": "all", "reason": "primary"}]
    folders: dict[str, str] = {"all": "all"}
    for value in sorted({str(v) for v in values.dropna() if str(v) != ""}):
        segment = f"{by}={value}"
        dirname = segment_dirname(segment)
        other = folders.get(dirname.casefold())
        if other is not None:
            raise CsmError(f"{by} values {other!r} and {segment!r} would share the report folder "
                           f"{dirname!r} — recode one of them in {study.responses.file}")
        folders[dirname.casefold()] = segment
        if value in hidden or value not in counts:
            suppressed.append({"segment": segment, "dir": dirname,
                               "reason": "primary" if counts.get(value, 0) < min_n else "complementary"})
            continue
        rows = select_segment(data, study, segment)
        segments.append(BatchSegment(segment, dirname, len(rows), waves_text(study, rows), counts.get(value, 0)))
    return BatchPlan(run=run, by=by, segments=segments, suppressed=suppressed, missing=missing)


# --------------------------------------------------------------------------- executors
class _ThreadRunner:
    """``jobs`` threads, each with its own warm kernel, over a queue of segments.

    The threads and their kernels start at once (:meth:`warm_up`), while the batch is still
    planned (the study loaded and validated): 2 s of a 50-branch batch. A kernel belongs to
    the thread that started it (its clients poll on that thread's event loop). It starts
    without a working folder, so each notebook runs in its own folder, as papermill runs it.
    """

    def __init__(self, *, jobs: int, timeout: float | None) -> None:
        self.jobs, self.timeout = jobs, timeout
        self.plan: RunPlan | None = None
        self.out_dir: Path | None = None
        self.kernels: list[Any] = []
        self.snapshot: Path | None = None  # the validated survey data, read by each kernel once
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="csm-batch")

    def warm_up(self, wait: float = 10.0) -> None:
        """Start every thread's kernel now, in the background; return once their processes
        exist (what the caller does meanwhile would hold the interpreter lock and delay them)."""
        launched = [threading.Event() for _ in range(self.jobs)]
        for event in launched:
            self._pool.submit(self._warm, event)
        wait_all(launched, wait)

    def _warm(self, launched: threading.Event) -> None:
        try:
            kernel = self._kernel()
            if not self._stop.is_set() and kernel.km is None:
                with contextlib.suppress(Exception):  # a kernel that fails to start is started again on first use
                    kernel.start(launched)
        finally:
            launched.set()

    def _kernel(self) -> Any:
        from csm_helpers.pipeline.kernels import WarmKernel

        kernel = getattr(self._local, "kernel", None)
        if kernel is None:
            kernel = WarmKernel()
            self._local.kernel = kernel
            with self._lock:
                self.kernels.append(kernel)
        return kernel

    def _work(self, seg: BatchSegment) -> SegmentOutcome:
        # stopping, or a Ctrl-C came that Python could not raise in the main thread: start nothing new
        if self._stop.is_set() or interrupt_noted() or self.plan is None or self.out_dir is None:
            return SegmentOutcome(seg.segment, seg.dirname, seg.n, "pending")
        kernel = self._kernel()
        if self.snapshot is not None:
            kernel.load_snapshot(self.snapshot)
        return run_local(self.plan, seg, kernel, self.out_dir, self.timeout)

    def _each_kernel(self, action: str) -> None:
        with self._lock:
            kernels = list(self.kernels)
        for kernel in kernels:
            getattr(kernel, action)()

    def run(self, plan: RunPlan, out_dir: Path, todo: Sequence[BatchSegment]) -> Iterator[SegmentOutcome]:
        self.plan, self.out_dir = plan, out_dir
        futures = [self._pool.submit(self._work, seg) for seg in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            self.close(futures)

    def close(self, futures: Sequence[Any] = ()) -> None:
        """Stop: kill the kernels (a signal only, so that no other thread's sockets are touched
        here); whatever a worker thread was running in one fails at once; then clean up."""
        self._stop.set()
        for future in futures:
            future.cancel()
        self._each_kernel("kill")
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._each_kernel("shutdown")


# --------------------------------------------------------------------------- progress
def _fmt_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class _Progress:
    """A tqdm bar on a terminal (done / failed / ETA), plain lines otherwise."""

    def __init__(self, total: int, *, mode: str, stream: TextIO) -> None:
        self.total, self.mode, self.stream = total, mode, stream
        self.done = self.failed = 0
        self.t0 = time.monotonic()
        self.bar = None
        if mode == "auto":
            mode = "bar" if getattr(stream, "isatty", lambda: False)() else "lines"
            self.mode = mode
        if mode == "bar" and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="segment", file=stream, desc="csm batch", dynamic_ncols=True,
                            postfix={"failed": 0})

    def update(self, outcome: SegmentOutcome) -> None:
        self.done += 1
        self.failed += outcome.status == "failed"
        if self.bar is not None:
            if outcome.status == "failed":
                self.bar.write(f"failed: {outcome.segment}: {headline(outcome.error)}", file=self.stream)
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
            return
        if self.mode == "lines":
            elapsed = time.monotonic() - self.t0
            eta = elapsed / self.done * (self.total - self.done)
            what = "done" if outcome.status == "done" else outcome.status
            extra = f": {headline(outcome.error)}" if outcome.status == "failed" else ""
            print(f"[{self.done}/{self.total}] {outcome.segment} {what} in {outcome.seconds:.1f} s{extra} "
                  f"· failed {self.failed} · ETA {_fmt_seconds(eta)}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- batch
@dataclass
class BatchResult:
    """What :func:`run_batch` did; ``failed`` lists the segments that failed."""

    out_dir: Path
    by: str
    outcomes: list[SegmentOutcome]
    suppressed: list[dict[str, str]]
    seconds: float
    log_path: Path
    index_path: Path | None = None
    interrupted: bool = False

    @property
    def failed(self) -> list[SegmentOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def _remove_suppressed_reports(out_dir: Path, suppressed: list[dict[str, str]],
                               note: Callable[[str], None]) -> None:
    """Delete reports an earlier run wrote for a segment that is now suppressed (ours only:
    the folder's metrics.json names that segment)."""
    for s in suppressed:
        folder = out_dir / s["dir"]
        try:
            m = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(m, dict) and m.get("segment") == s["segment"]:
            shutil.rmtree(folder, ignore_errors=True)
            note(f"removed the earlier reports of {s['segment']}: the segment is now suppressed")


def run_batch(study_path: str | Path | None, by: str, *, out_dir: str | Path = "reports",
              stages: Sequence[str] | None = DEFAULT_STAGES, jobs: int | None = None, resume: bool = False,
              timeout: float | None = 1800, executor: str = "threads", scheduler: str | None = None,
              progress: str = "auto", log: Callable[[str], None] | None = None,
              notebooks: Path | None = None, stream: TextIO | None = None) -> BatchResult:
    """Write every segment's reports, ``index.html``, ``batch.json`` and ``batch.log``.

    Parameters
    ----------
    study_path : str or Path, optional
        ``study.yaml``; None for the bundled sample study.
    by : str
        The segment column: one set of reports per value, plus ``all``.
    out_dir : str or Path
        Output folder (``OUT/<segment>/``, ``OUT/index.html``, ``OUT/batch.log``).
    stages : sequence of str, optional
        Stages to run (default 04 and 05); None for all.
    jobs : int, optional
        Worker threads, each with its own kernel (default: the number of cores).
        Ignored with ``executor="dask"``: the cluster's threads set the parallelism.
    resume : bool
        Skip segments whose reports are complete and current.
    timeout : float, optional
        Seconds one segment may take (all its stages); None for no limit.
    executor : {"threads", "dask"}
        Where the kernels run: threads of this process, or a dask.distributed cluster.
    scheduler : str, optional
        Address of the dask scheduler (``tcp://host:8786``); required with ``"dask"``.
    progress : {"auto", "bar", "lines", "off"}
        A tqdm bar on a terminal, one line per segment otherwise (``auto``).
    log : callable, optional
        Receives messages for the user (warnings, removed folders).
    notebooks : Path, optional
        Folder of the stage notebooks (default: the study's own ``notebooks/`` folder or
        ``notebooks:`` key when it has one, else the installed ones).
    stream : file, optional
        Where progress goes (default ``sys.stderr``).

    Returns
    -------
    BatchResult

    Raises
    ------
    CsmError
        When the study, the column or the stages are wrong: nothing is run then.

    Examples
    --------
    >>> import tempfile
    >>> result = run_batch(None, "channel", out_dir=tempfile.mkdtemp(), stages=["05"], jobs=2, progress="off")
    >>> sorted(o.segment for o in result.outcomes), result.failed
    (['all', 'channel=branch', 'channel=digital'], [])
    """
    t0 = time.perf_counter()
    if executor not in {"threads", "dask"}:
        raise CsmError(f"unknown executor {executor!r}: use 'threads' or 'dask'")
    if executor == "dask" and not scheduler:
        raise CsmError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    if jobs is not None and jobs < 1:
        raise CsmError(f"--jobs must be at least 1, not {jobs}")
    if timeout is not None and timeout <= 0:
        raise CsmError(f"--timeout must be a positive number of seconds, not {timeout:g}")
    runner: Any = None
    if executor == "threads":
        check_before_kernels(study_path, out_dir, stages=stages, notebooks=notebooks)
        runner = _ThreadRunner(jobs=jobs or default_jobs(), timeout=timeout)
        if not resume:  # the kernels start while the study is validated (with --resume there may be
            runner.warm_up()  # nothing to do: kernels started for nothing cost 1.3 s of a 2.2 s run)
    from csm_helpers.workbook.cache import data_cache_on

    # with threads, the survey data read and checked here goes to the kernels (_share_validated_data)
    with data_cache_on() if runner is not None else contextlib.nullcontext():
        try:
            return _run_planned(study_path, by, stages, out_dir, runner, jobs=jobs, resume=resume, timeout=timeout,
                                executor=executor, scheduler=scheduler, progress=progress,
                                note=log or (lambda _m: None), notebooks=notebooks, stream=stream or sys.stderr,
                                t0=t0)
        finally:
            if runner is not None:
                runner.close()


def _run_planned(study_path: str | Path | None, by: str, stages: Sequence[str] | None, out_dir: str | Path,
                 runner: Any, *, jobs: int | None, resume: bool, timeout: float | None, executor: str,
                 scheduler: str | None, progress: str, note: Callable[[str], None], notebooks: Path | None,
                 stream: TextIO, t0: float) -> BatchResult:
    """:func:`run_batch` once its arguments are checked (and, with threads, its kernels started)."""
    plan = plan_batch(study_path, by, stages, notebooks=notebooks)
    if runner is None:  # (with threads, checked before the kernels started)
        check_output_folder(out_dir, option="--out")
    for w in plan.run.warnings:
        note(f"warning: {w}")
    if plan.missing:
        note(f"note: {plan.missing:,} response(s) have no {by}; they count in 'all' only")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    recover_interrupted(out)
    _remove_suppressed_reports(out, plan.suppressed, note)
    return _run_segments(plan, out, runner, by=by, jobs=jobs, resume=resume, timeout=timeout,
                         executor=executor, scheduler=scheduler, progress=progress, note=note,
                         stream=stream, t0=t0)


def _share_validated_data(out: Path, runner: Any) -> Path | None:
    """Hand the survey data :func:`plan_batch` read and checked to the thread runner's kernels
    (:func:`csm_helpers.workbook.cache.save_snapshot`), so that no kernel reads and checks the
    export again: 1.2 s of each kernel's time on a 2,400-row study. The file goes to a private
    ``.csm-staging-<pid>-`` folder in ``out`` (removed at the end, or by the next run after a
    kill); the returned folder, or None when there is nothing to share."""
    from csm_helpers.workbook.cache import save_snapshot

    private = new_staging_folder(out)
    try:
        saved = save_snapshot(private / "tables.pickle", names=("responses",))
    except BaseException:  # Ctrl-C while it is written: the folder goes
        remove_staging_folder(private)
        raise
    if not saved:
        remove_staging_folder(private)
        return None
    runner.snapshot = private / "tables.pickle"
    return private


def _run_segments(plan: BatchPlan, out: Path, runner: Any, *, by: str, jobs: int | None, resume: bool,
                  timeout: float | None, executor: str, scheduler: str | None, progress: str,
                  note: Callable[[str], None], stream: TextIO, t0: float) -> BatchResult:
    """Run the planned segments (or skip those done, with ``resume``) and write the batch's
    state, log and index."""
    study = plan.run.study

    outcomes: dict[str, SegmentOutcome] = {}
    todo = []
    for seg in plan.segments:
        if resume and segment_is_done(plan.run, seg.segment, out / seg.dirname):
            outcomes[seg.segment] = SegmentOutcome(seg.segment, seg.dirname, seg.n, "skipped")
        else:
            outcomes[seg.segment] = SegmentOutcome(seg.segment, seg.dirname, seg.n, "pending")
            todo.append(seg)

    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    state_path, log_path = out / BATCH_STATE, out / BATCH_LOG

    def save_state(finished: bool = False) -> None:
        state = {
            "csm_version": __version__, "study": study.name, "study_path": str(study.path), "by": by,
            "stages": plan.run.stages, "min_cell_size": study.min_cell_size, "started": started,
            "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds") if finished else None,
            "segments": [{"segment": o.segment, "dir": o.dirname, "n": o.n, "status": o.status,
                          "error": o.error, "seconds": round(o.seconds, 2)} for o in outcomes.values()],
            "suppressed": plan.suppressed,
        }
        write_text_atomic(state_path, json.dumps(state, ensure_ascii=False, indent=1) + "\n")

    save_state()
    n_jobs = jobs or default_jobs()
    with open(log_path, "a", encoding="utf-8") as logf:
        def log_line(text: str) -> None:
            logf.write(f"{_dt.datetime.now().isoformat(timespec='seconds')} {text}\n")
            logf.flush()

        log_line(f"start: study {study.path} by {by}, stages {', '.join(plan.run.stages)}, "
                 f"{len(plan.segments)} segment(s), {len(todo)} to run"
                 + (f" ({len(plan.segments) - len(todo)} already done)" if resume else "")
                 + f", {len(plan.suppressed)} suppressed; executor {executor}"
                 + (f" with {n_jobs} job(s)" if executor == "threads" else f" at {scheduler}"))
        for s in plan.suppressed:
            log_line(f"suppressed: {s['segment']} ({s['reason']})")
        bar = _Progress(len(todo), mode=progress, stream=stream)
        interrupted = False
        shared: Path | None = None  # the private folder of the kernels' copy of the survey data
        last_save = time.monotonic()

        def record(outcome: SegmentOutcome) -> None:
            nonlocal last_save
            outcomes[outcome.segment] = outcome
            if outcome.status == "failed":
                log_line(f"failed: {outcome.segment} after {outcome.seconds:.1f} s: {outcome.error}"
                         + (f"\n{outcome.detail}" if outcome.detail else ""))
            elif outcome.status == "done":
                log_line(f"done: {outcome.segment} (n={outcome.n:,}) in {outcome.seconds:.1f} s")
            bar.update(outcome)
            if time.monotonic() - last_save > 5:
                save_state()
                last_save = time.monotonic()

        try:
            with interrupts_noted():  # SIGTERM as Ctrl-C: a terminated batch cleans up
                if executor == "dask":
                    from csm_helpers.pipeline.daskexec import DaskRunner

                    runner = DaskRunner(plan.run, out, scheduler=str(scheduler), timeout=timeout,
                                        custom_notebooks=plan.run.notebooks != notebooks_dir().resolve())
                    results_of = runner.run(todo)
                else:
                    shared = _share_validated_data(out, runner) if todo else None
                    results_of = runner.run(plan.run, out, todo)
                with contextlib.closing(results_of) as results:
                    for outcome in results:
                        record(outcome)
                if interrupt_noted():  # a Ctrl-C lost in a weakref callback: the segments left are pending
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            interrupted = True
            log_line("interrupted: the segments not finished are left for --resume")
            raise
        finally:
            try:  # (a Ctrl-C held while the folder goes is raised after it; the state and index still follow)
                if shared is not None:
                    remove_staging_folder(shared)
            finally:
                bar.close()
                save_state(finished=not interrupted)
                index = write_index(out, title=study.title, lang=study.language)
                elapsed = time.perf_counter() - t0
                result = BatchResult(out_dir=out, by=by, outcomes=list(outcomes.values()),
                                     suppressed=plan.suppressed, seconds=elapsed, log_path=log_path,
                                     index_path=index, interrupted=interrupted)
                log_line(f"end: {result.count('done')} written, {result.count('skipped')} already done, "
                         f"{len(result.failed)} failed, {result.count('pending')} not run, "
                         f"{len(plan.suppressed)} suppressed, {elapsed:.1f} s")
    return result
