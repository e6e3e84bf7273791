"""What happens to an attachment's bytes when its record changes: a
redaction or a retention purge deletes them — after the change is
committed, never before (a change that fails and rolls back must not have
destroyed the evidence it was about).

``writes.apply_change`` runs ``after_attachment_change`` as the entity's
follow-up; the deletion waits in the session until SQLAlchemy reports the
commit, and is forgotten on a rollback (``writes.transaction`` then runs
the work again, which schedules it again). Should a deletion fail (the
object store unreachable), the bytes of a redacted or purged record are
found and deleted by the next ``flask attachments purge``."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_PENDING = "fieldvisit_after_commit"
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_commit", _run)
    event.listen(Session, "after_rollback", _forget)
    _installed = True


def after_commit(session, action) -> None:
    session.info.setdefault(_PENDING, []).append(action)


def _run(session) -> None:
    for action in session.info.pop(_PENDING, ()):
        try:
            action()
        except Exception:  # noqa: BLE001 - the sweep finds what is left
            log.exception("deleting attachment bytes after a commit failed; "
                          "`flask attachments purge` will retry")


def _forget(session) -> None:
    session.info.pop(_PENDING, None)


def after_attachment_change(tx, attachment, changes) -> None:
    gone = (("redacted_reason" in changes and attachment.redacted_reason)
            or ("purged_at" in changes and attachment.purged_at is not None))
    if gone:
        from . import blob_store

        store = blob_store(current_app)
        blob_id = attachment.id
        after_commit(tx.session, lambda: store.delete(blob_id))
