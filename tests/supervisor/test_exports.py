"""The visit log's and the payments' exports (CSV and Excel): the rows the
page lists, columns in the reader's language with the codes beside them,
local times, typed workbook cells, formulas defused, streamed bodies."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.helpers import PASSWORD

from .conftest import TAIPEI, iso, new_id, record_visit, taipei
from .test_review import _payment, _review_form
from .test_visits import FILTERS, html_ids, log  # noqa: F401  (log is a fixture)

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+2", "-3+4", "@SUM(A1)", "\t=1", "＝1"]


def csv_rows(web, path, params=None, headers=None) -> list[dict]:
    response = web.get(path, params or {}, headers=headers or {})
    assert response.content_type == "text/csv"
    assert response.charset == "utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.body.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the file as UTF-8 only with it
    return list(csv.DictReader(io.StringIO(body[1:])))


def xlsx_sheet(web, path, params=None):
    response = web.get(path, params or {})
    assert response.content_type == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.body))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows())
    headers = [c.value for c in rows[0]]
    return [{h: cell for h, cell in zip(headers, row, strict=False)} for row in rows[1:]], headers


def test_filters_and_both_exports_agree_with_the_log(log, sup, app):  # noqa: F811
    world, ids = log["world"], log["ids"]
    app.config["SUPERVISOR_PER_PAGE"] = 2  # the page side spans several pages
    for case in FILTERS:
        params = {k: world.users[v] if k == "collector" else v for k, v in case.items()}
        params = {k: taipei(int(v[1:]), 12).date().isoformat() if v.startswith("D") else v
                  for k, v in params.items()}
        listed = html_ids(sup, params)
        assert listed == [r["Visit"] for r in csv_rows(sup, "/supervisor/visits.csv", params)], case
        sheet, _ = xlsx_sheet(sup, "/supervisor/visits.xlsx", params)
        assert listed == [r["Visit"].value for r in sheet], case
    # A filter that narrows: the same rows as the page, not everything.
    only_far = {"flag": "far_from_site"}
    assert [r["Visit"] for r in csv_rows(sup, "/supervisor/visits.csv", only_far)] \
        == html_ids(sup, only_far) == [ids["far"]]


def test_visit_csv_in_english_words_codes_and_local_times(log, sup):  # noqa: F811
    ids = log["ids"]
    rows = {r["Visit"]: r for r in csv_rows(sup, "/supervisor/visits.csv",
                                             headers={"Accept-Language": "en"})}
    far = rows[ids["far"]]
    assert far["Status"] == "Done" and far["Status (code)"] == "done"
    assert far["Collector"] == "Alice" and far["Collector's user name"] == "alice"
    assert far["Account number"] == "A-2" and far["Customer"] == "Shop 2"
    assert far["Met"] == "Someone else" and far["Met (code)"] == "other_person"
    assert far["Name of the person met"] == "Clerk"
    assert far["Result"] == "Refused to pay" and far["Result (code)"] == "refused"
    assert "Checked in far from the address" in far["Flags"]
    assert set(far["Flags (codes)"].split()) >= {"far_from_site", "not_original_contact"}
    # Taipei's wall clock (the supervisor's zone), and the instant with its offset.
    assert far["Arrived"] == taipei(2, 15).strftime("%Y-%m-%d 15:00:00")
    assert far["Arrived (ISO 8601)"] == taipei(2, 15).isoformat()
    assert far["Arrived (ISO 8601)"].endswith("+08:00")
    assert float(far["Check-in distance (m)"]) > 100  # checked in about 1 km away
    assert far["GPS accuracy (m)"] == "12.0"
    promise = rows[ids["promise"]]
    assert promise["Promised amount"] == "1000.00" and promise["Currency"] == "TWD"
    assert promise["Promised date"] == taipei(-3, 12).date().isoformat()
    assert rows[ids["plan"]]["Status"] == "Planned" and rows[ids["plan"]]["Arrived"] == ""


def test_visit_csv_in_traditional_chinese(log, sup):  # noqa: F811
    ids = log["ids"]
    sup.set_cookie("fv_lang", "zh-Hant")  # the page header's language switch
    rows = {r["外訪"]: r for r in csv_rows(sup, "/supervisor/visits.csv")}
    far = rows[ids["far"]]
    assert far["狀態"] == "已完成" and far["狀態（代碼）"] == "done"
    assert far["會見對象"] == "其他人" and far["會見對象（代碼）"] == "other_person"
    assert far["結果"] == "拒絕付款" and far["結果（代碼）"] == "refused"
    assert "報到位置離登記地址太遠" in far["警示"]
    assert "far_from_site" in far["警示（代碼）"].split()
    assert far["抵達時間"] == taipei(2, 15).strftime("%Y-%m-%d 15:00:00")
    # lang= overrides the page's language, for a link sent to someone else.
    english = csv_rows(sup, "/supervisor/visits.csv", {"lang": "en"})
    assert "Status" in english[0] and "狀態" not in english[0]


def test_money_received_guests_waiting_notes_and_payment_status(world, sup, app):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(0, 10), result="paid_partial",
                            other_guests_present=True, waited_minutes=25,
                            notes="Paid in the back office", departed_at=iso(taipei(0, 11)))
    first = _payment(world, alice, visit_id, 50000)
    _payment(world, alice, visit_id, 20000)
    page = sup.get("/supervisor/payments")
    _review_form(page, first).submit("confirm", status=302)
    row = csv_rows(sup, "/supervisor/visits.csv")[0]
    assert row["Visit"] == visit_id
    assert row["Money received"] == "700.00" and row["Currency"] == "TWD"
    # Both payments collected at the same minute: their order is by id.
    assert sorted(row["Payment status"].split(", ")) == ["Confirmed", "Recorded"]
    assert sorted(row["Payment status (code)"].split()) == ["confirmed", "recorded"]
    assert row["Other guests present"] == "Yes" and row["Minutes waited"] == "25"
    assert row["Notes"] == "Paid in the back office"
    assert row["Left"] == taipei(0, 11).strftime("%Y-%m-%d %H:%M:%S")


def test_visit_workbook_cells_are_typed(world, sup):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(1, 9, 30),
                            result="promise_to_pay", promise_amount=123456,
                            promise_date=taipei(-2, 12).date().isoformat(),
                            other_guests_present=False, waited_minutes=5,
                            met_name=INJECTIONS[0], notes="#N/A")
    rows, headers = xlsx_sheet(sup, "/supervisor/visits.xlsx")
    assert headers[:3] == ["Visit", "Status", "Status (code)"]
    row = rows[0]
    assert row["Visit"].value == visit_id
    arrived = row["Arrived"]
    assert arrived.is_date and arrived.value == taipei(1, 9, 30).replace(tzinfo=None)
    assert isinstance(arrived.value, datetime)
    assert row["Arrived (ISO 8601)"].value == taipei(1, 9, 30).isoformat()
    amount = row["Promised amount"]
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("1234.56")
    assert row["Currency"].value == "TWD"
    assert row["Promised date"].is_date
    assert row["Promised date"].value.date() == taipei(-2, 12).date()
    assert row["Other guests present"].data_type == "b"
    assert row["Other guests present"].value is False
    assert row["Minutes waited"].value == 5 and row["Minutes waited"].data_type == "n"
    # Text stays text: never a formula, never an error value.
    met_name = row["Name of the person met"]
    assert met_name.data_type == "s" and met_name.value == INJECTIONS[0]
    assert row["Notes"].data_type == "s" and row["Notes"].value == "#N/A"


@pytest.mark.parametrize("text", INJECTIONS)
def test_csv_defuses_formulas_from_the_field(world, sup, text):
    alice = world.phone("alice")
    record_visit(alice, world.accounts["A-1"], taipei(0, 10), met="other_person",
                 met_name=text, notes=text)
    row = csv_rows(sup, "/supervisor/visits.csv")[0]
    assert row["Name of the person met"] == "'" + text
    assert row["Notes"] == "'" + text


def test_payments_export_in_words_with_status(world, sup):
    alice = world.phone("alice")
    visit_id = record_visit(alice, world.accounts["A-1"], taipei(0, 10), result="paid_partial")
    kept = _payment(world, alice, visit_id, 50000)
    refused = _payment(world, alice, visit_id, 12345)
    waiting = _payment(world, alice, visit_id, 100)
    page = sup.get("/supervisor/payments")
    assert page.html.select_one('a[href="/supervisor/payments.csv"]') is not None
    assert page.html.select_one('a[href="/supervisor/payments.xlsx"]') is not None
    _review_form(page, kept).submit("confirm", status=302)
    form = _review_form(sup.get("/supervisor/payments"), refused)
    form["note"] = "=cmd|' /C calc'!A0"
    form.submit("reject", status=302)

    rows = {r["Payment"]: r for r in csv_rows(sup, "/supervisor/payments.csv")}
    assert set(rows) == {kept, refused, waiting}
    confirmed = rows[kept]
    assert confirmed["Status"] == "Confirmed" and confirmed["Status (code)"] == "confirmed"
    assert confirmed["Amount"] == "500.00" and confirmed["Currency"] == "TWD"
    assert confirmed["Method"] == "Cash" and confirmed["Method (code)"] == "cash"
    assert confirmed["Collector"] == "Alice" and confirmed["Account number"] == "A-1"
    assert confirmed["Collected"] == taipei(0, 10, 20).strftime("%Y-%m-%d %H:%M:%S")
    assert confirmed["Collected (ISO 8601)"] == taipei(0, 10, 20).isoformat()
    assert confirmed["Reviewed"] != "" and confirmed["Visit"] == visit_id
    assert rows[refused]["Status"] == "Rejected by the office"
    assert rows[refused]["Review note"].startswith("'=cmd")
    assert rows[waiting]["Status"] == "Recorded" and rows[waiting]["Reviewed"] == ""
    # The page's two lists as filters.
    awaiting = csv_rows(sup, "/supervisor/payments.csv", {"status": "awaiting"})
    assert [r["Payment"] for r in awaiting] == [waiting]
    zh = csv_rows(sup, "/supervisor/payments.csv", {"lang": "zh-Hant", "status": "confirmed"})
    assert [(r["狀態"], r["方式"], r["金額"]) for r in zh] == [("已確認", "現金", "500.00")]

    sheet, _ = xlsx_sheet(sup, "/supervisor/payments.xlsx")
    by_id = {r["Payment"].value: r for r in sheet}
    assert by_id[kept]["Amount"].data_type == "n" and by_id[kept]["Amount"].value == 500
    assert by_id[kept]["Collected"].value == taipei(0, 10, 20).replace(tzinfo=None)
    assert by_id[refused]["Review note"].data_type == "s"
    assert by_id[refused]["Review note"].value == "=cmd|' /C calc'!A0"


def test_the_log_links_to_both_files_with_its_filter(log, sup):  # noqa: F811
    page = sup.get("/supervisor/visits", {"result": "refused"})
    links = {a["href"] for a in page.html.select("a[download]")}
    assert links == {"/supervisor/visits.csv?result=refused", "/supervisor/visits.xlsx?result=refused"}
    assert "Download the listed visits:" in page
    sup.set_cookie("fv_lang", "zh-Hant")
    assert "下載列出的外訪" in sup.get("/supervisor/visits")


def _signed_in_client(app):
    client = app.test_client()
    page = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/supervisor/login", data={
        "username": "sup", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def test_exports_stream_their_rows_in_chunks(world, sup, app):
    alice = world.phone("alice")
    n = 450
    mutations = [alice.mutation("visit", new_id(), {
        "account_id": world.accounts["A-1"], "status": "planned",
        "scheduled_at": iso(datetime(2026, 1, 1, 9, tzinfo=TAIPEI)), "plan_notes": f"plan {i}"})
        for i in range(n)]
    for start in range(0, n, 150):
        alice.push(mutations[start:start + 150])
    client = _signed_in_client(app)

    response = client.get("/supervisor/visits.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = iter(response.response)
    first = next(chunks).decode("utf-8")
    # The header leaves before any row is read; the rows follow a few
    # hundred lines at a time, never as one body.
    assert first.startswith("\ufeffVisit,Status,") and first.count("\n") == 1
    second = next(chunks).decode("utf-8")
    assert 0 < second.count("\n") < n
    rest = b"".join(chunks).decode("utf-8")
    response.close()
    assert (second + rest).count("\n") == n

    response = client.get("/supervisor/visits.xlsx", buffered=False)
    assert response.is_streamed
    parts = list(response.response)
    response.close()
    assert parts[0].startswith(b"PK") and max(len(p) for p in parts) <= 64 * 1024
    book = load_workbook(io.BytesIO(b"".join(parts)), read_only=True)
    assert sum(1 for _ in book.worksheets[0].iter_rows()) == n + 1


@pytest.mark.parametrize("path", ["/supervisor/visits.csv", "/supervisor/visits.xlsx",
                                  "/supervisor/payments.csv", "/supervisor/payments.xlsx"])
def test_values_that_do_not_parse_are_ignored_not_a_server_error(log, sup, path):  # noqa: F811
    response = sup.get(path, {"date_from": "yesterday", "date_to": "0001-01-01",
                              "status": "nonsense", "flag": "x", "lang": "klingon",
                              "collector": "'; DROP TABLE visits; --"})
    assert response.status_int == 200 and len(response.body) > 10


def test_rows_are_read_in_chunks_with_each_chunks_payments(log, sup, app):  # noqa: F811
    """Chunks of two rows: the payments query of each chunk runs while the
    visits' cursor is open (a server-side cursor on PostgreSQL)."""
    from server.extensions import db
    from server.supervisor.exports.visits import visit_lines
    from server.supervisor.queries.visits import VisitFilter

    world = log["world"]
    # Each visit gets a payment of its own amount (10.00, 10.01, 10.02), so a
    # payment read with the wrong chunk would show on a neighbour.
    paid = {}
    for name in ("plain", "far", "promise"):
        phone = log["bob"] if name == "promise" else log["alice"]
        account = world.accounts["A-4" if name == "promise" else "A-1"]
        payment_id = new_id()
        assert phone.write("payment", payment_id, {
            "account_id": account if name != "far" else world.accounts["A-2"],
            "visit_id": log["ids"][name], "amount": 1000 + len(paid),
            "method": "cash", "collected_at": iso(taipei(0, 10))})["status"] == "applied"
        paid[log["ids"][name]] = 1000 + len(paid)
    with app.test_request_context():
        lines = list(visit_lines(db.session, VisitFilter(), TAIPEI, chunk=2))
    assert [line.row.id for line in lines] == html_ids(sup, {})
    got = {line.row.id: line.received for line in lines}
    assert got == {**{vid: Decimal(minor).scaleb(-2) for vid, minor in paid.items()},
                   log["ids"]["plan"]: None}
