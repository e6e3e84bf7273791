"""Reading synced records: their wire form, their account, and who may see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from marshmallow import fields as mfields

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


# --------------------------------------------------------------------------
# The wire form straight from database rows (pull's hot path)
#
# ``to_wire`` dumps an ORM object through the entity's marshmallow schema:
# per field a ``get_value``, an accessor and a ``_serialize`` call, half of a
# pull's time, after loading the ORM objects (a quarter more). A pull only
# reads, so it selects the columns as plain rows and ``WireSerializer``
# builds the same dict (same keys, same order, same values; the test
# ``tests/api/test_wire_format.py`` compares the two on every record of the
# demo data) with one precompiled converter per field.


def _converter(field) -> Callable[[Any], Any] | None:
    """What ``field.serialize`` does to a value that is not None, as one
    call (None: the value as it is)."""
    if isinstance(field, mfields.DateTime) and field.format in (None, "iso", "iso8601"):
        return datetime.isoformat
    if isinstance(field, mfields.Date) and field.format in (None, "iso", "iso8601"):
        return date.isoformat
    if isinstance(field, mfields.Integer) and not field.as_string:
        return int
    if isinstance(field, mfields.Float) and not field.as_string:
        return float
    if isinstance(field, mfields.String):
        return str
    if isinstance(field, mfields.Boolean) and type(field)._serialize is mfields.Field._serialize:
        return None
    name = field.name

    def generic(value, _field=field, _name=name):
        return _field.serialize(_name, {_name: value})
    return generic


class WireSerializer:
    """One entity's ``to_wire`` for a row of ``columns`` (a Core select)."""

    def __init__(self, entity: str):
        spec = ENTITIES[entity]
        table = RECORD_MODELS[entity].__table__
        self.entity = entity
        self.fields = tuple((name, _converter(field)) for name, field in spec.schema.dump_fields.items())
        for name, _conv in self.fields:
            if name not in table.c:
                raise RuntimeError(f"{entity}.{name} is not a column")
        self.read_only = tuple(name for name in spec.read_only if name in table.c)
        names = ("id", "version", *(n for n, _ in self.fields), *self.read_only, "updated_at")
        self.columns = tuple(table.c[n] for n in names)
        self._n = len(self.fields)

    def __call__(self, row, extras: dict[str, Any] | None = None) -> dict[str, Any]:
        data = {}
        values = iter(row)
        record_id = next(values)
        version = next(values)
        for (name, conv), value in zip(self.fields, values, strict=False):
            data[name] = value if value is None or conv is None else conv(value)
        data["id"] = record_id
        data["version"] = version
        for name, value in zip(self.read_only, values, strict=False):
            data[name] = value.isoformat() if hasattr(value, "isoformat") else value
        updated_at = next(values)
        data["updated_at"] = updated_at.isoformat() if updated_at else None
        if extras:
            data.update(extras)
        return data


WIRE: dict[str, WireSerializer] = {}


def wire_serializer(entity: str) -> WireSerializer:
    serializer = WIRE.get(entity)
    if serializer is None:
        serializer = WIRE[entity] = WireSerializer(entity)
    return serializer


_JSON_CONVERTERS: dict[tuple[str, str], Callable[[Any], Any] | None] = {}


def _isoformat_or_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def json_converter(entity: str, name: str) -> Callable[[Any], Any] | None:
    """What turns a value (not None) of ``entity.name`` into its JSON form
    for history and conflicts: the field's own serialization, or for a
    field outside the schema (flags, made_at) ``isoformat`` where there is
    one. None: the value as it is."""
    key = (entity, name)
    try:
        return _JSON_CONVERTERS[key]
    except KeyError:
        pass
    field = ENTITIES[entity].schema.fields.get(name)
    conv = _converter(field) if field is not None else _isoformat_or_value
    _JSON_CONVERTERS[key] = conv
    return conv
