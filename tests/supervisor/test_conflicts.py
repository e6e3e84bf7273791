"""Conflicts side by side, and a resolution that reaches the phones."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Conflict, HistoryEntry, Visit
from tests.helpers import now_ms

from .conftest import csrf_token, new_id


def make_conflict(world):
    """Two of alice's devices change a visit's notes without seeing each
    other: the later clock wins, the other value is kept as a conflict."""
    phone, tablet = world.phone("alice"), world.phone("alice")
    visit_id = new_id()
    assert phone.write("visit", visit_id, {"account_id": world.accounts["A-1"],
                                           "status": "planned"})["status"] == "applied"
    now = now_ms()
    assert phone.write("visit", visit_id, {"notes": "Left a card at the door"}, base_version=1,
                       ms=now - 5000)["status"] == "applied"
    result = tablet.write("visit", visit_id, {"notes": "Spoke to the accountant"},
                          base_version=1, ms=now)
    assert result["status"] == "conflict", result
    return phone, tablet, visit_id


def test_both_values_side_by_side_with_authors_and_times(world, sup):
    phone, tablet, visit_id = make_conflict(world)
    page = sup.get("/supervisor/conflicts")
    card = page.html.select_one("article.conflict")
    kept, lost = card.select(".side")
    assert "Spoke to the accountant" in kept.get_text() and tablet.client_id[:8] in kept.get_text()
    assert "Left a card at the door" in lost.get_text() and phone.client_id[:8] in lost.get_text()
    assert "Alice" in kept.get_text() and "Alice" in lost.get_text()
    assert "Notes" in card.h2.get_text() and "A-1" in card.h2.get_text()
    assert "The later clock won" in card.get_text()
    nav = page.html.select_one("nav.main-nav").get_text()
    assert "Conflicts 1" in " ".join(nav.split())


def test_restoring_the_lost_value_is_a_new_version_seen_by_the_phones(world, sup, app):
    phone, tablet, visit_id = make_conflict(world)
    phone.pull_all()  # the phone is up to date before the supervisor acts
    page = sup.get("/supervisor/conflicts")
    form = [f for f in page.forms.values() if "/resolve" in f.action][0]
    response = form.submit("restore", status=302).follow()
    assert "Conflict resolved." in response
    assert "No open conflicts." in response

    changes = [c for c in phone.pull_all() if c["entity"] == "visit" and c["id"] == visit_id]
    assert changes and changes[-1]["version"] == 4
    assert changes[-1]["data"]["notes"] == "Left a card at the door"
    with app.app_context():
        conflict = db.session.scalar(select(Conflict))
        assert conflict.resolution == "restored" and conflict.resolved_by == world.users["sup"]
        last = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visit_id)
                                 .order_by(HistoryEntry.id.desc()).limit(1))
        assert last.user_id == world.users["sup"] and last.client_id == "server"
        assert last.changes == {"notes": "Left a card at the door"} and last.reason

    resolved = sup.get("/supervisor/conflicts", {"show": "resolved"})
    assert "Restored the other value" in resolved and "Sup" in resolved


def test_keeping_the_winner_also_reaches_the_phones_and_cannot_be_repeated(world, sup, app):
    phone, tablet, visit_id = make_conflict(world)
    tablet.pull_all()
    page = sup.get("/supervisor/conflicts")
    form = [f for f in page.forms.values() if "/resolve" in f.action][0]
    action = form.action
    form.submit("keep", status=302)
    changes = [c for c in tablet.pull_all() if c["entity"] == "visit" and c["id"] == visit_id]
    assert changes[-1]["version"] == 4 and changes[-1]["data"]["notes"] == "Spoke to the accountant"
    # A second decision (another tab, a double click) changes nothing.
    again = sup.post(action, {"csrf_token": csrf_token(page), "restore": "1"}, status=302).follow()
    assert "already been resolved" in again
    with app.app_context():
        assert db.session.get(Visit, visit_id).version == 4
        assert db.session.scalar(select(Conflict)).resolution == "kept"


def test_a_resolution_needs_a_choice(world, sup, app):
    make_conflict(world)
    page = sup.get("/supervisor/conflicts")
    form = [f for f in page.forms.values() if "/resolve" in f.action][0]
    sup.post(form.action, {"csrf_token": csrf_token(page)}, status=302)
    with app.app_context():
        assert db.session.scalar(select(Conflict)).resolved_at is None
