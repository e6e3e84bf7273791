"""The webhook queue's tables. Imported by ``server/models.py`` so that the
metadata (``create_all``, Alembic's comparison) includes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATES = (PENDING, DELIVERED, FAILED)


class WebhookEvent(db.Model):
    """One committed change of a record, as it is POSTed: ``body`` holds the
    exact JSON bytes (as text), so every attempt to every endpoint sends the
    same bytes under the same ``id``."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)


class WebhookDelivery(db.Model):
    """One event for one endpoint. ``id`` ascends in commit order (rows are
    written under the write layer's feed lock), which is the order a
    record's events are sent in; ``entity``/``record_id`` are copied from
    the event so that order is checked without a join."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The claim: due deliveries (only pending ones have a next attempt,
        # so the index holds no history), and for each whether an earlier
        # one of the same record and endpoint is still pending. Without
        # ``state`` in the first index PostgreSQL checks the second with the
        # record index even before its statistics know the table.
        Index("ix_webhook_deliveries_due", "next_attempt_at"),
        Index("ix_webhook_deliveries_record", "entity", "record_id", "endpoint", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2000))
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Retries go on until this much after the start of the window (the
    # event's creation, or a supervisor's retry of a failed delivery).
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None once delivered or failed.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # A worker's claim: nobody else sends it until ``claimed_until``.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerJob(db.Model):
    """A periodic job of the workers (``schedule.py``): when it is due next,
    and the lease of the one worker running it now."""

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
