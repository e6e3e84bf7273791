"""docs/protocol.md 1.1 "Attachments" through HTTP, on SQLite and PostgreSQL:
metadata by push and pull, bytes in chunks in any order, every refusal
with its code, resume from status, scope, redaction, download."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Attachment, HistoryEntry
from tests.helpers import latest

from .support import Content, jpeg_bytes, metadata, new_id, sha256

SIZE = 2_500_000  # three chunks of at most 1 MiB


def make(alice, visit, data, **extra):
    attachment_id = new_id()
    result = alice.write("attachment", attachment_id, metadata(visit, data, **extra))
    assert result["status"] == "applied", result
    return attachment_id, Content(alice, attachment_id)


def stored(app, attachment_id) -> Attachment:
    with app.app_context():
        record = db.session.get(Attachment, attachment_id)
        db.session.expunge_all()
        return record


def history(app, attachment_id) -> list[HistoryEntry]:
    with app.app_context():
        return db.session.scalars(select(HistoryEntry).where(HistoryEntry.record_id == attachment_id)
                                  .order_by(HistoryEntry.id)).all()


def store_of(app):
    return app.extensions["fieldvisit_blobs"]


def test_the_metadata_syncs_in_the_visits_scope(world, alice, visit):
    data = jpeg_bytes(1000)
    attachment_id, _ = make(alice, visit, data)
    mine = latest(alice.pull_all(), "attachment")
    record = mine[("attachment", attachment_id)]["data"]
    assert record["visit_id"] == visit and record["byte_size"] == 1000
    assert record["uploaded"] is False and record["uploaded_at"] is None
    assert record["account_id"] == world.accounts["A-1"]
    assert record["created_by"] == world.users["alice"]
    # Another collector sees nothing of it; the supervisor sees it.
    assert latest(world.phone("bob").pull_all(), "attachment") == {}
    assert ("attachment", attachment_id) in latest(world.phone("sup").pull_all(), "attachment")


def test_chunks_in_any_order_make_the_file_and_set_uploaded_once(app, alice, visit):
    data = jpeg_bytes(SIZE, seed=1)
    attachment_id, content = make(alice, visit, data)
    alice.pull_all()
    mib = 1024 * 1024
    assert content.put(data, 2 * mib, SIZE - 1).json == {"received": SIZE - 2 * mib, "uploaded": False}
    assert content.put(data, 0, mib - 1).json == {"received": SIZE - mib, "uploaded": False}
    assert content.put(data, mib, 2 * mib - 1).json == {"received": SIZE, "uploaded": True}

    assert sha256(store_of(app).read(attachment_id)) == sha256(data)
    assert store_of(app).parts(attachment_id) == []
    record = stored(app, attachment_id)
    assert record.uploaded is True and record.uploaded_at is not None and record.version == 2
    rows = history(app, attachment_id)
    assert [r.version for r in rows] == [1, 2]
    assert set(rows[1].changes) == {"uploaded", "uploaded_at"}
    # The phone learns it from the feed.
    change = latest(alice.pull_all(), "attachment")[("attachment", attachment_id)]
    assert change["version"] == 2 and change["data"]["uploaded"] is True
    # A chunk for a finished upload changes nothing.
    assert content.put(data, 0, mib - 1).json == {"received": SIZE, "uploaded": True}
    assert stored(app, attachment_id).version == 2 and len(history(app, attachment_id)) == 2


def test_a_chunk_sent_twice_is_taken_once(app, alice, visit):
    data = jpeg_bytes(3000, seed=2)
    attachment_id, content = make(alice, visit, data)
    assert content.put(data, 0, 999).json == {"received": 1000, "uploaded": False}
    assert content.put(data, 0, 999).json == {"received": 1000, "uploaded": False}
    # Overlapping and agreeing is fine too.
    assert content.put(data, 500, 1999).json == {"received": 2000, "uploaded": False}
    assert content.put(data, 1500, 2999).json == {"received": 3000, "uploaded": True}
    assert store_of(app).read(attachment_id) == data


def test_a_chunk_that_disagrees_with_held_bytes_is_409(app, alice, visit):
    data = jpeg_bytes(3000, seed=3)
    attachment_id, content = make(alice, visit, data)
    content.put(data, 0, 1999)
    other = data[:1000] + bytes(b ^ 0xFF for b in data[1000:2000]) + data[2000:]
    answer = content.put(other, 1000, 2999, status=409)
    assert answer.json["error"]["code"] == 409 and "1000-1999" in answer.json["error"]["message"]
    assert content.status().json == {"received": 2000, "missing": [[2000, 2999]], "uploaded": False}


def test_a_wrong_hash_is_422_and_every_byte_is_discarded(app, alice, visit):
    data = jpeg_bytes(3000, seed=4)
    attachment_id, content = make(alice, visit, data, sha256="0" * 64)
    content.put(data, 0, 1999)
    answer = content.put(data, 2000, 2999, status=422)
    assert "discarded" in answer.json["error"]["message"]
    assert content.status().json == {"received": 0, "missing": [[0, 2999]], "uploaded": False}
    assert store_of(app).parts(attachment_id) == [] and not store_of(app).exists(attachment_id)
    assert stored(app, attachment_id).uploaded is False
    content.get(status=404)


@pytest.mark.parametrize(("header", "body_size", "code"), [
    ("bytes 0-999/4000", 1000, 422),         # the total is not byte_size
    ("bytes 0-999", 1000, 400),              # no total
    (None, 1000, 400),                       # no Content-Range
    ("bytes 999-0/3000", 1000, 400),         # first after last
    ("bytes 0-3000/3000", 3001, 400),        # past the end
    ("bytes 0-999/3000", 999, 400),          # the body is shorter than the range
    ("bytes=0-999/3000", 1000, 400),         # not the header's syntax
])
def test_ranges_that_do_not_fit_are_refused(alice, visit, header, body_size, code):
    data = jpeg_bytes(3000, seed=5)
    _, content = make(alice, visit, data)
    answer = content.put_raw(data[:body_size], header, status=code)
    assert answer.json["error"]["code"] == code
    assert content.status().json["received"] == 0


def test_too_large_is_413(app, alice, visit):
    data = jpeg_bytes(3 * 1024 * 1024, seed=6)
    _, content = make(alice, visit, data)
    # A chunk over 1 MiB.
    answer = content.put(data, 0, 1024 * 1024, status=413)
    assert "at most 1048576 bytes" in answer.json["error"]["message"]
    # A declared total over the server's limit (10 MiB by default).
    big = 11 * 1024 * 1024
    answer = content.put_raw(data[:1000], f"bytes 0-999/{big}", status=413)
    assert answer.json["error"]["code"] == 413
    assert content.status().json["received"] == 0


def test_content_that_is_not_what_it_says_is_415(app, alice, visit):
    data = b"%PDF-1.7\n" + jpeg_bytes(2000, seed=7)[9:]
    attachment_id, content = make(alice, visit, data)
    answer = content.put(data, 0, 999, status=415)
    assert "image/jpeg" in answer.json["error"]["message"]
    assert store_of(app).parts(attachment_id) == []
    # A PDF declared as one is fine.
    pdf_id, pdf = make(alice, visit, data, kind="document", content_type="application/pdf")
    assert pdf.upload(data).json == {"received": len(data), "uploaded": True}


def test_an_upload_resumes_from_its_status(app, alice, visit):
    data = jpeg_bytes(SIZE, seed=8)
    attachment_id, content = make(alice, visit, data)
    assert content.status().json == {"received": 0, "missing": [[0, SIZE - 1]], "uploaded": False}
    content.put(data, 0, 99_999)
    content.put(data, 1_000_000, 1_999_999)
    answer = content.status().json
    assert answer == {"received": 1_100_000, "missing": [[100_000, 999_999], [2_000_000, SIZE - 1]],
                      "uploaded": False}
    for first, last in answer["missing"]:
        result = content.put(data, first, last)
    assert result.json == {"received": SIZE, "uploaded": True}
    assert content.status().json == {"received": SIZE, "missing": [], "uploaded": True}
    assert store_of(app).read(attachment_id) == data


def test_status_finishes_an_upload_whose_last_step_did_not_run(app, alice, visit):
    """Every chunk held, the record not yet marked (the server stopped in
    between): the phone's next status request finishes it."""
    data = jpeg_bytes(3000, seed=9)
    attachment_id, content = make(alice, visit, data)
    store_of(app).put_part(attachment_id, 0, 2999, data)
    assert content.status().json == {"received": 3000, "missing": [], "uploaded": True}
    assert stored(app, attachment_id).uploaded is True


def test_another_collectors_attachment_is_404_like_an_unknown_one(world, alice, visit):
    data = jpeg_bytes(1000, seed=10)
    attachment_id, content = make(alice, visit, data)
    content.upload(data)
    bob = Content(world.phone("bob"), attachment_id)
    nobody = Content(alice, new_id())
    for other in (bob, nobody):
        assert other.get(status=404).json["error"]["message"] == "no such attachment"
        assert other.status(status=404).json["error"]["code"] == 404
        assert other.put(data, 0, 999, status=404).json["error"]["code"] == 404
    Content(alice, "not-an-id").get(status=404)
    # The supervisor may.
    assert Content(world.phone("sup"), attachment_id).get().body == data


def test_without_a_token_it_is_401(web, alice, visit):
    data = jpeg_bytes(1000)
    attachment_id, _ = make(alice, visit, data)
    web.get(f"/api/v1/attachments/{attachment_id}/content", status=401)
    web.put(f"/api/v1/attachments/{attachment_id}/content", data, status=401)


def test_the_download_carries_its_hash_as_etag(alice, visit):
    data = jpeg_bytes(5000, seed=11)
    _, content = make(alice, visit, data)
    assert content.get(status=404).json["error"]["message"] == \
        "this attachment's content has not arrived yet"
    content.upload(data)
    answer = content.get()
    assert answer.body == data
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert answer.headers["ETag"] == f'"{sha256(data)}"'
    assert answer.headers["Cache-Control"] == "private, no-store"
    again = content.get(status=304, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.body == b""


def test_a_redacted_attachment_is_410_and_its_bytes_are_gone(app, world, alice, visit):
    data = jpeg_bytes(5000, seed=12)
    attachment_id, content = make(alice, visit, data)
    content.upload(data)
    sup = world.phone("sup")
    result = sup.write("attachment", attachment_id, {"redacted_reason": "Shows a bystander's face"}, 2)
    assert result["status"] == "applied", result
    assert content.get(status=410).json["error"]["code"] == 410
    assert content.status(status=410).json["error"]["code"] == 410
    assert content.put(data, 0, 999, status=410).json["error"]["code"] == 410
    assert not store_of(app).exists(attachment_id)
    record = stored(app, attachment_id)
    assert record.redacted_reason == "Shows a bystander's face" and record.sha256 == sha256(data)
    # A redaction is final.
    again = sup.write("attachment", attachment_id, {"redacted_reason": "Something else"}, 3)
    assert again["status"] == "rejected" and "redacted_reason" in again["errors"]


def test_redacting_before_the_bytes_arrive_deletes_the_chunks_held(app, world, alice, visit):
    data = jpeg_bytes(3000, seed=13)
    attachment_id, content = make(alice, visit, data)
    content.put(data, 0, 999)
    world.phone("sup").write("attachment", attachment_id, {"redacted_reason": "Wrong customer"}, 1)
    assert store_of(app).parts(attachment_id) == []
    content.put(data, 1000, 2999, status=410)


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"byte_size": 10}, "byte_size", "never changes"),
    ({"sha256": "a" * 64}, "sha256", "never changes"),
    ({"visit_id": None}, "visit_id", None),
    ({"redacted_reason": "not mine to say"}, "redacted_reason", "collector may not"),
    ({"uploaded": True}, "uploaded", "Read-only"),
])
def test_a_made_attachment_does_not_change_except_its_caption(alice, visit, fields, field, words):
    data = jpeg_bytes(1000)
    attachment_id, _ = make(alice, visit, data)
    result = alice.write("attachment", attachment_id, fields, 1)
    assert result["status"] == "rejected" and field in result["errors"], result
    if words:
        assert words in " ".join(result["errors"][field])
    assert alice.write("attachment", attachment_id, {"caption": "Shop sign"}, 1)["status"] == "applied"


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "photo", "content_type": "application/pdf"}, "content_type"),
    ({"kind": "video"}, "kind"),
    ({"content_type": "image/gif"}, "content_type"),
    ({"sha256": "ABC"}, "sha256"),
    ({"byte_size": 0}, "byte_size"),
    ({"byte_size": 10 * 1024 * 1024 + 1}, "byte_size"),
])
def test_bad_metadata_is_rejected(alice, visit, fields, field):
    data = jpeg_bytes(1000)
    result = alice.write("attachment", new_id(), {**metadata(visit, data), **fields})
    assert result["status"] == "rejected" and field in result["errors"], result


def test_an_attachment_needs_a_visit_the_collector_may_see(world, alice):
    bob = world.phone("bob")
    bobs_visit = new_id()
    bob.write("visit", bobs_visit, {"account_id": world.accounts["A-4"]})
    for visit_id in (bobs_visit, new_id()):
        result = alice.write("attachment", new_id(), metadata(visit_id, jpeg_bytes(100)))
        assert result["status"] == "rejected"
        assert result["errors"] == {"visit_id": ["No visit with this id is on an account assigned to you."]}


def test_the_per_visit_limits_hold(app, alice, visit):
    app.extensions["fieldvisit_attachment_settings"] = __import__("dataclasses").replace(
        app.extensions["fieldvisit_attachment_settings"], visit_max_files=2, visit_max_bytes=5000)
    assert make(alice, visit, jpeg_bytes(2000, 1))
    assert make(alice, visit, jpeg_bytes(2000, 2))
    result = alice.write("attachment", new_id(), metadata(visit, jpeg_bytes(100, 3)))
    assert result["status"] == "rejected" and "most attachments" in result["errors"]["visit_id"][0]
    app.extensions["fieldvisit_attachment_settings"] = __import__("dataclasses").replace(
        app.extensions["fieldvisit_attachment_settings"], visit_max_files=20)
    result = alice.write("attachment", new_id(), metadata(visit, jpeg_bytes(1001, 4)))
    assert result["status"] == "rejected" and "one visit (5000 bytes)" in result["errors"]["byte_size"][0]


def test_a_visit_and_its_photo_in_one_push(world, alice):
    visit_id, attachment_id = new_id(), new_id()
    data = jpeg_bytes(500)
    answer = alice.push([
        alice.mutation("visit", visit_id, {"account_id": world.accounts["A-2"]}),
        alice.mutation("attachment", attachment_id, metadata(visit_id, data)),
    ]).json
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"]
    assert Content(alice, attachment_id).upload(data).json["uploaded"] is True


def test_reassignment_takes_the_attachments_along(app, world, alice, visit):
    from server.services.writes import Change, apply_change, transaction
    from server.supervisor.actions import supervisor_actor

    data = jpeg_bytes(800)
    attachment_id, content = make(alice, visit, data)
    content.upload(data)
    alice.pull_all()
    bob = world.phone("bob")
    bob.pull_all()
    with app.app_context():
        transaction(lambda tx: apply_change(tx, Change(
            "account", world.accounts["A-1"], {"assigned_collector_id": world.users["bob"]},
            supervisor_actor(world.users["sup"]))), rules=app.config["RULES"])
    tombstones = [c for c in alice.pull_all() if c["deleted"]]
    assert ("attachment", attachment_id) in {(c["entity"], c["id"]) for c in tombstones}
    assert ("attachment", attachment_id) in latest(bob.pull_all(), "attachment")
    Content(alice, attachment_id).get(status=404)
    assert Content(bob, attachment_id).get().body == data


def test_setting_uploaded_again_is_no_change(app, alice, visit):
    """Two requests that both finish the same upload (a retried last chunk
    racing the first) write one version: the second finds nothing to change."""
    from server.services.changes import Actor
    from server.services.writes import Change, apply_change, transaction

    data = jpeg_bytes(1000, seed=14)
    attachment_id, content = make(alice, visit, data)
    content.upload(data)
    with app.app_context():
        outcome = transaction(lambda tx: apply_change(tx, Change(
            "attachment", attachment_id, {}, Actor(None), kept={"uploaded": True})),
            rules=app.config["RULES"])
        assert outcome.version == 2 and outcome.changed == frozenset()
    assert len(history(app, attachment_id)) == 2
