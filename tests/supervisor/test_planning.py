"""Planning from the pages: a visit planned, moved or cancelled by a
supervisor reaches the phones at their next pull (and leaves the phone of
a collector who no longer holds it); every bad input is a 4xx that shows
the form again with the reason in words and writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import FeedEntry, HistoryEntry, Visit
from tests.helpers import latest

from .conftest import TAIPEI, csrf_token, new_id, record_visit, taipei


def tomorrow() -> str:
    return (datetime.now(TAIPEI).date() + timedelta(days=1)).isoformat()


def counts(app) -> tuple[int, int, int]:
    """Visits, history rows and feed rows: what a write would add to."""
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Visit, HistoryEntry, FeedEntry))


def plan_form(page):
    return page.forms[[k for k, f in page.forms.items() if f.action.endswith("/plan")][0]]


def planned_visit(world, phone, account_ref="A-1", days=2, hour=10) -> str:
    visit_id = new_id()
    result = phone.write("visit", visit_id, {
        "account_id": world.accounts[account_ref], "status": "planned",
        "scheduled_at": taipei(-days, hour).isoformat()})
    assert result["status"] == "applied", result
    return visit_id


def test_a_visit_planned_on_the_account_page_reaches_the_collectors_phone(world, sup, app):
    alice, bob = world.phone("alice"), world.phone("bob")
    alice.pull_all()
    bob.pull_all()
    account_id = world.accounts["A-1"]
    page = sup.get(f"/supervisor/accounts/{account_id}")
    assert "Plan a visit" in page and "Day and time in Asia/Taipei." in page
    form = plan_form(page)
    assert form["collector"].value == world.users["alice"]  # the account's collector first
    form["day"] = tomorrow()
    form["time"] = "09:30"
    form["notes"] = "Ask for the owner, Mr Lin."
    answer = form.submit(status=302).follow()
    assert f"Visit planned for Alice on {tomorrow()} 09:30." in answer

    received = latest(alice.pull_all(), "visit")
    assert len(received) == 1
    (_, visit), = received.items()
    data = visit["data"]
    assert data["account_id"] == account_id and data["status"] == "planned"
    assert data["collector_id"] == world.users["alice"]
    assert data["plan_notes"] == "Ask for the owner, Mr Lin."
    # 09:30 on the supervisor's (Taipei) clock is 01:30 UTC.
    assert datetime.fromisoformat(data["scheduled_at"]) == datetime.fromisoformat(
        f"{tomorrow()}T09:30:00+08:00")
    assert bob.pull_all() == []


def test_planning_for_another_collector_hands_the_account_over(world, sup, app):
    alice, bob = world.phone("alice"), world.phone("bob")
    account_id = world.accounts["A-2"]
    old_plan = planned_visit(world, alice, "A-2")
    alice.pull_all()
    bob.pull_all()
    form = plan_form(sup.get(f"/supervisor/accounts/{account_id}"))
    form["collector"] = world.users["bob"]
    form["day"] = tomorrow()
    form["time"] = "14:00"
    form.submit(status=302)

    gone = {(c["entity"], c["id"]) for c in alice.pull_all() if c["deleted"]}
    assert {("account", account_id), ("visit", old_plan)} <= gone
    got = latest(bob.pull_all())
    assert ("account", account_id) in got
    visits = {k[1]: c["data"] for k, c in got.items() if k[0] == "visit"}
    assert len(visits) == 2 and old_plan in visits
    assert {v["collector_id"] for v in visits.values()} == {world.users["bob"]}


def test_moving_a_visit_to_another_time_and_to_another_collector(world, sup, app):
    alice, bob = world.phone("alice"), world.phone("bob")
    visit_id = planned_visit(world, alice)
    alice.pull_all()
    bob.pull_all()

    page = sup.get(f"/supervisor/visits/{visit_id}")
    move = page.forms["move-form"]
    assert move["day"].value == taipei(-2, 10).date().isoformat() and move["time"].value == "10:00"
    move["time"] = "16:15"
    answer = move.submit(status=302).follow()
    assert "The visit is moved." in answer
    moved = latest(alice.pull_all(), "visit")[("visit", visit_id)]["data"]
    assert datetime.fromisoformat(moved["scheduled_at"]) == taipei(-2, 16, 15)

    move = sup.get(f"/supervisor/visits/{visit_id}").forms["move-form"]
    move["collector"] = world.users["bob"]
    move.submit(status=302)
    gone = {(c["entity"], c["id"]) for c in alice.pull_all() if c["deleted"]}
    assert ("visit", visit_id) in gone and ("account", world.accounts["A-1"]) in gone
    got = latest(bob.pull_all(), "visit")[("visit", visit_id)]["data"]
    assert got["collector_id"] == world.users["bob"]
    assert datetime.fromisoformat(got["scheduled_at"]) == taipei(-2, 16, 15)

    # The same values again: nothing to do, said in words, nothing written.
    before = counts(app)
    page = sup.get(f"/supervisor/visits/{visit_id}").forms["move-form"].submit(status=422)
    assert "Nothing was changed." in page.html.select_one(".form-problems").get_text()
    assert counts(app) == before


def test_cancelling_keeps_the_reason_like_the_phone_does(world, sup, app):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    alice.pull_all()
    cancel = sup.get(f"/supervisor/visits/{visit_id}").forms["cancel-form"]
    before = counts(app)
    cancel["reason"] = "  "
    page = cancel.submit(status=400)
    assert "Say why the visit is cancelled" in page.html.select_one(".form-problems").get_text()
    cancel = page.forms["cancel-form"]
    cancel["reason"] = "!!"
    page = cancel.submit(status=422)
    assert "Say why the visit is cancelled" in page.html.select_one(".form-problems").get_text()
    assert counts(app) == before

    cancel = page.forms["cancel-form"]
    cancel["reason"] = "The customer paid at the branch."
    answer = cancel.submit(status=302).follow()
    assert "The visit is cancelled." in answer
    data = latest(alice.pull_all(), "visit")[("visit", visit_id)]["data"]
    assert data["status"] == "cancelled"
    assert data["plan_notes"] == "Cancelled: The customer paid at the branch."
    # A cancelled visit is no longer moved or cancelled.
    page = sup.get(f"/supervisor/visits/{visit_id}")
    assert "move-form" not in page.forms
    assert "Only a planned visit is moved or cancelled; this one is Cancelled." in page


def _post(sup, path, token, **fields):
    return sup.post(path, {"csrf_token": token, **fields}, expect_errors=True)


def test_bad_inputs_are_4xx_with_the_form_again_and_write_nothing(world, sup, app):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice)
    done_id = record_visit(alice, world.accounts["A-1"], taipei(1, 10))
    account_id = world.accounts["A-1"]
    page = sup.get(f"/supervisor/accounts/{account_id}")
    token = csrf_token(page)
    base = {"collector": world.users["alice"], "day": tomorrow(), "time": "10:00"}
    before = counts(app)
    yesterday = (datetime.now(TAIPEI).date() - timedelta(days=1)).isoformat()

    cases = [
        (f"/supervisor/accounts/{account_id}/plan", {**base, "day": yesterday}, 422,
         "That time has passed."),
        (f"/supervisor/accounts/{account_id}/plan", {**base, "collector": world.users["sup"]}, 422,
         "Choose an active collector from the list."),
        (f"/supervisor/accounts/{account_id}/plan", {**base, "collector": "nobody"}, 422,
         "Choose an active collector from the list."),
        (f"/supervisor/accounts/{account_id}/plan", {**base, "day": "31/12/2030"}, 400,
         "Give the day as a date"),
        (f"/supervisor/accounts/{account_id}/plan", {**base, "time": "25:99"}, 400,
         "Give the time as hours and minutes."),
        (f"/supervisor/visits/{visit_id}/move", {**base, "day": yesterday}, 422,
         "That time has passed."),
        (f"/supervisor/visits/{visit_id}/move", {**base, "version": "1", "collector": new_id()},
         422, "Choose an active collector from the list."),
        (f"/supervisor/visits/{visit_id}/move", {**base, "version": "9"}, 422,
         "The visit has changed since the page was opened."),
        (f"/supervisor/visits/{done_id}/move", base, 422, "A recorded (done) visit stays as it happened"),
        (f"/supervisor/visits/{done_id}/cancel", {"reason": "Paid already"}, 422,
         "A recorded (done) visit stays as it happened"),
    ]
    for path, fields, status, words in cases:
        answer = _post(sup, path, token, **fields)
        assert answer.status_int == status, (path, fields, answer.status)
        problems = answer.html.select_one(".form-problems")
        assert problems is not None and words in problems.get_text(), (path, fields)
        assert counts(app) == before, (path, fields)
    # What was typed comes back in the form.
    answer = _post(sup, f"/supervisor/accounts/{account_id}/plan", token,
                   **{**base, "day": yesterday, "notes": "Bring the contract"})
    assert plan_form(answer)["day"].value == yesterday
    assert plan_form(answer)["notes"].value == "Bring the contract"

    # Ids that name nothing: no such page. No token: the form expired.
    assert _post(sup, f"/supervisor/accounts/{new_id()}/plan", token, **base).status_int == 404
    assert _post(sup, f"/supervisor/visits/{new_id()}/move", token, **base).status_int == 404
    # Not an id at all: no route of these pages (the app answers 405 for a POST there).
    assert _post(sup, "/supervisor/visits/not-an-id/cancel", token).status_int in (404, 405)
    assert sup.post(f"/supervisor/visits/{visit_id}/cancel", {"reason": "No token here"},
                    expect_errors=True).status_int == 400
    assert counts(app) == before
    with app.app_context():
        assert db.session.get(Visit, done_id).status == "done"


def test_a_closed_account_gets_no_visits(world, sup, app):
    account_id = world.accounts["A-3"]
    with app.app_context():
        from server.services.writes import Change, apply_change, transaction
        from server.supervisor.actions import supervisor_actor

        transaction(lambda tx: apply_change(tx, Change(
            "account", account_id, {"status": "closed"}, supervisor_actor(world.users["sup"]))),
            rules=app.config["RULES"])
    page = sup.get(f"/supervisor/accounts/{account_id}")
    assert "A settled or closed account gets no more visits." in page
    before = counts(app)
    answer = _post(sup, f"/supervisor/accounts/{account_id}/plan", csrf_token(page),
                   collector=world.users["alice"], day=tomorrow(), time="10:00")
    assert answer.status_int == 422 and counts(app) == before


def test_the_day_planner(world, sup, app):
    alice = world.phone("alice")
    visit_id = planned_visit(world, alice, days=1, hour=11)
    day = taipei(-1, 11).date().isoformat()
    page = sup.get("/supervisor/plan", {"collector": world.users["alice"], "date": day})
    assert f"Alice on {day}" in page
    rows = page.html.select("#day-plan tr[data-visit]")
    assert [r["data-visit"] for r in rows] == [visit_id]
    assert "11:00" in rows[0].get_text() and "Planned" in rows[0].get_text()
    assert "move or cancel" in rows[0].get_text()

    form = page.forms[[k for k, f in page.forms.items() if f.method.lower() == "post"
                       and f.action.endswith("/plan")][0]]
    assert set(form["account"].options[i][0] for i in range(3)) == {
        world.accounts[r] for r in ("A-1", "A-2", "A-3")}
    form["account"] = world.accounts["A-3"]
    form["day"] = day
    form["time"] = "15:45"
    answer = form.submit(status=302).follow()
    assert "Visit planned for Alice" in answer
    times = [r.select_one("td").get_text(strip=True) for r in answer.html.select("#day-plan tr[data-visit]")]
    assert times == ["11:00", "15:45"]
    assert len(latest(alice.pull_all(), "visit")) == 2

    before = counts(app)
    token = csrf_token(answer)
    bad = sup.post("/supervisor/plan", {"csrf_token": token, "collector": world.users["alice"],
                                        "account": "A-3", "day": day, "time": "16:00"},
                   status=422)
    assert "Choose an account from the list." in bad.html.select_one(".form-problems").get_text()
    bad = sup.post("/supervisor/plan", {"csrf_token": token, "collector": world.users["alice"],
                                        "account": new_id(), "day": day, "time": "16:00"},
                   status=422)
    assert "Choose an account from the list." in bad.html.select_one(".form-problems").get_text()
    assert counts(app) == before
    # Unknown collector or day in the address: the planner still opens.
    assert sup.get("/supervisor/plan", {"collector": "x", "date": "soon"}).status_int == 200


@pytest.mark.parametrize("lang", ["zh-Hant"])
def test_the_planning_forms_in_traditional_chinese(world, sup, lang):
    sup.set_cookie("fv_lang", lang)
    page = sup.get(f"/supervisor/accounts/{world.accounts['A-1']}")
    assert "安排外訪" in page
