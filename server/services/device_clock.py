"""The phone's clock when it sent a visit's times (docs/protocol.md 1.1 "Device
clock and device report").

A push may say when the phone sent it (``sent_at``); the difference to the
server's clock on arrival is the phone's clock offset (network time only
adds a second or two). When that offset is beyond the configured limit,
the arrival and departure times that push writes are in doubt: the visit
keeps them as recorded, and the write layer stores the offset in minutes
with the visit, which flags it ``device_clock_off`` (``server/rules/flags.py``).

Choice: the stored offset sticks. A later push with a right clock, or a
supervisor's amendment, does not clear it (the times it doubted may still
be the ones written then); a later wrong clock replaces it only when it is
further off. A push without ``sent_at`` sets nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VISIT_TIME_FIELDS = ("arrived_at", "departed_at")
COLUMN = "device_clock_offset_min"


@dataclass(frozen=True)
class DeviceClock:
    """A push's clock: ``offset_s`` = sent_at − server receive time
    (positive: the phone is fast), and the limit beyond which it is off."""

    offset_s: float
    limit_s: float

    @property
    def off(self) -> bool:
        return abs(self.offset_s) > self.limit_s

    @property
    def minutes(self) -> int:
        return int(round(self.offset_s / 60))


def visit_clock_values(visit, clock: DeviceClock | None, changes: Mapping[str, Any]) -> dict:
    """The offset to store on ``visit`` (set on it too) when this change
    writes one of its times from a phone whose clock is off; else nothing."""
    if clock is None or not clock.off:
        return {}
    if not any(changes.get(name) is not None for name in VISIT_TIME_FIELDS):
        return {}
    minutes = clock.minutes
    old = getattr(visit, COLUMN, None)
    if old is not None and abs(old) >= abs(minutes):
        return {}
    setattr(visit, COLUMN, minutes)
    return {COLUMN: minutes}
