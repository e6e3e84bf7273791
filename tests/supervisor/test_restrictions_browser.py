"""The account page's contact restrictions in a real browser (headless
Chromium) with the demo data, at desktop and phone widths, in both
languages: the demo's do-not-visit period is listed, a new one is added and
removed, and the page never gets wider than a phone. Screenshots go to
``test-artifacts/screenshots/supervisor/``."""

from __future__ import annotations

import pytest

from server.services.demo import DEMO_PASSWORD

from .test_browser import SHOTS, VIEWPORTS, _fits, live_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def _sign_in(page, base):
    page.goto(f"{base}/supervisor/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form#login button[type=submit]")
    page.wait_for_url(f"{base}/supervisor/")


def _account_with_a_period(page, base) -> str:
    """The demo's account whose customer asked for a period (found by its page)."""
    page.goto(f"{base}/supervisor/accounts")
    for href in page.eval_on_selector_all("#accounts tbody td a", "els => els.map(e => e.href)"):
        page.goto(href)
        if page.locator("#do-not-visit tbody tr").count():
            return href
    raise AssertionError("the demo has no account with a do-not-visit period")


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_the_account_pages_restrictions(live_server, chromium_browser, lang):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server
    for name, viewport in VIEWPORTS.items():
        context = chromium_browser.new_context(
            viewport=viewport, locale="zh-TW" if lang != "en" else "en-US",
            is_mobile=name == "phone", has_touch=name == "phone")
        problems = []
        page = context.new_page()
        page.on("console", lambda m, found=problems: found.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, found=problems: found.append(str(e)))
        try:
            _sign_in(page, base)
            href = _account_with_a_period(page, base)
            section = page.locator("#restrictions")
            assert "Family wedding" in section.inner_text()
            assert ("Do not visit" if lang == "en" else "勿訪期間") in section.inner_text()
            assert ("Taiwan (TW)" if lang == "en" else "台灣 (TW)") in section.inner_text()
            if name == "desktop":
                page.fill("#add-window input[name=from_date]", "2027-01-10")
                page.fill("#add-window input[name=to_date]", "2027-01-11")
                page.fill("#add-window input[name=reason]", "In hospital 住院")
                page.click("#add-window button[type=submit]")
                page.wait_for_url(f"{href}#restrictions")
                assert page.locator("#do-not-visit tbody tr").count() == 2
            suffix = "" if lang == "en" else "-zh"
            section.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"account-restrictions-{name}{suffix}.png"),
                            full_page=True)
            _fits(page, name)
            if name == "phone":
                rows = page.locator("#do-not-visit tbody tr")
                before = rows.count()
                page.locator("#do-not-visit tbody tr").last.locator("button").click()
                page.wait_for_url(f"{href}#restrictions")
                assert page.locator("#do-not-visit tbody tr").count() == before - 1
            assert problems == []
        finally:
            context.close()
