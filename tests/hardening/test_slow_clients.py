"""The shipped production configuration on PostgreSQL keeps answering
while 50 slow clients dribble request heads and bodies: ``gunicorn
wsgi:app`` started in the repository reads ``gunicorn.conf.py``, and a
collector's pulls answer within a second throughout 20 s of attack (the
README's old recipe, four sync workers, answered none)."""

from __future__ import annotations

import os
import time

import pytest

from bench.load import Database, provision
from bench.slow_clients import ProductionServer, PullProbe, SlowClients, login

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_ADMIN_URL = os.environ.get("FIELDVISIT_TEST_POSTGRES_URL")


@pytest.fixture
def production(tmp_path):
    if not PG_ADMIN_URL:
        if os.environ.get("FIELDVISIT_REQUIRE_POSTGRES") == "1":
            pytest.fail("FIELDVISIT_REQUIRE_POSTGRES=1 but FIELDVISIT_TEST_POSTGRES_URL is not set")
        pytest.skip("set FIELDVISIT_TEST_POSTGRES_URL: the production test runs on PostgreSQL")
    database = Database.create(PG_ADMIN_URL, tmp_path)
    server = None
    try:
        env = provision(database, tmp_path, ["alice"])
        server = ProductionServer(env, tmp_path).start()
        yield server
    finally:
        if server is not None:
            server.stop()
        database.drop()


def test_fifty_slow_clients_never_stop_a_collectors_pulls(production):
    assert "Using worker: server.gunicorn_worker.DeadlineThreadWorker" in production.log_text()
    token = login(production.url, "alice")
    host, port = production.url.removeprefix("http://").rsplit(":", 1)
    attack = SlowClients(host, int(port), 50).start()
    try:
        time.sleep(2)  # every slow connection is at the server before the pulls start
        probe = PullProbe(production.url, token, every=0.25).start()
        held = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.5)
            held.append(attack.held)
        probe.stop()
    finally:
        attack.stop()
    # The attack was real: 50 slow connections open at the server all along.
    assert min(held) >= 45, held
    assert attack.open_failures == 0
    # Availability, the property under test: every pull answered, each
    # within a second (they take ~20 ms unloaded; the margin is wide).
    assert probe.failures == []
    assert len(probe.latencies) >= 40
    slow = [round(t, 2) for t in probe.latencies if t > 1.0]
    assert slow == [], slow
    # The server cut the slow clients off itself, with a 408 in JSON.
    assert attack.cut >= 50
    assert set(attack.answers) <= {"HTTP/1.1 408 Request Timeout", "HTTP/1.1 408 REQUEST TIMEOUT"}
    assert "Traceback" not in production.log_text()
