"""Hand-written SQL of the figures the reports' tests compare with, and small readers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from flask import Flask
from sqlalchemy import text

from core.timezone import local_today

MODULES = ["crm_contacts", "crm_sales", "crm_tasks", "crm_contracts", "crm_pricing", "crm_reports"]

GEORGI_SPEC = {
    "model": "crm_sales_line",
    "filters": [{"field": "date", "op": "this_year"}],
    "group_by": [{"field": "client.customer_group.name"}, {"field": "date", "bucket": "quarter"}],
    "measures": [{"field": "net_amount", "agg": "sum"}],
    "pivot": "date",
    "chart": {"type": "bar"},
}


def quarter(day: date | str) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.year}-Q{(day.month + 2) // 3}"


def turnover_by_group_quarter(app: Flask, responsible_id: int | None = None) -> dict:
    """{(customer group name, "2026-Q1"): Decimal} for this year, by hand: SQL sums per day,
    Python adds the days of a quarter up (the same on SQLite and PostgreSQL)."""
    with app.app_context():
        year = local_today().year
    where = "AND c.responsible_id = :rep" if responsible_id is not None else ""
    sql = text(
        "SELECT g.name, l.date, SUM(l.net_amount) FROM crm_sales_line l "
        "JOIN crm_contacts_client c ON c.id = l.client_id "
        "LEFT JOIN crm_contacts_customer_group g ON g.id = c.customer_group_id "
        f"WHERE l.date BETWEEN :start AND :end {where} GROUP BY g.name, l.date"
    )
    params = {"start": date(year, 1, 1), "end": date(year, 12, 31), "rep": responsible_id}
    figures: dict = defaultdict(Decimal)
    with app.extensions["crm"].engine.connect() as connection:
        for name, day, total in connection.execute(sql, params):
            figures[(name, quarter(day))] += Decimal(str(total)).quantize(Decimal("0.01"))
    return dict(figures)


def user_id(app: Flask, login: str) -> int:
    with app.extensions["crm"].engine.connect() as connection:
        return connection.execute(
            text("SELECT id FROM core_user WHERE login = :login"), {"login": login}
        ).scalar_one()


def pivot_figures(payload: dict) -> dict:
    """{(row label, pivot key): Decimal} of a pivot result from the API (one measure)."""
    columns = payload["columns"]
    keyed = [(i, c["key"].split("=", 1)[1].split("|")[0]) for i, c in enumerate(columns)
             if c["role"] == "measure"]  # fmt: skip
    return {
        (row[0], key): Decimal(row[i])
        for row in payload["rows"]
        for i, key in keyed
        if row[i] is not None
    }
