"""One record in full: a visit with its check-in against the account's
position, and the history of a record with who changed what, from which
device and when."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from geopy.distance import geodesic
from sqlalchemy import select

from ...models import Account, Client, Conflict, HistoryEntry, Payment, Promise, User, Visit
from ...services.amendments import Amendment, amendment_trail
from ...services.derived import promise_id_for


@dataclass
class HistoryRow:
    entry: HistoryEntry
    user: User | None

    @property
    def is_amendment(self) -> bool:
        return bool(self.entry.reason)


def users_by_id(session, ids) -> dict[str, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def client_users(session, client_ids) -> dict[str, User]:
    """The user each device (``client_id``) belongs to, where it is known."""
    ids = {c for c in client_ids if c}
    if not ids:
        return {}
    rows = session.execute(
        select(Client.client_id, User).join(User, User.id == Client.user_id)
        .where(Client.client_id.in_(ids))).all()
    return {client_id: user for client_id, user in rows}


def record_history(session, entity: str, record_id: str) -> list[HistoryRow]:
    entries = session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == entity,
                                   HistoryEntry.record_id == record_id)
        .order_by(HistoryEntry.id)).all()
    users = users_by_id(session, (e.user_id for e in entries))
    return [HistoryRow(e, users.get(e.user_id)) for e in entries]


@dataclass
class CheckinMap:
    """Where the collector checked in, seen from the account's position:
    metres east and north, scaled into a small square picture."""

    distance_m: float
    geofence_m: int
    size: int = 160

    east_m: float = 0.0
    north_m: float = 0.0

    @property
    def scale(self) -> float:
        # The picture shows the geofence and the check-in, whichever is farther.
        reach = max(self.geofence_m, self.distance_m, 1.0) * 1.15
        return (self.size / 2) / reach

    @property
    def centre(self) -> float:
        return self.size / 2

    @property
    def fence_r(self) -> float:
        return self.geofence_m * self.scale

    @property
    def point(self) -> tuple[float, float]:
        return (self.centre + self.east_m * self.scale, self.centre - self.north_m * self.scale)


def checkin_map(visit: Visit, account: Account, geofence_m: int) -> CheckinMap | None:
    if None in (visit.checkin_lat, visit.checkin_lon, account.lat, account.lon):
        return None
    site = (account.lat, account.lon)
    distance = geodesic(site, (visit.checkin_lat, visit.checkin_lon)).meters
    north = geodesic(site, (visit.checkin_lat, account.lon)).meters
    east = geodesic(site, (account.lat, visit.checkin_lon)).meters
    north = math.copysign(north, visit.checkin_lat - account.lat)
    east = math.copysign(east, visit.checkin_lon - account.lon)
    return CheckinMap(distance, geofence_m, east_m=east, north_m=north)


@dataclass
class VisitDetail:
    visit: Visit
    account: Account
    collector: User | None
    history: list[HistoryRow]
    conflicts: list[Conflict]
    payments: list[Payment]
    promise: Promise | None
    checkin: CheckinMap | None
    people: dict[str, User]  # users named in the history, by id
    # Corrections after the visit was done, and every check-in it had
    # (a check-in redone before the visit was recorded keeps the earlier one).
    amendments: list[Amendment] = field(default_factory=list)
    checkins: list[Checkin] = field(default_factory=list)


@dataclass
class Checkin:
    """One check-in position of a visit, as its history row wrote it."""

    version: int
    at: datetime  # when the server received it
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    fix_age_s: int | None
    distance_m: float | None
    user: User | None


def checkins_of(history: list[HistoryRow], account: Account) -> list[Checkin]:
    found = []
    for row in history:
        changes = row.entry.changes
        if not {"checkin_lat", "checkin_lon"} & changes.keys():
            continue
        lat, lon = changes.get("checkin_lat"), changes.get("checkin_lon")
        distance = (geodesic((account.lat, account.lon), (lat, lon)).meters
                    if None not in (lat, lon, account.lat, account.lon) else None)
        found.append(Checkin(row.entry.version, row.entry.at, lat, lon,
                             changes.get("checkin_accuracy_m"), changes.get("checkin_fix_age_s"),
                             distance, row.user))
    return found


def visit_detail(session, visit_id: str, geofence_m: int) -> VisitDetail | None:
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    account = session.get(Account, visit.account_id)
    history = record_history(session, "visit", visit.id)
    named = {h.entry.changes.get("collector_id") for h in history}
    amendments = amendment_trail(h.entry for h in history)
    named |= {a.user_id for a in amendments}
    return VisitDetail(
        visit=visit,
        account=account,
        collector=session.get(User, visit.collector_id) if visit.collector_id else None,
        history=history,
        conflicts=session.scalars(
            select(Conflict).where(Conflict.entity == "visit", Conflict.record_id == visit.id)
            .order_by(Conflict.created_at)).all(),
        payments=session.scalars(
            select(Payment).where(Payment.visit_id == visit.id)
            .order_by(Payment.collected_at)).all(),
        promise=session.get(Promise, promise_id_for(visit.id)),
        checkin=checkin_map(visit, account, geofence_m),
        people=users_by_id(session, named),
        amendments=amendments,
        checkins=checkins_of(history, account),
    )
