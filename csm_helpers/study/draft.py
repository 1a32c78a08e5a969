"""``csm init``: a study workbook folder, and a first study.yaml drafted from a survey export.

A workbook folder holds ``study.yaml``, a copy of the stage notebooks in ``notebooks/`` (the
researcher's to edit; ``csm run`` uses them), the export in ``data/`` and a next-steps
``README.md``. With an export, :func:`draft_study` guesses what it can from the data and its
metadata (SPSS variable and value labels, the Qualtrics question-text row): the id, the rating
items and their scales, the overall and recommend items, segments, comments, duration, waves,
and the personal and Qualtrics metadata columns that must never reach a report. Every guess
carries a ``# guessed:`` comment saying from what; what cannot be guessed is ``TODO``, and
:func:`csm_helpers.study.config.load_study` (so ``csm validate``) lists exactly those keys.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from csm_helpers.core.errors import CsmError
from csm_helpers.core.safety import write_text_atomic
from csm_helpers.study.config import TODO
from csm_helpers.study.readers import read_table
from csm_helpers.study.stages import notebooks_dir, stage_names

__all__ = ["InitResult", "Draft", "draft_study", "init_study"]

_PERSONAL = re.compile(
    r"(ip_?address|recipient_?(email|first_?name|last_?name)|location_?(latitude|longitude)|"
    r"external_?(data_?)?reference|e-?mail|phone|mobile|telephone|^name$|first_?name|last_?name|full_?name|"
    r"customer_?name|address)", re.IGNORECASE)
_QUALTRICS_META = {"startdate", "enddate", "status", "progress", "finished", "recordeddate", "distributionchannel",
                   "userlanguage", "responseset", "responseid", "q_recaptchascore", "q_relevantidduplicate"}
_ID = re.compile(r"^(response_?id|respondent_?id|resp_?id|id|case_?id|record_?id|v1)$", re.IGNORECASE)
_DURATION = re.compile(r"duration|seconds|time_?taken", re.IGNORECASE)
_WAVE = re.compile(r"^(wave|period|quarter|round|survey_?wave|year)$", re.IGNORECASE)
_SEGMENT = re.compile(r"region|channel|branch|store|shop|city|country|segment|gender|age_?group|department|"
                      r"office|area|zone|province|district", re.IGNORECASE)
_OVERALL = re.compile(r"overall|osat|satisf", re.IGNORECASE)
_RECOMMEND = re.compile(r"recommend|nps|likely|likelihood", re.IGNORECASE)


@dataclass
class Draft:
    """What :func:`draft_study` guessed, and the YAML text it wrote from it."""

    yaml: str
    guesses: dict[str, object] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)


@dataclass
class InitResult:
    """What :func:`init_study` wrote (``written``) and kept (a researcher's edited notebooks)."""

    folder: Path
    written: list[Path]
    kept: list[Path]
    draft: Draft | None


def _label(col: str, question: dict[str, str]) -> str:
    text = str(question.get(col) or "").strip()
    text = re.sub(r"\s+", " ", text)
    if " - " in text:  # Qualtrics matrix rows: "How satisfied… - Staff courtesy"
        text = text.rsplit(" - ", 1)[1]
    return text[:80] or col.replace("_", " ")


def _q(value: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:30] or "item"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}_{i}", i + 1
    used.add(slug)
    return slug


def _scale(col: str, values: pd.Series, labels: dict[str, dict]) -> tuple[int, int, str]:
    """(lowest, highest, how it was guessed) of a rating item."""
    codes = [float(c) for c in (labels.get(col) or {}) if _is_number(c)]
    if len(codes) >= 2:
        return int(min(codes)), int(max(codes)), "from the SPSS value labels"
    lo, hi = int(values.min()), int(values.max())
    note = f"from the observed answers {lo}-{hi}"
    if hi == 9 and lo == 0:
        return 0, 10, note + " (no 10 seen: assumed 0-10, check)"
    if lo == 2 and hi in (5, 7, 10):
        return 1, hi, note + f" (no 1 seen: assumed 1-{hi}, check)"
    if lo == 1 and hi in (4, 6, 9):
        return lo, hi + 1, note + f" (no {hi + 1} seen: assumed 1-{hi + 1}, check)"
    return lo, hi, note


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def draft_study(export: str | Path, *, data_file: str, language: str = "en") -> Draft:
    """Draft ``study.yaml`` text from a survey export (CSV, Excel, SPSS, Qualtrics, Parquet).

    Parameters
    ----------
    export : str or Path
        The survey export to read.
    data_file : str
        The path ``responses.file`` gets (relative to study.yaml, e.g. ``data/survey.sav``).
    language : {"en", "vi", "zh"}
        The report language written into the draft.

    Raises
    ------
    CsmError
        When the export cannot be read (the message names the file and the fix).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> rows = [f"r{i},{i % 5 + 1},{i % 4 + 2},{i % 11},North" for i in range(40)]
    >>> _ = p.write_text("rid,overall_sat,speed,recommend,region\\n" + "\\n".join(rows), encoding="utf-8")
    >>> d = draft_study(p, data_file="data/s.csv")
    >>> d.guesses["id"], d.guesses["overall"], d.guesses["recommend"], d.todo
    ('rid', 'overall_sat', 'recommend', ['attributes.0.dimension'])
    """
    table = read_table(Path(export))
    data = table.data
    question = {str(k): str(v) for k, v in table.question_text.items()}
    labels = {str(k): v for k, v in table.value_labels.items()}
    cols = [str(c) for c in data.columns]
    g: dict[str, object] = {}
    notes: dict[str, str] = {}

    def field_name(col: str) -> str:  # legacy Qualtrics: V1… with the field name in row 2
        return question.get(col, col) if table.format == "qualtrics-legacy" else col

    personal = [c for c in cols if _PERSONAL.search(field_name(c))]
    meta = [c for c in cols if field_name(c).replace(" ", "").lower() in _QUALTRICS_META]
    ids = [c for c in cols if _ID.match(field_name(c)) and data[c].notna().all() and data[c].is_unique]
    id_col = ids[0] if ids else next((c for c in cols if c not in personal and not
                                      pd.api.types.is_float_dtype(data[c]) and data[c].notna().all()
                                      and data[c].is_unique and data[c].astype(str).str.len().max() < 40), None)
    g["id"] = id_col or "row"
    notes["id"] = ("a column with a different value in every row" if id_col else
                   "no column has a different value in every row: respondents are numbered by their row")
    duration = next((c for c in cols if _DURATION.search(field_name(c)) and pd.api.types.is_numeric_dtype(data[c])),
                    None)
    wave = next((c for c in cols if _WAVE.match(field_name(c)) and 1 < data[c].nunique() <= 20), None)
    taken = {*personal, *meta, g["id"], duration, wave}
    rating_words = re.compile(r"satisf|agree|likely|poor|good|excellent|bad|important|never|always|very|neither|"
                              r"neutral|\d", re.IGNORECASE)
    nominal = [c for c in cols if labels.get(c) and not any(rating_words.search(str(t)) for t in labels[c].values())]
    named_segments = [c for c in cols if c not in taken and (_SEGMENT.search(field_name(c)) or c in nominal)]

    items: list[str] = []
    scales: dict[str, tuple[int, int, str]] = {}
    for c in cols:
        if c in taken or c in named_segments:
            continue
        v = pd.to_numeric(data[c], errors="coerce")
        ok = v.dropna()
        if len(ok) < max(3, 0.5 * data[c].notna().sum()) or not np.allclose(ok, ok.round()):
            continue
        lo, hi, how = _scale(c, ok, labels)
        if lo >= 0 and 2 <= hi - lo + 1 <= 11 and ok.nunique() >= 2:
            items.append(c)
            scales[c] = (lo, hi, how)
    for c in items:  # a recommend item with no 0 seen is still on the 0-10 NPS scale
        if scales[c][1] == 10 and scales[c][0] in (1, 2) and _RECOMMEND.search(f"{c} {question.get(c, '')}"):
            scales[c] = (0, 10, scales[c][2] + " (a recommend item: assumed the 0-10 NPS scale, check)")
    rec = [c for c in items if scales[c][:2] == (0, 10) and _RECOMMEND.search(f"{c} {question.get(c, '')}")]
    rec = rec or [c for c in items if scales[c][:2] == (0, 10)]
    g["recommend"] = rec[0] if rec else None
    candidates = [c for c in items if c != g["recommend"]]
    overall = ([c for c in candidates if re.search(r"overall|osat", f"{c} {question.get(c, '')}", re.IGNORECASE)]
               or [c for c in candidates if _OVERALL.search(f"{c} {question.get(c, '')}")
                   and " - " not in question.get(c, "")])  # "satisfied with: - Price" is an attribute
    g["overall"] = overall[0] if overall else TODO
    attributes = [c for c in items if c not in (g["recommend"], g["overall"])]
    segments, comments = [], []
    for c in cols:
        if c in taken or c in items:
            continue
        s = data[c].dropna().astype(str).str.strip()
        s = s[s != ""]
        if s.empty:
            continue
        if (c in labels or c in named_segments or not pd.api.types.is_numeric_dtype(data[c])) \
                and 2 <= s.nunique() <= 30 \
                and s.str.len().mean() < 40:
            segments.append(c)
        elif not pd.api.types.is_numeric_dtype(data[c]) and s.str.len().mean() >= 15:
            comments.append(c)
    g.update(segments=segments, comments=comments[0] if comments else None, duration=duration, wave=wave,
             personal_data=personal + [c for c in meta if c != g["id"]], attributes=attributes)

    common = pd.Series([scales[c][:2] for c in attributes or items]).mode()
    default = tuple(common.iloc[0]) if len(common) else (1, 5)
    lines = [
        "# Study configuration drafted by `csm init` from " + Path(export).name + ".",
        "# Check every '# guessed:' line, fill every TODO, then run: csm validate --study study.yaml",
        "",
        f"name: {_q(Path(export).stem.replace('_', ' '))}",
        f"language: {language}",
        "min_cell_size: 5  # no figure is shown for a group of fewer respondents",
        "seed: 20261123",
        "responses:",
        f"  file: {_q(data_file)}",
        f"  id: {_q(g['id'])}  # guessed: {notes['id']}",
    ]
    if wave:
        lines.append(f"  wave: {_q(wave)}  # guessed: column name")
    lines.append(f"  segments: [{', '.join(_q(c) for c in segments)}]  # guessed: columns with 2-30 distinct values"
                 " (regions, channels…); keep the ones you report by")
    lines.append(f"  personal_data: [{', '.join(_q(c) for c in g['personal_data'])}]  # guessed: names, e-mails, "
                 "phones, IP addresses, locations and survey metadata — never shown in a report")
    if g["comments"]:
        lines.append(f"  comments: {_q(g['comments'])}  # guessed: the longest free-text answers")
    if duration:
        lines.append(f"  duration: {_q(duration)}  # guessed: completion time in seconds (speeder check)")
    if table.format.startswith("qualtrics"):
        lines.append("  qualtrics: {keep_previews: false, keep_unfinished: false}  # survey previews and "
                     "unfinished responses are left out")
    lines.append("scales:  # guessed: the most common scale of the rating items is the default")
    lines.append(f"  default: [{default[0]}, {default[1]}]")
    for c in items:
        lo, hi, how = scales[c]
        if (lo, hi) != default or "check" in how:
            lines.append(f"  {_q(c)}: [{lo}, {hi}]  # guessed: {how}")
    if g["overall"] == TODO:
        lines.append(f"overall: {TODO}  # the overall-satisfaction item: no column name or label says 'overall' "
                     "or 'satisfied'")
    else:
        lines.append(f"overall: {_q(g['overall'])}  # guessed: its name or label says overall / satisfied")
    if g["recommend"]:
        lines.append(f"recommend: {_q(g['recommend'])}  # guessed: a 0-10 item (NPS)")
    lines.append("attributes:  # guessed: every other rating item; 'dimension' is product, process or people")
    todo: list[str] = []
    used: set[str] = set()
    for i, c in enumerate(attributes):
        label = _label(c, question)
        lines.append(f"  - {{id: {_slug(label, used)}, label: {_q(label)}, dimension: {TODO}, "
                     f"performance: {_q(c)}}}")
        todo.append(f"attributes.{i}.dimension")
    if not attributes:
        lines.append(f"  - {{id: {TODO}, label: {TODO}, dimension: {TODO}, performance: {TODO}}}")
        todo += [f"attributes.0.{k}" for k in ("id", "label", "dimension", "performance")]
    if g["overall"] == TODO:
        todo.insert(0, "overall")
    lines += [
        "measurement:",
        "  # data-quality rules on by default: speeders (under a third of the median duration),",
        "  # straight-liners (the same answer to 5 or more grid items) and duplicate answers are",
        "  # set aside; all-top or all-bottom answers are flagged but kept",
        "  exclude: [speeders, straightliners, duplicates]",
        "# Optional inputs: add them to run stages 01 and 02 (goals.yaml; interviews + codebook.yaml)",
        "# goals: goals.yaml",
        "# interviews: {file: data/interviews.csv, id: id, group: group, text: text}",
        "# codebook: codebook.yaml",
    ]
    return Draft(yaml="\n".join(lines) + "\n", guesses=g, todo=todo)


_NEXT_STEPS = """# {name}

A csm-workbook study folder, written by `csm init`.

1. Open `study.yaml`: check each `# guessed:` line and fill each `TODO`.
2. `csm validate --study {folder}/study.yaml` lists what is still missing or wrong.
3. `csm run --study {folder}/study.yaml --out {folder}/reports` writes the reports;
   stages whose inputs are missing (goals, interviews) are skipped with the reason.
4. `jupyter lab {folder}/notebooks/`: the notebooks are yours to edit; `csm run` and
   `csm batch` run them as edited.
"""


def init_study(folder: str | Path, *, source: str | Path | None = None, language: str = "en",
               force: bool = False) -> InitResult:
    """Create a study workbook folder (``csm init``): study.yaml, notebooks/, data/, README.md.

    Raises
    ------
    CsmError
        When ``folder`` exists and is not empty (unless ``force``), or the export cannot be read.
        Nothing is left behind when drafting fails; with ``force`` a notebook that differs from
        the bundled one (a researcher's edit) is kept, never overwritten.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> r = init_study(pathlib.Path(tempfile.mkdtemp()) / "mystudy")
    >>> sorted(p.name for p in r.folder.iterdir())
    ['README.md', 'notebooks', 'study.yaml']
    """
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or (any(folder.iterdir()) and not force)):
        raise CsmError(f"{folder} already exists and is not empty — choose a new folder, or add --force to "
                       "fill it in (edited notebooks are kept)")
    if source is not None:
        source = Path(source).expanduser().resolve()
        if not source.is_file():
            raise CsmError(f"--from {source}: no such file — give the survey export (.csv, .xlsx, .sav, .parquet)")
    created = not folder.exists()
    written: list[Path] = []
    kept: list[Path] = []
    try:
        draft = None
        if source is not None:
            rel = f"data/{source.name}"
            draft = draft_study(source, data_file=rel, language=language)
        folder.mkdir(parents=True, exist_ok=True)
        if source is not None:
            (folder / "data").mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder / "data", delete=False) as tmp:
                shutil.copyfile(source, tmp.name)
            Path(tmp.name).replace(folder / "data" / source.name)
            written.append(folder / "data" / source.name)
        text = draft.yaml if draft is not None else _template(language)
        written.append(write_text_atomic(folder / "study.yaml", text))
        nbs = folder / "notebooks"
        nbs.mkdir(exist_ok=True)
        for stage in stage_names():
            src, dest = notebooks_dir() / f"{stage}.ipynb", nbs / f"{stage}.ipynb"
            if dest.exists() and not filecmp.cmp(src, dest, shallow=False):
                kept.append(dest)
                continue
            written.append(write_text_atomic(dest, src.read_text(encoding="utf-8")))
        written.append(write_text_atomic(folder / "README.md",
                                         _NEXT_STEPS.format(name=folder.name, folder=folder.name)))
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return InitResult(folder=folder, written=written, kept=kept, draft=draft)


def _template(language: str) -> str:
    return "\n".join([
        "# Study configuration written by `csm init`: fill every TODO, then run csm validate --study study.yaml",
        f"name: {TODO}",
        f"language: {language}",
        "min_cell_size: 5",
        "seed: 20261123",
        "responses:",
        f"  file: {TODO}  # the survey export, relative to this file (.csv, .xlsx, .sav, .parquet)",
        f"  id: {TODO}  # the respondent id column, or row to number the rows",
        "  segments: []",
        "  personal_data: []  # names, e-mails, phones: never shown in a report",
        "scales: {default: [1, 5]}",
        f"overall: {TODO}  # the overall-satisfaction item",
        "attributes:",
        f"  - {{id: {TODO}, label: {TODO}, dimension: {TODO}, performance: {TODO}}}",
        "",
    ])
