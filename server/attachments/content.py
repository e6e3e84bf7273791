"""A chunked upload becoming a verified file (docs/protocol.md 1.1 "Attachments").

Each chunk is kept as it arrived (``blobstore``: ``parts/<id>/...``), so a
chunk sent again is compared with what is held, never trusted. When the
chunks cover every byte, they are joined and checked against the record's
``sha256`` and first bytes; a file that passes is published (written aside,
then moved into place) and only then is ``uploaded`` set — through the one
write layer, so it is a new version with its history row and feed position
like any other change. A file that fails is discarded whole.

No lock is held across requests: two requests for the same attachment can
only store the same chunk twice or publish the same verified bytes twice
(every write is atomic, see ``blobstore``), and setting ``uploaded`` twice
is one version, because the second write finds it set. The SHA-256 decides
in the end: whatever interleaving of chunks was kept, the file is only
published when its hash is the one the phone declared.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .. import messages
from ..errors import ApiError
from ..models import Account, Attachment, User
from ..services.changes import Actor
from ..services.clock import server_clock
from ..services.records import in_scope
from ..services.writes import Change, Rejected, apply_change, transaction
from . import magic
from .blobstore import BlobMissing, BlobStore
from .ranges import held, missing, parse_content_range
from .settings import CHUNK_MAX_BYTES, AttachmentSettings

NOT_FOUND = "no such attachment"


@dataclass
class Upload:
    """What one content request needs: the database session, the store, the
    limits, the rules (for the write layer) and the user asking."""

    session: object
    store: BlobStore
    settings: AttachmentSettings
    rules: object
    user: User


def visible_attachment(session, user: User, attachment_id: str) -> Attachment:
    """The attachment if this user may see it; 404 alike for an unknown id
    and one of another collector's accounts, so ids cannot be probed."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not in_scope(user, session.get(Account, attachment.account_id)):
        raise ApiError(404, NOT_FOUND)
    return attachment


def _gone(attachment: Attachment) -> None:
    if attachment.redacted_reason:
        raise ApiError(410, "this attachment was redacted by a supervisor; its content is "
                            "deleted for good and the server will not take it again")
    if attachment.purged_at is not None:
        raise ApiError(410, "this attachment's content was deleted by the retention rule")


def status(up: Upload, attachment_id: str) -> dict:
    """What the server holds, and what is missing, so a phone resumes there.
    An upload whose every chunk arrived but which was not finished (the
    server stopped in between) is finished now."""
    attachment = visible_attachment(up.session, up.user, attachment_id)
    _gone(attachment)
    if attachment.uploaded:
        up.session.rollback()
        return {"received": attachment.byte_size, "missing": [], "uploaded": True}
    size = attachment.byte_size
    up.session.rollback()  # no transaction stays open while the store is asked
    parts = up.store.parts(attachment_id)
    gaps = missing(parts, size)
    if not gaps:
        try:
            finished = _finish(up, attachment_id, size)
        except ApiError as refused:
            if refused.code not in (415, 422):
                raise
            # It failed its check and was discarded: everything is missing.
            return {"received": 0, "missing": [[0, size - 1]], "uploaded": False}
        if finished["uploaded"]:
            return {**finished, "missing": []}
        parts = up.store.parts(attachment_id)  # changed meanwhile by another request
        gaps = missing(parts, size)
    return {"received": held(parts, size), "missing": gaps, "uploaded": False}


def receive_chunk(up: Upload, attachment_id: str, content_range: str | None,
                  read_body) -> dict:
    """One chunk (``PUT .../content``). ``read_body(limit)`` reads the
    request body, at most ``limit`` bytes (raises ApiError on a torn one)."""
    attachment = visible_attachment(up.session, up.user, attachment_id)
    _gone(attachment)
    size, content_type, declared = attachment.byte_size, attachment.content_type, attachment.sha256
    uploaded = attachment.uploaded
    up.session.rollback()
    if uploaded:
        return {"received": size, "uploaded": True}
    parsed = parse_content_range(content_range)
    if parsed is None:
        raise ApiError(400, "send Content-Range: bytes <first>-<last>/<byte_size> "
                            "(first ≤ last < byte_size)")
    first, last, total = parsed
    limit = up.settings.max_bytes
    if total > limit or size > limit:
        raise ApiError(413, f"the content is larger than this server accepts ({limit} bytes)")
    if total != size:
        raise ApiError(422, f"Content-Range names a total of {total} bytes; this attachment's "
                            f"byte_size is {size}")
    if last - first + 1 > CHUNK_MAX_BYTES:
        raise ApiError(413, f"a chunk holds at most {CHUNK_MAX_BYTES} bytes")
    body = read_body(CHUNK_MAX_BYTES)
    if len(body) != last - first + 1:
        raise ApiError(400, f"the body holds {len(body)} bytes; Content-Range names "
                            f"{last - first + 1}")
    if first == 0 and magic.disagrees(content_type, body):
        # A chunk starting later is checked with the whole file at the end.
        raise ApiError(415, f"the content does not start as {content_type} does")

    parts = up.store.parts(attachment_id)
    covered = _compare_with_held(up.store, attachment_id, parts, first, last, body)
    if not covered:
        up.store.put_part(attachment_id, first, last, body)
        parts = sorted({*parts, (first, last)})
    if not missing(parts, size):
        return _assemble(up, attachment_id, size, content_type, declared)
    # Finished meanwhile by another request? Then this chunk is left over.
    if _uploaded_now(up, attachment_id):
        up.store.delete_parts(attachment_id)
        return {"received": size, "uploaded": True}
    return {"received": held(parts, size), "uploaded": False}


def _compare_with_held(store: BlobStore, attachment_id: str, parts, first: int, last: int,
                       body: bytes) -> bool:
    """409 when the chunk disagrees with a held one where they overlap.
    Returns whether the held chunks already cover it (nothing to store)."""
    overlapping = [(a, b) for a, b in parts if a <= last and b >= first]
    for a, b in overlapping:
        try:
            other = store.read_part(attachment_id, a, b)
        except BlobMissing:
            continue  # discarded or finished meanwhile: nothing to agree with
        lo, hi = max(a, first), min(b, last)
        if other[lo - a:hi - a + 1] != body[lo - first:hi - first + 1]:
            raise ApiError(409, f"bytes {lo}-{hi} differ from the ones already received; "
                                "ask for the status and send what is missing")
    return not missing([(a - first, b - first) for a, b in overlapping], last - first + 1)


def _assemble(up: Upload, attachment_id: str, size: int, content_type: str,
              declared: str) -> dict:
    parts = up.store.parts(attachment_id)
    content = bytearray(size)
    at = 0
    try:
        for a, b in parts:
            if b < at:
                continue
            piece = up.store.read_part(attachment_id, a, b)
            content[at:b + 1] = piece[at - a:]
            at = b + 1
    except BlobMissing:
        # Another request finished (or discarded) the upload meanwhile.
        if _uploaded_now(up, attachment_id):
            return {"received": size, "uploaded": True}
        now = up.store.parts(attachment_id)
        return {"received": held(now, size), "uploaded": False}
    if at < size:
        return {"received": held(parts, size), "uploaded": False}
    content = bytes(content)
    if hashlib.sha256(content).hexdigest() != declared:
        up.store.delete_parts(attachment_id)
        raise ApiError(422, "the content's SHA-256 is not the attachment's sha256; every byte "
                            "received is discarded: send the whole content again")
    if not magic.matches(content_type, content):
        up.store.delete_parts(attachment_id)
        raise ApiError(415, f"the content does not start as {content_type} does; every byte "
                            "received is discarded")
    up.store.publish(attachment_id, content)
    return _finish(up, attachment_id, size)


def _uploaded_now(up: Upload, attachment_id: str) -> bool:
    try:
        attachment = up.session.get(Attachment, attachment_id, populate_existing=True)
        return bool(attachment is not None and attachment.uploaded)
    finally:
        up.session.rollback()


def _finish(up: Upload, attachment_id: str, size: int) -> dict:
    """Set ``uploaded`` through the write layer (once), then drop the parts.
    A file published but not yet recorded (the server stopped in between)
    is finished by the next status request or chunk."""
    if not up.store.exists(attachment_id):
        # The parts are complete but the file is not published: join them.
        attachment = up.session.get(Attachment, attachment_id)
        content_type, declared = attachment.content_type, attachment.sha256
        up.session.rollback()
        return _assemble(up, attachment_id, size, content_type, declared)
    user_id = up.user.id

    def work(tx):
        attachment = tx.get_for_update(Attachment, attachment_id)
        if attachment.uploaded or attachment.redacted_reason:
            return attachment.uploaded
        actor = Actor(user_id, "server", None, str(server_clock.send()), role="server")
        apply_change(tx, Change("attachment", attachment_id, {}, actor,
                                kept={"uploaded": True},
                                reason=messages.CONTENT_VERIFIED))
        return True

    try:
        uploaded = transaction(work, rules=up.rules, session=up.session)
    except Rejected as refusal:
        # A rule refuses to record it: take the file back (a reader must not
        # find bytes of an attachment that is not uploaded); the chunks stay,
        # so the next request can finish it once the rule allows.
        up.store.delete(attachment_id, parts=False)
        raise ApiError(422, "the server's rules refused to record this upload",
                       fields=refusal.errors) from None
    up.store.delete_parts(attachment_id)
    if not uploaded:  # redacted while it arrived: the bytes go too
        up.store.delete(attachment_id)
        raise ApiError(410, "this attachment was redacted by a supervisor while it arrived")
    return {"received": size, "uploaded": True}


def download(up: Upload, attachment_id: str) -> tuple[Attachment, bytes]:
    """The verified bytes (``GET .../content``): 404 until uploaded, 410
    once redacted or purged."""
    attachment = visible_attachment(up.session, up.user, attachment_id)
    _gone(attachment)
    if not attachment.uploaded:
        raise ApiError(404, "this attachment's content has not arrived yet")
    try:
        data = up.store.read(attachment_id)
    except BlobMissing:
        raise ApiError(404, "this attachment's content is not in the store") from None
    return attachment, data
