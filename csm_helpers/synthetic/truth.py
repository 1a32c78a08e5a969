"""The population truths of the model (truth.json): exact KPIs, driver weights, reliabilities and voice shares computed from the model, not estimated from the drawn sample."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from scipy import integrate
from scipy.special import expit, ndtr

from csm_helpers.synthetic.logs import COMPLAINT_CATEGORIES, COMPLAINT_P, LOST_P, LOST_REASONS
from csm_helpers.synthetic.model import (
    ATTRIBUTES,
    CHANNELS,
    COMPETITOR_SD,
    COMPLAINT_VALID_P,
    CONSENT_BLANK,
    CONSENT_P,
    CUTS,
    DIGITAL_GIVEN_REGION,
    DIMENSIONS,
    EXPECT_SD,
    FACTOR_CORR,
    FIELD_END,
    FOLLOW_UP_P,
    IMPORTANCE_SD,
    KANO_FEATURES,
    LAST_CONTACT,
    LOADING,
    LOYALTY_ITEMS,
    MARKET_FIGURES,
    MARKET_ITEMS,
    MODEL_BLOCKS,
    MODEL_MISSING,
    MODEL_PATHS,
    N_COMPLAINT_CUSTOMERS,
    N_COMPLAINT_REPEAT_POOL,
    N_COMPLAINTS,
    N_LOST,
    OVERALL_CUTS,
    PERF_REGION_SHIFT,
    POPULATION,
    RECOMMEND,
    RECOMMEND_CUTS,
    REGION_PROBS,
    REGIONS,
    REPEAT,
    RESPONSE_RATE_CHANNEL,
    RESPONSE_RATE_REGION,
    SAMPLE_ACTIONS,
    WAVE_PROBS,
    WAVES,
    Y_CHANNEL,
    Y_REGION,
    Y_WAVE,
    Attribute,
    cell_response_rate,
    importance_location,
    invited_counts,
    latent_corr,
    latent_r2,
    model_latent_corr,
    residual_sd,
)

__all__ = ["truth_json"]


_ROUND = 10  # decimals of every float in truth.json (stable across platforms)


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


def _perf_location(a: Attribute, w: str, r: str, c: str) -> float:
    return (a.perf + (a.wave_shift if w == WAVES[1] else 0.0) + PERF_REGION_SHIFT[r]
            + (a.digital_shift if c == "digital" else 0.0))


def _y_location(w: str, r: str, c: str) -> float:
    return Y_REGION[r] + Y_CHANNEL[c] + Y_WAVE[w]


# Gauss-Legendre rule for Plackett's identity (fixed nodes: deterministic; exact to double
# precision here, as every latent correlation is at most about 0.65).
_GL = np.polynomial.legendre.leggauss(64)


_GL_NODES = _GL[0]


_GL_WEIGHTS = _GL[1]


def _latent_corr_matrix() -> np.ndarray:
    """``R_zz``, the correlation matrix of the latent attribute scores (order of ATTRIBUTES)."""
    return np.array([[latent_corr(a, b) for b in ATTRIBUTES] for a in ATTRIBUTES])


def _latent_validities() -> list[float]:
    """``corr(z_a, y | cell) = (R_zz beta)_a`` (``Var(y | cell) = 1``)."""
    return [sum(latent_corr(a, b) * b.beta for b in ATTRIBUTES) for a in ATTRIBUTES]


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
        hs = [(loc - np.array(CUTS)) / sd for loc, sd in zip(locs, sds, strict=True)]
        hs.append(_y_location(w, r, c) - np.array(OVERALL_CUTS))
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
    for dim in DIMENSIONS:
        idx = [j for j, a in enumerate(ATTRIBUTES) if a.dimension == dim]
        reliability[dim] = {
            "items": [f"perf_{ids[j]}" for j in idx],
            "alpha": _alpha(cov[np.ix_(idx, idx)]),
            "latent_alpha": _alpha(latent_cov[np.ix_(idx, idx)]),
        }
    return {
        "driver_relative_weights": dict(zip(ids, latent_rw.tolist(), strict=True)),
        "driver_r2": latent_r2(),
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
    rec_sd = RECOMMEND["scale"] * math.hypot(RECOMMEND["loading"], RECOMMEND["noise_loading"])
    last_sd = math.hypot(LAST_CONTACT["loading"], LAST_CONTACT["noise_sd"])
    for w, r, c, p in cells:
        m = _y_location(w, r, c)
        csat += p * float(ndtr(m - OVERALL_CUTS[2]))
        mean_overall += p * _mean_rating(m, 1.0, OVERALL_CUTS, 1)
        m_last = LAST_CONTACT["intercept"] + LAST_CONTACT["loading"] * m
        mean_last += p * _mean_rating(m_last, last_sd, OVERALL_CUTS, 1)
        m_rec = RECOMMEND["location"] + RECOMMEND["scale"] * RECOMMEND["loading"] * m
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
    return float(expit(REPEAT["intercept"] + REPEAT["slope"] * y))


def _voice_truth_in(where: Any = None) -> dict[str, Any]:
    """Population shares of the market and loyalty items, and the Dick & Basu quadrants."""
    cells = [cell for cell in _cells() if where is None or where(cell)]
    total = sum(p for *_, p in cells)
    out: dict[str, Any] = {col: 0.0 for col in MARKET_ITEMS}
    agree = {col: 0.0 for col in LOYALTY_ITEMS}
    means = {col: 0.0 for col in LOYALTY_ITEMS}
    repeat = promoters = top2 = both_rec = both_top2 = 0.0
    # Promoter (recommend 9-10) given y: 0.8 y + 0.6 e > (8.5 - location) / scale.
    t_rec = (8.5 - RECOMMEND["location"]) / RECOMMEND["scale"]
    load, noise = RECOMMEND["loading"], RECOMMEND["noise_loading"]
    rec_sd = math.hypot(load, noise)
    top2_cut = OVERALL_CUTS[2]  # overall_sat >= 4  <=>  y > -0.55
    for w, r, c, p in cells:
        m = _y_location(w, r, c)
        for col, par in MARKET_ITEMS.items():
            out[col] += p * float(ndtr(par["intercept"] + par["loading"] * m))
        for col, par in LOYALTY_ITEMS.items():
            loc = par["location"] + par["sd"] * par["loading"] * m
            agree[col] += p * float(ndtr((loc - CUTS[2]) / par["sd"]))
            means[col] += p * _mean_rating(loc, par["sd"], CUTS, 1)
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
    f = MARKET_FIGURES
    market = {col: overall[col] for col in MARKET_ITEMS}
    for k, groups in by.items():
        market[k] = {g: {col: v[col] for col in MARKET_ITEMS} for g, v in groups.items()}
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
    invited = invited_counts(n)
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
        "cell_response_rate": {r: {c: cell_response_rate(r, c) for c in CHANNELS} for r in REGIONS},
    }
    complaints = {
        "n": N_COMPLAINTS,
        "distinct_customers": N_COMPLAINT_CUSTOMERS,
        "repeaters_drawn_from": N_COMPLAINT_REPEAT_POOL,
        "category_probs": dict(zip(COMPLAINT_CATEGORIES, COMPLAINT_P, strict=True)),
        "valid_prob": COMPLAINT_VALID_P,
        "sla_days": {"transaction error": 3, "other categories": 7},
        "extracted_on": FIELD_END.isoformat(),
        "complaints_per_1000_customers": 1000.0 * N_COMPLAINTS / f["customers"],
    }
    lost = {"n": N_LOST, "reason_probs": dict(zip(LOST_REASONS, LOST_P, strict=True))}
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
        mean_perf[a.id] = _mixture_mean(lambda w, r, c, a=a: _perf_location(a, w, r, c), a.perf_sd, CUTS, 1)
        mean_exp[a.id] = _mean_rating(a.expect, EXPECT_SD, CUTS, 1)
        mean_imp[a.id] = _mean_rating(importance_location(a), IMPORTANCE_SD, CUTS, 1)
        if a.comp is not None:
            mean_comp[a.id] = _mean_rating(a.comp, COMPETITOR_SD, CUTS, 1)
    kpis: dict[str, Any] = _kpis()
    kpis["by_wave"] = {w: _kpis(lambda cell, w=w: cell[0] == w) for w in WAVES}
    kpis["by_region"] = {r: _kpis(lambda cell, r=r: cell[1] == r) for r in REGIONS}
    kpis["by_channel"] = {c: _kpis(lambda cell, c=c: cell[2] == c) for c in CHANNELS}
    model = {
        "cuts": list(CUTS),
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
                "region": dict(PERF_REGION_SHIFT),
                "channel": {"branch": 0.0, "digital": a.digital_shift},
            },
            "expectation_location": a.expect, "expectation_sd": EXPECT_SD,
            "importance_location": importance_location(a), "importance_sd": IMPORTANCE_SD,
            "competitor_location": a.comp, "competitor_sd": COMPETITOR_SD if a.comp is not None else None,
            "beta": a.beta,
        } for a in ATTRIBUTES},
        "latent": {"dimension_loading": dict(LOADING), "factor_correlation": FACTOR_CORR},
        "overall": {"cuts": list(OVERALL_CUTS), "residual_sd": residual_sd(),
                    "shift": {"wave": dict(Y_WAVE), "region": dict(Y_REGION), "channel": dict(Y_CHANNEL)}},
        "sat_last_contact": {**LAST_CONTACT, "cuts": list(OVERALL_CUTS)},
        "recommend": {**RECOMMEND, "cuts": list(RECOMMEND_CUTS)},
        "repeat_12m": dict(REPEAT),
        "market_items": {col: dict(par) for col, par in MARKET_ITEMS.items()},
        "loyalty_items": {col: dict(par) for col, par in LOYALTY_ITEMS.items()},
        "response_rate": {"region": dict(RESPONSE_RATE_REGION), "channel_factor": dict(RESPONSE_RATE_CHANNEL)},
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
            "complaints and lost_customers: the generating probabilities of the logs. "
            "kano: per feature, the true population share of each Kano category (A attractive, O "
            "one-dimensional, M must-be, I indifferent, R reverse, Q questionable) from which each "
            "respondent's category is drawn (the answer pair is then drawn uniformly among the category's "
            "cells of the evaluation table of Berger et al. 1993), the category with the largest share, and "
            "the true Better = (A + O) / (A + O + M + I) and Worse = -(O + M) / (A + O + M + I). "
            "loop: consent_p and consent_blank of contact_ok; follow_up: the probabilities behind "
            "follow_up_outcomes.csv (contacted; resolved given contacted; still a customer given contacted or "
            "not; still_customer not known); actions: for each action of actions_2025-H2.csv, its target, the "
            "population mean performance in each wave (over the mixture of cells of that wave), the change and "
            "whether the second wave's mean reaches the target. "
            "satisfaction_model: the ECSI model of the csi_* items — blocks (items, their common loading, "
            "location and scale), the true standardised paths among the latent variables and their "
            "correlations (latent_correlation, blocks in the order of order); population_pls: what PLS-PM (Mode A) of the "
            "observed 1-5 items estimates as n grows — the items of a block are exchangeable, so its population "
            "weights are equal, and the paths, R^2 and loadings follow from the exact population correlations of "
            "the discretised items (Mehler's Hermite series) — and the 0-100 index of satisfaction, "
            "100 (mean item - 1) / 4. PLS paths are attenuated against the true latent paths (composites "
            "carry measurement error) and loadings inflated: compare estimates with population_pls."
        ),
        "driver_weights": {a.id: a.beta for a in ATTRIBUTES},
        **drivers,
        "segment_effects": {"region": dict(Y_REGION), "channel": dict(Y_CHANNEL)},
        "wave_effects": {"overall": dict(Y_WAVE),
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
        "kano": _kano_truth(),
        "loop": _loop_truth(),
        "satisfaction_model": _model_truth(),
    }
    return _rounded(truth)


def _kano_truth() -> dict[str, Any]:
    """True Kano shares per feature, the category they imply and the true Better/Worse."""
    labels = {a.id: a.label for a in ATTRIBUTES}
    out = {}
    for k in KANO_FEATURES:
        shares = dict(zip("AOMIRQ", (p / sum(k.probs) for p in k.probs), strict=True))
        aomi = shares["A"] + shares["O"] + shares["M"] + shares["I"]
        out[k.id] = {"label": k.label or labels[k.id], "shares": shares,
                     "category": max(shares, key=lambda c: shares[c]),
                     "better": (shares["A"] + shares["O"]) / aomi, "worse": -(shares["O"] + shares["M"]) / aomi}
    return out


def _loop_truth() -> dict[str, Any]:
    """Closing the loop: the consent and follow-up probabilities, and for each action of the first
    wave's register the population mean performance in both waves, its change and whether the
    second wave's population mean reaches the target."""
    by_id = {a.id: a for a in ATTRIBUTES}
    actions = {}
    for x in SAMPLE_ACTIONS:
        a = by_id[x.attribute]
        means = {w: _mixture_mean(lambda w_, r, c, a=a: _perf_location(a, w_, r, c), a.perf_sd, CUTS, 1,
                                  where=lambda cell, w=w: cell[0] == w) for w in WAVES}
        actions[x.attribute] = {"target": x.target, "mean_by_wave": means, "change": means[WAVES[1]] - means[WAVES[0]],
                                "target_met": bool(means[WAVES[1]] >= x.target)}
    return {"consent_p": CONSENT_P, "consent_blank": CONSENT_BLANK, "follow_up": dict(FOLLOW_UP_P),
            "actions": actions}


def _hermite_coefficients(thresholds: list[float], terms: int = 200) -> np.ndarray:
    """``c_k = E[f(X) He_k(X)] / sqrt(k!)``, k = 1..terms, of ``f(x) = #(x > t)`` for X ~ N(0, 1):
    ``E[1(X > t) He_k(X)] = phi(t) He_{k-1}(t)``; normalised Hermite recursion for stability."""
    out = np.zeros(terms)
    for t in thresholds:
        dens = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
        h_prev, h = 0.0, 1.0  # h_{-1}, h_0
        for k in range(1, terms + 1):
            out[k - 1] += dens * h / math.sqrt(k)
            h_prev, h = h, (t * h - math.sqrt(k - 1) * h_prev) / math.sqrt(k)
    return out


def _model_truth() -> dict[str, Any]:
    """The ECSI model of the sample: its parameters and the population PLS-PM estimates.

    For X, Y standard normal with correlation r and step functions f, g, Mehler's formula gives
    ``Cov(f(X), g(Y)) = sum_k r^k c_k(f) c_k(g)``; with equal weights within blocks (exchangeable
    items) the composites' correlations, the loadings and the OLS paths of each endogenous block
    follow."""
    names = [b.name for b in MODEL_BLOCKS]
    phi = model_latent_corr()
    coef, var, mean = {}, {}, {}
    for b in MODEL_BLOCKS:
        ts = [(c - b.location) / b.sd for c in CUTS]
        p_up = [1.0 - float(ndtr(t)) for t in ts]  # P(rating > k), k = 1..4
        probs = [1.0 - p_up[0]] + [p_up[k] - p_up[k + 1] for k in range(len(ts) - 1)] + [p_up[-1]]
        mean[b.name] = _mean_rating(b.location, b.sd, CUTS, 1)
        var[b.name] = sum(pk * (k + 1 - mean[b.name]) ** 2 for k, pk in enumerate(probs))
        coef[b.name] = _hermite_coefficients(ts)

    def item_corr(a: Any, b: Any, r: float) -> float:
        powers = r ** np.arange(1, len(coef[a.name]) + 1)
        return float(np.sum(powers * coef[a.name] * coef[b.name]) / math.sqrt(var[a.name] * var[b.name]))

    k = len(MODEL_BLOCKS)
    within = [item_corr(b, b, b.loading ** 2) for b in MODEL_BLOCKS]
    size = [len(b.items) for b in MODEL_BLOCKS]
    v = [p + p * (p - 1) * w for p, w in zip(size, within, strict=True)]
    comp = np.eye(k)
    for i in range(k):
        for j in range(i):
            a, b = MODEL_BLOCKS[i], MODEL_BLOCKS[j]
            r = item_corr(a, b, a.loading * b.loading * phi[i][j])
            comp[i, j] = comp[j, i] = size[i] * size[j] * r / math.sqrt(v[i] * v[j])
    paths: dict[str, float] = {}
    r2: dict[str, float] = {}
    for j, name in enumerate(names):
        preds = [names.index(a) for (a, t) in MODEL_PATHS if t == name]
        if not preds:
            continue
        beta = np.linalg.solve(comp[np.ix_(preds, preds)], comp[preds, j])
        for i, bcoef in zip(preds, beta, strict=True):
            paths[f"{names[i]}->{name}"] = float(bcoef)
        r2[name] = float(beta @ comp[preds, j])
    loadings = {b.name: (1 + (p - 1) * w) / math.sqrt(vv) for b, p, w, vv in zip(MODEL_BLOCKS, size, within, v,
                                                                                  strict=True)}
    return {
        "blocks": {b.name: {"items": list(b.items), "loading": b.loading, "location": b.location, "sd": b.sd}
                   for b in MODEL_BLOCKS},
        "paths": {f"{a}->{t}": bcoef for (a, t), bcoef in MODEL_PATHS.items()},
        "order": names,
        "latent_correlation": phi,
        "missing_rate": MODEL_MISSING,
        "item_mean": mean,
        "population_pls": {
            "paths": paths, "r2": r2, "loadings": loadings,
            "item_correlation_within": dict(zip(names, within, strict=True)),
            "composite_correlation": comp.tolist(),  # blocks in order
            "index": 100.0 * (mean["satisfaction"] - 1.0) / len(CUTS),  # items 1 .. 1 + len(CUTS)
        },
    }


def truth_json(seed: int, n: int, quality: dict[str, Any], voice_missing: dict[str, float]) -> str:
    return json.dumps(_truth(seed, n, quality, voice_missing), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
