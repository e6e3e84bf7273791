"""Serves the collector app (``pwa/``) at ``/``: static files, no build step."""

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from werkzeug.routing import PathConverter

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

pwa = Blueprint("pwa", __name__)


class AppFileConverter(PathConverter):
    """Any path except under ``api/``: the API's own routes then answer 404
    and 405 (with a true ``Allow``) instead of this catch-all."""

    regex = r"(?!api/)[^/].*?"


pwa.record_once(lambda state: state.app.url_map.converters.setdefault("appfile", AppFileConverter))

# Everything the app loads is its own: scripts only from files (no inline
# script, no eval), nothing framed, no referrer leaving the origin.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@pwa.after_request
def security_headers(response):
    response.headers["Content-Security-Policy"] = APP_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@pwa.get("/")
def index():
    return _send("index.html")


@pwa.get("/<appfile:filename>")
def asset(filename: str):
    return _send(filename)


def _send(filename: str):
    if not (PWA_DIR / filename).is_file():
        abort(404)
    response = send_from_directory(PWA_DIR, filename, max_age=0)
    if filename in ("sw.js", "index.html", "manifest.webmanifest"):
        # The service worker decides about caching; the browser's HTTP cache
        # must not hold back an update of the worker itself.
        response.headers["Cache-Control"] = "no-cache"
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return response
