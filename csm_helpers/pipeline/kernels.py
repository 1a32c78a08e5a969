"""Warm Jupyter kernels: run many stage notebooks through papermill without a kernel start each.

Starting a kernel and importing pandas, scipy and the helpers in it takes a few
seconds — longer than the analysis of one small segment. :class:`WarmKernel` starts one
kernel, imports those libraries once (:func:`kernel_prelude`), and then runs notebook after
notebook in it through papermill. The notebooks stay ordinary papermill notebooks: the same
parameters cell is injected and the same cells run as with ``papermill`` on the command line;
papermill's engine (:mod:`csm_helpers.pipeline.warm_engine`) sends a notebook's cells in one
request (:mod:`csm_helpers.pipeline.cellrunner`) instead of nbclient's one per cell.

Between notebooks the kernel is reset (:func:`kernel_reset`): the user namespace is
emptied (``%reset -f``), figures are closed, and matplotlib's settings, the working folder,
``sys.path``, environment variables, warning filters, logging, numpy and pandas options are
put back as they were just after the imports, so a notebook sees what it would see in a new
kernel. What stays is what should: imported modules and the study tables cached by
:func:`csm_helpers.workbook.cache.enable_data_cache` (copied on every read). A notebook that
monkey-patches a library module would leak that into the next one; the stage notebooks do not.

A kernel that died, timed out or failed a notebook is restarted before its next notebook.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csm_helpers.core.errors import ReportError, is_user_error_name
from csm_helpers.pipeline.execute import WARM_ENGINE

if TYPE_CHECKING:  # a kernel imports this module: nbformat (and jsonschema) only when a notebook runs
    import nbformat

__all__ = ["WarmKernel", "KernelCodeError", "kernel_prelude", "kernel_reset", "WARM_ENGINE",
           "PRELUDE_MODULES"]


#: Modules a warm kernel imports once: what the stage notebooks import, and their heavy
#: dependencies. Not matplotlib, seaborn nor pingouin: the report charts are SVG
#: (:mod:`csm_helpers.present.charts.canvas`), and the segment comparisons compute pingouin's
#: formulas without importing it. A researcher's own matplotlib chart imports matplotlib
#: in the notebook; :func:`kernel_reset` then puts its settings back as a new import has them.
PRELUDE_MODULES = (
    "numpy", "pandas", "scipy.stats",
    "csm_helpers.analysis.action", "csm_helpers.present.appendix", "csm_helpers.analysis.complaints", "csm_helpers.analysis.discovery",
    "csm_helpers.present.display", "csm_helpers.analysis.drivers", "csm_helpers.analysis.gaps", "csm_helpers.analysis.goals",
    "csm_helpers.analysis.kpis", "csm_helpers.analysis.loyalty", "csm_helpers.analysis.measurement", "csm_helpers.workbook.metrics",
    "csm_helpers.present.charts.canvas", "csm_helpers.present.charts.action", "csm_helpers.present.charts.analysis",
    "csm_helpers.present.charts.kpis", "csm_helpers.present.charts.measurement", "csm_helpers.present.charts.voice",
    "csm_helpers.present.charts.path_model", "csm_helpers.present.charts.goals", "csm_helpers.present.charts.discovery",
    "csm_helpers.analysis.segments", "csm_helpers.workbook.summary", "csm_helpers.analysis.themes", "csm_helpers.present.views",
    "csm_helpers.workbook.context",
)


class KernelCodeError(ReportError):
    """Raised when code sent to a warm kernel outside a notebook (prelude, reset, summary) fails."""

    def __init__(self, message: str, ename: str = "", evalue: str = "") -> None:
        super().__init__(message)
        self.ename, self.evalue = ename, evalue


# --------------------------------------------------------------------------- kernel side
_BASELINE: dict[str, Any] = {}
_RC_KEEP = {"backend", "backend_fallback", "interactive"}  # as matplotlib.rcdefaults() leaves them


def _pandas_options() -> dict[str, Any]:
    import warnings

    import pandas as pd

    try:
        from pandas._config import config as cfg

        keys = list(cfg._registered_options)
    except (ImportError, AttributeError):  # pragma: no cover - a future pandas
        return {}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in keys:
            with contextlib.suppress(Exception):
                out[key] = pd.get_option(key)
    return out


def kernel_prelude(modules: tuple[str, ...] = PRELUDE_MODULES) -> None:
    """Run once inside a new warm kernel: import ``modules``, turn on the study-data cache and
    remember the state :func:`kernel_reset` restores."""
    import gc
    import importlib
    import logging
    import sys
    import warnings

    for name in modules:
        importlib.import_module(name)
    import numpy as np

    from csm_helpers.present.charts.fonts import report_font, set_font_per_chart
    from csm_helpers.workbook.cache import enable_data_cache

    enable_data_cache()
    _remember_static_transforms()
    set_font_per_chart(False)  # the report's exporter gives each page one font for all its charts
    report_font()  # the chart font's advance widths, read once
    _BASELINE.update(
        cwd=os.getcwd(), path=list(sys.path), environ=dict(os.environ),
        filters=list(warnings.filters), showwarning=warnings.showwarning,
        np_print=np.get_printoptions(), np_err=np.geterr(), pandas=_pandas_options(),
        log_level=logging.root.level, log_handlers=list(logging.root.handlers),
    )
    # The imported libraries are never freed: move them out of the collector's way, so the
    # full collections of %reset cost milliseconds, not a third of a second each.
    gc.collect()
    gc.freeze()


#: Cells whose static input transformation a warm kernel keeps (every segment runs the same cells).
_TRANSFORMS_KEPT = 512


def _remember_static_transforms() -> None:
    """Let the kernel's IPython tokenize each distinct cell once.

    IPython turns every cell into Python (``%magic``, ``!shell``, ``?help`` …) by tokenizing it
    (``TransformerManager.transform_cell``): 3 % of a warm kernel's time in a batch, where each
    segment sends the same cells. That step depends only on the cell's text and the manager's
    lists of transforms, which are part of the key, so a transform a notebook registers still
    applies; a cell that fails to transform is not kept. IPython's dynamic one-line prefilter
    (which depends on the namespace) runs after it, as before.
    """
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        return
    manager = ip.input_transformer_manager
    original = manager.transform_cell
    kept: dict[tuple[Any, ...], str] = {}

    def transform_cell(cell: str) -> str:
        key = (cell, tuple(manager.cleanup_transforms), tuple(manager.line_transforms),
               tuple(manager.token_transformers))
        out = kept.get(key)
        if out is None:
            out = original(cell)
            if len(kept) >= _TRANSFORMS_KEPT:
                kept.clear()
            kept[key] = out
        return out

    manager.transform_cell = transform_cell


def kernel_reset() -> None:
    """Run inside a warm kernel between two notebooks: forget everything the last one did."""
    import logging
    import random
    import sys
    import warnings

    import numpy as np
    import pandas as pd
    from IPython import get_ipython

    if not _BASELINE:
        raise RuntimeError("kernel_reset() before kernel_prelude()")
    ip = get_ipython()
    if ip is not None:
        ip.run_line_magic("reset", "-f")  # user namespace, Out/_ history, _i inputs
        ip.execution_count = 1
    if "matplotlib.pyplot" in sys.modules:  # a researcher's own matplotlib chart
        sys.modules["matplotlib.pyplot"].close("all")
    b = _BASELINE
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:  # its settings as matplotlib read them when it was imported
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            changed = {k: v for k, v in mpl.rcParamsOrig.items() if k not in _RC_KEEP and mpl.rcParams.get(k) != v}
            mpl.rcParams.update(changed)
    os.chdir(b["cwd"])
    sys.path[:] = b["path"]
    for key in set(os.environ) - set(b["environ"]):
        del os.environ[key]
    for key, value in b["environ"].items():
        if os.environ.get(key) != value:
            os.environ[key] = value
    warnings.filters[:] = b["filters"]
    warnings.showwarning = b["showwarning"]
    with contextlib.suppress(AttributeError):  # "once" registries start afresh, as in a new kernel
        warnings._filters_mutated()  # type: ignore[attr-defined]
    np.set_printoptions(**b["np_print"])
    np.seterr(**b["np_err"])
    now = _pandas_options()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in b["pandas"].items():
            if key in now and now[key] != value:
                with contextlib.suppress(Exception):
                    pd.set_option(key, value)
    logging.root.setLevel(b["log_level"])
    logging.root.handlers[:] = b["log_handlers"]
    random.seed()
    np.random.seed()


# --------------------------------------------------------------------------- parent side
def _drop_pending(channel: Any) -> None:
    """Throw away the messages waiting on a blocking client's IOPub channel, undecoded.

    Every client of a kernel receives all its IOPub messages: this one also gets what a
    notebook left to nbclient publishes (charts and tables included) and what an earlier
    request published after its "idle". None of it is for :meth:`WarmKernel.run`, which would
    otherwise decode (and check the signature of) each of them before reaching its own.
    Messages still on their way are skipped as before.
    """
    import zmq

    socket = getattr(channel, "socket", None)
    if socket is None:
        return
    with contextlib.suppress(zmq.ZMQError):
        while socket.poll(0):
            socket.recv_multipart(copy=False)


#: Starts of a kernel that dies before it answers, before giving up (see :meth:`WarmKernel.start`).
_START_ATTEMPTS = 3


def _connection() -> dict[str, str]:
    """How a new kernel and its clients talk: on Linux and macOS through Unix sockets in a
    private folder of their own. With TCP, jupyter_client picks free ports and another process
    (a second csm command, a dask worker, a papermill run) can take one before the kernel
    binds it (nteract/papermill#511): the kernel then dies, or worse, lives on without
    answering until the start-up timeout (120 s). A socket file cannot be taken that way."""
    if os.name != "posix":
        return {}
    _remove_stale_sockets()
    folder = tempfile.mkdtemp(prefix=f"{_SOCKETS_PREFIX}{os.getpid()}-")
    return {"transport": "ipc", "ip": os.path.join(folder, "k")}


_SOCKETS_PREFIX = "csm-kernel-"


def _remove_stale_sockets() -> None:
    """Socket folders of csm processes that no longer run (killed before they could remove
    them; a kernel whose csm process dies stops too): removed by the next csm command."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SOCKETS_PREFIX}*-*"):
        pid = folder.name[len(_SOCKETS_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # (PermissionError: alive, another user's)
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def _remove_sockets(km: Any) -> None:
    """The private folder of a kernel's sockets (:func:`_connection`), once it has stopped."""
    if getattr(km, "transport", "tcp") == "ipc":
        shutil.rmtree(os.path.dirname(km.ip), ignore_errors=True)


def _wait_for_ready(kc: Any, km: Any, *, timeout: float, stopped: Callable[[], bool]) -> None:
    """Wait until the kernel answers ``kernel_info`` with its IOPub channel connected.

    jupyter_client's ``wait_for_ready`` (8.x) step by step: ``kernel_info`` asked once a second,
    the reply taken only when an IOPub message shows that channel is connected, the protocol
    version adapted, IOPub flushed. But it looks whether the kernel died, or was killed on
    purpose (``stopped``), every tenth of a second, not once a second: a ``csm run`` whose
    input turns out to be bad kills its starting kernels and waits for their threads, and
    waited up to a second more for nothing (the corpus of broken inputs runs 140 of them).
    Raises ``RuntimeError`` as jupyter_client does.
    """
    from queue import Empty

    from jupyter_client.channels import major_protocol_version
    from jupyter_core.utils import run_sync

    end = time.monotonic() + timeout
    asked = -1.0
    while True:
        now = time.monotonic()
        if now - asked >= 1.0:
            kc.kernel_info()
            asked = now
        try:
            msg = kc.get_shell_msg(timeout=0.1)
        except Empty:
            pass
        else:
            if msg["msg_type"] == "kernel_info_reply":
                try:
                    kc.get_iopub_msg(timeout=0.2)
                except Empty:
                    asked = -1.0  # IOPub not connected yet: ask again
                else:
                    version = int(msg["content"]["protocol_version"].split(".")[0])
                    if version != major_protocol_version:
                        kc.session.adapt_version = version
                    break
        if stopped() or not run_sync(km.is_alive)():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > end:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
    while True:  # what the kernel published while starting
        try:
            kc.get_iopub_msg(timeout=0.2)
        except Empty:
            return


class WarmKernel:
    """One Jupyter kernel that runs many notebooks, reset between them.

    Parameters
    ----------
    cwd : Path, optional
        Working folder of the kernel (the notebooks' folder, as papermill's ``cwd``).
    kernel_name : str
        Kernel spec name.
    startup_timeout : float
        Seconds to wait for the kernel to answer after starting it.
    prelude : tuple of str
        Modules to import once (default :data:`PRELUDE_MODULES`).

    Examples
    --------
    >>> k = WarmKernel(prelude=("pandas",)).start()
    >>> k.run("x = 6 * 7"), k.run("print(x)")
    ('', '42\\n')
    >>> k.reset()
    >>> k.run("print('x' in globals())")
    'False\\n'
    >>> k.shutdown()
    """

    def __init__(self, *, cwd: str | Path | None = None, kernel_name: str = "python3",
                 startup_timeout: float = 120.0, prelude: tuple[str, ...] = PRELUDE_MODULES) -> None:
        self.cwd = str(cwd) if cwd is not None else None
        self.kernel_name = kernel_name
        self.startup_timeout = startup_timeout
        self.prelude = tuple(prelude)
        self.km: Any = None
        self.kc: Any = None
        self.starts = 0
        self.notebooks = 0
        self._snapshot_read: tuple[int, str] | None = None  # (start, snapshot file) the kernel has read
        self._dirty = False
        self._kills = 0  # kill() calls: a kernel killed while it starts is not started again
        self._timed_out = False
        self._lock = threading.Lock()

    # -- life cycle -------------------------------------------------------------------
    def start(self, launched: threading.Event | None = None) -> WarmKernel:
        """Start the kernel and run the prelude (imports, data cache, baseline state).

        ``launched`` is set once the kernel's process exists (or its launch failed), before
        the kernel is ready: see :meth:`KernelPool.wait_launched
        <csm_helpers.pipeline.pool.KernelPool.wait_launched>`.
        """
        # An AsyncKernelManager, as nbclient makes for itself: its clients poll the kernel's
        # messages without blocking nbclient's event loop, so a kernel that dies is noticed
        # (a blocking client would wait for its output forever). The calls below run on this
        # thread's event loop, the same one nbclient uses from this thread.
        from jupyter_client import AsyncKernelManager
        from jupyter_core.utils import run_sync

        kills = self._kills
        for attempt in range(1, _START_ATTEMPTS + 1):
            km = AsyncKernelManager(kernel_name=self.kernel_name, **_connection())
            # no SQLite input history: a reset kernel numbers its cells from 1 again, and the
            # history thread would then print "ERROR! Session/line number was not unique in
            # database" into whichever cell runs at that moment, i.e. into a report
            try:
                run_sync(km.start_kernel)(extra_arguments=["--IPKernelApp.log_level=CRITICAL",
                                                           "--HistoryManager.enabled=False"], cwd=self.cwd)
            except BaseException:
                _remove_sockets(km)
                if launched is not None:
                    launched.set()
                raise
            # From now on kill() reaches the process, also while it starts up. It is set before
            # ``launched``: a caller that waited for the launch and then kills (a run whose
            # input is bad) must not find no process, or the kernel would start up and run
            # its prelude (2 to 3 s) before its thread noticed the run had ended.
            self.km = km
            if launched is not None:
                launched.set()
            if self._kills != kills:  # killed while its process was being launched
                self._signal(signal.SIGKILL)
            kc = km.blocking_client()
            kc.start_channels()
            try:
                _wait_for_ready(kc, km, timeout=self.startup_timeout, stopped=lambda: self._kills != kills)
                break
            except RuntimeError as exc:
                kc.stop_channels()
                died = not run_sync(km.is_alive)()
                run_sync(km.shutdown_kernel)(now=True)
                _remove_sockets(km)
                self.km = None
                if self._kills != kills:  # it was killed on purpose: not started again
                    raise ReportError(f"the Jupyter kernel {self.kernel_name!r} was stopped while it started") from None
                # A kernel that dies at once could not bind one of its five sockets: with TCP (not
                # Linux or macOS, see _connection) another process took a port jupyter_client had
                # picked as free (nteract/papermill#511). New ones are picked for the next attempt;
                # a kernel that does not answer in time is not started again.
                if not died or attempt == _START_ATTEMPTS:
                    raise ReportError(f"the Jupyter kernel {self.kernel_name!r} did not start: {exc}") from None
        self.kc = kc
        self.starts += 1
        self._dirty = False
        # (no notebook client: a notebook's cells go to the kernel in one request through this
        # client, :meth:`run_cells_request`; nbclient, for the rare notebook the kernel leaves to
        # it, makes a client of its own, which the engine closes. A client kept connected but
        # not read would hold every message the kernel publishes.)
        self.run(f"import csm_helpers.pipeline.kernels as _csm_k; _csm_k.kernel_prelude({self.prelude!r}); del _csm_k",
                 timeout=self.startup_timeout)
        return self

    def shutdown(self) -> None:
        """Stop the kernel (nothing to do when it is not running)."""
        kc, km, self.kc, self.km = self.kc, self.km, None, None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            from jupyter_core.utils import run_sync

            # The kernel is killed here and reaped at once: jupyter_client's own kill then
            # finds it gone, where it would poll it every 0.1 s (0.1 s off every run's end).
            process = getattr(km.provisioner, "process", None)
            if process is not None:
                with contextlib.suppress(Exception):
                    process.kill()
                    process.wait(timeout=5)
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
            _remove_sockets(km)

    def restart(self) -> None:
        """A new kernel in place of this one (after a death, a timeout or a failed notebook)."""
        self.shutdown()
        self.start()

    def is_alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    @property
    def pid(self) -> int | None:
        """Process id of the kernel, or None."""
        prov = getattr(self.km, "provisioner", None)
        pid = getattr(prov, "pid", None) or getattr(getattr(prov, "process", None), "pid", None)
        return int(pid) if pid else None

    def __enter__(self) -> WarmKernel:
        return self.start() if self.km is None else self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def ensure_ready(self) -> None:
        """Start or restart the kernel when it is not running, died, or is in doubt."""
        if self.km is None:
            self.start()
        elif self._dirty or not self.is_alive():
            self.restart()

    # -- running code -----------------------------------------------------------------
    def run(self, code: str, *, timeout: float | None = None) -> str:
        """Run ``code`` in the kernel (not recorded in its history) and return what it printed.

        Waits at most ``timeout`` seconds (None: as long as the kernel lives); a kernel that
        dies meanwhile is noticed within a second.

        Raises
        ------
        KernelCodeError
            When the code raised, the kernel died or did not answer in time; the kernel is
            marked for a restart unless the error is a ``CsmError`` (bad input: it is fine).
        """
        import queue

        if self.kc is None:
            raise ReportError("the warm kernel is not running")
        kc = self.kc
        end = time.monotonic() + timeout if timeout else None

        def next_msg(get: Any) -> dict[str, Any]:
            while True:
                try:
                    return get(timeout=0.5)
                except queue.Empty:
                    if not self.is_alive():
                        self._dirty = True
                        raise KernelCodeError("the kernel died", "DeadKernelError", "") from None
                    if end is not None and time.monotonic() > end:
                        self._dirty = True
                        raise KernelCodeError(f"the kernel did not answer within {timeout:.0f} s",
                                              "TimeoutError", "") from None

        _drop_pending(kc.iopub_channel)
        msg_id = kc.execute(code, store_history=False, allow_stdin=False)
        while True:  # the reply
            reply = next_msg(kc.get_shell_msg)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        out: list[str] = []
        while True:  # its output, up to the kernel's "idle" (older messages are skipped)
            msg = next_msg(kc.get_iopub_msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content.get("text", ""))
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        content = reply["content"]
        if content.get("status") != "ok":
            ename, evalue = content.get("ename", "Error"), content.get("evalue", "")
            if not is_user_error_name(ename):
                self._dirty = True
            raise KernelCodeError(f"{ename}: {evalue}", ename, evalue)
        return "".join(out)

    def run_cells_request(self, code: str, *, timeout: float | None = None) -> str:
        """:meth:`run` for a notebook's cells (:func:`csm_helpers.pipeline.warm_engine.run_in_one_request`):
        a kernel that dies raises nbclient's ``DeadKernelError``, as when nbclient runs them."""
        try:
            return self.run(code, timeout=timeout)
        except KernelCodeError as exc:
            if exc.ename == "DeadKernelError":
                from nbclient.exceptions import DeadKernelError

                raise DeadKernelError("Kernel died") from None
            raise

    def kill(self) -> None:
        """Kill the kernel process at once (safe from any thread: only sends a signal). Whatever
        runs in it fails; :meth:`shutdown` (or the next use) cleans up."""
        self._dirty = True
        self._kills += 1
        self._signal(signal.SIGKILL)

    def reset(self) -> None:
        """Empty the kernel's namespace and put back the state of a new kernel."""
        self.run("import csm_helpers.pipeline.kernels as _csm_k; _csm_k.kernel_reset()", timeout=120)

    def execute_notebook(self, nb_path: str | Path, out_path: str | Path, parameters: dict[str, Any], *,
                         timeout: float | None = None) -> nbformat.NotebookNode:
        """Reset the kernel, then run one notebook in it with papermill (``km=``).

        Parameters and errors are those of :func:`csm_helpers.pipeline.execute.execute_stage`;
        ``timeout`` is per cell. After any failure the kernel is restarted before its next use.
        A kernel started without a working folder runs the notebook in the notebook's folder,
        as papermill does.
        """
        from csm_helpers.pipeline.execute import execute_stage

        self.ensure_ready()
        self.reset()
        if self.cwd is None:  # (the next reset puts the start-up folder back)
            self.run(f"import os as _csm_os; _csm_os.chdir({str(Path(nb_path).resolve().parent)!r}); del _csm_os")
        self.notebooks += 1
        try:
            return execute_stage(Path(nb_path), Path(out_path), parameters, timeout=timeout, km=self.km,
                                 run=self.run_cells_request)
        except BaseException:
            self._dirty = True
            raise

    def load_snapshot(self, path: str | Path) -> None:
        """Have the kernel add the tables of ``path`` (:func:`csm_helpers.workbook.cache.save_snapshot`)
        to its data cache, unless it has read that file since it (re)started: a restarted
        kernel has an empty cache. An optimisation only: when it fails, the kernel reads the
        study's files itself.
        """
        self.ensure_ready()
        mark = (self.starts, str(path))
        if self._snapshot_read != mark:
            with contextlib.suppress(Exception):
                self.run(f"import csm_helpers.workbook.cache as _csm_c; _csm_c.load_snapshot({str(path)!r}); del _csm_c")
            self._snapshot_read = mark

    def summary_json(self, study_path: str, segment: str) -> str:
        """:func:`csm_helpers.workbook.summary.report_summary_json` computed in the kernel."""
        self.ensure_ready()
        self.reset()
        marker = "@@csm-summary@@ "
        text = self.run(f"import csm_helpers.workbook.summary as _csm_r\n"
                        f"print({marker!r} + _csm_r.report_summary_json({study_path!r}, {segment!r}))")
        for line in reversed(text.split("\n")):
            if line.startswith(marker):
                return line[len(marker):]
        raise KernelCodeError("the kernel sent no summary back", "ReportError", "")

    # -- time limit ------------------------------------------------------------------
    @property
    def timed_out(self) -> bool:
        """True when the last :meth:`time_limit` ran out."""
        return self._timed_out

    @contextlib.contextmanager
    def time_limit(self, seconds: float | None, *, grace: float = 10.0) -> Iterator[None]:
        """Interrupt the kernel (SIGINT, so the running cell fails) when the block takes longer
        than ``seconds``, and kill it ``grace`` seconds later if it is still busy. The kernel
        is restarted before its next use. Check :attr:`timed_out` afterwards."""
        self._timed_out = False
        if not seconds:
            yield
            return
        done = threading.Event()

        def fire() -> None:
            if done.wait(seconds):
                return
            self._timed_out = True
            self._dirty = True
            self._signal(signal.SIGINT)
            if not done.wait(grace):
                self._signal(signal.SIGKILL)

        watchdog = threading.Thread(target=fire, name="csm-kernel-watchdog", daemon=True)
        watchdog.start()
        try:
            yield
        finally:
            done.set()
            watchdog.join(timeout=1)

    def _signal(self, sig: int) -> None:
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)

