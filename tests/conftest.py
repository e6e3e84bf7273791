"""Fixtures shared by the suite: a fresh database per test on SQLite and,
when ``FIELDVISIT_TEST_POSTGRES_URL`` is given, on PostgreSQL too."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from webtest import TestApp

from server.app import create_app
from server.extensions import db
from server.services.changes import ensure_feed_state

from .helpers import World

# In CI the property tests run from a fixed seed: a red run must be
# reproducible, and a landing must not depend on the draw. Locally they
# keep exploring new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

PG_ADMIN_URL = os.environ.get("FIELDVISIT_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("FIELDVISIT_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgres"]


def _pg_url(admin_url: str, name: str) -> str:
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_database():
    """A database of its own for this run, dropped at the end: tests never
    depend on what an earlier run left on the server."""
    if not PG_ADMIN_URL:
        if REQUIRE_PG:
            pytest.fail("FIELDVISIT_REQUIRE_POSTGRES=1 but FIELDVISIT_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: set FIELDVISIT_TEST_POSTGRES_URL "
                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    name = f"fieldvisit_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(PG_ADMIN_URL, name)
    created = {"schema": False}
    yield url, created
    with admin.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def make_app(backend: str, tmp_path, request, extra: dict | None = None):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url, created = request.getfixturevalue("postgres_database")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": True,
        **(extra or {}),
    })
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        else:
            if not created["schema"]:
                db.drop_all()
                db.create_all()
                created["schema"] = True
            # DELETE, not TRUNCATE: on tables this small it is ~70x faster.
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        ensure_feed_state()
    return app


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app_settings() -> dict:
    """Configuration a test package or module adds to the app (it overrides
    this fixture); the ``app`` fixture is the same for all of them."""
    return {}


@pytest.fixture
def app(backend, tmp_path, request, app_settings):
    app = make_app(backend, tmp_path, request, app_settings)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path, request):
    app = make_app("sqlite", tmp_path, request)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def web(app):
    return TestApp(app)


@pytest.fixture
def world(app, web):
    """Users and accounts most API tests start from."""
    return World.create(app, web)


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's Chromium, driven by Playwright's sync API. One for the whole
    run: a second ``sync_playwright()`` while the first is open fails
    ("Sync API inside the asyncio loop"), so every browser test shares it."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
