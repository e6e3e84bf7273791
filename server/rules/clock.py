"""Time-zone helpers shared by the rules.

Every rule judges a moment by the *account's* wall clock (contact hours, parts
of the day, promise deadlines), while arithmetic on durations ("the last
7 × 24 hours") must happen on absolute instants.  Python compares and
subtracts aware datetimes that share one ``tzinfo`` object by wall time, which
is wrong across a daylight-saving change, so these helpers convert to UTC
before any arithmetic and to the account's zone only to read the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(tz_name: str | None) -> ZoneInfo:
    """The IANA zone ``tz_name``; ValueError (not KeyError) when unknown."""
    if not tz_name:
        raise ValueError("a time zone name is required (IANA, e.g. 'Asia/Taipei')")
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz_name!r}") from exc


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Refuse naive datetimes: without an offset the instant is unknowable."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def as_utc(moment: datetime, what: str = "datetime") -> datetime:
    """The same instant expressed in UTC (safe to subtract and compare)."""
    return require_aware(moment, what).astimezone(UTC)


def to_local(moment: datetime, tz_name: str) -> datetime:
    """The same instant on the wall clock of ``tz_name``."""
    return require_aware(moment).astimezone(zone(tz_name))


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar date of ``moment`` in ``tz_name``."""
    return to_local(moment, tz_name).date()


def start_of_day_utc(day: date, tz_name: str) -> datetime:
    """The UTC instant at which local ``day`` begins in ``tz_name``.

    Midnight exists in every zone we serve; where a zone skips midnight the
    zoneinfo fold rules give the first valid instant after it.
    """
    return datetime.combine(day, time(0), tzinfo=zone(tz_name)).astimezone(UTC)


def end_of_day_utc(day: date, tz_name: str) -> datetime:
    """The UTC instant at which local ``day`` ends (exclusive): next midnight."""
    return start_of_day_utc(day + timedelta(days=1), tz_name)


def parse_hhmm(text: str) -> time:
    """Parse ``"HH:MM"`` (24-hour clock) into a ``time``; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected a time as 'HH:MM', got {text!r}")
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"expected a time as 'HH:MM', got {text!r}")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ValueError(f"expected a time as 'HH:MM', got {text!r}")
    return time(hour, minute)


def at_local(day: date, clock: time, tz_name: str) -> datetime:
    """The aware datetime for wall-clock ``clock`` on ``day`` in ``tz_name``."""
    return datetime.combine(day, clock, tzinfo=zone(tz_name))
