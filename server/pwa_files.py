"""Serves the collector app (``pwa/``) at ``/``: static files, no build step."""

from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_from_directory
from werkzeug.exceptions import MethodNotAllowed

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

pwa = Blueprint("pwa", __name__)


@pwa.get("/")
def index():
    return _send("index.html")


@pwa.get("/<path:filename>")
def asset(filename: str):
    if filename.startswith("api/"):
        _api_method_not_allowed()
    return _send(filename)


def _api_method_not_allowed() -> None:
    """A GET of an API path that only takes POST would otherwise land in
    this catch-all and answer 404; the truth is 405."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    methods = set(adapter.allowed_methods()) - {"GET", "HEAD", "OPTIONS"}
    if methods:
        raise MethodNotAllowed(valid_methods=sorted(methods))


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
