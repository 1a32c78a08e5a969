"""The studentized range's upper tail for many values at once, against scipy and exact forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sst

from csm_helpers.analysis.studentized_range import ASYMPTOTIC_DF, studentized_range_sf

QS = np.array([0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 25.0])


@pytest.mark.parametrize("k", [2, 3, 4, 10, 50, 120])
@pytest.mark.parametrize("df", [0.7, 1.0, 2.0, 3.3, 5.0, 10.0, 30.0, 94.2, 500.0, 5000.0, 99_999.0, 1e6])
def test_matches_scipy(k, df):
    """scipy integrates each value adaptively to 1e-11 (absolute); near df = 1e5 its double
    integral is off by up to 1e-10 (P(Q > 25) for k = 4 is below 1e-100, scipy gives 6e-11)."""
    ref = sst.studentized_range.sf(QS, k, df)
    got = studentized_range_sf(QS, k, df)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10 if df > 50_000 else 2e-11)


@pytest.mark.parametrize("df", [1.0, 2.5, 7.0, 48.6, 1000.0])
def test_two_groups_is_the_t_distribution(df):
    """For k = 2 the studentized range is sqrt(2) |t_df|: an exact reference."""
    q = np.linspace(0, 12, 49)
    exact = 2 * sst.t.sf(q / np.sqrt(2), df)
    np.testing.assert_allclose(studentized_range_sf(q, 2, df), exact, rtol=1e-9, atol=1e-13)


def test_the_limit_df_is_the_range_of_normals():
    """df >= 1e5 takes df = infinity, as scipy does; for k = 2 that is 2 Phi_c(q / sqrt 2)."""
    q = np.array([0.5, 1.0, 2.772, 5.0])
    exact = 2 * sst.norm.sf(q / np.sqrt(2))
    np.testing.assert_allclose(studentized_range_sf(q, 2, ASYMPTOTIC_DF), exact, rtol=1e-9)
    np.testing.assert_allclose(studentized_range_sf(q, 2, 1e9), exact, rtol=1e-9)


@pytest.mark.parametrize("q, k, df, alpha", [
    (3.877, 3, 10, 0.05), (3.958, 4, 20, 0.05), (4.102, 5, 30, 0.05), (4.163, 6, 60, 0.05),
    (4.560, 10, 120, 0.05), (5.270, 3, 10, 0.01), (5.294, 5, 20, 0.01),
])
def test_published_critical_values(q, k, df, alpha):
    """Upper percentage points of the studentized range (Harter, H. L. (1960). Tables of range
    and studentized range. *Annals of Mathematical Statistics*, 31(4), 1122-1147; three decimals)."""
    assert studentized_range_sf(q, k, df) == pytest.approx(alpha, abs=2e-4)


def test_many_values_broadcast_and_edge_cases():
    rng = np.random.default_rng(5)
    q, df = rng.uniform(0, 6, 300), rng.uniform(1.5, 200, 300)
    got = studentized_range_sf(q, 7, df)
    assert got.shape == (300,)
    some = rng.choice(300, 12, replace=False)
    np.testing.assert_allclose(got[some], sst.studentized_range.sf(q[some], 7, df[some]), rtol=0, atol=2e-11)
    assert studentized_range_sf(np.array([[1.0, 2.0]]), 3, 10.0).shape == (1, 2)
    edge = studentized_range_sf([0.0, np.inf, np.nan, 2.0, 2.0], 3, [10.0, 10.0, 10.0, np.nan, 0.0])
    assert edge[0] == pytest.approx(1.0, abs=1e-12) and edge[1] == 0.0 and np.isnan(edge[2:]).all()
    assert studentized_range_sf(-2.0, 3, 10.0) == studentized_range_sf(2.0, 3, 10.0)  # |q|, as Games-Howell uses


def test_many_pairs_are_integrated_in_blocks_of_bounded_memory():
    """2,000 segments are 2 million pairs: the values are integrated a block at a time, so the
    memory does not grow with their number (20,000 values here)."""
    import tracemalloc

    rng = np.random.default_rng(8)
    q, df = rng.uniform(0, 6, 20_000), rng.uniform(30, 95, 20_000)
    tracemalloc.start()
    try:
        p = studentized_range_sf(q, 200, df)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20, f"{peak / 2**20:.0f} MiB"
    some = rng.choice(20_000, 5, replace=False)
    np.testing.assert_allclose(p[some], sst.studentized_range.sf(q[some], 200, df[some]), rtol=0, atol=2e-11)
