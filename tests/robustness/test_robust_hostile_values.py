"""Hostile values at every door that writes — a push, the account import
(page and command) and each supervisor form — on SQLite and PostgreSQL:
never a 5xx, nothing written that should not be, and a refused push
mutation never blocks the phone's queue."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import func, select
from webtest import Upload

from server.extensions import db
from server.models import Account, HistoryEntry, RejectedMutation
from tests.helpers import now_ms
from tests.supervisor.conftest import csrf_token, iso, record_visit, sign_in, taipei

HEADER = ("ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
          "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector")
GOOD_ROW = {
    "ref": "H-1", "customer_name": "Hostile Shop", "original_contact_name": "Ann",
    "original_contact_role": "Owner", "original_contact_phone": "0912-000-000", "address": "Street 9",
    "lat": "25.05", "lon": "121.52", "timezone": "Asia/Taipei", "currency": "TWD",
    "principal": "1000.00", "amount_due": "500.00", "due_since": "2026-10-01", "collector": "alice",
}


def new_id():
    return str(uuid.uuid4())


def written(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Account, HistoryEntry, RejectedMutation))


# -- push --------------------------------------------------------------------

# JSON literals, written into the body as text: NaN, Infinity and 1e400
# cannot even be made by a careful JSON encoder.
NOT_JSON = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]
HOSTILE_LITERALS = [
    '"' + "x" * 10001 + '"', '"nul \\u0000 byte"', '"\\ud800"', "1e20", "-1e20", "1e308",
    str(10**30), str(-(10**30)), str(2**63), "-1", "0.5", "true", '"0001-01-01T00:00:00+00:00"',
    '"9999-12-31T23:59:59+00:00"', '"10000-01-01T00:00:00+00:00"', '"2026-02-30"',
    '"0001-01-01"', '"9999-12-31"', '"ßab"', '"tw"', '"€€€"', "[]", "{}", '{"$gt": ""}',
    '"' + "Z" * 300 + '"',
]
VISIT_FIELDS = ["plan_notes", "scheduled_at", "arrived_at", "checkin_lat", "checkin_accuracy_m",
                "waited_minutes", "promise_amount", "promise_date", "other_guests_present",
                "met", "collector_id", "amendment_reason"]
ACCOUNT_FIELDS = ["notes", "original_contact_phone", "delinquency_reason"]


def push_body(phone, entity, field, literals, record_ids, base_version=0, fields=None) -> bytes:
    """A push of one mutation per literal, each written into the JSON text
    as it is (a JSON encoder would refuse or change some of them)."""
    mutations = []
    for i, record_id in enumerate(record_ids):
        phone.seq += 1
        mutations.append({"seq": phone.seq, "hlc": phone.next_hlc(), "entity": entity,
                          "id": record_id, "base_version": base_version,
                          "fields": {**(fields or {}), field: f"@literal{i}@"}})
    body = json.dumps({"client_id": phone.client_id, "mutations": mutations})
    for i, literal in enumerate(literals):
        body = body.replace(f'"@literal{i}@"', literal)
    return body.encode()


def post_push(web, phone, body: bytes):
    return web.post("/api/v1/sync/push", body, headers={
        **phone.headers, "Content-Type": "application/json"}, status="*")


def push_raw(web, phone, entity, record_id, field, literal, fields=None):
    return post_push(web, phone, push_body(phone, entity, field, [literal], [record_id],
                                           fields=fields))


@pytest.mark.parametrize("literal", NOT_JSON)
def test_a_non_finite_number_is_a_400_and_the_queue_goes_on(app, world, literal):
    alice = world.phone("alice")
    before = written(app)
    response = push_raw(world.web, alice, "visit", new_id(), "checkin_lat", literal,
                        fields={"account_id": world.accounts["A-1"]})
    assert response.status_int == 400, response.body[:300]
    assert response.json["error"]["message"] == "the request body is not valid JSON"
    assert written(app) == before
    # The same seq, now sent well, is applied: nothing was used up.
    alice.seq = 0
    result = alice.write("visit", new_id(), {"account_id": world.accounts["A-1"], "checkin_lat": 25.0})
    assert result["status"] == "applied" and result["seq"] == 1


@pytest.mark.parametrize("field", VISIT_FIELDS)
def test_hostile_visit_values_are_refused_or_stored_never_a_5xx(app, world, field):
    alice = world.phone("alice")
    ids = [new_id() for _ in HOSTILE_LITERALS]
    response = post_push(world.web, alice, push_body(
        alice, "visit", field, HOSTILE_LITERALS, ids, fields={"account_id": world.accounts["A-1"]}))
    assert response.status_int == 200, response.body[:300]
    assert response.json["last_seq"] == len(HOSTILE_LITERALS)
    results = response.json["results"]
    for literal, result in zip(HOSTILE_LITERALS, results, strict=True):
        assert result["status"] in ("applied", "rejected"), (literal, result)
        if result["status"] == "rejected":
            assert field in result["errors"], (literal, result)
    refused = sum(r["status"] == "rejected" for r in results)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RejectedMutation)) == refused
    assert refused >= len(HOSTILE_LITERALS) // 2
    # The queue goes on.
    assert alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]})["status"] == "applied"


@pytest.mark.parametrize("field", ACCOUNT_FIELDS)
def test_hostile_account_values_never_a_5xx(app, world, field):
    alice = world.phone("alice")
    response = post_push(world.web, alice, push_body(
        alice, "account", field, HOSTILE_LITERALS, [world.accounts["A-1"]] * len(HOSTILE_LITERALS),
        base_version=1))
    assert response.status_int == 200, response.body[:300]
    assert {r["status"] for r in response.json["results"]} <= {"applied", "merged", "rejected"}


# -- the account import ---------------------------------------------------------

IMPORT_CASES = [
    ("customer_name", "x" * 201), ("customer_name", "nul \x00 byte"), ("ref", "x" * 65),
    ("original_contact_phone", "9" * 65), ("address", "a" * 2001),
    ("currency", "ßab"), ("currency", "tw"), ("currency", "TWDX"), ("currency", "€€€"),
    ("amount_due", "1e20"), ("amount_due", "Infinity"), ("amount_due", "NaN"), ("amount_due", "-5"),
    ("amount_due", "99999999999999999"), ("principal", "1,2,3"), ("principal", "12.345"),
    ("lat", "1e400"), ("lat", "NaN"), ("lat", "91"), ("lon", "-181"), ("lat", "inf"),
    ("timezone", "Z" * 300), ("timezone", "Mars/Olympus"), ("timezone", "../../etc/passwd"),
    ("due_since", "0001-01-01"), ("due_since", "9999-12-31"), ("due_since", "2026-02-30"),
    ("due_since", "10000-01-01"), ("collector", "nobody"), ("collector", "alice\x00"),
]


def csv_with(column: str, value: str) -> str:
    row = {**GOOD_ROW, column: value}
    cells = ['"' + row[c].replace('"', '""') + '"' for c in HEADER.split(",")]
    return HEADER + "\n" + ",".join(cells) + "\n"


@pytest.mark.parametrize(("column", "value"), IMPORT_CASES)
def test_hostile_import_cells_are_named_and_write_nothing(app, world, web, tmp_path, column, value):
    before = written(app)
    text = csv_with(column, value)
    sign_in(web, "sup")
    page = web.get("/supervisor/accounts/import")
    form = [f for f in page.forms.values() if f.action.endswith("/accounts/import")][0]
    form["file"] = Upload("accounts.csv", text.encode("utf-8"), "text/csv")
    preview = form.submit(status="*")
    assert preview.status_int == 422, preview.status
    problems = [" ".join(r.get_text(" ", strip=True).split())
                for r in preview.html.select("#import-errors tbody tr")]
    assert problems and all(p.startswith("2 ") for p in problems), problems
    assert any(p.split(" ")[1] == column for p in problems), problems
    # A hand-made confirmation of the same file writes nothing either.
    answer = web.post("/supervisor/accounts/import/confirm",
                      {"csrf_token": csrf_token(page), "csv_text": text}, status="*")
    assert answer.status_int == 422
    path = tmp_path / "hostile.csv"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-accounts", str(path)])
    assert result.exit_code == 1 and "line 2:" in result.output, result.output
    assert written(app) == before


def test_a_clean_row_beside_the_hostile_cases_is_imported(app, world, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(csv_with("ref", "H-1"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-accounts", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.ref == "H-1"))
        assert account.amount_due == 50000 and account.currency == "TWD"


# -- supervisor forms ---------------------------------------------------------------

HOSTILE_TEXT = ["nul \x00 byte", "x" * 2001, "x" * 100_000, "\u202e\u200b"]
HOSTILE_IDS = [*HOSTILE_TEXT, "' OR 1=1 --", "../../etc/passwd", "0" * 36]
# Bytes no UTF-8 decoder accepts (an encoded lone surrogate), sent as they are.
BAD_UTF8 = "%ED%A0%80"


@pytest.fixture
def office(app, world, web):
    """A supervisor signed in, a recorded payment waiting for review and an
    open conflict on a done visit."""
    sign_in(web, "sup")
    alice, tablet = world.phone("alice"), world.phone("alice")
    visit = record_visit(alice, world.accounts["A-1"], taipei(0, 10))
    payment = new_id()
    alice.write("payment", payment, {"account_id": world.accounts["A-1"], "visit_id": visit,
                                     "amount": 500, "method": "cash",
                                     "collected_at": iso(taipei(0, 10, 20))})
    now = now_ms()
    alice.write("visit", visit, {"notes": "a", "amendment_reason": "first note"}, 1, ms=now - 5000)
    tablet.write("visit", visit, {"notes": "b", "amendment_reason": "other note"}, 1, ms=now)
    page = web.get("/supervisor/conflicts")
    conflict = page.html.select_one("article.conflict")["id"].removeprefix("conflict-")
    return {"web": web, "payment": payment, "conflict": conflict, "token": csrf_token(page),
            "account": world.accounts["A-2"]}


def form_cases(office):
    p, c, a = office["payment"], office["conflict"], office["account"]
    for text in HOSTILE_TEXT:
        yield f"/supervisor/payments/{p}/review", {"reject": "1", "note": text}
        yield f"/supervisor/conflicts/{c}/resolve", {"restore": "1", "reason": text}
        yield f"/supervisor/accounts/{a}/assign", {"collector": text}
        yield f"/supervisor/accounts/{a}/escalate", {"level": text}
        yield "/supervisor/accounts/import/confirm", {"csv_text": text}
    for text in HOSTILE_IDS:
        yield f"/supervisor/accounts/{a}/assign", {"collector": text}
        yield f"/supervisor/accounts/{a}/escalate", {"level": text}
        yield f"/supervisor/conflicts/{quote(text[:40], safe='')}/resolve", {"keep": "1"}
        yield f"/supervisor/payments/{quote(text[:40], safe='')}/review", {"confirm": "1"}
        yield f"/supervisor/accounts/{quote(text[:40], safe='')}/assign", {"collector": ""}


def test_hostile_supervisor_form_values_never_give_a_5xx_nor_a_write(app, office):
    web = office["web"]
    before = written(app)
    for path, data in form_cases(office):
        response = web.post(path, {"csrf_token": office["token"], **data}, status="*",
                            expect_errors=True)
        assert response.status_int < 500, (path, data, response.status)
        raw = urlencode({"csrf_token": office["token"], **data}).encode()
        for name in data:
            if name not in ("keep", "restore", "reject", "confirm"):
                raw += f"&{name}={BAD_UTF8}".encode()
        response = web.post(path, raw, content_type="application/x-www-form-urlencoded",
                            status="*", expect_errors=True)
        assert response.status_int < 500, (path, "bad UTF-8", response.status)
        assert written(app) == before, (path, data)
    after = written(app)
    # Only the refusals themselves... which write nothing at all.
    assert after == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HistoryEntry)) == before[1]


def test_a_bad_import_upload_is_a_clear_4xx(app, world, web):
    sign_in(web, "sup")
    page = web.get("/supervisor/accounts/import")
    form = [f for f in page.forms.values() if f.action.endswith("/accounts/import")][0]
    for body in (b"\xff\xfe\x00bad", b"ref\x00,x\n", b"", HEADER.encode() + b"\n\x00\n",
                 (HEADER + "\n" + "a," * 10_000).encode()):
        form["file"] = Upload("a.csv", body, "text/csv")
        assert form.submit(status="*").status_int in (400, 422), body[:40]


def test_refused_mutations_with_any_value_can_be_listed(app, world, web):
    alice = world.phone("alice")
    for literal in ('"\\ud800"', str(10**30), '"nul \\u0000"'):
        push_raw(world.web, alice, "visit", new_id(), "notes", literal,
                 fields={"account_id": world.accounts["A-1"]})
    sign_in(web, "sup")
    page = web.get("/supervisor/rejected")
    assert page.status_int == 200 and len(page.html.select("table.rejected tbody tr")) == 3
    json.loads(json.dumps(page.text))  # the page is text, whatever the values were
