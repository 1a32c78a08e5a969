"""Answer distributions of rating items (the stacked bars of stage 03)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from csm_helpers.analysis.measurement.common import numbers_and_bad, preview_values, require_columns
from csm_helpers.analysis.stats import get_weights
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError

__all__ = ["likert_distribution"]


# --------------------------------------------------------------------------- distributions
def likert_distribution(data: pd.DataFrame, *, items: Sequence[str], scale: tuple[int, int],
                        weights: str | None = None, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Share of answers at each point of the scale, per item (input of ``plot_likert``).

    Parameters
    ----------
    data : pandas.DataFrame
        The responses.
    items : list of str
        Rated columns on the same scale.
    scale : (int, int)
        Lowest and highest point; every whole point in between gets a row.
    weights : str, optional
        Weight column: shares are weighted (``n`` stays the count of respondents).
    labels : dict, optional
        ``{item: label}`` for display; default the item name.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per item and point (items in the given order): ``item, label,
        point, n`` (respondents giving that answer), ``n_item`` (respondents answering the
        item) and ``share`` (weighted share among those answering; shares of an item add up
        to 1, NaN when nobody answered).

    Raises
    ------
    DataError
        When an item holds a value that is not a whole point of the scale.

    Examples
    --------
    >>> df = pd.DataFrame({"q": [1, 2, 2, None], "w": [1.0, 1.0, 2.0, 1.0]})
    >>> likert_distribution(df, items=["q"], scale=(1, 3), weights="w")[["point", "n", "share"]]
       point  n  share
    0      1  1   0.25
    1      2  2   0.75
    2      3  0   0.00
    """
    check_frame(data)
    try:
        lo, hi = (int(scale[0]), int(scale[1]))
    except (TypeError, ValueError, IndexError):
        raise CsmError(f"The value for `scale` must be (lowest, highest) whole points, but {scale!r} was passed.") \
            from None
    if not (lo == scale[0] and hi == scale[1] and lo < hi):
        raise CsmError(f"The value for `scale` must be (lowest, highest) whole points with lowest < highest, "
                       f"but {scale!r} was passed.")
    items = list(dict.fromkeys(items))
    require_columns(data, items, what="data", fix="check the item names")
    w = get_weights(data, weights)
    labels = dict(labels or {})
    points = np.arange(lo, hi + 1)
    k = len(points)
    frames = []
    for item in items:
        v, bad = numbers_and_bad(data[item])
        ok = np.isfinite(v)
        off = bad | (ok & ((v < lo) | (v > hi) | (v != np.round(v))))
        if off.any():
            found = pd.Series(data[item][off]).drop_duplicates().tolist()
            verb = "is not a point" if len(found) == 1 else "are not points"
            raise DataError(f"column {item!r}: {preview_values(found)} {verb} of the scale {lo}-{hi} — fix the data, "
                            "check scales in study.yaml, or exclude out-of-range answers first")
        idx = (v[ok] - lo).astype(np.int64)
        counts = np.bincount(idx, minlength=k)
        wsum = np.bincount(idx, weights=w[ok], minlength=k)
        tot = wsum.sum()
        share = wsum / tot if tot > 0 else np.full(k, np.nan)
        frames.append(pd.DataFrame({"item": item, "label": str(labels.get(item, item)), "point": points,
                                    "n": counts.astype(np.int64), "n_item": int(ok.sum()), "share": share}))
    if not frames:
        return pd.DataFrame({"item": pd.Series(dtype=object), "label": pd.Series(dtype=object),
                             "point": pd.Series(dtype=np.int64), "n": pd.Series(dtype=np.int64),
                             "n_item": pd.Series(dtype=np.int64), "share": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)
