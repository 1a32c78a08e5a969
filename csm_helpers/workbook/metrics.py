"""Turn the analysis tables into the ``metrics.json`` entries of SPEC §3.

The notebooks compute tables with the helpers; these functions pick and rename the
columns the output contract names, so the contract lives in one place:

- ``kpis``: ``{"csat_top2"|"csi"|"nps": {value, ci_low, ci_high, n, target, met}}``
- ``reliability``: ``{<dimension>: {alpha, ci_low, ci_high, n_items}}``
- ``drivers``: ``[{attribute, r, beta, relative_weight, rw_pct, rank}]``
- ``ipa``: ``[{attribute, performance, importance, quadrant}]``
- ``gaps``: ``[{attribute, mean_gap, p_value, share_dissatisfied}]`` (plus ``p_adj``, the
  Benjamini–Hochberg adjusted p over the attributes)
- ``kano``: ``[{feature, category, clear, better, worse, n, share_A … share_Q}]`` (plus the
  intervals of Better and Worse)
- ``loop`` (stage 05, with ``follow_up`` or ``actions`` in the study): ``{follow_up: {listed},
  outcomes: [{measure, n, value, ci_low, ci_high, p_value}], actions: [{attribute, target,
  change, ci_low, ci_high, p_value, p_adj, improved, target_met}]}`` — counts and figures only,
  never a customer's id or comment (those are only in ``follow_up.csv``)
- ``satisfaction_model`` (stage 04, with ``satisfaction_model`` in the study): ``{index: {value,
  ci_low, ci_high, block}, paths: [{from, to, coefficient, ci_low, ci_high, p_value}], r2,
  gof, n, scheme}``, or ``{withheld: reason}``
- ``suppressed``: ``[{table, group, reason}]`` — every group left out for the minimum cell size

CSAT and relative weights are proportions in [0, 1]; NPS and CSI stay on their scales.
A suppressed row never contributes a number.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csm_helpers.core.jsonable import to_jsonable

__all__ = ["kpis_entry", "reliability_entry", "drivers_entry", "ipa_entry", "gaps_entry", "kano_entry",
           "loop_entry", "model_entry", "suppressed_entries"]


def _rows(table: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    if "suppressed" in table.columns:
        table = table.loc[~table["suppressed"].fillna(False).astype(bool)]
    return to_jsonable(table[columns].to_dict(orient="records"))


def kpis_entry(summary: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``kpis`` from :func:`csm_helpers.analysis.kpis.kpi_summary`: SPEC §3's keys, and ``level``,
    the confidence level of ``ci_low`` / ``ci_high`` (so that a reader of the file, such as the
    ``csm send`` e-mail of an older run, never has to assume 95 %).

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["nps"], "value": [21.0], "ci_low": [15.0], "ci_high": [27.0], "n": [900],
    ...                   "target": [30.0], "met": [False], "suppressed": [False]})
    >>> t.attrs["level"] = 0.9
    >>> kpis_entry(t)["nps"]["met"], kpis_entry(t)["nps"]["level"]
    (False, 0.9)
    """
    level = summary.attrs.get("level")
    out = {}
    for row in summary.to_dict(orient="records"):
        if row.get("suppressed"):
            out[row["kpi"]] = {"value": None, "ci_low": None, "ci_high": None, "n": row["n"],
                               "target": row.get("target"), "met": None, "suppressed": True}
            continue
        out[row["kpi"]] = {k: row.get(k) for k in ("value", "ci_low", "ci_high", "n", "target", "met")}
        if level is not None:
            out[row["kpi"]]["level"] = float(level)
    return to_jsonable(out)


def reliability_entry(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``reliability`` from :func:`csm_helpers.analysis.measurement.reliability`."""
    keys = ["alpha", "ci_low", "ci_high", "n_items"] + [k for k in ("omega", "omega_ci_low", "omega_ci_high")
                                                        if k in table.columns]
    return to_jsonable({row["dimension"]: {k: row[k] for k in keys} for row in table.to_dict(orient="records")})


def drivers_entry(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``drivers`` from :func:`csm_helpers.analysis.drivers.key_drivers` (adds the bootstrap interval)."""
    cols = ["attribute", "r", "beta", "relative_weight", "rw_pct", "rank"]
    extra = [c for c in ("rw_ci_low", "rw_ci_high", "n") if c in table.columns]
    return _rows(table.sort_values("rank"), cols + extra)


def ipa_entry(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``ipa`` from :func:`csm_helpers.analysis.drivers.ipa`."""
    return _rows(table, ["attribute", "performance", "importance", "quadrant"]
                 + (["p_quadrant"] if "p_quadrant" in table.columns else []))


def gaps_entry(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``gaps`` from :func:`csm_helpers.analysis.gaps.expectation_gaps`."""
    cols = ["attribute", "mean_gap", "p_value", "share_dissatisfied"]
    extra = [c for c in ("p_adj", "ci_low", "ci_high", "n") if c in table.columns]
    return _rows(table, cols + extra)


def kano_entry(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    """``kano`` from :func:`csm_helpers.analysis.kano.kano_table` (empty without Kano pairs)."""
    if table is None:
        return []
    return _rows(table, ["feature", "category", "runner_up", "clear", "better", "better_ci_low", "better_ci_high",
                         "worse", "worse_ci_low", "worse_ci_high", "n",
                         *(f"share_{c}" for c in ("A", "O", "M", "I", "R", "Q"))])


def loop_entry(follow_up: pd.DataFrame | None, outcomes: pd.DataFrame | None, actions: pd.DataFrame | None, *,
               min_n: int) -> dict[str, Any]:
    """``loop`` of stage 05: how many customers are on the follow-up list (None below ``min_n``),
    last wave's outcomes and the check of last wave's actions — no personal data.

    Examples
    --------
    >>> loop_entry(pd.DataFrame({"rid": ["a", "b"]}), None, None, min_n=5)
    {'follow_up': {'listed': None, 'below_min_n': True}, 'outcomes': [], 'actions': []}
    """
    out: dict[str, Any] = {"follow_up": None, "outcomes": [], "actions": []}
    if follow_up is not None:
        n = len(follow_up)
        out["follow_up"] = {"listed": n if n >= min_n or n == 0 else None, "below_min_n": 0 < n < min_n}
    if outcomes is not None:
        out["outcomes"] = _rows(outcomes, ["measure", "n", "value", "ci_low", "ci_high", "p_value"])
    if actions is not None:
        out["actions"] = _rows(actions, ["attribute", "target", "previous", "latest", "change", "ci_low", "ci_high",
                                         "p_value", "p_adj", "improved", "target_met"])
    return to_jsonable(out)


def model_entry(model: dict[str, Any] | None) -> dict[str, Any] | None:
    """``satisfaction_model`` from :attr:`StageContext.satisfaction_model` (None without a model)."""
    if model is None:
        return None
    if "withheld" in model:
        return {"withheld": model["withheld"]}
    result, boot = model["result"], model["bootstrap"]
    idx = boot.loc[boot["what"] == "index"]
    ci = boot.loc[boot["what"] == "path"].set_index(["from", "to"])[["ci_low", "ci_high"]]
    paths = result.paths.join(ci, on=["from", "to"])
    return to_jsonable({
        "index": {"value": model["index"], "block": model["index_block"],
                  "ci_low": idx["ci_low"].iloc[0] if len(idx) else None,
                  "ci_high": idx["ci_high"].iloc[0] if len(idx) else None},
        "paths": paths[["from", "to", "coefficient", "ci_low", "ci_high", "p_value"]].to_dict(orient="records"),
        "r2": result.r2.to_dict(), "gof": result.gof, "n": result.n, "scheme": result.scheme,
    })


def suppressed_entries(table: pd.DataFrame, *, name: str, group: str, min_n: int) -> list[dict[str, Any]]:
    """``suppressed`` entries for the suppressed rows of a grouped table.

    The exact size of a suppressed group is not written (only that it is below ``min_n``). A
    group hidden by complementary suppression (``table.attrs["complementary"]``, set by
    :func:`csm_helpers.analysis.stats.suppress` with ``by``) says so instead.

    Examples
    --------
    >>> t = pd.DataFrame({"region": ["A", "B"], "n": [3, 50], "suppressed": [True, False]})
    >>> suppressed_entries(t, name="CSAT by region", group="region", min_n=5)
    [{'table': 'CSAT by region', 'group': 'region=A', 'reason': 'n < 5'}]
    >>> t = pd.DataFrame({"region": ["A", "B", "C"], "n": [3, 50, 9], "suppressed": [True, False, True]})
    >>> t.attrs["complementary"] = ["C"]
    >>> suppressed_entries(t, name="CSAT by region", group="region", min_n=5)[1]["reason"]
    'complementary: hidden so that a group with n < 5 cannot be derived by difference'
    """
    if "suppressed" not in table.columns or group not in table.columns:
        return []
    extra = set(map(str, table.attrs.get("complementary", [])))
    rows = table.loc[table["suppressed"].fillna(False).astype(bool)]
    return to_jsonable([
        {"table": name, "group": f"{group}={row[group]}",
         "reason": (f"complementary: hidden so that a group with n < {min_n} cannot be derived by difference"
                    if str(row[group]) in extra else f"n < {min_n}")}
        for row in rows.to_dict(orient="records")])
