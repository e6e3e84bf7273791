"""What waits for a supervisor's decision: conflicts, refused mutations,
payments to confirm, and promises by status."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func, select

from ...models import (
    RECORD_MODELS,
    Account,
    Conflict,
    Payment,
    Promise,
    RejectedMutation,
    User,
    Visit,
)
from ...services.changes import ChangeWriter
from ...services.store import to_json_value
from ..actions import needs_amendment_reason, resolution_refusals
from ..formatting import hlc_instant
from .records import client_users, users_by_id


@dataclass
class Side:
    value: object
    client_id: str | None
    user: User | None
    at: object  # datetime or None


@dataclass
class ConflictRow:
    conflict: Conflict
    account: Account | None
    kept: Side
    lost: Side
    current: object
    changed_since: bool
    resolver: User | None
    # What the rules would refuse of each resolution ("kept", "restored"),
    # so the page never offers one they refuse; and whether a resolution
    # amends a done visit, so it asks for the reason.
    refusals: dict
    needs_reason: bool


def conflict_rows(session, resolved: bool, supervisor_id: str | None = None,
                  limit: int = 200) -> list[ConflictRow]:
    query = select(Conflict)
    if resolved:
        query = query.where(Conflict.resolved_at.is_not(None)).order_by(Conflict.resolved_at.desc())
    else:
        query = query.where(Conflict.resolved_at.is_(None)).order_by(Conflict.created_at)
    conflicts = session.scalars(query.limit(limit)).all()
    devices = client_users(session, [c.kept_client_id for c in conflicts]
                           + [c.lost_client_id for c in conflicts])
    users = users_by_id(session, [c.lost_user_id for c in conflicts]
                        + [c.resolved_by for c in conflicts])
    accounts = {a.id: a for a in session.scalars(
        select(Account).where(Account.id.in_({c.account_id for c in conflicts if c.account_id})))}
    rows = []
    checking = ChangeWriter(session, lock=False)
    for c in conflicts:
        record = session.get(RECORD_MODELS[c.entity], c.record_id)
        refusals = {} if c.resolved_at else resolution_refusals(checking, c, supervisor_id)
        current = to_json_value(c.entity, c.field, getattr(record, c.field, None)) if record else None
        rows.append(ConflictRow(
            conflict=c,
            account=accounts.get(c.account_id),
            kept=Side(c.kept_value, c.kept_client_id, devices.get(c.kept_client_id),
                      hlc_instant(c.kept_hlc)),
            lost=Side(c.lost_value, c.lost_client_id,
                      devices.get(c.lost_client_id) or users.get(c.lost_user_id),
                      hlc_instant(c.lost_hlc)),
            current=current,
            changed_since=record is not None and current != c.kept_value,
            resolver=users.get(c.resolved_by),
            refusals=refusals,
            needs_reason=not c.resolved_at and needs_amendment_reason(c, record),
        ))
    return rows


@dataclass
class Paged:
    rows: list
    total: int
    page: int
    pages: int


def rejected_page(session, page: int = 1, per_page: int = 50, user_id: str = "") -> Paged:
    query = select(RejectedMutation)
    if user_id:
        query = query.where(RejectedMutation.user_id == user_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    items = session.scalars(query.order_by(RejectedMutation.received_at.desc(),
                                           RejectedMutation.id.desc())
                            .limit(per_page).offset((page - 1) * per_page)).all()
    users = users_by_id(session, (r.user_id for r in items))
    return Paged([(r, users.get(r.user_id)) for r in items], total, page, pages)


AWAITING = ("recorded", "deposited")


def payments_awaiting(session) -> list[tuple[Payment, Account, User | None, Visit | None]]:
    return _payments(session, Payment.status.in_(AWAITING), Payment.collected_at.asc())


def payments_reviewed(session, limit: int = 30):
    return _payments(session, Payment.status.not_in(AWAITING), Payment.updated_at.desc(), limit)


def _payments(session, condition, order, limit: int | None = None):
    query = (select(Payment, Account, User, Visit)
             .join(Account, Account.id == Payment.account_id)
             .outerjoin(User, User.id == Payment.collector_id)
             .outerjoin(Visit, Visit.id == Payment.visit_id)
             .where(condition).order_by(order, Payment.id))
    if limit:
        query = query.limit(limit)
    return session.execute(query).all()


def promises(session, status: str, limit: int = 200):
    order = Promise.promise_date.asc() if status == "pending" else Promise.promise_date.desc()
    return session.execute(
        select(Promise, Account, User)
        .join(Account, Account.id == Promise.account_id)
        .outerjoin(User, User.id == Promise.collector_id)
        .where(Promise.status == status)
        .order_by(order, Promise.id).limit(limit)).all()


def promise_counts(session) -> dict[str, int]:
    counts = dict.fromkeys(("pending", "kept", "broken"), 0)
    for status, n in session.execute(select(Promise.status, func.count()).group_by(Promise.status)):
        if status in counts:
            counts[status] = n
    return counts
