"""``column`` among a list of ids given at execution, in the form each
database answers fastest.

A pull and a push ask for pages of hundreds of records by id. An expanded
``IN (…)`` has one placeholder per id, so its text changes with every page
size and PostgreSQL's driver parses it anew each time (a third of a pull's
time there); ``= ANY(:ids)`` binds the whole list as one array. SQLite has
no arrays and takes the expanded form."""

from __future__ import annotations

from sqlalchemy import String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(column, dialect: str, name: str = "ids"):
    """The condition ``column ∈ :name`` for ``dialect`` ("postgresql" or
    "sqlite"); bind the list under ``name``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


def dialect_of(session) -> str:
    return session.get_bind().dialect.name
