"""Tests of csm_helpers.analysis.kpis: every statistic against an independent reference.

References: statsmodels (Wilson interval, two-proportion z-test), scipy (t interval, Welch t,
normal quantiles), pingouin (one-sample t CI), hand computations from the published formulas
(Rocks' adjusted Wald NPS interval, the CSI definition of SPEC §1.4, Kish's n_eff), synthetic
data with a known truth (coverage), and the sample study's truth.json.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sst
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from csm_helpers.analysis import kpis
from csm_helpers.analysis.kpis import intervals as kpi_intervals
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.datasets import read_dataset, sample_dir

from .disclosure import check_disclosure_rule

Z95 = float(sst.norm.ppf(0.975))
SCALES = {"overall_sat": (1, 5), "sat_last_contact": (1, 5)}


def _wilson_ref(count: float, nobs: float, level: float = 0.95) -> tuple[float, float]:
    lo, hi = proportion_confint(count, nobs, alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def _kish(w) -> float:
    w = np.asarray(w, float)
    return w.sum() ** 2 / (w**2).sum()


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return read_dataset("responses")


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((sample_dir() / "truth.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- Wilson
@pytest.mark.parametrize("count,nobs", [(0, 10), (10, 10), (7, 20), (1, 3), (480, 600), (2.5, 7.3), (0.0, 1.5)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(count, nobs, level):
    got = kpis.wilson_interval(count, nobs, level=level)
    assert got == pytest.approx(_wilson_ref(count, nobs, level), abs=1e-12)


def test_wilson_edge_cases():
    assert all(math.isnan(v) for v in kpis.wilson_interval(0, 0))
    with pytest.raises(CsmError, match="successes must be between 0 and n"):
        kpis.wilson_interval(11, 10)
    with pytest.raises(CsmError, match="n must be a number >= 0"):
        kpis.wilson_interval(1, -2)
    with pytest.raises(CsmError, match="level"):
        kpis.wilson_interval(1, 2, level=95)


# --------------------------------------------------------------------------- CSAT
def test_csat_hand_example():
    # 1-5 scale: top-2 = {4, 5}, bottom-2 = {1, 2}; one missing answer
    q = [5, 4, 4, 3, 2, 5, 1, 4, np.nan, 3, 5, 2]
    df = pd.DataFrame({"q": q})
    t = kpis.csat(df, item="q", scale=(1, 5))
    assert list(t.columns) == ["n", "n_eff", "value", "ci_low", "ci_high", "bottom2", "mean", "suppressed"]
    answered = [v for v in q if not np.isnan(v)]
    top = sum(v >= 4 for v in answered)
    assert t.loc[0, "n"] == 11 and t.loc[0, "n_eff"] == 11
    assert t.loc[0, "value"] == pytest.approx(top / 11)
    assert t.loc[0, "bottom2"] == pytest.approx(sum(v <= 2 for v in answered) / 11)
    assert t.loc[0, "mean"] == pytest.approx(np.mean(answered))
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx(_wilson_ref(top, 11))
    assert not t.loc[0, "suppressed"]


def test_csat_top_box_and_seven_point_scale():
    df = pd.DataFrame({"q": [7, 6, 5, 4, 3, 2, 1, 7, 7, 1]})
    t1 = kpis.csat(df, item="q", scale=(1, 7), top_box=1)
    assert t1.loc[0, "value"] == pytest.approx(3 / 10) and t1.loc[0, "bottom2"] == pytest.approx(2 / 10)
    t3 = kpis.csat(df, item="q", scale=(1, 7), top_box=3)
    assert t3.loc[0, "value"] == pytest.approx(5 / 10) and t3.loc[0, "bottom2"] == pytest.approx(4 / 10)


def test_csat_weighted_equal_weights_equals_unweighted(sample):
    df = sample.assign(w=2.5)
    a = kpis.csat(df, item="overall_sat", scale=(1, 5), by="region")
    b = kpis.csat(df, item="overall_sat", scale=(1, 5), by="region", weights="w")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_csat_weighted_uses_weighted_share_and_kish_neff():
    rng = np.random.default_rng(1)
    q = rng.integers(1, 6, 300).astype(float)
    q[:7] = np.nan
    w = rng.uniform(0.2, 3.0, 300)
    t = kpis.csat(pd.DataFrame({"q": q, "w": w}), item="q", scale=(1, 5), weights="w")
    ok = ~np.isnan(q)
    p = np.average(q[ok] >= 4, weights=w[ok])
    neff = _kish(w[ok])
    assert t.loc[0, "n"] == ok.sum()
    assert t.loc[0, "n_eff"] == pytest.approx(neff)
    assert t.loc[0, "value"] == pytest.approx(p)
    assert t.loc[0, "bottom2"] == pytest.approx(np.average(q[ok] <= 2, weights=w[ok]))
    assert t.loc[0, "mean"] == pytest.approx(np.average(q[ok], weights=w[ok]))
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx(_wilson_ref(p * neff, neff))


def test_csat_by_groups_and_suppression():
    df = pd.DataFrame({"q": [5, 4, 3, 5, 5, 1, 2, 4, 5, 4, 4], "g": ["a"] * 6 + ["b"] * 3 + ["c"] * 2})
    t = kpis.csat(df, item="q", scale=(1, 5), by="g")
    assert t["g"].tolist() == ["a", "b", "c"] and t["n"].tolist() == [6, 3, 2]
    assert t.loc[0, "value"] == pytest.approx(4 / 6)
    assert t.loc[1:, "suppressed"].all() and not t.loc[0, "suppressed"]
    assert t.loc[1:, ["n_eff", "value", "ci_low", "ci_high", "bottom2", "mean"]].isna().all().all()
    # with a single small group, the total minus "a" would give "b" away: "a" is hidden too
    two = kpis.csat(df[df.g != "c"], item="q", scale=(1, 5), by="g")
    assert two["suppressed"].tolist() == [True, True] and two["value"].isna().all()
    assert two.attrs["complementary"] == ["a"]
    # rows with a missing group belong to no group
    df2 = pd.concat([df, pd.DataFrame({"q": [1], "g": [None]})], ignore_index=True)
    pd.testing.assert_frame_equal(kpis.csat(df2, item="q", scale=(1, 5), by="g"), t)


def test_csat_overall_row_is_suppressed_below_min_n():
    t = kpis.csat(pd.DataFrame({"q": [5, 4, 3]}), item="q", scale=(1, 5))
    assert t.loc[0, "suppressed"] and math.isnan(t.loc[0, "value"]) and t.loc[0, "n"] == 3


def test_csat_errors():
    df = pd.DataFrame({"q": [5, 4, 7, 3, 9], "t": ["5", "4", "five", "3", "2"]})
    with pytest.raises(DataError, match=r"column 'q', index 2, 4: 7, 9 are not within the scale 1-5"):
        kpis.csat(df, item="q", scale=(1, 5))
    with pytest.raises(DataError, match="column 't'.*five"):
        kpis.csat(df, item="t", scale=(1, 5))
    with pytest.raises(CsmError, match="item column 'qq' is not in the data — did you mean 'q'"):
        kpis.csat(df, item="qq", scale=(1, 10))
    with pytest.raises(CsmError, match="top_box"):
        kpis.csat(df, item="q", scale=(1, 10), top_box=10)
    with pytest.raises(CsmError, match="weights column 'w'"):
        kpis.csat(df, item="q", scale=(1, 10), weights="w")
    with pytest.raises(CsmError, match="minimum must be below the maximum"):
        kpis.csat(df, item="q", scale=(5, 1))


# --------------------------------------------------------------------------- NPS
def _nps_by_hand(n_p: float, n_pass: float, n_d: float, level: float = 0.95):
    """Rocks (2016) adjusted Wald, written out from the paper's recipe."""
    n = n_p + n_pass + n_d
    z = float(sst.norm.ppf(0.5 + level / 2))
    raw = 100 * (n_p - n_d) / n
    pp, pd_ = n_p / n, n_d / n
    se = 100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / n)
    ppa, pda, na = (n_p + 0.75) / (n + 3), (n_d + 0.75) / (n + 3), n + 3
    half = z * math.sqrt((ppa + pda - (ppa - pda) ** 2) / na)
    lo, hi = 100 * (ppa - pda - half), 100 * (ppa - pda + half)
    return raw, se, max(lo, -100.0), min(hi, 100.0)


def test_nps_adjusted_wald_hand_example():
    # 50 answers: 20 promoters (9-10), 18 passives (7-8), 12 detractors (0-6)
    rec = [10] * 11 + [9] * 9 + [8] * 10 + [7] * 8 + [6] * 5 + [3] * 4 + [0] * 3
    t = kpis.nps(pd.DataFrame({"r": rec}), item="r")
    raw, se, lo, hi = _nps_by_hand(20, 18, 12)
    assert raw == pytest.approx(16.0)
    assert t.loc[0, "value"] == pytest.approx(raw)  # point estimate is the raw NPS
    assert t.loc[0, ["promoters", "passives", "detractors"]].tolist() == pytest.approx([0.4, 0.36, 0.24])
    assert t.loc[0, "se"] == pytest.approx(se)
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx((lo, hi))
    # the adjusted interval is not centred on the raw NPS
    assert (t.loc[0, "ci_low"] + t.loc[0, "ci_high"]) / 2 != pytest.approx(raw)
    t90 = kpis.nps(pd.DataFrame({"r": rec}), item="r", level=0.9)
    assert (t90.loc[0, "ci_low"], t90.loc[0, "ci_high"]) == pytest.approx(_nps_by_hand(20, 18, 12, 0.9)[2:])


def test_nps_interval_is_clipped():
    t = kpis.nps(pd.DataFrame({"r": [10, 9] * 5}), item="r")
    _, _, lo, hi = _nps_by_hand(10, 0, 0)
    assert t.loc[0, "value"] == 100 and t.loc[0, "ci_high"] == 100 and hi == 100
    assert t.loc[0, "ci_low"] == pytest.approx(lo)
    t = kpis.nps(pd.DataFrame({"r": [0, 1, 2, 3, 4, 5, 6, 0, 0, 1]}), item="r")
    assert t.loc[0, "value"] == -100 and t.loc[0, "ci_low"] == -100


def test_nps_weighted():
    rng = np.random.default_rng(5)
    r = rng.integers(0, 11, 400).astype(float)
    w = rng.uniform(0.3, 2.5, 400)
    df = pd.DataFrame({"r": r, "w": w, "one": 1.0})
    pd.testing.assert_frame_equal(kpis.nps(df, item="r"), kpis.nps(df, item="r", weights="one"))
    t = kpis.nps(df, item="r", weights="w")
    pp, pd_ = np.average(r >= 9, weights=w), np.average(r <= 6, weights=w)
    neff = _kish(w)
    raw, se, lo, hi = _nps_by_hand(pp * neff, (1 - pp - pd_) * neff, pd_ * neff)
    assert t.loc[0, "n"] == 400 and t.loc[0, "n_eff"] == pytest.approx(neff)
    assert t.loc[0, "value"] == pytest.approx(100 * (pp - pd_)) == pytest.approx(raw)
    assert t.loc[0, "se"] == pytest.approx(se)
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx((lo, hi))


def test_nps_rejects_values_off_the_0_10_scale():
    with pytest.raises(DataError, match="column 'r'.*whole numbers 0-10"):
        kpis.nps(pd.DataFrame({"r": [10, 11, 3, 4, 5]}), item="r")
    with pytest.raises(DataError, match="8.5"):
        kpis.nps(pd.DataFrame({"r": [10, 8.5, 3, 4, 5]}), item="r")


# --------------------------------------------------------------------------- CSI
MIXED = pd.DataFrame({
    "a": [5, 4, np.nan, 1, 3, 2, 5, np.nan, 4, 3],          # 1-5
    "b": [7, np.nan, 4, 1, 6, 2, 7, np.nan, 5, 3],          # 1-7
    "c": [10, 8, np.nan, 0, 7, 3, np.nan, np.nan, 9, 5],    # 0-10
})
MIXED_SCALES = {"a": (1, 5), "b": (1, 7), "c": (0, 10)}


def _csi_scores_by_hand() -> np.ndarray:
    scores = []
    for _, r in MIXED.iterrows():
        parts = []
        if not np.isnan(r["a"]):
            parts.append(100 * (r["a"] - 1) / 4)
        if not np.isnan(r["b"]):
            parts.append(100 * (r["b"] - 1) / 6)
        if not np.isnan(r["c"]):
            parts.append(100 * r["c"] / 10)
        if parts:
            scores.append(sum(parts) / len(parts))
    return np.array(scores)


def test_csi_hand_computation_and_t_interval():
    t = kpis.csi(MIXED, items=["a", "b", "c"], scales=MIXED_SCALES)
    x = _csi_scores_by_hand()
    assert len(x) == 9  # row 8 answered nothing: left out
    assert list(t.columns) == ["n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"]
    assert t.loc[0, "n"] == 9 and t.loc[0, "method"] == "t"
    assert t.loc[0, "value"] == pytest.approx(x.mean())
    lo, hi = sst.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sst.sem(x))
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx((lo, hi))
    ci_pg = pg.ttest(x, 0)["CI95"].iloc[0]
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx(tuple(ci_pg), abs=1e-2)  # pingouin rounds


def test_csi_needs_a_scale_per_item():
    with pytest.raises(CsmError, match="no scale for item 'c'"):
        kpis.csi(MIXED, items=["a", "c"], scales={"a": (1, 5)})
    with pytest.raises(CsmError, match="non-empty list"):
        kpis.csi(MIXED, items=[], scales=MIXED_SCALES)


def _bootstrap_by_hand(x, w, n_boot, seed, level=0.95):
    """One resample at a time (the slow, obvious way)."""
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), size=len(x))
        means.append(np.sum(w[idx] * x[idx]) / np.sum(w[idx]))
    return np.quantile(means, [(1 - level) / 2, (1 + level) / 2])


def test_csi_weighted_bootstrap():
    rng = np.random.default_rng(11)
    n = 250
    df = pd.DataFrame({"a": rng.integers(1, 6, n), "b": rng.integers(1, 8, n).astype(float),
                       "w": rng.uniform(0.3, 3.0, n), "one": 1.0})
    df.loc[rng.choice(n, 20, replace=False), "b"] = np.nan
    sc = {"a": (1, 5), "b": (1, 7)}
    t = kpis.csi(df, items=["a", "b"], scales=sc, weights="w", n_boot=500, seed=3)
    x = np.nanmean(np.column_stack([100 * (df["a"] - 1) / 4, 100 * (df["b"] - 1) / 6]), axis=1)
    w = df["w"].to_numpy()
    assert t.loc[0, "method"] == "bootstrap"
    assert t.loc[0, "value"] == pytest.approx(np.average(x, weights=w))
    assert t.loc[0, "n_eff"] == pytest.approx(_kish(w))
    # seeded: same seed identical, another seed different
    pd.testing.assert_frame_equal(t, kpis.csi(df, items=["a", "b"], scales=sc, weights="w", n_boot=500, seed=3))
    t2 = kpis.csi(df, items=["a", "b"], scales=sc, weights="w", n_boot=500, seed=4)
    assert t2.loc[0, "ci_low"] != t.loc[0, "ci_low"]
    # the vectorised resampling equals the one-at-a-time percentile bootstrap
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx(tuple(_bootstrap_by_hand(x, w, 500, 3)))
    assert t.loc[0, "ci_low"] < t.loc[0, "value"] < t.loc[0, "ci_high"]
    # equal weights: the bootstrap interval is close to the t-interval
    tb = kpis.csi(df, items=["a", "b"], scales=sc, weights="one", n_boot=4000, seed=1)
    lo, hi = sst.t.interval(0.95, n - 1, loc=x.mean(), scale=sst.sem(x))
    width = hi - lo
    assert tb.loc[0, "value"] == pytest.approx(x.mean())
    assert abs(tb.loc[0, "ci_low"] - lo) < 0.1 * width and abs(tb.loc[0, "ci_high"] - hi) < 0.1 * width


def test_csi_bootstrap_in_blocks_matches_one_block(monkeypatch):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.integers(1, 6, 120), "w": rng.uniform(0.5, 2, 120)})
    whole = kpis.csi(df, items=["a"], scales={"a": (1, 5)}, weights="w", n_boot=300, seed=9)
    monkeypatch.setattr(kpi_intervals, "_BOOT_CELLS", 1000)  # about 8 resamples per block
    blocks = kpis.csi(df, items=["a"], scales={"a": (1, 5)}, weights="w", n_boot=300, seed=9)
    pd.testing.assert_frame_equal(whole, blocks)


def _linearised_se(x, w):
    """Taylor-linearisation SE of the weighted mean sum(w x) / sum(w) (ratio estimator, Cochran 1977, §6.3)."""
    m = np.sum(w * x) / np.sum(w)
    return math.sqrt(np.sum(w**2 * (x - m) ** 2)) / np.sum(w)


def test_bootstrap_of_distinct_pairs_is_the_plain_bootstrap(monkeypatch):
    # Above _BOOT_ROWS, (score, weight) pairs with few distinct values are resampled as multinomial
    # counts. Drawing rows uniformly with replacement gives exactly these counts, so the bootstrap
    # distribution must be the plain bootstrap's: compare 4,000 resamples of each (two-sample KS,
    # and the percentile interval to within Monte-Carlo error).
    rng = np.random.default_rng(31)
    n = 400
    x = 25.0 * rng.integers(0, 5, n)
    w = np.array([0.6, 1.0, 1.7, 2.5])[rng.integers(0, 4, n)]
    monkeypatch.setattr(kpi_intervals, "_BOOT_ROWS", 100)
    atoms = kpi_intervals._bootstrap_means(x, w, n_boot=4000, seed=5)
    rr = np.random.default_rng(77)
    plain = np.array([np.sum((w * x)[i]) / np.sum(w[i]) for i in rr.integers(0, n, size=(4000, n))])
    assert sst.ks_2samp(atoms, plain).pvalue > 0.01
    se = _linearised_se(x, w)
    np.testing.assert_allclose(np.quantile(atoms, [0.025, 0.975]), np.quantile(plain, [0.025, 0.975]),
                               atol=0.12 * se)
    # the same seed gives the same resamples; another seed others
    np.testing.assert_array_equal(atoms, kpi_intervals._bootstrap_means(x, w, n_boot=4000, seed=5))
    assert not np.array_equal(atoms, kpi_intervals._bootstrap_means(x, w, n_boot=4000, seed=6))


@pytest.mark.parametrize("weights", ["equal", "raking-like", "continuous"])
def test_bootstrap_spread_above_10000_respondents_matches_the_known_se(weights):
    # n = 20,000: the multinomial-count bootstrap (equal or few distinct weights) or the batch-sum
    # bootstrap (continuous weights) runs, not the plain one. References: the ideal bootstrap SD of
    # a mean is sqrt(sum (x - mean)^2) / n exactly (it equals the plug-in SE, ddof 0); for weighted
    # data the bootstrap SD of the ratio sum(w x)/sum(w) agrees with its linearisation SE to O(1/n).
    rng = np.random.default_rng(8)
    n = 20_000
    x = 100 * (rng.choice(5, n, p=[0.1, 0.15, 0.25, 0.3, 0.2]) + rng.integers(0, 5, n)) / 8
    w = {"equal": np.ones(n), "raking-like": np.array([0.55, 0.8, 1.2, 1.9, 2.6])[rng.integers(0, 5, n)],
         "continuous": rng.lognormal(0, 0.5, n)}[weights]
    distinct = len(pd.unique(x + 1j * w))
    assert (distinct <= kpi_intervals._BOOT_ATOMS) == (weights != "continuous")
    boot = kpi_intervals._bootstrap_means(x, w, n_boot=4000, seed=1)
    ref = math.sqrt(np.sum((x - x.mean()) ** 2)) / n if weights == "equal" else _linearised_se(x, w)
    assert np.std(boot) == pytest.approx(ref, rel=0.06)  # SD of 4,000 resamples: ±1.1% (1 SE)
    assert np.mean(boot) == pytest.approx(np.average(x, weights=w), abs=0.1 * ref)


def test_batch_sum_bootstrap_agrees_with_row_bootstrap_for_csi(monkeypatch):
    from csm_helpers.analysis.drivers import bootstrap as D

    rng = np.random.default_rng(12)
    n = 6000
    df = pd.DataFrame({"a": rng.integers(1, 6, n), "b": rng.integers(1, 6, n), "w": rng.lognormal(0, 0.4, n)})
    rows = kpis.csi(df, items=["a", "b"], scales={"a": (1, 5), "b": (1, 5)}, weights="w", n_boot=2000, seed=3)
    monkeypatch.setattr(kpi_intervals, "_BOOT_ROWS", 1000)
    monkeypatch.setattr(D, "MAX_UNITS", 1500)  # 1,500 batches of 4 respondents
    batches = kpis.csi(df, items=["a", "b"], scales={"a": (1, 5), "b": (1, 5)}, weights="w", n_boot=2000, seed=3)
    assert batches.loc[0, "value"] == rows.loc[0, "value"]
    width = rows.loc[0, "ci_high"] - rows.loc[0, "ci_low"]
    assert batches.loc[0, "ci_high"] - batches.loc[0, "ci_low"] == pytest.approx(width, rel=0.1)
    assert abs(batches.loc[0, "ci_low"] - rows.loc[0, "ci_low"]) < 0.1 * width


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["multinomial counts", "batch sums"])
def test_large_sample_bootstrap_schemes_cover_the_truth(monkeypatch, scheme):
    # Known truth: the population CSI of a 1-5 item with these probabilities. The thresholds are
    # lowered so that n = 300 runs each large-sample scheme (batch sums: 150 batches of 2).
    from csm_helpers.analysis.drivers import bootstrap as D

    monkeypatch.setattr(kpi_intervals, "_BOOT_ROWS", 100)
    monkeypatch.setattr(D, "MAX_UNITS", 150)
    rng = np.random.default_rng(2027)
    probs = np.array([0.05, 0.1, 0.25, 0.35, 0.25])
    true = 100 * (np.dot(probs, np.arange(1, 6)) - 1) / 4
    reps, n, hits = 300, 300, 0
    for rep in range(reps):
        q = rng.choice(np.arange(1, 6), n, p=probs)
        w = (np.array([0.5, 1.0, 2.0])[rng.integers(0, 3, n)] if scheme == "multinomial counts"
             else rng.lognormal(0, 0.4, n))
        t = kpis.csi(pd.DataFrame({"q": q, "w": w}), items=["q"], scales={"q": (1, 5)}, weights="w",
                     n_boot=400, seed=rep)
        hits += t.loc[0, "ci_low"] <= true <= t.loc[0, "ci_high"]
    assert 0.91 <= hits / reps <= 0.98, hits / reps


# --------------------------------------------------------------------------- change tests
@pytest.mark.parametrize("c1,n1,c2,n2", [(60, 100, 50, 100), (30, 45, 70, 130), (5, 20, 19, 20)])
def test_two_proportion_z_matches_statsmodels(c1, n1, c2, n2):
    r = kpis.two_proportion_z(c1 / n1, n1, c2 / n2, n2)
    z, p = proportions_ztest([c1, c2], [n1, n2])
    assert r["z"] == pytest.approx(z) and r["p_value"] == pytest.approx(p)
    assert r["diff"] == pytest.approx(c1 / n1 - c2 / n2)


def test_two_proportion_z_without_variation():
    r = kpis.two_proportion_z(1.0, 20, 1.0, 30)
    assert r["diff"] == 0 and math.isnan(r["z"]) and math.isnan(r["p_value"])
    with pytest.raises(CsmError, match="proportion"):
        kpis.two_proportion_z(70, 100, 0.5, 100)


def test_welch_t_matches_scipy():
    rng = np.random.default_rng(4)
    a, b = rng.normal(3, 1, 40), rng.normal(3.4, 2, 25)
    r = kpis.welch_t(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    ref = sst.ttest_ind(a, b, equal_var=False)
    assert r["t"] == pytest.approx(ref.statistic) and r["p_value"] == pytest.approx(ref.pvalue)
    assert r["df"] == pytest.approx(ref.df)
    assert math.isnan(kpis.welch_t(1, 1, 1, 2, 1, 5)["t"])


def test_nps_difference_z_by_hand():
    r = kpis.nps_difference_z(25.0, 3.0, 15.0, 4.0)
    assert r["diff"] == 10 and r["se"] == pytest.approx(5.0) and r["z"] == pytest.approx(2.0)
    assert r["p_value"] == pytest.approx(2 * sst.norm.sf(2.0))


def _two_waves(n1=300, n2=320, seed=0):
    rng = np.random.default_rng(seed)
    def wave(n, p_top, name):
        return pd.DataFrame({"wave": name,
                             "o": np.where(rng.random(n) < p_top, rng.integers(4, 6, n), rng.integers(1, 4, n)),
                             "s": rng.integers(1, 8, n).astype(float),
                             "r": rng.integers(0, 11, n)})
    return pd.concat([wave(n1, 0.6, "W1"), wave(n2, 0.7, "W2")], ignore_index=True)


def test_kpi_change_against_references():
    df = _two_waves()
    df.loc[[3, 400], "s"] = np.nan
    sc = {"o": (1, 5), "s": (1, 7)}
    ch = kpis.kpi_change(df, wave="wave", previous="W1", latest="W2", overall="o", satisfaction_items=["s"],
                         scales=sc, recommend="r")
    assert ch["kpi"].tolist() == ["csat_top2", "csi", "nps"]
    assert ch["test"].tolist() == ["two-proportion z", "Welch t", "z on NPS difference"]
    a, b = df[df.wave == "W1"], df[df.wave == "W2"]
    # CSAT
    z, p = proportions_ztest([(b.o >= 4).sum(), (a.o >= 4).sum()], [len(b), len(a)])
    r = ch.set_index("kpi").loc["csat_top2"]
    assert r["statistic"] == pytest.approx(z) and r["p_value"] == pytest.approx(p)
    assert r["change"] == pytest.approx((b.o >= 4).mean() - (a.o >= 4).mean())
    assert r["latest"] == pytest.approx((b.o >= 4).mean()) and r["previous"] == pytest.approx((a.o >= 4).mean())
    assert r["significant"] == (p < 0.05)
    assert (r["latest_ci_low"], r["latest_ci_high"]) == pytest.approx(_wilson_ref((b.o >= 4).sum(), len(b)))
    # CSI: Welch t on the respondents' scores
    def scores(d):
        return np.nanmean(np.column_stack([100 * (d.o - 1) / 4, 100 * (d.s - 1) / 6]), axis=1)
    ref = sst.ttest_ind(scores(b), scores(a), equal_var=False)
    r = ch.set_index("kpi").loc["csi"]
    assert r["statistic"] == pytest.approx(ref.statistic) and r["p_value"] == pytest.approx(ref.pvalue)
    assert r["change"] == pytest.approx(scores(b).mean() - scores(a).mean())
    # NPS
    def nps_se(d):
        return _nps_by_hand((d.r >= 9).sum(), ((d.r > 6) & (d.r < 9)).sum(), (d.r <= 6).sum())[:2]
    (nb, seb), (na, sea) = nps_se(b), nps_se(a)
    r = ch.set_index("kpi").loc["nps"]
    assert r["change"] == pytest.approx(nb - na)
    assert r["statistic"] == pytest.approx((nb - na) / math.hypot(seb, sea))
    assert r["p_value"] == pytest.approx(2 * sst.norm.sf(abs((nb - na) / math.hypot(seb, sea))))
    assert not ch["suppressed"].any()
    assert ch["n_previous"].tolist() == [300, 300, 300] and ch["n_latest"].tolist() == [320, 320, 320]


def test_kpi_change_weighted_uses_effective_n():
    df = _two_waves(seed=3)
    rng = np.random.default_rng(8)
    df["w"] = rng.uniform(0.2, 3, len(df))
    ch = kpis.kpi_change(df, wave="wave", previous="W1", latest="W2", overall="o", satisfaction_items=[],
                         scales={"o": (1, 5)}, weights="w", n_boot=200).set_index("kpi")
    a, b = df[df.wave == "W1"], df[df.wave == "W2"]
    pa, pb = np.average(a.o >= 4, weights=a.w), np.average(b.o >= 4, weights=b.w)
    na, nb = _kish(a.w), _kish(b.w)
    pool = (pa * na + pb * nb) / (na + nb)
    z = (pb - pa) / math.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
    assert ch.loc["csat_top2", "statistic"] == pytest.approx(z)
    assert "nps" not in ch.index  # no recommend item


def test_kpi_change_suppresses_small_waves_and_checks_waves():
    df = pd.concat([_two_waves(), pd.DataFrame({"wave": "W0", "o": [5, 4, 3], "s": [5, 5, 5], "r": [9, 9, 1]})],
                   ignore_index=True)
    ch = kpis.kpi_change(df, wave="wave", previous="W0", latest="W2", overall="o", satisfaction_items=["s"],
                         scales={"o": (1, 5), "s": (1, 7)}, recommend="r")
    assert ch["suppressed"].all()
    stats_cols = ["previous", "previous_ci_low", "previous_ci_high", "latest", "latest_ci_low", "latest_ci_high",
                  "change", "statistic", "p_value"]
    assert ch[stats_cols].isna().all().all() and ch["significant"].isna().all()
    assert ch["n_previous"].tolist() == [3, 3, 3]
    with pytest.raises(CsmError, match="previous wave 'W9' is not a value of column 'wave'"):
        kpis.kpi_change(df, wave="wave", previous="W9", latest="W2", overall="o", satisfaction_items=[],
                        scales={"o": (1, 5)})
    with pytest.raises(CsmError, match="two different values"):
        kpis.kpi_change(df, wave="wave", previous="W2", latest="W2", overall="o", satisfaction_items=[],
                        scales={"o": (1, 5)})


# --------------------------------------------------------------------------- summary and scorecard
def test_kpi_summary_rows_and_status():
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame({"o": np.where(rng.random(n) < 0.7, 5, 2), "s": rng.integers(1, 6, n),
                       "r": rng.integers(0, 11, n)})
    base = {"overall": "o", "scale": (1, 5), "satisfaction_items": ["s"], "scales": {"s": (1, 5)}}
    s = kpis.kpi_summary(df, **base, recommend="r", targets={"csat_top2": 0.5, "csi": 99.0, "other": 3})
    assert s["kpi"].tolist() == ["csat_top2", "csi", "nps"]
    assert list(s.columns) == ["kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target", "met",
                               "status", "suppressed"]
    r = s.set_index("kpi")
    assert r.loc["csat_top2", "status"] == "met: CI above target" and r.loc["csat_top2", "met"] is True
    assert r.loc["csi", "status"] == "not met: CI below target" and r.loc["csi", "met"] is False
    assert r.loc["nps", "status"] == "no target" and r.loc["nps", "met"] is None
    assert r.loc["csat_top2", "method"] == "Wilson" and r.loc["nps", "method"] == "adjusted Wald"
    csat_value = r.loc["csat_top2", "value"]
    assert csat_value == pytest.approx((df.o >= 4).mean())
    # targets inside the interval: "met" / "not met"
    s2 = kpis.kpi_summary(df, **base, targets={"csat_top2": csat_value - 1e-6}).set_index("kpi")
    assert s2.loc["csat_top2", "status"] == "met"
    s3 = kpis.kpi_summary(df, **base, targets={"csat_top2": csat_value + 1e-6}).set_index("kpi")
    assert s3.loc["csat_top2", "status"] == "not met"
    assert "nps" not in s3.index
    with pytest.raises(CsmError, match="CSAT is a proportion: write 0.8 for 80%"):
        kpis.kpi_summary(df, **base, targets={"csat_top2": 80})


def test_kpi_summary_suppressed():
    df = pd.DataFrame({"o": [5, 4, 3], "s": [1, 2, 3]})
    s = kpis.kpi_summary(df, overall="o", scale=(1, 5), satisfaction_items=["s"], scales={"s": (1, 5)},
                         targets={"csat_top2": 0.5})
    assert s["suppressed"].all() and (s["status"] == "suppressed").all()
    assert s[["value", "ci_low", "ci_high"]].isna().all().all() and s["met"].isna().all()


def test_kpi_summary_records_its_confidence_level_for_metrics_json():
    """The level travels with the table (and into metrics.json's ``kpis``): the 90 % interval
    is the one ``csat`` gives at 0.9, narrower than at 0.95."""
    from csm_helpers.workbook.metrics import kpis_entry

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"o": rng.integers(1, 6, 300).astype(float), "s": rng.integers(1, 6, 300).astype(float)})
    args = {"overall": "o", "scale": (1, 5), "satisfaction_items": ["s"], "scales": {"s": (1, 5)}}
    s90 = kpis.kpi_summary(df, **args, level=0.9)
    s95 = kpis.kpi_summary(df, **args)
    assert s90.attrs["level"] == 0.9 and s95.attrs["level"] == 0.95
    entry = kpis_entry(s90)["csat_top2"]
    assert entry["level"] == 0.9
    ref = kpis.csat(df, item="o", scale=(1, 5), level=0.9)
    assert (entry["ci_low"], entry["ci_high"]) == pytest.approx((float(ref["ci_low"].iloc[0]), float(ref["ci_high"].iloc[0])))
    assert entry["ci_high"] - entry["ci_low"] < kpis_entry(s95)["csat_top2"]["ci_high"] - kpis_entry(s95)["csat_top2"]["ci_low"]


def test_scorecard_is_csi_of_each_dimension():
    rng = np.random.default_rng(6)
    n = 200
    df = pd.DataFrame({f"p{i}": rng.integers(1, 6, n).astype(float) for i in range(5)})
    df["g"] = rng.choice(["x", "y", "z"], n, p=[0.49, 0.49, 0.02])
    dims = {"product": ["p0", "p1"], "process": ["p2"], "people": ["p3", "p4"], "empty": []}
    sc = {f"p{i}": (1, 5) for i in range(5)}
    t = kpis.scorecard(df, dimensions=dims, scales=sc)
    assert t["dimension"].tolist() == ["product", "process", "people"]
    assert t["n_items"].tolist() == [2, 1, 2]
    for d in ("product", "process", "people"):
        ref = kpis.csi(df, items=dims[d], scales=sc)
        row = t[t.dimension == d].iloc[0]
        x = df[dims[d]].sub(1).div(4).mul(100).mean(axis=1)
        assert row["value"] == pytest.approx(x.mean()) == pytest.approx(ref.loc[0, "value"])
    tb = kpis.scorecard(df, dimensions=dims, scales=sc, by="g")
    assert list(tb.columns[:3]) == ["dimension", "g", "n_items"]
    assert len(tb) == 9
    small = tb[tb.g == "z"]
    if (small["n"] < 5).any():
        assert small.loc[small.n < 5, ["value", "ci_low", "ci_high"]].isna().all().all()


# --------------------------------------------------------------------------- the sample's truth
def test_sample_intervals_contain_the_population_kpis(sample, truth):
    """truth.json["kpis"] are population values of the generating model (see csm_helpers.synthetic.sample);
    the sample is an unweighted draw from it, so each 95% interval should contain them."""
    s = kpis.kpi_summary(sample, overall="overall_sat", scale=(1, 5), satisfaction_items=["sat_last_contact"],
                         scales=SCALES, recommend="recommend").set_index("kpi")
    for kpi in ("csat_top2", "csi", "nps"):
        assert s.loc[kpi, "ci_low"] <= truth["kpis"][kpi] <= s.loc[kpi, "ci_high"], kpi


@pytest.mark.parametrize("by,key", [("wave", "by_wave"), ("region", "by_region"), ("channel", "by_channel")])
def test_sample_segment_intervals_contain_the_population_kpis(sample, truth, by, key):
    # many intervals at once: checked at 99.9% so that a correct method fails rarely
    level = 0.999
    c = kpis.csat(sample, item="overall_sat", scale=(1, 5), by=by, level=level).set_index(by)
    s = kpis.csi(sample, items=["overall_sat", "sat_last_contact"], scales=SCALES, by=by, level=level).set_index(by)
    n = kpis.nps(sample, item="recommend", by=by, level=level).set_index(by)
    for group, true in truth["kpis"][key].items():
        for table, kpi in ((c, "csat_top2"), (s, "csi"), (n, "nps")):
            assert table.loc[group, "ci_low"] <= true[kpi] <= table.loc[group, "ci_high"], (group, kpi)


# --------------------------------------------------------------------------- coverage
def test_csat_and_nps_intervals_cover_the_truth_about_95_percent():
    rng = np.random.default_rng(2024)
    reps, n = 1500, 150
    p_true = 0.7
    probs = np.array([0.2, 0.35, 0.45])  # detractors, passives, promoters
    nps_true = 100 * (probs[2] - probs[0])
    hit_c = hit_n = hit_w = 0
    for _ in range(reps):
        q = np.where(rng.random(n) < p_true, rng.integers(4, 6, n), rng.integers(1, 4, n))
        cat = rng.choice(3, n, p=probs)
        r = np.select([cat == 0, cat == 1], [rng.integers(0, 7, n), rng.integers(7, 9, n)], rng.integers(9, 11, n))
        w = rng.lognormal(0, 0.5, n)  # weights unrelated to the answers
        df = pd.DataFrame({"q": q, "r": r, "w": w})
        c = kpis.csat(df, item="q", scale=(1, 5))
        hit_c += c.loc[0, "ci_low"] <= p_true <= c.loc[0, "ci_high"]
        cw = kpis.csat(df, item="q", scale=(1, 5), weights="w")
        hit_w += cw.loc[0, "ci_low"] <= p_true <= cw.loc[0, "ci_high"]
        t = kpis.nps(df, item="r")
        hit_n += t.loc[0, "ci_low"] <= nps_true <= t.loc[0, "ci_high"]
    for hits in (hit_c, hit_w, hit_n):
        assert 0.93 <= hits / reps <= 0.97, hits / reps


def test_csi_intervals_cover_the_truth_about_95_percent():
    rng = np.random.default_rng(77)
    reps, n = 400, 120
    probs = np.array([0.05, 0.1, 0.25, 0.35, 0.25])
    true = 100 * (np.dot(probs, np.arange(1, 6)) - 1) / 4
    hit_t = hit_b = 0
    for _ in range(reps):
        df = pd.DataFrame({"q": rng.choice(np.arange(1, 6), n, p=probs), "w": rng.lognormal(0, 0.4, n)})
        t = kpis.csi(df, items=["q"], scales={"q": (1, 5)})
        hit_t += t.loc[0, "ci_low"] <= true <= t.loc[0, "ci_high"]
        b = kpis.csi(df, items=["q"], scales={"q": (1, 5)}, weights="w", n_boot=400, seed=int(rng.integers(1e6)))
        hit_b += b.loc[0, "ci_low"] <= true <= b.loc[0, "ci_high"]
    assert 0.92 <= hit_t / reps <= 0.98
    assert 0.91 <= hit_b / reps <= 0.98  # percentile bootstrap runs slightly short in small samples


# --------------------------------------------------------------------------- frame untouched
def test_callers_frame_is_not_modified(sample):
    df = sample.assign(w=np.linspace(0.5, 2, len(sample)))
    before = df.copy(deep=True)
    kpis.csat(df, item="overall_sat", scale=(1, 5), weights="w", by="region")
    kpis.csi(df, items=["overall_sat", "sat_last_contact"], scales=SCALES, weights="w", by="channel", n_boot=50)
    kpis.nps(df, item="recommend", weights="w", by="wave")
    kpis.kpi_change(df, wave="wave", previous="2025-H2", latest="2026-H1", overall="overall_sat",
                    satisfaction_items=["sat_last_contact"], scales=SCALES, recommend="recommend", weights="w",
                    n_boot=50)
    kpis.kpi_summary(df, overall="overall_sat", scale=(1, 5), satisfaction_items=["sat_last_contact"],
                     scales=SCALES, recommend="recommend", targets={"nps": 30}, n_boot=50)
    kpis.scorecard(df, dimensions={"d": ["perf_fees", "perf_accuracy"]},
                   scales={"perf_fees": (1, 5), "perf_accuracy": (1, 5)}, by="region")
    pd.testing.assert_frame_equal(df, before)


# --------------------------------------------------------------------------- properties
answers = st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 5)), st.integers(0, 10),
                             st.sampled_from(["a", "b", "c", "d"]), st.floats(0.1, 10)),
                   min_size=1, max_size=60)


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["q", "r", "g", "w"]).astype({"q": "float64"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=answers, weighted=st.booleans(), min_n=st.integers(1, 8))
def test_property_bounds_and_suppression(rows, weighted, min_n):
    df = _frame(rows)
    w = "w" if weighted else None
    c = kpis.csat(df, item="q", scale=(1, 5), weights=w, by="g", min_n=min_n)
    n = kpis.nps(df, item="r", weights=w, by="g", min_n=min_n)
    s = kpis.csi(df, items=["q", "r"], scales={"q": (1, 5), "r": (0, 10)}, weights=w, by="g", min_n=min_n,
                 n_boot=30)
    for t, stat_cols in ((c, ["n_eff", "value", "ci_low", "ci_high", "bottom2", "mean"]),
                         (n, ["n_eff", "value", "promoters", "passives", "detractors", "se", "ci_low", "ci_high"]),
                         (s, ["n_eff", "value", "ci_low", "ci_high"])):
        hidden = t["suppressed"].astype(bool)
        assert (hidden | (t["n"] >= min_n)).all()
        check_disclosure_rule(dict(zip(t["g"], t["n"], strict=True)), t.loc[hidden, "g"], min_n)
        assert t.loc[hidden, stat_cols].isna().all().all()  # suppression never leaks
    shown = c[~c.suppressed & c.value.notna()]
    assert ((shown.value >= 0) & (shown.value <= 1)).all()
    assert (shown.ci_low <= shown.value + 1e-12).all() and (shown.value <= shown.ci_high + 1e-12).all()
    assert ((shown.ci_low >= 0) & (shown.ci_high <= 1)).all()
    shown = n[~n.suppressed & n.value.notna()]
    assert ((shown.value >= -100) & (shown.value <= 100)).all()
    assert ((shown.ci_low >= -100) & (shown.ci_high <= 100) & (shown.ci_low <= shown.ci_high)).all()
    shown = s[~s.suppressed & s.value.notna()]
    assert ((shown.value >= 0) & (shown.value <= 100)).all()


@settings(max_examples=40, deadline=None)
@given(rows=answers, seed=st.integers(0, 2**31 - 1), weighted=st.booleans())
def test_property_row_order_invariance(rows, seed, weighted):
    df = _frame(rows)
    shuffled = df.sample(frac=1, random_state=np.random.RandomState(seed % (2**32)))
    w = "w" if weighted else None
    for fn, kw in ((kpis.csat, {"item": "q", "scale": (1, 5)}), (kpis.nps, {"item": "r"})):
        a = fn(df, weights=w, by="g", min_n=1, **kw)
        b = fn(shuffled, weights=w, by="g", min_n=1, **kw)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
    a = kpis.csi(df, items=["q", "r"], scales={"q": (1, 5), "r": (0, 10)}, by="g", min_n=1)
    b = kpis.csi(shuffled, items=["q", "r"], scales={"q": (1, 5), "r": (0, 10)}, by="g", min_n=1)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)


def test_csi_of_one_weighted_top_answer_is_exactly_100():
    """Found by the property test: 0.9 x 100 / 0.9 is 100.00000000000001 in floating point; a
    mean of scores in [0, 100] is reported inside [0, 100]."""
    data = pd.DataFrame({"x": [10], "w": [0.9008417248837041], "g": ["a"]})
    t = kpis.csi(data, items=["x"], scales={"x": (0, 10)}, weights="w", by="g", min_n=0)
    assert t["value"].iloc[0] == 100.0
