"""Report language: every label, heading and fixed sentence of a report comes from here.

A study's top-level ``language`` key (``en``, ``vi`` or ``zh``) picks the language of the
fixed text of its reports. The English text is written in the code itself (gettext style:
``_("Waiting time")``); the Vietnamese and Simplified Chinese translations live in one
catalog per language, ``csm_helpers/locales/<lang>.po`` (standard gettext PO files, read with
``polib``, so translators can use Poedit, Weblate or any PO editor). Markdown cells of the stage
notebooks are translated as whole cells at export time, with the cell's English source as the
message id.

Data never goes through the catalog: customer text, segment values and attribute labels are
shown as written. Numbers keep a decimal point in every language (a statistical report read
next to software output); dates are ISO 8601.

A message missing from a catalog falls back to English; the test suite checks that every
message the code, the notebooks and the template use has a translation in every catalog, and
that ``{placeholders}`` agree.

Examples
--------
>>> with language("zh"):
...     _("Segment")
'细分'
>>> _("Segment")
'Segment'
>>> with language("vi"):
...     _("{n:,} respondents", n=1200)
'1,200 người trả lời'
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "set_language", "get_language", "language", "tr", "_",
           "N_", "catalog", "translate_markdown"]

#: Report languages: code -> name of the language in that language.
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "zh": "简体中文"}
LANGUAGES = tuple(LANGUAGE_NAMES)
#: ``<html lang>`` values.
HTML_LANG = {"en": "en", "vi": "vi", "zh": "zh-Hans"}

_LOCALES = Path(__file__).resolve().parents[1] / "locales"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("csm_language", default="en")


def _check(lang: str) -> str:
    if lang not in LANGUAGE_NAMES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, but {lang!r} was passed")
    return lang


def set_language(lang: str) -> None:
    """Set the report language for this process (or this thread / task).

    Examples
    --------
    >>> set_language("en"); get_language()
    'en'
    """
    _current.set(_check(lang))


def get_language() -> str:
    """The current report language code."""
    return _current.get()


@contextlib.contextmanager
def language(lang: str) -> Iterator[str]:
    """Use ``lang`` inside a ``with`` block, then restore the previous language."""
    token = _current.set(_check(lang))
    try:
        yield lang
    finally:
        _current.reset(token)


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """Message id -> translation for ``lang`` (empty for English; fuzzy entries are skipped).

    Examples
    --------
    >>> catalog("en")
    {}
    >>> catalog("zh")["Contents"]
    '目录'
    """
    if _check(lang) == "en":
        return {}
    import polib

    po = polib.pofile(str(_LOCALES / f"{lang}.po"))
    return {e.msgid: e.msgstr for e in po if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}


def tr(text: Any, lang: str | None = None, /, **values: Any) -> str:
    """Translate ``text`` when the catalog knows it; otherwise return it unchanged.

    Safe to call on text that may already be translated or may be data: unknown text passes
    through as it is. With keyword ``values`` the (translated) text is filled in with
    :meth:`str.format` — the form the notebooks use, where ``_`` is IPython's last result.

    Examples
    --------
    >>> tr("Contents", "vi")
    'Mục lục'
    >>> tr("Hà Nội branch", "zh")
    'Hà Nội branch'
    """
    text = "" if text is None else str(text)
    lang = lang or _current.get()
    if lang == "en":
        return text.format(**values) if values else text
    found = catalog(lang).get(text)
    if found is None:
        _record_missing(text)
        found = text
    return found.format(**values) if values else found


def _record_missing(text: str) -> None:
    """With ``CSM_I18N_MISSING=FILE`` set, note text that had no translation (one JSON line each).

    ``tools/i18n_catalog.py`` uses this to find the fixed text only known at run time (table
    headers, values of helper tables); data passes through here too and is filtered there.
    """
    target = os.environ.get("CSM_I18N_MISSING")
    if not target or not text.strip() or not any(c.isascii() and c.isalpha() for c in text):
        return
    if any("\u3000" <= c <= "\u9fff" or "\u0100" <= c <= "\u024f" or "\u1e00" <= c <= "\u1eff"
           for c in text) or text in catalog(_current.get()).values():
        return  # already in the report language (Chinese characters, Vietnamese letters)
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(text, ensure_ascii=False) + "\n")


def N_(msgid: str) -> str:  # noqa: N802 - gettext's name for "mark for translation, translate later"
    """Mark a constant for the catalog without translating it now (translate with :func:`tr`)."""
    return msgid


def _(msgid: str, /, **values: Any) -> str:
    """Translate a message of the code and fill its ``{placeholders}`` (gettext's ``_``).

    Examples
    --------
    >>> _("{n:,} respondents", n=1200)
    '1,200 respondents'
    """
    text = tr(msgid)
    return text.format(**values) if values else text


def translate_markdown(source: str, lang: str | None = None) -> str:
    """A notebook markdown cell in the report language (the cell's English source is the message id).

    Examples
    --------
    >>> translate_markdown("## Unknown heading", "zh")
    '## Unknown heading'
    """
    found = catalog(lang or _current.get()).get(source.strip())
    return found if found else source
