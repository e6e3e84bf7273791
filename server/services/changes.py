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
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from ..extensions import db
from ..models import FeedEntry, FeedState, HistoryEntry, utcnow
from .audit_marks import audit_key, note_keyed_start
from .lookups import StoreLookups

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who writes a change: the user and the role they write as, and for a
    push the device, its mutation number and clock. The server's own
    writers (``role`` "server": upkeep, follow-ups, the CLI) write as the
    device "server" with the server's clock."""

    user_id: str | None
    client_id: str | None = None
    seq: int | None = None
    hlc: str | None = None
    role: str = "server"

    def derived(self) -> Actor:
        """The same author writing what follows from their change (a
        visit's promise): the history names them, the server's rules
        decide what is written."""
        return replace(self, role="server")


def ensure_feed_state(session=None) -> None:
    session = session or db.session
    if session.get(FeedState, 1) is None:
        session.add(FeedState(id=1, counter=0, last_hash=GENESIS_HASH))
        session.commit()


# ``history_hash``'s default: the key of the running application.
CONFIGURED_KEY: Any = object()


def history_hash(prev_hash: str, row: dict[str, Any], key: bytes | None = CONFIGURED_KEY) -> str:
    """The hash of a history row: HMAC-SHA256 with the audit key over the
    hash of the row before it and the row's content; plain SHA-256 of the
    same when no key is set (and for the rows written before one was)."""
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    message = (prev_hash + "\n" + canonical).encode()
    if key is CONFIGURED_KEY:
        key = audit_key()
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


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
    """One writing transaction: its feed and history rows, what it has read
    or created so far, and the rules its derived fields follow. Opened by
    ``writes.transaction``; changes go through ``writes.apply_change``."""

    def __init__(self, session=None, rules=None, *, lock: bool = True):
        """``lock=False`` makes a transaction that only checks changes
        (``writes.check_change``): it reads, and never writes or finishes."""
        self.session = session or db.session
        self.rules = rules
        self.lookups = StoreLookups(self)
        # Feed rows added in this transaction, by (entity, record_id, audience):
        # a second change to the same record moves its row instead of a
        # DELETE, which would have to flush everything pending first.
        # The rows are plain dicts, written by ``finish`` in one executemany
        # (as are the history rows): ORM objects and the unit of work's
        # flush of them were a third of a push.
        self._published: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._history: list[dict[str, Any]] = []
        # What this transaction knows without asking the database: records
        # it created or prefetched (held here because the session's identity
        # map keeps only weak references, and pending records are not in it)
        # and ids that ``prefetch`` found missing.
        self._known: dict[tuple[type, str], Any] = {}
        self._absent: set[tuple[type, str]] = set()
        # Optional per-transaction caches of derived rules (see
        # derived.AttemptIndex); None means "query when needed".
        self.attempts = None
        self.locked = lock
        if not lock:
            self.counter, self.last_hash = 0, GENESIS_HASH
            return
        locked = self.session.execute(
            update(FeedState).where(FeedState.id == 1).values(counter=FeedState.counter)
        )
        if locked.rowcount == 0:
            raise RuntimeError("feed_state is missing: run `flask --app wsgi init-db`")
        self.counter, self.last_hash = self.session.execute(
            select(FeedState.counter, FeedState.last_hash).where(FeedState.id == 1)
        ).one()

    def prefetch(self, model, ids) -> None:
        """Load the records with these ids in one query (into the session's
        identity map, where ``get`` finds them) and remember which do not
        exist, so that a batch costs one query instead of one per record."""
        ids = {i for i in ids if isinstance(i, str)}
        ids -= {i for (m, i) in self._known if m is model}
        if not ids:
            return
        for record in self.session.scalars(select(model).where(model.id.in_(ids))):
            self._known[(model, record.id)] = record
            ids.discard(record.id)
        self._absent.update((model, i) for i in ids)

    def get(self, model, record_id: str):
        """``session.get`` that answers from what this transaction knows
        (records it created, ids known to be missing) without a query."""
        key = (model, record_id)
        if key in self._known:
            return self._known[key]
        if key in self._absent:
            return None
        return self.session.get(model, record_id)

    def known(self, model, record_id: str):
        """The record if this transaction holds it already, else None."""
        return self._known.get((model, record_id))

    def created(self, record) -> None:
        key = (type(record), record.id)
        self._known[key] = record
        self._absent.discard(key)

    def publish(self, entity: str, record_id: str, account_id: str, version: int,
                audience: str = "", *, new: bool = False) -> int:
        """Move the record's feed row (or a tombstone for ``audience``) to a
        new position at the end of the feed. ``new``: the record did not
        exist before this transaction, so it has no row to remove."""
        self.counter += 1
        key = (entity, record_id, audience)
        entry = self._published.get(key)
        if entry is not None:
            entry["position"] = self.counter
            entry["version"] = version
            entry["account_id"] = account_id
            return self.counter
        if not new:
            # No autoflush: the rows this transaction added all have other
            # keys (a repeated key is handled above, and feed rows are only
            # written by ``finish``), so the DELETE cannot miss a pending
            # row, and flushing here per record would cost a round trip per
            # change.
            with self.session.no_autoflush:
                self.session.execute(
                    delete(FeedEntry).where(
                        FeedEntry.entity == entity,
                        FeedEntry.record_id == record_id,
                        FeedEntry.audience == audience,
                    )
                )
        self._published[key] = {
            "position": self.counter, "entity": entity, "record_id": record_id,
            "account_id": account_id, "version": version, "audience": audience,
        }
        return self.counter

    def append_history(self, entity: str, record_id: str, version: int,
                       changes: dict[str, Any], actor: Actor, reason: str | None = None) -> None:
        at = utcnow()
        payload = {
            "entity": entity,
            "record_id": record_id,
            "version": version,
            "changes": changes,
            "user_id": actor.user_id,
            "client_id": actor.client_id,
            "seq": actor.seq,
            "hlc": actor.hlc,
            "reason": reason,
            "at": _instant(at),
        }
        entry_hash = history_hash(self.last_hash, payload)
        payload["at"] = at
        payload["prev_hash"] = self.last_hash
        payload["hash"] = entry_hash
        self.last_hash = entry_hash
        self._history.append(payload)

    def finish(self) -> None:
        """Write this transaction's history and feed rows and store the new
        feed head; call once, just before commit."""
        if not self.locked:
            raise RuntimeError("a checking transaction writes nothing")
        if self._history:
            # Audit: the first rows ever hashed with the audit key leave a
            # keyed mark of where the keyed chain starts (audit_marks.py).
            note_keyed_start(self.session, self._history[0]["prev_hash"])
            # In append order: ids ascend along the hash chain.
            self.session.execute(insert(HistoryEntry.__table__), self._history)
            self._history = []
        if self._published:
            self.session.execute(insert(FeedEntry.__table__), list(self._published.values()))
            self._published = {}
        self.session.execute(
            update(FeedState).where(FeedState.id == 1).values(
                counter=self.counter, last_hash=self.last_hash
            )
        )
