"""Photos and a signature on a visit, offline, through a reload, then sent
once the phone is back online, and seen by the supervisor (Chromium at
390×844). Screenshots: test-artifacts/screenshots/photos-*.png."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime

import pytest

from .conftest import PHONE
from .helpers import login, shot, wait_until

pytestmark = pytest.mark.browser


def camera_jpeg(path, width: int, height: int, colour) -> bytes:
    """A phone camera's picture: large, noisy (so it compresses like a
    photo) and with EXIF naming the camera, which must not leave the phone."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.effect_noise((width, height), 60).convert("RGB")
    image = Image.blend(image, Image.new("RGB", (width, height), colour), 0.6)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 5, height // 4, width * 4 // 5, height * 3 // 4), outline=(20, 20, 20),
                   width=24)
    image = image.filter(ImageFilter.GaussianBlur(1))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamCorp"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    path.write_bytes(out.getvalue())
    return out.getvalue()


def visit_checked_in(server, username: str) -> str:
    """A visit of the collector's, checked in a minute ago, made through the API."""
    body = server.login(username)
    token = body["token"]
    _, page = server.api("GET", "/sync/pull?limit=1000", token=token)
    account = next(c for c in page["changes"] if c["entity"] == "account" and not c["deleted"])
    visit_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    status, answer = server.api("POST", "/sync/push", {
        "client_id": str(uuid.uuid4()),
        "mutations": [{"seq": 1, "hlc": f"{int(now.timestamp() * 1000):013d}:0000:photos",
                       "entity": "visit", "id": visit_id, "base_version": 0,
                       "fields": {"account_id": account["id"], "scheduled_at": now.isoformat(),
                                  "arrived_at": now.isoformat(), "checkin_lat": account["data"]["lat"],
                                  "checkin_lon": account["data"]["lon"], "checkin_accuracy_m": 15}}]},
        token=token)
    assert status == 200 and answer["results"][0]["status"] == "applied", answer
    return visit_id


def tile_states(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid=photos] li.photo",
                                     "els => els.map(e => e.dataset.uploadState)")


def sign(page) -> None:
    page.click("[data-testid=add-signature]")
    pad = page.locator("[data-testid=signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 120)
    page.mouse.down()
    for i in range(1, 25):
        page.mouse.move(box["x"] + 30 + i * 12, box["y"] + 120 - (i % 6) * 14)
    page.mouse.up()
    page.click("[data-testid=signature-save]")


def test_photos_and_a_signature_taken_offline_reach_the_server_once(
        phone, chromium_browser, server, screenshots, tmp_path):
    visit_id = visit_checked_in(server, "carol")
    page = phone.new_page()
    login(page, "carol")
    page.goto(f"/#/visit/{visit_id}")
    page.wait_for_selector("[data-testid=visit-photos]")
    assert "No photos or signature yet." in page.inner_text("[data-testid=visit-photos]")

    phone.set_offline(True)
    first = camera_jpeg(tmp_path / "shop.jpg", 4000, 3000, (200, 120, 60))
    second = camera_jpeg(tmp_path / "slip.jpg", 1200, 2600, (60, 120, 200))
    page.set_input_files("[data-testid=photo-camera]", str(tmp_path / "shop.jpg"))
    wait_until(page, "document.querySelectorAll('[data-testid=photos] li.photo').length === 1")
    page.set_input_files("[data-testid=photo-pick]", str(tmp_path / "slip.jpg"))
    wait_until(page, "document.querySelectorAll('[data-testid=photos] li.photo').length === 2")
    sign(page)
    wait_until(page, "document.querySelectorAll('[data-testid=photos] li.photo').length === 3")
    assert tile_states(page) == ["waiting"] * 3
    text = page.inner_text("[data-testid=visit-photos]")
    assert text.count("Waiting to send") == 3 and "Signature" in text
    page.locator("[data-testid=visit-photos]").scroll_into_view_if_needed()
    shot(page, screenshots, "photos-01-visit-offline")

    # Made smaller on the phone: longest side 1600 px, under 400 KB, a JPEG.
    kept = page.evaluate("""async () => {
        const { allBlobs } = await import(window.fieldvisit.moduleBase + 'uploads.js');
        const rows = await allBlobs();
        return Promise.all(rows.map(async (r) => {
            const bitmap = await createImageBitmap(r.blob);
            return { kind: r.kind, type: r.blob.type, size: r.blob.size, w: bitmap.width, h: bitmap.height };
        }));
    }""")
    photos = sorted((k for k in kept if k["kind"] == "photo"), key=lambda k: -k["w"])
    assert [(p["w"], p["h"]) for p in photos] == [(1600, 1200), (738, 1600)], kept
    assert all(p["type"] == "image/jpeg" and p["size"] < 400 * 1024 for p in photos), kept
    assert len(first) > 400 * 1024 and len(second) > 400 * 1024  # the originals were larger

    # Closed and opened again, still offline: everything is still there.
    page.reload()
    page.wait_for_selector("[data-testid=visit-photos] li.photo")
    assert tile_states(page) == ["waiting"] * 3
    page.goto("/#/sync")
    page.wait_for_selector("[data-testid=uploads]")
    waiting = page.inner_text("[data-testid=bytes-waiting]")
    assert "3 photos or signatures" in waiting and ("KB" in waiting or "MB" in waiting)
    assert "used" in page.inner_text("[data-testid=storage-estimate]")
    shot(page, screenshots, "photos-02-sync-waiting")

    # Back online: the records, then the bytes, reach the server, each once.
    phone.set_offline(False)
    page.goto(f"/#/visit/{visit_id}")
    page.wait_for_selector("[data-testid=visit-photos] li.photo")
    wait_until(page, "[...document.querySelectorAll('[data-testid=photos] li.photo')]"
                     ".every(e => e.dataset.uploadState === 'sent')", timeout=45)
    assert page.inner_text("[data-testid=visit-photos]").count("Sent") == 3
    page.locator("[data-testid=photos]").scroll_into_view_if_needed()
    shot(page, screenshots, "photos-03-visit-sent")
    rows = server.query("SELECT id, kind, byte_size, sha256, uploaded, version FROM attachments "
                        "WHERE visit_id = ? ORDER BY kind", (visit_id,))
    assert sorted(r[1] for r in rows) == ["photo", "photo", "signature"]
    for attachment_id, _kind, size, digest, uploaded, version in rows:
        assert uploaded == 1 and version == 2
        data = (server.attachments_path / "objects" / attachment_id).read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == digest
        assert b"SecretCamCorp" not in data  # the camera's EXIF stayed behind
    history = server.query("SELECT COUNT(*) FROM history WHERE entity = 'attachment' AND "
                           "record_id IN (SELECT id FROM attachments WHERE visit_id = ?)", (visit_id,))
    assert history == [(6,)]  # made, then uploaded: once each
    # The bytes left the phone; a small preview stays.
    left = page.evaluate("""async () => {
        const { allBlobs } = await import(window.fieldvisit.moduleBase + 'uploads.js');
        return (await allBlobs()).map((r) => [r.state, !!r.blob, !!r.thumb]);
    }""")
    assert left == [["sent", False, True]] * 3
    # In Traditional Chinese, in words.
    page.evaluate("window.fieldvisit.setLanguage('zh-TW')")
    page.wait_for_selector("text=照片與簽名")
    text = page.inner_text("[data-testid=visit-photos]")
    assert text.count("已傳送") == 3 and "拍照" in text and "簽名" in text
    page.locator("[data-testid=photos]").scroll_into_view_if_needed()
    shot(page, screenshots, "photos-03-visit-sent-zh")
    page.evaluate("window.fieldvisit.setLanguage('en')")

    # The supervisor sees them on the visit page.
    desk = chromium_browser.new_context(base_url=server.base_url, viewport=PHONE, locale="en-US",
                                        timezone_id="Asia/Taipei")
    try:
        office = desk.new_page()
        office.goto("/supervisor/login")
        office.fill("input[name=username]", "supervisor")
        office.fill("input[name=password]", "fieldvisit-demo")
        office.click("button[type=submit]")
        office.goto(f"/supervisor/visits/{visit_id}")
        office.wait_for_selector("#attachments img.thumb")
        # Thumbnails load lazily: bring them on screen as a reader would.
        office.locator("#attachments").scroll_into_view_if_needed()
        wait_until(office, "[...document.querySelectorAll('#attachments img.thumb')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
        assert office.locator("#attachments img.thumb").count() == 3
        text = office.inner_text("#attachments")
        assert "Photo" in text and "Signature" in text and "Carol Lee" in text
        office.locator("#attachments").scroll_into_view_if_needed()
        shot(office, screenshots, "photos-04-supervisor-visit")
    finally:
        desk.close()


def test_an_upload_cut_off_is_sent_again_and_arrives_once(phone, server, tmp_path):
    """The first time the bytes go out the link dies; the next sync round
    (after its backoff) asks the server what it holds and sends the rest."""
    visit_id = visit_checked_in(server, "bob")
    page = phone.new_page()
    login(page, "bob")
    cut = {"n": 0}

    def first_put_dies(route):
        if route.request.method == "PUT" and cut["n"] == 0:
            cut["n"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/attachments/*/content", first_put_dies)
    page.goto(f"/#/visit/{visit_id}")
    page.wait_for_selector("[data-testid=visit-photos]")
    camera_jpeg(tmp_path / "sign.jpg", 1800, 1200, (90, 160, 90))
    page.set_input_files("[data-testid=photo-camera]", str(tmp_path / "sign.jpg"))
    wait_until(page, "document.querySelector('[data-testid=photos] li.photo') !== null")
    wait_until(page, "document.querySelector('[data-testid=photos] li.photo').dataset.uploadState === 'sent'",
               timeout=45)
    assert cut["n"] == 1
    rows = server.query("SELECT uploaded, version FROM attachments WHERE visit_id = ?", (visit_id,))
    assert rows == [(1, 2)]
