"""GET /api/v1/plan through HTTP on both databases (docs/protocol.md "Day plan")."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from geopy.distance import geodesic

from .support import (
    PLACES,
    create_account,
    done_visit,
    get_plan,
    instant,
    plan_visit,
    set_start,
)

DAY = "2026-11-30"
MARGIN = timedelta(minutes=15)


def expected_leg(a, b):
    """(km as shown, minutes) by the documented rule: geodesic × 1.3 ÷ 25 km/h."""
    km = geodesic(PLACES[a], PLACES[b]).km
    return round(km, 1), math.ceil(km * 1.3 / 25 * 60)


@pytest.fixture
def sup(world):
    return world.phone("sup")


@pytest.fixture
def alice(world):
    return world.phone("alice")


def test_taipei_day_in_appointment_order_with_leave_by_and_legs(app, world, sup, alice):
    set_start(app, world.users["alice"], "main_station")
    aid = {p: create_account(sup, f"T-{p}", p, world.users["alice"])
           for p in ("ximending", "taipei101", "songshan")}
    # Pushed out of order: the plan orders fixed appointments by time.
    v_song = plan_visit(alice, aid["songshan"], "2026-11-30T15:30:00+08:00")
    v_xim = plan_visit(alice, aid["ximending"], "2026-11-30T10:00:00+08:00")
    v_101 = plan_visit(alice, aid["taipei101"], "2026-11-30T14:00:00+08:00")

    body = get_plan(alice, DAY).json
    assert body["date"] == DAY and body["collector"] == "alice"
    stops = body["stops"]
    assert [s["visit_id"] for s in stops] == [v_xim, v_101, v_song]
    assert [s["account_id"] for s in stops] == [aid["ximending"], aid["taipei101"], aid["songshan"]]

    legs = [("main_station", "ximending"), ("ximending", "taipei101"), ("taipei101", "songshan")]
    for stop, (a, b) in zip(stops, legs, strict=True):
        km, minutes = expected_leg(a, b)
        assert stop["distance_km"] == km and stop["travel_minutes"] == minutes
        # Shown on the shop's wall clock; leave early enough to arrive first.
        assert stop["scheduled_at"].endswith("+08:00") and stop["leave_by"].endswith("+08:00")
        scheduled, leave_by = instant(stop["scheduled_at"]), instant(stop["leave_by"])
        assert scheduled - leave_by == timedelta(minutes=minutes) + MARGIN
        # All three in preferred windows, in contact hours, with time to spare.
        assert stop["warnings"] == []
    # A person would accept it: 1 km from the station to Ximending, a cross-town
    # ride to Taipei 101 and a short hop north to Songshan.
    assert [s["distance_km"] for s in stops] == [1.1, 5.8, 4.1]
    assert stops[0]["leave_by"] == "2026-11-30T09:41:00+08:00"


def test_answer_has_exactly_the_documented_keys(world, alice):
    plan_visit(alice, world.accounts["A-1"], "2026-11-30T10:00:00+08:00")
    doc = alice.web.get("/api/v1/openapi.json").json
    schema = doc["components"]["schemas"]["Plan"]
    body = get_plan(alice, DAY).json
    assert set(body) == set(schema["properties"]) == set(schema["required"])
    stop_schema = schema["properties"]["stops"]["items"]
    (stop,) = body["stops"]
    assert set(stop) == set(stop_schema["properties"]) == set(stop_schema["required"])
    assert isinstance(stop["distance_km"], int | float) and isinstance(stop["travel_minutes"], int)
    # No start point known: the first stop is 0 km, 0 minutes away.
    assert (stop["distance_km"], stop["travel_minutes"]) == (0, 0)
    assert stop["leave_by"] == "2026-11-30T09:45:00+08:00"


def test_warnings_for_hours_windows_and_attempts(world, sup, alice):
    early = plan_visit(alice, world.accounts["A-1"], "2026-11-30T07:30:00+08:00")
    late = plan_visit(alice, world.accounts["A-2"], "2026-11-30T17:30:00+08:00")
    # Five attempts on A-3 in the week before, all in the morning.
    for day in range(24, 29):
        done_visit(alice, world.accounts["A-3"], f"2026-11-{day}T10:00:00+08:00")
    busy = plan_visit(alice, world.accounts["A-3"], "2026-11-30T10:30:00+08:00")

    stops = {s["visit_id"]: s for s in get_plan(alice, DAY).json["stops"]}
    assert stops[early]["warnings"] == ["outside_contact_hours", "outside_preferred_window"]
    assert stops[late]["warnings"] == ["outside_preferred_window"]
    assert stops[busy]["warnings"] == ["attempt_limit", "same_slot_repeat"]


def test_only_the_collectors_live_visits_of_that_local_day(world, sup, alice):
    bob = world.phone("bob")
    kept = plan_visit(alice, world.accounts["A-1"], "2026-11-30T10:00:00+08:00")
    cancelled = plan_visit(alice, world.accounts["A-1"], "2026-11-30T11:00:00+08:00")
    assert alice.write("visit", cancelled, {"status": "cancelled"}, base_version=1)["status"] == "applied"
    # 00:30 in Taipei is still the 29th in UTC, yet it is the 30th for the shop.
    small_hours = plan_visit(alice, world.accounts["A-2"], "2026-11-30T00:30:00+08:00")
    # 07:30 on 1 December in Taipei is 23:30 on the 30th in UTC: not this day.
    tomorrow = plan_visit(alice, world.accounts["A-2"], "2026-12-01T07:30:00+08:00")
    plan_visit(alice, world.accounts["A-3"], None)  # no time: in no dated plan
    done = done_visit(alice, world.accounts["A-3"], "2026-11-30T14:05:00+08:00",
                      scheduled_at="2026-11-30T14:00:00+08:00")
    plan_visit(bob, world.accounts["A-4"], "2026-11-30T10:00:00+08:00")
    # Choice: a visit naming alice on an account she is not assigned is not in
    # her plan (her phone does not hold that account).
    plan_visit(sup, world.accounts["A-4"], "2026-11-30T12:00:00+08:00",
               collector_id=world.users["alice"])

    ids = [s["visit_id"] for s in get_plan(alice, DAY).json["stops"]]
    assert ids == [small_hours, kept, done]
    assert [s["visit_id"] for s in get_plan(alice, "2026-12-01").json["stops"]] == [tomorrow]
    assert get_plan(alice, "2026-11-29").json["stops"] == []


def test_who_may_read_which_plan(world, sup, alice):
    visit = plan_visit(alice, world.accounts["A-1"], "2026-11-30T10:00:00+08:00")
    bob = world.phone("bob")

    assert get_plan(alice, DAY, collector="alice").json["stops"][0]["visit_id"] == visit
    for name in ("alice", "nobody-by-this-name"):
        error = get_plan(bob, DAY, status=403, collector=name).json["error"]
        assert error["code"] == 403 and "own plan" in error["message"]

    as_sup = get_plan(sup, DAY, collector="alice").json
    assert as_sup["collector"] == "alice" and [s["visit_id"] for s in as_sup["stops"]] == [visit]
    assert get_plan(sup, DAY, collector="bob").json == {"date": DAY, "collector": "bob", "stops": []}
    error = get_plan(sup, DAY, status=400).json["error"]
    assert "collector=USERNAME" in error["message"] and "collector" in error["fields"]
    for name in ("nobody-by-this-name", "sup"):  # a supervisor has no plan
        assert get_plan(sup, DAY, status=404, collector=name).json["error"]["code"] == 404


BAD_QUERIES = [
    {}, {"date": ""}, {"date": "30/11/2026"}, {"date": "2026-02-30"},
    {"date": "2026-11-30T10:00:00"}, {"date": DAY, "colour": "red"},
]


def test_bad_query_is_400_json(world, alice):
    for params in BAD_QUERIES:
        response = alice.web.get("/api/v1/plan", params, headers=alice.headers, status=400)
        error = response.json["error"]
        assert error["code"] == 400 and "plan parameters" in error["message"], params
        assert error["fields"], params
    # The shape is checked before the permission: 400, not 403.
    bob = alice.web.get("/api/v1/plan", {"date": "x", "collector": "bob"},
                        headers=alice.headers, status=400)
    assert bob.json["error"]["fields"] == {"date": ["Not a valid date."]}


def test_no_token_is_401_before_anything_else(web):
    assert web.get("/api/v1/plan", {"date": "bad"}, status=401).json["error"]["code"] == 401


def test_day_of_the_new_york_fall_back_change(world, sup, alice):
    """2026-11-01 has 25 hours in New York: 01:00–02:00 happens twice."""
    hall = create_account(sup, "NY-1", "nyc_city_hall", world.users["alice"], tz="America/New_York")
    square = create_account(sup, "NY-2", "nyc_union_square", world.users["alice"],
                            tz="America/New_York")
    first_half = plan_visit(alice, hall, "2026-11-01T00:30:00-04:00")       # 04:30Z
    first_130 = plan_visit(alice, hall, "2026-11-01T01:30:00-04:00")        # 05:30Z
    second_120 = plan_visit(alice, square, "2026-11-01T01:20:00-05:00")     # 06:20Z
    evening = plan_visit(alice, hall, "2026-11-01T23:30:00-05:00")          # 04:30Z on the 2nd
    plan_visit(alice, hall, "2026-10-31T23:30:00-04:00")   # 03:30Z on the 1st: local 31 Oct
    plan_visit(alice, hall, "2026-11-02T00:30:00-05:00")   # the next local day

    stops = get_plan(alice, "2026-11-01").json["stops"]
    assert [s["visit_id"] for s in stops] == [first_half, first_130, second_120, evening]
    # Wall-clock 01:20 after 01:30, told apart by the offset.
    assert [s["scheduled_at"][-6:] for s in stops] == ["-04:00", "-04:00", "-05:00", "-05:00"]
    km, minutes = expected_leg("nyc_city_hall", "nyc_union_square")
    crossing = stops[2]
    assert (crossing["distance_km"], crossing["travel_minutes"]) == (km, minutes)
    # leave_by is an instant minus a duration: 24 minutes before 01:20 EST is
    # 01:56 EDT, before the change; wall-clock arithmetic would say 00:56.
    assert instant(crossing["scheduled_at"]) - instant(crossing["leave_by"]) == (
        timedelta(minutes=minutes) + MARGIN)
    assert crossing["leave_by"] == "2026-11-01T01:56:00-04:00"
    assert all("outside_contact_hours" in s["warnings"] for s in stops)


def test_unknown_account_position_still_planned(world, sup, alice):
    nowhere = create_account(sup, "X-1", None, world.users["alice"])
    visit = plan_visit(alice, nowhere, "2026-11-30T10:00:00+08:00")
    (stop,) = get_plan(alice, DAY).json["stops"]
    assert stop["visit_id"] == visit and stop["warnings"] == ["no_position"]
    assert (stop["distance_km"], stop["travel_minutes"]) == (0, 0)


def test_empty_day_is_an_empty_list(world, alice):
    assert get_plan(alice, DAY).json == {"date": DAY, "collector": "alice", "stops": []}
