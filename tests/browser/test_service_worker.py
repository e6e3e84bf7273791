"""The service worker: an update is offered, not forced, and accepting it
keeps every unsent record (they live in IndexedDB, never in the cache).

Playwright cannot intercept the browser's own fetch of a worker script, so
the phone talks to a small same-origin proxy in front of the server that can
start shipping a new /sw.js, exactly as a deployment would."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .helpers import login, outbox, wait_for_service_worker, wait_until

pytestmark = pytest.mark.browser

HOP_BY_HOP = {"connection", "transfer-encoding", "keep-alive", "host", "accept-encoding", "content-length"}


@pytest.fixture
def deploy_proxy(server):
    state = {"sw": None}

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self):
            if self.path.split("?")[0] == "/sw.js" and state["sw"] is not None:
                body = state["sw"].encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else None
            request = urllib.request.Request(server.base_url + self.path, data=data, method=self.command)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    request.add_header(name, value)
            try:
                response = urllib.request.urlopen(request, timeout=15)
            except urllib.error.HTTPError as error:
                response = error
            body = response.read()
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _forward

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def test_a_new_version_is_offered_and_keeps_unsent_records(chromium_browser, deploy_proxy, screenshots):
    base_url, state = deploy_proxy
    phone = chromium_browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844},
                                         is_mobile=True, has_touch=True, timezone_id="Asia/Taipei")
    try:
        page = phone.new_page()
        login(page, "bob")
        wait_for_service_worker(page)
        assert any(n.startswith("fieldvisit-shell-") for n in page.evaluate("caches.keys()"))

        # Something unsent on the phone when the update arrives.
        visit_id = page.eval_on_selector("li.stop", "el => el.dataset.visitId")
        phone.set_offline(True)
        page.evaluate("""async (id) => {
            const { currentSession } = await import(window.fieldvisit.moduleBase + 'session.js');
            const { recordChanges } = await import(window.fieldvisit.moduleBase + 'outbox.js');
            await recordChanges(await currentSession(), [{ entity: 'visit', id, fields: { plan_notes: 'before the update' } }]);
        }""", visit_id)
        queued = [e["seq"] for e in outbox(page) if e["state"] == "pending"]
        assert queued

        # A deployment ships a new worker; the phone finds it and offers it.
        served = urllib.request.urlopen(base_url + "/sw.js", timeout=10).read().decode()
        state["sw"] = re.sub(r'const VERSION = "[0-9a-f]+"', "const VERSION = 'test-update'", served)
        assert state["sw"] != served
        phone.route(re.compile(r".*/api/v1/sync/push$"), lambda route: route.abort())  # keep it unsent
        phone.set_offline(False)
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        page.wait_for_selector("#update-banner:not([hidden])", timeout=15_000)
        page.screenshot(path=str(screenshots / "17-update-offered.png"))
        assert page.evaluate("caches.keys()").count("fieldvisit-shell-test-update") == 1  # installed, waiting

        # Accepting reloads into the new version; the old cache goes, the outbox stays.
        with page.expect_navigation():
            page.click("[data-testid=reload-update]")
        page.wait_for_selector("[data-testid=today]")
        wait_until(page, "caches.keys().then((k) => k.length === 1)")
        assert page.evaluate("caches.keys()") == ["fieldvisit-shell-test-update"]
        assert [e["seq"] for e in outbox(page) if e["state"] == "pending"] == queued
    finally:
        phone.close()


def test_first_visit_downloads_each_shell_file_once(chromium_browser, server):
    """The worker's precache reuses what the page has just loaded (the
    versioned files are immutable in the HTTP cache): nothing twice."""
    log = server.log_path
    start = log.stat().st_size
    phone = chromium_browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844},
                                         is_mobile=True, has_touch=True, timezone_id="Asia/Taipei")
    try:
        page = phone.new_page()
        page.goto("/")
        page.wait_for_selector("[data-testid=login]")
        wait_for_service_worker(page)
        cached = page.evaluate("""async () => {
            const name = (await caches.keys()).find((n) => n.startsWith('fieldvisit-shell-'));
            return (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
        }""")
    finally:
        phone.close()
    with open(log, "rb") as f:
        f.seek(start)
        lines = f.read().decode("utf-8", "replace").splitlines()
    fetched = [m.group(1) for m in map(re.compile(r'"GET (/v/[0-9a-f]+/\S+) HTTP').search, lines) if m]
    assert fetched, "the server log shows the versioned requests"
    twice = sorted({p for p in fetched if fetched.count(p) > 1})
    assert twice == [], f"downloaded twice: {twice}"
    assert set(cached) <= set(fetched) | {p for p in cached if p.endswith("index.html")}
    assert len(cached) > 30, "the whole shell is cached for offline use"
