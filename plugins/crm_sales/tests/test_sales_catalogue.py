"""The catalogue pages (products, the group tree), the document pages, search, and uninstalling."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.db import db_session
from core.testing import form_fields, logged_in, make_user
from crm_sales.models import Product, ProductGroup


def test_a_product_is_created_and_bad_input_names_the_field(shop):
    client = logged_in(shop, "bo")
    form = form_fields(client.get("/sales/products/new").text, action="/sales/products/new")
    answer = client.post("/sales/products/new", data={**form, "code": "BREAD", "name": "Bread",
                                                       "list_price": "1,2x"})  # fmt: skip
    assert answer.status_code == 400
    assert 'data-error="list_price"' in answer.text
    answer = client.post("/sales/products/new", data={**form, "code": "MILK", "name": "Milk 2",
                                                       "list_price": "1"})  # fmt: skip
    assert answer.status_code == 400 and "Another product has the code MILK." in answer.text
    answer = client.post(
        "/sales/products/new",
        data={**form, "code": "BREAD", "name": "Bread", "list_price": "1.25",
              "group_id": str(shop.ids.food)},
    )  # fmt: skip
    assert answer.status_code == 302
    with shop.app_context():
        bread = db_session.scalar(select(Product).where(Product.code == "BREAD"))
        assert (bread.list_price, bread.currency, bread.group_id, bread.active) == (
            Decimal("1.25"), "EUR", shop.ids.food, True
        )  # fmt: skip
    listed = client.get(f"/sales/products?group={shop.ids.food}")
    # Food and its subgroup Dairy: bread, milk and cheese; not the saw.
    assert "BREAD" in listed.text and "MILK" in listed.text and "SAW" not in listed.text


def test_a_stale_product_edit_is_refused(shop):
    client = logged_in(shop, "bo")
    with shop.app_context():
        milk_id = db_session.scalar(select(Product.id).where(Product.code == "MILK"))
    url = f"/sales/products/{milk_id}/edit"
    form = form_fields(client.get(url).text, action=url)
    assert client.post(url, data={**form, "list_price": "1.30"}).status_code == 302
    assert client.post(url, data={**form, "list_price": "1.40"}).status_code == 409


def test_the_group_tree_and_a_move_under_a_subgroup_is_refused(shop):
    client = logged_in(shop, "georgi")
    page = client.get("/sales/groups")
    assert page.status_code == 200 and "Dairy" in page.text
    url = f"/sales/groups/{shop.ids.food}/edit"
    form = form_fields(client.get(url).text, action=url)
    answer = client.post(url, data={**form, "parent_id": str(shop.ids.dairy)})
    assert answer.status_code == 400
    assert "cannot be moved under itself or its subgroups" in answer.text
    answer = client.post("/sales/groups/new", data={"code": "CHEESE", "name": "Cheese",
                                                     "parent_id": str(shop.ids.dairy)})  # fmt: skip
    assert answer.status_code == 302
    with shop.app_context():
        cheese = db_session.scalar(select(ProductGroup).where(ProductGroup.code == "CHEESE"))
        assert cheese.path == f"/{shop.ids.food}/{shop.ids.dairy}/{cheese.id}/"


def test_document_pages_and_search(shop):
    client = logged_in(shop, "bo")
    payload = {
        "number": "S-77",
        "client_id": shop.ids.acme,
        "date": "2026-03-01",
        "lines": [{"product_code": "MILK", "quantity": "2", "unit_price": "1.20"}],
    }
    document = client.post("/api/v1/sales/documents", json=payload).get_json()
    page = client.get(f"/sales/documents/{document['id']}")
    assert page.status_code == 200 and "2.40" in page.text and "No payment received" in page.text
    assert client.get(f"/sales/documents?client={shop.ids.acme}").status_code == 200
    assert "S-77" in client.get("/search?q=S-77").text
    assert "Milk" in client.get("/search?q=milk").text
    empty = client.get(f"/sales/clients/{shop.ids.bolt}/analysis")
    assert empty.status_code == 200 and "Nothing sold in" in empty.text


def test_the_module_uninstalls_cleanly(shop):
    from core.modules import uninstall

    payload = {"number": "U-1", "client_id": shop.ids.acme, "date": "2026-03-01",
               "lines": [{"product_code": "MILK", "quantity": "2", "unit_price": "1.20"}],
               "payments": [{"date": "2026-03-05", "amount": "2.40"}]}  # fmt: skip
    assert logged_in(shop, "bo").post("/api/v1/sales/documents", json=payload).status_code == 201
    state = shop.extensions["crm"]
    uninstall(state.engine, state.plugins, "crm_sales")
    make_user(shop, "root", groups=("admin",))
    assert logged_in(shop, "root").get("/sales/products").status_code == 404
