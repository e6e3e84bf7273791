"""Bulk reassignment and the dashboard's map of the day in a real browser
(headless Chromium) at desktop (1280) and phone (390) widths, against a
live server with the demo data and a local tile stub (never a public tile
server). Screenshots go to ``test-artifacts/screenshots/supervisor/``."""

from __future__ import annotations

import contextlib
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from webtest import TestApp
from werkzeug.serving import make_server

from server.app import create_app
from server.extensions import db
from server.models import Account, User
from server.services.changes import ensure_feed_state
from server.services.demo import DEMO_PASSWORD, create_demo
from tests.browser.tile_stub import TileStub
from tests.helpers import Phone

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "supervisor"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def live_server(tmp_path, tiles_url: str):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SECRET_KEY": "browser-test", "WTF_CSRF_ENABLED": True,
        "MAP_TILES_URL": tiles_url, "MAP_ATTRIBUTION": "© Test tiles",
    })
    with app.app_context():
        db.create_all()
        ensure_feed_state()
        create_demo(db.session, app.config)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def _context(browser, name, lang="en"):
    return browser.new_context(viewport=VIEWPORTS[name], locale="zh-TW" if lang != "en" else "en-US",
                               is_mobile=name == "phone", has_touch=name == "phone")


def _sign_in(page, base):
    page.goto(f"{base}/supervisor/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form#login button[type=submit]")
    page.wait_for_url(f"{base}/supervisor/")


def _fits(page, name):
    if name == "phone":
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone's screen"


def _watch(page, problems, ignore=()):
    def console(message):
        if message.type == "error" and not any(i in message.text for i in ignore):
            problems.append(message.text)
    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))


def _user_id(app, username):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_bulk_reassignment_flow(tmp_path, chromium_browser, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with TileStub() as stub, live_server(tmp_path, stub.url) as (app, base):
        alice, bob = _user_id(app, "alice"), _user_id(app, "bob")
        with app.app_context():
            alices = db.session.scalar(select(db.func.count()).select_from(Account)
                                       .where(Account.assigned_collector_id == alice))
        assert alices > 2
        context = _context(chromium_browser, name)
        page = context.new_page()
        problems = []
        _watch(page, problems)
        try:
            _sign_in(page, base)
            # On the way: an account's page offers to plan a visit, in the supervisor's zone.
            page.goto(f"{base}/supervisor/accounts?collector={alice}")
            page.locator("#accounts tbody a").first.click()
            plan = page.locator("#plan")
            assert "Day and time in Asia/Taipei." in plan.inner_text()
            plan.screenshot(path=str(SHOTS / f"account-plan-{name}.png"))
            # The day planner lists Alice's plans; a planned one opens with its move and cancel forms.
            page.goto(f"{base}/supervisor/plan?collector={alice}")
            assert page.locator("#day-plan tr[data-visit]").count() >= 1
            page.screenshot(path=str(SHOTS / f"planner-{name}.png"), full_page=True)
            _fits(page, name)
            page.locator("#day-plan a", has_text="move or cancel").first.click()
            assert "Move the visit" in page.locator("#plan").inner_text()
            page.locator("#plan").screenshot(path=str(SHOTS / f"visit-plan-{name}.png"))
            _fits(page, name)
            page.goto(f"{base}/supervisor/accounts?collector={alice}")
            page.click("text=Select all on this page")
            boxes = page.locator("#accounts input[name=account]")
            assert boxes.count() == alices
            assert all(boxes.nth(i).is_checked() for i in range(alices))
            boxes.nth(0).uncheck()  # all but one
            page.select_option("#bulk select[name=collector]", value=bob)
            page.screenshot(path=str(SHOTS / f"bulk-select-{name}.png"), full_page=True)
            page.screenshot(path=str(SHOTS / f"bulk-select-top-{name}.png"))
            _fits(page, name)
            page.click("text=Review the reassignment")
            lead = page.locator("#reassign-summary .lead").inner_text()
            assert lead.startswith(f"{alices - 1} accounts go to ")
            assert "Planned visits that go with them:" in lead
            summary = page.locator("#from-whom").inner_text()
            assert str(alices - 1) in summary
            page.screenshot(path=str(SHOTS / f"bulk-confirm-{name}.png"), full_page=True)
            _fits(page, name)
            page.click("#reassign-summary button[type=submit]")
            done = page.locator("#reassign-done .lead").inner_text()
            assert done.startswith(f"{alices - 1} accounts moved to ")
            assert page.locator("#moved li").count() == alices - 1
            page.screenshot(path=str(SHOTS / f"bulk-done-{name}.png"), full_page=True)
            _fits(page, name)
            assert problems == []
        finally:
            context.close()
        with app.app_context():
            left = db.session.scalar(select(db.func.count()).select_from(Account)
                                     .where(Account.assigned_collector_id == alice))
        assert left == 1

        # The phones follow: Alice's drops what left, Bob's has it.
        web = TestApp(app)
        phones = {}
        for username in ("alice", "bob"):
            body = web.post_json("/api/v1/auth/login",
                                 {"username": username, "password": DEMO_PASSWORD}).json
            phones[username] = Phone(web, body["token"], body["user"])
        alice_accounts = {c["id"] for c in phones["alice"].pull_all()
                          if c["entity"] == "account" and not c["deleted"]}
        assert len(alice_accounts) == 1


def _checkins_today(app):
    """Two check-ins made an hour ago by Alice: one at the account's door,
    one a kilometre and more away (flagged far from the site)."""
    web = TestApp(app)
    body = web.post_json("/api/v1/auth/login", {"username": "alice",
                                                "password": DEMO_PASSWORD}).json
    phone = Phone(web, body["token"], body["user"])
    alice = body["user"]["id"]
    with app.app_context():
        accounts = db.session.scalars(select(Account).where(
            Account.assigned_collector_id == alice, Account.lat.is_not(None))
            .order_by(Account.ref).limit(2)).all()
        spots = [(a.id, a.lat, a.lon) for a in accounts]
    arrived = datetime.now(UTC) - timedelta(minutes=30)
    for (account_id, lat, lon), offset in zip(spots, (0.0, 0.012), strict=True):
        result = phone.write("visit", str(uuid.uuid4()), {
            "account_id": account_id, "status": "done", "arrived_at": arrived.isoformat(),
            "scheduled_at": arrived.isoformat(), "met": "original_contact", "result": "refused",
            "conduct_confirmed": True, "checkin_lat": lat + offset, "checkin_lon": lon + offset,
            "checkin_accuracy_m": 10.0})
        assert result["status"] == "applied", result


@pytest.mark.parametrize(("name", "lang"), [("desktop", "en"), ("phone", "zh-Hant")])
def test_dashboard_map_with_the_local_tile_stub(tmp_path, chromium_browser, name, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with TileStub() as stub, live_server(tmp_path, stub.url) as (app, base):
        _checkins_today(app)
        context = _context(chromium_browser, name, lang)
        page = context.new_page()
        problems = []
        _watch(page, problems)
        try:
            _sign_in(page, base)
            page.wait_for_selector("#day-map-panel[data-map-state=ready]", timeout=15000)
            notice = page.locator("#day-map-notice").inner_text()
            far = page.locator("#day-checkins tr.far").count()
            rows = page.locator("#day-checkins tbody tr").count()
            assert rows >= 2 and far >= 1
            if lang == "en":
                assert f"{rows} check-ins today. Red: farther than" in notice
                assert "Checked in far from the address" in page.locator("#day-checkins").inner_text()
            else:
                assert f"今日共 {rows} 筆報到" in notice
                assert "報到位置離登記地址太遠" in page.locator("#day-checkins").inner_text()
            assert page.locator("#day-map path.checkin-far").count() == far
            assert page.locator("#day-map path.checkin-near").count() == rows - far
            assert stub.requests, "no tile was asked for"
            assert "© Test tiles" in page.locator("#day-map .leaflet-control-attribution").inner_text()
            page.locator("#day-map-panel").scroll_into_view_if_needed()
            page.locator("#day-map path.checkin-far").first.click()
            popup = page.locator(".leaflet-popup-content").inner_text()
            assert ("Far from the site" if lang == "en" else "離登記地址太遠") in popup
            suffix = "" if lang == "en" else "-zh"
            page.screenshot(path=str(SHOTS / f"dashboard-map-{name}{suffix}.png"), full_page=True)
            page.locator("#day-map-panel").screenshot(
                path=str(SHOTS / f"dashboard-map-panel-{name}{suffix}.png"))
            _fits(page, name)
            assert problems == []
        finally:
            context.close()


def test_dashboard_map_falls_back_to_the_table_when_tiles_cannot_load(tmp_path, chromium_browser):
    # A tile server nobody listens on: every tile fails.
    with live_server(tmp_path, "http://127.0.0.1:9/{z}/{x}/{y}.png") as (app, base):
        _checkins_today(app)
        context = _context(chromium_browser, "phone")
        page = context.new_page()
        problems = []
        _watch(page, problems, ignore=("Failed to load resource",))
        try:
            _sign_in(page, base)
            page.wait_for_selector("#day-map-panel[data-map-state=fallback]", timeout=15000)
            assert "The map could not load" in page.locator("#day-map-notice").inner_text()
            assert page.locator("#day-map").is_hidden()
            assert page.locator("#day-checkins tbody tr").count() >= 2
            page.locator("#day-map-panel").screenshot(path=str(SHOTS / "dashboard-map-fallback-phone.png"))
            assert problems == []
        finally:
            context.close()
