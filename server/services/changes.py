"""How a synced record's change is recorded: a new version, a history row
chained to the one before, and a feed position.

Feed positions and the history chain are given in ``ChangeWriter.finish``,
under a lock on the single ``feed_state`` row held until the commit:
* positions become visible in commit order on every database — a pull can
  never skip a change, unlike a sequence taken early and committed late on
  PostgreSQL;
* the hash chain is extended by one transaction at a time.
Everything before ``finish`` runs concurrently on PostgreSQL, each writer
holding row locks on the records it changes (``get_for_update``); SQLite
has one writer at a time and takes its write lock when the transaction
opens.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import FeedEntry, FeedState, HistoryEntry, utcnow
from ..webhooks.queue import for_transaction as webhook_queue
from .audit_marks import audit_key, note_keyed_start
from .idlists import among
from .lookups import StoreLookups
from .rows import from_database, write_rows

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
    # A push's clock offset (services/device_clock.py.DeviceClock), when it said.
    device_clock: Any = None

    def derived(self) -> Actor:
        """The same author writing what follows from their change (a
        visit's promise): the history names them, the server's rules
        decide what is written."""
        found = self.__dict__.get("_derived")
        if found is None:
            found = replace(self, role="server")
            object.__setattr__(self, "_derived", found)  # a cache, not a field
        return found


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
        # Feed rows published in this transaction, by (entity, record_id,
        # audience), in the order of their last publication. Positions are
        # given at ``finish`` and the rows written there, upserted in one
        # executemany (as are the history rows).
        self._published: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._history: list[dict[str, Any]] = []
        # What this transaction knows without asking the database: records
        # it created or prefetched (held here because the session's identity
        # map keeps only weak references, and pending records are not in it)
        # and ids that ``prefetch`` found missing.
        self._known: dict[tuple[type, str], Any] = {}
        self._absent: set[tuple[type, str]] = set()
        # Rows created or changed and not yet written (``flush``).
        self._pending: list = []
        # Records this transaction holds a row lock on (PostgreSQL).
        self._locked: set[tuple[type, str]] = set()
        # Optional per-transaction caches of derived rules (see
        # derived.AttemptIndex); None means "query when needed".
        self.attempts = None
        self.writing = lock
        # Webhooks (server/webhooks/queue.py): None unless endpoints are
        # configured; then each history row of this transaction becomes an
        # event, written in ``finish`` and so committed with the change.
        self.webhooks = webhook_queue(self.session) if lock else None
        dialect = self.session.get_bind().dialect.name
        # PostgreSQL: writers overlap, each locking the rows it changes, and
        # the feed lock is held only from ``finish`` to the commit. SQLite
        # has one writer at a time anyway: take its write lock now, as a
        # read lock upgraded later fails at once instead of waiting.
        self.row_locks = lock and dialect == "postgresql"
        self.feed_lock_at: float | None = None
        if lock and dialect != "postgresql":
            self._lock_feed_state()

    def _lock_feed_state(self) -> None:
        statement = select(FeedState.counter, FeedState.last_hash).where(FeedState.id == 1)
        if self.row_locks:
            statement = statement.with_for_update()
        else:
            # SQLite takes its write lock with the first write, not a SELECT.
            self.session.execute(
                update(FeedState).where(FeedState.id == 1).values(counter=FeedState.counter))
        row = self.session.execute(statement).one_or_none()
        if row is None:
            raise RuntimeError("feed_state is missing: run `flask --app wsgi init-db`")
        self.counter, self.last_hash = row
        self.feed_lock_at = time.perf_counter()

    def prefetch(self, model, ids, *, for_update: bool = False) -> None:
        """Read the records with these ids in one query and remember which
        do not exist, so that a batch costs one query instead of one per
        record. ``for_update`` also locks them (PostgreSQL), in id order so
        that two transactions never wait for each other in a circle."""
        ids = {i for i in ids if isinstance(i, str)}
        lock = for_update and self.row_locks
        if lock:
            ids -= {i for (m, i) in self._locked if m is model}
            ids -= {i for (m, i), row in self._known.items() if m is model and row._new}
        else:
            ids -= {i for (m, i) in self._known if m is model}
        if not ids:
            return
        self.flush()
        statement = _by_ids(model, self.session.get_bind().dialect.name, lock)
        for mapping in self.session.execute(statement, {"ids": list(ids)}).mappings():
            key = (model, mapping["id"])
            known = self._known.get(key)
            if known is None:
                self._known[key] = from_database(model, mapping)
            elif not known._dirty:
                # Read again under the lock: what another writer committed
                # before it was taken is what this one builds on.
                known.__dict__.update(mapping)
            if lock:
                self._locked.add(key)
            ids.discard(mapping["id"])
        self._absent.update((model, i) for i in ids)

    def get(self, model, record_id: str):
        """The record (a ``rows.Row``) as this transaction knows it, read
        once; None when there is no such record."""
        key = (model, record_id)
        if key not in self._known and key not in self._absent:
            self.prefetch(model, [record_id])
        return self._known.get(key)

    def get_for_update(self, model, record_id: str):
        """The record, locked for the rest of the transaction (PostgreSQL)
        and read again under the lock, so that no concurrent writer's change
        is overwritten; elsewhere as ``get``."""
        key = (model, record_id)
        if not self.row_locks or key in self._locked or key in self._absent \
                or not isinstance(record_id, str):
            return self.get(model, record_id)
        known = self._known.get(key)
        if known is not None and known._new:
            return known  # created by this transaction: nobody else sees it
        self.prefetch(model, [record_id], for_update=True)
        return self._known.get(key)

    def rows(self, model, *where, order_by=None) -> list:
        """The records matching ``where``, as this transaction holds them
        (its own changes flushed first and kept)."""
        table = model.__table__
        statement = select(*table.columns).where(*where)
        if order_by is not None:
            statement = statement.order_by(order_by)
        self.flush()
        found = []
        for mapping in self.session.execute(statement).mappings():
            key = (model, mapping["id"])
            row = self._known.get(key)
            if row is None:
                row = self._known[key] = from_database(model, mapping)
            found.append(row)
        return found

    def query(self, statement):
        """Execute a read that must see this transaction's own changes."""
        self.flush()
        return self.session.execute(statement)

    def created(self, row) -> None:
        key = (row.model, row.id)
        self._known[key] = row
        self._absent.discard(key)
        self._pending.append(row)

    def changed(self, row, names) -> None:
        """Columns of ``row`` changed; written at the next ``flush``."""
        if not row._new:
            if not row._dirty:
                self._pending.append(row)
            row.changed(names)

    def flush(self) -> None:
        """Write the records changed so far (Core executemany per table)."""
        if self._pending:
            pending, self._pending = self._pending, []
            write_rows(self.session, pending)

    def publish(self, entity: str, record_id: str, account_id: str, version: int,
                audience: str = "", *, new: bool = False) -> None:
        """Move the record's feed row (or a tombstone for ``audience``) to
        the end of the feed: its position is given when the transaction
        finishes. ``new`` is kept for callers; an upsert needs no hint."""
        key = (entity, record_id, audience)
        self._published.pop(key, None)
        self._published[key] = {
            "entity": entity, "record_id": record_id, "account_id": account_id,
            "version": version, "audience": audience,
        }

    def append_history(self, entity: str, record_id: str, version: int,
                       changes: dict[str, Any], actor: Actor, reason: str | None = None) -> None:
        """A history row, chained and written when the transaction finishes."""
        self._history.append({
            "entity": entity,
            "record_id": record_id,
            "version": version,
            "changes": changes,
            "user_id": actor.user_id,
            "client_id": actor.client_id,
            "seq": actor.seq,
            "hlc": actor.hlc,
            "reason": reason,
            "at": utcnow(),
        })
        if self.webhooks is not None:
            self.webhooks.note(self, self._history[-1])

    def finish(self) -> None:
        """Give the published rows their feed positions, chain the history
        rows, write both and store the new feed head; call once, just
        before commit. On PostgreSQL this takes the feed lock, so the only
        part of a write that waits for other writers is this one and the
        commit after it: positions become visible in commit order, and a
        pull never skips a change."""
        if not self.writing:
            raise RuntimeError("a checking transaction writes nothing")
        if not self._history and not self._published:
            self.flush()
            return
        # Everything else this transaction writes goes to the database
        # first, outside the feed lock: under it only the feed and history
        # rows are written before the commit.
        self.flush()
        self.session.flush()
        if self.feed_lock_at is None:
            self._lock_feed_state()
        if self._history:
            prev = self.last_hash
            # Audit: the first rows ever hashed with the audit key leave a
            # keyed mark of where the keyed chain starts (audit_marks.py).
            note_keyed_start(self.session, prev)
            key = audit_key()
            for row in self._history:
                at = row["at"]
                row["at"] = _instant(at)
                row["hash"] = history_hash(prev, row, key)
                row["at"] = at
                row["prev_hash"] = prev
                prev = row["hash"]
            self.last_hash = prev
            # In chain order: ids ascend along the hash chain.
            self.session.execute(insert(HistoryEntry.__table__), self._history)
            if self.webhooks is not None:
                self.webhooks.write(self)  # the events, after the history they cite
            self._history = []
        if self._published:
            rows = list(self._published.values())
            for row in rows:
                self.counter += 1
                row["position"] = self.counter
            self.session.execute(_feed_upsert(self.session), rows)
            self._published = {}
        self.session.execute(
            update(FeedState).where(FeedState.id == 1).values(
                counter=self.counter, last_hash=self.last_hash
            )
        )


@functools.cache
def _by_ids(model, dialect: str, lock: bool):
    """The rows of ``model`` with the ids bound as ``ids``, built once."""
    table = model.__table__
    statement = select(*table.columns).where(among(table.c.id, dialect))
    if lock:
        # NO KEY UPDATE: other writers may still insert rows that point at
        # this one (a visit of a locked account). In id order, so that two
        # transactions never wait for each other in a circle.
        statement = statement.order_by(table.c.id).with_for_update(key_share=True)
    return statement


def _feed_upsert(session):
    """INSERT of feed rows that moves a record's existing row instead
    (``uq_feed_record``): one statement for new and known records alike."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(FeedEntry.__table__)
    return statement.on_conflict_do_update(
        index_elements=["entity", "record_id", "audience"],
        set_={"position": statement.excluded.position, "version": statement.excluded.version,
              "account_id": statement.excluded.account_id},
    )
