"""The HTML export: static, escaped, no code, no prompts, table of contents."""

from __future__ import annotations

import base64
import html.parser
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from csm_helpers.core.errors import ReportError
from csm_helpers.core.static_html import check_static_html
from csm_helpers.pipeline.export import export_html
from csm_helpers.pipeline.plan import segment_dirname
from csm_helpers.study.stages import stage_names

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()

META = {"stage_title": "02 · Discovery", "study": "<b>Study</b>", "organisation": "Org",
        "facts": [("Segment", "region=<x>"), ("n", "12")], "footer": "f", "version": "1"}


def executed_notebook():
    params = new_code_cell("study_path = ''", metadata={"tags": ["parameters"]})
    injected = new_code_cell("study_path = '/secret/path'", metadata={"tags": ["injected-parameters"]})
    code = new_code_cell("SECRET_CODE = 1\nprint('x')")
    code.outputs = [
        new_output("stream", name="stdout", text="<script>alert('stdout')</script>"),
        new_output("stream", name="stderr", text="DeprecationWarning: noise"),
        new_output("display_data", data={"text/html": "<table class='csm-table'><tr><td>ok</td></tr></table>",
                                         "text/plain": "t"}),
        new_output("display_data", data={"application/javascript": "alert('js')", "text/plain": "js"}),
        new_output("display_data", data={"image/png": PNG, "text/plain": "img"},
                   metadata={"image/png": {"alt": "Saturation <curve>"}}),
    ]
    hidden = new_code_cell("record()", metadata={"tags": ["hide-output"]})
    hidden.outputs = [new_output("stream", name="stdout", text="HIDDEN_OUTPUT")]
    return new_notebook(cells=[
        new_markdown_cell("# Discovery"), params, injected,
        new_markdown_cell("## First section\ntext"), code,
        new_markdown_cell("### Sub part"), new_markdown_cell("## Second & last"), hidden,
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


class Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.imgs = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))


@pytest.fixture(scope="module")
def page():
    return export_html(executed_notebook(), META)


def test_no_code_no_parameters_no_script(page):
    assert "SECRET_CODE" not in page and "/secret/path" not in page
    assert "study_path" not in page
    assert "HIDDEN_OUTPUT" not in page
    assert "DeprecationWarning" not in page
    c = Collect()
    c.feed(page)
    assert "script" not in c.tags and "link" not in c.tags and "iframe" not in c.tags
    assert "alert('js')" not in page
    assert "&lt;script&gt;alert" in page  # the stdout text is shown, escaped


def test_no_cdn_or_external_url(page):
    for needle in ("require.js", "mathjax", "MathJax", "cdnjs", "unpkg", "http://", "https://"):
        assert needle not in page, needle


def test_title_block_escaped_and_toc(page):
    assert "&lt;b&gt;Study&lt;/b&gt;" in page
    assert "region=&lt;x&gt;" in page
    toc = page.split("<nav", 1)[1].split("</nav>", 1)[0]
    assert "First section" in toc and "Sub part" in toc and "Second &amp; last" in toc
    assert "<li><a href=\"#First-section\">First section</a><ol><li>" in toc  # h3 nested in its h2


def test_image_embedded_with_alt(page):
    c = Collect()
    c.feed(page)
    assert len(c.imgs) == 1
    assert c.imgs[0]["src"].startswith("data:image/png;base64,")
    assert c.imgs[0]["alt"] == "Saturation <curve>"


def test_stylesheet_is_not_wrapped_twice(page):
    # a <style> inside a <style> turned the first rule (:root colour variables) into garbage
    assert not re.search(r"<style[^>]*>\s*<style", page)
    assert re.search(r"<style[^>]*>\s*/\* csm-workbook report stylesheet", page)


def test_print_css_and_csp(page):
    assert "@media print" in page and "size: A4" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize("bad", [
    "<script>x</script>", '<img src="http://e.org/a.png">', '<p onclick="x()">a</p>',
    '<a href="javascript:alert(1)">a</a>', "<iframe></iframe>", '<div style="background:url(http://x)">',
    "<style>@import 'http://x/y.css';</style>", '<link rel="stylesheet" href="http://x">',
    '<meta http-equiv="refresh" content="0;url=http://x">', '<object data="x.swf"></object>',
])
def test_static_check_rejects(bad):
    with pytest.raises(ReportError, match="report is not static"):
        check_static_html(bad)


def test_static_check_accepts_plain_and_data_uris():
    check_static_html('<p>a</p><img src="data:image/png;base64,AA"><a href="#x">x</a>'
                      '<style>.a{background:url(data:image/png;base64,AA)}</style>')


def test_segment_dirname_is_safe():
    assert segment_dirname("all") == "all"
    assert "/" not in segment_dirname("region=a/../../b")
    assert segment_dirname("region=Hà Nội") == "region=Hà_Nội"


def test_stages_found_in_order():
    stages = stage_names()
    assert stages[:2] == ["01_goal_setting", "02_discovery"]
    assert stages == sorted(stages)


def test_notebooks_committed_clean_with_parameters_cell():
    from csm_helpers.study.stages import notebooks_dir

    for stage in stage_names():
        nb = nbformat.read(notebooks_dir() / f"{stage}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), stage
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, stage
        for name in ("study_path", "segment", "output_dir"):
            assert f"{name}: str =" in tagged[0].source, (stage, name)


def test_a_kernel_that_dies_is_a_clear_error(monkeypatch, tmp_path):
    # issue 6: nbclient's DeadKernelError (out of memory, killed kernel) reached the user as a
    # traceback; it is a ReportError naming the notebook
    import papermill

    from csm_helpers.pipeline.execute import execute_stage
    from csm_helpers.study.stages import notebooks_dir

    def die(*_args, **_kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", die)
    nb = notebooks_dir() / "01_goal_setting.ipynb"
    with pytest.raises(ReportError, match=r"01_goal_setting\.ipynb: the notebook kernel stopped \(RuntimeError: "
                                          r"Kernel died before replying.*run again"):
        execute_stage(nb, tmp_path / "out.ipynb", {"study_path": "", "segment": "all", "output_dir": ""})


@pytest.mark.slow
def test_nbconvert_template_route_gives_the_csm_run_report(sample_run, tmp_path):
    """README's route: papermill, then `jupyter nbconvert --to html --template csm_report`.

    The template is installed where nbconvert finds it (share/jupyter/nbconvert/templates), and
    the page is the one `csm run` wrote, apart from the generation time: byte for byte once
    parsed and written out again, as nbconvert's own exporter does last (``csm run`` skips that
    pass, see test_the_page_is_nbconverts_own_without_its_reparse)."""
    import subprocess
    import sys

    import papermill
    from bs4 import BeautifulSoup

    from csm_helpers.study.datasets import sample_study_path
    from csm_helpers.study.stages import notebooks_dir

    out, _proc = sample_run
    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(str(notebooks_dir() / "05_action_progress.ipynb"), str(executed), cwd=str(notebooks_dir()),
                               parameters={"study_path": str(sample_study_path()), "segment": "all",
                                           "output_dir": str(tmp_path / "files")},
                               progress_bar=False, kernel_name="python3")
    proc = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--template", "csm_report",
                           str(executed)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    by_hand = (tmp_path / "executed.html").read_text(encoding="utf-8")
    by_run = str(BeautifulSoup((out / "all" / "05_action_progress.html").read_text(encoding="utf-8"),
                               features="html.parser"))
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert stamp.sub("<time>", by_hand) == stamp.sub("<time>", by_run)
    assert "<script" not in by_hand and "open_stage(" not in by_hand


def test_nbconvert_template_is_installed_for_jupyter():
    """The wheel puts the template in a Jupyter data folder, not only inside the package."""
    from jupyter_core.paths import jupyter_path

    found = [p for p in jupyter_path("nbconvert", "templates", "csm_report") if (Path(p) / "conf.json").is_file()]
    assert found, jupyter_path("nbconvert", "templates")
    conf = __import__("json").loads((Path(found[0]) / "conf.json").read_text(encoding="utf-8"))
    assert conf["preprocessors"]["500-csm-report"]["type"] == "csm_helpers.pipeline.nbconvert_route.CsmReportPreprocessor"


def test_the_page_is_nbconverts_own_without_its_reparse():
    """export_html skips HTMLExporter's last pass (BeautifulSoup: alt texts and tabindex on
    code and output wrappers, then the page written out again): for our template it changes
    nothing, so parsing and writing our page gives nbconvert's page to the byte."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from csm_helpers.present.templates import templates_dir

    c = Config()
    c.HTMLExporter.embed_images = True
    stock = HTMLExporter(config=c, template_name="csm_report", extra_template_basedirs=[str(templates_dir())])
    source = executed_notebook()  # (cell ids are random: one notebook for both)
    before = nbformat.writes(source)
    page = export_html(source, META)
    assert nbformat.writes(source) == before  # the export changes its own copy only
    nb = nbformat.from_dict(source)
    nb.metadata["csm"] = dict(META)
    body, _ = stock.from_notebook_node(nb)
    assert str(BeautifulSoup(page, features="html.parser")) == body
    assert page != body  # (the reparse does write the page differently: the test compares something)
    assert export_html(nbformat.from_dict(source), META) == page  # again, the markdown HTML kept from the first
    assert 'tabindex' not in body and 'No description has been provided' not in body


def test_an_exporter_made_ahead_is_the_one_the_next_export_uses(monkeypatch):
    """``csm run`` compiles the report template in a background thread while the kernel runs
    the first notebook (about 0.4 s less on a one-stage run). The export that follows, in
    another thread, takes that exporter instead of making one; exporters are never shared by
    two exports at once."""
    import threading

    from csm_helpers.pipeline import export
    from csm_helpers.pipeline.export import warm_exporter

    monkeypatch.setattr(export, "_IDLE", [])
    monkeypatch.setattr(export, "_MADE", [0])
    made = []
    real = export._new_exporter
    monkeypatch.setattr(export, "_new_exporter", lambda: made.append(1) or real())
    warming = threading.Thread(target=warm_exporter)
    warming.start()
    warming.join()
    assert len(made) == 1
    warm_exporter()  # once made, a warm-up does nothing
    nb = new_notebook(cells=[new_markdown_cell("# Drivers\n\nText.")])
    page = export_html(nb, {"stage": "04_analysis", "stage_title": "Analysis"})
    assert "Drivers" in page and len(made) == 1

    inside, most, guard = [0], [0], threading.Lock()
    render = export._report_exporter_class().from_notebook_node

    def counting(self, *a, **kw):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return render(self, *a, **kw)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(export._report_exporter_class(), "from_notebook_node", counting)
    pages = []
    threads = [threading.Thread(target=lambda: pages.append(export_html(nb, {"stage": "04_analysis"})))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(pages) == 4 and len(set(pages)) == 1
    assert len(made) >= most[0]  # exports at the same time each had an exporter of their own
    assert len(made) == len(export._IDLE)  # and every exporter made is back, ready for the next export
