"""A few warm kernels that run the stage notebooks of one ``csm run`` at the same time.

``csm run`` used to start a new kernel for every stage notebook (as the papermill command line
does) and to run the stages one after another: for the bundled sample, five kernel start-ups
and five imports of pandas, matplotlib, seaborn and pingouin, on one core. A
:class:`KernelPool` starts ``size`` :class:`~csm_helpers.pipeline.kernels.WarmKernel` s as soon
as it is made — while ``csm run`` is still loading and validating the study — and each of its
worker threads owns one kernel and runs notebook after notebook in it (reset in between, as
``csm batch`` does). The stages of a study are independent of each other (each reads the study
and writes its own report and metrics), so they can run in any order and at the same time.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csm_helpers.core.errors import ReportError
from csm_helpers.pipeline.kernels import WarmKernel

if TYPE_CHECKING:
    import nbformat

__all__ = ["KernelPool", "default_jobs", "start_run_kernels", "check_before_kernels", "wait_all"]


def default_jobs() -> int:
    """Number of CPU cores this process may use (the default of ``--jobs``).

    Examples
    --------
    >>> default_jobs() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _stopped() -> ReportError:
    return ReportError("the run was stopped before this notebook ran")


#: Seconds ``KernelPool.close(kill=True)`` waits for its threads to clean up after their
#: killed kernels (a kernel killed while it starts is noticed within a second).
_KILL_WAIT = 3.0


def check_before_kernels(study_path: str | Path | None, out_dir: str | Path, *,
                         stages: Sequence[str] | None = None, notebooks: str | Path | None = None) -> None:
    """What ``csm run`` and ``csm batch`` check before they start a kernel: ``study.yaml`` is
    read (a bad config fails at once, with no kernel started), ``stages`` are stages of the
    run's notebooks (a mistyped ``--stages`` is a usage error at once, not after the study's
    data was validated: 3.6 s), and ``out_dir`` is a folder the run can write (else it fails
    before any work).

    Examples
    --------
    >>> import tempfile
    >>> check_before_kernels(None, tempfile.mkdtemp(), stages=["04"])  # the bundled sample, a writable folder
    """
    from csm_helpers.core.paths import check_output_folder
    from csm_helpers.study.config import load_study
    from csm_helpers.study.datasets import sample_study_path
    from csm_helpers.study.stages import notebooks_dir, resolve_stages, study_notebooks

    study = load_study(study_path or sample_study_path())
    if stages:
        resolve_stages(stages, study_notebooks(study, notebooks, default=notebooks_dir())[0])
    check_output_folder(out_dir, option="--out")


def wait_all(events: Sequence[threading.Event], timeout: float) -> None:
    """Wait until every one of ``events`` is set, for at most ``timeout`` seconds in all.

    Examples
    --------
    >>> done = threading.Event(); done.set()
    >>> wait_all([done, threading.Event()], 0.01)  # returns after 0.01 s: one is never set
    """
    end = time.monotonic() + timeout
    for event in events:
        event.wait(max(0.0, end - time.monotonic()))


def start_run_kernels(study_path: str | Path | None, out_dir: str | Path, *,
                      stages: Sequence[str] | None = None, jobs: int | None = None,
                      notebooks: str | Path | None = None) -> KernelPool:
    """The warm kernels of one ``csm run``, started at once, after the cheap checks.

    :func:`check_before_kernels` first; then ``jobs`` kernels (default: the
    number of cores, at most the number of ``stages``) start in the background, and this
    returns once their processes exist. This module imports little, so the ``csm`` command
    calls this before it imports the rest of the run machinery: the kernels start while it
    does.

    Examples
    --------
    >>> pool = start_run_kernels(None, "reports", stages=["04"], jobs=2)  # doctest: +SKIP
    >>> pool.size  # doctest: +SKIP
    1
    """
    check_before_kernels(study_path, out_dir, stages=stages, notebooks=notebooks)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    pool = KernelPool(min(jobs, len(stages)) if stages else jobs)
    try:
        pool.wait_launched()
    except BaseException:  # Ctrl-C: no kernel is left behind
        pool.close(kill=True)
        raise
    return pool


class KernelPool:
    """``size`` warm kernels, each owned by one worker thread, for running stage notebooks.

    Parameters
    ----------
    size : int
        Number of kernels (and notebooks that run at the same time).
    cwd : Path, optional
        Working folder of the kernels (the notebooks' folder, as papermill's ``cwd``).
    prelude : tuple of str, optional
        Modules each kernel imports once (default: what the stage notebooks import).

    Notes
    -----
    The kernels start at once, in the background; :meth:`execute` waits for a free one.
    A kernel that failed a notebook is restarted before its next one
    (:meth:`~csm_helpers.pipeline.kernels.WarmKernel.ensure_ready`). :meth:`close` (or leaving
    the ``with`` block) stops every kernel, also after Ctrl-C.

    Examples
    --------
    >>> with KernelPool(1, prelude=("json",)) as pool:  # doctest: +SKIP
    ...     nb = pool.execute(Path("04_analysis.ipynb"), Path("/tmp/out.ipynb"), {"segment": "all"})
    """

    def __init__(self, size: int, *, cwd: str | Path | None = None, prelude: tuple[str, ...] | None = None) -> None:
        self.size = max(1, int(size))
        self.cwd = cwd
        self.prelude = prelude
        self._jobs: queue.SimpleQueue[tuple[Future[Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._kernels: list[WarmKernel] = []
        self._snapshot: str | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._launched = [threading.Event() for _ in range(self.size)]
        self._threads = [threading.Thread(target=self._work, args=(launched,), name=f"csm-kernel-{i}", daemon=True)
                         for i, launched in enumerate(self._launched)]
        for thread in self._threads:
            thread.start()

    def wait_launched(self, timeout: float = 10.0) -> None:
        """Wait until every kernel's process exists (not until it is ready), or its launch failed.

        The kernels are launched from this process's threads: whatever the caller imports in
        the meantime holds the same interpreter lock and delays the launch (``csm run``: by
        0.2 s, all of it then on the run's critical path).
        """
        wait_all(self._launched, timeout)

    def _work(self, launched: threading.Event) -> None:
        kwargs: dict[str, Any] = {"cwd": self.cwd}
        if self.prelude is not None:
            kwargs["prelude"] = self.prelude
        kernel = WarmKernel(**kwargs)
        with self._lock:
            self._kernels.append(kernel)
        failed: BaseException | None = None
        try:
            kernel.start(launched)  # now, while the caller still loads and validates the study
        except BaseException as exc:  # noqa: BLE001 - handed to the first notebook that needs this kernel
            failed = exc
        finally:
            launched.set()
        if self._closed:  # the run ended (bad input, Ctrl-C) while this kernel started
            kernel.shutdown()
            return
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                future, args = job
                if not future.set_running_or_notify_cancel():
                    continue
                if self._closed:
                    future.set_exception(_stopped())
                    continue
                try:
                    if failed is not None:
                        exc, failed = failed, None
                        raise exc
                    if self._snapshot is not None:
                        kernel.load_snapshot(self._snapshot)
                    future.set_result(kernel.execute_notebook(*args[:3], timeout=args[3]))
                except BaseException as exc:  # noqa: BLE001 - the caller re-raises it
                    future.set_exception(exc)
        finally:
            kernel.shutdown()

    def prime(self, snapshot: str | Path) -> None:
        """Have every kernel add the tables of ``snapshot`` (:func:`csm_helpers.workbook.cache.save_snapshot`)
        to its data cache before its next notebook, instead of reading the study's files again."""
        self._snapshot = str(snapshot)

    def execute(self, nb_path: Path, out_path: Path, parameters: dict[str, Any], *,
                timeout: float | None = 1800) -> nbformat.NotebookNode:
        """Run one notebook in the next free kernel and return it executed (thread-safe).

        Parameters and errors are those of :func:`csm_helpers.pipeline.execute.execute_stage`;
        ``timeout`` is per cell, in seconds.
        """
        if self._closed:
            raise _stopped()
        future: Future[Any] = Future()
        self._jobs.put((future, (nb_path, out_path, parameters, timeout)))
        return future.result()

    def close(self, *, kill: bool = False) -> None:
        """Stop the kernels and the worker threads once their notebooks are done; with ``kill``
        (after an error or Ctrl-C) at once: a notebook still running fails, a kernel still
        starting is shut down by its thread as soon as it is up (a kernel whose parent process
        has gone also ends itself: Jupyter's parent poller), and the threads get at most
        :data:`_KILL_WAIT` seconds to clean up."""
        with self._lock:
            kernels = list(self._kernels)
            if self._closed:
                return
            self._closed = True
        while True:  # notebooks not started yet: their callers must not wait for them
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None and job[0].set_running_or_notify_cancel():
                job[0].set_exception(_stopped())
        for _thread in self._threads:
            self._jobs.put(None)
        if kill:  # a kernel still starting is stopped by its own thread
            for kernel in kernels:
                kernel.kill()
            # A short wait, so that each thread can clean up after its killed kernel (its
            # connection file, else left in the temporary folder once this process exits).
            end = time.monotonic() + _KILL_WAIT
            for thread in self._threads:
                thread.join(timeout=max(0.0, end - time.monotonic()))
            return
        for thread in self._threads:
            thread.join(timeout=30)
        for kernel in kernels:  # a thread that did not end in time leaves its kernel to us
            with contextlib.suppress(Exception):
                kernel.shutdown()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(kill=exc_type is not None)
