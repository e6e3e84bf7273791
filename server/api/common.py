"""Request plumbing shared by the API views, in the protocol's order of
checks: 401, 413, 415, 400 (shape)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ..errors import ApiError, flatten_marshmallow
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


def json_body(schema: Schema) -> dict[str, Any]:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the request body is larger than {limit} bytes")
    if request.mimetype != "application/json":
        raise ApiError(415, "the request body must be JSON (Content-Type: application/json)")
    try:
        payload = request.get_json(force=True, silent=False)
    except RequestEntityTooLarge:
        raise ApiError(413, f"the request body is larger than {limit} bytes") from None
    except BadRequest:
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return load(schema, payload, f"the request does not match the {schema.__class__.__name__.removesuffix('Schema').lower()} schema")


def load(schema: Schema, data: Any, message: str) -> dict[str, Any]:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(400, message, fields=flatten_marshmallow(exc.messages)) from None
