"""Large exports leave the request: a list report of more rows than REPORTS_SYNC_ROWS is made by a
background job, with the permissions and record rules of the user who started it."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook
from reports_helpers import user_id
from sqlalchemy import select, text

from core.jobs import run_queued
from core.testing import logged_in

LISTING = {
    "model": "crm_sales_line",
    "columns": ["date", "document.number", "client.name", "quantity", "net_amount"],
}


def _lines_of(app, login: str | None = None) -> int:
    where, params = "", {}
    if login:
        where, params = "WHERE c.responsible_id = :rep", {"rep": user_id(app, login)}
    with app.extensions["crm"].engine.connect() as connection:
        return connection.execute(text(
            "SELECT COUNT(*) FROM crm_sales_line l JOIN crm_contacts_client c "
            f"ON c.id = l.client_id {where}"), params).scalar_one()  # fmt: skip


def test_a_large_list_export_is_a_background_job_with_the_starters_rows(app):
    app.config["REPORTS_SYNC_ROWS"] = 100
    maria = logged_in(app, "maria", "demo")
    started = maria.get("/reports/export", query_string={"spec": json.dumps(LISTING),
                                                          "format": "xlsx"})  # fmt: skip
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    job_path = started.headers["Location"]
    run_queued(app)
    job = maria.get("/api/v1" + job_path).get_json()
    assert job["status"] == "done", job
    download = maria.get(job["download"])
    sheet = load_workbook(io.BytesIO(download.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Date", "Document", "Client", "Quantity", "Net amount")
    assert len(rows) - 2 == _lines_of(app, "maria") < _lines_of(app)  # header and totals
    assert rows[1][0].year >= 2000  # a date stays a date


def test_the_api_answers_202_with_the_job_for_a_large_export(app):
    app.config["REPORTS_SYNC_ROWS"] = 100
    georgi = logged_in(app, "georgi", "demo")
    saved = georgi.post("/api/v1/reports", json={"name": "All lines", "spec": LISTING})
    answer = georgi.get(f"/api/v1/reports/{saved.get_json()['id']}/export?format=csv")
    assert answer.status_code == 202
    run_queued(app)
    job = georgi.get(answer.headers["Location"]).get_json()
    body = georgi.get(job["download"]).get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(body)))
    assert len(lines) - 2 == _lines_of(app)
    assert lines[-1][0] == "Total"


def test_a_small_list_export_streams_at_once(app):
    georgi = logged_in(app, "georgi", "demo")
    spec = {**LISTING, "limit": 10}
    answer = georgi.get("/reports/export", query_string={"spec": json.dumps(spec), "format": "csv"})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert len(answer.get_data(as_text=True).strip().splitlines()) == 12


EXPORTED = [
    {"model": "crm_sales_line",
     "columns": ["date", "document.number", "client.name", "product.name", "quantity",
                 "unit_price", "net_amount", "responsible.name"]},
    {"model": "crm_contacts_contact",
     "columns": ["starts_at", "client.name", "contact_type.name", "state", "user.name"]},
]  # fmt: skip


def _orm_rows(app, login: str, spec: dict) -> list[list]:
    """The rows as the ORM gives them through the session, with the user's record rules."""
    from core.db import db_session
    from core.models import User
    from crm_reports import service

    with app.app_context():
        user = db_session.scalar(select(User).where(User.login == login))
        with service.as_user(app, user):
            return service.runner(spec, user, db_session).run_list(None).rows


def test_exported_rows_are_the_orms_rows_for_a_restricted_user(app):
    """Exports read the driver's rows past the ORM: a representative's CSV and XLSX hold exactly
    the rows, values and types the ORM gives her through the session (and not a row more)."""
    maria = logged_in(app, "maria", "demo")
    for spec in EXPORTED:
        expected = _orm_rows(app, "maria", spec)
        assert 0 < len(expected) < len(_orm_rows(app, "georgi", spec))
        body = maria.get("/reports/export", query_string={"spec": json.dumps(spec),
                                                           "format": "csv"})  # fmt: skip
        lines = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
        text_rows = lines[1:-1] if lines[-1][0] == "Total" else lines[1:]
        written = io.StringIO()
        csv.writer(written).writerows(expected)
        assert text_rows == list(csv.reader(io.StringIO(written.getvalue())))
        book = maria.get("/reports/export", query_string={"spec": json.dumps(spec),
                                                           "format": "xlsx"})  # fmt: skip
        sheet = load_workbook(io.BytesIO(book.data), read_only=True).active
        cells = list(sheet.iter_rows(values_only=True))[1:]
        cells = cells[:-1] if cells and cells[-1][0] == "Total" else cells
        assert [list(row) for row in cells] == [[_as_excel(v) for v in row] for row in expected]


def _as_excel(value):
    """A value as openpyxl reads it back: numbers as floats or ints, dates as midnight."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value
