"""Run stage notebooks with papermill and turn them into static HTML reports.

``run_study`` is what ``csm run`` calls. For one segment it

1. loads and validates the study and all its data once (bad input stops here, before any
   notebook runs);
2. executes each stage notebook with papermill into a private staging folder inside the
   output folder, passing ``study_path``, ``segment`` and ``output_dir``;
3. exports each executed notebook with the ``csm_report`` nbconvert template (no code, no
   prompts, no script, images embedded), adds a table of contents and checks the result is
   static;
4. merges the metrics each notebook recorded into ``metrics.json``;
5. only when every stage succeeded, moves the files into place (``os.replace``, atomic per
   file) and rewrites ``index.html``. On any failure the staging folder is removed, so the
   output folder holds either the previous good reports or the new ones, never a half.

Steps 2-5 for one segment are :func:`build_segment` (execute, export, merge metrics into a
staging folder) and :func:`commit_segment` (rename into place). ``build_segment`` takes the
stage executor as an argument: ``csm run`` passes :func:`execute_stage` (a new kernel per
notebook, as the papermill CLI does), ``csm batch`` passes a warm kernel
(:mod:`csm_helpers.kernels`) that runs the same notebook through papermill.
"""

from __future__ import annotations

import datetime as _dt
import html.parser
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat

from . import __version__
from .config import Study, load_study
from .datasets import sample_study_path
from .errors import ConfigError, CsmError, ReportError
from .i18n import HTML_LANG, N_, _, get_language, language, tr, translate_markdown
from .safety import escape, file_sha256, readable, write_text_atomic
from .stages import (
    STAGE_TITLES,
    check_notebooks_folder,
    notebooks_dir,
    skip_reason,
    stage_names,
    stage_support,
    study_notebooks,
)
from .workbook import METRICS_FRAGMENT_DIR, parse_segment, to_jsonable

__all__ = [
    "STAGE_TITLES",
    "RunResult",
    "available_stages",
    "notebooks_dir",
    "templates_dir",
    "validate_study",
    "execute_stage",
    "export_html",
    "check_static_html",
    "write_index",
    "run_study",
    "segment_dirname",
    "file_sha256",
    "RunPlan",
    "plan_run",
    "resolve_stages",
    "build_segment",
    "commit_segment",
    "segment_is_done",
    "report_summary_json",
    "read_batch_state",
]

def _resource_dir(packaged: str, source: str) -> Path:
    pkg = Path(str(resources.files("csm_helpers") / packaged))
    if pkg.is_dir():
        return pkg
    src = Path(__file__).resolve().parents[1] / source
    if src.is_dir():
        return src
    raise ReportError(f"the {source}/ folder is missing from this installation — reinstall csm-workbook")


def templates_dir() -> Path:
    """Folder holding the ``csm_report`` nbconvert template."""
    return _resource_dir("_templates", "templates")


def available_stages() -> list[str]:
    """Stage names (notebook stems) in run order.

    Examples
    --------
    >>> available_stages()[:2]
    ['01_goal_setting', '02_discovery']
    """
    return stage_names(notebooks_dir())


def segment_dirname(segment: str) -> str:
    """Folder name for a segment: ``all``, or ``column=value`` made safe for any file system.

    Examples
    --------
    >>> segment_dirname("all"), segment_dirname("region=Ho Chi Minh City")
    ('all', 'region=Ho_Chi_Minh_City')
    >>> segment_dirname("region=../../etc")
    'region=.._.._etc'
    """
    name = re.sub(r"[^\w.=-]+", "_", segment.strip(), flags=re.UNICODE).strip("._") or "segment"
    return name[:120]


# --------------------------------------------------------------------------- validation
@dataclass
class StudyCheck:
    """What :func:`validate_study` found: the study, row counts and warnings."""

    study: Study
    n_responses: int
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    #: the validated responses (personal-data columns removed), so callers need not read them again
    data: Any = field(default=None, repr=False)


def validate_study(study_path: str | Path | None = None) -> StudyCheck:
    """Load and check the whole study: config, goals, codebook, responses and every table.

    Raises
    ------
    CsmError
        The first kind of problem found, with every problem of that file listed.

    Examples
    --------
    >>> check = validate_study()
    >>> check.n_responses >= 2000
    True
    """
    from .config import load_codebook, load_goals
    from .io import load_responses, read_study_table
    from .validate import validate_responses

    study = load_study(study_path or sample_study_path())
    load_goals(study)
    load_codebook(study)
    table = load_responses(study, validate=False)
    report = validate_responses(table, study)
    if report.errors:
        from .errors import DataError

        raise DataError(f"{table.source.name}: {len(report.errors)} problem(s) in the survey data",
                        report.errors)
    check = StudyCheck(study=study, n_responses=len(table.data), warnings=list(report.warnings), data=table.data)
    for key in ("population", "complaints", "lost_customers"):
        if getattr(study, key):
            check.tables[key] = len(read_study_table(study, key).data)
    _check_analysis_inputs(study)
    check.warnings += _section_warnings(study, table.data)
    if study.interviews:
        spec = study.interviews
        from .discovery import prepare_interviews

        t = read_study_table(study, "interviews", required=[spec.id, spec.group, spec.text])
        check.tables["interviews"] = len(prepare_interviews(t.data, spec=spec))
    return check


#: The end of a validate warning about a stage a run will skip (the run prints its own line).
WILL_BE_SKIPPED = " — it will be skipped"


def _section_warnings(study: Study, data: Any) -> list[str]:
    """What a run will withhold rather than fail on: stages without their inputs, and items with
    one answer from everyone (no correlation, so no key drivers or derived importance)."""
    out = [f"stage {skip_reason(stage, keys)}{WILL_BE_SKIPPED}"
           for stage, keys in stage_support(study, available_stages()).items() if keys]
    items = [("overall", study.overall)] + [(f"attributes.{i}.performance", a.performance)
                                            for i, a in enumerate(study.attributes)]
    for key, col in items:
        if col in data.columns and data[col].nunique(dropna=True) <= 1:
            out.append(f"{key} ({col!r}) has the same answer from every respondent — key drivers and derived "
                       "importance will be withheld (a correlation needs answers that vary)")
    return out


def _check_analysis_inputs(study: Study) -> None:
    """What the stages would otherwise find only half-way through a run: the previous wave,
    the population table against the data (sizes, values, raking), the complaint log and
    the lost-customer reasons — checked with the very functions the stages call."""
    from . import complaints as cx
    from . import measurement as m
    from .workbook import StageContext

    ctx = StageContext(stage="validate", study=study)
    if study.analysis.previous_wave:
        _ = ctx.previous_wave  # raises when the wave is not in the data
    if ctx.population is not None:
        for column in ctx.population_segments:
            m.sampling_table(ctx.responses, by=column, population=ctx.population,
                             e=study.measurement.margin_of_error, p=study.measurement.p)
        _ = ctx.kept_responses  # exclusions and raking weights
    if study.complaints is not None:
        cx.complaint_summary(ctx.segment_table("complaints")[0], spec=study.complaints,
                             customers=study.market.customers, sla_days=study.analysis.sla_days,
                             min_n=study.min_cell_size)
    if study.lost_customers is not None:
        with warnings.catch_warnings():  # caveats about small counts belong in the report, not here
            warnings.simplefilter("ignore")
            cx.lost_reasons(ctx.segment_table("lost_customers")[0], reason=study.lost_customers.reason,
                            benchmark=study.analysis.lost_benchmark, min_n=study.min_cell_size,
                            monte_carlo=False)


# --------------------------------------------------------------------------- execution
def _papermill_parameters(nb_path: Path) -> dict[str, Any]:
    import papermill

    return papermill.inspect_notebook(str(nb_path))


def execute_stage(nb_path: Path, out_path: Path, parameters: dict[str, Any], *,
                  timeout: float | None = 1800, km: Any = None) -> nbformat.NotebookNode:
    """Execute one stage notebook with papermill and return the executed notebook.

    Unknown parameters are an error (papermill itself only warns). A ``CsmError`` raised
    inside the notebook comes back as a ``CsmError`` with the same message; any other
    failure is a :class:`ReportError` naming the notebook and cell.

    With ``km`` (a started ``jupyter_client`` KernelManager) the notebook runs in that
    kernel, which is left running (see :class:`csm_helpers.kernels.WarmKernel`); without,
    papermill starts and stops a kernel of its own. ``timeout`` is per cell, in seconds.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    declared = _papermill_parameters(nb_path)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportError(
            f"{nb_path.name}: unknown parameter(s) {', '.join(unknown)}; the notebook declares "
            f"{', '.join(sorted(declared)) or 'none'} in its cell tagged 'parameters'"
        )
    engine: dict[str, Any] = {}
    if km is not None:
        from .kernels import WARM_ENGINE

        engine = {"engine_name": WARM_ENGINE, "km": km}
    interrupted: list[int] = []
    try:
        with _noting_interrupts(interrupted):
            return papermill.execute_notebook(
                str(nb_path), str(out_path), parameters=parameters, kernel_name="python3",
                cwd=str(nb_path.parent), progress_bar=False, log_output=False,
                execution_timeout=timeout,
                # write the executed notebook once at the end (or on error), not after every cell
                request_save_on_cell_execute=False,
                # keep the kernel's own start-up chatter out of the user's terminal
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"], **engine,
            )
    except PapermillExecutionError as exc:
        # Ctrl-C reached the kernel too. A warm kernel (km) is also interrupted by the batch's
        # own time-limit watchdog: that is a timeout of the segment, not the user stopping the run.
        if interrupted or (exc.ename == "KeyboardInterrupt" and km is None):
            raise KeyboardInterrupt from None
        user_errors = {"CsmError", "ConfigError", "DataError", "DataFileError", "ReportError"}
        if exc.ename in user_errors:
            raise CsmError(exc.evalue) from None
        keep = Path(tempfile.mkdtemp(prefix="csm-failed-")) / out_path.name
        if out_path.exists():
            shutil.copy2(out_path, keep)
        raise ReportError(
            f"{nb_path.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
            f"  the executed notebook with the full traceback is kept at {keep}"
        ) from None
    except (KeyboardInterrupt, CsmError):
        raise
    except Exception as exc:  # the kernel died or never started (killed, out of memory, Ctrl-C)
        if interrupted:
            raise KeyboardInterrupt from None
        raise ReportError(
            f"{nb_path.name}: the notebook kernel stopped ({type(exc).__name__}: {_one_line(exc)}) — if the "
            "machine ran out of memory, close other programs or run fewer segments at once, then run again"
        ) from None


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextmanager
def _noting_interrupts(received: list[int]) -> Iterator[None]:
    """Note Ctrl-C and SIGTERM while a notebook runs, then let them act as before.

    A Ctrl-C in a terminal reaches the notebook kernel too; the kernel dies or stops its cell,
    and the error that papermill then raises must be read as the interruption it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum: int, frame: Any) -> None:
        received.append(signum)
        # the kernel's death and the tasks it leaves are expected now: no log, no traceback
        for name in ("asyncio", "nbclient", "papermill", "traitlets"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        handler = previous[signum]
        if handler == signal.SIG_IGN:
            return
        if callable(handler):
            handler(signum, frame)
        raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, note)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


# --------------------------------------------------------------------------- export
_EXPORTERS = threading.local()


def _exporter():
    """One configured HTMLExporter per thread (template compiled once per thread; nbconvert
    exporters are not documented as thread-safe, and ``csm batch`` exports from several)."""
    exporter = getattr(_EXPORTERS, "exporter", None)
    if exporter is None:
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        c = Config()
        c.TagRemovePreprocessor.enabled = True
        c.TagRemovePreprocessor.remove_cell_tags = {"parameters", "injected-parameters", "remove-cell"}
        c.TagRemovePreprocessor.remove_all_outputs_tags = {"hide-output"}
        c.TagRemovePreprocessor.remove_input_tags = {"hide-input"}
        c.HTMLExporter.exclude_input = True
        c.HTMLExporter.exclude_input_prompt = True
        c.HTMLExporter.exclude_output_prompt = True
        c.HTMLExporter.embed_images = True
        exporter = HTMLExporter(config=c, template_name="csm_report",
                                extra_template_basedirs=[str(templates_dir())])
        _EXPORTERS.exporter = exporter
    return exporter


def _strip_noise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop cells tagged hide/remove and stderr output (warnings are for the analyst's log)."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"hide", "remove-cell"}:
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        cells.append(cell)
    nb.cells = cells
    return nb


class _Headings(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[int, str, str]] = []
        self._current: list[Any] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"h2", "h3"} and self._current is None:
            ident = dict(attrs).get("id") or ""
            self._current = [int(tag[1]), ident, ""]
        elif tag == "a" and self._current is not None and "anchor-link" in (dict(attrs).get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._skip:
            self._skip -= 1
        elif tag in {"h2", "h3"} and self._current is not None:
            level, ident, text = self._current
            if ident and text.strip():
                self.items.append((level, ident, text.strip()))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None and not self._skip:
            self._current[2] += data


def _toc(body: str) -> str:
    main = body.split("<!--CSM-TOC-->", 1)[-1]
    parser = _Headings()
    parser.feed(main)
    if not parser.items:
        return ""
    out, open_li, open_sub = ["<ol>"], False, False
    for level, ident, text in parser.items:
        link = f'<a href="#{escape(ident)}">{escape(text)}</a>'
        if level == 3:
            if not open_li:  # a sub-heading before any section heading
                out.append("<li>")
                open_li = True
            if not open_sub:
                out.append("<ol>")
                open_sub = True
            out.append(f"<li>{link}</li>")
            continue
        if open_sub:
            out.append("</ol>")
            open_sub = False
        if open_li:
            out.append("</li>")
        out.append(f"<li>{link}")
        open_li = True
    if open_sub:
        out.append("</ol>")
    if open_li:
        out.append("</li>")
    out.append("</ol>")
    return "".join(out)


class _StaticCheck(html.parser.HTMLParser):
    BAD_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "base",
                "form", "input", "button", "textarea", "select", "link", "meta-refresh"}
    URL_ATTRS = {"src", "srcset", "data", "poster", "background", "action", "formaction", "xlink:href"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BAD_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.problems.append("meta refresh")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name!r} on <{tag}>")
            if name in self.URL_ATTRS and value and not value.startswith("data:"):
                self.problems.append(f"<{tag} {name}={value[:60]!r}> loads a non-embedded resource")
            if name == "href" and re.match(r"\s*(javascript|vbscript|data):", value, re.I):
                self.problems.append(f"<{tag} href={value[:60]!r}> is a script link")
            if name == "style" and re.search(r"url\(|expression\(|@import", value, re.I):
                self.problems.append(f"<{tag} style> loads a resource")

    def handle_data(self, data: str) -> None:  # CSS inside <style>
        if self.lasttag == "style" and re.search(r"url\(\s*['\"]?(?!data:)|@import", data, re.I):
            self.problems.append("stylesheet loads an external resource")


def check_static_html(body: str) -> None:
    """Raise :class:`ReportError` unless the HTML is static and self-contained.

    Static means: no script, frame, form or plugin element, no event-handler attribute, no
    ``javascript:`` link, and nothing fetched from outside the file (images are data URIs).

    Examples
    --------
    >>> check_static_html('<p>ok</p><img src="data:image/png;base64,AAAA">')
    >>> check_static_html('<img src="https://example.org/x.png">')
    Traceback (most recent call last):
    ...
    csm_helpers.errors.ReportError: report is not static: <img src='https://example.org/x.png'> loads a non-embedded resource
    """
    checker = _StaticCheck()
    checker.feed(body)
    checker.close()
    if checker.problems:
        shown = "; ".join(sorted(set(checker.problems))[:5])
        raise ReportError(f"report is not static: {shown}")


def _readable_meta(value: Any) -> Any:
    """Every text of the title block made readable (controls visible, long text cut); the
    template escapes it."""
    if isinstance(value, str):
        return readable(value, max_chars=300)
    if isinstance(value, dict):
        return {k: _readable_meta(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_readable_meta(v) for v in value]
    return value


def export_html(nb: nbformat.NotebookNode, meta: dict[str, Any]) -> str:
    """Render an executed notebook to one self-contained, script-free HTML page.

    ``meta`` goes to the template's title block: ``stage_title``, ``study``,
    ``organisation``, ``facts`` (list of (label, value)), ``footer``, ``version``.
    """
    nb = _strip_noise(nbformat.from_dict(nb))
    lang = meta.get("language", "en")
    with language(lang):
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = translate_markdown(cell.source)
        meta = {**meta, "labels": {k: tr(k) for k in ("Summary", "Top priorities", "About the data",
                                                      "Contents", "Chart")},
                "facts": [(tr(k), v) for k, v in meta.get("facts", [])]}
    meta = _readable_meta(meta)
    nb.metadata["csm"] = meta
    nb.metadata["title"] = f"{meta.get('stage_title', '')} — {meta.get('study', '')}"
    body, _resources = _exporter().from_notebook_node(nb)
    body = body.replace('<html lang="en">', f'<html lang="{HTML_LANG.get(lang, "en")}">', 1)
    body = body.replace("<!--CSM-TOC-->", _toc(body), 1)
    check_static_html(body)
    return body


# --------------------------------------------------------------------------- index
#: File in the output folder where ``csm batch`` keeps the state of its last run.
BATCH_STATE = "batch.json"

_KPI_COLUMNS = (("csat_top2", "CSAT"), ("csi", "CSI"), ("nps", "NPS"))


def _css() -> str:
    return (templates_dir() / "csm_report" / "static" / "report.css").read_text(encoding="utf-8")


def _fmt_kpi(kpi: str, value: Any) -> str:
    if value is None or not isinstance(value, int | float):
        return _("n/a")
    return {"csat_top2": f"{100 * value:.0f}%", "nps": f"{value:+.0f}"}.get(kpi, f"{value:.1f}")


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
        interval = f"{_fmt_kpi(kpi, entry['ci_low'])} – {_fmt_kpi(kpi, entry['ci_high'])}"
    return (f'<td class="num"><div class="csm-tile csm-{status.replace(" ", "-")}">'
            f'<div class="csm-tile-value">{escape(_fmt_kpi(kpi, entry["value"]))}</div>'
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


def _note_done_in_batch_state(out_dir: Path, segment: str) -> None:
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
                        f'<td colspan="{len(_KPI_COLUMNS) + 1}"><strong>{escape(what.splitlines()[0])}</strong>'
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
                    + "".join(_kpi_tile(k, kpis.get(k)) for k, _ in _KPI_COLUMNS)
                    + f"<td>{links}</td></tr>")
    head = "".join(f'<th class="num">{escape(label)}</th>' for _k, label in _KPI_COLUMNS)
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


# --------------------------------------------------------------------------- run
@dataclass
class RunResult:
    """What :func:`run_study` wrote and how long each stage took (seconds)."""

    out_dir: Path
    segment: str
    files: list[Path]
    timings: dict[str, float]
    n: int
    skipped: bool = False  # ``resume`` found complete outputs for the same inputs: nothing was run


@dataclass
class RunPlan:
    """What every segment of one run shares: the validated study, the stages, the inputs'
    SHA-256 and the notebooks folder. Small and picklable (it travels to dask workers)."""

    study: Study
    stages: list[str]
    inputs: dict[str, str]
    notebooks: Path
    warnings: list[str] = field(default_factory=list)
    #: stages left out because the study lacks their inputs: stage -> the missing study.yaml keys
    skipped: dict[str, list[str]] = field(default_factory=dict)
    #: SHA-256 of each stage notebook run (file name -> digest), recorded in metrics.json
    notebook_sha256: dict[str, str] = field(default_factory=dict)

    def parameters(self, segment: str) -> dict[str, Any]:
        """The run parameters recorded in a segment's ``metrics.json``."""
        return {"segment": segment, "seed": self.study.seed, "min_cell_size": self.study.min_cell_size,
                "stages": list(self.stages), "study": self.study.path.name, "language": self.study.language,
                "notebooks": dict(self.notebook_sha256)}


def resolve_stages(stages: Sequence[str] | None, notebooks: Path | None = None) -> list[str]:
    """Stage names for names or number prefixes (``"04"``), in the order given; None = all.

    Examples
    --------
    >>> resolve_stages(["04", "05_action_progress"])
    ['04_analysis', '05_action_progress']
    """
    # the bundled stages are always known, so a folder that lost one gets "missing", not "unknown"
    all_stages = sorted({*stage_names(notebooks), *available_stages()}) if notebooks is not None \
        else available_stages()
    wanted = list(all_stages) if not stages else []
    for s in stages or []:
        match = [x for x in all_stages if x == s or x.startswith(f"{s}_") or x.split("_", 1)[0] == s]
        if not match:
            raise CsmError(f"unknown stage {s!r}; available: {', '.join(all_stages)}")
        wanted.extend(m for m in match if m not in wanted)
    return wanted


def plan_run(study_path: str | Path | None, stages: Sequence[str] | None = None, *,
             notebooks: Path | None = None) -> tuple[RunPlan, StudyCheck]:
    """Validate the whole study once and fix what every segment of the run shares.

    The stage notebooks are the study's own when it has them (see
    :func:`csm_helpers.stages.study_notebooks`). Before anything runs, stages whose inputs the
    study lacks are left out with a reason when no stages were named (``plan.skipped``); naming
    such a stage is an input error. Every notebook to run is checked for its ``parameters`` cell.

    Raises
    ------
    CsmError
        Bad config or data, an unknown stage, a named stage without its inputs, or a stage
        notebook that is missing or has no ``parameters`` cell.

    Examples
    --------
    >>> plan, _ = plan_run(None, ["04"])
    >>> plan.stages, plan.skipped, sorted(plan.notebook_sha256)
    (['04_analysis'], {}, ['04_analysis.ipynb'])
    """
    check = validate_study(study_path)
    study = check.study
    nb_dir, _source = study_notebooks(study, notebooks, default=notebooks_dir())
    wanted = resolve_stages(stages, nb_dir)
    unsupported = {stage: keys for stage, keys in stage_support(study, wanted).items() if keys}
    if stages and unsupported:
        raise ConfigError("; ".join(
            f"{study.path}: stage {stage} needs " + " and ".join(f"'{k}'" for k in keys)
            + ", which study.yaml does not name — add " + " and ".join(f"'{k}: <file>'" for k in keys)
            + " to study.yaml, or leave the stage out of --stages"
            for stage, keys in unsupported.items()))
    wanted = [s for s in wanted if s not in unsupported]
    if not wanted:
        raise ConfigError(f"{study.path}: no stage can run — "
                          + "; ".join(skip_reason(stage, keys) for stage, keys in unsupported.items()))
    check_notebooks_folder(nb_dir, wanted)
    inputs = {rel: file_sha256(study.resolve(rel, key=key)) for key, rel in study.file_keys().items()}
    inputs = dict(sorted({**inputs, study.path.name: file_sha256(study.path)}.items()))
    return RunPlan(study=study, stages=wanted, inputs=inputs, notebooks=nb_dir,
                   warnings=list(check.warnings), skipped=unsupported,
                   notebook_sha256={f"{s}.ipynb": file_sha256(nb_dir / f"{s}.ipynb") for s in wanted}), check


#: The record of a completed run inside each segment folder (what --resume compares).
MANIFEST = ".csm-manifest.json"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from an earlier call in this process: finished or failed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recover_interrupted(out_dir: Path) -> None:
    """Undo what a killed run left behind (``kill -9`` runs no cleanup code).

    - ``.csm-staging-<pid>-*``: the private folder of a run that died: removed;
    - ``.csm-old-<pid>-<segment>``: an earlier good segment folder that a run was swapping
      out when it died; put back if the segment folder is missing, else removed.
    """
    for d in out_dir.glob(".csm-staging-*"):
        try:
            pid = int(d.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)
    for d in out_dir.glob(".csm-old-*"):
        parts = d.name.split("-", 3)
        try:
            pid, name = int(parts[2]), parts[3]
        except (IndexError, ValueError):
            continue
        if _pid_alive(pid):
            continue
        target = out_dir / name
        if not target.exists():
            os.rename(d, target)
        else:
            shutil.rmtree(d, ignore_errors=True)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a few renames run, then act on them.

    Only in the main thread (where Python delivers signals); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            raise KeyboardInterrupt


def _manifest_key(inputs: dict[str, str], parameters: dict[str, Any]) -> dict[str, Any]:
    return {"version": __version__, "inputs": inputs, "parameters": parameters}


def _up_to_date(seg_dir: Path, key: dict[str, Any]) -> bool:
    """True when ``seg_dir`` holds the complete, untouched outputs of a run with ``key``."""
    try:
        manifest = json.loads((seg_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("key") != to_jsonable(key):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, digest in files.items():
        path = seg_dir / rel
        if not path.is_file() or file_sha256(path) != digest:
            return False
    return True


def _commit(seg_stage: Path, final: Path, key: dict[str, Any]) -> list[Path]:
    """Put a fully staged segment folder in place of ``final`` as one swap.

    Files of an earlier run that this run did not write (other stages) are carried over, a
    manifest is added, then ``final`` is renamed aside and the staged folder renamed into its
    place — with Ctrl-C and SIGTERM held for those two renames. A ``kill -9`` between them
    leaves the earlier folder as ``.csm-old-<pid>-<segment>``, which the next run puts back.
    """
    if final.is_dir():
        for old in sorted(final.rglob("*")):
            rel = old.relative_to(final)
            dest = seg_stage / rel
            if old.is_file() and old.name != MANIFEST and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(old, dest)
                except OSError:
                    shutil.copy2(old, dest)
    files = {p.relative_to(seg_stage).as_posix(): file_sha256(p)
             for p in sorted(seg_stage.rglob("*")) if p.is_file()}
    write_text_atomic(seg_stage / MANIFEST, json.dumps({"key": to_jsonable(key), "files": files},
                                                       ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    aside = final.parent / f".csm-old-{os.getpid()}-{final.name}"
    try:
        with _signals_deferred():
            moved = False
            if final.exists():
                os.rename(final, aside)
                moved = True
            try:
                os.rename(seg_stage, final)
            except BaseException:
                if moved:
                    os.rename(aside, final)
                raise
    finally:
        if final.exists():
            shutil.rmtree(aside, ignore_errors=True)
    return [final / rel for rel in files]


def _waves_text(study: Study, data: Any) -> str:
    with language(study.language):
        return _waves_in_language(study, data)


def _waves_in_language(study: Study, data: Any) -> str:
    col = study.responses.wave
    if not col or col not in data:
        return _("single wave")
    waves = sorted(str(w) for w in data[col].dropna().unique())
    if not waves:
        return "n/a"
    return waves[0] if len(waves) == 1 else _("{waves} (latest {latest})", waves=", ".join(waves),
                                              latest=waves[-1])


def _summary(study: Study, segment: str, log: Callable[[str], None]) -> dict[str, Any] | None:
    """The one-screen summary of the segment (KPI tiles, priorities, caveats), or None when it
    cannot be computed — a report is still written, without the summary, and the log says why."""
    ts = time.perf_counter()
    result = json.loads(report_summary_json(str(study.path), segment))
    if "left_out" in result:
        log(f"summary: left out ({result['left_out']})")
        return None
    log(f"{'summary':<20} {time.perf_counter() - ts:5.1f} s")
    return result["summary"]


def report_summary_json(study_path: str, segment: str) -> str:
    """The segment's one-screen summary as JSON: ``{"summary": {...}}``, or
    ``{"left_out": reason}`` when the study's input cannot give one (a ``CsmError``).

    A warm kernel of ``csm batch`` runs this and sends the text back; ``csm run`` calls it
    in-process. Every value of the summary is text, so the JSON round trip is exact.
    """
    from .summary import report_summary
    from .workbook import open_stage

    try:
        with language(get_language()):  # open_stage switches to the study's language; restore it after
            summary = report_summary(open_stage("summary", study_path=study_path, segment=segment))
    except CsmError as exc:
        return json.dumps({"left_out": str(exc)}, ensure_ascii=False)
    return json.dumps({"summary": to_jsonable(summary)}, ensure_ascii=False)


#: ``execute(nb_path, out_path, parameters) -> executed notebook``
StageExecutor = Callable[[Path, Path, dict[str, Any]], nbformat.NotebookNode]


def build_segment(plan: RunPlan, segment: str, staging: Path, *, n: int, waves: str, n_reported: int | None = None,
                  execute: StageExecutor, summary: dict[str, Any] | None,
                  log: Callable[[str], None] | None = None,
                  generated: _dt.datetime | None = None) -> tuple[Path, dict[str, float]]:
    """Run every stage of ``plan`` for one segment into ``staging/<segment folder>``.

    Each notebook is executed with ``execute``, exported to HTML and checked; the metrics the
    notebooks recorded are merged into ``metrics.json``. Nothing outside ``staging`` is
    touched: :func:`commit_segment` moves the result into place.

    Returns
    -------
    (Path, dict)
        The staged segment folder and the seconds each stage took.
    """
    log = log or (lambda _msg: None)
    study = plan.study
    seg_stage = staging / segment_dirname(segment)
    work = staging / "_executed"
    seg_stage.mkdir(parents=True)
    work.mkdir(exist_ok=True)
    generated = generated or _dt.datetime.now(_dt.UTC)
    stamp = generated.strftime("%Y-%m-%d %H:%M UTC")
    with language(study.language):
        n_text = (_("{n:,} respondents; {reported:,} in the reported wave after the data-quality checks", n=n,
                    reported=n_reported) if n_reported is not None and study.responses.wave else
                  _("{n:,} respondents; {reported:,} after the data-quality checks", n=n, reported=n_reported)
                  if n_reported is not None else _("{n:,} respondents", n=n))
        facts = [("Segment", segment), ("Wave", waves), ("n", n_text), ("Generated", stamp)]
    timings: dict[str, float] = {}
    for stage in plan.stages:
        ts = time.perf_counter()
        nb_path = plan.notebooks / f"{stage}.ipynb"
        params = {"study_path": str(study.path), "segment": segment, "output_dir": str(seg_stage)}
        nb = execute(nb_path, work / f"{stage}.ipynb", params)
        meta = {
            "stage_title": f"{stage[:2]} · {tr(STAGE_TITLES.get(stage, stage), study.language)}",
            "language": study.language, "study": study.name, "organisation": study.report.organisation or "",
            "facts": facts, "version": __version__, "summary": summary,
            "footer": (f"csm-workbook {__version__} · notebook {stage}.ipynb "
                   f"(sha256 {plan.notebook_sha256.get(f'{stage}.ipynb', '')[:12]}) · study {study.path.name} "
                       f"(sha256 {plan.inputs[study.path.name][:12]}) · data {study.responses.file} "
                       f"(sha256 {plan.inputs.get(study.responses.file, '')[:12]}) · segment {segment} · "
                       f"seed {study.seed} · generated {stamp}"),
        }
        write_text_atomic(seg_stage / f"{stage}.html", export_html(nb, meta))
        timings[stage] = time.perf_counter() - ts
        log(f"{stage:<20} {timings[stage]:5.1f} s")

    metrics: dict[str, Any] = {
        "study": study.name, "segment": segment, "n": n, "n_reported": n_reported,
        "generated_with": {"version": __version__,
                           "data_sha256": plan.inputs.get(study.responses.file, ""),
                           "inputs": plan.inputs, "parameters": plan.parameters(segment)},
        "suppressed": [],
        "stages_skipped": dict(plan.skipped),
    }
    frag_dir = seg_stage / METRICS_FRAGMENT_DIR
    for frag in sorted(frag_dir.glob("*.json")) if frag_dir.is_dir() else []:
        part = json.loads(frag.read_text(encoding="utf-8"))
        metrics["suppressed"].extend(part.pop("suppressed", []) or [])
        metrics.update(part)
    shutil.rmtree(frag_dir, ignore_errors=True)
    write_text_atomic(seg_stage / "metrics.json",
                      json.dumps(to_jsonable(metrics), ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return seg_stage, timings


def commit_segment(staged: Path, final: Path) -> list[Path]:
    """Move a staged segment folder's files into ``final``, one atomic rename each.

    The old ``metrics.json`` is removed first and the new one is moved last, so a run killed
    half-way through a commit leaves a folder without ``metrics.json``, which
    :func:`segment_is_done` (and so ``csm batch --resume``) treats as not done.
    """
    final.mkdir(parents=True, exist_ok=True)
    files = sorted((p for p in staged.rglob("*") if p.is_file()), key=lambda p: p.name == "metrics.json")
    if any(p.name == "metrics.json" for p in files):
        (final / "metrics.json").unlink(missing_ok=True)
    written = []
    for src in files:
        dest = final / src.relative_to(staged)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        written.append(dest)
    return written


def segment_is_done(plan: RunPlan, segment: str, final: Path) -> bool:
    """True when ``final`` holds every stage report of ``plan`` and a ``metrics.json`` written
    by this version for the same parameters and the same input files (SHA-256).

    Examples
    --------
    >>> import tempfile
    >>> plan, _ = plan_run(None, ["05"])
    >>> segment_is_done(plan, "all", Path(tempfile.mkdtemp()))  # an empty folder
    False
    """
    if not all((final / f"{stage}.html").is_file() for stage in plan.stages):
        return False
    try:
        m = json.loads((final / "metrics.json").read_text(encoding="utf-8"))
        gw = m["generated_with"]
        return (gw["version"] == __version__ and gw["parameters"] == plan.parameters(segment)
                and gw["inputs"] == plan.inputs and m["segment"] == segment)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def run_study(study_path: str | Path | None = None, out_dir: str | Path = "reports", *,
              segment: str = "all", stages: Sequence[str] | None = None,
              log: Callable[[str], None] | None = None, resume: bool = False,
              notebooks: str | Path | None = None) -> RunResult:
    """Produce every stage report, ``metrics.json`` and ``index.html`` for one segment.

    Parameters
    ----------
    study_path : str or Path, optional
        ``study.yaml``; None for the bundled sample study.
    out_dir : str or Path
        Output folder; reports go to ``out_dir/<segment>/``.
    segment : str
        ``"all"`` or ``"COLUMN=VALUE"``.
    stages : sequence of str, optional
        Stage names or number prefixes (``"01"``); default all available stages.
    log : callable, optional
        Receives one progress line per step.
    resume : bool
        Skip the run when ``out_dir/<segment>/`` already holds the complete, untouched
        outputs of a run with the same inputs (SHA-256 of study.yaml and every file it names),
        parameters (segment, stages, seed, minimum cell size) and csm-workbook version, as
        recorded in its ``.csm-manifest.json``; otherwise run as usual.
    notebooks : str or Path, optional
        Folder of the stage notebooks to run (``--notebooks``). Default: the study's own
        (a ``notebooks:`` key, or a ``notebooks/`` folder beside study.yaml), else the bundled
        ones.

    Raises
    ------
    CsmError
        Bad config or data (nothing is written), a segment below the minimum cell size, or a
        stage that failed (nothing from this run is left in ``out_dir``).

    Notes
    -----
    Interrupted runs leave nothing half-written: every file is staged in a private folder
    and the segment folder is swapped in whole at the end. Ctrl-C and SIGTERM clean the
    staging folder up; after ``kill -9`` the next run removes it (and puts back an earlier
    segment folder caught in the middle of the swap).
    """
    log = log or (lambda _msg: None)
    t0 = time.perf_counter()
    plan, check = plan_run(study_path, stages, notebooks=Path(notebooks) if notebooks is not None else None)
    study = check.study
    for w in check.warnings:
        if not w.endswith(WILL_BE_SKIPPED):  # said below, as the run skips it
            log(f"warning: {w}")
    for stage, keys in plan.skipped.items():
        log(f"skipped {skip_reason(stage, keys)}")
    if plan.notebooks != notebooks_dir().resolve():
        log(f"notebooks: {plan.notebooks}")
    from .disclosure import reporting_base
    from .workbook import check_segment_publishable, select_segment

    parse_segment(segment, study)
    data = select_segment(check.data, study, segment)
    base = reporting_base(check.data, study)  # the reported wave, after the exclusions (SPEC §4)
    check_segment_publishable(check.data, study, segment, base=base)
    n = len(data)
    n_reported = len(select_segment(base, study, segment)) if len(base) else 0
    timings = {"load_and_validate": time.perf_counter() - t0}
    log(f"validated {study.path.name}: {check.n_responses:,} responses, segment {segment} n={n:,} "
        f"({timings['load_and_validate']:.1f} s)")

    out_dir = Path(out_dir).resolve()
    seg_name = segment_dirname(segment)
    key = _manifest_key(plan.inputs, plan.parameters(segment))
    if out_dir.is_dir():
        _recover_interrupted(out_dir)
    if resume and _up_to_date(out_dir / seg_name, key):
        log(f"{out_dir / seg_name}: complete for the same inputs, stages and version — skipped (--resume)")
        write_index(out_dir, title=study.title, lang=study.language)  # a run killed before its last step left it behind
        timings["total"] = time.perf_counter() - t0
        return RunResult(out_dir=out_dir, segment=segment, files=[], timings=timings, n=n, skipped=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".csm-staging-{os.getpid()}-", dir=out_dir))
    summary = _summary(study, segment, log)
    try:
        staged, stage_times = build_segment(
            plan, segment, staging, n=n, n_reported=n_reported, waves=_waves_text(study, data), summary=summary,
            log=log,
            execute=lambda nb, out, params: execute_stage(nb, out, params))
        timings.update(stage_times)
        # Commit: the whole segment folder swapped in at once, with a manifest for --resume
        written = _commit(staged, out_dir / seg_name, key)
        _note_done_in_batch_state(out_dir, segment)
        written.append(write_index(out_dir, title=study.title, lang=study.language))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    timings["total"] = time.perf_counter() - t0
    log(f"{'total':<20} {timings['total']:5.1f} s → {out_dir / segment_dirname(segment)}")
    return RunResult(out_dir=out_dir, segment=segment, files=written, timings=timings, n=n)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the csm command")
