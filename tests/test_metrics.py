"""metrics.json entries: SPEC §3 names, no number from a suppressed row."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from csm_helpers.workbook.metrics import (
    drivers_entry,
    gaps_entry,
    ipa_entry,
    kpis_entry,
    reliability_entry,
    suppressed_entries,
)


def test_kpis_entry_keys_and_suppression():
    summary = pd.DataFrame({
        "kpi": ["csat_top2", "nps"], "value": [0.7, float("nan")], "ci_low": [0.65, float("nan")],
        "ci_high": [0.75, float("nan")], "n": [400, 3], "target": [0.8, 30.0], "met": [False, None],
        "suppressed": [False, True]})
    entry = kpis_entry(summary)
    assert entry["csat_top2"] == {"value": 0.7, "ci_low": 0.65, "ci_high": 0.75, "n": 400, "target": 0.8,
                                  "met": False}
    assert entry["nps"]["value"] is None and entry["nps"]["suppressed"] is True
    json.dumps(entry, allow_nan=False)  # valid JSON: no NaN


def test_list_entries_drop_suppressed_rows():
    gaps = pd.DataFrame({"attribute": ["a", "b"], "mean_gap": [-0.2, 0.9], "p_value": [0.01, 0.5],
                         "share_dissatisfied": [0.4, 0.1], "ci_low": [-0.3, 0.1], "ci_high": [-0.1, 1.7],
                         "n": [200, 4], "suppressed": [False, True]})
    assert [g["attribute"] for g in gaps_entry(gaps)] == ["a"]
    drivers = pd.DataFrame({"attribute": ["x", "y"], "r": [0.3, 0.5], "beta": [0.1, 0.4],
                            "relative_weight": [0.05, 0.2], "rw_pct": [20.0, 80.0], "rank": [2, 1]})
    assert [d["attribute"] for d in drivers_entry(drivers)] == ["y", "x"]
    ipa = pd.DataFrame({"attribute": ["x"], "performance": [3.2], "importance": [4.1],
                        "quadrant": ["Concentrate here"]})
    assert ipa_entry(ipa) == [{"attribute": "x", "performance": 3.2, "importance": 4.1,
                               "quadrant": "Concentrate here"}]


def test_reliability_entry():
    rel = pd.DataFrame({"dimension": ["people"], "alpha": [0.81], "ci_low": [0.79], "ci_high": [0.83],
                        "n_items": [4], "n": [900], "flag": [""]})
    assert reliability_entry(rel) == {"people": {"alpha": 0.81, "ci_low": 0.79, "ci_high": 0.83, "n_items": 4}}


def test_suppressed_entries_do_not_reveal_group_size():
    t = pd.DataFrame({"group": ["A", "B"], "n": [3, 50], "suppressed": [True, False]})
    out = suppressed_entries(t, name="means by region", group="group", min_n=5)
    assert out == [{"table": "means by region", "group": "group=A", "reason": "n < 5"}]
    assert "3" not in json.dumps(out)


def test_gaps_entry_keeps_the_raw_p_value_and_adds_the_adjusted_one():
    """SPEC §3 names ``p_value`` (raw); issue 10 item 5 adds ``p_adj`` (Benjamini-Hochberg over the
    attributes), checked against statsmodels' multipletests on the same raw p-values."""
    import numpy as np
    from statsmodels.stats.multitest import multipletests

    from csm_helpers.analysis.gaps import expectation_gaps

    rng = np.random.default_rng(3)
    df = pd.DataFrame({f"{k}{i}": rng.integers(1, 6, 80) for k in ("p", "e") for i in range(6)})
    df["e0"] = np.clip(df["p0"] + rng.integers(0, 2, 80), 1, 5)  # a true shortfall on one attribute
    table = expectation_gaps(df, pairs={f"a{i}": (f"p{i}", f"e{i}") for i in range(6)})
    entry = gaps_entry(table)
    raw = [g["p_value"] for g in entry]
    assert raw == table["p_value"].tolist()
    assert [g["p_adj"] for g in entry] == pytest.approx(multipletests(raw, method="fdr_bh")[1].tolist(), rel=1e-12)
    assert {"attribute", "mean_gap", "p_value", "p_adj", "share_dissatisfied"} <= set(entry[0])
    json.dumps(entry, allow_nan=False)
