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
from ..planning_actions import MAX_SELECTION, bulk_plan, bulk_reassign, selected_ids
from ..queries.accounts import AccountFilter, matching_ids
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
    if request.form.get("all_matching") == "1":
        return _all_matching(), form.collector.data
    return selected_ids(request.form.getlist("account")), form.collector.data


def _all_matching() -> list[str]:
    """Every account the search in the form's URL finds, on every page. The
    confirmation page names each one, so what is confirmed is what was shown."""
    ids = matching_ids(db.session, AccountFilter.from_args(request.args), MAX_SELECTION + 1)
    if len(ids) > MAX_SELECTION:
        raise Refused("More than {max} accounts match. Narrow the search, then select them all.",
                      max=MAX_SELECTION)
    return selected_ids(ids)


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
