"""``flask audit verify`` and ``flask audit checkpoint``: evidence an
outsider can check.

Three things are checked, in this order, and the first thing found wrong
is named (a history row by its id, a record by its entity and id):

1. the history chain: each row's hash matches its content and the hash of
   the row before it; once the chain is keyed (``audit_marks.py``) the
   hash is an HMAC under ``FIELDVISIT_AUDIT_KEY``, so a row rewritten and
   its chain recomputed by someone without the key shows as such; the
   head matches ``feed_state``;
2. checkpoints (lines written by ``flask audit checkpoint`` and kept
   elsewhere): each is signed with the key, and the row at its position
   still has its hash — rows deleted at the end, with the head rewound to
   match, are caught here and nowhere else;
3. the live records: each is what its history replays to (every column,
   and its version), so a record edited in the database without a history
   row — a visit's result changed after the fact — is caught.
"""

from __future__ import annotations

import hmac
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..models import RECORD_MODELS, AuditMark, FeedState, HistoryEntry
from .audit_marks import mark_mac
from .changes import GENESIS_HASH, history_hash, history_payload
from .store import to_json_value

CHECKPOINT_VERSION = 1
# Bookkeeping of every synced record that no history row carries.
_BOOKKEEPING = frozenset({"id", "version", "field_clocks", "created_at", "updated_at"})


# -- checkpoints ---------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment, signed with the audit key."""

    position: int  # id of the newest history row (0: no rows yet)
    head: str  # its hash
    at: str  # when it was taken, RFC 3339 UTC
    mac: str = ""
    line: int | None = None  # where it was read from

    def signed_part(self) -> dict[str, Any]:
        return {"v": CHECKPOINT_VERSION, "position": self.position, "head": self.head, "at": self.at}

    def to_line(self) -> str:
        return json.dumps({**self.signed_part(), "mac": self.mac}, separators=(",", ":"))


def _checkpoint_mac(key: bytes, signed: dict[str, Any]) -> str:
    canonical = json.dumps(signed, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, ("fieldvisit audit checkpoint\n" + canonical).encode(), "sha256").hexdigest()


def make_checkpoint(session, key: bytes, now: datetime | None = None) -> Checkpoint:
    newest = session.execute(
        select(HistoryEntry.id, HistoryEntry.hash).order_by(HistoryEntry.id.desc()).limit(1)
    ).first()
    position, head = (newest.id, newest.hash) if newest else (0, GENESIS_HASH)
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).isoformat()
    unsigned = Checkpoint(position, head, at)
    return Checkpoint(position, head, at, _checkpoint_mac(key, unsigned.signed_part()))


class CheckpointError(ValueError):
    """A checkpoint line that is not one, or not signed with this key."""


def read_checkpoints(lines: Iterable[str], key: bytes) -> list[Checkpoint]:
    """The checkpoints of a file, each checked against the key. An altered
    or forged line is an error: a checkpoint is only worth its signature."""
    found = []
    for number, text in enumerate(lines, start=1):
        text = text.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
            checkpoint = Checkpoint(int(data["position"]), str(data["head"]), str(data["at"]),
                                    str(data["mac"]), number)
            if data.get("v") != CHECKPOINT_VERSION:
                raise ValueError("unknown version")
        except (ValueError, KeyError, TypeError):
            raise CheckpointError(f"checkpoint line {number} is not a checkpoint") from None
        if not hmac.compare_digest(checkpoint.mac, _checkpoint_mac(key, checkpoint.signed_part())):
            raise CheckpointError(f"checkpoint line {number} is not signed with this audit key "
                                  "(altered, forged, or taken with another key)")
        found.append(checkpoint)
    return found


# -- the result ----------------------------------------------------------------


@dataclass
class AuditResult:
    checked: int = 0  # history rows verified
    keyed: int = 0  # of which keyed with the audit key
    keyed_from: int | None = None  # id of the first keyed row
    records: int = 0  # live records that match their history
    checkpoints: int = 0  # checkpoints that agree
    newest_checkpoint: Checkpoint | None = None
    broken_at: int | None = None  # the first wrong history row
    record: tuple[str, str] | None = None  # the first wrong record (entity, id)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Broken(Exception):
    def __init__(self, problem: str, row: int | None = None, record: tuple[str, str] | None = None):
        super().__init__(problem)
        self.problem, self.row, self.record = problem, row, record


# -- verification --------------------------------------------------------------


def verify_history(session, key: bytes | None = None, checkpoints: list[Checkpoint] | None = None,
                   *, records: bool = True, batch: int = 5000) -> AuditResult:
    """Check the chain, the checkpoints and (``records``) the live records
    against their history; stop at the first thing wrong."""
    result = AuditResult()
    try:
        _verify_chain(session, key, checkpoints or [], result, batch)
        if records:
            _verify_records(session, result)
    except _Broken as broken:
        result.problem, result.broken_at, result.record = broken.problem, broken.row, broken.record
    return result


def _verify_chain(session, key, checkpoints, result: AuditResult, batch: int) -> None:
    mark = session.get(AuditMark, 1)
    if mark is not None:
        if key is None:
            raise _Broken("the history is keyed, but FIELDVISIT_AUDIT_KEY is not set here: "
                          "set it to the key the server writes with to verify it")
        if not hmac.compare_digest(mark.mac, mark_mac(key, mark.keyed_after)):
            raise _Broken("the mark of where keyed rows start was not made with this audit key: "
                          "it was moved or forged, or this is not the server's key")
    by_position = {c.position: c for c in checkpoints}
    keyed = mark is not None and mark.keyed_after == GENESIS_HASH
    matched = {0}
    prev = GENESIS_HASH
    last_id = 0
    while True:
        rows = session.scalars(
            select(HistoryEntry).where(HistoryEntry.id > last_id).order_by(HistoryEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != prev:
                raise _Broken("the row before it was changed or removed", row.id)
            if not keyed and mark is not None and prev == mark.keyed_after:
                keyed = True
            _check_row_hash(row, prev, key, keyed)
            if keyed:
                result.keyed += 1
                result.keyed_from = result.keyed_from or row.id
            checkpoint = by_position.get(row.id)
            if checkpoint is not None:
                if row.hash != checkpoint.head:
                    raise _Broken(f"it differs from the checkpoint of {checkpoint.at}", row.id)
                matched.add(row.id)
            prev = row.hash
            result.checked += 1
            last_id = row.id
        session.expunge_all()
    if mark is not None and not keyed:
        raise _Broken("the row the keyed chain continues from is no longer in the history: "
                      "rows were removed, or the chain was rewritten")
    head = session.scalar(select(FeedState.last_hash).where(FeedState.id == 1))
    if head is not None and head != prev:
        raise _Broken("the newest rows of the history were removed")
    for checkpoint in sorted(checkpoints, key=lambda c: c.position):
        if checkpoint.position in matched:
            continue
        if checkpoint.position > last_id:
            raise _Broken(f"rows at the end of the history were removed: the checkpoint of "
                          f"{checkpoint.at} saw row {checkpoint.position}, the history now ends "
                          f"at row {last_id}", last_id or None)
        raise _Broken(f"row {checkpoint.position}, seen by the checkpoint of {checkpoint.at}, "
                      "was removed", checkpoint.position)
    result.checkpoints = len(checkpoints)
    if checkpoints:
        result.newest_checkpoint = max(checkpoints, key=lambda c: c.position)
    if key is not None and mark is None and result.checked:
        result.notes.append(
            "no row is keyed yet: nothing was written since FIELDVISIT_AUDIT_KEY was set "
            "(or the chain was rewritten); a checkpoint taken now protects what is there")
    if key is None:
        result.notes.append(
            "FIELDVISIT_AUDIT_KEY is not set: the chain is plain SHA-256, which whoever can "
            "write the database can recompute")


def _check_row_hash(row: HistoryEntry, prev: str, key: bytes | None, keyed: bool) -> None:
    payload = history_payload(row)
    plain = history_hash(prev, payload, key=None)
    if keyed:
        if hmac.compare_digest(row.hash, history_hash(prev, payload, key=key)):
            return
        if row.hash == plain:
            raise _Broken("its hash was computed without the audit key: the chain from here was "
                          "rewritten by someone who does not hold it", row.id)
        raise _Broken("its content does not match its hash", row.id)
    if row.hash == plain:
        return
    if key is not None and row.hash == history_hash(prev, payload, key=key):
        raise _Broken("it is keyed, but the mark of where keyed rows start is missing or was "
                      "moved", row.id)
    raise _Broken("its content does not match its hash", row.id)


# -- the live records against their history -----------------------------------


def _compared_columns(model) -> dict[str, Any]:
    """Every column a history row may write, with the value a record has
    when none ever did (the column's default: a visit's empty flags)."""
    columns = {}
    for column in model.__table__.columns:
        if column.name in _BOOKKEEPING:
            continue
        default = column.default
        if default is None or not default.is_scalar and not default.is_callable:
            value = None
        else:
            value = default.arg(None) if default.is_callable else default.arg
        columns[column.name] = value
    return columns


def _same(live: Any, replayed: Any) -> bool:
    if live == replayed:
        return True
    # Times: the history keeps the writer's offset, the column UTC.
    if isinstance(live, str) and isinstance(replayed, str):
        try:
            return datetime.fromisoformat(live) == datetime.fromisoformat(replayed)
        except ValueError:
            return False
    return False


def _shown(value: Any) -> str:
    return "nothing" if value is None else json.dumps(value, ensure_ascii=False)


def _verify_records(session, result: AuditResult, batch: int = 500) -> None:
    for entity, model in RECORD_MODELS.items():
        columns = _compared_columns(model)
        last_id = ""
        while True:
            records = session.scalars(
                select(model).where(model.id > last_id).order_by(model.id).limit(batch)).all()
            if not records:
                break
            ids = [r.id for r in records]
            history: dict[str, list] = defaultdict(list)
            for row in session.execute(
                select(HistoryEntry.id, HistoryEntry.record_id, HistoryEntry.version,
                       HistoryEntry.changes)
                .where(HistoryEntry.entity == entity, HistoryEntry.record_id.in_(ids))
                .order_by(HistoryEntry.id)
            ):
                history[row.record_id].append(row)
            for record in records:
                _check_record(entity, record, history.get(record.id, []), columns)
                result.records += 1
            last_id = ids[-1]
            session.expunge_all()
        orphan = session.scalar(
            select(HistoryEntry.record_id)
            .where(HistoryEntry.entity == entity, HistoryEntry.record_id.not_in(select(model.id)))
            .limit(1))
        if orphan is not None:
            raise _Broken("it has history but the record is gone (nothing is ever deleted)",
                          record=(entity, orphan))


def _check_record(entity: str, record, rows: list, columns: dict[str, Any]) -> None:
    where = (entity, record.id)
    if not rows:
        raise _Broken("it has no history: it was written outside the write layer", record=where)
    state: dict[str, Any] = {}
    last_change: dict[str, int] = {}
    for row in rows:
        state.update(row.changes)
        for name in row.changes:
            last_change[name] = row.id
    if record.version != rows[-1].version:
        raise _Broken(f"its version is {record.version}, its history ends at version "
                      f"{rows[-1].version}", record=where)
    for name, default in columns.items():
        live = to_json_value(entity, name, getattr(record, name))
        replayed = state[name] if name in state else to_json_value(entity, name, default)
        if not _same(live, replayed):
            since = (f" (history row {last_change[name]} wrote it last)"
                     if name in last_change else " (no history row ever wrote it)")
            raise _Broken(f"its {name} is {_shown(live)}, its history replays to "
                          f"{_shown(replayed)}{since}", record=where)
