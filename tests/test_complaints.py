"""Tests of csm_helpers.analysis.complaints: complaint metrics, the complaint iceberg, lost-customer reasons.

References: a hand-made complaint log whose metrics are worked out by hand below, the iceberg
arithmetic of SPEC §1.4, ``scipy.stats.chisquare`` for the goodness-of-fit test, and the
generating probabilities of the sample logs (``truth.json``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from csm_helpers.analysis.complaints import (
    OTHER_SUPPRESSED,
    complaint_iceberg,
    complaint_summary,
    lost_reasons,
)
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import AnalysisSpec, ComplaintsSpec, load_study
from csm_helpers.study.datasets import sample_dir, sample_study_path
from csm_helpers.study.readers import Table, read_study_table

SPEC = ComplaintsSpec(file="log.csv")
BENCHMARK = AnalysisSpec().lost_benchmark


def hand_log() -> pd.DataFrame:
    """Eight complaints; every metric below is worked out by hand from these rows."""
    return pd.DataFrame({
        "complaint_id": [f"C{i}" for i in range(1, 9)],
        "customer_id": ["a", "a", "a", "b", "b", "c", "d", "e"],
        "category": ["fees", "fees", "app", "fees", "queue", "fees", "app", "rude"],
        "valid": ["yes", "yes", "no", "TRUE", 1, "0", "", "yes"],
        "received": ["2026-03-01", "2026-03-02", "2026-03-05", "2026-03-06", "2026-03-10", "2026-03-11",
                     "2026-03-20", "2026-03-21T09:30"],
        "resolved": ["2026-03-03", "2026-03-12", "", "2026-03-09", "2026-03-15", "2026-03-19", None,
                     "2026-03-22T09:30"],
        "sla_days": [7, 7, 7, 3, 7, 7, 3, None],
        "outcome": ["satisfied", "dissatisfied", "", "Satisfied", "neutral", "", "", "called back"],
        "description": ["=HYPERLINK(x)", "b", "c", "d", "e", "f", "g", "<script>alert(1)</script>"],
    })


# --------------------------------------------------------------------------- summary
def test_hand_made_log_metrics():
    log = hand_log()
    before = log.copy()
    s = complaint_summary(log, spec=SPEC, customers=400, sla_days=7, min_n=2)
    pd.testing.assert_frame_equal(log, before)
    assert s["n_complaints"] == 8 and s["suppressed"] is False
    assert s["complaint_rate"] == pytest.approx(8 / 400) and s["complaints_per_1000"] == pytest.approx(20.0)
    # Resolved: C1 2 days (SLA 7), C2 10 (7), C4 3 (3), C5 5 (7), C6 8 (7), C8 1 (no SLA: default 7).
    assert s["n_resolved"] == 6 and s["n_open"] == 2
    assert s["median_days_to_resolve"] == pytest.approx(np.median([2, 10, 3, 5, 8, 1]))  # 4.0
    assert s["share_within_sla"] == pytest.approx(4 / 6)
    # Open: C3 (received 03-05, SLA 7) and C7 (03-20, SLA 3); as of the latest date, 03-22 09:30.
    assert s["as_of"] == "2026-03-22" and s["n_open_over_sla"] == 1
    # Validity: valid C1 C2 C4 C5 C8, invalid C3 C6, C7 not recorded.
    assert (s["n_valid"], s["n_invalid"]) == (5, 2) and s["valid_share"] == pytest.approx(5 / 7)
    assert s["validity"].to_dict("list") == {"valid": ["valid", "invalid", "not recorded"], "count": [5, 2, 1],
                                             "share": [5 / 8, 2 / 8, 1 / 8]}
    # Repeat: a (3 complaints) and b (2) of 5 complainants; 5 of 8 complaints come from them.
    assert s["n_complainants"] == 5 and s["n_repeat_complainants"] == 2
    assert s["repeat_complainant_share"] == pytest.approx(2 / 5)
    assert s["repeat_complaint_share"] == pytest.approx(5 / 8)
    # Outcomes among the 5 followed up; satisfied/neutral/dissatisfied first, case-insensitive.
    assert s["n_followed_up"] == 5
    assert s["outcomes"]["outcome"].tolist() == ["satisfied", "neutral", "dissatisfied", "called back"]
    assert s["outcomes"]["count"].tolist() == [2, 1, 1, 1]
    assert s["outcomes"]["share"].sum() == pytest.approx(1.0)
    overview = s["overview"].set_index("metric")
    assert overview.loc["Resolved within SLA", "value"] == pytest.approx(4 / 6)
    assert overview.loc["Resolved within SLA", "n"] == 6


@pytest.mark.parametrize(("min_n", "expected"), [
    (1, [("fees", 4), ("app", 2), ("queue", 1), ("rude", 1)]),
    (2, [("fees", 4), ("app", 2), (OTHER_SUPPRESSED, 2)]),
    # queue + rude = 2 < 3 would be recoverable: the next smallest (app, 2) joins the pool.
    (3, [("fees", 4), (OTHER_SUPPRESSED, 4)]),
    (5, [(OTHER_SUPPRESSED, 8)]),
])
def test_pareto_order_cumulative_share_and_pooling(min_n, expected):
    pareto = complaint_summary(hand_log(), spec=SPEC, customers=None, min_n=min_n)["pareto"]
    assert list(pareto.columns) == ["category", "count", "share", "cumulative_share"]
    assert list(zip(pareto["category"], pareto["count"], strict=True)) == expected
    counts = np.array([c for _, c in expected])
    assert pareto["share"].tolist() == pytest.approx(counts / 8)
    assert pareto["cumulative_share"].tolist() == pytest.approx(np.cumsum(counts) / 8)


def test_small_log_is_suppressed():
    s = complaint_summary(hand_log().head(4), spec=SPEC, customers=400)
    assert s["suppressed"] is True and s["n_complaints"] == 4
    assert np.isnan(s["complaint_rate"]) and np.isnan(s["median_days_to_resolve"])
    assert np.isnan(s["repeat_complainant_share"]) and s["pareto"].empty and s["outcomes"].empty


def test_optional_columns_and_spec_forms():
    log = hand_log().drop(columns=["customer_id", "outcome", "sla_days"])
    s = complaint_summary(log, spec=SPEC, customers=None, sla_days=5, min_n=1)
    assert np.isnan(s["complaint_rate"]) and np.isnan(s["repeat_complainant_share"])
    assert s["outcomes"].empty and np.isnan(s["n_followed_up"])
    assert s["share_within_sla"] == pytest.approx(4 / 6)  # 2, 3, 5, 1 within 5 days; 10 and 8 not
    one_sla = ComplaintsSpec(file="log.csv", sla_days=2.5)
    assert complaint_summary(hand_log(), spec=one_sla, customers=None, min_n=1)["share_within_sla"] == (
        pytest.approx(2 / 6))
    renamed = hand_log().rename(columns={"category": "topic"})
    s2 = complaint_summary(renamed, spec=ComplaintsSpec(file="log.csv", category="topic"), customers=None, min_n=1)
    assert s2["pareto"]["count"].sum() == 8
    with pytest.raises(DataError, match=r"column 'owner' \(complaints.customer in study.yaml\) is not in the"):
        complaint_summary(hand_log(), spec=ComplaintsSpec(file="log.csv", customer="owner"), customers=None)
    with pytest.raises(DataError, match=r"column 'category' \(complaints.category"):
        complaint_summary(renamed, spec=SPEC, customers=None)


def test_bad_dates_name_file_row_and_column():
    log = hand_log()
    log.loc[3, "received"] = "06/03/2026"
    with pytest.raises(DataError, match=r"log\.csv, column 'received', row 5: '06/03/2026' is not a date in ISO"):
        complaint_summary(log, spec=SPEC, customers=None)
    table = Table(hand_log().assign(resolved=["2026-13-01"] + [""] * 7), Path("complaints.csv"), "csv",
                  first_data_row=2, file_rows=np.arange(10, 18))
    with pytest.raises(DataError, match=r"complaints\.csv, column 'resolved', row 10: '2026-13-01'"):
        complaint_summary(table, spec=SPEC, customers=None)
    log = hand_log()
    log.loc[1, "resolved"] = "2026-02-01"
    with pytest.raises(DataError, match=r"log\.csv, row 3: the complaint is resolved before it was received"):
        complaint_summary(log, spec=SPEC, customers=None)


@pytest.mark.parametrize(("change", "message"), [
    ({"valid": (2, "maybe")}, r"column 'valid', row 4: 'maybe' — validity must be yes/no"),
    ({"sla_days": (0, -2)}, r"column 'sla_days', row 2: '-2' — the SLA must be a number of days > 0"),
    ({"complaint_id": (1, "C1")}, r"column 'complaint_id', rows 2, 3: complaint ids 'C1' appear more than once"),
])
def test_bad_values_raise_data_errors(change, message):
    log = hand_log()
    for col, (row, value) in change.items():
        log[col] = log[col].astype(object)
        log.loc[row, col] = value
    with pytest.raises(DataError, match=message):
        complaint_summary(log, spec=SPEC, customers=None)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"customers": 0}, r"`customers` must be a whole number > 0"),
    ({"customers": 10, "sla_days": 0}, r"`sla_days` must be a number of days > 0"),
    ({"customers": 10, "min_n": -1}, r"`min_n` must be a whole number >= 0"),
    ({"customers": 10, "as_of": "yesterday-ish"}, r"`as_of` must be a date"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(CsmError, match=message):
        complaint_summary(hand_log(), spec=SPEC, **kwargs)


def test_text_stays_plain_and_categories_are_not_altered():
    log = hand_log()
    log.loc[7, "category"] = "<b>rude</b> & $cheap"
    s = complaint_summary(log, spec=SPEC, customers=None, min_n=1)
    assert "<b>rude</b> & $cheap" in s["pareto"]["category"].tolist()


def test_sample_complaint_log_matches_the_generator_truth():
    study = load_study(sample_study_path())
    truth = json.loads((sample_dir() / "truth.json").read_text(encoding="utf-8"))["complaints"]
    table = read_study_table(study, "complaints")
    s = complaint_summary(table, spec=study.complaints, customers=study.market.customers,
                          sla_days=study.analysis.sla_days, min_n=study.min_cell_size)
    assert s["n_complaints"] == truth["n"] == 300
    assert s["n_complainants"] == truth["distinct_customers"]
    assert s["complaints_per_1000"] == pytest.approx(truth["complaints_per_1000_customers"])
    pareto = s["pareto"].set_index("category")["count"]
    assert OTHER_SUPPRESSED not in pareto.index  # every category has at least 5 complaints
    probs = truth["category_probs"]
    observed = pareto.reindex(list(probs)).to_numpy()
    assert observed.sum() == 300
    assert stats.chisquare(observed, np.array(list(probs.values())) * 300).pvalue > 1e-3
    p = truth["valid_prob"]
    assert abs(s["valid_share"] - p) < 4 * np.sqrt(p * (1 - p) / 300)
    # Time to resolve, recomputed with pandas from the raw file.
    raw = table.data
    days = (pd.to_datetime(raw["resolved"]) - pd.to_datetime(raw["received"])).dt.days
    done = days.notna()
    assert s["n_open"] == int((~done).sum()) and s["n_open"] > 0
    assert s["median_days_to_resolve"] == pytest.approx(days[done].median())
    assert s["share_within_sla"] == pytest.approx((days[done] <= raw.loc[done, "sla_days"]).mean())
    per_customer = raw["customer_id"].value_counts()
    assert s["repeat_complainant_share"] == pytest.approx((per_customer >= 2).mean())


# --------------------------------------------------------------------------- iceberg
def test_iceberg_arithmetic():
    t = complaint_iceberg(100)
    assert list(t.columns) == ["layer", "label", "visible", "share", "estimated_customers"]
    assert t["layer"].tolist() == ["formal", "elsewhere", "silent", "all dissatisfied"]
    assert t["estimated_customers"].tolist() == pytest.approx([100, 700, 1200, 2000])
    assert t["visible"].tolist() == [True, False, False, False]
    custom = complaint_iceberg(30, formal=0.1, elsewhere=0.3, silent=0.6)
    assert custom["estimated_customers"].tolist() == pytest.approx([30, 90, 180, 300])
    assert complaint_iceberg(0)["estimated_customers"].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((100,), {"formal": 0.1}, r"must add up to 1, but formal \+ elsewhere \+ silent = 1.05"),
    ((100,), {"formal": 0.0, "elsewhere": 0.4}, r"`formal` must be above 0"),
    ((-1,), {}, r"`formal_complaints` must be a whole number >= 0"),
    ((2.5,), {}, r"`formal_complaints` must be a whole number"),
    ((100,), {"silent": 1.5}, r"`silent` must be a share between 0 and 1"),
])
def test_iceberg_bad_arguments(args, kwargs, message):
    with pytest.raises(CsmError, match=message):
        complaint_iceberg(*args, **kwargs)


# --------------------------------------------------------------------------- lost reasons
def lost_frame(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"reason": [r for r, c in counts.items() for _ in range(c)]})


def test_lost_reasons_against_scipy_chisquare():
    counts = {"died": 12, "moved_away": 30, "other_relationships": 45, "competitor": 140,
              "product_dissatisfaction": 150, "staff_indifference": 623}
    df = lost_frame(counts)
    before = df.copy()
    table, test = lost_reasons(df, reason="reason", benchmark=BENCHMARK)
    pd.testing.assert_frame_equal(df, before)
    assert list(table.columns) == ["reason", "n", "share", "benchmark_share", "expected_n", "difference", "residual"]
    assert table["reason"].tolist() == list(BENCHMARK)
    obs = np.array(list(counts.values()))
    exp = np.array(list(BENCHMARK.values())) * obs.sum()
    ref = stats.chisquare(obs, exp)
    assert test["chi2"] == pytest.approx(ref.statistic) and test["p_value"] == pytest.approx(ref.pvalue)
    assert test["df"] == 5 and test["n"] == 1000 and test["small_expected"] is False
    assert np.isnan(test["p_value_mc"]) and test["note"] == ""
    assert table["expected_n"].tolist() == pytest.approx(exp)
    assert table["residual"].tolist() == pytest.approx((obs - exp) / np.sqrt(exp))
    assert table["share"].tolist() == pytest.approx(obs / 1000)
    assert table["difference"].tolist() == pytest.approx(obs / 1000 - np.array(list(BENCHMARK.values())))


def test_small_expected_counts_warn_and_give_a_seeded_monte_carlo_p():
    df = lost_frame({"died": 2, "moved_away": 5, "other_relationships": 6, "competitor": 14,
                     "product_dissatisfaction": 20, "staff_indifference": 53})
    with pytest.warns(UserWarning, match=r"expected counts are below 5 .* approximate"):
        table, test = lost_reasons(df, reason="reason", benchmark=BENCHMARK, seed=3)
    assert test["small_expected"] is True and test["min_expected"] == pytest.approx(1.0)
    assert 0 < test["p_value_mc"] <= 1 and test["n_sim"] == 10_000
    with pytest.warns(UserWarning):
        _, again = lost_reasons(df, reason="reason", benchmark=BENCHMARK, seed=3)
    assert again["p_value_mc"] == test["p_value_mc"]
    # The Monte-Carlo p-value agrees with a direct simulation of the multinomial null.
    rng = np.random.default_rng(12345)
    p = np.array(list(BENCHMARK.values()))
    sims = rng.multinomial(100, p, size=40_000)
    ref = np.mean(((sims - 100 * p) ** 2 / (100 * p)).sum(axis=1) >= test["chi2"])
    assert abs(test["p_value_mc"] - ref) < 0.015
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, no_mc = lost_reasons(df, reason="reason", benchmark=BENCHMARK, monte_carlo=False)
    assert np.isnan(no_mc["p_value_mc"])


def test_monte_carlo_agrees_with_chi_square_when_counts_are_large():
    df = lost_frame({"died": 15, "moved_away": 35, "other_relationships": 40, "competitor": 110,
                     "product_dissatisfaction": 160, "staff_indifference": 640})
    _, test = lost_reasons(df, reason="reason", benchmark=BENCHMARK, monte_carlo=True, n_sim=20_000)
    assert abs(test["p_value_mc"] - test["p_value"]) < 0.02


def test_reasons_matching_unknown_and_missing():
    df = pd.DataFrame({"reason": [" Died", "COMPETITOR", None, "", "staff_indifference"] + ["competitor"] * 5})
    with pytest.warns(UserWarning, match="below 5"):
        table, test = lost_reasons(df, reason="reason", benchmark={"died": 0.2, "competitor": 0.5,
                                                                   "staff_indifference": 0.3}, monte_carlo=False)
    assert table.set_index("reason")["n"].to_dict() == {"died": 1, "competitor": 6, "staff_indifference": 1}
    assert test["n"] == 8 and test["n_missing"] == 2
    bad = pd.DataFrame({"reason": ["died", "bored", "bored", "price"]})
    with pytest.raises(DataError, match=r"3 lost customer\(s\) with reasons outside the benchmark: 'bored' \(2\), "
                                        r"'price' \(1\)"):
        lost_reasons(bad, reason="reason", benchmark=BENCHMARK)


def test_lost_reasons_suppressed_and_bad_arguments():
    table, test = lost_reasons(lost_frame({"died": 2, "competitor": 2}), reason="reason", benchmark=BENCHMARK)
    assert test["suppressed"] is True and np.isnan(test["chi2"]) and np.isnan(test["p_value"])
    assert table[["n", "share", "expected_n", "residual"]].isna().all().all()
    with pytest.raises(CsmError, match=r"benchmark shares must add up to 1"):
        lost_reasons(lost_frame({"died": 9}), reason="reason", benchmark={"died": 0.5})
    with pytest.raises(CsmError, match=r"benchmark share of 'died' must be a number > 0"):
        lost_reasons(lost_frame({"died": 9}), reason="reason", benchmark={"died": 0.0, "x": 1.0})
    with pytest.raises(CsmError, match=r"reason column 'why' is not in the data"):
        lost_reasons(lost_frame({"died": 9}), reason="why", benchmark=BENCHMARK)


def test_sample_lost_reasons_match_the_generator_truth():
    study = load_study(sample_study_path())
    truth = json.loads((sample_dir() / "truth.json").read_text(encoding="utf-8"))["lost_customers"]
    data = read_study_table(study, "lost_customers").data
    with pytest.warns(UserWarning):  # died: 200 x 1% = 2 expected
        table, test = lost_reasons(data, reason=study.lost_customers.reason, benchmark=study.analysis.lost_benchmark)
    assert test["n"] == truth["n"] == 200
    counts = data["reason"].value_counts()
    assert table.set_index("reason")["share"].to_dict() == pytest.approx((counts / 200).to_dict())
    probs = truth["reason_probs"]
    obs = table.set_index("reason")["n"].reindex(list(probs)).to_numpy()
    assert stats.chisquare(obs, np.array(list(probs.values())) * 200).pvalue > 1e-3  # the generating shares
    assert test["p_value"] < 0.05 and test["p_value_mc"] < 0.05  # ... differ from the benchmark


# --------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(cats=st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=1, max_size=60),
       min_n=st.integers(0, 9), seed=st.integers(0, 10**6))
def test_pareto_properties(cats, min_n, seed):
    n = len(cats)
    log = pd.DataFrame({"category": cats, "received": "2026-01-01", "resolved": "2026-01-02"})
    s = complaint_summary(log, spec=SPEC, customers=None, min_n=min_n)
    if n < min_n:
        assert s["suppressed"] and s["pareto"].empty
        return
    pareto = s["pareto"]
    assert pareto["count"].sum() == n
    assert pareto["share"].between(0, 1).all()
    assert np.all(np.diff(pareto["cumulative_share"]) >= 0) and pareto["cumulative_share"].iloc[-1] == pytest.approx(1)
    shown = pareto[pareto["category"] != OTHER_SUPPRESSED]
    assert (shown["count"] >= min_n).all()
    assert list(shown["count"]) == sorted(shown["count"], reverse=True)
    pooled = pareto.loc[pareto["category"] == OTHER_SUPPRESSED, "count"]
    if len(pooled) and len(shown):
        assert pooled.iloc[0] >= min_n  # a small pool beside shown categories could be recovered
    shuffled = log.sample(frac=1, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(pareto, complaint_summary(shuffled, spec=SPEC, customers=None,
                                                            min_n=min_n)["pareto"])
