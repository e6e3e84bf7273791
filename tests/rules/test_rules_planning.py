"""Route planning on real Taipei coordinates."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from server.rules.config import RulesConfig
from server.rules.planning import DayContext, plan_route, travel_minutes

CFG = RulesConfig()
TZ = "Asia/Taipei"
TAIPEI = ZoneInfo(TZ)
DAY = DayContext(day=date(2026, 11, 30), timezone=TZ)
PLACES = {
    "taipei101": (25.0340, 121.5645),
    "main_station": (25.0478, 121.5170),
    "ximending": (25.0422, 121.5079),
    "songshan_airport": (25.0697, 121.5525),
    "shilin_market": (25.0880, 121.5241),
    "neihu_tech_park": (25.0800, 121.5750),
}


def stop(name, when=None, **extra):
    lat, lon = PLACES[name] if name in PLACES else (None, None)
    return {"visit_id": f"v-{name}", "account_id": f"a-{name}", "scheduled_at": when,
            "lat": lat, "lon": lon, "timezone": TZ, **extra}


def at(h, m=0):
    return datetime(2026, 11, 30, h, m, tzinfo=TAIPEI)


def names(route):
    return [s["visit_id"].removeprefix("v-") for s in route]


# -- travel time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("km", "minutes"),
    [(0, 0), (-1, 0), (0.01, 1), (1, 4), (25 / 1.3, 60), (25 / 1.3 + 0.001, 61), (10, 32)],
)
def test_travel_minutes_round_up(km, minutes):
    # distance × 1.3 ÷ 25 km/h; 1 km → 3.12 min → 4; 19.23 km → exactly 60.
    assert travel_minutes(km, CFG) == minutes


def test_travel_minutes_follow_config():
    assert travel_minutes(10, RulesConfig(detour_factor=1.0, travel_speed_kmh=30)) == 20


# -- flexible stops: nearest neighbour -------------------------------------------------


FLEXIBLE = ["taipei101", "ximending", "songshan_airport", "shilin_market", "neihu_tech_park"]


def test_flexible_stops_follow_nearest_neighbour_from_the_start():
    route = plan_route([stop(n) for n in FLEXIBLE], PLACES["main_station"], CFG, DAY)
    # Main Station → Ximending (1.1 km) → Shilin (5.3) → Songshan (3.5) → Neihu (2.5)
    # → Taipei 101 (5.2): one loop round the city, no crossing back.
    assert names(route) == ["ximending", "shilin_market", "songshan_airport",
                            "neihu_tech_park", "taipei101"]
    # each step goes to the nearest stop not yet visited
    here = PLACES["main_station"]
    remaining = set(FLEXIBLE)
    for name in names(route):
        nearest = min(remaining, key=lambda n: geodesic(here, PLACES[n]).km)
        assert name == nearest
        remaining.remove(name)
        here = PLACES[name]


def test_route_is_shorter_than_the_input_order():
    route = plan_route([stop(n) for n in FLEXIBLE], PLACES["main_station"], CFG, DAY)
    naive = 0.0
    here = PLACES["main_station"]
    for name in FLEXIBLE:
        naive += geodesic(here, PLACES[name]).km
        here = PLACES[name]
    planned = sum(s["distance_km"] for s in route)
    assert planned == pytest.approx(17.6, abs=0.2)
    assert planned < naive


def test_distance_travel_and_leave_by_arithmetic():
    route = plan_route([stop(n) for n in FLEXIBLE], PLACES["main_station"], CFG, DAY)
    here = PLACES["main_station"]
    for s in route:
        there = PLACES[s["visit_id"].removeprefix("v-")]
        km = geodesic(here, there).km
        assert s["distance_km"] == round(km, 1)
        assert s["travel_minutes"] == travel_minutes(km, CFG)
        assert s["leave_by"] == s["scheduled_at"] - timedelta(
            minutes=s["travel_minutes"] + CFG.early_margin_minutes)
        here = there
    # the first stop: leave Main Station at 09:11 for 4 minutes' ride, 15 early for 09:30
    first = route[0]
    assert (first["scheduled_at"], first["leave_by"], first["travel_minutes"]) == (
        at(9, 30), at(9, 11), 4)


def test_flexible_stops_wait_for_the_preferred_window_and_never_overlap():
    route = plan_route([stop(n) for n in FLEXIBLE], PLACES["main_station"], CFG, DAY)
    assert route[0]["scheduled_at"] == at(9, 30)  # free from 08:00, but 09:30 is preferred
    for s in route:
        assert s["warnings"] == []
        assert s["scheduled_at"].minute % 5 == 0
    for prev, nxt in zip(route, route[1:], strict=False):
        # the collector leaves for the next stop only after the visit before it
        assert nxt["leave_by"] >= prev["scheduled_at"] + timedelta(minutes=CFG.visit_minutes)


def test_available_from_delays_the_first_stop():
    ctx = DayContext(day=date(2026, 11, 30), timezone=TZ, available_from=at(14, 30))
    route = plan_route([stop("ximending")], PLACES["main_station"], CFG, ctx)
    assert route[0]["scheduled_at"] == at(14, 50)  # 14:30 + 4 min + 15, rounded up to 5 min


def test_unknown_start_gives_zero_first_leg():
    route = plan_route([stop(n) for n in FLEXIBLE], None, CFG, DAY)
    assert route[0]["distance_km"] == 0.0 and route[0]["travel_minutes"] == 0
    assert route[0]["leave_by"] == route[0]["scheduled_at"] - timedelta(minutes=15)
    assert sorted(names(route)) == sorted(FLEXIBLE)


def test_plan_is_deterministic_whatever_the_input_order():
    stops = [stop(n) for n in FLEXIBLE] + [stop("main_station", at(14, 0))]
    expected = plan_route(stops, PLACES["taipei101"], CFG, DAY)
    for seed in range(5):
        shuffled = stops[:]
        random.Random(seed).shuffle(shuffled)
        assert plan_route(shuffled, PLACES["taipei101"], CFG, DAY) == expected


# -- fixed appointments -----------------------------------------------------------


def test_fixed_appointments_keep_their_time_and_order_with_flexible_stops_between():
    stops = [stop("neihu_tech_park", at(15, 0)), stop("songshan_airport", at(10, 0)),
             stop("ximending"), stop("shilin_market"), stop("taipei101")]
    route = plan_route(stops, PLACES["main_station"], CFG, DAY)
    assert names(route) == ["ximending", "songshan_airport", "shilin_market", "taipei101",
                            "neihu_tech_park"]
    fixed = [s for s in route if s["fixed"]]
    assert [s["scheduled_at"] for s in fixed] == [at(10, 0), at(15, 0)]
    # Songshan: 5.4 km from Ximending → 17 min; leave 10:00 − 17 − 15 = 09:28.
    assert route[1]["leave_by"] == at(9, 28) and route[1]["travel_minutes"] == 17
    # Ximending fits before the 10:00 appointment only at 08:20 (09:30 would be too late).
    assert route[0]["scheduled_at"] == at(8, 20)
    assert route[0]["warnings"] == ["outside_preferred_window"]
    for prev, nxt in zip(route, route[1:], strict=False):
        assert nxt["leave_by"] >= prev["scheduled_at"] + timedelta(minutes=CFG.visit_minutes)
        assert "tight_schedule" not in nxt["warnings"]


def test_appointments_too_close_together_are_warned():
    stops = [stop("ximending", at(10, 0)), stop("neihu_tech_park", at(10, 15))]
    route = plan_route(stops, None, CFG, DAY)
    assert route[1]["warnings"] == ["tight_schedule"]
    # 8.0 km → 25 min: leave at 09:35, while still at Ximending until 10:30.
    assert route[1]["travel_minutes"] == 25
    assert route[1]["leave_by"] == at(9, 35)


def test_day_context_defaults_from_the_first_appointment():
    route = plan_route([stop("ximending", at(10, 0))], PLACES["main_station"], CFG)
    assert route[0]["leave_by"] == at(9, 41)
    with pytest.raises(ValueError, match="day_context"):
        plan_route([stop("ximending")], None, CFG)


# -- warnings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "warnings"),
    [
        (at(9, 30), []),
        (at(11, 30), []),
        (at(11, 31), ["outside_preferred_window"]),
        (at(16, 0), []),
        (at(21, 0), ["outside_preferred_window"]),
        (at(21, 30), ["outside_contact_hours", "outside_preferred_window"]),
        (at(7, 45), ["outside_contact_hours", "outside_preferred_window"]),
    ],
)
def test_time_warnings_of_fixed_appointments(when, warnings):
    route = plan_route([stop("ximending", when)], PLACES["ximending"], CFG, DAY)
    assert route[0]["warnings"] == warnings


def test_attempt_limit_warning_counts_attempts_before_in_the_window():
    five = [at(10, 0) - timedelta(days=d) for d in range(1, 6)]
    four = five[:4]
    old = [at(10, 0) - timedelta(days=7)] + four
    for before, warned in ((five, True), (four, False), (old, False)):
        route = plan_route([stop("ximending", at(10, 0), attempts_before=before)], None, CFG, DAY)
        assert ("attempt_limit" in route[0]["warnings"]) is warned


def test_same_slot_repeat_warning_uses_last_attempt():
    morning = at(9, 0) - timedelta(days=1)
    afternoon = at(14, 0) - timedelta(days=1)
    route = plan_route([stop("ximending", at(10, 0), last_attempt_at=morning)], None, CFG, DAY)
    assert route[0]["warnings"] == ["same_slot_repeat"]
    route = plan_route([stop("ximending", at(10, 0), last_attempt_at=afternoon)], None, CFG, DAY)
    assert route[0]["warnings"] == []


def test_stops_without_position():
    nowhere = {"visit_id": "v-nowhere", "account_id": "a-nowhere", "scheduled_at": None,
               "lat": None, "lon": None, "timezone": TZ}
    fixed_nowhere = dict(nowhere, visit_id="v-fixed-nowhere", scheduled_at=at(14, 0))
    stops = [nowhere, fixed_nowhere, stop("ximending"), stop("shilin_market", at(15, 30))]
    route = plan_route(stops, PLACES["main_station"], CFG, DAY)
    assert names(route) == ["ximending", "fixed-nowhere", "shilin_market", "nowhere"]
    assert route[1]["warnings"] == ["no_position"]
    assert (route[1]["distance_km"], route[1]["travel_minutes"]) == (0.0, 0)
    # the leg after a stop without position is measured from the last known one
    assert route[2]["distance_km"] == round(
        geodesic(PLACES["ximending"], PLACES["shilin_market"]).km, 1)
    last = route[-1]
    assert (last["scheduled_at"], last["leave_by"], last["warnings"]) == (None, None,
                                                                           ["no_position"])


# -- properties ----------------------------------------------------------------------

_lat = st.floats(min_value=24.95, max_value=25.15)
_lon = st.floats(min_value=121.45, max_value=121.65)


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(st.tuples(_lat, _lon, st.sampled_from([None, 9, 10, 14, 15, 17]),
                              st.sampled_from([0, 30])), min_size=1, max_size=7),
    start=st.none() | st.tuples(_lat, _lon),
)
def test_every_stop_planned_once_with_consistent_times(points, start):
    stops = [{"visit_id": f"v{i}", "account_id": f"a{i}", "lat": lat, "lon": lon,
              "timezone": TZ, "scheduled_at": None if h is None else at(h, m)}
             for i, (lat, lon, h, m) in enumerate(points)]
    route = plan_route(stops, start, CFG, DAY)
    assert sorted(s["visit_id"] for s in route) == sorted(s["visit_id"] for s in stops)
    fixed_times = [s["scheduled_at"] for s in route if s["fixed"]]
    assert fixed_times == sorted(fixed_times)
    for s in route:
        assert s["leave_by"] == s["scheduled_at"] - timedelta(
            minutes=s["travel_minutes"] + CFG.early_margin_minutes)
        assert s["distance_km"] >= 0 and s["travel_minutes"] >= 0
    if start is None:
        assert (route[0]["distance_km"], route[0]["travel_minutes"]) == (0.0, 0)
