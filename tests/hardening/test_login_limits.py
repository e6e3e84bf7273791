"""The login limit on the API and the supervisor pages, on SQLite and
PostgreSQL: wrong passwords typed from one address never shut the user
out elsewhere, the wait grows with every failure instead of a hard lock,
a supervisor can clear it, and parallel guesses cannot race past it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from server.extensions import db
from server.models import LoginFailure

from ..helpers import PASSWORD
from ..supervisor.conftest import sign_in

GUESSER = "192.0.2.66"       # documentation addresses (RFC 5737, RFC 3849)
OFFICE = "198.51.100.7"


def api_login(web, username, password, address, status="*"):
    return web.post_json("/api/v1/auth/login", {"username": username, "password": password},
                         extra_environ={"REMOTE_ADDR": address}, status=status,
                         expect_errors=True)


def page_login(web, username, password, address, status):
    page = web.get("/supervisor/login", extra_environ={"REMOTE_ADDR": address})
    form = page.forms["login"]
    form["username"] = username
    form["password"] = password
    return form.submit(status=status, extra_environ={"REMOTE_ADDR": address})


def age_failures(app, seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past."""
    with app.app_context():
        for row in db.session.scalars(select(LoginFailure)):
            row.at = row.at - timedelta(seconds=seconds)
        db.session.commit()
        db.session.remove()


def failures(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(LoginFailure)
        for key, value in where.items():
            query = query.where(getattr(LoginFailure, key) == value)
        result = db.session.scalar(query)
        db.session.remove()
        return result


# --- nobody can lock anyone out ----------------------------------------------

def test_guesses_from_one_address_do_not_stop_the_user_elsewhere(world):
    for _ in range(8):
        assert api_login(world.web, "alice", "guess", GUESSER).status_int in (401, 429)
    assert api_login(world.web, "alice", PASSWORD, GUESSER).status_int == 429
    assert api_login(world.web, "alice", PASSWORD, OFFICE).status_int == 200


def test_guesses_do_not_stop_a_supervisor_signing_in_elsewhere(world, web):
    for _ in range(6):
        api_login(web, "sup", "guess", GUESSER)
    page = page_login(web, "sup", PASSWORD, GUESSER, status=429)
    assert "Too many failed attempts" in page
    page_login(web, "sup", PASSWORD, OFFICE, status=302)
    assert web.get("/supervisor/").status_int == 200


def test_the_wait_grows_with_every_failure_instead_of_a_hard_lock(app, world):
    for _ in range(5):
        assert api_login(world.web, "alice", "guess", GUESSER).status_int == 401
    first = api_login(world.web, "alice", PASSWORD, GUESSER)
    assert first.status_int == 429
    assert 25 <= int(first.headers["Retry-After"]) <= 30
    assert first.json["error"]["retry_after"] == int(first.headers["Retry-After"])
    age_failures(app, 31)  # the first wait is over: the next guess is checked
    assert api_login(world.web, "alice", "guess", GUESSER).status_int == 401
    second = api_login(world.web, "alice", PASSWORD, GUESSER)
    assert second.status_int == 429 and 55 <= int(second.headers["Retry-After"]) <= 60
    age_failures(app, 61)
    assert api_login(world.web, "alice", PASSWORD, GUESSER).status_int == 200
    # A correct password forgets that address's failures.
    assert failures(app, username="alice") == 0


def test_refused_attempts_are_not_counted_as_guesses(app, world):
    for _ in range(5):
        api_login(world.web, "alice", "guess", GUESSER)
    for _ in range(10):
        assert api_login(world.web, "alice", "guess", GUESSER).status_int == 429
    assert failures(app, username="alice") == 5


def test_one_address_failing_for_many_users_is_slowed_down(world):
    for i in range(20):
        assert api_login(world.web, f"nobody{i}", "guess", GUESSER).status_int == 401
    assert api_login(world.web, "bob", PASSWORD, GUESSER).status_int == 429
    assert api_login(world.web, "bob", PASSWORD, OFFICE).status_int == 200


def test_an_ipv6_guesser_counts_as_its_whole_network(world):
    for i in range(5):
        api_login(world.web, "alice", "guess", f"2001:db8:1:2::{i + 1}")
    assert api_login(world.web, "alice", PASSWORD, "2001:db8:1:2:ffff::9").status_int == 429
    assert api_login(world.web, "alice", PASSWORD, "2001:db8:1:3::1").status_int == 200


# --- a supervisor clears a wait -----------------------------------------------

def test_a_supervisor_sees_and_clears_a_users_wait(app, world, web):
    for _ in range(6):
        api_login(world.web, "alice", "guess", GUESSER)
    assert api_login(world.web, "alice", PASSWORD, GUESSER).status_int == 429
    sign_in(web, "sup")
    page = web.get("/supervisor/sign-ins")
    row = page.html.select_one(f'tr[data-user="alice"][data-address="{GUESSER}"]')
    text = row.get_text(" ", strip=True)
    assert "waits until" in text and " 5 " in f" {text} "
    form = next(f for f in page.forms.values() if f.get("username", default=None) is not None
                and f["username"].value == "alice")
    done = form.submit(status=302).follow()
    assert "Cleared 5 failed sign-ins of alice" in done
    assert "No failed sign-ins." in done
    assert api_login(world.web, "alice", PASSWORD, GUESSER).status_int == 200


def test_the_sign_ins_page_speaks_chinese(world, web):
    api_login(world.web, "alice", "guess", GUESSER)
    sign_in(web, "sup")
    page = web.get("/supervisor/sign-ins", headers={"Accept-Language": "zh-TW"})
    assert "登入失敗" in page and "清除" in page


def test_clearing_needs_the_csrf_token(world, web):
    sign_in(web, "sup")
    web.post("/supervisor/sign-ins/clear", {"username": "alice"}, status=400)


# --- the race ------------------------------------------------------------------

@pytest.fixture
def live_server(app, world):
    """The app on a real threaded HTTP server on loopback, so that parallel
    logins really run in parallel (WebTest calls the app one at a time)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def test_forty_parallel_guesses_check_at_most_five_passwords(app, live_server):
    import http.client
    import json

    port = int(live_server.rsplit(":", 1)[1])
    barrier = threading.Barrier(40)

    def guess(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"username": "alice", "password": f"guess-{i}"})
        barrier.wait()
        conn.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
        return status

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(guess, range(40)))
    checked = statuses.count(401)
    assert statuses.count(401) + statuses.count(429) == 40, statuses
    assert checked <= 5, statuses
    assert failures(app, username="alice") == checked
