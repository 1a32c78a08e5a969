"""Progress of the headline KPIs per wave against target, with change tests and complementary suppression."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from csm_helpers.analysis import kpis, stats
from csm_helpers.analysis.action.common import as_float
from csm_helpers.analysis.kpis.common import group_positions, only_columns
from csm_helpers.analysis.kpis.scores import csi_items
from csm_helpers.core.checks import check_frame, check_int, require_column
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.core.i18n import N_, _

__all__ = ["progress"]


# --------------------------------------------------------------------------- progress over waves
def progress(data: pd.DataFrame, *, wave: str, waves: list[str] | None = None, overall: str,
             satisfaction_items: list[str], scales: dict[str, tuple[float, float]], recommend: str | None = None,
             top_box: int = 2, targets: dict[str, float] | None = None, weights: str | None = None,
             level: float = 0.95, n_boot: int = 1000, seed: int = 0, min_n: int = 5,
             by: str | None = None) -> pd.DataFrame:
    """Every headline KPI over the waves, with intervals, change tests and target attainment (SPEC §1.5).

    Per wave (and segment with ``by``) and KPI: the estimate and interval of
    :func:`csm_helpers.analysis.kpis.csat` (``csat_top2``, Wilson), :func:`csm_helpers.analysis.kpis.csi` (``csi``,
    t or bootstrap) and :func:`csm_helpers.analysis.kpis.nps` (``nps``, adjusted Wald; only with
    ``recommend``); the change from the previous wave in ``waves`` with the test of
    :func:`csm_helpers.analysis.kpis.kpi_change` (two-proportion z, Welch t, z on the NPS difference),
    run on each consecutive pair; and target attainment: "met" (``value >= target``), "not met",
    or "not measurable" (no target, or no value because the row is suppressed or empty).

    The waves are treated as independent samples. A group-wave with fewer than ``min_n``
    respondents is suppressed, and so is any change that involves it (otherwise the change and
    the other wave would give the suppressed value away). With a single wave the change columns
    stay empty, ``note`` says so and ``attrs["single_wave"]`` is True. With ``by`` the table
    has one row per segment, wave and KPI (call again without ``by`` for the whole sample). Per
    wave and KPI the segments form one partition, so complementary suppression
    (:func:`csm_helpers.analysis.stats.suppressed_groups`) also hides the smallest other segments when one
    is below ``min_n``: the whole-sample figure minus the shown segments never isolates it.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, all waves. Not modified.
    wave : str
        The wave column.
    waves : list of str, optional
        The waves in time order (default: the sorted values of ``wave``); other waves are left out.
    overall, satisfaction_items, scales, recommend, top_box, weights, level, n_boot, seed, min_n
        As in :func:`csm_helpers.analysis.kpis.kpi_change`.
    targets : dict, optional
        ``kpi -> target`` on the KPI's scale (CSAT a proportion); other keys ignored.
    by : str, optional
        Segment column.

    Returns
    -------
    pandas.DataFrame
        ``[by], wave, kpi, n, n_eff, value, ci_low, ci_high, method, target, attainment,
        previous_wave, change, test, statistic, p_value, significant, suppressed, note`` — one
        row per (segment,) wave and KPI, waves in order. ``change = value - value of the
        previous wave``; ``significant`` is True/False, None when not tested. ``attrs`` holds
        ``waves``, ``n_waves``, ``single_wave`` and ``message`` (in the report language).

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> pr = progress(read_dataset("responses"), wave="wave", overall="overall_sat",
    ...               satisfaction_items=["sat_last_contact"],
    ...               scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend",
    ...               targets={"csat_top2": 0.8, "csi": 75, "nps": 30})
    >>> pr[["wave", "kpi", "attainment", "significant"]]
          wave        kpi attainment significant
    0  2025-H2  csat_top2    not met        None
    1  2025-H2        csi    not met        None
    2  2025-H2        nps    not met        None
    3  2026-H1  csat_top2    not met        True
    4  2026-H1        csi    not met        True
    5  2026-H1        nps    not met        True
    """
    check_frame(data, "progress")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    require_column(data, wave, role="wave")
    cols = ["wave", "kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target", "attainment",
            "previous_wave", "change", "test", "statistic", "p_value", "significant", "suppressed", "note"]
    if by is not None:
        require_column(data, by, role="by (group)")
        if by in cols:
            raise CsmError(f"by column {by!r} has the name of an output column — rename the column first")
    if overall not in scales:
        raise CsmError(f"no scale for the overall item {overall!r}: add it to `scales`")
    targets = {k: float(v) for k, v in (targets or {}).items() if k in kpis.KPI_NAMES and v is not None}
    present = data[wave].dropna().unique().tolist()
    if waves is None:
        try:
            waves = sorted(present)
        except TypeError:
            waves = sorted(present, key=str)
    else:
        if isinstance(waves, str) or not len(waves):
            raise CsmError(f"The value for `waves` must be a non-empty list of waves in time order, but {waves!r} "
                           "was passed.")
        missing = [w_ for w_ in waves if w_ not in present]
        if missing:
            shown = ", ".join(sorted(map(str, present))[:10]) or "none"
            raise CsmError(f"wave {missing[0]!r} is not a value of column {wave!r} (found: {shown}) — pass waves "
                           "that are in the data")
        waves = list(waves)
    if not waves:
        raise DataError(f"column {wave!r} has no wave value — fill in the wave of every response")
    items = csi_items(overall, satisfaction_items)
    scale = scales[overall]
    common = {"weights": weights, "level": level, "min_n": min_n}
    wcol = data[wave]
    # only the columns used: each wave's rows are then copied for these few columns only
    data = only_columns(data, [by, wave, weights, overall, *items, recommend])

    groups: list[tuple[Any, pd.DataFrame]]
    if by is None:
        groups = [(None, data)]
    else:
        groups = [(label, data.iloc[pos]) for label, pos in group_positions(data, by)]

    rows = []
    for label, sub in groups:
        sw = sub[wave]
        prev_wave = None
        for wv in waves:
            part = sub.loc[(sw == wv).to_numpy(dtype=bool, na_value=False)]
            est = {
                "csat_top2": kpis.csat(part, item=overall, scale=scale, top_box=top_box, **common).iloc[0],
                "csi": kpis.csi(part, items=items, scales=scales, n_boot=n_boot, seed=seed, **common).iloc[0],
            }
            if recommend is not None:
                est["nps"] = kpis.nps(part, item=recommend, **common).iloc[0]
            ch = None
            if prev_wave is not None:
                both = sub.loc[sw.isin([prev_wave, wv]).to_numpy(dtype=bool, na_value=False)]
                have = set(both[wave].unique().tolist())
                if prev_wave in have and wv in have:
                    ch = kpis.kpi_change(both, wave=wave, previous=prev_wave, latest=wv, overall=overall,
                                         satisfaction_items=items, scales=scales, recommend=recommend,
                                         top_box=top_box, n_boot=n_boot, seed=seed, **common).set_index("kpi")
            for kpi, r in est.items():
                suppressed = bool(r["suppressed"])
                value = as_float(r["value"])
                target = targets.get(kpi, math.nan)
                # words of the table stay in English (it goes to metrics.json); the display translates them
                if suppressed or not math.isfinite(value) or not math.isfinite(target):
                    attain = N_("not measurable")
                else:
                    attain = N_("met") if value >= target else N_("not met")
                row = {"wave": wv, "kpi": kpi, "n": int(r["n"]), "n_eff": as_float(r["n_eff"]), "value": value,
                       "ci_low": as_float(r["ci_low"]), "ci_high": as_float(r["ci_high"]),
                       "method": {"csat_top2": N_("Wilson"), "nps": N_("adjusted Wald")}.get(kpi, r.get("method")),
                       "target": target, "attainment": attain, "previous_wave": prev_wave, "change": math.nan,
                       "test": None, "statistic": math.nan, "p_value": math.nan, "significant": None,
                       "suppressed": suppressed, "note": ""}
                if len(waves) == 1:
                    row["note"] = N_("single wave: no change to test")
                elif prev_wave is None:
                    row["note"] = N_("first wave")
                elif ch is None:
                    row["note"] = N_("no respondents in one of the two waves: change not tested")
                else:
                    c = ch.loc[kpi]
                    row["test"] = c["test"]
                    if bool(c["suppressed"]) or suppressed:
                        row["note"] = N_("change suppressed (a wave below the minimum cell size)")
                    else:
                        row.update({"change": as_float(c["change"]), "statistic": as_float(c["statistic"]),
                                    "p_value": as_float(c["p_value"]), "significant": c["significant"]})
                if suppressed:
                    for k in ("n_eff", "value", "ci_low", "ci_high"):
                        row[k] = math.nan
                rows.append(row if by is None else {by: label, **row})
            prev_wave = wv
    out = pd.DataFrame(rows, columns=([by] if by else []) + cols)
    for c in ("n_eff", "value", "ci_low", "ci_high", "target", "change", "statistic", "p_value"):
        out[c] = out[c].astype("float64")
    out["n"] = out["n"].astype("int64")
    out["significant"] = out["significant"].astype(object)
    out["suppressed"] = out["suppressed"].astype(bool)
    if by is not None and len(out):
        _complementary_suppression(out, by=by, min_n=min_n)
    single = len(waves) == 1
    out.attrs.update({"min_n": min_n, "waves": list(waves), "n_waves": len(waves), "single_wave": single,
                      "message": (_("Only one wave ({wave}): no change between waves can be tested.", wave=waves[0])
                                  if single else
                                  _("{n} waves: {waves}.", n=len(waves), waves=", ".join(map(str, waves)))),
                      "unused_waves": sorted(set(map(str, wcol.dropna().unique())) - set(map(str, waves)))})
    return out


def _complementary_suppression(out: pd.DataFrame, *, by: str, min_n: int) -> None:
    """Per wave and KPI, the groups of ``by`` form one partition: hide the groups
    :func:`csm_helpers.analysis.stats.suppressed_groups` adds (in place), and any change that involves a
    hidden wave of a group, so that no small group can be derived by difference (SPEC §4)."""
    hidden_at: set[tuple[Any, Any]] = set()
    for (wv, _kpi), part in out.groupby(["wave", "kpi"], sort=False):
        hide = stats.suppressed_groups(dict(zip(part[by].astype(str), part["n"], strict=True)), min_n)
        for i in part.index[part[by].astype(str).isin(hide)]:
            hidden_at.add((out.at[i, by], wv))
            if not out.at[i, "suppressed"]:
                out.loc[i, ["n_eff", "value", "ci_low", "ci_high"]] = math.nan
                out.at[i, "suppressed"] = True
                out.at[i, "attainment"] = "not measurable"
                out.at[i, "note"] = N_("suppressed so that a smaller segment cannot be derived by difference")
    for i in out.index:
        prev = out.at[i, "previous_wave"]
        involved = {(out.at[i, by], out.at[i, "wave"]), (out.at[i, by], prev)}
        if prev is not None and involved & hidden_at and pd.notna(out.at[i, "change"]):
            out.loc[i, ["change", "statistic", "p_value"]] = math.nan
            out.at[i, "significant"] = None
            out.at[i, "note"] = N_("change suppressed (a wave below the minimum cell size)")
