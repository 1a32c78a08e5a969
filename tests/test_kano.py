"""Kano classification (issue 15 part 3): the evaluation table, the shares, the category and Fong's
test, Better/Worse and their intervals, the answer codes, bad input, and recovery of the true
categories of the synthetic study.

References, all independent of the code under test:

- the Kano evaluation table as published (Berger et al. 1993, table 1; the same grid in Matzler
  & Hinterhuber 1998, table 1), written out below as text;
- Better/Worse and Fong's bound worked out by hand on counts chosen for the test;
- Wilson intervals from ``statsmodels.stats.proportion.proportion_confint(method="wilson")``;
- the true category shares of the synthetic generator (``truth.json`` and the generator's
  parameters), with which the analysis must agree.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from csm_helpers.analysis.kano import kano_categories, kano_table
from csm_helpers.core.errors import ConfigError, CsmError, DataError
from csm_helpers.study.config import KanoSpec, load_study
from csm_helpers.study.readers import read_table
from csm_helpers.study.validate import validate_responses
from csm_helpers.synthetic.model import KANO_FEATURES
from csm_helpers.synthetic.survey import kano_items

from .conftest import ROOT

ANSWERS = ["like", "must_be", "neutral", "live_with", "dislike"]

# Berger et al. (1993), table 1: rows = functional answer, columns = dysfunctional answer, both in
# the order like, must-be, neutral, live with, dislike.
PUBLISHED_TABLE = """
Q A A A O
R I I I M
R I I I M
R I I I M
R R R R Q
"""

SPEC = KanoSpec(pairs=[{"id": "x", "label": "X", "functional": "f", "dysfunctional": "d"}])

# one (functional, dysfunctional) code pair (1 like ... 5 dislike) that gives each category
CELL = {"A": (1, 3), "O": (1, 5), "M": (3, 5), "I": (3, 3), "R": (5, 1), "Q": (1, 1)}


def _data(counts: dict[str, int]) -> pd.DataFrame:
    rows = [CELL[c] for c, k in counts.items() for _ in range(k)]
    return pd.DataFrame(rows, columns=["f", "d"])


def _table(data: pd.DataFrame, **kw) -> pd.Series:
    return kano_table(data, features={"x": ("X", "f", "d")}, spec=SPEC, **kw).iloc[0]


# --------------------------------------------------------------------------- the evaluation table
def test_every_answer_pair_is_classified_as_the_published_table_says():
    grid = [line.split() for line in PUBLISHED_TABLE.strip().splitlines()]
    f, d, expected = [], [], []
    for i, fa in enumerate(ANSWERS):
        for j, da in enumerate(ANSWERS):
            f.append(fa)
            d.append(da)
            expected.append(grid[i][j])
    assert kano_categories(f, d).tolist() == expected


def test_a_missing_answer_gives_no_category_and_a_wrong_one_an_error():
    assert kano_categories(["like", None, float("nan")], [None, "like", "dislike"]).tolist() == [None, None, None]
    with pytest.raises(CsmError, match="'love' is not a Kano answer"):
        kano_categories(["love"], ["like"])
    with pytest.raises(CsmError, match="2 functional answers but 1"):
        kano_categories(["like", "like"], ["like"])


# --------------------------------------------------------------------------- shares, category, coefficients
def test_shares_category_fong_and_better_worse_worked_by_hand():
    row = _table(_data({"A": 40, "O": 25, "M": 15, "I": 15, "R": 3, "Q": 2}))
    assert row["n"] == 100 and row["n_aomi"] == 95
    assert [row[f"share_{c}"] for c in "AOMIRQ"] == pytest.approx([0.40, 0.25, 0.15, 0.15, 0.03, 0.02])
    assert row["category"] == "A" and row["runner_up"] == "O"
    # Fong (1996): |40 - 25| = 15 against 1.65 sqrt(65 * 135 / 200) = 10.93 -> significant
    assert 1.65 * math.sqrt(65 * 135 / 200) == pytest.approx(10.93, abs=0.01)
    assert row["clear"] is True
    assert row["better"] == pytest.approx(65 / 95)  # (A + O) / (A + O + M + I)
    assert row["worse"] == pytest.approx(-40 / 95)  # -(O + M) / (A + O + M + I)
    lo, hi = proportion_confint(65, 95, alpha=0.05, method="wilson")
    assert (row["better_ci_low"], row["better_ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    lo, hi = proportion_confint(40, 95, alpha=0.05, method="wilson")
    assert (row["worse_ci_low"], row["worse_ci_high"]) == pytest.approx((-hi, -lo), abs=1e-12)
    lo90, hi90 = proportion_confint(65, 95, alpha=0.10, method="wilson")
    row90 = _table(_data({"A": 40, "O": 25, "M": 15, "I": 15, "R": 3, "Q": 2}), level=0.90)
    assert (row90["better_ci_low"], row90["better_ci_high"]) == pytest.approx((lo90, hi90), abs=1e-12)


def test_two_close_categories_are_not_clear_by_fongs_test():
    # |30 - 26| = 4 < 1.65 sqrt(56 * 144 / 200) = 10.48: A and O cannot be told apart
    row = _table(_data({"A": 30, "O": 26, "M": 20, "I": 24}))
    assert (row["category"], row["runner_up"], row["clear"]) == ("A", "O", False)
    # just past the bound: |36 - 20| = 16 >= 1.65 sqrt(56 * 144 / 200) = 10.48
    assert _table(_data({"A": 36, "O": 20, "M": 20, "I": 24}))["clear"] is True


@pytest.mark.parametrize(("counts", "winner"), [
    ({"M": 30, "O": 30, "A": 20, "I": 20}, "M"),  # Berger et al.: M > O > A > I
    ({"O": 30, "A": 30, "I": 40 - 10, "M": 10}, "O"),
    ({"A": 35, "I": 35, "M": 30}, "A"),
    ({"I": 40, "R": 40, "M": 20}, "I"),
])
def test_ties_go_to_the_category_berger_puts_first(counts, winner):
    row = _table(_data(counts))
    assert row["category"] == winner
    assert row["clear"] is False  # a tie is never a clear category


def test_integer_weights_give_the_shares_of_repeated_rows():
    data = _data({"A": 12, "O": 9, "M": 7, "I": 10, "R": 2})
    w = np.resize([1.0, 2.0, 3.0], len(data))
    weighted = kano_table(data.assign(w=w), features={"x": ("X", "f", "d")}, spec=SPEC, weights="w").iloc[0]
    repeated = _table(data.loc[data.index.repeat(w.astype(int))].reset_index(drop=True))
    for c in ["share_A", "share_O", "share_M", "share_I", "share_R", "share_Q", "better", "worse"]:
        assert weighted[c] == pytest.approx(repeated[c])
    assert weighted["category"] == repeated["category"]
    # the intervals use Kish's effective n of the A/O/M/I respondents, not the sum of weights
    aomi = w[:38]
    n_eff = aomi.sum() ** 2 / (aomi ** 2).sum()
    lo, hi = proportion_confint(weighted["better"] * n_eff, n_eff, method="wilson")
    assert (weighted["better_ci_low"], weighted["better_ci_high"]) == pytest.approx((lo, hi), abs=1e-12)


def test_too_few_answers_are_suppressed_and_blank_cells_left_out():
    data = _data({"A": 3, "M": 1}).astype("Int64")
    row = _table(data, min_n=5)
    assert row["suppressed"] and row["n"] == 4
    assert pd.isna(row["share_A"]) and pd.isna(row["better"])
    assert row["category"] is None or pd.isna(row["category"])
    data = _data({"A": 6, "M": 4}).astype("Int64")
    data.loc[0, "f"] = pd.NA  # one answer missing: the respondent is out of this feature
    assert _table(data)["n"] == 9


# --------------------------------------------------------------------------- answer codes
def test_other_codings_give_the_same_table():
    rng = np.random.default_rng(3)
    base = pd.DataFrame({"f": rng.integers(1, 6, 400), "d": rng.integers(1, 6, 400)})
    expected = _table(base)
    reverse = KanoSpec(answers={5: "like", 4: "must_be", 3: "neutral", 2: "live_with", 1: "dislike"},
                       pairs=SPEC.pairs)
    flipped = kano_table(6 - base, features={"x": ("X", "f", "d")}, spec=reverse).iloc[0]
    words = ["I like it", "I expect it", "I am neutral", "I can live with it", "I dislike it"]
    text = KanoSpec(answers=dict(zip(words, ANSWERS, strict=True)), pairs=SPEC.pairs)
    as_text = base.apply(lambda s: s.map(lambda k: f"  {words[k - 1].upper()} "))  # case and spaces do not matter
    worded = kano_table(as_text, features={"x": ("X", "f", "d")}, spec=text).iloc[0]
    as_float_text = base.astype(float).astype(str)  # "1.0": numbers are codes by value
    floats = _table(as_float_text)
    for row in (flipped, worded, floats):
        pd.testing.assert_series_equal(row, expected, check_names=False)


def test_an_answer_outside_the_codes_is_named_with_its_column():
    data = pd.DataFrame({"f": [1, 2, 7, 3, "maybe"], "d": [5, 5, 5, 5, 5]})
    with pytest.raises(DataError, match=r"Kano column 'f': 2 answer\(s\) \('7', 'maybe'\) are not codes"):
        _table(data)


@pytest.mark.parametrize(("kano", "message"), [
    ({"answers": {1: "like", 2: "must_be"}, "pairs": [{"id": "speed", "functional": "a", "dysfunctional": "b"}]},
     "no code for neutral, live_with, dislike"),
    ({"pairs": [{"id": "card", "functional": "a", "dysfunctional": "b"}]},
     "'card' is not an attribute id, so the feature needs a label"),
    ({"pairs": [{"id": "speed", "functional": "a", "dysfunctional": "b"},
                {"id": "speed", "functional": "c", "dysfunctional": "d"}]}, "feature 'speed' is already kano.pairs.0"),
    ({"pairs": [{"id": "speed", "functional": "a", "dysfunctional": "a"}]}, "functional and dysfunctional are both"),
    ({"pairs": [{"id": "speed", "functional": "full_name", "dysfunctional": "b"}]},
     "'full_name' is used as kano.pairs.0.functional but is also listed in responses.personal_data"),
    ({"pairs": []}, "kano.pairs"),
    ({"answers": {1: "like", 2: "must_be", 3: "neutral", 4: "live_with", 5: "dislike", "1.0": "dislike"},
      "pairs": [{"id": "speed", "functional": "a", "dysfunctional": "b"}]}, "code '1.0' is given twice"),
])
def test_a_bad_kano_config_names_the_key_and_the_fix(small_study, kano, message):
    config = yaml.safe_load(small_study.read_text(encoding="utf-8"))
    config["kano"] = kano
    small_study.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="kano") as err:
        load_study(small_study)
    assert message in str(err.value)


def test_validate_names_file_rows_and_fix_for_answers_outside_the_table(small_study):
    study = load_study(small_study)
    path = study.resolve(study.responses.file)
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    data.loc[3, "k_speed_f"] = "I love it"
    data.loc[10, "k_speed_f"] = "6"
    data.loc[11, "k_card_d"] = ""  # no answer: fine
    data.to_csv(path, index=False)
    report = validate_responses(read_table(path), study)
    kano_errors = [e for e in report.errors if "Kano" in e]
    assert len(kano_errors) == 1, report.errors
    msg = kano_errors[0]
    assert "answers.csv, column 'k_speed_f', rows 5, 12" in msg
    assert "'I love it'" in msg and "6" in msg
    assert "add the code to kano.answers" in msg and "'i like it' = like" in msg


def test_validate_finds_a_kano_column_that_is_missing_or_empty(small_study):
    study = load_study(small_study)
    path = study.resolve(study.responses.file)
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    data = data.drop(columns=["k_card_f"]).assign(k_speed_d="")
    data.to_csv(path, index=False)
    errors = validate_responses(read_table(path), study).errors
    assert any("column 'k_card_f' (set by kano.pairs.1.functional (feature 'loyalty_card')" in e for e in errors)
    assert any("column 'k_speed_d'" in e and "no answer at all" in e for e in errors)


# --------------------------------------------------------------------------- the synthetic truth
def test_the_generator_draws_the_true_shares():
    n = 40_000
    data = kano_items(np.random.default_rng(20261204), n)
    spec = KanoSpec(pairs=[{"id": k.id, "label": k.id, "functional": f"kano_f_{k.id}",
                            "dysfunctional": f"kano_d_{k.id}"} for k in KANO_FEATURES])
    table = kano_table(data, features={k.id: (k.id, f"kano_f_{k.id}", f"kano_d_{k.id}") for k in KANO_FEATURES},
                       spec=spec)
    for k, row in zip(KANO_FEATURES, table.itertuples(), strict=True):
        p = np.array(k.probs) / sum(k.probs)
        shares = np.array([getattr(row, f"share_{c}") for c in "AOMIRQ"])
        se = np.sqrt(p * (1 - p) / row.n)
        assert np.all(np.abs(shares - p) < 4.5 * se), (k.id, shares, p)
        assert row.category == "AOMIRQ"[int(np.argmax(p))]


def test_the_sample_study_recovers_each_true_category():
    study = load_study(ROOT / "data" / "sample" / "study.yaml")
    truth = json.loads((ROOT / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))["kano"]
    data = read_table(study.resolve(study.responses.file)).data
    table = kano_table(data, features=study.kano_features(), spec=study.kano, level=0.999)
    assert sorted(table["feature"]) == sorted(truth)  # every configured feature
    for row in table.itertuples():
        t = truth[row.feature]
        assert row.category == t["category"] and row.clear, row.feature
        assert row.better_ci_low <= t["better"] <= row.better_ci_high, row.feature
        assert row.worse_ci_low <= t["worse"] <= row.worse_ci_high, row.feature


def test_a_regenerated_sample_has_the_kano_pairs_and_their_truth(tmp_path):
    path = tmp_path / "s"
    from csm_helpers.synthetic.sample import generate_sample

    study = load_study(generate_sample(path, seed=5, n=600))
    truth = json.loads((path / "truth.json").read_text(encoding="utf-8"))["kano"]
    assert set(study.kano_features()) == set(truth) == {k.id for k in KANO_FEATURES}
    report = validate_responses(read_table(study.resolve(study.responses.file)), study)
    assert not [e for e in report.errors if "kano" in e.lower()]
    shutil.rmtree(path)


# --------------------------------------------------------------------------- reports: gating, priorities, chart
def test_a_feature_answered_by_4_in_a_segment_is_withheld_there_and_by_difference(tmp_path):
    from csm_helpers.workbook.context import StageContext
    from csm_helpers.workbook.metrics import kano_entry

    folder = tmp_path / "s"
    shutil.copytree(ROOT / "data" / "sample", folder)
    path = folder / "responses.csv"
    data = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = data.index[(data["region"] == "Hanoi") & (data["wave"] == "2026-H1")]
    data.loc[rows[4:], "kano_f_video_banking"] = ""
    data.to_csv(path, index=False, encoding="utf-8-sig")
    study = load_study(folder / "study.yaml")
    hanoi = StageContext(stage="04_analysis", study=study, segment="region=Hanoi")
    table = hanoi.kano_table.set_index("feature")
    assert bool(table.loc["video_banking", "suppressed"]) and pd.isna(table.loc["video_banking", "better"])
    assert not table.drop(index="video_banking")["suppressed"].any()
    assert "video_banking" not in {e["feature"] for e in kano_entry(hanoi.kano_table)}
    others = [seg for seg in ("region=Can Tho", "region=Da Nang", "region=Ho Chi Minh City")
              if StageContext(stage="04_analysis", study=study, segment=seg)
              .kano_table.set_index("feature").loc["video_banking", "suppressed"]]
    assert len(others) == 1  # complementary: all minus the other regions cannot give Hanoi's
    assert not StageContext(stage="04_analysis", study=study).kano_table.set_index("feature").loc[
        "video_banking", "suppressed"]


def test_the_priority_table_carries_each_attributes_kano_category_and_says_it():
    from csm_helpers.analysis.action import priority_list, reconcile_priorities
    from csm_helpers.present.views import priority_display

    ipa_t = pd.DataFrame({"attribute": ["fees", "speed", "staff"], "label": ["Fees", "Speed", "Staff"],
                          "dimension": ["product", "process", "people"], "performance": [3.0, 4.0, 4.5],
                          "importance": [5.0, 3.0, 4.0], "importance_type": "stated",
                          "quadrant": ["Concentrate here", "Possible overkill", "Keep up the good work"]})
    kano = pd.DataFrame({"feature": ["speed", "fees", "card", "staff"], "category": ["M", "O", "A", None],
                         "clear": [True, False, True, None], "suppressed": [False, False, False, True]})
    base = priority_list(ipa_t, scale=(1, 5))
    t = reconcile_priorities(base, ipa_table=ipa_t, kano=kano).set_index("attribute")
    assert t["kano_category"].to_dict() == {"fees": "O", "speed": "M", "staff": None}
    assert t.loc["fees", "kano_clear"] == False  # noqa: E712 - a nullable boolean
    assert "one-dimensional in the Kano questions" in t.loc["fees", "reason"]
    assert "(not clear by Fong's test)" in t.loc["fees", "reason"]
    assert "must-be in the Kano questions" in t.loc["speed", "reason"]
    assert "Kano" not in t.loc["staff", "reason"]  # withheld in this report: not named
    shown = priority_display(t.reset_index())
    assert dict(zip(shown["label"], shown["kano"], strict=True)) == {"Fees": "One-dimensional?", "Speed": "Must-be",
                                                                     "Staff": ""}
    without = reconcile_priorities(base, ipa_table=ipa_t)
    assert without["kano_category"].isna().all()
    assert "kano" not in priority_display(without).columns  # no empty Kano column without Kano questions


def test_the_better_worse_chart_places_each_feature_in_its_quadrant():
    import re

    from csm_helpers.present.charts.analysis import plot_kano
    from csm_helpers.present.charts.style import BAD, LIGHT

    study = load_study(ROOT / "data" / "sample" / "study.yaml")
    data = read_table(study.resolve(study.responses.file)).data
    table = kano_table(data, features=study.kano_features(), spec=study.kano)
    table.loc[table["feature"] == "wait_time", "clear"] = False
    table.loc[table["feature"] == "accuracy", ["suppressed", "better", "worse"]] = [True, np.nan, np.nan]
    chart = plot_kano(table)
    texts = [t.text for t in chart.texts]
    names = ["Attractive", "One-dimensional", "Indifferent", "Must-be"]
    assert [m["label"] for m in chart.marks if m["kind"] == "quadrant"] == names and set(names) <= set(texts)
    points = [m for m in chart.marks if m["kind"] == "point"]
    shown = table.loc[~table["suppressed"]]
    assert len(points) == len(table) - 1  # the suppressed feature is not placed
    assert [(m["label"], m["x"], m["y"], m["category"]) for m in points] == list(
        zip(shown["label"], -shown["worse"], shown["better"], shown["category"], strict=True))
    assert [m["label"] for m in points if not m["clear"]] == ["Waiting time"]  # wait_time: not clear, grey
    assert "Accuracy of transactions" not in " ".join(texts)
    for m in points:  # each point carries its name, or a number the key under the chart explains
        assert m["shown"] == m["label"] or f"{m['shown']} = {m['label']}" in texts
    svg = chart.svg(font=False)
    assert len(re.findall(rf'<circle [^>]*fill="{LIGHT}" stroke="#666666"', svg)) == 1 + 1  # + the legend key
    # promo_calls is Reverse: a cross, as the legend says (the quadrants do not apply)
    assert len(re.findall(rf'<polygon [^>]*fill="{BAD}"', svg)) == 1 + 1
    legend = [m["label"] for m in chart.marks if m["kind"] == "legend"]
    assert any("Fong" in x for x in legend) and any("Reverse" in x for x in legend)
    assert chart.alt.startswith("Kano categories of 7 features")
    assert chart.overlaps() == [] and chart.smallest_pt >= 11
    assert all(t.x0 >= 0 and t.x1 <= chart.width for t in chart.texts)
    markers = [o for o in chart.obstacles if abs(o.x1 - o.x0 - 9) < 1e-6]  # labels clear of the points
    for t in chart.texts:
        assert not any(t.collides(m, slack=0.0) for m in markers), t.text
    empty = plot_kano(table.assign(suppressed=True))
    assert "Kano: no feature to place" in empty.alt and empty.marks == []
