"""Done visits and amendments (docs/protocol.md 1.1), and records outside one's
scope answered exactly like unknown ones, through push."""

import uuid

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import HistoryEntry, Visit


def new_id():
    return str(uuid.uuid4())


DONE = {"status": "done", "arrived_at": "2026-11-30T09:50:00+08:00", "met": "original_contact",
        "result": "refused", "conduct_confirmed": True}


@pytest.fixture
def done_visit(world):
    alice = world.phone("alice")
    visit = new_id()
    assert alice.write("visit", visit, {"account_id": world.accounts["A-1"],
                                        "scheduled_at": "2026-11-30T10:00:00+08:00",
                                        **DONE})["status"] == "applied"
    return alice, visit


@pytest.mark.parametrize("fields", [
    {"scheduled_at": "2026-11-30T09:00:00+08:00"},  # would hide "arrived late"
    {"collector_id": None},
    {"notes": "paid next week"},
    {"checkin_lat": 25.1, "checkin_lon": 121.6},
])
def test_every_field_of_a_done_visit_but_plan_notes_is_an_amendment(done_visit, fields):
    alice, visit = done_visit
    result = alice.write("visit", visit, fields, 1)
    assert result["status"] == "rejected"
    assert any("amendment" in e for e in result["errors"]["amendment_reason"]), result


def test_plan_notes_of_a_done_visit_change_without_a_reason(done_visit):
    alice, visit = done_visit
    assert alice.write("visit", visit, {"plan_notes": "next time: after 14:00"}, 1)["status"] == "applied"


@pytest.mark.parametrize("reason", ["", "   ", "ab", "\u200b\u200b\u200bok", "...!!!", "\u3000a\u3000b\u3000"])
def test_a_reason_needs_three_visible_letters_or_digits(done_visit, reason):
    alice, visit = done_visit
    result = alice.write("visit", visit, {"notes": "x", "amendment_reason": reason}, 1)
    assert result["status"] == "rejected" and "amendment_reason" in result["errors"]


@pytest.mark.parametrize("reason", ["typo", "寫錯了", "OK1", " fix  "])
def test_a_reason_with_three_letters_or_digits_in_any_script_counts(app, done_visit, reason):
    alice, visit = done_visit
    result = alice.write("visit", visit, {"notes": "x", "amendment_reason": reason}, 1)
    assert result["status"] == "applied", result
    with app.app_context():
        last = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visit)
                                 .order_by(HistoryEntry.id.desc()))
        assert last.reason == reason


def test_a_reason_can_be_replaced_never_cleared(app, done_visit):
    alice, visit = done_visit
    assert alice.write("visit", visit, {"notes": "x", "amendment_reason": "first reason"},
                       1)["status"] == "applied"
    assert alice.write("visit", visit, {"amendment_reason": "a better reason"}, 2)["status"] == "applied"
    for cleared in (None, ""):
        result = alice.write("visit", visit, {"amendment_reason": cleared}, 3)
        assert result["status"] == "rejected" and "amendment_reason" in result["errors"]
    with app.app_context():
        assert db.session.get(Visit, visit).amendment_reason == "a better reason"


def test_a_visits_collector_can_change_but_never_be_removed(world):
    sup = world.phone("sup")
    visit = new_id()
    assert sup.write("visit", visit, {"account_id": world.accounts["A-1"]})["status"] == "applied"
    result = sup.write("visit", visit, {"collector_id": None}, 1)
    assert result["status"] == "rejected" and "collector_id" in result["errors"]
    assert sup.write("visit", visit, {"collector_id": world.users["bob"]}, 1)["status"] == "applied"


def test_done_stays_done_even_with_a_reason(done_visit):
    alice, visit = done_visit
    result = alice.write("visit", visit, {"status": "cancelled", "amendment_reason": "wrong visit"}, 1)
    assert result["status"] == "rejected" and "status" in result["errors"]


# -- scope: an existing record of someone else's answers as an unknown one ----


def _without_ids(result):
    return {k: v for k, v in result.items() if k not in ("id", "seq")}


def test_an_update_to_another_collectors_record_reads_like_one_to_an_unknown_id(world):
    bob, alice = world.phone("bob"), world.phone("alice")
    bobs_visit = new_id()
    assert bob.write("visit", bobs_visit, {"account_id": world.accounts["A-4"]})["status"] == "applied"
    theirs = alice.write("visit", bobs_visit, {"notes": "peek"}, base_version=1)
    unknown = alice.write("visit", new_id(), {"notes": "peek"}, base_version=1)
    assert _without_ids(theirs) == _without_ids(unknown)
    assert "version" not in theirs


def test_a_create_over_another_collectors_id_reads_like_one_to_an_unknown_account(world):
    bob, alice = world.phone("bob"), world.phone("alice")
    bobs_visit = new_id()
    bob.write("visit", bobs_visit, {"account_id": world.accounts["A-4"]})
    # Naming an account she cannot see: the same answer whether the id exists.
    theirs = alice.write("visit", bobs_visit, {"account_id": world.accounts["A-5"]})
    unknown = alice.write("visit", new_id(), {"account_id": world.accounts["A-5"]})
    assert _without_ids(theirs) == _without_ids(unknown)


def test_a_collector_writing_another_collectors_account_reads_like_an_unknown_account(world):
    alice = world.phone("alice")
    theirs = alice.write("account", world.accounts["A-4"], {"notes": "x"}, base_version=1)
    unknown = alice.write("account", new_id(), {"notes": "x"}, base_version=1)
    assert _without_ids(theirs) == _without_ids(unknown)
    theirs = alice.write("account", world.accounts["A-4"], {"notes": "x"})
    unknown = alice.write("account", new_id(), {"notes": "x"})
    assert _without_ids(theirs) == _without_ids(unknown)
