"""The KPI catalogue: how every report, chart, index page and e-mail names and writes a KPI,
its change and a p-value. One place, so a reader sees the same words and digits everywhere.

SPEC §1.4 defines the KPIs: CSAT is the top-2-box share (stored as a proportion 0–1, shown in
%), CSI is 0–100, NPS is −100 to +100. A value has one decimal; a change is signed (CSAT in
percentage points); negative numbers use the typographic minus (U+2212).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from csm_helpers.core.i18n import N_, _, tr

__all__ = ["KpiSpec", "KPIS", "MINUS", "segment_label", "block_label", "ci_text", "kpi_label", "kpi_short", "kpi_range", "format_kpi", "format_points", "format_change",
           "format_p", "format_p_cell", "format_count"]

#: The minus sign of a negative number in reader-facing text.
MINUS = "\u2212"


@dataclass(frozen=True)
class KpiSpec:
    """How one KPI is shown: its name in full and short (msgids) and its range (as stored)."""

    label: str
    short: str
    low: float
    high: float
    percent: bool = False


#: The headline KPIs (SPEC §1.4), in report order.
KPIS: dict[str, KpiSpec] = {
    "csat_top2": KpiSpec(N_("CSAT (top-2 box)"), N_("CSAT"), 0.0, 1.0, percent=True),
    "csi": KpiSpec(N_("CSI (0–100)"), N_("CSI"), 0.0, 100.0),
    "nps": KpiSpec(N_("NPS (−100 to +100)"), N_("NPS"), -100.0, 100.0),
}


def segment_label(segment: str) -> str:
    """A segment as a reader names it: ``region=Hanoi`` -> ``Region: Hanoi``, ``all`` -> "All customers".

    Used by the report header, the index page and the e-mail subject, so that none of them
    shows the raw ``column=value`` key.

    Examples
    --------
    >>> segment_label("region=Hanoi"), segment_label("customer_type=small business"), segment_label("all")
    ('Region: Hanoi', 'Customer type: small business', 'All customers')
    """
    text = str(segment or "all")
    if text.strip() == "all":
        return _("All customers")
    column, sep, value = text.partition("=")
    name = " ".join(column.replace("_", " ").split())
    if not sep or not name:
        return text
    return f"{tr(name[:1].upper() + name[1:])}: {value.strip() or value}"


def block_label(block: str, labels: Any = None) -> str:
    """A block of the satisfaction model as a reader names it: its label from ``labels`` (a mapping
    block -> name), else its name capitalised with spaces for ``_``, translated.

    Used by the path diagram and the model's tables, so both name a block the same way.

    Examples
    --------
    >>> block_label("perceived_value"), block_label("sat", {"sat": "Satisfaction"})
    ('Perceived value', 'Satisfaction')
    """
    return tr((labels or {}).get(block, block.replace("_", " ").capitalize()))


def ci_text(low: str, high: str, level: float = 0.95, *, sep: str = " – ") -> str:
    """"95% CI 61.2 – 64.8": an interval already formatted, labelled with its confidence level
    (the study's ``analysis.level``), in the report language.

    Examples
    --------
    >>> ci_text("61.2", "64.8"), ci_text("12%", "20%", 0.9, sep="–")
    ('95% CI 61.2 – 64.8', '90% CI 12%–20%')
    """
    pct = f"{float(level) * 100:g}%"
    if sep == "–":
        return _("{level} CI {low}–{high}", level=pct, low=low, high=high)
    return _("{level} CI {low} – {high}", level=pct, low=low, high=high)


def kpi_label(kpi: str) -> str:
    """The KPI's full name in the report language; an unknown KPI id as it is.

    Examples
    --------
    >>> kpi_label("csi"), kpi_label("my_index")
    ('CSI (0–100)', 'my_index')
    """
    spec = KPIS.get(kpi)
    return tr(spec.label) if spec else str(kpi)


def kpi_short(kpi: str) -> str:
    """The KPI's short name (``CSAT``, ``CSI``, ``NPS``) in the report language.

    Examples
    --------
    >>> kpi_short("csat_top2")
    'CSAT'
    """
    spec = KPIS.get(kpi)
    return tr(spec.short) if spec else str(kpi)


def kpi_range(kpi: str) -> tuple[float, float]:
    """The KPI's possible range as stored (CSAT 0–1); (nan, nan) for an unknown KPI.

    Examples
    --------
    >>> kpi_range("nps")
    (-100.0, 100.0)
    """
    spec = KPIS.get(kpi)
    return (spec.low, spec.high) if spec else (math.nan, math.nan)


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def format_kpi(kpi: str, value: Any, *, signed: bool = False, missing: str = "n/a") -> str:
    """A KPI value as a reader reads it: CSAT in % and CSI with one decimal, NPS signed.

    Parameters
    ----------
    kpi : str
        ``csat_top2``, ``csi``, ``nps`` (another id is written like CSI).
    value : float or None
        As stored (CSAT as a proportion).
    signed : bool
        Always show the sign (a difference).
    missing : str
        The text for a missing or non-finite value.

    Examples
    --------
    >>> format_kpi("csat_top2", 0.7125), format_kpi("csi", 72.34), format_kpi("nps", -9.26)
    ('71.2%', '72.3', '−9.3')
    >>> format_kpi("nps", None)
    'n/a'
    """
    v = _number(value)
    if not math.isfinite(v):
        return missing
    spec = KPIS.get(kpi)
    if spec is not None and spec.percent:
        text = f"{v * 100:+.1f}%" if signed else f"{v * 100:.1f}%"
    elif kpi == "nps" or signed:
        text = f"{v:+.1f}"
    else:
        text = f"{v:.1f}"
    return text.replace("-", MINUS)


def format_points(value: Any, *, digits: int = 1, missing: str = "–") -> str:
    """A difference of two proportions in percentage points: signed, U+2212 minus, "pts".

    Examples
    --------
    >>> format_points(-0.031), format_points(0.12, digits=0), format_points(None, missing="n/a")
    ('−3.1 pts', '+12 pts', 'n/a')
    """
    v = _number(value)
    if not math.isfinite(v):
        return missing
    return _("{change} pts", change=f"{v * 100:+.{digits}f}".replace("-", MINUS))


def format_change(kpi: str, value: Any, *, missing: str = "–") -> str:
    """A KPI change: signed, one decimal, CSAT in percentage points.

    Examples
    --------
    >>> format_change("csat_top2", -0.031), format_change("csi", 1.25)
    ('−3.1 pts', '+1.2')
    """
    v = _number(value)
    if not math.isfinite(v):
        return missing
    spec = KPIS.get(kpi)
    if spec is not None and spec.percent:
        return format_points(v)
    return f"{v:+.1f}".replace("-", MINUS)


def format_p(p: Any) -> str:
    """A p-value in a sentence or a chart: ``p < 0.001``, ``p = 0.034``, ``p not defined``.

    Examples
    --------
    >>> format_p(0.0004), format_p(0.0344), format_p(float("nan"))
    ('p < 0.001', 'p = 0.034', 'p not defined')
    """
    v = _number(p)
    if not math.isfinite(v):
        return _("p not defined")
    return _("p < 0.001") if v < 0.001 else _("p = {p}", p=f"{v:.3f}")


def format_p_cell(p: Any) -> str:
    """A p-value in a table column headed p: ``< 0.001``, ``0.034``, ``n/a``.

    Examples
    --------
    >>> format_p_cell(0.0004), format_p_cell(0.0344), format_p_cell(None)
    ('< 0.001', '0.034', 'n/a')
    """
    v = _number(p)
    if not math.isfinite(v):
        return "n/a"
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def format_count(n: Any, *, suppressed: bool = False, min_n: int | None = None, prefix: bool = False) -> str:
    """A group's respondent count as a report shows it; a suppressed group's count is never shown.

    SPEC §4 hides every statistic of a group below ``min_cell_size``, and its size is one of
    them: a table or chart label "kiosk (n = 1)" tells the reader who answered. A group below
    ``min_n`` is shown as "fewer than 5"; a group hidden although it is larger (complementary
    suppression, or withheld so that a smaller group cannot be worked out by difference) as
    "hidden", since its exact size would undo that protection. This is the one place every
    table, chart label and tile formats a count through.

    Parameters
    ----------
    n : number
        The respondents behind the figure (missing: "n/a").
    suppressed : bool
        Whether the group's figures are suppressed.
    min_n : int, optional
        The study's minimum cell size; without it a suppressed count is "hidden".
    prefix : bool
        Start a shown count with "n = " (for chart labels and tiles).

    Examples
    --------
    >>> format_count(1158), format_count(1158, prefix=True)
    ('1,158', 'n = 1,158')
    >>> format_count(1, suppressed=True, min_n=5), format_count(483, suppressed=True, min_n=5)
    ('fewer than 5', 'hidden')
    """
    v = _number(n)
    if suppressed:
        return _("fewer than {n}", n=min_n) if min_n is not None and math.isfinite(v) and v < min_n else _("hidden")
    if not math.isfinite(v):
        return "n/a"
    text = f"{v:,.0f}"
    return f"n = {text}" if prefix else text
