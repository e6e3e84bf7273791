"""Do-not-visit windows: times the debtor asked not to be visited, or the
office set (a bereavement, a wedding, a stay in hospital) — docs/protocol.md 1.1
"Account contact restrictions".

A window is ``{"from", "to", "reason"}`` with RFC 3339 instants. It covers
``from`` up to, but not including, ``to``: "not until after the funeral on
the 12th" is a window ending at midnight that starts the 13th, and a visit at
that midnight is allowed. Windows compare instants, so the account's time
zone and daylight-saving changes play no part here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .clock import as_utc

INSIDE_DO_NOT_VISIT = "inside_do_not_visit"  # visit flag
DO_NOT_VISIT = "do_not_visit"  # plan warning


def _instant(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value, "window time")


def window_bounds(window: Mapping[str, Any]) -> tuple[datetime, datetime]:
    return _instant(window["from"]), _instant(window["to"])


def covers(window: Mapping[str, Any], moment: datetime) -> bool:
    start, end = window_bounds(window)
    return start <= as_utc(moment, "moment") < end


def window_at(windows: Iterable[Mapping[str, Any]] | None,
              moment: datetime | None) -> Mapping[str, Any] | None:
    """The first window covering ``moment``, or None."""
    if moment is None:
        return None
    for window in windows or ():
        if covers(window, moment):
            return window
    return None


def is_inside_do_not_visit(moment: datetime | None,
                           windows: Iterable[Mapping[str, Any]] | None) -> bool:
    return window_at(windows, moment) is not None
