"""A check-in keeps the age of its position fix beside the accuracy; a
check-in redone before the visit is recorded keeps the earlier one in the
history; once the visit is done, changing either is an amendment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import HistoryEntry


def new_visit(world, phone) -> str:
    visit_id = str(uuid.uuid4())
    assert phone.write("visit", visit_id, {"account_id": world.accounts["A-1"]})["status"] == "applied"
    return visit_id


def check_in(lat, age, accuracy=10.0) -> dict:
    return {"arrived_at": datetime.now(UTC).isoformat(), "checkin_lat": lat, "checkin_lon": 121.51,
            "checkin_accuracy_m": accuracy, "checkin_fix_age_s": age}


@pytest.mark.parametrize(("age", "ok"), [
    (0, True), (86400, True), (None, True),
    (-1, False), (86401, False), (1.5, False), ("3", False), (True, False),
])
def test_the_age_of_the_fix_is_whole_seconds_up_to_a_day(world, age, ok):
    alice = world.phone("alice")
    visit_id = new_visit(world, alice)
    result = alice.write("visit", visit_id, check_in(25.04, age), 1)
    assert (result["status"] == "applied") is ok, result
    if not ok:
        assert list(result["errors"]) == ["checkin_fix_age_s"]


def test_a_redone_check_in_keeps_the_earlier_in_the_history_and_the_pull(app, world):
    alice = world.phone("alice")
    visit_id = new_visit(world, alice)
    alice.write("visit", visit_id, check_in(25.10, 45, accuracy=800.0), 1)
    assert alice.write("visit", visit_id, {"checkin_lat": 25.0401, "checkin_lon": 121.5101,
                                           "checkin_accuracy_m": 8.0, "checkin_fix_age_s": 2},
                       2)["status"] == "applied"
    pulled = [c for c in alice.pull_all() if c["id"] == visit_id][-1]["data"]
    assert (pulled["checkin_lat"], pulled["checkin_accuracy_m"], pulled["checkin_fix_age_s"]) == \
        (25.0401, 8.0, 2)
    assert "far_from_site" not in pulled["flags"]
    with app.app_context():
        rows = db.session.scalars(select(HistoryEntry).where(HistoryEntry.record_id == visit_id)
                                  .order_by(HistoryEntry.id)).all()
        assert [r.changes.get("checkin_fix_age_s") for r in rows] == [None, 45, 2]
        assert "far_from_site" in rows[1].changes["flags"]


def test_after_done_the_fix_is_evidence_and_changing_it_needs_a_reason(world):
    alice = world.phone("alice")
    visit_id = new_visit(world, alice)
    arrived = datetime.now(UTC) - timedelta(minutes=20)
    alice.write("visit", visit_id, {**check_in(25.04, 3), "arrived_at": arrived.isoformat(),
                                    "status": "done", "met": "original_contact",
                                    "result": "refused", "conduct_confirmed": True}, 1)
    refused = alice.write("visit", visit_id, {"checkin_fix_age_s": 0}, 2)
    assert refused["status"] == "rejected" and "amendment_reason" in refused["errors"]
    assert alice.write("visit", visit_id, {"checkin_fix_age_s": 0,
                                           "amendment_reason": "clock of the phone was reset"},
                       2)["status"] == "applied"
