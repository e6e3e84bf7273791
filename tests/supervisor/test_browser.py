"""The dashboard and the visit log in a real browser (headless Chromium),
at desktop and phone widths, against a live server with the demo data.

Screenshots go to ``test-artifacts/screenshots/`` (git-ignored) for a human
to look at; the test itself checks what a machine can: the pages load
without console errors (a Content-Security-Policy violation would be one),
and nothing is wider than a phone's screen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server.app import create_app
from server.extensions import db
from server.services.changes import ensure_feed_state
from server.services.demo import DEMO_PASSWORD, create_demo

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "supervisor"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(tmp_path):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SECRET_KEY": "browser-test", "WTF_CSRF_ENABLED": True,
    })
    with app.app_context():
        db.create_all()
        ensure_feed_state()
        create_demo(db.session, app.config)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def test_dashboard_and_visit_log_at_desktop_and_phone_widths(live_server, chromium_browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in VIEWPORTS.items():
        for lang in ("en", "zh-Hant"):
            _visit_pages(chromium_browser, live_server, name, viewport, lang)


def _visit_pages(browser, base, name, viewport, lang):
    context = browser.new_context(viewport=viewport, locale="zh-TW" if lang != "en" else "en-US",
                                  is_mobile=name == "phone", has_touch=name == "phone")
    problems = []
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{base}/supervisor/")
        assert "/supervisor/login" in page.url
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form#login button[type=submit]")
        page.wait_for_url(f"{base}/supervisor/")
        assert page.locator("svg.chart rect.bar").count() == 8
        suffix = "" if lang == "en" else "-zh"
        page.screenshot(path=str(SHOTS / f"dashboard-{name}{suffix}.png"), full_page=True)
        _fits(page, name)

        page.goto(f"{base}/supervisor/visits")
        assert page.locator("tr[data-visit]").count() > 10
        page.screenshot(path=str(SHOTS / f"visits-{name}{suffix}.png"), full_page=True)
        _fits(page, name)
        if lang == "en":
            page.goto(f"{base}/supervisor/visits?flag=far_from_site")
            first = page.locator("tr[data-visit] a").first
            first.click()
            page.wait_for_selector("svg.minimap")
            page.screenshot(path=str(SHOTS / f"visit-{name}.png"), full_page=True)
            _fits(page, name)
        assert problems == []
    finally:
        context.close()


def _fits(page, name):
    if name != "phone":
        return
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone's screen"
