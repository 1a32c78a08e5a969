"""A matplotlib figure as an embedded PNG: for a chart a researcher draws with matplotlib in
their notebook (the report's own charts are SVG: :mod:`csm_helpers.present.charts.canvas`).

The figure is laid out once, drawn once and encoded once, as an 8-bit palette PNG, every text
at least 11 pt (:func:`~csm_helpers.present.charts.style.legible`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import matplotlib.colors as mpl_colors
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from csm_helpers.core.i18n import _
from csm_helpers.core.safety import readable
from csm_helpers.present.charts import textcache
from csm_helpers.present.charts.style import fitted_bbox, legible, text_overlaps

__all__ = ["figure_png", "drawn_png", "show_png"]


def figure_png(fig: plt.Figure, *, dpi: int = 120, overlaps: list[Any] | None = None) -> bytes:
    """PNG bytes of a matplotlib figure (deterministic: no timestamp metadata), every text at
    least :data:`~csm_helpers.present.charts.style.MIN_FONT_PT` (:func:`~csm_helpers.present.charts.style.legible`).

    The chart is laid out once (:func:`~csm_helpers.present.charts.style.fitted_bbox`), its
    layout is then frozen (the figure's layout engine is removed, so saving does not
    lay it out again and a second save gives the same picture), and it is drawn once into an
    RGBA buffer that is encoded once, as an 8-bit palette PNG (report charts use few colours:
    the palette keeps an e-mailed report small; a chart of at most 256 colours is exact).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(5.8, 3), layout="constrained")
    >>> _ = ax.bar(["a", "b"], [1, 2])
    >>> png = figure_png(fig)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", figure_png(fig) == png
    (True, True)
    >>> plt.close(fig)
    """
    return drawn_png(fig, dpi=dpi, overlaps=overlaps)[0]


def drawn_png(fig: plt.Figure, *, dpi: int, overlaps: list[Any] | None) -> tuple[bytes, float]:
    """:func:`figure_png`, and the smallest text size of the chart (:func:`legible`, which walks
    every artist of the figure, runs once)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    textcache.install()
    smallest = legible(fig)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)  # (becomes fig.canvas)
    fig.set_dpi(dpi)  # laid out and drawn at the resolution it is saved at
    box = fitted_bbox(fig, render=True)  # laid out and drawn: once, for most charts
    if overlaps is not None:  # colliding labels, from the layout just made (no extra draw)
        overlaps.extend(text_overlaps(fig, draw=False))
    fig.set_layout_engine(None)  # frozen: a save would otherwise run the layout engine once more
    image = _cut(fig, box)
    if image is None:  # the drawing sticks out of the canvas: let savefig draw the box itself
        raw = io.BytesIO()
        fig.savefig(raw, format="rgba", dpi=dpi, bbox_inches=box)
        renderer = fig.canvas.renderer  # the cropped canvas savefig has just drawn
        image = Image.frombuffer("RGBA", (int(renderer.width), int(renderer.height)), raw.getvalue(),
                                 "raw", "RGBA", 0, 1)
    return _encode_palette(image), smallest


def _cut(fig: plt.Figure, box: Any) -> Image.Image | None:
    """The padded ``box`` (inches) cut from the canvas just drawn, as savefig(bbox_inches=box)
    would give it; None when the drawing itself (the box without its padding) is not all on
    the canvas."""
    dpi = fig.dpi
    canvas = np.asarray(fig.canvas.buffer_rgba())
    height, width = canvas.shape[:2]
    # rows count from the top; these offsets are the ones savefig(bbox_inches=box) draws with
    # (Agg snaps to whole pixels: tests/test_textcache.py compares the two pixel for pixel)
    x0, y1 = round(box.x0 * dpi), height - math.floor(box.y1 * dpi)
    w, h = int(box.width * dpi), int(box.height * dpi)
    pad = 0.1 * dpi + 2
    if x0 < -pad or y1 < -pad or x0 + w > width + pad or y1 + h > height + pad:
        return None
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[...] = np.asarray(mpl_colors.to_rgba_array(fig.get_facecolor())[0] * 255, dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y1, 0), min(x0 + w, width), min(y1 + h, height)
    out[sy0 - y1:sy1 - y1, sx0 - x0:sx1 - x0] = canvas[sy0:sy1, sx0:sx1]
    return Image.fromarray(out, "RGBA")


def _encode_palette(image: Image.Image) -> bytes:
    """An 8-bit palette PNG of ``image`` (median cut, no dithering: exact when the chart has
    at most 256 colours, as most report charts do; otherwise the anti-aliased edges lose a
    shade). No metadata, so the bytes depend on the pixels only."""
    small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def show_png(ax_or_fig: Any, *, alt: str | None, dpi: int, show: Callable[[Any], None]) -> None:
    """Show a matplotlib chart as an embedded PNG with ``show`` (IPython's display) and close it
    (so that it is not shown twice), at its physical size, with its smallest text size and
    its count of colliding labels in the metadata (the report's browser checks read them)."""
    fig = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.get_figure()
    if alt is None:
        titles = [t for t in [fig.get_suptitle(), *(a.get_title() for a in fig.axes)] if t]
        alt = titles[0].replace("\\$", "$") if titles else _("Chart")  # titles escape $ for matplotlib only
    alt = readable(alt, max_chars=300)
    overlaps: list[Any] = []
    png, smallest = drawn_png(fig, dpi=dpi, overlaps=overlaps)
    plt.close(fig)
    try:
        from IPython.display import Image
    except ImportError:  # pragma: no cover
        return
    # shown at its physical size (96 CSS px per inch) on a desk and in print, shrunk on a phone;
    # the smallest text size goes with it so that a browser test can check it on screen
    width_px = _png_width(png)
    show(Image(data=png, format="png", metadata={"alt": alt, "width": round(width_px / dpi * 96),
                                                     "csm_text_pt": round(smallest, 1),
                                                     "csm_overlaps": len(overlaps)}))


def _png_width(png: bytes) -> int:
    """Pixel width from a PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big")
