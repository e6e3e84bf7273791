"""Escalation suggestions at their thresholds."""

import pytest

from server.rules.config import RulesConfig
from server.rules.escalation import escalation_suggestion

CFG = RulesConfig()


@pytest.mark.parametrize(
    ("broken", "visits", "days", "expected"),
    [
        (0, 0, 0, None),
        (2, 5, 359, None),
        (3, 0, 0, {"suggest": "agency", "reasons": ["broken_promises"]}),
        (0, 6, 0, {"suggest": "agency", "reasons": ["visits_without_payment"]}),
        (0, 0, 360, {"suggest": "agency", "reasons": ["days_past_due"]}),
        (2, 6, 400, {"suggest": "agency", "reasons": ["visits_without_payment", "days_past_due"]}),
        (3, 0, 360, {"suggest": "legal", "reasons": ["broken_promises", "days_past_due"]}),
        (5, 9, 800, {"suggest": "legal",
                     "reasons": ["broken_promises", "visits_without_payment", "days_past_due"]}),
    ],
)
def test_escalation_mapping(broken, visits, days, expected):
    assert escalation_suggestion(broken, visits, days, CFG) == expected


def test_thresholds_are_configurable():
    cfg = RulesConfig(escalation_days_past_due=90)
    assert escalation_suggestion(0, 0, 90, cfg) == {"suggest": "agency",
                                                    "reasons": ["days_past_due"]}
    assert escalation_suggestion(0, 0, 90, CFG) is None
