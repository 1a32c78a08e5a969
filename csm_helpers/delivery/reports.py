"""Which reports ``csm send`` finds: one :class:`SegmentReports` per segment folder of a ``csm run`` or ``csm batch``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import HTML_LANG
from csm_helpers.pipeline.plan import segment_dirname

__all__ = ["FOLLOW_UP_FILE", "SegmentReports", "segment_matches", "find_segment_reports", "report_language"]


_REPORT_GLOB = "[0-9][0-9]_*.html"

#: Files written beside the reports that go out with them: the action register the action
#: report points the managers to (a formula-safe CSV they fill in). The discovery
#: questionnaire draft is the researcher's and stays in the folder.
ATTACHED_FILES = ("05_action_register.csv",)

#: The follow-up list stage 05 writes (personal data): never attached to the reports' message,
#: only sent on its own to the recipients ``csm send --with-follow-up`` names.
FOLLOW_UP_FILE = "follow_up.csv"


# --------------------------------------------------------------------------- reports
@dataclass
class SegmentReports:
    """One segment folder written by ``csm run``.

    ``segment`` is the name in ``metrics.json`` (the folder name if there is none),
    ``metrics`` the parsed ``metrics.json`` (empty if missing or unreadable), ``reports``
    the stage reports in stage order.
    """

    segment: str
    folder: Path
    metrics: dict[str, Any]
    reports: list[Path]
    problems: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # ATTACHED_FILES present beside the reports
    follow_up: Path | None = None  # the follow-up list (personal data), when stage 05 wrote one


def segment_matches(key: str, seg: SegmentReports) -> bool:
    return key == seg.segment or key == seg.folder.name or segment_dirname(key) == seg.folder.name


def find_segment_reports(reports_dir: str | Path, *,
                         segments: Sequence[str] | None = None) -> list[SegmentReports]:
    """Every segment folder of a ``csm run`` output folder that holds stage reports.

    Parameters
    ----------
    reports_dir : str or Path
        The folder given to ``csm run --out``.
    segments : sequence of str, optional
        Only these segments (``metrics.json`` names or folder names), in the order given;
        default every one, ``all`` first, then by folder name.

    Raises
    ------
    CsmError
        The folder does not exist or holds no reports, or a requested segment is not there.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "all").mkdir()
    >>> _ = (d / "all" / "01_goal_setting.html").write_text("<p>hi</p>")
    >>> [(s.segment, [r.name for r in s.reports]) for s in find_segment_reports(d)]
    [('all', ['01_goal_setting.html'])]
    """
    root = Path(reports_dir)
    if not root.is_dir():
        raise CsmError(f"reports folder {root} not found — run 'csm run --out {root}' first, "
                       "or point --reports at the folder it wrote")
    found: list[SegmentReports] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        reports = sorted(p for p in folder.glob(_REPORT_GLOB) if p.is_file())
        if not reports:
            continue
        metrics: dict[str, Any] = {}
        problems = []
        mpath = folder / "metrics.json"
        if mpath.is_file():
            try:
                loaded = json.loads(mpath.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    metrics = loaded
                else:
                    problems.append("metrics.json is not a JSON object")
            except (OSError, ValueError) as exc:
                problems.append(f"metrics.json could not be read ({exc})")
        else:
            problems.append("metrics.json is missing")
        segment = metrics.get("segment")
        segment = str(segment) if isinstance(segment, str) and segment.strip() else folder.name
        files = [folder / name for name in ATTACHED_FILES if (folder / name).is_file()]
        follow_up = folder / FOLLOW_UP_FILE
        found.append(SegmentReports(segment=segment, folder=folder, metrics=metrics, reports=reports,
                                    problems=problems, files=files,
                                    follow_up=follow_up if follow_up.is_file() else None))
    if not found:
        raise CsmError(f"{root} holds no reports (no <segment>/NN_stage.html) — run "
                       f"'csm run --out {root}' first")
    found.sort(key=lambda s: (s.folder.name != "all", s.folder.name))
    if not segments:
        return found
    chosen: list[SegmentReports] = []
    for key in segments:
        match = [s for s in found if segment_matches(key, s)]
        if not match:
            raise CsmError(f"--segments: no reports for segment {key!r} in {root}; available: "
                           f"{', '.join(s.segment for s in found)}")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


def report_language(seg: SegmentReports) -> str:
    """The language the segment's reports were written in (``metrics.json``), else ``"en"``.

    Examples
    --------
    >>> report_language(SegmentReports("all", Path("r"), {"generated_with": {"parameters": {"language": "vi"}}}, []))
    'vi'
    >>> report_language(SegmentReports("all", Path("r"), {}, []))
    'en'
    """
    gw = seg.metrics.get("generated_with")
    params = gw.get("parameters") if isinstance(gw, dict) else None
    lang = params.get("language") if isinstance(params, dict) else None
    return lang if isinstance(lang, str) and lang in HTML_LANG else "en"
