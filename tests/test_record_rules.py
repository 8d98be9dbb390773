"""Record rules hide rows everywhere: lists, detail pages, the JSON API and search."""

from __future__ import annotations

import pytest

from core.db import db_session
from core.testing import logged_in, make_user


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    maria = make_user(app, "maria", groups=("sales_rep",))
    peter = make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "georgi", groups=("sales_manager",))
    make_user(app, "both", groups=("sales_rep", "sales_manager"))
    make_user(app, "root", groups=("admin",))
    with app.app_context():
        from crm_contacts.models import Address, Client

        db_session.add_all(
            [
                Client(
                    name="Bioprom Mine", addresses=[Address(city="Sofia")], responsible_id=maria
                ),
                Client(
                    name="Bioprom Hidden", addresses=[Address(city="Sofia")], responsible_id=peter
                ),
            ]
        )
        db_session.commit()
    return app


def _ids(app):
    with app.app_context():
        from sqlalchemy import select

        from crm_contacts.models import Client

        return dict(db_session.execute(select(Client.name, Client.id)).all())


def test_representative_sees_only_own_clients_everywhere(app):
    hidden = _ids(app)["Bioprom Hidden"]
    maria = logged_in(app, "maria")
    page = maria.get("/contacts/clients").get_data(as_text=True)
    assert "Bioprom Mine" in page and "Bioprom Hidden" not in page
    assert maria.get(f"/contacts/clients/{hidden}").status_code == 404
    api = maria.get("/api/v1/clients").get_json()
    assert [c["name"] for c in api["items"]] == ["Bioprom Mine"] and api["meta"]["total"] == 1
    assert maria.get(f"/api/v1/clients/{hidden}").status_code == 404
    search = maria.get("/search?q=bioprom").get_data(as_text=True)
    assert "Bioprom Mine" in search and "Bioprom Hidden" not in search
    by_city = maria.get("/contacts/clients?q=sofia").get_data(as_text=True)
    assert "Bioprom Mine" in by_city and "Bioprom Hidden" not in by_city


@pytest.mark.parametrize("login", ["georgi", "both", "root"])
def test_managers_and_administrators_see_all(app, login):
    api = logged_in(app, login).get("/api/v1/clients").get_json()
    assert api["meta"]["total"] == 2


def test_rule_can_be_switched_off_per_installation(app):
    maria = logged_in(app, "maria")
    assert maria.get("/api/v1/clients").get_json()["meta"]["total"] == 1
    root = logged_in(app, "root")
    page = root.get("/settings/record-rules").get_data(as_text=True)
    assert 'data-rule="crm_contacts.own_clients"' in page
    root.post("/settings/record-rules/crm_contacts.own_clients", data={"enabled": "0"})
    assert maria.get("/api/v1/clients").get_json()["meta"]["total"] == 2
    assert (
        maria.post(
            "/settings/record-rules/crm_contacts.own_clients", data={"enabled": "1"}
        ).status_code
        == 403
    )
