"""The visit log: one filter, used alike by the page and its CSV export, so
the export holds exactly the rows the page lists."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import aliased

from ...entities import VISIT_RESULTS, VISIT_STATUSES
from ...models import Account, User, Visit
from ...rules.flags import VISIT_FLAGS
from ..formatting import fmt_datetime, local_day_bounds

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
        dates = {}
        for name in ("date_from", "date_to"):
            text = (args.get(name) or "").strip()
            dates[name] = None
            if text:
                try:
                    day = date.fromisoformat(text)
                except ValueError:
                    errors[name] = text
                    continue
                if FIRST_FILTER_DATE <= day <= LAST_FILTER_DATE:
                    dates[name] = day
                else:
                    errors[name] = text

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


def visit_rows(session, f: VisitFilter, zone: ZoneInfo, batch: int = 1000):
    """Every filtered row in page order, read in batches."""
    yield from session.execute(_rows_statement(f, zone, batch))


def _rows_statement(f: VisitFilter, zone: ZoneInfo, batch: int = 1000):
    return _ordered(_filtered(f, zone), f).execution_options(yield_per=batch)


CSV_COLUMNS = (
    "visit_id", "time", "status", "collector", "account_ref", "customer", "met", "met_name",
    "result", "flags", "scheduled_at", "arrived_at", "promise_amount", "currency",
)


FORMULA_STARTS = frozenset("=+-@")


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula (names come from the
    field and the import file). Spreadsheets skip leading blanks and
    invisible characters and read full-width signs as the ASCII ones, so
    the first visible character decides, compared after NFKC folding
    (＝ and ﹦ fold to =)."""
    text = "" if value is None else str(value)
    first = next((ch for ch in text if not _skipped(ch)), "")
    if text[:1] in ("\t", "\r") or unicodedata.normalize("NFKC", first)[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def _skipped(ch: str) -> bool:
    # White space, control and format characters (NBSP, zero-width space,
    # BOM, word joiner, line feed...): nothing a reader sees.
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cf")


def visits_csv(session, f: VisitFilter, zone: ZoneInfo):
    """The CSV export, streamed line by line (codes, not translations, so a
    file reads the same whoever exports it). The query is built here, before
    the first line is sent: a filter it cannot run is then an error page,
    not a 200 whose file stops half-way."""
    return _csv_lines(session, _rows_statement(f, zone), zone)


def _csv_lines(session, statement, zone: ZoneInfo):
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"  # lets spreadsheets read the UTF-8 names correctly
    writer.writerow(CSV_COLUMNS)
    yield flush()
    for visit, account, collector in session.execute(statement):
        writer.writerow([_cell(v) for v in (
            visit.id,
            fmt_datetime(visit.arrived_at or visit.scheduled_at, zone),
            visit.status,
            collector.username if collector else "",
            account.ref,
            account.customer_name,
            visit.met,
            visit.met_name,
            visit.result,
            " ".join(visit.flags or []),
            visit.scheduled_at.isoformat() if visit.scheduled_at else "",
            visit.arrived_at.isoformat() if visit.arrived_at else "",
            "" if visit.promise_amount is None else f"{visit.promise_amount / 100:.2f}",
            account.currency,
        )])
        yield flush()
