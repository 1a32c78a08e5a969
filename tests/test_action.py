"""Tests of csm_helpers.analysis.action against independent references.

References: the published Six Sigma conversion table (3.4 DPMO = 6.0 sigma, 66,807 = 3.0,
308,538 = 2.0) and scipy.stats.norm; hand-worked priority scores on a 4-attribute table; the
formula-injection rule of SPEC §4 read back with the csv module; statsmodels'
proportions_ztest, scipy's Welch t-test and the Rocks (2016) NPS variance computed by hand on
the sample's two waves; csm_helpers.analysis.kpis per wave (the building blocks the progress table must
reproduce) and kpi_change's p-values; hand-made SWOT tables.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sst
from statsmodels.stats.proportion import proportions_ztest

from csm_helpers.analysis import action, kpis
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import ComplaintsSpec
from csm_helpers.study.datasets import read_dataset

from .disclosure import check_disclosure_rule

SCALES = {"overall_sat": (1, 5), "sat_last_contact": (1, 5)}
KW = dict(wave="wave", overall="overall_sat", satisfaction_items=["sat_last_contact"], scales=SCALES,
          recommend="recommend")
TARGETS = {"csat_top2": 0.70, "csi": 70.0, "nps": 20.0}


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return read_dataset("responses")


def _ipa4(**over) -> pd.DataFrame:
    t = pd.DataFrame({
        "attribute": ["a", "b", "c", "d"],
        "label": ["Alpha", "Beta", "Gamma", "Delta"],
        "dimension": ["product", "process", "people", "product"],
        "n_performance": [100, 100, 100, 100],
        "performance": [2.0, 3.0, 4.0, 4.5],
        "n_importance": [100, 100, 100, 100],
        "importance": [5.0, 4.0, 2.0, 3.0],
        "importance_type": "stated",
        "x_cross": 3.375,
        "y_cross": 3.5,
        "quadrant": ["Concentrate here", "Concentrate here", "Possible overkill", "Low priority"],
    })
    for k, v in over.items():
        t[k] = v
    return t


def _competitor() -> pd.DataFrame:
    return pd.DataFrame({"attribute": ["b", "c"], "own_column": ["pb", "pc"], "competitor_column": ["cb", "cc"],
                         "n": [80, 80], "n_eff": [80.0, 80.0], "own": [3.1, 3.9], "competitor": [3.6, 3.5],
                         "gap": [-0.5, 0.4], "ci_low": [-0.7, 0.2], "ci_high": [-0.3, 0.6], "t": [-5.0, 4.0],
                         "df": [79.0, 79.0], "p_value": [1e-5, 2e-4], "flag": ["worse", "better"],
                         "suppressed": [False, False]})


# --------------------------------------------------------------------------- sigma
@pytest.mark.parametrize("dpmo,sigma", [(3.4, 6.0), (233.0, 5.0), (6_210.0, 4.0), (66_807.0, 3.0),
                                        (308_538.0, 2.0), (691_462.0, 1.0)])
def test_sigma_matches_published_six_sigma_table(dpmo, sigma):
    r = action.sigma_level(defects=dpmo, units=1_000_000)
    assert r["dpmo"] == pytest.approx(dpmo)
    assert r["sigma"] == pytest.approx(sigma, abs=2e-3)  # the published table is rounded


@pytest.mark.parametrize("defects,units,opp", [(1, 10, 1), (7, 300, 4), (0.5, 2.0, 3), (250, 1000, 1)])
def test_sigma_matches_scipy_norm(defects, units, opp):
    r = action.sigma_level(defects=defects, units=units, opportunities=opp)
    dpmo = defects / (units * opp) * 1e6
    assert r["dpmo"] == pytest.approx(dpmo, rel=1e-12)
    assert r["sigma"] == pytest.approx(float(sst.norm.isf(dpmo / 1e6)) + 1.5, rel=1e-12)
    assert r["yield"] == pytest.approx(1 - dpmo / 1e6)


def test_sigma_edges_and_errors():
    assert action.sigma_level(defects=0, units=10)["sigma"] == math.inf
    assert action.sigma_level(defects=10, units=10)["sigma"] == -math.inf
    with pytest.raises(CsmError, match="exceed the 20 opportunities"):
        action.sigma_level(defects=21, units=10, opportunities=2)
    for bad in (0, -5):
        with pytest.raises(CsmError, match="`units` must be > 0"):
            action.sigma_level(defects=0, units=bad)
    with pytest.raises(CsmError, match="`opportunities` must be > 0"):
        action.sigma_level(defects=0, units=5, opportunities=0)
    with pytest.raises(CsmError, match="`defects` must be >= 0"):
        action.sigma_level(defects=-1, units=5)
    with pytest.raises(CsmError, match="finite number"):
        action.sigma_level(defects="3", units=5)


def test_service_sigma_from_counts():
    t = action.service_sigma({"Errors": (12, 40_000), "Late": (3, 10, 2), "Tiny": (1, 3)})
    assert t.columns.tolist() == ["measure", "defects", "units", "opportunities", "dpmo", "sigma", "suppressed"]
    assert t["dpmo"].iloc[:2].tolist() == pytest.approx([300.0, 150_000.0])
    assert t.loc[1, "sigma"] == pytest.approx(float(sst.norm.isf(0.15)) + 1.5)
    assert bool(t.loc[2, "suppressed"]) and t.loc[2, ["defects", "units", "dpmo", "sigma"]].isna().all()
    with pytest.raises(CsmError, match="must be \\(defects, units\\)"):
        action.service_sigma({"x": 5})


def test_service_sigma_from_complaint_summary():
    from csm_helpers.analysis.complaints import complaint_summary

    # 10 complaints: 8 valid; resolved 8 (2 of them after 7 days), 2 open of which 1 is 20 days old on as_of
    log = pd.DataFrame({
        "complaint_id": [f"C{i}" for i in range(10)], "customer_id": list("abcdefghij"),
        "category": ["fees"] * 10, "valid": ["yes"] * 8 + ["no"] * 2,
        "received": ["2026-01-01"] * 9 + ["2026-01-18"],
        "resolved": ["2026-01-02"] * 6 + ["2026-01-15"] * 2 + ["", ""]})
    s = complaint_summary(log, spec=ComplaintsSpec(file="log.csv"), customers=2000, sla_days=7, as_of="2026-01-21")
    t = action.service_sigma(s)
    assert t["measure"].tolist() == ["Valid complaints per customer", "Complaints outside SLA"]
    assert t.loc[0, ["defects", "units"]].tolist() == [8.0, 2000.0]
    assert t.loc[0, "dpmo"] == pytest.approx(8 / 2000 * 1e6)
    # outside SLA: 2 resolved late + 1 open beyond its SLA, of 8 resolved + 1 open beyond
    assert t.loc[1, ["defects", "units"]].tolist() == [3.0, 9.0]
    assert t.loc[1, "sigma"] == pytest.approx(float(sst.norm.isf(3 / 9)) + 1.5)
    # the customer base can be overridden; a suppressed summary gives no number
    assert action.service_sigma(s, units=4000).loc[0, "dpmo"] == pytest.approx(2000.0)
    small = complaint_summary(log.head(3), spec=ComplaintsSpec(file="log.csv"), customers=2000)
    ts = action.service_sigma(small)
    assert ts["suppressed"].all() and ts[["defects", "dpmo", "sigma"]].isna().all().all()


# --------------------------------------------------------------------------- priority list
def test_priority_hand_worked_scale_max():
    ipa_t = _ipa4()
    before = ipa_t.copy()
    p = action.priority_list(ipa_t, scale=(1, 5))
    pd.testing.assert_frame_equal(ipa_t, before)
    assert p.columns.tolist() == list(action.PRIORITY_COLUMNS)
    # importance (I-1)/4 = 1, .75, .25, .5; gap 5 - P = 3, 2, 1, .5; score 3, 1.5, .25, .25
    # c and d tie at 0.25: the more important (d) first
    assert p["attribute"].tolist() == ["a", "b", "d", "c"]
    assert p["rank"].tolist() == [1, 2, 3, 4]
    assert p["importance"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert p["gap"].tolist() == pytest.approx([3.0, 2.0, 0.5, 1.0])
    assert p["score"].tolist() == pytest.approx([3.0, 1.5, 0.25, 0.25])
    assert set(p["reference_type"]) == {"scale max"} and (p["reference"] == 5.0).all()
    assert p["importance_basis"].iloc[0] == "stated importance (0-1)"
    assert p["quadrant"].tolist() == ["Concentrate here", "Concentrate here", "Low priority", "Possible overkill"]
    assert not p.attrs["mixed_references"]


def test_priority_hand_worked_target_and_competitor():
    gaps_t = pd.DataFrame({"attribute": ["a", "b", "c", "d"], "mean_gap": [-1.2, -0.4, 0.1, np.nan],
                           "suppressed": [False, False, False, True]})
    comp = _competitor()
    p = action.priority_list(_ipa4(), target={"a": 2.5}, competitor=comp, gaps=gaps_t)
    by = p.set_index("attribute")
    # a: target 2.5 -> gap .5, score .5; b: competitor better (gap own-comp -.5) -> ref 3.6, gap .6, score .45
    # c: competitor worse -> scale max, gap 1, score .25; d: no competitor -> scale max, gap .5, score .25
    assert by.loc[["a", "b", "c", "d"], "reference_type"].tolist() == ["target", "competitor", "scale max",
                                                                       "scale max"]
    assert by.loc[["a", "b", "c", "d"], "reference"].tolist() == pytest.approx([2.5, 3.6, 5.0, 5.0])
    assert by.loc[["a", "b", "c", "d"], "score"].tolist() == pytest.approx([0.5, 0.45, 0.25, 0.25])
    assert p["attribute"].tolist() == ["a", "b", "d", "c"]
    assert by.loc["b", "competitor_gap"] == -0.5 and by.loc["c", "competitor_gap"] == 0.4
    assert math.isnan(by.loc["a", "competitor_gap"])
    assert by.loc["a", "expectation_gap"] == -1.2 and math.isnan(by.loc["d", "expectation_gap"])
    assert p.attrs["mixed_references"] and "not comparable" in p.attrs["warning"]


def test_priority_single_reference_options():
    comp = _competitor()
    p = action.priority_list(_ipa4(), competitor=comp, reference="competitor")
    by = p.set_index("attribute")
    assert by.loc["b", "gap"] == pytest.approx(0.6) and by.loc["c", "gap"] == 0.0  # leads the competitor
    assert p["rank"].isna().sum() == 2 and p["attribute"].tolist()[-2:] == ["a", "d"]
    p = action.priority_list(_ipa4(), target=3.5, competitor=comp, reference="scale_max")
    assert set(p["reference_type"]) == {"scale max"}
    p = action.priority_list(_ipa4(), target=3.5, reference="target")
    # gaps .5*... : a 1.5*1=1.5, b .5*.75=.375, c 0, d 0 (above target)
    assert p.set_index("attribute").loc[["a", "b", "c", "d"], "gap"].tolist() == pytest.approx([1.5, 0.5, 0, 0])
    with pytest.raises(CsmError, match="needs a target for every attribute"):
        action.priority_list(_ipa4(), target={"a": 3.0}, reference="target")
    with pytest.raises(DataError, match="needs the competitor benchmark"):
        action.priority_list(_ipa4(), reference="competitor")


def test_priority_driver_basis_and_auto():
    drivers = pd.DataFrame({"attribute": ["a", "b", "c", "d"], "relative_weight": [0.2, 0.15, 0.1, 0.05],
                            "rw_pct": [40.0, 30.0, 20.0, 10.0]})
    p = action.priority_list(_ipa4(), drivers=drivers, basis="driver")
    # share of R2 .4 .3 .2 .1 x gap 3 2 1 .5 = 1.2 .6 .2 .05
    assert p["attribute"].tolist() == ["a", "b", "c", "d"]
    assert p["score"].tolist() == pytest.approx([1.2, 0.6, 0.2, 0.05])
    assert p["importance_basis"].iloc[0] == "relative weight (share of R²)"
    derived = _ipa4(importance=[0.2, 0.15, 0.1, 0.05], importance_type="derived (relative_weight)")
    assert action.priority_list(derived, drivers=drivers)["score"].tolist() == pytest.approx([1.2, 0.6, 0.2, 0.05])
    with pytest.raises(DataError, match="needs the key-driver table"):
        action.priority_list(derived)
    with pytest.raises(DataError, match="needs stated importance"):
        action.priority_list(derived, drivers=drivers, basis="importance")


def test_priority_missing_values_and_errors():
    p = action.priority_list(_ipa4(performance=[2.0, np.nan, 4.0, 5.0]))
    assert p["attribute"].tolist()[-1] == "b" and p["rank"].isna().tolist() == [False] * 3 + [True]
    assert p.set_index("attribute").loc["d", "gap"] == 0.0
    with pytest.raises(CsmError, match="`basis` must be one of"):
        action.priority_list(_ipa4(), basis="stated")
    with pytest.raises(CsmError, match="on the performance scale 1-5"):
        action.priority_list(_ipa4(), target=6)
    with pytest.raises(CsmError, match="'zz' is not in the IPA table"):
        action.priority_list(_ipa4(), target={"zz": 3})
    with pytest.raises(DataError, match="appears more than once"):
        action.priority_list(pd.concat([_ipa4(), _ipa4()]))
    with pytest.raises(DataError, match="column 'quadrant' is missing"):
        action.priority_list(_ipa4().drop(columns="quadrant"))
    with pytest.raises(DataError, match="outside the scale 1-7"):
        action.priority_list(_ipa4(performance=[2.0, 3.0, 4.0, 8.0]), scale=(1, 7), importance_scale=(1, 5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perf=st.lists(st.floats(1, 7), min_size=2, max_size=8), seed=st.integers(0, 10_000))
def test_priority_properties(perf, seed):
    rng = np.random.default_rng(seed)
    k = len(perf)
    t = pd.DataFrame({"attribute": [f"a{i}" for i in range(k)], "label": [f"A{i}" for i in range(k)],
                      "performance": perf, "importance": rng.uniform(1, 7, k), "importance_type": "stated",
                      "quadrant": "Low priority"})
    p = action.priority_list(t, scale=(1, 7))
    assert ((p["gap"] >= 0) & (p["gap"] <= 6)).all()
    assert ((p["importance"] >= 0) & (p["importance"] <= 1)).all()
    assert np.all(np.diff(p["score"].to_numpy()) <= 1e-15)  # best first
    shuffled = action.priority_list(t.sample(frac=1, random_state=seed), scale=(1, 7))
    a = p.set_index("attribute").sort_index()
    b = shuffled.set_index("attribute").sort_index()
    assert a["score"].tolist() == pytest.approx(b["score"].tolist())


def test_priority_on_sample_tables(sample):
    from csm_helpers.analysis import drivers as dr
    from csm_helpers.analysis import gaps
    from csm_helpers.study.config import load_study
    from csm_helpers.study.datasets import sample_study_path

    study = load_study(sample_study_path())
    data = sample[sample["wave"] == "2026-H1"]
    ipa_t = dr.ipa(data, attributes=dr.attribute_table(study))
    g = gaps.expectation_gaps(data, pairs=gaps.gap_pairs(study))
    b = gaps.competitor_benchmark(data, pairs=gaps.gap_pairs(study, "competitor"))
    p = action.priority_list(ipa_t, gaps=g, competitor=b, target=4.0)
    by = p.set_index("attribute")
    perf = ipa_t.set_index("attribute")["performance"]
    assert by["gap"].to_numpy() == pytest.approx(np.maximum(0, 4.0 - perf[by.index].to_numpy()))
    assert by["expectation_gap"].to_numpy() == pytest.approx(g.set_index("attribute")["mean_gap"][by.index].to_numpy())
    assert by.loc["fees", "competitor_gap"] == pytest.approx(b.set_index("attribute").loc["fees", "gap"])


# --------------------------------------------------------------------------- action register and CSV
def test_action_register_and_safe_csv(tmp_path):
    ipa_t = _ipa4(label=['=HYPERLINK("http://evil.example","click")', "+cmd", "@SUM(A1)", "-2 stars"])
    p = action.priority_list(ipa_t)
    before = p.copy()
    reg = action.action_register(p, top=3)
    pd.testing.assert_frame_equal(p, before)
    assert reg["attribute"].tolist() == ["a", "b", "d"]
    assert reg.columns.tolist()[-6:] == ["owner", "due_date", "action", "target", "kpi", "status"]
    assert (reg[list(action.REGISTER_COLUMNS)] == "").all().all()
    path = action.write_action_csv(reg, tmp_path / "actions.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["label"] for r in rows] == ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'+cmd", "'-2 stars"]
    for r in rows:
        assert all(r[c] == "" for c in action.REGISTER_COLUMNS)
    assert float(rows[0]["score"]) == pytest.approx(3.0)
    assert len(action.action_register(p)) == 4
    with pytest.raises(CsmError, match="`top` must be"):
        action.action_register(p, top=0)
    with pytest.raises(DataError, match="column 'owner'"):
        action.write_action_csv(p, tmp_path / "x.csv")


# --------------------------------------------------------------------------- progress
def _csi_scores(df: pd.DataFrame) -> np.ndarray:
    x = df[["overall_sat", "sat_last_contact"]].to_numpy(float)
    return np.nanmean(100 * (x - 1) / 4, axis=1)


def test_progress_matches_kpis_per_wave_and_kpi_change(sample):
    before = sample.copy()
    pr = action.progress(sample, targets=TARGETS, **KW)
    pd.testing.assert_frame_equal(sample, before)
    assert pr["wave"].tolist() == ["2025-H2"] * 3 + ["2026-H1"] * 3
    assert pr["kpi"].tolist() == ["csat_top2", "csi", "nps"] * 2
    for w in ("2025-H2", "2026-H1"):
        sub = sample[sample["wave"] == w]
        got = pr[pr["wave"] == w].set_index("kpi")
        for kpi, ref in (("csat_top2", kpis.csat(sub, item="overall_sat", scale=(1, 5))),
                         ("csi", kpis.csi(sub, items=["overall_sat", "sat_last_contact"], scales=SCALES)),
                         ("nps", kpis.nps(sub, item="recommend"))):
            for c in ("n", "value", "ci_low", "ci_high"):
                assert got.loc[kpi, c] == pytest.approx(ref.loc[0, c], rel=1e-12)
            target = TARGETS[kpi]
            assert got.loc[kpi, "attainment"] == ("met" if ref.loc[0, "value"] >= target else "not met")
    ch = kpis.kpi_change(sample, previous="2025-H2", latest="2026-H1", **KW).set_index("kpi")
    last = pr[pr["wave"] == "2026-H1"].set_index("kpi")
    assert last["p_value"].to_numpy() == pytest.approx(ch.loc[last.index, "p_value"].to_numpy(), rel=1e-12)
    assert last["change"].to_numpy() == pytest.approx(ch.loc[last.index, "change"].to_numpy(), rel=1e-12)
    assert pr[pr["wave"] == "2025-H2"]["change"].isna().all()
    assert (pr[pr["wave"] == "2025-H2"]["note"] == "first wave").all()
    assert pr.attrs["n_waves"] == 2 and not pr.attrs["single_wave"]


def test_progress_change_tests_against_statsmodels_and_scipy(sample):
    pr = action.progress(sample, **KW)
    last = pr[pr["wave"] == "2026-H1"].set_index("kpi")
    a, b = sample[sample["wave"] == "2025-H2"], sample[sample["wave"] == "2026-H1"]
    # CSAT: two-proportion z with pooled SE (statsmodels)
    xa, xb = a["overall_sat"].dropna(), b["overall_sat"].dropna()
    z, p = proportions_ztest([(xb >= 4).sum(), (xa >= 4).sum()], [len(xb), len(xa)])
    assert last.loc["csat_top2", "statistic"] == pytest.approx(z, rel=1e-9)
    assert last.loc["csat_top2", "p_value"] == pytest.approx(p, rel=1e-9)
    # CSI: Welch t on the respondents' 0-100 scores (scipy)
    sa, sb = _csi_scores(a), _csi_scores(b)
    r = sst.ttest_ind(sb[np.isfinite(sb)], sa[np.isfinite(sa)], equal_var=False)
    assert last.loc["csi", "statistic"] == pytest.approx(r.statistic, rel=1e-9)
    assert last.loc["csi", "p_value"] == pytest.approx(r.pvalue, rel=1e-9)
    # NPS: z = (NPS1 - NPS2) / sqrt(SE1^2 + SE2^2), SE^2 = (pP + pD - (pP - pD)^2) / n  (SPEC §1.4)
    def nps_se(x):
        x = x.dropna()
        pp, pdd = (x >= 9).mean(), (x <= 6).mean()
        return 100 * (pp - pdd), 100 * math.sqrt((pp + pdd - (pp - pdd) ** 2) / len(x))
    (na_, sea), (nb_, seb) = nps_se(a["recommend"]), nps_se(b["recommend"])
    zn = (nb_ - na_) / math.hypot(sea, seb)
    assert last.loc["nps", "statistic"] == pytest.approx(zn, rel=1e-9)
    assert last.loc["nps", "p_value"] == pytest.approx(2 * sst.norm.sf(abs(zn)), rel=1e-9)
    assert last["significant"].tolist() == [bool(v < 0.05) for v in last["p_value"]]


def test_progress_single_wave_and_wave_order(sample):
    one = sample[sample["wave"] == "2026-H1"]
    pr = action.progress(one, **KW)
    assert len(pr) == 3 and pr["change"].isna().all() and pr["p_value"].isna().all()
    assert pr["significant"].isna().all() and (pr["note"] == "single wave: no change to test").all()
    assert pr.attrs["single_wave"] and "Only one wave" in pr.attrs["message"]
    assert (pr["attainment"] == "not measurable").all()  # no targets
    rev = action.progress(sample, waves=["2026-H1", "2025-H2"], **KW)
    fwd = action.progress(sample, **KW)
    assert rev[rev["wave"] == "2025-H2"]["change"].to_numpy() == pytest.approx(
        -fwd[fwd["wave"] == "2026-H1"]["change"].to_numpy())
    sub = action.progress(sample, waves=["2026-H1"], **KW)
    assert sub.attrs["single_wave"] and sub.attrs["unused_waves"] == ["2025-H2"]
    with pytest.raises(CsmError, match="wave '2024' is not a value of column 'wave'"):
        action.progress(sample, waves=["2024"], **KW)
    with pytest.raises(CsmError, match="no scale for the overall item"):
        action.progress(sample, **{**KW, "scales": {"sat_last_contact": (1, 5)}})


def test_progress_by_segment_and_suppression(sample):
    df = sample.copy()
    idx = df.index[df["wave"] == "2026-H1"][:3]
    df.loc[idx, "region"] = "Tiny"
    idx_prev = df.index[df["wave"] == "2025-H2"][:40]
    df.loc[idx_prev, "region"] = "Tiny"
    pr = action.progress(df, by="region", targets=TARGETS, **KW)
    assert pr.columns[0] == "region"
    for w in ("2025-H2", "2026-H1"):
        ref = kpis.csat(df[df["wave"] == w], item="overall_sat", scale=(1, 5), by="region").set_index("region")
        got = pr[(pr["wave"] == w) & (pr["kpi"] == "csat_top2")].set_index("region")
        assert got["value"].to_numpy() == pytest.approx(ref.loc[got.index, "value"].to_numpy(), nan_ok=True)
    tiny = pr[(pr["region"] == "Tiny") & (pr["wave"] == "2026-H1")]
    assert tiny["suppressed"].all()
    stat_cols = ["n_eff", "value", "ci_low", "ci_high", "change", "statistic", "p_value"]
    assert tiny[stat_cols].isna().all().all() and tiny["significant"].isna().all()
    assert (tiny["attainment"] == "not measurable").all()
    tiny_prev = pr[(pr["region"] == "Tiny") & (pr["wave"] == "2025-H2")]
    assert not tiny_prev["suppressed"].any()  # 40 respondents: shown, but its change to 3 respondents is not
    # per wave and KPI the regions are one partition: the whole sample minus the shown regions
    # never isolates Tiny (issue 6)
    for (_, _), part in pr.groupby(["wave", "kpi"]):
        check_disclosure_rule(dict(zip(part["region"], part["n"], strict=True)),
                              part.loc[part["suppressed"], "region"], 5)
    hidden_latest = pr[(pr["wave"] == "2026-H1") & pr["suppressed"]]
    assert set(hidden_latest["region"]) - {"Tiny"}  # another region gave way
    assert hidden_latest["change"].isna().all() and hidden_latest["value"].isna().all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n1=st.integers(0, 12), n2=st.integers(1, 12), seed=st.integers(0, 1000), min_n=st.integers(1, 8))
def test_progress_suppression_never_leaks(n1, n2, seed, min_n):
    rng = np.random.default_rng(seed)
    n = n1 + n2
    df = pd.DataFrame({"wave": ["W1"] * n1 + ["W2"] * n2, "overall_sat": rng.integers(1, 6, n),
                       "sat_last_contact": rng.integers(1, 6, n), "recommend": rng.integers(0, 11, n)})
    pr = action.progress(df, min_n=min_n, **KW)
    stat_cols = ["n_eff", "value", "ci_low", "ci_high", "change", "statistic", "p_value"]
    small = pr["n"] < min_n
    assert (pr["suppressed"] == small).all()
    assert pr.loc[small, stat_cols].isna().all().all()
    # a change is only shown when both waves are shown
    if n1:
        for kpi in ("csat_top2", "csi", "nps"):
            rows = pr[pr["kpi"] == kpi].set_index("wave")
            if rows.loc["W1", "suppressed"] or rows.loc["W2", "suppressed"]:
                assert math.isnan(rows.loc["W2", "change"]) and math.isnan(rows.loc["W2", "p_value"])


def test_progress_weighted_uses_weighted_kpis(sample):
    df = sample.assign(w=np.random.default_rng(3).uniform(0.5, 2.0, len(sample)))
    pr = action.progress(df, weights="w", n_boot=200, seed=5, **KW)
    sub = df[df["wave"] == "2026-H1"]
    ref = kpis.csi(sub, items=["overall_sat", "sat_last_contact"], scales=SCALES, weights="w", n_boot=200, seed=5)
    got = pr[(pr["wave"] == "2026-H1") & (pr["kpi"] == "csi")].iloc[0]
    assert got["value"] == pytest.approx(ref.loc[0, "value"]) and got["ci_low"] == pytest.approx(ref.loc[0, "ci_low"])
    assert got["method"] == "bootstrap"
    assert got["n_eff"] < got["n"]


# --------------------------------------------------------------------------- attribute change
def test_attribute_change_matches_scipy_welch(sample):
    attrs = {"fees": "perf_fees", "wait_time": "perf_wait_time"}
    ch = action.attribute_change(sample, wave="wave", previous="2025-H2", latest="2026-H1", attributes=attrs)
    for _, r in ch.iterrows():
        a = sample.loc[sample["wave"] == "2025-H2", attrs[r["attribute"]]].dropna()
        b = sample.loc[sample["wave"] == "2026-H1", attrs[r["attribute"]]].dropna()
        ref = sst.ttest_ind(b, a, equal_var=False)
        assert r["t"] == pytest.approx(ref.statistic, rel=1e-9)
        assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert r["change"] == pytest.approx(b.mean() - a.mean())
        ci = ref.confidence_interval(0.95)  # Welch's interval of the difference, as scipy gives it
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
        assert (r["n_previous"], r["n_latest"]) == (len(a), len(b))
    # equal weights change nothing
    w = action.attribute_change(sample.assign(w=2.0), wave="wave", previous="2025-H2", latest="2026-H1",
                                attributes=attrs, weights="w")
    assert w["p_value"].to_numpy() == pytest.approx(ch["p_value"].to_numpy(), rel=1e-9)
    tiny = action.attribute_change(sample.head(30).assign(wave=["A"] * 27 + ["B"] * 3), wave="wave", previous="A",
                                   latest="B", attributes=attrs)
    assert tiny["suppressed"].all() and tiny[["previous", "latest", "change", "p_value"]].isna().all().all()


# --------------------------------------------------------------------------- SWOT
def test_swot_hand_made():
    ipa_t = _ipa4(quadrant=["Concentrate here", "Keep up the good work", "Possible overkill", "Low priority"])
    comp = pd.DataFrame({"attribute": ["a", "b", "c", "d"], "own": [2.0, 3.0, 4.0, 4.5],
                         "competitor": [2.6, 3.05, 3.9, 4.0], "gap": [-0.6, -0.05, 0.1, 0.5],
                         "ci_low": [-0.8, -0.2, -0.05, 0.3], "ci_high": [-0.4, 0.1, 0.25, 0.7],
                         "p_value": [0.0001, 0.52, 0.2, 0.0004], "flag": ["worse", "level", "level", "better"],
                         "suppressed": False})
    change = pd.DataFrame({"attribute": ["b", "c", "d"], "wave_previous": "W1", "wave_latest": "W2",
                           "previous": [2.7, 4.0, 4.8], "latest": [3.0, 4.05, 4.5], "change": [0.3, 0.05, -0.3],
                           "p_value": [0.003, 0.6, 0.01], "significant": [True, False, True],
                           "suppressed": False})
    frames = [ipa_t.copy(), comp.copy(), change.copy()]
    s = action.swot(ipa_t, competitor=comp, change=change)
    for a, b in zip(frames, [ipa_t, comp, change], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert s.columns.tolist() == ["category", "attribute", "label", "statement", "evidence"]
    got = list(zip(s["category"], s["attribute"], strict=True))
    # b: important (4 >= 3.5) and level with the competitor, and improved: two opportunities, b first (ordered
    # by importance: both b); c level but not important: nothing; a worse: threat; d declined: threat
    assert got == [("Strength", "b"), ("Weakness", "a"), ("Opportunity", "b"), ("Opportunity", "b"),
                   ("Threat", "a"), ("Threat", "d")]
    threat_a = s[(s["category"] == "Threat") & (s["attribute"] == "a")].iloc[0]
    assert "own 2.00 vs competitor 2.60" in threat_a["evidence"] and "p < 0.001" in threat_a["evidence"]
    assert "CI -0.80 to -0.40" in threat_a["evidence"]
    assert threat_a["statement"] == "Alpha: rated significantly worse than the competitor."
    decl = s[(s["category"] == "Threat") & (s["attribute"] == "d")].iloc[0]
    assert "-0.30 (4.80 to 4.50), p = 0.01" in decl["evidence"]
    strength = s[s["category"] == "Strength"].iloc[0]
    assert "performance 3.00 (cross-hair 3.38)" in strength["evidence"]
    assert "importance 4.00 (cross-hair 3.50)" in strength["evidence"]
    assert s["evidence"].str.len().gt(0).all()


def test_swot_skips_suppressed_and_reads_kpi_change(sample):
    ipa_t = _ipa4(quadrant=["Low priority"] * 4)
    comp = _competitor().assign(suppressed=[True, False])
    s = action.swot(ipa_t, competitor=comp)
    assert s.empty and s.columns.tolist() == ["category", "attribute", "label", "statement", "evidence"]
    ch = kpis.kpi_change(sample, previous="2025-H2", latest="2026-H1", **KW)
    s = action.swot(ipa_t, change=ch)
    sig = ch[ch["significant"].astype(bool)]
    assert len(s) == len(sig)
    assert set(s["attribute"]) == set(sig["kpi"])
    for _, r in s.iterrows():
        row = ch.set_index("kpi").loc[r["attribute"]]
        assert r["category"] == ("Opportunity" if row["change"] > 0 else "Threat")
        assert row["test"] in r["evidence"]
    with pytest.raises(DataError, match="appears more than once"):
        action.swot(ipa_t, competitor=pd.concat([_competitor(), _competitor()]))


def test_swot_trends_use_the_corrected_change_tests():
    """Issue 10, item 5: 12 attribute-change tests fed the SWOT uncorrected. With no true change
    anywhere, raw p < 0.05 turns up by chance; the SWOT now follows the Benjamini-Hochberg p."""
    from statsmodels.stats.multitest import multipletests

    ipa_t = pd.DataFrame({"attribute": [f"a{i}" for i in range(12)], "label": [f"A{i}" for i in range(12)],
                          "performance": 3.0, "importance": 4.0, "importance_type": "stated", "x_cross": 3.0,
                          "y_cross": 4.0, "quadrant": "Low priority"})
    checked = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        data = pd.DataFrame({f"p{i}": rng.integers(1, 6, 200) for i in range(12)})
        data["wave"] = np.repeat(["w1", "w2"], 100)
        ch = action.attribute_change(data, wave="wave", previous="w1", latest="w2",
                              attributes={f"a{i}": f"p{i}" for i in range(12)})
        np.testing.assert_allclose(ch["p_adj"], multipletests(ch["p_value"], method="fdr_bh")[1], rtol=1e-12)
        raw = int((ch["p_value"] < 0.05).sum())
        adjusted = int((ch["p_adj"] < 0.05).sum())
        entries = action.swot(ipa_t, change=ch)
        assert len(entries) == adjusted
        if raw > adjusted:
            checked += 1
            assert "BH-adjusted" in " ".join(action.swot(ipa_t, change=ch.assign(significant=True))["evidence"])
    assert checked >= 5  # chance findings that the raw p would have put in the SWOT


def test_sample_swot_trends_are_the_changes_significant_after_the_correction():
    """Issue 10, item 5, on the sample study as stage 05 builds it: two attribute changes pass a
    raw 5 % test but not the Benjamini-Hochberg family (statsmodels, the independent reference);
    they must not appear as opportunities or threats. The raw p would have put them there."""
    from statsmodels.stats.multitest import multipletests

    from csm_helpers.workbook.context import open_stage

    ctx = open_stage("05_action_progress")
    change = ctx.attribute_change_table()
    tested = change["p_value"].notna().to_numpy()
    bh = np.full(len(change), np.nan)
    bh[tested] = multipletests(change.loc[tested, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(change["p_adj"], bh, rtol=1e-12)
    raw_only = set(change.loc[(change["p_value"] < 0.05) & ~(bh < 0.05), "attribute"])
    corrected = set(change.loc[bh < 0.05, "attribute"])
    assert len(raw_only) >= 1 and corrected  # the sample has both kinds

    def trends(table: pd.DataFrame) -> set[str]:
        swot = action.swot(ctx.ipa_table, competitor=ctx.competitor_table, change=table, drivers=ctx.driver_table)
        return set(swot.loc[swot["statement"].str.contains("since the previous wave"), "attribute"])

    assert trends(change) == corrected
    assert trends(change.assign(significant=change["p_value"] < 0.05)) == corrected | raw_only  # the old, raw rule
    bench = ctx.competitor_table
    ok = bench["p_value"].notna().to_numpy()
    bh_c = multipletests(bench.loc[ok, "p_value"], method="fdr_bh")[1]
    expected = np.where(bh_c < 0.05, np.where(bench.loc[ok, "gap"] > 0, "better", "worse"), "level")
    assert bench.loc[ok, "flag"].tolist() == expected.tolist()


# --------------------------------------------------------------------------- reconciled priorities
def _known_importance_study(n: int = 4000, seed: int = 5) -> tuple[pd.DataFrame, dict, dict]:
    """Six independent attributes on a 0-10 scale: the outcome's true coefficients fix the
    derived order; the stated importance (1-7) is drawn around means that fix the stated order,
    with two attributes swapped far apart on purpose."""
    rng = np.random.default_rng(seed)
    names = ["a", "b", "c", "d", "e", "f"]
    effect = dict(zip(names, [0.9, 0.7, 0.5, 0.35, 0.2, 0.08], strict=True))  # derived: a > b > ... > f
    stated_mean = dict(zip(names, [6.5, 3.0, 5.5, 5.0, 4.5, 6.0], strict=True))  # stated: a, f, c, d, e, b
    perf = {k: np.clip(np.round(rng.normal(5, 2, n)), 0, 10) for k in names}
    noise = rng.normal(0, 1.0, n)
    overall = sum(effect[k] * (perf[k] - 5) / 2 for k in names) + noise
    data = pd.DataFrame({f"p_{k}": perf[k] for k in names})
    data["overall"] = np.clip(np.round(5 + 1.5 * overall), 0, 10)
    for k in names:
        data[f"i_{k}"] = np.clip(np.round(rng.normal(stated_mean[k], 0.6, n)), 1, 7)
    return data, effect, stated_mean


def test_reconciled_ranks_recover_the_known_stated_and_derived_orders():
    from csm_helpers.analysis.drivers import ipa, key_drivers

    data, effect, stated_mean = _known_importance_study()
    attrs = pd.DataFrame({"attribute": list(effect), "label": [k.upper() for k in effect],
                          "performance": [f"p_{k}" for k in effect], "importance": [f"i_{k}" for k in effect]})
    kd = key_drivers(data, outcome="overall", drivers={k: f"p_{k}" for k in effect}, n_boot=50, seed=1)
    t = ipa(data, attributes=attrs, importance="stated", scale=(0, 10), importance_scale=(1, 7))
    t["p_quadrant"] = 0.9
    base = action.priority_list(t, drivers=kd, scale=(0, 10), importance_scale=(1, 7), reference="scale_max")
    rec = action.reconcile_priorities(base, ipa_table=t, drivers=kd).set_index("attribute")
    # the truth, ranked by scipy (1 = largest)
    truth_stated = dict(zip(effect, sst.rankdata([-stated_mean[k] for k in effect], method="min"), strict=True))
    truth_derived = dict(zip(effect, sst.rankdata([-effect[k] for k in effect], method="min"), strict=True))
    assert rec["stated_rank"].to_dict() == truth_stated
    assert rec["derived_rank"].to_dict() == truth_derived
    # by hand: differences stated - derived, flagged beyond 6 / 3 = 2 places
    diff = {k: truth_stated[k] - truth_derived[k] for k in effect}
    assert rec["rank_difference"].to_dict() == diff
    assert rec["disagree"].to_dict() == {k: abs(v) > 2 for k, v in diff.items()}
    assert rec.loc["b", "disagree"] and rec.loc["f", "disagree"] and not rec.loc["a", "disagree"]
    # the priority ranking itself is the priority list's, row for row
    assert rec["rank"].tolist() == base.set_index("attribute").loc[rec.index, "rank"].tolist()
    assert rec.attrs["ranked_both"] == 6 and rec.attrs["disagreements"] == int(sum(abs(v) > 2 for v in diff.values()))
    reason = rec.loc["b", "reason"]
    assert f"importance: {truth_stated['b']} of 6 as customers state it, {truth_derived['b']} of 6" in reason
    assert "the two disagree" in reason and "the two disagree" not in rec.loc["a", "reason"]


def test_reconciled_without_stated_importance_or_drivers_says_so():
    ipa_t = pd.DataFrame({"attribute": ["x", "y", "z"], "label": ["X", "Y", "Z"], "performance": [2.0, 3.0, 4.0],
                          "importance": [0.5, 0.3, 0.2], "importance_type": "derived (relative_weight)",
                          "quadrant": ["Concentrate here", "Low priority", "Keep up the good work"]})
    kd = pd.DataFrame({"attribute": ["x", "y", "z"], "rw_pct": [50.0, 30.0, 20.0]})
    base = action.priority_list(ipa_t, drivers=kd, scale=(1, 5))
    rec = action.reconcile_priorities(base, ipa_table=ipa_t, drivers=kd)
    assert rec["stated_rank"].isna().all() and rec["derived_rank"].tolist() == [1, 2, 3]
    assert rec["disagree"].isna().all() and rec["p_quadrant"].isna().all()
    assert "importance: 1 of 3 by its effect on satisfaction" in rec.loc[0, "reason"]
    from csm_helpers.present.views import importance_agreement_message

    assert "asks for no importance ratings" in importance_agreement_message(rec)
    # stated importance given separately (IPA on derived importance), drivers withheld
    kd.attrs["suppressed"] = True
    rec = action.reconcile_priorities(base, ipa_table=ipa_t, stated={"x": 4.0, "y": 4.5, "z": 3.0}, drivers=kd)
    assert rec["stated_rank"].tolist() == [2, 1, 3] and rec["derived_rank"].isna().all()
    assert "not available here" in importance_agreement_message(rec)


def test_reconciled_ties_share_the_best_rank_and_unranked_rows_say_why():
    ipa_t = pd.DataFrame({"attribute": ["x", "y", "z", "w"], "label": list("XYZW"),
                          "performance": [2.0, 3.0, 3.0, np.nan], "importance": [4.0, 4.0, 3.0, 5.0],
                          "importance_type": "stated",
                          "quadrant": ["Concentrate here", "Keep up the good work", "Low priority", None],
                          "p_quadrant": [0.95, 0.5, np.nan, np.nan]})
    base = action.priority_list(ipa_t, scale=(1, 5))
    rec = action.reconcile_priorities(base, ipa_table=ipa_t).set_index("attribute")
    assert rec["stated_rank"].to_dict() == {"w": 1, "x": 2, "y": 2, "z": 4}
    assert rec.loc["w", "reason"] == "Not ranked: no performance or importance value."
    assert "uncertain (bootstrap probability 0.50)" in rec.loc["y", "reason"]
    assert rec.loc["x", "quadrant_sure"] and not rec.loc["y", "quadrant_sure"] and pd.isna(rec.loc["z", "quadrant_sure"])


def test_action_register_from_the_reconciled_table_is_formula_safe(tmp_path):
    ipa_t = pd.DataFrame({"attribute": ["x", "y"], "label": ["=HYPERLINK(\"http://evil\")", "+cmd"],
                          "performance": [2.0, 3.0], "importance": [4.0, 3.0], "importance_type": "stated",
                          "quadrant": ["Concentrate here", "Low priority"], "p_quadrant": [0.9, 0.95]})
    rec = action.reconcile_priorities(action.priority_list(ipa_t, scale=(1, 5)), ipa_table=ipa_t)
    path = action.write_action_csv(action.action_register(rec), tmp_path / "register.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [r["label"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "'+cmd"]
    assert rows[0]["reason"].startswith("Ranked 1: ") and rows[0]["stated_rank"] == "1"
    assert list(rows[0])[-6:] == list(action.REGISTER_COLUMNS)
