"""A collector's day as the planner shows it: the visits planned (or made)
that day on the supervisor's wall clock, and the accounts she holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from ...models import Account, Visit
from ..formatting import local_day_bounds


@dataclass
class DayPlan:
    day: date
    visits: list  # (visit, account), by time
    accounts: list[Account]  # hers, for the form that adds a visit


def collector_day(session, collector_id: str, day: date, zone: ZoneInfo) -> DayPlan:
    start, end = local_day_bounds(day, zone)
    visits = session.execute(
        select(Visit, Account).join(Account, Account.id == Visit.account_id)
        .where(Visit.collector_id == collector_id, or_(
            (Visit.scheduled_at >= start) & (Visit.scheduled_at < end),
            (Visit.arrived_at >= start) & (Visit.arrived_at < end)))
        .order_by(Visit.scheduled_at.asc().nulls_last(), Account.ref)).all()
    accounts = session.scalars(
        select(Account).where(Account.assigned_collector_id == collector_id,
                              Account.status.not_in(("settled", "closed")))
        .order_by(Account.ref)).all()
    return DayPlan(day, visits, accounts)
