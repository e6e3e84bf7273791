"""The visit log: one filter, used alike by the page and its exports, so
an export holds exactly the rows the page lists."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import aliased

from ...entities import VISIT_RESULTS, VISIT_STATUSES
from ...models import Account, User, Visit
from ...rules.flags import VISIT_FLAGS
from ..formatting import local_day_bounds

PER_PAGE = 50
# The dates whose local day starts and ends as representable instants in
# every time zone (date.min and date.max have no day before or after them).
FIRST_FILTER_DATE = date(1, 1, 2)
LAST_FILTER_DATE = date(9999, 12, 30)
SORTS = ("time", "collector", "account", "result")
ANY_FLAG = "any"

Collector = aliased(User)
# When it happened, or for a visit not made yet, when it is planned.
VISIT_TIME = func.coalesce(Visit.arrived_at, Visit.scheduled_at)


def filter_dates(args, errors: dict) -> dict[str, date | None]:
    """``date_from`` and ``date_to`` of a query string; a value that does
    not parse or lies outside the filterable range is None and named in
    ``errors``."""
    dates = {}
    for name in ("date_from", "date_to"):
        text = (args.get(name) or "").strip()
        dates[name] = None
        if not text:
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = text
            continue
        if FIRST_FILTER_DATE <= day <= LAST_FILTER_DATE:
            dates[name] = day
        else:
            errors[name] = text
    return dates


@dataclass(frozen=True)
class VisitFilter:
    collector: str = ""
    date_from: date | None = None
    date_to: date | None = None
    result: str = ""
    flag: str = ""
    status: str = ""
    account: str = ""
    sort: str = "time"
    order: str = "desc"
    errors: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args) -> VisitFilter:
        """Read the query string; a value that does not parse is dropped and
        named in ``errors`` instead of failing the page."""
        errors = {}
        dates = filter_dates(args, errors)

        def choice(name, allowed, default=""):
            value = (args.get(name) or "").strip()
            if value and value not in allowed:
                errors[name] = value
                return default
            return value or default

        return cls(
            collector=(args.get("collector") or "").strip()[:36],
            result=choice("result", VISIT_RESULTS),
            flag=choice("flag", (*VISIT_FLAGS, ANY_FLAG)),
            status=choice("status", VISIT_STATUSES),
            account=(args.get("account") or "").strip()[:36],
            sort=choice("sort", SORTS, "time"),
            order=choice("order", ("asc", "desc"), "desc"),
            errors=errors,
            **dates,
        )

    def args(self, **override) -> dict[str, str]:
        """The filter as query-string arguments (empty ones left out)."""
        data = replace(self, **override) if override else self
        values = {
            "collector": data.collector, "date_from": fmt_date_arg(data.date_from),
            "date_to": fmt_date_arg(data.date_to), "result": data.result, "flag": data.flag,
            "status": data.status, "account": data.account,
            "sort": "" if data.sort == "time" else data.sort,
            "order": "" if data.order == "desc" else data.order,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.collector or self.date_from or self.date_to or self.result
                    or self.flag or self.status or self.account)


def fmt_date_arg(value: date | None) -> str:
    return value.isoformat() if value else ""


def _filtered(f: VisitFilter, zone: ZoneInfo):
    query = (
        select(Visit, Account, Collector)
        .join(Account, Account.id == Visit.account_id)
        .outerjoin(Collector, Collector.id == Visit.collector_id)
    )
    if f.collector:
        query = query.where(Visit.collector_id == f.collector)
    if f.account:
        query = query.where(Visit.account_id == f.account)
    if f.date_from:
        query = query.where(VISIT_TIME >= local_day_bounds(f.date_from, zone)[0])
    if f.date_to:
        query = query.where(VISIT_TIME < local_day_bounds(f.date_to, zone)[1])
    if f.result:
        query = query.where(Visit.result == f.result)
    if f.status:
        query = query.where(Visit.status == f.status)
    if f.flag == ANY_FLAG:
        # Flags are a JSON list; its text holds a quoted name when it is set,
        # which reads the same on SQLite and PostgreSQL.
        query = query.where(cast(Visit.flags, String).like('%"%'))
    elif f.flag:
        query = query.where(cast(Visit.flags, String).like(f'%"{f.flag}"%'))
    return query


def _ordered(query, f: VisitFilter):
    key = {
        "time": VISIT_TIME,
        "collector": Collector.name,
        "account": Account.ref,
        "result": Visit.result,
    }[f.sort]
    key = key.asc() if f.order == "asc" else key.desc()
    tie = VISIT_TIME.desc() if f.sort != "time" else None
    order = [key.nulls_last()]
    if tie is not None:
        order.append(tie.nulls_last())
    order.append(Visit.id)  # a stable order, so pages never overlap
    return query.order_by(*order)


@dataclass
class VisitPage:
    rows: list
    total: int
    page: int
    pages: int
    per_page: int


def visit_page(session, f: VisitFilter, zone: ZoneInfo, page: int = 1,
               per_page: int = PER_PAGE) -> VisitPage:
    query = _filtered(f, zone)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        _ordered(query, f).limit(per_page).offset((page - 1) * per_page)).all()
    return VisitPage(rows, total, page, pages, per_page)


def ordered_filtered(f: VisitFilter, zone: ZoneInfo):
    """The log's rows for ``f`` in the page's order: what an export reads
    (``server/supervisor/exports/visits.py``), so it lists exactly the rows
    the page does."""
    return _ordered(_filtered(f, zone), f)
