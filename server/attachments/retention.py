"""Retention: old bytes go, the records stay.

``purge_attachments()`` is the whole job, for ``flask attachments purge``
(cron) and for a scheduling worker alike; it needs an app context and is
safe to run at any time, as often as wanted, on any number of machines:

1. with ``FIELDVISIT_ATTACHMENT_RETENTION_DAYS`` set, every attachment
   whose bytes arrived longer ago than that gets ``purged_at`` — a change
   through the one write layer, so it is a new version, in the history and
   on the phones — and its bytes are deleted once that is committed
   (``lifecycle``);
2. the sweep: bytes still held for a record that is redacted or purged (a
   deletion that failed), chunks left of an upload that finished or was
   redacted, and temporary objects older than an hour (a server stopped
   while writing one) are deleted. Nothing of an upload in progress is
   touched. (``temp_max_age_s`` lowers the hour, e.g. to 0 right after a
   crash, when no upload can be writing one.)
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from .. import messages
from ..extensions import db
from ..models import Attachment, utcnow
from ..services.changes import Actor
from ..services.clock import server_clock
from ..services.writes import Change, Rejected, apply_change, transaction
from . import blob_store
from .settings import settings_of

log = logging.getLogger(__name__)
TEMP_MAX_AGE_S = 3600
RETENTION_REASON = messages.RETENTION_PURGED


@dataclass
class PurgeReport:
    purged: int = 0            # records whose bytes retention deleted now
    refused: int = 0           # purges a rule refused (left as they were)
    stale_files: int = 0       # bytes of redacted or purged records, deleted by the sweep
    stale_uploads: int = 0     # chunks of finished or redacted uploads
    stale_temps: int = 0       # temporary objects older than an hour

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge_attachments(now: datetime | None = None, temp_max_age_s: float = TEMP_MAX_AGE_S) -> PurgeReport:
    now = now or utcnow()
    app = current_app._get_current_object()
    settings, store = settings_of(app), blob_store(app)
    report = PurgeReport()
    if settings.retention_days:
        cutoff = now - timedelta(days=settings.retention_days)
        due = db.session.scalars(select(Attachment.id).where(
            Attachment.uploaded.is_(True), Attachment.purged_at.is_(None),
            Attachment.redacted_reason.is_(None), Attachment.uploaded_at < cutoff)).all()
        db.session.rollback()
        for attachment_id in due:
            try:
                if _purge_one(attachment_id, now, settings.retention_days, app.config["RULES"]):
                    report.purged += 1
            except Rejected as refusal:
                log.warning("attachment %s not purged: %s", attachment_id, refusal)
                report.refused += 1
    _sweep(store, report, temp_max_age_s)
    return report


def _purge_one(attachment_id: str, now: datetime, days: int, rules) -> bool:
    def work(tx):
        attachment = tx.get_for_update(Attachment, attachment_id)
        if attachment is None or attachment.purged_at is not None or attachment.redacted_reason:
            return False
        actor = Actor(None, "server", None, str(server_clock.send()))
        apply_change(tx, Change("attachment", attachment_id, {}, actor, kept={"purged_at": now},
                                reason=RETENTION_REASON.format(days=days)))
        return True

    return transaction(work, rules=rules)


def _sweep(store, report: PurgeReport, temp_max_age_s: float) -> None:
    held = store.object_ids() | store.upload_ids()
    if held:
        rows = db.session.execute(select(
            Attachment.id, Attachment.uploaded, Attachment.redacted_reason, Attachment.purged_at)
            .where(Attachment.id.in_(held))).all()
        db.session.rollback()
        state = {row.id: row for row in rows}
        for blob_id in store.object_ids():
            row = state.get(blob_id)
            if row is not None and (row.redacted_reason or row.purged_at is not None):
                store.delete(blob_id)
                report.stale_files += 1
        for blob_id in store.upload_ids():
            row = state.get(blob_id)
            if row is not None and (row.uploaded or row.redacted_reason):
                store.delete_parts(blob_id)
                report.stale_uploads += 1
    for temp in store.temp_objects():
        if temp.age_s > temp_max_age_s:
            store.delete_temp(temp.name)
            report.stale_temps += 1
