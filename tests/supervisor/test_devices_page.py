"""The devices page and the dashboard's "devices needing attention", in
words (English and Traditional Chinese), and each rule that makes a
device stand out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Client, User
from server.services.devices import Device

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CURRENT = "0123456789ab"
LIMIT_S = 300


def device(**values) -> Device:
    client = Client(client_id=str(uuid.uuid4()), user_id="u", last_seq=0,
                    last_seen_at=values.pop("last_seen_at", NOW - timedelta(minutes=5)), **values)
    return Device(client, User(id="u", username="alice", name="Alice", role="collector"))


def test_a_healthy_device_does_not_stand_out():
    assert device(app_version=CURRENT, outbox_count=0, clock_offset_s=12.0,
                  storage="persisted").reasons(NOW, CURRENT, LIMIT_S) == []


@pytest.mark.parametrize(("values", "reasons"), [
    ({"outbox_count": 3, "outbox_oldest_at": NOW - timedelta(hours=4, minutes=1)}, ["waiting"]),
    ({"outbox_count": 3, "outbox_oldest_at": NOW - timedelta(hours=3, minutes=59)}, []),
    ({"outbox_count": 0, "outbox_oldest_at": None}, []),
    ({"last_seen_at": NOW - timedelta(hours=24, minutes=1)}, ["not_seen"]),
    ({"last_seen_at": NOW - timedelta(hours=23)}, []),
    ({"last_seen_at": None}, ["not_seen"]),
    ({"app_version": "fedcba987654"}, ["old_version"]),
    ({"app_version": CURRENT}, []),
    ({"app_version": None}, []),  # never said: not judged
    ({"clock_offset_s": 301.0}, ["clock_off"]),
    ({"clock_offset_s": -301.0}, ["clock_off"]),
    ({"clock_offset_s": 299.0}, []),
])
def test_each_rule_that_makes_a_device_stand_out(values, reasons):
    assert device(**values).reasons(NOW, CURRENT, LIMIT_S) == reasons


def test_reasons_add_up():
    found = device(outbox_count=1, outbox_oldest_at=NOW - timedelta(days=2),
                   last_seen_at=NOW - timedelta(days=2), app_version="old",
                   clock_offset_s=-3600.0).reasons(NOW, CURRENT, LIMIT_S)
    assert found == ["waiting", "not_seen", "old_version", "clock_off"]


# -- the pages -------------------------------------------------------------------


def _report(app, client_id, user_id, **values):
    with app.app_context():
        client = db.session.get(Client, client_id)
        if client is None:
            client = Client(client_id=client_id, user_id=user_id, last_seq=0)
            db.session.add(client)
        for name, value in values.items():
            setattr(client, name, value)
        db.session.commit()


def _current_version(app):
    with app.app_context():
        return app.extensions["fieldvisit_shell"].get().version


@pytest.fixture
def fleet(app, world):
    """Alice's phone is fine; Bob's has every problem."""
    now = datetime.now(UTC)
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    _report(app, good, world.users["alice"], last_seen_at=now - timedelta(minutes=3),
            last_push_at=now - timedelta(minutes=3), app_version=_current_version(app),
            outbox_count=0, storage="persisted", clock_offset_s=-20.0)
    _report(app, bad, world.users["bob"], last_seen_at=now - timedelta(hours=30),
            last_push_at=now - timedelta(hours=31), app_version="0ldversion00",
            outbox_count=4, outbox_oldest_at=now - timedelta(hours=30, minutes=20),
            storage="best-effort", clock_offset_s=4 * 60 * 60 + 100)
    return good, bad


def _row(page, client_id):
    return page.html.select_one(f'#devices tr[data-client="{client_id}"]')


def test_the_devices_page_in_english(sup, fleet):
    good, bad = fleet
    page = sup.get("/supervisor/devices")
    assert "1 device needs attention." in page.html.select_one("#devices-attention-count").text
    fine = _row(page, good)
    assert "attention" not in (fine.get("class") or [])
    text = " ".join(fine.text.split())
    assert "Alice" in text and "none" in text and "current" in text and "Yes" in text
    assert "right (within a minute)" in text
    flagged = _row(page, bad)
    assert "attention" in flagged["class"]
    text = " ".join(flagged.text.split())
    assert "30 h ago" in text and "old" in text and "No" in text
    assert "4 h fast" in text
    assert "Changes have waited on this phone for 30 h" in text
    assert "Not synced for 30 h: is the phone still in use?" in text
    assert "Runs an old version of the app" in text
    assert "Its clock is 4 h fast (more than 5 min off)" in text
    # Local times in the supervisor's zone (the accounts' Asia/Taipei), never UTC.
    assert "Times in Asia/Taipei" in page.text


def test_the_devices_page_in_traditional_chinese(sup, fleet):
    _good, bad = fleet
    sup.set_cookie("fv_lang", "zh-Hant")
    page = sup.get("/supervisor/devices")
    assert "有 1 台裝置需要處理。" in page.text
    text = " ".join(_row(page, bad).text.split())
    assert "快 4 小時" in text
    assert "這支手機上的變更已等待 30 小時" in text
    assert "已 30 小時未同步" in text
    assert "使用舊版 App" in text
    assert "手機時鐘快 4 小時（誤差超過 5 分鐘）" in text


def test_the_dashboard_names_the_devices_needing_attention(sup, fleet):
    _good, bad = fleet
    block = sup.get("/supervisor/").html.select_one("#devices-attention")
    text = " ".join(block.text.split())
    assert "Devices needing attention" in text and "Bob" in text and bad[:8] in text
    assert "Alice" not in text
    assert block.select_one('a[href="/supervisor/devices"]') is not None


def test_the_dashboard_has_no_block_when_every_device_is_fine(app, sup, world):
    _report(app, str(uuid.uuid4()), world.users["alice"], last_seen_at=datetime.now(UTC),
            app_version=_current_version(app), outbox_count=0)
    assert sup.get("/supervisor/").html.select_one("#devices-attention") is None


def test_the_visit_page_says_how_far_off_the_phone_clock_was(app, sup, world):
    from tests import helpers

    alice = world.phone("alice")
    visit = str(uuid.uuid4())
    body = {"client_id": alice.client_id,
            "sent_at": (datetime.now(UTC) - timedelta(minutes=12)).isoformat(),
            "mutations": [alice.mutation("visit", visit, {
                "account_id": world.accounts["A-1"], "status": "done",
                "arrived_at": "2026-11-30T09:50:00+08:00", "met": "original_contact",
                "result": "refused", "conduct_confirmed": True})]}
    world.web.post_json("/api/v1/sync/push", body, headers=alice.headers)
    page = sup.get(f"/supervisor/visits/{visit}")
    assert "The phone's clock was wrong" in page.html.text  # the flag's label
    note = " ".join(page.html.select_one("#device-clock-note").text.split())
    assert note.startswith("The phone's clock was 12 min slow when it sent this visit's times")
    # Its history names the kept offset in words, not as a column name.
    assert "Phone clock when the times were sent" in page.html.text
    assert "device_clock_offset_min" not in page.html.text
    log = sup.get("/supervisor/visits", {"flag": "device_clock_off"})
    assert visit in log.text
    assert helpers  # the shared client is what made the push above


def test_collectors_cannot_see_the_devices_page(app, world, web):
    from sqlalchemy import update

    from .conftest import sign_in

    sign_in(web, "sup")
    with app.app_context():  # the role changed after sign-in
        db.session.execute(update(User).where(User.username == "sup").values(role="collector"))
        db.session.commit()
    web.get("/supervisor/devices", status=403)
