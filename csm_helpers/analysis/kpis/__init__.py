"""Headline KPIs of the analysis stage (SPEC §1.4): CSAT, CSI, NPS, their change between waves,
the KPI summary against targets, and the invisible scorecard.

Every estimate comes with ``n`` (respondents who answered), ``n_eff`` (Kish's effective sample
size; equal to ``n`` without weights) and a confidence interval at ``level`` (95% by default):

- **CSAT**: top-box share of the overall satisfaction item (top two points of a k-point scale
  by default), Wilson score interval (Wilson, 1927); with weights the share is weighted and the
  Wilson interval is computed on the Kish effective n. Beside it the bottom-box share and the
  (weighted) mean, because a mean hides bimodality.
- **CSI**: mean over respondents of each respondent's average on the satisfaction items, each
  item rescaled to 0-100 by ``100 (x - min) / (max - min)`` of its own scale (items a
  respondent did not answer are left out of that respondent's average). Unweighted: Student t
  interval. Weighted: weighted mean with a seeded percentile bootstrap interval.
- **NPS** on a 0-10 item: ``100 (p_P - p_D)`` with promoters 9-10 and detractors 0-6; the point
  estimate is the raw NPS and the interval the adjusted Wald interval of Rocks (2016).
- **Change** between two independent waves or groups: two-proportion z-test (CSAT), Welch t-test
  (CSI), z-test on the NPS difference (NPS), each on the effective n when weighted.

Groups (``by``) with fewer than ``min_n`` respondents are suppressed (SPEC §4): the row stays
with its ``n`` and ``suppressed=True`` and every statistic is missing. Rows whose ``by`` value
is missing belong to no group. Nothing is rounded here: rounding belongs to the display step.
"""

from csm_helpers.analysis.kpis.comparisons import nps_difference_z, two_proportion_z, welch_t
from csm_helpers.analysis.kpis.intervals import DEGENERATE, wilson_interval
from csm_helpers.analysis.kpis.scores import KPI_NAMES, csat, csi, nps
from csm_helpers.analysis.kpis.trends import kpi_change, kpi_summary, scorecard

__all__ = [
    "KPI_NAMES",
    "DEGENERATE",
    "wilson_interval",
    "csat",
    "csi",
    "nps",
    "two_proportion_z",
    "nps_difference_z",
    "welch_t",
    "kpi_change",
    "kpi_summary",
    "scorecard",
]
