"""Report languages (en, vi, zh): the catalogs, the switch, fonts, and whole translated runs."""

from __future__ import annotations

import html.parser
import json
import re
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import polib
import pytest

from csm_helpers.core import i18n
from csm_helpers.core.i18n import _, catalog, language, tr

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "csm_helpers" / "locales"
sys.path.insert(0, str(ROOT / "tools"))
import i18n_catalog  # noqa: E402


def test_catalog_check_passes_every_message_translated_with_matching_placeholders():
    """Every message of the code, notebooks and template has a vi and a zh translation."""
    assert i18n_catalog.main(["check"]) == 0


def test_catalogs_are_well_formed_po_files():
    for lang in ("vi", "zh"):
        po = polib.pofile(str(LOCALES / f"{lang}.po"))
        assert po.percent_translated() == 100
        assert len(po) > 300
        # a translation is not the English text copied (a few symbols and names excepted)
        same = [e.msgid for e in po if e.msgstr == e.msgid and re.search(r"[a-z]{4,}", e.msgid)]
        assert len(same) < 0.05 * len(po), same[:20]


def test_the_extractor_finds_messages_and_flags_untranslatable_fstrings():
    found, problems = i18n_catalog.scan_code(
        'd.show_callout("Hello")\nd.show_table(t, caption=f"By {c}")\nx = _("A {n}", n=1)\n'
        'y = N_("Word")\nz = tr("One" if ok else "Two")', "x.py")
    assert set(found) == {"Hello", "A {n}", "Word", "One", "Two"}
    assert len(problems) == 1 and "x.py:2" in problems[0]


def test_placeholder_mismatch_is_reported(tmp_path, monkeypatch):
    assert i18n_catalog._fields("{n:,} of {total}") == {"n", "total"}
    assert i18n_catalog._fields("{oops") == {"<unbalanced braces>"}


def test_switching_language_and_fallbacks():
    assert _("Contents") == "Contents"
    with language("zh"):
        assert _("Contents") == catalog("zh")["Contents"] != "Contents"
        with language("vi"):
            assert _("Contents") == catalog("vi")["Contents"]
        assert i18n.get_language() == "zh"
        assert tr("Hà Nội — not a message") == "Hà Nội — not a message"  # data passes through
    assert i18n.get_language() == "en"
    with pytest.raises(ValueError, match="en, vi, zh"):
        i18n.set_language("fr")


def test_formatting_uses_the_translation_with_named_placeholders():
    with language("vi"):
        text = _("{n:,} respondents", n=1234)
    assert "1,234" in text and "respondents" not in text


def test_markdown_cells_translate_as_whole_cells():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "04_analysis.ipynb", as_version=4)
    md = next(c.source for c in nb.cells if c.cell_type == "markdown")
    with language("zh"):
        out = i18n.translate_markdown(md)
    assert out != md and out.lstrip().startswith("#")
    assert i18n.translate_markdown(md) == md  # English: unchanged


def test_english_tables_unchanged_and_chinese_headers_translated():
    import pandas as pd

    from csm_helpers.present.display import table_html

    t = pd.DataFrame({"attribute": ["Waiting time"], "quadrant": ["Concentrate here"], "ci_low": [0.2]})
    en = table_html(t)
    assert "CI low" in en and "Concentrate here" in en
    with language("zh"):
        zh = table_html(t)
    assert catalog("zh")["Concentrate here"] in zh and "Concentrate here" not in zh
    assert "Waiting time" in zh  # data (the attribute label) is shown as written


def test_bundled_font_draws_chinese_and_vietnamese_without_missing_glyphs():
    from csm_helpers.present.charts.style import bundled_font, set_report_style

    assert bundled_font() is not None
    set_report_style()
    fig, ax = plt.subplots()
    ax.set_title("客户满意度 — Mức độ hài lòng của khách hàng: Đà Nẵng, ưu tiên")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"style", "script"}:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in {"style", "script"}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_translated_run_leaves_no_fixed_english_text(translated_reports, lang):
    out, missing = translated_reports[lang]
    recorded = i18n_catalog._recorded([str(missing)], i18n_catalog._sample_data_strings()) if missing.exists() else {}
    assert sorted(recorded) == []
    pages = sorted((out / "all").glob("*.html"))
    assert len(pages) == 5
    for page in pages:
        body = page.read_text(encoding="utf-8")
        assert f'<html lang="{i18n.HTML_LANG[lang]}">' in body
        p = _Text()
        p.feed(body)
        text = "\n".join(p.parts)
        for fixed in ("Contents", "About the data", "Methods appendix", "Segment"):
            assert fixed not in p.parts, (page.name, fixed)
        assert catalog(lang)["Contents"] in text
    index = _Text()
    index.feed((out / "index.html").read_text(encoding="utf-8"))
    assert f'<html lang="{i18n.HTML_LANG[lang]}">' in (out / "index.html").read_text(encoding="utf-8")
    for fixed in ("Segment", "Reports", "Reports by segment", "Analysis", "met", "not met"):
        assert fixed not in index.parts, ("index.html", fixed)
    assert catalog(lang)["Reports by segment"] in index.parts
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["generated_with"]["parameters"]["language"] == lang
    # metrics.json is a machine contract: it stays English whatever the report language
    assert {q["quadrant"] for q in metrics["ipa"]} <= {"Concentrate here", "Keep up the good work",
                                                       "Low priority", "Possible overkill"}


def _visible(page: str) -> list[str]:
    p = _Text()
    p.feed(page)
    return p.parts


def test_index_of_a_failed_and_suppressed_batch_in_chinese(tmp_path):
    """The index's own text (headers, batch line, failures, suppression reasons) follows the language."""
    from csm_helpers.pipeline.index import write_index

    (tmp_path / "batch.json").write_text(json.dumps({
        "by": "region", "min_cell_size": 5,
        "segments": [{"segment": "region=North", "dir": "region=North", "status": "failed", "error": "boom"},
                     {"segment": "region=South", "dir": "region=South", "status": "pending"}],
        "suppressed": [{"segment": "region=East", "dir": "region=East", "reason": "primary"},
                       {"segment": "region=West", "dir": "region=West", "reason": "complementary"}]}),
        encoding="utf-8")
    for lang in ("zh", "vi"):
        page = write_index(tmp_path, title="Khảo sát <2026>", lang=lang).read_text(encoding="utf-8")
        parts = _visible(page)
        text = "\n".join(parts)
        assert f'<html lang="{i18n.HTML_LANG[lang]}">' in page
        assert "Khảo sát <2026>" in parts  # the title is data: escaped, not translated
        assert tr("Suppressed segments", lang) in parts
        assert tr("failed: {error}", lang, error="boom") in text
        assert tr("fewer respondents than the minimum cell size ({min_n})", lang, min_n=5) in text
        for english in ("Segment", "Reports", "Suppressed segments", "failed: boom", "Batch by",
                        "complementary suppression", "not run (the batch was interrupted)"):
            assert english not in text, (lang, english)
    assert "Suppressed segments" in _visible(write_index(tmp_path, title="t").read_text(encoding="utf-8"))


def test_email_summary_follows_the_language_of_the_reports(tmp_path):
    """``csm send``: body (HTML and text) and default subject in the language metrics.json records."""
    from csm_helpers.delivery import SegmentReports, build_message, parse_addresses

    folder = tmp_path / "region=Hà Nội"
    folder.mkdir()
    report = folder / "04_analysis.html"
    report.write_text("<p>" + "x" * 40_000 + "</p>", encoding="utf-8")
    metrics = {"study": "Ngân hàng", "n": 120, "generated_with": {"parameters": {"language": "vi"}},
               "kpis": {"nps": {"value": 12.0, "ci_low": 1.0, "ci_high": 20.0, "n": 120, "target": 30,
                                "met": False},
                        "csi": {"suppressed": True, "n": 3, "target": 70}}}
    seg = SegmentReports("region=Hà Nội", folder, metrics, [report])
    out = build_message(seg, recipients=parse_addresses("a@example.com"), max_bytes=20_000)
    assert out.message["Subject"] == tr("{study} — {segment} — CSM reports", "vi",
                                        study="Ngân hàng", segment="Region: Hà Nội")
    html_body = out.message.get_body(("html",)).get_content()
    text_body = out.message.get_body(("plain",)).get_content()
    assert '<html lang="vi">' in html_body
    for body in (html_body, text_body):
        assert tr("Headline KPIs", "vi") in body and tr("Reports not attached", "vi") in body
        for english in ("Headline KPIs", "Attached reports", "Reports not attached", "respondents",
                        "Open the attached files", "suppressed", "over the", "target"):
            assert english not in body, english
    assert out.left_out and out.left_out[0][0] == report  # 20 kB cannot hold the 40 kB report
    english = build_message(SegmentReports("all", folder, {"study": "Bank"}, [report]),
                            recipients=parse_addresses("a@example.com"))
    assert english.message["Subject"] == "Bank — All customers — CSM reports"
    assert "Headline KPIs" not in english.message.get_body(("plain",)).get_content()  # no KPIs: no header
    assert "Attached reports" in english.message.get_body(("plain",)).get_content()


def test_segment_suppression_note_is_translated():
    import pandas as pd

    from csm_helpers.analysis import stats
    from csm_helpers.analysis.segments import suppression_note

    t = stats.suppress(pd.DataFrame({"group": ["A", "B", "C"], "n": [3, 40, 25], "mean": [1.0, 2, 3]}),
                       keep=["group"], by="group")
    with language("zh"):
        note = suppression_note(t, by="region", min_n=5)
    assert note.startswith("未显示：region A") and "region C" in note and "Not shown" not in note
