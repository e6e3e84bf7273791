"""Bulk reassignment: accounts selected on the accounts page go to one
collector after a confirmation page that says what moves
(``planning_actions.bulk_plan`` / ``bulk_reassign``)."""

from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_login import current_user

from ...extensions import db
from .. import supervisor
from ..actions import Refused
from ..forms import BulkReassignForm
from ..planning_actions import bulk_plan, bulk_reassign, selected_ids
from .planning import _refusal_problems


def _accounts_again(problems, status: int):
    """The accounts page (its search kept in the form's URL), with the
    selection still ticked and the problem above the list."""
    from .accounts import accounts

    g.fv_problems = {"bulk": problems}
    return accounts(), status


def _read(form) -> tuple[list[str], str]:
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            raise Refused("The form expired. Reload the page and try again.")
        raise Refused("Choose an active collector from the list.")
    return selected_ids(request.form.getlist("account")), form.collector.data


@supervisor.post("/accounts/reassign")
def bulk_reassign_preview():
    form = BulkReassignForm()
    try:
        ids, collector_id = _read(form)
        plan = bulk_plan(db.session, ids, collector_id)
    except Refused as exc:
        return _accounts_again(_refusal_problems(exc), 400 if form.errors else 422)
    status = 200 if plan.moving else 422
    return render_template("supervisor/reassign_confirm.html", plan=plan, form=form), status


@supervisor.post("/accounts/reassign/confirm")
def bulk_reassign_confirm():
    form = BulkReassignForm()
    try:
        ids, collector_id = _read(form)
        plan = bulk_reassign(db.session, ids, collector_id, current_user.id,
                             current_app.config["RULES"])
    except Refused as exc:
        return _accounts_again(_refusal_problems(exc), 400 if form.errors else 422)
    return render_template("supervisor/reassign_done.html", plan=plan), 200
