"""The papermill engine of warm kernels, registered through papermill's ``papermill.engine``
entry point (``pyproject.toml``) under :data:`csm_helpers.pipeline.execute.WARM_ENGINE`.

It imports papermill only: papermill loads it while papermill itself is being imported.
"""

from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

__all__ = ["WarmEngine"]


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, for a kernel it does not own (``km=``).

    The same execution as papermill's default engine, then the client's channels are closed:
    nbclient leaves them open when it does not own the kernel, which would leak sockets over
    thousands of notebooks.

    Examples
    --------
    >>> from papermill.engines import papermill_engines
    >>> from csm_helpers.pipeline.execute import WARM_ENGINE
    >>> papermill_engines.get_engine(WARM_ENGINE) is WarmEngine
    True
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                 execution_timeout: int | None = None, **kwargs: Any) -> Any:
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
            if client.kc is not None:
                client.kc.stop_channels()
                client.kc = None
