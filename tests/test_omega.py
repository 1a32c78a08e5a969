"""McDonald's omega (issue 15 part 2), checked against independent references:

- the one-factor ML fit against statsmodels' ``Factor(method="ml")`` (its own optimiser);
- omega against the population value of data drawn from a congeneric model with known
  loadings and uniquenesses, and against alpha where alpha is exact (tau-equivalent items);
- the pattern-count bootstrap against a plain row-resampling bootstrap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.multivariate.factor import Factor

from csm_helpers.analysis.measurement import reliability
from csm_helpers.analysis.measurement.omega import omega_bootstrap, omega_of, omega_total, one_factor_ml


def _congeneric(n: int, loadings, uniq_sd, *, seed: int, likert: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    x = 3 + f * np.asarray(loadings) + rng.normal(size=(n, len(loadings))) * np.asarray(uniq_sd)
    return np.clip(np.round(x), 1, 5) if likert else x


def _population_omega(loadings, uniq_sd) -> float:
    common = float(np.sum(loadings)) ** 2
    return common / (common + float(np.sum(np.square(uniq_sd))))


@pytest.mark.parametrize(("loadings", "uniq_sd", "seed"), [
    ([0.9, 0.7, 0.6, 0.5, 0.8], [0.6, 0.7, 0.9, 1.0, 0.5], 1),
    ([0.3, 0.3, 0.2, 0.4], [1.0, 0.9, 1.0, 0.9], 2),
    ([1.2, 0.4, 0.8], [0.3, 1.1, 0.7], 3),
    ([0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7], [0.8] * 8, 4),
])
def test_one_factor_fit_matches_statsmodels_ml(loadings, uniq_sd, seed):
    x = _congeneric(400, loadings, uniq_sd, seed=seed)
    cov = np.cov(x, rowvar=False)
    sd = np.sqrt(np.diag(cov))
    fit = one_factor_ml(cov)
    ref = Factor(corr=np.corrcoef(x, rowvar=False), n_factor=1, method="ml", nobs=len(x)).fit(rng=0)  # (seeded start)
    assert fit.converged and not fit.heywood
    np.testing.assert_allclose(fit.loadings / sd, np.abs(ref.loadings[:, 0]), atol=2e-6)
    np.testing.assert_allclose(fit.uniquenesses / sd ** 2, ref.uniqueness, atol=2e-6)


def test_omega_of_a_stack_is_omega_total_of_each():
    covs = np.stack([np.cov(_congeneric(150, [0.9, 0.6, 0.5, 0.7], [0.6, 0.9, 1.0, 0.7], seed=s), rowvar=False)
                     for s in range(5)])
    np.testing.assert_allclose(omega_of(covs), [omega_total(c)[0] for c in covs], atol=1e-9)
    flat = covs[0].copy()
    flat[1, :] = flat[:, 1] = 0.0  # an item that does not vary
    assert np.isnan(omega_of(np.stack([flat, covs[1]]))[0])


def test_omega_of_an_exact_model_covariance_is_the_formula():
    lam, psi = np.array([1.1, 0.8, 0.6, 0.9]), np.array([0.4, 0.9, 1.2, 0.5])
    value, fit = omega_total(np.outer(lam, lam) + np.diag(psi))
    np.testing.assert_allclose(fit.loadings, lam, atol=1e-8)
    np.testing.assert_allclose(fit.uniquenesses, psi, atol=1e-8)
    assert value == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum()), abs=1e-10)


def test_omega_equals_alpha_for_tau_equivalent_items_and_exceeds_it_otherwise():
    def alpha(c):
        k = len(c)
        return k / (k - 1) * (1 - np.trace(c) / c.sum())

    equal = np.outer([0.8] * 4, [0.8] * 4) + np.diag([0.3, 0.6, 0.9, 0.4])
    assert omega_total(equal)[0] == pytest.approx(alpha(equal), abs=1e-9)
    unequal = np.outer([1.2, 0.3, 0.8, 0.5], [1.2, 0.3, 0.8, 0.5]) + np.diag([0.3, 0.6, 0.9, 0.4])
    assert omega_total(unequal)[0] > alpha(unequal) + 0.01


def test_omega_recovers_the_population_value_of_a_large_sample():
    loadings, uniq_sd = [0.9, 0.5, 0.7, 0.4], [0.5, 0.9, 0.6, 1.0]
    x = _congeneric(200_000, loadings, uniq_sd, seed=11)
    assert omega_total(np.cov(x, rowvar=False))[0] == pytest.approx(_population_omega(loadings, uniq_sd), abs=0.003)


def test_bootstrap_is_seeded_and_agrees_with_plain_row_resampling():
    x = _congeneric(300, [0.9, 0.7, 0.6, 0.5], [0.6, 0.7, 0.9, 1.0], seed=5, likert=True)
    low, high, used = omega_bootstrap(x, n_boot=2000, seed=3)
    assert used == 2000 and (low, high) == omega_bootstrap(x, n_boot=2000, seed=3)[:2]
    rng = np.random.default_rng(99)  # the textbook bootstrap, one row draw at a time
    plain = omega_of(np.stack([np.cov(x[rng.integers(0, len(x), len(x))], rowvar=False) for _ in range(2000)]))
    ref_low, ref_high = np.quantile(plain, [0.025, 0.975])
    assert low == pytest.approx(ref_low, abs=0.012) and high == pytest.approx(ref_high, abs=0.012)
    assert low < omega_total(np.cov(x, rowvar=False))[0] < high


def test_bootstrap_interval_covers_the_population_omega_about_95_percent():
    loadings, uniq_sd = [0.9, 0.7, 0.6, 0.5], [0.6, 0.7, 0.9, 1.0]
    truth = _population_omega(loadings, uniq_sd)
    hits = 0
    for seed in range(40):
        low, high, _used = omega_bootstrap(_congeneric(200, loadings, uniq_sd, seed=1000 + seed), n_boot=300,
                                           seed=seed)
        hits += low <= truth <= high
    assert 33 <= hits <= 40  # 95 % of 40 is 38; a binomial 99.9 % band


def test_reliability_table_has_omega_beside_alpha_and_says_why_it_is_missing():
    x = _congeneric(250, [0.9, 0.7, 0.6, 0.5, 0.8], [0.6, 0.7, 0.9, 1.0, 0.5], seed=8, likert=True)
    data = pd.DataFrame(x, columns=list("abcde"))
    rel = reliability(data, dimensions={"people": ["a", "b", "c"], "pair": ["d", "e"]}, n_boot=300, seed=1)
    people, pair = rel.iloc[0], rel.iloc[1]
    assert people["omega_ci_low"] < people["omega"] < people["omega_ci_high"]
    assert people["omega"] == pytest.approx(omega_total(np.cov(x[:, :3], rowvar=False))[0], abs=1e-12)
    assert np.isnan(pair["omega"]) and "at least 3 items" in pair["note"]
    assert np.isfinite(pair["alpha"])


def test_a_heywood_case_is_named():
    rng = np.random.default_rng(4)
    f = rng.normal(size=(500, 1))
    x = np.hstack([f, f * 0.5 + rng.normal(size=(500, 1)), f * 0.4 + rng.normal(size=(500, 1))])
    data = pd.DataFrame(x, columns=["a", "b", "c"])
    rel = reliability(data, dimensions={"d": ["a", "b", "c"]}, n_boot=0, seed=1)
    assert np.isfinite(rel["omega"].iloc[0]) and np.isnan(rel["omega_ci_low"].iloc[0])
    assert "Heywood" in rel["note"].iloc[0]


def test_large_sample_interval_from_the_normal_limit_agrees_with_the_exact_bootstrap():
    x = _congeneric(30_000, [0.9, 0.7, 0.6, 0.5, 0.8, 0.6], [0.6, 0.7, 0.9, 1.0, 0.5, 0.8], seed=12, likert=True)
    normal = omega_bootstrap(x, n_boot=2000, seed=1)  # 30,000 > OMEGA_EXACT_BOOTSTRAP_N
    exact = omega_bootstrap(x, n_boot=2000, seed=1, exact_up_to=10 ** 9)
    assert normal[2] == exact[2] == 2000
    assert normal[0] == pytest.approx(exact[0], abs=6e-4) and normal[1] == pytest.approx(exact[1], abs=6e-4)


def test_answer_patterns_of_continuous_and_whole_number_rows_give_the_same_interval_kind():
    x = _congeneric(300, [0.9, 0.7, 0.6, 0.5], [0.6, 0.7, 0.9, 1.0], seed=5)  # continuous: every row distinct
    low, high, used = omega_bootstrap(x, n_boot=300, seed=2)
    assert used == 300 and low < omega_total(np.cov(x, rowvar=False))[0] < high
