"""The day plan (docs/protocol.md "Day plan"): parse, call the planning service, answer."""

from datetime import date

from flask import current_app, request
from marshmallow import fields, validate

from ..extensions import db
from ..services.planning import collector_for_plan, day_plan
from .common import current_user, load
from .schemas import StrictSchema

# Planning steps a few hours either side of the day; at the ends of what a
# datetime holds (year 1, year 9999) that overflowed into a 500.
PLAN_DATES = validate.Range(min=date(1900, 1, 1), max=date(2999, 12, 31),
                            error="The date must be between 1900-01-01 and 2999-12-31.")


class PlanQuerySchema(StrictSchema):
    date = fields.Date(required=True, validate=PLAN_DATES)
    collector = fields.String(validate=validate.Length(min=1, max=64))


def plan_view():
    user = current_user()
    args = load(PlanQuerySchema(), request.args.to_dict(),
                "the query does not match the plan parameters: ?date=YYYY-MM-DD[&collector=USERNAME]")
    try:
        collector = collector_for_plan(db.session, user, args.get("collector"))
        result = day_plan(db.session, collector, args["date"], current_app.config["RULES"])
    finally:
        # A read: end the transaction so no snapshot or lock outlives the request.
        db.session.rollback()
    return result, 200


def register(bp):
    bp.add_url_rule("/plan", view_func=plan_view, methods=["GET"])
