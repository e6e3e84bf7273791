"""A receiver that fails — 500, no answer within the timeout, nobody
listening — gets the same event again with backoff, in order per record,
until it takes it; in the end it has taken every event exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.webhooks.dispatch import DeliverySettings
from server.webhooks.models import DELIVERED, WebhookDelivery
from tests.conftest import make_app
from tests.helpers import World
from tests.supervisor.conftest import iso, new_id, taipei

from .conftest import deliver, webhook_config
from .receiver import Receiver, free_port


def _deliveries(app):
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        db.session.rollback()
    return rows


def _done(app):
    return lambda: all(d.state == DELIVERED for d in _deliveries(app))


def _visits(world, n: int) -> list[str]:
    alice = world.phone("alice")
    ids = []
    for _ in range(n):
        visit_id = new_id()
        assert alice.write("visit", visit_id, {
            "account_id": world.accounts["A-1"], "status": "planned",
            "scheduled_at": iso(taipei(-1, 9))})["status"] == "applied"
        ids.append(visit_id)
    return ids


def test_server_errors_are_retried_until_taken_once(app, world, receiver):
    receiver.answer = lambda event_id, n: 500 if n < 2 else 204
    _visits(world, 3)
    deliver(app, until=_done(app))
    assert sorted(receiver.accepted_counts().values()) == [1, 1, 1]
    assert len(receiver.received) == 9
    by_id = {}
    for r in receiver.received:
        by_id.setdefault(r.event_id, set()).add((r.body, r.signature))
    assert all(len(v) == 1 for v in by_id.values()), "a retry sends the same bytes"
    assert [d.attempts for d in _deliveries(app)] == [3, 3, 3]
    assert all(d.last_error is None and d.last_status == 204 for d in _deliveries(app))


def test_no_answer_within_the_timeout_is_retried(app, world, receiver):
    # The first POST of each event is answered after the sender's 0.5 s.
    receiver.answer = lambda event_id, n: ("sleep", 1.2, 200) if n == 0 else 200
    _visits(world, 2)
    deliver(app, until=_done(app))
    assert sorted(receiver.accepted_counts().values()) == [1, 1]
    assert sum(1 for r in receiver.received if r.late) == 2
    assert [d.attempts for d in _deliveries(app)] == [2, 2]


def test_connection_refused_is_retried_until_the_receiver_is_up(backend, tmp_path, request):
    port = free_port()
    # A refusal is immediate: a roomy timeout keeps a slow answer on a busy
    # machine from counting as a failure and being sent again.
    app = make_app(backend, tmp_path, request,
                   extra=webhook_config(f"http://127.0.0.1:{port}/in", WEBHOOK_TIMEOUT_S=5.0,
                                        WEBHOOK_LEASE_S=12.0))
    from webtest import TestApp

    world = World.create(app, TestApp(app))
    _visits(world, 2)
    deliver(app)  # nothing listens: both wait for their next attempt
    waiting = _deliveries(app)
    assert [d.state for d in waiting] == ["pending", "pending"]
    assert all(d.attempts >= 1 and d.last_error == "connection refused" for d in waiting)
    late = Receiver(port)
    try:
        deliver(app, until=_done(app))
        assert sorted(late.accepted_counts().values()) == [1, 1]
    finally:
        late.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_failing_event_holds_back_the_later_ones_of_its_record_only(app, world, receiver):
    alice = world.phone("alice")
    slow_record, other_record = new_id(), new_id()
    account = world.accounts["A-1"]
    for record_id in (slow_record, other_record):
        alice.write("visit", record_id, {"account_id": account, "status": "planned",
                                         "scheduled_at": iso(taipei(-1, 9))})
    for version, note in ((1, "a"), (2, "b")):
        for record_id in (slow_record, other_record):
            alice.write("visit", record_id, {"plan_notes": note}, base_version=version)
    first_of_slow = {}

    def answer(event_id, n):
        # The first event of ``slow_record`` fails four times.
        if not first_of_slow:
            return 200
        return 500 if event_id == first_of_slow["id"] and n < 4 else 200

    with app.app_context():
        first = db.session.scalar(select(WebhookDelivery.event_id)
                                  .where(WebhookDelivery.record_id == slow_record)
                                  .order_by(WebhookDelivery.id))
        db.session.rollback()
    first_of_slow["id"] = first
    receiver.answer = answer
    deliver(app, until=_done(app))
    arrivals = [(r.event["record_id"], r.event["version"], r.status) for r in receiver.received]
    slow = [(v, s) for rec, v, s in arrivals if rec == slow_record]
    # Version 1 four times refused, then taken; only then 2 and 3, once each.
    assert slow == [(1, 500)] * 4 + [(1, 200), (2, 200), (3, 200)]
    other = [v for rec, v, s in arrivals if rec == other_record]
    assert other == [1, 2, 3]
    # The other record was not held back: it was done before the slow one.
    last_other = max(i for i, a in enumerate(arrivals) if a[0] == other_record)
    first_slow_taken = arrivals.index((slow_record, 1, 200))
    assert last_other < first_slow_taken


def test_backoff_doubles_up_to_its_maximum():
    settings = DeliverySettings(secret="s", backoff_s=10, backoff_max_s=3600)
    waits = [settings.backoff(n).total_seconds() for n in range(1, 12)]
    assert waits == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    # With the defaults, the attempts of the first day.
    elapsed, attempts = timedelta(), 0
    while elapsed < timedelta(hours=24):
        attempts += 1
        elapsed += settings.backoff(attempts)
    assert 30 <= attempts <= 35
