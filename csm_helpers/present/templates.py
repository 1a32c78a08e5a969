"""The HTML templates beside the report template (``templates/``): ``csm_index`` (the output
folder's index page) and ``csm_email`` (the body of ``csm send``), rendered with Jinja2 with
autoescaping on, so a value from the data is always text, never markup."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from csm_helpers.core.resources import bundled_dir

__all__ = ["templates_dir", "report_css", "render", "NOT_COVERED_MIME"]

#: MIME type of a "not covered" note in an executed notebook (``display.show_not_covered``):
#: the export moves these notes to the report's "Not covered" section.
NOT_COVERED_MIME = "application/vnd.csm.not-covered+json"


def templates_dir() -> Path:
    """Folder holding the ``csm_report`` nbconvert template and the ``csm_index`` and
    ``csm_email`` page templates.

    Examples
    --------
    >>> sorted(p.name for p in templates_dir().iterdir() if p.name.startswith("csm_"))
    ['csm_email', 'csm_index', 'csm_report']
    """
    return bundled_dir("_templates", "templates")


def report_css() -> str:
    """The reports' stylesheet (inlined in every page: no external request)."""
    return (templates_dir() / "csm_report" / "static" / "report.css").read_text(encoding="utf-8")


@functools.cache
def _environment(folder: str) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with autoescaping; a missing variable is an error.

    Examples
    --------
    >>> "&lt;b&gt;" in render("csm_index/index.html.j2", **{**_example(), "title": "<b>"})
    True
    """
    return _environment(str(templates_dir())).get_template(template).render(**context)


def _example() -> dict[str, Any]:
    """A minimal context of the index template (for the doctest)."""
    t = dict.fromkeys(("reports", "reports_by_segment", "segment", "reports_header", "suppressed", "not_run",
                       "suppressed_segments", "no_report"), "")
    return {"html_lang": "en", "title": "t", "css": "", "t": t, "batch_line": "", "kpi_headers": [],
            "rows": [], "suppressed": [], "version": "0"}
