"""The survey responses of the synthetic study: ratings drawn from the latent model, voice and loyalty items, personal columns, and free-text comments in English, Vietnamese and Chinese."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from csm_helpers.synthetic.model import (
    ATTRIBUTES,
    CHANNELS,
    COMPETITOR_SD,
    CONSENT_BLANK,
    CONSENT_P,
    CUTS,
    DIGITAL_GIVEN_REGION,
    DIMENSIONS,
    EXPECT_SD,
    FOLLOW_UP_P,
    IMPORTANCE_SD,
    KANO_FEATURES,
    KANO_MISSING,
    LAST_CONTACT,
    LOADING,
    LOYALTY_ITEMS,
    MARKET_ITEMS,
    MODEL_BLOCKS,
    MODEL_MISSING,
    OVERALL_CUTS,
    PERF_REGION_SHIFT,
    RECOMMEND,
    RECOMMEND_CUTS,
    REGION_PROBS,
    REGIONS,
    REPEAT,
    WAVE_PROBS,
    WAVES,
    Y_CHANNEL,
    Y_REGION,
    Y_WAVE,
    importance_location,
    model_latent_corr,
    nfc,
    residual_sd,
)

__all__ = ["PHRASES", "draw_responses", "voice_items", "kano_items", "KANO_CELLS", "within_cell_satisfaction", "model_items", "consent_column", "follow_up_outcomes", "personal_columns", "pick", "draw_comments"]


_LOYALTY_MISSING_RANGE = (0.01, 0.03)


_MISSING_RANGE = (0.02, 0.04)


_COMMENT_RATE = 0.40


_COMMENT_LANGS = (("en", 0.75), ("vi", 0.15), ("zh", 0.10))


_SPEEDER_RATE = 0.03


_DURATION_MEDIAN = 420.0


_DURATION_SDLOG = 0.30


_DURATION_FLOOR = 165


_SPEEDER_RANGE = (30, 110)


# --------------------------------------------------------------------------- survey responses
def _item_names() -> dict[str, list[str]]:
    return {
        "perf": [f"perf_{a.id}" for a in ATTRIBUTES],
        "imp": [f"imp_{a.id}" for a in ATTRIBUTES],
        "exp": [f"exp_{a.id}" for a in ATTRIBUTES],
        "comp": [f"comp_{a.id}" for a in ATTRIBUTES if a.comp is not None],
    }


def _discretise(latent: np.ndarray, cuts: tuple[float, ...], low: int) -> np.ndarray:
    out = np.full(latent.shape, low, dtype=np.int64)
    for c in cuts:
        out += latent > c
    return out


def _latent_scores(factors: np.ndarray, unique: np.ndarray) -> np.ndarray:
    """``z_a = loading_d f_d + sqrt(1 - loading_d^2) s_a``: standard normal, correlated within
    and (through the factors) across dimensions; element-wise arithmetic only (bit-stable)."""
    z = np.empty_like(unique)
    for j, a in enumerate(ATTRIBUTES):
        lam = LOADING[a.dimension]
        z[:, j] = lam * factors[:, DIMENSIONS.index(a.dimension)] + math.sqrt(1.0 - lam * lam) * unique[:, j]
    return z


def draw_responses(rng: np.random.Generator, n: int,
               factors: np.ndarray) -> tuple[pd.DataFrame, dict[str, Any], np.ndarray]:
    """The survey table without personal data and comments, the data-quality facts, and the
    latent overall satisfaction ``y`` of every respondent (for :func:`voice_items`).

    ``factors`` are the dimension factors (:func:`_dimension_factors`, their own stream); the
    attribute-specific parts ``s_a`` of the latent scores are drawn here."""
    k = len(ATTRIBUTES)
    n_first = int(rng.binomial(n, WAVE_PROBS[0]))
    wave = np.r_[np.zeros(n_first, dtype=np.int64), np.ones(n - n_first, dtype=np.int64)]
    region = rng.choice(len(REGIONS), size=n, p=np.array(REGION_PROBS))
    p_digital = np.array([DIGITAL_GIVEN_REGION[r] for r in REGIONS])[region]
    digital = (rng.random(n) < p_digital).astype(np.int64)

    z = _latent_scores(factors, rng.standard_normal((n, k)))
    e_noise = rng.standard_normal((n, k))
    i_noise = rng.standard_normal((n, k))
    comp_attrs = [j for j, a in enumerate(ATTRIBUTES) if a.comp is not None]
    c_noise = rng.standard_normal((n, len(comp_attrs)))
    e_y, e_last, e_rec = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)
    u_repeat = rng.random(n)

    region_shift = np.array([PERF_REGION_SHIFT[r] for r in REGIONS])[region]
    perf = np.empty((n, k), dtype=np.int64)
    expect = np.empty((n, k), dtype=np.int64)
    importance = np.empty((n, k), dtype=np.int64)
    for j, a in enumerate(ATTRIBUTES):
        loc = a.perf + a.wave_shift * wave + region_shift + a.digital_shift * digital
        perf[:, j] = _discretise(loc + a.perf_sd * z[:, j], CUTS, 1)
        expect[:, j] = _discretise(a.expect + EXPECT_SD * e_noise[:, j], CUTS, 1)
        importance[:, j] = _discretise(importance_location(a) + IMPORTANCE_SD * i_noise[:, j], CUTS, 1)
    comp = np.empty((n, len(comp_attrs)), dtype=np.int64)
    for m, j in enumerate(comp_attrs):
        comp[:, m] = _discretise(ATTRIBUTES[j].comp + COMPETITOR_SD * c_noise[:, m], CUTS, 1)

    # Latent overall satisfaction: element-wise sums only (no BLAS), so results are bit-stable.
    y = (np.array([Y_REGION[r] for r in REGIONS])[region]
         + np.array([Y_CHANNEL[c] for c in CHANNELS])[digital]
         + np.array([Y_WAVE[w] for w in WAVES])[wave])
    for j, a in enumerate(ATTRIBUTES):
        y = y + a.beta * z[:, j]
    y = y + residual_sd() * e_y
    overall = _discretise(y, OVERALL_CUTS, 1)
    last = _discretise(LAST_CONTACT["intercept"] + LAST_CONTACT["loading"] * y
                       + LAST_CONTACT["noise_sd"] * e_last, OVERALL_CUTS, 1)
    rec_latent = RECOMMEND["location"] + RECOMMEND["scale"] * (
        RECOMMEND["loading"] * y + RECOMMEND["noise_loading"] * e_rec)
    recommend = _discretise(rec_latent, RECOMMEND_CUTS, 0)
    p_repeat = 1.0 / (1.0 + np.exp(-(REPEAT["intercept"] + REPEAT["slope"] * y)))
    repeat = (u_repeat < p_repeat).astype(np.int64)

    # Items missing completely at random, one rate per item.
    items = _item_names()
    all_items = items["perf"] + items["imp"] + items["exp"] + items["comp"]
    rates = rng.uniform(*_MISSING_RANGE, size=len(all_items))
    missing = rng.random((n, len(all_items))) < rates

    # Durations: lognormal with a floor; speeders far below a third of the median.
    duration = np.maximum(np.rint(rng.lognormal(math.log(_DURATION_MEDIAN), _DURATION_SDLOG, n)),
                          _DURATION_FLOOR).astype(np.int64)
    speeder = rng.random(n) < _SPEEDER_RATE
    duration[speeder] = rng.integers(_SPEEDER_RANGE[0], _SPEEDER_RANGE[1] + 1, size=int(speeder.sum()))

    # Straight-liners: every performance answer replaced by one value.
    n_straight = max(3, round(n / 240))
    straight = np.sort(rng.choice(n, size=n_straight, replace=False))
    straight_value = rng.choice(np.array([3, 4, 5]), size=n_straight, p=[0.25, 0.45, 0.30])
    perf[straight, :] = straight_value[:, None]
    missing[straight, :k] = False

    width = max(5, len(str(n)))
    ids = [f"R{i + 1:0{width}d}" for i in range(n)]
    df = pd.DataFrame({
        "respondent_id": ids,
        "wave": np.array(WAVES, dtype=object)[wave],
        "region": np.array(REGIONS, dtype=object)[region],
        "channel": np.array(CHANNELS, dtype=object)[digital],
        "duration_s": duration,
    })
    blocks = np.concatenate([perf, importance, expect, comp], axis=1)
    for m, col in enumerate(all_items):
        df[col] = pd.arrays.IntegerArray(blocks[:, m].copy(), missing[:, m].copy())
    df["overall_sat"] = overall
    df["sat_last_contact"] = last
    df["recommend"] = recommend
    df["repeat_12m"] = repeat

    perf_frame = df[items["perf"]]
    answered = perf_frame.notna().sum(axis=1)
    zero_var = perf_frame.nunique(axis=1, dropna=True).eq(1) & answered.ge(5)
    quality = {
        "straight_liners": [ids[i] for i in np.flatnonzero(zero_var.to_numpy())],
        "speeders": [ids[i] for i in np.flatnonzero(speeder)],
        "missing_rate": {col: float(r) for col, r in zip(all_items, rates, strict=True)},
    }
    return df, quality, y


def voice_items(rng: np.random.Generator, y: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Market-indicator (1/0) and loyalty (1-5) items, driven by the latent satisfaction ``y``.

    Drawn from their own stream, so the columns of :func:`draw_responses` do not depend on them.
    The loyalty items are missing completely at random at a per-item rate of 1-3%.
    """
    n = len(y)
    out = pd.DataFrame(index=range(n))
    for col, par in MARKET_ITEMS.items():
        b = par["loading"]
        latent = par["intercept"] + b * y + math.sqrt(1.0 - b * b) * rng.standard_normal(n)
        out[col] = (latent > 0).astype(np.int64)
    rates = rng.uniform(*_LOYALTY_MISSING_RANGE, size=len(LOYALTY_ITEMS))
    for (col, par), rate in zip(LOYALTY_ITEMS.items(), rates, strict=True):
        b = par["loading"]
        latent = par["location"] + par["sd"] * (b * y + math.sqrt(1.0 - b * b) * rng.standard_normal(n))
        values = _discretise(latent, CUTS, 1)
        out[col] = pd.arrays.IntegerArray(values, rng.random(n) < rate)
    return out, {col: float(r) for col, r in zip(LOYALTY_ITEMS, rates, strict=True)}


# --------------------------------------------------------------------------- Kano pairs
_KANO_ROWS = ("QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ")  # Berger et al. (1993), answers 1-5 x 1-5

KANO_CELLS: dict[str, tuple[tuple[int, int], ...]] = {
    c: tuple((f + 1, d + 1) for f, row in enumerate(_KANO_ROWS) for d, x in enumerate(row) if x == c)
    for c in "AOMIRQ"}
"""The (functional, dysfunctional) answer pairs (1 like ... 5 dislike) of each Kano category."""


def kano_items(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """The Kano answer pairs ``kano_f_<id>`` and ``kano_d_<id>`` (1-5) of :data:`KANO_FEATURES`.

    Each respondent's category of a feature is drawn from the feature's true shares, then the
    pair of answers uniformly among that category's cells of the evaluation table; each answer
    is then missing completely at random with probability :data:`KANO_MISSING`. Drawn from
    their own stream, so the other columns do not depend on them.
    """
    out = pd.DataFrame(index=range(n))
    for feature in KANO_FEATURES:
        cats = rng.choice(6, size=n, p=np.array(feature.probs) / sum(feature.probs))
        pick_u = rng.random(n)
        f = np.empty(n, dtype=np.int64)
        d = np.empty(n, dtype=np.int64)
        for k, c in enumerate("AOMIRQ"):
            cells = np.array(KANO_CELLS[c])
            rows = cats == k
            chosen = cells[np.minimum((pick_u[rows] * len(cells)).astype(np.int64), len(cells) - 1)]
            f[rows], d[rows] = chosen[:, 0], chosen[:, 1]
        out[f"kano_f_{feature.id}"] = pd.arrays.IntegerArray(f, rng.random(n) < KANO_MISSING)
        out[f"kano_d_{feature.id}"] = pd.arrays.IntegerArray(d, rng.random(n) < KANO_MISSING)
    return out


# --------------------------------------------------------------------------- satisfaction model
def within_cell_satisfaction(responses: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """The latent overall satisfaction ``y`` minus its cell's shift (wave, region, channel):
    N(0, 1) for every respondent, the satisfaction latent of the ECSI model."""
    shift = (responses["region"].map(Y_REGION).to_numpy(dtype=float)
             + responses["channel"].map(Y_CHANNEL).to_numpy(dtype=float)
             + responses["wave"].map(Y_WAVE).to_numpy(dtype=float))
    return y - shift


def model_items(rng: np.random.Generator, satisfaction: np.ndarray) -> pd.DataFrame:
    """The 1-5 items of the ECSI model (:data:`MODEL_BLOCKS`), given each respondent's
    satisfaction latent (standard normal).

    The other latent variables are drawn from their normal distribution given satisfaction
    (:func:`model_latent_corr`: mean ``Phi_oS s``, covariance ``Phi_oo - Phi_oS Phi_So``); each
    item thresholds ``location + sd (loading eta + sqrt(1 - loading^2) u)`` at the cut points and
    is missing completely at random with probability :data:`MODEL_MISSING`. Drawn from their own
    stream, so the other columns do not depend on them.

    Examples
    --------
    >>> items = model_items(np.random.default_rng(1), np.random.default_rng(2).standard_normal(500))
    >>> items.shape, int(items.min().min()), int(items.max().max())
    ((500, 18), 1, 5)
    """
    names = [b.name for b in MODEL_BLOCKS]
    s_at = names.index("satisfaction")
    phi = np.array(model_latent_corr())
    others = [j for j in range(len(names)) if j != s_at]
    slope = phi[others, s_at]
    chol = np.linalg.cholesky(phi[np.ix_(others, others)] - np.outer(slope, slope))
    n = len(satisfaction)
    e = rng.standard_normal((n, len(others)))
    eta = np.empty((n, len(names)))
    eta[:, s_at] = satisfaction
    for row, j in enumerate(others):  # element-wise sums only (no BLAS), so results are bit-stable
        x = slope[row] * satisfaction
        for col in range(row + 1):
            x = x + chol[row, col] * e[:, col]
        eta[:, j] = x
    out = pd.DataFrame(index=range(n))
    for j, block in enumerate(MODEL_BLOCKS):
        lam = block.loading
        for item in block.items:
            latent = block.location + block.sd * (lam * eta[:, j] + math.sqrt(1.0 - lam * lam) * rng.standard_normal(n))
            out[item] = pd.arrays.IntegerArray(_discretise(latent, CUTS, 1), rng.random(n) < MODEL_MISSING)
    return out


# --------------------------------------------------------------------------- closing the loop
def consent_column(rng: np.random.Generator, n: int) -> np.ndarray:
    """``contact_ok``: "yes" with probability :data:`CONSENT_P`, blank with :data:`CONSENT_BLANK`, else "no"."""
    u = rng.random(n)
    return np.where(u < CONSENT_BLANK, "", np.where(u < CONSENT_BLANK + CONSENT_P, "yes", "no"))


def follow_up_outcomes(rng: np.random.Generator, responses: pd.DataFrame) -> pd.DataFrame:
    """The first wave's follow-up list, as the team filled it in.

    The list is worked out here from its definition, independently of the workbook's code: the
    first wave's respondents with ``contact_ok`` yes and overall satisfaction 1-2 (the bottom two
    of 1-5) or recommend 0-6. Each was contacted with probability ``FOLLOW_UP_P["contacted"]``;
    a contacted customer's problem was resolved with probability ``"resolved"`` (blank when not
    contacted); still a customer with probability ``"still_customer_contacted"`` or
    ``"still_customer_not_contacted"``, blank (not known) with ``"still_customer_unknown"``.
    """
    sat = pd.to_numeric(responses["overall_sat"], errors="coerce")
    rec = pd.to_numeric(responses["recommend"], errors="coerce")
    listed = responses.loc[(responses["wave"] == WAVES[0]) & (responses["contact_ok"] == "yes")
                           & ((sat <= 2) | (rec <= 6)).to_numpy(dtype=bool),
                           ["respondent_id", "wave", "region", "channel"]].reset_index(drop=True)
    n = len(listed)
    p = FOLLOW_UP_P
    contacted = rng.random(n) < p["contacted"]
    resolved = rng.random(n) < p["resolved"]
    still = rng.random(n) < np.where(contacted, p["still_customer_contacted"], p["still_customer_not_contacted"])
    unknown = rng.random(n) < p["still_customer_unknown"]
    listed["contacted"] = np.where(contacted, "yes", "no")
    listed["resolved"] = np.where(contacted, np.where(resolved, "yes", "no"), "")
    listed["still_customer"] = np.where(unknown, "", np.where(still, "yes", "no"))
    return listed


# --------------------------------------------------------------------------- personal data
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
           "Đỗ", "Hồ", "Ngô", "Dương", "Lý")


_FAMILY_P = (0.38, 0.11, 0.095, 0.07, 0.05, 0.04, 0.045, 0.039, 0.03, 0.021, 0.02, 0.02, 0.013,
             0.013, 0.01, 0.034)


_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Quang", "Thu", "Anh", "Hoài", "Kim")


_GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
          "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quân", "Sơn", "Tâm",
          "Thảo", "Thắng", "Trang", "Tuấn", "Vân", "Yến", "Đạt", "Ánh")


_DOMAINS = ("example.com", "example.net", "example.org")


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def personal_columns(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[str]]:
    """Fake names, e-mail addresses (reserved example domains) and Vietnamese mobile numbers."""
    fam = rng.choice(len(_FAMILY), size=n, p=np.array(_FAMILY_P) / sum(_FAMILY_P))
    mid = rng.integers(0, len(_MIDDLE), size=n)
    giv = rng.integers(0, len(_GIVEN), size=n)
    num = rng.integers(1, 100, size=n)
    dom = rng.integers(0, len(_DOMAINS), size=n)
    style = rng.integers(0, 3, size=n)
    prefix = rng.choice(np.array(["090", "091", "093", "094", "096", "097", "098", "086", "088", "070"]),
                        size=n)
    rest = rng.integers(0, 10_000_000, size=n)
    names, emails, phones = [], [], []
    for i in range(n):
        f, m, g = _FAMILY[fam[i]], _MIDDLE[mid[i]], _GIVEN[giv[i]]
        names.append(nfc(f"{f} {m} {g}"))
        fa, ma, ga = _ascii(f).lower(), _ascii(m).lower(), _ascii(g).lower()
        local = (f"{ga}.{fa}{num[i]}", f"{fa}{ma}{ga}{num[i]}", f"{ga}{fa[0]}{ma[0]}.{num[i]}")[style[i]]
        emails.append(f"{local}@{_DOMAINS[dom[i]]}")
        digits = f"{prefix[i]}{rest[i]:07d}"
        phones.append(f"{digits[:4]} {digits[4:7]} {digits[7:]}")
    return names, emails, phones


# --------------------------------------------------------------------------- comments
# Per attribute and language: (positive phrases, negative phrases). Each phrase mentions its
# attribute with words that codebook.yaml catches, and no other attribute.
PHRASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "product_range": {
        "en": (("Good range of products, I found the savings products I needed.",
                "The choice of products is wide enough for my family."),
               ("The product range is limited compared with other banks.",
                "Few savings products and no good credit card options.")),
        "vi": (("Ngân hàng có nhiều sản phẩm phù hợp với gia đình tôi.",),
               ("Sản phẩm còn ít, không có gói tiết kiệm linh hoạt.",)),
        "zh": (("产品种类很多，选择方便。",), ("产品太少了，理财选择不多。",)),
    },
    "fees": {
        "en": (("Fees are reasonable and there are no hidden charges.",
                "Fees & charges are fair for what I use."),
               ("The fees are too high, I pay a transfer fee every month.",
                "Too many service charges for basic things.")),
        "vi": (("Mức phí hợp lý.",), ("Phí dịch vụ quá cao.", "Chi phí chuyển tiền đắt hơn ngân hàng khác.")),
        "zh": (("手续费合理。",), ("收费太高，每年还有年费。",)),
    },
    "app_reliability": {
        "en": (("The mobile app works well and I rarely need to visit.",
                "Online banking is fast and reliable."),
               ("The app crashed twice when I tried to pay bills.",
                "I often cannot log in to the mobile app.")),
        "vi": (("Ứng dụng chạy ổn định, rất tiện.",), ("Ứng dụng hay bị lỗi, không đăng nhập được.",)),
        "zh": (("手机银行很好用。",), ("手机银行经常闪退，登录不了。",)),
    },
    "interest_rates": {
        "en": (("Interest rates on my savings are competitive.",),
               ("The deposit rate is lower than at other banks.",
                "Loan rates went up again without warning.")),
        "vi": (("Lãi suất tiết kiệm tốt.",), ("Lãi suất vay quá cao.",)),
        "zh": (("存款利率不错。",), ("利率太低，不如别的银行。",)),
    },
    "wait_time": {
        "en": (("No waiting at the branch, I was served in 5 minutes.",
                "Short queue and quick service."),
               ("I waited 40 minutes at the counter.",
                "The queue at the branch is always long.")),
        "vi": (("Không phải chờ đợi lâu.",), ("Phải xếp hàng gần một tiếng.", "Thời gian chờ quá lâu.")),
        "zh": (("不用排队，很快。",), ("排队等了四十分钟。",)),
    },
    "ease_of_paperwork": {
        "en": (("Opening the account took very little paperwork.",),
               ("Too much paperwork and too many forms to sign.",
                "They asked for the same documents three times.")),
        "vi": (("Thủ tục đơn giản, nhanh gọn.",), ("Giấy tờ quá nhiều, thủ tục rườm rà.",)),
        "zh": (("填表很简单。",), ("要填很多表格，材料太繁琐。",)),
    },
    "problem_resolution": {
        "en": (("When I had a problem they resolved it the same day.",),
               ("My complaint is still not resolved after two weeks.",
                "Nobody could resolve my card problem.")),
        "vi": (("Vấn đề của tôi được giải quyết nhanh.",), ("Khiếu nại hai tuần vẫn chưa được giải quyết.",)),
        "zh": (("问题很快就解决了。",), ("投诉两周了还没有解决。",)),
    },
    "accuracy": {
        "en": (("Transactions are always accurate.",),
               ("There was an error on my statement.",
                "I was debited twice for one payment, a mistake by the bank.")),
        "vi": (("Giao dịch luôn chính xác.",), ("Tài khoản bị trừ tiền hai lần do nhầm lẫn.",)),
        "zh": (("交易很准确。",), ("转账出错，扣了两次钱。",)),
    },
    "staff_courtesy": {
        "en": (("The staff are always polite and friendly.",),
               ("The teller was rude to my mother.", "Staff at the counter are not polite.")),
        "vi": (("Nhân viên lịch sự, thân thiện.",), ("Nhân viên thô lỗ, cáu gắt với khách.",)),
        "zh": (("工作人员很有礼貌，态度很好。",), ("柜员态度很差。",)),
    },
    "staff_knowledge": {
        "en": (("The adviser was knowledgeable and explained everything clearly.",),
               ("Staff could not explain the difference between accounts.",
                "The adviser lacked basic knowledge of the loan conditions.")),
        "vi": (("Nhân viên có chuyên môn, tư vấn rõ ràng.",), ("Nhân viên không nắm rõ quy định, tư vấn sai.",)),
        "zh": (("柜员很专业，讲得很清楚。",), ("员工业务知识不够。",)),
    },
    "responsiveness": {
        "en": (("They respond quickly to emails and calls.", "Staff called back the same day."),
               ("Nobody called back, staff seemed indifferent.",
                "I sent three emails and never got a reply.")),
        "vi": (("Phản hồi nhanh qua tổng đài.",), ("Gọi tổng đài không ai trả lời, nhân viên thờ ơ.",)),
        "zh": (("客服回复很快。",), ("打电话没人回复，员工很冷漠。",)),
    },
    "personal_attention": {
        "en": (("My relationship manager knew my name and my needs.",
                "They give personal attention to older customers."),
               ("No personal attention, I feel like a number.",)),
        "vi": (("Nhân viên rất chu đáo, tận tình.",), ("Không được chăm sóc chu đáo như trước.",)),
        "zh": (("服务很贴心，有专属客户经理。",), ("没有人关心我们这些老客户。",)),
    },
}


_OPENERS = {
    "en": {"pos": ("", "", "Happy overall. ", "Good bank. ", "Thank you. "),
           "neg": ("", "", "Disappointed. ", "Not happy. ", "Please improve. "),
           "mix": ("", "Mixed experience. ")},
    "vi": {"pos": ("", "Hài lòng. "), "neg": ("", "Không hài lòng. "), "mix": ("",)},
    "zh": {"pos": ("", "总体满意。"), "neg": ("", "不太满意。"), "mix": ("",)},
}


_JOIN = {"en": " ", "vi": " ", "zh": ""}


def pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def draw_comments(rng: np.random.Generator, data: pd.DataFrame) -> list[str]:
    """Free-text comments whose attribute and sentiment follow the respondent's ratings."""
    n = len(data)
    has = rng.random(n) < _COMMENT_RATE
    langs = rng.choice(np.array([lang for lang, _ in _COMMENT_LANGS]), size=n,
                       p=np.array([p for _, p in _COMMENT_LANGS]))
    perf = data[[f"perf_{a.id}" for a in ATTRIBUTES]].to_numpy(dtype="float64", na_value=np.nan)
    overall = data["overall_sat"].to_numpy()
    out: list[str] = []
    for i in range(n):
        if not has[i]:
            out.append("")
            continue
        lang = str(langs[i])
        row = perf[i]
        answered = np.flatnonzero(~np.isnan(row))
        hi_val, lo_val = row[answered].max(), row[answered].min()
        best = answered[row[answered] == hi_val]
        worst = answered[row[answered] == lo_val]
        a_best = ATTRIBUTES[int(rng.choice(best))].id
        a_worst = ATTRIBUTES[int(rng.choice(worst))].id
        second = rng.random() < 0.25
        # A positive phrase only for an attribute rated 4-5, a negative one only for 1-3; the
        # overall rating decides which of the two the comment is about (both when it is 3).
        can_praise, can_blame = hi_val >= 4, lo_val <= 3
        if overall[i] >= 4:
            moods = ["pos"] if can_praise else ["neg"]
        elif overall[i] <= 2:
            moods = ["neg"] if can_blame else ["pos"]
        else:
            moods = [m for m, ok in (("pos", can_praise), ("neg", can_blame)) if ok]
        parts = []
        for m in moods:
            chosen, pool = (a_best, best) if m == "pos" else (a_worst, worst)
            parts.append(pick(rng, PHRASES[chosen][lang][0 if m == "pos" else 1]))
            others = [ATTRIBUTES[j].id for j in pool if ATTRIBUTES[j].id != chosen]
            if len(moods) == 1 and second and others:
                extra = others[int(rng.integers(0, len(others)))]
                parts.append(pick(rng, PHRASES[extra][lang][0 if m == "pos" else 1]))
        mood = moods[0] if len(moods) == 1 else "mix"
        out.append(nfc(pick(rng, _OPENERS[lang][mood]) + _JOIN[lang].join(parts)))
    return out
