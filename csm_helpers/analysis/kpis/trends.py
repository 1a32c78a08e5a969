"""KPIs over waves: change against the previous wave with its test, the KPI summary against target, and the invisible scorecard of product, process and people."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.analysis import stats
from csm_helpers.analysis.kpis.common import check_by, only_columns, scale_bounds, scale_text
from csm_helpers.analysis.kpis.comparisons import nps_difference_z, two_proportion_z, welch_t
from csm_helpers.analysis.kpis.intervals import ADJUSTED_WALD, WILSON
from csm_helpers.analysis.kpis.scores import KPI_NAMES, csat, csi, csi_items, csi_scores, csi_table, nps
from csm_helpers.core.checks import check_frame, check_int, require_column
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import N_

__all__ = ["kpi_change", "kpi_summary", "scorecard"]


#: Natural range of each KPI (CSAT is a proportion, SPEC §3).
_KPI_RANGE = {"csat_top2": (0.0, 1.0), "csi": (0.0, 100.0), "nps": (-100.0, 100.0)}


def _wave_stats(sub: pd.DataFrame, *, overall: str, scale: tuple[float, float], csi_items: list[str],
                scales: Mapping[str, Any], recommend: str | None, top_box: int, weights: str | None,
                level: float, n_boot: int, seed: int) -> dict[str, dict[str, Any]]:
    """Unsuppressed KPI estimates of one wave, with what the change tests need."""
    w = stats.get_weights(sub, weights)
    c = csat(sub, item=overall, scale=scale, top_box=top_box, weights=weights, level=level, min_n=0).iloc[0]
    scores = csi_scores(sub, csi_items, scales)
    s = csi_table(scores, sub, weights=weights, by=None, level=level, n_boot=n_boot, seed=seed,
                   min_n=0).iloc[0]
    ok = np.isfinite(scores)
    if weights is None:
        var = float(np.var(scores[ok], ddof=1)) if ok.sum() > 1 else math.nan
    else:
        var = stats.weighted_var(scores[ok], w[ok])
    out = {"csat_top2": dict(c), "csi": {**dict(s), "var": var}}
    if recommend is not None:
        out["nps"] = dict(nps(sub, item=recommend, weights=weights, level=level, min_n=0).iloc[0])
    return out


def kpi_change(data: pd.DataFrame, *, wave: str, previous: Any, latest: Any, overall: str,
               satisfaction_items: list[str], scales: dict[str, tuple[float, float]],
               recommend: str | None = None, top_box: int = 2, weights: str | None = None,
               level: float = 0.95, n_boot: int = 1000, seed: int = 0, min_n: int = 5) -> pd.DataFrame:
    """Change of each headline KPI from the previous to the latest wave, with its test (SPEC §1.4).

    The waves are treated as independent samples. ``change = latest - previous``:

    - ``csat_top2``: two-proportion z-test with pooled SE (:func:`two_proportion_z`);
    - ``csi``: Welch t-test on the respondents' CSI scores (:func:`welch_t`);
    - ``nps``: z-test on the NPS difference (:func:`nps_difference_z`), only when ``recommend``
      is given.

    With weights, shares and means are weighted and every test uses the Kish effective n of
    each wave (CSI variance: :func:`csm_helpers.analysis.stats.weighted_var`). ``significant`` is
    ``p_value < 1 - level``. When either wave has fewer than ``min_n`` respondents for a KPI,
    that row is suppressed: every estimate and test is missing, only ``n_previous`` and
    ``n_latest`` remain.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, both waves.
    wave : str
        The wave column; ``previous`` and ``latest`` are two of its values.
    overall : str
        The overall satisfaction item (CSAT; first CSI item).
    satisfaction_items : list of str
        Further satisfaction items of the CSI (the overall item is added when missing).
    scales : dict
        ``item -> (min, max)`` for the overall item and every satisfaction item.
    recommend : str, optional
        The 0-10 recommend item (NPS row only when given).
    top_box, weights, level, n_boot, seed, min_n
        As in :func:`csat` and :func:`csi`.

    Returns
    -------
    pandas.DataFrame
        One row per KPI: ``kpi, wave_previous, wave_latest, n_previous, n_latest, previous,
        previous_ci_low, previous_ci_high, latest, latest_ci_low, latest_ci_high, change, test, statistic,
        p_value, significant, suppressed`` (the intervals as in :func:`csat`, :func:`csi`,
        :func:`nps`). ``test`` is "two-proportion z", "Welch t" or
        "z on NPS difference"; ``statistic`` its z or t; ``significant`` True/False (None when
        the test is undefined or the row is suppressed). CSAT as a proportion, CSI 0-100, NPS
        -100..100.

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> ch = kpi_change(read_dataset("responses"), wave="wave", previous="2025-H2", latest="2026-H1",
    ...                 overall="overall_sat", satisfaction_items=["sat_last_contact"],
    ...                 scales={"overall_sat": (1, 5), "sat_last_contact": (1, 5)}, recommend="recommend")
    >>> ch["kpi"].tolist(), ch["test"].tolist()
    (['csat_top2', 'csi', 'nps'], ['two-proportion z', 'Welch t', 'z on NPS difference'])
    """
    check_frame(data, "kpi_change")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    require_column(data, wave, role="wave")
    if previous == latest:
        raise CsmError(f"previous and latest wave are both {previous!r} — pass two different values of {wave!r}")
    items = csi_items(overall, satisfaction_items)
    if overall not in scales:
        raise CsmError(f"no scale for the overall item {overall!r}: add it to `scales`")
    scale = scale_bounds(scales[overall], overall)
    waves = data[wave]
    found = set(waves.dropna().unique().tolist())
    for name, value in (("previous", previous), ("latest", latest)):
        if value not in found:
            shown = ", ".join(sorted(map(str, found))[:10]) or "none"
            raise CsmError(f"{name} wave {value!r} is not a value of column {wave!r} (found: {shown}) — "
                           "pass one of these")
    est = {}
    # only the columns used: selecting a wave's rows then copies 5 columns, not the whole survey
    narrow = only_columns(data, [wave, weights, overall, *items, recommend])
    for key, value in (("previous", previous), ("latest", latest)):
        sub = narrow.loc[(waves == value).to_numpy(dtype=bool)]
        est[key] = _wave_stats(sub, overall=overall, scale=scale, csi_items=items, scales=scales,
                               recommend=recommend, top_box=top_box, weights=weights, level=level,
                               n_boot=n_boot, seed=seed)
    rows = []
    for kpi in KPI_NAMES:
        if kpi not in est["latest"]:
            continue
        a, b = est["previous"][kpi], est["latest"][kpi]
        if kpi == "csat_top2":
            test_name = N_("two-proportion z")
            r = two_proportion_z(b["value"], b["n_eff"], a["value"], a["n_eff"])
            statistic = r["z"]
        elif kpi == "csi":
            test_name = N_("Welch t")
            r = welch_t(b["value"], b["var"], b["n_eff"], a["value"], a["var"], a["n_eff"])
            statistic = r["t"]
        else:
            test_name = N_("z on NPS difference")
            r = nps_difference_z(b["value"], b["se"], a["value"], a["se"])
            statistic = r["z"]
        p = r["p_value"]
        small = a["n"] < min_n or b["n"] < min_n
        row = {"kpi": kpi, "wave_previous": previous, "wave_latest": latest,
               "n_previous": int(a["n"]), "n_latest": int(b["n"]),
               "previous": a["value"], "previous_ci_low": a["ci_low"], "previous_ci_high": a["ci_high"],
               "latest": b["value"], "latest_ci_low": b["ci_low"], "latest_ci_high": b["ci_high"],
               "change": b["value"] - a["value"], "test": test_name, "statistic": statistic, "p_value": p,
               "significant": (bool(p < 1 - level) if math.isfinite(p) else None), "suppressed": small}
        if small:
            for c in ("previous", "previous_ci_low", "previous_ci_high", "latest", "latest_ci_low",
                      "latest_ci_high", "change", "statistic", "p_value"):
                row[c] = math.nan
            row["significant"] = None
        rows.append(row)
    out = pd.DataFrame(rows, columns=["kpi", "wave_previous", "wave_latest", "n_previous", "n_latest", "previous",
                                      "previous_ci_low", "previous_ci_high", "latest", "latest_ci_low",
                                      "latest_ci_high", "change", "test", "statistic", "p_value", "significant",
                                      "suppressed"])
    out["significant"] = out["significant"].astype(object)
    out["suppressed"] = out["suppressed"].astype(bool)
    out.attrs["min_n"] = min_n  # a suppressed row's counts are shown as "fewer than min_n"
    return out


# --------------------------------------------------------------------------- summary against targets
def _status(value: float, lo: float, hi: float, target: float | None) -> tuple[bool | None, str]:
    if target is None:
        return None, N_("no target")
    met = bool(value >= target)
    if met:
        return True, N_("met: CI above target") if lo > target else N_("met")
    return False, N_("not met: CI below target") if hi < target else N_("not met")


def kpi_summary(data: pd.DataFrame, *, overall: str, scale: tuple[float, float],
                satisfaction_items: list[str], scales: dict[str, tuple[float, float]],
                recommend: str | None = None, targets: dict[str, float] | None = None, top_box: int = 2,
                weights: str | None = None, level: float = 0.95, n_boot: int = 1000, seed: int = 0,
                min_n: int = 5) -> pd.DataFrame:
    """Headline KPIs with n, interval and target attainment (SPEC §1.4, metrics.json ``kpis`` of SPEC §3).

    One row per KPI: ``csat_top2`` (:func:`csat` on ``overall``; a proportion), ``csi``
    (:func:`csi` on ``overall`` plus ``satisfaction_items``; 0-100) and ``nps`` (:func:`nps` on
    ``recommend``, only when given; -100..100). ``met`` is ``value >= target`` (None without a
    target); ``status`` says how sure that is:

    - "met: CI above target" — the whole interval lies above the target (``ci_low > target``);
    - "met" — the estimate reaches the target but the interval includes it;
    - "not met" — the estimate is below the target but the interval includes it;
    - "not met: CI below target" — the whole interval lies below the target (``ci_high < target``);
    - "no target" — no target given; "suppressed" — fewer than ``min_n`` respondents.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    overall : str
        The overall satisfaction item.
    scale : tuple of float
        Its ``(min, max)``.
    satisfaction_items : list of str
        Further satisfaction items of the CSI.
    scales : dict
        ``item -> (min, max)`` of the satisfaction items (``overall`` uses ``scale``).
    recommend : str, optional
        The 0-10 recommend item.
    targets : dict, optional
        ``kpi -> target`` on the KPI's own scale (CSAT a proportion, e.g. 0.8); other keys are
        ignored.
    top_box, weights, level, n_boot, seed, min_n
        As in :func:`csat` and :func:`csi`.

    Returns
    -------
    pandas.DataFrame
        Columns ``kpi, n, n_eff, value, ci_low, ci_high, method, target, met, status,
        suppressed``; ``method`` is "Wilson", "t", "bootstrap" or "adjusted Wald".

    Examples
    --------
    >>> from csm_helpers.study.datasets import read_dataset
    >>> s = kpi_summary(read_dataset("responses"), overall="overall_sat", scale=(1, 5),
    ...                 satisfaction_items=["sat_last_contact"], scales={"sat_last_contact": (1, 5)},
    ...                 recommend="recommend", targets={"csat_top2": 0.8, "csi": 75, "nps": 30})
    >>> s[["kpi", "status"]]
             kpi                    status
    0  csat_top2  not met: CI below target
    1        csi  not met: CI below target
    2        nps  not met: CI below target
    """
    check_frame(data, "kpi_summary")
    targets = dict(targets or {})
    for kpi, t in targets.items():
        if kpi in _KPI_RANGE:
            lo, hi = _KPI_RANGE[kpi]
            if t is not None and not (isinstance(t, int | float) and lo <= t <= hi):
                hint = " (CSAT is a proportion: write 0.8 for 80%)" if kpi == "csat_top2" else ""
                raise CsmError(f"target {t!r} for {kpi} is outside [{scale_text(lo)}, {scale_text(hi)}]{hint}")
    scale = scale_bounds(scale, overall)
    all_scales = {**scales, overall: scale}
    c = csat(data, item=overall, scale=scale, top_box=top_box, weights=weights, level=level, min_n=min_n)
    s = csi(data, items=csi_items(overall, satisfaction_items), scales=all_scales, weights=weights,
            level=level, n_boot=n_boot, seed=seed, min_n=min_n)
    found = [("csat_top2", c.iloc[0], WILSON), ("csi", s.iloc[0], s.iloc[0]["method"])]
    if recommend is not None:
        found.append(("nps", nps(data, item=recommend, weights=weights, level=level, min_n=min_n).iloc[0],
                      ADJUSTED_WALD))
    rows = []
    for kpi, r, method in found:
        target = targets.get(kpi)
        target = None if target is None else float(target)
        if bool(r["suppressed"]):
            met, status = None, N_("suppressed")
        else:
            met, status = _status(float(r["value"]), float(r["ci_low"]), float(r["ci_high"]), target)
        rows.append({"kpi": kpi, "n": int(r["n"]), "n_eff": float(r["n_eff"]), "value": float(r["value"]),
                     "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]), "method": method,
                     "target": math.nan if target is None else target, "met": met, "status": status,
                     "suppressed": bool(r["suppressed"])})
    out = pd.DataFrame(rows, columns=["kpi", "n", "n_eff", "value", "ci_low", "ci_high", "method", "target",
                                      "met", "status", "suppressed"])
    out["met"] = out["met"].astype(object)
    out.attrs["min_n"] = min_n  # a suppressed KPI's n is shown as "fewer than min_n"
    out.attrs["level"] = level  # the confidence level of ci_low / ci_high (metrics.json records it)
    return out


# --------------------------------------------------------------------------- invisible scorecard
def scorecard(data: pd.DataFrame, *, dimensions: dict[str, list[str]], scales: dict[str, tuple[float, float]],
              weights: str | None = None, by: str | None = None, level: float = 0.95, n_boot: int = 1000,
              seed: int = 0, min_n: int = 5) -> pd.DataFrame:
    """The invisible scorecard: a CSI (0-100) per dimension from its performance items (SPEC §1, §1.4).

    Customers judge a company on product, process and people; each dimension's score is the
    CSI of :func:`csi` over that dimension's performance items (each rescaled to 0-100 on its
    own scale, averaged per respondent over the items answered, then averaged over
    respondents), with the same intervals (t, or seeded bootstrap when weighted). Dimensions
    with no item are left out.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    dimensions : dict
        ``dimension -> list of performance items``, e.g. ``{"product": ["perf_fees", ...]}``.
    scales : dict
        ``item -> (min, max)`` for every item.
    weights, by, level, n_boot, seed, min_n
        As in :func:`csi`.

    Returns
    -------
    pandas.DataFrame
        Columns ``dimension, [by], n_items, n, n_eff, value, ci_low, ci_high, method,
        suppressed``; one row per dimension (per group with ``by``), dimensions in the order
        given.

    Examples
    --------
    >>> from csm_helpers.study.config import load_study
    >>> from csm_helpers.study.datasets import read_dataset, sample_study_path
    >>> study = load_study(sample_study_path())
    >>> dims = {d: [a.performance for a in study.attributes if a.dimension == d]
    ...         for d in ("product", "process", "people")}
    >>> sc = scorecard(read_dataset("responses"), dimensions=dims, scales=study.rated_items())
    >>> sc[["dimension", "n_items", "n"]]
      dimension  n_items     n
    0   product        4  2400
    1   process        4  2400
    2    people        4  2400
    """
    check_frame(data, "scorecard")
    if not isinstance(dimensions, Mapping):
        raise CsmError(f"The value for `dimensions` must be a dict of dimension -> items, "
                       f"but {type(dimensions).__name__} was passed.")
    stats.z_value(level)
    min_n = check_int(min_n, "min_n", minimum=0)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    check_by(by, ["dimension", "n_items", "n", "n_eff", "value", "ci_low", "ci_high", "method", "suppressed"])
    tables = []
    for dim, items in dimensions.items():
        items = [items] if isinstance(items, str) else list(dict.fromkeys(items or []))
        if not items:
            continue
        scores = csi_scores(data, items, scales)
        t = csi_table(scores, data, weights=weights, by=by, level=level, n_boot=n_boot, seed=seed, min_n=min_n)
        t.insert(0, "n_items", len(items))
        t.insert(0, "dimension", dim)
        if by is not None:
            t.insert(1, by, t.pop(by))
        tables.append(t)
    cols = ["dimension", *([by] if by else []), "n_items", "n", "n_eff", "value", "ci_low", "ci_high", "method",
            "suppressed"]
    if not tables:
        return pd.DataFrame(columns=cols)
    return pd.concat(tables, ignore_index=True)[cols]
