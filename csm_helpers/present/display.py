"""Showing results in a notebook and in the HTML report, safely.

Everything a report shows goes through these functions: tables are rendered by pandas with
HTML escaping on, free text is escaped, and charts are embedded as SVG (a researcher's own
matplotlib figure as a PNG). No function here
ever passes caller text through as markup, so a verbatim such as
``<img src=x onerror=alert(1)>`` is shown as text, never run (SPEC §4).

Rounding happens here (display step), never inside the analysis helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.i18n import _, tr
from csm_helpers.core.safety import escape, readable
from csm_helpers.present.catalogue import format_count, format_points
from csm_helpers.present.charts.canvas import Chart
from csm_helpers.present.templates import NOT_COVERED_MIME


def _text(value: Any, max_chars: int | None = None) -> str:
    """Customer-safe text for HTML: readable (controls visible, bidi overrides shown, long text
    cut with a note; :func:`csm_helpers.core.safety.readable`), then escaped."""
    if max_chars is None:
        return escape(readable(value))
    return escape(readable(value, max_chars=max_chars))

#: Columns that hold data as written (customer text, labels, segment values): never translated.
RAW_COLUMNS = frozenset({"comment", "comments", "text", "quote", "quotes", "verbatim", "label",
                         "attribute", "group", "segment", "id", "example", "examples", "name",
                         "wave", "owner", "due_date", "action", "source", "file", "sha256", "key",
                         "software", "version", "question", "anchor_low", "anchor_high", "item_name"})

__all__ = ["Html", "table_html", "show_table", "show_text", "show_callout", "show_quotes",
           "show_figure", "figure_png", "fmt_pct", "fmt_pts", "fmt_num", "show_facts", "show_not_covered", "NOT_COVERED_MIME"]


class Html:
    """An HTML fragment built by this module (already escaped), shown as rich output.

    Examples
    --------
    >>> Html("<p>ok</p>")._repr_html_()
    '<p>ok</p>'
    """

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # plain-text fallback (e.g. in a terminal)
        return f"<Html {len(self.markup)} chars>"


def _display(obj: Any, **options: Any) -> None:
    """IPython's ``display`` (``raw=True, metadata=...`` for a ready mime bundle)."""
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(obj)
        return
    display(obj, **options)


def fmt_pct(value: Any, digits: int = 0) -> str:
    """Format a proportion as a percentage ("n/a" for missing).

    Examples
    --------
    >>> fmt_pct(0.4567)
    '46%'
    >>> fmt_pct(float("nan"))
    'n/a'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def fmt_pts(value: Any, digits: int = 1) -> str:
    """Format a difference of two proportions in percentage points, signed ("n/a" for missing;
    :func:`csm_helpers.present.catalogue.format_points`, as the KPI changes).

    Examples
    --------
    >>> fmt_pts(0.0312), fmt_pts(-0.12)
    ('+3.1 pts', '−12.0 pts')
    """
    return format_points(value, digits=digits, missing="n/a")


def fmt_num(value: Any, digits: int = 1) -> str:
    """Format a number with fixed decimals; integers stay integers; "n/a" for missing.

    Examples
    --------
    >>> fmt_num(3.14159, 2), fmt_num(12), fmt_num(None)
    ('3.14', '12', 'n/a')
    """
    if value is None or pd.isna(value):
        return "n/a"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


_TOKENS = {"ci": "CI", "sd": "SD", "se": "SE", "moe": "MoE", "csi": "CSI", "csat": "CSAT", "nps": "NPS",
           "pct": "%", "n": "n", "r": "r", "p": "p", "df": "df", "np2": "partial η²", "rbc": "r (rank-biserial)",
           "dz": "d_z", "eff": "eff"}


def _humanise(column: Any) -> str:
    """Default header: ``ci_low`` -> ``CI low``, ``n_eff`` -> ``n eff`` (``rename=`` overrides it).

    Examples
    --------
    >>> _humanise("ci_low"), _humanise("n_eff"), _humanise("share_of_commenters")
    ('CI low', 'n eff', 'Share of commenters')
    """
    words = [_TOKENS.get(w.lower(), w) for w in str(column).strip().split("_") if w]
    if not words:
        return ""
    first = words[0]
    if first == first.lower() and first not in _TOKENS.values():
        words[0] = first[:1].upper() + first[1:]
    return " ".join(words)


def _default_number(value: Any) -> str:
    if pd.isna(value):
        return "n/a"
    return fmt_num(int(value)) if float(value).is_integer() else fmt_num(value, 2)


def table_html(data: pd.DataFrame, *, caption: str | None = None,
               formats: Mapping[str, str | Callable[[Any], str]] | None = None,
               rename: Mapping[str, str] | None = None, index: bool = False,
               max_rows: int | None = None) -> str:
    """Render a DataFrame as an escaped HTML table (class ``csm-table``).

    Parameters
    ----------
    data : DataFrame
        The table; not modified.
    caption : str, optional
        Caption shown above the table (escaped).
    formats : mapping, optional
        Column -> format string (``"{:.2f}"``) or callable returning a string, applied for
        display only. Missing values show as "n/a".
    rename : mapping, optional
        Column -> header text for the reader; other headers are the column names with
        ``_`` as spaces and a capital first letter.
    index : bool
        Whether to show the index.
    max_rows : int, optional
        Show at most this many rows and say how many were left out.

    Notes
    -----
    Boolean columns show as yes/no; a ``suppressed`` column in which nothing is suppressed
    is left out.

    Examples
    --------
    >>> html = table_html(pd.DataFrame({"comment": ["<script>x</script>"], "share": [0.5]}),
    ...                   formats={"share": fmt_pct})
    >>> "<script>" in html, "&lt;script&gt;" in html, "50%" in html
    (False, True, True)
    """
    shown = data
    if "suppressed" in shown.columns and not shown["suppressed"].fillna(False).astype(bool).any():
        shown = shown.drop(columns="suppressed")  # nothing suppressed: the column says nothing
    more = 0
    if max_rows is not None and len(shown) > max_rows:
        more = len(shown) - max_rows
        shown = shown.head(max_rows)
    columns = list(shown.columns)
    numeric = [pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
               for dtype in shown.dtypes]
    # Each column as the reader's strings, built as plain lists (a DataFrame column written
    # back per column costs more than the whole table).
    cells = [_column_text(col, shown.iloc[:, i], numeric[i], (formats or {}).get(col))
             for i, col in enumerate(columns)]
    _hide_suppressed_counts(columns, cells, data)
    header = [tr((rename or {}).get(c, _humanise(c))) for c in columns]
    classes = [' class="num"' if num else "" for num in numeric]
    parts = ['<div class="csm-table-wrap"><table class="csm-table">']
    if caption:
        parts.append(f"<caption>{_text(tr(caption))}</caption>")
    parts.append("<thead><tr>")
    if index:
        parts.append(f"<th>{_text(shown.index.name or '')}</th>")
    for cls, head in zip(classes, header, strict=True):
        parts.append(f"<th{cls}>{_text(head)}</th>")
    parts.append("</tr></thead><tbody>")
    for idx, row in zip(shown.index, zip(*cells, strict=True) if cells else [()] * len(shown), strict=True):
        parts.append("<tr>")
        if index:
            parts.append(f"<th>{_text(idx)}</th>")
        for cls, value in zip(classes, row, strict=True):
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            parts.append(f"<td{cls}>{_text(text)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    if more:
        parts.append(f'<p class="csm-note">{escape(_("… and {more:,} more rows not shown.", more=more))}</p>')
    return "".join(parts)


def _column_text(col: Any, values: pd.Series, numeric: bool, fmt: str | Callable[[Any], str] | None) -> list[Any]:
    """One column's cells for :func:`table_html`: formatted by ``fmt`` when given, yes/no for
    booleans, numbers with :func:`_default_number`, other text translated unless the column
    holds data as written (:data:`RAW_COLUMNS`)."""
    items = values.tolist()
    if fmt is not None:
        func = fmt if callable(fmt) else (lambda v, f=fmt: "n/a" if pd.isna(v) else f.format(v))
        return [func(v) for v in items]
    if pd.api.types.is_bool_dtype(values.dtype):
        yes_no = {True: _("yes"), False: _("no")}
        return [yes_no[bool(v)] if isinstance(v, bool | np.bool_) else None for v in items]
    if numeric:
        return [_default_number(v) for v in items]
    if str(col).lower() not in RAW_COLUMNS and (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
        return [tr(v) if isinstance(v, str) else v for v in items]
    return items


def _hide_suppressed_counts(columns: list[Any], cells: list[list[Any]], data: pd.DataFrame) -> None:
    """In place: the count of a suppressed row reads "fewer than 5" or "hidden", never the number.

    The count column is the one :func:`csm_helpers.analysis.stats.suppress` kept
    (``data.attrs["count_column"]``, else ``n``); every other statistic of the row is missing already.
    """
    if "suppressed" not in data.columns:
        return
    column = data.attrs.get("count_column", "n")
    if column not in columns:
        return
    shown = cells[columns.index(column)]
    rows = np.flatnonzero(data["suppressed"].fillna(False).astype(bool).to_numpy()[:len(shown)])
    if not rows.size:
        return
    min_n, values = data.attrs.get("min_n"), data[column].to_numpy()
    for i in rows:  # positions: the cells are the first rows of ``data``
        shown[i] = format_count(values[i], suppressed=True, min_n=min_n)


def show_table(data: pd.DataFrame, **kwargs: Any) -> None:
    """Display :func:`table_html` of ``data`` (same arguments)."""
    _display(Html(table_html(data, **kwargs)))


def show_text(text: str, *, tag: str = "p") -> None:
    """Display escaped text as a paragraph (or another simple tag: p, li, h3, h4)."""
    if tag not in {"p", "h3", "h4", "li"}:
        raise ValueError(f"tag must be one of p, h3, h4, li, but {tag!r} was passed")
    _display(Html(f"<{tag}>{_text(tr(text))}</{tag}>"))


def show_callout(text: str, *, kind: str = "info") -> None:
    """Display an escaped call-out box; ``kind`` is "info", "ok" or "warn"."""
    if kind not in {"info", "ok", "warn"}:
        raise ValueError(f"kind must be one of info, ok, warn, but {kind!r} was passed")
    _display(Html(f'<div class="csm-callout {kind}">{_text(tr(text))}</div>'))


class NotCovered(Html):
    """A section's "not covered" note: a call-out in JupyterLab, a list item in the report."""

    def __init__(self, reason: str) -> None:
        super().__init__(f'<div class="csm-callout">{_text(reason)}</div>')
        self.reason = reason

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/html": self.markup, NOT_COVERED_MIME: {"reason": self.reason}}


def show_not_covered(text: str) -> None:
    """Say that this section has no input in the study, and what to add.

    In JupyterLab it shows as a call-out. In the exported report the whole section (its
    heading included) is left out, and ``text`` goes to one short "Not covered by this study"
    list at the end, so that a manager reads only sections with content and the contents list
    only those (:func:`csm_helpers.pipeline.export.export_html`).

    Examples
    --------
    >>> NotCovered("No complaint log (key 'complaints')")._repr_mimebundle_()[NOT_COVERED_MIME]
    {'reason': "No complaint log (key 'complaints')"}
    """
    _display(NotCovered(tr(text)))


def show_facts(facts: Mapping[str, Any]) -> None:
    """Display a short list of label: value facts (both escaped)."""
    items = "".join(f"<li><strong>{_text(tr(k))}:</strong> {_text(v)}</li>" for k, v in facts.items())
    _display(Html(f"<ul>{items}</ul>"))


def show_quotes(quotes: list[str], *, limit: int = 5, max_chars: int = 400) -> None:
    """Display customer verbatims as escaped quotes (trimmed, at most ``limit``)."""
    parts = []
    for q in quotes[:limit]:
        parts.append(f'<blockquote class="csm-quote">{_text(q, max_chars)}</blockquote>')
    _display(Html("".join(parts)))


def figure_png(fig: Any, *, dpi: int = 120, overlaps: list[Any] | None = None) -> bytes:
    """PNG bytes of a matplotlib figure: :func:`csm_helpers.present.charts.raster.figure_png`
    (imported when needed: a report of SVG charts never loads matplotlib)."""
    from csm_helpers.present.charts import raster

    return raster.figure_png(fig, dpi=dpi, overlaps=overlaps)


def show_figure(ax_or_fig: Any, *, alt: str | None = None, dpi: int = 120) -> None:
    """Display a chart: an SVG chart as it is, a matplotlib chart as an embedded PNG (closed,
    so that it is not shown twice).

    Parameters
    ----------
    ax_or_fig : Chart, or matplotlib Axes or Figure
        What a plot helper returned.
    alt : str, optional
        Text alternative for the image (defaults to the chart's title).

    Notes
    -----
    An SVG chart (:class:`~csm_helpers.present.charts.canvas.Chart`) is shown as
    ``image/svg+xml`` with its metadata (text alternative, characters, smallest text size,
    overlapping labels): the report exporter puts it into the page as inline SVG and gives
    the page one font for all its charts (:func:`csm_helpers.pipeline.export.prepare_report`).
    """
    if isinstance(ax_or_fig, Chart):
        meta = ax_or_fig.metadata()
        if alt is not None:
            meta["alt"] = readable(alt, max_chars=300)
        _display({"image/svg+xml": ax_or_fig.svg(), "text/plain": meta["alt"]}, raw=True,
                 metadata={"image/svg+xml": meta})
        return
    from csm_helpers.present.charts import raster  # matplotlib: only for a researcher's own figure

    raster.show_png(ax_or_fig, alt=alt, dpi=dpi, show=_display)
