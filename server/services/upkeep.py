"""Promise upkeep: settle pending promises that time or money has decided.

A push settles a promise only when something about it is written (its visit,
a payment's status). A promise whose day simply ends with no payment would
stay ``pending`` for ever, and the account would not return to the top of
the list (seed tips 5 and 7). This job, run from cron
(``flask --app wsgi promises refresh``), closes that gap. Each change is an
ordinary change through the write layer (``derived.refresh_promise``), so it reaches
the phones through the change feed and is kept in the history.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import or_, select

from ..models import Account, Payment, Promise
from ..rules.clock import as_utc
from ..rules.promises import BROKEN, KEPT, PENDING
from .changes import Actor, ChangeWriter
from .derived import confirmed_payments, refresh_promise
from .writes import Rejected

log = logging.getLogger(__name__)


@dataclass
class UpkeepReport:
    checked: int = 0
    kept: int = 0
    broken: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def due_promises(tx: ChangeWriter, now: datetime) -> list[tuple[str, str]]:
    """``(account_id, promise_id)`` of the pending promises that may be
    decided at ``now``: a superset, refined by ``refresh_promise`` in each
    account's own time zone.

    A promise can be broken only once its day has ended on the account's
    wall clock; no zone is more than 14 hours ahead of UTC, so that needs
    ``promise_date`` on or before today's UTC date. A promise can be kept
    early only by confirmed payments, so the others are the pending promises
    of accounts that have any."""
    utc_today = as_utc(now, "now").date()
    paid_accounts = select(Payment.account_id).where(Payment.status == "confirmed")
    return [tuple(row) for row in tx.query(
        select(Promise.account_id, Promise.id)
        .where(Promise.status == PENDING,
               or_(Promise.promise_date <= utc_today, Promise.account_id.in_(paid_accounts)))
        .order_by(Promise.account_id, Promise.id)
    )]


def refresh_due_promises(tx: ChangeWriter, now: datetime, actor: Actor) -> dict[str, int]:
    """Move every decided pending promise to ``kept`` or ``broken`` inside
    the write transaction ``tx`` (``writes.transaction``). Returns
    ``{"checked", "kept", "broken", "refused"}``.

    Each account is locked before its payments and promises are read (a
    push confirming a payment locks it too), so a concurrent confirmation
    and this decision happen one after the other, never interleaved."""
    report = UpkeepReport()
    by_account: dict[str, list[str]] = defaultdict(list)
    for account_id, promise_id in due_promises(tx, now):
        by_account[account_id].append(promise_id)
    for account_id, promise_ids in by_account.items():
        account = tx.get_for_update(Account, account_id)
        payments = confirmed_payments(tx, account_id)
        for promise_id in promise_ids:
            promise = tx.get_for_update(Promise, promise_id)
            if promise is None or promise.status != PENDING:
                continue  # decided meanwhile
            report.checked += 1
            try:
                status = refresh_promise(tx, promise, account, actor, now, payments)
            except Rejected as refusal:
                # Refused before anything was written: the others go on.
                log.warning("promise %s not refreshed: %s", promise_id, refusal)
                report.refused += 1
                continue
            report.kept += status == KEPT
            report.broken += status == BROKEN
    return report.as_dict()
