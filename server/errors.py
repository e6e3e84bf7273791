"""One JSON error shape for every ``/api`` path (docs/protocol.md, Conventions):
``{"error": {"code", "status", "message", "fields"?, ...}}`` — never HTML."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class JSONTooDeep(ValueError):
    """JSON nested deeper than a parser's stack (a ValueError, which Flask
    turns into 400 Bad Request)."""


class ApiError(Exception):
    def __init__(self, code: int, message: str, fields: dict | None = None, headers=None, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}
        self.extra = extra


def error_body(code: int, message: str, fields: dict | None = None, **extra) -> dict:
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return {"error": body}


def _json_error(code: int, message: str, fields=None, headers=None, **extra):
    response = jsonify(error_body(code, message, fields, **extra))
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


# Messages a client author can act on, instead of werkzeug's HTML prose.
_MESSAGES = {
    404: "no such path or record",
    405: "method not allowed on this path",
    413: "the request body is larger than the server accepts",
    415: "the request body must be JSON (Content-Type: application/json)",
}


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        return _json_error(exc.code, exc.message, exc.fields, exc.headers, **exc.extra)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        if request.path.startswith("/supervisor/") and exc.code == 404:
            # A path no supervisor page matches (a malformed record id)
            # gets the pages' own "not found", as an unknown record does.
            from .supervisor import not_found

            return not_found(exc)
        if not _is_api():
            return exc
        code = exc.code or 500
        message = _MESSAGES.get(code) or (exc.description or HTTPStatus(code).phrase)
        headers = {}
        if code == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return _json_error(code, message, headers=headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # Logged without the request body: it may hold debtor data.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _is_api():
            return "Internal Server Error", 500
        return _json_error(500, "the server failed; the request can be retried safely")


def flatten_marshmallow(messages, prefix: str = "") -> dict[str, list[str]]:
    """``{"mutations": {2: {"seq": [...]}}}`` → ``{"mutations.2.seq": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_marshmallow(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            flat.update(flatten_marshmallow(item, prefix))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat
