"""The visit log, its CSV export, and one visit in full."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, current_app, render_template, request, stream_with_context

from ...entities import VISIT_RESULTS, VISIT_STATUSES
from ...extensions import db
from ...rules.flags import VISIT_FLAGS
from .. import formatting, supervisor
from ..queries.accounts import collectors
from ..queries.records import visit_detail as load_visit_detail
from ..queries.visits import SORTS, VisitFilter, visit_page, visits_csv
from . import page_number


@supervisor.get("/visits")
def visits():
    zone = formatting.display_zone()
    f = VisitFilter.from_args(request.args)
    page = visit_page(db.session, f, zone, page_number(),
                      current_app.config.get("SUPERVISOR_PER_PAGE", 50))
    return render_template(
        "supervisor/visits.html", f=f, page=page, collectors=collectors(db.session),
        results=VISIT_RESULTS, flags=VISIT_FLAGS, statuses=VISIT_STATUSES, sorts=SORTS)


@supervisor.get("/visits.csv")
def visits_export():
    zone = formatting.display_zone()
    f = VisitFilter.from_args(request.args)
    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(visits_csv(db.session, f, zone)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="visits-{stamp}.csv"'},
    )


@supervisor.get("/visits/<id:visit_id>")
def visit_detail(visit_id: str):
    detail = load_visit_detail(db.session, visit_id, current_app.config["RULES"].geofence_m)
    if detail is None:
        abort(404)
    return render_template("supervisor/visit.html", v=detail.visit, d=detail,
                           account_zone=detail.account.timezone)
