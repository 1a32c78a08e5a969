"""Kano classification with Better/Worse coefficients (SPEC §1.7, stage 04).

Each feature is asked twice: the *functional* question ("if the feature is there, how do you
feel?") and the *dysfunctional* one ("if it is not there?"), each answered with one of five
answers: like, must-be ("I expect it"), neutral, live with, dislike (Kano et al. 1984).

- :data:`EVALUATION_TABLE` is the Kano evaluation table (Berger et al. 1993, table 1): the pair
  of answers gives the respondent's category for the feature — **A**ttractive (a delighter),
  **O**ne-dimensional (more is better), **M**ust-be (taken for granted), **I**ndifferent,
  **R**everse (the customer would rather not have it) or **Q**uestionable (contradictory answers).
- :func:`kano_categories` applies the table to two columns of answers.
- :func:`kano_table` gives, per feature, the (weighted) share of each category, the feature's
  category — the most frequent one, ties broken M > O > A > I as Berger et al. advise (then R,
  Q) — and whether it is clear by Fong's test (Fong 1996): the two most frequent categories
  differ significantly when ``|a - b| >= 1.65 sqrt((a + b)(2n - a - b) / (2n))`` with ``a``,
  ``b`` their counts and ``n`` the respondents; otherwise the feature is a mix of the two.
- The customer satisfaction coefficients (Berger et al. 1993): ``Better = (A + O) / (A + O + M
  + I)``, how much satisfaction rises when the feature is there, and ``Worse = -(O + M) / (A +
  O + M + I)``, how much it falls when it is missing (negative by convention). Each is a
  proportion of the A, O, M and I answers, with a Wilson interval (Wilson 1927).

Weights. With a weight column, shares and coefficients are weighted, and Fong's test and the
intervals use Kish's effective sample size of the respondents concerned (the counts become
``share x n_eff``). A feature answered (both questions) by fewer than ``min_n`` respondents is
suppressed (SPEC §4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from csm_helpers.analysis.kpis.intervals import wilson_interval
from csm_helpers.analysis.stats import get_weights, kish_neff, suppress
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_

if TYPE_CHECKING:  # pragma: no cover
    from csm_helpers.study.config import KanoSpec

__all__ = ["CATEGORIES", "CATEGORY_NAMES", "EVALUATION_TABLE", "FONG_Z", "TIE_ORDER", "kano_categories",
           "kano_table", "KANO_REFERENCES"]

#: The six Kano categories, in the order of the tables and the metrics.
CATEGORIES = ("A", "O", "M", "I", "R", "Q")

#: Their names as the reports print them.
CATEGORY_NAMES = {"A": N_("Attractive"), "O": N_("One-dimensional"), "M": N_("Must-be"),
                  "I": N_("Indifferent"), "R": N_("Reverse"), "Q": N_("Questionable")}

#: The Kano evaluation table (Berger et al. 1993, table 1): ``EVALUATION_TABLE[functional][dysfunctional]``.
EVALUATION_TABLE: dict[str, dict[str, str]] = {
    "like": {"like": "Q", "must_be": "A", "neutral": "A", "live_with": "A", "dislike": "O"},
    "must_be": {"like": "R", "must_be": "I", "neutral": "I", "live_with": "I", "dislike": "M"},
    "neutral": {"like": "R", "must_be": "I", "neutral": "I", "live_with": "I", "dislike": "M"},
    "live_with": {"like": "R", "must_be": "I", "neutral": "I", "live_with": "I", "dislike": "M"},
    "dislike": {"like": "R", "must_be": "R", "neutral": "R", "live_with": "R", "dislike": "Q"},
}

#: Which category wins a tie for the most frequent: M > O > A > I (Berger et al. 1993), then R, Q.
TIE_ORDER = ("M", "O", "A", "I", "R", "Q")

#: Fong's (1996) critical value (a 90 % test).
FONG_Z = 1.65

KANO_REFERENCES = (
    "Kano, N., Seraku, N., Takahashi, F. & Tsuji, S. (1984). Attractive quality and must-be quality. Journal "
    "of the Japanese Society for Quality Control, 14(2), 39-48",
    "Berger, C. et al. (1993). Kano's methods for understanding customer-defined quality. Center for Quality "
    "of Management Journal, 2(4), 3-36 (evaluation table; Better/Worse coefficients; M > O > A > I for ties)",
    "Fong, D. (1996). Using the self-stated importance questionnaire to interpret Kano's questionnaire. "
    "Center for Quality of Management Journal, 5(3), 21-24 (test of the two most frequent categories)",
    "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA, "
    "22(158), 209-212 (interval of Better and Worse)",
)

_LOOKUP = {(f, d): c for f, row in EVALUATION_TABLE.items() for d, c in row.items()}


def kano_categories(functional: pd.Series | np.ndarray | list, dysfunctional: pd.Series | np.ndarray | list
                    ) -> np.ndarray:
    """The Kano category of each respondent from their two answers (:data:`EVALUATION_TABLE`).

    Parameters
    ----------
    functional, dysfunctional : array-like of str or None
        The answers, as names of :data:`csm_helpers.study.config.KANO_ANSWERS` (decode a column's
        codes with :meth:`csm_helpers.study.config.KanoSpec.decode`); None for no answer.

    Returns
    -------
    numpy.ndarray
        Object array of ``"A"``, ``"O"``, ``"M"``, ``"I"``, ``"R"``, ``"Q"``; None where either
        answer is missing.

    Raises
    ------
    CsmError
        When an answer is not one of the five names, or the two inputs differ in length.

    Examples
    --------
    >>> kano_categories(["like", "neutral", "like", None], ["neutral", "dislike", "dislike", "like"]).tolist()
    ['A', 'M', 'O', None]
    """
    f = list(functional)
    d = list(dysfunctional)
    if len(f) != len(d):
        raise CsmError(f"kano_categories: {len(f)} functional answers but {len(d)} dysfunctional ones — pass "
                       "the two answers of the same respondents")
    out = np.empty(len(f), dtype=object)
    for i, (a, b) in enumerate(zip(f, d, strict=True)):
        if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or \
                (isinstance(b, float) and math.isnan(b)):
            out[i] = None
            continue
        try:
            out[i] = _LOOKUP[(a, b)]
        except KeyError:
            bad = a if a not in EVALUATION_TABLE else b
            raise CsmError(f"kano_categories: {bad!r} is not a Kano answer — use one of "
                           f"{', '.join(EVALUATION_TABLE)}") from None
    return out


def _decoded(data: pd.DataFrame, column: str, spec: KanoSpec) -> pd.Series:
    if column not in data.columns:
        raise DataError(f"Kano column {column!r} is not in the data — fix kano.pairs in study.yaml or the column name")
    answers, unknown = spec.decode(data[column])
    if unknown.any():
        found = list(dict.fromkeys(str(v) for v in data[column][unknown].tolist()))
        shown = ", ".join(repr(v) for v in found[:5]) + (" ..." if len(found) > 5 else "")
        raise DataError(f"Kano column {column!r}: {int(unknown.sum())} answer(s) ({shown}) are not codes of "
                        "kano.answers in study.yaml — fix the data, or map each code to like, must_be, neutral, "
                        "live_with or dislike in kano.answers")
    return answers


def _category(counts: dict[str, float]) -> tuple[str, str | None]:
    """The most frequent category and the runner-up, ties broken by :data:`TIE_ORDER`."""
    order = sorted(TIE_ORDER, key=lambda c: (-counts[c], TIE_ORDER.index(c)))
    second = order[1] if counts[order[1]] > 0 else None
    return order[0], second


def kano_table(data: pd.DataFrame, *, features: Mapping[str, tuple[str, str, str]], spec: KanoSpec,
               weights: str | None = None, level: float = 0.95, min_n: int = 5) -> pd.DataFrame:
    """Kano categories, their shares and the Better/Worse coefficients of each feature.

    Methods: Kano et al. (1984); evaluation table, Better and Worse after Berger et al. (1993);
    category test of Fong (1996); Wilson (1927) intervals. See the module docstring.

    Parameters
    ----------
    data : DataFrame
        Responses with the Kano columns (codes as in the data: numbers or texts).
    features : mapping
        ``feature id -> (label, functional column, dysfunctional column)``, as
        :meth:`csm_helpers.study.config.Study.kano_features` gives.
    spec : KanoSpec
        The study's ``kano`` settings: the answer codes.
    weights : str, optional
        Weight column.
    level : float
        Confidence level of the Better/Worse intervals.
    min_n : int
        Minimum respondents (both questions answered) to show a feature (SPEC §4).

    Returns
    -------
    DataFrame
        One row per feature: ``feature``, ``label``, ``n`` (respondents who answered both
        questions), ``share_A`` … ``share_Q``, ``category`` (most frequent), ``runner_up``,
        ``clear`` (Fong's test: the category differs significantly from the runner-up),
        ``better``, ``better_ci_low``, ``better_ci_high``, ``worse`` (≤ 0),
        ``worse_ci_low``, ``worse_ci_high``, ``n_aomi`` (respondents in A, O, M or I) and
        ``suppressed``. ``better`` and ``worse`` are missing when nobody is in A, O, M or I.

    Raises
    ------
    DataError
        When a column is missing or holds a code that ``spec.answers`` does not map.

    Examples
    --------
    >>> from csm_helpers.study.config import KanoSpec
    >>> spec = KanoSpec(pairs=[{"id": "chat", "label": "Live chat", "functional": "f", "dysfunctional": "d"}])
    >>> data = pd.DataFrame({"f": [1, 1, 1, 1, 3, 1, 2, 1], "d": [3, 3, 4, 5, 5, 3, 3, 2]})
    >>> t = kano_table(data, features={"chat": ("Live chat", "f", "d")}, spec=spec)
    >>> row = t.iloc[0]
    >>> int(row["n"]), row["category"], float(row["share_A"]), float(row["better"]), float(row["worse"])
    (8, 'A', 0.625, 0.75, -0.25)
    """
    if not 0 < level < 1:
        raise CsmError(f"kano_table: level must be between 0 and 1, but {level!r} was passed")
    w_all = get_weights(data, weights)
    rows = []
    for feature, (label, fcol, dcol) in features.items():
        cats = kano_categories(_decoded(data, fcol, spec).tolist(), _decoded(data, dcol, spec).tolist())
        answered = np.array([c is not None for c in cats], dtype=bool)
        w = w_all[answered]
        cat = cats[answered]
        total = float(w.sum())
        shares = {c: (float(w[cat == c].sum()) / total if total > 0 else math.nan) for c in CATEGORIES}
        row: dict[str, object] = {"feature": feature, "label": label, "n": int(answered.sum())}
        row.update({f"share_{c}": shares[c] for c in CATEGORIES})
        if total > 0:
            n_eff = kish_neff(w) if weights else float(len(w))
            counts = {c: shares[c] * n_eff for c in CATEGORIES}
            top, second = _category(counts)
            a, b = counts[top], counts[second] if second else 0.0
            # Fong (1996): |a - b| < 1.65 sqrt((a + b)(2n - a - b) / 2n) -> not significantly different
            bound = FONG_Z * math.sqrt(max((a + b) * (2 * n_eff - a - b), 0.0) / (2 * n_eff))
            row.update(category=top, runner_up=second, clear=bool(abs(a - b) >= bound and a > b))
        else:
            row.update(category=None, runner_up=None, clear=None)
        aomi = np.isin(cat, ["A", "O", "M", "I"])
        row["n_aomi"] = int(aomi.sum())
        waomi = w[aomi]
        if waomi.sum() > 0:
            n_eff = kish_neff(waomi) if weights else float(len(waomi))
            better = float(waomi[np.isin(cat[aomi], ["A", "O"])].sum() / waomi.sum())
            worse = float(waomi[np.isin(cat[aomi], ["O", "M"])].sum() / waomi.sum())
            b_lo, b_hi = wilson_interval(better * n_eff, n_eff, level=level)
            w_lo, w_hi = wilson_interval(worse * n_eff, n_eff, level=level)
            row.update(better=better, better_ci_low=b_lo, better_ci_high=b_hi,
                       worse=-worse, worse_ci_low=-w_hi, worse_ci_high=-w_lo)
        else:
            row.update(better=math.nan, better_ci_low=math.nan, better_ci_high=math.nan,
                       worse=math.nan, worse_ci_low=math.nan, worse_ci_high=math.nan)
        rows.append(row)
    columns = ["feature", "label", "n", *(f"share_{c}" for c in CATEGORIES), "category", "runner_up", "clear",
               "better", "better_ci_low", "better_ci_high", "worse", "worse_ci_low", "worse_ci_high", "n_aomi"]
    table = pd.DataFrame(rows, columns=columns)
    for c in ("category", "runner_up", "clear"):
        table[c] = table[c].astype(object)
    out = suppress(table, n="n", min_n=min_n, keep=["feature", "label"])
    out.attrs.update(level=level, weighted=bool(weights), method=N_("Kano evaluation table; Better/Worse"))
    return out
