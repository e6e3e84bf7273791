"""Push through HTTP, rule by rule of docs/protocol.md "Push" and "Merge rules"."""

import uuid

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Client, Conflict, HistoryEntry, Promise, RejectedMutation, Visit

from ..helpers import hlc, now_ms

TAIPEI_MORNING = "2026-11-30T10:00:00+08:00"


def new_id():
    return str(uuid.uuid4())


def done_fields(**extra):
    return {"status": "done", "arrived_at": "2026-11-30T09:50:00+08:00", "met": "original_contact",
            "result": "refused", "conduct_confirmed": True, **extra}


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_create_then_retry_whole_batch_gives_duplicates_and_no_new_versions(app, world):
    alice = world.phone("alice")
    visit = new_id()
    batch = [
        alice.mutation("visit", visit, {"account_id": world.accounts["A-1"], "scheduled_at": TAIPEI_MORNING}),
        alice.mutation("visit", visit, {"plan_notes": "ask for the owner"}, base_version=1),
    ]
    first = alice.push(batch).json
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    assert first["last_seq"] == 2 and first["results"][1]["version"] == 2
    history_before = count(app, HistoryEntry)

    again = alice.push(batch).json  # the answer was lost; the phone retries
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert [r["version"] for r in again["results"]] == [2, 2]
    assert again["last_seq"] == 2
    assert count(app, HistoryEntry) == history_before
    assert count(app, Visit) == 1


def test_retry_overlapping_a_new_tail_applies_only_the_new_part(world):
    alice = world.phone("alice")
    ids = [new_id() for _ in range(3)]
    muts = [alice.mutation("visit", i, {"account_id": world.accounts["A-1"]}) for i in ids]
    alice.push(muts[:2])
    results = alice.push(muts).json["results"]
    assert [r["status"] for r in results] == ["duplicate", "duplicate", "applied"]


def test_gap_is_409_with_expected_seq_and_applies_nothing(app, world):
    alice = world.phone("alice")
    alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]})
    alice.seq = 5  # seqs 2..5 never arrived
    body = alice.push([alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})],
                      status=409).json
    assert body["error"]["code"] == 409 and body["error"]["expected_seq"] == 2
    assert count(app, Visit) == 1
    with app.app_context():
        assert db.session.get(Client, alice.client_id).last_seq == 1


def test_rejected_mutation_is_kept_reported_and_still_advances_last_seq(app, world):
    alice = world.phone("alice")
    good, bad = new_id(), new_id()
    response = alice.push([
        alice.mutation("visit", bad, {"account_id": world.accounts["A-1"], "colour": "red"}),
        alice.mutation("visit", good, {"account_id": world.accounts["A-1"]}),
    ]).json
    rejected, applied = response["results"]
    assert rejected["status"] == "rejected" and rejected["errors"] == {"colour": ["Unknown field."]}
    assert "version" not in rejected  # the record does not exist
    assert applied["status"] == "applied"
    assert response["last_seq"] == 2
    assert count(app, Visit) == 1
    with app.app_context():
        kept = db.session.scalar(select(RejectedMutation))
        assert kept.record_id == bad and kept.fields["colour"] == "red" and kept.seq == 1


def test_created_and_edited_offline_in_one_push_is_simply_applied(world):
    alice = world.phone("alice")
    visit = new_id()
    results = alice.push([
        alice.mutation("visit", visit, {"account_id": world.accounts["A-1"], "scheduled_at": TAIPEI_MORNING}),
        alice.mutation("visit", visit, {"scheduled_at": "2026-11-30T14:00:00+08:00"}, base_version=0),
        alice.mutation("visit", visit, {"plan_notes": "bring the statement"}, base_version=0),
    ]).json["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    assert results[-1]["version"] == 3


def test_applied_merged_and_conflict(app, world):
    alice, sup = world.phone("alice"), world.phone("sup")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], "scheduled_at": TAIPEI_MORNING})
    t0 = now_ms()
    # The supervisor changes the notes; the phone, still at version 1,
    # changes the time: different fields, both kept.
    assert sup.write("visit", visit, {"plan_notes": "owner back on Monday"}, 1, ms=t0)["status"] == "applied"
    merged = alice.write("visit", visit, {"scheduled_at": "2026-11-30T11:00:00+08:00"}, 1, ms=t0 + 1)
    assert merged == {**merged, "status": "merged", "version": 3}
    # The phone changes the notes too, from version 1: a real conflict; the
    # later clock wins and the other value is kept as a conflict.
    conflict = alice.write("visit", visit, {"plan_notes": "call first"}, 1, ms=t0 + 2)
    assert conflict["status"] == "conflict"
    with app.app_context():
        row = db.session.scalar(select(Conflict))
        assert conflict["conflicts"] == [{
            "id": row.id, "field": "plan_notes", "kept": "call first",
            "lost": "owner back on Monday", "rule": "last_writer_wins_hlc",
            "kept_by": "this_device", "lost_by": "office"}]
        assert row.lost_client_id == sup.client_id and row.kept_client_id == alice.client_id
        assert db.session.get(Visit, visit).plan_notes == "call first"


def test_older_clock_loses_but_its_value_is_kept_as_conflict(app, world):
    alice, sup = world.phone("alice"), world.phone("sup")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"]})
    t0 = now_ms()
    sup.write("visit", visit, {"plan_notes": "newer"}, 1, ms=t0)
    result = alice.write("visit", visit, {"plan_notes": "older"}, 1, ms=t0 - 60_000)
    assert result["status"] == "conflict" and result["version"] == 2  # nothing changed
    assert result["conflicts"][0] == {"id": result["conflicts"][0]["id"], "field": "plan_notes",
                                      "kept": "newer", "lost": "older",
                                      "rule": "last_writer_wins_hlc", "kept_by": "office",
                                      "lost_by": "this_device"}
    with app.app_context():
        assert db.session.get(Visit, visit).plan_notes == "newer"


@pytest.mark.parametrize("done_first", [True, False])
def test_done_beats_cancelled_whatever_the_clocks(app, world, done_first):
    alice, sup = world.phone("alice"), world.phone("sup")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"]})
    t0 = now_ms()
    if done_first:
        alice.write("visit", visit, done_fields(), 1, ms=t0)
        result = sup.write("visit", visit, {"status": "cancelled"}, 1, ms=t0 + 100_000)
        # Whose value is whose, seen from the device that pushed.
        sides = {"kept_by": "other_collector", "lost_by": "this_device"}
    else:
        sup.write("visit", visit, {"status": "cancelled"}, 1, ms=t0 + 100_000)
        result = alice.write("visit", visit, done_fields(), 1, ms=t0)
        sides = {"kept_by": "this_device", "lost_by": "office"}
    assert result["conflicts"] == [{"id": result["conflicts"][0]["id"], "field": "status",
                                    "kept": "done", "lost": "cancelled",
                                    "rule": "domain_precedence", **sides}]
    assert result["status"] == "conflict"
    with app.app_context():
        assert db.session.get(Visit, visit).status == "done"


def test_done_is_final_for_a_non_concurrent_change(world):
    alice = world.phone("alice")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], **done_fields()})
    result = alice.write("visit", visit, {"status": "cancelled"}, 1)
    assert result["status"] == "rejected" and "status" in result["errors"]
    assert result["version"] == 1


def test_amending_a_done_visit_needs_a_reason_which_history_keeps(app, world):
    alice = world.phone("alice")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], **done_fields()})
    refused = alice.write("visit", visit, {"notes": "paid next week"}, 1)
    assert refused["status"] == "rejected" and "amendment_reason" in refused["errors"]
    amended = alice.write("visit", visit, {"notes": "paid next week",
                                           "amendment_reason": "forgot to note the plan"}, 1)
    assert amended["status"] == "applied" and amended["version"] == 2
    with app.app_context():
        last = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visit)
                                 .order_by(HistoryEntry.id.desc()))
        assert last.reason == "forgot to note the plan" and last.changes["notes"] == "paid next week"


@pytest.mark.parametrize("missing", ["arrived_at", "met", "result", "conduct_confirmed"])
def test_done_needs_arrival_whom_met_result_and_conduct(world, missing):
    alice = world.phone("alice")
    fields = {"account_id": world.accounts["A-1"], **done_fields()}
    del fields[missing]
    result = alice.write("visit", new_id(), fields)
    assert result["status"] == "rejected" and missing in result["errors"]


def test_done_validation_sees_fields_sent_earlier(world):
    alice = world.phone("alice")
    visit = new_id()
    fields = done_fields()
    status = fields.pop("status")
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], **fields})
    assert alice.write("visit", visit, {"status": status}, 1)["status"] == "applied"


@pytest.mark.parametrize("fields,error_field", [
    ({"promise_amount": 0, "promise_date": "2026-12-05"}, "promise_amount"),
    ({"promise_amount": 5000}, "promise_date"),
    # 09:50 in Taipei on the 30th is the 30th there: the 29th is before it.
    ({"promise_amount": 5000, "promise_date": "2026-11-29"}, "promise_date"),
])
def test_promise_to_pay_needs_amount_and_date_not_before_the_visit(world, fields, error_field):
    alice = world.phone("alice")
    result = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"],
                                             **done_fields(result="promise_to_pay", **fields)})
    assert result["status"] == "rejected" and error_field in result["errors"]


def test_promise_on_the_visit_day_derives_a_pending_promise(app, world):
    alice = world.phone("alice")
    visit = new_id()
    result = alice.write("visit", visit, {"account_id": world.accounts["A-1"], **done_fields(
        result="promise_to_pay", promise_amount=500000, promise_date="2026-11-30")})
    assert result["status"] == "applied"
    with app.app_context():
        promise = db.session.scalar(select(Promise).where(Promise.visit_id == visit))
        assert promise.amount == 500000 and promise.status in ("pending", "broken")


def test_base_version_zero_for_an_existing_id_of_another_client_is_concurrent(world):
    alice, sup = world.phone("alice"), world.phone("sup")
    visit = new_id()
    t0 = now_ms()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], "plan_notes": "mine"}, ms=t0)
    result = sup.write("visit", visit, {"account_id": world.accounts["A-1"], "plan_notes": "theirs"},
                       ms=t0 - 5000)
    assert result["status"] == "conflict"
    assert [c["field"] for c in result["conflicts"]] == ["plan_notes"]  # equal account_id: nothing lost


@pytest.mark.parametrize("who,entity,fields,field", [
    ("alice", "account", {"amount_due": 1}, "amount_due"),
    ("alice", "account", {"assigned_collector_id": None}, "assigned_collector_id"),
    ("sup", "payment", {"amount": 100}, "amount"),
    ("alice", "visit", {"flags": []}, "flags"),
])
def test_fields_a_role_may_not_write_are_rejected(world, who, entity, fields, field):
    phone = world.phone(who)
    record = world.accounts["A-1"] if entity == "account" else new_id()
    base = 1 if entity == "account" else 0
    if entity != "account":
        fields = {"account_id": world.accounts["A-1"], **fields}
    result = phone.write(entity, record, fields, base)
    assert result["status"] == "rejected" and field in result["errors"]


def test_collector_may_write_the_account_fields_marked_C(world):
    alice = world.phone("alice")
    result = alice.write("account", world.accounts["A-1"], {"address_notes": "back door", "delinquency_reason": "cash_flow"}, 1)
    assert result["status"] == "applied" and result["version"] == 2


def test_promises_are_read_only_for_phones(world):
    sup = world.phone("sup")
    result = sup.write("promise", new_id(), {"status": "kept"})
    assert result["status"] == "rejected"


def test_payment_status_only_by_a_supervisor_and_confirmation_keeps_the_promise(app, world):
    alice, sup = world.phone("alice"), world.phone("sup")
    visit, payment = new_id(), new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], **done_fields(
        result="promise_to_pay", promise_amount=100000, promise_date="2099-12-31")})
    alice.write("payment", payment, {"account_id": world.accounts["A-1"], "visit_id": visit,
                                     "amount": 100000, "method": "cash",
                                     "collected_at": "2026-11-30T10:10:00+08:00"})
    assert alice.write("payment", payment, {"status": "confirmed"}, 1)["status"] == "rejected"
    assert sup.write("payment", payment, {"status": "confirmed"}, 1)["status"] == "applied"
    with app.app_context():
        assert db.session.scalar(select(Promise.status).where(Promise.visit_id == visit)) == "kept"


def test_collector_cannot_touch_another_collectors_account_or_probe_ids(world):
    alice = world.phone("alice")
    bobs = alice.write("visit", new_id(), {"account_id": world.accounts["A-4"]})
    unknown = alice.write("visit", new_id(), {"account_id": str(uuid.uuid4())})
    assert bobs["status"] == unknown["status"] == "rejected"
    assert bobs["errors"] == unknown["errors"]


def test_collector_may_only_name_themself_as_visit_collector(world):
    alice = world.phone("alice")
    result = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"],
                                             "collector_id": world.users["bob"]})
    assert result["status"] == "rejected" and "collector_id" in result["errors"]


def test_visit_account_never_changes(world):
    alice = world.phone("alice")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"]})
    result = alice.write("visit", visit, {"account_id": world.accounts["A-2"]}, 1)
    assert result["status"] == "rejected" and "account_id" in result["errors"]


def test_clock_more_than_a_day_ahead_is_rejected(world):
    alice = world.phone("alice")
    result = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]},
                         ms=now_ms() + 25 * 3600 * 1000)
    assert result["status"] == "rejected" and "hlc" in result["errors"]
    ok = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]},
                     ms=now_ms() + 23 * 3600 * 1000)
    assert ok["status"] == "applied"


def test_client_id_of_another_user_is_403_and_writes_nothing(app, world):
    alice = world.phone("alice")
    alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]})
    bob = world.phone("bob", client_id=alice.client_id)
    body = bob.push([bob.mutation("visit", new_id(), {"account_id": world.accounts["A-4"]})],
                    status=403).json
    assert body["error"]["code"] == 403
    assert count(app, Visit) == 1


def test_wrong_types_are_rejected_per_field(world):
    alice = world.phone("alice")
    result = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"], "waited_minutes": "ten",
                                             "other_guests_present": "yes", "arrived_at": "2026-11-30T10:00:00"})
    assert result["status"] == "rejected"
    assert set(result["errors"]) == {"waited_minutes", "other_guests_present", "arrived_at"}


def test_visit_flags_are_computed_and_delivered(world):
    alice = world.phone("alice")
    visit = new_id()
    # 22:30 in Taipei, 3 km from the site, met someone else, late.
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], "scheduled_at": "2026-11-30T21:00:00+08:00",
                                 **done_fields(arrived_at="2026-11-30T22:30:00+08:00", met="other_person",
                                               checkin_lat=25.07, checkin_lon=121.51)})
    data = [c for c in alice.pull_all() if c["id"] == visit][0]["data"]
    assert set(data["flags"]) == {"outside_contact_hours", "far_from_site", "arrived_late", "not_original_contact"}


def test_hlc_helper_matches_protocol_format():
    assert hlc(1764400000000, "abc", 10) == "1764400000000:000a:abc"


def test_server_clock_moves_past_an_accepted_clock_that_runs_ahead(world):
    alice = world.phone("alice")
    ahead = now_ms() + 3600 * 1000  # the phone's clock is an hour fast
    response = alice.push([alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]},
                                          ms=ahead)]).json
    assert response["results"][0]["status"] == "applied"
    sent = response["results"][0]
    assert response["server_hlc"] > hlc(ahead, alice.client_id) and sent["version"] == 1
