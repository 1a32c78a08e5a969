"""The static-page check: what it refuses, and that its fast screen never passes a page the
parser would refuse (csm_helpers.core.static_html)."""

from __future__ import annotations

import random

import pytest

from csm_helpers.core.errors import ReportError
from csm_helpers.core.static_html import check_static_html, passes_screen, static_problems

# The characters and words the parser's rules and the screen's patterns turn on, with the
# white space both parsers read differently (vertical tab, no-break and ideographic spaces).
SPACE = [" ", "\t", "\n", "\r", "\f", "\v", "\xa0", "\u3000", ""]
TAGS = ["a", "A", "area", "img", "svg", "use", "image", "style", "STYLE", "script", "sCrIpT", "frameset", "set",
        "animate", "animateTransform", "foreignObject", "meta", "p", "iframe", "textarea", "title", "basefont",
        "link", "linkx", "form", "input", "object", "embed", "x-on"]
ATTRS = ["on", "onclick", "ONLOAD", "oN", "on-x", "one", "src", "SRC", "srcset", "data", "data-x", "poster",
         "background", "action", "formaction", "href", "HREF", "xlink:href", "style", "http-equiv", "HTTP-EQUIV",
         "fill", "class", "x", "aria-label"]
VALUES = ["javascript:alert(1)", "JavaScript:x", "java\tscript:x", "java&#9;script:x", " javascript:x", "\x01javascript:x",
          "vbscript:x", "data:x", "DATA:x", "data:image/png;base64,AA", " data:x", "refresh", "Refresh", " refresh",
          "&#x72;efresh", "url(", "URL(", "url(#a)", "url(#a)x", "url(data:x)", "url( data:x)", "url('data:x')",
          "&#117;rl(http:", "u&#x72;l(#a)", "#a", "#", "http://e.org/x", "//e.org/x", "@import 'x'", "@IMPORT",
          "expression(x)", "&#106;avascript:x", "&#x6A;", "&Tab;", "&quot;", "&apos;", "&lt;", "&amp;", "&",
          "a b", "=", "==", "Content-Security-Policy", "ok", ""]
BITS = ["<", ">", "</", "/>", "/", '"', "'", "=", "==", "&", ";", "#", "(", ")", ":", "-->", "<!--", "<!x ",
        "<?x ", "url(", "@import", "<style>", "</style>", "<script>", "</script>", "<textarea>", "</textarea>",
        "<title>", "</title>", "\x00"] + SPACE + TAGS + ATTRS + VALUES


def _tag(rng: random.Random) -> str:
    """A start tag as a report (or an attacker) might write it, quoting and spacing at random."""
    out = ["<", rng.choice(TAGS)]
    for _ in range(rng.randint(0, 3)):
        out += [rng.choice([" ", " ", "/", "\t", "\v", '"', ""]), rng.choice(ATTRS)]
        if rng.random() < 0.85:
            quote = rng.choice(['"', "'", "", '"', "'"])
            out += [rng.choice(SPACE[:6]), rng.choice(["=", "=", "==", "= "]), rng.choice(SPACE[:6]), quote,
                    rng.choice(VALUES), rng.choice(["", "", rng.choice(VALUES)]), quote]
    out.append(rng.choice([">", ">", "/>", " >", ""]))
    return "".join(out)


def _page(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, 12)):
        parts.append(_tag(rng) if rng.random() < 0.4 else rng.choice(BITS))
    return "".join(parts)


def test_a_page_the_screen_passes_is_one_the_parser_passes():
    rng = random.Random(20261206)
    passed = refused = 0
    for _ in range(40_000):
        page = _page(rng)
        if passes_screen(page):
            passed += 1
            assert static_problems(page) == [], page
        elif static_problems(page):
            refused += 1
    # the generator reaches both sides often: the implication is tested, not vacuous
    assert passed > 2_000 and refused > 10_000, (passed, refused)


@pytest.mark.parametrize("page", [
    '<a href="java&#9;script:alert(1)">x</a>', '<a href="&#x6A;avascript:x">x</a>', '<a href=" \x01javascript:x">x</a>',
    '<svg><use href="https://e.org/s.svg#a"/></svg>', '<svg><image xlink:href="http://e.org/i.png"/></svg>',
    '<svg><a href="#x"><set attributeName="href" to="javascript:alert(1)"/></a></svg>',
    '<svg><animate attributeName="href" values="javascript:x"/></svg>', '<svg><foreignObject></foreignObject></svg>',
    '<div http-equiv=" Refresh ">', '<style>a{fill:url(http://e.org/p)}</style>', '<p fill="u&#x72;l(http://e)">',
    "<img src='http:x'>", '<img src==http:x>', '<p onclick= "x">',
])
def test_refused_also_when_the_scheme_or_name_is_hidden(page):
    assert not passes_screen(page)
    with pytest.raises(ReportError, match="report is not static"):
        check_static_html(page)


@pytest.mark.parametrize("page", [
    '<a href="https://example.org/help">help</a>', '<svg><use href="#glyph"/><rect fill="url(#c1-fwd)"/></svg>',
    '<p>Focus on service, not on price.</p>', '<p onclick>a bare handler runs nothing</p>',
    '<style>.a{background:url(data:image/png;base64,AA)}</style>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">',
])
def test_accepted(page):
    check_static_html(page)


def test_the_sample_reports_take_the_fast_path(sample_run):
    out, _ = sample_run
    pages = sorted(out.glob("*/*.html"))
    assert len(pages) >= 5
    for path in pages:
        page = path.read_text(encoding="utf-8")
        assert passes_screen(page), path.name
        assert static_problems(page) == []
