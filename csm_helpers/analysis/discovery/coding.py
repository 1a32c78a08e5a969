"""Coding verbatims with the codebook's keywords (accent- and case-folded, whole words, CJK without spaces) and the coding summary and examples."""

from __future__ import annotations

import contextlib
import functools
import re
import time
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import regex

from csm_helpers.analysis.discovery.common import is_missing
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import DataError
from csm_helpers.study.config import (
    CUSTOMER_GROUPS,
    Codebook,
)

__all__ = ["CODED_COLUMNS", "code_verbatims", "coding_summary", "example_verbatims", "excerpt"]


#: Columns of :func:`code_verbatims` after the id column (which keeps its own name).
CODED_COLUMNS = ["attribute", "label", "dimension", "theme", "source", "match"]


_SOURCE_PRIORITY = {"manual": 0, "keyword": 1, "pattern": 2}


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


# --------------------------------------------------------------------------- coding
def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _spaced_word(char: str) -> bool:
    return _SPACED_WORD.fullmatch(char) is not None


class _KeywordMatcher:
    """A folded keyword's search: its words (inner whitespace matches any run of whitespace),
    with a word boundary only where the keyword's own end is a letter or digit of a spaced
    script (the neighbouring character must not be one, nor a combining mark).

    The boundaries are checked on the one character either side of a match, not with
    lookarounds in the pattern: a lookaround over these script ranges costs ``re`` 6 ms to
    compile per keyword (1.2 s for the sample codebook's 200 keywords, paid by ``csm validate``
    and again by every stage that codes text), the check on one character nothing. The
    result is the same: the words of a keyword are literals, so a match's start fixes its end.
    """

    __slots__ = ("_body", "_before", "_after")

    def __init__(self, keyword: str) -> None:
        self._body = re.compile(r"\s+".join(re.escape(tok) for tok in keyword.split(" ")))
        self._before = _spaced_word(keyword[0])
        self._after = _spaced_word(keyword[-1])

    def search(self, text: str) -> re.Match[str] | None:
        """The leftmost match in ``text`` whose ends are word boundaries, or None."""
        pos = 0
        while (m := self._body.search(text, pos)) is not None:
            start, end = m.span()
            if not (self._before and start > 0 and _spaced_word(text[start - 1])) and \
                    not (self._after and end < len(text) and _spaced_word(text[end])):
                return m
            pos = start + 1
        return None


@functools.lru_cache(maxsize=4096)
def _keyword_regex(keyword: str) -> _KeywordMatcher | None:
    """The search of a folded keyword (:class:`_KeywordMatcher`); None for an empty one."""
    kw = " ".join(keyword.split())
    return _KeywordMatcher(kw) if kw else None


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


#: Longest one search of a codebook pattern may take on one text, and all its searches together
#: (seconds). A sound pattern needs microseconds per text; one that takes this long repeats an
#: ambiguous repetition and could run for minutes or hours (catastrophic backtracking).
PATTERN_TIMEOUT_S = 1.0
PATTERN_BUDGET_S = 10.0


class _BoundedPattern:
    """A codebook pattern compiled with the ``regex`` engine, searched with a time limit.

    Python's ``re`` cannot be stopped once a search backtracks catastrophically (``(a|aa)+$``
    on a long run of a's takes longer than the age of the universe). ``regex`` avoids the
    backtracking of many such patterns outright (``^(\\w+\\s?)+$`` is instant) and takes a
    ``timeout`` for the rest: a search past :data:`PATTERN_TIMEOUT_S`, or a pattern past
    :data:`PATTERN_BUDGET_S` over all texts, stops with a message that names the pattern.
    """

    def __init__(self, pattern: str, attribute: str) -> None:
        self.pattern, self.attribute, self.spent = pattern, attribute, 0.0
        self.rx = regex.compile(unicodedata.normalize("NFC", pattern), regex.IGNORECASE | regex.V0)

    def search(self, text: str, *, row: Any) -> Any:
        limit = min(PATTERN_TIMEOUT_S, PATTERN_BUDGET_S - self.spent)
        start = time.perf_counter()
        try:
            return self.rx.search(text, timeout=max(limit, 1e-3))
        except TimeoutError:
            what = (f"took more than {PATTERN_TIMEOUT_S:g} s on the text of row {row}" if limit == PATTERN_TIMEOUT_S
                    else f"took more than {PATTERN_BUDGET_S:g} s over the texts (stopped at row {row})")
            raise DataError(
                f"codebook: the pattern {self.pattern!r} of attribute {self.attribute!r} {what} — it can try "
                "exponentially many ways to match (a repetition of alternatives that overlap, such as (a|aa)+, "
                "or of a repetition, such as (\\w+\\s?)+): write it more simply, or use keywords") from None
        finally:
            self.spent += time.perf_counter() - start


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
    nfc = ["" if is_missing(t) else unicodedata.normalize("NFC", str(t)) for t in raw]
    folded = [t.casefold() for t in nfc]
    # hits: (row position, attribute index, priority, match)
    hits: list[tuple[int, int, int, Any]] = []

    # Manual codes.
    if codes is not None and codes in texts.columns:
        by_fold = {e.id.casefold(): i for i, e in enumerate(entries)}
        rownums = texts["row"].tolist() if "row" in texts.columns else list(range(2, n + 2))
        problems = []
        for pos, (cell, ident) in enumerate(zip(texts[codes].tolist(), texts[id].tolist(), strict=True)):
            if is_missing(cell):
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

    # Patterns: case-insensitive regular expressions on the NFC text, each search time-limited.
    rows = texts["row"].tolist() if "row" in texts.columns else list(range(2, n + 2))
    for k, entry in enumerate(entries):
        searches = [_BoundedPattern(p, entry.id) for p in entry.patterns]
        for pos, t in enumerate(nfc):
            if not t:
                continue
            found = [m for m in (s.search(t, row=rows[pos]) for s in searches) if m is not None]
            if found:
                m = min(found, key=lambda m: (m.start(), -(m.end() - m.start())))
                hits.append((pos, k, _SOURCE_PRIORITY["pattern"], m.group(0)))

    cols = [id, *CODED_COLUMNS]
    if not hits:
        return pd.DataFrame({c: pd.Series(dtype=texts[id].dtype if c == id else "object") for c in cols})
    # One row per (id, attribute): best priority first; the id's first row fixes its order
    # (numpy: groupby, sort_values and drop_duplicates cost more than the coding on a segment).
    pos = np.array([x[0] for x in hits], dtype=np.int64)
    ks = np.array([x[1] for x in hits], dtype=np.int64)
    priority = np.array([x[2] for x in hits], dtype=np.int64)
    hit_ids = texts[id].reset_index(drop=True).iloc[pos].to_numpy()
    codes, _ = pd.factorize(hit_ids, use_na_sentinel=False)
    first = np.full(codes.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, pos)
    order = np.lexsort((pos, priority))  # stable: by priority, then position
    _, firsts = np.unique((codes * len(entries) + ks)[order], return_index=True)
    keep = order[np.sort(firsts)]  # the first of each (id, attribute) in that order
    keep = keep[np.lexsort((ks[keep], first[codes[keep]]))]
    ks = ks[keep]
    source = {p: s for s, p in _SOURCE_PRIORITY.items()}
    out = pd.DataFrame({
        id: hit_ids[keep],
        "attribute": [entries[k].id for k in ks],
        "label": [entries[k].label for k in ks],
        "dimension": [entries[k].dimension for k in ks],
        "theme": [entries[k].theme or entries[k].label for k in ks],
        "source": np.array([source[p] for p in priority[keep]], dtype=object),
        "match": np.array([hits[i][3] for i in keep], dtype=object),
    })
    if out[id].dtype != texts[id].dtype:
        with contextlib.suppress(TypeError, ValueError):
            out[id] = out[id].astype(texts[id].dtype)
    return out.reset_index(drop=True)


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
