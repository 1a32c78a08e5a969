"""Writing files safely: atomic writes, formula-safe CSV, escaped text.

Customer free text is untrusted (SPEC §4). Anything we write that a person opens in another
program goes through here: CSV cells that a spreadsheet would run as a formula are
neutralised, and every file is written to a temporary name and renamed, so a crash never
leaves a half-written report behind.
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["file_sha256", "atomic_write", "write_text_atomic", "write_bytes_atomic", "neutralise_formula",
           "to_safe_csv", "escape", "readable", "MAX_CELL_CHARS"]

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Characters a spreadsheet skips before it looks for a formula sign: spaces, and characters
#: that are invisible (zero-width space, joiners, word joiner, byte-order mark).
_INVISIBLE_LEAD = " \u00a0\u200b\u200c\u200d\u2060\ufeff"
#: Longest text a report table cell shows before it is cut (with a note saying so).
MAX_CELL_CHARS = 1000
#: Bidirectional controls that reorder what follows them ("Trojan Source" spoofing):
#: embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069.
_BIDI = {chr(c): f"\u27e8U+{c:04X}\u27e9" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
#: C0 controls (except tab, line feed, carriage return) and DEL as Unicode control pictures
#: (U+2400 block), C1 controls as the replacement character.
_CONTROLS = {**{chr(c): chr(0x2400 + c) for c in range(0x20) if c not in (9, 10, 13)},
             "\x7f": "\u2421", **{chr(c): "\ufffd" for c in range(0x80, 0xA0)}}
_READABLE = str.maketrans({**_BIDI, **_CONTROLS})


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    >>> neutralise_formula("\u200b =1+1")  # spaces or invisible characters first change nothing
    "'\\u200b =1+1"
    """
    if isinstance(value, str) and value.lstrip(_INVISIBLE_LEAD).startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None, private: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    If the block raises, the temporary file is removed and ``path`` is untouched. The file is
    readable as the umask allows (a report is meant to be shared), or, with ``private``, by its
    owner only (0600, from its creation on: for a file with personal data).

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
        if not private:
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


def write_bytes_atomic(path: str | Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, then rename); ``private``: owner-only."""
    with atomic_write(path, "wb", private=private) as fh:
        fh.write(data)
    return Path(path)


def to_safe_csv(data: pd.DataFrame, path: str | Path, *, index: bool = False, private: bool = False) -> Path:
    """Write ``data`` as UTF-8 CSV (with BOM, so Excel reads accents and CJK) atomically,
    with every text cell and header neutralised against formula injection; ``private`` makes the
    file readable by its owner only (:func:`atomic_write`).

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
    with atomic_write(path, "w", encoding="utf-8-sig", newline="", private=private) as fh:
        safe.to_csv(fh, index=index, lineterminator="\r\n")
    return Path(path)


def readable(text: Any, *, max_chars: int | None = MAX_CELL_CHARS) -> str:
    """Customer text made safe to *read* (before it is escaped for HTML).

    - control characters (NUL, BEL, ESC, ...) become visible Unicode control pictures
      (``"\\x07"`` -> ``"␇"``), C1 controls the replacement character;
    - bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
      would silently reorder the text after them, are shown as ``⟨U+202E⟩``;
    - text longer than ``max_chars`` is cut, and the cut is said: ``… [cut: 1,000,000
      characters in all]``.

    Everything else is left as it is (zero-width joiners are needed by emoji and some
    scripts; HTML escaping is :func:`escape`'s job).

    Examples
    --------
    >>> readable("invoice \u202egnp.exe")
    'invoice ⟨U+202E⟩gnp.exe'
    >>> readable("bell\\x07 nul\\x00")
    'bell␇ nul␀'
    >>> readable("x" * 12, max_chars=5)
    'xxxxx… [cut: 12 characters in all]'
    """
    s = "" if text is None else str(text)
    cut = max_chars is not None and len(s) > max_chars
    shown = s[:max_chars] if cut else s
    shown = shown.translate(_READABLE)
    return f"{shown}… [cut: {len(s):,} characters in all]" if cut else shown


def escape(text: Any) -> str:
    """HTML-escape any value for display (quotes included).

    Examples
    --------
    >>> escape('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if text is None else str(text), quote=True)
