"""Contact restrictions on the phone (Chromium at 390×844, the clock held
at 15:15 Taipei): the visit screen's warning before check-in while a
do-not-visit period is in force, a period added offline and merged with
one the office added meanwhile, the third-party guidance and the relation
of the person met, the rules of each jurisdiction judged offline at their
boundaries, and the screens in both languages."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import PHONE
from .conftest import TAIPEI as TAIPEI_POSITION
from .day import TAIPEI, Pusher, ensure_collector
from .helpers import login, pending_count, shot, sync_now, wait_synced

pytestmark = pytest.mark.browser


class Setup:
    """A collector of her own with three accounts and a visit planned on each
    at 16:00 today: R-1 with a period the office set, in force all day
    ("Funeral in the family"); R-2 without any; R-3 a deli in New York
    (jurisdiction US)."""

    def __init__(self, server):
        self.today = datetime.now(TAIPEI).date()
        self.username = f"rosa{uuid.uuid4().hex[:6]}"
        self.collector_id = ensure_collector(server, self.username, "Rosa Kao 高若莎")
        self.office = Pusher(server, "supervisor")
        self.accounts, self.visits = {}, {}
        start = self.at(0, 0)
        funeral = {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat(),
                   "reason": "Funeral in the family"}
        for ref, name, tz, extra in (
            ("R-1", "Dihua Tea House 迪化茶行", "Asia/Taipei", {"do_not_visit": [funeral]}),
            ("R-2", "Yanping Noodles 延平麵店", "Asia/Taipei", {}),
            ("R-3", "Hudson Deli", "America/New_York", {"jurisdiction": "US", "currency": "USD"}),
        ):
            account_id = str(uuid.uuid4())
            self.office.write("account", account_id, {
                "ref": f"{ref}-{uuid.uuid4().hex[:6]}", "customer_name": name,
                "original_contact_name": "Mr Kao 高先生", "timezone": tz, "currency": "TWD",
                "lat": 25.0560, "lon": 121.5100, "amount_due": 8_000_000,
                "due_since": (self.today - timedelta(days=40)).isoformat(),
                "assigned_collector_id": self.collector_id, "delinquency_reason": "hardship",
                **extra})
            self.accounts[ref] = account_id
            visit_id = str(uuid.uuid4())
            self.office.write("visit", visit_id, {
                "account_id": account_id, "collector_id": self.collector_id,
                "scheduled_at": self.at(16, 0).isoformat(), "status": "planned"})
            self.visits[ref] = visit_id

    def at(self, h, m):
        return datetime(self.today.year, self.today.month, self.today.day, h, m, tzinfo=TAIPEI)


@pytest.fixture
def setup(server):
    return Setup(server)


def new_phone(browser, server, setup, lang="en-US"):
    context = browser.new_context(
        base_url=server.base_url, viewport=PHONE, device_scale_factor=1, is_mobile=True,
        has_touch=True, locale=lang, timezone_id="Asia/Taipei", geolocation=TAIPEI_POSITION,
        permissions=["geolocation"], service_workers="allow")
    context.set_default_timeout(10_000)
    context.clock.set_fixed_time(setup.at(15, 15))
    return context


def stored_windows(server, account_id):
    (raw,) = server.query("SELECT do_not_visit FROM accounts WHERE id = ?", (account_id,))[0]
    return json.loads(raw)


def account_version(server, account_id):
    return server.query("SELECT version FROM accounts WHERE id = ?", (account_id,))[0][0]


def test_periods_warn_before_check_in_are_added_offline_and_merge_with_the_offices(
        chromium_browser, server, setup, screenshots):
    context = new_phone(chromium_browser, server, setup)
    page = context.new_page()
    login(page, setup.username)

    # A period in force: said plainly before the check-in button, with its reason.
    page.goto(f"/#/visit/{setup.visits['R-1']}")
    notice = page.locator("[data-testid=do-not-visit]")
    expect(notice).to_contain_text("Do not visit now")
    expect(notice).to_contain_text("No visits until Dec")
    expect(notice).to_contain_text("Funeral in the family")
    expect(notice).to_have_attribute("role", "alert")
    expect(page.locator("li[data-warning=do_not_visit]")).to_have_text(
        "⚠ Inside a do-not-visit period")
    # The warning stands right before the check-in, where the thumb goes.
    assert page.evaluate("""() => {
        const notice = document.querySelector('[data-testid=do-not-visit]');
        const button = document.querySelector('[data-testid=check-in]');
        const next = notice.nextElementSibling;
        return !!next && (next === button || next.contains(button));
    }""")
    shot(page, screenshots, "40-visit-do-not-visit-en")

    # the customer asks, on site, not to be visited until tomorrow's wedding is over.
    context.set_offline(True)
    page.goto(f"/#/visit/{setup.visits['R-2']}")
    expect(page.locator("[data-testid=do-not-visit]")).to_have_count(0)
    page.click("[data-testid=add-window-link]")
    page.wait_for_selector("form.window-form")
    tomorrow = (setup.today + timedelta(days=1)).isoformat()
    page.fill("#w-to_date", tomorrow)
    page.click("[data-testid=window-save]")
    expect(page.locator(".window-form [role=alert]")).to_have_text("Say why, in a few words.")
    page.fill("#w-reason", "Son's wedding")
    expect(page.locator(".window-form .hint").first).to_contain_text("Taiwan Standard Time")
    shot(page, screenshots, "44-add-period-offline-en")
    page.click("[data-testid=window-save]")
    windows = page.locator("[data-testid=restrictions] li.window")
    expect(windows).to_have_count(1)
    expect(windows.first).to_contain_text("Son's wedding")
    assert pending_count(page) == 1
    # The day's plan and the visit screen warn of it at once, offline.
    page.goto("/#/today")
    stop = page.locator(f"li.stop:has(a[href='#/visit/{setup.visits['R-2']}'])")
    expect(stop.locator("li[data-warning=do_not_visit]")).to_have_count(1)
    page.goto(f"/#/visit/{setup.visits['R-2']}")
    expect(page.locator("[data-testid=do-not-visit]")).to_contain_text("Son's wedding")

    # Meanwhile the office adds a period of its own to R-2.
    hospital = {"from": (setup.at(0, 0) + timedelta(days=10)).isoformat(),
                "to": (setup.at(0, 0) + timedelta(days=12)).isoformat(), "reason": "In hospital"}
    setup.office.write("account", setup.accounts["R-2"], {"do_not_visit": [hospital]},
                       account_version(server, setup.accounts["R-2"]))

    # Back online: both periods are kept, on the server and on the phone.
    context.set_offline(False)
    assert sync_now(page)["ok"]
    wait_synced(page)
    reasons = sorted(w["reason"] for w in stored_windows(server, setup.accounts["R-2"]))
    assert reasons == ["In hospital", "Son's wedding"]
    page.goto(f"/#/account/{setup.accounts['R-2']}")
    expect(page.locator("[data-testid=restrictions] li.window")).to_have_count(2)
    # Each account says whose rules its visits are judged by.
    expect(page.locator("[data-testid=place-rules] p")).to_have_text([
        "Taiwan rules: visit only between 08:00 and 21:00, the customer’s time.",
        "At most 5 attempts on this account in 7 days."])
    page.goto(f"/#/account/{setup.accounts['R-3']}")
    expect(page.locator("[data-testid=place-rules] p")).to_have_text([
        "United States rules: visit only between 08:00 and 21:00, the customer’s time.",
        "At most 7 attempts on the same person in 7 days."])

    # She checks in all the same and meets the owner's daughter.
    page.goto(f"/#/visit/{setup.visits['R-2']}")
    page.click("[data-testid=check-in]")
    page.wait_for_selector("form.outcome")
    expect(page.locator("[data-testid=third-party]")).to_be_hidden()
    page.check("input[name=met][value=other_person]")
    guard = page.locator("[data-testid=third-party] .guard")
    expect(guard).to_be_visible()
    expect(guard).to_contain_text("Do not mention the debt, any amount")
    expect(guard).to_contain_text("speak with Mr Kao 高先生")
    page.fill("#f-met_name", "Kao Li 高莉 (daughter)")
    page.select_option("#f-result", "not_present")
    page.check("#f-conduct")
    page.click("[data-testid=save-visit]")
    expect(page.locator("[data-error-for=met_relation]")).to_have_text(
        "Choose who this person is to the customer.")
    page.select_option("#f-met_relation", "family")
    expect(page.locator("[data-error-for=met_relation]")).to_have_text("")
    page.locator("[data-testid=third-party]").scroll_into_view_if_needed()
    shot(page, screenshots, "41-third-party-en")
    page.click("[data-testid=save-visit]")
    page.wait_for_selector("[data-visit-status=done]")
    expect(page.locator(".record")).to_contain_text("Family")
    wait_synced(page)
    flags, relation = server.query("SELECT flags, met_relation FROM visits WHERE id = ?",
                                   (setup.visits["R-2"],))[0]
    assert relation == "family"
    assert "inside_do_not_visit" in json.loads(flags) and "not_original_contact" in json.loads(flags)
    context.close()


def test_the_warning_and_the_guidance_in_chinese(chromium_browser, server, setup, screenshots):
    context = new_phone(chromium_browser, server, setup, lang="zh-TW")
    page = context.new_page()
    login(page, setup.username)
    page.goto(f"/#/visit/{setup.visits['R-1']}")
    notice = page.locator("[data-testid=do-not-visit]")
    expect(notice).to_contain_text("現在請勿拜訪")
    expect(notice).to_contain_text("之前請勿拜訪：Funeral in the family")
    expect(page.locator("li[data-warning=do_not_visit]")).to_have_text("⚠ 在勿訪期間內")
    shot(page, screenshots, "42-visit-do-not-visit-zh-TW")
    page.goto(f"/#/visit/{setup.visits['R-3']}")
    page.click("[data-testid=check-in]")
    page.wait_for_selector("form.outcome")
    page.check("input[name=met][value=other_person]")
    guard = page.locator("[data-testid=third-party] .guard")
    expect(guard).to_contain_text("不要提到欠款、金額")
    expect(page.locator("label[for=f-met_relation]")).to_have_text("此人與客戶的關係")
    expect(page.locator("#f-met_relation option")).to_have_text(["請選擇…", "員工", "家人", "鄰居", "其他關係"])
    page.locator("[data-testid=third-party]").scroll_into_view_if_needed()
    shot(page, screenshots, "43-third-party-zh-TW")
    page.goto(f"/#/account/{setup.accounts['R-1']}")
    expect(page.locator("[data-testid=restrictions] h2")).to_have_text("勿訪期間")
    expect(page.locator("[data-testid=place-rules] p")).to_have_text([
        "依台灣的規定：只能在客戶當地時間 08:00 至 21:00 之間拜訪。", "此帳戶在 7 天內最多拜訪 5 次。"])
    expect(page.locator("[data-testid=restrictions] li.window")).to_contain_text("Funeral in the family")
    context.close()


# The phone's own rules, offline, with the rules block of its last pull.
JUDGE = """async (cases) => {
    const base = window.fieldvisit.moduleBase;
    const { planWarnings } = await import(base + 'rules.js');
    const db = await import(base + 'db.js');
    const rules = await db.getValue('meta', 'rules', null);
    return cases.map(({ when, account, visits }) =>
        planWarnings({ when: new Date(when), account, visitsOfAccount: visits || [], rules }));
}"""

WINDOW = {"from": "2026-12-10T01:00:00+00:00", "to": "2026-12-12T16:00:00+00:00", "reason": "Funeral"}
TW = {"id": "tw", "timezone": "Asia/Taipei", "jurisdiction": "TW", "do_not_visit": [WINDOW]}
NY = {"id": "us", "timezone": "America/New_York", "jurisdiction": "US", "do_not_visit": []}
IN = {"id": "in", "timezone": "Asia/Kolkata", "jurisdiction": "IN", "do_not_visit": []}


def at_utc(*args):
    return datetime(*args, tzinfo=UTC)


def done(when, met="original_contact", met_name=None):
    return {"id": str(uuid.uuid4()), "status": "done", "arrived_at": when.isoformat(), "met": met,
            "met_name": met_name}


def edge_cases():
    minute = timedelta(minutes=1)
    start, end = at_utc(2026, 12, 10, 1, 0), at_utc(2026, 12, 12, 16, 0)
    cases = [  # (what, when, account, visits, warning, expected)
        ("period: a minute before", start - minute, TW, [], "do_not_visit", False),
        ("period: its first instant", start, TW, [], "do_not_visit", True),
        ("period: a minute before its end", end - minute, TW, [], "do_not_visit", True),
        ("period: its end", end, TW, [], "do_not_visit", False),
    ]
    # The US: 08:00–21:00 on the debtor's clock, either side of both 2026 changes.
    for day, offset in (((2026, 3, 7), 5), ((2026, 3, 8), 4), ((2026, 10, 31), 4), ((2026, 11, 1), 5)):
        for (h, m), outside in (((7, 59), True), ((8, 1), False), ((20, 59), False), ((21, 1), True)):
            cases.append((f"US {day} {h:02}:{m:02}", at_utc(*day, h, m) + timedelta(hours=offset),
                          NY, [], "outside_contact_hours", outside))
    cases += [
        ("IN 18:59", at_utc(2026, 12, 2, 13, 29), IN, [], "outside_contact_hours", False),
        ("IN 19:01", at_utc(2026, 12, 2, 13, 31), IN, [], "outside_contact_hours", True),
        ("TW 19:01", at_utc(2026, 12, 2, 11, 1), TW, [], "outside_contact_hours", False),
    ]
    when = at_utc(2026, 12, 20, 15, 0)
    earlier = [when - timedelta(hours=20 * (i + 1)) for i in range(7)]
    cases += [
        ("US: the 7th attempt", when, NY, [done(t) for t in earlier[:6]], "attempt_limit", False),
        ("US: the 8th attempt", when, NY, [done(t) for t in earlier], "attempt_limit", True),
        ("US: 7 on a neighbour do not count", when, NY,
         [done(t, "other_person", "Ann") for t in earlier], "attempt_limit", False),
        ("TW: the 6th attempt, whoever was met", when, TW,
         [done(t, "other_person", "Ann") for t in earlier[:5]], "attempt_limit", True),
        ("US: an attempt exactly 7 × 24 h before has left the window", when, NY,
         [done(t) for t in earlier[:6]] + [done(when - timedelta(days=7))], "attempt_limit", False),
    ]
    return cases


def test_the_phone_judges_each_jurisdiction_and_period_offline_at_the_edges(
        chromium_browser, server, setup):
    context = new_phone(chromium_browser, server, setup)
    page = context.new_page()
    login(page, setup.username)
    context.set_offline(True)
    cases = edge_cases()
    answers = page.evaluate(JUDGE, [{"when": when.isoformat(), "account": account, "visits": visits}
                                    for _, when, account, visits, _, _ in cases])
    wrong = [(what, warning, expected, found) for (what, _, _, _, warning, expected), found
             in zip(cases, answers, strict=True) if (warning in found) is not expected]
    assert wrong == []
    context.close()
