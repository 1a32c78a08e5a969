"""Exceptions raised by csm-workbook.

Every error a user can cause (a bad config, a broken data file, an answer outside its
scale) is a :class:`CsmError`. The ``csm`` command line catches these, prints the message
and exits with status 1 without a traceback; anything else is a bug and keeps its
traceback (use ``--debug`` to see the traceback of a ``CsmError`` too).

Messages follow one pattern: *what* is wrong, *where* (file, row, column or config key),
what was found, what is allowed, and the fix.
"""

from __future__ import annotations

__all__ = [
    "is_user_error_name",
    "CsmError",
    "ConfigError",
    "UsageError",
    "DataError",
    "DataFileError",
    "ReportError",
    "format_rows",
    "headline",
]


class CsmError(Exception):
    """Base class of every error caused by the user's input rather than by a bug.

    Raised when a study cannot be processed as given; the message says what to fix.
    """


class ConfigError(CsmError):
    """Raised when ``study.yaml`` (or a YAML file it names) is missing, unreadable or invalid."""


class UsageError(CsmError):
    """Raised when a command-line option has a value that cannot work (``--stages 07``): the
    command was used wrongly, so ``csm`` exits with status 2, as argparse does for its own checks."""


class DataFileError(CsmError):
    """Raised when a data file cannot be read at all (missing, empty, wrong format, truncated)."""


class DataError(CsmError):
    """Raised when a data file was read but its content breaks the study's rules.

    ``problems`` holds one message per problem found, so that a user can fix them all in
    one pass instead of one per run.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class ReportError(CsmError):
    """Raised when a report cannot be produced (a notebook failed, the output is not writable)."""


def is_user_error_name(name: str) -> bool:
    """True when ``name`` is the class name of :class:`CsmError` or of one of its subclasses.

    An error raised inside a notebook kernel reaches the runner as its class name only
    (papermill's ``ename``); this tells the runner that it is the user's input, not a bug.
    Subclasses defined anywhere count, so a new user-error class needs no registration.

    Examples
    --------
    >>> is_user_error_name("DataFileError"), is_user_error_name("KeyError")
    (True, False)
    """
    todo, names = [CsmError], set()
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return name in names


def format_rows(rows: list[int] | object, *, limit: int = 5) -> str:
    """Format row numbers for a message: ``"rows 12, 40, 41 (+3 more)"``.

    Parameters
    ----------
    rows : list of int
        Row numbers as the user sees them in the file (1-based, header counted).
    limit : int
        How many to list before summarising the rest.

    Examples
    --------
    >>> format_rows([3, 4])
    'rows 3, 4'
    >>> format_rows([7])
    'row 7'
    >>> format_rows(list(range(2, 12)), limit=3)
    'rows 2, 3, 4 (+7 more)'
    """
    rows = [int(r) for r in rows]  # type: ignore[union-attr]
    head = ", ".join(str(r) for r in rows[:limit])
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {head}{more}"


def headline(message: str, *, limit: int = 300) -> str:
    """An error message on one line, for a summary that has room for one (``csm batch``'s
    progress and final lines): the first line, and the first listed problem when the first line
    only announces them — so the column or key the fix is about is always named.

    Examples
    --------
    >>> headline("key drivers: a correlation cannot be computed — see below\\n  - column 'perf_fees' has "
    ...          "no variance\\n  - column 'perf_app' has no variance")
    "key drivers: a correlation cannot be computed — see below: column 'perf_fees' has no variance (and 1 more)"
    >>> headline("answers.csv: file not found")
    'answers.csv: file not found'
    """
    lines = [ln for ln in str(message).splitlines() if ln.strip()]
    if not lines:
        return ""
    text = lines[0].strip()
    problems = [ln.strip()[2:] for ln in lines[1:] if ln.lstrip().startswith("- ")]
    if problems:
        text += f": {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"
