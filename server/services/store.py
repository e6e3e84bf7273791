"""Storing one checked change to a synced record: new version, per-field
clocks, history and feed, through the transaction's ``ChangeWriter``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.attributes import instance_state

from ..models import Account, Visit, utcnow
from .changes import Actor, ChangeWriter
from .records import account_id_of, json_converter


def to_json_value(entity: str, name: str, value: Any) -> Any:
    if value is None:
        return None
    conv = json_converter(entity, name)
    return value if conv is None else conv(value)


# The records a new record of each entity points at by foreign key.
PARENTS = {
    "visit": (("account_id", Account),),
    "payment": (("account_id", Account), ("visit_id", Visit)),
    "promise": (("account_id", Account), ("visit_id", Visit)),
    "attachment": (("account_id", Account), ("visit_id", Visit)),
}


def _flush_pending_parents(writer: ChangeWriter, entity: str, record) -> None:
    """Flush first when a new record points at one this transaction has
    not written yet. The session flushes only when it must (a batch of
    visits is one flush), and without relationship() it does not order
    the INSERTs of different tables by their foreign keys."""
    for attribute, model in PARENTS.get(entity, ()):
        parent_id = getattr(record, attribute, None)
        parent = writer.known(model, parent_id) if parent_id else None
        if parent is not None and instance_state(parent).pending:
            writer.session.flush()
            return


def save(
    writer: ChangeWriter,
    entity: str,
    record,
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
        _flush_pending_parents(writer, entity, record)
        writer.session.add(record)
        writer.created(record)
    writer.append_history(
        entity, record.id, record.version,
        {name: to_json_value(entity, name, value) for name, value in changes.items()},
        actor, reason,
    )
    writer.publish(entity, record.id, account_id_of(entity, record), record.version, new=new)
    return True
