"""How the pages show times, money and clocks.

Supervisors read times on one wall clock: the configured
``SUPERVISOR_TIMEZONE`` (or ``FIELDVISIT_SUPERVISOR_TIMEZONE``), else the
time zone most of the portfolio's accounts are in, else UTC. "Today" on the
dashboard and the date filters of the visit log use the same clock."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g
from sqlalchemy import func, select

from .. import labels
from ..extensions import db
from ..models import Account


def display_zone() -> ZoneInfo:
    if "fv_zone" not in g:
        g.fv_zone = _find_zone()
    return g.fv_zone


def _find_zone() -> ZoneInfo:
    name = (current_app.config.get("SUPERVISOR_TIMEZONE")
            or os.environ.get("FIELDVISIT_SUPERVISOR_TIMEZONE"))
    if not name:
        name = db.session.scalar(
            select(Account.timezone).group_by(Account.timezone)
            .order_by(func.count().desc(), Account.timezone).limit(1))
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day`` starts and the next day starts."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def today(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()


def fmt_datetime(value: datetime | None, zone: ZoneInfo | str | None = None,
                 seconds: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(zone, str):
        try:
            zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
    local = value.astimezone(zone or display_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_time(value: datetime | None) -> str:
    return value.astimezone(display_zone()).strftime("%H:%M") if value else ""


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def fmt_amount(minor: int | None) -> str:
    """Minor units as a major-unit amount with thousands separators."""
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def fmt_money(minor: int | None, currency: str | None) -> str:
    """With the currency's symbol in the reader's language (NT$1,213,800),
    by the same rules as the phone (``server/labels.py``)."""
    if minor is None:
        return ""
    from .i18n import current_language

    return labels.format_money(minor, currency, current_language())


def hlc_instant(hlc: str | None) -> datetime | None:
    """The wall-clock part of an HLC string as an aware datetime."""
    if not hlc:
        return None
    try:
        return datetime.fromtimestamp(int(hlc.split(":", 1)[0]) / 1000, UTC)
    except (ValueError, OverflowError):
        return None
