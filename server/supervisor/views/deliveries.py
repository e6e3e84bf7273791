"""Deliveries: what the webhooks sent, are still sending and gave up on,
and sending a failed one again (the same event, under the same id)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from ...extensions import db
from ...webhooks.models import STATES
from ...webhooks.queue import retry_failed
from .. import supervisor
from ..forms import CsrfForm
from ..queries import deliveries as queries
from . import page_number


@supervisor.get("/deliveries")
def deliveries():
    state = request.args.get("state") or None
    if state not in STATES:
        state = None
    return render_template(
        "supervisor/deliveries.html", state=state, states=STATES,
        counts=queries.state_counts(db.session),
        page=queries.deliveries_page(db.session, state, page_number()),
        jobs=queries.worker_jobs(db.session),
        endpoints=current_app.config.get("WEBHOOK_URLS") or (),
        retry_hours=current_app.config["WEBHOOK_RETRY_HOURS"],
        keep_days=current_app.config["WEBHOOK_KEEP_DAYS"], form=CsrfForm())


@supervisor.post("/deliveries/<int:delivery_id>/retry")
def retry_delivery(delivery_id: int):
    form = CsrfForm()
    if form.validate_on_submit() and retry_failed(db.session, delivery_id):
        flash(("The event is queued again under the same id; the worker sends it within a "
               "few seconds.", {}), "ok")
    else:
        flash(("Nothing was queued again: the delivery is no longer failed, or the form "
               "expired. Reload the page.", {}), "error")
    return redirect(url_for("supervisor.deliveries", state=request.args.get("state") or None))
