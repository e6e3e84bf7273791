"""Accounts: search, assign or reassign, escalate, import a CSV file."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...entities import ACCOUNT_STATUSES
from ...extensions import db
from ...models import utcnow
from .. import supervisor
from ..actions import (
    Refused,
    assign_account,
    escalate_account,
    make_geocoder,
    preview_import,
    run_import,
)
from ..forms import AssignForm, EscalateForm, ImportConfirmForm, ImportUploadForm
from ..planning_actions import MAX_SELECTION
from ..queries.accounts import UNASSIGNED, AccountFilter, account_detail, account_page, collectors
from . import flash_refusal, page_number


@supervisor.get("/accounts")
def accounts():
    f = AccountFilter.from_args(request.args)
    page = account_page(db.session, f, utcnow(), current_app.config["RULES"], page_number())
    return render_template("supervisor/accounts.html", f=f, page=page,
                           collectors=collectors(db.session), statuses=ACCOUNT_STATUSES,
                           unassigned=UNASSIGNED, max_selection=MAX_SELECTION)


@supervisor.get("/accounts/<id:account_id>")
def account(account_id: str):
    detail = account_detail(db.session, account_id, utcnow(), current_app.config["RULES"])
    if detail is None:
        abort(404)
    people = collectors(db.session)
    assign = AssignForm()
    escalate = EscalateForm()
    suggestion = (detail.extras.get("escalation") or {}).get("suggest")
    if suggestion:
        escalate.level.data = suggestion
    return render_template("supervisor/account.html", d=detail, a=detail.account,
                           assign=assign, escalate=escalate, collectors=people)


def _done(message: str, **values):
    flash((message, values), "ok")


@supervisor.post("/accounts/<id:account_id>/assign")
def assign(account_id: str):
    form = AssignForm()
    if form.validate_on_submit():
        try:
            assign_account(db.session, account_id, form.collector.data or None, current_user.id,
                           current_app.config["RULES"])
            _done("Assignment saved. The phones pick it up at their next sync.")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("Choose a collector from the list.", {}), "error")
    return redirect(url_for("supervisor.account", account_id=account_id))


@supervisor.post("/accounts/<id:account_id>/escalate")
def escalate(account_id: str):
    form = EscalateForm()
    if form.validate_on_submit():
        try:
            escalate_account(db.session, account_id, form.level.data, current_user.id,
                             current_app.config["RULES"])
            _done("The account is escalated.")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("Choose an agency or legal action.", {}), "error")
    return redirect(url_for("supervisor.account", account_id=account_id))


def _read_upload(storage) -> str | None:
    data = storage.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@supervisor.route("/accounts/import", methods=["GET", "POST"])
def import_accounts():
    upload = ImportUploadForm()
    preview = None
    confirm = ImportConfirmForm()
    status = 200
    if request.method == "POST":
        if upload.validate_on_submit():
            text = _read_upload(upload.file.data)
            if text is None:
                flash(("The file is not UTF-8 text. Save it as CSV UTF-8 and upload it again.",
                       {}), "error")
                status = 400
            else:
                preview = preview_import(db.session, text, current_user.id,
                                         current_app.config["RULES"])
                confirm.csv_text.data = text
                status = 200 if preview.ok else 422
        else:
            flash(("Choose a CSV file to upload.", {}), "error")
            status = 400
    return render_template("supervisor/import.html", upload=upload, preview=preview,
                           confirm=confirm), status


@supervisor.post("/accounts/import/confirm")
def import_confirm():
    confirm = ImportConfirmForm()
    if not confirm.validate_on_submit():
        flash(("Nothing to import: upload the file again.", {}), "error")
        return redirect(url_for("supervisor.import_accounts"))
    report = run_import(db.session, confirm.csv_text.data, current_user.id,
                        current_app.config["RULES"], make_geocoder(current_app.config))
    if not report.ok:
        # The file was checked again and something no longer fits (another
        # supervisor's change, a collector made inactive): nothing written.
        preview = preview_import(db.session, confirm.csv_text.data, current_user.id,
                                 current_app.config["RULES"])
        flash(("Nothing was imported: the file has bad rows.", {}), "error")
        return render_template("supervisor/import.html", upload=ImportUploadForm(),
                               preview=preview, confirm=confirm), 422
    _done("Imported: {created} new, {updated} updated, {unchanged} unchanged, "
          "{reassigned} reassigned.", created=report.created, updated=report.updated,
          unchanged=report.unchanged, reassigned=report.reassigned)
    return redirect(url_for("supervisor.accounts"))
