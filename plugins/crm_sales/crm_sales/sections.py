"""The client file's "Trade turnover" section (crm_contacts' ``crm_client_file_sections``): this
year so far against the same days of last year, last year's total, and a sparkline of the last
twelve months. Two queries. And the client's first sale, its "Client since"."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import bindparam, func, select

from core import hookimpl
from core.auth import has_permission
from core.charts import sparkline
from core.db import db_session
from crm_contacts.hookspecs import ClientFileSection
from crm_sales.analysis import client_summary
from crm_sales.models import SalesDocument
from crm_sales.permissions import READ
from crm_sales.prepared import Prepared
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


# Like the turnover above, a fact of a client the file has already shown the user may see: run
# without the documents' own record rule, whose list of a representative's clients SQLite built
# at every file (1.5 ms at 10,000 clients, more than the file's other 28 statements together).
_FIRST_SALE = Prepared(
    select(func.min(SalesDocument.date)).where(SalesDocument.client_id == bindparam("client"))
)


@hookimpl
def crm_client_since(client):
    """A client since its first sale: the date of its earliest sales document."""
    (first,) = _FIRST_SALE.one(db_session, {"client": client.id})
    # The driver's value: a date on PostgreSQL, its ISO text on SQLite.
    return date.fromisoformat(first) if isinstance(first, str) else first
