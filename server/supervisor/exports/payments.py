"""The payments as a file: every payment recorded (or those of one status,
collector or span of days), newest first, in words with the codes beside
them, amounts as numbers with their currency."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ...entities import PAYMENT_STATUSES
from ...models import Account, Payment, User
from ..formatting import local_day_bounds
from ..queries.visits import filter_dates
from .table import Column, Context, major_units, time_columns

CHUNK = 1000
AWAITING = ("recorded", "deposited")
# "awaiting" and "reviewed" are the payments page's two lists.
STATUS_CHOICES = ("awaiting", "reviewed", *PAYMENT_STATUSES)


@dataclass(frozen=True)
class PaymentFilter:
    status: str = ""
    collector: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args) -> PaymentFilter:
        """A value that does not parse is dropped and named in ``errors``."""
        errors = {}
        days = filter_dates(args, errors)
        status = (args.get("status") or "").strip()
        if status and status not in STATUS_CHOICES:
            errors["status"] = status
            status = ""
        return cls(status=status, collector=(args.get("collector") or "").strip()[:36],
                   errors=errors, **days)


def payment_statement(f: PaymentFilter, zone: ZoneInfo):
    query = (select(Payment.id, Payment.collected_at, Payment.amount, Payment.method,
                    Payment.status, Payment.notes, Payment.review_note, Payment.updated_at,
                    Payment.visit_id, Account.ref, Account.customer_name, Account.currency,
                    User.name.label("collector_name"),
                    User.username.label("collector_username"))
             .join(Account, Account.id == Payment.account_id)
             .outerjoin(User, User.id == Payment.collector_id))
    if f.status == "awaiting":
        query = query.where(Payment.status.in_(AWAITING))
    elif f.status == "reviewed":
        query = query.where(Payment.status.not_in(AWAITING))
    elif f.status:
        query = query.where(Payment.status == f.status)
    if f.collector:
        query = query.where(Payment.collector_id == f.collector)
    if f.date_from:
        query = query.where(Payment.collected_at >= local_day_bounds(f.date_from, zone)[0])
    if f.date_to:
        query = query.where(Payment.collected_at < local_day_bounds(f.date_to, zone)[1])
    return (query.order_by(Payment.collected_at.desc(), Payment.id)
            .execution_options(yield_per=CHUNK))


def payment_rows(session, f: PaymentFilter, zone: ZoneInfo):
    """Built before the generator starts (see ``visits.visit_lines``)."""
    statement = payment_statement(f, zone)

    def rows():
        yield from session.execute(statement)
    return rows()


def _reviewed_at(row):
    # A payment changes only when the office reviews it (it is fixed once
    # recorded: server/messages.py PAYMENT_FIXED), so its last change is
    # the review.
    return row.updated_at if row.status not in AWAITING else None


COLUMNS: tuple[Column, ...] = (
    Column("Payment", "text", lambda p, ctx: p.id),
    *time_columns("Collected", "Collected (ISO 8601)", lambda p: p.collected_at),
    Column("Collector", "text", lambda p, ctx: p.collector_name),
    Column("Collector's user name", "text", lambda p, ctx: p.collector_username),
    Column("Account number", "text", lambda p, ctx: p.ref),
    Column("Customer", "text", lambda p, ctx: p.customer_name),
    Column("Amount", "money", lambda p, ctx: major_units(p.amount, p.currency)),
    Column("Currency", "text", lambda p, ctx: p.currency),
    Column("Method", "text", lambda p, ctx: ctx.label("method", p.method)),
    Column("Method (code)", "text", lambda p, ctx: p.method),
    Column("Status", "text", lambda p, ctx: ctx.label("payment_status", p.status)),
    Column("Status (code)", "text", lambda p, ctx: p.status),
    *time_columns("Reviewed", "Reviewed (ISO 8601)", _reviewed_at),
    Column("Notes", "text", lambda p, ctx: p.notes),
    Column("Review note", "text", lambda p, ctx: p.review_note),
    Column("Visit", "text", lambda p, ctx: p.visit_id),
)

__all__ = ["COLUMNS", "Context", "PaymentFilter", "payment_rows"]
