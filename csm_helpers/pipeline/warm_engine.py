"""The papermill engine of warm kernels, registered through papermill's ``papermill.engine``
entry point (``pyproject.toml``) under :data:`csm_helpers.pipeline.execute.WARM_ENGINE`.

papermill loads its entry points while it is itself being imported, so this module imports
nothing from papermill at module level: :class:`WarmEngine` builds its papermill subclass on
first use. Importing this module first, or papermill first, both work.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

__all__ = ["WarmEngine", "output_node", "last_notebook"]

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
            kc = kwargs.pop("kc", None)  # a client the warm kernel keeps connected, or None
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
            )
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            client.kc = kc  # nbclient makes (and waits for) a client of its own only without one
            try:
                return client.execute()
            finally:
                if client.kc is not None and client.kc is not kc:
                    client.kc.stop_channels()
                client.kc = None

    return Engine


class WarmEngine:
    """papermill's nbclient engine, for a kernel it does not own (``km=``).

    The same execution as papermill's default engine. With ``kc=`` (the warm kernel's client,
    connected once) the notebook runs through it and it stays connected; otherwise nbclient's
    own client is closed at the end: nbclient leaves it open when it does not own the kernel,
    which would leak sockets over thousands of notebooks.

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
