"""The collector's day on a phone (Chromium at 390×844, Taipei time, the
clock held at 15:15): the next stop first with its countdown, what is
behind marked done, missed or still open, directions for each platform,
the map from a local tile stub and its list offline, the follow-up saved
with "new appointment agreed", cancelling with a reason, rescheduling a
missed visit, account search, the header, and the words on every screen
in both languages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import PHONE
from .conftest import TAIPEI as TAIPEI_POSITION
from .day import TAIPEI, Pusher, build_day
from .helpers import check_in, login, outbox, shot, sync_now, wait_synced, wait_until

pytestmark = pytest.mark.browser

ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Mobile Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Safari/537.36")
LANGS = {"en": "en-US", "zh-TW": "zh-TW"}


@pytest.fixture
def day(server):
    """A fresh collector with six visits today (her own IndexedDB, her own plan)."""
    today = datetime.now(TAIPEI).date()
    return build_day(server, today, username=f"dora{uuid.uuid4().hex[:6]}")


def new_phone(browser, server, day, *, at="15:15", lang="en", user_agent=None):
    options = dict(base_url=server.base_url, viewport=PHONE, device_scale_factor=1, is_mobile=True,
                   has_touch=True, locale=LANGS[lang], timezone_id="Asia/Taipei",
                   geolocation=TAIPEI_POSITION, permissions=["geolocation"], service_workers="allow")
    if user_agent:
        options["user_agent"] = user_agent
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    context.clock.set_fixed_time(day.at(at))
    return context


def open_today(context, username):
    page = context.new_page()
    login(page, username)
    page.goto("/#/today")
    page.wait_for_selector("[data-testid=today] li.stop")
    return page


def card_times(page, selector="li.stop"):
    return page.eval_on_selector_all(f"{selector} .stop-time", "els => els.map(e => e.textContent.slice(-5))")


def as_taipei(stored: str) -> str:
    moment = datetime.fromisoformat(stored)
    if moment.tzinfo is None:  # the database keeps UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")


def username_of(day, server):
    rows = server.query("SELECT username FROM users WHERE id = ?", (day.collector_id,))
    return rows[0][0]


# -- Today ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_at_1515_the_1540_stop_is_first_and_the_morning_is_marked(chromium_browser, server, day, lang,
                                                                  screenshots):
    context = new_phone(chromium_browser, server, day, lang=lang)
    try:
        page = open_today(context, username_of(day, server))
        first = page.locator("li.stop").first
        assert first.get_attribute("data-visit-id") == day.visits["15:40"]
        assert "stop-next" in first.get_attribute("class")
        assert first.locator(".stop-time").inner_text().endswith("15:40")
        countdown = first.locator(".countdown").inner_text()
        if lang == "en":
            assert re.fullmatch(r"Leave in \d+ min \(by 15:[23]\d\)", countdown), countdown
            assert page.locator("h2", has_text="Next stop").count() == 1
        else:
            assert re.fullmatch(r"\d+ 分鐘後出發（15:[23]\d 前）", countdown), countdown
        # The rest of the day follows; what is behind is below, each marked in words.
        assert card_times(page) == ["15:40", "17:00", "09:40", "11:15", "14:10", "15:00"]
        states = dict(zip(card_times(page), page.eval_on_selector_all(
            "li.stop", "els => els.map(e => e.dataset.state)"), strict=True))
        assert states == {"15:40": "upcoming", "17:00": "upcoming", "09:40": "done",
                          "11:15": "missed", "14:10": "missed", "15:00": "open"}
        badge = {t: page.locator(f"li.stop[data-visit-id='{day.visits[t]}'] .badge").first.inner_text()
                 for t in ("09:40", "11:15", "15:00")}
        assert badge == ({"09:40": "Done", "11:15": "Missed", "15:00": "Still open"} if lang == "en"
                         else {"09:40": "已完成", "11:15": "未成行", "15:00": "尚未結束"})
        summary = page.inner_text("[data-testid=day-summary]")
        assert summary.startswith("3 to visit · 1 done · 2 missed" if lang == "en"
                                  else "待訪 3 筆・已完成 1 筆・未成行 2 筆"), summary
        # Missed stops offer a new time; the done one does not.
        assert page.locator(f"li.stop[data-visit-id='{day.visits['11:15']}'] [data-testid=reschedule]").count() == 1
        assert page.locator(f"li.stop[data-visit-id='{day.visits['09:40']}'] [data-testid=reschedule]").count() == 0
        shot(page, screenshots, f"20-day-today-{lang}")
        page.locator("text=" + ("Earlier today" if lang == "en" else "今天稍早")).scroll_into_view_if_needed()
        shot(page, screenshots, f"21-day-earlier-{lang}")
    finally:
        context.close()


def test_a_stop_she_is_late_for_says_so_before_she_leaves(chromium_browser, server, day):
    context = new_phone(chromium_browser, server, day, at="15:39")
    try:
        page = open_today(context, username_of(day, server))
        first = page.locator("li.stop").first
        assert first.get_attribute("data-visit-id") == day.visits["15:40"]
        assert first.get_attribute("data-state") == "late"
        text = first.locator(".countdown").inner_text()
        assert re.fullmatch(r"Late: leaving now you arrive about \d+ min after the appointment\.", text), text
        assert first.locator(".badge-late").inner_text() == "Late"
    finally:
        context.close()


@pytest.mark.parametrize(("now", "travel", "status", "arrived", "expected"), [
    # A 16:00 appointment, the default 15 minutes early: leave by 16:00 - travel - 15.
    ("15:00", 4, "planned", False, {"state": "upcoming", "leaveIn": 41}),
    ("15:40", 4, "planned", False, {"state": "upcoming", "leaveIn": 1}),
    ("15:41", 4, "planned", False, {"state": "leave_now"}),
    ("15:56", 4, "planned", False, {"state": "leave_now"}),               # arrives 16:00 sharp
    ("15:57", 4, "planned", False, {"state": "late", "lateBy": 1, "flagged": False}),
    ("15:45", 25, "planned", False, {"state": "late", "lateBy": 10, "flagged": False}),  # within the grace
    ("15:46", 25, "planned", False, {"state": "late", "lateBy": 11, "flagged": True}),
    ("15:20", 4, "planned", True, {"state": "in_progress"}),
    ("16:00", 4, "planned", False, {"state": "open", "overdue": 0}),
    ("16:29", 4, "planned", False, {"state": "open", "overdue": 29}),
    ("16:30", 4, "planned", False, {"state": "missed", "derived": True}),  # 30 minutes after
    ("12:00", 4, "missed", False, {"state": "missed"}),
    ("17:00", 4, "done", True, {"state": "done"}),
])
def test_stop_states_at_their_boundaries(phone, now, travel, status, arrived, expected):
    page = phone.new_page()
    page.goto("/")
    wait_until(page, "window.fieldvisit && window.fieldvisit.moduleBase")
    got = page.evaluate("""async ([now, travel, status, arrived]) => {
        const { stopState } = await import(window.fieldvisit.moduleBase + 'rules.js');
        const at = (hm) => new Date(`2026-12-02T${hm}:00+08:00`);
        const visit = { status, arrived_at: arrived ? '2026-12-02T15:20:00+08:00' : null };
        return stopState({ visit, scheduled: at('16:00'), leaveBy: null, travelMinutes: travel,
                           now: at(now), rules: null });
    }""", [now, travel, status, arrived])
    assert got == expected


# -- directions -------------------------------------------------------------------


@pytest.mark.parametrize(("user_agent", "scheme"), [
    (ANDROID, "geo:25.0589,121.5102?q=25.0589,121.5102"),
    (IPHONE, "https://maps.apple.com/?daddr=25.0589,121.5102&dirflg=d"),
    (DESKTOP, "https://www.google.com/maps/dir/?api=1&destination=25.0589,121.5102"),
])
def test_every_address_opens_directions_for_the_platform(chromium_browser, server, day, user_agent, scheme):
    context = new_phone(chromium_browser, server, day, user_agent=user_agent)
    try:
        page = open_today(context, username_of(day, server))
        links = page.eval_on_selector_all("li.stop [data-testid=directions]", "els => els.map(e => e.href)")
        assert len(links) == 6, "every stop's address is a directions link"
        done_card = page.locator(f"li.stop[data-visit-id='{day.visits['09:40']}'] [data-testid=directions]")
        assert done_card.get_attribute("href") == scheme
        assert "Paper" not in done_card.get_attribute("href")  # no customer name goes to the maps app
        prefix = scheme.split("25.", 1)[0]
        assert all(link.startswith(prefix) for link in links), links
        # The account screen and the visit screen say the same.
        page.goto(f"/#/account/{day.accounts['DAY-01']}")
        page.wait_for_selector("[data-testid=account]")
        assert page.get_attribute("[data-testid=directions]", "href") == scheme
        page.goto(f"/#/visit/{day.visits['17:00']}")
        page.wait_for_selector("[data-testid=visit]")
        assert page.get_attribute("[data-testid=directions]", "href").startswith(prefix)
    finally:
        context.close()


# -- the map ----------------------------------------------------------------------


def test_the_map_draws_the_route_from_the_tile_stub_and_lists_it_offline(chromium_browser, server, day,
                                                                          tile_stub, screenshots):
    context = new_phone(chromium_browser, server, day)
    try:
        page = open_today(context, username_of(day, server))
        before = len(tile_stub.requests)
        page.click("[data-testid=day-map]")
        page.wait_for_selector("[data-testid=map][data-map-state=ready]", timeout=15_000)
        pins = page.eval_on_selector_all(".leaflet-marker-icon.map-pin", "els => els.map(e => e.textContent)")
        assert sorted(pins, key=int) == ["1", "2", "3", "4", "5", "6"]
        assert page.locator(".leaflet-overlay-pane path").count() == 1, "the route line"
        tiles = page.eval_on_selector_all("img.leaflet-tile-loaded", "els => els.map(e => e.src)")
        assert tiles and all(src.startswith(tile_stub.url.split("{z}")[0]) for src in tiles)
        assert len(tile_stub.requests) > before
        assert "© Test tiles" in page.inner_text(".leaflet-control-attribution")
        page.wait_for_timeout(300)
        shot(page, screenshots, "22-day-map-en")

        # One account's position.
        page.goto(f"/#/map/account/{day.accounts['DAY-03']}")
        page.wait_for_selector("[data-testid=map][data-map-state=ready] >> text=Chifeng Bicycle Works", timeout=15_000)
        expect(page.locator(".leaflet-marker-icon.map-pin")).to_have_count(1)

        # Offline: no tiles, and the stops as a list in route order, with directions.
        context.set_offline(True)
        page.goto("/#/today")
        page.wait_for_selector("[data-testid=today]")
        page.goto("/#/map")
        page.wait_for_selector("[data-testid=map][data-map-state=fallback]")
        assert page.inner_text("[data-testid=map-fallback]").startswith("No map without a connection.")
        assert page.locator("[data-testid=map-box]").is_hidden()
        items = page.locator("[data-testid=map-list] li")
        assert items.count() == 6
        assert page.eval_on_selector_all("[data-testid=map-list] .stop-time", "els => els.map(e => e.textContent)") \
            == ["09:40", "11:15", "14:10", "15:00", "15:40", "17:00"]
        assert page.locator("[data-testid=map-list] [data-testid=directions]").count() == 6
        shot(page, screenshots, "23-day-map-offline-en")
    finally:
        context.close()


def test_the_map_falls_back_to_the_list_when_tiles_fail(chromium_browser, server, day):
    context = new_phone(chromium_browser, server, day)
    try:
        page = open_today(context, username_of(day, server))
        context.route(re.compile(r"http://127\.0\.0\.1:\d+/\d+/\d+/\d+\.png"), lambda route: route.abort())
        page.goto("/#/map")
        page.wait_for_selector("[data-testid=map][data-map-state=fallback]", timeout=15_000)
        assert page.inner_text("[data-testid=map-fallback]").startswith("The map could not load.")
        assert page.locator("[data-testid=map-list] li").count() == 6
    finally:
        context.close()


# -- no loose ends ------------------------------------------------------------------


def test_new_appointment_agreed_saves_the_follow_up_visit_with_the_record(chromium_browser, server, day,
                                                                         screenshots):
    context = new_phone(chromium_browser, server, day)
    try:
        page = open_today(context, username_of(day, server))
        context.set_offline(True)  # both changes wait in the outbox together
        page.goto(f"/#/visit/{day.visits['15:40']}")
        check_in(page)
        assert page.locator("[data-testid=follow-up]").is_hidden()
        page.check("input[name=met][value=original_contact]")
        page.select_option("#f-result", "rescheduled")
        assert page.locator("[data-testid=follow-up]").is_visible()
        tomorrow = (day.date + timedelta(days=1)).isoformat()
        page.fill("#follow-date", tomorrow)
        page.fill("#follow-time", "10:30")
        page.check("#f-conduct")
        page.locator("[data-testid=follow-up]").scroll_into_view_if_needed()
        shot(page, screenshots, "24-day-follow-up-en")
        page.click("[data-testid=save-visit]")
        page.wait_for_selector("[data-testid=visit][data-visit-status=done]")
        assert page.locator("[data-testid=follow-up-planned]").inner_text().startswith("New appointment planned:")

        pending = {e["seq"]: e for e in outbox(page) if e["state"] == "pending"}
        (record,) = [e for e in pending.values()
                     if e["record_id"] == day.visits["15:40"] and e["fields"].get("status") == "done"]
        assert record["fields"]["result"] == "rescheduled"
        follow = pending[record["seq"] + 1]  # the next mutation, written in the same transaction
        assert follow["entity"] == "visit" and follow["fields"]["status"] == "planned"
        assert follow["fields"]["account_id"] == day.accounts["DAY-05"]
        assert follow["fields"]["scheduled_at"] == f"{tomorrow}T10:30:00+08:00"

        context.set_offline(False)
        sync_now(page)
        wait_synced(page)
        rows = server.query("SELECT status, collector_id, scheduled_at FROM visits WHERE id = ?",
                            (follow["record_id"],))
        assert rows and rows[0][0] == "planned" and rows[0][1] == day.collector_id
        assert server.query("SELECT status, result FROM visits WHERE id = ?",
                            (day.visits["15:40"],)) == [("done", "rescheduled")]
    finally:
        context.close()


def test_cancelling_asks_why_and_keeps_the_reason_on_the_record(chromium_browser, server, day, screenshots):
    context = new_phone(chromium_browser, server, day)
    try:
        page = open_today(context, username_of(day, server))
        page.goto(f"/#/visit/{day.visits['17:00']}")
        page.click("[data-testid=cancel-visit]")
        page.click("[data-testid=cancel-confirm]")  # no reason yet
        assert page.locator(".cancel-form [role=alert]").inner_text() == "Write the reason (a few words are enough)."
        page.fill("#cancel-reason", "Owner paid at the branch this morning")
        shot(page, screenshots, "25-day-cancel-en")
        page.click("[data-testid=cancel-confirm]")
        page.wait_for_selector("[data-testid=today]")
        wait_synced(page)
        status, notes = server.query("SELECT status, plan_notes FROM visits WHERE id = ?", (day.visits["17:00"],))[0]
        assert status == "cancelled"
        assert notes == "Cancelled: Owner paid at the branch this morning"
    finally:
        context.close()


def test_a_missed_visit_gets_a_new_time_in_two_taps(chromium_browser, server, day):
    context = new_phone(chromium_browser, server, day)
    try:
        page = open_today(context, username_of(day, server))
        card = page.locator(f"li.stop[data-visit-id='{day.visits['11:15']}']")
        card.locator("[data-testid=reschedule]").click()          # tap 1
        card.locator("[data-testid=reschedule-save]").click()     # tap 2: the suggested time
        expect(card.locator("form")).to_have_count(0)
        wait_synced(page)
        assert server.query("SELECT status FROM visits WHERE id = ?", (day.visits["11:15"],)) == [("missed",)]
        tomorrow = (day.date + timedelta(days=1)).isoformat()
        rows = server.query("SELECT scheduled_at, status, plan_notes FROM visits WHERE account_id = ? AND id != ?",
                            (day.accounts["DAY-02"], day.visits["11:15"]))
        assert len(rows) == 1 and rows[0][1] == "planned"
        assert as_taipei(rows[0][0]) == f"{tomorrow} 11:15"
        assert rows[0][2].startswith("New time for the missed visit of")
    finally:
        context.close()


# -- accounts ---------------------------------------------------------------------


def test_account_search_finds_a_phone_number_and_sorts_say_what_they_do(chromium_browser, server, day,
                                                                        screenshots):
    context = new_phone(chromium_browser, server, day)
    try:
        page = open_today(context, username_of(day, server))
        page.goto("/#/accounts")
        page.wait_for_selector("[data-testid=accounts]")
        visible = lambda: page.eval_on_selector_all(  # noqa: E731
            ".account-row:not([hidden]) .row-title", "els => els.map(e => e.textContent.trim())")
        page.fill("[data-testid=account-search]", "0912 555 777")
        assert [t for t in visible()] == ["Chifeng Bicycle Works 赤峰單車"]
        assert page.inner_text("[data-testid=accounts-count]") == "1 of 6 matches"
        page.fill("[data-testid=account-search]", "02-5550-3390")   # national form of +886-2-5550-3390
        assert visible() == ["Nanjing West Optical 南西眼鏡"]
        page.fill("[data-testid=account-search]", "taiyuan")       # the address
        assert visible() == ["Taiyuan Road Hardware 太原五金"]
        page.fill("[data-testid=account-search]", "張文彬")          # the contact
        assert visible() == ["Guisui Street Paper Co. 歸綏紙行"]
        page.fill("[data-testid=account-search]", "")
        assert page.inner_text("[data-testid=accounts-count]") == "6 accounts"

        options = page.eval_on_selector_all("#account-sort option", "els => els.map(e => e.textContent)")
        assert options == ["Expected recovery, highest first", "Amount due, highest first",
                           "Days past due, most first", "Distance from here, nearest first"]
        page.select_option("#account-sort", "amount")
        expect(page.locator("#account-sort")).to_have_value("amount")
        assert visible()[0] == "Changan Print House 長安印刷"   # NT$311,400, the largest
        page.select_option("#account-sort", "distance")
        page.wait_for_selector("text=Straight-line distance from where you were")
        assert visible()[0] == "Guisui Street Paper Co. 歸綏紙行"  # nearest to the phone's position
        shot(page, screenshots, "26-day-accounts-distance-en")
    finally:
        context.close()


# -- the header -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_the_header_shows_offline_and_waiting_beside_an_unread_conflict(chromium_browser, server, day, lang,
                                                                         screenshots):
    context = new_phone(chromium_browser, server, day, lang=lang)
    try:
        page = open_today(context, username_of(day, server))
        visit_id = day.visits["17:00"]
        edit = """async ([id, notes]) => {
            const { currentSession } = await import(window.fieldvisit.moduleBase + 'session.js');
            const { recordChanges } = await import(window.fieldvisit.moduleBase + 'outbox.js');
            await recordChanges(await currentSession(), [{ entity: 'visit', id, fields: { plan_notes: notes } }]);
        }"""
        context.set_offline(True)
        page.evaluate(edit, [visit_id, "Ask for the owner's daughter"])
        # Meanwhile the office writes the same field.
        version = server.query("SELECT version FROM visits WHERE id = ?", (visit_id,))[0][0]
        Pusher(server, "supervisor").write("visit", visit_id, {"plan_notes": "Bring the statement"}, version)
        context.set_offline(False)
        sync_now(page)
        wait_synced(page)
        assert [e["state"] for e in outbox(page) if e["record_id"] == visit_id][-1] == "conflict"
        # Offline again, with something new waiting.
        context.set_offline(True)
        page.evaluate(edit, [day.visits["15:40"], "Parking behind the shop"])
        page.goto("/#/today")
        page.wait_for_selector("[data-testid=today]")
        expect(page.locator("#attention-pill")).to_be_visible()
        expect(page.locator("#sync-pill")).to_contain_text("1")
        status = page.inner_text("[data-testid=sync-pill]")
        attention = page.inner_text("[data-testid=attention-pill]")
        if lang == "en":
            assert (status, attention) == ("Offline · 1 waiting", "1 needs attention")
        else:
            assert (status, attention) == ("離線・1 筆待送", "1 筆待處理")
        assert page.locator("[data-testid=sync-pill]").is_visible()
        assert page.locator("[data-testid=attention-pill]").is_visible()
        shot(page, screenshots, f"27-day-header-conflict-{lang}")
    finally:
        context.close()


def test_the_map_works_under_a_strict_content_security_policy(chromium_browser, server, day, tile_stub):
    """The policy the server is to send (another change adds it): only our own
    scripts and styles, and images from ourselves and the tile server. The
    map must need nothing more (server/maps.py: tile_origin)."""
    from server.maps import tile_origin

    policy = (f"default-src 'self'; img-src 'self' data: {tile_origin(tile_stub.url)}; "
              "script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; "
              "base-uri 'none'; frame-ancestors 'none'")
    context = chromium_browser.new_context(base_url=server.base_url, viewport=PHONE, is_mobile=True,
                                           has_touch=True, timezone_id="Asia/Taipei",
                                           service_workers="block")
    context.clock.set_fixed_time(day.at("15:15"))

    def with_policy(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})

    context.route(lambda url: not url.startswith(server.base_url + "/api/"), with_policy)
    violations: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text or "Refused to" in m.text else None)
        page.goto("/")
        page.evaluate("""() => document.addEventListener('securitypolicyviolation',
            (e) => console.error('Refused to load (Content Security Policy): ' + e.violatedDirective + ' ' + e.blockedURI))""")
        login(page, username_of(day, server))
        page.goto("/#/map")
        page.wait_for_selector("[data-testid=map][data-map-state=ready]", timeout=15_000)
        assert page.locator(".leaflet-marker-icon.map-pin").count() == 6
        page.wait_for_timeout(300)
        assert violations == []
    finally:
        # Requests still in flight must not reach the handler after the context is gone.
        context.unroute_all(behavior="ignoreErrors")
        context.close()
