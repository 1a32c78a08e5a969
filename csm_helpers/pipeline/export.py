"""Export an executed notebook to one static, self-contained HTML report (nbconvert ``csm_report`` template)."""

from __future__ import annotations

import contextlib
import functools
import html.parser
import re
import threading
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import nbformat

from csm_helpers.core.i18n import HTML_LANG, language, tr, translate_markdown
from csm_helpers.core.safety import escape, readable
from csm_helpers.core.static_html import check_static_html
from csm_helpers.present.charts.canvas import ATTRIBUTES, ELEMENTS
from csm_helpers.present.charts.fonts import TEXT_CSS, font_face_data
from csm_helpers.present.templates import NOT_COVERED_MIME, templates_dir

__all__ = ["export_html", "inline_charts", "move_not_covered", "prepare_report", "warm_exporter"]


# --------------------------------------------------------------------------- export
_IDLE: list[Any] = []  # report exporters not in use
_IDLE_LOCK = threading.Lock()
_MADE = [0]  # report exporters made by this process


def _new_exporter() -> Any:
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.embed_images = True  # the template leaves code and prompts out itself
    # The notebook is checked against the nbformat schema once, after the last preprocessor,
    # not after each of the dozen (most of them disabled): a tenth of a second per report.
    c.HTMLExporter.optimistic_validation = True
    return _report_exporter_class()(config=c, template_name="csm_report",
                                    extra_template_basedirs=[str(templates_dir())])


@contextlib.contextmanager
def _exporter() -> Iterator[Any]:
    """A configured report exporter for this thread's use only, made on first need and then
    kept for the next export (of any thread). nbconvert exporters are not documented as
    thread-safe, and ``csm batch`` exports from several threads: each export has one to itself.
    """
    with _IDLE_LOCK:
        exporter = _IDLE.pop() if _IDLE else None
    if exporter is None:
        exporter = _new_exporter()
        with _IDLE_LOCK:
            _MADE[0] += 1
    try:
        yield exporter
    finally:
        with _IDLE_LOCK:
            _IDLE.append(exporter)


def warm_exporter() -> None:
    """Make a report exporter ready now, so that the next export does not wait for it.

    nbconvert's set-up, the template's compilation and the first use of its filters take about
    0.4 s, once per process, and the first font subset of the charts 0.1 s (fontTools' import
    and the base font, :func:`~csm_helpers.present.charts.fonts.font_face_data`). ``csm run``
    and ``csm batch`` call this in a background thread while the kernel runs the first
    notebook, when the process has nothing else to do. Does nothing once the process has made
    one.

    Examples
    --------
    >>> warm_exporter()
    """
    with _IDLE_LOCK:
        if _MADE[0]:  # one is made already (in use or not)
            return
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("·")])
    export_html(nb, {"stage": "00_warm_up"})
    font_face_data("0")


#: The markdown cells rendered so far (nbconvert's filter, by source and options), and when a
#: markdown source may read a file (an image), so that its HTML is never kept.
_MARKDOWN: dict[tuple[Any, ...], str] = {}
_MARKDOWN_LOCK = threading.Lock()
_MARKDOWN_CELLS = 2048
_READS_FILES = re.compile(r"!\[|<img|<video|<audio|<source|<object|<embed|<iframe|src\s*=", re.I)


@functools.lru_cache(maxsize=_MARKDOWN_CELLS)
def _markdown_html(source: str) -> str:
    """nbconvert's plain markdown filter (no image is embedded, no file read), kept for the process."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(source)


@functools.cache
def _report_exporter_class() -> type:
    """nbconvert's HTMLExporter without its final pass over the page.

    ``HTMLExporter.from_notebook_node`` renders the template, then parses the whole page with
    BeautifulSoup to give images without an alt text a placeholder and to make code-input and
    output wrappers focusable, and writes the page out again. The csm_report template writes
    every image's alt text itself and has neither wrapper, so that pass changes nothing; it
    took 60 % of an export (a quarter of a second for a 700 KB report, on every report of a
    batch). This class renders the template as ``HTMLExporter`` does, filters and resources
    included, and returns the page as rendered (tests/test_report.py checks that it is the
    page nbconvert's own exporter gives, to the byte, once parsed and written out again).
    """
    from jinja2 import pass_context
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context: Any, source: str) -> str:
            # nbconvert's filter, kept for the process: a batch renders the same markdown cells
            # for every segment (a fifth of the template's time). Not for a cell with
            # attachments or images, whose rendering may read files.
            if context.get("cell", {}).get("attachments") or _READS_FILES.search(source):
                return HTMLExporter.markdown2html(self, context, source)
            key = (source, context.get("resources", {}).get("metadata", {}).get("path", ""), self.embed_images,
                   self.anchor_link_text, self.exclude_anchor_links, repr(sorted(self.lexer_options.items())))
            with _MARKDOWN_LOCK:
                html_text = _MARKDOWN.get(key)
            if html_text is None:
                html_text = HTMLExporter.markdown2html(self, context, source)
                with _MARKDOWN_LOCK:
                    if len(_MARKDOWN) >= _MARKDOWN_CELLS:
                        _MARKDOWN.clear()
                    _MARKDOWN[key] = html_text
            return html_text

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> tuple[str, Any]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code",
                                 self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


#: Cells a report never shows (papermill's parameters, cells the researcher marked), and cells
#: whose outputs it leaves out (``hide-output``: e.g. the metrics record).
_REMOVE_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell", "hide"}
_REMOVE_OUTPUT_TAGS = {"hide-output"}


def _strip_noise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop cells tagged parameters/hide/remove, outputs of ``hide-output`` cells, and stderr
    output (warnings are for the analyst's log)."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _REMOVE_CELL_TAGS:
            continue
        if cell.cell_type == "code":
            cell.outputs = [] if tags & _REMOVE_OUTPUT_TAGS else [
                o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        cells.append(cell)
    nb.cells = cells
    return nb


def _section_title(cell: Any) -> str | None:
    """The text of a markdown cell's ``## `` heading (a report section starts there), else None."""
    if cell.cell_type != "markdown":
        return None
    for line in cell.source.splitlines():
        if line.strip():
            return line[3:].strip() if line.startswith("## ") else None
    return None


def _is_not_covered(output: Any) -> bool:
    return NOT_COVERED_MIME in (output.get("data") or {})


def _has_content(output: Any) -> bool:
    """A figure, a table or text a reader sees (not a "not covered" note, not a log line)."""
    if output.get("output_type") not in {"display_data", "execute_result"} or _is_not_covered(output):
        return False
    return bool(output.get("data"))


def move_not_covered(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """Take out every section that shows only "not covered" notes (:func:`~csm_helpers.present.display.show_not_covered`)
    and end the notebook with one "Not covered by this study" section listing them.

    A section runs from a ``## `` heading to the next one. It is taken out, heading included,
    when its cells show at least one "not covered" note and nothing else (no table, figure or
    text); a section with other content keeps its note as a call-out. Returns the
    ``(section title, reason)`` pairs listed.

    Examples
    --------
    >>> from csm_helpers.present.templates import NOT_COVERED_MIME
    >>> nb = nbformat.v4.new_notebook()
    >>> note = nbformat.v4.new_output("display_data", data={"text/html": "<div>x</div>",
    ...                               NOT_COVERED_MIME: {"reason": "No complaint log (key 'complaints')."}})
    >>> code = nbformat.v4.new_code_cell("d.show_not_covered(...)", outputs=[note])
    >>> nb.cells = [nbformat.v4.new_markdown_cell("## Complaints"), code, nbformat.v4.new_markdown_cell("## Next")]
    >>> move_not_covered(nb)
    [('Complaints', "No complaint log (key 'complaints').")]
    >>> [c.cell_type + ": " + c.source for c in nb.cells]
    ['markdown: ## Next', 'markdown: ## Not covered by this study', 'code: ']
    """
    sections: list[list[Any]] = [[]]
    for cell in nb.cells:
        if _section_title(cell) is not None:
            sections.append([])
        sections[-1].append(cell)
    kept: list[Any] = []
    listed: list[tuple[str, str]] = []
    for cells in sections:
        title = _section_title(cells[0]) if cells else None
        outputs = [o for c in cells if c.cell_type == "code" for o in c.get("outputs", [])]
        notes = [o for o in outputs if _is_not_covered(o)]
        if title is not None and notes and not any(_has_content(o) for o in outputs):
            listed += [(title, str(o["data"][NOT_COVERED_MIME].get("reason", ""))) for o in notes]
        else:
            kept += cells
    nb.cells = kept
    if listed:
        items = "".join(f"<li><strong>{escape(title)}</strong>: {escape(reason)}</li>" for title, reason in listed)
        # fixed cell ids: the same notebook gives the same report, byte for byte
        nb.cells.append(nbformat.v4.new_markdown_cell("## " + tr("Not covered by this study"),
                                                      id="csm-not-covered-title"))
        note = tr("These sections need an input the study does not have; add it to study.yaml to cover them.")
        nb.cells.append(nbformat.v4.new_code_cell("", id="csm-not-covered", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": f'<p>{escape(note)}</p><ul class="csm-not-covered">{items}</ul>'})]))
    return listed


class _Headings(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[int, str, str]] = []
        self._current: list[Any] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"h2", "h3"} and self._current is None:
            ident = dict(attrs).get("id") or ""
            self._current = [int(tag[1]), ident, ""]
        elif tag == "a" and self._current is not None and "anchor-link" in (dict(attrs).get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._skip:
            self._skip -= 1
        elif tag in {"h2", "h3"} and self._current is not None:
            level, ident, text = self._current
            if ident and text.strip():
                self.items.append((level, ident, text.strip()))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None and not self._skip:
            self._current[2] += data


def _toc(nb: nbformat.NotebookNode) -> str:
    """The contents list: every ``##`` and ``###`` heading of the markdown cells, linked by the
    ids nbconvert gives them (rendered with nbconvert's own markdown filter)."""
    parser = _Headings()
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"^#{2,3} ", cell.source, re.M):
            parser.feed(_markdown_html(cell.source))
    if not parser.items:
        return ""
    out, open_li, open_sub = ["<ol>"], False, False
    for level, ident, text in parser.items:
        link = f'<a href="#{escape(ident)}">{escape(text)}</a>'
        if level == 3:
            if not open_li:  # a sub-heading before any section heading
                out.append("<li>")
                open_li = True
            if not open_sub:
                out.append("<ol>")
                open_sub = True
            out.append(f"<li>{link}</li>")
            continue
        if open_sub:
            out.append("</ol>")
            open_sub = False
        if open_li:
            out.append("</li>")
        out.append(f"<li>{link}")
        open_li = True
    if open_sub:
        out.append("</ol>")
    if open_li:
        out.append("</li>")
    out.append("</ol>")
    return "".join(out)


def _readable_meta(value: Any) -> Any:
    """Every text of the title block made readable (controls visible, long text cut); the
    template escapes it."""
    if isinstance(value, str):
        return readable(value, max_chars=300)
    if isinstance(value, dict):
        return {k: _readable_meta(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_readable_meta(v) for v in value]
    return value


_SVG = "{http://www.w3.org/2000/svg}"
_OWN_FONT = re.compile(r'<style class="csm-font">@font-face\{[^<>]*\}</style>')
_STYLES = {TEXT_CSS}


def _checked_chart(svg: str) -> str | None:
    """The markup of an SVG chart for inline use in a page, without its own font; None when
    it is not a chart the writer could have written (then the page shows it as an image,
    where no script can run)."""
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError:
        return None
    if root.tag != f"{_SVG}svg":
        return None
    for el in root.iter():
        tag = el.tag.removeprefix(_SVG)
        if tag not in ELEMENTS:
            return None
        for name, value in el.attrib.items():
            if name not in ATTRIBUTES or ("url(" in value and not re.fullmatch(r"url\(#[\w-]+\)", value)):
                return None
        if tag == "style" and (el.text or "") not in _STYLES and not (
                el.get("class") == "csm-font" and _OWN_FONT.fullmatch(f'<style class="csm-font">{el.text}</style>')):
            return None
    # its font and its text rules go to the page's head (one font for every chart; report.css)
    return _OWN_FONT.sub("", svg, count=1).replace(f"<style>{TEXT_CSS}</style>", "", 1)


def inline_charts(nb: nbformat.NotebookNode) -> str:
    """Prepare the notebook's SVG charts for the page, in place, and return the page's font.

    Each chart written by :mod:`csm_helpers.present.charts.canvas` (an ``image/svg+xml``
    output whose metadata names ``csm_chart``) is checked against the writer's elements and
    attributes, and loses the font and text rules it carries for JupyterLab (the page's head
    has them: one font subset for all its charts, returned as base64 WOFF, "" for a page
    without charts; the rules in ``report.css``), so that no ``<style>`` is left in the body. A
    chart that fails the check loses its ``csm_chart`` mark and is shown as an image.

    Examples
    --------
    >>> from csm_helpers.present.charts.canvas import Chart
    >>> c = Chart("demo"); _ = c.text(10, 10, "Fees"); c.finish()
    >>> out = nbformat.v4.new_output("display_data", data={"image/svg+xml": c.svg(font=True)},
    ...                              metadata={"image/svg+xml": c.metadata()})
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[out])])
    >>> font = inline_charts(nb)
    >>> len(font) > 1000, "csm-font" in nb.cells[0].outputs[0].data["image/svg+xml"]
    (True, False)
    """
    chars: set[str] = set()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            meta = output.get("metadata", {}).get("image/svg+xml") or {}
            if "image/svg+xml" not in data or not meta.get("csm_chart"):
                continue
            svg = data["image/svg+xml"]
            svg = "".join(svg) if isinstance(svg, list) else str(svg)
            checked = _checked_chart(svg)
            if checked is None:
                meta.pop("csm_chart", None)
                continue
            data["image/svg+xml"] = checked
            chars.update(str(meta.get("csm_chars", "")))
    return font_face_data("".join(chars)) if chars else ""


def prepare_report(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Turn an executed stage notebook into what the ``csm_report`` template renders, in place.

    ``nb.metadata.csm`` holds the title-block facts (``stage_title``, ``study``,
    ``organisation``, ``facts`` as (label, value) pairs, ``summary``, ``footer``, ``version``,
    ``language``). Cells tagged ``parameters``/``remove-cell``/``hide`` and stderr output are
    dropped; sections that only say "not covered" move to one list at the end
    (:func:`move_not_covered`); markdown and fixed labels are translated into the report
    language; every text of the title block is made readable; and the contents list is built
    from the headings (``nb.metadata.csm.toc``). Done once: a prepared notebook is left as it is.

    The template's preprocessor (:class:`csm_helpers.pipeline.nbconvert_route.CsmReportPreprocessor`)
    calls this, so that ``csm run`` and ``jupyter nbconvert --template csm_report`` give the
    same page.
    """
    meta = dict(nb.metadata.get("csm") or {})
    if meta.get("prepared"):
        return nb
    _strip_noise(nb)
    lang = meta.get("language", "en")
    with language(lang):
        move_not_covered(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = translate_markdown(cell.source)
        meta = {**meta, "labels": {k: tr(k) for k in ("Summary", "Top priorities", "About the data",
                                                      "Contents", "Chart")},
                "facts": [(tr(k), v) for k, v in meta.get("facts", [])]}
    meta = _readable_meta(meta)
    meta["chart_font"] = inline_charts(nb)
    meta["toc"] = _toc(nb)
    meta["html_lang"] = HTML_LANG.get(lang, "en")
    meta["prepared"] = True
    nb.metadata["csm"] = meta
    nb.metadata["title"] = f"{meta.get('stage_title', '')} — {meta.get('study', '')}"
    return nb


class _ExportCopy(nbformat.NotebookNode):
    """The copy of a notebook :func:`export_html` makes for one export, which nbconvert may
    change as it likes: its three defensive deep copies of it (the exporter's, the
    preprocessing's and the schema normalisation's) hand it back as it is. Together they were
    8 ms of the parent's time per report (0.4 s of a 50-branch batch)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _ExportCopy:
        return self


def export_html(nb: nbformat.NotebookNode, meta: dict[str, Any]) -> str:
    """Render an executed notebook to one self-contained, script-free HTML page.

    ``meta`` goes to the template's title block (see :func:`prepare_report`, which the
    template's preprocessor runs).
    """
    nb = _ExportCopy(nbformat.from_dict(nb))
    nb.metadata["csm"] = dict(meta)
    with _exporter() as exporter:
        body, _resources = exporter.from_notebook_node(nb)
    check_static_html(body)
    return body
