"""Browser tests of the collector app: a real server on a temporary SQLite
database, driven through Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .tile_stub import TileStub

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DEMO_PASSWORD = "fieldvisit-demo"
PHONE = {"width": 390, "height": 844}
# A spot in Datong District, Taipei, where the demo accounts are.
TAIPEI = {"latitude": 25.0575, "longitude": 121.5101, "accuracy": 18}


def _flask() -> list[str]:
    local = Path(sys.executable).with_name("flask")
    return [str(local) if local.exists() else "flask", "--app", "wsgi"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The running server, its database file and a tiny JSON client."""

    def __init__(self, base_url: str, db_path: Path):
        self.base_url = base_url
        self.db_path = db_path

    def api(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + "/api/v1" + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, (json.loads(raw) if raw else None)

    def login(self, username: str) -> dict:
        status, body = self.api("POST", "/auth/login", {"username": username, "password": DEMO_PASSWORD})
        assert status == 200, body
        return body

    def query(self, sql: str, params=()) -> list[tuple]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def tile_stub():
    """Map tiles for every browser test come from here, never from the internet."""
    with TileStub() as stub:
        yield stub


@pytest.fixture(scope="session")
def server(tmp_path_factory, tile_stub):
    workdir = tmp_path_factory.mktemp("browser-server")
    db_path = workdir / "fieldvisit.sqlite3"
    env = {**os.environ, "FIELDVISIT_DATABASE_URL": f"sqlite:///{db_path}",
           "FIELDVISIT_SECRET_KEY": "test", "FLASK_DEBUG": "0",
           "FIELDVISIT_MAP_TILES_URL": tile_stub.url, "FIELDVISIT_MAP_ATTRIBUTION": "© Test tiles",
           "FIELDVISIT_ATTACHMENTS_URL": f"file://{workdir / 'attachments'}"}
    for command in (["init-db"], ["demo"]):
        subprocess.run(_flask() + command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(_flask() + ["run", "--port", str(port), "--no-reload"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base_url + "/api/v1/openapi.json", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"server did not start; see {workdir / 'server.log'}")
            time.sleep(0.2)
    found = Server(base_url, db_path)
    found.attachments_path = workdir / "attachments"
    found.log_path = workdir / "server.log"
    from .day import top_up_planned_stops  # day.py builds on this module

    top_up_planned_stops(found)
    yield found
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def phone(chromium_browser, server):
    """A fresh phone: its own IndexedDB, service worker and permissions."""
    context = chromium_browser.new_context(
        base_url=server.base_url, viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
        locale="en-US", timezone_id="Asia/Taipei", geolocation=TAIPEI, permissions=["geolocation"],
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture(scope="session")
def screenshots():
    # Clear only this suite's own pictures: the supervisor suite keeps its
    # screenshots in a subfolder of the same artifacts folder.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS
