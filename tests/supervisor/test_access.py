"""Who may see the pages: supervisors only, signed in, with CSRF-protected
forms; and the language each reader gets."""

from __future__ import annotations

from sqlalchemy import update

from server.extensions import db
from server.models import User

from .conftest import csrf_token, sign_in

GET_PAGES = [
    "/supervisor/", "/supervisor/visits", "/supervisor/visits.csv",
    "/supervisor/visits/00000000-0000-4000-8000-000000000000", "/supervisor/conflicts",
    "/supervisor/rejected", "/supervisor/payments", "/supervisor/accounts",
    "/supervisor/accounts/import",
    "/supervisor/visits.xlsx", "/supervisor/payments.csv", "/supervisor/payments.xlsx",
]
POST_ACTIONS = [
    "/supervisor/logout",
    "/supervisor/conflicts/00000000-0000-4000-8000-000000000000/resolve",
    "/supervisor/payments/00000000-0000-4000-8000-000000000000/review",
    "/supervisor/accounts/00000000-0000-4000-8000-000000000000/assign",
    "/supervisor/accounts/00000000-0000-4000-8000-000000000000/escalate",
    "/supervisor/accounts/import", "/supervisor/accounts/import/confirm",
    "/supervisor/accounts/00000000-0000-4000-8000-000000000000/do-not-visit",
    "/supervisor/accounts/00000000-0000-4000-8000-000000000000/do-not-visit/remove",
    "/supervisor/accounts/00000000-0000-4000-8000-000000000000/jurisdiction",
]


def test_anonymous_visitor_is_sent_to_the_login_page(web):
    for path in GET_PAGES:
        response = web.get(path, status=302)
        assert "/supervisor/login?next=" in response.location
        login = response.follow()
        assert login.forms["login"]


def test_login_returns_to_the_page_asked_for_and_refuses_other_sites(world, web):
    response = web.get("/supervisor/visits?result=refused", status=302).follow()
    form = response.forms["login"]
    form["username"], form["password"] = "sup", "correct horse battery"
    assert form.submit(status=302).location.endswith("/supervisor/visits?result=refused")
    web.reset()
    for evil in ("https://evil.example/", "//evil.example/x", "/api/v1/sync/pull"):
        page = web.get("/supervisor/login", {"next": evil})
        form = page.forms["login"]
        form["username"], form["password"], form["next"] = "sup", "correct horse battery", evil
        assert form.submit(status=302).location.endswith("/supervisor/")
        web.reset()


def test_wrong_password_is_refused_and_counted(world, web):
    page = sign_in(web, "sup", "wrong", status=401)
    assert "Wrong user name or password." in page
    sign_in(web, "nobody", "wrong", status=401)
    web.get("/supervisor/", status=302)
    for _ in range(4):
        sign_in(web, "sup", "wrong", status=401)
    # Five failures: even the right password waits now.
    assert "Too many failed attempts" in sign_in(web, "sup", status=429)


def test_a_collector_cannot_sign_in_here(world, web):
    page = sign_in(web, "alice", status=403)
    assert "for supervisors" in page
    web.get("/supervisor/", status=302)  # still not signed in


def test_a_collector_with_a_session_gets_403_everywhere(world, web, app):
    sign_in(web, "sup")
    with app.app_context():  # the role changed after sign-in
        db.session.execute(update(User).where(User.username == "sup").values(role="collector"))
        db.session.commit()
    for path in GET_PAGES:
        response = web.get(path, status=403)
        assert "Not allowed" in response
    token = csrf_token(web.get("/supervisor/", status=403))
    web.post("/supervisor/accounts/00000000-0000-4000-8000-000000000000/assign",
             {"csrf_token": token, "collector": ""}, status=403)


def test_a_deactivated_supervisor_is_signed_out(world, web, app):
    sign_in(web, "sup")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "sup").values(active=False))
        db.session.commit()
    web.get("/supervisor/", status=302)


def test_login_form_needs_its_csrf_token(world, web):
    web.post("/supervisor/login", {"username": "sup", "password": "correct horse battery"},
             status=400)
    web.get("/supervisor/", status=302)


def test_every_form_action_needs_its_csrf_token(sup):
    for path in POST_ACTIONS:
        page = sup.post(path, {"collector": "", "level": "agency", "keep": "1"}, status=400)
        assert "The form expired" in page
        bad = sup.post(path, {"csrf_token": "forged", "collector": ""}, status=400)
        assert "The form expired" in bad
    sup.get("/supervisor/", status=200)  # still signed in: logout needed its token too


def test_sign_out(sup):
    page = sup.get("/supervisor/")
    form = [f for f in page.forms.values() if f.action.endswith("/logout")][0]
    form.submit(status=302).follow()
    sup.get("/supervisor/", status=302)


def test_pages_are_not_cached_nor_framed(sup):
    response = sup.get("/supervisor/visits")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    css = sup.get("/supervisor/static/app.css")
    assert css.content_type == "text/css"


def test_language_from_accept_language_and_from_the_switch(sup):
    english = sup.get("/supervisor/visits")
    assert '<html lang="en">' in english and "Visit log" in english
    chinese = sup.get("/supervisor/visits", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-Hant">' in chinese and "外訪紀錄" in chinese
    switch = english.click(href="/supervisor/language/zh-Hant")
    assert switch.location.endswith("/supervisor/visits")
    assert "外訪紀錄" in switch.follow()
    # The cookie wins over the header from now on.
    back = sup.get("/supervisor/visits", headers={"Accept-Language": "en"})
    assert "外訪紀錄" in back
    sup.get("/supervisor/language/en", {"next": "https://evil.example/"}, status=302)
    assert "Visit log" in sup.get("/supervisor/visits", headers={"Accept-Language": "zh-TW"})


def test_unknown_record_is_a_404_page(sup):
    page = sup.get("/supervisor/visits/nope", status=404)
    assert "There is no such page or record." in page
    sup.get("/supervisor/accounts/nope", status=404)
