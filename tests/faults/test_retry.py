"""``writes.transaction`` (server/services/writes.py), which every writer
uses: transient database failures are retried, a lost race to insert a new
client is retried once, and neither may turn into a 5xx while the budget
lasts — for a push and for a supervisor's action alike."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from server.services import writes
from server.services.changes import ChangeWriter


def _locked():
    return OperationalError("UPDATE feed_state", {}, sqlite3.OperationalError("database is locked"))


def _race():
    return IntegrityError("INSERT INTO clients", {},
                          sqlite3.IntegrityError("UNIQUE constraint failed: clients.client_id"))


def _scripted(*failures):
    """A unit of work that raises ``failures`` in turn, then answers."""
    calls = []

    def work(tx):
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "done"

    return work, calls


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(writes.time, "sleep", lambda _s: None)


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
        assert writes.transaction(work, rules=sqlite_app.config["RULES"], attempts=2) == "done"
    assert len(calls) == len(failures) + 1


def test_a_second_integrity_error_is_raised(sqlite_app, no_sleep):
    work, _ = _scripted(_race(), _race())
    with sqlite_app.app_context(), pytest.raises(IntegrityError):
        writes.transaction(work, rules=sqlite_app.config["RULES"], attempts=6)


def test_transient_failures_beyond_the_budget_are_raised(sqlite_app, no_sleep):
    work, calls = _scripted(_locked(), _locked(), _locked())
    with sqlite_app.app_context(), pytest.raises(OperationalError):
        writes.transaction(work, rules=sqlite_app.config["RULES"], attempts=2)
    assert len(calls) == 2


@pytest.fixture
def locked_once(monkeypatch, no_sleep):
    """The first commit of the next writing transaction meets a locked
    database, as under a concurrent writer; the retry then goes through."""
    real = ChangeWriter.finish
    state = {"failed": 0}

    def finish(self):
        if not state["failed"]:
            state["failed"] += 1
            raise _locked()
        return real(self)

    monkeypatch.setattr(ChangeWriter, "finish", finish)
    return state


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_supervisors_action_is_retried_too(app, world, web, locked_once):
    from sqlalchemy import select

    from server.extensions import db
    from server.models import Account
    from tests.supervisor.conftest import csrf_token, sign_in

    sign_in(web, "sup")
    account_id = world.accounts["A-3"]
    page = web.get(f"/supervisor/accounts/{account_id}")
    answer = web.post(f"/supervisor/accounts/{account_id}/escalate",
                      {"csrf_token": csrf_token(page), "level": "legal"}, status=302).follow()
    assert "The account is escalated." in answer
    assert locked_once["failed"] == 1
    with app.app_context():
        assert db.session.scalar(select(Account.status).where(Account.id == account_id)) \
            == "escalated_legal"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_push_is_retried(app, world, locked_once):
    alice = world.phone("alice")
    result = alice.write("visit", "0f8fad5b-d9cb-469f-a165-70867728950e",
                         {"account_id": world.accounts["A-1"]})
    assert result["status"] == "applied" and locked_once["failed"] == 1
