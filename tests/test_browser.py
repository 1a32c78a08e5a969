"""Reports in a real headless browser (Debian's Chromium driven by Playwright).

Each report must render offline, make no network request, run no script, show its title
block, contents and charts, and print to A4 PDF.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    if os.environ.get("CI"):
        raise RuntimeError("chromium is required in CI (python3 dev.py test installs it)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def open_report(browser, path: Path):
    context = browser.new_context(java_script_enabled=True, viewport={"width": 1100, "height": 1400})
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return context, page, requests, errors


def report_files(out: Path) -> list[Path]:
    return sorted((out / "all").glob("*.html")) + [out / "index.html"]


def test_reports_render_offline_without_requests_or_script(browser, sample_run, tmp_path):
    out, _ = sample_run
    shots = Path(os.environ.get("CSM_SCREENSHOTS", tmp_path))
    for path in report_files(out):
        context, page, requests, errors = open_report(browser, path)
        external = [u for u in requests if not u.startswith(("file://", "data:"))]
        assert external == [], (path.name, external)
        assert page.evaluate("document.scripts.length") == 0
        assert errors == [], (path.name, errors)
        assert page.locator("h1").first.is_visible()
        # the report stylesheet applies from its first rule (the colour variables of :root)
        assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--ink')"
                             ".trim()") == "#1b1f24", path.name
        if path.name != "index.html":
            assert page.locator("nav.csm-toc li").count() >= 4
            assert page.locator("img, svg.csm-chart").count() >= 2
            # every image decoded (a broken data URI has naturalWidth 0)
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert page.locator("pre:has-text('Traceback')").count() == 0
        page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=False)
        context.close()


#: A4 at 96 px/in minus the report's @page margins (14 mm left/right, 15 + 16 mm top/bottom).
A4_CONTENT_WIDTH_PX = (210 - 28) / 25.4 * 96
A4_CONTENT_HEIGHT_PX = (297 - 31) / 25.4 * 96


def pdf_image_draws(pdf: bytes) -> int:
    """How many times images are painted in a PDF; an image cut by a page break is painted twice."""
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))

    def draws(content, resources) -> int:
        xobjects = resources.get("/XObject", {}) if resources else {}
        count = 0
        for operands, op in pypdf.generic.ContentStream(content, reader).operations:
            if op != b"Do":
                continue
            xobj = xobjects[operands[0]].get_object()
            if xobj["/Subtype"] == "/Image":
                count += 1
            elif xobj["/Subtype"] == "/Form":
                count += draws(xobj, xobj.get("/Resources"))
        return count

    return sum(draws(page.get_contents(), page["/Resources"]) for page in reader.pages)


#: The SVG charts, measured as the browser draws them (not from what the writer recorded):
#: each text's size as shown (CSS px, or pt when printed at 96 px an inch) at least ``floor``,
#: no two texts of a chart overlapping (horizontal extent as drawn; vertical: one em centred
#: on the line), no text outside its chart.
SVG_CHECKS = """
function svgChartProblems(floor, unit) {
  const out = [];
  for (const svg of document.querySelectorAll('svg.csm-chart')) {
    const name = (svg.querySelector('title') || {textContent: ''}).textContent.slice(0, 60);
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
    const boxes = texts.map(t => {
      const r = t.getBoundingClientRect(), em = parseFloat(getComputedStyle(t).fontSize) * scale;
      const mid = (r.top + r.bottom) / 2;
      return {left: r.left, right: r.right, top: mid - em / 2, bottom: mid + em / 2, em, text: t.textContent};
    });
    let smallest = Infinity;
    for (const b of boxes) smallest = Math.min(smallest, unit === 'pt' ? b.em * 72 / 96 : b.em);
    if (smallest < floor - 0.05) out.push(`chart text ${smallest.toFixed(1)} ${unit} < ${floor} ${unit}: ${name}`);
    for (const b of boxes)
      if (b.left < box.left - 0.5 || b.right > box.right + 0.5) out.push(`chart text outside its chart: "${b.text}" in ${name}`);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5)
        out.push(`chart labels overlap: "${a.text}" and "${b.text}" in ${name}`);
    }
  }
  return out;
}
"""


def print_layout_problems(page) -> list[str]:
    """Elements that would be cut when the page prints on A4 (checked in print media)."""
    page.emulate_media(media="print")
    page.set_viewport_size({"width": int(A4_CONTENT_WIDTH_PX), "height": 1100})
    return page.evaluate("""([maxW, maxH]) => {""" + SVG_CHECKS + """
      const out = svgChartProblems(11, 'pt');
      for (const svg of document.querySelectorAll('svg.csm-chart'))
        if (svg.getBoundingClientRect().height > maxH) out.push('chart taller than an A4 page');
      const docW = document.documentElement.clientWidth;
      for (const el of document.querySelectorAll('table, img, .csm-figure, .csm-tile, pre')) {
        const r = el.getBoundingClientRect();
        if (r.right > docW + 1) out.push(`${el.tagName} ${el.className} overflows the A4 width (${r.right} > ${docW})`);
      }
      for (const el of document.querySelectorAll('img, .csm-figure, tr, .csm-tile, .csm-callout')) {
        const b = getComputedStyle(el).breakInside;
        if (b !== 'avoid') out.push(`${el.tagName} ${el.className} may be split by a page break (${b})`);
      }
      for (const img of document.images) {
        if (img.getBoundingClientRect().height > maxH) out.push(`image taller than an A4 page: ${img.alt}`);
        // chart text as printed: its size in the figure scaled by the printed width (96 px per inch)
        const pt = parseFloat(img.dataset.textPt), w = parseFloat(img.getAttribute('width'));
        if (pt > 0 && w > 0 && pt * img.getBoundingClientRect().width / w < 11 - 0.05)
          out.push(`chart text under 11 pt in print: ${img.alt.slice(0, 60)}`);
      }
      for (const th of document.querySelectorAll('table.csm-table thead')) {
        if (getComputedStyle(th).display !== 'table-header-group') out.push('table header does not repeat');
      }
      return out;
    }""", [A4_CONTENT_WIDTH_PX, A4_CONTENT_HEIGHT_PX])


def test_reports_print_to_a4_pdf_without_cut_tables_or_charts(browser, sample_run, tmp_path):
    out, _ = sample_run
    for path in sorted((out / "all").glob("*.html")):
        context, page, _, _ = open_report(browser, path)
        assert print_layout_problems(page) == [], path.name
        n_images = page.evaluate("document.images.length")
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
        # every chart is painted exactly once: none is split across two pages
        assert pdf_image_draws(pdf) == n_images, path.name
        context.close()


def test_a4_checks_catch_a_cut_chart_and_a_too_wide_table(browser, tmp_path):
    """Negative control: the checks above do fail on a report that would print badly."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 3000), "grey").save(buf, format="PNG")
    tall = base64.b64encode(buf.getvalue()).decode()
    wide = "<table class='csm-table'><tr>" + "<td>wide-cell-text-that-does-not-wrap</td>" * 30 + "</tr></table>"
    path = tmp_path / "bad.html"
    path.write_text(f"<html><body><p>x</p><img style='width:600px;height:1800px' src='data:image/png;base64,{tall}'>"
                    f"<img width='900' data-text-pt='11' style='width:300px' alt='shrunk' src='data:image/png;base64,{tall}'>"
                    f"{wide}</body></html>", encoding="utf-8")
    context, page, _, _ = open_report(browser, path)
    problems = print_layout_problems(page)
    assert any("overflows the A4 width" in p for p in problems)
    assert any("taller than an A4 page" in p for p in problems)
    assert any("chart text under 11 pt in print: shrunk" in p for p in problems)
    assert pdf_image_draws(page.pdf(format="A4")) > 1
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_translated_reports_render_and_print(browser, translated_reports, lang, tmp_path):
    """Chinese and Vietnamese reports: fonts render (no tofu boxes), nothing fetched, A4 prints."""
    from csm_helpers.core.i18n import catalog

    out, _ = translated_reports[lang]
    shots = Path(os.environ.get("CSM_SCREENSHOTS", tmp_path))
    for path in sorted((out / "all").glob("*.html")):
        context, page, requests, errors = open_report(browser, path)
        assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
        assert errors == []
        assert page.locator("h2.csm-toc-title").inner_text() == catalog(lang)["Contents"]
        # glyph coverage: the heading's text is drawn at a real width by an installed font
        assert page.evaluate("document.fonts.check('12px \"Noto Sans CJK SC\"', '目录 Mục lục')")
        page.screenshot(path=str(shots / f"{lang}-{path.stem}.png"), full_page=False)
        assert print_layout_problems(page) == [], path.name
        n_images = page.evaluate("document.images.length")
        assert pdf_image_draws(page.pdf(format="A4", print_background=True)) == n_images
        context.close()


def test_index_fits_a_phone_without_sideways_scroll(browser, sample_run, tmp_path):
    """At 390 px the index is one card per segment: every KPI tile is on screen, no page scroll."""
    out, _proc = sample_run
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto((out / "index.html").as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tiles = page.locator(".csm-tile-value")
    assert tiles.count() == 3
    for i in range(3):
        box = tiles.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(tmp_path / "index-390.png"), full_page=True)
    context.close()


def test_hostile_text_stays_text_in_browser(browser, tmp_path):
    """A verbatim with markup and script is shown as text: nothing runs, nothing is fetched."""
    import nbformat
    import pandas as pd
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from csm_helpers.pipeline.export import export_html
    from csm_helpers.present.display import table_html

    hostile = ('<img src="http://127.0.0.1:9/x.png" onerror="document.title=\'pwned\'">'
               '<script>document.title="pwned"</script><a href="javascript:alert(1)">click</a>')
    cell = new_code_cell("x")
    cell.outputs = [new_output("display_data", data={"text/html": table_html(pd.DataFrame({"comment": [hostile]})),
                                                     "text/plain": "t"})]
    nb = new_notebook(cells=[new_markdown_cell("## Comments"), cell])
    page_html = export_html(nbformat.from_dict(nb), {"stage_title": hostile, "study": hostile, "facts": []})
    path = tmp_path / "hostile.html"
    path.write_text(page_html, encoding="utf-8")
    context, page, requests, errors = open_report(browser, path)
    assert page.title() != "pwned"
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert page.locator("img").count() == 0 and page.locator("a[href^='javascript']").count() == 0
    assert "document.title" in page.inner_text("td")
    context.close()


# --------------------------------------------------------------------------- phones (issue 13)
#: What a report must satisfy on a 390 px wide phone, checked in the page: no sideways page
#: scroll, every chart's smallest text at least 9 CSS px as shown, no chart whose labels collide
#: (an SVG chart measured as drawn: SVG_CHECKS; a researcher's PNG figure by the count made when
#: it was drawn, charts.style.text_overlaps), and the base n of every KPI tile the same as the
#: header's n.
PHONE_CHECKS = """() => {""" + SVG_CHECKS + """
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) out.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth} px`);
  for (const img of document.images) {
    const pt = parseFloat(img.dataset.textPt), w = parseFloat(img.getAttribute('width'));
    if (!(pt > 0) || !(w > 0)) { out.push(`chart without its text size and width: ${img.alt.slice(0, 60)}`); continue; }
    const px = pt * 96 / 72 * img.getBoundingClientRect().width / w;
    if (px < 9) out.push(`chart text ${px.toFixed(1)} px < 9 px: ${img.alt.slice(0, 60)}`);
    if (img.dataset.overlaps !== '0') out.push(`chart labels overlap (${img.dataset.overlaps}): ${img.alt.slice(0, 60)}`);
  }
  for (const problem of svgChartProblems(9, 'px')) out.push(problem);
  const facts = document.querySelector('dl.csm-facts[data-n]');
  for (const tile of document.querySelectorAll('.csm-tile[data-base]')) {
    if (!facts) { out.push('KPI tiles but no n in the header'); break; }
    if (tile.dataset.base !== facts.dataset.n) out.push(`tile base n ${tile.dataset.base} != header n ${facts.dataset.n}`);
    if (parseInt(tile.dataset.n) > parseInt(tile.dataset.base)) out.push(`tile n ${tile.dataset.n} > its base`);
  }
  return out;
}"""


def phone_problems(page) -> list[str]:
    return page.evaluate(PHONE_CHECKS)


def test_reports_fit_a_phone_with_legible_charts_and_one_n(browser, sample_run, tmp_path):
    """At 390 px every report and the index: no sideways scroll, chart text >= 9 px, one n.

    Screenshots at 390, 768 and 1,280 px (full page) and the analysis report as an A4 PDF go
    to $CSM_SCREENSHOTS when set (the closing note of issue 13 describes them)."""
    out, _proc = sample_run
    shots = Path(os.environ.get("CSM_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    for width in (390, 768, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for path in report_files(out):
            page.goto(path.as_uri(), wait_until="load")
            if width == 390:
                assert phone_problems(page) == [], path.name
            else:
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (path.name, width)
            page.screenshot(path=str(shots / f"{path.stem}-{width}.png"), full_page=True)
        context.close()
    # the header n is the tiles' base: the reported wave after the data-quality checks
    metrics = __import__("json").loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    context, page, _, _ = open_report(browser, out / "all" / "04_analysis.html")
    assert page.locator("dl.csm-facts").get_attribute("data-n") == str(metrics["n_reported"])
    assert page.locator(".csm-tile[data-base]").count() == 4  # CSAT, CSI, NPS and the satisfaction-model index
    # goal-setting and discovery come before the survey: no KPI tiles there
    for stage in ("01_goal_setting", "02_discovery"):
        page.goto((out / "all" / f"{stage}.html").as_uri())
        assert page.locator(".csm-tile").count() == 0, stage
    page.goto((out / "all" / "04_analysis.html").as_uri())
    page.emulate_media(media="print")
    (shots / "04_analysis.pdf").write_bytes(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
    context.close()


def test_phone_checks_catch_scroll_small_chart_text_and_a_second_n(browser, tmp_path):
    """Negative control: a page that scrolls, a chart whose text is 6 px on a phone or whose
    labels collide, and a tile whose base differs from the header's n are each reported."""
    import base64

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()
    path = tmp_path / "bad.html"
    path.write_text(
        "<html><head><meta name='viewport' content='width=device-width'></head><body>"
        "<dl class='csm-facts' data-n='1158'></dl><div class='csm-tile' data-n='1155' data-base='2400'></div>"
        f"<img alt='tiny' width='1000' data-text-pt='8' data-overlaps='2' style='width:100%' "
        f"src='data:image/png;base64,{png}'>"
        "<svg class='csm-chart' width='1000' height='100' viewBox='0 0 1000 100' style='width:100%;height:auto'>"
        "<title>bad svg</title><text x='10' y='50' font-size='14'>overlapping</text>"
        "<text x='20' y='52' font-size='14'>labels</text><text x='990' y='90' font-size='14'>cut off</text></svg>"
        "<table><tr>" + "<td>a-wide-cell-that-does-not-wrap</td>" * 20 + "</tr></table></body></html>",
        encoding="utf-8")
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(path.as_uri())
    problems = phone_problems(page)
    assert any("scrolls sideways" in p for p in problems)
    assert any("chart text" in p and "< 9 px" in p for p in problems)
    assert any("tile base n 2400 != header n 1158" in p for p in problems)
    assert any("chart labels overlap (2): tiny" in p for p in problems)
    # the SVG chart, measured as drawn: 14 px text on a 1,000 px sheet shrunk to the phone
    assert any(p.startswith("chart text 5.") and p.endswith("px < 9 px: bad svg") for p in problems), problems
    assert 'chart labels overlap: "overlapping" and "labels" in bad svg' in problems
    assert 'chart text outside its chart: "cut off" in bad svg' in problems
    context.close()


def test_email_reads_on_a_phone_with_its_attachments_under_the_limit(browser, sample_run, tmp_path):
    """The sample's e-mail: label subject, wave, tiles with change, priorities, caveats; the
    action register attached; under the size limit; no sideways scroll at 390 px."""
    from csm_helpers.delivery import parse_addresses, plan_messages, write_eml

    out, _proc = sample_run
    limit = 10_000_000
    plans = plan_messages(out, to=parse_addresses("manager@bank.vn"), max_size_mb=limit / 1_000_000)
    plan = next(p for p in plans if p.segment == "all")
    msg = plan.message
    assert plan.size <= limit and len(plan.wire_bytes()) == plan.size
    assert msg["Subject"] == "Retail banking satisfaction 2026 — All customers — 2026-H1 — CSM reports"
    names = [a.get_filename() for a in msg.iter_attachments()]
    assert "05_action_register.csv" in names and "04_analysis.html" in names
    csv_part = next(a for a in msg.iter_attachments() if a.get_filename() == "05_action_register.csv")
    assert csv_part.get_content_type() == "text/csv"
    html = msg.get_body(preferencelist=("html",)).get_content()
    metrics = __import__("json").loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    summary = metrics["summary"]
    for text in [summary["headline"], *summary["priorities"], *summary["caveats"],
                 *(t["value"] for t in summary["tiles"]), *(t["change"] for t in summary["tiles"])]:
        assert __import__("html").escape(text, quote=True) in html or text in html, text
    shots = Path(os.environ.get("CSM_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    body = tmp_path / "email.html"
    body.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 390, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(body.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    page.screenshot(path=str(shots / "email-390.png"), full_page=True)
    context.close()
    write_eml([plan], tmp_path / "outbox")  # the dry run writes the same message


# --------------------------------------------------------------------------- SVG charts (issue 14)
def test_svg_chart_text_is_drawn_as_wide_as_the_writer_measured_it(browser, tmp_path):
    """The writer lays a chart out from its own measurements (present.charts.fonts); Chromium,
    with the page's embedded font, must draw every text at that width: English, Vietnamese
    (composed and decomposed), Chinese with full-width punctuation, digits and signs."""
    from csm_helpers.present.charts.canvas import Chart
    from csm_helpers.present.charts.fonts import TEXT_CSS, font_face_css

    samples = ["Key drivers of overall satisfaction (R² = 0.49)", "Sự đa dạng của sản phẩm",
               __import__("unicodedata").normalize("NFD", "Thời gian chờ đợi"), "手机应用的可靠性（成对），95% 区间",
               "0% 5% 10% 15% 20% −3.5 ≥ 1,139", "Waiting time: AVAWAY fi fl ffi"]
    chart = Chart("measure")
    for i, text in enumerate(samples):
        chart.text(10, 30 + 40 * i, text, size=11 + i % 3)
    chart.finish()
    page_html = (f"<!doctype html><meta charset='utf-8'><style>{font_face_css(chart.chars)}</style>"
                 f"<body style='margin:0'>{chart.svg(font=False)}</body>")
    path = tmp_path / "measure.html"
    path.write_text(page_html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    assert page.evaluate("document.fonts.ready.then(() => [...document.fonts].filter("
                         "f => f.family === 'csmchart' && f.status === 'loaded').length)") == 1
    drawn = page.evaluate("[...document.querySelectorAll('svg text')].map(t => t.getComputedTextLength())")
    measured = [t.x1 - t.x0 for t in chart.texts]
    assert drawn == pytest.approx(measured, abs=0.5), list(zip(samples, drawn, measured, strict=True))
    assert TEXT_CSS in page_html
    context.close()
