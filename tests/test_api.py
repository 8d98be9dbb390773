"""The JSON API conventions: pagination, filters, errors naming fields, authentication, OpenAPI."""

from __future__ import annotations

import pytest

from core.testing import logged_in, make_user


@pytest.fixture
def client(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "maria", groups=("sales_rep",))
    return logged_in(app, "maria")


def _create(client, **fields):
    return client.post("/api/v1/clients", json=fields)


def test_create_then_read(client):
    created = _create(
        client,
        name="Bioprom",
        addresses=[{"city": "Plovdiv"}],
        emails=[{"address": "office@bioprom.example"}],
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "Bioprom" and body["status"] == "prospect"
    read = client.get(created.headers["Location"]).get_json()
    assert read["addresses"][0]["city"] == "Plovdiv"
    assert read["emails"][0]["address"] == "office@bioprom.example"


def test_bad_input_names_the_field_and_writes_nothing(client):
    response = _create(client, name="", emails=[{"address": "not-an-email"}], status="vip")
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"name", "emails", "status"}
    assert client.get("/api/v1/clients").get_json()["meta"]["total"] == 0
    not_json = client.post("/api/v1/clients", data="x", content_type="text/plain")
    assert not_json.status_code == 400 and "_schema" in not_json.get_json()["errors"]


def test_pagination_filters_and_sorting(client):
    for i in range(30):
        _create(client, name=f"Client {i:02d}", status="active" if i % 3 == 0 else "prospect")
    page = client.get("/api/v1/clients?per_page=7&page=2&sort=-name").get_json()
    assert page["meta"] == {"page": 2, "per_page": 7, "total": 30, "pages": 5}
    assert [c["name"] for c in page["items"]][:2] == ["Client 22", "Client 21"]
    active = client.get("/api/v1/clients?status=active").get_json()
    assert active["meta"]["total"] == 10
    too_many = client.get("/api/v1/clients?per_page=1000")
    assert too_many.status_code == 400 and "per_page" in too_many.get_json()["errors"]
    bad_sort = client.get("/api/v1/clients?sort=password")
    assert bad_sort.status_code == 400 and "sort" in bad_sort.get_json()["errors"]


def test_anonymous_gets_401_json(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    response = app.test_client().get("/api/v1/clients")
    assert response.status_code == 401
    assert response.get_json() == {"errors": {"_schema": ["Authentication required."]}}


def test_unknown_record_is_404_json(client):
    response = client.get("/api/v1/clients/999")
    assert response.status_code == 404
    assert "errors" in response.get_json()


def test_openapi_documents_installed_modules_only(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "root", groups=("admin",))
    client = logged_in(app, "root")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    operations = spec["paths"]["/api/v1/clients"]
    assert set(operations) == {"get", "post"}
    assert "Client" in spec["components"]["schemas"]
    assert "/api/v1/clients/{client_id}" in spec["paths"]
    client.post("/apps/crm_contacts/uninstall", data={"confirm": "crm_contacts"})
    spec = client.get("/api/v1/openapi.json").get_json()
    assert not any(path.startswith("/api/v1/clients") for path in spec["paths"])


def test_the_model_description_needs_a_permission(crm_app_factory):
    """/api/v1/models tells what every module stores: not for an account in no group."""
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "nobody")
    make_user(app, "vera", groups=("back_office",))
    assert logged_in(app, "nobody").get("/api/v1/models").status_code == 403
    assert logged_in(app, "vera").get("/api/v1/models").status_code == 200


def test_model_registry_is_exposed(client):
    models = {m["name"]: m for m in client.get("/api/v1/models").get_json()["items"]}
    client_model = models["crm_contacts_client"]
    assert client_model["owner"] == "crm_contacts" and client_model["label"] == "Client"
    name_field = next(f for f in client_model["fields"] if f["name"] == "name")
    assert name_field["label"] == "Name" and name_field["required"] is True


def test_filters_are_compared_as_the_column_type_and_bad_ones_name_the_field(crm_app_factory):
    # PostgreSQL refuses text compared with an integer column: filters are converted first.
    app = crm_app_factory(["crm_sales"])
    make_user(app, "georgi", groups=("sales_manager",))
    http = logged_in(app, "georgi")
    assert http.get("/api/v1/sales/documents?client_id=7").get_json()["meta"]["total"] == 0
    bad = http.get("/api/v1/sales/documents?client_id=seven")
    assert bad.status_code == 400
    assert bad.get_json()["errors"] == {"client_id": ["Must be a whole number."]}
