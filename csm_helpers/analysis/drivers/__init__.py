"""Key-driver analysis and importance–performance analysis (SPEC §1.4, stage 04).

- :func:`relative_weights`: Johnson's (2000) relative weights from a correlation matrix;
- :func:`key_drivers`: Pearson r, standardised betas and relative weights of overall satisfaction
  on the attribute ratings, with pairwise-complete (optionally weighted) correlations and seeded
  percentile-bootstrap intervals;
- :func:`nearest_correlation`: the eigenvalue-clipping repair of a correlation matrix that is not
  positive definite (pairwise-complete matrices can be);
- :func:`attribute_table`: the study's attributes and their survey items as a table, the input of
  :func:`ipa` and of the gap helpers;
- :func:`ipa`: importance–performance analysis (Martilla & James, 1977) with the quadrant names of
  :data:`QUADRANTS`;
- :func:`ipa_quadrant_probability`: bootstrap share of resamples in which each attribute lands in
  each quadrant (SPEC §1.7).

Johnson's method in brief. With ``R_xx = V diag(d) V'`` the predictors' correlation matrix and
``r_xy`` their correlations with the outcome, ``Lambda = V diag(sqrt d) V'`` holds the correlations
of the predictors with their closest orthogonal counterparts ``Z`` (Johnson, 2000).
Regressing the outcome on ``Z`` gives ``beta* = Lambda^-1 r_xy``; predictor ``j``'s raw weight is
``eps_j = sum_k Lambda_jk^2 beta*_k^2``. The raw weights are non-negative and add up to the model
``R^2 = r_xy' R_xx^-1 r_xy``; ``rw_pct = 100 eps_j / R^2`` is the share of ``R^2``.
"""

from csm_helpers.analysis.drivers.importance_performance import (
    CONCENTRATE,
    KEEP_UP,
    LOW_PRIORITY,
    OVERKILL,
    QUADRANT_BOOT_MIN_N,
    QUADRANT_SURE,
    QUADRANTS,
    ipa,
    ipa_quadrant_probability,
)
from csm_helpers.analysis.drivers.regression import attribute_table, driver_minimum_n, key_drivers
from csm_helpers.analysis.drivers.weights import nearest_correlation, relative_weights

__all__ = [
    "CONCENTRATE",
    "KEEP_UP",
    "LOW_PRIORITY",
    "OVERKILL",
    "QUADRANTS",
    "relative_weights",
    "nearest_correlation",
    "key_drivers",
    "driver_minimum_n",
    "QUADRANT_BOOT_MIN_N",
    "QUADRANT_SURE",
    "attribute_table",
    "ipa",
    "ipa_quadrant_probability",
]
