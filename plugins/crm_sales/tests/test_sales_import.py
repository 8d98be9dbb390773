"""Importing sales documents from the ERP: CSV (``crm sales import``, the import page) and the JSON
API, idempotent by document number, all or nothing, errors by row."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core.db import db_session
from core.jobs import run_queued
from core.testing import logged_in
from crm_sales.models import Payment, SalesDocument, SalesLine
from crm_sales.turnover import average_days_to_payment, turnover
from tests.helpers import run_cli

HEADER = (
    "number,kind,date,due_date,client_vat,client_id,product_code,quantity,unit_price,"
    "discount_percent,amount,payment_date,payment_amount\n"
)
FILE = HEADER + (
    "F-1,invoice,2026-01-10,2026-02-09,BG111111111,,MILK,10,1.20,,,,\n"
    "F-1,invoice,2026-01-10,2026-02-09,BG111111111,,CHEESE,2,8.00,10,,,\n"
    "F-1,invoice,2026-01-10,2026-02-09,BG111111111,,,,,,,2026-02-01,26.40\n"
    "F-2,invoice,2026-02-05,,BG222222222,,SAW,3,20,,60.00,,\n"
    'K-1,credit_note,2026-02-20,,BG111111111,,CHEESE,1,"8,00",,,,\n'
)
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def _import(app, tmp_path, content: str, *extra: str):
    path = tmp_path / "documents.csv"
    path.write_text(content, encoding="utf-8")
    return run_cli(app, "sales", "import", str(path), *extra)


def _state(app) -> list[tuple]:
    with app.app_context():
        return db_session.execute(
            select(SalesLine.id, SalesLine.document_id, SalesLine.product_id, SalesLine.quantity,
                   SalesLine.amount, SalesLine.signed_cents, SalesDocument.updated_at)
            .join(SalesDocument).order_by(SalesLine.id)
        ).all()  # fmt: skip


def test_a_csv_imports_and_importing_it_again_changes_nothing(shop, tmp_path):
    result = _import(shop, tmp_path, FILE)
    assert result.exit_code == 0, result.output
    assert "Imported: 3 created, 0 replaced, 0 unchanged." in result.output
    with shop.app_context():
        acme, bolt = [shop.ids.acme], [shop.ids.bolt]
        # 10 x 1.20 + 2 x 8.00 less 10 % - 1 x 8.00 = 12.00 + 14.40 - 8.00
        assert turnover(db_session, acme, *YEAR) == Decimal("18.40")
        assert turnover(db_session, acme, *YEAR, [shop.ids.food]) == Decimal("18.40")
        assert turnover(db_session, bolt, *YEAR) == Decimal("60.00")
        # 26.40 paid 22 days after the invoice
        assert average_days_to_payment(db_session, shop.ids.acme) == Decimal("22.0")
        invoice = db_session.scalar(select(SalesDocument).where(SalesDocument.number == "F-1"))
        assert (invoice.total, invoice.paid, invoice.due_date) == (
            Decimal("26.40"),
            Decimal("26.40"),
            date(2026, 2, 9),
        )
    before = _state(shop)

    again = _import(shop, tmp_path, FILE)
    assert again.exit_code == 0, again.output
    assert "Imported: 0 created, 0 replaced, 3 unchanged." in again.output
    assert _state(shop) == before


def test_a_corrected_document_replaces_its_earlier_version(shop, tmp_path):
    assert _import(shop, tmp_path, FILE).exit_code == 0
    corrected = FILE.replace("F-1,invoice,2026-01-10,2026-02-09,BG111111111,,MILK,10,",
                             "F-1,invoice,2026-01-10,2026-02-09,BG111111111,,MILK,20,")  # fmt: skip
    result = _import(shop, tmp_path, corrected)
    assert result.exit_code == 0, result.output
    assert "Imported: 0 created, 1 replaced, 2 unchanged." in result.output
    with shop.app_context():
        assert db_session.scalar(select(func.count()).select_from(SalesDocument)) == 3
        assert db_session.scalar(select(func.count()).select_from(SalesLine)) == 4
        assert db_session.scalar(select(func.count()).select_from(Payment)) == 1
        assert turnover(db_session, [shop.ids.acme], *YEAR) == Decimal("30.40")  # +12.00


def test_unknown_products_and_malformed_amounts_are_reported_by_row_and_nothing_is_written(
    shop, tmp_path
):
    bad = FILE + (
        "F-3,invoice,2026-03-01,,BG111111111,,NOPE,1,1,,,,\n"
        "F-4,invoice,2026-03-02,,BG111111111,,MILK,1,1,,12.3x,,\n"
        "F-5,invoice,2026-13-02,,BG999999999,,MILK,-1,1,,,,\n"
    )
    result = _import(shop, tmp_path, bad)
    assert result.exit_code == 1
    output = result.output
    assert "row 7, product_code: Unknown product 'NOPE'." in output
    assert "row 8, amount: Not a valid number." in output
    assert "row 9, date: Not a valid date." in output
    assert "row 9, quantity: Must be greater than 0." in output
    assert "Nothing was imported" in output
    with shop.app_context():
        assert db_session.scalar(select(func.count()).select_from(SalesDocument)) == 0


def test_rows_of_one_document_must_agree_and_clients_must_exist(shop, tmp_path):
    bad = HEADER + (
        "G-1,invoice,2026-01-10,,BG111111111,,MILK,1,1,,,,\n"
        "G-1,invoice,2026-01-11,,BG111111111,,MILK,1,1,,,,\n"
        "G-2,invoice,2026-01-10,,BG000000000,,MILK,1,1,,,,\n"
        "G-3,invoice,2026-01-10,,,,MILK,1,1,,,,\n"
    )
    result = _import(shop, tmp_path, bad)
    assert result.exit_code == 1
    assert "row 3, date: Differs from row 2 of document G-1" in result.output
    assert "row 4, client_vat: No client has the VAT number 'BG000000000'." in result.output
    assert "row 5, client_id: Give the client's id (client_id) or VAT number" in result.output


def test_a_missing_column_is_reported(shop, tmp_path):
    result = _import(shop, tmp_path, "number,client_id\nX,1\n")
    assert result.exit_code == 1
    assert "row 1: Missing columns: date." in result.output


def _check_page(client, content: str):
    """Upload → the check job, run by the worker's code → the check page its job page opens."""
    sent = client.post("/sales/import", data={"file": (io.BytesIO(content.encode()), "f.csv")})
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/jobs/")
    run_queued(client.application)
    job = client.get("/api/v1" + sent.headers["Location"]).get_json()
    assert job["status"] == "done" and job["follow"]
    return client.get(job["link"])


def test_the_import_page_checks_then_imports_in_background_jobs(shop):
    client = logged_in(shop, "bo")
    assert client.get("/sales/import").status_code == 200
    bad = FILE + "F-3,invoice,2026-03-01,,BG111111111,,NOPE,1,1,,,,\n"
    page = _check_page(client, bad)
    assert "row 7, product_code: Unknown product" in page.text
    assert 'name="check"' not in page.text
    page = _check_page(client, FILE)
    assert "f.csv is correct" in page.text and "3 documents" in page.text
    check = re.search(r'name="check" value="(\d+)"', page.text).group(1)
    sent = client.post("/sales/import", data={"action": "confirm", "check": check})
    again = client.post("/sales/import", data={"action": "confirm", "check": check})
    assert sent.headers["Location"] == again.headers["Location"]  # a double click: one import
    run_queued(shop)
    job = client.get("/api/v1" + sent.headers["Location"]).get_json()
    assert job["status"] == "done" and "3 documents created" in job["summary"]
    assert "see the import" in client.get(f"/sales/import/check/{check}").text
    assert logged_in(shop, "maria").get("/sales/import").status_code == 403


def _payload(shop, number="A-1", quantity="10", product="MILK"):
    return {
        "number": number,
        "client_id": shop.ids.acme,
        "date": "2026-03-01",
        "due_date": "2026-03-31",
        "lines": [{"product_code": product, "quantity": quantity, "unit_price": "1.50"}],
        "payments": [{"date": "2026-03-11", "amount": "15.00"}],
    }


def test_the_api_takes_a_document_idempotently_by_number(shop):
    client = logged_in(shop, "bo")
    answer = client.post("/api/v1/sales/documents", json=_payload(shop))
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["total"] == "15.00"
    assert answer.headers["Location"].endswith(f"/api/v1/sales/documents/{body['id']}")
    again = client.post("/api/v1/sales/documents", json=_payload(shop))
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "unchanged"
    changed = client.post("/api/v1/sales/documents", json=_payload(shop, quantity="20"))
    assert changed.get_json()["outcome"] == "replaced"
    assert changed.get_json()["id"] == body["id"]
    assert changed.get_json()["total"] == "30.00"
    listed = client.get(f"/api/v1/sales/documents?client_id={shop.ids.acme}").get_json()
    assert listed["meta"]["total"] == 1


def test_an_api_batch_is_all_or_nothing_with_errors_by_document_and_line(shop):
    client = logged_in(shop, "bo")
    batch = {"documents": [_payload(shop, "B-1"), _payload(shop, "B-2", product="NOPE")]}
    answer = client.post("/api/v1/sales/documents", json=batch)
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {
        "documents": {"1": {"lines": {"0": {"product_code": ["Unknown product 'NOPE'."]}}}}
    }
    malformed = {"documents": [{**_payload(shop, "B-3"), "lines": [{"product_code": "MILK",
                 "quantity": "x", "unit_price": "1"}]}]}  # fmt: skip
    answer = client.post("/api/v1/sales/documents", json=malformed)
    assert answer.status_code == 400
    assert answer.get_json()["errors"]["documents"]["0"]["lines"]["0"]["quantity"]
    with shop.app_context():
        assert db_session.scalar(select(func.count()).select_from(SalesDocument)) == 0
    batch = {"documents": [_payload(shop, "B-1"), _payload(shop, "B-2")]}
    assert client.post("/api/v1/sales/documents", json=batch).get_json() == {
        "created": 2, "replaced": 0, "unchanged": 0
    }  # fmt: skip
    assert logged_in(shop, "maria").post("/api/v1/sales/documents", json=batch).status_code == 403


def test_a_representative_sees_only_the_documents_of_their_clients(shop, tmp_path):
    assert _import(shop, tmp_path, FILE).exit_code == 0
    maria = logged_in(shop, "maria")
    numbers = {d["number"] for d in maria.get("/api/v1/sales/documents").get_json()["items"]}
    assert numbers == {"F-1", "K-1"}
    page = maria.get("/sales/documents")
    assert "F-1" in page.text and "F-2" not in page.text
    georgi = logged_in(shop, "georgi")
    assert georgi.get("/api/v1/sales/documents").get_json()["meta"]["total"] == 3
