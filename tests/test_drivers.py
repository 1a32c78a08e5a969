"""Tests of csm_helpers.analysis.drivers: relative weights, key drivers, IPA, quadrant probabilities.

Every number is checked against an independent reference: statsmodels OLS/WLS, pandas'
pairwise correlations, statsmodels' weighted correlations, a brute-force LMG/Shapley
decomposition, closed-form hand derivations, a published worked example (the rwa R package's
documented output), synthetic data with a known answer, and the sample study's truth.json.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sst
from statsmodels.stats.weightstats import DescrStatsW

from csm_helpers.analysis.drivers import (
    CONCENTRATE,
    KEEP_UP,
    LOW_PRIORITY,
    OVERKILL,
    QUADRANTS,
    attribute_table,
    driver_minimum_n,
    ipa,
    ipa_quadrant_probability,
    key_drivers,
    nearest_correlation,
    relative_weights,
)
from csm_helpers.analysis.drivers import bootstrap as DB
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import load_study
from csm_helpers.study.datasets import read_dataset, sample_dir, sample_study_path
from csm_helpers.synthetic.sample import generate_sample

TRUTH = json.loads((sample_dir() / "truth.json").read_text(encoding="utf-8"))
TRUE_TOP3 = sorted(TRUTH["driver_weights"], key=TRUTH["driver_weights"].get, reverse=True)[:3]


# --------------------------------------------------------------------------- helpers (references)
def _correlated(n: int, p: int, seed: int, *, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, p))
    C = A @ A.T
    C = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    X = rng.multivariate_normal(np.zeros(p), C, size=n)
    y = X @ rng.uniform(0.1, 0.6, p) + rng.normal(scale=noise, size=n)
    return X, y


def _ols_r2(y: np.ndarray, X: np.ndarray) -> float:
    return float(sm.OLS(y, sm.add_constant(X)).fit().rsquared)


def _lmg(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Brute-force LMG / Shapley value: R^2 increments averaged over all orderings (via subsets)."""
    p = X.shape[1]
    r2 = {frozenset(): 0.0}
    for k in range(1, p + 1):
        for S in itertools.combinations(range(p), k):
            r2[frozenset(S)] = _ols_r2(y, X[:, list(S)])
    out = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            for S in itertools.combinations(others, k):
                weight = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
                out[j] += weight * (r2[frozenset(S) | {j}] - r2[frozenset(S)])
    return out


def _zscore(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(axis=0)) / a.std(axis=0, ddof=1)


def _frame(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df["y"] = y
    return df


def _drivers(p: int) -> dict[str, str]:
    return {f"a{i}": f"x{i}" for i in range(p)}


# --------------------------------------------------------------------------- relative_weights
def test_raw_weights_sum_to_statsmodels_r2():
    X, y = _correlated(600, 5, seed=1)
    R = np.corrcoef(np.column_stack([y, X]), rowvar=False)
    rw = relative_weights(R, outcome=0, predictors=[1, 2, 3, 4, 5])
    ref = _ols_r2(_zscore(y), _zscore(X))
    assert rw["raw_weight"].sum() == pytest.approx(ref, abs=1e-10)
    assert rw.attrs["r2"] == pytest.approx(ref, abs=1e-10)
    assert rw["rw_pct"].sum() == pytest.approx(100, abs=1e-9)
    assert rw["predictor"].tolist() == [1, 2, 3, 4, 5]


def test_orthogonal_predictors_get_r_squared():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(200, 4))
    X, _ = np.linalg.qr(Z - Z.mean(axis=0))  # orthonormal columns spanning centred data: centred too
    y = X @ np.array([3.0, -2.0, 1.0, 0.5]) + rng.normal(size=200) * 0.05
    R = np.corrcoef(np.column_stack([y, X]), rowvar=False)
    assert np.abs(R[1:, 1:] - np.eye(4)).max() < 1e-10  # the predictors are uncorrelated
    rw = relative_weights(R, outcome=0, predictors=[1, 2, 3, 4])
    np.testing.assert_allclose(rw["raw_weight"], R[0, 1:] ** 2, atol=1e-10)


def test_two_predictors_closed_form():
    # Hand derivation: R_xx = [[1, rho], [rho, 1]] has eigenvalues 1 +/- rho with eigenvectors
    # (1, 1)/sqrt2 and (1, -1)/sqrt2, so Lambda = [[a, b], [b, a]] with
    # a = (sqrt(1+rho) + sqrt(1-rho))/2, b = (sqrt(1+rho) - sqrt(1-rho))/2.
    rho, r1, r2 = 0.3, 0.5, 0.4
    a = (math.sqrt(1 + rho) + math.sqrt(1 - rho)) / 2
    b = (math.sqrt(1 + rho) - math.sqrt(1 - rho)) / 2
    det = a * a - b * b
    bs1, bs2 = (a * r1 - b * r2) / det, (a * r2 - b * r1) / det
    eps1 = a * a * bs1**2 + b * b * bs2**2
    eps2 = b * b * bs1**2 + a * a * bs2**2
    R2 = (r1**2 + r2**2 - 2 * rho * r1 * r2) / (1 - rho**2)
    R = pd.DataFrame([[1, r1, r2], [r1, 1, rho], [r2, rho, 1]], index=["y", "a", "b"], columns=["y", "a", "b"])
    rw = relative_weights(R, outcome="y", predictors=["a", "b"])
    np.testing.assert_allclose(rw["raw_weight"], [eps1, eps2], atol=1e-12)
    assert rw.attrs["r2"] == pytest.approx(R2, abs=1e-12)
    # hand values, to 4 decimals
    assert (round(eps1, 4), round(eps2, 4), round(R2, 4)) == (0.2043, 0.1143, 0.3187)


@pytest.mark.parametrize("rxx, rxy, expected, r2", [
    # rwa (R package, martinctc/rwa) reference manual, example `rwa(diamonds, "price", c("depth", "carat"))`
    (0.02822431, (-0.0106474, 0.9215913), (0.000729149, 0.849946308), 0.8506755),
    # same page, `use = "complete.obs"` on a 1,000-row subsample
    (0.02797885, (-0.01517396, 0.92138091), (0.0009543612, 0.8496668919), 0.8506213),
])
def test_published_worked_example(rxx, rxy, expected, r2):
    R = np.array([[1, rxy[0], rxy[1]], [rxy[0], 1, rxx], [rxy[1], rxx, 1]])
    rw = relative_weights(R, outcome=0, predictors=[1, 2])
    # the published correlations have 7-8 significant digits
    np.testing.assert_allclose(rw["raw_weight"], expected, atol=2e-7)
    assert rw.attrs["r2"] == pytest.approx(r2, abs=2e-7)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_close_to_brute_force_lmg_on_correlated_data(seed):
    X, y = _correlated(1500, 5, seed=seed)
    R = np.corrcoef(np.column_stack([y, X]), rowvar=False)
    assert np.abs(R[1:, 1:] - np.eye(5)).max() > 0.4  # genuinely correlated predictors
    rw = relative_weights(R, outcome=0, predictors=[1, 2, 3, 4, 5])
    lmg = _lmg(y, X)
    assert lmg.sum() == pytest.approx(rw["raw_weight"].sum(), abs=1e-10)  # both decompose R^2
    assert np.abs(rw["raw_weight"].to_numpy() - lmg).max() < 0.02
    assert sst.spearmanr(rw["raw_weight"], lmg)[0] > 0.8


def test_relative_weights_errors():
    R = np.array([[1, 0.5, 0.4], [0.5, 1, 0.3], [0.4, 0.3, 1]])
    with pytest.raises(CsmError, match="not a row of the correlation matrix"):
        relative_weights(pd.DataFrame(R, index=list("yab"), columns=list("yab")), outcome="y",
                         predictors=["a", "c"])
    with pytest.raises(CsmError, match="not symmetric"):
        relative_weights(R + np.triu(np.full((3, 3), 0.1), 1), outcome=0, predictors=[1, 2])
    with pytest.raises(CsmError, match="differ from the outcome"):
        relative_weights(R, outcome=0, predictors=[0, 1])
    bad = np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
    with pytest.raises(CsmError, match="not positive definite.*nearest_correlation"):
        relative_weights(bad, outcome=0, predictors=[1, 2])
    with pytest.raises(CsmError, match="diagonal must be 1"):
        relative_weights(R * 2, outcome=0, predictors=[1, 2])


def test_nearest_correlation_repairs_and_leaves_good_matrices_alone():
    bad = np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
    fixed = nearest_correlation(bad)
    assert np.linalg.eigvalsh(fixed).min() > 0
    np.testing.assert_allclose(np.diag(fixed), 1)
    np.testing.assert_allclose(fixed, fixed.T)
    assert np.abs(fixed - bad).max() < 1  # a repair, not a different matrix
    good = np.corrcoef(np.random.default_rng(0).normal(size=(50, 4)), rowvar=False)
    np.testing.assert_array_equal(nearest_correlation(good), good)
    df = pd.DataFrame(bad, index=list("abc"), columns=list("abc"))
    assert list(nearest_correlation(df).columns) == list("abc")


# --------------------------------------------------------------------------- key_drivers: estimates
def test_betas_r_and_r2_match_statsmodels_on_complete_data():
    X, y = _correlated(800, 4, seed=7)
    df = _frame(X, y)
    kd = key_drivers(df, outcome="y", drivers=_drivers(4), n_boot=0)
    fit = sm.OLS(_zscore(y), sm.add_constant(_zscore(X))).fit()
    np.testing.assert_allclose(kd["beta"], fit.params[1:], atol=1e-10)
    np.testing.assert_allclose(kd["r"], [np.corrcoef(X[:, j], y)[0, 1] for j in range(4)], atol=1e-12)
    assert kd.attrs["r2"] == pytest.approx(fit.rsquared, abs=1e-10)
    assert kd["relative_weight"].sum() == pytest.approx(fit.rsquared, abs=1e-10)
    assert kd["n"].tolist() == [800] * 4 and kd.attrs["n_complete"] == 800
    assert kd["rank"].tolist() == list(sst.rankdata(-kd["relative_weight"], method="min").astype(int))
    assert kd["rw_ci_low"].isna().all()  # n_boot=0: no intervals


def test_pairwise_correlations_match_pandas_with_missing_values():
    X, y = _correlated(700, 4, seed=8)
    df = _frame(X, y)
    rng = np.random.default_rng(8)
    for i, c in enumerate(df.columns):
        df.loc[rng.random(len(df)) < 0.05 + 0.1 * i, c] = np.nan  # x3 misses ~35%
    kd = key_drivers(df, outcome="y", drivers=_drivers(4), n_boot=0)
    ref = df.corr()  # pandas: pairwise-complete Pearson
    np.testing.assert_allclose(kd["r"], ref.loc[[f"x{i}" for i in range(4)], "y"], atol=1e-12)
    counts = [(df[f"x{i}"].notna() & df["y"].notna()).sum() for i in range(4)]
    assert kd["n"].tolist() == counts
    # betas from the same pairwise matrix: beta = R_xx^-1 r_xy (numpy on pandas' matrix)
    cols = [f"x{i}" for i in range(4)]
    beta = np.linalg.solve(ref.loc[cols, cols].to_numpy(), ref.loc[cols, "y"].to_numpy())
    np.testing.assert_allclose(kd["beta"], beta, atol=1e-10)
    assert kd.attrs["n_complete"] == int(df.notna().all(axis=1).sum())
    assert kd.attrs["pd_repaired"] is False


def test_complete_cases_when_not_pairwise():
    X, y = _correlated(500, 3, seed=9)
    df = _frame(X, y)
    df.loc[::7, "x1"] = np.nan
    df.loc[::11, "y"] = np.nan
    kd = key_drivers(df, outcome="y", drivers=_drivers(3), n_boot=0, pairwise=False)
    cc = df.dropna()
    fit = sm.OLS(_zscore(cc["y"].to_numpy()), sm.add_constant(_zscore(cc[["x0", "x1", "x2"]].to_numpy()))).fit()
    np.testing.assert_allclose(kd["beta"], fit.params[1:], atol=1e-10)
    assert kd.attrs["r2"] == pytest.approx(fit.rsquared, abs=1e-10)
    assert kd["n"].tolist() == [len(cc)] * 3


def test_weighted_correlations_and_betas_match_statsmodels():
    X, y = _correlated(600, 3, seed=10)
    df = _frame(X, y)
    w = np.random.default_rng(10).uniform(0.2, 3, len(df))
    df["w"] = w
    kd = key_drivers(df, outcome="y", drivers=_drivers(3), weights="w", n_boot=0)
    ref = DescrStatsW(np.column_stack([y, X]), weights=w).corrcoef
    np.testing.assert_allclose(kd["r"], ref[0, 1:], atol=1e-12)
    # WLS of the outcome on the drivers, standardised with weighted SDs
    sd = DescrStatsW(np.column_stack([y, X]), weights=w).std
    fit = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    np.testing.assert_allclose(kd["beta"], fit.params[1:] * sd[1:] / sd[0], atol=1e-10)
    assert kd.attrs["r2"] == pytest.approx(fit.rsquared, abs=1e-10)
    assert kd.attrs["weighted"] is True
    assert kd.attrs["n_eff"] == pytest.approx(w.sum() ** 2 / (w**2).sum())


def test_integer_weights_equal_duplicated_rows():
    X, y = _correlated(300, 3, seed=11)
    df = _frame(X, y)
    df.loc[::9, "x2"] = np.nan
    df["w"] = np.random.default_rng(11).integers(0, 4, len(df))
    dup = df.loc[df.index.repeat(df["w"])].reset_index(drop=True)
    a = key_drivers(df, outcome="y", drivers=_drivers(3), weights="w", n_boot=0)
    b = key_drivers(dup, outcome="y", drivers=_drivers(3), n_boot=0)
    for col in ("r", "beta", "relative_weight", "rw_pct"):
        np.testing.assert_allclose(a[col], b[col], atol=1e-10)
    assert a.attrs["r2"] == pytest.approx(b.attrs["r2"], abs=1e-10)
    # n counts respondents with a positive weight, not weight totals
    assert a["n"].tolist() == [int(((df["w"] > 0) & df[f"x{i}"].notna()).sum()) for i in range(3)]


def test_non_positive_definite_pairwise_matrix_is_repaired():
    # Three drivers answered in disjoint pairs: a-b agree, b-c agree, a-c disagree (impossible jointly).
    rng = np.random.default_rng(12)
    blocks = []
    for (u, v), sign in ((("a", "b"), 1), (("b", "c"), 1), (("a", "c"), -1)):
        z = rng.normal(size=120)
        blk = pd.DataFrame({"a": np.nan, "b": np.nan, "c": np.nan}, index=range(120))
        blk[u] = z + rng.normal(scale=0.3, size=120)
        blk[v] = sign * z + rng.normal(scale=0.3, size=120)
        blk["y"] = z + rng.normal(size=120)
        blocks.append(blk)
    df = pd.concat(blocks, ignore_index=True)
    pair = df[["y", "a", "b", "c"]].corr()
    assert np.linalg.eigvalsh(pair.to_numpy()).min() < 0  # pandas agrees: not positive definite
    kd = key_drivers(df, outcome="y", drivers={"a": "a", "b": "b", "c": "c"}, n_boot=50, seed=1)
    assert kd.attrs["pd_repaired"] is True
    assert kd.attrs["min_eigenvalue"] == pytest.approx(np.linalg.eigvalsh(pair.to_numpy()).min(), abs=1e-10)
    assert "repaired by eigenvalue clipping" in kd.attrs["method"]
    assert (kd["relative_weight"] >= 0).all()
    assert 0 <= kd.attrs["r2"] <= 1
    assert kd["relative_weight"].sum() == pytest.approx(kd.attrs["r2"], abs=1e-10)
    np.testing.assert_allclose(kd["r"], pair.loc[["a", "b", "c"], "y"], atol=1e-12)  # r: as computed


# --------------------------------------------------------------------------- key_drivers: bootstrap
def test_bootstrap_is_seeded_and_brackets_the_estimate():
    df = read_dataset("responses")
    drivers = {a.id: a.performance for a in load_study(sample_study_path()).attributes}
    a = key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=300, seed=5)
    b = key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=300, seed=5)
    c = key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=300, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["rw_ci_low"], c["rw_ci_low"])
    big = a["relative_weight"] > 0.01
    assert ((a["rw_ci_low"] < a["relative_weight"]) & (a["relative_weight"] < a["rw_ci_high"]))[big].all()
    assert ((a["rw_pct_ci_low"] < a["rw_pct"]) & (a["rw_pct"] < a["rw_pct_ci_high"]))[big].all()
    assert a.attrs["n_boot"] == 300 and a.attrs["n_boot_failed"] == 0


def test_bootstrap_matches_a_plain_reference_bootstrap():
    # Reference: a naive loop that resamples rows with pandas and recomputes pandas.corr()
    # and the regression R^2 with statsmodels; the spread of its relative weights must match.
    X, y = _correlated(400, 3, seed=13)
    df = _frame(X, y)
    df.loc[::6, "x0"] = np.nan
    kd = key_drivers(df, outcome="y", drivers=_drivers(3), n_boot=1500, seed=2)
    rng = np.random.default_rng(99)
    ref = []
    for _ in range(400):
        s = df.iloc[rng.integers(0, len(df), len(df))]
        ref.append(relative_weights(s.corr(), outcome="y", predictors=["x0", "x1", "x2"])["raw_weight"])
    ref = np.array(ref)
    width = kd["rw_ci_high"] - kd["rw_ci_low"]
    ref_width = np.quantile(ref, 0.975, axis=0) - np.quantile(ref, 0.025, axis=0)
    np.testing.assert_allclose(width, ref_width, rtol=0.2)


def test_batch_sum_bootstrap_agrees_with_row_bootstrap(monkeypatch):
    X, y = _correlated(6000, 3, seed=14)
    df = _frame(X, y)
    df.loc[::5, "x1"] = np.nan
    rows = key_drivers(df, outcome="y", drivers=_drivers(3), n_boot=1000, seed=3)
    monkeypatch.setattr(DB, "MAX_UNITS", 1500)  # 1,500 batches of 4 respondents
    batches = key_drivers(df, outcome="y", drivers=_drivers(3), n_boot=1000, seed=3)
    pd.testing.assert_series_equal(rows["relative_weight"], batches["relative_weight"])
    w_rows = rows["rw_ci_high"] - rows["rw_ci_low"]
    w_batch = batches["rw_ci_high"] - batches["rw_ci_low"]
    np.testing.assert_allclose(w_batch, w_rows, rtol=0.15)


@pytest.mark.parametrize("units", [None, 700])
def test_row_blocks_do_not_change_the_result(monkeypatch, units):
    # Products over the respondents are accumulated a block of rows at a time (memory bound);
    # tiny blocks must give the same estimates and the same bootstrap resamples (rows, and
    # batches of 3 respondents with units=700 -- two runs of batch sizes, 3 and 2).
    X, y = _correlated(2000, 3, seed=21)
    df = _frame(X, y).assign(w=np.random.default_rng(3).uniform(0.5, 2, 2000))
    df.loc[::7, "x2"] = np.nan
    if units:
        monkeypatch.setattr(DB, "MAX_UNITS", units)
    whole = key_drivers(df, outcome="y", drivers=_drivers(3), weights="w", n_boot=200, seed=4)
    monkeypatch.setattr(DB, "_ROW_BLOCK", 7)
    blocks = key_drivers(df, outcome="y", drivers=_drivers(3), weights="w", n_boot=200, seed=4)
    pd.testing.assert_frame_equal(whole, blocks, rtol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("units", [None, 150])
def test_bootstrap_intervals_cover_known_weights(monkeypatch, units):
    # Continuous model with independent standard-normal drivers and Var(y) = 1: the true relative
    # weights are beta_j^2 exactly. Nominal 95%; 250 replicates x 4 drivers = 1,000 intervals.
    # units=150 runs the batch-sum bootstrap (150 batches of 2 respondents). The percentile
    # bootstrap runs slightly below nominal at n = 300 (about 93% here), hence the bounds.
    if units:
        monkeypatch.setattr(DB, "MAX_UNITS", units)
    beta = np.array([0.5, 0.35, 0.25, 0.15])
    truth = beta**2
    rng = np.random.default_rng(2026)
    hits = []
    for rep in range(250):
        X = rng.normal(size=(300, 4))
        y = X @ beta + rng.normal(scale=math.sqrt(1 - truth.sum()), size=300)
        kd = key_drivers(_frame(X, y), outcome="y", drivers=_drivers(4), n_boot=400, seed=rep)
        hits.append((kd["rw_ci_low"] <= truth) & (truth <= kd["rw_ci_high"]))
    coverage = float(np.mean(hits))
    assert 0.90 <= coverage <= 0.98, coverage


# --------------------------------------------------------------------------- key_drivers: ground truth
def test_sample_top3_true_drivers_rank_top3():
    # The three true drivers rank 1-3 in their true order (the latent betas and the latent
    # relative weights of truth.json agree on it). The sample's percentile intervals are checked
    # against observed_drivers.driver_relative_weights: the population relative weights of the
    # 1-5 ratings themselves (exact, from the generating model), i.e. what key_drivers estimates.
    # Nominal 95% each: at least 10 of the 12 must cover (11 do on the bundled sample).
    df = read_dataset("responses")
    drivers = {a.id: a.performance for a in load_study(sample_study_path()).attributes}
    kd = key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=200, seed=1)
    assert kd.sort_values("rank")["attribute"].head(3).tolist() == TRUE_TOP3
    latent = TRUTH["driver_relative_weights"]
    assert sorted(latent, key=latent.get, reverse=True)[:3] == TRUE_TOP3
    truth = kd["attribute"].map(TRUTH["observed_drivers"]["driver_relative_weights"])
    assert ((kd["rw_ci_low"] <= truth) & (truth <= kd["rw_ci_high"])).sum() >= 10


@pytest.mark.slow
def test_large_generated_sample_recovers_true_shares(tmp_path):
    """n = 20,000: ranks and shares of R^2 match truth.json.

    truth["driver_relative_weights"] are Johnson's relative weights of the *latent* scores (the
    population latent correlation matrix of z and y; they sum to driver_r2 = 0.60). The observed
    1-5 ratings are discretised latent scores, which attenuates every correlation (here the
    weights come out at 75-90% of the latent ones and R^2 at about 0.48 instead of 0.60), but
    roughly proportionally: so the ranks and the shares of R^2 (rw_pct / 100 vs
    rw_a / sum rw) are compared, not the raw weights.
    """
    study = load_study(generate_sample(tmp_path, n=20000))
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    df = pd.read_csv(tmp_path / "responses.csv", encoding="utf-8-sig")
    kd = key_drivers(df, outcome="overall_sat", drivers={a.id: a.performance for a in study.attributes},
                     n_boot=200, seed=2)
    rw = pd.Series(truth["driver_relative_weights"])
    true_share = kd["attribute"].map(rw / rw.sum())
    top3 = sorted(truth["driver_weights"], key=truth["driver_weights"].get, reverse=True)[:3]
    assert kd.sort_values("rank")["attribute"].head(3).tolist() == top3
    assert sst.spearmanr(kd["relative_weight"], true_share)[0] > 0.95
    assert (kd["rw_pct"] / 100 - true_share).abs().max() < 0.03
    ratio = kd["relative_weight"] / kd["attribute"].map(rw)
    assert ratio[kd["rank"] <= 5].between(0.5, 1.0).all()  # attenuated, never inflated
    assert kd.attrs["r2"] < rw.sum()


# --------------------------------------------------------------------------- key_drivers: input handling
def test_key_drivers_does_not_modify_the_frame():
    df = read_dataset("responses")
    before = df.copy()
    key_drivers(df, outcome="overall_sat", drivers={"fees": "perf_fees", "wait": "perf_wait_time"}, n_boot=20)
    pd.testing.assert_frame_equal(df, before)


def test_key_drivers_errors():
    df = pd.DataFrame({"y": [1, 2, 3, 4, 5, 3], "a": [2, 3, 1, 5, 4, 2], "b": [4] * 6,
                       "t": ["1", "2", "x", "4", "5", "1"]})
    with pytest.raises(DataError, match=r"column 'perf_a' \(driver 'a'\) is not in the data"):
        key_drivers(df, outcome="y", drivers={"a": "perf_a"})
    with pytest.raises(DataError, match=r"column 't' .* is not numeric: found 'x'"):
        key_drivers(df, outcome="y", drivers={"t": "t"})
    with pytest.raises(DataError, match=r"'b' \(a driver\) has no variance"):
        key_drivers(df, outcome="y", drivers={"a": "a", "b": "b"}, min_n=0)
    with pytest.raises(DataError, match="outcome 'y' is also listed as a driver"):
        key_drivers(df, outcome="y", drivers={"a": "a", "y": "y"})
    with pytest.raises(DataError, match="given for more than one attribute"):
        key_drivers(df, outcome="y", drivers={"a": "a", "a2": "a"})
    with pytest.raises(CsmError, match="`n_boot`"):
        key_drivers(df, outcome="y", drivers={"a": "a"}, n_boot=-1)
    with pytest.raises(CsmError, match="`level`"):
        key_drivers(df, outcome="y", drivers={"a": "a"}, level=95)
    tiny = pd.DataFrame({"y": [1, 2, 3, np.nan, np.nan, np.nan], "a": [np.nan, np.nan, np.nan, 1, 2, 3]})
    with pytest.raises(DataError, match="answered together by 0 respondents"):
        key_drivers(tiny, outcome="y", drivers={"a": "a"}, min_n=0)


def test_string_numbers_are_accepted():
    X, y = _correlated(100, 2, seed=15)
    df = _frame(np.round(X, 3), y)
    as_text = df.astype({"x0": str})
    a = key_drivers(df, outcome="y", drivers=_drivers(2), n_boot=0)
    b = key_drivers(as_text, outcome="y", drivers=_drivers(2), n_boot=0)
    np.testing.assert_allclose(a["relative_weight"], b["relative_weight"])


# --------------------------------------------------------------------------- hypothesis
_finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def _datasets(draw):
    n = draw(st.integers(12, 40))
    p = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 6, size=(n, p)).astype(float)
    y = np.clip(np.round(X.mean(axis=1) + rng.normal(scale=draw(st.floats(0.3, 3)), size=n)), 1, 5)
    df = _frame(X, y)
    miss = draw(st.floats(0, 0.15))
    for c in df.columns:
        df.loc[rng.random(n) < miss, c] = np.nan
    return df, p, seed


def _usable(df: pd.DataFrame, p: int) -> bool:
    cols = ["y", *[f"x{i}" for i in range(p)]]
    for a, b in itertools.combinations_with_replacement(cols, 2):
        pair = df[list(dict.fromkeys([a, b]))].dropna()
        if len(pair) < 3 or pair[a].nunique() < 2 or pair[b].nunique() < 2:
            return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_datasets())
def test_property_weights_nonnegative_sum_to_r2_at_most_one(case):
    df, p, _ = case
    if not _usable(df, p):
        return
    kd = key_drivers(df, outcome="y", drivers=_drivers(p), n_boot=20, seed=1, min_n=0)  # the algebra at any n
    assert (kd["relative_weight"] >= -1e-12).all()
    assert kd["relative_weight"].sum() == pytest.approx(kd.attrs["r2"], abs=1e-10)
    assert -1e-12 <= kd.attrs["r2"] <= 1 + 1e-12
    assert kd["r"].between(-1, 1).all()
    ci = kd[["rw_ci_low", "rw_ci_high"]].dropna()
    assert (ci["rw_ci_low"] <= ci["rw_ci_high"] + 1e-15).all()


@settings(max_examples=40, deadline=None)
@given(_datasets(), st.randoms(use_true_random=False))
def test_property_invariant_to_row_order(case, rnd):
    df, p, _ = case
    if not _usable(df, p):
        return
    order = list(range(len(df)))
    rnd.shuffle(order)
    a = key_drivers(df, outcome="y", drivers=_drivers(p), n_boot=0, min_n=0)
    b = key_drivers(df.iloc[order], outcome="y", drivers=_drivers(p), n_boot=0, min_n=0)
    for col in ("n", "r", "beta", "relative_weight", "rank"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), atol=1e-9)


# --------------------------------------------------------------------------- attribute table and IPA
def test_attribute_table_of_the_sample_and_of_a_study_without_importance(small_study):
    t = attribute_table(load_study(sample_study_path()))
    assert list(t.columns) == ["attribute", "label", "dimension", "performance", "importance", "expectation",
                               "competitor", "scale_min", "scale_max"]
    assert len(t) == 12 and t["importance"].notna().all()
    small = attribute_table(load_study(small_study))
    assert small["importance"].isna().all() and small["scale_max"].tolist() == [7.0] * 3


def _ipa_frame(perf_means, imp_means, n=4):
    """Respondents whose item means are exactly the given values (two answers around each mean)."""
    data = {}
    for i, (pm, im) in enumerate(zip(perf_means, imp_means, strict=True)):
        data[f"p{i}"] = [pm - 0.5, pm + 0.5] * (n // 2)
        data[f"i{i}"] = [im + 0.5, im - 0.5] * (n // 2)
    return pd.DataFrame(data)


def _ipa_attrs(k):
    return {f"a{i}": {"performance": f"p{i}", "importance": f"i{i}", "label": f"Attr {i}"} for i in range(k)}


def test_ipa_quadrants_one_per_quadrant():
    # perf 2 / imp 4 -> Concentrate; 4 / 4 -> Keep up; 2 / 2 -> Low priority; 4 / 2 -> Overkill.
    df = _ipa_frame([2, 4, 2, 4], [4, 4, 2, 2])
    for crosshair in ("grand_mean", "midpoint"):  # grand means are 3 and 3 = the midpoints of 1-5
        t = ipa(df, attributes=_ipa_attrs(4), crosshair=crosshair, scale=(1, 5))
        assert t["quadrant"].tolist() == [CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL]
        assert (t["x_cross"].iloc[0], t["y_cross"].iloc[0]) == (3.0, 3.0)
    assert t["performance"].tolist() == [2, 4, 2, 4] and t["n_performance"].tolist() == [4] * 4
    assert t["label"].tolist() == ["Attr 0", "Attr 1", "Attr 2", "Attr 3"]
    assert set(QUADRANTS) == {"Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"}


def test_ipa_midpoint_vs_grand_mean():
    # Everything is rated well: every performance mean is above the midpoint 3 of a 1-5 scale.
    df = _ipa_frame([3.5, 4.5, 3.6, 4.4], [4.6, 4.4, 3.4, 3.6])
    gm = ipa(df, attributes=_ipa_attrs(4), crosshair="grand_mean")
    mid = ipa(df, attributes=_ipa_attrs(4), crosshair="midpoint", scale=(1, 5))
    assert gm["x_cross"].iloc[0] == pytest.approx(4.0) and gm["y_cross"].iloc[0] == pytest.approx(4.0)
    assert gm["quadrant"].tolist() == [CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL]
    assert mid["x_cross"].iloc[0] == 3.0 and mid["y_cross"].iloc[0] == 3.0
    assert mid["quadrant"].tolist() == [KEEP_UP] * 4
    # a 1-7 importance scale moves the importance midpoint to 4
    mid7 = ipa(df, attributes=_ipa_attrs(4), crosshair="midpoint", scale=(1, 5), importance_scale=(1, 7))
    assert mid7["quadrant"].tolist() == [KEEP_UP, KEEP_UP, OVERKILL, OVERKILL]


def test_ipa_tie_on_the_crosshair_counts_as_high():
    df = _ipa_frame([3, 4, 2], [3, 2, 4])  # grand means 3 and 3: attribute 0 sits on both lines
    t = ipa(df, attributes=_ipa_attrs(3))
    assert t.loc[0, "quadrant"] == KEEP_UP


def test_ipa_derived_importance_and_weights():
    df = _ipa_frame([2, 4, 2, 4], [4, 4, 2, 2])
    derived = pd.DataFrame({"attribute": ["a0", "a1", "a2", "a3"], "relative_weight": [0.3, 0.2, 0.05, 0.01]})
    t = ipa(df, attributes=_ipa_attrs(4), importance="derived", derived=derived, crosshair="midpoint")
    assert t["y_cross"].iloc[0] == pytest.approx(0.14)  # mean of the derived values, even with midpoint
    assert t["quadrant"].tolist() == [CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL]
    assert t["importance_type"].iloc[0] == "derived (relative_weight)"
    assert t["n_importance"].isna().all()
    by_map = ipa(df, attributes=_ipa_attrs(4), importance="derived", derived={"a0": 1, "a1": 1, "a2": 0, "a3": 0})
    assert by_map["quadrant"].tolist() == [CONCENTRATE, KEEP_UP, LOW_PRIORITY, OVERKILL]
    # weighted means: numpy reference
    dfw = df.assign(w=[1.0, 3.0, 1.0, 3.0])
    tw = ipa(dfw, attributes=_ipa_attrs(4), weights="w")
    np.testing.assert_allclose(tw["performance"], [np.average(df[f"p{i}"], weights=dfw["w"]) for i in range(4)])
    np.testing.assert_allclose(tw["importance"], [np.average(df[f"i{i}"], weights=dfw["w"]) for i in range(4)])


def test_ipa_auto_importance(small_study):
    df = read_dataset("responses")
    attrs = attribute_table(load_study(sample_study_path()))
    pd.testing.assert_frame_equal(ipa(df, attributes=attrs, importance="auto"), ipa(df, attributes=attrs))
    small = load_study(small_study)
    answers = pd.read_csv(Path(small.dir) / "answers.csv")
    t = ipa(answers, attributes=attribute_table(small), importance="auto",
            derived={"quality": 0.2, "speed": 0.1, "friendly": 0.05})
    assert t["importance_type"].iloc[0] == "derived (relative_weight)"


def test_ipa_on_the_sample_matches_the_truth_quadrants():
    # truth.json's population means put the top drivers in "Concentrate here".
    t = ipa(read_dataset("responses"), attributes=attribute_table(load_study(sample_study_path())))
    perf = pd.Series(TRUTH["mean_performance"])
    imp = pd.Series(TRUTH["mean_importance"])
    high_imp = imp >= imp.mean()
    low_perf = perf < perf.mean()
    true_conc = set(perf.index[high_imp & low_perf])
    got = set(t.loc[t["quadrant"] == CONCENTRATE, "attribute"])
    assert set(TRUE_TOP3) <= got
    assert len(got ^ true_conc) <= 1  # at most one borderline attribute differs


def test_ipa_errors(small_study):
    df = _ipa_frame([2, 4], [4, 4])
    with pytest.raises(CsmError, match="`crosshair` must be one of"):
        ipa(df, attributes=_ipa_attrs(2), crosshair="median")
    with pytest.raises(DataError, match="has no importance item .* importance='derived'"):
        ipa(df, attributes=attribute_table(load_study(small_study)))
    with pytest.raises(CsmError, match="needs `derived`"):
        ipa(df, attributes=_ipa_attrs(2), importance="derived")
    with pytest.raises(DataError, match="no derived importance for attribute 'a1'"):
        ipa(df, attributes=_ipa_attrs(2), importance="derived", derived={"a0": 0.2})
    with pytest.raises(DataError, match=r"column 'p9' \(performance of 'a0'\) is not in the data"):
        ipa(df, attributes={"a0": {"performance": "p9", "importance": "i0"}})


def test_ipa_does_not_modify_inputs():
    df = read_dataset("responses")
    attrs = attribute_table(load_study(sample_study_path()))
    before, before_attrs = df.copy(), attrs.copy()
    ipa(df, attributes=attrs)
    ipa_quadrant_probability(df, attributes=attrs, n_boot=5)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(attrs, before_attrs)


# --------------------------------------------------------------------------- quadrant probability
def test_quadrant_probability_clear_and_borderline_attributes():
    rng = np.random.default_rng(20)
    n = 200
    df = pd.DataFrame({
        "p0": rng.choice([1, 2], n), "i0": rng.choice([4, 5], n),  # far inside "Concentrate here"
        "p1": np.repeat([2, 4], n // 2), "i1": rng.choice([4, 5], n),  # performance mean exactly 3
    })
    attrs = {"a0": {"performance": "p0", "importance": "i0"}, "a1": {"performance": "p1", "importance": "i1"}}
    qp = ipa_quadrant_probability(df, attributes=attrs, crosshair="midpoint", n_boot=1000, seed=1)
    assert qp.loc[0, "quadrant"] == CONCENTRATE and qp.loc[0, "p_quadrant"] == 1.0
    assert qp.loc[0, "p_concentrate_here"] == 1.0
    # a1 sits on the vertical line: about half of the resamples fall on each side (ties count high)
    assert qp.loc[1, "quadrant"] == KEEP_UP
    assert 0.4 <= qp.loc[1, "p_keep_up_the_good_work"] <= 0.65
    shares = qp[["p_concentrate_here", "p_keep_up_the_good_work", "p_low_priority", "p_possible_overkill"]]
    np.testing.assert_allclose(shares.sum(axis=1), 1)
    again = ipa_quadrant_probability(df, attributes=attrs, crosshair="midpoint", n_boot=1000, seed=1)
    pd.testing.assert_frame_equal(qp, again)


def test_quadrant_probability_matches_normal_approximation():
    # Midpoint cross-hairs, importance far above: P(mean performance >= 3) under the bootstrap is
    # about Phi((mean - 3) / se) (central limit theorem), a reference independent of the code.
    rng = np.random.default_rng(21)
    n = 400
    p = rng.choice([1, 2, 3, 4, 5], n, p=[0.15, 0.2, 0.25, 0.22, 0.18]).astype(float)
    df = pd.DataFrame({"p0": p, "i0": 5.0})
    qp = ipa_quadrant_probability(df, attributes={"a0": {"performance": "p0", "importance": "i0"}},
                                  crosshair="midpoint", n_boot=4000, seed=2)
    ref = sst.norm.cdf((p.mean() - 3) / (p.std(ddof=0) / math.sqrt(n)))
    assert qp.loc[0, "p_keep_up_the_good_work"] == pytest.approx(ref, abs=0.05)


def test_quadrant_probability_derived():
    df = read_dataset("responses")
    attrs = attribute_table(load_study(sample_study_path()))
    qp = ipa_quadrant_probability(df, attributes=attrs, importance="derived", outcome="overall_sat",
                                  n_boot=200, seed=4)
    t = ipa(df, attributes=attrs, importance="derived",
            derived=key_drivers(df, outcome="overall_sat", drivers=dict(zip(attrs["attribute"], attrs["performance"],
                                                                             strict=True)), n_boot=0))
    assert qp["quadrant"].tolist() == t["quadrant"].tolist()
    top = qp.set_index("attribute").loc[TRUE_TOP3]
    assert (top["quadrant"] == CONCENTRATE).all() and (top["p_quadrant"] > 0.95).all()
    assert qp.attrs["n_boot_used"] == 200
    with pytest.raises(CsmError, match="needs `outcome`"):
        ipa_quadrant_probability(df, attributes=attrs, importance="derived", n_boot=10)


def test_ipa_works_on_the_small_study_with_derived_importance(small_study):
    study = load_study(small_study)
    df = pd.read_csv(Path(study.dir) / "answers.csv")
    attrs = attribute_table(study)
    kd = key_drivers(df, outcome=study.overall, drivers=dict(zip(attrs["attribute"], attrs["performance"],
                                                                 strict=True)), n_boot=100)
    t = ipa(df, attributes=attrs, importance="derived", derived=kd, crosshair="midpoint", scale=(1, 7))
    assert t["x_cross"].iloc[0] == 4.0
    assert set(t["quadrant"]) <= set(QUADRANTS)


# --------------------------------------------------------------------------- minimum n (issue 10, item 2)
def test_key_drivers_below_the_minimum_are_withheld_not_estimated():
    """n = 8 with 12 drivers gave a ranking with R² = 1.000 (a singular correlation matrix)."""
    rng = np.random.default_rng(4)
    X = rng.integers(1, 6, size=(8, 12)).astype(float)
    df = _frame(X, np.clip(np.round(X.mean(axis=1) + rng.normal(size=8)), 1, 5))
    # the defect itself: on 8 respondents the model "explains" everything
    forced = key_drivers(df, outcome="y", drivers=_drivers(12), n_boot=0, min_n=0)
    assert forced.attrs["r2"] > 0.999 and forced.attrs["pd_repaired"]
    kd = key_drivers(df, outcome="y", drivers=_drivers(12), n_boot=50, seed=1)
    assert kd.attrs["suppressed"] is True and kd.attrs["minimum_n"] == 60 and kd.attrs["n_min"] == 8
    assert kd[["r", "beta", "relative_weight", "rw_pct", "rw_ci_low", "rw_ci_high"]].isna().all().all()
    assert kd["rank"].isna().all() and np.isnan(kd.attrs["r2"])
    assert "at least 60 respondents" in kd.attrs["suppressed_reason"] and "has 8" in kd.attrs["suppressed_reason"]


def test_key_driver_minimum_counts_the_least_answered_pair():
    X, y = _correlated(40, 3, seed=2)
    df = _frame(X, y)
    assert not key_drivers(df, outcome="y", drivers=_drivers(3), n_boot=0).attrs.get("suppressed")  # 40 >= 30
    df.loc[df.index[:15], "x2"] = np.nan  # x2 answered by 25 only
    kd = key_drivers(df, outcome="y", drivers=_drivers(3), n_boot=0)
    assert kd.attrs["suppressed"] and kd.attrs["n_min"] == 25
    assert driver_minimum_n(3) == 30 and driver_minimum_n(7) == 35


def test_quadrant_probability_needs_30_answers_and_says_so():
    rng = np.random.default_rng(6)
    X = rng.integers(1, 6, size=(29, 3)).astype(float)
    imp = rng.integers(1, 6, size=(29, 3)).astype(float)
    df = pd.concat([_frame(X, X.mean(axis=1)), pd.DataFrame(imp, columns=["i0", "i1", "i2"])], axis=1)
    attrs = {f"a{i}": {"performance": f"x{i}", "importance": f"i{i}"} for i in range(3)}
    qp = ipa_quadrant_probability(df, attributes=attrs, n_boot=50, seed=1)
    assert qp.attrs["suppressed"] and qp.attrs["n_min"] == 29 and qp.attrs["minimum_n"] == 30
    assert qp.filter(like="p_").isna().all().all()
    full = pd.concat([df, df.iloc[:1]], ignore_index=True)  # 30 answers: computed
    assert not ipa_quadrant_probability(full, attributes=attrs, n_boot=50, seed=1).attrs.get("suppressed")
