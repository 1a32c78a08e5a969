"""A notebook's cells run inside a warm kernel in one request (the kernel side of
:class:`csm_helpers.pipeline.warm_engine.WarmEngine`).

nbclient sends each cell as its own request, and each output, status change and reply
travels as its own message, which both processes serialize, sign and parse: about a fifth of
the CPU time of a 50-branch batch, half of it in the kernel and half in the parent. Here
the parent sends the notebook's code cells at once; they run one after another in the
kernel's own IPython shell, exactly as ipykernel runs them (``run_cell`` with history, so
execution counts, magics, the display hook and tracebacks are IPython's own), and the
outputs come back in one message.

What each output contains is what ipykernel would have sent: display data and execute
results are taken from ipykernel's own message-transform hooks (``register_hook``, the
mechanism ipywidgets' Output widget uses), after ipykernel has encoded and cleaned them,
and are not sent on. Printed text is kept in order with the displays, one stream output per
uninterrupted run of text. A cell's error is the ``error`` output ipykernel would send
(IPython's documented ``_showtraceback`` override point).

A notebook this runner cannot run as ipykernel would (a cell with top-level ``await``, or an
ipykernel without the hooks) is left to nbclient: :func:`run_cells` then runs nothing and
says so.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["MARKER", "CellTimeoutError", "run_cells"]

#: Starts the line of the kernel's standard output that carries the results.
MARKER = "@@csm-cells@@ "


class CellTimeoutError(BaseException):
    """A cell ran longer than its time limit (a BaseException, as KeyboardInterrupt is, so that
    a cell's ``except Exception`` cannot swallow it)."""


class _Stream:
    """``sys.stdout`` or ``sys.stderr`` while a cell runs: text goes to the cell's outputs."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str, sink: _Sink) -> None:
        self.name, self.sink = name, sink

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self.sink.stream(self.name, text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")  # as io.StringIO: text only, no file descriptor

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False


class _Sink:
    """The outputs of the cell that is running, in order."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []

    def stream(self, name: str, text: str) -> None:
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["msg_type"] == "stream" and last["content"]["name"] == name:
            last["content"]["text"] += text
        else:
            self.outputs.append({"msg_type": "stream", "content": {"name": name, "text": text}})

    def message(self, msg: dict[str, Any]) -> None:
        self.outputs.append({"msg_type": msg["msg_type"], "content": msg["content"]})


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


def _needs_nbclient(shell: Any, cells: list[dict[str, Any]]) -> str:
    """Why these cells must run through nbclient instead ("" when they need not)."""
    if not (hasattr(shell.display_pub, "register_hook") and hasattr(shell.displayhook, "register_hook")):
        return "this ipykernel has no message hooks"
    for cell in cells:
        try:
            transformed = shell.transform_cell(cell["source"])
        except Exception:  # noqa: BLE001 - run_cell reports the cell's own syntax error
            continue
        if shell.should_run_async(cell["source"], transformed_cell=transformed, preprocessing_exc_tuple=None):
            return "a cell uses top-level await"
    return ""


@contextmanager
def _captured(shell: Any, sink: _Sink) -> Iterator[None]:
    """Route the shell's displays, results, tracebacks and printed text to ``sink``."""
    def hook(msg: dict[str, Any]) -> None:
        sink.message(msg)
        return None  # "used": ipykernel does not send it

    def show_traceback(etype: type, evalue: BaseException, stb: list[str]) -> None:
        sink.outputs.append({"msg_type": "error", "content": {
            "ename": str(etype.__name__), "evalue": str(evalue), "traceback": list(stb)}})

    streams = sys.stdout, sys.stderr
    for stream in streams:
        stream.flush()
    shell.display_pub.register_hook(hook)
    shell.displayhook.register_hook(hook)
    shell._showtraceback = show_traceback  # IPython's override point for where tracebacks go
    sys.stdout, sys.stderr = _Stream("stdout", sink), _Stream("stderr", sink)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams
        del shell._showtraceback  # the class's own again
        shell.displayhook.unregister_hook(hook)
        shell.display_pub.unregister_hook(hook)


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CellTimeoutError` in the block after ``seconds`` (None: no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise CellTimeoutError(f"the cell did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cells(request: str) -> None:
    """Run the code cells of ``request`` in this kernel and print the results after :data:`MARKER`.

    ``request`` is JSON: ``{"cells": [{"source", "id", "allow_error"}], "timeout": seconds per
    cell or null}``. The cells run in order until one fails (unless that one may: nbclient's
    ``raises-exception`` tag). The printed JSON is ``{"cells": [{"execution_count",
    "outputs", "start", "end"}]}`` for the cells that ran, each output as a message
    (``msg_type`` and ``content``) as ipykernel would send it; or ``{"nbclient": reason}``
    when nothing ran (see the module's notes).

    Examples
    --------
    Outside a kernel there is no shell to run the cells in:

    >>> run_cells('{"cells": [{"source": "1 + 1"}]}')
    @@csm-cells@@ {"nbclient": "no IPython shell"}
    """
    from IPython import get_ipython
    from jupyter_client.jsonutil import json_default

    req = json.loads(request)
    cells, timeout = req["cells"], req.get("timeout")
    shell = get_ipython()
    why = "no IPython shell" if shell is None else _needs_nbclient(shell, cells)
    if why:
        print(MARKER + json.dumps({"nbclient": why}))
        return
    done: list[dict[str, Any]] = []
    for cell in cells:
        sink = _Sink()
        result: dict[str, Any] = {"execution_count": shell.execution_count, "outputs": sink.outputs,
                                  "start": _now()}
        done.append(result)
        failed = False
        try:
            with _captured(shell, sink), _time_limit(timeout):
                outcome = shell.run_cell(cell["source"], store_history=True, cell_id=cell.get("id"))
            # (an error while a result is displayed fails the cell too, as in ipykernel's reply)
            failed = not outcome.success or any(o["msg_type"] == "error" for o in sink.outputs)
        except (KeyboardInterrupt, CellTimeoutError) as exc:  # between the cell's code and our own
            sink.outputs.append({"msg_type": "error", "content": {
                "ename": type(exc).__name__, "evalue": str(exc), "traceback": []}})
            failed = True
        result["end"] = _now()
        if failed and not cell.get("allow_error"):
            break
    text = json.dumps({"cells": done}, default=json_default, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(MARKER + text + "\n")
    sys.stdout.flush()
