"""Status of a promise to pay (seed tips 5 and 7: hold the debtor to it).

A promise is *kept* once confirmed payments made since it was given reach the
promised amount by the end of the promised day on the account's wall clock;
*broken* once that day has ended locally without it; *pending* until then.
Money paid after the deadline is welcome but does not un-break the promise:
the record of reliability is what the rule is about.  Only confirmed payments
count, because a collector alone cannot settle an account (prohibition 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from .clock import as_utc, end_of_day_utc

PENDING, KEPT, BROKEN = "pending", "kept", "broken"


def promise_deadline_utc(promise_date: date, tz_name: str) -> datetime:
    """The UTC instant at which the promised day ends in the account's zone (exclusive)."""
    return end_of_day_utc(promise_date, tz_name)


def paid_towards_promise(
    payments: Iterable[tuple[datetime, int]], made_at: datetime, deadline_utc: datetime
) -> int:
    """Sum of payments collected in ``[made_at, deadline)``."""
    start = as_utc(made_at, "made_at")
    return sum(
        amount
        for collected_at, amount in payments
        if start <= as_utc(collected_at, "collected_at") < deadline_utc
    )


def promise_status(
    amount: int,
    promise_date: date,
    tz_name: str,
    payments: Iterable[tuple[datetime, int]],
    now_utc: datetime,
    made_at: datetime,
) -> str:
    """``pending``, ``kept`` or ``broken`` (see the module docstring).

    ``payments``: (collected_at, amount) of the account's CONFIRMED payments;
    any collected before ``made_at`` are ignored here too, so a caller that
    passes all of them gets the same answer.
    """
    deadline = promise_deadline_utc(promise_date, tz_name)
    if paid_towards_promise(payments, made_at, deadline) >= amount:
        return KEPT
    if as_utc(now_utc, "now_utc") >= deadline:
        return BROKEN
    return PENDING
