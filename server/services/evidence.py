"""What a pulled record carries besides its fields, so a phone can tell its
collector the truth about it: the record's conflicts with their outcome
(``conflict_sides.py``) and a done visit's amendment trail
(``amendments.py``). Read-only, computed per page of a pull."""

from __future__ import annotations

from typing import Any

from .amendments import visit_trails
from .conflict_sides import record_conflicts


def add_record_evidence(session, user, records: dict[tuple[str, str], Any],
                        extras: dict[str, dict]) -> None:
    """Add ``conflicts`` and ``amendments`` to ``extras`` (record id →
    extra fields) for the page's live ``records`` ((entity, id) → row)."""
    if not records:
        return
    conflicts = record_conflicts(session, user.id, [record_id for _, record_id in records])
    amended = [record_id for (entity, record_id), row in records.items()
               if entity == "visit" and row.amendment_reason is not None]
    for record_id, found in conflicts.items():
        extras.setdefault(record_id, {})["conflicts"] = found
    for record_id, trail in visit_trails(session, amended).items():
        extras.setdefault(record_id, {})["amendments"] = trail
