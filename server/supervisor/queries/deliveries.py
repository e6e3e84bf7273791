"""The deliveries page: webhook deliveries by state, newest first, with
their events, and the worker's scheduled jobs."""

from __future__ import annotations

from math import ceil

from sqlalchemy import func, select

from ...webhooks.models import STATES, WebhookDelivery, WebhookEvent, WorkerJob
from .review import Paged


def state_counts(session) -> dict[str, int]:
    found = dict(session.execute(select(WebhookDelivery.state, func.count())
                                 .group_by(WebhookDelivery.state)).all())
    return {state: found.get(state, 0) for state in STATES}


def deliveries_page(session, state: str | None, page: int = 1, per_page: int = 50) -> Paged:
    """``(delivery, event)`` pairs; ``state`` None for every state."""
    query = select(WebhookDelivery, WebhookEvent).join(
        WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
    count = select(func.count()).select_from(WebhookDelivery)
    if state:
        query = query.where(WebhookDelivery.state == state)
        count = count.where(WebhookDelivery.state == state)
    total = session.scalar(count)
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(query.order_by(WebhookDelivery.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return Paged([tuple(r) for r in rows], total, page, pages)


def worker_jobs(session) -> list[WorkerJob]:
    return list(session.scalars(select(WorkerJob).order_by(WorkerJob.name)))
