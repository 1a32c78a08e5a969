"""The minimum-cell-size rule (SPEC §4, issue 6), checked from group sizes alone.

An independent statement of the rule, for tests of every helper that shows one row per group
of a partition: it does not call :func:`csm_helpers.analysis.stats.suppressed_groups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def check_disclosure_rule(sizes: Mapping[object, int], hidden: Iterable[object], min_n: int) -> None:
    """Assert that hiding ``hidden`` out of groups of ``sizes`` protects every small group.

    - every group with 1 to ``min_n - 1`` respondents is hidden;
    - when any non-empty group is hidden, at least two are (unless only one group has
      respondents), and the hidden ones hold ``min_n`` or more respondents together (unless
      every group is hidden) — so the total minus the shown groups never isolates one group
      or fewer than ``min_n`` people;
    - the groups hidden only to protect another are never larger than a shown group.
    """
    hidden = {str(k) for k in hidden}
    present = {str(k): int(v) for k, v in sizes.items() if int(v) > 0}
    small = {k for k, v in present.items() if v < min_n}
    assert small <= hidden, f"small groups shown: {sorted(small - hidden)}"
    hid = hidden & set(present)
    if hid:
        assert len(hid) >= 2 or len(present) == 1, f"a single group hidden: {hid} of {present}"
        assert sum(present[k] for k in hid) >= min_n or hid == set(present), (hid, present)
        extra = hid - small
        shown = set(present) - hid
        if extra and shown:
            assert max(present[k] for k in extra) <= min(present[k] for k in shown), (extra, present)
