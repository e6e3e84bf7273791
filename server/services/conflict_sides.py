"""Whose value a conflict kept and whose it set aside, told from the point
of view of the one who reads it, so a phone can say "your Done was kept;
the office's Cancelled is kept for your supervisor" instead of calling the
losing value "yours" whoever wrote it.

A writer is a device (``client_id``): ``server`` is the office (the
supervisor pages, imports, upkeep), and a device bound to a supervisor is
the office too. The kinds, as the OpenAPI description lists them:

* in a push result, relative to the pushing device: ``this_device``,
  ``my_other_device`` (another device of the same user), ``office``,
  ``other_collector``;
* in a pulled record, relative to the user who pulls: ``me``, ``office``,
  ``other_collector``, with the device id beside ``me`` (``kept_device``,
  ``lost_device``) so a phone tells itself from its user's other devices.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from ..models import Client, Conflict, User
from .idlists import among, dialect_of

SERVER_CLIENT = "server"
OFFICE, ME, OTHER_COLLECTOR = "office", "me", "other_collector"
THIS_DEVICE, MY_OTHER_DEVICE = "this_device", "my_other_device"


def _device_owners(session, client_ids: Iterable[str | None]) -> dict[str, tuple[str, str]]:
    """Each device's user id and role (one query)."""
    ids = {c for c in client_ids if c and c != SERVER_CLIENT}
    if not ids:
        return {}
    rows = session.execute(select(Client.client_id, User.id, User.role)
                           .join(User, User.id == Client.user_id)
                           .where(Client.client_id.in_(ids)))
    return {client_id: (user_id, role) for client_id, user_id, role in rows}


def _kind(client_id: str | None, user_id: str, owners: dict[str, tuple[str, str]]) -> str:
    """``client_id``'s writer relative to the user ``user_id``."""
    if client_id is None or client_id == SERVER_CLIENT:
        return OFFICE
    owner = owners.get(client_id)
    if owner is None:
        return OTHER_COLLECTOR
    if owner[0] == user_id:
        return ME
    return OFFICE if owner[1] == "supervisor" else OTHER_COLLECTOR


def for_pusher(session, user_id: str, client_id: str, conflicts: list[dict]) -> list[dict]:
    """A push result's ``conflicts`` (``writes.Outcome.conflicts``), each
    with whose value was kept and whose was set aside, seen from the
    pushing device."""
    owners = _device_owners(session, [c.get("kept_client_id") for c in conflicts]
                            + [c.get("lost_client_id") for c in conflicts])

    def side(device: str | None) -> str:
        if device == client_id:
            return THIS_DEVICE
        kind = _kind(device, user_id, owners)
        return MY_OTHER_DEVICE if kind == ME else kind

    return [{"id": c["id"], "field": c["field"], "kept": c["kept"], "lost": c["lost"],
             "rule": c["rule"], "kept_by": side(c.get("kept_client_id")),
             "lost_by": side(c.get("lost_client_id"))} for c in conflicts]


def _instant(value) -> str | None:
    return value.isoformat() if value is not None else None


@functools.cache
def _conflicts_of(dialect: str):
    # Built once per database: every pull asks it for a whole page of ids.
    return (select(Conflict).where(among(Conflict.record_id, dialect))
            .order_by(Conflict.created_at, Conflict.id))


def record_conflicts(session, user_id: str, record_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Every conflict of these records, open and resolved, oldest first,
    as the user ``user_id`` reads them (two queries for a whole page)."""
    ids = list(record_ids)
    if not ids:
        return {}
    conflicts = session.scalars(_conflicts_of(dialect_of(session)), {"ids": ids}).all()
    if not conflicts:
        return {}
    owners = _device_owners(session, [c.kept_client_id for c in conflicts]
                            + [c.lost_client_id for c in conflicts])
    found: dict[str, list[dict]] = defaultdict(list)
    for c in conflicts:
        kept_by, lost_by = _kind(c.kept_client_id, user_id, owners), _kind(c.lost_client_id, user_id, owners)
        found[c.record_id].append({
            "id": c.id, "field": c.field, "kept": c.kept_value, "lost": c.lost_value,
            "rule": c.rule,
            "kept_by": kept_by, "kept_device": c.kept_client_id if kept_by == ME else None,
            "lost_by": lost_by, "lost_device": c.lost_client_id if lost_by == ME else None,
            "at": _instant(c.created_at),
            "resolution": c.resolution, "resolved_at": _instant(c.resolved_at),
        })
    return found


def wire_fields() -> dict[str, Any]:
    """The OpenAPI form of a pulled record's ``conflicts`` (server/api/openapi.py)."""
    kinds = {"type": "string", "enum": [ME, OFFICE, OTHER_COLLECTOR]}
    device = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    time = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
    return {
        "type": "array", "readOnly": True,
        "description": (
            "Choice: every conflict of this record, open and resolved, oldest first; present "
            "only when there is one. `kept_by`/`lost_by` say whose value was kept and whose "
            "was set aside, relative to the user who pulls; `kept_device`/`lost_device` name "
            "the device when it is one of that user's own (compare with your `client_id`). "
            "`resolution` is null while open, `kept` when a supervisor kept the value that "
            "won, `restored` when they brought back the one that lost."),
        "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "field": {"type": "string"}, "kept": {}, "lost": {},
            "rule": {"type": "string", "enum": ["domain_precedence", "last_writer_wins_hlc"]},
            "kept_by": kinds, "kept_device": device, "lost_by": kinds, "lost_device": device,
            "at": {"type": "string", "format": "date-time"},
            "resolution": {"anyOf": [{"type": "string", "enum": ["kept", "restored"]},
                                     {"type": "null"}]},
            "resolved_at": time,
        }},
    }
