"""Login and logout (docs/protocol.md "Login")."""

from datetime import timedelta

from flask import current_app, g, request

from ..entities import is_storable
from ..errors import ApiError
from ..extensions import db
from ..services import auth as auth_service
from ..services.login_limits import LoginLimits, attempt_login
from .common import current_user, json_body
from .schemas import LoginSchema


def login():
    data = json_body(LoginSchema())
    if not (is_storable(data["username"]) and is_storable(data["password"])):
        # No stored user can match; answered like any failed login, without
        # sending the text to the database.
        raise ApiError(401, "unknown user name or wrong password")
    cfg = current_app.config
    outcome = attempt_login(data["username"], data["password"], request.remote_addr,
                            LoginLimits.from_config(cfg))
    if outcome.refused:
        raise ApiError(429, "too many failed logins; try again later",
                       headers={"Retry-After": str(outcome.wait_s)}, retry_after=outcome.wait_s)
    user = outcome.user
    if user is None:
        raise ApiError(401, "unknown user name or wrong password")
    token, expires_at = auth_service.issue_token(user, timedelta(hours=cfg["TOKEN_TTL_HOURS"]))
    db.session.commit()
    return {"token": token, "expires_at": expires_at.isoformat(), "user": user.public()}, 200


def logout():
    current_user()
    auth_service.revoke(g.token)
    db.session.commit()
    return "", 204


def me():
    return {"user": current_user().public()}, 200


def register(bp):
    bp.add_url_rule("/auth/login", view_func=login, methods=["POST"])
    bp.add_url_rule("/auth/logout", view_func=logout, methods=["POST"])
    bp.add_url_rule("/auth/me", view_func=me, methods=["GET"])
