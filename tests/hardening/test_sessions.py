"""Supervisor sessions end when they should, on SQLite and PostgreSQL:
signing out ends every copy of the cookie, an idle session expires, the
cookie is SameSite and Secure over HTTPS (directly or behind a trusted
proxy), and trusted proxies pass the client's real address on."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from webtest import TestApp

from server.extensions import db
from server.models import LoginFailure

from ..conftest import make_app
from ..helpers import PASSWORD, World
from ..supervisor.conftest import csrf_token, sign_in

# Flask-WTF checks the Referer of a form posted over HTTPS, as a browser sends it.
HTTPS_REFERER = "https://localhost:80/supervisor/login"


def session_cookie(web) -> str:
    return web.cookies["session"]


def set_cookie_header(response) -> str:
    return next(v for k, v in response.headerlist
                if k.lower() == "set-cookie" and v.startswith("session="))


def test_a_copy_of_the_cookie_stops_working_after_sign_out(app, world, web):
    sign_in(web, "sup")
    stolen = session_cookie(web)
    thief = TestApp(app)
    thief.set_cookie("session", stolen)
    assert thief.get("/supervisor/").status_int == 200
    page = web.get("/supervisor/")
    web.post("/supervisor/logout", {"csrf_token": csrf_token(page)}, status=302)
    assert thief.get("/supervisor/", status=302).location.endswith(
        "/supervisor/login?next=/supervisor/")
    # Signing in again works, with a new cookie.
    sign_in(web, "sup")
    assert web.get("/supervisor/").status_int == 200
    assert thief.get("/supervisor/", status=302)


def test_the_session_cookie_is_samesite_httponly_and_not_forever(world, web):
    page = web.get("/supervisor/login")
    form = page.forms["login"]
    form["username"], form["password"] = "sup", PASSWORD
    header = set_cookie_header(form.submit(status=302))
    assert "SameSite=Lax" in header and "HttpOnly" in header
    assert "Secure" not in header  # plain HTTP on loopback: a Secure cookie would never come back
    assert "Expires=" in header


def test_the_cookie_is_secure_over_https(world, web):
    page = web.get("/supervisor/login", extra_environ={"wsgi.url_scheme": "https"})
    form = page.forms["login"]
    form["username"], form["password"] = "sup", PASSWORD
    response = form.submit(status=302, extra_environ={"wsgi.url_scheme": "https"},
                           headers={"Referer": HTTPS_REFERER})
    assert "Secure" in set_cookie_header(response)


@pytest.fixture
def configured_app(backend, tmp_path, request):
    made = []

    def make(**config):
        app = make_app(backend, tmp_path, request, config)
        made.append(app)
        return app, World.create(app, TestApp(app))

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_cookie_is_secure_when_configured(configured_app):
    app, world = configured_app(SESSION_COOKIE_SECURE=True)
    # Even the login page's cookie (its CSRF token) is Secure, so over
    # plain HTTP a browser never sends it back: the form cannot be used.
    assert "Secure" in set_cookie_header(world.web.get("/supervisor/login"))


@pytest.mark.parametrize("trusted, secure", [(0, False), (1, True)])
def test_behind_a_trusted_https_proxy_the_cookie_is_secure(configured_app, trusted, secure):
    app, world = configured_app(TRUSTED_PROXIES=trusted)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5",
               "Referer": HTTPS_REFERER}
    page = world.web.get("/supervisor/login", headers=headers)
    form = page.forms["login"]
    form["username"], form["password"] = "sup", PASSWORD
    response = form.submit(status=302, headers=headers)
    assert ("Secure" in set_cookie_header(response)) is secure


@pytest.mark.parametrize("trusted, forwarded, counted", [
    (0, "203.0.113.5", "127.0.0.1"),                  # nobody trusted: the peer's address
    (1, "203.0.113.5", "203.0.113.5"),                # one proxy: the client it saw
    (1, "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # a forged first entry is not believed
    (2, "198.51.100.1, 203.0.113.5", "198.51.100.1"),
])
def test_trusted_proxies_pass_the_client_address_to_the_login_limit(
        configured_app, trusted, forwarded, counted):
    app, world = configured_app(TRUSTED_PROXIES=trusted)
    world.web.post_json("/api/v1/auth/login", {"username": "alice", "password": "nope"},
                        headers={"X-Forwarded-For": forwarded},
                        extra_environ={"REMOTE_ADDR": "127.0.0.1"}, status=401)
    with app.app_context():
        assert db.session.scalars(select(LoginFailure.remote_addr)).all() == [counted]


def test_an_idle_session_expires_and_an_active_one_does_not(configured_app):
    app, world = configured_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=3))
    active, idle = TestApp(app), TestApp(app)
    sign_in(active, "sup")
    sign_in(idle, "sup")
    for _ in range(4):  # 4.8 s of use, never 3 s apart
        time.sleep(1.2)
        assert active.get("/supervisor/").status_int == 200
    assert idle.get("/supervisor/", status=302)


def test_a_failed_statement_never_shows_its_parameters(app):
    """Debtor data reaches the database as parameters; an error message
    (and so a traceback in a log) must not carry them."""
    with app.app_context():
        with pytest.raises(SQLAlchemyError) as failure:
            db.session.execute(text("INSERT INTO no_such_table (name) VALUES (:name)"),
                               {"name": "Chen Mei-ling 0912-345-678"})
        db.session.rollback()
    assert "Chen Mei-ling" not in str(failure.value)
    assert "0912-345-678" not in str(failure.value)
