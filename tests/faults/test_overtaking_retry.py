"""A phone with a short timeout re-sends a batch while the server is still
applying the first copy, so several copies of one batch race through
different workers. Exactly one copy applies; the others answer
``duplicate``; nothing is doubled."""

from __future__ import annotations

import threading
import uuid

import pytest

from bench.load import call, visit_mutation

from .client import SyncClient

ROUNDS = 10
COPIES = 4
BATCH = 10


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_copies_of_one_batch_racing_apply_once(deploy, backend):
    deployment = deploy(backend, ["racer"], accounts_per_user=2, workers=4)
    phone = SyncClient(deployment.url, "racer")
    accounts = phone.account_ids()
    phone.login()
    for _ in range(ROUNDS):
        # A new client each round: the first push also creates its row,
        # the case where two copies race to insert it.
        client_id = str(uuid.uuid4())
        batch = [visit_mutation(seq, client_id, accounts[seq % 2]) for seq in range(1, BATCH + 1)]
        body = {"client_id": client_id, "mutations": batch}
        answers = []
        start = threading.Barrier(COPIES)

        def send(body=body, answers=answers, start=start):
            start.wait(timeout=30)
            answers.append(call(deployment.url, "POST", "/api/v1/sync/push", body, phone.token))

        threads = [threading.Thread(target=send) for _ in range(COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert [status for status, _ in answers] == [200] * COPIES
        statuses = sorted(" ".join(sorted({r["status"] for r in data["results"]}))
                          for _, data in answers)
        assert statuses == ["applied"] + ["duplicate"] * (COPIES - 1)

    db = deployment.database
    assert db.rows("SELECT count(*), max(version) FROM visits") == [(ROUNDS * BATCH, 1)]
    assert db.rows("SELECT count(*), min(last_seq), max(last_seq) FROM clients") == [
        (ROUNDS, BATCH, BATCH)]
    assert deployment.tracebacks() == []
