"""Rules every request and answer obeys whatever view serves it: paths no
file system could hold are unknown paths, and API answers are never kept
by a cache (they carry tokens and debtor data)."""

from __future__ import annotations

from flask import Flask, abort, request

# A path segment longer than a file name can be (NAME_MAX) or a path longer
# than a path can be (PATH_MAX, less the app's own directory) names nothing
# that exists; asking the file system about it fails with ENAMETOOLONG
# instead of "no such file", so it is answered before any view looks.
NAME_MAX_BYTES = 255
PATH_MAX_BYTES = 3072


def _too_long(path: str) -> bool:
    raw = path.encode("utf-8", "surrogateescape")
    if len(raw) > PATH_MAX_BYTES:
        return True
    return any(len(segment) > NAME_MAX_BYTES for segment in raw.split(b"/"))


def install_http_policy(app: Flask) -> None:
    @app.before_request
    def refuse_impossible_paths():
        if _too_long(request.path):
            abort(404)

    @app.after_request
    def api_answers_are_not_stored(response):
        if request.path.startswith("/api/") and "no-store" not in response.headers.get(
                "Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"
        return response
