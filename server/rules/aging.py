"""How late an account is, and how much a visit to it is worth.

``priority`` is the expected recoverable amount: what is due times the chance
of recovering a debt of that age (seed tip 15: the older the debt, the harder
it is to collect), raised for broken promises (see ``config.py`` for why).
"""

from __future__ import annotations

from datetime import date, datetime

from .clock import local_date
from .config import DEFAULT_CONFIG, RulesConfig

# (lowest day, label); a day belongs to the last bucket whose lowest day it reaches.
AGING_BUCKETS: tuple[tuple[int, str], ...] = (
    (0, "current"),
    (1, "1-30"),
    (31, "31-60"),
    (61, "61-90"),
    (91, "91-180"),
    (181, "181-360"),
    (361, "361-720"),
    (721, "721+"),
)
AGING_BUCKET_NAMES: tuple[str, ...] = tuple(name for _, name in AGING_BUCKETS)


def account_today(tz_name: str, now_utc: datetime) -> date:
    """Today's date on the account's wall clock (IANA zone ``tz_name``)."""
    return local_date(now_utc, tz_name)


def days_past_due(due_since: date | None, today: date) -> int:
    """Whole calendar days since ``due_since``; 0 when unknown or not yet due.

    ``today`` is the account's local date (``account_today``), so the count
    changes at the account's midnight and a daylight-saving change never makes
    a day count twice or not at all.
    """
    if due_since is None:
        return 0
    return max(0, (today - due_since).days)


def aging_bucket(days: int) -> str:
    """The aging bucket label for ``days`` past due (0 or less → ``current``)."""
    label = AGING_BUCKETS[0][1]
    for lowest, name in AGING_BUCKETS:
        if days >= lowest:
            label = name
    return label


def recovery_chance(days: int, cfg: RulesConfig = DEFAULT_CONFIG) -> float:
    """Chance (0–1) of recovering a debt ``days`` past due.

    Linear interpolation between the configured curve's points; before the
    first point the first value holds, beyond the last the last value holds.
    """
    curve = cfg.recovery_curve
    if days <= curve[0][0]:
        return curve[0][1]
    for (d1, c1), (d2, c2) in zip(curve, curve[1:], strict=False):
        if days <= d2:
            return c1 + (c2 - c1) * (days - d1) / (d2 - d1)
    return curve[-1][1]


def broken_promise_multiplier(broken_promises: int, cfg: RulesConfig = DEFAULT_CONFIG) -> float:
    """``boost ** broken_promises``, capped at ``broken_promise_boost_cap``."""
    if broken_promises < 0:
        raise ValueError(f"broken_promises must not be negative, got {broken_promises}")
    return min(cfg.broken_promise_boost**broken_promises, cfg.broken_promise_boost_cap)


def priority(
    amount_due_minor: int,
    days: int,
    broken_promises: int = 0,
    cfg: RulesConfig = DEFAULT_CONFIG,
) -> int:
    """Expected recoverable amount in minor units, raised for broken promises.

    Nothing due (or a credit balance) is worth nothing: 0.
    """
    if amount_due_minor <= 0:
        return 0
    value = amount_due_minor * recovery_chance(days, cfg)
    return round(value * broken_promise_multiplier(broken_promises, cfg))
