"""Checks on a recorded visit, each a small named rule (docs/protocol.md "flags").

A flag does not forbid anything: the visit is kept as recorded (records must
be true) and the flag tells the supervisor what to look at.

Time-zone discipline: wall-clock rules (contact hours, part of the day) read
the time in the *account's* zone; window rules ("7 × 24 hours") subtract on
UTC instants, so a daylight-saving change neither stretches nor shrinks them.

Attempt window: an attempt counts in the window ending at ``t`` when it lies
in ``(t − window_days × 24 h, t]`` — an attempt exactly one week earlier has
dropped out.

Jurisdictions: ``visit_flags`` judges a visit by its account's rules
(``RulesConfig.for_account``: contact hours, attempt limit and how attempts
are counted, docs/rules.md "Jurisdictions"), and flags a visit inside one of
the account's do-not-visit windows (``restrictions.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from geopy.distance import geodesic

from .attempts import Attempt, attempt_person, attempt_time, counted_attempts
from .clock import as_utc, to_local
from .config import DEFAULT_CONFIG, RulesConfig
from .restrictions import INSIDE_DO_NOT_VISIT, is_inside_do_not_visit

OUTSIDE_CONTACT_HOURS = "outside_contact_hours"
FAR_FROM_SITE = "far_from_site"
ARRIVED_LATE = "arrived_late"
NOT_ORIGINAL_CONTACT = "not_original_contact"
ATTEMPT_LIMIT_EXCEEDED = "attempt_limit_exceeded"
SAME_SLOT_REPEAT = "same_slot_repeat"
# The phone's clock was off when it sent the visit's times (docs/protocol.md 1.1
# "Device clock"; the offset is kept by server/services/device_clock.py).
DEVICE_CLOCK_OFF = "device_clock_off"
VISIT_FLAGS = (
    ARRIVED_LATE,
    ATTEMPT_LIMIT_EXCEEDED,
    DEVICE_CLOCK_OFF,
    FAR_FROM_SITE,
    INSIDE_DO_NOT_VISIT,
    NOT_ORIGINAL_CONTACT,
    OUTSIDE_CONTACT_HOURS,
    SAME_SLOT_REPEAT,
)

# Account-level flag: the collector was sent on to someone else on
# ``redirect_limit`` visits in a row (seed tip 12: being passed from person to
# person is a stalling loop; the supervisor should step in).
REDIRECT_LOOP = "redirect_loop"

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"


# -- single rules ------------------------------------------------------------


def is_outside_contact_hours(
    arrived_at: datetime, tz_name: str, cfg: RulesConfig = DEFAULT_CONFIG
) -> bool:
    """Local arrival before the start or after the end (both ends allowed)."""
    local = to_local(arrived_at, tz_name).time().replace(tzinfo=None)
    return local < cfg.contact_start or local > cfg.contact_end


def checkin_distance_m(
    checkin_lat: float | None,
    checkin_lon: float | None,
    site_lat: float | None,
    site_lon: float | None,
) -> float | None:
    """Geodesic (WGS-84) metres between check-in and site; None if either is unknown."""
    if None in (checkin_lat, checkin_lon, site_lat, site_lon):
        return None
    return geodesic((checkin_lat, checkin_lon), (site_lat, site_lon)).meters


def is_far_from_site(
    checkin_lat: float | None,
    checkin_lon: float | None,
    site_lat: float | None,
    site_lon: float | None,
    cfg: RulesConfig = DEFAULT_CONFIG,
) -> bool:
    """Check-in farther than the geofence; never flagged when a position is unknown.

    GPS accuracy is recorded beside the flag by the caller, not subtracted
    here: a supervisor judges a 250 m check-in with a 300 m fix differently,
    but the rule itself stays simple and predictable.
    """
    if None in (checkin_lat, checkin_lon, site_lat, site_lon):
        return False
    # The great-circle distance is within 0.6 % of the geodesic one
    # anywhere on Earth; only a check-in near the edge of the fence needs
    # the exact (and thirty times dearer) geodesic to decide.
    rough = _great_circle_m(checkin_lat, checkin_lon, site_lat, site_lon)
    if rough > cfg.geofence_m * 1.01:
        return True
    if rough < cfg.geofence_m * 0.99:
        return False
    return checkin_distance_m(checkin_lat, checkin_lon, site_lat, site_lon) > cfg.geofence_m


_EARTH_MEAN_RADIUS_M = 6_371_008.8


def _great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def is_arrived_late(
    arrived_at: datetime | None, scheduled_at: datetime | None, cfg: RulesConfig = DEFAULT_CONFIG
) -> bool:
    """Arrival more than ``arrived_late_grace_minutes`` after the appointment.

    Seed tip 3 asks to be there first; the plan's leave-by time already
    aims for it. The flag is for the supervisor, so it marks only a delay
    worth a question: arriving exactly at the end of the grace is on time.
    """
    if arrived_at is None or scheduled_at is None:
        return False
    grace = timedelta(minutes=cfg.arrived_late_grace_minutes)
    return as_utc(arrived_at, "arrived_at") > as_utc(scheduled_at, "scheduled_at") + grace


def is_not_original_contact(met: str | None) -> bool:
    """The collector met someone other than the person who took the loan."""
    return met == "other_person"


def attempts_recent(
    attempt_times: Iterable[datetime], now: datetime, cfg: RulesConfig = DEFAULT_CONFIG
) -> int:
    """Attempts in the window of ``attempt_window_days`` × 24 h ending at ``now``."""
    end = as_utc(now, "now")
    start = end - timedelta(days=cfg.attempt_window_days)
    return sum(1 for t in attempt_times if start < as_utc(t, "attempt time") <= end)


def exceeds_attempt_limit(
    arrived_at: datetime, other_attempts: Iterable[datetime], cfg: RulesConfig = DEFAULT_CONFIG
) -> bool:
    """This attempt plus the others in its window is more than ``attempt_max``."""
    return attempts_recent(other_attempts, arrived_at, cfg) + 1 > cfg.attempt_max


def day_part(local_time: time, cfg: RulesConfig = DEFAULT_CONFIG) -> str:
    """``morning`` before 12:00, ``afternoon`` 12:00–17:00, ``evening`` after 17:00."""
    clock = local_time.replace(tzinfo=None)
    if clock < cfg.afternoon_start:
        return MORNING
    if clock <= cfg.evening_after:
        return AFTERNOON
    return EVENING


def previous_attempt(arrived_at: datetime, other_attempts: Iterable[datetime]) -> datetime | None:
    """The latest attempt strictly before ``arrived_at``, if any."""
    this = as_utc(arrived_at, "arrived_at")
    earlier = [t for t in other_attempts if as_utc(t, "attempt time") < this]
    return max(earlier, key=as_utc, default=None)


def is_same_slot_repeat(
    arrived_at: datetime,
    other_attempts: Iterable[datetime],
    tz_name: str,
    cfg: RulesConfig = DEFAULT_CONFIG,
) -> bool:
    """The previous attempt fell in the same part of the account's day (seed tip 10)."""
    previous = previous_attempt(arrived_at, other_attempts)
    if previous is None:
        return False
    this_part = day_part(to_local(arrived_at, tz_name).time(), cfg)
    return this_part == day_part(to_local(previous, tz_name).time(), cfg)


# -- all flags of one visit ----------------------------------------------------


def _counts_as_attempt(visit: Mapping[str, Any]) -> bool:
    # A planned, missed or cancelled visit is not a contact attempt.
    return visit.get("arrived_at") is not None and visit.get("status") in (None, "done")


def visit_flags(
    visit: Mapping[str, Any],
    account: Mapping[str, Any],
    other_attempts: Sequence[datetime | Attempt] = (),
    cfg: RulesConfig = DEFAULT_CONFIG,
) -> list[str]:
    """Sorted, unique flags of ``visit`` (see docs/protocol.md for each meaning).

    ``visit``: optional ``arrived_at``, ``scheduled_at`` (aware datetimes),
    ``checkin_lat``, ``checkin_lon``, ``checkin_accuracy_m``, ``met``,
    ``met_name``, ``status``.
    ``account``: ``lat``, ``lon``, ``timezone``; optional ``jurisdiction``
    (whose rules apply) and ``do_not_visit`` (windows).
    ``other_attempts``: the account's *other* done visits, as ``Attempt``
    (time and person reached) or as bare ``arrived_at`` times.
    Attempt flags are computed only when this visit is itself an attempt
    (it has ``arrived_at`` and its status is ``done`` or not given).
    """
    cfg = cfg.for_account(account)
    flags: set[str] = set()
    arrived_at = visit.get("arrived_at")
    tz_name = account.get("timezone")

    if arrived_at is not None and is_outside_contact_hours(arrived_at, tz_name, cfg):
        flags.add(OUTSIDE_CONTACT_HOURS)
    if is_far_from_site(
        visit.get("checkin_lat"), visit.get("checkin_lon"),
        account.get("lat"), account.get("lon"), cfg,
    ):
        flags.add(FAR_FROM_SITE)
    if is_arrived_late(arrived_at, visit.get("scheduled_at"), cfg):
        flags.add(ARRIVED_LATE)
    if is_not_original_contact(visit.get("met")):
        flags.add(NOT_ORIGINAL_CONTACT)
    if is_inside_do_not_visit(arrived_at, account.get("do_not_visit")):
        flags.add(INSIDE_DO_NOT_VISIT)
    if visit.get("device_clock_offset_min") is not None:
        flags.add(DEVICE_CLOCK_OFF)
    if _counts_as_attempt(visit):
        person = attempt_person(visit.get("met"), visit.get("met_name"))
        if exceeds_attempt_limit(arrived_at, counted_attempts(other_attempts, person, cfg), cfg):
            flags.add(ATTEMPT_LIMIT_EXCEEDED)
        times = [attempt_time(a) for a in other_attempts]
        if is_same_slot_repeat(arrived_at, times, tz_name, cfg):
            flags.add(SAME_SLOT_REPEAT)
    return sorted(flags)


# -- redirects (account level) -------------------------------------------------


def redirect_streak(visits_newest_first: Iterable[Mapping[str, Any]]) -> int:
    """How many of the latest done visits in a row ended in a redirect.

    A visit is a redirect when ``redirected_to`` is non-empty.  Visits that
    are not done (planned, missed, cancelled) are skipped: nobody was met, so
    they neither extend nor break the streak.
    """
    streak = 0
    for visit in visits_newest_first:
        if visit.get("status", "done") != "done":
            continue
        if not (visit.get("redirected_to") or "").strip():
            break
        streak += 1
    return streak


def needs_supervisor_for_redirects(
    visits_newest_first: Iterable[Mapping[str, Any]], cfg: RulesConfig = DEFAULT_CONFIG
) -> bool:
    """True when the account should carry ``REDIRECT_LOOP`` for the supervisor."""
    return redirect_streak(visits_newest_first) >= cfg.redirect_limit


def account_flags(
    visits_newest_first: Iterable[Mapping[str, Any]], cfg: RulesConfig = DEFAULT_CONFIG
) -> list[str]:
    """Account-level flags derived from its visits (currently ``redirect_loop``)."""
    return [REDIRECT_LOOP] if needs_supervisor_for_redirects(visits_newest_first, cfg) else []
