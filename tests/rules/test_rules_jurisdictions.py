"""Each jurisdiction's contact hours and attempt limit, at their boundaries,
read on the debtor's wall clock (docs/rules.md "Jurisdictions")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.rules.attempts import Attempt, attempt_person
from server.rules.config import RulesConfig
from server.rules.flags import visit_flags
from server.rules.planning import stop_warnings

CFG = RulesConfig()
OUTSIDE = "outside_contact_hours"
OVER_LIMIT = "attempt_limit_exceeded"

# (jurisdiction, the debtor's zone, start, end) as shipped.
SHIPPED_HOURS = [
    ("US", "America/Chicago", (8, 0), (21, 0)),
    ("IN", "Asia/Kolkata", (8, 0), (19, 0)),
    ("CN", "Asia/Shanghai", (8, 0), (22, 0)),
    ("JP", "Asia/Tokyo", (8, 0), (21, 0)),
    ("TW", "Asia/Taipei", (8, 0), (21, 0)),
]


def account(code, tz="Asia/Taipei", **extra):
    return {"timezone": tz, "jurisdiction": code, "lat": None, "lon": None, **extra}


def local(tz, h, m, day=(2026, 12, 2)):
    return datetime(*day, h, m, tzinfo=ZoneInfo(tz))


def minute_either_side(start, end):
    """(clock, outside?) one minute before and after each end."""
    (sh, sm), (eh, em) = start, end
    before_start = (sh - 1, 59) if sm == 0 else (sh, sm - 1)
    after_end = (eh, em + 1)
    return [(before_start, True), ((sh, sm), False), ((sh, sm + 1), False),
            ((eh - 1, 59) if em == 0 else (eh, em - 1), False), ((eh, em), False),
            (after_end, True)]


@pytest.mark.parametrize(("code", "tz", "clock", "outside"), [
    (code, tz, clock, outside)
    for code, tz, start, end in SHIPPED_HOURS
    for clock, outside in minute_either_side(start, end)
])
def test_contact_hours_of_each_jurisdiction_one_minute_either_side(code, tz, clock, outside):
    flags = visit_flags({"arrived_at": local(tz, *clock)}, account(code, tz), [], CFG)
    assert (OUTSIDE in flags) is outside


# The US changes clocks on 2026-03-08 (EST −5 → EDT −4) and 2026-11-01
# (EDT → EST). Arrivals are given in UTC with the offset written out, so the
# flag can only be right if the debtor's clock is read with the offset of
# that very day.
NEW_YORK_DAYS = [((2026, 3, 7), -5), ((2026, 3, 8), -4), ((2026, 10, 31), -4), ((2026, 11, 1), -5)]


@pytest.mark.parametrize(("day", "offset", "clock", "outside"), [
    (day, offset, clock, outside)
    for day, offset in NEW_YORK_DAYS
    for clock, outside in minute_either_side((8, 0), (21, 0))
])
def test_us_contact_hours_across_daylight_saving_changes(day, offset, clock, outside):
    arrived = datetime(*day, *clock, tzinfo=UTC) - timedelta(hours=offset)
    flags = visit_flags({"arrived_at": arrived}, account("US", "America/New_York"), [], CFG)
    assert (OUTSIDE in flags) is outside


def test_the_same_hour_is_allowed_in_one_jurisdiction_and_not_in_another():
    evening = local("Asia/Kolkata", 20, 0)
    assert OUTSIDE in visit_flags({"arrived_at": evening}, account("IN", "Asia/Kolkata"))
    assert OUTSIDE not in visit_flags({"arrived_at": evening}, account("TW", "Asia/Kolkata"))


def test_an_account_without_a_configured_jurisdiction_follows_the_top_level_rules():
    cfg = RulesConfig(contact_hours=("09:00", "18:00"))
    late = {"arrived_at": local("Asia/Taipei", 18, 30)}
    for code in (None, "SG"):  # none at all, or one this installation has no rules for
        assert OUTSIDE in visit_flags(late, account(code), [], cfg)
    # Taiwan ships no hours of its own: the top-level ones govern it too.
    assert OUTSIDE in visit_flags(late, account("TW"), [], cfg)
    assert OUTSIDE not in visit_flags(late, account("US", "Asia/Taipei"), [], cfg)


def test_an_overridden_jurisdiction_value_is_used():
    cfg = RulesConfig.from_env({"FIELDVISIT_RULES_JURISDICTION_JP_CONTACT_HOURS": "09:00-20:00"})
    visit = {"arrived_at": local("Asia/Tokyo", 20, 1)}
    assert OUTSIDE in visit_flags(visit, account("JP", "Asia/Tokyo"), [], cfg)
    assert OUTSIDE not in visit_flags(visit, account("JP", "Asia/Tokyo"), [], CFG)


# -- attempts --------------------------------------------------------------------

NY = "America/New_York"


def attempts(n, last, person="original_contact", step=timedelta(hours=20)):
    """n earlier attempts, the latest ``step`` before ``last``."""
    return [Attempt(last - step * (i + 1), person) for i in range(n)]


@pytest.mark.parametrize(("code", "tz", "allowed"), [("US", NY, 7), ("TW", "Asia/Taipei", 5),
                                                     ("IN", "Asia/Kolkata", 5)])
@pytest.mark.parametrize("nth_over", [0, 1])
def test_the_last_allowed_attempt_and_the_one_after(code, tz, allowed, nth_over):
    now = local(tz, 10, 0)
    earlier = attempts(allowed - 1 + nth_over, now)
    flags = visit_flags({"arrived_at": now, "status": "done", "met": "original_contact"},
                        account(code, tz), earlier, CFG)
    assert (OVER_LIMIT in flags) is bool(nth_over)


def test_us_counts_attempts_per_person_of_the_debt():
    now = local(NY, 10, 0)
    # Seven visits met the owner's wife (three of them before, spelt differently).
    spouse = [Attempt(t.at, attempt_person("other_person", name)) for t, name in
              zip(attempts(7, now), ["Mrs Lin", "mrs  lin", "MRS LIN", "Mrs Lin", "Ｍｒｓ Lin",
                                     "Mrs Lin", "Mrs Lin"], strict=True)]
    visit_debtor = {"arrived_at": now, "status": "done", "met": "original_contact"}
    visit_spouse = {**visit_debtor, "met": "other_person", "met_name": "Mrs. Lin".replace(".", "")}
    us = account("US", NY)
    assert OVER_LIMIT not in visit_flags(visit_debtor, us, spouse, CFG)
    assert OVER_LIMIT in visit_flags(visit_spouse, us, spouse, CFG)
    # A visit that met nobody sought the debtor: it counts for them.
    nobody = [Attempt(a.at, attempt_person("nobody")) for a in attempts(7, now)]
    assert OVER_LIMIT in visit_flags(visit_debtor, us, nobody, CFG)
    # Where attempts count per account (Taiwan), everyone's count together.
    assert OVER_LIMIT in visit_flags(visit_debtor, account("TW", NY), spouse, CFG)


def test_unnamed_other_people_count_as_one():
    assert attempt_person("other_person", "") == attempt_person("other_person", None)
    assert attempt_person("other_person", "Ann") != attempt_person("other_person", "")
    assert attempt_person("nobody", "Ann") == attempt_person("original_contact") == "original_contact"


def test_bare_times_count_against_everyone():
    # An attempt whose person is unknown is counted for every person: the
    # limit is reached sooner, never later.
    now = local(NY, 10, 0)
    earlier = [a.at for a in attempts(7, now)]
    visit = {"arrived_at": now, "status": "done", "met": "other_person", "met_name": "Ann"}
    assert OVER_LIMIT in visit_flags(visit, account("US", NY), earlier, CFG)


def test_the_us_window_rolls_by_absolute_time_across_the_fall_change():
    # Seven earlier attempts, the first exactly 7 × 24 h before the 8th:
    # it has left the window (which spans 2026-11-01, a 25-hour day).
    eighth = datetime(2026, 11, 5, 10, 0, tzinfo=ZoneInfo(NY))
    # 168 hours before on UTC instants: 11:00 on Oct 29 by the debtor's clock
    # (Python's wall-clock arithmetic in one zone would say 10:00, 169 h).
    first = eighth.astimezone(UTC) - timedelta(days=7)
    assert first.astimezone(ZoneInfo(NY)).hour == 11
    earlier = [Attempt(first)] + attempts(6, eighth, step=timedelta(hours=22))
    us = account("US", NY)
    visit = {"arrived_at": eighth, "status": "done", "met": "original_contact"}
    assert OVER_LIMIT not in visit_flags(visit, us, earlier, CFG)
    earlier[0] = Attempt(first + timedelta(minutes=1))
    assert OVER_LIMIT in visit_flags(visit, us, earlier, CFG)


# -- the plan uses the same rules ------------------------------------------------


def stop(code, tz, **extra):
    return {"visit_id": "v", "timezone": tz, "lat": 1.0, "lon": 1.0, "jurisdiction": code, **extra}


@pytest.mark.parametrize(("code", "tz", "clock", "warned"), [
    ("IN", "Asia/Kolkata", (18, 59), False), ("IN", "Asia/Kolkata", (19, 1), True),
    ("CN", "Asia/Shanghai", (21, 59), False), ("CN", "Asia/Shanghai", (22, 1), True),
    ("TW", "Asia/Taipei", (21, 1), True), ("JP", "Asia/Tokyo", (7, 59), True),
])
def test_plan_warns_outside_the_jurisdictions_contact_hours(code, tz, clock, warned):
    warnings = stop_warnings(stop(code, tz), local(tz, *clock), CFG)
    assert ("outside_contact_hours" in warnings) is warned


def test_plan_warns_before_the_eighth_us_attempt_not_the_seventh():
    when = local(NY, 10, 0)
    assert "attempt_limit" not in stop_warnings(
        stop("US", NY, attempts_before=attempts(6, when)), when, CFG)
    assert "attempt_limit" in stop_warnings(
        stop("US", NY, attempts_before=attempts(7, when)), when, CFG)
    # A planned visit seeks the debtor: third parties met before do not count.
    assert "attempt_limit" not in stop_warnings(
        stop("US", NY, attempts_before=attempts(7, when, "other:ann")), when, CFG)
