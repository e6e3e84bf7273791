"""Serves the collector app (``pwa/``) at ``/``: static files, no build step.

The files are served from the shell ``server/shell.py`` builds from them:
versioned copies under ``/v/<version>/`` that never change (cached for a
year), the page and the service worker generated and always revalidated,
text compressed with gzip. Leaflet for the map comes from the installed
package (``server/maps.py``).
"""

from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.routing import PathConverter

from .maps import leaflet_asset, tile_origin
from .shell import IMMUTABLE, REVALIDATE, Asset, ShellCache

pwa = Blueprint("pwa", __name__)


class AppFileConverter(PathConverter):
    """Any path except under ``api/``: the API's own routes then answer 404
    and 405 (with a true ``Allow``) instead of this catch-all."""

    regex = r"(?!api/)[^/].*?"


pwa.record_once(lambda state: state.app.url_map.converters.setdefault("appfile", AppFileConverter))
pwa.record_once(lambda state: state.app.extensions.setdefault("fieldvisit_shell", ShellCache()))


def _shell():
    return current_app.extensions["fieldvisit_shell"].get()

# Everything the app loads is its own but the map's tiles: scripts only
# from files (no inline script, no eval), nothing framed, no referrer
# leaving the origin.
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
           "img-src 'self' data: blob: {tiles}; "
           "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@functools.cache
def app_csp(tiles_url: str) -> str:
    return APP_CSP.format(tiles=tile_origin(tiles_url))


@pwa.after_request
def security_headers(response):
    response.headers["Content-Security-Policy"] = app_csp(current_app.config["MAP_TILES_URL"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@pwa.get("/")
@pwa.get("/index.html")
def index():
    return _send(_shell().index, REVALIDATE)


@pwa.get("/sw.js")
def service_worker():
    # The browser's HTTP cache must never hold back an update of the worker.
    return _send(_shell().service_worker, REVALIDATE)


@pwa.get("/v/<version>/<path:filename>")
def versioned(version: str, filename: str):
    asset = _shell().versioned(version, filename)
    if asset is None:
        abort(404)
    return _send(asset, IMMUTABLE)


@pwa.get("/vendor/leaflet/<version>/<path:filename>")
def leaflet(version: str, filename: str):
    asset = leaflet_asset(version, filename)
    if asset is None:
        abort(404)
    return _send(asset, IMMUTABLE)


@pwa.get("/<appfile:filename>")
def asset(filename: str):
    found = _shell().files.get(filename)
    if found is None:
        abort(404)
    # Unversioned URLs (the manifest's icons, old pages) may change: revalidate.
    return _send(found, REVALIDATE)


def _send(asset: Asset, cache_control: str) -> Response:
    gzip_ok = asset.gzipped is not None and "gzip" in request.headers.get(
        "Accept-Encoding", "").lower()
    etag = asset.etag + ("-gz" if gzip_ok else "")
    response = Response(status=200, content_type=asset.content_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    if asset.gzipped is not None:
        response.vary.add("Accept-Encoding")
    if request.if_none_match.contains(etag):
        response.status_code = 304
        return response
    if gzip_ok:
        response.set_data(asset.gzipped)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response.set_data(asset.body)
    return response
