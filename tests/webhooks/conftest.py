"""Fixtures of the webhook tests: a real receiver on loopback, an app
configured to send to it, and a worker run in this process (the tests of
the real worker process start ``flask --app wsgi worker`` themselves)."""

from __future__ import annotations

import time

import pytest

from server.worker import Worker
from tests.supervisor.conftest import iso, new_id, quick_password_hashes, sign_in, taipei  # noqa: F401

from .receiver import Receiver

SECRET = "test-webhook-secret"


def webhook_config(*urls: str, **overrides) -> dict:
    """Short times, so retries and leases run out within a test."""
    return {
        "WEBHOOK_URLS": ",".join(urls), "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TIMEOUT_S": 0.5, "WEBHOOK_BACKOFF_S": 0.05, "WEBHOOK_BACKOFF_MAX_S": 0.2,
        "WEBHOOK_LEASE_S": 3.0, "WEBHOOK_RETRY_HOURS": 24.0, "WORKER_POLL_S": 0.05,
        **overrides,
    }


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def webhook_overrides() -> dict:
    """Settings a test module changes (it overrides this fixture)."""
    return {}


@pytest.fixture
def app_settings(receiver, webhook_overrides):
    return webhook_config(receiver.url, **webhook_overrides)


@pytest.fixture
def sup(world, web):
    sign_in(web, "sup")
    return web


def deliver(app, until=None, timeout: float = 20.0) -> None:
    """Run the worker's sending loop in this process until nothing is due
    (and ``until()`` holds, when given)."""
    worker = Worker(app, name="test-worker")
    deadline = time.monotonic() + timeout
    while True:
        worker.deliver_until_stopped(once=True)
        if until is None or until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the deliveries did not finish in time")
        time.sleep(0.05)


def planned_visit(world) -> str:
    """A visit Alice plans on A-1: one webhook event."""
    visit_id = new_id()
    assert world.phone("alice").write("visit", visit_id, {
        "account_id": world.accounts["A-1"], "status": "planned",
        "scheduled_at": iso(taipei(-1, 9))})["status"] == "applied"
    return visit_id
