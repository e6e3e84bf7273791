"""docs/protocol.md 1.1 "Device clock and device report" through HTTP: the four
headers on push and pull, sent_at and the device_clock_off flag,
server_time, and GET /api/v1/devices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Client, Visit

from ..conftest import make_app
from ..helpers import World

TAIPEI_MORNING = "2026-11-30T10:00:00+08:00"


def new_id():
    return str(uuid.uuid4())


def done_fields(account_id, **extra):
    return {"account_id": account_id, "status": "done", "arrived_at": "2026-11-30T09:50:00+08:00",
            "met": "original_contact", "result": "refused", "conduct_confirmed": True, **extra}


def report_headers(phone, **values):
    headers = dict(phone.headers)
    names = {"client": "Fieldvisit-Client", "version": "Fieldvisit-App-Version",
             "outbox": "Fieldvisit-Outbox", "storage": "Fieldvisit-Storage"}
    for key, value in values.items():
        headers[names[key]] = value
    return headers


def pull(phone, status=200, **values):
    return phone.web.get("/api/v1/sync/pull", headers=report_headers(phone, **values), status=status)


def push(phone, mutations, sent_at=None, status=200, **values):
    body = {"client_id": phone.client_id, "mutations": mutations}
    if sent_at is not None:
        body["sent_at"] = sent_at
    return phone.web.post_json("/api/v1/sync/push", body, headers=report_headers(phone, **values),
                               status=status)


def client_row(app, client_id):
    with app.app_context():
        row = db.session.get(Client, client_id)
        db.session.expunge_all()
        return row


def visit_row(app, visit_id):
    with app.app_context():
        row = db.session.get(Visit, visit_id)
        db.session.expunge_all()
        return row


def devices(world, status=200, username="sup"):
    phone = world.phone(username)
    return world.web.get("/api/v1/devices", headers=phone.headers, status=status)


# -- the headers -------------------------------------------------------------


def test_a_pull_stores_the_device_report_of_the_users_own_client(app, world):
    alice = world.phone("alice")
    pull(alice, client=alice.client_id, version="abc123def456", outbox="3; oldest=2026-11-30T08:00:00+08:00",
         storage="persisted")
    row = client_row(app, alice.client_id)
    assert row.user_id == world.users["alice"] and row.last_seq == 0
    assert row.app_version == "abc123def456"
    assert row.outbox_count == 3
    assert row.outbox_oldest_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert row.storage == "persisted"
    assert abs((datetime.now(UTC) - row.last_seen_at).total_seconds()) < 30
    # Bound to alice by that pull, exactly as a first push would bind it.
    assert alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]})["status"] == "applied"


def test_a_push_stores_the_report_for_the_client_of_its_body(app, world):
    alice = world.phone("alice")
    other = new_id()
    push(alice, [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})],
         client=other, version="v-2", outbox="0", storage="best-effort")
    row = client_row(app, alice.client_id)
    assert (row.app_version, row.outbox_count, row.outbox_oldest_at, row.storage) == \
        ("v-2", 0, None, "best-effort")
    assert row.last_seen_at is not None and row.last_push_at is not None
    # The header's other id is not a second device.
    assert client_row(app, other) is None


@pytest.mark.parametrize(("name", "value"), [
    ("client", "not-a-uuid"),
    ("client", "0B6C0000-0000-4000-8000-000000000000"),
    ("version", ""),
    ("version", "x" * 65),
    ("version", "bad\x01version"),
    ("version", "tab\tinside"),
    ("outbox", "-1"),
    ("outbox", "many"),
    ("outbox", "12345678901"),
    ("outbox", "3; oldest=yesterday"),
    ("outbox", "3; oldest=2026-11-30T08:00:00"),  # no offset
    ("outbox", "3; oldest=3000-01-01T00:00:00Z"),
    ("outbox", "3; newest=2026-11-30T08:00:00Z"),
    ("outbox", "3" + " " * 300),
    ("storage", "forever"),
    ("storage", "persisted, best-effort"),
])
def test_a_malformed_header_is_ignored_and_the_last_good_value_stays(app, world, name, value):
    alice = world.phone("alice")
    good = {"client": alice.client_id, "version": "v1", "outbox": "2; oldest=2026-11-30T08:00:00Z",
            "storage": "persisted"}
    push(alice, [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})], **good)
    before = client_row(app, alice.client_id)
    answer = push(alice, [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})],
                  **{**good, name: value})
    assert answer.json["results"][0]["status"] == "applied"
    pull(alice, **{**good, name: value})
    after = client_row(app, alice.client_id)
    assert (after.app_version, after.outbox_count, after.outbox_oldest_at, after.storage) == \
        (before.app_version, before.outbox_count, before.outbox_oldest_at, before.storage)


def test_a_pull_naming_another_users_client_changes_nothing(app, world):
    alice, bob = world.phone("alice"), world.phone("bob")
    pull(alice, client=alice.client_id, version="alice-v", outbox="1; oldest=2026-11-30T08:00:00Z",
         storage="persisted")
    before = client_row(app, alice.client_id)
    pull(bob, client=alice.client_id, version="bob-v", outbox="9", storage="best-effort")
    after = client_row(app, alice.client_id)
    assert after.user_id == world.users["alice"]
    assert (after.app_version, after.outbox_count, after.storage, after.last_seen_at) == \
        (before.app_version, before.outbox_count, before.storage, before.last_seen_at)
    # And bob's push with that id stays refused, as before.
    bob.client_id = alice.client_id
    bob.push([bob.mutation("visit", new_id(), {"account_id": world.accounts["A-4"]})], status=403)


def test_a_quiet_pull_writes_nothing_but_a_changed_value_is_written(app, world):
    alice = world.phone("alice")
    pull(alice, client=alice.client_id, outbox="0")
    first = client_row(app, alice.client_id).last_seen_at
    pull(alice, client=alice.client_id, outbox="0")
    assert client_row(app, alice.client_id).last_seen_at == first  # within the minute: no write
    pull(alice, client=alice.client_id, outbox="1; oldest=2026-11-30T08:00:00Z")
    row = client_row(app, alice.client_id)
    assert row.outbox_count == 1 and row.last_seen_at > first
    # A minute later the seen time moves even when nothing else did.
    with app.app_context():
        db.session.get(Client, alice.client_id).last_seen_at = first - timedelta(seconds=61)
        db.session.commit()
    pull(alice, client=alice.client_id, outbox="1; oldest=2026-11-30T08:00:00Z")
    assert client_row(app, alice.client_id).last_seen_at > first


def test_a_pull_without_headers_writes_no_device(app, world):
    alice = world.phone("alice")
    alice.pull()
    assert client_row(app, alice.client_id) is None


# -- sent_at, the clock offset and the flag --------------------------------------


def _sent(offset: timedelta) -> str:
    return (datetime.now(UTC) + offset).isoformat()


@pytest.mark.parametrize(("offset", "minutes"), [(timedelta(minutes=10), 10),
                                                 (timedelta(minutes=-7), -7)])
def test_visit_times_from_a_phone_with_a_wrong_clock_are_flagged(app, world, offset, minutes):
    alice = world.phone("alice")
    visit = new_id()
    push(alice, [alice.mutation("visit", visit, done_fields(world.accounts["A-1"]))],
         sent_at=_sent(offset))
    row = visit_row(app, visit)
    assert "device_clock_off" in row.flags
    assert row.device_clock_offset_min == minutes
    assert abs(client_row(app, alice.client_id).clock_offset_s - offset.total_seconds()) < 30
    # Pulled with the visit: the flag and the offset, read-only.
    data = next(c["data"] for c in world.phone("sup").pull_all() if c["id"] == visit)
    assert data["device_clock_offset_min"] == minutes and "device_clock_off" in data["flags"]


def test_within_the_limit_no_flag_and_the_limit_is_configurable(backend, tmp_path, request):
    app = make_app(backend, tmp_path, request, {"CLOCK_OFF_MINUTES": 2})
    from webtest import TestApp

    world = World.create(app, TestApp(app))
    alice = world.phone("alice")
    near, beyond = new_id(), new_id()
    push(alice, [alice.mutation("visit", near, done_fields(world.accounts["A-1"]))],
         sent_at=_sent(timedelta(seconds=90)))
    push(alice, [alice.mutation("visit", beyond, done_fields(world.accounts["A-2"]))],
         sent_at=_sent(timedelta(minutes=4)))
    assert "device_clock_off" not in visit_row(app, near).flags
    assert visit_row(app, near).device_clock_offset_min is None
    assert "device_clock_off" in visit_row(app, beyond).flags
    with app.app_context():
        db.engine.dispose()


def test_four_minutes_off_is_within_the_default_limit(app, world):
    alice = world.phone("alice")
    visit = new_id()
    push(alice, [alice.mutation("visit", visit, done_fields(world.accounts["A-1"]))],
         sent_at=_sent(timedelta(minutes=-4)))
    assert "device_clock_off" not in visit_row(app, visit).flags
    assert visit_row(app, visit).device_clock_offset_min is None


def test_a_push_without_sent_at_sets_no_flag_and_keeps_the_last_offset(app, world):
    alice = world.phone("alice")
    push(alice, [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})],
         sent_at=_sent(timedelta(minutes=20)))
    offset = client_row(app, alice.client_id).clock_offset_s
    visit = new_id()
    push(alice, [alice.mutation("visit", visit, done_fields(world.accounts["A-1"]))])
    assert "device_clock_off" not in visit_row(app, visit).flags
    assert client_row(app, alice.client_id).clock_offset_s == offset


def test_only_a_push_that_writes_the_visit_times_flags_it(app, world):
    alice = world.phone("alice")
    planned = new_id()
    push(alice, [alice.mutation("visit", planned, {"account_id": world.accounts["A-1"],
                                                    "scheduled_at": TAIPEI_MORNING})],
         sent_at=_sent(timedelta(hours=2)))
    assert visit_row(app, planned).device_clock_offset_min is None
    # Its times come later, from a push with a wrong clock: now it is flagged.
    push(alice, [alice.mutation("visit", planned, done_fields(world.accounts["A-1"]), base_version=1)],
         sent_at=_sent(timedelta(minutes=-30)))
    assert visit_row(app, planned).device_clock_offset_min == -30
    # A later edit of other fields with a right clock leaves the doubt in place.
    push(alice, [alice.mutation("visit", planned, {"plan_notes": "called ahead"}, base_version=2)],
         sent_at=_sent(timedelta(0)))
    row = visit_row(app, planned)
    assert row.device_clock_offset_min == -30 and "device_clock_off" in row.flags


def test_a_phone_cannot_write_the_offset_itself(world):
    alice = world.phone("alice")
    result = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"],
                                             "device_clock_offset_min": 0})
    assert result["status"] == "rejected" and "device_clock_offset_min" in result["errors"]


@pytest.mark.parametrize("sent_at", ["yesterday", "2026-11-30T10:00:00", 1764400000, "3000-01-01T00:00:00Z",
                                     None])
def test_a_bad_sent_at_is_400_and_writes_nothing(app, world, sent_at):
    alice = world.phone("alice")
    body = {"client_id": alice.client_id, "sent_at": sent_at,
            "mutations": [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})]}
    answer = world.web.post_json("/api/v1/sync/push", body, headers=alice.headers, status=400)
    assert "sent_at" in answer.json["error"]["fields"]
    assert client_row(app, alice.client_id) is None


def test_push_and_pull_answer_server_time(world):
    alice = world.phone("alice")
    for answer in (push(alice, [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})]),
                   alice.pull()):
        server_time = datetime.fromisoformat(answer.json["server_time"])
        assert server_time.utcoffset() == timedelta(0)
        assert abs((datetime.now(UTC) - server_time).total_seconds()) < 30


def test_openapi_describes_the_additions(web):
    doc = web.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert "server_time" in schemas["PushResponse"]["required"]
    assert "sent_at" in schemas["PushRequest"]["properties"]
    assert schemas["Visit"]["properties"]["device_clock_offset_min"]["readOnly"] is True
    names = {p["name"] for p in doc["paths"]["/api/v1/sync/pull"]["get"]["parameters"]}
    assert {"Fieldvisit-Client", "Fieldvisit-App-Version", "Fieldvisit-Outbox",
            "Fieldvisit-Storage"} <= names
    assert set(schemas["Device"]["required"]) == {
        "client_id", "user", "app_version", "last_seen_at", "last_push_at", "last_seq", "outbox",
        "storage", "clock_offset_s"}
    assert "403" in doc["paths"]["/api/v1/devices"]["get"]["responses"]


# -- GET /api/v1/devices ---------------------------------------------------------


def test_devices_is_for_supervisors_only(world):
    devices(world, status=403, username="alice")
    world.web.get("/api/v1/devices", status=401)


def test_devices_shape_and_order(app, world):
    alice, bob = world.phone("alice"), world.phone("bob")
    push(alice, [alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})],
         sent_at=_sent(timedelta(minutes=6)), version="v9", outbox="2; oldest=2026-11-30T08:00:00+08:00",
         storage="persisted")
    pull(bob, client=bob.client_id, version="v8")
    with app.app_context():  # alice's phone was seen an hour ago, bob's just now
        db.session.get(Client, alice.client_id).last_seen_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
    listed = devices(world).json["devices"]
    assert [d["client_id"] for d in listed] == [bob.client_id, alice.client_id]
    a = listed[1]
    assert set(a) == {"client_id", "user", "app_version", "last_seen_at", "last_push_at", "last_seq",
                      "outbox", "storage", "clock_offset_s"}
    assert a["user"] == {"id": world.users["alice"], "username": "alice", "name": "Alice"}
    assert a["app_version"] == "v9" and a["last_seq"] == 1 and a["storage"] == "persisted"
    assert a["outbox"]["count"] == 2
    assert datetime.fromisoformat(a["outbox"]["oldest_at"]) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert 330 < a["clock_offset_s"] < 390
    assert datetime.fromisoformat(a["last_push_at"]) > datetime.fromisoformat(a["last_seen_at"])
    b = listed[0]
    assert (b["last_push_at"], b["last_seq"], b["clock_offset_s"], b["storage"]) == (None, 0, None, None)
    assert b["outbox"] == {"count": None, "oldest_at": None}
