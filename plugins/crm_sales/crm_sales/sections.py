"""The client file's "Trade turnover" section (crm_contacts' ``crm_client_file_sections``): this
year so far against the same days of last year, last year's total, and a sparkline of the last
twelve months. Two queries."""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from core import hookimpl
from core.auth import has_permission
from core.charts import sparkline
from core.db import db_session
from crm_contacts.hookspecs import ClientFileSection
from crm_sales.analysis import client_summary
from crm_sales.models import SalesDocument
from crm_sales.permissions import READ
from crm_sales.settings import installation_currency


@hookimpl
def crm_client_file_sections(client: Any, user: Any) -> list[ClientFileSection]:
    if not has_permission(READ, user):
        return []
    summary = client_summary(db_session, client.id)
    trend = sparkline(
        [value for _label, value in summary.months],
        f"Turnover of the last 12 months ({summary.months[0][0]} to {summary.months[-1][0]})",
    )
    html = render_template(
        "crm_sales/section_turnover.html",
        client=client,
        summary=summary,
        trend=trend,
        currency=installation_currency(),
    )
    return [
        ClientFileSection(
            id="crm_sales.turnover",
            title="Trade turnover",
            html=Markup(html),  # noqa: S704 - rendered by Jinja with autoescaping
            order=15,
        )
    ]


@hookimpl
def crm_client_since(client):
    """A client since its first sale: the date of its earliest sales document."""
    return db_session.scalar(
        select(func.min(SalesDocument.date)).where(SalesDocument.client_id == client.id)
    )
