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
            imgs = page.locator("img")
            assert imgs.count() >= 2
            # every image decoded (a broken data URI has naturalWidth 0)
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert page.locator("pre:has-text('Traceback')").count() == 0
        page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=False)
        context.close()


def test_reports_print_to_a4_pdf(browser, sample_run, tmp_path):
    out, _ = sample_run
    for path in sorted((out / "all").glob("*.html")):
        context, page, _, _ = open_report(browser, path)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
        context.close()


def test_hostile_text_stays_text_in_browser(browser, tmp_path):
    """A verbatim with markup and script is shown as text: nothing runs, nothing is fetched."""
    import nbformat
    import pandas as pd
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from csm_helpers.display import table_html
    from csm_helpers.report import export_html

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
