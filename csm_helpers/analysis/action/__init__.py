"""Action planning and progress (SPEC §1.5, stage 05).

- :func:`priority_list`: attributes ranked by importance x performance gap, with their IPA
  quadrant, expectation gap and competitor gap;
- :func:`reconcile_priorities`: the priority list with stated and derived importance ranks side
  by side (and where they disagree), the quadrant's bootstrap certainty and each rank's reason
  in words — the table stage 05's priority list and action register are built from;
- :func:`action_register` and :func:`write_action_csv`: the priority list with empty owner /
  due-date / action / KPI / status columns for the team (PDCA "plan"), written as formula-safe CSV;
- :func:`attribute_change`: each attribute's mean performance in two waves with Welch's t-test
  (the trends that :func:`swot` reads);
- :func:`swot`: strengths, weaknesses, opportunities and threats derived from the analysis
  tables, each entry with the numbers behind it;
- :func:`progress`: every headline KPI per wave with its interval, the change from the
  previous wave with its test, and target attainment;
- :func:`sigma_level` and :func:`service_sigma`: service quality in Six Sigma terms;
- :func:`follow_up_list`, :func:`write_follow_up`, :func:`follow_up_outcomes` and
  :func:`check_actions`: closing the loop — whom to call back (the one output with personal
  data, written owner-only), what came of last wave's calls, and whether last wave's actions
  moved their attribute.

Nothing is rounded here; rounding belongs to the display step. Labels and other text from the
data are returned as plain text (the display step escapes them; CSV goes through
:func:`csm_helpers.core.safety.to_safe_csv`).
"""

from csm_helpers.analysis.action.change import attribute_change
from csm_helpers.analysis.action.follow_up import (
    FOLLOW_UP_FILE,
    OUTCOME_COLUMNS,
    actions_taken,
    check_actions,
    follow_up_list,
    follow_up_outcomes,
    write_follow_up,
)
from csm_helpers.analysis.action.kpi_progress import progress
from csm_helpers.analysis.action.priorities import (
    PRIORITY_COLUMNS,
    REGISTER_COLUMNS,
    action_register,
    priority_list,
    write_action_csv,
)
from csm_helpers.analysis.action.reconciled import DISAGREE_SHARE, RECONCILED_COLUMNS, reconcile_priorities
from csm_helpers.analysis.action.sigma import service_sigma, sigma_level
from csm_helpers.analysis.action.swot_matrix import SWOT_CATEGORIES, swot, swot_display

__all__ = [
    "PRIORITY_COLUMNS",
    "REGISTER_COLUMNS",
    "RECONCILED_COLUMNS",
    "DISAGREE_SHARE",
    "SWOT_CATEGORIES",
    "priority_list",
    "reconcile_priorities",
    "action_register",
    "write_action_csv",
    "attribute_change",
    "swot",
    "swot_display",
    "progress",
    "sigma_level",
    "service_sigma",
    "FOLLOW_UP_FILE",
    "OUTCOME_COLUMNS",
    "follow_up_list",
    "write_follow_up",
    "follow_up_outcomes",
    "actions_taken",
    "check_actions",
]
