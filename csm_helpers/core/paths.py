"""Paths a user gives us: the one resolver for files a configuration names, and the one check of
an output folder.

A path from ``study.yaml`` or from the command line can fail in ways that Python reports as a
bare ``OSError``, ``ValueError`` or ``RuntimeError`` deep inside ``pathlib``: a name longer than
the file system allows, a NUL byte, a symbolic link that points to itself, a file where a folder
should be, a folder nobody may write to. :func:`resolve_path` and :func:`check_output_folder`
turn each into one :class:`~csm_helpers.core.errors.CsmError` line that names the setting, the
path and the fix, before anything is read or written.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from csm_helpers.core.errors import ConfigError, CsmError

__all__ = ["NAME_MAX", "PATH_MAX", "resolve_path", "check_output_folder", "check_path_option", "file_kind",
           "read_text_file"]

#: Longest file or folder name (bytes) most file systems allow (ext4, APFS, NTFS: 255).
NAME_MAX = 255
#: Longest whole path (bytes) Linux allows.
PATH_MAX = 4096


def _show(path: str | Path, limit: int = 80) -> str:
    text = str(path)
    return repr(text if len(text) <= limit else text[:40] + "…" + text[-30:])


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise ConfigError(f"{where}: the path {_show(text)} holds a NUL character (\\0), "
                          "which no file name can — type the name again")
    for part in Path(text).parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise ConfigError(f"{where}: the name {_show(part)} is {size} bytes long, more than the {NAME_MAX} a "
                              "file system allows — rename the file or folder to a shorter name")
    if len(os.fsencode(text)) > PATH_MAX:
        raise ConfigError(f"{where}: the path is {len(os.fsencode(text))} bytes long, more than the {PATH_MAX} "
                          "the system allows — move the files to a folder with a shorter path")


def _followed(path: Path, *, error: type[CsmError], message: Callable[[str], str]) -> Path:
    """``path.resolve()``; a path that cannot be followed raises ``error(message(reason))``."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # Python 3.11 says RuntimeError("Symlink loop ...")
        raise error(message(_reason(exc))) from None


def resolve_path(base: Path, relpath: str | Path, *, where: str, inside: bool = True) -> Path:
    """The absolute path of ``relpath`` (relative to ``base``), checked before anything opens it.

    Parameters
    ----------
    base : Path
        The folder relative paths start from (the study folder).
    relpath : str or Path
        The path as the user wrote it.
    where : str
        Who named it, for the message: ``"study.yaml, key 'responses.file'"`` or ``"--out"``.
    inside : bool
        Refuse a path that leads out of ``base`` (``../``, an absolute path elsewhere).

    Raises
    ------
    ConfigError
        A NUL byte, a name over :data:`NAME_MAX` bytes or a path over :data:`PATH_MAX`, a
        symbolic link loop, or (with ``inside``) a path outside ``base``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> resolve_path(d, "answers.csv", where="key 'responses.file'") == (d / "answers.csv").resolve()
    True
    >>> resolve_path(d, "a" * 300 + ".csv", where="key 'responses.file'")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.ConfigError: key 'responses.file': the name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…aaaaaaaaaaaaaaaaaaaaaaaaaa.csv' is 304 bytes long, more than the 255 a file system allows — rename the file or folder to a shorter name
    """
    text = os.fspath(relpath)
    _check_text(text, where)
    p = Path(text).expanduser()
    def message(reason: str) -> str:
        return (f"{where}: the path {_show(text)} cannot be followed ({reason}) — it may be a symbolic link that "
                "points to itself: put the file itself there")

    full = _followed(p if p.is_absolute() else Path(base) / p, error=ConfigError, message=message)
    root = _followed(Path(base), error=ConfigError, message=message)
    if inside and full != root and root not in full.parents:
        raise ConfigError(f"{where}: path {text!r} points outside the study folder {root} — copy the file into "
                          "the study folder and give a relative path")
    try:
        full.lstat()
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"{where}: the path {_show(text)} is a symbolic link that points to itself — put "
                              "the file itself there") from None
        raise ConfigError(f"{where}: the path {_show(text)} cannot be checked ({_reason(exc)}) — check the "
                          "name and that the folder is readable") from None
    return full


def check_path_option(path: str | Path, *, option: str) -> Path:
    """A path given on the command line, checked before any command uses it: no NUL byte, no
    name over :data:`NAME_MAX` bytes, no symbolic link loop. Returns it made absolute.

    Examples
    --------
    >>> check_path_option("x" * 300, option="--notebooks")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.ConfigError: --notebooks: the name '...' is 300 bytes long, more than ...
    """
    text = os.fspath(path)
    _check_text(text, option)
    return _followed(Path(text).expanduser(), error=CsmError,
                     message=lambda reason: f"{option} {text}: the path cannot be followed ({reason}) — it may be a "
                                            "symbolic link that points to itself: give the file or folder itself")


def file_kind(path: Path) -> str:
    """What ``path`` is, in words: "a file", "a folder", "a named pipe", "a socket", "a device",
    "a broken symbolic link" or "missing" (never opens it, so a named pipe cannot block)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a broken symbolic link" if path.is_symlink() else "missing"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that points to itself"
        return f"unreadable ({_reason(exc)})"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def check_output_folder(path: str | Path, *, option: str) -> Path:
    """Check that ``path`` is, or can become, a folder we can write to; create nothing.

    An output folder that does not exist yet is created later by the writer, so the check
    walks up to the nearest part that exists: that must be a folder, and writable (tried
    with a temporary file, removed at once, since permissions alone do not tell about
    read-only mounts or access lists).

    Parameters
    ----------
    path : str or Path
        The folder given (``--out``, ``--dry-run``).
    option : str
        The option that named it, for the message.

    Returns
    -------
    Path
        ``path`` made absolute.

    Raises
    ------
    CsmError
        ``<option> <path>: <what is wrong> — <fix>``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_folder(d / "reports" / "2026", option="--out") == (d / "reports" / "2026").resolve()
    True
    >>> (d / "notes.txt").write_text("x")
    1
    >>> check_output_folder(d / "notes.txt", option="--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: --out ...notes.txt: this is a file, not a folder — give the name of a folder (it is created if missing), or move the file away
    """
    where = f"{option} {os.fspath(path)}"
    _check_text(os.fspath(path), option)
    full = _followed(Path(path).expanduser(), error=CsmError,
                     message=lambda reason: f"{where}: the path cannot be followed ({reason}) — give another folder")
    existing = full
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    kind = file_kind(existing)
    if kind != "a folder":
        if existing == full:
            raise CsmError(f"{where}: this is {kind}, not a folder — give the name of a folder (it is created if "
                           "missing), or move the file away")
        raise CsmError(f"{where}: {existing} is {kind}, so no folder can be made below it — give a folder "
                       "outside it")
    try:
        fd, probe = tempfile.mkstemp(prefix=".csm-write-test-", dir=existing)
    except OSError as exc:
        raise CsmError(f"{where}: cannot write in {existing} ({_reason(exc)}) — choose a folder you may write to, "
                       "or ask for write access") from None
    os.close(fd)
    os.unlink(probe)
    return full


def read_text_file(path: str | Path, *, what: str, hint: str, encoding: str = "utf-8-sig") -> str:
    """The text of a small file the user names (a YAML file), or one clear :class:`ConfigError`.

    Checked before it is opened: a name no file system can hold, a symbolic link loop, a
    folder, and a named pipe, socket or device (opening a named pipe would wait for ever).

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What it is, for the message ("study configuration", "distribution-list file").
    hint : str
        How to point at the right file ("check --lists").

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> read_text_file(d, what="study configuration", hint="check --study")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.ConfigError: ...: this is a folder, not a study configuration — check --study
    """
    text = os.fspath(path)
    _check_text(text, text[:80])
    kind = file_kind(Path(text))
    if kind == "missing":
        raise ConfigError(f"{text}: {what} not found — {hint}")
    if kind != "a file":
        raise ConfigError(f"{text}: this is {kind}, not a {what} — {hint}")
    try:
        return Path(text).read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{text}: not UTF-8 text ({exc.reason} at byte {exc.start}) — save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{text}: {what} cannot be read ({_reason(exc)}) — {hint}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
