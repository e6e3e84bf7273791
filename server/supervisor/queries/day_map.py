"""The dashboard's map of the day: every check-in made today (on the
supervisor's wall clock) beside the position of the account it was for,
with the distance between them and whether the rules flagged it as far
from the site (``far_from_site``, ``server/rules/flags.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from geopy.distance import geodesic
from sqlalchemy import select

from ...models import Account, User, Visit
from ..formatting import local_day_bounds


@dataclass
class Checkin:
    visit: Visit
    account: Account
    collector: User | None
    distance_m: float | None  # None when the account has no position

    @property
    def far(self) -> bool:
        return "far_from_site" in (self.visit.flags or [])


def day_checkins(session, day: date, zone: ZoneInfo) -> list[Checkin]:
    start, end = local_day_bounds(day, zone)
    rows = session.execute(
        select(Visit, Account, User).join(Account, Account.id == Visit.account_id)
        .outerjoin(User, User.id == Visit.collector_id)
        .where(Visit.arrived_at >= start, Visit.arrived_at < end,
               Visit.checkin_lat.is_not(None), Visit.checkin_lon.is_not(None))
        .order_by(Visit.arrived_at, Visit.id)).all()
    found = []
    for visit, account, user in rows:
        distance = None
        if account.lat is not None and account.lon is not None:
            distance = geodesic((account.lat, account.lon),
                                (visit.checkin_lat, visit.checkin_lon)).meters
        found.append(Checkin(visit, account, user, distance))
    return found


def map_points(checkins: list[Checkin], fmt_time) -> list[dict]:
    """What the page's script draws (``static/supervisor/day-map.js``):
    plain values, the times already on the supervisor's clock."""
    return [{
        "lat": c.visit.checkin_lat, "lon": c.visit.checkin_lon,
        "site": [c.account.lat, c.account.lon] if c.distance_m is not None else None,
        "far": c.far, "time": fmt_time(c.visit.arrived_at),
        "who": c.collector.name if c.collector else "",
        "account": f"{c.account.ref} · {c.account.customer_name}",
        "distance": round(c.distance_m) if c.distance_m is not None else None,
    } for c in checkins]
