"""The guidance document served to the phone."""

import json
from pathlib import Path

import pytest

from server.rules.guidance import CONDUCT_RULE_IDS, guidance_document

SEED = Path("/work/shared/seed/000_fa95c650598bff31.txt")
REASONS = {"forgot", "product_dispute", "cash_flow", "hardship", "unwilling", "unknown"}
REQUIRED_SITUATIONS = {"other_guests_present", "redirected", "future_orders_offered",
                       "threat_to_stop_paying_unless_supplied", "arrive_early",
                       "preferred_times"}
REQUIRED_RULES = {"no_impersonation", "no_threats_or_exaggeration", "no_disclosure",
                  "no_unauthorised_letters", "no_repayment_certificates",
                  "no_unapproved_promises", "no_gifts_or_demands", "no_insults_or_violence",
                  "no_illegal_funding", "no_false_records"}


def all_texts(doc):
    for group in ("reasons", "situations"):
        for entry in doc[group].values():
            for lang in doc["languages"]:
                yield lang, entry[lang]["title"]
                yield lang, entry[lang]["approach"]
    for rule in doc["conduct_rules"]:
        for lang in doc["languages"]:
            yield lang, rule[lang]


def test_document_shape():
    doc = guidance_document()
    assert isinstance(doc["version"], int) and doc["version"] >= 1
    assert doc["languages"] == ["en", "zh-TW"]
    assert set(doc["reasons"]) == REASONS
    assert REQUIRED_SITUATIONS <= set(doc["situations"])
    assert {rule["id"] for rule in doc["conduct_rules"]} == REQUIRED_RULES
    assert list(CONDUCT_RULE_IDS) == [rule["id"] for rule in doc["conduct_rules"]]
    for group in ("reasons", "situations"):
        for entry in doc[group].values():
            assert set(entry) == {"en", "zh-TW"}
            for lang in entry.values():
                assert set(lang) == {"title", "approach"}
    assert all(text.strip() for _, text in all_texts(doc))
    json.dumps(doc, ensure_ascii=False)


def test_chinese_texts_are_chinese():
    doc = guidance_document()
    for lang, text in all_texts(doc):
        has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
        assert has_cjk is (lang == "zh-TW"), text


def test_each_call_returns_a_fresh_copy():
    doc = guidance_document()
    doc["reasons"]["forgot"]["en"]["title"] = "changed"
    doc["conduct_rules"].clear()
    again = guidance_document()
    assert again["reasons"]["forgot"]["en"]["title"] != "changed"
    assert len(again["conduct_rules"]) == 10


@pytest.mark.skipif(not SEED.exists(), reason="seed article not available")
def test_texts_are_not_copied_from_the_seed_article():
    # No run of 8 characters of our Chinese text may appear in the seed.
    seed = SEED.read_text(encoding="utf-8")
    for lang, text in all_texts(guidance_document()):
        if lang != "zh-TW":
            continue
        for i in range(len(text) - 7):
            assert text[i:i + 8] not in seed, text[i:i + 8]
