"""Stage 03 (measurement) helpers: sampling, representativeness, raking, data quality,
reliability and answer distributions (SPEC §1.3).

Every function takes the data first and everything else by keyword, never modifies the
caller's frame, computes at full precision (rounding is the display's job) and returns a
tidy DataFrame with the columns its docstring lists (or a documented dict/tuple).

The population table is the study's ``population.csv`` in long format, one row per segment
value: ``segment, value, population`` and optionally ``invited`` (how many customers of that
segment value were invited to the survey). Segment values are matched to the data's values
as text (``1`` and ``"1"`` and ``1.0`` are the same value).

Formulas and their sources:

- sample size and margin of error: Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed.,
  Wiley, §4.4 (the finite-population correction gives the same numbers as the table of
  Krejcie, R. V., & Morgan, D. W. (1970). Determining sample size for research activities.
  *Educational and Psychological Measurement*, 30, 607–610);
- representativeness: Pearson's chi-square goodness of fit (``scipy.stats.chisquare``) with
  Cohen's w = sqrt(chi2 / n) (Cohen, J. (1988). *Statistical Power Analysis for the
  Behavioral Sciences*, 2nd ed., ch. 7);
- raking: iterative proportional fitting, Deming, W. E., & Stephan, F. F. (1940). On a least
  squares adjustment of a sampled frequency table when the expected marginal totals are
  known. *Annals of Mathematical Statistics*, 11(4), 427–444;
- effective sample size and design effect: Kish, L. (1965). *Survey Sampling*, Wiley, §11.7;
- Cronbach's alpha with Feldt's confidence interval, as ``pingouin.cronbach_alpha``:
  Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
  *Psychometrika*, 16(3), 297–334; Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987).
  Statistical inference for coefficient alpha. *Applied Psychological Measurement*, 11(1),
  93–103.
"""

from csm_helpers.analysis.measurement.common import POPULATION_FILE
from csm_helpers.analysis.measurement.consistency import (
    RELIABILITY_MIN_N,
    item_analysis,
    reliability,
    study_dimensions,
)
from csm_helpers.analysis.measurement.distributions import likert_distribution
from csm_helpers.analysis.measurement.quality import (
    DUPLICATE_CHANCE_PAIRS,
    DUPLICATE_MIN_ITEMS,
    EXCLUSIONS,
    apply_exclusions,
    exclusion_sensitivity,
    missing_by_item,
    quality_display,
    quality_flags,
    quality_summary,
)
from csm_helpers.analysis.measurement.sampling import (
    margin_of_error,
    representativeness,
    sample_size,
    sampling_table,
)
from csm_helpers.analysis.measurement.weighting import (
    margins_from_population,
    rake,
    study_weights,
    weight_summary,
    weights_table,
)

__all__ = [
    "POPULATION_FILE",
    "DUPLICATE_MIN_ITEMS",
    "EXCLUSIONS",
    "RELIABILITY_MIN_N",
    "DUPLICATE_CHANCE_PAIRS",
    "exclusion_sensitivity",
    "sample_size",
    "margin_of_error",
    "sampling_table",
    "representativeness",
    "margins_from_population",
    "rake",
    "weight_summary",
    "weights_table",
    "study_weights",
    "quality_flags",
    "quality_summary",
    "quality_display",
    "missing_by_item",
    "apply_exclusions",
    "study_dimensions",
    "reliability",
    "item_analysis",
    "likert_distribution",
]
