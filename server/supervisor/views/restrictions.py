"""An account's contact restrictions on its page: add and remove do-not-visit
windows, change the jurisdiction (``restriction_actions.py``)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user

from ...extensions import db
from ...models import Account, utcnow
from .. import supervisor
from ..actions import Refused
from ..display import country_name
from ..forms import JurisdictionForm, RemoveWindowForm, WindowForm
from ..queries.restrictions import account_restrictions
from ..restriction_actions import add_window, remove_window, set_jurisdiction, window_from_form
from . import flash_refusal


@supervisor.app_context_processor
def restriction_helpers():
    """For the account page's partial (``_restrictions.html``), so that the
    account view itself needs no change."""
    def restrictions(account: Account):
        return account_restrictions(account, current_app.config["RULES"], utcnow())

    return {"account_restrictions": restrictions, "country_name": country_name,
            "window_form": WindowForm,
            "remove_window_form": RemoveWindowForm, "jurisdiction_form": JurisdictionForm}


def _back(account_id: str):
    return redirect(url_for("supervisor.account", account_id=account_id) + "#restrictions")


@supervisor.post("/accounts/<id:account_id>/do-not-visit")
def add_do_not_visit(account_id: str):
    form = WindowForm()
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    if not form.validate_on_submit():
        flash(("Give the first and last day and a reason.", {}), "error")
        return _back(account_id)
    window = window_from_form(form.from_date.data, form.from_time.data, form.to_date.data,
                              form.to_time.data, form.reason.data.strip(), account.timezone)
    try:
        add_window(db.session, account_id, window, current_user.id, current_app.config["RULES"])
        flash(("The period is saved. The collector's phone warns of it from its next sync.", {}),
              "ok")
    except Refused as exc:
        flash_refusal(exc)
    return _back(account_id)


@supervisor.post("/accounts/<id:account_id>/do-not-visit/remove")
def remove_do_not_visit(account_id: str):
    form = RemoveWindowForm()
    if form.validate_on_submit():
        try:
            remove_window(db.session, account_id, form.key.data, current_user.id,
                          current_app.config["RULES"])
            flash(("The period is removed.", {}), "ok")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("Nothing was removed: reload the page and try again.", {}), "error")
    return _back(account_id)


@supervisor.post("/accounts/<id:account_id>/jurisdiction")
def change_jurisdiction(account_id: str):
    form = JurisdictionForm()
    if form.validate_on_submit():
        try:
            set_jurisdiction(db.session, account_id, form.code.data, current_user.id,
                             current_app.config["RULES"])
            flash(("The jurisdiction is saved. Visits from now on follow its rules.", {}), "ok")
        except Refused as exc:
            flash_refusal(exc)
    else:
        flash(("Choose a jurisdiction from the list.", {}), "error")
    return _back(account_id)
