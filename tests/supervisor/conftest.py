"""Fixtures for the supervisor pages: a signed-in supervisor's browser
(WebTest keeps the session cookie) and a few ways to make field data
through the real sync API, as phones would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug.security import generate_password_hash

from tests import helpers
from tests.helpers import PASSWORD


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """The seeded users get a cheap hash: scrypt's deliberate slowness is
    for attackers, and paid three times per test it would dominate the
    suite. Signing in still checks the password the real way."""
    monkeypatch.setattr(helpers, "hash_password",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"))


def sign_in(web, username: str, password: str = PASSWORD, status: int = 302):
    page = web.get("/supervisor/login")
    form = page.forms["login"]
    form["username"] = username
    form["password"] = password
    return form.submit(status=status)


@pytest.fixture
def sup(world, web):
    """``web`` signed in as the supervisor ``sup``."""
    sign_in(web, "sup")
    return web


def new_id() -> str:
    return str(uuid.uuid4())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def done_visit_fields(account_id: str, arrived: datetime, **extra) -> dict:
    fields = {
        "account_id": account_id, "scheduled_at": iso(arrived + timedelta(minutes=5)),
        "status": "done", "arrived_at": iso(arrived), "met": "original_contact",
        "result": "refused", "conduct_confirmed": True,
        "checkin_lat": 25.040, "checkin_lon": 121.510, "checkin_accuracy_m": 12.0,
    }
    fields.update(extra)
    return fields


def record_visit(phone, account_id: str, arrived: datetime, **extra) -> str:
    visit_id = new_id()
    result = phone.write("visit", visit_id, done_visit_fields(account_id, arrived, **extra))
    assert result["status"] == "applied", result
    return visit_id


TAIPEI = ZoneInfo("Asia/Taipei")


def taipei(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A moment ``days_ago`` days before today, on Taipei's wall clock (the
    test accounts' zone, and so the pages' zone)."""
    day = datetime.now(TAIPEI).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), tzinfo=TAIPEI)


def csrf_token(page) -> str:
    return page.html.find("input", {"name": "csrf_token"})["value"]
