"""Hostile customer text (issue 6): it must never become live markup, a request or a formula.

``tests/hostile_study.py`` puts every string of :data:`HOSTILE` into the comments and the
interview verbatims, and a chosen few (:data:`PLACED`) into segment values, attribute and
codebook labels, themes, a column name, the complaint log, the goals and the study's name;
a 1 MB comment, verbatim, segment value and complaint category come on top. ``csm run``
writes every report of that study once per module, then:

- every HTML page is parsed (``html.parser``): no script, frame, plugin, form, base, link,
  SVG or MathML element, no event-handler attribute, no ``javascript:`` or external URL, no
  ``<style>`` outside the template's head;
- the placed strings are readable as text (control characters and bidi overrides made
  visible, long text cut with a note), and no page exceeds 2 MB;
- every CSV cell is read back with :mod:`csv`: none starts with ``= + - @``, tab or CR
  (even after spaces or invisible characters) unless neutralised with ``'``;
- each page is opened in headless Chromium: nothing is requested, no dialog, no console
  message, ``window.__pwned`` stays unset and the document has no script.

The helpers are also checked one string at a time, without running notebooks.
"""

from __future__ import annotations

import csv
import html.parser
import os
import re
import shutil

import pandas as pd
import pytest

from csm_helpers.core.safety import MAX_CELL_CHARS, neutralise_formula, readable, to_safe_csv
from csm_helpers.present.charts.canvas import ATTRIBUTES, ELEMENTS
from csm_helpers.present.display import show_callout, show_quotes, show_text, table_html

from .conftest import run_cli
from .hostile_study import HOSTILE, LONG_NAME, PLACED, hostile_texts, write_hostile_study

BAD_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
                "textarea", "select", "base", "link", "svg", "math", "noscript", "video", "audio", "source"}
#: Inside a chart of the SVG writer (an <svg class="csm-chart ...">): only its elements and
#: attributes (HTML lower-cases their names), and no <style> (the page's head has the rules).
CHART_ELEMENTS = {e.lower() for e in ELEMENTS} - {"style", "svg"}
CHART_ATTRIBUTES = {a.lower() for a in ATTRIBUTES}
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "data", "poster", "background", "xlink:href"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INVISIBLE_LEAD = " \u00a0\u200b\u200c\u200d\u2060\ufeff"


class Inspect(html.parser.HTMLParser):
    """Everything a test needs to know about a page: live-markup problems and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.in_head = False
        self.head_styles = 0
        self.heading_depth = 0
        self.headings: list[str] = []
        self.in_chart = 0  # depth inside an <svg class="csm-chart">
        self.charts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.in_chart:
            self.in_chart += 1
            if tag not in CHART_ELEMENTS:
                self.problems.append(f"<{tag}> in a chart")
            if set(dict(attrs)) - CHART_ATTRIBUTES:
                self.problems.append(f"<{tag}> in a chart with {sorted(set(dict(attrs)) - CHART_ATTRIBUTES)}")
        elif tag == "svg" and (dict(attrs).get("class") or "").startswith("csm-chart "):
            self.in_chart, self.charts = 1, self.charts + 1
            if set(dict(attrs)) - CHART_ATTRIBUTES - {"xmlns"}:
                self.problems.append(f"<svg> with {sorted(set(dict(attrs)) - CHART_ATTRIBUTES - {'xmlns'})}")
            attrs = []
            tag = "chart"
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading_depth += 1
        if tag == "head":
            self.in_head = True
        if tag == "body":
            self.in_head = False
        if tag in BAD_ELEMENTS:
            self.problems.append(f"<{tag}>")
        if tag == "style":
            if self.in_head:
                self.head_styles += 1
            else:
                self.problems.append("<style> outside the head")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.problems.append("meta refresh")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES or name == "href":
                if re.match(r"(javascript|vbscript|https?|ftp|file):|//", value, re.I):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>")
                if name != "href" and value and not value.startswith("data:image/"):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}> is not embedded")
                if name == "href" and value and not value.startswith("#") and not re.match(
                        r"^[\w.=%-]+/[\w.-]+\.(html|json)$", value):  # index.html links to the reports
                    self.problems.append(f"<{tag} href={value[:40]!r}>")
            if name == "style" and re.search(r"url\(|expression\(|@import", value, re.I):
                self.problems.append(f"<{tag} style={value[:40]!r}>")

    def handle_endtag(self, tag: str) -> None:
        if self.in_chart:
            self.in_chart -= 1
        if tag == "head":
            self.in_head = False
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and self.heading_depth:
            self.heading_depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.heading_depth:
            self.headings.append(data)


def inspect(body: str) -> Inspect:
    page = Inspect()
    page.feed(body)
    page.close()
    return page


def shown(text: str) -> str:
    """The start of a hostile string as a reader sees it in a report."""
    return readable(text).strip()[:25]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    study = write_hostile_study(folder / "study")
    out = folder / "reports"
    proc = run_cli("run", "--study", str(study), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 6  # five stage reports and the index
    return out, {p: p.read_text(encoding="utf-8") for p in pages}


# --------------------------------------------------------------------------- whole reports
@pytest.mark.slow
def test_no_live_markup_in_any_report(hostile_run):
    _, pages = hostile_run
    for path, body in pages.items():
        page = inspect(body)
        assert page.problems == [], (path.name, sorted(set(page.problems))[:10])
        assert page.head_styles >= 1, path.name  # the template's own stylesheets, in the head only
        assert "\x00" not in body and not re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", body), path.name
        assert "\u202e" not in body, path.name
        # Markdown in the data is never rendered: no heading made of it (the study name and
        # title are headings by design, as text)
        assert not any("Injected heading" in h for h in page.headings), path.name
    # the charts were there, inline, and passed the checks above
    assert sum(inspect(body).charts for body in pages.values()) >= 10


@pytest.mark.slow
def test_placed_hostile_text_is_readable_as_text(hostile_run):
    _, pages = hostile_run
    text = "\n".join("".join(inspect(body).text) for body in pages.values())
    placed = {name for names in PLACED.values() for name in names}
    missing = [name for name in sorted(placed) if shown(dict(HOSTILE)[name]) not in text]
    assert missing == [], missing
    assert "q_speed\"><b onmouseover=" in text  # the hostile column name, as text
    # the visible markers of what could not be shown as is
    assert "⟨U+202E⟩gnp.exe" in text and "bell␇ escape␛[31m" in text and "before␀after" in text
    visible = [name for name, t in HOSTILE if shown(t) in text]  # the rest sit in comments not quoted
    assert len(visible) >= 0.6 * len(HOSTILE), sorted(set(dict(HOSTILE)) - set(visible))


@pytest.mark.slow
def test_long_text_is_cut_with_a_note_and_reports_stay_small(hostile_run):
    _, pages = hostile_run
    for path, body in pages.items():
        assert len(body.encode()) < 2_000_000, (path.name, len(body))
        assert "A" * 5000 not in body and "B" * (MAX_CELL_CHARS + 1) not in body, path.name
    analysis = next(body for path, body in pages.items() if path.name == "04_analysis.html")
    assert f"… [cut: {len(LONG_NAME):,} characters in all]" in analysis


@pytest.mark.slow
def test_csv_exports_neutralise_formulas(hostile_run):
    out, _ = hostile_run
    files = sorted(out.rglob("*.csv"))
    assert {p.name for p in files} == {"02_discovery_questionnaire.csv", "05_action_register.csv"}
    cells = 0
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    cells += 1
                    assert not cell.lstrip(INVISIBLE_LEAD).startswith(FORMULA_START), (path.name, cell[:40])
    assert cells > 50
    register = (out / "all" / "05_action_register.csv").read_text(encoding="utf-8-sig")
    assert "'\u200b=1+1" in register  # an attribute label that would have started a formula
    questionnaire = (out / "all" / "02_discovery_questionnaire.csv").read_text(encoding="utf-8-sig")
    assert "'@SUM(1+1)" in questionnaire  # a codebook label


@pytest.mark.slow
def test_metrics_json_holds_the_text_as_data(hostile_run):
    import json

    out, _ = hostile_run
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["study"] == dict(HOSTILE)["svg onload"]  # stored as given: JSON is data, not markup
    labels = {d["attribute"] for d in metrics["drivers"]}
    assert labels == {"quality", "speed", "friendly"}


# --------------------------------------------------------------------------- in the browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]


def _recorder(page_url: str, requests: list[str]):
    """A route handler that lets the page itself load and records (and blocks) anything else."""
    def handle(route, request):
        if request.url == page_url or request.url.startswith("data:"):
            route.continue_()
        else:
            requests.append(request.url)
            route.abort()
    return handle


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_reports_in_chromium_run_nothing_and_request_nothing(hostile_run):
    if not CHROMIUM:
        if os.environ.get("CI"):
            raise RuntimeError("chromium is required in CI")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    out, pages = hostile_run
    # the harness must be able to fail: the same strings unescaped, in a page without CSP
    control = out.parent / "control.html"
    control.write_text("<!DOCTYPE html><html><body>" + "".join(hostile_texts()[:12]) + "</body></html>",
                       encoding="utf-8")
    # and the reports must be inert on their own, not only because their CSP forbids requests
    bare = []
    for path, body in pages.items():
        copy = path.with_name(path.stem + ".no-csp.html")
        copy.write_text(re.sub(r"<meta[^>]*Content-Security-Policy[^>]*>", "", body), encoding="utf-8")
        assert "Content-Security-Policy" not in copy.read_text(encoding="utf-8")
        bare.append(copy)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for path in [control, *pages, *bare]:
                context = browser.new_context(java_script_enabled=True)
                page = context.new_page()
                requests, events = [], []
                context.route("**/*", _recorder(path.as_uri(), requests))
                page.on("dialog", lambda d, events=events: (events.append(f"dialog {d.message}"), d.dismiss()))
                page.on("console", lambda m, events=events: events.append(f"console {m.type}: {m.text}"))
                page.on("pageerror", lambda e, events=events: events.append(f"error {e}"))
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_timeout(300)  # let any onload/onerror handler fire
                if path == control:
                    assert requests and not page.evaluate("window.__pwned === undefined"), "harness is blind"
                    context.close()
                    continue
                assert requests == [], (path.name, requests[:5])
                assert events == [], (path.name, events[:5])
                assert page.evaluate("window.__pwned === undefined"), path.name
                assert page.evaluate("document.scripts.length") == 0, path.name
                assert page.evaluate("document.querySelectorAll('iframe,object,embed,form,base').length") == 0
                # the only SVG is the chart writer's, holding no foreign element and no handler
                assert page.evaluate("[...document.querySelectorAll('svg')].every(s => s.matches('svg.csm-chart') &&"
                                     " !s.querySelector('foreignObject,script,a,image,use,iframe') &&"
                                     " ![...s.querySelectorAll('*')].some(e => [...e.attributes]"
                                     ".some(a => a.name.startsWith('on'))))"), path.name
                assert page.locator("h1").first.is_visible()
                context.close()
        finally:
            browser.close()


# --------------------------------------------------------------------------- one string at a time
def _displayed(func, *args, **kwargs) -> str:
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401 - display needs IPython

    captured = []
    import csm_helpers.present.display as display

    original = display._display
    display._display = lambda obj: captured.append(obj._repr_html_())
    try:
        func(*args, **kwargs)
    finally:
        display._display = original
    return "".join(captured)


@pytest.mark.parametrize("name,text", HOSTILE, ids=[n for n, _ in HOSTILE])
def test_each_hostile_string_is_inert_in_every_display_helper(name, text):
    frame = pd.DataFrame({text: [text, 1.5], "n": [3, 4]})
    fragments = [
        table_html(frame, caption=text),
        _displayed(show_text, text),
        _displayed(show_callout, text),
        _displayed(show_quotes, [text]),
    ]
    for fragment in fragments:
        page = inspect(fragment)
        assert page.problems == [], (name, page.problems)
        assert shown(text) in "".join(page.text), (name, fragment[:200])


@pytest.mark.parametrize("name,text", HOSTILE, ids=[n for n, _ in HOSTILE])
def test_each_hostile_string_is_inert_in_a_csv_export(name, text, tmp_path):
    path = to_safe_csv(pd.DataFrame({text: [text, f"ok {text}"]}), tmp_path / "x.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 3, (name, rows)
    for cell in (c for row in rows for c in row):
        assert not cell.lstrip(INVISIBLE_LEAD).startswith(FORMULA_START), (name, cell)
    assert rows[2][0] == f"ok {text}"  # text that is not a formula comes back unchanged
    assert rows[1][0] in (text, "'" + text)
    assert (rows[1][0] == "'" + text) == (neutralise_formula(text) != text)


def test_hostile_strings_tried():
    texts = hostile_texts()
    assert len(texts) == len(set(texts)) >= 40
