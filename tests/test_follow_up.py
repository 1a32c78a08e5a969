"""Closing the loop (issue 15 part 6): the follow-up list, its privacy, last wave's outcomes and the
check of last wave's actions.

References, independent of the code under test: the list is selected again here with pandas from
its definition; Wilson intervals from statsmodels ``proportion_confint(method="wilson")``; Fisher's
exact test from ``scipy.stats.fisher_exact``; Welch's test and interval from
``scipy.stats.ttest_ind(equal_var=False)``; and the synthetic sample's truth (``truth.json`` ``loop``:
the population change of each actioned attribute and whether it reaches its target).
"""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sst
from statsmodels.stats.proportion import proportion_confint

from csm_helpers.analysis import action
from csm_helpers.core.errors import ConfigError, DataError
from csm_helpers.present.views import follow_up_message
from csm_helpers.study.config import OutcomesSpec, load_study
from csm_helpers.study.readers import read_table
from csm_helpers.study.validate import validate_responses
from csm_helpers.workbook.context import StageContext

from .conftest import ROOT, run_cli, write_small_study

SAMPLE = ROOT / "data" / "sample"
LATEST, EARLIER = "2026-H1", "2025-H2"


def _sample_responses() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "responses.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


# --------------------------------------------------------------------------- the list
def test_the_list_is_the_consenting_dissatisfied_and_detractors_of_the_reported_wave():
    raw = _sample_responses()
    sat, rec = pd.to_numeric(raw["overall_sat"]), pd.to_numeric(raw["recommend"], errors="coerce")
    hanoi = raw.loc[(raw["wave"] == LATEST) & (raw["region"] == "Hanoi")]
    expected = hanoi.loc[(hanoi["contact_ok"] == "yes") & ((sat[hanoi.index] <= 2) | (rec[hanoi.index] <= 6)),
                         "respondent_id"]
    ctx = StageContext(stage="05_action_progress", study=load_study(SAMPLE / "study.yaml"), segment="region=Hanoi")
    listed = ctx.follow_up_table
    assert sorted(listed["respondent_id"]) == sorted(expected)  # speeders too: a call is owed to every one
    assert set(listed["region"]) == {"Hanoi"} and set(listed["wave"]) == {LATEST}
    assert listed["overall"].is_monotonic_increasing  # worst first
    row = listed.iloc[0]
    source = raw.set_index("respondent_id").loc[row["respondent_id"]]
    assert row["comment"] == source["comment"]
    why = [w for w, f in (("dissatisfied", int(source["overall_sat"]) <= 2),
                          ("detractor", source["recommend"] != "" and int(source["recommend"]) <= 6)) if f]
    assert row["why"] == ", ".join(why)
    # the three lowest-rated attributes, worked out here from the answers
    perf = {a.label: source[a.performance] for a in ctx.study.attributes if source[a.performance] != ""}
    lowest = sorted(perf, key=lambda k: (int(perf[k]), list(perf).index(k)))[:3]
    assert row["lowest_rated"] == "; ".join(f"{k} ({perf[k]} of 1–5)" for k in lowest)
    assert list(listed.columns[-4:]) == list(action.OUTCOME_COLUMNS)


def test_a_second_study_reads_consent_in_vietnamese_and_its_own_scale(tmp_path):
    path = write_small_study(tmp_path / "b")
    study = load_study(path)
    raw = pd.read_csv(path.parent / "answers.csv", keep_default_na=False)
    # overall on 1-10: dissatisfied = 1-2 (the bottom two points); no recommend item, so no detractors
    expected = raw.loc[(raw["goi_lai"].str.casefold() == "có") & (raw["q_overall"] <= 2), "rid"]
    listed = StageContext(stage="05_action_progress", study=study).follow_up_table
    assert sorted(listed["rid"]) == sorted(expected) and len(expected) > 0
    assert set(listed["why"]) == {"dissatisfied"}
    assert all("of 1–7" in x for x in listed["lowest_rated"])


def test_the_file_is_owner_only_and_formula_safe(tmp_path):
    table = pd.DataFrame({"rid": ["R1", "R2"], "comment": ["=HYPERLINK(\"http://x\")", "@SUM(A1)"],
                          **{c: "" for c in action.OUTCOME_COLUMNS}})
    path = action.write_follow_up(table, tmp_path / action.FOLLOW_UP_FILE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("R1,\"'=HYPERLINK") and lines[2].startswith("R2,'@SUM")
    action.write_follow_up(table.head(1), path)  # replaced: still owner-only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_report_and_no_metrics_carry_a_listed_customer(sample_run):
    out, _ = sample_run
    listed = pd.read_csv(out / "all" / action.FOLLOW_UP_FILE, dtype=str, keep_default_na=False,
                         encoding="utf-8-sig")
    assert len(listed) > 20
    assert stat.S_IMODE((out / "all" / action.FOLLOW_UP_FILE).stat().st_mode) == 0o600
    files = [p for p in (out / "all").iterdir()
             if p.suffix in (".html", ".json") or p.name.endswith(".csv") and p.name != action.FOLLOW_UP_FILE]
    comments = [c for c in listed["comment"] if len(c) > 30]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not any(rid in text for rid in listed["respondent_id"]), path.name
        if path.name in ("05_action_progress.html", "metrics.json"):  # (stage 04 quotes comments, without ids)
            assert not any(c in text for c in comments), path.name
    metrics = json.loads((out / "all" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["loop"]["follow_up"] == {"listed": len(listed), "below_min_n": False}


# --------------------------------------------------------------------------- outcomes
def test_outcomes_match_wilson_and_fisher_computed_here():
    o = pd.read_csv(SAMPLE / "follow_up_outcomes.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    t = action.follow_up_outcomes(o, spec=OutcomesSpec(file="x"), id="respondent_id").set_index("measure")
    contacted = o["contacted"] == "yes"
    assert t.loc["listed", "n"] == len(o)
    k, n = int(contacted.sum()), len(o)
    assert t.loc["contacted", "value"] == pytest.approx(k / n)
    assert tuple(t.loc["contacted", ["ci_low", "ci_high"]]) == pytest.approx(proportion_confint(k, n, method="wilson"))
    res = o.loc[contacted & (o["resolved"] != ""), "resolved"] == "yes"
    assert t.loc["resolved", "n"] == len(res) and t.loc["resolved", "value"] == pytest.approx(res.mean())
    known = o["still_customer"] != ""
    a = o.loc[contacted & known, "still_customer"] == "yes"
    b = o.loc[~contacted & known, "still_customer"] == "yes"
    assert t.loc["still_customer_contacted", "value"] == pytest.approx(a.mean())
    assert t.loc["still_customer_not_contacted", "value"] == pytest.approx(b.mean())
    assert t.loc["retention_difference", "value"] == pytest.approx(a.mean() - b.mean())
    p = sst.fisher_exact([[a.sum(), (~a).sum()], [b.sum(), (~b).sum()]]).pvalue
    assert t.loc["retention_difference", "p_value"] == pytest.approx(p)
    # the generator's truth: 0.70 contacted, 0.60 resolved — inside the 99.9 % intervals
    wide = action.follow_up_outcomes(o, spec=OutcomesSpec(file="x"), id="respondent_id",
                                     level=0.999).set_index("measure")
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["loop"]["follow_up"]
    for measure, key in (("contacted", "contacted"), ("resolved", "resolved"),
                         ("still_customer_contacted", "still_customer_contacted"),
                         ("still_customer_not_contacted", "still_customer_not_contacted")):
        assert wide.loc[measure, "ci_low"] <= truth[key] <= wide.loc[measure, "ci_high"], measure


def test_small_outcome_groups_are_suppressed_and_bad_answers_named():
    o = pd.DataFrame({"rid": list("abcdefg"), "contacted": ["yes"] * 6 + ["no"], "resolved": ["yes"] * 7,
                      "still_customer": ["yes", "no", "yes", "yes", "yes", "yes", "no"]})
    t = action.follow_up_outcomes(o, spec=OutcomesSpec(file="x"), id="rid", min_n=5).set_index("measure")
    assert not t.loc["contacted", "suppressed"] and t.loc["still_customer_not_contacted", "suppressed"]
    assert t.loc["retention_difference", "suppressed"] and np.isnan(t.loc["retention_difference", "p_value"])
    o.loc[2, "contacted"] = "maybe"
    with pytest.raises(DataError, match=r"column 'contacted' \(contacted\): 'maybe'"):
        action.follow_up_outcomes(o, spec=OutcomesSpec(file="x"), id="rid")


def test_the_list_count_never_lets_a_small_group_be_worked_out():
    """The stage 05 callout: whatever it publishes (the total, the dissatisfied, the detractors),
    no group of listed customers under min_n can be worked out from it — neither one shown
    directly nor one found by differencing (only dissatisfied = total - detractors, only
    detractors, both = dissatisfied + detractors - total)."""
    min_n = 5
    for only_d, only_t, both in np.ndindex(9, 9, 9):
        why = ["dissatisfied"] * only_d + ["detractor"] * only_t + ["dissatisfied, detractor"] * both
        text = follow_up_message(pd.DataFrame({"why": why}), file=None, min_n=min_n)
        head = re.sub(r"\(.*?\)|^Fewer than \d+", "", text.split(".")[0])  # (the "fewer than 5"s)
        numbers = [int(x) for x in re.findall(r"\b\d+\b", head)]
        n = only_d + only_t + both
        if n < min_n:
            assert numbers == [], text  # "fewer than 5", or none
            continue
        assert numbers[0] == n
        if len(numbers) == 1:  # the split withheld: some group really is small
            assert any(0 < k < min_n for k in (only_d, only_t, both, only_d + both, only_t + both)), text
            continue
        shown_d, shown_t = numbers[1:]
        assert (shown_d, shown_t) == (only_d + both, only_t + both)
        worked_out = (n - shown_t, n - shown_d, shown_d + shown_t - n, shown_d, shown_t)
        assert all(k == 0 or k >= min_n for k in worked_out), text

# --------------------------------------------------------------------------- last wave's actions
def test_actions_are_checked_with_welchs_test_and_their_targets():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"wave": ["w1"] * 300 + ["w2"] * 300,
                         "p_fees": np.r_[rng.integers(1, 6, 300), np.clip(rng.integers(1, 6, 300) + 1, 1, 5)],
                         "p_speed": rng.integers(1, 6, 600)})
    change = action.attribute_change(data, wave="wave", previous="w1", latest="w2",
                                     attributes={"fees": "p_fees", "speed": "p_speed"})
    register = pd.DataFrame({"attribute": ["fees", "speed", "staff"], "action": ["cut fees", "  ", ""],
                             "owner": ["Ana", "", ""], "target": ["3.2", "", ""]})
    checked = action.check_actions(register, change).set_index("attribute")
    assert list(checked.index) == ["fees"]  # only rows with an action written in
    a, b = data.loc[data.wave == "w1", "p_fees"], data.loc[data.wave == "w2", "p_fees"]
    ref = sst.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    row = checked.loc["fees"]
    assert row["p_value"] == pytest.approx(ref.pvalue) and (row["ci_low"], row["ci_high"]) == pytest.approx(
        (ci.low, ci.high))
    assert bool(row["improved"]) and row["target_met"] == bool(b.mean() >= 3.2)
    with pytest.raises(DataError, match="'staffing' have an action but are not attributes"):
        action.check_actions(pd.DataFrame({"attribute": ["staffing"], "action": ["hire"]}), change)
    with pytest.raises(DataError, match="column 'target': 'soon' is not a number"):
        action.check_actions(pd.DataFrame({"attribute": ["fees"], "action": ["x"], "target": ["soon"]}), change)
    with pytest.raises(DataError, match="no column 'action'"):
        action.check_actions(pd.DataFrame({"attribute": ["fees"]}), change)


def test_the_samples_actions_recover_the_true_changes():
    ctx = StageContext(stage="05_action_progress", study=load_study(SAMPLE / "study.yaml"))
    checked = ctx.action_check_table.set_index("attribute")
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["loop"]["actions"]
    assert set(checked.index) == set(truth)
    for attr, t in truth.items():
        row = checked.loc[attr]
        assert row["ci_low"] <= t["change"] <= row["ci_high"], attr
        assert row["improved"] == (t["change"] > 0), attr  # every true change here is large enough to show
        assert row["target"] == pytest.approx(t["target"])
        assert row["target_met"] == t["target_met"], attr
    # the family is the actioned attributes only: three p-values adjusted together
    from statsmodels.stats.multitest import multipletests

    np.testing.assert_allclose(checked["p_adj"], multipletests(checked["p_value"], method="fdr_bh")[1])


# --------------------------------------------------------------------------- bad input
def _copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "s"
    shutil.copytree(SAMPLE, folder)
    return folder / "study.yaml"


def test_a_consent_column_that_is_missing_or_not_yes_no_is_named(tmp_path):
    path = _copy_sample(tmp_path)
    study = load_study(path)
    data = _sample_responses()
    data.loc[[4, 9], "contact_ok"] = ["perhaps", "2"]
    data.to_csv(path.parent / "responses.csv", index=False, encoding="utf-8-sig")
    errors = validate_responses(read_table(path.parent / "responses.csv"), study).errors
    (msg,) = [e for e in errors if "contact_ok" in e]
    assert "column 'contact_ok', rows 6, 11" in msg and "'perhaps'" in msg and "not yes or no" in msg
    assert "follow_up.consent" in msg
    data.drop(columns="contact_ok").to_csv(path.parent / "responses.csv", index=False, encoding="utf-8-sig")
    errors = validate_responses(read_table(path.parent / "responses.csv"), study).errors
    assert any("column 'contact_ok' (set by follow_up.consent in study.yaml) is not in the file" in e for e in errors)


def test_consent_listed_as_personal_data_is_a_config_error(tmp_path):
    path = _copy_sample(tmp_path)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["responses"]["personal_data"].append("contact_ok")
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="'contact_ok' is follow_up.consent but is also listed in "
                                          "responses.personal_data"):
        load_study(path)


def test_validate_finds_a_broken_outcome_file_and_register(tmp_path):
    path = _copy_sample(tmp_path)
    o = pd.read_csv(path.parent / "follow_up_outcomes.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    o.drop(columns="still_customer").to_csv(path.parent / "follow_up_outcomes.csv", index=False)
    proc = run_cli("validate", "--study", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "follow_up_outcomes.csv" in proc.stderr and "still_customer" in proc.stderr
    assert "follow_up.outcomes.still_customer" in proc.stderr  # the key that renames the column
    shutil.copy(SAMPLE / "follow_up_outcomes.csv", path.parent / "follow_up_outcomes.csv")
    reg = pd.read_csv(path.parent / "actions_2025-H2.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    reg.loc[reg["attribute"] == "fees", "attribute"] = "fee"
    reg.to_csv(path.parent / "actions_2025-H2.csv", index=False)
    proc = run_cli("validate", "--study", str(path))
    assert proc.returncode == 1 and "'fee' have an action but are not attributes" in proc.stderr


# --------------------------------------------------------------------------- csm send
def test_send_keeps_the_list_out_unless_with_follow_up_names_recipients(sample_run, tmp_path):
    out, _ = sample_run
    lists = tmp_path / "care.yaml"
    lists.write_text("all: [care@bank.example]\n", encoding="utf-8")
    plain = run_cli("send", "--reports", str(out), "--to", "boss@bank.example", "--dry-run", str(tmp_path / "a"))
    assert plain.returncode == 0, plain.stderr
    assert "follow_up.csv (personal data) not sent" in plain.stderr
    assert not list((tmp_path / "a").glob("*.follow_up.eml"))
    assert "follow_up.csv" not in (tmp_path / "a" / "all.eml").read_text(encoding="utf-8", errors="replace")
    sent = run_cli("send", "--reports", str(out), "--to", "boss@bank.example", "--with-follow-up", str(lists),
                   "--dry-run", str(tmp_path / "b"))
    assert sent.returncode == 0, sent.stderr
    eml = tmp_path / "b" / "all.follow_up.eml"
    text = eml.read_text(encoding="utf-8", errors="replace")
    assert "To: care@bank.example" in text and "boss@bank.example" not in text
    assert 'filename="follow_up.csv"' in text
    assert stat.S_IMODE(eml.stat().st_mode) == 0o600
    assert "follow_up.csv" not in (tmp_path / "b" / "all.eml").read_text(encoding="utf-8", errors="replace")
