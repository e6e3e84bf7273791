"""Conflicts, refused mutations, payments and promises."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...extensions import db
from .. import formatting, supervisor
from ..actions import Refused, resolve_conflict, review_payment
from ..forms import PaymentReviewForm, ResolveForm
from ..i18n import current_language
from ..queries import review as queries
from ..queries.refused import lookups as refused_lookups
from ..refusals import describe
from . import flash_refusal, page_number


@supervisor.get("/conflicts")
def conflicts():
    show_resolved = request.args.get("show") == "resolved"
    return render_template(
        "supervisor/conflicts.html",
        rows=queries.conflict_rows(db.session, show_resolved, current_user.id),
        show_resolved=show_resolved, form=ResolveForm())


@supervisor.post("/conflicts/<id:conflict_id>/resolve")
def resolve(conflict_id: str):
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            resolve_conflict(db.session, conflict_id, form.resolution or "", current_user.id,
                             current_app.config["RULES"], form.reason.data)
            flash(("Conflict resolved. The phones receive the chosen value at their next sync.",
                   {}), "ok")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("The reason is too long.", {}), "error")
    return redirect(url_for("supervisor.conflicts"))


@supervisor.get("/rejected")
def rejected():
    user_id = (request.args.get("user") or "").strip()[:36]
    page = queries.rejected_page(db.session, page_number(), user_id=user_id)
    found = refused_lookups(db.session, [r for r, _user in page.rows])
    rows = [describe(r, found, current_language(), formatting.display_zone())
            for r, _user in page.rows]
    return render_template("supervisor/rejected.html", page=page, rows=rows, user_id=user_id)


PROMISE_TABS = ("pending", "kept", "broken")


@supervisor.get("/payments")
def payments():
    tab = request.args.get("promises", "pending")
    if tab not in PROMISE_TABS:
        tab = "pending"
    return render_template(
        "supervisor/payments.html",
        awaiting=queries.payments_awaiting(db.session),
        reviewed=queries.payments_reviewed(db.session),
        promises=queries.promises(db.session, tab), promise_counts=queries.promise_counts(db.session),
        tab=tab, tabs=PROMISE_TABS, form=PaymentReviewForm())


@supervisor.post("/payments/<id:payment_id>/review")
def review(payment_id: str):
    form = PaymentReviewForm()
    if form.validate_on_submit():
        try:
            payment = review_payment(db.session, payment_id, form.decision or "",
                                     form.note.data or "", current_user.id,
                                     current_app.config["RULES"])
            flash(("Payment confirmed." if payment.status == "confirmed"
                   else "Payment rejected.", {}), "ok")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("The note is too long.", {}), "error")
    return redirect(url_for("supervisor.payments"))
