"""Every committed change to a visit, payment, promise or attachment reaches
a real receiver on loopback, signed, once, in order per record — whichever
entry point wrote it (a phone's push, a supervisor's page, the import, the
server's follow-ups) — and a change that is not committed sends nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Account, HistoryEntry, User
from server.services.changes import Actor
from server.services.importer import import_accounts, import_actor
from server.services.writes import Change, apply_change, transaction
from server.webhooks.models import DELIVERED, WebhookDelivery, WebhookEvent
from server.webhooks.queue import ENTITIES
from tests.attachments.support import jpeg_bytes, metadata
from tests.conftest import make_app
from tests.helpers import World
from tests.supervisor.conftest import iso, new_id, record_visit, taipei

from .conftest import SECRET, deliver


def _history(app) -> set[tuple[str, str, int]]:
    with app.app_context():
        rows = db.session.execute(select(HistoryEntry.entity, HistoryEntry.record_id,
                                         HistoryEntry.version)
                                  .where(HistoryEntry.entity.in_(ENTITIES))).all()
        db.session.rollback()
    return {tuple(r) for r in rows}


def _all_delivered(app):
    def check():
        with app.app_context():
            left = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                     .where(WebhookDelivery.state != DELIVERED))
            db.session.rollback()
            return left == 0
    return check


def _reassign(app, ref: str, username: str) -> None:
    """The account import, moving one account to another collector."""
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.ref == ref))
        header = ("ref,customer_name,original_contact_name,original_contact_role,"
                  "original_contact_phone,address,lat,lon,timezone,currency,principal,"
                  "amount_due,due_since,collector")
        row = (f"{ref},{account.customer_name},Owner 1,Owner,0912-555-000,{account.address},"
               f"{account.lat},{account.lon},{account.timezone},{account.currency},100000.00,"
               f"50000.00,{date(2026, 10, 1).isoformat()},{username}")
        report = import_accounts(db.session, header + "\n" + row + "\n", import_actor(None),
                                 app.config["RULES"])
        assert report.ok, report.errors


def test_every_committed_change_arrives_once_signed_and_in_order(app, world, sup, receiver):
    alice = world.phone("alice")
    account_id = world.accounts["A-1"]
    # A phone's push: a done visit that makes a promise (a follow-up), a payment.
    visit_id = record_visit(alice, account_id, taipei(0, 10), result="promise_to_pay",
                            promise_amount=50000, promise_date=taipei(-5, 12).date().isoformat())
    payment_id = new_id()
    assert alice.write("payment", payment_id, {
        "account_id": account_id, "visit_id": visit_id, "amount": 50000, "method": "cash",
        "collected_at": iso(taipei(0, 10, 20))})["status"] == "applied"
    # An attachment's record, and a visit made and moved on in one push (two
    # versions in one transaction: each is an event with its own data).
    photo = jpeg_bytes(2000)
    attachment_id = new_id()
    planned_id = new_id()
    results = alice.push([
        alice.mutation("attachment", attachment_id, metadata(visit_id, photo)),
        alice.mutation("visit", planned_id, {"account_id": account_id, "status": "planned",
                                             "scheduled_at": iso(taipei(-1, 9))}),
        alice.mutation("visit", planned_id, {"plan_notes": "ring twice"}, base_version=1),
    ]).json["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "applied"], results
    # A supervisor's page: confirming the payment keeps the promise (two records).
    page = sup.get("/supervisor/payments")
    form = [f for f in page.forms.values() if f.action.endswith(f"/payments/{payment_id}/review")][0]
    form.submit("confirm", status=302)
    # The import: the account changes hands, its planned visit moves with it.
    _reassign(app, "A-1", "bob")

    expected = _history(app)
    assert {e for e, _r, _v in expected} == {"visit", "payment", "promise", "attachment"}
    assert ("visit", planned_id, 3) in expected  # the import's follow-up
    deliver(app, until=_all_delivered(app))

    accepted = receiver.accepted()
    events = [r.event for r in accepted]
    # Exactly once each, and nothing that is not a committed change.
    assert len({e["id"] for e in events}) == len(events) == len(expected)
    assert {(e["entity"], e["record_id"], e["version"]) for e in events} == expected
    for received, event in zip(accepted, events, strict=True):
        assert list(event) == ["id", "type", "occurred_at", "entity", "record_id", "version", "data"]
        assert received.event_id == event["id"]
        good = "sha256=" + hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(received.signature, good)
        assert event["type"] == f"{event['entity']}.changed"
        assert datetime.fromisoformat(event["occurred_at"]).utcoffset() is not None
        assert event["data"]["id"] == event["record_id"]
        assert event["data"]["version"] == event["version"]
    # In order per record.
    versions = defaultdict(list)
    for event in events:
        versions[event["record_id"]].append(event["version"])
    assert all(v == sorted(v) for v in versions.values()), versions
    # Each version's data is the record at that version.
    planned = {e["version"]: e["data"] for e in events if e["record_id"] == planned_id}
    assert planned[1]["plan_notes"] is None and planned[2]["plan_notes"] == "ring twice"
    assert planned[2]["collector_id"] == world.users["alice"]
    assert planned[3]["collector_id"] == world.users["bob"]
    promise = [e for e in events if e["entity"] == "promise"]
    assert [p["data"]["status"] for p in promise] == ["pending", "kept"]

    # The newest data of each record is what a supervisor pulls.
    pulled = {c["id"]: c["data"] for c in world.phone("sup").pull_all() if not c["deleted"]}
    newest = {}
    for event in events:
        newest[event["record_id"]] = event["data"]
    for record_id, data in newest.items():
        assert data == pulled[record_id], record_id


def test_a_rolled_back_transaction_and_a_refused_change_send_nothing(app, world, receiver):
    alice = world.phone("alice")
    with app.app_context():
        supervisor = db.session.scalar(select(User.id).where(User.username == "sup"))
        actor = Actor(supervisor, "server", None, None, role="supervisor")

        def work(tx):
            apply_change(tx, Change("visit", new_id(), {
                "account_id": world.accounts["A-2"], "status": "planned",
                "scheduled_at": iso(taipei(-1, 9))}, actor))
            raise RuntimeError("the caller gives up after writing")

        with pytest.raises(RuntimeError):
            transaction(work, rules=app.config["RULES"])
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    # Refused by the rules (not her account): no event; her good one: one.
    refused = alice.write("visit", new_id(), {"account_id": world.accounts["A-4"]})
    assert refused["status"] == "rejected"
    good = new_id()
    assert alice.write("visit", good, {"account_id": world.accounts["A-2"], "status": "planned",
                                       "scheduled_at": iso(taipei(-1, 9))})["status"] == "applied"
    deliver(app, until=_all_delivered(app))
    assert [(r.event["record_id"], r.event["version"]) for r in receiver.accepted()] == [(good, 1)]


def test_without_endpoints_nothing_is_queued(backend, tmp_path, request):
    app = make_app(backend, tmp_path, request, extra={"WEBHOOK_URLS": ()})
    from webtest import TestApp

    world = World.create(app, TestApp(app))
    alice = world.phone("alice")
    assert alice.write("visit", new_id(), {"account_id": world.accounts["A-1"], "status": "planned",
                                           "scheduled_at": iso(taipei(-1, 9))})["status"] == "applied"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
        db.session.remove()
        db.engine.dispose()


def test_two_endpoints_get_the_same_event_under_the_same_id(backend, tmp_path, request,
                                                           receiver):
    from webtest import TestApp

    from .conftest import webhook_config
    from .receiver import Receiver

    other = Receiver()
    try:
        app = make_app(backend, tmp_path, request,
                       extra=webhook_config(receiver.url, other.url))
        world = World.create(app, TestApp(app))
        visit_id = new_id()
        world.phone("alice").write("visit", visit_id, {
            "account_id": world.accounts["A-1"], "status": "planned",
            "scheduled_at": iso(taipei(-1, 9))})
        deliver(app, until=_all_delivered(app))
        assert [r.body for r in receiver.accepted()] == [r.body for r in other.accepted()]
        assert len(receiver.accepted()) == 1
        assert json.loads(receiver.accepted()[0].body)["record_id"] == visit_id
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        other.close()


@pytest.mark.parametrize(("settings", "problem"), [
    ({"WEBHOOK_URLS": "http://127.0.0.1:9/x", "WEBHOOK_SECRET": ""}, "SECRET"),
    ({"WEBHOOK_URLS": "ftp://example.org/x", "WEBHOOK_SECRET": "s"}, "not an http"),
    ({"WEBHOOK_URLS": "http://127.0.0.1:9/x", "WEBHOOK_SECRET": "s", "WEBHOOK_TIMEOUT_S": 10.0,
      "WEBHOOK_LEASE_S": 15.0}, "LEASE"),
])
def test_contradicting_settings_stop_the_server_at_start(tmp_path, settings, problem):
    from server.app import create_app

    with pytest.raises(RuntimeError, match=problem):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "SECRET_KEY": "k", **settings})
