"""The device report end to end (docs/protocol.md 1.1 "Device clock and device
report"): the collector app sends its four headers and sent_at, a phone
with a wrong clock has its visit flagged and is told so, and the
supervisors' device page at desktop and phone widths."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import ARTIFACTS, DEMO_PASSWORD
from .helpers import login, session_of, sync_now, wait_synced, wait_until

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots" / "devices"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _client(server, client_id):
    rows = server.query("SELECT user_id, app_version, outbox_count, outbox_oldest_at, storage, "
                        "last_seen_at, clock_offset_s FROM clients WHERE client_id = ?", (client_id,))
    return rows[0] if rows else None


def test_the_app_sends_its_report_on_every_sync(phone, server):
    page = phone.new_page()
    login(page, "carol")
    client_id = session_of(page)["client_id"]
    version = page.evaluate("async () => (await import(window.fieldvisit.moduleBase + 'version.js')).APP_VERSION")
    row = _client(server, client_id)
    assert row is not None, "the server saw no report from the app"
    user_id, app_version, outbox_count, _oldest, storage, last_seen_at, _offset = row
    assert app_version == version and len(version) == 12
    assert outbox_count == 0
    assert storage in ("persisted", "best-effort")
    assert last_seen_at is not None

    # Offline, a change waits: the report the app would send counts it and
    # names its time.
    phone.set_offline(True)
    headers = page.evaluate("""async () => {
        const base = window.fieldvisit.moduleBase;
        const { currentSession } = await import(base + 'session.js');
        const { recordChanges } = await import(base + 'outbox.js');
        const { deviceHeaders } = await import(base + 'device-report.js');
        const db = await import(base + 'db.js');
        const s = await currentSession();
        const accounts = await db.transact('accounts', 'readonly', (t) => db.req(t.accounts.getAll()));
        await recordChanges(s, [{ entity: 'visit', id: crypto.randomUUID(),
          fields: { account_id: accounts[0].id, status: 'planned', plan_notes: 'call first' } }]);
        return deviceHeaders(s.client_id);
    }""")
    assert headers["Fieldvisit-Client"] == client_id
    count, oldest = headers["Fieldvisit-Outbox"].split("; oldest=")
    assert count == "1"
    assert abs((datetime.now(UTC) - datetime.fromisoformat(oldest.replace("Z", "+00:00"))).total_seconds()) < 60
    phone.set_offline(False)
    sync_now(page)
    wait_synced(page)
    assert _client(server, client_id)[2] == 0  # sent: nothing waits any more


def test_a_phone_with_a_fast_clock_is_told_and_its_visit_flagged(chromium_browser, server):
    context = chromium_browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844},
                                           locale="en-US", timezone_id="Asia/Taipei",
                                           service_workers="allow")
    context.set_default_timeout(10_000)
    context.clock.install(time=datetime.now(UTC) + timedelta(minutes=11))
    try:
        page = context.new_page()
        login(page, "bob")
        banner = page.locator("[data-testid=clock-banner]")
        banner.wait_for(state="visible")
        assert "This phone’s clock is 11 minutes fast." in banner.inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "phone-clock-banner.png"))
        visit_id = str(uuid.uuid4())
        page.evaluate("""async (visitId) => {
            const base = window.fieldvisit.moduleBase;
            const { currentSession } = await import(base + 'session.js');
            const { recordChanges } = await import(base + 'outbox.js');
            const { isoLocal } = await import(base + 'time.js');
            const db = await import(base + 'db.js');
            const s = await currentSession();
            const accounts = await db.transact('accounts', 'readonly', (t) => db.req(t.accounts.getAll()));
            await recordChanges(s, [{ entity: 'visit', id: visitId, fields: {
              account_id: accounts[0].id, status: 'done', arrived_at: isoLocal(), met: 'original_contact',
              result: 'refused', conduct_confirmed: true } }]);
        }""", visit_id)
        sync_now(page)
        wait_synced(page)
        offset, flags = server.query("SELECT device_clock_offset_min, flags FROM visits WHERE id = ?",
                                     (visit_id,))[0]
        assert offset == 11 and "device_clock_off" in flags
        client_offset = _client(server, session_of(page)["client_id"])[6]
        assert 600 < client_offset < 720
        page.goto("/#/sync")
        wait_until(page, "!!document.querySelector('[data-testid=phone-clock]')")
        assert "11 minutes fast" in page.locator("[data-testid=phone-clock]").inner_text()
        page.evaluate("window.fieldvisit.setLanguage('zh-TW')")
        wait_until(page, "document.querySelector('[data-testid=clock-banner] span').textContent.includes('快了')")
        assert "這支手機的時鐘快了 11 分鐘。" in banner.inner_text()
    finally:
        context.close()


def _fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"


def test_the_device_page_at_desktop_and_phone_widths(chromium_browser, server):
    # A phone with every problem beside the real ones the other tests made.
    user_id = server.query("SELECT id FROM users WHERE username = 'alice'")[0][0]
    long_ago = (datetime.now(UTC) - timedelta(hours=30)).strftime("%Y-%m-%d %H:%M:%S.%f")
    stale = str(uuid.uuid4())
    server.query(
        "INSERT INTO clients (client_id, user_id, last_seq, created_at, last_push_at, last_seen_at, "
        "app_version, outbox_count, outbox_oldest_at, storage, clock_offset_s) "
        "VALUES (?, ?, 7, ?, ?, ?, 'a1b2c3d4e5f6', 3, ?, 'best-effort', -540.0)",
        (stale, user_id, long_ago, long_ago, long_ago, long_ago))
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in VIEWPORTS.items():
        for lang in ("en", "zh-Hant"):
            context = chromium_browser.new_context(
                base_url=server.base_url, viewport=viewport, locale="zh-TW" if lang != "en" else "en-US",
                is_mobile=name == "phone", has_touch=name == "phone")
            problems = []
            page = context.new_page()
            page.on("console", lambda m, found=problems: found.append(m.text) if m.type == "error" else None)
            try:
                page.goto("/supervisor/login")
                page.fill("input[name=username]", "supervisor")
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("form#login button[type=submit]")
                page.wait_for_url("**/supervisor/")
                block = page.locator("#devices-attention")
                assert block.is_visible()
                assert ("Devices needing attention" if lang == "en" else "需要處理的裝置") in block.inner_text()
                if name == "desktop" and lang == "en":
                    block.screenshot(path=str(SHOTS / "dashboard-devices-block.png"))
                page.click("nav.main-nav >> text=" + ("Devices" if lang == "en" else "裝置"))
                page.wait_for_selector("#devices")
                flagged = page.locator(f'#devices tr.attention[data-client="{stale}"]').inner_text()
                if lang == "en":
                    assert "Not synced for 30 h" in flagged and "9 min slow" in flagged
                    assert "Runs an old version of the app" in flagged
                else:
                    assert "已 30 小時未同步" in flagged and "慢 9 分鐘" in flagged
                suffix = "" if lang == "en" else "-zh"
                page.screenshot(path=str(SHOTS / f"devices-{name}{suffix}.png"), full_page=True)
                if name == "phone":
                    _fits(page)
                assert problems == []
            finally:
                context.close()
