"""Making attachments as a phone does: metadata by push, bytes by chunks."""

from __future__ import annotations

import hashlib
import io
import random
import uuid

CHUNK = 1024 * 1024


def new_id() -> str:
    return str(uuid.uuid4())


def jpeg_bytes(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that start as a JPEG does (the server checks the
    first bytes, not the picture) and end with its end marker."""
    rng = random.Random(seed)
    body = bytes(rng.getrandbits(8) for _ in range(max(0, size - 6))) if size < 200_000 \
        else rng.randbytes(size - 6)
    return (b"\xff\xd8\xff\xe0" + body + b"\xff\xd9")[:size]


def real_jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A real (small) JPEG picture, for pages that show it."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(visit_id: str, data: bytes, **extra) -> dict:
    fields = {"visit_id": visit_id, "kind": "photo", "content_type": "image/jpeg",
              "byte_size": len(data), "sha256": sha256(data),
              "taken_at": "2026-12-01T10:05:00+08:00", "lat": 25.0401, "lon": 121.5101,
              "accuracy_m": 12.0}
    fields.update(extra)
    return fields


def content_range(first: int, last: int, total: int) -> str:
    return f"bytes {first}-{last}/{total}"


class Content:
    """The content endpoints of one attachment, for one phone."""

    def __init__(self, phone, attachment_id: str):
        self.phone, self.id = phone, attachment_id
        self.path = f"/api/v1/attachments/{attachment_id}/content"

    def put(self, data: bytes, first: int, last: int, total: int | None = None, status=200,
            headers=None):
        total = len(data) if total is None else total
        body = data[first:last + 1]
        return self.phone.web.put(self.path, body, headers={
            **self.phone.headers, "Content-Range": content_range(first, last, total),
            "Content-Type": "application/octet-stream", **(headers or {})}, status=status)

    def put_raw(self, body: bytes, content_range_header: str | None, status):
        headers = {**self.phone.headers, "Content-Type": "application/octet-stream"}
        if content_range_header is not None:
            headers["Content-Range"] = content_range_header
        return self.phone.web.put(self.path, body, headers=headers, status=status)

    def status(self, status=200):
        return self.phone.web.get(self.path + "/status", headers=self.phone.headers, status=status)

    def get(self, status=200, headers=None):
        return self.phone.web.get(self.path, headers={**self.phone.headers, **(headers or {})},
                                  status=status)

    def upload(self, data: bytes, chunk: int = CHUNK):
        answer = None
        for first in range(0, len(data), chunk):
            answer = self.put(data, first, min(len(data), first + chunk) - 1)
        return answer
