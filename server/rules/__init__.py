"""The collection rules: pure functions on plain values (no Flask, no database).

The server calls them to compute flags, account fields, promise status,
escalation suggestions and day plans; ``RulesConfig.to_wire()`` hands the same
thresholds to the phone so it can warn offline.
"""

from .aging import (
    AGING_BUCKET_NAMES,
    account_today,
    aging_bucket,
    days_past_due,
    priority,
    recovery_chance,
)
from .config import DEFAULT_CONFIG, RulesConfig
from .escalation import escalation_suggestion
from .flags import (
    REDIRECT_LOOP,
    VISIT_FLAGS,
    account_flags,
    attempts_recent,
    day_part,
    needs_supervisor_for_redirects,
    redirect_streak,
    visit_flags,
)
from .geocoding import geocode_address, make_geocoder
from .guidance import CONDUCT_RULE_IDS, DELINQUENCY_REASONS, guidance_document
from .planning import DayContext, plan_route, travel_minutes
from .promises import promise_status

__all__ = [
    "AGING_BUCKET_NAMES",
    "CONDUCT_RULE_IDS",
    "DEFAULT_CONFIG",
    "DELINQUENCY_REASONS",
    "REDIRECT_LOOP",
    "VISIT_FLAGS",
    "DayContext",
    "RulesConfig",
    "account_flags",
    "account_today",
    "aging_bucket",
    "attempts_recent",
    "day_part",
    "days_past_due",
    "escalation_suggestion",
    "geocode_address",
    "guidance_document",
    "make_geocoder",
    "needs_supervisor_for_redirects",
    "plan_route",
    "priority",
    "promise_status",
    "recovery_chance",
    "redirect_streak",
    "travel_minutes",
    "visit_flags",
]
