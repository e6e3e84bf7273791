"""The collector app runs whole under its strict Content-Security-Policy
(``server/pwa_files.py``): signing in, the day's plan, a sync and the
service worker, with no script, style, image or connection refused."""

from __future__ import annotations

import pytest

from .helpers import login, sync_now, wait_for_service_worker

pytestmark = pytest.mark.browser


def test_the_app_works_under_its_csp_without_a_single_violation(phone, server):
    page = phone.new_page()
    violations, console = [], []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script("""
        document.addEventListener('securitypolicyviolation', (event) => {
            (window.__cspViolations = window.__cspViolations || []).push(
                event.violatedDirective + ' ' + event.blockedURI);
        });
    """)
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    login(page, "alice")
    wait_for_service_worker(page)
    sync_now(page)
    for route in ("#/today", "#/accounts", "#/sync"):
        page.goto("/" + route)
        page.wait_for_load_state("networkidle")
        violations += page.evaluate("window.__cspViolations || []")
    assert violations == []
    assert not [text for text in console if "Content Security Policy" in text]
