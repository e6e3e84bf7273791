"""A collector's day plan (docs/protocol.md "Day plan"): read the day's visits,
hand them to the pure route planner, and shape its answer for the wire.

Read-only: nothing here writes, so the plan is safe to ask for as often as
a phone likes and from any worker.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from ..errors import ApiError
from ..models import Account, User, Visit
from ..rules.attempts import Attempt, attempt_person
from ..rules.clock import local_date, to_local
from ..rules.config import RulesConfig
from ..rules.planning import DayContext, plan_route

# The documented keys of a stop (OpenAPI "Plan"); the planner's own extras
# (such as ``fixed``) stay inside the server.
STOP_KEYS = ("visit_id", "account_id", "scheduled_at", "leave_by", "distance_km",
             "travel_minutes", "warnings")

# Every IANA zone's offset lies within UTC−12…UTC+14, so a local day is
# inside this widened UTC window whatever the account's zone; the exact
# local-date test happens after the query.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)


def day_plan(session, collector: User, day: date, cfg: RulesConfig) -> dict[str, Any]:
    """``{"date", "collector", "stops"}`` for ``collector`` on ``day``.

    A stop is a visit that names the collector, is on an account assigned to
    them (so the phone holds the account it points at: data minimisation
    keeps every other account off the phone), is not cancelled, and has a
    ``scheduled_at`` whose date on the account's wall clock is ``day``.
    """
    rows = _visits_of_day(session, collector.id, day)
    stops = [_stop_input(visit, account) for visit, account in rows]
    _add_attempt_history(session, stops)
    route = []
    if stops:
        first_tz = min(stops, key=lambda s: (s["scheduled_at"], s["visit_id"]))["timezone"]
        route = plan_route(stops, _start_of(collector), cfg, DayContext(day, first_tz))
    return {
        "date": day.isoformat(),
        "collector": collector.username,
        "stops": [_wire_stop(stop) for stop in route],
    }


def _visits_of_day(session, collector_id: str, day: date) -> list[tuple[Visit, Account]]:
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    candidates = session.execute(
        select(Visit, Account)
        .join(Account, Account.id == Visit.account_id)
        .where(
            Visit.collector_id == collector_id,
            Account.assigned_collector_id == collector_id,
            Visit.status != "cancelled",
            Visit.scheduled_at >= midnight - _EARLIEST_OFFSET,
            Visit.scheduled_at < midnight + timedelta(days=1) + _LATEST_OFFSET,
        )
    ).all()
    return [(v, a) for v, a in candidates if local_date(v.scheduled_at, a.timezone) == day]


def _stop_input(visit: Visit, account: Account) -> dict[str, Any]:
    return {
        "visit_id": visit.id,
        "account_id": account.id,
        # On the account's wall clock, so the answer reads "+08:00" for a
        # Taipei shop rather than UTC: the same instant, easier for a person.
        "scheduled_at": to_local(visit.scheduled_at, account.timezone),
        "lat": account.lat,
        "lon": account.lon,
        "timezone": account.timezone,
        # Its jurisdiction's rules and its do-not-visit windows (warnings).
        "jurisdiction": account.jurisdiction,
        "do_not_visit": account.do_not_visit or [],
    }


def _add_attempt_history(session, stops: list[dict[str, Any]]) -> None:
    """Give each stop the earlier attempts on its account (done visits, by
    ``arrived_at``), so the plan warns before a visit breaks the attempt
    limit or repeats the part of the day of the previous attempt."""
    account_ids = {s["account_id"] for s in stops}
    attempts: dict[str, list[tuple[str, Attempt]]] = defaultdict(list)
    for visit_id, account_id, arrived_at, met, met_name in session.execute(
        select(Visit.id, Visit.account_id, Visit.arrived_at, Visit.met, Visit.met_name).where(
            Visit.account_id.in_(account_ids),
            Visit.status == "done",
            Visit.arrived_at.is_not(None),
        )
    ):
        attempts[account_id].append((visit_id, Attempt(arrived_at, attempt_person(met, met_name))))
    for stop in stops:
        # A done visit is not an attempt *before* itself.
        others = [a for vid, a in attempts[stop["account_id"]] if vid != stop["visit_id"]]
        stop["attempts_before"] = others
        earlier = [a.at for a in others if a.at < stop["scheduled_at"]]
        stop["last_attempt_at"] = max(earlier, default=None)


def _start_of(user: User) -> tuple[float, float] | None:
    if user.start_lat is None or user.start_lon is None:
        return None
    return (user.start_lat, user.start_lon)


def _wire_stop(stop: dict[str, Any]) -> dict[str, Any]:
    out = {key: stop[key] for key in STOP_KEYS}
    for key in ("scheduled_at", "leave_by"):
        if out[key] is not None:
            out[key] = out[key].isoformat()
    return out


def collector_for_plan(session, asker: User, username: str | None) -> User:
    """Whose plan ``asker`` may read: a collector only their own (naming
    anyone else is 403, known or not, so collectors cannot probe user
    names); a supervisor must name a collector (400 without one, 404 for a
    name that is no collector)."""
    if not asker.is_supervisor:
        if username is not None and username != asker.username:
            raise ApiError(403, "a collector can read only their own plan")
        return asker
    if username is None:
        raise ApiError(400, "a supervisor must name the collector: add ?collector=USERNAME",
                       fields={"collector": ["Required for a supervisor."]})
    collector = session.scalar(
        select(User).where(User.username == username, User.role == "collector"))
    if collector is None:
        raise ApiError(404, f"no collector with the user name {username!r}")
    return collector
