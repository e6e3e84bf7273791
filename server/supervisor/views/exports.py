"""Downloads: the visit log and the payments as CSV or Excel files.

The response body is a generator (``stream_with_context`` keeps the request
and its database session open while it runs): rows are read in chunks and
sent as they are written, so a large export neither waits for its whole
body nor holds it in memory. The language is the page's (or ``lang=``)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, request, stream_with_context

from ...extensions import db
from .. import formatting, supervisor
from ..exports import payments as payment_export
from ..exports import visits as visit_export
from ..exports.table import Context
from ..exports.writers import csv_lines, xlsx_chunks
from ..i18n import current_language, normalise, translate
from ..queries.visits import VisitFilter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _context() -> Context:
    return Context(normalise(request.args.get("lang")) or current_language(),
                   formatting.display_zone())


def _download(name: str, fmt: str, columns, rows, ctx: Context, sheet: str) -> Response:
    stamp = datetime.now(ctx.zone).strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        body, mimetype = xlsx_chunks(columns, rows, ctx, sheet), XLSX
    else:
        body, mimetype = (line.encode("utf-8") for line in csv_lines(columns, rows, ctx)), \
            "text/csv; charset=utf-8"
    response = Response(stream_with_context(body), mimetype=mimetype, direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    # Let a proxy pass each chunk on as it comes (deploy/nginx buffers by default).
    response.headers["X-Accel-Buffering"] = "no"
    return response


@supervisor.get("/visits.csv", defaults={"fmt": "csv"}, endpoint="visits_export")
@supervisor.get("/visits.xlsx", defaults={"fmt": "xlsx"}, endpoint="visits_export_xlsx")
def visits_export(fmt: str):
    ctx = _context()
    f = VisitFilter.from_args(request.args)
    rows = visit_export.visit_lines(db.session, f, ctx.zone)
    return _download("visits", fmt, visit_export.COLUMNS, rows, ctx,
                     translate("Visit log", ctx.lang))


@supervisor.get("/payments.csv", defaults={"fmt": "csv"}, endpoint="payments_export")
@supervisor.get("/payments.xlsx", defaults={"fmt": "xlsx"}, endpoint="payments_export_xlsx")
def payments_export(fmt: str):
    ctx = _context()
    f = payment_export.PaymentFilter.from_args(request.args)
    rows = payment_export.payment_rows(db.session, f, ctx.zone)
    return _download("payments", fmt, payment_export.COLUMNS, rows, ctx,
                     translate("Payments", ctx.lang))
