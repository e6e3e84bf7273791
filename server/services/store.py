"""Saving a change to a synced record: new version, per-field clocks,
history and feed, through the transaction's ``ChangeWriter``."""

from __future__ import annotations

from typing import Any

from ..entities import ENTITIES
from ..models import utcnow
from .changes import Actor, ChangeWriter
from .records import account_id_of


def to_json_value(entity: str, name: str, value: Any) -> Any:
    if value is None:
        return None
    field = ENTITIES[entity].schema.fields.get(name)
    if field is not None:
        return field.serialize(name, {name: value})
    return value.isoformat() if hasattr(value, "isoformat") else value


def save(
    writer: ChangeWriter,
    entity: str,
    record,
    changes: dict[str, Any],
    actor: Actor,
    *,
    new: bool = False,
    clocked: tuple[str, ...] | None = None,
    reason: str | None = None,
) -> bool:
    """Apply ``changes`` (Python values) to ``record`` as one new version.

    ``clocked`` names the fields whose clock moves to this writer (default:
    every changed field); computed fields such as flags are not clocked, as
    no phone writes them. Returns False when nothing changed."""
    if not changes and not new:
        return False
    for name, value in changes.items():
        setattr(record, name, value)
    record.version = (record.version or 0) + 1
    clocks = dict(record.field_clocks or {})
    for name in clocked if clocked is not None else changes:
        clocks[name] = [record.version, actor.hlc, actor.client_id]
    record.field_clocks = clocks
    record.updated_at = utcnow()
    if new:
        writer.session.add(record)
    writer.append_history(
        entity, record.id, record.version,
        {name: to_json_value(entity, name, value) for name, value in changes.items()},
        actor, reason,
    )
    writer.publish(entity, record.id, account_id_of(entity, record), record.version)
    return True
