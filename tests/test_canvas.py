"""The SVG chart writer (present.charts.canvas, present.charts.fonts) and how a report takes its
charts (pipeline.export.inline_charts). How wide Chromium draws the measured text is checked
in tests/test_browser.py."""

from __future__ import annotations

import re
import unicodedata
from xml.etree import ElementTree

import nbformat
import pytest
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_helpers.core.errors import ReportError
from csm_helpers.core.static_html import check_static_html
from csm_helpers.pipeline.export import export_html, inline_charts
from csm_helpers.present.charts import canvas, fonts
from csm_helpers.present.charts.canvas import ATTRIBUTES, ELEMENTS, PAD, Chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<img src=x onerror=alert(1)> & \"quotes\" ]]> \x07bell \u202eevil"


def _independent_width(text: str, size: float) -> float:
    """Advance widths read straight from the font file's hmtx table (not through ReportFont)."""
    font = TTFont(fonts.bundled_font())
    cmap, hmtx, upm = font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm
    return sum(hmtx[cmap[ord(ch)]][0] for ch in unicodedata.normalize("NFC", text)) * size / upm


# --------------------------------------------------------------------------- fonts
def test_width_is_the_sum_of_the_fonts_advance_widths():
    f = fonts.report_font()
    for text in ("Key drivers of overall satisfaction", "Sự đa dạng của sản phẩm", "手机应用的可靠性（成对）"):
        assert f.width(text, 14.0) == pytest.approx(_independent_width(text, 14.0), abs=1e-9)
    # decomposed Vietnamese (e + combining marks) is measured as its composed letters
    assert f.width(unicodedata.normalize("NFD", "Sự đa dạng"), 14) == pytest.approx(f.width("Sự đa dạng", 14))


WORDS = st.lists(st.sampled_from(["fees", "Waiting", "time", "x" * 30, "phí", "thủ tục", "问题", "解决速度", "（天）",
                                  "，", "。", "100%", "a", "—"]), min_size=1, max_size=14)


@settings(max_examples=200, deadline=None)
@given(words=WORDS, room=st.floats(40, 300))
def test_wrap_keeps_every_character_fits_and_never_starts_a_line_with_closing_punctuation(words, room):
    f = fonts.report_font()
    text = " ".join(words)
    lines = f.wrap(text, room, 14)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for i, line in enumerate(lines):
        if room >= 64:  # wider than the widest piece that may not be cut ("（天） ，", 4.3 em)
            assert f.width(line, 14) <= room + 1e-9, (line, room)
        if i:
            assert line[0] not in "），。%", lines


def test_wrap_cuts_to_max_lines_with_an_ellipsis():
    f = fonts.report_font()
    lines = f.wrap("one two three four five six", f.width("one two", 14), 14, max_lines=2)
    assert len(lines) == 2 and lines[1].endswith("...") and f.width(lines[1], 14) <= f.width("one two", 14)


def test_font_subset_is_deterministic_and_holds_the_glyphs_used(tmp_path):
    import base64
    import io

    data = fonts.font_face_data("Fees ₫ 手机")
    assert data == fonts.font_face_data("机手 ₫seeF")
    font = TTFont(io.BytesIO(base64.b64decode(data)))
    cmap = font.getBestCmap()
    assert {ord(c) for c in "Fees手机"} <= set(cmap)
    assert ord("Z") not in cmap  # a subset: only what is used
    assert len(data) < 20_000
    with pytest.raises(ValueError, match="base64"):
        fonts.font_face_rule("x) ; } body{background:url(http://evil")


# --------------------------------------------------------------------------- canvas
def _parse(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)  # well-formed XML, as an <img> of JupyterLab needs
    for el in root.iter():
        assert el.tag.removeprefix(SVG) in ELEMENTS, el.tag
        assert set(el.attrib) <= ATTRIBUTES, el.attrib
    return root


def test_customer_text_is_escaped_and_made_readable():
    c = Chart("demo")
    c.title([HOSTILE])
    c.text(PAD, 80, HOSTILE)
    c.finish()
    root = _parse(c.svg(font=True))
    shown = [t.text for t in root.iter(f"{SVG}text")]
    assert all("<img src=x onerror=alert(1)>" in s for s in shown)  # shown as text, never as markup
    assert all("␇bell" in s and "⟨U+202E⟩evil" in s for s in shown)  # controls visible
    assert root.find(f"{SVG}title").text.startswith("<img src=x")
    assert "onerror=alert" not in re.sub(r">[^<]*<", "><", c.svg(font=False))  # only in text content


def test_colours_hatches_and_anchors_are_checked():
    c = Chart("demo")
    with pytest.raises(ValueError, match="not a chart colour"):
        c.rect(0, 0, 1, 1, fill='red" onload="alert(1)')
    with pytest.raises(ValueError, match="hatch must be"):
        c.rect(0, 0, 1, 1, fill="#ffffff", hatch="<x>")
    with pytest.raises(ValueError, match="anchor"):
        c.text(0, 0, "x", anchor="left")


def test_text_boxes_sizes_and_overlaps():
    c = Chart("demo")
    a = c.text(100, 50, "Waiting time")
    b = c.text(110, 52, "Fees")
    c.text(100, 50, "over a bar", record=False)
    assert c.overlaps() == [("Waiting time", "Fees")]
    assert a.x1 - a.x0 == pytest.approx(_independent_width("Waiting time", 11 * 96 / 72))
    assert a.y1 - a.y0 == pytest.approx(11 * 96 / 72)  # one em: ascent + descent
    c.text(300, 200, "small", size=9)
    assert c.smallest_pt == 9
    c.finish()
    assert c.height == pytest.approx(max(t.y1 for t in c.texts) + PAD)
    assert b in c.texts and len(c.texts) == 3


def test_svg_is_deterministic_and_pattern_ids_differ_between_charts():
    def chart(label: str) -> str:
        c = Chart("demo")
        c.rect(10, 10, 50, 10, fill="#ffffff", edge="#000000", hatch="////")
        c.text(10, 40, label)
        c.finish()
        return c.svg(font=False)

    assert chart("a") == chart("a")
    ids_a = set(re.findall(r'id="([^"]+)"', chart("a")))
    ids_b = set(re.findall(r'id="([^"]+)"', chart("b")))
    assert ids_a and not ids_a & ids_b  # two charts on one page never share an id
    assert all(f"url(#{i})" in chart("a") for i in ids_a)


def test_font_per_chart_follows_the_setting():
    c = Chart("demo")
    c.text(10, 20, "Fees")
    c.finish()
    assert "@font-face" in c.svg(font=True) and "@font-face" not in c.svg(font=False)
    try:
        fonts.set_font_per_chart(False)
        assert "@font-face" not in c.svg()
        fonts.set_font_per_chart(True)
        assert "@font-face" in c.svg()
    finally:
        fonts.set_font_per_chart(True)


@pytest.mark.parametrize(("low", "high"), [(0, 47), (0, 1), (-3, 4), (0, 0.003), (12.5, 99.1), (0, 1e6)])
def test_nice_ticks_cover_the_range_with_round_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 3 <= len(ticks) <= 7
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
    assert round(mantissa, 9) in (1, 2, 2.5, 5)


def test_empty_chart_says_so():
    c = Chart("demo").empty("Key drivers: no attribute to show", "nothing to show")
    assert c.alt == "Key drivers: no attribute to show" and [t.text for t in c.texts][-1] == "nothing to show"
    assert canvas.CHART_WIDTH == 576


# --------------------------------------------------------------------------- the report's side
def _chart_output(svg: str, meta: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"image/svg+xml": svg, "text/plain": "chart"},
                                  metadata={"image/svg+xml": meta})


def _notebook(*outputs) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=list(outputs))])


def test_report_inlines_charts_with_one_page_font():
    charts = []
    for label in ("Fees", "Thủ tục", "手机"):
        c = Chart("demo")
        c.title([label])
        c.finish()
        charts.append(_chart_output(c.svg(font=True), c.metadata()))
    nb = _notebook(*charts)
    font = inline_charts(nb)
    assert font == fonts.font_face_data("FeesThủ tục手机")
    assert all("@font-face" not in o.data["image/svg+xml"] for o in nb.cells[0].outputs)
    page = export_html(nb, {"stage_title": "t", "study": "s"})
    check_static_html(page)
    assert page.count("@font-face{font-family:csmchart") == 1
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="csm-chart') == 3


@pytest.mark.parametrize("forged", [
    '<svg xmlns="http://www.w3.org/2000/svg" class="csm-chart"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" class="csm-chart" onload="alert(1)"></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil/x.svg#a)"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil/x.css);</style></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    "<svg not xml",
])
def test_a_forged_chart_is_shown_as_an_image_not_inlined(forged):
    nb = _notebook(_chart_output(forged, {"csm_chart": "demo", "csm_chars": "x"}))
    assert inline_charts(nb) == ""
    assert "csm_chart" not in nb.cells[0].outputs[0].metadata["image/svg+xml"]
    page = export_html(nb, {"stage_title": "t", "study": "s"})
    assert "<script>alert" not in page and "onload=" not in page and "foreignObject" not in page
    assert '<img alt="Chart" src="data:image/svg+xml;base64,' in page


def test_static_check_refuses_a_url_reference_outside_the_page():
    check_static_html('<svg><rect fill="url(#c1-fwd)"/></svg>')
    with pytest.raises(ReportError, match="refers outside the page"):
        check_static_html('<svg><rect fill="url(https://example.org/a.svg#p)"/></svg>')


def test_place_label_avoids_texts_and_markers_or_gives_up():
    c = Chart("demo")
    c.dot(200, 100, shape="diamond")
    c.text(206, 100, "taken on the right")
    box = c.place_label(200, 100, "Fees")
    assert box is not None and not any(box.collides(t, slack=0) for t in c.texts if t is not box)
    assert not any(box.collides(o, slack=0) for o in c.obstacles)
    assert box.x1 <= 200  # not on the right, where the text is: on the left
    crowded = Chart("demo")
    for dx in range(-80, 81, 8):
        for dy in range(-40, 41, 8):
            crowded.dot(200 + dx, 100 + dy, size=8)
    assert crowded.place_label(200, 100, "Fees") is None and crowded.texts == []


def test_shapes_lines_and_arrows_are_valid_chart_svg():
    c = Chart("demo")
    for i, shape in enumerate(("circle", "square", "triangle", "diamond")):
        c.dot(20 + 20 * i, 20, shape=shape, fill="#0072B2")
    c.polyline([(10, 50), (60, 40), (110, 70)], dash="4 3")
    c.polygon([(10, 80), (50, 80), (30, 100)], fill="#ffffff", hatch="xx")
    c.arrow(10, 120, 110, 120)
    c.arrow(5, 5, 5, 5)  # nothing to draw
    c.vertical_axis(60, 200, 150, 250, 0, 100, label="Share (%)", fmt="{:g}%")
    c.finish()
    root = _parse(c.svg(font=False))
    assert len(root.findall(f"{SVG}polygon")) == 4  # triangle, diamond, the shape, the arrow head
    with pytest.raises(ValueError, match="shape must be"):
        c.dot(0, 0, shape="hexagon")
    assert c.tick_room(0, 100, "{:g}%") == pytest.approx(c.measure("100%") + 4)
    star = Chart("demo")
    star.dot(50, 50, shape="star", size=10)
    points = [tuple(map(float, p.split(","))) for p in _parse(star.svg(font=False)).find(f"{SVG}polygon").get("points").split()]
    assert len(points) == 10 and max(abs(x - 50) for x, _ in points) <= 10 * 0.62 + 0.05


def test_text_on_a_background_patch_and_vertical_whiskers_and_dashed_arrows():
    c = Chart("demo")
    box = c.text(100, 50, "label", background="white")
    c.vwhisker(30, 80, 40)
    c.arrow(10, 100, 200, 100, dash="4 3")
    svg = c.svg(font=False)
    rect = re.search(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="white"/><text', svg)
    assert rect and float(rect.group(1)) == pytest.approx(box.x0 - 2, abs=0.06)
    assert float(rect.group(3)) == pytest.approx(box.x1 - box.x0 + 4, abs=0.1)
    assert 'stroke-dasharray="4 3"' in svg and re.search(r'<path d="M30 80V40M26.5 80H33.5', svg)


def test_axis_ticks_fit_their_room_and_counts_stay_whole():
    c = Chart("demo")
    wide = c.axis_ticks(0, 1_000_000, 500, "{:,.0f}")
    narrow = c.axis_ticks(0, 1_000_000, 120, "{:,.0f}")
    assert len(narrow) < len(wide) and narrow[-1] >= 1_000_000
    assert all(float(t).is_integer() for t in c.axis_ticks(0, 3, 300, integer=True))
    assert c.one_line("a label far too long for its room", 60).endswith(("…", "..."))


def test_the_base_font_is_kept_on_disk_and_read_back_the_same(tmp_path, monkeypatch):
    def fresh() -> None:
        fonts._base_font.cache_clear()
        fonts._face.cache_clear()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fresh()
    try:
        made = fonts._base_font()
        files = list((tmp_path / "csm-workbook").glob("base-font-*.otf"))
        assert len(files) == 1 and files[0].read_bytes() == made
        assert not list((tmp_path / "csm-workbook").glob(".*"))  # no part file left behind
        files[0].write_bytes(made)  # what a later run reads back
        fresh()
        assert fonts._base_font() == made
        css = fonts.font_face_data("Fees 12%")
        fresh()
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
        (tmp_path / "a-file").write_text("not a folder")  # a cache that cannot be used is not used
        assert fonts.font_face_data("Fees 12%") == css  # made afresh: the same bytes
    finally:
        fresh()


def test_the_advance_widths_are_kept_on_disk_and_read_back_the_same(tmp_path, monkeypatch):
    """A new kernel reads the report font's widths from the cache folder (a few ms), not from
    the font with fontTools (0.25 s); the numbers are the font's, checked with fontTools here
    through _independent_width."""
    texts = ("Key drivers of overall satisfaction", "Sự đa dạng của sản phẩm", "手机应用的可靠性（成对）")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made = fonts.ReportFont(fonts._font_path())
    files = list((tmp_path / "csm-workbook").glob("advances-*.u32"))
    assert len(files) == 1 and not list((tmp_path / "csm-workbook").glob(".*"))
    for bad in (None, b"", b"\x00" * 12, b"not four-byte words"):  # kept, empty, nonsense, broken
        if bad is not None:
            files[0].write_bytes(bad)
        read = fonts.ReportFont(fonts._font_path())
        assert read.units_per_em == made.units_per_em and read._units == made._units
        for text in texts:
            assert read.width(text, 14.0) == pytest.approx(_independent_width(text, 14.0), abs=1e-9)
        assert read.covers("问") and not read.covers("\U0001F600")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")  # a cache that cannot be used is not used
    assert fonts.ReportFont(fonts._font_path())._units == made._units


def test_font_subsets_made_in_parallel_threads_never_enter_fonttools_together(monkeypatch):
    """A run exports its stages in parallel threads, and each page cuts its own font subset.
    fontTools fills module tables on first use (the OS/2 Unicode ranges): a second thread that
    read them half filled failed with an IndexError (seen once in a few dozen ``csm run``). So
    fontTools is entered by one thread at a time, whatever the threads ask for."""
    import threading
    import time

    from fontTools import subset

    inside, most, guard = [0], [0], threading.Lock()
    real = subset.Subsetter.subset

    def slow_subset(self, font):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for every other thread to try to come in
        try:
            return real(self, font)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(subset.Subsetter, "subset", slow_subset)
    fonts._face.cache_clear()
    texts = [f"Fees {k} ₫" for k in range(6)]
    start = threading.Barrier(len(texts))
    results: dict[int, str] = {}

    def one(k: int) -> None:
        start.wait()
        results[k] = fonts.font_face_data(texts[k])

    try:
        threads = [threading.Thread(target=one, args=(k,)) for k in range(len(texts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert most[0] == 1 and len(results) == len(texts)
        monkeypatch.undo()
        fonts._face.cache_clear()
        assert all(results[k] == fonts.font_face_data(texts[k]) for k in range(len(texts)))
    finally:
        fonts._face.cache_clear()


def test_wrap_of_a_huge_label_keeps_every_character_or_says_it_cut():
    """A label of hundreds of thousands of characters (a pasted log in a free-text answer) is
    laid out in linear time: every line fits, nothing is lost, or the cut is marked."""
    f = fonts.report_font()
    text = "y" * 200_000
    lines = f.wrap(text, 200, 14)
    assert "".join(lines) == text and all(f.width(line, 14) <= 200 + 1e-9 for line in lines)
    one = f.wrap(" ".join(["word"] * 300_000), 200, 14, max_lines=2)
    assert len(one) == 2 and one[1].endswith("...") and f.width(one[1], 14) <= 200


def test_the_report_stylesheet_has_the_chart_text_rules():
    """The exporter takes each chart's text rules out of its SVG (no <style> in a page's body):
    report.css must hold the same ones, or the text would be drawn wider than measured."""
    from csm_helpers.present.templates import templates_dir

    css = (templates_dir() / "csm_report" / "static" / "report.css").read_text(encoding="utf-8")
    rule = re.search(r"svg\.csm-chart text \{([^}]*)\}", css)
    assert rule is not None
    wanted = {d.strip().replace(" ", "") for d in fonts.TEXT_CSS.removeprefix("text{").removesuffix("}").split(";")}
    have = {d.strip().replace(" ", "") for d in rule.group(1).split(";") if d.strip()}
    assert wanted <= have


def test_a_notebook_written_for_the_matplotlib_charts_still_shows_the_kpi_chart():
    """Before the SVG charts, plot_kpis, plot_kpi_change and plot_progress returned a list of
    Axes and the stage notebooks showed ``[0]``: a researcher's copy of such a notebook must
    still run and show the chart."""
    import pandas as pd

    from csm_helpers.present.charts import kpis as pk

    summary = pd.DataFrame({"kpi": ["csat"], "label": ["CSAT"], "value": [0.8], "ci_low": [0.75], "ci_high": [0.85],
                            "n": [400], "target": [0.82], "status": ["not met"], "suppressed": [False]})
    chart = pk.plot_kpis(summary)
    assert chart[0] is chart and chart[-1] is chart
    with pytest.raises(IndexError, match="one chart"):
        chart[1]
