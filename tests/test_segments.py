"""Tests of csm_helpers.analysis.segments against pingouin, scipy and statsmodels, and by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sst
from scipy.stats.contingency import association
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from csm_helpers.analysis import segments
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.datasets import read_dataset

from .disclosure import check_disclosure_rule


def _data(seed: int = 0, sizes=(40, 55, 30, 3, 4)) -> pd.DataFrame:
    """Segments A-C are reportable; D (3) and E (4) are below 5 — together 7, so no
    complementary suppression is needed and exactly D and E are hidden."""
    rng = np.random.default_rng(seed)
    parts = []
    locs, sds = (3.2, 3.6, 3.0, 4.0, 2.0)[:len(sizes)], (0.8, 1.2, 0.6, 1.0, 0.9)[:len(sizes)]
    for g, (size, loc, sd) in zip("ABCDE", zip(sizes, locs, sds, strict=True), strict=False):
        y = np.clip(np.round(rng.normal(loc, sd, size)), 1, 5)
        parts.append(pd.DataFrame({"seg": g, "y": y}))
    df = pd.concat(parts, ignore_index=True)
    df.loc[[2, 50], "y"] = np.nan
    return df


@pytest.fixture(scope="module")
def res() -> dict:
    return segments.compare_means(_data(), item="y", by="seg")


def _reportable(df: pd.DataFrame) -> pd.DataFrame:
    """The data the tests should use: answered rows of segments with at least 5 answers."""
    d = df.dropna(subset=["y"])
    counts = d.groupby("seg")["y"].size()
    return d[d.seg.isin(counts[counts >= 5].index)]


def test_groups_table(res):
    g = res["groups"]
    assert list(g.columns) == ["group", "n", "n_eff", "mean", "sd", "ci_low", "ci_high", "suppressed"]
    d = _data().dropna(subset=["y"])
    ref = d.groupby("seg")["y"].agg(["size", "mean", "std"])
    assert g["group"].tolist() == ["A", "B", "C", "D", "E"]
    assert g["n"].tolist() == ref["size"].tolist()
    shown = g[~g.suppressed]
    assert shown["mean"].tolist() == pytest.approx(ref["mean"].iloc[:3].tolist())
    assert shown["sd"].tolist() == pytest.approx(ref["std"].iloc[:3].tolist())
    a = d[d.seg == "A"].y
    lo, hi = sst.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=sst.sem(a))
    assert (g.loc[0, "ci_low"], g.loc[0, "ci_high"]) == pytest.approx((lo, hi))
    # D and E have 3 and 4 answers: suppressed, no statistic, excluded from every test
    assert g.loc[3:, "suppressed"].all() and g.loc[3:, ["n_eff", "mean", "sd", "ci_low", "ci_high"]].isna().all().all()
    assert res["suppressed"] == ["D", "E"] and res["message"] is None
    assert res["note"] == "Not shown: seg D, E (fewer than 5 respondents)."
    for key, cols in (("games_howell", ["A", "B"]), ("pairwise_mw", ["A", "B"])):
        assert not {"D", "E"} & set(res[key][cols].to_numpy().ravel())


def test_complementary_suppression_hides_the_next_smallest_segment():
    # D alone (3) is hidden; the total minus A, B and C would reveal it, so C (the smallest
    # other segment) is hidden too, and left out of every test (issue 6)
    df = _data(sizes=(40, 55, 30, 3))
    r = segments.compare_means(df, item="y", by="seg")
    t = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5))
    for res in (r, t):
        g = res["groups"].set_index("group")
        assert g["suppressed"].to_dict() == {"A": False, "B": False, "C": True, "D": True}
        assert res["suppressed"] == ["C", "D"]
    assert r["groups"].set_index("group").loc[["C", "D"], ["mean", "sd", "ci_low", "ci_high"]].isna().all().all()
    assert r["note"] == ("Not shown: seg D (fewer than 5 respondents), and seg C too, so that seg D cannot be "
                         "worked out by difference from the other segments and the total.")
    for table in (r["games_howell"], r["pairwise_mw"], t["pairwise"]):
        assert set(table[["A", "B"]].to_numpy().ravel()) == {"A", "B"}
    d = df.dropna(subset=["y"])
    # what is published: the total and the shown segments; their difference covers C and D together
    total = d["y"].sum()
    shown = sum(row["mean"] * row["n"] for _, row in r["groups"].iterrows() if not row["suppressed"])
    hidden = d[d.seg.isin(["C", "D"])]
    assert total - shown == pytest.approx(hidden["y"].sum()) and len(hidden) >= 5


def test_welch_anova_matches_pingouin_and_scipy(res):
    d = _reportable(_data())
    ref = pg.welch_anova(data=d, dv="y", between="seg")
    wa = res["welch_anova"].iloc[0]
    assert wa["F"] == pytest.approx(ref["F"].iloc[0]) and wa["p_value"] == pytest.approx(ref["p_unc"].iloc[0])
    assert wa["df1"] == pytest.approx(ref["ddof1"].iloc[0]) and wa["df2"] == pytest.approx(ref["ddof2"].iloc[0])
    assert wa["np2"] == pytest.approx(ref["np2"].iloc[0])
    sp = sst.f_oneway(*[v.to_numpy() for _, v in d.groupby("seg")["y"]], equal_var=False)
    assert wa["F"] == pytest.approx(sp.statistic) and wa["p_value"] == pytest.approx(sp.pvalue)
    assert wa["k"] == 3 and wa["n"] == len(d)


def test_games_howell_matches_pingouin_and_formula(res):
    d = _reportable(_data())
    ref = pg.pairwise_gameshowell(data=d, dv="y", between="seg")
    gh = res["games_howell"]
    assert list(gh.columns) == ["A", "B", "mean_A", "mean_B", "diff", "se", "t", "df", "p_value", "hedges"]
    assert gh[["A", "B"]].to_numpy().tolist() == ref[["A", "B"]].to_numpy().tolist()
    for mine, theirs in (("diff", "diff"), ("se", "se"), ("t", "T"), ("df", "df"), ("p_value", "pval"),
                         ("hedges", "hedges")):
        assert gh[mine].to_numpy() == pytest.approx(ref[theirs].to_numpy()), mine
    # Games & Howell (1976) by hand for the first pair
    a, b = d[d.seg == "A"].y, d[d.seg == "B"].y
    va, vb = a.var() / len(a), b.var() / len(b)
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    p = sst.studentized_range.sf(math.sqrt(2) * abs(t), 3, df)
    assert (gh.loc[0, "t"], gh.loc[0, "df"], gh.loc[0, "p_value"]) == pytest.approx((t, df, p), rel=1e-6)


def test_kruskal_matches_scipy_and_pingouin(res):
    d = _reportable(_data())
    kw = res["kruskal"].iloc[0]
    h, p = sst.kruskal(*[v.to_numpy() for _, v in d.groupby("seg")["y"]])
    assert kw["H"] == pytest.approx(h) and kw["p_value"] == pytest.approx(p) and kw["dof"] == 2
    ref = pg.kruskal(data=d, dv="y", between="seg")
    assert kw["H"] == pytest.approx(ref["H"].iloc[0])
    n = len(d)
    assert kw["epsilon2"] == pytest.approx(h / ((n**2 - 1) / (n + 1)))


def test_pairwise_mann_whitney_and_holm(res):
    d = _reportable(_data())
    mw = res["pairwise_mw"]
    assert list(mw.columns) == ["A", "B", "n_A", "n_B", "U", "p_unc", "p_holm", "rbc"]
    assert mw[["A", "B"]].to_numpy().tolist() == [list(p) for p in itertools.combinations("ABC", 2)]
    for _, r in mw.iterrows():
        x, y = d[d.seg == r["A"]].y, d[d.seg == r["B"]].y
        ref = pg.mwu(x, y)
        assert r["U"] == pytest.approx(ref["U_val"].iloc[0])
        assert r["p_unc"] == pytest.approx(ref["p_val"].iloc[0])
        assert r["rbc"] == pytest.approx(ref["RBC"].iloc[0])
    assert mw["p_holm"].to_numpy() == pytest.approx(multipletests(mw["p_unc"], method="holm")[1])


@pytest.mark.parametrize("kind", ["ratings", "continuous", "small_no_ties", "small_with_ties", "mixed"])
def test_pairwise_mann_whitney_is_scipys_for_every_kind_of_answers(kind):
    """The pairs are tested from sorted answers (segments._mann_whitney_pairs), not by scipy
    per pair: U and p equal scipy's, for ties, no ties, and the small groups scipy tests exactly."""
    rng = np.random.default_rng(11)
    sizes = {"ratings": [60, 45, 9, 30], "continuous": [25, 40, 12], "small_no_ties": [6, 8, 7, 30],
             "small_with_ties": [6, 8, 7], "mixed": [5, 9, 40, 8]}[kind]
    parts = []
    for i, n in enumerate(sizes):
        if kind == "ratings" or (kind == "small_with_ties") or (kind == "mixed" and i % 2):
            y = rng.integers(1, 6, n).astype(float)
        else:
            y = rng.normal(3 + 0.2 * i, 1, n)
        parts.append(pd.DataFrame({"seg": f"s{i}", "y": y}))
    d = pd.concat(parts, ignore_index=True)
    mw = segments.compare_means(d, item="y", by="seg", min_n=2)["pairwise_mw"]
    assert len(mw) == len(sizes) * (len(sizes) - 1) // 2
    for _, r in mw.iterrows():
        ref = sst.mannwhitneyu(d[d.seg == r["A"]].y, d[d.seg == r["B"]].y, use_continuity=True,
                               alternative="two-sided")
        assert r["U"] == ref.statistic
        assert r["p_unc"] == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-300)


def test_weighted_tests_use_the_weighted_means_on_the_effective_n():
    """One mean per segment (issue 10, item 4): the Games-Howell means are the groups' weighted
    means, and Welch's F comes from them on each segment's Kish n_eff (Welch 1951, by hand)."""
    df = _data(seed=3)
    df["w"] = np.random.default_rng(1).uniform(0.5, 2.0, len(df))
    r = segments.compare_means(df, item="y", by="seg", weights="w")
    u = segments.compare_means(df, item="y", by="seg")
    assert "rank tests (Kruskal-Wallis, Mann-Whitney) are unweighted" in r["note"]
    a = df[(df.seg == "A") & df.y.notna()]
    assert r["groups"].loc[0, "mean"] == pytest.approx(np.average(a.y, weights=a.w))
    assert r["groups"].loc[0, "n_eff"] == pytest.approx(a.w.sum() ** 2 / (a.w**2).sum())
    shown = r["groups"].set_index("group")
    for row in r["games_howell"].itertuples():
        assert row.mean_A == pytest.approx(shown.loc[row.A, "mean"], abs=0)
        assert row.mean_B == pytest.approx(shown.loc[row.B, "mean"], abs=0)
    # Welch's F by hand from the weighted means, variances (n_eff correction) and n_eff
    stats_ = []
    for g in shown.index[~shown["suppressed"].astype(bool)]:
        part = df[(df.seg == g) & df.y.notna()]
        neff = part.w.sum() ** 2 / (part.w**2).sum()
        m = np.average(part.y, weights=part.w)
        v = np.average((part.y - m) ** 2, weights=part.w) * neff / (neff - 1)
        stats_.append((m, v, neff))
    m, v, n = map(np.array, zip(*stats_, strict=True))
    k, wt = len(m), n / v
    mw = (wt * m).sum() / wt.sum()
    tmp = ((1 - wt / wt.sum()) ** 2 / (n - 1)).sum()
    f = ((wt * (m - mw) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) / (k**2 - 1) * tmp)
    df2 = (k**2 - 1) / (3 * tmp)
    wa = r["welch_anova"].iloc[0]
    assert wa["F"] == pytest.approx(f, rel=1e-12) and wa["df2"] == pytest.approx(df2, rel=1e-12)
    assert wa["p_value"] == pytest.approx(sst.f.sf(f, k - 1, df2), rel=1e-10)
    for key in ("kruskal", "pairwise_mw"):  # the rank tests stay unweighted
        pd.testing.assert_frame_equal(r[key], u[key])


def test_weighted_tests_with_equal_weights_equal_pingouin():
    df = _data(seed=5).assign(w=1.0)
    r = segments.compare_means(df, item="y", by="seg", weights="w")
    u = segments.compare_means(df, item="y", by="seg")
    for key in ("welch_anova", "games_howell"):
        pd.testing.assert_frame_equal(r[key], u[key], rtol=1e-9, check_dtype=False)
    d = _reportable(df)
    wa = pg.welch_anova(data=d, dv="y", between="seg")
    assert r["welch_anova"]["F"].iloc[0] == pytest.approx(wa["F"].iloc[0], rel=1e-9)
    assert r["welch_anova"]["p_value"].iloc[0] == pytest.approx(wa["p_unc"].iloc[0], rel=1e-9)
    gh = pg.pairwise_gameshowell(data=d, dv="y", between="seg", effsize="hedges")
    for mine, theirs in (("t", "T"), ("df", "df"), ("p_value", "pval"), ("hedges", "hedges")):
        assert r["games_howell"][mine].to_numpy() == pytest.approx(gh[theirs].to_numpy(), rel=1e-9), mine
    t = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5), weights="w")
    tu = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5))
    for key in ("groups", "chi2", "pairwise"):
        pd.testing.assert_frame_equal(t[key], tu[key], rtol=1e-9, check_dtype=False)


def test_weighted_top_box_is_rao_scott_on_the_effective_counts():
    df = _data(seed=4)
    df["w"] = np.random.default_rng(2).uniform(0.3, 3.0, len(df))
    t = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5), weights="w")
    groups = t["groups"].set_index("group")
    shown = groups.index[~groups["suppressed"].astype(bool)]
    p, n = [], []
    for g in shown:
        part = df[(df.seg == g) & df.y.notna()]
        share = part.w[part.y >= 4].sum() / part.w.sum()
        neff = part.w.sum() ** 2 / (part.w**2).sum()
        assert groups.loc[g, "share"] == pytest.approx(share, rel=1e-12)
        lo, hi = proportion_confint(share * neff, neff, alpha=0.05, method="wilson")
        assert (groups.loc[g, "ci_low"], groups.loc[g, "ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
        p.append(share)
        n.append(neff)
    p, n = np.array(p), np.array(n)
    pbar = (n * p).sum() / n.sum()
    x2 = (n * (p - pbar) ** 2).sum() / (pbar * (1 - pbar))  # Pearson's X² with each n_g = n_g / deff_g
    assert t["chi2"].loc[0, "chi2"] == pytest.approx(x2, rel=1e-10)
    assert t["chi2"].loc[0, "p_value"] == pytest.approx(sst.chi2.sf(x2, len(p) - 1), rel=1e-9)
    assert "Rao–Scott" in t["note"]


def test_fewer_than_two_reportable_segments():
    df = pd.DataFrame({"seg": ["A"] * 10 + ["B"] * 2, "y": range(12)})
    r = segments.compare_means(df, item="y", by="seg")
    assert "fewer than 2 segments of 'seg'" in r["message"]
    for key in ("welch_anova", "games_howell", "kruskal", "pairwise_mw"):
        assert r[key].empty and len(r[key].columns) > 0
    # B (2) is hidden, and so is A: the total minus A would be B
    assert r["groups"]["suppressed"].tolist() == [True, True]
    t = segments.compare_top_box(df.assign(y=np.minimum(df.y, 9) % 5 + 1), item="y", by="seg", scale=(1, 5))
    assert "nothing to compare" in t["message"] and t["chi2"].empty and t["pairwise"].empty


def test_identical_answers_do_not_crash():
    df = pd.DataFrame({"seg": ["A"] * 6 + ["B"] * 6, "y": [4.0] * 12})
    r = segments.compare_means(df, item="y", by="seg")
    assert math.isnan(r["kruskal"].loc[0, "H"]) and math.isnan(r["welch_anova"].loc[0, "F"])
    assert "Games-Howell are undefined" in r["message"] and r["games_howell"].empty
    t = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5))
    assert "top box" in t["message"] and math.isnan(t["chi2"].loc[0, "chi2"])


def test_compare_top_box_matches_scipy_and_statsmodels():
    df = read_dataset("responses")
    r = segments.compare_top_box(df, item="overall_sat", by="region", scale=(1, 5))
    top = (df.overall_sat >= 4)
    tab = pd.crosstab(df.region, top)
    chi2, p, dof, exp = sst.chi2_contingency(tab.to_numpy(), correction=False)
    c = r["chi2"].iloc[0]
    assert (c["chi2"], c["p_value"], c["dof"]) == pytest.approx((chi2, p, dof))
    assert c["cramers_v"] == pytest.approx(association(tab.to_numpy(), method="cramer", correction=False))
    assert c["min_expected"] == pytest.approx(exp.min())
    g = r["groups"]
    assert g["group"].tolist() == sorted(df.region.unique())
    assert g["share"].to_numpy() == pytest.approx(top.groupby(df.region).mean().to_numpy())
    pw = r["pairwise"]
    for _, row in pw.iterrows():
        a, b = top[df.region == row["A"]], top[df.region == row["B"]]
        z, pz = proportions_ztest([a.sum(), b.sum()], [len(a), len(b)])
        assert (row["z"], row["p_unc"]) == pytest.approx((z, pz))
    assert pw["p_holm"].to_numpy() == pytest.approx(multipletests(pw["p_unc"], method="holm")[1])


def test_two_segments_chi2_is_z_squared():
    df = read_dataset("responses")
    r = segments.compare_top_box(df, item="overall_sat", by="channel", scale=(1, 5))
    assert r["chi2"].loc[0, "chi2"] == pytest.approx(r["pairwise"].loc[0, "z"] ** 2)


def test_compare_top_box_suppresses_small_segments():
    df = _data().dropna()
    r = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5))
    g = r["groups"].set_index("group")
    assert g.loc[["D", "E"], "suppressed"].all()
    assert g.loc[["D", "E"], ["top_box_n", "share", "ci_low", "ci_high"]].isna().all().all()
    ref = segments.compare_top_box(df[~df.seg.isin(["D", "E"])], item="y", by="seg", scale=(1, 5))
    pd.testing.assert_frame_equal(r["chi2"], ref["chi2"])
    pd.testing.assert_frame_equal(r["pairwise"], ref["pairwise"])


def test_errors():
    df = _data()
    with pytest.raises(CsmError, match="by \\(group\\) column 'segment' is not in the data — did you mean 'seg'"):
        segments.compare_means(df, item="y", by="segment")
    with pytest.raises(DataError, match="column 'seg'.*not a number"):
        segments.compare_means(df, item="seg", by="y")
    with pytest.raises(DataError, match="not within the scale 1-3"):
        segments.compare_top_box(df, item="y", by="seg", scale=(1, 3), top_box=1)


def test_callers_frame_is_not_modified():
    df = _data()
    df["w"] = 1.5
    before = df.copy(deep=True)
    segments.compare_means(df, item="y", by="seg", weights="w")
    segments.compare_top_box(df, item="y", by="seg", scale=(1, 5))
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 12), min_size=2, max_size=5), min_n=st.integers(1, 8),
       seed=st.integers(0, 10_000))
def test_property_suppressed_segments_never_reach_a_test(sizes, min_n, seed):
    rng = np.random.default_rng(seed)
    labels = [f"s{i}" for i in range(len(sizes))]
    df = pd.DataFrame({"seg": np.repeat(labels, sizes), "y": rng.integers(1, 6, sum(sizes)).astype(float)})
    r = segments.compare_means(df, item="y", by="seg", min_n=min_n)
    t = segments.compare_top_box(df, item="y", by="seg", scale=(1, 5), min_n=min_n)
    g = r["groups"]
    hidden = set(g.loc[g.suppressed, "group"])
    check_disclosure_rule(dict(zip(labels, sizes, strict=True)), hidden, max(min_n, 2))
    assert g.loc[g.suppressed, ["mean", "sd", "ci_low", "ci_high"]].isna().all().all()
    tb = t["groups"]
    assert tb.loc[tb.suppressed, ["top_box_n", "share", "ci_low", "ci_high"]].isna().all().all()
    for key in ("games_howell", "pairwise_mw"):
        assert not hidden & set(r[key][["A", "B"]].to_numpy().ravel())
    hidden_tb = set(tb.loc[tb.suppressed, "group"])
    check_disclosure_rule(dict(zip(labels, sizes, strict=True)), hidden_tb, max(min_n, 1))
    assert not hidden_tb & set(t["pairwise"][["A", "B"]].to_numpy().ravel())


# --------------------------------------------------------------------------- many segments in a report
def _many(k: int = 12, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = ["=HYPERLINK(1)"] + [f"S{i:02d}" for i in range(1, k)]  # a label a spreadsheet would run
    return pd.DataFrame({"seg": np.repeat(labels, 20),
                         "y": np.clip(np.round(rng.normal(np.repeat(np.linspace(2.5, 4.0, k), 20), 0.9)), 1, 5)})


def test_a_report_shows_the_pairs_with_the_smallest_p_values_of_many():
    """Twelve segments give 66 pairs a table: the report shows the 45 with the smallest
    p-values (Games-Howell p; Holm p for the others), and says where all of them are."""
    from csm_helpers.present import views as v

    data = _many()
    means = segments.compare_means(data, item="y", by="seg")
    top = segments.compare_top_box(data, item="y", by="seg", scale=(1, 5))
    assert len(means["games_howell"]) == 66
    tables = v.segment_tables(means, top, pairs_file="04_segment_pairs_seg.csv")
    for source, p in ((means["games_howell"], "p_value"), (means["pairwise_mw"], "p_holm"), (top["pairwise"], "p_holm")):
        (caption, (shown, _formats)), = [(c, t) for c, t in tables.items() if len(t[0]) and set(t[0].columns) == set(source.columns)]
        assert len(shown) == v.PAIRS_SHOWN
        assert shown[p].max() <= source[p].drop(shown.index).min()  # none left out has a smaller p
        pd.testing.assert_frame_equal(shown, source.loc[shown.index])  # rows as computed, not rounded
        assert "of 66" in caption and "04_segment_pairs_seg.csv" in caption
    few = v.segment_tables(segments.compare_means(_data(), item="y", by="seg"),
                           segments.compare_top_box(_data(), item="y", by="seg", scale=(1, 5)))
    assert all("smallest" not in caption for caption in few)  # three pairs: shown whole


def test_every_pair_goes_to_a_formula_safe_csv_beside_the_report(tmp_path):
    from csm_helpers.present import views as v
    from csm_helpers.workbook import open_stage

    data = _many()
    means = segments.compare_means(data, item="y", by="seg")
    top = segments.compare_top_box(data, item="y", by="seg", scale=(1, 5))
    pairs = v.segment_pairs(means, top)
    assert len(pairs) == 66 and pairs[["A", "B"]].duplicated().sum() == 0
    gh = means["games_howell"].set_index(["A", "B"])
    mw = means["pairwise_mw"].set_index(["A", "B"])
    tb = top["pairwise"].set_index(["A", "B"])
    merged = pairs.set_index(["A", "B"])
    assert merged["gh_p"].equals(gh["p_value"].reindex(merged.index))
    assert merged["mw_p_holm"].equals(mw["p_holm"].reindex(merged.index))
    assert merged["top_p_holm"].equals(tb["p_holm"].reindex(merged.index))
    assert merged["share_diff"].equals(tb["diff"].reindex(merged.index))

    ctx = open_stage("04_analysis", segment="all", output_dir=str(tmp_path))
    name = ctx.write_segment_pairs("seg ment/x", means, top)
    assert name == "04_segment_pairs_seg_ment_x.csv"
    written = pd.read_csv(tmp_path / name, encoding="utf-8-sig", keep_default_na=False)
    assert len(written) == 66
    assert not written["A"].str.startswith("=").any() and written["A"].str.contains("HYPERLINK").any()
    small = _data()
    assert ctx.write_segment_pairs("seg", segments.compare_means(small, item="y", by="seg"),
                                   segments.compare_top_box(small, item="y", by="seg", scale=(1, 5))) is None
