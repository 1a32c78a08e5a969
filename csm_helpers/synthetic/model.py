"""The model of the synthetic study: attributes, waves, regions and channels, the latent structure and its parameters, shared by the generator, the truth and the files."""

from __future__ import annotations

import math
import unicodedata
from datetime import date, timedelta
from typing import NamedTuple

__all__ = ["Attribute", "ATTRIBUTES", "WAVES", "WAVE_PROBS", "REGIONS", "REGION_PROBS", "CHANNELS", "DIGITAL_GIVEN_REGION", "POPULATION", "CUTS", "DIMENSIONS", "LOADING", "FACTOR_CORR", "PERF_REGION_SHIFT", "Y_REGION", "Y_CHANNEL", "Y_WAVE", "OVERALL_CUTS", "LAST_CONTACT", "RECOMMEND", "RECOMMEND_CUTS", "REPEAT", "MARKET_ITEMS", "LOYALTY_ITEMS", "RESPONSE_RATE_REGION", "RESPONSE_RATE_CHANNEL", "MARKET_FIGURES", "EXPECT_SD", "IMPORTANCE_SD", "COMPETITOR_SD", "N_COMPLAINTS", "N_COMPLAINT_CUSTOMERS", "N_COMPLAINT_REPEAT_POOL", "COMPLAINT_VALID_P", "N_LOST", "FIELD_START", "FIELD_DAYS", "FIELD_END", "nfc", "importance_location", "latent_corr", "latent_r2", "residual_sd", "cell_response_rate", "invited_counts", "KanoFeature", "KANO_FEATURES", "KANO_MISSING", "CONSENT_P", "CONSENT_BLANK", "FOLLOW_UP_P", "SampleAction", "SAMPLE_ACTIONS", "ModelBlock", "MODEL_BLOCKS", "MODEL_PATHS", "MODEL_MISSING", "model_latent_corr"]


class Attribute(NamedTuple):
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


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("product_range", "Range of products", "product", "Products and pricing",
          0.01, 3.95, 0.85, 3.70, 3.80, 0.00, 0.00),
    Attribute("fees", "Fees and charges", "product", "Products and pricing",
          0.09, 3.15, 1.00, 3.80, 3.45, -0.15, 0.00),
    Attribute("app_reliability", "Mobile app reliability", "product", "Digital banking",
          0.08, 3.55, 1.05, 4.20, 3.95, 0.30, -0.15),
    Attribute("interest_rates", "Interest rates", "product", "Products and pricing",
          0.02, 3.45, 0.90, 3.75, 3.60, 0.00, 0.00),
    Attribute("wait_time", "Waiting time", "process", "Speed and convenience",
          0.16, 3.05, 1.10, 4.00, 3.55, 0.20, 0.35),
    Attribute("ease_of_paperwork", "Ease of paperwork", "process", "Speed and convenience",
          0.01, 3.40, 0.95, 3.70, None, 0.00, 0.20),
    Attribute("problem_resolution", "Speed of problem resolution", "process", "Getting it right",
          0.36, 3.00, 1.05, 4.25, 3.40, 0.05, 0.00),
    Attribute("accuracy", "Accuracy of transactions", "process", "Getting it right",
          0.03, 4.25, 0.80, 4.40, None, 0.00, 0.00),
    Attribute("staff_courtesy", "Staff courtesy", "people", "Staff attitude",
          0.06, 4.05, 0.85, 3.95, 3.70, 0.00, -0.10),
    Attribute("staff_knowledge", "Staff knowledge", "people", "Staff competence",
          0.03, 3.75, 0.90, 3.90, None, 0.00, 0.00),
    Attribute("responsiveness", "Responsiveness", "people", "Staff attitude",
          0.31, 3.20, 1.05, 4.10, 3.50, 0.10, 0.00),
    Attribute("personal_attention", "Personal attention", "people", "Staff attitude",
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


CUTS = (1.5, 2.5, 3.5, 4.5)


# Latent attribute scores: z_a = loading_d f_d + sqrt(1 - loading_d^2) s_a for the attribute's
# dimension d, with dimension factors f_d = sqrt(phi) g + sqrt(1 - phi) h_d (corr(f_d, f_d') = phi).
DIMENSIONS = ("product", "process", "people")


LOADING = {"product": 0.74, "process": 0.76, "people": 0.78}


FACTOR_CORR = 0.35


PERF_REGION_SHIFT = {"Hanoi": 0.0, "Ho Chi Minh City": -0.05, "Da Nang": 0.10, "Can Tho": -0.20}


Y_REGION = {"Hanoi": 0.0, "Ho Chi Minh City": -0.10, "Da Nang": 0.15, "Can Tho": -0.30}


Y_CHANNEL = {"branch": 0.0, "digital": -0.10}


Y_WAVE = {"2025-H2": 0.0, "2026-H1": 0.12}


OVERALL_CUTS = (-2.1, -1.4, -0.55, 0.8)


LAST_CONTACT = {"intercept": 0.1, "loading": 0.7, "noise_sd": math.sqrt(0.51)}


RECOMMEND = {"location": 8.1, "scale": 1.7, "loading": 0.8, "noise_loading": 0.6}


RECOMMEND_CUTS = tuple(k + 0.5 for k in range(10))


REPEAT = {"intercept": 1.1, "slope": 0.9}


# Market indicators (1/0): item = 1 when a + b y + sqrt(1 - b^2) e > 0, e ~ N(0, 1), so that
# P(item = 1 | cell) = Phi(a + b m_cell) exactly (probit in the latent satisfaction y).
MARKET_ITEMS: dict[str, dict[str, float]] = {
    "praise_us": {"intercept": -0.20, "loading": 0.60},
    "aware_unaided": {"intercept": 0.15, "loading": 0.25},
    "referred": {"intercept": -0.90, "loading": 0.50},
}


# Loyalty measures (1-5 agreement): latent loc + sd (b y + sqrt(1 - b^2) e), thresholded at CUTS.
LOYALTY_ITEMS: dict[str, dict[str, float]] = {
    "price_sensitivity": {"location": 3.30, "sd": 1.0, "loading": -0.45},
    "competitor_attitude": {"location": 3.00, "sd": 1.0, "loading": -0.50},
    "incident_tolerance": {"location": 3.10, "sd": 1.0, "loading": 0.55},
}


# Response rate of the invitations per region, times a channel factor (10-30% in every cell).
RESPONSE_RATE_REGION = {"Hanoi": 0.22, "Ho Chi Minh City": 0.17, "Da Nang": 0.26, "Can Tho": 0.13}


RESPONSE_RATE_CHANNEL = {"branch": 1.15, "digital": 0.90}


# Company figures of the market block of study.yaml (SPEC §1.4 market indicators, loyalty).
MARKET_FIGURES = {"sales_growth": 0.04, "customers": 180000, "customers_new": 21000, "customers_lost": 15300}


EXPECT_SD = 0.80


IMPORTANCE_SD = 0.85


COMPETITOR_SD = 0.95


_IMPORTANCE_BASE = 3.55


_IMPORTANCE_SLOPE = 3.2


N_COMPLAINTS = 300


N_COMPLAINT_CUSTOMERS = 255  # distinct complainants


N_COMPLAINT_REPEAT_POOL = 60  # repeat complaints come from the first 60 of them


COMPLAINT_VALID_P = 0.82


N_LOST = 200


FIELD_START = date(2025, 7, 1)


FIELD_DAYS = 365


FIELD_END = FIELD_START + timedelta(days=FIELD_DAYS - 1)  # 2026-06-30, when the logs were extracted


class KanoFeature(NamedTuple):
    id: str  # an attribute id, or a feature of its own
    label: str | None  # None: the attribute's label
    probs: tuple[float, float, float, float, float, float]  # true shares of A, O, M, I, R, Q


KANO_FEATURES: tuple[KanoFeature, ...] = (
    KanoFeature("app_reliability", None, (0.08, 0.22, 0.52, 0.14, 0.02, 0.02)),
    KanoFeature("accuracy", None, (0.05, 0.20, 0.58, 0.13, 0.02, 0.02)),
    KanoFeature("interest_rates", None, (0.15, 0.50, 0.17, 0.14, 0.02, 0.02)),
    KanoFeature("wait_time", None, (0.12, 0.46, 0.24, 0.14, 0.02, 0.02)),
    KanoFeature("personal_attention", None, (0.48, 0.16, 0.06, 0.26, 0.02, 0.02)),
    KanoFeature("product_range", None, (0.20, 0.10, 0.08, 0.56, 0.04, 0.02)),
    KanoFeature("video_banking", "Video call with an adviser", (0.52, 0.08, 0.04, 0.30, 0.04, 0.02)),
    KanoFeature("promo_calls", "Calls offering new products", (0.04, 0.02, 0.02, 0.30, 0.60, 0.02)),
)
"""Features asked the Kano way (functional and dysfunctional question, answers 1 like, 2 must-be,
3 neutral, 4 live with, 5 dislike), with the true population share of each Kano category: a
respondent's category is drawn from ``probs``, then the pair of answers uniformly among the cells
of the Kano evaluation table that give that category."""


KANO_MISSING = 0.015
"""Rate at which each Kano answer is missing, completely at random."""


CONSENT_P = 0.45
"""Probability that a respondent agrees to be contacted about their answers (``contact_ok`` yes)."""


CONSENT_BLANK = 0.03
"""Probability that the consent question is left blank (read as no consent)."""


FOLLOW_UP_P: dict[str, float] = {"contacted": 0.70, "resolved": 0.60, "still_customer_contacted": 0.88,
                                 "still_customer_not_contacted": 0.72, "still_customer_unknown": 0.05}
"""What became of the first wave's follow-up list (``follow_up_outcomes.csv``): probability that a
listed customer was contacted, that a contacted customer's problem was resolved, that a contacted
/ not contacted customer is still a customer, and that the last is not known (blank)."""


class SampleAction(NamedTuple):
    attribute: str
    action: str
    owner: str
    due_date: str
    target: float


SAMPLE_ACTIONS: tuple[SampleAction, ...] = (
    SampleAction("wait_time", "Open a second teller desk at peak hours", "Head of branch operations", "2026-03-31",
                 3.30),
    SampleAction("app_reliability", "Move the app to the new platform", "Head of digital", "2026-02-28", 3.50),
    SampleAction("fees", "Simplify the fee schedule", "Head of products", "2026-04-30", 3.40),
)
"""The first wave's action register as the team filled it in (``actions_2025-H2.csv``): an action,
owner, due date and target mean performance for three attributes; the other attributes have none."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def importance_location(a: Attribute) -> float:
    return _IMPORTANCE_BASE + _IMPORTANCE_SLOPE * a.beta


def latent_corr(a: Attribute, b: Attribute) -> float:
    """``corr(z_a, z_b)``: ``loading_d loading_d'`` times 1 (same dimension) or ``phi``."""
    if a.id == b.id:
        return 1.0
    same = a.dimension == b.dimension
    return LOADING[a.dimension] * LOADING[b.dimension] * (1.0 if same else FACTOR_CORR)


def latent_r2() -> float:
    """``Var(sum_a beta_a z_a) = beta' R_zz beta``: the latent R^2 of ``y`` within a cell."""
    return sum(a.beta * b.beta * latent_corr(a, b) for a in ATTRIBUTES for b in ATTRIBUTES)


def residual_sd() -> float:
    return math.sqrt(1.0 - latent_r2())


# --------------------------------------------------------------------------- response rates
def cell_response_rate(region: str, channel: str) -> float:
    return RESPONSE_RATE_REGION[region] * RESPONSE_RATE_CHANNEL[channel]


def invited_counts(n: int) -> dict[str, dict[str, int]]:
    """Invitations per segment value: per region x channel cell, the expected number of
    respondents divided by the cell's response rate (rounded), summed over the other segment;
    capped at the population size (reached only for n above about 23,000)."""
    cells = {}
    for r, pr in zip(REGIONS, REGION_PROBS, strict=True):
        pdig = DIGITAL_GIVEN_REGION[r]
        for c, pc in (("branch", 1.0 - pdig), ("digital", pdig)):
            cells[(r, c)] = round(n * pr * pc / cell_response_rate(r, c))
    invited = {"region": {r: sum(v for (rr, _), v in cells.items() if rr == r) for r in REGIONS},
               "channel": {c: sum(v for (_, cc), v in cells.items() if cc == c) for c in CHANNELS}}
    return {seg: {v: min(k, POPULATION[seg][v]) for v, k in vals.items()} for seg, vals in invited.items()}


class ModelBlock(NamedTuple):
    name: str  # the block (latent variable) of the satisfaction model
    items: tuple[str, ...]  # its 1-5 survey items
    loading: float  # true loading of each item's latent on the block's latent
    location: float  # location of each item's latent, scale points
    sd: float  # scale of each item's latent, scale points


MODEL_BLOCKS: tuple[ModelBlock, ...] = (
    ModelBlock("image", ("csi_image_1", "csi_image_2", "csi_image_3"), 0.80, 3.70, 1.00),
    ModelBlock("expectation", ("csi_expect_1", "csi_expect_2", "csi_expect_3"), 0.72, 3.85, 0.95),
    ModelBlock("quality", ("csi_quality_1", "csi_quality_2", "csi_quality_3", "csi_quality_4"), 0.82, 3.60, 1.00),
    ModelBlock("value", ("csi_value_1", "csi_value_2"), 0.85, 3.35, 1.00),
    ModelBlock("satisfaction", ("csi_sat_1", "csi_sat_2", "csi_sat_3"), 0.86, 3.75, 1.00),
    ModelBlock("loyalty", ("csi_loyal_1", "csi_loyal_2", "csi_loyal_3"), 0.80, 3.55, 1.05),
)
"""The ECSI satisfaction-index model of the sample (``satisfaction_model`` in study.yaml): each
block's 1-5 items, their common true loading, location and scale. The items of a block are
exchangeable (same loading, location and scale), so the population PLS weights of a block are
equal and the population PLS estimates have a closed form (``truth.json`` ``satisfaction_model``)."""


MODEL_PATHS: dict[tuple[str, str], float] = {
    ("image", "expectation"): 0.50, ("image", "satisfaction"): 0.15, ("image", "loyalty"): 0.25,
    ("expectation", "quality"): 0.55, ("expectation", "value"): 0.10, ("expectation", "satisfaction"): 0.00,
    ("quality", "value"): 0.55, ("quality", "satisfaction"): 0.45, ("value", "satisfaction"): 0.25,
    ("satisfaction", "loyalty"): 0.50,
}
"""True standardised path coefficients of the ECSI model's latent variables (each of variance 1):
``eta_j = sum_k b_jk eta_k + zeta_j``. Expectation has no direct effect on satisfaction (0.00),
as often found in ECSI studies; the satisfaction latent is the respondent's latent overall
satisfaction ``y`` minus its cell's shift (so the model's satisfaction agrees with overall_sat)."""


MODEL_MISSING = 0.005
"""Rate at which each satisfaction-model item is missing, completely at random."""


def model_latent_corr() -> list[list[float]]:
    """The correlation matrix of the model's latent variables (order of :data:`MODEL_BLOCKS`)
    implied by :data:`MODEL_PATHS` with unit variances: ``Cov(eta_j, eta_m) = sum_k b_jk
    Cov(eta_k, eta_m)`` for ``m`` before ``j``; a residual variance ``1 - b' Phi b`` must be
    positive. Plain Python arithmetic (the blocks are listed in causal order)."""
    names = [b.name for b in MODEL_BLOCKS]
    k = len(names)
    phi = [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    for j, name in enumerate(names):
        preds = [(names.index(a), b) for (a, t), b in MODEL_PATHS.items() if t == name]
        for m in range(j):
            phi[j][m] = phi[m][j] = sum(b * phi[i][m] for i, b in preds)
        explained = sum(b1 * b2 * phi[i1][i2] for i1, b1 in preds for i2, b2 in preds)
        if not explained < 1.0:
            raise ValueError(f"MODEL_PATHS: the paths into {name} explain {explained:.3f} >= 1 of its variance")
    return phi
