"""The account import's optional ``jurisdiction`` column (an OpenAPI
"Choice": the protocol's columns stay as they are)."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Account
from server.services.importer import import_accounts, import_actor

HEADER = ("ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
          "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector")


def run(app, text):
    with app.app_context():
        return import_accounts(db.session, text, import_actor(None), app.config["RULES"])


def jurisdictions(app):
    with app.app_context():
        return dict(db.session.execute(select(Account.ref, Account.jurisdiction)).all())


def test_without_the_column_accounts_get_the_default(app, world):
    report = run(app, HEADER + "\nJ-1,Shop,,,,,,,Asia/Taipei,TWD,0,10.00,,\n")
    assert report.ok, report.errors
    assert jurisdictions(app)["J-1"] == "TW"


def test_the_column_sets_updates_and_an_empty_cell_keeps(app, world):
    header = HEADER + ",jurisdiction"
    report = run(app, header + "\nJ-1,Deli,,,,,,,America/New_York,USD,0,10.00,,,us\n"
                               "J-2,Shop,,,,,,,Asia/Taipei,TWD,0,10.00,,,\n")
    assert report.ok, report.errors
    found = jurisdictions(app)
    assert (found["J-1"], found["J-2"]) == ("US", "TW")
    report = run(app, header + "\nJ-1,Deli,,,,,,,America/New_York,USD,0,10.00,,,\n"
                               "J-2,Shop,,,,,,,Asia/Taipei,TWD,0,10.00,,,JP\n")
    assert report.ok and (report.updated, report.unchanged) == (1, 1)
    assert {k: v for k, v in jurisdictions(app).items() if k.startswith("J-")} == {"J-1": "US", "J-2": "JP"}


def test_a_bad_code_is_reported_on_its_line_and_column_and_nothing_is_written(app, world):
    report = run(app, HEADER + ",jurisdiction\nJ-1,Deli,,,,,,,America/New_York,USD,0,10.00,,,USA\n"
                               "J-2,Shop,,,,,,,Asia/Taipei,TWD,0,10.00,,,TW\n")
    assert report.errors == [{"line": 2, "errors": {"jurisdiction": [
        "Not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. TW)."]}}]
    assert "J-2" not in jurisdictions(app)
