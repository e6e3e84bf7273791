"""The worker runs the promise upkeep and the attachment purge on a
schedule (no cron line), one worker at a time."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server.extensions import db
from server.models import Promise, utcnow
from server.services.derived import promise_id_for
from server.webhooks.models import WorkerJob
from server.webhooks.schedule import Job, jobs_from_config, run_due, take
from tests.planning.support import done_visit

from .process import WorkerProcess, worker_env


def _due_promise(app, world) -> str:
    """A pending promise whose day ended long ago (as in
    tests/planning/test_planning_upkeep.py: made for 2030, then dated back)."""
    visit_id = done_visit(world.phone("alice"), world.accounts["A-1"], "2030-01-05T10:00:00+08:00",
                          result="promise_to_pay", promise_amount=20000, promise_date="2030-01-06")
    promise_id = promise_id_for(visit_id)
    with app.app_context():
        db.session.execute(update(Promise).where(Promise.id == promise_id).values(
            promise_date=date(2025, 1, 6), made_at=datetime.fromisoformat("2025-01-05T02:00:00+00:00")))
        db.session.commit()
    return promise_id


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_worker_process_breaks_a_due_promise_and_sends_the_change(
        app, world, receiver, tmp_path):
    promise_id = _due_promise(app, world)
    env = worker_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", [receiver.url],
                     WORKER_PROMISES_MINUTES="0.05", WORKER_PURGE_MINUTES="0.05")
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        worker.start()
        receiver.wait_for(lambda r: any(
            e.event["entity"] == "promise" and e.event["data"]["status"] == "broken"
            for e in r.accepted()), timeout=30)
        worker.wait_for_log("job attachments.purge")
    finally:
        worker.stop()
    with app.app_context():
        assert db.session.get(Promise, promise_id).status == "broken"
        jobs = {j.name: j for j in db.session.scalars(select(WorkerJob))}
        assert json.loads(jobs["promises.refresh"].last_result) == {
            "checked": 1, "kept": 0, "broken": 1, "refused": 0}
        assert json.loads(jobs["attachments.purge"].last_result)["purged"] == 0
        refreshed = jobs["promises.refresh"]
        assert refreshed.last_error is None and refreshed.claimed_by is None
        assert refreshed.next_run_at - refreshed.last_finished_at == timedelta(minutes=0.05)


def test_a_job_is_run_by_one_worker_at_a_time(app):
    runs = []
    job = Job("test.job", timedelta(minutes=10), lambda: runs.append(1) or {"ok": True})
    with app.app_context():
        assert take(db.session, job, "worker-a")
        # While worker a holds it, nobody else takes it.
        assert not take(db.session, job, "worker-b")
        # Worker a dies; its lease runs out; then another takes it.
        db.session.execute(update(WorkerJob).where(WorkerJob.name == "test.job")
                           .values(claimed_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert run_due(db.session, [job], "worker-b") == ["test.job"]
        assert runs == [1]
        # Done: not due again for ten minutes, whoever asks.
        assert run_due(db.session, [job], "worker-a") == []
        row = db.session.get(WorkerJob, "test.job")
        assert row.claimed_by is None and json.loads(row.last_result) == {"ok": True}


def test_a_failing_job_is_recorded_and_the_next_one_still_runs(app):
    def broken():
        raise RuntimeError("the store is unreachable")

    later = []
    jobs = [Job("test.broken", timedelta(minutes=1), broken),
            Job("test.fine", timedelta(minutes=1), lambda: later.append(time.time()) or {})]
    with app.app_context():
        assert run_due(db.session, jobs, "w") == ["test.broken", "test.fine"]
        row = db.session.get(WorkerJob, "test.broken")
        assert "RuntimeError: the store is unreachable" in row.last_error
        assert row.claimed_by is None and row.next_run_at > utcnow()
        assert later


def test_intervals_come_from_the_settings(app):
    names = {j.name: j.every for j in jobs_from_config(
        {"WORKER_PROMISES_MINUTES": 15, "WORKER_PURGE_MINUTES": 0})}
    assert names == {"promises.refresh": timedelta(minutes=15)}
    defaults = {j.name: j.every for j in jobs_from_config(app.config)}
    assert defaults == {"promises.refresh": timedelta(minutes=15),
                        "attachments.purge": timedelta(minutes=60),
                        "webhooks.prune": timedelta(minutes=60)}
