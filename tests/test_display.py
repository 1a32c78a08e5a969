from __future__ import annotations

import html.parser

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from csm_helpers.present import display as d

HOSTILE = ['<script>alert(1)</script>', '<img src=x onerror="alert(1)">',
           '<a href="javascript:alert(1)">x</a>', '"><svg onload=alert(1)>', "=cmd|'/c calc'!A1"]


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(a for a, _ in attrs)


def parse(markup: str) -> Tags:
    p = Tags()
    p.feed(markup)
    return p


def test_table_escapes_cells_headers_caption_and_index():
    df = pd.DataFrame({h: [v] for h, v in zip(HOSTILE, HOSTILE, strict=True)}, index=["<b>i</b>"])
    markup = d.table_html(df, caption="<i>cap</i>", index=True)
    tags = parse(markup)
    assert set(tags.tags) <= {"div", "table", "caption", "thead", "tbody", "tr", "th", "td"}
    assert set(tags.attrs) <= {"class"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


def test_table_does_not_modify_input_and_formats_for_display_only():
    df = pd.DataFrame({"share": [0.123456, None], "n": [3, 4], "label": ["a", "b"]})
    before = df.copy()
    markup = d.table_html(df, formats={"share": d.fmt_pct})
    pd.testing.assert_frame_equal(df, before)
    assert "12%" in markup and "n/a" in markup
    assert '<td class="num">3</td>' in markup


def test_table_max_rows_and_rename():
    markup = d.table_html(pd.DataFrame({"x": range(10)}), max_rows=3, rename={"x": "Ex"})
    assert markup.count("<tr>") == 4  # header + 3
    assert "7 more rows" in markup and ">Ex<" in markup


@pytest.mark.parametrize("name", ["show_text", "show_callout"])
def test_text_helpers_escape(name, monkeypatch):
    captured = []
    monkeypatch.setattr(d, "_display", captured.append)
    getattr(d, name)(HOSTILE[1])
    assert "<img" not in captured[0]._repr_html_()
    assert "&lt;img" in captured[0]._repr_html_()


def test_quotes_trimmed_and_escaped(monkeypatch):
    captured = []
    monkeypatch.setattr(d, "_display", captured.append)
    d.show_quotes(["<script>x</script>" * 100, "ok"], limit=1, max_chars=50)
    markup = captured[0]._repr_html_()
    assert "<script>" not in markup and markup.count("blockquote") == 2 and "…" in markup


def test_show_text_rejects_unknown_tag():
    with pytest.raises(ValueError, match="tag must be one of"):
        d.show_text("x", tag="script")


def test_show_figure_embeds_png_and_closes(monkeypatch):
    captured = []
    monkeypatch.setattr(d, "_display", captured.append)
    fig, ax = plt.subplots()
    ax.set_title("What the reader sees")
    d.show_figure(ax)
    assert not plt.fignum_exists(fig.number)
    img = captured[0]
    assert img.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert img.metadata["alt"] == "What the reader sees"
    # shown at its physical size: PNG pixels at 120 dpi -> CSS px at 96 per inch, at most 6 in
    import io

    from PIL import Image
    with Image.open(io.BytesIO(img.data)) as im:
        assert img.metadata["width"] == round(im.width / 120 * 96)
    assert img.metadata["width"] <= (5.8 + 0.2) * 96 + 1  # the drawing plus its margin
    # the smallest text drawn, never under the 11 pt floor
    assert img.metadata["csm_text_pt"] >= 11


def test_chart_text_floor_and_width_apply_to_any_figure(monkeypatch):
    captured = []
    monkeypatch.setattr(d, "_display", captured.append)
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.set_title("A title that is far too long for a chart of five point eight inches, so it is wrapped")
    ax.text(0.5, 0.5, "tiny", fontsize=4)
    ax.set_xticks([0, 1], ["a", "b"], fontsize=6)
    d.show_figure(ax)
    meta = captured[0].metadata
    assert meta["csm_text_pt"] == 11
    assert meta["width"] <= (5.8 + 0.2) * 96 + 1


def test_figure_png_is_deterministic():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    assert d.figure_png(fig) == d.figure_png(fig)
    plt.close(fig)


def test_show_figure_counts_colliding_labels(monkeypatch):
    captured = []
    monkeypatch.setattr(d, "_display", captured.append)
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "first label")
    ax.text(0.52, 0.5, "second label")
    d.show_figure(ax)
    fig, ax = plt.subplots()
    ax.set_title("Apart")
    d.show_figure(ax)
    assert [c.metadata["csm_overlaps"] for c in captured] == [1, 0]
