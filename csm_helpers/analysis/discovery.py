"""Stage 02, discovery (SPEC §1.2): what matters to customers, from interviews.

Discovery is qualitative: it finds *which* attributes matter, not how much. The functions here
turn interview and focus-group records into the tables of the discovery report:

- :func:`prepare_interviews`: standardise the interview file (columns, source groups, order);
- :func:`code_verbatims`: code free text into codebook attributes (keywords in any language,
  regular expressions, manual codes); also used for survey comments in stage 04;
- :func:`affinity_table`: the affinity diagram, attributes grouped under dimensions and themes;
- :func:`perception_gap`: customer-side vs company-side mention shares, with Fisher's exact test;
- :func:`saturation_curve` and :func:`saturation_verdict`: have the interviews stopped
  turning up new attributes?
- :func:`draft_questionnaire` and :func:`write_questionnaire_csv`: performance, importance and
  expectation items for each customer-defined attribute.

Only customers define what is measured (SPEC §1): executives and staff are interviewed to find
where the company's view differs from the customers'.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError, format_rows
from csm_helpers.core.i18n import N_, _, tr
from csm_helpers.core.safety import to_safe_csv
from csm_helpers.study.config import (
    COMPANY_GROUPS,
    CUSTOMER_GROUPS,
    DIMENSIONS,
    SOURCE_GROUPS,
    Codebook,
    InterviewsSpec,
)

__all__ = [
    "INTERVIEW_COLUMNS",
    "CODED_COLUMNS",
    "prepare_interviews",
    "code_verbatims",
    "affinity_table",
    "perception_gap",
    "saturation_curve",
    "saturation_verdict",
    "draft_questionnaire",
    "write_questionnaire_csv",
    "require_inputs",
    "interview_summary",
    "coding_summary",
    "gap_findings",
    "example_verbatims",
]

#: Columns of :func:`prepare_interviews`.
INTERVIEW_COLUMNS = ["interview_id", "source_group", "text", "order", "codes", "row"]
#: Columns of :func:`code_verbatims` after the id column (which keeps its own name).
CODED_COLUMNS = ["attribute", "label", "dimension", "theme", "source", "match"]

_SOURCE_PRIORITY = {"manual": 0, "keyword": 1, "pattern": 2}

#: Words shown in the report tables (source groups and sides of :func:`interview_summary`,
#: flags of :func:`perception_gap`), marked here for the catalogs; the tables keep them in
#: English (they feed metrics.json) and the display step translates them.
_SHOWN_WORDS = (N_("customer"), N_("lost_customer"), N_("competitor_customer"), N_("executive"),
                N_("employee"), N_("company"))
_UNDER = N_("company under-rates")
_OVER = N_("company over-rates")
_ALIGNED = N_("aligned")
_NOT_MEASURABLE = N_("not measurable")

# Scripts written without spaces between words: a keyword in them matches as a substring.
# Han (with radicals, iteration marks and the extension planes), Hiragana, Katakana (with
# half-width forms), Thai, Lao, Khmer and Myanmar.
_NO_SPACE_RANGES = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
)
# Combining marks: part of the word they follow (e.g. a Vietnamese tone mark left decomposed).
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# A letter or digit of a script that separates words with spaces.
_SPACED_WORD = re.compile(f"[^\\W{_NO_SPACE_RANGES}]|[{_MARKS}]")
_BEFORE = f"(?<![^\\W{_NO_SPACE_RANGES}])(?<![{_MARKS}])"
_AFTER = f"(?![^\\W{_NO_SPACE_RANGES}])(?![{_MARKS}])"


# --------------------------------------------------------------------------- interviews
def prepare_interviews(data: pd.DataFrame, *, spec: InterviewsSpec, source: str | None = None) -> pd.DataFrame:
    """Standardise an interview file to the columns the discovery helpers use.

    Parameters
    ----------
    data : pandas.DataFrame
        The interview records as read from the file, one row per interview or focus group
        (not modified).
    spec : InterviewsSpec
        ``study.interviews``: which columns hold the id, source group, text, and optionally
        the interview order and the manual codes.
    source : str, optional
        File name for messages (default ``spec.file``).

    Returns
    -------
    pandas.DataFrame
        One row per interview in interview order, columns ``interview_id`` (text),
        ``source_group`` (one of ``config.SOURCE_GROUPS``), ``text`` (empty when missing),
        ``order`` (1..n: the position after sorting by the order column when the spec names
        one, numbers or ISO dates, ties keeping file order; else file order), ``codes``
        (manual codes as written, ``''`` when none) and ``row`` (the row in the file, the
        header being row 1). Source groups are read case-insensitively and with spaces or
        hyphens for ``_`` (``"Lost customer"`` is ``lost_customer``).

    Raises
    ------
    DataError
        Listing every problem at once: a missing column, a missing or repeated interview id,
        an unknown source group (with the allowed groups), an order value that is missing or
        neither a number nor an ISO date.

    Examples
    --------
    >>> from csm_helpers.study.config import InterviewsSpec
    >>> raw = pd.DataFrame({"id": ["c2", "e1", "c1"], "group": ["Customer", "executive", "customer"],
    ...                     "date": ["2026-03-02", "2026-03-01", "2026-03-01"],
    ...                     "notes": ["Queue too long", "Price matters", "Staff rude"]})
    >>> spec = InterviewsSpec(file="interviews.csv", id="id", group="group", text="notes", order="date")
    >>> prepare_interviews(raw, spec=spec)[["interview_id", "source_group", "order", "row"]]
      interview_id source_group  order  row
    0           e1    executive      1    3
    1           c1     customer      2    4
    2           c2     customer      3    2
    """
    check_frame(data, "interview data")
    src = source or spec.file
    explicit = spec.model_fields_set
    roles = [("id", spec.id), ("group", spec.group), ("text", spec.text)]
    if spec.order:
        roles.append(("order", spec.order))
    if spec.codes and ("codes" in explicit or spec.codes in data.columns):
        roles.append(("codes", spec.codes))
    missing = [(key, col) for key, col in roles if col not in data.columns]
    if missing:
        found = ", ".join(repr(str(c)) for c in data.columns) or "none"
        raise DataError(
            f"{src}: required columns are missing (columns found: {found})",
            [f"column {col!r} (interviews.{key} in study.yaml) not found — rename the column in the file "
             f"or set interviews.{key} to the column that holds it" for key, col in missing],
        )

    n = len(data)
    rows = np.arange(2, n + 2)
    problems: list[str] = []

    ids = data[spec.id]
    no_id = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if no_id.any():
        problems.append(f"column {spec.id!r}, {format_rows(rows[no_id])}: the interview id is missing — "
                        "give every interview an id")
    id_text = [_id_to_str(v) for v in ids]
    seen: dict[str, int] = {}
    dupes: dict[str, list[int]] = {}
    for r, v, bad in zip(rows, id_text, no_id, strict=True):
        if bad:
            continue
        if v in seen:
            dupes.setdefault(v, [seen[v]]).append(int(r))
        else:
            seen[v] = int(r)
    for v, rs in dupes.items():
        problems.append(f"column {spec.id!r}, {format_rows(rs)}: interview id {v!r} is repeated — ids must be "
                        "unique (one row per interview)")

    groups = [_normalise_group(v) for v in data[spec.group]]
    bad_groups: dict[str, list[int]] = {}
    for r, g, raw in zip(rows, groups, data[spec.group], strict=True):
        if g not in SOURCE_GROUPS:
            bad_groups.setdefault("(missing)" if _isna(raw) else repr(str(raw)), []).append(int(r))
    for shown, rs in bad_groups.items():
        found = "the source group is missing" if shown == "(missing)" else f"source group {shown} is not allowed"
        problems.append(f"column {spec.group!r}, {format_rows(rs)}: {found}; allowed: {', '.join(SOURCE_GROUPS)}"
                        " — fix the value in the file")

    sort_key = None
    if spec.order:
        sort_key, order_problems = _order_key(data[spec.order], spec.order, rows)
        problems.extend(order_problems)

    if problems:
        raise DataError(f"{src}: the interview records have {len(problems)} problem(s)", problems)

    codes = (data[spec.codes] if spec.codes and spec.codes in data.columns else pd.Series([None] * n))
    out = pd.DataFrame({
        "interview_id": id_text,
        "source_group": groups,
        "text": ["" if _isna(t) else str(t) for t in data[spec.text]],
        "codes": ["" if _isna(c) else str(c) for c in codes],
        "row": rows,
    })
    if sort_key is not None:
        out = out.iloc[np.argsort(sort_key, kind="stable")].reset_index(drop=True)
    out["order"] = np.arange(1, n + 1)
    return out[INTERVIEW_COLUMNS].astype({"order": "int64", "row": "int64"})


def _id_to_str(v: Any) -> str:
    if _isna(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _normalise_group(v: Any) -> str:
    if _isna(v):
        return ""
    return re.sub(r"[\s\-]+", "_", str(v).strip().casefold())


def _isna(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def _order_key(col: pd.Series, name: str, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    problems = []
    where = f"column {name!r} (interviews.order)"
    missing = col.isna().to_numpy()
    if missing.any():
        problems.append(f"{where}, {format_rows(rows[missing])}: the order is missing — give every interview "
                        "a number or an ISO date (YYYY-MM-DD)")
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return col.to_numpy(), problems
    values = col.astype(object)
    try:
        return pd.to_numeric(values).to_numpy(dtype=float), problems
    except (TypeError, ValueError):
        pass
    try:
        return pd.to_datetime(values, format="ISO8601").to_numpy(), problems
    except (TypeError, ValueError):
        pass
    bad = [(int(r), v) for r, v, m in zip(rows, values, missing, strict=True) if not m and not _is_number_or_date(v)]
    if bad:
        shown = ", ".join(repr(str(v)) for _, v in bad[:3])
        problems.append(f"{where}, {format_rows([r for r, _ in bad])}: {shown} is neither a number nor an ISO "
                        "date — write numbers (1, 2, ...) or dates as YYYY-MM-DD")
    else:
        problems.append(f"{where}: the column mixes numbers and dates — use one kind for every interview")
    return np.zeros(len(col)), problems


def _is_number_or_date(v: Any) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        pass
    try:
        pd.to_datetime(str(v), format="ISO8601")
        return True
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- coding
def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@functools.lru_cache(maxsize=4096)
def _keyword_regex(keyword: str) -> re.Pattern[str] | None:
    """Regex for a folded keyword: word boundaries only where the keyword's own end is a
    letter or digit of a spaced script; inner whitespace matches any run of whitespace."""
    kw = " ".join(keyword.split())
    if not kw:
        return None
    body = r"\s+".join(re.escape(tok) for tok in kw.split(" "))
    before = _BEFORE if _SPACED_WORD.fullmatch(kw[0]) else ""
    after = _AFTER if _SPACED_WORD.fullmatch(kw[-1]) else ""
    return re.compile(before + body + after)


def _literal_prefilter(texts: pa.Array, probes: list[str]) -> np.ndarray:
    """Positions of the texts that contain at least one of the literal ``probes`` (one pass).

    The probes are quoted (RE2 ``\\Q...\\E``) into one alternation for
    ``pyarrow.compute.match_substring_regex``; a probe that itself contains ``\\E`` cannot be
    quoted, and then each probe is searched on its own.
    """
    probes = list(dict.fromkeys(probes))
    if any("\\E" in p for p in probes):
        hit = np.zeros(len(texts), dtype=bool)
        for p in probes:
            hit |= pc.match_substring(texts, p).to_numpy(zero_copy_only=False).astype(bool)
    else:
        pattern = "|".join(f"\\Q{p}\\E" for p in probes)
        hit = pc.match_substring_regex(texts, pattern).to_numpy(zero_copy_only=False).astype(bool)
    return np.flatnonzero(hit)


def _original_span(nfc: str, folded: str, start: int, end: int) -> str:
    """Text of ``nfc`` that casefolds to positions ``start:end`` of ``folded = nfc.casefold()``."""
    if len(folded) == len(nfc):  # casefolding kept every character one-to-one (the usual case)
        return nfc[start:end]
    index = []
    for i, ch in enumerate(nfc):
        index.extend([i] * len(ch.casefold()))
    return nfc[index[start]: index[end - 1] + 1]


def code_verbatims(texts: pd.DataFrame, *, codebook: Codebook, id: str = "interview_id", text: str = "text",
                   codes: str | None = "codes", source: str | None = None) -> pd.DataFrame:
    """Code free text into codebook attributes: one row per text id and attribute found.

    Matching is done on Unicode NFC-normalised, case-folded text and keywords. A keyword in a
    script written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) matches
    anywhere, as a substring; any other keyword (English, Vietnamese with its diacritics, ...)
    matches whole words only, so ``fee`` does not match *feedback* and ``phí`` does not match
    inside *phía*; a space inside a keyword matches any run of whitespace. Patterns are
    regular expressions, matched case-insensitively. Manual codes (attribute ids separated by
    ``;``, case-insensitive) are added as they are. An attribute found several ways in one
    text is kept once, by priority manual > keyword > pattern; for a keyword the earliest
    match in the text is reported.

    Parameters
    ----------
    texts : pandas.DataFrame
        One row per text (interview, survey comment...), not modified.
    codebook : Codebook
        The discovery codebook (:func:`csm_helpers.study.config.load_codebook`).
    id, text : str
        Columns holding the text's id and the text. Missing text codes nothing.
    codes : str or None
        Column of manual codes; ``None``, or a column that is absent, means no manual codes.
    source : str, optional
        Name of the data (e.g. the file) for messages.

    Returns
    -------
    pandas.DataFrame
        Long table in text order, then codebook order: the ``id`` column (keeping its name and
        values), ``attribute``, ``label``, ``dimension``, ``theme`` (the codebook theme; an
        attribute without a theme is its own theme, its label), ``source`` (``"manual"``,
        ``"keyword"`` or ``"pattern"``) and ``match`` (the matched text as written in the
        source text, NFC-normalised; missing for manual codes). Texts with no attribute have no
        row.

    Raises
    ------
    DataError
        When the id or text column is missing, or a manual code is not a codebook attribute
        (each listed with its row and id).

    Examples
    --------
    >>> from csm_helpers.study.config import Codebook
    >>> cb = Codebook.model_validate({"attributes": [
    ...     {"id": "fees", "label": "Fees", "dimension": "product", "keywords": ["fee", "phí", "费用"]},
    ...     {"id": "waiting", "label": "Waiting time", "dimension": "process",
    ...      "patterns": [r"wait(ed|ing)?\\b"]}]})
    >>> texts = pd.DataFrame({"interview_id": ["a", "b", "c", "d"], "text": [
    ...     "The FEE is high; I waited long.", "Thanks for the feedback", "phía sau, phí cao",
    ...     "银行的费用太高"]})
    >>> code_verbatims(texts, codebook=cb, codes=None)[["interview_id", "attribute", "source", "match"]]
      interview_id attribute   source   match
    0            a      fees  keyword     FEE
    1            a   waiting  pattern  waited
    2            c      fees  keyword     phí
    3            d      fees  keyword      费用
    """
    check_frame(texts, "texts")
    src = source or "texts"
    missing = [c for c in (id, text) if c not in texts.columns]
    if missing:
        found = ", ".join(repr(str(c)) for c in texts.columns) or "none"
        raise DataError(f"{src}: column {', '.join(repr(m) for m in missing)} not found (columns: {found}) — "
                        "pass the id= and text= columns that hold the id and the text")

    entries = list(codebook.attributes)
    n = len(texts)
    raw = texts[text].tolist()
    nfc = ["" if _isna(t) else unicodedata.normalize("NFC", str(t)) for t in raw]
    folded = [t.casefold() for t in nfc]
    # hits: (row position, attribute index, priority, match)
    hits: list[tuple[int, int, int, Any]] = []

    # Manual codes.
    if codes is not None and codes in texts.columns:
        by_fold = {e.id.casefold(): i for i, e in enumerate(entries)}
        rownums = texts["row"].tolist() if "row" in texts.columns else list(range(2, n + 2))
        problems = []
        for pos, (cell, ident) in enumerate(zip(texts[codes].tolist(), texts[id].tolist(), strict=True)):
            if _isna(cell):
                continue
            for code in str(cell).split(";"):
                code = code.strip()
                if not code:
                    continue
                k = by_fold.get(code.casefold())
                if k is None:
                    hint = " (separate codes with ';')" if "," in code else ""
                    problems.append(f"row {rownums[pos]} ({id} {ident!r}): manual code {code!r} is not a codebook "
                                    f"attribute{hint}")
                else:
                    hits.append((pos, k, _SOURCE_PRIORITY["manual"], None))
        if problems:
            ids_shown = ", ".join(e.id for e in entries[:12]) + (", ..." if len(entries) > 12 else "")
            raise DataError(
                f"{src}, column {codes!r}: unknown manual codes — allowed: codebook attribute ids ({ids_shown}); "
                "fix the code or add the attribute to the codebook",
                problems,
            )

    # Keywords: a vectorised literal pre-filter, then the boundary-aware regex on candidates. The
    # pre-filter scans the texts once per attribute (every keyword's longest word, as literals in
    # one RE2 alternation), then keeps, per keyword, the candidates that contain its word.
    arrow_texts = pa.array(folded, type=pa.large_string())
    for k, entry in enumerate(entries):
        best: dict[int, tuple[int, int, int]] = {}  # position -> (start, -length, end)
        keywords = [(kw, rx, max(kw.split(), key=len)) for kw in map(_fold, entry.keywords)
                    if (rx := _keyword_regex(kw)) is not None]
        if not keywords:
            continue
        any_probe = _literal_prefilter(arrow_texts, [probe for _, _, probe in keywords])
        for _kw, rx, probe in keywords:
            candidates = [pos for pos in any_probe if probe in folded[pos]]
            for pos in candidates:
                m = rx.search(folded[pos])
                if m is None:
                    continue
                key = (m.start(), -(m.end() - m.start()), m.end())
                if pos not in best or key < best[pos]:
                    best[pos] = key
        for pos, (start, _len, end) in best.items():
            hits.append((int(pos), k, _SOURCE_PRIORITY["keyword"], _original_span(nfc[pos], folded[pos], start, end)))

    # Patterns: case-insensitive regular expressions on the NFC text.
    for k, entry in enumerate(entries):
        compiled = [re.compile(unicodedata.normalize("NFC", p), re.IGNORECASE) for p in entry.patterns]
        if not compiled:
            continue
        if len(compiled) == 1:  # the usual case: one search per text, no per-text lists
            rx = compiled[0]
            for pos, t in enumerate(nfc):
                if t and (m := rx.search(t)) is not None:
                    hits.append((pos, k, _SOURCE_PRIORITY["pattern"], m.group(0)))
            continue
        for pos, t in enumerate(nfc):
            if not t:
                continue
            found = [m for m in (rx.search(t) for rx in compiled) if m is not None]
            if found:
                m = min(found, key=lambda m: (m.start(), -(m.end() - m.start())))
                hits.append((pos, k, _SOURCE_PRIORITY["pattern"], m.group(0)))

    cols = [id, *CODED_COLUMNS]
    if not hits:
        return pd.DataFrame({c: pd.Series(dtype=texts[id].dtype if c == id else "object") for c in cols})
    h = pd.DataFrame(hits, columns=["pos", "k", "priority", "match"])
    id_values = texts[id].reset_index(drop=True)
    h["id"] = id_values.iloc[h["pos"].to_numpy()].to_numpy()
    # One row per (id, attribute): best priority first; the id's first row fixes its order.
    first_pos = h.groupby("id", sort=False, dropna=False)["pos"].transform("min")
    h = (h.assign(first=first_pos)
          .sort_values(["priority", "pos"], kind="stable")
          .drop_duplicates(["id", "k"], keep="first")
          .sort_values(["first", "k"], kind="stable"))
    ks = h["k"].to_numpy()
    out = pd.DataFrame({
        id: h["id"].to_numpy(),
        "attribute": [entries[k].id for k in ks],
        "label": [entries[k].label for k in ks],
        "dimension": [entries[k].dimension for k in ks],
        "theme": [entries[k].theme or entries[k].label for k in ks],
        "source": h["priority"].map({p: s for s, p in _SOURCE_PRIORITY.items()}).to_numpy(dtype=object),
        "match": h["match"].to_numpy(dtype=object),
    })
    if out[id].dtype != texts[id].dtype:
        with contextlib.suppress(TypeError, ValueError):
            out[id] = out[id].astype(texts[id].dtype)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- affinity and gap
def _mention_counts(coded: pd.DataFrame, interviews: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, int, int]:
    """Per codebook attribute: interviews mentioning it in total, customer side, company side."""
    check_frame(coded, "coded table")
    check_frame(interviews, "interviews")
    _require(coded, ["interview_id", "attribute"], "coded table", "code_verbatims()")
    _require(interviews, ["interview_id", "source_group"], "interviews", "prepare_interviews()")
    groups = interviews["source_group"].astype(str)
    bad = sorted(set(groups) - set(SOURCE_GROUPS))
    if bad:
        raise DataError(f"interviews: unknown source group {', '.join(map(repr, bad))}; allowed: "
                        f"{', '.join(SOURCE_GROUPS)} — pass the table prepare_interviews() returns")
    ids = interviews["interview_id"].astype(str)
    coded_ids = coded["interview_id"].astype(str)
    stray = sorted(set(coded_ids) - set(ids))
    if stray:
        shown = ", ".join(map(repr, stray[:5])) + (f" (+{len(stray) - 5} more)" if len(stray) > 5 else "")
        raise DataError(f"coded table: interview id {shown} is not in the interviews table — code the same "
                        "interviews you pass here")
    known = [e.id for e in codebook.attributes]
    unknown = sorted(set(coded["attribute"].astype(str)) - set(known))
    if unknown:
        raise DataError(f"coded table: attribute {', '.join(map(repr, unknown))} is not in the codebook — "
                        "code with the same codebook you pass here")
    side = dict(zip(ids, np.where(groups.isin(CUSTOMER_GROUPS), "customer", "company"), strict=True))
    pairs = pd.DataFrame({"interview_id": coded_ids, "attribute": coded["attribute"].astype(str)}).drop_duplicates()
    pairs["side"] = pairs["interview_id"].map(side)
    counts = pd.DataFrame({
        "mentions": pairs.groupby("attribute").size(),
        "customer_mentions": pairs[pairs["side"] == "customer"].groupby("attribute").size(),
        "company_mentions": pairs[pairs["side"] == "company"].groupby("attribute").size(),
    }).reindex(known).fillna(0).astype("int64")
    n_customer = int(groups.isin(CUSTOMER_GROUPS).sum())
    n_company = int(groups.isin(COMPANY_GROUPS).sum())
    return counts, n_customer, n_company


def affinity_table(coded: pd.DataFrame, interviews: pd.DataFrame, *, codebook: Codebook) -> pd.DataFrame:
    """The affinity diagram as a table: attributes grouped under dimensions and themes.

    An affinity diagram (the KJ method: Kawakita, J. (1967). *Hassōhō* [Abduction]. Chūōkōron)
    groups what interviewees said under a few headings; here the headings are the dimensions of
    the customer's "invisible scorecard" (product, process, people) and the codebook themes, and
    each attribute carries the number of interviews that raised it.

    Parameters
    ----------
    coded : pandas.DataFrame
        From :func:`code_verbatims` on the interviews (columns ``interview_id``, ``attribute``).
    interviews : pandas.DataFrame
        From :func:`prepare_interviews` (columns ``interview_id``, ``source_group``).
    codebook : Codebook
        The codebook used for coding.

    Returns
    -------
    pandas.DataFrame
        One row per codebook attribute (never-mentioned ones with 0), columns ``dimension``,
        ``theme``, ``attribute``, ``label``, ``mentions`` (interviews mentioning it),
        ``customer_mentions`` (customer, lost-customer and competitor-customer interviews),
        ``company_mentions`` (executive and employee interviews) and ``share`` (mentions as a
        proportion of all interviews; NaN when there are none). Sorted by dimension (product,
        process, people), then mentions (most first), then codebook order.

    Examples
    --------
    >>> from csm_helpers.study.config import Codebook
    >>> cb = Codebook.model_validate({"attributes": [
    ...     {"id": "fees", "label": "Fees", "dimension": "product", "keywords": ["fee"]},
    ...     {"id": "queue", "label": "Queues", "dimension": "process", "keywords": ["queue"]},
    ...     {"id": "app", "label": "Mobile app", "dimension": "product", "keywords": ["app"]}]})
    >>> iv = pd.DataFrame({"interview_id": ["1", "2", "3"],
    ...                    "source_group": ["customer", "customer", "executive"],
    ...                    "text": ["fee and queue", "the app, the fee", "our app"]})
    >>> coded = code_verbatims(iv, codebook=cb, codes=None)
    >>> affinity_table(coded, iv, codebook=cb)[["dimension", "attribute", "mentions", "customer_mentions", "share"]]
      dimension attribute  mentions  customer_mentions     share
    0   product      fees         2                  2  0.666667
    1   product       app         2                  1  0.666667
    2   process     queue         1                  1  0.333333
    """
    counts, n_customer, n_company = _mention_counts(coded, interviews, codebook)
    n = len(interviews)
    table = pd.DataFrame({
        "dimension": [e.dimension for e in codebook.attributes],
        "theme": [e.theme or e.label for e in codebook.attributes],
        "attribute": [e.id for e in codebook.attributes],
        "label": [e.label for e in codebook.attributes],
    })
    table = table.join(counts, on="attribute")
    table["share"] = table["mentions"] / n if n else math.nan
    table["_dim"] = table["dimension"].map({d: i for i, d in enumerate(DIMENSIONS)})
    table["_cb"] = np.arange(len(table))
    table = table.sort_values(["_dim", "mentions", "_cb"], ascending=[True, False, True], kind="stable")
    return table.drop(columns=["_dim", "_cb"]).reset_index(drop=True).astype({"share": float})


def perception_gap(coded: pd.DataFrame, interviews: pd.DataFrame, *, codebook: Codebook,
                   threshold: float = 0.2) -> pd.DataFrame:
    """Perception gap: how often customers vs the company mention each attribute.

    For each attribute, the share of customer-side interviews (customer, lost customer,
    competitor's customer) and of company-side interviews (executive, employee) that mention
    it; ``gap = share_customer - share_company``. The 2x2 table (side x mentioned or not) is
    tested with Fisher's exact test, two-sided (``scipy.stats.fisher_exact``; Fisher, R. A.
    (1922). On the interpretation of chi-square from contingency tables. JRSS 85(1), 87-94):
    with a handful of interviews per side, a large gap can still be chance.

    Parameters
    ----------
    coded, interviews, codebook
        As for :func:`affinity_table`.
    threshold : float
        Gap (a difference of proportions, in (0, 1]) from which an attribute is flagged.

    Returns
    -------
    pandas.DataFrame
        One row per codebook attribute, sorted by gap (largest first; ties and unmeasurable
        rows in codebook order), columns ``attribute``, ``label``, ``dimension``,
        ``n_customer``, ``n_company`` (interviews on each side), ``mentions_customer``,
        ``mentions_company``, ``share_customer``, ``share_company``, ``gap``, ``p_value`` and
        ``flag``: ``"company under-rates"`` (gap >= threshold: customers raise it more than the
        company does), ``"company over-rates"`` (gap <= -threshold) or ``"aligned"``. When a
        side has no interview, its share, the gap and the p-value are NaN and the flag is
        ``"not measurable"``.

    Raises
    ------
    CsmError
        When ``threshold`` is not in (0, 1].

    Examples
    --------
    >>> from csm_helpers.study.config import Codebook
    >>> cb = Codebook.model_validate({"attributes": [
    ...     {"id": "queue", "label": "Queues", "dimension": "process", "keywords": ["queue"]},
    ...     {"id": "price", "label": "Price", "dimension": "product", "keywords": ["price"]}]})
    >>> iv = pd.DataFrame({"interview_id": list("abcd"),
    ...                    "source_group": ["customer", "customer", "executive", "employee"],
    ...                    "text": ["queue", "queue and price", "price", "price"]})
    >>> gap = perception_gap(code_verbatims(iv, codebook=cb, codes=None), iv, codebook=cb)
    >>> gap[["attribute", "share_customer", "share_company", "gap", "flag"]]
      attribute  share_customer  share_company  gap                 flag
    0     queue             1.0            0.0  1.0  company under-rates
    1     price             0.5            1.0 -0.5   company over-rates
    """
    if not (isinstance(threshold, int | float) and 0 < threshold <= 1):
        raise CsmError(f"The value for `threshold` must be a proportion in (0, 1] (0.2 = 20 points), "
                       f"but {threshold!r} was passed")
    counts, n_customer, n_company = _mention_counts(coded, interviews, codebook)
    rows = []
    for e in codebook.attributes:
        a = int(counts.at[e.id, "customer_mentions"])
        b = int(counts.at[e.id, "company_mentions"])
        sc = a / n_customer if n_customer else math.nan
        sk = b / n_company if n_company else math.nan
        if n_customer and n_company:
            gap = sc - sk
            p = float(stats.fisher_exact([[a, n_customer - a], [b, n_company - b]],
                                         alternative="two-sided").pvalue)
            eps = 1e-12  # differences of proportions like 0.6 - 0.4 are not exact in binary
            if gap >= threshold - eps:
                flag = _UNDER
            elif gap <= -threshold + eps:
                flag = _OVER
            else:
                flag = _ALIGNED
        else:
            gap = p = math.nan
            flag = _NOT_MEASURABLE
        rows.append({"attribute": e.id, "label": e.label, "dimension": e.dimension,
                     "n_customer": n_customer, "n_company": n_company,
                     "mentions_customer": a, "mentions_company": b,
                     "share_customer": sc, "share_company": sk, "gap": gap, "p_value": p, "flag": flag})
    out = pd.DataFrame(rows)
    out = out.sort_values("gap", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    return out.astype({c: float for c in ("share_customer", "share_company", "gap", "p_value")})


# --------------------------------------------------------------------------- saturation
def saturation_curve(coded: pd.DataFrame, interviews: pd.DataFrame, *, k: int = 3,
                     groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Cumulative distinct attributes by interview order (the saturation curve).

    Parameters
    ----------
    coded : pandas.DataFrame
        From :func:`code_verbatims` (columns ``interview_id``, ``attribute``).
    interviews : pandas.DataFrame
        From :func:`prepare_interviews`; taken in the order of its ``order`` column (else in
        row order).
    k : int
        Size of the final window that :func:`saturation_verdict` looks at.
    groups : sequence of str, optional
        Only interviews of these source groups (e.g. ``config.CUSTOMER_GROUPS``); default all.

    Returns
    -------
    pandas.DataFrame
        One row per interview in order: ``position`` (1..n), ``interview_id``,
        ``source_group``, ``new_attributes`` (how many attributes this interview raised for the
        first time), ``new_list`` (their ids, comma-separated, ``''`` when none),
        ``cumulative`` (distinct attributes so far) and ``in_last_k`` (True for the last k).

    Examples
    --------
    >>> iv = pd.DataFrame({"interview_id": ["1", "2", "3", "4"], "source_group": ["customer"] * 4})
    >>> coded = pd.DataFrame({"interview_id": ["1", "1", "2", "3", "4"],
    ...                       "attribute": ["fees", "queue", "fees", "app", "queue"]})
    >>> saturation_curve(coded, iv, k=2)[["position", "new_attributes", "new_list", "cumulative"]]
       position  new_attributes     new_list  cumulative
    0         1               2  fees, queue           2
    1         2               0                        2
    2         3               1          app           3
    3         4               0                        3
    """
    k = _check_k(k)
    check_frame(coded, "coded table")
    check_frame(interviews, "interviews")
    _require(coded, ["interview_id", "attribute"], "coded table", "code_verbatims()")
    _require(interviews, ["interview_id", "source_group"], "interviews", "prepare_interviews()")
    iv = interviews
    if "order" in iv.columns:
        iv = iv.sort_values("order", kind="stable")
    if groups is not None:
        unknown = sorted(set(groups) - set(SOURCE_GROUPS))
        if unknown:
            raise CsmError(f"The value for `groups` must hold source groups ({', '.join(SOURCE_GROUPS)}), "
                           f"but {', '.join(map(repr, unknown))} was passed")
        iv = iv[iv["source_group"].isin(list(groups))]
    by_id: dict[str, list[str]] = {}
    for i, a in zip(coded["interview_id"].astype(str), coded["attribute"].astype(str), strict=True):
        attrs = by_id.setdefault(i, [])
        if a not in attrs:
            attrs.append(a)
    seen: set[str] = set()
    rows = []
    n = len(iv)
    for position, (ident, group) in enumerate(zip(iv["interview_id"], iv["source_group"], strict=True), start=1):
        new = [a for a in by_id.get(str(ident), []) if a not in seen]
        seen.update(new)
        rows.append({"position": position, "interview_id": ident, "source_group": group,
                     "new_attributes": len(new), "new_list": ", ".join(new), "cumulative": len(seen),
                     "in_last_k": position > n - k})
    cols = ["position", "interview_id", "source_group", "new_attributes", "new_list", "cumulative", "in_last_k"]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"position": "int64", "new_attributes": "int64", "cumulative": "int64", "in_last_k": bool})


def saturation_verdict(curve: pd.DataFrame, *, k: int = 3) -> dict[str, Any]:
    """Has discovery reached saturation? (SPEC §1.2)

    Discovery is saturated when the last ``k`` interviews added no new attribute. With fewer
    than ``k`` interviews, or when no attribute was coded at all, it is not (and the message
    says why).

    Parameters
    ----------
    curve : pandas.DataFrame
        From :func:`saturation_curve`.
    k : int
        Number of final interviews that must add nothing new.

    Returns
    -------
    dict
        ``saturated`` (bool), ``k``, ``last_new_at`` (position of the last interview that added
        an attribute; None when none did), ``n_interviews``, ``n_attributes`` (distinct
        attributes found) and ``message`` (one sentence for the report).

    Examples
    --------
    >>> curve = pd.DataFrame({"position": [1, 2, 3, 4, 5], "new_attributes": [3, 1, 0, 0, 0],
    ...                       "new_list": ["a, b, c", "d", "", "", ""], "cumulative": [3, 4, 4, 4, 4]})
    >>> v = saturation_verdict(curve, k=3)
    >>> v["saturated"], v["last_new_at"]
    (True, 2)
    >>> v["message"]
    'Saturated: the last 3 interviews (3-5) added no new attribute; the last new one came at interview 2 of 5 (4 attributes in all).'
    """
    k = _check_k(k)
    check_frame(curve, "saturation curve")
    _require(curve, ["position", "new_attributes", "cumulative"], "saturation curve", "saturation_curve()")
    n = len(curve)
    new = curve["new_attributes"].to_numpy()
    positions = curve["position"].to_numpy()
    n_attr = int(curve["cumulative"].iloc[-1]) if n else 0
    added = np.flatnonzero(new > 0)
    last_new = int(positions[added[-1]]) if len(added) else None
    if n < k:
        saturated = False
        message = _("Not saturated: only {n} interviews, fewer than the {k} needed to judge saturation; continue "
                    "interviewing." if n != 1 else
                    "Not saturated: only {n} interview, fewer than the {k} needed to judge saturation; continue "
                    "interviewing.", n=n, k=k)
    elif n_attr == 0:
        saturated = False
        message = _("Not saturated: no attribute was coded in {n} interviews — check the codebook keywords "
                    "against the interview language.", n=n)
    elif new[-k:].sum() == 0:
        saturated = True
        window = f"{positions[-k]}-{positions[-1]}" if k > 1 else f"{positions[-1]}"
        message = _("Saturated: the last {k} interviews ({window}) added no new attribute; the last new one came "
                    "at interview {last} of {n} ({n_attr} attributes in all)." if k > 1 else
                    "Saturated: the last {k} interview ({window}) added no new attribute; the last new one came "
                    "at interview {last} of {n} ({n_attr} attributes in all).",
                    k=k, window=window, last=last_new, n=n, n_attr=n_attr)
    else:
        saturated = False
        row = curve.iloc[added[-1]]
        n_new = int(row["new_attributes"])
        values = {"last": last_new, "n": n, "new": n_new, "k": k}
        if "new_list" in curve.columns and row["new_list"]:
            message = _("Not saturated: interview {last} of {n} still added {new} new attributes ({listed}); "
                        "continue until {k} interviews in a row add nothing new." if n_new != 1 else
                        "Not saturated: interview {last} of {n} still added {new} new attribute ({listed}); "
                        "continue until {k} interviews in a row add nothing new.", listed=row["new_list"], **values)
        else:
            message = _("Not saturated: interview {last} of {n} still added {new} new attributes; continue until "
                        "{k} interviews in a row add nothing new." if n_new != 1 else
                        "Not saturated: interview {last} of {n} still added {new} new attribute; continue until "
                        "{k} interviews in a row add nothing new.", **values)
    return {"saturated": saturated, "k": k, "last_new_at": last_new, "n_interviews": n,
            "n_attributes": n_attr, "message": message}


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise CsmError(f"The value for `k` must be a whole number >= 1 (discovery.saturation_k in study.yaml), "
                       f"but {k!r} was passed")
    return int(k)


# --------------------------------------------------------------------------- questionnaire
_ITEM_TYPES = (
    # item_type, prefix, question, anchor_low, anchor_high (in the report language at use)
    ("performance", "perf", N_("How would you rate {label}?"), N_("Very poor"), N_("Excellent")),
    ("importance", "imp", N_("How important is {label} to you?"), N_("Not at all important"),
     N_("Extremely important")),
    ("expectation", "exp", N_("What level of {label} do you expect?"), N_("Very low"), N_("Very high")),
)
#: The item types, as shown in the questionnaire table.
_ITEM_TYPE_WORDS = (N_("performance"), N_("importance"), N_("expectation"))


def draft_questionnaire(affinity: pd.DataFrame, *, scale: tuple[int, int] = (1, 5),
                        customer_only: bool = True) -> pd.DataFrame:
    """Draft survey items for the customer-defined attributes (SPEC §1.2).

    Each attribute gets a performance, an importance and an expectation item, so that stage 04
    can run all four measurement methods (direct rating, expectation-perception gap,
    importance-performance analysis, derived importance).

    Parameters
    ----------
    affinity : pandas.DataFrame
        From :func:`affinity_table`.
    scale : (int, int)
        Lowest and highest answer of the rating scale (``discovery.questionnaire_scale``).
    customer_only : bool
        True (default): only attributes that at least one customer-side interview mentioned
        (only customers define what is measured); False: every attribute mentioned by anyone.

    Returns
    -------
    pandas.DataFrame
        Three blocks (all performance items, then importance, then expectation), each in the
        affinity table's order; columns ``attribute``, ``dimension``, ``label``,
        ``item_type`` (``performance``, ``importance``, ``expectation``), ``item_name``
        (``perf_<id>``, ``imp_<id>``, ``exp_<id>``), ``question`` (in the report language, see
        :mod:`csm_helpers.core.i18n`; English by default), ``scale_min``, ``scale_max``, ``anchor_low``,
        ``anchor_high`` (also in the report language).

    Raises
    ------
    CsmError
        When ``scale`` is not two whole numbers, lowest first.

    Examples
    --------
    >>> aff = pd.DataFrame({"dimension": ["people", "product"], "theme": ["Staff", "Price"],
    ...                     "attribute": ["courtesy", "fees"], "label": ["staff courtesy", "fees"],
    ...                     "mentions": [3, 2], "customer_mentions": [2, 0], "company_mentions": [1, 2],
    ...                     "share": [0.6, 0.4]})
    >>> draft_questionnaire(aff)[["item_name", "question"]]
           item_name                                     question
    0  perf_courtesy           How would you rate staff courtesy?
    1   imp_courtesy      How important is staff courtesy to you?
    2   exp_courtesy  What level of staff courtesy do you expect?
    """
    check_frame(affinity, "affinity table")
    _require(affinity, ["attribute", "dimension", "label", "mentions", "customer_mentions"],
             "affinity table", "affinity_table()")
    if (not isinstance(scale, tuple | list) or len(scale) != 2
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in scale)
            or not scale[0] < scale[1]):
        raise CsmError(f"The value for `scale` must be two whole numbers, lowest first (e.g. (1, 5)), "
                       f"but {scale!r} was passed — fix discovery.questionnaire_scale in study.yaml")
    lo, hi = int(scale[0]), int(scale[1])
    counts = affinity["customer_mentions"] if customer_only else affinity["mentions"]
    chosen = affinity[counts.to_numpy() > 0]
    rows = []
    for item_type, prefix, question, low, high in _ITEM_TYPES:
        for attr, dim, label in zip(chosen["attribute"], chosen["dimension"], chosen["label"], strict=True):
            rows.append({"attribute": attr, "dimension": dim, "label": label, "item_type": item_type,
                         "item_name": f"{prefix}_{attr}", "question": tr(question, label=label),
                         "scale_min": lo, "scale_max": hi, "anchor_low": tr(low), "anchor_high": tr(high)})
    cols = ["attribute", "dimension", "label", "item_type", "item_name", "question",
            "scale_min", "scale_max", "anchor_low", "anchor_high"]
    return pd.DataFrame(rows, columns=cols).astype({"scale_min": "int64", "scale_max": "int64"})


def write_questionnaire_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the draft questionnaire as CSV for the survey tool.

    UTF-8 with BOM, written atomically, with every cell that a spreadsheet would run as a
    formula neutralised (:func:`csm_helpers.core.safety.to_safe_csv`), since labels come from the
    codebook and may hold customer wording.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> q = pd.DataFrame({"item_name": ["perf_x"], "question": ["=HYPERLINK(1)"]})
    >>> p = write_questionnaire_csv(q, pathlib.Path(tempfile.mkdtemp()) / "q.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()[1]
    "perf_x,'=HYPERLINK(1)"
    """
    check_frame(df, "questionnaire")
    return to_safe_csv(df, path)


# --------------------------------------------------------------------------- internals

def _require(data: pd.DataFrame, columns: list[str], what: str, maker: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        found = ", ".join(map(str, data.columns)) or "no columns"
        raise DataError(f"{what}: column {', '.join(repr(m) for m in missing)} is missing (found: {found}) — "
                        f"pass the table {maker} returns")


# --------------------------------------------------------------------------- report helpers
def require_inputs(interviews: pd.DataFrame | None, codebook: Codebook | None, *,
                   study: Any) -> tuple[pd.DataFrame, Codebook]:
    """Return ``(interviews, codebook)``, or raise a clear error when the study lacks either.

    Raises
    ------
    ConfigError
        When ``study.yaml`` names no interviews or no codebook (the message names the key).
    """
    from csm_helpers.core.errors import ConfigError

    missing = [key for key, val in (("interviews", interviews), ("codebook", codebook)) if val is None]
    if missing:
        keys = " and ".join(f"'{m}'" for m in missing)
        raise ConfigError(
            f"{study.path}: stage 02 discovery needs {keys} — add "
            + ", ".join(f"'{m}: <file>'" for m in missing) + " to study.yaml, or skip the stage "
            "with csm run --stages"
        )
    return interviews, codebook  # type: ignore[return-value]


def interview_summary(interviews: pd.DataFrame) -> pd.DataFrame:
    """Interviews per source group: columns ``source_group, side, interviews, share``.

    Every group of :data:`config.SOURCE_GROUPS` is listed (0 when absent), customer side first.

    Examples
    --------
    >>> df = pd.DataFrame({"interview_id": ["a", "b", "c"],
    ...                    "source_group": ["customer", "customer", "executive"]})
    >>> interview_summary(df)[["source_group", "interviews"]].head(2).values.tolist()
    [['customer', 2], ['lost_customer', 0]]
    """
    check_frame(interviews, "interviews")
    counts = interviews["source_group"].value_counts()
    order = list(CUSTOMER_GROUPS) + list(COMPANY_GROUPS)
    total = len(interviews)
    rows = [{"source_group": g, "side": N_("customer") if g in CUSTOMER_GROUPS else N_("company"),
             "interviews": int(counts.get(g, 0)),
             "share": counts.get(g, 0) / total if total else math.nan} for g in order]
    return pd.DataFrame(rows, columns=["source_group", "side", "interviews", "share"])


def coding_summary(coded: pd.DataFrame) -> pd.DataFrame:
    """How each attribute was found: columns ``attribute, label, keyword, pattern, manual, total``
    (counts of coded texts), most mentioned first.

    Examples
    --------
    >>> coded = pd.DataFrame({"interview_id": [1, 2, 2], "attribute": ["a", "a", "b"],
    ...                       "label": ["A", "A", "B"], "source": ["keyword", "manual", "pattern"]})
    >>> coding_summary(coded)[["attribute", "keyword", "manual", "total"]].values.tolist()
    [['a', 1, 1, 2], ['b', 0, 0, 1]]
    """
    check_frame(coded, "coded mentions")
    table = (pd.crosstab([coded["attribute"], coded["label"]], coded["source"])
             .reindex(columns=["keyword", "pattern", "manual"], fill_value=0))
    table["total"] = table.sum(axis=1)
    out = table.reset_index().sort_values(["total", "attribute"], ascending=[False, True], kind="stable")
    out.columns.name = None
    return out.reset_index(drop=True)


def gap_findings(gap: pd.DataFrame) -> list[str]:
    """Sentences for the attributes :func:`perception_gap` flags (empty when all are aligned).

    Examples
    --------
    >>> gap = pd.DataFrame({"label": ["Waiting time", "Rates"], "share_customer": [0.7, 0.1],
    ...                     "share_company": [0.2, 0.6], "flag": ["company under-rates", "company over-rates"]})
    >>> gap_findings(gap)[0]
    'The company under-rates Waiting time: 70% of customer-side interviews mention it, 20% of company-side ones.'
    """
    check_frame(gap, "perception gap")
    out = []
    for row in gap.itertuples(index=False):
        values = {"label": row.label, "customer": f"{row.share_customer:.0%}", "company": f"{row.share_company:.0%}"}
        if row.flag == _UNDER:
            out.append(_("The company under-rates {label}: {customer} of customer-side interviews mention it, "
                         "{company} of company-side ones.", **values))
        elif row.flag == _OVER:
            out.append(_("The company over-rates {label}: {customer} of customer-side interviews mention it, "
                         "{company} of company-side ones.", **values))
    return out


def example_verbatims(coded: pd.DataFrame, interviews: pd.DataFrame, *, per_attribute: int = 2,
                      max_chars: int = 280, customer_only: bool = True) -> pd.DataFrame:
    """A few verbatims per attribute, to show what the codes stand for.

    Quotes are returned as plain text (the display step escapes them) and without the
    interview id, so a reader cannot link a quote back to a person. Long texts are cut around
    the matched words.

    Parameters
    ----------
    coded : pandas.DataFrame
        From :func:`code_verbatims` on ``interviews``.
    interviews : pandas.DataFrame
        From :func:`prepare_interviews`.
    per_attribute : int
        Quotes per attribute (the first interviews in discovery order).
    max_chars : int
        Longest quote shown; longer texts are cut around the match with "…".
    customer_only : bool
        Only customer-side interviews (the customer's words define the attributes).

    Returns
    -------
    pandas.DataFrame
        Columns ``attribute, label, source_group, quote``, most-mentioned attribute first.

    Examples
    --------
    >>> interviews = pd.DataFrame({"interview_id": ["a", "b"], "source_group": ["customer", "executive"],
    ...                            "text": ["The queue was long.", "Queues are fine."], "order": [1, 2]})
    >>> coded = pd.DataFrame({"interview_id": ["a", "b"], "attribute": ["wait", "wait"],
    ...                       "label": ["Waiting", "Waiting"], "match": ["queue", "Queues"]})
    >>> example_verbatims(coded, interviews)[["attribute", "quote"]].values.tolist()
    [['wait', 'The queue was long.']]
    """
    check_frame(coded, "coded mentions")
    check_frame(interviews, "interviews")
    merged = coded.merge(interviews[["interview_id", "source_group", "text", "order"]],
                         on="interview_id", how="inner")
    if customer_only:
        merged = merged[merged["source_group"].isin(CUSTOMER_GROUPS)]
    rank = merged["attribute"].value_counts()
    merged = merged.assign(_rank=merged["attribute"].map(rank)).sort_values(
        ["_rank", "attribute", "order"], ascending=[False, True, True], kind="stable")
    rows = []
    for (attribute, label), group in merged.groupby(["attribute", "label"], sort=False):
        for row in group.head(per_attribute).itertuples(index=False):
            rows.append({"attribute": attribute, "label": label, "source_group": row.source_group,
                         "quote": excerpt(str(row.text), row.match, max_chars)})
    return pd.DataFrame(rows, columns=["attribute", "label", "source_group", "quote"])


def excerpt(text: str, match: Any, max_chars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    pos = text.find(str(match)) if isinstance(match, str) and match else -1
    start = max(0, min(pos - max_chars // 3, len(text) - max_chars)) if pos >= 0 else 0
    cut = text[start:start + max_chars - 2].strip()
    return ("…" if start > 0 else "") + cut + ("…" if start + max_chars - 2 < len(text) else "")
