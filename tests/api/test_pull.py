"""Pull through HTTP: order, pagination, scope, tombstones, cursors, gzip."""

import gzip
import json
import uuid

import pytest

from ..helpers import latest


def new_id():
    return str(uuid.uuid4())


def test_collector_sees_only_assigned_accounts_and_their_records(world):
    alice, bob = world.phone("alice"), world.phone("bob")
    mine = new_id()
    alice.write("visit", mine, {"account_id": world.accounts["A-1"]})
    bob.write("visit", new_id(), {"account_id": world.accounts["A-4"]})
    state = latest(alice.pull_all())
    refs = sorted(c["data"]["ref"] for (entity, _), c in state.items() if entity == "account")
    assert refs == ["A-1", "A-2", "A-3"]
    assert [key[1] for key in state if key[0] == "visit"] == [mine]


def test_supervisor_sees_everything(world):
    sup = world.phone("sup")
    state = latest(sup.pull_all())
    assert len([k for k in state if k[0] == "account"]) == 6


def test_pull_resumes_from_cursor_without_skips_or_repeats(world):
    alice = world.phone("alice")
    ids = [new_id() for _ in range(12)]
    alice.push([alice.mutation("visit", i, {"account_id": world.accounts["A-2"]}) for i in ids])
    pages, seen = 0, []
    cursor = None
    while True:
        page = alice.pull(cursor, limit=4).json
        pages += 1
        seen += [(c["entity"], c["id"]) for c in page["changes"]]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert pages == 4  # 3 accounts + 12 visits = 15 changes in pages of 4
    assert len(seen) == len(set(seen)) == 15
    # New changes after the last page arrive with the same cursor.
    extra = new_id()
    alice.write("visit", extra, {"account_id": world.accounts["A-2"]})
    after = alice.pull(cursor).json
    assert [c["id"] for c in after["changes"]] == [extra]


def test_a_record_appears_once_at_its_latest_version(world):
    alice = world.phone("alice")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"]})
    for version in range(1, 4):
        alice.write("visit", visit, {"plan_notes": f"note {version}"}, version)
    visits = [c for c in alice.pull_all() if c["entity"] == "visit"]
    assert [(c["version"], c["data"]["plan_notes"]) for c in visits] == [(4, "note 3")]


def test_changes_come_in_commit_order(world):
    alice = world.phone("alice")
    alice.pull_all()
    first, second = new_id(), new_id()
    alice.write("visit", first, {"account_id": world.accounts["A-1"]})
    alice.write("visit", second, {"account_id": world.accounts["A-1"]})
    alice.write("visit", first, {"plan_notes": "moved to the end"}, 1)
    assert [c["id"] for c in alice.pull_all()] == [second, first]


def test_reassignment_sends_tombstones_to_the_old_collector_and_records_to_the_new(world):
    alice, bob, sup = world.phone("alice"), world.phone("bob"), world.phone("sup")
    visit, payment = new_id(), new_id()
    account = world.accounts["A-1"]
    alice.write("visit", visit, {"account_id": account})
    alice.write("payment", payment, {"account_id": account, "visit_id": visit, "amount": 1000,
                                     "method": "cash", "collected_at": "2026-11-30T10:00:00+08:00"})
    alice.pull_all()
    bob.pull_all()
    result = sup.write("account", account, {"assigned_collector_id": world.users["bob"]}, 1)
    assert result["status"] == "applied"

    gone = alice.pull_all()
    tombstones = {(c["entity"], c["id"]): c for c in gone if c["deleted"]}
    assert set(tombstones) == {("account", account), ("visit", visit), ("payment", payment)}
    assert all(c["data"] is None for c in tombstones.values())
    assert tombstones[("account", account)]["version"] == 2
    assert not [c for c in gone if not c["deleted"]]

    arrived = latest(bob.pull_all())
    assert {("account", account), ("visit", visit), ("payment", payment)} <= set(arrived)
    # And alice can no longer write to it.
    refused = alice.write("visit", new_id(), {"account_id": account})
    assert refused["status"] == "rejected"


def test_pull_carries_rules_server_clock_and_computed_account_fields(world):
    alice = world.phone("alice")
    page = alice.pull().json
    assert page["rules"]["contact_hours"] == {"start": "08:00", "end": "21:00"}
    assert page["rules"]["attempt_limit"] == {"max": 5, "window_days": 7}
    assert page["rules"]["geofence_m"] == 200 and page["rules"]["early_margin_minutes"] == 15
    assert page["rules"]["preferred_windows"] == [["09:30", "11:30"], ["14:00", "16:00"]]
    assert page["server_hlc"].endswith(":server")
    account = next(c for c in page["changes"] if c["entity"] == "account")["data"]
    assert account["amount_due"] == 5000000  # 50000.00 in minor units
    for name in ("days_past_due", "aging_bucket", "priority", "attempts_recent"):
        assert name in account
    assert 0 < account["priority"] < account["amount_due"]


@pytest.mark.parametrize("mangle", [
    lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),   # signature edited
    lambda c: "eyJ2IjoxLCJwIjowfQ.AAAA",                          # forged
    lambda c: "not-a-cursor",
])
def test_an_edited_cursor_is_410_never_other_data(world, mangle):
    alice = world.phone("alice")
    cursor = alice.pull().json["cursor"]
    body = alice.pull(mangle(cursor), status=410).json
    assert body["error"]["code"] == 410


def test_another_users_cursor_is_410(world):
    alice, bob = world.phone("alice"), world.phone("bob")
    cursor = alice.pull().json["cursor"]
    assert bob.pull(cursor, status=410).json["error"]["code"] == 410


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
def test_limit_out_of_range_is_400(world, limit):
    alice = world.phone("alice")
    response = world.web.get("/api/v1/sync/pull", {"limit": limit}, headers=alice.headers, status=400)
    assert "limit" in response.json["error"]["fields"]


def test_pull_is_gzipped_when_accepted(app, world):
    sup = world.phone("sup")
    client = app.test_client()  # WebTest would decode the body for us and hide the header
    response = client.get("/api/v1/sync/pull", headers={**sup.headers, "Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["changes"]
    plain = client.get("/api/v1/sync/pull", headers=sup.headers)
    assert "Content-Encoding" not in plain.headers and plain.json["changes"]


def test_a_refused_edit_sends_the_servers_copy_again(world):
    alice = world.phone("alice")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], "plan_notes": "kept"})
    alice.pull_all()
    refused = alice.write("visit", visit, {"status": "done"}, 1)  # no outcome: refused
    assert refused["status"] == "rejected"
    again = [c for c in alice.pull_all() if c["id"] == visit]
    assert [(c["version"], c["data"]["status"]) for c in again] == [(1, "planned")]


def test_a_done_visit_sends_its_account_again_with_fresh_counts(world):
    alice = world.phone("alice")
    alice.pull_all()
    alice.write("visit", new_id(), {
        "account_id": world.accounts["A-1"], "status": "done", "arrived_at": "2026-11-30T09:50:00+08:00",
        "met": "original_contact", "result": "refused", "conduct_confirmed": True})
    accounts = [c for c in alice.pull_all() if c["entity"] == "account"]
    assert [c["id"] for c in accounts] == [world.accounts["A-1"]]
    assert accounts[0]["version"] == 1  # same version, fresh computed fields
