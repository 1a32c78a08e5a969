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

from csm_helpers import i18n
from csm_helpers.i18n import _, catalog, language, tr

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

    from csm_helpers.display import table_html

    t = pd.DataFrame({"attribute": ["Waiting time"], "quadrant": ["Concentrate here"], "ci_low": [0.2]})
    en = table_html(t)
    assert "CI low" in en and "Concentrate here" in en
    with language("zh"):
        zh = table_html(t)
    assert catalog("zh")["Concentrate here"] in zh and "Concentrate here" not in zh
    assert "Waiting time" in zh  # data (the attribute label) is shown as written


def test_bundled_font_draws_chinese_and_vietnamese_without_missing_glyphs():
    from csm_helpers.plots import bundled_font, set_report_style

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
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    # metrics.json is a machine contract: it stays English whatever the report language
    assert {q["quadrant"] for q in metrics["ipa"]} <= {"Concentrate here", "Keep up the good work",
                                                       "Low priority", "Possible overkill"}
