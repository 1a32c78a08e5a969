"""The path diagram of a PLS satisfaction model (stage 04): blocks as boxes, paths as arrows with
their coefficients, drawn with matplotlib alone (no Graphviz binary at run time)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from csm_helpers.core.checks import find_cycle, require_table
from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import _
from csm_helpers.present.catalogue import MINUS, block_label
from csm_helpers.present.charts.style import (
    DARK,
    MIN_FONT_PT,
    drawing,
    fitted_bbox,
    legend_below,
    new_axes,
    short_label,
)

__all__ = ["plot_path_model"]

_GREY = "#666666"  # a 5.7:1 contrast on white: a path that may be zero, still readable
_BOX_W, _BOX_H = 1.05, 0.5  # box size in layout units (a column is 1.6 wide, a row 1.2 high)


#: Where the ECSI blocks sit (column, row): the usual drawing of the model (Tenenhaus et al. 2005,
#: fig. 1): image above, expectation and quality down the left, value below, satisfaction in the
#: middle, loyalty to the right — no arrow crosses a box.
_ECSI_LAYOUT = {"image": (1.0, 2.0), "expectation": (0.0, 1.0), "quality": (0.0, 0.0), "value": (1.0, 0.0),
                "satisfaction": (2.0, 1.0), "loyalty": (3.0, 1.6)}


def _layout(blocks: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """The ECSI drawing for the ECSI blocks; otherwise column = longest path from a source block,
    rows ordered by the mean row of the block's predecessors (a barycentre pass), and a column of
    one block moved up or down in turn so that an arrow that skips a column passes beside it."""
    if set(blocks) == set(_ECSI_LAYOUT):
        return {b: (1.6 * _ECSI_LAYOUT[b][0], 1.2 * _ECSI_LAYOUT[b][1]) for b in blocks}
    depth = dict.fromkeys(blocks, 0)
    for _round in blocks:  # longest path in a DAG: relax |V| times
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    row: dict[str, float] = {}
    for d in range(max(depth.values()) + 1):
        column = [b for b in blocks if depth[b] == d]
        pred_rows = {b: [row[a] for a, t in edges if t == b and a in row] for b in column}
        column.sort(key=lambda b: (np.mean(pred_rows[b]) if pred_rows[b] else 0.0, blocks.index(b)))
        for i, b in enumerate(column):
            row[b] = i - (len(column) - 1) / 2 + ((0.45 if d % 2 else -0.45) if len(column) == 1 else 0.0)
    return {b: (1.6 * depth[b], -1.2 * row[b]) for b in blocks}


def plot_path_model(paths: pd.DataFrame, *, r2: Mapping[str, float] | pd.Series,
                    labels: Mapping[str, str] | None = None, intervals: pd.DataFrame | None = None,
                    highlight: str | None = None, ax: Axes | None = None) -> Axes:
    """The path diagram of a PLS path model: each block a box (with its R²), each path an arrow
    with its coefficient; a path whose interval contains 0 is dashed and grey.

    Parameters
    ----------
    paths : pandas.DataFrame
        ``from``, ``to``, ``coefficient`` (and ``p_value``), as
        :attr:`csm_helpers.analysis.pls_pm.PlsResult.paths`.
    r2 : mapping or Series
        R² of each endogenous block.
    labels : mapping, optional
        Block -> the name to show (default: the block's name, capitalised, ``_`` as spaces).
    intervals : pandas.DataFrame, optional
        ``from``, ``to``, ``ci_low``, ``ci_high`` (the path rows of
        :func:`csm_helpers.analysis.pls_pm.bootstrap_pls`); without them a path with
        ``p_value >= 0.05`` is the one drawn dashed.
    highlight : str, optional
        The block of the satisfaction index: its box is filled.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.patches`` hold the boxes (one per block); each path is an arrow (an annotation
        without text) and a label with its coefficient to two decimals, placed along the arrow
        where it overlaps no box and no other label.

    Raises
    ------
    DataError
        When a column is missing or the paths make a cycle.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> p = pd.DataFrame({"from": ["a", "a", "b"], "to": ["b", "c", "c"], "coefficient": [0.5, 0.2, -0.4],
    ...                   "p_value": [0.001, 0.2, 0.01]})
    >>> ax = plot_path_model(p, r2={"b": 0.25, "c": 0.3}, highlight="c")
    >>> sorted(t.get_text() for t in ax.texts if t.get_text()[-1:].isdigit() and "=" not in t.get_text())
    ['0.20', '0.50', '−0.40']
    >>> plt.close(ax.figure)
    """
    require_table(paths, ["from", "to", "coefficient"], "path table", "pls_pm()")
    edges = [(str(a), str(b)) for a, b in zip(paths["from"], paths["to"], strict=True)]
    blocks = list(dict.fromkeys(x for e in edges for x in e))
    cycle = find_cycle(blocks, edges)
    if cycle:
        raise DataError(f"path diagram: the paths make a cycle {' -> '.join(cycle)} — a PLS path model is recursive")
    names = {b: block_label(b, labels) for b in blocks}
    pos = _layout(blocks, edges)
    doubtful = _doubtful(paths, intervals)
    r2 = dict(r2)
    own = ax is None
    with drawing():
        ax = new_axes(ax, height=4.4)
        ax.set_axis_off()
        boxes = {}
        for b in blocks:
            x, y = pos[b]
            fill = b == highlight
            box = FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                                 boxstyle="round,pad=0.02,rounding_size=0.08", fc=DARK if fill else "white", ec=DARK,
                                 lw=1.2, zorder=3)
            ax.add_patch(box)
            boxes[b] = box
            text = short_label(names[b], 18)
            if b in r2 and pd.notna(r2[b]):
                text += "\n" + _("R² = {r2}", r2=f"{float(r2[b]):.2f}")
            ax.text(x, y, text, ha="center", va="center", fontsize=MIN_FONT_PT, color="white" if fill else DARK,
                    zorder=4, fontweight="bold" if fill else "normal")
        for (a, b), coef, weak in zip(edges, paths["coefficient"], doubtful, strict=True):
            colour = _GREY if weak else DARK
            width = 0.8 + 2.2 * min(abs(float(coef)), 1.0)
            ax.annotate("", xy=pos[b], xytext=pos[a], zorder=2,
                        arrowprops={"arrowstyle": "-|>", "color": colour, "lw": width,
                                    "linestyle": "--" if weak else "-", "patchA": boxes[a], "patchB": boxes[b],
                                    "shrinkA": 2, "shrinkB": 2, "mutation_scale": 12})
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
        ax.set_ylim(min(ys) - 0.45, max(ys) + 0.45)
        ax.set_aspect("auto")
        title_block = highlight if highlight in r2 else blocks[-1]
        ax.set_title(_("Satisfaction model: {k} paths; R² of {block} = {r2}", k=len(edges), block=names[title_block],
                       r2=f"{float(r2.get(title_block, np.nan)):.2f}"))
        handles = [Line2D([], [], color=DARK, lw=2, label=_("arrow: path coefficient (thicker = larger)"))]
        if any(doubtful):
            handles.append(Line2D([], [], color=_GREY, lw=1.5, linestyle="--",
                                  label=_("dashed: interval includes 0") if intervals is not None
                                  else _("dashed: not significant at 5 %")))
        legend_below(ax, handles, ncol=1)
        if own:
            fitted_bbox(ax.figure)
        _place_coefficients(ax, edges, pos, list(paths["coefficient"]), doubtful, list(boxes.values()))
    return ax


def _doubtful(paths: pd.DataFrame, intervals: pd.DataFrame | None) -> list[bool]:
    """Per path: whether its interval contains 0 (or, without intervals, p >= 0.05)."""
    if intervals is not None and len(intervals):
        require_table(intervals, ["from", "to", "ci_low", "ci_high"], "bootstrap table", "bootstrap_pls()")
        ci = {(str(a), str(b)): (lo, hi) for a, b, lo, hi in
              zip(intervals["from"], intervals["to"], intervals["ci_low"], intervals["ci_high"], strict=True)}
        out = []
        for a, b in zip(paths["from"], paths["to"], strict=True):
            lo, hi = ci.get((str(a), str(b)), (np.nan, np.nan))
            out.append(bool(pd.notna(lo) and pd.notna(hi) and lo <= 0 <= hi))
        return out
    if "p_value" in paths.columns:
        return [bool(pd.notna(p) and p >= 0.05) for p in paths["p_value"]]
    return [False] * len(paths)


def _place_coefficients(ax: Axes, edges: list[tuple[str, str]], pos: Mapping[str, tuple[float, float]],
                        coefs: list[float], doubtful: list[bool], boxes: list[FancyBboxPatch]) -> None:
    """Each coefficient on its arrow, at the first point along it (halfway, then nearer either
    end) where its label overlaps no other label and no box."""
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    taken = [b.get_window_extent(renderer) for b in boxes]
    for (a, b), coef, weak in zip(edges, coefs, doubtful, strict=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        text = f"{float(coef):.2f}".replace("-", MINUS)
        label = ax.text(0, 0, text, ha="center", va="center", fontsize=MIN_FONT_PT, color=_GREY if weak else DARK,
                        zorder=5, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
        best, best_cost = 0.5, np.inf
        for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.45, 0.55):
            label.set_position((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
            bb = label.get_window_extent(renderer)
            cost = sum(max(0.0, min(bb.x1, o.x1) - max(bb.x0, o.x0)) * max(0.0, min(bb.y1, o.y1) - max(bb.y0, o.y0))
                       for o in taken)
            if cost < best_cost:
                best, best_cost = t, cost
            if cost == 0:
                break
        label.set_position((x0 + best * (x1 - x0), y0 + best * (y1 - y0)))
        taken.append(label.get_window_extent(renderer))
