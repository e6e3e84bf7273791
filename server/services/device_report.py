"""What each phone says about itself (docs/protocol.md 1.1 "Device clock and
device report"), stored per ``client_id`` for the supervisors' device page.

Every push and pull may carry four headers::

    Fieldvisit-Client: <client_id>
    Fieldvisit-App-Version: <text>
    Fieldvisit-Outbox: <count>[; oldest=<RFC 3339>]
    Fieldvisit-Storage: persisted | best-effort

Each header is read on its own and a malformed one is ignored (the old
value stays): the report is advice to supervisors, and a phone must never
fail a sync over it. Values are bounded before anything is parsed, so a
hostile header costs nothing and stores nothing.

Whose device: only a ``client_id`` of the authenticated user is written.
A push writes the client its body names (already bound to the user, inside
the push's transaction, header ``Fieldvisit-Client`` ignored). A pull names
its client only by the header: a client id bound to another user is left
alone; one the server does not know yet is bound to the pulling user, as
its first push would bind it (a phone with nothing to send pulls first).

Cost on pull (the hot path): one read of the client row by its key, and a
write only when something changed or the last seen time is a minute old or
more (``SEEN_STEP``), so a phone syncing every minute with nothing new
writes about once a minute, never twice for one round. The write is its own
small transaction after the pull has been read; if it fails (two first
pulls racing, a busy database) the pull still answers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, IntegrityError

from ..entities.fields import MAX_YEAR, MIN_YEAR
from ..models import Client

log = logging.getLogger(__name__)

CLIENT_HEADER = "Fieldvisit-Client"
APP_VERSION_HEADER = "Fieldvisit-App-Version"
OUTBOX_HEADER = "Fieldvisit-Outbox"
STORAGE_HEADER = "Fieldvisit-Storage"
STORAGE_VALUES = ("persisted", "best-effort")

MAX_HEADER = 200  # longer than any well-formed value: ignored unread
APP_VERSION_MAX = 64  # the column's length
OUTBOX_MAX = 10**9
SEEN_STEP = timedelta(seconds=60)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# Printable ASCII, no control characters: shown on a page as it is.
_VERSION = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?\Z")
_OUTBOX = re.compile(r"\s*([0-9]{1,10})\s*(?:;\s*oldest\s*=\s*(\S{1,64})\s*)?\Z", re.IGNORECASE)
# RFC 3339 with an offset (Z or ±hh:mm), seconds and fraction optional.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})\Z")


@dataclass(frozen=True)
class DeviceReport:
    """The headers of one request, each None when absent or malformed;
    ``outbox`` is (count, oldest_at or None)."""

    client_id: str | None = None
    app_version: str | None = None
    outbox: tuple[int, datetime | None] | None = None
    storage: str | None = None

    @property
    def empty(self) -> bool:
        return self.app_version is None and self.outbox is None and self.storage is None


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time with an offset, or None (also for years outside
    the range the server stores)."""
    if not isinstance(text, str) or len(text) > 64 or not _RFC3339.match(text):
        return None
    try:
        value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return value


def _bounded(headers, name: str) -> str | None:
    value = headers.get(name)
    if value is None or len(value) > MAX_HEADER:
        return None
    return value.strip()


def parse_outbox(value: str | None) -> tuple[int, datetime | None] | None:
    if value is None:
        return None
    match = _OUTBOX.match(value)
    if match is None:
        return None
    count = int(match.group(1))
    if count > OUTBOX_MAX:
        return None
    oldest = None
    if match.group(2) is not None:
        oldest = parse_time(match.group(2))
        if oldest is None:
            return None
    # Nothing waiting has no oldest change.
    return count, oldest if count else None


def parse_headers(headers) -> DeviceReport:
    client = _bounded(headers, CLIENT_HEADER)
    version = _bounded(headers, APP_VERSION_HEADER)
    storage = _bounded(headers, STORAGE_HEADER)
    storage = storage.lower() if storage else None
    return DeviceReport(
        client_id=client if client and _UUID.match(client) else None,
        app_version=version if version and len(version) <= APP_VERSION_MAX
        and _VERSION.match(version) else None,
        outbox=parse_outbox(_bounded(headers, OUTBOX_HEADER)),
        storage=storage if storage in STORAGE_VALUES else None,
    )


def apply_report(client: Client, report: DeviceReport, now: datetime) -> bool:
    """Write ``report`` onto ``client`` (seen now); whether anything but
    the seen time changed."""
    values = {}
    if report.app_version is not None:
        values["app_version"] = report.app_version
    if report.outbox is not None:
        values["outbox_count"], values["outbox_oldest_at"] = report.outbox
    if report.storage is not None:
        values["storage"] = report.storage
    changed = False
    for name, value in values.items():
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed = True
    client.last_seen_at = now
    return changed


def _differs(client: Client, report: DeviceReport) -> bool:
    if report.app_version is not None and client.app_version != report.app_version:
        return True
    if report.storage is not None and client.storage != report.storage:
        return True
    return report.outbox is not None and (client.outbox_count, client.outbox_oldest_at) \
        != report.outbox


def note_pull(session, user_id: str, report: DeviceReport, now: datetime) -> None:
    """Store a pull's report (see the module's notes); never raises for
    a database that refuses it."""
    if report.client_id is None:
        return
    try:
        client = session.get(Client, report.client_id)
        if client is None:
            client = Client(client_id=report.client_id, user_id=user_id, last_seq=0,
                            created_at=now)
            session.add(client)
        elif client.user_id != user_id:
            return
        elif (not _differs(client, report) and client.last_seen_at is not None
              and now - client.last_seen_at < SEEN_STEP):
            return
        apply_report(client, report, now)
        session.commit()
    except (IntegrityError, DBAPIError) as exc:
        # Two first pulls of one new device racing, or a busy database:
        # the next sync says the same again.
        log.info("device report of %s not stored: %s", report.client_id, exc.__class__.__name__)
    finally:
        session.rollback()
