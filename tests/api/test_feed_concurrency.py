"""Concurrent writers and a concurrent reader: a pull never skips a change
that was committed before the page was read (PROTOCOL.md "Pull").

On PostgreSQL a sequence value taken early can commit late, so a reader
that has moved past it would never see that row; the feed lock in
``ChangeWriter`` prevents this. Each writer here creates fresh records and
never touches them again, so a skipped row would be missing for good."""

import threading
import uuid

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
