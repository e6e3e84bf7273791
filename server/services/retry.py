"""Which database failures are transient: PostgreSQL serialization failures,
deadlocks and lock timeouts, and SQLite's busy lock. ``writes.transaction``
retries those, so that no writer ever sees them as an error."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}


def is_transient(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in TRANSIENT_SQLSTATES:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return "database is locked" in text or "database is busy" in text
    return False
