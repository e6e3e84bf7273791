"""Visit flags at their boundaries, in several time zones."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from server.rules.config import RulesConfig
from server.rules.flags import (
    REDIRECT_LOOP,
    account_flags,
    attempts_recent,
    checkin_distance_m,
    day_part,
    is_far_from_site,
    is_outside_contact_hours,
    needs_supervisor_for_redirects,
    redirect_streak,
    visit_flags,
)

CFG = RulesConfig()
TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")
SITE = (25.0340, 121.5645)  # Taipei 101
ACCOUNT = {"lat": SITE[0], "lon": SITE[1], "timezone": "Asia/Taipei"}


def at(h, m=0, s=0, tz=TAIPEI, day=30, month=11):
    return datetime(2026, month, day, h, m, s, tzinfo=tz)


def offset(meters, bearing=90.0):
    point = geodesic(meters=meters).destination(SITE, bearing)
    return point.latitude, point.longitude


# -- contact hours -------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "outside"),
    [
        ((7, 59, 59), True),
        ((8, 0, 0), False),
        ((12, 0, 0), False),
        ((21, 0, 0), False),
        ((21, 0, 1), True),
        ((23, 30, 0), True),
    ],
)
def test_contact_hours_both_ends_allowed(clock, outside):
    flags = visit_flags({"arrived_at": at(*clock)}, ACCOUNT, [], CFG)
    assert ("outside_contact_hours" in flags) is outside


def test_same_instant_differs_between_taipei_and_new_york():
    instant = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 21:00 Taipei, 08:00 New York
    later = instant + timedelta(seconds=1)  # 21:00:01 Taipei, 08:00:01 New York
    early = instant - timedelta(seconds=1)  # 20:59:59 Taipei, 07:59:59 New York
    ny = dict(ACCOUNT, timezone="America/New_York")
    assert "outside_contact_hours" not in visit_flags({"arrived_at": instant}, ACCOUNT)
    assert "outside_contact_hours" not in visit_flags({"arrived_at": instant}, ny)
    assert "outside_contact_hours" in visit_flags({"arrived_at": later}, ACCOUNT)
    assert "outside_contact_hours" not in visit_flags({"arrived_at": later}, ny)
    assert "outside_contact_hours" not in visit_flags({"arrived_at": early}, ACCOUNT)
    assert "outside_contact_hours" in visit_flags({"arrived_at": early}, ny)


@pytest.mark.parametrize(
    ("tz_name", "before", "after"),
    [
        # New York falls back on 2026-11-01: 12:30 UTC is 08:30 EDT the day before,
        # but 07:30 EST on the day itself.
        ("America/New_York", datetime(2026, 10, 31, 12, 30, tzinfo=UTC),
         datetime(2026, 11, 1, 12, 30, tzinfo=UTC)),
        # Berlin falls back on 2026-10-25: 06:30 UTC is 08:30 CEST, then 07:30 CET.
        ("Europe/Berlin", datetime(2026, 10, 24, 6, 30, tzinfo=UTC),
         datetime(2026, 10, 25, 6, 30, tzinfo=UTC)),
    ],
)
def test_contact_hours_follow_daylight_saving_change(tz_name, before, after):
    assert not is_outside_contact_hours(before, tz_name, CFG)
    assert is_outside_contact_hours(after, tz_name, CFG)


def test_configured_contact_hours_are_used():
    cfg = RulesConfig(contact_hours=("08:00", "19:00"))
    assert is_outside_contact_hours(at(19, 0, 1), "Asia/Taipei", cfg)
    assert not is_outside_contact_hours(at(19, 0, 1), "Asia/Taipei", CFG)


# -- geofence ------------------------------------------------------------------


@pytest.mark.parametrize(("meters", "far"), [(0, False), (199, False), (201, True), (5000, True)])
@pytest.mark.parametrize("bearing", [0.0, 90.0, 225.0])
def test_geofence_boundary(meters, far, bearing):
    lat, lon = offset(meters, bearing)
    assert checkin_distance_m(lat, lon, *SITE) == pytest.approx(meters, abs=0.01)
    flags = visit_flags({"checkin_lat": lat, "checkin_lon": lon, "checkin_accuracy_m": 8},
                        ACCOUNT, [], CFG)
    assert ("far_from_site" in flags) is far


def test_geofence_needs_both_positions():
    lat, lon = offset(5000)
    assert not is_far_from_site(None, None, *SITE)
    assert not is_far_from_site(lat, lon, None, None)
    assert visit_flags({"checkin_lat": lat, "checkin_lon": lon},
                       {"timezone": "Asia/Taipei", "lat": None, "lon": None}) == []


def test_geofence_radius_is_configurable():
    lat, lon = offset(160)
    assert not is_far_from_site(lat, lon, *SITE, cfg=CFG)
    assert is_far_from_site(lat, lon, *SITE, cfg=RulesConfig(geofence_m=150))


# -- late, contact ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrived", "late"),
    [
        (at(9, 40), False),        # early, as the plan asks
        (at(10, 0), False),        # on the dot
        (at(10, 0, 1), False),     # a second late: within the grace
        (at(10, 9, 59), False),
        (at(10, 10, 0), False),    # exactly at the end of the 10-minute grace
        (at(10, 10, 1), True),
        (at(11, 30), True),
    ],
)
def test_arrived_late_only_past_the_grace(arrived, late):
    flags = visit_flags({"arrived_at": arrived, "scheduled_at": at(10, 0)}, ACCOUNT)
    assert ("arrived_late" in flags) is late


def test_arrived_late_compares_instants_across_zones():
    scheduled = at(10, 0)
    # 02:11 UTC is 10:11 in Taipei: eleven minutes late, whichever zone it is written in.
    assert visit_flags({"arrived_at": datetime(2026, 11, 30, 2, 11, tzinfo=UTC),
                        "scheduled_at": scheduled}, ACCOUNT) == ["arrived_late"]
    assert visit_flags({"arrived_at": datetime(2026, 11, 30, 2, 10, tzinfo=UTC),
                        "scheduled_at": scheduled}, ACCOUNT) == []
    assert visit_flags({"arrived_at": at(9, 40)}, ACCOUNT) == []  # unscheduled: never late


@pytest.mark.parametrize(("grace", "arrived", "late"),
                         [(0, at(10, 0), False), (0, at(10, 0, 1), True),
                          (30, at(10, 29), False), (30, at(10, 30, 1), True)])
def test_arrived_late_grace_is_configurable(grace, arrived, late):
    cfg = RulesConfig(arrived_late_grace_minutes=grace)
    flags = visit_flags({"arrived_at": arrived, "scheduled_at": at(10, 0)}, ACCOUNT, [], cfg)
    assert ("arrived_late" in flags) is late


@pytest.mark.parametrize(("met", "flagged"),
                         [("original_contact", False), ("other_person", True), ("nobody", False),
                          (None, False)])
def test_not_original_contact(met, flagged):
    assert ("not_original_contact" in visit_flags({"met": met}, ACCOUNT)) is flagged


# -- attempts --------------------------------------------------------------------


def daily_attempts(n, first=None):
    """n attempts one day apart, alternating morning and afternoon."""
    first = first or at(10, 0, day=20)
    return [first + timedelta(days=i, hours=4 * (i % 2)) for i in range(n)]


def test_fifth_attempt_in_seven_days_is_allowed_sixth_is_flagged():
    earlier = daily_attempts(5)  # Nov 20..24
    fifth = {"arrived_at": at(10, 0, day=25), "status": "done"}
    sixth = {"arrived_at": at(15, 0, day=25), "status": "done"}
    assert "attempt_limit_exceeded" not in visit_flags(fifth, ACCOUNT, earlier[1:], CFG)
    assert "attempt_limit_exceeded" in visit_flags(sixth, ACCOUNT, earlier, CFG)


def test_attempt_window_is_seven_times_24_hours_ending_at_the_visit():
    first = at(10, 0, day=20)
    others = [first] + [first + timedelta(days=d) for d in (2, 3, 4, 5)]
    # exactly 7 × 24 h after the first: it has left the window, so this is the 5th.
    on_the_dot = {"arrived_at": first + timedelta(days=7)}
    assert "attempt_limit_exceeded" not in visit_flags(on_the_dot, ACCOUNT, others)
    just_inside = {"arrived_at": first + timedelta(days=7) - timedelta(seconds=1)}
    assert "attempt_limit_exceeded" in visit_flags(just_inside, ACCOUNT, others)


def test_attempt_window_spans_a_daylight_saving_change_by_absolute_time():
    # New York, around the 2026-11-01 change: 7 × 24 h, not 7 wall-clock days.
    first = datetime(2026, 10, 29, 10, 0, tzinfo=NEW_YORK)  # EDT
    others = [first] + [datetime(2026, 10, 30 + d, 14, 0, tzinfo=NEW_YORK)
                        for d in range(0, 2)] + [datetime(2026, 11, d, 14, 0, tzinfo=NEW_YORK)
                                                  for d in (2, 3)]
    ny = dict(ACCOUNT, timezone="America/New_York")
    # 09:30 EST on Nov 5 is 14:30 UTC; the first was 14:00 UTC on Oct 29: > 7 × 24 h ago.
    visit = {"arrived_at": datetime(2026, 11, 5, 9, 30, tzinfo=NEW_YORK)}
    assert "attempt_limit_exceeded" not in visit_flags(visit, ny, others)
    # 08:30 EST on Nov 5 is 13:30 UTC: still within 7 × 24 h of the first.
    visit = {"arrived_at": datetime(2026, 11, 5, 8, 30, tzinfo=NEW_YORK)}
    assert "attempt_limit_exceeded" in visit_flags(visit, ny, others)


def test_attempts_recent_counts_the_window_only():
    now = at(12, 0, day=30)
    times = [now, now - timedelta(days=1), now - timedelta(days=7),
             now - timedelta(days=6, hours=23), now + timedelta(hours=1)]
    assert attempts_recent(times, now, CFG) == 3
    assert attempts_recent([], now, CFG) == 0


def test_planned_visit_is_not_an_attempt():
    earlier = daily_attempts(5)
    planned = {"arrived_at": at(10, 0, day=25), "status": "planned"}
    assert visit_flags(planned, ACCOUNT, earlier, CFG) == []


# -- parts of the day --------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "part"),
    [(time(0, 0), "morning"), (time(11, 59, 59), "morning"), (time(12, 0), "afternoon"),
     (time(17, 0), "afternoon"), (time(17, 0, 1), "evening"), (time(23, 59), "evening")],
)
def test_day_part_boundaries(clock, part):
    assert day_part(clock, CFG) == part


def test_same_slot_repeat_uses_the_previous_attempt_only():
    visit = {"arrived_at": at(10, 0, day=25)}
    assert "same_slot_repeat" in visit_flags(visit, ACCOUNT, [at(9, 0, day=24)])
    assert "same_slot_repeat" not in visit_flags(visit, ACCOUNT, [at(14, 0, day=24)])
    # the previous attempt is the latest one before this, not just any earlier one
    assert "same_slot_repeat" not in visit_flags(
        visit, ACCOUNT, [at(9, 0, day=22), at(14, 0, day=24), at(9, 0, day=26)])
    assert "same_slot_repeat" not in visit_flags(visit, ACCOUNT, [])


def test_same_slot_repeat_depends_on_the_accounts_time_zone():
    prev, this = datetime(2026, 11, 24, 3, 0, tzinfo=UTC), datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    ny = dict(ACCOUNT, timezone="America/New_York")
    # 03:00 then 05:00 UTC: Taipei 11:00/13:00 (morning, afternoon),
    # New York 22:00/00:00 (evening, morning): different parts in both.
    assert "same_slot_repeat" not in visit_flags({"arrived_at": this}, ACCOUNT, [prev])
    assert "same_slot_repeat" not in visit_flags({"arrived_at": this}, ny, [prev])
    # 02:00 then 03:30 UTC: Taipei 10:00/11:30, New York 21:00/22:30: same parts in both.
    prev, this = datetime(2026, 11, 24, 2, 0, tzinfo=UTC), datetime(2026, 11, 25, 3, 30, tzinfo=UTC)
    assert "same_slot_repeat" in visit_flags({"arrived_at": this}, ACCOUNT, [prev])
    assert "same_slot_repeat" in visit_flags({"arrived_at": this}, ny, [prev])
    # 01:00 UTC then 04:30 UTC: Taipei 09:00/12:30 (morning, afternoon),
    # New York 20:00/23:30 (both evening).
    prev, this = datetime(2026, 11, 24, 1, 0, tzinfo=UTC), datetime(2026, 11, 25, 4, 30, tzinfo=UTC)
    assert "same_slot_repeat" not in visit_flags({"arrived_at": this}, ACCOUNT, [prev])
    assert "same_slot_repeat" in visit_flags({"arrived_at": this}, ny, [prev])


# -- everything together -----------------------------------------------------------


def test_flags_are_sorted_and_unique():
    lat, lon = offset(500)
    visit = {"arrived_at": at(21, 30, day=25), "scheduled_at": at(21, 0, day=25),
             "checkin_lat": lat, "checkin_lon": lon, "met": "other_person", "status": "done"}
    flags = visit_flags(visit, ACCOUNT, daily_attempts(5) + [at(20, 0, day=24)], CFG)
    assert flags == sorted(set(flags))
    assert flags == ["arrived_late", "attempt_limit_exceeded", "far_from_site",
                     "not_original_contact", "outside_contact_hours", "same_slot_repeat"]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        visit_flags({"arrived_at": datetime(2026, 11, 30, 10, 0)}, ACCOUNT)


# -- redirects -----------------------------------------------------------------------


def test_redirect_streak_and_supervisor_flag():
    redirect = {"status": "done", "redirected_to": "the accountant"}
    plain = {"status": "done", "redirected_to": None}
    planned = {"status": "planned"}
    assert redirect_streak([]) == 0
    assert redirect_streak([redirect, plain, redirect]) == 1
    assert redirect_streak([redirect, planned, redirect, plain]) == 2
    assert redirect_streak([{"status": "done", "redirected_to": "  "}, redirect]) == 0
    assert not needs_supervisor_for_redirects([redirect, plain, redirect], CFG)
    assert needs_supervisor_for_redirects([redirect, redirect], CFG)
    assert account_flags([redirect, redirect], CFG) == [REDIRECT_LOOP]
    assert account_flags([redirect], CFG) == []
    assert needs_supervisor_for_redirects([redirect], RulesConfig(redirect_limit=1))


@settings(max_examples=400, deadline=None)
@given(lat=st.floats(-89.0, 89.0), lon=st.floats(-179.0, 179.0),
       bearing=st.floats(0.0, 360.0), metres=st.floats(150.0, 250.0),
       fence=st.sampled_from([100, 200, 201, 500]))
def test_far_from_site_decides_as_the_geodesic_does(lat, lon, bearing, metres, fence):
    """The cheap great-circle pre-check never changes the geodesic's
    verdict, also right at the edge of the fence, anywhere on Earth."""
    from geopy.distance import distance

    cfg = RulesConfig(geofence_m=fence)
    there = distance(meters=metres * fence / 200).destination((lat, lon), bearing)
    exact = geodesic((there.latitude, there.longitude), (lat, lon)).meters > fence
    assert is_far_from_site(there.latitude, there.longitude, lat, lon, cfg) is exact
