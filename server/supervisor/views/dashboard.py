"""The dashboard: today per collector, this week's flags, promises, aging."""

from __future__ import annotations

from flask import render_template

from ...extensions import db
from .. import formatting, i18n, supervisor
from ..charts import bar_chart
from ..queries.dashboard import dashboard as dashboard_numbers
from .devices import device_rows  # also registers the devices page


@supervisor.get("/")
def dashboard():
    zone = formatting.display_zone()
    numbers = dashboard_numbers(db.session, zone)
    currency = numbers.main_currency
    chart = bar_chart([
        (i18n.label("bucket", b.name),
         b.amounts.get(currency, 0) / 100,
         i18n.translate("{amount} · {n} acc.",
                        amount=formatting.fmt_money(b.amounts.get(currency, 0), currency),
                        n=b.accounts),
         b.name not in ("current", "1-30", "31-60"))
        for b in numbers.buckets
    ], width=440, label_w=104, text_w=150)
    return render_template("supervisor/dashboard.html", d=numbers, chart=chart,
                           currency=currency,
                           devices_attention=[r for r in device_rows() if r.reasons])
