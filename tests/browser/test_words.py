"""Every main screen, in English and in Traditional Chinese, read the way a
collector reads it: no code in place of a word, no "1 … s", no Taiwan
dollar with cents or without its NT$ — and a screenshot of each."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from server.labels import groups

from .day import TAIPEI, build_day
from .helpers import check_in, login, shot
from .test_day import new_phone

pytestmark = pytest.mark.browser

SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ONE_PLURAL = re.compile(
    r"\b1 (?:accounts|days|visits|stops|minutes|mins|tries|changes|rows|records|promises|payments|"
    r"places|items|hours|need|have|refusals|conflicts)\b")
TWD_CENTS = re.compile(r"NT\$\s?-?[\d,]+\.\d")
BARE_DOLLAR = re.compile(r"(?<![A-Za-z])\$\s?\d")      # "$1,213,800": NT$ or US$ always say which
CODES = {code for table in groups().values() for code in table}
# English words of the app's own chrome that must not remain on a Chinese screen.
ENGLISH_CHROME = ("Today", "Accounts", "Sync", "Directions", "Open visit", "Next stop", "Missed",
                  "Leave in", "Synced", "Offline", "waiting", "Search", "Plan a new time")


def screen_text(page) -> tuple[str, list[str]]:
    """The visible text, plus labels a screen reader reads, and the short
    labelled bits (badges, warnings, options) that must never be a code."""
    return page.evaluate("""() => {
        const extra = [...document.querySelectorAll('[aria-label], [title], [placeholder], img[alt]')]
            .filter((e) => e.offsetParent !== null)
            .map((e) => ['aria-label', 'title', 'placeholder', 'alt'].map((a) => e.getAttribute(a) || '').join(' '));
        const bits = [...document.querySelectorAll('.badge, .warning, select option, .pill, .countdown, dd')]
            .map((e) => e.textContent.replace(/^⚠\\s*/, '').trim());
        return [document.body.innerText + '\\n' + extra.join('\\n'), bits];
    }""")


def word_problems(page, lang: str) -> list[str]:
    text, bits = screen_text(page)
    found = [f"code {m}" for m in SNAKE_CASE.findall(text)]
    found += [f"plural {m}" for m in ONE_PLURAL.findall(text)]
    found += [f"cents {m}" for m in TWD_CENTS.findall(text)]
    found += [f"bare dollar {m}" for m in BARE_DOLLAR.findall(text)]
    found += [f"code as label {b!r}" for b in bits if b in CODES]
    if lang == "zh-TW":
        # Customer names and addresses are in English too; the app's own words are not.
        chrome = "\n".join(page.eval_on_selector_all(
            ".topbar, .tabbar, .btn, .badge, .countdown, .section-title, h1, h2, label, .summary, .hint",
            "els => els.filter((e) => e.offsetParent !== null).map((e) => e.innerText)"))
        found += [f"english {w!r}" for w in ENGLISH_CHROME if re.search(rf"\b{w}\b", chrome)]
    return found


def screens(day):
    return [
        ("today", "#/today", None),
        ("accounts", "#/accounts", None),
        ("account", f"#/account/{day.accounts['DAY-01']}", None),
        ("visit-before", f"#/visit/{day.visits['15:40']}", None),
        ("visit-missed", f"#/visit/{day.visits['11:15']}", None),
        ("visit-record", f"#/visit/{day.visits['09:40']}", None),
        ("plan", f"#/plan/{day.accounts['DAY-06']}", None),
        ("map", "#/map", "[data-map-state=ready]"),
        ("sync", "#/sync", None),
    ]


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_every_screen_speaks_words_not_codes(chromium_browser, server, lang, screenshots):
    today = datetime.now(TAIPEI).date()
    username = "words" + lang.replace("-", "").lower()
    day = build_day(server, today, username=username)
    context = new_phone(chromium_browser, server, day, lang=lang)
    problems: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_selector("[data-testid=login]")
        problems["login"] = word_problems(page, lang)
        shot(page, screenshots, f"30-{lang}-login")
        login(page, username)
        for name, route, ready in screens(day):
            page.goto("/" + route)
            page.wait_for_selector("main[aria-busy=false] section.view")
            if ready:
                page.wait_for_selector(ready, timeout=15_000)
            page.wait_for_timeout(200)
            problems[name] = word_problems(page, lang)
            shot(page, screenshots, f"30-{lang}-{name}")

        # The outcome form, with the parts that open up on choices.
        page.goto(f"/#/visit/{day.visits['15:40']}")
        check_in(page)
        page.check("input[name=met][value=other_person]")
        page.select_option("#f-result", "promise_to_pay")
        page.check("#f-paid")
        page.click("[data-testid=save-visit]")  # shows what is missing, counted
        problems["visit-form"] = word_problems(page, lang)
        shot(page, screenshots, f"30-{lang}-visit-form-errors")
        page.select_option("#f-result", "rescheduled")
        problems["visit-form-follow-up"] = word_problems(page, lang)
        page.locator("[data-testid=follow-up]").scroll_into_view_if_needed()
        shot(page, screenshots, f"30-{lang}-visit-form-follow-up")

        # Offline: the header and the map's list.
        context.set_offline(True)
        page.goto("/#/map")
        page.wait_for_selector("[data-map-state=fallback]")
        problems["map-offline"] = word_problems(page, lang)
        shot(page, screenshots, f"30-{lang}-map-offline")
    finally:
        context.close()
    assert {k: v for k, v in problems.items() if v} == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_the_scan_catches_what_it_looks_for():
    # The checks themselves, on the texts the issue found.
    assert SNAKE_CASE.findall("⚠ tight_schedule") == ["tight_schedule"]
    assert ONE_PLURAL.findall("1 need attention · 1 rows have errors") == ["1 need", "1 rows"]
    assert BARE_DOLLAR.findall("$1,213,800.00") and not BARE_DOLLAR.findall("NT$1,213,800")
    assert TWD_CENTS.findall("NT$1,213,800.00") and not TWD_CENTS.findall("NT$1,213,800")
