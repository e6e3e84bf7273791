"""Records a collector, a supervisor and an auditor can trust, on a phone
(Chromium at 390×844) against the real server: conflict notices that say
whose value was kept, in words and local times, and then what the office
decided; money's status with the office's reason; a finished visit
corrected offline with a reason, and the trail the supervisor reads; a far
check-in that asks first, and a check-in redone with the earlier one kept."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, PHONE
from .day import TAIPEI, Pusher, build_day
from .helpers import login, outbox, pending_count, shot, sync_now, wait_synced

pytestmark = pytest.mark.browser

# DAY-02 of tests/browser/day.py, and a point about 6 km due north of it.
NEAR = {"latitude": 25.05762, "longitude": 121.51391, "accuracy": 9}
FAR = {"latitude": 25.05760 + 0.05396, "longitude": 121.51390, "accuracy": 35}


@pytest.fixture
def day(server):
    today = datetime.now(TAIPEI).date()
    return build_day(server, today, username=f"erin{uuid.uuid4().hex[:6]}")


def username_of(day, server) -> str:
    return server.query("SELECT username FROM users WHERE id = ?", (day.collector_id,))[0][0]


def new_phone(browser, server, *, timezone_id="Asia/Taipei", geolocation=NEAR, lang="en-US"):
    context = browser.new_context(
        base_url=server.base_url, viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
        locale=lang, timezone_id=timezone_id, geolocation=geolocation, permissions=["geolocation"],
        service_workers="allow")
    context.set_default_timeout(10_000)
    return context


def supervisor_page(browser, server):
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900},
                                  locale="en-US", timezone_id="Asia/Taipei")
    page = context.new_page()
    # A Content-Security-Policy violation or a script error would show here.
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto("/supervisor/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form#login button[type=submit]")
    page.wait_for_url("**/supervisor/")
    return context, page


def version_of(server, visit_id: str) -> int:
    return server.query("SELECT version FROM visits WHERE id = ?", (visit_id,))[0][0]


def office_push(server, entity, record_id, fields, base_version, ms=None) -> dict:
    """The office writing from a supervisor's device of its own, its clock
    an hour ahead of the phone's so that it wins a race on the clocks."""
    token = server.login("supervisor")["token"]
    client = str(uuid.uuid4())
    if ms is None:
        # An hour past whatever the server's clock has seen: other tests on
        # this shared server push clocks ahead too, and phones follow it.
        _, page = server.api("GET", "/sync/pull?limit=1", token=token)
        ms = max(int(time.time() * 1000), int(page["server_hlc"][:13])) + 3600_000
    status, answer = server.api("POST", "/sync/push", {"client_id": client, "mutations": [{
        "seq": 1, "hlc": f"{ms:013d}:0000:{client}", "entity": entity, "id": record_id,
        "base_version": base_version, "fields": fields}]}, token=token)
    assert status == 200, answer
    return answer["results"][0]


def open_visit(page, visit_id):
    page.goto(f"/#/visit/{visit_id}")
    page.wait_for_selector("[data-testid=visit]")


def record_done(page, result="refused", payment=None):
    page.click("[data-testid=check-in]")
    page.wait_for_selector("form.outcome, [data-testid=far-checkin]")
    if page.locator("[data-testid=far-checkin]").count():  # another shop than NEAR's
        page.click("[data-testid=checkin-anyway]")
    page.wait_for_selector("form.outcome")
    page.check("input[name=met][value=original_contact]")
    page.select_option("#f-result", result)
    if payment:
        if not page.is_checked("#f-paid"):
            page.check("#f-paid")
        page.fill("#f-pay_amount", payment)
    page.check("#f-conduct")
    page.click("[data-testid=save-visit]")
    page.wait_for_selector("[data-testid=visit][data-visit-status=done]")


def entry_for(page, visit_id, state):
    found = [e for e in outbox(page) if e["record_id"] == visit_id and e["state"] == state]
    assert found, outbox(page)
    return found[-1]


def card(page, visit_id):
    page.goto("/#/sync")
    found = page.locator(f"[data-testid=sync] [data-problem=conflict][data-record-id='{visit_id}']")
    found.wait_for()
    return found


def test_done_against_cancelled_from_both_sides_and_the_offices_decision(chromium_browser, server, day,
                                                                         screenshots):
    username = username_of(day, server)
    context = new_phone(chromium_browser, server)
    sup_context = None
    try:
        page = context.new_page()
        login(page, username)
        mine, theirs = day.visits["11:15"], day.visits["14:10"]

        # 1. The phone records a visit done offline while the office cancels it.
        context.set_offline(True)
        open_visit(page, mine)
        record_done(page)
        assert office_push(server, "visit", mine, {"status": "cancelled"}, version_of(server, mine))["status"] == "applied"
        context.set_offline(False)
        sync_now(page)
        wait_synced(page)
        entry = entry_for(page, mine, "conflict")
        [conflict] = entry["result"]["conflicts"]
        assert (conflict["kept_by"], conflict["lost_by"]) == ("this_device", "office")
        text = card(page, mine).inner_text()
        assert "Status: “Done” (yours, from this phone) was kept." in text
        assert "“Cancelled” (from the office) was not applied; it is kept for your supervisor." in text
        assert "went to review" not in text and "“done”" not in text and "“cancelled”" not in text
        shot(page, screenshots, "trust-01-conflict-done-kept-en")

        # 2. The phone cancels offline while another device of the same collector records it done.
        context.set_offline(True)
        open_visit(page, theirs)
        page.click("[data-testid=cancel-visit]")
        page.fill("#cancel-reason", "Shop shut for the holidays")
        page.click("[data-testid=cancel-confirm]")
        page.wait_for_selector("[data-testid=today]")
        other = Pusher(server, username)
        other.write("visit", theirs, {"status": "done", "arrived_at": datetime.now(UTC).isoformat(),
                                      "met": "original_contact", "result": "refused",
                                      "conduct_confirmed": True}, version_of(server, theirs))
        context.set_offline(False)
        sync_now(page)
        wait_synced(page)
        text = card(page, theirs).inner_text()
        assert "Status: “Done” (yours, from another device) was kept." in text
        assert "“Cancelled” (yours, from this phone) was not applied; it is kept for your supervisor." in text
        shot(page, screenshots, "trust-02-conflict-cancel-lost-en")
        page.select_option("[data-testid=language]", "zh-TW")
        # The screen is drawn again in the new language: wait for it.
        expect(card(page, theirs)).to_contain_text("狀態：保留了「已完成」（你在另一台裝置上輸入的）。")
        assert "「已取消」（你在這支手機上輸入的）未採用，已留給主管查看。" in card(page, theirs).inner_text()
        shot(page, screenshots, "trust-03-conflict-cancel-lost-zh")
        page.select_option("[data-testid=language]", "en")

        # The collector reads the first notice and puts it away.
        card(page, mine).locator("[data-testid=problem-seen]").click()
        page.wait_for_selector(f"[data-problem=conflict][data-record-id='{mine}']", state="detached")

        # 3. The supervisor decides: only keeping "Done" is offered.
        sup_context, sup = supervisor_page(chromium_browser, server)
        sup.goto("/supervisor/conflicts")
        article = sup.locator(f"#conflict-{conflict['id']}")
        assert article.locator("button").all_inner_texts() == ["Keep the value that won"]
        if article.locator("textarea[name=reason]").count():
            article.locator("textarea[name=reason]").fill("The customer signed the visit sheet")
        article.locator("button[name=keep]").click()
        sup.wait_for_selector("p.flash-ok")

        # 4. The phone hears of it: the notice comes back, with the outcome.
        sync_now(page)
        wait_synced(page)
        decided = card(page, mine)
        text = decided.inner_text()
        assert "Decided by the office:" in text
        assert "Your supervisor decided: “Done” stays." in text
        shot(page, screenshots, "trust-04-conflict-decided-en")
        open_visit(page, mine)
        assert "Your supervisor decided: “Done” stays." in page.locator("[data-testid=visit]").inner_text()
        assert page.locator("[data-testid=visit] .visit-meta [data-sync-state]").inner_text() == "Decided"
        shot(page, screenshots, "trust-05-visit-decided-en")
    finally:
        context.close()
        if sup_context:
            sup_context.close()


def test_a_conflict_on_an_appointment_time_reads_in_the_accounts_local_time(chromium_browser, server, day,
                                                                            screenshots):
    # The phone's own clock is in Berlin: the notice must still read Taipei's.
    context = new_phone(chromium_browser, server, timezone_id="Europe/Berlin")
    try:
        page = context.new_page()
        login(page, username_of(day, server))
        visit_id = day.visits["15:40"]
        context.set_offline(True)
        page.goto(f"/#/plan/{day.accounts['DAY-05']}/{visit_id}")
        page.wait_for_selector("[data-testid=plan-form]")
        page.fill("#plan-time", "15:00")
        page.click("[data-testid=save-plan]")
        page.wait_for_selector("[data-testid=visit]")
        assert pending_count(page) == 1
        office_time = day.at("16:00")
        office_push(server, "visit", visit_id, {"scheduled_at": office_time.astimezone(UTC).isoformat()},
                    version_of(server, visit_id))
        context.set_offline(False)
        sync_now(page)
        wait_synced(page)
        text = card(page, visit_id).inner_text()
        assert "16:00" in text and "15:00" in text, text
        assert "(from the office) was kept." in text and "(yours, from this phone) was not applied" in text
        # Neither UTC (08:00, 07:00) nor the phone's own clock (09:00, 08:00), nor a machine value.
        for wrong in ("08:00", "07:00", "09:00", "+00:00", "T0", "Z"):
            assert wrong not in text, (wrong, text)
        shot(page, screenshots, "trust-06-conflict-appointment-local-time")
    finally:
        context.close()


def test_a_finished_visit_corrected_offline_with_a_reason_and_the_trail_the_supervisor_reads(
        chromium_browser, server, day, screenshots):
    context = new_phone(chromium_browser, server)
    sup_context = None
    try:
        page = context.new_page()
        login(page, username_of(day, server))
        visit_id = day.visits["14:10"]
        open_visit(page, visit_id)
        record_done(page, result="paid_partial", payment="1500")
        wait_synced(page)
        [(payment_id,)] = server.query("SELECT id FROM payments WHERE visit_id = ?", (visit_id,))

        # The office rejects the money, with its reason.
        sup_context, sup = supervisor_page(chromium_browser, server)
        sup.goto("/supervisor/payments")
        form = sup.locator(f"form[action$='/payments/{payment_id}/review']")
        form.locator("input[name=note]").fill("No receipt was handed in")
        form.locator("button[name=reject]").click()
        sup.wait_for_selector("p.flash-ok")
        sync_now(page)
        wait_synced(page)
        open_visit(page, visit_id)
        status = page.locator("[data-testid=visit] [data-payment-status=rejected]")
        assert status.inner_text() == "Rejected by the office The office’s reason: No receipt was handed in"
        page.goto(f"/#/account/{day.accounts['DAY-03']}")
        listed = page.locator(f"[data-payment-id='{payment_id}']")
        assert "Rejected by the office The office’s reason: No receipt was handed in" in listed.inner_text()
        listed.scroll_into_view_if_needed()
        shot(page, screenshots, "trust-07-account-payment-rejected")

        # Offline, she corrects the record: no reason, no correction.
        context.set_offline(True)
        open_visit(page, visit_id)
        page.click("[data-testid=amend-open]")
        assert page.locator("[data-testid=amend-form] select[name=status]").count() == 0
        page.select_option("#a-result", "promise_to_pay")
        page.fill("#a-promise_amount", "3000")
        page.fill("#a-promise_date", (datetime.now(TAIPEI).date() + timedelta(days=5)).isoformat())
        page.fill("#a-amendment_reason", " \u200b ")
        page.click("[data-testid=amend-save]")
        assert "Write the reason (at least three letters or digits)." in \
            page.locator("[data-testid=amend-form]").inner_text()
        assert pending_count(page) == 0
        page.fill("#a-amendment_reason", "She promised the rest by Friday")
        shot(page, screenshots, "trust-08-amend-form")
        page.click("[data-testid=amend-save]")
        page.wait_for_selector("[data-testid=amendment-trail] [data-pending]")
        assert pending_count(page) == 1
        trail = page.locator("[data-testid=amendment-trail]").inner_text()
        assert "Waiting to be sent" in trail and "She promised the rest by Friday" in trail
        assert "Result: “Paid in part” → “Promised to pay”" in trail, trail
        shot(page, screenshots, "trust-09-amend-pending")

        context.set_offline(False)
        sync_now(page)
        wait_synced(page)
        page.wait_for_selector("[data-testid=amendment-trail] [data-version]")
        trail = page.locator("[data-testid=amendment-trail]").inner_text()
        assert "Why: She promised the rest by Friday" in trail and "Collector" in trail
        assert "Promised to pay" in trail and "NT$3,000" in trail, trail
        assert page.locator("[data-testid=visit]").get_attribute("data-visit-status") == "done"
        shot(page, screenshots, "trust-10-amend-trail-phone")

        # The supervisor reads the same trail on the visit page.
        sup.goto(f"/supervisor/visits/{visit_id}")
        office_trail = sup.locator("[data-testid=amendment-trail]").inner_text()
        assert "She promised the rest by Friday" in office_trail
        assert "Paid in part" in office_trail and "Promised to pay" in office_trail
        assert "NT$3,000" in office_trail
        sup.locator("#amend").screenshot(path=str(screenshots / "trust-11-amend-trail-supervisor.png"))
        sup.click("#amend summary")
        form = sup.locator("[data-testid=amend-form]")
        assert form.locator("select[name=result]").input_value() == "promise_to_pay"
        assert form.locator("input[name=promise_amount]").input_value() == "3000"
        assert form.locator("[name=status]").count() == 0
        sup.locator("#amend").screenshot(path=str(screenshots / "trust-12-amend-form-supervisor.png"))
        assert sup.problems == []
    finally:
        context.close()
        if sup_context:
            sup_context.close()


def test_a_far_check_in_asks_first_and_a_redone_check_in_keeps_the_earlier(chromium_browser, server, day,
                                                                           screenshots):
    context = new_phone(chromium_browser, server, geolocation=FAR)
    sup_context = None
    try:
        page = context.new_page()
        login(page, username_of(day, server))
        visit_id = day.visits["11:15"]
        open_visit(page, visit_id)
        page.click("[data-testid=check-in]")
        question = page.locator("[data-testid=far-checkin]")
        question.wait_for()
        assert "You are 6 km from the address on file — check in anyway?" in question.inner_text()
        shot(page, screenshots, "trust-13-far-checkin-en")
        page.click("[data-testid=checkin-not-now]")
        assert "Not checked in." in page.locator("[data-testid=visit]").inner_text()
        assert not [e for e in outbox(page) if e["record_id"] == visit_id]

        page.goto("/#/sync")
        page.select_option("[data-testid=language]", "zh-TW")
        expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
        open_visit(page, visit_id)
        page.click("[data-testid=check-in]")
        question.wait_for()
        assert "你距離登記地址 6 公里，仍要報到嗎？" in question.inner_text()
        shot(page, screenshots, "trust-14-far-checkin-zh")
        page.click("[data-testid=checkin-anyway]")
        page.wait_for_selector("form.outcome")
        page.goto("/#/sync")
        page.select_option("[data-testid=language]", "en")
        [entry] = [e for e in outbox(page) if e["record_id"] == visit_id]
        fields = entry["fields"]
        assert fields["checkin_accuracy_m"] == 35 and fields["checkin_fix_age_s"] >= 0
        assert round(fields["checkin_lat"], 4) == round(FAR["latitude"], 4)

        # Redone near the shop before the visit is recorded: the arrival time stays.
        context.set_geolocation(NEAR)
        open_visit(page, visit_id)
        page.click("[data-testid=check-in-again]")
        deadline = time.monotonic() + 10
        while len([e for e in outbox(page) if e["record_id"] == visit_id]) < 2:
            assert time.monotonic() < deadline, outbox(page)
            page.wait_for_timeout(100)
        redo = [e for e in outbox(page) if e["record_id"] == visit_id][-1]["fields"]
        assert "arrived_at" not in redo and redo["checkin_accuracy_m"] == 9
        wait_synced(page)
        facts = page.locator(".checkin-facts").inner_text()
        assert "±9 m" in facts and "fix" in facts
        shot(page, screenshots, "trust-15-checkin-redone")
        flags = server.query("SELECT flags FROM visits WHERE id = ?", (visit_id,))[0][0]
        assert "far_from_site" not in flags

        sup_context, sup = supervisor_page(chromium_browser, server)
        sup.goto(f"/supervisor/visits/{visit_id}")
        checkins = sup.locator("[data-testid=checkins]").inner_text()
        assert "±35 m" in checkins and "±9 m" in checkins
        assert "Check-ins (2)" in sup.content()
    finally:
        context.close()
        if sup_context:
            sup_context.close()
