"""Reading synced records: their wire form, their account, and who may see them."""

from __future__ import annotations

from typing import Any

from ..entities import ENTITIES
from ..models import RECORD_MODELS, Account, User


def account_id_of(entity: str, record) -> str:
    return record.id if entity == "account" else record.account_id


def in_scope(user: User, account: Account | None) -> bool:
    """A collector sees the accounts assigned to them (and everything of
    those accounts); a supervisor sees everything."""
    if account is None:
        return False
    return user.is_supervisor or account.assigned_collector_id == user.id


def field_values(entity: str, record) -> dict[str, Any]:
    """The record's writable fields as Python values (for the merge)."""
    return {name: getattr(record, name) for name in ENTITIES[entity].schema.fields}


def wire_value(entity: str, name: str, value: Any) -> Any:
    """One field's value in its JSON form (dates and times as strings)."""
    if value is None:
        return None
    field = ENTITIES[entity].schema.fields[name]
    return field.serialize(name, {name: value})


def to_wire(entity: str, record, extras: dict[str, Any] | None = None) -> dict[str, Any]:
    """All of a record's fields in their wire form, with its id, version and
    read-only fields."""
    spec = ENTITIES[entity]
    data = spec.schema.dump(record)
    data["id"] = record.id
    data["version"] = record.version
    for name in spec.read_only:
        if hasattr(record, name):
            value = getattr(record, name)
            data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    data["updated_at"] = record.updated_at.isoformat() if record.updated_at else None
    if extras:
        data.update(extras)
    return data


def model_for(entity: str):
    return RECORD_MODELS[entity]
