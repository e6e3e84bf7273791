"""Verifies the history chain: each row's hash must match its content and
the hash of the row before it, and the head must match ``feed_state``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..models import FeedState, HistoryEntry
from .changes import GENESIS_HASH, history_hash, history_payload


@dataclass
class AuditResult:
    checked: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None and self.problem is None


def verify_history(session, batch: int = 5000) -> AuditResult:
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(HistoryEntry).where(HistoryEntry.id > last_id).order_by(HistoryEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != prev:
                return AuditResult(checked, row.id, "the row before it was changed or removed")
            if history_hash(prev, history_payload(row)) != row.hash:
                return AuditResult(checked, row.id, "its content does not match its hash")
            prev = row.hash
            checked += 1
            last_id = row.id
        session.expunge_all()
    head = session.scalar(select(FeedState.last_hash).where(FeedState.id == 1))
    if head is not None and head != prev:
        return AuditResult(checked, None, "the newest rows of the history were removed")
    return AuditResult(checked)
