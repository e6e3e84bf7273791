"""The one label catalog (server/labels.json): every code the system can
store or show has a label in every language, and a value reads the same
everywhere."""

from __future__ import annotations

import pytest

from server import entities, labels
from server.rules import flags, planning
from server.rules.escalation import REASON_BROKEN_PROMISES
from server.rules.jurisdictions import ATTEMPT_COUNTING

CODES = {
    "visit_status": entities.VISIT_STATUSES,
    "result": entities.VISIT_RESULTS,
    "met": entities.MET_VALUES,
    "reason": entities.DELINQUENCY_REASONS,
    "method": entities.PAYMENT_METHODS,
    "account_status": entities.ACCOUNT_STATUSES,
    "promise_status": entities.PROMISE_STATUSES,
    "payment_status": entities.PAYMENT_STATUSES,
    "bucket": ("current", "1-30", "31-60", "61-90", "91-180", "181-360", "361-720", "721+"),
    "flag": (*flags.VISIT_FLAGS, flags.REDIRECT_LOOP, "device_clock_off", "inside_do_not_visit"),
    "warning": (planning.NO_POSITION, planning.OUTSIDE_PREFERRED_WINDOW,
                planning.OUTSIDE_CONTACT_HOURS, planning.ATTEMPT_LIMIT,
                planning.SAME_SLOT_REPEAT, planning.TIGHT_SCHEDULE, "do_not_visit"),
    "escalation_reason": (REASON_BROKEN_PROMISES,),
    "met_relation": entities.visit.MET_RELATIONS,
    "attempts_per": ATTEMPT_COUNTING,
}


@pytest.mark.parametrize("group", sorted(CODES))
def test_every_code_has_a_label_in_every_language(group):
    for code in CODES[group]:
        entry = labels.groups()[group].get(code)
        assert entry, f"{group}.{code} has no label in server/labels.json"
        for lang in labels.LANGUAGES:
            text = entry.get(lang, "")
            assert text.strip() and text != code, f"{group}.{code} [{lang}]"
            assert "_" not in text, f"{group}.{code} [{lang}] reads like a code: {text!r}"


def test_a_code_in_two_groups_reads_the_same():
    # outside_contact_hours is both a plan warning and a visit flag.
    warnings, visit_flags = labels.groups()["warning"], labels.groups()["flag"]
    for code in set(warnings) & set(visit_flags):
        assert warnings[code] == visit_flags[code], code


def test_guidance_titles_are_the_reason_labels():
    from server.rules.guidance import guidance_document

    doc = guidance_document()
    for reason, texts in doc["reasons"].items():
        for lang in doc["languages"]:
            assert texts[lang]["title"] == labels.label("reason", reason, lang)


def test_the_phone_module_carries_the_same_catalog():
    import json

    text = labels.js_module().decode()
    body = text.split("export default ", 1)[1].rstrip().rstrip(";")
    assert json.loads(body)["labels"] == labels.groups()
