"""Supervisor pages under ``/supervisor`` (server-rendered, Flask-Login).

Every page is for supervisors only, checked once for the whole blueprint
before any view runs: an anonymous visitor is sent to the login page and a
signed-in collector gets 403. Views stay thin; the queries they show live
in ``queries/`` and the changes they make in ``actions.py``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.routing import BaseConverter

from ..extensions import db, login_manager
from ..maps import tile_origin
from ..models import User
from ..sessions import session_is_current
from . import formatting, i18n

supervisor = Blueprint(
    "supervisor", __name__, url_prefix="/supervisor",
    static_folder="../static/supervisor", static_url_path="/static",
)

class RecordIdConverter(BaseConverter):
    """A record's id in a page's path: a lower-case hyphenated UUID, or the
    path is no page at all (404) — never text sent on to the database."""

    regex = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


supervisor.record_once(
    lambda state: state.app.url_map.converters.setdefault("id", RecordIdConverter))

# Reachable without a supervisor's session.
OPEN_ENDPOINTS = {"supervisor.login", "supervisor.static", "supervisor.set_language"}


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, user_id)
    # A session from before the user signed out (a copied cookie) is over.
    if user is None or not session_is_current(user):
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """Only a path inside these pages: never another site (open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/supervisor") \
            or target.startswith("//") or "\\" in target:
        return None
    return target


@supervisor.before_request
def require_supervisor():
    g.fv_lang = i18n.pick_language()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("supervisor.login", next=request.full_path.rstrip("?")))
    if not current_user.is_supervisor:
        abort(403)
    return None


@supervisor.after_request
def page_headers(response):
    # Debtor data: not cached, not framed, no third-party anything.
    if request.endpoint != "supervisor.static":
        response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # The dashboard's map shows tiles from the configured tile server (server/maps.py).
    tiles = tile_origin(current_app.config["MAP_TILES_URL"])
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data: {tiles}; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


@supervisor.app_context_processor  # also for the "not found" page of a path no view matched
def template_helpers():
    from . import display
    from .forms import CsrfForm

    lang = i18n.current_language()

    def _(text, **values):
        return i18n.translate(text, lang, **values)

    def label(kind, value):
        return i18n.label(kind, value, lang)

    def _n(singular, plural, n, **values):
        return i18n.ngettext(singular, plural, n, lang, **values)

    def url_here(**changes):
        """The current page's URL with some query arguments changed."""
        args = request.args.to_dict()
        for key, value in changes.items():
            if value in (None, ""):
                args.pop(key, None)
            else:
                args[key] = value
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def waiting():
        if "fv_waiting" not in g:
            from .queries.dashboard import open_counts

            g.fv_waiting = open_counts(db.session)
        return g.fv_waiting

    return {
        "_": _, "_n": _n, "label": label, "lang": lang, "html_lang": i18n.HTML_LANG[lang],
        "languages": i18n.LANGUAGE_NAMES, "url_here": url_here, "waiting": waiting,
        "fmt_datetime": formatting.fmt_datetime, "fmt_money": formatting.fmt_money,
        "fmt_amount": formatting.fmt_amount, "fmt_date": formatting.fmt_date,
        "fmt_time": formatting.fmt_time, "csrf_form": CsrfForm,
        "zone_name": lambda: formatting.display_zone().key,
        "field_label": lambda name: display.field_label(name, lang),
        "show_value": lambda entity, name, value, zone=None, users=None, currency=None:
            display.show_value(entity, name, value, lang, zone, users, currency),
        "reason_text": lambda text: display.reason_text(text, lang),
    }


def _error_page(status: int, title: str, message: str):
    return render_template("supervisor/error.html", status=status, title=title,
                           message=message), status


@supervisor.errorhandler(403)
def forbidden(_exc):
    return _error_page(403, "Not allowed",
                       "These pages are for supervisors. Collectors record visits in the "
                       "collector app.")


@supervisor.errorhandler(404)
def not_found(_exc):
    return _error_page(404, "Not found", "There is no such page or record.")


@supervisor.errorhandler(CSRFError)
def csrf_failed(_exc):
    return _error_page(400, "The form expired",
                       "The form was missing its security token or it had expired. "
                       "Go back, reload the page and try again.")


from .views import (  # noqa: E402,F401
    accounts,
    attachments,
    auth,
    bulk,
    dashboard,
    day_map,
    deliveries,
    exports,
    logins,
    planning,
    restrictions,
    review,
    visits,
)
