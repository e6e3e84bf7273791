"""Finding accounts, with the computed fields (aging, priority, escalation
suggestion) the pages show beside each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import func, or_, select

from ...entities import ACCOUNT_STATUSES
from ...models import Account, Payment, Promise, User, Visit
from ...rules.config import RulesConfig
from ...services.computed import account_extras

PER_PAGE = 50
UNASSIGNED = "none"


@dataclass(frozen=True)
class AccountFilter:
    q: str = ""
    collector: str = ""
    status: str = ""

    @classmethod
    def from_args(cls, args) -> AccountFilter:
        status = (args.get("status") or "").strip()
        return cls(
            q=(args.get("q") or "").strip()[:100],
            collector=(args.get("collector") or "").strip()[:36],
            status=status if status in ACCOUNT_STATUSES else "",
        )

    def args(self) -> dict[str, str]:
        return {k: v for k, v in (("q", self.q), ("collector", self.collector),
                                  ("status", self.status)) if v}


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass
class AccountPage:
    rows: list  # (account, collector, extras)
    total: int
    page: int
    pages: int


def _filtered(query, f: AccountFilter):
    if f.q:
        pattern = _like(f.q)
        query = query.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in (
            Account.ref, Account.customer_name, Account.original_contact_name,
            Account.address))))
    if f.collector == UNASSIGNED:
        query = query.where(Account.assigned_collector_id.is_(None))
    elif f.collector:
        query = query.where(Account.assigned_collector_id == f.collector)
    if f.status:
        query = query.where(Account.status == f.status)
    return query


# The list's order, also of a selection made from it.
_ORDER = (Account.due_since.asc().nulls_last(), Account.ref)


def matching_ids(session, f: AccountFilter, limit: int) -> list[str]:
    """The ids of the accounts the search finds, in the list's order, at
    most ``limit`` of them."""
    return session.scalars(_filtered(select(Account.id), f).order_by(*_ORDER).limit(limit)).all()


def account_page(session, f: AccountFilter, now: datetime, cfg: RulesConfig,
                 page: int = 1, per_page: int = PER_PAGE) -> AccountPage:
    query = _filtered(select(Account, User).outerjoin(
        User, User.id == Account.assigned_collector_id), f)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(query.order_by(*_ORDER)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    extras = account_extras(session, [a for a, _ in rows], now, cfg)
    return AccountPage([(a, u, extras.get(a.id, {})) for a, u in rows], total, page, pages)


def collectors(session) -> list[User]:
    return session.scalars(select(User).where(User.role == "collector", User.active.is_(True))
                           .order_by(User.name)).all()


@dataclass
class AccountDetail:
    account: Account
    collector: User | None
    extras: dict
    visits: list
    payments: list
    promises: list


def account_detail(session, account_id: str, now: datetime, cfg: RulesConfig) -> AccountDetail | None:
    account = session.get(Account, account_id)
    if account is None:
        return None
    return AccountDetail(
        account=account,
        collector=session.get(User, account.assigned_collector_id)
        if account.assigned_collector_id else None,
        extras=account_extras(session, [account], now, cfg).get(account.id, {}),
        visits=session.execute(
            select(Visit, User).outerjoin(User, User.id == Visit.collector_id)
            .where(Visit.account_id == account.id)
            .order_by(func.coalesce(Visit.arrived_at, Visit.scheduled_at).desc().nulls_last())
            .limit(50)).all(),
        payments=session.scalars(select(Payment).where(Payment.account_id == account.id)
                                 .order_by(Payment.collected_at.desc())).all(),
        promises=session.scalars(select(Promise).where(Promise.account_id == account.id)
                                 .order_by(Promise.promise_date.desc())).all(),
    )
