"""The output folder's ``index.html``: one row per segment report, KPI tiles, skipped and failed stages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from csm_helpers import __version__
from csm_helpers.core.i18n import HTML_LANG, N_, _, language, tr
from csm_helpers.core.safety import readable, write_text_atomic
from csm_helpers.core.static_html import check_static_html
from csm_helpers.present.catalogue import KPIS, format_kpi, kpi_short, segment_label
from csm_helpers.present.templates import render, report_css
from csm_helpers.study.stages import (
    STAGE_TITLES,
    skip_reason,
)

__all__ = ["BATCH_STATE", "read_batch_state", "note_done_in_batch_state", "write_index"]


# --------------------------------------------------------------------------- index
#: File in the output folder where ``csm batch`` keeps the state of its last run.
BATCH_STATE = "batch.json"


def _kpi_tile(kpi: str, entry: Any) -> dict[str, str]:
    """One KPI of a segment's metrics.json as a small tile (value, interval, target status)."""
    if not isinstance(entry, dict):
        return {"kind": "none"}
    if entry.get("value") is None:
        return {"kind": "suppressed"}
    met = entry.get("met")
    status = "no target" if met is None else ("met" if met else "not met")
    shown = {"no target": N_("no target"), "met": N_("met"), "not met": N_("not met")}[status]
    interval = ""
    if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        interval = f"{format_kpi(kpi, entry['ci_low'])} – {format_kpi(kpi, entry['ci_high'])}"
    return {"kind": "value", "status_class": status.replace(" ", "-"), "value": format_kpi(kpi, entry["value"]),
            "interval": interval, "status": tr(shown)}


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


def _report_row(out_dir: Path, folder: str) -> dict[str, Any] | None:
    """Links, skipped stages and metrics of a segment folder holding reports, else None."""
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
    links = [{"href": f"{folder}/{r.name}", "text": tr(STAGE_TITLES.get(r.stem, r.stem))} for r in reports]
    if metrics_path.is_file():
        links.append({"href": f"{folder}/metrics.json", "text": "metrics.json"})
    skipped = metrics.get("stages_skipped")
    lines = [skip_reason(str(stage), [str(k) for k in keys]) for stage, keys in sorted(skipped.items())
             if isinstance(keys, list)] if isinstance(skipped, dict) else []
    return {"links": links, "skipped": lines, "metrics": metrics}


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
            rows.append({"failed": True, "segment": readable(segment_label(segment), max_chars=300),
                         "n": f"{n:,}" if isinstance(n, int) else "", "lines": what.splitlines()[:6] or [""]})
            continue
        found = _report_row(out_dir, folder)
        if found is None:
            continue
        m = found["metrics"]
        # the base of the KPIs (the reported wave after the data-quality checks), as in the report header
        n = m.get("n_reported") if isinstance(m.get("n_reported"), int) else m.get("n")
        segment = m.get("segment", segment) if isinstance(m.get("segment"), str) else segment
        kpis = m.get("kpis") if isinstance(m.get("kpis"), dict) else {}
        rows.append({"failed": False, "segment": readable(segment_label(segment), max_chars=300),
                     "n": f"{n:,}" if isinstance(n, int) else "", "tiles": [_kpi_tile(k, kpis.get(k)) for k in KPIS],
                     "links": found["links"], "skipped": found["skipped"]})
    batch_line = ""
    if state:
        done = sum(1 for s in batch_rows if s.get("status") in {"done", "skipped"})
        batch_line = _("Batch by {by}: {done:,} of {total:,} segment(s) written, {failed:,} failed, "
                       "{suppressed:,} suppressed.", by=state.get("by", ""), done=done, total=len(batch_rows),
                       failed=failed, suppressed=len(suppressed))
        if failed:
            batch_line += " " + _("Failed segments are listed with their error; rerun with --resume to redo only those.")
    min_n = state.get("min_cell_size", "")
    reasons = {
        "primary": _("fewer respondents than the minimum cell size ({min_n})", min_n=min_n),
        "complementary": _("hidden as well so that the whole-study report minus the published "
                           "segments cannot reveal a smaller one (complementary suppression)"),
    }
    page = render(
        "csm_index/index.html.j2", html_lang=HTML_LANG.get(lang, "en"), title=readable(title, max_chars=300),
        css=report_css(), version=__version__, batch_line=batch_line, rows=rows,
        kpi_headers=[kpi_short(k) for k in KPIS],
        suppressed=[{"segment": s.get("segment", d), "reason": reasons.get(s.get("reason"), "")}
                    for d, s in suppressed.items()],
        t={"reports": _("reports"), "reports_by_segment": _("Reports by segment"), "segment": _("Segment"),
           "reports_header": _("Reports"), "suppressed": _("suppressed"), "not_run": _("not run"),
           "suppressed_segments": _("Suppressed segments"),
           "no_report": _("No report is written for these segments (SPEC §4).")},
    )
    check_static_html(page)
    path = out_dir / "index.html"
    if path.is_file() and path.read_text(encoding="utf-8") == page:
        return path  # unchanged: leave the file (and its time stamp) alone
    return write_text_atomic(path, page)
