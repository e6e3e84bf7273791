"""Sent webhooks are kept ``FIELDVISIT_WEBHOOK_KEEP_DAYS`` days: then a
delivery that went through goes, and its event once no delivery of it is
left. Pending and failed ones stay however old, and the Deliveries page
says how long the sent ones are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.extensions import db
from server.models import utcnow
from server.webhooks.models import DELIVERED, FAILED, WebhookDelivery, WebhookEvent
from server.webhooks.retention import prune_delivered
from server.webhooks.schedule import jobs_from_config, run_due

from .conftest import deliver, planned_visit

pytestmark = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])


def _age(app, record_id: str, days: float, **values) -> None:
    """Move a record's event and delivery ``days`` into the past."""
    then = utcnow() - timedelta(days=days)
    with app.app_context():
        db.session.execute(update(WebhookEvent).where(WebhookEvent.record_id == record_id)
                           .values(occurred_at=then))
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.record_id == record_id)
                           .values(created_at=then, **{k: then if v is True else v
                                                       for k, v in values.items()}))
        db.session.commit()


def _left(app) -> dict[str, set[str]]:
    with app.app_context():
        found = {"events": set(db.session.scalars(select(WebhookEvent.record_id))),
                 "deliveries": set(db.session.scalars(select(WebhookDelivery.record_id)))}
        db.session.rollback()
    return found


def test_only_sent_deliveries_older_than_the_days_kept_go(app, world, receiver):
    old_sent, new_sent, old_failed, resent_lately = (planned_visit(world) for _ in range(4))
    deliver(app)
    assert len(receiver.accepted()) == 4
    _age(app, old_sent, 31, delivered_at=True)
    _age(app, old_failed, 40, state=FAILED, delivered_at=None, failed_at=True)
    # Its event is old, but it went through only yesterday (sent again).
    _age(app, resent_lately, 45)
    with app.app_context():
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.record_id == resent_lately)
                           .values(delivered_at=utcnow() - timedelta(days=1)))
        db.session.commit()
        assert prune_delivered(db.session, 30, utcnow()) == {"deliveries": 1, "events": 1}
        assert prune_delivered(db.session, 30, utcnow()) == {"deliveries": 0, "events": 0}
        assert prune_delivered(db.session, 0, utcnow() + timedelta(days=999)) == \
            {"deliveries": 0, "events": 0}, "0 keeps them for good"
    left = _left(app)
    assert left["deliveries"] == left["events"] == {new_sent, old_failed, resent_lately}
    with app.app_context():
        states = dict(db.session.execute(select(WebhookDelivery.record_id, WebhookDelivery.state)).all())
        db.session.rollback()
    assert states[old_failed] == FAILED and states[new_sent] == DELIVERED


def test_the_worker_prunes_on_its_schedule_unless_kept_for_good(app, world, receiver):
    sent = planned_visit(world)
    deliver(app)
    _age(app, sent, 31, delivered_at=True)
    assert "webhooks.prune" not in {j.name for j in jobs_from_config(
        {**app.config, "WEBHOOK_KEEP_DAYS": 0})}
    jobs = [j for j in jobs_from_config(app.config) if j.name == "webhooks.prune"]
    assert [j.every for j in jobs] == [timedelta(minutes=60)]
    with app.app_context():
        assert run_due(db.session, jobs, "test-worker") == ["webhooks.prune"]
    assert _left(app) == {"events": set(), "deliveries": set()}


def test_the_deliveries_page_says_how_long_sent_ones_are_kept(app, world, sup):
    page = sup.get("/supervisor/deliveries")
    assert page.html.select_one("#kept-for").get_text(" ", strip=True).startswith(
        "Deliveries that went through are kept for 30 days, then deleted")
    app.config["WEBHOOK_KEEP_DAYS"] = 1
    assert "kept for 1 day," in sup.get("/supervisor/deliveries").html.select_one("#kept-for").text
    chinese = sup.get("/supervisor/deliveries", headers={"Accept-Language": "zh-TW"})
    assert "傳送成功的紀錄保留 1 天後刪除" in chinese.html.select_one("#kept-for").text
    app.config["WEBHOOK_KEEP_DAYS"] = 0
    assert sup.get("/supervisor/deliveries").html.select_one("#kept-for") is None
