"""Sending due deliveries: claim, POST, record the outcome.

* **Never two workers on one delivery.** A worker claims a batch by
  setting ``claimed_by``/``claimed_until`` (its lease). On PostgreSQL the
  candidates are read ``FOR UPDATE SKIP LOCKED``, so concurrent workers
  take different rows without waiting for each other; on SQLite the claim
  is one UPDATE, which runs under the database's single write lock. A
  worker killed mid-delivery (``kill -9``) records nothing; its claims run
  out after the lease and another worker sends them again, same event id.
* **In order per record.** A delivery is not claimed while an earlier one
  (lower id) of the same record and endpoint is pending — being retried
  or claimed by another worker. A failed one (given up) no longer holds
  the later ones back.
* **Backoff.** After a failure the next attempt waits ``backoff_s``,
  doubled after each further failure up to ``backoff_max_s``; once a
  failure comes ``retry_hours`` after the window started (the event's
  creation, or a supervisor's retry), the delivery is marked failed.
* The POSTs of a batch run on a few threads and touch no database; each
  outcome is written as it comes, only while the claim is still this
  worker's.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from ..models import utcnow
from .models import DELIVERED, FAILED, PENDING, WebhookDelivery, WebhookEvent
from .sending import Outcome, post

log = logging.getLogger(__name__)

D = WebhookDelivery


@dataclass(frozen=True)
class DeliverySettings:
    secret: str
    timeout_s: float = 10.0
    retry_hours: float = 24.0
    backoff_s: float = 10.0
    backoff_max_s: float = 3600.0
    lease_s: float = 60.0
    batch: int = 20
    threads: int = 4

    @classmethod
    def from_config(cls, config) -> DeliverySettings:
        return cls(secret=config.get("WEBHOOK_SECRET") or "",
                   timeout_s=config["WEBHOOK_TIMEOUT_S"],
                   retry_hours=config["WEBHOOK_RETRY_HOURS"],
                   backoff_s=config["WEBHOOK_BACKOFF_S"],
                   backoff_max_s=config["WEBHOOK_BACKOFF_MAX_S"],
                   lease_s=config["WEBHOOK_LEASE_S"])

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        seconds = min(self.backoff_s * 2 ** min(attempts - 1, 40), self.backoff_max_s)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Claimed:
    id: int
    event_id: str
    endpoint: str
    attempts: int
    window_started_at: datetime
    body: str


def _candidates(now: datetime, limit: int):
    earlier = aliased(WebhookDelivery)
    held_back = exists().where(earlier.entity == D.entity, earlier.record_id == D.record_id,
                               earlier.endpoint == D.endpoint, earlier.id < D.id,
                               earlier.state == PENDING)
    return (select(D.id)
            .where(D.next_attempt_at <= now, D.state == PENDING,
                   or_(D.claimed_until.is_(None), D.claimed_until < now), ~held_back)
            .order_by(D.id).limit(limit))


def claim(session, worker: str, settings: DeliverySettings, now: datetime | None = None) -> list[Claimed]:
    """Claim up to ``settings.batch`` due deliveries for ``worker`` and commit."""
    now = now or utcnow()
    until = now + timedelta(seconds=settings.lease_s)
    candidates = _candidates(now, settings.batch)
    if session.get_bind().dialect.name == "postgresql":
        ids = session.scalars(candidates.with_for_update(skip_locked=True, of=D)).all()
        where = D.id.in_(ids) if ids else None
    else:
        # One statement: SQLite runs it under its write lock, so two
        # workers' claims follow one another and never overlap.
        where = D.id.in_(candidates.scalar_subquery())
    if where is None:
        session.commit()
        return []
    session.execute(update(D).where(where, D.state == PENDING)
                    .values(claimed_by=worker, claimed_until=until)
                    .execution_options(synchronize_session=False))
    rows = session.execute(
        select(D.id, D.event_id, D.endpoint, D.attempts, D.window_started_at, WebhookEvent.body)
        .join(WebhookEvent, WebhookEvent.id == D.event_id)
        .where(D.claimed_by == worker, D.claimed_until == until, D.state == PENDING)
        .order_by(D.id)).all()
    session.commit()
    return [Claimed(*row) for row in rows]


def send(claimed: Claimed, settings: DeliverySettings) -> Outcome:
    try:
        return post(claimed.endpoint, claimed.event_id, claimed.body.encode(), settings.secret,
                    settings.timeout_s)
    except Exception as exc:  # anything else is a failed attempt too, never a stuck claim
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])


def record(session, worker: str, claimed: Claimed, outcome: Outcome,
           settings: DeliverySettings, now: datetime | None = None) -> str:
    """Write the outcome of one attempt; returns the delivery's new state."""
    now = now or utcnow()
    attempts = claimed.attempts + 1
    values = {"attempts": attempts, "last_attempt_at": now, "last_status": outcome.status,
              "claimed_by": None, "claimed_until": None}
    if outcome.ok:
        state = DELIVERED
        values.update(state=DELIVERED, delivered_at=now, last_error=None, next_attempt_at=None)
    elif now - claimed.window_started_at >= timedelta(hours=settings.retry_hours):
        state = FAILED
        values.update(state=FAILED, failed_at=now, last_error=outcome.error, next_attempt_at=None)
    else:
        state = PENDING
        values.update(next_attempt_at=now + settings.backoff(attempts), last_error=outcome.error)
    result = session.execute(update(D).where(D.id == claimed.id, D.claimed_by == worker)
                             .values(**values).execution_options(synchronize_session=False))
    session.commit()
    if result.rowcount != 1:
        # The lease ran out and another worker took the delivery over: its
        # outcome is the one that counts.
        log.warning("delivery %s: claim lost before its outcome was written", claimed.id)
    return state


class Dispatcher:
    """One worker's sending loop step (``server/worker.py`` calls ``run_once``)."""

    def __init__(self, session_factory, worker: str, settings: DeliverySettings):
        self.session_factory = session_factory
        self.worker = worker
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=settings.threads,
                                       thread_name_prefix="webhook-post")

    def run_once(self) -> int:
        """Claim a batch, send it, record the outcomes; the batch's size."""
        session = self.session_factory()
        batch = claim(session, self.worker, self.settings)
        if not batch:
            return 0
        futures = {self.pool.submit(send, claimed, self.settings): claimed for claimed in batch}
        # Each outcome is written as soon as it is known: a worker stopped
        # hard mid-batch leaves only the POSTs under way to be sent again.
        for future in as_completed(futures):
            claimed, outcome = futures[future], future.result()
            state = record(session, self.worker, claimed, outcome, self.settings)
            log.info("event %s to %s: %s%s", claimed.event_id, claimed.endpoint, state,
                     "" if outcome.ok else f" ({outcome.error})")
        return len(batch)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
