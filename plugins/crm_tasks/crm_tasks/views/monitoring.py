"""The managers' page: monitoring of commitments, by type and by representative, with charts."""

from __future__ import annotations

from flask import render_template, request

from core.charts import bar_chart
from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today
from crm_tasks import monitoring as figures
from crm_tasks.blueprints import bp
from crm_tasks.permissions import MANAGE
from crm_tasks.views.common import date_arg


def _chart(rows: list[figures.Row], title: str):
    shown = [r for r in rows if r.confirmed or r.rejected or r.open]
    if not shown:
        return None
    return bar_chart(
        [r.label for r in shown],
        {
            "Open": [r.open for r in shown],
            "Overdue": [r.overdue for r in shown],
            "Confirmed": [r.confirmed for r in shown],
            "Rejected": [r.rejected for r in shown],
        },
        title,
    )


@bp.route("/monitoring")
@permission_required(MANAGE)
def monitoring():
    kind = request.args.get("period", "this_quarter")
    if kind not in figures.PERIODS:
        kind = "this_quarter"
    day = local_today()
    period = figures.period_for(kind, day, date_arg("from"), date_arg("to"))
    types = figures.by_type(db_session, period, day)
    reps = figures.by_representative(db_session, period, day)
    return render_template(
        "crm_tasks/monitoring.html",
        periods=figures.PERIODS,
        kind=kind,
        period=period,
        previous=period.before(),
        sections=[
            (
                "by-type",
                "By commitment type",
                types,
                figures.totals(types),
                _chart(types, f"Commitments by type, {period.label()}"),
            ),
            (
                "by-representative",
                "By representative",
                reps,
                figures.totals(reps),
                _chart(reps, f"Commitments by representative, {period.label()}"),
            ),
        ],  # fmt: skip
    )
