"""The collector app end to end: offline use, the outbox, exactly-once sync,
conflicts, refusals, two tabs, and a screenshot of every main screen."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from .helpers import (
    check_in,
    login,
    outbox,
    pending_count,
    session_of,
    shot,
    sync_now,
    wait_for_service_worker,
    wait_synced,
)

pytestmark = pytest.mark.browser

TAIPEI = timezone(timedelta(hours=8))


def taipei_date(days: int = 0) -> str:
    return (datetime.now(TAIPEI) + timedelta(days=days)).strftime("%Y-%m-%d")


def planned_visit_ids(page) -> list[str]:
    page.goto("/#/today")
    page.wait_for_selector("[data-testid=today]")
    return page.eval_on_selector_all("li.stop-planned", "els => els.map(e => e.dataset.visitId)")


def open_visit(page, visit_id: str) -> None:
    page.goto(f"/#/visit/{visit_id}")
    page.wait_for_selector("[data-testid=visit]")


def record_outcome(page, *, met="original_contact", met_name=None, result, promise=None, payment=None,
                   notes=None, screenshots=None, shot_name=None) -> None:
    page.check(f"input[name=met][value={met}]")
    if met_name:
        page.fill("#f-met_name", met_name)
    if met == "other_person":  # who the person is to the customer (third-party guard)
        page.select_option("#f-met_relation", "employee")
    page.select_option("#f-result", result)
    if promise:
        page.fill("#f-promise_amount", promise[0])
        page.fill("#f-promise_date", promise[1])
    if payment:
        if not page.is_checked("#f-paid"):
            page.check("#f-paid")
        page.fill("#f-pay_amount", payment[0])
        page.select_option("#f-pay_method", payment[1])
    if notes:
        page.fill("#f-notes", notes)
    page.check("#f-conduct")
    if screenshots is not None:
        shot(page, screenshots, shot_name)
    page.click("[data-testid=save-visit]")
    page.wait_for_selector("[data-testid=visit][data-visit-status=done]")


def count(server, table: str, record_id: str) -> int:
    return server.query(f"SELECT COUNT(*) FROM {table} WHERE id = ?", (record_id,))[0][0]


def last_seq(server, client_id: str):
    rows = server.query("SELECT last_seq FROM clients WHERE client_id = ?", (client_id,))
    return rows[0][0] if rows else None


def test_offline_visits_are_kept_and_synced_exactly_once(phone, server, screenshots):
    page = phone.new_page()
    login(page, "alice")
    wait_for_service_worker(page)
    shot(page, screenshots, "02-today")

    # Offline from here: the app must still open.
    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=today]")
    assert page.locator("[data-testid=sync-pill]").inner_text().startswith("Offline")
    visits = planned_visit_ids(page)
    assert len(visits) >= 3, "the demo plans at least three visits for today"
    promise_visit, paid_visit, nobody_visit = visits[:3]

    open_visit(page, promise_visit)
    shot(page, screenshots, "04-visit-check-in")
    check_in(page)
    record_outcome(page, result="promise_to_pay", promise=("5000", taipei_date(3)),
                   notes="Owner agreed to pay after the month-end receipts.",
                   screenshots=screenshots, shot_name="05-visit-form")
    shot(page, screenshots, "06-visit-done")

    open_visit(page, paid_visit)
    check_in(page)
    record_outcome(page, met="other_person", met_name="Mr. Lee, accountant", result="paid_partial",
                   payment=("1500", "cash"))

    open_visit(page, nobody_visit)
    check_in(page)
    record_outcome(page, met="nobody", result="premises_closed")

    entries = outbox(page)
    waiting = [e for e in entries if e["state"] == "pending"]
    assert {e["entity"] for e in waiting} >= {"visit", "payment"}
    payment_ids = [e["record_id"] for e in waiting if e["entity"] == "payment"]
    assert len(payment_ids) == 1
    client_id = session_of(page)["client_id"]

    # Close the page and open it again, still offline: everything is still queued.
    page.close()
    page = phone.new_page()
    page.goto("/#/sync")
    page.wait_for_selector("[data-testid=sync]")
    assert pending_count(page) == len(waiting)
    assert page.locator("[data-testid=waiting-count] dd").inner_text() == str(len(waiting))
    shot(page, screenshots, "07-sync-offline-waiting")

    # Back online: the app syncs by itself (the `online` event), exactly once.
    phone.set_offline(False)
    wait_synced(page, timeout=20)
    for visit_id in (promise_visit, paid_visit, nobody_visit):
        assert count(server, "visits", visit_id) == 1
        assert server.query("SELECT status FROM visits WHERE id = ?", (visit_id,))[0][0] == "done"
    assert count(server, "payments", payment_ids[0]) == 1
    amount = server.query("SELECT amount FROM payments WHERE id = ?", (payment_ids[0],))[0][0]
    assert amount == 150000
    assert server.query("SELECT COUNT(*) FROM promises WHERE visit_id = ?", (promise_visit,))[0][0] == 1
    highest = max(e["seq"] for e in entries)
    assert last_seq(server, client_id) == highest
    assert all(e["state"] == "sent" for e in outbox(page))

    # Another round (and a reload) changes nothing on the server.
    sync_now(page)
    page.reload()
    page.wait_for_selector("[data-testid=sync]")
    sync_now(page)
    assert last_seq(server, client_id) == highest
    for visit_id in (promise_visit, paid_visit, nobody_visit):
        assert count(server, "visits", visit_id) == 1
    assert page.locator("[data-testid=waiting-count] dd").inner_text() == "0"
    shot(page, screenshots, "08-sync-all-sent")

    # The account view shows the history and the promise from the server.
    account_id = server.query("SELECT account_id FROM visits WHERE id = ?", (promise_visit,))[0][0]
    page.goto(f"/#/account/{account_id}")
    page.wait_for_selector("[data-testid=account]")
    assert page.locator(f"[data-visit-id='{promise_visit}']").count() == 1
    assert page.locator("[data-promise-id]").count() >= 1
    shot(page, screenshots, "09-account")


def pull_everything(server, token: str) -> dict:
    records, cursor = {}, None
    while True:
        path = "/sync/pull?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        status, page = server.api("GET", path, token=token)
        assert status == 200, page
        for change in page["changes"]:
            records[(change["entity"], change["id"])] = change
        cursor = page["cursor"]
        if not page["has_more"]:
            return records


def test_a_concurrent_supervisor_edit_shows_as_a_conflict(phone, server, screenshots):
    page = phone.new_page()
    login(page, "carol")
    visit_id = planned_visit_ids(page)[0]

    # The phone, offline, changes the visit's notes...
    phone.set_offline(True)
    page.goto(f"/#/visit/{visit_id}")
    page.click("[data-testid=edit-plan]")
    page.wait_for_selector("[data-testid=plan-form]")
    page.fill("#plan-notes", "Phone: ring the bell at the back door.")
    shot(page, screenshots, "03-plan-form")
    page.click("[data-testid=save-plan]")
    page.wait_for_selector("[data-testid=visit]")
    assert pending_count(page) == 1

    # ...while a supervisor changes the same field, later, from the office.
    supervisor = server.login("supervisor")
    change = pull_everything(server, supervisor["token"])[("visit", visit_id)]
    office_client = str(uuid.uuid4())
    hlc = f"{int(time.time() * 1000) + 60_000:013d}:0000:{office_client}"
    status, answer = server.api("POST", "/sync/push", {"client_id": office_client, "mutations": [{
        "seq": 1, "hlc": hlc, "entity": "visit", "id": visit_id, "base_version": change["version"],
        "fields": {"plan_notes": "Office: customer asked for a call first."}}]}, token=supervisor["token"])
    assert status == 200 and answer["results"][0]["status"] in ("applied", "merged"), answer

    phone.set_offline(False)
    sync_now(page)
    wait_synced(page)
    [entry] = [e for e in outbox(page) if e["record_id"] == visit_id]
    assert entry["state"] == "conflict", entry

    page.goto("/#/sync")
    card = page.locator("[data-problem=conflict]")
    card.wait_for()
    assert "Office: customer asked for a call first." in card.inner_text()
    assert "Phone: ring the bell" in card.inner_text()
    assert page.locator("#nav-sync-badge").inner_text() == "1"
    shot(page, screenshots, "10-sync-conflict")

    # The phone now shows the value the office kept, and the conflict badge.
    page.goto("/#/today")
    stop = page.locator(f"li.stop[data-visit-id='{visit_id}']")
    assert "Office: customer asked for a call first." in stop.inner_text()
    assert stop.locator("[data-sync-state=conflict]").count() == 1
    shot(page, screenshots, "11-today-conflict")

    # Seen: it leaves the alert list but stays in the outbox.
    page.goto("/#/sync")
    page.click("[data-problem=conflict] [data-testid=problem-seen]")
    page.wait_for_selector("[data-problem=conflict]", state="detached")
    assert any(e["record_id"] == visit_id and e["seen"] for e in outbox(page))


def test_a_refused_change_shows_with_the_servers_reason(phone, server, screenshots):
    page = phone.new_page()
    login(page, "bob")
    visit_id = planned_visit_ids(page)[0]
    # The form would never allow "done" without the outcome and the conduct
    # confirmation; put such a change through the app's own outbox instead.
    page.evaluate("""async (id) => {
        const { currentSession } = await import(window.fieldvisit.moduleBase + 'session.js');
        const { recordChanges } = await import(window.fieldvisit.moduleBase + 'outbox.js');
        await recordChanges(await currentSession(), [{ entity: 'visit', id, fields: { status: 'done' } }]);
    }""", visit_id)
    sync_now(page)
    [entry] = [e for e in outbox(page) if e["record_id"] == visit_id]
    assert entry["state"] == "rejected", entry
    errors = entry["result"]["errors"]
    assert errors
    assert server.query("SELECT COUNT(*) FROM rejected_mutations")[0][0] >= 1

    page.goto("/#/sync")
    card = page.locator("[data-problem=rejected]")
    card.wait_for()
    text = card.inner_text()
    first_message = next(iter(errors.values()))
    first_message = first_message[0] if isinstance(first_message, list) else first_message
    assert str(first_message) in text
    shot(page, screenshots, "12-sync-rejected")

    # The refused change is not shown as if it had happened.
    open_visit(page, visit_id)
    assert page.locator("[data-testid=visit]").get_attribute("data-visit-status") == "planned"
    assert page.locator("[data-problem=rejected]").count() == 1


def test_two_tabs_never_push_the_same_mutation_twice(phone, server):
    first = phone.new_page()
    login(first, "alice")
    second = phone.new_page()
    second.goto("/#/today")
    second.wait_for_selector("[data-testid=today]")
    visits = planned_visit_ids(first)
    client_id = session_of(first)["client_id"]

    pushes: list[dict] = []
    phone.on("request", lambda r: pushes.append(r.post_data_json) if r.url.endswith("/api/v1/sync/push") else None)

    phone.set_offline(True)
    for i, visit_id in enumerate(visits):
        page = first if i % 2 == 0 else second
        page.evaluate("""async ([id, note]) => {
            const { currentSession } = await import(window.fieldvisit.moduleBase + 'session.js');
            const { recordChanges } = await import(window.fieldvisit.moduleBase + 'outbox.js');
            await recordChanges(await currentSession(), [{ entity: 'visit', id, fields: { plan_notes: note } }]);
        }""", [visit_id, f"tab note {i}"])
    queued = [e["seq"] for e in outbox(first) if e["state"] == "pending"]
    assert len(queued) == len(visits)

    # Both tabs see the connection return at once and also get a manual nudge.
    phone.set_offline(False)
    for page in (first, second):
        page.evaluate("() => { import(window.fieldvisit.moduleBase + 'sync.js').then((m) => m.syncNow({ reason: 'manual' })); }")
    wait_synced(first)
    wait_synced(second)

    sent = [m["seq"] for body in pushes for m in body["mutations"]]
    assert sorted(sent) == sorted(set(sent)), f"a seq was pushed twice: {sent}"
    assert set(queued) <= set(sent)
    assert last_seq(server, client_id) == max(queued)


def test_signing_out_keeps_unsent_changes_and_the_client_id(phone, server):
    page = phone.new_page()
    login(page, "carol")
    client_id = session_of(page)["client_id"]
    visit_id = planned_visit_ids(page)[-1]
    phone.set_offline(True)
    page.evaluate("""async (id) => {
        const { currentSession } = await import(window.fieldvisit.moduleBase + 'session.js');
        const { recordChanges } = await import(window.fieldvisit.moduleBase + 'outbox.js');
        await recordChanges(await currentSession(), [{ entity: 'visit', id, fields: { plan_notes: 'kept over sign-out' } }]);
    }""", visit_id)
    page.goto("/#/sync")
    messages = []
    page.on("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.click("[data-testid=logout]")
    page.wait_for_selector("[data-testid=login]")
    assert messages and "Unsent changes: 1" in messages[0]

    # Signed out: the accounts are gone from the phone, the outbox entry is not.
    left = page.evaluate("""async (cid) => {
        const db = await import(window.fieldvisit.moduleBase + 'db.js');
        const { entriesOf } = await import(window.fieldvisit.moduleBase + 'outbox.js');
        return { outbox: (await entriesOf(cid)).filter((e) => e.state === 'pending').length,
                 accounts: (await db.getAll('accounts')).length };
    }""", client_id)
    assert left == {"outbox": 1, "accounts": 0}

    phone.set_offline(False)
    login(page, "carol")
    assert session_of(page)["client_id"] == client_id
    notes = server.query("SELECT plan_notes FROM visits WHERE id = ?", (visit_id,))[0][0]
    assert notes == "kept over sign-out"
