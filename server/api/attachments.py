"""Attachment content (docs/protocol.md 1.1 "Attachments"): parse, call
``server/attachments/content.py``, answer."""

from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.exceptions import ClientDisconnected

from ..attachments import blob_store
from ..attachments.content import Upload, download, receive_chunk, status
from ..attachments.settings import CHUNK_MAX_BYTES, settings_of
from ..entities import is_record_id
from ..errors import ApiError
from ..extensions import db
from .common import current_user


def _upload() -> Upload:
    return Upload(db.session, blob_store(current_app), settings_of(current_app),
                  current_app.config["RULES"], current_user())


def _id(attachment_id: str) -> str:
    if not is_record_id(attachment_id):
        raise ApiError(404, "no such attachment")
    return attachment_id


def _read_body(limit: int) -> bytes:
    try:
        data = request.stream.read(limit + 1)
    except ClientDisconnected:
        raise ApiError(400, "the body ended before its Content-Length: send the chunk again") \
            from None
    except ValueError:  # the worker's read deadline (server/gunicorn_worker.py)
        raise ApiError(408, "the chunk did not arrive in time") from None
    if len(data) > limit:
        raise ApiError(413, f"a chunk holds at most {limit} bytes")
    return data


def put_content(attachment_id: str):
    up = _upload()  # 401 first
    length = request.content_length
    if length is not None and length > CHUNK_MAX_BYTES:
        raise ApiError(413, f"a chunk holds at most {CHUNK_MAX_BYTES} bytes")
    try:
        result = receive_chunk(up, _id(attachment_id), request.headers.get("Content-Range"),
                               _read_body)
    finally:
        db.session.rollback()
    return result, 200


def get_status(attachment_id: str):
    up = _upload()
    try:
        return status(up, _id(attachment_id)), 200
    finally:
        db.session.rollback()


def get_content(attachment_id: str):
    up = _upload()
    try:
        attachment, data = download(up, _id(attachment_id))
    finally:
        db.session.rollback()
    etag = f'"{attachment.sha256}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-store",
               "X-Content-Type-Options": "nosniff"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers=headers)
    return Response(data, status=200, mimetype=attachment.content_type, headers=headers)


def register(bp):
    bp.add_url_rule("/attachments/<attachment_id>/content", view_func=put_content,
                    methods=["PUT"])
    bp.add_url_rule("/attachments/<attachment_id>/content", view_func=get_content,
                    methods=["GET"])
    bp.add_url_rule("/attachments/<attachment_id>/content/status", view_func=get_status,
                    methods=["GET"])
