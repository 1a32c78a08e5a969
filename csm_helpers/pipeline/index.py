"""The output folder's ``index.html``: one row per segment report, KPI tiles, skipped and failed stages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from csm_helpers import __version__
from csm_helpers.core.i18n import HTML_LANG, N_, _, language, tr
from csm_helpers.core.safety import escape, readable, write_text_atomic
from csm_helpers.pipeline.export import check_static_html, templates_dir
from csm_helpers.present.catalogue import KPIS, format_kpi, kpi_short
from csm_helpers.study.stages import (
    STAGE_TITLES,
    skip_reason,
)

__all__ = ['BATCH_STATE', 'read_batch_state', 'note_done_in_batch_state', 'write_index']


# --------------------------------------------------------------------------- index
#: File in the output folder where ``csm batch`` keeps the state of its last run.
BATCH_STATE = "batch.json"




def _css() -> str:
    return (templates_dir() / "csm_report" / "static" / "report.css").read_text(encoding="utf-8")


def _kpi_tile(kpi: str, entry: Any) -> str:
    """One KPI of a segment's metrics.json as a small tile (value, interval, target status)."""
    if not isinstance(entry, dict):
        return '<td class="num csm-muted">—</td>'
    if entry.get("value") is None:
        return f'<td class="num csm-muted">{escape(_("suppressed"))}</td>'
    met = entry.get("met")
    status = "no target" if met is None else ("met" if met else "not met")
    shown = {"no target": N_("no target"), "met": N_("met"), "not met": N_("not met")}[status]
    interval = ""
    if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        interval = f"{format_kpi(kpi, entry['ci_low'])} – {format_kpi(kpi, entry['ci_high'])}"
    return (f'<td class="num"><div class="csm-tile csm-{status.replace(" ", "-")}">'
            f'<div class="csm-tile-value">{escape(format_kpi(kpi, entry["value"]))}</div>'
            f'<div class="csm-tile-line csm-muted">{escape(interval)}</div>'
            f'<div class="csm-tile-line">{escape(tr(shown))}</div></div></td>')


def read_batch_state(out_dir: Path) -> dict[str, Any] | None:
    """The state ``csm batch`` left in ``out_dir/batch.json``, or None (no batch, unreadable).

    Examples
    --------
    >>> import tempfile
    >>> read_batch_state(Path(tempfile.mkdtemp())) is None
    True
    """
    path = Path(out_dir) / BATCH_STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def note_done_in_batch_state(out_dir: Path, segment: str) -> None:
    """After ``csm run`` wrote a segment that an earlier ``csm batch`` in the same folder lists as
    failed or not run, mark it done there, so the index does not show a stale failure."""
    state = read_batch_state(out_dir)
    entries = [s for s in (state or {}).get("segments", []) if isinstance(s, dict) and s.get("segment") == segment]
    if not entries or all(e.get("status") in {"done", "skipped"} for e in entries):
        return
    for e in entries:
        e.update(status="done", error="")
    write_text_atomic(out_dir / BATCH_STATE, json.dumps(state, ensure_ascii=False, indent=1) + "\n")


def _report_row(out_dir: Path, folder: str, segment: str) -> tuple[str, dict[str, Any]] | None:
    """(links html, metrics) of a segment folder holding reports, else None."""
    seg_dir = out_dir / folder
    reports = sorted(seg_dir.glob("[0-9][0-9]_*.html")) if seg_dir.is_dir() else []
    if not reports:
        return None
    metrics: dict[str, Any] = {}
    metrics_path = seg_dir / "metrics.json"
    if metrics_path.is_file():
        try:
            loaded = json.loads(metrics_path.read_text(encoding="utf-8"))
            metrics = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            metrics = {}
    links = " · ".join(
        f'<a href="{escape(folder)}/{escape(r.name)}">{escape(tr(STAGE_TITLES.get(r.stem, r.stem)))}</a>'
        for r in reports)
    if metrics_path.is_file():
        links += f' · <a href="{escape(folder)}/metrics.json">metrics.json</a>'
    skipped = metrics.get("stages_skipped")
    if isinstance(skipped, dict) and skipped:
        links += "".join(f'<br><span class="csm-skipped">{escape(_("not run"))} — '
                         f"{escape(skip_reason(str(stage), [str(k) for k in keys]))}</span>"
                         for stage, keys in sorted(skipped.items()) if isinstance(keys, list))
    return links, metrics


def write_index(out_dir: Path, *, title: str, lang: str = "en") -> Path:
    """Write ``out_dir/index.html``: every segment's reports with its KPI tiles and n.

    Segments are the folders of ``out_dir`` holding stage reports. When ``csm batch`` wrote
    into ``out_dir`` (``batch.json``), its segments come first in its order, a segment that
    failed is listed with its error instead of links, and segments suppressed for their
    size are listed (without any figure) with the reason. Every text is escaped; the fixed
    text is in the study's language ``lang`` (errors of failed segments stay as written).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> "<th>细分</th>" in write_index(folder, title="Demo", lang="zh").read_text(encoding="utf-8")
    True
    """
    with language(lang):
        return _write_index(Path(out_dir), title=title, lang=lang)


def _write_index(out_dir: Path, *, title: str, lang: str) -> Path:
    state = read_batch_state(out_dir) or {}
    suppressed = {s.get("dir"): s for s in state.get("suppressed", []) if isinstance(s, dict)}
    batch_rows = [s for s in state.get("segments", []) if isinstance(s, dict) and s.get("dir")]
    order = [s["dir"] for s in batch_rows]
    order += sorted(p.name for p in out_dir.iterdir()
                    if p.is_dir() and not p.name.startswith(".") and p.name not in order)
    info = {s["dir"]: s for s in batch_rows}
    rows, failed = [], 0
    for folder in order:
        if folder in suppressed:
            continue
        entry = info.get(folder, {})
        status = entry.get("status", "done")
        segment = entry.get("segment", folder)
        if status in {"failed", "pending"}:
            failed += status == "failed"
            what = (_("failed: {error}", error=entry.get("error") or _("unknown error")) if status == "failed"
                    else _("not run (the batch was interrupted) — rerun with --resume"))
            n = entry.get("n")
            rows.append(f'<tr class="csm-failed"><td>{escape(readable(segment, max_chars=300))}</td>'
                        f'<td class="num">{escape(f"{n:,}" if isinstance(n, int) else "")}</td>'
                        f'<td colspan="{len(KPIS) + 1}"><strong>{escape(what.splitlines()[0])}</strong>'
                        f'{"".join(f"<br>{escape(line)}" for line in what.splitlines()[1:6])}</td></tr>')
            continue
        found = _report_row(out_dir, folder, segment)
        if found is None:
            continue
        links, m = found
        n = m.get("n")
        segment = m.get("segment", segment) if isinstance(m.get("segment"), str) else segment
        kpis = m.get("kpis") if isinstance(m.get("kpis"), dict) else {}
        rows.append(f"<tr><td>{escape(readable(segment, max_chars=300))}</td>"
                    f'<td class="num">{escape(f"{n:,}" if isinstance(n, int) else "")}</td>'
                    + "".join(_kpi_tile(k, kpis.get(k)) for k in KPIS)
                    + f"<td>{links}</td></tr>")
    head = "".join(f'<th class="num">{escape(kpi_short(k))}</th>' for k in KPIS)
    parts = [
        f"<table class=\"csm-table\"><thead><tr><th>{escape(_('Segment'))}</th><th class=\"num\">n</th>"
        + head + f"<th>{escape(_('Reports'))}</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    ]
    if state:
        by = state.get("by", "")
        done = sum(1 for s in batch_rows if s.get("status") in {"done", "skipped"})
        line = _("Batch by {by}: {done:,} of {total:,} segment(s) written, {failed:,} failed, "
                 "{suppressed:,} suppressed.", by=by, done=done, total=len(batch_rows), failed=failed,
                 suppressed=len(suppressed))
        if failed:
            line += " " + _("Failed segments are listed with their error; rerun with --resume to redo only those.")
        parts.insert(0, f'<p class="csm-study">{escape(line)}</p>')
    if suppressed:
        min_n = state.get("min_cell_size", "")
        reasons = {
            "primary": _("fewer respondents than the minimum cell size ({min_n})", min_n=min_n),
            "complementary": _("hidden as well so that the whole-study report minus the published "
                               "segments cannot reveal a smaller one (complementary suppression)"),
        }
        items = "".join(f"<li>{escape(s.get('segment', d))}: {escape(reasons.get(s.get('reason'), ''))}</li>"
                        for d, s in suppressed.items())
        parts.append(f"<h2>{escape(_('Suppressed segments'))}</h2>"
                     f"<p>{escape(_('No report is written for these segments (SPEC §4).'))}</p><ul>{items}</ul>")
    page = (
        f"<!DOCTYPE html><html lang=\"{HTML_LANG.get(lang, 'en')}\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(readable(title, max_chars=300))} — {escape(_('reports'))}</title>"
        f"<style>{_css()}</style></head>"
        f"<body class=\"csm-report\"><main><header class=\"csm-title-block\"><h1 class=\"csm-title\">"
        f"{escape(readable(title, max_chars=300))}</h1><p class=\"csm-study\">{escape(_('Reports by segment'))}"
        "</p></header>"
        + "".join(parts) +
        f"<footer class=\"csm-footer\"><p>csm-workbook {escape(__version__)}</p></footer>"
        "</main></body></html>"
    )
    check_static_html(page)
    path = out_dir / "index.html"
    if path.is_file() and path.read_text(encoding="utf-8") == page:
        return path  # unchanged: leave the file (and its time stamp) alone
    return write_text_atomic(path, page)
