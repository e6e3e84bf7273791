"""Field types and value checks shared by the entities' schemas.

What a stored value may be is decided here once: text PostgreSQL can
store, numbers that are finite and in range, times a datetime can hold,
UUIDs in the protocol's form. Every writer reaches these through the
entity schemas (``server/services/writes.py``)."""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from .. import messages

C, S = "collector", "supervisor"
BOTH = frozenset({C, S})
SUPERVISOR = frozenset({S})
COLLECTOR = frozenset({C})
NOBODY: frozenset[str] = frozenset()


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_known_timezone(name: str) -> bool:
    """Looked up in the list of zones, never by opening a file named after
    client input (a 300-character name raised OSError, a 500)."""
    return name in _known_timezones()


def _valid_timezone(name: str) -> None:
    if not is_known_timezone(name):
        raise ValidationError(messages.NOT_TIMEZONE)


class StrictBoolean(fields.Boolean):
    """Only JSON true/false: "yes" or 1 from a buggy client is an error,
    not a silent guess."""

    truthy = {True}
    falsy = {False}


def text(max_len: int = 2000, **kw):
    return fields.String(allow_none=True, validate=validate.Length(max=max_len), **kw)


def enum(values, **kw):
    return fields.String(validate=validate.OneOf(values), **kw)


def money(**kw):
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=10**15), **kw)


# \Z, not $: "$" also matches before a final newline, and "<uuid>\n" was
# taken as a client_id (then too long for its column on PostgreSQL: 500).
UUID_VALIDATOR = validate.Regexp(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z",
    error=messages.NOT_UUID,
)


def is_record_id(value: Any) -> bool:
    """Whether ``value`` has the form of a record id (before it is looked up)."""
    try:
        UUID_VALIDATOR(value)
    except (ValidationError, TypeError):
        return False
    return True


LAT = validate.Range(min=-90, max=90)
LON = validate.Range(min=-180, max=180)


def ref_id(**kw):
    return fields.String(validate=UUID_VALIDATOR, **kw)


def timezone(**kw):
    return fields.String(validate=_valid_timezone, **kw)


def currency(**kw):
    return fields.String(validate=validate.Regexp(r"^[A-Z]{3}\Z", error=messages.NOT_CURRENCY), **kw)


def coordinate(bounds, **kw):
    return fields.Float(allow_none=True, validate=bounds, allow_nan=False, **kw)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(value: Any) -> bool:
    """PostgreSQL text holds no NUL, and a lone surrogate (valid JSON, e.g.
    an emoji cut in half by a client) cannot be encoded as UTF-8: storing
    either failed with a 500 for the whole batch."""
    if isinstance(value, str):
        # A str holds a surrogate code point only unpaired (JSON's escaped
        # pairs are decoded to one character), and UTF-8 has none.
        return _UNSTORABLE.search(value) is None
    if isinstance(value, dict):
        return all(is_storable(k) and is_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_storable(v) for v in value)
    if isinstance(value, float):
        # NaN and infinities are no JSON: a JSON column on PostgreSQL
        # refuses them (a refused mutation holding one failed its batch).
        return value == value and value not in (float("inf"), float("-inf"))
    return True


def storable_copy(value: Any) -> Any:
    """``value`` with what cannot be stored replaced (NUL and lone
    surrogates by U+FFFD, non-finite numbers by their text), so that a
    refused change can still be kept and shown as it was sent."""
    if isinstance(value, str):
        if is_storable(value):
            return value
        return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in value)
    if isinstance(value, float) and not is_storable(value):
        return repr(value)
    if isinstance(value, dict):
        return {storable_copy(k): storable_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_copy(v) for v in value]
    return value


# Times near the ends of what a datetime holds overflowed (to UTC, or in
# the rules' day and week arithmetic) into a 500 that failed the whole
# batch and so blocked the phone's outbox; no real visit is outside these.
MIN_YEAR, MAX_YEAR = 1900, 2999


def in_year_range(value: Any) -> bool:
    if isinstance(value, datetime):
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            return False
    if isinstance(value, date):
        return MIN_YEAR <= value.year <= MAX_YEAR
    return True


def visible_characters(value: str) -> int:
    """Letters and digits left once white space and invisible characters
    (Unicode categories Z*, Cc, Cf) are removed: what a reason must have
    to count as one (docs/protocol.md 1.1, "Done visits and amendments")."""
    kept = [ch for ch in value if not unicodedata.category(ch).startswith(("Z", "Cc", "Cf"))]
    return sum(1 for ch in kept if ch.isalnum())
