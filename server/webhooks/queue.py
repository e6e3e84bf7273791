"""Queuing webhook events in the transaction of the change.

The write layer's ``ChangeWriter`` makes an ``EventQueue`` only when
endpoints are configured (``for_transaction``), tells it of every history
row it collects (``note``) and has it write the events in ``finish``,
right after the history rows and before the commit (``write``). So:

* an event exists exactly when its change is committed — a rolled-back
  transaction (a refused push batch, a retried deadlock) leaves none;
* a delivery's ``id`` ascends in commit order for one record (they are
  written under the feed lock), the order ``dispatch.py`` sends them in;
* the ``data`` is the record as a supervisor pulls it, built by the pull's
  own serializer (``services/records.py: wire_serializer``) from the
  record's values at that version, with the evidence a pulled record
  carries (``services/evidence.py``: its conflicts, a done visit's
  amendment trail) seen as the office sees it.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
from flask import current_app, has_app_context
from sqlalchemy import insert, update

from ..models import RECORD_MODELS, utcnow
from ..services.evidence import add_record_evidence
from ..services.records import wire_serializer
from .models import FAILED, PENDING, WebhookDelivery, WebhookEvent

# The protocol's webhook entities (docs/protocol.md "Webhooks"); accounts
# change with every upload of the portfolio and are not sent.
ENTITIES = frozenset({"visit", "payment", "promise", "attachment"})

# Evidence is told relative to a reader; a reader who owns no device sees
# every writer as the office or a collector, as any supervisor would.
_OFFICE_READER = SimpleNamespace(id=None)


def for_transaction(session) -> EventQueue | None:
    """The queue of a writing transaction, or None when no endpoint is
    configured (then the write layer does nothing more than this check)."""
    if not has_app_context():
        return None
    urls = current_app.config.get("WEBHOOK_URLS")
    return EventQueue(tuple(urls)) if urls else None


def _value(value):
    # As the database gives it back: UTC datetimes (a push may send
    # another offset), and a copy of what a later change could mutate.
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, (list, dict)):
        return copy.deepcopy(value)
    return value


def _dumps(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class EventQueue:
    def __init__(self, endpoints: tuple[str, ...]):
        self.endpoints = endpoints
        # (history row, data) per change of a webhook entity, in order.
        self._noted: list[tuple[dict[str, Any], dict[str, Any], Any]] = []

    def note(self, tx, history_row: dict[str, Any]) -> None:
        """A history row was collected: keep the record's wire form at this
        version (a later change in the same transaction moves the record on)."""
        entity = history_row["entity"]
        if entity not in ENTITIES:
            return
        record = tx.get(RECORD_MODELS[entity], history_row["record_id"])
        serializer = wire_serializer(entity)
        values = tuple(_value(getattr(record, column.name)) for column in serializer.columns)
        self._noted.append((history_row, serializer(values), record))

    def write(self, tx) -> None:
        """Insert the events and their deliveries (called by ``finish``,
        after the history rows are written: a visit's amendment trail is
        read from them)."""
        if not self._noted:
            return
        noted, self._noted = self._noted, []
        records = {(row["entity"], row["record_id"]): record for row, _data, record in noted}
        extras: dict[str, dict] = {}
        add_record_evidence(tx.session, _OFFICE_READER, records, extras)
        events, deliveries = [], []
        now = utcnow()
        for row, data, _record in noted:
            event_id = str(uuid.uuid4())
            occurred_at = row["at"]
            data.update(extras.get(row["record_id"], {}))
            body = {
                "id": event_id,
                "type": f"{row['entity']}.changed",
                "occurred_at": occurred_at.astimezone(UTC).isoformat(),
                "entity": row["entity"],
                "record_id": row["record_id"],
                "version": row["version"],
                "data": data,
            }
            events.append({"id": event_id, "type": body["type"], "entity": row["entity"],
                           "record_id": row["record_id"], "version": row["version"],
                           "occurred_at": occurred_at, "body": _dumps(body)})
            for endpoint in self.endpoints:
                deliveries.append({
                    "event_id": event_id, "endpoint": endpoint, "entity": row["entity"],
                    "record_id": row["record_id"], "state": PENDING, "attempts": 0,
                    "created_at": now, "window_started_at": now, "next_attempt_at": now})
        tx.session.execute(insert(WebhookEvent.__table__), events)
        tx.session.execute(insert(WebhookDelivery.__table__), deliveries)


def retry_failed(session, delivery_id: int) -> bool:
    """Send a failed delivery again, the same event under the same id, with
    a new retry window; False when it is not (or no longer) failed."""
    now = utcnow()
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == FAILED)
        .values(state=PENDING, failed_at=None, next_attempt_at=now, window_started_at=now,
                claimed_by=None, claimed_until=None))
    session.commit()
    return result.rowcount == 1
