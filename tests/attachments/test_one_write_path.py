"""The attachments' own doors write through the one write layer too: the
metadata push, the last chunk that sets ``uploaded``, the supervisor's
redaction and the retention purge are each checked by a rule added once to
the entities (``tests/supervisor/test_one_write_path.py``), and refused by it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from server.attachments.retention import purge_attachments
from server.extensions import db
from server.models import Attachment, utcnow
from tests.supervisor.conftest import csrf_token, sign_in
from tests.supervisor.test_one_write_path import (  # noqa: F401
    FROZEN,
    checked,
    last_history_id,
    rule,
    written_since,
)

from .support import Content, jpeg_bytes, metadata, new_id


def test_every_attachment_door_writes_through_the_layer(app, world, web, alice, visit, rule):  # noqa: F811
    data = jpeg_bytes(3000, seed=1)
    attachment_id = new_id()
    content = Content(alice, attachment_id)

    def push():
        assert alice.write("attachment", attachment_id, metadata(visit, data))["status"] == "applied"

    def upload():
        content.upload(data)

    def retention():
        other = new_id()
        alice.write("attachment", other, metadata(visit, jpeg_bytes(500, seed=2)))
        Content(alice, other).upload(jpeg_bytes(500, seed=2))
        key = "fieldvisit_attachment_settings"
        app.extensions[key] = dataclasses.replace(app.extensions[key], retention_days=1)
        with app.app_context():
            before = last_history_id(app)
            assert purge_attachments(now=utcnow() + timedelta(days=2)).purged == 1  # not the redacted one
            assert written_since(app, before)

    def redact():
        sign_in(web, "sup")
        page = web.get(f"/supervisor/attachments/{attachment_id}")
        web.post(f"/supervisor/attachments/{attachment_id}/redact",
                 {"csrf_token": csrf_token(page), "reason": "Wrong shop"}, status=302)

    for step in (push, upload, redact, retention):
        checked(app, rule, step)


def test_a_rule_refuses_at_every_attachment_door(app, world, web, alice, visit, rule):  # noqa: F811
    data = jpeg_bytes(3000, seed=3)
    attachment_id = new_id()
    alice.write("attachment", attachment_id, metadata(visit, data))
    rule.frozen.add(attachment_id)
    before = last_history_id(app)
    # The last chunk: the file is not marked uploaded, and the phone is told.
    answer = Content(alice, attachment_id).put(data, 0, 2999, status=422)
    assert answer.json["error"]["code"] == 422
    # Redaction from the pages.
    sign_in(web, "sup")
    page = web.get(f"/supervisor/attachments/{attachment_id}")
    answer = web.post(f"/supervisor/attachments/{attachment_id}/redact",
                      {"csrf_token": csrf_token(page), "reason": "Wrong shop"}, status=302).follow()
    assert FROZEN in answer
    assert written_since(app, before) == set()
    with app.app_context():
        record = db.session.get(Attachment, attachment_id)
        assert record.uploaded is False and record.redacted_reason is None
