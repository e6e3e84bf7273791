"""Planning from the pages: a visit planned from an account's page or a
collector's day planner, a planned visit moved or cancelled from its page
(``planning_actions.py``). A refused form is shown again, with what was
typed and why in words, under a 4xx status; nothing is written."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ... import messages
from ...entities import is_record_id
from ...extensions import db
from ...models import Account, User, Visit, utcnow
from .. import formatting, supervisor
from ..actions import NotFound, Refused
from ..forms import CancelVisitForm, MoveVisitForm, PlanVisitForm
from ..planning_actions import cancel_visit, move_visit, plan_visit
from ..queries.accounts import collectors
from ..queries.planning import collector_day

# What a form's field problem is, in words the page translates.
FIELD_PROBLEMS = {
    "account": "Choose an account from the list.",
    "collector": "Choose an active collector from the list.",
    "day": "Give the day as a date (year-month-day).",
    "time": "Give the time as hours and minutes.",
    "notes": "The notes are too long.",
    "reason": "Say why the visit is cancelled (at least three letters or digits).",
}


def _form_problems(form) -> list[tuple[str, dict]]:
    found = [(FIELD_PROBLEMS[name], {}) for name in form.errors if name in FIELD_PROBLEMS]
    return found or [("The form expired. Reload the page and try again.", {})]


def _refusal_problems(exc: Refused) -> list[tuple[str, dict]]:
    found = [(exc.message, exc.values)]
    for reasons in exc.reasons.values():
        found += [messages.parse(r) for r in reasons]
    return found


def _instant(day: date, clock: time) -> datetime:
    """The form's day and time on the supervisor's wall clock."""
    return datetime.combine(day, clock, tzinfo=formatting.display_zone())


def _version(form) -> int | None:
    return int(form.version.data) if (form.version.data or "").isdigit() else None


@supervisor.app_context_processor
def planning_helpers():
    """For the partials on the account and visit pages, so that their
    views need no change: the forms (the one refused, if any, with what
    was typed) and the problems to show beside them."""
    def plan_form(account: Account):
        form = g.get("fv_plan_form")
        if form is None:
            zone = formatting.display_zone()
            form = PlanVisitForm(formdata=None, collector=account.assigned_collector_id,
                                 day=formatting.today(zone) + timedelta(days=1), time=time(10, 0))
        return form

    def move_form(visit: Visit):
        form = g.get("fv_move_form")
        if form is None:
            local = visit.scheduled_at.astimezone(formatting.display_zone()) \
                if visit.scheduled_at else None
            form = MoveVisitForm(formdata=None, version=str(visit.version),
                                 collector=visit.collector_id,
                                 day=local.date() if local else None,
                                 time=local.time().replace(second=0, microsecond=0)
                                 if local else None)
        return form

    def cancel_form(visit: Visit):
        return g.get("fv_cancel_form") or CancelVisitForm(formdata=None,
                                                          version=str(visit.version))

    return {"plan_form": plan_form, "move_form": move_form, "cancel_form": cancel_form,
            "plan_problems": lambda what: g.get("fv_problems", {}).get(what, []),
            "planning_collectors": lambda: collectors(db.session)}


def _show_again(what: str, form, problems, page, status: int):
    g.fv_problems = {what: problems}
    setattr(g, f"fv_{what}_form", form)
    return page(), status


# -- from an account's page -------------------------------------------------------


@supervisor.post("/accounts/<id:account_id>/plan")
def plan_for_account(account_id: str):
    from .accounts import account as account_page

    if db.session.get(Account, account_id) is None:
        abort(404)
    form = PlanVisitForm()
    page = lambda: account_page(account_id)  # noqa: E731
    if not form.validate_on_submit():
        return _show_again("plan", form, _form_problems(form), page, 400)
    return _plan(form, account_id, page,
                 lambda: redirect(url_for("supervisor.account", account_id=account_id) + "#plan"))


def _plan(form, account_id: str, page, done):
    try:
        when = _instant(form.day.data, form.time.data)
        plan_visit(db.session, account_id, form.collector.data, when, form.notes.data or "",
                   current_user.id, current_app.config["RULES"])
    except NotFound:
        return _show_again("plan", form, [("Choose an account from the list.", {})], page, 422)
    except Refused as exc:
        return _show_again("plan", form, _refusal_problems(exc), page, 422)
    name = db.session.get(User, form.collector.data).name
    flash(("Visit planned for {name} on {when}. The phone receives it at its next sync.",
           {"name": name, "when": formatting.fmt_datetime(when)}), "ok")
    return done()


# -- from a visit's page ------------------------------------------------------------


def _visit_or_404(visit_id: str) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    return visit


@supervisor.post("/visits/<id:visit_id>/move")
def move(visit_id: str):
    from .visits import visit_detail

    _visit_or_404(visit_id)
    form = MoveVisitForm()
    page = lambda: visit_detail(visit_id)  # noqa: E731
    if not form.validate_on_submit():
        return _show_again("move", form, _form_problems(form), page, 400)
    try:
        move_visit(db.session, visit_id, _version(form), form.collector.data,
                   _instant(form.day.data, form.time.data), current_user.id,
                   current_app.config["RULES"])
    except Refused as exc:
        db.session.rollback()
        return _show_again("move", form, _refusal_problems(exc), page, 422)
    flash(("The visit is moved. The phones pick it up at their next sync.", {}), "ok")
    return redirect(url_for("supervisor.visit_detail", visit_id=visit_id) + "#plan")


@supervisor.post("/visits/<id:visit_id>/cancel")
def cancel(visit_id: str):
    from .visits import visit_detail

    _visit_or_404(visit_id)
    form = CancelVisitForm()
    page = lambda: visit_detail(visit_id)  # noqa: E731
    if not form.validate_on_submit():
        return _show_again("cancel", form, _form_problems(form), page, 400)
    try:
        cancel_visit(db.session, visit_id, _version(form), form.reason.data, current_user.id,
                     current_app.config["RULES"])
    except Refused as exc:
        db.session.rollback()
        return _show_again("cancel", form, _refusal_problems(exc), page, 422)
    flash(("The visit is cancelled. The collector's phone shows it at its next sync.", {}), "ok")
    return redirect(url_for("supervisor.visit_detail", visit_id=visit_id) + "#plan")


# -- a collector's day ------------------------------------------------------------


def _planner_args(source) -> tuple[User | None, date]:
    zone = formatting.display_zone()
    collector_id = (source.get("collector") or "").strip()
    collector = db.session.get(User, collector_id) if is_record_id(collector_id) else None
    if collector is not None and (collector.role != "collector" or not collector.active):
        collector = None
    try:
        day = date.fromisoformat((source.get("date") or source.get("day") or "").strip())
    except ValueError:
        day = formatting.today(zone)
    return collector, day


def _planner(collector: User | None, day: date, form=None, problems=(), status: int = 200):
    zone = formatting.display_zone()
    people = collectors(db.session)
    if collector is None and people and "collector" not in request.values:
        collector = people[0]
    plan = collector_day(db.session, collector.id, day, zone) if collector else None
    if form is None:
        form = PlanVisitForm(formdata=None, collector=collector.id if collector else None,
                             day=day, time=time(10, 0))
    return render_template("supervisor/plan.html", collector=collector, day=day, plan=plan,
                           collectors=people, form=form, problems=list(problems),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           now=utcnow()), status


@supervisor.get("/plan")
def planner():
    collector, day = _planner_args(request.args)
    return _planner(collector, day)


@supervisor.post("/plan")
def plan_from_planner():
    form = PlanVisitForm()
    collector, day = _planner_args(request.form)
    if not form.validate_on_submit():
        return _planner(collector, day, form, _form_problems(form), 400)
    account_id = (form.account.data or "").strip()
    if not is_record_id(account_id):
        return _planner(collector, day, form, [("Choose an account from the list.", {})], 422)

    def page():
        return _planner(collector, day, form, g.fv_problems["plan"])[0]

    return _plan(form, account_id, page, lambda: redirect(url_for(
        "supervisor.planner", collector=form.collector.data, date=form.day.data.isoformat())))
