"""A contract whose validity ends before it starts, or whose condition lies outside the contract's
validity, is refused with a message naming the field, in the forms and in the API, and nothing is
written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.db import db_session
from core.testing import form_fields, logged_in
from crm_contracts.models import Condition, Contract

TODAY = date(2026, 12, 1)


def _count(app, model) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(model))


def _contract(georgi, client_id: int, **fields) -> dict:
    body = {
        "client_id": client_id,
        "title": "Supply 2027",
        "signed_on": "2026-12-01",
        "valid_from": "2027-01-01",
        "valid_to": "2027-12-31",
        **fields,
    }
    answer = georgi.post("/api/v1/contracts", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_form_refuses_a_validity_that_ends_before_it_starts(app):
    georgi = logged_in(app, "georgi")
    url = f"/contracts/new/{app.ids.bioprom}"
    form = form_fields(georgi.get(url).text, action=url)
    answer = georgi.post(
        url,
        data={**form, "title": "Backwards", "valid_from": "2027-01-01", "valid_to": "2026-06-30"},
    )
    assert answer.status_code == 400
    assert 'data-error="valid_to"' in answer.text
    assert "Must not be before the start of validity" in answer.text
    assert 'value="Backwards"' in answer.text  # what was typed is kept
    assert _count(app, Contract) == 0


def test_the_api_refuses_a_validity_that_ends_before_it_starts(app):
    georgi = logged_in(app, "georgi")
    answer = georgi.post(
        "/api/v1/contracts",
        json={"client_id": app.ids.bioprom, "title": "Backwards", "valid_from": "2027-01-01",
              "valid_to": "2026-06-30"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert list(answer.get_json()["errors"]) == ["valid_to"]
    assert _count(app, Contract) == 0


def test_changing_the_validity_is_refused_when_it_would_end_before_it_starts(app):
    georgi = logged_in(app, "georgi")
    contract = _contract(georgi, app.ids.bioprom)
    answer = georgi.patch(
        f"/api/v1/contracts/{contract['id']}",
        json={"valid_to": "2026-12-31", "version": contract["version"]},
    )
    assert answer.status_code == 400
    assert "valid_to" in answer.get_json()["errors"]


def test_the_form_refuses_a_condition_outside_the_contracts_validity(app):
    georgi = logged_in(app, "georgi")
    contract = _contract(georgi, app.ids.bioprom)
    url = f"/contracts/{contract['id']}/conditions/new"
    form = form_fields(georgi.get(url).text, action=url)
    answer = georgi.post(
        url,
        data={**form, "kind": "discount", "group_code": "DAIRY", "discount_percent": "5",
              "valid_from": "2026-12-15", "valid_to": "2028-03-31"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert 'data-error="valid_from"' in answer.text
    assert 'data-error="valid_to"' in answer.text
    assert "within the contract&#39;s validity (2027-01-01 – 2027-12-31)" in answer.text
    assert _count(app, Condition) == 0


def test_the_api_refuses_a_condition_outside_the_contracts_validity(app):
    georgi = logged_in(app, "georgi")
    contract = _contract(georgi, app.ids.bioprom)
    url = f"/api/v1/contracts/{contract['id']}/conditions"
    answer = georgi.post(
        url,
        json={"kind": "price", "product_code": "MLK-1L", "price": "1.20",
              "valid_from": "2027-02-01", "valid_to": "2028-01-15"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert list(answer.get_json()["errors"]) == ["valid_to"]
    inside = georgi.post(
        url,
        json={"kind": "price", "product_code": "MLK-1L", "price": "1.2",
              "valid_from": "2027-02-01", "valid_to": "2027-06-30"},
    )  # fmt: skip
    assert inside.status_code == 201, inside.get_json()
    assert inside.get_json()["price"] == "1.2000"


def test_a_condition_must_say_what_it_is_about(app):
    georgi = logged_in(app, "georgi")
    contract = _contract(georgi, app.ids.bioprom)
    url = f"/api/v1/contracts/{contract['id']}/conditions"
    answer = georgi.post(url, json={"kind": "discount"})
    assert answer.get_json()["errors"] == {
        "group_code": ["Required for a group discount."],
        "discount_percent": ["Required for a group discount."],
    }
    answer = georgi.post(url, json={"kind": "discount", "group_code": "X", "discount_percent": 120})
    assert "discount_percent" in answer.get_json()["errors"]
    answer = georgi.post(url, json={"kind": "gift"})
    assert "kind" in answer.get_json()["errors"]


def test_shortening_a_contract_is_refused_while_a_condition_runs_past_the_new_end(app):
    georgi = logged_in(app, "georgi")
    contract = _contract(georgi, app.ids.bioprom)
    georgi.post(
        f"/api/v1/contracts/{contract['id']}/conditions",
        json={"kind": "discount", "group_code": "DAIRY", "discount_percent": "3",
              "valid_to": "2027-10-31"},
    )  # fmt: skip
    current = georgi.get(f"/api/v1/contracts/{contract['id']}").get_json()
    answer = georgi.patch(
        f"/api/v1/contracts/{contract['id']}",
        json={"valid_to": "2027-06-30", "version": current["version"]},
    )
    assert answer.status_code == 400
    assert "DAIRY" in answer.get_json()["errors"]["valid_to"][0]


def test_bad_numbers_and_dates_name_their_field(app):
    georgi = logged_in(app, "georgi")
    answer = georgi.post(
        "/api/v1/contracts",
        json={"client_id": app.ids.bioprom, "title": "", "valid_from": "1.1.2027",
              "value": "-5", "currency": "euro", "type_id": 999},
    )  # fmt: skip
    errors = answer.get_json()["errors"]
    assert set(errors) == {"title", "valid_from", "value", "currency"}
    answer = georgi.post(
        "/api/v1/contracts",
        json={"client_id": app.ids.bioprom, "title": "T", "valid_from": "2027-01-01",
              "type_id": 999, "responsible_id": 999},
    )  # fmt: skip
    assert set(answer.get_json()["errors"]) == {"type_id", "responsible_id"}
    assert _count(app, Contract) == 0
