"""Hostile input that used to end in a 500 now gets a clear 4xx (JSON of the
one error shape under /api), on SQLite and PostgreSQL: JSON nested a
thousand levels deep, file names longer than any file system allows,
visit-log dates at the ends of the calendar, and the smaller findings of
the same review (CSV formula starts, the icon generator, headers)."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import LoginFailure, RejectedMutation, Visit
from server.supervisor.exports.cells import defused as _cell

from ..supervisor.conftest import record_visit, sign_in, taipei


def assert_json_error(response, code: int) -> dict:
    assert response.status_int == code, response.text[:300]
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert error["code"] == code and error["message"]
    return error


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def count(app, model) -> int:
    with app.app_context():
        result = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return result


# --- JSON nested deeper than anything the protocol needs ---------------------

@pytest.mark.parametrize("depth", [100, 600, 1000, 1100, 5000])
def test_deeply_nested_login_body_is_400(world, depth):
    body = '{"username": "alice", "password": ' + nested(depth, '"x"') + "}"
    response = world.web.post("/api/v1/auth/login", body, status="*", expect_errors=True,
                              headers={"Content-Type": "application/json"})
    assert_json_error(response, 400)
    assert count(world.app, LoginFailure) == 0


@pytest.mark.parametrize("depth", [100, 900, 1000, 1100])
def test_deeply_nested_push_is_400_and_writes_nothing(app, world, depth):
    alice = world.phone("alice")
    fields = '{"account_id": "' + world.accounts["A-1"] + '", "notes": ' + nested(depth) + "}"
    body = ('{"client_id": "' + str(uuid.uuid4()) + '", "mutations": [{"seq": 1, '
            '"hlc": "1764400000000:0000:x", "entity": "visit", "id": "' + str(uuid.uuid4())
            + '", "base_version": 0, "fields": ' + fields + "}]}")
    response = world.web.post("/api/v1/sync/push", body, status="*", expect_errors=True,
                              headers={**alice.headers, "Content-Type": "application/json"})
    error = assert_json_error(response, 400)
    assert "nested" in error["message"]
    assert count(app, Visit) == 0 and count(app, RejectedMutation) == 0


def test_ordinary_nesting_still_works(world):
    """The depth limit leaves room for every body the protocol describes."""
    alice = world.phone("alice")
    result = alice.write("visit", str(uuid.uuid4()), {"account_id": world.accounts["A-1"],
                                                      "plan_notes": "fine"})
    assert result["status"] == "applied"


# --- file names longer than NAME_MAX ----------------------------------------

@pytest.mark.parametrize("path", [
    "/" + "a" * 256,
    "/" + "a" * 5000,
    "/js/" + "%C3%A9" * 200 + ".js",     # é: 400 bytes in UTF-8
    "/icons/" + "x" * 300 + "/icon.svg",
    "/" + "/".join(["abcdefgh"] * 600),  # a path longer than PATH_MAX
])
def test_over_long_file_names_are_404(web, path):
    response = web.get(path, status="*", expect_errors=True)
    assert response.status_int == 404


@pytest.mark.parametrize("path", ["/api/" + "a" * 300, "/api/v1/" + "b" * 256 + "/x"])
def test_over_long_api_paths_are_json_404(web, path):
    assert_json_error(web.get(path, status="*", expect_errors=True), 404)


def test_the_app_shell_is_still_served(web):
    assert web.get("/").status_int == 200
    assert web.get("/js/app.js").status_int == 200


def test_the_icon_generator_is_not_served(web):
    assert web.get("/icons/make_icons.py", status="*", expect_errors=True).status_int == 404
    assert web.get("/icons/icon.svg").status_int == 200


# --- the visit log's date filter at the ends of the calendar ----------------

@pytest.fixture
def sup_with_visit(world, web):
    alice = world.phone("alice")
    record_visit(alice, world.accounts["A-1"], taipei(1, 10))
    sign_in(web, "sup")
    return web


DATE_CASES = [
    {"date_from": "0001-01-01"},
    {"date_to": "9999-12-31"},
    {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    {"date_from": "9999-12-31"},
    {"date_to": "0001-01-01"},
]


@pytest.mark.parametrize("params", DATE_CASES)
def test_visit_log_with_dates_at_the_ends_of_the_calendar(sup_with_visit, params):
    page = sup_with_visit.get("/supervisor/visits", params, status="*", expect_errors=True)
    assert page.status_int == 200
    # The date outside what the log can hold is named as not understood.
    assert "ignored" in page.text


@pytest.mark.parametrize("params", DATE_CASES)
def test_visit_csv_with_dates_at_the_ends_of_the_calendar_is_whole(sup_with_visit, params):
    response = sup_with_visit.get("/supervisor/visits.csv", params, status="*", expect_errors=True)
    assert response.status_int == 200
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][0] == "Visit"
    # The ignored date leaves the other filter: every row is complete.
    assert all(len(row) == len(rows[0]) for row in rows)


# --- CSV cells a spreadsheet would run as a formula -------------------------

@pytest.mark.parametrize("text", [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
    " =1", "\u00a0=1", "\u200b=1", "\n=1", "\ufeff=1", "  \u3000=1",
    "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", " \uff1d1",
    "\ufe661", "\u2060=1",
])
def test_csv_cells_never_start_a_formula(text):
    assert _cell(text).startswith("'")


@pytest.mark.parametrize("text", ["Shop 1", "陳美玲", "", "1+1", "a=b", "50%"])
def test_csv_plain_text_is_unchanged(text):
    assert _cell(text) == text


# --- headers -----------------------------------------------------------------

def test_collector_app_has_a_strict_content_security_policy(web):
    for path in ("/", "/index.html", "/js/app.js", "/sw.js", "/manifest.webmanifest"):
        response = web.get(path)
        csp = response.headers["Content-Security-Policy"]
        directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
        assert directives["script-src"] == ["'self'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_collector_app_page_has_no_inline_script(web):
    html = web.get("/").html
    for script in html.find_all("script"):
        assert script.get("src"), "an inline script would be blocked by the CSP"
    assert not any(attr.startswith("on") for tag in html.find_all(True) for attr in tag.attrs)


def test_api_answers_are_never_stored_by_caches(world):
    login = world.login("alice")
    assert login.headers["Cache-Control"] == "no-store"
    token = login.json["token"]
    pull = world.web.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"})
    assert pull.headers["Cache-Control"] == "no-store"
    for path in ("/api/v1/nope", "/api/v1/sync/pull"):
        error = world.web.get(path, status="*", expect_errors=True)
        assert error.status_int in (401, 404)
        assert error.headers["Cache-Control"] == "no-store"
    bad = world.web.post("/api/v1/auth/login", "{", status=400,
                         headers={"Content-Type": "application/json"})
    assert bad.headers["Cache-Control"] == "no-store"
    assert json.loads(bad.text)["error"]["code"] == 400
