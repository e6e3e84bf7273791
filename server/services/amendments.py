"""The amendment trail of a done visit, read from its history: for each
correction made after the visit was recorded, which fields changed from
what to what, who made it, when and why (docs/protocol.md 1.1 "Done visits and
amendments"). The supervisor's visit page and the phone (through the pulled
visit's ``amendments``) show the same trail."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..entities.visit import FREE_AFTER_DONE
from ..models import HistoryEntry, User
from .idlists import among, dialect_of

# Changed with an amendment but no evidence of their own: the flags follow
# from the other fields (listed beside them when they move).
_FOLLOWS = frozenset({"flags"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any  # JSON values, as the history keeps them
    new: Any


@dataclass(frozen=True)
class Amendment:
    version: int
    at: datetime
    user_id: str | None
    client_id: str | None
    reason: str | None
    changes: tuple[FieldChange, ...]


def amendment_trail(entries: Iterable) -> list[Amendment]:
    """``entries``: a visit's history rows in chain order (anything with
    ``version``, ``at``, ``changes``, ``user_id``, ``client_id`` and
    ``reason``)."""
    trail: list[Amendment] = []
    state: dict[str, Any] = {}
    done = False
    for entry in entries:
        if done:
            # A value written again unchanged (a conflict resolution keeping
            # the winner) corrects nothing.
            amended = [n for n in entry.changes if n not in FREE_AFTER_DONE and n not in _FOLLOWS
                       and entry.changes[n] != state.get(n)]
            if amended:
                listed = amended + [n for n in entry.changes if n in _FOLLOWS]
                trail.append(Amendment(
                    entry.version, entry.at, entry.user_id, entry.client_id,
                    entry.changes.get("amendment_reason") or entry.reason,
                    tuple(FieldChange(n, state.get(n), entry.changes[n]) for n in listed)))
        state.update(entry.changes)
        done = done or state.get("status") == "done"
    return trail


@functools.cache
def _histories(dialect: str):
    return (select(HistoryEntry.record_id, HistoryEntry.version, HistoryEntry.at,
                   HistoryEntry.changes, HistoryEntry.user_id, HistoryEntry.client_id,
                   HistoryEntry.reason)
            .where(HistoryEntry.entity == "visit", among(HistoryEntry.record_id, dialect))
            .order_by(HistoryEntry.id))


def visit_trails(session, visit_ids: Iterable[str]) -> dict[str, list[dict]]:
    """The wire form of the trails of these visits (a pulled visit's
    ``amendments``), with the authors' names: two queries for a page."""
    ids = list(visit_ids)
    if not ids:
        return {}
    entries: dict[str, list] = defaultdict(list)
    for entry in session.execute(_histories(dialect_of(session)), {"ids": ids}):
        entries[entry.record_id].append(entry)
    trails = {visit_id: amendment_trail(rows) for visit_id, rows in entries.items()}
    authors = {a.user_id for trail in trails.values() for a in trail if a.user_id}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(authors)))} \
        if authors else {}
    found = {}
    for visit_id, trail in trails.items():
        if not trail:
            continue
        found[visit_id] = [{
            "version": a.version, "at": a.at.isoformat(),
            "by": ({"name": users[a.user_id].name, "role": users[a.user_id].role}
                   if a.user_id in users else None),
            "reason": a.reason,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in a.changes],
        } for a in trail]
    return found


WIRE_FIELDS = {
    "type": "array", "readOnly": True,
    "description": (
        "Choice: the corrections made to this visit after it was recorded done, oldest first, "
        "read from its history; present only on an amended visit. Each names the version it "
        "made, when (`at`, server time), who (`by`: name and role), why (`reason`, the "
        "amendment reason) and each field's value before and after (`changes`; `flags` are "
        "listed when the correction moved them)."),
    "items": {"type": "object", "properties": {
        "version": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "by": {"anyOf": [{"type": "object", "properties": {
            "name": {"type": "string"}, "role": {"type": "string"}}}, {"type": "null"}]},
        "reason": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "changes": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "old": {}, "new": {}}}},
    }},
}
