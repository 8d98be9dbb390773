"""crm_contacts: the client's create and edit forms, and its PATCH API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.db import db_session
from core.testing import TEST_PASSWORD, logged_in, make_user
from crm_contacts.models import Client


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "guest")  # in no group: may not even read clients
    return app


def _count(app) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(Client))


def _no_inline_code(page: str) -> None:
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_create_form_defaults_the_responsible_to_the_current_user(app):
    maria = logged_in(app, "maria")
    listing = maria.get("/contacts/clients").get_data(as_text=True)
    assert 'href="/contacts/clients/new"' in listing

    form = maria.get("/contacts/clients/new")
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert '<input type="hidden" name="csrf_token"' in page
    assert f'<option value="{app.maria}" selected>' in page
    assert 'name="version"' not in page
    _no_inline_code(page)

    created = maria.post("/contacts/clients/new", data={"name": "Bioprom", "city": "Plovdiv"})
    assert created.status_code == 302
    with app.app_context():
        client = db_session.scalars(select(Client)).one()
        assert (client.name, client.city, client.email, client.status) == (
            "Bioprom",
            "Plovdiv",
            "",
            "prospect",
        )
        assert client.responsible_id == app.maria and client.version == 1
    assert created.headers["Location"].endswith(f"/contacts/clients/{client.id}")


def test_invalid_input_is_a_400_naming_the_fields_and_writes_nothing(app):
    maria = logged_in(app, "maria")
    bad = {"name": " ", "email": "not-an-email", "status": "vip", "responsible_id": "99999"}
    response = maria.post("/contacts/clients/new", data=bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in ("Give a name", "Not a valid email address.", "Must be one of", "No such user."):
        assert message in page
    assert 'value="not-an-email"' in page  # what was typed is kept
    assert _count(app) == 0

    maria.post("/contacts/clients/new", data={"name": "Agrotech"})
    client_id = _client_id(app, "Agrotech")
    edit = maria.post(
        f"/contacts/clients/{client_id}/edit",
        data={"version": "1", "name": "", "email": "x", "status": "active"},
    )
    assert edit.status_code == 400 and "Give a name" in edit.get_data(as_text=True)
    assert 'name="version" value="1"' in edit.get_data(as_text=True)
    with app.app_context():
        client = db_session.get(Client, client_id)
        assert (client.name, client.status, client.version) == ("Agrotech", "prospect", 1)


def _client_id(app, name: str) -> int:
    with app.app_context():
        return db_session.scalar(select(Client.id).where(Client.name == name))


def test_detail_page_links_to_the_edit_form(app):
    maria = logged_in(app, "maria")
    maria.post("/contacts/clients/new", data={"name": "Nova Foods"})
    client_id = _client_id(app, "Nova Foods")
    detail = maria.get(f"/contacts/clients/{client_id}").get_data(as_text=True)
    assert f'href="/contacts/clients/{client_id}/edit"' in detail
    assert 'data-testid="history"' in detail
    _no_inline_code(detail)
    form = maria.get(f"/contacts/clients/{client_id}/edit").get_data(as_text=True)
    assert 'value="Nova Foods"' in form and '<input type="hidden" name="version" value="1">' in form
    assert '<input type="hidden" name="csrf_token"' in form
    _no_inline_code(form)


def test_permissions_and_record_rules_apply_to_the_forms(app):
    maria = logged_in(app, "maria")
    maria.post("/contacts/clients/new", data={"name": "Maria's"})
    client_id = _client_id(app, "Maria's")
    guest = logged_in(app, "guest")
    assert guest.get("/contacts/clients/new").status_code == 403
    assert guest.get(f"/contacts/clients/{client_id}/edit").status_code == 403
    url = f"/api/v1/contacts/clients/{client_id}"
    assert guest.patch(url, json={"version": 1, "name": "x"}).status_code == 403
    peter = logged_in(app, "peter")  # another representative's client is not there for him
    assert peter.get(f"/contacts/clients/{client_id}/edit").status_code == 404
    assert peter.post(f"/contacts/clients/{client_id}/edit", data={"version": "1"}).status_code == (
        404
    )
    assert peter.patch(url, json={"version": 1, "name": "x"}).status_code == 404
    assert app.test_client().get("/contacts/clients/new").status_code == 302  # to the login page


def test_forms_need_the_csrf_token(crm_app_factory):
    app = crm_app_factory(["crm_contacts"], config={"WTF_CSRF_ENABLED": True})
    make_user(app, "maria", groups=("sales_rep",))
    http = app.test_client()
    login_page = http.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    http.post("/login", data={"login": "maria", "password": TEST_PASSWORD, "csrf_token": token})
    assert http.post("/contacts/clients/new", data={"name": "No token"}).status_code == 400
    page = http.get("/contacts/clients/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = http.post("/contacts/clients/new", data={"name": "Token", "csrf_token": token})
    assert done.status_code == 302
    assert _count(app) == 1


def test_patch_is_documented(app):
    spec = logged_in(app, "maria").get("/api/v1/openapi.json").get_json()
    operations = spec["paths"]["/api/v1/contacts/clients/{client_id}"]
    assert {"get", "patch"} <= set(operations)
    assert "version" in operations["patch"]["summary"]
    assert "requestBody" in operations["patch"]
