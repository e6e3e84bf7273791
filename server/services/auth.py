"""Passwords and bearer tokens (the login limit is ``login_limits.py``).

Passwords are hashed with scrypt (werkzeug), tokens are random and stored
only as SHA-256 hashes, so a copy of the database lets nobody log in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import AuthToken, User, utcnow

# A fixed hash to compare against for unknown users, so that "no such user"
# and "wrong password" take the same time and give the same answer.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.active else None
    # End the read before the deliberately slow hash, so a login never
    # holds a database transaction (and a pooled connection) open for it.
    db.session.rollback()
    if stored is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(stored, password) else None


def issue_token(user: User, ttl: timedelta) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + ttl
    db.session.add(AuthToken(token_hash=token_hash(token), user_id=user.id, expires_at=expires_at))
    return token, expires_at


_TOKEN_USER = (select(AuthToken, User).join(User, User.id == AuthToken.user_id)
               .where(AuthToken.token_hash == bindparam("token_hash")))


def user_for_token(token: str) -> tuple[User, AuthToken] | None:
    # One query for both: a pull of a small page pays this on every request.
    found = db.session.execute(_TOKEN_USER, {"token_hash": token_hash(token)}).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= utcnow() or not user.active:
        return None
    return user, row


def revoke(row: AuthToken) -> None:
    row.revoked_at = utcnow()
