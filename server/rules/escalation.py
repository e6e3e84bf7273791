"""When to suggest handing an account to an agency or to lawyers (seed tip 20).

The rule only *suggests*; a supervisor decides.  Any one threshold reached
(broken promises, visits without payment, days past due) makes a suggestion.
The suggestion is ``legal`` when the debt is both old (days threshold) and
the debtor has repeatedly broken promises (promises threshold): age alone
might still yield to an agency's persistence, and broken promises on a young
debt are often a cash-flow problem, but the two together show the debtor will
not pay voluntarily while the claim's value keeps falling (and limitation
periods keep running), so a court is the remaining lever.  Otherwise
``agency``.
"""

from __future__ import annotations

from typing import Any

from .config import DEFAULT_CONFIG, RulesConfig

AGENCY, LEGAL = "agency", "legal"
REASON_BROKEN_PROMISES = "broken_promises"
REASON_VISITS_WITHOUT_PAYMENT = "visits_without_payment"
REASON_DAYS_PAST_DUE = "days_past_due"


def escalation_reasons(
    broken_promises: int,
    visits_without_payment: int,
    days_past_due: int,
    cfg: RulesConfig = DEFAULT_CONFIG,
) -> list[str]:
    """The thresholds reached, in a fixed order."""
    reasons = []
    if broken_promises >= cfg.escalation_broken_promises:
        reasons.append(REASON_BROKEN_PROMISES)
    if visits_without_payment >= cfg.escalation_visits_without_payment:
        reasons.append(REASON_VISITS_WITHOUT_PAYMENT)
    if days_past_due >= cfg.escalation_days_past_due:
        reasons.append(REASON_DAYS_PAST_DUE)
    return reasons


def escalation_suggestion(
    broken_promises: int,
    visits_without_payment: int,
    days_past_due: int,
    cfg: RulesConfig = DEFAULT_CONFIG,
) -> dict[str, Any] | None:
    """``{"suggest": "agency"|"legal", "reasons": [...]}``, or None below every threshold."""
    reasons = escalation_reasons(broken_promises, visits_without_payment, days_past_due, cfg)
    if not reasons:
        return None
    legal = REASON_BROKEN_PROMISES in reasons and REASON_DAYS_PAST_DUE in reasons
    return {"suggest": LEGAL if legal else AGENCY, "reasons": reasons}
