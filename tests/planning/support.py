"""Helpers for the planning tests: real places, accounts pushed by a
supervisor, visits pushed by a collector, times as the wire carries them."""

from __future__ import annotations

import uuid
from datetime import datetime

from server.extensions import db
from server.models import User

# Real coordinates (WGS-84) people in Taipei and New York would recognise.
PLACES = {
    "main_station": (25.0478, 121.5170),
    "ximending": (25.0422, 121.5079),
    "taipei101": (25.0340, 121.5645),
    "songshan": (25.0697, 121.5525),
    "nyc_city_hall": (40.7128, -74.0060),
    "nyc_union_square": (40.7359, -73.9911),
}


def new_id() -> str:
    return str(uuid.uuid4())


def create_account(sup, ref, place, collector_id, tz="Asia/Taipei", **extra) -> str:
    """A supervisor's phone pushes an ``account``; returns its id."""
    lat, lon = PLACES[place] if place else (None, None)
    account_id = new_id()
    fields = {"ref": ref, "customer_name": f"Shop {ref}", "timezone": tz,
              "currency": "TWD" if tz == "Asia/Taipei" else "USD", "lat": lat, "lon": lon,
              "amount_due": 500000, "due_since": "2026-09-01",
              "assigned_collector_id": collector_id, **extra}
    result = sup.write("account", account_id, fields)
    assert result["status"] == "applied", result
    return account_id


def plan_visit(phone, account_id, scheduled_at, **extra) -> str:
    """A collector's phone pushes a planned visit; returns its id."""
    visit_id = new_id()
    result = phone.write("visit", visit_id,
                         {"account_id": account_id, "scheduled_at": scheduled_at, **extra})
    assert result["status"] == "applied", result
    return visit_id


def done_visit(phone, account_id, arrived_at, **extra) -> str:
    """A made visit (an attempt), without an appointment time."""
    fields = {"account_id": account_id, "status": "done", "arrived_at": arrived_at,
              "met": "original_contact", "result": "refused", "conduct_confirmed": True, **extra}
    visit_id = new_id()
    result = phone.write("visit", visit_id, fields)
    assert result["status"] == "applied", result
    return visit_id


def set_start(app, user_id, place) -> None:
    """Where the collector's day starts (there is no API for it yet)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        user.start_lat, user.start_lon = PLACES[place]
        db.session.commit()


def get_plan(phone, day, status=200, **params):
    return phone.web.get("/api/v1/plan", {"date": day, **params}, headers=phone.headers,
                         status=status)


def instant(text: str) -> datetime:
    """An RFC 3339 string from the wire as an aware datetime (compare instants)."""
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, f"{text} has no offset"
    return moment
