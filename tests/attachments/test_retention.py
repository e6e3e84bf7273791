"""Retention and the sweep (``flask attachments purge``): old bytes go, the
record and its history stay; leftovers of finished or redacted uploads and
of interrupted writes are cleaned; an upload in progress is left alone."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timedelta

from sqlalchemy import select

from server.attachments.retention import purge_attachments
from server.extensions import db
from server.models import Attachment, HistoryEntry, utcnow
from tests.helpers import latest

from .support import Content, jpeg_bytes, metadata, new_id


def uploaded(alice, visit, seed):
    data = jpeg_bytes(2000, seed=seed)
    attachment_id = new_id()
    alice.write("attachment", attachment_id, metadata(visit, data))
    Content(alice, attachment_id).upload(data)
    return attachment_id, data


def with_retention(app, days):
    key = "fieldvisit_attachment_settings"
    app.extensions[key] = dataclasses.replace(app.extensions[key], retention_days=days)


def test_retention_is_off_by_default(app, alice, visit):
    attachment_id, data = uploaded(alice, visit, 1)
    with app.app_context():
        report = purge_attachments(now=utcnow() + timedelta(days=3650))
    assert report.purged == 0
    assert Content(alice, attachment_id).get().body == data


def test_old_bytes_are_deleted_and_the_record_and_history_stay(app, alice, visit):
    old, _ = uploaded(alice, visit, 2)
    with_retention(app, 30)
    store = app.extensions["fieldvisit_blobs"]
    with app.app_context():
        assert purge_attachments(now=utcnow() + timedelta(days=29)).purged == 0
        report = purge_attachments(now=utcnow() + timedelta(days=31))
        assert report.purged == 1
        again = purge_attachments(now=utcnow() + timedelta(days=32))
        assert again.purged == 0
        record = db.session.get(Attachment, old)
        assert record.purged_at is not None and record.version == 3 and record.sha256
        last = db.session.scalars(select(HistoryEntry).where(HistoryEntry.record_id == old)
                                  .order_by(HistoryEntry.id.desc())).first()
        assert last.reason == "Retention: the content was deleted 30 days after it arrived"
        assert set(last.changes) == {"purged_at"}
    assert not store.exists(old)
    answer = Content(alice, old).get(status=410)
    assert "retention" in answer.json["error"]["message"]
    change = latest(alice.pull_all(), "attachment")[("attachment", old)]
    assert change["data"]["purged_at"] is not None and change["data"]["uploaded"] is True


def test_the_sweep_removes_leftovers_and_keeps_uploads_in_progress(app, alice, visit):
    store = app.extensions["fieldvisit_blobs"]
    done, data = uploaded(alice, visit, 3)
    store.put_part(done, 0, 999, data[:1000])          # left over after a finished upload
    waiting = new_id()
    partial = jpeg_bytes(3000, seed=4)
    alice.write("attachment", waiting, metadata(visit, partial))
    Content(alice, waiting).put(partial, 0, 999)        # still on its way
    old_temp = store.root / "tmp" / f"dead.{done}"
    old_temp.write_bytes(b"half a file")
    os.utime(old_temp, (time.time() - 7200, time.time() - 7200))
    fresh_temp = store.root / "tmp" / f"busy.{waiting}"
    fresh_temp.write_bytes(b"being written")
    with app.app_context():
        report = purge_attachments()
    assert (report.stale_uploads, report.stale_temps) == (1, 1)
    assert store.parts(done) == [] and store.read(done) == data
    assert store.parts(waiting) == [(0, 999)]
    assert not old_temp.exists() and fresh_temp.exists()


def test_the_command_says_what_it_did(app, alice, visit):
    uploaded(alice, visit, 5)
    with_retention(app, 1)
    result = app.test_cli_runner().invoke(args=["attachments", "purge"])
    assert result.exit_code == 0, result.output
    assert "retention: 1 day; 0 attachments' content deleted" in result.output
    assert "store: file system at" in result.output
