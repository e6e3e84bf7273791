"""Storing one checked change to a synced record: new version, per-field
clocks, history and feed, through the transaction's ``ChangeWriter``."""

from __future__ import annotations

from typing import Any

from ..models import utcnow
from .changes import Actor, ChangeWriter
from .records import account_id_of, json_converter
from .rows import Row


def to_json_value(entity: str, name: str, value: Any) -> Any:
    if value is None:
        return None
    conv = json_converter(entity, name)
    return value if conv is None else conv(value)


def save(
    writer: ChangeWriter,
    entity: str,
    record: Row,
    changes: dict[str, Any],
    actor: Actor,
    *,
    new: bool = False,
    clocks: dict[str, list] | None = None,
    reason: str | None = None,
) -> bool:
    """Write ``changes`` (Python values) to ``record`` as one new version,
    with its history row and feed position. Only ``writes.apply_change``
    calls this: the checks and follow-ups of a change live there.

    ``clocks`` are the record's field clocks after the change (computed by
    the sync core). Returns False when nothing changed."""
    if not changes and not new:
        return False
    for name, value in changes.items():
        setattr(record, name, value)
    record.version = (record.version or 0) + 1
    if clocks is not None:
        record.field_clocks = clocks
    elif record.field_clocks is None:
        record.field_clocks = {}
    record.updated_at = utcnow()
    if new:
        writer.created(record)
    else:
        writer.changed(record, (*changes, "version", "field_clocks", "updated_at"))
    writer.append_history(
        entity, record.id, record.version,
        {name: to_json_value(entity, name, value) for name, value in changes.items()},
        actor, reason,
    )
    writer.publish(entity, record.id, account_id_of(entity, record), record.version, new=new)
    return True
