"""The supervisor sees each visit's and account's photos and signatures as
thumbnails, full size with who took it, when and where, and can redact one;
nobody else gets the bytes from the pages."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Attachment, HistoryEntry
from tests.supervisor.conftest import csrf_token, sign_in

from .support import Content, metadata, new_id, real_jpeg


def photo(alice, visit, seed=0, **extra):
    data = real_jpeg(seed=seed)
    attachment_id = new_id()
    fields = metadata(visit, data, **extra)
    assert alice.write("attachment", attachment_id, fields)["status"] == "applied"
    Content(alice, attachment_id).upload(data)
    return attachment_id, data


def test_thumbnails_on_the_visit_and_account_pages(app, world, web, alice, visit):
    shown, data = photo(alice, visit, seed=1, caption="Shop sign", lat=25.0405, lon=121.5104)
    waiting = new_id()
    alice.write("attachment", waiting, metadata(visit, real_jpeg(seed=2), kind="signature",
                                                lat=None, lon=None))
    sign_in(web, "sup")
    for path in (f"/supervisor/visits/{visit}", f"/supervisor/accounts/{world.accounts['A-1']}"):
        page = web.get(path)
        section = page.html.select_one("#attachments")
        text = section.get_text(" ", strip=True)
        assert "Photos and signatures" in text and "Shop sign" in text
        assert "Not uploaded yet" in text and "Signature" in text
        assert "m from the account's position" in text and "No position recorded" in text
        assert "Alice" in text
        img = section.select_one(f"[data-attachment='{shown}'] img.thumb")
        assert img["src"] == f"/supervisor/attachments/{shown}/content"
    picture = web.get(f"/supervisor/attachments/{shown}/content")
    assert picture.body == data and picture.content_type == "image/jpeg"
    assert "no-store" in picture.headers["Cache-Control"]
    # Full size, with its facts.
    page = web.get(f"/supervisor/attachments/{shown}")
    text = page.html.get_text(" ", strip=True)
    assert "Photo · Shop sign" in text and "Alice (alice)" in text
    assert "GPS accuracy ±12 m" in text and "m from the account's position" in text
    assert page.html.select_one("img.full")["src"].endswith(f"/{shown}/content")
    # In Chinese.
    web.set_cookie("fv_lang", "zh-Hant")
    text = web.get(f"/supervisor/visits/{visit}").html.select_one("#attachments").get_text()
    assert "照片與簽名" in text and "尚未上傳" in text


def test_redaction_keeps_the_record_and_deletes_the_bytes(app, world, web, alice, visit):
    attachment_id, data = photo(alice, visit, seed=3)
    sign_in(web, "sup")
    page = web.get(f"/supervisor/attachments/{attachment_id}")
    # A reason that is no reason is refused, and nothing changes.
    answer = web.post(f"/supervisor/attachments/{attachment_id}/redact",
                      {"csrf_token": csrf_token(page), "reason": " . "}, status=302).follow()
    assert "three letters or digits" in answer
    assert web.get(f"/supervisor/attachments/{attachment_id}/content").body == data
    answer = web.post(f"/supervisor/attachments/{attachment_id}/redact",
                      {"csrf_token": csrf_token(page), "reason": "Photo of the wrong shop"},
                      status=302).follow()
    assert "Redacted. The content is deleted" in answer
    assert "Photo of the wrong shop" in answer
    web.get(f"/supervisor/attachments/{attachment_id}/content", status=404)
    assert not app.extensions["fieldvisit_blobs"].exists(attachment_id)
    Content(alice, attachment_id).get(status=410)
    with app.app_context():
        record = db.session.get(Attachment, attachment_id)
        assert record.redacted_reason == "Photo of the wrong shop" and record.byte_size == len(data)
        rows = db.session.scalars(select(HistoryEntry).where(
            HistoryEntry.record_id == attachment_id).order_by(HistoryEntry.id)).all()
        assert [r.user_id for r in rows] == [world.users["alice"], world.users["alice"],
                                              world.users["sup"]]
    thumbs = web.get(f"/supervisor/visits/{visit}").html.select_one("#attachments").get_text()
    assert "Redacted" in thumbs


def test_only_supervisors_get_the_pages_bytes(app, world, web, alice, visit):
    from sqlalchemy import update

    from server.models import User

    attachment_id, _ = photo(alice, visit, seed=4)
    web.get(f"/supervisor/attachments/{attachment_id}/content", status=302)  # to sign in
    sign_in(web, "alice", status=403)  # a collector cannot sign in here
    # A supervisor's session that became a collector's gets nothing either.
    sign_in(web, "sup")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "sup").values(role="collector"))
        db.session.commit()
    web.get(f"/supervisor/attachments/{attachment_id}/content", status=403)
    web.get(f"/supervisor/attachments/{attachment_id}", status=403)
