"""Tests of csm_helpers.analysis.gaps: expectation gaps and the competitor benchmark.

References: scipy.stats.ttest_rel / wilcoxon and pingouin.ttest / wilcoxon (paired tests),
hand-worked examples (shares, d_z, the Kish-weighted interval from its formula), and the sample
study's truth.json (population mean gaps).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst
from statsmodels.stats.multitest import multipletests

from csm_helpers.analysis.gaps import competitor_benchmark, expectation_gaps, gap_pairs
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import load_study
from csm_helpers.study.datasets import read_dataset, sample_dir, sample_study_path

TRUTH = json.loads((sample_dir() / "truth.json").read_text(encoding="utf-8"))
STUDY = load_study(sample_study_path())

STATS = ["n_eff", "mean_perception", "mean_expectation", "mean_gap", "sd_gap", "ci_low", "ci_high", "t", "df",
         "p_value", "wilcoxon_p", "cohen_dz", "share_dissatisfied", "share_satisfied", "share_delighted"]


def _pair_frame(seed: int = 1, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 6, n).astype(float)
    e = np.clip(p + rng.choice([-2, -1, 0, 0, 1], n), 1, 5).astype(float)
    return pd.DataFrame({"perf": p, "exp": e})


# --------------------------------------------------------------------------- expectation gaps
def test_matches_scipy_and_pingouin_paired_tests():
    df = _pair_frame()
    g = expectation_gaps(df, pairs={"x": ("perf", "exp")}).iloc[0]
    ref = sst.ttest_rel(df["perf"], df["exp"])
    ci = ref.confidence_interval(0.95)
    assert g["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert g["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert (g["ci_low"], g["ci_high"]) == (pytest.approx(ci.low, rel=1e-12), pytest.approx(ci.high, rel=1e-12))
    assert g["df"] == len(df) - 1
    pgt = pg.ttest(df["perf"], df["exp"], paired=True)
    assert g["t"] == pytest.approx(float(pgt["T"].iloc[0]), rel=1e-10)
    assert g["p_value"] == pytest.approx(float(pgt["p_val"].iloc[0]), rel=1e-8)
    assert g["wilcoxon_p"] == pytest.approx(sst.wilcoxon(df["perf"], df["exp"]).pvalue, rel=1e-12)
    # pingouin adds a continuity correction by default; scipy's default (ours) has none
    pgw = pg.wilcoxon(df["perf"], df["exp"], correction=False)
    assert g["wilcoxon_p"] == pytest.approx(float(pgw["p_val"].iloc[0]), rel=1e-10)
    gap = df["perf"] - df["exp"]
    assert g["mean_gap"] == pytest.approx(gap.mean())
    assert g["cohen_dz"] == pytest.approx(gap.mean() / gap.std(ddof=1))
    assert g["mean_gap"] == pytest.approx(g["mean_perception"] - g["mean_expectation"])


def test_level_changes_the_interval_only():
    df = _pair_frame(seed=2)
    g90 = expectation_gaps(df, pairs={"x": ("perf", "exp")}, level=0.90).iloc[0]
    ci = sst.ttest_rel(df["perf"], df["exp"]).confidence_interval(0.90)
    assert (g90["ci_low"], g90["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_shares_and_pairs_on_a_hand_example():
    # G = P - E = [-1, 0, 2, -1, -1]; the 6th respondent has no expectation answer (not a pair).
    df = pd.DataFrame({"P": [3, 4, 5, 2, 4, 1], "E": [4, 4, 3, 3, 5, np.nan]})
    g = expectation_gaps(df, pairs={"speed": ("P", "E")}, min_n=1).iloc[0]
    assert g["n"] == 5
    assert (g["share_dissatisfied"], g["share_satisfied"], g["share_delighted"]) == (0.6, 0.2, 0.2)
    assert g["mean_perception"] == pytest.approx(18 / 5) and g["mean_expectation"] == pytest.approx(19 / 5)
    assert g["mean_gap"] == pytest.approx(-0.2)
    assert g["sd_gap"] == pytest.approx(np.std([-1, 0, 2, -1, -1], ddof=1))
    assert g["perception"] == "P" and g["expectation"] == "E"


def test_weighted_shares_means_and_kish_interval_from_the_formula():
    df = pd.DataFrame({"P": [3, 4, 5, 2, 4], "E": [4, 4, 3, 3, 5], "w": [1.0, 2.0, 1.0, 0.5, 0.5]})
    g = expectation_gaps(df, pairs={"x": ("P", "E")}, weights="w", min_n=1).iloc[0]
    gap = np.array([-1, 0, 2, -1, -1.0])
    w = df["w"].to_numpy()
    # shares: weight of each state / total weight = 2/5, 2/5, 1/5
    assert (g["share_dissatisfied"], g["share_satisfied"], g["share_delighted"]) == pytest.approx((0.4, 0.4, 0.2))
    m = np.average(gap, weights=w)
    neff = w.sum() ** 2 / (w**2).sum()
    var = np.sum(w * (gap - m) ** 2) / w.sum() * neff / (neff - 1)
    se = np.sqrt(var / neff)
    q = sst.t.ppf(0.975, neff - 1)
    assert g["mean_gap"] == pytest.approx(m)
    assert g["n_eff"] == pytest.approx(neff) and g["df"] == pytest.approx(neff - 1)
    assert (g["ci_low"], g["ci_high"]) == (pytest.approx(m - q * se), pytest.approx(m + q * se))
    assert g["p_value"] == pytest.approx(2 * sst.t.sf(abs(m / se), neff - 1))
    assert np.isnan(g["wilcoxon_p"])  # no weighted Wilcoxon
    assert "not computed with weights" in expectation_gaps(df, pairs={"x": ("P", "E")}, weights="w",
                                                           min_n=1).attrs["method"]


def test_equal_weights_give_the_unweighted_results():
    df = _pair_frame(seed=3).assign(w=2.5)
    a = expectation_gaps(df, pairs={"x": ("perf", "exp")})
    b = expectation_gaps(df, pairs={"x": ("perf", "exp")}, weights="w")
    cols = [c for c in STATS if c != "wilcoxon_p"]
    np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-12)


def test_no_variance_in_the_gaps():
    df = pd.DataFrame({"P": [4, 5, 3, 4, 2, 5], "E": [3, 4, 2, 3, 1, 4]})  # every gap is +1
    g = expectation_gaps(df, pairs={"x": ("P", "E")}).iloc[0]
    assert g["mean_gap"] == 1 and g["ci_low"] == 1 and g["ci_high"] == 1
    assert np.isnan(g["t"]) and np.isnan(g["p_value"]) and np.isnan(g["cohen_dz"])
    assert g["share_delighted"] == 1
    zero = expectation_gaps(pd.DataFrame({"P": [3] * 6, "E": [3] * 6}), pairs={"x": ("P", "E")}).iloc[0]
    assert zero["share_satisfied"] == 1 and np.isnan(zero["wilcoxon_p"])


def test_sample_mean_gaps_cover_the_truth():
    """Population mean gaps (truth.json) lie inside the 95% intervals for most attributes.

    Straight-liners (truth["data_quality"]) had their performance answers replaced, which moves
    the sample means slightly; with 12 intervals at 95%, 10 or more should cover.
    """
    df = read_dataset("responses")
    g = expectation_gaps(df, pairs=gap_pairs(STUDY))
    truth = g["attribute"].map(TRUTH["mean_gaps"])
    covered = (g["ci_low"] <= truth) & (truth <= g["ci_high"])
    assert len(g) == 12 and covered.sum() >= 10
    assert (g["mean_gap"] - truth).abs().max() < 0.1
    assert g["suppressed"].eq(False).all()


def test_by_segment_and_suppression():
    df = _pair_frame(seed=4, n=40)
    df["seg"] = ["a"] * 30 + ["b"] * 7 + ["c"] * 3
    df.loc[0, "seg"] = np.nan
    g = expectation_gaps(df, pairs={"x": ("perf", "exp"), "y": ("exp", "perf")}, by="seg", min_n=5)
    assert g["seg"].tolist() == ["a", "a", "b", "b", "c", "c"]
    assert g["n"].tolist() == [29, 29, 7, 7, 3, 3]
    # c (3) is hidden; so is b, the smallest other segment, or "all" minus a would reveal c
    hidden = g[g["seg"].isin(["b", "c"])]
    assert hidden["suppressed"].all() and hidden[STATS].isna().all().all()
    assert g.attrs["complementary"] == ["b"]
    sub = df[df["seg"] == "a"]
    ref = sst.ttest_rel(sub["perf"], sub["exp"])
    assert g.loc[0, "t"] == pytest.approx(ref.statistic) and not g.loc[0, "suppressed"]
    # with a second small segment the two protect each other: b is shown again
    df.loc[df.index[-5:-3], "seg"] = "d"
    g = expectation_gaps(df, pairs={"x": ("perf", "exp")}, by="seg", min_n=5)
    assert g.set_index("seg")["suppressed"].to_dict() == {"a": False, "b": False, "c": True, "d": True}
    sub = df[df["seg"] == "b"]
    assert g.loc[1, "t"] == pytest.approx(sst.ttest_rel(sub["perf"], sub["exp"]).statistic)


def test_does_not_modify_the_frame():
    df = read_dataset("responses")
    before = df.copy()
    expectation_gaps(df, pairs=gap_pairs(STUDY), by="region")
    competitor_benchmark(df, pairs=gap_pairs(STUDY, "competitor"))
    pd.testing.assert_frame_equal(df, before)


def test_errors(small_study):
    df = _pair_frame()
    with pytest.raises(DataError, match=r"column 'exp_x' \(expectation of 'x'\) is not in the data"):
        expectation_gaps(df, pairs={"x": ("perf", "exp_x")})
    with pytest.raises(CsmError, match="must be a pair"):
        expectation_gaps(df, pairs={"x": "perf"})
    with pytest.raises(CsmError, match="non-empty mapping"):
        expectation_gaps(df, pairs=gap_pairs(load_study(small_study)))  # no expectation items: {}
    with pytest.raises(DataError, match="`by` column 'shop'"):
        expectation_gaps(df, pairs={"x": ("perf", "exp")}, by="shop")
    with pytest.raises(CsmError, match="`min_n`"):
        expectation_gaps(df, pairs={"x": ("perf", "exp")}, min_n=0)
    with pytest.raises(CsmError, match="`kind`"):
        gap_pairs(STUDY, "importance")


# --------------------------------------------------------------------------- competitor benchmark
def test_competitor_benchmark_against_scipy_and_flags():
    rng = np.random.default_rng(5)
    n = 80
    base = rng.integers(2, 5, n).astype(float)
    df = pd.DataFrame({
        "own_a": base + 1, "comp_a": base + rng.choice([-1, 0, 0], n),  # clearly better
        "own_b": base, "comp_b": base + rng.choice([0, 1, 1], n),  # clearly worse
        "own_c": base, "comp_c": base + rng.choice([-1, 1], n),  # level (p ~ 0.5 expected)
    })
    pairs = {k: (f"own_{k}", f"comp_{k}") for k in "abc"}
    b = competitor_benchmark(df, pairs=pairs)
    for k, row in zip("abc", b.itertuples(), strict=True):
        ref = sst.ttest_rel(df[f"own_{k}"], df[f"comp_{k}"])
        assert row.t == pytest.approx(ref.statistic) and row.p_value == pytest.approx(ref.pvalue)
        ci = ref.confidence_interval(0.95)
        assert (row.ci_low, row.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
        assert row.gap == pytest.approx((df[f"own_{k}"] - df[f"comp_{k}"]).mean())
        assert row.own == pytest.approx(df[f"own_{k}"].mean())
    # the flag follows the Benjamini-Hochberg adjusted p over the three attributes (statsmodels)
    adj = multipletests(b["p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(b["p_adj"], adj, rtol=1e-12)
    expected_c = "level" if adj[2] >= 0.05 else ("better" if b.loc[2, "gap"] > 0 else "worse")
    assert b["flag"].tolist() == ["better", "worse", expected_c]
    assert list(b.columns) == ["attribute", "own_column", "competitor_column", "n", "n_eff", "own", "competitor",
                               "gap", "ci_low", "ci_high", "t", "df", "p_value", "p_adj", "flag", "suppressed"]


def test_twelve_attributes_without_a_true_gap_flag_fewer_after_the_correction():
    """Issue 10, item 5: 12 tests at 5 % flag about one attribute by chance; the corrected family
    controls that. Synthetic data with no true gap anywhere (a known answer: every flag is false)."""
    raw_total = adj_total = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = 60
        df = pd.DataFrame({f"{kind}_{i}": rng.integers(1, 6, n) for kind in ("p", "e", "c") for i in range(12)})
        gaps = expectation_gaps(df, pairs={f"a{i}": (f"p_{i}", f"e_{i}") for i in range(12)})
        np.testing.assert_allclose(gaps["p_adj"], multipletests(gaps["p_value"], method="fdr_bh")[1], rtol=1e-12)
        raw_total += int((gaps["p_value"] < 0.05).sum())
        adj_total += int((gaps["p_adj"] < 0.05).sum())
        bench = competitor_benchmark(df, pairs={f"a{i}": (f"p_{i}", f"c_{i}") for i in range(12)})
        assert (bench["flag"] != "level").sum() == (bench["p_adj"] < 0.05).sum()
    assert raw_total >= 10  # about 40 x 12 x 5 % = 24 false positives uncorrected
    assert adj_total <= raw_total / 4


def test_sample_competitor_gaps_cover_the_truth():
    b = competitor_benchmark(read_dataset("responses"), pairs=gap_pairs(STUDY, "competitor"))
    truth = b["attribute"].map(TRUTH["competitor_gaps"])
    assert len(b) == 8
    assert ((b["ci_low"] <= truth) & (truth <= b["ci_high"])).sum() >= 7
    assert (np.sign(b["gap"]) == np.sign(truth)).all()


def test_competitor_suppression_and_weights():
    df = pd.DataFrame({"o": [4, 5, 3, 4], "c": [3, 3, 3, 2], "w": [1, 2, 1, 1], "g": ["x"] * 4})
    b = competitor_benchmark(df, pairs={"a": ("o", "c")}, min_n=5)
    assert b.loc[0, "suppressed"] and b.loc[0, "n"] == 4
    assert b.drop(columns=["attribute", "own_column", "competitor_column", "n", "suppressed"]).isna().all().all()
    bw = competitor_benchmark(df, pairs={"a": ("o", "c")}, weights="w", min_n=1)
    assert bw.loc[0, "own"] == pytest.approx(np.average(df["o"], weights=df["w"]))
    assert bw.loc[0, "gap"] == pytest.approx(np.average(df["o"] - df["c"], weights=df["w"]))


# --------------------------------------------------------------------------- properties
@st.composite
def _grouped(draw):
    n = draw(st.integers(0, 40))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "p": rng.integers(1, 6, n).astype(float), "e": rng.integers(1, 6, n).astype(float),
        "g": rng.choice(["s1", "s2", "s3", "s4"], n, p=[0.6, 0.25, 0.1, 0.05]),
        "w": rng.uniform(0.1, 3, n),
    })
    miss = draw(st.floats(0, 0.4))
    df.loc[rng.random(n) < miss, "e"] = np.nan
    return df, draw(st.integers(1, 12)), draw(st.booleans())


@settings(max_examples=80, deadline=None)
@given(_grouped())
def test_property_suppression_never_leaks(case):
    df, min_n, weighted = case
    if df.empty:
        return
    for fn in (expectation_gaps, competitor_benchmark):
        out = fn(df, pairs={"x": ("p", "e")}, by="g", min_n=min_n, weights="w" if weighted else None)
        small = out[out["n"] < min_n]
        assert small["suppressed"].all()
        keys = {"g", "attribute", "perception", "expectation", "own_column", "competitor_column", "n", "suppressed"}
        leaked = small.drop(columns=[c for c in out.columns if c in keys])
        assert leaked.isna().all().all()
        assert not out.loc[~out["suppressed"], "n"].lt(min_n).any()


@settings(max_examples=60, deadline=None)
@given(_grouped(), st.randoms(use_true_random=False))
def test_property_shares_bounded_and_row_order_invariant(case, rnd):
    df, _, weighted = case
    if len(df) < 2:
        return
    w = "w" if weighted else None
    a = expectation_gaps(df, pairs={"x": ("p", "e")}, weights=w, min_n=1)
    order = list(range(len(df)))
    rnd.shuffle(order)
    b = expectation_gaps(df.iloc[order], pairs={"x": ("p", "e")}, weights=w, min_n=1)
    np.testing.assert_allclose(a[STATS].to_numpy(float), b[STATS].to_numpy(float), rtol=1e-9, atol=1e-12)
    shares = a[["share_dissatisfied", "share_satisfied", "share_delighted"]].dropna()
    assert ((shares >= 0) & (shares <= 1)).all().all()
    np.testing.assert_allclose(shares.sum(axis=1), 1)
    row = a.iloc[0]
    if np.isfinite(row["ci_low"]):
        assert row["ci_low"] <= row["mean_gap"] <= row["ci_high"]
