"""Writing files safely: atomic writes, formula-safe CSV, escaped text.

Customer free text is untrusted (SPEC §4). Anything we write that a person opens in another
program goes through here: CSV cells that a spreadsheet would run as a formula are
neutralised, and every file is written to a temporary name and renamed, so a crash never
leaves a half-written report behind.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["atomic_write", "write_text_atomic", "write_bytes_atomic", "neutralise_formula",
           "to_safe_csv", "escape"]

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise_formula(value: Any) -> Any:
    """Make a CSV cell inert for spreadsheets (OWASP "CSV injection").

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    prefixed with a single quote, so Excel, LibreOffice and Google Sheets show it as text
    instead of running it. Numbers are left alone (a negative number is not a formula).

    Examples
    --------
    >>> neutralise_formula('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("-5 stars, rude")
    "'-5 stars, rude"
    >>> neutralise_formula(-5)
    -5
    >>> neutralise_formula("fine")
    'fine'
    """
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    If the block raises, the temporary file is removed and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "x.txt") as fh:
    ...     _ = fh.write("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, then rename)."""
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, then rename)."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def to_safe_csv(data: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write ``data`` as UTF-8 CSV (with BOM, so Excel reads accents and CJK) atomically,
    with every text cell and header neutralised against formula injection.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "q.csv"
    >>> _ = to_safe_csv(pd.DataFrame({"text": ["=1+1", "ok"]}), p)
    >>> p.read_text(encoding="utf-8-sig").splitlines()
    ['text', "'=1+1", 'ok']
    """
    safe = data.copy()
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise_formula)
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        safe.to_csv(fh, index=index, lineterminator="\r\n")
    return Path(path)


def escape(text: Any) -> str:
    """HTML-escape any value for display (quotes included).

    Examples
    --------
    >>> escape('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if text is None else str(text), quote=True)
