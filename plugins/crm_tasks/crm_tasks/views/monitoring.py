"""The managers' page: monitoring of commitments, by type, by representative and both, with
charts; every number links to the task list filtered to the tasks behind it."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

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


FIGURE_LABELS = {
    "open": "Open",
    "overdue": "Overdue",
    "confirmed": "Confirmed",
    "rejected": "Rejected",
    "previous_confirmed": "Confirmed, previous period",
    "previous_rejected": "Rejected, previous period",
}


def _row_filter(*names_and_keys: Any) -> dict[str, Any]:
    """The list filters of a row or a cell: ``("commitment_type_id", 3, "assigned_to_id",
    None)`` is that type and nobody ("none" is the row without)."""
    pairs = zip(names_and_keys[::2], names_and_keys[1::2], strict=True)
    return {name: "none" if key is None else key for name, key in pairs}


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
    matrix_figure = request.args.get("figure", "open")
    if matrix_figure not in FIGURE_LABELS:
        matrix_figure = "open"

    def figure_url(figure: str, **row: Any) -> str:
        return url_for("crm_tasks.all_tasks", **figures.figure_filters(figure, period), **row)

    return render_template(
        "crm_tasks/monitoring.html",
        periods=figures.PERIODS,
        kind=kind,
        period=period,
        previous=period.before(),
        figure_url=figure_url,
        row_filter=_row_filter,
        figure_labels=FIGURE_LABELS,
        matrix=figures.by_representative_and_type(db_session, period, day),
        matrix_figure=matrix_figure,
        sections=[
            (
                "by-type",
                "By commitment type",
                "commitment_type_id",
                types,
                figures.totals(types),
                _chart(types, f"Commitments by type, {period.label()}"),
            ),
            (
                "by-representative",
                "By representative",
                "assigned_to_id",
                reps,
                figures.totals(reps),
                _chart(reps, f"Commitments by representative, {period.label()}"),
            ),
        ],  # fmt: skip
    )
