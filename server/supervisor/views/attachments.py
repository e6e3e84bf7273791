"""Photos, signatures and documents: the full-size page, the bytes (to
supervisors only: the blueprint lets no one else in) and redaction."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...attachments import blob_store
from ...attachments.blobstore import BlobMissing
from ...extensions import db
from .. import supervisor
from ..actions import Refused, redact_attachment
from ..forms import RedactForm
from ..queries.attachments import attachment_detail
from ..queries.records import record_history
from . import flash_refusal


@supervisor.get("/attachments/<id:attachment_id>")
def attachment(attachment_id: str):
    found = attachment_detail(db.session, attachment_id)
    if found is None:
        abort(404)
    view, account = found
    return render_template("supervisor/attachment.html", x=view, a=account,
                           history=record_history(db.session, "attachment", attachment_id),
                           form=RedactForm())


@supervisor.get("/attachments/<id:attachment_id>/content")
def attachment_content(attachment_id: str):
    found = attachment_detail(db.session, attachment_id)
    if found is None or not found[0].shows_content:
        abort(404)
    record = found[0].attachment
    try:
        data = blob_store(current_app).read(attachment_id)
    except BlobMissing:
        abort(404)
    etag = f'"{record.sha256}"'
    headers = {"ETag": etag, "Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"}
    if request.if_none_match.contains(record.sha256):
        return Response(status=304, headers=headers)
    return Response(data, mimetype=record.content_type, headers=headers)


@supervisor.post("/attachments/<id:attachment_id>/redact")
def redact(attachment_id: str):
    form = RedactForm()
    if form.validate_on_submit():
        try:
            redact_attachment(db.session, attachment_id, form.reason.data, current_user.id,
                              current_app.config["RULES"])
            flash(("Redacted. The content is deleted; the record and its history stay.", {}), "ok")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("Say why it is redacted.", {}), "error")
    return redirect(url_for("supervisor.attachment", attachment_id=attachment_id))


@supervisor.context_processor
def attachment_helpers():
    """For the thumbnails partial (``_attachments.html``), which the visit and
    account pages include with one line each."""
    from ..queries.attachments import account_attachments, visit_attachments

    return {
        "visit_attachments": lambda visit, account: visit_attachments(db.session, visit, account),
        "account_attachments": lambda account: account_attachments(db.session, account),
        "attachment_geofence_m": current_app.config["RULES"].geofence_m,
    }
