"""Ctrl-C and SIGTERM for a ``csm`` command: both end it as ``KeyboardInterrupt``, and both are
noted, so that code which a lost interrupt would let run on can see it (:func:`interrupt_noted`).

Python cannot raise an exception out of a weakref callback or a ``__del__``: it prints it
("Exception ignored in ...", with a traceback) and carries on. A Ctrl-C that lands there is
lost: a run finished and exited 0, or 130 under a traceback (``test_ctrl_c_at_any_moment_of_a_run_stops_it``,
twice in CI). :func:`interrupts_noted` keeps such a lost interrupt quiet, raises it again when
its block ends, and meanwhile :func:`interrupt_noted` says it came (a batch starts no new segment).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["interrupt_noted", "interrupts_noted"]

_noted = threading.Event()
_active = threading.Event()  # an interrupts_noted block is open: a nested one leaves it the work


def interrupt_noted() -> bool:
    """True once a Ctrl-C or SIGTERM came inside :func:`interrupts_noted` (until its block ends).

    Examples
    --------
    >>> interrupt_noted()
    False
    """
    return _noted.is_set()


@contextlib.contextmanager
def interrupts_noted() -> Iterator[None]:
    """End the block on Ctrl-C or SIGTERM with ``KeyboardInterrupt``, also when the one the signal
    raised was lost, and with no "Exception ignored" traceback for it.

    In the main thread only (elsewhere signals are left alone). A SIGINT this process ignores
    (a shell's background job) stays ignored. The signal handlers and ``sys.unraisablehook``
    are put back when the block ends. Inside another such block (``csm batch`` calls
    :func:`csm_helpers.pipeline.batch.run_batch`, which opens one for its other callers) it
    changes nothing: the outer block keeps the note, and raises it at its end.

    Examples
    --------
    >>> with interrupts_noted():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread() or _active.is_set():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        _noted.set()
        raise KeyboardInterrupt

    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)
                if not (sig == signal.SIGINT and ignored)}
    report_unraisable = sys.unraisablehook

    def quiet_when_noted(unraisable: Any) -> None:
        if _noted.is_set() and issubclass(unraisable.exc_type, KeyboardInterrupt):
            return  # raised again when the block ends
        report_unraisable(unraisable)

    _noted.clear()
    _active.set()
    sys.unraisablehook = quiet_when_noted
    try:
        yield
        if _noted.is_set():
            raise KeyboardInterrupt
    finally:
        sys.unraisablehook = report_unraisable
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _noted.clear()
        _active.clear()
