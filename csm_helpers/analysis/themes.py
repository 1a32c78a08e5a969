"""Open-text themes of the survey comments (SPEC §1.4, problem analysis: method 3).

Survey comments are coded with the discovery codebook (:func:`csm_helpers.analysis.discovery.code_verbatims`:
keywords in any language, Chinese and Vietnamese included, and regular expressions):

- :func:`comment_themes`: how often each theme comes up, as a share of the respondents who
  commented and of all respondents, overall or per group;
- :func:`theme_examples`: a few example comments per theme, without respondent ids and with
  personal data (e-mail addresses, phone numbers, account numbers) redacted by :func:`redact`;
  optionally split into comments of satisfied and of dissatisfied respondents.

Comments are untrusted text: they are returned as plain text, never turned into markup; the
display step escapes them (SPEC §4). Nothing is rounded here.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis import stats
from csm_helpers.analysis.discovery import code_verbatims
from csm_helpers.analysis.discovery.coding import excerpt
from csm_helpers.analysis.kpis.common import group_positions
from csm_helpers.analysis.loyalty import number_array
from csm_helpers.core.checks import check_int, require_column
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_
from csm_helpers.study.config import Codebook

__all__ = ["THEME_COLUMNS", "redact", "comment_themes", "theme_examples"]

#: Columns of :func:`comment_themes` after the optional group column.
THEME_COLUMNS = ["attribute", "label", "dimension", "theme", "mentions", "n_commenters", "n_respondents",
                 "share_of_commenters", "share_of_respondents", "suppressed"]

# --------------------------------------------------------------------------- redaction
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Digits count as separate from the text around them unless a Latin letter or digit touches
# them (Chinese and Vietnamese text often has no space before a number).
_B = r"(?<![0-9A-Za-z\u00C0-\u024F\u1E00-\u1EFF+])"
_E = r"(?![0-9A-Za-z\u00C0-\u024F\u1E00-\u1EFF])"
# Phone candidates: +country code; (area) code; digit groups separated by a space, dot or
# dash; or a run of digits (+..., trunk 0..., Chinese mobile 1[3-9]...). _phone decides.
_PHONE = re.compile(
    _B + r"(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,5}"
    r"|\(\d{1,4}\)[\s.-]?\d{2,4}(?:[\s.-]\d{2,4}){1,4}"
    r"|\d{2,4}(?:[\s.-]\d{2,4}){2,5}"
    r"|0\d{8,10}|1[3-9]\d{9})" + _E)
# Long digit runs (account and card numbers): 6+ digits in a row, or groups of 3+ digits
# separated by spaces or dashes with 8+ digits in all.
_NUMBER = re.compile(_B + r"(?:\d{3,}(?:[ -]\d{3,})+|\d{6,})" + _E)


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _phone(m: re.Match[str]) -> str:
    """A phone number when it looks like one: international (+, 9-15 digits), with an area code in
    brackets, national with a trunk 0 (9-11 digits) or a Chinese mobile (1[3-9] + 9 digits);
    other digit groups are left to the account-number rule."""
    text = m.group(0)
    digits = re.sub(r"\D", "", text)
    if text.startswith(("+", "(")) and 9 <= len(digits) <= 15:
        return "[phone]"
    if digits.startswith("0") and 9 <= len(digits) <= 11:
        return "[phone]"
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        return "[phone]"
    return text


def _number(m: re.Match[str]) -> str:
    text = m.group(0)
    return "[number]" if _digits(text) >= 8 or re.fullmatch(r"\d{6,}", text) else text


def redact(text: Any) -> str:
    """Replace personal data in a comment with placeholders; the rest stays as written.

    - e-mail addresses -> ``"[email]"``;
    - phone numbers -> ``"[phone]"``: digit groups separated by spaces, dots or dashes, or a
      run of digits, that start with a ``+`` country code (9-15 digits), an ``(area)`` code or
      a trunk 0 (9-11 digits: ``0901 234 567``, ``028.3822.1234``), and Chinese mobile numbers
      (``138 0013 8000``);
    - other long digit runs such as account or card numbers (6 or more digits in a row, or
      digit groups of 3+ separated by spaces or dashes with 8+ digits) -> ``"[number]"``.

    Dates (``2026-06-30``), amounts (``1,500,000``) and short numbers (``40 minutes``) are
    kept. The text stays plain text: nothing is escaped or turned into markup here.

    Examples
    --------
    >>> redact("Call me on 0901 234 567 or mail lan.nguyen@example.com about account 1903 4567 8901")
    'Call me on [phone] or mail [email] about account [number]'
    >>> redact("Waited 40 minutes on 2026-06-30 <b>again</b>")
    'Waited 40 minutes on 2026-06-30 <b>again</b>'
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    out = _EMAIL.sub("[email]", str(text))
    out = _PHONE.sub(_phone, out)
    return _NUMBER.sub(_number, out)


# --------------------------------------------------------------------------- coding
def _check_inputs(data: Any, text: str, id: str, codebook: Any, fn: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise CsmError(f"{fn}: expected a pandas DataFrame as data, got {type(data).__name__}")
    if not isinstance(codebook, Codebook):
        raise CsmError(f"{fn}: `codebook` must be a Codebook (load_codebook(study)), got {type(codebook).__name__}")
    require_column(data, text, role="comment (text)")
    require_column(data, id, role="respondent id")
    ids = data[id]
    bad = ids.isna().to_numpy(dtype=bool) | ids.duplicated(keep=False).to_numpy(dtype=bool)
    if bad.any():
        pos = np.flatnonzero(bad)
        shown = ", ".join(dict.fromkeys(repr(v) for v in ids.iloc[pos[:5]]))
        raise DataError(f"column {id!r} (respondent id), index {', '.join(str(i) for i in data.index[pos[:5]])}"
                        f"{f' (+{len(pos) - 5} more)' if len(pos) > 5 else ''}: {shown} — every respondent needs "
                        "a unique, non-missing id to code comments; fix the ids")


def _commented(data: pd.DataFrame, text: str) -> np.ndarray:
    s = data[text]
    return ~(s.isna() | s.astype(str).str.strip().eq("")).to_numpy(dtype=bool)


def _mentions(data: pd.DataFrame, *, text: str, id: str, codebook: Codebook,
              has: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """(respondents x attributes) mention matrix, and the coded rows (with the row position)."""
    entries = list(codebook.attributes)
    texts = data.loc[has, [id, text]]
    coded = code_verbatims(texts, codebook=codebook, id=id, text=text, codes=None)
    # ids are unique (checked): look them up among the commenters only, not every respondent
    pos = np.flatnonzero(has)[pd.Index(texts[id]).get_indexer(coded[id])]
    k = pd.Index([e.id for e in entries]).get_indexer(coded["attribute"])
    matrix = np.zeros((len(data), len(entries)), dtype=bool)
    matrix[pos, k] = True
    return matrix, coded.assign(_pos=pos)


def comment_themes(data: pd.DataFrame, *, text: str, id: str, codebook: Codebook, by: str | None = None,
                   weights: str | None = None, min_n: int = 5) -> pd.DataFrame:
    """Theme frequencies of the survey comments (SPEC §1.4 "Open-text themes").

    Each comment is coded with the discovery codebook (keywords and patterns,
    :func:`csm_helpers.analysis.discovery.code_verbatims`); a respondent mentions a theme when their
    comment is coded with it (once, however often the words recur). Per theme:

    - ``mentions``: respondents whose comment mentions it (unweighted count);
    - ``share_of_commenters``: (weighted) share of the respondents with a comment;
    - ``share_of_respondents``: (weighted) share of all respondents, comment or not.

    A group with fewer than ``min_n`` respondents, or fewer than ``min_n`` commenters, is
    suppressed: its rows stay with ``n_respondents`` and ``suppressed=True`` and every other
    statistic, ``n_commenters`` included, is missing (SPEC §4).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    text, id : str
        The comment column and the respondent id column (ids unique and non-missing).
    codebook : Codebook
        The discovery codebook (:func:`csm_helpers.study.config.load_codebook`).
    by : str, optional
        Group column (rows with a missing group are left out).
    weights : str, optional
        Weight column.
    min_n : int
        Minimum cell size.

    Returns
    -------
    pandas.DataFrame
        One row per codebook attribute (per group), the most mentioned first (order of the
        whole data, the same in every group); columns ``[by]`` and :data:`THEME_COLUMNS`:
        ``attribute, label, dimension, theme, mentions, n_commenters, n_respondents,
        share_of_commenters, share_of_respondents, suppressed``.

    Raises
    ------
    CsmError
        When a column is missing or the codebook is not a Codebook.
    DataError
        When respondent ids are missing or repeated.

    Examples
    --------
    >>> from csm_helpers.study.config import Codebook
    >>> cb = Codebook.model_validate({"attributes": [
    ...     {"id": "wait", "label": "Waiting", "dimension": "process", "keywords": ["queue", "xếp hàng", "排队"]},
    ...     {"id": "fees", "label": "Fees", "dimension": "product", "keywords": ["fee", "phí"]}]})
    >>> df = pd.DataFrame({"rid": range(6), "comment": ["Long queue", "Phải xếp hàng lâu", "排队太久",
    ...                                                 "High fee and a queue", "", None]})
    >>> comment_themes(df, text="comment", id="rid", codebook=cb, min_n=1)[
    ...     ["attribute", "mentions", "share_of_commenters", "share_of_respondents"]]
      attribute  mentions  share_of_commenters  share_of_respondents
    0      wait         4                 1.00              0.666667
    1      fees         1                 0.25              0.166667
    """
    _check_inputs(data, text, id, codebook, "comment_themes")
    min_n = check_int(min_n, "min_n", minimum=0)
    if by is not None and by in THEME_COLUMNS:
        raise CsmError(f"by column {by!r} has the name of an output column — rename the column first")
    w = stats.get_weights(data, weights)
    has = _commented(data, text)
    matrix, _ = _mentions(data, text=text, id=id, codebook=codebook, has=has)
    entries = list(codebook.attributes)
    totals = matrix.sum(axis=0)
    order = sorted(range(len(entries)), key=lambda j: (-int(totals[j]), j))
    everyone = np.ones(len(data), dtype=bool)
    rows = []
    for label, pos in group_positions(data, by):
        wg, hg = w[pos], has[pos]
        n_resp, n_comm = len(pos), int(hg.sum())
        for j in order:
            e = entries[j]
            mj = matrix[pos, j]
            row = {"attribute": e.id, "label": e.label, "dimension": e.dimension, "theme": e.theme or e.label,
                   "mentions": int(mj.sum()), "n_commenters": n_comm, "n_respondents": n_resp,
                   "share_of_commenters": stats.weighted_share(mj, wg, hg) if n_comm else math.nan,
                   "share_of_respondents": stats.weighted_share(mj, wg, everyone[pos]) if n_resp else math.nan,
                   "_n": n_comm}  # a theme's shares need min_n commenters (SPEC §4)
            rows.append(row if by is None else {by: label, **row})
    cols = ([by] if by else []) + THEME_COLUMNS[:-1] + ["_n"]
    table = pd.DataFrame(rows, columns=cols)
    for c in ("share_of_commenters", "share_of_respondents"):
        table[c] = table[c].astype("float64")
    keep = [c for c in (by, "attribute", "label", "dimension", "theme", "n_respondents") if c]
    out = stats.suppress(table, n="_n", min_n=min_n, keep=keep, by=by, within=["attribute"])
    out = out.drop(columns="_n")
    for c in ("mentions", "n_commenters"):
        out[c] = pd.array(out[c].to_numpy(dtype=float), dtype="Float64").round().astype("Int64")
    out["n_respondents"] = out["n_respondents"].astype("int64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- examples

def theme_examples(data: pd.DataFrame, *, text: str, id: str, codebook: Codebook, per_theme: int = 3,
                   max_chars: int = 300, min_n: int = 5, seed: int = 0, satisfaction: str | None = None,
                   scale: tuple[float, float] = (1, 5)) -> pd.DataFrame:
    """A few example comments per theme, anonymised (SPEC §1.4 "Open-text themes", §4).

    For each theme mentioned by at least ``min_n`` respondents, ``per_theme`` comments are drawn
    at random (``numpy.random.default_rng(seed)``, from the mentioning respondents sorted by id,
    so the draw does not depend on the row order). Quotes carry no respondent id; personal data
    inside the text is replaced by :func:`redact`; long comments are cut to ``max_chars`` around
    the words that were coded. Themes with fewer than ``min_n`` mentions give no quote.

    With ``satisfaction`` (a rating column and its ``scale``), quotes are drawn separately
    from satisfied (top two points) and dissatisfied (bottom two points) respondents, each
    only when at least ``min_n`` such respondents mention the theme.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; not modified.
    text, id : str
        Comment column and respondent id column.
    codebook : Codebook
        The discovery codebook.
    per_theme : int
        Quotes per theme (per sentiment with ``satisfaction``).
    max_chars : int
        Longest quote, at least 20 characters.
    min_n : int
        Minimum mentions for a theme (or sentiment) to be quoted.
    seed : int
        Seed of the random draw.
    satisfaction : str, optional
        Rating column for the sentiment split (e.g. the overall satisfaction item).
    scale : tuple of float
        ``(min, max)`` of ``satisfaction``.

    Returns
    -------
    pandas.DataFrame
        Columns ``attribute, label, sentiment, quote``: the most mentioned theme first;
        ``sentiment`` is ``"all"``, or ``"satisfied"`` / ``"dissatisfied"`` with the split.
        Quotes are plain text (escape them when rendering).

    Raises
    ------
    CsmError
        When a column is missing or an argument is invalid.
    DataError
        When ids are missing or repeated, or a satisfaction rating is off its scale.

    Examples
    --------
    >>> from csm_helpers.study.config import Codebook
    >>> cb = Codebook.model_validate({"attributes": [
    ...     {"id": "wait", "label": "Waiting", "dimension": "process", "keywords": ["queue"]}]})
    >>> df = pd.DataFrame({"rid": range(5), "comment": [
    ...     "Long queue, call me on 0901 234 567", "queue", "The queue!", "queue again", "<b>queue</b>"]})
    >>> ex = theme_examples(df, text="comment", id="rid", codebook=cb, per_theme=5)
    >>> sorted(ex["quote"])
    ['<b>queue</b>', 'Long queue, call me on [phone]', 'The queue!', 'queue', 'queue again']
    """
    _check_inputs(data, text, id, codebook, "theme_examples")
    per_theme = check_int(per_theme, "per_theme", minimum=1)
    max_chars = check_int(max_chars, "max_chars", minimum=20)
    min_n = check_int(min_n, "min_n", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    has = _commented(data, text)
    matrix, coded = _mentions(data, text=text, id=id, codebook=codebook, has=has)
    entries = list(codebook.attributes)
    if satisfaction is not None:
        lo, hi = (float(v) for v in scale)
        if not lo < hi:
            raise CsmError(f"scale of {satisfaction!r} is [{lo:g}, {hi:g}]: the minimum must be below the maximum")
        x = number_array(data, satisfaction, role="satisfaction", lo=lo, hi=hi, what="ratings")
        # sentiment words stay in English in the table; the display step translates them
        pools = {N_("satisfied"): np.isfinite(x) & (x >= hi - 1), N_("dissatisfied"): np.isfinite(x) & (x <= lo + 1)}
    else:
        pools = {N_("all"): np.ones(len(data), dtype=bool)}
    match_of = {(int(p), a): m for p, a, m in zip(coded["_pos"], coded["attribute"], coded["match"], strict=True)}
    ids = data[id]
    texts = data[text].to_numpy()
    totals = matrix.sum(axis=0)
    order = sorted(range(len(entries)), key=lambda j: (-int(totals[j]), j))
    rng = np.random.default_rng(seed)
    rows = []
    for j in order:
        e = entries[j]
        if totals[j] < min_n or totals[j] == 0:
            continue
        for sentiment, mask in pools.items():
            cand = np.flatnonzero(matrix[:, j] & mask)
            if len(cand) < max(min_n, 1):
                continue
            cand = cand[np.argsort(ids.iloc[cand].map(str).to_numpy(), kind="stable")]
            chosen = rng.choice(cand, size=min(per_theme, len(cand)), replace=False)
            for p in chosen:
                quote = excerpt(redact(texts[p]), redact(match_of.get((int(p), e.id)) or ""), max_chars)
                rows.append({"attribute": e.id, "label": e.label, "sentiment": sentiment, "quote": quote})
    return pd.DataFrame(rows, columns=["attribute", "label", "sentiment", "quote"])
