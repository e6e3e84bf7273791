"""Screens that the flow tests do not reach, the shell budget, and the
service worker's precache list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.shell import build_shell

from .helpers import check_in, login, open_stop_to_check_in, shot


def test_first_screen_downloads_stay_under_64_kb_compressed():
    # What a phone downloads to show the first screen: the page, its style
    # sheet and every module it preloads, as the server sends them (gzip).
    # Photo uploads load with the first sync round, not with the screen.
    shell = build_shell()
    sent = [shell.index, shell.files["css/app.css"]] + [shell.files[m] for m in shell.first_screen_modules]
    total = sum(len(asset.gzipped or asset.body) for asset in sent)
    assert total < 64 * 1024, f"first screen is {total / 1024:.1f} KB compressed"


@pytest.mark.browser
def test_screens_in_both_languages(phone, server, screenshots):
    page = phone.new_page()
    page.goto("/")
    page.wait_for_selector("[data-testid=login]")
    shot(page, screenshots, "01-login")
    login(page, "bob")

    page.goto("/#/accounts")
    page.wait_for_selector("[data-testid=accounts]")
    shot(page, screenshots, "13-accounts")

    # Traditional Chinese, switched in the app.
    page.goto("/#/sync")
    page.select_option("[data-testid=language]", "zh-TW")
    expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
    page.goto("/#/today")
    page.wait_for_selector("[data-testid=today]")
    assert "今日" in page.inner_text("#nav")
    shot(page, screenshots, "14-today-zh-TW")
    open_stop_to_check_in(page)
    check_in(page)
    page.check("input[name=met][value=other_person]")
    page.check("#f-other_guests_present")
    page.click("[data-testid=save-visit]")  # shows what is missing
    shot(page, screenshots, "15-visit-form-errors-zh-TW")
    assert page.locator(".form-error").inner_text()
    page.goto("/#/sync")
    page.wait_for_selector("[data-testid=sync]")
    shot(page, screenshots, "16-sync-zh-TW")


TAPPABLE = ("button, a.btn, .tabbar a, a.back, a.phone, summary, label.choice, label.check, select, "
            "input:not([type=checkbox]):not([type=radio])")


def small_targets(page) -> list[str]:
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter((el) => el.offsetParent !== null)
        .map((el) => [el, el.getBoundingClientRect()])
        .filter(([, r]) => r.height < 44 || r.width < 44)
        .map(([el, r]) => `${el.tagName}.${el.className} ${Math.round(r.width)}x${Math.round(r.height)}`)""", TAPPABLE)


@pytest.mark.browser
def test_touch_targets_and_no_layout_shift(phone, server):
    page = phone.new_page()
    login(page, "alice")
    assert page.locator(TAPPABLE).count() > 10
    assert small_targets(page) == []
    # Reload and measure layout shift while IndexedDB opens and the day renders.
    page.reload()
    page.wait_for_selector("[data-testid=today]")
    shift = page.evaluate("""() => new Promise((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => { for (const e of list.getEntries()) total += e.value; })
            .observe({ type: 'layout-shift', buffered: true });
        setTimeout(() => resolve(total), 800);
    })""")
    assert shift < 0.1, f"cumulative layout shift {shift}"
    open_stop_to_check_in(page)
    assert small_targets(page) == []
    check_in(page)
    page.check("input[name=met][value=other_person]")
    page.select_option("#f-result", "promise_to_pay")
    page.check("#f-paid")
    assert small_targets(page) == []
    page.goto("/#/sync")
    page.wait_for_selector("[data-testid=sync]")
    assert small_targets(page) == []
