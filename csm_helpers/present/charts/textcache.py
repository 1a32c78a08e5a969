"""One store of text measurements for every chart a process draws.

matplotlib measures a text (FreeType lays its glyphs out, about half a millisecond for a
label) and caches the result per *renderer*. Every figure, and every save of a figure into a
box of another size, gets a new renderer, so a report's charts measured the same tick
labels, attribute names and titles again on every layout pass and again on saving: about a
fifth of a chart's time (profile in ``benchmarks/batch.py --profile``). :func:`install` keeps
the measurements for the whole process instead, keyed on everything the measurement depends
on — the renderer's class and resolution, the text, its font properties, whether it is
mathtext, and the font and hinting settings that decide which font file is used — so a
cached value is the value matplotlib would compute.

The hook is matplotlib's ``matplotlib.text._get_text_metrics_with_cache`` (the one function
every text measurement goes through, since matplotlib 3.6). matplotlib 3.11 also reads the
font's ascent, descent and line gap from its tables for every text it lays out (about 60 µs
each, thousands of times per report); an Agg renderer now answers that from a store too,
through the ``_get_font_height_metrics`` hook ``Text._get_layout`` asks a renderer for. When a
matplotlib has neither hook, :func:`install` leaves it alone and charts are measured as before;
``tests/test_plots.py`` checks that the stored values are matplotlib's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import matplotlib.text as mtext

__all__ = ["install", "installed", "cache_size", "MAX_ENTRIES"]

#: The store is emptied when it holds this many measurements (a few MB): a batch of thousands
#: of segments keeps reusing the same labels, so it rarely fills.
MAX_ENTRIES = 100_000

#: rcParams that decide which font file renders a text and how it is hinted.
_RC_KEYS = ("font.family", "font.sans-serif", "font.serif", "font.monospace", "font.cursive",
            "font.fantasy", "font.style", "font.variant", "font.weight", "font.stretch",
            "text.hinting", "text.hinting_factor", "mathtext.fontset", "mathtext.default",
            "mathtext.fallback", "mathtext.rm", "mathtext.it", "mathtext.bf", "mathtext.sf")

_lock = threading.Lock()
_store: dict[tuple[Any, ...], tuple[float, float, float]] = {}
_heights: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}
_original: Callable[..., Any] | None = None


def _rc_fingerprint() -> tuple[Any, ...]:
    # dict.get reads the stored values without RcParams' per-key validation (a tenth of the time)
    rc = mpl.rcParams
    return tuple([tuple(v) if isinstance(v, list) else v for v in [dict.get(rc, k) for k in _RC_KEYS]])


def _measure(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
    if ismath == "TeX":  # TeX metrics depend on the TeX installation: not kept
        return _original(renderer, text, fontprop, ismath, dpi)  # type: ignore[misc]
    prop = fontprop.copy()  # FontProperties is mutable: key on a frozen copy, as matplotlib does
    key = (type(renderer), getattr(renderer, "dpi", None), dpi, text, prop, ismath, _rc_fingerprint())
    found = _store.get(key)
    if found is None:
        found = renderer.get_text_width_height_descent(text, prop, ismath=ismath)
        with _lock:
            if len(_store) >= MAX_ENTRIES:
                _store.clear()
            _store[key] = found
    return found


def _font_height_metrics(renderer: Any, prop: Any) -> tuple[Any, Any, Any]:
    """(ascent, descent, line gap) of a font at the renderer's resolution, in pixels, as
    matplotlib 3.11's ``Text._get_layout`` works them out for every text it lays out (from the
    font's OS/2 or hhea table) — kept instead of looked up again for every label."""
    key = (getattr(renderer, "dpi", None), prop.copy(), _rc_fingerprint())
    found = _heights.get(key)
    if found is not None:
        return found
    from matplotlib.font_manager import fontManager, get_font

    found = (None, None, None)
    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, gap_key, ascent_key, descent_key in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                                         ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        scale = prop.get_size_in_points() * renderer.dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
        found = (table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale)
        break
    with _lock:
        if len(_heights) >= MAX_ENTRIES:
            _heights.clear()
        _heights[key] = found
    return found


def install() -> bool:
    """Measure each text once per process, not once per figure (idempotent).

    Returns
    -------
    bool
        True when the store is in place; False when this matplotlib has no measurement hook
        (charts are then measured as matplotlib does by default).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> install()
    True
    >>> sizes = []
    >>> for _ in range(2):  # two figures, two renderers: the second is measured from the store
    ...     fig, ax = plt.subplots()
    ...     label = ax.set_title("Perception falls short of expectation")
    ...     fig.draw_without_rendering()
    ...     sizes.append(label.get_window_extent().width)
    ...     plt.close(fig)
    >>> sizes[0] == sizes[1] and cache_size() > 0
    True
    """
    global _original
    if _original is not None:
        return True
    current = getattr(mtext, "_get_text_metrics_with_cache", None)
    if current is None:  # pragma: no cover - a matplotlib without the hook
        return False
    _original = current
    mtext._get_text_metrics_with_cache = _measure
    # matplotlib 3.11 also reads the font's height tables for every text it lays out, unless the
    # renderer answers that itself (the hook its PDF and PS backends use)
    from matplotlib.backends.backend_agg import RendererAgg

    if ("_get_font_height_metrics" in mtext.Text._get_layout.__code__.co_names
            and not hasattr(RendererAgg, "_get_font_height_metrics")):
        RendererAgg._get_font_height_metrics = _font_height_metrics  # type: ignore[attr-defined]
    return True


def installed() -> bool:
    """True when :func:`install` has put the shared store in place."""
    return _original is not None


def cache_size() -> int:
    """Number of measurements in the store."""
    return len(_store)
