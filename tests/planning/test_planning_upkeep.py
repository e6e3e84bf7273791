"""Promise upkeep: pending promises that the date or confirmed payments have
decided become kept or broken, as versioned changes the phones pull."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from server.extensions import db
from server.models import HistoryEntry, Promise
from server.services.changes import Actor
from server.services.clock import server_clock
from server.services.derived import promise_id_for
from server.services.upkeep import refresh_due_promises
from server.services.writes import transaction

from ..helpers import latest
from .support import done_visit, new_id

# Far enough ahead that the push itself (judged at the real "now") leaves the
# promise pending; the upkeep is then run at chosen instants after it.
VISITED = "2030-01-05T10:00:00+08:00"
PROMISED = "2030-01-06"
AMOUNT = 20000


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def promise_visit(alice, account_id) -> str:
    visit_id = done_visit(alice, account_id, VISITED, result="promise_to_pay",
                          promise_amount=AMOUNT, promise_date=PROMISED)
    return promise_id_for(visit_id)


def upkeep(app, now: datetime) -> dict:
    with app.app_context():
        actor = Actor(None, "server", None, str(server_clock.send()))
        return transaction(lambda tx: refresh_due_promises(tx, now, actor),
                           rules=app.config["RULES"])


def status_of(app, promise_id):
    with app.app_context():
        return db.session.get(Promise, promise_id).status


def pay(world, alice, account_id, collected_at, amount=AMOUNT):
    """Alice records the money; the supervisor confirms it (only they may)."""
    payment_id = new_id()
    recorded = alice.write("payment", payment_id, {
        "account_id": account_id, "amount": amount, "method": "cash", "collected_at": collected_at})
    assert recorded["status"] == "applied", recorded
    confirmed = world.phone("sup").write("payment", payment_id, {"status": "confirmed"},
                                         base_version=recorded["version"])
    assert confirmed["status"] == "applied", confirmed


def test_promise_dated_yesterday_becomes_broken_and_reaches_the_phone(app, world):
    alice = world.phone("alice")
    promise_id = promise_visit(alice, world.accounts["A-1"])
    before = latest(alice.pull_all(), "promise")[("promise", promise_id)]
    assert before["data"]["status"] == "pending" and before["version"] == 1

    # Still the promised day in Taipei (23:59): nothing is decided yet.
    assert upkeep(app, at("2030-01-06T23:59:00+08:00"))["broken"] == 0
    # 00:30 on the 7th in Taipei is still the 6th in UTC: the local day counts.
    counts = upkeep(app, at("2030-01-06T16:30:00+00:00"))
    assert counts == {"checked": 1, "kept": 0, "broken": 1, "refused": 0}

    changes = alice.pull_all()
    after = latest(changes, "promise")[("promise", promise_id)]
    assert after["version"] == 2 and after["data"]["status"] == "broken"
    with app.app_context():
        row = db.session.scalars(select(HistoryEntry).where(
            HistoryEntry.record_id == promise_id).order_by(HistoryEntry.version.desc())).first()
        assert row.changes == {"status": "broken"} and row.client_id == "server"
    # The broken promise raises the account's priority on its next send.
    account = latest(world.phone("sup").pull_all(), "account")[("account", world.accounts["A-1"])]
    assert account["data"]["broken_promises"] == 1

    # Idempotent: a second run finds nothing left to decide.
    assert upkeep(app, at("2030-01-08T00:00:00+08:00")) == {"checked": 0, "kept": 0, "broken": 0, "refused": 0}


def test_paid_on_the_promised_day_is_kept(app, world):
    alice = world.phone("alice")
    promise_id = promise_visit(alice, world.accounts["A-1"])
    pay(world, alice, world.accounts["A-1"], "2030-01-06T21:00:00+08:00")
    assert status_of(app, promise_id) == "kept"
    assert upkeep(app, at("2030-01-08T09:00:00+08:00"))["broken"] == 0
    assert status_of(app, promise_id) == "kept"


def test_paid_a_day_late_is_broken(app, world):
    alice = world.phone("alice")
    promise_id = promise_visit(alice, world.accounts["A-1"])
    pay(world, alice, world.accounts["A-1"], "2030-01-07T09:00:00+08:00")
    assert status_of(app, promise_id) == "pending"  # the day has not come yet
    assert upkeep(app, at("2030-01-07T10:00:00+08:00")) == {"checked": 1, "kept": 0, "broken": 1, "refused": 0}
    assert status_of(app, promise_id) == "broken"


def test_pending_promise_met_by_payments_is_kept_by_upkeep(app, world):
    """A promise still pending although confirmed payments meet it (a state
    a write path left behind) is kept by the next run, before its date."""
    alice = world.phone("alice")
    promise_id = promise_visit(alice, world.accounts["A-1"])
    pay(world, alice, world.accounts["A-1"], "2030-01-06T09:00:00+08:00")
    with app.app_context():
        db.session.execute(update(Promise).where(Promise.id == promise_id).values(status="pending"))
        db.session.commit()
    assert upkeep(app, at("2030-01-05T12:00:00+08:00")) == {"checked": 1, "kept": 1, "broken": 0, "refused": 0}
    assert status_of(app, promise_id) == "kept"


def test_cli_command_refreshes_due_promises(app, world):
    alice = world.phone("alice")
    promise_id = promise_visit(alice, world.accounts["A-1"])
    other = promise_visit(alice, world.accounts["A-2"])  # stays in 2030: pending
    # Time passes: make the first promise one that was due last year.
    with app.app_context():
        db.session.execute(update(Promise).where(Promise.id == promise_id).values(
            promise_date=datetime(2025, 1, 6).date(), made_at=at("2025-01-05T02:00:00+00:00")))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["promises", "refresh"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "promises: 1 checked, 0 kept, 1 broken"
    assert status_of(app, promise_id) == "broken" and status_of(app, other) == "pending"
