"""Helpers shared by the discovery modules."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from csm_helpers.core.errors import DataError
from csm_helpers.core.i18n import N_

__all__ = ["is_missing", "require_columns"]


#: Words shown in the report tables (source groups and sides of :func:`interview_summary`,
#: flags of :func:`perception_gap`), marked here for the catalogs; the tables keep them in
#: English (they feed metrics.json) and the display step translates them.
_SHOWN_WORDS = (N_("customer"), N_("lost_customer"), N_("competitor_customer"), N_("executive"),
                N_("employee"), N_("company"))


def is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


#: The item types, as shown in the questionnaire table.
_ITEM_TYPE_WORDS = (N_("performance"), N_("importance"), N_("expectation"))


def require_columns(data: pd.DataFrame, columns: list[str], what: str, maker: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        found = ", ".join(map(str, data.columns)) or "no columns"
        raise DataError(f"{what}: column {', '.join(repr(m) for m in missing)} is missing (found: {found}) — "
                        f"pass the table {maker} returns")
