"""The affinity table (mentions per attribute, customers vs company) and the perception gap between what customers and the company stress."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from csm_helpers.analysis.discovery.common import require_columns
from csm_helpers.core.checks import check_frame
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _
from csm_helpers.study.config import (
    COMPANY_GROUPS,
    CUSTOMER_GROUPS,
    DIMENSIONS,
    SOURCE_GROUPS,
    Codebook,
)

__all__ = ["affinity_table", "perception_gap", "gap_findings"]


_UNDER = N_("company under-rates")


_OVER = N_("company over-rates")


_ALIGNED = N_("aligned")


_NOT_MEASURABLE = N_("not measurable")


# --------------------------------------------------------------------------- affinity and gap
def _mention_counts(coded: pd.DataFrame, interviews: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, int, int]:
    """Per codebook attribute: interviews mentioning it in total, customer side, company side."""
    check_frame(coded, "coded table")
    check_frame(interviews, "interviews")
    require_columns(coded, ["interview_id", "attribute"], "coded table", "code_verbatims()")
    require_columns(interviews, ["interview_id", "source_group"], "interviews", "prepare_interviews()")
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

    >>> from csm_helpers.analysis.discovery import code_verbatims
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

    >>> from csm_helpers.analysis.discovery import code_verbatims
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
