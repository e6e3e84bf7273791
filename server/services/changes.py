"""The one way a synced record changes: under the feed lock, with a new
version, a history row chained to the one before, and a feed position.

Every writing transaction (push, import, supervisor pages, promise upkeep)
opens a ``ChangeWriter`` first. Its first statement locks the single
``feed_state`` row, which
* makes feed positions visible in commit order on every database — a pull
  can never skip a change, unlike a sequence that is taken early and
  committed late on PostgreSQL;
* serialises extensions of the history hash chain;
* on SQLite, takes the write lock up front instead of upgrading a read lock
  later (which fails at once instead of waiting).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import FeedEntry, FeedState, HistoryEntry, utcnow

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who caused a change: the user, and for a push the device, its
    mutation number and clock."""

    user_id: str | None
    client_id: str | None = None
    seq: int | None = None
    hlc: str | None = None


def ensure_feed_state(session=None) -> None:
    session = session or db.session
    if session.get(FeedState, 1) is None:
        session.add(FeedState(id=1, counter=0, last_hash=GENESIS_HASH))
        session.commit()


def history_hash(prev_hash: str, row: dict[str, Any]) -> str:
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode()).hexdigest()


def history_payload(entry: HistoryEntry) -> dict[str, Any]:
    """The fields a history row's hash covers."""
    return {
        "entity": entry.entity,
        "record_id": entry.record_id,
        "version": entry.version,
        "changes": entry.changes,
        "user_id": entry.user_id,
        "client_id": entry.client_id,
        "seq": entry.seq,
        "hlc": entry.hlc,
        "reason": entry.reason,
        "at": _instant(entry.at),
    }


def _instant(at: datetime) -> str:
    # Microseconds since the epoch: identical whichever database stored it.
    return str(int(at.timestamp() * 1_000_000))


class ChangeWriter:
    def __init__(self, session=None):
        self.session = session or db.session
        locked = self.session.execute(
            update(FeedState).where(FeedState.id == 1).values(counter=FeedState.counter)
        )
        if locked.rowcount == 0:
            raise RuntimeError("feed_state is missing: run `flask --app wsgi init-db`")
        self.counter, self.last_hash = self.session.execute(
            select(FeedState.counter, FeedState.last_hash).where(FeedState.id == 1)
        ).one()

    def publish(self, entity: str, record_id: str, account_id: str, version: int,
                audience: str = "") -> int:
        """Move the record's feed row (or a tombstone for ``audience``) to a
        new position at the end of the feed."""
        self.counter += 1
        self.session.execute(
            delete(FeedEntry).where(
                FeedEntry.entity == entity,
                FeedEntry.record_id == record_id,
                FeedEntry.audience == audience,
            )
        )
        self.session.add(FeedEntry(
            position=self.counter, entity=entity, record_id=record_id,
            account_id=account_id, version=version, audience=audience,
        ))
        return self.counter

    def append_history(self, entity: str, record_id: str, version: int,
                       changes: dict[str, Any], actor: Actor, reason: str | None = None) -> None:
        entry = HistoryEntry(
            entity=entity, record_id=record_id, version=version, changes=changes,
            user_id=actor.user_id, client_id=actor.client_id, seq=actor.seq,
            hlc=actor.hlc, reason=reason, at=utcnow(), prev_hash=self.last_hash,
        )
        entry.hash = history_hash(self.last_hash, history_payload(entry))
        self.last_hash = entry.hash
        self.session.add(entry)

    def finish(self) -> None:
        """Store the new feed head; call once, just before commit."""
        self.session.execute(
            update(FeedState).where(FeedState.id == 1).values(
                counter=self.counter, last_hash=self.last_hash
            )
        )
