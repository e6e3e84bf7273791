"""What a pull carries for the rules: computed account fields, the ``rules``
block as configured, and a configured threshold changing a visit's flags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from webtest import TestApp

from server.extensions import db
from server.rules.aging import aging_bucket, days_past_due, priority
from server.rules.clock import local_date
from server.rules.config import RulesConfig

from ..conftest import make_app
from ..helpers import World, latest
from .support import done_visit

PROTOCOL_RULES = {
    "contact_hours": {"start": "08:00", "end": "21:00"},
    "preferred_windows": [["09:30", "11:30"], ["14:00", "16:00"]],
    "attempt_limit": {"max": 5, "window_days": 7},
    "geofence_m": 200, "early_margin_minutes": 15,
}
# World account A-1 is at (25.040, 121.510); 0.00108° of latitude is ~120 m.
CHECKIN_120_M_NORTH = {"checkin_lat": 25.04108, "checkin_lon": 121.510, "checkin_accuracy_m": 8}


def wire_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def test_pull_account_carries_computed_fields(app, world):
    alice = world.phone("alice")
    now = datetime.now(UTC)
    account_id = world.accounts["A-1"]
    done_visit(alice, account_id, wire_time(now - timedelta(days=8)))  # outside the 7 days
    done_visit(alice, account_id, wire_time(now - timedelta(days=1)))
    # A promise whose day is already over when it reaches the server is broken at once.
    done_visit(alice, account_id, wire_time(now - timedelta(days=3)), result="promise_to_pay",
               promise_amount=10000,
               promise_date=local_date(now - timedelta(days=2), "Asia/Taipei").isoformat())

    page = alice.pull().json
    data = latest(page["changes"], "account")[("account", account_id)]["data"]
    today = local_date(datetime.fromisoformat(page["server_time"]), "Asia/Taipei")
    days = days_past_due(date(2026, 10, 1), today)
    cfg = app.config["RULES"]
    assert data["days_past_due"] == days > 0
    assert data["aging_bucket"] == aging_bucket(days)
    assert data["broken_promises"] == 1
    assert data["priority"] == priority(5_000_000, days, 1, cfg)
    # The broken promise lifts the account above what its age alone is worth.
    assert data["priority"] > priority(5_000_000, days, 0, cfg)
    assert data["attempts_recent"] == 2
    # A-2 has no visits: nothing recent, no boost.
    other = latest(page["changes"], "account")[("account", world.accounts["A-2"])]["data"]
    assert other["attempts_recent"] == 0 and other["priority"] == priority(5_000_000, days, 0, cfg)


def test_pull_rules_block_is_the_configured_rules(app, world):
    rules = world.phone("alice").pull().json["rules"]
    assert rules == app.config["RULES"].to_wire() == RulesConfig().to_wire()
    assert {k: rules[k] for k in PROTOCOL_RULES} == PROTOCOL_RULES


def test_default_geofence_does_not_flag_120_m(world):
    alice = world.phone("alice")
    done_visit(alice, world.accounts["A-1"], "2026-11-30T10:00:00+08:00", **CHECKIN_120_M_NORTH)
    (visit,) = latest(alice.pull_all(), "visit").values()
    assert "far_from_site" not in visit["data"]["flags"]


@pytest.fixture
def app_with_50_m_geofence(monkeypatch, backend, tmp_path, request):
    monkeypatch.setenv("FIELDVISIT_RULES_GEOFENCE_M", "50")
    app = make_app(backend, tmp_path, request)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_env_geofence_override_flags_120_m_and_reaches_the_phone(app_with_50_m_geofence):
    app = app_with_50_m_geofence
    world = World.create(app, TestApp(app))
    alice = world.phone("alice")
    done_visit(alice, world.accounts["A-1"], "2026-11-30T10:00:00+08:00", **CHECKIN_120_M_NORTH)
    changes = alice.pull_all()
    (visit,) = latest(changes, "visit").values()
    assert visit["data"]["flags"] == ["far_from_site"]
    assert alice.pull(alice.cursor).json["rules"]["geofence_m"] == 50


@pytest.mark.parametrize(("arrived_at", "late"), [
    ("2026-11-30T10:09:00+08:00", False),   # nine minutes after the appointment: within the grace
    ("2026-11-30T10:11:00+08:00", True),
])
def test_arrived_late_through_a_push_uses_the_grace(world, arrived_at, late):
    alice = world.phone("alice")
    done_visit(alice, world.accounts["A-1"], arrived_at, scheduled_at="2026-11-30T10:00:00+08:00")
    (visit,) = latest(alice.pull_all(), "visit").values()
    assert ("arrived_late" in visit["data"]["flags"]) is late


@pytest.fixture
def app_with_no_late_grace(monkeypatch, backend, tmp_path, request):
    monkeypatch.setenv("FIELDVISIT_RULES_ARRIVED_LATE_GRACE_MINUTES", "0")
    app = make_app(backend, tmp_path, request)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_env_late_grace_override_flags_a_minute_late(app_with_no_late_grace):
    world = World.create(app_with_no_late_grace, TestApp(app_with_no_late_grace))
    alice = world.phone("alice")
    done_visit(alice, world.accounts["A-1"], "2026-11-30T10:01:00+08:00",
               scheduled_at="2026-11-30T10:00:00+08:00")
    changes = alice.pull_all()
    (visit,) = latest(changes, "visit").values()
    assert visit["data"]["flags"] == ["arrived_late"]
    assert alice.pull(alice.cursor).json["rules"]["arrived_late_grace_minutes"] == 0
