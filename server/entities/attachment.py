"""``attachment`` — evidence taken on a visit: a photo, a signature, a
document (docs/protocol.md 1.1 "Attachments").

The record holds what the evidence is (its kind, type, size, SHA-256, when
and where it was taken); its bytes travel separately, through the content
endpoints (``server/api/attachments.py``) into a blob store
(``server/attachments/``). Evidence does not change: once made, only its
caption may. A supervisor may redact it with a reason, which deletes the
bytes for good and keeps this record and its history. Its scope is the
account of its visit (``account_via``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import messages
from .fields import (
    BOTH,
    LAT,
    LON,
    SUPERVISOR,
    StrictBoolean,
    coordinate,
    enum,
    ref_id,
    text,
    visible_characters,
)
from .spec import EntitySpec, Errors, Proposal

ATTACHMENT_KINDS = ("photo", "signature", "document")
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
# What the schema can hold at all; the server's own limit (10 MiB unless
# configured, server/attachments/settings.py) is an invariant below, so an
# operator can change it without a new schema.
BYTE_SIZE_CEILING = 2**40
SHA256_HEX = validate.Regexp(r"^[0-9a-f]{64}\Z", error=messages.NOT_SHA256)
# Only these change after creation (docs/protocol.md 1.1).
CHANGEABLE = frozenset({"caption", "redacted_reason"})


class AttachmentSchema(Schema):
    visit_id = ref_id()
    kind = enum(ATTACHMENT_KINDS)
    content_type = enum(CONTENT_TYPES)
    byte_size = fields.Integer(strict=True,
                               validate=validate.Range(min=1, max=BYTE_SIZE_CEILING))
    sha256 = fields.String(validate=SHA256_HEX)
    taken_at = fields.AwareDateTime(allow_none=True)
    lat = coordinate(LAT)
    lon = coordinate(LON)
    accuracy_m = coordinate(validate.Range(min=0, max=10**6))
    caption = text(500)
    redacted_reason = text(500)


class AttachmentKept(Schema):
    """Kept by the server: the account its visit belongs to (the scope), who
    made the record, and what happened to its bytes."""

    account_id = ref_id()
    created_by = ref_id(allow_none=True)
    uploaded = StrictBoolean()
    uploaded_at = fields.AwareDateTime(allow_none=True)
    # When retention (``flask attachments purge``) deleted the bytes.
    purged_at = fields.AwareDateTime(allow_none=True)


def fixed_once_made(p: Proposal) -> Errors:
    if p.new:
        return {}
    schema_fields = AttachmentSchema._declared_fields
    return {name: [messages.ATTACHMENT_FIXED] for name in p.changes
            if name in schema_fields and name not in CHANGEABLE}


def redaction_is_final(p: Proposal) -> Errors:
    if "redacted_reason" not in p.sent:
        return {}
    reason = p.sent["redacted_reason"]
    if p.before.get("redacted_reason"):
        if reason != p.before["redacted_reason"]:
            return {"redacted_reason": [messages.REDACTION_FINAL]}
        return {}
    if reason is not None and reason != "" and visible_characters(reason) < 3:
        return {"redacted_reason": [messages.REDACTION_NEEDS_REASON]}
    return {}


def images_are_images(p: Proposal) -> Errors:
    if p.after.get("kind") in ("photo", "signature") \
            and p.after.get("content_type") not in (None, *IMAGE_TYPES):
        return {"content_type": [messages.KIND_NEEDS_IMAGE]}
    return {}


def within_the_limits(p: Proposal) -> Errors:
    """The server's per-file and per-visit limits, checked when the record
    is made: a phone learns it at push time, before it sends any byte."""
    if not p.new or p.after.get("byte_size") is None or p.after.get("visit_id") is None:
        return {}
    limits = p.lookups.attachment_limits()
    size = p.after["byte_size"]
    if size > limits.max_bytes:
        return {"byte_size": [messages.ATTACHMENT_TOO_LARGE.format(limit=limits.max_bytes)]}
    count, total = p.lookups.visit_attachments(p.after["visit_id"], p.record_id)
    if count + 1 > limits.visit_max_files:
        return {"visit_id": [messages.VISIT_ATTACHMENTS_MANY.format(limit=limits.visit_max_files)]}
    if total + size > limits.visit_max_bytes:
        return {"byte_size": [messages.VISIT_ATTACHMENTS_FULL.format(limit=limits.visit_max_bytes)]}
    return {}


_SCHEMA = AttachmentSchema()

SPEC = EntitySpec(
    "attachment",
    _SCHEMA,
    {**{f: BOTH for f in _SCHEMA.fields}, "redacted_reason": SUPERVISOR},
    read_only=("account_id", "created_by", "uploaded", "uploaded_at", "purged_at"),
    kept=AttachmentKept(),
    required_on_create=("visit_id", "kind", "content_type", "byte_size", "sha256"),
    defaults=lambda role, user_id, account: {"uploaded": False, "created_by": user_id},
    invariants=(fixed_once_made, redaction_is_final, images_are_images, within_the_limits),
    account_via="visit_id",
)
