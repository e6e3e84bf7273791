"""``run_in_transaction`` (server/services/retry.py): transient database
failures are retried, a lost race to insert a new client is retried once,
and neither may turn into a 5xx while the budget lasts."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from server.services import retry


def _locked():
    return OperationalError("UPDATE feed_state", {}, sqlite3.OperationalError("database is locked"))


def _race():
    return IntegrityError("INSERT INTO clients", {},
                          sqlite3.IntegrityError("UNIQUE constraint failed: clients.client_id"))


def _scripted(*failures):
    """A unit of work that raises ``failures`` in turn, then answers."""
    calls = []

    def work(session):
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "done"

    return work, calls


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(retry.time, "sleep", lambda _s: None)


@pytest.mark.parametrize("failures", [
    (),
    (_locked(),),
    (_race(),),
    (_locked(), _race()),   # the race answered on the last transient attempt
    (_race(), _locked()),
])
def test_transient_failures_and_one_race_are_retried(sqlite_app, no_sleep, failures):
    work, calls = _scripted(*failures)
    with sqlite_app.app_context():
        assert retry.run_in_transaction(work, attempts=2) == "done"
    assert len(calls) == len(failures) + 1


def test_a_second_integrity_error_is_raised(sqlite_app, no_sleep):
    work, _ = _scripted(_race(), _race())
    with sqlite_app.app_context(), pytest.raises(IntegrityError):
        retry.run_in_transaction(work, attempts=6)


def test_transient_failures_beyond_the_budget_are_raised(sqlite_app, no_sleep):
    work, calls = _scripted(_locked(), _locked(), _locked())
    with sqlite_app.app_context(), pytest.raises(OperationalError):
        retry.run_in_transaction(work, attempts=2)
    assert len(calls) == 2
