"""Bad input never gets a 5xx: each gets a clear 4xx in the one JSON shape,
in the protocol's order 401, 413, 415, 400, 403, 409, and writes nothing."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import AuthToken, Visit, utcnow

from ..helpers import PASSWORD


def assert_error_shape(response, code):
    assert response.status_int == code
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert error["code"] == code and error["status"] and error["message"]
    return error


def visit_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Visit))


def push_raw(web, body, headers, status, content_type="application/json"):
    return web.post("/api/v1/sync/push", body, headers={**headers, "Content-Type": content_type},
                    status=status, expect_errors=True)


def good_body(world, client_id=None):
    import json
    return json.dumps({"client_id": client_id or str(uuid.uuid4()), "mutations": [{
        "seq": 1, "hlc": "1764400000000:0000:x", "entity": "visit", "id": str(uuid.uuid4()),
        "base_version": 0, "fields": {"account_id": world.accounts["A-1"]}}]})


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
def test_missing_or_bad_token_is_401(world, headers):
    response = push_raw(world.web, good_body(world), headers, 401)
    assert_error_shape(response, 401)


def test_logout_revokes_the_token(world):
    alice = world.phone("alice")
    world.web.post("/api/v1/auth/logout", headers=alice.headers, status=204)
    assert_error_shape(alice.pull(status=401), 401)


def test_expired_token_is_401(app, world):
    alice = world.phone("alice")
    with app.app_context():
        db.session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_error_shape(alice.pull(status=401), 401)


def test_401_comes_before_413(world):
    huge = b"x" * (2 * 1024 * 1024 + 1)
    assert_error_shape(push_raw(world.web, huge, {}, 401), 401)


def test_oversized_body_is_413_and_before_415(world):
    alice = world.phone("alice")
    huge = b"x" * (2 * 1024 * 1024 + 1)
    assert_error_shape(push_raw(world.web, huge, alice.headers, 413, "text/plain"), 413)


def test_not_json_is_415(world):
    alice = world.phone("alice")
    assert_error_shape(push_raw(world.web, good_body(world), alice.headers, 415, "text/plain"), 415)


@pytest.mark.parametrize("body,field", [
    ("{not json", None),
    ("[]", None),
    ('{"client_id": "x", "mutations": []}', "client_id"),
    ('{"client_id": "CID", "mutations": []}', "mutations"),
    ('{"client_id": "CID", "mutations": [{"seq": "one"}]}', "mutations.0.seq"),
    ('{"client_id": "CID", "mutations": [], "extra": 1}', "extra"),
])
def test_malformed_requests_are_400_with_field_paths(app, world, body, field):
    body = body.replace("CID", str(uuid.uuid4()))
    alice = world.phone("alice")
    error = assert_error_shape(push_raw(world.web, body, alice.headers, 400), 400)
    if field:
        assert field in error["fields"]
    assert visit_count(app) == 0


def test_non_consecutive_or_too_many_mutations_are_400(app, world):
    alice = world.phone("alice")
    muts = [alice.mutation("visit", str(uuid.uuid4()), {"account_id": world.accounts["A-1"]}) for _ in range(2)]
    muts[1]["seq"] = 5
    assert_error_shape(alice.push(muts, status=400), 400)
    many = [dict(muts[0], seq=i + 1, id=str(uuid.uuid4())) for i in range(501)]
    assert_error_shape(alice.push(many, status=400), 400)
    assert visit_count(app) == 0


def test_400_comes_before_403(world):
    alice = world.phone("alice")
    alice.write("visit", str(uuid.uuid4()), {"account_id": world.accounts["A-1"]})
    bob = world.phone("bob", client_id=alice.client_id)
    assert_error_shape(bob.push([{"seq": "x"}], status=400), 400)


def test_unknown_api_path_and_method_are_json(world):
    assert_error_shape(world.web.get("/api/v1/nope", status=404), 404)
    response = world.web.get("/api/v1/sync/push", status=405, expect_errors=True)
    assert_error_shape(response, 405)


def test_unknown_user_and_wrong_password_get_the_same_401(world):
    a = world.login("nobody", "whatever", status=401).json
    b = world.login("alice", "wrong password", status=401).json
    assert a == b


def test_repeated_login_failures_get_429_with_retry_after(world):
    for _ in range(5):
        world.login("alice", "wrong", status=401)
    response = world.login("alice", PASSWORD, status=429)
    error = assert_error_shape(response, 429)
    assert int(response.headers["Retry-After"]) > 0 and error["retry_after"] > 0
    # Another user is not locked out by alice's failures.
    world.login("bob", PASSWORD, status=200)


@pytest.mark.parametrize("body", ['{"username": "alice"}', '{"username": 1, "password": 2}', "nope"])
def test_bad_login_bodies_are_400(world, body):
    response = world.web.post("/api/v1/auth/login", body, headers={"Content-Type": "application/json"},
                              status=400, expect_errors=True)
    assert_error_shape(response, 400)


def test_openapi_document_is_public_and_describes_every_api_route(app, web):
    doc = web.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = set(doc["paths"])
    # Werkzeug's <name> is OpenAPI's {name}; the document names an attachment's id {id}.
    routes = {re.sub(r"<(?:\w+:)?\w+>", "{id}", r.rule)
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    assert routes - {"/api/v1/health"} <= documented


def test_api_404_and_405_are_true(world):
    response = world.web.post("/api/v1/nope", "{}", headers={"Content-Type": "application/json"},
                              status=404, expect_errors=True)
    assert_error_shape(response, 404)
    response = world.web.get("/api/v1/sync/push", status=405, expect_errors=True)
    assert "GET" not in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_app_files_are_still_served(world):
    assert world.web.get("/sw.js").status_int == 200
    world.web.get("/no-such-file.js", status=404)


def test_login_with_text_no_database_can_hold_is_a_plain_401(world):
    body = world.login("al\u0000ice", "x", status=401).json
    assert body == world.login("nobody", "whatever", status=401).json


def test_an_absurd_time_zone_is_rejected_not_a_5xx(world):
    sup = world.phone("sup")
    result = sup.write("account", world.accounts["A-1"], {"timezone": "Asia/" + "x" * 300}, 1)
    assert result["status"] == "rejected" and "timezone" in result["errors"]
