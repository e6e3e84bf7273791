"""Signing in and out, and the language switch."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ...entities import is_storable
from ...extensions import db
from ...services.login_limits import LoginLimits, LoginOutcome, attempt_login
from ...sessions import end_sessions, start_session
from .. import i18n, safe_next, supervisor
from ..forms import CsrfForm, LoginForm


@supervisor.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and current_user.is_supervisor:
        return redirect(safe_next(request.args.get("next")) or url_for("supervisor.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    error = None
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        if is_storable(username) and is_storable(form.password.data):
            outcome = attempt_login(username, form.password.data, request.remote_addr,
                                    LoginLimits.from_config(current_app.config))
        else:
            outcome = LoginOutcome()  # no stored user can match such text
        user = outcome.user
        if outcome.refused:
            error, status = ("Too many failed attempts. Try again in {seconds} seconds.",
                             {"seconds": outcome.wait_s}), 429
        elif user is None:
            error, status = ("Wrong user name or password.", {}), 401
        elif not user.is_supervisor:
            error, status = ("These pages are for supervisors. Collectors record visits "
                             "in the collector app.", {}), 403
        else:
            login_user(user)
            start_session(user)
            return redirect(safe_next(form.next.data) or url_for("supervisor.dashboard"))
    elif request.method == "POST":
        status = 400
        error = ("Enter your user name and password.", {})
    return render_template("supervisor/login.html", form=form, error=error), status


@supervisor.post("/logout")
def logout():
    form = CsrfForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            end_sessions(current_user)
            db.session.commit()
        logout_user()
        flash(("You are signed out.", {}), "ok")
    return redirect(url_for("supervisor.login"))


@supervisor.get("/language/<code>")
def set_language(code: str):
    """Remember the reader's language for a year and go back where they were."""
    lang = i18n.normalise(code) or "en"
    target = safe_next(request.args.get("next")) or url_for("supervisor.dashboard")
    response = redirect(target)
    response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=request.is_secure)
    return response
