"""Aging, recovery chance, priority and the account's local date."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.rules.aging import (
    account_today,
    aging_bucket,
    days_past_due,
    priority,
    recovery_chance,
)
from server.rules.config import RulesConfig

CFG = RulesConfig()


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
        (61, "61-90"), (90, "61-90"), (91, "91-180"), (180, "91-180"),
        (181, "181-360"), (360, "181-360"), (361, "361-720"), (720, "361-720"),
        (721, "721+"), (5000, "721+"), (-3, "current"),
    ],
)
def test_aging_bucket_boundaries(days, bucket):
    assert aging_bucket(days) == bucket


def test_days_past_due():
    assert days_past_due(None, date(2026, 11, 30)) == 0
    assert days_past_due(date(2026, 12, 1), date(2026, 11, 30)) == 0  # not yet due
    assert days_past_due(date(2026, 11, 30), date(2026, 11, 30)) == 0
    assert days_past_due(date(2026, 11, 29), date(2026, 11, 30)) == 1
    assert days_past_due(date(2025, 11, 30), date(2026, 11, 30)) == 365


def test_account_today_differs_by_time_zone():
    instant = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert account_today("Asia/Taipei", instant) == date(2026, 12, 1)
    assert account_today("America/New_York", instant) == date(2026, 11, 30)


def test_account_today_rejects_naive_and_unknown_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        account_today("Asia/Taipei", datetime(2026, 11, 30, 12, 0))
    with pytest.raises(ValueError, match="unknown time zone"):
        account_today("Mars/Olympus", datetime(2026, 11, 30, 12, 0, tzinfo=UTC))


def test_days_past_due_across_new_york_fall_back():
    # 2026-11-01 02:00 EDT → 01:00 EST.  04:30 UTC on Nov 2 is 23:30 EST on Nov 1;
    # a fixed summer offset (UTC−4) would wrongly say 00:30 on Nov 2.
    now = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    today = account_today("America/New_York", now)
    assert today == date(2026, 11, 1)
    assert days_past_due(date(2026, 10, 31), today) == 1


def test_days_past_due_across_berlin_fall_back():
    # 2026-10-25 03:00 CEST → 02:00 CET.  23:30 UTC on Oct 25 is 00:30 CET on Oct 26.
    now = datetime(2026, 10, 25, 23, 30, tzinfo=UTC)
    assert days_past_due(date(2026, 10, 24), account_today("Europe/Berlin", now)) == 2
    # the same wall time a day earlier (still CEST, UTC+2): 22:30 UTC is 00:30 Oct 25.
    earlier = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    assert days_past_due(date(2026, 10, 24), account_today("Europe/Berlin", earlier)) == 1


@pytest.mark.parametrize(
    ("days", "chance"),
    [
        (0, 0.949), (30, 0.899), (60, 0.813), (90, 0.696), (180, 0.521), (270, 0.391),
        (365, 0.228), (730, 0.093), (731, 0.093), (10_000, 0.093), (-5, 0.949),
        (15, (0.949 + 0.899) / 2), (45, (0.899 + 0.813) / 2),
        (547.5, (0.228 + 0.093) / 2),
    ],
)
def test_recovery_chance_interpolates_linearly(days, chance):
    assert recovery_chance(days, CFG) == pytest.approx(chance)


@given(st.integers(min_value=-10, max_value=3000), st.integers(min_value=0, max_value=3000))
def test_recovery_chance_never_rises_with_age(a, b):
    low, high = sorted((a, b))
    assert recovery_chance(high, CFG) <= recovery_chance(low, CFG)
    assert 0.0 <= recovery_chance(high, CFG) <= 1.0


def test_priority_is_expected_recoverable_amount():
    assert priority(100_000, 0, 0, CFG) == 94_900
    assert priority(100_000, 90, 0, CFG) == 69_600
    assert priority(100_000, 1000, 0, CFG) == 9_300
    assert priority(0, 10, 2, CFG) == 0
    assert priority(-500, 10, 0, CFG) == 0


def test_broken_promises_raise_priority_up_to_the_cap():
    base = priority(100_000, 90, 0, CFG)
    assert priority(100_000, 90, 1, CFG) == round(base * 1.25)
    assert priority(100_000, 90, 2, CFG) == round(base * 1.5625)
    assert priority(100_000, 90, 10, CFG) == round(base * 2.0)
    with pytest.raises(ValueError):
        priority(100_000, 90, -1, CFG)


@given(
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=0, max_value=20),
)
def test_priority_never_falls_with_broken_promises_nor_exceeds_twice_the_amount(amount, days, bp):
    assert priority(amount, days, bp, CFG) <= priority(amount, days, bp + 1, CFG)
    assert priority(amount, days, bp, CFG) <= 2 * amount
