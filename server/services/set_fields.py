"""What a set field held at the version a writer last saw, for the item-by-item
merge of concurrent writes (``sync.merge.SET_FIELDS``, docs/rules.md
"Do-not-visit windows").

The history keeps every accepted change with the values it wrote, so the
value at version B is the one written by the latest change at or before B
that touched the field; a field never written still has its creation
default (an empty list). Asked only when a write is concurrent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..models import HistoryEntry


def value_at(session, entity: str, record_id: str, name: str, version: int) -> Any:
    rows = session.execute(
        select(HistoryEntry.changes)
        .where(HistoryEntry.entity == entity, HistoryEntry.record_id == record_id,
               HistoryEntry.version <= version)
        .order_by(HistoryEntry.version.desc(), HistoryEntry.id.desc())
    )
    for (changes,) in rows:
        if name in (changes or {}):
            return changes[name]
    return []


def base_reader(session, entity: str, record_id: str, version: int):
    """``name -> value at version`` for ``sync.merge.decide_fields(base=...)``.
    History holds the JSON form, which for a set field is its Python form."""
    return lambda name: value_at(session, entity, record_id, name, version)
