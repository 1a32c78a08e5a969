"""A seeded synthetic study with a known ground truth: the bundled sample under ``data/sample/``.

:func:`generate_sample` writes a complete study — ``study.yaml`` and every file it names — for
a retail bank in Vietnam ("Retail banking satisfaction 2026"). The same ``seed`` and ``n`` give
byte-identical files (``numpy.random.default_rng``, no timestamps, fixed number formats, sorted
JSON keys). ``csm sample --out DIR --seed S --n N`` calls it; the bundled sample is
``generate_sample("data/sample")`` with the defaults (seed 20261123, n 2400).

Files written
-------------
``study.yaml``
    The study configuration (SPEC §2): 12 attributes, four per dimension, each with a
    performance, importance and expectation item; 8 of them also with a competitor item.
``responses.csv``
    One row per respondent (UTF-8 with BOM): ``respondent_id`` (R00001, ...), ``wave``
    (``2025-H2``, ``2026-H1``), ``region``, ``channel``, fake personal data (``customer_name``,
    ``email`` at example.com/.net/.org, ``phone``), ``duration_s``, ``perf_<id>``,
    ``imp_<id>``, ``exp_<id>`` (1-5), ``comp_<id>`` (1-5), ``overall_sat`` (1-5),
    ``sat_last_contact`` (1-5), ``recommend`` (0-10), ``repeat_12m`` (1/0), the market
    indicators ``praise_us`` (would praise the bank to others), ``aware_unaided`` (named the bank
    unaided) and ``referred`` (referred someone in the last year), all 1/0, the loyalty measures
    ``price_sensitivity`` ("would switch for a slightly better rate"), ``competitor_attitude``
    ("competitors are as good") and ``incident_tolerance`` ("would stay after a service
    failure"), 1-5 agreement, and ``comment`` (free text in English, Vietnamese or Simplified
    Chinese for about 40% of respondents). Every value is valid; realistic quality issues are
    present: 2-4% of the attribute items and 1-3% of the loyalty measures missing at random,
    about 3% speeders, a handful of straight-liners.
``interviews.csv``
    36 discovery interviews (SPEC §1.2) in five source groups, in English, Vietnamese and
    Chinese: ``interview_id``, ``source_group``, ``date`` (the order of discovery),
    ``language``, ``text``, ``codes`` (manual codes, ``;``-separated, mostly empty). The
    notes are fixed text (they do not depend on the seed): the last 14 interviews mention no
    new attribute (discovery is saturated), and executives/employees mention interest rates and
    the product range far more often than customers, who talk about waiting, responsiveness and
    problem resolution.
``codebook.yaml``
    The 12 survey attributes plus ``branch_hours``, which only comes up in discovery; keywords
    in English, Vietnamese (NFC) and Chinese, and a few regular expressions.
``goals.yaml``
    Charter, KPI targets (CSAT 0.80, CSI 75, NPS 30), the eleven readiness steps and a GB/T
    19580 self-assessment (SPEC §1.1).
``population.csv``
    Long format ``segment, value, population, invited``: 180,000 customers by region and by
    channel, and the number invited to the survey. The sample over-represents digital customers
    and Hanoi, so raking has work to do. Invitations are set per region x channel cell as the
    expected number of respondents over the cell's response rate (region rate x channel factor,
    ``_RESPONSE_RATE_REGION`` x ``_RESPONSE_RATE_CHANNEL``, between 11.7% and 29.9%), then
    summed per segment value, so both segments count the same invitations; response rates are
    10-30% in every value (invitations are capped at the population, reached for n > ~23,000).
``complaints.csv``
    300 complaints (the number does not depend on ``n``): ``complaint_id``, ``date`` (of the
    incident), ``customer_id`` (some customers complain more than once), ``region``,
    ``channel``, ``category``, ``valid`` (yes/no), ``received``, ``resolved`` (empty when still
    open on 2026-06-30, when the log was extracted), ``sla_days``, ``outcome`` of the follow-up
    (satisfied/neutral/dissatisfied, empty when there was none) and ``description``.
``lost_reasons.csv``
    200 closed accounts: ``customer_id``, ``region``, ``closed_date``, ``reason`` (died,
    moved_away, other_relationships, competitor, product_dissatisfaction, staff_indifference;
    shares differ from the 1/3/5/9/14/68% benchmark of SPEC §1.4) and ``comment``.
``truth.json``
    The parameters of the generating model and the population values they imply (below).

Generative model
----------------
Respondent ``i`` belongs to a wave ``w`` (the number in the first wave is Binomial(n, 1/2)),
a region ``r`` (probabilities :data:`REGION_PROBS`) and a channel ``c`` (digital with a
probability that depends on the region, :data:`DIGITAL_GIVEN_REGION`); call (w, r, c) the
respondent's *cell*. Each respondent has three standard normal *dimension factors*
``f_d = sqrt(phi) g + sqrt(1 - phi) h_d`` (d = product, process, people; ``g`` and ``h_d``
independent N(0, 1), so ``corr(f_d, f_d') = phi = 0.35``), drawn from a seventh random stream.
For each attribute ``a`` (:data:`ATTRIBUTES`) of dimension ``d``:

- a latent score ``z_a = lambda_d f_d + sqrt(1 - lambda_d^2) s_a`` with ``s_a ~ N(0, 1)``
  independent (the attribute-specific part) and the loadings ``lambda = 0.74`` (product),
  ``0.76`` (process), ``0.78`` (people). Every ``z_a`` is N(0, 1) — so the distribution of each
  observed item, and every truth that depends only on it, is as if the scores were
  independent — and ``corr(z_a, z_b) = lambda_d lambda_d'`` within a dimension (0.55-0.61),
  ``lambda_d lambda_d' phi`` across dimensions (about 0.2). The four performance items of a
  dimension thus share a common factor: their population Cronbach's alpha is about 0.79-0.82
  (``truth.json`` ``reliability``);
- performance latent ``P*_a = mu_a + wave_a(w) + region(r) + channel_a(c) + sigma_a z_a``;
  the observed rating is ``1 + #{k: P*_a > c_k}`` with the fixed cut points
  ``c = (1.5, 2.5, 3.5, 4.5)``, so within a cell the rating is a discretised normal and over
  the sample an exact mixture of discretised normals;
- expectation latent ``E*_a = nu_a + tau e_a`` (``e_a ~ N(0, 1)``, independent of ``z_a``),
  thresholded with the same cut points;
- stated importance latent ``I*_a = iota_a + 0.85 u_a`` with ``iota_a = 3.55 + 3.2 beta_a``:
  the attributes that truly drive satisfaction are, on average, rated more important;
- competitor latent (8 attributes) ``C*_a = kappa_a + 0.95 v_a``, thresholded likewise.

Overall satisfaction: ``y = delta_region(r) + delta_channel(c) + delta_wave(w) + sum_a beta_a z_a
+ e`` with ``e ~ N(0, 1 - beta' R_zz beta)`` (``R_zz`` the correlation matrix of the ``z_a``;
``beta' R_zz beta`` = 0.60 is the latent R^2), so ``Var(y | cell) = 1`` and ``beta_a`` is the
true standardised regression coefficient of ``y`` on attribute ``a``'s latent score; the three
strong drivers are problem_resolution (0.36), responsiveness (0.31) and wait_time (0.16).
``overall_sat`` is ``1 + #{k: y > g_k}`` with the cut points ``g = (-2.1, -1.4, -0.55, 0.8)``.
Because ``y | cell ~ N(m_cell, 1)`` exactly as before the scores were correlated, every
population KPI, market and loyalty truth (which depend only on that distribution) is unchanged.
``sat_last_contact`` thresholds ``0.1 + 0.7 y + sqrt(0.51) e'`` at ``g`` (unit variance within a
cell); ``recommend`` thresholds ``8.1 + 1.7 (0.8 y + 0.6 e'')`` at 0.5, 1.5, ..., 9.5 (0-10);
``repeat_12m ~ Bernoulli(1 / (1 + exp(-(1.1 + 0.9 y))))``. Attribute items are missing
completely at random at a per-item rate between 2% and 4% (drawn once per seed).

Market indicators and loyalty measures come from a sixth random stream (so adding them changed
no earlier column), each with its own standard normal noise ``e``: a market item is 1 when
``a + b y + sqrt(1 - b^2) e > 0`` (``_MARKET_ITEMS``: praise_us a = -0.20, b = 0.60;
aware_unaided 0.15, 0.25; referred -0.90, 0.50), so ``P(1 | cell) = Phi(a + b m_cell)``
exactly; a loyalty measure thresholds ``loc + sd (b y + sqrt(1 - b^2) e)`` at ``c``
(``_LOYALTY_ITEMS``: price_sensitivity loc 3.30, b = -0.45; competitor_attitude 3.00, -0.50;
incident_tolerance 3.10, +0.55; sd 1): satisfied customers are less price sensitive, think less
of the competitors and forgive more.

Data-quality issues on top of the model: ``max(3, round(n / 240))`` respondents are
straight-liners (their 12 performance answers are replaced by one value, 3, 4 or 5); about
3% are speeders (duration 30-110 s, while every other respondent takes at least 165 s, so the
rule "below a third of the median" finds exactly them). Both lists are in ``truth.json`` (the
straight-liners as every respondent whose answered performance items, at least 5, are all
equal: the injected ones and, rarely, one by chance); exclude the straight-liners when checking
performance truths against the data (the speeders' answers follow the model).

Comments are written for about 40% of respondents (75% English, 15% Vietnamese, 10% Chinese),
with words the codebook catches: praise of the respondent's best-rated attribute when
``overall_sat >= 4``, criticism of the worst-rated one when ``overall_sat <= 2``, both when it
is 3 — but praise only of an attribute rated 4-5 and criticism only of one rated 1-3.

What ``truth.json`` holds
-------------------------
Every number is a property of the generating model (the population), not of the drawn sample:

- ``driver_weights``: ``beta_a``, the true standardised regression coefficients of the latent
  overall satisfaction ``y`` on the latent attribute scores ``z`` within a cell;
  ``driver_correlations``: ``corr(z_a, y | cell) = (R_zz beta)_a``; ``driver_relative_weights``:
  Johnson's (2000) relative weights of the population latent correlation matrix of ``(z, y)``
  (computed here with the symmetric square root of ``R_zz``); they add up to ``driver_r2`` =
  ``beta' R_zz beta``. With correlated drivers they are not ``beta_a^2``: an attribute with a
  small ``beta`` that correlates with strong drivers of its dimension gets a share too (e.g.
  ease_of_paperwork), but problem_resolution, wait_time and responsiveness stay clearly on top.
- ``observed_drivers``: what key-driver analysis of the *observed* ratings estimates — the
  correlations of the 12 performance ratings with ``overall_sat``, the standardised OLS
  coefficients (``driver_weights``), Johnson relative weights and ``r2``, from the exact
  population correlation matrix of the 1-5 ratings over the mixture of cells (bivariate normal
  orthant probabilities by Plackett's identity; no straight-liners, no missing answers). The
  1-5 scale attenuates the correlations, and with correlated, coarsened drivers the OLS
  coefficients of weak drivers are not simply attenuated versions of ``beta``.
- ``reliability``: per dimension, its four performance items and the population Cronbach's
  alpha of the observed 1-5 ratings (``alpha``) and of the continuous performance latents
  ``P*_a`` (``latent_alpha``), over the mixture of cells without straight-liners (who raise a
  sample's alpha slightly).
- ``segment_effects``: the shift of latent ``y`` (in within-cell SD units) for each region and
  channel value (the first value is the reference, 0); ``wave_effects``: the shift of ``y``
  (``overall``) and of each attribute's performance latent (``performance``, in scale points)
  in each wave.
- ``mean_performance``, ``mean_expectation``, ``mean_importance``, ``mean_competitor``: the
  population mean of the observed 1-5 rating, ``1 + sum_k sum_cells p_cell Phi((m_cell - c_k)
  / sd)``, over the mixture of cells with their generating probabilities; ``mean_gaps`` =
  mean performance - mean expectation (the mean P - E gap of SPEC §1.4) and
  ``competitor_gaps`` = mean performance - mean competitor rating.
- ``kpis``: population CSAT (top-2 share of ``overall_sat``), CSI (SPEC §1.4, over
  ``overall_sat`` and ``sat_last_contact``), NPS, the means of ``overall_sat`` and
  ``sat_last_contact``, and these by wave, by region and by channel.
- ``model``: every parameter above (``model.latent``: the loadings and the factor
  correlation), so the truths can be recomputed independently;
  ``data_quality``: the straight-liners, speeders and per-item missing rates.
- ``market``: the population share answering 1 of ``praise_us``, ``aware_unaided`` and
  ``referred`` (overall, ``by_wave``, ``by_region``, ``by_channel``) and ``figures``, the company
  figures written to ``study.yaml`` (sales growth 4%, 180,000 customers, 21,000 new, 15,300 lost).
- ``loyalty``: the population ``repeat_12m`` share (``E[logistic(1.1 + 0.9 y)]`` by quadrature),
  ``agree`` (share rating 4-5) and ``mean`` of the three loyalty measures, ``dick_basu``: the
  population shares of the four Dick & Basu (1994) quadrants ("Loyalty", "Latent loyalty",
  "Spurious loyalty", "No loyalty") with relative attitude high = recommend 9-10
  (``recommend``) or overall_sat 4-5 (``overall``) and repeat patronage high = ``repeat_12m`` = 1;
  the same by wave, region and channel; ``acquisition_rate`` (21,000 / 180,000),
  ``churn_rate`` (15,300 / 180,000) and ``missing_rate``, the per-item missing rates of the
  three loyalty measures.
- ``population``: population, invited, expected respondents (``n`` x the generating
  probability) and the expected response rate per segment value.
- ``complaints`` and ``lost_customers``: the generating probabilities of the two logs (category
  shares, validity, SLA, reasons for leaving: 2/6/7/17/20/48%), the number of complaints (300,
  from 255 distinct customers) and of lost customers (200).

Examples
--------
>>> import tempfile
>>> from csm_helpers.study.config import load_study
>>> with tempfile.TemporaryDirectory() as tmp:
...     study = load_study(generate_sample(tmp, seed=7, n=200))
>>> study.name, len(study.attributes)
('Retail banking satisfaction 2026', 12)
"""

from __future__ import annotations

import json
import math
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.special import expit, ndtr

from csm_helpers.core.errors import CsmError
from csm_helpers.core.safety import to_safe_csv, write_bytes_atomic

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_N",
    "MIN_N",
    "ATTRIBUTES",
    "WAVES",
    "REGIONS",
    "REGION_PROBS",
    "CHANNELS",
    "DIGITAL_GIVEN_REGION",
    "generate_sample",
    "add_branch_column",
]

SAMPLE_SEED = 20261123
"""Seed of the bundled sample study."""
SAMPLE_N = 2400
"""Number of survey responses of the bundled sample study."""
MIN_N = 200
"""Smallest ``n`` :func:`generate_sample` accepts (every region x channel cell stays populated)."""


class _Attr(NamedTuple):
    id: str
    label: str
    dimension: str
    theme: str
    beta: float  # true standardised driver weight
    perf: float  # performance latent location (reference cell, first wave), scale points
    perf_sd: float
    expect: float  # expectation latent location
    comp: float | None  # competitor latent location (None: no competitor item)
    wave_shift: float  # performance shift in the second wave (2026-H1)
    digital_shift: float  # performance shift for the digital channel


ATTRIBUTES: tuple[_Attr, ...] = (
    _Attr("product_range", "Range of products", "product", "Products and pricing",
          0.01, 3.95, 0.85, 3.70, 3.80, 0.00, 0.00),
    _Attr("fees", "Fees and charges", "product", "Products and pricing",
          0.09, 3.15, 1.00, 3.80, 3.45, -0.15, 0.00),
    _Attr("app_reliability", "Mobile app reliability", "product", "Digital banking",
          0.08, 3.55, 1.05, 4.20, 3.95, 0.30, -0.15),
    _Attr("interest_rates", "Interest rates", "product", "Products and pricing",
          0.02, 3.45, 0.90, 3.75, 3.60, 0.00, 0.00),
    _Attr("wait_time", "Waiting time", "process", "Speed and convenience",
          0.16, 3.05, 1.10, 4.00, 3.55, 0.20, 0.35),
    _Attr("ease_of_paperwork", "Ease of paperwork", "process", "Speed and convenience",
          0.01, 3.40, 0.95, 3.70, None, 0.00, 0.20),
    _Attr("problem_resolution", "Speed of problem resolution", "process", "Getting it right",
          0.36, 3.00, 1.05, 4.25, 3.40, 0.05, 0.00),
    _Attr("accuracy", "Accuracy of transactions", "process", "Getting it right",
          0.03, 4.25, 0.80, 4.40, None, 0.00, 0.00),
    _Attr("staff_courtesy", "Staff courtesy", "people", "Staff attitude",
          0.06, 4.05, 0.85, 3.95, 3.70, 0.00, -0.10),
    _Attr("staff_knowledge", "Staff knowledge", "people", "Staff competence",
          0.03, 3.75, 0.90, 3.90, None, 0.00, 0.00),
    _Attr("responsiveness", "Responsiveness", "people", "Staff attitude",
          0.31, 3.20, 1.05, 4.10, 3.50, 0.10, 0.00),
    _Attr("personal_attention", "Personal attention", "people", "Staff attitude",
          0.02, 3.50, 1.00, 3.60, None, 0.00, -0.25),
)
"""The 12 survey attributes with their true model parameters (see the module docstring):
``beta`` (driver weight), ``perf``/``perf_sd`` (performance latent location and SD),
``expect`` (expectation location), ``comp`` (competitor location or None), ``wave_shift``
(performance shift in 2026-H1) and ``digital_shift`` (performance shift for digital customers)."""

WAVES: tuple[str, ...] = ("2025-H2", "2026-H1")
WAVE_PROBS: tuple[float, ...] = (0.5, 0.5)
REGIONS: tuple[str, ...] = ("Hanoi", "Ho Chi Minh City", "Da Nang", "Can Tho")
REGION_PROBS: tuple[float, ...] = (0.33, 0.41, 0.15, 0.11)
"""Probability that a respondent comes from each region of :data:`REGIONS`."""
CHANNELS: tuple[str, ...] = ("branch", "digital")
DIGITAL_GIVEN_REGION: dict[str, float] = {
    "Hanoi": 0.62, "Ho Chi Minh City": 0.64, "Da Nang": 0.48, "Can Tho": 0.38}
"""Probability that a respondent of each region is a digital (rather than branch) customer."""
POPULATION: dict[str, dict[str, int]] = {
    "region": {"Hanoi": 52200, "Ho Chi Minh City": 75600, "Da Nang": 28800, "Can Tho": 23400},
    "channel": {"branch": 99000, "digital": 81000},
}

_CUTS = (1.5, 2.5, 3.5, 4.5)
# Latent attribute scores: z_a = loading_d f_d + sqrt(1 - loading_d^2) s_a for the attribute's
# dimension d, with dimension factors f_d = sqrt(phi) g + sqrt(1 - phi) h_d (corr(f_d, f_d') = phi).
_DIMENSIONS = ("product", "process", "people")
_LOADING = {"product": 0.74, "process": 0.76, "people": 0.78}
_FACTOR_CORR = 0.35
_PERF_REGION_SHIFT = {"Hanoi": 0.0, "Ho Chi Minh City": -0.05, "Da Nang": 0.10, "Can Tho": -0.20}
_Y_REGION = {"Hanoi": 0.0, "Ho Chi Minh City": -0.10, "Da Nang": 0.15, "Can Tho": -0.30}
_Y_CHANNEL = {"branch": 0.0, "digital": -0.10}
_Y_WAVE = {"2025-H2": 0.0, "2026-H1": 0.12}
_OVERALL_CUTS = (-2.1, -1.4, -0.55, 0.8)
_LAST_CONTACT = {"intercept": 0.1, "loading": 0.7, "noise_sd": math.sqrt(0.51)}
_RECOMMEND = {"location": 8.1, "scale": 1.7, "loading": 0.8, "noise_loading": 0.6}
_RECOMMEND_CUTS = tuple(k + 0.5 for k in range(10))
_REPEAT = {"intercept": 1.1, "slope": 0.9}
# Market indicators (1/0): item = 1 when a + b y + sqrt(1 - b^2) e > 0, e ~ N(0, 1), so that
# P(item = 1 | cell) = Phi(a + b m_cell) exactly (probit in the latent satisfaction y).
_MARKET_ITEMS: dict[str, dict[str, float]] = {
    "praise_us": {"intercept": -0.20, "loading": 0.60},
    "aware_unaided": {"intercept": 0.15, "loading": 0.25},
    "referred": {"intercept": -0.90, "loading": 0.50},
}
# Loyalty measures (1-5 agreement): latent loc + sd (b y + sqrt(1 - b^2) e), thresholded at _CUTS.
_LOYALTY_ITEMS: dict[str, dict[str, float]] = {
    "price_sensitivity": {"location": 3.30, "sd": 1.0, "loading": -0.45},
    "competitor_attitude": {"location": 3.00, "sd": 1.0, "loading": -0.50},
    "incident_tolerance": {"location": 3.10, "sd": 1.0, "loading": 0.55},
}
_LOYALTY_MISSING_RANGE = (0.01, 0.03)
# Response rate of the invitations per region, times a channel factor (10-30% in every cell).
_RESPONSE_RATE_REGION = {"Hanoi": 0.22, "Ho Chi Minh City": 0.17, "Da Nang": 0.26, "Can Tho": 0.13}
_RESPONSE_RATE_CHANNEL = {"branch": 1.15, "digital": 0.90}
# Company figures of the market block of study.yaml (SPEC §1.4 market indicators, loyalty).
_MARKET_FIGURES = {"sales_growth": 0.04, "customers": 180000, "customers_new": 21000, "customers_lost": 15300}
_EXPECT_SD = 0.80
_IMPORTANCE_SD = 0.85
_COMPETITOR_SD = 0.95
_IMPORTANCE_BASE, _IMPORTANCE_SLOPE = 3.55, 3.2
_MISSING_RANGE = (0.02, 0.04)
_COMMENT_RATE = 0.40
_COMMENT_LANGS = (("en", 0.75), ("vi", 0.15), ("zh", 0.10))
_SPEEDER_RATE = 0.03
_DURATION_MEDIAN, _DURATION_SDLOG, _DURATION_FLOOR = 420.0, 0.30, 165
_SPEEDER_RANGE = (30, 110)
_N_COMPLAINTS = 300
_N_COMPLAINT_CUSTOMERS = 255  # distinct complainants
_N_COMPLAINT_REPEAT_POOL = 60  # repeat complaints come from the first 60 of them
_COMPLAINT_VALID_P = 0.82
_N_LOST = 200
_FIELD_START, _FIELD_DAYS = date(2025, 7, 1), 365
_FIELD_END = _FIELD_START + timedelta(days=_FIELD_DAYS - 1)  # 2026-06-30, when the logs were extracted
_ROUND = 10  # decimals of every float in truth.json (stable across platforms)


# --------------------------------------------------------------------------- public API
def generate_sample(out_dir: str | Path, *, seed: int = SAMPLE_SEED, n: int = SAMPLE_N) -> Path:
    """Write a complete synthetic study (study.yaml + data + truth.json) into ``out_dir``.

    The study is a retail bank in Vietnam with 12 attributes in three dimensions, two waves,
    four regions and two channels; its generating model and the meaning of every number in
    ``truth.json`` are described in the module docstring (:mod:`csm_helpers.synthetic.sample`).
    The same ``seed`` and ``n`` give byte-identical files. Each file is written atomically
    (temporary file, then rename); other files in ``out_dir`` are left alone.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into; created when missing.
    seed : int
        Seed of ``numpy.random.default_rng`` (a non-negative integer); it is also written as
        ``seed:`` in ``study.yaml``.
    n : int
        Number of survey responses, at least :data:`MIN_N` (200).

    Returns
    -------
    Path
        The written ``study.yaml`` (load it with :func:`csm_helpers.study.config.load_study`).

    Raises
    ------
    CsmError
        When ``n`` is below 200 or not a whole number, ``seed`` is negative or not a whole
        number, or ``out_dir`` is an existing file.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = generate_sample(tmp, seed=1, n=200)
    ...     names = sorted(p.name for p in path.parent.iterdir())
    ...     responses = pd.read_csv(path.parent / "responses.csv", encoding="utf-8-sig")
    >>> names  # doctest: +NORMALIZE_WHITESPACE
    ['codebook.yaml', 'complaints.csv', 'goals.yaml', 'interviews.csv', 'lost_reasons.csv',
     'population.csv', 'responses.csv', 'study.yaml', 'truth.json']
    >>> len(responses), responses["overall_sat"].between(1, 5).all()
    (200, np.True_)
    >>> generate_sample(tmp, n=100)
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: generate_sample: n=100 is too few responses — the sample study needs n >= 200 (e.g. csm sample --n 2400)
    """
    n = _check_int(n, name="n", minimum=MIN_N,
                   fix=f"the sample study needs n >= {MIN_N} (e.g. csm sample --n 2400)",
                   what="is too few responses")
    seed = _check_int(seed, name="seed", minimum=0, fix="use a non-negative whole number, e.g. 20261123",
                      what="is not a valid seed")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CsmError(f"generate_sample: output folder {out} is an existing file — choose a folder "
                       "(it is created when missing)")
    out.mkdir(parents=True, exist_ok=True)

    # Seven independent streams; the sixth (market and loyalty items) and the seventh (the
    # dimension factors of the latent attribute scores) were added later, and
    # SeedSequence.spawn gives the earlier streams the same children as before.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    rng_resp, rng_personal, rng_comment, rng_complaint, rng_lost, rng_voice, rng_factor = streams

    responses, quality, latent_y = _responses(rng_resp, n, _dimension_factors(rng_factor, n))
    voice, voice_missing = _voice_items(rng_voice, latent_y)
    at = responses.columns.get_loc("repeat_12m") + 1
    for offset, col in enumerate(voice.columns):
        responses.insert(at + offset, col, voice[col])
    names, emails, phones = _personal(rng_personal, n)
    responses.insert(4, "customer_name", names)
    responses.insert(5, "email", emails)
    responses.insert(6, "phone", phones)
    responses["comment"] = _comments(rng_comment, responses)

    to_safe_csv(responses, out / "responses.csv")
    to_safe_csv(_interviews(), out / "interviews.csv")
    to_safe_csv(_population(n), out / "population.csv")
    to_safe_csv(_complaints(rng_complaint), out / "complaints.csv")
    to_safe_csv(_lost_customers(rng_lost), out / "lost_reasons.csv")
    _write_text(out / "codebook.yaml", _codebook_yaml(seed, n))
    _write_text(out / "goals.yaml", _goals_yaml(seed, n))
    _write_text(out / "truth.json", _truth_json(seed, n, quality, voice_missing))
    _write_text(out / "study.yaml", _study_yaml(seed, n))
    return out / "study.yaml"


def add_branch_column(study_path: str | Path, *, branches: int, seed: int = SAMPLE_SEED) -> Path:
    """Add a synthetic ``branch`` segment column with ``branches`` values to a sample study.

    For trying and timing ``csm batch`` on many segments: respondents are dealt to branches
    ``B01``, ``B02``, ... in a seeded random order, so every branch gets ``n // branches`` or
    one more respondent and no branch differs from another by design. ``branch`` is added to
    ``responses.segments`` in ``study.yaml``; no other file changes.

    Parameters
    ----------
    study_path : str or Path
        ``study.yaml`` written by :func:`generate_sample`.
    branches : int
        Number of branches, 2 to 9,999.
    seed : int
        Seed of the assignment.

    Returns
    -------
    Path
        ``study_path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = add_branch_column(generate_sample(tmp, n=200), branches=8)
    ...     counts = pd.read_csv(path.parent / "responses.csv", encoding="utf-8-sig")["branch"].value_counts()
    ...     segments = "segments: [region, channel, branch]" in path.read_text()
    >>> len(counts), counts.min(), counts.max(), segments
    (8, np.int64(25), np.int64(25), True)
    """
    branches = _check_int(branches, name="branches", minimum=2, fix="use 2 or more branches, e.g. 50",
                          what="is too few branches")
    if branches > 9999:
        raise CsmError(f"add_branch_column: branches={branches} is too many — use at most 9,999")
    path = Path(study_path)
    text = path.read_text(encoding="utf-8")
    if "segments: [region, channel]" not in text:
        raise CsmError(f"{path}: not a study written by csm sample (no 'segments: [region, channel]'), "
                       "or it has a branch column already")
    responses = path.parent / "responses.csv"
    data = pd.read_csv(responses, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    labels = np.random.default_rng(seed).permutation(np.arange(len(data)) % branches)
    width = len(str(branches))
    data.insert(int(data.columns.get_loc("channel")) + 1, "branch", [f"B{b + 1:0{width}d}" for b in labels])
    to_safe_csv(data, responses)
    _write_text(path, text.replace("segments: [region, channel]", "segments: [region, channel, branch]"))
    return path


def _check_int(value: Any, *, name: str, minimum: int, fix: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise CsmError(f"generate_sample: {name}={value!r} is not a whole number — {fix}")
    if value < minimum:
        raise CsmError(f"generate_sample: {name}={value} {what} — {fix}")
    return int(value)


def _write_text(path: Path, text: str) -> None:
    # Bytes, so that no platform translates line endings: the files are identical everywhere.
    write_bytes_atomic(path, unicodedata.normalize("NFC", text).encode("utf-8"))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- survey responses
def _item_names() -> dict[str, list[str]]:
    return {
        "perf": [f"perf_{a.id}" for a in ATTRIBUTES],
        "imp": [f"imp_{a.id}" for a in ATTRIBUTES],
        "exp": [f"exp_{a.id}" for a in ATTRIBUTES],
        "comp": [f"comp_{a.id}" for a in ATTRIBUTES if a.comp is not None],
    }


def _discretise(latent: np.ndarray, cuts: tuple[float, ...], low: int) -> np.ndarray:
    out = np.full(latent.shape, low, dtype=np.int64)
    for c in cuts:
        out += latent > c
    return out


def _importance_location(a: _Attr) -> float:
    return _IMPORTANCE_BASE + _IMPORTANCE_SLOPE * a.beta


def _dimension_factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n x 3`` standard normal dimension factors ``f_d = sqrt(phi) g + sqrt(1 - phi) h_d``
    (columns in the order of :data:`_DIMENSIONS`), so that ``corr(f_d, f_d') = phi``."""
    g = rng.standard_normal(n)
    h = rng.standard_normal((n, len(_DIMENSIONS)))
    return math.sqrt(_FACTOR_CORR) * g[:, None] + math.sqrt(1.0 - _FACTOR_CORR) * h


def _latent_scores(factors: np.ndarray, unique: np.ndarray) -> np.ndarray:
    """``z_a = loading_d f_d + sqrt(1 - loading_d^2) s_a``: standard normal, correlated within
    and (through the factors) across dimensions; element-wise arithmetic only (bit-stable)."""
    z = np.empty_like(unique)
    for j, a in enumerate(ATTRIBUTES):
        lam = _LOADING[a.dimension]
        z[:, j] = lam * factors[:, _DIMENSIONS.index(a.dimension)] + math.sqrt(1.0 - lam * lam) * unique[:, j]
    return z


def _responses(rng: np.random.Generator, n: int,
               factors: np.ndarray) -> tuple[pd.DataFrame, dict[str, Any], np.ndarray]:
    """The survey table without personal data and comments, the data-quality facts, and the
    latent overall satisfaction ``y`` of every respondent (for :func:`_voice_items`).

    ``factors`` are the dimension factors (:func:`_dimension_factors`, their own stream); the
    attribute-specific parts ``s_a`` of the latent scores are drawn here."""
    k = len(ATTRIBUTES)
    n_first = int(rng.binomial(n, WAVE_PROBS[0]))
    wave = np.r_[np.zeros(n_first, dtype=np.int64), np.ones(n - n_first, dtype=np.int64)]
    region = rng.choice(len(REGIONS), size=n, p=np.array(REGION_PROBS))
    p_digital = np.array([DIGITAL_GIVEN_REGION[r] for r in REGIONS])[region]
    digital = (rng.random(n) < p_digital).astype(np.int64)

    z = _latent_scores(factors, rng.standard_normal((n, k)))
    e_noise = rng.standard_normal((n, k))
    i_noise = rng.standard_normal((n, k))
    comp_attrs = [j for j, a in enumerate(ATTRIBUTES) if a.comp is not None]
    c_noise = rng.standard_normal((n, len(comp_attrs)))
    e_y, e_last, e_rec = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)
    u_repeat = rng.random(n)

    region_shift = np.array([_PERF_REGION_SHIFT[r] for r in REGIONS])[region]
    perf = np.empty((n, k), dtype=np.int64)
    expect = np.empty((n, k), dtype=np.int64)
    importance = np.empty((n, k), dtype=np.int64)
    for j, a in enumerate(ATTRIBUTES):
        loc = a.perf + a.wave_shift * wave + region_shift + a.digital_shift * digital
        perf[:, j] = _discretise(loc + a.perf_sd * z[:, j], _CUTS, 1)
        expect[:, j] = _discretise(a.expect + _EXPECT_SD * e_noise[:, j], _CUTS, 1)
        importance[:, j] = _discretise(_importance_location(a) + _IMPORTANCE_SD * i_noise[:, j], _CUTS, 1)
    comp = np.empty((n, len(comp_attrs)), dtype=np.int64)
    for m, j in enumerate(comp_attrs):
        comp[:, m] = _discretise(ATTRIBUTES[j].comp + _COMPETITOR_SD * c_noise[:, m], _CUTS, 1)

    # Latent overall satisfaction: element-wise sums only (no BLAS), so results are bit-stable.
    y = (np.array([_Y_REGION[r] for r in REGIONS])[region]
         + np.array([_Y_CHANNEL[c] for c in CHANNELS])[digital]
         + np.array([_Y_WAVE[w] for w in WAVES])[wave])
    for j, a in enumerate(ATTRIBUTES):
        y = y + a.beta * z[:, j]
    y = y + _residual_sd() * e_y
    overall = _discretise(y, _OVERALL_CUTS, 1)
    last = _discretise(_LAST_CONTACT["intercept"] + _LAST_CONTACT["loading"] * y
                       + _LAST_CONTACT["noise_sd"] * e_last, _OVERALL_CUTS, 1)
    rec_latent = _RECOMMEND["location"] + _RECOMMEND["scale"] * (
        _RECOMMEND["loading"] * y + _RECOMMEND["noise_loading"] * e_rec)
    recommend = _discretise(rec_latent, _RECOMMEND_CUTS, 0)
    p_repeat = 1.0 / (1.0 + np.exp(-(_REPEAT["intercept"] + _REPEAT["slope"] * y)))
    repeat = (u_repeat < p_repeat).astype(np.int64)

    # Items missing completely at random, one rate per item.
    items = _item_names()
    all_items = items["perf"] + items["imp"] + items["exp"] + items["comp"]
    rates = rng.uniform(*_MISSING_RANGE, size=len(all_items))
    missing = rng.random((n, len(all_items))) < rates

    # Durations: lognormal with a floor; speeders far below a third of the median.
    duration = np.maximum(np.rint(rng.lognormal(math.log(_DURATION_MEDIAN), _DURATION_SDLOG, n)),
                          _DURATION_FLOOR).astype(np.int64)
    speeder = rng.random(n) < _SPEEDER_RATE
    duration[speeder] = rng.integers(_SPEEDER_RANGE[0], _SPEEDER_RANGE[1] + 1, size=int(speeder.sum()))

    # Straight-liners: every performance answer replaced by one value.
    n_straight = max(3, round(n / 240))
    straight = np.sort(rng.choice(n, size=n_straight, replace=False))
    straight_value = rng.choice(np.array([3, 4, 5]), size=n_straight, p=[0.25, 0.45, 0.30])
    perf[straight, :] = straight_value[:, None]
    missing[straight, :k] = False

    width = max(5, len(str(n)))
    ids = [f"R{i + 1:0{width}d}" for i in range(n)]
    df = pd.DataFrame({
        "respondent_id": ids,
        "wave": np.array(WAVES, dtype=object)[wave],
        "region": np.array(REGIONS, dtype=object)[region],
        "channel": np.array(CHANNELS, dtype=object)[digital],
        "duration_s": duration,
    })
    blocks = np.concatenate([perf, importance, expect, comp], axis=1)
    for m, col in enumerate(all_items):
        df[col] = pd.arrays.IntegerArray(blocks[:, m].copy(), missing[:, m].copy())
    df["overall_sat"] = overall
    df["sat_last_contact"] = last
    df["recommend"] = recommend
    df["repeat_12m"] = repeat

    perf_frame = df[items["perf"]]
    answered = perf_frame.notna().sum(axis=1)
    zero_var = perf_frame.nunique(axis=1, dropna=True).eq(1) & answered.ge(5)
    quality = {
        "straight_liners": [ids[i] for i in np.flatnonzero(zero_var.to_numpy())],
        "speeders": [ids[i] for i in np.flatnonzero(speeder)],
        "missing_rate": {col: float(r) for col, r in zip(all_items, rates, strict=True)},
    }
    return df, quality, y


def _voice_items(rng: np.random.Generator, y: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Market-indicator (1/0) and loyalty (1-5) items, driven by the latent satisfaction ``y``.

    Drawn from their own stream, so the columns of :func:`_responses` do not depend on them.
    The loyalty items are missing completely at random at a per-item rate of 1-3%.
    """
    n = len(y)
    out = pd.DataFrame(index=range(n))
    for col, par in _MARKET_ITEMS.items():
        b = par["loading"]
        latent = par["intercept"] + b * y + math.sqrt(1.0 - b * b) * rng.standard_normal(n)
        out[col] = (latent > 0).astype(np.int64)
    rates = rng.uniform(*_LOYALTY_MISSING_RANGE, size=len(_LOYALTY_ITEMS))
    for (col, par), rate in zip(_LOYALTY_ITEMS.items(), rates, strict=True):
        b = par["loading"]
        latent = par["location"] + par["sd"] * (b * y + math.sqrt(1.0 - b * b) * rng.standard_normal(n))
        values = _discretise(latent, _CUTS, 1)
        out[col] = pd.arrays.IntegerArray(values, rng.random(n) < rate)
    return out, {col: float(r) for col, r in zip(_LOYALTY_ITEMS, rates, strict=True)}


def _latent_corr(a: _Attr, b: _Attr) -> float:
    """``corr(z_a, z_b)``: ``loading_d loading_d'`` times 1 (same dimension) or ``phi``."""
    if a.id == b.id:
        return 1.0
    same = a.dimension == b.dimension
    return _LOADING[a.dimension] * _LOADING[b.dimension] * (1.0 if same else _FACTOR_CORR)


def _latent_r2() -> float:
    """``Var(sum_a beta_a z_a) = beta' R_zz beta``: the latent R^2 of ``y`` within a cell."""
    return sum(a.beta * b.beta * _latent_corr(a, b) for a in ATTRIBUTES for b in ATTRIBUTES)


def _residual_sd() -> float:
    return math.sqrt(1.0 - _latent_r2())


# --------------------------------------------------------------------------- personal data
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
           "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
_FAMILY_P = (0.38, 0.11, 0.095, 0.07, 0.05, 0.04, 0.045, 0.039, 0.03, 0.021, 0.02, 0.02, 0.013,
             0.013, 0.01, 0.034)
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Quang", "Thu", "Anh", "Hoài", "Kim")
_GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
          "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quân", "Sơn", "Tâm",
          "Thảo", "Thắng", "Trang", "Tuấn", "Vân", "Yến", "Đạt", "Ánh")
_DOMAINS = ("example.com", "example.net", "example.org")


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _personal(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[str]]:
    """Fake names, e-mail addresses (reserved example domains) and Vietnamese mobile numbers."""
    fam = rng.choice(len(_FAMILY), size=n, p=np.array(_FAMILY_P) / sum(_FAMILY_P))
    mid = rng.integers(0, len(_MIDDLE), size=n)
    giv = rng.integers(0, len(_GIVEN), size=n)
    num = rng.integers(1, 100, size=n)
    dom = rng.integers(0, len(_DOMAINS), size=n)
    style = rng.integers(0, 3, size=n)
    prefix = rng.choice(np.array(["090", "091", "093", "094", "096", "097", "098", "086", "088", "070"]),
                        size=n)
    rest = rng.integers(0, 10_000_000, size=n)
    names, emails, phones = [], [], []
    for i in range(n):
        f, m, g = _FAMILY[fam[i]], _MIDDLE[mid[i]], _GIVEN[giv[i]]
        names.append(_nfc(f"{f} {m} {g}"))
        fa, ma, ga = _ascii(f).lower(), _ascii(m).lower(), _ascii(g).lower()
        local = (f"{ga}.{fa}{num[i]}", f"{fa}{ma}{ga}{num[i]}", f"{ga}{fa[0]}{ma[0]}.{num[i]}")[style[i]]
        emails.append(f"{local}@{_DOMAINS[dom[i]]}")
        digits = f"{prefix[i]}{rest[i]:07d}"
        phones.append(f"{digits[:4]} {digits[4:7]} {digits[7:]}")
    return names, emails, phones


# --------------------------------------------------------------------------- comments
# Per attribute and language: (positive phrases, negative phrases). Each phrase mentions its
# attribute with words that codebook.yaml catches, and no other attribute.
_PHRASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "product_range": {
        "en": (("Good range of products, I found the savings products I needed.",
                "The choice of products is wide enough for my family."),
               ("The product range is limited compared with other banks.",
                "Few savings products and no good credit card options.")),
        "vi": (("Ngân hàng có nhiều sản phẩm phù hợp với gia đình tôi.",),
               ("Sản phẩm còn ít, không có gói tiết kiệm linh hoạt.",)),
        "zh": (("产品种类很多，选择方便。",), ("产品太少了，理财选择不多。",)),
    },
    "fees": {
        "en": (("Fees are reasonable and there are no hidden charges.",
                "Fees & charges are fair for what I use."),
               ("The fees are too high, I pay a transfer fee every month.",
                "Too many service charges for basic things.")),
        "vi": (("Mức phí hợp lý.",), ("Phí dịch vụ quá cao.", "Chi phí chuyển tiền đắt hơn ngân hàng khác.")),
        "zh": (("手续费合理。",), ("收费太高，每年还有年费。",)),
    },
    "app_reliability": {
        "en": (("The mobile app works well and I rarely need to visit.",
                "Online banking is fast and reliable."),
               ("The app crashed twice when I tried to pay bills.",
                "I often cannot log in to the mobile app.")),
        "vi": (("Ứng dụng chạy ổn định, rất tiện.",), ("Ứng dụng hay bị lỗi, không đăng nhập được.",)),
        "zh": (("手机银行很好用。",), ("手机银行经常闪退，登录不了。",)),
    },
    "interest_rates": {
        "en": (("Interest rates on my savings are competitive.",),
               ("The deposit rate is lower than at other banks.",
                "Loan rates went up again without warning.")),
        "vi": (("Lãi suất tiết kiệm tốt.",), ("Lãi suất vay quá cao.",)),
        "zh": (("存款利率不错。",), ("利率太低，不如别的银行。",)),
    },
    "wait_time": {
        "en": (("No waiting at the branch, I was served in 5 minutes.",
                "Short queue and quick service."),
               ("I waited 40 minutes at the counter.",
                "The queue at the branch is always long.")),
        "vi": (("Không phải chờ đợi lâu.",), ("Phải xếp hàng gần một tiếng.", "Thời gian chờ quá lâu.")),
        "zh": (("不用排队，很快。",), ("排队等了四十分钟。",)),
    },
    "ease_of_paperwork": {
        "en": (("Opening the account took very little paperwork.",),
               ("Too much paperwork and too many forms to sign.",
                "They asked for the same documents three times.")),
        "vi": (("Thủ tục đơn giản, nhanh gọn.",), ("Giấy tờ quá nhiều, thủ tục rườm rà.",)),
        "zh": (("填表很简单。",), ("要填很多表格，材料太繁琐。",)),
    },
    "problem_resolution": {
        "en": (("When I had a problem they resolved it the same day.",),
               ("My complaint is still not resolved after two weeks.",
                "Nobody could resolve my card problem.")),
        "vi": (("Vấn đề của tôi được giải quyết nhanh.",), ("Khiếu nại hai tuần vẫn chưa được giải quyết.",)),
        "zh": (("问题很快就解决了。",), ("投诉两周了还没有解决。",)),
    },
    "accuracy": {
        "en": (("Transactions are always accurate.",),
               ("There was an error on my statement.",
                "I was debited twice for one payment, a mistake by the bank.")),
        "vi": (("Giao dịch luôn chính xác.",), ("Tài khoản bị trừ tiền hai lần do nhầm lẫn.",)),
        "zh": (("交易很准确。",), ("转账出错，扣了两次钱。",)),
    },
    "staff_courtesy": {
        "en": (("The staff are always polite and friendly.",),
               ("The teller was rude to my mother.", "Staff at the counter are not polite.")),
        "vi": (("Nhân viên lịch sự, thân thiện.",), ("Nhân viên thô lỗ, cáu gắt với khách.",)),
        "zh": (("工作人员很有礼貌，态度很好。",), ("柜员态度很差。",)),
    },
    "staff_knowledge": {
        "en": (("The adviser was knowledgeable and explained everything clearly.",),
               ("Staff could not explain the difference between accounts.",
                "The adviser lacked basic knowledge of the loan conditions.")),
        "vi": (("Nhân viên có chuyên môn, tư vấn rõ ràng.",), ("Nhân viên không nắm rõ quy định, tư vấn sai.",)),
        "zh": (("柜员很专业，讲得很清楚。",), ("员工业务知识不够。",)),
    },
    "responsiveness": {
        "en": (("They respond quickly to emails and calls.", "Staff called back the same day."),
               ("Nobody called back, staff seemed indifferent.",
                "I sent three emails and never got a reply.")),
        "vi": (("Phản hồi nhanh qua tổng đài.",), ("Gọi tổng đài không ai trả lời, nhân viên thờ ơ.",)),
        "zh": (("客服回复很快。",), ("打电话没人回复，员工很冷漠。",)),
    },
    "personal_attention": {
        "en": (("My relationship manager knew my name and my needs.",
                "They give personal attention to older customers."),
               ("No personal attention, I feel like a number.",)),
        "vi": (("Nhân viên rất chu đáo, tận tình.",), ("Không được chăm sóc chu đáo như trước.",)),
        "zh": (("服务很贴心，有专属客户经理。",), ("没有人关心我们这些老客户。",)),
    },
}
_OPENERS = {
    "en": {"pos": ("", "", "Happy overall. ", "Good bank. ", "Thank you. "),
           "neg": ("", "", "Disappointed. ", "Not happy. ", "Please improve. "),
           "mix": ("", "Mixed experience. ")},
    "vi": {"pos": ("", "Hài lòng. "), "neg": ("", "Không hài lòng. "), "mix": ("",)},
    "zh": {"pos": ("", "总体满意。"), "neg": ("", "不太满意。"), "mix": ("",)},
}
_JOIN = {"en": " ", "vi": " ", "zh": ""}


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _comments(rng: np.random.Generator, data: pd.DataFrame) -> list[str]:
    """Free-text comments whose attribute and sentiment follow the respondent's ratings."""
    n = len(data)
    has = rng.random(n) < _COMMENT_RATE
    langs = rng.choice(np.array([lang for lang, _ in _COMMENT_LANGS]), size=n,
                       p=np.array([p for _, p in _COMMENT_LANGS]))
    perf = data[[f"perf_{a.id}" for a in ATTRIBUTES]].to_numpy(dtype="float64", na_value=np.nan)
    overall = data["overall_sat"].to_numpy()
    out: list[str] = []
    for i in range(n):
        if not has[i]:
            out.append("")
            continue
        lang = str(langs[i])
        row = perf[i]
        answered = np.flatnonzero(~np.isnan(row))
        hi_val, lo_val = row[answered].max(), row[answered].min()
        best = answered[row[answered] == hi_val]
        worst = answered[row[answered] == lo_val]
        a_best = ATTRIBUTES[int(rng.choice(best))].id
        a_worst = ATTRIBUTES[int(rng.choice(worst))].id
        second = rng.random() < 0.25
        # A positive phrase only for an attribute rated 4-5, a negative one only for 1-3; the
        # overall rating decides which of the two the comment is about (both when it is 3).
        can_praise, can_blame = hi_val >= 4, lo_val <= 3
        if overall[i] >= 4:
            moods = ["pos"] if can_praise else ["neg"]
        elif overall[i] <= 2:
            moods = ["neg"] if can_blame else ["pos"]
        else:
            moods = [m for m, ok in (("pos", can_praise), ("neg", can_blame)) if ok]
        parts = []
        for m in moods:
            chosen, pool = (a_best, best) if m == "pos" else (a_worst, worst)
            parts.append(_pick(rng, _PHRASES[chosen][lang][0 if m == "pos" else 1]))
            others = [ATTRIBUTES[j].id for j in pool if ATTRIBUTES[j].id != chosen]
            if len(moods) == 1 and second and others:
                extra = others[int(rng.integers(0, len(others)))]
                parts.append(_pick(rng, _PHRASES[extra][lang][0 if m == "pos" else 1]))
        mood = moods[0] if len(moods) == 1 else "mix"
        out.append(_nfc(_pick(rng, _OPENERS[lang][mood]) + _JOIN[lang].join(parts)))
    return out


# --------------------------------------------------------------------------- discovery
# (source group, language, notes, manual codes). Fixed text: discovery does not depend on the seed.
_INTERVIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("executive", "en",
     "Interview with the retail director. She believes customers choose us for our interest rates and "
     "for the range of products, especially the new savings products for young families. The mobile app "
     "is the flagship of the digital strategy and she expects it to win market share. She thinks fees are "
     "in line with the market and are rarely a reason to leave.", ""),
    ("executive", "en",
     "Head of products. Our advantage is the product range: more account types than the regional "
     "competitors and flexible loan products. He would like the survey to ask about deposit rates and "
     "whether customers compare our interest rate with other banks. He says branch staff need more product "
     "knowledge to sell the premium accounts.", ""),
    ("employee", "en",
     "Focus group with six tellers in Hanoi. They say customers mostly ask about interest rates and which "
     "savings products to choose, and they feel they need more expertise on the new loan products. Older "
     "customers come to the counter when the mobile app asks them to log in again. On Mondays the queue "
     "reaches the door.", ""),
    ("customer", "en",
     "Small-business owner, Ho Chi Minh City. He waited almost an hour to deposit cash last month. When he "
     "rang the hotline about it, nobody called back. He adds that the tellers themselves are polite; it is "
     "the system that is slow.", ""),
    ("customer", "vi",
     "Khách hàng nữ, 45 tuổi, Cần Thơ. Chị phải xếp hàng gần một tiếng để mở sổ tiết kiệm. Thủ tục có quá "
     "nhiều giấy tờ, phải ký năm chữ ký. Chị cũng thấy phí dịch vụ SMS hơi cao so với ngân hàng khác.", ""),
    ("lost_customer", "en",
     "Former customer who moved his salary account to another bank. A card problem took three weeks to "
     "resolve and he had to tell the story again at every visit. The clerk at the desk kept chatting with "
     "a colleague while he stood there, and the manager was rude when he asked to see someone senior.",
     "responsiveness"),
    ("customer", "en",
     "Young professional who only banks online. The banking app crashed during a transfer and she could "
     "not tell whether the money had left. It took two calls to get the problem resolved. She would pay a "
     "small fee for instant transfers if the app were reliable.", ""),
    ("employee", "vi",
     "Thảo luận nhóm với nhân viên tư vấn tại Đà Nẵng. Theo họ, khách hàng coi trọng nhất là lãi suất và sự "
     "đa dạng của sản phẩm. Họ cho rằng thủ tục vay vốn còn phức tạp vì quy định của hội sở.", ""),
    ("competitor_customer", "en",
     "Customer of a competing bank. He chose them because there are no fees for transfers and their mobile "
     "app lets him open a term deposit in two minutes. Their savings rate is slightly higher. At our branch "
     "he once waited twenty minutes only to ask a question.", ""),
    ("customer", "zh",
     "退休教师，河内。她每次去网点都要排队，有时候等了一个多小时。柜员态度还可以，但是打客服电话总是没人回复。", ""),
    ("executive", "zh",
     "分行行长访谈。他认为客户最看重利率和产品种类，手机银行是未来三年的重点。他希望问卷重点了解客户对新理财产品的看法。", ""),
    ("customer", "en",
     "Retired couple, Da Nang. They value personal attention: the old relationship manager knew their "
     "names and phoned before a deposit matured. The new adviser is young and not very knowledgeable, and "
     "their emails get no reply for days.", ""),
    ("lost_customer", "vi",
     "Cựu khách hàng ở TP. Hồ Chí Minh. Anh bị tính chi phí sai nhưng khiếu nại ba lần không ai trả lời. "
     "Nhân viên thờ ơ nên anh chuyển sang ngân hàng khác.", ""),
    ("customer", "en",
     "Factory worker, Can Tho. He can only come after his shift, so he always meets a long queue. Opening "
     "a savings account needed paperwork he had to bring twice. The staff were friendly and apologised.", ""),
    ("employee", "en",
     "Branch managers' workshop. Managers rank competitive interest rates first and a wide choice of "
     "products second. They admit fees are hard to justify at the counter and that staff are courteous but "
     "stretched.", ""),
    ("customer", "en",
     "Shop owner, Hanoi. A card payment was debited twice and it took a month to resolve. She says the "
     "error itself is forgivable; what annoyed her was that the call centre never responded to her emails.",
     "accuracy;problem_resolution"),
    ("competitor_customer", "zh",
     "某外资银行客户，胡志明市。她说那家银行的手机银行从来不闪退，转账不收费。在我们的网点办事要排队很久。", ""),
    ("customer", "vi",
     "Khách hàng lớn tuổi ở Hà Nội. Bà rất hài lòng vì nhân viên thân thiện, chu đáo và luôn quan tâm hỏi "
     "thăm. Điều bà không thích là phải chờ đợi ở quầy vào đầu tháng.", ""),
    ("employee", "en",
     "Call-centre team leads. Most calls are about interest rates on new deposits and about the mobile app "
     "after each update. They can log a complaint but cannot resolve it themselves; it goes to head "
     "office.", ""),
    ("lost_customer", "en",
     "Former premium customer. After her relationship manager left, nobody cared: she waited weeks for "
     "answers about a mortgage. She said the bank was indifferent to a customer of fifteen years.",
     "personal_attention;responsiveness"),
    ("customer", "en",
     "Office worker, Ho Chi Minh City. She checks every statement because of an annual fee that was taken "
     "by mistake last year. Otherwise online banking is convenient.", ""),
    ("competitor_customer", "en",
     "Customer of a competitor bank who also holds a card with us. Her bank's branch is open on Saturday "
     "morning and she never waits more than 10 minutes. Staff there remember her and give personal "
     "service; here she feels nobody responds unless she writes twice.", ""),
    ("customer", "zh",
     "个体户，岘港。贷款申请要交很多材料，表格填了三次。后来有问题投诉，客服一直没有回复，最后也没有解决。", ""),
    ("executive", "en",
     "Chief executive. He sees the bank as the product leader in the region and wants the survey to "
     "confirm that customers value the product range and our interest rates. He believes staff are "
     "courteous and knowledgeable and that service is not a weakness.", ""),
    ("customer", "en",
     "Teacher, Hanoi. Waiting time at her branch is the main frustration, although the staff smile and are "
     "polite. A blocked debit card was sorted out quickly once she reached the right person.", ""),
    ("lost_customer", "zh",
     "前客户，芹苴。他说账户管理费太高，投诉以后员工很冷漠，问题一直没人处理，所以把钱转到别的银行了。", ""),
    ("employee", "vi",
     "Phỏng vấn giao dịch viên tại Hà Nội. Họ nói khách hỏi nhiều nhất về lãi suất và sản phẩm mới, nhân "
     "viên cần được đào tạo thêm để am hiểu sản phẩm. Cuối tháng khách phải xếp hàng lâu.", ""),
    ("customer", "vi",
     "Kỹ sư trẻ ở TP. Hồ Chí Minh. Giờ mở cửa của chi nhánh trùng giờ làm việc nên anh phải xin nghỉ để đến "
     "ngân hàng, rồi lại phải chờ đợi. Gửi email hỏi thì hai ngày sau mới có phản hồi.", ""),
    ("competitor_customer", "en",
     "Customer of a foreign bank. She moved her savings there for a better deposit rate and a mobile app "
     "that never crashes. She misses the personal attention she used to get from us.", ""),
    ("customer", "en",
     "Retired engineer, Da Nang. He disputed a service charge and the promised call back never came; the "
     "complaint was closed without a resolution.", ""),
    ("lost_customer", "en",
     "Former customer, Can Tho. Long queues every visit, a rude guard at the door, and tellers who seemed "
     "indifferent to elderly customers. She now banks with a competitor near her home.",
     "staff_courtesy;responsiveness;wait_time"),
    ("customer", "en",
     "IT specialist, Hanoi. He uses the mobile app daily and finds it fast, but once the balance shown was "
     "not accurate. Paper forms at the branch feel outdated.", ""),
    ("competitor_customer", "vi",
     "Khách hàng của ngân hàng đối thủ ở Đà Nẵng. Chị chọn họ vì mức phí thấp, không phải chờ đợi và nhân "
     "viên chăm sóc khách rất tận tình.", ""),
    ("customer", "zh",
     "大学生，河内。排队时间太长，工作人员也不太热情。在网上留言一个星期都没有回应。", ""),
    ("customer", "en",
     "Family with two children, Ho Chi Minh City. They like the range of products for children's savings "
     "but want fees explained up front. When a transfer failed, a relationship manager resolved it "
     "personally.", ""),
    ("lost_customer", "en",
     "Former business customer. Every problem meant another visit and another wait at the counter, and "
     "emails got no response. He left when a simple complaint was not resolved in a month.", ""),
)
_INTERVIEW_START = date(2025, 5, 5)
_INTERVIEW_GAPS = (2, 1, 3, 2, 4, 1, 2, 3)


def _interviews() -> pd.DataFrame:
    """The discovery interviews (fixed text; dates increase in the order of discovery)."""
    rows = []
    day = _INTERVIEW_START
    for i, (group, lang, text, codes) in enumerate(_INTERVIEWS):
        if i:
            day += timedelta(days=_INTERVIEW_GAPS[(i - 1) % len(_INTERVIEW_GAPS)])
        rows.append({"interview_id": f"I{i + 1:02d}", "source_group": group, "date": day.isoformat(),
                     "language": lang, "text": _nfc(text), "codes": codes})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- other tables
def _cell_response_rate(region: str, channel: str) -> float:
    return _RESPONSE_RATE_REGION[region] * _RESPONSE_RATE_CHANNEL[channel]


def _invited(n: int) -> dict[str, dict[str, int]]:
    """Invitations per segment value: per region x channel cell, the expected number of
    respondents divided by the cell's response rate (rounded), summed over the other segment;
    capped at the population size (reached only for n above about 23,000)."""
    cells = {}
    for r, pr in zip(REGIONS, REGION_PROBS, strict=True):
        pdig = DIGITAL_GIVEN_REGION[r]
        for c, pc in (("branch", 1.0 - pdig), ("digital", pdig)):
            cells[(r, c)] = round(n * pr * pc / _cell_response_rate(r, c))
    invited = {"region": {r: sum(v for (rr, _), v in cells.items() if rr == r) for r in REGIONS},
               "channel": {c: sum(v for (_, cc), v in cells.items() if cc == c) for c in CHANNELS}}
    return {seg: {v: min(k, POPULATION[seg][v]) for v, k in vals.items()} for seg, vals in invited.items()}


def _population(n: int) -> pd.DataFrame:
    invited = _invited(n)
    rows = [{"segment": seg, "value": value, "population": size, "invited": invited[seg][value]}
            for seg, sizes in POPULATION.items() for value, size in sizes.items()]
    return pd.DataFrame(rows)


_COMPLAINT_CATEGORIES = ("fees", "waiting time", "app outage", "staff attitude", "transaction error",
                         "paperwork", "interest rates", "other")
_COMPLAINT_P = (0.22, 0.18, 0.17, 0.15, 0.12, 0.07, 0.05, 0.04)
_COMPLAINT_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "fees": {"en": ("Charged a fee for a transfer that should be free.",
                    "Annual card fee debited without notice.",
                    "Asks for a refund of the SMS service charge."),
             "vi": ("Bị thu phí chuyển khoản không đúng.",), "zh": ("转账被多收了手续费。",)},
    "waiting time": {"en": ("Waited over an hour at the branch to withdraw savings.",
                            "Queue at the counter with only one teller open."),
                     "vi": ("Chờ đợi hơn một tiếng tại quầy.",), "zh": ("在网点排队等了一个多小时。",)},
    "app outage": {"en": ("Mobile app down on salary day, could not pay bills.",
                          "App crashed at login three times."),
                   "vi": ("Ứng dụng không đăng nhập được cả ngày.",), "zh": ("手机银行一整天无法登录。",)},
    "staff attitude": {"en": ("Teller was rude and refused to explain the form.",
                              "Staff ignored the customer for ten minutes at the desk."),
                       "vi": ("Nhân viên thái độ không lịch sự.",), "zh": ("柜员态度很差。",)},
    "transaction error": {"en": ("Card payment debited twice.",
                                 "Transfer credited to the wrong account."),
                          "vi": ("Giao dịch bị trừ tiền hai lần.",), "zh": ("同一笔交易扣了两次钱。",)},
    "paperwork": {"en": ("Asked to bring the same documents again for a loan.",
                         "Too many forms to close an account."),
                  "vi": ("Thủ tục vay quá nhiều giấy tờ.",), "zh": ("贷款要交的材料太多。",)},
    "interest rates": {"en": ("Deposit rate lowered at renewal without notice.",
                              "Promised interest rate not applied."),
                       "vi": ("Lãi suất không đúng như đã cam kết.",), "zh": ("到期续存时利率被调低，没有通知。",)},
    "other": {"en": ("ATM out of cash all weekend.", "Statement sent to an old address."),
              "vi": ("Cây ATM hết tiền cuối tuần.",), "zh": ("周末ATM没有现金。",)},
}
_TEXT_LANGS = (("en", 0.78), ("vi", 0.14), ("zh", 0.08))


def _customer_ids(rng: np.random.Generator, size: int) -> list[str]:
    numbers = rng.choice(900_000, size=size, replace=False) + 100_000
    return [f"CU{x}" for x in numbers]


def _text_lang(rng: np.random.Generator) -> str:
    return str(rng.choice(np.array([lang for lang, _ in _TEXT_LANGS]), p=[p for _, p in _TEXT_LANGS]))


def _complaints(rng: np.random.Generator) -> pd.DataFrame:
    """A complaint log of one year (SPEC §1.4): categories, validity, resolution time, outcome."""
    n = _N_COMPLAINTS
    unique = _customer_ids(rng, _N_COMPLAINT_CUSTOMERS)
    repeats = [unique[int(i)] for i in rng.integers(0, _N_COMPLAINT_REPEAT_POOL, size=n - len(unique))]
    customers = unique + repeats
    customers = [customers[int(i)] for i in rng.permutation(n)]
    received_day = np.sort(rng.integers(0, _FIELD_DAYS, size=n))
    rows = []
    for i in range(n):
        category = str(rng.choice(np.array(_COMPLAINT_CATEGORIES), p=np.array(_COMPLAINT_P)))
        region = str(rng.choice(np.array(REGIONS), p=[0.30, 0.42, 0.15, 0.13]))
        channel = "digital" if category == "app outage" or rng.random() < 0.4 else "branch"
        received = _FIELD_START + timedelta(days=int(received_day[i]))
        incident = received - timedelta(days=int(rng.integers(0, 6)))
        valid = "yes" if rng.random() < _COMPLAINT_VALID_P else "no"
        sla = 3 if category == "transaction error" else 7
        days = int(np.ceil(rng.gamma(2.0, 3.2 if valid == "yes" else 1.5)))
        # The log is extracted on the last day of the year: later resolutions are still open,
        # and about 1% of complaints are stuck open whenever they came in.
        resolved_on = received + timedelta(days=days)
        stuck = rng.random() < 0.01
        open_case = stuck or resolved_on > _FIELD_END
        resolved = "" if open_case else resolved_on.isoformat()
        outcome = ""
        if not open_case and valid == "yes" and rng.random() < 0.85:
            probs = [0.62, 0.22, 0.16] if days <= sla else [0.28, 0.30, 0.42]
            outcome = str(rng.choice(np.array(["satisfied", "neutral", "dissatisfied"]), p=probs))
        lang = _text_lang(rng)
        rows.append({
            "date": incident.isoformat(), "customer_id": customers[i], "region": region,
            "channel": channel, "category": category, "valid": valid,
            "received": received.isoformat(), "resolved": resolved, "sla_days": sla,
            "outcome": outcome,
            "description": _nfc(_pick(rng, _COMPLAINT_TEXT[category][lang])),
        })
    df = pd.DataFrame(rows)
    df.insert(0, "complaint_id", [f"C{i + 1:04d}" for i in range(n)])
    return df


_LOST_REASONS = ("died", "moved_away", "other_relationships", "competitor", "product_dissatisfaction",
                 "staff_indifference")
_LOST_P = (0.02, 0.06, 0.07, 0.17, 0.20, 0.48)
_LOST_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "died": {"en": ("Account closed by the family after the customer passed away.",),
             "vi": ("Gia đình đóng tài khoản sau khi khách hàng qua đời.",), "zh": ("客户去世后由家属销户。",)},
    "moved_away": {"en": ("Moved to another province, no branch nearby.",),
                   "vi": ("Chuyển đến tỉnh khác, không có chi nhánh gần nhà.",), "zh": ("搬到外省，附近没有网点。",)},
    "other_relationships": {"en": ("Employer pays salaries through another bank.",
                                   "Son works at another bank and moved the accounts there."),
                            "vi": ("Con gái làm ở ngân hàng khác nên chuyển tài khoản.",),
                            "zh": ("朋友在别的银行工作，所以转过去了。",)},
    "competitor": {"en": ("Better deposit rate offered by a competitor.",
                          "Competitor app is faster and has no transfer fees."),
                   "vi": ("Ngân hàng khác cho lãi suất cao hơn.",), "zh": ("别的银行利率更高。",)},
    "product_dissatisfaction": {"en": ("Card fees too high for what you get.",
                                       "App kept failing, could not rely on it."),
                                "vi": ("Ứng dụng hay lỗi, phí dịch vụ cao.",),
                                "zh": ("手机银行经常出问题，手续费也贵。",)},
    "staff_indifference": {"en": ("Nobody at the branch cared about my problem.",
                                  "Staff ignored my calls and emails for weeks.",
                                  "Complaint not resolved, nobody called back."),
                           "vi": ("Nhân viên thờ ơ, gọi không ai trả lời.",),
                           "zh": ("员工态度冷漠，问题没人管。",)},
}


def _lost_customers(rng: np.random.Generator) -> pd.DataFrame:
    """Closed accounts with the main reason for leaving (SPEC §1.4, "why customers leave")."""
    n = _N_LOST
    ids = _customer_ids(rng, n)
    days = np.sort(rng.integers(0, _FIELD_DAYS, size=n))
    rows = []
    for i in range(n):
        reason = str(rng.choice(np.array(_LOST_REASONS), p=np.array(_LOST_P)))
        region = str(rng.choice(np.array(REGIONS), p=[0.28, 0.40, 0.14, 0.18]))
        comment = ""
        if rng.random() < 0.7:
            comment = _nfc(_pick(rng, _LOST_TEXT[reason][_text_lang(rng)]))
        rows.append({"customer_id": ids[i], "region": region,
                     "closed_date": (_FIELD_START + timedelta(days=int(days[i]))).isoformat(),
                     "reason": reason, "comment": comment})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- truth
def _cells() -> list[tuple[str, str, str, float]]:
    """Every (wave, region, channel) cell with its generating probability."""
    out = []
    for w, pw in zip(WAVES, WAVE_PROBS, strict=True):
        for r, pr in zip(REGIONS, REGION_PROBS, strict=True):
            pdig = DIGITAL_GIVEN_REGION[r]
            for c, pc in (("branch", 1.0 - pdig), ("digital", pdig)):
                out.append((w, r, c, pw * pr * pc))
    return out


def _mean_rating(location: float, sd: float, cuts: tuple[float, ...], low: float) -> float:
    """Mean of ``low + #{k: X > cuts_k}`` for ``X ~ N(location, sd^2)``."""
    return low + sum(float(ndtr((location - c) / sd)) for c in cuts)


def _mixture_mean(loc_of_cell: Any, sd: float, cuts: tuple[float, ...], low: float,
                  where: Any = None) -> float:
    cells = [cell for cell in _cells() if where is None or where(cell)]
    total = sum(p for *_, p in cells)
    return sum(p * _mean_rating(loc_of_cell(w, r, c), sd, cuts, low) for w, r, c, p in cells) / total


def _perf_location(a: _Attr, w: str, r: str, c: str) -> float:
    return (a.perf + (a.wave_shift if w == WAVES[1] else 0.0) + _PERF_REGION_SHIFT[r]
            + (a.digital_shift if c == "digital" else 0.0))


def _y_location(w: str, r: str, c: str) -> float:
    return _Y_REGION[r] + _Y_CHANNEL[c] + _Y_WAVE[w]


# Gauss-Legendre rule for Plackett's identity (fixed nodes: deterministic; exact to double
# precision here, as every latent correlation is at most about 0.65).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _latent_corr_matrix() -> np.ndarray:
    """``R_zz``, the correlation matrix of the latent attribute scores (order of ATTRIBUTES)."""
    return np.array([[_latent_corr(a, b) for b in ATTRIBUTES] for a in ATTRIBUTES])


def _latent_validities() -> list[float]:
    """``corr(z_a, y | cell) = (R_zz beta)_a`` (``Var(y | cell) = 1``)."""
    return [sum(_latent_corr(a, b) * b.beta for b in ATTRIBUTES) for a in ATTRIBUTES]


def _johnson(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights: ``Lambda = R_xx^(1/2)`` (symmetric square root),
    ``beta* = Lambda^-1 r_xy``, ``eps_j = sum_k Lambda_jk^2 beta*_k^2`` (they sum to R^2).

    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. Multivariate Behavioral Research, 35(1), 1-19.
    """
    d, v = np.linalg.eigh(rxx)
    lam = (v * np.sqrt(d)) @ v.T
    return (lam ** 2) @ np.linalg.solve(lam, rxy) ** 2


def _indicator_cov(h: np.ndarray, k: np.ndarray, rho: float) -> float:
    """``sum_ij Cov(1{X > -h_i}, 1{Y > -k_j})`` for standard bivariate normal (X, Y) with
    correlation ``rho``: ``sum_ij Phi2(h_i, k_j; rho) - Phi(h_i) Phi(k_j)``, by Plackett's (1954)
    identity ``= integral_0^rho phi2(h_i, k_j; r) dr`` (Gauss-Legendre on [0, rho])."""
    r = 0.5 * rho * (_GL_NODES + 1.0)
    w = 0.5 * rho * _GL_WEIGHTS
    hh, kk, rr = h[:, None, None], k[None, :, None], r[None, None, :]
    q = 1.0 - rr * rr
    dens = np.exp(-(hh * hh - 2.0 * rr * hh * kk + kk * kk) / (2.0 * q)) / (2.0 * math.pi * np.sqrt(q))
    return float(np.sum(dens * w))


def _rating_covariances() -> tuple[np.ndarray, np.ndarray]:
    """Population covariance matrices over the mixture of cells of (a) the 12 observed 1-5
    performance ratings followed by ``overall_sat`` and (b) the 12 continuous performance latents
    ``P*_a`` (no straight-liners, no missing answers).

    Within a cell, ``(P*_a, P*_b)`` and ``(P*_a, y)`` are bivariate normal with correlations
    ``R_zz`` and ``R_zz beta``; a rating is ``low + sum_k 1{latent > cut_k}``, so its covariances
    are sums of indicator covariances (:func:`_indicator_cov`) and its variance
    ``sum_kl Phi(min(h_k, h_l)) - Phi(h_k) Phi(h_l)``. Over the mixture,
    ``Cov = sum_cells p (Cov_cell + (mu_cell - mu)(mu_cell - mu)')``.
    """
    k = len(ATTRIBUTES)
    rzz = _latent_corr_matrix()
    rho = np.eye(k + 1)
    rho[:k, :k] = rzz
    rho[:k, k] = rho[k, :k] = _latent_validities()
    sds = [a.perf_sd for a in ATTRIBUTES]
    cells = _cells()
    total = sum(p for *_, p in cells)
    per_cell = []
    for w, r, c, p in cells:
        locs = [_perf_location(a, w, r, c) for a in ATTRIBUTES]
        hs = [(loc - np.array(_CUTS)) / sd for loc, sd in zip(locs, sds, strict=True)]
        hs.append(_y_location(w, r, c) - np.array(_OVERALL_CUTS))
        mean = np.array([1.0 + float(np.sum(ndtr(h))) for h in hs])
        cov = np.empty((k + 1, k + 1))
        for i in range(k + 1):
            pi = ndtr(hs[i])
            cov[i, i] = float(np.sum(ndtr(np.minimum.outer(hs[i], hs[i])) - np.outer(pi, pi)))
            for j in range(i + 1, k + 1):
                cov[i, j] = cov[j, i] = _indicator_cov(hs[i], hs[j], float(rho[i, j]))
        latent = np.outer(sds, sds) * rzz
        per_cell.append((p, mean, np.array(locs), cov, latent))
    mean = sum(p * m for p, m, *_ in per_cell) / total
    loc_mean = sum(p * m for p, _, m, *_ in per_cell) / total
    cov = sum(p * (cv + np.outer(m - mean, m - mean)) for p, m, _, cv, _ in per_cell) / total
    latent = sum(p * (lt + np.outer(m - loc_mean, m - loc_mean)) for p, _, m, _, lt in per_cell) / total
    return cov, latent


def _alpha(cov: np.ndarray) -> float:
    """Cronbach's alpha of items with covariance matrix ``cov``: k/(k-1) (1 - trace / sum)."""
    k = cov.shape[0]
    return k / (k - 1) * (1.0 - float(np.trace(cov)) / float(np.sum(cov)))


def _driver_truth() -> dict[str, Any]:
    """Latent and observed-scale driver truths, and the population reliability per dimension."""
    ids = [a.id for a in ATTRIBUTES]
    k = len(ids)
    latent_rw = _johnson(_latent_corr_matrix(), np.array(_latent_validities()))
    cov, latent_cov = _rating_covariances()
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    obs_beta = np.linalg.solve(corr[:k, :k], corr[:k, k])
    obs_rw = _johnson(corr[:k, :k], corr[:k, k])
    reliability = {}
    for dim in _DIMENSIONS:
        idx = [j for j, a in enumerate(ATTRIBUTES) if a.dimension == dim]
        reliability[dim] = {
            "items": [f"perf_{ids[j]}" for j in idx],
            "alpha": _alpha(cov[np.ix_(idx, idx)]),
            "latent_alpha": _alpha(latent_cov[np.ix_(idx, idx)]),
        }
    return {
        "driver_relative_weights": dict(zip(ids, latent_rw.tolist(), strict=True)),
        "driver_r2": _latent_r2(),
        "driver_correlations": dict(zip(ids, _latent_validities(), strict=True)),
        "observed_drivers": {
            "driver_weights": dict(zip(ids, obs_beta.tolist(), strict=True)),
            "driver_relative_weights": dict(zip(ids, obs_rw.tolist(), strict=True)),
            "correlations": dict(zip(ids, corr[:k, k].tolist(), strict=True)),
            "r2": float(corr[:k, k] @ obs_beta),
        },
        "reliability": reliability,
    }


def _kpis(where: Any = None) -> dict[str, float]:
    cells = [cell for cell in _cells() if where is None or where(cell)]
    total = sum(p for *_, p in cells)
    csat = mean_overall = mean_last = promoters = detractors = 0.0
    rec_sd = _RECOMMEND["scale"] * math.hypot(_RECOMMEND["loading"], _RECOMMEND["noise_loading"])
    last_sd = math.hypot(_LAST_CONTACT["loading"], _LAST_CONTACT["noise_sd"])
    for w, r, c, p in cells:
        m = _y_location(w, r, c)
        csat += p * float(ndtr(m - _OVERALL_CUTS[2]))
        mean_overall += p * _mean_rating(m, 1.0, _OVERALL_CUTS, 1)
        m_last = _LAST_CONTACT["intercept"] + _LAST_CONTACT["loading"] * m
        mean_last += p * _mean_rating(m_last, last_sd, _OVERALL_CUTS, 1)
        m_rec = _RECOMMEND["location"] + _RECOMMEND["scale"] * _RECOMMEND["loading"] * m
        promoters += p * float(ndtr((m_rec - 8.5) / rec_sd))
        detractors += p * float(ndtr((6.5 - m_rec) / rec_sd))
    csat, mean_overall, mean_last = csat / total, mean_overall / total, mean_last / total
    return {
        "csat_top2": csat,
        "overall_mean": mean_overall,
        "sat_last_contact_mean": mean_last,
        "csi": 100.0 * ((mean_overall + mean_last) / 2.0 - 1.0) / 4.0,
        "nps": 100.0 * (promoters - detractors) / total,
    }


def _expect_over_y(f: Any, m: float, lower: float = -math.inf) -> float:
    """``E[f(y) 1{y > lower}]`` for ``y ~ N(m, 1)`` by adaptive quadrature (deterministic)."""
    def integrand(y: float) -> float:
        return float(f(y)) * math.exp(-0.5 * (y - m) ** 2) / math.sqrt(2 * math.pi)
    value, _ = integrate.quad(integrand, max(lower, m - 12.0), m + 12.0, epsabs=1e-14, epsrel=1e-12, limit=200)
    return value


def _repeat_prob(y: float) -> float:
    return float(expit(_REPEAT["intercept"] + _REPEAT["slope"] * y))


def _voice_truth_in(where: Any = None) -> dict[str, Any]:
    """Population shares of the market and loyalty items, and the Dick & Basu quadrants."""
    cells = [cell for cell in _cells() if where is None or where(cell)]
    total = sum(p for *_, p in cells)
    out: dict[str, Any] = {col: 0.0 for col in _MARKET_ITEMS}
    agree = {col: 0.0 for col in _LOYALTY_ITEMS}
    means = {col: 0.0 for col in _LOYALTY_ITEMS}
    repeat = promoters = top2 = both_rec = both_top2 = 0.0
    # Promoter (recommend 9-10) given y: 0.8 y + 0.6 e > (8.5 - location) / scale.
    t_rec = (8.5 - _RECOMMEND["location"]) / _RECOMMEND["scale"]
    load, noise = _RECOMMEND["loading"], _RECOMMEND["noise_loading"]
    rec_sd = math.hypot(load, noise)
    top2_cut = _OVERALL_CUTS[2]  # overall_sat >= 4  <=>  y > -0.55
    for w, r, c, p in cells:
        m = _y_location(w, r, c)
        for col, par in _MARKET_ITEMS.items():
            out[col] += p * float(ndtr(par["intercept"] + par["loading"] * m))
        for col, par in _LOYALTY_ITEMS.items():
            loc = par["location"] + par["sd"] * par["loading"] * m
            agree[col] += p * float(ndtr((loc - _CUTS[2]) / par["sd"]))
            means[col] += p * _mean_rating(loc, par["sd"], _CUTS, 1)
        repeat += p * _expect_over_y(_repeat_prob, m)
        promoters += p * float(ndtr((load * m - t_rec) / rec_sd))
        top2 += p * float(ndtr(m - top2_cut))
        both_rec += p * _expect_over_y(lambda y: ndtr((load * y - t_rec) / noise) * _repeat_prob(y), m)
        both_top2 += p * _expect_over_y(_repeat_prob, m, lower=top2_cut)
    out = {col: v / total for col, v in out.items()}
    repeat, promoters, top2 = repeat / total, promoters / total, top2 / total
    both_rec, both_top2 = both_rec / total, both_top2 / total

    def quadrants(att: float, both: float) -> dict[str, float]:
        return {"Loyalty": both, "Latent loyalty": att - both, "Spurious loyalty": repeat - both,
                "No loyalty": 1.0 - att - repeat + both}

    out["repeat_12m"] = repeat
    out["agree"] = {col: v / total for col, v in agree.items()}
    out["mean"] = {col: v / total for col, v in means.items()}
    out["dick_basu"] = {"recommend": quadrants(promoters, both_rec), "overall": quadrants(top2, both_top2)}
    return out


def _voice_truth(n: int, voice_missing: dict[str, float]) -> dict[str, Any]:
    """The ``market``, ``loyalty``, ``population``, ``complaints`` and ``lost_customers`` truths."""
    overall = _voice_truth_in()
    by = {"by_wave": {w: _voice_truth_in(lambda cell, w=w: cell[0] == w) for w in WAVES},
          "by_region": {r: _voice_truth_in(lambda cell, r=r: cell[1] == r) for r in REGIONS},
          "by_channel": {c: _voice_truth_in(lambda cell, c=c: cell[2] == c) for c in CHANNELS}}
    f = _MARKET_FIGURES
    market = {col: overall[col] for col in _MARKET_ITEMS}
    for k, groups in by.items():
        market[k] = {g: {col: v[col] for col in _MARKET_ITEMS} for g, v in groups.items()}
    market["figures"] = dict(f)
    loyalty = {
        "repeat_12m": overall["repeat_12m"],
        "agree": overall["agree"],
        "mean": overall["mean"],
        "dick_basu": overall["dick_basu"],
        "acquisition_rate": f["customers_new"] / f["customers"],
        "churn_rate": f["customers_lost"] / f["customers"],
        "missing_rate": dict(voice_missing),
    }
    for k, groups in by.items():
        loyalty[k] = {g: {"repeat_12m": v["repeat_12m"], "agree": v["agree"], "dick_basu": v["dick_basu"]}
                      for g, v in groups.items()}
    invited = _invited(n)
    expected = {"region": {r: n * pr for r, pr in zip(REGIONS, REGION_PROBS, strict=True)},
                "channel": {"branch": n * sum(pr * (1 - DIGITAL_GIVEN_REGION[r])
                                              for r, pr in zip(REGIONS, REGION_PROBS, strict=True)),
                            "digital": n * sum(pr * DIGITAL_GIVEN_REGION[r]
                                               for r, pr in zip(REGIONS, REGION_PROBS, strict=True))}}
    population = {
        "population": {seg: dict(v) for seg, v in POPULATION.items()},
        "invited": invited,
        "expected_respondents": expected,
        "expected_response_rate": {seg: {v: expected[seg][v] / invited[seg][v] for v in invited[seg]}
                                   for seg in invited},
        "cell_response_rate": {r: {c: _cell_response_rate(r, c) for c in CHANNELS} for r in REGIONS},
    }
    complaints = {
        "n": _N_COMPLAINTS,
        "distinct_customers": _N_COMPLAINT_CUSTOMERS,
        "repeaters_drawn_from": _N_COMPLAINT_REPEAT_POOL,
        "category_probs": dict(zip(_COMPLAINT_CATEGORIES, _COMPLAINT_P, strict=True)),
        "valid_prob": _COMPLAINT_VALID_P,
        "sla_days": {"transaction error": 3, "other categories": 7},
        "extracted_on": _FIELD_END.isoformat(),
        "complaints_per_1000_customers": 1000.0 * _N_COMPLAINTS / f["customers"],
    }
    lost = {"n": _N_LOST, "reason_probs": dict(zip(_LOST_REASONS, _LOST_P, strict=True))}
    return {"market": market, "loyalty": loyalty, "population": population, "complaints": complaints,
            "lost_customers": lost}


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        value = round(obj, _ROUND)
        return 0.0 if value == 0 else value
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_rounded(v) for v in obj]
    return obj


def _truth(seed: int, n: int, quality: dict[str, Any], voice_missing: dict[str, float]) -> dict[str, Any]:
    mean_perf, mean_exp, mean_imp, mean_comp = {}, {}, {}, {}
    for a in ATTRIBUTES:
        mean_perf[a.id] = _mixture_mean(lambda w, r, c, a=a: _perf_location(a, w, r, c), a.perf_sd, _CUTS, 1)
        mean_exp[a.id] = _mean_rating(a.expect, _EXPECT_SD, _CUTS, 1)
        mean_imp[a.id] = _mean_rating(_importance_location(a), _IMPORTANCE_SD, _CUTS, 1)
        if a.comp is not None:
            mean_comp[a.id] = _mean_rating(a.comp, _COMPETITOR_SD, _CUTS, 1)
    kpis: dict[str, Any] = _kpis()
    kpis["by_wave"] = {w: _kpis(lambda cell, w=w: cell[0] == w) for w in WAVES}
    kpis["by_region"] = {r: _kpis(lambda cell, r=r: cell[1] == r) for r in REGIONS}
    kpis["by_channel"] = {c: _kpis(lambda cell, c=c: cell[2] == c) for c in CHANNELS}
    model = {
        "cuts": list(_CUTS),
        "composition": {
            "wave": dict(zip(WAVES, WAVE_PROBS, strict=True)),
            "region": dict(zip(REGIONS, REGION_PROBS, strict=True)),
            "digital_given_region": dict(DIGITAL_GIVEN_REGION),
        },
        "attributes": {a.id: {
            "performance_location": a.perf,
            "performance_sd": a.perf_sd,
            "performance_shift": {
                "wave": {WAVES[0]: 0.0, WAVES[1]: a.wave_shift},
                "region": dict(_PERF_REGION_SHIFT),
                "channel": {"branch": 0.0, "digital": a.digital_shift},
            },
            "expectation_location": a.expect, "expectation_sd": _EXPECT_SD,
            "importance_location": _importance_location(a), "importance_sd": _IMPORTANCE_SD,
            "competitor_location": a.comp, "competitor_sd": _COMPETITOR_SD if a.comp is not None else None,
            "beta": a.beta,
        } for a in ATTRIBUTES},
        "latent": {"dimension_loading": dict(_LOADING), "factor_correlation": _FACTOR_CORR},
        "overall": {"cuts": list(_OVERALL_CUTS), "residual_sd": _residual_sd(),
                    "shift": {"wave": dict(_Y_WAVE), "region": dict(_Y_REGION), "channel": dict(_Y_CHANNEL)}},
        "sat_last_contact": {**_LAST_CONTACT, "cuts": list(_OVERALL_CUTS)},
        "recommend": {**_RECOMMEND, "cuts": list(_RECOMMEND_CUTS)},
        "repeat_12m": dict(_REPEAT),
        "market_items": {col: dict(par) for col, par in _MARKET_ITEMS.items()},
        "loyalty_items": {col: dict(par) for col, par in _LOYALTY_ITEMS.items()},
        "response_rate": {"region": dict(_RESPONSE_RATE_REGION), "channel_factor": dict(_RESPONSE_RATE_CHANNEL)},
    }
    drivers = _driver_truth()
    truth = {
        "seed": seed,
        "n": n,
        "notes": (
            "Population truths of the model that generated this study (see the docstring of "
            "csm_helpers.synthetic.sample): they are not estimates from the drawn sample. Latent model per "
            "respondent in cell (wave w, region r, channel c): performance P*_a = location_a + "
            "shift_a(w, r, c) + sd_a z_a; rating = 1 + #(P*_a > cuts). Latent scores z_a = "
            "loading_d f_d + sqrt(1 - loading_d^2) s_a for the attribute's dimension d "
            "(model.latent.dimension_loading), with standard normal dimension factors f_d correlated "
            "model.latent.factor_correlation and s_a independent, so z_a ~ N(0,1) and corr(z_a, z_b) = "
            "loading_d loading_d' (same dimension) or loading_d loading_d' factor_correlation. "
            "y = shift(w) + shift(r) + shift(c) + sum_a beta_a z_a + e, Var(e) = 1 - beta' R_zz beta "
            "(model.overall.residual_sd), Var(y | cell) = 1; overall_sat = 1 + #(y > model.overall.cuts). "
            "driver_weights = beta_a, the true standardised regression coefficients of latent y on the "
            "latent z within a cell; driver_correlations = corr(z_a, y | cell) = (R_zz beta)_a; "
            "driver_relative_weights = Johnson (2000) relative weights of the population latent "
            "correlation matrix of (z, y) (they sum to driver_r2 = beta' R_zz beta, the latent R^2; with "
            "correlated drivers they are not beta_a^2). observed_drivers: the same for the observed "
            "1-5 performance ratings and overall_sat, from their exact population correlation matrix "
            "over the mixture of cells (no straight-liners or missing answers): correlations with "
            "overall_sat, standardised OLS coefficients (driver_weights), Johnson relative weights and "
            "R^2 — what key-driver analysis of the ratings estimates. reliability: per dimension, the "
            "population Cronbach alpha of its four observed 1-5 performance ratings (alpha) and of the "
            "continuous performance latents P*_a (latent_alpha), over the mixture of cells without "
            "straight-liners (who raise a sample's alpha slightly). segment_effects and wave_effects.overall: "
            "shift of latent y in within-cell SD units, first value = reference 0; "
            "wave_effects.performance: shift of each performance latent (scale points). "
            "mean_performance / mean_expectation / mean_importance / mean_competitor: population mean "
            "of the observed 1-5 rating (normal CDF over the mixture of cells with their generating "
            "probabilities); mean_gaps = mean_performance - mean_expectation; competitor_gaps = "
            "mean_performance - mean_competitor. kpis: population CSAT (top-2 share), CSI (0-100, "
            "overall_sat and sat_last_contact), NPS, mean overall_sat; also by wave, region and channel. "
            "data_quality.straight_liners (performance answers replaced: exclude them when checking "
            "performance truths), speeders (durations only; answers follow the model) and the "
            "per-item missing-completely-at-random rates. "
            "market: population share answering 1 for praise_us, aware_unaided, referred (probit in y: "
            "P = Phi(intercept + loading m_cell), model.market_items), also by wave, region and channel; "
            "figures = the company figures of study.yaml. loyalty: repeat_12m share (logistic in y), "
            "agree = share rating 4-5 of price_sensitivity, competitor_attitude, incident_tolerance "
            "(model.loyalty_items), mean = their mean rating, dick_basu = population shares of the four "
            "Dick & Basu (1994) quadrants with relative attitude high = recommend 9-10 ('recommend') or "
            "overall_sat 4-5 ('overall') and repeat patronage = repeat_12m; acquisition_rate = "
            "customers_new / customers, churn_rate = customers_lost / customers. population: invited per "
            "segment value, expected respondents (n x generating probability) and expected response rate. "
            "complaints and lost_customers: the generating probabilities of the logs."
        ),
        "driver_weights": {a.id: a.beta for a in ATTRIBUTES},
        **drivers,
        "segment_effects": {"region": dict(_Y_REGION), "channel": dict(_Y_CHANNEL)},
        "wave_effects": {"overall": dict(_Y_WAVE),
                         "performance": {a.id: {WAVES[0]: 0.0, WAVES[1]: a.wave_shift} for a in ATTRIBUTES}},
        "mean_performance": mean_perf,
        "mean_expectation": mean_exp,
        "mean_importance": mean_imp,
        "mean_competitor": mean_comp,
        "mean_gaps": {k: mean_perf[k] - mean_exp[k] for k in mean_perf},
        "competitor_gaps": {k: mean_perf[k] - mean_comp[k] for k in mean_comp},
        "kpis": kpis,
        "model": model,
        "data_quality": quality,
        **_voice_truth(n, voice_missing),
    }
    return _rounded(truth)


def _truth_json(seed: int, n: int, quality: dict[str, Any], voice_missing: dict[str, float]) -> str:
    return json.dumps(_truth(seed, n, quality, voice_missing), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- YAML files
def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _header(what: str, seed: int, n: int) -> str:
    return (f"# {what}\n"
            f"# Generated by `csm sample` (csm_helpers.synthetic.sample.generate_sample) with seed {seed} and n {n}.\n"
            "# Synthetic data with a known ground truth (truth.json): regenerate rather than edit.\n")


def _study_yaml(seed: int, n: int) -> str:
    lines = [_header("Study configuration of the sample study (SPEC §2).", seed, n),
             "name: Retail banking satisfaction 2026",
             "language: en",
             "min_cell_size: 5",
             f"seed: {seed}",
             "responses:",
             "  file: responses.csv",
             "  format: auto",
             "  id: respondent_id",
             "  wave: wave",
             "  segments: [region, channel]",
             "  weight: null",
             "  personal_data: [customer_name, email, phone]",
             "  comments: comment",
             "  duration: duration_s",
             "scales: {default: [1, 5], recommend: [0, 10]}",
             "overall: overall_sat",
             "satisfaction_items: [sat_last_contact]",
             "recommend: recommend",
             "attributes:"]
    for a in ATTRIBUTES:
        comp = f", competitor: comp_{a.id}" if a.comp is not None else ""
        lines.append(f"  - {{id: {a.id}, label: {_q(a.label)}, dimension: {a.dimension}, "
                     f"performance: perf_{a.id}, importance: imp_{a.id}, expectation: exp_{a.id}{comp}}}")
    f = _MARKET_FIGURES
    lines += ["loyalty: {repeat: repeat_12m, price_sensitivity: price_sensitivity, "
              "competitor_attitude: competitor_attitude, incident_tolerance: incident_tolerance}",
              "market: {praise: praise_us, awareness: aware_unaided, referral: referred, "
              f"sales_growth: {f['sales_growth']}, customers: {f['customers']}, "
              f"customers_new: {f['customers_new']}, customers_lost: {f['customers_lost']}}}",
              "population: population.csv",
              "complaints: {file: complaints.csv}",
              "lost_customers: {file: lost_reasons.csv}",
              "interviews: {file: interviews.csv, id: interview_id, group: source_group, text: text, "
              "order: date, codes: codes}",
              "codebook: codebook.yaml",
              "goals: goals.yaml",
              "discovery: {saturation_k: 3}",
              "report: {title: Retail banking satisfaction 2026, organisation: Example Bank}",
              ""]
    return "\n".join(lines)


# Keywords: English and Vietnamese match on word boundaries (so every inflection is listed);
# Chinese keywords match as substrings. Patterns are case-insensitive regular expressions.
_CODEBOOK_EXTRA = (
    ("branch_hours", "Branch opening hours", "process", "Speed and convenience"),
)
_KEYWORDS: dict[str, tuple[list[str], list[str]]] = {
    "product_range": (
        ["product range", "range of products", "choice of products", "savings products", "loan products",
         "credit card options", "account types",
         "sản phẩm", "loại tài khoản", "gói tiết kiệm",
         "产品", "理财"],
        [r"(?i)\b(?:range|choice|variety) of (?:products|accounts|cards)\b"]),
    "fees": (
        ["fee", "fees", "charges", "service charge", "service charges", "annual fee", "transfer fee",
         "hidden charges",
         "phí dịch vụ", "chi phí", "mức phí", "biểu phí", "phí chuyển khoản", "phí thường niên",
         "手续费", "收费", "年费", "管理费", "费用"],
        [r"(?i)\bfees?\b"]),
    "app_reliability": (
        ["app", "apps", "mobile app", "banking app", "online banking", "crashed", "crashes", "crash",
         "log in", "login",
         "ứng dụng", "đăng nhập", "ngân hàng số",
         "手机银行", "闪退", "登录", "应用"],
        [r"(?i)\bapps?\b"]),
    "interest_rates": (
        ["interest rate", "interest rates", "deposit rate", "deposit rates", "savings rate", "loan rates",
         "mortgage rate",
         "lãi suất",
         "利率", "利息"],
        [r"(?i)\b(?:deposit|loan|savings|mortgage|interest) rates?\b"]),
    "wait_time": (
        ["wait", "waits", "waited", "waiting", "waiting time", "queue", "queues", "queuing",
         "chờ đợi", "thời gian chờ", "xếp hàng", "phải chờ", "đợi lâu",
         "排队", "等待", "等了", "等候"],
        [r"\d+\s*(?:minutes?|mins?|phút|分钟)"]),
    "ease_of_paperwork": (
        ["paperwork", "forms", "paper forms", "documents", "signatures", "red tape",
         "giấy tờ", "thủ tục", "hồ sơ", "biểu mẫu",
         "填表", "表格", "材料", "签字", "繁琐"],
        [r"(?i)\b(?:forms?|documents?)\b"]),
    "problem_resolution": (
        ["resolve", "resolved", "resolution", "unresolved", "sorted out", "complaint", "complaints",
         "giải quyết", "khiếu nại", "xử lý",
         "解决", "投诉", "处理"],
        [r"(?i)\b(?:fix|fixed|resolv\w*)\b"]),
    "accuracy": (
        ["error", "errors", "mistake", "mistakes", "accurate", "accuracy", "inaccurate", "debited twice",
         "sai sót", "nhầm", "nhầm lẫn", "chính xác",
         "错误", "出错", "准确", "扣了两次", "扣错"],
        []),
    "staff_courtesy": (
        ["polite", "impolite", "courteous", "courtesy", "rude", "friendly", "smile", "smiled",
         "lịch sự", "thân thiện", "niềm nở", "thô lỗ", "cáu gắt",
         "礼貌", "态度", "友好", "热情", "微笑"],
        []),
    "staff_knowledge": (
        ["knowledgeable", "knowledge", "expertise", "competent", "could not explain",
         "am hiểu", "chuyên môn", "hiểu biết", "nắm rõ",
         "专业", "业务知识", "不懂"],
        []),
    "responsiveness": (
        ["responsive", "respond", "responds", "responded", "response", "call back", "called back",
         "reply", "replied", "indifferent", "indifference", "ignored", "nobody cared",
         "phản hồi", "thờ ơ", "gọi lại", "trả lời", "làm ngơ",
         "回复", "回应", "冷漠", "不理", "回电"],
        []),
    "personal_attention": (
        ["personal attention", "personal service", "relationship manager", "knew my name",
         "individual attention",
         "quan tâm", "chăm sóc", "chu đáo", "tận tình",
         "关心", "个性化", "专属", "客户经理", "贴心"],
        []),
    "branch_hours": (
        ["opening hours", "branch hours", "open on saturday", "saturday", "lunch break",
         "giờ mở cửa", "giờ làm việc", "thứ bảy", "nghỉ trưa",
         "营业时间", "周末", "周六", "午休"],
        []),
}


def _codebook_entries() -> list[tuple[str, str, str, str]]:
    return [(a.id, a.label, a.dimension, a.theme) for a in ATTRIBUTES] + list(_CODEBOOK_EXTRA)


def _codebook_yaml(seed: int, n: int) -> str:
    lines = [_header("Discovery codebook of the sample study (SPEC §1.2): English and Vietnamese keywords "
                     "match on word boundaries, Chinese ones as substrings; patterns are regular expressions.",
                     seed, n),
             "attributes:"]
    for aid, label, dim, theme in _codebook_entries():
        keywords, patterns = _KEYWORDS[aid]
        lines += [f"  - id: {aid}",
                  f"    label: {_q(label)}",
                  f"    dimension: {dim}",
                  f"    theme: {_q(theme)}",
                  "    keywords: [" + ", ".join(_q(_nfc(k)) for k in keywords) + "]"]
        if patterns:
            lines.append("    patterns: [" + ", ".join(_q(p) for p in patterns) + "]")
    lines.append("")
    return "\n".join(lines)


_READINESS = (
    (1, "done", "Retail Banking Director", "Workshop with the executive committee, March 2025"),
    (2, "done", "Head of Customer Experience", "Market share, churn and complaint data collected"),
    (3, "in_progress", "Strategy Office", "Branch network review still open"),
    (4, "done", "Retail Banking Director", "Linked to pillar 2 of Strategy 2026-2028"),
    (5, "in_progress", "Head of HR", "Branch incentives reward sales, not service"),
    (6, "not_started", "Head of Operations", "Process owners to be named per attribute"),
    (7, "done", "Quality Manager", "Aligned with the ISO 9001 improvement plan"),
    (8, "in_progress", "Head of HR", "Training for regional directors planned for Q3 2025"),
    (9, "done", "Chief Executive Officer", "Budget and sponsorship approved"),
    (10, "not_started", "Executive committee", "Owners of the results to be confirmed after wave 1"),
    (11, "not_applicable", "Head of Customer Experience", "Facilitated by the internal research team"),
)


def _goals_yaml(seed: int, n: int) -> str:
    lines = [_header("Goal-setting inputs of the sample study (SPEC §1.1).", seed, n),
             "charter:",
             f"  sponsor: {_q('Chief Executive Officer')}",
             f"  period: {_q('2025-07 to 2026-06 (waves 2025-H2 and 2026-H1)')}",
             "  objectives:",
             f"    - {_q('Find out what drives the satisfaction and loyalty of retail customers in each region')}",
             f"    - {_q('Measure the gap between what customers expect and what the bank delivers, attribute by attribute')}",
             f"    - {_q('Set priorities for the 2026 service-improvement plan and track them wave on wave')}",
             "  owners:",
             f"    - {_q('Head of Customer Experience: programme, analysis and reporting')}",
             f"    - {_q('Regional directors: action plans for their branches')}",
             f"    - {_q('Head of Digital Banking: mobile app actions')}",
             "  strategy_links:",
             f"    - {_q('Strategy 2026-2028, pillar 2: simple, fast and personal banking')}",
             f"    - {_q('Digital first: 60% of transactions in the mobile app by 2027')}",
             f"    - {_q('Branch network review: keep branches where service quality is high')}",
             "  audiences:",
             f"    - {{report: {_q('01 Goal-setting')}, audience: {_q('Executive committee')}}}",
             f"    - {{report: {_q('02 Discovery')}, audience: {_q('Customer-experience team and regional directors')}}}",
             f"    - {{report: {_q('03 Measurement')}, audience: {_q('Research team')}}}",
             f"    - {{report: {_q('04 Analysis')}, audience: {_q('Executive committee and regional directors')}}}",
             f"    - {{report: {_q('05 Action planning and progress')}, audience: {_q('Branch managers and process owners')}}}",
             "kpi_targets:",
             f"  - {{metric: csat_top2, target: 0.80, deadline: {_q('2026-12-31')}, owner: {_q('Head of Customer Experience')}}}",
             f"  - {{metric: csi, target: 75, deadline: {_q('2026-12-31')}, owner: {_q('Head of Customer Experience')}}}",
             f"  - {{metric: nps, target: 30, deadline: {_q('2027-06-30')}, owner: {_q('Retail Banking Director')}}}",
             "readiness:"]
    for step, status, owner, note in _READINESS:
        lines.append(f"  - {{step: {step}, status: {status}, owner: {_q(owner)}, note: {_q(note)}}}")
    lines += ["self_assessment:",
              "  preset: gbt19580",
              "  items:",
              f"    - {{id: {_q('4.3.1')}, label: {_q('Understanding customers and markets')}, points: 40, "
              f"score: 60, evidence: {_q('Segmentation by region and channel; discovery interviews in five source groups')}}}",
              f"    - {{id: {_q('4.3.2')}, label: {_q('Customer relationships and satisfaction')}, points: 50, "
              f"score: 50, evidence: {_q('Complaint log with SLA; first satisfaction survey; no loyalty tracking yet')}}}",
              ""]
    return "\n".join(lines)
