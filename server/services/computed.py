"""Read-only account fields computed when a record is sent: they change as
days pass without a new version, so they are never stored."""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from ..models import Account, Promise, Visit
from ..rules.aging import account_today, aging_bucket, days_past_due, priority
from ..rules.config import RulesConfig
from ..rules.escalation import escalation_suggestion
from ..rules.flags import account_flags
from .idlists import among, dialect_of


@functools.cache
def _statements(dialect: str):
    """The two reads of ``account_extras``, built once per database."""
    return (
        select(Visit.account_id, Visit.arrived_at, Visit.status, Visit.redirected_to, Visit.result)
        .where(among(Visit.account_id, dialect), Visit.status == "done")
        .order_by(Visit.arrived_at.desc()),
        select(Promise.account_id).where(among(Promise.account_id, dialect),
                                         Promise.status == "broken"),
    )


def account_extras(session, accounts: list[Account], now: datetime, cfg: RulesConfig) -> dict[str, dict]:
    """Computed fields for many accounts with three queries in all."""
    if not accounts:
        return {}
    ids = [a.id for a in accounts]
    done_visits, broken_promises = _statements(dialect_of(session))
    visits_by_account: dict[str, list] = defaultdict(list)
    for row in session.execute(done_visits, {"ids": ids}):
        visits_by_account[row.account_id].append(row)
    broken: dict[str, int] = defaultdict(int)
    for account_id, in session.execute(broken_promises, {"ids": ids}):
        broken[account_id] += 1

    extras = {}
    for account in accounts:
        visits = visits_by_account.get(account.id, [])
        days = days_past_due(account.due_since, account_today(account.timezone, now))
        # The attempt window of the account's jurisdiction (docs/rules.md).
        window_start = now - timedelta(days=cfg.for_account(account).attempt_window_days)
        recent = sum(1 for v in visits if v.arrived_at and window_start < v.arrived_at <= now)
        visits_without_payment = 0
        for v in visits:
            if v.result in ("paid_full", "paid_partial"):
                break
            visits_without_payment += 1
        extras[account.id] = {
            "days_past_due": days,
            "aging_bucket": aging_bucket(days),
            "priority": priority(account.amount_due, days, broken[account.id], cfg),
            "attempts_recent": recent,
            "broken_promises": broken[account.id],
            "alerts": account_flags(
                [{"status": v.status, "redirected_to": v.redirected_to} for v in visits], cfg
            ),
            "escalation": escalation_suggestion(
                broken[account.id], visits_without_payment, days, cfg
            ),
        }
    return extras
