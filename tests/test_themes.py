"""Tests of csm_helpers.analysis.themes: comment theme frequencies, anonymised example quotes, redaction.

References: hand-made frames in English, Vietnamese and Chinese whose counts are worked out by
hand, and, on the bundled sample, an independent implementation of the codebook's documented
matching rule (``tests.test_sample.make_coder``).
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_helpers.analysis.themes import THEME_COLUMNS, comment_themes, redact, theme_examples
from csm_helpers.core.errors import CsmError, DataError
from csm_helpers.study.config import Codebook, load_codebook, load_study
from csm_helpers.study.datasets import read_dataset, sample_study_path
from tests.test_sample import make_coder

from .disclosure import check_disclosure_rule

CB = Codebook.model_validate({"attributes": [
    {"id": "wait", "label": "Waiting time", "dimension": "process",
     "keywords": ["queue", "waited", "xếp hàng", "chờ đợi", "排队", "等了"]},
    {"id": "fees", "label": "Fees", "dimension": "product", "keywords": ["fee", "fees", "phí", "手续费"]},
    {"id": "staff", "label": "Staff attitude", "dimension": "people", "theme": "People",
     "keywords": ["rude", "polite", "thô lỗ", "态度"]},
]})

COMMENTS = [
    ("r01", "Long queue again.", "en"),                       # wait
    ("r02", "The fee is too high and staff were rude.", "en"),  # fees, staff
    ("r03", "Phải xếp hàng lâu, nhân viên thô lỗ.", "vi"),     # wait, staff
    ("r04", "Phí dịch vụ cao.", "vi"),                          # fees
    ("r05", "排队等了一个小时。", "zh"),                          # wait (once, two keywords)
    ("r06", "手续费太高，态度不好。", "zh"),                       # fees, staff
    ("r07", "Thanks for the feedback form.", "en"),             # nothing ('fee' is not 'feedback')
    ("r08", "", "en"),                                          # no comment
    ("r09", None, "en"),                                        # no comment
    ("r10", "   ", "en"),                                       # no comment
]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"rid": [c[0] for c in COMMENTS], "comment": [c[1] for c in COMMENTS],
                         "lang": [c[2] for c in COMMENTS]})


# --------------------------------------------------------------------------- frequencies
def test_coded_counts_in_english_vietnamese_and_chinese():
    df = frame()
    before = df.copy()
    t = comment_themes(df, text="comment", id="rid", codebook=CB, min_n=1)
    pd.testing.assert_frame_equal(df, before)
    assert list(t.columns) == THEME_COLUMNS
    t = t.set_index("attribute")
    assert t["mentions"].to_dict() == {"wait": 3, "fees": 3, "staff": 3}
    assert (t["n_commenters"] == 7).all() and (t["n_respondents"] == 10).all()
    assert t["share_of_commenters"].tolist() == pytest.approx([3 / 7] * 3)
    assert t["share_of_respondents"].tolist() == pytest.approx([3 / 10] * 3)
    assert t.loc["staff", "theme"] == "People" and t.loc["wait", "theme"] == "Waiting time"
    by_lang = comment_themes(df, text="comment", id="rid", codebook=CB, by="lang", min_n=1)
    counts = by_lang.set_index(["lang", "attribute"])["mentions"]
    assert counts[("vi", "wait")] == 1 and counts[("zh", "wait")] == 1 and counts[("en", "wait")] == 1
    assert counts[("zh", "fees")] == 1 and counts[("vi", "staff")] == 1
    assert by_lang.set_index("lang").loc["en", "n_commenters"].iloc[0] == 3


def test_order_is_most_mentioned_first():
    df = pd.DataFrame({"rid": range(4), "c": ["rude", "rude, fee", "rude", "queue"]})
    t = comment_themes(df, text="c", id="rid", codebook=CB, min_n=1)
    assert t["attribute"].tolist() == ["staff", "wait", "fees"]  # 3, then the 1-1 tie in codebook order


def test_weighted_shares():
    df = frame().assign(w=[1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 1.0, 2.0, 1.0, 1.0])
    t = comment_themes(df, text="comment", id="rid", codebook=CB, weights="w", min_n=1).set_index("attribute")
    # wait: r01 (1) + r03 (1) + r05 (3) = 5; commenters r01-r07 weigh 10; everyone 14.
    assert t.loc["wait", "share_of_commenters"] == pytest.approx(5 / 10)
    assert t.loc["wait", "share_of_respondents"] == pytest.approx(5 / 14)
    assert t.loc["wait", "mentions"] == 3


def test_small_groups_are_suppressed_without_leaks():
    df = pd.concat([frame(), frame().iloc[:5].assign(rid=lambda f: f["rid"] + "b")], ignore_index=True)
    df = df.assign(branch=["A"] * 6 + ["B"] * 4 + ["C"] * 5)  # commenters: A 6, B 1, C 5
    t = comment_themes(df, text="comment", id="rid", codebook=CB, by="branch", min_n=5)
    a, b = t[t["branch"] == "A"], t[t["branch"] == "B"]
    assert not a["suppressed"].any() and (a["n_commenters"] == 6).all()
    # B: 4 respondents (and 1 commenter) < 5: only its size and the codebook labels remain.
    assert b["suppressed"].all() and (b["n_respondents"] == 4).all()
    assert b[["mentions", "n_commenters", "share_of_commenters", "share_of_respondents"]].isna().all().all()
    # per theme, the branches are one partition: the total minus the shown ones never isolates one
    commenters = {"A": 6, "B": 1, "C": 5}
    for _, part in t.groupby("attribute"):
        check_disclosure_rule(commenters, part.loc[part["suppressed"], "branch"], 5)
    # B alone would be the total minus A and C: C, the smaller other branch, is hidden with it
    assert t.loc[t.branch == "C", "suppressed"].all() and t.attrs["complementary"] == ["C"]
    # with B the only small branch, A (the smallest other) is hidden with it
    two = comment_themes(df[df.branch.isin(["A", "B"])], text="comment", id="rid", codebook=CB, by="branch",
                         min_n=5)
    assert two["suppressed"].all() and two.attrs["complementary"] == ["A"]
    # A group large enough in respondents but with fewer than min_n commenters is suppressed too.
    few = pd.DataFrame({"rid": range(8), "c": ["queue", "fee"] + [""] * 6})
    t2 = comment_themes(few, text="c", id="rid", codebook=CB, min_n=5)
    assert t2["suppressed"].all() and t2["mentions"].isna().all() and (t2["n_respondents"] == 8).all()


def test_bad_inputs():
    with pytest.raises(DataError, match=r"column 'rid' \(respondent id\), index 1, 2: 'x' — every respondent"):
        comment_themes(pd.DataFrame({"rid": ["a", "x", "x"], "c": ["q", "q", "q"]}), text="c", id="rid",
                       codebook=CB)
    with pytest.raises(CsmError, match=r"comment \(text\) column 'comments' is not in the data"):
        comment_themes(frame(), text="comments", id="rid", codebook=CB)
    with pytest.raises(CsmError, match=r"`codebook` must be a Codebook"):
        comment_themes(frame(), text="comment", id="rid", codebook={"attributes": []})


def test_sample_counts_match_an_independent_coder():
    study = load_study(sample_study_path())
    codebook = load_codebook(study)
    df = read_dataset("responses")
    t = comment_themes(df, text=study.responses.comments, id=study.responses.id, codebook=codebook,
                       min_n=study.min_cell_size).set_index("attribute")
    code = make_coder(codebook)
    comments = df["comment"].fillna("")
    coded = [code(c) for c in comments[comments.str.strip() != ""]]
    for attribute in t.index:
        expected = sum(attribute in found for found in coded)
        assert t.loc[attribute, "mentions"] == expected, attribute
        assert t.loc[attribute, "share_of_commenters"] == pytest.approx(expected / len(coded))
        assert t.loc[attribute, "share_of_respondents"] == pytest.approx(expected / len(df))
    assert t.loc["branch_hours", "mentions"] == 0  # only comes up in discovery


# --------------------------------------------------------------------------- redaction
@pytest.mark.parametrize(("text", "expected"), [
    ("write to lan.nguyen@example.com please", "write to [email] please"),
    ("联系我abc.xyz@example.org谢谢", "联系我[email]谢谢"),
    ("call 0901 234 567", "call [phone]"),
    ("gọi 0912.345.678 nhé", "gọi [phone] nhé"),
    ("+84 90 123 4567 or (028) 3822 1234", "[phone] or [phone]"),
    ("电话13912345678", "电话[phone]"),
    ("account 19034567890123", "account [number]"),
    ("số tài khoản 0123456789012", "số tài khoản [number]"),
    ("card 4111 1111 1111 1111", "card [number]"),
    ("账号6222021234567890123", "账号[number]"),
    ("waited 40 minutes on 2026-06-30, paid 1,500,000 VND", "waited 40 minutes on 2026-06-30, paid 1,500,000 VND"),
    ("<script>alert('x')</script> &amp; $5", "<script>alert('x')</script> &amp; $5"),
    (None, ""),
])
def test_redact(text, expected):
    assert redact(text) == expected


# --------------------------------------------------------------------------- examples
def test_examples_are_plain_redacted_and_without_ids():
    hostile = '<script>alert("x")</script> queue took ages, mail me at an.tran@example.net'
    df = pd.DataFrame({"rid": [f"ID-{i:04d}" for i in range(8)],
                       "comment": [hostile, "queue, call 0987 654 321", "long queue", "queue",
                                   "queue account 1234567890123", "fee", "fee", "rude"]})
    before = df.copy()
    ex = theme_examples(df, text="comment", id="rid", codebook=CB, per_theme=10, min_n=5)
    pd.testing.assert_frame_equal(df, before)
    assert list(ex.columns) == ["attribute", "label", "sentiment", "quote"]
    assert set(ex["attribute"]) == {"wait"}  # fees (2) and staff (1) are below min_n: no quote
    assert (ex["sentiment"] == "all").all() and len(ex) == 5
    quotes = ex["quote"].tolist()
    assert '<script>alert("x")</script> queue took ages, mail me at [email]' in quotes  # plain, not escaped
    assert "queue, call [phone]" in quotes and "queue account [number]" in quotes
    for q in quotes:
        assert "ID-" not in q and "@" not in q and "&lt;" not in q
    assert not any(df["rid"].isin(ex.to_numpy().ravel()))


def test_examples_seeded_capped_and_cut():
    df = pd.DataFrame({"rid": range(30), "comment": [f"queue number {i} " + "x" * (i * 20) for i in range(30)]})
    a = theme_examples(df, text="comment", id="rid", codebook=CB, per_theme=3, seed=1, max_chars=60)
    b = theme_examples(df, text="comment", id="rid", codebook=CB, per_theme=3, seed=1, max_chars=60)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3 and a["quote"].str.len().le(60).all()
    others = [theme_examples(df, text="comment", id="rid", codebook=CB, per_theme=3, seed=s)["quote"].tolist()
              for s in range(2, 6)]
    assert any(o != a["quote"].tolist() for o in others)
    assert theme_examples(df.head(4), text="comment", id="rid", codebook=CB).empty  # 4 mentions < 5


def test_examples_split_by_sentiment():
    df = pd.DataFrame({"rid": range(14), "comment": ["queue"] * 14,
                       "sat": [5, 4, 5, 4, 5, 1, 2, 1, 2, 1, 3, 3, 3, 2]})
    ex = theme_examples(df, text="comment", id="rid", codebook=CB, satisfaction="sat", per_theme=2)
    assert ex["sentiment"].tolist() == ["satisfied", "satisfied", "dissatisfied", "dissatisfied"]
    only_happy = theme_examples(df.iloc[:9], text="comment", id="rid", codebook=CB, satisfaction="sat")
    assert set(only_happy["sentiment"]) == {"satisfied"}  # 4 dissatisfied mentions < min_n
    with pytest.raises(DataError, match=r"column 'sat' .*expected ratings between 1 and 5"):
        theme_examples(df.assign(sat=9), text="comment", id="rid", codebook=CB, satisfaction="sat")


def test_sample_examples_respect_min_n_and_personal_data():
    study = load_study(sample_study_path())
    codebook = load_codebook(study)
    df = read_dataset("responses")
    ex = theme_examples(df, text="comment", id="respondent_id", codebook=codebook, satisfaction="overall_sat")
    assert not ex.empty and set(ex["sentiment"]) == {"satisfied", "dissatisfied"}
    assert "branch_hours" not in set(ex["attribute"])
    joined = " ".join(ex["quote"])
    assert "@example." not in joined and not any(rid in joined for rid in df["respondent_id"])
    for phone in df["phone"]:
        assert phone not in joined


# --------------------------------------------------------------------------- properties
WORDS = ["queue", "fee", "rude", "ok", "xếp hàng", "排队", "thanks", "手续费", "feedback", ""]


@settings(max_examples=50, deadline=None)
@given(parts=st.lists(st.lists(st.sampled_from(WORDS), max_size=4), min_size=1, max_size=30),
       groups=st.lists(st.sampled_from(["x", "y"]), min_size=30, max_size=30),
       weights=st.lists(st.floats(0.1, 5), min_size=30, max_size=30),
       min_n=st.integers(0, 6), seed=st.integers(0, 10**6))
def test_theme_properties(parts, groups, weights, min_n, seed):
    n = len(parts)
    df = pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "c": [" ".join(p) for p in parts],
                       "g": groups[:n], "w": weights[:n]})
    t = comment_themes(df, text="c", id="rid", codebook=CB, by="g", weights="w", min_n=min_n)
    shown = t[~t["suppressed"]]
    for col in ("share_of_commenters", "share_of_respondents"):
        assert shown[col].dropna().between(0, 1 + 1e-12).all()
    assert (shown["share_of_respondents"].fillna(0) <= shown["share_of_commenters"].fillna(0) + 1e-12).all()
    hidden = t[t["suppressed"]]
    assert hidden[["mentions", "n_commenters", "share_of_commenters", "share_of_respondents"]].isna().all().all()
    shuffled = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    t2 = comment_themes(shuffled, text="c", id="rid", codebook=CB, by="g", weights="w", min_n=min_n)
    pd.testing.assert_frame_equal(t, t2, check_exact=False, rtol=1e-9, atol=1e-12)
    e1 = theme_examples(df, text="c", id="rid", codebook=CB, min_n=min_n, seed=seed % 7)
    e2 = theme_examples(shuffled, text="c", id="rid", codebook=CB, min_n=min_n, seed=seed % 7)
    pd.testing.assert_frame_equal(e1, e2)
    totals = comment_themes(df, text="c", id="rid", codebook=CB, min_n=0).set_index("attribute")["mentions"]
    assert all(totals[a] >= max(min_n, 1) for a in e1["attribute"].unique())
    assert (e1.groupby("attribute").size() <= 3).all()
