"""Account contact restrictions through the protocol (docs/protocol.md 1.1): the
do-not-visit windows and how concurrent lists merge, the jurisdiction and
its rules in flags, pulls and plans, and the relation of the other person
met — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from server.extensions import db
from server.models import Account, Conflict, RejectedMutation, Visit

from ..conftest import make_app
from ..helpers import World, latest

FUNERAL = {"from": "2026-12-10T09:00:00+08:00", "to": "2026-12-13T00:00:00+08:00",
           "reason": "Funeral in the family"}
WEDDING = {"from": "2026-12-20T00:00:00+08:00", "to": "2026-12-21T00:00:00+08:00",
           "reason": "Son's wedding"}
HOSPITAL = {"from": "2026-12-01T00:00:00+08:00", "to": "2026-12-05T00:00:00+08:00",
            "reason": "In hospital"}
DONE = {"status": "done", "met": "original_contact", "result": "refused", "conduct_confirmed": True}


def new_id():
    return str(uuid.uuid4())


def utc(window):
    """A window as the server stores and sends it."""
    return {k: (datetime.fromisoformat(v).astimezone(UTC).isoformat() if k != "reason" else v)
            for k, v in window.items()}


def stored(app, account_id):
    with app.app_context():
        return db.session.get(Account, account_id).do_not_visit


def version(app, account_id):
    with app.app_context():
        return db.session.get(Account, account_id).version


def visit_flags(app, visit_id):
    with app.app_context():
        return db.session.get(Visit, visit_id).flags


# -- windows ------------------------------------------------------------------


def test_a_collector_adds_a_window_and_every_phone_pulls_it(app, world):
    alice, account = world.phone("alice"), world.accounts["A-1"]
    result = alice.write("account", account, {"do_not_visit": [FUNERAL]}, 1)
    assert result["status"] == "applied"
    data = latest(world.phone("sup").pull_all())[("account", account)]["data"]
    assert data["do_not_visit"] == [utc(FUNERAL)]
    # Accounts without windows carry an empty list, never null.
    assert latest(alice.pull_all())[("account", world.accounts["A-2"])]["data"]["do_not_visit"] == []


def test_two_phones_adding_a_window_each_at_once_keep_both(app, world):
    """Alice's phone and her tablet, offline, each add a window to the list
    they both saw empty: the second is merged, not a conflict, not lost."""
    phone, tablet, account = world.phone("alice"), world.phone("alice"), world.accounts["A-1"]
    assert phone.write("account", account, {"do_not_visit": [FUNERAL]}, 1)["status"] == "applied"
    result = tablet.write("account", account, {"do_not_visit": [WEDDING]}, 1)
    assert result["status"] == "merged", result
    assert stored(app, account) == [utc(FUNERAL), utc(WEDDING)]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conflict)) == 0


def test_a_phone_adding_while_the_office_removes_keeps_the_removal(app, world):
    alice, office, account = world.phone("alice"), world.phone("sup"), world.accounts["A-1"]
    alice.write("account", account, {"do_not_visit": [HOSPITAL]}, 1)
    seen = version(app, account)
    # The debtor left hospital: the supervisor removes the window ...
    assert office.write("account", account, {"do_not_visit": []}, seen)["status"] == "applied"
    # ... while alice, offline, adds a wedding to the list she last saw.
    result = alice.write("account", account, {"do_not_visit": [HOSPITAL, WEDDING]}, seen)
    assert result["status"] == "merged", result
    assert stored(app, account) == [utc(WEDDING)]


def test_two_adds_from_one_phone_on_one_base_keep_the_offices_window(app, world):
    alice, office, account = world.phone("alice"), world.phone("sup"), world.accounts["A-1"]
    office.write("account", account, {"do_not_visit": [HOSPITAL]}, 1)
    # Alice's phone has not pulled the office's window; it queues two adds
    # offline, each with the whole list it knows, both on version 1.
    first = alice.mutation("account", account, {"do_not_visit": [FUNERAL]}, 1)
    second = alice.mutation("account", account, {"do_not_visit": [FUNERAL, WEDDING]}, 1)
    results = alice.push([first, second]).json["results"]
    assert [r["status"] for r in results] == ["merged", "merged"], results
    assert stored(app, account) == [utc(HOSPITAL), utc(FUNERAL), utc(WEDDING)]


def test_a_collector_cannot_remove_a_window_a_supervisor_can(app, world):
    alice, office, account = world.phone("alice"), world.phone("sup"), world.accounts["A-1"]
    alice.write("account", account, {"do_not_visit": [FUNERAL, WEDDING]}, 1)
    result = alice.write("account", account, {"do_not_visit": [WEDDING]}, 2)
    assert result["status"] == "rejected"
    assert result["errors"] == {"do_not_visit": [
        "A collector may add do-not-visit periods but not remove them; "
        "a supervisor removes a period."]}
    assert office.write("account", account, {"do_not_visit": [WEDDING]}, 2)["status"] == "applied"
    assert stored(app, account) == [utc(WEDDING)]


@pytest.mark.parametrize(("value", "error"), [
    ([{**FUNERAL, "to": FUNERAL["from"]}], "Period 1: from must be before to."),
    ([FUNERAL, {**WEDDING, "reason": "  "}], "Period 2: the reason needs at least one letter or digit."),
    ([{"from": "2026-12-10T09:00:00", "to": "2026-12-11T09:00:00+08:00", "reason": "x"}],
     "Period 1: from must be an RFC 3339 time with an offset."),
    ({"from": FUNERAL["from"]}, "Not a valid list."),
    (None, "Field may not be null."),
])
def test_a_bad_window_is_rejected_with_its_reason_and_kept_for_the_supervisor(app, world, value, error):
    alice, account = world.phone("alice"), world.accounts["A-1"]
    result = alice.write("account", account, {"do_not_visit": value}, 1)
    assert result["status"] == "rejected" and error in result["errors"]["do_not_visit"], result
    assert stored(app, account) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RejectedMutation)) == 1


@pytest.mark.parametrize(("arrived_at", "inside"), [
    ("2026-12-10T08:59:00+08:00", False),
    ("2026-12-10T09:00:00+08:00", True),
    ("2026-12-12T23:59:00+08:00", True),
    ("2026-12-13T00:00:00+08:00", False),
])
def test_a_visit_inside_a_window_is_flagged(app, world, arrived_at, inside):
    alice, account = world.phone("alice"), world.accounts["A-1"]
    # The window and the visit in one push, as a phone sends what it did offline.
    visit = new_id()
    alice.push([alice.mutation("account", account, {"do_not_visit": [FUNERAL]}, 1),
                alice.mutation("visit", visit, {"account_id": account, "arrived_at": arrived_at,
                                                **DONE})])
    assert ("inside_do_not_visit" in visit_flags(app, visit)) is inside


# -- jurisdiction -----------------------------------------------------------------


def test_accounts_get_the_default_jurisdiction_and_only_a_supervisor_changes_it(app, world):
    account = world.accounts["A-1"]
    with app.app_context():
        assert db.session.get(Account, account).jurisdiction == "TW"
    result = world.phone("alice").write("account", account, {"jurisdiction": "US"}, 1)
    assert result["status"] == "rejected"
    assert result["errors"] == {"jurisdiction": ["A collector may not write this field."]}
    office = world.phone("sup")
    bad = office.write("account", account, {"jurisdiction": "XX"}, 1)
    assert bad["errors"] == {"jurisdiction": [
        "Not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. TW)."]}
    assert office.write("account", account, {"jurisdiction": "US"}, 1)["status"] == "applied"
    assert latest(office.pull_all())[("account", account)]["data"]["jurisdiction"] == "US"


@pytest.fixture
def us_default_app(monkeypatch, backend, tmp_path, request):
    monkeypatch.setenv("FIELDVISIT_RULES_DEFAULT_JURISDICTION", "US")
    monkeypatch.setenv("FIELDVISIT_RULES_JURISDICTION_IN_CONTACT_HOURS", "09:00-18:00")
    app = make_app(backend, tmp_path, request)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_configured_default_jurisdiction_and_rules_reach_accounts_and_phones(us_default_app):
    app = us_default_app
    world = World.create(app, TestApp(app))
    page = world.phone("alice").pull().json
    data = latest(page["changes"])[("account", world.accounts["A-1"])]["data"]
    assert data["jurisdiction"] == "US"
    rules = page["rules"]
    assert rules["default_jurisdiction"] == "US"
    assert rules["jurisdictions"]["IN"]["contact_hours"] == {"start": "09:00", "end": "18:00"}
    assert rules["jurisdictions"]["US"] == {
        "contact_hours": {"start": "08:00", "end": "21:00"},
        "attempt_limit": {"max": 7, "window_days": 7}, "attempts_per": "person"}
    # The protocol's keys keep their meaning: the installation's top level.
    assert rules["contact_hours"] == {"start": "08:00", "end": "21:00"}
    assert rules["attempt_limit"] == {"max": 5, "window_days": 7}


def test_pull_rules_carry_every_jurisdiction(app, world):
    rules = world.phone("alice").pull().json["rules"]
    assert rules["jurisdictions"] == app.config["RULES"].to_wire()["jurisdictions"]
    assert set(rules["jurisdictions"]) == {"US", "IN", "CN", "JP", "TW"}


def us_account(world, collector="alice"):
    account = new_id()
    result = world.phone("sup").write("account", account, {
        "ref": f"US-{account[:6]}", "customer_name": "Hudson Deli", "timezone": "America/New_York",
        "currency": "USD", "jurisdiction": "US", "assigned_collector_id": world.users[collector]})
    assert result["status"] == "applied"
    return account


@pytest.mark.parametrize(("arrived_at", "outside"), [
    ("2026-11-01T07:59:00-05:00", True),   # the day clocks fall back: EST
    ("2026-11-01T08:00:00-05:00", False),
    ("2026-11-01T21:00:00-05:00", False),
    ("2026-11-01T21:01:00-05:00", True),
    # The same UTC time of day either side of the change: 08:59 EDT, then 07:59 EST.
    ("2026-10-31T12:59:00Z", False),
    ("2026-11-01T12:59:00Z", True),
])
def test_a_us_visit_is_judged_on_the_debtors_clock(app, world, arrived_at, outside):
    account, alice, visit = us_account(world), world.phone("alice"), new_id()
    alice.write("visit", visit, {"account_id": account, "arrived_at": arrived_at, **DONE})
    assert ("outside_contact_hours" in visit_flags(app, visit)) is outside


def attempts(phone, account, n, last, **extra):
    ids = []
    for i in range(n):
        visit = new_id()
        arrived = (last - timedelta(hours=20 * (n - i))).isoformat()
        phone.write("visit", visit, {"account_id": account, "arrived_at": arrived, **DONE, **extra})
        ids.append(visit)
    return ids


def test_us_flags_the_eighth_attempt_on_the_debtor_not_the_seventh(app, world):
    account, alice = us_account(world), world.phone("alice")
    last = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
    # Seven visits met the debtor's neighbour: they do not use up the debtor's seven.
    attempts(alice, account, 7, last - timedelta(days=1), met="other_person", met_name="Ann Smith",
             met_relation="neighbour", result="not_present")
    visits = attempts(alice, account, 7, last + timedelta(hours=20))
    assert "attempt_limit_exceeded" not in visit_flags(app, visits[6])  # the 7th
    eighth = new_id()
    alice.write("visit", eighth, {"account_id": account, "arrived_at": last.isoformat(), **DONE})
    assert "attempt_limit_exceeded" in visit_flags(app, eighth)


def test_taiwan_flags_the_sixth_attempt_counting_everyone(app, world):
    account, alice = world.accounts["A-2"], world.phone("alice")
    last = datetime(2026, 12, 9, 3, 0, tzinfo=UTC)
    visits = attempts(alice, account, 5, last, met="other_person", met_name="Clerk",
                      met_relation="employee", result="not_present")
    assert "attempt_limit_exceeded" not in visit_flags(app, visits[4])
    sixth = new_id()
    alice.write("visit", sixth, {"account_id": account, "arrived_at": last.isoformat(), **DONE})
    assert "attempt_limit_exceeded" in visit_flags(app, sixth)


# -- the plan ------------------------------------------------------------------------


def test_the_plan_warns_of_windows_and_the_jurisdictions_hours(app, world):
    alice, office = world.phone("alice"), world.phone("sup")
    office.write("account", world.accounts["A-1"], {"do_not_visit": [FUNERAL]}, 1)
    inside, before = new_id(), new_id()
    alice.write("visit", inside, {"account_id": world.accounts["A-1"],
                                  "scheduled_at": "2026-12-11T10:00:00+08:00"})
    us = us_account(world)
    late = new_id()
    alice.write("visit", late, {"account_id": us, "scheduled_at": "2026-12-11T20:30:00-05:00"})
    stops = {s["visit_id"]: s["warnings"] for s in alice.web.get(
        "/api/v1/plan", {"date": "2026-12-11"}, headers=alice.headers).json["stops"]}
    assert "do_not_visit" in stops[inside]
    # 20:30 in New York is inside the US hours, though it is 09:30 the next day in Taipei.
    assert "outside_contact_hours" not in stops.get(late, ["not on this day"])
    alice.write("visit", before, {"account_id": world.accounts["A-1"],
                                  "scheduled_at": "2026-12-10T08:59:00+08:00"})
    stops = {s["visit_id"]: s["warnings"] for s in alice.web.get(
        "/api/v1/plan", {"date": "2026-12-10"}, headers=alice.headers).json["stops"]}
    assert "do_not_visit" not in stops[before]


def test_the_plan_warns_outside_a_us_accounts_hours(app, world):
    alice, us = world.phone("alice"), us_account(world)
    visit = new_id()
    alice.write("visit", visit, {"account_id": us, "scheduled_at": "2026-12-11T21:30:00-05:00"})
    (stop,) = alice.web.get("/api/v1/plan", {"date": "2026-12-11"}, headers=alice.headers).json["stops"]
    assert "outside_contact_hours" in stop["warnings"]


# -- the other person met ------------------------------------------------------------


def test_the_relation_of_the_other_person_is_recorded_and_amended_like_an_outcome(app, world):
    alice, visit = world.phone("alice"), new_id()
    result = alice.write("visit", visit, {
        "account_id": world.accounts["A-1"], "arrived_at": "2026-12-02T10:00:00+08:00", **DONE,
        "met": "other_person", "met_name": "Mrs Wang", "met_relation": "family",
        "result": "not_present"})
    assert result["status"] == "applied", result
    data = latest(alice.pull_all())[("visit", visit)]["data"]
    assert data["met_relation"] == "family" and "not_original_contact" in data["flags"]
    refused = alice.write("visit", visit, {"met_relation": "neighbour"}, 1)
    assert "amendment_reason" in refused["errors"]
    assert alice.write("visit", visit, {"met_relation": "neighbour",
                                        "amendment_reason": "she is the neighbour"},
                       1)["status"] == "applied"


@pytest.mark.parametrize(("fields", "error"), [
    ({"met": "original_contact", "met_relation": "family"},
     {"met_relation": ["The relation is recorded only when someone else was met."]}),
    ({"met": "other_person", "met_relation": "cousin"},
     {"met_relation": ["Must be one of: employee, family, neighbour, other."]}),
])
def test_a_relation_that_cannot_be_true_is_refused(app, world, fields, error):
    result = world.phone("alice").write("visit", new_id(), {
        "account_id": world.accounts["A-1"], "arrived_at": "2026-12-02T10:00:00+08:00",
        **DONE, **fields})
    assert result["status"] == "rejected" and result["errors"] == error


def test_changing_whom_one_met_clears_the_relation_in_the_same_change(app, world):
    alice, visit = world.phone("alice"), new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], "met": "other_person",
                                 "met_relation": "employee"})
    assert alice.write("visit", visit, {"met": "nobody"}, 1)["status"] == "rejected"
    assert alice.write("visit", visit, {"met": "nobody", "met_relation": None},
                       1)["status"] == "applied"
