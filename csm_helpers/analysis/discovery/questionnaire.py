"""The draft questionnaire of stage 02: one item per attribute, written as a formula-safe CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from csm_helpers.analysis.discovery.common import require_columns
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_, tr
from csm_helpers.core.safety import to_safe_csv

__all__ = ["draft_questionnaire", "write_questionnaire_csv"]


# --------------------------------------------------------------------------- questionnaire
_ITEM_TYPES = (
    # item_type, prefix, question, anchor_low, anchor_high (in the report language at use)
    ("performance", "perf", N_("How would you rate {label}?"), N_("Very poor"), N_("Excellent")),
    ("importance", "imp", N_("How important is {label} to you?"), N_("Not at all important"),
     N_("Extremely important")),
    ("expectation", "exp", N_("What level of {label} do you expect?"), N_("Very low"), N_("Very high")),
)


def draft_questionnaire(affinity: pd.DataFrame, *, scale: tuple[int, int] = (1, 5),
                        customer_only: bool = True) -> pd.DataFrame:
    """Draft survey items for the customer-defined attributes (SPEC §1.2).

    Each attribute gets a performance, an importance and an expectation item, so that stage 04
    can run all four measurement methods (direct rating, expectation-perception gap,
    importance-performance analysis, derived importance).

    Parameters
    ----------
    affinity : pandas.DataFrame
        From :func:`affinity_table`.
    scale : (int, int)
        Lowest and highest answer of the rating scale (``discovery.questionnaire_scale``).
    customer_only : bool
        True (default): only attributes that at least one customer-side interview mentioned
        (only customers define what is measured); False: every attribute mentioned by anyone.

    Returns
    -------
    pandas.DataFrame
        Three blocks (all performance items, then importance, then expectation), each in the
        affinity table's order; columns ``attribute``, ``dimension``, ``label``,
        ``item_type`` (``performance``, ``importance``, ``expectation``), ``item_name``
        (``perf_<id>``, ``imp_<id>``, ``exp_<id>``), ``question`` (in the report language, see
        :mod:`csm_helpers.core.i18n`; English by default), ``scale_min``, ``scale_max``, ``anchor_low``,
        ``anchor_high`` (also in the report language).

    Raises
    ------
    CsmError
        When ``scale`` is not two whole numbers, lowest first.

    Examples
    --------
    >>> aff = pd.DataFrame({"dimension": ["people", "product"], "theme": ["Staff", "Price"],
    ...                     "attribute": ["courtesy", "fees"], "label": ["staff courtesy", "fees"],
    ...                     "mentions": [3, 2], "customer_mentions": [2, 0], "company_mentions": [1, 2],
    ...                     "share": [0.6, 0.4]})
    >>> draft_questionnaire(aff)[["item_name", "question"]]
           item_name                                     question
    0  perf_courtesy           How would you rate staff courtesy?
    1   imp_courtesy      How important is staff courtesy to you?
    2   exp_courtesy  What level of staff courtesy do you expect?
    """
    check_frame(affinity, "affinity table")
    require_columns(affinity, ["attribute", "dimension", "label", "mentions", "customer_mentions"],
             "affinity table", "affinity_table()")
    if (not isinstance(scale, tuple | list) or len(scale) != 2
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in scale)
            or not scale[0] < scale[1]):
        raise CsmError(f"The value for `scale` must be two whole numbers, lowest first (e.g. (1, 5)), "
                       f"but {scale!r} was passed — fix discovery.questionnaire_scale in study.yaml")
    lo, hi = int(scale[0]), int(scale[1])
    counts = affinity["customer_mentions"] if customer_only else affinity["mentions"]
    chosen = affinity[counts.to_numpy() > 0]
    rows = []
    for item_type, prefix, question, low, high in _ITEM_TYPES:
        for attr, dim, label in zip(chosen["attribute"], chosen["dimension"], chosen["label"], strict=True):
            rows.append({"attribute": attr, "dimension": dim, "label": label, "item_type": item_type,
                         "item_name": f"{prefix}_{attr}", "question": tr(question, label=label),
                         "scale_min": lo, "scale_max": hi, "anchor_low": tr(low), "anchor_high": tr(high)})
    cols = ["attribute", "dimension", "label", "item_type", "item_name", "question",
            "scale_min", "scale_max", "anchor_low", "anchor_high"]
    return pd.DataFrame(rows, columns=cols).astype({"scale_min": "int64", "scale_max": "int64"})


def write_questionnaire_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the draft questionnaire as CSV for the survey tool.

    UTF-8 with BOM, written atomically, with every cell that a spreadsheet would run as a
    formula neutralised (:func:`csm_helpers.core.safety.to_safe_csv`), since labels come from the
    codebook and may hold customer wording.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> q = pd.DataFrame({"item_name": ["perf_x"], "question": ["=HYPERLINK(1)"]})
    >>> p = write_questionnaire_csv(q, pathlib.Path(tempfile.mkdtemp()) / "q.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()[1]
    "perf_x,'=HYPERLINK(1)"
    """
    check_frame(df, "questionnaire")
    return to_safe_csv(df, path)
