"""Every entry point writes through the one write layer
(``server/services/writes.py``): a rule added once is seen by every change
and refuses at every door — a push, each supervisor action, the import
page and command, promise upkeep and the demo — and done stays final in
each of them."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update
from webtest import Upload

from server.entities import ENTITIES
from server.extensions import db
from server.models import Account, Conflict, HistoryEntry, Payment, Promise, Visit
from server.services.derived import promise_id_for
from tests.helpers import now_ms

from .conftest import csrf_token, iso, new_id, record_visit, taipei

FROZEN = "Frozen by the rule of this test."
HEADER = ("ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
          "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector")


@pytest.fixture
def rule(monkeypatch):
    """One invariant added to every entity, once: it sees each change and
    refuses any change to a record on its list."""
    state = SimpleNamespace(seen=set(), frozen=set())

    def frozen(proposal):
        state.seen.add((proposal.entity, proposal.record_id))
        if proposal.record_id in state.frozen:
            return {"_entity": [FROZEN]}
        return {}

    for name, spec in list(ENTITIES.items()):
        monkeypatch.setitem(ENTITIES, name,
                            dataclasses.replace(spec, invariants=(*spec.invariants, frozen)))
    return state


def last_history_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(HistoryEntry.id), 0)))


def written_since(app, history_id: int) -> set[tuple[str, str]]:
    with app.app_context():
        return set(db.session.execute(select(HistoryEntry.entity, HistoryEntry.record_id)
                                      .where(HistoryEntry.id > history_id)).tuples())


def checked(app, rule, step):
    """Run ``step``; every record it wrote was checked by the rule first."""
    before = last_history_id(app)
    step()
    written = written_since(app, before)
    assert written, "the step wrote nothing"
    assert written <= rule.seen, written - rule.seen


def form_for(page, action_end: str):
    return [f for f in page.forms.values() if f.action.endswith(action_end)][0]


def import_page(sup, text: str, status=200):
    page = sup.get("/supervisor/accounts/import")
    form = form_for(page, "/accounts/import")
    form["file"] = Upload("accounts.csv", text.encode("utf-8"), "text/csv")
    return form.submit(status=status)


def make_notes_conflict(world, visit_id=None):
    """Two of alice's devices change a visit's notes without seeing each other."""
    phone, tablet = world.phone("alice"), world.phone("alice")
    visit_id = visit_id or new_id()
    phone.write("visit", visit_id, {"account_id": world.accounts["A-1"]})
    now = now_ms()
    phone.write("visit", visit_id, {"notes": "Left a card"}, 1, ms=now - 5000)
    assert tablet.write("visit", visit_id, {"notes": "Met the accountant"}, 1,
                        ms=now)["status"] == "conflict"
    return visit_id


def overdue_promise(app, phone, world) -> str:
    """A visit whose promise's day has passed unpaid, still pending (as one
    left from before the day ended: the push itself would break it)."""
    visit = record_visit(phone, world.accounts["A-1"], taipei(3, 10), result="promise_to_pay",
                         promise_amount=1000, promise_date=taipei(1, 12).date().isoformat())
    make_pending(app, visit)
    return visit


def make_pending(app, visit):
    with app.app_context():
        db.session.execute(update(Promise).where(Promise.visit_id == visit).values(status="pending"))
        db.session.commit()


def test_every_entry_point_writes_only_through_the_layer(app, world, sup, rule, tmp_path):
    alice = world.phone("alice")
    promised = {}

    def push():
        promised["visit"] = record_visit(alice, world.accounts["A-1"], taipei(0, 10),
                                         result="promise_to_pay", promise_amount=50000,
                                         promise_date=taipei(0, 12).date().isoformat())
        promised["payment"] = new_id()
        assert alice.write("payment", promised["payment"], {
            "account_id": world.accounts["A-1"], "visit_id": promised["visit"], "amount": 50000,
            "method": "cash", "collected_at": iso(taipei(0, 10, 20))})["status"] == "applied"

    def review():
        page = sup.get("/supervisor/payments")
        form_for(page, f"/payments/{promised['payment']}/review").submit("confirm", status=302)

    def assign():
        page = sup.get(f"/supervisor/accounts/{world.accounts['A-2']}")
        form = form_for(page, "/assign")
        form["collector"] = world.users["bob"]
        form.submit(status=302)

    def escalate():
        page = sup.get(f"/supervisor/accounts/{world.accounts['A-3']}")
        form = form_for(page, "/escalate")
        form["level"] = "legal"
        form.submit(status=302)

    def resolve():
        make_notes_conflict(world)
        form_for(sup.get("/supervisor/conflicts"), "/resolve").submit("restore", status=302)

    def amend():
        form = form_for(sup.get(f"/supervisor/visits/{promised['visit']}"), "/amend")
        form["notes"] = "Paid the promised amount at the door"
        form["reason"] = "Collector's call log"
        form.submit(status=302)

    def import_file():
        preview = import_page(sup, HEADER + "\nNEW-1,New Shop,,,,,,,Asia/Taipei,TWD,0,10.00,,alice\n")
        form_for(preview, "/confirm").submit(status=302)

    def import_command():
        path = tmp_path / "a.csv"
        path.write_text(HEADER + "\nNEW-2,Other Shop,,,,,,,Asia/Taipei,TWD,0,20.00,,bob\n",
                        encoding="utf-8")
        result = app.test_cli_runner().invoke(args=["import-accounts", str(path)])
        assert result.exit_code == 0, result.output

    def upkeep():
        # A promise for yesterday, never paid, still pending: upkeep breaks it.
        overdue_promise(app, alice, world)
        before = last_history_id(app)
        result = app.test_cli_runner().invoke(args=["promises", "refresh"])
        assert "1 broken" in result.output, result.output
        assert written_since(app, before)

    def restrictions():
        # An account's do-not-visit periods and jurisdiction (restriction_actions.py).
        page = sup.get(f"/supervisor/accounts/{world.accounts['A-3']}")
        form = form_for(page, "/do-not-visit")
        form["from_date"], form["to_date"], form["reason"] = "2026-12-10", "2026-12-12", "Funeral"
        form.submit(status=302)
        page = sup.get(f"/supervisor/accounts/{world.accounts['A-3']}")
        form_for(page, "/do-not-visit/remove").submit(status=302)
        form = form_for(page, "/jurisdiction")
        form["code"] = "US"
        form.submit(status=302)

    for step in (push, review, assign, escalate, resolve, amend, import_file, import_command,
                 upkeep, restrictions):
        checked(app, rule, step)
    with app.app_context():
        assert db.session.get(Promise, promise_id_for(promised["visit"])).status == "kept"


def test_the_demo_writes_only_through_the_layer(app, rule):
    checked(app, rule, lambda: app.test_cli_runner().invoke(args=["demo"]))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) > 50


def test_the_demo_meets_the_rule_too(app, rule, monkeypatch):
    from server.services import demo

    real = ENTITIES["account"].invariants

    def no_demo_accounts(proposal):
        return {"customer_name": [FROZEN]} if proposal.entity == "account" else {}

    monkeypatch.setitem(ENTITIES, "account", dataclasses.replace(
        ENTITIES["account"], invariants=(*real, no_demo_accounts)))
    with app.app_context(), pytest.raises(RuntimeError, match="demo accounts file is invalid"):
        demo.create_demo(db.session, app.config)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 0


def test_a_rule_added_once_refuses_at_every_entry_point(app, world, sup, rule, tmp_path):
    alice = world.phone("alice")
    visit = overdue_promise(app, alice, world)
    payment = new_id()
    alice.write("payment", payment, {"account_id": world.accounts["A-1"], "visit_id": visit,
                                     "amount": 500, "method": "cash",
                                     "collected_at": iso(taipei(3, 10, 20))})
    make_pending(app, visit)  # a new payment settles the account's promises again
    conflicted = make_notes_conflict(world)
    rule.frozen |= {visit, payment, conflicted, promise_id_for(visit),
                    world.accounts["A-2"], world.accounts["A-3"]}
    before = last_history_id(app)

    # push
    result = alice.write("visit", visit, {"plan_notes": "x"}, 1)
    assert result["status"] == "rejected" and result["errors"] == {"_entity": [FROZEN]}
    # supervisor: payment review, assignment, escalation
    page = sup.get("/supervisor/payments")
    answer = form_for(page, f"/payments/{payment}/review").submit("confirm", status=302).follow()
    assert FROZEN in answer
    for path, data in ((f"/supervisor/accounts/{world.accounts['A-2']}/assign",
                        {"collector": world.users["bob"]}),
                       (f"/supervisor/accounts/{world.accounts['A-3']}/escalate", {"level": "legal"})):
        page = sup.get(path.rsplit("/", 1)[0])
        answer = sup.post(path, {"csrf_token": csrf_token(page), **data}, status=302).follow()
        assert FROZEN in answer and "The rules do not allow this change." in answer
    # supervisor: the conflict page offers nothing the rule refuses, and a
    # hand-made resolution is refused all the same
    page = sup.get("/supervisor/conflicts")
    card = page.html.select_one("article.conflict")
    assert not card.select("button") and FROZEN in card.get_text()
    conflict_id = card["id"].removeprefix("conflict-")
    answer = sup.post(f"/supervisor/conflicts/{conflict_id}/resolve",
                      {"csrf_token": csrf_token(page), "restore": "1"}, status=302).follow()
    assert FROZEN in answer
    # supervisor: correcting a done visit from its page
    form = form_for(sup.get(f"/supervisor/visits/{visit}"), "/amend")
    form["notes"] = "corrected"
    form["reason"] = "the collector called"
    assert FROZEN in form.submit(status=302).follow()
    # supervisor: an account's do-not-visit periods and jurisdiction
    page = sup.get(f"/supervisor/accounts/{world.accounts['A-3']}")
    for action, data in (("do-not-visit", {"from_date": "2026-12-10", "to_date": "2026-12-12",
                                           "reason": "Funeral"}),
                         ("jurisdiction", {"code": "US"})):
        answer = sup.post(f"/supervisor/accounts/{world.accounts['A-3']}/{action}",
                          {"csrf_token": csrf_token(page), **data}, status=302).follow()
        assert FROZEN in answer, action
    # import page and command
    row = ("A-2,Shop 2 renamed,Owner 2,Owner,0912-555-001,Street 2,25.041,121.511,Asia/Taipei,TWD,"
           "100000.00,50000.00,2026-10-01,alice")
    preview = import_page(sup, HEADER + "\n" + row + "\n", status=422)
    assert FROZEN in preview
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "\n" + row + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-accounts", str(path)])
    assert result.exit_code == 1 and FROZEN in result.output
    # upkeep: the refused promise is left, and said so
    result = app.test_cli_runner().invoke(args=["promises", "refresh"])
    assert "1 refused by the rules" in result.output, result.output

    assert written_since(app, before) == set()
    with app.app_context():
        assert db.session.get(Payment, payment).status == "recorded"
        assert db.session.get(Promise, promise_id_for(visit)).status == "pending"
        assert db.session.scalar(select(Conflict.resolved_at)) is None


# -- done is final, whoever writes -----------------------------------------------


def done_versus_cancelled(world):
    """Alice records a visit as done offline while the office cancels it:
    done wins, "cancelled" is kept as the conflict's lost value."""
    alice, office = world.phone("alice"), world.phone("sup")
    visit = new_id()
    alice.write("visit", visit, {"account_id": world.accounts["A-1"], "status": "planned"})
    t0 = now_ms()
    assert office.write("visit", visit, {"status": "cancelled"}, 1, ms=t0 + 1000)["status"] == "applied"
    done = {"status": "done", "arrived_at": iso(taipei(0, 10)), "met": "original_contact",
            "result": "refused", "conduct_confirmed": True}
    assert alice.write("visit", visit, done, 1, ms=t0)["status"] == "conflict"
    return visit


def test_the_conflict_page_never_offers_to_undo_a_done_visit(app, world, sup):
    visit = done_versus_cancelled(world)
    page = sup.get("/supervisor/conflicts")
    card = page.html.select_one("article.conflict")
    buttons = [b.get_text(strip=True) for b in card.select("button")]
    assert buttons == ["Keep the value that won"]
    assert "This visit is done; a done visit is final." in card.get_text()
    conflict_id = card["id"].removeprefix("conflict-")
    answer = sup.post(f"/supervisor/conflicts/{conflict_id}/resolve",
                      {"csrf_token": csrf_token(page), "restore": "1"}, status=302).follow()
    assert "This visit is done; a done visit is final." in answer
    with app.app_context():
        assert db.session.get(Visit, visit).status == "done"
        assert db.session.scalar(select(Conflict.resolved_at)) is None
    # In Chinese too.
    sup.set_cookie("fv_lang", "zh-Hant")
    assert "已完成的外訪不可改回" in sup.get("/supervisor/conflicts")


def test_restoring_an_outcome_of_a_done_visit_is_an_amendment_with_a_reason(app, world, sup):
    phone, tablet = world.phone("alice"), world.phone("alice")
    visit = record_visit(phone, world.accounts["A-1"], taipei(0, 10))
    now = now_ms()
    phone.write("visit", visit, {"notes": "Left a card", "amendment_reason": "forgot the card"}, 1,
                ms=now - 5000)
    assert tablet.write("visit", visit, {"notes": "Met the accountant",
                                         "amendment_reason": "forgot the meeting"}, 1,
                        ms=now)["status"] == "conflict"
    page = sup.get("/supervisor/conflicts")
    cards = {c.h2.get_text(" ", strip=True).split("·")[1].strip(): c
             for c in page.html.select(".conflict")}
    # Both the notes and their reasons crossed; a reason is no evidence itself.
    assert cards["Reason for amendment"].select_one("textarea[name=reason]") is None
    card = cards["Notes"]
    assert card.select_one("textarea[name=reason]") is not None
    conflict_id = card["id"].removeprefix("conflict-")
    refused = sup.post(f"/supervisor/conflicts/{conflict_id}/resolve",
                       {"csrf_token": csrf_token(page), "restore": "1"}, status=302).follow()
    assert "is an amendment" in refused, refused.html.get_text(" ", strip=True)[:1500]
    sup.post(f"/supervisor/conflicts/{conflict_id}/resolve",
             {"csrf_token": csrf_token(page), "restore": "1", "reason": "the card was left first"},
             status=302)
    with app.app_context():
        record = db.session.get(Visit, visit)
        assert record.notes == "Left a card" and record.amendment_reason == "the card was left first"
        last = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visit)
                                 .order_by(HistoryEntry.id.desc()).limit(1))
        assert "restored the value that lost" in last.reason
        assert "the card was left first" in last.reason


def test_reassignment_moves_planned_visits_only_wherever_it_comes_from(app, world, sup, tmp_path):
    alice = world.phone("alice")
    done = record_visit(alice, world.accounts["A-1"], taipei(1, 10))
    planned = new_id()
    alice.write("visit", planned, {"account_id": world.accounts["A-1"],
                                   "scheduled_at": iso(taipei(-1, 10))})
    row = ("A-1,Shop 1,Owner 1,Owner,0912-555-000,Street 1,25.040,121.510,Asia/Taipei,TWD,"
           "100000.00,50000.00,2026-10-01,bob")
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "\n" + row + "\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["import-accounts", str(path)]).exit_code == 0
    with app.app_context():
        assert db.session.get(Visit, planned).collector_id == world.users["bob"]
        assert db.session.get(Visit, done).collector_id == world.users["alice"]
        assert db.session.get(Visit, done).status == "done"

