"""Tests of csm_helpers.analysis.discovery (stage 02, SPEC §1.2), against hand-worked expectations."""

from __future__ import annotations

import csv
import math
import re
import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_helpers.analysis.discovery import (
    CODED_COLUMNS,
    INTERVIEW_COLUMNS,
    affinity_table,
    code_verbatims,
    draft_questionnaire,
    perception_gap,
    prepare_interviews,
    saturation_curve,
    saturation_verdict,
    write_questionnaire_csv,
)
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import Codebook, InterviewsSpec


def codebook(*entries: dict) -> Codebook:
    return Codebook.model_validate({"attributes": list(entries)})


def kw(id_: str, *keywords: str, dimension: str = "product", patterns: tuple[str, ...] = (), theme=None) -> dict:
    return {"id": id_, "label": id_.title(), "dimension": dimension, "keywords": list(keywords),
            "patterns": list(patterns), "theme": theme}


def texts(*values: str) -> pd.DataFrame:
    return pd.DataFrame({"interview_id": [f"t{i}" for i in range(len(values))], "text": list(values)})


def found(coded: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(coded["interview_id"], coded["attribute"], strict=True))


SPEC = InterviewsSpec(file="interviews.csv")


# --------------------------------------------------------------------------- prepare_interviews
def test_prepare_interviews_standardises_columns_and_groups():
    raw = pd.DataFrame({
        "interview_id": [101, 102, 103, 104],
        "source_group": ["Customer", " lost customer", "Competitor-Customer", "EXECUTIVE"],
        "text": ["Queue too long", None, "Cheaper fees there", "We are fast"],
        "codes": ["queue", None, "", "speed; queue"],
    })
    before = raw.copy()
    out = prepare_interviews(raw, spec=SPEC)
    pd.testing.assert_frame_equal(raw, before)  # the caller's frame is untouched
    assert list(out.columns) == INTERVIEW_COLUMNS
    assert out["interview_id"].tolist() == ["101", "102", "103", "104"]
    assert out["source_group"].tolist() == ["customer", "lost_customer", "competitor_customer", "executive"]
    assert out["text"].tolist() == ["Queue too long", "", "Cheaper fees there", "We are fast"]
    assert out["codes"].tolist() == ["queue", "", "", "speed; queue"]
    assert out["order"].tolist() == [1, 2, 3, 4]
    assert out["row"].tolist() == [2, 3, 4, 5]


def test_prepare_interviews_sorts_by_order_column_stably():
    raw = pd.DataFrame({"id": list("abcde"), "grp": ["customer"] * 5, "txt": [""] * 5,
                        "when": ["2026-03-05", "2026-03-01", "2026-03-05", "2026-02-28", "2026-03-02"]})
    spec = InterviewsSpec(file="x.csv", id="id", group="grp", text="txt", order="when", codes=None)
    out = prepare_interviews(raw, spec=spec)
    assert out["interview_id"].tolist() == ["d", "b", "e", "a", "c"]  # a before c: tie keeps file order
    assert out["order"].tolist() == [1, 2, 3, 4, 5]
    assert out["row"].tolist() == [5, 3, 6, 2, 4]
    numeric = raw.assign(when=[3, 1, 10, 2, 4])  # numeric order: 10 after 4 (not text order)
    assert prepare_interviews(numeric, spec=spec)["interview_id"].tolist() == ["b", "d", "a", "e", "c"]
    text_numbers = raw.assign(when=["3", "1", "10", "2", "4"])
    assert prepare_interviews(text_numbers, spec=spec)["interview_id"].tolist() == ["b", "d", "a", "e", "c"]


def test_prepare_interviews_lists_every_problem_with_rows_and_fix():
    raw = pd.DataFrame({"interview_id": ["a", "b", "b", None, "e"],
                        "source_group": ["customer", "custmer", "staff", "custmer", None],
                        "text": ["x"] * 5})
    with pytest.raises(DataError) as err:
        prepare_interviews(raw, spec=SPEC)
    msg = str(err.value)
    assert msg.startswith("interviews.csv: the interview records have")
    assert "column 'interview_id', row 5: the interview id is missing" in msg
    assert "column 'interview_id', rows 3, 4: interview id 'b' is repeated" in msg
    assert ("column 'source_group', rows 3, 5: source group 'custmer' is not allowed; allowed: executive, "
            "employee, customer, lost_customer, competitor_customer") in msg
    assert "source group 'staff' is not allowed" in msg
    assert "column 'source_group', row 6: the source group is missing; allowed: executive" in msg
    assert len(err.value.problems) == 5


def test_prepare_interviews_missing_columns():
    raw = pd.DataFrame({"id": ["a"], "group": ["customer"], "text": ["x"]})
    with pytest.raises(DataError, match=r"interviews\.csv: required columns are missing") as err:
        prepare_interviews(raw, spec=SPEC)
    assert err.value.problems == [
        "column 'interview_id' (interviews.id in study.yaml) not found — rename the column in the file or set "
        "interviews.id to the column that holds it",
        "column 'source_group' (interviews.group in study.yaml) not found — rename the column in the file or "
        "set interviews.group to the column that holds it",
    ]
    # A codes column named explicitly must exist; the default 'codes' is optional.
    spec = InterviewsSpec(file="i.csv", id="id", group="group", codes="manual")
    with pytest.raises(DataError, match=r"column 'manual' \(interviews\.codes in study\.yaml\) not found"):
        prepare_interviews(raw, spec=spec)


def test_prepare_interviews_bad_order_values():
    raw = pd.DataFrame({"interview_id": ["a", "b", "c"], "source_group": ["customer"] * 3, "text": ["x"] * 3,
                        "when": ["2026-01-02", "next week", None]})
    spec = InterviewsSpec(file="i.csv", order="when")
    with pytest.raises(DataError) as err:
        prepare_interviews(raw, spec=spec)
    assert any("row 4: the order is missing" in p for p in err.value.problems)
    assert any("row 3: 'next week' is neither a number nor an ISO date" in p for p in err.value.problems)


# --------------------------------------------------------------------------- code_verbatims
def test_english_keywords_match_whole_words_case_insensitively():
    cb = codebook(kw("fees", "fee"), kw("app", "mobile app"))
    coded = code_verbatims(texts("The FEE, again!", "thanks for the feedback", "coffee", "fee-free",
                                 "Mobile   App crashed", "mobileapp"), codebook=cb, codes=None)
    assert found(coded) == {("t0", "fees"), ("t3", "fees"), ("t4", "app")}
    assert coded.set_index("interview_id").loc["t0", "match"] == "FEE"  # as written in the text
    assert coded.set_index("interview_id").loc["t4", "match"] == "Mobile   App"


def test_vietnamese_keywords_respect_syllables_and_normalisation():
    cb = codebook(kw("fees", "phí"), kw("courtesy", "Thái độ"))
    nfd = unicodedata.normalize("NFD", "PHÍ quá cao")  # decomposed accents, upper case
    coded = code_verbatims(texts("phí dịch vụ cao", "ở phía sau quầy", nfd, "nhân viên có thái độ tốt",
                                 "phím bấm"), codebook=cb, codes=None)
    assert found(coded) == {("t0", "fees"), ("t2", "fees"), ("t3", "courtesy")}
    assert coded.set_index("interview_id").loc["t2", "match"] == "PHÍ"  # NFC of the original text


def test_scripts_without_spaces_match_as_substrings():
    cb = codebook(kw("fees", "费用"), kw("app", "アプリ"), kw("service", "บริการ"), kw("queue", "排队"))
    coded = code_verbatims(texts("手续费用太高了", "アプリが遅い", "บริการดีมาก", "不用排队", "费 用"),
                           codebook=cb, codes=None)
    assert found(coded) == {("t0", "fees"), ("t1", "app"), ("t2", "service"), ("t3", "queue")}


def test_latin_keyword_inside_chinese_text():
    cb = codebook(kw("app", "app"), kw("usage", "App使用"))
    coded = code_verbatims(texts("我的App很好用", "我的app使用很方便", "happy客户"), codebook=cb, codes=None)
    assert found(coded) == {("t0", "app"), ("t1", "app"), ("t1", "usage")}


def test_casefolding_maps_the_match_back_to_the_original_text():
    cb = codebook(kw("street", "strasse"))
    coded = code_verbatims(texts("Die Straße ist laut"), codebook=cb, codes=None)
    assert coded["match"].tolist() == ["Straße"]


def test_patterns_are_case_insensitive_regexes():
    cb = codebook(kw("waiting", patterns=(r"wait(ed|ing)\b", r"\bqueue[sd]?\b")))
    coded = code_verbatims(texts("WAITING forever", "queued twice", "await", "no"), codebook=cb, codes=None)
    assert found(coded) == {("t0", "waiting"), ("t1", "waiting")}  # "await": no ed/ing after "wait"
    assert coded["source"].unique().tolist() == ["pattern"]
    assert coded["match"].tolist() == ["WAITING", "queued"]


def test_one_row_per_id_and_attribute_with_priority_manual_keyword_pattern():
    cb = codebook(kw("fees", "fee", patterns=(r"charges?",)), kw("queue", "queue", dimension="process",
                                                                  theme="Speed"))
    data = pd.DataFrame({"interview_id": ["a", "b", "c", "d"],
                         "text": ["fee and charge and fee", "charge, fee", "charge", "nothing"],
                         "codes": [None, "FEES", "", " queue ;fees;"]})
    coded = code_verbatims(data, codebook=cb)
    assert list(coded.columns) == ["interview_id", *CODED_COLUMNS]
    got = {(r.interview_id, r.attribute): (r.source, None if pd.isna(r.match) else r.match)
           for r in coded.itertuples()}
    assert got == {("a", "fees"): ("keyword", "fee"), ("b", "fees"): ("manual", None),
                   ("c", "fees"): ("pattern", "charge"), ("d", "queue"): ("manual", None),
                   ("d", "fees"): ("manual", None)}
    assert coded["interview_id"].tolist() == ["a", "b", "c", "d", "d"]  # text order, then codebook order
    row = coded[coded["attribute"] == "queue"].iloc[0]
    assert (row["label"], row["dimension"], row["theme"]) == ("Queue", "process", "Speed")
    assert coded[coded["attribute"] == "fees"]["theme"].iloc[0] == "Fees"  # no theme: its own label


def test_unknown_manual_codes_name_row_and_code():
    cb = codebook(kw("fees", "fee"))
    data = pd.DataFrame({"interview_id": ["a", "b", "c"], "text": ["", "", ""],
                         "codes": ["fees", "feez", "fees, queue"]})
    with pytest.raises(DataError, match=r"column 'codes': unknown manual codes") as err:
        code_verbatims(data, codebook=cb, source="interviews.csv")
    assert err.value.problems == [
        "row 3 (interview_id 'b'): manual code 'feez' is not a codebook attribute",
        "row 4 (interview_id 'c'): manual code 'fees, queue' is not a codebook attribute (separate codes "
        "with ';')",
    ]
    # A prepared table (here re-sorted by its order column) carries the file rows, which the message uses.
    prepared = prepare_interviews(data.assign(source_group="customer", when=[3, 1, 2]),
                                  spec=InterviewsSpec(file="i.csv", order="when"))
    assert prepared["interview_id"].tolist() == ["b", "c", "a"]
    with pytest.raises(DataError) as err:
        code_verbatims(prepared, codebook=cb)
    assert err.value.problems[0].startswith("row 3 (interview_id 'b')")


def test_reusable_for_survey_comments():
    cb = codebook(kw("fees", "fee"))
    comments = pd.DataFrame({"respondent_id": [11, 12, 13], "comment": ["Fee too high", None, "ok"]})
    before = comments.copy()
    coded = code_verbatims(comments, codebook=cb, id="respondent_id", text="comment", codes=None)
    pd.testing.assert_frame_equal(comments, before)
    assert list(coded.columns) == ["respondent_id", *CODED_COLUMNS]
    assert coded["respondent_id"].tolist() == [11]
    assert coded["respondent_id"].dtype == comments["respondent_id"].dtype
    # A codes column that is absent means no manual codes.
    assert len(code_verbatims(comments, codebook=cb, id="respondent_id", text="comment")) == 1
    with pytest.raises(DataError, match="column 'remark' not found"):
        code_verbatims(comments, codebook=cb, id="respondent_id", text="remark")


def test_no_match_gives_an_empty_table_with_the_columns():
    coded = code_verbatims(texts("nothing here"), codebook=codebook(kw("fees", "fee")), codes=None)
    assert len(coded) == 0 and list(coded.columns) == ["interview_id", *CODED_COLUMNS]


words = st.sampled_from(["fee", "fees", "feedback", "coffee", "free", "phí", "phía", "a"])


@settings(max_examples=60, deadline=None)
@given(st.lists(words, min_size=1, max_size=8), st.sampled_from([" ", ", ", ". ", " - "]))
def test_single_word_keyword_matches_exactly_when_the_word_is_present(tokens, sep):
    text = sep.join(tokens)
    cb = codebook(kw("fees", "fee"), kw("vn", "phí"))
    coded = code_verbatims(texts(text), codebook=cb, codes=None)
    assert ("t0", "fees") in found(coded) if "fee" in tokens else ("t0", "fees") not in found(coded)
    assert ("t0", "vn") in found(coded) if "phí" in tokens else ("t0", "vn") not in found(coded)


# --------------------------------------------------------------------------- affinity and gap
CB = codebook(kw("fees", "fee"), kw("app", "app"), kw("queue", "queue", dimension="process"),
              kw("courtesy", "rude", dimension="people"), kw("docs", "paperwork", dimension="process"))
IV = pd.DataFrame({
    "interview_id": ["c1", "c2", "c3", "c4", "e1", "e2"],
    "source_group": ["customer", "customer", "lost_customer", "competitor_customer", "executive", "employee"],
    "text": ["fee and queue", "rude, queue, fee", "fee", "app", "app and queue", "app"],
})


def test_affinity_table_hand_counts():
    aff = affinity_table(code_verbatims(IV, codebook=CB, codes=None), IV, codebook=CB)
    assert list(aff.columns) == ["dimension", "theme", "attribute", "label", "mentions", "customer_mentions",
                                 "company_mentions", "share"]
    # product: fees 3 (all customers), app 3 (1 customer, 2 company); process: queue 3, docs 0; people: 1.
    assert aff["attribute"].tolist() == ["fees", "app", "queue", "docs", "courtesy"]
    assert aff["mentions"].tolist() == [3, 3, 3, 0, 1]
    assert aff["customer_mentions"].tolist() == [3, 1, 2, 0, 1]
    assert aff["company_mentions"].tolist() == [0, 2, 1, 0, 0]
    assert aff["share"].tolist() == pytest.approx([3 / 6, 3 / 6, 3 / 6, 0, 1 / 6])


def test_affinity_table_rejects_inconsistent_inputs():
    coded = pd.DataFrame({"interview_id": ["zz"], "attribute": ["fees"]})
    with pytest.raises(DataError, match="interview id 'zz' is not in the interviews table"):
        affinity_table(coded, IV, codebook=CB)
    coded = pd.DataFrame({"interview_id": ["c1"], "attribute": ["price"]})
    with pytest.raises(DataError, match="attribute 'price' is not in the codebook"):
        affinity_table(coded, IV, codebook=CB)


def test_perception_gap_hand_worked_with_fisher_exact():
    gap = perception_gap(code_verbatims(IV, codebook=CB, codes=None), IV, codebook=CB).set_index("attribute")
    assert (gap["n_customer"] == 4).all() and (gap["n_company"] == 2).all()
    fees = gap.loc["fees"]
    assert (fees["share_customer"], fees["share_company"], fees["gap"]) == (0.75, 0.0, 0.75)
    # 2x2 [[3, 1], [0, 2]]: hypergeometric P(3) = C(4,3)C(2,0)/C(6,3) = 4/20 and P(1) = 4/20,
    # P(2) = 12/20; two-sided p sums the tables no more likely than the observed one: 8/20.
    assert fees["p_value"] == pytest.approx(0.4)
    assert fees["flag"] == "company under-rates"
    app = gap.loc["app"]
    assert app["gap"] == pytest.approx(0.25 - 1.0) and app["flag"] == "company over-rates"
    # [[1, 3], [2, 0]]: P(1) = C(4,1)C(2,2)/20 = 4/20 -> same two-sided p as above.
    assert app["p_value"] == pytest.approx(0.4)
    queue = gap.loc["queue"]
    assert queue["gap"] == pytest.approx(0.0) and queue["flag"] == "aligned"
    assert queue["p_value"] == pytest.approx(1.0)
    ordered = perception_gap(code_verbatims(IV, codebook=CB, codes=None), IV, codebook=CB)
    assert ordered["gap"].is_monotonic_decreasing


def test_perception_gap_threshold_is_inclusive():
    # 3 of 5 customers vs 2 of 5 staff: gap 0.6 - 0.4 = 0.2, exactly the threshold.
    iv = pd.DataFrame({"interview_id": [f"i{i}" for i in range(10)],
                       "source_group": ["customer"] * 5 + ["employee"] * 5,
                       "text": ["fee"] * 3 + ["x"] * 2 + ["fee"] * 2 + ["x"] * 3})
    cb = codebook(kw("fees", "fee"))
    gap = perception_gap(code_verbatims(iv, codebook=cb, codes=None), iv, codebook=cb)
    assert gap.loc[0, "flag"] == "company under-rates"
    gap = perception_gap(code_verbatims(iv, codebook=cb, codes=None), iv, codebook=cb, threshold=0.25)
    assert gap.loc[0, "flag"] == "aligned"


def test_perception_gap_not_measurable_without_a_side():
    iv = IV[IV["source_group"] != "executive"]
    iv = iv[iv["source_group"] != "employee"]
    gap = perception_gap(code_verbatims(iv, codebook=CB, codes=None), iv, codebook=CB)
    assert (gap["flag"] == "not measurable").all()
    assert gap["share_company"].isna().all() and gap["gap"].isna().all() and gap["p_value"].isna().all()
    assert gap.set_index("attribute").loc["fees", "share_customer"] == 0.75


def test_perception_gap_threshold_must_be_a_proportion():
    with pytest.raises(CsmError, match=r"`threshold` must be a proportion in \(0, 1\]"):
        perception_gap(code_verbatims(IV, codebook=CB, codes=None), IV, codebook=CB, threshold=20)


# --------------------------------------------------------------------------- saturation
def test_saturation_curve_follows_the_order_column():
    iv = pd.DataFrame({"interview_id": ["x", "y", "z", "w"], "source_group": ["customer", "executive",
                                                                              "customer", "customer"],
                       "order": [3, 1, 2, 4]})
    coded = pd.DataFrame({"interview_id": ["x", "y", "y", "z", "w"],
                          "attribute": ["fees", "app", "fees", "app", "queue"]})
    curve = saturation_curve(coded, iv, k=2)
    assert list(curve.columns) == ["position", "interview_id", "source_group", "new_attributes", "new_list",
                                   "cumulative", "in_last_k"]
    assert curve["interview_id"].tolist() == ["y", "z", "x", "w"]
    assert curve["new_attributes"].tolist() == [2, 0, 0, 1]
    assert curve["new_list"].tolist() == ["app, fees", "", "", "queue"]
    assert curve["cumulative"].tolist() == [2, 2, 2, 3]
    assert curve["in_last_k"].tolist() == [False, False, True, True]
    customers = saturation_curve(coded, iv, groups=["customer"])
    assert customers["interview_id"].tolist() == ["z", "x", "w"]
    assert customers["cumulative"].tolist() == [1, 2, 3]


def _curve(new: list[int]) -> pd.DataFrame:
    cum = pd.Series(new).cumsum()
    return pd.DataFrame({"position": range(1, len(new) + 1), "new_attributes": new,
                         "new_list": [",".join(["a"] * n) for n in new], "cumulative": cum})


def test_saturation_verdicts():
    v = saturation_verdict(_curve([4, 2, 1, 0, 0, 0]), k=3)
    assert v == {"saturated": True, "k": 3, "last_new_at": 3, "n_interviews": 6, "n_attributes": 7,
                 "message": v["message"]}
    assert v["message"].startswith("Saturated: the last 3 interviews (4-6) added no new attribute")
    v = saturation_verdict(_curve([4, 2, 1, 0, 1, 0]), k=3)
    assert not v["saturated"] and v["last_new_at"] == 5
    assert "interview 5 of 6 still added 1 new attribute" in v["message"]
    v = saturation_verdict(_curve([4, 0]), k=3)
    assert not v["saturated"] and "only 2 interviews, fewer than the 3 needed" in v["message"]
    v = saturation_verdict(_curve([0, 0, 0, 0]), k=3)
    assert not v["saturated"] and v["last_new_at"] is None and "no attribute was coded" in v["message"]
    assert saturation_verdict(_curve([2, 1, 0]), k=1)["saturated"] is True
    with pytest.raises(CsmError, match="`k` must be a whole number >= 1"):
        saturation_verdict(_curve([1]), k=0)


# --------------------------------------------------------------------------- questionnaire
def test_draft_questionnaire_three_items_per_customer_attribute():
    aff = affinity_table(code_verbatims(IV, codebook=CB, codes=None), IV, codebook=CB)
    q = draft_questionnaire(aff, scale=(1, 7))
    assert list(q.columns) == ["attribute", "dimension", "label", "item_type", "item_name", "question",
                               "scale_min", "scale_max", "anchor_low", "anchor_high"]
    # Customer-defined: fees, app, queue, courtesy (docs never mentioned), each x 3 item types.
    assert len(q) == 12
    assert q["item_name"].tolist()[:4] == ["perf_fees", "perf_app", "perf_queue", "perf_courtesy"]
    assert set(q["item_name"]) >= {"imp_courtesy", "exp_queue"}
    assert q["item_type"].value_counts().to_dict() == {"performance": 4, "importance": 4, "expectation": 4}
    row = q.set_index("item_name").loc["imp_fees"]
    assert row["question"] == "How important is Fees to you?"
    assert q.set_index("item_name").loc["perf_fees", "question"] == "How would you rate Fees?"
    assert q.set_index("item_name").loc["exp_fees", "question"] == "What level of Fees do you expect?"
    assert (q["scale_min"] == 1).all() and (q["scale_max"] == 7).all()


def test_draft_questionnaire_customer_only_switch():
    aff = pd.DataFrame({"dimension": ["product", "product", "people"], "theme": ["a", "b", "c"],
                        "attribute": ["x", "y", "z"], "label": ["X", "Y", "Z"], "mentions": [2, 1, 0],
                        "customer_mentions": [2, 0, 0], "company_mentions": [0, 1, 0], "share": [0.5, 0.25, 0]})
    assert set(draft_questionnaire(aff)["attribute"]) == {"x"}
    assert set(draft_questionnaire(aff, customer_only=False)["attribute"]) == {"x", "y"}
    with pytest.raises(CsmError, match=r"`scale` must be two whole numbers, lowest first"):
        draft_questionnaire(aff, scale=(5, 1))


def test_write_questionnaire_csv_neutralises_formulas(tmp_path):
    aff = pd.DataFrame({"dimension": ["product"], "theme": ["t"], "attribute": ["x"],
                        "label": ['=HYPERLINK("http://evil")'], "mentions": [1], "customer_mentions": [1],
                        "company_mentions": [0], "share": [1.0]})
    q = draft_questionnaire(aff)
    path = write_questionnaire_csv(q, tmp_path / "q.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert all(r["label"] == "'" + '=HYPERLINK("http://evil")' for r in rows)
    assert rows[0]["item_name"] == "perf_x" and rows[0]["scale_max"] == "5"
    assert not math.isnan(float(rows[0]["scale_min"]))


# --------------------------------------------------------------------------- patterns (issue 17, part 3)
def test_patterns_match_what_pythons_re_matches_on_the_sample():
    """The time-limited engine (regex) must not change what a pattern finds: every sample
    pattern, searched over every interview and comment with Python's re, finds the same texts."""
    import re

    from csm_helpers.study.config import load_codebook, load_study
    from csm_helpers.study.datasets import read_dataset, sample_study_path

    codebook = load_codebook(load_study(sample_study_path()))
    texts = pd.concat([read_dataset("interviews")["text"], read_dataset("responses")["comment"]]).dropna()
    texts = pd.DataFrame({"interview_id": range(len(texts)), "text": texts.to_numpy()})
    nfc = [unicodedata.normalize("NFC", t) for t in texts["text"]]
    only_patterns = Codebook.model_validate({"attributes": [
        {**e.model_dump(), "keywords": []} for e in codebook.attributes if e.patterns]})
    coded = code_verbatims(texts, codebook=only_patterns, codes=None)
    for entry in only_patterns.attributes:
        rxs = [re.compile(unicodedata.normalize("NFC", p), re.IGNORECASE) for p in entry.patterns]
        expected = {i for i, t in enumerate(nfc) if any(rx.search(t) for rx in rxs)}
        assert set(coded.loc[coded["attribute"] == entry.id, "interview_id"]) == expected, entry.id
        assert expected, entry.id  # the check is not empty


def test_a_nested_repetition_that_hangs_re_is_searched_at_once():
    """The issue's pattern ``^(\\w+\\s?)+$`` runs for minutes in re on a sentence that ends in a
    full stop; the regex engine finishes well inside the limit and finds what it should."""
    cb = Codebook.model_validate({"attributes": [
        {"id": "all_words", "label": "Only words", "dimension": "process", "patterns": [r"^(\w+\s?)+$"]}]})
    texts = pd.DataFrame({"interview_id": [1, 2], "text": [
        "The quality of the bread is what matters and speed at the till and nothing else at all.",
        "chờ lâu quá"]})
    coded = code_verbatims(texts, codebook=cb, codes=None)
    assert coded["interview_id"].tolist() == [2] and coded["match"].tolist() == ["chờ lâu quá"]


def test_a_pattern_past_its_time_limit_is_named(monkeypatch):
    from csm_helpers.analysis.discovery import coding

    monkeypatch.setattr(coding, "PATTERN_TIMEOUT_S", 0.05)
    cb = Codebook.model_validate({"attributes": [
        {"id": "wait", "label": "Waiting", "dimension": "process", "patterns": ["(a|aa)+$"]}]})
    texts = pd.DataFrame({"interview_id": [1, 2], "text": ["fine", "w" + "a" * 60 + "it"], "row": [7, 8]})
    with pytest.raises(DataError, match=r"pattern '\(a\|aa\)\+\$' of attribute 'wait' took more than 0\.05 s on "
                                        r"the text of row 8 .* write it more simply, or use keywords"):
        code_verbatims(texts, codebook=cb, codes=None)


# The keyword search checks its word boundaries on the characters either side of a match; the
# reference is the same rule written as lookarounds in one regular expression (what the coder
# compiled before, at 6 ms a keyword).
_REF_NO_SPACE = ("\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff"
                 "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
                 "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff")
_REF_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_REF_WORD = re.compile(f"[^\\W{_REF_NO_SPACE}]|[{_REF_MARKS}]")


def _reference_keyword_regex(keyword: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(tok) for tok in keyword.split(" "))
    before = f"(?<![^\\W{_REF_NO_SPACE}])(?<![{_REF_MARKS}])" if _REF_WORD.fullmatch(keyword[0]) else ""
    after = f"(?![^\\W{_REF_NO_SPACE}])(?![{_REF_MARKS}])" if _REF_WORD.fullmatch(keyword[-1]) else ""
    return re.compile(before + body + after)


_pieces = st.sampled_from(["fee", "fees", "app", "a", "aa", "phí", "phi\u0301", "费用", "アプリ", "x费", "é",
                           " ", "  ", "\t", "-", ".", "_", "1", "\u0301", "\U00020001", "ab c"])
_keywords = st.sampled_from(["fee", "a", "aa", "phí", "费用", "x费", "app a", "fee s", "-", "a_", "1", "é",
                             "\U00020001", "a\u0301"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=10), _keywords)
def test_keyword_search_finds_what_the_lookaround_regex_finds(pieces, keyword):
    text = unicodedata.normalize("NFC", "".join(pieces))  # (the coder matches NFC text)
    folded = unicodedata.normalize("NFC", keyword).casefold()
    coded = code_verbatims(texts(text), codebook=codebook(kw("k", keyword)), codes=None)
    want = _reference_keyword_regex(folded).search(text.casefold())
    assert coded["match"].tolist() == ([] if want is None else [want.group(0)])
