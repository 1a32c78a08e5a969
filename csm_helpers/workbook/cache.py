"""The study-data cache of a long-lived process (a warm kernel of ``csm batch``): the study's tables are read and validated once per process instead of once per notebook; every hit hands out a copy, so one segment's notebook cannot change what the next one reads. Off unless turned on; it lives in a module, so it survives ``%reset -f`` between notebooks."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.study.config import Study

__all__ = ["enable_data_cache", "disable_data_cache", "data_cache_stats", "data_cache_on", "cached", "seed",
           "save_snapshot", "load_snapshot"]


# --------------------------------------------------------------------------- data cache
# Off unless a long-lived process (a warm kernel of ``csm batch``) turns it on: then the study's
# tables are read and validated once per process instead of once per notebook. It lives in this
# module, so it survives ``%reset -f`` between notebooks. Every hit hands out a copy, so one
# segment's notebook cannot change what the next one reads.
_CACHE_LOCK = threading.Lock()


_CACHE: dict[tuple, Any] | None = None


_CACHE_STATS = {"hits": 0, "misses": 0, "loaded": 0}


_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3  # pandas 3: a shallow copy is isolated


def enable_data_cache() -> None:
    """Keep the study's loaded and validated tables in memory for this process.

    The key of every entry is the study file and every input file's path, size and
    modification time (ns), so editing any input is seen on the next read. Tables are
    handed out as copies (copy-on-write under pandas 3), so a notebook that changes its
    data cannot change another notebook's.

    Examples
    --------

    >>> from csm_helpers.workbook import open_stage
    >>> enable_data_cache()
    >>> a = open_stage("04_analysis").all_responses
    >>> a.loc[:, "overall_sat"] = -1  # changes this copy only
    >>> int(open_stage("04_analysis").all_responses["overall_sat"].min()) >= 1
    True
    >>> data_cache_stats()["hits"] >= 1
    True
    >>> disable_data_cache()
    """
    global _CACHE
    with _CACHE_LOCK:
        if _CACHE is None:
            _CACHE = {}


def disable_data_cache() -> None:
    """Drop every cached table and stop caching (the default state)."""
    global _CACHE
    with _CACHE_LOCK:
        _CACHE = None
        _CACHE_STATS.update(hits=0, misses=0, loaded=0)


@contextlib.contextmanager
def data_cache_on() -> Any:
    """The data cache, on for the ``with`` block: turned off again at its end unless it was on
    before (a one-off check that reads the same tables several times, as ``csm validate`` does).

    Examples
    --------
    >>> with data_cache_on():
    ...     data_cache_stats()["enabled"]
    True
    >>> data_cache_stats()["enabled"]
    False
    """
    with _CACHE_LOCK:
        was_on = _CACHE is not None
    if not was_on:
        enable_data_cache()
    try:
        yield
    finally:
        if not was_on:
            disable_data_cache()


def data_cache_stats() -> dict[str, int | bool]:
    """``enabled``, ``entries``, ``hits`` and ``misses`` of the data cache, and how many entries
    were ``loaded`` from snapshots (:func:`load_snapshot`)."""
    with _CACHE_LOCK:
        return {"enabled": _CACHE is not None, "entries": len(_CACHE or {}), **_CACHE_STATS}


def _fingerprint(study: Study) -> tuple:
    """Identity of a study's inputs: for study.yaml and every file it names, the file the name
    leads to now (symbolic links followed: device and inode), its size and mtime (ns).

    The names are joined to the study folder, not resolved: the loader resolves and checks
    each path when it reads the file, and a name that leads elsewhere since (a link moved to
    another file) changes the device or inode here, so a cached table is never handed out for it.
    """
    out = []
    folder = study.path.parent
    for rel in [str(study.path), *sorted(study.file_keys().values())]:
        try:
            st = os.stat(os.path.join(folder, rel))  # an absolute name stays as it is
            out.append((rel, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        except (OSError, ValueError):  # the loader itself reports a missing or unsafe file
            out.append((rel, None, None, None, None))
    return tuple(out)


def _fresh(value: Any) -> Any:
    """A copy of a cached value that its user may change freely."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=not _COPY_ON_WRITE)
    if isinstance(value, np.ndarray):
        return value.copy()
    if dataclasses.is_dataclass(value) and hasattr(value, "data"):  # io.Table
        return dataclasses.replace(value, data=_fresh(value.data))
    if hasattr(value, "model_copy"):  # pydantic models (goals, codebook)
        return value.model_copy(deep=True)
    if isinstance(value, tuple | list):
        return type(value)(_fresh(v) for v in value)
    if isinstance(value, dict):  # a summary of several tables (complaints)
        return {k: _fresh(v) for k, v in value.items()}
    return value


def cached(study: Study, name: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, or a copy of its earlier result for the same study inputs when caching is on.

    ``name[0]`` names a family of entries of which one is kept: a new entry replaces the
    family's older ones (older inputs, another segment's table). Put everything an entry that
    must live beside others depends on into ``name[0]``. Errors are not cached: bad input
    raises again on every call.
    """
    if _CACHE is None:
        return compute()
    key = (name, _fingerprint(study))
    with _CACHE_LOCK:
        hit = _CACHE is not None and key in _CACHE
        if hit:
            _CACHE_STATS["hits"] += 1
            return _fresh(_CACHE[key])
    value = compute()
    with _CACHE_LOCK:
        if _CACHE is not None:
            for old in [k for k in _CACHE if k[0][0] == name[0] and k != key]:
                del _CACHE[old]  # older inputs, or another segment's table: never read again
            _CACHE[key] = value
            _CACHE_STATS["misses"] += 1
    return _fresh(value)


def seed(study: Study, name: tuple, value: Any) -> None:
    """Store ``value`` as what ``cached(study, name, ...)`` would compute (when caching is on):
    for a caller that has just computed it another way (``csm validate`` reads the responses
    with ``validate=False`` and checks them itself)."""
    if _CACHE is None:
        return
    cached(study, name, lambda: value)


def save_snapshot(path: str | os.PathLike[str], *, names: tuple[str, ...] | None = None) -> bool:
    """Write the cached tables (those named ``names``, e.g. ``("responses",)``; default all) to
    ``path`` (pickle, written to a temporary name and renamed); False when there are none.

    Only language-free tables should travel: a table with text worked out in this process's
    language (the quality-flag definitions, say) would reach a report in another.

    ``csm run`` validates the study once and hands the tables it read to its kernels this way
    (:func:`load_snapshot`), so no kernel reads and checks the survey export again. The file
    is the process's own, in the run's private staging folder; it is never read from anywhere
    else.
    """
    with _CACHE_LOCK:
        entries = {k: v for k, v in (_CACHE or {}).items() if names is None or k[0][0] in names}
        if not entries:
            return False
    folder = os.path.dirname(os.fspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return True


def load_snapshot(path: str | os.PathLike[str]) -> int:
    """Add the tables of a :func:`save_snapshot` file to the cache (when it is on) and return how
    many were added; 0 when the file is missing or unreadable (the tables are then read as
    usual). Entries keep their keys — the inputs' paths, sizes and modification times — so a
    table whose file has changed since is never handed out."""
    if _CACHE is None:
        return 0
    try:
        with open(path, "rb") as fh:
            entries = pickle.load(fh)  # noqa: S301 - our own file, from our own staging folder
    except Exception:  # noqa: BLE001 - an optimisation only: read the data as usual instead
        return 0
    added = 0
    with _CACHE_LOCK:
        if _CACHE is None or not isinstance(entries, dict):
            return 0
        for key, value in entries.items():
            if key not in _CACHE:
                _CACHE[key] = value
                added += 1
        _CACHE_STATS["loaded"] += added
    return added

