"""Steps the browser tests share: signing in, waiting for sync, reading the
app's own IndexedDB through its modules."""

from __future__ import annotations

import time

from .conftest import DEMO_PASSWORD


def login(page, username: str) -> None:
    page.goto("/")
    page.wait_for_selector("[data-testid=login]")
    page.fill("#login-username", username)
    page.fill("#login-password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=today]")
    wait_synced(page)


def wait_until(page, expression: str, timeout: float = 15.0, arg=None) -> None:
    """Poll ``expression`` until it is true. ``page.wait_for_function``
    evaluates a string inside the page, which the app's Content-Security-
    Policy forbids (no eval); ``page.evaluate`` runs it from outside."""
    deadline = time.monotonic() + timeout
    while not (page.evaluate(expression) if arg is None else page.evaluate(expression, arg)):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


def wait_for_service_worker(page) -> None:
    """Until the shell is cached and the worker controls the page."""
    wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")


def outbox(page) -> list[dict]:
    return page.evaluate("""async () => {
        const { currentSession } = await import(window.fieldvisit.moduleBase + 'session.js');
        const { entriesOf } = await import(window.fieldvisit.moduleBase + 'outbox.js');
        const s = await currentSession();
        return s ? entriesOf(s.client_id) : [];
    }""")


def pending_count(page) -> int:
    return sum(1 for e in outbox(page) if e["state"] == "pending")


def sync_now(page) -> dict:
    return page.evaluate("async () => (await import(window.fieldvisit.moduleBase + 'sync.js')).syncNow({ reason: 'manual' })")


def wait_synced(page, timeout: float = 15) -> None:
    """Until nothing is pending and a sync round has succeeded."""
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate("""async () => {
            const db = await import(window.fieldvisit.moduleBase + 'db.js');
            const last = await db.getValue('meta', 'lastSync', null);
            return { last };
        }""")
        if state["last"] and pending_count(page) == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"app did not sync within {timeout}s: {state}")
        time.sleep(0.2)


def session_of(page) -> dict:
    return page.evaluate("async () => (await import(window.fieldvisit.moduleBase + 'session.js')).currentSession()")


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=False)


def check_in(page) -> None:
    """Press "Check in now" and answer yes when the phone asks first: the
    browser's fixed position is farther than the geofence from most of the
    demo's shops, and a far check-in is confirmed before it is recorded."""
    page.click("[data-testid=check-in]")
    page.wait_for_selector("form.outcome, [data-testid=far-checkin]")
    if page.locator("[data-testid=far-checkin]").count():
        page.click("[data-testid=checkin-anyway]")
    page.wait_for_selector("form.outcome")


def open_stop_to_check_in(page) -> None:
    """Open the first of today's planned stops not checked in yet. The
    browser tests share one server, and earlier tests check in at stops of
    their own."""
    links = page.locator("li.stop-planned [data-testid=open-visit]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        page.goto("/" + href if href.startswith("#") else href)
        page.wait_for_selector("[data-testid=visit]")
        if page.locator("[data-testid=check-in]").count():
            return
    raise AssertionError("no planned stop left to check in at")
