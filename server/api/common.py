"""Request plumbing shared by the API views, in the protocol's order of
checks: 401, 413, 415, 400 (shape)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
)

from ..errors import ApiError, JSONTooDeep, flatten_marshmallow
from ..models import User
from ..services import auth as auth_service


def current_user() -> User:
    """The user of the bearer token, or 401. Sets ``g.token`` for logout."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token: send Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": "Bearer"})
    found = auth_service.user_for_token(token.strip())
    if found is None:
        raise ApiError(401, "the token is unknown, expired or revoked; log in again",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.user, g.token = found
    return g.user


def json_body(schema: Schema, loader=None) -> dict[str, Any]:
    """The request's JSON object, loaded by ``schema`` (or by ``loader``,
    which must answer as ``schema.load`` does)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the request body is larger than {limit} bytes")
    if request.mimetype != "application/json":
        raise ApiError(415, "the request body must be JSON (Content-Type: application/json)")
    try:
        try:
            data = request.get_data(cache=True)
        except (HTTPException, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - the WSGI server's own parse errors
            # A malformed chunked body fails inside the server's reader
            # (gunicorn's InvalidChunkSize...), with a type of its own.
            raise ApiError(400, "the request body is not valid HTTP (a bad chunk)") from None
        if request.content_length is None and len(data) >= limit and _more_body():
            raise RequestEntityTooLarge()
        payload = current_app.json.loads(data)
    except RequestEntityTooLarge:
        raise ApiError(413, f"the request body is larger than {limit} bytes") from None
    except ClientDisconnected:
        # The client stopped sending, or sent too slowly for the server's
        # read limits (server/gunicorn_worker.py).
        raise ApiError(408, "the request body did not arrive in time") from None
    except JSONTooDeep:
        raise ApiError(400, TOO_DEEP) from None
    except (BadRequest, ValueError):
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "the request body must be a JSON object")
    if nested_deeper_than(payload, MAX_JSON_DEPTH):
        raise ApiError(400, TOO_DEEP)
    return load(schema, payload, f"the request does not match the {schema.__class__.__name__.removesuffix('Schema').lower()} schema",
                loader)


# The deepest body the protocol describes is six levels (push → mutations →
# a mutation → fields → do_not_visit → a window). Anything far deeper is an
# attack on the recursion of whatever reads it next (validation, the JSON
# columns' encoder), so it is refused before any of them runs.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"the request body is nested deeper than {MAX_JSON_DEPTH} levels"


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects in ``value`` nest more than ``limit`` deep.
    Iterative, so the check itself cannot run out of stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _more_body() -> bool:
    """Whether a body without Content-Length (chunked) goes on past what
    was read: werkzeug stops reading at the limit without saying so, and
    the cut-off JSON would be answered 400 instead of 413."""
    try:
        return bool(request.environ["wsgi.input"].read(1))
    except (OSError, ValueError):
        return False


def load(schema: Schema, data: Any, message: str, loader=None) -> dict[str, Any]:
    try:
        return (loader or schema.load)(data)
    except ValidationError as exc:
        raise ApiError(400, message, fields=flatten_marshmallow(exc.messages)) from None
