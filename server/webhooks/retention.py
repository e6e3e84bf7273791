"""How long sent webhooks are kept (``FIELDVISIT_WEBHOOK_KEEP_DAYS``).

A delivery that went through is deleted that many days after it went
through, and an event once none of its deliveries is left. Pending and
failed deliveries stay whatever their age: a pending one is still being
sent, a failed one waits for a supervisor to send it again (the
Deliveries page). The worker runs ``prune_delivered`` as a scheduled job
(``schedule.py``); it deletes in batches, each its own short transaction,
so the worker never holds the tables for long."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select

from .models import DELIVERED, WebhookDelivery, WebhookEvent

BATCH = 5000


def prune_delivered(session, keep_days: float, now: datetime) -> dict:
    """Delete what has been kept long enough; commits each batch. The
    counts of deleted deliveries and events."""
    if keep_days <= 0:
        return {"deliveries": 0, "events": 0}
    before = now - timedelta(days=keep_days)
    deliveries = _in_batches(session, WebhookDelivery, select(WebhookDelivery.id).where(
        WebhookDelivery.state == DELIVERED, WebhookDelivery.delivered_at < before))
    events = _in_batches(session, WebhookEvent, select(WebhookEvent.id).where(
        WebhookEvent.occurred_at < before,
        ~exists().where(WebhookDelivery.event_id == WebhookEvent.id)))
    return {"deliveries": deliveries, "events": events}


def _in_batches(session, model, ids) -> int:
    total = 0
    while True:
        batch = session.scalars(ids.limit(BATCH)).all()
        if not batch:
            return total
        session.execute(delete(model).where(model.id.in_(batch)))
        session.commit()
        total += len(batch)
