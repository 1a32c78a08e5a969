"""Tests for the shared statistical building blocks (stats.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from csm_helpers.analysis.stats import adjust_family, adjust_p, holm, suppressed_groups
from csm_helpers.core.errors import CsmError


def _revealed(counts: dict[str, int], hidden: set[str], min_n: int) -> bool:
    """True when some difference of published totals pins down fewer than min_n people.

    Published: the total and every shown group. Any linear combination of them only yields
    sums over subsets of groups containing either all hidden groups or none, so the smallest
    hidden set that can be isolated is the union of the hidden groups.
    """
    hidden_total = sum(counts[g] for g in hidden)
    return bool(hidden) and (len(hidden) < 2 or hidden_total < min_n)


def test_single_small_group_gets_a_complementary_partner():
    counts = {"A": 2, "B": 50, "C": 9, "D": 30}
    assert suppressed_groups(counts, 5) == {"A", "C"}


def test_two_small_groups_that_together_are_still_small_pull_in_a_third():
    counts = {"A": 1, "B": 2, "C": 40, "D": 7}
    assert suppressed_groups(counts, 5) == {"A", "B", "D"}


def test_nothing_small_nothing_hidden_and_empty_groups_ignored():
    assert suppressed_groups({"A": 10, "B": 0, "C": 6}, 5) == set()


@given(st.dictionaries(st.sampled_from("ABCDEFGH"), st.integers(0, 30), min_size=1),
       st.integers(1, 10))
def test_no_published_difference_isolates_a_small_group(counts, min_n):
    hidden = suppressed_groups(counts, min_n)
    primary = {g for g, n in counts.items() if 0 < n < min_n}
    positive = {g for g, n in counts.items() if n > 0}
    assert primary <= hidden <= positive
    if hidden and hidden != positive:  # something is still shown next to the total
        assert not _revealed(counts, hidden, min_n)
    # the last complementary group added (the largest) was needed
    extra = sorted(hidden - primary, key=lambda g: (counts[g], g))
    if extra:
        assert _revealed(counts, hidden - {extra[-1]}, min_n)


# --------------------------------------------------------------------------- multiple testing (issue 10 item 5)
@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjust_p_equals_statsmodels_and_leaves_untested_rows_out_of_the_family(method):
    """Independent reference: statsmodels' multipletests on the tested p-values only (the
    missing ones are not tests, so they must not count in m)."""
    rng = np.random.default_rng(10)
    p = rng.uniform(0, 0.2, 15)
    p[[2, 7, 11]] = np.nan
    got = adjust_p(p, method=method)
    ok = np.isfinite(p)
    np.testing.assert_allclose(got[ok], multipletests(p[ok], method=method)[1], rtol=1e-12)
    assert np.isnan(got[~ok]).all()
    assert np.isnan(adjust_p([np.nan, np.nan], method=method)).all()
    assert holm(p[ok]).tolist() == pytest.approx(multipletests(p[ok], method="holm")[1].tolist(), rel=1e-12)
    with pytest.raises(CsmError, match="`method`"):
        adjust_p(p, method="bonferroni")


@given(st.lists(st.one_of(st.sampled_from([0.0, 0.01, 0.05, 0.5, 1.0]), st.floats(0, 1)), min_size=1, max_size=30),
       st.sampled_from(["holm", "fdr_bh"]))
def test_adjust_p_equals_statsmodels_and_pingouin_with_ties_and_bounds(p, method):
    """Two independent references (statsmodels' multipletests and pingouin's multicomp) on
    families with tied p-values, exact 0 and 1, and a single test."""
    p = np.asarray(p)
    got = adjust_p(p, method=method)
    np.testing.assert_allclose(got, multipletests(p, method=method)[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got, pg.multicomp(p, method=method)[1], rtol=1e-12, atol=1e-15)


def test_adjust_family_decides_on_the_adjusted_p_per_group():
    """The flags follow p_adj (statsmodels fdr_bh within each group), not the raw p; a row
    without a p-value is left out of its group's family."""
    rng = np.random.default_rng(5)
    t = pd.DataFrame({"seg": np.repeat(["a", "b"], 6), "attribute": list("uvwxyz") * 2,
                      "gap": rng.normal(0, 1, 12), "p_value": rng.uniform(0.001, 0.06, 12)})
    t.loc[3, "p_value"] = np.nan
    t["flag"] = np.where(t["p_value"] < 0.05, np.where(t["gap"] > 0, "better", "worse"), "level")
    t.loc[3, "flag"] = np.nan  # a suppressed row
    t["significant"] = t["p_value"] < 0.05
    out = adjust_family(t, method="fdr_bh", level=0.95, by="seg")
    assert list(out.columns[:5]) == ["seg", "attribute", "gap", "p_value", "p_adj"]
    for seg, g in out.groupby("seg"):
        raw = t.loc[t["seg"] == seg, "p_value"].to_numpy()
        ok = np.isfinite(raw)
        np.testing.assert_allclose(g["p_adj"].to_numpy()[ok], multipletests(raw[ok], method="fdr_bh")[1], rtol=1e-12)
    sig = out["p_adj"] < 0.05
    assert (sig & (out["p_value"] < 0.05)).sum() < (t["p_value"] < 0.05).sum()  # the correction removed some
    expected = np.where(sig, np.where(out["gap"] > 0, "better", "worse"), "level").astype(object)
    expected[3] = np.nan
    assert out["flag"].drop(index=3).tolist() == expected[[i for i in range(12) if i != 3]].tolist()
    assert pd.isna(out.loc[3, "flag"]) and out.loc[3, "significant"] is None
    assert out["significant"].drop(index=3).tolist() == sig.drop(index=3).tolist()
    assert out.attrs == {"p_adjust": "fdr_bh", "level": 0.95}
    assert "p_adj" not in t.columns  # the caller's frame is not modified
    again = adjust_family(out.assign(p_value=out["p_value"].where(out["attribute"] != "u")), by="seg")
    assert list(again.columns) == list(out.columns) and again["p_adj"].isna().sum() == 3
    with pytest.raises(CsmError, match="no `p_value` column"):
        adjust_family(t.drop(columns="p_value"))
