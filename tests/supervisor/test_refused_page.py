"""The refused-changes page in words: names for ids, labels for codes,
local times, and the server's reasons in English and Traditional Chinese,
from the message keys stored with each refusal (or, for a refusal stored
before keys existed, from its English text)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from server.extensions import db
from server.models import RejectedMutation
from tests.helpers import now_ms

from .conftest import new_id, taipei

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
# Codes the refusals below carry, which the page must show as words.
CODES = ("account_id", "result", "settled", "paid_full", "promise_to_pay", "not_present",
         "_schema", "hlc", "ROLE_MAY_NOT_WRITE", "NOT_IN_SCOPE", "CLOCK_AHEAD")


@pytest.fixture
def refusals(world, app):
    alice = world.phone("alice")
    bob_account = world.accounts["A-4"]
    assert alice.write("visit", new_id(), {"account_id": bob_account})["status"] == "rejected"
    assert alice.write("account", world.accounts["A-1"], {"status": "settled"},
                       base_version=1)["status"] == "rejected"
    assert alice.write("visit", new_id(), {"account_id": world.accounts["A-1"],
                                           "result": "nonsense",
                                           "scheduled_at": taipei(0, 9).isoformat()}
                       )["status"] == "rejected"
    ahead = now_ms() + 3 * 24 * 3600 * 1000  # a phone whose date is days ahead
    assert alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]},
                       ms=ahead)["status"] == "rejected"
    with app.app_context():
        stored = db.session.scalars(select(RejectedMutation)).all()
        assert len(stored) == 4 and all(r.reasons for r in stored)
        keys = {reason["key"] for r in stored for rs in r.reasons.values() for reason in rs}
        assert {"NOT_IN_SCOPE", "ROLE_MAY_NOT_WRITE", "MARSHMALLOW_MUST_BE_ONE_OF_CHOICES"} <= keys
        # Parameters, not prose: the role is a code in the stored key.
        role = next(reason for r in stored for rs in r.reasons.values() for reason in rs
                    if reason["key"] == "ROLE_MAY_NOT_WRITE")
        assert role["params"] == {"role": "collector"}
    return world


def _table_text(page) -> str:
    return page.html.select_one("table.rejected").get_text(" ", strip=True)


def _no_ids_or_codes(text: str, world) -> None:
    assert not UUID.search(text), text
    for value in (*world.users.values(), *world.accounts.values()):
        assert value not in text
    for code in CODES:
        assert not re.search(rf"(?<![\w]){re.escape(code)}(?![\w])", text), (code, text)


def test_refused_changes_in_english_words(refusals, sup):
    text = _table_text(sup.get("/supervisor/rejected", headers={"Accept-Language": "en"}))
    _no_ids_or_codes(text, refusals)
    assert "No account with this id is assigned to you." in text
    assert "Account A-4 · Shop 4" in text  # the account the visit named, by its name
    assert "Visit on A-4 · Shop 4" in text and "New record" in text
    assert "Account on A-1 · Shop 1" in text and "Change to version 1" in text
    assert "Status Settled" in text and "A collector may not write this field." in text
    # The allowed results by their labels, not their codes.
    assert "Must be one of: Paid in full, Paid in part, Promised to pay" in text
    assert "Alice" in text and "device 1, change 1" in text
    assert taipei(0, 9).strftime("%Y-%m-%d 09:00") in text  # the sent time, local
    assert "The phone's clock More than 24 hours ahead of the server's clock" in text


def test_refused_changes_in_traditional_chinese(refusals, sup):
    sup.set_cookie("fv_lang", "zh-Hant")
    text = _table_text(sup.get("/supervisor/rejected"))
    _no_ids_or_codes(text, refusals)
    assert "沒有指派給您的此識別碼帳戶。" in text
    assert "A-1 · Shop 1 的帳戶" in text and "修改第 1 版" in text
    assert "已結清" in text  # settled
    assert "催收員" in text and "may not write" not in text
    assert "全額付清" in text  # paid_full among the allowed values
    assert "第 1 台裝置" in text
    assert "手機的時鐘" in text


def test_a_refusal_stored_before_keys_reads_from_its_text(refusals, sup, app):
    with app.app_context():
        db.session.execute(update(RejectedMutation).values(reasons=None))
        db.session.commit()
    sup.set_cookie("fv_lang", "zh-Hant")
    text = _table_text(sup.get("/supervisor/rejected"))
    _no_ids_or_codes(text, refusals)
    assert "催收員" in text and "全額付清" in text and "may not write" not in text
