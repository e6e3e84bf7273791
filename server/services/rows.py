"""Records as the write layer holds them: plain objects over a synced
table's columns, read with Core selects and written in batches with Core
``executemany`` (``ChangeWriter.flush``).

The ORM's unit of work — instrumented attributes, identity bookkeeping, a
flush plan per transaction — was a third of a push's cost for what the
write layer does with a record: read its columns, change a few, write it
back. A ``Row`` is just that: its columns as attributes, whether it is new,
and which columns changed since it was read or last written. Pages and
reports still read records through the ORM models; only writes go this
way, and only through ``writes.apply_change``.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, insert, update

from ..models import RECORD_MODELS, utcnow


class Row:
    """One record of a synced table. Subclassed per model by ``row_class``."""

    model: type
    table: Any
    columns: tuple[str, ...]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('id')} v{self.__dict__.get('version')}>"

    def changed(self, names) -> None:
        """Mark columns as changed (the next flush writes them)."""
        self._dirty.update(names)


@functools.cache
def row_class(model) -> type[Row]:
    table = model.__table__
    return type(f"{model.__name__}Row", (Row,), {
        "model": model, "table": table, "columns": tuple(c.name for c in table.columns),
    })


def from_database(model, mapping) -> Row:
    row = row_class(model).__new__(row_class(model))
    row.__dict__.update(mapping)
    row._new = False
    row._dirty = set()
    return row


# Set by ``new_row`` itself for every new record.
_OWN = frozenset({"id", "version", "field_clocks", "created_at", "updated_at"})


@functools.cache
def _defaults(model) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    """The columns' scalar defaults, and the callables of the others."""
    scalars, callables = {}, []
    for column in model.__table__.columns:
        if column.name in _OWN:
            continue
        default = column.default
        if default is None:
            scalars[column.name] = None
        elif default.is_callable:
            callables.append((column.name, default.arg))
        else:
            scalars[column.name] = default.arg
    return scalars, tuple(callables)


def new_row(model, record_id: str) -> Row:
    """A record not yet in the database, with the columns' defaults (as the
    ORM would give it at insert)."""
    cls = row_class(model)
    row = cls.__new__(cls)
    scalars, callables = _defaults(model)
    values = dict(scalars)
    for name, make in callables:
        values[name] = make(None)  # SQLAlchemy's wrapper takes the execution context
    now = utcnow()
    values.update(id=record_id, version=0, field_clocks={}, created_at=now, updated_at=now)
    row.__dict__.update(values)
    row._new = True
    row._dirty = set()
    return row


# Parents before children: the foreign keys of a batch's inserts are met in
# this order (a payment's visit is written before the payment).
WRITE_ORDER = tuple(RECORD_MODELS.values())


def write_rows(session, rows: list[Row]) -> None:
    """Insert the new rows and update the changed ones, one executemany per
    table (and per set of changed columns), parents first."""
    by_model: dict[type, list[Row]] = {}
    for row in rows:
        by_model.setdefault(row.model, []).append(row)
    for model in sorted(by_model, key=_write_rank):
        table = model.__table__
        inserts = [r for r in by_model[model] if r._new]
        if inserts:
            # Only the columns that hold a value (the others are NULL all the
            # same): a new visit sets a dozen of its forty, and every bound
            # value costs its type's processing. Rows with the same columns
            # go in one executemany.
            # (A column with a default is always sent, None too, or the
            # statement would fill in its default instead of the row's None.)
            always = _with_default(model)
            shapes: dict[tuple[str, ...], list[dict]] = {}
            for r in inserts:
                values = {c: v for c in r.columns
                          if (v := r.__dict__[c]) is not None or c in always}
                shapes.setdefault(tuple(values), []).append(values)
            for rows_of_shape in shapes.values():
                session.execute(insert(table), rows_of_shape)
            for r in inserts:
                r._new = False
                r._dirty.clear()
        groups: dict[frozenset, list[Row]] = {}
        for r in by_model[model]:
            if r._dirty:
                groups.setdefault(frozenset(r._dirty), []).append(r)
        for names, group in groups.items():
            # Bind names of their own: a column's name is reserved for the SET clause.
            statement = update(table).where(table.c.id == bindparam("row_id")).values(
                {name: bindparam("new_" + name) for name in names})
            session.execute(statement, [{"row_id": r.id, **{"new_" + n: r.__dict__[n] for n in names}}
                                        for r in group])
            for r in group:
                r._dirty.clear()


@functools.cache
def _with_default(model) -> frozenset[str]:
    return frozenset(c.name for c in model.__table__.columns if c.default is not None)


def _write_rank(model) -> int:
    return WRITE_ORDER.index(model) if model in WRITE_ORDER else len(WRITE_ORDER)
