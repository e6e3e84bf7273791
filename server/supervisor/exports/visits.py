"""The visit log as a file: exactly the rows the log lists for a filter
(the same ``VisitFilter`` and the same order, ``queries/visits.py``), with
every field a supervisor reads on a visit's page, in words, and the codes
beside the words for programs."""

from __future__ import annotations

from collections import defaultdict
from zoneinfo import ZoneInfo

from geographiclib.geodesic import Geodesic
from sqlalchemy import select

from ...models import Account, Payment, Visit
from ..queries.visits import Collector, VisitFilter, ordered_filtered
from .table import Column, Context, major_units, time_columns

_WGS84 = Geodesic.WGS84
# Rows read per round trip; PostgreSQL keeps the rest on a server-side cursor.
CHUNK = 1000

_SELECTED = (
    Visit.id, Visit.status, Visit.scheduled_at, Visit.arrived_at, Visit.departed_at,
    Visit.met, Visit.met_name, Visit.other_guests_present, Visit.waited_minutes, Visit.result,
    Visit.promise_amount, Visit.promise_date, Visit.notes, Visit.checkin_lat, Visit.checkin_lon,
    Visit.checkin_accuracy_m, Visit.flags,
    Account.ref, Account.customer_name, Account.currency,
    Account.lat.label("account_lat"), Account.lon.label("account_lon"),
    Collector.name.label("collector_name"), Collector.username.label("collector_username"),
)


class VisitLine:
    """One visit's row and the payments recorded on it."""

    __slots__ = ("row", "payments")

    def __init__(self, row, payments):
        self.row = row
        self.payments = payments

    @property
    def received(self):
        """What the visit brought in: its payments the office has not
        rejected (a rejected payment is listed in the status column)."""
        kept = [p.amount for p in self.payments if p.status != "rejected"]
        return major_units(sum(kept), self.row.currency) if kept else None

    @property
    def distance_m(self):
        r = self.row
        if None in (r.checkin_lat, r.checkin_lon, r.account_lat, r.account_lon):
            return None
        # The visit's page measures with geopy's geodesic (queries/records.py),
        # which is this WGS-84 solution behind a slower interface.
        return round(_WGS84.Inverse(r.account_lat, r.account_lon, r.checkin_lat, r.checkin_lon,
                                    Geodesic.DISTANCE)["s12"], 1)


def visit_lines(session, f: VisitFilter, zone: ZoneInfo, chunk: int = CHUNK):
    """The filtered visits in the log's order, a chunk at a time, each
    chunk's payments read in one more query. The statement is built before
    the generator starts, so a filter it cannot run fails the request
    rather than a file half-way."""
    statement = (ordered_filtered(f, zone).with_only_columns(*_SELECTED)
                 .execution_options(yield_per=chunk))
    return _lines(session, statement, chunk)


def _lines(session, statement, chunk: int):
    result = session.execute(statement)
    for rows in result.partitions(chunk):
        paid = defaultdict(list)
        for payment in session.execute(
                select(Payment.visit_id, Payment.amount, Payment.status)
                .where(Payment.visit_id.in_([r.id for r in rows]))
                .order_by(Payment.collected_at, Payment.id)):
            paid[payment.visit_id].append(payment)
        for row in rows:
            yield VisitLine(row, paid.get(row.id, ()))


def _statuses(line: VisitLine, ctx: Context) -> str:
    return ", ".join(ctx.label("payment_status", p.status) for p in line.payments)


COLUMNS: tuple[Column, ...] = (
    Column("Visit", "text", lambda v, ctx: v.row.id),
    Column("Status", "text", lambda v, ctx: ctx.label("visit_status", v.row.status)),
    Column("Status (code)", "text", lambda v, ctx: v.row.status),
    *time_columns("Scheduled for", "Scheduled for (ISO 8601)", lambda v: v.row.scheduled_at),
    *time_columns("Arrived", "Arrived (ISO 8601)", lambda v: v.row.arrived_at),
    *time_columns("Left", "Left (ISO 8601)", lambda v: v.row.departed_at),
    Column("Collector", "text", lambda v, ctx: v.row.collector_name),
    Column("Collector's user name", "text", lambda v, ctx: v.row.collector_username),
    Column("Account number", "text", lambda v, ctx: v.row.ref),
    Column("Customer", "text", lambda v, ctx: v.row.customer_name),
    Column("Met", "text", lambda v, ctx: ctx.label("met", v.row.met)),
    Column("Met (code)", "text", lambda v, ctx: v.row.met),
    Column("Name of the person met", "text", lambda v, ctx: v.row.met_name),
    Column("Other guests present", "bool", lambda v, ctx: v.row.other_guests_present),
    Column("Minutes waited", "number", lambda v, ctx: v.row.waited_minutes),
    Column("Result", "text", lambda v, ctx: ctx.label("result", v.row.result)),
    Column("Result (code)", "text", lambda v, ctx: v.row.result),
    Column("Promised amount", "money",
           lambda v, ctx: major_units(v.row.promise_amount, v.row.currency)),
    Column("Promised date", "date", lambda v, ctx: v.row.promise_date),
    Column("Money received", "money", lambda v, ctx: v.received),
    Column("Payment status", "text", _statuses),
    Column("Payment status (code)", "text",
           lambda v, ctx: " ".join(p.status for p in v.payments)),
    Column("Currency", "text", lambda v, ctx: v.row.currency),
    Column("Notes", "text", lambda v, ctx: v.row.notes),
    Column("Check-in distance (m)", "number", lambda v, ctx: v.distance_m),
    Column("GPS accuracy (m)", "number", lambda v, ctx: v.row.checkin_accuracy_m),
    Column("Flags", "text",
           lambda v, ctx: "; ".join(ctx.label("flag", f) for f in v.row.flags or ())),
    Column("Flags (codes)", "text", lambda v, ctx: " ".join(v.row.flags or ())),
)
