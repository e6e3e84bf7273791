"""Issue 3, item 2: through a seeded fault-injecting proxy, 2,000 visits
pushed in batches reach the database exactly once, and a pull through the
same proxy ends with exactly what a direct pull sees."""

from __future__ import annotations

import pytest

from bench.flaky_proxy import FaultRates, FlakyProxy

from .client import RetryPolicy, SyncClient

VISITS = 2000
BATCH = 50
# Every fault often enough to hit a few times in ~100 connections, rarely
# enough that the run stays well under a minute. Deterministic: one client
# thread, so the proxy hands out its seeded fates in a fixed order.
RATES = FaultRates(reset=0.06, drop_request=0.06, cut_body=0.06, drop_response=0.12,
                   delay=0.2, delay_max_s=0.15)
FAST_RETRY = RetryPolicy(attempts=40, base_s=0.02, cap_s=0.5, timeout_s=60)


@pytest.mark.slow
def test_exactly_once_through_a_flaky_network(deploy):
    deployment = deploy("sqlite", ["flaky1"], accounts_per_user=20)
    with FlakyProxy(deployment.server.port, RATES, seed=20261129, lifetime_s=240) as proxy:
        phone = SyncClient(proxy.url, "flaky1", seed=1, policy=FAST_RETRY)
        accounts = phone.account_ids()
        assert len(accounts) == 20
        phone.record_visits(accounts, VISITS)

        # A phone that starts past the server's counter is told where to
        # resume (409 expected_seq) and loses nothing.
        answer = phone.push_batch(phone.outbox[BATCH:2 * BATCH])
        assert answer["error"]["expected_seq"] == 1
        assert phone.outbox[0]["seq"] == 1

        phone.push_all(BATCH)
        assert phone.last_seq == VISITS and phone.outbox == []

        through_proxy = SyncClient(proxy.url, "flaky1", seed=2, policy=FAST_RETRY)
        flaky_view = through_proxy.pull_all(limit=100)
        stats = dict(proxy.stats)

    direct_view = SyncClient(deployment.url, "flaky1").pull_all(limit=1000)
    assert flaky_view == direct_view
    assert sum(1 for entity, _ in direct_view if entity == "visit") == VISITS
    assert all(version == 1 for (entity, _), version in direct_view.items() if entity == "visit")

    db = deployment.database
    assert db.scalar("SELECT count(*) FROM visits") == VISITS
    assert db.rows(f"SELECT last_seq FROM clients WHERE client_id = '{phone.client_id}'") == [(VISITS,)]
    # Exactly once in the history too: one accepted change per seq.
    assert db.rows(
        f"SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM history "
        f"WHERE client_id = '{phone.client_id}'") == [(VISITS, VISITS, 1, VISITS)]

    # Each kind of fault really happened, so the test proves what it says.
    for fate in ("reset", "drop_request", "cut_body", "drop_response", "delay"):
        assert stats.get(fate, 0) > 0, stats
    assert phone.transport_failures > 0
    assert deployment.audit_verify().returncode == 0
    assert deployment.tracebacks() == []
