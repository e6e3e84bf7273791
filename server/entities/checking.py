"""One field's value checked the way its marshmallow field checks it, but
cheaper for the values phones send every time.

``deserialize`` per field is a push's largest single cost after the
database: for each value it walks marshmallow's generic machinery (missing
and null handling, the type's parsing, every validator through
``_validate_all``). For the field types the entity schemas use, the common
case — a value already of the right JSON type — needs only the type's own
conversion and the field's validators, both public (``Field.validators``).
Anything else (a wrong type, a value a validator refuses, a field type not
listed here) goes through ``field.deserialize`` itself, so every refusal
reads exactly as marshmallow words it, and every accepted value is the one
marshmallow would give (``tests/api/test_wire_format.py`` compares the two
for every field of every entity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError, fields

from .fields import StrictBoolean

Checker = Callable[[Any], Any]


class _Slow(Exception):
    """Not the common case: let marshmallow decide."""


def _string(value):
    if type(value) is not str:
        raise _Slow
    return value


def _integer(value):
    if type(value) is not int:
        raise _Slow
    return value


def _float(value):
    if type(value) is float:
        result = value
    elif type(value) is int:
        try:
            result = float(value)
        except OverflowError:
            raise _Slow from None
    else:
        raise _Slow
    if not math.isfinite(result):
        raise _Slow
    return result


def _boolean(value):
    if value is True or value is False:
        return value
    raise _Slow


def _aware_datetime(value):
    # The same parser marshmallow's DateTime uses for its "iso" format.
    if type(value) is not str or not value:
        raise _Slow
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Slow from None
    if parsed.utcoffset() is None:
        raise _Slow
    return parsed


def _date(value):
    if type(value) is not str or not value:
        raise _Slow
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Slow from None


def _fast_path(field: fields.Field) -> Callable[[Any], Any] | None:
    kind = type(field)
    if kind is fields.String:
        return _string
    if kind is fields.Integer and field.strict:
        return _integer
    if kind is fields.Float and not field.allow_nan:
        return _float
    if kind is StrictBoolean:
        return _boolean
    if kind is fields.AwareDateTime and field.format in (None, "iso", "iso8601") \
            and field.default_timezone is None:
        return _aware_datetime
    if kind is fields.Date and field.format in (None, "iso", "iso8601"):
        return _date
    return None


def checker(field: fields.Field, name: str) -> Checker:
    """``value -> Python value``, raising marshmallow's ValidationError
    exactly as ``field.deserialize(value)`` would."""
    fast = _fast_path(field)
    validators = tuple(field.validators)
    allow_none = field.allow_none

    def slow(value):
        return field.deserialize(value, name, {name: value})

    if fast is None:
        return slow

    def check(value):
        if value is None:
            return None if allow_none else slow(value)
        try:
            result = fast(value)
        except _Slow:
            return slow(value)
        try:
            for validator in validators:
                if validator(result) is False:
                    raise ValidationError("")
        except ValidationError:
            return slow(value)  # raises with marshmallow's own words
        return result

    return check
