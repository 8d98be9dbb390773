"""The trade turnover analysis of a client (page, CSV and XLSX), from ``crm_sales.analysis``."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from sqlalchemy import select

from core.charts import bar_chart
from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today
from crm_contacts.models import Client
from crm_sales.analysis import PERIOD_TITLES, client_analysis, to_csv, to_xlsx
from crm_sales.blueprints import bp
from crm_sales.permissions import READ

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _client_and_year(client_id: int) -> tuple[Client, int]:
    # Record rules apply: a representative reaches only the clients they may see.
    client = db_session.scalar(select(Client).where(Client.id == client_id))
    if client is None:
        abort(404)
    this_year = local_today().year
    year = request.args.get("year", type=int) or this_year
    if not 1900 < year <= this_year + 1:
        abort(404)
    return client, year


@bp.route("/clients/<int:client_id>/analysis")
@permission_required(READ)
def client_analysis_page(client_id: int):
    client, year = _client_and_year(client_id)
    period = request.args.get("period", "month")
    if period not in PERIOD_TITLES:
        period = "month"
    analysis = client_analysis(db_session, client.id, year)
    rows = analysis.periods[period]
    chart = bar_chart(
        [r.label for r in rows],
        # Last year's bars are its whole periods, this year's what there is so far.
        {
            str(year): [None if r.state == "ahead" else r.current for r in rows],
            str(year - 1): [r.previous_full for r in rows],
        },
        f"Turnover of {client.name} by {PERIOD_TITLES[period].lower()}, {year} against {year - 1}",
        unit=analysis.currency,
    )
    return render_template(
        "crm_sales/analysis.html",
        client=client,
        analysis=analysis,
        period=period,
        periods=PERIOD_TITLES,
        rows=rows,
        chart=chart,
        years=range(local_today().year, local_today().year - 6, -1),
    )


def _export(client_id: int, write, mimetype: str, extension: str) -> Response:
    client, year = _client_and_year(client_id)
    name = f"turnover-{client.id}-{year}.{extension}"
    return Response(
        write(client_analysis(db_session, client.id, year)),
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.route("/clients/<int:client_id>/analysis.csv")
@permission_required(READ)
def client_analysis_csv(client_id: int):
    return _export(client_id, to_csv, "text/csv", "csv")


@bp.route("/clients/<int:client_id>/analysis.xlsx")
@permission_required(READ)
def client_analysis_xlsx(client_id: int):
    return _export(client_id, to_xlsx, XLSX, "xlsx")
