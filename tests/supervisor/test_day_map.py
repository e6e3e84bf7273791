"""The dashboard's map of today's check-ins: the same check-ins as a plain
table and as data for the map script, far-from-site ones marked, times on
the supervisor's clock, Leaflet from this server and the tile server
allowed by the page's Content-Security-Policy."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from .conftest import TAIPEI, record_visit


def earlier_today(minutes: int) -> datetime:
    now = datetime.now(TAIPEI)
    midnight = datetime.combine(now.date(), time(0), tzinfo=TAIPEI)
    return max(midnight + timedelta(seconds=minutes), now - timedelta(minutes=minutes))


def test_todays_checkins_as_a_table_and_as_map_data(world, sup, app):
    alice, bob = world.phone("alice"), world.phone("bob")
    near_at, far_at = earlier_today(40), earlier_today(20)
    near = record_visit(alice, world.accounts["A-1"], near_at)  # checks in at the account's position
    far = record_visit(bob, world.accounts["A-4"], far_at, checkin_lat=25.070, checkin_lon=121.560)
    record_visit(alice, world.accounts["A-2"], earlier_today(30) - timedelta(days=1))  # yesterday

    page = sup.get("/supervisor/")
    assert "Today's check-ins on the map" in page.html.select_one("#day-map-panel h2").get_text()
    rows = page.html.select("#day-checkins tbody tr")
    assert [r["data-visit"] for r in rows] == [near, far]
    assert rows[0].get_text(" ", strip=True).startswith(near_at.strftime("%H:%M"))
    assert "Alice" in rows[0].get_text() and "0 m" in rows[0].get_text()
    assert "Checked in far from the address" in rows[1].get_text() and "far" in rows[1]["class"]
    assert "Checked in far from the address" not in rows[0].get_text()

    box = page.html.select_one("#day-map")
    points = json.loads(box["data-points"])
    assert [(p["who"], p["far"], p["time"]) for p in points] == [
        ("Alice", False, near_at.strftime("%H:%M")), ("Bob", True, far_at.strftime("%H:%M"))]
    assert points[1]["site"] == [25.043, 121.513] and points[1]["distance"] > 3000
    tiles = json.loads(box["data-tiles"])
    assert tiles["url"] == app.config["MAP_TILES_URL"]
    assert "2 check-ins today. Red: farther than 200 m" in box["data-text-ready"]

    # Scripts are files (no inline script), Leaflet is ours, the tiles' origin is allowed.
    scripts = [s["src"] for s in page.html.select("script")]
    assert all(scripts) and any(s.endswith("/leaflet.js") for s in scripts)
    assert not [s for s in page.html.select("script") if s.string and s.string.strip()]
    for src in scripts:
        assert sup.get(src).status_int == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "img-src 'self' data: https://tile.openstreetmap.org" in csp


def test_no_checkins_yet_and_in_traditional_chinese(world, sup):
    page = sup.get("/supervisor/")
    assert "No check-ins yet today." in page and page.html.select_one("#day-map") is None
    record_visit(world.phone("bob"), world.accounts["A-4"], earlier_today(10),
                 checkin_lat=25.070, checkin_lon=121.560)
    sup.set_cookie("fv_lang", "zh-Hant")
    page = sup.get("/supervisor/")
    box = page.html.select_one("#day-map")
    assert box["data-text-far"] == "離登記地址太遠"
    assert "報到位置離登記地址太遠" in page.html.select_one("#day-checkins").get_text()
