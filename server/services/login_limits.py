"""The login limit, shared by the API login and the supervisor pages.

Two promises, each tested in ``tests/hardening/test_login_limits.py``:

- **It cannot be raced.** An attempt is written down as a failure and
  committed *before* the password hash is checked, then counted. Of any
  number of attempts sent at once, only those that counted fewer than the
  limit ahead of them are checked at all; a correct password deletes its
  row again (and the earlier failures of the same user at the same
  address). Counting after the slow hash, as before, let dozens of
  parallel guesses through.
- **It cannot lock anyone out.** Failures count per user name *and*
  address (an IPv6 address by its /64 network, which one attacker usually
  holds whole). Past the limit the next attempt from that pair waits, and
  every further failure doubles the wait, up to the window. The same user
  from an address without failures signs in as always, so wrong passwords
  typed elsewhere never shut the real user out. Separately, an address
  that fails for many user names is slowed down the same way. A
  supervisor can clear any of it on the "Sign-ins" page.

Failures live in the database, so the limit holds across every worker and
host; behind a reverse proxy the address is the client's only when
``FIELDVISIT_TRUSTED_PROXIES`` is set (see ``server/proxies.py``).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select

from ..extensions import db
from ..models import LoginFailure, User, utcnow
from .auth import authenticate


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5            # per user name and address, before waits start
    window_s: int = 15 * 60          # failures older than this are forgotten
    base_delay_s: int = 30           # the first wait; each further failure doubles it
    address_max_failures: int = 20   # per address, over every user name

    @classmethod
    def from_config(cls, config) -> LoginLimits:
        return cls(config["LOGIN_MAX_FAILURES"], config["LOGIN_FAILURE_WINDOW_S"],
                   config["LOGIN_DELAY_S"], config["LOGIN_ADDRESS_MAX_FAILURES"])

    def delay_s(self, failures: int, limit: int) -> int:
        """The wait after ``failures`` failures: none below ``limit``, then
        the base delay, doubling per failure, never more than the window."""
        if failures < limit:
            return 0
        return min(self.window_s, self.base_delay_s * 2 ** min(failures - limit, 30))


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None = None
    wait_s: int = 0

    @property
    def refused(self) -> bool:  # too many failures: the password was not checked
        return self.wait_s > 0


def address_key(remote_addr: str | None) -> str:
    """The address failures count against: an IPv4 address as it is, an
    IPv6 address as its /64 network."""
    text = (remote_addr or "").strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text[:64] or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def attempt_login(username: str, password: str, remote_addr: str | None,
                  limits: LoginLimits) -> LoginOutcome:
    """Check a login under the limit. Commits its own transactions."""
    name, address = username[:64], address_key(remote_addr)
    now = utcnow()
    pending = LoginFailure(username=name, remote_addr=address, at=now)
    db.session.add(pending)
    db.session.flush()
    pending_id = pending.id
    db.session.commit()
    wait = _wait_s(name, address, pending_id, now, limits)
    if wait:
        # Refused unchecked: the row is not a guess, so it is not kept.
        db.session.execute(delete(LoginFailure).where(LoginFailure.id == pending_id))
        db.session.commit()
        return LoginOutcome(wait_s=wait)
    user = authenticate(username, password)
    if user is None:
        return LoginOutcome()  # the pending row stays: it is this failure
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.username == name, LoginFailure.remote_addr == address,
        LoginFailure.at <= now))
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == pending_id))
    db.session.commit()
    return LoginOutcome(user=db.session.get(User, user.id))


def _wait_s(name: str, address: str, pending_id: int, now: datetime,
            limits: LoginLimits) -> int:
    since = now - timedelta(seconds=limits.window_s)
    others = and_(LoginFailure.id != pending_id, LoginFailure.at > since)
    wait = 0.0
    for condition, limit in (
        (and_(LoginFailure.username == name, LoginFailure.remote_addr == address),
         limits.max_failures),
        (LoginFailure.remote_addr == address, limits.address_max_failures),
    ):
        failures, latest = db.session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(others, condition)).one()
        delay = limits.delay_s(failures, limit)
        if delay and latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=now.tzinfo)
            wait = max(wait, (latest + timedelta(seconds=delay) - now).total_seconds())
    return math.ceil(wait) if wait > 0 else 0


# --- what a supervisor sees and clears ----------------------------------------

@dataclass(frozen=True)
class FailureGroup:
    username: str
    address: str
    failures: int
    last_at: datetime
    waits_until: datetime | None  # None: the next attempt is checked at once


def recent_failures(limits: LoginLimits, now: datetime | None = None) -> list[FailureGroup]:
    """Failures inside the window, per user name and address, most recent first."""
    now = now or utcnow()
    since = now - timedelta(seconds=limits.window_s)
    rows = db.session.execute(
        select(LoginFailure.username, LoginFailure.remote_addr, func.count(),
               func.max(LoginFailure.at))
        .where(LoginFailure.at > since)
        .group_by(LoginFailure.username, LoginFailure.remote_addr)
        .order_by(func.max(LoginFailure.at).desc())).all()
    groups = []
    for username, address, failures, last_at in rows:
        last_at = last_at if last_at.tzinfo else last_at.replace(tzinfo=now.tzinfo)
        delay = limits.delay_s(failures, limits.max_failures)
        until = last_at + timedelta(seconds=delay) if delay else None
        groups.append(FailureGroup(username, address, failures, last_at,
                                   until if until and until > now else None))
    return groups


def clear_failures(username: str, address: str | None = None) -> int:
    """Forget a user's failures (from one address, or from all). Returns
    how many were forgotten."""
    query = delete(LoginFailure).where(LoginFailure.username == username[:64])
    if address is not None:
        query = query.where(LoginFailure.remote_addr == address)
    count = db.session.execute(query).rowcount
    db.session.commit()
    return count or 0
