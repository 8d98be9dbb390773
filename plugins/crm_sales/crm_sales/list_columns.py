"""The "Turnover this year" column of the client list (``crm_contacts_client_columns``).

Read through the request's session, so the sales lines' record rules apply as everywhere else;
the values of a page are one grouped query, and sorting by the column is a correlated sum over the
covering index ``(client_id, date, ..., signed_cents)`` inside the list's single paged query.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core import hookimpl
from core.auth import has_permission
from core.timezone import local_today
from crm_contacts.hookspecs import ClientColumn
from crm_contacts.models import Client
from crm_sales.models import SalesLine
from crm_sales.permissions import READ
from crm_sales.settings import from_cents


def _this_year() -> tuple[date, date]:
    year = local_today().year
    return date(year, 1, 1), date(year, 12, 31)


@hookimpl
def crm_contacts_client_columns(user):
    if not has_permission(READ, user):
        return []
    start, end = _this_year()
    in_year = (SalesLine.date >= start, SalesLine.date <= end)

    def values(session, client_ids):
        rows = session.execute(
            select(SalesLine.client_id, func.sum(SalesLine.signed_cents))
            .where(SalesLine.client_id.in_(client_ids), *in_year)
            .group_by(SalesLine.client_id)
        )
        return {client_id: from_cents(cents) for client_id, cents in rows}

    sort = (
        select(func.sum(SalesLine.signed_cents))
        .where(SalesLine.client_id == Client.id, *in_year)
        .scalar_subquery()
    )
    return [
        ClientColumn(
            "crm_sales.turnover_year", "Turnover this year", values, sort=sort, numeric=True,
            order=90,
        )
    ]  # fmt: skip
