"""The devices supervisors look after: each phone's last report
(``device_report.py``), most recently seen first, and what about it needs
someone's attention.

A device stands out, with each reason named, when:

- ``waiting``: changes have waited on it for more than 4 hours (its oldest
  unsent change, as it last reported, is older than that) — records that
  exist only on one phone;
- ``not_seen``: it has not pushed or pulled for a day (24 hours);
- ``old_version``: it reported an app version other than the one this
  server ships now. The version is a content hash of the app's files
  (``server/shell.py``), so there is no "newer" or "older" to compare:
  the server only ever ships one version, and a phone on any other one
  has not taken the update yet (it is offered on the phone's next start
  with a connection). A device that never said its version is not judged;
- ``clock_off``: its clock was off by more than the configured limit
  (``FIELDVISIT_CLOCK_OFF_MINUTES``, 5 by default) at its last push.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..models import Client, User

WAITING_LIMIT = timedelta(hours=4)
NOT_SEEN_LIMIT = timedelta(days=1)
REASONS = ("waiting", "not_seen", "old_version", "clock_off")


@dataclass(frozen=True)
class Device:
    client: Client
    user: User

    @property
    def last_seen_at(self) -> datetime | None:
        # Devices that pushed before the server kept a seen time: their push.
        return self.client.last_seen_at or self.client.last_push_at

    def reasons(self, now: datetime, current_version: str | None,
                clock_limit_s: float) -> list[str]:
        c = self.client
        found = []
        if c.outbox_count and c.outbox_oldest_at is not None \
                and now - c.outbox_oldest_at > WAITING_LIMIT:
            found.append("waiting")
        seen = self.last_seen_at
        if seen is None or now - seen > NOT_SEEN_LIMIT:
            found.append("not_seen")
        if c.app_version is not None and current_version is not None \
                and c.app_version != current_version:
            found.append("old_version")
        if c.clock_offset_s is not None and abs(c.clock_offset_s) > clock_limit_s:
            found.append("clock_off")
        return found


def devices(session) -> list[Device]:
    """Every device the server knows, most recently seen first (never
    seen last). A deactivated user's phones stay listed: what waits on
    them exists nowhere else."""
    seen = func.coalesce(Client.last_seen_at, Client.last_push_at)
    rows = session.execute(
        select(Client, User).join(User, User.id == Client.user_id)
        .order_by(seen.is_(None), seen.desc(), User.username, Client.client_id)).all()
    return [Device(client, user) for client, user in rows]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_wire(device: Device) -> dict:
    """One device as ``GET /api/v1/devices`` gives it (docs/protocol.md 1.1)."""
    c, u = device.client, device.user
    return {
        "client_id": c.client_id,
        "user": {"id": u.id, "username": u.username, "name": u.name},
        "app_version": c.app_version,
        "last_seen_at": _time(device.last_seen_at),
        "last_push_at": _time(c.last_push_at),
        "last_seq": c.last_seq,
        "outbox": {"count": c.outbox_count, "oldest_at": _time(c.outbox_oldest_at)},
        "storage": c.storage,
        "clock_offset_s": c.clock_offset_s,
    }
