"""The dashboard's numbers: today per collector, this week's rule flags, how
often promises are kept, and how old the portfolio's debts are."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ...models import Account, Payment, Promise, User, Visit
from ...rules.aging import AGING_BUCKET_NAMES, account_today, aging_bucket, days_past_due
from ...rules.flags import VISIT_FLAGS
from ..formatting import local_day_bounds

CLOSED_STATUSES = ("settled", "closed")


@dataclass
class CollectorDay:
    user: User
    planned: int = 0
    done: int = 0
    open: int = 0
    flagged: int = 0
    results: Counter = field(default_factory=Counter)
    money: dict[str, int] = field(default_factory=dict)  # currency -> minor units


@dataclass
class Bucket:
    name: str
    accounts: int = 0
    amounts: dict[str, int] = field(default_factory=dict)


@dataclass
class Dashboard:
    day: date
    week_start: date
    collectors: list[CollectorDay]
    flags: list[tuple[str, int]]
    flagged_visits: int
    done_this_week: int
    promises: dict[str, int]
    kept_rate: float | None
    buckets: list[Bucket]
    main_currency: str | None


def _today_per_collector(session, day: date, zone: ZoneInfo) -> list[CollectorDay]:
    start, end = local_day_bounds(day, zone)
    collectors = session.scalars(
        select(User).where(User.role == "collector", User.active.is_(True)).order_by(User.name)).all()
    days = {u.id: CollectorDay(u) for u in collectors}
    for visit in session.scalars(select(Visit).where(
            ((Visit.scheduled_at >= start) & (Visit.scheduled_at < end))
            | ((Visit.arrived_at >= start) & (Visit.arrived_at < end)))):
        row = days.get(visit.collector_id)
        if row is None:
            continue
        scheduled_today = visit.scheduled_at is not None and start <= visit.scheduled_at < end
        if scheduled_today and visit.status != "cancelled":
            row.planned += 1
            if visit.status == "planned":
                row.open += 1
        if visit.status == "done" and visit.arrived_at and start <= visit.arrived_at < end:
            row.done += 1
            if visit.result:
                row.results[visit.result] += 1
            if visit.flags:
                row.flagged += 1
    money = session.execute(
        select(Payment.collector_id, Account.currency, func.sum(Payment.amount))
        .join(Account, Account.id == Payment.account_id)
        .where(Payment.collected_at >= start, Payment.collected_at < end,
               Payment.status != "rejected")
        .group_by(Payment.collector_id, Account.currency)).all()
    for collector_id, currency, total in money:
        if collector_id in days:
            days[collector_id].money[currency] = int(total or 0)
    return list(days.values())


def _flags_since(session, start: datetime, end: datetime) -> tuple[list[tuple[str, int]], int, int]:
    counts: Counter = Counter()
    flagged = done = 0
    for flags in session.scalars(select(Visit.flags).where(
            Visit.status == "done", Visit.arrived_at >= start, Visit.arrived_at < end)):
        done += 1
        if flags:
            flagged += 1
            counts.update(flags)
    return [(name, counts.get(name, 0)) for name in VISIT_FLAGS], flagged, done


def _promises(session) -> tuple[dict[str, int], float | None]:
    counts = dict.fromkeys(("pending", "kept", "broken", "cancelled"), 0)
    for status, n in session.execute(select(Promise.status, func.count()).group_by(Promise.status)):
        counts[status] = n
    settled = counts["kept"] + counts["broken"]
    return counts, (counts["kept"] / settled if settled else None)


def _aging(session, now: datetime) -> tuple[list[Bucket], str | None]:
    buckets = {name: Bucket(name) for name in AGING_BUCKET_NAMES}
    currencies: Counter = Counter()
    for due_since, tz, amount, currency in session.execute(
            select(Account.due_since, Account.timezone, Account.amount_due, Account.currency)
            .where(Account.status.not_in(CLOSED_STATUSES))):
        days = days_past_due(due_since, account_today(tz, now))
        bucket = buckets[aging_bucket(days)]
        bucket.accounts += 1
        bucket.amounts[currency] = bucket.amounts.get(currency, 0) + (amount or 0)
        currencies[currency] += 1
    main = currencies.most_common(1)[0][0] if currencies else None
    return list(buckets.values()), main


def dashboard(session, zone: ZoneInfo, now: datetime | None = None) -> Dashboard:
    now = now or datetime.now(UTC)
    day = now.astimezone(zone).date()
    # A rolling week, so that a Monday morning still shows last week's flags.
    week_start = day - timedelta(days=6)
    flags, flagged, done = _flags_since(
        session, local_day_bounds(week_start, zone)[0], local_day_bounds(day, zone)[1])
    promises, kept_rate = _promises(session)
    buckets, main_currency = _aging(session, now)
    return Dashboard(
        day=day, week_start=week_start,
        collectors=_today_per_collector(session, day, zone),
        flags=flags, flagged_visits=flagged, done_this_week=done,
        promises=promises, kept_rate=kept_rate,
        buckets=buckets, main_currency=main_currency,
    )


def open_counts(session) -> dict[str, int]:
    """The numbers beside the navigation links: what waits for a supervisor."""
    from ...models import Conflict

    return {
        "conflicts": session.scalar(
            select(func.count()).select_from(Conflict).where(Conflict.resolved_at.is_(None))) or 0,
        "payments": session.scalar(
            select(func.count()).select_from(Payment)
            .where(Payment.status.in_(("recorded", "deposited")))) or 0,
    }
