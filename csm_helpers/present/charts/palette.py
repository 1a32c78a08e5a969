"""The colours and sizes of every report chart (no drawing library needed).

Charts use one palette, safe for colour-blind readers: the Okabe & Ito (2008) colours. Blue,
sky blue and reddish purple tell series apart (product, process, people; segments). Green,
amber and vermillion are reserved for status: met / at risk / not met, better / worse,
promoters / passives / detractors, the positive and negative side of a rating scale. Status is
never carried by colour alone: a hatch, a marker shape or the value label carries it too, so
that a grey-scale print still reads.
"""

from __future__ import annotations

__all__ = ["WIDTH", "MIN_FONT_PT", "OKABE_ITO", "DARK", "MID", "PURPLE", "LIGHT", "INK", "EDGE", "GOOD", "WARN",
           "BAD", "tint", "tint_hex"]

#: Width of a report chart's drawing in inches (shown with a 0.1 in margin a side). A chart is
#: shown at its physical size on a desk and in print, and shrinks to the screen on a phone:
#: 6.0 in keeps 11 pt text at least 9 CSS px tall on a 390 px wide phone
#: (11 pt x 96/72 x 372 px / (6.0 x 96 px) = 9.5 px).
WIDTH = 5.8
#: No chart text is smaller than this (11 pt in print).
MIN_FONT_PT = 11.0
#: The Okabe & Ito (2008) colour-blind-safe palette ("Color Universal Design").
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
#: Series colours (no good or bad meaning): blue, then sky blue, then reddish purple.
DARK = OKABE_ITO["blue"]
MID = OKABE_ITO["sky"]
PURPLE = OKABE_ITO["purple"]
#: Neutral: no target, no status, the neutral point of a scale.
LIGHT = "#d4d4d4"
INK = "#333333"
EDGE = "black"
#: Status colours, reserved for meaning: good (met, better, promoters, top of a scale),
#: at risk (passives, in progress) and bad (not met, worse, detractors, bottom of a scale).
GOOD = OKABE_ITO["green"]
WARN = OKABE_ITO["orange"]
BAD = OKABE_ITO["vermillion"]


def _rgb(colour: str) -> tuple[float, float, float]:
    text = {"black": "#000000", "white": "#ffffff"}.get(colour, colour).lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return tuple(int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def tint(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` (``#rrggbb``) mixed with white: ``amount`` 0 is the colour, 1 is white (RGB in 0..1).

    Examples
    --------
    >>> tint("#000000", 0.5)
    (0.5, 0.5, 0.5)
    """
    r, g, b = _rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def tint_hex(colour: str, amount: float) -> str:
    """:func:`tint` as ``#rrggbb`` (what the SVG charts take).

    Examples
    --------
    >>> tint_hex("#0072B2", 0.0), tint_hex("#000000", 0.5), tint_hex("black", 1.0)
    ('#0072b2', '#808080', '#ffffff')
    """
    return "#" + "".join(f"{round(c * 255):02x}" for c in tint(colour, amount))
