"""Tests of csm_helpers.analysis.loyalty: Dick & Basu quadrants, loyalty measures, market indicators.

References: hand-made frames whose answer follows from the definitions, statsmodels'
``proportion_confint(method="wilson")`` for every interval, and the population truths of the
sample generator (``truth.json``, computed from the model by quadrature and checked there
independently) on a large generated sample.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from csm_helpers.analysis.loyalty import QUADRANTS, dick_basu, loyalty_measures, market_indicators
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import load_study
from csm_helpers.study.datasets import read_dataset, sample_study_path
from csm_helpers.synthetic.sample import generate_sample

from .disclosure import check_disclosure_rule

STATS = ["count", "n_eff", "share", "ci_low", "ci_high"]


def wilson(count: float, n: float) -> tuple[float, float]:
    return proportion_confint(count, n, alpha=0.05, method="wilson")


def kish(w) -> float:
    w = np.asarray(w, dtype=float)
    return w.sum() ** 2 / (w**2).sum()


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[pd.DataFrame, dict, object]:
    folder = generate_sample(tmp_path_factory.mktemp("loyalty_large"), seed=777, n=20000).parent
    data = pd.read_csv(folder / "responses.csv", encoding="utf-8-sig")
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return data, truth, load_study(folder / "study.yaml")


def within(observed: float, p: float, n: int, k: float = 4.0) -> bool:
    return abs(observed - p) < k * np.sqrt(p * (1 - p) / n)


# --------------------------------------------------------------------------- Dick & Basu
def test_one_respondent_per_quadrant_names_exact():
    df = pd.DataFrame({"rec": [10, 9, 3, 6], "rep": [1, 0, 1, 0]})
    t = dick_basu(df, attitude="rec", repeat="rep", min_n=1)
    assert list(t.columns) == ["quadrant", "n", "count", "n_eff", "share", "ci_low", "ci_high", "suppressed"]
    assert t["quadrant"].tolist() == ["Loyalty", "Latent loyalty", "Spurious loyalty", "No loyalty"]
    assert tuple(t["quadrant"]) == QUADRANTS
    assert t["count"].tolist() == [1, 1, 1, 1]
    assert t["n"].tolist() == [4, 4, 4, 4]
    assert t["share"].tolist() == [0.25] * 4
    lo, hi = wilson(1, 4)
    assert t["ci_low"].tolist() == pytest.approx([lo] * 4) and t["ci_high"].tolist() == pytest.approx([hi] * 4)
    # Which respondent lands where: promoter 9-10 = high attitude; repeat 1 = high patronage.
    for rec, rep, quadrant in [(10, 1, "Loyalty"), (9, 0, "Latent loyalty"), (8, 1, "Spurious loyalty"),
                               (0, 0, "No loyalty")]:
        one = dick_basu(pd.DataFrame({"rec": [rec], "rep": [rep]}), attitude="rec", repeat="rep", min_n=1)
        assert one.set_index("quadrant").loc[quadrant, "count"] == 1
        assert one["count"].sum() == 1


def test_below_min_n_is_suppressed_without_leaking():
    df = pd.DataFrame({"rec": [10, 9, 3, 6], "rep": [1, 0, 1, 0]})
    t = dick_basu(df, attitude="rec", repeat="rep")  # min_n = 5
    assert t["suppressed"].all() and (t["n"] == 4).all()
    assert t[STATS].isna().all().all()


def test_counts_shares_and_wilson_intervals_against_statsmodels():
    counts = {"Loyalty": 30, "Latent loyalty": 10, "Spurious loyalty": 40, "No loyalty": 20}
    pattern = {"Loyalty": (10, 1), "Latent loyalty": (9, 0), "Spurious loyalty": (7, 1), "No loyalty": (2, 0)}
    rows = [pattern[q] for q, c in counts.items() for _ in range(c)]
    df = pd.DataFrame(rows, columns=["recommend", "repeat"])
    t = dick_basu(df, attitude="recommend", repeat="repeat").set_index("quadrant")
    for q, c in counts.items():
        assert t.loc[q, "count"] == c and t.loc[q, "n"] == 100
        assert t.loc[q, "share"] == pytest.approx(c / 100)
        lo, hi = wilson(c, 100)
        assert (t.loc[q, "ci_low"], t.loc[q, "ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    t90 = dick_basu(df, attitude="recommend", repeat="repeat", level=0.90).set_index("quadrant")
    lo, hi = proportion_confint(30, 100, alpha=0.10, method="wilson")
    assert (t90.loc["Loyalty", "ci_low"], t90.loc["Loyalty", "ci_high"]) == pytest.approx((lo, hi))


def test_weighted_shares_use_kish_effective_n():
    df = pd.DataFrame({"rec": [10, 10, 9, 2, 2, 5, 7, 10], "rep": [1, 1, 0, 1, 0, 0, 1, 0],
                       "w": [1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 0.7, 1.3]})
    t = dick_basu(df, attitude="rec", repeat="rep", weights="w").set_index("quadrant")
    neff = kish(df["w"])
    loyal = df["w"][(df["rec"] >= 9) & (df["rep"] == 1)].sum() / df["w"].sum()
    assert t.loc["Loyalty", "share"] == pytest.approx(loyal)
    assert t.loc["Loyalty", "n_eff"] == pytest.approx(neff)
    assert t.loc["Loyalty", "count"] == 2 and t.loc["Loyalty", "n"] == 8
    lo, hi = wilson(loyal * neff, neff)
    assert (t.loc["Loyalty", "ci_low"], t.loc["Loyalty", "ci_high"]) == pytest.approx((lo, hi))
    assert t["share"].sum() == pytest.approx(1.0)


def test_attitude_and_repeat_rules():
    df = pd.DataFrame({"sat": [5, 4, 3, 2, 5, 1], "visits": [0, 1, 2, 3, 4, 5]})
    top2 = dick_basu(df, attitude="sat", attitude_rule="top2", attitude_scale=(1, 5), repeat="visits",
                     repeat_rule="median", min_n=1).set_index("quadrant")["count"]
    # high attitude: sat 4-5 (rows 0, 1, 4); high repeat: visits above the median 2.5 (rows 3, 4, 5)
    assert top2.to_dict() == {"Loyalty": 1, "Latent loyalty": 2, "Spurious loyalty": 2, "No loyalty": 1}
    thr = dick_basu(df, attitude="sat", attitude_rule=3, repeat="visits", repeat_rule=2,
                    min_n=1).set_index("quadrant")["count"]
    # high attitude: sat >= 3 (rows 0, 1, 2, 4); high repeat: visits >= 2 (rows 2-5)
    assert thr.to_dict() == {"Loyalty": 2, "Latent loyalty": 2, "Spurious loyalty": 2, "No loyalty": 0}
    assert "above the median (2.5)" in dick_basu(df, attitude="sat", attitude_rule=3, repeat="visits",
                                                 repeat_rule="median", min_n=1).attrs["rule"]
    # The weighted median: weight 10 on visits = 0 puts the median at 0.
    dfw = df.assign(w=[10.0, 1, 1, 1, 1, 1])
    wm = dick_basu(dfw, attitude="sat", attitude_rule=3, repeat="visits", repeat_rule="median", weights="w",
                   min_n=1).set_index("quadrant")["count"]
    assert wm["Loyalty"] + wm["Spurious loyalty"] == 5  # every visits > 0 is above the weighted median 0


def test_yes_no_text_and_missing_answers():
    df = pd.DataFrame({"rec": [10, 9, None, 3, 7, 10], "rep": ["yes", "No", "yes", " TRUE ", None, "0"]})
    t = dick_basu(df, attitude="rec", repeat="rep", min_n=1).set_index("quadrant")
    assert t["n"].iloc[0] == 4  # rows with both answers
    assert t["count"].to_dict() == {"Loyalty": 1, "Latent loyalty": 2, "Spurious loyalty": 1, "No loyalty": 0}


@pytest.mark.parametrize(("frame", "kwargs", "error", "message"), [
    ({"rec": [11, 9], "rep": [1, 0]}, {}, DataError, r"column 'rec' .*11.* expected ratings between 0 and 10"),
    ({"rec": [10, 9], "rep": [1, 2]}, {}, DataError, r"column 'rep' .*2.* must hold 1/0, yes/no"),
    ({"rec": [10, 9], "rep": ["yes", "maybe"]}, {}, DataError, r"'maybe'"),
    ({"rec": [5, 4], "rep": [1, 0]}, {"attitude_rule": "top2"}, CsmError, r"needs the item's scale"),
    ({"rec": [5, 4], "rep": [1, 0]}, {"attitude_rule": "high"}, CsmError,
     r"`attitude_rule` must be one of 'promoter', 'top2' or a number"),
    ({"rec": [5, 4], "rep": [1, 0]}, {"repeat_rule": "mode"}, CsmError, r"`repeat_rule` must be one of"),
    ({"rec": [5, 4], "rep": [1, 0]}, {"repeat": "repeat"}, CsmError, r"column 'repeat' is not in the data"),
    ({"rec": [5, 4], "rep": [1, 0]}, {"min_n": -1}, CsmError, r"`min_n` must be a whole number >= 0"),
])
def test_bad_input_raises_clear_errors(frame, kwargs, error, message):
    args = {"attitude": "rec", "repeat": "rep", **kwargs}
    with pytest.raises(error, match=message):
        dick_basu(pd.DataFrame(frame), **args)


def test_groups_suppression_and_missing_group_values():
    df = pd.DataFrame({"region": ["A"] * 6 + ["B"] * 3 + ["C"] * 2 + [None],
                       "rec": [10, 10, 9, 2, 3, 10, 10, 2, 9, 9, 0, 10], "rep": [1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1]})
    before = df.copy()
    t = dick_basu(df, attitude="rec", repeat="rep", by="region")
    pd.testing.assert_frame_equal(df, before)
    assert t["region"].tolist() == ["A"] * 4 + ["B"] * 4 + ["C"] * 4
    a, b = t[t["region"] == "A"], t[t["region"] != "A"]
    assert not a["suppressed"].any() and a["share"].sum() == pytest.approx(1.0)
    assert a.set_index("quadrant").loc["Loyalty", "count"] == 3
    assert b["suppressed"].all() and b[STATS].isna().all().all()
    # B alone is small: A is hidden too, or the total minus A would give B away
    two = dick_basu(df[df["region"] != "C"], attitude="rec", repeat="rep", by="region")
    assert two["suppressed"].all() and two.attrs["complementary"] == ["A"]


def test_sample_quadrants_match_the_population_truth(large):
    data, truth, _ = large
    for attitude, kwargs in (("recommend", {}),
                             ("overall", {"attitude_rule": "top2", "attitude_scale": (1, 5)})):
        col = "recommend" if attitude == "recommend" else "overall_sat"
        t = dick_basu(data, attitude=col, repeat="repeat_12m", **kwargs).set_index("quadrant")
        for q, p in truth["loyalty"]["dick_basu"][attitude].items():
            assert within(t.loc[q, "share"], p, len(data)), (attitude, q, t.loc[q, "share"], p)
            assert t.loc[q, "ci_low"] < t.loc[q, "share"] < t.loc[q, "ci_high"]


# --------------------------------------------------------------------------- loyalty measures
def test_loyalty_measures_on_the_sample_follow_their_definitions():
    df = read_dataset("responses")
    before = df.copy()
    study = load_study(sample_study_path())
    t = loyalty_measures(df, study=study)
    pd.testing.assert_frame_equal(df, before)
    assert list(t.columns) == ["measure", "label", "value", "ci_low", "ci_high", "n", "n_eff", "source",
                               "definition", "suppressed"]
    assert t["measure"].tolist() == ["repeat_rate", "price_sensitivity", "competitor_attitude",
                                     "incident_tolerance", "acquisition_rate", "churn_rate"]
    t = t.set_index("measure")
    assert t.loc["repeat_rate", "value"] == pytest.approx(df["repeat_12m"].mean())
    for col in ("price_sensitivity", "competitor_attitude", "incident_tolerance"):
        answered = df[col].dropna()
        agree = int((answered >= 4).sum())
        assert t.loc[col, "n"] == len(answered)
        assert t.loc[col, "value"] == pytest.approx(agree / len(answered))
        assert (t.loc[col, "ci_low"], t.loc[col, "ci_high"]) == pytest.approx(wilson(agree, len(answered)))
    assert t.loc["acquisition_rate", "value"] == pytest.approx(21_000 / 180_000)
    assert t.loc["churn_rate", "value"] == pytest.approx(15_300 / 180_000)
    assert np.isnan(t.loc["churn_rate", "ci_low"]) and t.loc["churn_rate", "source"] == "company figures"


def test_loyalty_measures_only_where_data_exist_and_counts():
    df = pd.DataFrame({"buys": [0, 1, 3, 2, 0, 5], "price": [5, 4, 1, 2, 3, None]})
    t = loyalty_measures(df, repeat="buys", price_sensitivity="price", min_n=1)
    assert t["measure"].tolist() == ["repeat_rate", "price_sensitivity"]
    assert t.loc[0, "value"] == pytest.approx(4 / 6)  # a count: share with at least one repeat purchase
    assert t.loc[1, "value"] == pytest.approx(2 / 5) and t.loc[1, "n"] == 5
    seven = loyalty_measures(pd.DataFrame({"p": [7, 6, 5, 1]}), price_sensitivity="p", scale=(1, 7), min_n=1)
    assert seven.loc[0, "value"] == pytest.approx(0.5)
    figures = loyalty_measures(df, customers=1000, customers_lost=80)
    assert figures["measure"].tolist() == ["churn_rate"] and figures.loc[0, "value"] == pytest.approx(0.08)
    assert loyalty_measures(df).empty
    small = loyalty_measures(df, repeat="buys")  # 6 answers >= 5: shown
    assert not small["suppressed"].any()
    tiny = loyalty_measures(df.head(3), repeat="buys")
    assert tiny["suppressed"].all() and tiny[["value", "ci_low", "ci_high", "n_eff"]].isna().all().all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"customers_new": 10}, r"`customers` is needed"),
    ({"customers": 0, "customers_new": 10}, r"`customers` must be a number > 0"),
    ({"customers": 100, "customers_lost": -1}, r"`customers_lost` must be a number >= 0"),
    ({"price_sensitivity": "nope"}, r"column 'nope' is not in the data"),
])
def test_loyalty_measures_bad_arguments(kwargs, message):
    with pytest.raises(CsmError, match=message):
        loyalty_measures(pd.DataFrame({"p": [1, 2]}), **kwargs)


def test_loyalty_measure_off_the_scale_is_a_data_error():
    with pytest.raises(DataError, match=r"column 'p' .*6.* expected ratings between 1 and 5"):
        loyalty_measures(pd.DataFrame({"p": [1, 6]}), price_sensitivity="p")


def test_loyalty_measures_match_the_truth_on_a_large_sample(large):
    data, truth, study = large
    t = loyalty_measures(data, study=study).set_index("measure")
    assert within(t.loc["repeat_rate", "value"], truth["loyalty"]["repeat_12m"], len(data))
    for col, p in truth["loyalty"]["agree"].items():
        assert within(t.loc[col, "value"], p, int(t.loc[col, "n"])), col


# --------------------------------------------------------------------------- market indicators
def test_market_indicators_hand_made():
    df = pd.DataFrame({"praise": [1, 1, 0, 1, 0, 0, 1, 1], "aware": ["yes", "no", "yes", "yes", "yes", "no",
                                                                    "yes", None],
                       "ref": [0, 0, 1, 0, 0, 0, 1, 0], "again": [1, 1, 1, 0, 1, 1, 0, 1]})
    before = df.copy()
    t = market_indicators(df, praise="praise", awareness="aware", referral="ref", complaint_rate=0.002,
                          sales_growth=-0.01).set_index("indicator")
    pd.testing.assert_frame_equal(df, before)
    assert t.index.tolist() == ["reputation", "awareness", "return_rate", "complaint_rate", "sales_power"]
    assert t.loc["reputation", "value"] == pytest.approx(5 / 8)
    assert (t.loc["reputation", "ci_low"], t.loc["reputation", "ci_high"]) == pytest.approx(wilson(5, 8))
    assert t.loc["awareness", "value"] == pytest.approx(5 / 7) and t.loc["awareness", "n"] == 7
    assert t.loc["return_rate", "value"] == pytest.approx(2 / 8)  # referral when no repurchase item
    assert "referred" in t.loc["return_rate", "definition"]
    assert t.loc["complaint_rate", "value"] == 0.002 and pd.isna(t.loc["complaint_rate", "n"])
    assert t.loc["sales_power", "value"] == -0.01 and np.isnan(t.loc["sales_power", "ci_high"])
    both = market_indicators(df, referral="ref", repurchase="again").set_index("indicator")
    assert both.index.tolist() == ["return_rate", "referral_rate"]
    assert both.loc["return_rate", "value"] == pytest.approx(6 / 8)


def test_market_indicators_leave_out_an_unknown_complaint_rate():
    # complaint_summary gives NaN without a customer count: that is "not known", not an error
    # (a study with a complaint log but no market.customers crashed stage 04; issue 6)
    df = pd.DataFrame({"praise": [1, 0, 1, 1, 0, 1]})
    t = market_indicators(df, praise="praise", complaint_rate=float("nan"))
    assert t["indicator"].tolist() == ["reputation"]
    with pytest.raises(CsmError, match="complaint_rate"):
        market_indicators(df, praise="praise", complaint_rate=float("inf"))


def test_market_indicators_weighted_and_errors():
    df = pd.DataFrame({"praise": [1, 0, 1, 1, 0, 1], "w": [2.0, 1.0, 0.5, 1.0, 3.0, 1.5]})
    t = market_indicators(df, praise="praise", weights="w")
    p = (df["w"] * df["praise"]).sum() / df["w"].sum()
    neff = kish(df["w"])
    assert t.loc[0, "value"] == pytest.approx(p) and t.loc[0, "n_eff"] == pytest.approx(neff)
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx(wilson(p * neff, neff))
    with pytest.raises(DataError, match=r"column 'praise' .*must hold 1/0"):
        market_indicators(pd.DataFrame({"praise": [1, 3]}), praise="praise")
    with pytest.raises(CsmError, match=r"`sales_growth` must be a finite number"):
        market_indicators(df, sales_growth=float("nan"))


def test_market_indicators_match_the_truth_on_a_large_sample(large):
    data, truth, study = large
    m = study.market
    t = market_indicators(data, praise=m.praise, awareness=m.awareness, referral=m.referral,
                          sales_growth=m.sales_growth).set_index("indicator")
    assert within(t.loc["reputation", "value"], truth["market"]["praise_us"], len(data))
    assert within(t.loc["awareness", "value"], truth["market"]["aware_unaided"], len(data))
    assert within(t.loc["return_rate", "value"], truth["market"]["referred"], len(data))
    assert t.loc["sales_power", "value"] == truth["market"]["figures"]["sales_growth"]


# --------------------------------------------------------------------------- properties
@st.composite
def survey(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    rec = draw(st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=n, max_size=n))
    rep = draw(st.lists(st.one_of(st.none(), st.integers(0, 1)), min_size=n, max_size=n))
    grp = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    w = draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n))
    return pd.DataFrame({"rec": pd.array(rec, dtype="Int64"), "rep": pd.array(rep, dtype="Int64"), "g": grp,
                         "w": w})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=survey(), weighted=st.booleans(), min_n=st.integers(0, 8), seed=st.integers(0, 10**6))
def test_properties_bounds_sum_order_and_no_leak(df, weighted, min_n, seed):
    w = "w" if weighted else None
    t = dick_basu(df, attitude="rec", repeat="rep", by="g", weights=w, min_n=min_n)
    shown = t[~t["suppressed"]]
    assert shown["share"].dropna().between(0, 1).all()
    ok = shown.dropna(subset=["share"])
    assert (ok["ci_low"] <= ok["share"] + 1e-12).all() and (ok["share"] <= ok["ci_high"] + 1e-12).all()
    assert ok[["ci_low", "ci_high"]].stack().between(0, 1).all()
    for _, group in shown.groupby("g"):
        if group["n"].iloc[0] > 0:
            assert group["share"].sum() == pytest.approx(1.0)
            assert group["count"].sum() == group["n"].iloc[0]
    hidden = t[t["suppressed"]]
    sizes = t.drop_duplicates("g").set_index("g")["n"].to_dict()
    check_disclosure_rule(sizes, hidden["g"].unique(), min_n)
    assert hidden[STATS].isna().all().all()
    # Row order does not matter.
    shuffled = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    t2 = dick_basu(shuffled, attitude="rec", repeat="rep", by="g", weights=w, min_n=min_n)
    pd.testing.assert_frame_equal(t.reset_index(drop=True), t2.reset_index(drop=True), check_exact=False,
                                  rtol=1e-9, atol=1e-12)
