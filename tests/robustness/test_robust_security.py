"""Security and bad input through HTTP (issue 3, item 5), on SQLite and
PostgreSQL: a collector never reads or writes another collector's
accounts, cursors and tokens cannot be forged or outlive their user's
wishes, passwords are hashed, logins are rate-limited, and every bad
request is a clear 4xx of the one error shape that writes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import (
    AuthToken,
    Client,
    Conflict,
    HistoryEntry,
    Payment,
    RejectedMutation,
    User,
    Visit,
    utcnow,
)

from ..helpers import PASSWORD, hlc, now_ms

TABLES = (Visit, Payment, Client, RejectedMutation, HistoryEntry, Conflict)


def new_id() -> str:
    return str(uuid.uuid4())


def counts(app) -> dict:
    with app.app_context():
        result = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}
        db.session.remove()
        return result


def assert_error_shape(response, code: int) -> dict:
    assert response.status_int == code
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code and isinstance(error["status"], str) and error["status"]
    assert isinstance(error["message"], str) and error["message"]
    return error


# --- scope: ids of another collector's accounts -----------------------------

def test_collector_cannot_write_into_another_collectors_account(app, world):
    alice = world.phone("alice")
    bob_account = world.accounts["A-4"]
    before = counts(app)
    results = alice.push([
        alice.mutation("visit", new_id(), {"account_id": bob_account, "plan_notes": "x"}),
        alice.mutation("payment", new_id(), {"account_id": bob_account, "amount": 100, "method": "cash",
                                             "collected_at": "2026-11-30T10:00:00+08:00"}),
        alice.mutation("account", bob_account, {"notes": "mine now"}, base_version=1),
        alice.mutation("account", world.accounts["A-6"], {"notes": "unassigned"}, base_version=1),
    ]).json["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert all("version" not in r for r in results)  # not even the version leaks
    after = counts(app)
    assert after["Visit"] == before["Visit"] and after["Payment"] == before["Payment"]
    assert after["RejectedMutation"] == before["RejectedMutation"] + 4
    with app.app_context():
        from server.models import Account
        assert db.session.get(Account, bob_account).notes is None


def test_collector_cannot_edit_a_visit_of_another_collector_by_its_id(app, world):
    bob, alice = world.phone("bob"), world.phone("alice")
    visit = new_id()
    assert bob.write("visit", visit, {"account_id": world.accounts["A-4"], "plan_notes": "bob's"})["status"] == "applied"
    result = alice.write("visit", visit, {"plan_notes": "alice was here"}, base_version=1)
    assert result["status"] == "rejected" and "version" not in result
    with app.app_context():
        assert db.session.get(Visit, visit).plan_notes == "bob's"


def test_pull_never_shows_another_collectors_records(world):
    bob, alice = world.phone("bob"), world.phone("alice")
    visit, payment = new_id(), new_id()
    bob.push([
        bob.mutation("visit", visit, {"account_id": world.accounts["A-4"]}),
        bob.mutation("payment", payment, {"account_id": world.accounts["A-4"], "amount": 100,
                                          "method": "cash", "collected_at": "2026-11-30T10:00:00+08:00"}),
    ])
    seen = {c["id"] for c in alice.pull_all(limit=2)}
    assert seen == {world.accounts[r] for r in ("A-1", "A-2", "A-3")}
    assert not {visit, payment, world.accounts["A-4"], world.accounts["A-5"], world.accounts["A-6"]} & seen


# --- cursors ---------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _forgeries(cursor: str, bob_cursor: str) -> dict[str, str]:
    body, signature = cursor.split(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    rewound = _b64(json.dumps({**payload, "p": 0}, separators=(",", ":")).encode())
    bob_body = bob_cursor.split(".", 1)[0]
    flipped = bytearray(cursor.encode())
    flipped[len(body) // 2] ^= 0x01
    return {
        "flipped byte": flipped.decode(errors="replace"),
        "rewound, old signature": f"{rewound}.{signature}",
        "bob's payload, alice's signature": f"{bob_body}.{signature}",
        "bob's cursor": bob_cursor,
        "no signature": body,
        "empty signature": body + ".",
        "not base64": "%%%.%%%",
        "json list": _b64(b"[1,2]") + "." + signature,
        "ahead of the feed": _b64(json.dumps({**payload, "p": 10**9}).encode()) + "." + signature,
    }


def test_edited_or_foreign_cursors_are_410_never_data(world):
    alice, bob = world.phone("alice"), world.phone("bob")
    alice.pull_all()
    bob.pull_all()
    for name, forged in _forgeries(alice.cursor, bob.cursor).items():
        response = alice.pull(forged, status="*")
        assert response.status_int == 410, name
        assert_error_shape(response, 410)
    # The genuine one still works.
    assert alice.pull(alice.cursor).json["changes"] == []


# --- client ids, tokens, passwords, logins --------------------------------

def test_client_id_of_another_user_is_403(app, world):
    alice = world.phone("alice")
    alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]})
    bob = world.phone("bob", client_id=alice.client_id)
    before = counts(app)
    response = bob.push([bob.mutation("visit", new_id(), {"account_id": world.accounts["A-4"]})], status=403)
    assert_error_shape(response, 403)
    assert counts(app) == before


def test_logout_revokes_the_token(world):
    alice = world.phone("alice")
    assert world.web.post("/api/v1/auth/logout", headers=alice.headers, status=204)
    assert_error_shape(alice.pull(status=401), 401)
    assert_error_shape(alice.push([alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"]})],
                                  status=401), 401)
    assert_error_shape(world.web.post("/api/v1/auth/logout", headers=alice.headers, status=401), 401)


def test_expired_token_is_401(app, world):
    alice = world.phone("alice")
    with app.app_context():
        db.session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_error_shape(alice.pull(status=401), 401)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic YWxpY2U6eA==", "Bearer not-a-token",
                                    "Token abc"])
def test_missing_or_bad_authorization_is_401(world, header):
    response = world.web.get("/api/v1/sync/pull", headers={"Authorization": header} if header else {},
                             status=401)
    assert_error_shape(response, 401)


def test_passwords_and_tokens_are_stored_hashed(app, world):
    token = world.phone("alice").token
    with app.app_context():
        for user in db.session.scalars(select(User)):
            assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
            assert PASSWORD not in user.password_hash
        stored = db.session.scalars(select(AuthToken.token_hash)).all()
        assert token not in stored and all(len(h) == 64 for h in stored)


def test_unknown_user_and_wrong_password_answer_identically(world):
    unknown = world.login("mallory", "whatever-password", status=401)
    wrong = world.login("alice", "whatever-password", status=401)
    assert unknown.json == wrong.json
    assert unknown.headers.get("WWW-Authenticate") == wrong.headers.get("WWW-Authenticate")


def test_login_is_rate_limited_after_five_failures(world):
    for _ in range(5):
        world.login("alice", "wrong password", status=401)
    limited = world.login("alice", PASSWORD, status=429)  # even the right password now
    error = assert_error_shape(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and error["retry_after"] >= 1
    # The limit is per user name: bob can still log in from here.
    world.login("bob", PASSWORD, status=200)


# --- bad input -------------------------------------------------------------

def _mutation(world, seq=1, **over):
    m = {"seq": seq, "hlc": hlc(now_ms(), "dev"), "entity": "visit", "id": new_id(), "base_version": 0,
         "fields": {"account_id": world.accounts["A-1"]}}
    m.update(over)
    return m


def _bad_pushes(world, client_id):
    ok = _mutation(world)
    yield "malformed json", b'{"client_id": ', "application/json", 400
    yield "json array", b"[]", "application/json", 400
    yield "json string", b'"push"', "application/json", 400
    yield "not utf-8", b'{"client_id": "\xff\xfe"}', "application/json", 400
    yield "form body", b"client_id=x", "application/x-www-form-urlencoded", 415
    yield "text body", json.dumps({"client_id": client_id, "mutations": [ok]}).encode(), "text/plain", 415
    yield "no content type", b"{}", "", 415

    def body(**envelope):
        return json.dumps({"client_id": client_id, "mutations": [ok], **envelope}).encode()

    yield "unknown top-level field", body(extra=1), "application/json", 400
    yield "client_id not a uuid", body(client_id="phone-1"), "application/json", 400
    yield "client_id upper case", body(client_id=client_id.upper()), "application/json", 400
    yield "client_id trailing newline", body(client_id=client_id + "\n"), "application/json", 400
    yield "mutations not a list", body(mutations={"0": ok}), "application/json", 400
    yield "empty mutation list", body(mutations=[]), "application/json", 400
    yield "501 mutations", body(mutations=[_mutation(world, seq=i) for i in range(1, 502)]), "application/json", 400
    yield "non-consecutive seqs", body(mutations=[_mutation(world, 1), _mutation(world, 3)]), "application/json", 400
    yield "descending seqs", body(mutations=[_mutation(world, 2), _mutation(world, 1)]), "application/json", 400
    yield "seq as string", body(mutations=[_mutation(world, seq="1")]), "application/json", 400
    yield "seq zero", body(mutations=[_mutation(world, seq=0)]), "application/json", 400
    yield "seq boolean", body(mutations=[_mutation(world, seq=True)]), "application/json", 400
    yield "seq float", body(mutations=[_mutation(world, seq=1.5)]), "application/json", 400
    yield "seq huge", body(mutations=[_mutation(world, seq=2**70)]), "application/json", 400
    yield "base_version negative", body(mutations=[_mutation(world, base_version=-1)]), "application/json", 400
    yield "unknown mutation key", body(mutations=[{**ok, "op": "upsert"}]), "application/json", 400
    yield "missing fields", body(mutations=[{k: v for k, v in ok.items() if k != "fields"}]), "application/json", 400
    yield "fields a list", body(mutations=[_mutation(world, fields=[])]), "application/json", 400
    yield "unknown entity", body(mutations=[_mutation(world, entity="user")]), "application/json", 400
    yield "id not a uuid", body(mutations=[_mutation(world, id="1")]), "application/json", 400
    yield "id trailing newline", body(mutations=[_mutation(world, id=new_id() + "\n")]), "application/json", 400
    yield "hlc malformed", body(mutations=[_mutation(world, hlc="yesterday")]), "application/json", 400
    yield "hlc trailing newline", body(mutations=[_mutation(world, hlc=hlc(now_ms(), "dev") + "\n")]), "application/json", 400
    yield "hlc arabic digits", body(mutations=[_mutation(world, hlc="١٧٦٤٤٠٠٠٠٠٠٠٠:0000:dev")]), "application/json", 400
    yield "body over 2 MiB", body(pad="x" * (2 * 1024 * 1024 + 1)), "application/json", 413


@pytest.fixture
def bad_push_cases(world):
    return list(_bad_pushes(world, new_id()))


def test_bad_pushes_are_clear_4xx_and_write_nothing(app, world, bad_push_cases):
    alice = world.phone("alice")
    alice.write("visit", new_id(), {"account_id": world.accounts["A-1"]})  # a bound client with last_seq 1
    before = counts(app)
    wrong = []  # every case is tried, so one run lists all that misbehave
    for name, raw, content_type, code in bad_push_cases:
        headers = {**alice.headers}
        if content_type:
            headers["Content-Type"] = content_type
        response = world.web.post("/api/v1/sync/push", raw, headers=headers, status="*",
                                  content_type=content_type or None)
        if response.status_int != code:
            wrong.append((name, response.status_int, response.body[:200]))
            continue
        assert_error_shape(response, code)
        assert counts(app) == before, name
    assert wrong == []


def test_huge_body_without_token_is_401_not_413(world):
    body = b'{"pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = world.web.post("/api/v1/sync/push", body, content_type="application/json", status=401)
    assert_error_shape(response, 401)


def test_gap_is_409_and_writes_nothing(app, world):
    alice = world.phone("alice")
    before = counts(app)
    response = alice.push([_mutation(world, seq=5)], status=409)
    assert assert_error_shape(response, 409)["expected_seq"] == 1
    assert counts(app) == before


def test_unknown_record_ids_are_rejected_not_created(app, world):
    alice = world.phone("alice")
    results = alice.push([
        alice.mutation("visit", new_id(), {"plan_notes": "edit of nothing"}, base_version=3),
        alice.mutation("visit", new_id(), {"account_id": str(uuid.uuid4())}),
        alice.mutation("payment", new_id(), {"account_id": world.accounts["A-1"], "visit_id": new_id(),
                                             "amount": 5, "method": "cash",
                                             "collected_at": "2026-11-30T10:00:00+08:00"}),
    ]).json["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert counts(app)["Visit"] == 0 and counts(app)["Payment"] == 0


@pytest.mark.parametrize("fields", [
    {"plan_notes": "nul \u0000 byte"},
    {"met_name": "\u0000"},
    {"scheduled_at": "0001-01-01T00:00:00+14:00"},
    {"scheduled_at": "9999-12-31T23:59:59-14:00"},
    {"arrived_at": "0001-01-01T00:00:00+00:00", "status": "done", "met": "original_contact",
     "result": "refused", "conduct_confirmed": True},
    {"checkin_lat": 1e308, "checkin_lon": -1e308},
    {"waited_minutes": 2**63},
    {"promise_amount": 10**30},
    {"plan_notes": "\ud800"},
])
def test_hostile_field_values_never_give_a_5xx(app, world, fields):
    """Values a careless or hostile client may send inside ``fields``: a
    rejection (or acceptance) is fine; a 5xx would roll back the whole
    batch and block the phone's outbox for ever."""
    alice = world.phone("alice")
    good = new_id()
    response = alice.push([
        alice.mutation("visit", new_id(), {"account_id": world.accounts["A-1"], **fields}),
        alice.mutation("visit", good, {"account_id": world.accounts["A-1"]}),
    ], status="*")
    assert response.status_int == 200, response.body[:500]
    assert response.json["results"][1]["status"] == "applied"
    assert response.json["last_seq"] == 2


@pytest.mark.parametrize("username", ["\u0000", "alice\u0000", "x" * 65, "\ud800"])
def test_hostile_login_names_are_4xx(world, username):
    response = world.web.post_json("/api/v1/auth/login", {"username": username, "password": "p"},
                                   status="*")
    assert 400 <= response.status_int < 500, response.body[:300]
    assert_error_shape(response, response.status_int)


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "limit=1.5", "colour=red",
                                   "cursor=" + "a" * 1001])
def test_bad_pull_queries_are_400(world, query):
    alice = world.phone("alice")
    response = world.web.get(f"/api/v1/sync/pull?{query}", headers=alice.headers, status=400)
    assert_error_shape(response, 400)


@pytest.mark.parametrize("method,path,code", [
    ("GET", "/api/v1/nothing-here", 404),
    ("GET", "/api/v1/sync/push", 405),
    ("PUT", "/api/v1/sync/pull", 405),
    ("DELETE", "/api/v1/sync/push", 405),
    ("PATCH", "/api/v1/auth/login", 405),
    ("GET", "/api/v2/sync/pull", 404),
])
def test_unknown_paths_and_methods_on_api_are_json(world, method, path, code):
    response = world.web.request(path, method=method, status="*")
    assert_error_shape(response, code)
