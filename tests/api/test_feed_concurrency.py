"""Concurrent writers and a concurrent reader: a pull never skips a change
that was committed before the page was read (docs/protocol.md "Pull").

On PostgreSQL a sequence value taken early can commit late, so a reader
that has moved past it would never see that row; the feed lock in
``ChangeWriter`` prevents this. Each writer here creates fresh records and
never touches them again, so a skipped row would be missing for good."""

import threading
import uuid

import pytest
from webtest import TestApp

from ..helpers import Phone, latest

WRITERS = 4
BATCHES = 12
PER_BATCH = 5


def test_incremental_pulls_during_concurrent_pushes_miss_nothing(app, world):
    sup_login = world.login("sup").json
    alice_login = world.login("alice").json
    errors: list[str] = []
    done = threading.Event()

    def writer(n):
        phone = Phone(TestApp(app), alice_login["token"], alice_login["user"])
        try:
            for _ in range(BATCHES):
                muts = [phone.mutation("visit", str(uuid.uuid4()),
                                       {"account_id": world.accounts[f"A-{1 + n % 3}"], "plan_notes": f"w{n}"})
                        for _ in range(PER_BATCH)]
                results = phone.push(muts).json["results"]
                if any(r["status"] != "applied" for r in results):
                    errors.append(f"writer {n}: {results}")
        except Exception as exc:  # noqa: BLE001 - reported below, the test must fail
            errors.append(f"writer {n}: {exc!r}")

    reader = Phone(TestApp(app), sup_login["token"], sup_login["user"])
    seen = []

    def read_while_writing():
        try:
            while not done.is_set():
                seen.extend(reader.pull_all(limit=7))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"reader: {exc!r}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    puller = threading.Thread(target=read_while_writing)
    puller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    puller.join(timeout=60)
    assert not errors, errors[:3]
    seen.extend(reader.pull_all())  # catch up on what came after the last page

    incremental = {k for k in latest(seen, "visit")}
    fresh = Phone(TestApp(app), sup_login["token"], sup_login["user"])
    complete = {k for k in latest(fresh.pull_all(), "visit")}
    assert len(complete) == WRITERS * BATCHES * PER_BATCH
    assert incremental == complete


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite has one writer at a time
def test_a_slow_writer_holding_its_feed_position_is_never_skipped(app, world, monkeypatch):
    """One writer takes its feed positions and then stalls before it
    commits; later writers finish meanwhile as far as they can. A pull
    during the stall and every pull after it see each change — the slow
    writer's included — exactly in commit order, never skipping one."""
    from server.services.changes import ChangeWriter

    sup_login = world.login("sup").json
    alice_login = world.login("alice").json
    stalled, release = threading.Event(), threading.Event()
    slow_thread: dict = {}
    real_finish = ChangeWriter.finish

    def finish(self):
        real_finish(self)
        if threading.get_ident() == slow_thread.get("id"):
            stalled.set()          # positions taken, lock held, not committed
            release.wait(30)

    monkeypatch.setattr(ChangeWriter, "finish", finish)
    reader = Phone(TestApp(app), sup_login["token"], sup_login["user"])
    reader.pull_all()
    slow_visit = str(uuid.uuid4())
    errors: list[str] = []

    def slow():
        slow_thread["id"] = threading.get_ident()
        phone = Phone(TestApp(app), alice_login["token"], alice_login["user"])
        try:
            phone.push([phone.mutation("visit", slow_visit, {"account_id": world.accounts["A-1"]})])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    later_visits = [str(uuid.uuid4()) for _ in range(3)]

    def later(visit_id, n):
        phone = Phone(TestApp(app), alice_login["token"], alice_login["user"])
        try:
            phone.push([phone.mutation("visit", visit_id, {"account_id": world.accounts[f"A-{2 + n % 2}"]})])
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    slow_writer = threading.Thread(target=slow)
    slow_writer.start()
    assert stalled.wait(30)
    others = [threading.Thread(target=later, args=(v, n)) for n, v in enumerate(later_visits)]
    for t in others:
        t.start()
    others[-1].join(timeout=1.0)
    # They did their work beside the slow writer and now wait for the feed
    # lock it holds until its commit.
    assert all(t.is_alive() for t in others)

    during = [c["id"] for c in reader.pull_all() if c["entity"] == "visit"]
    assert during == [], "nothing is visible before the slow writer commits"
    release.set()
    slow_writer.join(timeout=30)
    for t in others:
        t.join(timeout=30)
    assert not errors, errors
    after = [c["id"] for c in reader.pull_all() if c["entity"] == "visit"]
    assert after[0] == slow_visit and sorted(after[1:]) == sorted(later_visits)


def test_concurrent_writers_of_one_record_lose_no_change(app, world):
    """Two devices change the same visit at the same time, over and over:
    every change makes its own version, none overwrites another (each
    writer holds the record's row lock on PostgreSQL; SQLite has one
    writer at a time)."""
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import HistoryEntry, Visit

    alice_login = world.login("alice").json
    visit_id = str(uuid.uuid4())
    first = Phone(TestApp(app), alice_login["token"], alice_login["user"])
    assert first.write("visit", visit_id, {"account_id": world.accounts["A-1"]})["status"] == "applied"
    rounds, errors = 15, []

    def writer(field):
        phone = Phone(TestApp(app), alice_login["token"], alice_login["user"])
        try:
            for n in range(rounds):
                result = phone.write("visit", visit_id, {field: f"{field} {n}"}, base_version=1)
                if result["status"] not in ("applied", "merged"):
                    errors.append(result)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(f,)) for f in ("notes", "plan_notes")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.notes, visit.plan_notes) == (f"notes {rounds - 1}", f"plan_notes {rounds - 1}")
        assert visit.version == 1 + 2 * rounds
        versions = db.session.scalars(select(HistoryEntry.version).where(
            HistoryEntry.record_id == visit_id).order_by(HistoryEntry.id)).all()
        assert versions == list(range(1, 2 + 2 * rounds))
        assert db.session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.record_id == visit_id)) == 1 + 2 * rounds
