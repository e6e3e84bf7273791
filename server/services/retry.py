"""Run a writing transaction, retrying the transient failures a database
may answer under concurrency (PostgreSQL serialization failures and
deadlocks, SQLite's busy lock), so that a client never sees a 5xx for them."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..extensions import db

log = logging.getLogger(__name__)

TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}
MAX_ATTEMPTS = 6


def is_transient(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in TRANSIENT_SQLSTATES:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return "database is locked" in text or "database is busy" in text
    return False


def run_in_transaction(work: Callable, attempts: int = MAX_ATTEMPTS):
    """``work(session)`` then commit; any exception rolls back. Transient
    database failures are retried with jittered backoff; an
    IntegrityError is retried once too (two first pushes of a new
    client_id racing to insert it)."""
    session = db.session
    integrity_retried = False
    attempt = 0  # transient failures so far; the one race retry is not counted
    while True:
        try:
            result = work(session)
            session.commit()
            return result
        except IntegrityError:
            # Its own budget: a race lost on the last transient attempt
            # must be retried, not fall out of the loop as a 500.
            session.rollback()
            if integrity_retried:
                raise
            integrity_retried = True
        except DBAPIError as exc:
            session.rollback()
            attempt += 1
            if not is_transient(exc) or attempt >= attempts:
                raise
            log.warning("transient database failure, retrying (attempt %d)", attempt)
            time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        except BaseException:
            session.rollback()
            raise
