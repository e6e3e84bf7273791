"""The real worker process: a ``kill -9`` mid-delivery loses nothing (its
claims come back after the lease), SIGTERM stops it cleanly after the POST
under way, and two workers at once send nothing twice."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.webhooks.models import DELIVERED, PENDING, WebhookDelivery, WebhookEvent
from tests.supervisor.conftest import iso, new_id, taipei

from .process import WorkerProcess, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])]


@pytest.fixture
def workers(app, tmp_path, receiver):
    started: list[WorkerProcess] = []

    def start(**settings) -> WorkerProcess:
        env = worker_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance",
                         [receiver.url], **settings)
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def _states(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(select(WebhookDelivery.state, func.count())
                                  .group_by(WebhookDelivery.state)).all()
        db.session.rollback()
    return Counter(dict(rows))


def _wait(predicate, timeout=30.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _planned_visits(world, n: int, versions: int = 1) -> list[str]:
    """``n`` visits, each with ``versions`` versions, in one push."""
    alice = world.phone("alice")
    ids = [new_id() for _ in range(n)]
    mutations = [alice.mutation("visit", i, {"account_id": world.accounts["A-1"],
                                             "status": "planned",
                                             "scheduled_at": iso(taipei(-1, 9))}) for i in ids]
    for version in range(1, versions):
        mutations += [alice.mutation("visit", i, {"plan_notes": f"note {version}"},
                                     base_version=version) for i in ids]
    results = alice.push(mutations).json["results"]
    assert {r["status"] for r in results} == {"applied"}
    return ids


def test_kill_9_mid_delivery_loses_nothing(app, world, receiver, workers):
    release = threading.Event()
    held = {}

    def answer(event_id, n):
        # The first POST that arrives is held until the worker is dead.
        if not held:
            held["id"] = event_id
            return ("hold", release)
        return 200

    receiver.answer = answer
    _planned_visits(world, 3)
    first = workers()
    try:
        # The two others are answered and recorded; the held one is in flight.
        _wait(lambda: _states(app)[DELIVERED] == 2, what="two deliveries")
        assert held and _states(app)[PENDING] == 1
        first.kill()
    finally:
        release.set()
    with app.app_context():
        claimed = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.state == PENDING))
        assert claimed.claimed_by is not None and claimed.attempts == 0
        db.session.rollback()
    # A new worker sends it again once the dead one's lease (4 s) ran out.
    workers()
    _wait(lambda: _states(app) == Counter({DELIVERED: 3}), what="all three delivered")
    counts = Counter(r.event_id for r in receiver.received)
    assert counts[held["id"]] == 2  # in flight at the kill, then sent again: same id
    assert sorted(counts.values()) == [1, 1, 2]
    with app.app_context():
        assert set(counts) == set(db.session.scalars(select(WebhookEvent.id)))


def test_sigterm_stops_after_the_post_under_way_and_a_restart_loses_nothing(
        app, world, receiver, workers):
    release = threading.Event()
    receiver.answer = lambda event_id, n: ("hold", release) if n == 0 else 200
    _planned_visits(world, 1)
    worker = workers()
    receiver.wait_for(lambda r: len(r.received) == 1)
    started = time.monotonic()
    assert worker.terminate() == 0
    # It waited for the POST (no answer within its 2 s), wrote the outcome, left.
    assert time.monotonic() - started < 10
    assert "SIGTERM received" in worker.text() and "stopped" in worker.text()
    release.set()
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.state == PENDING and delivery.attempts == 1
        assert delivery.claimed_by is None and "no answer within 2 s" in delivery.last_error
        db.session.rollback()
    workers()
    _wait(lambda: _states(app) == Counter({DELIVERED: 1}), what="the delivery")
    assert len(receiver.accepted()) == 1


def test_ctrl_c_and_sigterm_at_once_still_stop_it_cleanly(app, world, receiver, workers):
    """As under ``make run``: the terminal's Ctrl-C and the launcher's SIGTERM
    arrive together, mid-POST; the worker finishes the POST and says so."""
    release = threading.Event()
    receiver.answer = lambda event_id, n: ("hold", release) if n == 0 else 200
    _planned_visits(world, 1)
    worker = workers()
    receiver.wait_for(lambda r: len(r.received) == 1)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGTERM):
        worker.process.send_signal(signum)
    assert worker.process.wait(10) == 0, worker.text()
    release.set()
    assert worker.text().count("received, stopping") == 1 and "stopped" in worker.text()
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.attempts == 1 and delivery.claimed_by is None
        db.session.rollback()


def test_two_workers_at_once_send_nothing_twice(app, world, receiver, workers):
    first, second = workers(), workers()
    ids = _planned_visits(world, 60, versions=3)
    _wait(lambda: _states(app) == Counter({DELIVERED: 180}), timeout=90, what="180 deliveries")
    received = [r.event for r in receiver.received]
    assert len(received) == 180
    assert len({e["id"] for e in received}) == 180, "an event was sent twice"
    versions = defaultdict(list)
    for event in received:
        versions[event["record_id"]].append(event["version"])
    assert set(versions) == set(ids)
    assert all(v == [1, 2, 3] for v in versions.values()), "out of order"
    # Both took part.
    assert "delivered" in first.text() and "delivered" in second.text()
