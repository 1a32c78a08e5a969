"""Is an HTML page static and self-contained? The last check before a report or an index is written.

A report is read offline and sent by email: it may run no script and fetch nothing (every image
is a ``data:`` URI, every chart inline SVG). :func:`check_static_html` refuses a page with a
script, frame, form or plugin element, an SVG animation or ``foreignObject``, an event-handler
attribute, a script link (``javascript:``, ``vbscript:``, ``data:``, also when tabs, newlines or
an entity hide the scheme, as browsers read them), a resource attribute or a non-link ``href``
that points outside the page, a style that loads something, or a meta refresh; it names what
it found.

Two passes, one verdict
-----------------------
The check that names problems parses the page with the standard library's
:class:`html.parser.HTMLParser`, whose tokenizer is Python: 36 ms for the sample's stage-04
report (7,000 tags), two thirds of that report's export and 2.5 s of a 50-branch batch. So a
*screen* goes first: a dozen regular expressions, each led by a literal so that the regular
expression engine scans for it in C, over the lower-cased page (and, for ``url(``, over the page
with its character references resolved). Each one matches any text that one of the parser's
rules could object to, whatever tag or context it sits in: a ``<`` followed by the start of a
forbidden element's name; a quote, space or slash followed by ``on…=`` (an attribute name the
parser would read as an event handler with a value); a resource attribute whose value does not
plainly start with ``data:``, an ``href`` whose value does not plainly start with ``#``; any
``style=``; an ``http-equiv`` value that could be ``refresh``; any ``url(`` not followed by
``data:`` or ``#id)``; ``@import``. The whitespace a parser may skip is taken at its widest
where skipping more can only find more, and at its narrowest where it would excuse a value.
A page the screen passes is therefore one the parser passes too; any other page, even a
false alarm (a comment that says ``url(http://…)``, a link to a web page), goes to the parser,
which gives the verdict and the message. ``tests/test_static_html.py`` checks that implication on
thousands of generated pages built from the characters and words these rules turn on.

Examples
--------
>>> check_static_html('<p>ok</p><img src="data:image/png;base64,AAAA">')
>>> check_static_html('<img src="https://example.org/x.png">')
Traceback (most recent call last):
...
csm_helpers.core.errors.ReportError: report is not static: <img src='https://example.org/x.png'> loads a non-embedded resource
"""

from __future__ import annotations

import html
import html.parser
import re

from csm_helpers.core.errors import ReportError

__all__ = ["BAD_TAGS", "check_static_html", "passes_screen", "static_problems"]

#: Elements a static page may not contain (lower case, as the parser reports tag names): they
#: run code, embed another document, submit or fetch; SVG animation can turn a link into a
#: script link, ``foreignObject`` carries HTML, ``handler``/``listener`` are SVG Tiny's scripts.
BAD_TAGS = frozenset({"script", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "form", "input",
                      "button", "textarea", "select", "link", "animate", "animatemotion", "animatetransform", "set",
                      "foreignobject", "handler", "listener"})
#: Attributes whose value is a resource the browser fetches: only ``data:`` is embedded.
_RESOURCE_ATTRS = frozenset({"src", "srcset", "data", "poster", "background", "action", "formaction"})
#: ``href`` on these is a link the reader follows; on anything else (SVG ``use``, ``image``) a fetch.
_LINK_TAGS = frozenset({"a", "area"})
_SCRIPT_URL = re.compile(r"(?:javascript|vbscript|data):", re.I)
_EXTERNAL_URL = re.compile(r"url\((?!data:|#[\w-]+\))", re.I)  # neither embedded nor in the page
_STYLE_LOAD = re.compile(r"url\(|expression\(|@import", re.I)
_STYLE_SHEET_LOAD = re.compile(_EXTERNAL_URL.pattern + "|@import", re.I)
_URL_SPACE = "".join(map(chr, range(0x21)))  # what a browser strips before a URL's scheme


def _url_text(value: str) -> str:
    """A URL as a browser reads its scheme: tabs and newlines anywhere ignored, leading control
    characters and spaces stripped (WHATWG URL standard, "basic URL parser")."""
    return re.sub(r"[\t\n\r]", "", value.strip()).lstrip(_URL_SPACE)


class _StaticCheck(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BAD_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if value is None:  # a bare attribute names nothing and runs nothing
                continue
            text = value.strip()
            if name == "http-equiv" and text.lower() == "refresh":
                self.problems.append("meta refresh")
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name!r} on <{tag}>")
            if name in _RESOURCE_ATTRS and text and not text.lower().startswith("data:"):  # schemes ignore case
                self.problems.append(f"<{tag} {name}={text[:60]!r}> loads a non-embedded resource")
            if name in ("href", "xlink:href"):
                url = _url_text(text)
                if _SCRIPT_URL.match(url):
                    self.problems.append(f"<{tag} {name}={text[:60]!r}> is a script link")
                elif tag not in _LINK_TAGS and not url.lower().startswith(("#", "data:")):
                    self.problems.append(f"<{tag} {name}={text[:60]!r}> loads a non-embedded resource")
            if name == "style":
                if _STYLE_LOAD.search(text):
                    self.problems.append(f"<{tag} style> loads a resource")
            elif _EXTERNAL_URL.search(text):
                self.problems.append(f"<{tag} {name}={text[:60]!r}> refers outside the page")

    def handle_data(self, data: str) -> None:  # CSS inside <style>
        if self.lasttag == "style" and _STYLE_SHEET_LOAD.search(data):
            self.problems.append("stylesheet loads an external resource")


# The screen. Every pattern starts with a literal (the engine finds those in C) and runs on the
# lower-cased page. _NAME: before an attribute name the parser needs a quote, a space or a
# slash. The gap between a name and "=" is read widely (\s, Unicode: more matches), the gap
# before a value that would excuse it narrowly (ASCII white space: fewer excuses), and a value
# indicator is one "=" (a second one is part of the value, which then excuses nothing).
_NAME = r"""['"\s/]"""
_VALUE = r"""\s*+=(?![\t\n\r\f ]*+['"]?"""
_SCREEN = tuple(re.compile(p) for p in (
    "<(?:" + "|".join(sorted(BAD_TAGS - {"frameset", "animatemotion", "animatetransform"})) + ")",
    rf"on(?<={_NAME}on)[^\t\n\r\f />=]*+\s*+=",  # the parser's longest possible name, then "="
    rf"src(?<={_NAME}src)(?:set)?{_VALUE}data:)",
    *(rf"{a}(?<={_NAME}{a}){_VALUE}data:)" for a in ("data", "poster", "background")),
    rf"action(?:(?<={_NAME}action)|(?<={_NAME}formaction)){_VALUE}data:)",
    rf"href(?:(?<={_NAME}href)|(?<={_NAME}xlink:href)){_VALUE}#)",
    rf"style(?<={_NAME}style)\s*+=",
    rf"http-equiv(?<={_NAME}http-equiv){_VALUE}[a-qs-z])",  # a value that cannot start "refresh"
))
# values and text with their character references resolved (apart: one literal each is faster)
_SCREEN_RESOLVED = (re.compile(_EXTERNAL_URL.pattern), re.compile("@import"))


def passes_screen(page: str) -> bool:
    """True when no rule of :func:`check_static_html` could object to anything in ``page``
    (see the module's notes); False means "ask the parser", not "not static".

    Examples
    --------
    >>> passes_screen('<p class="a">Based on 40 answers</p><a href="#top">top</a>')
    True
    >>> passes_screen('<p>see url(https://example.org)</p>')  # a false alarm: the parser decides
    False
    """
    low = page.lower()
    if any(p.search(low) for p in _SCREEN + _SCREEN_RESOLVED):
        return False
    if "&" not in page:
        return True
    resolved = html.unescape(page).lower()
    return not any(p.search(resolved) for p in _SCREEN_RESOLVED)


def static_problems(page: str) -> list[str]:
    """Every problem the parser finds in ``page``, in the order found ([] for a static page);
    :func:`check_static_html` without the screen.

    Examples
    --------
    >>> static_problems('<p onclick="go()">x</p><use href="https://example.org/s.svg#a"/>')
    ["event handler attribute 'onclick' on <p>", "<use href='https://example.org/s.svg#a'> loads a non-embedded resource"]
    """
    checker = _StaticCheck()
    checker.feed(page)
    checker.close()
    return checker.problems


def check_static_html(body: str) -> None:
    """Raise :class:`ReportError` unless the HTML page is static and self-contained.

    Static means: no script, frame, form, plugin, SVG animation or ``foreignObject`` element, no
    event-handler attribute, no script link, and nothing fetched from outside the file (images
    are data URIs, ``url()`` references are ``data:`` or ``#id``). A page that passes the screen
    (:func:`passes_screen`) is static without being parsed.

    Examples
    --------
    >>> check_static_html('<svg><rect fill="url(#c1-fwd)"/></svg><a href="https://example.org">site</a>')
    >>> check_static_html('<a href="java&#9;script:alert(1)">x</a>')
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.ReportError: report is not static: <a href='java\\tscript:alert(1)'> is a script link
    """
    if passes_screen(body):
        return
    problems = static_problems(body)
    if problems:
        shown = "; ".join(sorted(set(problems))[:5])
        raise ReportError(f"report is not static: {shown}")
