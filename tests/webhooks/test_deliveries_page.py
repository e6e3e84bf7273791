"""The deliveries page: states in words and local times, in English and
Traditional Chinese, filtered by state, and "Send again" for a failed
delivery (CSRF-protected) that queues the same event under the same id."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.extensions import db
from server.webhooks.models import DELIVERED, FAILED, WebhookDelivery

from .conftest import deliver, planned_visit

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.fixture
def webhook_overrides():
    # Gives up after about a second of failures.
    return {"WEBHOOK_RETRY_HOURS": 0.0003}


def _delivery(app, visit_id) -> WebhookDelivery:
    with app.app_context():
        found = db.session.scalar(select(WebhookDelivery)
                                  .where(WebhookDelivery.record_id == visit_id))
        db.session.expunge_all()
        db.session.rollback()
    return found


def _local(moment) -> str:
    return moment.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S")


def test_states_in_words_and_sending_a_failed_one_again(app, world, sup, receiver):
    refused, taken, waiting = planned_visit(world), planned_visit(world), None
    refused_event = _delivery(app, refused).event_id
    receiver.answer = lambda event_id, n: 500 if event_id == refused_event else 200
    deliver(app, until=lambda: _delivery(app, refused).state == FAILED)
    waiting = planned_visit(world)  # not sent yet
    failed, done = _delivery(app, refused), _delivery(app, taken)
    assert done.state == DELIVERED and failed.attempts >= 2

    page = sup.get("/supervisor/deliveries")
    assert "Deliveries" in page.html.select_one("nav.main-nav").get_text()
    row = page.html.select_one(f"#delivery-{failed.id}").get_text(" ", strip=True)
    assert f"Failed: gave up {_local(failed.failed_at)}" in row
    assert "HTTP 500" in row and f" {failed.attempts} " in f" {row} " and "Visit" in row
    assert f"Delivered {_local(done.delivered_at)}" in \
        page.html.select_one(f"#delivery-{done.id}").get_text(" ", strip=True)
    assert "Waiting to be sent" in \
        page.html.select_one(f"#delivery-{_delivery(app, waiting).id}").get_text(" ", strip=True)
    tabs = " ".join(page.html.select_one("#delivery-states").get_text().split())
    assert "All 3" in tabs and "Waiting 1" in tabs and "Failed deliveries 1" in tabs \
        and "Delivered 1" in tabs

    only_failed = sup.get("/supervisor/deliveries", {"state": "failed"})
    assert [r["id"] for r in only_failed.html.select("#deliveries tbody tr")] == \
        [f"delivery-{failed.id}"]

    chinese = sup.get("/supervisor/deliveries", headers={"Accept-Language": "zh-TW"})
    text = chinese.html.select_one(f"#delivery-{failed.id}").get_text(" ", strip=True)
    assert f"失敗：已於 {_local(failed.failed_at)} 停止重試" in text and "重新傳送" in text
    assert f"已於 {_local(done.delivered_at)} 送達" in \
        chinese.html.select_one(f"#delivery-{done.id}").get_text(" ", strip=True)

    # Without its token the form does nothing.
    sup.post(f"/supervisor/deliveries/{failed.id}/retry", status=400)
    assert _delivery(app, refused).state == FAILED

    form = [f for f in only_failed.forms.values()
            if f.action.startswith(f"/supervisor/deliveries/{failed.id}/retry")][0]
    after = form.submit(status=302).follow()
    assert "queued again under the same id" in after.text
    assert _delivery(app, refused).state == "pending"
    receiver.answer = lambda event_id, n: 200
    deliver(app, until=lambda: _delivery(app, refused).state == DELIVERED)
    taken_ids = [r.event_id for r in receiver.accepted()]
    assert taken_ids.count(refused_event) == 1
    # A delivery that is not failed is not queued again.
    again = sup.get("/supervisor/deliveries")
    assert not [f for f in again.forms.values() if "/retry" in (f.action or "")]


def test_without_endpoints_the_page_says_so(app, world, sup):
    app.config["WEBHOOK_URLS"] = ()
    page = sup.get("/supervisor/deliveries")
    assert "No other system is connected now" in page.html.select_one("#no-endpoints").get_text()
    assert "No deliveries." in page.text


def test_strangers_are_sent_to_sign_in(app, world, web):
    assert web.get("/supervisor/deliveries", status=302).location.startswith("/supervisor/login")
