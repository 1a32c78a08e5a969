"""The papermill engine of warm kernels, registered through papermill's ``papermill.engine``
entry point (``pyproject.toml``) under :data:`csm_helpers.pipeline.execute.WARM_ENGINE`.

papermill loads its entry points while it is itself being imported, so this module imports
nothing from papermill at module level: :class:`WarmEngine` builds its papermill subclass on
first use. Importing this module first, or papermill first, both work.
"""

from __future__ import annotations

import datetime as _dt
import functools
import threading
from typing import Any

__all__ = ["WarmEngine", "output_node", "last_notebook", "run_in_one_request"]

#: The notebook the engine last returned, per thread (a batch runs one notebook per thread).
_LAST = threading.local()


def last_notebook() -> Any:
    """The executed notebook :class:`WarmEngine` last returned in this thread, or None.

    papermill checks it for errors after the engine returns it, and raises with only the cell
    and the message: this is the notebook with the full traceback, for the copy kept after a
    failure (a warm run writes no executed notebook when it succeeds).
    """
    return getattr(_LAST, "nb", None)


#: The fields of each output message type that become the notebook output (nbformat's
#: ``output_from_msg``).
_OUTPUT_FIELDS = {
    "execute_result": ("metadata", "data", "execution_count"),
    "stream": ("name", "text"),
    "display_data": ("metadata", "data"),
    "error": ("ename", "evalue", "traceback"),
}


def output_node(msg: dict[str, Any]) -> Any:
    """nbformat's ``output_from_msg`` without its check of each output against the schema.

    nbformat checks a single output with the ``jsonschema`` package (its fast validator only
    takes whole notebooks): 20 ms of the parent's time per report notebook. The executed
    notebook is still checked whole, with the fast validator, when papermill writes it.

    Examples
    --------
    >>> out = output_node({"header": {"msg_type": "stream"}, "content": {"name": "stdout", "text": "hi"}})
    >>> out.output_type, out.text
    ('stream', 'hi')
    """
    from nbformat import from_dict

    kind = msg["header"]["msg_type"]
    fields = _OUTPUT_FIELDS.get(kind)
    if fields is None:
        raise ValueError(f"Unrecognized output msg type: {kind!r}")
    content = msg["content"]
    return from_dict({"output_type": kind, **{name: content[name] for name in fields}})


@functools.cache
def _engine() -> type:
    import nbclient.client
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    # nbclient turns each output message into a notebook output with this name (module-wide:
    # only csm's engines run notebooks in a csm process)
    nbclient.client.output_from_msg = output_node

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: int | None = None,
                                     **kwargs: Any) -> Any:
            run = kwargs.pop("run", None)  # the warm kernel's own way to run code, or None
            if run is not None and run_in_one_request(nb_man, run, execution_timeout):
                return nb_man.nb
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
            )
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            try:
                return client.execute()
            finally:
                if client.kc is not None:  # nbclient leaves its client open in a kernel it does not own
                    client.kc.stop_channels()
                client.kc = None

    return Engine


class _OneRequest:
    """The outputs of :func:`csm_helpers.pipeline.cellrunner.run_cells` put into the notebook
    as nbclient puts its messages: display ids updated across cells, ``clear_output``
    (with ``wait``) honoured, ``update_display_data`` never recorded itself."""

    def __init__(self, nb: Any) -> None:
        self.nb = nb
        self.display_ids: dict[str, dict[int, list[int]]] = {}
        self.clear_before_next = False

    def _update_display_id(self, display_id: str, content: dict[str, Any]) -> None:
        for cell_index, positions in self.display_ids.get(display_id, {}).items():
            outputs = self.nb.cells[cell_index].outputs
            for position in positions:
                outputs[position]["data"] = content["data"]
                outputs[position]["metadata"] = content["metadata"]

    def add(self, cell_index: int, outs: list[Any], kind: str, content: dict[str, Any]) -> None:
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_before_next = True
            else:
                outs[:] = []
                self._forget(cell_index)
            return
        display_id = None
        if kind in {"execute_result", "display_data", "update_display_data"}:
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id:
                self._update_display_id(display_id, content)
            if kind == "update_display_data":
                return
        out = output_node({"header": {"msg_type": kind}, "content": content})
        if self.clear_before_next:
            outs[:] = []
            self._forget(cell_index)
            self.clear_before_next = False
        if display_id:
            self.display_ids.setdefault(display_id, {}).setdefault(cell_index, []).append(len(outs))
        outs.append(out)

    def _forget(self, cell_index: int) -> None:
        for cells in self.display_ids.values():
            cells.pop(cell_index, None)


def _runs(cell: Any) -> bool:
    """Whether nbclient would run the cell (code, not blank, not tagged ``skip-execution``)."""
    return (cell.cell_type == "code" and bool(cell.source.strip())
            and "skip-execution" not in cell.get("metadata", {}).get("tags", []))


def _allows_errors(cell: Any) -> bool:
    """Whether nbclient goes on after the cell fails (tagged ``raises-exception``)."""
    return "raises-exception" in cell.get("metadata", {}).get("tags", [])


def run_in_one_request(nb_man: Any, run: Any, timeout: float | None) -> bool:
    """Run the notebook of papermill's ``nb_man`` through ``run`` (a warm kernel's
    :meth:`~csm_helpers.pipeline.kernels.WarmKernel.run_cells_request`) in one request, with
    :func:`csm_helpers.pipeline.cellrunner.run_cells`, and fill in its outputs, execution
    counts and papermill's cell states as nbclient and papermill would; False, with nothing
    run, when the kernel leaves the notebook to nbclient.

    ``timeout`` is per cell, as nbclient's; a cell that runs longer fails with
    ``CellTimeoutError``. ``run`` raises nbclient's ``DeadKernelError`` when the kernel dies
    (:meth:`~csm_helpers.pipeline.kernels.WarmKernel.run_cells_request`).
    """
    import json

    from nbclient.exceptions import DeadKernelError

    from csm_helpers.pipeline.cellrunner import MARKER

    nb = nb_man.nb
    runnable = [i for i, cell in enumerate(nb.cells) if _runs(cell)]
    request = json.dumps({"timeout": timeout, "cells": [
        {"source": nb.cells[i].source, "id": nb.cells[i].get("id"), "allow_error": _allows_errors(nb.cells[i])}
        for i in runnable]})
    text = run(f"import csm_helpers.pipeline.cellrunner as _csm_x; _csm_x.run_cells({request!r}); del _csm_x",
               timeout=timeout * len(runnable) + 60 if timeout else None)
    line = next((x for x in reversed(text.split("\n")) if x.startswith(MARKER)), None)
    if line is None:
        raise DeadKernelError("the kernel sent no results back")
    reply = json.loads(line[len(MARKER):])
    if "nbclient" in reply:
        return False
    results = dict(zip(runnable, reply["cells"], strict=False))
    sink = _OneRequest(nb)
    for index, cell in enumerate(nb.cells):
        nb_man.cell_start(cell, index)
        result = results.get(index)
        failed = False
        if result is not None:
            cell.outputs = []
            sink.clear_before_next = False  # a wait for the next output ends with its cell
            cell.execution_count = result["execution_count"]
            for out in result["outputs"]:
                sink.add(index, cell.outputs, out["msg_type"], out["content"])
            failed = any(o.output_type == "error" for o in cell.outputs) and not _allows_errors(cell)
            if failed:
                nb_man.cell_exception(cell, cell_index=index)
        nb_man.cell_complete(cell, cell_index=index)
        if result is not None:  # the kernel's own times, not the time the results arrived
            pm = cell.metadata.papermill
            pm["start_time"], pm["end_time"] = result["start"], result["end"]
            pm["duration"] = (_dt.datetime.fromisoformat(result["end"])
                              - _dt.datetime.fromisoformat(result["start"])).total_seconds()
        if failed:
            break
    return True


class WarmEngine:
    """papermill's nbclient engine, for a kernel it does not own (``km=``).

    With ``run=`` (a warm kernel's
    :meth:`~csm_helpers.pipeline.kernels.WarmKernel.run_cells_request`) the cells go to the
    kernel in one request (:func:`run_in_one_request`), with the same outputs, counts and
    papermill cell states as nbclient gives. Otherwise, or for a notebook the kernel leaves to
    nbclient, the same execution as papermill's default engine, and nbclient's client is
    closed at the end: nbclient leaves it open when it does not own the kernel, which would
    leak sockets over thousands of notebooks.

    Examples
    --------
    >>> from papermill.engines import papermill_engines
    >>> from csm_helpers.pipeline.execute import WARM_ENGINE
    >>> papermill_engines.get_engine(WARM_ENGINE) is WarmEngine
    True
    """

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, **kwargs: Any) -> Any:
        _LAST.nb = None
        _LAST.nb = _engine().execute_notebook(nb, kernel_name, **kwargs)
        return _LAST.nb

    @classmethod
    def nb_kernel_name(cls, nb: Any, name: str | None = None) -> str:
        return _engine().nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb: Any, language: str | None = None) -> str:
        return _engine().nb_language(nb, language)
