"""Legitimate but extreme data: every customer happy, nobody happy, everyone the same.

A branch where every customer is satisfied is the best news a manager can get; its intervals end
at 0 % or 100 % and every chart must still draw them (issue 17, part 1).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from csm_helpers.analysis import kpis
from csm_helpers.present.charts import kpis as pk
from csm_helpers.present.charts.style import interval_errors

from .conftest import run_cli, write_small_study


@pytest.mark.parametrize(("value", "low", "high"), [
    (1.0, 0.94, 1.0 - 1e-16),         # CSAT 100 %: the Wilson bound a hair below the estimate
    (0.0, 1e-17, 0.06),               # CSAT 0 %
    (100.0, 80.0, 99.9),              # adjusted-Wald NPS may not contain the raw estimate
    (3.0, np.nan, 3.5),               # a missing bound: zero length on that side
])
def test_interval_errors_are_never_negative(value, low, high):
    err = interval_errors(value, low, high)
    assert err.shape == (2, 1)
    assert (err >= 0).all()
    if np.isfinite(low) and low <= value:
        assert err[0, 0] == pytest.approx(value - low)
    if high >= value:
        assert err[1, 0] == pytest.approx(high - value)


@pytest.mark.parametrize("answers", [[4, 5], [1, 2, 3]], ids=["all-happy", "none-happy"])
def test_kpi_chart_draws_intervals_at_0_and_100_percent(answers):
    rng = np.random.default_rng(3)
    # raking weights make the Wilson bound land a hair beside 0 or 1 (float noise)
    data = pd.DataFrame({"overall": rng.choice(answers, 1155), "nps": rng.choice([9, 10], 1155),
                         "w": rng.uniform(0.5, 2.0, 1155)})
    summary = kpis.kpi_summary(data, overall="overall", satisfaction_items=["overall"], scale=(1, 5),
                               scales={"overall": (1, 5), "nps": (0, 10)}, recommend="nps", weights="w", n_boot=50)
    csat = summary.set_index("kpi").loc["csat_top2"]
    assert csat["value"] in (0.0, 1.0)  # the boundary case under test
    chart = pk.plot_kpis(summary)
    bar = next(m for m in chart.marks if m["kind"] == "bar" and m["kpi"] == "csat_top2")
    assert (bar["value"], bar["low"], bar["high"]) == (csat["value"], csat["ci_low"], csat["ci_high"])
    assert chart.overlaps() == [] and all(t.x0 >= 0 and t.x1 <= chart.width for t in chart.texts)
    whiskers = re.findall(r'<path d="M[\d.]+ [\d.]+H', chart.svg(font=False))
    assert len(whiskers) == len(summary) + 1  # each KPI's interval, and the legend's key


def _write_study(tmp_path, overall):
    study = write_small_study(tmp_path / "s", n=80)
    path = study.parent / "answers.csv"
    df = pd.read_csv(path)
    df["q_overall"] = overall(np.random.default_rng(5), len(df))
    df.to_csv(path, index=False)
    return study


@pytest.mark.slow
@pytest.mark.parametrize(("case", "overall"), [
    ("all-happy", lambda rng, n: rng.choice([9, 10], n)),     # top-2 box of 1-10: CSAT 100 %
    ("none-happy", lambda rng, n: rng.choice([1, 2, 3], n)),  # CSAT 0 %
])
def test_a_branch_of_happy_or_unhappy_customers_gets_its_reports(tmp_path, case, overall):
    study = _write_study(tmp_path, overall)
    out = tmp_path / "out"
    res = run_cli("run", "--study", str(study), "--out", str(out), "--stages", "04,05")
    assert res.returncode == 0, res.stderr
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["kpis"]["csat_top2"]["value"] == (1.0 if case == "all-happy" else 0.0)
    assert (out / "all" / "04_analysis.html").is_file()


def test_constant_overall_withholds_key_drivers_and_the_report_is_written(tmp_path):
    """Issue 17 made this a clear stop; issue 11 item 8 lets the stage go on with the section
    withheld and its reason, since the rest of the report is sound."""
    study = _write_study(tmp_path, lambda rng, n: np.full(n, 8))
    out = tmp_path / "out"
    res = run_cli("run", "--study", str(study), "--out", str(out), "--stages", "04")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    html = (out / "all" / "04_analysis.html").read_text(encoding="utf-8")
    assert "&#x27;q_overall&#x27; (the outcome (overall satisfaction)) has no variance" in html \
        or "'q_overall' (the outcome (overall satisfaction)) has no variance" in html


@pytest.mark.parametrize("weighted", [False, True])
def test_all_answers_equal_give_no_zero_width_interval(weighted):
    """CSI [100, 100] looked precise; it only says the sample had no spread (issue 10, item 2)."""
    data = pd.DataFrame({"overall": [5] * 12, "w": np.linspace(0.5, 2, 12)})
    t = kpis.csi(data, items=["overall"], scales={"overall": (1, 5)}, weights="w" if weighted else None,
                 n_boot=50)
    row = t.iloc[0]
    assert row["value"] == 100.0 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    assert row["method"] == kpis.DEGENERATE
    summary = kpis.kpi_summary(data, overall="overall", satisfaction_items=[], scale=(1, 5), scales={},
                               n_boot=50)
    from csm_helpers.present.views import kpi_display

    shown = kpi_display(summary).set_index("KPI")
    assert shown.iloc[1]["95% interval"] == "no interval: every answer is the same"
