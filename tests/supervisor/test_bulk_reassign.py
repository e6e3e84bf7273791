"""Bulk reassignment: accounts selected on the accounts page go to one
collector after a confirmation that says what moves; the old collectors'
phones get tombstones at their next pull, the new one gets the accounts."""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import Account, FeedEntry, HistoryEntry
from tests.helpers import latest

from .conftest import csrf_token, new_id, record_visit, taipei
from .test_planning import planned_visit


def writes(app) -> tuple[int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (HistoryEntry, FeedEntry))


def bulk_form(page):
    return page.forms["bulk"]


def tick(form, *account_ids):
    for field in form.fields["account"]:
        field.checked = field._value in account_ids


def test_select_confirm_and_the_phones_follow(world, sup, app):
    alice, bob = world.phone("alice"), world.phone("bob")
    a1, a2, a4 = (world.accounts[r] for r in ("A-1", "A-2", "A-4"))
    plan_1 = planned_visit(world, alice, "A-1")
    planned_visit(world, alice, "A-2", days=3)
    done = record_visit(alice, a1, taipei(1, 10))
    alice.pull_all()
    bob.pull_all()

    page = sup.get("/supervisor/accounts", {"q": "shop"})
    form = bulk_form(page)
    tick(form, a1, a2, a4)
    form["collector"] = world.users["bob"]
    before = writes(app)
    confirm = form.submit(status=200)
    assert writes(app) == before  # the confirmation writes nothing
    lead = confirm.html.select_one("#reassign-summary .lead").get_text(" ", strip=True)
    assert lead == "2 accounts go to Bob. Planned visits that go with them: 2."
    rows = [[c.get_text(strip=True) for c in r.select("th, td")]
            for r in confirm.html.select("#from-whom tbody tr")]
    assert rows == [["Alice", "Bob", "2", "2"]]
    selected = confirm.html.select_one("#selected").get_text(" ", strip=True)
    assert "A-4" in selected and "does not move: Already assigned to Bob." in selected

    done_page = confirm.forms[[k for k, f in confirm.forms.items()
                               if f.action.endswith("/reassign/confirm")][0]].submit(status=200)
    assert ("2 accounts moved to Bob. Planned visits that went with them: 2."
            in done_page.html.select_one("#reassign-done .lead").get_text(" ", strip=True))
    moved = done_page.html.select_one("#moved").get_text(" ", strip=True)
    assert "A-1" in moved and "A-2" in moved and "Alice → Bob" in moved

    gone = {(c["entity"], c["id"]) for c in alice.pull_all() if c["deleted"]}
    assert {("account", a1), ("account", a2), ("visit", plan_1), ("visit", done)} <= gone
    assert ("account", a4) not in gone
    got = latest(bob.pull_all())
    assert {("account", a1), ("account", a2), ("visit", plan_1), ("visit", done)} <= set(got)
    assert got[("visit", plan_1)]["data"]["collector_id"] == world.users["bob"]
    assert got[("visit", done)]["data"]["collector_id"] == world.users["alice"]
    with app.app_context():
        owners = {a.ref: a.assigned_collector_id for a in db.session.scalars(select(Account))}
    assert owners["A-1"] == owners["A-2"] == owners["A-4"] == world.users["bob"]
    assert owners["A-3"] == world.users["alice"]


def test_select_all_on_this_page(world, sup):
    page = sup.get("/supervisor/accounts", {"collector": world.users["alice"]})
    assert not any(f.checked for f in bulk_form(page).fields["account"])
    page = page.click("Select all on this page")
    assert "select=page" in page.request.url and "collector=" in page.request.url
    boxes = bulk_form(page).fields["account"]
    assert len(boxes) == 3 and all(f.checked for f in boxes)
    form = bulk_form(page)
    form["collector"] = world.users["bob"]
    confirm = form.submit(status=200)
    assert "3 accounts go to Bob" in confirm.html.select_one(".lead").get_text(" ", strip=True)


def test_bad_selections_are_refused_in_words_and_move_nothing(world, sup, app):
    page = sup.get("/supervisor/accounts", {"q": "shop 1"})
    token = csrf_token(page)
    a1 = world.accounts["A-1"]
    before = writes(app)
    cases = [
        ({"collector": world.users["bob"]}, 422, "Select at least one account."),
        ({"collector": world.users["bob"], "account": "A-1"}, 422,
         "The selection is not one these pages made."),
        ({"account": a1}, 400, "Choose an active collector from the list."),
        ({"account": a1, "collector": world.users["sup"]}, 422,
         "Choose an active collector from the list."),
        ({"account": a1, "collector": "someone"}, 422, "Choose an active collector from the list."),
    ]
    for path in ("/supervisor/accounts/reassign?q=shop+1", "/supervisor/accounts/reassign/confirm"):
        for fields, status, words in cases:
            answer = sup.post(path, {"csrf_token": token, **fields}, expect_errors=True)
            assert answer.status_int == status, (path, fields, answer.status)
            assert words in answer.html.select_one(".form-problems").get_text(), (path, fields)
            assert writes(app) == before
    # The accounts page comes back with its search and the selection kept.
    answer = sup.post("/supervisor/accounts/reassign?q=shop+1",
                      {"csrf_token": token, "account": a1, "collector": world.users["sup"]},
                      status=422)
    assert [f.checked for f in bulk_form(answer).fields["account"]] == [True]
    assert sup.post("/supervisor/accounts/reassign", {"account": a1,
                                                      "collector": world.users["bob"]},
                    expect_errors=True).status_int == 400

    # Everything selected is already hers (or gone): nothing to confirm.
    answer = sup.post("/supervisor/accounts/reassign",
                      {"csrf_token": token, "account": [a1, new_id()],
                       "collector": world.users["alice"]}, status=422)
    assert "Nothing would move." in answer
    text = answer.html.select_one("#selected").get_text(" ", strip=True)
    assert "Already assigned to Alice." in text and "This account no longer exists." in text
    assert not [f for f in answer.forms.values() if f.action.endswith("/confirm")]
    assert writes(app) == before


def test_what_changed_since_the_confirmation_is_reported(world, sup, app):
    a1, a4 = world.accounts["A-1"], world.accounts["A-4"]
    page = sup.get("/supervisor/accounts")
    form = bulk_form(page)
    tick(form, a1, a4)
    form["collector"] = world.users["alice"]
    confirm = form.submit(status=200)
    assert "1 account goes to Alice" in confirm.html.select_one(".lead").get_text(" ", strip=True)
    # Meanwhile another supervisor gives A-4 to Alice already.
    from server.supervisor.actions import assign_account
    with app.app_context():
        assign_account(db.session, a4, world.users["alice"], world.users["sup"], app.config["RULES"])
    # The confirmation carries only what would move (A-4 here); add A-1 back as a forged post.
    done = sup.post("/supervisor/accounts/reassign/confirm",
                    {"csrf_token": csrf_token(confirm), "account": [a4, a1],
                     "collector": world.users["alice"]}, status=200)
    assert "0 accounts moved to Alice" in done.html.select_one(".lead").get_text(" ", strip=True)
    assert "Already assigned to Alice." in done.html.select_one("#not-moved").get_text(" ", strip=True)


def test_in_traditional_chinese(world, sup):
    sup.set_cookie("fv_lang", "zh-Hant")
    page = sup.get("/supervisor/accounts")
    assert "勾選本頁全部帳戶" in page
    form = bulk_form(page)
    tick(form, world.accounts["A-1"])
    form["collector"] = world.users["bob"]
    confirm = form.submit(status=200)
    assert "1 個帳戶將改派給 Bob，隨帳戶移轉的已安排外訪：0 次。" in confirm


def _more_accounts(app, n: int, collector: str = "alice") -> None:
    from server.services.importer import import_accounts, import_actor

    rows = ["ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
            "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector"]
    rows += [f"M-{i:03d},Market stall {i},Owner {i},Owner,,Stall {i},,,Asia/Taipei,TWD,,1000.00,"
             f"2026-10-01,{collector}" for i in range(n)]
    with app.app_context():
        assert import_accounts(db.session, "\n".join(rows) + "\n", import_actor(None),
                               app.config["RULES"]).ok


def test_select_all_that_match_on_every_page(world, sup, app):
    _more_accounts(app, 60)
    page = sup.get("/supervisor/accounts", {"q": "market"})
    assert "60 accounts" in page.text and len(bulk_form(page).fields["account"]) == 50
    page = page.click("Select all 60 accounts that match")
    assert ("All 60 accounts that match are selected, on every page."
            in page.html.select_one("#bulk-select").get_text(" ", strip=True))
    form = bulk_form(page)
    form["collector"] = world.users["bob"]
    confirm = form.submit(status=200)
    lead = confirm.html.select_one("#reassign-summary .lead").get_text(" ", strip=True)
    assert lead.startswith("60 accounts go to Bob.")
    done = confirm.forms[[k for k, f in confirm.forms.items()
                          if f.action.endswith("/reassign/confirm")][0]].submit(status=200)
    assert "60 accounts moved to Bob." in done.html.select_one("#reassign-done .lead").get_text(" ")
    with app.app_context():
        owners = {a.ref: a.assigned_collector_id for a in db.session.scalars(select(Account))}
    assert {owners[f"M-{i:03d}"] for i in range(60)} == {world.users["bob"]}
    # The search decided what moved: the first accounts are Alice's still.
    assert owners["A-1"] == world.users["alice"]

    chinese = sup.get("/supervisor/accounts", {"q": "market", "collector": world.users["bob"]},
                      headers={"Accept-Language": "zh-TW"})
    assert "勾選符合條件的全部 60 個帳戶" in chinese.text


def test_more_than_a_selection_holds_asks_for_a_narrower_search(world, sup, app):
    _more_accounts(app, 201)
    page = sup.get("/supervisor/accounts", {"q": "market"})
    text = page.html.select_one("#bulk-select").get_text(" ", strip=True)
    assert "More than 200 accounts match: narrow the search to select them all." in text
    assert "Select all 201" not in page.text
    # A hand-made form that asks for all of them moves nothing.
    before = writes(app)
    refused = sup.post("/supervisor/accounts/reassign?q=market",
                       {"csrf_token": csrf_token(page), "collector": world.users["bob"],
                        "all_matching": "1"}, status=422)
    assert "More than 200 accounts match. Narrow the search" in refused.text
    assert writes(app) == before
