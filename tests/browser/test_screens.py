"""Screens that the flow tests do not reach, the shell budget, and the
service worker's precache list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .helpers import login, shot

PWA = Path(__file__).resolve().parents[2] / "pwa"


def test_shell_stays_under_150_kb():
    files = [p for p in PWA.rglob("*") if p.suffix in {".html", ".css", ".js"}]
    total = sum(p.stat().st_size for p in files)
    assert total < 150 * 1024, f"app shell is {total / 1024:.1f} KB"


def test_every_shell_file_is_precached_and_versions_agree():
    sw = (PWA / "sw.js").read_text()
    listed = set(re.findall(r"'(/[^']*)'", sw.split("const SHELL = [", 1)[1].split("];", 1)[0]))
    wanted = {"/" + p.relative_to(PWA).as_posix() for p in PWA.rglob("*")
              if p.is_file() and p.suffix in {".html", ".css", ".js", ".png", ".svg", ".webmanifest"}
              and p.name != "sw.js"}
    assert wanted - listed == set(), "files missing from the precache list"
    assert listed - wanted - {"/"} == set(), "precache list names files that do not exist"
    sw_version = re.search(r"const VERSION = '([^']+)'", sw).group(1)
    app_version = re.search(r"APP_VERSION = '([^']+)'", (PWA / "js/version.js").read_text()).group(1)
    assert sw_version == app_version


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
    page.wait_for_function("document.documentElement.lang === 'zh-TW'")
    page.goto("/#/today")
    page.wait_for_selector("[data-testid=today]")
    assert "今日" in page.inner_text("#nav")
    shot(page, screenshots, "14-today-zh-TW")
    first = page.locator("li.stop-planned [data-testid=open-visit]").first
    first.click()
    page.click("[data-testid=check-in]")
    page.wait_for_selector("form.outcome")
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
    page.click("li.stop-planned [data-testid=open-visit]")
    assert small_targets(page) == []
    page.click("[data-testid=check-in]")
    page.wait_for_selector("form.outcome")
    page.check("input[name=met][value=other_person]")
    page.select_option("#f-result", "promise_to_pay")
    page.check("#f-paid")
    assert small_targets(page) == []
    page.goto("/#/sync")
    page.wait_for_selector("[data-testid=sync]")
    assert small_targets(page) == []
