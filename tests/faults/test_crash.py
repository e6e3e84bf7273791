"""Issue 3, item 3: ``kill -9`` of the whole server (master and workers)
while phones are pushing, twice, on SQLite and on PostgreSQL. After the
restart and the phones' retries every mutation is applied exactly once,
no batch was ever half applied, and the history chain verifies."""

from __future__ import annotations

import threading
import time

import pytest

from .client import RetryPolicy, SyncClient

PHONES = 4
VISITS = 150          # per phone
BATCH = 25
KILL_AT = (100, 350)  # kill when this many visits are in the database
# Retries must outlast a restart (a few seconds on a busy 2-core machine).
PATIENT = RetryPolicy(attempts=60, base_s=0.05, cap_s=1.0, timeout_s=60)


class Batches:
    """Every batch any phone sent, by its first seq: the unit that must be
    all-or-nothing in the database."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_key: dict[tuple[str, int], list[str]] = {}

    def record(self, client_id: str, batch: list[dict]) -> None:
        with self.lock:
            self.by_key.setdefault((client_id, batch[0]["seq"]), [m["id"] for m in batch])

    def half_applied(self, present: set[str]) -> list[tuple[tuple[str, int], int, int]]:
        with self.lock:
            items = list(self.by_key.items())
        return [(key, n, len(ids)) for key, ids in items
                if 0 < (n := sum(i in present for i in ids)) < len(ids)]


def _wait_for_visits(database, count: int, threads, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while database.scalar("SELECT count(*) FROM visits") < count:
        assert time.monotonic() < deadline, f"never reached {count} visits"
        assert any(t.is_alive() for t in threads), "the phones stopped early"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill_9_while_pushing_applies_everything_exactly_once(deploy, backend):
    names = [f"crash{i}" for i in range(PHONES)]
    deployment = deploy(backend, names, accounts_per_user=5)
    database = deployment.database
    phones = [SyncClient(deployment.url, name, seed=i, policy=PATIENT) for i, name in enumerate(names)]
    for phone in phones:
        phone.record_visits(phone.account_ids(), VISITS)

    batches, errors = Batches(), []

    def run(phone: SyncClient) -> None:
        try:
            phone.push_all(BATCH, on_batch=lambda b: batches.record(phone.client_id, b))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,), daemon=True) for p in phones]
    for thread in threads:
        thread.start()
    interrupted = 0
    try:
        for threshold in KILL_AT:
            _wait_for_visits(database, threshold, threads)
            interrupted += sum(p.in_flight == "/api/v1/sync/push" for p in phones)
            deployment.server.kill()
            # With the server dead, the database holds only whole batches.
            present = {row[0] for row in database.rows("SELECT id FROM visits")}
            assert batches.half_applied(present) == []
            deployment.restart()
    finally:
        for thread in threads:
            thread.join(timeout=240)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    assert interrupted > 0, "no push was on the wire when the server was killed"

    total = PHONES * VISITS
    assert database.scalar("SELECT count(*) FROM visits") == total
    assert database.rows("SELECT count(*) FROM visits WHERE version <> 1") == [(0,)]
    assert sorted(database.rows("SELECT client_id, last_seq FROM clients")) == sorted(
        (p.client_id, VISITS) for p in phones)
    # One history row per (client, seq): nothing applied twice.
    assert database.rows(
        "SELECT count(*) FROM (SELECT client_id, seq FROM history WHERE seq IS NOT NULL "
        "GROUP BY client_id, seq HAVING count(*) > 1) AS doubled") == [(0,)]
    assert database.scalar("SELECT count(*) FROM history WHERE entity = 'visit'") == total
    present = {row[0] for row in database.rows("SELECT id FROM visits")}
    assert batches.half_applied(present) == []
    assert all(p.outbox == [] and p.last_seq == VISITS for p in phones)

    audit = deployment.audit_verify()
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert deployment.tracebacks() == []
