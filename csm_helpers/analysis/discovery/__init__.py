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

from csm_helpers.analysis.discovery.affinity import affinity_table, gap_findings, perception_gap
from csm_helpers.analysis.discovery.coding import (
    CODED_COLUMNS,
    code_verbatims,
    coding_summary,
    example_verbatims,
)
from csm_helpers.analysis.discovery.interviews import (
    INTERVIEW_COLUMNS,
    interview_summary,
    prepare_interviews,
    require_inputs,
)
from csm_helpers.analysis.discovery.questionnaire import draft_questionnaire, write_questionnaire_csv
from csm_helpers.analysis.discovery.saturation import saturation_curve, saturation_verdict

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
