"""The synthetic study's other inputs: the discovery interviews, the complaint log and the lost-customer log."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from csm_helpers.synthetic.model import (
    COMPLAINT_VALID_P,
    FIELD_DAYS,
    FIELD_END,
    FIELD_START,
    N_COMPLAINT_CUSTOMERS,
    N_COMPLAINT_REPEAT_POOL,
    N_COMPLAINTS,
    N_LOST,
    REGIONS,
    nfc,
)
from csm_helpers.synthetic.survey import pick

__all__ = ["draw_interviews", "COMPLAINT_CATEGORIES", "COMPLAINT_P", "draw_complaints", "LOST_REASONS", "LOST_P", "draw_lost_customers"]


# --------------------------------------------------------------------------- discovery
# (source group, language, notes, manual codes). Fixed text: discovery does not depend on the seed.
_INTERVIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("executive", "en",
     "Interview with the retail director. She believes customers choose us for our interest rates and "
     "for the range of products, especially the new savings products for young families. The mobile app "
     "is the flagship of the digital strategy and she expects it to win market share. She thinks fees are "
     "in line with the market and are rarely a reason to leave.", ""),
    ("executive", "en",
     "Head of products. Our advantage is the product range: more account types than the regional "
     "competitors and flexible loan products. He would like the survey to ask about deposit rates and "
     "whether customers compare our interest rate with other banks. He says branch staff need more product "
     "knowledge to sell the premium accounts.", ""),
    ("employee", "en",
     "Focus group with six tellers in Hanoi. They say customers mostly ask about interest rates and which "
     "savings products to choose, and they feel they need more expertise on the new loan products. Older "
     "customers come to the counter when the mobile app asks them to log in again. On Mondays the queue "
     "reaches the door.", ""),
    ("customer", "en",
     "Small-business owner, Ho Chi Minh City. He waited almost an hour to deposit cash last month. When he "
     "rang the hotline about it, nobody called back. He adds that the tellers themselves are polite; it is "
     "the system that is slow.", ""),
    ("customer", "vi",
     "Khách hàng nữ, 45 tuổi, Cần Thơ. Chị phải xếp hàng gần một tiếng để mở sổ tiết kiệm. Thủ tục có quá "
     "nhiều giấy tờ, phải ký năm chữ ký. Chị cũng thấy phí dịch vụ SMS hơi cao so với ngân hàng khác.", ""),
    ("lost_customer", "en",
     "Former customer who moved his salary account to another bank. A card problem took three weeks to "
     "resolve and he had to tell the story again at every visit. The clerk at the desk kept chatting with "
     "a colleague while he stood there, and the manager was rude when he asked to see someone senior.",
     "responsiveness"),
    ("customer", "en",
     "Young professional who only banks online. The banking app crashed during a transfer and she could "
     "not tell whether the money had left. It took two calls to get the problem resolved. She would pay a "
     "small fee for instant transfers if the app were reliable.", ""),
    ("employee", "vi",
     "Thảo luận nhóm với nhân viên tư vấn tại Đà Nẵng. Theo họ, khách hàng coi trọng nhất là lãi suất và sự "
     "đa dạng của sản phẩm. Họ cho rằng thủ tục vay vốn còn phức tạp vì quy định của hội sở.", ""),
    ("competitor_customer", "en",
     "Customer of a competing bank. He chose them because there are no fees for transfers and their mobile "
     "app lets him open a term deposit in two minutes. Their savings rate is slightly higher. At our branch "
     "he once waited twenty minutes only to ask a question.", ""),
    ("customer", "zh",
     "退休教师，河内。她每次去网点都要排队，有时候等了一个多小时。柜员态度还可以，但是打客服电话总是没人回复。", ""),
    ("executive", "zh",
     "分行行长访谈。他认为客户最看重利率和产品种类，手机银行是未来三年的重点。他希望问卷重点了解客户对新理财产品的看法。", ""),
    ("customer", "en",
     "Retired couple, Da Nang. They value personal attention: the old relationship manager knew their "
     "names and phoned before a deposit matured. The new adviser is young and not very knowledgeable, and "
     "their emails get no reply for days.", ""),
    ("lost_customer", "vi",
     "Cựu khách hàng ở TP. Hồ Chí Minh. Anh bị tính chi phí sai nhưng khiếu nại ba lần không ai trả lời. "
     "Nhân viên thờ ơ nên anh chuyển sang ngân hàng khác.", ""),
    ("customer", "en",
     "Factory worker, Can Tho. He can only come after his shift, so he always meets a long queue. Opening "
     "a savings account needed paperwork he had to bring twice. The staff were friendly and apologised.", ""),
    ("employee", "en",
     "Branch managers' workshop. Managers rank competitive interest rates first and a wide choice of "
     "products second. They admit fees are hard to justify at the counter and that staff are courteous but "
     "stretched.", ""),
    ("customer", "en",
     "Shop owner, Hanoi. A card payment was debited twice and it took a month to resolve. She says the "
     "error itself is forgivable; what annoyed her was that the call centre never responded to her emails.",
     "accuracy;problem_resolution"),
    ("competitor_customer", "zh",
     "某外资银行客户，胡志明市。她说那家银行的手机银行从来不闪退，转账不收费。在我们的网点办事要排队很久。", ""),
    ("customer", "vi",
     "Khách hàng lớn tuổi ở Hà Nội. Bà rất hài lòng vì nhân viên thân thiện, chu đáo và luôn quan tâm hỏi "
     "thăm. Điều bà không thích là phải chờ đợi ở quầy vào đầu tháng.", ""),
    ("employee", "en",
     "Call-centre team leads. Most calls are about interest rates on new deposits and about the mobile app "
     "after each update. They can log a complaint but cannot resolve it themselves; it goes to head "
     "office.", ""),
    ("lost_customer", "en",
     "Former premium customer. After her relationship manager left, nobody cared: she waited weeks for "
     "answers about a mortgage. She said the bank was indifferent to a customer of fifteen years.",
     "personal_attention;responsiveness"),
    ("customer", "en",
     "Office worker, Ho Chi Minh City. She checks every statement because of an annual fee that was taken "
     "by mistake last year. Otherwise online banking is convenient.", ""),
    ("competitor_customer", "en",
     "Customer of a competitor bank who also holds a card with us. Her bank's branch is open on Saturday "
     "morning and she never waits more than 10 minutes. Staff there remember her and give personal "
     "service; here she feels nobody responds unless she writes twice.", ""),
    ("customer", "zh",
     "个体户，岘港。贷款申请要交很多材料，表格填了三次。后来有问题投诉，客服一直没有回复，最后也没有解决。", ""),
    ("executive", "en",
     "Chief executive. He sees the bank as the product leader in the region and wants the survey to "
     "confirm that customers value the product range and our interest rates. He believes staff are "
     "courteous and knowledgeable and that service is not a weakness.", ""),
    ("customer", "en",
     "Teacher, Hanoi. Waiting time at her branch is the main frustration, although the staff smile and are "
     "polite. A blocked debit card was sorted out quickly once she reached the right person.", ""),
    ("lost_customer", "zh",
     "前客户，芹苴。他说账户管理费太高，投诉以后员工很冷漠，问题一直没人处理，所以把钱转到别的银行了。", ""),
    ("employee", "vi",
     "Phỏng vấn giao dịch viên tại Hà Nội. Họ nói khách hỏi nhiều nhất về lãi suất và sản phẩm mới, nhân "
     "viên cần được đào tạo thêm để am hiểu sản phẩm. Cuối tháng khách phải xếp hàng lâu.", ""),
    ("customer", "vi",
     "Kỹ sư trẻ ở TP. Hồ Chí Minh. Giờ mở cửa của chi nhánh trùng giờ làm việc nên anh phải xin nghỉ để đến "
     "ngân hàng, rồi lại phải chờ đợi. Gửi email hỏi thì hai ngày sau mới có phản hồi.", ""),
    ("competitor_customer", "en",
     "Customer of a foreign bank. She moved her savings there for a better deposit rate and a mobile app "
     "that never crashes. She misses the personal attention she used to get from us.", ""),
    ("customer", "en",
     "Retired engineer, Da Nang. He disputed a service charge and the promised call back never came; the "
     "complaint was closed without a resolution.", ""),
    ("lost_customer", "en",
     "Former customer, Can Tho. Long queues every visit, a rude guard at the door, and tellers who seemed "
     "indifferent to elderly customers. She now banks with a competitor near her home.",
     "staff_courtesy;responsiveness;wait_time"),
    ("customer", "en",
     "IT specialist, Hanoi. He uses the mobile app daily and finds it fast, but once the balance shown was "
     "not accurate. Paper forms at the branch feel outdated.", ""),
    ("competitor_customer", "vi",
     "Khách hàng của ngân hàng đối thủ ở Đà Nẵng. Chị chọn họ vì mức phí thấp, không phải chờ đợi và nhân "
     "viên chăm sóc khách rất tận tình.", ""),
    ("customer", "zh",
     "大学生，河内。排队时间太长，工作人员也不太热情。在网上留言一个星期都没有回应。", ""),
    ("customer", "en",
     "Family with two children, Ho Chi Minh City. They like the range of products for children's savings "
     "but want fees explained up front. When a transfer failed, a relationship manager resolved it "
     "personally.", ""),
    ("lost_customer", "en",
     "Former business customer. Every problem meant another visit and another wait at the counter, and "
     "emails got no response. He left when a simple complaint was not resolved in a month.", ""),
)


_INTERVIEW_START = date(2025, 5, 5)


_INTERVIEW_GAPS = (2, 1, 3, 2, 4, 1, 2, 3)


def draw_interviews() -> pd.DataFrame:
    """The discovery interviews (fixed text; dates increase in the order of discovery)."""
    rows = []
    day = _INTERVIEW_START
    for i, (group, lang, text, codes) in enumerate(_INTERVIEWS):
        if i:
            day += timedelta(days=_INTERVIEW_GAPS[(i - 1) % len(_INTERVIEW_GAPS)])
        rows.append({"interview_id": f"I{i + 1:02d}", "source_group": group, "date": day.isoformat(),
                     "language": lang, "text": nfc(text), "codes": codes})
    return pd.DataFrame(rows)


COMPLAINT_CATEGORIES = ("fees", "waiting time", "app outage", "staff attitude", "transaction error",
                         "paperwork", "interest rates", "other")


COMPLAINT_P = (0.22, 0.18, 0.17, 0.15, 0.12, 0.07, 0.05, 0.04)


_COMPLAINT_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "fees": {"en": ("Charged a fee for a transfer that should be free.",
                    "Annual card fee debited without notice.",
                    "Asks for a refund of the SMS service charge."),
             "vi": ("Bị thu phí chuyển khoản không đúng.",), "zh": ("转账被多收了手续费。",)},
    "waiting time": {"en": ("Waited over an hour at the branch to withdraw savings.",
                            "Queue at the counter with only one teller open."),
                     "vi": ("Chờ đợi hơn một tiếng tại quầy.",), "zh": ("在网点排队等了一个多小时。",)},
    "app outage": {"en": ("Mobile app down on salary day, could not pay bills.",
                          "App crashed at login three times."),
                   "vi": ("Ứng dụng không đăng nhập được cả ngày.",), "zh": ("手机银行一整天无法登录。",)},
    "staff attitude": {"en": ("Teller was rude and refused to explain the form.",
                              "Staff ignored the customer for ten minutes at the desk."),
                       "vi": ("Nhân viên thái độ không lịch sự.",), "zh": ("柜员态度很差。",)},
    "transaction error": {"en": ("Card payment debited twice.",
                                 "Transfer credited to the wrong account."),
                          "vi": ("Giao dịch bị trừ tiền hai lần.",), "zh": ("同一笔交易扣了两次钱。",)},
    "paperwork": {"en": ("Asked to bring the same documents again for a loan.",
                         "Too many forms to close an account."),
                  "vi": ("Thủ tục vay quá nhiều giấy tờ.",), "zh": ("贷款要交的材料太多。",)},
    "interest rates": {"en": ("Deposit rate lowered at renewal without notice.",
                              "Promised interest rate not applied."),
                       "vi": ("Lãi suất không đúng như đã cam kết.",), "zh": ("到期续存时利率被调低，没有通知。",)},
    "other": {"en": ("ATM out of cash all weekend.", "Statement sent to an old address."),
              "vi": ("Cây ATM hết tiền cuối tuần.",), "zh": ("周末ATM没有现金。",)},
}


_TEXT_LANGS = (("en", 0.78), ("vi", 0.14), ("zh", 0.08))


def _customer_ids(rng: np.random.Generator, size: int) -> list[str]:
    numbers = rng.choice(900_000, size=size, replace=False) + 100_000
    return [f"CU{x}" for x in numbers]


def _text_lang(rng: np.random.Generator) -> str:
    return str(rng.choice(np.array([lang for lang, _ in _TEXT_LANGS]), p=[p for _, p in _TEXT_LANGS]))


def draw_complaints(rng: np.random.Generator) -> pd.DataFrame:
    """A complaint log of one year (SPEC §1.4): categories, validity, resolution time, outcome."""
    n = N_COMPLAINTS
    unique = _customer_ids(rng, N_COMPLAINT_CUSTOMERS)
    repeats = [unique[int(i)] for i in rng.integers(0, N_COMPLAINT_REPEAT_POOL, size=n - len(unique))]
    customers = unique + repeats
    customers = [customers[int(i)] for i in rng.permutation(n)]
    received_day = np.sort(rng.integers(0, FIELD_DAYS, size=n))
    rows = []
    for i in range(n):
        category = str(rng.choice(np.array(COMPLAINT_CATEGORIES), p=np.array(COMPLAINT_P)))
        region = str(rng.choice(np.array(REGIONS), p=[0.30, 0.42, 0.15, 0.13]))
        channel = "digital" if category == "app outage" or rng.random() < 0.4 else "branch"
        received = FIELD_START + timedelta(days=int(received_day[i]))
        incident = received - timedelta(days=int(rng.integers(0, 6)))
        valid = "yes" if rng.random() < COMPLAINT_VALID_P else "no"
        sla = 3 if category == "transaction error" else 7
        days = int(np.ceil(rng.gamma(2.0, 3.2 if valid == "yes" else 1.5)))
        # The log is extracted on the last day of the year: later resolutions are still open,
        # and about 1% of complaints are stuck open whenever they came in.
        resolved_on = received + timedelta(days=days)
        stuck = rng.random() < 0.01
        open_case = stuck or resolved_on > FIELD_END
        resolved = "" if open_case else resolved_on.isoformat()
        outcome = ""
        if not open_case and valid == "yes" and rng.random() < 0.85:
            probs = [0.62, 0.22, 0.16] if days <= sla else [0.28, 0.30, 0.42]
            outcome = str(rng.choice(np.array(["satisfied", "neutral", "dissatisfied"]), p=probs))
        lang = _text_lang(rng)
        rows.append({
            "date": incident.isoformat(), "customer_id": customers[i], "region": region,
            "channel": channel, "category": category, "valid": valid,
            "received": received.isoformat(), "resolved": resolved, "sla_days": sla,
            "outcome": outcome,
            "description": nfc(pick(rng, _COMPLAINT_TEXT[category][lang])),
        })
    df = pd.DataFrame(rows)
    df.insert(0, "complaint_id", [f"C{i + 1:04d}" for i in range(n)])
    return df


LOST_REASONS = ("died", "moved_away", "other_relationships", "competitor", "product_dissatisfaction",
                 "staff_indifference")


LOST_P = (0.02, 0.06, 0.07, 0.17, 0.20, 0.48)


_LOST_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "died": {"en": ("Account closed by the family after the customer passed away.",),
             "vi": ("Gia đình đóng tài khoản sau khi khách hàng qua đời.",), "zh": ("客户去世后由家属销户。",)},
    "moved_away": {"en": ("Moved to another province, no branch nearby.",),
                   "vi": ("Chuyển đến tỉnh khác, không có chi nhánh gần nhà.",), "zh": ("搬到外省，附近没有网点。",)},
    "other_relationships": {"en": ("Employer pays salaries through another bank.",
                                   "Son works at another bank and moved the accounts there."),
                            "vi": ("Con gái làm ở ngân hàng khác nên chuyển tài khoản.",),
                            "zh": ("朋友在别的银行工作，所以转过去了。",)},
    "competitor": {"en": ("Better deposit rate offered by a competitor.",
                          "Competitor app is faster and has no transfer fees."),
                   "vi": ("Ngân hàng khác cho lãi suất cao hơn.",), "zh": ("别的银行利率更高。",)},
    "product_dissatisfaction": {"en": ("Card fees too high for what you get.",
                                       "App kept failing, could not rely on it."),
                                "vi": ("Ứng dụng hay lỗi, phí dịch vụ cao.",),
                                "zh": ("手机银行经常出问题，手续费也贵。",)},
    "staff_indifference": {"en": ("Nobody at the branch cared about my problem.",
                                  "Staff ignored my calls and emails for weeks.",
                                  "Complaint not resolved, nobody called back."),
                           "vi": ("Nhân viên thờ ơ, gọi không ai trả lời.",),
                           "zh": ("员工态度冷漠，问题没人管。",)},
}


def draw_lost_customers(rng: np.random.Generator) -> pd.DataFrame:
    """Closed accounts with the main reason for leaving (SPEC §1.4, "why customers leave")."""
    n = N_LOST
    ids = _customer_ids(rng, n)
    days = np.sort(rng.integers(0, FIELD_DAYS, size=n))
    rows = []
    for i in range(n):
        reason = str(rng.choice(np.array(LOST_REASONS), p=np.array(LOST_P)))
        region = str(rng.choice(np.array(REGIONS), p=[0.28, 0.40, 0.14, 0.18]))
        comment = ""
        if rng.random() < 0.7:
            comment = nfc(pick(rng, _LOST_TEXT[reason][_text_lang(rng)]))
        rows.append({"customer_id": ids[i], "region": region,
                     "closed_date": (FIELD_START + timedelta(days=int(days[i]))).isoformat(),
                     "reason": reason, "comment": comment})
    return pd.DataFrame(rows)
