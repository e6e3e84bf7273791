"""What the phone shows a collector before and during a visit, in two languages.

Written for this product in our own words, drawing on the field knowledge
summarised in DESIGN.md (the seed article's tips and prohibitions); nothing
here is copied from the article.  ``guidance_document()`` is served as JSON;
bump ``GUIDANCE_VERSION`` whenever a text changes so phones refresh it.
"""

from __future__ import annotations

import copy
from typing import Any

from ..labels import label

GUIDANCE_VERSION = 1
LANGUAGES = ("en", "zh-TW")

# One approach per delinquency reason (seed tip 11: know why before you go).
# Titles are the reasons' labels from the one catalog (``server/labels.py``),
# so the guidance, the phone's forms and the supervisor pages name a reason alike.
_REASONS: dict[str, dict[str, dict[str, str]]] = {
    "forgot": {
        "en": {
            "approach": "Keep it friendly and short: name the amount and the date it fell due, "
            "ask for payment today, and agree how they will be reminded of the next "
            "instalment. Confirm how they will pay before you leave.",
        },
        "zh-TW": {
            "approach": "語氣友善、簡短：說明應付金額與到期日，請對方今天付款，並約定下一期的"
            "提醒方式。離開前確認對方的付款方式。",
        },
    },
    "product_dispute": {
        "en": {
            "approach": "Listen first and write down the exact complaint, with dates and any "
            "documents. Keep the complaint apart from the debt: offer to pass it to the team "
            "responsible, and ask for the undisputed part to be paid now. Do not offer a "
            "discount or credit the company has not approved.",
        },
        "zh-TW": {
            "approach": "先聆聽，把具體的不滿內容、日期與相關文件記下來。把爭議和欠款分開處理："
            "表示會轉交負責單位，同時請對方先付清沒有爭議的部分。不要提出公司未核准的折扣或退款。",
        },
    },
    "cash_flow": {
        "en": {
            "approach": "Ask when money comes in (customer receipts, pay days) and propose a "
            "concrete instalment plan tied to those dates, starting with a payment today, "
            "however small. Record it as a promise with an amount and a date.",
        },
        "zh-TW": {
            "approach": "詢問對方何時有款項進帳（客戶回款、發薪日），依這些日期提出具體的分期方案，"
            "並請對方今天先付一筆，金額小也無妨。把方案登記為還款承諾，寫明金額與日期。",
        },
    },
    "hardship": {
        "en": {
            "approach": "Be respectful and patient, and acknowledge what happened. Gather the "
            "facts (what, since when, what income remains) and any proof. Offer only options "
            "the company has approved and pass the case to your supervisor to decide.",
        },
        "zh-TW": {
            "approach": "態度尊重、有耐心，先表示理解。了解事實：發生什麼事、從何時開始、目前還有"
            "哪些收入，並取得相關證明。只提出公司已核准的方案，並把個案交由主管決定。",
        },
    },
    "unwilling": {
        "en": {
            "approach": "Stay calm and firm. State the amount, the due date and what the company "
            "will do next if it stays unpaid (an agency or the courts) as plain facts, not "
            "threats. Ask for payment today; if they say they will fetch the money, go with "
            "them. Accept no vague promise: get an amount and a date, and record it.",
        },
        "zh-TW": {
            "approach": "保持冷靜、立場堅定。說明金額、到期日，以及持續未付時公司的後續步驟"
            "（委外催收或法律程序）——這是陳述事實，不是威脅。請對方今天付款；若對方說要去拿錢，"
            "就陪同前往。不接受含糊的承諾：問清金額與日期並登記。",
        },
    },
    "unknown": {
        "en": {
            "approach": "Find out first: ask open questions about why the payment was missed and "
            "listen. Record the reason on the visit so the next visit can use the right "
            "approach.",
        },
        "zh-TW": {
            "approach": "先弄清楚原因：用開放式問題詢問為何沒有按時付款，並仔細聆聽。把原因記在這次"
            "拜訪紀錄中，下次拜訪才能採用合適的做法。",
        },
    },
}

# What to do in situations met on site (seed tips 3, 4, 5, 7, 9, 12, 14, 16).
_SITUATIONS: dict[str, dict[str, dict[str, str]]] = {
    "arrive_early": {
        "en": {
            "title": "Arrive before the appointment",
            "approach": "Leave by the time your plan shows so you are there a little early. "
            "Then nobody can claim they waited for you in vain, and the money has less chance "
            "to be spent on something else first.",
        },
        "zh-TW": {
            "title": "比約定時間早到",
            "approach": "依計畫上的出發時間動身，提早一點抵達。這樣對方無法推說等不到人，款項也比較"
            "不會先被挪作他用。",
        },
    },
    "preferred_times": {
        "en": {
            "title": "Best times to visit",
            "approach": "Aim for mid-morning (about 09:30–11:30) or early afternoon (14:00–16:00), "
            "when people are at their desks. Late in the day \"the books are closed\" becomes an "
            "easy excuse. Do not come at the same time of day twice in a row.",
        },
        "zh-TW": {
            "title": "合適的拜訪時段",
            "approach": "盡量安排在上午約九點半到十一點半，或下午兩點到四點，這時對方多半在辦公室。"
            "太晚去，對方容易以「今天已經結帳」推託。也不要連續兩次在同一時段登門。",
        },
    },
    "other_guests_present": {
        "en": {
            "title": "Other visitors are there",
            "approach": "Tell the customer quietly that you have come about the account and will "
            "wait, then wait nearby instead of leaving. Do not discuss the debt in front of the "
            "visitors. Record how many minutes you waited.",
        },
        "zh-TW": {
            "title": "對方有其他訪客",
            "approach": "低調地告訴對方你是為帳款而來，會在一旁等候，不要就此離開。不要在訪客面前"
            "談論欠款內容。記錄等候了幾分鐘。",
        },
    },
    "redirected": {
        "en": {
            "title": "Sent on to someone else",
            "approach": "Politely decline to be passed along. Ask by name for the person who took "
            "out the loan; if they are out, fix a time to meet them. Record whom you were sent "
            "to: two redirects in a row go to your supervisor.",
        },
        "zh-TW": {
            "title": "被推給其他人處理",
            "approach": "客氣但堅定地拒絕被轉來轉去。指名找當初辦理借款的人；本人不在時，就約定與"
            "本人見面的時間。記錄對方把你轉給了誰：連續兩次被轉介會通報主管。",
        },
    },
    "future_orders_offered": {
        "en": {
            "title": "Offers future sales instead of payment",
            "approach": "Thank them, but explain that expected orders or sales are not a payment. "
            "Bring the talk back to what can be paid today and a firm date for the rest.",
        },
        "zh-TW": {
            "title": "拿未來的訂單或營收當理由",
            "approach": "表示感謝，但說明預期的訂單或銷售額並不等於付款。把話題拉回今天能付多少，"
            "以及其餘款項的確定日期。",
        },
    },
    "threat_to_stop_paying_unless_supplied": {
        "en": {
            "title": "\"No new deliveries, no payment\"",
            "approach": "Do not give in: supplying an unpaid account only makes the debt larger. "
            "Say calmly that deliveries resume once the account is brought up to date, and "
            "report it at once so the company can decide firmly whether to stop supplies.",
        },
        "zh-TW": {
            "title": "「不出貨就不付款」",
            "approach": "不要讓步：對欠款帳戶繼續出貨只會讓欠款變大。冷靜說明帳款補上之後才會恢復"
            "出貨，並立即回報，讓公司果斷決定是否停止供貨。",
        },
    },
    "goes_to_fetch_money": {
        "en": {
            "title": "Says they will go and get the money",
            "approach": "Offer to go along (to the bank or cash machine) or to wait on site. If "
            "the reasons for delay keep changing, record the account as unwilling rather than "
            "unable to pay.",
        },
        "zh-TW": {
            "title": "說要去拿錢",
            "approach": "提議陪同前往（銀行或提款機），或在現場等候。若拖延的理由一變再變，"
            "把帳戶記為「不願還款」，而不是「無力還款」。",
        },
    },
    "hostile_reception": {
        "en": {
            "title": "Met with anger or refused entry",
            "approach": "Keep calm and do not argue; never touch anyone. A broken relationship "
            "makes payment less likely. If you feel unsafe, leave and report to your supervisor.",
        },
        "zh-TW": {
            "title": "遭到冷淡、怒氣或拒於門外",
            "approach": "保持冷靜，不爭吵，也絕不與人發生肢體接觸；關係一旦破裂，收回款項只會更難。"
            "若感到不安全，先離開並回報主管。",
        },
    },
}

# What a collector confirms before a visit can be marked done (prohibitions 1–10).
_CONDUCT_RULES: tuple[dict[str, str], ...] = (
    {
        "id": "no_impersonation",
        "en": "I did not present myself as police, a court, a bank or any other authority.",
        "zh-TW": "我沒有假冒警察、法院、銀行或其他機關的身分。",
    },
    {
        "id": "no_threats_or_exaggeration",
        "en": "I did not threaten, intimidate, exaggerate the consequences or try to shame "
        "the debtor in public.",
        "zh-TW": "我沒有威脅、恐嚇或誇大後果，也沒有試圖公開羞辱對方。",
    },
    {
        "id": "no_disclosure",
        "en": "I did not reveal the debt or the debtor's personal information to anyone else.",
        "zh-TW": "我沒有向任何第三人透露這筆欠款或債務人的個人資料。",
    },
    {
        "id": "no_unauthorised_letters",
        "en": "I did not hand over or send any lawyer's letter or collection letter that the "
        "company did not issue.",
        "zh-TW": "我沒有交付或寄送任何非公司正式發出的律師函或催收函。",
    },
    {
        "id": "no_repayment_certificates",
        "en": "I did not issue any repayment certificate, settlement receipt or similar document.",
        "zh-TW": "我沒有開立任何還款證明、結清收據或類似文件。",
    },
    {
        "id": "no_unapproved_promises",
        "en": "I promised nothing the company has not approved (discounts, waivers, extensions).",
        "zh-TW": "我沒有做出公司未核准的承諾（例如折扣、減免或延期）。",
    },
    {
        "id": "no_gifts_or_demands",
        "en": "I accepted no gift or money for myself and asked for no property or favours.",
        "zh-TW": "我沒有收受任何禮金或財物，也沒有向對方索取財物或好處。",
    },
    {
        "id": "no_insults_or_violence",
        "en": "I did not insult or mock anyone and used no physical force.",
        "zh-TW": "我沒有辱罵或嘲諷任何人，也沒有任何肢體暴力。",
    },
    {
        "id": "no_illegal_funding",
        "en": "I did not suggest raising the money through illegal lenders or any other "
        "unlawful source.",
        "zh-TW": "我沒有建議對方透過地下錢莊或其他非法管道籌錢還款。",
    },
    {
        "id": "no_false_records",
        "en": "Everything I recorded for this visit is true; I recorded no payment that was not "
        "made.",
        "zh-TW": "這次拜訪的紀錄全部屬實；我沒有登記任何未實際收到的款項。",
    },
)

DELINQUENCY_REASONS: tuple[str, ...] = tuple(_REASONS)
SITUATIONS: tuple[str, ...] = tuple(_SITUATIONS)
CONDUCT_RULE_IDS: tuple[str, ...] = tuple(rule["id"] for rule in _CONDUCT_RULES)


def guidance_document() -> dict[str, Any]:
    """The whole guidance as one JSON-ready dict (a fresh copy each call)."""
    reasons = {
        reason: {lang: {"title": label("reason", reason, lang), **texts[lang]} for lang in LANGUAGES}
        for reason, texts in _REASONS.items()
    }
    return copy.deepcopy(
        {
            "version": GUIDANCE_VERSION,
            "languages": list(LANGUAGES),
            "reasons": reasons,
            "situations": _SITUATIONS,
            "conduct_rules": list(_CONDUCT_RULES),
        }
    )
