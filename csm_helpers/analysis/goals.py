"""Stage 01, goal-setting (SPEC §1.1): charter, KPI targets, readiness and self-assessment.

Every table of the goal-setting report comes from a function here. Each takes the
:class:`~csm_helpers.study.config.Goals` loaded from ``goals.yaml`` (or ``None`` when the study names
no goals file, in which case the tables show what is missing) and returns a tidy DataFrame:

- :func:`charter_table` and :func:`audiences_table`: the study charter;
- :func:`kpi_targets_table`: the KPI targets every later report is compared to;
- :func:`readiness_checklist` and :func:`readiness_summary`: the eleven goal-setting steps
  (:data:`READINESS_STEPS`) with status and owner;
- :func:`self_assessment` and :func:`self_assessment_summary`: the performance-excellence
  self-assessment of the customer category, with the point tables :data:`GBT19580_CUSTOMERS`
  (GB/T 19580, category 4.3) and :data:`MBNQA_1990S` (Malcolm Baldrige criteria of the 1990s).
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import pandas as pd

from csm_helpers.core.errors import ConfigError, CsmError, DataError
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.study.config import Goals

__all__ = [
    "READINESS_STEPS",
    "READINESS_STATUSES",
    "KPI_METRICS",
    "PresetItem",
    "GBT19580_CUSTOMERS",
    "MBNQA_1990S",
    "ASSESSMENT_PRESETS",
    "charter_table",
    "audiences_table",
    "kpi_targets_table",
    "readiness_checklist",
    "readiness_summary",
    "self_assessment",
    "self_assessment_summary",
    "readiness_message",
    "self_assessment_message",
    "status_label",
]

READINESS_STEPS: tuple[str, ...] = (
    N_("Agreement among key people on the information needed and its use"),
    N_("Strategic and tactical information gathered"),
    N_("Long-term consequences of current activities considered"),
    N_("Goals linked to company strategy"),
    N_("Organisational obstacles to customer-driven change considered"),
    N_("How customer requirements will drive process improvement"),
    N_("Goals reviewed against current quality initiatives"),
    N_("Leaders and organisation trained in the process"),
    N_("Commitment of senior leaders secured"),
    N_("Leaders ready to own the research results"),
    N_("Outside facilitation of goal-setting considered"),
)
"""The eleven goal-setting steps of SPEC §1.1, in order (step 1 is ``READINESS_STEPS[0]``)."""

READINESS_STATUSES: tuple[str, ...] = ("done", "in_progress", "not_started", "not_applicable", N_("not recorded"))
"""Status values of the readiness checklist: the four of ``goals.yaml`` (``readiness[].status``)
and ``"not recorded"`` for a step the goals file does not mention."""

_READY_STATUSES = ("done", "not_applicable")

#: Reader-facing wording of the statuses (:func:`status_label`), marked for the catalogs.
_STATUS_LABELS = (N_("done"), N_("in progress"), N_("not started"), N_("not applicable"), N_("not recorded"))

KPI_METRICS: dict[str, tuple[str, str]] = {
    "csat_top2": (N_("CSAT (top-2-box share)"), N_("proportion (0-1)")),
    "csi": (N_("CSI (customer satisfaction index)"), N_("index (0-100)")),
    "nps": (N_("NPS (Net Promoter Score)"), N_("score (-100 to 100)")),
}
"""Readable ``(label, unit)`` of the KPI metrics that later stages compute (SPEC §1.4, §3)."""


class PresetItem(NamedTuple):
    """One sub-item of a self-assessment preset: its id, English label and maximum points."""

    id: str
    label: str
    points: float


GBT19580_CUSTOMERS: tuple[PresetItem, ...] = (
    PresetItem("4.3.1", N_("Understanding customers and markets"), 40.0),
    PresetItem("4.3.2", N_("Customer relationships and satisfaction"), 50.0),
)
"""GB/T 19580 *Criteria for performance excellence* (卓越绩效评价准则, Standardization
Administration of China; editions 2004 and 2012), category 4.3 "Customers and market"
(顾客与市场), 90 of 1000 points: 4.3.1 understanding customers and markets (40 points) and
4.3.2 customer relationships and satisfaction (50 points). Preset ``"gbt19580"`` (the default)."""

MBNQA_1990S: tuple[PresetItem, ...] = (
    PresetItem("1.0", N_("Leadership"), 90.0),
    PresetItem("2.0", N_("Information and analysis"), 80.0),
    PresetItem("3.0", N_("Strategic quality planning"), 60.0),
    PresetItem("4.0", N_("Human resource development and management"), 150.0),
    PresetItem("5.0", N_("Management of process quality"), 140.0),
    PresetItem("6.0", N_("Quality and operational results"), 180.0),
    PresetItem("7.0", N_("Customer focus and satisfaction"), 300.0),
)
"""The seven categories of the Malcolm Baldrige National Quality Award criteria of the early
1990s (National Institute of Standards and Technology, *Malcolm Baldrige National Quality Award:
Award Criteria*, e.g. 1992), with the weights SPEC §1 lists as points of 1000: leadership 9%,
information and analysis 8%, strategic quality planning 6%, human resources 15%, process quality
14%, quality and operational results 18%, customer focus and satisfaction 30%.
Preset ``"mbnqa"``; items are named by category number, ``"1.0"`` to ``"7.0"``."""

ASSESSMENT_PRESETS: dict[str, tuple[PresetItem, ...]] = {
    "gbt19580": GBT19580_CUSTOMERS,
    "mbnqa": MBNQA_1990S,
    "custom": (),
}
"""Self-assessment presets by name; ``"custom"`` takes every item and its points from
``goals.yaml``."""

_ASSESSMENT_COLUMNS = ["item", "label", "points", "score_pct", "score_points", "gap_points", "evidence", "note"]


# --------------------------------------------------------------------------- charter
def charter_table(goals: Goals | None) -> pd.DataFrame:
    """The study charter as a two-column table, one row per entry.

    Parameters
    ----------
    goals : Goals or None
        Loaded ``goals.yaml`` (:func:`csm_helpers.study.config.load_goals`); ``None`` when the study
        names no goals file.

    Returns
    -------
    pandas.DataFrame
        Columns ``section`` (``"Objective"``, ``"Owner"``, ``"Strategy link"``, ``"Sponsor"``,
        ``"Period"``, in that order) and ``item`` (the text from ``charter`` in goals.yaml).
        Every section appears; a section with no entry has one row with item
        ``"not recorded"``, so the gap shows in the report.

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"charter": {
    ...     "objectives": ["Find what drives loyalty", "Set 2027 targets"],
    ...     "owners": ["Head of retail"], "sponsor": "CEO"}})
    >>> charter_table(goals)
             section                      item
    0      Objective  Find what drives loyalty
    1      Objective          Set 2027 targets
    2          Owner            Head of retail
    3  Strategy link              not recorded
    4        Sponsor                       CEO
    5         Period              not recorded
    """
    charter = goals.charter if goals is not None else None
    sections: list[tuple[str, list[str]]] = [
        (N_("Objective"), list(charter.objectives) if charter else []),
        (N_("Owner"), list(charter.owners) if charter else []),
        (N_("Strategy link"), list(charter.strategy_links) if charter else []),
        (N_("Sponsor"), [charter.sponsor] if charter and charter.sponsor else []),
        (N_("Period"), [charter.period] if charter and charter.period else []),
    ]
    rows = []
    for section, items in sections:
        items = [i for i in items if i is not None and str(i).strip()]
        rows.extend({"section": section, "item": str(i)} for i in items or [N_("not recorded")])
    return pd.DataFrame(rows, columns=["section", "item"])


def audiences_table(goals: Goals | None, *, source: str = "goals.yaml") -> pd.DataFrame:
    """Who reads which report: ``charter.audiences`` of goals.yaml as a table.

    Parameters
    ----------
    goals : Goals or None
        Loaded goals; ``None`` gives an empty table.
    source : str
        File name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``report`` and ``audience``, one row per entry, in file order.

    Raises
    ------
    ConfigError
        When an entry lacks ``report`` or ``audience`` or has another key.

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"charter": {"audiences": [
    ...     {"report": "04 Analysis", "audience": "Executive board"}]}})
    >>> audiences_table(goals)
            report         audience
    0  04 Analysis  Executive board
    """
    entries = goals.charter.audiences if goals is not None else []
    rows = []
    for i, entry in enumerate(entries):
        keys = set(entry)
        if keys != {"report", "audience"}:
            missing = sorted({"report", "audience"} - keys)
            extra = sorted(keys - {"report", "audience"})
            found = []
            if missing:
                found.append("missing " + ", ".join(repr(k) for k in missing))
            if extra:
                found.append("unknown key " + ", ".join(repr(k) for k in extra))
            raise ConfigError(
                f"{source}, key 'charter.audiences.{i}': {' and '.join(found)} — each audience entry "
                "needs exactly 'report:' and 'audience:' (e.g. {report: 04 Analysis, audience: Board})"
            )
        rows.append({"report": entry["report"], "audience": entry["audience"]})
    return pd.DataFrame(rows, columns=["report", "audience"])


# --------------------------------------------------------------------------- KPI targets
def kpi_targets_table(goals: Goals | None) -> pd.DataFrame:
    """The KPI targets that every later report is compared to.

    Parameters
    ----------
    goals : Goals or None
        Loaded goals; ``None`` gives an empty table.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric`` (as in goals.yaml), ``label``, ``target`` (on the metric's natural
        scale, unrounded: CSAT as a proportion 0-1, CSI 0-100, NPS -100..100), ``unit``,
        ``deadline``, ``owner``. The known metrics ``csat_top2``, ``csi`` and ``nps`` get a
        readable label and unit (:data:`KPI_METRICS`); a label in goals.yaml wins; other
        metrics pass through with their own label (or the metric name) and no unit.

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"kpi_targets": [
    ...     {"metric": "csat_top2", "target": 0.8, "deadline": "2027-06", "owner": "COO"},
    ...     {"metric": "complaint_rate", "target": 0.02}]})
    >>> kpi_targets_table(goals)[["metric", "label", "target", "unit"]]
               metric                   label  target              unit
    0       csat_top2  CSAT (top-2-box share)    0.80  proportion (0-1)
    1  complaint_rate          complaint_rate    0.02               NaN
    """
    rows = []
    for kpi in goals.kpi_targets if goals is not None else []:
        known_label, known_unit = KPI_METRICS.get(kpi.metric, (None, None))
        rows.append({
            "metric": kpi.metric,
            "label": kpi.label or known_label or kpi.metric,
            "target": float(kpi.target),
            "unit": getattr(kpi, "unit", None) or known_unit,
            "deadline": kpi.deadline,
            "owner": kpi.owner,
        })
    out = pd.DataFrame(rows, columns=["metric", "label", "target", "unit", "deadline", "owner"])
    return out.astype({"target": float})


# --------------------------------------------------------------------------- readiness
def readiness_checklist(goals: Goals | None) -> pd.DataFrame:
    """The readiness checklist of the eleven goal-setting steps (SPEC §1.1).

    Parameters
    ----------
    goals : Goals or None
        Loaded goals; ``None`` marks every step ``"not recorded"``.

    Returns
    -------
    pandas.DataFrame
        Eleven rows, one per step in order, with columns ``step`` (1-11), ``description``
        (:data:`READINESS_STEPS`), ``status`` (one of :data:`READINESS_STATUSES`: ``done``,
        ``in_progress``, ``not_started``, ``not_applicable`` as written in goals.yaml, or
        ``"not recorded"`` when goals.yaml does not mention the step), ``owner`` and ``note``
        (missing when not given).

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"readiness": [
    ...     {"step": 1, "status": "done", "owner": "CEO"}, {"step": 4, "status": "in_progress"}]})
    >>> readiness_checklist(goals)[["step", "status", "owner"]].head(4)
       step        status owner
    0     1          done   CEO
    1     2  not recorded   NaN
    2     3  not recorded   NaN
    3     4   in_progress   NaN
    """
    recorded = {s.step: s for s in goals.readiness} if goals is not None else {}
    rows = []
    for number, description in enumerate(READINESS_STEPS, start=1):
        s = recorded.get(number)
        rows.append({
            "step": number,
            "description": description,
            "status": s.status if s else N_("not recorded"),
            "owner": s.owner if s else None,
            "note": s.note if s else None,
        })
    return pd.DataFrame(rows, columns=["step", "description", "status", "owner", "note"])


def readiness_summary(checklist: pd.DataFrame) -> dict[str, Any]:
    """Counts and verdict of a readiness checklist.

    Parameters
    ----------
    checklist : pandas.DataFrame
        The table from :func:`readiness_checklist` (columns ``step`` and ``status``).

    Returns
    -------
    dict
        ``n_steps`` (int); ``counts``: number of steps per status, every status of
        :data:`READINESS_STATUSES` present (zeros included); ``share_done``: done steps as a
        proportion of the applicable steps (those not ``not_applicable``; NaN when none is
        applicable); ``ready``: True when every step is ``done`` or ``not_applicable``;
        ``open_steps``: the step numbers that are not (ascending).

    Raises
    ------
    DataError
        When the table lacks the ``step`` or ``status`` column or holds an unknown status.

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"readiness": [
    ...     {"step": s, "status": "done"} for s in range(1, 10)] + [
    ...     {"step": 10, "status": "not_applicable"}]})
    >>> summary = readiness_summary(readiness_checklist(goals))
    >>> summary["counts"]["done"], summary["share_done"], summary["ready"], summary["open_steps"]
    (9, 0.9, False, [11])
    """
    _require(checklist, ["step", "status"], what="readiness checklist")
    statuses = checklist["status"].tolist()
    unknown = sorted({str(s) for s in statuses if s not in READINESS_STATUSES})
    if unknown:
        raise DataError(
            f"readiness checklist: unknown status {', '.join(repr(u) for u in unknown)}; "
            f"allowed: {', '.join(READINESS_STATUSES)} — build the table with readiness_checklist()"
        )
    counts = {status: statuses.count(status) for status in READINESS_STATUSES}
    applicable = len(statuses) - counts["not_applicable"]
    open_steps = sorted(
        int(step) for step, status in zip(checklist["step"], statuses, strict=True)
        if status not in _READY_STATUSES
    )
    return {
        "n_steps": len(statuses),
        "counts": counts,
        "share_done": counts["done"] / applicable if applicable else math.nan,
        "ready": not open_steps,
        "open_steps": open_steps,
    }


# --------------------------------------------------------------------------- self-assessment
def self_assessment(goals: Goals | None, *, preset: str | None = None,
                    source: str = "goals.yaml") -> pd.DataFrame:
    """Performance-excellence self-assessment of the customer category (SPEC §1.1).

    Each sub-item is scored by the team from 0 to 100% in 10% steps; its score in points is
    ``points * score_pct / 100`` and its gap ``points - score_points``.

    Parameters
    ----------
    goals : Goals or None
        Loaded goals; ``self_assessment.items`` give each item's score (and may override its
        points or label). ``None``, or goals without a ``self_assessment`` section, shows the
        preset with every item "not assessed".
    preset : {"gbt19580", "mbnqa", "custom"}, optional
        Point table: ``"gbt19580"`` (:data:`GBT19580_CUSTOMERS`, GB/T 19580 4.3.1 = 40 and
        4.3.2 = 50 points), ``"mbnqa"`` (:data:`MBNQA_1990S`, Baldrige 1990s weights as points
        of 1000) or ``"custom"`` (items and points only from goals.yaml). Default: the preset in
        goals.yaml, else ``"gbt19580"``.
    source : str
        File name used in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per item in preset order (custom: file order), columns ``item``, ``label``,
        ``points`` (maximum; the label of a preset item in the report language), ``score_pct`` (0-100), ``score_points``, ``gap_points``,
        ``evidence`` and ``note``. An item of the preset with no score has ``score_pct``,
        ``score_points`` and ``gap_points`` missing and note ``"not assessed"``; it is left
        out of the total of :func:`self_assessment_summary`.

    Raises
    ------
    ConfigError
        When an item id is not in the preset (except for ``custom``), an id is repeated, a
        custom item has no points, or the preset name is unknown.

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"self_assessment": {"preset": "gbt19580", "items": [
    ...     {"id": "4.3.1", "score": 60}, {"id": "4.3.2", "score": 40}]}})
    >>> self_assessment(goals)[["item", "points", "score_pct", "score_points", "gap_points"]]
        item  points  score_pct  score_points  gap_points
    0  4.3.1    40.0       60.0          24.0        16.0
    1  4.3.2    50.0       40.0          20.0        30.0
    """
    section = goals.self_assessment if goals is not None else None
    name = preset if preset is not None else (section.preset if section is not None else "gbt19580")
    if name not in ASSESSMENT_PRESETS:
        raise ConfigError(
            f"The value for `preset` must be one of {', '.join(ASSESSMENT_PRESETS)}, but {name!r} was "
            f"passed — set self_assessment.preset in {source} or the notebook parameter"
        )
    table = ASSESSMENT_PRESETS[name]
    items = list(section.items) if section is not None else []

    ids = [it.id for it in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(
            f"{source}, key 'self_assessment.items': item {', '.join(repr(r) for r in repeated)} appears "
            "more than once — keep one entry per item"
        )
    known = {p.id: p for p in table}
    if name != "custom":
        unknown = [(i, it.id) for i, it in enumerate(items) if it.id not in known]
        if unknown:
            i, bad = unknown[0]
            raise ConfigError(
                f"{source}, key 'self_assessment.items.{i}.id': item {bad!r} is not in preset {name!r}; "
                f"its items are {', '.join(known)} — fix the id, or set self_assessment.preset: custom "
                "and give points for every item"
            )
    else:
        nopoints = [(i, it.id) for i, it in enumerate(items) if it.points is None]
        if nopoints:
            where = ", ".join(f"{it_id!r} (self_assessment.items.{i})" for i, it_id in nopoints)
            raise ConfigError(
                f"{source}: with preset 'custom' every self-assessment item needs 'points:'; missing for "
                f"{where} — add the maximum points of each item"
            )

    scored = {it.id: it for it in items}
    order = [p.id for p in table] if name != "custom" else ids
    rows = []
    for item_id in order:
        base = known.get(item_id)
        it = scored.get(item_id)
        points = float(it.points if it is not None and it.points is not None else base.points)  # type: ignore[union-attr]
        # a preset's own label is fixed text: shown in the report language (a goals.yaml label as written)
        label = (it.label if it is not None and it.label else None) or (tr(base.label) if base else item_id)
        if it is None:
            score = score_points = gap = math.nan
            note = N_("not assessed")
        else:
            score = float(it.score)
            score_points = points * score / 100.0
            gap = points - score_points
            note = None
        rows.append({
            "item": item_id,
            "label": label,
            "points": points,
            "score_pct": score,
            "score_points": score_points,
            "gap_points": gap,
            "evidence": it.evidence if it is not None else None,
            "note": note,
        })
    out = pd.DataFrame(rows, columns=_ASSESSMENT_COLUMNS)
    return out.astype({c: float for c in ("points", "score_pct", "score_points", "gap_points")})


def self_assessment_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Total of a self-assessment table (the "total" row of the report).

    Parameters
    ----------
    table : pandas.DataFrame
        The table from :func:`self_assessment` (columns ``item``, ``points``, ``score_points``).

    Returns
    -------
    dict
        ``total_points`` (sum of ``score_points`` over the assessed items), ``max_points`` (sum
        of their ``points``), ``pct`` (``100 * total_points / max_points``; NaN when nothing
        was assessed), ``gap_points`` (``max_points - total_points``), ``n_items``,
        ``n_assessed``, ``preset_points`` (maximum of all items, assessed or not),
        ``not_assessed`` (list of item ids) and ``note`` (a sentence saying which items are left
        out of the total, or ``None``).

    Examples
    --------
    >>> from csm_helpers.study.config import Goals
    >>> goals = Goals.model_validate({"self_assessment": {"items": [{"id": "4.3.1", "score": 50}]}})
    >>> s = self_assessment_summary(self_assessment(goals))
    >>> s["total_points"], s["max_points"], s["pct"], s["gap_points"]
    (20.0, 40.0, 50.0, 20.0)
    >>> s["note"]
    'Not assessed and left out of the total: 4.3.2 (50 points).'
    """
    _require(table, ["item", "points", "score_points"], what="self-assessment table")
    assessed = table["score_points"].notna()
    total = float(table.loc[assessed, "score_points"].sum())
    maximum = float(table.loc[assessed, "points"].sum())
    missing = table.loc[~assessed]
    note = None
    if len(missing):  # English: the summary goes to metrics.json (self_assessment_message translates it)
        parts = ", ".join(_NOT_ASSESSED_ITEM.format(item=i, points=f"{p:g}")
                          for i, p in zip(missing["item"], missing["points"], strict=True))
        note = _NOT_ASSESSED.format(items=parts)
    return {
        "total_points": total,
        "max_points": maximum,
        "pct": 100.0 * total / maximum if maximum > 0 else math.nan,
        "gap_points": maximum - total,
        "n_items": len(table),
        "n_assessed": int(assessed.sum()),
        "preset_points": float(table["points"].sum()),
        "not_assessed": [str(i) for i in missing["item"]],
        "note": note,
    }


_NOT_ASSESSED = N_("Not assessed and left out of the total: {items}.")
_NOT_ASSESSED_ITEM = N_("{item} ({points} points)")


def _note_text(note: str) -> str:
    """The ``note`` of :func:`self_assessment_summary` (English) in the report language."""
    head, tail = _NOT_ASSESSED.split("{items}")
    if not (note.startswith(head) and note.endswith(tail)):
        return tr(note)
    items = re.findall(r"(.+?) \((\S+) points\)(?:, |$)", note[len(head):len(note) - len(tail)])
    parts = ", ".join(_(_NOT_ASSESSED_ITEM, item=i, points=p) for i, p in items)
    return _(_NOT_ASSESSED, items=parts) if items else tr(note)


# --------------------------------------------------------------------------- internals
def _require(data: Any, columns: list[str], *, what: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataError(
            f"{what}: column {', '.join(repr(m) for m in missing)} is missing; found "
            f"{', '.join(map(str, data.columns)) or 'no columns'} — pass the table the matching helper returns"
        )


# --------------------------------------------------------------------------- report sentences
def readiness_message(summary: dict[str, Any]) -> str:
    """One sentence for the reader from :func:`readiness_summary`.

    Examples
    --------
    >>> readiness_message({"ready": False, "counts": {"done": 7}, "n_steps": 11, "open_steps": [2, 5, 9, 11]})
    'Not ready yet: 7 of 11 steps done; open steps: 2, 5, 9, 11.'
    >>> readiness_message({"ready": True, "counts": {"done": 11}, "n_steps": 11, "open_steps": []})
    'Ready: every goal-setting step is done or not applicable (11 of 11 done).'
    """
    done, total = summary["counts"].get("done", 0), summary["n_steps"]
    if summary["ready"]:
        return _("Ready: every goal-setting step is done or not applicable ({done} of {total} done).",
                 done=done, total=total)
    steps = ", ".join(str(s) for s in summary["open_steps"])
    return _("Not ready yet: {done} of {total} steps done; open steps: {steps}.", done=done, total=total,
             steps=steps)


def self_assessment_message(summary: dict[str, Any]) -> str:
    """One sentence for the reader from :func:`self_assessment_summary`.

    Examples
    --------
    >>> self_assessment_message({"total_points": 49.0, "max_points": 90.0, "pct": 54.4, "gap_points": 41.0,
    ...                          "note": None})
    'Score 49.0 of 90 points (54%); gap to the maximum 41.0 points.'
    """
    if not summary["max_points"]:
        return _("No item of the self-assessment has been scored yet.")
    text = _("Score {total} of {max} points ({pct}%); gap to the maximum {gap} points.",
             total=f"{summary['total_points']:.1f}", max=f"{summary['max_points']:g}",
             pct=f"{summary['pct']:.0f}", gap=f"{summary['gap_points']:.1f}")
    return f"{text} {_note_text(summary['note'])}" if summary.get("note") else text


def status_label(status: str) -> str:
    """Reader-facing wording of a readiness status code, in the report language.

    Examples
    --------
    >>> status_label("in_progress"), status_label("not recorded")
    ('in progress', 'not recorded')
    """
    return tr(str(status).replace("_", " "))
