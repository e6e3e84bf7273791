"""English and Traditional Chinese for the supervisor pages.

The English text is the key; ``catalog_zh.ZH`` holds its Traditional
Chinese. A plain dictionary needs no compile step, and a test checks that
every string the pages use has its translation. The language comes from a
cookie set by the switch in the page header, else from Accept-Language."""

from __future__ import annotations

from flask import g, request

from .catalog_zh import ZH

LANGUAGES = ("en", "zh-Hant")
LANGUAGE_NAMES = {"en": "English", "zh-Hant": "繁體中文"}
COOKIE = "fv_lang"
HTML_LANG = {"en": "en", "zh-Hant": "zh-Hant"}


def normalise(code: str | None) -> str | None:
    """Map a language tag to one we have: any Chinese to Traditional
    Chinese (the only Chinese we write), any English to English."""
    if not code:
        return None
    code = code.strip().lower()
    if code.startswith("zh"):
        return "zh-Hant"
    if code.startswith("en"):
        return "en"
    return None


def pick_language() -> str:
    chosen = normalise(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        found = normalise(tag)
        if found:
            return found
    return "en"


def current_language() -> str:
    lang = g.get("fv_lang")
    if lang is None:
        lang = g.fv_lang = pick_language()
    return lang


def translate(text: str, lang: str | None = None, **values) -> str:
    lang = lang or current_language()
    if lang == "zh-Hant":
        text = ZH.get(text, text)
    return text.format(**values) if values else text


# Labels of stored codes (statuses, results, flags...). The English label is
# itself translated through ``ZH``.
LABELS: dict[str, dict[str, str]] = {
    "visit_status": {"planned": "Planned", "done": "Done", "missed": "Missed",
                     "cancelled": "Cancelled"},
    "result": {
        "paid_full": "Paid in full", "paid_partial": "Paid in part",
        "promise_to_pay": "Promise to pay", "refused": "Refused", "dispute": "Dispute",
        "not_present": "Not present", "premises_closed": "Premises closed",
        "rescheduled": "Rescheduled", "other": "Other",
    },
    "met": {"original_contact": "Original contact", "other_person": "Someone else",
            "nobody": "Nobody"},
    "flag": {
        "outside_contact_hours": "Outside contact hours",
        "far_from_site": "Far from site",
        "arrived_late": "Arrived late",
        "not_original_contact": "Not the original contact",
        "attempt_limit_exceeded": "Attempt limit exceeded",
        "same_slot_repeat": "Same time of day again",
        "redirect_loop": "Redirected again and again",
    },
    "account_status": {
        "active": "Active", "promised": "Promised", "settled": "Settled",
        "escalated_agency": "With an agency", "escalated_legal": "With lawyers",
        "closed": "Closed",
    },
    "reason": {
        "forgot": "Forgot", "product_dispute": "Product dispute", "cash_flow": "Cash flow",
        "hardship": "Hardship", "unwilling": "Unwilling", "unknown": "Unknown",
    },
    "payment_status": {"recorded": "Recorded", "deposited": "Deposited",
                       "confirmed": "Confirmed", "rejected": "Rejected"},
    "method": {"cash": "Cash", "transfer": "Transfer", "cheque": "Cheque", "other": "Other"},
    "promise_status": {"pending": "Pending", "kept": "Kept", "broken": "Broken",
                       "cancelled": "Cancelled"},
    "entity": {"account": "Account", "visit": "Visit", "payment": "Payment",
               "promise": "Promise"},
    "escalation": {"agency": "Collection agency", "legal": "Legal action"},
    "escalation_reason": {
        "broken_promises": "Broken promises", "visits_without_payment": "Visits without payment",
        "days_past_due": "Days past due",
    },
    "rule": {"last_writer_wins_hlc": "The later clock won",
             "domain_precedence": "A done visit wins"},
    "resolution": {"kept": "Kept the value", "restored": "Restored the other value"},
    "resolution_offer": {"kept": "keeping the value that won",
                         "restored": "restoring the value that lost"},
    "bucket": {"current": "Current", "1-30": "1–30 days", "31-60": "31–60 days",
               "61-90": "61–90 days", "91-180": "91–180 days", "181-360": "181–360 days",
               "361-720": "361–720 days", "721+": "721+ days"},
    "role": {"collector": "Collector", "supervisor": "Supervisor"},
}


def label(kind: str, value, lang: str | None = None) -> str:
    if value is None or value == "":
        return ""
    english = LABELS.get(kind, {}).get(str(value))
    if english is None:
        return str(value)
    return translate(english, lang)


def all_label_texts() -> set[str]:
    return {text for table in LABELS.values() for text in table.values()}
