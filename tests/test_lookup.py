"""Pickers' lookup endpoint: GET /api/v1/lookup/<model>?q= finds records by name, code or VAT
number through the request's session, so that a picker offers only what the user may see."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db import db_session
from core.testing import logged_in, make_user


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts", "crm_sales", "crm_tasks"])
    maria = make_user(app, "maria", groups=("sales_rep",))
    peter = make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "georgi", groups=("sales_manager",))
    make_user(app, "nobody")
    with app.app_context():
        from crm_contacts.models import Client, Person
        from crm_sales.models import Product, ProductGroup

        paper = ProductGroup(code="PAP", name="Paper")
        db_session.add_all(
            [
                Client(
                    name="Bioprom Mine",
                    vat_number="BG111222333",
                    responsible_id=maria,
                    persons=[Person(name="Ivan Mine", position="Buyer")],
                ),
                Client(
                    name="Bioprom Hidden",
                    vat_number="BG999888777",
                    responsible_id=peter,
                    persons=[Person(name="Ivan Hidden")],
                ),
                Client(name="Kalina 100%_off", responsible_id=maria),
                paper,
                Product(code="PAP-A4", name="Copy paper A4", list_price=Decimal(10), group=paper),
                Product(code="INK-BK", name="Black cartridge", list_price=Decimal(25)),
                Product(code="OLD-1", name="Old paper", list_price=Decimal(1), active=False),
            ]
        )
        db_session.commit()
    return app


def _ids(app, model):
    with app.app_context():
        return dict(db_session.execute(select(model.name, model.id)).all())


def _labels(answer):
    assert answer.status_code == 200, answer.get_json()
    return [item["label"] for item in answer.get_json()["items"]]


def test_a_client_is_found_by_a_few_letters_of_its_name_or_vat_number(app):
    georgi = logged_in(app, "georgi")
    assert _labels(georgi.get("/api/v1/lookup/crm_contacts_client?q=biop")) == [
        "Bioprom Hidden",
        "Bioprom Mine",
    ]
    by_vat = georgi.get("/api/v1/lookup/crm_contacts_client?q=222333").get_json()
    assert by_vat["items"] == [
        {"id": by_vat["items"][0]["id"], "label": "Bioprom Mine", "detail": "BG111222333"}
    ]
    # every word must match, in any column and any case
    assert _labels(georgi.get("/api/v1/lookup/crm_contacts_client?q=MINE bg111")) == [
        "Bioprom Mine"
    ]
    # % and _ are letters to look for, not wildcards
    assert _labels(georgi.get("/api/v1/lookup/crm_contacts_client?q=100%25_")) == [
        "Kalina 100%_off"
    ]
    assert _labels(georgi.get("/api/v1/lookup/crm_contacts_client?q=x_y")) == []
    # nothing typed: the first ones by name
    assert len(_labels(georgi.get("/api/v1/lookup/crm_contacts_client"))) == 3


def test_a_representatives_pickers_offer_only_her_clients(app):
    maria = logged_in(app, "maria")
    assert _labels(maria.get("/api/v1/lookup/crm_contacts_client?q=bioprom")) == ["Bioprom Mine"]
    assert _labels(maria.get("/api/v1/lookup/crm_contacts_client?q=BG999")) == []
    # contact persons follow their client's rules (ModelDef owned_by)
    assert _labels(maria.get("/api/v1/lookup/crm_contacts_person?q=ivan")) == ["Ivan Mine"]
    assert _labels(logged_in(app, "georgi").get("/api/v1/lookup/crm_contacts_person?q=ivan")) == [
        "Ivan Hidden",
        "Ivan Mine",
    ]


def test_contact_persons_are_filtered_by_client(app):
    clients = _ids(app, __import__("crm_contacts.models", fromlist=["Client"]).Client)
    georgi = logged_in(app, "georgi")
    mine = clients["Bioprom Mine"]
    answer = georgi.get(f"/api/v1/lookup/crm_contacts_person?q=ivan&client_id={mine}")
    assert answer.get_json()["items"][0] | {"id": 0} == {
        "id": 0,
        "label": "Ivan Mine",
        "detail": "Buyer",
    }
    assert len(answer.get_json()["items"]) == 1
    wrong = georgi.get("/api/v1/lookup/crm_contacts_person?client_id=abc")
    assert wrong.status_code == 400
    assert wrong.get_json()["errors"] == {"client_id": ["Must be a whole number."]}
    unknown = georgi.get("/api/v1/lookup/crm_contacts_person?city=Sofia")
    assert unknown.status_code == 400 and "city" in unknown.get_json()["errors"]


def test_products_by_name_or_code_and_only_the_active_ones_when_asked(app):
    georgi = logged_in(app, "georgi")
    assert _labels(georgi.get("/api/v1/lookup/crm_sales_product?q=pap")) == [
        "Copy paper A4",
        "Old paper",
    ]
    assert _labels(georgi.get("/api/v1/lookup/crm_sales_product?q=pap&active=true")) == [
        "Copy paper A4"
    ]
    assert _labels(georgi.get("/api/v1/lookup/crm_sales_product?q=ink-b")) == ["Black cartridge"]
    assert _labels(georgi.get("/api/v1/lookup/crm_sales_product_group?q=pap")) == ["Paper"]


def test_paginated_and_limited(app):
    georgi = logged_in(app, "georgi")
    first = georgi.get("/api/v1/lookup/crm_contacts_client?limit=2").get_json()
    assert [i["label"] for i in first["items"]] == ["Bioprom Hidden", "Bioprom Mine"]
    assert first["more"] is True
    second = georgi.get("/api/v1/lookup/crm_contacts_client?limit=2&page=2").get_json()
    assert [i["label"] for i in second["items"]] == ["Kalina 100%_off"]
    assert second["more"] is False
    too_many = georgi.get("/api/v1/lookup/crm_contacts_client?limit=500")
    assert too_many.status_code == 400 and "limit" in too_many.get_json()["errors"]


def test_assignee_pickers_offer_the_users_holding_a_permission(app):
    maria = logged_in(app, "maria")
    everyone = _labels(maria.get("/api/v1/lookup/core_user"))
    assert {"Maria", "Peter", "Georgi", "Nobody"} <= set(everyone)
    holders = _labels(maria.get("/api/v1/lookup/core_user?permission=crm_tasks.write"))
    assert "Nobody" not in holders and {"Maria", "Peter", "Georgi"} <= set(holders)
    managers = _labels(maria.get("/api/v1/lookup/core_user?permission=crm_tasks.manage&q=geo"))
    assert managers == ["Georgi"]


def test_who_may_look_up_what(app):
    nobody = logged_in(app, "nobody")
    assert nobody.get("/api/v1/lookup/crm_contacts_client?q=b").status_code == 403
    assert app.test_client().get("/api/v1/lookup/crm_contacts_client").status_code == 401
    georgi = logged_in(app, "georgi")
    # a model without a declared lookup, or not registered, has no picker
    assert georgi.get("/api/v1/lookup/crm_contacts_contact").status_code == 404
    assert georgi.get("/api/v1/lookup/crm_pricing_rule").status_code == 404
    assert georgi.get("/api/v1/lookup/nothing").status_code == 404


def test_the_lookup_is_in_the_openapi_document(app):
    spec = logged_in(app, "georgi").get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/lookup/{model_name}"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"model_name", "q", "page", "limit"}


def test_a_lookup_costs_one_statement_whatever_the_number_of_clients(app, count_queries):
    georgi = logged_in(app, "georgi")
    url = "/api/v1/lookup/crm_contacts_client?q=a"
    georgi.get(url)
    with count_queries(app) as few:
        georgi.get(url)
    with app.app_context():
        from crm_contacts.models import Client

        db_session.add_all(Client(name=f"Alpha {i}") for i in range(60))
        db_session.commit()
    with count_queries(app) as many:
        answer = georgi.get(url).get_json()
    assert len(answer["items"]) == 20 and answer["more"] is True
    assert len(many) == len(few)
