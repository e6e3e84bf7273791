"""Read-only account fields computed when a record is sent: they change as
days pass without a new version, so they are never stored."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from ..models import Account, Promise, Visit
from ..rules.aging import account_today, aging_bucket, days_past_due, priority
from ..rules.config import RulesConfig
from ..rules.escalation import escalation_suggestion
from ..rules.flags import account_flags


def account_extras(session, accounts: list[Account], now: datetime, cfg: RulesConfig) -> dict[str, dict]:
    """Computed fields for many accounts with three queries in all."""
    if not accounts:
        return {}
    ids = [a.id for a in accounts]
    visits_by_account: dict[str, list] = defaultdict(list)
    for row in session.execute(
        select(Visit.account_id, Visit.arrived_at, Visit.status, Visit.redirected_to, Visit.result)
        .where(Visit.account_id.in_(ids), Visit.status == "done")
        .order_by(Visit.arrived_at.desc())
    ):
        visits_by_account[row.account_id].append(row)
    broken: dict[str, int] = defaultdict(int)
    for account_id, in session.execute(
        select(Promise.account_id).where(Promise.account_id.in_(ids), Promise.status == "broken")
    ):
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
