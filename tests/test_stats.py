"""Tests for the shared statistical building blocks (stats.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from csm_helpers.stats import suppressed_groups


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
