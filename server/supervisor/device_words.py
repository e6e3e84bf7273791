"""Devices in words for the supervisor pages: a clock offset ("4 min
fast"), an age ("3 h"), and why a device stands out
(``server/services/devices.py``)."""

from __future__ import annotations

from datetime import datetime

from . import i18n


def span(seconds: float) -> str:
    """A length of time rounded to what a person needs: minutes under two
    hours, hours under two days, then days."""
    minutes = int(round(abs(seconds) / 60))
    if minutes < 120:
        return i18n.ngettext("{n} min", "{n} min", minutes)
    hours = int(round(minutes / 60))
    if hours < 48:
        return i18n.ngettext("{n} h", "{n} h", hours)
    return i18n.ngettext("{n} day", "{n} days", int(round(hours / 24)))


def clock_offset(seconds: float | None) -> str:
    """A device's clock against the server's: fast (ahead) or slow."""
    if seconds is None:
        return ""
    if abs(seconds) < 60:
        return i18n.translate("right (within a minute)")
    if seconds > 0:
        return i18n.translate("{span} fast", span=span(seconds))
    return i18n.translate("{span} slow", span=span(seconds))


def ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return ""
    if (now - value).total_seconds() < 60:
        return i18n.translate("just now")
    return i18n.translate("{span} ago", span=span((now - value).total_seconds()))


def reason(code: str, device, now: datetime, clock_limit_s: float) -> str:
    """Why the device stands out, with its figure, and what to do."""
    c = device.client
    if code == "waiting":
        return i18n.translate(
            "Changes have waited on this phone for {span}: ask the collector to open the app "
            "where there is a connection.", span=span((now - c.outbox_oldest_at).total_seconds()))
    if code == "not_seen":
        seen = device.last_seen_at
        if seen is None:
            return i18n.translate("Never synced.")
        return i18n.translate("Not synced for {span}: is the phone still in use?",
                              span=span((now - seen).total_seconds()))
    if code == "old_version":
        return i18n.translate("Runs an old version of the app: ask the collector to accept "
                              "the update it offers.")
    if code == "clock_off":
        return i18n.translate(
            "Its clock is {offset} (more than {limit} min off): visit times from it are "
            "flagged. Ask the collector to set the phone's time automatically.",
            offset=clock_offset(c.clock_offset_s), limit=int(clock_limit_s // 60))
    return code
