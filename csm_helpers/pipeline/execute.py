"""Execute one stage notebook with papermill (a new kernel, or a warm one through :data:`WARM_ENGINE`)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csm_helpers.core.errors import CsmError, ReportError, is_user_error_name

if TYPE_CHECKING:  # imported by a warm kernel's prelude, which needs no notebook machinery
    import nbformat

__all__ = ["WARM_ENGINE", "execute_stage", "one_line", "silence_kernel_logs", "StageExecutor"]


# --------------------------------------------------------------------------- execution
#: papermill engine name of the warm-kernel engine (:mod:`csm_helpers.pipeline.kernels`),
#: registered through the ``papermill.engine`` entry point.
WARM_ENGINE = "csm_warm"


def _papermill_parameters(nb_path: Path) -> dict[str, Any]:
    """The parameters ``nb_path`` declares (``papermill.inspect_notebook``), read once per
    version of the file: a batch runs the same notebook for every segment (reading and
    validating it each time was 0.3 s of a 50-branch batch)."""
    import papermill

    st = os.stat(nb_path)
    stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    known = _DECLARED.get(str(nb_path))
    if known is None or known[0] != stamp:  # new, or edited since
        known = _DECLARED[str(nb_path)] = (stamp, papermill.inspect_notebook(str(nb_path)))
    return dict(known[1])


_DECLARED: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {}  # path -> (file stamp, parameters)


def warm_papermill(nb_path: Path) -> None:
    """Import papermill and read ``nb_path``'s parameters now, in a background thread while the
    kernel starts, so that the first :func:`execute_stage` does not wait for them: 0.35 s of
    ``csm run --stages 04``'s critical path, spent after the kernel was ready.

    Examples
    --------
    >>> from csm_helpers.study.stages import notebooks_dir
    >>> warm_papermill(notebooks_dir() / "04_analysis.ipynb")
    """
    _papermill_parameters(nb_path)


def execute_stage(nb_path: Path, out_path: Path, parameters: dict[str, Any], *,
                  timeout: float | None = 1800, km: Any = None, run: Any = None) -> nbformat.NotebookNode:
    """Execute one stage notebook with papermill and return the executed notebook.

    Unknown parameters are an error (papermill itself only warns). A ``CsmError`` raised
    inside the notebook comes back as a ``CsmError`` with the same message; any other
    failure is a :class:`ReportError` naming the notebook and cell.

    With ``km`` (a started ``jupyter_client`` KernelManager) the notebook runs in that
    kernel, which is left running (see :class:`csm_helpers.pipeline.kernels.WarmKernel`);
    without, papermill starts and stops a kernel of its own. With ``run`` as well (the warm
    kernel's :meth:`~csm_helpers.pipeline.kernels.WarmKernel.run_cells_request`) the cells go to
    the kernel in one request (:func:`csm_helpers.pipeline.warm_engine.run_in_one_request`).
    ``timeout`` is per cell, in seconds.

    papermill writes the executed notebook to ``out_path``; in a warm kernel only when it
    fails (the caller has the notebook it returns, and writing and checking it cost 13 ms of
    the parent's time per report, 0.7 s of a 50-branch batch). Either way a failed notebook is
    kept, with its traceback, in a ``csm-failed-`` folder the error names.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    declared = _papermill_parameters(nb_path)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportError(
            f"{nb_path.name}: unknown parameter(s) {', '.join(unknown)}; the notebook declares "
            f"{', '.join(sorted(declared)) or 'none'} in its cell tagged 'parameters'"
        )
    engine: dict[str, Any] = {}
    target: str | None = str(out_path)
    if km is not None:
        engine = {"engine_name": WARM_ENGINE, "km": km, "run": run}
        target = None  # nothing written unless it fails (below)
    interrupted: list[int] = []
    try:
        with _noting_interrupts(interrupted):
            if target is None:
                return _execute_warm(nb_path, parameters, engine, timeout)
            return papermill.execute_notebook(
                str(nb_path), target, parameters=parameters, kernel_name="python3",
                cwd=str(nb_path.parent), progress_bar=False, log_output=False,
                execution_timeout=timeout,
                # write the executed notebook once at the end (or on error), not after every cell
                request_save_on_cell_execute=False,
                # keep the kernel's own start-up chatter out of the user's terminal
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"], **engine,
            )
    except PapermillExecutionError as exc:
        # Ctrl-C reached the kernel too. A warm kernel (km) is also interrupted by the batch's
        # own time-limit watchdog: that is a timeout of the segment, not the user stopping the run.
        if interrupted or (exc.ename == "KeyboardInterrupt" and km is None):
            raise KeyboardInterrupt from None
        if is_user_error_name(exc.ename):
            raise CsmError(exc.evalue) from None
        keep = Path(tempfile.mkdtemp(prefix="csm-failed-")) / out_path.name
        if target is None:
            from csm_helpers.pipeline.warm_engine import last_notebook

            failed = last_notebook()
            if failed is not None:
                import nbformat

                nbformat.write(failed, keep)
        elif out_path.exists():
            shutil.copy2(out_path, keep)
        raise ReportError(
            f"{nb_path.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
            f"  the executed notebook with the full traceback is kept at {keep}"
        ) from None
    except (KeyboardInterrupt, CsmError):
        raise
    except Exception as exc:  # the kernel died or never started (killed, out of memory, Ctrl-C)
        if interrupted:
            raise KeyboardInterrupt from None
        raise ReportError(
            f"{nb_path.name}: the notebook kernel stopped ({type(exc).__name__}: {one_line(exc)}) — if the "
            "machine ran out of memory, close other programs or run fewer segments at once, then run again"
        ) from None


def _execute_warm(nb_path: Path, parameters: dict[str, Any], engine: dict[str, Any],
                  timeout: float | None) -> nbformat.NotebookNode:
    """``papermill.execute_notebook`` with no output path, in its two public halves: the
    notebook parameterized (``prepare_only``), then run by the engine and checked for errors.

    papermill's one call serializes the executed notebook at its end even when it writes it
    nowhere: 7 ms of the parent's time per report, outputs and all (0.8 s of a 50-branch
    batch). Here only the notebook as read is serialized (``prepare_only``), which is small.
    """
    import papermill
    from papermill.engines import papermill_engines
    from papermill.execute import raise_for_execution_errors
    from papermill.utils import chdir

    nb = papermill.execute_notebook(str(nb_path), None, parameters=parameters, kernel_name="python3",
                                    prepare_only=True, progress_bar=False, log_output=False,
                                    engine_name=engine["engine_name"])
    with chdir(str(nb_path.parent)):
        nb = papermill_engines.execute_notebook_with_engine(
            engine["engine_name"], nb, input_path=str(nb_path), output_path=None, kernel_name="python3",
            progress_bar=False, log_output=False, start_timeout=60, stdout_file=None, stderr_file=None,
            execution_timeout=timeout, km=engine["km"], run=engine["run"],
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    raise_for_execution_errors(nb, None)
    return nb


def one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def silence_kernel_logs() -> None:
    """After Ctrl-C the notebook kernels are killed on purpose: their death and the tasks it
    leaves are expected, so the libraries' logs of them ("Kernel died while waiting for execute
    reply") stay out of the terminal, under the one "interrupted" line."""
    for name in ("asyncio", "nbclient", "papermill", "traitlets"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@contextmanager
def _noting_interrupts(received: list[int]) -> Iterator[None]:
    """Note Ctrl-C and SIGTERM while a notebook runs, then let them act as before.

    A Ctrl-C in a terminal reaches the notebook kernel too; the kernel dies or stops its cell,
    and the error that papermill then raises must be read as the interruption it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum: int, frame: Any) -> None:
        received.append(signum)
        silence_kernel_logs()
        handler = previous[signum]
        if handler == signal.SIG_IGN:
            return
        if callable(handler):
            handler(signum, frame)
        raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, note)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


#: ``execute(nb_path, out_path, parameters) -> executed notebook``
StageExecutor = Callable[[Path, Path, dict[str, Any]], "nbformat.NotebookNode"]
