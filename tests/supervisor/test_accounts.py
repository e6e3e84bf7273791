"""Accounts: search, reassignment that reaches the phones, escalation, and
the all-or-nothing CSV import with its preview."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from webtest import Upload

from server.extensions import db
from server.models import Account, Visit
from tests.helpers import latest

from .conftest import csrf_token, new_id, record_visit, taipei

HEADER = ("ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
          "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector")


def listed_refs(page) -> list[str]:
    return [row.select_one("td a").get_text() for row in page.html.select("#accounts tbody tr")
            if row.select_one("td a")]


def test_search_and_filters(world, sup):
    assert listed_refs(sup.get("/supervisor/accounts", {"q": "shop 4"})) == ["A-4"]
    assert listed_refs(sup.get("/supervisor/accounts", {"q": "street 2"})) == ["A-2"]
    assert listed_refs(sup.get("/supervisor/accounts", {"collector": "none"})) == ["A-6"]
    bob = sup.get("/supervisor/accounts", {"collector": world.users["bob"]})
    assert sorted(listed_refs(bob)) == ["A-4", "A-5"]
    assert listed_refs(sup.get("/supervisor/accounts", {"q": "100%_"})) == []
    everyone = sup.get("/supervisor/accounts")
    assert "6 accounts" in everyone and "NT$50,000" in everyone


def test_reassignment_drops_the_account_from_the_old_phone_and_gives_it_to_the_new(world, sup, app):
    alice, bob = world.phone("alice"), world.phone("bob")
    account_id = world.accounts["A-1"]
    visit_id = record_visit(alice, account_id, taipei(1, 10))
    plan_id = new_id()
    alice.write("visit", plan_id, {"account_id": account_id, "status": "planned",
                                   "scheduled_at": taipei(-1, 10).isoformat()})
    alice.pull_all()
    bob.pull_all()

    page = sup.get(f"/supervisor/accounts/{account_id}")
    form = [f for f in page.forms.values() if f.action.endswith("/assign")][0]
    form["collector"] = world.users["bob"]
    answer = form.submit(status=302).follow()
    assert "Assignment saved." in answer and "Bob" in answer.html.select_one("p.lead").get_text()

    gone = {(c["entity"], c["id"]) for c in alice.pull_all() if c["deleted"]}
    assert {("account", account_id), ("visit", visit_id), ("visit", plan_id)} <= gone
    received = {(c["entity"], c["id"]): c for c in bob.pull_all() if not c["deleted"]}
    assert {("account", account_id), ("visit", visit_id), ("visit", plan_id)} <= set(received)
    # The plan moved with the account; the record of the past visit did not.
    assert received[("visit", plan_id)]["data"]["collector_id"] == world.users["bob"]
    assert received[("visit", visit_id)]["data"]["collector_id"] == world.users["alice"]

    # Assigning it the same way again changes nothing.
    page = sup.get(f"/supervisor/accounts/{account_id}")
    form = [f for f in page.forms.values() if f.action.endswith("/assign")][0]
    assert "already assigned" in form.submit(status=302).follow()
    with app.app_context():
        assert db.session.get(Account, account_id).version == 2


def test_unassigning_and_a_bad_collector(world, sup, app):
    account_id = world.accounts["A-4"]
    page = sup.get(f"/supervisor/accounts/{account_id}")
    token = csrf_token(page)
    sup.post(f"/supervisor/accounts/{account_id}/assign",
             {"csrf_token": token, "collector": world.users["sup"]}, status=302)
    with app.app_context():
        assert db.session.get(Account, account_id).assigned_collector_id == world.users["bob"]
    sup.post(f"/supervisor/accounts/{account_id}/assign", {"csrf_token": token, "collector": ""},
             status=302)
    with app.app_context():
        assert db.session.get(Account, account_id).assigned_collector_id is None
    bob = world.phone("bob")
    kept = latest(bob.pull_all(), "account")
    assert {record_id for _, record_id in kept} == {world.accounts["A-5"]}


def _import(sup, text: str, status=200):
    page = sup.get("/supervisor/accounts/import")
    form = [f for f in page.forms.values() if f.action.endswith("/accounts/import")][0]
    form["file"] = Upload("accounts.csv", text.encode("utf-8"), "text/csv")
    return form.submit(status=status)


def test_escalation_shows_the_suggestion_and_is_recorded(world, sup, app):
    old = (date.today() - timedelta(days=400)).isoformat()
    confirm = _import(sup, HEADER + f"\nOLD-1,Old Debt Ltd,Mr Lee,Owner,,Road 1,25.05,121.52,"
                                    f"Asia/Taipei,TWD,1000.00,900.00,{old},alice\n")
    [f for f in confirm.forms.values() if f.action.endswith("/confirm")][0].submit(status=302)
    with app.app_context():
        account_id = db.session.scalar(select(Account.id).where(Account.ref == "OLD-1"))
    listing = sup.get("/supervisor/accounts", {"q": "OLD-1"})
    assert "Suggested: Collection agency" in listing
    page = sup.get(f"/supervisor/accounts/{account_id}")
    assert "Suggested: Collection agency" in page and "Days past due" in page
    form = [f for f in page.forms.values() if f.action.endswith("/escalate")][0]
    assert form["level"].value == "agency"
    form["level"] = "legal"
    answer = form.submit(status=302).follow()
    assert "The account is escalated." in answer and "Legal action" in answer
    with app.app_context():
        assert db.session.get(Account, account_id).status == "escalated_legal"
    alice = world.phone("alice")
    mine = {c["id"]: c for c in alice.pull_all() if c["entity"] == "account"}
    assert mine[account_id]["data"]["status"] == "escalated_legal"


def test_import_preview_then_confirm(world, sup, app):
    text = (HEADER + "\nNEW-1,New Shop,Ms Wu,Owner,0912,Road 9,25.06,121.53,Asia/Taipei,TWD,"
            "2000.00,1500.50,2026-09-01,bob\n"
            "A-6,Shop 6 renamed,Owner 6,Owner,,Street 6,25.045,121.515,Asia/Taipei,TWD,"
            "100000.00,50000.00,2026-10-01,alice\n")
    preview = _import(sup, text)
    summary = preview.html.get_text(" ", strip=True)
    assert "2 rows: 1 new account, 1 update." in summary and "NT$1,501" in summary
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 6
    confirm = [f for f in preview.forms.values() if f.action.endswith("/confirm")][0]
    done = confirm.submit(status=302).follow()
    assert "Imported: 1 new, 1 updated, 0 unchanged, 1 reassigned." in done
    with app.app_context():
        renamed = db.session.scalar(select(Account).where(Account.ref == "A-6"))
        assert renamed.customer_name == "Shop 6 renamed"
        assert renamed.assigned_collector_id == world.users["alice"]
        assert db.session.scalar(select(Account.amount_due).where(Account.ref == "NEW-1")) == 150050


def test_a_file_with_a_bad_row_writes_nothing_and_names_every_bad_row(world, sup, app):
    text = (HEADER + "\nGOOD-1,Good Shop,,,,,,,Asia/Taipei,TWD,0,100.00,,\n"
            "BAD-1,Bad Shop,,,,,,,Asia/Taipei,TWDX,0,12.345,2026-13-01,nobody\n"
            "GOOD-1,Twice,,,,,,,Mars/Olympus,TWD,0,1.00,,\n")
    preview = _import(sup, text, status=422)
    errors = [" ".join(row.get_text(" ", strip=True).split())
              for row in preview.html.select("#import-errors tbody tr")]
    assert "3 currency Not an ISO 4217 currency code (three capital letters)." in errors
    assert "3 amount_due Not an amount with at most 2 decimals." in errors
    assert "3 due_since Not a valid date." in errors
    assert "3 collector No collector with user name 'nobody'." in errors
    assert "4 ref Same ref as line 2." in errors
    assert "4 timezone Not a known IANA time zone." in errors
    assert not [f for f in preview.forms.values() if f.action.endswith("/confirm")]
    # Even a hand-made confirmation of the bad file writes nothing.
    answer = sup.post("/supervisor/accounts/import/confirm",
                      {"csrf_token": csrf_token(preview), "csv_text": text}, status=422)
    assert "Nothing was imported" in answer
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 6
    # The same errors in Chinese.
    sup.set_cookie("fv_lang", "zh-Hant")
    chinese = _import(sup, text, status=422)
    assert "不是 ISO 4217 幣別代碼" in chinese and "帳號與第 2 行重複" in chinese


def test_an_upload_that_is_not_utf8_or_missing(world, sup):
    assert "Missing columns" in _import(sup, "ref;name\nx;y\n", status=422)
    page = sup.get("/supervisor/accounts/import")
    form = [f for f in page.forms.values() if f.action.endswith("/accounts/import")][0]
    form["file"] = Upload("a.csv", b"\xff\xfe\x00bad", "text/csv")
    assert "not UTF-8" in form.submit(status=400)
    assert "Choose a CSV file" in sup.post(
        "/supervisor/accounts/import", {"csrf_token": csrf_token(page)}, status=400)


def test_account_page_lists_its_visits(world, sup, app):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-2"], taipei(1, 10))
    page = sup.get(f"/supervisor/accounts/{world.accounts['A-2']}")
    assert f"/supervisor/visits/{visit_id}" in page
    with app.app_context():
        assert db.session.get(Visit, visit_id) is not None
