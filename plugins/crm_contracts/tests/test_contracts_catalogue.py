"""With crm_sales installed (optional: crm_contracts does not import it), conditions choose
products and groups from its catalogue, reached through the model registry, and codes the
catalogue does not know are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.db import db_session
from core.state import current_state
from core.testing import form_fields, logged_in, make_user
from crm_contacts.models import Client


@pytest.fixture
def sales_app(crm_app_factory, clock, crm_plugins):
    if "crm_sales" not in crm_plugins or crm_plugins["crm_sales"].broken:
        pytest.skip("crm_sales is not available in this environment")
    app = crm_app_factory(["crm_contracts", "crm_sales"])
    make_user(app, "georgi", groups=("sales_manager",))
    with app.test_request_context():
        models = current_state().models
        group_model = models.get("crm_sales_product_group").model
        product_model = models.get("crm_sales_product").model
        dairy = group_model(code="DAIRY", name="Dairy products")
        db_session.add(dairy)
        db_session.flush()
        db_session.add(
            product_model(code="MLK-1L", name="Fresh milk 1 l", group_id=dairy.id,
                          list_price=Decimal("1.50"))
        )  # fmt: skip
        client = Client(name="Bioprom")
        db_session.add(client)
        db_session.commit()
        app.client_id = client.id
    return app


def test_conditions_are_chosen_from_the_catalogue(sales_app):
    georgi = logged_in(sales_app, "georgi")
    contract = georgi.post(
        "/api/v1/contracts",
        json={"client_id": sales_app.client_id, "title": "Supply", "signed_on": "2026-12-01",
              "valid_from": "2026-12-01"},
    ).get_json()  # fmt: skip
    url = f"/contracts/{contract['id']}/conditions/new"
    page = georgi.get(url).text
    assert '<option value="DAIRY">Dairy products</option>' in page
    assert '<datalist id="product-codes"><option value="MLK-1L">' in page
    form = form_fields(page, action=url)
    answer = georgi.post(url, data={**form, "kind": "discount", "group_code": "DAIRY",
                                    "discount_percent": "5"})  # fmt: skip
    assert answer.status_code == 302
    api = f"/api/v1/contracts/{contract['id']}/conditions"
    unknown = georgi.post(api, json={"kind": "price", "product_code": "NOPE", "price": "1"})
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"] == {
        "product_code": ["No product with this code in the catalogue."]
    }
    known = georgi.post(api, json={"kind": "price", "product_code": "MLK-1L", "price": "1.2"})
    assert known.status_code == 201 and known.get_json()["product_name"] == "Fresh milk 1 l"
    items = georgi.get(api).get_json()["items"]
    assert {(c["kind"], c["group_name"] or c["product_name"]) for c in items} == {
        ("discount", "Dairy products"),
        ("price", "Fresh milk 1 l"),
    }
