"""``csm batch --executor dask``: the same batch on a dask.distributed cluster.

Each segment is one dask task (:func:`segment_task`). A worker thread that runs such a task
keeps a warm kernel for the next one (a worker-process registry, shut down by the
:class:`KernelPool` worker plugin when the worker closes, and at exit). The task builds the
segment's reports in a temporary folder on the worker and returns the files' bytes; this
process writes and commits them into ``--out``, so the output folder need not be shared
with the workers. The study's files, however, are read by the workers at the path given to
``--study``: that path must be readable on every worker (a shared or replicated folder), and
every worker must have the same csm-workbook version installed.

Parallelism is the cluster's: one kernel per worker thread (``dask worker --nthreads``).
Install the extra with ``pip install "csm-workbook[dask]"``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from csm_helpers import __version__
from csm_helpers.core.errors import CsmError
from csm_helpers.core.safety import write_bytes_atomic
from csm_helpers.pipeline.build import BatchSegment, SegmentOutcome, build_with_kernel, describe_failure
from csm_helpers.pipeline.outputs import commit_segment, manifest_key
from csm_helpers.pipeline.plan import RunPlan
from csm_helpers.study.stages import notebooks_dir

__all__ = ["DaskRunner", "KernelPool", "segment_task", "shutdown_kernels", "CONNECT_TIMEOUT"]

_KERNELS: dict[int, Any] = {}
_LOCK = threading.Lock()


def _thread_kernel(cwd: Path) -> Any:
    """The warm kernel of the calling worker thread (started on first use)."""
    from csm_helpers.pipeline.kernels import WarmKernel

    ident = threading.get_ident()
    with _LOCK:
        kernel = _KERNELS.get(ident)
        if kernel is None:
            kernel = _KERNELS[ident] = WarmKernel(cwd=cwd)
    return kernel


def shutdown_kernels() -> None:
    """Stop every warm kernel of this (worker) process."""
    with _LOCK:
        kernels = list(_KERNELS.values())
        _KERNELS.clear()
    for kernel in kernels:
        kernel.shutdown()


atexit.register(shutdown_kernels)


def _plugin_base() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class KernelPool(_plugin_base()):  # type: ignore[misc]
    """Worker plugin: stop the worker's warm kernels when the worker closes."""

    name = "csm-warm-kernels"
    idempotent = True

    def teardown(self, worker: Any) -> None:
        shutdown_kernels()


def segment_task(plan: RunPlan, seg: BatchSegment, *, timeout: float | None, version: str,
                 own_notebooks: bool) -> dict[str, Any]:
    """Build one segment's reports on a dask worker; return their files (bytes) or the error.

    Never raises for a failure of the segment: the error travels back as data, so the client
    can log it like any other segment's.
    """
    t0 = time.perf_counter()
    if version != __version__:
        return {"status": "failed", "seconds": 0.0, "detail": "",
                "error": f"this dask worker has csm-workbook {__version__}, the client {version}: "
                         "install the same version on every worker"}
    if not own_notebooks:
        plan = dataclasses.replace(plan, notebooks=notebooks_dir())
    kernel = _thread_kernel(plan.notebooks)
    staging = Path(tempfile.mkdtemp(prefix="csm-dask-"))
    try:
        staged, timings = build_with_kernel(plan, seg, kernel, staging, timeout=timeout)
        files = {p.relative_to(staged).as_posix(): p.read_bytes()
                 for p in sorted(staged.rglob("*")) if p.is_file()}
        return {"status": "done", "files": files, "timings": timings, "seconds": time.perf_counter() - t0}
    except Exception as exc:  # the client records it; the worker goes on with the next segment
        error, detail = describe_failure(exc, kernel.timed_out, timeout)
        return {"status": "failed", "error": error, "detail": detail, "seconds": time.perf_counter() - t0}
    finally:
        shutil.rmtree(staging, ignore_errors=True)


#: Seconds to keep trying to reach the scheduler before ``csm batch`` gives up with a clear
#: error (dask retries a refused connection until then: a remote scheduler may be starting).
CONNECT_TIMEOUT = 30.0


class DaskRunner:
    """Run segments as tasks on the dask scheduler at ``scheduler``; commit results locally."""

    def __init__(self, plan: RunPlan, out_dir: Path, *, scheduler: str, timeout: float | None,
                 custom_notebooks: bool = False) -> None:
        self.plan, self.out_dir, self.scheduler, self.timeout = plan, out_dir, scheduler, timeout
        self.custom_notebooks = custom_notebooks

    def _connect(self) -> Any:
        try:
            from distributed import Client
        except ImportError:
            raise CsmError("--executor dask needs the 'distributed' package: "
                           "pip install \"csm-workbook[dask]\"") from None
        try:
            return Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CsmError(f"cannot reach the dask scheduler at {self.scheduler}: {exc} — check "
                           "--scheduler (e.g. tcp://10.0.0.5:8786) and that the scheduler is running") from None

    def _commit(self, seg: BatchSegment, files: dict[str, bytes]) -> None:
        staging = Path(tempfile.mkdtemp(prefix=f".csm-staging-{os.getpid()}-", dir=self.out_dir))
        try:
            staged = staging / seg.dirname
            for rel, data in files.items():
                dest = (staged / rel).resolve()
                if staged.resolve() not in dest.parents:  # a file name from a worker stays inside
                    raise CsmError(f"a dask worker returned a file outside the segment folder: {rel!r}")
                write_bytes_atomic(dest, data)
            commit_segment(staged, self.out_dir / seg.dirname,
                           manifest_key(self.plan.inputs, self.plan.parameters(seg.segment)))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def run(self, todo: Sequence[BatchSegment]) -> Iterator[SegmentOutcome]:
        from distributed import as_completed

        client = self._connect()
        futures: dict[Any, BatchSegment] = {}
        try:
            client.register_plugin(KernelPool(), name=KernelPool.name)
            token = uuid.uuid4().hex[:8]
            for seg in todo:
                fut = client.submit(segment_task, self.plan, seg, timeout=self.timeout, version=__version__,
                                    own_notebooks=self.custom_notebooks, pure=False,
                                    key=f"csm-batch-{token}-{seg.dirname}")
                futures[fut] = seg
            for fut in as_completed(list(futures), loop=client.loop):
                seg = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died, the task was lost
                    error, detail = describe_failure(exc, False, self.timeout)
                    yield SegmentOutcome(seg.segment, seg.dirname, seg.n, "failed", error=error, detail=detail)
                    continue
                if res["status"] == "done":
                    try:
                        self._commit(seg, res["files"])
                    except Exception as exc:
                        error, detail = describe_failure(exc, False, self.timeout)
                        yield SegmentOutcome(seg.segment, seg.dirname, seg.n, "failed", res["seconds"],
                                             error=error, detail=detail)
                        continue
                    yield SegmentOutcome(seg.segment, seg.dirname, seg.n, "done", res["seconds"],
                                         timings=res.get("timings", {}))
                else:
                    yield SegmentOutcome(seg.segment, seg.dirname, seg.n, "failed", res["seconds"],
                                         error=res["error"], detail=res.get("detail", ""))
        finally:
            with contextlib.suppress(Exception):
                client.cancel(list(futures))
            client.close()
