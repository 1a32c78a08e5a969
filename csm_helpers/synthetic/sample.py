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
    failure"), 1-5 agreement, the 18 items of the ECSI satisfaction-index model ``csi_image_1``
    ... ``csi_loyal_3`` (1-5; :data:`~csm_helpers.synthetic.model.MODEL_BLOCKS`), the Kano answer pairs ``kano_f_<id>`` and ``kano_d_<id>`` (1 like,
    2 must-be, 3 neutral, 4 live with, 5 dislike) of eight features (six attributes, a video call
    with an adviser and calls offering new products; :data:`~csm_helpers.synthetic.model.KANO_FEATURES`),
    ``contact_ok`` (agreed to be contacted about the answers: yes 45%, blank 3%, else no),
    and ``comment`` (free text in English, Vietnamese or Simplified
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
    ``RESPONSE_RATE_REGION`` x ``RESPONSE_RATE_CHANNEL``, between 11.7% and 29.9%), then
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
``follow_up_outcomes.csv``
    The first wave's follow-up list as the team filled it in (closing the loop): the first wave's
    respondents with ``contact_ok`` yes who are dissatisfied (overall 1-2) or detractors
    (recommend 0-6), with ``contacted``, ``resolved`` and ``still_customer`` (yes/no, blank when
    not known), drawn with the probabilities of
    :data:`~csm_helpers.synthetic.model.FOLLOW_UP_P`.
``actions_2025-H2.csv``
    The first wave's action register as the team filled it in: actions with owner, due date and
    target mean performance for waiting time, app reliability and fees
    (:data:`~csm_helpers.synthetic.model.SAMPLE_ACTIONS`).
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
``a + b y + sqrt(1 - b^2) e > 0`` (``MARKET_ITEMS``: praise_us a = -0.20, b = 0.60;
aware_unaided 0.15, 0.25; referred -0.90, 0.50), so ``P(1 | cell) = Phi(a + b m_cell)``
exactly; a loyalty measure thresholds ``loc + sd (b y + sqrt(1 - b^2) e)`` at ``c``
(``LOYALTY_ITEMS``: price_sensitivity loc 3.30, b = -0.45; competitor_attitude 3.00, -0.50;
incident_tolerance 3.10, +0.55; sd 1): satisfied customers are less price sensitive, think less
of the competitors and forgive more.

The ECSI model's items come from a tenth stream (so adding them changed no earlier column). Its
six latent variables (image, expectation, quality, value, satisfaction, loyalty) are standard
normal with the true standardised paths :data:`~csm_helpers.synthetic.model.MODEL_PATHS`
(image -> expectation 0.50, expectation -> quality 0.55, quality -> value 0.55, quality ->
satisfaction 0.45, value -> satisfaction 0.25, satisfaction -> loyalty 0.50, expectation ->
satisfaction 0, ...). The satisfaction latent is the respondent's ``y`` minus its cell's shift (so
it is N(0, 1) and agrees with overall_sat); the other five are drawn from their normal
distribution given it. Each item thresholds ``location + sd (loading eta + sqrt(1 - loading^2) u)``
at ``c``, with one loading, location and scale per block (the items of a block are exchangeable),
and is missing completely at random with probability 0.5%.

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
- ``kano``: per Kano feature, the true population share of each category (A, O, M, I, R, Q;
  :data:`~csm_helpers.synthetic.model.KANO_FEATURES`) from which each respondent's category is
  drawn (the answer pair then uniformly among the category's cells of the evaluation table of
  Berger et al. 1993), the category with the largest share, and the true Better and Worse
  coefficients. Each Kano answer is missing completely at random with probability 1.5%.
- ``satisfaction_model``: the ECSI model's blocks (items, loading, location, scale), true paths
  and latent correlations (``order`` gives the blocks' order), and ``population_pls``: what PLS-PM
  (Mode A, any scheme) of the observed items estimates as n grows — by exchangeability a block's
  population weights are equal, so the composites' correlations follow from the exact
  correlations of the discretised items (Mehler's Hermite series for the bivariate normal), and
  with them the paths (least squares on the composites), R², loadings and the 0-100
  satisfaction index ``100 (E[item] - 1) / 4``. Composites carry measurement error, so PLS paths
  are smaller than the true latent paths (image -> expectation 0.38 against 0.50) and the true
  zero expectation -> satisfaction appears as 0.05: check estimates against ``population_pls``.

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

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.core.errors import CsmError
from csm_helpers.core.safety import to_safe_csv
from csm_helpers.synthetic.files import codebook_yaml, goals_yaml, study_yaml, write_text
from csm_helpers.synthetic.logs import draw_complaints, draw_interviews, draw_lost_customers
from csm_helpers.synthetic.model import (
    ATTRIBUTES,
    DIMENSIONS,
    FACTOR_CORR,
    POPULATION,
    SAMPLE_ACTIONS,
    invited_counts,
)
from csm_helpers.synthetic.survey import (
    consent_column,
    draw_comments,
    draw_responses,
    follow_up_outcomes,
    kano_items,
    model_items,
    personal_columns,
    voice_items,
    within_cell_satisfaction,
)
from csm_helpers.synthetic.truth import truth_json

__all__ = ["SAMPLE_SEED", "SAMPLE_N", "MIN_N", "generate_sample", "add_branch_column"]


SAMPLE_SEED = 20261123
"""Seed of the bundled sample study."""


SAMPLE_N = 2400
"""Number of survey responses of the bundled sample study."""


MIN_N = 200
"""Smallest ``n`` :func:`generate_sample` accepts (every region x channel cell stays populated)."""


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
    ['actions_2025-H2.csv', 'codebook.yaml', 'complaints.csv', 'follow_up_outcomes.csv', 'goals.yaml',
     'interviews.csv', 'lost_reasons.csv', 'population.csv', 'responses.csv', 'study.yaml', 'truth.json']
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

    # Ten independent streams; the sixth (market and loyalty items), the seventh (the
    # dimension factors of the latent attribute scores), the eighth (Kano pairs), the ninth
    # (consent and follow-up outcomes) and the tenth (satisfaction-model items) were added later,
    # and SeedSequence.spawn gives the earlier streams the same children as before.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    (rng_resp, rng_personal, rng_comment, rng_complaint, rng_lost, rng_voice, rng_factor, rng_kano, rng_loop,
     rng_model) = streams

    responses, quality, latent_y = draw_responses(rng_resp, n, _dimension_factors(rng_factor, n))
    voice, voice_missing = voice_items(rng_voice, latent_y)
    _insert_columns(responses, responses.columns.get_loc("repeat_12m") + 1, voice)
    model = model_items(rng_model, within_cell_satisfaction(responses, latent_y))
    _insert_columns(responses, responses.columns.get_loc(voice.columns[-1]) + 1, model)
    names, emails, phones = personal_columns(rng_personal, n)
    responses.insert(4, "customer_name", names)
    responses.insert(5, "email", emails)
    responses.insert(6, "phone", phones)
    responses["comment"] = draw_comments(rng_comment, responses)
    _insert_columns(responses, responses.columns.get_loc("comment"), kano_items(rng_kano, n))
    responses.insert(responses.columns.get_loc("comment"), "contact_ok", consent_column(rng_loop, n))
    outcomes = follow_up_outcomes(rng_loop, responses)

    to_safe_csv(responses, out / "responses.csv")
    to_safe_csv(draw_interviews(), out / "interviews.csv")
    to_safe_csv(_population(n), out / "population.csv")
    to_safe_csv(draw_complaints(rng_complaint), out / "complaints.csv")
    to_safe_csv(draw_lost_customers(rng_lost), out / "lost_reasons.csv")
    to_safe_csv(outcomes, out / "follow_up_outcomes.csv")
    to_safe_csv(_previous_actions(), out / "actions_2025-H2.csv")
    write_text(out / "codebook.yaml", codebook_yaml(seed, n))
    write_text(out / "goals.yaml", goals_yaml(seed, n))
    write_text(out / "truth.json", truth_json(seed, n, quality, voice_missing))
    write_text(out / "study.yaml", study_yaml(seed, n))
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
    write_text(path, text.replace("segments: [region, channel]", "segments: [region, channel, branch]"))
    return path


def _insert_columns(frame: pd.DataFrame, at: int, columns: pd.DataFrame) -> None:
    """Insert every column of ``columns``, in order, into ``frame`` from position ``at`` on."""
    for offset, col in enumerate(columns.columns):
        frame.insert(at + offset, col, columns[col])


def _check_int(value: Any, *, name: str, minimum: int, fix: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise CsmError(f"generate_sample: {name}={value!r} is not a whole number — {fix}")
    if value < minimum:
        raise CsmError(f"generate_sample: {name}={value} {what} — {fix}")
    return int(value)


def _previous_actions() -> pd.DataFrame:
    """The first wave's action register as the team filled it in: every attribute, an action,
    owner, due date and target for :data:`~csm_helpers.synthetic.model.SAMPLE_ACTIONS`."""
    acted = {a.attribute: a for a in SAMPLE_ACTIONS}
    rows = []
    for a in ATTRIBUTES:
        x = acted.get(a.id)
        rows.append({"attribute": a.id, "label": a.label, "owner": x.owner if x else "",
                     "due_date": x.due_date if x else "", "action": x.action if x else "",
                     "target": f"{x.target:.2f}" if x else "", "kpi": "", "status": "in progress" if x else ""})
    return pd.DataFrame(rows)


def _dimension_factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n x 3`` standard normal dimension factors ``f_d = sqrt(phi) g + sqrt(1 - phi) h_d``
    (columns in the order of :data:`DIMENSIONS`), so that ``corr(f_d, f_d') = phi``."""
    g = rng.standard_normal(n)
    h = rng.standard_normal((n, len(DIMENSIONS)))
    return math.sqrt(FACTOR_CORR) * g[:, None] + math.sqrt(1.0 - FACTOR_CORR) * h


def _population(n: int) -> pd.DataFrame:
    invited = invited_counts(n)
    rows = [{"segment": seg, "value": value, "population": size, "invited": invited[seg][value]}
            for seg, sizes in POPULATION.items() for value, size in sizes.items()]
    return pd.DataFrame(rows)
