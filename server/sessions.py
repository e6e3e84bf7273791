"""The supervisor pages' session cookie: short-lived when idle, SameSite,
Secure over HTTPS, and revocable on the server.

- Idle lifetime: the session is permanent with a lifetime of
  ``FIELDVISIT_SESSION_IDLE_MINUTES``; Flask re-signs the cookie on every
  request, and a cookie whose signature is older than that is ignored, so
  the lifetime counts from the last page opened, also for a stolen copy.
- Secure: always when ``FIELDVISIT_SESSION_COOKIE_SECURE`` is set, and
  otherwise whenever the request came over HTTPS, directly or through a
  trusted proxy's ``X-Forwarded-Proto`` (``server/proxies.py``).
- Revocation: signing out raises the user's ``session_epoch``; a cookie
  issued under an older number no longer signs anyone in.
"""

from __future__ import annotations

from flask import request, session
from flask.sessions import SecureCookieSessionInterface

EPOCH_KEY = "fv_epoch"


class SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def start_session(user) -> None:
    """Call right after ``login_user``: bind the session to the user's epoch."""
    session.permanent = True
    session[EPOCH_KEY] = user.session_epoch


def session_is_current(user) -> bool:
    return session.get(EPOCH_KEY) == user.session_epoch


def end_sessions(user) -> None:
    """Every session of ``user`` (this one and any copy) stops working."""
    user.session_epoch = (user.session_epoch or 0) + 1
