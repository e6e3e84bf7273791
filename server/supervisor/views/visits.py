"""The visit log and one visit in full (its exports: views/exports.py)."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ...entities import VISIT_RESULTS, VISIT_STATUSES
from ...extensions import db
from ...models import Account, Visit
from ...rules.flags import VISIT_FLAGS
from .. import formatting, supervisor
from ..actions import Refused, amend_visit
from ..amend_form import currency_symbol, form_fields, read_changes
from ..display import field_label
from ..forms import AmendVisitForm
from ..i18n import current_language, translate
from ..queries.accounts import collectors
from ..queries.records import visit_detail as load_visit_detail
from ..queries.visits import SORTS, VisitFilter, visit_page
from . import flash_refusal, page_number


@supervisor.get("/visits")
def visits():
    zone = formatting.display_zone()
    f = VisitFilter.from_args(request.args)
    page = visit_page(db.session, f, zone, page_number(),
                      current_app.config.get("SUPERVISOR_PER_PAGE", 50))
    return render_template(
        "supervisor/visits.html", f=f, page=page, collectors=collectors(db.session),
        results=VISIT_RESULTS, flags=VISIT_FLAGS, statuses=VISIT_STATUSES, sorts=SORTS)


@supervisor.get("/visits/<id:visit_id>")
def visit_detail(visit_id: str):
    detail = load_visit_detail(db.session, visit_id, current_app.config["RULES"].geofence_m)
    if detail is None:
        abort(404)
    return render_template("supervisor/visit.html", v=detail.visit, d=detail,
                           account_zone=detail.account.timezone,
                           amend_form=AmendVisitForm(version=str(detail.visit.version)),
                           amend_fields=form_fields(detail.visit, detail.account),
                           amend_currency=currency_symbol(detail.account, current_language()))


@supervisor.post("/visits/<id:visit_id>/amend")
def amend(visit_id: str):
    """Correct a done visit: the changed fields, with the supervisor's reason."""
    form = AmendVisitForm()
    back = redirect(url_for("supervisor.visit_detail", visit_id=visit_id) + "#amend")
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    if not form.validate_on_submit():
        flash(("The reason is too long.", {}), "error")
        return back
    changes, problems = read_changes(request.form, visit, db.session.get(Account, visit.account_id))
    db.session.rollback()
    if problems:
        for name, problem in problems:
            flash(("{field}: {problem}", {"field": field_label(name), "problem": translate(problem)}),
                  "error")
        return back
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    try:
        amend_visit(db.session, visit_id, version, changes, form.reason.data or "",
                    current_user.id, current_app.config["RULES"])
        flash(("Correction saved. The collector's phone shows it at its next sync.", {}), "ok")
    except Refused as exc:
        flash_refusal(exc)
    return back
