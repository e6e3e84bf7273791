"""What a phone is told about a conflict, and later about its outcome: whose
value was kept and whose was set aside from its own point of view, the
conflict on the pulled record with the supervisor's resolution, and the
amendment trail of a done visit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.supervisor.actions import resolve_conflict

from ..helpers import now_ms


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def planned_visit(world, phone, ref="A-1") -> str:
    visit_id = str(uuid.uuid4())
    start = datetime.now(UTC) + timedelta(hours=1)
    assert phone.write("visit", visit_id, {"account_id": world.accounts[ref],
                                           "scheduled_at": iso(start)})["status"] == "applied"
    return visit_id


def done_fields(**extra) -> dict:
    return {"status": "done", "arrived_at": iso(datetime.now(UTC) - timedelta(minutes=30)),
            "met": "original_contact", "result": "refused", "conduct_confirmed": True, **extra}


def office(world):
    """The office writing through the API, as in tests/browser: a
    supervisor's own device."""
    return world.phone("sup")


def record(phone, entity, record_id) -> dict:
    found = [c for c in phone.pull_all() if c["entity"] == entity and c["id"] == record_id]
    return found[-1]["data"]


def test_my_done_beats_the_offices_cancellation_and_the_result_says_so(world):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    sup = office(world)
    assert sup.write("visit", visit_id, {"status": "cancelled"}, 1)["status"] == "applied"
    # The phone had not seen the cancellation: its base is still version 1.
    result = alice.write("visit", visit_id, done_fields(), 1)
    assert result["status"] == "conflict"
    [conflict] = result["conflicts"]
    assert conflict["field"] == "status" and conflict["rule"] == "domain_precedence"
    assert (conflict["kept"], conflict["kept_by"]) == ("done", "this_device")
    assert (conflict["lost"], conflict["lost_by"]) == ("cancelled", "office")
    assert uuid.UUID(conflict["id"])


def test_my_cancellation_loses_to_my_other_devices_done(world):
    phone, tablet = world.phone("alice"), world.phone("alice")
    visit_id = planned_visit(world, phone)
    assert tablet.write("visit", visit_id, done_fields(), 1)["status"] == "applied"
    result = phone.write("visit", visit_id, {"status": "cancelled"}, 1)
    assert result["status"] == "conflict"
    [conflict] = result["conflicts"]
    assert (conflict["kept"], conflict["kept_by"]) == ("done", "my_other_device")
    assert (conflict["lost"], conflict["lost_by"]) == ("cancelled", "this_device")


def test_the_office_wins_a_later_edit_and_it_is_called_the_offices(world):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    sup = office(world)
    later = now_ms() + 60_000
    new_time = iso(datetime.now(UTC) + timedelta(hours=3))
    assert sup.write("visit", visit_id, {"scheduled_at": new_time}, 1, ms=later)["status"] == "applied"
    result = alice.write("visit", visit_id, {"scheduled_at": iso(datetime.now(UTC) + timedelta(hours=2))}, 1)
    [conflict] = result["conflicts"]
    assert (conflict["kept_by"], conflict["lost_by"]) == ("office", "this_device")
    assert datetime.fromisoformat(conflict["kept"]) == datetime.fromisoformat(new_time)


def test_the_pulled_record_carries_the_conflict_and_then_its_resolution(app, world):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    sup = office(world)
    assert sup.write("visit", visit_id, {"status": "cancelled"}, 1)["status"] == "applied"
    conflict_id = alice.write("visit", visit_id, done_fields(), 1)["conflicts"][0]["id"]

    [pulled] = record(alice, "visit", visit_id)["conflicts"]
    assert pulled["id"] == conflict_id
    assert (pulled["kept_by"], pulled["kept_device"]) == ("me", alice.client_id)
    assert (pulled["lost_by"], pulled["lost_device"]) == ("office", None)
    assert pulled["resolution"] is None and pulled["resolved_at"] is None

    with app.app_context():
        resolve_conflict(db.session, conflict_id, "kept", world.users["sup"], app.config["RULES"],
                         "The visit did happen: the customer signed")
    after = record(alice, "visit", visit_id)
    [resolved] = after["conflicts"]
    assert resolved["resolution"] == "kept" and resolved["resolved_at"]
    assert after["status"] == "done"
    # Keeping the winner corrected nothing: it is no amendment.
    assert "amendments" not in after


def test_a_visit_without_conflicts_carries_none(world):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    assert "conflicts" not in record(alice, "visit", visit_id)


def test_the_amendment_trail_names_old_and_new_values_who_when_and_why(world):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    assert alice.write("visit", visit_id, done_fields(notes="Owner out"), 1)["status"] == "applied"
    assert "amendments" not in record(alice, "visit", visit_id)
    result = alice.write("visit", visit_id, {
        "result": "dispute", "notes": "Owner disputes the invoice",
        "amendment_reason": "Wrong result picked on site"}, 2)
    assert result["status"] == "applied", result
    sup = office(world)
    assert sup.write("visit", visit_id, {"waited_minutes": 20,
                                         "amendment_reason": "Per the collector's call log"},
                     3)["status"] == "applied"

    trail = record(alice, "visit", visit_id)["amendments"]
    assert [a["version"] for a in trail] == [3, 4]
    first, second = trail
    assert first["reason"] == "Wrong result picked on site"
    assert first["by"] == {"name": "Alice", "role": "collector"}
    assert {c["field"]: (c["old"], c["new"]) for c in first["changes"]} == {
        "result": ("refused", "dispute"), "notes": ("Owner out", "Owner disputes the invoice")}
    assert second["by"] == {"name": "Sup", "role": "supervisor"}
    assert second["changes"] == [{"field": "waited_minutes", "old": None, "new": 20}]
    assert datetime.fromisoformat(second["at"]) >= datetime.fromisoformat(first["at"])
