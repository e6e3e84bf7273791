"""The worker's periodic jobs, so no cron line is needed: the promise
upkeep (``services/upkeep.py``, as ``flask promises refresh``), the
attachment purge (``attachments/retention.py``, as ``flask attachments purge``)
and the pruning of sent webhooks (``webhooks/retention.py``).

Each job has a row in ``worker_jobs``. A worker runs a job only after it
took the row's lease in one UPDATE (due, and not leased by a live worker),
so of several workers exactly one runs it at a time; when it is done the
worker sets the next run. A worker killed while running a job leaves a
lease that runs out after ``JOB_LEASE``, and the job runs again then. Every
job is safe to run at any time and twice in a row."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from ..models import utcnow
from .models import WorkerJob

log = logging.getLogger(__name__)

# Longer than any job takes; a job still leased after this is presumed dead.
JOB_LEASE = timedelta(minutes=30)
UPKEEP_CLIENT = "server"


def refresh_promises() -> dict:
    from ..services.changes import Actor
    from ..services.clock import server_clock
    from ..services.upkeep import refresh_due_promises
    from ..services.writes import transaction

    # The server itself decides a promise by the date (as ``promises refresh``).
    actor = Actor(None, UPKEEP_CLIENT, None, str(server_clock.send()))
    return transaction(lambda tx: refresh_due_promises(tx, utcnow(), actor),
                       rules=current_app.config["RULES"])


def purge_attachments() -> dict:
    from ..attachments.retention import purge_attachments as purge

    return purge().as_dict()


def prune_webhooks() -> dict:
    from ..extensions import db
    from .retention import prune_delivered

    return prune_delivered(db.session, current_app.config["WEBHOOK_KEEP_DAYS"], utcnow())


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], dict]


def jobs_from_config(config) -> list[Job]:
    """The jobs switched on, each with its interval (0 minutes: off)."""
    found = []
    for name, key, run in (("promises.refresh", "WORKER_PROMISES_MINUTES", refresh_promises),
                           ("attachments.purge", "WORKER_PURGE_MINUTES", purge_attachments),
                           ("webhooks.prune", "WORKER_PURGE_MINUTES", prune_webhooks)):
        minutes = config.get(key) or 0
        if name == "webhooks.prune" and not config.get("WEBHOOK_KEEP_DAYS"):
            continue  # sent webhooks are kept for good
        if minutes > 0:
            found.append(Job(name, timedelta(minutes=minutes), run))
    return found


def _ensure_row(session, name: str) -> None:
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(module.insert(WorkerJob.__table__)
                    .values(name=name, next_run_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["name"]))


def take(session, job: Job, worker: str) -> bool:
    """Take the job's lease if it is due and nobody holds it; commits."""
    _ensure_row(session, job.name)
    now = utcnow()
    result = session.execute(
        update(WorkerJob)
        .where(WorkerJob.name == job.name, WorkerJob.next_run_at <= now,
               (WorkerJob.claimed_until.is_(None)) | (WorkerJob.claimed_until < now))
        .values(claimed_by=worker, claimed_until=now + JOB_LEASE, last_started_at=now)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1


def run_due(session, jobs: list[Job], worker: str) -> list[str]:
    """Run each due job this worker could take; the names of those run."""
    ran = []
    for job in jobs:
        if not take(session, job, worker):
            continue
        error, result = None, None
        try:
            result = job.run()
        except Exception as exc:  # the worker goes on; the page of the job tells why
            session.rollback()
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.exception("job %s failed", job.name)
        finished = utcnow()
        session.execute(
            update(WorkerJob).where(WorkerJob.name == job.name, WorkerJob.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None, last_finished_at=finished,
                    next_run_at=finished + job.every, last_error=error,
                    last_result=json.dumps(result) if result is not None else None)
            .execution_options(synchronize_session=False))
        session.commit()
        if error is None:
            # Logged once recorded: a reader of the log finds the result on the job's row.
            log.info("job %s: %s", job.name, result)
        ran.append(job.name)
    return ran
