"""The report font of the SVG charts: text measured without a renderer, wrapped to its room,
and embedded as a subset.

A chart written as SVG (:mod:`csm_helpers.present.charts.canvas`) keeps its text as text:
sharp at any zoom and in print, searchable, and a few kilobytes. For its labels to fit, the
writer must know how wide a text will be where it is read. It measures every text with the
advance widths of the one font the chart is then shown in, Noto Sans CJK SC (the font the
matplotlib charts used; :func:`csm_helpers.present.charts.style.bundled_font`), and the report
embeds that font, subset to the characters its charts use, so that every browser and every
PDF shows the text at the measured width. Kerning and ligatures are switched off in the chart
(:data:`TEXT_CSS`), so the sum of the advance widths *is* the rendered width.

Where the font comes from:

* **In a report** (``csm run``, ``csm batch``, the ``csm_report`` template): one subset for
  the whole page, built by the exporter from the characters of all its charts
  (:func:`font_face_css`), so twelve charts share one font.
* **In JupyterLab**, where a chart is shown on its own: each chart carries its own subset, so
  it looks the same as in the report. The warm kernels of the pipeline switch this off
  (:func:`set_font_per_chart`): the exporter adds the page font.

Lines are broken at spaces and between two CJK characters, never before closing punctuation
(``，。、）%``) nor after an opening one (``（“``) — the basic rule of Chinese and Japanese
typesetting (kinsoku shori; W3C, *Requirements for Chinese Text Layout*, §3.1.7).
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import functools
import io
import itertools
import re
import threading
import unicodedata
from pathlib import Path

__all__ = ["bundled_font", "FAMILY", "TEXT_CSS", "ASCENT", "DESCENT", "ReportFont", "report_font", "font_face_css", "font_face_data",
           "font_face_rule",
           "font_per_chart", "set_font_per_chart"]

#: The font-family name charts use for the embedded font (a fallback follows it).
FAMILY = "csmchart"
#: Text rules of every chart: what is measured is what is drawn.
TEXT_CSS = "text{font-kerning:none;font-variant-ligatures:none;white-space:pre}"
#: Ascent and descent of the report font, in em (Noto Sans CJK: typo ascender 880, descender
#: -120 of 1000 units); the fallback fonts are close.
ASCENT, DESCENT = 0.88, 0.12

#: fontTools is not safe to enter from two threads at once: it fills some module-level tables
#: on first use (the Unicode ranges of ``OS/2``), and a second thread that reads them half
#: filled fails with an IndexError. A run exports its stages in parallel threads.
_FONTTOOLS = threading.Lock()

#: Never at the start of a line (closing brackets and punctuation, CJK and Latin).
_CLOSING = set("）)]｝}〕〉》」』】〙〗’”，。、．：；！？%‰℃·・ー…‥,.:;!?") | {"\u3001", "\u3002"}
#: Never at the end of a line.
_OPENING = set("（([｛{〔〈《「『【〘〖‘“")
#: Characters every report font subset holds: printable ASCII, Latin-1, Latin Extended-A, the
#: Vietnamese letters (Latin Extended Additional) and the typographic signs the charts write.
#: A page that uses only these gets its font from a small base font (fast); others are
#: subset from the whole font.
BASE_CHARS = "".join(
    [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA0, 0x180)]
    + [chr(c) for c in range(0x1EA0, 0x1EFA)] + list("ƠơƯư–—‘’“”…•−×≥≤±²³·→←↑↓≈≠√∞"))

_FEATURES = ["ccmp", "mark", "mkmk"]  # combining marks stay placed; no kerning, no ligatures


def _is_cjk(ch: str) -> bool:
    """A character a line may break before or after (CJK ideographs, kana, hangul, full-width forms)."""
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF
            or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x3FFFF)


def bundled_font() -> str | None:
    """Path of the Noto Sans CJK SC font installed with the ``mplfonts`` package, if present.

    Noto Sans CJK SC (SIL Open Font License) has the Chinese glyphs and every Vietnamese
    letter with its diacritics, so charts in all three report languages render without tofu
    on a machine with no system CJK font. Nothing is downloaded: the font is inside the wheel.
    """
    from importlib.util import find_spec

    spec = find_spec("mplfonts")  # found, not imported: importing it loads matplotlib
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NotoSansCJKsc-Regular.otf"
    return str(path) if path.is_file() else None


def _font_path() -> str:
    """The bundled Noto Sans CJK SC, else matplotlib's own DejaVu Sans (always installed)."""
    path = bundled_font()
    if path:
        return path
    import matplotlib  # pragma: no cover - only without mplfonts

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")  # pragma: no cover


class ReportFont:
    """Advance widths of a font, for measuring and wrapping text without a renderer.

    Parameters
    ----------
    path : str
        An OpenType or TrueType font file.

    Examples
    --------
    >>> f = report_font()
    >>> round(f.width("Fees", 14.0), 1) == round(sum(f.width(c, 14.0) for c in "Fees"), 1)
    True
    >>> f.width("費", 10.0)  # a CJK ideograph is one em wide
    10.0
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.units_per_em, self._units = _advance_table(path)  # code point -> advance (font units)
        self._em: dict[str, float] = {}  # character -> advance width in em
        self._missing = 0.5  # a character the font lacks: measured as half an em

    def covers(self, ch: str) -> bool:
        """Whether the font has a glyph for ``ch``."""
        return ord(ch) in self._units

    def _advance(self, ch: str) -> float:
        em = self._em.get(ch)
        if em is None:
            units = self._units.get(ord(ch))
            em = units / self.units_per_em if units is not None else self._missing
            self._em[ch] = em
        return em

    def width(self, text: str, size_px: float) -> float:
        """Width in px of ``text`` (NFC) set at ``size_px``, without kerning or ligatures."""
        return sum(self._advance(ch) for ch in unicodedata.normalize("NFC", text)) * size_px

    def _tokens(self, text: str) -> list[str]:
        """Unbreakable pieces, each with the space that follows it: words, single CJK
        characters, closing punctuation glued to what precedes it, opening to what follows."""
        pieces: list[str] = []
        for part in re.findall(r"\S+\s*", text):
            word = part.rstrip()
            space = part[len(word):]
            buf = ""
            for ch in word:
                if _is_cjk(ch) and ch not in _CLOSING and ch not in _OPENING:
                    if buf:
                        pieces.append(buf)
                    buf = ""
                    pieces.append(ch)
                else:
                    buf += ch
            if buf:
                pieces.append(buf)
            if pieces and space:
                pieces[-1] += " "
        merged: list[str] = []
        for piece in pieces:
            if merged and (piece[0] in _CLOSING or merged[-1].rstrip()[-1:] in _OPENING):
                merged[-1] += piece
            else:
                merged.append(piece)
        return merged

    def wrap(self, text: str, room: float, size_px: float, *, max_lines: int | None = None) -> list[str]:
        """``text`` broken into lines no wider than ``room`` px (a word longer than the room is
        cut between characters); with ``max_lines``, the last line kept ends in "..." ("…"
        after CJK text).

        Examples
        --------
        >>> f = report_font()
        >>> f.wrap("Speed of problem resolution", f.width("Speed of problem", 14), 14)
        ['Speed of problem', 'resolution']
        >>> f.wrap("速度（天）", f.width("速度（天", 14), 14)  # no line starts with "）"
        ['速度', '（天）']
        >>> f.wrap("one two three four", f.width("one two", 14), 14, max_lines=2)
        ['one two', 'three...']
        """
        text = " ".join(unicodedata.normalize("NFC", str(text)).split())
        cut_short = False
        if max_lines is not None:  # a label of a million characters: only what can show is laid out
            limit = max_lines * (int(room / (0.05 * size_px)) + 2)
            cut_short, text = len(text) > limit, text[:limit]
        lines: list[str] = []
        line, width, space = "", 0.0, 0.0  # the line, its width without its last space, that space
        for token in self._tokens(text):
            body = token.rstrip()
            w_body, w_space = self.width(body, size_px), self.width(token[len(body):], size_px)
            if line and width + space + w_body <= room + 1e-9:
                line, width, space = line + token, width + space + w_body, w_space
                continue
            if line:
                lines.append(line.rstrip())
            line, width, space = token, w_body, w_space
        if line.strip():
            lines.append(line.rstrip())
        out: list[str] = []
        for one in lines:  # a single piece wider than the room: cut between characters
            if len(one) <= 1 or self.width(one, size_px) <= room:
                out.append(one)
                continue
            ends = list(itertools.accumulate(self._advance(ch) * size_px for ch in one))
            start, base = 0, 0.0
            while start < len(one):
                if ends[-1] - base <= room:
                    out.append(one[start:])
                    break
                cut = max(bisect.bisect_right(ends, base + room + 1e-9, lo=start), start + 1)  # what fits, one at least
                while cut > start and (one[cut] in _CLOSING or one[cut - 1] in _OPENING):
                    cut -= 1  # not between an opening bracket and its text, nor before a closing one
                if cut == start:  # a bracketed character or two wider than the room: left whole
                    out.append(one[start:])
                    break
                out.append(one[start:cut])
                start, base = cut, ends[cut - 1]
        if max_lines is not None and (len(out) > max_lines or cut_short):
            last = out[min(max_lines, len(out)) - 1]
            # the report font's "…" is the CJK one, centred on the line: Latin text gets "..."
            dots = "…" if _is_cjk((last.rstrip() or "…")[-1]) else "..."
            while last and self.width(last.rstrip() + dots, size_px) > room:
                last = last[:-1]
            out = [*out[:min(max_lines, len(out)) - 1], last.rstrip() + dots]
        return out or [""]


@functools.cache
def report_font() -> ReportFont:
    """The report font (opened once per process)."""
    return ReportFont(_font_path())


def read_advances(path: str) -> tuple[int, dict[int, int]]:
    """A font's units per em and the advance width (in those units) of each character it maps,
    read with fontTools (0.25 s for the CJK report font).

    Examples
    --------
    >>> upm, widths = read_advances(_font_path())
    >>> upm > 0 and widths[ord("M")] > widths[ord("i")] > 0
    True
    """
    from fontTools.ttLib import TTFont

    with _FONTTOOLS:
        font = TTFont(path, lazy=True)
        upm = int(font["head"].unitsPerEm)
        cmap = font.getBestCmap()
        hmtx = font["hmtx"].metrics
        return upm, {cp: int(hmtx[glyph][0]) for cp, glyph in cmap.items()}


def _advance_table(path: str) -> tuple[int, dict[int, int]]:
    """:func:`read_advances`, kept in the user's cache folder between runs as plain numbers
    (little-endian uint32: units per em, then code point and advance pairs; :func:`_cache_file`):
    a new kernel reads it in a few milliseconds. A file that cannot be read, written or makes
    no sense is not used."""
    import array
    import sys

    cached: Path | None = None
    with contextlib.suppress(OSError, ValueError):
        cached = _cache_file("advances", "u32", path)
        numbers = array.array("I")
        numbers.frombytes(cached.read_bytes())
        if sys.byteorder != "little":
            numbers.byteswap()
        if len(numbers) % 2 == 1 and numbers[0] > 0:
            pairs = iter(numbers[1:])
            return int(numbers[0]), dict(zip(pairs, pairs, strict=True))
    upm, widths = read_advances(path)
    if cached is not None:
        numbers = array.array("I", [upm, *itertools.chain.from_iterable(widths.items())])
        if sys.byteorder != "little":
            numbers.byteswap()
        _keep(cached, numbers.tobytes())
    return upm, widths


_PER_CHART = [True]


def font_per_chart() -> bool:
    """Whether each chart embeds its own font subset (True in JupyterLab; see the module note)."""
    return _PER_CHART[0]


def set_font_per_chart(on: bool) -> None:
    """Embed a font subset in each chart (``True``), or leave the font to the page (``False``:
    the report exporter adds one subset for all the charts of a page)."""
    _PER_CHART[0] = bool(on)


def _subset_bytes(source: str | bytes, chars: str, *, flavor: str | None) -> bytes:
    with _FONTTOOLS:
        from fontTools import subset

        options = subset.Options()
        options.flavor = flavor
        options.layout_features = _FEATURES
        options.hinting = False
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # with the licence (SIL OFL) and its address
        font = subset.load_font(io.BytesIO(source) if isinstance(source, bytes) else source, options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        out = io.BytesIO()
        subset.save_font(font, out, options)
        return out.getvalue()


def _cache_dir() -> Path:
    """Where the base font is kept between runs: ``$XDG_CACHE_HOME/csm-workbook`` (else
    ``~/.cache/csm-workbook``), as matplotlib keeps its font list."""
    import os

    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "csm-workbook"


def _cache_file(kind: str, suffix: str, font: str, extra: str = "") -> Path:
    """The cache file of something made from the font file ``font``, under a name that changes
    with that file (path, size, modification time), fontTools and ``extra`` (OSError when the
    font cannot be read)."""
    import hashlib
    import os

    import fontTools

    stat = os.stat(font)
    key = hashlib.sha256(f"{font}|{stat.st_size}|{stat.st_mtime_ns}|{fontTools.version}{extra}"
                         .encode()).hexdigest()[:20]
    return _cache_dir() / f"{kind}-{key}.{suffix}"


def _keep(cached: Path, data: bytes) -> None:
    """Write a cache file whole or not at all (a cache that cannot be written is not used)."""
    from csm_helpers.core.safety import write_bytes_atomic

    with contextlib.suppress(OSError, ValueError):
        write_bytes_atomic(cached, data)


@functools.cache
def _base_font() -> bytes:
    """The report font cut to :data:`BASE_CHARS`: made once (about 0.4 s) and kept on disk
    (:func:`_cache_file`, which also names the character set), so a run reads it instead (a
    cache that cannot be read or written is simply not used)."""
    path = _font_path()
    cached = _cache_file("base-font", "otf", path, f"|{_FEATURES}|{BASE_CHARS}")
    try:
        return cached.read_bytes()
    except (OSError, ValueError):
        pass
    data = _subset_bytes(path, BASE_CHARS, flavor=None)
    _keep(cached, data)
    return data


@functools.lru_cache(maxsize=64)
def _face(chars: frozenset[str]) -> str:
    text = "".join(sorted(chars | {" "}))
    source: str | bytes = _base_font() if chars <= set(BASE_CHARS) else _font_path()
    return base64.b64encode(_subset_bytes(source, text, flavor="woff")).decode("ascii")


def font_face_data(chars: str) -> str:
    """The report font cut to the glyphs of ``chars``, as base64 WOFF. The same characters
    give the same bytes; the result is kept for the process (a page of Latin or Vietnamese
    text: about 15 ms after the first, which makes the base font; with CJK text about 0.4 s).
    """
    return _face(frozenset(unicodedata.normalize("NFC", chars)) - {"\n", "\t"})


def font_face_rule(data: str) -> str:
    """The ``@font-face`` rule of :data:`FAMILY` for base64 WOFF ``data`` (a data URL:
    nothing is fetched)."""
    if not re.fullmatch(r"[A-Za-z0-9+/=]*", data):
        raise ValueError("font data must be base64")
    return f"@font-face{{font-family:{FAMILY};src:url(data:font/woff;base64,{data}) format('woff')}}"


def font_face_css(chars: str) -> str:
    """An ``@font-face`` rule for :data:`FAMILY` with the glyphs of ``chars``, embedded.

    Examples
    --------
    >>> css = font_face_css("Fees 12%")
    >>> css.startswith("@font-face{font-family:csmchart;src:url(data:font/woff;base64,")
    True
    >>> font_face_css("%21 seeF") == css
    True
    """
    return font_face_rule(font_face_data(chars))
