"""A collector's route for one day, and when to leave for each stop.

Inputs are plain dicts (one per visit), outputs plain dicts; the server turns
them into the ``/plan`` answer and the phone can run the same algorithm.

Algorithm (deterministic; ties broken by ``visit_id``):

1. *Fixed* stops (those with ``scheduled_at``) keep their appointment and are
   visited in time order.  *Flexible* stops (``scheduled_at`` None) are placed
   around them.
2. Starting from ``start`` (the collector's start point) at
   ``day_context.available_from`` (default: the start of contact hours), the
   planner repeatedly takes the nearest flexible stop (geodesic distance from
   the current position) that still fits before the next fixed appointment —
   i.e. its visit, ``visit_minutes`` on site, the travel on to the appointment
   and the early margin all fit.  When none fits, it goes to the appointment
   and continues from there.  After the last appointment the remaining
   flexible stops follow by nearest neighbour.  Nearest neighbour is not an
   optimal tour, but for the handful of stops of one day it gives the route a
   person would draw: no crossing back and forth across town.
3. With no known start point the first flexible stop is the one from which
   the nearest-neighbour path through all flexible stops is shortest.
4. A flexible stop is given a suggested time: leave now, travel, arrive
   ``early_margin_minutes`` before it (rounded up to 5 minutes).  If that time
   is outside the preferred windows and the next window of the day still fits
   before the next appointment, the stop waits for that window (seed tip 9);
   never before the start of contact hours.
5. Each stop gets ``leave_by = scheduled_at − travel − early margin`` (seed
   tip 3), ``distance_km`` from the previous known position (0 when none is
   known), and warnings:

   - ``no_position``: the account has no coordinates (distance unknown; a
     flexible stop without one goes last, unscheduled);
   - ``outside_preferred_window`` / ``outside_contact_hours``: by the
     account's wall clock, with its jurisdiction's contact hours;
   - ``attempt_limit``: with ``attempts_before`` (earlier attempts) the
     planned visit would exceed the attempt limit of the account's
     jurisdiction (a planned visit seeks the original contact);
   - ``do_not_visit``: ``scheduled_at`` falls inside one of the account's
     do-not-visit windows (``do_not_visit``);
   - ``same_slot_repeat``: ``last_attempt_at`` was in the same part of the day;
   - ``tight_schedule``: ``leave_by`` is before the collector can leave the
     previous stop (appointments too close together).

Travel time: geodesic distance × ``detour_factor`` ÷ ``travel_speed_kmh``,
rounded up to whole minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from geopy.distance import geodesic

from .attempts import ORIGINAL_CONTACT, counted_attempts
from .clock import as_utc, at_local, to_local
from .config import DEFAULT_CONFIG, RulesConfig
from .flags import attempts_recent, day_part, previous_attempt
from .restrictions import DO_NOT_VISIT, is_inside_do_not_visit

NO_POSITION = "no_position"
OUTSIDE_PREFERRED_WINDOW = "outside_preferred_window"
OUTSIDE_CONTACT_HOURS = "outside_contact_hours"
ATTEMPT_LIMIT = "attempt_limit"
SAME_SLOT_REPEAT = "same_slot_repeat"
TIGHT_SCHEDULE = "tight_schedule"

Position = tuple[float, float]
_ROUND_TO = timedelta(minutes=5)


@dataclass(frozen=True)
class DayContext:
    """The day being planned: its date, the zone to read it in, when work starts."""

    day: date
    timezone: str
    # When the collector can leave the start point; None = start of contact hours.
    available_from: datetime | None = None


def distance_km(a: Position, b: Position) -> float:
    """Geodesic (WGS-84) distance in kilometres."""
    return geodesic(a, b).km


def travel_minutes(distance_km: float, cfg: RulesConfig = DEFAULT_CONFIG) -> int:
    """Minutes to cover ``distance_km`` of straight line by road, rounded up."""
    if distance_km <= 0:
        return 0
    minutes = distance_km * cfg.detour_factor / cfg.travel_speed_kmh * 60
    # round() first so that float noise (3.0000000004) does not add a minute.
    return math.ceil(round(minutes, 6))


def position_of(stop: Mapping[str, Any]) -> Position | None:
    lat, lon = stop.get("lat"), stop.get("lon")
    return None if lat is None or lon is None else (float(lat), float(lon))


def in_preferred_window(moment: datetime, tz_name: str, cfg: RulesConfig = DEFAULT_CONFIG) -> bool:
    clock = to_local(moment, tz_name).time()
    return any(start <= clock <= end for start, end in cfg.preferred_window_times)


def in_contact_hours(moment: datetime, tz_name: str, cfg: RulesConfig = DEFAULT_CONFIG) -> bool:
    clock = to_local(moment, tz_name).time()
    return cfg.contact_start <= clock <= cfg.contact_end


def stop_warnings(
    stop: Mapping[str, Any], scheduled_at: datetime | None, cfg: RulesConfig = DEFAULT_CONFIG
) -> list[str]:
    """Warnings that depend on the stop and its time alone (not on the route),
    by the rules of the stop's jurisdiction (``stop["jurisdiction"]``)."""
    cfg = cfg.for_account(stop)
    warnings = []
    if position_of(stop) is None:
        warnings.append(NO_POSITION)
    if scheduled_at is None:
        return warnings
    tz_name = stop["timezone"]
    if not in_preferred_window(scheduled_at, tz_name, cfg):
        warnings.append(OUTSIDE_PREFERRED_WINDOW)
    if not in_contact_hours(scheduled_at, tz_name, cfg):
        warnings.append(OUTSIDE_CONTACT_HOURS)
    before = counted_attempts(stop.get("attempts_before") or (), ORIGINAL_CONTACT, cfg)
    if attempts_recent(before, scheduled_at, cfg) + 1 > cfg.attempt_max:
        warnings.append(ATTEMPT_LIMIT)
    if is_inside_do_not_visit(scheduled_at, stop.get("do_not_visit")):
        warnings.append(DO_NOT_VISIT)
    last = stop.get("last_attempt_at")
    if last is not None and previous_attempt(scheduled_at, [last]) is not None:
        this_part = day_part(to_local(scheduled_at, tz_name).time(), cfg)
        if this_part == day_part(to_local(last, tz_name).time(), cfg):
            warnings.append(SAME_SLOT_REPEAT)
    return warnings


def _round_up(moment_utc: datetime) -> datetime:
    """Round an instant up to the next whole 5 minutes (times people can read)."""
    epoch = datetime(2000, 1, 1, tzinfo=moment_utc.tzinfo)
    steps = math.ceil((moment_utc - epoch) / _ROUND_TO)
    return epoch + steps * _ROUND_TO


class _Router:
    """Walks the day, keeping the current position and the time the collector is free."""

    def __init__(
        self, start: Position | None, cfg: RulesConfig, ctx: DayContext
    ) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.position = start
        default_start = at_local(ctx.day, cfg.contact_start, ctx.timezone)
        self.free_at = as_utc(ctx.available_from or default_start, "available_from")
        # End of the previous visit; None before the first (the day's start is no clash).
        self.busy_until: datetime | None = None
        self.route: list[dict[str, Any]] = []

    # -- geometry --------------------------------------------------------

    def _leg(self, target: Position | None) -> tuple[float, int]:
        """(km, minutes) from the current position; 0 when either end is unknown."""
        if self.position is None or target is None:
            return 0.0, 0
        km = distance_km(self.position, target)
        return km, travel_minutes(km, self.cfg)

    def _nearest_first(self, flexible: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        if self.position is not None:
            here = self.position
            return sorted(flexible, key=lambda s: (distance_km(here, position_of(s)), s["visit_id"]))
        # No start point: begin where the whole nearest-neighbour path is shortest.
        return sorted(flexible, key=lambda s: (_greedy_length(s, flexible), s["visit_id"]))

    # -- scheduling ------------------------------------------------------

    def _suggest_time(
        self, stop: Mapping[str, Any], travel: int, deadline: datetime | None,
        onward: Position | None,
    ) -> datetime | None:
        """Suggested appointment time for a flexible stop, or None if it does not fit."""
        cfg, tz_name = self.cfg.for_account(stop), stop["timezone"]
        margin = timedelta(minutes=cfg.early_margin_minutes)
        contact_start = as_utc(at_local(self.ctx.day, cfg.contact_start, tz_name))
        earliest = _round_up(max(self.free_at + timedelta(minutes=travel) + margin,
                                 contact_start))
        candidates = [earliest]
        if not in_preferred_window(earliest, tz_name, cfg):
            window_starts = sorted(
                as_utc(at_local(self.ctx.day, start, tz_name))
                for start, _ in cfg.preferred_window_times
            )
            later = [w for w in window_starts if w > earliest]
            if later:
                candidates.insert(0, later[0])
        for when in candidates:
            if deadline is None or self._fits(when, stop, deadline, onward):
                return when
        return None

    def _fits(
        self, when: datetime, stop: Mapping[str, Any], deadline: datetime,
        onward: Position | None,
    ) -> bool:
        """Visit at ``when``, then still leave in time for the appointment at ``deadline``."""
        here = position_of(stop)
        onward_minutes = 0
        if here is not None and onward is not None:
            onward_minutes = travel_minutes(distance_km(here, onward), self.cfg)
        done = when + timedelta(minutes=self.cfg.visit_minutes)
        leave_by = deadline - timedelta(minutes=onward_minutes + self.cfg.early_margin_minutes)
        return done <= leave_by

    def place(
        self, stop: Mapping[str, Any], scheduled_utc: datetime | None, km: float, travel: int,
        fixed: bool, original: datetime | None = None,
    ) -> None:
        """Add ``stop`` to the route at ``scheduled_utc`` (None: unscheduled)."""
        warnings = stop_warnings(stop, scheduled_utc, self.cfg)
        scheduled_at = leave_by = None
        if scheduled_utc is not None:
            shown_tz = original.tzinfo if original is not None else to_local(
                scheduled_utc, stop["timezone"]).tzinfo
            leave_by_utc = scheduled_utc - timedelta(
                minutes=travel + self.cfg.early_margin_minutes)
            if self.busy_until is not None and leave_by_utc < self.busy_until:
                warnings.append(TIGHT_SCHEDULE)
            scheduled_at = original or scheduled_utc.astimezone(shown_tz)
            leave_by = leave_by_utc.astimezone(shown_tz)
            self.busy_until = max(self.free_at, scheduled_utc) + timedelta(
                minutes=self.cfg.visit_minutes)
            self.free_at = self.busy_until
        self.route.append({
            "visit_id": stop["visit_id"],
            "account_id": stop.get("account_id"),
            "scheduled_at": scheduled_at,
            "leave_by": leave_by,
            "distance_km": round(km, 1),
            "travel_minutes": travel,
            "fixed": fixed,
            "warnings": sorted(set(warnings)),
        })
        here = position_of(stop)
        if here is not None:
            self.position = here

    def visit_fixed(self, stop: Mapping[str, Any]) -> None:
        km, travel = self._leg(position_of(stop))
        original = stop["scheduled_at"]
        self.place(stop, as_utc(original, "scheduled_at"), km, travel, True, original)

    def fill(
        self, flexible: list[Mapping[str, Any]], before: Mapping[str, Any] | None
    ) -> None:
        """Place flexible stops (removing them from ``flexible``) until ``before``."""
        deadline = as_utc(before["scheduled_at"]) if before is not None else None
        onward = position_of(before) if before is not None else None
        while flexible:
            for stop in self._nearest_first(flexible):
                km, travel = self._leg(position_of(stop))
                when = self._suggest_time(stop, travel, deadline, onward)
                if when is not None:
                    self.place(stop, when, km, travel, False)
                    flexible.remove(stop)
                    break
            else:
                return  # nothing more fits before the appointment


def _greedy_length(first: Mapping[str, Any], stops: Sequence[Mapping[str, Any]]) -> float:
    """Length of the nearest-neighbour path through ``stops`` starting at ``first``."""
    here = position_of(first)
    rest = [s for s in stops if s is not first]
    total = 0.0
    while rest:
        nxt = min(rest, key=lambda s: (distance_km(here, position_of(s)), s["visit_id"]))
        total += distance_km(here, position_of(nxt))
        here = position_of(nxt)
        rest.remove(nxt)
    return total


def _default_context(fixed: Sequence[Mapping[str, Any]]) -> DayContext:
    if not fixed:
        raise ValueError("plan_route needs a day_context when no stop has a fixed time")
    first = fixed[0]
    return DayContext(day=to_local(first["scheduled_at"], first["timezone"]).date(),
                      timezone=first["timezone"])


def plan_route(
    stops: Sequence[Mapping[str, Any]],
    start: Position | None = None,
    cfg: RulesConfig = DEFAULT_CONFIG,
    day_context: DayContext | None = None,
) -> list[dict[str, Any]]:
    """The day's stops in route order with times and warnings (module docstring).

    Each stop: ``visit_id``, ``account_id``, ``scheduled_at`` (aware datetime
    or None = flexible), ``lat``, ``lon``, ``timezone``; optional
    ``attempts_before`` (aware datetimes or ``Attempt``s), ``last_attempt_at``,
    ``jurisdiction`` and ``do_not_visit`` (the account's windows).
    Returns dicts with ``visit_id``, ``account_id``, ``scheduled_at``,
    ``leave_by``, ``distance_km``, ``travel_minutes``, ``fixed``, ``warnings``.
    """
    fixed = sorted((s for s in stops if s.get("scheduled_at") is not None),
                   key=lambda s: (as_utc(s["scheduled_at"], "scheduled_at"), s["visit_id"]))
    flexible = sorted((s for s in stops if s.get("scheduled_at") is None
                       and position_of(s) is not None), key=lambda s: s["visit_id"])
    unplaceable = sorted((s for s in stops if s.get("scheduled_at") is None
                          and position_of(s) is None), key=lambda s: s["visit_id"])
    ctx = day_context or _default_context(fixed)
    router = _Router(start, cfg, ctx)
    for appointment in fixed:
        router.fill(flexible, before=appointment)
        router.visit_fixed(appointment)
    router.fill(flexible, before=None)
    for stop in unplaceable:
        router.place(stop, None, 0.0, 0, False)
    return router.route


__all__ = [
    "ATTEMPT_LIMIT",
    "DO_NOT_VISIT",
    "NO_POSITION",
    "OUTSIDE_CONTACT_HOURS",
    "OUTSIDE_PREFERRED_WINDOW",
    "SAME_SLOT_REPEAT",
    "TIGHT_SCHEDULE",
    "DayContext",
    "distance_km",
    "in_contact_hours",
    "in_preferred_window",
    "plan_route",
    "position_of",
    "stop_warnings",
    "travel_minutes",
]
